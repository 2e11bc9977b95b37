"""Reading a request: its JSON body, query parameters, If-Match header and path refs.

Each reader validates against the model the route table declares for the current route, so
the OpenAPI document and the validation cannot drift apart.
"""

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import get_args

from flask import current_app, g, request
from pydantic import AwareDatetime, BaseModel, ValidationError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from ihl_docs.api.errors import TIME_EXAMPLE, ApiError, field_messages, invalid
from ihl_docs.api.schemas import FILE_FIELD, TYPE_TWINS
from ihl_docs.core.errors import InvalidInput, NotFound

JSON_LIMIT = 4 * 1024 * 1024  # the longest narrative, escaped, fits several times over
FORM_FIELD_LIMIT = 1024 * 1024  # a text part of an upload; the longest description fits
FORM_PARTS_LIMIT = 100
NUMERIC_TIME = re.compile(r"\s*[+-]?[0-9.]+\s*")
REF_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
IF_MATCH = re.compile(r'\s*(?:W/)?(?:"(\d{1,18})"|(\d{1,18}))\s*')


def body(model: type[BaseModel] | None = None) -> BaseModel:
    """The JSON body, validated strictly (no true for 1, no "3" for 3) by the route's model."""
    model = model or g.api_route.body
    text = _json_text()
    twin = TYPE_TWINS.get(model)
    if twin is not None:
        validated(lambda: twin.model_validate_json(text, strict=True))
    return validated(lambda: model.model_validate_json(text, strict=True))


def query(model: type[BaseModel] | None = None) -> BaseModel:
    """The query parameters (empty ones left out), validated against the route's query model."""
    model = model or g.api_route.query
    data = {k: v for k, v in request.args.items() if v != ""}
    _check_text(data, "", "query")
    return validated(lambda: model.model_validate(data))


def multipart(model: type[BaseModel] | None = None) -> tuple[BaseModel, FileStorage | None]:
    """A multipart form: its text fields validated by the route's form model, and its file.

    The file part has already been streamed into the evidence store while it was parsed
    (see evidence/upload.py); the app's MAX_CONTENT_LENGTH bounds the whole body.
    """
    model = model or g.api_route.form
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type",
                       "Send the evidence as multipart/form-data: the file in a part named "
                       f"`{FILE_FIELD}`, the other fields as text parts.")
    request.max_form_memory_size = FORM_FIELD_LIMIT
    request.max_form_parts = FORM_PARTS_LIMIT
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        raise _upload_too_large() from None
    fields, problems = _form_fields(model, form)
    problems.update(_file_problems(form, files))
    _check_text(fields, "", "body")
    text = json.dumps(fields, ensure_ascii=False)
    try:
        value = validated(lambda: model.model_validate_json(text, strict=True))
    except InvalidInput as exc:
        problems = {**exc.fields, **problems}
    if problems:
        raise invalid(problems)
    return value, files.get(FILE_FIELD)


def _form_fields(model: type[BaseModel], form) -> tuple[dict[str, str], dict[str, str]]:
    """The text fields, an empty one left out where the field has a default."""
    fields, problems = {}, {}
    for name, values in form.lists():
        if name == FILE_FIELD:
            continue  # see _file_problems
        info = model.model_fields.get(name)
        if len(values) > 1:
            problems[name] = "Give this field once."
        elif values[0] == "" and info is not None and not info.is_required():
            continue
        elif info is not None and _is_time(info.annotation) and NUMERIC_TIME.fullmatch(values[0]):
            problems[name] = f"Give an ISO 8601 date and time with a UTC offset, {TIME_EXAMPLE}."
        else:
            fields[name] = values[0]
    return fields, problems


def _file_problems(form, files) -> dict[str, str]:
    problems = {name: f"Only `{FILE_FIELD}` is sent as a file; send this as a text part."
                for name in files if name != FILE_FIELD}
    if len(files.getlist(FILE_FIELD)) > 1:
        problems[FILE_FIELD] = "Send one file per item."
    if FILE_FIELD in form:
        problems[FILE_FIELD] = "Send the file as a file part (with a filename), not as text."
    return problems


def _is_time(annotation) -> bool:
    return annotation in (datetime, AwareDatetime) or any(map(_is_time, get_args(annotation)))


def _upload_too_large() -> ApiError:
    limit = current_app.config["MAX_UPLOAD_MB"]
    length, most = request.content_length, request.max_content_length
    if length is not None and most is not None and length <= most:
        message = (f"A text field is larger than {FORM_FIELD_LIMIT // (1024 * 1024)} MiB, or the "
                   f"form has more than {FORM_PARTS_LIMIT} parts.")
    else:
        message = f"The upload is larger than the {limit} MiB this instance accepts."
    return ApiError(413, "request_entity_too_large", message + " Nothing was kept.")


def validated(validate: Callable[[], BaseModel]) -> BaseModel:
    """The model `validate` returns, or a 422 naming each field it refused."""
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
            value.astimezone(UTC)
        except OverflowError:
            raise invalid({path: "This time is out of range."}) from None


def _join(path: str, name) -> str:
    return f"{path}.{name}" if path else str(name)
