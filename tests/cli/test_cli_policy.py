"""``jifen policy validate FILE...`` and ``jifen policy show [--on DATE]``."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from jifen import PROJECT_ROOT
from jifen.cli import main
from jifen.engine import load_policy_file

POLICY_DIR = PROJECT_ROOT / "policies"
CITY_FILE = "tongxiang-2025-02-01.yaml"
PROVINCIAL_FILE = "zhejiang-2023-07-26.yaml"
REAL_FILES = [str(POLICY_DIR / PROVINCIAL_FILE), str(POLICY_DIR / CITY_FILE)]


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


def one_line_error(code: int, err: str, *needles: str) -> str:
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("jifen policy: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def city_data(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load((POLICY_DIR / CITY_FILE).read_text(encoding="utf-8"))
    data.update(changes)
    return data


def write(path: Path, data: Any) -> Path:
    path.write_text(
        data
        if isinstance(data, str)
        else yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def closed_policy_dir(tmp_path: Path) -> Path:
    """The real provincial file and the city table with effective_until 2025-12-31."""
    directory = tmp_path / "policies"
    directory.mkdir()
    shutil.copy(POLICY_DIR / PROVINCIAL_FILE, directory)
    write(directory / CITY_FILE, city_data(effective_until=dt.date(2025, 12, 31)))
    return directory


# --- validate ------------------------------------------------------------------------------


def test_validate_the_real_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["policy", "validate", *REAL_FILES], capsys)
    assert code == 0, err
    assert err == ""
    assert f"ok  {PROVINCIAL_FILE}" in out
    assert f"ok  {CITY_FILE}" in out
    for path in REAL_FILES:
        assert f"sha256 {load_policy_file(path).hash}" in out
    assert "REFERENCE VALUES" in out


def test_validate_the_real_files_against_the_real_folder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(["policy", "validate", *REAL_FILES, "--policy-dir", str(POLICY_DIR)], capsys)
    assert code == 0, err


@pytest.mark.parametrize(
    ("mutate", "path", "reason"),
    [
        pytest.param(
            lambda d: d["items"][1]["rules"][1].update(kind="bonus"),
            "items[1].rules[1].kind",
            "unknown rule kind",
            id="unknown-kind",
        ),
        pytest.param(
            lambda d: d["items"][2]["rules"][0].update(points=0.125),
            "items[2].rules[0].points",
            "two decimal places",
            id="three-decimals",
        ),
        pytest.param(lambda d: d.pop("procedure"), "procedure", "missing", id="no-procedure"),
        pytest.param(
            lambda d: d["items"][7]["rules"][0]["levels"].update(B=None),
            "items[7].rules[0].levels.B",
            "a level without points",
            id="level-without-points",
        ),
        pytest.param(lambda d: d.update(owner="me"), "owner", "unknown key", id="unknown-key"),
    ],
)
def test_validate_a_bad_file_names_file_path_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any, path: str, reason: str
) -> None:
    data = city_data(id="tongxiang-2026-01-01", effective_from=dt.date(2026, 1, 1))
    mutate(data)
    bad = write(tmp_path / "tongxiang-2026-01-01.yaml", data)
    code, out, err = run(["policy", "validate", str(bad)], capsys)
    assert out == ""
    line = one_line_error(code, err, "tongxiang-2026-01-01.yaml", path, reason)
    assert f"tongxiang-2026-01-01.yaml: {path}: " in line


def test_validate_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path / "broken.yaml", "id: x\nitems: [a, b\n")
    code, _, err = run(["policy", "validate", str(bad)], capsys)
    one_line_error(code, err, "broken.yaml", "line ", "not valid YAML")


def test_validate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["policy", "validate", str(tmp_path / "nowhere.yaml")], capsys)
    one_line_error(code, err, "nowhere.yaml", "not found")


def test_validate_stops_at_the_bad_file_among_good_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path / "bad.yaml", city_data(cap=None))
    code, out, err = run(["policy", "validate", *REAL_FILES, str(bad)], capsys)
    assert out == ""
    one_line_error(code, err, "bad.yaml", "cap", "missing")


@pytest.mark.parametrize(
    "until",
    [pytest.param(None, id="real-folder"), pytest.param(dt.date(2026, 6, 30), id="until-after")],
)
def test_validate_a_version_overlapping_the_loaded_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], until: dt.date | None
) -> None:
    if until is None:
        directory = POLICY_DIR
    else:
        directory = tmp_path / "policies"
        directory.mkdir()
        shutil.copy(POLICY_DIR / PROVINCIAL_FILE, directory)
        write(directory / CITY_FILE, city_data(effective_until=until))
    new = tmp_path / "new"
    new.mkdir()
    version = write(
        new / "tongxiang-2026-01-01.yaml",
        city_data(id="tongxiang-2026-01-01", effective_from=dt.date(2026, 1, 1)),
    )
    code, out, err = run(
        ["policy", "validate", str(version), "--policy-dir", str(directory)], capsys
    )
    assert out == ""
    one_line_error(
        code, err, "tongxiang-2026-01-01.yaml", "effective_from", "overlapping", CITY_FILE
    )


def test_validate_a_version_that_follows_the_loaded_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = closed_policy_dir(tmp_path)
    new = tmp_path / "new"
    new.mkdir()
    version = write(
        new / "tongxiang-2026-01-01.yaml",
        city_data(id="tongxiang-2026-01-01", effective_from=dt.date(2026, 1, 1)),
    )
    code, out, err = run(
        ["policy", "validate", str(version), "--policy-dir", str(directory)], capsys
    )
    assert code == 0, err
    assert "ok  tongxiang-2026-01-01.yaml" in out
    assert "2026-01-01 to further notice" in out


def test_validate_a_duplicate_id_of_a_loaded_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = write(tmp_path / "wutong.yaml", city_data(scope="wutong"))
    code, _, err = run(["policy", "validate", str(other), "--policy-dir", str(POLICY_DIR)], capsys)
    one_line_error(code, err, "wutong.yaml", "duplicate policy id")


def test_validate_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["policy", "validate"], capsys)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert "FILE" in err


# --- show ----------------------------------------------------------------------------------


def test_show_lists_both_versions_with_their_hashes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["policy", "show", "--on", "2025-06-01"], capsys)
    assert code == 0, err
    assert "policy versions in force on 2025-06-01" in out
    for name in (PROVINCIAL_FILE, CITY_FILE):
        policy = load_policy_file(POLICY_DIR / name)
        assert policy.id in out
        assert f"sha256 {policy.hash}" in out
        assert policy.source["document"] in out
    assert "provincial/zhejiang" in out
    assert "city/tongxiang" in out
    assert "REFERENCE VALUES" in out


def test_show_on_the_change_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = closed_policy_dir(tmp_path)
    write(
        directory / "tongxiang-2026-01-01.yaml",
        city_data(id="tongxiang-2026-01-01", effective_from=dt.date(2026, 1, 1)),
    )
    code, out, err = run(
        ["policy", "show", "--on", "2025-12-31", "--policy-dir", str(directory)], capsys
    )
    assert code == 0, err
    assert "tongxiang-2025-02-01" in out
    assert "tongxiang-2026-01-01" not in out
    code, out, err = run(
        ["policy", "show", "--on", "2026-01-01", "--policy-dir", str(directory)], capsys
    )
    assert code == 0, err
    assert "tongxiang-2026-01-01" in out
    assert "tongxiang-2025-02-01" not in out


def test_show_when_nothing_is_in_force(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["policy", "show", "--on", "2020-01-01"], capsys)
    assert out == ""
    one_line_error(code, err, "2020-01-01")


def test_show_when_only_one_tier_is_in_force(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["policy", "show", "--on", "2024-06-01"], capsys)
    assert "zhejiang-2023-07-26" in out
    one_line_error(code, err, "no city policy version", "2024-06-01")


def test_show_with_a_bad_policy_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "policies"
    directory.mkdir()
    write(directory / "bad.yaml", "tier: city\n")
    code, _, err = run(
        ["policy", "show", "--on", "2025-06-01", "--policy-dir", str(directory)], capsys
    )
    one_line_error(code, err, "bad.yaml")


@pytest.mark.parametrize("value", ["2025-06-31", "soon", "2025/06/01"])
def test_show_bad_date(capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, out, err = run(["policy", "show", "--on", value], capsys)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert "--on" in err.strip().splitlines()[-1]


def test_policy_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["policy"], capsys)
    assert code == 2
    assert "Traceback" not in err
