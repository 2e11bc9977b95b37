"""Provenance where it helps: a public source keeps its address in every edition, each item shows
how and when it was acquired and what its file's metadata says, as far as the audience allows;
chosen images are annexed at full resolution, each with its SHA-256."""

import hashlib
import io
import re
from datetime import UTC, datetime

import pikepdf
import pytest

from ihl_docs.core.errors import InvalidInput
from ihl_docs.dossiers import services
from ihl_docs.dossiers.content import collect
from ihl_docs.evidence import services as evidence
from tests.builders import approve_incident, jpeg_with_exif, make_case, make_evidence, make_incident, make_user
from tests.dossier_support import build_pdf, pdf_text

POST_URL = "https://www.facebook.com/mod.gov.example/posts/12345"


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def lawyer(db):
    return make_user(db, "admin", email="lena@ngo.example", name="Lena Lawyer")


@pytest.fixture
def sources(db, store, lawyer):
    case = make_case(db, lawyer, ref="NK-2020-004")
    incident = make_incident(db, case, lawyer, latitude=39.8, longitude=46.75,
                             occurred_from=datetime(2020, 10, 4, 8, tzinfo=UTC))
    approve_incident(db, incident, lawyer)
    post = make_evidence(db, case, lawyer, store, data=b"%PDF-1.4 post", kind="open_source_post",
                         sensitivity="public", title="Ministry video of the strike",
                         source_platform="Facebook", source_author="@mod.gov.example",
                         source_url=POST_URL,
                         published_at=datetime(2020, 10, 4, 10, tzinfo=UTC),
                         acquired_at=datetime(2020, 10, 4, 12, tzinfo=UTC),
                         acquisition_method="saved with the browser")
    # a photo captured 60 km away, after it was said to be published
    photo = make_evidence(db, case, lawyer, store,
                          data=jpeg_with_exif(taken="2020:10:04 11:00:00", lat=(40, 20, 0)),
                          kind="photo", sensitivity="public", title="Photo of the crater",
                          original_filename="crater.jpg", source_author="a witness",
                          published_at=datetime(2020, 10, 4, 10, tzinfo=UTC),
                          acquired_at=datetime(2020, 10, 5, 9, tzinfo=UTC))
    for item in (post, photo):
        evidence.link_evidence(db, incident, item, "", actor=lawyer)
    db.commit()
    return {"case": case, "post": post, "photo": photo, "lawyer": lawyer}


def item_of(content, ref):
    return next(e for e in content["evidence"] if e["ref"] == ref)


@pytest.mark.parametrize("audience", ["internal", "court", "public"])
def test_a_public_source_keeps_its_address_account_and_publication_in_every_edition(
        db, app, sources, store, audience):
    content = collect(db, sources["case"], audience=audience, prepared_by="x", store=store)
    post = item_of(content, sources["post"].ref)
    assert post["source_url"] == POST_URL
    assert post["source_author"] == "@mod.gov.example"
    assert post["published_at"].startswith("2020-10-04T10:00")
    text = re.sub(r"\s+", "", pdf_text(build_pdf(db, app, sources["case"], audience=audience)[0]))
    assert "facebook.com/mod.gov.example" in text
    assert "published2020-10-04" in text


def test_a_witness_source_is_still_removed_outside_the_internal_edition(db, sources, store):
    for audience in ("court", "public"):
        photo = item_of(collect(db, sources["case"], audience=audience, prepared_by="x",
                                store=store), sources["photo"].ref)
        assert photo["source_author"] == ""
        assert photo["original_filename"] == ""


def test_the_court_edition_shows_metadata_facts_and_every_flag(db, app, sources, store):
    photo = item_of(collect(db, sources["case"], audience="court", prepared_by="x", store=store),
                    sources["photo"].ref)
    assert photo["capture_device"]
    assert photo["capture_latitude"] is not None
    assert any("after the stated publication time" in f for f in photo["flags"])
    assert any(" km from incident" in f for f in photo["flags"])
    text = re.sub(r"\s+", " ", pdf_text(build_pdf(db, app, sources["case"], audience="court")[0]))
    assert "File metadata: captured 2020-10-04" in text
    assert "Canon EOS 80D" in text
    assert "(saved with the browser)" in text


def test_the_public_edition_keeps_the_flags_but_not_the_position(db, app, sources, store):
    photo = item_of(collect(db, sources["case"], audience="public", prepared_by="x", store=store),
                    sources["photo"].ref)
    assert photo["capture_latitude"] is None
    assert not photo["capture_device"]
    assert any("is far from incident" in f for f in photo["flags"])
    assert not any(" km " in f for f in photo["flags"])
    assert photo["capture_time"]  # the time is no position


# ---- images at full resolution ---------------------------------------------------------------

def test_chosen_images_are_annexed_as_stored_with_their_hash(db, app, sources):
    photo = sources["photo"]
    out = io.BytesIO()
    from ihl_docs.dossiers.build import build_dossier

    build_dossier(db, sources["case"], audience="court", prepared_by="x",
                  store=app.extensions["ihl_store"], out=out, full_images=[photo.ref])
    pdf = out.getvalue()
    text = re.sub(r"\s+", "", pdf_text(pdf))
    assert "AnnexD.Imagesatfullresolution" in text
    assert photo.sha256[:16] in text
    original = app.extensions["ihl_store"].path_for(photo.sha256).read_bytes()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        embedded = [obj.read_raw_bytes() for obj in document.objects
                    if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
                    and obj.get("/Filter") == "/DCTDecode"]
    # the JPEG is embedded byte for byte: the original, not a re-sampled copy
    assert hashlib.sha256(original).hexdigest() in {hashlib.sha256(e).hexdigest()
                                                    for e in embedded}


def test_an_image_the_edition_does_not_show_or_not_an_image_is_refused(db, sources, store,
                                                                       lawyer):
    restricted = make_evidence(db, sources["case"], lawyer, store, data=jpeg_with_exif(),
                               kind="photo", sensitivity="restricted", title="Restricted",
                               original_filename="r.jpg")
    cases = [([sources["post"].ref], "not a JPEG or PNG image"),
             ([restricted.ref], "the public edition does not show it"),
             (["NK-2020-004-E0099"], "Not an evidence item of case NK-2020-004")]
    for refs, message in cases:
        with pytest.raises(InvalidInput) as refused:
            services.request_dossier(db, sources["case"], audience="public", prepared_by=None,
                                     actor=lawyer, full_images=refs)
        assert message in refused.value.fields["full_images"]
        db.rollback()


def test_the_annex_choice_is_recorded_and_built(db, app, sources, lawyer):
    dossier = services.request_dossier(db, sources["case"], audience="court", prepared_by=None,
                                       actor=lawyer, full_images=[sources["photo"].ref])
    db.commit()
    assert services.chosen_images(dossier) == [sources["photo"].ref]
