"""The Jinja environment of the dossier templates, with the filters that write dates, hashes and sizes."""

from datetime import UTC, datetime

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from ihl_docs.core import localtime
from ihl_docs.core.models import label
from ihl_docs.dossiers import render
from ihl_docs.incidents.facts import harm_text


def template_environment() -> Environment:
    """The environment the dossier's sections and front matter are written with."""
    from ihl_docs.core.config import template_folder

    env = Environment(loader=FileSystemLoader(template_folder()),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(label=lambda v: label(v) if v else "", when=when, hash=hash_text,
                       size=size_text)
    env.globals.update(harm=harm_text, coordinates=coordinates, thumb_url=render.thumbnail_url,
                       original_url=render.original_url,
                       incident_when=localtime.incident_when,
                       local_date_text=localtime.local_date_text)
    return env


def when(value: str | None, precision: str = "exact") -> str:
    """A moment in UTC, to the precision it is known."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(UTC)
    if precision == "month":
        return moment.strftime("%B %Y")
    if precision == "day":
        return moment.strftime("%Y-%m-%d")
    if precision == "approximate":
        return "about " + moment.strftime("%Y-%m-%d")
    if precision == "minute":
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def hash_text(value: str | None, group: int = 16) -> Markup:
    """A SHA-256 in groups, so a narrow column can break it between groups."""
    if not value:
        return Markup("")
    return Markup(" ").join(value[i:i + group] for i in range(0, len(value), group))


def size_text(value: int | None) -> str:
    """A size in bytes, KiB, MiB or GiB."""
    if value is None:
        return "—"
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def coordinates(incident: dict) -> str:
    """An incident's position, with its precision."""
    lat, lon = incident.get("latitude"), incident.get("longitude")
    if lat is None or lon is None:
        return "not recorded"
    precision = incident.get("location_precision_m")
    return f"{lat:.5f}, {lon:.5f}" + (f" (± {precision} m)" if precision is not None else "")
