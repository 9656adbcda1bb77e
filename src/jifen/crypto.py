"""Application-layer field encryption and blind indexes, behind one small interface.

Identity and phone numbers are stored encrypted so that a database dump reveals none of them
(shared/docs/security.md, "Data"). Everything cryptographic goes through :class:`FieldCipher`,
so a government key-management service can later replace the software keys of
:class:`SoftwareFieldCipher` without touching models or views. Pure Python plus
``cryptography``; no Django import (settings build the :class:`Keyring`).

Token format
    ``v<version>:<payload>`` where ``<version>`` is the decimal key version (no leading zero)
    and ``<payload>`` is unpadded base64url of ``nonce (12 bytes) || ciphertext || tag (16)``.
    Example: ``v2:q3J0...``. The algorithm is not written in the token: it is a property of the
    key version in the keyring, and it is bound through the associated data.

Associated data
    ``f"{table}|{row}|{field}|v{version}|{algorithm}"`` in UTF-8, e.g.
    ``residents_resident|8d1c...|identity_number|v1|AES-256-GCM``. A token copied to another
    row, field or table, or whose version label was edited, fails authentication and raises
    :class:`DecryptionError`; it never decrypts to garbage. ``row`` must be a stable identifier
    known before the first save (a UUID or public id), not an auto-increment key assigned by the
    INSERT. No component may contain ``|``, so the encoding is unambiguous.

Nonces
    96 random bits from ``os.urandom`` per encryption. Random GCM nonces stay safe up to about
    2^32 encryptions under one key; rotate the key version long before that.

Keys
    ``Keyring.from_config("1:<base64>,2:SM4-GCM:<base64>", current=2, index_key="<base64>")``:
    entries are ``version:base64`` (AES-256-GCM, 32 bytes) or ``version:ALGORITHM:base64``.
    Older versions stay in the list so old tokens still decrypt; :meth:`FieldCipher.rotate`
    re-encrypts a token under the current version. ``python -m jifen.crypto genkey`` prints a
    fresh configuration.

Blind index
    ``HMAC-SHA256(K_purpose, value)`` in hex, where ``K_purpose = HMAC-SHA256(index_key,
    "jifen.blind_index|" + purpose)``: a separate key from the encryption keys, and a
    different key per purpose, so an identity-number index cannot be joined with a phone
    index. Never an unkeyed hash: an identity number has only about 2^37 plausible values.
    The index key is not versioned; changing it means recomputing every index. Callers
    normalise first (``jifen.identity.normalise_identity_number``).

SM4
    ``algorithms.SM4`` with GCM (RFC 8998) works in this environment's ``cryptography`` and
    OpenSSL build, checked at run time by :func:`sm4_gcm_available`; key versions can use
    ``SM4-GCM`` (16-byte keys). Where OpenSSL lacks SM4, configuring an SM4 key raises
    :class:`UnsupportedAlgorithm` at start-up instead of failing on first use. Ciphertext
    lengths are not padded: identity and phone numbers have fixed lengths anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.exceptions import UnsupportedAlgorithm as _OpenSSLUnsupported
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "Algorithm",
    "CryptoError",
    "DecryptionError",
    "EncryptionKey",
    "FieldCipher",
    "KeyConfigError",
    "Keyring",
    "SoftwareFieldCipher",
    "UnsupportedAlgorithm",
    "associated_data",
    "generate_key",
    "sm4_gcm_available",
    "token_version",
]

NONCE_SIZE = 12
TAG_SIZE = 16
INDEX_KEY_MIN_SIZE = 32
_INDEX_DOMAIN = b"jifen.blind_index|"


class Algorithm(StrEnum):
    """AEAD algorithms a key version may use."""

    AES_256_GCM = "AES-256-GCM"
    SM4_GCM = "SM4-GCM"

    @property
    def key_size(self) -> int:
        """Key length in bytes."""
        return 32 if self is Algorithm.AES_256_GCM else 16


class CryptoError(Exception):
    """Base class of the errors raised by this module."""


class KeyConfigError(CryptoError, ValueError):
    """The key configuration is malformed; the message names the key and the reason."""


class UnsupportedAlgorithm(KeyConfigError):
    """A key asks for an algorithm unknown here or missing from this OpenSSL build."""


class DecryptionError(CryptoError):
    """A token is malformed, uses an unknown key version, or fails authentication."""


@cache
def sm4_gcm_available() -> bool:
    """Whether SM4-GCM works with the installed ``cryptography`` and OpenSSL (checked once)."""
    try:
        key, nonce = bytes(16), bytes(NONCE_SIZE)
        sealed = _sm4_seal(key, nonce, b"probe", b"probe")
        return _sm4_open(key, nonce, b"probe", sealed) == b"probe"
    except (_OpenSSLUnsupported, AttributeError, ValueError, InvalidTag):
        return False


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    """One versioned encryption key. ``repr`` never shows the secret."""

    version: int
    algorithm: Algorithm
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        name = f"encryption key v{self.version}"
        if isinstance(self.version, bool) or not isinstance(self.version, int):
            raise KeyConfigError(f"{name}: version must be an integer")
        if self.version < 1:
            raise KeyConfigError(f"{name}: version must be 1 or more")
        try:
            object.__setattr__(self, "algorithm", Algorithm(self.algorithm))
        except ValueError:
            raise UnsupportedAlgorithm(f"{name}: unknown algorithm") from None
        if not isinstance(self.secret, bytes):
            raise KeyConfigError(f"{name}: secret must be bytes")
        if self.algorithm is Algorithm.SM4_GCM and not sm4_gcm_available():
            raise UnsupportedAlgorithm(f"{name}: SM4-GCM is not available in this OpenSSL build")
        if len(self.secret) != self.algorithm.key_size:
            raise KeyConfigError(
                f"{name}: {self.algorithm} needs a {self.algorithm.key_size}-byte key,"
                f" got {len(self.secret)} bytes"
            )


@dataclass(frozen=True, slots=True, eq=False)
class Keyring:
    """Versioned encryption keys (one of them current) and a separate blind-index key."""

    keys: Mapping[int, EncryptionKey]
    current: int
    index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigError("encryption keys: at least one key is needed")
        for version, key in self.keys.items():
            if key.version != version:
                raise KeyConfigError(f"encryption key v{version}: listed under another version")
        if self.current not in self.keys:
            raise KeyConfigError(
                f"current key version {self.current} is not among the encryption keys"
                f" (have {', '.join(f'v{v}' for v in sorted(self.keys))})"
            )
        seen: dict[bytes, int] = {}
        for version in sorted(self.keys):
            secret = self.keys[version].secret
            if secret in seen:
                raise KeyConfigError(
                    f"encryption key v{version}: same key as v{seen[secret]} (a rotation must"
                    " use a new key)"
                )
            seen[secret] = version
        if len(self.index_key) < INDEX_KEY_MIN_SIZE:
            raise KeyConfigError(
                f"index key: needs at least {INDEX_KEY_MIN_SIZE} bytes, got {len(self.index_key)}"
            )
        for version, key in self.keys.items():
            if hmac.compare_digest(key.secret, self.index_key):
                raise KeyConfigError(
                    f"index key: equal to encryption key v{version}; it must be a separate key"
                )
        # Read-only view, so a keyring cannot be changed after validation.
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    @classmethod
    def from_config(cls, enc_keys: str, current: int, index_key: str) -> Keyring:
        """Build a keyring from settings strings.

        ``enc_keys`` is a comma-separated list of ``version:base64`` (AES-256-GCM) or
        ``version:ALGORITHM:base64`` entries; ``current`` is the version new tokens use;
        ``index_key`` is standard base64 of at least 32 bytes. Raises :class:`KeyConfigError`
        naming the offending key and the reason; key material never appears in a message.
        """
        if isinstance(current, bool) or not isinstance(current, int):
            raise KeyConfigError("current key version must be an integer")
        keys: dict[int, EncryptionKey] = {}
        entries = [entry.strip() for entry in enc_keys.split(",")] if enc_keys.strip() else []
        for position, entry in enumerate(entries, start=1):
            key = _parse_entry(entry, position)
            if key.version in keys:
                raise KeyConfigError(f"encryption key v{key.version}: version listed twice")
            keys[key.version] = key
        return cls(keys=keys, current=current, index_key=_b64decode_key(index_key, "index key"))

    @property
    def current_key(self) -> EncryptionKey:
        """The key new tokens are encrypted with."""
        return self.keys[self.current]


_ENTRY = re.compile(r"(?P<version>[^:]*):(?:(?P<algorithm>[^:]*):)?(?P<secret>[^:]*)")


def _parse_entry(entry: str, position: int) -> EncryptionKey:
    match = _ENTRY.fullmatch(entry)
    if not match:
        raise KeyConfigError(
            f"encryption key #{position}: expected 'version:base64' or 'version:ALGORITHM:base64'"
        )
    raw_version = match["version"].strip()
    if not re.fullmatch(r"[1-9][0-9]{0,8}", raw_version):
        raise KeyConfigError(f"encryption key #{position}: version must be a positive integer")
    version = int(raw_version)
    name = f"encryption key v{version}"
    try:
        algorithm = Algorithm((match["algorithm"] or Algorithm.AES_256_GCM).strip().upper())
    except ValueError:
        raise UnsupportedAlgorithm(
            f"{name}: unknown algorithm (use {', '.join(a.value for a in Algorithm)})"
        ) from None
    return EncryptionKey(version, algorithm, _b64decode_key(match["secret"], name))


def _b64decode_key(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{name}: not valid base64") from None


def associated_data(table: str, row: str, field: str, version: int, algorithm: Algorithm) -> bytes:
    """The associated data binding a token to its place and key version (see module doc)."""
    for name, part in (("table", table), ("row", row), ("field", field)):
        if not isinstance(part, str) or not part or "|" in part:
            raise ValueError(f"{name} must be a non-empty str without '|'")
    return f"{table}|{row}|{field}|v{version}|{algorithm.value}".encode()


_TOKEN = re.compile(r"v([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)")


def _parse_token(token: str) -> tuple[int, bytes]:
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if not match:
        raise DecryptionError("token is malformed")
    payload = match[2]
    try:
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionError("token payload is not base64url") from None
    # Only the canonical encoding is accepted, so no two tokens decrypt to the same value by
    # playing with the spare bits of the last base64 character.
    if _b64url(data) != payload or len(data) < NONCE_SIZE + TAG_SIZE:
        raise DecryptionError("token payload is malformed")
    return int(match[1]), data


def token_version(token: str) -> int:
    """The key version a token claims (raises :class:`DecryptionError` when malformed)."""
    return _parse_token(token)[0]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sm4_seal(key: bytes, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _sm4_open(key: bytes, nonce: bytes, aad: bytes, sealed: bytes) -> bytes:
    ciphertext, tag = sealed[:-TAG_SIZE], sealed[-TAG_SIZE:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(ciphertext) + decryptor.finalize()


@runtime_checkable
class FieldCipher(Protocol):
    """The one interface models and services use for field encryption and exact search."""

    def encrypt(self, plaintext: str, *, table: str, row: str, field: str) -> str:
        """Encrypt ``plaintext`` for this table/row/field under the current key version."""
        ...

    def decrypt(self, token: str, *, table: str, row: str, field: str) -> str:
        """Decrypt a token made for this table/row/field; :class:`DecryptionError` otherwise."""
        ...

    def rotate(self, token: str, *, table: str, row: str, field: str) -> str:
        """Re-encrypt a token under the current key version."""
        ...

    def needs_rotation(self, token: str) -> bool:
        """Whether a token was made with a key version other than the current one."""
        ...

    def blind_index(self, value: str, *, purpose: str) -> str:
        """Deterministic keyed index of a normalised value, separated by purpose."""
        ...


_PURPOSE = re.compile(r"[a-z][a-z0-9_.]*")


class SoftwareFieldCipher:
    """:class:`FieldCipher` with software keys from a :class:`Keyring`."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._index_keys: dict[str, bytes] = {}
        # Building an AESGCM context costs as much as one encryption; bulk loads reuse it.
        self._aesgcm: dict[int, AESGCM] = {}

    def __repr__(self) -> str:
        return f"SoftwareFieldCipher(current=v{self.keyring.current})"

    def encrypt(self, plaintext: str, *, table: str, row: str, field: str) -> str:
        """Encrypt under the current key version; see the module doc for the token format."""
        if not isinstance(plaintext, str):
            raise TypeError("plaintext must be a str")
        key = self.keyring.current_key
        aad = associated_data(table, row, field, key.version, key.algorithm)
        nonce = os.urandom(NONCE_SIZE)
        sealed = self._seal(key, nonce, aad, plaintext.encode("utf-8"))
        return f"v{key.version}:{_b64url(nonce + sealed)}"

    def decrypt(self, token: str, *, table: str, row: str, field: str) -> str:
        """Decrypt with whichever known key version the token names."""
        version, data = _parse_token(token)
        key = self.keyring.keys.get(version)
        if key is None:
            raise DecryptionError(f"{table}.{field}: unknown key version v{version}")
        aad = associated_data(table, row, field, version, key.algorithm)
        try:
            plaintext = self._open(key, data[:NONCE_SIZE], aad, data[NONCE_SIZE:])
        except InvalidTag:
            raise DecryptionError(
                f"{table}.{field}: token does not authenticate for this row, field and key"
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:  # only reachable if a key was misused outside this module
            raise DecryptionError(f"{table}.{field}: plaintext is not UTF-8") from None

    def rotate(self, token: str, *, table: str, row: str, field: str) -> str:
        """Re-encrypt under the current key version (always with a fresh nonce)."""
        plaintext = self.decrypt(token, table=table, row=row, field=field)
        return self.encrypt(plaintext, table=table, row=row, field=field)

    def needs_rotation(self, token: str) -> bool:
        """Whether ``token`` uses a key version other than the current one."""
        return token_version(token) != self.keyring.current

    def _aes(self, key: EncryptionKey) -> AESGCM:
        aead = self._aesgcm.get(key.version)
        if aead is None:
            aead = self._aesgcm[key.version] = AESGCM(key.secret)
        return aead

    def _seal(self, key: EncryptionKey, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        """AEAD-encrypt; returns ciphertext || tag."""
        if key.algorithm is Algorithm.AES_256_GCM:
            return self._aes(key).encrypt(nonce, plaintext, aad)
        return _sm4_seal(key.secret, nonce, aad, plaintext)

    def _open(self, key: EncryptionKey, nonce: bytes, aad: bytes, sealed: bytes) -> bytes:
        """AEAD-decrypt ciphertext || tag; raises ``InvalidTag`` when authentication fails."""
        if key.algorithm is Algorithm.AES_256_GCM:
            return self._aes(key).decrypt(nonce, sealed, aad)
        return _sm4_open(key.secret, nonce, aad, sealed)

    def blind_index(self, value: str, *, purpose: str) -> str:
        """HMAC-SHA256 of ``value`` under a per-purpose key derived from the index key, hex."""
        if not isinstance(value, str) or not value:
            raise ValueError("blind_index needs a non-empty str")
        key = self._index_keys.get(purpose)
        if key is None:
            if not _PURPOSE.fullmatch(purpose):
                raise ValueError("purpose must be a lower-case identifier such as 'phone'")
            key = hmac.new(
                self.keyring.index_key, _INDEX_DOMAIN + purpose.encode(), hashlib.sha256
            ).digest()
            self._index_keys[purpose] = key
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def generate_key(algorithm: Algorithm | str = Algorithm.AES_256_GCM) -> str:
    """Standard base64 of a fresh random key (32 bytes for AES-256-GCM and the index key)."""
    return base64.b64encode(os.urandom(Algorithm(algorithm).key_size)).decode("ascii")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m jifen.crypto genkey [--version N] [--algorithm SM4-GCM]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m jifen.crypto")
    commands = parser.add_subparsers(dest="command", required=True)
    genkey = commands.add_parser("genkey", help="print a fresh key configuration")
    genkey.add_argument("--version", type=int, default=1, help="key version (default 1)")
    genkey.add_argument(
        "--algorithm",
        choices=[a.value for a in Algorithm],
        default=Algorithm.AES_256_GCM.value,
    )
    args = parser.parse_args(argv)
    algorithm = Algorithm(args.algorithm)
    if args.version < 1:
        parser.error("--version must be 1 or more")
    prefix = (
        f"{args.version}:" if algorithm is Algorithm.AES_256_GCM else f"{args.version}:{algorithm}:"
    )
    print("# When rotating, append the new entry to the existing JIFEN_FIELD_KEYS list and keep")
    print("# JIFEN_INDEX_KEY: a new index key means recomputing every blind index.")
    print(f"JIFEN_FIELD_KEYS={prefix}{generate_key(algorithm)}")
    print(f"JIFEN_FIELD_KEY_CURRENT={args.version}")
    print(f"JIFEN_INDEX_KEY={generate_key()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
