"""Dates of the proposed monitoring steps near the end of the calendar (year 9999, a valid FHIR date):
a step that still falls within year 9999 keeps its own date; only one past it becomes the last day."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.timeline import add_months as _add_months


def test_months_added_within_the_last_year_keep_their_date():
    assert _add_months(dt.date(9999, 1, 10), 2) == dt.date(9999, 3, 10)
    assert _add_months(dt.date(9999, 11, 30), 1) == dt.date(9999, 12, 30)  # the day kept


def test_months_past_the_calendar_end_give_its_last_day():
    assert _add_months(dt.date(9999, 11, 30), 2) == dt.date.max
