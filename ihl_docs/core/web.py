"""What every page shares: error pages, and helpers the templates use."""

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import flash, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from ihl_docs.core import localtime
from ihl_docs.core.access import load_in_case
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import DomainError, InvalidInput, StaleVersion
from ihl_docs.core.forms_support import stale_conflict, with_full_messages
from ihl_docs.core.models import label

ERROR_TEXT = {
    400: "The request could not be understood.",
    401: "Please log in.",
    403: "Your role or case membership does not allow this.",
    404: "There is nothing here, or nothing you may see.",
    405: "This action is not available here.",
    413: "The upload is larger than this instance accepts.",
    415: "This kind of content is not accepted here.",
    429: "Too many attempts; please wait a moment.",
    500: "Something went wrong on our side. Nothing was saved.",
    507: ("The evidence store has no space left, so nothing was kept. Tell an administrator; "
          "try again once there is room."),
}
# A full disk (or quota) is the administrator's to fix, not a bug: said as such, with 507.
NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def init_errorhandlers(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        if wants_json():
            return json_error(400, "csrf", "The form's security token is missing or expired.")
        return render_template("errors/error.html", status=400,
                               message="The form has expired or did not come from this site. "
                                       "Please reload the page and try again."), 400

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if wants_json():
            return json_error(exc.status, exc.code, exc.message, exc.fields)
        return render_template("errors/error.html", status=exc.status,
                               message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = ERROR_TEXT.get(status, exc.description or "")
        if status == 413:
            limit = app.config["MAX_UPLOAD_MB"]
            message = f"The upload is larger than the {limit} MiB this instance accepts."
        if wants_json():
            response, code = json_error(status, exc.name.lower().replace(" ", "_"), message)
            return response, code
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            app.logger.error("No space left in the evidence store on %s %s", request.method,
                             request.url_rule)
            if wants_json():
                return json_error(507, "insufficient_storage", ERROR_TEXT[507])
            return render_template("errors/error.html", status=507, message=ERROR_TEXT[507]), 507
        app.logger.exception("Unhandled error on %s %s", request.method, request.url_rule)
        if wants_json():
            return json_error(500, "internal", ERROR_TEXT[500])
        return render_template("errors/error.html", status=500, message=ERROR_TEXT[500]), 500


def form_errors_from(form, exc: DomainError) -> None:
    """Put a domain error's per-field messages next to the form's fields (or flash them)."""
    unplaced = []
    for name, message in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
        else:
            unplaced.append(message)
    if not exc.fields or unplaced:
        flash(" ".join(unplaced) or exc.message, "error")


@dataclass
class FormPost:
    """What became of a form's post: saved (and `result`, what the service returned), or
    refused, with the status to show the form again with and, for a stale edit, the conflict."""

    saved: bool
    result: Any = None
    status: int = 200
    conflict: dict | None = None
    error: DomainError | None = None


def commit_form(form, action: Callable[[], Any], *,
                refused: tuple[type[DomainError], ...] = (InvalidInput,),
                full_messages: bool | tuple[type[DomainError], ...] = False,
                on_field: str | None = None,
                stale: Callable[[Any, StaleVersion], dict] = stale_conflict) -> FormPost:
    """Run a form's service call on this request's session: commit what it did, or, when it
    raises one of the `refused` errors, roll it all back and put the error on the form.

    The error's messages go next to the fields it names (`form_errors_from`), each as the
    error's whole sentence when `full_messages` is true or names the error's class; with
    `on_field`, the error's own message goes on that one field instead. A StaleVersion, when
    `refused` names it, gives a conflict (built by `stale`) rather than messages. The status is
    the error's own. Errors not in `refused` go up untouched, to the application's handlers.
    """
    db = get_session()
    try:
        result = action()
    except refused as exc:
        db.rollback()
        conflict = None
        if isinstance(exc, StaleVersion) and any(
                issubclass(kind, StaleVersion) and isinstance(exc, kind) for kind in refused):
            conflict = stale(form, exc)
        elif on_field is not None:
            target = form[on_field]
            target.errors = [*target.errors, exc.message]
        else:
            full = (full_messages if isinstance(full_messages, bool)
                    else isinstance(exc, full_messages))
            form_errors_from(form, with_full_messages(exc) if full else exc)
        return FormPost(saved=False, status=exc.status, conflict=conflict, error=exc)
    db.commit()
    return FormPost(saved=True, result=result)


def init_template_helpers(app) -> None:
    app.jinja_env.filters["label"] = label
    app.jinja_env.globals["ERROR_TEXT"] = ERROR_TEXT
    app.jinja_env.globals.update(incident_when=localtime.incident_when,
                                 incident_zone_text=localtime.zone_text)

    @app.template_filter("when")
    def when(value, precision: str = "exact"):
        if value is None:
            return ""
        if precision == "month":
            return value.strftime("%Y-%m")
        if precision in {"day", "approximate"}:
            text = value.strftime("%Y-%m-%d")
            return Markup("c. ") + text if precision == "approximate" else text
        return value.strftime("%Y-%m-%d %H:%M UTC")


# A page number beyond this is taken as "the last page" (and keeps OFFSET within range).
MAX_PAGE = 100_000


@dataclass
class Pager:
    page: int
    pages: int
    total: int
    links: list = field(default_factory=list)
    prev_url: str | None = None
    next_url: str | None = None


def pager_for(form, page: int, pages: int, total: int) -> Pager:
    """Links to nearby pages, the first and the last, keeping the list's filters."""
    args = {f.name: request.args.getlist(f.name) for f in form
            if f.name != "page" and f.name in request.args}

    def url(number):
        return url_for(request.endpoint, **request.view_args, **args, page=number)

    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links, previous = [], 0
    for number in shown:
        if number - previous > 1:
            links.append((None, None))
        links.append((number, url(number)))
        previous = number
    return Pager(page, pages, total, links,
                 url(page - 1) if page > 1 else None, url(page + 1) if page < pages else None)


def load_for_user(model, ref: str, *, need=None, refusal: str | None = None):
    """`access.load_in_case` for the logged-in user, on this request's session."""
    return load_in_case(get_session(), current_user.user, model, ref, need=need, refusal=refusal)


def init_proxies(app) -> None:
    """Behind IHL_PROXIES reverse proxies, take the client's address, scheme and host from
    the X-Forwarded-* headers the nearest ones set (and only those: others could be forged)."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    count = app.config["PROXIES"]
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count,
                                x_port=count)


@dataclass(frozen=True)
class CaseSection:
    """What a feature shows on a case's page: a partial template, and a function giving the
    values it needs (`values` in the template) for the session, the user and the case."""

    template: str
    values: Callable = lambda session, user, case: {}


def register_case_section(app, section: CaseSection) -> None:
    """Add a section to the case page, after those registered before it."""
    app.extensions.setdefault("ihl_case_sections", []).append(section)


def case_sections(app, session, user, case) -> list[dict]:
    """The case page's sections, each with its template and its values."""
    return [{"template": s.template, "data": s.values(session, user, case)}
            for s in app.extensions.get("ihl_case_sections", [])]
