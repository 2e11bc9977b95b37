#!/usr/bin/env python3
"""Dossier benchmark: our build against plain WeasyPrint (and Chromium) on the same HTML.

Generates a synthetic case (default 200 incidents and 4,000 evidence items, about 400 pages) in
an instance of its own, then measures, each in a fresh process so that peak memory is its own:

- our full build, with an empty section cache, as a ratio to plain WeasyPrint rendering the same
  HTML (every section, front matter included) in one piece. Target: at most 0.5;
- our rebuild after one incident's narrative is edited, as a ratio to our full build.
  Target: at most 0.1;
- Chromium's print-to-PDF of the same HTML, where /usr/bin/chromium exists (for reference:
  it has no page counters, running headers or PDF/A);
- peak memory: the building process and its largest render worker. Target: under 1 GiB.

    python bench/dossier.py                       # 200 incidents, 4,000 items
    python bench/dossier.py --incidents 50 --evidence 1000
    python bench/dossier.py --audience court      # with 20 protected terms replaced throughout

Exit status 0 when every target is met, 1 when one is missed, 2 when the run failed.
"""

import argparse
import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import run_child

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_FULL = 0.5
TARGET_REBUILD = 0.1
TARGET_MEMORY = 1024 ** 3
CHROMIUM = "/usr/bin/chromium"
CASE_REF = "BENCH-001"


def _app(instance: Path):
    os.environ["IHL_INSTANCE_DIR"] = str(instance)
    from ihl_docs import create_app

    return create_app({"DATABASE_URL": f"sqlite:///{instance}/ihl.sqlite3",
                       "EVIDENCE_DIR": str(instance / "evidence"),
                       "SECRET_KEY": "bench", "QUEUE_URL": f"sqlite:///{instance}/queue.db"})


def _peak() -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"peak_self": own, "peak_worker": children}


# ---- the synthetic case -------------------------------------------------------------------------

def generate(instance: Path, incidents: int, evidence: int) -> None:
    from PIL import Image
    from sqlmodel import select

    from ihl_docs.cases.services import create_case
    from ihl_docs.core.db import open_session
    from ihl_docs.core.models import (
        CaseCreate,
        CustodyEvent,
        ElementEvidence,
        ElementFinding,
        Evidence,
        EvidenceDerivative,
        Incident,
        IncidentEvidence,
        ProtectedTerm,
        Provision,
        ProvisionElement,
        Qualification,
        User,
    )
    from ihl_docs.core.schema import upgrade
    from ihl_docs.evidence.metadata import make_thumbnail
    from ihl_docs.provisions import catalogue

    app = _app(instance)
    engine, store = app.extensions["ihl_engine"], app.extensions["ihl_store"]
    upgrade(engine)
    session = open_session(engine, write=True)
    catalogue.load_bundled(session, actor="bench")
    user = User(email="bench@example.org", name="Bench Lawyer", role="admin", password_hash="x")
    session.add(user)
    session.flush()
    case = create_case(session, CaseCreate.model_validate({
        "ref": CASE_REF, "title": "Synthetic case for the dossier benchmark",
        "summary": "Invented records. " * 40, "conflict_classification": "international",
        "parties": [{"name": "State A", "kind": "state", "state_code": "ARM"},
                    {"name": "Group B", "kind": "non-state"}]}), actor=user)
    provisions = list(session.exec(select(Provision).where(Provision.key.in_(
        ["api-51-4", "cihl-71", "rs-8-2-b-i", "api-51-2"]))))
    elements = {p.id: list(session.exec(select(ProvisionElement).where(
        ProvisionElement.provision_id == p.id))) for p in provisions}
    start = datetime(2020, 9, 27, 6, 0, tzinfo=UTC)
    thumbs = []
    for n in range(40):  # forty distinct photos; every tenth item shows one of them
        image = Image.new("RGB", (640, 480), (n * 6 % 255, 90, 160 - n * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        data = out.getvalue()
        stored = store.put_bytes(data)
        thumb = store.put_bytes(make_thumbnail(store.path_for(stored.sha256)))
        thumbs.append((stored.sha256, len(data), thumb.sha256, thumb.size))
    # twenty protected witnesses, one named in every narrative: court and public editions
    # replace them (and the phone number) throughout
    for n in range(1, 21):
        session.add(ProtectedTerm(case_id=case.id, number=n, kind="name", match="text",
                                  term=f"Witness Surname{n}", created_by=user.email))
    narrative = ("Witnesses describe repeated impacts in a residential quarter; the craters and "
                 "fragments photographed the next morning are consistent with artillery fire "
                 "from the north-east. ") * 5 + ("Witness Surname3 (phone +374 55 501 010) saw "
                                                 "the first impact. ")
    incident_rows = []
    for i in range(incidents):
        row = Incident(ref=f"{CASE_REF}-I{i + 1:03d}", case_id=case.id,
                       title=f"Shelling of residential quarter no. {i + 1}",
                       incident_type=("shelling", "rocket", "cluster_munition", "air_strike")[i % 4],
                       occurred_from=start + timedelta(hours=7 * i), date_precision="exact",
                       place_name=f"Quarter {i + 1}", admin_area="Northern district",
                       country="ARM", latitude=39.8 + i / 1000, longitude=46.75 + i / 1000,
                       location_precision_m=50, weapon_type="122 mm artillery",
                       munition_details="Fragments with lot markings.", narrative=narrative,
                       killed_min=i % 3, killed_max=i % 3 + 2, injured_min=1, injured_max=6,
                       civilian_objects=["residential"], verification_status="partly_verified",
                       created_by_id=user.id)
        session.add(row)
        incident_rows.append(row)
    session.flush()
    items = []
    for e in range(evidence):
        photo = e % 10 == 0
        sha, size, tsha, tsize = thumbs[e // 10 % len(thumbs)] if photo else (
            f"{e:064x}", 20_000 + e, None, None)
        if photo:  # a content-addressed case holds each file once
            sha = f"{e:064x}"
        item = Evidence(ref=f"{CASE_REF}-E{e + 1:04d}", case_id=case.id,
                        kind="photo" if photo else ("document", "video", "testimony",
                                                    "open_source_post")[e % 4],
                        title=f"Item {e + 1}: material on incident {e % incidents + 1}",
                        description="", source_platform="Telegram" if e % 3 == 0 else "",
                        source_author="channel_name" if e % 3 == 0 else "",
                        acquired_at=start + timedelta(days=3, minutes=e),
                        acquired_by="Field team", acquisition_method="Downloaded and hashed",
                        sensitivity=("public", "restricted", "confidential")[e % 3],
                        reliability="B", credibility="2", sha256=sha, size=size,
                        media_type="image/jpeg" if photo else "application/pdf",
                        # uploaded the day after collection, as a team working as it should
                        created_at=start + timedelta(days=4, minutes=e), created_by_id=user.id)
        session.add(item)
        items.append((item, tsha, tsize))
    session.flush()
    for e, (item, tsha, tsize) in enumerate(items):
        if tsha:
            session.add(EvidenceDerivative(evidence_id=item.id, purpose="thumbnail", sha256=tsha,
                                           size=tsize, media_type="image/jpeg"))
        when = start + timedelta(days=3, minutes=e)
        session.add(CustodyEvent(evidence_id=item.id, action="collected", occurred_at=when,
                                 custodian_to="Field team", actor="bench@example.org",
                                 place="Field office", sha256_observed=item.sha256,
                                 hash_matched=True, recorded_at=when + timedelta(hours=1)))
        session.add(CustodyEvent(evidence_id=item.id, action="transferred",
                                 occurred_at=when + timedelta(days=2), custodian_from="Field team",
                                 custodian_to="Evidence unit", actor="bench@example.org",
                                 purpose="Archiving", sha256_observed=item.sha256,
                                 hash_matched=True,
                                 recorded_at=when + timedelta(days=2, hours=1)))
        session.add(IncidentEvidence(incident_id=incident_rows[e % incidents].id,
                                     evidence_id=item.id, relevance="Shows the impact site"))
    session.flush()
    for i, incident in enumerate(incident_rows):
        provision = provisions[i % len(provisions)]
        q = Qualification(incident_id=incident.id, provision_id=provision.id,
                          assessment="probable", analysis="The attack was not directed at a "
                          "specific military objective. " * 3, created_by_id=user.id)
        session.add(q)
        session.flush()
        for element in elements[provision.id]:
            finding = ElementFinding(qualification_id=q.id, element_number=element.number,
                                     status="supported", note="See the photographs.")
            session.add(finding)
            session.flush()
            item = items[(i + element.number * incidents) % len(items)][0]
            session.add(ElementEvidence(finding_id=finding.id, evidence_id=item.id,
                                        stance="supports"))
    case.incident_counter, case.evidence_counter = incidents, evidence
    session.add(case)
    session.commit()
    session.close()


# ---- measurements, each in its own process -------------------------------------------------------

AUDIENCE = os.environ.get("IHL_BENCH_AUDIENCE", "internal")
MARKINGS = {"internal": "CONFIDENTIAL — INTERNAL", "court": "CONFIDENTIAL — FOR THE COURT",
            "public": "PUBLIC"}


def measure_build(instance: Path, out: Path, edit: bool) -> dict:
    from sqlmodel import select

    from ihl_docs.core.db import open_session
    from ihl_docs.core.models import Case, Incident
    from ihl_docs.dossiers.build import build_dossier

    app = _app(instance)
    engine, store = app.extensions["ihl_engine"], app.extensions["ihl_store"]
    session = open_session(engine, write=True)
    case = session.exec(select(Case).where(Case.ref == CASE_REF)).one()
    if edit:
        incident = session.exec(select(Incident).where(Incident.ref == f"{CASE_REF}-I100")).first() \
            or session.exec(select(Incident).where(Incident.case_id == case.id)).first()
        incident.narrative += f" Edited at {time.time()}."
        session.add(incident)
        session.commit()
    started = time.perf_counter()
    with open(out, "wb") as target:
        built = build_dossier(session, case, audience=AUDIENCE, prepared_by="Bench Lawyer",
                              store=store, out=target, cache_dir=instance / "dossier-cache",
                              incidents=[i.ref for i in session.exec(
                                  select(Incident).where(Incident.case_id == case.id))])
    seconds = time.perf_counter() - started
    session.rollback()
    return {"seconds": seconds, "pages": built.page_count, "sha256": built.sha256, **_peak()}


def write_single_html(instance: Path, out: Path, for_chromium: bool) -> None:
    """The same HTML as our build, in one document (front matter and every section)."""
    from sqlmodel import select

    from ihl_docs.core.db import open_session
    from ihl_docs.core.models import Case
    from ihl_docs.dossiers import render
    from ihl_docs.dossiers.content import collect, fingerprint
    from ihl_docs.dossiers.navigation import contents
    from ihl_docs.dossiers.sections import plan_sections
    from ihl_docs.dossiers.templating import template_environment

    app = _app(instance)
    engine, store = app.extensions["ihl_engine"], app.extensions["ihl_store"]
    session = open_session(engine)
    case = session.exec(select(Case).where(Case.ref == CASE_REF)).one()
    from ihl_docs.core.models import Incident

    scope = [i.ref for i in session.exec(select(Incident).where(Incident.case_id == case.id))]
    content = collect(session, case, audience=AUDIENCE, prepared_by="Bench Lawyer", store=store,
                      incidents=scope)
    env = template_environment()
    sections = plan_sections(env, content)
    front = env.get_template("dossier/front.html").render(
        c=content, toc=contents(sections, [0] * len(sections)),
        fingerprint=fingerprint(content), manifest_sha256="0" * 64)
    bodies = [_body(front)] + [f'<div style="break-before: page">{_body(s.html)}</div>'
                               for s in sections]
    head = '<meta charset="utf-8">'
    if for_chromium:  # Chromium gets the stylesheet inline, files by path
        css = render.STYLESHEET.read_text().replace("../fonts/", render.FONTS_DIR.as_uri() + "/")
        head += f"<style>{css}</style>"
        bodies = [re.sub(r'ihl-thumbnail:([0-9a-f]{64})',
                         lambda m: (store.root / m[1][:2] / m[1]).as_uri(), b) for b in bodies]
    out.write_text(f"<!doctype html><html lang=en><head>{head}</head><body>"
                   + "".join(bodies) + "</body></html>")
    session.close()


def _body(html: str) -> str:
    return html.split("<body>", 1)[1].rsplit("</body>", 1)[0]


def measure_plain(instance: Path, html: Path, out: Path) -> dict:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from ihl_docs.dossiers import render

    app = _app(instance)
    store = app.extensions["ihl_store"]
    started = time.perf_counter()
    fonts = FontConfiguration()
    fetcher = render.make_fetcher(store.root)
    css = [CSS(filename=str(render.STYLESHEET), url_fetcher=fetcher, font_config=fonts),
           CSS(string=render.page_css(f"{CASE_REF} · case dossier", MARKINGS[AUDIENCE]),
               font_config=fonts)]
    document = HTML(string=html.read_text(), base_url=render.BASE_URL, url_fetcher=fetcher).render(
        stylesheets=css, font_config=fonts)
    document.write_pdf(out)
    return {"seconds": time.perf_counter() - started, "pages": len(document.pages), **_peak()}


def measure_chromium(html: Path, out: Path) -> dict | None:
    if not os.access(CHROMIUM, os.X_OK):
        return None
    started = time.perf_counter()
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run", "--no-pdf-header-footer", f"--print-to-pdf={out}",
                    html.as_uri()], check=True, capture_output=True, timeout=600)
    return {"seconds": time.perf_counter() - started}


def _child(args: list[str]) -> dict:
    return run_child(__file__, args)


def child_main(args: list[str]) -> None:
    what, instance = args[0], Path(args[1])
    if what == "generate":
        generate(instance, int(args[2]), int(args[3]))
        print(json.dumps({}))
    elif what == "build":
        print(json.dumps(measure_build(instance, Path(args[2]), edit=args[3] == "edit")))
    elif what == "html":
        write_single_html(instance, Path(args[2]), for_chromium=args[3] == "chromium")
        print(json.dumps({}))
    elif what == "plain":
        print(json.dumps(measure_plain(instance, Path(args[2]), Path(args[3]))))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--evidence", type=int, default=4000)
    parser.add_argument("--keep", action="store_true", help="keep the instance and the PDFs")
    parser.add_argument("--audience", choices=sorted(MARKINGS), default="internal",
                        help="the edition built (court and public replace protected terms; "
                             "every incident is covered, approved or not)")
    options = parser.parse_args()
    os.environ["IHL_BENCH_AUDIENCE"] = options.audience  # the measuring processes read it
    work = Path(tempfile.mkdtemp(prefix="ihl-bench-dossier-"))
    try:
        t = time.perf_counter()
        _child(["generate", str(work), str(options.incidents), str(options.evidence)])
        print(f"synthetic case: {options.incidents} incidents, {options.evidence} evidence "
              f"items ({time.perf_counter() - t:.1f} s to generate)")
        _child(["html", str(work), str(work / "single.html"), "weasyprint"])
        _child(["html", str(work), str(work / "chromium.html"), "chromium"])
        full = _child(["build", str(work), str(work / "ours.pdf"), "full"])
        plain = _child(["plain", str(work), str(work / "single.html"), str(work / "plain.pdf")])
        again = _child(["build", str(work), str(work / "again.pdf"), "same"])
        rebuild = _child(["build", str(work), str(work / "rebuilt.pdf"), "edit"])
        chromium = measure_chromium(work / "chromium.html", work / "chromium.pdf")
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: {work}")
    full_ratio = full["seconds"] / plain["seconds"]
    rebuild_ratio = rebuild["seconds"] / full["seconds"]
    peak = max(full["peak_self"], full["peak_worker"], rebuild["peak_self"], rebuild["peak_worker"])
    mib = 1024 * 1024
    print(f"plain WeasyPrint, one piece: {plain['seconds']:6.1f} s  {plain['pages']} pages "
          f"({plain['pages'] / plain['seconds']:.1f} pages/s), peak {plain['peak_self'] / mib:.0f} MiB")
    print(f"our full build (no cache):  {full['seconds']:6.1f} s  {full['pages']} pages  "
          f"ratio {full_ratio:.2f} (target <= {TARGET_FULL})")
    print(f"our build, nothing changed: {again['seconds']:6.1f} s  "
          f"same bytes: {again['sha256'] == full['sha256']}")
    print(f"rebuild after editing one incident: {rebuild['seconds']:6.1f} s  "
          f"ratio {rebuild_ratio:.3f} to the full build (target <= {TARGET_REBUILD})")
    if chromium:
        print(f"Chromium print-to-PDF, same HTML: {chromium['seconds']:6.1f} s  "
              f"ratio {chromium['seconds'] / plain['seconds']:.2f} to plain WeasyPrint")
    else:
        print("Chromium: not installed, not measured")
    print(f"peak memory: building process {max(full['peak_self'], rebuild['peak_self']) / mib:.0f} MiB, "
          f"largest render worker {max(full['peak_worker'], rebuild['peak_worker']) / mib:.0f} MiB "
          f"(target < {TARGET_MEMORY / mib:.0f} MiB)")
    met = full_ratio <= TARGET_FULL and rebuild_ratio <= TARGET_REBUILD and peak < TARGET_MEMORY
    print("targets met" if met else "a target was missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
