"""The working-day windows: 3 working days to file counting the first day of publication,
7 working days to answer — across the 2025 National Day holiday."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.reexaminations.windows import answer_deadline, filing_deadline

pytestmark = pytest.mark.django_db


def test_first_day_of_publication_is_day_one_when_it_is_a_working_day():
    # Tue 09-30 (day 1), National Day 10-01…10-08, Thu 10-09 (day 2), Fri 10-10 (day 3).
    assert filing_deadline(dt.date(2025, 9, 30)).due_on == dt.date(2025, 10, 10)


def test_publication_starting_on_a_holiday_counts_from_the_next_working_day():
    # Day 1 = Thu 10-09, day 2 = Fri 10-10, day 3 = the adjusted working Saturday 10-11.
    assert filing_deadline(dt.date(2025, 10, 1)).due_on == dt.date(2025, 10, 11)
    # Mon 2025-06-02 is the Dragon Boat Festival: 06-03, 06-04, 06-05.
    assert filing_deadline(dt.date(2025, 6, 2)).due_on == dt.date(2025, 6, 5)
    # An ordinary week: Mon 2025-06-09 → Wed 06-11.
    assert filing_deadline(dt.date(2025, 6, 9)).due_on == dt.date(2025, 6, 11)


def test_answer_is_due_on_the_seventh_working_day_after_filing():
    # Filed Tue 09-30: 10-09, 10-10, 10-11 (adjusted), 10-13, 10-14, 10-15, 10-16.
    due = answer_deadline(dt.date(2025, 9, 30))
    assert due.due_on == dt.date(2025, 10, 16)
    assert due.calendar_version >= 1
    # Filed on a holiday: counted from the next working days.
    assert answer_deadline(dt.date(2025, 10, 3)).due_on == dt.date(2025, 10, 16)


def test_a_year_the_calendar_does_not_cover_is_a_named_error():
    from jifen.reexaminations.errors import DeadlineUnavailable

    with pytest.raises(DeadlineUnavailable) as caught:
        answer_deadline(dt.date(2026, 12, 28))
    assert caught.value.code == "reexaminations.deadline_unavailable"
    assert "2027" in str(caught.value.message)
