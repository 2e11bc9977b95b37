#!/usr/bin/env python3
"""Catalogue search benchmark: the in-memory search of the legal catalogue against the ILIKE
query it replaced, timed in the same run on the same database.

Loads a catalogue (by default the second edition in ../shared/data/edition-2 when present, else
the bundled one) into a fresh SQLite database (or, with --postgres URL, a temporary PostgreSQL
database created next to URL's and dropped afterwards), then times, for a set of queries typed
by lawyers, `search_provisions` (the page's and the API's search, first page of 50) and the old
query (ILIKE per word over article, title, summary and key, same page size). It prints the median
time of each per query, in milliseconds, the ratio new/old, and the time to build the index once
(the first search after a catalogue change pays it).

    python bench/catalogue_search.py
    python bench/catalogue_search.py --repeat 500 --postgres postgresql://postgres@127.0.0.1:5432/test

Exit status: 0 when the median of the new search stays under --target-ms (default 20 ms) for
every query, 1 when not, 2 when the run failed.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from support import postgres_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EDITION_2 = ROOT.parent / "shared" / "data" / "edition-2"
QUERIES = ["51(4)(c)", "art. 8(2)(b)(iv)", "rule 71", "attacks on civilians", "cluster munitions",
           "DPICM", "hospital", "indiscriminate attack civilian population", "civ"]


def old_search(session, q: str, limit: int):
    """The query search_provisions ran before (kept here as the baseline)."""
    import sqlalchemy as sa
    from sqlmodel import or_, select

    from ihl_docs.core.models import Provision

    query = select(Provision)
    for word in [w for w in q.split() if w][:10]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(getattr(Provision, c).ilike(pattern, escape="\\")
                                  for c in ("article", "title", "summary", "key"))))
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    return list(session.exec(query.order_by(Provision.id).limit(limit))), total


def _catalogue():
    """The instruments and provisions to load: the second edition if at hand (its fields an
    older loader does not read are left out), else the bundled catalogue."""
    from ihl_docs.provisions import catalogue

    folder = EDITION_2 if (EDITION_2 / "provisions.jsonl").exists() else \
        ROOT / "ihl_docs" / "data"
    known, element_fields = catalogue.ProvisionRecord.model_fields, \
        catalogue.ElementRecord.model_fields
    lines = []
    for line in (folder / "provisions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = {k: v for k, v in json.loads(line).items() if k in known}
            record["elements"] = [{k: v for k, v in e.items() if k in element_fields}
                                  for e in record.get("elements", [])]
            lines.append(json.dumps(record))
    return (folder, catalogue.parse_instruments((folder / "instruments.json").read_text("utf-8")),
            catalogue.parse_provisions("\n".join(lines)))


def _median_ms(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(url: str, repeat: int, target_ms: float) -> int:
    from ihl_docs.core.db import make_engine, open_session
    from ihl_docs.core.schema import upgrade
    from ihl_docs.provisions import catalogue, search
    from ihl_docs.provisions.services import ProvisionFilter, search_provisions

    engine = make_engine(url)
    upgrade(engine)
    folder, instruments, provisions = _catalogue()
    with open_session(engine) as session:
        catalogue.load(session, instruments, provisions, actor="bench")
        session.commit()
    print(f"catalogue: {len(provisions)} provisions from {folder}; database {engine.dialect.name}")
    missed = 0
    with open_session(engine, write=False) as session:
        build = _median_ms(lambda: search.build_index(session), max(3, repeat // 20))
        print(f"building the index: {build:.2f} ms (median)")
        print(f"{'query':<45} {'new ms':>8} {'old ms':>8} {'ratio':>7} {'found':>6} {'was':>5}")
        for q in QUERIES:
            flt = ProvisionFilter(q=q)
            new = _median_ms(lambda f=flt: search_provisions(session, f, limit=50), repeat)
            old = _median_ms(lambda q=q: old_search(session, q, 50), repeat)
            found = search_provisions(session, flt, limit=50)[1]
            was = old_search(session, q, 50)[1]
            print(f"{q:<45} {new:>8.2f} {old:>8.2f} {new / old:>7.2f} {found:>6} {was:>5}")
            missed += new > target_ms
    engine.dispose()
    print(f"target: each median under {target_ms} ms: {'met' if not missed else 'missed'}")
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--target-ms", type=float, default=20.0)
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    try:
        if args.postgres:
            url = postgres_database(args.postgres, f"bench_catalogue_{uuid.uuid4().hex[:8]}", True)
            try:
                return run(url, args.repeat, args.target_ms)
            finally:
                postgres_database(args.postgres, url.rsplit("/", 1)[1], False)
        with tempfile.TemporaryDirectory() as folder:
            return run(f"sqlite:///{folder}/bench.sqlite3", args.repeat, args.target_ms)
    except Exception as exc:  # noqa: BLE001 - the run failed: say why, exit 2
        print(f"failed: {exc!r}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
