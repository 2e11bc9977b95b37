"""An incident's facts beyond those its page and its dossier section lay out by hand.

The incident page (and the dossier) give the facts below their own places: dates with their
precision, coordinates with their radius, harm as ranges. A field of the incident that is not
among them is listed under "Other facts" with the form's words for it, so a new field shows on
the page without a template change."""

from ihl_docs.core.audit.log import jsonable
from ihl_docs.core.forms_support import display_value
from ihl_docs.core.models import IncidentBase, label

LAID_OUT = frozenset({
    "title", "incident_type", "occurred_from", "occurred_to", "time_zone", "utc_offset_minutes",
    "date_precision", "place_name",
    "admin_area", "country", "latitude", "longitude", "location_precision_m", "weapon_type",
    "munition_details", "narrative", "killed_min", "killed_max", "injured_min", "injured_max",
    "children_killed", "children_injured", "civilian_objects", "military_objective_notes",
    "verification_status",
})


def other_fact_names() -> list[str]:
    """The incident's fields that no page lays out by hand, in the model's order."""
    return [name for name in IncidentBase.model_fields if name not in LAID_OUT]


def other_facts(facts, labels: dict[str, str]) -> list[tuple[str, str]]:
    """(words, value as a person reads it) for each such field of `facts` (an incident)."""
    return [(labels.get(name, label(name)), display_value(name, jsonable(getattr(facts, name))))
            for name in other_fact_names()]


def harm_text(low: int | None, high: int | None, children: int | None) -> str:
    """A count of civilian victims as the incident page and the dossier both print it: an exact
    count ("3"), a range ("3–5"), an upper bound ("up to 5") or "unknown", then the children
    among them whenever that number is recorded, zero included ("of whom 0 children")."""
    if low is None and high is None:
        text = "unknown"
    elif high is None or low == high:
        text = str(low if low is not None else high)
    elif low is None:
        text = f"up to {high}"
    else:
        text = f"{low}–{high}"
    if children is None:
        return text
    return f"{text}, of whom {children} {'child' if children == 1 else 'children'}"
