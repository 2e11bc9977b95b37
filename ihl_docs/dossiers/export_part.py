"""The dossiers' record file in a case export: finished (done and failed) dossiers; those still
being built are left out, their PDF does not exist yet."""

from sqlmodel import select

from ihl_docs.core.case_records import Collecting, RecordPart, Restoring, row_fields, row_values
from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import Dossier, DossierStatus
from ihl_docs.dossiers.services import audited

FINISHED = (DossierStatus.done, DossierStatus.failed)


def collect(ctx: Collecting) -> list[dict]:
    rows = ctx.session.exec(select(Dossier).where(
        Dossier.case_id == ctx.case.id, Dossier.status.in_(FINISHED)).order_by(Dossier.ref))
    return [{**row_fields(d, "id", "case_id", "requested_by_id"),
             "requested_by": ctx.emails.get(d.requested_by_id)} for d in rows]


def files(records: list[dict]) -> list[str]:
    """The PDFs a bag carries: each dossier's reproducible one and, once signed, the signed one."""
    return [sha for d in records for sha in (d["sha256"], d.get("signed_sha256")) if sha]


def restore(ctx: Restoring, records: list[dict]) -> None:
    for data in records:
        if data.get("status") not in FINISHED:
            raise InvalidInput(f"Dossier {data.get('ref')} in the bag is not finished; only done "
                               "and failed dossiers are imported.")
        dossier = Dossier(**row_values(Dossier, data, "id", "case_id", "requested_by_id"),
                          case_id=ctx.case.id, requested_by_id=ctx.author_id(data.get("requested_by")))
        ctx.session.add(dossier)
        ctx.session.flush()
        ctx.record("dossier", dossier.ref, audited(dossier))
        ctx.count("dossiers")


def refs(records: list[dict]):
    return [("dossier", d["ref"]) for d in records]


PART = RecordPart("dossiers.json", collect, restore, files=files, refs=refs)
