"""Uploads against a real `ihl serve` (gunicorn) that is killed with SIGKILL at random moments:
afterwards no row lacks its file, no file is corrupt, nothing acknowledged is lost, and the
temporary files the kills left are all that `ihl gc` has to remove. Also: an upload cut off
half-way leaves nothing behind."""

import hashlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlmodel import select

from ihl_docs.auth import services as auth
from ihl_docs.core.db import make_engine, open_session
from ihl_docs.core.models import Evidence
from ihl_docs.core.storage import EvidenceStore
from ihl_docs.verification import verify_files
from tests.builders import jpeg_with_exif

IHL = os.path.join(os.path.dirname(sys.executable), "ihl")
EMAIL = "field.investigator@example.org"
SEED = int(os.environ.get("IHL_CRASH_SEED", "20201004"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """An instance in tmp_path: `ihl init`, a user with an API token, a case, `ihl serve`."""

    def __init__(self, tmp_path, database_url):
        self.evidence_dir = tmp_path / "evidence"
        self.log_path = tmp_path / "server.log"
        self.env = {**os.environ, "IHL_DATABASE_URL": database_url,
                    "IHL_INSTANCE_DIR": str(tmp_path / "instance"),
                    "IHL_EVIDENCE_DIR": str(self.evidence_dir)}
        self.process = None
        self.port = None
        self.ihl("init")
        # The account and its token straight through the services: each `ihl` run costs seconds.
        engine = make_engine(database_url)
        try:
            with open_session(engine) as session:
                auth.create_user(session, EMAIL, "investigator", "a long enough passphrase",
                                 actor="test")
                self.token = auth.create_token(session, EMAIL, actor="test")
                session.commit()
        finally:
            engine.dispose()

    def ihl(self, *args, stdin=None) -> str:
        done = subprocess.run([IHL, *args], env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def start(self) -> None:
        self.port = _free_port()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [IHL, "serve", "--port", str(self.port), "--workers", "1"], env=self.env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            try:
                status, _ = self.request("GET", "/api/v1/openapi.json", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("the server did not answer within 30 s")

    def kill(self) -> None:
        """SIGKILL to the master and its worker at once: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()

    def request(self, method, path, body=None, headers=(), timeout=30, sent=None):
        """(status, body); `sent()` is called once the whole request is sent."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body,
                         headers={"Authorization": f"Bearer {self.token}", **dict(headers)})
            if sent is not None:
                sent()
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def create_case(self, ref: str) -> None:
        status, body = self.request("POST", "/api/v1/cases", json.dumps({
            "ref": ref, "title": "Crash test", "conflict_classification": "undetermined"}),
            {"Content-Type": "application/json"})
        assert status == 201, body


def multipart(data: bytes, filename: str, **fields) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 .encode())
    return b"".join(parts) + data + f"\r\n--{boundary}--\r\n".encode(), boundary


@pytest.fixture
def server(tmp_path, database_url):
    instance = Server(tmp_path, database_url)
    yield instance
    instance.stop()


def store_state(store: EvidenceStore) -> tuple[list, list]:
    """(files under a final name, temporary files)."""
    finals, temps = [], []
    for path in store.root.rglob("*"):
        if path.is_file():
            (temps if path.parent == store.tmp else finals).append(path)
    return finals, temps


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def check_store(engine, store: EvidenceStore, acknowledged: dict[str, str]) -> int:
    """The invariants after a crash; returns the number of rows."""
    with open_session(engine, write=False) as session:
        checked, problems = verify_files(session, store)
        rows = dict(session.exec(select(Evidence.ref, Evidence.sha256)).all())
    assert problems == []  # every row's file is there and re-hashes to its sha256
    for ref, sha256 in acknowledged.items():  # nothing the client saw acknowledged is lost
        assert rows.get(ref) == sha256, f"acknowledged upload {ref} is not in the database"
    finals, _ = store_state(store)
    for path in finals:  # nothing under a final name but the complete file of that name
        assert path.parent.name == path.name[:2], path
        assert sha256_of(path) == path.name, f"{path} does not hash to its name"
    assert checked >= len(rows)
    return len(rows)


@pytest.mark.slow
def test_sigkill_during_uploads_loses_nothing_acknowledged_and_corrupts_nothing(server,
                                                                                database_url):
    rng = random.Random(SEED)
    server.start()
    case = "CRASH-1"
    server.create_case(case)
    store = EvidenceStore(server.evidence_dir)
    engine = make_engine(database_url)
    acknowledged: dict[str, str] = {}
    refused, attempts, cut_off, temp_left = [], 0, 0, 0
    deadline = time.monotonic() + 25
    try:
        rounds = 0
        while rounds < 8 and (rounds < 4 or time.monotonic() < deadline):
            rounds += 1
            stop = threading.Event()
            sent_at = []
            payloads = []
            for _ in range(40):  # made before the round, so the client only sends
                if rng.random() < 0.15:
                    side = rng.randint(200, 1200)
                    payloads.append((jpeg_with_exif(size=(side, side * 3 // 4), color=(
                        rng.randrange(256), rng.randrange(256), rng.randrange(256))), "photo"))
                else:
                    payloads.append((rng.randbytes(rng.randint(100_000, 8_000_000)), "document"))

            def client(payloads=payloads, stop=stop, sent_at=sent_at):
                nonlocal attempts, cut_off
                for data, kind in payloads:
                    if stop.is_set():
                        return
                    body, boundary = multipart(data, f"upload-{attempts}.bin", kind=kind,
                                               title=f"Upload {attempts}")
                    attempts += 1
                    try:
                        status, answer = server.request(
                            "POST", f"/api/v1/cases/{case}/evidence", body,
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
                            sent=lambda: sent_at.append(time.monotonic()))
                    except (OSError, http.client.HTTPException):
                        cut_off += 1  # the server died under this upload
                        return
                    item = json.loads(answer) if status == 201 else {}
                    if item.get("sha256") == hashlib.sha256(data).hexdigest():
                        acknowledged[item["ref"]] = item["sha256"]
                    else:
                        refused.append((status, answer[:300]))

            thread = threading.Thread(target=client, daemon=True)
            thread.start()
            if rounds % 2:  # any moment: most often while a body is arriving
                time.sleep(rng.uniform(0.05, 1.5))
            else:  # just after a whole body was sent: while it is kept, recorded, answered
                sent_count = rng.randint(1, 4)
                while len(sent_at) < sent_count and thread.is_alive():
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.1))
            server.kill()
            stop.set()
            thread.join(30)
            assert not thread.is_alive()
            assert refused == [], refused

            check_store(engine, store, acknowledged)
            temp_left += len(store_state(store)[1])
            last = rounds == 8 or (rounds >= 4 and time.monotonic() >= deadline)
            if last:
                server.ihl("gc", "--older-than-minutes", "0")
            else:  # what `ihl gc --older-than-minutes 0` runs, without starting a process
                store.clean_temporary(0)
            assert store_state(store)[1] == [], "a temporary file survived `ihl gc`"
            server.start()

        assert len(acknowledged) >= 5, "too few uploads were acknowledged to test anything"
        assert cut_off >= 1, "no kill landed during an upload"
        data = rng.randbytes(1_000_000)  # the restarted server takes uploads again
        body, boundary = multipart(data, "after.bin", kind="document", title="After the kills")
        status, answer = server.request(
            "POST", f"/api/v1/cases/{case}/evidence", body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 201, answer
        acknowledged[json.loads(answer)["ref"]] = hashlib.sha256(data).hexdigest()
        server.stop()
        rows = check_store(engine, store, acknowledged)
        assert rows >= len(acknowledged)
        assert store_state(store)[1] == []
        report = json.loads(server.ihl("verify", "--json"))  # every record against the log too
        assert report["problems"] == []
        assert report["files"] >= rows
    finally:
        server.stop()
        engine.dispose()
    print(f"seed {SEED}: {rounds} kills, {attempts} uploads started, {len(acknowledged)} "
          f"acknowledged, {rows} rows, {cut_off} cut off by a kill, {temp_left} temporary "
          "files left for `ihl gc`")


def test_an_upload_cut_off_half_way_leaves_nothing(server, database_url):
    server.start()
    server.create_case("CUT-1")
    store = EvidenceStore(server.evidence_dir)
    data = os.urandom(4 * 1024 * 1024)
    body, boundary = multipart(data, "cut.bin", kind="document", title="Cut off")
    head = (f"POST /api/v1/cases/CUT-1/evidence HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {server.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + body[: len(body) // 2])
        # The server is receiving into a temporary file in the store.
        deadline = time.monotonic() + 10
        while not store_state(store)[1] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(store_state(store)[1]) == 1
    deadline = time.monotonic() + 10
    while store_state(store)[1] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store_state(store) == ([], [])
    engine = make_engine(database_url)
    try:
        with open_session(engine, write=False) as session:
            assert session.exec(select(Evidence)).all() == []
    finally:
        engine.dispose()
    # The server is still up, and a whole upload of the same bytes goes through.
    status, answer = server.request("POST", "/api/v1/cases/CUT-1/evidence", body,
                                    {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 201, answer
    assert json.loads(answer)["sha256"] == hashlib.sha256(data).hexdigest()
    assert store_state(store)[1] == []
