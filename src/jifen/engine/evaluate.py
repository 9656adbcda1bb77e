"""The scoring engine: a profile, two dates and the policy versions in, an explained score out.

Semantics (shared/policy/*.md, docs/mission.md): full years of age and full months; ``level``
rules count the highest level only; ``per_unit`` rules count whole units of the summed
quantity; ``each`` rules count every occurrence inside the window; ``flag`` rules count once;
rule caps, then item caps, then the tier cap (provincial 100, city bonus 200). Bonus windows
count back from the evaluation date, deduction windows from the review date, both inclusive;
facts dated after the reference date never count. Deductions describing one act count once at
the highest; distinct acts accumulate. The total is never below zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from jifen.engine.dates import full_months, full_years, years_before
from jifen.engine.errors import ProfileError
from jifen.engine.policy import Item, Policy, PolicySelection, PolicySet, Rule
from jifen.engine.profile import CityFact, DeductionFact, Profile, parse_profile
from jifen.engine.result import Act, Line, ScoreResult, Status

ZERO = Decimal(0)
_MIN_DATE = dt.date.min


def _n(value: Decimal) -> str:
    """A number for a human reason: no trailing zeros (18.5, 20)."""
    # Zero is formatted directly: 0 and -0 are equal but print differently.
    return _format_nonzero(value) if value else format(value.normalize(), "f")


@lru_cache(maxsize=4096)
def _format_nonzero(value: Decimal) -> str:
    # Cached: a population has few distinct point values, and equal non-zero decimals
    # (1.0 and 1) print the same, so caching by value is exact.
    return format(value.normalize(), "f")


@lru_cache(maxsize=4096)
def _item_reason(name_en: str, name_zh: str, raw: Decimal, cap: Decimal) -> tuple[str, str, str]:
    """The status and reasons of an item line (cached: most residents score the same few
    values on most items, zero above all; the names are part of the key)."""
    if raw > cap:
        return (
            Status.CAPPED,
            f"{name_en}: {_n(raw)}, capped at the item cap {_n(cap)}",
            f"{name_zh}：{_n(raw)}分，超过上限{_n(cap)}分，按{_n(cap)}分计",
        )
    return (
        Status.TOTAL,
        f"{name_en}: {_n(raw)} (cap {_n(cap)})",
        f"{name_zh}：{_n(raw)}分（上限{_n(cap)}分）",
    )


def evaluate(
    profile: Profile | Mapping[str, Any],
    evaluation_date: dt.date,
    review_date: dt.date | None,
    policies: PolicySet | PolicySelection,
) -> ScoreResult:
    """Score ``profile`` on ``evaluation_date``; deduction windows count from ``review_date``.

    ``policies`` is either the loaded set (the versions in force on the evaluation date are
    used) or an explicit selection. Raises :class:`ProfileError` naming the offending field.
    """
    if not isinstance(profile, Profile):
        profile = parse_profile(profile)
    review = review_date or evaluation_date
    selection = (
        policies if isinstance(policies, PolicySelection) else policies.select(evaluation_date)
    )
    check_profile(profile, selection)
    return _Evaluation(profile, evaluation_date, review, selection).run()


def check_profile(profile: Profile, selection: PolicySelection) -> None:
    """Check the profile's codes, levels, quantities and dates against the policy versions."""
    for field, values in (("education", [profile.education]), ("skills", profile.skills)):
        known = _field_levels(selection, field)
        for i, code in enumerate(values):
            if code is not None and code not in known:
                where = field if field == "education" else f"skills[{i}]"
                raise ProfileError(
                    where, f"unknown code {code!r} (one of: {', '.join(sorted(known))})"
                )
    city = selection.city
    for fact in profile.city:
        where = fact.ref
        rule = city.rules.get(fact.rule)
        if rule is None:
            raise ProfileError(f"{where}.rule", f"unknown rule {fact.rule!r} in policy {city.id}")
        if rule.field is not None:
            raise ProfileError(
                f"{where}.rule",
                f"{fact.rule} is scored from the profile's {rule.field} field; "
                "it takes no city fact",
            )
        if rule.levels is not None:
            if fact.level is None:
                raise ProfileError(f"{where}.level", f"missing (one of: {', '.join(rule.levels)})")
            if fact.level not in rule.levels:
                raise ProfileError(
                    f"{where}.level",
                    f"unknown level {fact.level!r} for {fact.rule} "
                    f"(one of: {', '.join(rule.levels)})",
                )
        elif fact.level is not None:
            raise ProfileError(f"{where}.level", f"{fact.rule} has no levels")
        if rule.kind == "per_unit" and fact.quantity is None:
            raise ProfileError(f"{where}.quantity", f"missing ({fact.rule} scores a quantity)")
        if rule.kind != "per_unit" and fact.quantity is not None:
            raise ProfileError(f"{where}.quantity", f"{fact.rule} takes no quantity")
        if rule.window_years is not None and fact.date is None:
            raise ProfileError(
                f"{where}.date",
                f"missing ({fact.rule} counts within the last {rule.window_years} years)",
            )
    for fact in profile.deductions:
        deduction = city.deductions_by_code.get(fact.rule)
        if deduction is None:
            raise ProfileError(
                f"{fact.ref}.rule", f"unknown deduction {fact.rule!r} in policy {city.id}"
            )
        if fact.until is not None and not deduction.while_listed:
            raise ProfileError(
                f"{fact.ref}.until", f"{fact.rule} is not a 'while listed' deduction"
            )


def _field_levels(selection: PolicySelection, field: str) -> set[str]:
    codes: set[str] = set()
    for policy in (selection.provincial, selection.city):
        for rule in policy.rules.values():
            if rule.field == field and rule.levels:
                codes.update(rule.levels)
    return codes


def _city_sort_key(fact: CityFact) -> tuple:
    return (
        fact.rule,
        fact.date or _MIN_DATE,
        fact.level or "",
        fact.quantity if fact.quantity is not None else Decimal(-1),
        fact.source or "",
    )


def _deduction_sort_key(fact: DeductionFact) -> tuple:
    return (fact.date, fact.rule, fact.act or "", fact.until or _MIN_DATE, fact.source or "")


class _Evaluation:
    """One evaluation; holds the dates, the policies and the lines being written."""

    def __init__(
        self, profile: Profile, on: dt.date, review: dt.date, selection: PolicySelection
    ) -> None:
        self.profile = profile
        self.on = on
        self.review = review
        self.selection = selection
        self.lines: list[Line] = []
        self._window_starts: dict[tuple[dt.date, int], dt.date] = {}

    # --- helpers ------------------------------------------------------------------------

    def line(
        self,
        section: str,
        item: str,
        rule: str | None,
        facts: dict[str, Any],
        points: Decimal,
        status: str,
        reason: str,
        reason_zh: str,
    ) -> None:
        self.lines.append(Line(section, item, rule, facts, points, status, reason, reason_zh))

    def window_start(self, reference: dt.date, years: int) -> dt.date:
        key = (reference, years)
        start = self._window_starts.get(key)
        if start is None:
            start = self._window_starts[key] = years_before(reference, years)
        return start

    def placement(
        self, date: dt.date | None, reference: dt.date, years: int | None, what: str
    ) -> tuple[str, str, str] | None:
        """Why a dated fact does not count (status, reason, reason_zh), or None if it does."""
        if date is None:
            return None
        if date > reference:
            return (
                Status.FUTURE,
                f"dated {date}, after the {what} date {reference}: not counted",
                f"日期{date}晚于{'审核日' if what == 'review' else '评估日'}{reference}，不计分",
            )
        if years is not None:
            start = self.window_start(reference, years)
            if date < start:
                return (
                    Status.OUTSIDE_WINDOW,
                    f"dated {date}, outside the last {years} years ({start} to {reference}): "
                    "not counted",
                    f"日期{date}不在近{years}年内（{start}至{reference}），不计分",
                )
        return None

    # --- run ----------------------------------------------------------------------------

    def run(self) -> ScoreResult:
        provincial = self.selection.provincial
        city = self.selection.city
        provincial_items = {
            item.code: self.score_item("provincial", item) for item in provincial.items
        }
        provincial_sum = sum(provincial_items.values(), ZERO)
        provincial_total = min(provincial_sum, provincial.cap)

        by_rule: dict[str, list[CityFact]] = {}
        for fact in sorted(self.profile.city, key=_city_sort_key):
            by_rule.setdefault(fact.rule, []).append(fact)
        self.city_facts = by_rule
        city_items = {item.code: self.score_item("city", item) for item in city.items}
        city_sum = sum(city_items.values(), ZERO)
        city_total = min(city_sum, city.cap)

        acts, deductions_total = self.score_deductions(city)
        raw_total = provincial_total + city_total - deductions_total
        total = max(raw_total, ZERO)

        self.summary("provincial", provincial_sum, provincial_total, provincial.cap, "省级共性指标")
        self.summary("city_bonus", city_sum, city_total, city.cap, "市级个性加分指标")
        self.line(
            "total",
            "deductions",
            None,
            {"acts": len(acts)},
            deductions_total,
            Status.TOTAL,
            f"{len(acts)} act(s) deducted: −{_n(deductions_total)} (deductions have no cap)"
            if acts
            else "no deductions: 0",
            f"扣分{len(acts)}项：−{_n(deductions_total)}分（扣分不设上限）"
            if acts
            else "无扣分：0分",
        )
        arithmetic = f"{_n(provincial_total)} + {_n(city_total)} − {_n(deductions_total)}"
        if raw_total < 0:
            reason = f"{arithmetic} = {_n(raw_total)}; the total is never below zero: 0"
            reason_zh = f"{arithmetic} = {_n(raw_total)}；总积分不低于0：0分"
        else:
            reason = f"{arithmetic} = {_n(total)}"
            reason_zh = f"{arithmetic} = {_n(total)}分"
        self.line("total", "total", None, {}, total, Status.TOTAL, reason, reason_zh)

        return ScoreResult(
            policy=self.selection,
            evaluation_date=self.on,
            review_date=self.review,
            provincial_items=provincial_items,
            provincial_total=provincial_total,
            city_items=city_items,
            city_bonus_total=city_total,
            acts=tuple(acts),
            deductions_total=deductions_total,
            total=total,
            explanation=tuple(self.lines),
        )

    def summary(self, item: str, raw: Decimal, total: Decimal, cap: Decimal, zh: str) -> None:
        if raw > cap:
            self.line(
                "total", item, None, {}, total, Status.CAPPED,
                f"sum of items {_n(raw)}, capped at {_n(cap)}",
                f"{zh}合计{_n(raw)}分，超过上限{_n(cap)}分，按{_n(cap)}分计",
            )  # fmt: skip
        else:
            self.line(
                "total", item, None, {}, total, Status.TOTAL,
                f"sum of items {_n(total)} (cap {_n(cap)})",
                f"{zh}合计{_n(total)}分（上限{_n(cap)}分）",
            )  # fmt: skip

    def score_item(self, section: str, item: Item) -> Decimal:
        raw = ZERO
        for rule in item.rules:
            if rule.field is not None:
                points = self.score_profile_rule(section, item, rule)
            else:
                points = self.score_fact_rule(item, rule, self.city_facts.get(rule.ref, ()))
            if rule.cap is not None and points > rule.cap:
                self.line(
                    section, item.code, rule.ref, {}, rule.cap, Status.CAPPED,
                    f"{rule.ref}: {_n(points)}, capped at the rule cap {_n(rule.cap)}",
                    f"{rule.name.zh}：{_n(points)}分，超过该项上限{_n(rule.cap)}分，"
                    f"按{_n(rule.cap)}分计",
                )  # fmt: skip
                points = rule.cap
            raw += points
        total = min(raw, item.cap)
        status, reason, reason_zh = _item_reason(item.name.en, item.name.zh, raw, item.cap)
        self.line(section, item.code, None, {}, total, status, reason, reason_zh)
        return total

    # --- rules reading profile fields ---------------------------------------------------

    def score_profile_rule(self, section: str, item: Item, rule: Rule) -> Decimal:
        if rule.kind == "age":
            return self.score_age(section, item, rule)
        if rule.kind == "level":
            return self.score_profile_level(section, item, rule)
        return self.score_profile_quantity(section, item, rule)

    def score_age(self, section: str, item: Item, rule: Rule) -> Decimal:
        birth = self.profile.birth_date
        facts = {"birth_date": birth.isoformat() if birth else None}
        if birth is None:
            self.line(section, item.code, rule.ref, facts, ZERO, Status.NO_DATA,
                      "no birth date: 0", "无出生日期数据：0分")  # fmt: skip
            return ZERO
        if birth > self.on:
            self.line(section, item.code, rule.ref, facts, ZERO, Status.FUTURE,
                      f"born {birth}, after the evaluation date {self.on}: 0",
                      f"出生日期{birth}晚于评估日{self.on}：0分")  # fmt: skip
            return ZERO
        age = full_years(birth, self.on)
        assert rule.base_points is not None and rule.points_per_year_younger is not None
        assert rule.base_from_age is not None and rule.max_age is not None
        head = f"{age} full years on {self.on}"
        head_zh = f"{self.on}时{age}周岁"
        if age > rule.max_age:
            points = ZERO
            reason = f"{head}: over {rule.max_age}: 0"
            reason_zh = f"{head_zh}，超过{rule.max_age}周岁：0分"
        elif age >= rule.base_from_age:
            points = rule.base_points
            reason = f"{head} ({rule.base_from_age}–{rule.max_age}: {_n(points)})"
            reason_zh = f"{head_zh}（{rule.base_from_age}至{rule.max_age}周岁：{_n(points)}分）"
        else:
            younger = rule.base_from_age - age
            formula = f"{_n(rule.base_points)} + {younger} × {_n(rule.points_per_year_younger)}"
            raw = rule.base_points + younger * rule.points_per_year_younger
            points = min(raw, item.cap)
            if raw > item.cap:
                reason = f"{head}: {formula} = {_n(raw)}, at most {_n(item.cap)}: {_n(points)}"
                reason_zh = (
                    f"{head_zh}：{formula} = {_n(raw)}，最高{_n(item.cap)}分：{_n(points)}分"
                )
            else:
                reason = f"{head}: {formula} = {_n(points)}"
                reason_zh = f"{head_zh}：{formula} = {_n(points)}分"
        facts["age"] = age
        self.line(section, item.code, rule.ref, facts, points, Status.COUNTED, reason, reason_zh)
        return points

    def score_profile_level(self, section: str, item: Item, rule: Rule) -> Decimal:
        assert rule.levels is not None and rule.field is not None
        value = getattr(self.profile, rule.field)
        codes = [value] if isinstance(value, str) else list(value or ())
        if not codes:
            self.line(section, item.code, rule.ref, {rule.field: value if codes else None},
                      ZERO, Status.NO_DATA, f"no {rule.field} data: 0",
                      f"无{item.name.zh}数据：0分")  # fmt: skip
            return ZERO
        levels = rule.levels
        policy = self.selection.provincial if section == "provincial" else self.selection.city
        # Sorted so that which of two equal levels is "the one counted" never depends on order.
        codes.sort()
        best_at = max(range(len(codes)), key=lambda i: (levels.get(codes[i], ZERO), -i))
        best = codes[best_at]
        best_points = levels.get(best, ZERO)
        best_label = policy.label(best)
        for at, code in enumerate(codes):
            points = levels.get(code, ZERO)
            facts = {rule.field: code}
            label = policy.label(code)
            if at == best_at:
                if best_points:
                    extra = " (the highest level counts)" if len(codes) > 1 else ""
                    extra_zh = "（按最高等级计分）" if len(codes) > 1 else ""
                    self.line(section, item.code, rule.ref, facts, points, Status.COUNTED,
                              f"{label.en}: {_n(points)}{extra}",
                              f"{label.zh}：{_n(points)}分{extra_zh}")  # fmt: skip
                else:
                    self.line(section, item.code, rule.ref, facts, ZERO, Status.COUNTED,
                              f"{label.en} scores no points under {rule.ref}: 0",
                              f"{label.zh}不在本项计分范围：0分")  # fmt: skip
            else:
                self.line(section, item.code, rule.ref, facts, ZERO, Status.NOT_CUMULATIVE,
                          f"{label.en}: {_n(points)}, not counted (only the highest level, "
                          f"{best_label.en}, counts)",
                          f"{label.zh}：{_n(points)}分，不累加（按最高等级{best_label.zh}计分）"
                          )  # fmt: skip
        return best_points

    def score_profile_quantity(self, section: str, item: Item, rule: Rule) -> Decimal:
        assert rule.points is not None and rule.field is not None
        unit_en = rule.unit_name.en if rule.unit_name else "units"
        unit_zh = rule.unit_name.zh if rule.unit_name else "单位"
        quantity = getattr(self.profile, rule.field)
        facts: dict[str, Any] = {rule.field: quantity}
        how, how_zh = "", ""
        if quantity is None and rule.months_since_field is not None:
            since = getattr(self.profile, rule.months_since_field)
            facts = {rule.months_since_field: since.isoformat() if since else None}
            if since is not None and since > self.on:
                self.line(section, item.code, rule.ref, facts, ZERO, Status.FUTURE,
                          f"registered {since}, after the evaluation date {self.on}: 0",
                          f"登记日期{since}晚于评估日{self.on}：0分")  # fmt: skip
                return ZERO
            if since is not None:
                quantity = full_months(since, self.on)
                facts["full_months"] = quantity
                how = f" (full months from {since} to {self.on})"
                how_zh = f"（自{since}至{self.on}满月数）"
        if quantity is None:
            self.line(section, item.code, rule.ref, facts, ZERO, Status.NO_DATA,
                      f"no {' or '.join(filter(None, (rule.field, rule.months_since_field)))} "
                      "data: 0", f"无{item.name.zh}数据：0分")  # fmt: skip
            return ZERO
        units = Decimal(quantity) // rule.unit
        points = units * rule.points
        self.line(
            section, item.code, rule.ref, facts, points, Status.COUNTED,
            f"{quantity} {unit_en}{how} × {_n(rule.points)} = {_n(points)}",
            f"{quantity}{unit_zh}{how_zh} × {_n(rule.points)} = {_n(points)}分",
        )  # fmt: skip
        return points

    # --- rules reading city facts --------------------------------------------------------

    def score_fact_rule(self, item: Item, rule: Rule, facts: Any) -> Decimal:
        eligible: list[CityFact] = []
        for fact in facts:
            excluded = self.placement(fact.date, self.on, rule.window_years, "evaluation")
            if excluded is None:
                eligible.append(fact)
            else:
                self.line("city", item.code, rule.ref, fact.as_dict(), ZERO, *excluded)
        kind = rule.kind
        if kind == "per_unit":
            return self.score_fact_quantity(item, rule, eligible)
        if kind == "each":
            total = ZERO
            window = self.window_note(rule)
            for fact in eligible:
                points = rule.levels[fact.level] if rule.levels else rule.points
                what, what_zh = self.fact_label(rule, fact)
                self.line("city", item.code, rule.ref, fact.as_dict(), points, Status.COUNTED,
                          f"{what} on {fact.date}{window[0]}: {_n(points)}",
                          f"{what_zh}（{fact.date}）{window[1]}：{_n(points)}分")  # fmt: skip
                total += points
            return total
        # flag and level: one fact counts, the best one.
        if not eligible:
            return ZERO
        if kind == "level":
            best = max(eligible, key=lambda f: (rule.levels[f.level], -eligible.index(f)))
            points = rule.levels[best.level]
        else:
            best = eligible[0]
            points = rule.points
        for fact in eligible:
            what, what_zh = self.fact_label(rule, fact)
            if fact is best:
                self.line("city", item.code, rule.ref, fact.as_dict(), points, Status.COUNTED,
                          f"{what}, holds on {self.on}: {_n(points)}",
                          f"{what_zh}（{self.on}）：{_n(points)}分")  # fmt: skip
            else:
                self.line("city", item.code, rule.ref, fact.as_dict(), ZERO,
                          Status.NOT_CUMULATIVE,
                          f"{what}: not counted ({rule.ref} counts once, at its highest)",
                          f"{what_zh}：不累加（本项按一次、最高等级计分）")  # fmt: skip
        return points

    def fact_label(self, rule: Rule, fact: CityFact) -> tuple[str, str]:
        """``rule.ref (level)`` in English, the rule's Chinese name with the level in Chinese."""
        if fact.level is None:
            return rule.ref, rule.name.zh
        label = self.selection.city.label(fact.level)
        return f"{rule.ref} ({label.en})", f"{rule.name.zh}（{label.zh}）"

    def window_note(self, rule: Rule) -> tuple[str, str]:
        if rule.window_years is None:
            return "", ""
        start = self.window_start(self.on, rule.window_years)
        return (
            f", inside the last {rule.window_years} years (from {start})",
            f"，在近{rule.window_years}年内（{start}起）",
        )

    def score_fact_quantity(self, item: Item, rule: Rule, eligible: list[CityFact]) -> Decimal:
        assert rule.points is not None
        if not eligible:
            return ZERO
        quantity = sum((f.quantity for f in eligible), ZERO)
        units = quantity // rule.unit
        points = units * rule.points
        unit_en = rule.unit_name.en if rule.unit_name else "units"
        unit_zh = rule.unit_name.zh if rule.unit_name else "单位"
        window = self.window_note(rule)
        if rule.unit == 1:
            calc = f"{_n(quantity)} {unit_en}{window[0]} × {_n(rule.points)} = {_n(points)}"
            calc_zh = f"{_n(quantity)}{unit_zh}{window[1]} × {_n(rule.points)} = {_n(points)}分"
        else:
            calc = (
                f"{_n(quantity)} {unit_en}{window[0]}: {units} full units of {_n(rule.unit)} "
                f"× {_n(rule.points)} = {_n(points)}"
            )
            calc_zh = (
                f"{_n(quantity)}{unit_zh}{window[1]}：满{_n(rule.unit)}{unit_zh}共{units}个 "
                f"× {_n(rule.points)} = {_n(points)}分"
            )
        facts = {"facts": [f.as_dict() for f in eligible], "quantity": _n(quantity)}
        self.line("city", item.code, rule.ref, facts, points, Status.COUNTED, calc, calc_zh)
        return points

    # --- deductions ---------------------------------------------------------------------

    def score_deductions(self, city: Policy) -> tuple[list[Act], Decimal]:
        # Keyed by ("act", id) or, for a fact without an act, ("fact", index): an act id can
        # never collide with a fact that names no act.
        counted: dict[tuple[str, str | int], tuple[DeductionFact, Decimal]] = {}
        order: list[tuple[str, str | int]] = []
        pending: list[tuple[DeductionFact, Decimal, tuple[str, str | int]]] = []
        for fact in sorted(self.profile.deductions, key=_deduction_sort_key):
            deduction = city.deductions_by_code[fact.rule]
            if deduction.while_listed:
                excluded = self.listing_status(fact)
            else:
                excluded = self.placement(fact.date, self.review, deduction.window_years, "review")
            if excluded is not None:
                self.line("deduction", "deductions", fact.rule, fact.as_dict(), ZERO, *excluded)
                continue
            key = ("act", fact.act) if fact.act is not None else ("fact", fact.index)
            current = counted.get(key)
            if current is None:
                order.append(key)
            if current is None or deduction.points > current[1]:
                counted[key] = (fact, deduction.points)
            pending.append((fact, deduction.points, key))
        for fact, points, key in pending:
            best, best_points = counted[key]
            act_label = f"act {fact.act}" if fact.act is not None else "one act"
            if fact is best:
                note = " (the highest deduction of this act)" if fact.act is not None else ""
                note_zh = "（同一行为按最高扣分计）" if fact.act is not None else ""
                name = city.deductions_by_code[fact.rule].name
                self.line("deduction", "deductions", fact.rule, fact.as_dict(), points,
                          Status.COUNTED,
                          f"{name.en} on {fact.date}, {act_label}: −{_n(points)}{note}",
                          f"{name.zh}（{fact.date}）：−{_n(points)}分{note_zh}")  # fmt: skip
            else:
                self.line("deduction", "deductions", fact.rule, fact.as_dict(), ZERO,
                          Status.SAME_ACT,
                          f"same act {fact.act} as {best.rule}: −{_n(points)} not added (one act "
                          f"counts once, at its highest deduction −{_n(best_points)})",
                          f"与{best.rule}属同一行为{fact.act}：不重复扣分（按最高"
                          f"−{_n(best_points)}分计）")  # fmt: skip
        acts = [Act(act=counted[k][0].act, rule=counted[k][0].rule, points=counted[k][1])
                for k in order]  # fmt: skip
        return acts, sum((a.points for a in acts), ZERO)

    def listing_status(self, fact: DeductionFact) -> tuple[str, str, str] | None:
        """A "while listed" deduction counts when the review date is in [date, until)."""
        if fact.date > self.review:
            return (
                Status.FUTURE,
                f"listed from {fact.date}, after the review date {self.review}: not counted",
                f"列入日期{fact.date}晚于审核日{self.review}，不扣分",
            )
        if fact.until is not None and fact.until <= self.review:
            return (
                Status.NOT_LISTED,
                f"listing lifted on {fact.until}, before the review date {self.review}: "
                "not counted",
                f"已于{fact.until}移出名单（审核日{self.review}），不扣分",
            )
        return None
