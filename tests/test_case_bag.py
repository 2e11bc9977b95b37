"""`ihl export` and `ihl import`: a case as a BagIt bag, restored in another instance as it was
exported; a bag that differs from its manifest or its signed seal is refused whole; the offline
verifier checks the case's audit entries with the other cases' entries redacted."""

import hashlib
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bagit
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import SQLModel, select

from ihl_docs.cases import services as case_services
from ihl_docs.core.audit import chain
from ihl_docs.core.audit.signing import load_or_create_key, public_key_hex
from ihl_docs.core.audit.verify_audit import checkpoint_message, seal_message
from ihl_docs.core.db import open_session
from ihl_docs.core.models import AuditEntry, Case, CaseMember, CustodyEvent, CustodyEventCreate, Incident, User
from ihl_docs.dossiers import content
from ihl_docs.dossiers.build import build_dossier
from ihl_docs.evidence import services as evidence_services
from ihl_docs.qualifications import services as qualifications
from tests.builders import jpeg_with_exif, load_catalogue, make_case, make_evidence, make_incident, make_user, qualify
from tests.dossier_support import make_dossier

REF = "NK-2020-001"
OTHER_REF = "OT-2021-009"
OTHER_SECRET = "Narrative of the other case, never to leave it"
RECORD_FILES = ("case.json", "incidents.json", "evidence.json", "qualifications.json",
                "protected_terms.json", "dossiers.json")
PAST = datetime(2020, 10, 5, 8, 0, tzinfo=UTC)


# ---- fixtures ------------------------------------------------------------------------------------

@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def source(db, app, store, quick_renderer):
    """A case with two incidents, a photo with EXIF and thumbnail, a document, a confidential
    testimony, a physical item, transfers, a qualification with findings and a dossier; and,
    interleaved with it in the audit log, another case."""
    load_catalogue(db)
    investigator = make_user(db, "investigator", email="ivan@example.org", name="Ivan")
    lawyer = make_user(db, "admin", email="lena@example.org", name="Lena Lawyer")
    guest = make_user(db, "legal", email="guest@example.org")
    case = make_case(db, investigator, ref=REF, summary="Shelling of the old town, 2020.")
    other = make_case(db, lawyer, ref=OTHER_REF)
    for email in (lawyer.email, guest.email):
        case_services.add_member(db, case, email, actor=investigator)
    db.commit()
    first = make_incident(db, case, investigator, title="Shelling of the central market",
                          responsible_party="State A armed forces")
    make_incident(db, other, lawyer, narrative=OTHER_SECRET)
    second = make_incident(db, case, investigator, title="Strike on the water station",
                           incident_type="shelling")
    photo = make_evidence(db, case, investigator, store, data=jpeg_with_exif(), kind="photo",
                          title="Crater", sensitivity="public", original_filename="crater.jpg",
                          acquired_by="Field team", acquired_at=PAST - timedelta(hours=1))
    make_evidence(db, other, lawyer, store, data=b"other case file", title="Other report")
    report = make_evidence(db, case, investigator, store, data=b"%PDF-1.4 field report",
                           title="Field report")
    testimony = make_evidence(db, case, investigator, store, data=b"statement text",
                              kind="testimony", title="Statement", sensitivity="confidential",
                              source_author="A witness")
    fragment = make_evidence(db, case, investigator, store, data=None, title="Rocket fragment",
                             acquired_by="Field team", acquired_at=PAST)
    for item in (photo, report, testimony, fragment):
        evidence_services.link_evidence(db, first, item, "found at the market", actor=investigator)
    evidence_services.link_evidence(db, second, report, "mentions the station", actor=investigator)
    for item in (photo, fragment):
        evidence_services.record_custody(db, item, CustodyEventCreate(
            action="transferred", occurred_at=PAST + timedelta(days=1),
            custodian_from="Field team", custodian_to="Evidence unit", place="Field office"),
            actor=investigator, store=store)
    db.commit()
    qualification = qualify(db, first, lawyer, key="rs-8-2-b-i", assessment="probable",
                            analysis="Artillery fired into a crowded market.")
    qualifications.set_finding(db, qualification, 1, "supported", "Crater and statement.",
                               [(photo.ref, "supports"), (testimony.ref, "context")],
                               actor=lawyer)
    qualifications.set_finding(db, qualification, 2, "contested", "Disputed.",
                               [(fragment.ref, "contradicts")], actor=lawyer)
    db.commit()
    dossier = make_dossier(db, app, case, lawyer, audience="court", incidents=[first.ref])
    assert dossier.status == "done"
    return {"case": case, "other": other, "photo": photo, "fragment": fragment}


def session_of(application):
    return open_session(application.extensions["ihl_engine"], write=True)


def row_counts(application) -> dict:
    with session_of(application) as session:
        return {table.name: session.exec(select(sa.func.count()).select_from(table)).one()
                for table in SQLModel.metadata.sorted_tables}


def stored(application) -> list[str]:
    root = application.extensions["ihl_store"].root
    return sorted(p.name for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp")


def export(runner, out: Path, ref=REF):
    result = runner.invoke(args=["export", ref, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return result


def key_of(application) -> str:
    """The public key of the instance's checkpoint key, as `ihl export` prints it."""
    return public_key_hex(load_or_create_key(application.config["SIGNING_KEY"]))


def import_into(application, bag: Path, key: str | None = None, *args):
    """`ihl import` of the bag, trusting the key `key` (default: the key of the bag's own
    signature, read from its checkpoint, as an importer told it would)."""
    key = key or read_lines(bag / "data" / "checkpoints.jsonl")[-1]["public_key"]
    return application.test_cli_runner().invoke(args=["import", str(bag), "--public-key", key,
                                                      *args])


AUTHORS = ("created_by", "linked_by", "requested_by", "added_by")


def unattributed(value):
    """The records with every author left empty, as an import restores them."""
    if isinstance(value, dict):
        return {k: None if k in AUTHORS else unattributed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unattributed(v) for v in value]
    return value


def records(bag: Path) -> dict:
    return {name: json.loads((bag / "data" / name).read_text(encoding="utf-8"))
            for name in RECORD_FILES}


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, items: list[dict]) -> None:
    path.write_text("".join(chain.canonical_json(i) + "\n" for i in items), encoding="utf-8")


def run_verifier(data: Path):
    """The bag's verifier with no site-packages and nothing of the project on its path."""
    return subprocess.run([sys.executable, "-I", "-S", str(data / "verify_audit.py"), str(data)],
                          capture_output=True, text=True, timeout=120, cwd=data)


def one_line_error(result, expected: str):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), result.output
    assert expected in lines[0], result.output


def build_pdf(session, application, ref) -> bytes:
    case = session.exec(select(Case).where(Case.ref == ref)).one()
    out = io.BytesIO()
    build_dossier(session, case, audience="court", prepared_by="Lena Lawyer",
                  store=application.extensions["ihl_store"], out=out)
    return out.getvalue()


def case_fingerprint(session, application, ref) -> str:
    case = session.exec(select(Case).where(Case.ref == ref)).one()
    return content.fingerprint(content.collect(session, case, audience="internal",
                                               prepared_by="x",
                                               store=application.extensions["ihl_store"]))


# ---- (a) the round trip --------------------------------------------------------------------------

def test_a_case_comes_back_elsewhere_as_it_was_exported(db, app, runner, source, elsewhere,
                                                        tmp_path):
    with session_of(elsewhere) as session:  # the same people, but for one member
        make_user(session, "investigator", email="ivan@example.org", name="Ivan")
        make_user(session, "admin", email="lena@example.org", name="Lena Lawyer")
        load_catalogue(session)
    bag = tmp_path / "bag"
    export(runner, bag)
    exported = records(bag)
    files = sorted(p.name for p in (bag / "data" / "files").iterdir())

    result = import_into(elsewhere, bag)
    assert result.exit_code == 0, result.output
    assert f"Imported case {REF}: " in result.output
    assert "Members with no account here (not added): guest@example.org" in result.output

    again = tmp_path / "again"
    export(elsewhere.test_cli_runner(), again)
    restored = records(again)
    expected = unattributed(exported)  # authors are not attributed to accounts here
    expected["case.json"] = {**expected["case.json"], "members": [
        m for m in expected["case.json"]["members"] if m["email"] != "guest@example.org"]}
    assert len(expected["case.json"]["members"]) == 2
    for name in RECORD_FILES:  # every record, custody chains included, field by field
        assert restored[name] == expected[name], name
    # The fragment, a physical item, is collected and transferred: no receipt by its recorder.
    assert [len(e["custody"]) for e in restored["evidence.json"]] == [4, 1, 1, 2]
    assert restored["evidence.json"][0]["derivatives"]  # the photo's thumbnail
    assert restored["dossiers.json"][0]["status"] == "done"

    target_store = elsewhere.extensions["ihl_store"]
    assert sorted(p.name for p in (again / "data" / "files").iterdir()) == files
    assert len(files) == 5  # photo, thumbnail, report, testimony, dossier PDF
    for sha256 in files:
        assert target_store.hash_stored(sha256)[0] == sha256
        assert target_store.path_for(sha256).read_bytes() == \
            app.extensions["ihl_store"].path_for(sha256).read_bytes()

    with session_of(elsewhere) as session:
        case = session.exec(select(Case).where(Case.ref == REF)).one()
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "import")).all()
        assert {e.case_ref for e in entries} == {REF}
        assert str(len(entries)) + " audit entries" in result.output
        assert {"case", "case_member", "incident", "evidence", "incident_evidence",
                "custody_event", "qualification", "dossier"} == {e.entity for e in entries}
        target_fingerprint = case_fingerprint(session, elsewhere, REF)
        target_pdf = build_pdf(session, elsewhere, REF)
        ivan = session.exec(select(User).where(User.email == "ivan@example.org")).one()
        assert [u.email for u in case_services.members(session, case)] == [
            "ivan@example.org", "lena@example.org"]
        incident = make_incident(session, case, ivan)  # the counters go on from the source's
        assert incident.ref == f"{REF}-I003"
    verified = elsewhere.test_cli_runner().invoke(args=["verify"])  # files, custody, chain
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output, verified.output
    assert target_fingerprint == case_fingerprint(db, app, REF)
    assert target_pdf == build_pdf(db, app, REF)


# ---- (b) a bag that differs from its manifest or its seal ----------------------------------------

def test_a_bag_with_one_byte_changed_is_refused_whole(runner, source, elsewhere, tmp_path):
    with session_of(elsewhere) as session:
        load_catalogue(session)
    bag = tmp_path / "bag"
    export(runner, bag)
    sha256 = source["photo"].sha256
    payload = bag / "data" / "files" / sha256
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0x01
    payload.chmod(0o644)
    payload.write_bytes(bytes(data))
    before, files = row_counts(elsewhere), stored(elsewhere)

    result = import_into(elsewhere, bag)
    one_line_error(result, f"data/files/{sha256} has a different sha256")
    assert "does not match its manifest" in result.output
    assert row_counts(elsewhere) == before
    assert stored(elsewhere) == files


def test_records_edited_and_bagged_again_are_refused_by_the_seal(runner, source, elsewhere,
                                                                 tmp_path):
    with session_of(elsewhere) as session:
        load_catalogue(session)
    bag = tmp_path / "bag"
    export(runner, bag)
    path = bag / "data" / "evidence.json"
    items = json.loads(path.read_text())
    items[0]["title"] = "A better title"
    path.write_text(json.dumps(items))
    bagit.Bag(str(bag)).save(manifests=True)  # the manifests agree again
    bagit.Bag(str(bag)).validate(fast=False)
    before = row_counts(elsewhere)

    result = import_into(elsewhere, bag)
    one_line_error(result, "evidence.json: differs from the signed case seal")
    assert row_counts(elsewhere) == before


# ---- (c) the offline verifier --------------------------------------------------------------------

def case_entry_before_a_redacted_one(entries):
    for index, entry in enumerate(entries[:-1]):
        if not entry.get("redacted") and entries[index + 1].get("redacted"):
            return index
    raise AssertionError("no case entry followed by another case's entry")


def test_the_verifier_in_the_bag_says_intact_and_names_an_edited_case_entry(runner, source,
                                                                          tmp_path):
    bag = tmp_path / "bag"
    export(runner, bag)
    data = bag / "data"
    result = run_verifier(data)
    assert (result.returncode, result.stderr) == (0, "")
    entries = read_lines(data / "audit.jsonl")
    whole = sum(1 for e in entries if not e.get("redacted"))
    assert result.stdout.splitlines() == [
        "intact", f"case bag of {REF}: seq 1 to {len(entries)}, {whole} entries of the case "
        f"whole, {len(entries) - whole} others redacted; sealed and checkpointed at seq "
        f"{len(entries)}"]

    entries = read_lines(data / "audit.jsonl")
    index = case_entry_before_a_redacted_one(entries)
    seq = entries[index]["seq"]
    # Edited, its hash recomputed and the next (redacted) entry relinked: the chain and the
    # checkpoint alone would hold; the signed seal of the case's entries does not.
    entries[index]["actor"] = "someone else"
    entries[index]["hash"] = chain.entry_hash(entries[index])
    entries[index + 1]["prev_hash"] = entries[index]["hash"]
    write_lines(data / "audit.jsonl", entries)
    bagit.Bag(str(bag)).save(manifests=True)
    result = run_verifier(data)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        f"audit seq {seq}: differs from the signed case seal"), result.stdout

    entries[index]["change"] = {"before": None, "after": {"edited": True}}  # not even rehashed
    write_lines(data / "audit.jsonl", entries)
    result = run_verifier(data)
    assert result.stdout.splitlines()[0] == f"audit seq {seq}: contents do not match its hash"


def test_a_redacted_log_without_its_seal_is_not_intact(runner, source, tmp_path):
    bag = tmp_path / "bag"
    export(runner, bag)
    (bag / "data" / "seal.json").unlink()
    result = run_verifier(bag / "data")
    assert result.returncode == 1
    assert "there is no case seal" in result.stdout


# ---- (d) the export is recorded, and holds nothing of other cases --------------------------------

def test_the_export_is_audited_and_leaks_nothing_of_other_cases(db, runner, source, tmp_path):
    case, other = source["case"], source["other"]
    bag = tmp_path / "bag"
    before = db.exec(select(sa.func.max(AuditEntry.seq))).one()
    db.commit()
    export(runner, bag)

    added = db.exec(select(AuditEntry).where(AuditEntry.seq > before)
                    .order_by(AuditEntry.seq)).all()
    exports = [e for e in added if e.action == "export"]
    assert len(exports) == 1
    assert (exports[0].entity, exports[0].entity_id) == ("case", REF)
    events = db.exec(select(CustodyEvent).where(CustodyEvent.action == "exported",
                                                CustodyEvent.purpose.contains("ihl export"))
                     ).all()
    items = records(bag)["evidence.json"]
    everything = evidence_services.EvidenceFilter()
    assert sorted(e.evidence_id for e in events) == sorted(
        i.id for i in evidence_services.search_evidence(db, case, everything, limit=100)[0])
    assert len(events) == len(items) == 4
    assert {e.action for e in added} == {"custody_exported", "export"}

    text = "".join(p.read_text(errors="replace") for p in (bag / "data").rglob("*")
                   if p.is_file() and p.name != "verify_audit.py")
    assert OTHER_REF not in text
    assert OTHER_SECRET not in text
    assert "Other report" not in text
    entries = read_lines(bag / "data" / "audit.jsonl")
    assert [e["seq"] for e in entries] == list(range(1, entries[-1]["seq"] + 1))
    for entry in entries:
        if entry.get("redacted"):
            assert set(entry) == {"seq", "prev_hash", "hash", "redacted"}
        else:
            assert entry["case_ref"] == REF
    assert entries[-1]["action"] == "export"
    other_entries = db.exec(select(AuditEntry.seq).where(AuditEntry.case_ref == other.ref)).all()
    assert other_entries
    assert all(entries[s - 1].get("redacted") for s in other_entries)
    [checkpoint] = read_lines(bag / "data" / "checkpoints.jsonl")
    assert checkpoint["seq"] == entries[-1]["seq"]


def test_an_export_that_fails_while_writing_leaves_nothing(db, runner, source, tmp_path,
                                                          monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bagit, "make_bag", broken)
    before = db.exec(select(sa.func.max(AuditEntry.seq))).one()
    db.commit()
    bag = tmp_path / "bag"
    result = runner.invoke(args=["export", REF, "-o", str(bag)])
    one_line_error(result, "nothing was exported")
    assert not bag.exists()
    assert db.exec(select(sa.func.max(AuditEntry.seq))).one() == before


# ---- (e) refusals --------------------------------------------------------------------------------

def test_export_refusals(db, runner, source, tmp_path):
    before = db.exec(select(sa.func.max(AuditEntry.seq))).one()
    db.commit()
    missing = tmp_path / "missing"
    one_line_error(runner.invoke(args=["export", "NO-SUCH-1", "-o", str(missing)]),
                   "No case NO-SUCH-1.")
    assert not missing.exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    one_line_error(runner.invoke(args=["export", REF, "-o", str(busy)]),
                   "already exists and is not an empty folder")
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    assert db.exec(select(sa.func.max(AuditEntry.seq))).one() == before


def test_import_refusals(app, runner, source, elsewhere, tmp_path):
    bag = tmp_path / "bag"
    export(runner, bag)
    before = row_counts(app)
    one_line_error(import_into(app, bag), f"A case {REF} already exists here")
    one_line_error(app.test_cli_runner().invoke(args=["import", str(bag), "--public-key",
                                                      "00" * 32]),
                   "signed by another key")  # signed, but not by the key the importer expects
    assert row_counts(app) == before

    before, files = row_counts(elsewhere), stored(elsewhere)  # no catalogue loaded there
    one_line_error(import_into(elsewhere, bag), "lacks provision(s) rs-8-2-b-i")
    assert row_counts(elsewhere) == before
    assert stored(elsewhere) == files

    folder = tmp_path / "not-a-bag"
    folder.mkdir()
    (folder / "case.json").write_text("{}")
    key = key_of(app)
    one_line_error(import_into(elsewhere, folder, key), "is not a BagIt bag")
    one_line_error(import_into(elsewhere, tmp_path / "nowhere", key), "is not a BagIt bag")
    assert row_counts(elsewhere) == before


def test_the_seal_is_signed_over_what_it_lists(runner, source, tmp_path):
    bag = tmp_path / "bag"
    export(runner, bag)
    seal = json.loads((bag / "data" / "seal.json").read_text())
    digests = {name: hashlib.sha256((bag / "data" / name).read_bytes()).hexdigest()
               for name in RECORD_FILES}
    assert seal["files"] == digests
    assert seal["case_ref"] == REF
    seal["entries"] = seal["entries"][1:]  # a case entry dropped from the seal
    (bag / "data" / "seal.json").write_text(json.dumps(seal))
    result = run_verifier(bag / "data")
    assert result.returncode == 1
    assert "case seal: signature does not verify" in result.stdout


def test_the_verifier_in_the_bag_names_an_altered_or_missing_evidence_file(runner, source,
                                                                          tmp_path):
    bag = tmp_path / "bag"
    export(runner, bag)
    files = sorted((bag / "data" / "files").iterdir())
    altered, removed = files[0], files[1]
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0x01
    altered.write_bytes(bytes(data))
    removed.unlink()
    result = run_verifier(bag / "data")
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    assert f"files/{altered.name}: content does not match its name (sha256 " in result.stdout
    assert f"files/{removed.name}: missing, but the bag's manifest lists it" in lines
    assert "intact" not in result.stdout


# ---- (f) a bag is held to its seal: nothing more, nothing less -----------------------------------

def test_a_bag_log_that_does_not_end_at_its_seal_or_strays_from_it_is_not_intact(runner, source,
                                                                                tmp_path):
    bag = tmp_path / "bag"
    export(runner, bag)
    data = bag / "data"
    genuine = read_lines(data / "audit.jsonl")
    whole = next(i for i, e in enumerate(genuine) if not e.get("redacted"))
    stub = next(i for i, e in enumerate(genuine) if e.get("redacted"))

    def verdict(entries) -> str:
        write_lines(data / "audit.jsonl", entries)
        result = run_verifier(data)
        assert (result.returncode, result.stderr) == (1, ""), result.stdout
        assert "intact" not in result.stdout
        return result.stdout

    last = genuine[-1]
    longer = [*genuine, {**last, "seq": last["seq"] + 1, "prev_hash": last["hash"]}]
    longer[-1]["hash"] = chain.entry_hash(longer[-1])
    assert (f"audit log: ends at seq {last['seq'] + 1}, but the case seal was signed for a bag "
            f"ending at seq {last['seq']}") in verdict(longer)
    hidden = [dict(e) for e in genuine]  # a case entry passed off as another case's
    hidden[whole] = {k: hidden[whole][k] for k in ("seq", "prev_hash", "hash")} | {
        "redacted": True}
    assert (f"audit seq {whole + 1}: redacted, but the case seal lists it as an entry of case "
            f"{REF}") in verdict(hidden)
    shown = [dict(e) for e in genuine]  # a stub made whole, with a case ref of the bag's case
    shown[stub] = {"seq": stub + 1, "prev_hash": shown[stub]["prev_hash"], "case_ref": REF,
                   "actor": "mallory"}
    shown[stub]["hash"] = chain.entry_hash(shown[stub])
    assert f"audit seq {stub + 1}: not listed in the case seal" in verdict(shown)
    other = [dict(e) for e in genuine]  # or with another case's ref
    other[stub] = {**shown[stub], "case_ref": OTHER_REF}
    other[stub]["hash"] = chain.entry_hash(other[stub])
    assert f"audit seq {stub + 1}: an entry not of case {REF}" in verdict(other)


# ---- (g) import trusts only what it can vouch for ------------------------------------------------

MALLORY = Ed25519PrivateKey.generate()


def resign(bag: Path, key=MALLORY) -> str:
    """The bag signed again with `key` after its records were changed, as anyone can: seal and
    checkpoint re-signed, public_key.txt and the manifests rewritten. Returns the key (hex)."""
    data, public = bag / "data", public_key_hex(key)
    [checkpoint] = read_lines(data / "checkpoints.jsonl")
    checkpoint.update(public_key=public, signature=key.sign(checkpoint_message(checkpoint)).hex())
    write_lines(data / "checkpoints.jsonl", [checkpoint])
    seal = json.loads((data / "seal.json").read_text())
    seal["files"] = {name: hashlib.sha256((data / name).read_bytes()).hexdigest()
                     for name in seal["files"]}
    seal.update(public_key=public, signature=key.sign(seal_message(seal)).hex())
    (data / "seal.json").write_text(json.dumps(seal))
    (data / "public_key.txt").write_text(public + "\n")
    bagit.Bag(str(bag)).save(manifests=True)
    return public


def rewrite_records(bag: Path, name: str, change) -> None:
    path = bag / "data" / name
    path.write_text(json.dumps(change(json.loads(path.read_text()))))


@pytest.fixture
def catalogued(elsewhere):
    with session_of(elsewhere) as session:
        load_catalogue(session)
    return elsewhere


def test_import_needs_a_key_given_or_the_bag_trusted_out_loud(app, runner, source, catalogued,
                                                            tmp_path):
    bag = tmp_path / "bag"
    export(runner, bag)
    before = row_counts(catalogued)
    result = catalogued.test_cli_runner().invoke(args=["import", str(bag)])
    assert result.exit_code == 2
    assert "Error: Give the exporting instance's public key: --public-key HEX" in result.output
    assert "Traceback" not in result.output
    result = catalogued.test_cli_runner().invoke(args=["import", str(bag), "--public-key", "zz"])
    assert result.exit_code == 2
    assert "give the 32-byte Ed25519 key as 64 hex digits" in result.output
    assert row_counts(catalogued) == before

    with session_of(catalogued) as session:  # lena has an account here
        make_user(session, "legal", email="lena@example.org")
    before = row_counts(catalogued)
    mallory = resign(bag)  # self-signed: refused against the source's key …
    one_line_error(import_into(catalogued, bag, key_of(app)), "case seal: signed by another key")
    assert row_counts(catalogued) == before
    result = catalogued.test_cli_runner().invoke(  # … and accepted only when told, out loud
        args=["import", str(bag), "--trust-bag-key"])
    assert result.exit_code == 0, result.output
    assert (f"Warning: trusting the key the bag names ({mallory}); anyone can sign a bag with a "
            "key of their own.") in result.output
    assert ("Members not added, the bag's own key being trusted (add them with the case's "
            "members page if they should have access): lena@example.org") in result.output
    with session_of(catalogued) as session:
        assert session.exec(select(sa.func.count()).select_from(CaseMember)).one() == 0
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "import",
                                                      AuditEntry.entity == "case")).one()
        source_of = json.loads(entry.change)["after"]["imported_from"]
        assert (source_of["public_key"], source_of["key_trusted"]) == (
            mallory, "the bag's own key (--trust-bag-key)")


@pytest.mark.parametrize("name, change, expected", [
    ("evidence.json", lambda items: [{**items[1], "ref": f"{OTHER_REF}-E0002"}, *items[2:]],
     f"names evidence {OTHER_REF}-E0002, which is not a ref of case {REF}"),
    ("evidence.json", lambda items: [{**items[1], "ref": f"{REF}-E0099"}, *items[2:]],
     f"names evidence {REF}-E0099, beyond the case's count of evidence records"),
    ("incidents.json", lambda incidents: [{**incidents[0], "ref": f"{REF}X-I001"}],
     f"names incident {REF}X-I001, which is not a ref of case {REF}"),
    ("dossiers.json", lambda dossiers: [{**dossiers[0], "ref": f"{OTHER_REF}-D001"}],
     f"names dossier {OTHER_REF}-D001, which is not a ref of case {REF}"),
    ("qualifications.json", lambda qs: [{**qs[0], "incident": f"{OTHER_REF}-I001"}],
     f"names incident {OTHER_REF}-I001, which is not a ref of case {REF}"),
])
def test_a_bag_naming_refs_of_another_case_is_refused(runner, source, catalogued, tmp_path,
                                                      name, change, expected):
    bag = tmp_path / "bag"
    export(runner, bag)
    rewrite_records(bag, name, change)
    key = resign(bag)
    before, files = row_counts(catalogued), stored(catalogued)
    one_line_error(import_into(catalogued, bag, key), expected)
    assert row_counts(catalogued) == before
    assert stored(catalogued) == files


def confidential_file_elsewhere(application, data: bytes) -> str:
    """Another case on the importing instance, with a confidential file; its SHA-256."""
    with session_of(application) as session:
        owner = make_user(session, "investigator", email="owner@example.org")
        case = make_case(session, owner, ref="SECRET-001")
        item = make_evidence(session, case, owner, application.extensions["ihl_store"],
                             data=data, title="Confidential statement",
                             sensitivity="confidential")
        return item.sha256


def test_a_symlink_in_the_payload_cannot_pull_in_another_cases_file(app, runner, source,
                                                                   catalogued, tmp_path):
    root = catalogued.extensions["ihl_store"].root
    bag = root.with_name(root.name[:4])  # "evid": the store's path begins with the bag's
    export(runner, bag)
    sha256 = source["photo"].sha256
    payload = bag / "data" / "files" / sha256
    secret = confidential_file_elsewhere(catalogued, payload.read_bytes())
    assert secret == sha256
    payload.unlink()  # the bag's file replaced by a link to the other case's stored file
    payload.symlink_to(catalogued.extensions["ihl_store"].path_for(sha256))
    bagit.Bag(str(bag)).validate(fast=False)  # bagit's check of paths is a string prefix
    before = row_counts(catalogued)
    one_line_error(import_into(catalogued, bag, key_of(app)),
                   f"The bag's data/files/{sha256} is a symbolic link")
    assert row_counts(catalogued) == before


def test_hard_links_and_fifos_in_the_payload_are_refused(app, runner, source, catalogued,
                                                        tmp_path):
    bag = tmp_path / "bag"
    export(runner, bag)
    payload = bag / "data" / "files" / source["photo"].sha256
    outside = tmp_path / "outside"
    outside.hardlink_to(payload)
    before = row_counts(catalogued)
    one_line_error(import_into(catalogued, bag, key_of(app)),
                   f"data/files/{payload.name} is a file with 1 other hard link(s)")
    outside.unlink()
    os.mkfifo(bag / "data" / "pipe")  # bagit would wait on it forever
    one_line_error(import_into(catalogued, bag, key_of(app)),
                   "data/pipe is not a regular file (a device, FIFO or socket)")
    assert row_counts(catalogued) == before


@pytest.mark.parametrize("name, text, expected", [
    ("incidents.json", "[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
    ("incidents.json", "[" * 65 + "]" * 65, "nested deeper than 64 levels"),
    ("case.json", '{"format": "x", "format": "ihl_docs case export 1"}',
     'data/case.json: the key "format" appears twice'),
    ("dossiers.json", "[NaN]", "data/dossiers.json: NaN is not a JSON number"),
    ("case.json", '{"format": "ihl_docs case export 1", "case": []}',
     "The bag's data/case.json is not a case export"),
    ("qualifications.json", "[1]", "The bag's qualifications.json is malformed (a ref)"),
    ("qualifications.json", '[{"incident": "NK-2020-001-I001", "findings": []}]',
     "The bag's qualifications.json is malformed; nothing was imported."),
])
def test_deep_or_crafted_json_in_a_bag_is_refused_with_a_message(runner, source, catalogued,
                                                                 tmp_path, name, text,
                                                                 expected):
    bag = tmp_path / "bag"
    export(runner, bag)
    (bag / "data" / name).write_text(text)
    key = resign(bag)
    before = row_counts(catalogued)
    result = import_into(catalogued, bag, key)
    one_line_error(result, expected)
    assert "Traceback" not in result.output
    assert row_counts(catalogued) == before


def test_authors_are_recorded_as_at_source_never_given_to_accounts_here(runner, source,
                                                                       catalogued, tmp_path):
    with session_of(catalogued) as session:  # ivan has an account here; lena does not
        make_user(session, "investigator", email="ivan@example.org", name="Ivan here")
        users = session.exec(select(sa.func.count()).select_from(User)).one()
    bag = tmp_path / "bag"
    export(runner, bag)
    result = import_into(catalogued, bag)
    assert result.exit_code == 0, result.output
    assert ("Authors named in the bag, recorded as at source in the import's audit entries, not "
            "attributed to accounts here: ivan@example.org, lena@example.org (no account here)"
            ) in result.output
    with session_of(catalogued) as session:
        assert session.exec(select(sa.func.count()).select_from(User)).one() == users
        incident = session.exec(select(Incident).where(Incident.ref == f"{REF}-I001")).one()
        assert incident.created_by_id is None
        entry = session.exec(select(AuditEntry).where(AuditEntry.entity == "incident",
                                                      AuditEntry.entity_id == incident.ref)).one()
        assert json.loads(entry.change)["after"]["at_source"] == ["ivan@example.org"]
        qualification = session.exec(select(AuditEntry).where(
            AuditEntry.entity == "qualification")).one()
        assert json.loads(qualification.change)["after"]["at_source"] == ["lena@example.org"]
