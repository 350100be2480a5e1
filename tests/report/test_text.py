"""The text report's scope parts: the screening line and the one line of an out-of-scope patient."""

from __future__ import annotations

from collections import Counter

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.scope import ScreeningCounts, decide_scope
from poems_fhir.report.text_report import render_assessment, render_out_of_scope, render_screening


def test_screening_line_reads_like_the_issue_asks():
    counts = ScreeningCounts(Counter(met=1, indeterminate=9, not_met=2), Counter(indeterminate=41_000, not_met=988))
    assert render_screening(counts) == "12 in scope: 1 met, 9 indeterminate, 2 not met; 41,988 out of scope"
    assert render_screening(ScreeningCounts()) == "0 in scope; 0 out of scope"


def test_out_of_scope_is_one_line_and_in_scope_detail_names_the_scope():
    a = evaluate("Patient/7", [], MAYO)
    line = render_out_of_scope(a, decide_scope(a))
    assert "\n" not in line
    assert line == (
        "Patient/7: out of scope - none of the trigger criteria present: polyneuropathy not assessed, "
        "monoclonal_plasma_cell_disorder not assessed (classification indeterminate)"
    )
    detail = render_assessment(a, scope=decide_scope(a))
    assert "Scope: OUT OF SCOPE" in detail and "audit" in detail.lower()


def test_the_response_names_a_treatment_on_no_readable_day():
    """probe79 D8: "no treatment recorded" beside a transplant dated only in words."""
    from poems_fhir.criteria.response import ResponseConfig, assess_response
    from poems_fhir.criteria.timeline import Event
    from poems_fhir.report.text_report import render_response

    undated = Event("autologous_hsct", None, "Procedure/asct", "ASCT", status="completed")
    r = assess_response([], [undated], [], [], ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000}))
    text = render_response(r, [])
    assert "Response: a treatment is recorded without a readable date (Procedure/asct); give --baseline DATE" in text
    assert "no treatment recorded" not in text


def test_before_the_first_treatment_the_text_names_it():
    """probe83 D7: "Response: no treatment recorded" with lenalidomide recorded from three days later."""
    import datetime as dt

    from poems_fhir.criteria.response import ResponseConfig, assess_response
    from poems_fhir.criteria.timeline import Event
    from poems_fhir.report.text_report import render_response

    len_ = Event("treatment", dt.date(2022, 1, 15), "MedicationStatement/len", "lenalidomide", agent="lenalidomide")
    cfg = ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000})
    r = assess_response([], [len_], [], [], cfg, dt.date(2022, 1, 12))
    text = render_response(r, [])
    assert (
        "Response: no treatment started by 2022-01-12 (the first, lenalidomide, starts 2022-01-15; give --baseline "
        "DATE to assess change from a date)"
    ) in text
    assert "no treatment recorded" not in text
