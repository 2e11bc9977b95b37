"""The protected-terms page of a case: the register, adding and withdrawing entries, and each
staff member's consent to be named in court and public editions."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ihl_docs.core.access import case_for
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput
from ihl_docs.core.models import TermMatch
from ihl_docs.core.web import commit_form
from ihl_docs.protection import services
from ihl_docs.protection.forms import NamedForm, TermForm, WithdrawForm

bp = Blueprint("protection", __name__)


@bp.route("/cases/<ref>/protected-terms")
@login_required
def register(ref):
    return _page(ref, TermForm())


@bp.route("/cases/<ref>/protected-terms", methods=["POST"])
@login_required
def add(ref):
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref)
    if not services.can_manage(db, user, case):
        raise Forbidden("Only the case's investigators and lawyers manage its protected terms.")
    form = TermForm()
    if form.validate_on_submit():
        post = commit_form(form, lambda: services.add_term(
            db, case, kind=form.kind.data, match=form.match.data, term=form.term.data,
            note=form.note.data or "", actor=user), full_messages=True)
        if post.saved:
            flash(f"Entry {post.result.number} added: court and public editions print it as "
                  f"[protected {post.result.number}].", "success")
            return redirect(url_for("protection.register", ref=case.ref))
    return _page(ref, form, 422)


@bp.route("/cases/<ref>/protected-terms/withdraw", methods=["POST"])
@login_required
def withdraw(ref):
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref)
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash("Choose the entry to withdraw.", "error")
        return _page(ref, TermForm(formdata=None), 422)
    post = commit_form(form, lambda: services.withdraw_term(
        db, case, form.number.data, form.version.data, user),
        refused=(InvalidInput, Conflict), full_messages=True)
    if post.saved:
        flash(f"Entry {form.number.data} withdrawn: it stays in the register, inactive.",
              "success")
        return redirect(url_for("protection.register", ref=case.ref))
    flash(post.error.message, "error")
    return _page(ref, TermForm(formdata=None), post.status)


@bp.route("/cases/<ref>/protected-terms/named", methods=["POST"])
@login_required
def named(ref):
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref)
    form = NamedForm()
    if form.validate_on_submit():
        wanted = form.named.data == "yes"
        post = commit_form(form, lambda: services.set_named(db, case, user, wanted))
        if post.saved:
            flash("You are named in this case's court and public editions." if wanted else
                  "You are shown by role and pseudonym in this case's court and public "
                  "editions.", "success")
            return redirect(url_for("protection.register", ref=case.ref))
    return _page(ref, TermForm(formdata=None), 422)


def _page(ref, form, status=200):
    db, user = get_session(), current_user.user
    case = case_for(db, user, ref)
    entries = services.entries(db, case)
    consents = [e for e in entries if e.match == TermMatch.named]
    return render_template(
        "protection/register.html", case=case, form=form,
        terms=[e for e in entries if e.match != TermMatch.named],
        named=[e for e in consents if e.active], kinds=services.KINDS,
        i_am_named=any(e.active and e.term == user.email for e in consents),
        can_manage=services.can_manage(db, user, case),
        withdraw_form=WithdrawForm(formdata=None), named_form=NamedForm(formdata=None)), status
