"""Custody as it was: when each event happened and when it was recorded, in the incident's
local time and UTC; back-filled events marked; a late upload warned; the hash check dated at
recording; a physical item's chain not ending in an automatic receipt."""

import io
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from ihl_docs.core.models import CustodyEventCreate
from ihl_docs.dossiers.build import build_dossier
from ihl_docs.evidence import custody_times
from ihl_docs.evidence import services as evidence
from tests.builders import login, make_case, make_evidence, make_incident, make_user

COLLECTED = datetime(2020, 10, 3, 20, 30, tzinfo=UTC)  # 2020-10-04 00:30 in Baku
SEALED = datetime(2020, 10, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def user(db):
    return make_user(db, "admin", name="Lena Lawyer")


@pytest.fixture
def sealed_photo(db, store, user):
    """A photo collected in 2020, uploaded today, with a seal back-filled today for 2020."""
    case = make_case(db, user, ref="NK-2020-009")
    incident = make_incident(db, case, user, time_zone="Asia/Baku")
    item = make_evidence(db, case, user, store, data=b"%PDF-1.4 sealed", acquired_at=COLLECTED,
                         acquired_by="Field team 2")
    evidence.link_evidence(db, incident, item, "", actor=user)
    seal = evidence.record_custody(db, item, CustodyEventCreate(
        action="sealed", occurred_at=SEALED, custodian_to="Field team 2", place="Stepanakert"),
        actor=user, store=store)
    db.commit()
    return {"case": case, "item": item, "seal": seal}


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_delay_is_written_in_years_months_or_days():
    assert custody_times.delay_text(datetime(2020, 10, 4, tzinfo=UTC),
                               datetime(2026, 12, 5, tzinfo=UTC)) == "6 years 2 months"
    assert custody_times.delay_text(datetime(2020, 10, 4, tzinfo=UTC),
                               datetime(2020, 10, 16, tzinfo=UTC)) == "12 days"
    assert custody_times.delay_text(datetime(2020, 10, 4, tzinfo=UTC),
                               datetime(2021, 10, 4, tzinfo=UTC)) == "1 year"


def test_a_back_filled_seal_is_marked_recorded_later_in_local_time_and_utc(db, sealed_photo):
    item, seal = sealed_photo["item"], sealed_photo["seal"]
    times = custody_times.custody_times(seal, custody_times.custody_zone(
        [i for i, _ in evidence.linked_incidents(db, item)]))
    assert times.occurred == "2020-10-04 12:00 +04:00 (2020-10-04 08:00 UTC)"
    assert times.recorded.endswith(f"({seal.recorded_at:%Y-%m-%d %H:%M} UTC)")
    assert times.later.startswith("recorded 6 years")
    assert times.later.endswith(" later")
    assert times.hash == f"hash matched at recording ({seal.recorded_at:%Y-%m-%d %H:%M} UTC)"


def test_an_event_recorded_the_same_week_is_not_marked(db, store, user):
    case = make_case(db, user)
    item = make_evidence(db, case, user, store)
    event = evidence.custody_chain(db, item)[-1]
    times = custody_times.custody_times(event, ("", None))
    assert times.later == ""
    assert times.occurred.endswith("UTC (local offset not recorded)")


def test_a_long_delay_between_collection_and_upload_is_a_custody_warning(db, sealed_photo):
    item = sealed_photo["item"]
    warnings = evidence.custody_warnings(evidence.custody_chain(db, item), item)
    assert any(w.startswith("Uploaded 6 years") and "after collection" in w
               for w in warnings[None])


def test_a_prompt_upload_is_not_warned(db, store, user):
    case = make_case(db, user)
    item = make_evidence(db, case, user, store, acquired_by="Field team 2")
    warnings = evidence.custody_warnings(evidence.custody_chain(db, item), item)
    assert None not in warnings


def test_the_evidence_page_shows_both_times_and_the_delay(client, db, sealed_photo, user):
    login(client, user)
    body = client.get(f"/evidence/{sealed_photo['item'].ref}").get_data(as_text=True)
    start = body.index("<strong>Sealed</strong>")
    entry = body[start:body.index("</li>", start)]
    assert "2020-10-04 12:00 +04:00 (2020-10-04 08:00 UTC)" in entry
    assert re.search(r"recorded 6 years \d+ months? later", entry)
    assert f"Matched at recording ({sealed_photo['seal'].recorded_at:%Y-%m-%d %H:%M} UTC)" in entry
    assert "Uploaded 6 years" in body


def test_the_custody_annex_shows_both_times_and_the_delay(db, app, sealed_photo):
    out = io.BytesIO()
    build_dossier(db, sealed_photo["case"], audience="internal", prepared_by="Lena Lawyer",
                  store=app.extensions["ihl_store"], out=out)
    db.commit()
    text = flat("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(out.getvalue())).pages))
    assert flat("2020-10-04 12:00 +04:00 (2020-10-04 08:00 UTC)") in text
    assert re.search(r"recorded6years\d+months?later", text)
    assert flat("hash matched at recording") in text
    assert flat("Uploaded 6 years") in text


def test_a_physical_item_collected_gets_no_automatic_receipt(db, store, user):
    case = make_case(db, user)
    item = make_evidence(db, case, user, store, data=None, title="Rocket remnant",
                         acquired_at=COLLECTED, acquired_by="Field team 2")
    evidence.record_custody(db, item, CustodyEventCreate(
        action="stored", occurred_at=SEALED, place="Locker 3"), actor=user, store=store)
    db.commit()
    chain = evidence.custody_chain(db, item)
    assert [e.action for e in chain] == ["collected", "stored"]


def test_a_physical_item_recorded_without_collection_is_received_by_the_uploader(db, store, user):
    case = make_case(db, user)
    item = make_evidence(db, case, user, store, data=None, title="Rocket remnant")
    assert [e.action for e in evidence.custody_chain(db, item)] == ["received"]


def test_leaving_storage_without_a_transfer_is_a_gap(db, store, user):
    case = make_case(db, user)
    item = make_evidence(db, case, user, store, data=None, title="Rocket remnant",
                         acquired_at=COLLECTED, acquired_by="Field team 2")
    evidence.record_custody(db, item, CustodyEventCreate(
        action="stored", occurred_at=SEALED, place="Locker 3"), actor=user, store=store)
    jump = evidence.record_custody(db, item, CustodyEventCreate(
        action="received", occurred_at=datetime(2021, 1, 1, tzinfo=UTC),
        custodian_to="Ina Investigator"), actor=user, store=store)
    db.commit()
    warnings = evidence.custody_warnings(evidence.custody_chain(db, item))
    assert any("stored at Locker 3" in w and "no transfer" in w for w in warnings[jump.id])


def test_a_transfer_out_of_storage_is_no_gap(db, store, user):
    case = make_case(db, user)
    item = make_evidence(db, case, user, store, data=None, title="Rocket remnant",
                         acquired_at=COLLECTED, acquired_by="Field team 2")
    evidence.record_custody(db, item, CustodyEventCreate(
        action="stored", occurred_at=SEALED, place="Locker 3", custodian_to="Field team 2"),
        actor=user, store=store)
    moved = evidence.record_custody(db, item, CustodyEventCreate(
        action="transferred", occurred_at=datetime(2021, 1, 1, tzinfo=UTC),
        custodian_from="Field team 2", custodian_to="Lab"), actor=user, store=store)
    db.commit()
    assert moved.id not in evidence.custody_warnings(evidence.custody_chain(db, item))
