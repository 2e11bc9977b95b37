"""The legal catalogue and the suggestion rules as the audit log records them (held against the
log by verification)."""

from ihl_docs.core.audit.replay import Projection, names_by_id, stored_rows, table_rows
from ihl_docs.core.models import (
    IccBasis,
    Instrument,
    InstrumentParty,
    Provision,
    ProvisionElement,
    SuggestionRule,
)
from ihl_docs.provisions.catalogue import element_state


def provision_rows(session, _case):
    elements: dict[int, list[dict]] = {}
    for values, _ in stored_rows(session, ProvisionElement):
        elements.setdefault(values["provision_id"], []).append(
            element_state(values["number"], values["text"], values["kind"]))
    return table_rows(session, Provision, lambda v: v["key"], extra=lambda v: {
        "elements": sorted(elements.get(v["id"], []), key=lambda e: e["number"] or 0)})


def instrument_rows(session, _case):
    """An instrument's own columns. (Entries written before participation was audited apart
    also recorded a `parties` list; a field the row no longer has is not compared.)"""
    return table_rows(session, Instrument, lambda v: v["short_name"])


def party_rows(session, _case):
    """Each state's participation in an instrument, named "<instrument_short>:<STATE>"."""
    short = names_by_id(session, Instrument, "short_name")
    return table_rows(session, InstrumentParty,
                      lambda v: f"{short.get(v['instrument_id'], v['instrument_id'])}:{v['state']}")


def icc_basis_rows(session, _case):
    return table_rows(session, IccBasis, lambda v: v["key"])


def rule_rows(session, _case):
    return table_rows(session, SuggestionRule, lambda v: str(v["id"]))


PROVISION = Projection("provision", "provision", provision_rows, in_cases=False,
                       tables=("provision", "provision_element"))
INSTRUMENT = Projection("instrument", "instrument", instrument_rows, in_cases=False,
                        tables=("instrument",))
INSTRUMENT_PARTY = Projection("instrument_party", "treaty participation", party_rows,
                              in_cases=False, tables=("instrument_party",))
RULE = Projection("suggestion_rule", "suggestion rule", rule_rows, in_cases=False,
                  tables=("suggestion_rule",),
                  label_of=lambda key: f"#{key}")
ICC_BASIS = Projection("icc_basis", "ICC jurisdiction fact", icc_basis_rows, in_cases=False,
                       tables=("icc_basis",))
