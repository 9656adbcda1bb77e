"""Policy files: a bad file is refused naming the file, the path inside it and the reason;
versions are selected by date, never "the latest"; content hashes identify the content.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import hashlib
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from jifen import PROJECT_ROOT
from jifen.engine import (
    NoPolicyInForce,
    PolicyError,
    PolicySet,
    evaluate,
    load_policies,
    load_policy_file,
)

POLICY_DIR = PROJECT_ROOT / "policies"
CITY_FILE = "tongxiang-2025-02-01.yaml"
PROVINCIAL_FILE = "zhejiang-2023-07-26.yaml"


@functools.cache
def _real(name: str) -> dict[str, Any]:
    return yaml.safe_load((POLICY_DIR / name).read_text(encoding="utf-8"))


def real(name: str) -> dict[str, Any]:
    """A fresh copy of a real policy file's data (safe to mutate)."""
    return copy.deepcopy(_real(name))


def dump(data: Any, **kwargs: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, **kwargs)


def write(directory: Path, name: str, data: Any) -> Path:
    path = directory / name
    path.write_text(dump(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def refused(load: Callable[[], Any], file: str, path: str, reason: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load()
    err = info.value
    assert err.file == file
    assert err.path == path
    assert reason in err.reason
    message = str(err)
    assert file in message
    assert path in message
    assert reason in message
    return err


def rule(data: dict[str, Any], item: str, code: str) -> dict[str, Any]:
    for it in data["items"]:
        if it["code"] == item:
            for r in it["rules"]:
                if r["code"] == code:
                    return r
    raise KeyError(f"{item}.{code}")


def item_index(data: dict[str, Any], item: str) -> int:
    return [it["code"] for it in data["items"]].index(item)


def city_version(
    policy_id: str, start: dt.date, until: dt.date | None = None, **changes: Any
) -> dict[str, Any]:
    data = real(CITY_FILE)
    data["id"] = policy_id
    data["effective_from"] = start
    data["effective_until"] = until
    data.update(changes)
    return data


# --- the real files ------------------------------------------------------------------------


def test_real_files_load() -> None:
    policies = load_policies(POLICY_DIR)
    ids = {p.id for p in policies.policies}
    assert ids == {"zhejiang-2023-07-26", "tongxiang-2025-02-01"}
    city = policies.by_id["tongxiang-2025-02-01"]
    assert city.reference_values is True
    assert city.cap == Decimal(200)
    assert len(city.items) == 13
    assert policies.by_id["zhejiang-2023-07-26"].cap == Decimal(100)


def test_a_yaml_round_trip_of_a_real_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, CITY_FILE, real(CITY_FILE))
    assert load_policy_file(path).id == "tongxiang-2025-02-01"


# --- refusals of one file ------------------------------------------------------------------


def mutate_and_refuse(
    tmp_path: Path,
    name: str,
    mutate: Callable[[dict[str, Any]], None],
    path: str,
    reason: str,
) -> PolicyError:
    data = real(name)
    mutate(data)
    file = write(tmp_path, name, data)
    return refused(lambda: load_policy_file(file), name, path, reason)


def _set_rule(item: str, code: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        rule(data, item, code)[key] = value

    return mutate


def _del_item_key(item: str, key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del data["items"][item_index(data, item)][key]

    return mutate


def _set_top(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data[key] = value

    return mutate


def _del_top(key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del data[key]

    return mutate


def _set_level(item: str, code: str, level: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        rule(data, item, code)["levels"][level] = value

    return mutate


def _set_deduction(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["deductions"][index][key] = value

    return mutate


def _add_deductions(data: dict[str, Any]) -> None:
    data["deductions"] = [
        {
            "code": "usury",
            "name": {"zh": "职业放贷", "en": "usury"},
            "points": 50,
            "window_years": 5,
        }
    ]


# (file, mutation, path, reason)
REFUSALS = [
    pytest.param(
        CITY_FILE,
        _set_rule("residence", "home_owner", "kind", "bonus"),
        "items[1].rules[1].kind",
        "unknown rule kind 'bonus'",
        id="unknown-rule-kind",
    ),
    pytest.param(
        CITY_FILE,
        _set_rule("residence", "home_owner", "kind", None),
        "items[1].rules[1].kind",
        "unknown rule kind",
        id="missing-rule-kind",
    ),
    pytest.param(
        CITY_FILE,
        _del_item_key("residence", "cap"),
        "items[1].cap",
        "missing",
        id="missing-item-cap",
    ),
    pytest.param(
        PROVINCIAL_FILE,
        _del_item_key("age", "cap"),
        "items[0].cap",
        "missing",
        id="missing-item-cap-provincial",
    ),
    pytest.param(CITY_FILE, _del_top("cap"), "cap", "missing", id="missing-tier-cap"),
    pytest.param(PROVINCIAL_FILE, _set_top("cap", None), "cap", "missing", id="null-tier-cap"),
    pytest.param(
        CITY_FILE,
        _set_level("talent", "talent_code", "B", None),
        "items[7].rules[0].levels.B",
        "a level without points",
        id="level-without-points",
    ),
    pytest.param(
        PROVINCIAL_FILE,
        _set_level("skill", "skill", "title_junior", None),
        "items[2].rules[0].levels.title_junior",
        "a level without points",
        id="level-without-points-provincial",
    ),
    pytest.param(
        CITY_FILE, _set_top("author", "center"), "author", "unknown key", id="unknown-top-key"
    ),
    pytest.param(
        CITY_FILE,
        _set_rule("residence", "home_owner", "department", "natural_resources_bureau"),
        "items[1].rules[1].department",
        "unknown key",
        id="unknown-rule-key",
    ),
    pytest.param(
        CITY_FILE,
        _set_rule("residence", "home_owner", "departments", ["land_bureau"]),
        "items[1].rules[1].departments[0]",
        "unknown department 'land_bureau'",
        id="unknown-department-in-rule",
    ),
    pytest.param(
        CITY_FILE,
        _set_deduction(0, "departments", ["court", "supreme_court"]),
        "deductions[0].departments[1]",
        "unknown department 'supreme_court'",
        id="unknown-department-in-deduction",
    ),
    pytest.param(
        CITY_FILE,
        _set_rule("pension_insurance", "months", "points", 0.125),
        "items[2].rules[0].points",
        "two decimal places",
        id="points-with-3-decimals",
    ),
    pytest.param(
        CITY_FILE,
        _set_level("innovation", "patent", "design", 1.005),
        "items[9].rules[0].levels.design",
        "two decimal places",
        id="level-points-with-3-decimals",
    ),
    pytest.param(
        CITY_FILE,
        _set_rule("residence", "registered_years", "points", -2),
        "items[1].rules[0].points",
        "greater than zero",
        id="negative-points",
    ),
    pytest.param(
        CITY_FILE,
        _set_level("talent", "talent_code", "C", -10),
        "items[7].rules[0].levels.C",
        "greater than zero",
        id="negative-level-points",
    ),
    pytest.param(
        CITY_FILE,
        _set_deduction(0, "points", -100),
        "deductions[0].points",
        "greater than zero",
        id="negative-deduction-points",
    ),
    pytest.param(
        CITY_FILE,
        _set_rule("residence", "home_owner", "points", "twenty"),
        "items[1].rules[1].points",
        "must be a number",
        id="points-not-a-number",
    ),
    pytest.param(CITY_FILE, _del_top("procedure"), "procedure", "missing", id="missing-procedure"),
    pytest.param(
        PROVINCIAL_FILE,
        _add_deductions,
        "deductions",
        "deductions belong to the city tier",
        id="deductions-in-provincial-file",
    ),
    pytest.param(
        CITY_FILE,
        _set_top("effective_until", dt.date(2025, 1, 31)),
        "effective_until",
        "before effective_from",
        id="until-before-from",
    ),
    pytest.param(
        CITY_FILE,
        _set_top("effective_from", "2025-02-01"),
        "effective_from",
        "must be a date",
        id="quoted-date",
    ),
    pytest.param(CITY_FILE, _set_top("tier", "county"), "tier", "not a tier", id="unknown-tier"),
    pytest.param(
        CITY_FILE,
        _set_top("reference_values", None),
        "reference_values",
        "true/false",
        id="no-reference-flag",
    ),
    pytest.param(CITY_FILE, _del_top("source"), "source", "missing", id="missing-source"),
    pytest.param(
        CITY_FILE,
        _set_deduction(0, "while_listed", True),
        "deductions[0]",
        "exactly one of window_years or while_listed",
        id="deduction-window-and-while-listed",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "path", "reason"), REFUSALS)
def test_bad_file_is_refused_naming_file_path_and_reason(
    tmp_path: Path,
    name: str,
    mutate: Callable[[dict[str, Any]], None],
    path: str,
    reason: str,
) -> None:
    mutate_and_refuse(tmp_path, name, mutate, path, reason)


@pytest.mark.parametrize(("name", "mutate", "path", "reason"), REFUSALS)
def test_load_policies_refuses_a_directory_with_a_bad_file(
    tmp_path: Path,
    name: str,
    mutate: Callable[[dict[str, Any]], None],
    path: str,
    reason: str,
) -> None:
    for real_name in (CITY_FILE, PROVINCIAL_FILE):
        shutil.copy(POLICY_DIR / real_name, tmp_path / real_name)
    data = real(name)
    mutate(data)
    write(tmp_path, name, data)
    refused(lambda: load_policies(tmp_path), name, path, reason)


def test_not_yaml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "id: tongxiang\nitems: [unclosed\ncap: 200\n")
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    err = info.value
    assert err.file == "broken.yaml"
    assert err.path.startswith("line ")
    assert "not valid YAML" in err.reason
    assert str(err).startswith(f"broken.yaml: {err.path}: not valid YAML")


def test_not_yaml_names_the_line(tmp_path: Path) -> None:
    text = (POLICY_DIR / CITY_FILE).read_text(encoding="utf-8") + "\nbroken: [oops\n"
    path = write(tmp_path, CITY_FILE, text)
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    assert info.value.file == CITY_FILE
    assert info.value.path.startswith("line ")
    assert "not valid YAML" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        pytest.param("\ncap: 200\n", "\ncap: 200\ncap: 150\n", "cap", id="tier-cap"),
        pytest.param(
            "        points: 0.25\n",
            "        points: 0.25\n        points: 0.5\n",
            "points",
            id="rule-points",
        ),
    ],
)
def test_a_duplicate_key_is_refused(tmp_path: Path, old: str, new: str, key: str) -> None:
    # YAML parsers keep the last of two equal keys by default: a strict loader must not.
    text = (POLICY_DIR / CITY_FILE).read_text(encoding="utf-8")
    assert old in text
    path = write(tmp_path, CITY_FILE, text.replace(old, new, 1))
    with pytest.raises(PolicyError) as info:
        load_policy_file(path)
    message = str(info.value)
    assert info.value.file == CITY_FILE
    assert key in message
    assert "duplicate" in message.lower()


def test_yaml_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- a\n- b\n")
    refused(lambda: load_policy_file(path), "list.yaml", "(top level)", "must be a mapping")


def test_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("id: caf\u00e9\n".encode("latin-1"))
    refused(lambda: load_policy_file(path), "latin.yaml", "", "not UTF-8")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    refused(lambda: load_policy_file(tmp_path / "nowhere.yaml"), "nowhere.yaml", "", "not found")


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policies(tmp_path)
    assert "no policy files" in str(info.value)


# --- refusals across files -----------------------------------------------------------------


def policy_dir(tmp_path: Path, *cities: tuple[str, dict[str, Any]]) -> Path:
    directory = tmp_path / "policies"
    directory.mkdir()
    shutil.copy(POLICY_DIR / PROVINCIAL_FILE, directory / PROVINCIAL_FILE)
    for name, data in cities:
        write(directory, name, data)
    return directory


@pytest.mark.parametrize(
    "first_until",
    [
        pytest.param(None, id="first-without-until"),
        pytest.param(dt.date(2026, 3, 1), id="until-after-second-start"),
        pytest.param(dt.date(2026, 1, 1), id="until-on-second-start"),
    ],
)
def test_overlapping_versions_of_one_scope_are_refused(
    tmp_path: Path, first_until: dt.date | None
) -> None:
    directory = policy_dir(
        tmp_path,
        ("tongxiang-v1.yaml", city_version("tongxiang-v1", dt.date(2025, 2, 1), first_until)),
        ("tongxiang-v2.yaml", city_version("tongxiang-v2", dt.date(2026, 1, 1))),
    )
    err = refused(
        lambda: load_policies(directory), "tongxiang-v2.yaml", "effective_from", "overlapping"
    )
    assert "tongxiang-v1.yaml" in str(err)
    assert "'tongxiang'" in err.reason


def test_overlap_is_refused_whatever_the_file_order(tmp_path: Path) -> None:
    # The later version sorts first by file name: the error still names the later version.
    directory = policy_dir(
        tmp_path,
        ("b-tongxiang.yaml", city_version("tongxiang-v1", dt.date(2025, 2, 1))),
        ("a-tongxiang.yaml", city_version("tongxiang-v2", dt.date(2026, 1, 1))),
    )
    refused(lambda: load_policies(directory), "a-tongxiang.yaml", "effective_from", "overlapping")


def test_overlap_is_refused_by_policy_set_too() -> None:
    v1 = load_policies(POLICY_DIR).by_id["tongxiang-2025-02-01"]
    with pytest.raises(PolicyError) as info:
        PolicySet([v1, dataclasses.replace(v1, id="other", file="other.yaml")])
    assert "overlapping" in str(info.value)


def test_duplicate_id_is_refused(tmp_path: Path) -> None:
    other = city_version("tongxiang-2025-02-01", dt.date(2025, 2, 1))
    other["scope"] = "wutong"
    directory = policy_dir(
        tmp_path,
        ("tongxiang-2025-02-01.yaml", real(CITY_FILE)),
        ("wutong.yaml", other),
    )
    with pytest.raises(PolicyError) as info:
        load_policies(directory)
    err = info.value
    assert err.path == "id"
    assert "duplicate policy id 'tongxiang-2025-02-01'" in err.reason
    message = str(err)
    assert "wutong.yaml" in message
    assert "tongxiang-2025-02-01.yaml" in message


def test_one_scope_in_two_tiers_is_refused(tmp_path: Path) -> None:
    directory = policy_dir(
        tmp_path,
        (
            "tongxiang-v1.yaml",
            city_version("tongxiang-v1", dt.date(2025, 2, 1), dt.date(2025, 12, 31)),
        ),
    )
    provincial = real(PROVINCIAL_FILE)
    provincial.update(id="zj-tongxiang", scope="tongxiang", effective_from=dt.date(2026, 1, 1))
    write(directory, "zj-tongxiang.yaml", provincial)
    with pytest.raises(PolicyError) as info:
        load_policies(directory)
    assert info.value.path == "tier"


# --- selection by date ---------------------------------------------------------------------

CHANGE = dt.date(2026, 1, 1)


def two_versions(tmp_path: Path, *, third: bool = False) -> PolicySet:
    v2 = city_version("tongxiang-2026-01-01", CHANGE, dt.date(2027, 12, 31) if third else None)
    rule(v2, "pension_insurance", "months")["points"] = 0.3
    cities = [
        (
            "tongxiang-2025-02-01.yaml",
            city_version(
                "tongxiang-2025-02-01", dt.date(2025, 2, 1), CHANGE - dt.timedelta(days=1)
            ),
        ),
        ("tongxiang-2026-01-01.yaml", v2),
    ]
    if third:
        cities.append(
            ("tongxiang-2028-01-01.yaml", city_version("tongxiang-2028-01-01", dt.date(2028, 1, 1)))
        )
    return load_policies(policy_dir(tmp_path, *cities))


def test_select_picks_the_version_in_force_on_each_side_of_the_change(tmp_path: Path) -> None:
    policies = two_versions(tmp_path)
    assert policies.select(dt.date(2025, 2, 1)).city.id == "tongxiang-2025-02-01"
    assert policies.select(CHANGE - dt.timedelta(days=1)).city.id == "tongxiang-2025-02-01"
    assert policies.select(CHANGE).city.id == "tongxiang-2026-01-01"
    assert policies.select(dt.date(2030, 1, 1)).city.id == "tongxiang-2026-01-01"
    # The provincial version is the same on both sides.
    assert policies.select(CHANGE).provincial.id == "zhejiang-2023-07-26"
    assert policies.select(CHANGE - dt.timedelta(days=1)).provincial.id == "zhejiang-2023-07-26"


def test_select_never_picks_the_latest_version(tmp_path: Path) -> None:
    policies = two_versions(tmp_path, third=True)
    assert policies.select(dt.date(2025, 6, 1)).city.id == "tongxiang-2025-02-01"
    assert policies.select(dt.date(2027, 12, 31)).city.id == "tongxiang-2026-01-01"
    assert policies.select(dt.date(2028, 1, 1)).city.id == "tongxiang-2028-01-01"


def test_select_before_the_first_version_raises(tmp_path: Path) -> None:
    policies = two_versions(tmp_path)
    with pytest.raises(NoPolicyInForce):
        policies.select(dt.date(2025, 1, 31))


def test_select_in_a_gap_between_versions_raises(tmp_path: Path) -> None:
    directory = policy_dir(
        tmp_path,
        ("v1.yaml", city_version("tongxiang-v1", dt.date(2025, 2, 1), dt.date(2025, 12, 31))),
        ("v2.yaml", city_version("tongxiang-v2", dt.date(2026, 2, 1))),
    )
    policies = load_policies(directory)
    assert policies.select(dt.date(2025, 12, 31)).city.id == "tongxiang-v1"
    with pytest.raises(NoPolicyInForce):
        policies.select(dt.date(2026, 1, 15))
    assert policies.select(dt.date(2026, 2, 1)).city.id == "tongxiang-v2"


def test_pinned_version_overrides_the_date(tmp_path: Path) -> None:
    policies = two_versions(tmp_path)
    selection = policies.select(dt.date(2026, 6, 1), pinned=["tongxiang-2025-02-01"])
    assert selection.city.id == "tongxiang-2025-02-01"
    assert selection.provincial.id == "zhejiang-2023-07-26"
    with pytest.raises(NoPolicyInForce):
        policies.select(dt.date(2026, 6, 1), pinned=["tongxiang-1999"])


def test_evaluation_uses_the_version_in_force(tmp_path: Path) -> None:
    policies = two_versions(tmp_path)
    profile = {"city": [{"rule": "pension_insurance.months", "quantity": 40}]}
    before = evaluate(profile, CHANGE - dt.timedelta(days=1), None, policies)
    after = evaluate(profile, CHANGE, None, policies)
    assert before.city_items["pension_insurance"] == Decimal("10.00")
    assert after.city_items["pension_insurance"] == Decimal("12.00")


def test_each_result_records_both_version_ids_and_hashes(tmp_path: Path) -> None:
    policies = two_versions(tmp_path)
    seen = set()
    for day in (CHANGE - dt.timedelta(days=1), CHANGE):
        selection = policies.select(day)
        out = evaluate({}, day, None, policies).as_dict()["policy"]
        assert out["provincial"] == selection.provincial.id
        assert out["city"] == selection.city.id
        assert out["provincial_hash"] == selection.provincial.hash
        assert out["city_hash"] == selection.city.hash
        joined = f"{selection.provincial.hash}:{selection.city.hash}".encode()
        assert out["hash"] == hashlib.sha256(joined).hexdigest()
        assert out["reference_values"] is True
        seen.add(out["hash"])
    assert len(seen) == 2


# --- content hash --------------------------------------------------------------------------


def hash_of(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_policy_file(path).hash


@pytest.mark.parametrize("name", [CITY_FILE, PROVINCIAL_FILE])
def test_hash_is_a_sha256(name: str) -> None:
    value = load_policy_file(POLICY_DIR / name).hash
    assert len(value) == 64
    int(value, 16)


@pytest.mark.parametrize("name", [CITY_FILE, PROVINCIAL_FILE])
@pytest.mark.parametrize(
    "reformat",
    [
        pytest.param(lambda data: dump(data), id="block-style-no-comments"),
        pytest.param(
            lambda data: yaml.safe_dump(data, allow_unicode=True, sort_keys=True), id="sorted-keys"
        ),
        pytest.param(
            lambda data: yaml.safe_dump(
                data, allow_unicode=True, default_flow_style=True, width=60
            ),
            id="flow-style",
        ),
        pytest.param(
            lambda data: yaml.safe_dump(data, allow_unicode=False, indent=4), id="escaped-indent-4"
        ),
        pytest.param(
            lambda data: "# a new comment\n\n" + dump(data).replace("\n", "  # note\n", 3),
            id="added-comments",
        ),
    ],
)
def test_hash_is_stable_under_reformatting(
    tmp_path: Path, name: str, reformat: Callable[[Any], str]
) -> None:
    original = load_policy_file(POLICY_DIR / name).hash
    assert hash_of(tmp_path, name, reformat(real(name))) == original


def test_hash_ignores_comments_and_blank_lines(tmp_path: Path) -> None:
    text = (POLICY_DIR / CITY_FILE).read_text(encoding="utf-8")
    stripped = "\n".join(
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )
    assert hash_of(tmp_path, CITY_FILE, stripped) == load_policy_file(POLICY_DIR / CITY_FILE).hash


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("points: 0.25\n", "points: 0.250\n", id="trailing-zero"),
        pytest.param("        points: 20\n", "        points: 20.0\n", id="integer-as-decimal"),
    ],
)
def test_hash_is_the_same_for_equal_numbers_written_differently(
    tmp_path: Path, old: str, new: str
) -> None:
    text = (POLICY_DIR / CITY_FILE).read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    before = load_policy_file(POLICY_DIR / CITY_FILE)
    after_path = tmp_path / CITY_FILE
    after_path.write_text(changed, encoding="utf-8")
    after = load_policy_file(after_path)
    # Same rules, same values ...
    assert after.rules == before.rules
    # ... so the content hash is the same.
    assert after.hash == before.hash


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("points: 0.25\n", "points: 0.3\n", id="per-unit-points"),
        pytest.param("{A: 30, B: 20, C: 10}", "{A: 30, B: 20, C: 15}", id="level-points"),
        pytest.param("cap: 200\n", "cap: 199\n", id="tier-cap"),
        pytest.param("    points: 100\n", "    points: 90\n", id="deduction-points"),
        pytest.param("window_years: 1\n", "window_years: 2\n", id="window"),
    ],
)
def test_hash_changes_when_a_value_changes(tmp_path: Path, old: str, new: str) -> None:
    text = (POLICY_DIR / CITY_FILE).read_text(encoding="utf-8")
    assert old in text
    original = load_policy_file(POLICY_DIR / CITY_FILE).hash
    assert hash_of(tmp_path, CITY_FILE, text.replace(old, new, 1)) != original


def test_hash_does_not_depend_on_the_file_name(tmp_path: Path) -> None:
    text = (POLICY_DIR / CITY_FILE).read_text(encoding="utf-8")
    assert hash_of(tmp_path, "renamed.yaml", text) == load_policy_file(POLICY_DIR / CITY_FILE).hash
