"""Does a provision apply to an incident? Conflict classification, the responsible party's state,
the incident date and the instruments' states parties. Warnings, never silent exclusions."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from ihl_docs.core.models import (
    Applicability,
    Case,
    ConflictClassification,
    Incident,
    Instrument,
    InstrumentParty,
    Party,
    PartyKind,
    Provision,
)

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


@dataclass
class Warning:
    code: str
    message: str
    suggested_provisions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message,
                "suggested_provisions": self.suggested_provisions}


def leading_date(text: str | None) -> date | None:
    """The ISO date a researched text starts with ('1989-12-04 (UNGA res. 44/34)')."""
    match = _DATE.match(text or "")
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def bound_from(since: str | None) -> tuple[date | None, bool]:
    """When a state is bound: (date, exact). A year alone counts from the end of that year."""
    if not since:
        return None, False
    if len(since) == 4:
        return date(int(since), 12, 31), False
    exact = leading_date(since)
    return exact, exact is not None


def _is_treaty(instrument: Instrument) -> bool:
    return instrument.type.strip().lower() == "treaty"


def _conflict_warning(provision: Provision, classification: str) -> Warning | None:
    if provision.applies_to == Applicability.both:
        return None
    if classification == ConflictClassification.undetermined:
        scope = "international" if provision.applies_to == Applicability.IAC else "non-international"
        return Warning("classification_undetermined",
                       f"{provision_label(provision)} applies only in {scope} armed conflict, and "
                       f"the case's conflict classification is undetermined.")
    if classification == ConflictClassification.both:
        return None
    if provision.applies_to == Applicability.IAC and classification == ConflictClassification.non_international:
        return Warning("iac_only", f"{provision_label(provision)} applies only in international "
                                   f"armed conflict; this case is classified non-international.")
    if provision.applies_to == Applicability.NIAC and classification == ConflictClassification.international:
        return Warning("niac_only", f"{provision_label(provision)} applies only in "
                                    f"non-international armed conflict; this case is classified "
                                    f"international.")
    return None


def _treaty_warning(session: Session, provision: Provision, instrument: Instrument,
                    state: str, when: date) -> Warning | None:
    label = provision_label(provision)
    in_force = leading_date(instrument.entry_into_force)
    if in_force and when < in_force:
        return Warning("not_in_force", f"{instrument.short_name} entered into force on "
                                       f"{in_force:%Y-%m-%d}, after the incident ({when:%Y-%m-%d}).")
    entry = session.exec(select(InstrumentParty).where(
        InstrumentParty.instrument_id == instrument.id, InstrumentParty.state == state)).first()
    if entry is None:
        return Warning("state_status_unknown", f"The catalogue does not record whether {state} is "
                                               f"party to {instrument.short_name}; check before "
                                               f"relying on {label}.")
    if entry.status.strip().lower() == "not party":
        return Warning("state_not_party", f"{state} is not party to {instrument.short_name}, so "
                                          f"{label} does not bind it as a treaty.")
    if entry.status.strip().lower() != "party":
        return None
    bound, exact = bound_from(entry.since)
    if bound is None:
        return Warning("state_since_unknown", f"{state} is party to {instrument.short_name}, but "
                                              f"since when is not recorded; check the date.")
    if when < bound and (exact or when.year < bound.year):
        return Warning("not_yet_bound", f"{state} was bound by {instrument.short_name} only from "
                                        f"{entry.since}; the incident ({when:%Y-%m-%d}) is earlier.")
    if not exact and when.year == bound.year:
        return Warning("bound_date_uncertain", f"{state} joined {instrument.short_name} in "
                                               f"{entry.since} (exact date not verified); the "
                                               f"incident falls in that year, so check whether it "
                                               f"was already bound on {when:%Y-%m-%d}.")
    return None


def provision_label(provision: Provision) -> str:
    return f"{provision.key} ({provision.title})"


def responsible_state(session: Session, incident: Incident) -> tuple[Party | None, str | None]:
    if incident.responsible_party_id is None:
        return None, None
    party = session.get(Party, incident.responsible_party_id)
    if party is None or party.kind != PartyKind.state:
        return party, None
    return party, party.state_code


def check(session: Session, incident: Incident, provision: Provision,
          with_suggestions: bool = True) -> list[Warning]:
    """Every reason the provision may not apply to the incident, with provisions that may."""
    case = session.get(Case, incident.case_id)
    instrument = session.get(Instrument, provision.instrument_id)
    warnings = []
    conflict = _conflict_warning(provision, case.conflict_classification)
    if conflict:
        warnings.append(conflict)
    if _is_treaty(instrument):
        _, state = responsible_state(session, incident)
        when = incident.occurred_from.date() if isinstance(incident.occurred_from, datetime) else None
        if state and when:
            treaty = _treaty_warning(session, provision, instrument, state, when)
            if treaty:
                warnings.append(treaty)
    serious = [w for w in warnings if w.code not in {"bound_date_uncertain"}]
    if with_suggestions and serious:
        suggestions = _alternatives(session, incident, provision)
        for warning in warnings:
            warning.suggested_provisions = suggestions
    return warnings


def _alternatives(session: Session, incident: Incident, provision: Provision) -> list[str]:
    """Related provisions that do apply, customary rules first."""
    if not provision.related:
        return []
    rows = session.exec(select(Provision).where(Provision.key.in_(provision.related))).all()
    customary = {i.id for i in session.exec(select(Instrument).where(
        Instrument.short_name == "CIHL"))}
    rows = sorted(rows, key=lambda p: (p.instrument_id not in customary, p.key))
    return [p.key for p in rows if not check(session, incident, p, with_suggestions=False)]
