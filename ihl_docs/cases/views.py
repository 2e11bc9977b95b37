"""Case pages: the list, opening a case, its page, editing it, adding members."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import func, select

from ihl_docs.cases import services
from ihl_docs.cases.forms import AttributionForm, CaseEditForm, CaseForm, MemberForm
from ihl_docs.core.access import (
    can_create_case,
    can_do_legal_work,
    can_edit_case,
    case_for,
    visible_cases,
)
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput, NotFound, StaleVersion
from ihl_docs.core.forms_support import COUNTRIES, options, validated
from ihl_docs.core.models import Case, CaseCreate, CaseUpdate, Evidence, Incident, PartyKind
from ihl_docs.core.web import case_sections, commit_form

bp = Blueprint("cases", __name__)


@bp.route("/")
@login_required
def index():
    db, user = get_session(), current_user.user
    cases = db.exec(visible_cases(db, user).order_by(Case.ref)).all()
    counts = dict(db.exec(select(Incident.case_id, func.count()).group_by(Incident.case_id)).all())
    return render_template("cases/index.html", cases=cases, counts=counts,
                           can_create=can_create_case(user))


@bp.route("/cases/new", methods=["GET", "POST"])
@login_required
def new():
    db, user = get_session(), current_user.user
    if not can_create_case(user):
        raise Forbidden("Only investigators and administrators open cases.")
    form = CaseForm()
    status = 422
    if form.is_submitted() and (data := _checked(form, CaseCreate)):
        post = commit_form(form, lambda: services.create_case(db, data, actor=user),
                           refused=(InvalidInput, Conflict), full_messages=True)
        if post.saved:
            case = post.result
            flash(f"Case {case.ref} opened. You are its first member.", "success")
            return redirect(url_for("cases.detail", ref=case.ref))
        status = post.status
    return _form_page(form, None, status if form.is_submitted() else 200)


@bp.route("/cases/<ref>")
@login_required
def detail(ref):
    db = get_session()
    return _detail_page(case_for(db, current_user.user, ref), MemberForm())


@bp.route("/cases/<ref>/edit", methods=["GET", "POST"])
@login_required
def edit(ref):
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref, write=True)
    initial = CaseEditForm.initial(case, services.parties(db, case))
    form = CaseEditForm(data=None if request.method == "POST" else initial)
    if len(form.parties) - len(initial["parties"]) < 2:
        form.parties.append_entry()
    status, conflict = 422, None
    if form.is_submitted() and (data := _checked(form, CaseUpdate, case)):
        post = commit_form(form, lambda: services.update_case(
            db, case, data, expected_version=form.version.data, actor=user),
            refused=(StaleVersion, InvalidInput))
        if post.saved:
            flash(f"Case {case.ref} saved.", "success")
            return redirect(url_for("cases.detail", ref=case.ref))
        status, conflict = post.status, post.conflict
    return _form_page(form, case, status if form.is_submitted() else 200, conflict)


@bp.route("/cases/<ref>/members", methods=["POST"])
@login_required
def add_member(ref):
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref, write=True)
    form = MemberForm()
    status = 422
    if form.validate_on_submit():
        post = commit_form(form, lambda: services.add_member(db, case, form.email.data,
                                                             actor=user),
                           refused=(NotFound, Conflict), full_messages=True)
        if post.saved:
            flash(f"{post.result.email} is now a member of {case.ref}.", "success")
            return redirect(url_for("cases.detail", ref=case.ref) + "#members")
        status = post.status
    return _detail_page(case, form), status


def _checked(form, model, case=None):
    """The form's own checks, then the model's; the data only if both passed. Editing a case
    keeps each non-state party's attribution (recorded on its own page)."""
    form_ok = form.validate()
    values = form.case_data()
    if case is not None:
        kept = {p.name: p for p in services.parties(get_session(), case)}
        for party in values["parties"]:
            old = kept.get(party["name"])
            if old is not None and old.attributed_state and party["kind"] != PartyKind.state:
                party.update({"attributed_state": old.attributed_state,
                              "attribution": old.attribution,
                              "attribution_note": old.attribution_note,
                              "attribution_evidence": old.attribution_evidence})
    data = validated(form, model, values)
    return data if form_ok else None


@bp.route("/cases/<ref>/attribution", methods=["GET", "POST"])
@login_required
def attribution(ref):
    """Record that a non-state party is alleged to act for, or under the control of, a state."""
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref)
    if not (can_edit_case(db, user, case) or can_do_legal_work(db, user, case)):
        raise Forbidden("Only the case's investigators and lawyers record attributions.")
    groups = [p for p in services.parties(db, case) if p.kind == PartyKind.non_state]
    chosen = next((p for p in groups if p.name == request.args.get("party")),
                  groups[0] if groups else None)
    initial = {"version": case.version}
    if chosen is not None:
        initial.update(party=chosen.name, attribution=chosen.attribution or "",
                       attributed_state=chosen.attributed_state or "",
                       attribution_note=chosen.attribution_note,
                       attribution_evidence=chosen.attribution_evidence)
    form = AttributionForm(data=None if request.method == "POST" else initial)
    form.party.choices = options([(p.name, p.name) for p in groups])
    refs = db.exec(select(Evidence.ref, Evidence.title).where(Evidence.case_id == case.id)
                   .order_by(Evidence.ref)).all()
    form.attribution_evidence.choices = options([(r, f"{r} — {t}") for r, t in refs])
    status, conflict = 200, None
    if form.is_submitted():
        status = 422
        if form.validate():
            post = commit_form(form, lambda: services.set_attribution(
                db, case, form.party.data, state=form.attributed_state.data,
                attribution=form.attribution.data, note=form.attribution_note.data or "",
                evidence=form.attribution_evidence.data or [],
                expected_version=form.version.data, actor=user),
                refused=(StaleVersion, InvalidInput), full_messages=True)
            if post.saved:
                flash(f"Attribution of {form.party.data} saved.", "success")
                return redirect(url_for("cases.detail", ref=case.ref) + "#parties-title")
            status, conflict = post.status, post.conflict
    return render_template("cases/attribution.html", form=form, case=case, groups=groups,
                           conflict=conflict, countries=COUNTRIES), status


def _form_page(form, case, status, conflict=None):
    return render_template("cases/form.html", form=form, case=case, conflict=conflict,
                           countries=COUNTRIES), status


def _detail_page(case, member_form):
    db, user = get_session(), current_user.user
    return render_template(
        "cases/detail.html", case=case, parties=services.parties(db, case),
        members=services.members(db, case), can_edit=can_edit_case(db, user, case),
        can_attribute=can_edit_case(db, user, case) or can_do_legal_work(db, user, case),
        member_form=member_form, case_sections=case_sections(current_app, db, user, case),
    )
