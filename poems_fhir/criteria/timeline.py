# SPDX-License-Identifier: Apache-2.0
"""Time-stamped measurements and treatment events: the inputs of response and risk over time."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measurement:
    """One numeric result in the mapping's canonical unit (e.g. M-protein in g/L)."""

    analyte: str  # mapping rule id: "serum_m_protein", "vegf", "albumin", ...
    value: float
    unit: str | None
    effective: dt.date | None
    reference: str
    specimen: str | None = None
    comparator: str | None = None
    #: a Range result: the true value lies in [value, high]
    high: float | None = None
    #: outside the lab's own reference range or flagged so (True), within a stated range or flagged
    #: normal (False), or neither stated (None); read for results judged by their lab, e.g. the FLC ratio
    abnormal: bool | None = None
    #: above the lab's upper limit or flagged high (True), within its range, below it or flagged
    #: normal/low (False), neither stated (None); read where only a high value counts (prolactin)
    above: bool | None = None
    #: the number and unit as the lab sent them when they were converted ("1.2 g/dL"): shown beside the value
    #: (probe108 D11: a response row read "12 g/L → 6 g/L" for a lab that reports g/dL); not compared
    sent: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Event:
    """A treatment or milestone (transplant, radiotherapy, biopsy), from Procedure or medication."""

    kind: str  # "treatment", "autologous_hsct", "radiotherapy", "stem_cell_mobilisation", ...
    effective: dt.date | None
    reference: str
    summary: str
    agent: str | None = None  # medication rule id, e.g. "thalidomide"
    end: dt.date | None = None
    neurotoxic: bool = False
    status: str | None = None  # resource status, e.g. "completed", "active", "preparation"


@dataclass(frozen=True)
class CourseAssessment:
    """A clinician's statement that a domain improved, stayed stable or got worse."""

    domain: str
    direction: str  # "improved" | "stable" | "worse"
    effective: dt.date | None
    reference: str


def day_text(day: dt.date) -> str:
    """A day as a person (and FHIR) reads it, to the precision it is known: "2015", "2023-05",
    "2023-05-04". A partial date (mapping.values.PartialDate: a FHIR "2023-05", or a treatment's month
    read from words, "в апреле 2022 г.") carries its ``precision``; written as its first day it read as
    if the day were known (probe82 D8: "first treatment 2022-04-01", "at transplant on 2022-04-01")."""
    precision = getattr(day, "precision", None)
    text = day.isoformat()
    return text[:4] if precision == "year" else text[:7] if precision == "month" else text


def latest_day(day: dt.date) -> dt.date:
    """The last day ``day`` can be: a partial date's (mapping.values.PartialDate ``last_day``: "2022-04" is
    at most April 30), else the day itself. Day +90 after a transplant "in April" is sure only from July 29."""
    last = getattr(day, "last_day", day)
    return last if isinstance(last, dt.date) else day


def whole_months(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from ``start`` to ``end``, counted as add_months counts them: Jan 31 to Apr 30 is
    3 (a count of days / 30 said 2 beside a window that called Apr 30 three months on: probe113 D5). A start
    known only to its month counts from its last day, as escalation_window does."""
    start = latest_day(start)
    months = (end.year - start.year) * 12 + end.month - start.month
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return max(months, 0)


def escalation_window(radiotherapy_end: dt.date) -> tuple[dt.date, dt.date]:
    """criteria.md §10 step 1a, "progression 3-6 months after completing radiation": the window's first and
    last day, from the last day the radiotherapy can have ended (a course known only to its month ended by
    its last day). One window for the alert, the escalation and the restaging (probe113 D3: the alert and the
    escalation counted "March 2022" from Mar 1, the restaging from Mar 31)."""
    last = latest_day(radiotherapy_end)
    return add_months(last, 3), add_months(last, 6)


#: criteria.md §10 step 5: the restaging after a transplant opens on day +90 (its window closes on day +100)
RESTAGING_OPENS_DAY = 90


def restaging_opens(transplant: dt.date) -> dt.date:
    """Day +90 after a transplant, counted from the last day it can be (``latest_day``): the one day rule of
    the restaging step and of the factors that wait for it."""
    return add_days(latest_day(transplant), RESTAGING_OPENS_DAY)


def within_period(day: dt.date, later: dt.date) -> str | None:
    """ "year" or "month" when ``day`` is known only to its year or month (a partial date, day_text) and
    ``later`` falls within that year or month - whether ``later`` came after ``day`` is then not known (a
    radiotherapy "completed in 2022" and a progression on 2022-07-15 were "0 months after" it); else None."""
    precision = getattr(day, "precision", None)
    if precision not in ("year", "month"):
        return None
    return precision if later <= latest_day(day) else None  # type: ignore[no-any-return]


def on_day(day: dt.date) -> str:
    """ "on 2023-05-04", or "in 2023-05" / "in 2015" for a partial date (day_text)."""
    return f"{'in' if getattr(day, 'precision', None) in ('year', 'month') else 'on'} {day_text(day)}"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` + ``months``, stopping at the calendar's ends as add_days. The day of month is kept, or
    the target month's last day when it has fewer (31 Aug + 6 months = 28/29 Feb), as calendars and
    dateutil's relativedelta do: a due date of 30 Jan + 6 months is 30 Jul, not the 28th (probe108 D7)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    if year > dt.MAXYEAR:  # a (valid) date near 9999: the calendar ends there
        return dt.date.max
    if year < dt.MINYEAR:
        return dt.date.min
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_days(day: dt.date, days: int) -> dt.date:
    """``day`` + ``days`` (either sign), stopping at the calendar's ends: a valid FHIR date may be
    0001-01-01 or 9999-12-31, and a window or a schedule counted from it would leave the calendar."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min
