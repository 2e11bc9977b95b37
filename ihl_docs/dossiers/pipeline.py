"""The dossier build, step by step: collect, write and render the sections, add the front matter, assemble.

Page numbers, the contents page and the bookmarks are made after all sections are known, so a
section's bytes never depend on where it lands (and each section can be cached).
"""

import hashlib

from ihl_docs.dossiers import render
from ihl_docs.dossiers.assemble import assemble
from ihl_docs.dossiers.build import BuiltDossier
from ihl_docs.dossiers.content import canonical, collect
from ihl_docs.dossiers.front import render_front
from ihl_docs.dossiers.manifest import make_manifest
from ihl_docs.dossiers.navigation import make_outline
from ihl_docs.dossiers.sections import plan_sections, render_sections
from ihl_docs.dossiers.templating import template_environment


def build(session, case, *, audience, prepared_by, store, out, cache_dir, progress,
          processes: int | None = None, parts: tuple = (),
          incidents: list[str] | None = None,
          full_images: list[str] | None = None) -> BuiltDossier:
    """Build the dossier of `case` for `audience` and write its PDF to `out`."""
    progress("collecting the records", 2)
    content = collect(session, case, audience=audience, prepared_by=prepared_by, store=store,
                      parts=parts, incidents=incidents, full_images=full_images)
    content_bytes = canonical(content)
    case_fingerprint = hashlib.sha256(content_bytes).hexdigest()
    env, store_root = template_environment(), str(store.root)
    page_css = render.page_css(f"{case.ref} · case dossier", content["marking"])
    progress("writing the sections", 5)
    sections = plan_sections(env, content, parts)
    pdfs = render_sections(sections, page_css, store_root, cache_dir, progress, processes)
    progress("assembling the dossier", 90)
    manifest = make_manifest(content, case_fingerprint)
    front, toc = render_front(env, content, sections, [pages for _, pages in pdfs], page_css,
                              store_root, manifest, content_bytes)
    data, total = assemble(front, [pdf for pdf, _ in pdfs], make_outline(toc))
    out.write(data)
    progress("done", 100)
    return BuiltDossier(sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                        page_count=total, case_fingerprint=case_fingerprint, manifest=manifest)
