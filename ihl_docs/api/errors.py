"""The API's own refusals, validation messages in the users' words, and their JSON form."""

from flask import jsonify
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from ihl_docs.core.errors import DomainError, InvalidInput, StaleVersion
from ihl_docs.core.web import json_error

TIME_EXAMPLE = "e.g. 2020-10-04T09:30:00Z or 2020-10-04T12:30:00+03:00"
FIELD_HINTS = {"ref": "Use 3 to 40 capital letters, digits and hyphens, e.g. NK-2020-001."}
NULL_REFUSED = ("_type", "enum", "_parsing")

MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not accepted here.",
    "string_type": "Give text.",
    "string_too_short": "Give at least {min_length} character(s).",
    "string_too_long": "Give at most {max_length} characters.",
    "string_pattern_mismatch": "This is not in the expected form.",
    "int_type": "Give a whole number.",
    "int_parsing": "Give a whole number.",
    "int_parsing_size": "This number is far too large.",
    "int_from_float": "Give a whole number, without a fractional part.",
    "float_type": "Give a number.",
    "float_parsing": "Give a number.",
    "finite_number": "Give a finite number.",
    "greater_than_equal": "Give at least {ge}.",
    "greater_than": "Give more than {gt}.",
    "less_than_equal": "Give at most {le}.",
    "less_than": "Give less than {lt}.",
    "enum": "Choose one of {expected}.",
    "literal_error": "Choose one of {expected}.",
    "bool_type": "Give true or false.",
    "bool_parsing": "Give true or false.",
    "list_type": "Give a list.",
    "too_short": "Give at least {min_length} item(s).",
    "too_long": "Give at most {max_length} items.",
    "dict_type": "Give an object with named fields.",
    "model_type": "Give an object with named fields.",
    "model_attributes_type": "Give an object with named fields.",
    "datetime_type": f"Give a date and time with a UTC offset, {TIME_EXAMPLE}.",
    "datetime_parsing": f"Give a date and time with a UTC offset, {TIME_EXAMPLE}.",
    "datetime_from_date_parsing": f"Give a date and time with a UTC offset, {TIME_EXAMPLE}.",
    "timezone_aware": f"Give the UTC offset too, {TIME_EXAMPLE}.",
}


class ApiError(DomainError):
    """A refusal at the API's edge (authentication, headers, body), with its own status."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message, fields)
        self.status, self.code = status, code
        self.headers = headers or {}


def field_messages(exc: ValidationError) -> dict[str, str]:
    """Each invalid field (dotted path, e.g. parties.0.state_code) with a plain message."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        field, message = _named_field(error)
        loc += [field] if field else []
        name = ".".join(loc) or "body"
        fields.setdefault(name, []).append(message)
    return {name: " ".join(dict.fromkeys(messages)) for name, messages in fields.items()}


def _named_field(error: dict) -> tuple[str | None, str]:
    """A model-wide rule names its field first ("state_code: a state party needs ...")."""
    cause = str((error.get("ctx") or {}).get("error", ""))
    field, _, rest = cause.partition(": ")
    if error["type"] == "value_error" and rest and field.isidentifier():
        return field, _sentence(rest)
    return None, _message(error)


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if error.get("input", "") is None and kind.endswith(NULL_REFUSED):
        return "This field cannot be null."
    if kind in {"value_error", "assertion_error"} and "error" in ctx:
        return _sentence(str(ctx["error"]))
    if kind == "string_pattern_mismatch" and error["loc"] and error["loc"][-1] in FIELD_HINTS:
        return FIELD_HINTS[error["loc"][-1]]
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "This field cannot be empty."
    template = MESSAGES.get(kind)
    if template is None:
        return _sentence(error["msg"])
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return _sentence(error["msg"])


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def invalid(fields: dict[str, str]) -> InvalidInput:
    names = ", ".join(fields)
    return InvalidInput(f"Some fields need correcting: {names}.", fields)


def init_errorhandlers(bp) -> None:
    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError):
        response, status = json_error(exc.status, exc.code, exc.message, exc.fields)
        response.headers.update(exc.headers)
        return response, status

    @bp.errorhandler(StaleVersion)
    def stale_version(exc: StaleVersion):
        fields = {c["field"]: f"Changed by {c['by']} at {c['at']}." for c in exc.changes}
        error = {"code": exc.code, "message": exc.message, "fields": fields,
                 "current_version": exc.current_version, "changes": exc.changes}
        return jsonify({"error": error}), exc.status

    @bp.errorhandler(IntegrityError)
    def clashing_write(_exc: IntegrityError):
        # Two requests created the same thing at the same moment; the loser is told so.
        return json_error(409, "conflict", "This clashes with a record saved at the same "
                                           "moment. Reload and try again.")
