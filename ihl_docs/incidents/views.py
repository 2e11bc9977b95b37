"""Incident pages: lists with filters, filing, the incident's page, editing, workflow steps."""

from math import ceil

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from ihl_docs.cases.services import parties
from ihl_docs.core.access import (
    EDIT,
    READ_ALL_ROLES,
    allowed_transitions,
    can_edit_case,
    case_for,
    visible_cases,
)
from ihl_docs.core.audit import history as audit_log
from ihl_docs.core.db import get_session
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import InvalidInput, StaleVersion
from ihl_docs.core.forms_support import (
    COUNTRIES,
    add_errors,
    day_end,
    day_start,
    display_value,
    validated,
)
from ihl_docs.core.models import Case, Incident, IncidentCreate, WorkflowStatus, label
from ihl_docs.core.web import MAX_PAGE, commit_form, load_for_user, pager_for
from ihl_docs.evidence.services import evidence_of_incident
from ihl_docs.incidents import services
from ihl_docs.incidents.forms import (
    FIELD_LABELS,
    IncidentEditForm,
    IncidentFilterForm,
    IncidentForm,
    StatusForm,
)

bp = Blueprint("incidents", __name__)

COUNT_LIMIT = 10_000  # the lists count their matches up to here, then say "more than"

# Audit snapshot fields that are bookkeeping, not facts a reader needs in the history.
HISTORY_SKIP = {"id", "case_id", "responsible_party_id", "version", "updated_at", "created_at",
                "created_by_id"}


@bp.route("/incidents")
@login_required
def search():
    return _list_page(None)


@bp.route("/cases/<ref>/incidents")
@login_required
def case_incidents(ref):
    return _list_page(case_for(get_session(), current_user.user, ref))


@bp.route("/cases/<ref>/incidents/new", methods=["GET", "POST"])
@login_required
def new(ref):
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref, write=True)
    form = IncidentForm(parties=parties(db, case))
    if form.is_submitted() and (data := _checked(form)):
        post = commit_form(form, lambda: services.create_incident(db, case, data, actor=user))
        if post.saved:
            incident = post.result
            flash(f"Incident {incident.ref} filed as a draft.", "success")
            return redirect(url_for("incidents.detail", ref=incident.ref))
    return _form_page(form, case, None, 422 if form.is_submitted() else 200)


@bp.route("/incidents/<ref>")
@login_required
def detail(ref):
    incident, case = _incident_for(ref)
    return _detail_page(incident, case)


@bp.route("/incidents/<ref>/edit", methods=["GET", "POST"])
@login_required
def edit(ref):
    db, user = get_session(), current_user.user
    incident, case = _incident_for(ref, write=True)
    initial = None
    if request.method != "POST":
        initial = IncidentForm.initial(incident, services.incident_read(db, incident)
                                       .responsible_party)
    form = IncidentEditForm(data=initial, parties=parties(db, case))
    status, conflict = 422, None
    if form.is_submitted() and (data := _checked(form)):
        post = commit_form(form, lambda: services.update_incident(
            db, incident, data.model_dump(), expected_version=form.version.data, actor=user),
            refused=(StaleVersion, InvalidInput))
        if post.saved:
            flash(f"Incident {incident.ref} saved.", "success")
            return redirect(url_for("incidents.detail", ref=incident.ref))
        status, conflict = post.status, post.conflict
    return _form_page(form, case, incident, status if form.is_submitted() else 200, conflict)


@bp.route("/incidents/<ref>/status", methods=["POST"])
@login_required
def change_status(ref):
    db, user = get_session(), current_user.user
    incident, case = _incident_for(ref)
    form = StatusForm()
    if not form.validate_on_submit():
        raise InvalidInput("The request did not say which step to take; reload the page.")
    post = commit_form(form, lambda: services.change_status(
        db, incident, form.to.data, expected_version=form.version.data, actor=user,
        note=form.note.data or ""), refused=(StaleVersion, InvalidInput), full_messages=True,
        stale=_status_conflict)
    if not post.saved:
        return _detail_page(services.get_incident(db, ref), case, post.conflict,
                            status_form=form), post.status
    flash(f"Incident {ref} is now: {label(form.to.data)}.", "success")
    return redirect(url_for("incidents.detail", ref=ref))


def _incident_for(ref: str, *, write: bool = False):
    """The incident and its case if the user may see them; otherwise 'not found', whatever the
    reason, so that another case's incidents are not revealed."""
    return load_for_user(Incident, ref, need=EDIT if write else None)


def _status_conflict(_form, exc: StaleVersion) -> dict:
    """A workflow step based on an older version: what changed meanwhile, in words."""
    return {"message": exc.message, "rows": _change_rows(exc.changes)}


def _checked(form):
    """The form's own checks, then IncidentCreate's; the data only if both passed.

    On a refusal the rules that span fields are checked too, so that one round shows every
    message (the service checks them again on saving).
    """
    form_ok = form.validate()
    values = form.incident_data()
    data = validated(form, IncidentCreate, values)
    if form_ok and data:
        return data
    trusted = {name: value for name, value in values.items() if not form[name].errors}
    add_errors(form, services.incident_problems(trusted, utcnow()))
    return None


def _form_page(form, case, incident, status, conflict=None):
    return render_template("incidents/form.html", form=form, case=case, incident=incident,
                           conflict=conflict, countries=COUNTRIES), status


def _detail_page(incident, case, conflict=None, status_form=None):
    db, user = get_session(), current_user.user
    editable = (can_edit_case(db, user, case)
                and incident.workflow_status != WorkflowStatus.approved)
    transitions = allowed_transitions(db, user, case, incident.workflow_status)
    approving = WorkflowStatus.approved in transitions
    return render_template(
        "incidents/detail.html", incident=incident, case=case,
        facts=services.incident_read(db, incident), history=_history(db, incident.ref),
        transitions=transitions, can_edit=editable, conflict=conflict,
        status_form=status_form or StatusForm(formdata=None),
        approval_gaps=services.approval_gaps(db, incident) if approving else [],
        evidence=evidence_of_incident(db, incident), can_add_evidence=can_edit_case(db, user, case),
    )


def _change_rows(changes: list[dict]) -> list[dict]:
    """Changed fields as rows to show, in words, bookkeeping fields left out."""
    return [{"field": FIELD_LABELS.get(c["field"], label(c["field"])), "by": c["by"],
             "from": display_value(c["field"], c["from"]),
             "to": display_value(c["field"], c["to"]), "at": display_value("at", c["at"])}
            for c in changes if c["field"] not in HISTORY_SKIP]


def _history(db, ref: str) -> list[dict]:
    """The incident's audit entries, oldest first, each with the fields it changed."""
    history = []
    for entry, fields in audit_log.history(db, "incident", ref):
        rows = [] if entry.action == "create" else _change_rows(
            [{"field": f, "from": old, "to": new, "by": entry.actor, "at": None}
             for f, (old, new) in fields.items()])
        history.append({"seq": entry.seq, "at": entry.occurred_at, "actor": entry.actor,
                        "action": entry.action, "rows": rows})
    return history


def _list_page(case):
    db, user = get_session(), current_user.user
    form = IncidentFilterForm(request.args)
    form.validate()
    flt = services.IncidentFilter(
        incident_type=form.valid("incident_type"),
        verification_status=form.valid("verification_status"),
        workflow_status=form.valid("workflow_status"),
        date_from=day_start(form.valid("date_from")), date_to=day_end(form.valid("date_to")),
        q=form.valid("q"),
    )
    if case is None and user.role not in READ_ALL_ROLES:
        flt.case_ids = list(db.exec(visible_cases(db, user).with_only_columns(Case.id)).all())
    size = current_app.config["PAGE_SIZE"]
    page = min(form.valid("page") or 1, MAX_PAGE)
    # Counting stops past COUNT_LIMIT (and past this page): "more than 10,000" is enough to
    # read, and counting every match of a broad search costs more than the page itself.
    count_limit = max(COUNT_LIMIT, page * size)
    rows, total = services.search_incidents(db, case, flt, offset=(page - 1) * size, limit=size,
                                            count_limit=count_limit)
    pages = max(1, ceil(total / size))
    if page > pages:
        page = pages
        rows, total = services.search_incidents(db, case, flt, offset=(page - 1) * size,
                                                limit=size, count_limit=count_limit)
    case_refs = None if case else {c.id: c.ref for c in db.exec(
        select(Case).where(Case.id.in_({r.case_id for r in rows})))}
    more_than = f"{count_limit:,}" if total > count_limit else None
    return render_template("incidents/list.html", case=case, form=form, incidents=rows,
                           case_refs=case_refs, pager=pager_for(form, page, pages, total),
                           more_than=more_than)
