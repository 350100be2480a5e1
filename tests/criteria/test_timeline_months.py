"""Months added to a date keep its day of month (probe108 D7: a six-month due date was clamped to the 28th);
only a month too short for the day gives its last day, as a calendar does."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.timeline import add_months


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2024, 1, 30), 6, dt.date(2024, 7, 30)),  # was 28 July
        (dt.date(2024, 3, 31), 6, dt.date(2024, 9, 30)),  # September has 30 days
        (dt.date(2023, 8, 31), 6, dt.date(2024, 2, 29)),  # a leap February
        (dt.date(2022, 8, 31), 6, dt.date(2023, 2, 28)),
        (dt.date(2024, 5, 29), 3, dt.date(2024, 8, 29)),
        (dt.date(2024, 12, 31), 1, dt.date(2025, 1, 31)),  # across the year
        (dt.date(2024, 5, 15), -6, dt.date(2023, 11, 15)),  # backwards (an age at onset is never negative)
        (dt.date(2024, 5, 31), 0, dt.date(2024, 5, 31)),
    ],
)
def test_a_day_of_month_is_kept_or_becomes_the_month_end(start, months, expected):
    assert add_months(start, months) == expected


def test_the_calendar_ends_still_stop_the_arithmetic():
    assert add_months(dt.date(9999, 12, 31), 1) == dt.date.max
    assert add_months(dt.date(1, 2, 28), -2) == dt.date.min
