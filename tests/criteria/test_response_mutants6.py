"""The baseline and the evaluation date in the amyloid-style framework (criteria.md §8.1a), for the
free light chains and the 24-hour urine M-protein as for the serum M-protein (found by mutation
testing: only the serum M-protein had such tests). Expectations from criteria.md §8.1a: PR = >= 50 %
fall of a measurable dFLC (> 100 mg/L) or urine M-protein; PD = >= 50 % rise from the nadir to
> 100 mg/L (dFLC) or > 200 mg/24 h (urine); the baseline is the last value before treatment, a sample
drawn on the day treatment starts included (README: taken before the first dose)."""

from __future__ import annotations

import dataclasses

from poems_fhir.criteria.timeline import Measurement
from tests.criteria.test_response import CR_AT_90, d, m, run


def _pair(day: int, lam: float, kappa: float = 10.0) -> list[Measurement]:
    return [m("flc_lambda", lam, day, unit="mg/L"), m("flc_kappa", kappa, day, unit="mg/L")]


def _urine(day: int, value: float) -> Measurement:
    return m("urine_m_protein", value, day, unit="mg/(24.h)")


def test_free_light_chains_drawn_on_the_day_treatment_starts_are_the_baseline():
    r = run(*_pair(0, 250), *_pair(60, 100))  # dFLC 240 -> 90: a 62 % fall
    assert r.hematologic.category == "PR"


def test_free_light_chains_after_the_evaluation_date_are_not_read():
    course = [*_pair(-5, 250), *_pair(60, 100), *_pair(200, 410)]  # PR by day 60, PD from the nadir by day 200
    assert run(*course).hematologic.category == "PD"
    assert run(*course, as_of=d(100)).hematologic.category == "PR"


def test_a_urine_m_protein_after_the_evaluation_date_is_not_read():
    course = [_urine(-5, 800), _urine(60, 300), _urine(200, 900)]
    assert run(*course).hematologic.category == "PD"
    assert run(*course, as_of=d(100)).hematologic.category == "PR"


def test_the_baseline_itself_is_no_follow_up():
    only_baseline = run(*_pair(0, 250))  # measurable, but nothing after the first treatment yet
    assert only_baseline.hematologic.category == "not_evaluable"
    urine_only_baseline = run(_urine(0, 800))
    assert urine_only_baseline.hematologic.category == "not_evaluable"


# --- the complete response's other results: cut at the evaluation date, and not the baseline's ----------

_SERUM_NEGATIVE_AT_90 = [
    m("serum_m_protein", 8.0, -10),
    m("serum_ife", 1, -10, unit=None),
    m("serum_ife", 0, 90, unit=None),
]


def _ratio(day: int, abnormal: bool) -> Measurement:
    return dataclasses.replace(m("flc_ratio", 3.0 if abnormal else 1.0, day, unit="{ratio}"), abnormal=abnormal)


def test_a_urine_immunofixation_after_the_evaluation_date_does_not_complete_the_response():
    course = [*_SERUM_NEGATIVE_AT_90, m("urine_ife", 0, 200, unit=None)]
    assert run(*course).hematologic.category == "CR"
    assert run(*course, as_of=d(100)).hematologic.category != "CR"


def test_a_ratio_or_marrow_after_the_evaluation_date_does_not_change_the_complete_response():
    cr = [*CR_AT_90, _ratio(90, False), m("bm_plasma_cells", 2, 95, unit="%")]
    full = run(*cr, as_of=d(100))
    assert full.hematologic.category == "CR" and not full.hematologic.provisional
    later_abnormal_ratio = run(*cr, _ratio(200, True), as_of=d(100))
    assert later_abnormal_ratio.hematologic.category == "CR" and not later_abnormal_ratio.hematologic.provisional
    later_marrow = run(*cr, m("bm_plasma_cells", 30, 200, unit="%"), as_of=d(100))
    assert later_marrow.hematologic.category == "CR" and not later_marrow.hematologic.provisional


def test_a_ratio_or_marrow_of_the_day_treatment_starts_is_the_baseline_not_a_restaging():
    # pre-treatment results (drawn before the first dose) say nothing about whether CR was reached
    baseline_ratio = run(*CR_AT_90, _ratio(0, True), m("bm_plasma_cells", 2, 95, unit="%"))
    assert baseline_ratio.hematologic.category == "CR" and baseline_ratio.hematologic.provisional
    assert any("FLC ratio" in c for c in baseline_ratio.hematologic.caveats)
    baseline_marrow = run(*CR_AT_90, _ratio(90, False), m("bm_plasma_cells", 40, 0, unit="%"))
    assert baseline_marrow.hematologic.category == "CR" and baseline_marrow.hematologic.provisional
    assert any("bone-marrow" in c for c in baseline_marrow.hematologic.caveats)


def test_imwg_relapse_from_cr_starts_at_negative_immunofixations_whatever_the_ratio():
    # IMWG's CR is negative immunofixation (a normal ratio is the *stringent* CR): a band after it is a
    # relapse from CR there (a caveat; PD needs its own rise, §8.1b), while amyloid-style, whose CR needs
    # a normal ratio, judges it from the nadir
    measurable = [m("serum_m_protein", 15.0, -10), *CR_AT_90[1:]]  # IMWG: serum M-protein >= 10 g/L
    course = [*measurable, _ratio(90, True), m("serum_m_protein", 0.5, 300)]
    r = run(*course)
    assert any("after a complete response" in c for c in r.hematologic_imwg.caveats)
    assert r.hematologic_imwg.category != "PD"
    assert "after a complete response" not in r.hematologic.reason


def test_a_marrow_examined_only_after_the_evaluation_date_leaves_the_cr_provisional():
    cr = [*CR_AT_90, _ratio(90, False), m("bm_plasma_cells", 2, 200, unit="%")]
    assert not run(*cr).hematologic.provisional
    at_100 = run(*cr, as_of=d(100))
    assert at_100.hematologic.category == "CR" and at_100.hematologic.provisional
    assert any("bone-marrow" in c for c in at_100.hematologic.caveats)


def test_an_abnormal_ratio_of_the_day_treatment_starts_does_not_undo_a_cr_three_weeks_later():
    # amyloid-style CR needs no abnormal ratio within 31 days of the negative immunofixations; the
    # baseline ratio (before the first dose) is not one of the CR's results
    course = [
        m("serum_m_protein", 8.0, -10),
        m("serum_ife", 1, -10, unit=None),
        _ratio(0, True),
        m("serum_ife", 0, 20, unit=None),
        m("urine_ife", 0, 22, unit=None),
        _ratio(22, False),
        m("serum_m_protein", 0.5, 300),
    ]
    r = run(*course)
    assert r.hematologic.category == "PD" and "after a complete response" in r.hematologic.reason


def test_the_involved_chains_lowest_value_since_cr_is_read_up_to_the_evaluation_date():
    from tests.criteria.test_response import flc

    # CR on day 90 with lambda 20 mg/L; an abnormal ratio on day 200 with lambda 35 (not doubled); a
    # lower lambda after the evaluation date must not make 35 a doubling
    course = [*CR_AT_90, *flc(90, 10, 20, False), *flc(200, 10, 35, True), *flc(300, 10, 10, False)]
    r = run(*course, as_of=d(250))
    assert "after a complete response" not in r.hematologic.reason
