"""Cases, their parties and their members."""

from pydantic import ValidationError
from sqlmodel import Session, select

from ihl_docs.cases.projection import party_record
from ihl_docs.core.access import can_create_case, can_do_legal_work, can_edit_case
from ihl_docs.core.audit import log as audit
from ihl_docs.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from ihl_docs.core.models import (
    Case,
    CaseCreate,
    CaseMember,
    CaseRead,
    CaseUpdate,
    Evidence,
    Incident,
    Party,
    PartyIn,
    PartyKind,
    PartyRead,
    User,
    _valid_state_code,
)
from ihl_docs.core.versions import lock_at_version, save_version


def create_case(session: Session, data: CaseCreate, *, actor: User) -> Case:
    """Open a case; its creator becomes its first member."""
    if not can_create_case(actor):
        raise Forbidden("Only investigators and administrators open cases.")
    if session.exec(select(Case).where(Case.ref == data.ref)).first():
        raise Conflict(f"A case with the reference {data.ref} already exists.",
                       {"ref": "already in use"})
    _check_parties(session, None, data.parties)
    case = Case(ref=data.ref, title=data.title.strip(), summary=data.summary,
                conflict_classification=data.conflict_classification, created_by_id=actor.id)
    session.add(case)
    session.flush()
    audit.record(session, actor=actor.email, action="create", entity="case", entity_id=case.ref,
                 case_ref=case.ref, after=case_snapshot(session, case, data.parties))
    _set_parties(session, case, data.parties)
    _add_member(session, case, actor, actor=actor)
    return case


CASE_STALE = "{what} was changed by someone else since you opened it (your version {mine}, now {now})."


def update_case(session: Session, case: Case, data: CaseUpdate, *, expected_version: int,
                actor: User, authorised: bool = False) -> Case:
    if not (authorised or can_edit_case(session, actor, case)):
        raise Forbidden("Your role does not allow changing this case.")
    lock_at_version(session, case, expected_version, entity="case", entity_id=case.ref,
                    what=f"Case {case.ref}", message=CASE_STALE)
    _check_parties(session, case, data.parties)
    _check_parties_in_use(session, case, data.parties)
    before = case_snapshot(session, case)
    case.title, case.summary = data.title.strip(), data.summary
    case.conflict_classification = data.conflict_classification
    _set_parties(session, case, data.parties)
    save_version(session, case, before, lambda: case_snapshot(session, case, data.parties),
                 actor=actor.email, entity="case", entity_id=case.ref, case_ref=case.ref)
    return case


def _check_parties(session: Session, case: Case | None, parties: list[PartyIn]) -> None:
    names = [p.name.casefold() for p in parties]
    duplicates = sorted({p.name for p in parties if names.count(p.name.casefold()) > 1})
    if duplicates:
        message = f"Each party is named once; repeated: {', '.join(duplicates)}."
        raise InvalidInput(message, {"parties": message})
    for party in parties:
        if party.attributed_state:
            party.attributed_state = _attributed_state(party, parties)
            party.attribution_evidence = _attribution_evidence(session, case, party)
            party.attribution_note = party.attribution_note.strip()


def _attributed_state(party: PartyIn, parties: list[PartyIn]) -> str:
    """The state code an attribution names: a code, or the name of a state party of the case."""
    given = party.attributed_state.strip()
    named = next((p for p in parties if p.name.casefold() == given.casefold()), None)
    if named is not None:
        if named.kind != PartyKind.state:
            message = (f"{named.name} is a non-state party: {party.name}'s conduct can be "
                       f"attributed only to a state.")
            raise InvalidInput(message, {"attributed_state": message})
        return named.state_code
    try:
        code = _valid_state_code(given)
    except ValueError:
        code = None
    if code is None:
        message = (f"{given!r} is neither an ISO 3166-1 alpha-3 state code nor a state party of "
                   f"this case.")
        raise InvalidInput(message, {"attributed_state": message})
    return code


def _attribution_evidence(session: Session, case: Case | None, party: PartyIn) -> list[str]:
    refs = list(dict.fromkeys(r.strip() for r in party.attribution_evidence if r.strip()))
    known = set() if case is None else set(session.exec(
        select(Evidence.ref).where(Evidence.case_id == case.id, Evidence.ref.in_(refs))))
    unknown = [r for r in refs if r not in known]
    if unknown:
        message = f"Not evidence of this case: {', '.join(unknown)}."
        raise InvalidInput(message, {"attribution_evidence": message})
    return sorted(refs)


def set_attribution(session: Session, case: Case, party_name: str, *, state: str | None,
                    attribution: str | None, note: str, evidence: list[str],
                    expected_version: int, actor: User) -> Case:
    """Record (or, with no state, withdraw) that a non-state party is alleged to act for or
    under the control of a state. The case's lawyers may do it, as may those who edit the case."""
    if not (can_edit_case(session, actor, case) or can_do_legal_work(session, actor, case)):
        raise Forbidden("Only the case's investigators and lawyers record attributions.")
    current = [PartyIn.model_validate(p, from_attributes=True) for p in parties(session, case)]
    chosen = next((p for p in current if p.name == party_name), None)
    if chosen is None:
        message = f"{party_name} is not one of this case's parties."
        raise InvalidInput(message, {"party": message})
    values = chosen.model_dump() | {"attributed_state": state or None,
                                    "attribution": attribution or None,
                                    "attribution_note": note or "",
                                    "attribution_evidence": evidence}
    try:
        updated = PartyIn.model_validate(values)
    except ValidationError as exc:
        problem = exc.errors()[0]
        text = str(problem["msg"]).removeprefix("Value error, ")
        field, _, message = text.partition(": ") if ": " in text else ("attribution", "", text)
        raise InvalidInput(message, {field: message}) from None
    data = CaseUpdate(title=case.title, summary=case.summary,
                      conflict_classification=case.conflict_classification,
                      parties=[updated if p.name == party_name else p for p in current])
    return update_case(session, case, data, expected_version=expected_version, actor=actor,
                       authorised=True)


def _check_parties_in_use(session: Session, case: Case, parties: list[PartyIn]) -> None:
    keep = {p.name for p in parties}
    for party in session.exec(select(Party).where(Party.case_id == case.id)).all():
        if party.name in keep:
            continue
        used = session.exec(select(Incident.ref).where(Incident.responsible_party_id == party.id)
                            ).first()
        if used:
            message = (f"The party {party.name} is named as responsible in incident {used}; "
                       f"change that incident first.")
            raise InvalidInput(message, {"parties": message})


def _set_parties(session: Session, case: Case, parties: list[PartyIn]) -> None:
    """Make the case's parties exactly `parties`, keeping rows (and their ids) by name."""
    existing = {p.name: p for p in session.exec(select(Party).where(Party.case_id == case.id))}
    for data in parties:
        party = existing.pop(data.name, None) or Party(case_id=case.id, name=data.name,
                                                       kind=data.kind)
        for name, value in data.model_dump().items():
            setattr(party, name, value)
        session.add(party)
    for party in existing.values():
        session.delete(party)
    session.flush()


def case_snapshot(session: Session, case: Case, parties: list[PartyIn] | None = None) -> dict:
    snap = audit.snapshot(case)
    if parties is None:
        rows = session.exec(select(Party).where(Party.case_id == case.id).order_by(Party.name))
        parties = [PartyIn.model_validate(p, from_attributes=True) for p in rows]
    snap["parties"] = [audit.jsonable(party_record(p.model_dump()))
                       for p in sorted(parties, key=lambda p: p.name)]
    return snap


def add_member(session: Session, case: Case, email: str, *, actor: User) -> User:
    """Let a user into a case, with the rights of their role."""
    if not can_edit_case(session, actor, case):
        raise Forbidden("Only administrators and the case's investigators add members.")
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or not user.is_active:
        raise NotFound(f"No active account with the e-mail {email.strip()}.",
                       {"email": "no such account"})
    if session.get(CaseMember, (case.id, user.id)):
        raise Conflict(f"{user.email} is already a member of {case.ref}.",
                       {"email": "already a member"})
    _add_member(session, case, user, actor=actor)
    return user


def _add_member(session: Session, case: Case, user: User, *, actor: User) -> None:
    session.add(CaseMember(case_id=case.id, user_id=user.id, added_by_id=actor.id))
    session.flush()
    audit.record(session, actor=actor.email, action="add_member", entity="case_member",
                 entity_id=f"{case.ref}:{user.email}", case_ref=case.ref,
                 after={"case": case.ref, "user": user.email, "role": user.role})


def members(session: Session, case: Case) -> list[User]:
    return list(session.exec(
        select(User).join(CaseMember, CaseMember.user_id == User.id)
        .where(CaseMember.case_id == case.id).order_by(User.email)
    ))


def parties(session: Session, case: Case) -> list[Party]:
    return list(session.exec(select(Party).where(Party.case_id == case.id).order_by(Party.name)))


def get_case(session: Session, ref: str) -> Case:
    case = session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None:
        raise NotFound(f"No case {ref}.")
    return case


def case_read(session: Session, case: Case) -> CaseRead:
    """The case as the API shows it."""
    incident_refs = session.exec(select(Incident.ref).where(Incident.case_id == case.id)
                                 .order_by(Incident.id)).all()
    return CaseRead(
        ref=case.ref, title=case.title, summary=case.summary,
        conflict_classification=case.conflict_classification, status=case.status,
        parties=[PartyRead.model_validate(p, from_attributes=True)
                 for p in parties(session, case)],
        members=[u.email for u in members(session, case)],
        incidents=list(incident_refs), evidence=list(session.exec(select(Evidence.ref).where(
            Evidence.case_id == case.id).order_by(Evidence.id))), version=case.version,
        created_at=case.created_at,
    )
