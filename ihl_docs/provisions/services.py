"""Browsing and correcting the legal catalogue."""

from dataclasses import dataclass
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session, select

from ihl_docs.core.audit import log as audit
from ihl_docs.core.errors import Forbidden, InvalidInput, NotFound
from ihl_docs.core.models import Applicability, Instrument, Provision, Role, SuggestionRule, User
from ihl_docs.core.versions import lock_at_version, save_version
from ihl_docs.provisions import search
from ihl_docs.provisions.catalogue import (
    Binds,
    ElementKind,
    elements_of,
    provision_snapshot,
    set_elements,
)


@dataclass
class ProvisionFilter:
    q: str | None = None
    instrument: str | None = None   # short name, e.g. "AP I"
    category: str | None = None
    applies_to: str | None = None   # IAC or NIAC: provisions governing that kind of conflict


def search_provisions(session: Session, flt: ProvisionFilter, *, offset: int = 0,
                      limit: int = 50) -> tuple[list[Provision], int]:
    """Provisions matching the filters and the search text `q` (see provisions/search.py:
    article notation, every word in any form, related terms), best first; returns (page, total).
    Without `q`, every provision matching the filters, in catalogue order."""
    query = select(Provision.id)
    if flt.instrument:
        query = query.join(Instrument, Instrument.id == Provision.instrument_id).where(
            Instrument.short_name == flt.instrument)
    if flt.category:
        query = query.where(Provision.category == flt.category)
    if flt.applies_to in (Applicability.IAC, Applicability.NIAC):
        query = query.where(Provision.applies_to.in_([flt.applies_to, Applicability.both]))
    if flt.q and flt.q.strip():
        filtered = flt.instrument or flt.category or flt.applies_to
        ids = search.search(session, flt.q, among=set(session.exec(query)) if filtered else None)
    else:
        ids = list(session.exec(query.order_by(Provision.id)))
    page = ids[offset:offset + limit]
    rows = {p.id: p for p in session.exec(select(Provision).where(Provision.id.in_(page)))}
    return [rows[i] for i in page], len(ids)


def get_provision(session: Session, key: str) -> Provision:
    provision = session.exec(select(Provision).where(Provision.key == key)).first()
    if provision is None:
        raise NotFound(f"No provision {key} in the catalogue.")
    return provision


def instruments(session: Session) -> list[Instrument]:
    return list(session.exec(select(Instrument).order_by(Instrument.id)))


def categories(session: Session) -> list[str]:
    return sorted(c for c in session.exec(select(Provision.category).distinct()) if c)


def related(session: Session, provision: Provision) -> list[Provision]:
    if not provision.related:
        return []
    rows = {p.key: p for p in session.exec(select(Provision).where(
        Provision.key.in_(provision.related)))}
    return [rows[k] for k in provision.related if k in rows]


class ElementCorrection(BaseModel):
    """One element: its text and what it is about (kind). A plain string is taken as an
    element's text without a kind, as the API took elements before they had kinds."""

    model_config = ConfigDict(extra="forbid")
    number: Optional[int] = Field(default=None, description="ignored: elements are numbered "
                                                            "in the order given")
    text: str = Field(max_length=5000)
    kind: ElementKind = ""

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, value):
        return {"text": value} if isinstance(value, str) else value


class ProvisionCorrection(BaseModel):
    """What a lawyer or administrator may correct in the application."""

    model_config = ConfigDict(extra="forbid")
    article: str = Field(min_length=1, max_length=60)
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=20_000)
    applies_to: Applicability
    category: str = Field(default="", max_length=60)
    source_url: str = Field(default="", max_length=500, pattern=r"^(https?://\S+)?$",
                            description="the official text: an http(s) address, or empty")
    verification: str = Field(default="", max_length=40)
    notes: str = Field(default="", max_length=20_000)
    related: list[str] = Field(default_factory=list, max_length=100)
    elements: list[ElementCorrection] = Field(default_factory=list, max_length=100)
    binds: Binds = ""
    jurisdiction_note: str = Field(default="", max_length=20_000)
    inoperative: bool = False


def correct_provision(session: Session, provision: Provision, data: ProvisionCorrection, *,
                      expected_version: int, actor: User) -> Provision:
    """Correct a provision (audited); qualifications keep their findings by element number."""
    if actor.role not in (Role.admin, Role.legal):
        raise Forbidden("Only lawyers and administrators correct the catalogue.")
    lock_at_version(session, provision, expected_version, entity="provision",
                    entity_id=provision.key, what=provision.key,
                    message="{what} was corrected by someone else since you opened it (your "
                            "version {mine}, now {now}). Nothing was saved.")
    known = set(session.exec(select(Provision.key)))
    unknown = [k for k in data.related if k not in known]
    if unknown:
        message = f"Unknown provision key(s): {', '.join(unknown)}."
        raise InvalidInput(message, {"related": message})
    if any(not e.text.strip() for e in data.elements):
        raise InvalidInput("An element cannot be empty.", {"elements": "An element is empty."})
    before = provision_snapshot(session, provision)
    for name, value in data.model_dump(exclude={"elements"}).items():
        setattr(provision, name, value.strip() if isinstance(value, str) else value)
    set_elements(session, provision, [(e.text.strip(), e.kind) for e in data.elements])
    save_version(session, provision, before, lambda: provision_snapshot(session, provision),
                 actor=actor.email, entity="provision", entity_id=provision.key)
    return provision


def provision_read(session: Session, provision: Provision) -> dict:
    instrument = session.get(Instrument, provision.instrument_id)
    return {
        "key": provision.key, "instrument": instrument.short_name,
        "instrument_name": instrument.name, "article": provision.article,
        "title": provision.title, "summary": provision.summary,
        "applies_to": provision.applies_to, "category": provision.category,
        "related": provision.related, "source_url": provision.source_url,
        "verification": provision.verification, "notes": provision.notes,
        "elements_source": provision.elements_source, "version": provision.version,
        "binds": provision.binds, "jurisdiction_note": provision.jurisdiction_note,
        "inoperative": provision.inoperative,
        "elements": [{"number": e.number, "text": e.text, "kind": e.kind}
                     for e in elements_of(session, provision)],
    }


def provision_by_key(session: Session, key: str) -> Provision:
    provision = session.exec(select(Provision).where(Provision.key == key)).first()
    if provision is None:
        message = f"There is no provision {key!r} in the catalogue."
        raise InvalidInput(message, {"provision_key": message})
    return provision


# --- the suggestion mapping: incident type and weapon -> candidate provisions -----------------

def add_rule(session: Session, *, incident_type: str | None, weapon_keyword: str,
             requires_civilian_objects: bool, provision_key: str, reason: str,
             actor: User) -> SuggestionRule:
    """Add a line to the suggestion mapping (lawyers and administrators)."""
    if actor.role not in (Role.admin, Role.legal):
        raise Forbidden("Only lawyers and administrators edit the suggestions.")
    provision_by_key(session, provision_key)
    if not incident_type and not weapon_keyword.strip():
        message = "Give an incident type, a weapon word, or both."
        raise InvalidInput(message, {"incident_type": message})
    rule = SuggestionRule(incident_type=incident_type or None, weapon_keyword=weapon_keyword.strip(),
                          requires_civilian_objects=requires_civilian_objects,
                          provision_key=provision_key, reason=reason.strip())
    session.add(rule)
    session.flush()
    audit.record(session, actor=actor.email, action="create", entity="suggestion_rule",
                 entity_id=str(rule.id), after=audit.snapshot(rule))
    return rule


def retire_rule(session: Session, rule: SuggestionRule, *, actor: User) -> None:
    """Stop using a suggestion rule; the row stays, marked inactive."""
    if actor.role not in (Role.admin, Role.legal):
        raise Forbidden("Only lawyers and administrators edit the suggestions.")
    if not rule.active:
        return
    before = audit.snapshot(rule)
    rule.active = False
    session.add(rule)
    session.flush()
    audit.record(session, actor=actor.email, action="retire", entity="suggestion_rule",
                 entity_id=str(rule.id), before=before, after=audit.snapshot(rule))
