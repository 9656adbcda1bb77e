"""The ``jifen`` command.

The engine's commands (``score``, ``workdays``, ``policy``) run without Django, so the
calculator works on a machine with no database. Every other sub-command is handed to
Django's management command runner (``jifen migrate``, ``jifen runserver`` ...).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import sys
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from jifen.engine.profile import is_iso_date

#: Sub-commands served by the pure packages, module -> ``register(subparsers)``.
ENGINE_COMMANDS = {
    "score": "jifen.cli.score",
    "workdays": "jifen.cli.workdays",
    "policy": "jifen.cli.policy",
}


class CommandError(Exception):
    """Bad input on the command line: printed as one line, exit status 2."""


def iso_date(value: str) -> dt.date:
    """argparse type for an ISO date (YYYY-MM-DD)."""
    try:
        if not is_iso_date(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a valid date (expected YYYY-MM-DD)"
        ) from None


def china_today() -> dt.date:
    """Today's date in China (the platform's dates are Asia/Shanghai calendar days)."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jifen",
        description="Tongxiang New Citizen Points platform. Other sub-commands "
        "(migrate, runserver, ...) are Django management commands.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in ENGINE_COMMANDS.values():
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if (args and args[0] in ENGINE_COMMANDS) or not args or args[0] in {"-h", "--help"}:
        parser = build_parser()
        ns = parser.parse_args(args)
        try:
            return int(ns.handler(ns) or 0)
        except CommandError as exc:
            print(f"jifen {ns.command}: error: {exc}", file=sys.stderr)
            return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["jifen", *args])
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
