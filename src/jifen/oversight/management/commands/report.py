"""``jifen report monthly --month 2025-06 --out FILE.pdf``: the city-wide monthly report.

Writes the PDF (and, with ``--xlsx FILE``, the Excel workbook) of the month's oversight
figures; ``--store`` also keeps it with the reports the center downloads (audited
``oversight.report_generated``, actor ``command:report``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jifen.oversight import reports


def _month(value: str) -> Any:
    import argparse

    try:
        return reports.parse_month(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Command(BaseCommand):
    help = "Oversight reports: the monthly report as a PDF in Chinese (and Excel)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True)
        monthly = sub.add_parser("monthly", help="the monthly report of MONTH (YYYY-MM)")
        monthly.add_argument("--month", type=_month, required=True, help="YYYY-MM")
        monthly.add_argument("--out", type=Path, required=True, help="the PDF file to write")
        monthly.add_argument("--xlsx", type=Path, help="also write the Excel workbook here")
        monthly.add_argument(
            "--store", action="store_true", help="also keep it with the downloadable reports"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        month = options["month"]
        now = timezone.now()
        if month > reports.china_month(now):
            raise CommandError(f"{month:%Y-%m} has not begun yet")
        for path in (options["out"], options.get("xlsx")):
            if path is not None and not path.parent.is_dir():
                raise CommandError(f"{path.parent}: no such directory")
        if options["store"]:
            stored = reports.generate(month, now=now, source="command", actor_name="command:report")
            pdf, xlsx = stored.read("pdf"), stored.read("xlsx")
        else:
            report = reports.build(reports.system_viewer(), month, now=now)
            pdf, xlsx = reports.files(report)
        try:
            options["out"].write_bytes(pdf)
            if options.get("xlsx"):
                options["xlsx"].write_bytes(xlsx)
        except OSError as exc:
            raise CommandError(f"cannot write the report: {exc.strerror}") from None
        self.stdout.write(f"monthly report {month:%Y-%m} written to {options['out']}")
