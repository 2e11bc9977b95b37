"""The checkpoint journal: every signed checkpoint also written outside the database.

Whoever can write the database can delete its `audit_checkpoint` rows, rewrite the log from any
entry on with every later hash recomputed, and so make the log verify again. A copy of each
checkpoint kept where they cannot reach — an append-only file (a journal), a service that keeps
what it is sent — cannot be taken back: a rewritten log no longer holds the journalled hash at
the journalled seq.

IHL_CHECKPOINT_WITNESSES names the witnesses: files (journals; JSON Lines, appended, fsync'ed,
mode 0600; verification reads them back) and http(s) addresses (each checkpoint is POSTed to
them as JSON; they are not read back). By default: `checkpoints.journal` in the instance folder.
"""

import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from ihl_docs.core.audit.chain import canonical_json
from ihl_docs.core.audit.signing import signature_valid
from ihl_docs.core.audit.timestamps import failure_reason as _reason
from ihl_docs.core.audit.verify_audit import checkpoint_message, checkpoint_problems
from ihl_docs.core.errors import Conflict
from ihl_docs.core.models import AuditEntry

log = logging.getLogger("ihl_docs.audit")
LINE_FIELDS = ("seq", "hash", "occurred_at", "signed_at", "public_key", "signature",
               "timestamp_token")
MAX_LINE = 64 * 1024  # a checkpoint line is under 10 KiB, even with a timestamp token
MAX_DEPTH = 20


@dataclass(frozen=True)
class Witnesses:
    """Where checkpoints are witnessed, and by which time-stamping authorities they are dated."""

    journals: tuple[Path, ...]
    addresses: tuple[str, ...] = ()
    tsa_urls: tuple[str, ...] = ()
    tsa_ca_file: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping) -> "Witnesses":
        """The witnesses an application's configuration names (see core/config.py)."""
        items = config["CHECKPOINT_WITNESSES"]
        items = items.replace(",", " ").split() if isinstance(items, str) else list(items)
        tsa = config.get("TSA_URLS") or []
        tsa = tsa.replace(",", " ").split() if isinstance(tsa, str) else list(tsa)
        web = [item for item in items if item.startswith(("http://", "https://"))]
        return cls(journals=tuple(Path(item) for item in items if item not in web),
                   addresses=tuple(web), tsa_urls=tuple(tsa),
                   tsa_ca_file=config.get("TSA_CA_FILE") or None)


def current_witnesses() -> Witnesses:
    """The current application's witnesses. Outside an application there is no telling where
    the journal is: refused, rather than checking none and calling that intact."""
    from flask import current_app, has_app_context

    if not has_app_context():
        raise RuntimeError("Where checkpoints are witnessed is not known outside the "
                           "application: pass `witnesses`.")
    return Witnesses.from_config(current_app.config)


@dataclass
class Journal:
    """A journal as read: its checkpoints (valid lines), what is wrong with it, in words."""

    path: Path
    exists: bool = True
    checkpoints: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- writing ----------------------------------------------------------------------------------

def journal_line(document: dict, timestamp_token: str | None) -> str:
    """A checkpoint as a journal line (canonical JSON, one line, no newline)."""
    return canonical_json({**document, "timestamp_token": timestamp_token})


def witness_checkpoint(witnesses: Witnesses, line: str, seq: int, *,
                       send: bool = True) -> list[str]:
    """Write a checkpoint to its witnesses: sent to the http(s) ones (unless `send` is False:
    then the caller sends it once committed, see send_checkpoint), then appended to each
    journal. Returns what failed, in words (also logged as errors). Conflict if no journal took
    it: a checkpoint no journal holds could be taken back, so it must not be committed."""
    failures = send_checkpoint(witnesses, line, seq) if send else []
    written = 0
    for path in witnesses.journals:
        try:
            append_line(path, line)
            written += 1
        except OSError as exc:
            failures.append(_failed(f"the checkpoint journal {path} could not be written "
                                    f"({exc.strerror or exc}) for the checkpoint at seq {seq}"))
    if not written:
        raise Conflict(f"No checkpoint journal could be written ({'; '.join(failures)}); no "
                       "checkpoint was signed.")
    return failures


def send_checkpoint(witnesses: Witnesses, line: str, seq: int) -> list[str]:
    """POST a checkpoint to each http(s) witness; what failed, in words (logged as errors)."""
    failures = []
    for address in witnesses.addresses:
        try:
            _send(address, line, witnesses.timeout)
        except (OSError, ValueError) as exc:
            failures.append(_failed(f"the witness {address} did not take the checkpoint at seq "
                                    f"{seq} ({_reason(exc)})"))
    return failures


def _failed(failure: str) -> str:
    log.error("Audit checkpoint witness: %s", failure)
    return failure


def append_line(path: Path, line: str) -> None:
    """Append one line to the journal at `path` (made with mode 0600 if new) and fsync it; a
    last line left unfinished by a crash is ended first, so it garbles only itself."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        size = os.fstat(fd).st_size
        unfinished = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        data = (b"\n" if unfinished else b"") + line.encode("utf-8") + b"\n"
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if size == 0:  # a new file: its name made durable too
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _send(address: str, line: str, timeout: float) -> None:
    request = urllib.request.Request(address, data=line.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (http(s) only)
        reply.read(MAX_LINE)


# --- reading ----------------------------------------------------------------------------------

def read_journal(path: Path) -> Journal:
    """The checkpoints of the journal at `path`; each line that is not one is a problem naming
    the line, the journal missing or unreadable is noted — never an exception."""
    journal = Journal(path)
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(_bounded_lines(f), start=1):
                checkpoint, problem = _parse_line(raw)
                if problem:
                    journal.problems.append(f"audit checkpoint journal {path}, line {number}: "
                                            f"{problem}")
                else:
                    journal.checkpoints.append(checkpoint)
    except FileNotFoundError:
        journal.exists = False
    except OSError as exc:
        journal.problems.append(f"audit checkpoint journal {path} cannot be read "
                                f"({exc.strerror or exc})")
    return journal


def _bounded_lines(f):
    """The file's lines; one longer than a checkpoint's can be is given cut (and so named), never
    read whole into memory."""
    while True:
        line = f.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while (rest := f.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
        yield line


def _parse_line(raw: bytes) -> tuple[dict | None, str | None]:
    if len(raw) > MAX_LINE:
        return None, "too long to be a checkpoint"
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_repeated_keys,
                           parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, f"not a checkpoint ({_reason(exc)[:80]})"
    if not isinstance(value, dict) or set(value) != set(LINE_FIELDS):
        return None, "not a checkpoint (not the fields of one)"
    if type(value["seq"]) is not int or value["seq"] < 1 or not all(
            isinstance(value[name], str) for name in LINE_FIELDS[1:6]):
        return None, "not a checkpoint (a field of the wrong type)"
    if value["timestamp_token"] is not None and not isinstance(value["timestamp_token"], str):
        return None, "not a checkpoint (a field of the wrong type)"
    return value, None


def _no_repeated_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a field is given twice")
    return dict(pairs)


def _no_constant(name):
    raise ValueError(f"{name} is not a number")


# --- the log against the journal ----------------------------------------------------------------

def log_problems(session: Session, journal: Journal, public_key: str | None) -> list[str]:
    """Whether the log still holds every journalled checkpoint: the signed hash at its seq, and
    at least that many entries. With `public_key`, checkpoints signed by another key are
    problems too. Each problem names the journal and the seq."""
    if not journal.checkpoints:
        return []
    seqs = sorted({c["seq"] for c in journal.checkpoints})
    hash_at = {}
    for start in range(0, len(seqs), 500):
        hash_at.update(session.exec(select(AuditEntry.seq, AuditEntry.hash)
                                    .where(AuditEntry.seq.in_(seqs[start:start + 500]))).all())
    last_seq = session.exec(select(sa.func.max(AuditEntry.seq))).one() or 0
    problems = checkpoint_problems(journal.checkpoints, hash_at, last_seq, signature_valid,
                                   public_key)
    return [f"{message} (checkpoint journal {journal.path})" for _, message in problems]


def unextended_problems(session: Session, witnesses: Witnesses, public_key: str) -> list[str]:
    """What stops a new checkpoint: a journal that cannot be read, or a log that no longer
    holds a checkpoint a journal has. Only lines validly signed with `public_key` count: any
    other line could have been written by anyone who can write the journal."""
    problems = []
    for path in witnesses.journals:
        journal = read_journal(path)
        if journal.exists and not journal.checkpoints and journal.problems:
            problems += journal.problems[:1]
        mine = [c for c in journal.checkpoints if c["public_key"] == public_key
                and signature_valid(public_key, c["signature"], checkpoint_message(c))]
        problems += log_problems(session, Journal(path, checkpoints=mine), public_key)
    return problems
