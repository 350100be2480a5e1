"""The baseline and the evaluation date in the amyloid-style framework (criteria.md §8.1a), for the
free light chains and the 24-hour urine M-protein as for the serum M-protein (found by mutation
testing: only the serum M-protein had such tests). Expectations from criteria.md §8.1a: PR = >= 50 %
fall of a measurable dFLC (> 100 mg/L) or urine M-protein; PD = >= 50 % rise from the nadir to
> 100 mg/L (dFLC) or > 200 mg/24 h (urine); the baseline is the last value before treatment, a sample
drawn on the day treatment starts included (README: taken before the first dose)."""

from __future__ import annotations

from poems_fhir.criteria.timeline import Measurement
from tests.criteria.test_response import d, m, run


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
