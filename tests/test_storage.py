"""The evidence store's own rules: content-addressed, written once, read-only, never overwritten,
crash-safe (a crash leaves a temporary file or a complete file under its hash, nothing between)."""

import hashlib
import io
import os
import random
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from ihl_docs.core import storage
from ihl_docs.core.storage import EvidenceStore


@pytest.fixture
def store(tmp_path):
    return EvidenceStore(tmp_path / "evidence")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def final_files(store: EvidenceStore) -> list:
    return sorted(p for p in store.root.rglob("*") if p.is_file() and p.parent != store.tmp)


def write_stored(path, data: bytes) -> None:
    """Alter a stored file the way an intruder or a disk fault would: past its read-only mode."""
    before = stat.S_IMODE(path.stat().st_mode)
    os.chmod(path, before | stat.S_IWUSR)
    path.write_bytes(data)
    os.chmod(path, before)


def test_a_file_is_kept_under_its_own_hash_hashed_in_the_same_pass(store):
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk, not a multiple of it
    incoming = store.incoming()
    assert incoming.path.parent == store.tmp
    assert incoming.path.name.startswith("incoming-")
    for start in range(0, len(data), 65536):
        incoming.write(data[start:start + 65536])
    assert (incoming.sha256, incoming.size) == (sha(data), len(data))
    assert incoming.head(4) == data[:4]
    stored = store.keep(incoming)
    incoming.discard()  # what the request teardown does: a kept upload stays
    assert (stored.sha256, stored.size, stored.existed) == (sha(data), len(data), False)
    path = store.path_for(sha(data))
    assert path == store.root / sha(data)[:2] / sha(data)
    assert path.read_bytes() == data
    assert store.hash_stored(sha(data)) == (sha(data), len(data))
    assert list(store.tmp.iterdir()) == []


def test_pieces_of_any_kind_and_size_are_written_whole(store, monkeypatch):
    monkeypatch.setattr(storage, "WRITEBACK_STEP", 256 * 1024)  # writeback hints on the way
    data = os.urandom(5 * 1024 * 1024 + 3)
    incoming = store.incoming()
    position, sizes = 0, [1, 70_000, 1024 * 1024, 3, 700_001]
    while position < len(data):
        piece = data[position:position + sizes[position % len(sizes)]]
        kind = position % 3
        written = incoming.write(piece if kind == 0 else bytearray(piece) if kind == 1
                                 else memoryview(piece))
        assert written == len(piece)
        position += len(piece)
    stored = store.keep(incoming)
    incoming.discard()
    assert (stored.sha256, stored.size) == (sha(data), len(data))
    assert store.path_for(stored.sha256).read_bytes() == data


def test_the_same_bytes_are_stored_once(store):
    first = store.put_bytes(b"the same bytes")
    second = store.put_bytes(b"the same bytes")
    assert first.sha256 == second.sha256
    assert (first.existed, second.existed) == (False, True)
    assert final_files(store) == [store.path_for(first.sha256)]
    assert list(store.tmp.iterdir()) == []


def test_a_stored_file_is_never_overwritten(store, monkeypatch):
    stored = store.put_bytes(b"original bytes")
    path = store.path_for(stored.sha256)
    before = path.stat()
    # Whatever is under a final name stays there: keeping the same hash again links nothing,
    # replaces nothing, even if what is there has since been damaged.
    write_stored(path, b"damaged")
    damaged = path.stat()
    calls = []
    real_link = os.link
    monkeypatch.setattr(os, "link", lambda src, dst: calls.append(dst) or real_link(src, dst))
    for name in ("replace", "rename"):
        monkeypatch.setattr(os, name, lambda *a, name=name, **k: pytest.fail(
            f"os.{name} used in the store"))
    again = store.put_bytes(b"original bytes")
    assert again.existed is True
    assert calls == [path]
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, damaged.st_mtime_ns)
    assert path.read_bytes() == b"damaged"
    assert list(store.tmp.iterdir()) == []


def test_stored_files_are_read_only(store):
    stored = store.put_bytes(b"evidence")
    path = store.path_for(stored.sha256)
    assert stat.S_IMODE(path.stat().st_mode) == 0o440
    if os.geteuid() != 0:  # root writes through file modes
        with pytest.raises(PermissionError):
            path.open("r+b")


def test_hash_stored_detects_a_changed_and_a_missing_file(store):
    data = os.urandom(100_000)
    stored = store.put_bytes(data)
    path = store.path_for(stored.sha256)
    assert store.hash_stored(stored.sha256) == (stored.sha256, len(data))
    flipped = bytearray(data)
    flipped[50_000] ^= 0x01
    write_stored(path, bytes(flipped))
    assert store.hash_stored(stored.sha256) == (sha(bytes(flipped)), len(data))
    write_stored(path, data + b"\0")
    assert store.hash_stored(stored.sha256) == (sha(data + b"\0"), len(data) + 1)
    path.unlink()
    assert store.hash_stored(stored.sha256) is None
    assert store.exists(stored.sha256) is False


def test_clean_temporary_removes_only_old_temporary_files(store):
    kept = store.put_bytes(b"a kept file")
    old, recent = store.incoming(), store.incoming()
    old.write(b"left by a crash")
    recent.write(b"still arriving")
    old.finish()
    two_hours_ago = time.time() - 7200
    os.utime(old.path, (two_hours_ago, two_hours_ago))
    other = store.tmp / "not-an-upload"
    other.write_bytes(b"x")
    os.utime(other, (two_hours_ago, two_hours_ago))

    assert store.clean_temporary() == 1
    assert not old.path.exists()
    assert recent.path.exists()
    assert other.exists()
    assert store.exists(kept.sha256)
    assert store.clean_temporary(0) == 1  # `ihl gc --older-than-minutes 0`: all of them
    assert not recent.path.exists()
    assert store.exists(kept.sha256)
    recent.discard()


def test_discard_removes_an_unkept_upload_and_spares_a_kept_one(store):
    with store.incoming() as incoming:
        incoming.write(b"refused")
    assert list(store.tmp.iterdir()) == []
    incoming = store.incoming()
    incoming.write(b"accepted")
    stored = store.keep(incoming)
    incoming.discard()
    assert store.path_for(stored.sha256).read_bytes() == b"accepted"


CRASH = textwrap.dedent("""
    import os, signal, sys
    from ihl_docs.core.storage import EvidenceStore
    store = EvidenceStore(sys.argv[1])
    data = sys.stdin.buffer.read()
    incoming = store.incoming()
    incoming.write(data[: len(data) // 2])
    incoming.write(data[len(data) // 2:])
    if sys.argv[2] == "before-keep":
        incoming.finish()
        os.kill(os.getpid(), signal.SIGKILL)
    elif sys.argv[2] == "while-writing":
        os.kill(os.getpid(), signal.SIGKILL)
    elif sys.argv[2] == "after-link":
        real_link = os.link
        def link_then_die(src, dst):
            real_link(src, dst)
            os.kill(os.getpid(), signal.SIGKILL)
        os.link = link_then_die
        store.keep(incoming)
""")


@pytest.mark.parametrize("moment", ["while-writing", "before-keep"])
def test_a_crash_before_keep_leaves_only_a_temporary_file(store, moment):
    data = os.urandom(200_000)
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(store.root), moment],
                             input=data, capture_output=True, timeout=60)
    assert crashed.returncode == -9, crashed.stderr
    assert final_files(store) == []
    leftovers = list(store.tmp.iterdir())
    assert len(leftovers) == 1
    assert leftovers[0].name.startswith("incoming-")
    assert store.clean_temporary(0) == 1
    assert list(store.tmp.iterdir()) == []


def test_a_crash_after_link_leaves_a_complete_file_under_its_hash(store):
    data = os.urandom(200_000)
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(store.root), "after-link"],
                             input=data, capture_output=True, timeout=60)
    assert crashed.returncode == -9, crashed.stderr
    assert final_files(store) == [store.path_for(sha(data))]
    assert store.hash_stored(sha(data)) == (sha(data), len(data))
    assert store.clean_temporary(0) == 1  # the temporary name of the same file
    assert store.path_for(sha(data)).read_bytes() == data


@pytest.mark.parametrize("name", [
    "../../etc/passwd",
    "../" + "a" * 61,
    "/etc/passwd",
    "a" * 63,
    "a" * 65,
    "A" * 64,  # upper case is not how the store names files
    "g" * 64,
    "a" * 62 + "/.",
    "a" * 63 + "\0",
    "a" * 63 + "\n",
    "",
])
def test_path_for_refuses_anything_but_a_sha256_hex_digest(store, name):
    with pytest.raises(ValueError):
        store.path_for(name)
    for method in (store.exists, store.open, store.hash_stored):
        with pytest.raises(ValueError):
            method(name)


# --- the upload path: a multipart body parsed straight into the store -----------------------

class Trickle(io.RawIOBase):
    """A request body that arrives in short, irregular pieces, as from a slow network."""

    def __init__(self, data: bytes, seed: int = 7):
        self._data, self._pos, self._rng = data, 0, random.Random(seed)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._rng.randint(1, 200_000), len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n


def awkward_bytes(size: int, boundary: bytes) -> bytes:
    """Random bytes with line breaks and near-boundaries where reads and blocks end."""
    data = bytearray(os.urandom(size))
    for edge in range(64 * 1024, size, 64 * 1024):
        snippet = [b"\r", b"\r\n", b"\r\n--", b"\r\n--" + boundary[:-1], b"\n--" + boundary[:5]][
            (edge // (64 * 1024)) % 5]
        data[edge - len(snippet) // 2:edge - len(snippet) // 2 + len(snippet)] = snippet
    return bytes(data)


@pytest.mark.parametrize("form_memory", [None, 500_000, 1024 * 1024])
@pytest.mark.parametrize("trickle", [False, True])
def test_a_multipart_upload_is_parsed_straight_into_the_store(app, form_memory, trickle):
    from flask import request

    from ihl_docs.core.storage import IncomingFile

    boundary = b"----ihl" + os.urandom(8).hex().encode()
    data = awkward_bytes(3 * 1024 * 1024 + 4321, boundary)
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
            b"Crater\r\n--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
            b'filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + data + b"\r\n--" + boundary + b"--\r\n")
    store = app.extensions["ihl_store"]
    with app.test_request_context(
            "/upload", method="POST", input_stream=io.BytesIO(body), content_length=len(body),
            content_type="multipart/form-data; boundary=" + boundary.decode(),
            environ_overrides={"wsgi.input": Trickle(body)} if trickle else None):
        request.max_form_memory_size = form_memory
        incoming = request.files["file"].stream
        assert isinstance(incoming, IncomingFile)
        assert incoming.path.parent == store.tmp
        assert (incoming.sha256, incoming.size) == (sha(data), len(data))
        assert request.form["title"] == "Crater"
        assert incoming.read() == data
    assert list(store.tmp.iterdir()) == []  # not kept: removed when the request ended


def test_a_text_part_over_the_form_memory_limit_is_still_refused(app):
    from flask import request
    from werkzeug.exceptions import RequestEntityTooLarge

    boundary = "ihlboundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
            + "x" * 600_000 + f"\r\n--{boundary}--\r\n").encode()
    with app.test_request_context(
            "/upload", method="POST", input_stream=io.BytesIO(body), content_length=len(body),
            content_type=f"multipart/form-data; boundary={boundary}"):
        request.max_form_memory_size = 500_000
        with pytest.raises(RequestEntityTooLarge):
            _ = request.form
