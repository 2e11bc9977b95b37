"""The verification pages: starting a run (everything or one case), following it, its report as
a page and as a PDF, acknowledging findings, and who may do any of it."""

import html
import io
import re

import pytest
from pypdf import PdfReader
from sqlmodel import select

from ihl_docs.core.models import AuditEntry, VerificationRun
from ihl_docs.verification import runs
from tests.builders import login, make_case, make_evidence, make_user
from tests.pages_support import FormPage
from tests.tampering import alter_one_byte


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def setup(db, store):
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator, ref="PV-2020-001")
    item = make_evidence(db, case, investigator, store, b"%PDF-1.4 field report")
    auditor = make_user(db, "auditor")
    return {"investigator": investigator, "case": case, "item": item, "auditor": auditor}


@pytest.fixture
def auditor_client(client, setup):
    login(client, setup["auditor"])
    return client


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def start(client, scope=""):
    """Start a run from the page; the queue runs it at once in tests. The run's page."""
    response = client.post("/verification/", data={"scope": scope})
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert re.search(r"/verification/VER-\d{5}$", location)
    return location, client.get(location)


def test_an_auditor_starts_a_verification_and_reads_a_clean_report(auditor_client, setup):
    page = auditor_client.get("/verification/")
    assert page.status_code == 200
    assert FormPage(page.get_data(as_text=True)).values["scope"] == [""]
    assert "Case PV-2020-001" in text(page)
    location, report = start(auditor_client)
    body = text(report)
    assert report.status_code == 200
    assert "Intact: no problem found" in body
    assert 'id="verdict"' in body
    assert "Evidence files re-hashed (originals and derivatives) 1" in re.sub(r"<[^>]+>", " ",
                                                                           body).replace("  ", " ")
    assert setup["auditor"].email in body
    assert "Download the report (PDF)" in body
    listing = text(auditor_client.get("/verification/"))
    assert location.rsplit("/", 1)[1] in listing
    assert "Everything" in listing
    # the audit log says so in words, linking to the run
    audit_log = text(auditor_client.get("/audit?entity=verification_run"))
    assert "Verification completed" in audit_log
    assert f'href="{location.removeprefix("http://localhost")}"' in audit_log


def test_an_altered_file_is_named_in_the_report_and_acknowledged(auditor_client, setup, store,
                                                                 db):
    item = setup["item"]
    alter_one_byte(store.path_for(item.sha256), at=3)
    location, report = start(auditor_client, scope="PV-2020-001")
    body = text(report)
    assert "1 problem found" in body
    assert f"evidence {item.ref}: file altered" in body
    assert "Verification of case PV-2020-001" in body
    ref = location.rsplit("/", 1)[1]

    refused = auditor_client.post(f"/verification/{ref}/findings/1", data={"finding-1-note": ""})
    assert refused.status_code == 422
    assert FormPage(refused.get_data(as_text=True)).errors["finding-1-note"].startswith(
        "Write a note")

    note = "Bit flip traced to the backup restore of 3 May; original re-imported from the seal."
    done = auditor_client.post(f"/verification/{ref}/findings/1", data={"finding-1-note": note})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("#finding-1")
    body = text(auditor_client.get(location))
    assert f"Acknowledged by {setup['auditor'].email}" in body
    assert note in body
    assert "Acknowledge finding 1" not in body  # no second form
    again = auditor_client.post(f"/verification/{ref}/findings/1", data={"finding-1-note": "x"},
                                follow_redirects=True)
    assert "already acknowledged" in text(again)
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "verification_finding")).one()
    db.commit()
    assert entry.entity_id == f"{ref}#1"
    assert note in entry.change
    assert auditor_client.post(f"/verification/{ref}/findings/9",
                               data={"finding-9-note": "x"}).status_code == 404


def test_the_report_pdf_lists_what_was_checked_and_each_finding(auditor_client, setup, store):
    item = setup["item"]
    store.path_for(item.sha256).unlink()
    location, _ = start(auditor_client)
    ref = location.rsplit("/", 1)[1]
    auditor_client.post(f"/verification/{ref}/findings/1",
                        data={"finding-1-note": "File lost in the disk failure of June."})
    response = auditor_client.get(f"/verification/{ref}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="{ref}.pdf"' in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    pdf = PdfReader(io.BytesIO(response.data))
    words = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in pdf.pages))
    assert f"Verification report {ref}" in words
    assert "1 problem found" in words
    assert f"evidence {item.ref}: file missing" in words
    assert "Evidence files re-hashed" in words
    assert "Audit entries recomputed" in words
    assert setup["auditor"].email in words
    assert "disk failure of June" in words


def test_a_run_in_progress_refreshes_and_has_no_report_yet(auditor_client, setup, db):
    run = runs.request_run(db, actor=setup["auditor"])
    db.commit()  # queued, never run
    page = auditor_client.get(f"/verification/{run.ref}")
    body = text(page)
    assert '<meta http-equiv="refresh" content="2">' in page.get_data(as_text=True)
    assert "Waiting for the job worker" in body
    assert "Download the report" not in body
    assert auditor_client.get(f"/verification/{run.ref}/report.pdf").status_code == 409


def test_an_unknown_scope_is_refused_in_the_form(auditor_client, setup, db):
    response = auditor_client.post("/verification/", data={"scope": "NO-SUCH-CASE"})
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors["scope"] == (
        "Choose one of the listed options.")
    assert db.exec(select(VerificationRun)).all() == []
    db.commit()


def test_unknown_runs_are_not_found(auditor_client, setup):
    assert auditor_client.get("/verification/VER-99999").status_code == 404
    assert auditor_client.get("/verification/VER-99999/report.pdf").status_code == 404


@pytest.mark.parametrize("role", ["investigator", "legal"])
def test_other_roles_may_not_verify(role, client, setup, db):
    login(client, make_user(db, role))
    run = runs.request_run(db, actor=setup["auditor"])
    db.commit()
    for response in (client.get("/verification/"), client.post("/verification/", data={}),
                     client.get(f"/verification/{run.ref}"),
                     client.get(f"/verification/{run.ref}/report.pdf"),
                     client.post(f"/verification/{run.ref}/findings/1", data={})):
        assert response.status_code == 403
    assert "/verification/" not in client.get("/cases/").get_data(as_text=True)


def test_administrators_may_verify_and_visitors_are_sent_to_log_in(client, setup, db):
    assert client.get("/verification/").status_code == 302
    login(client, make_user(db, "admin"))
    _, report = start(client)
    assert "Intact" in text(report)


def test_a_clean_report_says_what_held_and_claims_no_checkpoint_it_did_not_check(
        auditor_client, setup):
    location, _ = start(auditor_client)
    ref = location.rsplit("/", 1)[1]
    response = auditor_client.get(f"/verification/{ref}/report.pdf")
    pdf = PdfReader(io.BytesIO(response.data))
    words = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in pdf.pages))
    assert "Result: intact." in words
    assert "every record the replayed audit log" in words
    assert "Records held against the audit log (replayed)" in words
    assert "against its signed checkpoints" not in words  # none was signed yet
    page = text(auditor_client.get(location))
    assert "every record the replayed audit log" in page
