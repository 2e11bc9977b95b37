"""The first hour on a new instance: `ihl init` shows the one-time password last, framed, and
keeps it in a private file; `ihl serve` says where it listens; `ihl demo` names that address;
installing the package prints no warning of our own making."""

import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IHL = os.path.join(os.path.dirname(sys.executable), "ihl")
KEPT = "first-admin-password.txt"


def test_init_shows_the_password_last_framed_and_keeps_it_private(runner):
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    kept = Path(runner.app.instance_path) / KEPT
    email, password = kept.read_text().split()
    assert email == "admin@example.org"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    last = result.output.rstrip().splitlines()[-5:]
    assert last[0] == last[-1]
    assert set(last[0]) == {"+", "-"}
    assert all(line.startswith("| ") and line.endswith(" |") for line in last[1:-1])
    assert f"One-time password (change it at first log-in): {password}" in last[2]
    assert str(kept) in last[3]


def test_init_on_an_instance_with_an_account_keeps_no_password(runner):
    runner.invoke(args=["init"])
    kept = Path(runner.app.instance_path) / KEPT
    kept.unlink()
    again = runner.invoke(args=["init"])
    assert again.exit_code == 0
    assert "One-time password" not in again.output
    assert not kept.exists()


def test_demo_names_the_address_the_server_listens_on(runner):
    address_file = Path(runner.app.instance_path) / "serving-address.txt"
    address_file.parent.mkdir(parents=True, exist_ok=True)
    address_file.write_text("http://127.0.0.1:8123\n")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "open http://127.0.0.1:8123/ (where this instance's server listens now)" in result.output


def test_demo_without_a_server_says_how_to_start_one(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "start the application (`make run`" in result.output
    assert "http://127.0.0.1:5000/ unless told otherwise" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_says_where_it_listens_and_repeats_a_pending_password_last(tmp_path, database_url):
    env = {**os.environ, "IHL_DATABASE_URL": database_url,
           "IHL_INSTANCE_DIR": str(tmp_path / "instance"),
           "IHL_EVIDENCE_DIR": str(tmp_path / "evidence")}
    assert subprocess.run([IHL, "init"], env=env, capture_output=True, timeout=60).returncode == 0
    password = (tmp_path / "instance" / KEPT).read_text().split()[1]
    port, log = _free_port(), tmp_path / "serve.out"
    with open(log, "w") as out:
        server = subprocess.Popen([IHL, "serve", "--port", str(port), "--workers", "1"], env=env,
                                  stdout=out, stderr=subprocess.DEVNULL)
    address_file = tmp_path / "instance" / "serving-address.txt"
    try:
        for _ in range(150):
            if password in log.read_text():
                break
            time.sleep(0.1)
        printed = log.read_text().rstrip().splitlines()
        assert f"ihl_docs is listening on http://127.0.0.1:{port}/" in printed
        assert password in printed[-3]
        assert printed[-1].startswith("+-")
        assert address_file.read_text().split() == [f"http://127.0.0.1:{port}"]
    finally:
        server.terminate()
        server.wait(10)
    assert not address_file.exists()


@pytest.mark.slow
def test_building_the_package_prints_no_warning_of_our_own(tmp_path):
    """setuptools warns about undeclared data folders and a licence table; we have neither."""
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("ihl_docs", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
                            "-w", str(tmp_path / "wheel"), "-v", str(source)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    output = build.stdout + build.stderr
    assert "Package would be ignored" not in output
    assert "is deprecated" not in output
