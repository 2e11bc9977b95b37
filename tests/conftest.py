"""Fixtures: an application on a fresh database per test (SQLite, or PostgreSQL when
IHL_TEST_DATABASE_URL is set), its test client and CLI runner, and a database session."""

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from ihl_docs import create_app
from ihl_docs.auth import services as auth_services
from ihl_docs.core.db import make_engine, open_session
from ihl_docs.core.schema import upgrade

from .builders import login  # noqa: F401  (re-exported for tests)

PG_URL = os.environ.get("IHL_TEST_DATABASE_URL", "")


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Argon2id with the cheapest parameters: the tests check behaviour, not hashing cost."""
    monkeypatch.setattr(auth_services, "password_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _pg_worker_url(worker: str) -> str:
    """A schema of its own per xdist worker, so parallel workers never share tables."""
    schema = f"ihl_test_{worker}_{os.getpid()}"
    admin = sa.create_engine(make_engine(PG_URL).url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def _drop_schema(url: str) -> None:
    schema = url.rsplit("%3D", 1)[1]
    admin = sa.create_engine(make_engine(PG_URL).url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, worker_id):
    """A migrated database, made once per test session (and per xdist worker)."""
    if PG_URL:
        url = _pg_worker_url(worker_id)
        engine = make_engine(url)
        upgrade(engine)
        yield {"url": url, "engine": engine}
        engine.dispose()
        _drop_schema(url)
        return
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    yield {"path": path}


def _truncate_all(engine) -> None:
    with engine.begin() as conn:
        tables = [r[0] for r in conn.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'")]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def database_url(database_template, tmp_path):
    """The URL of an empty, migrated database for this test alone."""
    if PG_URL:
        yield database_template["url"]
        _truncate_all(database_template["engine"])
        return
    path = tmp_path / "ihl.sqlite3"
    shutil.copyfile(database_template["path"], path)
    yield f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url, tmp_path):
    return {
        "DATABASE_URL": database_url,
        "EVIDENCE_DIR": str(tmp_path / "evidence"),
        "SECRET_KEY": "test-" + uuid.uuid4().hex,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "QUEUE_IMMEDIATE": True,  # a queued job runs inline (the worker has its own tests)
    }


@pytest.fixture
def app(app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(tmp_path / "instance"))
    application = create_app(app_config)
    yield application
    application.extensions["ihl_engine"].dispose()


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
