"""probe111 D6, D7, D9, D10: the plan and the written advice around a radiotherapy."""

from __future__ import annotations

import dataclasses
import datetime as dt

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.pathway import Step, pathway
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.i18n import translator
from poems_fhir.mapping.values import PartialDate
from poems_fhir.report.wording import notices, step_text
from tests.criteria.test_risk_pathway import CFG, POEMS, d, m, steps_of

MARROW_NEGATIVE = [Measurement("bm_clonal_plasma_cells", 0, "%", d(-20), "Observation/bm")]
RT = Event("radiotherapy", d(0), "Procedure/rt", "radiotherapy", end=d(40), status="completed")
IN_WINDOW = [*MARROW_NEGATIVE, m("vegf", 150, 150, "pg/mL", "plasma")]  # window d(40)+3..6 months


def _plan(findings, ms, events, as_of=None, today=None) -> dict[str, Step]:
    response = assess_response(list(ms), list(events), findings, [], CFG, as_of)
    risk = assess_risk(findings, list(ms), list(events), response, dt.date(1960, 1, 1), as_of)
    a = evaluate("Patient/1", findings, MAYO, as_of)
    earlier = evaluate("Patient/1", findings, MAYO, response.first_treatment) if response.first_treatment else None
    steps = pathway(a, earlier, response, risk, findings, list(ms), list(events), as_of, today=today)
    return {s.id: s for s in steps}


# --- D6: a restaging done in its window is completed once the window closed, with or without --as-of


def test_restaging_done_in_its_window_is_completed_without_as_of_once_the_record_passes_the_window():
    later = [*IN_WINDOW, m("albumin", 40, 300, "g/L")]  # the newest fact, after the window
    restage = steps_of(POEMS, later, [RT])["restaging-after-radiotherapy"]
    assert restage.status == "completed"
    assert not dict(restage.params).get("overdue")


def test_restaging_done_in_its_window_is_completed_by_the_run_date():
    restage = _plan(POEMS, IN_WINDOW, [RT], today=d(400))["restaging-after-radiotherapy"]
    assert restage.status == "completed"


def test_restaging_still_in_its_window_stays_in_progress():
    assert steps_of(POEMS, IN_WINDOW, [RT], as_of=d(160))["restaging-after-radiotherapy"].status == "in-progress"


# --- D7: a marrow manual count of 0 % plasma cells is no clonal plasma cells


def test_a_marrow_without_plasma_cells_opens_the_radiotherapy_branch():
    steps = steps_of(POEMS, [m("bm_plasma_cells", 0, -20, "%")])
    assert steps["branch"].key == "branch-radiotherapy", steps["branch"].title
    assert steps["branch"].evidence == ("Observation/bm_plasma_cells--20",)


def test_a_marrow_with_plasma_cells_is_no_negative_marrow():
    steps = steps_of(POEMS, [m("bm_plasma_cells", 3, -20, "%")])
    assert steps["branch"].key != "branch-radiotherapy"


# --- D9: a progression outside 3-6 months after radiotherapy is not described with that trigger


def _radiologic_alert(day: int, rt: Event = RT) -> str:
    imaging = Finding(
        "radiologic_progression",
        State.PRESENT,
        Evidence(f"DiagnosticReport/pet{day}", d(day), "New sclerotic lesions"),
        source_rule="radiologic_progression",
    )
    findings = [*POEMS, imaging]
    response = assess_response(list(MARROW_NEGATIVE), [rt], findings, [], CFG, d(day + 5))
    a = evaluate("Patient/1", findings, MAYO, d(day + 5))
    [notice] = [n for n in notices(translator("en"), a, response, None) if n.code == "radiologic_progression"]
    return notice.explanation


def test_a_progression_seven_months_after_radiotherapy_does_not_quote_the_3_to_6_month_rule():
    text = _radiologic_alert(40 + 213)  # 7 months after the end on d(40)
    assert "7 months after the radiotherapy" in text
    assert "progression 3 to 6 months after radiotherapy calls for systemic therapy" not in text
    assert "outside the 3 to 6 months" in text


def test_a_progression_four_months_after_radiotherapy_still_quotes_it():
    text = _radiologic_alert(40 + 122)
    assert "progression 3 to 6 months after radiotherapy calls for systemic therapy" in text


# --- D10: a radiotherapy known only to its month


def test_a_radiotherapy_known_to_its_month_is_shown_so_and_its_window_counted_from_the_month_end():
    rt = dataclasses.replace(RT, effective=PartialDate(2022, 3, 1, "month"), end=PartialDate(2022, 3, 1, "month"))
    restage = steps_of(POEMS, MARROW_NEGATIVE, [rt], as_of=dt.date(2022, 5, 1))["restaging-after-radiotherapy"]
    assert (restage.scheduled_start, restage.scheduled_end) == (dt.date(2022, 6, 30), dt.date(2022, 9, 30))
    assert dict(restage.params)["radiotherapy_end"] == "2022-03"
    text = step_text(translator("en"), restage)
    assert "Radiotherapy completed in Mar 2022." in text and "Mar 1, 2022" not in text
    # Russian names the month in the nominative ("март 2022 г."): after "в" it would need the prepositional
    assert "Лучевая терапия завершена (март 2022" in step_text(translator("ru"), restage)
