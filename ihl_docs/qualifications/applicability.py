"""Does a provision reach an incident, and which court could try it? Three separate questions,
each answered in words with the facts it rests on:

- **binding** — is the rule binding on the party? Customary rules bind every party to the
  conflict. A treaty rule binds a state party from the day it entered into force for that state
  until a withdrawal takes effect. A non-state party is bound by treaty rules written for the
  parties to a conflict (common article 3, AP II, CCW Amended Protocol II) where the territorial
  state is party, and by other treaty rules only through attribution to a state.
- **jurisdiction** — for crimes: the ICC's preconditions (Rome Statute arts 11, 12, 13(b), 127)
  from the incident's territory, the responsible party's nationality, art. 12(3) declarations,
  Security Council referrals and withdrawals; where the ICC has none, national and universal
  jurisdiction (customary rules 156–157, the grave-breach provisions).
- **attribution** — a non-state party may be recorded as alleged to act for, or under the control
  of, a state: treaty checks then follow that state, and say so.

The incident's local calendar date is used throughout (a strike at 00:30 local time on the day a
treaty enters into force for the state is within it). Every answer is a `Finding` with a stable
`code`; missing data is *unknown*, never "not a party", and low-confidence data is used but
flagged with its source. Findings never exclude a qualification: they inform the lawyer."""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, select

from ihl_docs.core import localtime
from ihl_docs.core.models import (
    Applicability,
    Case,
    ConflictClassification,
    IccBasis,
    Incident,
    Instrument,
    InstrumentParty,
    Party,
    PartyKind,
    Provision,
    label,
)
from ihl_docs.provisions import treaties

ROME_STATUTE = "Rome Statute"
CUSTOMARY = "CIHL"
COMMON_ARTICLE_3 = "GC I-IV (common Art. 3)"
ICC_START = date(2002, 7, 1)  # art. 11(1): the Statute's entry into force
CRIME_CATEGORIES = {"war crimes"}
# Findings that are answers or advice, not warnings.
INFO_CODES = {"note", "icc_jurisdiction"}
# Findings that do not, alone, call for an alternative provision.
MILD_CODES = INFO_CODES | {"low_confidence", "bound_date_uncertain"}
ATTRIBUTION_WORDS = {
    "acts_for": "is alleged to act for (as an organ of, or on the instructions of)",
    "overall_control": "is alleged to act under the overall control of",
    "effective_control": "is alleged to act under the effective control of",
}


@dataclass
class Finding:
    """One answer of the check. `question` is binding, jurisdiction, attribution or conflict;
    `facts` are the dated, sourced facts the answer rests on; `basis` names the ground of an
    `icc_jurisdiction` answer (territory, nationality, declaration, referral)."""

    code: str
    message: str
    question: str = "binding"
    facts: list[str] = field(default_factory=list)
    basis: str | None = None
    suggested_provisions: list[str] = field(default_factory=list)

    @property
    def is_warning(self) -> bool:
        return self.code not in INFO_CODES

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "question": self.question,
                "warning": self.is_warning, "facts": self.facts, "basis": self.basis,
                "suggested_provisions": self.suggested_provisions}



def leading_date(text: str | None) -> date | None:
    """The ISO date a researched text starts with ('1989-12-04 (UNGA res. 44/34)')."""
    if not text or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def incident_date(incident: Incident) -> date | None:
    """The local calendar date the incident began on: its IANA zone, else its UTC offset, else
    (offset not recorded) the UTC date."""
    return localtime.local_date(incident) if isinstance(incident.occurred_from, datetime) else None


def provision_label(provision: Provision) -> str:
    return f"{provision.key} ({provision.title})"


def _is_treaty(instrument: Instrument) -> bool:
    return instrument.type.strip().lower().startswith("treaty")


def _is_national_law(instrument: Instrument) -> bool:
    return instrument.type.strip().lower().startswith("national")


def _is_crime(provision: Provision) -> bool:
    return provision.binds == "individuals" and provision.category in CRIME_CATEGORIES


def _binds(provision: Provision, instrument: Instrument) -> str:
    """Who the provision binds; data loaded before `binds` existed is read from the instrument."""
    if provision.binds:
        return provision.binds
    if instrument.short_name == ROME_STATUTE or provision.category in CRIME_CATEGORIES:
        return "individuals"
    return "states" if _is_treaty(instrument) else "parties_to_conflict"


# ---- facts -------------------------------------------------------------------------------------

@dataclass
class Facts:
    """What the check reads once per incident."""

    case: Case
    incident: Incident
    when: date | None
    party: Party | None
    territory: str | None


def facts_of(session: Session, incident: Incident) -> Facts:
    party = (session.get(Party, incident.responsible_party_id)
             if incident.responsible_party_id is not None else None)
    return Facts(session.get(Case, incident.case_id), incident, incident_date(incident), party,
                 incident.country or None)


def _participation(session: Session, instrument: Instrument, state: str) -> InstrumentParty | None:
    return treaties.participation(session, instrument, state)


def _status(row: InstrumentParty) -> str:
    return row.status.strip().lower().replace(" ", "_")


def participation_fact(instrument: Instrument, row: InstrumentParty) -> str:
    """One sentence: the state's status, its dates, the source and who entered it."""
    parts = [f"{row.state} — {instrument.short_name}: {_status(row).replace('_', ' ')}"]
    dates = []
    if row.deposit:
        dates.append(f"{row.action or 'instrument'} deposited {row.deposit}")
    if row.signature:
        dates.append(f"signed {row.signature}")
    if row.in_force_for_state:
        dates.append(f"in force for {row.state} from {row.in_force_for_state:%Y-%m-%d}")
    elif row.since:
        dates.append(f"bound since {row.since}")
    if row.withdrawal_effective:
        dates.append(f"withdrawal effective {row.withdrawal_effective:%Y-%m-%d}")
    if dates:
        parts.append(f" ({'; '.join(dates)})")
    parts.append(f"; source: {row.source or row.detail or 'not recorded'}")
    if row.confidence:
        parts.append(f"; confidence {row.confidence}")
    if row.origin == "team":
        when = f" on {row.entered_at:%Y-%m-%d}" if row.entered_at else ""
        parts.append(f"; entered by {row.entered_by or 'the legal team'}{when}")
    return "".join(parts) + "."


def _bound_from(row: InstrumentParty) -> tuple[date | None, bool]:
    """When the state is bound: (date, exact). A year alone counts from the end of that year."""
    if row.in_force_for_state:
        return row.in_force_for_state, True
    for text in (row.since, row.deposit):
        if text and len(text) == 4 and text.isdigit():
            return date(int(text), 12, 31), False
        exact = leading_date(text)
        if exact:
            return exact, text == row.since
    return None, False


@dataclass
class Bound:
    """The answer to "was this state bound by this instrument on that date?"."""

    state: str
    bound: bool | None  # None: unknown
    findings: list[Finding]
    facts: list[str]


def treaty_bound(session: Session, instrument: Instrument, state: str, when: date,
                 subject: str) -> Bound:
    """Was `state` bound by `instrument` on `when`? `subject` names the rule in messages."""
    in_force = leading_date(instrument.entry_into_force)
    if in_force and when < in_force:
        return Bound(state, False, [Finding(
            "not_in_force", f"{instrument.short_name} entered into force on {in_force:%Y-%m-%d}, "
                            f"after the incident ({when:%Y-%m-%d}).")], [])
    row = _participation(session, instrument, state)
    if row is None or _status(row) == "unknown":
        fact = [participation_fact(instrument, row)] if row is not None else []
        return Bound(state, None, [Finding(
            "state_status_unknown",
            f"Whether {state} is party to {instrument.short_name} is unknown: the catalogue holds "
            f"no verified record (a missing record is not 'not a party'). Check the depositary's "
            f"list before relying on {subject}; a lawyer can record the answer under Treaties.",
            facts=fact)], fact)
    facts = [participation_fact(instrument, row)]
    findings = []
    if row.confidence.strip().lower() == "low":
        findings.append(Finding(
            "low_confidence",
            f"{state}'s participation in {instrument.short_name} rests on low-confidence data "
            f"(source: {row.source or 'not recorded'}); verify it before citing it.", facts=facts))
    status = _status(row)
    if status in ("not_party", "signatory"):
        signed = " (it signed but did not ratify)" if status == "signatory" else ""
        findings.insert(0, Finding("state_not_party",
                                   f"{state} is not party to {instrument.short_name}{signed}, so "
                                   f"{subject} does not bind it as a treaty.", facts=facts))
        return Bound(state, False, findings, facts)
    if row.withdrawal_effective and when >= row.withdrawal_effective:
        findings.insert(0, Finding(
            "withdrawn", f"{state}'s withdrawal from {instrument.short_name} took effect on "
                         f"{row.withdrawal_effective:%Y-%m-%d}, before the incident "
                         f"({when:%Y-%m-%d}).", facts=facts))
        return Bound(state, False, findings, facts)
    bound, exact = _bound_from(row)
    if bound is None:
        findings.insert(0, Finding(
            "state_since_unknown" if status == "party" else "state_status_unknown",
            f"{state} is recorded as {label(status).lower()} to {instrument.short_name}, but since "
            f"when is not recorded; check the date before relying on {subject}.", facts=facts))
        return Bound(state, None, findings, facts)
    if when < bound and (exact or when.year < bound.year):
        findings.insert(0, Finding(
            "not_yet_bound", f"{state} was bound by {instrument.short_name} only from "
                             f"{bound:%Y-%m-%d}; the incident ({when:%Y-%m-%d}) is earlier.", facts=facts))
        return Bound(state, False, findings, facts)
    if not exact and when.year == bound.year:
        findings.insert(0, Finding(
            "bound_date_uncertain",
            f"{state} joined {instrument.short_name} in {bound.year} (exact date not recorded); "
            f"the incident falls in that year, so check whether it was already bound on "
            f"{when:%Y-%m-%d}.", facts=facts))
        return Bound(state, None, findings, facts)
    if status == "withdrawn" and row.withdrawal_effective is None:
        findings.insert(0, Finding(
            "state_status_unknown", f"{state} is recorded as having withdrawn from "
                                    f"{instrument.short_name}, but not when the withdrawal took "
                                    f"effect; check.", facts=facts))
        return Bound(state, None, findings, facts)
    return Bound(state, True, findings, facts)


# ---- the three questions ----------------------------------------------------------------------

def _conflict(provision: Provision, instrument: Instrument, classification: str) -> list[Finding]:
    label_ = provision_label(provision)
    if provision.applies_to == Applicability.both or classification == ConflictClassification.both:
        return []
    scope = "international" if provision.applies_to == Applicability.IAC else "non-international"
    if classification == ConflictClassification.undetermined:
        return [Finding("classification_undetermined",
                        f"{label_} applies only in {scope} armed conflict, and the case's conflict "
                        f"classification is undetermined.", question="conflict")]
    if instrument.short_name == COMMON_ARTICLE_3 and classification == ConflictClassification.international:
        return [Finding("note",
                        f"{label_} is written for non-international armed conflict; in an "
                        f"international one its rules apply as a minimum yardstick (ICJ, "
                        f"Nicaragua, 1986, para. 218), beside GC IV and AP I art. 75.",
                        question="conflict")]
    if provision.applies_to == Applicability.IAC and classification == ConflictClassification.non_international:
        return [Finding("iac_only", f"{label_} applies only in international armed conflict; this "
                                    f"case is classified non-international.", question="conflict")]
    if provision.applies_to == Applicability.NIAC and classification == ConflictClassification.international:
        return [Finding("niac_only", f"{label_} applies only in non-international armed conflict; "
                                     f"this case is classified international.", question="conflict")]
    return []


def _attribution(facts: Facts) -> tuple[str | None, list[Finding]]:
    """The state a non-state party's conduct is alleged to be attributable to, with the note
    saying so."""
    party = facts.party
    if party is None or party.kind != PartyKind.non_state or not party.attributed_state:
        return None, []
    how = ATTRIBUTION_WORDS.get(party.attribution or "", "is alleged to act for")
    evidence = (f" Evidence cited: {', '.join(party.attribution_evidence)}."
                if party.attribution_evidence else "")
    note = f" Note: {party.attribution_note}" if party.attribution_note else ""
    return party.attributed_state, [Finding(
        "note", f"{party.name} {how} {party.attributed_state}: its conduct is assessed as "
                f"that of {party.attributed_state}, and treaty checks follow "
                f"{party.attributed_state}.{note}{evidence}", question="attribution")]


def _binding(session: Session, provision: Provision, instrument: Instrument,
             facts: Facts) -> list[Finding]:
    """Is the rule binding on the responsible party on the incident's date?"""
    binds = _binds(provision, instrument)
    label_, party = provision_label(provision), facts.party
    if not _is_treaty(instrument) or binds == "individuals" or facts.when is None:
        return []
    if party is None:
        return []
    if binds == "parties_to_conflict":
        # Written for every party to the conflict: what matters is the state in whose territory
        # the conflict takes place (AP II art. 1(1); common art. 3: "in the territory of one of
        # the High Contracting Parties").
        state = facts.territory or (party.state_code if party.kind == PartyKind.state else None)
        if state is None:
            return [Finding("state_status_unknown",
                            f"{label_} binds every party to the conflict where the territorial "
                            f"state is party to {instrument.short_name}; the incident's country is "
                            f"not recorded.")]
        result = treaty_bound(session, instrument, state, facts.when, label_)
        findings = result.findings
        if result.bound and party.kind == PartyKind.non_state:
            findings.append(Finding(
                "note", f"{label_} binds {party.name} as a party to the conflict: "
                        f"{instrument.short_name} was in force for {state}, where the incident "
                        f"took place.", facts=result.facts))
        return findings
    # Treaty rules that bind states.
    if party.kind == PartyKind.state:
        return treaty_bound(session, instrument, party.state_code, facts.when, label_).findings
    state, notes = _attribution(facts)
    if state is None:
        return [Finding(
            "attribution_needed",
            f"{instrument.short_name} binds states; {party.name} is not a state, so {label_} "
            f"reaches its conduct only if that conduct is attributable to a state party (record "
            f"the state it is alleged to act for, or under whose control it acts, on the case's "
            f"parties) — or rely on the customary rule that binds every party.",
            question="attribution")]
    return notes + treaty_bound(session, instrument, state, facts.when, label_).findings


def _state_bound_by_statute(session: Session, statute: Instrument | None, state: str,
                            when: date) -> Bound | None:
    if statute is None:
        return None
    return treaty_bound(session, statute, state, when, "the Rome Statute")


def _icc(session: Session, provision: Provision, facts: Facts) -> list[Finding]:
    """The ICC's preconditions (arts 11, 12, 13(b), 127) for a Rome Statute crime."""
    label_, when = provision_label(provision), facts.when
    if when is None:
        return []
    if when < ICC_START:
        return [Finding("no_icc_jurisdiction",
                        f"The ICC has jurisdiction only over crimes committed after 1 July 2002 "
                        f"(art. 11(1)); the incident is of {when:%Y-%m-%d}.", question="jurisdiction")]
    statute = session.exec(select(Instrument).where(Instrument.short_name == ROME_STATUTE)).first()
    party = facts.party
    nationality = party.state_code if party is not None and party.kind == PartyKind.state else None
    checked, facts_seen, caveats, unknown = [], [], [], []
    for state, ground in ((facts.territory, "territory"), (nationality, "nationality")):
        if not state or (state, ground) in checked:
            continue
        checked.append((state, ground))
        result = _state_bound_by_statute(session, statute, state, when)
        if result is None:
            continue
        facts_seen += result.facts
        caveats += [f for f in result.findings if f.code in ("low_confidence", "bound_date_uncertain")]
        if result.bound:
            article = "12(2)(a)" if ground == "territory" else "12(2)(b)"
            where = (f"on the territory of {state}" if ground == "territory"
                     else f"by a national of {state} ({party.name})")
            return [Finding("icc_jurisdiction",
                            f"The ICC may exercise jurisdiction over {label_}: the conduct took "
                            f"place {where}, a State Party on {when:%Y-%m-%d} (art. {article}; "
                            f"art. 11).", question="jurisdiction", facts=facts_seen, basis=ground)
                    ] + _relabel(caveats)
        if result.bound is None:
            unknown.append(state)
    states = dict.fromkeys(s for s in (facts.territory, nationality) if s)
    bases = [b for state in states for b in treaties.icc_facts(session, state) if b.in_effect]
    for basis in bases:
        covered = (basis.period_from is None or basis.period_from <= when) and \
                  (basis.period_to is None or when <= basis.period_to)
        fact = _basis_fact(basis)
        if basis.kind == "declaration" and covered:
            return [Finding("icc_jurisdiction",
                            f"The ICC may exercise jurisdiction over {label_}: {basis.state} "
                            f"accepted it by an art. 12(3) declaration covering "
                            f"{_period(basis)}, which includes {when:%Y-%m-%d}.",
                            question="jurisdiction", facts=facts_seen + [fact],
                            basis="declaration")] + _confidence(basis) + _relabel(caveats)
        if basis.kind == "referral" and covered and basis.state == facts.territory:
            return [Finding("icc_jurisdiction",
                            f"The ICC may exercise jurisdiction over {label_}: the Security Council "
                            f"referred the situation in {basis.situation or basis.state} "
                            f"({basis.reference}) from {basis.period_from:%Y-%m-%d} (art. 13(b)). "
                            f"Check the referral's limits (e.g. exclusions of nationals of "
                            f"non-party contributing states).", question="jurisdiction",
                            facts=facts_seen + [fact], basis="referral")
                    ] + _confidence(basis) + _relabel(caveats)
        facts_seen.append(fact)
    if unknown:
        return [Finding("state_status_unknown",
                        f"Whether the ICC has jurisdiction over {label_} is unknown: the Rome "
                        f"Statute status of {', '.join(unknown)} on {when:%Y-%m-%d} is not "
                        f"recorded.", question="jurisdiction", facts=facts_seen)] + _relabel(caveats)
    if not facts.territory:
        missing = "the incident's country is not recorded"
        missing += "" if nationality else ", nor the responsible party's nationality"
        return [Finding("no_icc_jurisdiction",
                        f"No basis for ICC jurisdiction over {label_} can be shown: {missing}.",
                        question="jurisdiction", facts=facts_seen)]
    who = f"{facts.territory}" + (f" nor {nationality}" if nationality and
                                  nationality != facts.territory else "")
    return [Finding("no_icc_jurisdiction",
                    f"The ICC has no jurisdiction over {label_} on the recorded facts: neither "
                    f"{who} was a State Party on {when:%Y-%m-%d}, and no art. 12(3) declaration "
                    f"or Security Council referral covers it. National courts remain: the "
                    f"territorial and nationality states, and universal jurisdiction.",
                    question="jurisdiction", facts=facts_seen)] + _relabel(caveats)


def _relabel(findings: list[Finding]) -> list[Finding]:
    for finding in findings:
        finding.question = "jurisdiction"
    return findings


def _period(basis: IccBasis) -> str:
    start = f"{basis.period_from:%Y-%m-%d}" if basis.period_from else "an unstated date"
    end = f"{basis.period_to:%Y-%m-%d}" if basis.period_to else "an open end"
    return f"{start} to {end}"


def _basis_fact(basis: IccBasis) -> str:
    kinds = {"declaration": "art. 12(3) declaration", "referral": "Security Council referral",
             "withdrawal": "withdrawal (art. 127)"}
    lodged = f", lodged {basis.lodged_on:%Y-%m-%d}" if basis.lodged_on else ""
    return (f"{basis.state} — {kinds.get(basis.kind, basis.kind)}{lodged}, covering "
            f"{_period(basis)}; source: {basis.source or 'not recorded'}; confidence "
            f"{basis.confidence or 'not stated'}"
            + (f"; entered by {basis.entered_by}" if basis.origin == "team" else "") + ".")


def _confidence(basis: IccBasis) -> list[Finding]:
    if basis.confidence.strip().lower() != "low":
        return []
    return [Finding("low_confidence", f"The {basis.kind} of {basis.state} rests on "
                                      f"low-confidence data (source: {basis.source}); verify it.",
                    question="jurisdiction", facts=[_basis_fact(basis)])]


def _jurisdiction(session: Session, provision: Provision, instrument: Instrument,
                  facts: Facts) -> list[Finding]:
    """Which court could try it: the ICC for Rome Statute crimes, universal jurisdiction for
    grave breaches, national law for national offences."""
    if instrument.short_name == ROME_STATUTE:
        if not _is_crime(provision):
            return [Finding("note", f"{provision_label(provision)} is a condition on the Court or "
                                    f"a mode of liability, not a rule of conduct: "
                                    f"{provision.jurisdiction_note or 'see its notes'}",
                            question="jurisdiction")]
        return _icc(session, provision, facts)
    if _binds(provision, instrument) != "individuals":
        return []
    if _is_national_law(instrument):
        return [Finding("note", f"{provision_label(provision)} is national law "
                                f"({instrument.name}): {provision.jurisdiction_note}".rstrip(": "),
                        question="jurisdiction")]
    if provision.category in CRIME_CATEGORIES and provision.jurisdiction_note:
        return [Finding("note", f"{provision_label(provision)}: {provision.jurisdiction_note}",
                        question="jurisdiction")]
    return []


def _operative(provision: Provision) -> list[Finding]:
    if not provision.inoperative:
        return []
    return [Finding("inoperative",
                    f"{provision_label(provision)} is not operative: it depends on an annex or "
                    f"instrument that has not been adopted, so no one can be charged under it. "
                    f"{provision.notes}".strip())]


def check(session: Session, incident: Incident, provision: Provision,
          with_suggestions: bool = True, facts: Facts | None = None) -> list[Finding]:
    """Every answer of the check for this provision and incident: warnings (each reason it may
    not apply) and notes (the jurisdiction basis, attribution, advice), with the provisions that
    do reach the conduct where one is missing."""
    facts = facts or facts_of(session, incident)
    instrument = session.get(Instrument, provision.instrument_id)
    findings = (_operative(provision)
                + _conflict(provision, instrument, facts.case.conflict_classification)
                + _binding(session, provision, instrument, facts)
                + _jurisdiction(session, provision, instrument, facts))
    serious = [f for f in findings if f.code not in MILD_CODES]
    if with_suggestions and serious:
        suggestions = _alternatives(session, incident, provision, instrument, facts)
        for finding in serious:
            finding.suggested_provisions = suggestions
    return findings


def warnings_of(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_warning]


def _serious(session, incident, provision, facts) -> bool:
    return any(f.code not in MILD_CODES for f in check(session, incident, provision,
                                                       with_suggestions=False, facts=facts))


def _alternatives(session: Session, incident: Incident, provision: Provision,
                  instrument: Instrument, facts: Facts) -> list[str]:
    """The provisions that do reach the conduct: for a rule of conduct, the customary rules that
    bind every party; for a crime, the other crimes a court could try and customary rules 156
    (serious violations are war crimes) and 157 (universal jurisdiction) — never a rule of state
    conduct in place of a charge."""
    crime = _binds(provision, instrument) == "individuals"
    keys = list(provision.related or [])
    if crime:
        keys += ["cihl-156", "cihl-157"]
    rows = {p.key: p for p in session.exec(select(Provision).where(Provision.key.in_(keys)))}
    customary = {i.id for i in session.exec(select(Instrument).where(
        Instrument.short_name == CUSTOMARY))}
    instruments = {i.id: i for i in session.exec(select(Instrument))}
    found = []
    for key in dict.fromkeys(keys):
        candidate = rows.get(key)
        if candidate is None or candidate.key == provision.key:
            continue
        is_customary = candidate.instrument_id in customary
        if crime and not (_is_crime(candidate) or
                          (is_customary and candidate.category == "jurisdiction")):
            continue
        if not crime and (not is_customary or
                          _binds(candidate, instruments[candidate.instrument_id]) == "individuals"):
            continue
        if _serious(session, incident, candidate, facts):
            continue
        found.append(candidate)
    found.sort(key=lambda p: (p.instrument_id not in customary, p.key))
    return [p.key for p in found]
