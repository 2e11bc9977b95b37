"""Verification: re-hashing stored files, checking custody records against the audit log, and
recomputing the audit chain; run by `ihl verify`, the API and the auditors' verification runs."""

from ihl_docs.verification.checks import instance_public_key, verify_all, verify_files

__all__ = ["instance_public_key", "verify_all", "verify_files"]
