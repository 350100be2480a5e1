"""Edges of the progression-from-CR rule, the free-light-chain pairs behind it and the escalation
after radiotherapy (found by mutation testing of this session's code).

Expectations from /work/shared/clinical/criteria.md §8.1a (PD from CR: "any detectable M-protein or
abnormal FLC ratio (light chain must double)"), §10 step 1a (progression 3-6 months after completing
radiation -> systemic therapy), not from the code."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from poems_fhir.criteria.response import _flc_pairs
from poems_fhir.criteria.timeline import Event, Measurement
from tests.criteria.test_pathway_mutants4 import MANDATORY, MARROW_NEGATIVE, by_id
from tests.criteria.test_pathway_mutants2 import d, m as pm, steps
from tests.criteria.test_response import CR_AT_90, LAMBDA_CLONE, flc, m, run
from tests.criteria.test_response import d as response_day


# --- which chain is involved, and which result it is ---------------------------------------------


def _chains(day: int, kappa: float, lam: float) -> list[Measurement]:
    return [m("flc_kappa", kappa, day, unit="mg/L"), m("flc_lambda", lam, day, unit="mg/L")]


def test_the_involved_chain_is_the_clones_else_the_larger_and_its_own_result():
    ms = [*_chains(10, 20.0, 30.0), m("flc_kappa", 25.0, 20, unit="mg/L")]  # day 20: kappa alone, no pair
    day10 = dt.date(2020, 1, 11)
    kappa, lam = "Observation/flc_kappa-10", "Observation/flc_lambda-10"
    assert _flc_pairs(ms, None, "kappa") == [(day10, 20.0, 30.0, kappa, lam)]
    assert _flc_pairs(ms, None, "lambda") == [(day10, 30.0, 20.0, lam, kappa)]
    assert _flc_pairs(ms, None, None) == [(day10, 30.0, 20.0, lam, kappa)]  # the larger
    larger_kappa = _chains(10, 30.0, 20.0)
    assert _flc_pairs(larger_kappa, None, None) == [(day10, 30.0, 20.0, kappa, lam)]
    tie = _chains(10, 20.0, 20.0)  # equal chains, isotype unknown: lambda, the POEMS light chain
    assert _flc_pairs(tie, None, None)[0][3:] == (lam, kappa)
    assert _flc_pairs(tie, None, "kappa")[0][3:] == (kappa, lam)  # a kappa clone's chain cites its own result


# --- progression from CR: the day of the CR itself, and the size of the rise ----------------------


def test_a_result_on_the_day_of_the_cr_is_not_progression_from_it():
    # CR_AT_90: serum IFE negative on day 90, urine on day 92 -> CR from day 90
    # serum negative on day 90 with the urine negative on day 80: CR from day 90; a positive urine the
    # same day 90 means the response was not complete, not that the clone came back
    cr_90 = [*CR_AT_90[:3], m("urine_ife", 0, 80, unit=None)]
    same_day_urine = run(*cr_90, m("urine_ife", 1, 90, unit=None))
    assert "after a complete response" not in same_day_urine.hematologic.reason
    assert run(*cr_90, m("urine_ife", 1, 91, unit=None)).hematologic.category == "PD"
    same_day_m = run(*CR_AT_90, m("serum_m_protein", 1.5, 90))
    assert "after a complete response" not in same_day_m.hematologic.reason


def test_any_detectable_m_protein_after_cr_is_progression():
    small = run(*CR_AT_90, m("serum_m_protein", 0.5, 300))
    assert small.hematologic.category == "PD"


@pytest.mark.parametrize(
    ("at_cr_day", "at_cr", "later", "pd"),
    [
        (90, 20.0, 40.0, True),  # exactly doubled
        (90, 20.0, 39.9, False),
        (59, 20.0, 40.0, True),  # measured 31 days before the negative IFE: part of the CR's restaging
        (58, 20.0, 40.0, False),  # 32 days before: not
        (90, 1.0, 2.5, True),  # a small involved chain that doubled
        (90, 0.0, 45.0, False),  # from 0, "double" is not defined
    ],
)
def test_an_abnormal_ratio_is_progression_from_cr_when_the_involved_chain_doubled(at_cr_day, at_cr, later, pd):
    at_cr_results = flc(at_cr_day, 12.0, at_cr, False) if at_cr else _chains(at_cr_day, 12.0, at_cr)
    ms = [*CR_AT_90, *at_cr_results, *flc(300, 12.0, later, True)]
    got = run(*ms, findings=[LAMBDA_CLONE]).hematologic
    assert (got.category == "PD") is pd, got.reason


def test_an_abnormal_ratio_on_the_day_of_the_cr_is_not_progression_from_it():
    # the ratio that is abnormal on the CR day itself (with the chain "doubled" against the month before)
    ms = [*CR_AT_90, *flc(60, 12.0, 20.0, False), *flc(90, 12.0, 45.0, True)]
    assert run(*ms, findings=[LAMBDA_CLONE]).hematologic.category != "PD"


# --- step 1a: the window and what completes it ----------------------------------------------------

RT = Event("radiotherapy", d(0), "Procedure/rt", "Radiotherapy", status="completed", end=d(30))
M_BEFORE = [pm("serum_m_protein", 12.0, -10, "g/L"), pm("serum_m_protein", 6.0, 20, "g/L")]


def _rise_on(day: int) -> list:
    return [*M_BEFORE, pm("serum_m_protein", 12.0, day, "g/L")]


@pytest.mark.parametrize(
    ("day", "proposed"),
    [(121, True), (120, False), (213, True), (214, False)],  # d(30)=2021-03-31: d(121)=2021-06-30 .. d(213)=2021-09-30
)
def test_the_escalation_window_is_3_to_6_months_inclusive(day, proposed):
    # three and six calendar months after Mar 31: the months' last days (it was the 28th: probe108 D7)
    assert (d(121), d(213)) == (dt.date(2021, 6, 30), dt.date(2021, 9, 30))
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_rise_on(day)], [RT], as_of=d(day)))
    assert ("escalate-systemic" in got) is proposed


def test_a_radiotherapy_without_an_end_counts_from_its_date():
    rt = dataclasses.replace(RT, end=None)  # d(0) = 2021-03-01: the window is 2021-06-01 .. 2021-09-01
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_rise_on(95)], [rt], as_of=d(100)))
    assert "escalate-systemic" in got
    assert (
        by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_rise_on(95)], [RT], as_of=d(100))).get("escalate-systemic") is None
    )


def test_only_a_systemic_therapy_started_after_the_radiotherapy_completes_the_escalation():
    on_the_day = Event("treatment", d(30), "MedicationStatement/len", "lenalidomide", agent="lenalidomide")
    undated = Event("treatment", None, "MedicationStatement/x", "melphalan", agent="melphalan")
    for systemic in (on_the_day, undated):
        got = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_rise_on(150)], [RT, systemic], as_of=d(160)))
        assert got["escalate-systemic"].status == "not-started"


@pytest.mark.parametrize(("urine_day", "pd"), [(121, True), (122, False), (59, True), (58, False)])
def test_a_cr_to_progress_from_needs_serum_and_urine_negative_within_31_days(urine_day, pd):
    ms = [m("serum_m_protein", 8.0, -10), m("serum_ife", 0, 90, unit=None), m("urine_ife", 0, urine_day, unit=None)]
    relapse = run(*ms, m("serum_ife", 1, 300, unit=None)).hematologic
    assert ("after a complete response" in relapse.reason) is pd, relapse.reason


def test_a_record_of_thousands_of_results_is_checked_on_a_bounded_number_of_days(monkeypatch):
    # "CR ever reached" re-reads the series per day: a broken or hostile record of thousands of
    # immunofixations must not cost quadratic time (the days checked are capped)
    from poems_fhir.criteria import response

    calls = []
    real = response._clone
    monkeypatch.setattr(response, "_clone", lambda *a, **k: calls.append(1) or real(*a, **k))
    ms = [m("serum_m_protein", 8.0, -10)]
    ms += [m("serum_ife", float(i % 2), i, unit=None) for i in range(1, 1500)]
    ms += [m("urine_ife", 0, i, unit=None) for i in range(1, 1500)]
    r = run(*ms)
    assert len(calls) == response._MAX_CR_DAYS + 1  # the days checked, and the assessment itself
    assert r.cr_dates and r.cr_dates[-1] == response_day(1498)  # the latest days are the ones checked


# --- "complete response reached" (ResponseAssessment.cr_dates): the baseline and the clone's chain --


def test_immunofixations_drawn_on_the_first_treatment_day_are_baseline_not_a_complete_response():
    # criteria.md §8.1a CR: negative serum and urine immunofixation after treatment; a sample drawn the
    # day treatment starts is the (pre-dose) baseline, so it cannot show a response reached
    same_day = [m("serum_ife", 0, 0, unit=None), m("urine_ife", 0, 0, unit=None)]
    later = [*flc(0, 10.0, 300.0, True), *flc(60, 10.0, 15.0, False)]
    assert run(*same_day, *later).cr_dates == ()
    next_day = [m("serum_ife", 0, 1, unit=None), m("urine_ife", 0, 1, unit=None)]
    assert response_day(60) in run(*next_day, *later).cr_dates


def test_the_days_of_complete_response_measure_a_rise_from_the_pre_dose_baseline_on():
    # the M-protein drawn on the first treatment day (12 g/L) is the baseline; the 8 g/L of ten days
    # earlier is history. 13 g/L on day 60 is then no ">= 50 % rise from the nadir" (§8.1a PD), so the
    # negative immunofixations of that day count as a complete response reached. Measured from the
    # older 8 g/L it would be a progression, and no CR day.
    ms = [
        m("serum_m_protein", 8.0, -10),
        m("serum_m_protein", 12.0, 0),
        m("serum_m_protein", 13.0, 60),
        m("serum_ife", 0, 60, unit=None),
        m("urine_ife", 0, 60, unit=None),
    ]
    assert run(*ms).cr_dates == (response_day(60),)


KAPPA_CLONE = dataclasses.replace(LAMBDA_CLONE, heavy_chain="IgG", light_chain="kappa")


def test_a_rise_of_the_uninvolved_chain_does_not_undo_a_complete_response_reached():
    # a kappa clone in CR (negative immunofixations, normal ratio): lambda rising 60 -> 130 mg/L is the
    # polyclonal chain, not the clone; "dFLC rose >= 50 % to > 100 mg/L" (§8.1a PD) is about the
    # involved chain, so the CR of day 60 stands (and is counted as reached)
    ms = [
        *flc(-5, 200.0, 20.0, True),
        m("serum_ife", 0, 45, unit=None),
        m("urine_ife", 0, 46, unit=None),
        *flc(30, 15.0, 60.0, False),
        *flc(60, 15.0, 130.0, False),
    ]
    r = run(*ms, findings=[KAPPA_CLONE])
    assert r.hematologic.category == "CR", r.hematologic.reason
    assert response_day(60) in r.cr_dates


# --- §8.1a urine M-protein: "PR ... or >= 50 % reduction urine light chain (if > 100 mg/day)";
# "PD ... or >= 50 % increase urine M-protein to > 200 mg/day with visible peak" -----------------


def _urine(value: float, day: int) -> Measurement:
    return m("urine_m_protein", value, day, unit="mg/(24.h)")


def test_urine_measurable_disease_gives_a_partial_response():
    # serum M-protein 3 g/L (not > 5) and no FLC: only the urine (640 mg/24 h > 100) is measurable
    r = run(m("serum_m_protein", 3.0, -10), _urine(640, -10), m("serum_m_protein", 2.0, 90), _urine(210, 90))
    assert r.hematologic.category == "PR", r.hematologic.reason
    assert "640 -> 210 mg/24 h" in r.hematologic.reason


@pytest.mark.parametrize(("base", "after", "category"), [(101, 50, "PR"), (100, 10, "not_evaluable"), (400, 201, "NR")])
def test_the_urine_gate_and_the_half(base, after, category):
    # a baseline of exactly 100 mg/24 h is not "> 100"; 201 of 400 is not a 50 % reduction
    r = run(_urine(base, -10), _urine(after, 90))
    assert r.hematologic.category == category, r.hematologic.reason


@pytest.mark.parametrize(
    ("values", "pd"),
    [
        ((640, 150, 1100), True),  # +633 % from the nadir, > 200
        ((640, 150, 225), True),  # exactly +50 % from the nadir, > 200
        ((640, 150, 224), False),  # +49 %
        ((300, 120, 180), False),  # +50 % but not > 200 mg/24 h
        ((300, 134, 201), True),
    ],
)
def test_urine_progression_is_a_half_again_from_the_nadir_to_above_200(values, pd):
    base, nadir, last = values
    r = run(_urine(base, -10), _urine(nadir, 90), _urine(last, 300))
    assert (r.hematologic.category == "PD") is pd, r.hematologic.reason
    if pd:
        assert f"from its nadir ({min(base, nadir):g} mg/24 h)" in r.hematologic.reason


# --- no CR without a normal ratio: "PD from CR" starts only where amyloid-style CR was reached -----


@pytest.mark.parametrize(
    ("ratio_day", "abnormal", "pd_from_cr"),
    [
        (90, False, True),  # a normal ratio at the negative immunofixations: CR, then any M-protein is PD
        (90, None, True),  # no range stated: a provisional CR still counts
        (90, True, False),  # abnormal: the response was not complete (criteria.md §8.1a CR)
        (121, True, False),  # 31 days after: the same restaging
        (122, True, True),  # 32 days after: a later result, CR was reached before it
        (-10, True, True),  # the pre-treatment ratio belongs to the baseline, not to the restaging
    ],
)
def test_negative_immunofixations_beside_an_abnormal_ratio_are_no_cr_to_progress_from(ratio_day, abnormal, pd_from_cr):
    # 0.5 g/L at day 300: "any detectable M-protein" after CR, but no 50 % rise to > 5 g/L from the nadir
    ms = [*CR_AT_90, *flc(ratio_day, 12.0, 60.0, abnormal), m("serum_m_protein", 0.5, 300)]
    got = run(*ms, findings=[LAMBDA_CLONE]).hematologic
    assert ("after a complete response" in got.reason) is pd_from_cr, got.reason
    assert (got.category == "PD") is pd_from_cr, got.reason
