"""Files only for the service: stored files 0440, folders 0750, the database and keys 0600 —
created so whatever the umask, tightened by `ihl init` on an instance an older version left
looser, and warned about by `ihl verify` (a warning, exit 0) and `POST /api/v1/verify`.

Each test works on an instance of its own (instance folder, evidence store and, on SQLite, its
database file in the instance folder), built by create_app as a deployment builds it."""

import json
import os
import stat
from pathlib import Path

import pytest
from sqlmodel import select

from ihl_docs import create_app
from ihl_docs.core import file_modes
from ihl_docs.core.audit.signing import load_or_create_key
from ihl_docs.core.db import open_session
from ihl_docs.core.models import EvidenceDerivative
from ihl_docs.dossiers.cache import SectionCache
from tests.api_support import bearer, token_for
from tests.builders import jpeg_with_exif, make_case, make_evidence, make_incident, make_user
from tests.database_support import PG_URL
from tests.dossier_support import make_dossier
from tests.tampering import alter_one_byte

needs_sqlite = pytest.mark.skipif(bool(PG_URL), reason="on PostgreSQL there is no database file")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """The umask of a careless shell: nothing withheld. What the application creates must still
    be the service's alone."""
    before = os.umask(0)
    yield
    os.umask(before)


@pytest.fixture
def instance(tmp_path, database_url, monkeypatch):
    """An application on an instance folder and evidence store of its own; on SQLite its
    database is the default file in the instance folder. No secret key is given, so the
    instance makes and keeps its own, as a deployment does."""
    folder, evidence = tmp_path / "srv" / "instance", tmp_path / "srv" / "evidence"
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(folder))
    monkeypatch.delenv("IHL_SECRET_KEY", raising=False)
    config = {"EVIDENCE_DIR": str(evidence), "TESTING": True, "QUEUE_IMMEDIATE": True,
              "WTF_CSRF_ENABLED": False}
    if PG_URL:
        config["DATABASE_URL"] = database_url
    else:
        config["DATABASE_URL"] = f"sqlite:///{folder / 'ihl.sqlite3'}"
    applications = []

    def make(**overrides):
        application = create_app({**config, **overrides})
        applications.append(application)
        return application

    application = make()
    application.make_another = make
    yield application
    for made in applications:
        made.extensions["ihl_engine"].dispose()


def init(application):
    result = application.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def verify(application, *args):
    result = application.test_cli_runner().invoke(args=["verify", *args])
    assert "Traceback" not in result.output
    return result


def session_of(application):
    return open_session(application.extensions["ihl_engine"], write=True)


def evidence_in(application):
    """A document and a photo (with its thumbnail) in a new case; (document, photo, thumbnail)."""
    store = application.extensions["ihl_store"]
    with session_of(application) as db:
        user = make_user(db)
        case = make_case(db, user)
        document = make_evidence(db, case, user, store, b"%PDF-1.4 report " + os.urandom(64))
        photo = make_evidence(db, case, user, store, jpeg_with_exif(), kind="photo",
                              title="Crater", original_filename="IMG_0001.JPG")
        thumbnail = db.exec(select(EvidenceDerivative)
                            .where(EvidenceDerivative.evidence_id == photo.id)).one()
    return document, photo, thumbnail


# ---- created so -----------------------------------------------------------------------------

def test_a_new_instance_keeps_its_folders_and_secrets_for_the_service(loose_umask, instance):
    init(instance)
    folder = Path(instance.instance_path)
    assert mode(folder) == 0o750
    assert mode(folder / "secret_key") == 0o600
    assert mode(folder / "first-admin-password.txt") == 0o600
    store = instance.extensions["ihl_store"]
    assert mode(store.root) == 0o750
    assert mode(store.tmp) == 0o750


@needs_sqlite
def test_the_database_file_and_its_companions_are_the_services_alone(loose_umask, instance):
    init(instance)
    database = Path(instance.instance_path) / "ihl.sqlite3"
    assert mode(database) == 0o600
    with session_of(instance) as db:  # a writing transaction: the WAL and its index exist
        make_user(db)
        companions = [p for p in database.parent.iterdir()
                      if p.name.startswith("ihl.sqlite3-")]
        assert companions, "a WAL database has its -wal and -shm files while in use"
        assert {p.name: mode(p) for p in companions} == {p.name: 0o600 for p in companions}


def test_the_job_queue_file_is_the_services_alone(loose_umask, instance):
    queued = instance.make_another(QUEUE_IMMEDIATE=False)
    assert mode(Path(queued.instance_path) / "queue.sqlite3") == 0o600


def test_an_upload_and_its_thumbnail_are_stored_read_only_for_the_service(instance,
                                                                            loose_umask):
    init(instance)
    store = instance.extensions["ihl_store"]
    document, photo, thumbnail = evidence_in(instance)
    for sha256 in (document.sha256, photo.sha256, thumbnail.sha256):
        path = store.path_for(sha256)
        assert mode(path) == 0o440, path
        assert mode(path.parent) == 0o750, path.parent


def test_a_dossier_pdf_is_stored_read_only_for_the_service(loose_umask, instance,
                                                           quick_renderer):
    init(instance)
    with session_of(instance) as db:
        admin = make_user(db, "admin")
        case = make_case(db, admin)
        make_incident(db, case, admin)  # a dossier covers at least one incident
        dossier = make_dossier(db, instance, case, admin)
    assert dossier.sha256
    assert mode(instance.extensions["ihl_store"].path_for(dossier.sha256)) == 0o440


def test_cached_dossier_sections_are_read_only_for_the_service(tmp_path, loose_umask):
    cache = SectionCache(tmp_path / "instance" / "dossier-cache")
    cache.put("ab" + "0" * 62, b"%PDF-1.7 a section", 3)
    kept = tmp_path / "instance" / "dossier-cache" / "ab" / ("ab" + "0" * 62 + ".pdf")
    assert mode(kept) == 0o440
    assert mode(kept.parent) == 0o750
    assert mode(kept.parent.parent) == 0o750
    assert cache.get("ab" + "0" * 62) == (b"%PDF-1.7 a section", 3)
    cache.put("ab" + "0" * 62, b"%PDF-1.7 rendered again", 4)  # replaced, read-only or not
    assert cache.get("ab" + "0" * 62) == (b"%PDF-1.7 rendered again", 4)


def test_the_signing_key_and_its_new_folder_are_the_services_alone(tmp_path, loose_umask):
    key = tmp_path / "keys" / "audit_signing_key"
    load_or_create_key(key)
    assert mode(key) == 0o600
    assert mode(key.parent) == 0o750


# ---- `ihl init` tightens an older instance -------------------------------------------------

def loosen(application) -> dict[Path, int]:
    """Every file and folder of the instance made as an older version (or a careless copy) left
    them: stored files 0444, folders 0755, the rest 0644. Returns what each path should be."""
    store = application.extensions["ihl_store"]
    folder = Path(application.instance_path)
    expected = {}
    for root in (folder, store.root):
        for path in [root, *root.rglob("*")]:
            if path.is_dir():
                os.chmod(path, 0o755)
                expected[path] = 0o750
            elif path.parent.parent == store.root and path.parent != store.tmp:
                os.chmod(path, 0o444)
                expected[path] = 0o440
            elif path.suffix == ".pdf" and "dossier-cache" in path.parts:
                os.chmod(path, 0o644)
                expected[path] = 0o440
            else:
                os.chmod(path, 0o644)
                expected[path] = 0o600
    expected.pop(folder / "serving-address.txt", None)
    return expected


def test_init_tightens_an_instance_left_with_loose_modes(instance, quick_renderer):
    init(instance)
    evidence_in(instance)
    load_or_create_key(instance.config["SIGNING_KEY"])
    SectionCache(Path(instance.instance_path) / "dossier-cache").put("cd" + "1" * 62,
                                                                      b"%PDF-1.7 x", 1)
    expected = loosen(instance)
    assert len([p for p, m in expected.items() if m == 0o440]) >= 4  # 3 stored, 1 cached

    result = init(instance)

    assert {path: mode(path) for path in expected} == expected
    assert "Tightened" in result.output
    assert str(Path(instance.instance_path) / "secret_key") in result.output
    assert "0644 -> 0600" in result.output
    again = init(instance)
    assert "Tightened" not in again.output


def test_init_keeps_a_stricter_mode_and_a_backup_groups_setgid_folder(instance):
    init(instance)
    document, _, _ = evidence_in(instance)
    store = instance.extensions["ihl_store"]
    stored = store.path_for(document.sha256)
    os.chmod(stored, 0o400)
    os.chmod(stored.parent, 0o2750)  # new files take the backup group of the folder
    result = init(instance)
    assert mode(stored) == 0o400
    assert mode(stored.parent) == 0o2750
    assert "Tightened" not in result.output


def test_init_says_which_path_it_could_not_tighten_and_goes_on(instance, monkeypatch):
    init(instance)
    secret = Path(instance.instance_path) / "secret_key"
    os.chmod(secret, 0o644)
    os.chmod(instance.instance_path, 0o755)
    real_chmod = os.chmod

    def not_the_owner(path, mode, *args, **kwargs):
        if Path(path) == secret:
            raise PermissionError(1, "Operation not permitted", str(path))
        return real_chmod(path, mode, *args, **kwargs)

    monkeypatch.setattr(file_modes.os, "chmod", not_the_owner)
    result = init(instance)
    assert (f"Could not tighten {secret} (Operation not permitted): change its mode to 0600 "
            f"as its owner.") in result.output.splitlines()
    assert mode(instance.instance_path) == 0o750


def test_a_pipe_in_the_store_is_neither_opened_nor_named(instance):
    init(instance)
    store = instance.extensions["ihl_store"]
    os.mkfifo(store.root / "ab", 0o666)  # opened for reading, it would wait for a writer
    assert warnings_of(verify(instance)) == []
    assert "Tightened" not in init(instance).output


# ---- `ihl verify` warns -------------------------------------------------------------------

def warnings_of(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("warning:")]


def test_verify_is_silent_about_modes_on_a_correct_instance(instance, quick_renderer):
    init(instance)
    evidence_in(instance)
    result = verify(instance)
    assert result.exit_code == 0, result.output
    assert warnings_of(result) == []
    assert json.loads(verify(instance, "--json").output)["warnings"] == []


def test_verify_warns_about_a_loosened_stored_file_and_still_says_intact(instance):
    init(instance)
    document, _, _ = evidence_in(instance)
    path = instance.extensions["ihl_store"].path_for(document.sha256)
    os.chmod(path, 0o444)

    result = verify(instance)

    assert result.exit_code == 0, result.output
    assert warnings_of(result) == [f"warning: {path}: mode 0444, expected 0440 or stricter "
                                   f"(others may read it)"]
    assert result.output.rstrip().endswith("intact.")


def test_verify_warns_about_a_readable_key_and_instance_folder(instance):
    init(instance)
    key = Path(instance.config["SIGNING_KEY"])
    load_or_create_key(key)
    os.chmod(key, 0o640)
    os.chmod(instance.instance_path, 0o755)

    result = verify(instance)

    assert result.exit_code == 0, result.output
    assert set(warnings_of(result)) == {
        f"warning: {key}: mode 0640, expected 0600 or stricter (its group may read it)",
        f"warning: {instance.instance_path}: mode 0755, expected 0750 or stricter "
        f"(others may read and enter it)"}


@needs_sqlite
def test_verify_warns_about_a_readable_database_file(instance):
    init(instance)
    database = Path(instance.instance_path) / "ihl.sqlite3"
    os.chmod(database, 0o644)

    result = verify(instance)

    assert result.exit_code == 0, result.output
    assert warnings_of(result) == [f"warning: {database}: mode 0644, expected 0600 or stricter "
                                   f"(its group may read it; others may read it)"]


def test_verify_json_lists_warnings_apart_from_problems(instance):
    init(instance)
    document, photo, _ = evidence_in(instance)
    store = instance.extensions["ihl_store"]
    os.chmod(store.path_for(document.sha256), 0o664)
    alter_one_byte(store.path_for(photo.sha256), at=10)

    result = verify(instance, "--json")

    assert result.exit_code == 1  # the altered file is a problem; the mode only a warning
    report = json.loads(result.output)
    assert report["ok"] is False
    assert len(report["problems"]) == 1
    assert report["problems"][0].startswith(f"evidence {photo.ref}: file altered")
    assert report["warnings"] == [f"{store.path_for(document.sha256)}: mode 0664, expected "
                                  f"0440 or stricter (its owner may write it; its group may "
                                  f"write it; others may read it)"]


def test_many_loose_stored_files_are_named_up_to_a_limit_then_counted(instance):
    init(instance)
    store = instance.extensions["ihl_store"]
    for n in range(30):
        stored = store.put_bytes(b"file %d" % n)
        os.chmod(store.path_for(stored.sha256), 0o444)

    lines = warnings_of(verify(instance))

    assert len(lines) == 21
    assert lines[-1] == (f"warning: 10 more paths under {store.root} are looser than expected "
                         f"(folders 0750, files 0440)")


def test_the_api_verification_reports_mode_warnings(instance):
    init(instance)
    document, _, _ = evidence_in(instance)
    path = instance.extensions["ihl_store"].path_for(document.sha256)
    os.chmod(path, 0o644)
    with session_of(instance) as db:
        headers = bearer(token_for(db, make_user(db, "auditor")))
    body = instance.test_client().post("/api/v1/verify", headers=headers).get_json()
    assert body["ok"] is True
    assert body["problems"] == []
    assert body["warnings"] == [f"{path}: mode 0644, expected 0440 or stricter (its owner may "
                                f"write it; others may read it)"]
