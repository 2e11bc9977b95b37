#!/usr/bin/env python3
"""Checkpoint witnesses benchmark: what holding N timestamped checkpoints against their journal
adds to a verification.

Makes a throw-away time-stamping authority with `openssl ts` and an instance of its own (SQLite,
in a temporary folder), then N audit entries each with a signed checkpoint timestamped by that
authority and journalled. Times, taking turns (--repeat, default 3; best of each):

- baseline: the database's own checkpoint check (`verify_against_checkpoints`, part of every
  verification before the journal: each checkpoint's Ed25519 signature and the hash at its seq);
- `witness_problems`: the journal read back and held against the log and the database, every
  token's imprint checked, the newest token's signature and chain.

Prints both and their ratio. No target is set; the figure goes into the README.

    python bench/witnesses.py                 # 1,000 checkpoints
    python bench/witnesses.py --checkpoints 5000
"""

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        os.environ["IHL_INSTANCE_DIR"] = str(Path(work) / "instance")
        baseline, witnessed = measure(Path(work), options.checkpoints, options.repeat)
    print(f"{options.checkpoints} timestamped checkpoints: the database's checkpoint check "
          f"{baseline:.2f} s; held against the journal {witnessed:.2f} s "
          f"(ratio {witnessed / baseline:.2f}); load average {os.getloadavg()[0]:.1f}")
    return 0


def measure(work: Path, count: int, repeat: int) -> tuple[float, float]:
    from ihl_docs import create_app
    from ihl_docs.core.audit.checkpoints import verify_against_checkpoints
    from ihl_docs.core.audit.journal import Witnesses
    from ihl_docs.core.audit.signing import load_or_create_key, public_key_hex
    from ihl_docs.core.audit.witnesses import witness_problems
    from ihl_docs.core.db import open_session
    from ihl_docs.core.schema import upgrade
    from tests.witness_support import make_authority

    authority = make_authority(work / "tsa", "Bench")
    app = create_app({"DATABASE_URL": f"sqlite:///{work / 'ihl.sqlite3'}", "SECRET_KEY": "bench",
                      "EVIDENCE_DIR": str(work / "evidence"), "TSA_URLS": ["http://unused/"],
                      "TSA_CA_FILE": str(authority / "ca.crt")})
    engine = app.extensions["ihl_engine"]
    upgrade(engine)
    key = load_or_create_key(work / "key")
    witnesses = Witnesses.from_config(app.config)
    with open_session(engine, write=True) as session:
        for number in range(count):
            add_checkpoint(session, key, witnesses, authority, work, number)
        session.commit()
    public, baseline, witnessed = public_key_hex(key), [], []
    with open_session(engine) as session:
        for _ in range(repeat):
            started = time.perf_counter()
            assert verify_against_checkpoints(session, public) == []
            baseline.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert witness_problems(session, witnesses, public) == []
            witnessed.append(time.perf_counter() - started)
    engine.dispose()
    return min(baseline), min(witnessed)


def add_checkpoint(session, key, witnesses, authority: Path, work: Path, number: int) -> None:
    """One audit entry, its checkpoint timestamped by `openssl ts`, journalled."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    from ihl_docs.core.audit import log
    from ihl_docs.core.audit.checkpoints import checkpoint_document
    from ihl_docs.core.audit.journal import append_line, journal_line
    from ihl_docs.core.audit.signing import public_key_hex
    from ihl_docs.core.audit.verify_audit import checkpoint_message
    from ihl_docs.core.dbtypes import utcnow
    from ihl_docs.core.models import AuditCheckpoint

    entry = log.record(session, actor="bench", action="create", entity="bench",
                       entity_id=str(number))
    message = checkpoint_message({"seq": entry.seq, "hash": entry.hash,
                                  "occurred_at": log.jsonable(entry.occurred_at)})
    query = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).build()
    (work / "query.tsq").write_bytes(query.as_bytes())
    subprocess.run(["openssl", "ts", "-reply", "-config", str(authority / "tsa.cnf"),
                    "-queryfile", str(work / "query.tsq"), "-out", str(work / "reply.tsr")],
                   check=True, capture_output=True)
    checkpoint = AuditCheckpoint(
        seq=entry.seq, hash=entry.hash, occurred_at=entry.occurred_at, signed_at=utcnow(),
        public_key=public_key_hex(key), signature=key.sign(message).hex(),
        timestamp_token=base64.b64encode((work / "reply.tsr").read_bytes()).decode())
    session.add(checkpoint)
    session.flush()
    append_line(witnesses.journals[0],
                journal_line(checkpoint_document(checkpoint), checkpoint.timestamp_token))


if __name__ == "__main__":
    sys.exit(main())
