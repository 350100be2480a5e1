"""A date in words (Procedure.performedString) is read only when it names one month or day (probe79 D8)."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.mapping.dates_in_words import date_in_words


@pytest.mark.parametrize(
    "text",
    [
        "February 2024",
        "Feb 2024",
        "feb. 2024",
        "in February, 2024",
        "февраль 2024",
        "в феврале 2024 г.",
        "февраля 2024 года",
        "2024-02",
        "02/2024",
        "2.2024",
    ],
)
def test_a_month_and_year_is_a_partial_date_counted_from_its_first_day(text: str) -> None:
    day = date_in_words(text)
    assert day == dt.date(2024, 2, 1) and getattr(day, "precision", None) == "month"


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-15",
        "15 February 2024",
        "February 15, 2024",
        "15 февраля 2024",
        "15.02.2024",
        "2024-02-15T10:00",  # a FHIR dateTime written as text (probe82 D13: refused)
        "2024-02-15T10:00:00+05:00",
    ],
)
def test_a_full_date_is_that_day(text: str) -> None:
    day = date_in_words(text)
    assert day == dt.date(2024, 2, 15) and not hasattr(day, "precision")


@pytest.mark.parametrize(
    "text",
    ["2024", "early 2024", "03/04/2024", "13/2024", "00/2024", "30 February 2024", "Febtember 2024", "2024-13", ""],
)
def test_anything_that_could_be_two_days_or_none_is_not_read(text: str) -> None:
    # a year alone would move a treatment's start by up to eleven months; "03/04" is March or April
    assert date_in_words(text) is None
