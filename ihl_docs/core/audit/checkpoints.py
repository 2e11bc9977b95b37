"""Signed checkpoints of the audit chain head, and the check of the log against them.

A bare hash chain shows an edited entry, but not a log cut short or rewritten from some entry on
with every later hash recomputed. A checkpoint — the head's seq, hash and time signed with a key
kept outside the database — does, for whoever holds a copy of it. Each checkpoint is therefore
also written to its witnesses outside the database (journal.py) before it is committed, and
timestamped by a time-stamping authority when one is configured (timestamps.py); a head that does
not extend the last journalled one is never signed.
"""

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ihl_docs.core.audit.journal import (
    Journal,
    Witnesses,
    journal_line,
    log_problems,
    read_journal,
    send_checkpoint,
    unextended_problems,
    witness_checkpoint,
)
from ihl_docs.core.audit.log import head, jsonable, verify_chain
from ihl_docs.core.audit.signing import load_or_create_key, public_key_hex, signature_valid
from ihl_docs.core.audit.timestamps import TimestampUnavailable, request_timestamp
from ihl_docs.core.audit.verify_audit import checkpoint_message, checkpoint_problems
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Conflict
from ihl_docs.core.models import AuditCheckpoint, AuditEntry

log = logging.getLogger("ihl_docs.audit")
ASK = object()  # make_checkpoint asks the time-stamping authorities itself


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict:
    """A checkpoint as published and exported: the signed fields, when, by which key, the
    signature."""
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "occurred_at": jsonable(checkpoint.occurred_at),
        "signed_at": jsonable(checkpoint.signed_at),
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
    }


def list_checkpoints(session: Session) -> list[AuditCheckpoint]:
    """Every checkpoint, the earliest seq first, as stored now (detached copies, read from the
    stored columns: a time edited into text that is no time is kept as that text, so the
    signature or journal check names its seq instead of the reading failing)."""
    from ihl_docs.core.audit.replay import stored_rows

    checkpoints = []
    for values, unreadable in stored_rows(session, AuditCheckpoint):
        checkpoints.append(AuditCheckpoint(**{**values, **unreadable}))
    return checkpoints


def make_checkpoint(session: Session, key, witnesses: Witnesses, *,
                    verified: tuple[int, str] | None = None, timestamp_token=ASK
                    ) -> AuditCheckpoint | None:
    """Sign the current chain head (flushes; never commits), timestamped when authorities are
    configured. None if there is no entry or the head is already signed; refused if the log does
    not verify or no longer holds a journalled checkpoint, so a checkpoint never vouches for a
    broken or rewritten log. `verified`: the (seq, hash) of a head whose log was just checked in
    another transaction — that entry is signed without checking the whole log again (then
    `timestamp_token` is the token already asked for). Call `witness` before committing."""
    if verified is None:
        top = _unsigned_head(session)
        if top is None:
            return None
        _check_log(session, witnesses, public_key_hex(key))
    else:
        top = session.get(AuditEntry, verified[0], populate_existing=True)
        if top is None or top.hash != verified[1]:
            raise Conflict(f"Audit entry {verified[0]} changed while the log was being checked; "
                           "no checkpoint was signed.")
    document = _head_document(top)
    message = checkpoint_message(document)
    if timestamp_token is ASK:
        timestamp_token = _timestamp(witnesses, top.seq, message)
    checkpoint = AuditCheckpoint(
        seq=top.seq, hash=top.hash, occurred_at=top.occurred_at, signed_at=utcnow(),
        public_key=public_key_hex(key), signature=key.sign(message).hex(),
        timestamp_token=timestamp_token,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def witness(witnesses: Witnesses, checkpoint: AuditCheckpoint, *, send: bool = True
            ) -> list[str]:
    """Write a checkpoint made by make_checkpoint to its witnesses, before its transaction is
    committed; what failed, in words. Conflict if no journal took it (then roll back). With
    `send` False, the http(s) witnesses are left to `send_to_witnesses` after the commit."""
    return witness_checkpoint(witnesses, _line(checkpoint), checkpoint.seq, send=send)


def send_to_witnesses(witnesses: Witnesses, checkpoint: AuditCheckpoint) -> list[str]:
    """POST a committed checkpoint to the http(s) witnesses; what failed, in words."""
    return send_checkpoint(witnesses, _line(checkpoint), checkpoint.seq)


def _line(checkpoint: AuditCheckpoint) -> str:
    return journal_line(checkpoint_document(checkpoint), checkpoint.timestamp_token)


def _head_document(top: AuditEntry) -> dict:
    return {"seq": top.seq, "hash": top.hash, "occurred_at": jsonable(top.occurred_at)}


def _timestamp(witnesses: Witnesses, seq: int, message: bytes) -> str | None:
    """A token over the signed message, or None (no authority configured, or none answered:
    logged, and the checkpoint is signed and journalled without one)."""
    if not witnesses.tsa_urls:
        return None
    try:
        return request_timestamp(list(witnesses.tsa_urls), message, witnesses.tsa_ca_file,
                                 witnesses.timeout)
    except TimestampUnavailable as exc:
        log.warning("The audit checkpoint at seq %d is signed without a timestamp: no "
                    "time-stamping authority gave one (%s)", seq, exc)
        return None


def _unsigned_head(session: Session) -> AuditEntry | None:
    top = head(session)
    if top is None:
        return None
    existing = session.get(AuditCheckpoint, top.seq)
    return None if existing is not None and existing.hash == top.hash else top


def _check_log(session: Session, witnesses: Witnesses, public_key: str) -> None:
    _, problems = verify_chain(session)
    if problems:
        raise Conflict(f"The audit log does not verify ({problems[0]}); no checkpoint was signed.")
    problems = unextended_problems(session, witnesses, public_key)
    if problems:
        raise Conflict(f"The audit log does not extend the last journalled checkpoint "
                       f"({problems[0]}); no checkpoint was signed.")


def verify_against_checkpoints(session: Session, public_key: str | None = None) -> list[str]:
    """Each checkpoint's signature, and that the log still holds the signed hash at its seq and
    reaches it; with `public_key`, checkpoints signed by any other key are problems too."""
    checkpoints = [checkpoint_document(c) for c in list_checkpoints(session)]
    if not checkpoints:
        return []
    last_seq = session.exec(select(sa.func.max(AuditEntry.seq))).one() or 0
    hash_at = {}
    seqs = [c["seq"] for c in checkpoints]
    for start in range(0, len(seqs), 500):
        hash_at.update(session.exec(select(AuditEntry.seq, AuditEntry.hash)
                                    .where(AuditEntry.seq.in_(seqs[start:start + 500]))).all())
    problems = checkpoint_problems(checkpoints, hash_at, last_seq, signature_valid, public_key)
    return [message for _, message in problems]


def checkpoint_due(session: Session, every_minutes: int) -> bool:
    """Whether the last checkpoint was signed `every_minutes` ago or more (or there is none)."""
    last = session.exec(select(sa.func.max(AuditCheckpoint.signed_at))).one()
    return last is None or utcnow() - last >= timedelta(minutes=every_minutes)


def sign_head(engine, key_path, witnesses: Witnesses, *, every_minutes: int | None = None
              ) -> AuditCheckpoint | None:
    """Sign the chain head (if due, with `every_minutes`) in transactions of its own, timestamp
    it, write it to its witnesses and commit: what the worker and the commands call. The log is
    checked, and the authorities asked, in a read, so writers wait only for the signing itself.
    None if nothing was signed."""
    from ihl_docs.core.db import open_session

    with open_session(engine, write=False) as session:
        if every_minutes is not None and not checkpoint_due(session, every_minutes):
            return None
        key = load_or_create_key(key_path)
        top = _unsigned_head(session)
        if top is None:
            _start_journal(session, witnesses, public_key_hex(key))
            return None
        _check_log(session, witnesses, public_key_hex(key))
        verified, document = (top.seq, top.hash), _head_document(top)
    token = _timestamp(witnesses, verified[0], checkpoint_message(document))
    with open_session(engine, write=True) as session:
        try:
            checkpoint = make_checkpoint(session, key, witnesses, verified=verified,
                                         timestamp_token=token)
        except IntegrityError:  # another process signed the same head just now
            session.rollback()
            return None
        witness(witnesses, checkpoint, send=False)
        session.commit()
    # Sent once committed: an http witness that hangs must not hold the database's write lock.
    send_to_witnesses(witnesses, checkpoint)
    return checkpoint


def _start_journal(session: Session, witnesses: Witnesses, public_key: str) -> None:
    """Checkpoints signed before there was a journal (an instance upgraded): when no journal
    holds a line yet, the latest checkpoint of the database is journalled, if it is this key's
    and the log holds it, so verification has a journal to hold the database against."""
    journals = [read_journal(path) for path in witnesses.journals]
    if any(j.checkpoints or j.problems for j in journals):
        return
    latest = session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc())
                          .limit(1)).first()
    if latest is None:
        return
    document = checkpoint_document(latest)
    if log_problems(session, Journal(witnesses.journals[0], checkpoints=[document]), public_key):
        return  # not one to vouch for: verification names it
    witness(witnesses, latest)


def scheduled_checkpoint(engine, key_path, witnesses: Witnesses,
                         every_minutes: int | None = None) -> None:
    """The worker's checkpoint (at start, then when due): like sign_head, but a log that does not
    verify, or does not extend the journal, is logged as an error instead of stopping the
    worker."""
    worker_log = logging.getLogger("ihl_docs.worker")
    try:
        checkpoint = sign_head(engine, key_path, witnesses, every_minutes=every_minutes)
    except Conflict as exc:
        worker_log.error("%s", exc.message)
        return
    except (OSError, ValueError) as exc:  # the key file: unreadable, or not a key
        worker_log.error("No audit checkpoint signed: the signing key could not be used (%s)",
                         exc)
        return
    if checkpoint is not None:
        worker_log.info("Signed audit checkpoint at seq %d", checkpoint.seq)
