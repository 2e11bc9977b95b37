#!/usr/bin/env python3
"""Verification benchmark: the audit chain of 1,000,000 entries, and evidence re-hashing.

Two measurements, each against a baseline measured in the same run on the same machine:

1. Audit chain. Generates N audit entries (default 1,000,000) into a fresh SQLite database of an
   instance of its own (and, with --postgres URL, into a temporary PostgreSQL database created
   next to URL's and dropped afterwards): realistic changes (the before/after snapshots of
   incidents and evidence items, creations, updates, reads), chained with the project's
   entry_hash. Then times, each in a fresh process, `verify_chain(session)` (what `ihl verify`
   runs) end to end, and as baselines reading the same rows with the same keyset query and no
   hashing, and hashlib's SHA-256 over the same canonical bytes. Target: 1,000,000 entries in
   under 10 seconds (at least 100,000 entries/s when N differs).
2. Re-hashing. Writes files of varied sizes (default 2 GiB in all) into an evidence store and
   times `EvidenceStore.hash_stored` over all of them against one `openssl dgst -sha256` process
   over the same files. Both are single-threaded. Each runs once to bring the files into the page
   cache (not counted), then they take turns (--repeat, default 3): the figures are warm, best
   of each. Target: at least 0.8 of OpenSSL's throughput.

    python bench/verify.py                                  # 1,000,000 entries, 2 GiB of files
    python bench/verify.py --entries 200000 --size 512M
    python bench/verify.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/verify.py --skip-files     # or --skip-audit

Exit status: 0 when every target is met, 1 when one is missed, 2 when the run failed.
"""

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import postgres_database, run_child

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024
TARGET_SECONDS_PER_MILLION = 10.0
TARGET_RATIO = 0.8
INSERT_BATCH = 20_000


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 2G, 512M)")
    factor = {"": 1, "K": 1024, "M": MiB, "G": 1024 * MiB, "T": 1024 ** 4}[match[2].upper()]
    return max(1, int(float(match[1]) * factor))


# ---- the audit entries --------------------------------------------------------------------------

ACTORS = ["amina.haddad@example.org", "j.okafor@example.org", "l.petrosyan@example.org",
          "m.fernandez@example.org", "system", "s.lindqvist@example.org"]
PLACES = ["Stepanakert", "Shushi", "Martuni", "Hadrut", "Ganja", "Tartar", "Barda", "Mariupol",
          "Kharkiv", "Izium", "Bucha", "Khan Younis", "Deir al-Balah", "Aleppo", "Idlib"]
NARRATIVE = ("Witnesses describe repeated impacts in a residential quarter at dawn; the craters "
             "and fragments photographed the next morning are consistent with artillery fire "
             "from the north-east. Свидетели описывают удары по жилому кварталу. ")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _incident(rng: random.Random, n: int, case_ref: str, moment: datetime, version: int) -> dict:
    place = PLACES[n % len(PLACES)]
    return {
        "id": n, "ref": f"{case_ref}-I{n:04d}", "case_id": 1 + n % 40,
        "title": f"Shelling of residential quarter no. {n} in {place}",
        "incident_type": ("shelling", "rocket", "cluster_munition", "air_strike")[n % 4],
        "occurred_from": _iso(moment - timedelta(days=30 + n % 400)), "occurred_to": None,
        "date_precision": "exact", "place_name": f"Quarter {n % 97}, {place}",
        "admin_area": "Northern district", "country": "ARM",
        "latitude": round(39.8 + rng.random(), 6), "longitude": round(46.7 + rng.random(), 6),
        "location_precision_m": rng.choice([10, 50, 100, 500]),
        "weapon_type": rng.choice(["122 mm artillery", "BM-21 Grad", "cluster munition", None]),
        "munition_details": "Fragments with lot markings." if n % 3 else None,
        "narrative": NARRATIVE[: 80 + (n * 37) % (len(NARRATIVE) - 80)] + f" (v{version})",
        "killed_min": n % 3, "killed_max": n % 3 + 2, "injured_min": 1, "injured_max": 6 + n % 5,
        "civilian_objects": ["residential", "school"][: 1 + n % 2],
        "verification_status": rng.choice(["unverified", "partly_verified", "verified"]),
        "workflow_status": rng.choice(["draft", "review", "approved"]),
        "responsible_party_id": None if n % 5 == 0 else 1 + n % 3,
        "created_at": _iso(moment - timedelta(days=3)), "created_by_id": 1 + n % 6,
        "updated_at": _iso(moment), "version": version,
    }


def _evidence(rng: random.Random, n: int, case_ref: str, moment: datetime, version: int) -> dict:
    return {
        "id": n, "ref": f"{case_ref}-E{n:05d}", "case_id": 1 + n % 40,
        "original_filename": f"IMG_{20200927 + n % 300}_{n:06d}.jpg",
        "sha256": hashlib.sha256(n.to_bytes(8, "big")).hexdigest(),
        "size": rng.randrange(50_000, 12_000_000), "media_type": "image/jpeg",
        "capture_time": _iso(moment - timedelta(hours=n % 5000)),
        "capture_latitude": round(39.8 + rng.random(), 6) if n % 4 else None,
        "capture_longitude": round(46.7 + rng.random(), 6) if n % 4 else None,
        "capture_device": rng.choice(["Apple iPhone 12", "Samsung SM-G991B", None]),
        "metadata_note": "EXIF intact; GPS from the device." if n % 2 else None,
        "parent_id": None, "created_at": _iso(moment), "created_by_id": 1 + n % 6,
        "version": version,
    }


def make_entries(count: int, seed: int = 1):
    """Yield the field dicts of `count` entries, seq 1.., occurred_at increasing, without hashes."""
    rng = random.Random(seed)
    moment = datetime(2024, 1, 8, 7, 0, tzinfo=UTC)
    versions: dict[tuple[str, int], dict] = {}
    for seq in range(1, count + 1):
        moment += timedelta(microseconds=rng.randrange(1, 2_000_000))
        case_ref = f"NK-2020-{1 + seq % 40:03d}"
        kind = rng.random()
        entity = "incident" if kind < 0.45 else "evidence"
        n = rng.randrange(1, 40_000)
        make = _incident if entity == "incident" else _evidence
        key = (entity, n)
        if kind > 0.85:  # a read of evidence bytes: no before, no after
            action, before, after = "read", None, None
            entity = "evidence"
        elif key not in versions:
            action, before = "create", None
            after = versions[key] = make(rng, n, case_ref, moment, 1)
        else:
            action, before = "update", versions[key]
            after = make(rng, n, case_ref, moment, before["version"] + 1)
            versions[key] = after
        if len(versions) > 20_000:
            versions.pop(next(iter(versions)))
        yield {"seq": seq, "occurred_at": _iso(moment), "actor": ACTORS[seq % len(ACTORS)],
               "action": action, "entity": entity, "entity_id": str(n), "case_ref": case_ref,
               "change": {"before": before, "after": after}}


def generate_audit(url: str, count: int) -> dict:
    """Create the schema and insert `count` chained entries; time hashlib over the same bytes."""
    from ihl_docs.core.audit.chain import (
        GENESIS_HASH,
        canonical_entry_text,
        canonical_json,
        entry_hash,
    )
    from ihl_docs.core.db import make_engine
    from ihl_docs.core.models import AuditEntry
    from ihl_docs.core.schema import upgrade

    engine = make_engine(url)
    upgrade(engine)
    table = AuditEntry.__table__
    prev, hashing, size, rows = GENESIS_HASH, 0.0, 0, []
    with engine.begin() as conn:
        for fields in make_entries(count):
            fields["prev_hash"] = prev
            change = canonical_json(fields["change"])  # as audit.record stores it
            data = canonical_entry_text(
                fields["seq"], fields["occurred_at"], fields["actor"], fields["action"],
                fields["entity"], fields["entity_id"], fields["case_ref"], change, prev
            ).encode("utf-8")
            started = time.perf_counter()
            digest = hashlib.sha256(data).hexdigest()
            hashing += time.perf_counter() - started
            if fields["seq"] <= 1000 or fields["seq"] % 997 == 0:  # the project's own hash
                assert digest == entry_hash(fields), f"seq {fields['seq']}"
            size += len(data)
            prev = digest
            rows.append({**fields, "occurred_at": datetime.fromisoformat(fields["occurred_at"]),
                         "change": change, "hash": digest})
            if len(rows) == INSERT_BATCH:
                conn.execute(table.insert(), rows)
                rows = []
        if rows:
            conn.execute(table.insert(), rows)
    engine.dispose()
    return {"hashlib_seconds": hashing, "canonical_bytes": size, "head": prev}


def _timed(run) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return {**result, "seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def measure_verify(url: str) -> dict:
    """verify_chain, what `ihl verify` runs for the audit log, end to end."""
    from ihl_docs.core.audit.log import verify_chain
    from ihl_docs.core.db import make_engine, open_session

    engine = make_engine(url)
    with open_session(engine, write=False) as session:
        def run():
            count, problems = verify_chain(session)
            return {"count": count, "problems": problems[:3]}
        return _timed(run)


def measure_read(url: str) -> dict:
    """The baseline: the rows verify_chain reads, read the same way (same query, same batches),
    and nothing done with them."""
    from ihl_docs.core.audit.log import _stored_rows
    from ihl_docs.core.db import make_engine, open_session

    engine = make_engine(url)
    with open_session(engine, write=False) as session:
        return _timed(lambda: {"count": sum(1 for _ in _stored_rows(session, 20000))})


def _child(args: list[str]) -> dict:
    return run_child(__file__, args)


def bench_audit(label: str, url: str, count: int, repeat: int) -> bool:
    started = time.perf_counter()
    gen = _child(["generate", url, str(count)])
    print(f"[{label}] {count:,} entries generated in {time.perf_counter() - started:.1f} s "
          f"({gen['canonical_bytes'] / count:.0f} canonical bytes per entry on average)")
    verifies, reads = [], []
    for _ in range(repeat):
        reads.append(_child(["read", url]))
        verifies.append(_child(["verify", url]))
    for v in verifies:
        if v["count"] != count or v["problems"]:
            raise RuntimeError(f"verify_chain found {v['count']} entries, problems {v['problems']}")
    for r in reads:
        if r["count"] != count:
            raise RuntimeError(f"read {r['count']} rows, not {count}")
    best, read = min(v["seconds"] for v in verifies), min(r["seconds"] for r in reads)
    best_cpu, read_cpu = min(v["cpu"] for v in verifies), min(r["cpu"] for r in reads)
    hashing = gen["hashlib_seconds"]
    target = TARGET_SECONDS_PER_MILLION * count / 1_000_000
    runs = ", ".join(format(v["seconds"], ".2f") for v in verifies)
    print(f"[{label}] read the rows, no hashing:   {read:6.2f} s  "
          f"{count / read:>10,.0f} entries/s  (CPU {read_cpu:.2f} s)")
    print(f"[{label}] hashlib over the same bytes: {hashing:6.2f} s  "
          f"{count / hashing:>10,.0f} entries/s  "
          f"({gen['canonical_bytes'] / hashing / MiB:.0f} MiB/s)")
    print(f"[{label}] verify_chain, end to end:    {best:6.2f} s  "
          f"{count / best:>10,.0f} entries/s  (CPU {best_cpu:.2f} s; runs: {runs})")
    print(f"[{label}] verify_chain / (read + hashlib): {best / (read + hashing):.2f};  "
          f"target: {count:,} entries in under {target:.1f} s: "
          f"{'met' if best < target else 'missed'}")
    return best < target


# ---- the files ----------------------------------------------------------------------------------

def file_sizes(total: int, seed: int = 2) -> list[int]:
    """Varied sizes like a case's evidence: documents, photos, audio, the odd video."""
    rng, sizes, left = random.Random(seed), [], total
    while left > 0:
        kind = rng.random()
        if kind < 0.25:
            size = rng.randrange(20_000, 1_000_000)        # documents, screenshots
        elif kind < 0.80:
            size = rng.randrange(1_500_000, 12_000_000)    # photos
        elif kind < 0.95:
            size = rng.randrange(5_000_000, 40_000_000)    # audio, short clips
        else:
            size = rng.randrange(60_000_000, 300_000_000)  # video
        size = min(size, left)
        sizes.append(size)
        left -= size
    return sizes


def generate_files(store, total: int) -> list[str]:
    """Random bytes under their SHA-256 in the store's layout; returns the hashes."""
    hashes, block = [], os.urandom(4 * MiB)
    for i, size in enumerate(file_sizes(total)):
        digest, tmp = hashlib.sha256(), store.tmp / f"bench-{i}"
        with open(tmp, "wb", buffering=0) as f:
            left = size
            while left:
                # Unique bytes in every file: a fresh random prefix to every MiB.
                n = min(left, MiB)
                piece = os.urandom(min(n, 64)) + block[: n - min(n, 64)]
                digest.update(piece)
                f.write(piece)
                left -= len(piece)
        sha = digest.hexdigest()
        path = store.path_for(sha)
        path.parent.mkdir(exist_ok=True)
        os.replace(tmp, path)
        hashes.append(sha)
    return hashes


def time_ours(store, hashes: list[str]) -> float:
    started = time.perf_counter()
    for sha in hashes:
        found = store.hash_stored(sha)
        if found is None or found[0] != sha:
            raise RuntimeError(f"hash_stored gave {found} for {sha}")
    return time.perf_counter() - started


def time_openssl(store, hashes: list[str]) -> float:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("openssl is not installed")
    paths = [str(store.path_for(sha)) for sha in hashes]
    started = time.perf_counter()
    out = subprocess.run([exe, "dgst", "-sha256", *paths], check=True, capture_output=True,
                         text=True).stdout
    seconds = time.perf_counter() - started
    found = [line.rsplit("= ", 1)[1] for line in out.splitlines()]
    if found != hashes:
        raise RuntimeError("openssl disagrees with the recorded hashes")
    return seconds


def bench_files(work: Path, total: int, repeat: int) -> bool:
    from ihl_docs.core.storage import EvidenceStore

    store = EvidenceStore(work / "evidence")
    started = time.perf_counter()
    hashes = generate_files(store, total)
    size = sum(store.path_for(sha).stat().st_size for sha in hashes)
    print(f"[files] {len(hashes)} files, {size / MiB:,.0f} MiB, written in "
          f"{time.perf_counter() - started:.1f} s")
    time_openssl(store, hashes)  # bring every file into the page cache: warm figures follow
    time_ours(store, hashes)
    ours, theirs = [], []
    for _ in range(repeat):
        theirs.append(time_openssl(store, hashes))
        ours.append(time_ours(store, hashes))
    rate = lambda s: size / s / MiB  # noqa: E731
    pairs = ", ".join(f"{t / o:.2f}" for o, t in zip(ours, theirs))
    print(f"[files] openssl dgst -sha256, one process: {rate(min(theirs)):7.0f} MiB/s (best of "
          f"{repeat}, warm)")
    print(f"[files] EvidenceStore.hash_stored, in turn: {rate(min(ours)):7.0f} MiB/s (best of "
          f"{repeat}, warm)")
    ratio = min(theirs) / min(ours)
    print(f"[files] ratio {ratio:.2f} (each pair: {pairs}); target >= {TARGET_RATIO}: "
          f"{'met' if ratio >= TARGET_RATIO else 'missed'}")
    return ratio >= TARGET_RATIO


# ---- main ---------------------------------------------------------------------------------------

def child_main(args: list[str]) -> None:
    what, url = args[0], args[1]
    if what == "generate":
        print(json.dumps(generate_audit(url, int(args[2]))))
    elif what == "verify":
        print(json.dumps(measure_verify(url)))
    elif what == "read":
        print(json.dumps(measure_read(url)))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--size", type=parse_size, default=2 * 1024 * MiB,
                        help="total size of the evidence files (default 2G)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL",
                        help="also measure on PostgreSQL, in a temporary database on URL's server")
    parser.add_argument("--skip-audit", action="store_true")
    parser.add_argument("--skip-files", action="store_true")
    parser.add_argument("--workdir", type=Path, help="put the instance here (default: a tmp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the instance afterwards")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ihl-bench-verify-", dir=options.workdir))
    pg_name = None
    met = True
    try:
        print(f"load average: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
        if not options.skip_audit:
            met &= bench_audit("sqlite", f"sqlite:///{work}/ihl.sqlite3", options.entries,
                               options.repeat)
            if options.postgres:
                pg_name = f"ihl_bench_verify_{uuid.uuid4().hex[:8]}"
                pg_url = postgres_database(options.postgres, pg_name, create=True)
                met &= bench_audit("postgresql", pg_url, options.entries, options.repeat)
        if not options.skip_files:
            met &= bench_files(work, options.size, options.repeat)
        print(f"load average: {os.getloadavg()[0]:.2f} (1 min)")
    except (RuntimeError, subprocess.SubprocessError, OSError, AssertionError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if pg_name:
            postgres_database(options.postgres, pg_name, create=False)
        if options.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("targets met" if met else "a target was missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
