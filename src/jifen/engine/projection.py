"""Score projection: what the score will be on a future date, never a score itself.

Pure Python like the rest of the engine. A projection takes the facts known on ``from_date``
and moves them to the date ``on`` by the only changes that happen by themselves:

- cumulative months keep accruing, month by month (assumption: continuation without
  interruption): the provincial ``residence_months`` and ``social_insurance_months`` fields, the
  residence counted from ``residence_registered_on``, and the city's month and year counts
  without a window (Tongxiang pension, medical insurance, housing fund, registered years);
- age moves through the bands (full years on ``on``);
- windowed facts drop out of their windows (a blood donation older than 3 years stops counting,
  a deduction's window ends; deduction windows count back from ``on``);
- the policy versions in force on ``on`` apply, when they are known (otherwise those in force on
  ``from_date``, and the projection says so).

The projected profile is then scored by :func:`jifen.engine.evaluate`, so every explanation line
is the engine's own. The result type, :class:`Projection`, is not a :class:`ScoreResult`: its
JSON says ``"kind": "projection"`` and carries a disclaimer in English and Chinese.

:func:`opportunities` lists where points could still be gained (headroom under the rule, item and
tier caps, how many points, what proof and which department), and :func:`date_reaching` answers
"when will I reach N points?" from accrual alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from jifen.engine.dates import full_months, full_years, shift_months, years_before
from jifen.engine.errors import NoPolicyInForce
from jifen.engine.evaluate import evaluate
from jifen.engine.policy import Item, Policy, PolicySelection, PolicySet, Rule, Text
from jifen.engine.profile import CityFact, Profile, parse_profile
from jifen.engine.result import ScoreResult, Status, money

ZERO = Decimal(0)
KIND = "projection"
SOURCE = "projection:accrual"
#: The longest horizon :func:`date_reaching` accepts (years).
MAX_HORIZON_YEARS = 50

LABEL = Text(zh="预测（非正式积分）", en="Projection — not a score")
DISCLAIMER = Text(
    zh="这是预测，不是积分：根据目前已知的信息，假设居住和参保持续不中断、没有新的加分或扣分，"
    "估算未来某一日的积分。预测不作为任何申请、排名或公示的依据；以评估日的正式积分为准。",
    en="This is a projection, not a score: an estimate of the points on a future date from the "
    "facts known today, assuming residence and insurance continue without interruption and "
    "nothing else is added or deducted. It is not used for any application, ranking or "
    "published list; only the score on the evaluation date counts.",
)
#: Quantity fields of the profile that grow by one each month while the situation continues.
ACCRUING_FIELDS = ("social_insurance_months", "residence_months")
_UNITS = {"months": "months", "years": "years"}


class ProjectionError(ValueError):
    """A projection request is invalid: names the field (``on``, ``target``) and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


# --- result types ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Accrual:
    """One count that grows by itself between ``from_date`` and ``on``."""

    section: str
    item: str
    rule: str
    field: str
    unit: str
    before: int | Decimal
    after: int | Decimal
    assumption: Text

    @property
    def added(self) -> int | Decimal:
        return self.after - self.before

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "item": self.item,
            "rule": self.rule,
            "field": self.field,
            "unit": self.unit,
            "before": str(self.before),
            "after": str(self.after),
            "added": str(self.added),
            "assumption": {"en": self.assumption.en, "zh": self.assumption.zh},
        }


@dataclass(frozen=True, slots=True)
class Change:
    """A dated event between the two dates (a birthday changing the age points, a window
    ending, a listing lifted, a new policy version)."""

    kind: str
    date: dt.date
    section: str
    item: str
    rule: str | None
    text: Text

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "date": self.date.isoformat(),
            "section": self.section,
            "item": self.item,
            "rule": self.rule,
            "en": self.text.en,
            "zh": self.text.zh,
        }


@dataclass(frozen=True, slots=True)
class ItemDifference:
    section: str
    item: str
    name: Text
    current: Decimal
    projected: Decimal

    @property
    def difference(self) -> Decimal:
        return self.projected - self.current

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "item": self.item,
            "name": {"en": self.name.en, "zh": self.name.zh},
            "current": money(self.current),
            "projected": money(self.projected),
            "difference": money(self.difference),
        }


def _policy_dict(selection: PolicySelection) -> dict[str, Any]:
    return {
        "provincial": selection.provincial.id,
        "city": selection.city.id,
        "hash": selection.hash,
        "reference_values": selection.reference_values,
    }


def _text_dict(text: Text) -> dict[str, str]:
    return {"en": text.en, "zh": text.zh}


@dataclass(frozen=True)
class Projection:
    """The projected score on ``on`` from the facts known on ``from_date``. Not a score.

    ``basis`` is the engine's result on ``from_date`` (what the facts give today);
    ``projected`` the engine's result on ``on`` for the projected ``profile``.
    """

    from_date: dt.date
    on: dt.date
    basis: ScoreResult = field(repr=False)
    projected: ScoreResult = field(repr=False)
    profile: Profile = field(repr=False)
    accruals: tuple[Accrual, ...]
    changes: tuple[Change, ...]
    assumptions: tuple[Text, ...]
    items: tuple[ItemDifference, ...]
    policy_known: bool = True

    kind = KIND

    @property
    def total(self) -> Decimal:
        """The projected total (a projection, never a score)."""
        return self.projected.total

    @property
    def current_total(self) -> Decimal:
        return self.basis.total

    @property
    def difference(self) -> Decimal:
        return self.total - self.current_total

    @property
    def selection(self) -> PolicySelection:
        return self.projected.policy

    def as_dict(self) -> dict[str, Any]:
        inner = self.projected.as_dict()
        return {
            "kind": KIND,
            "label": _text_dict(LABEL),
            "disclaimer": _text_dict(DISCLAIMER),
            "from_date": self.from_date.isoformat(),
            "on": self.on.isoformat(),
            "current_total": money(self.current_total),
            "projected_total": money(self.total),
            "difference": money(self.difference),
            "policy": _policy_dict(self.selection),
            "policy_known": self.policy_known,
            "assumptions": [_text_dict(a) for a in self.assumptions],
            "accruals": [a.as_dict() for a in self.accruals],
            "changes": [c.as_dict() for c in self.changes],
            "items": [i.as_dict() for i in self.items if i.difference],
            # The engine's explained result for the projected facts, labelled again so that
            # it cannot be mistaken for a score when taken out of this envelope.
            "projected": {"kind": KIND, **inner},
        }


@dataclass(frozen=True)
class Opportunity:
    """Where points can still be gained: headroom under the rule, item and tier caps."""

    section: str
    item: str
    rule: str
    kind: str  # "claim": a new fact is needed; "accrual": grows by itself
    rule_kind: str
    item_name: Text
    rule_name: Text
    current: Decimal
    gain: Decimal
    points: Text
    proof: Text
    departments: tuple[Text, ...] = ()
    window_years: int | None = None
    levels: tuple[tuple[str, Text, Decimal], ...] = ()
    months_to_cap: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "section": self.section,
            "item": self.item,
            "rule": self.rule,
            "rule_kind": self.rule_kind,
            "item_name": _text_dict(self.item_name),
            "rule_name": _text_dict(self.rule_name),
            "current": money(self.current),
            "gain": money(self.gain),
            "points": _text_dict(self.points),
            "proof": _text_dict(self.proof),
            "departments": [_text_dict(d) for d in self.departments],
            "window_years": self.window_years,
            "levels": [
                {"level": code, "name": _text_dict(label), "points": money(points)}
                for code, label, points in self.levels
            ],
            "months_to_cap": self.months_to_cap,
        }


@dataclass(frozen=True)
class Reach:
    """The answer to "when will I reach ``target`` points?" (accrual only). Not a score."""

    target: Decimal
    from_date: dt.date
    until: dt.date
    date: dt.date | None
    current_total: Decimal
    projection: Projection | None = field(repr=False, default=None)

    kind = KIND

    @property
    def already(self) -> bool:
        return self.date == self.from_date

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "question": "reach",
            "label": _text_dict(LABEL),
            "disclaimer": _text_dict(DISCLAIMER),
            "target": money(self.target),
            "from_date": self.from_date.isoformat(),
            "horizon_until": self.until.isoformat(),
            "current_total": money(self.current_total),
            "reached_on": self.date.isoformat() if self.date else None,
            "already_reached": self.already,
            "projection": self.projection.as_dict() if self.projection else None,
        }


# --- projecting a profile ------------------------------------------------------------------


def _profile(profile: Profile | Mapping[str, Any]) -> Profile:
    return profile if isinstance(profile, Profile) else parse_profile(profile)


def _select(
    policies: PolicySet | PolicySelection, on: dt.date, fallback: PolicySelection | None = None
) -> tuple[PolicySelection, bool]:
    if isinstance(policies, PolicySelection):
        return policies, True
    try:
        return policies.select(on), True
    except NoPolicyInForce:
        if fallback is None:
            raise
        return fallback, False


def accruing_rule(rule: Rule) -> str | None:
    """``"months"``/``"years"`` when the rule counts time that accrues by itself, else None.

    Provincial quantity fields counted in months (insurance, residence) and city per-unit
    counts of months or years without a window (pension, medical insurance, housing fund,
    registered years) accrue; hours, yuan and anything inside a window do not.
    """
    if rule.kind != "per_unit" or rule.window_years is not None:
        return None
    if rule.field is not None:
        return "months" if rule.field in ACCRUING_FIELDS else None
    unit = rule.unit_name.en if rule.unit_name else ""
    return _UNITS.get(unit)


def _assumption_for(rule: Rule, item: Item) -> Text:
    return Text(
        zh=f"假设{item.name.zh}（{rule.name.zh}）持续不中断，逐月累积",
        en=f"assumes {item.name.en} ({rule.name.en}) continues without interruption",
    )


def project_profile(
    profile: Profile, from_date: dt.date, on: dt.date, selection: PolicySelection
) -> tuple[Profile, tuple[Accrual, ...]]:
    """``profile`` moved from ``from_date`` to ``on`` by accrual, with what accrued."""
    months = full_months(from_date, on)
    years = full_years(from_date, on)
    accruals: list[Accrual] = []
    changes: dict[str, Any] = {}
    for item in selection.provincial.items:
        for rule in item.rules:
            if accruing_rule(rule) is None:
                continue
            value = getattr(profile, rule.field)
            if value is not None:
                changes[rule.field] = value + months
                accruals.append(
                    Accrual("provincial", item.code, rule.ref, rule.field, "months", value,
                            value + months, _assumption_for(rule, item))
                )  # fmt: skip
            elif rule.months_since_field is not None:
                since = getattr(profile, rule.months_since_field)
                if since is not None:
                    # The engine counts these months up to ``on`` itself; recorded here.
                    accruals.append(
                        Accrual("provincial", item.code, rule.ref, rule.months_since_field,
                                "months", full_months(since, from_date), full_months(since, on),
                                _assumption_for(rule, item))
                    )  # fmt: skip
    extra: list[CityFact] = []
    index = len(profile.city)
    for item in selection.city.items:
        for rule in item.rules:
            unit = accruing_rule(rule)
            if unit is None or rule.field is not None:
                continue
            facts = [f for f in profile.city if f.rule == rule.ref and f.quantity is not None]
            if not facts:
                continue  # nothing paid or registered in Tongxiang: nothing to continue
            added = months if unit == "months" else years
            before = sum((f.quantity for f in facts), ZERO)
            accruals.append(
                Accrual("city", item.code, rule.ref, rule.ref, unit, before, before + added,
                        _assumption_for(rule, item))
            )  # fmt: skip
            if added:
                extra.append(
                    CityFact(index=index, rule=rule.ref, quantity=Decimal(added), source=SOURCE)
                )
                index += 1
    if extra:
        changes["city"] = profile.city + tuple(extra)
    return (replace(profile, **changes) if changes else profile), tuple(accruals)


def first_day_outside(date: dt.date, years: int) -> dt.date:
    """The first evaluation day on which a fact dated ``date`` is outside "the last ``years``
    years" (the window rule of the measures, 29 February -> 28 February)."""
    day = shift_months(date, 12 * years)
    while years_before(day, years) <= date:
        day += dt.timedelta(days=1)
    return day


def _changes(
    profile: Profile,
    from_date: dt.date,
    on: dt.date,
    before: PolicySelection,
    after: PolicySelection,
) -> list[Change]:
    out: list[Change] = []
    city = after.city
    for fact in profile.city:
        rule = city.rules.get(fact.rule)
        if rule is None or rule.window_years is None or fact.date is None:
            continue
        if fact.date > from_date:
            if fact.date <= on:
                out.append(
                    Change("window_starts", fact.date, "city", rule.item, rule.ref,
                           Text(zh=f"{rule.name.zh}（{fact.date}）自{fact.date}起计分",
                                en=f"{rule.ref} dated {fact.date} counts from that day"))
                )  # fmt: skip
            continue
        out_on = first_day_outside(fact.date, rule.window_years)
        if from_date < out_on <= on:
            out.append(
                Change("window_ends", out_on, "city", rule.item, rule.ref,
                       Text(zh=f"{rule.name.zh}（{fact.date}）超出近{rule.window_years}年，"
                               f"自{out_on}起不再计分",
                            en=f"{rule.ref} dated {fact.date} leaves the last "
                               f"{rule.window_years} years: no longer counted from {out_on}"))
            )  # fmt: skip
    for fact in profile.deductions:
        deduction = city.deductions_by_code.get(fact.rule)
        if deduction is None:
            continue
        if deduction.while_listed:
            if fact.until is not None and from_date < fact.until <= on:
                out.append(
                    Change("listing_lifted", fact.until, "deduction", "deductions", fact.rule,
                           Text(zh=f"{deduction.name.zh}已于{fact.until}移出名单，不再扣分",
                                en=f"{deduction.name.en}: listing lifted on {fact.until}, "
                                   "no longer deducted"))
                )  # fmt: skip
            continue
        assert deduction.window_years is not None
        if fact.date > from_date:
            continue
        out_on = first_day_outside(fact.date, deduction.window_years)
        if from_date < out_on <= on:
            out.append(
                Change("deduction_ends", out_on, "deduction", "deductions", fact.rule,
                       Text(zh=f"{deduction.name.zh}（{fact.date}）超出{deduction.window_years}"
                               f"年期限，自{out_on}起不再扣分",
                            en=f"{deduction.name.en} of {fact.date}: its "
                               f"{deduction.window_years}-year window ends, no longer "
                               f"deducted from {out_on}"))
            )  # fmt: skip
    birth = profile.birth_date
    age_rule = next(
        ((i, r) for i in after.provincial.items for r in i.rules if r.kind == "age"), None
    )
    if birth is not None and birth <= from_date and age_rule is not None:
        item, rule = age_rule
        age_before, age_after = full_years(birth, from_date), full_years(birth, on)
        for age in range(age_before + 1, age_after + 1):
            old, new = age_points(rule, item, age - 1), age_points(rule, item, age)
            if old == new:
                continue  # a birthday inside a band changes nothing
            day = shift_months(birth, 12 * age)
            out.append(
                Change("age", day, "provincial", item.code, rule.ref,
                       Text(zh=f"{day}满{age}周岁：{item.name.zh}{_n(old)}分→{_n(new)}分",
                            en=f"{age} full years on {day}: {item.name.en} {_n(old)} → "
                               f"{_n(new)}"))
            )  # fmt: skip
    for tier in ("provincial", "city"):
        old, new = getattr(before, tier), getattr(after, tier)
        if old.id != new.id:
            out.append(
                Change("policy_version", max(new.effective_from, from_date), tier, tier, None,
                       Text(zh=f"{new.effective_from}起适用新版本指标体系{new.id}",
                            en=f"the policy version {new.id} applies from "
                               f"{new.effective_from}"))
            )  # fmt: skip
    out.sort(key=lambda c: (c.date, c.kind, c.item, c.rule or ""))
    return out


def age_points(rule: Rule, item: Item, age: int) -> Decimal:
    """The points of an age rule at ``age`` full years (the engine's bands)."""
    assert rule.base_points is not None and rule.points_per_year_younger is not None
    assert rule.base_from_age is not None and rule.max_age is not None
    if age > rule.max_age:
        return ZERO
    if age >= rule.base_from_age:
        return rule.base_points
    raw = rule.base_points + (rule.base_from_age - age) * rule.points_per_year_younger
    return min(raw, item.cap)


def _assumptions(
    profile: Profile,
    accruals: tuple[Accrual, ...],
    from_date: dt.date,
    on: dt.date,
    selection: PolicySelection,
    policy_known: bool,
) -> tuple[Text, ...]:
    out = [
        Text(zh="居住和参保持续不中断，逐月累积", en="residence and insurance continue without "
             "interruption and accrue month by month"),
        Text(zh="不计新的加分事实（新证书、表彰、捐献等）或新的扣分",
             en="no new bonus facts (certificates, awards, donations ...) and no new deductions"),
        Text(zh=f"扣分期限以预测日{on}为审核日计算",
             en=f"deduction windows count back from the projected date {on} as the review date"),
    ]  # fmt: skip
    out += [a.assumption for a in accruals]
    if any(
        (d := selection.city.deductions_by_code.get(f.rule)) is not None
        and d.while_listed
        and f.until is None
        for f in profile.deductions
    ):
        out.append(Text(zh="仍在名单中的失信记录假设继续在名单中",
                        en="a listing not yet lifted is assumed to stay listed"))  # fmt: skip
    if policy_known:
        out.append(
            Text(zh=f"采用{on}适用的指标体系（{selection.provincial.id}，{selection.city.id}）",
                 en=f"the policy versions in force on {on} are used ({selection.provincial.id}, "
                    f"{selection.city.id})")
        )  # fmt: skip
    else:
        out.append(
            Text(zh=f"{on}适用的指标体系尚未公布，沿用{from_date}适用的版本",
                 en=f"no policy version is known for {on}: the versions in force on "
                    f"{from_date} are used")
        )  # fmt: skip
    return tuple(out)


def _item_differences(basis: ScoreResult, projected: ScoreResult) -> tuple[ItemDifference, ...]:
    out = []
    for section, policy, now, then in (
        ("provincial", projected.policy.provincial, basis.provincial_items,
         projected.provincial_items),
        ("city", projected.policy.city, basis.city_items, projected.city_items),
    ):  # fmt: skip
        names = {item.code: item.name for item in policy.items}
        for code in dict.fromkeys([*now, *then]):
            name = names.get(code, Text(zh=code, en=code))
            out.append(ItemDifference(section, code, name, now.get(code, ZERO),
                                      then.get(code, ZERO)))  # fmt: skip
    out.append(
        ItemDifference("deduction", "deductions", Text(zh="扣分", en="deductions"),
                       basis.deductions_total, projected.deductions_total)
    )  # fmt: skip
    return tuple(out)


def _check_dates(from_date: dt.date, on: dt.date) -> None:
    if on < from_date:
        raise ProjectionError(
            "on", f"{on} is before {from_date}: a projection looks forward from the facts' date"
        )


def project(
    profile: Profile | Mapping[str, Any],
    from_date: dt.date,
    on: dt.date,
    policies: PolicySet | PolicySelection,
) -> Projection:
    """The projected score on ``on`` from the facts known on ``from_date`` (accrual only).

    Raises :class:`ProjectionError` (field ``on``) when ``on`` is before ``from_date``,
    :class:`ProfileError` naming the field of an invalid profile, and
    :class:`NoPolicyInForce` when no version is in force on ``from_date``.
    """
    _check_dates(from_date, on)
    profile = _profile(profile)
    before, _ = _select(policies, from_date)
    after, known = _select(policies, on, fallback=before)
    basis = evaluate(profile, from_date, from_date, before)
    projected_profile, accruals = project_profile(profile, from_date, on, after)
    projected = evaluate(projected_profile, on, on, after)
    return Projection(
        from_date=from_date,
        on=on,
        basis=basis,
        projected=projected,
        profile=projected_profile,
        accruals=accruals,
        changes=tuple(_changes(profile, from_date, on, before, after)),
        assumptions=_assumptions(profile, accruals, from_date, on, after, known),
        items=_item_differences(basis, projected),
        policy_known=known,
    )


# --- opportunities ---------------------------------------------------------------------------


def rule_points(result: ScoreResult, section: str, item: str, ref: str) -> Decimal:
    """The points one rule contributes in ``result`` (after its rule cap)."""
    counted = ZERO
    for line in result.explanation:
        if line.section != section or line.item != item or line.rule != ref:
            continue
        if line.status == Status.CAPPED:
            return line.points
        if line.status == Status.COUNTED:
            counted += line.points
    return counted


def _join(texts: list[Text], sep_en: str = ", ", sep_zh: str = "、") -> Text:
    return Text(zh=sep_zh.join(t.zh for t in texts), en=sep_en.join(t.en for t in texts))


def _n(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _points_text(rule: Rule, policy: Policy) -> Text:
    if rule.levels:
        parts = [
            Text(zh=f"{policy.label(c).zh}{_n(p)}分", en=f"{policy.label(c).en} {_n(p)}")
            for c, p in rule.levels.items()
        ]
        joined = _join(parts, ", ", "，")
        if rule.kind == "each":
            return Text(zh=f"每次：{joined.zh}", en=f"each time: {joined.en}")
        return Text(zh=f"按最高等级：{joined.zh}", en=f"highest level: {joined.en}")
    assert rule.points is not None
    if rule.kind == "flag":
        return Text(zh=f"{_n(rule.points)}分", en=f"{_n(rule.points)} points")
    if rule.kind == "each":
        return Text(zh=f"每次{_n(rule.points)}分", en=f"{_n(rule.points)} each time")
    unit_en = rule.unit_name.en if rule.unit_name else "units"
    unit_zh = rule.unit_name.zh if rule.unit_name else "单位"
    return Text(
        zh=f"每满{_n(rule.unit)}{unit_zh}{_n(rule.points)}分",
        en=f"{_n(rule.points)} per {_n(rule.unit)} {unit_en}"
        if rule.unit != 1
        else f"{_n(rule.points)} per {unit_en.rstrip('s')}",
    )


def _proof(
    rule: Rule, item: Item, policy: Policy, kind: str, months: int | None, unit: str | None
) -> Text:
    departments = _join([policy.departments[d] for d in rule.departments if d in
                         policy.departments])  # fmt: skip
    if kind == "accrual":
        head = Text(
            zh=f"无需申请：持续{item.name.zh}即可自动累积",
            en=f"nothing to file: accrues by itself while {item.name.en} continues",
        )
        if months and unit == "years":
            head = Text(zh=f"{head.zh}，再满{months // 12}年达到上限",
                        en=f"{head.en}; {months // 12} more years reach the cap")  # fmt: skip
        elif months:
            head = Text(zh=f"{head.zh}，再满{months}个月达到上限",
                        en=f"{head.en}; {months} more months reach the cap")  # fmt: skip
    elif rule.field is not None:
        head = Text(
            zh=f"所需证明：更高等级的{item.name.zh}证书（学历、资格或职称证书）",
            en=f"proof: a certificate of a higher {item.name.en} level (diploma, qualification "
            "or title certificate)",
        )
    else:
        head = Text(zh=f"所需证明：{rule.name.zh}的证明材料", en=f"proof: {rule.name.en}")
        if rule.levels:
            levels = _join([policy.label(c) for c in rule.levels], " / ", "/")
            head = Text(zh=f"{head.zh}（注明等级：{levels.zh}）",
                        en=f"{head.en} (stating the level: {levels.en})")  # fmt: skip
        if rule.window_years is not None:
            years = rule.window_years
            head = Text(zh=f"{head.zh}，须在近{years}年内",
                        en=f"{head.en}, dated within the last {years} years")  # fmt: skip
    if departments.en:
        return Text(zh=f"{head.zh}；审核部门：{departments.zh}",
                    en=f"{head.en}; reviewed by {departments.en}")  # fmt: skip
    return head


def _rule_potential(rule: Rule, item: Item) -> Decimal | None:
    if rule.kind == "age":
        return None
    if rule.kind == "flag":
        return rule.points
    if rule.kind == "level":
        assert rule.levels is not None
        return max(rule.levels.values())
    return rule.cap if rule.cap is not None else item.cap


def opportunities(
    profile: Profile | Mapping[str, Any],
    on: dt.date,
    policies: PolicySet | PolicySelection,
) -> tuple[Opportunity, ...]:
    """Where ``profile`` could still gain points on ``on``, largest gain first.

    For every rule that scores less than it could: the most it could add, bounded by the
    rule's cap, the headroom left under its item's cap and under the tier's cap; how many
    points it gives; the proof and the reviewing department (from the policy). Rules that
    accrue by themselves (insurance and residence months) are listed as ``kind="accrual"``
    with the months still needed to reach the cap. Age cannot be gained and is not listed.
    """
    profile = _profile(profile)
    selection, _ = _select(policies, on)
    result = evaluate(profile, on, on, selection)
    out: list[Opportunity] = []
    for section, policy, items, total in (
        ("provincial", selection.provincial, result.provincial_items, result.provincial_total),
        ("city", selection.city, result.city_items, result.city_bonus_total),
    ):
        tier_room = max(policy.cap - total, ZERO)
        for item in policy.items:
            item_room = max(item.cap - items.get(item.code, ZERO), ZERO)
            for rule in item.rules:
                potential = _rule_potential(rule, item)
                if potential is None:
                    continue
                current = rule_points(result, section, item.code, rule.ref)
                gain = min(potential - current, item_room, tier_room)
                if gain <= 0:
                    continue
                unit = accruing_rule(rule)
                kind = "claim"
                months = None
                if unit is not None and _accrues_for(profile, rule):
                    kind = "accrual"
                    per_unit = rule.points / rule.unit if rule.points else ZERO
                    if per_unit:
                        count = math.ceil(gain / per_unit)
                        months = count * 12 if unit == "years" else count
                out.append(
                    Opportunity(
                        section=section,
                        item=item.code,
                        rule=rule.ref,
                        kind=kind,
                        rule_kind=rule.kind,
                        item_name=item.name,
                        rule_name=rule.name,
                        current=current,
                        gain=gain,
                        points=_points_text(rule, policy),
                        proof=_proof(rule, item, policy, kind, months, unit),
                        departments=tuple(
                            policy.departments[d]
                            for d in rule.departments
                            if d in policy.departments
                        ),
                        window_years=rule.window_years,
                        levels=tuple(
                            (c, policy.label(c), p) for c, p in (rule.levels or {}).items()
                        ),
                        months_to_cap=months,
                    )
                )
    out.sort(key=lambda o: (o.kind != "claim", -o.gain, o.section != "city", o.item, o.rule))
    return tuple(out)


def _accrues_for(profile: Profile, rule: Rule) -> bool:
    """True when the profile has the count that keeps growing (else it must be claimed)."""
    if rule.field is not None:
        if getattr(profile, rule.field) is not None:
            return True
        since = rule.months_since_field
        return since is not None and getattr(profile, since) is not None
    return any(f.rule == rule.ref and f.quantity is not None for f in profile.city)


# --- when will I reach N points? ----------------------------------------------------------


def _target(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ProjectionError("target", f"must be a number of points, got {value!r}")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ProjectionError("target", f"must be a number of points, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ProjectionError("target", f"must be a number of points ≥ 0, got {value}")
    if number > 10**6:
        raise ProjectionError("target", f"is implausibly large ({value})")
    return number


def _candidate_days(
    profile: Profile, from_date: dt.date, until: dt.date, policies: PolicySet | PolicySelection
) -> list[dt.date]:
    """Every day in (from_date, until] on which a projected total can change."""
    days: set[dt.date] = set()

    def monthly(start: dt.date, step: int = 1) -> None:
        k = max(full_months(start, from_date) // step, 0)
        while True:
            day = shift_months(start, k * step)
            if day > until:
                return
            if day > from_date:
                days.add(day)
            k += 1

    monthly(from_date)
    if profile.residence_registered_on is not None:
        monthly(profile.residence_registered_on)
    if profile.birth_date is not None:
        monthly(profile.birth_date, 12)
    windows: dict[str, int | None] = {}
    deductions: dict[str, Any] = {}
    sets = policies.policies if isinstance(policies, PolicySet) else ()
    selections = (
        [policies.provincial, policies.city]
        if isinstance(policies, PolicySelection)
        else [p for p in sets if p.tier == "city" or p.tier == "provincial"]
    )
    for policy in selections:
        for ref, rule in policy.rules.items():
            windows[ref] = rule.window_years if windows.get(ref) is None else windows[ref]
        for code, deduction in policy.deductions_by_code.items():
            deductions.setdefault(code, deduction)
        for day in (
            policy.effective_from,
            policy.effective_until + dt.timedelta(days=1) if policy.effective_until else None,
        ):
            if day is not None and from_date < day <= until:
                days.add(day)
    for fact in profile.city:
        if fact.date is None:
            continue
        if from_date < fact.date <= until:
            days.add(fact.date)
        years = windows.get(fact.rule)
        if years is not None:
            out = first_day_outside(fact.date, years)
            if from_date < out <= until:
                days.add(out)
    for fact in profile.deductions:
        deduction = deductions.get(fact.rule)
        if from_date < fact.date <= until:
            days.add(fact.date)
        if fact.until is not None and from_date < fact.until <= until:
            days.add(fact.until)
        if deduction is not None and deduction.window_years is not None:
            out = first_day_outside(fact.date, deduction.window_years)
            if from_date < out <= until:
                days.add(out)
    return sorted(days)


def reach(
    profile: Profile | Mapping[str, Any],
    from_date: dt.date,
    target: Decimal | int | str,
    policies: PolicySet | PolicySelection,
    horizon_years: int = 10,
) -> Reach:
    """When the projected total first reaches ``target`` within ``horizon_years`` (accrual
    only), with the projection on that day. ``date`` is None when it is not reached."""
    goal = _target(target)
    if isinstance(horizon_years, bool) or not isinstance(horizon_years, int):
        raise ProjectionError("horizon_years", "must be a whole number of years")
    if not 0 < horizon_years <= MAX_HORIZON_YEARS:
        raise ProjectionError("horizon_years", f"must be between 1 and {MAX_HORIZON_YEARS}")
    profile = _profile(profile)
    until = shift_months(from_date, 12 * horizon_years)
    before, _ = _select(policies, from_date)
    basis = evaluate(profile, from_date, from_date, before)
    found: dt.date | None = None
    if basis.total >= goal:
        found = from_date
    else:
        for day in _candidate_days(profile, from_date, until, policies):
            after, _ = _select(policies, day, fallback=before)
            moved, _ = project_profile(profile, from_date, day, after)
            if evaluate(moved, day, day, after).total >= goal:
                found = day
                break
    return Reach(
        target=goal,
        from_date=from_date,
        until=until,
        date=found,
        current_total=basis.total,
        projection=project(profile, from_date, found, policies) if found else None,
    )


def date_reaching(
    profile: Profile | Mapping[str, Any],
    from_date: dt.date,
    target: Decimal | int | str,
    policies: PolicySet | PolicySelection,
    horizon_years: int = 10,
) -> dt.date | None:
    """The first day the projected total reaches ``target`` (accrual only), or None when it
    does not within ``horizon_years``. ``from_date`` itself when it is already reached."""
    return reach(profile, from_date, target, policies, horizon_years).date
