"""Tampering, as the verification tests need it: rows of the audit log edited, deleted, swapped or
rewritten with their hashes recomputed, a checkpoint's signature flipped, a stored file's byte."""

import os
import stat

import sqlalchemy as sa
from sqlmodel import select

from ihl_docs.core.audit.chain import entry_hash
from ihl_docs.core.audit.log import iter_entries
from ihl_docs.core.models import AuditEntry


def sql(db, statement, **params):
    db.exec(sa.text(statement).bindparams(**params))
    db.commit()


def edit_a_row(db, seq):
    sql(db, "UPDATE audit_entry SET actor = 'someone else' WHERE seq = :s", s=seq)


def swap_rows(db, a, b):
    sql(db, "UPDATE audit_entry SET seq = -1 WHERE seq = :a", a=a)
    sql(db, "UPDATE audit_entry SET seq = :a WHERE seq = :b", a=a, b=b)
    sql(db, "UPDATE audit_entry SET seq = :b WHERE seq = -1", b=b)


def rewrite_from(db, seq):
    """Edit entry `seq` and recompute its hash and every later one: a chain that holds."""
    db.expire_all()
    documents = [e for e in iter_entries(db) if e["seq"] >= seq]
    prev = db.exec(select(AuditEntry.hash).where(AuditEntry.seq == seq - 1)).one()
    db.commit()
    for number, document in enumerate(documents):
        document["prev_hash"] = prev
        if number == 0:
            document["actor"] = "someone else"
        document["hash"] = prev = entry_hash(document)
        sql(db, "UPDATE audit_entry SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s",
            a=document["actor"], p=document["prev_hash"], h=document["hash"], s=document["seq"])


def flip_signature(db, seq):
    signature = db.exec(sa.text("SELECT signature FROM audit_checkpoint WHERE seq = :s")
                        .bindparams(s=seq)).one()[0]
    db.commit()
    flipped = signature[:10] + ("0" if signature[10] != "0" else "1") + signature[11:]
    sql(db, "UPDATE audit_checkpoint SET signature = :g WHERE seq = :s", g=flipped, s=seq)


# What each kind of tampering does to a signed log (see the `signed_log` fixture), and the
# message naming it.
TAMPERING = {
    "a row edited": (lambda db, cp: edit_a_row(db, 3),
                     lambda cp: "audit seq 3: contents do not match its hash"),
    "a row deleted": (lambda db, cp: sql(db, "DELETE FROM audit_entry WHERE seq = 3"),
                      lambda cp: "audit seq 3: missing (found seq 4 next)"),
    "two rows swapped": (lambda db, cp: swap_rows(db, 3, 4),
                         lambda cp: "audit seq 3: prev_hash does not match the hash of seq 2"),
    "the log truncated after a checkpoint": (
        lambda db, cp: sql(db, "DELETE FROM audit_entry WHERE seq > :s", s=cp - 3),
        lambda cp: f"audit log truncated: checkpoint at seq {cp}, log ends at"),
    "an edit with all later hashes recomputed": (
        lambda db, cp: rewrite_from(db, 3),
        lambda cp: f"audit seq {cp}: differs from signed checkpoint"),
    "a bad signature": (lambda db, cp: flip_signature(db, cp),
                        lambda cp: f"audit checkpoint at seq {cp}: signature does not verify"),
}


def alter_one_byte(path, at: int = 0) -> None:
    """Stored files are read-only (0440): as their owner would, make it writable, flip one bit,
    and give it its mode back."""
    before = stat.S_IMODE(os.stat(path).st_mode)
    os.chmod(path, before | stat.S_IWUSR)
    with open(path, "r+b") as f:
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0x01]))
    os.chmod(path, before)
