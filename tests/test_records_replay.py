"""Every record held against the audit log: someone with write access to the database changes,
adds or removes rows of each audited table without the application, and the verification names
the record, the field and the entry it differs from (and the rest stays as it was)."""

import json
import os
import subprocess
import sys
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import select

from ihl_docs.auth import services as auth
from ihl_docs.cases import services as case_services
from ihl_docs.core.audit.journal import Witnesses
from ihl_docs.core.audit.replay import projections
from ihl_docs.core.db import open_session
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import AuditEntry
from ihl_docs.evidence import services as evidence_services
from ihl_docs.provisions import services as provision_services
from ihl_docs.qualifications import services as qualification_services
from ihl_docs.verification import runs, verify_all
from tests.builders import (
    jpeg_with_exif,
    load_catalogue,
    make_case,
    make_evidence,
    make_incident,
    make_user,
    qualify,
)
from tests.database_support import PG_URL
from tests.dossier_support import make_dossier
from tests.tampering import sql


@pytest.fixture
def world(app, db, quick_renderer):
    """One of each audited kind of record, made through the services."""
    load_catalogue(db)
    store = app.extensions["ihl_store"]
    investigator, lawyer = make_user(db, "investigator"), make_user(db, "legal")
    admin, outsider = make_user(db, "admin"), make_user(db, "investigator")
    case, other_case = make_case(db, investigator), make_case(db, investigator)
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator, responsible_party="Group B")
    make_incident(db, other_case, investigator)  # a dossier covers at least one incident
    document = make_evidence(db, case, investigator, store, b"%PDF-1.4 " + os.urandom(64),
                             acquired_by="Field team")
    photo = make_evidence(db, case, investigator, store, jpeg_with_exif(), kind="photo",
                          title="Crater", original_filename="crater.jpg")
    other = make_evidence(db, other_case, investigator, store, b"%PDF-1.4 " + os.urandom(64))
    evidence_services.link_evidence(db, incident, document, "shows the crater",
                                    actor=investigator)
    db.commit()
    qualification = qualify(db, incident, lawyer)
    qualification_services.set_finding(db, qualification, 1, "supported", "seen on site",
                                       [(document.ref, "supports")], actor=lawyer)
    db.commit()
    rule = provision_services.add_rule(db, incident_type="rocket", weapon_keyword="",
                                       requires_civilian_objects=False,
                                       provision_key="rs-8-2-b-i", reason="test", actor=lawyer)
    auth.create_token(db, investigator.email, name="script", actor="test")
    db.commit()
    dossier = make_dossier(db, app, case, lawyer)
    other_dossier = make_dossier(db, app, other_case, admin)
    return {"case": case, "other_case": other_case, "incident": incident,
            "document": document, "photo": photo, "other": other, "lawyer": lawyer,
            "investigator": investigator, "admin": admin, "outsider": outsider,
            "qualification": qualification, "rule": rule, "dossier": dossier,
            "other_dossier": other_dossier}


def problems(app, db) -> list[str]:
    db.expire_all()
    db.commit()
    report = verify_all(db, app.extensions["ihl_store"], kinds=projections(app),
                        witnesses=Witnesses.from_config(app.config))
    db.commit()
    return report["problems"]


def last_seq(db, entity, entity_id) -> int:
    seq = db.exec(select(sa.func.max(AuditEntry.seq)).where(
        AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)).one()
    db.commit()
    return seq


def value(db, statement, **params):
    row = db.exec(sa.text(statement).bindparams(**params)).first()
    db.commit()
    return row[0]


def test_records_made_by_the_application_agree_with_the_log(app, db, world):
    assert problems(app, db) == []
    report = verify_all(db, app.extensions["ihl_store"], kinds=projections(app),
                        witnesses=Witnesses.from_config(app.config))
    # every kind was looked at: accounts, the catalogue, both cases' records
    assert report["records"] > 100 + 2 + 3 + 4


def _incident_title(db, w):
    sql(db, "UPDATE incident SET title = 'Nothing happened' WHERE ref = :r", r=w["incident"].ref)
    return (f"incident {w['incident'].ref}: title differs from audit seq "
            f"{last_seq(db, 'incident', w['incident'].ref)}")


def _case_party(db, w):
    sql(db, "UPDATE party SET name = 'Group C' WHERE name = 'Group B' AND case_id = :c",
        c=w["case"].id)
    return f"case {w['case'].ref}: parties differs from audit seq"


def _member_inserted(db, w):
    sql(db, "INSERT INTO case_member (case_id, user_id, added_at) VALUES (:c, :u, :t)",
        c=w["case"].id, u=w["outsider"].id, t=utcnow())
    return (f"case member {w['outsider'].email} on {w['case'].ref} has no audit entry: it was "
            "added outside the application")


def _member_removed(db, w):
    sql(db, "DELETE FROM case_member WHERE case_id = :c AND user_id = :u", c=w["case"].id,
        u=w["lawyer"].id)
    return (f"case member {w['lawyer'].email} on {w['case'].ref}: the record that audit seq "
            f"{last_seq(db, 'case_member', w['case'].ref + ':' + w['lawyer'].email)} created is "
            "no longer in the database")


def _role_raised(db, w):
    sql(db, "UPDATE \"user\" SET role = 'admin' WHERE id = :u", u=w["outsider"].id)
    return f"account {w['outsider'].email}: role differs from audit seq"


def _password_replaced(db, w):
    known = value(db, "SELECT password_hash FROM \"user\" WHERE id = :u", u=w["outsider"].id)
    sql(db, "UPDATE \"user\" SET password_hash = :h WHERE id = :u", h=known,
        u=w["admin"].id)
    return f"account {w['admin'].email}: password_hash_sha256 differs from audit seq"


def _token_inserted(db, w):
    sql(db, "INSERT INTO api_token (user_id, name, token_hash, created_at) VALUES "
            "(:u, 'mine', :h, '2026-01-01 00:00:00.000000')", u=w["admin"].id, h="ab" * 32)
    return "has no audit entry"


def _evidence_sensitivity(db, w):
    sql(db, "UPDATE evidence SET sensitivity = 'public' WHERE ref = :r", r=w["photo"].ref)
    return f"evidence {w['photo'].ref}: sensitivity differs from audit seq"


def _evidence_sha_repointed(db, w):
    sql(db, "UPDATE evidence SET sha256 = :s WHERE ref = :r", s=w["other"].sha256,
        r=w["document"].ref)
    return f"evidence {w['document'].ref}: sha256 differs from audit seq"


def _thumbnail_repointed(db, w):
    sql(db, "UPDATE evidence_derivative SET sha256 = :s WHERE evidence_id = :e",
        s=w["other"].sha256, e=w["photo"].id)
    return f"evidence {w['photo'].ref}: derivatives differs from audit seq"


def _link_inserted(db, w):
    sql(db, "INSERT INTO incident_evidence (incident_id, evidence_id, relevance, linked_at) "
            "VALUES (:i, :e, 'planted', '2026-01-01 00:00:00.000000')", i=w["incident"].id,
        e=w["photo"].id)
    return f"link of {w['photo'].ref} to {w['incident'].ref} has no audit entry"


def _qualification_assessment(db, w):
    sql(db, "UPDATE qualification SET assessment = 'rejected' WHERE id = :q",
        q=w["qualification"].id)
    return f"qualification #{w['qualification'].id}: assessment differs from audit seq"


def _finding_status(db, w):
    sql(db, "UPDATE element_finding SET status = 'not_met' WHERE qualification_id = :q",
        q=w["qualification"].id)
    return f"qualification #{w['qualification'].id}: elements differs from audit seq"


def _citation_removed(db, w):
    sql(db, "DELETE FROM element_evidence WHERE evidence_id = :e", e=w["document"].id)
    return f"qualification #{w['qualification'].id}: elements differs from audit seq"


def _dossier_moved(db, w):
    sql(db, "UPDATE dossier SET case_id = :c WHERE ref = :r", c=w["case"].id,
        r=w["other_dossier"].ref)
    return f"dossier {w['other_dossier'].ref}: case_id differs from audit seq"


def _dossier_sha_repointed(db, w):
    sql(db, "UPDATE dossier SET sha256 = :s, size = :n WHERE ref = :r",
        s=w["other_dossier"].sha256, n=w["other_dossier"].size, r=w["dossier"].ref)
    return f"dossier {w['dossier'].ref}: sha256 differs from audit seq"


def _case_status(db, w):
    sql(db, "UPDATE \"case\" SET status = 'closed' WHERE id = :c", c=w["case"].id)
    return f"case {w['case'].ref}: status differs from audit seq"


def _custody_note(db, w):
    sql(db, "UPDATE custody_event SET notes = 'backdated' WHERE evidence_id = :e",
        e=w["document"].id)
    return "notes differs from audit seq"


def _provision_text(db, w):
    sql(db, "UPDATE provision_element SET text = 'anything' WHERE provision_id = "
            "(SELECT id FROM provision WHERE key = 'rs-8-2-b-i') AND number = 1")
    return "provision rs-8-2-b-i: elements differs from audit seq"


def _treaty_status(db, w):
    sql(db, "UPDATE instrument_party SET status = 'not_party' WHERE state = 'UKR' AND "
            "instrument_id = (SELECT id FROM instrument WHERE short_name = 'Rome Statute')")
    return "treaty participation Rome Statute:UKR: status differs from audit seq"


def _icc_period(db, w):
    sql(db, "UPDATE icc_basis SET period_to = :d WHERE key = 'declaration:UKR:2015-09-08'",
        d=date(2030, 12, 31))
    return "ICC jurisdiction fact declaration:UKR:2015-09-08: period_to differs from audit seq"


def _rule_retired(db, w):
    sql(db, "UPDATE suggestion_rule SET active = :f WHERE id = :i", f=False, i=w["rule"].id)
    return f"suggestion rule #{w['rule'].id}: active differs from audit seq"


def _account_reactivated(db, w):
    sql(db, "UPDATE \"user\" SET is_active = :f WHERE id = :u", f=False, u=w["lawyer"].id)
    return f"account {w['lawyer'].email}: is_active differs from audit seq"


def _json_damaged(db, w):
    sql(db, "UPDATE incident SET civilian_objects = '[\"market\"' WHERE ref = :r",
        r=w["incident"].ref)
    return (f"incident {w['incident'].ref}: the stored civilian_objects cannot be read "
            "('[\"market\"'); audit seq")


TAMPERING = {
    "an incident's title": _incident_title,
    "a party of a case renamed": _case_party,
    "a case closed": _case_status,
    "a membership inserted": _member_inserted,
    "a membership removed": _member_removed,
    "a role raised": _role_raised,
    "a password hash replaced": _password_replaced,
    "an API token inserted": _token_inserted,
    "an account deactivated": _account_reactivated,
    "an item made public": _evidence_sensitivity,
    "an item's sha256 pointed at another stored file": _evidence_sha_repointed,
    "a thumbnail pointed at another stored file": _thumbnail_repointed,
    "an incident link inserted": _link_inserted,
    "a custody note rewritten": _custody_note,
    "a qualification's assessment": _qualification_assessment,
    "an element finding's status": _finding_status,
    "a citation removed": _citation_removed,
    "a dossier handed to another case": _dossier_moved,
    "a dossier's sha256 pointed at another stored PDF": _dossier_sha_repointed,
    "an element of a provision rewritten": _provision_text,
    "a state's treaty status": _treaty_status,
    "an ICC declaration's period": _icc_period,
    "a suggestion rule retired": _rule_retired,
    "a list stored as JSON damaged": _json_damaged,
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_a_row_changed_outside_the_application_is_named(case, app, db, world, runner):
    expected = TAMPERING[case](db, world)
    found = problems(app, db)
    assert any(expected in p for p in found), found
    # the chain itself is intact: only the replay sees the change
    assert not any(p.startswith("audit seq") for p in found), found
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL refuses a timestamp that is not one")
def test_a_damaged_timestamp_is_a_finding_not_a_crash(app, db, world, runner):
    stored = value(db, "SELECT occurred_from FROM incident WHERE ref = :r",
                   r=world["incident"].ref)
    sql(db, "UPDATE incident SET occurred_from = :t WHERE ref = :r", t=stored + " ",
        r=world["incident"].ref)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1, result.output
    assert (f"incident {world['incident'].ref}: the stored occurred_from cannot be read "
            f"({stored + ' '!r}); audit seq") in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL refuses a timestamp that is not one")
def test_a_damaged_audit_timestamp_names_its_seq(app, db, world, runner):
    seq = last_seq(db, "incident", world["incident"].ref)
    stored = value(db, "SELECT occurred_at FROM audit_entry WHERE seq = :s", s=seq)
    sql(db, "UPDATE audit_entry SET occurred_at = :t WHERE seq = :s", t=stored + " ", s=seq)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1, result.output
    assert f"audit seq {seq}: " in result.output
    assert "cannot be read" in result.output
    assert "Traceback" not in result.output


def test_a_run_of_one_case_holds_that_case_only(app, db, world, auditor_run):
    _incident_title(db, world)
    _evidence_sensitivity(db, world)  # in the same case
    sql(db, "UPDATE evidence SET title = 'x' WHERE ref = :r", r=world["other"].ref)
    run, findings = auditor_run(world["case"])
    messages = [f.message for f in findings]
    assert {f.subject for f in findings} == {world["incident"].ref, world["photo"].ref}, messages
    assert all(f.kind == "record" for f in findings)
    assert run.records_checked >= 1 + 1 + 2 + 3 + 1  # case, members, incident, items …
    run, findings = auditor_run(None)
    assert world["other"].ref in {f.subject for f in findings}


@pytest.fixture
def auditor_run(app, db):
    auditor = make_user(db, "auditor")

    def start(case):
        run = runs.request_run(db, actor=auditor, case=case)
        db.commit()
        runs.run_verification(app.extensions["ihl_engine"], app.extensions["ihl_store"],
                              run.ref, kinds=projections(app),
                              witnesses=Witnesses.from_config(app.config))
        with open_session(app.extensions["ihl_engine"], write=False) as session:
            stored = runs.run_by_ref(session, run.ref)
            findings = runs.findings_of(session, stored)
            session.expunge_all()
            return stored, findings

    return start


def test_a_forged_acknowledgement_and_a_removed_finding_are_named(app, db, world, auditor_run):
    store = app.extensions["ihl_store"]
    path = store.path_for(world["other"].sha256)
    original = path.read_bytes()
    os.chmod(path, 0o644)
    path.write_bytes(b"altered")
    run, findings = auditor_run(None)
    path.write_bytes(original)
    assert len(findings) == 1
    sql(db, "UPDATE verification_finding SET acknowledged_at = :t, acknowledged_by = 'x', "
            "acknowledgement = 'all fine' WHERE run_id = :r", t=utcnow(),
        r=run.id)
    found = problems(app, db)
    assert f"finding {run.ref}#1 has no audit entry: it was added outside the application" \
        in found, found
    sql(db, "DELETE FROM verification_finding WHERE run_id = :r", r=run.id)
    found = problems(app, db)
    assert any(f"verification {run.ref}: findings differs from audit seq" in p
               for p in found), found


def test_the_api_and_a_run_name_the_same_difference(app, db, world, client, auditor_run):
    expected = _role_raised(db, world)
    auditor = make_user(db, "auditor")
    token = auth.create_token(db, auditor.email, actor="test")
    db.commit()
    answer = client.post("/api/v1/verify", headers={"Authorization": f"Bearer {token}"})
    body = answer.get_json()
    assert answer.status_code == 200, body
    assert body["ok"] is False
    assert any(expected in p for p in body["problems"]), body
    assert body["records"] > 0
    run, findings = auditor_run(None)
    assert any(expected in f.message for f in findings)
    entry = json.loads(db.exec(select(AuditEntry.change).where(
        AuditEntry.entity == "verification_run", AuditEntry.entity_id == run.ref,
        AuditEntry.action == "verify")).one())
    db.commit()
    assert any(expected in m for m in entry["after"]["findings"])


def _headers(db, user) -> dict:
    token = auth.create_token(db, user.email, actor="test")
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_an_item_pointed_at_another_file_is_not_served_as_matching(app, db, world, client):
    headers = _headers(db, world["investigator"])
    url = f"/api/v1/evidence/{world['document'].ref}/content"
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    first.close()
    _evidence_sha_repointed(db, world)
    answer = client.get(url, headers=headers)
    assert answer.status_code == 409
    body = answer.get_json()
    assert "differs from its audit log (sha256)" in json.dumps(body), body
    # nothing was recorded as an access that matched
    matched = value(db, "SELECT count(*) FROM custody_event WHERE evidence_id = :e AND "
                        "action = 'accessed'", e=world["document"].id)
    assert matched == 1


def test_a_dossier_moved_to_another_case_is_not_handed_to_its_lawyer(app, db, world, client):
    _dossier_moved(db, world)
    headers = _headers(db, world["lawyer"])  # a member of the case it was moved into
    answer = client.get(f"/api/v1/dossiers/{world['other_dossier'].ref}/pdf", headers=headers)
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert "differs from its audit log (case_id)" in answer.get_data(as_text=True)
    own = client.get(f"/api/v1/dossiers/{world['dossier'].ref}/pdf", headers=headers)
    assert own.status_code == 200
    own.close()


def test_a_membership_slipped_into_the_database_grants_nothing(app, db, world, client):
    headers = _headers(db, world["outsider"])
    url = f"/api/v1/cases/{world['case'].ref}"
    assert client.get(url, headers=headers).status_code == 404
    _member_inserted(db, world)
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(url, headers=_headers(db, world["lawyer"])).status_code == 200


def test_an_account_changed_in_the_database_is_refused(app, db, world, client):
    outsider_headers = _headers(db, world["outsider"])
    assert client.get("/api/v1/cases", headers=outsider_headers).status_code == 200
    _role_raised(db, world)
    assert client.get("/api/v1/cases", headers=outsider_headers).status_code == 401
    # the administrator's password hash replaced by one whose password is known: refused
    _password_replaced(db, world)
    answer = client.post("/login", data={"email": world["admin"].email,
                                         "password": "correct horse battery staple"})
    assert answer.status_code == 401  # the form again, with its error: not logged in
    home = client.get("/")
    assert home.status_code == 302
    assert "/login" in home.headers["Location"]


def test_an_api_token_slipped_into_the_database_is_refused(app, db, world, client):
    token = "planted-token-" + "x" * 30
    sql(db, "INSERT INTO api_token (user_id, name, token_hash, created_at) VALUES "
            "(:u, 'mine', :h, '2026-01-01 00:00:00.000000')", u=world["admin"].id,
        h=auth._digest(token))
    answer = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


# Tables whose rows are not records the log vouches for, and why. Every other table must be held
# by a registered kind: a new feature's table that no kind holds fails this test.
NOT_REPLAYED = {
    "audit_entry": "the log itself: its chain and signed checkpoints are checked instead",
    "audit_checkpoint": "signed checkpoints, checked by their signatures and the witness journal",
    "login_session": "a session, not a record; what is done through one is audited by account",
    "login_throttle": "failed log-in counters, not a record",
}


def test_every_table_is_held_against_the_log_or_said_not_to_be(app):
    from sqlmodel import SQLModel

    held = {table for kind in projections(app) for table in kind.tables}
    tables = set(SQLModel.metadata.tables)
    assert tables - held - set(NOT_REPLAYED) == set()
    assert set(NOT_REPLAYED) <= tables
    assert held <= tables
    assert not held & set(NOT_REPLAYED)
    entities = [kind.entity for kind in projections(app)]
    assert len(entities) == len(set(entities))


@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL refuses a timestamp that is not one")
def test_a_damaged_audit_timestamp_is_exported_as_stored_and_named_offline(db, runner, tmp_path):
    investigator = make_user(db, "investigator")
    make_case(db, investigator)
    stored = value(db, "SELECT occurred_at FROM audit_entry WHERE seq = 2")
    sql(db, "UPDATE audit_entry SET occurred_at = :t WHERE seq = 2", t=stored + " ")
    out = tmp_path / "export"
    result = runner.invoke(args=["audit", "export", "-o", str(out)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = (out / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[1])["occurred_at"] == stored + " "
    offline = subprocess.run([sys.executable, str(out / "verify_audit.py"), str(out)],
                             capture_output=True, text=True, timeout=60)
    assert offline.returncode == 1
    assert "audit seq 2" in offline.stdout
    assert "Traceback" not in offline.stdout + offline.stderr


@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL refuses a timestamp that is not one")
def test_a_damaged_checkpoint_time_is_a_finding_not_a_crash(db, runner):
    investigator = make_user(db, "investigator")
    make_case(db, investigator)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    seq = value(db, "SELECT max(seq) FROM audit_checkpoint")
    sql(db, "UPDATE audit_checkpoint SET signed_at = signed_at || ' ' WHERE seq = :s", s=seq)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"seq {seq}" in result.output
