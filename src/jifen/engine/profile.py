"""The score profile (version 1): the facts about one resident that the engine scores.

Format: ``shared/docs/score-profile.md``. Parsing checks the structure (keys, types, dates,
quantities); codes and levels are checked against the policy in force by :func:`evaluate`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jifen.engine.errors import ProfileError

PROFILE_KEYS = frozenset(
    {
        "birth_date",
        "education",
        "skills",
        "social_insurance_months",
        "residence_registered_on",
        "residence_months",
        "city",
        "deductions",
    }
)
CITY_FACT_KEYS = frozenset({"rule", "level", "quantity", "date", "source"})
DEDUCTION_FACT_KEYS = frozenset({"rule", "act", "date", "until", "source"})
#: No month count, hour count or yuan amount in a real profile comes near this; refusing
#: larger numbers keeps every computation inside exact decimal precision.
MAX_QUANTITY = 10**12
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class CityFact:
    """A city bonus fact: ``rule`` is ``item.rule`` (``charity.blood_donation``)."""

    index: int
    rule: str
    level: str | None = None
    quantity: Decimal | None = None
    date: dt.date | None = None
    source: str | None = None

    @property
    def ref(self) -> str:
        return f"city[{self.index}]"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ref": self.ref, "rule": self.rule}
        if self.level is not None:
            out["level"] = self.level
        if self.quantity is not None:
            out["quantity"] = str(self.quantity)
        if self.date is not None:
            out["date"] = self.date.isoformat()
        if self.source is not None:
            out["source"] = self.source
        return out


@dataclass(frozen=True, slots=True)
class DeductionFact:
    """A deduction fact; facts sharing ``act`` describe one act (the highest counts)."""

    index: int
    rule: str
    date: dt.date
    act: str | None = None
    until: dt.date | None = None
    source: str | None = None

    @property
    def ref(self) -> str:
        return f"deductions[{self.index}]"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ref": self.ref, "rule": self.rule, "date": self.date.isoformat()}
        if self.act is not None:
            out["act"] = self.act
        if self.until is not None:
            out["until"] = self.until.isoformat()
        if self.source is not None:
            out["source"] = self.source
        return out


@dataclass(frozen=True, slots=True)
class Profile:
    """One resident's facts. ``None`` means the feed has no data (scores 0, explained)."""

    birth_date: dt.date | None = None
    education: str | None = None
    skills: tuple[str, ...] = ()
    social_insurance_months: int | None = None
    residence_registered_on: dt.date | None = None
    residence_months: int | None = None
    city: tuple[CityFact, ...] = ()
    deductions: tuple[DeductionFact, ...] = ()


def is_iso_date(text: str) -> bool:
    """True for the one accepted spelling of a date, ``YYYY-MM-DD`` (not ``20250601``)."""
    return bool(_ISO_DATE.match(text))


def parse_date(value: Any, field: str) -> dt.date:
    """An ISO date (``YYYY-MM-DD``) or a ``date``; anything else names the field."""
    if isinstance(value, dt.datetime):
        raise ProfileError(field, "must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ProfileError(field, f"must be a date written YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ProfileError(field, f"impossible date {value!r}") from None


def parse_quantity(value: Any, field: str, whole: bool = False) -> Decimal:
    """A number ≥ 0 (int, Decimal or a finite float); ``whole`` requires an integer."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ProfileError(field, f"must be a number, got {value!r}")
    try:
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidOperation
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise ProfileError(field, f"must be a finite number, got {value!r}") from None
    if number < 0:
        raise ProfileError(field, f"must not be negative, got {value}")
    if number > MAX_QUANTITY:
        raise ProfileError(field, f"is implausibly large (more than {MAX_QUANTITY:,})")
    if whole and number != number.to_integral_value():
        raise ProfileError(field, f"must be a whole number, got {value}")
    return number


def _optional_str(data: Mapping[str, Any], key: str, field: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ProfileError(f"{field}.{key}", f"must be a non-empty string, got {value!r}")
    return value


def _check_keys(data: Any, allowed: frozenset[str], field: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProfileError(field or "profile", "must be an object")
    for key in data:
        if key not in allowed:
            raise ProfileError(f"{field}.{key}" if field else str(key), "unknown key")
    return data


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProfileError(key, "must be a list")
    return value


def parse_profile(data: Any) -> Profile:
    """Build a :class:`Profile` from its JSON form, refusing anything malformed."""
    _check_keys(data, PROFILE_KEYS, "")
    birth = data.get("birth_date")
    registered = data.get("residence_registered_on")
    education = data.get("education")
    if education is not None and (not isinstance(education, str) or not education):
        raise ProfileError("education", f"must be an education code or null, got {education!r}")
    skills = []
    for i, code in enumerate(_list(data, "skills")):
        if not isinstance(code, str) or not code:
            raise ProfileError(f"skills[{i}]", f"must be a skill code, got {code!r}")
        skills.append(code)
    insurance = data.get("social_insurance_months")
    months = data.get("residence_months")

    city = []
    for i, raw in enumerate(_list(data, "city")):
        field = f"city[{i}]"
        _check_keys(raw, CITY_FACT_KEYS, field)
        rule = raw.get("rule")
        if not isinstance(rule, str) or not rule:
            raise ProfileError(f"{field}.rule", "missing (an item.rule code)")
        level = raw.get("level")
        if level is not None and (not isinstance(level, str) or not level):
            raise ProfileError(f"{field}.level", f"must be a level code, got {level!r}")
        quantity = raw.get("quantity")
        date = raw.get("date")
        city.append(
            CityFact(
                index=i,
                rule=rule,
                level=level,
                quantity=None
                if quantity is None
                else parse_quantity(quantity, f"{field}.quantity"),
                date=None if date is None else parse_date(date, f"{field}.date"),
                source=_optional_str(raw, "source", field),
            )
        )

    deductions = []
    for i, raw in enumerate(_list(data, "deductions")):
        field = f"deductions[{i}]"
        _check_keys(raw, DEDUCTION_FACT_KEYS, field)
        rule = raw.get("rule")
        if not isinstance(rule, str) or not rule:
            raise ProfileError(f"{field}.rule", "missing (a deduction code)")
        if raw.get("date") is None:
            raise ProfileError(f"{field}.date", "missing (when the act happened or was listed)")
        act = raw.get("act")
        if act is not None and (
            not isinstance(act, str | int) or isinstance(act, bool) or act == ""
        ):
            raise ProfileError(f"{field}.act", f"must be an act identifier, got {act!r}")
        date = parse_date(raw["date"], f"{field}.date")
        until = None if raw.get("until") is None else parse_date(raw["until"], f"{field}.until")
        if until is not None and until < date:
            raise ProfileError(f"{field}.until", "is before the listing date")
        deductions.append(
            DeductionFact(
                index=i,
                rule=rule,
                date=date,
                act=None if act is None else str(act),
                until=until,
                source=_optional_str(raw, "source", field),
            )
        )

    return Profile(
        birth_date=None if birth is None else parse_date(birth, "birth_date"),
        education=education,
        skills=tuple(skills),
        social_insurance_months=None
        if insurance is None
        else int(parse_quantity(insurance, "social_insurance_months", whole=True)),
        residence_registered_on=None
        if registered is None
        else parse_date(registered, "residence_registered_on"),
        residence_months=None
        if months is None
        else int(parse_quantity(months, "residence_months", whole=True)),
        city=tuple(city),
        deductions=tuple(deductions),
    )
