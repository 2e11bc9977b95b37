"""Fixtures and helpers shared by the API tests (no tests of its own)."""

import pytest

from ihl_docs.auth import services as auth
from ihl_docs.cases import services as cases

from .builders import make_case, make_incident, make_user

CASE_REF = "NK-2020-001"
INCIDENT_REF = "NK-2020-001-I001"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_for(db, user) -> str:
    token = auth.create_token(db, user.email, actor="test")
    db.commit()
    return token


@pytest.fixture
def as_role(db):
    """as_role("legal") -> (user, headers carrying a fresh token of that new user)."""

    def make(role: str, **fields):
        user = make_user(db, role, **fields)
        return user, bearer(token_for(db, user))

    return make


@pytest.fixture
def world(db, as_role):
    """Case NK-2020-001 with one incident, and a token for each kind of person around it.

    member_investigator opened the case and member_legal was added to it; the outsiders have
    the same roles but are not members; admin and auditor see every case without membership.
    """
    creator, creator_headers = as_role("investigator")
    case = make_case(db, creator, ref=CASE_REF)
    incident = make_incident(db, case, creator, responsible_party="Group B")
    headers = {"member_investigator": creator_headers}
    for name, role in [("member_legal", "legal"), ("outsider_investigator", "investigator"),
                       ("outsider_legal", "legal"), ("admin", "admin"), ("auditor", "auditor")]:
        user, headers[name] = as_role(role)
        if name.startswith("member_"):
            cases.add_member(db, case, user.email, actor=creator)
            db.commit()
    return {"case": case, "incident": incident, "headers": headers, "creator": creator}
