"""Builders for test data: each creates through the real services and commits."""

import itertools
from datetime import UTC, datetime

from ihl_docs.auth import services as auth
from ihl_docs.cases import services as cases
from ihl_docs.core.db import open_session
from ihl_docs.core.models import CaseCreate, IncidentCreate
from ihl_docs.incidents import services as incidents

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_user(db, role="investigator", email=None, password=PASSWORD, name=""):
    email = email or f"{role}{next(_counter)}@example.org"
    user = auth.create_user(db, email, role, password, name=name, actor="test")
    db.commit()
    return user


def make_case(db, actor, ref=None, **fields):
    data = {"ref": ref or f"TC-{next(_counter):04d}", "title": "Shelling of the old town",
            "conflict_classification": "international",
            "parties": [{"name": "State A armed forces", "kind": "state", "state_code": "ARM"},
                        {"name": "Group B", "kind": "non-state"}]}
    data.update(fields)
    case = cases.create_case(db, CaseCreate.model_validate(data), actor=actor)
    db.commit()
    return case


def incident_data(**fields) -> dict:
    data = {
        "title": "Rocket strike on market",
        "incident_type": "rocket",
        "occurred_from": datetime(2020, 10, 4, 9, 30, tzinfo=UTC),
        "date_precision": "exact",
        "place_name": "Old town market",
        "country": "ARM",
        "latitude": 39.8,
        "longitude": 46.75,
        "killed_min": 2, "killed_max": 4, "children_killed": 1,
        "civilian_objects": ["market"],
    }
    data.update(fields)
    return data


def make_incident(db, case, actor, **fields):
    incident = incidents.create_incident(db, case, IncidentCreate.model_validate(
        incident_data(**fields)), actor=actor)
    db.commit()
    return incident


def login(client, user_or_email, password=PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    return client.post("/login", data={"email": email, "password": password})


def jpeg_with_exif(taken="2020:10:04 09:12:00", lat=(39, 48, 0), lon=(46, 45, 0), size=(64, 48),
                   color=(200, 40, 40), device=("Canon", "Canon EOS 80D")) -> bytes:
    """A small JPEG carrying EXIF capture time, GPS position and camera."""
    import io

    from PIL import ExifTags, Image

    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = device
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", tuple(float(v) for v in lat)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", tuple(float(v) for v in lon)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def incoming_from(store, data: bytes):
    """An upload as the request parser would hand it over: bytes streamed into the store."""
    incoming = store.incoming()
    incoming.write(data)
    incoming.seek(0)
    return incoming


def make_evidence(db, case, actor, store, data: bytes | None = b"%PDF-1.4 report", **fields):
    from ihl_docs.core.models import EvidenceCreate
    from ihl_docs.evidence import services as evidence_services

    record = {"kind": "document" if data is not None else "physical_item",
              "title": "Field report", "sensitivity": "restricted"}
    original_filename = fields.pop("original_filename", "report.pdf")
    record.update(fields)
    incoming = incoming_from(store, data) if data is not None else None
    try:
        item = evidence_services.register_evidence(
            db, case, EvidenceCreate.model_validate(record), incoming,
            original_filename=original_filename, actor=actor,
            store=store, max_bytes=10 * 1024 * 1024)
        db.commit()
    finally:
        if incoming is not None:
            incoming.discard()
    return item


# Set by conftest.py for the test session: copies the catalogue, loaded once, into a database
# that is still as migrated, and says whether it did (catalogue_copy.py). None: always load.
catalogue_copier = None


def load_catalogue(db):
    """The bundled legal catalogue (105 provisions), as `ihl init` loads it."""
    if catalogue_copier is not None and catalogue_copier(db):
        return
    from ihl_docs.provisions import catalogue

    catalogue.load_bundled(db, actor="test")
    db.commit()


def qualify(db, incident, actor, key="rs-8-2-b-i", assessment="alleged", analysis=""):
    from ihl_docs.qualifications import services as qualifications

    qualification = qualifications.add_qualification(db, incident, key, assessment, analysis,
                                                     actor=actor)
    db.commit()
    return qualification


def without_tokens(page: str) -> str:
    """A page with its CSRF token masked: the token is signed with the second it was made in,
    so two pages served a moment apart differ there and nowhere else."""
    import re

    return re.sub(r'(name="csrf[-_]token"[^>]*?(?:value|content)=")[^"]*"', r'\1…"', page)


def assert_hidden_looks_missing(client, hidden_url, hidden_ref, missing_url, missing_ref):
    """A record one may not see answers exactly as one that does not exist (refs and the
    per-request CSRF token aside)."""
    hidden, missing = client.get(hidden_url), client.get(missing_url)
    assert hidden.status_code == missing.status_code == 404
    assert without_tokens(hidden.get_data(as_text=True)).replace(hidden_ref, "X") == \
        without_tokens(missing.get_data(as_text=True)).replace(missing_ref, "X")


def seed(db, incidents=2):
    """An investigator with a case holding `incidents` incidents."""
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator)
    for _ in range(incidents):
        make_incident(db, case, investigator)
    return investigator, case


def lawyer_and_case(application):
    """A lawyer who is a member of a case, which has one approved incident."""
    with open_session(application.extensions["ihl_engine"]) as db:
        investigator, lawyer = make_user(db, "investigator"), make_user(db, "legal")
        case = make_case(db, investigator)
        cases.add_member(db, case, lawyer.email, actor=investigator)
        db.commit()
        approve_incident(db, make_incident(db, case, investigator), make_user(db, "admin"))
        return lawyer, case


def approve_incident(db, incident, actor, note="Approved for this test."):
    """Take an incident from draft to approved through the workflow, as a lawyer would."""
    from ihl_docs.incidents import services as incidents_services

    for to in ("submitted", "in_legal_review", "approved"):
        incident = incidents_services.change_status(
            db, incident, to, expected_version=incident.version, actor=actor,
            note=note if to == "approved" else "")
        db.commit()
    return incident
