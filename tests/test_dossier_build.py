"""The dossier PDF: contents, audiences, reproducibility, PDF/A, safety and bad input."""

import hashlib
import io
import json
import re
import socket
from datetime import UTC, datetime

import pytest
import time_machine
from pypdf import PdfReader

from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import CustodyEventCreate, DossierAudience, Incident, Sensitivity, WorkflowStatus
from ihl_docs.dossiers import audiences, pipeline, render, templating
from ihl_docs.dossiers import sections as dossier_sections
from ihl_docs.dossiers.audiences import AudiencePolicy, Show
from ihl_docs.dossiers.content import CUSTODY_FIELDS, EVIDENCE_FIELDS, collect
from ihl_docs.evidence import services as evidence_services
from ihl_docs.qualifications import services as qualifications
from tests.builders import (
    approve_incident,
    jpeg_with_exif,
    load_catalogue,
    make_case,
    make_evidence,
    make_incident,
    make_user,
    qualify,
)
from tests.dossier_support import build_pdf, pdf_text

WITNESS = "Nadia Qasimova"
ARMENIAN = "Հրետակոծություն շուկայի վրա"
AZERBAIJANI = "Bazarın atəşə tutulması, şəhər mərkəzi"
ARABIC = "قصف السوق المركزي"


build, text_of = build_pdf, pdf_text  # the real renderer, as the other dossier tests use it


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def lawyer(db):
    return make_user(db, "admin", name="Lena Lawyer")


@pytest.fixture
def rich_case(db, app, store, lawyer):
    """A case with an item of each sensitivity, a qualification and a custody transfer."""
    load_catalogue(db)
    case = make_case(db, lawyer, ref="NK-2020-001")
    incident = make_incident(db, case, lawyer, title="Shelling of the central market",
                             narrative=f"{ARMENIAN}. {AZERBAIJANI}. {ARABIC}.")
    make_incident(db, case, lawyer, title="Strike on the water station", incident_type="shelling")
    photo = make_evidence(db, case, lawyer, store, data=jpeg_with_exif(), kind="photo",
                          title="Crater photographed next morning", sensitivity="public",
                          original_filename="crater.jpg")
    hidden_photo = make_evidence(db, case, lawyer, store, data=jpeg_with_exif(color=(1, 2, 3)),
                                 kind="photo", title="Body of a victim", sensitivity="restricted",
                                 original_filename="victim.jpg")
    report = make_evidence(db, case, lawyer, store, data=b"%PDF-1.4 field report",
                           title="Field report of the monitoring team", sensitivity="restricted",
                           source_author="Monitor Karimov")
    testimony = make_evidence(db, case, lawyer, store, data=b"statement text", kind="testimony",
                              title=f"Statement of {WITNESS}", sensitivity="confidential",
                              source_author=WITNESS, original_filename="qasimova.txt")
    for item in (photo, hidden_photo, report, testimony):
        evidence_services.link_evidence(db, incident, item, "seen at the market", actor=lawyer)
    evidence_services.record_custody(db, photo, CustodyEventCreate(
        action="transferred", occurred_at=datetime.now(UTC),
        custodian_from=lawyer.email, custodian_to="Evidence unit", place="Field office"),
        actor=lawyer, store=store)
    db.commit()
    qualification = qualify(db, incident, lawyer, key="rs-8-2-b-i", assessment="probable",
                            analysis="Artillery fired into a crowded market.")
    qualifications.set_finding(db, qualification, 1, "supported", "The crater and the statement.",
                               [(photo.ref, "supports"), (testimony.ref, "supports")], actor=lawyer)
    db.commit()
    # approved, so that the court and public editions cover it (and show its evidence)
    incident = approve_incident(db, incident, lawyer)
    return {"case": case, "incident": incident, "photo": photo, "hidden_photo": hidden_photo,
            "report": report, "testimony": testimony}


# ---- contents ---------------------------------------------------------------------------------

def test_internal_dossier_shows_every_part(db, app, rich_case):
    pdf, built = build(db, app, rich_case["case"])
    text = text_of(pdf)
    squeezed = flat(text)
    for expected in ("NK-2020-001", "CONFIDENTIAL — INTERNAL", "Prepared by Lena Lawyer",
                     "Contents", "1. Case summary", "Conflict classification", "International",
                     "Shelling of the central market", "Coordinates 39.80000, 46.75000",
                     "Civilians killed 2–4, of whom 1 child", "3. Evidence register",
                     "Annex A. Chains of custody", "Evidence unit", "Annex B. Images",
                     "Annex C. Provisions cited", WITNESS, "Monitor Karimov",
                     "Artillery fired into a crowded market."):
        assert flat(expected) in squeezed, expected
    assert flat(built.case_fingerprint[:16]) in squeezed
    for item in ("photo", "hidden_photo", "report", "testimony"):
        assert rich_case[item].ref in text
        assert flat(rich_case[item].sha256[:16]) in squeezed
    assert "no supporting evidence" in text  # elements 2.. of Rome Statute 8(2)(b)(i) have no evidence
    assert f"page 2 of {built.page_count}" in text
    assert built.page_count == len(PdfReader(io.BytesIO(pdf)).pages)


def test_contents_page_numbers_and_bookmarks_point_at_the_sections(db, app, rich_case):
    pdf, _ = build(db, app, rich_case["case"])
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    toc = pages[1]
    outline = {item.title: reader.get_destination_page_number(item)
               for item in _walk(reader.outline)}
    for title in ("1. Case summary", "3. Evidence register", "Annex A. Chains of custody",
                  "Annex C. Provisions cited"):
        number = int(re.search(re.escape(title) + r"\s+(\d+)", toc)[1])
        assert title in pages[number - 1]
        assert outline[title] == number - 1
    second = next(t for t in outline if "Strike on the water station" in t)
    assert "Strike on the water station" in pages[outline[second]]


def _walk(outline):
    for item in outline:
        if isinstance(item, list):
            yield from _walk(item)
        else:
            yield item


def test_reads_and_dossier_exports_do_not_enter_the_custody_annex(db, app, rich_case, lawyer,
                                                                  store):
    first, _ = build(db, app, rich_case["case"])
    evidence_services.open_original(db, rich_case["photo"], actor=lawyer, store=store).close()
    db.commit()
    second, _ = build(db, app, rich_case["case"])
    assert first == second
    assert "Accessed" not in text_of(second)


# ---- audiences --------------------------------------------------------------------------------

def test_court_edition_describes_confidential_items_and_removes_witness_fields(db, app, rich_case):
    incident = db.get(Incident, rich_case["incident"].id)
    incident.workflow_status = WorkflowStatus.approved  # court editions cover approved incidents
    db.add(incident)
    db.commit()
    pdf, _ = build(db, app, rich_case["case"], audience="court")
    text, squeezed = text_of(pdf), flat(text_of(pdf))
    testimony = rich_case["testimony"]
    assert "CONFIDENTIAL — FOR THE COURT" in text
    assert testimony.ref in text
    assert flat(testimony.sha256[:16]) in squeezed
    assert "Testimony" in text  # its kind
    assert flat(WITNESS) not in squeezed
    assert "Statement of" not in text
    assert "qasimova" not in text.lower()
    assert "Monitor Karimov" not in text  # an author is a witness-identifying field
    assert flat("Field report of the monitoring team") in squeezed  # restricted items are shown
    assert rich_case["hidden_photo"].ref in text


def test_public_edition_shows_only_public_items(db, app, rich_case):
    pdf, built = build(db, app, rich_case["case"], audience="public")
    text, squeezed = text_of(pdf), flat(text_of(pdf))
    assert "PUBLIC" in text
    assert rich_case["photo"].ref in text
    for item in ("hidden_photo", "report", "testimony"):
        assert rich_case[item].ref not in text
        assert flat(rich_case[item].sha256[:16]) not in squeezed
    assert flat(WITNESS) not in squeezed
    assert "Body of a victim" not in text
    assert "3 item(s) withheld from this edition" in text
    assert [e["ref"] for e in built.manifest["evidence"]] == [rich_case["photo"].ref]
    images = [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    assert len(images) == 1  # the public photo's thumbnail; not the restricted one


def test_internal_edition_embeds_every_thumbnail(db, app, rich_case):
    pdf, _ = build(db, app, rich_case["case"])
    images = [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    assert len(images) == 2


def test_unknown_audience_is_refused(db, app, rich_case):
    with pytest.raises(InvalidInput) as refused:
        build(db, app, rich_case["case"], audience="press")
    assert "audience" in refused.value.fields


def test_the_audience_table_lists_exactly_the_audiences_a_dossier_can_be_requested_for():
    assert list(audiences.AUDIENCES) == [a.value for a in DossierAudience]
    assert audiences.choices() == "internal, court or public"


def test_the_audience_table_names_only_fields_the_content_carries():
    for policy in audiences.AUDIENCES.values():
        assert policy.hidden_fields <= set(EVIDENCE_FIELDS), policy.name
        for hidden in policy.hidden_custody.values():
            assert hidden <= set(CUSTODY_FIELDS), policy.name
    assert set(audiences.DESCRIBED_FIELDS) <= set(EVIDENCE_FIELDS)


def test_an_audience_must_state_every_rule():
    with pytest.raises(ValueError, match="every sensitivity"):
        AudiencePolicy(name="partial", marking="", note="", incidents=audiences.EVERY_INCIDENT,
                       default_scope=audiences.EVERY_INCIDENT,
                       evidence={Sensitivity.public: Show.shown}, hidden_fields=frozenset(),
                       distance_flags=True, hidden_custody={Show.shown: frozenset()},
                       protects=False)
    with pytest.raises(ValueError, match="custody"):
        AudiencePolicy(name="partial", marking="", note="", incidents=audiences.EVERY_INCIDENT,
                       default_scope=audiences.EVERY_INCIDENT,
                       evidence=dict.fromkeys(Sensitivity, Show.described),
                       hidden_fields=frozenset(), distance_flags=True,
                       hidden_custody={Show.shown: frozenset()}, protects=False)


def test_content_for_an_unknown_audience_is_refused(db, app, rich_case, store):
    with pytest.raises(audiences.UnknownAudience) as refused:
        collect(db, rich_case["case"], audience="press", prepared_by="", store=store)
    assert refused.value.fields == {"audience": "choose internal, court or public"}


# A fourth audience, defined here only: unlike every audience the application has, it describes
# restricted items, keeps capture position and device and the distance warnings, removes only
# the author, removes custody places, and shows approved incidents only.
PRESS = AudiencePolicy(
    name="press",
    marking="EMBARGOED — FOR THE PRESS",
    note="Press edition: restricted items described, confidential ones withheld.",
    incidents=frozenset({WorkflowStatus.approved}),
    default_scope=audiences.EVERY_INCIDENT,
    evidence={Sensitivity.public: Show.shown, Sensitivity.restricted: Show.described,
              Sensitivity.confidential: Show.withheld},
    hidden_fields=frozenset({"source_author"}),
    distance_flags=True,
    hidden_custody={Show.shown: frozenset({"place"}), Show.described: audiences.CUSTODY_DETAILS},
    protects=False,
)


@pytest.fixture
def press_case(db, rich_case, lawyer, store, monkeypatch):
    """The rich case, its market incident approved, with a far photo and custody details."""
    monkeypatch.setitem(audiences.AUDIENCES, "press", PRESS)
    incident = db.get(Incident, rich_case["incident"].id)
    incident.workflow_status = WorkflowStatus.approved
    db.add(incident)
    far = make_evidence(db, rich_case["case"], lawyer, store,
                        data=jpeg_with_exif(lat=(41, 0, 0), color=(9, 9, 9)), kind="photo",
                        title="Crater seen from afar", sensitivity="public",
                        source_author="Photographer Aliyev", original_filename="far.jpg")
    evidence_services.link_evidence(db, incident, far, "seen from afar", actor=lawyer)
    for item in ("photo", "hidden_photo"):
        evidence_services.record_custody(db, rich_case[item], CustodyEventCreate(
            action="transferred", occurred_at=datetime.now(UTC),
            custodian_from="Evidence unit", custodian_to="Forensic lab", place="Lab Quarter",
            purpose="Forensic analysis", notes="Sealed bag 7"), actor=lawyer, store=store)
    db.commit()
    return {**rich_case, "far": far}


def test_a_new_audience_gets_exactly_what_its_table_row_says(db, app, press_case, store):
    case = press_case["case"]
    collected = collect(db, case, audience="press", prepared_by="", store=store)
    items = {item["ref"]: item for item in collected["evidence"]}
    ref = {name: press_case[name].ref for name in ("photo", "far", "hidden_photo", "report",
                                                  "testimony")}
    assert (collected["marking"], collected["audience_note"]) == (PRESS.marking, PRESS.note)
    assert sorted(items) == sorted(ref[n] for n in ("photo", "far", "hidden_photo", "report"))
    assert collected["withheld_count"] == 1  # the confidential testimony
    for name in ("hidden_photo", "report"):  # restricted: described
        assert items[ref[name]]["described_only"]
        assert "title" not in items[ref[name]]
    far = items[ref["far"]]
    assert far["source_author"] == ""
    assert far["original_filename"] == "far.jpg"
    assert far["capture_latitude"] == 41.0
    assert far["capture_device"]
    assert any(" km " in flag for flag in far["flags"])
    shown_moves = [e for e in items[ref["photo"]]["custody"] if e["action"] == "transferred"]
    assert [(e["place"], e["purpose"], e["notes"]) for e in shown_moves] == [
        ("", "", ""), ("", "Forensic analysis", "Sealed bag 7")]
    assert all((e["place"], e["purpose"], e["notes"]) == ("", "", "")
               for e in items[ref["hidden_photo"]]["custody"])
    assert [i["ref"] for i in collected["incidents"]] == [press_case["incident"].ref]
    assert collected["withheld_incidents"] == 1
    assert "1 incident(s) withheld from this edition." in collected["missing"]


def test_a_new_audience_is_printed_as_its_table_row_says(db, app, press_case):
    pdf, built = build(db, app, press_case["case"], audience="press")
    text, squeezed = text_of(pdf), flat(text_of(pdf))
    assert "EMBARGOED — FOR THE PRESS" in text
    assert flat(PRESS.note) in squeezed
    assert flat("Crater seen from afar") in squeezed
    assert flat("km from incident") in squeezed
    assert "Photographer Aliyev" not in text
    for name in ("hidden_photo", "report"):
        assert press_case[name].ref in text
        assert flat(press_case[name].sha256[:16]) in squeezed
    assert "Body of a victim" not in text
    assert "Field report" not in text
    assert flat("Restricted: described, not shown") in squeezed
    assert flat("restricted item: described in the register, not shown") in squeezed
    assert press_case["testimony"].ref not in text
    assert flat(WITNESS) not in squeezed
    assert "Lab Quarter" not in text
    assert "Field office" not in text
    # purpose and notes are kept for the photo shown, removed for the photo described
    assert squeezed.count("Forensicanalysis") == squeezed.count("Sealedbag7") == 1
    assert "Strike on the water station" not in text
    assert "1 incident(s) withheld from this edition." in text
    assert {e["ref"]: e["shown"] for e in built.manifest["evidence"]} == {
        press_case["photo"].ref: "full", press_case["far"].ref: "full",
        press_case["hidden_photo"].ref: "described", press_case["report"].ref: "described"}
    images = [image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images]
    assert len(images) == 2  # the two public photos; not the described one


# ---- integrity --------------------------------------------------------------------------------

def test_same_inputs_give_the_same_bytes_and_prepared_by_changes_only_the_cover(db, app, rich_case):
    first, built = build(db, app, rich_case["case"])
    second, again = build(db, app, rich_case["case"])
    assert first == second
    assert built.sha256 == again.sha256 == hashlib.sha256(first).hexdigest()
    other, by_other = build(db, app, rich_case["case"], prepared_by="Someone Else")
    assert other != first
    assert by_other.case_fingerprint == built.case_fingerprint


def test_fingerprint_and_manifest_can_be_recomputed_from_the_attachments(db, app, rich_case):
    pdf, built = build(db, app, rich_case["case"], audience="court")
    reader = PdfReader(io.BytesIO(pdf))
    attachments = {name: data[0] for name, data in reader.attachments.items()}
    assert set(attachments) == {"manifest.json", "content.json"}
    assert hashlib.sha256(attachments["content.json"]).hexdigest() == built.case_fingerprint
    manifest = json.loads(attachments["manifest.json"])
    assert manifest["case_fingerprint"] == built.case_fingerprint
    assert manifest["audience"] == "court"
    assert {e["ref"]: e["sha256"] for e in manifest["evidence"]} == {
        rich_case[k].ref: rich_case[k].sha256 for k in ("photo", "hidden_photo", "report",
                                                      "testimony")}
    assert {"weasyprint", "pydyf", "pango", "harfbuzz", "fonts"} <= set(manifest["renderer"])
    manifest_sha = hashlib.sha256(attachments["manifest.json"]).hexdigest()
    assert flat(templating.hash_text(manifest_sha)) in flat(reader.pages[0].extract_text())
    content = json.loads(attachments["content.json"])
    assert "prepared_by" not in content
    assert "id" not in content["case"]


def test_pdf_is_pdf_a_3b_without_a_clock_time(db, app, rich_case):
    pdf, _ = build(db, app, rich_case["case"])
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert "/OutputIntents" in root
    assert "/Metadata" in root
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "B" in re.search(r"pdfaid:conformance\W+(\w)", xmp)[1]
    for _name, files in reader.attachments.items():
        assert files
    specs = root["/Names"]["/EmbeddedFiles"]["/Names"][1::2]
    assert all("/AFRelationship" in spec.get_object() for spec in specs)
    info = reader.trailer.get("/Info")
    info = info.get_object() if info is not None else {}
    assert "/CreationDate" not in info
    assert "/ModDate" not in info
    assert "CreateDate" not in xmp
    assert "ModifyDate" not in xmp
    links = [a.get_object() for page in reader.pages for a in page.get("/Annots", [])]
    assert links
    assert all(link["/F"] == 4 for link in links)
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor") or \
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_same_content_in_another_database_gives_the_same_bytes(db, app, rich_case, tmp_path,
                                                                app_config, monkeypatch):
    """No database id and no clock time reaches the PDF: the same records elsewhere match."""
    from ihl_docs import create_app
    from ihl_docs.core.db import open_session

    def populate(session, store, shift):
        for _n in range(shift):  # different row ids in the second database
            make_user(session, "investigator")
        with time_machine.travel(datetime(2024, 5, 1, 12, 0, tzinfo=UTC), tick=False):
            user = make_user(session, "admin", email="same@example.org", name="Same")
            case = make_case(session, user, ref="ID-2024-001")
            incident = make_incident(session, case, user, narrative="Identical narrative.")
            photo = make_evidence(session, case, user, store, data=jpeg_with_exif(),
                                  kind="photo", title="Crater", sensitivity="public")
            evidence_services.link_evidence(session, incident, photo, "crater", actor=user)
            session.commit()
        return case

    first_case = populate(db, app.extensions["ihl_store"], 0)
    first, _ = build(db, app, first_case)
    other_dir = tmp_path / "elsewhere"
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(other_dir))
    other = create_app({**app_config, "DATABASE_URL": f"sqlite:///{other_dir}/other.sqlite3",
                        "EVIDENCE_DIR": str(other_dir / "evidence")})
    from ihl_docs.core.schema import upgrade

    upgrade(other.extensions["ihl_engine"])
    session = open_session(other.extensions["ihl_engine"], write=True)
    try:
        second_case = populate(session, other.extensions["ihl_store"], 3)
        assert second_case.id != first_case.id
        second, _ = build(session, other, second_case)
    finally:
        session.close()
        other.extensions["ihl_engine"].dispose()
    assert first == second


def test_section_cache_reuses_unchanged_sections_with_the_same_bytes(db, app, rich_case,
                                                                     tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    calls = []
    original = render.render_section
    monkeypatch.setattr(render, "render_section", lambda job: calls.append(job.key) or original(job))
    cold, _ = build(db, app, rich_case["case"], cache_dir=cache)
    sections = len(calls)
    warm, _ = build(db, app, rich_case["case"], cache_dir=cache)
    assert warm == cold
    assert len(calls) == sections
    incident = db.get(Incident, rich_case["incident"].id)
    incident.narrative = "A corrected narrative."
    db.add(incident)
    db.commit()
    edited, _ = build(db, app, rich_case["case"], cache_dir=cache)
    assert len(calls) == sections + 1  # only that incident's section
    assert edited != cold
    uncached, _ = build(db, app, rich_case["case"])
    assert uncached == edited


@pytest.mark.slow
def test_parallel_render_gives_the_same_bytes_as_rendering_here(db, app, rich_case, monkeypatch):
    here, _ = build(db, app, rich_case["case"])
    monkeypatch.setattr(dossier_sections, "INLINE_LIMIT", 0)
    out = io.BytesIO()
    build_parallel = pipeline.build(
        db, rich_case["case"], audience="internal", prepared_by="Lena Lawyer",
        store=app.extensions["ihl_store"], out=out, cache_dir=None,
        progress=lambda stage, pct: None, processes=2)
    db.commit()
    assert out.getvalue() == here
    assert build_parallel.page_count > 5


# ---- safety -----------------------------------------------------------------------------------

HOSTILE = '<img src="file:///etc/passwd"> <link href="http://127.0.0.1:{port}/x">'


def test_markup_in_records_is_printed_as_text_and_nothing_is_fetched(db, app, lawyer, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    title = HOSTILE.format(port=port)
    case = make_case(db, lawyer)
    make_incident(db, case, lawyer, title=title, narrative=title)
    fetched = []
    monkeypatch.setattr(render, "FETCH_LOG", fetched)
    monkeypatch.setattr(render, "_worker", {})  # a fresh fetcher that logs
    pdf, _ = build(db, app, case)
    text = flat(text_of(pdf))
    assert flat('<img src="file:///etc/passwd">') in text
    assert flat(f'<link href="http://127.0.0.1:{port}/x">') in text
    assert fetched
    assert all(url.startswith("file://") and "/static/" in url for url in fetched)
    assert not any("passwd" in url or "127.0.0.1" in url for url in fetched)
    with pytest.raises(socket.timeout):
        listener.accept()
    listener.close()


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://127.0.0.1:9/x", "https://example.org/a.png",
    "data:image/png;base64,iVBORw0KGgo=", "ftp://example.org/x",
    (render.STATIC_DIR / "css" / ".." / ".." / "config.py").as_uri(),
    f"{render.THUMBNAIL_SCHEME}:../../etc/passwd",
])
def test_fetcher_refuses_everything_but_its_own_files(tmp_path, url):
    fetcher = render.make_fetcher(tmp_path)
    with pytest.raises(render.FetchRefused):
        fetcher(url)


def test_fetcher_serves_the_stylesheet_and_a_stored_thumbnail_only_when_intact(tmp_path):
    fetcher = render.make_fetcher(tmp_path)
    assert b"@page" in fetcher(render.STYLESHEET.as_uri()).read()
    data = b"\xff\xd8thumbnail"
    sha = hashlib.sha256(data).hexdigest()
    (tmp_path / sha[:2]).mkdir()
    (tmp_path / sha[:2] / sha).write_bytes(data)
    assert fetcher(render.thumbnail_url(sha)).read() == data
    (tmp_path / sha[:2] / sha).write_bytes(b"altered")
    with pytest.raises(render.FetchRefused):
        fetcher(render.thumbnail_url(sha))


# ---- bad input --------------------------------------------------------------------------------

def test_a_case_with_no_incident_still_builds_and_says_so(db, app, lawyer):
    case = make_case(db, lawyer)
    pdf, built = build(db, app, case)
    assert "The case has no incident recorded." in text_of(pdf)
    assert built.manifest["evidence"] == []


def test_gaps_are_named_and_long_and_non_latin_text_is_shown(db, app, rich_case, lawyer, store):
    case = rich_case["case"]
    bare = make_incident(db, case, lawyer, title=f"{ARMENIAN} / {AZERBAIJANI}",
                         narrative=("Long narrative. " * 700)[:10_000])
    thumb = evidence_services.thumbnail_of(db, rich_case["photo"])
    db.commit()
    store.path_for(thumb.sha256).unlink()
    pdf, _ = build(db, app, case)
    text = text_of(pdf)
    assert f"Incident {bare.ref} has no evidence linked to it." in text
    assert f"Evidence {rich_case['photo'].ref}: its thumbnail file is missing" in text
    assert flat("Thumbnail file missing from the store.") in flat(text)
    assert flat(text).count("Longnarrative.") >= 620  # 625 in all; a page break may cut one
    assert flat(ARMENIAN) in flat(text)
    assert flat(AZERBAIJANI) in flat(text)
    assert re.search("[\u0600-\u06ff\ufb50-\ufeff]", text)  # Arabic script, shaped


def test_a_provision_corrected_after_qualification_is_noted(db, app, rich_case, lawyer):
    from ihl_docs.provisions.services import ProvisionCorrection, correct_provision
    from ihl_docs.qualifications.services import provision_by_key

    provision = provision_by_key(db, "rs-8-2-b-i")
    read = qualifications.elements_of(db, provision)
    correct_provision(db, provision, ProvisionCorrection(
        article=provision.article, title=provision.title + " (corrected)",
        summary=provision.summary, applies_to=provision.applies_to,
        elements=[e.text for e in read][:1]), expected_version=provision.version, actor=lawyer)
    db.commit()
    text = text_of(build(db, app, rich_case["case"])[0])
    assert "rs-8-2-b-i was corrected in the catalogue" in text
    assert flat("no longer in the provision as corrected") in flat(text)


def test_a_provision_without_elements_says_so_instead_of_an_empty_matrix(db, app, rich_case,
                                                                         lawyer):
    # Every provision of the bundled catalogue has elements since its second edition: a lawyer
    # removes those of one, as a correction may.
    from ihl_docs.provisions import services as provisions

    provision = provisions.get_provision(db, "api-51-4")
    read = provisions.provision_read(db, provision)
    provisions.correct_provision(db, provision, provisions.ProvisionCorrection(**{
        **{k: v for k, v in read.items() if k in provisions.ProvisionCorrection.model_fields},
        "elements": []}), expected_version=provision.version, actor=lawyer)
    db.commit()
    qualify(db, rich_case["incident"], lawyer, key="api-51-4", assessment="alleged")
    text = flat(text_of(build(db, app, rich_case["case"])[0]))
    assert flat("The catalogue lists no elements for this provision") in text
