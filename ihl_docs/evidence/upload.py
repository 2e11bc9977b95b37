"""Uploads go straight into the evidence store: Werkzeug's multipart parser writes each file part
into a hashing temporary file in the store, so a file is read once and never copied again."""

from flask import Request, current_app, request

from ..storage import EvidenceStore


class UploadRequest(Request):
    """A request whose uploaded files are IncomingFile objects in the evidence store."""

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
    app.extensions["ihl_store"] = EvidenceStore(app.config["EVIDENCE_DIR"])
    app.request_class = UploadRequest
    app.teardown_request(discard_unkept_uploads)
