"""The signed dossier: the reproducible revision kept byte for byte, the instance's PAdES
signature after it, `ihl dossier verify`, the timestamp, bad keys and silent authorities, and the
tagged structure of the merged PDF."""

import hashlib
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime

import pikepdf
import pytest
import time_machine
from sqlmodel import select

from ihl_docs.core.audit.signing import existing_public_key
from ihl_docs.core.models import AuditEntry, Dossier
from ihl_docs.dossiers import services
from ihl_docs.dossiers.commands import dossier_command
from ihl_docs.dossiers.signature import SIGNING_RECORD, DossierSigner, sign_pdf, verify_signed
from ihl_docs.evidence import services as evidence_services
from tests.builders import jpeg_with_exif, make_case, make_evidence, make_incident, make_user
from tests.dossier_support import fresh, stored_files
from tests.witness_support import Loopback, make_authority, refuse, timestamp_reply


@pytest.fixture
def store(app):
    return app.extensions["ihl_store"]


def populate(session, store, shift=0):
    """The same records in any database (row ids shifted by `shift` extra users)."""
    for _ in range(shift):
        make_user(session, "investigator")
    with time_machine.travel(datetime(2024, 5, 1, 12, 0, tzinfo=UTC), tick=False):
        user = make_user(session, "admin", email="same@example.org", name="Same")
        case = make_case(session, user, ref="SG-2024-001")
        incident = make_incident(session, case, user, narrative="Identical narrative.")
        photo = make_evidence(session, case, user, store, data=jpeg_with_exif(), kind="photo",
                              title="Crater", sensitivity="public")
        evidence_services.link_evidence(session, incident, photo, "crater", actor=user)
        session.commit()
    return case, user


def build_signed(app, session, case, user, **signer):
    """A dossier requested and run as the worker runs it, signed with the app's key."""
    dossier = services.request_dossier(session, case, audience="internal",
                                       prepared_by="Lena Lawyer", actor=user)
    session.commit()
    ref = dossier.ref
    services.run_dossier(app.extensions["ihl_engine"], app.extensions["ihl_store"], ref,
                         signer=DossierSigner.from_config({**app.config, **signer}))
    return fresh(app, ref)


def read(store, sha256) -> bytes:
    with store.open(sha256) as f:
        return f.read()


@pytest.fixture
def signed(app, db, store):
    case, user = populate(db, store)
    dossier = build_signed(app, db, case, user)
    assert dossier.status == "done", dossier.error
    return dossier, read(store, dossier.sha256), read(store, dossier.signed_sha256)


def lines(checks) -> dict:
    return {c.name: c for c in checks}


def public_key(app) -> str:
    return existing_public_key(app.config["SIGNING_KEY"])


# ---- the signed file -------------------------------------------------------------------------

def test_the_signed_file_starts_with_exactly_the_reproducible_bytes(app, signed):
    dossier, unsigned, signed_bytes = signed
    assert hashlib.sha256(unsigned).hexdigest() == dossier.sha256
    assert hashlib.sha256(signed_bytes).hexdigest() == dossier.signed_sha256
    assert len(signed_bytes) == dossier.signed_size > len(unsigned) == dossier.size
    assert signed_bytes.startswith(unsigned)
    with pikepdf.open(io.BytesIO(unsigned)) as pdf:  # nothing of the signing in revision 1
        assert SIGNING_RECORD not in pdf.attachments
        assert "/AcroForm" not in pdf.Root
        assert pdf.check_pdf_syntax() == []  # qpdf --check: no damage, name trees sorted
    with pikepdf.open(io.BytesIO(signed_bytes)) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert list(pdf.attachments) == ["content.json", "manifest.json", SIGNING_RECORD]
    checks = lines(verify_signed(signed_bytes, public_key(app)))
    assert all(c.ok for c in checks.values()), [c.line() for c in checks.values()]
    assert dossier.sha256 in checks["unsigned revision"].detail


def test_the_reproducible_revision_is_the_same_across_builds_and_instances(
        app, db, store, signed, tmp_path, app_config, monkeypatch):
    from ihl_docs import create_app
    from ihl_docs.core.db import open_session
    from ihl_docs.core.schema import upgrade

    first, unsigned, _signed_bytes = signed
    again = build_signed(app, db, _case_of(db, first), _user(db))
    assert again.sha256 == first.sha256  # a second build here: the same unsigned bytes
    assert again.signed_sha256 != first.signed_sha256  # signed at another time and seq
    other_dir = tmp_path / "elsewhere"
    monkeypatch.setenv("IHL_INSTANCE_DIR", str(other_dir))
    other = create_app({**app_config, "DATABASE_URL": f"sqlite:///{other_dir}/other.sqlite3",
                        "EVIDENCE_DIR": str(other_dir / "evidence"),
                        "SIGNING_KEY": str(other_dir / "other_key")})
    upgrade(other.extensions["ihl_engine"])
    session = open_session(other.extensions["ihl_engine"], write=True)
    try:
        other_case, other_user = populate(session, other.extensions["ihl_store"], shift=3)
        elsewhere = build_signed(other, session, other_case, other_user)
        other_signed = read(other.extensions["ihl_store"], elsewhere.signed_sha256)
    finally:
        session.close()
        other.extensions["ihl_engine"].dispose()
    assert elsewhere.sha256 == first.sha256  # another instance, another key: the same bytes
    assert other_signed.startswith(unsigned)
    assert public_key(app) != existing_public_key(other_dir / "other_key")
    assert not lines(verify_signed(other_signed, public_key(app)))["signature"].ok


def _case_of(db, dossier):
    from ihl_docs.core.models import Case

    return db.get(Case, dossier.case_id)


def _user(db):
    from ihl_docs.core.models import User

    return db.exec(select(User).where(User.email == "same@example.org")).one()


def test_the_audit_position_in_the_update_is_the_log_head_at_signing(app, db, signed):
    dossier, _unsigned, signed_bytes = signed
    with pikepdf.open(io.BytesIO(signed_bytes)) as pdf:
        record = json.loads(pdf.attachments[SIGNING_RECORD].get_file().read_bytes())
    entry = db.get(AuditEntry, record["audit_seq"])
    assert entry is not None
    assert entry.hash == record["audit_head"]
    assert record["audit_seq"] == dossier.audit_seq_at_signing
    # It was the head when signing began: the "generate" entry came after it.
    generate = db.exec(select(AuditEntry).where(AuditEntry.entity_id == dossier.ref,
                                                AuditEntry.action == "generate")).one()
    assert generate.seq == record["audit_seq"] + 1
    assert json.loads(generate.change)["after"]["signed_sha256"] == dossier.signed_sha256
    assert record["unsigned_sha256"] == dossier.sha256
    assert record["public_key"] == public_key(app)
    assert record["instance"] == app.config["INSTANCE_NAME"]


# ---- serving ---------------------------------------------------------------------------------

def test_the_page_and_the_api_serve_the_signed_file_and_show_both_hashes(app, db, signed, client):
    from tests.api_support import token_for
    from tests.builders import login

    dossier, _unsigned, signed_bytes = signed
    user = _user(db)
    headers = {"Authorization": f"Bearer {token_for(db, user)}"}
    with client.get(f"/api/v1/dossiers/{dossier.ref}/pdf", headers=headers) as reply:
        assert reply.status_code == 200
        assert reply.data == signed_bytes
    body = client.get(f"/api/v1/dossiers/{dossier.ref}", headers=headers).get_json()
    assert (body["sha256"], body["signed_sha256"]) == (dossier.sha256, dossier.signed_sha256)
    login(client, user)
    with client.get(f"/dossiers/{dossier.ref}/pdf") as page:
        assert page.status_code == 200
        assert page.data == signed_bytes
    detail = client.get(f"/dossiers/{dossier.ref}").get_data(as_text=True)
    assert dossier.sha256 in detail
    assert dossier.signed_sha256 in detail
    assert f"--public-key {public_key(app)}" in detail


# ---- ihl dossier verify ----------------------------------------------------------------------

def verify(app, path, *args):
    return app.test_cli_runner().invoke(dossier_command, ["verify", str(path), *args])


def test_verify_passes_with_the_instance_key_and_says_what_it_proves_without(app, signed,
                                                                            tmp_path):
    _dossier, _unsigned, signed_bytes = signed
    path = tmp_path / "dossier.pdf"
    path.write_bytes(signed_bytes)
    with_key = verify(app, path, "--public-key", public_key(app))
    assert with_key.exit_code == 0, with_key.output
    for name in ("signature", "timestamp", "fingerprint", "manifest", "unsigned revision",
                 "audit position"):
        assert f"{name}: OK" in with_key.output
    without = verify(app, path)
    assert without.exit_code == 0, without.output
    assert "not who made it" in without.output
    assert "timestamp: OK - none" in without.output


def changed_in_stream(data: bytes, objgen: tuple[int, int], at: int = 40) -> bytes:
    """`data` with one byte changed inside the stream of object `objgen` of revision 1."""
    start = data.index(b"\n%d %d obj" % objgen) + 1
    stream = data.index(b"stream\n", start) + len(b"stream\n")
    changed = bytearray(data)
    changed[stream + at] ^= 0x01
    return bytes(changed)


def test_verify_names_a_byte_changed_in_the_text_of_a_page(app, signed, tmp_path):
    _dossier, unsigned, signed_bytes = signed
    with pikepdf.open(io.BytesIO(unsigned)) as pdf:
        contents = pdf.pages[0].obj.Contents
        objgen = (contents[0] if isinstance(contents, pikepdf.Array) else contents).objgen
    path = tmp_path / "changed.pdf"
    path.write_bytes(changed_in_stream(signed_bytes, objgen))
    result = verify(app, path, "--public-key", public_key(app))
    assert result.exit_code == 1, result.output
    assert "signature: FAILED - digest mismatch" in result.output


def test_verify_names_a_byte_changed_in_the_attached_content(app, signed, tmp_path):
    _dossier, unsigned, signed_bytes = signed
    with pikepdf.open(io.BytesIO(unsigned)) as pdf:
        objgen = pdf.attachments["content.json"].obj.EF.F.objgen
    path = tmp_path / "changed.pdf"
    path.write_bytes(changed_in_stream(signed_bytes, objgen, at=10))
    result = verify(app, path)
    assert result.exit_code == 1, result.output
    assert "signature: FAILED - digest mismatch" in result.output


def test_verify_names_content_changed_and_signed_again_by_another_key(app, signed, tmp_path):
    """Re-signed after the change, the signature holds, but not the fingerprint nor the key."""
    _dossier, unsigned, _signed = signed
    with pikepdf.open(io.BytesIO(unsigned)) as pdf:
        content = json.loads(pdf.attachments["content.json"].get_file().read_bytes())
        content["case"]["title"] = "Another title"
        pdf.attachments["content.json"] = pikepdf.AttachedFileSpec(
            pdf, json.dumps(content).encode(), filename="content.json")
        out = io.BytesIO()
        pdf.save(out)
    forged = sign_pdf(out.getvalue(), DossierSigner(str(tmp_path / "forger_key"), (), "forger"),
                      {"audit_seq": 1, "audit_head": "0" * 64})
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    result = verify(app, path)
    assert result.exit_code == 1, result.output
    assert "signature: OK" in result.output
    assert "fingerprint: FAILED - SHA-256 of content.json is" in result.output
    keyed = verify(app, path, "--public-key", public_key(app))
    assert "signature: FAILED - signed by key" in keyed.output
    assert "not by the key given" in keyed.output


def test_verify_names_a_wrong_public_key(app, signed, tmp_path):
    _dossier, _unsigned, signed_bytes = signed
    path = tmp_path / "dossier.pdf"
    path.write_bytes(signed_bytes)
    result = verify(app, path, "--public-key", "ab" * 32)
    assert result.exit_code == 1, result.output
    assert f"signature: FAILED - signed by key {public_key(app)}, not by the key given" in \
        result.output


def test_verify_names_bytes_appended_after_the_signed_revision(app, signed, tmp_path):
    _dossier, _unsigned, signed_bytes = signed
    path = tmp_path / "appended.pdf"
    path.write_bytes(signed_bytes + b"% appended\n")
    result = verify(app, path, "--public-key", public_key(app))
    assert result.exit_code == 1, result.output
    assert "the file has content after the signed revision" in result.output


@pytest.mark.parametrize("content", [None, b"not a pdf at all"])
def test_verify_exits_2_on_a_file_it_cannot_read(app, tmp_path, content):
    path = tmp_path / "x.pdf"
    if content is not None:
        path.write_bytes(content)
    result = verify(app, path)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_verify_refuses_a_malformed_public_key_as_wrong_usage(app, signed, tmp_path):
    path = tmp_path / "dossier.pdf"
    path.write_bytes(signed[2])
    assert verify(app, path, "--public-key", "xyz").exit_code == 2


def test_verify_needs_no_instance(signed, tmp_path):
    """The command runs in a fresh process with no database, store or key configured."""
    path = tmp_path / "dossier.pdf"
    path.write_bytes(signed[2])
    import sys

    script = ("import sys; from ihl_docs.dossiers.commands import verify_command;"
              "verify_command.main(sys.argv[1:], standalone_mode=True)")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "IHL_DATABASE_URL": "postgresql://nowhere"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "signature: OK" in done.stdout


# ---- timestamps ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return make_authority(tmp_path_factory.mktemp("tsa"))


def test_a_tsa_timestamp_is_carried_and_checked_when_authorities_are_set(app, db, store,
                                                                        authority, tmp_path):
    server = Loopback(timestamp_reply(authority))
    try:
        case, user = populate(db, store)
        dossier = build_signed(app, db, case, user, TSA_URLS=[server.url],
                               TSA_CA_FILE=str(authority / "ca.crt"))
    finally:
        server.stop()
    assert dossier.status == "done", dossier.error
    checks = lines(verify_signed(read(store, dossier.signed_sha256), public_key(app)))
    assert checks["timestamp"].ok, checks["timestamp"].line()
    assert "valid signature timestamp 20" in checks["timestamp"].detail
    assert all(c.ok for c in checks.values())
    path = tmp_path / "stamped.pdf"
    path.write_bytes(read(store, dossier.signed_sha256))
    vouched = verify(app, path, "--tsa-ca", str(authority / "ca.crt"))
    assert vouched.exit_code == 0, vouched.output
    assert "chaining to the certificates given" in vouched.output
    stranger = make_authority(tmp_path / "stranger", "Stranger")
    refused = verify(app, path, "--tsa-ca", str(stranger / "ca.crt"))
    assert refused.exit_code == 1
    assert "timestamp: FAILED" in refused.output
    assert "does not chain" in refused.output


def test_a_tsa_that_does_not_answer_fails_the_dossier_and_keeps_nothing(app, db, store,
                                                                        authority):
    server = Loopback(refuse)
    case, user = populate(db, store)
    before = stored_files(store)
    try:
        dossier = build_signed(app, db, case, user, TSA_URLS=[server.url],
                               TSA_CA_FILE=str(authority / "ca.crt"))
    finally:
        server.stop()
    assert dossier.status == "failed"
    assert "did not answer; nothing was kept" in dossier.error
    assert dossier.sha256 is None
    assert dossier.signed_sha256 is None
    assert stored_files(store) == before


# ---- a key that cannot sign ------------------------------------------------------------------

@pytest.fixture(params=["not a key", "unreadable"])
def bad_key(app, tmp_path, request, monkeypatch):
    path = tmp_path / "bad_key"
    path.write_text("-----BEGIN PRIVATE KEY-----\nsecretish\n-----END PRIVATE KEY-----\n")
    if request.param == "unreadable":  # a folder where the key file should be (even root
        path.unlink()                    # cannot read it as a file)
        path.mkdir()
    monkeypatch.setitem(app.config, "SIGNING_KEY", str(path))
    return path


def test_a_key_that_cannot_sign_refuses_the_request_before_queueing(app, db, store, client,
                                                                    bad_key, tmp_path):
    from tests.api_support import token_for
    from tests.builders import login

    case, user = populate(db, store)
    headers = {"Authorization": f"Bearer {token_for(db, user)}"}
    reply = client.post(f"/api/v1/cases/{case.ref}/dossiers", json={"audience": "internal"},
                        headers=headers)
    assert reply.status_code == 409
    message = reply.get_json()["error"]["message"]
    assert str(bad_key) in message
    assert "secretish" not in message
    login(client, user)
    page = client.post(f"/cases/{case.ref}/dossiers", data={"audience": "internal",
                                                            "prepared_by": "Lena"})
    assert page.status_code == 409
    assert str(bad_key).encode() in page.data
    result = app.test_cli_runner().invoke(args=["dossier", case.ref, "-o",
                                                str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert str(bad_key) in result.output
    assert db.exec(select(Dossier)).all() == []


# ---- tagged PDF ------------------------------------------------------------------------------

def test_the_dossier_is_a_tagged_pdf_with_one_structure_tree(app, signed, tmp_path):
    _dossier, unsigned, _signed = signed
    with pikepdf.open(io.BytesIO(unsigned)) as pdf:
        root = pdf.Root
        assert root.MarkInfo.Marked is True
        assert str(root.Lang) == "en"
        tree = root.StructTreeRoot
        nums = list(tree.ParentTree.Nums)
        keys = [int(k) for k in nums[::2]]
        assert keys == sorted(set(keys))
        assert int(tree.ParentTreeNextKey) == keys[-1] + 1
        parents = dict(zip(keys, nums[1::2]))
        pages = {page.objgen: n for n, page in enumerate(pdf.pages)}
        for page in pdf.pages:  # every page's marked content points into the one tree
            key = int(page.obj.StructParents)
            assert all(e.Pg.objgen == page.objgen for e in parents[key] if "/Pg" in e)
            for annotation in page.obj.get("/Annots", []):
                assert int(annotation.StructParent) in parents
        document = tree.K[0]
        assert document.S == "/Document"
        sections = [e for e in document.K if e.S == "/Sect"]
        assert len(sections) >= 3  # summary, incident, register, annexes
        first_pages = [pages[_first_page(s)] for s in sections]
        assert first_pages == sorted(first_pages)  # in page order
        assert all(s.P.objgen == document.objgen for s in sections)
        stamped = pdf.pages[1].obj.Contents[-1].read_bytes()
        assert b"/Artifact" in stamped
        assert b"EMC" in stamped
        xmp = root.Metadata.read_bytes().decode()
        assert "<pdfaid:part>3</pdfaid:part>" in xmp or 'pdfaid:part="3"' in xmp
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed: the tree was checked above")
    path = tmp_path / "dossier.pdf"
    path.write_bytes(unsigned)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=60)
    assert "Tagged:          yes" in info.stdout


def _first_page(element):
    if "/Pg" in element:
        return element.Pg.objgen
    for kid in element.K:
        if isinstance(kid, pikepdf.Dictionary):
            found = _first_page(kid)
            if found:
                return found
    return None


def test_ihl_verify_rehashes_the_signed_file_too(app, signed):
    dossier, _unsigned, signed_bytes = signed
    path = app.extensions["ihl_store"].path_for(dossier.signed_sha256)
    path.chmod(0o640)
    path.write_bytes(signed_bytes + b"% appended\n")
    result = app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 1
    assert f"dossier {dossier.ref} (signed file): file altered" in result.output


def test_a_case_export_carries_the_signed_file(app, signed, tmp_path):
    dossier, _unsigned, signed_bytes = signed
    out = tmp_path / "bag"
    result = app.test_cli_runner().invoke(args=["export", "SG-2024-001", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "data" / "files" / dossier.sha256).is_file()
    assert (out / "data" / "files" / dossier.signed_sha256).read_bytes() == signed_bytes
