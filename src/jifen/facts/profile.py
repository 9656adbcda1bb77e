"""Stored facts → a score profile (format v1, ``shared/docs/score-profile.md``).

The profile is built from rows only (no engine import), in a fixed order (fact id), so that
the same facts always give the same profile and therefore the same explanation: a stored score
can be reproduced from its fact ids. Every city fact and deduction carries ``source``
``fact:<id>``, which the explanation quotes.

The function reads attributes only (``id``, ``kind``, ``code``, ``level``, ``quantity``,
``date``, ``until``, ``act``, and ``superseded_at`` when present), so it accepts ``Fact``
instances as well as the named rows of ``Fact.objects.current().values_list(
*PROFILE_COLUMNS, named=True)``, which the bulk recompute uses to avoid building model
instances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

from jifen.facts.models import FactKind

#: The columns build_profile reads (for ``values_list(..., named=True)`` of current facts).
PROFILE_COLUMNS = ("id", "resident_id", "kind", "code", "level", "quantity", "date", "until", "act")

#: Provincial profile fields and where a fact keeps the value.
DATE_FIELDS = frozenset({"birth_date", "residence_registered_on"})
QUANTITY_FIELDS = frozenset({"social_insurance_months", "residence_months"})
CODE_FIELDS = frozenset({"education"})
CODES_FIELDS = frozenset({"skills"})
PROVINCIAL_FIELDS = DATE_FIELDS | QUANTITY_FIELDS | CODE_FIELDS | CODES_FIELDS

_PROVINCIAL = FactKind.PROVINCIAL.value
_CITY = FactKind.CITY.value
_DEDUCTION = FactKind.DEDUCTION.value


class FactLike(Protocol):
    id: int
    kind: str
    code: str
    level: str
    quantity: Decimal | None
    date: dt.date | None
    until: dt.date | None
    act: str


class ResidentLike(Protocol):
    birth_date: dt.date


def profile_quantity(value: Decimal) -> int | Decimal:
    """A stored quantity (two decimal places) as the profile gives it: ``36``, ``12.5``."""
    if value == value.to_integral_value():
        return int(value)
    return value.normalize()


def build_profile(
    resident: ResidentLike, facts: Iterable[FactLike], *, include_superseded: bool = False
) -> tuple[dict[str, Any], list[int]]:
    """The score profile of ``resident`` from ``facts``, and the ids of the facts it uses.

    Only current (not superseded) facts are used unless ``include_superseded`` (which
    :func:`jifen.scores.services.verify_score` needs: it rebuilds a score from the facts it
    used, some of which may have been superseded since). A single-valued provincial field with
    several facts takes the latest recorded one (highest id); ``skills`` takes every skill
    fact (the engine counts the highest). Without a ``birth_date`` fact the resident's birth
    date (from the identity number) is used.
    """
    ordered = sorted(
        (f for f in facts if include_superseded or getattr(f, "superseded_at", None) is None),
        key=lambda f: f.id,
    )
    single: dict[str, FactLike] = {}
    skills: dict[str, int] = {}
    city: list[dict[str, Any]] = []
    deductions: list[dict[str, Any]] = []
    used: list[int] = []
    for fact in ordered:
        kind = fact.kind
        if kind == _CITY:
            item: dict[str, Any] = {"rule": fact.code}
            if fact.level:
                item["level"] = fact.level
            if fact.quantity is not None:
                item["quantity"] = profile_quantity(fact.quantity)
            if fact.date is not None:
                item["date"] = fact.date.isoformat()
            item["source"] = f"fact:{fact.id}"
            city.append(item)
            used.append(fact.id)
        elif kind == _DEDUCTION:
            item = {"rule": fact.code}
            if fact.act:
                item["act"] = fact.act
            # A deduction without a date is refused by the engine, naming the field.
            item["date"] = fact.date.isoformat() if fact.date is not None else None
            if fact.until is not None:
                item["until"] = fact.until.isoformat()
            item["source"] = f"fact:{fact.id}"
            deductions.append(item)
            used.append(fact.id)
        elif kind == _PROVINCIAL:
            if fact.code in CODES_FIELDS:
                # One fact per code (key ``skills:<code>``); keep the first id of a repeat.
                skills.setdefault(fact.level, fact.id)
            else:
                # Sorted by id: a later fact of the same field replaces an earlier one.
                single[fact.code] = fact
        # Other kinds are not scored (the model has none today).

    profile: dict[str, Any] = {}
    for code, fact in single.items():
        if code in DATE_FIELDS:
            profile[code] = fact.date.isoformat() if fact.date is not None else None
        elif code in QUANTITY_FIELDS:
            profile[code] = None if fact.quantity is None else profile_quantity(fact.quantity)
        elif code in CODE_FIELDS:
            profile[code] = fact.level or None
        else:
            # An unknown provincial field: the engine refuses it and names it.
            profile[code] = fact.level or fact.quantity or fact.date
        used.append(fact.id)
    if "birth_date" not in profile and resident.birth_date is not None:
        profile["birth_date"] = resident.birth_date.isoformat()
    if skills:
        profile["skills"] = sorted(skills)
        used.extend(skills.values())
    profile["city"] = city
    profile["deductions"] = deductions
    return profile, sorted(used)


def facts_from_profile(profile: dict[str, Any], *, key_prefix: str) -> list[dict[str, Any]]:
    """The fact rows (``kind``, ``code``, ``key``, ``level``, ``quantity``, ``date``,
    ``until``, ``act``) that :func:`build_profile` turns back into ``profile``.

    For synthetic data (benchmarks, demos, tests): city facts and deductions get the keys
    ``<key_prefix>:<rule>:<n>``. Dates are ``datetime.date``; quantities ``Decimal``.
    """
    rows: list[dict[str, Any]] = []

    def row(kind: str, code: str, key: str, **values: Any) -> None:
        rows.append(
            {
                "kind": kind,
                "code": code,
                "key": key,
                "level": values.get("level") or "",
                "quantity": None
                if values.get("quantity") is None
                else Decimal(str(values["quantity"])),
                "date": _date(values.get("date")),
                "until": _date(values.get("until")),
                "act": values.get("act") or "",
            }
        )

    for code in sorted(DATE_FIELDS):
        if profile.get(code) is not None:
            row(_PROVINCIAL, code, code, date=profile[code])
    for code in sorted(QUANTITY_FIELDS):
        if profile.get(code) is not None:
            row(_PROVINCIAL, code, code, quantity=profile[code])
    if profile.get("education") is not None:
        row(_PROVINCIAL, "education", "education", level=profile["education"])
    for code in sorted(set(profile.get("skills") or ())):
        row(_PROVINCIAL, "skills", f"skills:{code}", level=code)
    for n, fact in enumerate(profile.get("city") or ()):
        values = {k: v for k, v in fact.items() if k in ("level", "quantity", "date")}
        row(_CITY, fact["rule"], f"{key_prefix}:{fact['rule']}:{n}", **values)
    for n, fact in enumerate(profile.get("deductions") or ()):
        values = {k: v for k, v in fact.items() if k in ("act", "date", "until")}
        row(_DEDUCTION, fact["rule"], f"{key_prefix}:{fact['rule']}:{n}", **values)
    return rows


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)
