"""A stored score as people read it: items with their explanation lines and the facts (with
their source) behind each item, the policy versions, and the bars of the chart.

Pure presentation over ``Score.result`` (the engine's ``ScoreResult.as_dict()``) and the
``Fact`` rows the score used; nothing is recomputed here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.engine import Policy, PolicySet
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.scores.policies import current_policies

SECTIONS = ("provincial", "city", "deduction")

#: What a provincial fact is, by its profile field (city facts are named by their rule).
PROVINCIAL_FIELDS = {
    "birth_date": gettext_lazy("birth date"),
    "education": gettext_lazy("education level"),
    "skills": gettext_lazy("skill certificate or title"),
    "social_insurance_months": gettext_lazy("months of social insurance in Zhejiang"),
    "residence_registered_on": gettext_lazy("residence registered on"),
    "residence_months": gettext_lazy("months of residence in Zhejiang"),
}


def policy_set() -> PolicySet:
    """The loaded policy versions (cached by :mod:`jifen.scores.policies`)."""
    return current_policies()


def _text(text: Any) -> str:
    """A policy label in the language of the page."""
    if text is None:
        return ""
    language = translation.get_language() or "zh-hans"
    return text.zh if language.startswith("zh") else text.en


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return Decimal(0)


@dataclass
class FactView:
    fact: Fact
    name: str
    value: str
    source: str
    department: str


@dataclass
class ItemView:
    section: str
    code: str
    name: str
    points: Decimal
    cap: Decimal | None
    total_reason: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    facts: list[FactView] = field(default_factory=list)
    bar: int = 0  # 0-100, width of the item's bar in the chart


@dataclass
class SectionView:
    """One tier of the score: items that have something to say, and the names of the items
    with neither data nor points (listed in one line, so a phone screen is not all zeros)."""

    code: str
    items: list[ItemView]
    empty: list[ItemView]


@dataclass
class ScoreView:
    total: Decimal
    provincial_total: Decimal
    city_bonus_total: Decimal
    deductions_total: Decimal
    sections: list[SectionView]
    totals: list[dict[str, Any]]
    composition: list[dict[str, Any]]


def _policies_of(result: dict[str, Any]) -> list[Policy]:
    policies = policy_set()
    ids = result.get("policy", {})
    return [
        policies.by_id[i] for i in (ids.get("provincial"), ids.get("city")) if i in policies.by_id
    ]


def fact_targets(policies: list[Policy]) -> dict[str, set[tuple[str, str]]]:
    """Which (section, item) each fact code feeds: ``education`` feeds the provincial and the
    city education items, ``charity.blood_donation`` the city charity item."""
    targets: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for policy in policies:
        section = "provincial" if policy.tier == "provincial" else "city"
        for item in policy.items:
            for rule in item.rules:
                for code in (rule.field, rule.months_since_field, rule.ref):
                    if code:
                        targets[code].add((section, item.code))
        for deduction in policy.deductions:
            targets[deduction.code].add(("deduction", "deductions"))
    return targets


def fact_source(fact: Fact) -> str:
    """Where a fact came from: the feed batch and its date, an approved claim, or staff."""
    if fact.source == FactSource.FEED and fact.batch_id:
        return _("data feed %(feed)s, batch received %(date)s") % {
            "feed": fact.batch.feed,
            "date": date_format(fact.batch.received_at, "Y-m-d"),
        }
    if fact.source == FactSource.CLAIM:
        return _("approved application %(ref)s") % {"ref": fact.source_ref}
    if fact.source == FactSource.STAFF:
        return _("staff correction")
    return _("data feed")


def fact_name(fact: Fact, policies: list[Policy]) -> str:
    if fact.kind == FactKind.PROVINCIAL and fact.code in PROVINCIAL_FIELDS:
        return str(PROVINCIAL_FIELDS[fact.code])
    for policy in policies:
        if fact.kind == FactKind.DEDUCTION and fact.code in policy.deductions_by_code:
            return _text(policy.deductions_by_code[fact.code].name)
        if fact.code in policy.rules:
            return _text(policy.rules[fact.code].name)
    return fact.code


def fact_value(fact: Fact, policies: list[Policy]) -> str:
    parts: list[str] = []
    if fact.level:
        label = next((p.labels[fact.level] for p in policies if fact.level in p.labels), None)
        parts.append(_text(label) if label else fact.level)
    if fact.quantity is not None:
        parts.append(format(fact.quantity.normalize(), "f"))
    if fact.date:
        parts.append(fact.date.isoformat())
    if fact.until:
        parts.append(_("until %(date)s") % {"date": fact.until.isoformat()})
    if fact.act:
        parts.append(_("act %(act)s") % {"act": fact.act})
    return " · ".join(parts)


def fact_view(fact: Fact, policies: list[Policy]) -> FactView:
    return FactView(
        fact=fact,
        name=fact_name(fact, policies),
        value=fact_value(fact, policies),
        source=fact_source(fact),
        department=fact.department.name,
    )


def build_score_view(result: dict[str, Any], facts: list[Fact]) -> ScoreView:
    """Group the explanation by item, attach the facts of each item, size the chart bars."""
    policies = _policies_of(result)
    names: dict[tuple[str, str], str] = {}
    caps: dict[tuple[str, str], Decimal] = {}
    for policy in policies:
        section = "provincial" if policy.tier == "provincial" else "city"
        for item in policy.items:
            names[(section, item.code)] = _text(item.name)
            caps[(section, item.code)] = item.cap
    names[("deduction", "deductions")] = _("Deductions")

    items: dict[tuple[str, str], ItemView] = {}
    totals: list[dict[str, Any]] = []
    for line in result.get("explanation", []):
        section = line.get("section")
        if section == "total":
            totals.append(line)
            continue
        key = (section, line.get("item"))
        view = items.get(key)
        if view is None:
            view = items[key] = ItemView(
                section=section,
                code=key[1],
                name=names.get(key, key[1]),
                points=Decimal(0),
                cap=caps.get(key),
                total_reason="",
            )
        if line.get("status") == "total" and line.get("rule") is None:
            view.points = _decimal(line.get("points"))
            view.total_reason = line.get("reason_zh") or line.get("reason", "")
        else:
            view.lines.append(line)

    deductions = _decimal(result.get("deductions", {}).get("total"))
    if ("deduction", "deductions") in items:
        items[("deduction", "deductions")].points = deductions

    targets = fact_targets(policies)
    for fact in facts:
        for key in targets.get(fact.code, ()):
            if key in items:
                items[key].facts.append(fact_view(fact, policies))

    grouped: dict[str, list[ItemView]] = {s: [] for s in SECTIONS}
    for view in items.values():
        grouped.setdefault(view.section, []).append(view)
    sections = [
        SectionView(
            code=code,
            items=[v for v in views if v.lines or v.points],
            empty=[v for v in views if not (v.lines or v.points)],
        )
        for code, views in grouped.items()
        if views
    ]
    largest = max((v.points for v in items.values()), default=Decimal(0))
    for view in items.values():
        if largest > 0:
            view.bar = int((view.points * 100 / largest).to_integral_value())

    provincial = _decimal(result.get("provincial", {}).get("total"))
    city = _decimal(result.get("city", {}).get("bonus_total"))
    return ScoreView(
        total=_decimal(result.get("total")),
        provincial_total=provincial,
        city_bonus_total=city,
        deductions_total=deductions,
        sections=sections,
        totals=totals,
        composition=composition(provincial, city, deductions),
    )


def composition(provincial: Decimal, city: Decimal, deductions: Decimal) -> list[dict[str, Any]]:
    """Segments of the stacked bar (SVG units 0-100): provincial, city bonus, deductions.

    The deductions segment is drawn over the end of the positive part, so what is left of
    the bar before it is the total.
    """
    positive = provincial + city
    scale = max(positive, Decimal(1))

    def units(value: Decimal) -> int:
        return int((value * 100 / scale).to_integral_value())

    p, c = units(provincial), units(city)
    d = min(units(deductions), p + c)
    return [
        {"kind": "provincial", "x": 0, "width": p, "label": _("provincial"), "points": provincial},
        {"kind": "city", "x": p, "width": c, "label": _("city bonus"), "points": city},
        {
            "kind": "deduction",
            "x": p + c - d,
            "width": d,
            "label": _("deductions"),
            "points": deductions,
        },
    ]
