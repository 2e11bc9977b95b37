"""What approving an incident must answer for: its facts not verified, and the gaps other
features find in it (elements of its legal qualification with no supporting evidence …).

Approval is not refused for these: a lawyer may approve all the same, but must say why in an
approval note, which is kept with the incident and printed in its dossier. Features add their
checks through `register_approval_check` in their `init_app`, so the incidents feature need
not know them."""

from collections.abc import Callable

from sqlmodel import Session

from ihl_docs.core.models import Incident, VerificationStatus, label

# (session, incident) -> each gap in words, e.g. "2 of 5 elements of api-51-4 have no
# supporting evidence: 2, 4"; an empty list when there is nothing to answer for.
ApprovalCheck = Callable[[Session, Incident], list[str]]

MAX_NOTE = 20_000  # characters, as the API's StatusChange allows


def register_approval_check(app, check: ApprovalCheck) -> None:
    """Ask `check` whenever an incident is approved."""
    app.extensions.setdefault("ihl_approval_checks", []).append(check)


def registered_checks() -> list[ApprovalCheck]:
    """The checks the current application registered. Outside an application there is no telling
    which exist: refused, rather than approving with none asked."""
    from flask import current_app, has_app_context

    if not has_app_context():
        raise RuntimeError("Which gaps an approval must answer for is not known outside the "
                           "application: pass `checks`.")
    return list(current_app.extensions.get("ihl_approval_checks", []))


def approval_gaps(session: Session, incident: Incident, checks: list[ApprovalCheck]) -> list[str]:
    """Everything approving this incident would have to answer for, in words."""
    gaps = [gap for check in checks for gap in check(session, incident)]
    if incident.verification_status != VerificationStatus.verified:
        gaps.append(f"the incident is {label(incident.verification_status).lower()}")
    return gaps


def note_needed(incident: Incident, gaps: list[str]) -> str:
    """The refusal of an approval without a note, naming every gap."""
    return (f"Approving {incident.ref} needs an approval note saying why: "
            f"{'; '.join(gaps)}.")
