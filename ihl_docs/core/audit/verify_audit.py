#!/usr/bin/env python3
"""Check an exported audit log offline, with nothing but Python's standard library.

    python3 verify_audit.py DIR [--checkpoints FILE] [--public-key HEX]

DIR holds audit.jsonl (one entry a line) and checkpoints.jsonl (signed chain heads). The script
recomputes every entry's SHA-256 and its link to the one before, checks each checkpoint's Ed25519
signature (RFC 8032) and that the log still has, at the checkpoint's seq, the hash that was
signed. --checkpoints adds checkpoints kept elsewhere (e.g. published earlier); --public-key
accepts only checkpoints signed by that key (hex of its 32 raw bytes); without it, the key in
DIR/public_key.txt is the one accepted, if that file is there.

A full export (`ihl audit export`) holds every entry whole; a redacted entry there is a forgery.
A case export (`ihl export`, a case bag) holds the log up to the checkpoint signed for it, the
entries of the case in full and every other entry redacted to its seq, prev_hash and hash.
A redacted entry's hash cannot be recomputed, so DIR/seal.json, signed with the checkpoint key,
vouches for the bag: its case, the checkpoint it ends at (seq and hash), the seq and hash of
every entry of the case and of every redacted one, and the SHA-256 of the case's record files.
The log must end at that checkpoint, every entry must be either the case's or redacted and listed
so, every pair the seal lists must be in the log; every record file is re-hashed, every evidence
file under DIR/files held against its name (its SHA-256), the other payload files against the
bag's manifest.

--public-key (hex of the 32 raw bytes of the instance's checkpoint key) also demands a checkpoint
signed by that key at the log's last entry: without one, nothing vouches for the entries after
the last checkpoint, and a log rewritten whole (checkpoints deleted) would otherwise pass.

Every line must be one JSON object, with no key twice, no NaN or Infinity, nested at most
MAX_DEPTH levels and at most MAX_LINE bytes long; seqs must run 1, 2, 3 … Anything else is named.

Prints "intact" and what was checked, and exits 0; or prints each problem, the first broken seq
first, and exits 1. Exits 2 on wrong usage: no such folder, or no audit.jsonl in it.
"""

import argparse
import hashlib
import json
import os
import stat
import sys

GENESIS_HASH = "0" * 64


# -- The hash chain (the same rules as the application's) ----------------------------------------

def canonical_json(value) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: dict) -> str:
    """SHA-256 over the canonical JSON of every field of the entry but `hash` itself."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def chain_problem(entries):
    """The first break of the chain as (seq, message), or None."""
    expected_seq, prev = 1, GENESIS_HASH
    for entry in entries:
        seq = entry.get("seq")
        if seq != expected_seq:
            return expected_seq, f"audit seq {expected_seq}: missing (found seq {seq} next)"
        if entry.get("prev_hash") != prev:
            return seq, f"audit seq {seq}: prev_hash does not match the hash of seq {seq - 1}"
        if is_redacted(entry):
            if not _is_digest(entry.get("hash")):
                return seq, f"audit seq {seq}: redacted entry without a hash"
        elif entry_hash(entry) != entry.get("hash"):
            return seq, f"audit seq {seq}: contents do not match its hash"
        prev = entry["hash"]
        expected_seq += 1
    return None


def is_redacted(entry: dict) -> bool:
    """An entry of another case in a case export: only its seq, prev_hash and hash are there."""
    return entry.get("redacted") is True


def _is_digest(value) -> bool:
    return (isinstance(value, str) and len(value) == 64
            and all(c in "0123456789abcdef" for c in value))


# -- Checkpoints --------------------------------------------------------------------------------

def checkpoint_message(checkpoint: dict) -> bytes:
    """The bytes a checkpoint's signature covers: its seq, hash and time, canonical JSON."""
    signed = {k: checkpoint.get(k) for k in ("seq", "hash", "occurred_at")}
    return canonical_json(signed).encode("utf-8")


def checkpoint_problems(checkpoints, hash_at: dict, last_seq: int, signature_ok,
                        public_key: str | None = None):
    """(seq, message) for each checkpoint that is not validly signed or that the log no longer
    matches. `hash_at` maps seq -> hash stored in the log (at least at the checkpoints' seqs);
    `signature_ok(public_key_hex, signature_hex, message)` checks one signature."""
    problems, matched, beyond = [], 0, []
    for cp in sorted(checkpoints, key=_seq_of):
        seq = cp.get("seq")
        if not _trusted(cp, public_key):
            problems.append((_seq_of(cp), f"audit checkpoint at seq {seq}: signed by another key "
                                          f"({str(cp.get('public_key'))[:16]}…)"))
        elif not _signature_ok(signature_ok, cp):
            problems.append((_seq_of(cp), f"audit checkpoint at seq {seq}: signature does not "
                                          "verify"))
        elif _seq_of(cp) > last_seq:
            beyond.append(seq)  # reported once below
        elif hash_at.get(seq) != cp.get("hash"):
            found = f"log has {str(hash_at[seq])[:16]}…" if hash_at.get(seq) else "log has no entry"
            problems.append((_seq_of(cp), f"audit seq {seq}: differs from signed checkpoint "
                                          f"(signed hash {str(cp.get('hash'))[:16]}…, {found}): "
                                          f"an entry after seq {matched} up to seq {seq} was "
                                          "changed"))
        else:
            matched = seq
    if beyond:
        problems.append((last_seq + 1, f"audit log truncated: checkpoint at seq {max(beyond)}, "
                                       f"log ends at {last_seq}"))
    return problems


def _seq_of(cp: dict) -> int:
    seq = cp.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def _trusted(cp: dict, public_key: str | None) -> bool:
    return not public_key or cp.get("public_key") == public_key


def _signature_ok(signature_ok, cp: dict) -> bool:
    return _signed(signature_ok, cp.get("public_key"), cp.get("signature"),
                   checkpoint_message(cp))


def _signed(signature_ok, public_key, signature, message: bytes) -> bool:
    try:
        return bool(signature_ok(str(public_key), str(signature), message))
    except ValueError:
        return False


# -- What the export is: a full audit log, or a case bag with its seal ----------------------------

SEAL_FORMAT = "ihl_docs case seal 2"
SEAL_KIND = "case bag"
EXPORT_FORMAT = "ihl_docs audit export 1"
EXPORT_KIND = "full audit log"
SEAL_FIELDS = ("format", "kind", "case_ref", "seq", "hash", "entries", "redacted", "files")
NO_SEQ = sys.maxsize  # sorts problems that concern no seq (a record file) last


def seal_message(seal: dict) -> bytes:
    """The bytes a seal's signature covers: every field but the key and the signature."""
    return canonical_json({k: seal.get(k) for k in SEAL_FIELDS}).encode("utf-8")


def kind_problems(entries, seal, marker):
    """(seq, message) for what does not fit the kind of export: without a seal, the export is a
    full audit log and holds no redacted entry; export.json, if there, must say the same."""
    problems = []
    if marker is not None and marker != {"format": EXPORT_FORMAT, "kind": EXPORT_KIND}:
        problems.append((0, f"export.json: not a full audit log export ({EXPORT_FORMAT})"))
    elif marker is not None and seal is not None:
        problems.append((0, "export.json says this is a full audit log, yet there is a case "
                            "seal (seal.json): one of them was put there"))
    stubs = [e["seq"] for e in entries if is_redacted(e)] if seal is None else []
    if stubs:
        problems.append((stubs[0], f"audit seq {stubs[0]}: redacted, but there is no case seal "
                                   "(seal.json) and a full audit log holds every entry whole "
                                   f"({len(stubs)} redacted)"))
    return problems


def seal_problems(entries, checkpoints, seal, signature_ok, public_key: str | None = None):
    """(seq, message) for a case bag that its seal does not vouch for: a seal not validly
    signed (by the trusted key), a log that does not end at the sealed checkpoint, no signed
    checkpoint there, an entry neither the case's nor redacted as listed, a listed pair the log
    lacks or holds with another hash."""
    if not _trusted(seal, public_key):
        return [(0, f"case seal: signed by another key ({str(seal.get('public_key'))[:16]}…)")]
    if not _signed(signature_ok, seal.get("public_key"), seal.get("signature"),
                   seal_message(seal)):
        return [(0, "case seal: signature does not verify")]
    problems = _seal_end_problems(entries, checkpoints, seal, signature_ok)
    case_entries, stubs = dict(seal["entries"]), dict(seal["redacted"])
    seen, twice = set(), set()
    for seq, _ in seal["entries"] + seal["redacted"]:
        (twice if seq in seen else seen).add(seq)
    problems += [(seq, f"audit seq {seq}: listed twice in the case seal") for seq in sorted(twice)]
    for entry in entries:
        problems += _sealed_entry_problems(entry, seal["case_ref"], case_entries, stubs)
    in_log = {e["seq"] for e in entries}
    problems += [(seq, f"audit seq {seq}: missing, but the case seal lists it")
                 for seq in sorted((set(case_entries) | set(stubs)) - in_log)]
    return problems


def _seal_end_problems(entries, checkpoints, seal, signature_ok):
    """The bag's log must end at the checkpoint the seal names, signed with the seal's key."""
    problems, seq, digest = [], seal["seq"], seal["hash"]
    last = entries[-1] if entries else {"seq": 0, "hash": None}
    if (last["seq"], last["hash"]) != (seq, digest):
        problems.append((min(seq, last["seq"]), f"audit log: ends at seq {last['seq']}, but "
                         "the case seal was signed "
                         f"for a bag ending at seq {seq}"))
    if not any((cp["seq"], cp["hash"], cp["public_key"]) == (seq, digest, seal["public_key"])
               and _signature_ok(signature_ok, cp) for cp in checkpoints):
        problems.append((seq, f"case seal: no checkpoint signed with its key at seq {seq}, "
                              "where the bag ends"))
    return problems


def _sealed_entry_problems(entry, case_ref, case_entries, stubs):
    seq, digest = entry["seq"], entry["hash"]
    if is_redacted(entry):
        if seq in case_entries:
            return [(seq, f"audit seq {seq}: redacted, but the case seal lists it as an entry "
                          f"of case {case_ref}")]
        listed = stubs.get(seq)
    else:
        if entry.get("case_ref") != case_ref:
            return [(seq, f"audit seq {seq}: an entry not of case {case_ref}, whole in the bag "
                          "of that case (the case seal lists only the case's entries whole)")]
        listed = case_entries.get(seq)
    if listed is None:
        return [(seq, f"audit seq {seq}: not listed in the case seal")]
    if listed != digest:
        return [(seq, f"audit seq {seq}: differs from the signed case seal (sealed hash "
                      f"{listed[:16]}…, log has {digest[:16]}…)")]
    return []


def cover_problems(entries, checkpoints, signature_ok, public_key: str):
    """(seq, message) if no checkpoint signed by `public_key` is at the log's last entry with
    its hash: nothing would vouch for the entries after the last one that is."""
    last = entries[-1] if entries else {"seq": 0, "hash": None}
    hash_at = {e["seq"]: e["hash"] for e in entries}
    valid = [cp for cp in checkpoints if cp["public_key"] == public_key
             and hash_at.get(cp["seq"]) == cp["hash"]]
    if any(cp["seq"] == last["seq"] and _signature_ok(signature_ok, cp) for cp in valid):
        return []
    vouched = max((cp["seq"] for cp in valid if cp["seq"] < last["seq"]
                   and _signature_ok(signature_ok, cp)), default=0)
    return [(last["seq"], f"audit log: no checkpoint signed by the given key covers its end "
                          f"(seq {last['seq']}); nothing vouches for the entries after seq "
                          f"{vouched}")]


def seal_file_problems(seal, directory: str):
    """(NO_SEQ, message) for each record file the seal names that is missing or differs."""
    problems = []
    files = (seal or {}).get("files") or {}
    for name in sorted(files):
        if not name or "/" in name or "\\" in name or name.startswith("."):
            problems.append((NO_SEQ, f"case seal: {name!r} is not a file name in the folder"))
            continue
        digest = _file_sha256(os.path.join(directory, name))
        if digest is None:
            problems.append((NO_SEQ, f"{name}: missing (or not a regular file), but the case "
                                     "seal lists it"))
        elif digest != files[name]:
            problems.append((NO_SEQ, f"{name}: differs from the signed case seal"))
    return problems


def payload_problems(directory: str):
    """(NO_SEQ, message) for the evidence files of a case export: each file under files/ must
    be a regular file that hashes to its name, and each one the bag's manifest (beside the
    folder) lists must be there; the other payload files must have the SHA-256 the manifest
    gives."""
    problems = []
    files = os.path.join(directory, "files")
    names = sorted(os.listdir(files)) if os.path.isdir(files) else []
    for name in names:
        digest = _file_sha256(os.path.join(files, name))
        if digest != name:
            problems.append((NO_SEQ, f"files/{name}: content does not match its name (sha256 "
                                     f"{digest or 'unreadable, or not a regular file'})"))
    bag = os.path.dirname(os.path.abspath(directory))
    for expected, relative in _manifest(os.path.join(bag, "manifest-sha256.txt")):
        inside = relative.removeprefix("data/")
        if inside.startswith("files/"):
            if inside.removeprefix("files/") not in names:
                problems.append((NO_SEQ, f"{inside}: missing, but the bag's manifest lists it"))
        elif _file_sha256(os.path.join(bag, relative)) != expected:
            problems.append((NO_SEQ, f"{inside}: differs from the bag's manifest"))
    return problems


def _manifest(path: str) -> list[tuple[str, str]]:
    """(sha256, path) of each line of a BagIt manifest; none if there is no manifest."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    pairs = []
    for line in lines:
        digest, _, relative = line.partition(" ")
        relative = relative.strip()
        if digest and relative.startswith("data/") and ".." not in relative.split("/"):
            pairs.append((digest.lower(), relative))
    return pairs


def _file_sha256(path: str) -> str | None:
    """The SHA-256 of the regular file at `path` (a symbolic link is not followed), or None."""
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        try:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)
        except OSError:
            return None
    return digest.hexdigest()


# -- Ed25519 verification, RFC 8032 section 5.1.7 (points in extended coordinates) --------------

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa, bb = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    cc, dd = 2 * t1 * t2 * D % P, 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return e * f % P, g * h % P, f * g % P, e * h % P


def _multiply(scalar: int, point):
    result = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _same(a, b) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _decode_point(data: bytes):
    """The curve point of a 32-byte encoding, or None if it encodes none (RFC 8032 5.1.3)."""
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return x, y, 1, x * y % P


BASE = _decode_point((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is a valid Ed25519 signature of `message` by `public_key`."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _decode_point(public_key), _decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(),
                       "little") % L
    return _same(_multiply(s, BASE), _add(r, _multiply(k, a)))


def signature_ok(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    """ed25519_verify on hex-encoded key and signature."""
    return ed25519_verify(bytes.fromhex(public_key_hex), message, bytes.fromhex(signature_hex))


# -- Reading: one JSON object a line, strictly ---------------------------------------------------

MAX_LINE = 16 * 1024 * 1024  # bytes in one line of audit.jsonl or checkpoints.jsonl
MAX_DEPTH = 64  # arrays and objects within each other
MAX_FILE = 256 * 1024 * 1024  # bytes in one JSON file (seal.json, a record file of a bag)


class Unreadable(Exception):
    """A file that cannot be read at all: the folder given is not an export (wrong usage)."""


class Malformed(Unreadable):
    """A file read, but not what an export holds: a finding, named where it is."""


class _Refused(ValueError):
    pass


def _no_key_twice(pairs):
    found = {}
    for key, value in pairs:
        if key in found:
            raise _Refused(f"the key {canonical_json(key)} appears twice")
        found[key] = value
    return found


def _no_constant(name):
    raise _Refused(f"{name} is not a JSON number")


def _finite(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(f"{text} is too large for a JSON number")
    return value


def _depth_over(value, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit` in `value` (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else None
        if children is None:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def loads_strict(text: str, where: str):
    """The JSON value of `text`, refused (Malformed, naming `where`) for a key given twice,
    NaN or Infinity, or nesting deeper than MAX_DEPTH."""
    try:
        value = json.loads(text, object_pairs_hook=_no_key_twice, parse_constant=_no_constant,
                           parse_float=_finite)
    except _Refused as exc:
        raise Malformed(f"{where}: {exc}") from None
    except RecursionError:
        raise Malformed(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise Malformed(f"{where}: not JSON") from None
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_over(value, MAX_DEPTH):
        raise Malformed(f"{where}: nested deeper than {MAX_DEPTH} levels")
    return value


def _lines(f, name: str):
    """(number, text) of each line of the open binary file; refused if one is too long or not
    UTF-8."""
    number = 0
    while line := f.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            raise Malformed(f"{name} line {number}: longer than {MAX_LINE // 1024 // 1024} MiB")
        try:
            yield number, line.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed(f"{name} line {number}: not UTF-8 text") from None


def read_jsonl(path: str, shape=None, name: str | None = None) -> list:
    """The JSON objects of the file, one a line (blank lines skipped); `shape(item)` names what
    is wrong with one, if anything. Unreadable if the file cannot be opened, Malformed (naming
    the line) if a line is not acceptable."""
    name = name or path
    try:
        with open(path, "rb") as f:
            return _items(f, shape, name)
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None


def _items(f, shape, name: str) -> list:
    items = []
    for number, line in _lines(f, name):
        if not line.strip():
            continue
        item = loads_strict(line, f"{name} line {number}")
        if not isinstance(item, dict):
            raise Malformed(f"{name} line {number}: not a JSON object")
        wrong = shape(item) if shape else None
        if wrong:
            raise Malformed(f"{name} line {number}: {wrong}")
        items.append(item)
    return items


def read_optional_json(path: str, shape=None, name: str | None = None):
    """The JSON object in the file at `path`, or None if there is no such file; Malformed if it
    is larger than MAX_FILE, not an acceptable object, or `shape(value)` names a fault."""
    name = name or path
    value = read_json(path, name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Malformed(f"{name}: not a JSON object")
    wrong = shape(value) if shape else None
    if wrong:
        raise Malformed(f"{name}: {wrong}")
    return value


def read_json(path: str, name: str):
    """The JSON value in the file at `path` (a symbolic link is not followed), or None if there
    is no such file; Malformed if it is larger than MAX_FILE or not strict JSON."""
    try:
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as f:
            data = f.read(MAX_FILE + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE:
        raise Malformed(f"{name}: larger than {MAX_FILE // 1024 // 1024} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(f"{name}: not UTF-8 text") from None
    return loads_strict(text, name)


def read_public_key(directory: str) -> str | None:
    """The key named in DIR/public_key.txt (hex), or None if there is no such file."""
    try:
        with open(f"{directory}/public_key.txt", encoding="utf-8") as f:
            return f.read(1024).strip().lower() or None
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"cannot read {directory}/public_key.txt: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None


# -- The shapes of what is read -------------------------------------------------------------------

def _is_seq(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_hex(value, length: int) -> bool:
    return (isinstance(value, str) and len(value) == length
            and all(c in "0123456789abcdef" for c in value))


def entry_shape(entry: dict) -> str | None:
    """What keeps `entry` from being an audit entry (or a redacted one), or None."""
    if not _is_seq(entry.get("seq")):
        return "not an audit entry (seq must be a whole number from 1)"
    if not (_is_digest(entry.get("prev_hash")) and _is_digest(entry.get("hash"))):
        return "not an audit entry (prev_hash and hash must be SHA-256 digests, lowercase hex)"
    if "redacted" in entry and (entry["redacted"] is not True
                                or set(entry) != {"seq", "prev_hash", "hash", "redacted"}):
        return "not a redacted entry (only seq, prev_hash, hash and redacted: true)"
    return None


def checkpoint_shape(cp: dict) -> str | None:
    if not (_is_seq(cp.get("seq")) and _is_digest(cp.get("hash"))
            and isinstance(cp.get("occurred_at"), str) and _is_hex(cp.get("public_key"), 64)
            and _is_hex(cp.get("signature"), 128)):
        return ("not a checkpoint (seq, hash, occurred_at, public_key and signature, keys and "
                "signatures in lowercase hex)")
    return None


def _pairs(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and _is_seq(p[0]) and _is_digest(p[1])
        for p in value)


def seal_shape(seal: dict) -> str | None:
    if seal.get("format") != SEAL_FORMAT:
        return (f"not a case seal of the format this verifier reads ({SEAL_FORMAT}); it says "
                f"{str(seal.get('format'))[:40]!r}: export the case again")
    files = seal.get("files")
    if not (seal.get("kind") == SEAL_KIND and isinstance(seal.get("case_ref"), str)
            and seal["case_ref"] and _is_seq(seal.get("seq")) and _is_digest(seal.get("hash"))
            and _pairs(seal.get("entries")) and _pairs(seal.get("redacted"))
            and isinstance(files, dict) and all(_is_digest(d) for d in files.values())
            and _is_hex(seal.get("public_key"), 64) and _is_hex(seal.get("signature"), 128)):
        return ("not a case seal (kind, case_ref, seq, hash, entries, redacted, files, "
                "public_key and signature)")
    return None


def order_problems(entries) -> list:
    """(seq, message) for the first seq that repeats or comes after a higher one."""
    seen, highest = set(), 0
    for entry in entries:
        seq = entry["seq"]
        if seq in seen:
            return [(seq, f"audit.jsonl: seq {seq} repeats")]
        if seq < highest:
            return [(seq, f"audit.jsonl: seq {seq} comes after seq {highest}")]
        seen.add(seq)
        highest = seq
    return []


# -- The verdict ----------------------------------------------------------------------------------

def problems_in(entries: list, checkpoints: list, public_key: str | None = None,
                seal: dict | None = None, directory: str | None = None, *,
                cover: bool = False, marker: dict | None = None) -> list:
    """Every problem found, as messages, the lowest seq first. `seal`: the case seal of a case
    export (the export is a full audit log without one); `directory`: where the record files it
    names are; `cover`: demand a checkpoint by `public_key` at the log's last entry; `marker`:
    export.json, if the export has one."""
    found = []
    broken = chain_problem(entries)
    if broken:
        found.append(broken)
    found += order_problems(entries)
    hash_at = {e["seq"]: e["hash"] for e in entries}
    last_seq = max(hash_at, default=0)
    found += checkpoint_problems(checkpoints, hash_at, last_seq, signature_ok, public_key)
    found += kind_problems(entries, seal, marker)
    if cover and public_key:
        found += cover_problems(entries, checkpoints, signature_ok, public_key)
    if seal is not None:
        found += seal_problems(entries, checkpoints, seal, signature_ok, public_key)
        if directory is not None:
            found += seal_file_problems(seal, directory)
            found += payload_problems(directory)
    found.sort(key=lambda problem: problem[0])
    return [message for _, message in found]


def described(entries: list, checkpoints: list, seal: dict | None) -> str:
    """What an intact export was found to be, in one line."""
    last = entries[-1]["seq"] if entries else 0
    signed = max((cp["seq"] for cp in checkpoints), default=0)
    if seal is None:
        return (f"full audit log: seq 1 to {last}, every entry whole; last signed checkpoint at "
                f"seq {signed}" if signed else f"full audit log: seq 1 to {last}, every entry "
                "whole; no signed checkpoint")
    return (f"case bag of {seal['case_ref']}: seq 1 to {last}, {len(seal['entries'])} entries "
            f"of the case whole, {len(seal['redacted'])} others redacted; sealed and "
            f"checkpointed at seq {seal['seq']}")


def read_export(directory: str, more_checkpoints: list[str]):
    """(entries, checkpoints, seal, marker) of the export in `directory`."""
    entries = read_jsonl(f"{directory}/audit.jsonl", entry_shape, "audit.jsonl")
    checkpoints = read_jsonl(f"{directory}/checkpoints.jsonl", checkpoint_shape,
                             "checkpoints.jsonl")
    for path in more_checkpoints:
        checkpoints += read_jsonl(path, checkpoint_shape)
    seal = read_optional_json(f"{directory}/seal.json", seal_shape, "seal.json")
    marker = read_optional_json(f"{directory}/export.json", None, "export.json")
    return entries, checkpoints, seal, marker


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check an exported audit log offline.")
    parser.add_argument("directory", help="the export: audit.jsonl and checkpoints.jsonl")
    parser.add_argument("--checkpoints", action="append", default=[], metavar="FILE",
                        help="more checkpoints (JSON Lines), e.g. ones published earlier")
    parser.add_argument("--public-key", metavar="HEX",
                        help="accept only checkpoints signed by this Ed25519 key, and demand one "
                             "at the log's last entry (default: the key in DIR/public_key.txt, "
                             "if there is that file, without that demand)")
    args = parser.parse_args(argv)
    public_key = args.public_key.strip().lower() if args.public_key else None
    if public_key is not None and not _is_hex(public_key, 64):
        parser.error("--public-key: give the 32-byte Ed25519 key as 64 hex digits")
    try:
        entries, checkpoints, seal, marker = read_export(args.directory, args.checkpoints)
        problems = problems_in(entries, checkpoints,
                               public_key or read_public_key(args.directory), seal,
                               args.directory, cover=public_key is not None, marker=marker)
    except Malformed as exc:
        print(exc)
        return 1
    except Unreadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if not problems:
        print("intact")
        print(described(entries, checkpoints, seal))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
