"""Rule cases: readable YAML tables of "facts + dates -> expected points".

Every ``*.yaml`` file under ``tests/engine/cases/`` is a list of cases, in the style of the
OpenFisca test files. A case is named by one sentence saying what it shows::

    - name: A resident aged exactly 40 full years scores the full 20 age points.
      on: 2025-06-01            # evaluation date (bonus windows count back from it)
      review: 2025-06-20        # optional review date (deduction windows); default: on
      profile: {birth_date: 1985-06-01}
      expect:                   # dotted paths into ScoreResult.as_dict(); amounts as strings
        provincial.items.age: "20.00"
        total: "20.00"
      explain:                  # optional: an explanation line with these fields must exist
        - {rule: age, status: counted, facts: {age: 40}}

Paths go through mappings by key and through lists by index (``deductions.acts.0.points``).
``explain`` entries match a line when every given field is equal; ``facts`` matches a subset of
the line's facts. Dates in ``profile``, ``expect`` and ``explain`` become ISO strings, as in
the JSON score profile format and output. Anything malformed (unknown key, missing
name/on/expect, an expected path that the output does not have, a duplicate key, an unreadable
file, a file not named ``*.yaml``) fails a test: nothing is skipped. ``on``/``off``/``yes``/``no``
are read as strings, so ``on:`` is the key it looks like.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from jifen.engine import evaluate, load_policies

CASES_DIR = Path(__file__).parent / "cases"
CASE_KEYS = frozenset({"name", "on", "review", "profile", "expect", "explain"})
REQUIRED_KEYS = ("name", "on", "expect")
LINE_FIELDS = frozenset(
    {"section", "item", "rule", "facts", "points", "status", "reason", "reason_zh"}
)


# --- reading the case files ------------------------------------------------------------------


class CaseLoader(yaml.SafeLoader):
    """YAML 1.2-ish booleans (``on``/``off``/``yes``/``no`` stay strings) and no duplicate keys."""


CaseLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CaseLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _mapping_without_duplicates(loader: CaseLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


CaseLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


@dataclass(frozen=True)
class RawCase:
    """One entry of a case file as read, or the reason the file could not be read."""

    file: str
    index: int
    data: Any = None
    error: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}[{self.index}]"

    @property
    def id(self) -> str:
        name = self.data.get("name") if isinstance(self.data, dict) else None
        if isinstance(name, str) and name.strip():
            return name.strip()
        return f"{self.where} (unnamed)" if self.error is None else f"{self.file} (unreadable)"


def case_files() -> list[Path]:
    return sorted(p for p in CASES_DIR.iterdir() if p.is_file()) if CASES_DIR.is_dir() else []


def read_cases() -> list[RawCase]:
    cases: list[RawCase] = []
    for path in case_files():
        if path.suffix != ".yaml":
            continue  # reported by test_case_files_exist_and_are_yaml
        try:
            text = path.read_text(encoding="utf-8")
            data = yaml.load(text, Loader=CaseLoader)  # CaseLoader is a SafeLoader
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            cases.append(RawCase(path.name, 0, error=f"not readable YAML: {exc}"))
            continue
        if not isinstance(data, list) or not data:
            cases.append(RawCase(path.name, 0, error="must be a non-empty list of cases"))
            continue
        cases.extend(RawCase(path.name, i, data=entry) for i, entry in enumerate(data))
    return cases


RAW_CASES = read_cases()


# --- checking a case and running it ----------------------------------------------------------


class MalformedCase(AssertionError):
    """A case file entry that does not follow the format (fails the test, never skips)."""


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise MalformedCase(f"{where}: a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise MalformedCase(f"{where}: must be a date YYYY-MM-DD, got {value!r}")


def _iso(value: Any) -> Any:
    """Dates to ISO strings, recursively: the engine gets the JSON form of the profile."""
    if isinstance(value, dt.datetime):
        raise MalformedCase(f"{value!r}: a date and time where a date is expected")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_iso(item) for item in value]
    return value


@dataclass(frozen=True)
class Case:
    name: str
    on: dt.date
    review: dt.date | None
    profile: dict[str, Any]
    expect: dict[str, Any]
    explain: list[dict[str, Any]]


def check_case(raw: RawCase) -> Case:
    """The case, validated; raises :class:`MalformedCase` naming the problem."""
    if raw.error is not None:
        raise MalformedCase(f"{raw.file}: {raw.error}")
    data = raw.data
    where = raw.where
    if not isinstance(data, dict):
        raise MalformedCase(f"{where}: a case must be a mapping, got {data!r}")
    unknown = sorted(str(key) for key in data if key not in CASE_KEYS)
    if unknown:
        raise MalformedCase(f"{where}: unknown key(s) {unknown} (allowed: {sorted(CASE_KEYS)})")
    for key in REQUIRED_KEYS:
        if data.get(key) is None:
            raise MalformedCase(f"{where}: missing {key!r}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip() or "\n" in name.strip():
        raise MalformedCase(f"{where}: name must be one sentence on one line, got {name!r}")
    if not name.strip().endswith("."):
        raise MalformedCase(f"{where}: name must be a sentence ending with '.', got {name!r}")
    on = _date(data["on"], f"{where}.on")
    review = None if data.get("review") is None else _date(data["review"], f"{where}.review")
    profile = data.get("profile") or {}
    if not isinstance(profile, dict):
        raise MalformedCase(f"{where}.profile: must be a mapping")
    expect = data["expect"]
    if not isinstance(expect, dict) or not expect:
        raise MalformedCase(f"{where}.expect: must be a non-empty mapping of path: value")
    for path, value in expect.items():
        if not isinstance(path, str) or not path:
            raise MalformedCase(f"{where}.expect: path {path!r} must be a dotted string")
        if isinstance(value, bool | int | float | Decimal):
            raise MalformedCase(
                f"{where}.expect.{path}: write the expected value as a string "
                f'(amounts like "20.00"), got {value!r}'
            )
    explain = data.get("explain") or []
    if not isinstance(explain, list):
        raise MalformedCase(f"{where}.explain: must be a list of line fields")
    for i, wanted in enumerate(explain):
        if not isinstance(wanted, dict) or not wanted:
            raise MalformedCase(f"{where}.explain[{i}]: must be a non-empty mapping")
        unknown = sorted(str(key) for key in wanted if key not in LINE_FIELDS)
        if unknown:
            raise MalformedCase(
                f"{where}.explain[{i}]: unknown field(s) {unknown} (one of {sorted(LINE_FIELDS)})"
            )
        if "facts" in wanted and not isinstance(wanted["facts"], dict):
            raise MalformedCase(f"{where}.explain[{i}].facts: must be a mapping")
        if isinstance(wanted.get("points"), bool | int | float | Decimal):
            raise MalformedCase(f"{where}.explain[{i}].points: write it as a string")
    return Case(
        name=name.strip(),
        on=on,
        review=review,
        profile=_iso(profile),
        expect=_iso(expect),
        explain=[_iso(wanted) for wanted in explain],
    )


_MISSING = object()


def lookup(output: Any, path: str) -> Any:
    """The value at a dotted path, or ``_MISSING``; list segments are indices."""
    value = output
    for segment in path.split("."):
        if isinstance(value, dict):
            if segment not in value:
                return _MISSING
            value = value[segment]
        elif isinstance(value, list):
            if not segment.isdigit() or int(segment) >= len(value):
                return _MISSING
            value = value[int(segment)]
        else:
            return _MISSING
    return value


def line_matches(line: dict[str, Any], wanted: dict[str, Any]) -> bool:
    for key, value in wanted.items():
        if key == "facts":
            facts = line["facts"]
            if any(facts.get(k, _MISSING) != v for k, v in value.items()):
                return False
        elif line[key] != value:
            return False
    return True


def _show_lines(lines: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {ln['section']}/{ln['item']}/{ln['rule']} {ln['status']} {ln['points']} "
        f"facts={ln['facts']} -- {ln['reason']}"
        for ln in lines
    )


def run_case(case: Case, policies: Any) -> dict[str, Any]:
    return evaluate(case.profile, case.on, case.review, policies).as_dict()


@pytest.fixture(scope="module")
def policies():
    return load_policies()


@pytest.mark.parametrize("raw", RAW_CASES, ids=[raw.id for raw in RAW_CASES])
def test_rule_case(raw: RawCase, policies) -> None:
    case = check_case(raw)
    output = run_case(case, policies)
    failures = []
    for path, expected in case.expect.items():
        got = lookup(output, path)
        if got is _MISSING:
            raise MalformedCase(f"{raw.where}.expect: the output has no path {path!r}")
        if got != expected:
            failures.append(f"{path}: expected {expected!r}, got {got!r}")
    lines = output["explanation"]
    for wanted in case.explain:
        if not any(line_matches(line, wanted) for line in lines):
            failures.append(f"no explanation line matches {wanted}")
    if failures:
        pytest.fail(
            f"{case.name}\n"
            + "\n".join(failures)
            + "\nexplanation:\n"
            + _show_lines(lines)
            + f"\ntotal={output['total']}",
            pytrace=False,
        )


# --- checks over all the files --------------------------------------------------------------


def test_case_files_exist_and_are_yaml() -> None:
    files = case_files()
    assert files, f"no case files under {CASES_DIR}"
    others = [p.name for p in files if p.suffix != ".yaml"]
    assert not others, f"files under cases/ that are not *.yaml (never read): {others}"


def test_case_names_are_unique() -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for raw in RAW_CASES:
        if raw.id in seen:
            duplicates.append(f"{raw.id!r} in {raw.where} and {seen[raw.id]}")
        seen.setdefault(raw.id, raw.where)
    assert not duplicates, "case names must be unique:\n" + "\n".join(duplicates)


def test_every_rule_and_level_has_a_scoring_case(policies) -> None:
    """Each rule (each level of it) and each deduction scores points in at least one case.

    A level worth 0 points (senior high school in the city's education item) must still be
    counted by a case, with its 0.
    """
    selection = policies.select(dt.date(2025, 6, 1))
    wanted: set[tuple[str, str, str | None]] = set()
    scores_nothing: set[tuple[str, str, str | None]] = set()  # levels worth 0 points
    for section, policy in (("provincial", selection.provincial), ("city", selection.city)):
        for item in policy.items:
            for rule in item.rules:
                for level in rule.levels or [None]:
                    wanted.add((section, rule.ref, level))
                    if rule.levels and not rule.levels[level]:
                        scores_nothing.add((section, rule.ref, level))
    for deduction in selection.city.deductions:
        wanted.add(("deduction", deduction.code, None))

    seen: set[tuple[str, str, str | None]] = set()
    for raw in RAW_CASES:
        try:
            case = check_case(raw)
            output = run_case(case, policies)
        except Exception:  # that case fails in its own test
            continue
        for line in output["explanation"]:
            if line["status"] != "counted" or line["rule"] is None:
                continue
            facts = line["facts"]
            level = facts.get("level")
            for field in ("education", "skills"):
                if field in facts:
                    level = facts[field]
            key = (line["section"], line["rule"], level)
            if Decimal(line["points"]) > 0 or key in scores_nothing:
                seen.add(key)
    missing = sorted(wanted - seen, key=str)
    assert not missing, "rules or levels without a counted case:\n" + "\n".join(map(str, missing))
