"""``jifen workdays add|between`` through the real dispatcher ``jifen.cli.main``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jifen.cli import main
from jifen.workdays import default_calendar


@pytest.fixture(autouse=True)
def shipped_calendar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The CLI uses the cached default calendar: make it the checkout's policies/calendar.
    monkeypatch.delenv("JIFEN_POLICY_DIR", raising=False)
    default_calendar.cache_clear()
    yield
    default_calendar.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``jifen ARGV`` (argparse errors exit via SystemExit)."""
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2025-09-26", "10", "2025-10-16"),  # the worked example
        ("2026-02-13", "2", "2026-02-24"),  # across Spring Festival 2026
        ("2025-12-31", "1", "2026-01-04"),  # across the year end, onto an adjusted Sunday
        ("2025-10-01", "0", "2025-10-01"),
        ("2025-10-01", "007", "2025-10-16"),  # 10-09, 10-10, 10-11 (Sat), 10-13…10-16
    ],
)
def test_add(capsys: pytest.CaptureFixture[str], start: str, n: str, expected: str) -> None:
    assert run(capsys, "workdays", "add", start, n) == (0, expected + "\n", "")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2025-09-26", "2025-10-16", "10"),
        ("2025-10-16", "2025-09-26", "-10"),
        ("2025-10-01", "2025-10-01", "0"),
        ("2024-12-31", "2025-12-31", "248"),
    ],
)
def test_between(capsys: pytest.CaptureFixture[str], a: str, b: str, expected: str) -> None:
    assert run(capsys, "workdays", "between", a, b) == (0, expected + "\n", "")


BAD_INPUT = [
    # (argv, words the one-line message must contain)
    (["workdays", "add", "2025-02-30", "1"], ["2025-02-30", "not a valid date"]),
    (["workdays", "add", "26/09/2025", "1"], ["26/09/2025", "not a valid date"]),
    (["workdays", "between", "2025-01-01", "tomorrow"], ["tomorrow", "not a valid date"]),
    (["workdays", "add", "2025-09-26", "ten"], ["N must be", "'ten'"]),
    (["workdays", "add", "2025-09-26", "1.5"], ["N must be", "'1.5'"]),
    (["workdays", "add", "2025-09-26", ""], ["N must be"]),
    (["workdays", "add", "2025-09-26", "+3"], ["N must be", "'+3'"]),
    (["workdays", "add", "2025-09-26", "-3"], ["N must be 0 or more", "-3"]),
    (["workdays", "add", "2027-01-04", "1"], ["2027", "not loaded"]),
    (["workdays", "add", "2027-01-04", "0"], ["2027", "not loaded"]),
    (["workdays", "add", "2026-12-31", "1"], ["2027", "not loaded"]),
    (["workdays", "add", "2003-06-02", "5"], ["2003", "not loaded"]),
    (["workdays", "between", "2026-12-01", "2027-01-05"], ["2027", "not loaded"]),
    (["workdays", "between", "2003-12-31", "2004-01-05"], ["2003", "not loaded"]),
    (["workdays", "add", "2025-09-26"], ["required", "N"]),
    (["workdays", "add"], ["required", "START"]),
    (["workdays", "between", "2025-09-26"], ["required", "B"]),
    (["workdays"], ["required", "ACTION"]),
    (["workdays", "subtract", "2025-09-26", "1"], ["invalid choice", "subtract"]),
    (["workdays", "add", "2025-09-26", "1", "2"], ["unrecognized arguments", "2"]),
]


@pytest.mark.parametrize(
    ("argv", "words"), [pytest.param(argv, words, id=" ".join(argv)) for argv, words in BAD_INPUT]
)
def test_bad_input_exits_2_with_a_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.strip()
    for word in words:
        assert word in err


def test_calendar_errors_are_one_line_naming_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(capsys, "workdays", "add", "2027-03-01", "3")
    assert status == 2
    assert err == (
        "jifen workdays: error: no working-day calendar loaded for 2027 "
        "(the State Council notice for 2027 is not loaded)\n"
    )


def test_a_broken_override_file_exits_2_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "calendar").mkdir()
    bad = tmp_path / "calendar" / "cn-2027.yaml"
    bad.write_text("year: 2027\nnotice: x\npublished: 2026-11-01\nholidays: []\n", "utf-8")
    monkeypatch.setenv("JIFEN_POLICY_DIR", str(tmp_path))
    default_calendar.cache_clear()
    status, out, err = run(capsys, "workdays", "add", "2025-09-26", "10")
    assert (status, out) == (2, "")
    assert f"{bad}: holidays: must be a non-empty list" in err
    assert "Traceback" not in err


def test_a_loaded_notice_extends_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / "cn-2027.yaml").write_text(
        "year: 2027\nnotice: x\npublished: 2026-11-01\n"
        "holidays:\n  - name: 元旦\n    days_off: 2027-01-01\n",
        "utf-8",
    )
    monkeypatch.setenv("JIFEN_POLICY_DIR", str(tmp_path))
    default_calendar.cache_clear()
    assert run(capsys, "workdays", "add", "2026-12-31", "1") == (0, "2027-01-04\n", "")
