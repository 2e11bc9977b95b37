"""The dossier's sections: the content cut into small documents, and their PDFs, cached or rendered in parallel.

Each section — the case summary, one incident, a slice of the evidence register or of an annex —
is rendered as its own small document, so sections render side by side in worker processes and
one whose HTML did not change is taken from the cache by the hash of that HTML.
"""

import hashlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from ihl_docs.dossiers import render
from ihl_docs.dossiers.cache import SectionCache

REGISTER_ROWS = 90
CUSTODY_ITEMS = 60
IMAGES_PER_SECTION = 60
# Less HTML than this to render: render it here rather than start worker processes.
INLINE_LIMIT = 200_000
INCIDENTS = "2. Incidents"  # the group whose sections the contents list one by one

Record = Callable[[str, bytes, int], None]


@dataclass(frozen=True)
class Section:
    title: str
    html: str
    group: str | None = None   # sections of a group share one top-level bookmark


def plan_sections(env: Environment, content: dict, parts: tuple = ()) -> list[Section]:
    """Every section in reading order, with its HTML; the features' parts last."""
    def page(template, **context):
        return env.get_template(f"dossier/{template}").render(c=content, **context)

    sensitivity = {item["ref"]: item["sensitivity"] for item in content["evidence"]}
    sections = [Section("1. Case summary", page("summary.html"))]
    for n, incident in enumerate(content["incidents"]):
        sections.append(Section(f"{incident['ref']} — {incident['title']}",
                                page("incident.html", i=incident, first=n == 0,
                                     sensitivity=sensitivity), INCIDENTS))
    items = content["evidence"]
    sections += _sliced(page, "register.html", "3. Evidence register", items, REGISTER_ROWS)
    sections += _sliced(page, "custody.html", "Annex A. Chains of custody", items, CUSTODY_ITEMS)
    images = [item for item in items if item.get("thumbnail")]
    sections += _sliced(page, "images.html", "Annex B. Images", images, IMAGES_PER_SECTION)
    sections.append(Section("Annex C. Provisions cited", page("provisions.html")))
    for n, image in enumerate(content.get("full_images", [])):
        sections.append(Section(f"{image['ref']} at full resolution",
                                page("full_image.html", image=image, first=n == 0),
                                "Annex D. Images at full resolution"))
    for part in parts:
        added = content.get("parts", {}).get(part.name)
        if added:
            template = env.from_string(part.source) if part.source else \
                env.get_template(part.template)
            sections.append(Section(part.title, template.render(c=content, data=added["data"])))
    return sections


def _sliced(page, template, title, items, size) -> list[Section]:
    slices = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
    return [Section(title, page(template, items=chunk, first=n == 0), title)
            for n, chunk in enumerate(slices)]


def render_sections(sections, page_css, store_root, cache_dir, progress,
                    processes=None) -> list[tuple[bytes, int]]:
    """Each section's PDF and page count, from the cache or rendered now."""
    jobs = _jobs(sections, page_css, store_root)
    cache = SectionCache(Path(cache_dir)) if cache_dir else None
    done = _cached(jobs, cache)
    todo = {job.key: job for job in jobs if job.key not in done}  # the same section once
    record = _recorder(done, cache, progress, len(todo))
    _render(list(todo.values()), store_root, processes, record)
    return [done[job.key] for job in jobs]


def _jobs(sections, page_css, store_root) -> list[render.SectionJob]:
    """A job per section, keyed by the hash of what decides its bytes."""
    salt = render.renderer_id() + page_css
    return [render.SectionJob(hashlib.sha256((salt + s.html).encode("utf-8")).hexdigest(),
                              s.html, page_css, store_root) for s in sections]


def _cached(jobs, cache: SectionCache | None) -> dict[str, tuple[bytes, int]]:
    done: dict[str, tuple[bytes, int]] = {}
    if cache is None:
        return done
    for job in jobs:
        hit = cache.get(job.key)
        if hit:
            done[job.key] = hit
    return done


def _recorder(done, cache: SectionCache | None, progress, total: int) -> Record:
    """Keeps each rendered section, caches it, and says how far the rendering is."""
    finished = 0

    def record(key, pdf, pages):
        nonlocal finished
        done[key] = (pdf, pages)
        if cache:
            cache.put(key, pdf, pages)
        finished += 1
        progress(f"rendering sections ({finished} of {total})", 5 + 85 * finished // max(total, 1))

    return record


def _render(todo, store_root, processes, record: Record) -> None:
    # The longest first, so the pool does not wait on one long section at the end.
    ordered = sorted(todo, key=lambda j: len(j.html), reverse=True)
    workers = min(processes or os.cpu_count() or 1, len(ordered))
    if sum(len(j.html) for j in ordered) < INLINE_LIMIT or workers < 2:
        for job in ordered:
            record(*render.render_section(job))
    else:
        _render_in_pool(ordered, workers, store_root, record)


def _render_in_pool(ordered, workers, store_root, record: Record) -> None:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ihl_docs.dossiers.render", "weasyprint"])
    # A pool per build: its workers, and their memory, end with the build. (No
    # max_tasks_per_child: on Python 3.11 a worker retiring that way can hang the pool.)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=render.warm_up,
                             initargs=(store_root,)) as pool:
        for future in as_completed([pool.submit(render.render_section, j) for j in ordered]):
            record(*future.result())
