"""An incident's local time: zones, local moments and dates, and how they are written."""

from datetime import UTC, date, datetime

import pytest

from ihl_docs.core import localtime

STRIKE = datetime(2020, 10, 3, 20, 30, tzinfo=UTC)  # 00:30 on 4 October in Baku (UTC+4)


def _incident(**fields) -> dict:
    return {"occurred_from": STRIKE.isoformat(), "occurred_to": None, "time_zone": "",
            "utc_offset_minutes": None, "date_precision": "exact", **fields}


def test_the_strike_after_midnight_in_baku_is_on_the_4th_there():
    incident = _incident(time_zone="Asia/Baku")
    assert localtime.local_date(incident) == date(2020, 10, 4)
    assert localtime.local_iso(incident) == "2020-10-04T00:30:00+04:00"
    assert localtime.incident_when(incident) == (
        "2020-10-04 00:30 +04:00 (2020-10-03 20:30 UTC)")


def test_a_fixed_offset_gives_the_same_local_date_without_a_zone_name():
    incident = _incident(utc_offset_minutes=240)
    assert localtime.local_date(incident) == date(2020, 10, 4)
    assert localtime.incident_when(incident) == "2020-10-04 00:30 +04:00 (2020-10-03 20:30 UTC)"


def test_an_unknown_zone_is_utc_and_marked_so():
    incident = _incident()
    assert localtime.local_date(incident) == date(2020, 10, 3)
    assert localtime.local_iso(incident) is None
    assert localtime.incident_when(incident) == "2020-10-03 20:30 UTC (local offset not recorded)"
    assert localtime.incident_when({**incident, "date_precision": "day"}) == (
        "2020-10-03 UTC (local offset not recorded)")


@pytest.mark.parametrize(("moment", "offset"), [
    (datetime(2022, 7, 1, 12, 0, tzinfo=UTC), "+03:00"),   # summer time
    (datetime(2022, 1, 15, 12, 0, tzinfo=UTC), "+02:00"),  # winter time
])
def test_kyiv_is_three_hours_ahead_in_summer_and_two_in_winter(moment, offset):
    there = localtime.local(moment, "Europe/Kyiv", None)
    assert there.isoformat().endswith(offset)
    assert there.hour == 12 + int(offset[1:3])


@pytest.mark.parametrize(("precision", "text"), [
    ("exact", "2020-10-04 00:30 +04:00 (2020-10-03 20:30 UTC)"),
    ("day", "2020-10-04 (UTC+04:00, Asia/Baku)"),
    ("approximate", "c. 2020-10-04 (UTC+04:00, Asia/Baku)"),
    ("month", "2020-10 (UTC+04:00, Asia/Baku)"),
])
def test_the_precision_decides_what_is_written(precision, text):
    incident = _incident(time_zone="Asia/Baku", date_precision=precision)
    assert localtime.incident_when(incident) == text


def test_a_row_with_attributes_reads_like_the_plain_data():
    class Row:
        occurred_from, time_zone, utc_offset_minutes, date_precision = (
            STRIKE, "Asia/Baku", None, "day")
    assert localtime.local_date(Row()) == date(2020, 10, 4)
    assert localtime.local_date_text(Row()) == "2020-10-04"


@pytest.mark.parametrize(("country", "zone"), [
    ("ARM", "Asia/Yerevan"), ("AZE", "Asia/Baku"), ("arm", "Asia/Yerevan"),
    ("USA", ""), ("RUS", ""), (None, ""), ("", ""),
])
def test_a_country_with_one_zone_gives_it_and_one_with_several_none(country, zone):
    assert localtime.default_zone(country) == zone


def test_ukraine_has_two_zones_in_the_database_so_none_is_assumed():
    # zone.tab lists Crimea (Europe/Simferopol, on Moscow time since 2014) beside Europe/Kyiv.
    assert set(localtime.country_zones("UKR")) == {"Europe/Kyiv", "Europe/Simferopol"}
    assert localtime.default_zone("UKR") == ""


@pytest.mark.parametrize(("country", "position", "zone"), [
    ("USA", (40.71, -74.01), "America/New_York"),
    ("USA", (34.05, -118.24), "America/Los_Angeles"),
    ("UKR", (50.45, 30.52), "Europe/Kyiv"),
    ("UKR", (44.95, 34.10), "Europe/Simferopol"),
    ("USA", (55.75, 37.62), ""),            # a position in another country settles nothing
    ("USA", (None, None), ""),
    ("ARM", (40.71, -74.01), "Asia/Yerevan"),  # one zone: the country's, whatever the position
])
def test_the_coordinates_settle_the_zone_of_a_country_with_several(country, position, zone):
    assert localtime.default_zone(country, *position) == zone


def test_zones_are_checked_against_the_database():
    assert localtime.is_zone("Asia/Baku")
    assert not localtime.is_zone("Mars/Olympus")
    assert "Asia/Baku" in localtime.zone_choices()
    assert "Mars/Olympus" not in localtime.zone_choices()


@pytest.mark.parametrize(("minutes", "refused"), [(840, False), (-840, False), (900, True),
                                                  (-900, True)])
def test_offsets_beyond_fourteen_hours_are_refused(minutes, refused):
    assert (localtime.offset_problem(minutes) is not None) == refused


def test_a_zone_and_an_offset_must_agree_on_that_date():
    summer = datetime(2022, 7, 1, 12, 0, tzinfo=UTC)
    assert localtime.zone_disagreement("Europe/Kyiv", 180, summer) is None
    problem = localtime.zone_disagreement("Europe/Kyiv", 120, summer)
    assert "UTC+03:00" in problem
    assert "UTC+02:00" in problem
