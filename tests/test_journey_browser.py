"""A person's journey in headless Chromium: log in, open a case, file an incident with a wrong
date, see the error, correct it, find the incident in the list."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from ihl_docs.db import open_session
from ihl_docs.models import Incident

from .builders import PASSWORD, make_user

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
