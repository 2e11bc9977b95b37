"""Background jobs on huey: the queue QUEUE_URL names, its tasks, and the worker that runs them.

QUEUE_URL is `sqlite:///PATH` (the default: a file in the instance folder, for one machine) or
`redis://HOST:PORT/DB` (for workers on several machines). With QUEUE_IMMEDIATE a job runs
inline when it is queued, in the process that queues it (the tests do so).
"""

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer

QUEUE_NAME = "ihl_docs"
SQLITE_PREFIX = "sqlite:///"
REDIS_PREFIXES = ("redis://", "rediss://", "unix://")


class QueueConfigurationError(ValueError):
    """IHL_QUEUE_URL names no queue this application can use."""


def make_queue(url: str, *, immediate: bool = False) -> Huey:
    """The huey instance for `url`; results are not kept (jobs record their outcome)."""
    if immediate:
        return MemoryHuey(QUEUE_NAME, immediate=True, results=False)
    if url.startswith(REDIS_PREFIXES):
        return RedisHuey(QUEUE_NAME, url=url, results=False)
    if url.startswith(SQLITE_PREFIX) and len(url) > len(SQLITE_PREFIX):
        path = Path(url[len(SQLITE_PREFIX):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    raise QueueConfigurationError(
        f"IHL_QUEUE_URL {url!r} is not a job queue: use sqlite:///PATH or redis://HOST:PORT/DB.")


def init_jobs(app: Flask) -> None:
    """Build the app's queue and register its tasks, bound to the app's engine and store."""
    from ihl_docs.core.audit.checkpoints import scheduled_checkpoint
    from ihl_docs.dossiers.services import run_dossier

    queue = make_queue(app.config["QUEUE_URL"], immediate=app.config["QUEUE_IMMEDIATE"])
    engine, store = app.extensions["ihl_engine"], app.extensions["ihl_store"]
    cache_dir = dossier_cache_dir(app)

    @queue.task(name="build_dossier")
    def build_dossier(dossier_ref: str) -> None:
        run_dossier(engine, store, dossier_ref, cache_dir)

    @queue.task(name="verify")
    def verify(run_ref: str) -> None:
        from ihl_docs.verification import instance_public_key
        from ihl_docs.verification.runs import run_verification

        run_verification(engine, store, run_ref,
                         public_key=instance_public_key(app.config["SIGNING_KEY"]))

    @queue.periodic_task(crontab(), name="audit_checkpoint")  # looks every minute; signs when due
    def audit_checkpoint() -> None:
        scheduled_checkpoint(engine, app.config["SIGNING_KEY"], app.config["CHECKPOINT_MINUTES"])

    @queue.periodic_task(crontab(), name="fail_silent_jobs")  # every minute, in every worker
    def fail_silent_jobs() -> None:
        for ref in fail_silent(engine, timedelta(minutes=app.config["JOB_SILENT_MINUTES"])):
            logging.getLogger("ihl_docs.worker").warning(
                "%s stopped giving signs of life (its worker died?): marked failed", ref)

    app.extensions["ihl_queue"] = queue
    app.extensions["ihl_tasks"] = {"build_dossier": build_dossier, "verify": verify}


def fail_silent(engine, silent_for: timedelta) -> list[str]:
    """Declare failed the dossier builds and verifications whose job has given no heartbeat for
    `silent_for`: the worker running them died (killed, its machine lost). Returns their refs."""
    from ihl_docs.dossiers import services as dossiers
    from ihl_docs.verification import runs

    return (dossiers.fail_interrupted(engine, silent_for)
            + runs.fail_interrupted(engine, silent_for))


def dossier_cache_dir(app: Flask) -> Path:
    """Where the renderer keeps the sections it has rendered, to reuse unchanged ones."""
    return Path(app.instance_path) / "dossier-cache"


def enqueue_dossier(dossier_ref: str) -> None:
    """Queue the build of a dossier whose queued record is already committed; if the queue
    cannot take it, the record says so rather than staying queued for ever."""
    from ihl_docs.dossiers.services import NOT_QUEUED, fail_dossier

    _enqueue("build_dossier", dossier_ref, fail_dossier, NOT_QUEUED)


def enqueue_verification(run_ref: str) -> None:
    """Queue a verification run whose queued record is already committed (as for dossiers)."""
    from ihl_docs.verification.runs import NOT_QUEUED, fail_run

    _enqueue("verify", run_ref, fail_run, NOT_QUEUED)


def _enqueue(task: str, ref: str, fail, message: str) -> None:
    try:
        current_app.extensions["ihl_tasks"][task](ref)
    except Exception:
        logging.getLogger(__name__).exception("Could not queue %s", ref)
        fail(current_app.extensions["ihl_engine"], ref, message)


def run_worker(app: Flask, *, threads: int, interrupted_after: timedelta) -> None:
    """Tidy up after a worker that died (see `recover`), then run jobs until stopped.

    SIGINT stops after the running jobs finish; SIGTERM stops at once (what was running is
    declared interrupted at the next start)."""
    log = logging.getLogger("ihl_docs.worker")
    failed, requeued = recover(app, interrupted_after)
    for ref in failed:
        log.warning("%s was left running by a worker that stopped: marked failed", ref)
    for ref in requeued:
        log.warning("%s was still waiting for a worker: queued again", ref)
    from ihl_docs.core.audit.checkpoints import scheduled_checkpoint

    scheduled_checkpoint(app.extensions["ihl_engine"], app.config["SIGNING_KEY"])
    queue = app.extensions["ihl_queue"]
    log.info("Worker started: %d thread(s), queue %s", threads, describe_queue(app))
    # An idle SQLite queue is polled at least every second, so a request waits at most that long.
    Consumer(queue, workers=threads, worker_type="thread", periodic=True, max_delay=1.0).run()


def recover(app: Flask, older_than: timedelta) -> tuple[list[str], list[str]]:
    """Declare failed the dossiers and verification runs silent (no heartbeat) for longer than
    `older_than`, and queue again those queued longer than that (their message may be lost, e.g.
    a Redis that was emptied; a job delivered twice runs once). Returns (refs failed, refs
    queued again)."""
    from ihl_docs.dossiers import services as dossiers
    from ihl_docs.verification import runs

    engine, tasks = app.extensions["ihl_engine"], app.extensions["ihl_tasks"]
    failed, requeued = fail_silent(engine, older_than), []
    for module, task in ((dossiers, tasks["build_dossier"]), (runs, tasks["verify"])):
        waiting = module.waiting_since(engine, older_than)
        for ref in waiting:
            task(ref)
        requeued += waiting
    return failed, requeued


def describe_queue(app: Flask) -> str:
    """The queue's URL without a password."""
    url = app.config["QUEUE_URL"]
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
