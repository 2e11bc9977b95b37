"""User administration pages: the list of accounts and creating one (administrators only)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlmodel import select

from ..auth import services
from ..auth.login import role_required
from ..db import get_session
from ..errors import Conflict, InvalidInput
from ..forms_support import with_full_messages
from ..models import User
from ..web import form_errors_from
from .forms import UserForm

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
        try:
            user = services.create_user(
                db, form.email.data, form.role.data, password, name=form.name.data or "",
                actor=current_user.email,
                must_change_password=generated or form.must_change_password.data,
            )
        except (InvalidInput, Conflict) as exc:
            db.rollback()
            form_errors_from(form, with_full_messages(exc))
            status = exc.status
        else:
            db.commit()
            if generated:  # shown on this page only: never in a flash, which lives in the cookie
                return render_template("users/created.html", user=user, password=password)
            flash(f"Account {user.email} created.", "success")
            return redirect(url_for("users.index"))
    return render_template("users/form.html", form=form), status if form.is_submitted() else 200
