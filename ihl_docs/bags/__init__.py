"""A case as a BagIt bag (RFC 8493): `ihl export` writes one, `ihl import` restores it elsewhere.

The payload (the bag's data/ folder):

    case.json             the case, its parties and members (by e-mail)
    incidents.json        its incidents
    evidence.json         its items, each with derivatives, incident links and custody chain
    qualifications.json   legal qualifications, element findings and the evidence cited
    dossiers.json         finished (and failed) dossier records
    files/<sha256>        every evidence file, derivative and dossier PDF, each once
    audit.jsonl           the audit log up to the signed checkpoint: the case's entries in full,
                          every other entry reduced to seq, prev_hash and hash
    checkpoints.jsonl     the checkpoint signed for the export
    seal.json             what the bag is ("case bag"), its case, the checkpoint it ends at
                          (seq, hash), the seq and hash of each of the case's entries and of
                          each redacted one, and the record files' SHA-256, signed with the
                          same key
    public_key.txt        the exporting instance's checkpoint key (hex)
    verify_audit.py       the offline verifier: python3 data/verify_audit.py data

Records name each other by ref, provisions by key and people by e-mail; never by database id.
"""

import logging

from ihl_docs.core.audit.verify_audit import SEAL_FORMAT, SEAL_KIND
from ihl_docs.core.errors import DomainError

FORMAT = "ihl_docs case export 1"
__all__ = ["FORMAT", "SEAL_FORMAT", "SEAL_KIND", "FILES_DIR", "BagRefused", "init_app"]
FILES_DIR = "files"


class BagRefused(DomainError):
    """A bag that cannot be written or imported, with the reason in one sentence."""

    code = "bag_refused"
    status = 409


# bagit logs each difference it finds as a warning; the commands name them in their own one-line
# message, so its records go to the application's handlers if it has any, never to bare stderr.
logging.getLogger("bagit").addHandler(logging.NullHandler())


def init_app(app) -> None:
    """`ihl export` and `ihl import`."""
    from ihl_docs.bags.commands import export_command, import_command

    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
