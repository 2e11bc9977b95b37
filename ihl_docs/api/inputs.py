"""Reading a request: its JSON body, query parameters, If-Match header and path refs.

Each reader validates against the model the route table declares for the current route, so
the OpenAPI document and the validation cannot drift apart.
"""

import json
import re
from datetime import datetime, timezone
from typing import Callable

from flask import g, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import NotFound
from .errors import ApiError, field_messages, invalid
from .schemas import TYPE_TWINS

JSON_LIMIT = 4 * 1024 * 1024  # the longest narrative, escaped, fits several times over
REF_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
IF_MATCH = re.compile(r'\s*(?:W/)?(?:"(\d{1,18})"|(\d{1,18}))\s*')


def body(model: type[BaseModel] | None = None) -> BaseModel:
    """The JSON body, validated strictly (no true for 1, no "3" for 3) by the route's model."""
    model = model or g.api_route.body
    text = _json_text()
    twin = TYPE_TWINS.get(model)
    if twin is not None:
        _validated(lambda: twin.model_validate_json(text, strict=True))
    return _validated(lambda: model.model_validate_json(text, strict=True))


def query(model: type[BaseModel] | None = None) -> BaseModel:
    """The query parameters (empty ones left out), validated against the route's query model."""
    model = model or g.api_route.query
    data = {k: v for k, v in request.args.items() if v != ""}
    _check_text(data, "", "query")
    return _validated(lambda: model.model_validate(data))


def _validated(validate: Callable[[], BaseModel]) -> BaseModel:
    try:
        value = validate()
    except ValidationError as exc:
        raise invalid(field_messages(exc)) from None
    _check_times(value, "")
    return value


def if_match_version() -> int:
    """The version the client edited, from If-Match: 3, "3" and W/"3" are all accepted."""
    header = request.headers.get("If-Match")
    if header is None:
        raise ApiError(428, "precondition_required",
                       'Send If-Match with the version you edited, e.g. If-Match: "3".')
    match = IF_MATCH.fullmatch(header)
    if match is None:
        message = 'If-Match must carry one record version, e.g. "3".'
        raise ApiError(400, "bad_if_match", message, {"If-Match": message})
    return int(match.group(1) or match.group(2))


def checked_ref(ref: str, what: str) -> str:
    """A ref from the path; one that no record can have is simply not found."""
    if not REF_PATTERN.fullmatch(ref):
        raise NotFound(f"No {what} with that reference.")
    return ref


def _json_text() -> str:
    """The body as JSON text that parses to an object and that the databases can store."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       "Send the body as JSON, with Content-Type: application/json.")
    limit = min(request.max_content_length or JSON_LIMIT, JSON_LIMIT)
    request.max_content_length = limit
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise ApiError(413, "request_entity_too_large",
                       f"The body is larger than the {limit:,} bytes accepted here.") from None
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        message = f"The body is not valid JSON in UTF-8 ({_reason(exc)})."
        raise ApiError(400, "malformed_json", message) from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid", "The body must be a JSON object with named fields.",
                       {"body": "Give an object with named fields."})
    _check_text(data, "", "body")
    return text


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).split("\n")[0] or type(exc).__name__


def _check_text(value, path: str, root: str) -> None:
    """Refuse text the databases cannot store: NUL characters and unpaired surrogates."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path or root, root)
            _check_text(item, _join(path, key), root)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, _join(path, index), root)
    elif isinstance(value, str):
        if "\x00" in value:
            raise invalid({path: "Text cannot contain NUL (\\u0000) characters."})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid({path: "Text cannot contain unpaired surrogates."}) from None


def _check_times(value, path: str) -> None:
    """Refuse times that cannot be expressed in UTC (year 1 with a positive offset and such)."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _check_times(getattr(value, name), _join(path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_times(item, _join(path, index))
    elif isinstance(value, datetime):
        try:
            value.astimezone(timezone.utc)
        except OverflowError:
            raise invalid({path: "This time is out of range."}) from None


def _join(path: str, name) -> str:
    return f"{path}.{name}" if path else str(name)
