"""``jifen score PROFILE --project DATE`` and ``--reach N``: the projection on the command
line, labelled as a projection, with field-named errors (exit status 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jifen import PROJECT_ROOT
from jifen.cli import main

PROFILE = {
    "birth_date": "1985-06-02",
    "education": "bachelor",
    "social_insurance_months": 37,
    "residence_registered_on": "2019-03-15",
    "city": [{"rule": "charity.blood_donation", "date": "2022-07-01"}],
    "deductions": [{"rule": "administrative_detention", "act": "A1", "date": "2023-03-01"}],
}


@pytest.fixture(autouse=True)
def _default_policy_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIFEN_POLICY_DIR", raising=False)


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def profile(tmp_path: Path) -> str:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(PROFILE), encoding="utf-8")
    return str(path)


def test_project_json_is_labelled_and_explained(profile, capsys):
    code, out, err = run(
        ["score", profile, "--on", "2025-06-01", "--project", "2026-06-01", "--json"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "projection"
    assert "not a score" in data["disclaimer"]["en"] and "预测" in data["disclaimer"]["zh"]
    assert data["from_date"] == "2025-06-01" and data["on"] == "2026-06-01"
    # Today 67 + 12 − 20 = 59; the projection moves insurance 37→49 and residence 74→86
    # months, drops the blood donation (2022-07-01) and the detention (2023-03-01).
    assert data["current_total"] == "59.00"
    assert data["projected_total"] == "86.00"
    kinds = [c["kind"] for c in data["changes"]]
    assert kinds == ["window_ends", "deduction_ends"]
    assert data["projected"]["kind"] == "projection"
    assert data["projected"]["provincial"]["items"]["social_insurance"] == "24.50"
    assert any(o["rule"] == "talent.talent_code" for o in data["opportunities"])
    assert all(o["proof"]["en"] and o["proof"]["zh"] for o in data["opportunities"])


def test_project_table_says_projection(profile, capsys):
    code, out, err = run(
        ["score", profile, "--on", "2025-06-01", "--project", "2026-06-01", "--lang", "zh"],
        capsys,
    )
    assert code == 0, err
    assert out.startswith("PROJECTION — NOT A SCORE / 预测（非正式积分）")
    assert "PROJECTED TOTAL 86.00 (预测)" in out
    assert "居住和参保持续不中断" in out
    assert "TOTAL 86.00" in out  # the engine's own arithmetic on the projected facts


def test_reach_json(profile, capsys):
    code, out, err = run(
        ["score", profile, "--on", "2025-06-01", "--reach", "80", "--json"], capsys
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["kind"] == "projection" and data["question"] == "reach"
    assert data["target"] == "80.00"
    assert data["reached_on"] == "2026-03-02"  # the detention's window ends: +20
    assert Decimal(data["projection"]["projected_total"]) >= 80


def test_reach_not_within_the_horizon(profile, capsys):
    code, out, err = run(
        ["score", profile, "--on", "2025-06-01", "--reach", "250", "--horizon", "5"], capsys
    )
    assert code == 0, err
    assert "not reached by 2030-06-01" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--project", "2025-05-31"], "--project: 2025-05-31 is before"),
        (["--project", "2025-13-01"], "--project"),
        (["--reach", "many"], "--reach: 'many' is not a number"),
        (["--reach", "-3"], "--reach: must be a number of points"),
        (["--reach", "50", "--horizon", "0"], "--horizon: must be between 1 and 50"),
        (["--project", "2026-01-01", "--reach", "50"], "not allowed with argument"),
        (["--project", "2026-01-01", "--review-date", "2026-01-01"], "--review-date"),
    ],
)
def test_bad_input_names_the_field_and_exits_2(profile, capsys, args, needle):
    code, out, err = run(["score", profile, "--on", "2025-06-01", *args], capsys)
    assert code == 2
    assert out == ""
    assert needle in err
    assert "Traceback" not in err


def test_a_bad_profile_names_its_field(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"social_insurance_months": -4}), encoding="utf-8")
    code, _out, err = run(["score", str(path), "--project", "2030-01-01"], capsys)
    assert code == 2 and "invalid profile: social_insurance_months" in err


def test_projection_loads_no_django():
    code = (
        "import sys\n"
        "from jifen.cli import main\n"
        "assert main(['score', '-', '--on', '2025-06-01', '--project', '2026-06-01',"
        " '--json']) == 0\n"
        "assert not any(m.startswith('django') for m in sys.modules)\n"
    )
    run_ = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        input='{"birth_date": "1990-01-01", "social_insurance_months": 10}',
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run_.returncode == 0, run_.stderr
    data: Any = json.loads(run_.stdout)
    assert data["kind"] == "projection" and data["projected_total"] == "31.00"
