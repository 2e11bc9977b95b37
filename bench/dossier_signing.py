#!/usr/bin/env python3
"""What signing adds to a dossier build: the demo case (`ihl demo`) built with and without the
signature, each with an empty section cache, alternately, in one fresh instance of its own.

    python bench/dossier_signing.py               # 3 rounds
    python bench/dossier_signing.py --rounds 5

Prints the median wall time of a build without signing and with it, their difference (mostly
noise on a shared machine: compare the next two lines), the time of the job's signing step, and
of signing alone (the reproducible PDF signed again, in memory); then the size of the
reproducible and of the signed file. Nothing of the machine's own instance is touched.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="ihl-bench-sign-"))
    try:
        return run(home, args.rounds)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(home: Path, rounds: int) -> int:
    os.environ["IHL_INSTANCE_DIR"] = str(home / "instance")
    from sqlmodel import select

    from ihl_docs import create_app
    from ihl_docs.core.db import open_session
    from ihl_docs.core.models import Case
    from ihl_docs.dossiers import services
    from ihl_docs.dossiers.signature import sign_pdf

    settings = {"DATABASE_URL": f"sqlite:///{home}/ihl.sqlite3",
                "EVIDENCE_DIR": str(home / "evidence"), "SECRET_KEY": "bench",
                "QUEUE_URL": f"sqlite:///{home}/queue.db"}
    # `ihl demo` as a user runs it: schema, catalogue, accounts and the demo case.
    subprocess.run([sys.executable, "-c", "from ihl_docs.cli import main; main()", "demo"],
                   env={**os.environ, **{f"IHL_{k}": v for k, v in settings.items()}},
                   check=True, capture_output=True, timeout=600)
    app = create_app(settings)
    engine, store = app.extensions["ihl_engine"], app.extensions["ihl_store"]
    signer = services.signer_for(app)
    in_job = []  # the job's whole signing step: audit head read, signing, the file written aside
    original = services._sign

    def timed_sign(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            in_job.append(time.perf_counter() - started)

    services._sign = timed_sign
    times = {"unsigned": [], "signed": []}
    last = signed_dossier = None
    # The first two builds (one of each) warm WeasyPrint and pyHanko up and are not counted:
    # a worker process pays those imports once.
    for n in range(rounds * 2 + 2):
        kind = "signed" if n % 2 else "unsigned"
        with open_session(engine, write=True) as session:
            case = session.exec(select(Case)).first()
            dossier = services.request_dossier(session, case, audience="internal",
                                               prepared_by="bench", actor="bench")
            session.commit()
            ref = dossier.ref
        cache = home / f"cache-{n}"
        started = time.perf_counter()
        last = services.run_dossier(engine, store, ref, cache,
                                    signer=signer if kind == "signed" else None)
        elapsed = time.perf_counter() - started
        if last is None or last.status != "done":
            print(f"build failed: {last.error if last else 'not run'}", file=sys.stderr)
            return 2
        if n >= 2:
            times[kind].append(elapsed)
        if kind == "signed":
            signed_dossier = last
    last = signed_dossier
    with store.open(last.sha256) as f:
        unsigned = f.read()
    step = []
    for _ in range(rounds):
        started = time.perf_counter()
        sign_pdf(unsigned, signer, {"audit_seq": 0, "audit_head": "0" * 64})
        step.append(time.perf_counter() - started)
    plain, signed = statistics.median(times["unsigned"]), statistics.median(times["signed"])
    print(f"demo case {last.page_count} pages, {rounds} rounds, empty section cache each build")
    print(f"build without signing: median {plain:.2f} s  {[round(t, 2) for t in times['unsigned']]}")
    print(f"build with signing:    median {signed:.2f} s  {[round(t, 2) for t in times['signed']]}")
    print(f"difference: {signed - plain:+.2f} s ({(signed - plain) / plain:+.1%})")
    print(f"signing step in the job: median {statistics.median(in_job[1:]) * 1000:.0f} ms")
    print(f"signing alone (sign_pdf in memory): median {statistics.median(step) * 1000:.0f} ms")
    print(f"reproducible PDF {last.size} bytes, signed PDF {last.signed_size} bytes "
          f"(+{last.signed_size - last.size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
