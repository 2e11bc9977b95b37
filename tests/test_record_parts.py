"""A new record type joins case exports by registering one record part: its file goes into the
bag and under the seal, and `ihl import` restores it, with its audit entries, on another
instance that knows the part."""

import json

from sqlmodel import select

from ihl_docs.core.audit.signing import load_or_create_key, public_key_hex
from ihl_docs.core.case_records import RecordPart, record_parts, register_record_part
from ihl_docs.core.db import open_session
from ihl_docs.core.models import AuditEntry, Incident
from tests.builders import make_case, make_incident, make_user


def _collect(ctx):
    return [{"case": ctx.case.ref, "note": f"{len(ctx.rows(Incident))} incident(s)"}]


def _restore(ctx, records):
    for note in records:
        ctx.record("note", f"{ctx.case.ref}:note", note)
        ctx.count("notes")


NOTES = RecordPart("notes.json", _collect, _restore)


def key_of(application) -> str:
    return public_key_hex(load_or_create_key(application.config["SIGNING_KEY"]))


def _exported(app, db, runner, tmp_path):
    user = make_user(db, "investigator")
    case = make_case(db, user, ref="NP-2024-001")
    make_incident(db, case, user)
    db.commit()
    out = tmp_path / "bag"
    result = runner.invoke(args=["export", case.ref, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_features_register_the_record_files_in_order(app):
    assert [part.name for part in record_parts(app)] == [
        "case.json", "incidents.json", "evidence.json", "qualifications.json",
        "protected_terms.json", "dossiers.json"]


def test_a_registered_part_is_exported_sealed_and_restored(app, db, runner, tmp_path,
                                                           elsewhere):
    register_record_part(app, NOTES)
    register_record_part(elsewhere, NOTES)
    bag = _exported(app, db, runner, tmp_path)
    assert json.loads((bag / "data" / "notes.json").read_text()) == [
        {"case": "NP-2024-001", "note": "1 incident(s)"}]
    assert "notes.json" in json.loads((bag / "data" / "seal.json").read_text())["files"]
    result = elsewhere.test_cli_runner().invoke(args=["import", str(bag), "--public-key",
                                                      key_of(app)])
    assert result.exit_code == 0, result.output
    assert "1 notes" in result.output
    with open_session(elsewhere.extensions["ihl_engine"], write=False) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.entity == "note")).one()
    assert entry.action == "import"
    assert entry.entity_id == "NP-2024-001:note"


def test_a_bag_without_a_part_this_instance_expects_is_refused(app, db, runner, tmp_path,
                                                               elsewhere):
    register_record_part(elsewhere, NOTES)
    bag = _exported(app, db, runner, tmp_path)
    result = elsewhere.test_cli_runner().invoke(args=["import", str(bag), "--public-key",
                                                      key_of(app)])
    assert result.exit_code == 1
    assert "data/notes.json is missing" in result.output
