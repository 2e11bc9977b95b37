"""The dossier build: collect, plan sections, render them (cached, in parallel), assemble.

Each section — the case summary, one incident, a slice of the evidence register or of an annex —
is rendered as its own small document, so sections render side by side in worker processes and
one whose HTML did not change is taken from the cache by the hash of that HTML. Page numbers,
the contents page and the bookmarks are made after all sections are known, so a section's bytes
never depend on where it lands.
"""

import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from ihl_docs.core.audit.chain import canonical_json
from ihl_docs.core.models import label
from ihl_docs.dossiers import render
from ihl_docs.dossiers.content import collect, fingerprint
from ihl_docs.dossiers.pdf import OutlineEntry, assemble

REGISTER_ROWS = 90
CUSTODY_ITEMS = 60
IMAGES_PER_SECTION = 60
# Less HTML than this to render: render it here rather than start worker processes.
INLINE_LIMIT = 200_000
# Attachments must carry dates; a fixed one keeps the bytes free of the wall clock.
ATTACHMENT_DATE = datetime(2000, 1, 1, tzinfo=UTC)
MANIFEST_FORMAT = "ihl_docs dossier manifest 1"


@dataclass(frozen=True)
class Section:
    title: str
    html: str
    group: str | None = None   # sections of a group share one top-level bookmark


def build(session, case, *, audience, prepared_by, store, out, cache_dir, progress,
          processes: int | None = None):
    from ihl_docs.dossiers.build import BuiltDossier

    progress("collecting the records", 2)
    content = collect(session, case, audience=audience, prepared_by=prepared_by, store=store)
    case_fingerprint = fingerprint(content)
    env = template_environment()
    page_css = render.page_css(f"{case.ref} · case dossier", content["marking"])
    progress("writing the sections", 5)
    sections = plan_sections(env, content)
    pdfs = render_sections(sections, page_css, str(store.root), cache_dir, progress, processes)
    progress("assembling the dossier", 90)
    manifest = make_manifest(content, case_fingerprint)
    manifest_bytes = canonical_json(manifest).encode("utf-8")
    content_bytes = canonical_json({k: v for k, v in content.items()
                                    if k != "prepared_by"}).encode("utf-8")
    manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
    counts = [pages for _, pages in pdfs]
    front, toc = render_front(env, content, sections, counts, page_css, str(store.root),
                              case_fingerprint, manifest_sha, manifest_bytes, content_bytes)
    data, total = assemble(front, [pdf for pdf, _ in pdfs], make_outline(toc))
    out.write(data)
    progress("done", 100)
    return BuiltDossier(sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                        page_count=total, case_fingerprint=case_fingerprint, manifest=manifest)


# ---- templates --------------------------------------------------------------------------------

def template_environment() -> Environment:
    from ihl_docs.core.config import template_folder as _template_folder

    env = Environment(loader=FileSystemLoader(_template_folder()),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(label=lambda v: label(v) if v else "", when=when, hash=hash_text,
                       size=size_text)
    env.globals.update(harm=harm, coordinates=coordinates, thumb_url=render.thumbnail_url)
    return env


def when(value: str | None, precision: str = "exact") -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(UTC)
    if precision == "month":
        return moment.strftime("%B %Y")
    if precision == "day":
        return moment.strftime("%Y-%m-%d")
    if precision == "approximate":
        return "about " + moment.strftime("%Y-%m-%d")
    if precision == "minute":
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def hash_text(value: str | None, group: int = 16) -> Markup:
    """A SHA-256 in groups, so a narrow column can break it between groups."""
    if not value:
        return Markup("")
    return Markup(" ").join(value[i:i + group] for i in range(0, len(value), group))


def size_text(value: int | None) -> str:
    if value is None:
        return "—"
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def harm(low, high, children) -> str:
    if low is None and high is None:
        return "not recorded"
    text = str(low if low is not None else "?") if low == high else \
        f"{low if low is not None else '?'}–{high if high is not None else '?'}"
    return text + (f" (of whom children: {children})" if children else "")


def coordinates(incident: dict) -> str:
    lat, lon = incident.get("latitude"), incident.get("longitude")
    if lat is None or lon is None:
        return "not recorded"
    precision = incident.get("location_precision_m")
    return f"{lat:.5f}, {lon:.5f}" + (f" (± {precision} m)" if precision is not None else "")


# ---- sections ---------------------------------------------------------------------------------

def plan_sections(env: Environment, content: dict) -> list[Section]:
    """Every section in reading order, with its HTML."""
    def page(template, **context):
        return env.get_template(f"dossier/{template}").render(c=content, **context)

    sections = [Section("1. Case summary", page("summary.html"))]
    for n, incident in enumerate(content["incidents"]):
        sections.append(Section(f"{incident['ref']} — {incident['title']}",
                                page("incident.html", i=incident, first=n == 0), "2. Incidents"))
    items = content["evidence"]
    sections += _sliced(page, "register.html", "3. Evidence register", items, REGISTER_ROWS)
    sections += _sliced(page, "custody.html", "Annex A. Chains of custody", items, CUSTODY_ITEMS)
    images = [item for item in items if item.get("thumbnail")]
    sections += _sliced(page, "images.html", "Annex B. Images", images, IMAGES_PER_SECTION)
    sections.append(Section("Annex C. Provisions cited", page("provisions.html")))
    return sections


def _sliced(page, template, title, items, size) -> list[Section]:
    slices = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    return [Section(title, page(template, items=chunk, first=n == 0), title)
            for n, chunk in enumerate(slices)]


def render_sections(sections, page_css, store_root, cache_dir, progress,
                    processes=None) -> list[tuple[bytes, int]]:
    """Each section's PDF and page count, from the cache or rendered now."""
    salt = render.renderer_id() + page_css
    jobs = [render.SectionJob(hashlib.sha256((salt + s.html).encode("utf-8")).hexdigest(),
                              s.html, page_css, store_root) for s in sections]
    cache = SectionCache(Path(cache_dir)) if cache_dir else None
    done: dict[str, tuple[bytes, int]] = {}
    for job in jobs:
        hit = cache.get(job.key) if cache else None
        if hit:
            done[job.key] = hit
    todo = {job.key: job for job in jobs if job.key not in done}
    total, finished = len(todo), 0

    def record(key, pdf, pages):
        nonlocal finished
        done[key] = (pdf, pages)
        if cache:
            cache.put(key, pdf, pages)
        finished += 1
        progress(f"rendering sections ({finished} of {total})", 5 + 85 * finished // max(total, 1))

    ordered = sorted(todo.values(), key=lambda j: len(j.html), reverse=True)
    workers = min(processes or os.cpu_count() or 1, len(ordered))
    if sum(len(j.html) for j in ordered) < INLINE_LIMIT or workers < 2:
        for job in ordered:
            record(*render.render_section(job))
    else:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ihl_docs.dossiers.render", "weasyprint"])
        # A pool per build: its workers, and their memory, end with the build. (No
        # max_tasks_per_child: on Python 3.11 a worker retiring that way can hang the pool.)
        with ProcessPoolExecutor(workers, mp_context=context, initializer=render.warm_up,
                                 initargs=(store_root,)) as pool:
            for future in as_completed([pool.submit(render.render_section, j) for j in ordered]):
                record(*future.result())
    return [done[job.key] for job in jobs]


class SectionCache:
    """Rendered sections by the hash of everything that decides their bytes."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pdf"

    def get(self, key: str) -> tuple[bytes, int] | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        pages, _, pdf = data.partition(b"\n")
        if not pages.isdigit() or not pdf.startswith(b"%PDF"):
            return None
        return pdf, int(pages)

    def put(self, key: str, pdf: bytes, pages: int) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.{time.monotonic_ns()}.tmp")
            temporary.write_bytes(b"%d\n" % pages + pdf)
            os.replace(temporary, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


# ---- front matter, manifest, bookmarks ----------------------------------------------------------

def make_manifest(content: dict, case_fingerprint: str) -> dict:
    return {
        "format": MANIFEST_FORMAT,
        "case": content["case"]["ref"],
        "audience": content["audience"],
        "prepared_by": content["prepared_by"],
        "case_fingerprint": case_fingerprint,
        "content_file": "content.json",
        "evidence": [{"ref": e["ref"], "sha256": e["sha256"], "size": e["size"],
                      "kind": e["kind"], "shown": "described" if e.get("described_only") else "full"}
                     for e in content["evidence"]],
        "withheld_count": content["withheld_count"],
        "renderer": render.renderer_versions(),
    }


def _starts(counts: list[int], first_page: int) -> list[int]:
    starts, page = [], first_page
    for count in counts:
        starts.append(page)
        page += count
    return starts


def contents(sections: list[Section], starts: list[int]) -> list[dict]:
    """The contents entries — a group once, incidents one by one — with 0-based start pages."""
    entries, groups = [], set()
    for section, start in zip(sections, starts):
        if section.group and section.group not in groups:
            groups.add(section.group)
            entries.append({"title": section.group, "page": start, "level": 1})
        if section.group == "2. Incidents":
            entries.append({"title": section.title, "page": start, "level": 2})
        elif not section.group:
            entries.append({"title": section.title, "page": start, "level": 1})
    return entries


def render_front(env, content, sections, counts, page_css, store_root, case_fingerprint,
                 manifest_sha, manifest_bytes, content_bytes) -> tuple[bytes, list[dict]]:
    """Cover and contents as PDF/A-3b with the attachments; re-rendered if its length changes.
    Returns the PDF and the contents entries as placed."""
    from weasyprint import Attachment

    fetcher = render.make_fetcher(Path(store_root))

    def attachments():  # an Attachment can be written once: new ones for each render
        return [
            Attachment(string=manifest_bytes, name="manifest.json", url_fetcher=fetcher,
                       description="Evidence refs and SHA-256, case fingerprint, renderer versions",
                       created=ATTACHMENT_DATE, modified=ATTACHMENT_DATE, relationship="Data"),
            Attachment(string=content_bytes, name="content.json", url_fetcher=fetcher,
                       description="Everything the dossier shows; its SHA-256 is the case "
                                   "fingerprint", created=ATTACHMENT_DATE,
                       modified=ATTACHMENT_DATE, relationship="Source"),
        ]

    # The cover is one page; the contents take about 45 entries a page. Re-rendered if not.
    front_pages = 1 + max(1, -(-len(contents(sections, counts)) // 45))
    for _ in range(4):
        toc = contents(sections, _starts(counts, front_pages))
        html = env.get_template("dossier/front.html").render(
            c=content, toc=toc, fingerprint=case_fingerprint, manifest_sha256=manifest_sha)
        pdf, pages = render.render_html(html, page_css, store_root, pdf_variant="pdf/a-3b",
                                        attachments=attachments())
        if pages == front_pages:
            break
        front_pages = pages
    return pdf, contents(sections, _starts(counts, front_pages))


def make_outline(toc: list[dict]) -> list[OutlineEntry]:
    """The bookmarks: cover, contents, then the contents entries, incidents under their group."""
    top = [OutlineEntry("Cover", 0), OutlineEntry("Contents", 1)]
    children: dict[int, list[OutlineEntry]] = {}
    for entry in toc:
        if entry["level"] == 1:
            top.append(OutlineEntry(entry["title"], entry["page"]))
        else:
            children.setdefault(len(top) - 1, []).append(OutlineEntry(entry["title"], entry["page"]))
    return [OutlineEntry(e.title, e.page, tuple(children.get(n, ()))) for n, e in enumerate(top)]
