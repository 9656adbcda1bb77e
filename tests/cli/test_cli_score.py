"""``jifen score PROFILE.json``: the calculator on the command line.

Format and exit status: shared/docs/score-profile.md.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from jifen import PROJECT_ROOT
from jifen.cli import china_today, main
from jifen.engine import load_policies

POLICY_DIR = PROJECT_ROOT / "policies"
CITY_ITEMS = [
    "education",
    "residence",
    "pension_insurance",
    "housing_fund",
    "medical_insurance",
    "upskilling",
    "employment",
    "talent",
    "income_tax",
    "innovation",
    "honours",
    "charity",
    "party_member",
]
PROVINCIAL_ITEMS = ["age", "education", "skill", "social_insurance", "residence"]
AMOUNT = re.compile(r"^\d+\.\d{2}$")

#: The worked examples of provincial-2023.md and tongxiang-city-reference.md in one profile
#: (evaluation date 2025-06-01, review date 2025-06-20): 75 + 75 − 20 = 130.
WORKED = {
    "birth_date": "1985-06-02",
    "education": "bachelor",
    "skills": ["vocational_level_3"],
    "social_insurance_months": 37,
    "residence_registered_on": "2019-03-15",
    "residence_months": None,
    "city": [
        {"rule": "residence.registered_years", "quantity": 5},
        {"rule": "pension_insurance.months", "quantity": 40},
        {"rule": "housing_fund.months", "quantity": 40},
        {"rule": "medical_insurance.months", "quantity": 40},
        {"rule": "employment.labour_contract"},
        {"rule": "employment.frontline_post"},
        {"rule": "income_tax.tax_paid", "quantity": 4500, "date": "2025-03-31"},
        {"rule": "charity.volunteer_hours", "quantity": 35, "date": "2024-10-01"},
        {"rule": "charity.blood_donation", "date": "2023-01-01"},
        {"rule": "charity.blood_donation", "date": "2024-01-01"},
        {"rule": "charity.blood_donation", "date": "2025-01-01"},
        {"rule": "honours.commendation", "level": "county", "date": "2021-09-01"},
    ],
    "deductions": [
        {"rule": "administrative_detention", "act": "A1", "date": "2023-03-01"},
        {"rule": "public_order_penalty", "act": "A1", "date": "2023-03-01"},
        {"rule": "waste_sorting_penalty", "act": "W1", "date": "2024-01-10"},
    ],
}
WORKED_ARGS = ["--on", "2025-06-01", "--review-date", "2025-06-20"]


@pytest.fixture(autouse=True)
def _default_policy_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIFEN_POLICY_DIR", raising=False)


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``jifen ARGV`` run in this process."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        pytest.fail(f"jifen {' '.join(argv)} crashed: {exc!r}")
    out, err = capsys.readouterr()
    return code, out, err


def profile_file(tmp_path: Path, data: Any, name: str = "profile.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def score_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, *args: str) -> Any:
    code, out, err = run(["score", profile_file(tmp_path, data), "--json", *args], capsys)
    assert code == 0, err
    return json.loads(out)


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> str:
    """Exit status 2, nothing on stdout, one line on stderr naming the problem."""
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jifen score: error: ")
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def assert_usage_error(code: int, out: str, err: str, *needles: str) -> str:
    """argparse's refusal: exit status 2, usage then one error line naming the problem."""
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("jifen score: error: ")
    for needle in needles:
        assert needle in last
    return last


# --- the table -----------------------------------------------------------------------------


def test_table_shows_total_reference_note_and_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["score", profile_file(tmp_path, WORKED), *WORKED_ARGS], capsys)
    assert code == 0, err
    assert err == ""
    selection = load_policies().select(dt.date(2025, 6, 1))
    assert "zhejiang-2023-07-26" in out
    assert "tongxiang-2025-02-01" in out
    assert selection.hash in out
    assert "evaluation 2025-06-01, review 2025-06-20" in out
    assert "REFERENCE VALUES" in out
    assert "TOTAL 130.00 = provincial 75.00 + city bonus 75.00 − deductions 20.00" in out
    # Reasons, with their status.
    assert "39 full years on 2025-06-01" in out
    assert "[same_act] same act A1" in out
    assert "[outside_window]" in out
    assert "[not_cumulative]" not in out
    # The header row of the table.
    assert re.search(r"^item\s+rule\s+facts\s+points\s+reason$", out, re.MULTILINE)
    # Deduction lines carry a minus sign.
    assert re.search(r"administrative_detention.*-20\.00", out)


def test_table_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["score", profile_file(tmp_path, WORKED), *WORKED_ARGS, "--lang", "zh"], capsys
    )
    assert code == 0
    assert "周岁" in out
    assert "参考值" in out
    assert "TOTAL 130.00" in out


def test_profile_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(WORKED)))
    code, out, err = run(["score", "-", *WORKED_ARGS, "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["total"] == "130.00"


# --- the JSON output -----------------------------------------------------------------------


def test_json_output_has_the_documented_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = score_json(tmp_path, capsys, WORKED, *WORKED_ARGS)
    assert set(out) == {
        "policy",
        "evaluation_date",
        "review_date",
        "provincial",
        "city",
        "deductions",
        "total",
        "explanation",
    }
    selection = load_policies().select(dt.date(2025, 6, 1))
    policy = out["policy"]
    assert {"provincial", "city", "hash", "reference_values"} <= set(policy)
    assert policy["provincial"] == "zhejiang-2023-07-26"
    assert policy["city"] == "tongxiang-2025-02-01"
    assert policy["hash"] == selection.hash
    assert policy["provincial_hash"] == selection.provincial.hash
    assert policy["city_hash"] == selection.city.hash
    assert policy["reference_values"] is True

    assert out["evaluation_date"] == "2025-06-01"
    assert out["review_date"] == "2025-06-20"

    assert set(out["provincial"]) == {"total", "items"}
    assert list(out["provincial"]["items"]) == PROVINCIAL_ITEMS
    assert out["provincial"] == {
        "total": "75.00",
        "items": {
            "age": "20.00",
            "education": "10.00",
            "skill": "8.00",
            "social_insurance": "18.50",
            "residence": "18.50",
        },
    }

    assert set(out["city"]) == {"bonus_total", "items"}
    assert list(out["city"]["items"]) == CITY_ITEMS
    assert out["city"]["bonus_total"] == "75.00"
    assert out["city"]["items"] == {
        "education": "10.00",
        "residence": "10.00",
        "pension_insurance": "10.00",
        "housing_fund": "8.00",
        "medical_insurance": "4.00",
        "upskilling": "0.00",
        "employment": "15.00",
        "talent": "0.00",
        "income_tax": "4.00",
        "innovation": "0.00",
        "honours": "5.00",
        "charity": "9.00",
        "party_member": "0.00",
    }

    assert out["deductions"] == {
        "total": "20.00",
        "acts": [{"act": "A1", "rule": "administrative_detention", "points": "20.00"}],
    }
    assert out["total"] == "130.00"

    explanation = out["explanation"]
    assert explanation
    for entry in explanation:
        assert {"item", "rule", "facts", "points", "reason"} <= set(entry)
        assert isinstance(entry["item"], str)
        assert entry["rule"] is None or isinstance(entry["rule"], str)
        assert isinstance(entry["facts"], dict)
        assert AMOUNT.match(entry["points"]), entry
        assert isinstance(entry["reason"], str)
        assert entry["reason"]
    age = next(e for e in explanation if e["item"] == "age" and e["rule"] == "age")
    assert age["facts"]["birth_date"] == "1985-06-02"
    assert age["points"] == "20.00"
    assert "39 full years on 2025-06-01" in age["reason"]
    waste = next(e for e in explanation if e["rule"] == "waste_sorting_penalty")
    assert waste["points"] == "0.00"
    assert "outside the last 1 years" in waste["reason"]


def test_json_amounts_are_two_decimal_strings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = {
        "social_insurance_months": 3,
        "residence_months": 5,
        "city": [
            {"rule": "pension_insurance.months", "quantity": 3},
            {"rule": "housing_fund.months", "quantity": 7},
            {"rule": "medical_insurance.months", "quantity": 9},
        ],
    }
    out = score_json(tmp_path, capsys, profile, "--on", "2025-06-01")
    assert out["provincial"]["items"]["social_insurance"] == "1.50"
    assert out["provincial"]["items"]["residence"] == "1.25"
    assert out["city"]["items"]["pension_insurance"] == "0.75"
    assert out["city"]["items"]["housing_fund"] == "1.40"
    assert out["city"]["items"]["medical_insurance"] == "0.90"
    assert out["total"] == "5.80"
    amounts = [
        out["total"],
        out["provincial"]["total"],
        out["city"]["bonus_total"],
        out["deductions"]["total"],
        *out["provincial"]["items"].values(),
        *out["city"]["items"].values(),
    ]
    for amount in amounts:
        assert isinstance(amount, str)
        assert AMOUNT.match(amount), amount


def test_decimal_quantities_are_read_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 0.1 + 0.2 months would not be 0.3 in binary floating point.
    path = tmp_path / "p.json"
    path.write_text(
        '{"city": [{"rule": "income_tax.tax_paid", "quantity": 999.9, "date": "2025-05-01"},'
        ' {"rule": "income_tax.tax_paid", "quantity": 0.1, "date": "2025-05-02"}]}',
        encoding="utf-8",
    )
    code, out, err = run(["score", str(path), "--on", "2025-06-01", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["city"]["items"]["income_tax"] == "1.00"


def test_empty_profile_scores_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = score_json(tmp_path, capsys, {}, "--on", "2025-06-01")
    assert out["total"] == "0.00"
    assert list(out["city"]["items"]) == CITY_ITEMS
    assert set(out["city"]["items"].values()) == {"0.00"}
    assert out["deductions"] == {"total": "0.00", "acts": []}


def test_total_is_never_below_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = {"birth_date": "1990-01-01", "deductions": [{"rule": "usury", "date": "2024-01-01"}]}
    out = score_json(tmp_path, capsys, profile, "--on", "2025-06-01")
    assert out["provincial"]["total"] == "20.00"
    assert out["deductions"]["total"] == "50.00"
    assert out["total"] == "0.00"


# --- dates ---------------------------------------------------------------------------------


def test_on_moves_the_bonus_windows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = {"city": [{"rule": "charity.blood_donation", "date": "2022-06-01"}]}
    last_day = score_json(tmp_path, capsys, profile, "--on", "2025-06-01")
    day_after = score_json(tmp_path, capsys, profile, "--on", "2025-06-02")
    assert last_day["city"]["items"]["charity"] == "2.00"
    assert day_after["city"]["items"]["charity"] == "0.00"
    assert day_after["evaluation_date"] == "2025-06-02"


def test_on_sets_the_age(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = {"birth_date": "1984-06-02"}
    assert score_json(tmp_path, capsys, profile, "--on", "2025-06-01")["total"] == "20.00"
    assert score_json(tmp_path, capsys, profile, "--on", "2025-06-02")["total"] == "19.00"


def test_facts_after_the_evaluation_date_do_not_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = {"city": [{"rule": "honours.commendation", "level": "nation", "date": "2025-06-02"}]}
    out = score_json(tmp_path, capsys, profile, "--on", "2025-06-01")
    assert out["city"]["bonus_total"] == "0.00"
    line = next(e for e in out["explanation"] if e["rule"] == "honours.commendation")
    assert "after the evaluation date" in line["reason"]


def test_review_date_moves_the_deduction_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = {
        "city": [{"rule": "charity.blood_donation", "date": "2022-06-10"}],
        "deductions": [{"rule": "administrative_detention", "date": "2022-06-10"}],
    }
    same_day = score_json(tmp_path, capsys, profile, "--on", "2025-06-01")
    assert same_day["review_date"] == "2025-06-01"
    assert same_day["deductions"]["total"] == "20.00"
    later = score_json(
        tmp_path, capsys, profile, "--on", "2025-06-01", "--review-date", "2025-06-20"
    )
    assert later["review_date"] == "2025-06-20"
    assert later["deductions"]["total"] == "0.00"
    # The bonus window still counts back from the evaluation date.
    assert later["city"]["items"]["charity"] == same_day["city"]["items"]["charity"] == "2.00"


def test_dishonest_debtor_counts_while_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = {"deductions": [{"rule": "dishonest_debtor", "date": "2018-01-01"}]}
    lifted = {
        "deductions": [{"rule": "dishonest_debtor", "date": "2018-01-01", "until": "2025-06-10"}]
    }
    assert score_json(tmp_path, capsys, listed, "--on", "2025-06-01")["deductions"]["total"] == (
        "50.00"
    )
    assert score_json(tmp_path, capsys, lifted, "--on", "2025-06-01")["deductions"]["total"] == (
        "50.00"
    )
    after = score_json(
        tmp_path, capsys, lifted, "--on", "2025-06-01", "--review-date", "2025-06-10"
    )
    assert after["deductions"]["total"] == "0.00"


def test_review_date_before_evaluation_date_is_noted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["score", profile_file(tmp_path, {}), "--on", "2025-06-01", "--review-date", "2025-05-01"],
        capsys,
    )
    assert code == 0
    assert "review date 2025-05-01 is before the evaluation date 2025-06-01" in err
    assert "TOTAL 0.00" in out


def test_default_dates_are_today_in_china(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = china_today()
    if today < dt.date(2025, 2, 1):  # pragma: no cover - the city policy starts then
        pytest.skip("no city policy in force today")
    out = score_json(tmp_path, capsys, {})
    assert out["evaluation_date"] == today.isoformat()
    assert out["review_date"] == today.isoformat()


# --- policy versions -----------------------------------------------------------------------


def two_versions(tmp_path: Path) -> Path:
    """A policy folder: the city table until 2025-12-31, then a version paying 0.3/month."""
    directory = tmp_path / "policies"
    directory.mkdir()
    shutil.copy(POLICY_DIR / "zhejiang-2023-07-26.yaml", directory)
    city = yaml.safe_load((POLICY_DIR / "tongxiang-2025-02-01.yaml").read_text(encoding="utf-8"))
    city["effective_until"] = dt.date(2025, 12, 31)
    (directory / "tongxiang-2025-02-01.yaml").write_text(
        yaml.safe_dump(city, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    city.update(id="tongxiang-2026-01-01", effective_from=dt.date(2026, 1, 1), effective_until=None)
    for item in city["items"]:
        if item["code"] == "pension_insurance":
            item["rules"][0]["points"] = 0.3
    (directory / "tongxiang-2026-01-01.yaml").write_text(
        yaml.safe_dump(city, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return directory


PENSION = {"city": [{"rule": "pension_insurance.months", "quantity": 40}]}


def test_the_version_in_force_on_the_evaluation_date_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = str(two_versions(tmp_path))
    before = score_json(tmp_path, capsys, PENSION, "--on", "2025-12-31", "--policy-dir", directory)
    after = score_json(tmp_path, capsys, PENSION, "--on", "2026-01-01", "--policy-dir", directory)
    assert before["policy"]["city"] == "tongxiang-2025-02-01"
    assert before["city"]["items"]["pension_insurance"] == "10.00"
    assert after["policy"]["city"] == "tongxiang-2026-01-01"
    assert after["city"]["items"]["pension_insurance"] == "12.00"
    assert before["policy"]["hash"] != after["policy"]["hash"]


def test_policy_pins_a_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = str(two_versions(tmp_path))
    pinned = score_json(
        tmp_path,
        capsys,
        PENSION,
        "--on",
        "2026-06-01",
        "--policy",
        "tongxiang-2025-02-01",
        "--policy-dir",
        directory,
    )
    assert pinned["policy"]["city"] == "tongxiang-2025-02-01"
    assert pinned["policy"]["provincial"] == "zhejiang-2023-07-26"
    assert pinned["city"]["items"]["pension_insurance"] == "10.00"
    assert pinned["evaluation_date"] == "2026-06-01"


def test_policy_pins_the_real_versions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = score_json(
        tmp_path,
        capsys,
        WORKED,
        *WORKED_ARGS,
        "--policy",
        "zhejiang-2023-07-26",
        "--policy",
        "tongxiang-2025-02-01",
    )
    assert out["total"] == "130.00"


def test_unknown_policy_version_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["score", profile_file(tmp_path, {}), "--on", "2025-06-01", "--policy", "tongxiang-1999"],
        capsys,
    )
    assert_one_line_error(code, out, err, "tongxiang-1999")


# --- bad input: exit status 2, one line naming the problem, no traceback --------------------


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nowhere.json")
    code, out, err = run(["score", missing, "--on", "2025-06-01"], capsys)
    assert_one_line_error(code, out, err, "nowhere.json", "not found")


def test_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["score", str(tmp_path), "--on", "2025-06-01"], capsys)
    assert_one_line_error(code, out, err, str(tmp_path), "directory")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("{birth_date: 1990-01-01}", id="unquoted"),
        pytest.param('{"birth_date": "1990-01-01",}', id="trailing-comma"),
        pytest.param("birth_date: 1990-01-01\n", id="yaml"),
    ],
)
def test_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(["score", str(path), "--on", "2025-06-01"], capsys)
    assert_one_line_error(code, out, err, "p.json", "not valid JSON")


def test_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.json"
    path.write_bytes('{"education": "bachelor", "source": "窗口"}'.encode("gb18030"))
    code, out, err = run(["score", str(path), "--on", "2025-06-01"], capsys)
    assert_one_line_error(code, out, err, "p.json", "UTF-8")


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        pytest.param({"nickname": "x"}, "nickname", id="unknown-key"),
        pytest.param({"education": "phd"}, "education", id="unknown-education"),
        pytest.param({"skills": ["title_junior", "x"]}, "skills[1]", id="unknown-skill"),
        pytest.param({"birth_date": "1990-02-30"}, "birth_date", id="impossible-date"),
        pytest.param({"social_insurance_months": 37.5}, "social_insurance_months", id="fraction"),
        pytest.param({"city": [{"rule": "x.y"}]}, "city[0].rule", id="unknown-rule"),
        pytest.param(
            {"city": [{"rule": "charity.blood_donation"}]}, "city[0].date", id="missing-date"
        ),
        pytest.param(
            {"city": [{"rule": "pension_insurance.months", "quantity": -1}]},
            "city[0].quantity",
            id="negative-quantity",
        ),
        pytest.param(
            {"deductions": [{"rule": "usury", "date": "2024/01/01"}]},
            "deductions[0].date",
            id="bad-deduction-date",
        ),
        pytest.param([], "profile", id="not-an-object"),
        pytest.param({"city": {}}, "city", id="city-not-a-list"),
    ],
)
def test_invalid_profile_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], profile: Any, field: str
) -> None:
    code, out, err = run(["score", profile_file(tmp_path, profile), "--on", "2025-06-01"], capsys)
    line = assert_one_line_error(code, out, err, "invalid profile", f"{field}:")
    assert line.startswith(f"jifen score: error: invalid profile: {field}:")


def test_a_key_given_twice_is_not_silently_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "nothing is silently ignored": one of two values of one field would be.
    path = tmp_path / "p.json"
    path.write_text('{"education": "doctorate", "education": "bachelor"}', encoding="utf-8")
    code, out, err = run(["score", str(path), "--on", "2025-06-01"], capsys)
    assert_one_line_error(code, out, err, "education")


def test_invalid_profile_with_json_flag_prints_no_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["score", profile_file(tmp_path, {"education": "phd"}), "--on", "2025-06-01", "--json"],
        capsys,
    )
    assert_one_line_error(code, out, err, "education")


@pytest.mark.parametrize(
    "value",
    [
        "2025-13-01",
        "2025-02-30",
        "yesterday",
        "2025/06/01",
        "01-06-2025",
        "2025-06-01T00:00",
        "",
        "20250601",
        "2025-W22-1",
    ],
)
@pytest.mark.parametrize("option", ["--on", "--review-date"])
def test_bad_date_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    args = ["score", profile_file(tmp_path, {}), option, value]
    if option == "--review-date":
        args += ["--on", "2025-06-01"]
    code, out, err = run(args, capsys)
    assert_usage_error(code, out, err, option)


@pytest.mark.parametrize(
    ("on", "tier"),
    [("2020-01-01", "provincial"), ("2023-07-25", "provincial"), ("2025-01-31", "city")],
)
def test_no_policy_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], on: str, tier: str
) -> None:
    code, out, err = run(["score", profile_file(tmp_path, {}), "--on", on], capsys)
    assert_one_line_error(code, out, err, on, f"no {tier} policy version")


def test_missing_profile_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["score"], capsys)
    assert_usage_error(code, out, err, "PROFILE.json")


def test_missing_on_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["score", profile_file(tmp_path, {}), "--on"], capsys)
    assert_usage_error(code, out, err, "--on")


def test_unknown_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["score", profile_file(tmp_path, {}), "--total-only"], capsys)
    assert code == 2
    assert "Traceback" not in err
    assert "--total-only" in err


def test_bad_policy_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "no-policies"
    empty.mkdir()
    code, out, err = run(
        ["score", profile_file(tmp_path, {}), "--on", "2025-06-01", "--policy-dir", str(empty)],
        capsys,
    )
    assert_one_line_error(code, out, err, "no policy files")


BIG = "1" + "0" * 30


@pytest.mark.parametrize(
    ("text", "section", "item", "cap", "field"),
    [
        pytest.param(
            f'{{"city": [{{"rule": "pension_insurance.months", "quantity": {BIG}}}]}}',
            "city",
            "pension_insurance",
            "30.00",
            "city[0].quantity",
            id="city-integer",
        ),
        pytest.param(
            '{"city": [{"rule": "housing_fund.months", "quantity": 1e40}]}',
            "city",
            "housing_fund",
            "10.00",
            "city[0].quantity",
            id="city-exponent",
        ),
        pytest.param(
            f'{{"social_insurance_months": {BIG}}}',
            "provincial",
            "social_insurance",
            "30.00",
            "social_insurance_months",
            id="provincial-months",
        ),
    ],
)
def test_huge_quantities_are_capped_or_refused_never_a_crash(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    section: str,
    item: str,
    cap: str,
    field: str,
) -> None:
    # A quantity beyond any cap scores the cap, or is refused naming the field; never a crash.
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(["score", str(path), "--on", "2025-06-01", "--json"], capsys)
    assert "Traceback" not in err
    if code == 2:
        assert_one_line_error(code, out, err, field)
    else:
        assert code == 0
        assert json.loads(out)[section]["items"][item] == cap


# --- the installed command -----------------------------------------------------------------


def test_installed_command_scores(tmp_path: Path) -> None:
    jifen = PROJECT_ROOT / ".venv" / "bin" / "jifen"
    if not jifen.exists():  # pragma: no cover - the Makefile installs it
        jifen = Path(sys.executable).parent / "jifen"
    run_ = subprocess.run(
        [str(jifen), "score", profile_file(tmp_path, WORKED), *WORKED_ARGS, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run_.returncode == 0, run_.stderr
    out = json.loads(run_.stdout)
    assert out["total"] == "130.00"
    assert out["policy"]["reference_values"] is True


def test_installed_command_refuses_bad_input(tmp_path: Path) -> None:
    jifen = PROJECT_ROOT / ".venv" / "bin" / "jifen"
    if not jifen.exists():  # pragma: no cover
        jifen = Path(sys.executable).parent / "jifen"
    run_ = subprocess.run(
        [
            str(jifen),
            "score",
            profile_file(tmp_path, {"city": [{"rule": "x"}]}),
            "--on",
            "2025-06-01",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run_.returncode == 2
    assert run_.stdout == ""
    assert "Traceback" not in run_.stderr
    assert len(run_.stderr.strip().splitlines()) == 1
    assert "city[0].rule" in run_.stderr
