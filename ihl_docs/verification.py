"""Everything `ihl verify` and the API's /verify check."""

from sqlmodel import Session

from .audit.services import verify_chain


def verify_all(session: Session) -> dict:
    """Recompute the audit chain; returns {ok, audit_entries, problems}."""
    count, problems = verify_chain(session)
    return {"ok": not problems, "audit_entries": count, "problems": problems}
