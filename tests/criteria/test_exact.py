"""Response boundaries hold at the decimal criteria.md gives, not a binary hair either side."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.exact import at_least, at_most, difference, relative_change
from poems_fhir.criteria.response import ResponseConfig, assess_response
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.mapping.units import convert

CFG = ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000})
T0 = dt.date(2020, 1, 1)
TREATED = [Event("treatment", T0, "MedicationStatement/t", "lenalidomide", agent="lenalidomide")]


def m(analyte: str, value: float, day: int, unit: str | None = "g/L", specimen: str | None = None) -> Measurement:
    return Measurement(analyte, value, unit, T0 + dt.timedelta(days=day), f"Observation/{analyte}-{day}", specimen)


def run(*ms: Measurement):
    return assess_response(list(ms), TREATED, [], [], CFG, None, None)


def test_the_helpers_compare_the_decimals_that_were_written():
    # as binary floats: 233.3 * 1.5 = 349.95000000000005, 64.6 - 24.6 = 39.99999999999999
    assert 233.3 * 1.5 > 349.95 and at_least(349.95, 233.3, 1.5) and not at_least(349.94, 233.3, 1.5)
    assert 64.6 - 24.6 < 40 and difference(64.6, 24.6) == 40.0
    assert at_most(5.65, 11.3, 0.5) and not at_most(5.66, 11.3, 0.5)
    assert relative_change(5.65, 11.3) == -0.5 and relative_change(300, 200) == 0.5


def test_a_converted_value_keeps_no_binary_noise():
    assert convert(300, "ng/L", "pg/mL") == 300.0
    assert convert(1.13, "g/dL", "g/L") == 11.3
    assert convert(5.65, "g/L", "g/L") == 5.65
    assert convert(0.2, "ng/mL", "pg/mL") == 200.0


def test_an_exact_half_after_a_unit_conversion_is_a_partial_vegf_response():
    # probe20 09-v09: plasma 600 pg/mL, then 300 ng/L (= 300 pg/mL): a 50 % fall, criteria.md §8.2
    r = run(m("vegf", 600, -5, "pg/mL", "plasma"), m("vegf", convert(300, "ng/L", "pg/mL"), 180, "pg/mL", "plasma"))
    assert r.vegf.category == "partial", r.vegf.reason


def test_an_exact_half_rise_after_a_unit_conversion_is_vegf_progression():
    # probe20 68-v26: 400 ng/L, then 600 pg/mL: +50 % from the nadir, above 200
    r = run(m("vegf", convert(400, "ng/L", "pg/mL"), -5, "pg/mL", "plasma"), m("vegf", 600, 180, "pg/mL", "plasma"))
    assert r.vegf.category == "progression", r.vegf.reason


def test_a_rise_of_exactly_half_from_a_decimal_nadir_is_progression():
    r = run(m("vegf", 233.3, -5, "pg/mL", "plasma"), m("vegf", 349.95, 180, "pg/mL", "plasma"))
    assert r.vegf.category == "progression", r.vegf.reason
    r = run(m("vegf", 233.3, -5, "pg/mL", "plasma"), m("vegf", 349.94, 180, "pg/mL", "plasma"))
    assert r.vegf.category == "none", r.vegf.reason


@pytest.mark.parametrize("framework", ["hematologic", "hematologic_imwg"])
def test_an_exact_half_of_a_g_per_dl_baseline_is_a_partial_response(framework):
    # probe20 80-h31: 1.13 g/dL, then 5.65 g/L: -50 %, PR in both frameworks (§8.1a, §8.1b)
    r = run(m("serum_m_protein", convert(1.13, "g/dL", "g/L"), -10), m("serum_m_protein", 5.65, 60))
    result = getattr(r, framework)
    assert result.category == "PR" and result.change == -0.5, result.reason


def test_a_dflc_of_exactly_40_is_no_very_good_partial_response():
    # dFLC 64.6 - 24.6 = 40 mg/L: "dFLC < 40" (VGPR) does not hold; the >= 50 % fall (PR) does
    r = run(
        m("flc_lambda", 150, -5, "mg/L"),
        m("flc_kappa", 10, -5, "mg/L"),
        m("flc_lambda", 64.6, 60, "mg/L"),
        m("flc_kappa", 24.6, 60, "mg/L"),
    )
    assert r.hematologic.category == "PR", r.hematologic.reason


def test_at_least_without_a_factor_is_the_value_against_the_reference_itself():
    # mutation sample (seed 22): a default factor of 2 survived
    from poems_fhir.criteria.exact import at_least

    assert at_least(5.0, 5.0) and at_least(5.01, 5.0) and not at_least(4.99, 5.0)


def test_a_day_counted_past_the_calendars_ends_stops_there():
    # mutation sample (seed 22): the end chosen by the sign of the step survived ("days > 1", "or True")
    import datetime as dt

    from poems_fhir.criteria.timeline import add_days

    assert add_days(dt.date.max, 1) == dt.date.max
    assert add_days(dt.date.min, -1) == dt.date.min
    assert add_days(dt.date.max, 400) == dt.date.max and add_days(dt.date.min, -400) == dt.date.min
    assert add_days(dt.date(2024, 2, 28), 1) == dt.date(2024, 2, 29)


def test_at_most_without_a_factor_is_the_value_against_the_reference_itself():
    # mutation sample (seed 23): a default factor of 2 survived
    from poems_fhir.criteria.exact import at_most

    assert at_most(5.0, 5.0) and at_most(4.99, 5.0) and not at_most(5.01, 5.0) and not at_most(9.0, 5.0)
