"""Cases through the API: list, open, show, add members."""

import sqlalchemy as sa
from sqlmodel import select

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.pages import page
from ihl_docs.api.schemas import MemberRead
from ihl_docs.cases import services as cases
from ihl_docs.core.access import can_create_case, case_for, visible_cases
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Forbidden
from ihl_docs.core.models import Case


def list_cases():
    """The cases the user may see, by ref."""
    params = inputs.query()
    session = get_session()
    visible = visible_cases(session, api_user())
    total = session.exec(select(sa.func.count()).select_from(visible.subquery())).one()
    rows = session.exec(visible.order_by(Case.ref).offset(params.offset).limit(params.limit))
    return page([cases.case_read(session, case) for case in rows], total, params)


def create_case():
    """Open a case; the user becomes its first member."""
    user = api_user()
    if not can_create_case(user):
        raise Forbidden("Only investigators and administrators open cases.")
    session = get_session()
    case = cases.create_case(session, inputs.body(), actor=user)
    result = cases.case_read(session, case)
    session.commit()
    return result


def show_case(ref: str):
    """The case with its incident and evidence refs."""
    session = get_session()
    case = case_for(session, api_user(), inputs.checked_ref(ref, "case"))
    return cases.case_read(session, case)


def add_case_member(ref: str):
    """Let another user into the case, with the rights of their role."""
    session, user = get_session(), api_user()
    case = case_for(session, user, inputs.checked_ref(ref, "case"), write=True)
    member = cases.add_member(session, case, inputs.body().email, actor=user)
    result = MemberRead(case_ref=case.ref, email=member.email, name=member.name,
                        role=member.role)
    session.commit()
    return result


def set_party_attribution(ref: str):
    """Record, change or withdraw a non-state party's attribution to a state."""
    session, user = get_session(), api_user()
    case = case_for(session, user, inputs.checked_ref(ref, "case"))
    body = inputs.body()
    cases.set_attribution(session, case, body.party, state=body.attributed_state,
                          attribution=body.attribution.value if body.attribution else None,
                          note=body.note, evidence=body.evidence,
                          expected_version=inputs.if_match_version(), actor=user)
    result = cases.case_read(session, case)
    session.commit()
    return result
