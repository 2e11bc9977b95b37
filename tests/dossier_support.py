"""Shared by the dossier tests: a quick stand-in for the PDF renderer, and a dossier builder.

The stand-in keeps the renderer's promises that the dossier records rely on (it only reads the
database, writes the bytes it reports to `out`, calls `progress`, lists the evidence it shows in
the manifest) and renders nothing, so the tests of requests, jobs and pages stay fast. Tests that
need a real PDF use the real renderer. The `quick_renderer` fixture (conftest.py) puts it in place."""

import hashlib
import io

from pypdf import PdfReader
from sqlmodel import select

from ihl_docs.core.db import open_session
from ihl_docs.core.models import Dossier, Evidence
from ihl_docs.dossiers import services
from ihl_docs.dossiers.audiences import policy_for
from ihl_docs.dossiers.build import BuiltDossier, build_dossier


def quick_build(session, case, *, audience, prepared_by, store, out, cache_dir=None, parts=(),
                progress=None, incidents=None, full_images=None):
    policy_for(audience)  # an unknown audience is refused, as the real builder refuses it
    progress = progress or (lambda stage, percent: None)
    progress("collecting", 5)
    items = session.exec(select(Evidence).where(Evidence.case_id == case.id)
                         .order_by(Evidence.id)).all()
    # Simpler than the audience table, on purpose: the case-bag tests count the exports it makes.
    shown = [e for e in items if audience == "internal" or e.sensitivity == "public"]
    progress("rendering", 50)
    fingerprint = hashlib.sha256(f"{case.ref}|{case.title}|{audience}".encode()).hexdigest()
    data = (b"%PDF-1.4\n% stand-in dossier\n"
            + f"{case.ref} {audience} {prepared_by} {fingerprint}\n".encode() + b"%%EOF\n")
    out.write(data)
    progress("done", 100)
    manifest = {"case_fingerprint": fingerprint,
                "evidence": [{"ref": e.ref, "sha256": e.sha256} for e in shown]}
    return BuiltDossier(sha256=hashlib.sha256(data).hexdigest(), size=len(data), page_count=1,
                        case_fingerprint=fingerprint, manifest=manifest)


def make_dossier(db, app, case, actor, *, audience="internal", prepared_by=None, run=True,
                 incidents=None):
    """A dossier requested by `actor` and (with run=True) built, as the worker would."""
    dossier = services.request_dossier(db, case, audience=audience, prepared_by=prepared_by,
                                       actor=actor, incidents=incidents)
    db.commit()
    if run:
        services.run_dossier(app.extensions["ihl_engine"], app.extensions["ihl_store"],
                             dossier.ref)
    return fresh(app, dossier.ref)


def build_pdf(db, app, case, audience="internal", prepared_by="Lena Lawyer", incidents=None,
              cache_dir=None):
    """A dossier of `case` built with the real renderer, without a record: (PDF bytes, result)."""
    out = io.BytesIO()
    built = build_dossier(db, case, audience=audience, prepared_by=prepared_by,
                          store=app.extensions["ihl_store"], out=out, incidents=incidents,
                          cache_dir=cache_dir)
    db.commit()
    return out.getvalue(), built


def pdf_text(pdf: bytes) -> str:
    """The text of every page of a PDF, as a reader extracting it gets it."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def fresh(app, ref) -> Dossier:
    """The dossier as stored now, read in a session of its own."""
    with open_session(app.extensions["ihl_engine"], write=False) as session:
        return session.exec(select(Dossier).where(Dossier.ref == ref)).one()


def stored_files(store) -> list:
    """Every file in the store but the temporary ones, by name."""
    return sorted(p.name for p in store.root.rglob("*")
                  if p.is_file() and p.parent != store.tmp)
