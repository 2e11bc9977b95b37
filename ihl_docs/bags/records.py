"""The record files of a case bag: what the registered record parts collect, and the stored
files they name."""

from sqlmodel import Session

from ihl_docs.bags import FORMAT
from ihl_docs.core.case_records import Collecting, RecordPart
from ihl_docs.core.models import Case


def case_records(session: Session, case: Case, parts: list[RecordPart]) -> dict[str, object]:
    """File name -> content of every record file of the case, one per part."""
    context = Collecting(session, case)
    records = {part.name: part.collect(context) for part in parts}
    records["case.json"] = {"format": FORMAT, **records["case.json"]}
    return records


def files_of(records: dict[str, object], parts: list[RecordPart]) -> list[str]:
    """The SHA-256 of every file the records name, each once, in a stable order."""
    return sorted({name for part in parts for name in part.files(records[part.name])})
