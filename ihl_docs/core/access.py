"""Who may do what: roles, case membership and the incident workflow."""

from sqlmodel import Session, select

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
    return session.get(CaseMember, (case.id, user.id)) is not None


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


def case_for(session: Session, user: User, ref: str, *, write: bool = False) -> Case:
    """The case with that ref if the user may see it (and, with write=True, change it).

    A case the user may not see is reported as not found, so its existence is not revealed.
    """
    case = session.exec(select(Case).where(Case.ref == ref)).first()
    if case is None or not can_read_case(session, user, case):
        raise NotFound(f"No case {ref} that you can see.")
    if write and not can_edit_case(session, user, case):
        raise Forbidden("Your role does not allow changing this case.")
    return case


def visible_cases(session: Session, user: User):
    """A select() of the cases the user may see."""
    query = select(Case)
    if user.role not in READ_ALL_ROLES:
        query = query.join(CaseMember, CaseMember.case_id == Case.id).where(
            CaseMember.user_id == user.id
        )
    return query
