"""User administration pages: the list of accounts and creating one (administrators only)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import select

from ihl_docs.auth import services
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Conflict, InvalidInput
from ihl_docs.core.login import role_required
from ihl_docs.core.models import User
from ihl_docs.core.web import commit_form
from ihl_docs.users.forms import UserForm

bp = Blueprint("users", __name__, url_prefix="/admin/users")


@bp.route("/")
@role_required("admin")
def index():
    users = get_session().exec(select(User).order_by(User.email)).all()
    return render_template("users/index.html", users=users)


@bp.route("/new", methods=["GET", "POST"])
@role_required("admin")
def new():
    form = UserForm()
    status = 422
    if form.validate_on_submit():
        db = get_session()
        generated = not form.password.data
        password = services.generate_password() if generated else form.password.data
        post = commit_form(form, lambda: services.create_user(
            db, form.email.data, form.role.data, password, name=form.name.data or "",
            actor=current_user.email,
            must_change_password=generated or form.must_change_password.data,
        ), refused=(InvalidInput, Conflict), full_messages=True)
        if post.saved:
            user = post.result
            if generated:  # shown on this page only: never in a flash, which lives in the cookie
                return render_template("users/created.html", user=user, password=password)
            flash(f"Account {user.email} created.", "success")
            return redirect(url_for("users.index"))
        status = post.status
    return render_template("users/form.html", form=form), status if form.is_submitted() else 200


@bp.route("/<int:user_id>/active", methods=["POST"])
@role_required("admin")
def set_active(user_id):
    """Deactivate or reactivate an account; a deactivated one loses its sessions and tokens."""
    db = get_session()
    user = db.get(User, user_id) or abort(404)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    if commit_form(form, lambda: services.set_active(db, user, active,
                                                     actor=current_user.user)).saved:
        flash(f"Account {user.email} {'reactivated' if active else 'deactivated'}.", "success")
    return redirect(url_for("users.index"))
