"""Policy versions (指标体系): dated, hashed rule tables loaded from YAML files.

A policy file is one version of one tier's indicator table. Every value the engine scores with
comes from these files; ``docs/policies.md`` documents the format. Loading validates strictly
and refuses a bad file with a :class:`PolicyError` naming the file, the path and the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from jifen.engine.errors import NoPolicyInForce, PolicyError

TIERS = ("provincial", "city")
RULE_KINDS = ("age", "level", "per_unit", "each", "flag")
#: Profile fields a rule may read directly (the provincial facts of the profile format).
PROFILE_FIELDS = {
    "birth_date": "date",
    "education": "code",
    "skills": "codes",
    "social_insurance_months": "quantity",
    "residence_months": "quantity",
    "residence_registered_on": "date",
}
PROCEDURE_KEYS = (
    "review_workdays",
    "review_extension_workdays",
    "review_extensions_max",
    "publication_min_workdays",
    "reexamination_request_workdays",
    "reexamination_answer_workdays",
)
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Text:
    """A label in Chinese and English."""

    zh: str
    en: str


@dataclass(frozen=True)
class Rule:
    """One scoring rule (赋分标准) of an item."""

    item: str
    code: str
    kind: str
    name: Text
    departments: tuple[str, ...] = ()
    field: str | None = None
    months_since_field: str | None = None
    points: Decimal | None = None
    levels: Mapping[str, Decimal] | None = None
    unit: Decimal = Decimal(1)
    unit_name: Text | None = None
    cap: Decimal | None = None
    window_years: int | None = None
    # Only for kind "age".
    base_points: Decimal | None = None
    base_from_age: int | None = None
    max_age: int | None = None
    points_per_year_younger: Decimal | None = None

    @property
    def ref(self) -> str:
        """The code facts use: ``charity.blood_donation``; a one-rule item's own code."""
        return self.code if self.code == self.item else f"{self.item}.{self.code}"


@dataclass(frozen=True)
class Item:
    """An indicator item (指标项) with its cap and rules."""

    code: str
    name: Text
    cap: Decimal
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Deduction:
    """A deduction item (扣分指标): points subtracted, inside a window or while listed."""

    code: str
    name: Text
    points: Decimal
    window_years: int | None
    while_listed: bool
    departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """One version of one tier's indicator table."""

    id: str
    scope: str
    tier: str
    title: Text
    effective_from: dt.date
    effective_until: dt.date | None
    reference_values: bool
    source: Mapping[str, Any]
    cap: Decimal
    items: tuple[Item, ...]
    deductions: tuple[Deduction, ...]
    departments: Mapping[str, Text]
    procedure: Mapping[str, int]
    labels: Mapping[str, Text]
    hash: str
    file: str
    rules: Mapping[str, Rule] = field(default_factory=dict)
    deductions_by_code: Mapping[str, Deduction] = field(default_factory=dict)

    def label(self, code: str) -> Text:
        """The display name of a level or fact code (the code itself when none is given)."""
        return self.labels.get(code) or Text(zh=code, en=code)

    def in_force(self, day: dt.date) -> bool:
        """True when this version applies on ``day`` (both ends inclusive)."""
        if day < self.effective_from:
            return False
        return self.effective_until is None or day <= self.effective_until


@dataclass(frozen=True)
class PolicySelection:
    """The provincial and city versions used for one evaluation."""

    provincial: Policy
    city: Policy

    @property
    def hash(self) -> str:
        """One hash identifying the pair of versions."""
        joined = f"{self.provincial.hash}:{self.city.hash}".encode()
        return hashlib.sha256(joined).hexdigest()

    @property
    def reference_values(self) -> bool:
        return self.provincial.reference_values or self.city.reference_values


class PolicySet:
    """All loaded versions; picks the one in force on a date, never "the latest"."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies: tuple[Policy, ...] = tuple(
            sorted(policies, key=lambda p: (p.tier, p.scope, p.effective_from))
        )
        check_no_overlap(self.policies)
        self.by_id = {p.id: p for p in self.policies}

    def in_force(self, day: dt.date, tier: str | None = None) -> list[Policy]:
        """The versions in force on ``day`` (optionally of one tier)."""
        return [p for p in self.policies if p.in_force(day) and (tier is None or p.tier == tier)]

    def get(self, policy_id: str) -> Policy:
        try:
            return self.by_id[policy_id]
        except KeyError:
            known = ", ".join(self.by_id) or "none"
            raise NoPolicyInForce(
                f"unknown policy version {policy_id!r} (loaded: {known})"
            ) from None

    def select(self, day: dt.date, pinned: Iterable[str] = ()) -> PolicySelection:
        """The provincial and city versions for ``day``; ``pinned`` ids override by tier."""
        chosen: dict[str, Policy] = {}
        for policy_id in pinned:
            policy = self.get(policy_id)
            chosen[policy.tier] = policy
        for tier in TIERS:
            if tier in chosen:
                continue
            found = self.in_force(day, tier)
            if not found:
                raise NoPolicyInForce(f"no {tier} policy version is in force on {day.isoformat()}")
            chosen[tier] = found[0]
        return PolicySelection(provincial=chosen["provincial"], city=chosen["city"])


# --- loading -----------------------------------------------------------------------------


class _DecimalLoader(yaml.SafeLoader):
    """YAML loader that reads numbers with a fraction as Decimal, never float."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise yaml.constructor.ConstructorError(
            None, None, f"{text!r} is not a decimal number", node.start_mark
        ) from None


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    # PyYAML lets a repeated key silently win; in a rule table that hides a typo.
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (given twice in one mapping)",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_DecimalLoader.add_constructor("tag:yaml.org,2002:map", _construct_unique_mapping)


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        # 5, 5.0 and 5.00 are the same value and must give the same hash.
        return format(Decimal(value).normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def content_hash(data: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a policy's content (formatting and comments excluded)."""
    text = json.dumps(_canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_policy_dir() -> Path:
    from jifen import PROJECT_ROOT

    return Path(os.environ.get("JIFEN_POLICY_DIR", PROJECT_ROOT / "policies"))


def load_policy_file(path: Path | str) -> Policy:
    """Load and validate one policy file."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(name, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise PolicyError(name, "", f"not UTF-8 text ({exc.reason})") from None
    try:
        data = yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(name, where, f"not valid YAML: {problem}") from None
    return parse_policy(data, name)


def load_policies(directory: Path | str | None = None) -> PolicySet:
    """Load every ``*.yaml`` policy file of ``directory`` (not its sub-folders)."""
    directory = Path(directory) if directory is not None else default_policy_dir()
    files = sorted(p for p in directory.glob("*.yaml") if p.is_file())
    if not files:
        raise PolicyError(str(directory), "", "no policy files (*.yaml) found")
    return PolicySet(load_policy_file(p) for p in files)


def check_no_overlap(policies: Iterable[Policy]) -> None:
    """Refuse two versions with the same id, or of one scope in force on the same day."""
    seen: dict[str, Policy] = {}
    by_scope: dict[str, list[Policy]] = {}
    for policy in policies:
        if policy.id in seen:
            raise PolicyError(
                policy.file,
                "id",
                f"duplicate policy id {policy.id!r} (also in {seen[policy.id].file})",
            )
        seen[policy.id] = policy
        by_scope.setdefault(policy.scope, []).append(policy)
    for versions in by_scope.values():
        ordered = sorted(versions, key=lambda p: p.effective_from)
        for earlier, later in itertools.pairwise(ordered):
            if earlier.tier != later.tier:
                raise PolicyError(
                    later.file, "tier", f"scope {later.scope!r} is {earlier.tier} in {earlier.file}"
                )
            if earlier.effective_until is None or earlier.effective_until >= later.effective_from:
                raise PolicyError(
                    later.file,
                    "effective_from",
                    f"overlapping effective dates for scope {later.scope!r}: "
                    f"{earlier.file} is in force until "
                    f"{earlier.effective_until or 'further notice'}, "
                    f"this version starts {later.effective_from} (set effective_until on the "
                    "earlier version)",
                )


class _Reader:
    """Typed access to a mapping with the path of every value, for precise errors."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, reason: str) -> PolicyError:
        return PolicyError(self.file, path, reason)

    def mapping(self, value: Any, path: str, allowed: Iterable[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path or "(top level)", "must be a mapping")
        unknown = sorted(str(k) for k in value if k not in set(allowed))
        if unknown:
            raise self.fail(_join(path, unknown[0]), "unknown key")
        return value

    def required(self, data: Mapping[str, Any], key: str, path: str) -> Any:
        if key not in data or data[key] is None:
            raise self.fail(_join(path, key), "missing")
        return data[key]

    def string(self, data: Mapping[str, Any], key: str, path: str, required: bool = True) -> Any:
        value = self.required(data, key, path) if required else data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(_join(path, key), "must be a non-empty string")
        return value

    def code(self, data: Mapping[str, Any], key: str, path: str) -> str:
        value = self.string(data, key, path)
        if not value.replace("_", "").isalnum() or not value.isascii() or value != value.lower():
            raise self.fail(_join(path, key), f"{value!r} is not a code (lower-case a-z, 0-9, _)")
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str) -> Text:
        value = self.mapping(self.required(data, key, path), _join(path, key), ("zh", "en"))
        return Text(
            zh=self.string(value, "zh", _join(path, key)),
            en=self.string(value, "en", _join(path, key)),
        )

    def date(self, data: Mapping[str, Any], key: str, path: str, required: bool = True) -> Any:
        value = self.required(data, key, path) if required else data.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise self.fail(_join(path, key), "must be a date (YYYY-MM-DD)")
        return value

    def points(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        required: bool = True,
        zero: bool = False,
    ) -> Any:
        value = self.required(data, key, path) if required else data.get(key)
        if value is None:
            return None
        return self.amount(value, _join(path, key), zero=zero)

    def amount(self, value: Any, path: str, zero: bool = False) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(path, "must be a number")
        number = Decimal(value)
        if number < 0 or (number == 0 and not zero):
            raise self.fail(
                path, "must be greater than zero" if not zero else "must not be negative"
            )
        if number != number.quantize(HUNDREDTH):
            raise self.fail(path, "at most two decimal places (points are kept in hundredths)")
        return number

    def integer(self, data: Mapping[str, Any], key: str, path: str, required: bool = True) -> Any:
        value = self.required(data, key, path) if required else data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(_join(path, key), "must be a whole number greater than zero")
        return value

    def departments(self, data: Mapping[str, Any], path: str, known: Mapping[str, Text]) -> tuple:
        value = data.get("departments", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(_join(path, "departments"), "must be a list of department codes")
        for i, code in enumerate(value):
            if code not in known:
                raise self.fail(
                    f"{_join(path, 'departments')}[{i}]",
                    f"unknown department {code!r} (not in the file's departments)",
                )
        return tuple(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_TOP_KEYS = (
    "id",
    "scope",
    "tier",
    "title",
    "effective_from",
    "effective_until",
    "reference_values",
    "source",
    "cap",
    "departments",
    "items",
    "deductions",
    "procedure",
    "labels",
    "notes",
)
_RULE_KEYS = {
    "age": ("field", "base_points", "base_from_age", "max_age", "points_per_year_younger"),
    "level": ("field", "levels", "cap", "window_years"),
    "per_unit": (
        "field",
        "months_since_field",
        "points",
        "unit",
        "unit_name",
        "cap",
        "window_years",
    ),
    "each": ("points", "levels", "cap", "window_years"),
    "flag": ("points", "window_years"),
}


def parse_policy(data: Any, file: str) -> Policy:
    """Validate the parsed YAML of one policy file and build the :class:`Policy`."""
    r = _Reader(file)
    top = r.mapping(data, "", _TOP_KEYS)
    policy_id = r.string(top, "id", "")
    scope = r.code(top, "scope", "")
    tier = r.string(top, "tier", "")
    if tier not in TIERS:
        raise r.fail("tier", f"{tier!r} is not a tier (one of: {', '.join(TIERS)})")
    effective_from = r.date(top, "effective_from", "")
    effective_until = r.date(top, "effective_until", "", required=False)
    if effective_until is not None and effective_until < effective_from:
        raise r.fail("effective_until", "is before effective_from")
    reference_values = top.get("reference_values")
    if not isinstance(reference_values, bool):
        raise r.fail("reference_values", "missing or not true/false")
    source = r.mapping(
        r.required(top, "source", ""), "source", ("document", "title", "clause", "url", "note")
    )
    r.string(source, "document", "source")
    r.string(source, "clause", "source")
    for key in ("title", "url", "note"):
        r.string(source, key, "source", required=False)
    cap = r.points(top, "cap", "")

    departments_raw = r.mapping(
        top.get("departments") or {}, "departments", top.get("departments") or {}
    )
    departments = {
        str(code): r.text(departments_raw, code, "departments") for code in departments_raw
    }

    labels_raw = r.mapping(top.get("labels") or {}, "labels", top.get("labels") or {})
    labels = {str(code): r.text(labels_raw, code, "labels") for code in labels_raw}

    items_raw = r.required(top, "items", "")
    if not isinstance(items_raw, list) or not items_raw:
        raise r.fail("items", "must be a non-empty list")
    items: list[Item] = []
    rules: dict[str, Rule] = {}
    item_codes: set[str] = set()
    for i, raw in enumerate(items_raw):
        item = _parse_item(r, raw, f"items[{i}]", tier, departments)
        if item.code in item_codes:
            raise r.fail(f"items[{i}].code", f"duplicate item {item.code!r}")
        item_codes.add(item.code)
        items.append(item)
        for rule in item.rules:
            rules[rule.ref] = rule

    deductions: list[Deduction] = []
    deductions_raw = top.get("deductions") or []
    if tier == "provincial" and deductions_raw:
        raise r.fail("deductions", "deductions belong to the city tier")
    if not isinstance(deductions_raw, list):
        raise r.fail("deductions", "must be a list")
    for i, raw in enumerate(deductions_raw):
        path = f"deductions[{i}]"
        d = r.mapping(
            raw, path, ("code", "name", "points", "window_years", "while_listed", "departments")
        )
        while_listed = d.get("while_listed", False)
        if not isinstance(while_listed, bool):
            raise r.fail(f"{path}.while_listed", "must be true or false")
        window = r.integer(d, "window_years", path, required=False)
        if while_listed == (window is not None):
            raise r.fail(path, "needs exactly one of window_years or while_listed: true")
        deduction = Deduction(
            code=r.code(d, "code", path),
            name=r.text(d, "name", path),
            points=r.points(d, "points", path),
            window_years=window,
            while_listed=while_listed,
            departments=r.departments(d, path, departments),
        )
        if any(x.code == deduction.code for x in deductions):
            raise r.fail(f"{path}.code", f"duplicate deduction {deduction.code!r}")
        deductions.append(deduction)

    procedure: dict[str, int] = {}
    if tier == "city":
        raw = r.mapping(r.required(top, "procedure", ""), "procedure", PROCEDURE_KEYS)
        procedure = {key: r.integer(raw, key, "procedure") for key in PROCEDURE_KEYS}
    elif "procedure" in top:
        raise r.fail("procedure", "the review and publication windows belong to the city tier")

    return Policy(
        id=policy_id,
        scope=scope,
        tier=tier,
        title=r.text(top, "title", ""),
        effective_from=effective_from,
        effective_until=effective_until,
        reference_values=reference_values,
        source=dict(source),
        cap=cap,
        items=tuple(items),
        deductions=tuple(deductions),
        departments=departments,
        procedure=procedure,
        labels=labels,
        hash=content_hash(top),
        file=file,
        rules=rules,
        deductions_by_code={d.code: d for d in deductions},
    )


def _parse_item(
    r: _Reader, raw: Any, path: str, tier: str, departments: Mapping[str, Text]
) -> Item:
    data = r.mapping(raw, path, ("code", "name", "cap", "rules"))
    code = r.code(data, "code", path)
    rules_raw = r.required(data, "rules", path)
    if not isinstance(rules_raw, list) or not rules_raw:
        raise r.fail(f"{path}.rules", "must be a non-empty list")
    rules = []
    for j, rule_raw in enumerate(rules_raw):
        rule = _parse_rule(r, rule_raw, f"{path}.rules[{j}]", code, tier, departments)
        if any(x.code == rule.code for x in rules):
            raise r.fail(f"{path}.rules[{j}].code", f"duplicate rule {rule.code!r}")
        rules.append(rule)
    return Item(
        code=code,
        name=r.text(data, "name", path),
        cap=r.points(data, "cap", path),
        rules=tuple(rules),
    )


def _parse_rule(
    r: _Reader, raw: Any, path: str, item: str, tier: str, departments: Mapping[str, Text]
) -> Rule:
    if not isinstance(raw, Mapping):
        raise r.fail(path, "must be a mapping")
    kind = raw.get("kind")
    if kind not in RULE_KINDS:
        raise r.fail(
            f"{path}.kind", f"unknown rule kind {kind!r} (one of: {', '.join(RULE_KINDS)})"
        )
    data = r.mapping(raw, path, ("code", "kind", "name", "departments", *_RULE_KEYS[kind]))
    field_name = r.string(data, "field", path, required=tier == "provincial")
    if field_name is not None and field_name not in PROFILE_FIELDS:
        raise r.fail(f"{path}.field", f"unknown profile field {field_name!r}")
    if kind == "age" and field_name != "birth_date":
        raise r.fail(f"{path}.field", "an age rule reads birth_date")
    levels = None
    if "levels" in data:
        levels_raw = r.mapping(data["levels"], f"{path}.levels", data["levels"] or {})
        if not levels_raw:
            raise r.fail(f"{path}.levels", "must list at least one level")
        levels = {}
        for level, points in levels_raw.items():
            if points is None:
                raise r.fail(f"{path}.levels.{level}", "a level without points")
            levels[str(level)] = r.amount(points, f"{path}.levels.{level}")
    if kind == "level" and levels is None:
        raise r.fail(f"{path}.levels", "missing (a level rule needs its levels and points)")
    if kind in ("per_unit", "flag") or (kind == "each" and levels is None):
        points = r.points(data, "points", path)
    elif kind == "each" and "points" in data:
        raise r.fail(f"{path}.points", "give either points or levels, not both")
    else:
        points = None
    months_since = r.string(data, "months_since_field", path, required=False)
    if months_since is not None and PROFILE_FIELDS.get(months_since) != "date":
        raise r.fail(f"{path}.months_since_field", f"{months_since!r} is not a date field")
    unit = r.points(data, "unit", path, required=False) or Decimal(1)
    if unit != unit.to_integral():
        raise r.fail(f"{path}.unit", "must be a whole number")
    rule = Rule(
        item=item,
        code=r.code(data, "code", path),
        kind=kind,
        name=r.text(data, "name", path),
        departments=r.departments(data, path, departments),
        field=field_name,
        months_since_field=months_since,
        points=points,
        levels=levels,
        unit=unit,
        unit_name=r.text(data, "unit_name", path) if "unit_name" in data else None,
        cap=r.points(data, "cap", path, required=False),
        window_years=r.integer(data, "window_years", path, required=False),
    )
    if kind == "age":
        rule = replace(
            rule,
            base_points=r.points(data, "base_points", path),
            base_from_age=r.integer(data, "base_from_age", path),
            max_age=r.integer(data, "max_age", path),
            points_per_year_younger=r.points(data, "points_per_year_younger", path),
        )
    return rule
