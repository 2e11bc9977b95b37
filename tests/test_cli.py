"""The `ihl` command: users, tokens, serve, and clear errors with the promised exit codes."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

from sqlmodel import select

from ihl_docs.auth import services as auth
from ihl_docs.core.models import ApiToken, AuditEntry, User
from tests.builders import make_user


def test_users_create_with_password_stdin(runner, db):
    result = runner.invoke(args=["users", "create", "Lawyer@Example.org", "--role", "legal",
                                 "--name", "A. Lawyer", "--password-stdin"],
                           input="a sufficiently long passphrase\n")
    assert result.exit_code == 0, result.output
    user = db.exec(select(User).where(User.email == "lawyer@example.org")).one()
    assert (user.role, user.name) == ("legal", "A. Lawyer")
    assert auth.verify_password(user.password_hash, "a sufficiently long passphrase")


def test_users_create_refusals(runner, db):
    make_user(db, "legal", email="taken@example.org")
    db.commit()
    cases = [
        (["users", "create", "taken@example.org", "--role", "legal", "--password-stdin"],
         "long enough password\n", 1, "already exists"),
        (["users", "create", "not-an-email", "--role", "legal", "--password-stdin"],
         "long enough password\n", 1, "Not a valid e-mail address"),
        (["users", "create", "new@example.org", "--role", "legal", "--password-stdin"],
         "short\n", 1, "at least 12 characters"),
        (["users", "create", "new@example.org", "--role", "king", "--password-stdin"],
         "long enough password\n", 2, "Invalid value for '--role'"),
        (["users", "create", "new@example.org", "--role", "legal"], "", 2, "--password-stdin"),
    ]
    for args, stdin, code, message in cases:
        result = runner.invoke(args=args, input=stdin)
        assert result.exit_code == code, (args, result.output)
        assert message in result.output
        assert "Traceback" not in result.output
    db.expire_all()
    assert db.exec(select(User.email)).all() == ["taken@example.org"]


def test_tokens_create_prints_token_last_and_stores_only_its_hash(runner, db):
    user = make_user(db, "investigator")
    db.commit()
    result = runner.invoke(args=["tokens", "create", user.email, "--name", "script"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("ihl_")
    assert len(token) > 40
    row = db.exec(select(ApiToken)).one()
    assert token not in row.token_hash
    assert auth.user_for_token(db, token).email == user.email
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "api_token")).one()
    assert token not in entry.change
    assert row.token_hash not in entry.change


def test_tokens_create_for_unknown_user(runner):
    result = runner.invoke(args=["tokens", "create", "ghost@example.org"])
    assert result.exit_code == 1
    assert "No account with the e-mail ghost@example.org" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_console_script_init_and_serve(tmp_path, database_url):
    env = {**os.environ, "IHL_DATABASE_URL": database_url,
           "IHL_INSTANCE_DIR": str(tmp_path / "instance"),
           "IHL_EVIDENCE_DIR": str(tmp_path / "evidence")}
    ihl = os.path.join(os.path.dirname(sys.executable), "ihl")
    init = subprocess.run([ihl, "init"], env=env, capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stderr
    port = _free_port()
    server = subprocess.Popen([ihl, "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.1)
        assert body is not None
        assert "Log in" in body
    finally:
        server.terminate()
        server.wait(10)
    bad = subprocess.run([ihl, "verify"], env={**env, "IHL_DATABASE_URL": "sqlite:////nonexistent/dir/x.db"},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "database could not be used" in bad.stderr
