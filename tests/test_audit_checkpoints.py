"""Signed checkpoints of the audit chain: the key, signing the head, and every kind of tampering
caught by `ihl verify` and by the offline verifier of an export."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import select

from ihl_docs.core.audit.chain import verify_entries
from ihl_docs.core.audit.checkpoints import (
    checkpoint_document,
    checkpoint_due,
    list_checkpoints,
    make_checkpoint,
    scheduled_checkpoint,
    sign_head,
)
from ihl_docs.core.audit.journal import Witnesses
from ihl_docs.core.audit.log import entry_document, iter_entries, verify_chain
from ihl_docs.core.audit.signing import load_or_create_key, public_key_hex, signature_valid
from ihl_docs.core.audit.verify_audit import checkpoint_message, ed25519_verify
from ihl_docs.core.config import load_config
from ihl_docs.core.errors import Conflict
from ihl_docs.core.models import AuditCheckpoint, AuditEntry
from tests.builders import login, make_user, seed
from tests.tampering import TAMPERING, edit_a_row, rewrite_from

# RFC 8032, section 7.1, TEST 1 (the empty message)
RFC_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC_SIGNATURE = ("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
                 "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")


def test_rfc8032_test_vector_1():
    public, signature = bytes.fromhex(RFC_PUBLIC), bytes.fromhex(RFC_SIGNATURE)
    assert ed25519_verify(public, b"", signature)
    assert not ed25519_verify(public, b"x", signature)
    assert not ed25519_verify(public, b"", signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not ed25519_verify(public, b"", signature[:32] + (2 ** 253).to_bytes(32, "little"))
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC_SECRET))
    assert public_key_hex(key) == RFC_PUBLIC
    assert key.sign(b"").hex() == RFC_SIGNATURE


def test_the_pure_verifier_agrees_with_the_library():
    key = Ed25519PrivateKey.generate()
    public = bytes.fromhex(public_key_hex(key))
    for message in (b"", b"checkpoint", os.urandom(300)):
        signature = key.sign(message)
        assert ed25519_verify(public, message, signature)
        assert not ed25519_verify(public, message + b"!", signature)


def test_the_key_is_made_once_with_mode_0600_and_reused(app):
    path = Path(app.config["SIGNING_KEY"])
    assert path == Path(app.instance_path) / "audit_signing_key"
    assert not path.exists()
    first = load_or_create_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_key_hex(load_or_create_key(path)) == public_key_hex(first)
    assert len(bytes.fromhex(public_key_hex(first))) == 32


def test_the_key_path_comes_from_ihl_signing_key(tmp_path):
    config = load_config(tmp_path, environ={"IHL_SIGNING_KEY": "/keys/ihl.pem",
                                            "IHL_SECRET_KEY": "x"})
    assert config["SIGNING_KEY"] == "/keys/ihl.pem"
    assert config["CHECKPOINT_MINUTES"] == 60


def test_a_checkpoint_signs_the_head_once(app, db):
    seed(db)
    key = load_or_create_key(app.config["SIGNING_KEY"])
    witnesses = Witnesses.from_config(app.config)
    checkpoint = make_checkpoint(db, key, witnesses)
    db.commit()
    head = db.exec(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert (checkpoint.seq, checkpoint.hash) == (head.seq, head.hash)
    document = checkpoint_document(checkpoint)
    assert document["occurred_at"] == entry_document(head)["occurred_at"]
    message = checkpoint_message(document)
    assert signature_valid(checkpoint.public_key, checkpoint.signature, message)
    assert ed25519_verify(bytes.fromhex(checkpoint.public_key), message,
                          bytes.fromhex(checkpoint.signature))
    assert make_checkpoint(db, key, witnesses) is None  # the head is already signed
    make_user(db, "legal")
    assert make_checkpoint(db, key, witnesses).seq == head.seq + 1
    db.commit()
    assert [c.seq for c in list_checkpoints(db)] == [head.seq, head.seq + 1]
    assert verify_chain(db) == (head.seq + 1, [])
    with pytest.raises(Conflict, match="changed while the log was being checked"):
        make_checkpoint(db, key, witnesses, verified=(1, "0" * 64))


def test_the_command_signs_and_the_worker_signs_when_due(app, db, runner):
    seed(db)
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert "Signed checkpoint at seq" in result.output
    assert "PRIVATE" not in result.output
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0
    assert "already signed" in result.output
    make_user(db, "legal")
    engine, key_path = app.extensions["ihl_engine"], app.config["SIGNING_KEY"]
    witnesses = Witnesses.from_config(app.config)
    assert not checkpoint_due(db, 60)
    db.commit()  # end the read: SQLite has one writer at a time
    scheduled_checkpoint(engine, key_path, witnesses, 60)  # not due: nothing signed
    assert len(list_checkpoints(db)) == 1
    db.commit()
    scheduled_checkpoint(engine, key_path, witnesses, 0)
    assert len(list_checkpoints(db)) == 2
    db.commit()
    scheduled_checkpoint(engine, key_path, witnesses, 0)  # due, but the head is signed already
    scheduled_checkpoint(engine, key_path, witnesses, 0)
    assert len(list_checkpoints(db)) == 2


def test_no_checkpoint_vouches_for_a_broken_log(app, db):
    seed(db)
    edit_a_row(db, 3)
    with pytest.raises(Conflict, match="audit seq 3"):
        sign_head(app.extensions["ihl_engine"], app.config["SIGNING_KEY"],
                  Witnesses.from_config(app.config))
    assert list_checkpoints(db) == []


# --- tampering (tests/tampering.py; the signed log: the `signed_log` fixture) -------------------

def run_verifier(directory: Path):
    """The exported verifier, isolated from site-packages and the project: the standard
    library alone."""
    return subprocess.run([sys.executable, "-I", "-S", str(directory / "verify_audit.py"),
                           str(directory)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_named_by_ihl_verify_and_offline(case, db, runner, signed_log, tmp_path):
    tamper, expected = TAMPERING[case]
    tamper(db, signed_log)
    message = expected(signed_log)

    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert message in result.output, result.output

    out = tmp_path / "export"
    result = runner.invoke(args=["audit", "export", "-o", str(out)])
    assert result.exit_code == 1  # exported to be examined, but no checkpoint signed
    assert "no checkpoint was signed" in result.output
    offline = run_verifier(out)
    assert offline.returncode == 1, offline.stdout + offline.stderr
    first = offline.stdout.splitlines()[0]
    assert message in first or (case == "a bad signature" and message in offline.stdout)
    assert "intact" not in offline.stdout


def test_a_recomputed_rewrite_passes_the_bare_chain_check(db, signed_log):
    rewrite_from(db, 3)
    db.expire_all()
    count, problem = verify_entries(iter_entries(db))
    assert problem is None
    assert count == signed_log + 2
    _, problems = verify_chain(db)
    assert problems == [f"audit seq {signed_log}: differs from signed checkpoint (signed hash "
                        + problems[0].split("signed hash ", 1)[1]]
    assert f"an entry after seq 0 up to seq {signed_log} was changed" in problems[0]


def test_a_checkpoint_signed_by_another_key_is_named(db, runner, signed_log):
    other = Ed25519PrivateKey.generate()
    entry = db.get(AuditEntry, signed_log - 1)
    document = {"seq": entry.seq, "hash": entry.hash,
                "occurred_at": entry_document(entry)["occurred_at"]}
    db.add(AuditCheckpoint(seq=entry.seq, hash=entry.hash, occurred_at=entry.occurred_at,
                           public_key=public_key_hex(other),
                           signature=other.sign(checkpoint_message(document)).hex()))
    db.commit()
    assert verify_chain(db)[1] == []  # validly signed ...
    result = runner.invoke(args=["verify"])  # ... but not by this instance's key
    assert result.exit_code == 1
    assert f"audit checkpoint at seq {signed_log - 1}: signed by another key" in result.output


# --- the published page and file ---------------------------------------------------------------

@pytest.mark.parametrize("role, status", [("auditor", 200), ("admin", 200),
                                          ("investigator", 403), ("legal", 403)])
@pytest.mark.parametrize("path", ["/audit/checkpoints", "/audit/checkpoints.jsonl"])
def test_checkpoints_are_published_to_auditors_and_admins(role, status, path, client, db):
    login(client, make_user(db, role))
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", ["/audit/checkpoints", "/audit/checkpoints.jsonl"])
def test_anonymous_visitors_are_sent_to_log_in(path, client):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_page_and_file_list_every_checkpoint_and_the_key(client, db, runner, signed_log):
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    checkpoints = [checkpoint_document(c) for c in list_checkpoints(db)]
    db.commit()
    login(client, make_user(db, "auditor"))
    page = client.get("/audit/checkpoints").get_data(as_text=True)
    assert checkpoints[0]["public_key"] in page
    for checkpoint in checkpoints:
        assert checkpoint["hash"] in page
    download = client.get("/audit/checkpoints.jsonl")
    assert "attachment" in download.headers["Content-Disposition"]
    lines = download.get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in lines] == checkpoints


def test_the_page_without_checkpoints(client, db):
    login(client, make_user(db, "admin"))
    page = client.get("/audit/checkpoints").get_data(as_text=True)
    assert "No checkpoint yet" in page
    assert "No key yet" in page


@pytest.mark.slow
def test_a_starting_worker_signs_the_head(app, app_config, db, tmp_path):
    import time

    seed(db)
    env = {**os.environ, "IHL_DATABASE_URL": app_config["DATABASE_URL"],
           "IHL_EVIDENCE_DIR": app_config["EVIDENCE_DIR"],
           "IHL_INSTANCE_DIR": str(tmp_path / "worker-instance"),
           "IHL_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"}
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115  (the worker writes it until stopped)
    worker = subprocess.Popen([str(Path(sys.executable).with_name("ihl")), "worker"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not list_checkpoints(db) and time.monotonic() < deadline:
            db.commit()
            time.sleep(0.2)
        db.commit()
    finally:
        worker.terminate()
        worker.wait(20)
        log.seek(0)
        output = log.read()
        log.close()
    [checkpoint] = list_checkpoints(db)
    assert "Signed audit checkpoint at seq" in output, output
    assert "Traceback" not in output, output
    key = Path(tmp_path / "worker-instance" / "audit_signing_key")
    assert key.stat().st_mode & 0o777 == 0o600
    assert checkpoint.public_key == public_key_hex(load_or_create_key(key))
