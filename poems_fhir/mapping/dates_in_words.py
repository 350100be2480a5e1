# SPDX-License-Identifier: Apache-2.0
"""A date written in words where FHIR allows a string (``Procedure.performedString``), read only when
it cannot mean two days (probe79 D8).

Read: a month and year ("February 2024", "Feb 2024", "февраль 2024", "в феврале 2024 г.", "2024-02",
"02/2024", "02.2024") as a partial date - its first day, as the FHIR partial dates ("2024-02") are
counted - and a full date ("2024-02-15", "15 February 2024", "February 15, 2024", "15 февраля 2024",
"15.02.2024"). Not read: a year alone (a treatment's start would move by up to eleven months), a
day/month order that could be either ("03/04/2024"), anything else ("early 2024", "two years ago").
"""

from __future__ import annotations

import datetime as dt
import re

from .values import PartialDate

#: month names by their first letters: English (full and three-letter) and Russian (every case:
#: "февраль", "февраля", "феврале" share "феврал")
_MONTHS: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (i + 1, re.compile(pattern, re.IGNORECASE))
    for i, pattern in enumerate(
        (
            r"jan(?:uary)?|январ[ьяе]",
            r"feb(?:ruary)?|феврал[ьяе]",
            r"mar(?:ch)?|март[ае]?",
            r"apr(?:il)?|апрел[ьяе]",
            r"may|ма[йяе]",
            r"june?|июн[ьяе]",
            r"july?|июл[ьяе]",
            r"aug(?:ust)?|август[ае]?",
            r"sep(?:t(?:ember)?)?|сентябр[ьяе]",
            r"oct(?:ober)?|октябр[ьяе]",
            r"nov(?:ember)?|ноябр[ьяе]",
            r"dec(?:ember)?|декабр[ьяе]",
        )
    )
)
_MONTH = r"(?P<month>[^\W\d_]+)\.?"
_YEAR = r"(?P<year>\d{4})(?:\s*(?:г\.?|года?))?"  # "2024 г.", "2024 года"
_DAY = r"(?P<day>\d{1,2})"
#: the shapes read, each matched against the whole text (spaces and a leading "в"/"in" forgiven)
_SHAPES = tuple(
    re.compile(rf"(?:(?:in|в|во)\s+)?{shape}", re.IGNORECASE)
    for shape in (
        rf"{_MONTH},?\s+{_YEAR}",  # February 2024
        rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}",  # 15 February 2024
        rf"{_MONTH}\s+{_DAY},\s*{_YEAR}",  # February 15, 2024
        # 2024-02, 2024-02-15, and a FHIR dateTime written as text: 2022-04-01T10:00 (probe82 D13: refused)
        r"(?P<year>\d{4})-(?P<nmonth>\d{2})(?:-(?P<day>\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?",
        r"(?P<nmonth>\d{1,2})[/.](?P<year>\d{4})",  # 02/2024, 02.2024
        r"(?P<day>\d{1,2})\.(?P<nmonth>\d{1,2})\.(?P<year>\d{4})",  # 15.02.2024 (day first, with dots only)
    )
)


def date_in_words(text: str) -> dt.date | None:
    """The day ``text`` names in one of the shapes above: a PartialDate (month precision) for a month
    and year, a date for a full date; None when it names none for sure (or no day of the calendar)."""
    text = " ".join(text.split())
    for shape in _SHAPES:
        m = shape.fullmatch(text)
        if m is None:
            continue
        month = _month(m)
        if month is None:
            return None
        day = m.groupdict().get("day")
        try:
            if day is None:
                return PartialDate(int(m.group("year")), month, 1, "month")
            return dt.date(int(m.group("year")), month, int(day))
        except ValueError:  # month 13, 30 February
            return None
    return None


def _month(m: re.Match[str]) -> int | None:
    found = m.groupdict()
    if found.get("nmonth"):
        return int(found["nmonth"])
    name = found.get("month") or ""
    return next((number for number, pattern in _MONTHS if pattern.fullmatch(name)), None)
