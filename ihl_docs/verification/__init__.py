"""Verification: re-hashing stored files, holding every record against the replayed audit log,
recomputing the audit chain and holding its checkpoints against their witnesses; run by
`ihl verify`, the API and the auditors' verification runs."""

from ihl_docs.verification.checks import instance_public_key, verify_all, verify_files

__all__ = ["instance_public_key", "verify_all", "verify_files"]

VERIFY_JOB = "verify"


def init_app(app) -> None:
    """Pages, `ihl verify`, and the verification job."""
    from ihl_docs.core.jobs import JobKind, register_job
    from ihl_docs.verification import runs
    from ihl_docs.verification.commands import verify_command
    from ihl_docs.verification.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(verify_command)
    register_job(app, JobKind(
        name=VERIFY_JOB, run=runs.run_queued, fail=runs.fail_run, not_queued=runs.NOT_QUEUED,
        fail_interrupted=runs.fail_interrupted, waiting_since=runs.waiting_since))
    from ihl_docs.core.audit.replay import register_projection
    from ihl_docs.verification.projection import ACKNOWLEDGEMENT, RUN

    register_projection(app, RUN)
    register_projection(app, ACKNOWLEDGEMENT)
