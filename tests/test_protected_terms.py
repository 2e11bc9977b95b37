"""Protected terms: a witness named anywhere, and staff, never reach a court or public edition.

The attack is a witness-protection officer's: a witness's name and phone number typed into a
narrative, a custody note and an element note, an investigator's e-mail address in custody, and
then every court and public edition read as a stranger would read it — its text, its
decompressed PDF objects and its attachments.
"""

import io
import json
import re
from datetime import UTC, datetime

import pikepdf
import pytest
from sqlmodel import select

from ihl_docs.cases import services as cases
from ihl_docs.core.errors import Forbidden, InvalidInput
from ihl_docs.core.models import (
    AuditEntry,
    CustodyEventCreate,
    Dossier,
    ProtectedTerm,
)
from ihl_docs.dossiers import services as dossiers
from ihl_docs.dossiers.content import collect, disclosure_check
from ihl_docs.evidence import services as evidence
from ihl_docs.protection import services as protection
from ihl_docs.protection.matching import Finder, find, text_finder
from ihl_docs.qualifications import services as qualifications
from tests.api_support import bearer, error_of, token_for
from tests.builders import (
    approve_incident,
    load_catalogue,
    login,
    make_case,
    make_evidence,
    make_incident,
    make_user,
    qualify,
)
from tests.dossier_support import build_pdf, pdf_text

WITNESS = "Jane Doe"
PHONE = "+374 555 0101"
SECRETS = ("Jane", "Doe", "555 0101", "5550101", "0101")


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def lawyer(db):
    return make_user(db, "admin", email="lena.lawyer@ngo.example", name="Lena Lawyer")


@pytest.fixture
def investigator(db):
    return make_user(db, "investigator", email="ivan.field@ngo.example", name="Ivan Fieldworker")


@pytest.fixture
def exposed(db, store, lawyer, investigator):
    """A case whose witness is named in a narrative, a custody note and an element note, and
    whose investigator's e-mail address and office are in custody; the witness is registered."""
    load_catalogue(db)
    case = make_case(db, lawyer, ref="NK-2020-001")
    cases.add_member(db, case, investigator.email, actor=lawyer)
    incident = approve_incident(db, make_incident(
        db, case, lawyer, title="Strike on the bakery",
        narrative=f"{WITNESS}, witness (phone {PHONE}), saw the rocket land at 00:30."), lawyer)
    item = make_evidence(db, case, lawyer, store, data=b"%PDF-1.4 statement", sensitivity="public",
                         title="Statement of the baker", acquired_by="ivan.field@ngo.example",
                         acquisition_method="interview at the Goris office",
                         acquired_at=datetime(2020, 10, 5, 12, tzinfo=UTC))
    evidence.link_evidence(db, incident, item, "eyewitness", actor=lawyer)
    evidence.record_custody(db, item, CustodyEventCreate(
        action="transferred", occurred_at=datetime(2020, 10, 6, 9, tzinfo=UTC),
        custodian_from="ivan.field@ngo.example", custodian_to="Goris office",
        place="Goris office, 12 Main St", notes=f"handed over by JANE-DOE ({PHONE.replace(' ', '-')})"),
        actor=lawyer, store=store)
    qualification = qualify(db, incident, lawyer)
    qualifications.set_finding(db, qualification, 1, "supported",
                               "Confirmed by Jane  Doe's account", [(item.ref, "supports")],
                               actor=lawyer)
    protection.add_term(db, case, kind="name", match="text", term=WITNESS, note="the baker",
                        actor=lawyer)
    db.commit()
    return {"case": case, "incident": incident, "item": item}


def decompressed(pdf: bytes) -> bytes:
    """Every stream of the PDF decoded, with the objects: what a forensic reader sees."""
    out = [pdf]
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Stream):
                try:
                    out.append(obj.read_bytes())
                except pikepdf.PdfError:
                    out.append(obj.read_raw_bytes())
            else:
                out.append(repr(obj).encode("utf-8", "replace"))
    return b"\n".join(out)


def attachments(pdf: bytes) -> dict[str, bytes]:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return {name: spec.get_file().read_bytes()
                for name, spec in document.attachments.items()}


def leaks(text: str) -> list[str]:
    folded = re.sub(r"[\s-]", "", text.lower())
    found = [s for s in SECRETS if re.sub(r"[\s-]", "", s.lower()) in folded]
    return found + [e for e in ("ivan.field@ngo.example", "lena.lawyer@ngo.example")
                    if e in text]


# ---- the attack: read the edition as a stranger ----------------------------------------------

@pytest.mark.parametrize("audience", ["court", "public"])
def test_no_witness_or_staff_address_reaches_court_or_public_editions(db, app, exposed,
                                                                      audience):
    pdf, _ = build_pdf(db, app, exposed["case"], audience=audience)
    text = pdf_text(pdf)
    assert leaks(text) == [], text
    raw = decompressed(pdf)
    for secret in ("Jane Doe", "JANE-DOE", "Jane  Doe", "ivan.field@ngo.example", "555 0101",
                   "555-0101", "Fieldworker"):
        assert secret.encode() not in raw
        # text in PDF content streams can be UTF-16: look there too
        assert secret.encode("utf-16-be") not in raw
    files = attachments(pdf)
    assert set(files) >= {"content.json", "manifest.json"}
    for name, data in files.items():
        assert leaks(data.decode("utf-8")) == [], name
    assert "[protected 1]" in text  # the witness, by the register's number
    assert "[protected phone 1]" in text


def test_the_internal_edition_keeps_everything(db, app, exposed):
    text = pdf_text(build_pdf(db, app, exposed["case"], audience="internal")[0])
    assert "Jane Doe" in re.sub(r"\s+", " ", text)
    assert "[protected" not in text


def test_placeholders_are_stable_and_the_edition_reproducible(db, app, exposed):
    first, built = build_pdf(db, app, exposed["case"], audience="court")
    second, again = build_pdf(db, app, exposed["case"], audience="court")
    assert first == second
    assert built.case_fingerprint == again.case_fingerprint
    content = collect(db, exposed["case"], audience="court", prepared_by="Lena Lawyer",
                      store=app.extensions["ihl_store"])
    incident = content["incidents"][0]
    assert incident["narrative"].startswith("[protected 1], witness (phone [protected phone 1])")
    [transfer] = [e for e in content["evidence"][0]["custody"] if e["action"] == "transferred"]
    note = transfer["notes"]
    assert note == "handed over by [protected 1] ([protected phone 1])"
    [element] = [e for e in incident["qualifications"][0]["elements"] if e["number"] == 1]
    assert element["note"] == "Confirmed by [protected 1]'s account"


def test_staff_appear_by_role_and_pseudonym_unless_they_consent(db, app, exposed, lawyer):
    content = collect(db, exposed["case"], audience="court", prepared_by="Lena Lawyer",
                      store=app.extensions["ihl_store"])
    [custody] = [e for e in content["evidence"][0]["custody"] if e["action"] == "transferred"]
    assert custody["custodian_from"] == "Investigator 1"
    assert content["prepared_by"] == "Administrator 1"
    assert "Lena" not in json.dumps(content)
    protection.set_named(db, exposed["case"], lawyer, True)
    db.commit()
    content = collect(db, exposed["case"], audience="court", prepared_by="Lena Lawyer",
                      store=app.extensions["ihl_store"])
    assert content["prepared_by"] == "Lena Lawyer"
    assert custody["custodian_from"] == "Investigator 1"


def test_public_edition_shows_no_acquisition_custodian_or_place(db, app, exposed):
    content = collect(db, exposed["case"], audience="public", prepared_by="x",
                      store=app.extensions["ihl_store"])
    item = content["evidence"][0]
    assert item["acquired_by"] == item["acquisition_method"] == ""
    assert item["acquired_at"] is None
    for event in item["custody"]:
        assert not any(event[f] for f in ("custodian_from", "custodian_to", "place", "notes",
                                          "purpose", "actor"))
    text = pdf_text(build_pdf(db, app, exposed["case"], audience="public")[0])
    assert "Goris" not in text
    assert "Main St" not in text


# ---- the register's own guarantees ----------------------------------------------------------

def test_matching_is_normalised_and_whole_word():
    finders = [text_finder("T1", "entry 1", "Zoë Müller-Őz"), text_finder("T2", "entry 2", "Ann")]
    for written in ("ZOE MULLER OZ", "zoë  müller-őz", "Zoe-Muller-Oz", "ZoeMullerOz"):
        assert [hit[2].key for hit in find(finders, f"met {written} today")] == ["T1"], written
    assert find(finders, "Annex 3 and the annual report") == []
    assert [h[2].key for h in find(finders, "ANN, the baker")] == ["T2"]


def test_the_longer_of_two_terms_at_one_place_is_protected_whole():
    finders = [text_finder("T1", "entry 1", "Jane"), text_finder("T2", "entry 2", "Jane Doe")]
    text = "Jane Doe met Jane"
    assert [(text[s:e], f.key) for s, e, f in find(finders, text)] == [("Jane Doe", "T2"),
                                                                       ("Jane", "T1")]


def test_phone_numbers_and_addresses_are_found_without_being_listed():
    finders = [Finder("phone", "phone number", "phone", regions=("AM",)),
               Finder("email", "e-mail address", "email")]
    for text, found in [("call +374 555 0101 now", "+374 555 0101"),
                        ("tel: 010 54 32 10", "010 54 32 10"),
                        ("whatsapp 099-12-34-56", "099-12-34-56"),
                        ("write to j.doe+war@mail.example.org", "j.doe+war@mail.example.org")]:
        hits = find(finders, text)
        assert [text[s:e] for s, e, _ in hits] == [found], text
    # dates, times, refs and casualty figures are not phone numbers
    for text in ("2020-10-04 00:30 +04:00 (2020-10-03 20:30 UTC)", "NK-2020-001-I001",
                 "3–5 killed, 12 injured", "at 39.81, 46.75"):
        assert find(finders, text) == [], text


@pytest.mark.parametrize("term, match, message", [
    ("J", "text", "at least 3 letters or digits"),
    ("  ", "text", "at least 3"),
    (".*", "pattern", "matches everything"),
    ("[a-z]", "pattern", "most of an ordinary sentence"),
    ("(unclosed", "pattern", "Not a valid regular expression"),
    ("NK 2020", "text", "the ref NK-2020-001"),
    ("I001", "text", "the ref NK-2020-001-I001"),
    (r"\d{3}", "pattern", "the ref"),
])
def test_bad_terms_are_refused_with_a_reason_and_nothing_recorded(db, exposed, lawyer, term,
                                                                  match, message):
    before = len(db.exec(select(ProtectedTerm)).all())
    with pytest.raises(InvalidInput) as refused:
        protection.add_term(db, exposed["case"], kind="name", match=match, term=term, note="",
                            actor=lawyer)
    assert message in str(refused.value.fields["term"])
    db.rollback()
    assert len(db.exec(select(ProtectedTerm)).all()) == before


def test_a_term_that_matches_a_stored_files_hash_is_refused(db, exposed, lawyer):
    sha = exposed["item"].sha256
    with pytest.raises(InvalidInput, match="SHA-256 of a stored file"):
        protection.add_term(db, exposed["case"], kind="other", match="pattern",
                            term=sha[:6] + "[0-9a-f]", note="", actor=lawyer)


def test_changes_are_audited_and_nothing_is_deleted(db, exposed, lawyer):
    case = exposed["case"]
    term = protection.add_term(db, case, kind="phone", match="text", term="+374 10 999 888",
                               note="", actor=lawyer)
    protection.withdraw_term(db, case, term.number, term.version, lawyer)
    db.commit()
    entries = db.exec(select(AuditEntry).where(AuditEntry.entity == "protected_term",
                                               AuditEntry.entity_id == f"{case.ref}:T2")
                      .order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["create", "update"]
    row = db.exec(select(ProtectedTerm).where(ProtectedTerm.number == 2)).one()
    assert row.active is False
    with pytest.raises(InvalidInput):  # withdrawn twice
        protection.withdraw_term(db, case, term.number, None, lawyer)


def test_only_investigators_and_lawyers_of_the_case_manage_the_register(db, exposed):
    outsider = make_user(db, "legal", email="other@ngo.example")
    auditor = make_user(db, "auditor", email="audit@ngo.example")
    for user in (outsider, auditor):
        with pytest.raises(Forbidden):
            protection.add_term(db, exposed["case"], kind="name", match="text",
                                term="Someone Else", note="", actor=user)


# ---- the disclosure check a lawyer confirms -------------------------------------------------

def test_the_disclosure_check_lists_each_hit_where_it_is_and_what_it_becomes(db, app, exposed):
    hits = disclosure_check(db, exposed["case"], audience="court", prepared_by="Lena Lawyer",
                            store=app.extensions["ihl_store"])
    places = {(h.where, h.found, h.becomes) for h in hits}
    ref, item = exposed["incident"].ref, exposed["item"].ref
    assert (f"{ref} · narrative", "Jane Doe", "[protected 1]") in places
    assert (f"{ref} · narrative", PHONE, "[protected phone 1]") in places
    assert (f"{item} · custody · notes", "JANE-DOE", "[protected 1]") in places
    assert any(h.where.endswith("element 1 · note") and h.found == "Jane  Doe" for h in hits)
    assert disclosure_check(db, exposed["case"], audience="internal", prepared_by="x",
                            store=app.extensions["ihl_store"]) == []


def test_a_court_dossier_from_the_page_needs_the_lawyers_confirmation(db, app, client, exposed,
                                                                      lawyer):
    login(client, lawyer)
    url = f"/cases/{exposed['case'].ref}/dossiers"
    data = {"audience": "court", "prepared_by": "", "incidents": ""}
    shown = client.post(url, data=data)
    assert shown.status_code == 200
    assert "Disclosure check" in shown.text
    assert "[protected 1]" in shown.text
    assert "Jane Doe" in shown.text
    assert db.exec(select(Dossier)).all() == []
    db.rollback()  # end the read, so the page can write
    check = re.search(r'name="disclosure_check" type="hidden" value="([0-9a-f]{64})"',
                      shown.text).group(1)
    unconfirmed = client.post(url, data={**data, "disclosure_check": check})
    assert unconfirmed.status_code == 422
    assert "Confirm that you have read" in unconfirmed.text
    # the records change after the check was read: the old confirmation is refused
    protection.add_term(db, exposed["case"], kind="place", match="text", term="bakery",
                        note="", actor=lawyer)
    db.commit()
    stale = client.post(url, data={**data, "disclosure_check": check, "confirm_disclosure": "y"})
    assert stale.status_code == 409
    assert "changed since this check" in stale.text
    assert db.exec(select(Dossier)).all() == []
    db.rollback()
    db.rollback()  # end the read, so the page can write
    check = re.search(r'name="disclosure_check" type="hidden" value="([0-9a-f]{64})"',
                      stale.text).group(1)
    done = client.post(url, data={**data, "disclosure_check": check, "confirm_disclosure": "y"})
    assert done.status_code == 302
    dossier = db.exec(select(Dossier)).one()
    record = json.loads(dossier.disclosure)
    assert record["confirmed"] is True
    assert record["confirmed_by"] == lawyer.email
    assert record["check_sha256"] == check
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "dossier",
                                             AuditEntry.action == "request")).one()
    assert json.loads(entry.change)["after"]["disclosure"] == dossier.disclosure
    page = client.get(f"/dossiers/{dossier.ref}")
    assert f"confirmed by {lawyer.email}" in page.text


def test_an_internal_dossier_needs_no_check(db, client, exposed, lawyer):
    login(client, lawyer)
    url = f"/cases/{exposed['case'].ref}/dossiers"
    done = client.post(url, data={"audience": "internal"})
    assert done.status_code == 302
    assert db.exec(select(Dossier)).one().disclosure == ""


def test_the_api_builds_without_confirmation_and_the_audit_entry_says_so(db, exposed, lawyer):
    dossier = dossiers.request_dossier(db, exposed["case"], audience="public", prepared_by=None,
                                       actor=lawyer)
    db.commit()
    record = json.loads(dossier.disclosure)
    assert record["confirmed"] is False
    assert "through the API" in record["note"]


# ---- the register page ------------------------------------------------------------------------

def test_the_register_page_adds_refuses_and_withdraws(db, client, exposed, lawyer):
    login(client, lawyer)
    url = f"/cases/{exposed['case'].ref}/protected-terms"
    page = client.get(url)
    assert page.status_code == 200
    assert "[protected 1]" in page.text
    refused = client.post(url, data={"kind": "name", "match": "text",
                                     "term": "J"})
    assert refused.status_code == 422
    assert "at least 3 letters" in refused.text
    added = client.post(url, data={"kind": "account", "match": "text",
                                   "term": "@baker_of_goris"}, follow_redirects=True)
    assert "[protected 2]" in added.text
    withdrawn = client.post(url + "/withdraw", data={"number": 2,
                                                     "version": 1}, follow_redirects=True)
    assert "withdrawn" in withdrawn.text
    assert db.exec(select(ProtectedTerm).where(ProtectedTerm.number == 2)).one().active is False


def test_the_register_travels_with_a_case_export(db, app, exposed, tmp_path):
    from ihl_docs.protection.export_part import PART, refusal

    assert refusal(db, [{"number": 1}]) is not None
    assert refusal(db, "not a list") is not None
    from ihl_docs.core.case_records import Collecting

    records = PART.collect(Collecting(db, exposed["case"]))
    assert [r["term"] for r in records] == [WITNESS]
    assert refusal(db, records) is None


# ---- the register through the API -----------------------------------------------------------

def test_the_api_reads_adds_and_withdraws_entries(db, client, exposed, lawyer):
    headers = bearer(token_for(db, lawyer))
    url = f"/api/v1/cases/{exposed['case'].ref}/protected-terms"
    listed = client.get(url, headers=headers)
    assert listed.status_code == 200
    assert [(t["number"], t["term"]) for t in listed.json["items"]] == [(1, WITNESS)]
    refused = client.post(url, headers=headers, json={"kind": "name", "term": "J"})
    assert refused.status_code == 422
    assert "at least 3 letters" in error_of(refused, 422)["fields"]["term"]
    added = client.post(url, headers=headers,
                        json={"kind": "account", "term": "@baker_of_goris", "note": "handle"})
    assert added.status_code == 201
    assert added.json["number"] == 2
    stale = client.post(f"{url}/2/withdraw", headers={**headers, "If-Match": '"7"'})
    assert stale.status_code == 409
    withdrawn = client.post(f"{url}/2/withdraw", headers={**headers, "If-Match": '"1"'})
    assert withdrawn.status_code == 200
    assert withdrawn.json["active"] is False
    assert client.post(f"{url}/9/withdraw", headers={**headers, "If-Match": '"1"'}
                       ).status_code == 404


def test_the_api_register_is_for_the_case_team_only(db, client, exposed):
    auditor = make_user(db, "auditor", email="audit2@ngo.example")
    response = client.get(f"/api/v1/cases/{exposed['case'].ref}/protected-terms",
                          headers=bearer(token_for(db, auditor)))
    assert response.status_code == 403
    assert WITNESS not in response.text
