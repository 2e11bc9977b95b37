"""Signed checkpoints of the audit chain head, and the check of the log against them.

A bare hash chain shows an edited entry, but not a log cut short or rewritten from some entry on
with every later hash recomputed. A checkpoint — the head's seq, hash and time signed with a key
kept outside the database — does, for whoever holds a copy of it.
"""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ihl_docs.core.audit.log import head, jsonable, verify_chain
from ihl_docs.core.audit.signing import load_or_create_key, public_key_hex, signature_valid
from ihl_docs.core.audit.verify_audit import checkpoint_message, checkpoint_problems
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.errors import Conflict
from ihl_docs.core.models import AuditCheckpoint, AuditEntry


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
    """Every checkpoint, the earliest seq first, as stored now."""
    return session.exec(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)
                        .execution_options(populate_existing=True)).all()


def make_checkpoint(session: Session, key, *, verified: tuple[int, str] | None = None
                    ) -> AuditCheckpoint | None:
    """Sign the current chain head (flushes; never commits). None if there is no entry or the
    head is already signed; refused if the log does not verify, so a checkpoint never vouches
    for a broken log. `verified`: the (seq, hash) of a head whose log was just checked in another
    transaction — that entry is signed without checking the whole log again."""
    if verified is None:
        top = _unsigned_head(session)
        if top is None:
            return None
        _check_log(session)
    else:
        top = session.get(AuditEntry, verified[0], populate_existing=True)
        if top is None or top.hash != verified[1]:
            raise Conflict(f"Audit entry {verified[0]} changed while the log was being checked; "
                           "no checkpoint was signed.")
    document = {"seq": top.seq, "hash": top.hash, "occurred_at": jsonable(top.occurred_at)}
    checkpoint = AuditCheckpoint(
        seq=top.seq, hash=top.hash, occurred_at=top.occurred_at, signed_at=utcnow(),
        public_key=public_key_hex(key),
        signature=key.sign(checkpoint_message(document)).hex(),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _unsigned_head(session: Session) -> AuditEntry | None:
    top = head(session)
    if top is None:
        return None
    existing = session.get(AuditCheckpoint, top.seq)
    return None if existing is not None and existing.hash == top.hash else top


def _check_log(session: Session) -> None:
    _, problems = verify_chain(session)
    if problems:
        raise Conflict(f"The audit log does not verify ({problems[0]}); no checkpoint was signed.")


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


def sign_head(engine, key_path, *, every_minutes: int | None = None) -> AuditCheckpoint | None:
    """Sign the chain head (if due, with `every_minutes`) in transactions of its own: what the
    worker and the commands call. The log is checked in a read, so writers wait only for the
    signing itself. None if nothing was signed."""
    from ihl_docs.core.db import open_session

    with open_session(engine, write=False) as session:
        if every_minutes is not None and not checkpoint_due(session, every_minutes):
            return None
        top = _unsigned_head(session)
        if top is None:
            return None
        _check_log(session)
        verified = (top.seq, top.hash)
    key = load_or_create_key(key_path)
    with open_session(engine, write=True) as session:
        try:
            checkpoint = make_checkpoint(session, key, verified=verified)
            session.commit()
        except IntegrityError:  # another process signed the same head just now
            session.rollback()
            return None
        return checkpoint


def scheduled_checkpoint(engine, key_path, every_minutes: int | None = None) -> None:
    """The worker's checkpoint (at start, then when due): like sign_head, but a log that does not
    verify is logged as an error instead of stopping the worker."""
    import logging

    log = logging.getLogger("ihl_docs.worker")
    try:
        checkpoint = sign_head(engine, key_path, every_minutes=every_minutes)
    except Conflict as exc:
        log.error("%s", exc.message)
        return
    except (OSError, ValueError) as exc:  # the key file: unreadable, or not a key
        log.error("No audit checkpoint signed: the signing key could not be used (%s)", exc)
        return
    if checkpoint is not None:
        log.info("Signed audit checkpoint at seq %d", checkpoint.seq)
