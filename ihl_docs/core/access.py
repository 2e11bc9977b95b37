"""Who may do what: roles, case membership and the incident workflow."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, select

from ihl_docs.core.audit.replay import recorded_state
from ihl_docs.core.errors import Forbidden, NotFound
from ihl_docs.core.models import Case, CaseMember, Role, User, WorkflowStatus

READ_ALL_ROLES = {Role.admin, Role.auditor}

# (from, to) -> roles that may move an incident along that step.
TRANSITIONS = {
    (WorkflowStatus.draft, WorkflowStatus.submitted): {Role.investigator, Role.admin},
    (WorkflowStatus.submitted, WorkflowStatus.draft): {Role.investigator, Role.legal, Role.admin},
    (WorkflowStatus.submitted, WorkflowStatus.in_legal_review): {Role.legal, Role.admin},
    (WorkflowStatus.in_legal_review, WorkflowStatus.approved): {Role.legal, Role.admin},
    (WorkflowStatus.in_legal_review, WorkflowStatus.draft): {Role.legal, Role.admin},
    (WorkflowStatus.approved, WorkflowStatus.in_legal_review): {Role.legal, Role.admin},
}


def is_member(session: Session, user: User, case: Case) -> bool:
    """A member is one whose membership row is there and whose audit entry vouches for it: a
    row slipped into the database without the application grants nothing."""
    if session.get(CaseMember, (case.id, user.id)) is None:
        return False
    return recorded_state(session, "case_member", f"{case.ref}:{user.email}") is not None


def can_read_case(session: Session, user: User, case: Case) -> bool:
    return user.role in READ_ALL_ROLES or is_member(session, user, case)


def can_create_case(user: User) -> bool:
    return user.role in {Role.admin, Role.investigator}


def can_edit_case(session: Session, user: User, case: Case) -> bool:
    """Edit the case record, its parties and members, and file or edit its incidents."""
    if user.role == Role.admin:
        return True
    return user.role == Role.investigator and is_member(session, user, case)


def allowed_transitions(session: Session, user: User, case: Case, status: str) -> list[str]:
    if not can_read_case(session, user, case) or user.role == Role.auditor:
        return []
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == status and user.role in roles]


def can_do_legal_work(session: Session, user: User, case: Case) -> bool:
    """Qualify incidents and generate dossiers: the case's lawyers, and administrators."""
    return user.role == Role.admin or (user.role == Role.legal and is_member(session, user, case))


@dataclass(frozen=True)
class Permission:
    """Something a user may or may not do within a case they can see, and how a refusal reads."""

    allows: Callable[[Session, User, Case], bool]
    refusal: str


EDIT = Permission(can_edit_case, "Your role does not allow changing this case.")
LEGAL_WORK = Permission(can_do_legal_work,
                        "Only the case's lawyers (and administrators) qualify incidents.")


def load_in_case(session: Session, user: User | None, model, ref: str, *,
                 need: Permission | None = None, refusal: str | None = None):
    """The record of `model` (Case, or a record with `case_id`) with that ref, and its case.

    A record whose case the user may not see is reported as not found, whatever the reason, so
    its existence is not revealed. With `need`, a record the user may see but not act on is
    refused (403, `refusal` or the permission's words). `user` None is the operator at the
    command line, who may see and do everything."""
    record = session.exec(select(model).where(model.ref == ref)).first()
    case = record if model is Case or record is None else session.get(Case, record.case_id)
    if case is None or (user is not None and not can_read_case(session, user, case)):
        suffix = " that you can see." if user is not None else "."
        raise NotFound(f"No {model.__tablename__.replace('_', ' ')} {ref}{suffix}")
    if need is not None and user is not None and not need.allows(session, user, case):
        raise Forbidden(refusal or need.refusal)
    return record, case


def case_for(session: Session, user: User | None, ref: str, *, write: bool = False) -> Case:
    """The case with that ref if the user may see it (and, with write=True, change it)."""
    return load_in_case(session, user, Case, ref, need=EDIT if write else None)[0]


def visible_cases(session: Session, user: User):
    """A select() of the cases the user may see."""
    query = select(Case)
    if user.role not in READ_ALL_ROLES:
        query = query.join(CaseMember, CaseMember.case_id == Case.id).where(
            CaseMember.user_id == user.id
        )
    return query
