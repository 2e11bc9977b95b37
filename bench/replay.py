#!/usr/bin/env python3
"""Replay benchmark: every record held against an audit log of 1,000,000 entries.

Builds an instance of its own (SQLite in a temporary directory; with --postgres URL also a
temporary PostgreSQL database created next to URL's and dropped afterwards): users, cases and one
incident through the services, the bundled legal catalogue, then records written in bulk with
their audit entries, so that the log holds N entries (default 1,000,000) and every row agrees
with it. Incidents have a `create` entry and nine edits each; one incident in two has an item of
evidence with two custody events and a link to the incident. Each entry's state is built by the
application's own snapshot functions, its change and chain by the audit log's.

Before timing: `verify_chain` must find the chain intact, and the replay no difference. Then,
each in a fresh process and in turn (--repeat, default 3, best of each):

- the baseline: the queries the replay runs (recorded from it), on the database driver's cursor,
  with json.loads of every change and nothing compared;
- `replay(session, projections(app))`, what `ihl verify` runs for the records, end to end.

It prints entries/s, records/s, seconds, CPU time and peak memory of each, and replay over
baseline. Last, one incident's field is changed by SQL, and the replay must name it.
Target: at most 2.5 times the baseline, and 1,000,000 entries replayed in under 60 s (at least
16,667 entries/s with another --entries). The baseline alone (reading and parsing every change)
takes 20 to 40 s of CPU per million entries on the 2-core development machine: see
bench/README.md.

    python bench/replay.py                              # 1,000,000 entries on SQLite
    python bench/replay.py --entries 200000 --repeat 1
    python bench/replay.py --postgres postgresql://postgres@127.0.0.1:5432/test [--skip-sqlite]

Exit status: 0 when every target is met, 1 when one is missed, 2 when the run failed.
"""

import argparse
import json
import os
import resource
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

TARGET_SECONDS_PER_MILLION = 60.0
TARGET_RATIO = 2.5
INSERT_BATCH = 20_000
WAVE = 500          # incidents whose histories interleave in the log
EDITS = 9           # edits of each incident after its creation
CASES = 4
PASSWORD = "bench replay password 2026"

PLACES = ["Stepanakert", "Shushi", "Martuni", "Hadrut", "Ganja", "Tartar", "Barda", "Mariupol",
          "Kharkiv", "Izium", "Bucha", "Khan Younis", "Deir al-Balah", "Aleppo", "Idlib"]
NARRATIVE = ("Witnesses describe repeated impacts in a residential quarter at dawn; the craters "
             "and fragments photographed the next morning are consistent with artillery fire "
             "from the north-east. Свидетели описывают удары по жилому кварталу. "
             "Վկաները նկարագրում են հարվածներ բնակելի թաղամասում։ ")
ADDENDA = ["A second witness confirms the time of the first impact.",
           "Fragments recovered from the courtyard were photographed with a scale.",
           "Satellite imagery of the following day shows three new craters.",
           "The local hospital lists the injured by name; the list is kept sealed.",
           "Սա հաստատվել է երկրորդ վկայի կողմից։"]


def _app(url: str, instance: Path):
    os.environ["IHL_INSTANCE_DIR"] = str(instance)
    from ihl_docs import create_app

    return create_app({"DATABASE_URL": url, "EVIDENCE_DIR": str(instance / "evidence"),
                       "SECRET_KEY": "bench-replay", "QUEUE_URL": f"sqlite:///{instance}/queue.db"})


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


# ---- the records and their entries ----------------------------------------------------------------

class Log:
    """Chains entries as audit.record does and inserts them (and rows) in batches."""

    def __init__(self, session, seq: int, prev: str, limit: int):
        from ihl_docs.core.models import AuditEntry

        self.session, self.seq, self.prev, self.limit = session, seq, prev, limit
        self.first = seq
        self.table, self.batch, self.entities = AuditEntry.__table__, [], {}

    @property
    def full(self) -> bool:
        return self.seq >= self.limit

    def record(self, moment: datetime, actor: str, action: str, entity: str, entity_id: str,
               case_ref: str, before, after) -> dict:
        """Append the entry; returns its `after` as written."""
        import hashlib

        from ihl_docs.core.audit.chain import canonical_entry_text, canonical_json, entry_hash
        from ihl_docs.core.audit.log import jsonable

        self.seq += 1
        self.entities[entity] = self.entities.get(entity, 0) + 1
        # As audit.record writes it; `before` is the previous entry's `after`, already jsonable.
        after = jsonable(after)
        change = {"before": before, "after": after}
        fields = {"seq": self.seq, "occurred_at": jsonable(moment), "actor": actor,
                  "action": action, "entity": entity, "entity_id": str(entity_id),
                  "case_ref": case_ref, "change": change, "prev_hash": self.prev}
        text = canonical_json(change)  # as audit.record stores it
        digest = hashlib.sha256(canonical_entry_text(
            self.seq, fields["occurred_at"], actor, action, entity, fields["entity_id"],
            case_ref, text, self.prev).encode("utf-8")).hexdigest()
        if self.seq % 997 == 0 or self.seq < self.first + 1000:  # the project's own hash
            assert digest == entry_hash(fields), f"seq {self.seq}"
        self.batch.append({**fields, "occurred_at": datetime.fromisoformat(fields["occurred_at"]),
                           "change": text, "hash": digest})
        self.prev = digest
        if len(self.batch) == INSERT_BATCH:
            self.flush()
        return after

    def flush(self) -> None:
        if self.batch:
            self.session.connection().execute(self.table.insert(), self.batch)
            self.batch = []

    def insert(self, model, objects) -> None:
        table = model.__table__
        rows = [{c.name: getattr(o, c.name) for c in table.columns} for o in objects]
        for start in range(0, len(rows), INSERT_BATCH):
            self.session.connection().execute(table.insert(), rows[start:start + INSERT_BATCH])


def _incident(n: int, case, party_ids: list[int], moment: datetime, user_id: int):
    from ihl_docs.core.models import Incident

    place = PLACES[n % len(PLACES)]
    return Incident(
        id=n, ref=f"{case.ref}-I{n:06d}", case_id=case.id,
        title=f"Shelling of residential quarter no. {n} in {place}",
        incident_type=("shelling", "rocket", "cluster_munition", "air_strike")[n % 4],
        occurred_from=moment - timedelta(days=30 + n % 400, minutes=n % 1440),
        occurred_to=None if n % 3 else moment - timedelta(days=30 + n % 400),
        date_precision="exact" if n % 2 else "day", place_name=f"Quarter {n % 97}, {place}",
        admin_area="Northern district", country="ARM",
        latitude=round(39.8 + (n % 1000) / 1777, 6), longitude=round(46.7 + (n % 997) / 1913, 6),
        location_precision_m=(10, 50, 100, 500)[n % 4],
        weapon_type=("122 mm artillery", "BM-21 Grad", "cluster munition", "")[n % 4],
        munition_details="Fragments with lot markings." if n % 3 else "",
        narrative=NARRATIVE[: 120 + (n * 37) % (len(NARRATIVE) - 120)],
        killed_min=n % 3, killed_max=n % 3 + 2, injured_min=1, injured_max=6 + n % 5,
        civilian_objects=["residential", "school"][: 1 + n % 2],
        responsible_party_id=None if n % 5 == 0 else party_ids[n % len(party_ids)],
        created_at=moment, updated_at=moment, created_by_id=user_id, version=1)


def _edit(incident, round_: int, moment: datetime) -> str:
    """One realistic edit (round 1..9); returns the action the application records."""
    n = incident.id
    if round_ == 1:
        incident.title = incident.title + " (corrected place)"
    elif round_ in (2, 6):
        incident.narrative = incident.narrative + " " + ADDENDA[(n + round_) % len(ADDENDA)]
    elif round_ == 3:
        incident.killed_min, incident.killed_max = incident.killed_min + 1, incident.killed_max + 2
    elif round_ == 4:
        incident.injured_min, incident.injured_max = 2, incident.injured_max + 3
        incident.children_injured = 1
    elif round_ == 5:
        incident.verification_status = "partly_verified"
    elif round_ == 7:
        incident.munition_details = "Tail fin of a 122 mm rocket found at the site."
    elif round_ == 8:
        incident.civilian_objects = ["residential", "school", "shelter"]
    else:
        incident.workflow_status = "submitted"
    incident.version += 1
    incident.updated_at = moment
    return "status_change" if round_ == 9 else "update"


def _evidence(n: int, case, moment: datetime, user_id: int):
    from ihl_docs.core.models import Evidence

    photo = n % 3 == 0
    return Evidence(
        id=n, ref=f"{case.ref}-E{n:06d}", case_id=case.id,
        kind="photo" if photo else ("document", "open_source_post")[n % 2],
        title=f"Item {n}: material on the impact site", description="Photographed on site."
        if photo else "", source_url="" if photo else f"https://t.me/channel/{n}",
        source_platform="" if photo else "Telegram", source_author="" if photo else "channel",
        published_at=None if photo else moment - timedelta(days=2),
        acquired_at=moment - timedelta(days=1), acquired_by="Field team",
        acquisition_method="Downloaded and hashed", sensitivity="restricted",
        reliability="B", credibility="2", original_filename=f"IMG_{n:06d}.jpg" if photo
        else f"post_{n}.pdf", sha256=f"{n:064x}", size=40_000 + n,
        media_type="image/jpeg" if photo else "application/pdf",
        capture_time=moment - timedelta(days=1, hours=3) if photo else None,
        capture_latitude=39.81 if photo else None, capture_longitude=46.75 if photo else None,
        capture_device="Apple iPhone 12" if photo else "",
        metadata_note="EXIF intact; GPS from the device." if photo else "",
        created_at=moment, created_by_id=user_id, version=1)


def generate(url: str, instance: Path, count: int) -> dict:
    """Migrate, make the first records through the services, then fill the log up to `count`
    entries with records written in bulk."""
    import sqlalchemy as sa
    from sqlmodel import func, select

    from ihl_docs.auth import services as auth_services
    from ihl_docs.cases.services import add_member, create_case
    from ihl_docs.core.audit.log import snapshot
    from ihl_docs.core.db import open_session
    from ihl_docs.core.models import (
        AuditEntry,
        CaseCreate,
        CustodyEvent,
        Evidence,
        Incident,
        IncidentCreate,
        IncidentEvidence,
        Party,
    )
    from ihl_docs.core.schema import upgrade
    from ihl_docs.evidence.services import evidence_snapshot
    from ihl_docs.incidents.services import create_incident, incident_snapshot, update_incident
    from ihl_docs.provisions import catalogue

    started = time.perf_counter()
    app = _app(url, instance)
    engine = app.extensions["ihl_engine"]
    upgrade(engine)
    session = open_session(engine, write=True)
    catalogue.load_bundled(session, actor="bench")
    investigator = auth_services.create_user(session, "investigator@bench.example.org",
                                             "investigator", PASSWORD, actor="bench")
    lawyer = auth_services.create_user(session, "lawyer@bench.example.org", "legal", PASSWORD,
                                       actor="bench")
    cases = []
    for c in range(CASES):
        case = create_case(session, CaseCreate.model_validate({
            "ref": f"BENCH-{c + 1:03d}", "title": f"Replay benchmark case {c + 1}",
            "summary": "Invented records.", "conflict_classification": "international",
            "parties": [{"name": "State A", "kind": "state", "state_code": "ARM"},
                        {"name": "Group B", "kind": "non-state"}]}), actor=investigator)
        add_member(session, case, lawyer.email, actor=investigator)
        cases.append(case)
    # One incident through the services: the bulk entries must have its shape.
    real = create_incident(session, cases[0], IncidentCreate.model_validate({
        "title": "Shelling of the market", "incident_type": "shelling",
        "occurred_from": "2024-01-02T06:00:00Z", "responsible_party": "State A",
        "narrative": NARRATIVE}), actor=investigator)
    update_incident(session, real, {"killed_min": 1, "killed_max": 3}, expected_version=1,
                    actor=investigator)
    session.commit()
    # Held here, so that incident_snapshot finds them in the session's (weak) identity map.
    party_rows = list(session.exec(select(Party)))
    parties = {case.id: [p.id for p in party_rows if p.case_id == case.id] for case in cases}
    head = session.exec(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    if count <= head.seq:
        raise RuntimeError(f"--entries must be above the {head.seq} entries the services wrote")
    real_keys = set(json.loads(head.change)["after"])

    log = Log(session, head.seq, head.hash, count)
    actor, uid = investigator.email, investigator.id
    moment = datetime(2024, 1, 8, 7, 0, tzinfo=UTC)
    next_incident = session.exec(select(func.max(Incident.id))).one() + 1
    next_item = next_custody = 1
    counts = {"incident": 0, "evidence": 0, "custody_event": 0, "incident_evidence": 0}

    def tick():
        nonlocal moment
        moment += timedelta(microseconds=137_713)
        return moment

    while not log.full:
        incidents, items, events, links = [], [], [], []
        for _ in range(WAVE):  # each created, with its evidence
            if log.full:
                break
            case = cases[next_incident % CASES]
            incident = _incident(next_incident, case, parties[case.id], tick(), uid)
            next_incident += 1
            after = incident_snapshot(session, incident)
            if set(after) != real_keys:
                raise RuntimeError(f"the bulk incident's fields differ: {set(after) ^ real_keys}")
            after = log.record(moment, actor, "create", "incident", incident.ref, case.ref, None,
                               after)
            incidents.append((incident, case, after))
            if incident.id % 2 or log.full:
                continue
            item = _evidence(next_item, case, tick(), uid)
            next_item += 1
            log.record(moment, actor, "create", "evidence", item.ref, case.ref, None,
                       evidence_snapshot(session, item))
            items.append(item)
            for action in ("collected", "received"):
                if log.full:
                    break
                event = CustodyEvent(
                    id=next_custody, evidence_id=item.id, action=action,
                    occurred_at=item.acquired_at if action == "collected" else moment,
                    custodian_from="" if action == "collected" else "Field team",
                    custodian_to="Field team" if action == "collected" else actor,
                    purpose=item.acquisition_method if action == "collected"
                    else "Recorded in ihl_docs", actor=actor, recorded_at=tick(),
                    sha256_observed=None if action == "collected" else item.sha256,
                    hash_matched=None if action == "collected" else True)
                next_custody += 1
                log.record(moment, actor, f"custody_{action}", "custody_event",
                           f"{item.ref}#{event.id}", case.ref, None, snapshot(event))
                events.append(event)
            if log.full:
                break
            link = IncidentEvidence(incident_id=incident.id, evidence_id=item.id,
                                    relevance="Shows the impact site.", linked_at=tick(),
                                    linked_by_id=uid)
            log.record(moment, actor, "link", "incident_evidence", f"{incident.ref}:{item.ref}",
                       case.ref, None, {"incident": incident.ref, "evidence": item.ref,
                                        "relevance": link.relevance})
            links.append(link)
        for round_ in range(1, EDITS + 1):  # the edits, interleaved
            for k, (incident, case, before) in enumerate(incidents):
                if log.full:
                    break
                action = _edit(incident, round_, tick())
                after = log.record(moment, actor, action, "incident", incident.ref, case.ref,
                                   before, incident_snapshot(session, incident))
                incidents[k] = (incident, case, after)
        log.flush()
        log.insert(Incident, [i for i, _, _ in incidents])
        log.insert(Evidence, items)
        log.insert(CustodyEvent, events)
        log.insert(IncidentEvidence, links)
        counts["incident"] += len(incidents)
        counts["evidence"] += len(items)
        counts["custody_event"] += len(events)
        counts["incident_evidence"] += len(links)
        session.commit()
    connection = session.connection()
    for case in cases:  # the ref counters (not audited: see cases/projection.py)
        connection.execute(sa.text('UPDATE "case" SET incident_counter = :i, evidence_counter = '
                                   ':e WHERE id = :id'), {"i": next_incident, "e": next_item,
                                                          "id": case.id})
    if engine.dialect.name == "postgresql":
        for table in ("incident", "evidence", "custody_event"):
            connection.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT max(id) FROM {table}))"))
    session.commit()
    session.close()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return {"seconds": time.perf_counter() - started, "entries": log.seq, "bulk": counts,
            "bulk_entries": log.entities,
            "tamper": [i.ref for i, _, _ in incidents][len(incidents) // 2]}


# ---- the measurements, each in a fresh process -------------------------------------------------

def check(url: str, instance: Path, queries: Path) -> dict:
    """Before timing: the chain is intact and the replay finds no difference. Records the
    statements the replay runs, for the baseline."""
    from sqlalchemy import event

    from ihl_docs.core.audit.log import verify_chain
    from ihl_docs.core.audit.replay import projections, replay
    from ihl_docs.core.db import open_snapshot

    app = _app(url, instance)
    engine = app.extensions["ihl_engine"]
    with open_snapshot(engine) as session:
        entries, problems = verify_chain(session)
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append([statement, list(parameters) if isinstance(parameters, tuple)
                           else parameters])

    event.listen(engine, "before_cursor_execute", remember)
    with open_snapshot(engine) as session:
        compared, differences = replay(session, projections(app))
    event.remove(engine, "before_cursor_execute", remember)
    # The rows' statements; the log's are made by audit_statements (the replay runs them on the
    # driver's cursor, which no engine event sees).
    statements = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")
                  and "FROM audit_entry" not in s[0]]
    with open_snapshot(engine) as session:
        statements = audit_statements(session, projections(app)) + statements
    queries.write_text(json.dumps(statements))
    return {"entries": entries, "problems": problems[:3], "compared": compared,
            "differences": [d.message for d in differences[:5]], "queries": len(statements)}


def audit_statements(session, kinds) -> list:
    """[sql, parameters] of the query recorded_states runs for each kind's entries."""
    from sqlmodel import select

    from ihl_docs.core.models import AuditEntry

    c, dialect = AuditEntry.__table__.c, session.connection().dialect
    statements = []
    for kind in kinds:
        compiled = (select(c.seq, c.entity_id, c.change).where(c.entity == kind.entity)
                    .order_by(c.seq).compile(dialect=dialect))
        params = compiled.construct_params()
        if compiled.positional:
            params = [params[name] for name in compiled.positiontup]
        statements.append([str(compiled), params])
    return statements


def _timed(run) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return {**result, "seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
            "peak": _peak()}


def measure_replay(url: str, instance: Path) -> dict:
    """replay(session, projections(app)), what `ihl verify` runs for the records."""
    from ihl_docs.core.audit.replay import projections, replay
    from ihl_docs.core.db import open_snapshot

    app = _app(url, instance)
    with open_snapshot(app.extensions["ihl_engine"]) as session:
        def run():
            compared, differences = replay(session, projections(app))
            return {"compared": compared, "differences": [d.message for d in differences[:5]],
                    "found": len(differences)}
        return _timed(run)


def measure_baseline(url: str, instance: Path, queries: Path) -> dict:
    """The baseline: the replay's own queries on the driver's cursor, json.loads of every
    change, nothing compared."""
    from ihl_docs.core.db import open_snapshot

    app = _app(url, instance)
    statements = json.loads(queries.read_text())
    with open_snapshot(app.extensions["ihl_engine"]) as session:
        connection = session.connection()
        sqlite = connection.dialect.name == "sqlite"

        def run():
            loads, entries, rows = json.loads, 0, 0
            cursor = connection.connection.cursor()
            for statement, params in statements:
                cursor.execute(statement, tuple(params) if sqlite else params)
                audit = "FROM audit_entry" in statement
                while batch := cursor.fetchmany(10_000):
                    if audit:
                        for row in batch:
                            loads(row[2])
                        entries += len(batch)
                    else:
                        rows += len(batch)
            cursor.close()
            return {"entries": entries, "rows": rows}
        return _timed(run)


def tamper(url: str, instance: Path, ref: str) -> dict:
    """Change one incident's field by SQL, as someone with the database's password would, and
    replay: the replay must name the incident, the field and its last entry."""
    import sqlalchemy as sa

    from ihl_docs.core.audit.replay import projections, replay
    from ihl_docs.core.db import open_snapshot

    app = _app(url, instance)
    engine = app.extensions["ihl_engine"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incident SET killed_max = killed_max + 7 WHERE ref = :r"),
                     {"r": ref})
        seq = conn.execute(sa.text("SELECT max(seq) FROM audit_entry WHERE entity = 'incident' "
                                   "AND entity_id = :r"), {"r": ref}).scalar()
    with open_snapshot(engine) as session:
        _, differences = replay(session, projections(app))
    return {"differences": [d.message for d in differences],
            "expected": f"incident {ref}: killed_max differs from audit seq {seq} "
                        "(changed outside the application)"}


def _child(args: list[str]) -> dict:
    return run_child(__file__, args)


def child_main(args: list[str]) -> None:
    what, url, instance = args[0], args[1], Path(args[2])
    if what == "generate":
        print(json.dumps(generate(url, instance, int(args[3]))))
    elif what == "check":
        print(json.dumps(check(url, instance, Path(args[3]))))
    elif what == "replay":
        print(json.dumps(measure_replay(url, instance)))
    elif what == "baseline":
        print(json.dumps(measure_baseline(url, instance, Path(args[3]))))
    elif what == "tamper":
        print(json.dumps(tamper(url, instance, args[3])))


# ---- one database -------------------------------------------------------------------------------

def bench(label: str, url: str, instance: Path, count: int, repeat: int) -> bool:
    instance.mkdir(parents=True, exist_ok=True)
    queries = instance / "queries.json"
    gen = _child(["generate", url, str(instance), str(count)])
    bulk = gen["bulk"]
    entries = gen["bulk_entries"]
    print(f"[{label}] {gen['entries']:,} entries generated in {gen['seconds']:.1f} s; in bulk: "
          f"{bulk['incident']:,} incidents ({entries['incident']:,} entries), "
          f"{bulk['evidence']:,} evidence items, {bulk['custody_event']:,} custody events, "
          f"{bulk['incident_evidence']:,} links (one entry each); the rest through the services "
          f"(the catalogue, users, cases)")
    checked = _child(["check", url, str(instance), str(queries)])
    if checked["entries"] != count or checked["problems"]:
        raise RuntimeError(f"verify_chain: {checked['entries']} entries, {checked['problems']}")
    if checked["differences"]:
        raise RuntimeError(f"the replay of the untouched data differs: {checked['differences']}")
    records = sum(checked["compared"].values())
    print(f"[{label}] before timing: chain intact ({checked['entries']:,} entries), replay found "
          f"no difference in {records:,} records of {len(checked['compared'])} kinds "
          f"({checked['queries']} queries)")
    replays, baselines = [], []
    for _ in range(repeat):
        baselines.append(_child(["baseline", url, str(instance), str(queries)]))
        replays.append(_child(["replay", url, str(instance)]))
    for r in replays:
        if r["found"] or r["compared"] != checked["compared"]:
            raise RuntimeError(f"the replay found {r['found']} differences: {r['differences']}")
    for b in baselines:
        if b["entries"] > count or b["entries"] < 0.99 * count:
            raise RuntimeError(f"the baseline read {b['entries']} entries")
    best_replay = min(replays, key=lambda r: r["seconds"])
    best_base = min(baselines, key=lambda b: b["seconds"])
    entries = best_base["entries"]
    mib = 1024 * 1024

    def line(name: str, m: dict, runs: list[dict]) -> str:
        times = ", ".join(format(r["seconds"], ".2f") for r in runs)
        return (f"[{label}] {name} {m['seconds']:6.2f} s  {entries / m['seconds']:>9,.0f} "
                f"entries/s  {records / m['seconds']:>8,.0f} records/s  (CPU {m['cpu']:.2f} s, "
                f"peak {m['peak'] / mib:,.0f} MiB; runs: {times})")

    print(line("baseline: read + json.loads:", best_base, baselines))
    print(line("replay, end to end:         ", best_replay, replays))
    target = TARGET_SECONDS_PER_MILLION * count / 1_000_000
    ratio = best_replay["seconds"] / best_base["seconds"]
    cpu_ratio = best_replay["cpu"] / best_base["cpu"]
    met = best_replay["seconds"] < target and ratio <= TARGET_RATIO
    print(f"[{label}] replay / baseline: {ratio:.2f} (CPU {cpu_ratio:.2f}); target: {count:,} "
          f"entries in under {target:.1f} s and at most {TARGET_RATIO}x the baseline: "
          f"{'met' if met else 'missed'}")
    tampered = _child(["tamper", url, str(instance), gen["tamper"]])
    if tampered["differences"] != [tampered["expected"]]:
        raise RuntimeError(f"after a change by SQL the replay said {tampered['differences'][:3]}, "
                           f"not {tampered['expected']!r}")
    print(f"[{label}] after a change by SQL the replay names it: {tampered['expected']}")
    return met


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL",
                        help="also measure on PostgreSQL, in a temporary database on URL's server")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--workdir", type=Path, help="put the instance here (default: a tmp dir)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the instance (and the PostgreSQL database) afterwards")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ihl-bench-replay-", dir=options.workdir))
    pg_name = None
    met = True
    try:
        print(f"load average: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
        if not options.skip_sqlite:
            met &= bench("sqlite", f"sqlite:///{work}/sqlite/ihl.sqlite3", work / "sqlite",
                         options.entries, options.repeat)
            print(f"load average: {os.getloadavg()[0]:.2f} (1 min)")
        if options.postgres:
            pg_name = f"ihl_bench_replay_{uuid.uuid4().hex[:8]}"
            pg_url = postgres_database(options.postgres, pg_name, create=True)
            met &= bench("postgresql", pg_url, work / "postgresql", options.entries,
                         options.repeat)
            print(f"load average: {os.getloadavg()[0]:.2f} (1 min)")
    except (RuntimeError, subprocess.SubprocessError, OSError, AssertionError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if pg_name and not options.keep:
            postgres_database(options.postgres, pg_name, create=False)
        if options.keep:
            print(f"kept: {work}" + (f" and PostgreSQL database {pg_name}" if pg_name else ""))
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("targets met" if met else "a target was missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
