"""Provision pages: the catalogue with search and filters, a provision's page, its correction."""

from math import ceil

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Forbidden, InvalidInput, StaleVersion
from ihl_docs.core.forms_support import stale_conflict, validated
from ihl_docs.core.models import Instrument, InstrumentParty, Provision, Role, SuggestionRule, User
from ihl_docs.core.web import MAX_PAGE, commit_form, pager_for
from ihl_docs.provisions import services
from ihl_docs.provisions.forms import (
    APPLIES_TO_WORDS,
    BINDS_WORDS,
    ProvisionFilterForm,
    ProvisionForm,
    SuggestionRuleForm,
)

bp = Blueprint("provisions", __name__)

CORRECTORS = {Role.admin, Role.legal}


@bp.app_template_filter("applies_to")
def applies_to_words(value: str) -> str:
    return APPLIES_TO_WORDS.get(value, value)


def can_correct(user: User) -> bool:
    return user.role in CORRECTORS


@bp.route("/provisions")
@login_required
def index():
    """The catalogue: full-text search, filters by instrument, category and kind of conflict."""
    db = get_session()
    instruments = services.instruments(db)
    form = ProvisionFilterForm(request.args, instruments=instruments,
                               categories=services.categories(db))
    form.validate()
    flt = services.ProvisionFilter(q=form.valid("q"), instrument=form.valid("instrument"),
                                   category=form.valid("category"),
                                   applies_to=form.valid("applies_to"))
    size = current_app.config["PAGE_SIZE"]
    page = min(form.valid("page") or 1, MAX_PAGE)
    rows, total = services.search_provisions(db, flt, offset=(page - 1) * size, limit=size)
    pages = max(1, ceil(total / size))
    if page > pages:
        page = pages
        rows, total = services.search_provisions(db, flt, offset=(page - 1) * size, limit=size)
    return render_template("provisions/list.html", form=form, provisions=rows,
                           instruments={i.id: i for i in instruments},
                           pager=pager_for(form, page, pages, total))


@bp.route("/provisions/<key>")
@login_required
def detail(key):
    db = get_session()
    provision = services.get_provision(db, key)
    return render_template("provisions/detail.html",
                           provision=services.provision_read(db, provision),
                           related=services.related(db, provision),
                           instrument=db.get(Instrument, provision.instrument_id),
                           parties=_parties(db, provision.instrument_id),
                           binds_words=BINDS_WORDS,
                           can_correct=can_correct(current_user.user))


@bp.route("/provisions/<key>/edit", methods=["GET", "POST"])
@login_required
def edit(key):
    """Correct a provision; a save based on an older version shows what changed meanwhile."""
    db, user = get_session(), current_user.user
    if not can_correct(user):
        raise Forbidden("Only lawyers and administrators correct the catalogue.")
    provision = services.get_provision(db, key)
    read = services.provision_read(db, provision)
    initial = None if request.method == "POST" else ProvisionForm.initial(read)
    form = ProvisionForm(data=initial, verification=read["verification"])
    status, conflict = 422, None
    if form.is_submitted() and (data := _checked(form)):
        post = commit_form(form, lambda: services.correct_provision(
            db, provision, data, expected_version=form.version.data, actor=user),
            refused=(StaleVersion, InvalidInput), stale=_conflict)
        if post.saved:
            changed = provision.version != form.version.data
            flash(f"{key} corrected; now version {provision.version}." if changed
                  else "Nothing was changed.", "success")
            return redirect(url_for("provisions.detail", key=key))
        status, conflict = post.status, post.conflict
    return render_template("provisions/form.html", form=form, provision=read, conflict=conflict,
                           categories=services.categories(db)), \
        status if form.is_submitted() else 200


def _checked(form):
    """The form's own checks, then ProvisionCorrection's, so one round shows every message."""
    form_ok = form.validate()
    data = validated(form, services.ProvisionCorrection, form.correction_data())
    return data if form_ok and data else None


def _conflict(form, exc: StaleVersion) -> dict:
    exc.changes = [_readable(c) for c in exc.changes]
    return stale_conflict(form, exc)


def _readable(change: dict) -> dict:
    """A change from the audit log with elements and related keys written as a person reads them."""
    def words(value):
        if change["field"] == "elements" and isinstance(value, list):
            return " ".join(f"{e.get('number')}. {e.get('text')}" for e in value
                            if isinstance(e, dict)) or None
        if change["field"] == "related" and isinstance(value, list):
            return " ".join(map(str, value)) or None
        return value
    return {**change, "from": words(change["from"]), "to": words(change["to"])}


def _parties(db, instrument_id: int) -> list[InstrumentParty]:
    return list(db.exec(select(InstrumentParty)
                        .where(InstrumentParty.instrument_id == instrument_id)
                        .order_by(InstrumentParty.state)))


@bp.route("/provisions/suggestions", methods=["GET", "POST"])
@login_required
def suggestions():
    """The editable mapping from incident type and weapon to candidate provisions."""
    db = get_session()
    form = SuggestionRuleForm()
    status = 200
    if request.method == "POST":
        if not can_correct(current_user):
            raise Forbidden("Only lawyers and administrators edit the suggestions.")
        status = 422
        if form.validate_on_submit():
            post = commit_form(form, lambda: services.add_rule(
                db, incident_type=form.incident_type.data or None,
                weapon_keyword=form.weapon_keyword.data or "",
                requires_civilian_objects=form.requires_civilian_objects.data,
                provision_key=form.provision_key.data, reason=form.reason.data or "",
                actor=current_user.user))
            if post.saved:
                flash("Suggestion added.", "success")
                return redirect(url_for("provisions.suggestions"))
    rules = db.exec(select(SuggestionRule).where(SuggestionRule.active)
                    .order_by(SuggestionRule.incident_type, SuggestionRule.id)).all()
    keys = db.exec(select(Provision.key).order_by(Provision.key)).all()
    return render_template("provisions/suggestions.html", form=form, rules=rules, keys=keys,
                           can_edit=can_correct(current_user)), status


@bp.route("/provisions/suggestions/<int:rule_id>/retire", methods=["POST"])
@login_required
def retire_suggestion(rule_id):
    from flask import abort
    from flask_wtf import FlaskForm

    db = get_session()
    rule = db.get(SuggestionRule, rule_id) or abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    services.retire_rule(db, rule, actor=current_user.user)
    db.commit()
    flash("Suggestion retired; it is kept in the audit log.", "success")
    return redirect(url_for("provisions.suggestions"))
