"""Provision pages: browsing the catalogue, a provision's page, correcting it, who may do what."""

import re

import pytest
from sqlmodel import func, select

from ihl_docs.core.models import AuditEntry, Provision
from ihl_docs.provisions import services as provision_services
from tests.builders import load_catalogue, login, make_user
from tests.pages_support import FormPage, text_of


@pytest.fixture
def catalogue(db):
    load_catalogue(db)


@pytest.fixture
def lawyer(db):
    return make_user(db, "legal", email="lawyer@example.org")


def stored(db, key: str) -> Provision:
    """The provision as stored now; the read ends its transaction (see test_pages_incidents)."""
    row = db.exec(select(Provision).where(Provision.key == key)
                  .execution_options(populate_existing=True)).one()
    db.commit()
    return row


def audit_count(db) -> int:
    count = db.exec(select(func.count()).select_from(AuditEntry)).one()
    db.commit()
    return count


def keys_on(response) -> list[str]:
    """The provision keys a list page shows, in order."""
    return re.findall(r'<code class="muted">([a-z0-9-]+)</code>', response.get_data(as_text=True))


# Browsing ---------------------------------------------------------------------------------------

def test_everyone_logged_in_browses_the_catalogue_page_by_page(client, db, catalogue):
    login(client, make_user(db, "investigator"))
    response = client.get("/provisions")
    assert response.status_code == 200
    text = text_of(response)
    assert "160 provisions, page 1 of 7." in text
    assert len(keys_on(response)) == 25
    last = client.get("/provisions?page=7")
    assert len(keys_on(last)) == 10
    assert "page 7 of 7" in text_of(last)
    assert set(keys_on(response)).isdisjoint(keys_on(last))
    assert 'href="/provisions?page=2"' in response.get_data(as_text=True)


def test_search_covers_article_title_and_summary(client, db, catalogue):
    login(client, make_user(db, "auditor"))
    response = client.get("/provisions?q=cluster")
    keys = keys_on(response)
    rows, total = provision_services.search_provisions(db, provision_services.ProvisionFilter(
        q="cluster"))
    db.commit()
    assert keys == [p.key for p in rows]
    assert f"{total} provisions." in text_of(response)
    assert "ccm-1" in keys
    assert "api-51-2" not in keys
    by_article = client.get("/provisions?q=51(4)")
    assert keys_on(by_article) == ["api-51-4", "api-51-4-a", "api-51-4-b", "api-51-4-c"]
    # two words: both must occur, each in any of the fields
    both = keys_on(client.get("/provisions?q=cluster+stockpile"))
    assert "ccm-3" in both
    assert len(both) < len(keys)
    for key in both:
        p = stored(db, key)
        words = f"{p.article} {p.title} {p.summary} {p.key}".lower()
        assert "cluster" in words
        assert "stockpile" in words


def test_filters_by_instrument_category_and_kind_of_conflict(client, db, catalogue):
    login(client, make_user(db, "legal"))
    ccm = keys_on(client.get("/provisions?instrument=CCM"))
    assert ccm
    assert all(k.startswith("ccm-") for k in ccm)
    weapons = keys_on(client.get("/provisions?category=weapons"))
    assert "ccm-1" in weapons
    assert "api-51-4" not in weapons
    none = client.get("/provisions?instrument=AP+I&applies_to=NIAC")
    assert "0 provisions." in text_of(none)
    assert "No provisions match." in text_of(none)
    niac = keys_on(client.get("/provisions?applies_to=NIAC&instrument=Rome+Statute"))
    assert "rs-8-2-e-i" in niac
    assert "rs-8-2-b-i" not in niac
    iac = keys_on(client.get("/provisions?applies_to=IAC&instrument=Rome+Statute"))
    assert "rs-8-2-b-i" in iac
    assert "rs-8-2-e-i" not in iac


def test_a_wrong_filter_value_is_named_and_ignored(client, db, catalogue):
    login(client, make_user(db, "investigator"))
    response = client.get("/provisions?instrument=Nowhere&applies_to=space&page=0")
    assert response.status_code == 200
    page = FormPage(response.get_data(as_text=True))
    assert page.errors["instrument"] == "Choose one of the listed options."
    assert page.errors["applies_to"] == "Choose one of the listed options."
    assert "160 provisions" in text_of(response)


def test_a_provision_page_shows_summary_elements_related_and_the_official_text(
        client, db, catalogue):
    login(client, make_user(db, "investigator"))
    response = client.get("/provisions/rs-8-2-b-i")
    assert response.status_code == 200
    html, text = response.get_data(as_text=True), text_of(response)
    assert "War crime of attacking civilians (IAC)" in text
    assert "Rome Statute of the International Criminal Court" in text
    assert "intentionally make the civilian population as such" in text   # the summary
    assert "Element 1: The perpetrator directed an attack." in text
    assert "Element 5:" in text
    assert "ICC Elements of Crimes" in text
    assert "Applies in International armed conflict" in text
    assert 'href="/provisions/api-51-2"' in html
    assert 'href="/provisions/cihl-1"' in html
    [link] = re.findall(r'<a href="https://www\.icc-cpi\.int[^"]*"[^>]*>', html)
    assert 'rel="noopener noreferrer"' in link
    assert "Partially verified" not in text
    assert "Correct this provision" not in text   # investigators do not correct the catalogue
    assert "Binds Individuals (criminal responsibility)" in text
    assert "Who is bound, and before which court" in text
    assert "Element 1: The perpetrator directed an attack. conduct" in text
    assert "Source of the elements: paraphrase of the ICC Elements of Crimes" in text
    assert "Inoperative" not in text


def test_an_inoperative_provision_says_so_with_the_reason(client, db, catalogue):
    login(client, make_user(db, "investigator"))
    html = client.get("/provisions/rs-8-2-b-xx").get_data(as_text=True)
    notice = html[html.index('class="notice inoperative-notice"'):]
    notice = notice[:notice.index("</section>")]
    assert "cannot be applied today" in notice
    assert stored(db, "rs-8-2-b-xx").notes.strip()[:40] in notice


def test_a_partially_verified_provision_says_so_prominently_with_its_notes(client, db, catalogue):
    login(client, make_user(db, "investigator"))
    notes = stored(db, "ccm-3").notes
    response = client.get("/provisions/ccm-3")
    html = response.get_data(as_text=True)
    notice = html[html.index('class="notice verification-notice"'):]
    notice = notice[:notice.index("</section>")]
    assert "Partially verified" in notice
    assert "Check before relying on them" in notice
    assert notes.strip()[:60] in text_of(response)
    assert html.index("verification-notice") < html.index('id="summary-title"')


def test_unknown_provision_is_not_found(client, db, catalogue):
    login(client, make_user(db, "investigator"))
    assert client.get("/provisions/no-such-rule").status_code == 404
    assert client.get("/provisions/no-such-rule/edit").status_code == 403   # role first


# Correcting ----------------------------------------------------------------------------------

def correction_form(db, key: str, **changes) -> dict:
    """The correction form as a browser sends it, filled from the stored provision."""
    from ihl_docs.provisions.forms import ProvisionForm

    read = provision_services.provision_read(db, stored(db, key))
    db.commit()
    # as a browser sends a form: an unticked box not at all, a ticked one as "y"
    data = {k: "y" if v is True else str(v) for k, v in ProvisionForm.initial(read).items()
            if v is not False}
    data.update(changes)
    return data


def test_the_correction_form_shows_the_stored_provision(client, db, catalogue, lawyer):
    login(client, lawyer)
    response = client.get("/provisions/rs-8-2-b-i/edit")
    assert response.status_code == 200
    page = FormPage(response.get_data(as_text=True))
    assert page.value("title") == "War crime of attacking civilians (IAC)"
    assert page.value("elements").split("\n")[0] == \
        "[conduct] The perpetrator directed an attack."
    assert len(page.value("elements").split("\n")) == 5
    assert page.value("related") == "api-51-2 api-85-3 cihl-1 rs-8-2-e-i api-51-4 cihl-11 " \
                                    "cihl-156 vstgb-11"
    assert page.value("applies_to") == "IAC"
    assert page.value("version") == "1"


def test_a_lawyer_corrects_a_provision_and_the_audit_log_records_it(client, db, catalogue,
                                                                      lawyer):
    login(client, lawyer)
    before = audit_count(db)
    form = correction_form(db, "ccm-3", verification="verified", related="ccm-1 cihl-71",
                           elements="First element\n  Second element  \n",
                           notes="Checked against the UN Treaty Collection text.")
    response = client.post("/provisions/ccm-3/edit", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/provisions/ccm-3"
    provision = stored(db, "ccm-3")
    assert (provision.verification, provision.related, provision.version) == (
        "verified", ["ccm-1", "cihl-71"], 2)
    page = client.get("/provisions/ccm-3")
    text = text_of(page)
    assert "ccm-3 corrected; now version 2." in text
    assert "Element 1: First element" in text
    assert "Element 2: Second element" in text
    assert "Partially verified" not in text
    entry = db.exec(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    db.commit()
    assert audit_count(db) == before + 1
    assert (entry.actor, entry.action, entry.entity, entry.entity_id) == (
        "lawyer@example.org", "update", "provision", "ccm-3")
    assert "Checked against the UN Treaty Collection text." in entry.change


def test_a_correction_sets_element_kinds_and_whom_the_provision_binds(client, db, catalogue,
                                                                      lawyer):
    login(client, lawyer)
    form = correction_form(db, "ccm-3", elements="[conduct] First\n[mental] Second\nThird",
                           binds="parties_to_conflict", jurisdiction_note="Our note.")
    assert client.post("/provisions/ccm-3/edit", data=form).status_code == 302
    read = provision_services.provision_read(db, stored(db, "ccm-3"))
    db.commit()
    assert [(e["text"], e["kind"]) for e in read["elements"]] == [
        ("First", "conduct"), ("Second", "mental"), ("Third", "")]
    assert (read["binds"], read["jurisdiction_note"]) == ("parties_to_conflict", "Our note.")
    entry = db.exec(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    db.commit()
    assert '"kind":"mental"' in entry.change.replace(" ", "")


def test_an_element_kind_outside_the_list_is_refused_on_the_form(client, db, catalogue, lawyer):
    login(client, lawyer)
    before = audit_count(db)
    response = client.post("/provisions/ccm-3/edit", data=correction_form(
        db, "ccm-3", elements="[conduct] First\n[motive] Second"))
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors["elements"].startswith(
        "Line 2: “motive” is not a kind of element.")
    assert audit_count(db) == before


def test_the_correction_model_still_takes_elements_as_plain_text(db, catalogue):
    data = provision_services.ElementCorrection.model_validate("Plain text")
    assert (data.text, data.kind) == ("Plain text", "")


def test_saving_an_unchanged_form_changes_nothing(client, db, catalogue, lawyer):
    login(client, lawyer)
    before = audit_count(db)
    response = client.post("/provisions/cihl-11/edit", data=correction_form(db, "cihl-11"))
    assert response.status_code == 302
    assert "Nothing was changed." in text_of(client.get("/provisions/cihl-11"))
    assert stored(db, "cihl-11").version == 1
    assert audit_count(db) == before


@pytest.mark.parametrize("changes, field, message", [
    ({"related": "cihl-11 no-such-key cihl-99x"}, "related",
     "Unknown provision key(s): no-such-key, cihl-99x."),
    ({"elements": "First\n\nThird"}, "elements", "Line 2 is empty."),
    ({"title": "  "}, "title", "This field is required."),
    ({"applies_to": "sometimes"}, "applies_to", "Choose one of the listed options."),
    ({"source_url": "javascript:alert(1)"}, "source_url",
     "Give the address of the official text, starting with https://."),
    ({"article": "x" * 61}, "article", "Use at most 60 characters."),
])
def test_a_refused_correction_names_the_field_and_saves_nothing(client, db, catalogue, lawyer,
                                                                changes, field, message):
    login(client, lawyer)
    before = audit_count(db)
    response = client.post("/provisions/rs-8-2-b-i/edit",
                           data=correction_form(db, "rs-8-2-b-i", summary="Changed", **changes))
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors[field].startswith(message), page.errors
    assert page.value("summary") == "Changed"                       # the input is kept
    assert "Nothing was saved" in text_of(response)
    provision = stored(db, "rs-8-2-b-i")
    assert provision.version == 1
    assert provision.summary.startswith("In international armed")
    assert audit_count(db) == before


def test_a_correction_from_a_stale_form_shows_what_changed_and_keeps_the_input(
        client, db, catalogue, lawyer):
    admin = make_user(db, "admin", email="admin@example.org")
    login(client, lawyer)
    mine = correction_form(db, "rs-8-2-b-i", title="My title")
    provision = stored(db, "rs-8-2-b-i")
    data = provision_services.ProvisionCorrection(**{
        **{k: v for k, v in provision_services.provision_read(db, provision).items()
           if k in provision_services.ProvisionCorrection.model_fields},
        "elements": ["The perpetrator directed an attack.", "Only two now."],
        "title": "Their title"})
    provision_services.correct_provision(db, provision, data, expected_version=1, actor=admin)
    db.commit()

    response = client.post("/provisions/rs-8-2-b-i/edit", data=mine)
    assert response.status_code == 409
    text = text_of(response)
    assert "Changed by someone else" in text
    assert "Nothing was saved" in text
    assert "Title War crime of attacking civilians (IAC) Their title admin@example.org" in text
    assert "2. Only two now." in text                       # elements in words, not as data
    page = FormPage(response.get_data(as_text=True))
    assert page.value("title") == "My title"
    assert page.errors["title"].startswith("Changed by admin@example.org")
    assert page.value("version") == "2"
    assert stored(db, "rs-8-2-b-i").title == "Their title"
    # a deliberate second save goes through
    again = client.post("/provisions/rs-8-2-b-i/edit",
                        data={**mine, "version": page.value("version")})
    assert again.status_code == 302
    assert (stored(db, "rs-8-2-b-i").title, stored(db, "rs-8-2-b-i").version) == ("My title", 3)


# Who may do what ------------------------------------------------------------------------------

@pytest.mark.parametrize("role, browse, correct", [
    ("investigator", 200, 403), ("auditor", 200, 403), ("legal", 200, 200), ("admin", 200, 200)])
def test_everyone_browses_but_only_lawyers_and_admins_correct(client, db, catalogue, role, browse,
                                                               correct):
    user = make_user(db, role)
    login(client, user)
    for path in ("/provisions", "/provisions/cihl-11", "/provisions?q=mines"):
        assert client.get(path).status_code == browse
    assert client.get("/provisions/cihl-11/edit").status_code == correct
    assert ("Correct this provision" in text_of(client.get("/provisions/cihl-11"))) == (
        correct == 200)
    before = audit_count(db)
    response = client.post("/provisions/cihl-11/edit",
                           data=correction_form(db, "cihl-11", title="Changed by " + role))
    assert response.status_code == (302 if correct == 200 else 403)
    assert (stored(db, "cihl-11").title == "Changed by " + role) == (correct == 200)
    assert audit_count(db) == before + (1 if correct == 200 else 0)


@pytest.mark.parametrize("method, path", [("GET", "/provisions"), ("GET", "/provisions/cihl-11"),
                                          ("GET", "/provisions/cihl-11/edit"),
                                          ("POST", "/provisions/cihl-11/edit")])
def test_anonymous_visitors_are_sent_to_log_in(client, db, catalogue, method, path):
    response = client.open(path, method=method, data={"title": "x"})
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert stored(db, "cihl-11").version == 1
