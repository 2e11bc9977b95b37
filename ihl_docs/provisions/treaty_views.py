"""Treaty pages: which states are bound by which instrument, and the ICC's jurisdiction facts;
the legal team adds and corrects them here."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlmodel import select

from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Forbidden, InvalidInput, StaleVersion
from ihl_docs.core.forms_support import validated
from ihl_docs.core.models import IccBasis, Instrument, Role
from ihl_docs.core.web import commit_form
from ihl_docs.provisions import services, treaties
from ihl_docs.provisions.forms import IccFactForm, ParticipationForm, TreatyFilterForm

bp = Blueprint("treaties", __name__)

CORRECTORS = {Role.admin, Role.legal}
REFUSAL = "Only lawyers and administrators enter or correct treaty participation."


def _can_correct() -> bool:
    return current_user.user.role in CORRECTORS


def _require_corrector() -> None:
    if not _can_correct():
        raise Forbidden(REFUSAL)


def _state_or_404(state: str) -> str:
    if not treaties.known_state(state) or len(state) != 3 or not state.isupper():
        abort(404)
    return state


@bp.route("/treaties")
@login_required
def index():
    """The states with participation rows, with counts per status; filter by state or
    instrument."""
    db = get_session()
    instruments = services.instruments(db)
    form = TreatyFilterForm(request.args, instruments=instruments)
    form.validate()
    state = (form.state.data or "").upper() if not form.state.errors else None
    instrument = form.instrument.data or None if not form.instrument.errors else None
    if state and not treaties.known_state(state):
        form.state.errors = [*form.state.errors, f"{state} is not an ISO 3166 alpha-3 code."]
        state = None
    rows = treaties.states_summary(db, state=state or None, instrument=instrument)
    return render_template("treaties/index.html", form=form, rows=rows,
                           statuses=treaties.STATUS_WORDS)


@bp.route("/treaties/<state>")
@login_required
def state_page(state):
    """One state's row per instrument (or "unknown — no row"), and its ICC jurisdiction facts."""
    db = get_session()
    _state_or_404(state)
    return render_template("treaties/state.html", state=state,
                           name=treaties.state_name(state),
                           rows=treaties.state_rows(db, state),
                           icc=treaties.icc_facts(db, state),
                           statuses=treaties.STATUS_WORDS, can_correct=_can_correct())


@bp.route("/treaties/<state>/participation/<path:instrument>", methods=["GET", "POST"])
@login_required
def edit_participation(state, instrument):
    """Add or correct the state's row for one instrument (lawyers and administrators)."""
    db = get_session()
    _require_corrector()
    _state_or_404(state)
    found = db.exec(select(Instrument).where(Instrument.short_name == instrument)).first() \
        or abort(404)
    row = treaties.participation(db, found, state)
    initial = None
    if request.method != "POST":
        initial = {"version": row.version if row else 0, "confidence": "low"}
        if row is not None:
            initial.update({n: getattr(row, n) for n in (
                "status", "deposit", "action", "signature", "in_force_for_state",
                "withdrawal_effective", "source", "confidence")}, notes=row.detail)
    form = ParticipationForm(data=initial)
    conflict, status = None, 200
    if form.is_submitted():
        status = 422
        form_ok = form.validate()
        data = validated(form, treaties.ParticipationFields, form.data_for_service())
        if form_ok and data:
            post = commit_form(form, lambda: treaties.enter_participation(
                db, found.short_name, state, data, actor=current_user.user.email,
                expected_version=form.version.data), refused=(StaleVersion, InvalidInput),
                full_messages=True)
            if post.saved:
                flash(f"{treaties.state_name(state)}'s participation in {found.short_name} "
                      "saved.", "success")
                return redirect(url_for("treaties.state_page", state=state))
            status, conflict = post.status, post.conflict
    return render_template("treaties/participation_form.html", form=form, state=state,
                           name=treaties.state_name(state), instrument=found, row=row,
                           conflict=conflict), status


@bp.route("/treaties/<state>/icc", methods=["GET", "POST"])
@login_required
def edit_icc(state):
    """Add an ICC jurisdiction fact for the state, or (?key=…) correct one."""
    db = get_session()
    _require_corrector()
    _state_or_404(state)
    key = request.args.get("key")
    row = None
    if key:
        row = db.exec(select(IccBasis).where(IccBasis.key == key,
                                             IccBasis.state == state)).first() or abort(404)
    initial = None
    if request.method != "POST":
        initial = {"version": row.version if row else 0, "confidence": "low", "in_effect": True}
        if row is not None:
            initial.update({n: getattr(row, n) for n in treaties.ICC_FIELDS})
    form = IccFactForm(data=initial)
    conflict, status = None, 200
    if form.is_submitted():
        status = 422
        form_ok = form.validate()
        data = validated(form, treaties.IccFactFields, form.data_for_service(state))
        if form_ok and data:
            post = commit_form(form, lambda: treaties.enter_icc_fact(
                db, data, actor=current_user.user.email, key=key,
                expected_version=form.version.data if row else None),
                refused=(StaleVersion, InvalidInput), full_messages=True)
            if post.saved:
                flash("ICC jurisdiction fact saved.", "success")
                return redirect(url_for("treaties.state_page", state=state))
            status, conflict = post.status, post.conflict
    return render_template("treaties/icc_form.html", form=form, state=state,
                           name=treaties.state_name(state), row=row, conflict=conflict), status
