"""The bulk path's input: residents' profiles as columns.

Provincial fields are one array per field (one row per resident; dates as days since
1970-01-01, :data:`NO_DATE` for none; quantities with :data:`NONE` for none; codes as indices
into :attr:`Population.codes`). Skills, city facts and deductions are flat arrays carrying the
resident's row, sorted by row, so that a block of residents is a slice. Deductions are grouped
by act: ``deduction_group`` numbers the acts (a fact without an act is an act of its own) and
``group_resident`` gives each act's row.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from jifen.engine.profile import Profile, parse_profile

_EPOCH = dt.date(1970, 1, 1).toordinal()
#: "No date" in a days column; every real date is far above it.
NO_DATE = int(np.iinfo(np.int64).min)
#: "No data" in a quantity or code column.
NONE = -1


class NotExact(ValueError):
    """A quantity is not a whole number of hundredths: the bulk path cannot be exact."""


def days(day: dt.date | None) -> int:
    """A date as days since 1970-01-01 (:data:`NO_DATE` for None)."""
    return NO_DATE if day is None else day.toordinal() - _EPOCH


def hundredths(value: Decimal | int, where: str) -> int:
    """``value`` × 100 as an int; :class:`NotExact` if that is not a whole number."""
    scaled = Decimal(value) * 100
    if scaled != scaled.to_integral_value():
        raise NotExact(f"{where}: {value} has more than two decimal places")
    return int(scaled)


def money(amount: int) -> str:
    """Hundredths as the engine writes points, two places (``1850`` → ``18.50``)."""
    value = int(amount)
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}{value // 100}.{value % 100:02d}"


class _Vocabulary:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, code: str) -> int:
        found = self.index.get(code)
        if found is None:
            found = self.index[code] = len(self.index)
        return found

    def codes(self) -> tuple[str, ...]:
        return tuple(self.index)


_COLUMNS = (
    "birth_date",
    "residence_registered_on",
    "social_insurance_months",
    "residence_months",
    "education",
    "skill_resident",
    "skill_code",
    "city_resident",
    "city_rule",
    "city_level",
    "city_quantity",
    "city_date",
    "deduction_resident",
    "deduction_code",
    "deduction_group",
    "deduction_date",
    "deduction_until",
    "group_resident",
)


@dataclass(frozen=True, eq=False)
class Population:
    """Residents' profiles as columns. Build with :class:`PopulationBuilder` or
    :meth:`from_profiles`."""

    size: int
    birth_date: np.ndarray
    residence_registered_on: np.ndarray
    social_insurance_months: np.ndarray
    residence_months: np.ndarray
    education: np.ndarray
    skill_resident: np.ndarray
    skill_code: np.ndarray
    codes: tuple[str, ...]
    city_resident: np.ndarray
    city_rule: np.ndarray
    city_level: np.ndarray
    city_quantity: np.ndarray
    city_date: np.ndarray
    rules: tuple[str, ...]
    levels: tuple[str, ...]
    deduction_resident: np.ndarray
    deduction_code: np.ndarray
    deduction_group: np.ndarray
    deduction_date: np.ndarray
    deduction_until: np.ndarray
    deduction_codes: tuple[str, ...]
    group_resident: np.ndarray

    @classmethod
    def from_profiles(cls, profiles: Iterable[Profile | Mapping[str, Any]]) -> Population:
        """Parse (format v1) and collect ``profiles``; raises ``ProfileError`` / ``NotExact``."""
        builder = PopulationBuilder()
        for profile in profiles:
            builder.add(profile)
        return builder.build()

    def field(self, name: str) -> np.ndarray:
        """The column of a one-value profile field (``birth_date``, ``education`` ...)."""
        return getattr(self, name)


class PopulationBuilder:
    """Collects profiles one by one; a resident's row is the order of :meth:`add`."""

    def __init__(self) -> None:
        self.size = 0
        self._codes = _Vocabulary()
        self._rules = _Vocabulary()
        self._levels = _Vocabulary()
        self._deductions = _Vocabulary()
        # Typed arrays: 8 bytes a value instead of a Python int object and a list slot.
        self._columns: dict[str, array[int]] = {name: array("q") for name in _COLUMNS}

    def add(self, profile: Profile | Mapping[str, Any]) -> int:
        """Add one profile (a parsed :class:`Profile` or its JSON form); returns its row."""
        if not isinstance(profile, Profile):
            profile = parse_profile(profile)
        row = self.size
        c = self._columns
        c["birth_date"].append(days(profile.birth_date))
        c["residence_registered_on"].append(days(profile.residence_registered_on))
        insurance, months = profile.social_insurance_months, profile.residence_months
        c["social_insurance_months"].append(NONE if insurance is None else insurance)
        c["residence_months"].append(NONE if months is None else months)
        c["education"].append(NONE if profile.education is None else self._codes(profile.education))
        for code in profile.skills:
            c["skill_resident"].append(row)
            c["skill_code"].append(self._codes(code))
        for fact in profile.city:
            c["city_resident"].append(row)
            c["city_rule"].append(self._rules(fact.rule))
            c["city_level"].append(NONE if fact.level is None else self._levels(fact.level))
            c["city_quantity"].append(
                NONE
                if fact.quantity is None
                else hundredths(fact.quantity, f"profiles[{row}].{fact.ref}.quantity")
            )
            c["city_date"].append(days(fact.date))
        acts: dict[str, int] = {}
        for fact in profile.deductions:
            group = acts.get(fact.act) if fact.act is not None else None
            if group is None:
                group = len(c["group_resident"])
                c["group_resident"].append(row)
                if fact.act is not None:
                    acts[fact.act] = group
            c["deduction_resident"].append(row)
            c["deduction_code"].append(self._deductions(fact.rule))
            c["deduction_group"].append(group)
            c["deduction_date"].append(days(fact.date))
            c["deduction_until"].append(days(fact.until))
        self.size += 1
        return row

    def build(self) -> Population:
        """The collected columns as ``int64`` arrays."""
        columns = {
            name: np.frombuffer(v, dtype=np.int64).copy() if len(v) else np.zeros(0, np.int64)
            for name, v in self._columns.items()
        }
        return Population(
            size=self.size,
            codes=self._codes.codes(),
            rules=self._rules.codes(),
            levels=self._levels.codes(),
            deduction_codes=self._deductions.codes(),
            **columns,
        )
