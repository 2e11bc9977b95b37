"""The register of protected terms in a case export: a case imported elsewhere protects the
same people in its court and public dossiers, with the same placeholders."""

from sqlmodel import select

from ihl_docs.core.audit.log import snapshot
from ihl_docs.core.case_records import Collecting, RecordPart, Restoring, row_fields, row_values
from ihl_docs.core.models import ProtectedTerm, TermMatch


def collect(ctx: Collecting) -> list[dict]:
    rows = ctx.session.exec(select(ProtectedTerm).where(ProtectedTerm.case_id == ctx.case.id)
                            .order_by(ProtectedTerm.number))
    return [row_fields(row, "id", "case_id") for row in rows]


def restore(ctx: Restoring, records: list[dict]) -> None:
    for record in records or []:
        row = ProtectedTerm(**row_values(ProtectedTerm, record, "id", "case_id"),
                            case_id=ctx.case.id)
        ctx.session.add(row)
        ctx.session.flush()
        ctx.author_id(record.get("created_by"))
        ctx.record("protected_term", f"{ctx.case.ref}:T{row.number}", snapshot(row))
        ctx.count("protected terms")


def refusal(session, records) -> str | None:
    """Why the register in a bag cannot be imported, or None."""
    if not isinstance(records, list):
        return "The bag's protected_terms.json is not a list of entries; nothing was imported."
    numbers = set()
    for record in records:
        if not (isinstance(record, dict) and isinstance(record.get("number"), int)
                and isinstance(record.get("term"), str) and isinstance(record.get("kind"), str)
                and record.get("match") in set(TermMatch)
                and isinstance(record.get("active"), bool)):
            return "An entry of the bag's protected_terms.json is malformed; nothing was imported."
        numbers.add(record["number"])
    if len(numbers) != len(records):
        return "The bag's protected_terms.json numbers two entries alike; nothing was imported."
    return None


PART = RecordPart("protected_terms.json", collect, restore, refusal=refusal)
