"""A case's register of protected terms: adding and withdrawing entries, staff consent to be
named, and the finders a court or public dossier runs over every text it prints.

Each change is one audit entry in the caller's transaction. Entries are never deleted: one
withdrawn stays in the register, inactive, and its number is never given again, so "[protected
3]" always means the same entry of the case.
"""

import pycountry
from sqlmodel import Session, func, select

from ihl_docs.core.access import can_edit_case, is_member
from ihl_docs.core.audit import log as audit
from ihl_docs.core.db import ROW_LOCK
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from ihl_docs.core.models import (
    Case,
    Dossier,
    Evidence,
    EvidenceDerivative,
    Incident,
    Party,
    ProtectedTerm,
    Role,
    TermMatch,
    User,
)
from ihl_docs.protection.matching import (
    Finder,
    TermRefused,
    check_pattern,
    check_text,
    pattern_finder,
    text_finder,
    words,
)

KINDS = {"name": "Name", "phone": "Phone number", "email": "E-mail address",
         "address": "Address", "place": "Place", "account": "Account handle",
         "other": "Other"}
ENTITY = "protected_term"
ROLE_NAMES = {Role.admin: "Administrator", Role.investigator: "Investigator",
              Role.legal: "Lawyer", Role.auditor: "Auditor"}


def can_manage(session: Session, user: User, case: Case) -> bool:
    """Investigators and lawyers of the case, and administrators."""
    if can_edit_case(session, user, case):
        return True
    return user.role == Role.legal and is_member(session, user, case)


def entity_id(case: Case, term: ProtectedTerm) -> str:
    return f"{case.ref}:T{term.number}"


def entries(session: Session, case: Case) -> list[ProtectedTerm]:
    """The register, by number: active and withdrawn entries, and consents to be named."""
    return list(session.exec(select(ProtectedTerm).where(ProtectedTerm.case_id == case.id)
                             .order_by(ProtectedTerm.number)))


def add_term(session: Session, case: Case, *, kind: str, match: str, term: str, note: str,
             actor: User) -> ProtectedTerm:
    """Add a term (or a pattern) to the register; refused with a field error when it is too
    short, matches everything, or would change a record's ref or hash."""
    if not can_manage(session, actor, case):
        raise Forbidden("Only the case's investigators and lawyers manage its protected terms.")
    if kind not in KINDS:
        raise InvalidInput("Unknown kind of term.", {"kind": f"Choose one of {', '.join(KINDS)}."})
    if match not in (TermMatch.text, TermMatch.pattern):
        raise InvalidInput("Unknown way of matching.", {"match": "Choose text or pattern."})
    try:
        if match == TermMatch.text:
            term = check_text(term or "")
            finder = text_finder("new", "new", term)
        else:
            check_pattern(term or "")
            finder = pattern_finder("new", "new", term)
    except TermRefused as exc:
        raise InvalidInput(str(exc), {"term": str(exc)}) from None
    clash = _clash(session, case, finder)
    if clash:
        message = (f"This term also matches {clash}: replacing it would change how records are "
                   f"referred to. Make it longer or more precise.")
        raise InvalidInput(message, {"term": message})
    for existing in entries(session, case):
        if (existing.active and existing.match == match and
                _same(existing.term, term, match)):
            message = f"The register already holds this term as entry {existing.number}."
            raise InvalidInput(message, {"term": message})
    return _add(session, case, ProtectedTerm(case_id=case.id, number=0, kind=kind, match=match,
                                             term=term, note=(note or "").strip()[:2000],
                                             created_by=actor.email), actor.email)


def _same(a: str, b: str, match: str) -> bool:
    return words(a) == words(b) if match == TermMatch.text else a == b


def _add(session: Session, case: Case, term: ProtectedTerm, actor: str) -> ProtectedTerm:
    session.refresh(case, with_for_update=ROW_LOCK)  # numbers are handed out one at a time
    highest = session.exec(select(func.max(ProtectedTerm.number))
                           .where(ProtectedTerm.case_id == case.id)).one()
    term.number = (highest or 0) + 1
    session.add(term)
    session.flush()
    audit.record(session, actor=actor, action="create", entity=ENTITY,
                 entity_id=entity_id(case, term), case_ref=case.ref, after=audit.snapshot(term))
    return term


def withdraw_term(session: Session, case: Case, number: int, version: int | None,
                  actor: User) -> ProtectedTerm:
    """Withdraw an entry (it stays in the register, inactive); a stale version is refused."""
    if not can_manage(session, actor, case):
        raise Forbidden("Only the case's investigators and lawyers manage its protected terms.")
    term = _entry(session, case, number)
    if version is not None and version != term.version:
        raise Conflict(f"Entry {number} was changed by someone else since you loaded it: "
                       f"reload the register.")
    if not term.active:
        raise InvalidInput(f"Entry {number} is already withdrawn.", {"number": "already withdrawn"})
    before = audit.snapshot(term)
    term.active, term.version = False, term.version + 1
    session.add(term)
    session.flush()
    audit.record(session, actor=actor.email, action="update", entity=ENTITY,
                 entity_id=entity_id(case, term), case_ref=case.ref, before=before,
                 after=audit.snapshot(term))
    return term


def set_named(session: Session, case: Case, user: User, named: bool) -> ProtectedTerm | None:
    """A staff member's own consent to be named (not pseudonymised) in this case's court and
    public editions, or its withdrawal. Only the person can give it."""
    if not is_member(session, user, case) and user.role != Role.admin:
        raise Forbidden("Only members of the case can consent to be named in its dossiers.")
    current = next((t for t in entries(session, case) if t.match == TermMatch.named
                    and t.active and t.term == user.email), None)
    if named and current is None:
        return _add(session, case, ProtectedTerm(
            case_id=case.id, number=0, kind="name", match=TermMatch.named, term=user.email,
            note="consents to be named in court and public editions", created_by=user.email),
            user.email)
    if not named and current is not None:
        return withdraw_term(session, case, current.number, None, user)
    return current


def _entry(session: Session, case: Case, number: int) -> ProtectedTerm:
    term = session.exec(select(ProtectedTerm).where(ProtectedTerm.case_id == case.id,
                                                    ProtectedTerm.number == number)).first()
    if term is None:
        raise NotFound(f"The register of {case.ref} has no entry {number}.")
    return term


def _clash(session: Session, case: Case, finder: Finder) -> str | None:
    """A ref or hash of the case the finder would hit, in words; None when there is none."""
    refs = [case.ref]
    for model in (Incident, Evidence, Dossier):
        refs += session.exec(select(model.ref).where(model.case_id == case.id))
    for ref in refs:
        if finder.spans(ref):
            return f"the ref {ref}"
    hashes = list(session.exec(select(Evidence.sha256).where(Evidence.case_id == case.id)))
    hashes += session.exec(select(EvidenceDerivative.sha256).join(
        Evidence, Evidence.id == EvidenceDerivative.evidence_id).where(Evidence.case_id == case.id))
    for sha in hashes:
        if sha and finder.spans(sha):
            return f"the SHA-256 of a stored file ({sha[:12]}…)"
    return None


# ---- what a dossier edition runs over its texts ---------------------------------------------

def finders(session: Session, case: Case) -> list[Finder]:
    """Everything a court or public edition of `case` protects: the register's active terms
    and patterns, phone numbers, e-mail addresses, and the names and addresses of staff who
    have not consented to be named."""
    found: list[Finder] = []
    named = set()
    for term in entries(session, case):
        if not term.active:
            continue
        label = f"entry {term.number} ({KINDS.get(term.kind, term.kind).lower()})"
        if term.match == TermMatch.text:
            found.append(text_finder(f"T{term.number}", label, term.term))
        elif term.match == TermMatch.pattern:
            found.append(pattern_finder(f"T{term.number}", label, term.term))
        elif term.match == TermMatch.named:
            named.add(term.term)
    for user in session.exec(select(User).order_by(User.id)):
        if user.email in named:
            continue
        key = f"staff:{user.email}"
        found.append(text_finder(key, ROLE_NAMES.get(user.role, "Staff"), user.email, "staff"))
        if sum(len(w) for w in words(user.name or "")) >= 3:
            found.append(text_finder(key, ROLE_NAMES.get(user.role, "Staff"), user.name, "staff"))
    found.append(Finder("phone", "phone number", "phone", regions=_regions(session, case)))
    found.append(Finder("email", "e-mail address", "email"))
    return found


def _regions(session: Session, case: Case) -> tuple[str, ...]:
    """The two-letter codes of the case's countries (its parties' states and its incidents'
    countries), for reading phone numbers written without their country code."""
    codes = set(session.exec(select(Party.state_code).where(Party.case_id == case.id)))
    codes |= set(session.exec(select(Incident.country).where(Incident.case_id == case.id)))
    regions = set()
    for code in codes:
        country = pycountry.countries.get(alpha_3=code) if code else None
        if country is not None:
            regions.add(country.alpha_2)
    return tuple(sorted(regions))
