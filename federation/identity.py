"""A node's Ed25519 signing keys: create, save (mode 0600), load, key ids and fingerprints.

Key id: base64url (no padding) of the first 16 bytes of sha-256 over the 32-byte raw public key,
so it is derived from the key itself and a peer can recompute it from the published key.
Fingerprint: the full sha-256 of the raw public key as uppercase hex in 4-character groups, for
operators to compare out of band (phone, letter) before they activate a peer.
Private keys are PKCS#8 PEM files that only the owner can read; they are never served.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_KEY_MODE = 0o600


class KeyFileError(Exception):
    """A private key file is missing, unreadable, of the wrong type or too widely readable."""


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """base64url of the first 16 bytes of sha-256(raw public key), without padding."""
    digest = hashlib.sha256(raw_public_key(public_key)).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """sha-256 of the raw public key, hex in groups of 4, e.g. ``3F2A 09C1 ...``."""
    hexed = hashlib.sha256(raw_public_key(public_key)).hexdigest().upper()
    return " ".join(hexed[i : i + 4] for i in range(0, len(hexed), 4))


def encode_public_key(public_key: Ed25519PublicKey) -> str:
    """base64url (no padding) of the raw public key, as published in the node document."""
    return base64.urlsafe_b64encode(raw_public_key(public_key)).rstrip(b"=").decode("ascii")


def decode_public_key(encoded: str) -> Ed25519PublicKey:
    """Inverse of encode_public_key; raises ValueError on anything but 32 raw key bytes."""
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class SigningKey:
    """A private key with the key id peers know it by."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())


def save_private_key(path: Path, key: SigningKey) -> None:
    """Write the key as PKCS#8 PEM with mode 0600, atomically, refusing to overwrite.

    The temporary file is created 0600 (mkstemp) so the key is never readable by others,
    and renamed into place so a crash leaves no half-written key.
    """
    if path.exists():
        raise KeyFileError(f"{path} exists; move it away first, keys are never overwritten")
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), PRIVATE_KEY_MODE)
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # fails if path appeared meanwhile, unlike rename
    finally:
        os.unlink(tmp)


def load_private_key(path: Path) -> SigningKey:
    """Read a key written by save_private_key; refuse files others can read or write."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from exc
    if mode & 0o077:
        raise KeyFileError(f"{path} has mode {mode:o}; run `chmod 600 {path}`")
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise KeyFileError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return SigningKey(private_key)


def load_or_create_private_key(path: Path) -> SigningKey:
    """Load the key at ``path``, generating and saving a new one the first time."""
    if path.exists():
        return load_private_key(path)
    key = SigningKey.generate()
    save_private_key(path, key)
    return key


@dataclass(frozen=True)
class NodeKeys:
    """The key a node signs with now and the one it will rotate to, both published."""

    current: SigningKey
    next: SigningKey


def load_or_create_node_keys(directory: Path) -> NodeKeys:
    """Keys live in ``directory`` as current.key and next.key (each 0600)."""
    return NodeKeys(
        current=load_or_create_private_key(directory / "current.key"),
        next=load_or_create_private_key(directory / "next.key"),
    )
