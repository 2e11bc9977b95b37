"""A case's register of protected terms through the API: reading it, adding an entry and
withdrawing one (the case's investigators and lawyers)."""

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.schemas import ProtectedTermList, ProtectedTermRead
from ihl_docs.core.access import case_for
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Forbidden, InvalidInput
from ihl_docs.protection import services


def list_terms(ref: str):
    """The register, every entry (withdrawn ones too) by number: investigators and lawyers of
    the case, and administrators."""
    session, user = get_session(), api_user()
    case = case_for(session, user, inputs.checked_ref(ref, "case"))
    if not services.can_manage(session, user, case):
        raise Forbidden("Only the case's investigators and lawyers see its protected terms.")
    return ProtectedTermList(case_ref=case.ref,
                             items=[term_read(t) for t in services.entries(session, case)])


def add_term(ref: str):
    session, user = get_session(), api_user()
    case = case_for(session, user, inputs.checked_ref(ref, "case"))
    body = inputs.body()
    term = services.add_term(session, case, kind=body.kind, match=body.match, term=body.term,
                             note=body.note, actor=user)
    result = term_read(term)
    session.commit()
    return result


def withdraw_term(ref: str, number: str):
    session, user = get_session(), api_user()
    case = case_for(session, user, inputs.checked_ref(ref, "case"))
    if not number.isdigit() or len(number) > 9:
        raise InvalidInput("An entry is given by its number.", {"number": "a whole number"})
    term = services.withdraw_term(session, case, int(number), inputs.if_match_version(), user)
    result = term_read(term)
    session.commit()
    return result


def term_read(term) -> ProtectedTermRead:
    return ProtectedTermRead(number=term.number, kind=term.kind, match=str(term.match),
                             term=term.term, note=term.note, active=term.active,
                             created_by=term.created_by, created_at=term.created_at,
                             version=term.version)
