"""The proof matrix groups a provision's elements by kind (context, conduct, circumstance,
consequence, mental, attribution, then other), and each qualification says where its element
texts come from: on the pages, in the API and in the dossier."""

import pytest
from sqlmodel import select

from ihl_docs.cases import services as case_services
from ihl_docs.core.models import Provision, ProvisionElement
from ihl_docs.dossiers import content
from ihl_docs.dossiers.sections import plan_sections
from ihl_docs.dossiers.templating import template_environment
from ihl_docs.evidence import services as evidence_services
from ihl_docs.qualifications import services as q
from tests.builders import load_catalogue, login, make_case, make_evidence, make_incident, make_user, qualify
from tests.pages_support import text_of

KEY = "rs-8-2-b-i"
# element number -> kind, deliberately out of the matrix's order; element 4 has none
KINDS = {1: "conduct", 2: "mental", 3: "context", 4: "", 5: "attribution"}
SOURCE = "paraphrase of the ICC Elements of Crimes (2011 edition); not quoted"


@pytest.fixture
def qualified(db, app):
    load_catalogue(db)
    investigator, lawyer = make_user(db), make_user(db, "legal")
    case = make_case(db, investigator)
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator)
    photo = make_evidence(db, case, investigator, app.extensions["ihl_store"], b"%PDF-1.4 k")
    evidence_services.link_evidence(db, incident, photo, "", actor=investigator)
    provision = db.exec(select(Provision).where(Provision.key == KEY)).one()
    provision.elements_source = SOURCE
    for element in db.exec(select(ProvisionElement)
                           .where(ProvisionElement.provision_id == provision.id)):
        element.kind = KINDS[element.number]
        db.add(element)
    db.add(provision)
    db.commit()
    qualification = qualify(db, incident, lawyer, KEY)
    q.set_finding(db, qualification, 2, "supported", "", [(photo.ref, "supports")], actor=lawyer)
    db.commit()
    return {"incident": incident, "lawyer": lawyer, "case": case, "qualification": qualification}


def test_the_matrix_rows_go_by_kind_then_number_with_other_last(db, qualified):
    matrix = q.proof_matrix(db, qualified["incident"])
    assert [(r.kind, r.number) for r in matrix.rows] == [
        ("context", 3), ("conduct", 1), ("mental", 2), ("attribution", 5), ("other", 4)]
    assert matrix.sources == {KEY: SOURCE}


def test_the_approval_gaps_still_name_elements_in_number_order(db, qualified):
    assert q.unsupported_elements(db, qualified["incident"]) == [
        f"4 of 5 elements of {KEY} have no supporting evidence: 1, 3, 4, 5"]


def test_the_matrix_page_heads_each_kind_and_names_the_source(client, qualified):
    login(client, qualified["lawyer"])
    page = text_of(client.get(f"/incidents/{qualified['incident'].ref}/proof-matrix"))
    order = [page.index(f" {word} Element {n}") for word, n in
             [("Context", 3), ("Conduct", 1), ("Mental", 2), ("Attribution", 5), ("Other", 4)]]
    assert order == sorted(order)
    assert f"Elements: {SOURCE}" in page


def test_without_kinds_the_matrix_has_no_kind_headings(client, db, qualified):
    for element in db.exec(select(ProvisionElement)):
        element.kind = ""
        db.add(element)
    db.commit()
    login(client, qualified["lawyer"])
    body = client.get(f"/incidents/{qualified['incident'].ref}/proof-matrix").get_data(
        as_text=True)
    assert 'class="kind-row"' not in body
    assert [r.number for r in q.proof_matrix(db, qualified["incident"]).rows] == [1, 2, 3, 4, 5]


def test_the_qualification_page_names_the_source(client, qualified):
    login(client, qualified["lawyer"])
    page = text_of(client.get(f"/incidents/{qualified['incident'].ref}/qualifications"))
    assert f"Where the element texts come from: {SOURCE}" in page


def test_the_api_gives_kind_and_source(client, qualified, as_role):
    _, headers = as_role("admin")
    body = client.get(f"/api/v1/incidents/{qualified['incident'].ref}/qualifications",
                      headers=headers).get_json()
    read = body["items"][0]
    assert read["elements_source"] == SOURCE
    assert [(e["number"], e["kind"]) for e in read["elements"]] == sorted(KINDS.items())


def test_the_dossier_groups_elements_by_kind_and_names_the_source(db, app, qualified):
    collected = content.collect(db, qualified["case"], audience="internal", prepared_by="x",
                                store=app.extensions["ihl_store"])
    printed = collected["incidents"][0]["qualifications"][0]
    assert printed["elements_source"] == SOURCE
    assert [(e["number"], e.get("kind")) for e in printed["elements"]] == [
        (3, "context"), (1, "conduct"), (2, "mental"), (5, "attribution"), (4, None)]
    html = next(s.html for s in plan_sections(template_environment(), collected)
                if s.title.startswith(qualified["incident"].ref))
    assert f"Elements: {SOURCE}" in html
    headings = [html.index(f'<tr class="kind"><th colspan="4">{word}</th></tr>')
                for word in ("Context", "Conduct", "Mental", "Attribution", "Other")]
    assert headings == sorted(headings)
