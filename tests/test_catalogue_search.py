"""The catalogue search on the second edition of the catalogue: article notation, words in any
form, related terms, ranking, and queries that look like attacks."""

import json
from pathlib import Path

import pytest
from sqlmodel import func, select

from ihl_docs.core.models import AuditEntry, Provision
from ihl_docs.provisions import catalogue
from ihl_docs.provisions import search as catalogue_search
from ihl_docs.provisions.services import (
    ProvisionCorrection,
    ProvisionFilter,
    correct_provision,
    provision_read,
    search_provisions,
)
from tests.builders import make_user

EDITION_2 = Path("/work/shared/data/edition-2")
if not (EDITION_2 / "provisions.jsonl").exists():  # the copy shipped with the code, once merged
    EDITION_2 = Path(catalogue.__file__).resolve().parent.parent / "data"


def _known_fields(line: str) -> str:
    """A line of the file with only the fields this loader reads (the second edition adds some
    that an older loader refuses; none of them is searched)."""
    record = json.loads(line)
    known = catalogue.ProvisionRecord.model_fields
    record = {k: v for k, v in record.items() if k in known}
    element_fields = catalogue.ElementRecord.model_fields
    record["elements"] = [{k: v for k, v in e.items() if k in element_fields}
                          for e in record.get("elements", [])]
    return json.dumps(record)


@pytest.fixture
def edition2(db):
    text = (EDITION_2 / "provisions.jsonl").read_text(encoding="utf-8")
    provisions = catalogue.parse_provisions(
        "\n".join(_known_fields(line) for line in text.splitlines() if line.strip()))
    instruments = catalogue.parse_instruments(
        (EDITION_2 / "instruments.json").read_text(encoding="utf-8"))
    catalogue.load(db, instruments, provisions, actor="test")
    db.commit()
    assert db.exec(select(func.count()).select_from(Provision)).one() == 160
    return db


def keys(db, q, **filters) -> list[str]:
    rows, total = search_provisions(db, ProvisionFilter(q=q, **filters), limit=1000)
    assert total == len(rows)
    return [p.key for p in rows]


def test_article_notation_finds_the_article_first(edition2):
    for query, first in [
            ("51(4)(c)", "api-51-4-c"), ("51 (4) (c)", "api-51-4-c"),
            ("art. 51(4)(c)", "api-51-4-c"), ("Art 51(4)(c)", "api-51-4-c"),
            ("article 51 (4)(c)", "api-51-4-c"), ("AP I 51(4)(c)", "api-51-4-c"),
            ("api-51-4-c", "api-51-4-c"), ("8(2)(b)(iv)", "rs-8-2-b-iv"),
            ("Rome Statute 8(2)(b)(iv)", "rs-8-2-b-iv"), ("rule 71", "cihl-71"),
            ("Rule 71", "cihl-71"), ("r. 71", "cihl-71"), ("R. 71", "cihl-71"),
            ("rule 129(a)", "cihl-129a"), ("§ 11", "vstgb-11")]:
        assert keys(edition2, query)[:1] == [first], query


def test_an_article_finds_its_sub_paragraphs_after_itself(edition2):
    found = keys(edition2, "51(4)")
    assert found[:4] == ["api-51-4", "api-51-4-a", "api-51-4-b", "api-51-4-c"]
    assert "api-51-5-a" not in found
    assert "api-51-2" not in found


def test_rule_keeps_to_customary_rules_and_art_to_treaties(edition2):
    assert keys(edition2, "rule 1") == ["cihl-1"]
    treaty = keys(edition2, "art. 1")
    assert "cihl-1" not in treaty
    assert {"ccm-1", "apmbc-1", "merc-1"} <= set(treaty)


def test_dpicm_and_cluster_munitions_find_rule_71(edition2):
    dpicm, cluster = keys(edition2, "DPICM"), keys(edition2, "cluster munitions")
    assert "cihl-71" in dpicm
    assert "cihl-71" in cluster
    assert {"ccm-1", "ccm-2", "api-51-4-c"} <= set(dpicm)
    assert dpicm[:2] == ["ccm-2", "ccm-4"]  # "cluster munition" in their titles
    assert set(cluster) <= set(dpicm)  # DPICM also finds the word "submunition"
    assert set(keys(edition2, "cluster bombs")) == set(cluster)
    assert keys(edition2, "submunitions")[:2] == ["ccm-1", "ccm-2"]


def test_words_in_another_form_are_found(edition2):
    found = keys(edition2, "attacks on civilians")
    assert {"rs-8-2-b-i", "rs-8-2-e-i", "api-51-2"} <= set(found)
    assert keys(edition2, "attacking civilians")[:1] == keys(edition2, "attack civilian")[:1]


def test_every_word_must_be_found(edition2):
    assert "rs-8-2-b-i" not in keys(edition2, "attacking civilians mercenary")
    assert keys(edition2, "zzzz civilians") == []


def test_title_matches_rank_before_matches_elsewhere(edition2):
    found = keys(edition2, "attacking civilians")
    rows = {p.key: p for p in edition2.exec(select(Provision))}
    in_title = [k for k in found if "attack" in rows[k].title.lower()
                and "civilian" in rows[k].title.lower()]
    assert found[:len(in_title)] == in_title
    assert found[:2] == ["rs-8-2-b-i", "rs-8-2-e-i"] or set(found[:2]) <= set(in_title)


def test_related_terms(edition2):
    assert "ccw-piii-2" in keys(edition2, "white phosphorus")
    assert "cihl-81" in keys(edition2, "landmines")
    assert keys(edition2, "human shields")[0] == "api-51-7"


def test_notes_and_element_texts_are_searched(edition2):
    # "hors de combat" is in titles; "nexus" only in notes and element texts
    assert "api-35" in keys(edition2, "nexus")


def test_the_last_word_may_be_the_start_of_one(edition2):
    assert "cihl-71" in keys(edition2, "indiscrim")
    assert keys(edition2, "clust munitions") == []  # only the last word


def test_the_order_is_deterministic_and_pages_add_up(edition2):
    everything = keys(edition2, "civilians")
    first, total = search_provisions(edition2, ProvisionFilter(q="civilians"), limit=10)
    second, _ = search_provisions(edition2, ProvisionFilter(q="civilians"), offset=10, limit=10)
    assert total == len(everything)
    assert [p.key for p in first + second] == everything[:20]
    assert keys(edition2, "civilians") == everything


def test_queries_that_look_like_attacks_are_harmless(edition2):
    entries = edition2.exec(select(func.count()).select_from(AuditEntry)).one()
    for query in ["%' OR 1=1 --", "'; DROP TABLE provision; --", "_%_", "\\", "((((", "art. ()",
                  "rule", "§", "😀", "x" * 5000, "1 " * 500]:
        assert len(keys(edition2, query)) <= 160, query
    # the words and numbers of the query, taken as such ("or" is a small word, dropped)
    assert keys(edition2, "%' OR 1=1 --") == keys(edition2, "1") != keys(edition2, "")
    assert keys(edition2, "'; DROP TABLE provision; --") == []
    assert keys(edition2, "x" * 5000) == []
    assert keys(edition2, "civilians " * 10_000) == keys(edition2, "civilians")
    assert edition2.exec(select(func.count()).select_from(Provision)).one() == 160
    assert edition2.exec(select(func.count()).select_from(AuditEntry)).one() == entries


def test_an_empty_query_or_only_small_words_list_everything(edition2):
    everything = [p.key for p in edition2.exec(select(Provision).order_by(Provision.id))]
    assert keys(edition2, "") == everything
    assert keys(edition2, "   ") == everything
    assert keys(edition2, "of the") == everything


def test_filters_still_apply(edition2):
    assert keys(edition2, "civilians", instrument="AP I")
    assert all(k.startswith("api-") for k in keys(edition2, "civilians", instrument="AP I"))
    assert "rs-8-2-b-i" not in keys(edition2, "attacking civilians", applies_to="NIAC")
    assert "rs-8-2-e-i" in keys(edition2, "attacking civilians", applies_to="NIAC")


def test_a_correction_is_found_at_once(edition2):
    lawyer = make_user(edition2, "legal")
    provision = edition2.exec(select(Provision).where(Provision.key == "cihl-71")).one()
    assert keys(edition2, "flechette") == []
    index = catalogue_search.catalogue_index(edition2)
    data = provision_read(edition2, provision)
    data["notes"] += " Flechette shells are discussed under this rule."
    fields = {k: data[k] for k in ProvisionCorrection.model_fields if k != "elements"}
    correct_provision(edition2, provision, ProvisionCorrection(
        **fields, elements=[e["text"] for e in data["elements"]]),
        expected_version=provision.version, actor=lawyer)
    edition2.commit()
    assert keys(edition2, "flechette") == ["cihl-71"]
    assert catalogue_search.catalogue_index(edition2) is not index  # rebuilt once


def test_the_api_and_the_page_use_the_same_search(client, edition2, as_role):
    _, headers = as_role("auditor")
    body = client.get("/api/v1/provisions?q=51(4)(c)", headers=headers).get_json()
    assert body["items"][0]["key"] == "api-51-4-c"
    body = client.get("/api/v1/provisions?q=DPICM", headers=headers).get_json()
    assert "cihl-71" in [item["key"] for item in body["items"]]


def test_only_the_last_few_databases_keep_an_index(edition2, monkeypatch):
    others = {f"sqlite:///elsewhere-{n}.sqlite3": ((n,), []) for n in range(6)}
    monkeypatch.setattr(catalogue_search, "_indexes", dict(others))
    index = catalogue_search.catalogue_index(edition2)
    assert len(index) == 160
    kept = list(catalogue_search._indexes)
    assert len(kept) == catalogue_search.KEPT_INDEXES
    assert kept[:-1] == list(others)[-(catalogue_search.KEPT_INDEXES - 1):]
