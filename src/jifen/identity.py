"""Resident identity numbers (居民身份证号码, GB 11643-1999) and the one masking module.

Validation is pure (no Django, no clock): the caller passes ``today`` when a birth date in the
future must be refused, so tests and batch jobs decide what "today" is.

Masking lives here too because there must be exactly ONE masking function per kind of datum for
every channel (pages, API, exports, publication), see shared/docs/security.md ("Publication").
Published lists never show any digit of an identity number; they show ``mask_name`` only.

Error messages never contain the number itself (PIPL): they say what is wrong, not with what.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "PROVINCE_CODES",
    "IdentityNumber",
    "InvalidIdentityNumber",
    "Reason",
    "Sex",
    "check_digit",
    "mask_identity_number",
    "mask_name",
    "mask_phone",
    "normalise_identity_number",
    "validate_identity_number",
]

LENGTH = 18
# ISO 7064 MOD 11-2 as profiled by GB 11643-1999: weight i is 2^(17-i) mod 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# First two digits of the administrative division code (GB/T 2260): the provinces,
# autonomous regions, municipalities, Taiwan (71) and Hong Kong / Macao (81, 82).
PROVINCE_CODES = frozenset(
    {
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    }
)
# Nobody alive was born before 1900; an earlier date is a typing error, not a person.
EARLIEST_BIRTH_YEAR = 1900

_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS17 = re.compile(r"[0-9]{17}")


class Reason(StrEnum):
    """Why an identity number was refused (stable codes for APIs, feeds and tests)."""

    LENGTH = "length"
    CHARACTERS = "characters"
    REGION = "region"
    BIRTH_DATE = "birth_date"
    FUTURE_BIRTH_DATE = "future_birth_date"
    CHECK_DIGIT = "check_digit"


class Sex(StrEnum):
    """Sex as encoded by the 17th digit (odd = male, even = female)."""

    MALE = "male"
    FEMALE = "female"


class InvalidIdentityNumber(ValueError):
    """An identity number was refused; ``reason`` is a :class:`Reason` code.

    The message describes the problem without repeating the number, so it is safe to log and to
    show in a feed import report.
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IdentityNumber:
    """A validated identity number and what it encodes."""

    number: str
    birth_date: dt.date
    region: str
    sex: Sex

    def __repr__(self) -> str:
        # Keep the full number out of logs and tracebacks that repr() objects.
        # str() falls back to this too, so a template cannot print the number by accident;
        # code that needs it reads ``.number`` explicitly.
        return f"IdentityNumber({mask_identity_number(self.number)!r})"


def normalise_identity_number(value: str) -> str:
    """Return ``value`` in canonical form: NFKC, stripped, a trailing ``x`` as ``X``.

    NFKC turns full-width digits and letters (common with Chinese input methods) into ASCII.
    This is the form to validate, store and feed to the blind index, so that the same number
    typed two ways is found by an exact search.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if text.endswith("x"):
        text = text[:-1] + "X"
    return text


def check_digit(first17: str) -> str:
    """The GB 11643 check character (``0``-``9`` or ``X``) for the first 17 digits."""
    if not _DIGITS17.fullmatch(first17):
        raise ValueError("check_digit needs exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def validate_identity_number(value: str, today: dt.date | None = None) -> IdentityNumber:
    """Validate an 18-character identity number and return what it encodes.

    ``value`` is normalised first (:func:`normalise_identity_number`). When ``today`` is given,
    a birth date after it is refused; when it is None that check is skipped (time is an argument,
    never read from the clock here). Raises :class:`InvalidIdentityNumber`.

    Only 18-character numbers are accepted: 15-digit first-generation numbers stopped being
    valid documents in 2013.
    """
    if not isinstance(value, str):
        raise TypeError("identity number must be a str")
    number = normalise_identity_number(value)
    if len(number) != LENGTH:
        raise InvalidIdentityNumber(
            Reason.LENGTH, f"identity number must have 18 characters, not {len(number)}"
        )
    if not _SHAPE.fullmatch(number):
        raise InvalidIdentityNumber(
            Reason.CHARACTERS,
            "identity number must be 17 digits followed by a digit or X",
        )
    if int(number[:2]) not in PROVINCE_CODES:
        raise InvalidIdentityNumber(
            Reason.REGION, "region code does not start with a valid province code"
        )
    try:
        birth_date = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth_date = None
    if birth_date is None or birth_date.year < EARLIEST_BIRTH_YEAR:
        raise InvalidIdentityNumber(Reason.BIRTH_DATE, "birth date is not a possible date")
    if today is not None and birth_date > today:
        raise InvalidIdentityNumber(Reason.FUTURE_BIRTH_DATE, "birth date is in the future")
    if check_digit(number[:17]) != number[17]:
        raise InvalidIdentityNumber(Reason.CHECK_DIGIT, "check digit does not match")
    return IdentityNumber(
        number=number,
        birth_date=birth_date,
        region=number[:6],
        sex=Sex.MALE if int(number[16]) % 2 else Sex.FEMALE,
    )


def mask_identity_number(value: str) -> str:
    """Mask an identity number for staff lists: first 3 and last 2 characters visible.

    ``330*************1X``: the first 3 digits only say the province and part of the
    prefecture (coarse origin, which helps a clerk tell two residents apart); the last 2 are
    one sequence digit and the check character (derived, so no information of its own). The
    birth date and county, which together with a name narrow a person down, are hidden; at
    most 5 characters are ever visible. Published lists show no digit at all and must not
    call this function.

    Anything that is not 18 characters after normalisation (bad legacy data) is masked
    completely rather than refused, because masking runs on display paths that must not fail.
    """
    number = normalise_identity_number(value)
    if len(number) != LENGTH:
        return "*" * len(number)
    return number[:3] + "*" * (LENGTH - 5) + number[-2:]


_NOT_PHONE_DIGIT = re.compile(r"[^0-9+]")
_CN_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1[0-9]{10}$)")


def mask_phone(value: str) -> str:
    """Mask a phone number: ``13812345678`` -> ``138****5678``.

    A mainland mobile number written with a ``+86``/``0086``/``86`` prefix or with separators
    is reduced to its 11-digit national number first, so every channel shows the same form.
    Other numbers (landlines, foreign) keep the first 3 and last 4 digits when they have at least
    11, the last 2 when they have 6 to 10, and nothing when shorter: at least 4 digits stay
    hidden in every case.
    """
    # Separators, brackets and stray letters are not part of the number; NFKC first so that
    # full-width digits count as digits.
    digits = _NOT_PHONE_DIGIT.sub("", unicodedata.normalize("NFKC", value))
    digits = _CN_PREFIX.sub("", digits).replace("+", "")
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) >= 6:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


# Characters that separate parts of a name and are not counted as characters of it:
# spaces and the middle dots used in transliterated names (阿依古丽·买买提).
_NAME_SEPARATORS = re.compile(r"[\s·・•.\-]+")


def mask_name(value: str) -> str:
    """Mask a name: the first character, then one ``*`` per remaining character.

    ``张三丰`` -> ``张**``, ``张三`` -> ``张*``, ``张`` -> ``张``, ``欧阳娜娜`` -> ``欧***``
    (compound surnames are deliberately not special-cased: the rule must be predictable and
    never show more than one character). Spaces and name separators are dropped and not
    counted, so ``John Smith`` -> ``J********``. An empty name gives ``""``.

    This is the form published lists use (security.md, "Publication").
    """
    chars = _NAME_SEPARATORS.sub("", value)
    if not chars:
        return ""
    return chars[0] + "*" * (len(chars) - 1)
