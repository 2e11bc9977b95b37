"""`ihl verify` re-hashes every stored file and derivative and names each problem by its evidence
ref; `ihl gc` removes temporary files left by interrupted uploads."""

import json
import os
import time

import pytest
from sqlmodel import select

from ihl_docs.core.audit.journal import Witnesses
from ihl_docs.core.audit.replay import projections
from ihl_docs.core.models import Case, EvidenceDerivative
from ihl_docs.verification import verify_all, verify_files
from tests.builders import (
    approve_incident,
    jpeg_with_exif,
    make_case,
    make_evidence,
    make_incident,
    make_user,
)
from tests.tampering import alter_one_byte


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


@pytest.fixture
def items(db, store):
    """Three documents and a photo (with its thumbnail) in one case."""
    user = make_user(db)
    case = make_case(db, user)
    docs = [make_evidence(db, case, user, store, b"%PDF-1.4 report " + os.urandom(4096),
                          title=f"Report {n}") for n in range(3)]
    photo = make_evidence(db, case, user, store, jpeg_with_exif(), kind="photo", title="Crater",
                          original_filename="IMG_0001.JPG")
    thumb = db.exec(select(EvidenceDerivative)
                    .where(EvidenceDerivative.evidence_id == photo.id)).one()
    return {"docs": docs, "photo": photo, "thumbnail": thumb}


def verify(runner, *args):
    result = runner.invoke(args=["verify", *args])
    assert "Traceback" not in result.output
    return result


def test_an_intact_store_verifies(runner, items):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "Checked 5 stored files" in result.output
    assert "intact." in result.output
    result = verify(runner, "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["ok"] is True
    assert report["files"] == 5
    assert report["problems"] == []
    assert report["audit_entries"] > 0


def test_a_file_altered_by_one_byte_is_named(runner, store, items):
    altered, intact = items["docs"][1], items["docs"][0]
    path = store.path_for(altered.sha256)
    alter_one_byte(path, at=path.stat().st_size // 2)
    result = verify(runner)
    assert result.exit_code == 1
    assert f"evidence {altered.ref}: file altered" in result.output
    assert intact.ref not in result.output
    assert "1 problem(s)." in result.output

    result = verify(runner, "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["files"] == 5
    [problem] = report["problems"]
    assert problem.startswith(f"evidence {altered.ref}: file altered")
    assert altered.sha256 in problem


def test_a_deleted_file_is_named(runner, store, items):
    gone = items["docs"][2]
    store.path_for(gone.sha256).unlink()
    result = verify(runner, "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["problems"] == [
        f"evidence {gone.ref}: file missing (sha256 {gone.sha256})"]
    result = verify(runner)
    assert result.exit_code == 1
    assert f"evidence {gone.ref}: file missing" in result.output


def test_an_altered_thumbnail_is_named_with_its_item(runner, store, items):
    photo, thumb = items["photo"], items["thumbnail"]
    alter_one_byte(store.path_for(thumb.sha256), at=100)
    result = verify(runner, "--json")
    assert result.exit_code == 1
    [problem] = json.loads(result.output)["problems"]
    assert problem.startswith(f"evidence {photo.ref} (thumbnail): file altered")
    assert thumb.sha256 in problem
    assert store.hash_stored(photo.sha256)[0] == photo.sha256  # the original is intact


def test_verify_all_lists_every_problem_at_once(app, db, store, items):
    docs, photo, thumb = items["docs"], items["photo"], items["thumbnail"]
    alter_one_byte(store.path_for(docs[0].sha256), at=0)
    store.path_for(docs[1].sha256).unlink()
    alter_one_byte(store.path_for(thumb.sha256), at=50)
    report = verify_all(db, store, kinds=projections(app),
                        witnesses=Witnesses.from_config(app.config))
    assert report["ok"] is False
    assert report["files"] == 5
    assert len(report["problems"]) == 3
    text = "\n".join(report["problems"])
    assert f"evidence {docs[0].ref}: file altered" in text
    assert f"evidence {docs[1].ref}: file missing" in text
    assert f"evidence {photo.ref} (thumbnail): file altered" in text
    assert docs[2].ref not in text
    assert f"evidence {photo.ref}: " not in text
    checked, problems = verify_files(db, store)
    assert checked == 5
    assert problems == report["problems"]


def test_physical_items_have_nothing_to_verify(db, store, runner):
    user = make_user(db)
    make_evidence(db, make_case(db, user), user, store, data=None, title="Rocket remnant")
    result = verify(runner, "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["files"] == 0


def test_gc_removes_leftover_temporary_uploads(runner, store, items):
    old, recent = store.incoming(), store.incoming()
    old.write(b"cut off an hour and a half ago")
    recent.write(b"still arriving")
    old.finish()
    long_ago = time.time() - 90 * 60
    os.utime(old.path, (long_ago, long_ago))

    result = runner.invoke(args=["gc"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 leftover temporary upload file(s)." in result.output
    assert not old.path.exists()
    assert recent.path.exists()
    result = runner.invoke(args=["gc", "--older-than-minutes", "0"])
    assert result.exit_code == 0
    assert "Removed 1 " in result.output
    assert list(store.tmp.iterdir()) == []
    recent.discard()
    assert verify(runner).exit_code == 0  # stored files are untouched
    result = runner.invoke(args=["gc", "--older-than-minutes", "-1"])
    assert result.exit_code == 2


def test_stored_dossiers_are_verified_and_named_by_their_ref(runner, app, db, store, items,
                                                              quick_renderer):
    from tests.dossier_support import make_dossier

    lawyer = make_user(db, "admin")
    case = db.get(Case, items["photo"].case_id)
    # a dossier covers at least one incident; the public edition, an approved one
    approve_incident(db, make_incident(db, case, lawyer), lawyer)
    kept = make_dossier(db, app, case, lawyer, audience="internal")
    altered = make_dossier(db, app, case, lawyer, audience="public")
    make_dossier(db, app, case, lawyer, run=False)  # queued: no file yet, nothing to check
    result = verify(runner, "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["files"] == 7

    alter_one_byte(store.path_for(altered.sha256), at=5)
    report = json.loads(verify(runner, "--json").output)
    assert report["problems"] == [
        f"dossier {altered.ref}: file altered (recorded sha256 {altered.sha256}, "
        f"now {store.hash_stored(altered.sha256)[0]})"]
    store.path_for(kept.sha256).unlink()
    result = verify(runner)
    assert result.exit_code == 1
    assert f"dossier {kept.ref}: file missing (sha256 {kept.sha256})" in result.output
    assert "2 problem(s)." in result.output
