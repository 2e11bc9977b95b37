"""Treaty participation and the ICC's jurisdiction facts: loaded from the bundled catalogue,
corrected by the legal team (pages, API, `ihl treaties import`), kept over catalogue upgrades."""

import json
from datetime import date

import pytest
from sqlmodel import func, select

from ihl_docs.core.models import AuditEntry, IccBasis, InstrumentParty
from ihl_docs.provisions import catalogue, treaties
from tests.api_support import error_of
from tests.builders import load_catalogue, login, make_user
from tests.pages_support import FormPage, text_of

BUNDLED = catalogue.BUNDLED


def file_rows() -> list[dict]:
    return [json.loads(line) for line in
            (BUNDLED / "states_parties.jsonl").read_text("utf-8").splitlines() if line.strip()]


def count(db, model=AuditEntry) -> int:
    n = db.exec(select(func.count()).select_from(model)).one()
    db.commit()
    return n


def row(db, instrument: str, state: str) -> InstrumentParty | None:
    db.expire_all()
    found = treaties.participation(db, instrument, state)
    db.commit()
    return found


@pytest.fixture
def loaded(db):
    load_catalogue(db)


@pytest.fixture
def lawyer(db):
    return make_user(db, "legal", email="counsel@example.org")


def team_fields(**changes) -> treaties.ParticipationFields:
    values = {"status": "party", "deposit": "2024-10-25", "action": "ratification",
              "in_force_for_state": "2025-01-01", "source": "https://example.org/depositary",
              "confidence": "high", "notes": "Checked against the depositary."}
    return treaties.ParticipationFields.model_validate({**values, **changes})


# --- loading ---------------------------------------------------------------------------------

def test_every_row_of_the_file_is_loaded_under_the_catalogues_instrument(db, loaded):
    rows = file_rows()
    assert len(rows) == 1131
    for line in rows:
        short = treaties.FILE_NAMES.get(line["instrument_short"], line["instrument_short"])
        stored = treaties.participation(db, short, line["state"])
        assert stored is not None, (short, line["state"])
        assert (stored.status, stored.confidence, stored.source, stored.detail) == \
            (line["status"], line["confidence"], line["source"] or "", line["notes"] or "")
        assert stored.deposit == line["deposit"]
        assert stored.origin == "catalogue"
    db.commit()
    ottawa = row(db, "APMBC (Ottawa)", "UKR")
    assert ottawa.status == "party"
    assert ottawa.since == (ottawa.in_force_for_state.isoformat() if ottawa.in_force_for_state
                            else ottawa.deposit[:4])


def test_common_article_3_is_derived_from_the_geneva_conventions(db, loaded):
    states = {r["state"] for r in file_rows() if r["instrument_short"] in treaties.GENEVA}
    derived = db.exec(select(func.count()).select_from(InstrumentParty).where(
        InstrumentParty.instrument_id == treaties.instrument_named(db, treaties.COMMON_ART_3).id)
    ).one()
    db.commit()
    assert derived == len(states) + len({"ARM", "AZE"} - states)
    ukraine, gc4 = row(db, treaties.COMMON_ART_3, "UKR"), row(db, "GC IV", "UKR")
    assert ukraine.status == "party"
    assert ukraine.in_force_for_state == gc4.in_force_for_state
    assert ukraine.detail.startswith("Derived from the GC")
    assert "any of the four Geneva Conventions" in ukraine.detail


def test_a_missing_pair_stays_missing_and_no_not_party_row_is_invented(db, loaded):
    assert row(db, "AP II", "TCD") is None  # the file leaves Chad out on purpose: unknown
    assert row(db, "Hague 1954 P2", "UKR") is None
    not_party = db.exec(select(func.count()).select_from(InstrumentParty).where(
        InstrumentParty.status == "not_party")).one()
    db.commit()
    from_file = sum(r["status"] == "not_party" for r in file_rows())
    pairs = {(treaties.FILE_NAMES.get(r["instrument_short"], r["instrument_short"]), r["state"])
             for r in file_rows()}
    edition = json.loads((BUNDLED / "instruments.json").read_text("utf-8"))
    from_edition = sum(1 for i in edition for p in i.get("parties") or []
                       if p["status"] == "not party" and (i["instrument_short"], p["state"])
                       not in pairs)
    assert not_party == from_file + from_edition


def test_instruments_json_fills_only_pairs_the_file_lacks(db, loaded):
    hague = row(db, "Hague 1954 P2", "ARM")  # not in states_parties.jsonl; "unverified" there
    assert hague.status == "unknown"
    assert "unverified" in hague.detail
    assert hague.source == "instruments.json (bundled catalogue)"
    rome = row(db, "Rome Statute", "ARM")  # in the file: the file's row wins
    assert rome.source != "instruments.json (bundled catalogue)"


def test_low_confidence_rows_keep_their_source(db, loaded):
    line = next(r for r in file_rows() if r["confidence"] == "low" and r["source"])
    stored = row(db, treaties.FILE_NAMES.get(line["instrument_short"], line["instrument_short"]),
                 line["state"])
    assert stored.confidence == "low"
    assert stored.source == line["source"]


def test_icc_facts_are_loaded_with_their_periods(db, loaded):
    facts = {f.key: f for f in db.exec(select(IccBasis))}
    db.commit()
    civ = facts["declaration:CIV:2003-04-18"]
    assert (civ.period_from, civ.period_to, civ.in_effect) == \
        (date(2002, 9, 19), date(2013, 4, 30), True)
    assert facts["declaration:PSE:2009-01-22"].in_effect is False  # without legal effect
    assert facts["declaration:LBY:2025-05-12"].period_to == date(2027, 12, 31)
    darfur = facts["referral:SDN:2005-03-31"]
    assert (darfur.period_from, darfur.period_to, darfur.reference) == \
        (date(2002, 7, 1), None, "S/RES/1593 (2005)")
    burundi = facts["withdrawal:BDI:2016-10-27"]
    assert (burundi.period_from, burundi.in_effect) == (date(2017, 10, 27), True)
    assert facts["withdrawal:ZAF:2016-10-19"].in_effect is False  # revoked
    assert facts["withdrawal:BFA:2025-09-22"].in_effect is False  # announced only
    assert [f.key for f in treaties.icc_facts(db, "UKR")] == [
        "declaration:UKR:2014-04-17", "declaration:UKR:2015-09-08"]
    assert treaties.withdrawal_disagreements(db) == []


def test_a_second_load_writes_nothing(db, loaded):
    before = count(db)
    report = catalogue.load_bundled(db, actor="test")
    db.commit()
    assert report.treaties.added == report.treaties.changed == 0
    assert count(db) == before


def test_participation_is_audited_row_by_row(db, loaded):
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "instrument_party",
                                             AuditEntry.entity_id == "Rome Statute:UKR")).one()
    db.commit()
    after = json.loads(entry.change)["after"]
    assert after["status"] == "party"
    assert after["in_force_for_state"] == "2025-01-01"
    assert after["origin"] == "catalogue"


# --- the team's corrections survive catalogue upgrades ---------------------------------------

def test_a_team_correction_survives_init_and_import_until_taken(runner, db, loaded, lawyer):
    treaties.enter_participation(db, "Rome Statute", "UKR",
                                 team_fields(source="https://treaties.un.org/x"),
                                 actor=lawyer.email, expected_version=1)
    db.commit()
    corrected = row(db, "Rome Statute", "UKR")
    assert (corrected.origin, corrected.entered_by, corrected.version) == \
        ("team", "counsel@example.org", 2)
    catalogue_source = next(r["source"] for r in file_rows()
                            if r["instrument_short"] == "Rome Statute" and r["state"] == "UKR")

    for args in (["init"], ["provisions", "import", "--bundled"]):
        before = count(db)
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert "Kept 1 team correction(s) where the catalogue differs" in result.output
        assert f"source: https://treaties.un.org/x → {catalogue_source}" in result.output
        assert row(db, "Rome Statute", "UKR").source == "https://treaties.un.org/x"
        assert count(db) == before

    taken = runner.invoke(args=["provisions", "import", "--bundled",
                                "--take-catalogue", "UKR:Rome Statute"])
    assert taken.exit_code == 0, taken.output
    assert "Took the catalogue's row for Rome Statute:UKR." in taken.output
    restored = row(db, "Rome Statute", "UKR")
    assert (restored.origin, restored.source, restored.version) == \
        ("catalogue", catalogue_source, 3)
    assert "intact" in runner.invoke(args=["verify"]).output


def test_treaties_import_enters_team_rows_by_whom_it_names(runner, db, loaded, tmp_path):
    path = tmp_path / "team.jsonl"
    path.write_text(json.dumps({
        "instrument_short": "Hague 1954 P2", "state": "UKR", "status": "party",
        "deposit": "1999-12-15", "action": "ratification", "in_force_for_state": "2000-06-15",
        "withdrawal_effective": None, "source": "https://treaties.un.org/y",
        "confidence": "high", "notes": "seen"}) + "\n", "utf-8")
    result = runner.invoke(args=["treaties", "import", str(path), "--by", "counsel@example.org"])
    assert result.exit_code == 0, result.output
    assert "Entered 1 team row(s) by counsel@example.org" in result.output
    entered = row(db, "Hague 1954 P2", "UKR")
    assert (entered.origin, entered.entered_by, entered.confidence) == \
        ("team", "counsel@example.org", "high")


def test_treaties_import_refuses_the_whole_file_for_one_bad_row(runner, db, loaded, tmp_path):
    good = {"instrument_short": "Hague 1954 P2", "state": "UKR", "status": "party",
            "deposit": "1999-12-15", "source": "x", "confidence": "high"}
    bad = {**good, "state": "FRA", "deposit": "2999-01-01"}
    path = tmp_path / "team.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", "utf-8")
    before = count(db)
    result = runner.invoke(args=["treaties", "import", str(path)])
    assert result.exit_code == 1
    assert "row 2 (Hague 1954 P2, FRA): The deposit (2999-01-01) is in the future." \
        in result.output
    assert row(db, "Hague 1954 P2", "UKR") is None
    assert count(db) == before


# --- refusals: a clear message, nothing changed ----------------------------------------------

@pytest.mark.parametrize(("instrument", "state", "changes", "field", "message"), [
    ("Rome Statute", "XXX", {}, "state", "is not a country code"),
    ("Treaty of Nowhere", "UKR", {}, "instrument", "no instrument 'Treaty of Nowhere'"),
    ("Rome Statute", "UKR", {"deposit": "2999-01-01"}, "deposit", "is in the future"),
    ("Rome Statute", "UKR", {"in_force_for_state": "2999-01-01"}, "in_force_for_state",
     "is in the future"),
    ("Rome Statute", "HUN", {"withdrawal_effective": "2999-06-02"}, "withdrawal_effective",
     "is in the future"),
])
def test_bad_participation_is_refused_with_its_field(db, loaded, lawyer, instrument, state,
                                                      changes, field, message):
    before = count(db)
    with pytest.raises(treaties.InvalidInput) as refused:
        treaties.enter_participation(db, instrument, state, team_fields(**changes),
                                     actor=lawyer.email)
    db.rollback()
    assert field in refused.value.fields
    assert message in refused.value.message
    assert count(db) == before


def test_a_withdrawal_before_entry_into_force_and_an_unknown_status_are_refused():
    with pytest.raises(ValueError, match="cannot take effect before"):
        team_fields(withdrawal_effective="2024-01-01", in_force_for_state="2025-01-01")
    with pytest.raises(ValueError, match="status"):
        team_fields(status="bound")


def test_an_overlapping_declaration_and_future_dates_are_refused(db, loaded, lawyer):
    def declaration(**changes):
        return treaties.IccFactFields.model_validate({
            "kind": "declaration", "state": "UKR", "lodged_on": "2016-01-01",
            "period_from": "2020-01-01", "period_to": "2021-01-01", "confidence": "medium",
            **changes})

    before = count(db)
    with pytest.raises(treaties.InvalidInput, match="overlaps the declaration "
                                                    "declaration:UKR:2015-09-08"):
        treaties.enter_icc_fact(db, declaration(), actor=lawyer.email)
    db.rollback()
    with pytest.raises(treaties.InvalidInput, match="in the future"):
        treaties.enter_icc_fact(db, declaration(state="SDN", lodged_on="2999-01-01"),
                                actor=lawyer.email)
    db.rollback()
    assert count(db) == before
    ahead = treaties.enter_icc_fact(  # a declaration may cover a period ending ahead
        db, declaration(state="SDN", lodged_on="2025-01-06", period_from="2025-01-01",
                        period_to="2030-12-31"), actor=lawyer.email)
    db.commit()
    assert (ahead.key, ahead.origin, ahead.entered_by) == \
        ("declaration:SDN:2025-01-06", "team", lawyer.email)
    assert count(db) == before + 1


# --- pages -----------------------------------------------------------------------------------

def test_everyone_logged_in_reads_the_treaty_pages(client, db, loaded):
    login(client, make_user(db, "investigator"))
    catalogue_page = client.get("/provisions").get_data(as_text=True)
    assert '<a href="/treaties">Treaty participation by state</a>' in catalogue_page
    listing = client.get("/treaties?instrument=Rome+Statute")
    assert listing.status_code == 200
    assert "Ukraine" in text_of(listing)
    page = client.get("/treaties/UKR")
    assert page.status_code == 200
    text = text_of(page)
    assert "unknown — no row" in text  # e.g. Hague 1954 P2
    assert "low confidence" in text
    assert "declaration 2014-04-17 2013-11-21 to 2014-02-22 yes" in text
    assert "Correct" not in text
    assert "Add an ICC" not in text
    assert client.get("/treaties/UKR/participation/Rome Statute").status_code == 403
    assert client.post("/treaties/UKR/icc", data={}).status_code == 403
    assert client.get("/treaties/XXX").status_code == 404


def test_a_lawyer_corrects_a_row_and_a_stale_form_is_refused(client, db, loaded, lawyer):
    login(client, lawyer)
    url = "/treaties/UKR/participation/Rome Statute"
    form = FormPage(client.get(url).get_data(as_text=True))
    mine = {**form.values, "confidence": "high", "source": "https://treaties.un.org/mine"}
    other = make_user(db, "admin", email="other@example.org")
    treaties.enter_participation(db, "Rome Statute", "UKR", team_fields(), actor=other.email,
                                 expected_version=1)
    db.commit()
    before = count(db)
    stale = client.post(url, data=mine)
    assert stale.status_code == 409
    assert "changed by someone else" in text_of(stale)
    assert count(db) == before
    assert row(db, "Rome Statute", "UKR").entered_by == "other@example.org"

    fresh = FormPage(client.get(url).get_data(as_text=True))
    saved = client.post(url, data={**fresh.values, "source": "https://treaties.un.org/mine"})
    assert saved.status_code == 302
    page = text_of(client.get("/treaties/UKR"))
    assert "https://treaties.un.org/mine" in page
    assert "team: counsel@example.org" in page


def test_a_lawyer_adds_a_missing_row_from_the_page(client, db, loaded, lawyer):
    login(client, lawyer)
    url = "/treaties/UKR/participation/Hague 1954 P2"
    form = FormPage(client.get(url).get_data(as_text=True))
    bad = client.post(url, data={**form.values, "status": "party", "deposit": "2999",
                                 "confidence": "high"})
    assert bad.status_code == 422
    assert FormPage(bad.get_data(as_text=True)).errors["deposit"] == \
        "The deposit (2999) is in the future."
    assert row(db, "Hague 1954 P2", "UKR") is None
    saved = client.post(url, data={**form.values, "status": "party", "deposit": "1999-12-15",
                                   "confidence": "high", "source": "seen"})
    assert saved.status_code == 302
    assert row(db, "Hague 1954 P2", "UKR").origin == "team"


# --- API -------------------------------------------------------------------------------------

def test_the_api_reads_a_states_rows_and_a_lawyer_puts_one(client, db, loaded, as_role):
    _investigator, reader = as_role("investigator")
    got = client.get("/api/v1/treaties/UKR", headers=reader)
    assert got.status_code == 200
    body = got.get_json()
    rome = next(r for r in body["rows"] if r["instrument"] == "Rome Statute")
    assert (rome["status"], rome["in_force_for_state"]) == ("party", "2025-01-01")
    assert "Hague 1954 P2" in body["unknown"]
    assert [f["key"] for f in body["icc"]] == ["declaration:UKR:2014-04-17",
                                               "declaration:UKR:2015-09-08"]
    put = {"status": "party", "deposit": "2024-10-25", "confidence": "high",
           "source": "https://treaties.un.org/z", "notes": "checked"}
    url = "/api/v1/treaties/UKR/Rome Statute"
    error_of(client.put(url, json=put, headers=reader), 403)

    _lawyer, headers = as_role("legal")
    before = count(db)
    error_of(client.put(url, json=put, headers={**headers, "If-Match": '"7"'}), 409)
    refused = error_of(client.put(url, json={**put, "status": "bound"}, headers=headers), 422)
    assert "status" in refused["fields"]
    refused = error_of(client.put("/api/v1/treaties/XXX/Rome Statute", json=put,
                                  headers=headers), 422)
    assert "state" in refused["fields"]
    assert count(db) == before
    saved = client.put(url, json=put, headers={**headers, "If-Match": '"1"'})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["origin"] == "team"
    assert saved.headers["ETag"] == '"2"'
    assert count(db) == before + 1


def test_an_instruments_file_alone_does_not_overwrite_the_participation_file(runner, db, loaded):
    before = row(db, "GC IV", "ARM")
    assert before.source != "instruments.json (bundled catalogue)"
    entries = count(db)
    result = runner.invoke(args=["provisions", "import", "--instruments",
                                 str(BUNDLED / "instruments.json")])
    assert result.exit_code == 0, result.output
    assert row(db, "GC IV", "ARM").source == before.source
    assert count(db) == entries


def test_a_team_correction_of_an_icc_fact_is_kept_by_a_catalogue_load(db, loaded, lawyer):
    civ = db.exec(select(IccBasis).where(IccBasis.key == "declaration:CIV:2003-04-18")).one()
    data = treaties.IccFactFields.model_validate({
        **{name: getattr(civ, name) for name in treaties.ICC_FIELDS},
        "confidence": "high", "source": "https://www.icc-cpi.int/cdi"})
    treaties.enter_icc_fact(db, data, actor=lawyer.email, key=civ.key, expected_version=1)
    db.commit()
    report = catalogue.load_bundled(db, actor="test")
    db.commit()
    differences = {name: (ours, theirs) for name, ours, theirs in report.treaties.kept[civ.key]}
    assert differences["confidence"] == ("high", "low")
    assert differences["source"][0] == "https://www.icc-cpi.int/cdi"
    db.expire_all()
    kept = db.exec(select(IccBasis).where(IccBasis.key == civ.key)).one()
    db.commit()
    assert (kept.confidence, kept.origin, kept.entered_by, kept.version) == \
        ("high", "team", lawyer.email, 2)


def test_a_lawyer_adds_a_declaration_from_the_page_and_an_overlap_is_refused(client, db, loaded,
                                                                             lawyer):
    login(client, lawyer)
    form = FormPage(client.get("/treaties/UKR/icc").get_data(as_text=True))
    before = count(db)
    overlapping = client.post("/treaties/UKR/icc", data={
        **form.values, "kind": "declaration", "lodged_on": "2016-01-01",
        "period_from": "2020-01-01", "period_to": "2021-01-01", "confidence": "medium"})
    assert overlapping.status_code == 422
    assert "overlaps the declaration declaration:UKR:2015-09-08" in text_of(overlapping)
    assert count(db) == before
    saved = client.post("/treaties/UKR/icc", data={
        **form.values, "kind": "declaration", "lodged_on": "2025-02-01",
        "period_from": "2025-01-01", "period_to": "2028-12-31", "confidence": "medium",
        "in_effect": "y"})
    assert saved.status_code == 302
    assert "declaration 2025-02-01 2025-01-01 to 2028-12-31 yes" in text_of(
        client.get("/treaties/UKR"))


def test_a_malformed_participation_file_is_refused_with_its_line(runner, db, loaded, tmp_path):
    path = tmp_path / "parties.jsonl"
    good = file_rows()[0]
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "state": "UKR",
                                                           "status": "bound"}) + "\n", "utf-8")
    before = count(db)
    result = runner.invoke(args=["provisions", "import", "--states-parties", str(path)])
    assert result.exit_code == 1
    assert f"{path} line 2, field status" in result.output
    assert "Traceback" not in result.output
    assert count(db) == before
