#!/usr/bin/env python3
"""Check an exported audit log offline, with nothing but Python's standard library.

    python3 verify_audit.py DIR [--checkpoints FILE] [--public-key HEX]

DIR holds audit.jsonl (one entry a line) and checkpoints.jsonl (signed chain heads). The script
recomputes every entry's SHA-256 and its link to the one before, checks each checkpoint's Ed25519
signature (RFC 8032) and that the log still has, at the checkpoint's seq, the hash that was
signed. --checkpoints adds checkpoints kept elsewhere (e.g. published earlier); --public-key
accepts only checkpoints signed by that key (hex of its 32 raw bytes); without it, the key in
DIR/public_key.txt is the one accepted, if that file is there.

A case export (`ihl export`) holds the log with the entries of other cases redacted to their seq,
prev_hash and hash. A redacted entry's hash is taken as given and its link to the one before is
checked. Its hash cannot be recomputed, so the chain alone no longer protects the case's entries
around it; DIR/seal.json does: the seq and hash of every case entry, and the SHA-256 of the case's
record files, signed with the checkpoint key at the export. Every case entry is recomputed and
held against the seal, every record file re-hashed, every evidence file under DIR/files held
against its name (its SHA-256), and the other payload files against the bag's manifest.

Prints "intact" and exits 0; or prints each problem, the first broken seq first, and exits 1.
Exits 2 if the input cannot be read.
"""

import argparse
import hashlib
import json
import os
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
    try:
        return bool(signature_ok(str(cp.get("public_key")), str(cp.get("signature")),
                                 checkpoint_message(cp)))
    except ValueError:
        return False


# -- The case seal of a case export ----------------------------------------------------------------

SEAL_FIELDS = ("format", "case_ref", "seq", "hash", "entries", "files")
NO_SEQ = sys.maxsize  # sorts problems that concern no seq (a record file) last


def seal_message(seal: dict) -> bytes:
    """The bytes a seal's signature covers: every field but the key and the signature."""
    return canonical_json({k: seal.get(k) for k in SEAL_FIELDS}).encode("utf-8")


def seal_problems(entries, seal, signature_ok, public_key: str | None = None):
    """(seq, message) for a seal that is not validly signed, and for each case entry the log
    does not hold as sealed (missing, redacted, or with another hash)."""
    if seal is None:
        first = next((e for e in entries if is_redacted(e)), None)
        if first is None:
            return []
        return [(_seq_of(first), f"audit seq {first.get('seq')}: redacted, and there is no case "
                                 "seal (seal.json) to hold the case's entries against")]
    if not _trusted(seal, public_key):
        return [(0, f"case seal: signed by another key ({str(seal.get('public_key'))[:16]}…)")]
    try:
        signed = bool(signature_ok(str(seal.get("public_key")), str(seal.get("signature")),
                                   seal_message(seal)))
    except ValueError:
        signed = False
    if not signed:
        return [(0, "case seal: signature does not verify")]
    by_seq = {e.get("seq"): e for e in entries}
    problems = []
    sealed = [pair for pair in seal.get("entries") or [] if isinstance(pair, list)]
    for seq, digest in sealed + [[seal.get("seq"), seal.get("hash")]]:
        entry = by_seq.get(seq)
        if entry is None:
            problems.append((_int(seq), f"audit seq {seq}: missing, but the case seal lists it"))
        elif is_redacted(entry) and [seq, digest] in sealed:
            problems.append((_int(seq), f"audit seq {seq}: redacted, but the case seal lists "
                                        f"it as an entry of case {seal.get('case_ref')}"))
        elif entry.get("hash") != digest:
            problems.append((_int(seq), f"audit seq {seq}: differs from the signed case seal "
                                        f"(sealed hash {str(digest)[:16]}…, log has "
                                        f"{str(entry.get('hash'))[:16]}…)"))
    return problems


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
            problems.append((NO_SEQ, f"{name}: missing, but the case seal lists it"))
        elif digest != files[name]:
            problems.append((NO_SEQ, f"{name}: differs from the signed case seal"))
    return problems


def payload_problems(directory: str):
    """(NO_SEQ, message) for the evidence files of a case export: each file under files/ must
    hash to its name, and each one the bag's manifest (beside the folder) lists must be there;
    the other payload files must have the SHA-256 the manifest gives."""
    problems = []
    files = os.path.join(directory, "files")
    names = sorted(os.listdir(files)) if os.path.isdir(files) else []
    for name in names:
        digest = _file_sha256(os.path.join(files, name))
        if digest != name:
            problems.append((NO_SEQ, f"files/{name}: content does not match its name (sha256 "
                                     f"{digest or 'unreadable'})"))
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
    except OSError:
        return []
    pairs = []
    for line in lines:
        digest, _, relative = line.partition(" ")
        relative = relative.strip()
        if digest and relative.startswith("data/") and ".." not in relative.split("/"):
            pairs.append((digest.lower(), relative))
    return pairs


def _file_sha256(path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _int(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


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


# -- The command ----------------------------------------------------------------------------------

class Unreadable(Exception):
    """The input is missing or is not JSON Lines of objects."""


def read_jsonl(path: str) -> list:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise Unreadable(f"{path} line {number}: not JSON") from None
        if not isinstance(item, dict):
            raise Unreadable(f"{path} line {number}: not a JSON object")
        items.append(item)
    return items


def read_optional_json(path: str):
    """The JSON object in the file at `path`, or None if there is no such file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        value = json.loads(text)
    except ValueError:
        raise Unreadable(f"{path}: not JSON") from None
    if not isinstance(value, dict):
        raise Unreadable(f"{path}: not a JSON object")
    return value


def read_public_key(directory: str) -> str | None:
    """The key named in DIR/public_key.txt (hex), or None if there is no such file."""
    try:
        with open(f"{directory}/public_key.txt", encoding="utf-8") as f:
            return f.read().strip().lower() or None
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"cannot read {directory}/public_key.txt: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None


def problems_in(entries: list, checkpoints: list, public_key: str | None = None,
                seal: dict | None = None, directory: str | None = None) -> list:
    """Every problem found, as messages, the lowest seq first. `seal`: the case seal of a case
    export; `directory`: where the record files it names are."""
    found = []
    broken = chain_problem(entries)
    if broken:
        found.append(broken)
    hash_at = {e.get("seq"): e.get("hash") for e in entries}
    last_seq = max((s for s in hash_at if isinstance(s, int)), default=0)
    found += checkpoint_problems(checkpoints, hash_at, last_seq, signature_ok, public_key)
    found += seal_problems(entries, seal, signature_ok, public_key)
    if seal is not None and directory is not None:
        found += seal_file_problems(seal, directory)
        found += payload_problems(directory)
    found.sort(key=lambda problem: problem[0] if isinstance(problem[0], int) else 0)
    return [message for _, message in found]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check an exported audit log offline.")
    parser.add_argument("directory", help="the export: audit.jsonl and checkpoints.jsonl")
    parser.add_argument("--checkpoints", action="append", default=[], metavar="FILE",
                        help="more checkpoints (JSON Lines), e.g. ones published earlier")
    parser.add_argument("--public-key", metavar="HEX",
                        help="accept only checkpoints signed by this Ed25519 key (default: the "
                             "one in DIR/public_key.txt, if there is that file)")
    args = parser.parse_args(argv)
    try:
        entries = read_jsonl(f"{args.directory}/audit.jsonl")
        checkpoints = read_jsonl(f"{args.directory}/checkpoints.jsonl")
        for path in args.checkpoints:
            checkpoints += read_jsonl(path)
        seal = read_optional_json(f"{args.directory}/seal.json")
        public_key = (args.public_key.lower() if args.public_key
                      else read_public_key(args.directory))
    except Unreadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = problems_in(entries, checkpoints, public_key, seal, args.directory)
    for problem in problems:
        print(problem)
    if not problems:
        print("intact")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
