"""The Ed25519 key that signs audit checkpoints, kept in a file outside the database."""

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ihl_docs.core.file_modes import make_folder


def load_or_create_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The key in the PEM file at `path`; on first use a new key is written there (mode 0600)."""
    path = Path(path)
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    make_folder(path.parent)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _read_key(path)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    return key


def _read_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key.")
    return key


def existing_public_key(path: str | os.PathLike) -> str | None:
    """The public key (hex) of the key file at `path`, or None if there is none yet."""
    try:
        return public_key_hex(_read_key(Path(path)))
    except FileNotFoundError:
        return None


def public_key_hex(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, in hex: what RFC 8032 verifiers take."""
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw).hex()


def signature_valid(public_key: str, signature: str, message: bytes) -> bool:
    """Whether `signature` (hex) is `public_key`'s (hex) over `message`."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), message)
        return True
    except (ValueError, InvalidSignature):
        return False
