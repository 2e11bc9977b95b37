"""Checkpoints the database cannot take back: each signed checkpoint also written to a journal
outside the database (and to http witnesses), timestamped by an RFC 3161 authority; verification
holds the database's checkpoints and the log against the journal; no head is signed that does
not extend the journal. Tried as someone who can write the database would."""

import base64
import errno
import json
import logging
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from ihl_docs.core.audit import journal, timestamps
from ihl_docs.core.audit.checkpoints import (
    checkpoint_document,
    list_checkpoints,
    make_checkpoint,
    scheduled_checkpoint,
    sign_head,
)
from ihl_docs.core.audit.journal import Witnesses, journal_line, read_journal
from ihl_docs.core.audit.log import entry_document
from ihl_docs.core.audit.signing import load_or_create_key
from ihl_docs.core.audit.verify_audit import checkpoint_message
from ihl_docs.core.audit.witnesses import witness_problems
from ihl_docs.core.config import ConfigurationError, load_config
from ihl_docs.core.errors import Conflict
from ihl_docs.core.models import AuditCheckpoint, AuditEntry
from ihl_docs.verification import runs
from tests.api_support import bearer, token_for
from tests.builders import make_incident, make_user, seed
from tests.tampering import rewrite_from, sql
from tests.witness_support import Loopback, keep, make_authority, refuse, timestamp_reply

ATTACK = "the log rewritten from seq 3, every later hash recomputed, the checkpoints deleted"


def journal_of(app) -> Path:
    return Path(app.config["CHECKPOINT_WITNESSES"][0])


def witnesses_of(app) -> Witnesses:
    return Witnesses.from_config(app.config)


def sign(app):
    return sign_head(app.extensions["ihl_engine"], app.config["SIGNING_KEY"], witnesses_of(app))


def problems(app, db) -> list[str]:
    db.commit()
    key = load_or_create_key(app.config["SIGNING_KEY"])
    from ihl_docs.core.audit.signing import public_key_hex

    found = witness_problems(db, app.config, public_key_hex(key))
    db.commit()
    return found


def rewrite_and_hide(db):
    """The attack: an entry edited, every later hash recomputed, the checkpoints deleted."""
    rewrite_from(db, 3)
    sql(db, "DELETE FROM audit_checkpoint")


@pytest.fixture(scope="session")
def authority(tmp_path_factory):
    """A throw-away CA and a TSA certificate it issued (extendedKeyUsage critical timeStamping)."""
    return make_authority(tmp_path_factory.mktemp("tsa"))


@pytest.fixture
def tsa(app, authority):
    """A time-stamping authority on loopback (`openssl ts -reply`), configured for the app."""
    server = Loopback(timestamp_reply(authority))
    app.config["TSA_URLS"] = [server.url]
    app.config["TSA_CA_FILE"] = str(authority / "ca.crt")
    yield server
    server.stop()


@pytest.fixture
def attacked(app, db, signed_log):
    """The signed, journalled log after the attack; the seq of the journalled checkpoint."""
    assert read_journal(journal_of(app)).checkpoints  # `ihl audit checkpoint` journalled it
    rewrite_and_hide(db)
    return signed_log


# --- the journal ------------------------------------------------------------------------------

def test_each_checkpoint_is_journalled_as_signed_in_a_file_only_the_service_reads(app, db):
    seed(db)
    first = sign(app)
    make_user(db, "legal")
    second = sign(app)
    path = journal_of(app)
    assert path == Path(app.instance_path) / "checkpoints.journal"
    assert path.stat().st_mode & 0o777 == 0o600
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {**checkpoint_document(c), "timestamp_token": None} for c in (first, second)]
    assert problems(app, db) == []


def test_the_rewrite_attack_passes_every_check_but_the_journal(app, db, attacked):
    from ihl_docs.core.audit.log import verify_chain

    db.expire_all()
    assert verify_chain(db)[1] == []  # the chain and the (no) checkpoints of the database hold
    found = problems(app, db)
    assert any(f"audit seq {attacked}: differs from signed checkpoint" in p
               and "checkpoint journal" in p for p in found), found
    assert any(f"audit checkpoint at seq {attacked} is in the checkpoint journal" in p
               and "no longer in the database" in p for p in found), found


def test_ihl_verify_names_the_attack_by_seq(runner, attacked):
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"audit seq {attacked}: differs from signed checkpoint" in result.output
    assert f"audit checkpoint at seq {attacked} is in the checkpoint journal" in result.output


def test_a_verification_run_names_the_attack_as_checkpoint_findings(app, db, attacked):
    auditor = make_user(db, "auditor")
    run = runs.request_run(db, actor=auditor)
    db.commit()
    runs.run_queued(app, run.ref)  # what the worker runs, outside any request
    db.expire_all()
    findings = db.exec(sa.text("SELECT kind, subject, message FROM verification_finding")).all()
    assert findings
    assert {kind for kind, _, _ in findings} == {"checkpoint"}, findings
    assert ("checkpoint", f"seq {attacked}") in [(k, s) for k, s, _ in findings]


def test_the_api_names_the_attack(client, db, attacked):
    headers = bearer(token_for(db, make_user(db, "auditor")))
    body = client.post("/api/v1/verify", headers=headers).get_json()
    assert body["ok"] is False
    assert any(f"audit checkpoint at seq {attacked} is in the checkpoint journal" in p
               for p in body["problems"]), body


def test_the_worker_never_signs_the_forged_head(app, db, attacked, caplog):
    engine, key = app.extensions["ihl_engine"], app.config["SIGNING_KEY"]
    with caplog.at_level(logging.ERROR, logger="ihl_docs.worker"):
        scheduled_checkpoint(engine, key, witnesses_of(app), 0)
    assert list_checkpoints(db) == []
    assert "does not extend the last journalled checkpoint" in caplog.text
    assert f"seq {attacked}" in caplog.text
    assert len(read_journal(journal_of(app)).checkpoints) == 1  # nothing added
    with pytest.raises(Conflict, match="does not extend the last journalled checkpoint"):
        make_checkpoint(db, load_or_create_key(key), witnesses_of(app))


def test_neither_command_signs_the_forged_head(app, db, runner, attacked, tmp_path):
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1
    assert "does not extend the last journalled checkpoint" in result.output
    case_ref = db.exec(select(AuditEntry.case_ref).where(AuditEntry.case_ref.is_not(None))
                       ).first()
    db.commit()
    result = runner.invoke(args=["export", case_ref, "-o", str(tmp_path / "bag")])
    assert result.exit_code == 1, result.output
    assert "does not extend the last journalled checkpoint" in result.output
    assert not (tmp_path / "bag").exists()
    assert list_checkpoints(db) == []


def test_a_log_cut_short_below_the_journalled_checkpoint_is_named(app, db, signed_log):
    sql(db, "DELETE FROM audit_checkpoint")
    sql(db, "DELETE FROM audit_entry WHERE seq > :s", s=signed_log - 2)
    found = problems(app, db)
    assert any(f"audit log truncated: checkpoint at seq {signed_log}, log ends at "
               f"{signed_log - 2}" in p for p in found), found
    with pytest.raises(Conflict, match="does not extend"):
        sign(app)


def test_a_journalled_checkpoint_deleted_from_the_database_is_named(app, db, signed_log):
    sql(db, "DELETE FROM audit_checkpoint WHERE seq = :s", s=signed_log)
    assert problems(app, db) == [
        f"audit checkpoint at seq {signed_log} is in the checkpoint journal {journal_of(app)} "
        "but no longer in the database: it was removed"]


def test_a_checkpoint_inserted_in_the_database_never_journalled_is_named(app, db, signed_log):
    key = load_or_create_key(app.config["SIGNING_KEY"])  # even with the real key
    sign(app)  # a second journalled checkpoint, at the head
    entry = db.get(AuditEntry, signed_log + 1)
    document = {"seq": entry.seq, "hash": entry.hash,
                "occurred_at": entry_document(entry)["occurred_at"]}
    db.add(AuditCheckpoint(seq=entry.seq, hash=entry.hash, occurred_at=entry.occurred_at,
                           public_key=checkpoint_document(list_checkpoints(db)[0])["public_key"],
                           signature=key.sign(checkpoint_message(document)).hex()))
    db.commit()
    found = problems(app, db)
    assert found == [f"audit checkpoint at seq {signed_log + 1} is in the database but not in "
                     f"the checkpoint journal {journal_of(app)}: it was never witnessed "
                     "(inserted in the database, or its witnessing failed)"]


def test_a_checkpoint_altered_in_the_database_is_named_with_the_fields(app, db, signed_log):
    sql(db, "UPDATE audit_checkpoint SET signed_at = occurred_at WHERE seq = :s", s=signed_log)
    [found] = problems(app, db)
    assert found.startswith(f"audit checkpoint at seq {signed_log} differs between the "
                            "database and the checkpoint journal")
    assert found.endswith("(signed_at)")


# --- the journal damaged: findings, never a traceback --------------------------------------------

def test_a_missing_journal_is_named(app, db, runner, signed_log):
    journal_of(app).unlink()
    assert problems(app, db) == [
        f"the checkpoint journal {journal_of(app)} is missing, though the database holds audit "
        f"checkpoints up to seq {signed_log}: it was removed, or emptied"]
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_an_emptied_journal_is_named(app, db, signed_log):
    journal_of(app).write_text("")
    assert problems(app, db) == [
        f"the checkpoint journal {journal_of(app)} is empty, though the database holds audit "
        f"checkpoints up to seq {signed_log}: it was removed, or emptied"]


def test_an_unreadable_journal_is_named_and_stops_signing(app, db, runner, signed_log):
    path = journal_of(app)
    path.unlink()
    path.mkdir()  # what no one can read as a file, even as root
    [found] = problems(app, db)
    assert found.startswith(f"audit checkpoint journal {path} cannot be read (")
    with pytest.raises(Conflict, match="cannot be read"):
        sign(app)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


GARBLED = {
    "not JSON": b"{not json",
    "a list": b"[1, 2]",
    "a field given twice": None,  # made from the real line below
    "a seq that is text": None,
    "a missing field": None,
    "not UTF-8": b"\xff\xfe{}",
    "too deep": b"[" * 100_000 + b"]" * 100_000,
    "NaN": None,
}


def garbled_lines(real: dict) -> dict[str, bytes]:
    lines = dict(GARBLED)
    text = json.dumps(real)
    lines["a field given twice"] = ('{"seq": 999, ' + text[1:]).encode()
    lines["a seq that is text"] = json.dumps({**real, "seq": "7"}).encode()
    lines["a missing field"] = json.dumps({k: v for k, v in real.items() if k != "hash"}).encode()
    lines["NaN"] = text.replace('"seq": ' + str(real["seq"]), '"seq": NaN').encode()
    return lines


def test_garbled_lines_are_named_by_line_and_the_rest_still_checked(app, db, runner, signed_log):
    path = journal_of(app)
    real = json.loads(path.read_text())
    lines = garbled_lines(real)
    with open(path, "ab") as f:
        for line in lines.values():
            f.write(line + b"\n")
    found = problems(app, db)
    assert [p.split(": ", 1)[0] for p in found] == [
        f"audit checkpoint journal {path}, line {number}" for number in range(2, 2 + len(lines))]
    assert all("not a checkpoint" in p or "too long" in p for p in found), found
    rewrite_and_hide(db)  # the good line still catches the attack
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"audit checkpoint at seq {signed_log} is in the checkpoint journal" in result.output


def test_a_line_cut_short_by_a_crash_garbles_only_itself(app, db, signed_log):
    path = journal_of(app)
    with open(path, "ab") as f:
        f.write(b'{"seq": 4, "hash": "ab')  # a write the machine did not finish
    make_user(db, "legal")
    checkpoint = sign(app)
    found = problems(app, db)
    assert found == [f"audit checkpoint journal {path}, line 2: not a checkpoint "
                     + found[0].split("not a checkpoint ", 1)[1]]
    assert read_journal(path).checkpoints[-1]["seq"] == checkpoint.seq


# --- the journal's own rules: what may and may not stop signing -----------------------------------

def test_a_journal_that_cannot_be_written_stops_the_checkpoint(app, db, monkeypatch):
    seed(db)

    def disk_full(path, line):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(journal, "append_line", disk_full)
    with pytest.raises(Conflict, match="No checkpoint journal could be written .*No space left"):
        sign(app)
    assert list_checkpoints(db) == []


def test_a_line_signed_by_another_key_cannot_stop_signing(app, db, signed_log):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ihl_docs.core.audit.signing import public_key_hex

    other = Ed25519PrivateKey.generate()
    document = {"seq": 2, "hash": "f" * 64, "occurred_at": "2026-01-01T00:00:00+00:00"}
    line = journal_line({**document, "signed_at": document["occurred_at"],
                         "public_key": public_key_hex(other),
                         "signature": other.sign(checkpoint_message(document)).hex()}, None)
    with open(journal_of(app), "a") as f:
        f.write(line + "\n")
    assert sign(app) is not None  # not this instance's key: it cannot stop the worker
    assert any("signed by another key" in p for p in problems(app, db))


def test_an_upgraded_instance_journals_its_last_checkpoint(app, db, signed_log):
    journal_of(app).unlink()  # checkpoints signed before there was a journal
    make_user(db, "legal")
    assert sign(app).seq == signed_log + 3
    assert problems(app, db) == []  # the older checkpoints were signed before the journal began
    journal_of(app).unlink()
    assert sign(app) is None  # the head is signed: nothing new, but the journal starts again
    assert [c["seq"] for c in read_journal(journal_of(app)).checkpoints] == [signed_log + 3]
    assert problems(app, db) == []


# --- several witnesses; http witnesses ---------------------------------------------------------

def test_every_journal_and_http_witness_gets_the_checkpoint(app, db, tmp_path):
    seed(db)
    witness = Loopback(keep)
    try:
        app.config["CHECKPOINT_WITNESSES"] = [str(tmp_path / "a.journal"), witness.url,
                                              str(tmp_path / "b" / "b.journal")]
        checkpoint = sign(app)
    finally:
        witness.stop()
    expected = journal_line(checkpoint_document(checkpoint), None)
    assert witness.received == [("application/json", expected.encode())]
    for name in ("a.journal", "b/b.journal"):
        assert (tmp_path / name).read_text() == expected + "\n"
    assert problems(app, db) == []
    (tmp_path / "b" / "b.journal").write_text("")
    assert problems(app, db) == [
        f"the checkpoint journal {tmp_path / 'b' / 'b.journal'} is empty, though the database "
        f"holds audit checkpoints up to seq {checkpoint.seq}: it was removed, or emptied"]


def test_an_http_witness_that_is_down_is_logged_and_the_journal_still_holds(app, db, caplog):
    seed(db)
    witness = Loopback(refuse)
    try:
        app.config["CHECKPOINT_WITNESSES"].append(witness.url)
        with caplog.at_level(logging.ERROR, logger="ihl_docs.audit"):
            checkpoint = sign(app)
    finally:
        witness.stop()
    assert checkpoint is not None
    assert f"{witness.url} did not take the checkpoint at seq {checkpoint.seq} (HTTP 503)" \
        in caplog.text
    assert problems(app, db) == []


# --- RFC 3161 timestamps ------------------------------------------------------------------------

def test_a_checkpoint_is_timestamped_and_the_token_kept_in_both_places(app, db, tsa):
    seed(db)
    checkpoint = sign(app)
    assert checkpoint.timestamp_token is not None
    [line] = read_journal(journal_of(app)).checkpoints
    assert line["timestamp_token"] == checkpoint.timestamp_token
    message = checkpoint_message(checkpoint_document(checkpoint))
    trusted = timestamps.trusted_certificates(app.config["TSA_CA_FILE"])
    assert timestamps.token_problem(checkpoint.timestamp_token, message, trusted) is None
    assert timestamps.token_time(checkpoint.timestamp_token) is not None
    assert len(tsa.received) == 1
    assert tsa.received[0][0] == "application/timestamp-query"
    assert problems(app, db) == []


def another_token(tsa_url: str, ca_file: str) -> str:
    """A genuine token of the same authority, over another message."""
    return timestamps.request_timestamp([tsa_url], b"another message", ca_file)


def test_a_token_swapped_in_the_database_and_the_journal_is_named(app, db, tsa):
    seed(db)
    checkpoint = sign(app)
    swapped = another_token(tsa.url, app.config["TSA_CA_FILE"])
    sql(db, "UPDATE audit_checkpoint SET timestamp_token = :t", t=swapped)
    path = journal_of(app)
    line = json.loads(path.read_text())
    path.write_text(json.dumps({**line, "timestamp_token": swapped}) + "\n")
    assert problems(app, db) == [f"audit checkpoint at seq {checkpoint.seq}: the timestamp token "
                                 "is over another message"]


def test_a_token_altered_in_the_database_only_is_named_twice(app, db, tsa):
    seed(db)
    checkpoint = sign(app)
    raw = bytearray(base64.b64decode(checkpoint.timestamp_token))
    raw[-5] ^= 0x01  # inside the signature
    sql(db, "UPDATE audit_checkpoint SET timestamp_token = :t",
        t=base64.b64encode(bytes(raw)).decode())
    found = problems(app, db)
    assert len(found) == 2, found
    assert found[0].startswith(f"audit checkpoint at seq {checkpoint.seq}: the timestamp token ")
    assert found[1] == (f"audit checkpoint at seq {checkpoint.seq} differs between the database "
                        f"and the checkpoint journal {journal_of(app)} (timestamp_token)")


def test_a_token_of_an_untrusted_authority_is_named(app, db, tsa, tmp_path):
    seed(db)
    checkpoint = sign(app)
    stranger = make_authority(tmp_path / "stranger", "Stranger")
    app.config["TSA_CA_FILE"] = str(stranger / "ca.crt")
    assert problems(app, db) == [
        f"audit checkpoint at seq {checkpoint.seq}: the timestamp token is not signed by a "
        "trusted authority (" + problems(app, db)[0].split("trusted authority (", 1)[1]]


def test_token_text_that_is_not_a_token_is_named(app, db, tsa):
    seed(db)
    checkpoint = sign(app)
    for text in ("not base64!", base64.b64encode(b"\x30\x03\x02\x01\x00").decode()):
        sql(db, "UPDATE audit_checkpoint SET timestamp_token = :t", t=text)
        found = problems(app, db)
        assert found[0].startswith(f"audit checkpoint at seq {checkpoint.seq}: the timestamp "
                                   "token cannot be read"), found


def test_a_tsa_that_is_down_leaves_the_checkpoint_signed_journalled_and_unstamped(
        app, db, tsa, caplog):
    seed(db)
    tsa.stop()
    with caplog.at_level(logging.WARNING, logger="ihl_docs.audit"):
        checkpoint = sign(app)
    assert checkpoint is not None
    assert checkpoint.timestamp_token is None
    assert read_journal(journal_of(app)).checkpoints[0]["seq"] == checkpoint.seq
    assert (f"The audit checkpoint at seq {checkpoint.seq} is signed without a timestamp"
            in caplog.text)
    assert "unreachable" in caplog.text
    assert problems(app, db) == []


def test_a_tsa_whose_reply_does_not_chain_to_the_trusted_certificates_gives_no_token(
        app, db, tsa, tmp_path, caplog):
    seed(db)
    app.config["TSA_CA_FILE"] = str(make_authority(tmp_path / "stranger", "Stranger") / "ca.crt")
    with caplog.at_level(logging.WARNING, logger="ihl_docs.audit"):
        checkpoint = sign(app)
    assert checkpoint.timestamp_token is None
    assert "signed without a timestamp" in caplog.text


def test_a_tsa_answering_garbage_gives_no_token(app, db, tsa, caplog):
    seed(db)
    tsa.answer = lambda body: (200, "application/timestamp-reply", b"garbage")
    with caplog.at_level(logging.WARNING, logger="ihl_docs.audit"):
        checkpoint = sign(app)
    assert checkpoint.timestamp_token is None
    assert "signed without a timestamp" in caplog.text


# --- configuration ------------------------------------------------------------------------------

def test_the_witnesses_and_authorities_come_from_the_environment(tmp_path):
    base = {"IHL_SECRET_KEY": "x"}
    config = load_config(tmp_path, environ=base)
    assert config["CHECKPOINT_WITNESSES"] == [str(tmp_path / "checkpoints.journal")]
    assert config["TSA_URLS"] == []
    assert config["TSA_CA_FILE"] is None
    config = load_config(tmp_path, environ={
        **base, "IHL_CHECKPOINT_WITNESSES": "/mnt/a.journal, https://w.example/cp  /b.journal",
        "IHL_TSA_URLS": "https://tsa.example/ http://tsa2.example/",
        "IHL_TSA_CA_FILE": "/etc/tsa.pem"})
    witnesses = Witnesses.from_config(config)
    assert witnesses.journals == (Path("/mnt/a.journal"), Path("/b.journal"))
    assert witnesses.addresses == ("https://w.example/cp",)
    assert witnesses.tsa_urls == ("https://tsa.example/", "http://tsa2.example/")
    assert witnesses.tsa_ca_file == "/etc/tsa.pem"


@pytest.mark.parametrize("environ, message", [
    ({"IHL_CHECKPOINT_WITNESSES": "https://w.example/"}, "must name at least one file"),
    ({"IHL_CHECKPOINT_WITNESSES": "/a ftp://w.example/"}, "neither a file nor an http"),
    ({"IHL_TSA_URLS": "https://tsa.example/"}, "IHL_TSA_CA_FILE is not"),
    ({"IHL_TSA_URLS": "tsa.example", "IHL_TSA_CA_FILE": "/x"}, "not an http(s) address"),
])
def test_witnesses_that_cannot_be_used_are_refused_in_one_sentence(tmp_path, environ, message):
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(tmp_path, environ={"IHL_SECRET_KEY": "x", **environ})


def test_verification_outside_the_application_must_be_told_the_witnesses(app, db):
    from ihl_docs.core.audit.replay import projections
    from ihl_docs.verification.checks import verify

    kinds = projections(app)
    with pytest.raises(RuntimeError, match="pass `witnesses`"):
        verify(db, app.extensions["ihl_store"], kinds=kinds)
    assert verify(db, app.extensions["ihl_store"], kinds=kinds, witnesses=witnesses_of(app)).ok


def test_later_checkpoints_extend_the_journal_when_the_log_grows(app, db, signed_log):
    investigator, case = seed(db)
    make_incident(db, case, investigator)
    second = sign(app)
    assert second.seq > signed_log
    assert [c["seq"] for c in read_journal(journal_of(app)).checkpoints] == [signed_log,
                                                                             second.seq]
    assert os.stat(journal_of(app)).st_mode & 0o777 == 0o600
    assert problems(app, db) == []


def test_the_checkpoints_page_shows_when_each_was_timestamped_or_that_it_was_not(
        app, client, db, tsa):
    from tests.builders import login

    seed(db)
    stamped = sign(app)
    tsa.stop()
    make_user(db, "legal")
    unstamped = sign(app)
    login(client, make_user(db, "auditor"))
    page = client.get("/audit/checkpoints").get_data(as_text=True)
    assert timestamps.token_time(stamped.timestamp_token) in page
    assert unstamped.timestamp_token is None
    assert page.count("no timestamp: no authority answered") == 1


def test_a_token_of_another_authority_put_in_the_database_is_named(app, db, tsa, tmp_path):
    seed(db)
    first = sign(app)
    make_user(db, "legal")
    sign(app)  # the first is no longer the newest
    stranger = Loopback(timestamp_reply(make_authority(tmp_path / "stranger", "Stranger")))
    try:  # a genuine token over the right message, from an authority this instance does not trust
        forged = timestamps.request_timestamp(
            [stranger.url], checkpoint_message(checkpoint_document(first)), None)
    finally:
        stranger.stop()
    sql(db, "UPDATE audit_checkpoint SET timestamp_token = :t WHERE seq = :s", t=forged,
        s=first.seq)
    found = problems(app, db)
    assert found[0].startswith(f"audit checkpoint at seq {first.seq}: the timestamp token is not "
                               "signed by a trusted authority"), found
    assert found[1].endswith("(timestamp_token)")
    assert len(found) == 2


def test_a_huge_line_is_named_without_being_read_whole(app, db, signed_log):
    import tracemalloc

    path = journal_of(app)
    with open(path, "ab") as f:
        f.write(b"{" + b" " * (64 * 1024 * 1024) + b"\n")  # 64 MiB
        f.write(b"x" * (journal.MAX_LINE * 3))  # and no newline at the end
    tracemalloc.start()
    try:
        read = read_journal(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024
    assert read.problems == [f"audit checkpoint journal {path}, line 2: too long to be a checkpoint",
                             f"audit checkpoint journal {path}, line 3: too long to be a checkpoint"]
    assert read.checkpoints[0]["seq"] == signed_log


def test_http_witnesses_are_sent_the_checkpoint_once_it_is_committed(app, db):
    """A witness that hangs must not hold the database's write lock: it is sent the checkpoint
    after the commit (a journal, before it)."""
    from ihl_docs.core.db import open_session

    seed(db)
    db.commit()
    seen = []

    def look(body):
        seq = json.loads(body)["seq"]
        with open_session(app.extensions["ihl_engine"], write=False) as session:
            seen.append(([c.seq for c in list_checkpoints(session)], seq,
                         [c["seq"] for c in read_journal(journal_of(app)).checkpoints]))
        return 200, "application/json", b"{}"

    witness = Loopback(look)
    try:
        app.config["CHECKPOINT_WITNESSES"].append(witness.url)
        checkpoint = sign(app)
    finally:
        witness.stop()
    assert seen == [([checkpoint.seq], checkpoint.seq, [checkpoint.seq])]


def test_the_journal_serves_the_offline_verifier_as_checkpoints_kept_elsewhere(
        app, runner, attacked, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "export"
    result = runner.invoke(args=["audit", "export", "-o", str(out)])
    assert result.exit_code == 1  # exported to be examined; the forged head is not signed
    assert "does not extend the last journalled checkpoint" in result.output
    alone = subprocess.run([sys.executable, "-I", "-S", str(out / "verify_audit.py"), str(out)],
                           capture_output=True, text=True, timeout=120)
    # the export by itself cannot tell, and says it has no signed checkpoint to go on
    assert alone.stdout.splitlines()[0] == "intact"
    assert "no signed checkpoint" in alone.stdout
    offline = subprocess.run([sys.executable, "-I", "-S", str(out / "verify_audit.py"), str(out),
                              "--checkpoints", str(journal_of(app))],
                             capture_output=True, text=True, timeout=120)
    assert offline.returncode == 1, offline.stdout + offline.stderr
    assert f"audit seq {attacked}: differs from signed checkpoint" in offline.stdout
