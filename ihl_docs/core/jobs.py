"""Background jobs on huey: the queue QUEUE_URL names, its tasks, and the worker that runs them.

QUEUE_URL is `sqlite:///PATH` (the default: a file in the instance folder, for one machine) or
`redis://HOST:PORT/DB` (for workers on several machines). With QUEUE_IMMEDIATE a job runs
inline when it is queued, in the process that queues it (the tests do so).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy.engine import Engine

from ihl_docs.core.audit.checkpoints import scheduled_checkpoint
from ihl_docs.core.file_modes import make_folder, prepare_sqlite_file

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
        make_folder(path.parent)
        prepare_sqlite_file(url)
        return SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
    raise QueueConfigurationError(
        f"IHL_QUEUE_URL {url!r} is not a job queue: use sqlite:///PATH or redis://HOST:PORT/DB.")


@dataclass(frozen=True)
class JobKind:
    """A kind of background job that works on a record (a dossier, a verification run), as a
    feature registers it: what runs it, and the steps of its record's life cycle the core calls."""

    name: str                                    # the task's name on the queue
    run: Callable[[Flask, str], object]          # the job body, given the app and the record's ref
    fail: Callable[[Engine, str, str], object]   # record that it failed, with a message
    not_queued: str                              # that message when the queue cannot take it
    fail_interrupted: Callable[[Engine, timedelta], list[str]]  # silent ones: marked failed
    waiting_since: Callable[[Engine, timedelta], list[str]]     # refs still queued


def init_jobs(app: Flask) -> None:
    """Build the app's queue and its periodic task; features then add their kinds of job."""
    queue = make_queue(app.config["QUEUE_URL"], immediate=app.config["QUEUE_IMMEDIATE"])
    app.extensions["ihl_queue"] = queue
    app.extensions["ihl_tasks"] = {}
    app.extensions["ihl_job_kinds"] = {}
    engine = app.extensions["ihl_engine"]

    @queue.periodic_task(crontab(), name="fail_silent_jobs")  # every minute, in every worker
    def fail_silent_jobs() -> None:
        for ref in fail_silent(app, timedelta(minutes=app.config["JOB_SILENT_MINUTES"])):
            logging.getLogger("ihl_docs.worker").warning(
                "%s stopped giving signs of life (its worker died?): marked failed", ref)

    @queue.periodic_task(crontab(), name="audit_checkpoint")  # looks every minute; signs when due
    def audit_checkpoint() -> None:
        scheduled_checkpoint(engine, app.config["SIGNING_KEY"], app.config["CHECKPOINT_MINUTES"])


def register_job(app: Flask, kind: JobKind) -> None:
    """Add a kind of job: its task on the app's queue, and its record's life cycle."""
    queue = app.extensions["ihl_queue"]

    def body(ref: str) -> None:
        kind.run(app, ref)

    app.extensions["ihl_tasks"][kind.name] = queue.task(name=kind.name)(body)
    app.extensions["ihl_job_kinds"][kind.name] = kind


def job_kinds(app: Flask) -> list[JobKind]:
    return list(app.extensions["ihl_job_kinds"].values())


def fail_silent(app: Flask, silent_for: timedelta) -> list[str]:
    """Declare failed the jobs of every kind whose record has given no heartbeat for
    `silent_for`: the worker running them died (killed, its machine lost). Returns their refs."""
    engine = app.extensions["ihl_engine"]
    return [ref for kind in job_kinds(app) for ref in kind.fail_interrupted(engine, silent_for)]


def enqueue(kind_name: str, ref: str) -> None:
    """Queue a job whose queued record is already committed; if the queue cannot take it, the
    record says so rather than staying queued for ever."""
    app = current_app._get_current_object()
    kind = app.extensions["ihl_job_kinds"][kind_name]
    try:
        app.extensions["ihl_tasks"][kind_name](ref)
    except Exception:
        logging.getLogger(__name__).exception("Could not queue %s", ref)
        kind.fail(app.extensions["ihl_engine"], ref, kind.not_queued)


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
    scheduled_checkpoint(app.extensions["ihl_engine"], app.config["SIGNING_KEY"])
    queue = app.extensions["ihl_queue"]
    log.info("Worker started: %d thread(s), queue %s", threads, describe_queue(app))
    # An idle SQLite queue is polled at least every second, so a request waits at most that long.
    Consumer(queue, workers=threads, worker_type="thread", periodic=True, max_delay=1.0).run()


def recover(app: Flask, older_than: timedelta) -> tuple[list[str], list[str]]:
    """Declare failed the jobs silent (no heartbeat) for longer than `older_than`, and queue
    again those queued longer than that (their message may be lost, e.g. a Redis that was
    emptied; a job delivered twice runs once). Returns (refs failed, refs queued again)."""
    engine, tasks = app.extensions["ihl_engine"], app.extensions["ihl_tasks"]
    failed, requeued = fail_silent(app, older_than), []
    for kind in job_kinds(app):
        waiting = kind.waiting_since(engine, older_than)
        for ref in waiting:
            tasks[kind.name](ref)
        requeued += waiting
    return failed, requeued


def describe_queue(app: Flask) -> str:
    """The queue's URL without a password."""
    url = app.config["QUEUE_URL"]
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
