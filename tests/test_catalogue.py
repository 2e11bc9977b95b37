"""The legal catalogue: loaded by `ihl init`, extended by `ihl provisions import`."""

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
from sqlmodel import func, select

from ihl_docs.core.models import AuditEntry, Instrument, InstrumentParty, Provision, ProvisionElement
from ihl_docs.provisions import catalogue, services
from tests.builders import load_catalogue, make_user

BUNDLED = Path(catalogue.BUNDLED)


def count(db, model):
    n = db.exec(select(func.count()).select_from(model)).one()
    db.commit()
    return n


def provision(db, key):
    row = db.exec(select(Provision).where(Provision.key == key)
                  .execution_options(populate_existing=True)).first()
    db.commit()
    return row


def lines():
    return (BUNDLED / "provisions.jsonl").read_text("utf-8").splitlines()


def test_init_loads_the_bundled_catalogue_once(runner, db):
    result = runner.invoke(args=["init"])
    assert "160 provision(s) added" in result.output
    assert "25 instrument(s) added" in result.output
    assert count(db, Provision) == 160
    assert count(db, Instrument) == 25
    without = db.exec(select(func.count()).select_from(Provision).where(
        ~Provision.id.in_(select(ProvisionElement.provision_id)))).one()
    db.commit()
    assert without == 0  # edition 2: every provision has elements
    rs = provision(db, "rs-8-2-b-i")
    elements = db.exec(select(ProvisionElement).where(ProvisionElement.provision_id == rs.id)
                       .order_by(ProvisionElement.number)).all()
    db.commit()
    assert [e.number for e in elements] == list(range(1, len(elements) + 1))
    assert elements
    arm = db.exec(select(InstrumentParty).join(Instrument)
                  .where(Instrument.short_name == "CCM", InstrumentParty.state == "ARM")).first()
    db.commit()
    assert arm is not None
    entries = count(db, AuditEntry)
    again = runner.invoke(args=["init"])
    assert "0 provision(s) added, 0 changed, 160 unchanged" in again.output
    assert "0 row(s) added, 0 changed, 1221 unchanged" in again.output
    assert count(db, Provision) == 160
    assert count(db, AuditEntry) == entries  # a second load writes nothing


def test_init_keeps_a_correction_made_since(runner, db, tmp_path):
    runner.invoke(args=["init"])
    edited = [json.loads(line) for line in lines()]
    edited[0]["title"] = "Corrected title"
    path = tmp_path / "edited.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in edited), "utf-8")
    result = runner.invoke(args=["provisions", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert f"changed  {edited[0]['key']}" in result.output
    assert "0 provision(s) added, 1 changed, 159 unchanged" in result.output
    runner.invoke(args=["init"])
    assert provision(db, edited[0]["key"]).title == "Corrected title"
    assert provision(db, edited[0]["key"]).version == 2
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "provision",
                                             AuditEntry.action == "update")).one()
    db.commit()
    assert json.loads(entry.change)["after"]["title"] == "Corrected title"


def test_import_adds_new_provisions(runner, db, tmp_path):
    runner.invoke(args=["init"])
    new = json.loads(lines()[0])
    new.update(key="api-51-4-x", article="51(4)(x)", title="A new entry", related=["api-51-4"],
               elements=[{"number": 1, "text": "First"}, {"number": 2, "text": "Second"}])
    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps(new) + "\n", "utf-8")
    result = runner.invoke(args=["provisions", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "added    api-51-4-x" in result.output
    assert count(db, Provision) == 161


def _refused(runner, db, tmp_path, text, *expected):
    runner.invoke(args=["init"])
    before = count(db, AuditEntry)
    path = tmp_path / "bad.jsonl"
    path.write_text(text, "utf-8")
    result = runner.invoke(args=["provisions", "import", str(path)])
    assert result.exit_code == 1, result.output
    for text_part in expected:
        assert text_part in result.output
    assert "Traceback" not in result.output
    assert count(db, Provision) == 160
    assert count(db, AuditEntry) == before


def test_malformed_json_is_refused_with_its_line(runner, db, tmp_path):
    good = json.loads(lines()[0])
    good["title"] = "would change"
    _refused(runner, db, tmp_path, json.dumps(good) + "\n" + lines()[1] + "\n{not json\n",
             "line 3", "not valid JSON")
    assert provision(db, good["key"]).title != "would change"


def test_missing_or_wrong_fields_are_named(runner, db, tmp_path):
    record = json.loads(lines()[0])
    del record["title"]
    _refused(runner, db, tmp_path, lines()[1] + "\n" + json.dumps(record), "line 2", "title")


def test_bad_values_are_named(runner, db, tmp_path):
    record = json.loads(lines()[0])
    record["applies_to"] = "sometimes"
    _refused(runner, db, tmp_path, json.dumps(record), "line 1", "applies_to")


def test_elements_must_be_numbered_in_order(runner, db, tmp_path):
    record = json.loads(lines()[0])
    record["elements"] = [{"number": 1, "text": "a"}, {"number": 3, "text": "b"}]
    _refused(runner, db, tmp_path, json.dumps(record), "line 1", "elements")


def test_unknown_related_key_and_instrument_are_refused(runner, db, tmp_path):
    record = json.loads(lines()[0])
    record["related"] = ["no-such-key"]
    _refused(runner, db, tmp_path, json.dumps(record), "related", "no-such-key")
    record = json.loads(lines()[0])
    record["instrument_short"] = "Treaty of Nowhere"
    _refused(runner, db, tmp_path, json.dumps(record), "instrument_short")


def test_duplicate_key_is_refused(runner, db, tmp_path):
    _refused(runner, db, tmp_path, lines()[0] + "\n" + lines()[0], "line 2", "already appears on line 1")


# Instruments the states-parties file names but the researched instruments.json lacks: added to
# the bundled copy (with their dates and sources in their notes) so that no row is dropped.
ADDED_INSTRUMENTS = ["CWC", "CCW", "CCW PIV", "CCW PV", "CRC-OP-AC"]


def test_bundled_data_matches_the_researched_copy():
    shared = BUNDLED.parent.parent.parent / "shared" / "data" / "edition-2"
    if not shared.is_dir():
        pytest.skip("the researched copy (shared/data/edition-2) is not on this machine")
    for name in ("provisions.jsonl", "icc_jurisdiction.json"):
        assert (BUNDLED / name).read_bytes() == (shared / name).read_bytes()
    # a participation row may differ only where CORRECTIONS.md names the correction
    corrections = (BUNDLED / "CORRECTIONS.md").read_text("utf-8")
    ours = (BUNDLED / "states_parties.jsonl").read_text("utf-8").splitlines()
    theirs = (shared / "states_parties.jsonl").read_text("utf-8").splitlines()
    assert len(ours) == len(theirs)
    for mine, researched in zip(ours, theirs):
        if mine != researched:
            row = json.loads(mine)
            name = f"**states_parties.jsonl, {row['instrument_short']} / {row['state']}**"
            assert name in corrections, row
            entry = corrections.split(name, 1)[1].split("\n- **", 1)[0]
            before = json.loads(researched)
            assert row.keys() == before.keys()
            for key in row.keys() - {"source", "confidence", "notes"}:
                if row[key] != before[key]:
                    # a changed fact is only taken with its new value written in the entry
                    assert str(row[key]) in entry, (name, key)
    ours = json.loads((BUNDLED / "instruments.json").read_text("utf-8"))
    theirs = json.loads((shared / "instruments.json").read_text("utf-8"))
    assert ours[:len(theirs)] == theirs
    assert [i["instrument_short"] for i in ours[len(theirs):]] == ADDED_INSTRUMENTS
    assert all("http" in i["notes"] for i in ours[len(theirs):])  # each names its source


def test_every_suggestion_names_a_provision_of_the_catalogue():
    keys = {json.loads(line)["key"] for line in lines()}
    rules = json.loads((BUNDLED / "suggestions.json").read_text("utf-8"))
    assert rules
    assert [r["provision_key"] for r in rules if r["provision_key"] not in keys] == []


# Edition 2: who a provision binds, its jurisdiction note, an inoperative provision, element kinds

def test_edition_2_fields_are_stored_read_and_audited(db):
    load_catalogue(db)
    xx = provision(db, "rs-8-2-b-xx")
    assert xx.inoperative is True
    assert xx.binds == "individuals"
    assert xx.jurisdiction_note
    read = services.provision_read(db, xx)
    assert read["inoperative"] is True
    assert read["binds"] == "individuals"
    assert read["jurisdiction_note"] == xx.jurisdiction_note
    api35 = services.provision_read(db, provision(db, "api-35"))
    assert [e["kind"] for e in api35["elements"]] == ["conduct", "circumstance", "context",
                                                       "attribution"]
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "provision",
                                             AuditEntry.entity_id == "api-35")).one()
    db.commit()
    after = json.loads(entry.change)["after"]
    assert after["binds"] == "states"
    assert after["elements"][0] == {"number": 1, "kind": "conduct",
                                    "text": api35["elements"][0]["text"]}


def test_an_element_kind_outside_the_list_is_refused(runner, db, tmp_path):
    record = json.loads(lines()[0])
    record["elements"][0]["kind"] = "motive"
    _refused(runner, db, tmp_path, json.dumps(record), "line 1", "elements.0.kind")


def _correct_title(db, key: str, title: str) -> None:
    lawyer = make_user(db, "legal", email="counsel@example.org")
    row = provision(db, key)
    read = services.provision_read(db, row)
    data = services.ProvisionCorrection(**{
        **{k: v for k, v in read.items() if k in services.ProvisionCorrection.model_fields},
        "title": title})
    services.correct_provision(db, row, data, expected_version=row.version, actor=lawyer)
    db.commit()


def test_a_provision_corrected_in_the_application_is_kept_by_an_import(runner, db):
    runner.invoke(args=["init"])
    _correct_title(db, "api-51-4", "Our corrected title")
    original = json.loads(next(line for line in lines() if '"api-51-4"' in line[:20]))["title"]
    entries = count(db, AuditEntry)
    result = runner.invoke(args=["provisions", "import", "--bundled"])
    assert result.exit_code == 0, result.output
    assert "kept     api-51-4" in result.output
    assert f"title: Our corrected title → {original}" in result.output
    assert "kept 1 provision(s) corrected in the application" in result.output
    assert provision(db, "api-51-4").title == "Our corrected title"
    assert count(db, AuditEntry) == entries  # nothing else differs: nothing written
    taken = runner.invoke(args=["provisions", "import", "--bundled", "--take-new", "api-51-4"])
    assert taken.exit_code == 0, taken.output
    assert "changed  api-51-4" in taken.output
    assert provision(db, "api-51-4").title == original
    assert count(db, AuditEntry) == entries + 1


EDITION_1 = "d5d55d7"
REPO = Path(__file__).resolve().parent.parent


def _edition_1(tmp_path):
    """The first edition's files and loader, from the repository's history."""
    found = {}
    for path in ("ihl_docs/data/provisions.jsonl", "ihl_docs/data/instruments.json",
                 "ihl_docs/provisions/catalogue.py"):
        shown = subprocess.run(["git", "show", f"{EDITION_1}:{path}"], cwd=REPO,
                               capture_output=True)
        if shown.returncode != 0:
            pytest.skip(f"the repository's history is not here ({path} at {EDITION_1})")
        target = tmp_path / Path(path).name
        target.write_bytes(shown.stdout)
        found[Path(path).name] = target
    spec = importlib.util.spec_from_file_location("catalogue_edition_1", found["catalogue.py"])
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    return loader, found


def test_a_database_of_edition_1_upgraded_to_edition_2_verifies_intact(runner, db, tmp_path):
    old, files = _edition_1(tmp_path)
    instruments = json.loads(files["instruments.json"].read_text("utf-8"))
    # a row the second edition does not hold: kept as it is, and recorded as found
    next(i for i in instruments if i["instrument_short"] == "CIHL")["parties"].append(
        {"state": "FRA", "status": "party", "since": "2009", "detail": "", "confidence": ""})
    report = old.load(db, old.parse_instruments(json.dumps(instruments)),
                      old.parse_provisions(files["provisions.jsonl"].read_text("utf-8")),
                      actor="ihl init", update_existing=False)
    db.commit()
    assert len(report.added) == 105
    old_entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "instrument")).first()
    db.commit()
    assert "parties" in json.loads(old_entry.change)["after"]  # participation inside
    _correct_title(db, "rs-8-2-b-i", "Attacking civilians (kept through the upgrade)")

    upgraded = runner.invoke(args=["provisions", "import", "--bundled"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "55 provision(s) added, 104 changed, 0 unchanged; kept 1 provision(s)" in \
        upgraded.output
    assert "1 recorded in the audit log as found" in upgraded.output
    assert provision(db, "rs-8-2-b-i").title == "Attacking civilians (kept through the upgrade)"
    kept = db.exec(select(ProvisionElement).where(
        ProvisionElement.provision_id == provision(db, "rs-8-2-b-i").id)).all()
    db.commit()
    assert {e.kind for e in kept} == {""}  # still the first edition's elements, without kinds
    verified = runner.invoke(args=["verify"])
    assert "intact" in verified.output, verified.output
    runner.invoke(args=["init"])  # loads the suggestion rules, which the old load did not
    entries = count(db, AuditEntry)
    again = runner.invoke(args=["init"])
    assert "0 row(s) added, 0 changed, 1221 unchanged" in again.output
    assert count(db, AuditEntry) == entries
    assert "intact" in runner.invoke(args=["verify"]).output
