"""The section cache: rendered sections kept on disk by the hash of everything that decides their bytes."""

import os
import time
from pathlib import Path

from ihl_docs.core.file_modes import STORED_FILE, make_folder


class SectionCache:
    """Rendered sections by the hash of everything that decides their bytes."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pdf"

    def get(self, key: str) -> tuple[bytes, int] | None:
        """The section's PDF and page count, or None if not cached (or the file is damaged)."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        pages, _, pdf = data.partition(b"\n")
        if not pages.isdigit() or not pdf.startswith(b"%PDF"):
            return None
        return pdf, int(pages)

    def put(self, key: str, pdf: bytes, pages: int) -> None:
        """Keep a rendered section; written aside and moved in place, so readers never see half.
        Like a stored file, it is read-only and for the service alone (it shows the case)."""
        path = self._path(key)
        try:
            make_folder(path.parent)
            temporary = path.with_suffix(f".{os.getpid()}.{time.monotonic_ns()}.tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, STORED_FILE)
            with os.fdopen(fd, "wb") as out:
                out.write(b"%d\n" % pages + pdf)
            os.replace(temporary, path)
        except OSError:
            pass  # a cache that cannot be written only costs time
