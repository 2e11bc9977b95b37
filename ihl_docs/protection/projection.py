"""Protected-term entries as the audit log records them (held against the log by verification)."""

from ihl_docs.core.audit.replay import Projection, names_by_id, table_rows
from ihl_docs.core.models import Case, ProtectedTerm


def term_rows(session, case):
    refs = names_by_id(session, Case)
    where = [ProtectedTerm.case_id == case.id] if case is not None else []
    return table_rows(session, ProtectedTerm,
                      lambda v: f"{refs.get(v['case_id'])}:T{v['number']}", *where)


PROTECTED_TERM = Projection("protected_term", "protected term", term_rows,
                            tables=("protected_term",),
                            subject_of=lambda entity_id: entity_id.rpartition(":")[0])
