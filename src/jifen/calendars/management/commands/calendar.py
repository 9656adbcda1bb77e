"""``jifen calendar``: show a year of the current calendar version, import a notice file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jifen.audit.actors import Actor
from jifen.calendars import services
from jifen.calendars.models import CalendarDay, CalendarYear
from jifen.workdays import CalendarFileError

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Command(BaseCommand):
    help = "The database working-day calendar: show a year, import a holiday notice (YAML)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="the explicit days of YEAR in the current version")
        show.add_argument("year", type=int)
        imp = sub.add_parser("import", help="save a new version with a notice file's year")
        imp.add_argument("file", type=Path)
        imp.add_argument("--note", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "show":
            self.show(options["year"])
        else:
            self.import_file(options["file"], options["note"])

    def show(self, year: int) -> None:
        calendar, number = services.current_calendar()
        if year not in calendar.years:
            raise CommandError(f"calendar version {number} does not cover {year}")
        source = CalendarYear.objects.get(version_id=number, year=year).source
        self.stdout.write(f"{year} (calendar version {number}; {source})")
        for day in CalendarDay.objects.filter(version_id=number, date__year=year).order_by("date"):
            kind = "work" if day.is_workday else "off "
            weekday = _WEEKDAYS[day.date.weekday()]
            self.stdout.write(f"{day.date} {weekday} {kind} {day.name}")
        if year - 1 in calendar.years:
            count = calendar.workdays_between(dt.date(year - 1, 12, 31), dt.date(year, 12, 31))
            self.stdout.write(f"{count} working days")

    def import_file(self, path: Path, note: str) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"{path}: is not UTF-8 text") from None
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror})") from None
        try:
            version = services.import_notice(
                text,
                file=str(path),
                user=None,
                now=timezone.now(),
                note=note,
                actor=Actor.system("command:calendar_import"),
            )
        except CalendarFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"calendar version {version.number} saved from {path}")
