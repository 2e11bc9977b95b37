#!/usr/bin/env python3
"""Incident search benchmark: the incident list with filters and word search, at scale.

Generates, in a fresh SQLite database of an instance of its own (and, with --postgres URL, in a
temporary PostgreSQL database created next to URL's and dropped afterwards), N incidents
(default 100,000) over 50 cases and M evidence items (default 500,000), each linked to an
incident, with multilingual text (English, French, Russian, Ukrainian, Armenian, Arabic,
Azerbaijani). Rows go in by bulk inserts (executemany), not through the services, and no audit
entries are written: the list does not read them. The migrations' triggers fill the SQLite
word index as rows arrive; PostgreSQL fills its generated column, then ANALYZE runs (as
autovacuum would).

Then it times, per kind of query, the page `/incidents?...` requested by a logged-in
investigator through Flask's test client, and `search_incidents` called alone, and prints
p50/p95/p99 in milliseconds. The baseline is a primary-key lookup of one incident through the
same session, timed in the same run. Target: p95 under 100 ms for every kind, on each database.

    python bench/search.py                          # 100,000 incidents, 500,000 evidence items
    python bench/search.py --incidents 5000 --evidence 20000 --requests 40
    python bench/search.py --postgres postgresql://postgres@127.0.0.1:5432/test

Exit status: 0 when every target is met, 1 when one is missed, 2 when the run failed.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import postgres_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 100.0
BATCH = 5_000
CASES = 50
PASSWORD = "bench-search-Passw0rd!"
EMAIL = "investigator@example.org"

# ---- the synthetic records -----------------------------------------------------------------------

PLACES = ["Stepanakert", "Shushi", "Martuni", "Hadrut", "Ganja", "Tartar", "Barda", "Mariupol",
          "Kharkiv", "Izium", "Bucha", "Khan Younis", "Deir al-Balah", "Aleppo", "Idlib",
          "Ağdam", "Şuşa", "Füzuli", "Степанакерт", "Маріуполь", "Харків", "Ստեփանակերտ",
          "Մարտունի", "حلب", "إدلب", "خان يونس", "Café du Marché", "Hôpital Saint-Éloi"]
AREAS = ["Northern district", "Southern district", "Eastern oblast", "Région centrale",
         "Арцахская область", "Շուշիի շրջան", "محافظة حلب", "Donetsk oblast"]
SUBJECTS = ["residential quarter", "market", "school", "hospital", "bakery", "water station",
            "bridge", "shelter", "kindergarten", "power substation", "mosque", "church",
            "рынок", "школа", "больница", "шукарня", "դպրոց", "հիվանդանոց", "շուկա",
            "مدرسة", "مستشفى", "سوق", "école", "marché", "hôpital"]
SENTENCES = [
    "Witnesses describe repeated impacts at dawn; craters and fragments photographed the next "
    "morning are consistent with artillery fire from the north-east.",
    "Residents sheltered in basements while the quarter was hit; several houses burned down.",
    "Medical staff report that the ambulance entrance was struck while patients were inside.",
    "Свидетели описывают удары по жилому кварталу; на месте найдены осколки снарядов.",
    "Мешканці ховалися в підвалах; кілька будинків згоріли після обстрілу.",
    "Ականատեսները նկարագրում են բնակելի թաղամասի ռմբակոծությունը վաղ առավոտյան։",
    "وصف الشهود سقوط قذائف متكررة على حي سكني عند الفجر، وتضررت مدرسة قريبة.",
    "Les témoins décrivent des frappes répétées sur le marché; plusieurs étals ont été détruits.",
    "Sakinlər zirzəmilərdə gizləndilər; bir neçə ev yandı.",
    "Open-source posts published within the hour show smoke over the area and a damaged road.",
    "The munition remnants carry lot markings that were photographed and measured on site.",
]
WEAPONS = ["122 mm artillery", "BM-21 Grad rocket", "cluster munition 9N210", "Shahed-136 drone",
           "152 mm howitzer", "unguided aerial bomb", "anti-personnel mine PFM-1", "mortar 82 mm"]
TYPES = ["shelling", "air_strike", "drone_strike", "cluster_munition", "rocket", "landmine",
         "attack_on_medical_care", "attack_on_infrastructure", "displacement", "ill_treatment",
         "other"]
VERIFICATION = ["unverified", "partly_verified", "verified", "disputed"]
WORKFLOW = ["draft", "submitted", "in_legal_review", "approved"]
START = datetime(2014, 1, 1, tzinfo=UTC)


def _case_ref(n: int) -> str:
    return f"BS-{2014 + n % 10}-{n + 1:03d}"


def incident_rows(count: int, rng: random.Random, user_id: int):
    """Incidents spread over the cases and ten years, in batches of dicts."""
    per_case = [0] * CASES
    batch = []
    for n in range(count):
        case = n % CASES
        per_case[case] += 1
        moment = START + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
        subject, place = rng.choice(SUBJECTS), rng.choice(PLACES)
        narrative = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(3, 9)))
        batch.append({
            "ref": f"{_case_ref(case)}-I{per_case[case]:03d}", "case_id": case + 1,
            "title": f"{rng.choice(['Shelling of', 'Strike on', 'Attack on', 'Удар по'])} "
                     f"{subject} in {place}",
            "incident_type": rng.choice(TYPES), "occurred_from": moment,
            "occurred_to": moment + timedelta(hours=rng.randint(0, 6)) if n % 3 else None,
            "date_precision": "day", "place_name": place, "admin_area": rng.choice(AREAS),
            "country": rng.choice(["ARM", "AZE", "UKR", "SYR", "PSE"]),
            "latitude": 39 + rng.random(), "longitude": 46 + rng.random(),
            "location_precision_m": 100, "weapon_type": rng.choice(WEAPONS),
            "munition_details": "Fragments photographed with a scale.", "narrative": narrative,
            "killed_min": None, "killed_max": None, "injured_min": None, "injured_max": None,
            "children_killed": None, "children_injured": None, "civilian_objects": [],
            "military_objective_notes": "",
            "verification_status": rng.choice(VERIFICATION),
            "workflow_status": rng.choices(WORKFLOW, weights=[5, 3, 2, 10])[0],
            "created_at": moment, "created_by_id": user_id, "updated_at": moment, "version": 1,
        })
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def evidence_rows(count: int, incidents: int, rng: random.Random, user_id: int):
    """Evidence items, each linked to one incident of its case: (evidence, links) batches."""
    items, links = [], []
    for e in range(count):
        incident_id = rng.randrange(incidents) + 1
        case = (incident_id - 1) % CASES
        moment = START + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
        items.append({
            "id": e + 1, "ref": f"{_case_ref(case)}-E{e + 1:06d}", "case_id": case + 1,
            "kind": rng.choice(["photo", "video", "document", "testimony", "open_source_post"]),
            "title": f"{rng.choice(['Photo of', 'Video of', 'Statement on'])} "
                     f"{rng.choice(SUBJECTS)}",
            "description": rng.choice(SENTENCES), "source_url": "", "source_platform": "",
            "source_author": "", "acquired_by": "field team", "acquisition_method": "",
            "sensitivity": "restricted", "original_filename": f"item-{e}.jpg",
            "sha256": f"{e:064x}", "size": 100_000 + e, "media_type": "image/jpeg",
            "capture_device": "", "metadata_note": "", "created_at": moment,
            "created_by_id": user_id, "version": 1,
        })
        links.append({"incident_id": incident_id, "evidence_id": e + 1, "relevance": "",
                      "linked_at": moment})
        if len(items) == BATCH * 2:
            yield items, links
            items, links = [], []
    if items:
        yield items, links


def generate(url: str, incidents: int, evidence: int) -> float:
    """Create the schema and the records; returns the seconds it took."""
    import sqlalchemy as sa

    from ihl_docs.auth.services import create_user
    from ihl_docs.core.audit import log as audit
    from ihl_docs.core.db import make_engine, open_session
    from ihl_docs.core.models import Case, CaseMember, Evidence, Incident, IncidentEvidence
    from ihl_docs.core.schema import upgrade

    started = time.perf_counter()
    rng = random.Random(7)
    engine = make_engine(url)
    upgrade(engine)
    # The account and its memberships through the application, with their audit entries: a
    # membership or an account no entry vouches for grants nothing. The records searched are
    # inserted in bulk (the search does not consult the log).
    with open_session(engine, write=True) as session:
        user_id = create_user(session, EMAIL, "investigator", PASSWORD, name="Bench Investigator",
                              actor="bench").id
        for n in range(CASES):
            audit.record(session, actor="bench", action="add_member", entity="case_member",
                         entity_id=f"{_case_ref(n)}:{EMAIL}", case_ref=_case_ref(n),
                         after={"case": _case_ref(n), "user": EMAIL, "role": "investigator"})
        session.commit()
    with engine.begin() as conn:
        conn.execute(sa.insert(Case), [
            {"id": n + 1, "ref": _case_ref(n), "title": f"Case {n + 1}", "summary": "",
             "conflict_classification": "international", "status": "open",
             "incident_counter": incidents // CASES + 1, "evidence_counter": evidence,
             "dossier_counter": 0, "created_at": START, "version": 1} for n in range(CASES)])
        conn.execute(sa.insert(CaseMember), [
            {"case_id": n + 1, "user_id": user_id, "added_at": START} for n in range(CASES)])
        for batch in incident_rows(incidents, rng, user_id):
            conn.execute(sa.insert(Incident), batch)
        for items, links in evidence_rows(evidence, incidents, rng, user_id):
            conn.execute(sa.insert(Evidence), items)
            conn.execute(sa.insert(IncidentEvidence), links)
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('incident', 'id'), "
                                 "(SELECT max(id) FROM incident))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


# ---- the queries ---------------------------------------------------------------------------------

def query_kinds(rng: random.Random, incidents: int) -> dict[str, list[dict]]:
    """Kinds of list request, each with varied arguments (the query string's fields)."""
    def some(n, make):
        return [make() for _ in range(n)]

    common = ["market", "school", "hospital", "residential", "witnesses", "fragments"]
    rare = ["kindergarten", "mosque", "substation", "Füzuli", "Hôpital", "bakery"]
    foreign = ["Ստեփանակերտ", "школа", "مدرسة", "больница", "Маріуполь", "حلب", "շուկա"]
    prefixes = ["mark", "hosp", "kinder", "Степ", "Ստեփ", "frag", "wit"]
    years = list(range(2014, 2024))

    def ref():
        n = rng.randrange(incidents)
        return f"{_case_ref(n % CASES)}-I{n // CASES + 1:03d}"

    def dates():
        year = rng.choice(years)
        return {"date_from": f"{year}-{rng.randint(1, 12):02d}-01",
                "date_to": f"{year + 1}-{rng.randint(1, 12):02d}-01"}

    return {
        "no filter, page 1": some(10, dict),
        "no filter, page 50": some(10, lambda: {"page": str(rng.randint(40, 60))}),
        "type": some(10, lambda: {"incident_type": rng.choice(TYPES)}),
        "workflow + verification": some(10, lambda: {
            "workflow_status": rng.choice(WORKFLOW),
            "verification_status": rng.choice(VERIFICATION)}),
        "date range": some(10, dates),
        "one common word": some(10, lambda: {"q": rng.choice(common)}),
        "one rare word": some(10, lambda: {"q": rng.choice(rare)}),
        "non-Latin word": some(10, lambda: {"q": rng.choice(foreign)}),
        "prefix": some(10, lambda: {"q": rng.choice(prefixes)}),
        "two words": some(10, lambda: {"q": f"{rng.choice(common)} {rng.choice(PLACES)}"}),
        "reference": some(10, lambda: {"q": ref()}),
        "word + type + dates": some(10, lambda: {"q": rng.choice(common + foreign),
                                                 "incident_type": rng.choice(TYPES), **dates()}),
        "word, no match": some(10, lambda: {"q": f"zzyzx{rng.randint(0, 999)}"}),
        "case list + word": some(10, lambda: {"case": _case_ref(rng.randrange(CASES)),
                                              "q": rng.choice(common + foreign)}),
    }


def _app(url: str, instance: Path):
    os.environ["IHL_INSTANCE_DIR"] = str(instance)
    from ihl_docs import create_app

    return create_app({"DATABASE_URL": url, "EVIDENCE_DIR": str(instance / "evidence"),
                       "SECRET_KEY": "bench-search", "WTF_CSRF_ENABLED": False,
                       "QUEUE_IMMEDIATE": True})


def _filter_for(session, args: dict):
    from sqlmodel import select

    from ihl_docs.core.access import visible_cases
    from ihl_docs.core.forms_support import day_end, day_start
    from ihl_docs.core.models import Case, User
    from ihl_docs.incidents.services import IncidentFilter

    user = session.exec(select(User).where(User.email == EMAIL)).one()
    day = lambda text: datetime.fromisoformat(text).date() if text else None  # noqa: E731
    flt = IncidentFilter(incident_type=args.get("incident_type"),
                         verification_status=args.get("verification_status"),
                         workflow_status=args.get("workflow_status"), q=args.get("q"),
                         date_from=day_start(day(args.get("date_from"))),
                         date_to=day_end(day(args.get("date_to"))))
    case = None
    if args.get("case"):
        case = session.exec(select(Case).where(Case.ref == args["case"])).one()
    else:
        flt.case_ids = list(session.exec(visible_cases(session, user)
                                         .with_only_columns(Case.id)).all())
    return case, flt


def _timings(run, rounds: int) -> list[float]:
    run()  # warm: the first request pays for imports, templates and the page cache
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(url: str, instance: Path, rounds: int, incidents: int) -> dict:
    """Timings in ms: the baseline, then each kind through the page and the service."""
    from urllib.parse import urlencode

    from ihl_docs.core.db import open_session
    from ihl_docs.core.models import Incident
    from ihl_docs.incidents.services import search_incidents
    from ihl_docs.incidents.views import COUNT_LIMIT

    app = _app(url, instance)
    client = app.test_client()
    answer = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    if answer.status_code != 302:
        raise RuntimeError(f"login failed: {answer.status_code}")
    rng = random.Random(11)
    session = open_session(app.extensions["ihl_engine"], write=False)
    ids = [rng.randrange(incidents) + 1 for _ in range(rounds * 10)]
    pk = iter(ids * 2)
    results = {"baseline": _timings(lambda: (session.get(Incident, next(pk)),
                                             session.expunge_all()), rounds * 10)}
    for kind, variants in query_kinds(rng, incidents).items():
        cycle = iter(variants * (rounds + 1))

        def page():
            args = dict(next(cycle))
            case = args.pop("case", None)
            path = f"/cases/{case}/incidents" if case else "/incidents"
            response = client.get(f"{path}?{urlencode(args)}")
            if response.status_code != 200:
                raise RuntimeError(f"{path}?{urlencode(args)} answered {response.status_code}")

        def service():
            args = next(cycle)
            case, flt = _filter_for(session, args)
            offset = (int(args.get("page", 1)) - 1) * 25
            search_incidents(session, case, flt, offset=offset, limit=25,
                             count_limit=max(COUNT_LIMIT, offset + 25))
            session.expunge_all()

        results[f"page: {kind}"] = _timings(page, rounds)
        cycle = iter(variants * (rounds + 1))
        results[f"service: {kind}"] = _timings(service, rounds)
    session.close()
    app.extensions["ihl_engine"].dispose()
    return results


def _percentile(times: list[float], p: float) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[p - 1] if len(times) > 1 \
        else times[0]


def report(label: str, results: dict) -> bool:
    """Print the figures; True when every kind's p95 is under the target."""
    base = statistics.median(results["baseline"])
    print(f"[{label}] baseline (primary-key lookup): p50 {base:.2f} ms")
    print(f"[{label}] {'kind':<40} {'p50':>8} {'p95':>8} {'p99':>8} {'p95/base':>9}")
    met = True
    for kind, times in results.items():
        if kind == "baseline":
            continue
        p50, p95, p99 = (_percentile(times, p) for p in (50, 95, 99))
        mark = "" if p95 < TARGET_P95_MS else "  MISSED"
        met &= p95 < TARGET_P95_MS
        print(f"[{label}] {kind:<40} {p50:8.1f} {p95:8.1f} {p99:8.1f} {p95 / base:9.0f}{mark}")
    return met


def bench(label: str, url: str, work: Path, options) -> bool:
    seconds = generate(url, options.incidents, options.evidence)
    print(f"[{label}] {options.incidents:,} incidents and {options.evidence:,} evidence items "
          f"generated in {seconds:.1f} s")
    return report(label, measure(url, work / f"instance-{label}", options.requests,
                                 options.incidents))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--evidence", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=100,
                        help="timed requests per kind of query, page and service each")
    parser.add_argument("--postgres", metavar="URL",
                        help="also measure on PostgreSQL, in a temporary database on URL's server")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--workdir", type=Path, help="put the instance here (default: a tmp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the instance afterwards")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ihl-bench-search-", dir=options.workdir))
    pg_name = None
    met = True
    try:
        print(f"load average: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
        if not options.skip_sqlite:
            met &= bench("sqlite", f"sqlite:///{work}/ihl.sqlite3", work, options)
        if options.postgres:
            pg_name = f"ihl_bench_search_{uuid.uuid4().hex[:8]}"
            pg_url = postgres_database(options.postgres, pg_name, create=True)
            met &= bench("postgresql", pg_url, work, options)
        print(f"load average: {os.getloadavg()[0]:.2f} (1 min)")
    except (RuntimeError, OSError) as exc:
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
