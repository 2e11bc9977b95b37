"""The legal catalogue and the suggestion rules as the audit log records them (held against the
log by verification)."""

from ihl_docs.core.audit.replay import Projection, row_state, stored_rows, table_rows
from ihl_docs.core.models import (
    IccBasis,
    Instrument,
    InstrumentParty,
    Provision,
    ProvisionElement,
    SuggestionRule,
)


def provision_rows(session, _case):
    elements: dict[int, list[dict]] = {}
    for values, _ in stored_rows(session, ProvisionElement):
        elements.setdefault(values["provision_id"], []).append(
            {"number": values["number"], "text": values["text"]})
    return table_rows(session, Provision, lambda v: v["key"], extra=lambda v: {
        "elements": sorted(elements.get(v["id"], []), key=lambda e: e["number"] or 0)})


def instrument_rows(session, _case):
    parties: dict[int, list[dict]] = {}
    for values, _ in stored_rows(session, InstrumentParty):
        parties.setdefault(values["instrument_id"], []).append(
            row_state(values) | {"id": None, "instrument_id": None})
    return table_rows(session, Instrument, lambda v: v["short_name"], extra=lambda v: {
        "parties": sorted(parties.get(v["id"], []), key=lambda p: str(p["state"]))})


def icc_basis_rows(session, _case):
    return table_rows(session, IccBasis, lambda v: v["key"])


def rule_rows(session, _case):
    return table_rows(session, SuggestionRule, lambda v: str(v["id"]))


PROVISION = Projection("provision", "provision", provision_rows, in_cases=False,
                       tables=("provision", "provision_element"))
INSTRUMENT = Projection("instrument", "instrument", instrument_rows, in_cases=False,
                        tables=("instrument", "instrument_party"))
RULE = Projection("suggestion_rule", "suggestion rule", rule_rows, in_cases=False,
                  tables=("suggestion_rule",),
                  label_of=lambda key: f"#{key}")
ICC_BASIS = Projection("icc_basis", "ICC jurisdiction fact", icc_basis_rows, in_cases=False,
                       tables=("icc_basis",))
