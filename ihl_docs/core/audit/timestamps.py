"""RFC 3161 timestamps of signed checkpoints: asked of a time-stamping authority (TSA) when a
checkpoint is signed, and checked by verification.

A token is the TSA's whole reply (DER, kept base64): a time and the SHA-256 of the checkpoint's
signed message, signed by the TSA. It shows that the checkpoint existed at that time, which
neither the database's holders nor the signing key's can back-date.
"""

import base64
import binascii
import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

QUERY_TYPE = "application/timestamp-query"
REPLY_LIMIT = 1024 * 1024  # a reply is a few KiB; more is not a reply
DIGESTS = {"2.16.840.1.101.3.4.2.1": hashlib.sha256, "2.16.840.1.101.3.4.2.2": hashlib.sha384,
           "2.16.840.1.101.3.4.2.3": hashlib.sha512}


class TimestampUnavailable(Exception):
    """No authority gave a valid token; the message says why, authority by authority."""


def trusted_certificates(ca_file: str) -> list[x509.Certificate]:
    """The certificates (PEM) a token must chain to; OSError or ValueError if unreadable."""
    certificates = list(dict.fromkeys(x509.load_pem_x509_certificates(
        Path(ca_file).read_bytes())))
    if not certificates:
        raise ValueError(f"{ca_file} holds no certificate")
    return certificates


def request_timestamp(urls: list[str], message: bytes, ca_file: str | None,
                      timeout: float = 10.0) -> str:
    """A token over `message` from the first authority in `urls` that gives a valid one (its
    reply checked against the request's nonce and `ca_file`), base64; TimestampUnavailable if
    none does."""
    failures = []
    for url in urls:
        request = (TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256)
                   .nonce(nonce=True).cert_request(cert_request=True).build())
        try:
            reply = _post(url, request.as_bytes(), timeout)
            response = decode_timestamp_response(reply)
            verifier = VerifierBuilder.from_request(request)
            for certificate in trusted_certificates(ca_file) if ca_file else []:
                verifier = verifier.add_root_certificate(certificate)
            if ca_file:
                verifier.build().verify_message(response, message)
            return base64.b64encode(reply).decode("ascii")
        except (OSError, ValueError, VerificationError) as exc:
            failures.append(f"{url}: {failure_reason(exc)}")
    raise TimestampUnavailable("; ".join(failures) or "no time-stamping authority configured")


def _post(url: str, body: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": QUERY_TYPE})
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (http(s) only)
        data = reply.read(REPLY_LIMIT + 1)
    if len(data) > REPLY_LIMIT:
        raise ValueError("the reply is too large to be a timestamp")
    return data


def failure_reason(exc: Exception) -> str:
    """Why a request to an authority or a witness failed, or a value did not read, in words."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return f"unreachable ({exc.reason})"
    return str(exc) or type(exc).__name__


def token_problem(token: str, message: bytes, trusted: list[x509.Certificate] | None) -> str | None:
    """Why `token` does not vouch for `message` (None if it does): not a granted reply, another
    message imprint, or — given `trusted` certificates — not signed by a TSA chaining to them.
    Without `trusted`, only the imprint is checked."""
    try:
        response = decode_timestamp_response(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError) as exc:
        return f"the timestamp token cannot be read ({failure_reason(exc)})"
    if response.status != 0:
        return "the timestamp token is not a granted timestamp"
    imprint = response.tst_info.message_imprint
    digest = DIGESTS.get(imprint.hash_algorithm.dotted_string)
    if digest is None or imprint.message != digest(message).digest():
        return "the timestamp token is over another message"
    if trusted:
        verifier = VerifierBuilder()
        for certificate in trusted:
            verifier = verifier.add_root_certificate(certificate)
        try:
            verifier.build().verify_message(response, message)
        except VerificationError as exc:
            return f"the timestamp token is not signed by a trusted authority ({exc})"
    return None


def token_time(token: str) -> str | None:
    """When the authority says it saw the message (ISO 8601), or None if unreadable."""
    try:
        response = decode_timestamp_response(base64.b64decode(token, validate=True))
        return response.tst_info.gen_time.isoformat()
    except (binascii.Error, ValueError):
        return None
