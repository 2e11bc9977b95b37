"""The offline verifier fuzzed: arbitrary changes to a genuine export's bytes, lines and fields
never make it raise, and never make it say "intact" unless what it read is the genuine log."""

import contextlib
import io
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ihl_docs.core.audit import chain, verify_audit
from ihl_docs.core.audit.signing import public_key_hex

KEY = Ed25519PrivateKey.generate()
PUBLIC = public_key_hex(KEY)
CASE = "FZ-2024-001"
FIELDS = ("occurred_at", "actor", "action", "entity", "entity_id", "case_ref", "change")


def genuine_entries(count=6) -> list[dict]:
    entries, prev = [], chain.GENESIS_HASH
    for seq in range(1, count + 1):
        entry = {"seq": seq, "occurred_at": f"2024-01-0{seq}T00:00:00.000000+00:00",
                 "actor": "ivan@example.org", "action": "create", "entity": "incident",
                 "entity_id": f"{CASE}-I00{seq}", "case_ref": CASE if seq % 2 else "OT-1",
                 "change": {"before": None, "after": {"title": f"Strike {seq}", "n": [seq]}},
                 "prev_hash": prev}
        entry["hash"] = prev = chain.entry_hash(entry)
        entries.append(entry)
    return entries


def signed_checkpoint(entry: dict) -> dict:
    checkpoint = {"seq": entry["seq"], "hash": entry["hash"], "occurred_at": entry["occurred_at"],
                  "signed_at": entry["occurred_at"], "public_key": PUBLIC}
    checkpoint["signature"] = KEY.sign(verify_audit.checkpoint_message(checkpoint)).hex()
    return checkpoint


def lines_of(items: list[dict]) -> bytes:
    return "".join(chain.canonical_json(i) + "\n" for i in items).encode("utf-8")


def genuine_export(bag: bool) -> dict[str, bytes]:
    """File name -> bytes of a genuine full export, or of a genuine case bag (no record files)."""
    entries = genuine_entries()
    files = {"checkpoints.jsonl": lines_of([signed_checkpoint(entries[-1])])}
    if not bag:
        files["audit.jsonl"] = lines_of(entries)
        files["export.json"] = lines_of([{"format": verify_audit.EXPORT_FORMAT,
                                          "kind": verify_audit.EXPORT_KIND}])
        return files
    whole = [e for e in entries if e["case_ref"] == CASE]
    stubs = [{"seq": e["seq"], "prev_hash": e["prev_hash"], "hash": e["hash"], "redacted": True}
             for e in entries if e["case_ref"] != CASE]
    seal = {"format": verify_audit.SEAL_FORMAT, "kind": verify_audit.SEAL_KIND, "case_ref": CASE,
            "seq": entries[-1]["seq"], "hash": entries[-1]["hash"],
            "entries": [[e["seq"], e["hash"]] for e in whole],
            "redacted": [[e["seq"], e["hash"]] for e in stubs], "files": {}, "public_key": PUBLIC}
    seal["signature"] = KEY.sign(verify_audit.seal_message(seal)).hex()
    files["audit.jsonl"] = lines_of(sorted(whole + stubs, key=lambda e: e["seq"]))
    files["seal.json"] = json.dumps(seal).encode("utf-8")
    return files


GENUINE = {False: genuine_export(False), True: genuine_export(True)}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8)


@st.composite
def byte_change(draw, data: bytes) -> bytes:
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    kind = draw(st.sampled_from(["flip", "insert", "delete"]))
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data[:at] + data[at + draw(st.integers(1, 8)):]


@st.composite
def line_change(draw, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["delete", "duplicate", "swap", "replace"]))
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[j])
    elif kind == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i] = json.dumps(draw(json_values)).encode("utf-8")
    return b"\n".join(lines)


@st.composite
def field_change(draw, data: bytes) -> bytes:
    """A field of one entry set to any JSON value; the hashes recomputed or not, as a forger
    might."""
    entries = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    entry = draw(st.sampled_from(entries))
    field = draw(st.sampled_from([*FIELDS, "seq", "prev_hash", "hash", "redacted", "extra"]))
    entry[field] = draw(json_values)
    if draw(st.booleans()):
        index = entries.index(entry)
        prev = entries[index - 1]["hash"] if index else chain.GENESIS_HASH
        for later in entries[index:]:
            if isinstance(later, dict) and not later.get("redacted"):
                later["prev_hash"] = prev
                with contextlib.suppress(TypeError, ValueError):
                    later["hash"] = chain.entry_hash(later)
            prev = later.get("hash")
    return "".join(json.dumps(e) + "\n" for e in entries).encode("utf-8")


@st.composite
def tampered(draw):
    bag = draw(st.booleans())
    files = dict(GENUINE[bag])
    name = draw(st.sampled_from(sorted(files)))
    change = draw(st.sampled_from([byte_change, line_change, field_change]
                                  if name == "audit.jsonl" else [byte_change, line_change]))
    files[name] = draw(change(files[name]))
    if draw(st.booleans()) and not bag:  # and perhaps a genuine seal dropped in beside it
        files["seal.json"] = GENUINE[True]["seal.json"]
    return bag, files


def verdict(folder: Path, files: dict[str, bytes]) -> tuple[int, str]:
    for path in folder.iterdir():
        path.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = verify_audit.main([str(folder), "--public-key", PUBLIC])
    return status, out.getvalue()


def read_entries(data: bytes):
    try:
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    except ValueError:
        return None


def test_the_genuine_exports_are_intact(tmp_path):
    for bag in (False, True):
        status, out = verdict(tmp_path, GENUINE[bag])
        assert (status, out.splitlines()[0]) == (0, "intact"), out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(tampered())
def test_no_change_raises_or_passes_unless_the_log_is_the_genuine_one(tmp_path, case):
    bag, files = case
    status, out = verdict(tmp_path, files)  # raising would fail the test
    assert status in (0, 1), out
    if status == 0:
        assert out.splitlines()[0] == "intact"
        assert read_entries(files["audit.jsonl"]) == read_entries(GENUINE[bag]["audit.jsonl"])
        assert "seal.json" not in files or bag
    else:
        assert "intact" not in out.splitlines()[0]
