"""The legal catalogue: loaded by `ihl init`, extended by `ihl provisions import`."""

import json
from pathlib import Path

from sqlmodel import func, select

from ihl_docs.core.models import AuditEntry, Instrument, InstrumentParty, Provision, ProvisionElement
from ihl_docs.provisions import catalogue

BUNDLED = Path(catalogue.BUNDLED)


def count(db, model):
    n = db.exec(select(func.count()).select_from(model)).one()
    db.commit()
    return n


def provision(db, key):
    row = db.exec(select(Provision).where(Provision.key == key)
                  .execution_options(populate_existing=True)).first()
    db.commit()
    return row


def lines():
    return (BUNDLED / "provisions.jsonl").read_text("utf-8").splitlines()


def test_init_loads_the_bundled_catalogue_once(runner, db):
    result = runner.invoke(args=["init"])
    assert "105 provision(s) added" in result.output
    assert "12 instrument(s) added" in result.output
    assert count(db, Provision) == 105
    assert count(db, Instrument) == 12
    rs = provision(db, "rs-8-2-b-i")
    elements = db.exec(select(ProvisionElement).where(ProvisionElement.provision_id == rs.id)
                       .order_by(ProvisionElement.number)).all()
    db.commit()
    assert [e.number for e in elements] == list(range(1, len(elements) + 1))
    assert elements
    arm = db.exec(select(InstrumentParty).join(Instrument)
                  .where(Instrument.short_name == "CCM", InstrumentParty.state == "ARM")).first()
    db.commit()
    assert arm is not None
    again = runner.invoke(args=["init"])
    assert "0 provision(s) added, 0 changed, 105 unchanged" in again.output
    assert count(db, Provision) == 105


def test_init_keeps_a_correction_made_since(runner, db, tmp_path):
    runner.invoke(args=["init"])
    edited = [json.loads(line) for line in lines()]
    edited[0]["title"] = "Corrected title"
    path = tmp_path / "edited.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in edited), "utf-8")
    result = runner.invoke(args=["provisions", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert f"changed  {edited[0]['key']}" in result.output
    assert "0 provision(s) added, 1 changed, 104 unchanged" in result.output
    runner.invoke(args=["init"])
    assert provision(db, edited[0]["key"]).title == "Corrected title"
    assert provision(db, edited[0]["key"]).version == 2
    entry = db.exec(select(AuditEntry).where(AuditEntry.entity == "provision",
                                             AuditEntry.action == "update")).one()
    db.commit()
    assert json.loads(entry.change)["after"]["title"] == "Corrected title"


def test_import_adds_new_provisions(runner, db, tmp_path):
    runner.invoke(args=["init"])
    new = json.loads(lines()[0])
    new.update(key="api-51-4-x", article="51(4)(x)", title="A new entry", related=["api-51-4"],
               elements=[{"number": 1, "text": "First"}, {"number": 2, "text": "Second"}])
    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps(new) + "\n", "utf-8")
    result = runner.invoke(args=["provisions", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "added    api-51-4-x" in result.output
    assert count(db, Provision) == 106


def _refused(runner, db, tmp_path, text, *expected):
    runner.invoke(args=["init"])
    before = count(db, AuditEntry)
    path = tmp_path / "bad.jsonl"
    path.write_text(text, "utf-8")
    result = runner.invoke(args=["provisions", "import", str(path)])
    assert result.exit_code == 1, result.output
    for text_part in expected:
        assert text_part in result.output
    assert "Traceback" not in result.output
    assert count(db, Provision) == 105
    assert count(db, AuditEntry) == before


def test_malformed_json_is_refused_with_its_line(runner, db, tmp_path):
    good = json.loads(lines()[0])
    good["title"] = "would change"
    _refused(runner, db, tmp_path, json.dumps(good) + "\n" + lines()[1] + "\n{not json\n",
             "line 3", "not valid JSON")
    assert provision(db, good["key"]).title != "would change"


def test_missing_or_wrong_fields_are_named(runner, db, tmp_path):
    record = json.loads(lines()[0])
    del record["title"]
    _refused(runner, db, tmp_path, lines()[1] + "\n" + json.dumps(record), "line 2", "title")


def test_bad_values_are_named(runner, db, tmp_path):
    record = json.loads(lines()[0])
    record["applies_to"] = "sometimes"
    _refused(runner, db, tmp_path, json.dumps(record), "line 1", "applies_to")


def test_elements_must_be_numbered_in_order(runner, db, tmp_path):
    record = json.loads(lines()[0])
    record["elements"] = [{"number": 1, "text": "a"}, {"number": 3, "text": "b"}]
    _refused(runner, db, tmp_path, json.dumps(record), "line 1", "elements")


def test_unknown_related_key_and_instrument_are_refused(runner, db, tmp_path):
    record = json.loads(lines()[0])
    record["related"] = ["no-such-key"]
    _refused(runner, db, tmp_path, json.dumps(record), "related", "no-such-key")
    record = json.loads(lines()[0])
    record["instrument_short"] = "Treaty of Nowhere"
    _refused(runner, db, tmp_path, json.dumps(record), "instrument_short")


def test_duplicate_key_is_refused(runner, db, tmp_path):
    _refused(runner, db, tmp_path, lines()[0] + "\n" + lines()[0], "line 2", "already appears on line 1")


def test_bundled_data_matches_the_researched_copy():
    shared = BUNDLED.parent.parent.parent / "shared" / "data"
    if not shared.is_dir():
        return
    for name in ("provisions.jsonl", "instruments.json"):
        assert (BUNDLED / name).read_bytes() == (shared / name).read_bytes()
