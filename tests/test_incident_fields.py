"""A new incident field needs its model field, its form field and a migration: the form's layout
shows a field no row names under "Other facts", the incident page lists a fact it does not lay
out by hand, and the form hands every field the model takes to the service."""

import re

import pytest

from ihl_docs.core.models import IncidentBase, IncidentCreate
from ihl_docs.dossiers import content, templating
from ihl_docs.incidents import facts, forms
from tests.builders import login, make_case, make_incident, make_user


@pytest.fixture
def filed(client, db):
    user = make_user(db, "investigator")
    case = make_case(db, user)
    incident = make_incident(db, case, user, weapon_type="122 mm rocket")
    login(client, user)
    return case, incident


def test_every_field_of_the_form_has_its_place(app):
    with app.test_request_context():
        form = forms.IncidentForm()
        placed = [f.name for _, rows in form.layout() for row in rows for f in row]
        placed += [f.name for f in form.alone()]
    assert sorted(placed) == sorted(f.name for f in form if f.name not in forms.NOT_FACTS)
    assert len(placed) == len(set(placed))


def test_every_model_field_is_laid_out_or_listed_among_other_facts():
    names = set(IncidentBase.model_fields)
    assert names == facts.LAID_OUT | set(facts.other_fact_names())
    assert facts.other_fact_names() == []  # today every fact has its own place


def test_the_form_takes_every_field_the_model_takes():
    declared = {name for name in IncidentCreate.model_fields if hasattr(forms.IncidentForm, name)}
    assert set(forms.PLAIN_FIELDS) == declared - forms.COMPOSED


def test_a_fact_no_page_lays_out_is_listed_under_other_facts(client, filed, monkeypatch):
    _, incident = filed
    monkeypatch.setattr(facts, "LAID_OUT", facts.LAID_OUT - {"weapon_type"})
    page = client.get(f"/incidents/{incident.ref}").get_data(as_text=True)
    other = page[page.index('id="other-facts-title"'):]
    assert re.search(r"<dt>Weapon type</dt><dd[^>]*>122 mm rocket</dd>", other)


def test_a_form_field_no_row_names_is_shown_under_other_facts(client, filed, monkeypatch):
    case, _ = filed
    monkeypatch.setattr(forms, "LAYOUT", [(legend, [row for row in rows if row != ["weapon_type"]])
                                          for legend, rows in forms.LAYOUT])
    page = client.get(f"/cases/{case.ref}/incidents/new").get_data(as_text=True)
    other = page[page.index("<legend>Other facts</legend>"):]
    assert 'name="weapon_type"' in other[:other.index("</fieldset>")]


def test_the_dossier_lists_a_fact_its_template_does_not_lay_out(app, db, filed, monkeypatch):
    case, _ = filed
    plain = content.collect(db, case, audience="internal", prepared_by="x",
                            store=app.extensions["ihl_store"])
    assert "other_facts" not in plain["incidents"][0]  # today every fact has its place
    monkeypatch.setattr(facts, "LAID_OUT", facts.LAID_OUT - {"weapon_type"})
    listed = content.collect(db, case, audience="internal", prepared_by="x",
                             store=app.extensions["ihl_store"])
    assert listed["incidents"][0]["other_facts"] == [["Weapon type", "122 mm rocket"]]
    html = templating.template_environment().get_template("dossier/incident.html").render(
        c=listed, i=listed["incidents"][0], first=True, sensitivity={})
    assert "<th>Weapon type</th><td colspan=\"3\" class=\"narrative\">122 mm rocket</td>" in html
