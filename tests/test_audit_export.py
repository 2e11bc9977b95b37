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
        "audit.jsonl", "checkpoints.jsonl", "verify_audit.py"]
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
    assert (result.returncode, result.stdout, result.stderr) == (0, "intact\n", "")
    key = checkpoint["public_key"]
    assert run_verifier(exported, "--public-key", key).stdout == "intact\n"
    other = run_verifier(exported, "--public-key", "00" * 32)
    assert other.returncode == 1
    assert "signed by another key" in other.stdout


def test_the_verifier_needs_only_the_standard_library():
    tree = ast.parse(Path(verify_audit.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= {"argparse", "hashlib", "json", "os", "sys"}


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


def test_unreadable_input_exits_2(exported, tmp_path):
    missing = tmp_path / "nothing"
    result = subprocess.run([sys.executable, "-I", "-S", str(exported / "verify_audit.py"),
                             str(missing)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot read" in result.stderr
    assert result.stdout == ""
    (exported / "audit.jsonl").write_text('{"seq": 1}\nnot json\n')
    result = run_verifier(exported)
    assert result.returncode == 2
    assert "line 2: not JSON" in result.stderr


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
    assert run_verifier(exported).stdout == "intact\n"  # what the export alone can show
    result = run_verifier(exported, "--checkpoints", str(kept))
    assert result.returncode == 1
    assert "audit log truncated" in result.stdout
