"""Faults: the evidence store's disk filling up during an upload, the database dropping the
application's connections, a job worker killed (SIGKILL) in the middle of a dossier build.
Each time: a clear answer, nothing acknowledged lost, nothing half-written kept, and no job left
running for ever. (A web worker killed during uploads: tests/test_upload_crash.py.)"""

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from ihl_docs import create_app
from ihl_docs.core.db import open_session
from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.models import AuditEntry, Case, DossierStatus, Evidence, User
from ihl_docs.dossiers import services
from tests.api_support import CASE_REF, error_of, upload
from tests.builders import lawyer_and_case, login, make_incident
from tests.dossier_support import fresh
from tests.pages_support import post_upload_in_memory

MIB = 1024 * 1024


# ---- a full disk --------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB file system for the evidence store (tmpfs; needs the right to mount)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def app_config(app_config, request):
    if "small_disk" in request.fixturenames:
        store = request.getfixturevalue("small_disk") / "evidence"
        return {**app_config, "EVIDENCE_DIR": str(store)}
    return app_config


def files_in(store) -> list[str]:
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


def kept_files(store) -> list[str]:
    """The store's files but the temporary ones (uploads or PDFs being written)."""
    return [name for name in files_in(store) if not (store.root / name).is_relative_to(store.tmp)]


def rows(db, model) -> int:
    count = db.exec(select(sa.func.count()).select_from(model)).one()
    db.commit()
    return count


def test_a_full_disk_during_an_api_upload_is_a_clear_error_and_leaves_nothing(
        small_disk, app, client, db, world):
    store = app.extensions["ihl_store"]
    headers = world["headers"]["member_investigator"]
    small = upload(client, headers, data=b"%PDF-1.4 small report", filename="report.pdf",
                   kind="document")
    assert small.status_code == 201  # the store works while there is room
    before = (files_in(store), rows(db, Evidence), rows(db, AuditEntry))
    # the body encoded in memory: the test client spools a large one to a file it leaves open
    boundary, body = encode_multipart({"kind": "video", "title": "Strike, 3 MiB",
                                       "file": FileStorage(io.BytesIO(os.urandom(3 * MIB)),
                                                           filename="video.mp4")})
    response = client.post(f"/api/v1/cases/{CASE_REF}/evidence", headers=headers,
                           input_stream=io.BytesIO(body), content_length=len(body),
                           content_type=f"multipart/form-data; boundary={boundary}")
    error = error_of(response, 507)
    assert "no space" in error["message"].lower()
    assert "nothing was kept" in error["message"]
    assert (files_in(store), rows(db, Evidence), rows(db, AuditEntry)) == before
    # once there is room again, the same upload goes through
    again = upload(client, headers, data=b"%PDF-1.4 another report", filename="r2.pdf",
                   kind="document")
    assert again.status_code == 201


def test_a_full_disk_during_a_page_upload_is_said_on_the_page(small_disk, app, client, db):
    from tests.builders import login, make_case, make_user

    store = app.extensions["ihl_store"]
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator)
    login(client, investigator)
    before = (files_in(store), rows(db, Evidence))
    response = post_upload_in_memory(client, case, data=os.urandom(3 * MIB),
                                     filename="video.mp4", kind="video")
    assert response.status_code == 507
    page = response.get_data(as_text=True)
    assert "no space" in page.lower()
    assert "Traceback" not in page
    assert (files_in(store), rows(db, Evidence)) == before


# ---- the database drops its connections ---------------------------------------------------------

def test_requests_go_on_after_the_database_drops_the_connections(app_config, tmp_path,
                                                                  monkeypatch, db, world,
                                                                  database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server connection to lose")
    # An application of its own, whose connections are named: only those are cut (other test
    # runs may share the server).
    name = f"ihl-fault-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "fault-instance"))
    application = create_app({**app_config,
                              "DATABASE_URL": f"{database_url}&application_name={name}"})
    client = application.test_client()
    headers = world["headers"]["member_investigator"]
    try:
        assert client.get(f"/api/v1/cases/{CASE_REF}", headers=headers).status_code == 200
        admin = sa.create_engine(application.extensions["ihl_engine"].url)
        with admin.connect() as connection:  # as a database restart or a failover would
            killed = connection.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :n AND pid <> pg_backend_pid()"), {"n": name}).scalar()
        admin.dispose()
        assert killed >= 1
        response = client.post(f"/api/v1/cases/{CASE_REF}/incidents", headers=headers, json={
            "title": "Filed after the database restarted", "incident_type": "shelling",
            "occurred_from": "2020-10-04T09:00:00Z"})
        assert response.status_code == 201, response.get_json()
        assert client.get(f"/api/v1/incidents/{response.get_json()['ref']}",
                          headers=headers).status_code == 200
    finally:
        application.extensions["ihl_engine"].dispose()


# ---- a job worker killed in the middle of a dossier build ---------------------------------------

def _worker(env, log):
    """`ihl worker` in a process group of its own (its render processes die with it)."""
    return subprocess.Popen([_ihl(), "worker", "--threads", "1"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def _ihl() -> str:
    return os.path.join(os.path.dirname(sys.executable), "ihl")


def _wait_for(application, ref, statuses, seconds=120, rendering=False):
    """The dossier once its status is one of `statuses` (with rendering=True: once it is past
    its start, into the build proper)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        dossier = fresh(application, ref)
        if dossier.status in statuses and not (
                rendering and dossier.status == "running" and dossier.progress == 0):
            return dossier
        time.sleep(0.02)
    raise AssertionError(f"{ref} still {dossier.status} after {seconds} s")


@pytest.mark.slow
def test_a_job_worker_killed_mid_build_leaves_a_failed_dossier_and_nothing_half_written(
        queued_app, app_config, tmp_path):
    application = queued_app()
    engine, store = application.extensions["ihl_engine"], application.extensions["ihl_store"]
    lawyer, case = lawyer_and_case(application)
    with open_session(engine) as db:  # enough to render for a few seconds
        investigator = db.exec(select(User).where(User.role == "investigator")).first()
        for _ in range(40):
            make_incident(db, db.get(Case, case.id), db.get(User, investigator.id),
                          narrative="Shelling of the market square. " * 80)
    env = {**os.environ, "IHL_DATABASE_URL": app_config["DATABASE_URL"],
           "IHL_EVIDENCE_DIR": app_config["EVIDENCE_DIR"],
           "IHL_INSTANCE_DIR": str(tmp_path / "shared-instance")}
    env.pop("IHL_QUEUE_URL", None)
    client = application.test_client()
    login(client, lawyer)
    response = client.post(f"/cases/{case.ref}/dossiers", data={"audience": "internal"})
    ref = response.headers["Location"].rsplit("/", 1)[1]
    stored_before = kept_files(store)

    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115  (the worker writes it until stopped)
    worker = _worker(env, log)
    try:
        building = _wait_for(application, ref, {"running", "done", "failed"}, rendering=True)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(20)
        killed = fresh(application, ref)
        assert killed.status == DossierStatus.running, "the build ended before the kill"
        assert killed.progress > 0, building.stage  # killed in the build, not before it
        assert killed.sha256 is None
        assert kept_files(store) == stored_before
        # what the killed build had begun writing is a temporary file, which `ihl gc` removes
        gc = subprocess.run([_ihl(), "gc", "--older-than-minutes", "0"], env=env,
                            capture_output=True, text=True, timeout=60)
        assert gc.returncode == 0, gc.stdout + gc.stderr
        assert not list(store.tmp.iterdir()), gc.stdout + gc.stderr

        # silence: no heartbeat for ten minutes; the next worker to start says it failed
        with open_session(engine) as db:
            db.exec(sa.text("UPDATE dossier SET heartbeat_at = :t WHERE ref = :r")
                    .bindparams(t=utcnow() - timedelta(minutes=10), r=ref))
            db.commit()
        worker = _worker(env, log)
        failed = _wait_for(application, ref, {"failed", "done"})
        assert failed.status == DossierStatus.failed
        assert failed.error == services.INTERRUPTED
        # and the lawyer simply asks again
        again = client.post(f"/cases/{case.ref}/dossiers", data={"audience": "internal"})
        rebuilt = _wait_for(application, again.headers["Location"].rsplit("/", 1)[1],
                            {"done", "failed"})
        assert rebuilt.status == DossierStatus.done, rebuilt.error
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(20)
        log.seek(0)
        output = log.read()
        log.close()
    assert f"{ref} was left running" in output or f"{ref} stopped giving signs" in output, output
    verified = subprocess.run([_ihl(), "verify"], env=env, capture_output=True, text=True,
                              timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr


# ---- row locks that let foreign-key checks through ----------------------------------------------

def test_a_counter_lock_does_not_block_foreign_key_checks(app, db, database_url):
    """Filing an incident locks its case (the incident counter) until it commits; another
    transaction adding a row that points at the same case (an upload linking an item) must still
    be able to check that foreign key meanwhile, or the two can deadlock."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers; PostgreSQL row locks are what is tested")
    from ihl_docs.core.models import IncidentCreate
    from ihl_docs.incidents import services as incident_services
    from tests.builders import incident_data, make_case, make_user

    user = make_user(db, "investigator")
    case = make_case(db, user)
    engine = app.extensions["ihl_engine"]
    with open_session(engine) as filing:  # holds the case's row lock, not committed
        incident_services.create_incident(filing, filing.get(Case, case.id),
                                          IncidentCreate.model_validate(incident_data()),
                                          actor=filing.get(User, user.id))
        with engine.connect() as other:
            other.exec_driver_sql("SET lock_timeout = '2s'")
            checked = other.execute(sa.text('SELECT 1 FROM "case" WHERE id = :i FOR KEY SHARE'),
                                    {"i": case.id}).scalar()
            other.rollback()
        filing.rollback()
    assert checked == 1
