"""Qualification pages: an incident's provisions element by element, and the proof matrices."""

from functools import partial

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from ihl_docs.core.access import LEGAL_WORK, can_do_legal_work, case_for
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Conflict, InvalidInput, NotFound, StaleVersion
from ihl_docs.core.forms_support import stale_conflict
from ihl_docs.core.models import Evidence, Incident, Provision, Qualification, label
from ihl_docs.core.web import commit_form, load_for_user
from ihl_docs.evidence.services import evidence_of_incident
from ihl_docs.incidents import services as incident_services
from ihl_docs.provisions import services as provision_services
from ihl_docs.qualifications import applicability, services
from ihl_docs.qualifications.forms import (
    STANCE_CHOICES,
    STANCE_SYMBOLS,
    AssessmentForm,
    FindingForm,
    QualificationForm,
)

bp = Blueprint("qualifications", __name__)

# Above this many incidents, the case's matrix starts with every incident folded.
OPEN_UP_TO = 3


@bp.route("/incidents/<ref>/qualifications")
@login_required
def for_incident(ref):
    incident, case = _incident_for(ref)
    return _page(incident, case)


@bp.route("/incidents/<ref>/qualifications", methods=["POST"])
@login_required
def add(ref):
    """Qualify the incident under a provision (from the form or a suggestion's button)."""
    db, user = get_session(), current_user.user
    incident, case = _writable(ref)
    form = QualificationForm()
    status = 422
    if form.validate():
        post = commit_form(form, lambda: services.add_qualification(
            db, incident, form.provision_key.data, form.assessment.data,
            form.analysis.data or "", actor=user),
            refused=(InvalidInput, Conflict), full_messages=True)
        if post.saved:
            flash(f"{incident.ref} is now qualified under {form.provision_key.data} "
                  f"({label(form.assessment.data).lower()}).", "success")
            return _back(ref, post.result.id)
        status = post.status
    return _page(incident, case, {"add": form}, failed="add"), status


@bp.route("/incidents/<ref>/qualifications/<int:qid>", methods=["POST"])
@login_required
def update(ref, qid):
    """Change the assessment and analysis of one qualification."""
    db, user = get_session(), current_user.user
    incident, case = _writable(ref)
    qualification = _qualification_of(incident, qid)
    form = AssessmentForm(prefix=f"q{qid}")
    status, conflict = 422, None
    if form.validate():
        post = commit_form(form, lambda: services.update_qualification(
            db, qualification, assessment=form.assessment.data,
            analysis=form.analysis.data or "", expected_version=form.version.data, actor=user),
            refused=(StaleVersion, InvalidInput), full_messages=True,
            stale=partial(_conflict, anchor=f"q{qid}"))
        if post.saved:
            _saved(qualification, form.version.data, "Assessment and analysis saved.")
            return _back(ref, qid)
        status, conflict = post.status, post.conflict
    return _page(incident, case, {f"q{qid}": form}, failed=f"q{qid}", conflict=conflict), status


@bp.route("/incidents/<ref>/qualifications/<int:qid>/elements/<int:number>", methods=["POST"])
@login_required
def record_finding(ref, qid, number):
    """The finding on one element and the evidence cited for it."""
    db, user = get_session(), current_user.user
    incident, case = _writable(ref)
    qualification = _qualification_of(incident, qid)
    key = f"q{qid}-e{number}"
    form = FindingForm(prefix=key)
    status, conflict = 422, None
    if form.validate():
        post = commit_form(form, lambda: services.set_finding(
            db, qualification, number, form.status.data, form.note.data or "",
            form.evidence.citations(), expected_version=form.version.data, actor=user),
            refused=(StaleVersion, InvalidInput), full_messages=True,
            stale=partial(_conflict, anchor=key))
        if post.saved:
            _saved(qualification, form.version.data, f"Finding on element {number} saved.")
            return _back(ref, qid, number)
        status, conflict = post.status, post.conflict
    return _page(incident, case, {key: form}, failed=key, conflict=conflict), status


@bp.route("/incidents/<ref>/proof-matrix")
@login_required
def incident_matrix(ref):
    db = get_session()
    incident, case = _incident_for(ref)
    matrix = services.proof_matrix(db, incident)
    return render_template("qualifications/incident_matrix.html", incident=incident, case=case,
                           matrix=matrix, **_matrix_context(db, case, [(incident, matrix)]))


@bp.route("/cases/<ref>/proof-matrix")
@login_required
def case_matrix(ref):
    """Every incident's matrix on one page, the gaps of the whole case first."""
    db = get_session()
    case = case_for(db, current_user.user, ref)
    incidents = db.exec(select(Incident).where(Incident.case_id == case.id)
                        .order_by(Incident.ref)).all()
    by_id = services.proof_matrices(db, incidents)
    matrices = [(incident, by_id[incident.id]) for incident in incidents]
    context = _matrix_context(db, case, matrices)
    summary = {"gaps": [(i, row) for i, m in matrices for row in m.gaps],
               "uncited": [(i, ref) for i, m in matrices for ref in m.uncited],
               "elements": sum(len(m.rows) for _, m in matrices),
               "unqualified": [i for i in incidents if not context["qualified"][i.id]]}
    return render_template("qualifications/case_matrix.html", case=case, matrices=matrices,
                           summary=summary, open_all=len(incidents) <= OPEN_UP_TO, **context)


# ---- helpers ------------------------------------------------------------------------------------

def _incident_for(ref: str):
    """The incident and its case if the user may read the case; otherwise 'not found'."""
    return load_for_user(Incident, ref)


def _writable(ref: str):
    return load_for_user(Incident, ref, need=LEGAL_WORK)


def _qualification_of(incident: Incident, qid: int):
    qualification = services.get_qualification(get_session(), qid)
    if qualification.incident_id != incident.id:
        raise NotFound(f"No qualification {qid}.")
    return qualification


def _back(ref: str, qid: int, number: int | None = None):
    anchor = f"q{qid}-e{number}" if number else f"q{qid}"
    return redirect(url_for("qualifications.for_incident", ref=ref, _anchor=anchor))


def _saved(qualification, expected_version: int, message: str) -> None:
    """A saved form whose values were those stored already changes nothing (and says so)."""
    if qualification.version == expected_version:
        flash("Nothing was changed.", "success")
    else:
        flash(f"{message} Now version {qualification.version}.", "success")


def _conflict(form, exc: StaleVersion, anchor: str) -> dict:
    exc.changes = [_readable(c) for c in exc.changes]
    return {**stale_conflict(form, exc), "anchor": anchor}


def _readable(change: dict) -> dict:
    """A change from the audit log in words: the assessment, and the findings element by element."""
    def words(value):
        if change["field"] == "assessment" and value:
            return label(value)
        if change["field"] != "elements" or not isinstance(value, list):
            return value
        return " ".join(
            f"{e.get('number')}: {label(e.get('status', ''))}"
            + "".join(f" {STANCE_SYMBOLS.get(c.get('stance'), '')}{c.get('ref')}"
                      for c in e.get("evidence", [])) + ";"
            for e in value if isinstance(e, dict)) or None
    return {**change, "field": "findings" if change["field"] == "elements" else change["field"],
            "from": words(change["from"]), "to": words(change["to"])}


def _catalogue(db) -> list[tuple[Provision, str]]:
    """Every provision with its instrument's short name, for the select."""
    names = {i.id: i.short_name for i in provision_services.instruments(db)}
    rows, _ = provision_services.search_provisions(db, provision_services.ProvisionFilter(),
                                                   limit=100_000)
    return [(p, names[p.instrument_id]) for p in rows]


def _by_key(db, keys) -> dict[str, Provision]:
    keys = sorted(set(keys))
    if not keys:
        return {}
    return {p.key: p for p in db.exec(select(Provision).where(Provision.key.in_(keys)))}


def _page(incident, case, submitted: dict | None = None, *, failed: str | None = None,
          conflict: dict | None = None):
    """The qualification page; `submitted` holds the refused form, shown as it was sent."""
    db, user = get_session(), current_user.user
    submitted = submitted or {}
    writer = can_do_legal_work(db, user, case)
    reads = [services.qualification_read(db, q) for q in services.qualifications_of(db, incident)]
    evidence = [item for item, _ in evidence_of_incident(db, incident)]
    suggested = services.suggestions(db, incident) if writer else []
    keys = [k for r in reads for w in r["warnings"] for k in w["suggested_provisions"]]
    taken = {r["provision_key"] for r in reads}
    forms = {}
    if writer:
        forms["add"] = (submitted.get("add") or QualificationForm(formdata=None)).offer(
            [(p, name) for p, name in _catalogue(db) if p.key not in taken])
        forms.update(_stored_forms(reads, submitted))
    return render_template(
        "qualifications/incident.html", incident=incident, case=case, reads=reads,
        facts=incident_services.incident_read(db, incident), evidence=evidence,
        evidence_by_ref={e.ref: e for e in evidence}, provisions=_by_key(
            db, keys + [r["provision_key"] for r in reads]), taken=taken, writer=writer,
        suggestions=[(p, reason, applicability.check(db, incident, p)) for p, reason in suggested],
        forms=forms, failed=failed, conflict=conflict, matrix=services.proof_matrix(db, incident),
        stance_choices=STANCE_CHOICES, symbols=STANCE_SYMBOLS)


def _stored_forms(reads: list[dict], submitted: dict) -> dict:
    """The assessment form of each qualification and the finding form of each element."""
    forms = {}
    for read in reads:
        key = f"q{read['id']}"
        forms[key] = submitted.get(key) or AssessmentForm(
            formdata=None, prefix=key, data={"assessment": read["assessment"],
                                             "analysis": read["analysis"],
                                             "version": read["version"]})
        for element in read["elements"]:
            key = f"q{read['id']}-e{element['number']}"
            forms[key] = submitted.get(key) or FindingForm(formdata=None, prefix=key, data={
                "status": element["status"], "note": element["note"], "version": read["version"],
                "evidence": {c["ref"]: c["stance"] for c in element["evidence"]}})
    return forms


def _matrix_context(db, case, matrices) -> dict:
    """What the matrices name: evidence and provision titles, each incident's provisions and,
    of those, the ones with no elements to test (they have no rows)."""
    titles = dict(db.exec(select(Evidence.ref, Evidence.title)
                          .where(Evidence.case_id == case.id)).all())
    qualified = {i.id: [] for i, _ in matrices}
    rows = db.exec(select(Qualification.incident_id, Provision.key)
                   .join(Provision, Provision.id == Qualification.provision_id)
                   .where(Qualification.incident_id.in_(list(qualified)))
                   .order_by(Qualification.id))
    for incident_id, key in rows:
        qualified[incident_id].append(key)
    with_rows = {i.id: {row.provision_key for row in m.rows} for i, m in matrices}
    return {"evidence_titles": titles, "qualified": qualified,
            "without_elements": {i: [k for k in keys if k not in with_rows[i]]
                                 for i, keys in qualified.items()},
            "provision_titles": {k: p.title for k, p in _by_key(
                db, [k for keys in qualified.values() for k in keys]).items()},
            "symbols": STANCE_SYMBOLS, "short": lambda ref: ref.removeprefix(f"{case.ref}-")}
