"""The front matter: cover and contents as tagged PDF/A-3b, carrying the manifest and the content as attachments."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment

from ihl_docs.core.audit.chain import canonical_json
from ihl_docs.dossiers import render
from ihl_docs.dossiers.navigation import contents, starts
from ihl_docs.dossiers.sections import Section

# Attachments must carry dates; a fixed one keeps the bytes free of the wall clock.
ATTACHMENT_DATE = datetime(2000, 1, 1, tzinfo=UTC)
ENTRIES_PER_PAGE = 45  # about as many contents entries as a page holds


def render_front(env: Environment, content: dict, sections: list[Section], counts: list[int],
                 page_css: str, store_root: str, manifest: dict,
                 content_bytes: bytes) -> tuple[bytes, list[dict]]:
    """Cover and contents as PDF/A-3b with the attachments; re-rendered if its length changes.
    Returns the PDF and the contents entries as placed."""
    manifest_bytes = canonical_json(manifest).encode("utf-8")
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    fetcher = render.make_fetcher(Path(store_root))
    template = env.get_template("dossier/front.html")
    # The cover is one page, the contents follow; re-rendered if they take more or fewer pages.
    front_pages = 1 + max(1, -(-len(contents(sections, counts)) // ENTRIES_PER_PAGE))
    for _ in range(4):
        html = template.render(c=content, toc=contents(sections, starts(counts, front_pages)),
                               fingerprint=manifest["case_fingerprint"],
                               manifest_sha256=manifest_sha256)
        pdf, pages = render.render_html(
            html, page_css, store_root, pdf_variant="pdf/a-3b", pdf_tags=True,
            attachments=_attachments(manifest_bytes, content_bytes, fetcher))
        if pages == front_pages:
            break
        front_pages = pages
    return pdf, contents(sections, starts(counts, front_pages))


def _attachments(manifest_bytes: bytes, content_bytes: bytes, fetcher) -> list:
    """The content and the manifest; new ones for each render, as an Attachment is written once.
    In the order of their names: WeasyPrint writes the name tree in the order given, and a name
    tree's keys must be sorted (the signature's update appends signing.json after them)."""
    from weasyprint import Attachment

    return [
        Attachment(string=content_bytes, name="content.json", url_fetcher=fetcher,
                   description="Everything the dossier shows; its SHA-256 is the case "
                               "fingerprint", created=ATTACHMENT_DATE,
                   modified=ATTACHMENT_DATE, relationship="Source"),
        Attachment(string=manifest_bytes, name="manifest.json", url_fetcher=fetcher,
                   description="Evidence refs and SHA-256, case fingerprint, renderer versions",
                   created=ATTACHMENT_DATE, modified=ATTACHMENT_DATE, relationship="Data"),
    ]
