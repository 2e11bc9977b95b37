"""Case pages: the list, opening a case, its page, editing it, adding members."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import func, select

from ihl_docs.cases import services
from ihl_docs.cases.forms import CaseEditForm, CaseForm, MemberForm
from ihl_docs.core.access import can_create_case, can_edit_case, case_for, visible_cases
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput, NotFound, StaleVersion
from ihl_docs.core.forms_support import COUNTRIES, validated
from ihl_docs.core.models import Case, CaseCreate, CaseUpdate, Incident
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
    if form.is_submitted() and (data := _checked(form, CaseUpdate)):
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


def _checked(form, model):
    """The form's own checks, then the model's; the data only if both passed."""
    form_ok = form.validate()
    data = validated(form, model, form.case_data())
    return data if form_ok else None


def _form_page(form, case, status, conflict=None):
    return render_template("cases/form.html", form=form, case=case, conflict=conflict,
                           countries=COUNTRIES), status


def _detail_page(case, member_form):
    db, user = get_session(), current_user.user
    return render_template(
        "cases/detail.html", case=case, parties=services.parties(db, case),
        members=services.members(db, case), can_edit=can_edit_case(db, user, case),
        member_form=member_form, case_sections=case_sections(current_app, db, user, case),
    )
