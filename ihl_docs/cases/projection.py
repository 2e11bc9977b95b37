"""Cases and their members as the audit log records them (held against the log by verification)."""

from ihl_docs.core.audit.replay import Projection, Row, names_by_id, stored_rows, table_rows
from ihl_docs.core.models import Case, CaseMember, Party, PartyBase, User

ATTRIBUTION_FIELDS = [f for f in PartyBase.model_fields if f.startswith("attribut")]


def party_record(values: dict) -> dict:
    """A party as a case's audit entries record it: its attribution to a state only where one is
    alleged (entries written before attributions existed have none)."""
    record = {"name": values["name"], "kind": values["kind"], "state_code": values["state_code"]}
    if values.get("attributed_state") or values.get("attribution"):
        record.update({name: values.get(name) for name in ATTRIBUTION_FIELDS})
    return record


def _parties(session, case) -> dict[int, list[dict]]:
    """case id -> its parties as a case's entries record them, by name."""
    where = [Party.case_id == case.id] if case is not None else []
    parties: dict[int, list[dict]] = {}
    for values, _ in stored_rows(session, Party, *where):
        parties.setdefault(values["case_id"], []).append(party_record(values))
    return {k: sorted(v, key=lambda p: str(p["name"])) for k, v in parties.items()}


def case_rows(session, case):
    parties = _parties(session, case)
    where = [Case.id == case.id] if case is not None else []
    return table_rows(session, Case, lambda v: v["ref"], *where,
                      extra=lambda v: {"parties": parties.get(v["id"], [])})


def member_rows(session, case):
    refs, emails = names_by_id(session, Case), names_by_id(session, User, "email")
    where = [CaseMember.case_id == case.id] if case is not None else []
    for values, unreadable in stored_rows(session, CaseMember, *where):
        ref, email = refs.get(values["case_id"]), emails.get(values["user_id"])
        yield Row(f"{ref}:{email}", {"case": ref, "user": email}, unreadable)


def _member_label(entity_id: str) -> str:
    ref, _, email = entity_id.partition(":")
    return f"{email} on {ref}"


CASE = Projection(
    "case", "case", case_rows,
    # A case counts the refs it has handed out; the counters move with each new incident,
    # item and dossier, whose own entries record them.
    unaudited=frozenset({"incident_counter", "evidence_counter", "dossier_counter"}),
    tables=("case", "party"))
MEMBER = Projection("case_member", "case member", member_rows, label_of=_member_label,
                    tables=("case_member",),
                    subject_of=lambda entity_id: entity_id.partition(":")[0])
