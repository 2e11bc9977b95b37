"""The database's checkpoints held against their witnesses outside it, for verification.

- every journalled checkpoint is still in the database, as journalled (a checkpoint deleted or
  altered in the database is named);
- every checkpoint of the database since the journal began is in the journal (one inserted in
  the database, never witnessed, is named);
- the log still holds every journalled checkpoint: the signed hash at its seq, and at least that
  many entries (a log rewritten with every later hash recomputed, or cut short, is named even
  when the database's checkpoints were deleted with it);
- every timestamp token is over its checkpoint's signed message and, with IHL_TSA_CA_FILE, signed
  by an authority chaining to those certificates (checked for the newest checkpoint, and for
  every token not held, as it is, by a journal: see _stored_token_problems).

Each problem names the seq and says "checkpoint", so verification classes it with the other
checkpoint findings.
"""

from collections.abc import Mapping

from sqlmodel import Session

from ihl_docs.core.audit.checkpoints import checkpoint_document, list_checkpoints
from ihl_docs.core.audit.journal import LINE_FIELDS, Journal, Witnesses, log_problems, read_journal
from ihl_docs.core.audit.timestamps import token_problem, trusted_certificates
from ihl_docs.core.audit.verify_audit import checkpoint_message


def witness_problems(session: Session, witnesses: Witnesses | Mapping,
                     public_key: str | None = None) -> list[str]:
    """Every disagreement between the database's checkpoints, the log and the journals, in
    words; `witnesses` or the configuration naming them. With `public_key`, journalled
    checkpoints signed by another key are problems too."""
    if not isinstance(witnesses, Witnesses):
        witnesses = Witnesses.from_config(witnesses)
    stored = {c.seq: {**checkpoint_document(c), "timestamp_token": c.timestamp_token}
              for c in list_checkpoints(session)}
    journals = [read_journal(path) for path in witnesses.journals]
    trusted, problems = _trusted(witnesses)
    problems += _stored_token_problems(stored, journals, trusted)
    for journal in journals:
        problems += _journal_problems(session, journal, stored, trusted, public_key)
    return problems


def _stored_token_problems(stored: dict[int, dict], journals: list[Journal],
                           trusted) -> list[str]:
    """Each token of the database over its checkpoint's message. Its signature is checked
    against the trusted certificates when no journal holds the same line — a token the journal
    holds was checked so when it was received, and checking each again costs some 7 ms — and for
    the newest checkpoint (so a change of the trusted certificates shows at once)."""
    journalled = {_key(line) for journal in journals for line in journal.checkpoints}
    problems = []
    for seq, document in stored.items():
        full = _key(document) not in journalled or seq == max(stored)
        problems += _token_problems(seq, document, trusted if full else None, "")
    return problems


def _key(document: dict) -> tuple:
    return tuple(document[name] for name in LINE_FIELDS)


def _trusted(witnesses: Witnesses) -> tuple[list | None, list[str]]:
    if not witnesses.tsa_ca_file:
        return None, []
    try:
        return trusted_certificates(witnesses.tsa_ca_file), []
    except (OSError, ValueError) as exc:
        return None, [f"the time-stamping authorities' certificates ({witnesses.tsa_ca_file}) "
                      f"cannot be read ({getattr(exc, 'strerror', None) or exc}): timestamp "
                      "tokens were held against their checkpoints only, not against a trusted "
                      "authority"]


def _journal_problems(session: Session, journal: Journal, stored: dict[int, dict],
                      trusted, public_key: str | None) -> list[str]:
    problems = list(journal.problems)
    where = f"the checkpoint journal {journal.path}"
    if not journal.checkpoints:
        if stored and not problems:
            state = "empty" if journal.exists else "missing"
            problems.append(f"{where} is {state}, though the database holds audit checkpoints "
                            f"up to seq {max(stored)}: it was removed, or emptied")
        return problems
    problems += log_problems(session, journal, public_key)
    journalled: dict[int, list[dict]] = {}
    for line in journal.checkpoints:
        journalled.setdefault(line["seq"], []).append(line)
    for seq, lines in sorted(journalled.items()):
        problems += _held_against_database(seq, lines, stored.get(seq), where)
        for line in lines:
            if stored.get(seq) != line:
                problems += _token_problems(seq, line, trusted, f" in {where}")
    first = min(journalled)
    problems += [f"audit checkpoint at seq {seq} is in the database but not in {where}: it was "
                 "never witnessed (inserted in the database, or its witnessing failed)"
                 for seq in sorted(stored) if seq >= first and seq not in journalled]
    return problems


def _held_against_database(seq: int, lines: list[dict], stored: dict | None,
                           where: str) -> list[str]:
    if stored is None:
        return [f"audit checkpoint at seq {seq} is in {where} but no longer in the database: "
                "it was removed"]
    if stored in lines:
        return []
    fields = [name for name in LINE_FIELDS if stored[name] != lines[-1][name]]
    return [f"audit checkpoint at seq {seq} differs between the database and {where} "
            f"({', '.join(fields)})"]


def _token_problems(seq: int, document: dict, trusted, where: str) -> list[str]:
    token = document.get("timestamp_token")
    if token is None:
        return []
    problem = token_problem(token, checkpoint_message(document), trusted)
    return [f"audit checkpoint at seq {seq}{where}: {problem}"] if problem else []
