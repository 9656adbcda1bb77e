"""The engine's output: totals, subtotals and one explanation line per item and fact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jifen.engine.policy import PolicySelection

HUNDREDTH = Decimal("0.01")


def money(value: Decimal) -> str:
    """Points as a decimal string with two places (``18.50``)."""
    # Zero is formatted directly: 0 and -0 are equal but print differently.
    return _money_nonzero(value) if value else str(value.quantize(HUNDREDTH))


@lru_cache(maxsize=4096)
def _money_nonzero(value: Decimal) -> str:
    # Cached: few distinct point values, and equal non-zero decimals print the same.
    return str(value.quantize(HUNDREDTH))


class Status:
    """Why a line scored what it did (stable codes; the reasons are the human text)."""

    COUNTED = "counted"
    CAPPED = "capped"
    NO_DATA = "no_data"
    FUTURE = "future"
    OUTSIDE_WINDOW = "outside_window"
    NOT_CUMULATIVE = "not_cumulative"
    SAME_ACT = "same_act"
    NOT_LISTED = "not_listed"
    TOTAL = "total"


@dataclass(frozen=True, slots=True)
class Line:
    """One explanation line: what was scored, from which facts, how many points and why.

    ``rule`` is None on item and total lines. ``points`` is what the line contributes
    (deduction lines carry the positive number that is subtracted).
    """

    section: str
    item: str
    rule: str | None
    facts: dict[str, Any]
    points: Decimal
    status: str
    reason: str
    reason_zh: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "item": self.item,
            "rule": self.rule,
            "facts": self.facts,
            "points": money(self.points),
            "status": self.status,
            "reason": self.reason,
            "reason_zh": self.reason_zh,
        }


@dataclass(frozen=True, slots=True)
class Act:
    """One deduction act with the deduction that counts for it."""

    act: str | None
    rule: str
    points: Decimal


@dataclass(frozen=True)
class ScoreResult:
    """A complete, explained score."""

    policy: PolicySelection
    evaluation_date: dt.date
    review_date: dt.date
    provincial_items: dict[str, Decimal]
    provincial_total: Decimal
    city_items: dict[str, Decimal]
    city_bonus_total: Decimal
    acts: tuple[Act, ...]
    deductions_total: Decimal
    total: Decimal
    explanation: tuple[Line, ...] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``shared/docs/score-profile.md``."""
        provincial, city = self.policy.provincial, self.policy.city
        return {
            "policy": {
                "provincial": provincial.id,
                "city": city.id,
                "hash": self.policy.hash,
                "provincial_hash": provincial.hash,
                "city_hash": city.hash,
                "reference_values": self.policy.reference_values,
            },
            "evaluation_date": self.evaluation_date.isoformat(),
            "review_date": self.review_date.isoformat(),
            "provincial": {
                "total": money(self.provincial_total),
                "items": {k: money(v) for k, v in self.provincial_items.items()},
            },
            "city": {
                "bonus_total": money(self.city_bonus_total),
                "items": {k: money(v) for k, v in self.city_items.items()},
            },
            "deductions": {
                "total": money(self.deductions_total),
                "acts": [
                    {"act": a.act, "rule": a.rule, "points": money(a.points)} for a in self.acts
                ],
            },
            "total": money(self.total),
            "explanation": [line.as_dict() for line in self.explanation],
        }
