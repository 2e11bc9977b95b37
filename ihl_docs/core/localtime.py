"""An incident's local time: its zone, its local moments and dates, and how they are written.

An incident's moments are stored in UTC; where it happened in time is its IANA zone
(`time_zone`, "Asia/Baku") or, failing that, a fixed offset from UTC (`utc_offset_minutes`).
A strike at 00:30 on 4 October in Baku is stored as 20:30 UTC on 3 October: every page, the
API and the dossier give the local time with its offset and the UTC time beside it, and the
local calendar date is the one legal checks compare with treaty dates. Neither known: the
times are UTC and are marked so.

Zone data comes from the `tzdata` package when the system has none (zoneinfo reads the
system's first); the zones of a country from the package's `zone.tab`; the zone at a position
from `timezonefinder`'s boundaries, offline.
"""

import atexit
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

import pycountry

MAX_OFFSET_MINUTES = 14 * 60  # the furthest any place on Earth is from UTC (Kiribati: +14:00)
NOT_RECORDED = "local offset not recorded"


# ---- zones ------------------------------------------------------------------------------------

@cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name this machine's zone data knows (aliases included)."""
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA zone ("Asia/Baku"); "Mars/Olympus" is not."""
    return name in known_zones()


def offset_problem(minutes: int | None) -> str | None:
    """Why an offset from UTC (in minutes) cannot be a place's, or None if it can."""
    if minutes is not None and abs(minutes) > MAX_OFFSET_MINUTES:
        return (f"An offset of {offset_text(minutes)} is beyond ±14:00: no place on Earth is "
                f"further from UTC.")
    return None


def incident_zone(time_zone: str | None, utc_offset_minutes: int | None) -> tzinfo | None:
    """The zone an incident's local times are in: its IANA zone, else its fixed offset, else
    None (not recorded)."""
    if time_zone:
        return ZoneInfo(time_zone)
    if utc_offset_minutes is not None:
        return timezone(timedelta(minutes=utc_offset_minutes))
    return None


def local(dt_utc: datetime, time_zone: str | None, utc_offset_minutes: int | None) -> datetime:
    """The moment in the incident's local time (aware; UTC when no zone is recorded).

    For an IANA zone the offset is the one in force at that moment (summer or winter time)."""
    return dt_utc.astimezone(incident_zone(time_zone, utc_offset_minutes) or UTC)


def offset_minutes(moment: datetime) -> int:
    """The offset from UTC of an aware moment, in whole minutes."""
    return int(moment.utcoffset().total_seconds() // 60)


def zone_disagreement(time_zone: str, minutes: int, moment_utc: datetime) -> str | None:
    """Why a zone and an offset cannot both be an incident's at `moment_utc`, or None."""
    if not time_zone or not is_zone(time_zone):
        return None
    in_force = offset_minutes(local(moment_utc, time_zone, None))
    if in_force == minutes:
        return None
    day = local(moment_utc, time_zone, None).date().isoformat()
    return (f"{time_zone} was at {offset_text(in_force)} on {day}, not "
            f"{offset_text(minutes)}: give the zone or the offset, or make them agree.")


# ---- a country's zones ------------------------------------------------------------------------

@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    """ISO alpha-2 code -> the IANA zones `zone.tab` lists for that country, in its order."""
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _, name = line.split("\t")[:3]
            zones.setdefault(code, []).append(name)
    return {code: tuple(names) for code, names in zones.items()}


def country_zones(alpha_3: str | None) -> tuple[str, ...]:
    """The IANA zones of a country (ISO alpha-3), as the zone database lists them."""
    country = pycountry.countries.get(alpha_3=alpha_3.upper()) if alpha_3 else None
    return _zones_by_country().get(country.alpha_2, ()) if country else ()


def default_zone(alpha_3: str | None, latitude: float | None = None,
                 longitude: float | None = None) -> str:
    """The zone of a country that has exactly one ("ARM" -> "Asia/Yerevan"); for a country with
    several, the zone at the coordinates if it is one of the country's; else ""."""
    zones = country_zones(alpha_3)
    if len(zones) == 1:
        return zones[0]
    found = zone_at(latitude, longitude) if zones else ""
    return found if found in zones else ""


@cache
def _zone_finder():
    from timezonefinder import TimezoneFinder  # its boundary data loads in about half a second

    finder = TimezoneFinder()  # maps the boundary files; they are released when Python exits
    atexit.register(finder.cleanup)
    return finder


def zone_at(latitude: float | None, longitude: float | None) -> str:
    """The IANA zone at a position, from the zone boundaries shipped offline; "" if none."""
    if latitude is None or longitude is None:
        return ""
    return _zone_finder().timezone_at(lat=latitude, lng=longitude) or ""


@cache
def zone_choices() -> tuple[str, ...]:
    """The zones a person picks from: every zone a country lives in, and UTC, sorted."""
    listed = {name for names in _zones_by_country().values() for name in names}
    return tuple(sorted(listed | {"UTC"}))


# ---- an incident's local moments --------------------------------------------------------------

def _field(record, name: str):
    """A field of an incident given as a row, a read model or the dossier's plain data."""
    value = record.get(name) if isinstance(record, dict) else getattr(record, name, None)
    if isinstance(value, str) and name.startswith("occurred"):
        return datetime.fromisoformat(value) if value else None
    return value


def _zone_fields(record) -> tuple[str, int | None]:
    return _field(record, "time_zone") or "", _field(record, "utc_offset_minutes")


def zone_fields(record) -> tuple[str, int | None]:
    """A record's zone and fixed offset as `moment_text` takes them: ("Asia/Baku", None)."""
    return _zone_fields(record)


def is_recorded(record) -> bool:
    """Whether an incident's local zone or offset is recorded."""
    zone, minutes = _zone_fields(record)
    return bool(zone) or minutes is not None


def local_moment(record, name: str = "occurred_from") -> datetime | None:
    """An incident's moment (`occurred_from` or `occurred_to`) in its local time."""
    moment = _field(record, name)
    return None if moment is None else local(moment, *_zone_fields(record))


def local_date(incident) -> date | None:
    """The local calendar date of an incident's start (its UTC date if no zone is recorded)."""
    moment = local_moment(incident)
    return None if moment is None else moment.date()


def local_iso(record, name: str = "occurred_from") -> str | None:
    """An incident's moment in ISO 8601 with its local offset; None if no zone is recorded."""
    if not is_recorded(record):
        return None
    moment = local_moment(record, name)
    return None if moment is None else moment.isoformat()


# ---- writing them -----------------------------------------------------------------------------

def offset_text(minutes: int) -> str:
    """An offset as people write it: "UTC+04:00", "UTC-03:30"."""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def _day_text(moment: datetime, precision: str) -> str:
    if precision == "month":
        return moment.strftime("%Y-%m")
    text = moment.strftime("%Y-%m-%d")
    return "c. " + text if precision == "approximate" else text


def moment_text(moment_utc: datetime | None, time_zone: str | None,
                utc_offset_minutes: int | None, precision: str = "exact") -> str:
    """A moment as the incident's pages and dossier write it, to the precision it is known.

    Exact, in the notation the dossiers promise: "2020-10-04 00:30 +04:00 (2020-10-03 20:30
    UTC)" (the zone's name is on the incident's page); to the day (or
    month) only the local date, since a UTC date beside it would claim an hour nobody knows:
    "2020-10-04 (UTC+04:00, Asia/Baku)". No zone recorded: "2020-10-03 20:30 UTC (local offset
    not recorded)".
    """
    if moment_utc is None:
        return ""
    precision = str(precision or "exact")
    utc = moment_utc.astimezone(UTC)
    if not time_zone and utc_offset_minutes is None:
        shown = utc.strftime("%Y-%m-%d %H:%M") if precision == "exact" else _day_text(utc, precision)
        return f"{shown} UTC ({NOT_RECORDED})"
    there = local(utc, time_zone, utc_offset_minutes)
    zone = offset_text(offset_minutes(there)) + (f", {time_zone}" if time_zone else "")
    if precision != "exact":
        return f"{_day_text(there, precision)} ({zone})"
    return f"{there:%Y-%m-%d %H:%M} {offset_text(offset_minutes(there))[3:]} ({utc:%Y-%m-%d %H:%M} UTC)"


def incident_when(record, name: str = "occurred_from") -> str:
    """An incident's `occurred_from` or `occurred_to` written by `moment_text`."""
    zone, minutes = _zone_fields(record)
    precision = _field(record, "date_precision") or "exact"
    return moment_text(_field(record, name), zone, minutes, getattr(precision, "value", precision))


def zone_text(record) -> str:
    """An incident's zone in words: "Asia/Baku", "UTC+04:00 (offset only)" or not recorded."""
    zone, minutes = _zone_fields(record)
    if zone:
        return zone
    if minutes is not None:
        return f"{offset_text(minutes)} (offset only, no zone recorded)"
    return "Not recorded: times are shown in UTC"


def local_date_text(record) -> str:
    """An incident's local start date to its precision: "2020-10-04", "2020-10", "c. 2020-10-04"."""
    moment = local_moment(record)
    precision = _field(record, "date_precision") or "day"
    return "" if moment is None else _day_text(moment, str(getattr(precision, "value", precision)))
