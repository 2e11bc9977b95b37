"""Fixtures: an application on a fresh database per test (SQLite, or PostgreSQL when
IHL_TEST_DATABASE_URL is set), its test client and CLI runner, and a database session; and the
fixtures that several test modules share.

The application is built once per test process and configuration, and reused (shared_apps.py):
each test still gets a database, an evidence store and an instance folder as new."""

import shutil
import uuid
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from ihl_docs import create_app
from ihl_docs.auth import services as auth_services
from ihl_docs.cases import services as case_services
from ihl_docs.core.audit.checkpoints import list_checkpoints
from ihl_docs.core.db import make_engine, open_session
from ihl_docs.core.file_modes import PRIVATE_FILE
from ihl_docs.core.schema import upgrade
from ihl_docs.dossiers import services as dossier_services
from tests import builders
from tests.api_support import CASE_REF, bearer, token_for
from tests.builders import make_case, make_incident, make_user, seed
from tests.catalogue_copy import CatalogueCopier, PgCatalogue, SqliteCatalogue
from tests.database_support import PG_URL, drop_schema, pg_worker_url
from tests.dossier_support import quick_build
from tests.shared_apps import PgReset, SharedApps, empty_folder

# One per test process: the applications kept for reuse are configured with it.
SECRET_KEY = "test-" + uuid.uuid4().hex


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Argon2id with the cheapest parameters: the tests check behaviour, not hashing cost."""
    monkeypatch.setattr(auth_services, "password_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, worker_id):
    """A migrated database, made once per test session (and per xdist worker)."""
    if PG_URL:
        url = pg_worker_url(worker_id)
        engine = make_engine(url)
        upgrade(engine)
        yield {"url": url, "engine": engine, "reset": PgReset(engine)}
        engine.dispose()
        drop_schema(url)
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    yield {"path": path}


@pytest.fixture(scope="session", autouse=True)
def catalogue_copier(database_template, tmp_path_factory, worker_id):
    """load_catalogue copies the catalogue loaded once per test process (catalogue_copy.py)."""
    schemas = []

    def make():
        if PG_URL:
            schemas.append(pg_worker_url(f"{worker_id}_catalogue"))
            return PgCatalogue(schemas[-1])
        return SqliteCatalogue(tmp_path_factory.mktemp("catalogue"), database_template["path"])

    builders.catalogue_copier = CatalogueCopier("postgresql" if PG_URL else "sqlite", make)
    yield builders.catalogue_copier
    builders.catalogue_copier = None
    for url in schemas:
        drop_schema(url)


@pytest.fixture
def database_url(database_template, tmp_path):
    """The URL of an empty, migrated database for this test alone."""
    if PG_URL:
        yield database_template["url"]
        database_template["reset"]()
        return
    path = tmp_path / "ihl.sqlite3"
    shutil.copyfile(database_template["path"], path)
    path.chmod(PRIVATE_FILE)  # as the application makes its database: the service's alone
    yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def shared_apps():
    apps = SharedApps()
    yield apps
    apps.close()


@pytest.fixture(scope="session")
def home_of_apps(tmp_path_factory) -> Path:
    """Where the reused applications keep their evidence and instance folders."""
    return tmp_path_factory.mktemp("apps")


@pytest.fixture
def app_config(database_url, home_of_apps):
    """The test's configuration. Its evidence store and instance folder are empty (no folder)."""
    evidence, instance = home_of_apps / "evidence", home_of_apps / "instance"
    empty_folder(evidence)
    empty_folder(instance)
    return {
        "DATABASE_URL": database_url,
        "EVIDENCE_DIR": str(evidence),
        "SECRET_KEY": SECRET_KEY,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "QUEUE_IMMEDIATE": True,  # a queued job runs inline (the worker has its own tests)
    }


@pytest.fixture
def app(app_config, home_of_apps, shared_apps, monkeypatch):
    """The application for app_config, as built by create_app (reused: see shared_apps.py)."""
    # Applications the test builds itself share this instance folder, as they always have.
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(home_of_apps / "instance"))
    application = shared_apps.app_for(app_config)
    yield application
    shared_apps.release(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A writing session on the test's database. No application context is held open, so
    each request of the test client gets its own (and its own `g`), as in production."""
    session = open_session(app.extensions["ihl_engine"], write=True)
    yield session
    session.close()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.keywords and not Path("/usr/bin/chromium").exists():
            item.add_marker(pytest.mark.skip(reason="no /usr/bin/chromium"))


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture
def live_server(app_config, tmp_path, monkeypatch):
    """The application with CSRF on, served on a free loopback port from a thread."""
    import threading

    from werkzeug.serving import make_server

    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "live-instance"))
    application = create_app({**app_config, "WTF_CSRF_ENABLED": True, "TESTING": False})
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": application}
    server.shutdown()
    thread.join(10)
    application.extensions["ihl_engine"].dispose()


@pytest.fixture
def page(tmp_path):
    """A headless Chromium page (the system browser, driven by Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.set_default_timeout(15_000)
        yield context.new_page()
        context.close()
        browser.close()


# ---- the API's world: a case, an incident, a token for each kind of person around it -------

@pytest.fixture
def as_role(db):
    """as_role("legal") -> (user, headers carrying a fresh token of that new user)."""

    def make(role: str, **fields):
        user = make_user(db, role, **fields)
        return user, bearer(token_for(db, user))

    return make


@pytest.fixture
def world(db, as_role):
    """Case NK-2020-001 with one incident, and a token for each kind of person around it.

    member_investigator opened the case and member_legal was added to it; the outsiders have
    the same roles but are not members; admin and auditor see every case without membership.
    (Some page tests define a `world` of their own.)
    """
    creator, creator_headers = as_role("investigator")
    case = make_case(db, creator, ref=CASE_REF)
    incident = make_incident(db, case, creator, responsible_party="Group B")
    headers = {"member_investigator": creator_headers}
    for name, role in [("member_legal", "legal"), ("outsider_investigator", "investigator"),
                       ("outsider_legal", "legal"), ("admin", "admin"), ("auditor", "auditor")]:
        user, headers[name] = as_role(role)
        if name.startswith("member_"):
            case_services.add_member(db, case, user.email, actor=creator)
            db.commit()
    return {"case": case, "incident": incident, "headers": headers, "creator": creator}


# ---- dossiers, jobs, CSRF, audit checkpoints -----------------------------------------------

@pytest.fixture
def quick_renderer(monkeypatch):
    """Dossiers in this test are built by the stand-in renderer (dossier_support.quick_build)."""
    monkeypatch.setattr(dossier_services, "build_dossier", quick_build)
    # The stand-in bytes are no PDF to sign: these dossiers are served unsigned, like those
    # built before signing (tests/test_dossier_signing.py signs real ones).
    monkeypatch.setattr(dossier_services, "_sign", lambda *args, **kwargs: None)
    return quick_build


@pytest.fixture
def queued_app(app_config, tmp_path, monkeypatch):
    """An application whose jobs go to a real queue (not run inline), factory for several."""
    apps = []

    def make(**config):
        monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "shared-instance"))
        monkeypatch.delenv("IHL_QUEUE_URL", raising=False)
        application = create_app({**app_config, "QUEUE_IMMEDIATE": False, **config})
        apps.append(application)
        return application

    yield make
    for application in apps:
        application.extensions["ihl_engine"].dispose()


@pytest.fixture
def protected_client(app_config, tmp_path, monkeypatch):
    """A client of an application configured like production: CSRF checked on every form."""
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "protected-instance"))
    application = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    assert application.config["WTF_CSRF_ENABLED"] is True
    yield application.test_client()
    application.extensions["ihl_engine"].dispose()


@pytest.fixture
def signed_log(db, runner):
    """A log with a checkpoint at seq `checkpoint`, and two entries after it."""
    investigator, case = seed(db, incidents=3)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    checkpoint = list_checkpoints(db)[-1].seq
    db.commit()
    make_incident(db, case, investigator)
    make_user(db, "legal")
    assert checkpoint >= 6
    return checkpoint


@pytest.fixture
def elsewhere(app, app_config, tmp_path, monkeypatch, worker_id):
    """A second, empty instance: its own database, evidence store and instance folder."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    url = (pg_worker_url(f"{worker_id}_elsewhere") if PG_URL
           else f"sqlite:///{folder}/other.sqlite3")
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(folder / "instance"))
    other = create_app({**app_config, "DATABASE_URL": url,
                        "EVIDENCE_DIR": str(folder / "evidence")})
    upgrade(other.extensions["ihl_engine"])
    yield other
    other.extensions["ihl_engine"].dispose()
    if PG_URL:
        drop_schema(url)
