"""Treaty participation through the API: a state's rows and ICC jurisdiction facts; the legal
team's corrections of a row."""

import re

from flask import request

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.schemas import IccFactRead, ParticipationRead, TreatyState
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import Forbidden, NotFound
from ihl_docs.core.models import Instrument, Role
from ihl_docs.provisions import treaties

STATE_PATTERN = re.compile(r"[A-Z]{3}")


def _state(state: str) -> str:
    if not STATE_PATTERN.fullmatch(state) or not treaties.known_state(state):
        raise NotFound(f"{state!r} is not an ISO 3166 alpha-3 country code.")
    return state


def show_state(state: str):
    """The state's row per instrument, the instruments without one, and its ICC facts."""
    session, _user = get_session(), api_user()
    _state(state)
    rows = treaties.state_rows(session, state)
    return TreatyState.model_construct(
        state=state, name=treaties.state_name(state),
        rows=[participation_read(i, row) for i, row in rows if row is not None],
        unknown=[i.short_name for i, row in rows if row is None],
        icc=[icc_read(f) for f in treaties.icc_facts(session, state)])


def put_participation(state: str, instrument: str):
    """Add or correct the state's row for the instrument (lawyers and administrators)."""
    session, user = get_session(), api_user()
    if user.role not in (Role.admin, Role.legal):
        raise Forbidden("Only lawyers and administrators enter or correct treaty participation.")
    treaties.check_state(state)
    expected = inputs.if_match_version() if "If-Match" in request.headers else None
    data = inputs.body()
    row = treaties.enter_participation(session, instrument, state, data, actor=user.email,
                                       expected_version=expected)
    result = participation_read(session.get(Instrument, row.instrument_id), row)
    session.commit()
    return result


def participation_read(instrument: Instrument, row) -> ParticipationRead:
    return ParticipationRead.model_construct(
        instrument=instrument.short_name, state=row.state, status=row.status,
        deposit=row.deposit, action=row.action, signature=row.signature,
        in_force_for_state=row.in_force_for_state,
        withdrawal_effective=row.withdrawal_effective, source=row.source,
        confidence=row.confidence, notes=row.detail, origin=row.origin,
        entered_by=row.entered_by, entered_at=row.entered_at, version=row.version)


def icc_read(fact) -> IccFactRead:
    return IccFactRead.model_construct(**{name: getattr(fact, name) for name in
                                          IccFactRead.model_fields})
