"""The job queue: which queue IHL_QUEUE_URL names, a real `ihl worker` running what the pages
queue, a Redis queue, and dossiers a dead worker left running."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from huey import MemoryHuey, RedisHuey, SqliteHuey
from sqlmodel import select

from ihl_docs.core import progress as progress_records
from ihl_docs.core.config import load_config
from ihl_docs.core.db import open_session
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.jobs import QueueConfigurationError, describe_queue, make_queue
from ihl_docs.core.models import Case, Dossier, DossierStatus, User, VerificationRun
from ihl_docs.dossiers import services
from tests.builders import lawyer_and_case, login, make_user
from tests.dossier_support import fresh
from tests.pages_support import confirmed_request

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_the_default_queue_is_sqlite_in_the_instance_folder(tmp_path):
    config = load_config(tmp_path / "instance", environ={}, overrides={"SECRET_KEY": "x"})
    assert config["QUEUE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'queue.sqlite3'}"
    config = load_config(tmp_path, environ={"IHL_QUEUE_URL": REDIS_URL},
                         overrides={"SECRET_KEY": "x"})
    assert config["QUEUE_URL"] == REDIS_URL


def test_the_url_chooses_the_queue(tmp_path):
    sqlite = make_queue(f"sqlite:///{tmp_path / 'new-folder' / 'queue.sqlite3'}")
    assert isinstance(sqlite, SqliteHuey)
    assert (tmp_path / "new-folder").is_dir()
    assert isinstance(make_queue(REDIS_URL), RedisHuey)
    immediate = make_queue(REDIS_URL, immediate=True)
    assert isinstance(immediate, MemoryHuey)
    assert immediate.immediate
    for wrong in ("", "sqlite:///", "postgresql://db/ihl", "queue.sqlite3"):
        with pytest.raises(QueueConfigurationError, match="IHL_QUEUE_URL"):
            make_queue(wrong)


def test_the_queue_is_described_without_its_password(app):
    app.config["QUEUE_URL"] = "redis://:s3cret@queue.example.org:6379/0"
    assert describe_queue(app) == "redis://***@queue.example.org:6379/0"


def test_a_wrong_queue_url_is_one_line_on_the_command_line(tmp_path, database_url):
    env = {**os.environ, "IHL_DATABASE_URL": database_url, "IHL_QUEUE_URL": "amqp://x",
           "IHL_INSTANCE_DIR": str(tmp_path / "instance")}
    result = subprocess.run([_ihl(), "verify"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == ("Error: IHL_QUEUE_URL 'amqp://x' is not a job queue: use "
                                     "sqlite:///PATH or redis://HOST:PORT/DB.")


def _ihl() -> str:
    return os.path.join(os.path.dirname(sys.executable), "ihl")


def _stale_running(application, case, lawyer) -> str:
    """A dossier marked running two hours ago by a worker that is gone."""
    engine = application.extensions["ihl_engine"]
    with open_session(engine) as db:
        dossier = services.request_dossier(db, db.get(Case, case.id), audience="internal",
                                           prepared_by=None, actor=db.get(User, lawyer.id))
        db.commit()
        ref = dossier.ref
    assert progress_records.start(engine, Dossier, ref)  # taken by a worker, as it records
    with open_session(engine) as db:  # which then fell silent two hours ago
        db.exec(sa.update(Dossier).where(Dossier.ref == ref)
                .values(heartbeat_at=utcnow() - timedelta(hours=2)))
        db.commit()
    return ref


def _wait_until_finished(application, ref, seconds=120) -> Dossier:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        dossier = fresh(application, ref)
        if dossier.status in (DossierStatus.done, DossierStatus.failed):
            return dossier
        time.sleep(0.2)
    raise AssertionError(f"{ref} still {dossier.status} after {seconds} s")


def _wait_until_verified(application, ref, seconds=120) -> VerificationRun:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open_session(application.extensions["ihl_engine"], write=False) as db:
            run = db.exec(select(VerificationRun).where(VerificationRun.ref == ref)).one()
        if run.status in ("done", "failed"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"{ref} still {run.status} after {seconds} s")


@pytest.mark.slow
def test_a_real_worker_builds_what_the_page_queued_and_fails_what_a_dead_one_left(
        queued_app, app_config, tmp_path):
    application = queued_app()
    lawyer, case = lawyer_and_case(application)
    stale = _stale_running(application, case, lawyer)
    env = {**os.environ, "IHL_DATABASE_URL": app_config["DATABASE_URL"],
           "IHL_EVIDENCE_DIR": app_config["EVIDENCE_DIR"],
           "IHL_INSTANCE_DIR": str(tmp_path / "shared-instance")}
    env.pop("IHL_QUEUE_URL", None)
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115  (the worker writes it until stopped)
    worker = subprocess.Popen([_ihl(), "worker", "--threads", "1"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        client = application.test_client()
        login(client, lawyer)
        response = confirmed_request(client, f"/cases/{case.ref}/dossiers",
                                     {"audience": "court"})
        assert response.status_code == 302
        ref = response.headers["Location"].rsplit("/", 1)[1]
        assert fresh(application, ref).status in ("queued", "running", "done")
        dossier = _wait_until_finished(application, ref)
        assert dossier.status == DossierStatus.done, dossier.error
        assert application.extensions["ihl_store"].exists(dossier.sha256)
        page = client.get(f"/dossiers/{ref}/pdf", buffered=True)
        assert page.status_code == 200
        assert page.data.startswith(b"%PDF")
        interrupted = fresh(application, stale)
        assert interrupted.status == DossierStatus.failed
        assert interrupted.error == services.INTERRUPTED
        # an auditor's verification of the case goes through the same worker
        with open_session(application.extensions["ihl_engine"]) as db:
            auditor = make_user(db, "auditor")
        client = application.test_client()
        login(client, auditor)
        response = client.post("/verification/", data={"scope": case.ref})
        assert response.status_code == 302
        run = _wait_until_verified(application, response.headers["Location"].rsplit("/", 1)[1])
        assert (run.status, run.problem_count, run.dossiers_checked) == ("done", 0, 1), run.error
    finally:
        worker.terminate()
        worker.wait(20)
        log.seek(0)
        output = log.read()
        log.close()
    assert f"{stale} was left running" in output, output
    assert "Traceback" not in output, output


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def test_a_redis_queue_carries_the_job_to_a_worker(queued_app, quick_renderer):
    if not _redis_reachable():
        pytest.skip(f"no Redis at {REDIS_URL}")
    application = queued_app(QUEUE_URL=REDIS_URL)
    queue = application.extensions["ihl_queue"]
    queue.flush()
    lawyer, case = lawyer_and_case(application)
    client = application.test_client()
    login(client, lawyer)
    response = client.post(f"/api/v1/cases/{case.ref}/dossiers", json={"audience": "public"},
                           headers=_token(application, lawyer))
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"
    assert queue.pending_count() == 1
    queue.execute(queue.dequeue())  # what a worker on another machine does
    dossier = fresh(application, response.get_json()["id"])
    assert (dossier.status, dossier.audience) == ("done", "public")
    assert queue.pending_count() == 0


def _token(application, user) -> dict:
    from ihl_docs.auth import services as auth

    with open_session(application.extensions["ihl_engine"]) as db:
        token = auth.create_token(db, user.email, actor="test")
        db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_sqlite_queue_keeps_the_job_until_a_worker_takes_it(queued_app, quick_renderer):
    application = queued_app()
    queue = application.extensions["ihl_queue"]
    assert isinstance(queue, SqliteHuey)
    assert Path(queue.storage.filename).parent.name == "shared-instance"
    lawyer, case = lawyer_and_case(application)
    client = application.test_client()
    login(client, lawyer)
    client.post(f"/cases/{case.ref}/dossiers", data={"audience": "internal"})
    ref = f"{case.ref}-D001"
    assert fresh(application, ref).status == "queued"
    assert queue.pending_count() == 1
    page = client.get(f"/dossiers/{ref}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    queue.execute(queue.dequeue())
    assert fresh(application, ref).status == "done"
    # a second delivery of the same job (a retried message) changes nothing
    with open_session(application.extensions["ihl_engine"], write=False) as db:
        count = len(db.exec(select(Dossier)).all())
    assert services.run_dossier(application.extensions["ihl_engine"],
                                application.extensions["ihl_store"], ref) is None
    assert fresh(application, ref).status == "done"
    assert count == 1


def test_a_starting_worker_fails_the_interrupted_and_requeues_the_forgotten(queued_app,
                                                                            quick_renderer):
    from ihl_docs.core.jobs import recover

    application = queued_app()
    queue, engine = application.extensions["ihl_queue"], application.extensions["ihl_engine"]
    lawyer, case = lawyer_and_case(application)
    stale = _stale_running(application, case, lawyer)
    with open_session(engine) as db:
        old = services.request_dossier(db, db.get(Case, case.id), audience="court", prepared_by=None,
                                       actor=db.get(User, lawyer.id))
        old.created_at = utcnow() - timedelta(hours=1)
        recent = services.request_dossier(db, db.get(Case, case.id), audience="public",
                                          prepared_by=None, actor=db.get(User, lawyer.id))
        db.add(old)
        db.commit()
        old_ref, recent_ref = old.ref, recent.ref
    assert queue.pending_count() == 0  # as if the queue had lost their messages
    assert recover(application, timedelta(minutes=30)) == ([stale], [old_ref])
    assert queue.pending_count() == 1
    queue.execute(queue.dequeue())
    assert fresh(application, old_ref).status == "done"
    assert fresh(application, recent_ref).status == "queued"
    assert fresh(application, stale).error == services.INTERRUPTED


@pytest.mark.parametrize("name", ["MAX_UPLOAD_MB", "SESSION_HOURS", "CHECKPOINT_MINUTES"])
def test_a_number_setting_that_is_not_a_number_is_named(tmp_path, name):
    from ihl_docs.core.config import ConfigurationError

    with pytest.raises(ConfigurationError, match=f"IHL_{name} must be a whole number, not 'ten'"):
        load_config(tmp_path, environ={f"IHL_{name}": "ten"})


def test_a_malformed_number_setting_is_one_line_on_the_command_line(tmp_path, database_url):
    env = {**os.environ, "IHL_DATABASE_URL": database_url, "IHL_MAX_UPLOAD_MB": "lots",
           "IHL_INSTANCE_DIR": str(tmp_path / "instance")}
    result = subprocess.run([_ihl(), "verify"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: IHL_MAX_UPLOAD_MB must be a whole number, not 'lots'."
