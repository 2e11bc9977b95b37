"""The dossier's signature: a PAdES signature by the instance's Ed25519 key, added to the
reproducible PDF as an incremental update, and the offline check of a signed dossier.

The reproducible revision (revision 1) stays byte for byte the PDF the builder wrote: two
builds of the same content, on two instances, give the same bytes. The signature comes after
it, in a second revision that also carries `signing.json` — when, by which instance, at which
position of the audit log — so nothing that differs between instances or over time enters the
reproducible bytes. The signing certificate is a self-signed X.509 certificate made from the
instance's key; whoever checks the file compares its key with the instance's public key
(`ihl dossier public-key`, or the audit log's page).
"""

import hashlib
import io
import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from ihl_docs.core.audit.chain import canonical_json
from ihl_docs.core.audit.signing import load_or_create_key, public_key_hex
from ihl_docs.core.audit.timestamps import failure_reason
from ihl_docs.core.errors import Conflict, DomainError

FIELD_NAME = "IHLDossierSignature"
SIGNING_RECORD = "signing.json"
SIGNING_FORMAT = "ihl_docs dossier signing 1"
TSA_TIMEOUT = 10.0


class SigningKeyUnusable(Conflict):
    """The configured signing key exists but cannot be used: nothing is queued."""

    code = "signing_key"


class TimestampFailed(DomainError):
    """No time-stamping authority answered: the dossier is not kept."""

    code = "timestamp"
    status = 503


@dataclass(frozen=True)
class DossierSigner:
    """What signing needs, taken from the configuration: the key file and the authorities."""

    key_path: str
    tsa_urls: tuple = ()
    instance: str = ""

    @classmethod
    def from_config(cls, config) -> "DossierSigner":
        return cls(key_path=str(config["SIGNING_KEY"]),
                   tsa_urls=tuple(config.get("TSA_URLS") or ()),
                   instance=config.get("INSTANCE_NAME") or socket.gethostname())


def check_signing_key(path: str) -> None:
    """Refuse a key file that exists but cannot sign (unreadable, not an Ed25519 PEM), naming the
    problem and not the key's content. A missing file is fine: it is made on first use."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SigningKeyUnusable(
            f"The signing key file {path} cannot be read ({exc.strerror or exc}), so the "
            f"dossier could not be signed. Nothing was queued; tell an administrator.") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyUnusable(
            f"The signing key file {path} does not hold an unencrypted Ed25519 private key "
            f"(PEM), so the dossier could not be signed. Nothing was queued; tell an "
            f"administrator.")


def _certificate(key: Ed25519PrivateKey, instance: str, now: datetime) -> x509.Certificate:
    """A self-signed certificate for the instance's key, naming the instance."""
    public = public_key_hex(key)
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ihl_docs"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"ihl_docs instance {instance}"[:64]),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, public[:32]),
    ])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * 30))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, None))


def _timestamper(urls: tuple):
    """pyHanko's TimeStamper asking our authorities in turn, with the standard library."""
    from asn1crypto import tsp
    from pyhanko.sign.timestamps.api import TimeStamper

    class Stamper(TimeStamper):
        failures: list = []

        async def async_request_tsa_response(self, req):
            self.failures = []
            for url in urls:
                request = urllib.request.Request(
                    url, data=req.dump(), method="POST",
                    headers={"Content-Type": "application/timestamp-query"})
                try:
                    with urllib.request.urlopen(request, timeout=TSA_TIMEOUT) as reply:  # noqa: S310
                        response = tsp.TimeStampResp.load(reply.read(1024 * 1024))
                    if response["status"]["status"].native != "granted":
                        raise ValueError("the authority did not grant a timestamp")
                    return response
                except (OSError, ValueError) as exc:
                    self.failures.append(f"{url}: {failure_reason(exc)}")
            raise OSError("; ".join(self.failures))

    return Stamper()


def sign_pdf(unsigned: bytes, signer: DossierSigner, record: dict) -> bytes:
    """`unsigned` followed by an incremental update carrying `signing.json` (`record` and the
    unsigned revision's hash) and the PAdES signature over all of it; timestamped when
    authorities are configured (TimestampFailed if none answers)."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils import embed, generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    check_signing_key(signer.key_path)
    key = load_or_create_key(signer.key_path)
    now = datetime.now(UTC)
    certificate = asn1_x509.Certificate.load(
        _certificate(key, signer.instance, now).public_bytes(serialization.Encoding.DER))
    private = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    cms_signer = signers.SimpleSigner(
        signing_cert=certificate, signing_key=private,
        cert_registry=SimpleCertificateStore.from_certs([certificate]))
    record = {"format": SIGNING_FORMAT, **record, "signed_at": now.isoformat(),
              "instance": signer.instance, "public_key": public_key_hex(key),
              "unsigned_sha256": hashlib.sha256(unsigned).hexdigest(),
              "unsigned_size": len(unsigned)}
    writer = IncrementalPdfFileWriter(io.BytesIO(unsigned))
    data = canonical_json(record).encode("utf-8")
    stream = embed.EmbeddedFileObject.from_file_data(
        writer, data=data, mime_type="application/json",
        params=embed.EmbeddedFileParams(creation_date=now, modification_date=now))
    embed.embed_file(writer, embed.FileSpec(
        file_spec_string=SIGNING_RECORD, file_name=SIGNING_RECORD, embedded_data=stream,
        description="When and by which instance the dossier was signed, and the audit log's "
                    "position then", af_relationship=generic.pdf_name("/Supplement")))
    stamper = _timestamper(signer.tsa_urls) if signer.tsa_urls else None
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha512", subfilter=fields.SigSeedSubFilter.PADES,
        reason="Case dossier as built by ihl_docs; the first revision is the reproducible one",
        name=f"ihl_docs instance {signer.instance}")
    out = io.BytesIO()
    try:
        signers.PdfSigner(metadata, cms_signer, timestamper=stamper).sign_pdf(writer, output=out)
    except Exception as exc:
        if stamper is not None and stamper.failures:
            raise TimestampFailed(
                f"The timestamp authority ({'; '.join(stamper.failures)}) did not answer; "
                f"nothing was kept. Request the dossier again later, or tell an "
                f"administrator.") from exc
        raise
    signed = out.getvalue()
    if not signed.startswith(unsigned):  # the promise everything else relies on
        raise RuntimeError("the signed file does not start with the reproducible revision")
    return signed


# --- checking a signed file, offline ----------------------------------------------------------

@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.name}: {'OK' if self.ok else 'FAILED'} - {self.detail}"


class Unreadable(Exception):
    """Not a PDF that can be read at all."""


def _first_revision_end(data: bytes) -> int | None:
    """Where the reproducible revision ends: after the %%EOF that follows the xref the last
    revision's /Prev points at (None if the file has a single revision)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    if reader.xrefs.total_revisions < 2:
        return None
    start = reader.xrefs.get_startxref_for_revision(0)
    eof = data.find(b"%%EOF", start)
    if eof < 0:
        return None
    end = eof + 5
    while end < len(data) and data[end:end + 1] in b"\r\n":
        end += 1
    return end


def _attachments(data: bytes) -> dict[str, bytes]:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}


def verify_signed(data: bytes, public_key: str | None,
                  tsa_roots: list | None = None) -> list[Check]:
    """Every check of a signed dossier, in order; Unreadable if it is not a readable PDF.
    `tsa_roots`: certificates (cryptography) a timestamp's authority must chain to; None, the
    timestamp is checked against the signature but its authority is not vouched for."""
    if not data.startswith(b"%PDF-"):
        raise Unreadable("it is not a PDF file")
    roots = tuple(c.public_bytes(serialization.Encoding.DER) for c in tsa_roots or ())
    checks = [_signature(data, public_key, roots)]
    checks.append(_timestamp_check(data, roots, tsa_roots is not None))
    try:
        files = _attachments(data)
    except Exception as exc:  # pikepdf raises its own error types for damaged files
        files = {}
        checks.append(Check("attachments", False, f"the attached files cannot be read ({exc})"))
    checks += _content_checks(files)
    checks.append(_revision_check(data, files))
    checks.append(_audit_check(files))
    return checks


_validation_cache: dict = {}


def _validate(data: bytes, tsa_roots: tuple):
    """(the embedded signature, pyHanko's status, a problem in words or None)."""
    key = (hashlib.sha256(data).digest(), tsa_roots)
    if key not in _validation_cache:
        _validation_cache.clear()
        _validation_cache[key] = _do_validate(data, tsa_roots)
    return _validation_cache[key]


def _do_validate(data: bytes, tsa_roots: tuple):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            return None, None, "the file carries no signature"
        embedded = signatures[-1]
        certificate = embedded.signer_cert
        context = ValidationContext(trust_roots=[certificate], allow_fetching=False,
                                    revocation_mode="soft-fail")
        status = validate_pdf_signature(embedded, signer_validation_context=context,
                                        ts_validation_context=ValidationContext(
                                            trust_roots=[asn1_x509.Certificate.load(root)
                                                         for root in tsa_roots],
                                            allow_fetching=False,
                                            revocation_mode="soft-fail"))
        return embedded, status, None
    except Exception as exc:  # a damaged file makes the parser fail in many ways
        return None, None, f"the signature cannot be read ({type(exc).__name__}: {exc})"


def _signature(data: bytes, public_key: str | None, tsa_roots: tuple) -> Check:
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    embedded, status, problem = _validate(data, tsa_roots)
    if problem:
        return Check("signature", False, problem)
    range_end = embedded.byte_range[2] + embedded.byte_range[3]
    if not status.intact:
        return Check("signature", False, "digest mismatch: the signed bytes were changed after "
                                         "signing")
    if not status.valid:
        return Check("signature", False, "the signature value does not verify with the "
                                         "signer's key")
    if range_end < len(data) or status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return Check("signature", False, f"the file has content after the signed revision "
                                         f"({len(data) - range_end} bytes not covered)")
    signer_key = embedded.signer_cert.public_key
    raw = bytes(signer_key["public_key"]).hex() if signer_key.algorithm == "ed25519" else ""
    subject = embedded.signer_cert.subject.human_friendly
    if public_key is None:
        return Check("signature", True,
                     f"intact, covers the whole file, signed by {subject} (key {raw}); checked "
                     f"against the key the file carries: this proves the file is consistent, "
                     f"not who made it")
    if raw != public_key.strip().lower():
        return Check("signature", False, f"signed by key {raw}, not by the key given "
                                         f"({public_key.strip().lower()})")
    return Check("signature", True, f"intact, covers the whole file, signed by the key given "
                                    f"({subject})")


def _timestamp_check(data: bytes, tsa_roots: tuple, vouch: bool) -> Check:
    embedded, status, problem = _validate(data, tsa_roots)
    if problem or status is None:
        return Check("timestamp", False, f"not checked: {problem}")
    stamp = status.timestamp_validity
    if stamp is None:
        return Check("timestamp", True, "none: the file carries no signature timestamp (no "
                                        "timestamp authority was configured when it was signed)")
    if not stamp.intact or not stamp.valid:
        return Check("timestamp", False, "the signature timestamp does not match the signature")
    authority = ""
    try:
        authority = f" by {stamp.signing_cert.subject.human_friendly}"
    except AttributeError:
        pass
    when = stamp.timestamp.isoformat()
    if not vouch:
        return Check("timestamp", True, f"valid signature timestamp {when}{authority} (the "
                                        f"authority is not vouched for: give --tsa-ca to check "
                                        f"it chains to certificates you trust)")
    if not stamp.trusted:
        return Check("timestamp", False, f"the signature timestamp {when}{authority} does not "
                                         f"chain to the certificates given with --tsa-ca")
    return Check("timestamp", True, f"valid signature timestamp {when}{authority}, chaining to "
                                    f"the certificates given")


def _content_checks(files: dict[str, bytes]) -> list[Check]:
    manifest_bytes, content_bytes = files.get("manifest.json"), files.get("content.json")
    if manifest_bytes is None:
        return [Check("manifest", False, "the file has no attached manifest.json"),
                Check("fingerprint", False, "not checked: no manifest")]
    try:
        manifest = json.loads(manifest_bytes)
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        return [Check("manifest", False, f"manifest.json does not parse ({exc})"),
                Check("fingerprint", False, "not checked: the manifest does not parse")]
    if content_bytes is None:
        return [Check("manifest", False, "the file has no attached content.json"),
                Check("fingerprint", False, "not checked: no content.json")]
    digest = hashlib.sha256(content_bytes).hexdigest()
    expected = manifest.get("case_fingerprint")
    if digest == expected:
        fingerprint = Check("fingerprint", True, f"SHA-256 of content.json is the case "
                                                 f"fingerprint {digest}")
    else:
        fingerprint = Check("fingerprint", False, f"SHA-256 of content.json is {digest}, the "
                                                  f"manifest's case fingerprint is {expected}")
    return [_manifest_check(manifest, content_bytes), fingerprint]


def _manifest_check(manifest: dict, content_bytes: bytes) -> Check:
    try:
        content = json.loads(content_bytes)
    except ValueError as exc:
        return Check("manifest", False, f"content.json does not parse ({exc})")
    problems = []
    # (prepared_by is on the cover and in the manifest only: content.json leaves it out)
    for field, value in (("case", (content.get("case") or {}).get("ref")),
                         ("audience", content.get("audience")),
                         ("withheld_count", content.get("withheld_count"))):
        if manifest.get(field) != value:
            problems.append(f"{field} differs from content.json")
    listed = [(e.get("ref"), e.get("sha256"), e.get("size")) for e in manifest.get("evidence", [])]
    shown = [(e.get("ref"), e.get("sha256"), e.get("size")) for e in content.get("evidence", [])]
    if listed != shown:
        problems.append("its evidence list (refs, SHA-256, sizes) differs from content.json")
    if manifest.get("content_file") != "content.json":
        problems.append("it names another content file")
    if problems:
        return Check("manifest", False, "; ".join(problems))
    return Check("manifest", True, f"manifest.json parses; case {manifest.get('case')}, "
                                   f"{len(listed)} evidence item(s) listed with their SHA-256 as "
                                   f"in content.json")


def _revision_check(data: bytes, files: dict[str, bytes]) -> Check:
    try:
        end = _first_revision_end(data)
    except Exception as exc:
        return Check("unsigned revision", False, f"cannot be found ({type(exc).__name__})")
    if end is None:
        return Check("unsigned revision", False, "the file has a single revision: it was not "
                                                 "signed as ihl_docs signs dossiers")
    digest = hashlib.sha256(data[:end]).hexdigest()
    record = _record(files)
    if record and record.get("unsigned_sha256") not in (None, digest):
        return Check("unsigned revision", False, f"SHA-256 {digest} ({end} bytes), but "
                                                 f"signing.json says {record['unsigned_sha256']}")
    return Check("unsigned revision", True, f"SHA-256 {digest} ({end} bytes): compare with the "
                                            f"dossier's recorded sha256")


def _record(files: dict[str, bytes]) -> dict | None:
    try:
        record = json.loads(files[SIGNING_RECORD])
        return record if isinstance(record, dict) else None
    except (KeyError, ValueError):
        return None


def _audit_check(files: dict[str, bytes]) -> Check:
    record = _record(files)
    if record is None:
        return Check("audit position", False, f"no readable {SIGNING_RECORD} in the signed "
                                              f"revision")
    return Check("audit position", True,
                 f"seq {record.get('audit_seq')}, head {record.get('audit_head')}, signed at "
                 f"{record.get('signed_at')} by instance {record.get('instance')}")
