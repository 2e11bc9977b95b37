"""`ihl audit export`: the log, its checkpoints and a verifier needing only Python's standard
library, which names the first broken seq of an export tampered with after it was written."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from ihl_docs.core.audit import chain, verify_audit
from ihl_docs.core.audit.checkpoints import list_checkpoints
from ihl_docs.core.models import AuditEntry
from tests.builders import make_case, make_incident, make_user


def run_verifier(directory: Path, *args):
    """The exported verifier with no site-packages and nothing of the project on its path."""
    return subprocess.run([sys.executable, "-I", "-S", str(directory / "verify_audit.py"),
                           str(directory), *args], capture_output=True, text=True, timeout=120,
                          cwd=directory)


@pytest.fixture
def exported(db, runner, tmp_path):
    """An export of a log holding a case and three incidents."""
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator)
    for _ in range(3):
        make_incident(db, case, investigator)
    out = tmp_path / "export"
    result = runner.invoke(args=["audit", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_lines(path: Path, items: list[dict]) -> None:
    path.write_text("".join(chain.canonical_json(i) + "\n" for i in items), encoding="utf-8")


def test_the_export_holds_the_log_its_checkpoint_and_the_verifier(db, exported):
    assert sorted(p.name for p in exported.iterdir()) == [
        "audit.jsonl", "checkpoints.jsonl", "export.json", "verify_audit.py"]
    assert json.loads((exported / "export.json").read_text()) == {
        "format": verify_audit.EXPORT_FORMAT, "kind": "full audit log"}
    entries = read_lines(exported / "audit.jsonl")
    db.expire_all()
    stored = db.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e["seq"] for e in entries] == [e.seq for e in stored]
    for entry in entries:  # flat, and every field but `hash` is covered by it
        assert set(entry) == {"seq", "occurred_at", "actor", "action", "entity", "entity_id",
                              "case_ref", "change", "prev_hash", "hash"}
        assert chain.entry_hash(entry) == entry["hash"]
    last = entries[-1]  # the export recorded itself, and its checkpoint covers that entry
    assert (last["action"], last["entity"], last["actor"]) == (
        "export", "audit_log", "ihl audit export")
    [checkpoint] = read_lines(exported / "checkpoints.jsonl")
    assert (checkpoint["seq"], checkpoint["hash"]) == (last["seq"], last["hash"])
    assert [c.seq for c in list_checkpoints(db)] == [last["seq"]]
    assert (exported / "verify_audit.py").read_bytes() == Path(verify_audit.__file__).read_bytes()
    result = run_verifier(exported)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "intact", f"full audit log: seq 1 to {last['seq']}, every entry whole; last signed "
        f"checkpoint at seq {last['seq']}"]
    key = checkpoint["public_key"]
    assert run_verifier(exported, "--public-key", key).stdout.startswith("intact\n")
    other = run_verifier(exported, "--public-key", "00" * 32)
    assert other.returncode == 1
    assert "signed by another key" in other.stdout


def test_the_verifier_needs_only_the_standard_library():
    tree = ast.parse(Path(verify_audit.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= {"argparse", "hashlib", "json", "os", "stat", "sys"}


def test_the_verifier_hashes_as_the_application_does():
    entry = {"seq": 1, "prev_hash": chain.GENESIS_HASH, "actor": "Zoë", "change": {"b": [1, {}]},
             "case_ref": None, "occurred_at": "2026-01-01T00:00:00.000000+00:00"}
    assert verify_audit.canonical_json(entry) == chain.canonical_json(entry)
    assert verify_audit.entry_hash(entry) == chain.entry_hash(entry)


def test_the_verifier_names_breaks_as_the_application_does(exported):
    entries = read_lines(exported / "audit.jsonl")
    for broken in (entries[:2] + entries[3:], [entries[1], entries[0]] + entries[2:],
                   [*entries[:2], {**entries[2], "actor": "x"}], entries):
        assert verify_audit.chain_problem(broken) == chain.verify_entries(broken)[1]


def test_an_existing_folder_with_files_is_refused(runner, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(args=["audit", "export", "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {out} already exists and is not an empty folder; give a new or empty one."]
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert runner.invoke(args=["audit", "export", "-o", str(empty)]).exit_code == 0


def test_a_folder_that_is_no_export_exits_2_a_line_not_json_1(exported, tmp_path):
    missing = tmp_path / "nothing"
    result = subprocess.run([sys.executable, "-I", "-S", str(exported / "verify_audit.py"),
                             str(missing)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot read" in result.stderr
    assert result.stdout == ""
    entries = (exported / "audit.jsonl").read_text().splitlines()
    (exported / "audit.jsonl").write_text(entries[0] + "\nnot json\n")
    result = run_verifier(exported)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout == "audit.jsonl line 2: not JSON\n"


def edited(entries, checkpoints):
    entries[2]["actor"] = "someone else"
    return "audit seq 3: contents do not match its hash"


def deleted(entries, checkpoints):
    del entries[2]
    return "audit seq 3: missing (found seq 4 next)"


def swapped(entries, checkpoints):
    entries[2], entries[3] = entries[3], entries[2]
    return "audit seq 3: missing (found seq 4 next)"


def truncated(entries, checkpoints):
    del entries[-2:]
    return (f"audit log truncated: checkpoint at seq {checkpoints[-1]['seq']}, "
            f"log ends at {len(entries)}")


def rewritten(entries, checkpoints):
    entries[2]["actor"] = "someone else"
    prev = entries[1]["hash"]
    for entry in entries[2:]:
        entry["prev_hash"] = prev
        entry["hash"] = prev = chain.entry_hash(entry)
    assert chain.verify_entries(entries)[1] is None  # the bare chain holds
    seq = checkpoints[-1]["seq"]
    return f"audit seq {seq}: differs from signed checkpoint"


def bad_signature(entries, checkpoints):
    signature = checkpoints[-1]["signature"]
    checkpoints[-1]["signature"] = ("1" if signature[0] == "0" else "0") + signature[1:]
    return f"audit checkpoint at seq {checkpoints[-1]['seq']}: signature does not verify"


@pytest.mark.parametrize("tamper", [edited, deleted, swapped, truncated, rewritten,
                                    bad_signature])
def test_an_export_tampered_with_names_the_first_broken_seq(exported, tamper):
    entries = read_lines(exported / "audit.jsonl")
    checkpoints = read_lines(exported / "checkpoints.jsonl")
    expected = tamper(entries, checkpoints)
    write_lines(exported / "audit.jsonl", entries)
    write_lines(exported / "checkpoints.jsonl", checkpoints)
    result = run_verifier(exported)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].startswith(expected), result.stdout
    assert "intact" not in result.stdout


def test_checkpoints_kept_elsewhere_catch_a_log_cut_with_its_checkpoints(exported, tmp_path):
    kept = tmp_path / "published.jsonl"
    kept.write_text((exported / "checkpoints.jsonl").read_text())
    entries = read_lines(exported / "audit.jsonl")
    write_lines(exported / "audit.jsonl", entries[:-3])
    (exported / "checkpoints.jsonl").write_text("")
    assert run_verifier(exported).stdout.startswith("intact\n")  # what the export alone shows
    result = run_verifier(exported, "--checkpoints", str(kept))
    assert result.returncode == 1
    assert "audit log truncated" in result.stdout


# ---- attacks on the offline verifier: it cannot be talked into "intact" -------------------------

def rehash_from(entries, index):
    """Recompute the hash of entries[index:] and relink them, as a forger would."""
    prev = entries[index - 1]["hash"] if index else chain.GENESIS_HASH
    for entry in entries[index:]:
        entry["prev_hash"] = prev
        entry["hash"] = prev = chain.entry_hash(entry)


@pytest.fixture
def bag_and_export(db, runner, tmp_path):
    """A case bag exported first, then more entries, then the full export with an earlier
    checkpoint kept apart (as a published one would be)."""
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator)
    make_incident(db, case, investigator)
    bag = tmp_path / "bag"
    result = runner.invoke(args=["export", case.ref, "-o", str(bag)])
    assert result.exit_code == 0, result.output
    published = tmp_path / "published.jsonl"
    published.write_text((bag / "data" / "checkpoints.jsonl").read_text())
    for _ in range(3):
        make_incident(db, case, investigator)
    out = tmp_path / "export"
    result = runner.invoke(args=["audit", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return bag / "data", out, published


def test_a_stub_and_a_foreign_seal_do_not_make_a_forged_full_export_intact(bag_and_export):
    data, out, published = bag_and_export
    entries = read_lines(out / "audit.jsonl")
    key = read_lines(out / "checkpoints.jsonl")[-1]["public_key"]
    index = len(entries) - 3  # entry N, altered; entry N+1 turned into a stub relinking it
    entries[index]["actor"] = "mallory"
    entries[index]["hash"] = chain.entry_hash(entries[index])
    following = entries[index + 1]
    entries[index + 1] = {"seq": following["seq"], "prev_hash": entries[index]["hash"],
                          "hash": following["hash"], "redacted": True}
    write_lines(out / "audit.jsonl", entries)
    (out / "seal.json").write_bytes((data / "seal.json").read_bytes())
    result = run_verifier(out, "--public-key", key, "--checkpoints", str(published))
    assert result.returncode == 1, result.stdout
    assert "intact" not in result.stdout
    assert "Traceback" not in result.stderr
    (out / "seal.json").unlink()  # and without the seal, a stub has no place in a full export
    result = run_verifier(out, "--public-key", key)
    assert result.returncode == 1, result.stdout
    assert (f"audit seq {following['seq']}: redacted, but there is no case seal (seal.json) "
            "and a full audit log holds every entry whole (1 redacted)") in result.stdout


def test_a_full_export_refuses_any_stub(exported):
    entries = read_lines(exported / "audit.jsonl")
    entries[1] = {k: entries[1][k] for k in ("seq", "prev_hash", "hash")} | {"redacted": True}
    write_lines(exported / "audit.jsonl", entries)
    result = run_verifier(exported)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "audit seq 2: redacted, but there is no case seal (seal.json) and a full audit log "
        "holds every entry whole (1 redacted)")


def test_with_a_public_key_a_log_no_checkpoint_covers_is_not_intact(exported):
    entries = read_lines(exported / "audit.jsonl")
    [checkpoint] = read_lines(exported / "checkpoints.jsonl")
    entries[0]["actor"] = "mallory"
    rehash_from(entries, 0)  # the whole log rewritten, its checkpoints deleted
    write_lines(exported / "audit.jsonl", entries)
    (exported / "checkpoints.jsonl").write_text("")
    result = run_verifier(exported, "--public-key", checkpoint["public_key"])
    assert result.returncode == 1, result.stdout
    assert result.stdout.splitlines() == [
        f"audit log: no checkpoint signed by the given key covers its end (seq {len(entries)}); "
        "nothing vouches for the entries after seq 0"]


def test_with_a_public_key_entries_past_the_last_checkpoint_are_not_intact(exported):
    entries = read_lines(exported / "audit.jsonl")
    [checkpoint] = read_lines(exported / "checkpoints.jsonl")
    appended = {**entries[-1], "seq": entries[-1]["seq"] + 1, "actor": "mallory"}
    entries.append(appended)
    rehash_from(entries, len(entries) - 1)
    write_lines(exported / "audit.jsonl", entries)
    assert run_verifier(exported).returncode == 0  # the log may grow past its last checkpoint
    result = run_verifier(exported, "--public-key", checkpoint["public_key"])
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"audit log: no checkpoint signed by the given key covers its end (seq {appended['seq']}); "
        f"nothing vouches for the entries after seq {checkpoint['seq']}"]


def first_line_after(exported, replace) -> list[str]:
    """The verifier's lines for the export with its second entry's line replaced."""
    lines = (exported / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    lines[1] = replace(lines[1])
    (exported / "audit.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_verifier(exported)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == ""
    assert "intact" not in result.stdout
    return result.stdout.splitlines()


@pytest.mark.parametrize("replace, expected", [
    (lambda line: line[:-1] + ',"actor":"legit"}',
     'audit.jsonl line 2: the key "actor" appears twice'),
    (lambda line: '{"actor":"mallory",' + line[1:],
     'audit.jsonl line 2: the key "actor" appears twice'),
    (lambda line: line[:-1] + ',"x":NaN}', "audit.jsonl line 2: NaN is not a JSON number"),
    (lambda line: line[:-1] + ',"x":-Infinity}',
     "audit.jsonl line 2: -Infinity is not a JSON number"),
    (lambda line: "[" + line + "]", "audit.jsonl line 2: not a JSON object"),
    (lambda line: "not json", "audit.jsonl line 2: not JSON"),
    (lambda line: line[:-1] + ',"x":' + "[" * 100_000 + "]" * 100_000 + "}",
     "audit.jsonl line 2: nested deeper than 64 levels"),
    (lambda line: line[:-1] + ',"x":' + "[" * 70 + "]" * 70 + "}",
     "audit.jsonl line 2: nested deeper than 64 levels"),
    (lambda line: line[:-1] + ',"x":"' + "a" * (17 * 1024 * 1024) + '"}',
     "audit.jsonl line 2: longer than 16 MiB"),
    (lambda line: line.replace('"seq":2', '"seq":"2"'),
     "audit.jsonl line 2: not an audit entry (seq must be a whole number from 1)"),
    (lambda line: line.replace('"seq":2', '"seq":[2]'),
     "audit.jsonl line 2: not an audit entry (seq must be a whole number from 1)"),
    (lambda line: line.replace('"seq":2', '"seq":1'), "audit.jsonl: seq 1 repeats"),
    (lambda line: line.replace('"seq":2', '"seq":9'),
     "audit.jsonl: seq 3 comes after seq 9"),
])
def test_malformed_lines_are_named_not_intact_never_a_traceback(exported, replace, expected):
    assert expected in first_line_after(exported, replace)


def test_a_damaged_checkpoint_or_seal_file_is_not_intact(exported):
    (exported / "checkpoints.jsonl").write_text('{"seq": [1], "hash": {}}\n')
    result = run_verifier(exported)
    assert (result.returncode, result.stderr) == (1, "")
    assert "checkpoints.jsonl line 1: not a checkpoint" in result.stdout
    (exported / "checkpoints.jsonl").write_text("")
    (exported / "seal.json").write_text('{"format": 1, "format": 2}')
    result = run_verifier(exported)
    assert (result.returncode, result.stderr) == (1, "")
    assert 'seal.json: the key "format" appears twice' in result.stdout


def test_wrong_usage_exits_2(exported):
    result = run_verifier(exported, "--no-such-option")
    assert result.returncode == 2
    assert result.stdout == ""
