"""The audit log pages: filters, pages, one record's history, and who may read them."""

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import AuditEntry
from ihl_docs.evidence import services as evidence_services
from ihl_docs.incidents import services as incident_services
from tests.builders import login, make_case, make_evidence, make_incident, make_user
from tests.pages_support import FormPage


def seqs_on(response) -> list[int]:
    assert response.status_code == 200, response.status_code
    return [int(s) for s in re.findall(r'id="seq-(\d+)"', response.get_data(as_text=True))]


def seqs_where(db, *conditions) -> list[int]:
    rows = db.exec(select(AuditEntry.seq).where(*conditions).order_by(AuditEntry.seq.desc()))
    result = list(rows)
    db.commit()
    return result


@pytest.fixture
def log(db, app):
    """Two cases by two investigators: an incident edited, an item read, and the people around."""
    first, second = make_user(db, "investigator"), make_user(db, "investigator")
    own, other = make_case(db, first, ref="AL-2020-001"), make_case(db, second, ref="AL-2020-002")
    incident = make_incident(db, own, first, title="Shelling of the market")
    incident_services.update_incident(db, incident, {"title": "Shelling of the old market"},
                                      expected_version=1, actor=first)
    db.commit()
    make_incident(db, other, second)
    item = make_evidence(db, own, first, app.extensions["ihl_store"])
    evidence_services.open_original(db, item, actor=first,
                                    store=app.extensions["ihl_store"]).close()
    db.commit()
    auditor = make_user(db, "auditor")
    return {"first": first, "second": second, "own": own, "other": other, "incident": incident,
            "item": item, "auditor": auditor}


@pytest.fixture
def auditor_client(client, log):
    login(client, log["auditor"])
    return client


def test_the_log_shows_every_entry_newest_first(auditor_client, db, log):
    everything = seqs_where(db)
    assert seqs_on(auditor_client.get("/audit")) == everything
    assert seqs_on(auditor_client.get("/audit?order=seq")) == sorted(everything)


@pytest.mark.parametrize("query, condition", [
    ("case_ref=AL-2020-001", lambda log: AuditEntry.case_ref == "AL-2020-001"),
    ("actor={second}", lambda log: AuditEntry.actor == log["second"].email),
    ("entity=incident", lambda log: AuditEntry.entity == "incident"),
    ("action=update", lambda log: AuditEntry.action == "update"),
    ("action=custody_accessed", lambda log: AuditEntry.action == "custody_accessed"),
    ("entity=incident&case_ref=AL-2020-002",
     lambda log: (AuditEntry.entity == "incident") & (AuditEntry.case_ref == "AL-2020-002")),
])
def test_each_filter_narrows_the_log(auditor_client, db, log, query, condition):
    expected = seqs_where(db, condition(log))
    assert 0 < len(expected) < len(seqs_where(db))
    shown = seqs_on(auditor_client.get("/audit?" + query.format(second=log["second"].email)))
    assert shown == expected


def test_the_time_range_includes_both_days(auditor_client, db, log):
    today, everything = utcnow().date(), seqs_where(db)
    day = timedelta(days=1)
    assert seqs_on(auditor_client.get(f"/audit?date_from={today}&date_to={today}")) == everything
    assert seqs_on(auditor_client.get(f"/audit?date_from={today + day}")) == []
    assert seqs_on(auditor_client.get(f"/audit?date_to={today - day}")) == []


@pytest.mark.parametrize("query, field", [
    ("date_from=2021-02-30", "date_from"), ("date_to=garbage", "date_to"),
    ("date_from=2021-03-02&date_to=2021-03-01", "date_to"),
    ("entity=Robert'); DROP TABLE", "entity"), ("action=%00", "action"),
    ("order=sideways", "order"), ("actor=a%00b", "actor"), ("case_ref=%00", "case_ref"),
    ("case_ref=" + "X" * 41, "case_ref"),
    ("page=abc", None), ("page=" + "9" * 30, None), ("page=-1", None),
])
def test_bad_filters_are_named_next_to_their_field_never_a_server_error(auditor_client, db, log,
                                                                       query, field):
    response = auditor_client.get("/audit?" + query)
    assert response.status_code == 200
    assert list(FormPage(response.get_data(as_text=True)).errors) == ([field] if field else [])
    assert seqs_on(response)  # the refused filter is ignored, the rest still shown


def test_the_log_is_paged_and_pages_keep_the_filters(auditor_client, db, app, log):
    app.config["PAGE_SIZE"] = 3
    everything = seqs_where(db)
    first = auditor_client.get("/audit")
    assert seqs_on(first) == everything[:3]
    assert seqs_on(auditor_client.get("/audit?page=2")) == everything[3:6]
    assert seqs_on(auditor_client.get("/audit?page=999")) == everything[(len(everything) - 1)
                                                                        // 3 * 3:]
    filtered = auditor_client.get("/audit?case_ref=AL-2020-001&order=seq")
    links = re.findall(r'href="(/audit\?[^"]*page=2[^"]*)"',
                       html.unescape(filtered.get_data(as_text=True)))
    assert links
    assert "case_ref=AL-2020-001" in links[0]
    assert "order=seq" in links[0]
    own = seqs_where(db, AuditEntry.case_ref == "AL-2020-001")
    assert seqs_on(auditor_client.get(links[0])) == sorted(own)[3:6]


def test_rows_link_to_the_record_and_read_in_words(auditor_client, log):
    text = auditor_client.get("/audit").get_data(as_text=True)
    incident, item = log["incident"].ref, log["item"].ref
    assert f'href="/incidents/{incident}"' in text
    assert f'href="/evidence/{item}"' in text
    assert "File read (download)" in text
    assert "Edited" in text
    assert f'href="/audit/history/incident/{incident}"' in text


def test_an_entity_history_shows_who_changed_what_from_what_to_what(auditor_client, log):
    response = auditor_client.get(f"/audit/history/incident/{log['incident'].ref}")
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert re.search(r"<th scope=\"row\">Title</th><td>Shelling of the market</td>"
                     r"<td>Shelling of the old market</td>", text)
    assert f"by {log['first'].email}" in text
    assert "Edited" in text


def test_an_evidence_history_includes_the_reads_of_its_file(auditor_client, db, log):
    ref = log["item"].ref
    text = auditor_client.get(f"/audit/history/evidence/{ref}").get_data(as_text=True)
    accessed = seqs_where(db, AuditEntry.action == "custody_accessed")
    assert f'id="seq-{accessed[0]}"' in text
    assert "File read (download)" in text


def test_a_record_without_entries_says_so(auditor_client):
    response = auditor_client.get("/audit/history/incident/NO-SUCH-REF")
    assert response.status_code == 200
    assert "no entries" in response.get_data(as_text=True)
    assert auditor_client.get("/audit/history/incident/A%00B").status_code == 404


@pytest.mark.parametrize("role, status", [("auditor", 200), ("admin", 200),
                                          ("investigator", 403), ("legal", 403)])
@pytest.mark.parametrize("path", ["/audit", "/audit/history/incident/AL-2020-001-I001"])
def test_only_auditors_and_admins_read_the_log(client, db, log, role, status, path):
    login(client, make_user(db, role))
    before = db.exec(select(func.count()).select_from(AuditEntry)).one()
    db.commit()
    response = client.get(path)
    assert response.status_code == status
    if status == 403:
        assert "Shelling of the market" not in response.get_data(as_text=True)
    assert db.exec(select(func.count()).select_from(AuditEntry)).one() == before


@pytest.mark.parametrize("path", ["/audit", "/audit/history/incident/AL-2020-001-I001"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role, shown", [("auditor", True), ("admin", True),
                                         ("investigator", False), ("legal", False)])
def test_the_menu_offers_the_log_to_those_who_may_read_it(client, db, role, shown):
    login(client, make_user(db, role))
    assert ('href="/audit"' in client.get("/").get_data(as_text=True)) is shown


def test_an_entry_whose_change_was_tampered_with_still_shows(auditor_client, db, log):
    """An edited row is for `ihl verify` to name; the log must still show it, not fail."""
    seq = seqs_where(db, AuditEntry.entity_id == log["incident"].ref)[0]
    db.exec(sa.text("UPDATE audit_entry SET change = 'not json' WHERE seq = :s").bindparams(s=seq))
    db.commit()
    assert seq in seqs_on(auditor_client.get("/audit"))
    assert seq in seqs_on(auditor_client.get(f"/audit/history/incident/{log['incident'].ref}"))
