"""Evidence pages: adding an item (file or physical), refusals, its page, downloads, links,
custody, metadata flags, the incident's evidence."""

import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from ihl_docs.cases import services as case_services
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import (
    AuditEntry,
    CustodyEvent,
    Evidence,
    EvidenceCreate,
    EvidenceDerivative,
    IncidentEvidence,
)
from ihl_docs.evidence import services as evidence_services
from ihl_docs.evidence.custody_times import delay_text
from ihl_docs.evidence.views import download_name
from tests.builders import jpeg_with_exif, login, make_case, make_evidence, make_incident, make_user
from tests.pages_support import PHOTO, FormPage, custody_form, items_in, stored_files, text_of, upload_form

TOMORROW = (utcnow() + timedelta(days=1)).date().isoformat()


def post_upload(client, case, query: str = "", **fields):
    return client.post(f"/cases/{case.ref}/evidence/new{query}", data=upload_form(**fields),
                       content_type="multipart/form-data")


def chain_of(db, item) -> list[CustodyEvent]:
    rows = list(db.exec(select(CustodyEvent).where(CustodyEvent.evidence_id == item.id)
                        .order_by(CustodyEvent.id)))
    db.commit()
    return rows


def download(client, item):
    """POST the download form; the whole body is read and the file closed, as a server would."""
    return client.post(f"/evidence/{item.ref}/download", buffered=True)


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def investigator(db):
    return make_user(db, "investigator", name="Ina Investigator")


@pytest.fixture
def case(db, investigator):
    return make_case(db, investigator)


@pytest.fixture
def incident(db, case, investigator):
    return make_incident(db, case, investigator)


@pytest.fixture
def logged_in(client, investigator):
    login(client, investigator)
    return client


# Adding an item -----------------------------------------------------------------------

def test_upload_form_offers_every_field_with_labels_and_help(logged_in, case):
    response = logged_in.get(f"/cases/{case.ref}/evidence/new")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in body
    page = FormPage(body)
    for name in EvidenceCreate.model_fields:
        assert name in page.values, name
    for name in ("file", "published_at_time", "acquired_at_time", "incident", "relevance"):
        assert name in page.values, name
    text = text_of(response)
    for words in ("Kind", "Title", "Source URL", "Author or account", "Publication date",
                  "Acquired by", "How it was acquired", "Sensitivity", "Source reliability",
                  "Information credibility", "A — completely reliable",
                  "6 — truth cannot be judged", "Confidential: it may identify a witness.",
                  "The largest file accepted is 4096 MiB."):
        assert words in text, words


def test_uploading_a_photo_keeps_its_bytes_hash_metadata_thumbnail_and_receipt(
        logged_in, db, case, store, investigator):
    response = post_upload(logged_in, case, filename="holiday.pdf")  # the name does not decide
    assert response.status_code == 302
    [item] = items_in(db, case)
    assert response.headers["Location"].endswith(f"/evidence/{item.ref}")
    assert item.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert store.path_for(item.sha256).read_bytes() == PHOTO
    assert (item.size, item.media_type) == (len(PHOTO), "image/jpeg")
    assert item.original_filename == "holiday.pdf"
    assert (item.source_author, item.reliability, item.credibility) == ("@oldtown_news", "B", "2")
    assert item.published_at == datetime(2020, 10, 4, 11, 0, tzinfo=UTC)
    assert item.acquired_at == datetime(2020, 10, 5, 8, 0, tzinfo=UTC)
    assert item.capture_time == datetime(2020, 10, 4, 9, 12, tzinfo=UTC)
    assert [e.action for e in chain_of(db, item)] == ["collected", "received"]
    assert list(store.tmp.iterdir()) == []

    page = logged_in.get(response.headers["Location"])
    body, text = page.get_data(as_text=True), text_of(page)
    assert f'<pre class="hash" id="sha256">{item.sha256}</pre>' in body
    for words in (f"{item.ref} recorded and its SHA-256 computed.", f"{len(PHOTO):,} bytes",
                  "image/jpeg", "holiday.pdf", "2020-10-04 09:12 UTC", "39.8, 46.75",
                  "Canon EOS 80D", "Telegram", "Copied from the witness's phone.",
                  "Collected 2020-10-05 08:00 UTC", "— → Field team 2",
                  f"Field team 2 → {investigator.email}", "Matched at recording (", item.sha256):
        assert words in text, words
    assert f'<img src="/evidence/{item.ref}/thumbnail"' in body

    thumb = logged_in.get(f"/evidence/{item.ref}/thumbnail")
    [derivative] = db.exec(select(EvidenceDerivative)).all()
    db.commit()
    assert thumb.status_code == 200
    assert thumb.mimetype == "image/jpeg"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    assert thumb.data == store.path_for(derivative.sha256).read_bytes() != PHOTO
    assert thumb.data.startswith(b"\xff\xd8")


def test_a_physical_item_is_recorded_without_a_file_and_not_received_by_its_recorder(
        logged_in, db, case, store):
    response = post_upload(logged_in, case, data=None, kind="physical_item",
                           title="Rocket motor remnant", source_url="", published_at="",
                           published_at_time="")
    assert response.status_code == 302
    [item] = items_in(db, case)
    assert (item.kind, item.sha256, item.size, item.original_filename) == (
        "physical_item", None, None, "")
    # Collected by the field team; whoever types the record in did not receive the object.
    assert [e.action for e in chain_of(db, item)] == ["collected"]
    assert stored_files(store) == []
    text = text_of(logged_in.get(f"/evidence/{item.ref}"))
    assert "Physical item" in text
    assert "This item has no file." in text
    assert "Download original" not in text
    assert download(logged_in, item).status_code == 404


BAD_INPUT = [
    ({"data": b""}, "file", "The file is empty."),
    ({"data": None}, "file", "Choose a file to upload."),
    ({"kind": "physical_item"}, "file",
     "A physical item has no file; record it without one, or choose another kind."),
    ({"title": ""}, "title", "This field is required."),
    ({"title": "   "}, "title", "This field is required."),
    ({"title": "x" * 301}, "title", "Use at most 300 characters."),
    ({"kind": ""}, "kind", "This field is required."),
    ({"kind": "rumour"}, "kind", "Choose one of the listed options."),
    ({"published_at": TOMORROW}, "published_at", "This cannot be in the future."),
    ({"acquired_at": TOMORROW, "acquired_at_time": ""}, "acquired_at",
     "This cannot be in the future."),
    ({"acquired_at": "2020-13-45"}, "acquired_at", "Enter a date as YYYY-MM-DD."),
    ({"published_at": "", "published_at_time": "10:00"}, "published_at_time",
     "Give the date as well, or leave the time empty."),
    ({"reliability": "Z"}, "reliability", "Choose one of the listed options."),
    ({"sensitivity": "secret"}, "sensitivity", "Choose one of the listed options."),
    ({"source_url": "x" * 2001}, "source_url", "Use at most 2,000 characters."),
    ({"relevance": "Shows the crater."}, "relevance",
     "Choose the incident this note is about, or leave it empty."),
    ({"incident": "TC-9999-I001"}, "incident", "Choose one of the listed options."),
]


@pytest.mark.parametrize("fields, field, message", BAD_INPUT,
                         ids=[f"{f}-{m[:20]}" for _, f, m in BAD_INPUT])
def test_bad_input_is_named_next_to_its_field_and_nothing_is_kept(logged_in, db, case, store,
                                                                 fields, field, message):
    response = post_upload(logged_in, case, **fields)
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {field: message}
    assert "Nothing was saved." in text_of(response)
    if field != "title":
        assert page.value("title") == "Crater in the market square"   # the input is kept
    assert items_in(db, case) == []
    assert stored_files(store) == []
    assert db.exec(select(AuditEntry).where(AuditEntry.entity == "evidence")).all() == []
    db.commit()


def test_several_bad_fields_are_named_at_once(logged_in, db, case, store):
    response = post_upload(logged_in, case, data=b"", title="", published_at=TOMORROW)
    page = FormPage(response.get_data(as_text=True))
    assert set(page.errors) == {"file", "title", "published_at"}
    assert "The file you chose was not kept. Choose it again before saving." in text_of(response)
    assert stored_files(store) == []


def test_the_same_file_twice_in_a_case_names_the_item_already_holding_it(logged_in, db, case,
                                                                          store):
    assert post_upload(logged_in, case).status_code == 302
    [first] = items_in(db, case)
    response = post_upload(logged_in, case, title="The same photo again", filename="copy.jpg")
    assert response.status_code == 409
    assert FormPage(response.get_data(as_text=True)).errors == {
        "file": f"This file is already in the case as {first.ref}."}
    assert [i.ref for i in items_in(db, case)] == [first.ref]
    assert [p.name for p in stored_files(store)] == sorted(
        [first.sha256, db.exec(select(EvidenceDerivative.sha256)).one()])
    db.commit()


@pytest.mark.parametrize("name, shown", [
    ("../../etc/passwd", "passwd"),
    ("a\x01b\x1b[31mc\td.jpg", "ab[31mcd.jpg"),
    ("<script>alert(1)</script>.jpg", "script>.jpg"),
    ("<img src=x onerror=alert(1)>.jpg", "<img src=x onerror=alert(1)>.jpg"),
])
def test_hostile_file_names_are_kept_for_display_only_and_escaped(logged_in, db, case, name,
                                                                   shown):
    assert post_upload(logged_in, case, filename=name).status_code == 302
    [item] = items_in(db, case)
    assert item.original_filename == shown == evidence_services.display_filename(name)
    body = logged_in.get(f"/evidence/{item.ref}").get_data(as_text=True)
    assert "<img src=x" not in body
    assert "<script>alert" not in body
    assert shown.replace("<", "&lt;").replace(">", "&gt;") in body
    response = download(logged_in, item)
    assert response.headers["Content-Disposition"] == f"attachment; filename={item.ref}.jpg"


def test_a_very_long_file_name_is_shortened_for_display(logged_in, db, case):
    assert post_upload(logged_in, case, filename="x" * 10_000 + ".jpeg").status_code == 302
    [item] = items_in(db, case)
    assert len(item.original_filename) <= 255
    assert item.original_filename.endswith("….jpeg")
    assert item.original_filename in text_of(logged_in.get(f"/evidence/{item.ref}"))


# Downloading the original -------------------------------------------------------------

@pytest.mark.parametrize("media_type, name", [
    ("image/jpeg", "X-E0001.jpg"), ("application/pdf", "X-E0001.pdf"),
    ("application/octet-stream", "X-E0001.bin"), ("text/html", "X-E0001.html"),
    ("application/x-made-up", "X-E0001.bin"), ("", "X-E0001.bin"),
])
def test_the_download_is_named_by_ref_and_detected_type(media_type, name):
    assert download_name(Evidence(ref="X-E0001", media_type=media_type)) == name


@pytest.fixture
def photo(logged_in, db, case):
    assert post_upload(logged_in, case).status_code == 302
    return items_in(db, case)[0]


def test_download_serves_the_exact_bytes_as_an_attachment_and_records_the_read(
        logged_in, db, photo, investigator):
    response = download(logged_in, photo)
    assert response.status_code == 200
    assert response.data == PHOTO
    assert response.headers["Content-Disposition"] == f"attachment; filename={photo.ref}.jpg"
    assert response.mimetype == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Content-Length"] == str(len(PHOTO))
    assert "no-store" in response.headers["Cache-Control"]
    accessed = chain_of(db, photo)[-1]
    assert (accessed.action, accessed.actor, accessed.hash_matched) == (
        "accessed", investigator.email, True)
    assert accessed.sha256_observed == photo.sha256
    audit = db.exec(select(AuditEntry).where(AuditEntry.action == "custody_accessed")).all()
    db.commit()
    assert [a.entity_id for a in audit] == [f"{photo.ref}#{accessed.id}"]
    assert "Accessed" in text_of(logged_in.get(f"/evidence/{photo.ref}"))


def test_a_plain_link_to_the_download_records_nothing(logged_in, db, photo):
    response = logged_in.get(f"/evidence/{photo.ref}/download")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evidence/{photo.ref}#original")
    assert [e.action for e in chain_of(db, photo)] == ["collected", "received"]


@pytest.mark.parametrize("role", ["auditor", "legal", "admin"])
def test_readers_of_the_case_may_download_and_each_read_is_recorded(client, db, case, photo,
                                                                     investigator, role):
    reader = make_user(db, role)
    if role == "legal":
        case_services.add_member(db, case, reader.email, actor=investigator)
        db.commit()
    client.post("/logout")
    login(client, reader)
    response = download(client, photo)
    assert response.status_code == 200
    assert response.data == PHOTO
    assert (chain_of(db, photo)[-1].action, chain_of(db, photo)[-1].actor) == (
        "accessed", reader.email)


def test_someone_outside_the_case_gets_not_found_and_nothing_is_recorded(client, db, photo):
    client.post("/logout")
    login(client, make_user(db, "investigator"))
    for response in (download(client, photo),
                     client.get(f"/evidence/{photo.ref}"),
                     client.get(f"/evidence/{photo.ref}/thumbnail")):
        assert response.status_code == 404
        assert PHOTO not in response.data
        assert photo.title.encode() not in response.data
    assert [e.action for e in chain_of(db, photo)] == ["collected", "received"]


@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_an_altered_or_missing_original_is_refused_with_a_clear_page(logged_in, db, store,
                                                                      photo, damage):
    path = store.path_for(photo.sha256)
    os.chmod(path, 0o644)
    if damage == "altered":
        path.write_bytes(PHOTO[:-1] + b"\x00")
    else:
        path.unlink()
    response = download(logged_in, photo)
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert PHOTO[:64] not in response.data
    assert "Content-Disposition" not in response.headers
    text = text_of(response)
    assert "The original could not be served" in text
    assert f"The stored file of {photo.ref} is missing or no longer matches its SHA-256" in text
    assert [e.action for e in chain_of(db, photo)] == ["collected", "received"]


# Linking to incidents -----------------------------------------------------------------

def test_linking_an_item_to_an_incident_of_its_case(logged_in, db, photo, incident):
    page = logged_in.get(f"/evidence/{photo.ref}").get_data(as_text=True)
    assert f'<option value="{incident.ref}">{incident.ref} — {incident.title}</option>' in page
    response = logged_in.post(f"/evidence/{photo.ref}/incidents",
                              data={"incident": incident.ref, "relevance": "Shows the crater."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evidence/{photo.ref}#incidents")
    link = db.get(IncidentEvidence, (incident.id, photo.id))
    db.commit()
    assert link.relevance == "Shows the crater."
    text = text_of(logged_in.get(f"/evidence/{photo.ref}"))
    assert f"{incident.ref} {incident.title} Shows the crater." in text
    assert "No other incident of" in text    # the only incident is linked now
    incident_page = text_of(logged_in.get(f"/incidents/{incident.ref}"))
    assert f"{photo.ref} Photo {photo.title} Shows the crater." in incident_page


def test_linking_to_an_incident_of_another_case_is_refused(logged_in, db, photo, investigator):
    foreign = make_incident(db, make_case(db, investigator), investigator)
    response = logged_in.post(f"/evidence/{photo.ref}/incidents",
                              data={"incident": foreign.ref, "relevance": "x"})
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors == {
        "incident": "Choose one of the listed options."}
    assert db.exec(select(IncidentEvidence)).all() == []
    db.commit()


def test_linking_twice_is_refused_with_a_message(logged_in, db, photo, incident):
    url = f"/evidence/{photo.ref}/incidents"
    assert logged_in.post(url, data={"incident": incident.ref}).status_code == 302
    response = logged_in.post(url, data={"incident": incident.ref, "relevance": "again"})
    assert response.status_code == 409
    assert FormPage(response.get_data(as_text=True)).errors == {
        "incident": f"{photo.ref} is already linked to {incident.ref}."}
    assert len(db.exec(select(IncidentEvidence)).all()) == 1
    db.commit()


def test_an_incident_page_lists_its_evidence_and_offers_to_attach_and_link(
        logged_in, db, case, incident, store, investigator):
    report = make_evidence(db, case, investigator, store, title="Hospital report")
    text = text_of(logged_in.get(f"/incidents/{incident.ref}"))
    assert "Evidence 0" in text
    assert "No evidence linked yet." in text
    body = logged_in.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    assert f'href="/cases/{case.ref}/evidence/new?incident={incident.ref}"' in body
    assert f'href="/incidents/{incident.ref}/evidence/link"' in body

    # upload from the incident: it is chosen already, with a note on relevance
    form_page = FormPage(logged_in.get(f"/cases/{case.ref}/evidence/new?incident={incident.ref}")
                         .get_data(as_text=True))
    assert form_page.value("incident") == incident.ref
    response = post_upload(logged_in, case, query=f"?incident={incident.ref}",
                           incident=incident.ref, relevance="Taken minutes after the strike.")
    assert response.status_code == 302

    # link an existing item from the incident's side
    link_page = logged_in.get(f"/incidents/{incident.ref}/evidence/link")
    assert FormPage(link_page.get_data(as_text=True)).values["evidence_ref"] == [""]
    assert f"{report.ref} — Hospital report" in text_of(link_page)
    response = logged_in.post(f"/incidents/{incident.ref}/evidence/link",
                              data={"evidence_ref": report.ref, "relevance": "Casualty list."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{incident.ref}#evidence")
    photo = [i for i in items_in(db, case) if i.kind == "photo"][0]
    text = text_of(logged_in.get(f"/incidents/{incident.ref}"))
    assert "Evidence 2" in text
    assert f"{report.ref} Document Hospital report Casualty list." in text
    assert f"{photo.ref} Photo Crater in the market square Taken minutes after the strike." in text
    # nothing left to link
    assert report.ref not in text_of(logged_in.get(f"/incidents/{incident.ref}/evidence/link"))


def test_linking_from_the_incident_page_refuses_an_item_of_another_case(
        logged_in, db, incident, store, investigator):
    foreign = make_evidence(db, make_case(db, investigator), investigator, store)
    response = logged_in.post(f"/incidents/{incident.ref}/evidence/link",
                              data={"evidence_ref": foreign.ref})
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors == {
        "evidence_ref": "Choose one of the listed options."}
    assert db.exec(select(IncidentEvidence)).all() == []
    db.commit()


# Custody ------------------------------------------------------------------------------

def test_recording_a_transfer_rehashes_the_file_and_shows_in_the_timeline(logged_in, db, photo,
                                                                          investigator):
    response = logged_in.post(f"/evidence/{photo.ref}/custody", data=custody_form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/evidence/{photo.ref}#custody")
    event = chain_of(db, photo)[-1]
    assert (event.action, event.custodian_from, event.custodian_to) == (
        "transferred", "Field team 2", "Forensic lab, Kyiv")
    assert event.occurred_at == datetime(2020, 10, 6, 14, 30, tzinfo=UTC)
    assert (event.actor, event.hash_matched, event.sha256_observed) == (
        investigator.email, True, photo.sha256)
    text = text_of(logged_in.get(f"/evidence/{photo.ref}"))
    later = delay_text(event.occurred_at, event.recorded_at)
    assert ("Transferred 2020-10-06 14:30 UTC (local offset not recorded) "
            f"recorded {later} later Custody Field team 2 → Forensic lab, Kyiv "
            "Place Kyiv Purpose Image analysis Notes Seal no. 4471 intact. "
            f"File hash Matched at recording ({event.recorded_at:%Y-%m-%d %H:%M} UTC) "
            f"{photo.sha256}") in text


def test_the_custody_form_offers_only_what_people_record_and_defaults_to_now(logged_in, photo):
    page = FormPage(logged_in.get(f"/evidence/{photo.ref}").get_data(as_text=True))
    assert page.value("occurred_at") == utcnow().date().isoformat()
    body = logged_in.get(f"/evidence/{photo.ref}").get_data(as_text=True)
    for action in ("transferred", "received", "sealed", "stored", "copied", "analysed",
                   "released"):
        assert f'value="{action}"' in body
    assert 'value="accessed"' not in body
    assert 'value="collected"' not in body


CUSTODY_RULES = [
    ({"occurred_at": "2020-10-05", "occurred_at_time": "07:59"}, "occurred_at",
     "This is before the item was collected (2020-10-05 08:00 UTC)."),
    ({"occurred_at": TOMORROW}, "occurred_at", "A custody event cannot be in the future."),
    ({"custodian_from": ""}, "custodian_from",
     "A transfer names who handed the item over and who took it."),
    ({"action": "received", "custodian_to": ""}, "custodian_to", "Say who received the item."),
    ({"action": "accessed"}, "action", "Choose one of the listed options."),
    ({"occurred_at": ""}, "occurred_at", "This field is required."),
    ({"occurred_at_time": "25:00"}, "occurred_at_time", "Enter a time as HH:MM (24-hour, UTC)."),
    ({"notes": "x" * 20_001}, "notes", "Use at most 20,000 characters."),
]


@pytest.mark.parametrize("fields, field, message", CUSTODY_RULES,
                         ids=[f"{f}-{m[:24]}" for _, f, m in CUSTODY_RULES])
def test_a_custody_event_that_breaks_a_rule_is_refused_next_to_its_field(logged_in, db, photo,
                                                                        fields, field, message):
    audit_before = len(db.exec(select(AuditEntry)).all())
    db.commit()
    response = logged_in.post(f"/evidence/{photo.ref}/custody", data=custody_form(**fields))
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {field: message}
    if field != "custodian_from":
        assert page.value("custodian_from") == "Field team 2"   # the input is kept
    assert [e.action for e in chain_of(db, photo)] == ["collected", "received"]
    assert len(db.exec(select(AuditEntry)).all()) == audit_before
    db.commit()


def test_a_gap_in_the_chain_is_shown_as_a_warning_at_the_event_where_it_shows(logged_in, photo):
    response = logged_in.post(f"/evidence/{photo.ref}/custody", data=custody_form(
        custodian_from="Someone else", custodian_to="Archive"))
    assert response.status_code == 302
    body = logged_in.get(f"/evidence/{photo.ref}").get_data(as_text=True)

    def entry(action):
        """The action's entry in the timeline."""
        start = body.index(f"<strong>{action}</strong>")
        return body[start:body.index("</li>", start)]

    # In time order: collected by Field team 2, the transfer dated the next day, the receipt.
    assert ('<p class="warning">The item moves from Someone else, but the last recorded '
            'custodian was Field team 2: no transfer event between them.</p>'
            ) in entry("Transferred")
    assert ('<p class="warning">The item moves from Field team 2, but the last recorded '
            'custodian was Archive: no transfer event between them.</p>') in entry("Received")
    assert "warning" not in entry("Collected")
    assert body.count('class="custody-event has-warning"') == 2


# Metadata against the record ----------------------------------------------------------

def test_exif_time_after_the_publication_time_is_flagged(logged_in, db, case):
    post_upload(logged_in, case, published_at="2020-10-04", published_at_time="09:00")
    [item] = items_in(db, case)
    text = text_of(logged_in.get(f"/evidence/{item.ref}"))
    assert ("EXIF capture time (2020-10-04 09:12 UTC) is after the stated publication time "
            "(2020-10-04 09:00 UTC).") in text
    assert "The file's metadata disagrees with the record" in text


def test_exif_position_far_from_the_incident_is_flagged(logged_in, db, case, investigator):
    far = make_incident(db, case, investigator, latitude=40.5, longitude=46.75,
                        location_precision_m=100)
    post_upload(logged_in, case, incident=far.ref, relevance="Said to show the strike.")
    [item] = items_in(db, case)
    text = text_of(logged_in.get(f"/evidence/{item.ref}"))
    assert f"EXIF position is 77.8 km from incident {far.ref}'s coordinates." in text
    assert f"{far.ref}: 40.5, 46.75 (Old town market)" in text


def test_matching_metadata_raises_no_flag(logged_in, db, case, incident):
    post_upload(logged_in, case, incident=incident.ref)
    [item] = items_in(db, case)
    assert "disagrees" not in text_of(logged_in.get(f"/evidence/{item.ref}"))


# The case's list ----------------------------------------------------------------------

def test_the_case_page_links_to_its_evidence(logged_in, case):
    body = logged_in.get(f"/cases/{case.ref}").get_data(as_text=True)
    assert f'href="/cases/{case.ref}/evidence"' in body
    assert f'href="/cases/{case.ref}/evidence/new"' in body


@pytest.fixture
def several(db, case, incident, investigator, store):
    items = [make_evidence(db, case, investigator, store, b"%PDF-1.4 a", title="Report A"),
             make_evidence(db, case, investigator, store, None, title="Fragment",
                           sensitivity="confidential"),
             make_evidence(db, case, investigator, store, jpeg_with_exif(color=(1, 2, 3)),
                           kind="photo", title="Crater photo", sensitivity="public")]
    evidence_services.link_evidence(db, incident, items[2], "", actor=investigator)
    db.commit()
    return items


@pytest.mark.parametrize("query, titles", [
    ("", ["Report A", "Fragment", "Crater photo"]),
    ("?kind=photo", ["Crater photo"]),
    ("?kind=physical_item", ["Fragment"]),
    ("?sensitivity=confidential", ["Fragment"]),
    ("?incident={incident}", ["Crater photo"]),
    ("?kind=document&incident={incident}", []),
])
def test_the_list_filters_by_kind_sensitivity_and_incident(logged_in, case, incident, several,
                                                            query, titles):
    response = logged_in.get(f"/cases/{case.ref}/evidence" + query.format(incident=incident.ref))
    assert response.status_code == 200
    text = text_of(response)
    shown = [t for t in ("Report A", "Fragment", "Crater photo") if t in text]
    assert shown == titles
    assert f"{len(titles)} item{'' if len(titles) == 1 else 's'}." in text


def test_a_wrong_filter_value_is_named_and_ignored(logged_in, case, several):
    response = logged_in.get(f"/cases/{case.ref}/evidence?kind=rumour&incident=NOPE")
    assert response.status_code == 200
    errors = FormPage(response.get_data(as_text=True)).errors
    assert errors == {"kind": "Choose one of the listed options.",
                      "incident": "Choose one of the listed options."}
    assert "3 items." in text_of(response)
