"""The audit hash chain, in Python's standard library only (the offline verifier reuses it)."""

import hashlib
import json

GENESIS_HASH = "0" * 64


def canonical_json(value) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: dict) -> str:
    """SHA-256 over the canonical JSON of every field of the entry but `hash` itself."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def verify_entries(entries, start_seq: int = 1, start_prev: str = GENESIS_HASH):
    """Walk entries in order; return (count, problem) where problem names the first broken seq."""
    expected_seq, prev = start_seq, start_prev
    count = 0
    for entry in entries:
        seq = entry.get("seq")
        if seq != expected_seq:
            return count, (expected_seq, f"audit seq {expected_seq}: missing (found seq {seq} next)")
        if entry.get("prev_hash") != prev:
            return count, (seq, f"audit seq {seq}: prev_hash does not match the hash of seq {seq - 1}")
        if entry_hash(entry) != entry.get("hash"):
            return count, (seq, f"audit seq {seq}: contents do not match its hash")
        prev = entry["hash"]
        expected_seq += 1
        count += 1
    return count, None
