"""The audit hash chain, in Python's standard library only (the offline verifier reuses it)."""

import hashlib
import json

GENESIS_HASH = "0" * 64
# The JSON string encoder json.dumps itself uses when ensure_ascii=False.
_string = json.encoder.encode_basestring


def canonical_json(value) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: dict) -> str:
    """SHA-256 over the canonical JSON of every field of the entry but `hash` itself."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def canonical_entry_text(seq, occurred_at, actor, action, entity, entity_id, case_ref, change,
                         prev_hash) -> str | None:
    """The canonical JSON of an entry's fields, `hash` left out, with `change` given as JSON text
    and put in as it is: the same text as canonical_json of the entry whenever that text is
    canonical, as the log writes it. None when a field is not of the type the log writes."""
    if type(seq) is not int or type(change) is not str:
        return None
    try:
        return (f'{{"action":{_string(action)},"actor":{_string(actor)},"case_ref":'
                f'{"null" if case_ref is None else _string(case_ref)},"change":{change},'
                f'"entity":{_string(entity)},"entity_id":{_string(entity_id)},'
                f'"occurred_at":{_string(occurred_at)},"prev_hash":{_string(prev_hash)},'
                f'"seq":{seq}}}')
    except TypeError:  # not a string
        return None


def missing(expected_seq: int, seq) -> tuple[int, str]:
    return expected_seq, f"audit seq {expected_seq}: missing (found seq {seq} next)"


def unlinked(seq: int) -> tuple[int, str]:
    return seq, f"audit seq {seq}: prev_hash does not match the hash of seq {seq - 1}"


def altered(seq: int) -> tuple[int, str]:
    return seq, f"audit seq {seq}: contents do not match its hash"


def verify_entries(entries, start_seq: int = 1, start_prev: str = GENESIS_HASH):
    """Walk entries in order; return (count, problem) where problem names the first broken seq."""
    expected_seq, prev = start_seq, start_prev
    count = 0
    for entry in entries:
        seq = entry.get("seq")
        if seq != expected_seq:
            return count, missing(expected_seq, seq)
        if entry.get("prev_hash") != prev:
            return count, unlinked(seq)
        if entry_hash(entry) != entry.get("hash"):
            return count, altered(seq)
        prev = entry["hash"]
        expected_seq += 1
        count += 1
    return count, None
