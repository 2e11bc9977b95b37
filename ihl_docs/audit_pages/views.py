"""The audit log for auditors and administrators: every entry, filtered; one record's history."""

import re
from math import ceil

from flask import Blueprint, current_app, render_template, request, url_for

from ihl_docs.audit_pages.forms import AuditFilterForm
from ihl_docs.core.audit import history as log
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import NotFound
from ihl_docs.core.forms_support import day_end, day_start, display_value
from ihl_docs.core.login import role_required
from ihl_docs.core.models import label
from ihl_docs.core.web import MAX_PAGE, pager_for

bp = Blueprint("audit", __name__, url_prefix="/audit")
READERS = ("auditor", "admin")

# Actions as a reader says them; any other shows as its name in words.
ACTION_LABELS = {
    "create": "Created", "update": "Edited", "status_change": "Workflow step",
    "add_member": "Member added", "link": "Evidence linked to incident",
    "request": "Dossier requested", "generate": "Dossier generated",
    "fail": "Dossier build failed", "update_finding": "Element finding recorded",
    "change_password": "Password changed", "activate": "Account activated",
    "deactivate": "Account deactivated", "retire": "Retired",
    "custody_accessed": "File read (download)",
    "custody_exported": "Exported (listed in a document)",
    "verify": "Verification completed", "acknowledge": "Finding acknowledged",
    "export": "Exported", "import": "Imported",
}
ENTITY_LABELS = {"custody_event": "Custody event", "incident_evidence": "Evidence link",
                 "case_member": "Case member", "api_token": "API token",
                 "verification_run": "Verification", "verification_finding": "Verification finding"}
KNOWN_ENTITIES = ["case", "case_member", "incident", "incident_evidence", "evidence",
                  "custody_event", "qualification", "dossier", "provision", "instrument",
                  "suggestion_rule", "user", "api_token", "verification_run",
                  "verification_finding"]
# entity -> (page endpoint, its argument, the separator after the record's ref in entity_id)
RECORD_PAGES = {
    "case": ("cases.detail", "ref", None), "case_member": ("cases.detail", "ref", ":"),
    "incident": ("incidents.detail", "ref", None),
    "incident_evidence": ("incidents.detail", "ref", ":"),
    "evidence": ("evidence.detail", "ref", None), "custody_event": ("evidence.detail", "ref", "#"),
    "dossier": ("dossiers.detail", "ref", None), "provision": ("provisions.detail", "key", None),
    "verification_run": ("verification.detail", "ref", None),
    "verification_finding": ("verification.detail", "ref", "#"),
}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Snapshot fields that are bookkeeping, not something a reader checks.
QUIET_FIELDS = {"id", "version", "updated_at", "created_at"}


def action_words(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    if action.startswith("custody_"):
        return "Custody: " + action.removeprefix("custody_").replace("_", " ")
    return label(action)


def entity_words(entity: str) -> str:
    return ENTITY_LABELS.get(entity, label(entity))


def record_url(entity: str, entity_id: str) -> str | None:
    """The page of the record an entry is about, where the application has one."""
    if entity not in RECORD_PAGES:
        return None
    endpoint, argument, separator = RECORD_PAGES[entity]
    ref = entity_id.split(separator, 1)[0] if separator else entity_id
    return url_for(endpoint, **{argument: ref}) if ref else None


@bp.route("")
@role_required(*READERS)
def index():
    form = AuditFilterForm(request.args)
    form.validate()
    flt = log.AuditFilter(
        case_ref=form.valid("case_ref"), actor=form.valid("actor"), entity=form.valid("entity"),
        action=form.valid("action"), time_from=day_start(form.valid("date_from")),
        time_to=day_end(form.valid("date_to")), newest_first=form.valid("order") != "seq")
    size = current_app.config["PAGE_SIZE"]
    db, page = get_session(), min(form.valid("page") or 1, MAX_PAGE)
    rows, total = log.search_entries(db, flt, offset=(page - 1) * size, limit=size)
    pages = max(1, ceil(total / size))
    if page > pages:
        page = pages
        rows, total = log.search_entries(db, flt, offset=(page - 1) * size, limit=size)
    entries = [(entry, _rows(log.entry_changes(entry), _labels(entry.entity)),
                log.is_new_record(entry)) for entry in rows]
    return _render("audit/log.html", form=form, entries=entries,
                   pager=pager_for(form, page, pages, total),
                   entities=KNOWN_ENTITIES, actions=sorted(ACTION_LABELS))


@bp.route("/history/<entity>/<path:entity_id>")
@role_required(*READERS)
def history(entity, entity_id):
    if CONTROL_CHARACTERS.search(entity + entity_id):  # never a ref; PostgreSQL refuses NUL
        raise NotFound("There is no such record in the audit log.")
    entries = [(entry, _rows(fields, _labels(entry.entity)))
               for entry, fields in log.history(get_session(), entity, entity_id, related=True)]
    return _render("audit/history.html", entity=entity, entity_id=entity_id, entries=entries,
                   page_url=record_url(entity, entity_id))


def _render(template: str, **context):
    return render_template(template, action_words=action_words, entity_words=entity_words,
                           record_url=record_url, **context)


def _labels(entity: str) -> dict:
    """How the pages name an entity's fields, where they have their own words for them."""
    return log.field_labels(current_app, entity)


def _rows(fields: dict, labels: dict | None = None) -> list[dict]:
    """Changed fields in words: field, from, to; bookkeeping and still-empty fields left out."""
    labels, rows = labels or {}, []
    for name, (old, new) in fields.items():
        if name in QUIET_FIELDS or name.endswith("_id"):
            continue
        shown = {"field": labels.get(name, label(name)), "from": _words(name, old),
                 "to": _words(name, new)}
        if shown["from"] != shown["to"]:
            rows.append(shown)
    return rows


def _words(name: str, value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return display_value(name, value)
