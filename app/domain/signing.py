"""Ed25519 signing of audit hashes and checkpoints; the private key never enters MongoDB."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)


class SigningKeyError(ValueError):
    """A key file or text is not an Ed25519 key."""


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: hex SHA-256 of its raw bytes, 16 digits."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), what auditors pin."""
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(text: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SigningKeyError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("the public key is not an Ed25519 key")
    return key


def load_public_pems(text: str) -> list[Ed25519PublicKey]:
    """Every public key in a PEM bundle (one or more BEGIN/END PUBLIC KEY blocks)."""
    marker = "-----END PUBLIC KEY-----"
    blocks = [b + marker for b in text.split(marker) if "-----BEGIN PUBLIC KEY-----" in b]
    if not blocks:
        raise SigningKeyError("no PEM public key found")
    return [load_public_pem(block.strip() + "\n") for block in blocks]


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs with a private key held by this process only."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode("ascii")

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, text: bytes) -> Signer:
        try:
            key = serialization.load_pem_private_key(text, password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError("the private key is not an Ed25519 key")
        return cls(key)

    def private_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def verify(public: Ed25519PublicKey, signature: str, message: bytes) -> bool:
    """True when `signature` (base64) is `public`'s signature of `message`."""
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
