"""A person's journeys in headless Chromium: log in, open a case, file an incident with a wrong
date, see the error, correct it, find the incident in the list."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from ihl_docs.core.db import open_session
from ihl_docs.core.models import Incident
from tests.builders import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_investigator_files_an_incident(live_server, page, db):
    user = make_user(db, "investigator", name="Ana Investigator")
    db.commit()
    base = live_server["url"]

    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Cases").wait_for()

    page.get_by_role("link", name="New case").click()
    page.get_by_label("Reference").fill("NK-2020-001")
    page.get_by_label("Title").fill("Shelling of Old Town, autumn 2020")
    page.get_by_label("Classification of the conflict").select_option("international")
    page.get_by_role("button", name="Open case").click()
    page.get_by_role("heading", name="Shelling of Old Town, autumn 2020").wait_for()

    page.get_by_role("link", name="File an incident").click()
    page.get_by_label("Title", exact=True).fill("Rocket strike on the central market")
    page.get_by_label("Type of incident").select_option("rocket")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    page.get_by_label("Start date").fill(tomorrow)
    page.get_by_label("Place", exact=True).fill("Central market")
    page.get_by_role("button", name="File incident").click()

    error = page.locator("#occurred_from-error")
    error.wait_for()
    assert "future" in error.inner_text()
    # the user's input is kept
    assert page.get_by_label("Title", exact=True).input_value() == "Rocket strike on the central market"
    with open_session(live_server["app"].extensions["ihl_engine"], write=False) as session:
        assert session.exec(select(Incident)).all() == []

    page.get_by_label("Start date").fill("2020-10-04")
    page.get_by_role("button", name="File incident").click()
    page.get_by_role("heading", name="Rocket strike on the central market").wait_for()

    page.get_by_role("link", name="Incidents", exact=True).first.click()
    row = page.get_by_role("row").filter(has_text="Rocket strike on the central market")
    row.wait_for()
    assert "NK-2020-001-I001" in row.inner_text()


def test_investigator_attaches_a_photo_and_records_its_custody(live_server, page, db, tmp_path):
    import hashlib

    from tests.builders import jpeg_with_exif, make_case, make_incident

    user = make_user(db, "investigator", name="Ana Investigator")
    incident = make_incident(db, make_case(db, user, ref="NK-2020-002"), user)
    photo = tmp_path / "IMG_2041.JPG"
    photo.write_bytes(jpeg_with_exif())
    sha256 = hashlib.sha256(photo.read_bytes()).hexdigest()
    base = live_server["url"]

    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Cases").wait_for()

    page.goto(f"{base}/incidents/{incident.ref}")
    page.get_by_role("link", name="Attach new evidence").click()
    page.get_by_role("heading", name="Add evidence to NK-2020-002").wait_for()
    assert page.get_by_label("Link to incident").input_value() == incident.ref
    page.get_by_label("Kind").select_option("photo")
    page.get_by_label("File", exact=True).set_input_files(str(photo))
    page.get_by_label("Title", exact=True).fill("Crater, east side of the market")
    page.get_by_label("Date acquired").fill("2020-10-05")
    page.get_by_label("Acquired by").fill("Field team 2")
    page.get_by_label("Relevance to that incident").fill("Taken minutes after the strike.")
    page.get_by_role("button", name="Record evidence").click()

    page.get_by_role("heading", name="Crater, east side of the market").wait_for()
    assert page.locator("#sha256").inner_text() == sha256
    metadata = page.locator("table.compare").inner_text()
    for words in ("2020-10-04 09:12 UTC", "39.8, 46.75", "Canon EOS 80D"):
        assert words in metadata, words
    assert page.get_by_role("img", name="Thumbnail of NK-2020-002-E0001").evaluate(
        "img => img.complete && img.naturalWidth > 0")
    timeline = page.locator("ol.timeline")
    assert "Collected" in timeline.inner_text()
    assert "Received" in timeline.inner_text()
    assert "Matched" in timeline.inner_text()

    page.get_by_label("What happened").select_option("transferred")
    page.get_by_label("From", exact=True).fill(user.email)
    page.get_by_label("To", exact=True).fill("Forensic lab, Kyiv")
    page.get_by_label("Place", exact=True).fill("Kyiv")
    page.get_by_role("button", name="Record custody event").click()
    page.get_by_text("Custody event recorded: transferred.").wait_for()
    entry = page.locator("li.custody-event").filter(has_text="Transferred")
    assert f"{user.email} → Forensic lab, Kyiv" in entry.inner_text()
    assert "Matched" in entry.inner_text()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download original").click()
    download = download_info.value
    assert download.suggested_filename == "NK-2020-002-E0001.jpg"
    assert hashlib.sha256(download.path().read_bytes()).hexdigest() == sha256
    page.reload()
    assert "Accessed" in page.locator("ol.timeline").inner_text()


def test_lawyer_qualifies_an_incident_and_sees_the_gap_in_the_proof_matrix(live_server, page, db):
    """A lawyer qualifies an incident under a war-crime provision, records findings for two of
    its elements with evidence, and sees the elements left without evidence as gaps."""
    from ihl_docs.cases import services as case_services
    from ihl_docs.evidence import services as evidence_services
    from tests.builders import load_catalogue, make_case, make_evidence, make_incident

    load_catalogue(db)
    investigator = make_user(db, "investigator", name="Ana Investigator")
    lawyer = make_user(db, "legal", name="Lea Lawyer")
    case = make_case(db, investigator, ref="NK-2020-003", conflict_classification="international")
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator, responsible_party="State A armed forces")
    store = live_server["app"].extensions["ihl_store"]
    evidence = []
    for data, title in ((b"%PDF-1.4 photo", "Crater photo"), (b"%PDF-1.4 rep", "Field report")):
        item = make_evidence(db, case, investigator, store, data, title=title)
        evidence_services.link_evidence(db, incident, item, "", actor=investigator)
        db.commit()
        evidence.append(item)
    photo, report = evidence
    base = live_server["url"]

    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(lawyer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Cases").wait_for()

    page.goto(f"{base}/incidents/{incident.ref}/qualifications")
    page.get_by_role("heading", name="Legal qualification").wait_for()
    page.get_by_text("Not yet qualified under any provision.").wait_for()
    add = page.get_by_role("region", name="Add a provision")
    add.get_by_label("Provision", exact=True).select_option("rs-8-2-b-i")
    add.get_by_label("Assessment", exact=True).select_option("probable")
    add.get_by_label("Analysis", exact=True).fill("Two rockets on a crowded market at noon.")
    add.get_by_role("button", name="Add provision").click()
    page.get_by_text(f"{incident.ref} is now qualified under rs-8-2-b-i (probable).").wait_for()
    qualification = page.get_by_role("article", name="War crime of attacking civilians (IAC)")
    assert "Assessment: Probable" in qualification.inner_text()
    assert qualification.locator(".finding-status").all_inner_texts() == ["Not assessed"] * 5

    def record_finding(number, item, note):
        page.get_by_text(f"Record the finding on element {number}", exact=True).click()
        save = page.get_by_role("button", name=f"Save the finding on element {number}",
                                exact=True)
        form = page.locator("form").filter(has=save)
        form.get_by_label("Finding", exact=True).select_option("supported")
        form.get_by_label("Note", exact=True).fill(note)
        form.get_by_label(item.ref, exact=True).select_option("supports")
        save.click()
        page.get_by_text(f"Finding on element {number} saved.").wait_for()
        cited = page.get_by_role("list", name=f"Evidence cited for element {number}",
                                 exact=True)
        assert cited.inner_text().strip() == f"✓ Supports: {item.ref} {item.title}"

    record_finding(1, photo, "The crater shows the direction of fire.")
    record_finding(2, report, "The market was full of shoppers, no military objective near.")
    assert qualification.locator(".finding-status").all_inner_texts() == (
        ["Supported"] * 2 + ["Not assessed"] * 3)

    page.get_by_role("link", name="Proof matrix", exact=True).click()
    page.get_by_role("heading", name=f"{incident.ref} Proof matrix").wait_for()
    assert page.url == f"{base}/incidents/{incident.ref}/proof-matrix"
    summary = page.get_by_role("region", name="Gaps")
    assert "3 of 5 elements with no supporting evidence; 0 of 2 linked items cited by no element." \
        in " ".join(summary.inner_text().split())
    gaps = summary.get_by_role("listitem").all_inner_texts()  # grouped by element kind
    assert sorted(gaps) == [f"{incident.ref} / rs-8-2-b-i / element {n}: no supporting evidence"
                            for n in (3, 4, 5)]

    def matrix_row(number):
        return page.get_by_role("row").filter(
            has=page.get_by_role("link", name=f"Element {number}", exact=True))

    for number in (1, 2):
        assert "No supporting evidence" not in matrix_row(number).inner_text()
        assert "supports" in matrix_row(number).inner_text()
    assert "No supporting evidence" in matrix_row(3).inner_text()
    assert "gap" in matrix_row(3).get_attribute("class").split()
    assert "gap" not in matrix_row(1).get_attribute("class").split()


def test_auditor_verifies_sees_a_clean_report_then_the_altered_file_named(live_server, page, db,
                                                                           tmp_path):
    from tests.builders import make_case, make_evidence
    from tests.tampering import alter_one_byte

    store = live_server["app"].extensions["ihl_store"]
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator, ref="NK-2020-003")
    item = make_evidence(db, case, investigator, store, b"%PDF-1.4 intercepted orders")
    auditor = make_user(db, "auditor", name="Ada Auditor")
    base = live_server["url"]

    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(auditor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Verification").click()
    page.get_by_label("What to verify").select_option("")
    page.get_by_role("button", name="Verify").click()
    verdict = page.locator("#verdict")
    verdict.wait_for()
    assert "Intact: no problem found" in verdict.inner_text()

    alter_one_byte(store.path_for(item.sha256), at=4)

    page.get_by_role("link", name="Verification", exact=True).first.click()
    page.get_by_label("What to verify").select_option("NK-2020-003")
    page.get_by_role("button", name="Verify").click()
    verdict.wait_for()
    assert "1 problem found" in verdict.inner_text()
    finding = page.locator("#finding-1")
    assert f"evidence {item.ref}: file altered" in finding.inner_text()

    page.get_by_label("Note").fill("Reported to the custodian; the sealed copy is intact.")
    page.get_by_role("button", name="Acknowledge finding 1").click()
    page.get_by_text("Acknowledged by " + auditor.email).wait_for()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (PDF)").click()
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")


def test_lawyer_records_an_attribution_qualifies_under_a_customary_rule_and_reads_jurisdiction(
        live_server, page, db):
    """Cluster munitions fired by an armed group in Ukraine: the lawyer records that the group
    acts under a state's overall control, qualifies the strike under customary rule 71 element by
    element, and reads which court could try the war crime."""
    from datetime import UTC, datetime

    from ihl_docs.cases import services as case_services
    from ihl_docs.evidence import services as evidence_services
    from tests.builders import load_catalogue, make_case, make_evidence, make_incident

    load_catalogue(db)
    investigator = make_user(db, "investigator", name="Ana Investigator")
    lawyer = make_user(db, "legal", name="Lea Lawyer")
    case = make_case(db, investigator, ref="UA-2022-071", conflict_classification="international",
                     parties=[{"name": "Russian armed forces", "kind": "state", "state_code": "RUS"},
                              {"name": "Group X", "kind": "non-state"}])
    case_services.add_member(db, case, lawyer.email, actor=investigator)
    db.commit()
    incident = make_incident(db, case, investigator, responsible_party="Group X", country="UKR",
                             occurred_from=datetime(2022, 3, 1, 10, tzinfo=UTC),
                             time_zone="Europe/Kyiv", weapon_type="cluster munition rocket")
    store = live_server["app"].extensions["ihl_store"]
    remnant = make_evidence(db, case, investigator, store, b"%PDF-1.4 remnant",
                            title="Photo of a 9N235 submunition remnant")
    evidence_services.link_evidence(db, incident, remnant, "", actor=investigator)
    db.commit()
    base = live_server["url"]

    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(lawyer.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Cases").wait_for()

    page.goto(f"{base}/cases/{case.ref}")
    page.get_by_role("link", name="Record attribution to a state").click()
    page.get_by_role("heading", name="Attribution of a party's conduct to a state").wait_for()
    page.get_by_label("How its conduct is alleged to be the state's").select_option(
        "overall_control")
    page.get_by_label("State", exact=True).fill("RUS")
    page.get_by_label("Note", exact=True).fill("Its units report to the state's general staff.")
    page.get_by_label("Evidence", exact=True).select_option(remnant.ref)
    page.get_by_role("button", name="Save attribution").click()
    page.get_by_text("Attribution of Group X saved.").wait_for()
    page.get_by_text("Alleged to act under the overall control of RUS").wait_for()

    page.goto(f"{base}/incidents/{incident.ref}/qualifications")
    add = page.get_by_role("region", name="Add a provision")
    add.get_by_label("Provision", exact=True).select_option("cihl-71")
    add.get_by_label("Assessment", exact=True).select_option("probable")
    add.get_by_role("button", name="Add provision").click()
    page.get_by_text(f"{incident.ref} is now qualified under cihl-71 (probable).").wait_for()
    rule = page.locator("article.qualification").filter(has_text="cihl-71")
    statuses = rule.locator(".finding-status").all_inner_texts()
    assert len(statuses) >= 3
    assert set(statuses) == {"Not assessed"}

    page.get_by_text("Record the finding on element 1", exact=True).click()
    save = page.get_by_role("button", name="Save the finding on element 1", exact=True)
    form = page.locator("form").filter(has=save)
    form.get_by_label("Finding", exact=True).select_option("supported")
    form.get_by_label("Note", exact=True).fill("Remnants of a cluster munition at the site.")
    form.get_by_label(remnant.ref, exact=True).select_option("supports")
    save.click()
    page.get_by_text("Finding on element 1 saved.").wait_for()
    rule = page.locator("article.qualification").filter(has_text="cihl-71")
    assert rule.locator(".finding-status").all_inner_texts()[0] == "Supported"
    assert "attribution_needed" not in rule.inner_text()

    add = page.get_by_role("region", name="Add a provision")
    add.get_by_label("Provision", exact=True).select_option("rs-8-2-b-i")
    add.get_by_label("Assessment", exact=True).select_option("alleged")
    add.get_by_role("button", name="Add provision").click()
    page.get_by_text(f"{incident.ref} is now qualified under rs-8-2-b-i (alleged).").wait_for()
    crime = page.locator("article.qualification").filter(has_text="rs-8-2-b-i")
    answers = " ".join(crime.locator(".notice.applicability").inner_text().split())
    assert "Which court could try it?" in answers
    assert "The ICC may exercise jurisdiction" in answers
    assert "art. 12(3) declaration" in answers
