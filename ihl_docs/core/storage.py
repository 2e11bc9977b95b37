"""The content-addressed evidence store: <root>/<sha256[:2]>/<sha256>, written once, never changed.

An upload is streamed into a temporary file inside the store while it is hashed, in one pass;
the file is fsynced, linked into its final name (which fails rather than overwrite), the
directory fsynced, and only then may the database row that names it be committed. A crash at
any moment leaves either a temporary file (removed by `clean_temporary`) or a complete file
under its own hash; never a partial file under a final name.
"""

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ihl_docs.core.file_modes import FOLDER, STORED_FILE, make_folder

CHUNK = 1024 * 1024
TMP_DIR = "tmp"
# Every this many bytes an upload asks the kernel to start writing what it received to disk,
# so the fsync at the end waits for the last few MiB rather than the whole file.
WRITEBACK_STEP = 16 * CHUNK


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    existed: bool


class IncomingFile:
    """A writable temporary file that hashes what is written to it, in the same pass."""

    def __init__(self, directory: Path):
        fd, path = tempfile.mkstemp(dir=directory, prefix="incoming-")
        self.path = Path(path)
        # Unbuffered: the parser hands over pieces of hundreds of KiB, which go to the kernel
        # as they are rather than through one more copy in a buffer.
        self._file = os.fdopen(fd, "w+b", buffering=0)
        self._hash = hashlib.sha256()
        self.size = 0
        self.kept = False
        self._written_back = 0

    def write(self, data) -> int:
        self._hash.update(data)
        view = memoryview(data).cast("B")
        length = len(view)
        while view:
            view = view[self._file.write(view):]
        self.size += length
        if self.size - self._written_back >= WRITEBACK_STEP:
            self._start_writeback()
        return length

    def _start_writeback(self) -> None:
        """Start writing the bytes received since the last call to disk, without waiting (on
        Linux, POSIX_FADV_DONTNEED starts writeback of dirty pages; it drops clean ones only)."""
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(self._file.fileno(), self._written_back,
                                 self.size - self._written_back, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass
        self._written_back = self.size

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def head(self, size: int = 8192) -> bytes:
        """The first bytes (to recognise the content), leaving the file where it was."""
        self._file.flush()
        with open(self.path, "rb") as f:
            return f.read(size)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def finish(self) -> None:
        """Flush and fsync the bytes to disk, and close the file."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def discard(self) -> None:
        """Close and remove the temporary file, unless it was kept in the store."""
        if not self._file.closed:
            self._file.close()
        if not self.kept:
            self.path.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.discard()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EvidenceStore:
    """Files by their SHA-256 under `root`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.tmp = self.root / TMP_DIR
        make_folder(self.tmp)

    def incoming(self) -> IncomingFile:
        return IncomingFile(self.tmp)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def keep(self, incoming: IncomingFile) -> StoredFile:
        """Move a finished upload under its hash; the same bytes already there are kept as they are."""
        incoming.finish()
        final = self.path_for(incoming.sha256)
        if not final.parent.exists():
            final.parent.mkdir(mode=FOLDER, exist_ok=True)
            _fsync_dir(self.root)
        # Read-only, and for the service (and a backup group) alone, before it has a final
        # name, crash or not.
        os.chmod(incoming.path, STORED_FILE)
        try:
            os.link(incoming.path, final)  # never replaces an existing name
            existed = False
        except FileExistsError:
            existed = True
        else:
            _fsync_dir(final.parent)
        incoming.path.unlink(missing_ok=True)
        incoming.kept = True
        return StoredFile(incoming.sha256, incoming.size, existed)

    def put_bytes(self, data: bytes) -> StoredFile:
        """Store a small object (a thumbnail) made in memory."""
        incoming = self.incoming()
        try:
            incoming.write(data)
            return self.keep(incoming)
        finally:
            incoming.discard()

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def open(self, sha256: str):
        return open(self.path_for(sha256), "rb")

    def hash_stored(self, sha256: str) -> tuple[str, int] | None:
        """Re-read a stored file: (the SHA-256 of what is there now, its size), or None if gone."""
        digest, size = hashlib.sha256(), 0
        try:
            with open(self.path_for(sha256), "rb", buffering=0) as f:
                buffer = bytearray(CHUNK)
                view = memoryview(buffer)
                while n := f.readinto(buffer):
                    digest.update(view[:n])
                    size += n
        except FileNotFoundError:
            return None
        return digest.hexdigest(), size

    def clean_temporary(self, older_than_seconds: float = 3600) -> int:
        """Remove uploads left behind by a crash; recent ones may still be in progress."""
        cutoff, removed = time.time() - older_than_seconds, 0
        for path in self.tmp.glob("incoming-*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
