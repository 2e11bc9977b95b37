"""The audit log through the API: entries in seq order, after a given seq (auditors, admins)."""

from urllib.parse import urlencode

from flask import current_app, request

from ..audit import log
from ..auth.access import READ_ALL_ROLES
from ..db import get_session, open_session
from ..errors import Forbidden
from ..verification import instance_public_key, verify_all
from . import inputs
from .auth import api_user

# The flat document's fields in the order the export writes them.
FIELD_ORDER = ("seq", "prev_hash", "hash", "occurred_at", "actor", "action", "entity",
               "entity_id", "case_ref", "change")


def list_audit_entries():
    """Up to `limit` entries with seq greater than `after`; `next` continues after the last."""
    if api_user().role not in READ_ALL_ROLES:
        raise Forbidden("Only auditors and administrators read the audit log.")
    params = inputs.query()
    documents, total = log.entries_after(get_session(), params.after, params.limit)
    items = [{**{name: doc[name] for name in FIELD_ORDER if name in doc}, **doc}
             for doc in documents]
    next_url = None
    if items and len(items) < total:
        args = {**request.args.to_dict(), "after": str(items[-1]["seq"])}
        next_url = f"{request.base_url}?{urlencode(args)}"
    return {"items": items, "total": total, "next": next_url}


def run_verification():
    """What `ihl verify` checks: every stored file re-hashed, the chain and its checkpoints."""
    if api_user().role not in READ_ALL_ROLES:
        raise Forbidden("Only auditors and administrators run verification.")
    # A reading transaction: re-hashing every file must not hold the database's write lock.
    with open_session(current_app.extensions["ihl_engine"], write=False) as session:
        return verify_all(session, current_app.extensions["ihl_store"],
                          public_key=instance_public_key(current_app.config["SIGNING_KEY"]))
