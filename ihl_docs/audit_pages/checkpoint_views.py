"""The published checkpoints: a page and a JSON Lines file for whoever keeps copies outside."""

from flask import Blueprint, Response, current_app, render_template

from ihl_docs.core.audit.chain import canonical_json
from ihl_docs.core.audit.checkpoints import checkpoint_document, list_checkpoints
from ihl_docs.core.audit.signing import existing_public_key
from ihl_docs.core.audit.timestamps import token_time
from ihl_docs.core.db import get_session
from ihl_docs.core.login import role_required

bp = Blueprint("audit_checkpoints", __name__, url_prefix="/audit")
READERS = ("auditor", "admin")


@bp.route("/checkpoints")
@role_required(*READERS)
def index():
    stored = list(reversed(list_checkpoints(get_session())))
    checkpoints = [{**checkpoint_document(c), "timestamped_at": _timestamped_at(c)}
                   for c in stored]
    return render_template("audit/checkpoints.html", checkpoints=checkpoints,
                           public_key=_public_key(),
                           stamping=bool(current_app.config.get("TSA_URLS")))


def _timestamped_at(checkpoint) -> str | None:
    """When a time-stamping authority saw the checkpoint, as its token says (None: no token)."""
    if checkpoint.timestamp_token is None:
        return None
    return token_time(checkpoint.timestamp_token) or "unreadable token"


@bp.route("/checkpoints.jsonl")
@role_required(*READERS)
def download():
    lines = [canonical_json(checkpoint_document(c)) + "\n"
             for c in list_checkpoints(get_session())]
    return Response("".join(lines), mimetype="application/jsonl",
                    headers={"Content-Disposition": "attachment; filename=checkpoints.jsonl"})


def _public_key() -> str | None:
    try:
        return existing_public_key(current_app.config["SIGNING_KEY"])
    except (OSError, ValueError):
        return None
