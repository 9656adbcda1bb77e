"""Personal data at rest: the one place where the platform's field cipher is built.

Identity, permit and phone numbers are stored as AEAD tokens bound to table, row, field and
key version, with an HMAC blind index (separate key) for exact search. See jifen.crypto.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from jifen.crypto import FieldCipher, Keyring, SoftwareFieldCipher
from jifen.identity import normalise_identity_number


@cache
def field_cipher() -> FieldCipher:
    """The process-wide cipher from settings (a key service can replace it here)."""
    keyring = Keyring.from_config(
        settings.JIFEN_FIELD_KEYS, settings.JIFEN_FIELD_KEY_CURRENT, settings.JIFEN_INDEX_KEY
    )
    return SoftwareFieldCipher(keyring)


def identity_index(number: str) -> str:
    """Blind index of an identity number, for exact look-up."""
    return field_cipher().blind_index(normalise_identity_number(number), purpose="identity_number")


def permit_index(number: str) -> str:
    """Blind index of a residence permit number."""
    return field_cipher().blind_index(number.strip().upper(), purpose="permit_number")


def phone_index(number: str) -> str:
    """Blind index of a phone number (digits only)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return field_cipher().blind_index(digits[-11:], purpose="phone")
