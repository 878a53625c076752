"""Signed heads: Ed25519 keys, with the ``cryptography`` package (the ``signing`` extra).

With ``$LEDGER_SIGNING_KEY`` naming a private key, every append signs its new head, in
the transaction that records it; ``ledger verify`` checks the signatures with the public
keys of ``$LEDGER_VERIFY_KEYS`` (a keyring: one public key per line, so that old keys
still verify the heads they signed after a rotation). A rewrite of the log then needs the
private key: recomputing the chain is no longer enough.

Key files:

- a private key is PEM (PKCS #8), as ``ledger key new`` or ``openssl genpkey -algorithm
  ed25519`` writes it;
- a keyring line is the raw public key in hexadecimal (64 characters), then anything
  (a comment); blank lines and lines starting with ``#`` are skipped. A key's id is the
  first 16 hex digits of the SHA-256 of its raw public key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ledger.domain.heads import Head, SignedHead
from ledger.errors import InputError, MissingExtra

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

SIGNING_KEY_ENV = "LEDGER_SIGNING_KEY"
VERIFY_KEYS_ENV = "LEDGER_VERIFY_KEYS"


def _ed25519() -> type[Ed25519PrivateKey]:
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError:
        raise MissingExtra(
            "signed heads need the cryptography package: pip install 'contract-ledger[signing]'"
        ) from None
    return Ed25519PrivateKey


def _raw(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """A public key's id: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


@attrs.frozen
class Signer:
    """A private key that signs heads."""

    key: Ed25519PrivateKey
    id: str

    def sign(self, head: Head) -> SignedHead:
        """The signature of ``head``."""
        signature = self.key.sign(head.message()).hex()
        return SignedHead(head.version, head.digest, head.recorded_at, self.id, signature)

    @property
    def public_hex(self) -> str:
        """The public key, as a keyring line holds it."""
        return _raw(self.key.public_key()).hex()


@attrs.frozen
class Keyring:
    """Public keys by id."""

    keys: dict[str, Ed25519PublicKey]

    def verify(self, head: Head, signed: SignedHead) -> str | None:
        """Why ``signed`` is not a valid signature of ``head``, or ``None`` if it is."""
        from cryptography.exceptions import InvalidSignature

        key = self.keys.get(signed.key_id)
        if key is None:
            return f"it was signed with key {signed.key_id}, which the keyring lacks"
        try:
            key.verify(bytes.fromhex(signed.signature), head.message())
        except (InvalidSignature, ValueError):
            return f"its signature does not verify with key {signed.key_id}"
        return None


def load_signer(path: str | os.PathLike[str]) -> Signer:
    """The private key in a PEM file."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    ed25519 = _ed25519()
    try:
        key = load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as error:
        raise InputError(f"cannot read the signing key {path}: {error.strerror}") from None
    except ValueError as error:
        raise InputError(f"{path}: expected an Ed25519 private key in PEM, got: {error}") from None
    if not isinstance(key, ed25519):
        raise InputError(f"{path}: expected an Ed25519 private key, got {type(key).__name__}")
    return Signer(key, key_id(_raw(key.public_key())))


def load_keyring(lines: Iterable[str], where: str) -> Keyring:
    """Public keys, one per line (see the module's docstring)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    _ed25519()
    keys: dict[str, Ed25519PublicKey] = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        word = text.split()[0]
        try:
            raw = bytes.fromhex(word)
            public = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise InputError(
                f"{where}: line {number}: expected an Ed25519 public key in hex (64 digits), "
                f"got {word[:70]!r}"
            ) from None
        keys[key_id(raw)] = public
    return Keyring(keys)


def read_keyring(path: str | os.PathLike[str]) -> Keyring:
    """The keyring in a file."""
    try:
        text = Path(path).read_text("utf-8")
    except OSError as error:
        raise InputError(f"cannot read the keyring {path}: {error.strerror}") from None
    return load_keyring(text.splitlines(), str(path))


def new_key(path: str | os.PathLike[str]) -> Signer:
    """A new private key, written to ``path`` (readable by its owner only); refused if
    the file exists."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    key = _ed25519().generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"{path} exists: a key is never overwritten") from None
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    return Signer(key, key_id(_raw(key.public_key())))
