"""Log in, log out, change one's password."""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from ihl_docs.auth import services
from ihl_docs.auth.forms import ChangePasswordForm, LoginForm
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import DomainError, LoginThrottled
from ihl_docs.core.login import CurrentUser
from ihl_docs.core.web import commit_form

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site, never another host."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("cases.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        try:
            user = services.authenticate(
                db, form.email.data, form.password.data,
                secret_key=current_app.config["SECRET_KEY"],
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
            )
        except LoginThrottled as exc:
            flash(exc.message, "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            _commit_failure(db)
            flash("Wrong e-mail or password.", "error")
            status = 401
        else:
            token = services.start_login_session(db, user, current_app.config["SESSION_HOURS"])
            db.commit()
            session.clear()
            session.permanent = True
            login_user(CurrentUser(user, token))
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _commit_failure(db) -> None:
    try:
        db.commit()
    except IntegrityError:  # two first failures for the same name at once; one is enough
        db.rollback()


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    db = get_session()
    services.end_login_session(db, current_user.token)
    db.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_session()
        user = db.merge(current_user.user)
        if not services.verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors = ["This is not your current password."]
        else:
            post = commit_form(form, lambda: services.change_password(
                db, user, form.new_password.data, actor=user.email), refused=(DomainError,))
            if post.saved:
                services.forget_one_time_password(current_app.instance_path, user.email)
                flash("Your password was changed.", "success")
                return redirect(url_for("cases.index"))
    return render_template("auth/change_password.html", form=form)
