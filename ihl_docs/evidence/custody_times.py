"""Custody as it was: when an event happened, when it was recorded, and what that says.

A custody event can be entered years after it happened (a seal put on in 2020, written down
today). The chain must not let it read as contemporaneous: each event gives both moments, in
the local time of the incident the item belongs to and in UTC; an event recorded more than a
week after it happened says so and by how long; and its hash check is dated when it was made
(at recording), since nobody hashed the file on the back-filled date.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ihl_docs.core import localtime
from ihl_docs.core.models import CustodyEvent

RECORDED_LATER = timedelta(days=7)  # written down later than this: the chain says so
UPLOAD_DELAY = timedelta(days=30)  # collected this long before it was uploaded: a warning

Zone = tuple[str, int | None]  # an IANA zone name ("" if none) and a fixed offset in minutes
NO_ZONE: Zone = ("", None)


def custody_zone(incidents) -> Zone:
    """The zone an item's custody times are given in: that of its first linked incident
    (by ref) that records one; none (UTC, marked as such) if no incident does."""
    for incident in sorted(incidents, key=lambda i: i.ref):
        if localtime.is_recorded(incident):
            return localtime.zone_fields(incident)
    return NO_ZONE


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def delay_text(start: datetime, end: datetime) -> str:
    """How long from `start` to `end`, as people say it: "6 years 2 months", "3 months",
    "12 days" (whole calendar months once a month has passed, else whole days)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if (end.day, end.time()) < (start.day, start.time()):
        months -= 1
    if months < 1:
        return _plural((end - start).days, "day")
    years, months = divmod(months, 12)
    parts = ([_plural(years, "year")] if years else []) + ([_plural(months, "month")] if months else [])
    return " ".join(parts)


def recorded_later(occurred_at: datetime, recorded_at: datetime) -> str:
    """"recorded 6 years 2 months later" for an event written down more than a week after it
    happened; "" otherwise."""
    if recorded_at - occurred_at <= RECORDED_LATER:
        return ""
    return f"recorded {delay_text(occurred_at, recorded_at)} later"


def upload_delay(collected_at: datetime | None, uploaded_at: datetime | None) -> str | None:
    """The custody warning for an item uploaded more than 30 days after it was collected."""
    if collected_at is None or uploaded_at is None or uploaded_at - collected_at <= UPLOAD_DELAY:
        return None
    return (f"Uploaded {delay_text(collected_at, uploaded_at)} after collection "
            f"({collected_at:%Y-%m-%d} → {uploaded_at:%Y-%m-%d}): the chain before the upload "
            f"rests on what was recorded afterwards.")


def hash_text(event: CustodyEvent) -> str:
    """The hash check at an event, dated when it was made: at recording, not at the event."""
    if event.hash_matched is None:
        return ""
    verdict = "hash matched" if event.hash_matched else "hash did NOT match"
    return f"{verdict} at recording ({event.recorded_at:%Y-%m-%d %H:%M} UTC)"


@dataclass(frozen=True)
class CustodyTimes:
    """An event's times as the evidence page and the dossier write them."""

    occurred: str  # "2020-10-04 00:30 +04:00 (2020-10-03 20:30 UTC)"
    recorded: str
    later: str  # "recorded 6 years 2 months later", or ""
    hash: str  # "hash matched at recording (2026-12-03 17:22 UTC)", or ""


def custody_times(event: CustodyEvent, zone: Zone) -> CustodyTimes:
    """When an event happened and when it was recorded, in the zone's local time and UTC."""
    return CustodyTimes(occurred=localtime.moment_text(event.occurred_at, *zone),
                        recorded=localtime.moment_text(event.recorded_at, *zone),
                        later=recorded_later(event.occurred_at, event.recorded_at),
                        hash=hash_text(event))
