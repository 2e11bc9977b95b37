"""Chains of custody through the API: the chain in order with its gaps, and new events."""

from ihl_docs.api import inputs
from ihl_docs.api.auth import api_user
from ihl_docs.api.evidence import evidence_for
from ihl_docs.api.pages import page
from ihl_docs.api.schemas import CustodyEntry
from ihl_docs.core.db import get_session
from ihl_docs.core.models import CustodyEvent, CustodyEventRead
from ihl_docs.evidence import services
from ihl_docs.evidence.upload import store


def list_custody(ref: str):
    """The chain in the order things happened; warnings name its gaps."""
    session = get_session()
    evidence = evidence_for(session, api_user(), ref)
    params = inputs.query()
    events = services.custody_chain(session, evidence)
    warnings = services.custody_warnings(events)
    shown = events[params.offset:params.offset + params.limit]
    result = page([_entry(event, warnings) for event in shown], len(events), params)
    return {**result, "warnings": warnings.get(None, [])}


def record_custody_event(ref: str):
    """Record a step in the chain; one that handles a file re-hashes it first."""
    session, user = get_session(), api_user()
    evidence = evidence_for(session, user, ref, write=True)
    event = services.record_custody(session, evidence, inputs.body(), actor=user, store=store())
    warnings = services.custody_warnings(services.custody_chain(session, evidence))
    result = _entry(event, warnings)
    session.commit()
    return result


def _entry(event: CustodyEvent, warnings: dict) -> CustodyEntry:
    fields = {name: getattr(event, name) for name in CustodyEventRead.model_fields}
    return CustodyEntry.model_construct(**fields, warnings=warnings.get(event.id, []))
