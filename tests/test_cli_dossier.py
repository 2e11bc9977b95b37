"""`ihl dossier`: a dossier built now, stored and recorded like any other, written to a file;
and its refusals, each one clear line with the promised exit status."""

import hashlib
import os

import pytest
from sqlmodel import select

from ihl_docs.core.models import AuditEntry, Dossier
from tests.builders import (
    approve_incident,
    jpeg_with_exif,
    make_case,
    make_evidence,
    make_incident,
    make_user,
)
from tests.dossier_support import fresh


@pytest.fixture
def case(db, app):
    investigator = make_user(db, "investigator")
    case = make_case(db, investigator, ref="NK-2020-009")
    make_evidence(db, case, investigator, app.extensions["ihl_store"], b"%PDF-1.4 report",
                  sensitivity="public")
    admin = make_user(db, "admin")  # a dossier covers at least one incident; court, approved ones
    approve_incident(db, make_incident(db, case, admin), admin)
    return case


def dossiers(db):
    rows = db.exec(select(Dossier)).all()
    db.commit()
    return rows


def test_builds_stores_records_and_writes_the_pdf(runner, app, db, case, tmp_path,
                                                  quick_renderer):
    out = tmp_path / "court.pdf"
    result = runner.invoke(args=["dossier", case.ref, "-o", str(out), "--audience", "court",
                                 "--prepared-by", "Legal team A"])
    assert result.exit_code == 0, result.output
    dossier = fresh(app, f"{case.ref}-D001")
    assert (dossier.status, dossier.audience, dossier.prepared_by) == ("done", "court",
                                                                       "Legal team A")
    assert dossier.requested_by_id is None
    data = out.read_bytes()
    assert hashlib.sha256(data).hexdigest() == dossier.sha256
    assert app.extensions["ihl_store"].exists(dossier.sha256)
    lines = result.stdout.splitlines()
    assert lines == [f"Dossier {dossier.ref} written to {out}", f"sha256 {dossier.sha256}",
                     f"pages {dossier.page_count}",
                     f"case fingerprint {dossier.case_fingerprint}"]
    actors = {(e.action, e.actor) for e in db.exec(select(AuditEntry).where(
        AuditEntry.entity == "dossier"))}
    assert actors == {("request", "ihl dossier"), ("start", "ihl dossier"),
                      ("generate", "ihl dossier")}
    exports = db.exec(select(AuditEntry).where(AuditEntry.action == "custody_exported")).all()
    assert [e.actor for e in exports] == ["ihl dossier"]
    assert os.stat(out).st_mode & 0o777 == 0o644


def test_defaults_and_the_progress_bar_goes_to_stderr(runner, app, case, tmp_path,
                                                      quick_renderer):
    out = tmp_path / "internal.pdf"
    result = runner.invoke(args=["dossier", case.ref, "-o", str(out)])
    assert result.exit_code == 0, result.output
    dossier = fresh(app, f"{case.ref}-D001")
    assert (dossier.audience, dossier.prepared_by) == ("internal", "ihl_docs (command line)")
    assert f"Building {dossier.ref}" in result.stderr
    assert "Building" not in result.stdout


def test_an_existing_file_is_replaced_whole(runner, case, tmp_path, quick_renderer):
    out = tmp_path / "dossier.pdf"
    out.write_bytes(b"old content " * 1000)
    assert runner.invoke(args=["dossier", case.ref, "-o", str(out)]).exit_code == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ihl-dossier-")] == []


@pytest.mark.parametrize("args, message", [
    (["NO-SUCH-CASE", "-o", "{tmp}/x.pdf"], "No case NO-SUCH-CASE."),
    (["{case}", "-o", "{tmp}/x.pdf", "--audience", "press"],
     "Unknown audience 'press': choose internal, court or public."),
    (["{case}", "-o", "{tmp}/no/such/folder/x.pdf"], "there is no folder"),
    (["{case}", "-o", "{tmp}"], "is a directory"),
    (["{case}", "-o", "{tmp}/x.pdf", "--prepared-by", "x" * 201], "too long"),
    (["{case}", "-o", "{tmp}/x.pdf", "--incident", "NK-2020-009-I404"], "Not an incident"),
    (["{case}", "-o", "{tmp}/x.pdf", "--full-image", "NK-2020-009-E0001"],
     "is not a JPEG or PNG image"),
])
def test_refusals_are_one_line_exit_1_and_record_nothing(runner, db, case, tmp_path, args,
                                                         message, quick_renderer):
    args = [a.format(tmp=tmp_path, case=case.ref) for a in args]
    result = runner.invoke(args=["dossier", *args])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: ")
    assert message in line
    assert dossiers(db) == []


def test_a_file_that_cannot_be_written_at_the_end_is_reported(runner, app, case, tmp_path,
                                                             monkeypatch, quick_renderer):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    folder = tmp_path / "out"
    folder.mkdir()
    result = runner.invoke(args=["dossier", case.ref, "-o", str(folder / "x.pdf")])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line == (f"Error: Dossier {case.ref}-D001 was built and stored, but "
                    f"{folder / 'x.pdf'} could not be written (Permission denied).")
    assert list(folder.iterdir()) == []
    assert fresh(app, f"{case.ref}-D001").status == "done"


def test_a_failed_build_is_one_line_exit_1_and_leaves_no_file(runner, app, case, tmp_path,
                                                              monkeypatch):
    from ihl_docs.dossiers import services

    def broken(session, case, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "build_dossier", broken)
    out = tmp_path / "x.pdf"
    result = runner.invoke(args=["dossier", case.ref, "-o", str(out)])
    assert result.exit_code == 1
    assert "Error: The dossier could not be built" in result.stderr
    assert "Traceback" not in result.output
    assert "boom" not in result.output
    assert not out.exists()
    assert fresh(app, f"{case.ref}-D001").status == "failed"


@pytest.mark.parametrize("args", [["NK-2020-009"], [], ["NK-2020-009", "-o"]])
def test_wrong_usage_exits_2(runner, args):
    assert runner.invoke(args=["dossier", *args]).exit_code == 2


def test_the_real_renderer_writes_a_pdf(runner, app, case, tmp_path):
    out = tmp_path / "real.pdf"
    result = runner.invoke(args=["dossier", case.ref, "-o", str(out), "--audience", "public"])
    assert result.exit_code == 0, result.output
    dossier = fresh(app, f"{case.ref}-D001")
    assert out.read_bytes().startswith(b"%PDF")
    assert dossier.page_count >= 1
    # The file written is the signed one: the reproducible revision, then the signature.
    assert hashlib.sha256(out.read_bytes()).hexdigest() == dossier.signed_sha256
    with app.extensions["ihl_store"].open(dossier.sha256) as unsigned:
        assert out.read_bytes().startswith(unsigned.read())
    assert f"signed sha256 {dossier.signed_sha256}" in result.stdout


def test_a_chosen_image_is_annexed_at_full_resolution(runner, app, db, case, tmp_path,
                                                      quick_renderer):
    photo = make_evidence(db, case, make_user(db, "admin"), app.extensions["ihl_store"],
                          jpeg_with_exif(), kind="photo", sensitivity="public",
                          original_filename="crater.jpg")
    result = runner.invoke(args=["dossier", case.ref, "-o", str(tmp_path / "d.pdf"),
                                 "--full-image", photo.ref])
    assert result.exit_code == 0, result.output
    [dossier] = dossiers(db)
    assert dossier.full_image_refs == f'["{photo.ref}"]'
