"""Errors of the working-day calendar. Each names what is missing or where a file is wrong."""

from __future__ import annotations


class CalendarError(ValueError):
    """A date falls in a year no loaded holiday notice covers.

    Deadlines in such a year cannot be computed honestly: falling back to plain weekends
    would silently give wrong dates around the next year's holidays.
    """

    def __init__(self, message: str | None = None, *, year: int | None = None) -> None:
        self.year = year
        if message is None:
            message = (
                f"no working-day calendar loaded for {year} "
                f"(the State Council notice for {year} is not loaded)"
            )
        super().__init__(message)

    def __reduce__(self):  # keep ``year`` when pickled (e.g. across processes)
        return (_rebuild_calendar_error, (str(self), self.year))


def _rebuild_calendar_error(message: str, year: int | None) -> CalendarError:
    return CalendarError(message, year=year)


class CalendarFileError(ValueError):
    """A calendar override file is refused: names the file, the path inside it and the reason."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        self.file = file
        self.path = path
        self.reason = reason
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):
        return (type(self), (self.file, self.path, self.reason))
