"""Evidence rules on the services: the store, metadata, links, custody."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Conflict, CustodyRuleViolation, InvalidInput, TooLarge
from ihl_docs.core.models import CustodyEventCreate, EvidenceCreate, EvidenceDerivative
from ihl_docs.evidence import services as evidence
from tests.builders import incoming_from, jpeg_with_exif, make_case, make_evidence, make_incident, make_user


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


def test_photo_is_stored_by_hash_with_exif_and_thumbnail(db, store):
    user = make_user(db)
    case = make_case(db, user)
    photo = jpeg_with_exif()
    item = make_evidence(db, case, user, store, photo, kind="photo", title="Crater",
                         original_filename="IMG_0001.JPG")
    import hashlib
    assert item.sha256 == hashlib.sha256(photo).hexdigest()
    assert store.path_for(item.sha256).read_bytes() == photo
    assert item.media_type == "image/jpeg"
    assert item.size == len(photo)
    assert item.capture_time == datetime(2020, 10, 4, 9, 12, tzinfo=UTC)
    assert (item.capture_latitude, item.capture_longitude) == (39.8, 46.75)
    assert item.capture_device == "Canon EOS 80D"
    thumb = db.exec(select(EvidenceDerivative)).one()
    assert thumb.sha256 != item.sha256
    assert store.exists(thumb.sha256)
    events = evidence.custody_chain(db, item)
    assert [e.action for e in events] == ["received"]
    assert events[0].hash_matched is True
    assert events[0].sha256_observed == item.sha256
    assert list(store.tmp.iterdir()) == []


def test_same_bytes_twice_in_a_case_names_the_first(db, store):
    user = make_user(db)
    case = make_case(db, user)
    first = make_evidence(db, case, user, store, b"%PDF-1.4 same bytes")
    with pytest.raises(Conflict) as error:
        make_evidence(db, case, user, store, b"%PDF-1.4 same bytes")
    assert first.ref in error.value.message
    db.rollback()
    other = make_evidence(db, make_case(db, user), user, store, b"%PDF-1.4 same bytes")
    assert other.sha256 == first.sha256  # another case may hold it; stored once


def test_empty_and_too_large_files_are_refused(db, store):
    user = make_user(db)
    case = make_case(db, user)
    with pytest.raises(InvalidInput):
        make_evidence(db, case, user, store, b"")
    db.rollback()
    data = EvidenceCreate(kind="document", title="Big")
    with pytest.raises(TooLarge), incoming_from(store, b"x" * 2048) as incoming:
        evidence.register_evidence(db, case, data, incoming, actor=user, store=store,
                                   max_bytes=1024)
    db.rollback()
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_hostile_file_names_are_kept_for_display_only(db, store):
    assert evidence.display_filename("../../etc/passwd") == "passwd"
    assert evidence.display_filename("a\x00b\x1b[31mc\nd.jpg") == "ab[31mcd.jpg"
    long_name = evidence.display_filename("x" * 10_000 + ".jpeg")
    assert len(long_name) <= 255
    assert long_name.endswith(".jpeg")


def test_custody_rules_and_rehash(db, store):
    user = make_user(db)
    case = make_case(db, user)
    collected = utcnow() - timedelta(days=3)
    item = make_evidence(db, case, user, store, acquired_at=collected, acquired_by="Field team 2")
    too_early = CustodyEventCreate(action="transferred", occurred_at=collected - timedelta(hours=1),
                                   custodian_from="Field team 2", custodian_to="Lab")
    with pytest.raises(CustodyRuleViolation) as error:
        evidence.record_custody(db, item, too_early, actor=user, store=store)
    assert "occurred_at" in error.value.fields
    with pytest.raises(CustodyRuleViolation):
        evidence.record_custody(db, item, CustodyEventCreate(
            action="accessed", occurred_at=utcnow()), actor=user, store=store)
    event = evidence.record_custody(db, item, CustodyEventCreate(
        action="transferred", occurred_at=collected + timedelta(hours=2),
        custodian_from="Field team 2", custodian_to="Lab"), actor=user, store=store)
    assert event.hash_matched is True


def test_custody_gaps_are_warned(db, store):
    user = make_user(db)
    case = make_case(db, user)
    t = utcnow() - timedelta(days=10)
    item = make_evidence(db, case, user, store, data=None, title="Rocket remnant",
                         acquired_at=t, acquired_by="A")
    gap = evidence.record_custody(db, item, CustodyEventCreate(
        action="transferred", occurred_at=t + timedelta(days=1), custodian_from="C",
        custodian_to="D"), actor=user, store=store)
    db.commit()
    warnings = evidence.custody_warnings(evidence.custody_chain(db, item))
    assert any("no transfer event" in w for w in warnings[gap.id])


def test_link_to_incident_of_another_case_is_refused(db, store):
    user = make_user(db)
    case, other = make_case(db, user), make_case(db, user)
    item = make_evidence(db, case, user, store)
    foreign = make_incident(db, other, user)
    with pytest.raises(InvalidInput):
        evidence.link_evidence(db, foreign, item, "", actor=user)
    mine = make_incident(db, case, user)
    evidence.link_evidence(db, mine, item, "Shows the crater", actor=user)
    with pytest.raises(Conflict):
        evidence.link_evidence(db, mine, item, "", actor=user)
