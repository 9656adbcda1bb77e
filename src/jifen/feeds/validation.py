"""Checking feed rows one by one against the policies in force and the routing table.

A row becomes a :class:`CheckedRow` (a fact to apply, a permit status change, possibly the
registration of a new resident) or raises :class:`RowRejected` naming the field and the reason,
in English and Chinese. Nothing here touches the database: the caller supplies the routes, the
towns and (later) the residents.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from jifen.engine import PolicySelection
from jifen.engine.policy import PROFILE_FIELDS, Deduction, Rule
from jifen.engine.profile import is_iso_date
from jifen.facts.models import FactKind
from jifen.feeds.formats import PERMIT_STATUS_RULE, FeedFormat
from jifen.identity import IdentityNumber, InvalidIdentityNumber, validate_identity_number
from jifen.org.models import Town
from jifen.residents.models import PermitStatus

MAX_RECORD_ID = 80
MAX_REASON = 200
MAX_NAME = 50
MAX_ACT = 60
#: Quantities are stored with 14 digits, 2 of them decimals.
MAX_QUANTITY = Decimal("999999999999.99")
_HUNDREDTH = Decimal("0.01")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RowRejected(Exception):
    """A row is refused: ``field`` (column) and ``code`` are stable, ``en``/``zh`` explain."""

    def __init__(self, field: str, code: str, en: str, zh: str) -> None:
        super().__init__(f"{field}: {en}" if field else en)
        self.field = field
        self.code = code
        self.en = en
        self.zh = zh


@dataclass(frozen=True, slots=True)
class FactSpec:
    """What :func:`jifen.facts.services.apply_fact` receives for one row."""

    kind: str
    code: str
    key: str
    department: str
    level: str = ""
    quantity: Decimal | None = None
    date: dt.date | None = None
    until: dt.date | None = None
    act: str = ""


@dataclass(frozen=True, slots=True)
class PermitSpec:
    status: str
    effective_on: dt.date
    reason: str
    permit_number: str


@dataclass(frozen=True, slots=True)
class Registration:
    name: str
    town: Town
    permit_number: str
    permit_issued_on: dt.date | None


@dataclass(frozen=True, slots=True)
class CheckedRow:
    number: int
    record_id: str
    rule: str
    identity: IdentityNumber
    fact: FactSpec | None = None
    permit: PermitSpec | None = None
    registration: Registration | None = None


class Checker:
    """Checks the rows of one feed on one day against the policy versions in force then.

    ``routes`` maps a rule to the departments (among the feed's) responsible for it, from the
    routing table; a rule the feed's departments are not routed to is refused.
    """

    def __init__(
        self,
        feed: FeedFormat,
        selection: PolicySelection,
        routes: Mapping[str, list[str]],
        today: dt.date,
        towns: Mapping[str, Town] | None = None,
    ) -> None:
        self.feed = feed
        self.selection = selection
        self.routes = routes
        self.today = today
        self.towns = towns or {}
        self.city_rules: dict[str, Rule] = dict(selection.city.rules)
        self.provincial_rules: dict[str, Rule] = dict(selection.provincial.rules)
        self.deductions: dict[str, Deduction] = dict(selection.city.deductions_by_code)
        self.field_levels: dict[str, set[str]] = {}
        for policy in (selection.provincial, selection.city):
            for rule in policy.rules.values():
                if rule.field is not None and rule.levels:
                    self.field_levels.setdefault(rule.field, set()).update(rule.levels)
        self.policy_ids = f"{selection.provincial.id}, {selection.city.id}"

    # --- the row --------------------------------------------------------------------------

    def check(self, number: int, values: Mapping[str, str | None]) -> CheckedRow:
        identity = self._identity(values.get("identity_number"))
        record_id = self._record_id(values.get("record_id"))
        rule = self._required(values, "rule")
        if rule == PERMIT_STATUS_RULE and rule in self.feed.extra_rules:
            permit = self._permit(values)
            fact = None
        else:
            departments = self._departments_for(rule)
            fact = self._fact(rule, record_id, departments[0], values, identity)
            permit = None
        registration = self._registration(values) if self.feed.registers_residents else None
        return CheckedRow(number, record_id, rule, identity, fact, permit, registration)

    def _identity(self, value: str | None) -> IdentityNumber:
        if value is None:
            raise _missing("identity_number")
        try:
            return validate_identity_number(value, self.today)
        except InvalidIdentityNumber as exc:
            # The message never repeats the number (jifen.identity).
            raise RowRejected(
                "identity_number",
                "invalid_identity_number",
                f"not a valid identity number: {exc}",
                "身份证号码无效（" + _IDENTITY_ZH.get(str(exc.reason), str(exc)) + "）",
            ) from None

    def _record_id(self, value: str | None) -> str:
        if value is None:
            raise _missing("record_id")
        if len(value) > MAX_RECORD_ID:
            raise RowRejected(
                "record_id",
                "too_long",
                f"at most {MAX_RECORD_ID} characters",
                f"不得超过{MAX_RECORD_ID}个字符",
            )
        if _CONTROL.search(value):
            raise RowRejected(
                "record_id", "invalid_characters", "contains control characters", "含有控制字符"
            )
        return value

    def _required(self, values: Mapping[str, str | None], name: str) -> str:
        value = values.get(name)
        if value is None:
            raise _missing(name)
        return value

    def _departments_for(self, rule: str) -> list[str]:
        known = rule in PROFILE_FIELDS or rule in self.city_rules or rule in self.deductions
        hint_rule = self.city_rules.get(rule) or self.provincial_rules.get(rule)
        if rule not in PROFILE_FIELDS and hint_rule is not None and hint_rule.field is not None:
            raise RowRejected(
                "rule",
                "send_field",
                f"{rule} is scored from the profile field {hint_rule.field}: "
                f"send rule={hint_rule.field}",
                f"{rule}由字段{hint_rule.field}计分，请报送rule={hint_rule.field}",
            )
        if not known:
            raise RowRejected(
                "rule",
                "unknown_rule",
                f"unknown rule {rule!r} (not in the policy versions in force on "
                f"{self.today.isoformat()}: {self.policy_ids})",
                f"未知的报送内容“{rule}”（{self.today.isoformat()}施行的指标体系中没有）",
            )
        departments = self.routes.get(rule)
        if not departments:
            raise RowRejected(
                "rule",
                "not_this_department",
                f"{rule} is not reported by the {self.feed.code} feed "
                f"({self.feed.department}): another department is responsible for it",
                f"{rule}不属于{self.feed.zh}的报送范围，由其他部门负责",
            )
        return departments

    # --- facts ----------------------------------------------------------------------------

    def _fact(
        self,
        rule: str,
        record_id: str,
        department: str,
        values: Mapping[str, str | None],
        identity: IdentityNumber,
    ) -> FactSpec:
        if rule in PROFILE_FIELDS:
            return self._provincial(rule, department, values, identity)
        if rule in self.deductions:
            return self._deduction(self.deductions[rule], record_id, department, values)
        return self._city(self.city_rules[rule], record_id, department, values)

    def _provincial(
        self,
        field: str,
        department: str,
        values: Mapping[str, str | None],
        identity: IdentityNumber,
    ) -> FactSpec:
        shape = PROFILE_FIELDS[field]
        self._absent(values, field, "until", "act")
        if shape == "date":
            self._absent(values, field, "level", "quantity")
            date = self._date(values, "date", required=True)
            if field == "birth_date" and date != identity.birth_date:
                raise RowRejected(
                    "date",
                    "birth_date_mismatch",
                    "the birth date does not agree with the identity number",
                    "出生日期与身份证号码不一致",
                )
            return FactSpec(FactKind.PROVINCIAL, field, field, department, date=date)
        date = self._date(values, "date", required=False)
        if shape == "quantity":
            self._absent(values, field, "level")
            quantity = self._quantity(values, whole=True)
            return FactSpec(
                FactKind.PROVINCIAL, field, field, department, quantity=quantity, date=date
            )
        self._absent(values, field, "quantity")
        level = self._level(values, field, self.field_levels.get(field, set()))
        key = field if shape == "code" else f"{field}:{level}"
        return FactSpec(FactKind.PROVINCIAL, field, key, department, level=level, date=date)

    def _city(
        self, rule: Rule, record_id: str, department: str, values: Mapping[str, str | None]
    ) -> FactSpec:
        code = rule.ref
        self._absent(values, code, "until", "act")
        level = ""
        if rule.levels is not None:
            level = self._level(values, code, set(rule.levels))
        else:
            self._absent(values, code, "level")
        quantity = None
        if rule.kind == "per_unit":
            quantity = self._quantity(values, whole=False)
        else:
            self._absent(values, code, "quantity")
        date = self._date(values, "date", required=rule.window_years is not None, rule=rule)
        return FactSpec(
            FactKind.CITY,
            code,
            self._key(record_id),
            department,
            level=level,
            quantity=quantity,
            date=date,
        )

    def _deduction(
        self,
        deduction: Deduction,
        record_id: str,
        department: str,
        values: Mapping[str, str | None],
    ) -> FactSpec:
        code = deduction.code
        self._absent(values, code, "level", "quantity")
        date = self._date(values, "date", required=True)
        until = None
        if deduction.while_listed:
            until = self._date(values, "until", required=False, future_ok=True)
            if until is not None and until < date:
                raise RowRejected(
                    "until",
                    "until_before_date",
                    "the end of the listing is before its start (date)",
                    "移出名单日期早于列入日期",
                )
        else:
            self._absent(values, code, "until")
        act = values.get("act") or ""
        if len(act) > MAX_ACT:
            raise RowRejected(
                "act", "too_long", f"at most {MAX_ACT} characters", f"不得超过{MAX_ACT}个字符"
            )
        return FactSpec(
            FactKind.DEDUCTION,
            code,
            self._key(record_id),
            department,
            date=date,
            until=until,
            act=act,
        )

    def _key(self, record_id: str) -> str:
        return f"{self.feed.code}:{record_id}"

    # --- permits and registration ---------------------------------------------------------

    def _permit(self, values: Mapping[str, str | None]) -> PermitSpec:
        rule = PERMIT_STATUS_RULE
        self._absent(values, rule, "level", "quantity", "until", "act")
        status = self._required(values, "status")
        if status not in PermitStatus.values:
            raise RowRejected(
                "status",
                "unknown_status",
                f"unknown permit status {status!r} (one of: {', '.join(PermitStatus.values)})",
                f"未知的居住证状态“{status}”",
            )
        reason = values.get("reason") or ""
        if len(reason) > MAX_REASON:
            raise RowRejected(
                "reason",
                "too_long",
                f"at most {MAX_REASON} characters",
                f"不得超过{MAX_REASON}个字符",
            )
        effective_on = self._date(values, "date", required=True)
        return PermitSpec(status, effective_on, reason, values.get("permit_number") or "")

    def _registration(self, values: Mapping[str, str | None]) -> Registration | None:
        name = values.get("name")
        if name is None:
            return None
        if len(name) > MAX_NAME or _CONTROL.search(name):
            raise RowRejected(
                "name",
                "invalid_name",
                f"at most {MAX_NAME} printable characters",
                f"不得超过{MAX_NAME}个字符",
            )
        town_value = self._required(values, "town")
        town = self.towns.get(town_value) or self.towns.get(town_value.lower())
        if town is None:
            raise RowRejected(
                "town",
                "unknown_town",
                f"unknown town {town_value!r} (a town code such as wutong, or its name)",
                f"未知的镇（街道）“{town_value}”",
            )
        issued_on = self._date(values, "permit_issued_on", required=False)
        return Registration(name, town, values.get("permit_number") or "", issued_on)

    # --- cells ----------------------------------------------------------------------------

    def _absent(self, values: Mapping[str, str | None], rule: str, *names: str) -> None:
        for name in names:
            if values.get(name) is not None:
                raise RowRejected(
                    name,
                    "not_applicable",
                    f"{rule} takes no {name}",
                    f"{rule}不应填写{name}",
                )

    def _level(self, values: Mapping[str, str | None], rule: str, levels: set[str]) -> str:
        level = values.get("level")
        choices = ", ".join(sorted(levels))
        if level is None:
            raise RowRejected(
                "level",
                "missing",
                f"missing ({rule} needs one of: {choices})",
                f"缺少等级（{rule}的等级：{choices}）",
            )
        if level not in levels:
            raise RowRejected(
                "level",
                "unknown_level",
                f"unknown level {level!r} for {rule} (one of: {choices})",
                f"{rule}没有等级“{level}”（可选：{choices}）",
            )
        return level

    def _quantity(self, values: Mapping[str, str | None], *, whole: bool) -> Decimal:
        text = values.get("quantity")
        if text is None:
            raise _missing("quantity")
        try:
            number = Decimal(text)
            finite = number.is_finite()
        except InvalidOperation:
            finite = False
        if not finite:
            raise RowRejected(
                "quantity", "not_a_number", f"{text!r} is not a number", f"“{text}”不是数字"
            )
        if number < 0:
            raise RowRejected("quantity", "negative_quantity", "must not be negative", "不得为负数")
        if number > MAX_QUANTITY:
            raise RowRejected("quantity", "too_large", "is implausibly large", "数值过大")
        if whole and number != number.to_integral_value():
            raise RowRejected("quantity", "not_whole", "must be a whole number", "必须为整数")
        if number != number.quantize(_HUNDREDTH, rounding=ROUND_DOWN):
            raise RowRejected(
                "quantity", "too_precise", "at most two decimal places", "最多两位小数"
            )
        return number

    def _date(
        self,
        values: Mapping[str, str | None],
        name: str,
        *,
        required: bool,
        rule: Rule | None = None,
        future_ok: bool = False,
    ) -> dt.date | None:
        text = values.get(name)
        if text is None:
            if not required:
                return None
            if rule is not None and rule.window_years is not None:
                raise RowRejected(
                    name,
                    "missing",
                    f"missing ({rule.ref} counts within the last {rule.window_years} years)",
                    f"缺少日期（{rule.ref}按近{rule.window_years}年计分）",
                )
            raise _missing(name)
        if not is_iso_date(text):
            raise RowRejected(
                name,
                "bad_date",
                f"{text!r} is not a date written YYYY-MM-DD",
                f"“{text}”不是YYYY-MM-DD格式的日期",
            )
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise RowRejected(
                name, "impossible_date", f"impossible date {text!r}", f"日期“{text}”不存在"
            ) from None
        if not future_ok and day > self.today:
            raise RowRejected(
                name,
                "future_date",
                f"{text} is after the day of the import ({self.today.isoformat()})",
                f"{text}晚于导入日期（{self.today.isoformat()}）",
            )
        return day


def _missing(name: str) -> RowRejected:
    return RowRejected(name, "missing", "missing", "缺少该项")


_IDENTITY_ZH = {
    "length": "应为18位",
    "characters": "应为17位数字加1位数字或X",
    "region": "地区代码无效",
    "birth_date": "出生日期不存在",
    "future_birth_date": "出生日期在将来",
    "check_digit": "校验码不符",
}
