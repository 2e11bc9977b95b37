"""What the web forms share: extra field types, country codes, and pydantic errors in words."""

import math
import re
from datetime import UTC, date, datetime, time, tzinfo

import pycountry
from flask import flash
from pydantic import ValidationError
from wtforms import (
    FloatField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
    widgets,
)
from wtforms.validators import ValidationError as FieldError

from ihl_docs.core import localtime
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import label

REQUIRED = "This field is required."
COUNTRIES = sorted(((c.alpha_3, c.name) for c in pycountry.countries), key=lambda c: c[1])


def strip(value):
    """A filter: surrounding spaces of a one-line entry are never meant."""
    return value.strip() if isinstance(value, str) else value


def unix_newlines(value):
    """A filter: browsers send a textarea's line breaks as CRLF; we keep LF, as the API does."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the choices of a select or a group of checkboxes."""
    return [SelectChoice(value, text) for value, text in pairs]


def enum_options(enum) -> list[SelectChoice]:
    """An enumeration's values, each shown in words."""
    return [SelectChoice(member.value, label(member.value)) for member in enum]


class ChoiceField(SelectField):
    """A select whose wrong values get a message in plain words."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("invalid_choice_message", "Choose one of the listed options.")
        super().__init__(*args, **kwargs)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("invalid_choice_message", "Choose only among the listed options.")
        super().__init__(*args, **kwargs)


class NumberField(FloatField):
    """A decimal number; 'nan' and 'inf', which Python would take, are refused."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("invalid_value_message", "Enter a number, e.g. 39.75.")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not math.isfinite(self.data):
            self.data = None
            raise ValueError(self.invalid_value_message)


class TimeOfDayField(TimeField):
    """HH:MM, or HH:MM:SS when the stored time has seconds, so an edit keeps it exactly."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", ["%H:%M", "%H:%M:%S"])
        kwargs.setdefault("invalid_value_message", "Enter a time as HH:MM (24-hour, UTC).")
        super().__init__(*args, **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data is None:
            return ""
        return self.data.strftime("%H:%M:%S" if self.data.second else "%H:%M")


class OffsetField(StringField):
    """An offset from UTC written "+04:00", "-3:30", "+4" or "UTC+04:00"; its data in minutes."""

    PATTERN = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"placeholder": "+04:00", "size": 8})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        found = self.PATTERN.match(text)
        if not found or int(found[3] or 0) >= 60:
            raise ValueError("Enter an offset from UTC as +04:00 or -03:30.")
        minutes = int(found[2]) * 60 + int(found[3] or 0)
        self.data = -minutes if found[1] == "-" else minutes

    def pre_validate(self, form):
        problem = localtime.offset_problem(self.data)
        if problem:
            raise FieldError(problem)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else localtime.offset_text(self.data).removeprefix("UTC")


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _value_error(text: str) -> str:
    text = text.removeprefix("Value error, ")
    # Model validators name their field as "state_code: ..."; say it in words.
    text = re.sub(r"^([a-z]+(?:_[a-z0-9]+)*): ", lambda m: m[1].replace("_", " ") + ": ", text)
    return text[:1].upper() + text[1:].rstrip(".") + "."


def error_message(error: dict) -> str:
    """One pydantic error as a sentence a person filling in a form understands."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing" or (kind.endswith("_type") and error.get("input") in (None, "")):
        return REQUIRED
    if kind == "string_too_short":
        shortest = ctx.get("min_length", 1)
        return REQUIRED if shortest == 1 else f"Use at least {shortest} characters."
    if kind == "string_too_long":
        return f"Use at most {ctx['max_length']:,} characters."
    if kind == "too_long":
        return f"At most {ctx.get('max_length')} entries are accepted."
    bounds = {"less_than_equal": ("at most", "le"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "greater_than": ("more than", "gt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"Must be {words} {_number(ctx[key])}."
    if kind in {"enum", "literal_error"}:
        return "Choose one of the listed options."
    if kind.startswith("int_"):
        return "Enter a whole number."
    if kind.startswith("float_"):
        return "Enter a number, e.g. 39.75."
    if kind == "timezone_aware":
        return "Give the time in UTC."
    if kind.startswith(("datetime_", "date_")):
        return "Enter a date as YYYY-MM-DD."
    if kind == "string_pattern_mismatch":
        return "This is not in the expected form; see the hint below the field."
    if kind == "value_error":
        return _value_error(error["msg"])
    return error["msg"]


def _item_name(data: dict, name: str, index) -> str:
    """How to name one entry of a list field: by its own name if it has one."""
    try:
        own = data[name][index].get("name")
    except (KeyError, IndexError, TypeError, AttributeError):
        own = None
    if own:
        return f"“{own}”"
    return f"Entry {index + 1}" if isinstance(index, int) else "An entry"


def field_messages(exc: ValidationError, data: dict) -> dict[str, str]:
    """Field -> the first message for it. Errors inside a list item go on the list's field."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"]
        name = str(loc[0]) if loc else "__all__"
        text = error_message(error)
        if len(loc) >= 2 and isinstance(data.get(name), list) and data[name] \
                and isinstance(data[name][0], dict):
            detail = f"{str(loc[2]).replace('_', ' ')}: " if len(loc) > 2 else ""
            first = text[:1] if text[1:2].isupper() else text[:1].lower()  # keep "ISO"
            text = f"{_item_name(data, name, loc[1])}, {detail}{first}{text[1:]}"
        messages.setdefault(name, text)
    return messages


def validated(form, model, data: dict):
    """`model.model_validate(data)`, or None with the errors put next to the form's fields.

    A field the form itself already refused keeps that one message.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        add_errors(form, field_messages(exc, data))
        return None


def add_errors(form, messages: dict[str, str]) -> None:
    """Put each message next to its field, unless that field already shows one."""
    unplaced = []
    for name, message in messages.items():
        field = getattr(form, name, None)
        if field is None or not hasattr(field, "errors"):
            unplaced.append(message)
        elif not field.errors:
            field.errors = list(field.errors) + [message]
    if unplaced:
        flash(" ".join(unplaced), "error")


def values_of(form, names) -> dict:
    """The named fields' data; a text field absent from the submission counts as empty."""
    text = {"StringField", "TextAreaField"}
    return {name: "" if form[name].data is None and form[name].type in text else form[name].data
            for name in names}


def with_full_messages(exc):
    """The domain error with its own sentence next to each field (not a terse 'already in use')."""
    exc.fields = dict.fromkeys(exc.fields, exc.message)
    return exc


def moment(day: date | None, at: time | None, *, end: bool = False,
           zone: tzinfo = UTC) -> datetime | None:
    """A date and optional time, read in `zone` (UTC unless said), as an aware datetime.

    Without a time, a start means the day's beginning and an end the day's last second
    (or now, for an end today), so that a single day never ends before it starts.
    """
    if day is None:
        return None
    if at is not None:
        return datetime.combine(day, at, tzinfo=zone)
    if not end:
        return datetime.combine(day, time(0, 0), tzinfo=zone)
    last_second = datetime.combine(day, time(23, 59, 59), tzinfo=zone)
    now = utcnow().replace(microsecond=0).astimezone(zone)
    return min(last_second, now) if day == now.date() else last_second


def day_and_time(value: datetime | None, *, end: bool = False,
                 zone: tzinfo = UTC) -> tuple[date | None, time | None]:
    """The reverse of `moment`: the time is left blank where `moment` would fill it in."""
    if value is None:
        return None, None
    value = value.astimezone(zone)
    implied = time(23, 59, 59) if end else time(0, 0)
    at = value.time().replace(microsecond=0)
    return value.date(), (None if at == implied and not value.microsecond else at)


def day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0, 0), tzinfo=UTC) if day else None


def day_end(day: date | None) -> datetime | None:
    return datetime.combine(day, time.max, tzinfo=UTC) if day else None


ENUM_FIELDS = {"incident_type", "date_precision", "verification_status", "workflow_status",
               "civilian_objects", "conflict_classification", "kind", "status", "role"}
_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def display_value(field: str, value) -> str:
    """A value from the audit log as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "; ".join(display_value(field, item) for item in value)
    if isinstance(value, dict) and "name" in value:
        extra = ", ".join(str(v) for v in (value.get("kind"), value.get("state_code")) if v)
        return f"{value['name']} ({extra})" if extra else str(value["name"])
    if isinstance(value, str) and field in ENUM_FIELDS:
        return label(value)
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            moment_ = datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            return value
        return moment_.strftime("%Y-%m-%d %H:%M:%S UTC" if moment_.second else "%Y-%m-%d %H:%M UTC")
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def changed_by_others(form, changes: list[dict], labels: dict[str, str]) -> list[dict]:
    """StaleVersion.changes as rows to show; each changed field of the form gets a note."""
    rows, latest = [], {}
    for change in changes:
        field = change["field"]
        if field.endswith("_id"):
            continue
        rows.append({"field": labels.get(field, label(field)), "by": change["by"],
                     "at": display_value("at", change["at"]),
                     "from": display_value(field, change["from"]),
                     "to": display_value(field, change["to"])})
        latest[field] = rows[-1]
    for field, row in latest.items():
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + [
                f"Changed by {row['by']} since you opened this form; it is now: {row['to']}."]
    return rows


def stale_conflict(form, exc) -> dict:
    """Keep the user's input; a deliberate second save is based on the version now stored."""
    form.version.data, form.version.raw_data = exc.current_version, [str(exc.current_version)]
    labels = {field.name: field.label.text for field in form}
    return {"message": exc.message, "rows": changed_by_others(form, exc.changes, labels)}
