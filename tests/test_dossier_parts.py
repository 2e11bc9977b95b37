"""A feature adds a section to dossiers by registering a dossier part: it is rendered after the
built-in sections, listed in the contents, covered by the case fingerprint, and each audience's
edition shows, describes or withholds it as the part says; an audience it does not name is
refused."""

import io
import json

import pytest
from pypdf import PdfReader

from ihl_docs.core.errors import InvalidInput
from ihl_docs.dossiers import services
from ihl_docs.dossiers.audiences import Show
from ihl_docs.dossiers.build import build_dossier
from ihl_docs.dossiers.parts import DossierPart, register_dossier_part
from tests.builders import make_case, make_incident, make_user
from tests.dossier_support import fresh

TEMPLATE = """{% extends "dossier/_base.html" %}{% block body %}<h1>Annex D. Field notes</h1>
<ul>{% for note in data %}<li>{{ note }}</li>{% endfor %}</ul>{% endblock %}"""


def _notes(session, case, policy, show):
    if show == Show.described:
        return ["1 field note, described only"]
    return [f"Field note on {case.ref}: the crater was photographed at dawn"]


NOTES = DossierPart("field_notes", "Annex D. Field notes", _notes, source=TEMPLATE,
                    shown_to={"internal": Show.shown, "court": Show.described,
                              "public": Show.withheld})


@pytest.fixture
def case(db):
    lawyer = make_user(db, "admin", name="Lena Lawyer")
    case = make_case(db, lawyer, ref="NP-2024-002")
    incident = make_incident(db, case, lawyer)
    incident.workflow_status = "approved"  # court and public editions cover approved incidents
    db.add(incident)
    db.commit()
    return case, lawyer


def _built(app, db, case, lawyer, audience):
    dossier = services.request_dossier(db, case, audience=audience, prepared_by="Lena",
                                       actor=lawyer)
    db.commit()
    services.run_queued(app, dossier.ref)  # the worker's path: the app's registered parts
    done = fresh(app, dossier.ref)
    assert done.status == "done", done.error
    with app.extensions["ihl_store"].open(done.sha256) as f:
        pdf = f.read()
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    content = json.loads(reader.attachments["content.json"][0])
    return text, content, reader


def test_a_registered_part_is_rendered_listed_and_fingerprinted(app, db, case):
    register_dossier_part(app, NOTES)
    text, content, reader = _built(app, db, *case, "internal")
    assert "the crater was photographed at dawn" in text
    assert content["parts"]["field_notes"]["data"] == [
        "Field note on NP-2024-002: the crater was photographed at dawn"]
    assert "Annex D. Field notes" in [item.title for item in reader.outline
                                      if not isinstance(item, list)]


def test_each_edition_shows_describes_or_withholds_the_part(app, db, case):
    register_dossier_part(app, NOTES)
    court_text, court, _ = _built(app, db, *case, "court")
    assert "1 field note, described only" in court_text
    assert "photographed at dawn" not in court_text
    public_text, public, _ = _built(app, db, *case, "public")
    assert "parts" not in public
    assert public["withheld_parts"] == ["Annex D. Field notes"]
    assert "Withheld from this edition: Annex D. Field notes." in public_text
    assert "photographed at dawn" not in public_text


def test_without_parts_the_content_has_no_part(app, db, case):
    _, content, _ = _built(app, db, *case, "internal")
    assert "parts" not in content
    assert "withheld_parts" not in content


def test_a_part_that_does_not_name_the_audience_is_refused(app, db, case):
    partial = DossierPart("field_notes", "Annex D. Field notes", _notes, source=TEMPLATE,
                          shown_to={"internal": Show.shown})
    with pytest.raises(InvalidInput, match="does not say what the court edition shows"):
        build_dossier(db, case[0], audience="court", prepared_by="Lena",
                      store=app.extensions["ihl_store"], out=io.BytesIO(), parts=(partial,))
