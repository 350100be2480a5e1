"""One window for "progression 3-6 months after completing radiation" (criteria.md §10 step 1a) - in the alert, the
escalation and the restaging - counted in calendar months from the last day the radiotherapy can have ended
(probe113 D3-D5: the alert counted days / 30 from the 1st of a month-only course, the restaging from its last day,
and the JSON quoted the rule for a progression outside it)."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.timeline import Event, escalation_window, whole_months
from poems_fhir.mapping.values import parse_date
from tests.criteria.test_response import run

MARCH = parse_date("2022-03", "x")


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (dt.date(2022, 1, 31), dt.date(2022, 4, 30), 3),  # days / 30 said 2
        (dt.date(2022, 1, 31), dt.date(2022, 4, 29), 2),
        (dt.date(2022, 3, 15), dt.date(2022, 3, 20), 0),
        (dt.date(2022, 3, 15), dt.date(2022, 9, 15), 6),
        (dt.date(2022, 3, 15), dt.date(2022, 9, 14), 5),
        (MARCH, dt.date(2022, 6, 15), 2),  # from Mar 31, the last day "March 2022" can be
        (MARCH, dt.date(2022, 6, 30), 3),
    ],
)
def test_whole_calendar_months(start, end, months):
    assert whole_months(start, end) == months


def test_the_window_of_a_month_only_course_opens_three_months_after_its_last_day():
    assert escalation_window(MARCH) == (dt.date(2022, 6, 30), dt.date(2022, 9, 30))
    assert escalation_window(dt.date(2022, 3, 31)) == (dt.date(2022, 6, 30), dt.date(2022, 9, 30))
    assert escalation_window(dt.date(2022, 1, 31)) == (dt.date(2022, 4, 30), dt.date(2022, 7, 31))


def _alert(ended: dt.date, seen: dt.date) -> str:
    rt = Event("radiotherapy", ended, "Procedure/rt", "Radiotherapy", status="completed", end=ended)
    lesion = Finding(
        "radiologic_progression", State.PRESENT, Evidence("DiagnosticReport/pet", seen, "PET-CT: new lesions")
    )
    r = run(events=[rt], findings=[lesion])
    (alert,) = [a for a in r.alerts if a.code == "radiologic_progression"]
    return alert.message


def test_the_alert_quotes_the_rule_only_inside_its_window():
    inside = _alert(dt.date(2022, 1, 31), dt.date(2022, 4, 30))
    assert "3 month(s) after radiotherapy completed on 2022-01-31: progression 3-6 months" in inside
    outside = _alert(dt.date(2022, 1, 31), dt.date(2022, 9, 15))
    assert "7 month(s) after radiotherapy completed on 2022-01-31, outside the 3-6 months" in outside
    assert "calls for systemic therapy" not in outside


@pytest.mark.parametrize(("rise", "escalated"), [(dt.date(2021, 6, 15), False), (dt.date(2021, 7, 5), True)])
def test_a_month_only_course_escalates_from_its_last_day(rise, escalated):
    # "March 2021" ends by Mar 31: a rise on Jun 15 is before the window (Jun 30 - Sep 30), one on Jul 5 inside it
    from tests.criteria.test_pathway_mutants2 import d, m, steps
    from tests.criteria.test_pathway_mutants4 import MANDATORY, MARROW_NEGATIVE, by_id

    rt = Event("radiotherapy", parse_date("2021-03", "x"), "Procedure/rt", "Radiotherapy", status="completed")
    day = (rise - d(0)).days
    rising = [
        m("serum_m_protein", 12.0, -10, "g/L"),
        m("serum_m_protein", 6.0, 20, "g/L"),
        m("serum_m_protein", 12.0, day, "g/L"),
    ]
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *rising], [rt], as_of=rise))
    assert ("escalate-systemic" in got) is escalated


def test_a_course_still_in_progress_has_no_window_yet():
    # probe113 D7: begun on Mar 1 and still "in-progress" with no end - not "completed on Mar 1", no restaging due
    from tests.criteria.test_pathway_mutants2 import d, steps
    from tests.criteria.test_pathway_mutants4 import MANDATORY, MARROW_NEGATIVE, by_id

    going = Event("radiotherapy", d(0), "Procedure/rt", "Radiotherapy", status="in-progress")
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE], [going], as_of=d(220)))
    assert "restaging-after-radiotherapy" not in got and "escalate-systemic" not in got
    assert got["branch"].status == "in-progress"
    done = Event("radiotherapy", d(0), "Procedure/rt", "Radiotherapy", status="completed")
    after = by_id(steps(MANDATORY, [MARROW_NEGATIVE], [done], as_of=d(220)))
    assert "restaging-after-radiotherapy" in after and after["branch"].status == "completed"


def test_no_radiotherapy_advice_from_a_course_still_going():
    going = Event("radiotherapy", dt.date(2022, 1, 1), "Procedure/rt", "Radiotherapy", status="in-progress")
    lesion = Finding(
        "radiologic_progression", State.PRESENT, Evidence("DiagnosticReport/pet", dt.date(2022, 5, 1), "PET-CT")
    )
    (alert,) = [a for a in run(events=[going], findings=[lesion]).alerts if a.code == "radiologic_progression"]
    assert "radiotherapy" not in alert.message and len(alert.days) == 1


# fix120b: a course known only to its year (or month) with the progression inside that year (month) was said to be
# "0 month(s) after" it - the radiotherapy may have ended after the progression; the year/month is named instead


def test_fix120b_a_progression_in_the_year_a_year_only_course_was_completed_is_not_months_after_it():
    message = _alert(parse_date("2022", "x"), dt.date(2022, 7, 15))
    assert "; in 2022, the year radiotherapy was completed: how many months after it is not known" in message
    assert "month(s) after" not in message and "completed in 2022," not in message


def test_fix120b_a_progression_in_the_month_a_month_only_course_was_completed_is_not_0_months_after_it():
    message = _alert(MARCH, dt.date(2022, 3, 20))
    assert "; in 2022-03, the month radiotherapy was completed, before the 3-6 months of the escalation rule" in message
    assert "0 month(s)" not in message and "calls for systemic therapy" not in message


@pytest.mark.parametrize(
    ("ended", "seen", "said"),
    [
        # the year after a year-only course: counted from its last day, Dec 31 (as the window is)
        (
            parse_date("2022", "x"),
            dt.date(2023, 5, 1),
            "4 month(s) after radiotherapy completed in 2022: progression 3-6",
        ),
        (MARCH, dt.date(2022, 4, 20), "0 month(s) after radiotherapy completed in 2022-03, outside"),
        # a day-exact course: 5 days after it is 0 whole months after it, truly
        (dt.date(2022, 3, 15), dt.date(2022, 3, 20), "0 month(s) after radiotherapy completed on 2022-03-15, outside"),
        (dt.date(2022, 6, 30), dt.date(2022, 7, 15), "0 month(s) after radiotherapy completed on 2022-06-30, outside"),
    ],
)
def test_fix120b_a_progression_after_the_period_of_a_partial_course_still_counts_months(ended, seen, said):
    assert said in _alert(ended, seen)
