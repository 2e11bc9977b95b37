"""Build a dossier PDF: collect what the audience may see, render it, write it to `out`.

The builder only reads the database. Whoever calls it stores the PDF, writes the `dossier`
record, the audit entry and the `exported` custody events.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session

from ihl_docs.core.models import Case
from ihl_docs.core.storage import EvidenceStore
from ihl_docs.dossiers.audiences import policy_for

Progress = Callable[[str, int], None]
"""Called with a stage in words ("rendering incidents") and a percentage, 0 to 100."""


@dataclass(frozen=True)
class BuiltDossier:
    sha256: str
    size: int
    page_count: int
    case_fingerprint: str
    manifest: dict = field(default_factory=dict)


def build_dossier(session: Session, case: Case, *, audience: str, prepared_by: str,
                  store: EvidenceStore, out: BinaryIO, cache_dir: Path | None = None,
                  progress: Progress | None = None, parts: tuple = (),
                  incidents: list[str] | None = None,
                  full_images: list[str] | None = None) -> BuiltDossier:
    """Write the dossier of `case` for `audience` to `out`, covering the incidents of refs
    `incidents` (None: the audience's default scope), with the images of the items of refs
    `full_images` annexed at full resolution; the same inputs give the same bytes."""
    policy_for(audience)  # an unknown audience is refused before anything is read
    from ihl_docs.dossiers.pipeline import build  # WeasyPrint is imported only where a dossier is built

    return build(session, case, audience=audience, prepared_by=prepared_by, store=store,
                 out=out, cache_dir=cache_dir, progress=progress or (lambda stage, pct: None),
                 parts=parts, incidents=incidents, full_images=full_images)
