"""Uploads go straight into the evidence store: Werkzeug's multipart parser writes each file part
into a hashing temporary file in the store, so a file is read once and never copied again."""

import io

from flask import Request, current_app, request
from werkzeug.formparser import FormDataParser, MultiPartParser

from ihl_docs.core.storage import EvidenceStore

# A multipart body is read from the WSGI server in blocks of READ_BLOCK: gunicorn receives up to
# 1 MiB per recv() and, when asked for less, copies what it keeps back on every call. The parser
# takes its pieces (READ_CHUNK, or less: see StoreFormDataParser) from that block. With Werkzeug's
# own 64 KiB reads a 1 GiB upload ran at about half of sha256sum's speed (bench/ingest.py).
READ_BLOCK = 1024 * 1024
READ_CHUNK = 512 * 1024
WERKZEUG_CHUNK = 64 * 1024


class BlockReader(io.RawIOBase):
    """Reads `stream` in blocks of READ_BLOCK and hands them out in pieces of any size.

    One block is held at a time, in a buffer reused for the next; what is handed out is a copy.
    The underlying stream is not closed with this one (the WSGI server owns it)."""

    def __init__(self, stream, block: int = READ_BLOCK):
        self._stream = stream
        self._block = bytearray(block)
        self._view = memoryview(self._block)
        self._start = self._end = 0

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        if hasattr(self._stream, "readinto"):
            self._end = self._stream.readinto(self._block) or 0
        else:
            data = self._stream.read(len(self._block))
            self._end = len(data)
            self._block[:self._end] = data
        self._start = 0

    def readinto(self, buffer) -> int:
        if self._start == self._end:
            self._fill()
        n = min(len(buffer), self._end - self._start)
        buffer[:n] = self._view[self._start:self._start + n]
        self._start += n
        return n

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        if self._start == self._end:
            self._fill()
        n = min(size, self._end - self._start)
        data = bytes(self._view[self._start:self._start + n])
        self._start += n
        return data

    def close(self) -> None:
        self._start = self._end = 0
        self._view.release()
        super().close()


class StoreFormDataParser(FormDataParser):
    """Werkzeug's form parser, reading the body in larger pieces.

    Werkzeug checks max_form_memory_size against each piece it holds, file parts included, so a
    piece stays at most half that limit (and never below Werkzeug's own 64 KiB)."""

    def _parse_multipart(self, stream, mimetype, content_length, options):
        chunk = READ_CHUNK
        if self.max_form_memory_size:
            chunk = max(WERKZEUG_CHUNK, min(chunk, self.max_form_memory_size // 2))
        parser = MultiPartParser(stream_factory=self.stream_factory,
                                 max_form_memory_size=self.max_form_memory_size,
                                 max_form_parts=self.max_form_parts, cls=self.cls,
                                 buffer_size=chunk)
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        form, files = parser.parse(stream, boundary, content_length)
        return stream, form, files


class UploadRequest(Request):
    """A request whose uploaded files are IncomingFile objects in the evidence store."""

    form_data_parser_class = StoreFormDataParser

    def _get_stream_for_parsing(self):
        stream = super()._get_stream_for_parsing()
        return BlockReader(stream) if self.mimetype == "multipart/form-data" else stream

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        incoming = store().incoming()
        self.__dict__.setdefault("ihl_incoming", []).append(incoming)
        return incoming


def store() -> EvidenceStore:
    return current_app.extensions["ihl_store"]


def discard_unkept_uploads(_exc=None) -> None:
    """After every request: an upload that was not kept (refused, cut off, failed) is removed."""
    for incoming in request.__dict__.pop("ihl_incoming", []):
        incoming.discard()


def init_uploads(app) -> None:
    app.request_class = UploadRequest
    app.teardown_request(discard_unkept_uploads)
