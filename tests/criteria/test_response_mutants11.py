"""Survivors of the mutation run over criteria.response (mutmut 3, eleventh sample), each killed by a behaviour
criteria.md states or the response code documents:

- one day's results of one test are one value only when they agree (``_agree``): equal, or within
  SAME_DAY_TOLERANCE (10 % of the larger, bound included) with the same comparator and no range; a censored
  result beside a plain one, or a Range result, is a conflict left out of the time course;
- a censored VEGF (criteria.md §8.2 compares values; ">2000" is not 2000) is judged over every true value it
  allows: "<v" and "<=v" reach down to 0, ">=v" up without bound, and a bound spanning the cut-off tries the
  value just below it; at most MAX_CENSORED censored values are judged together, beyond that it stays open;
- ``percent``: a change is exact to a millionth before it is shown, and its text is a plain signed number."""

from __future__ import annotations

import dataclasses
import re

import pytest

from poems_fhir.criteria.response import MAX_CENSORED, assess_response, percent, same_day_conflicts
from tests.criteria.test_response import CFG, TREATED, d, m, run

# --- one day, one test: replicates or a conflict (_agree) -------------------------------------------------


def _same_day(*pairs: tuple[float, str | None, float | None]):
    """Serum M-protein results of day 30: (value, comparator, high) each, distinct references."""
    return [
        dataclasses.replace(m("serum_m_protein", v, 30), reference=f"Observation/mp-{i}", comparator=c, high=h)
        for i, (v, c, h) in enumerate(pairs)
    ]


def test_results_exactly_ten_percent_apart_are_one_days_replicates():
    # 10 and 9 g/L: the difference is exactly SAME_DAY_TOLERANCE of the larger - within it, not beyond
    assert same_day_conflicts(_same_day((10.0, None, None), (9.0, None, None)), None) == []
    # just beyond it they conflict (the control)
    assert len(same_day_conflicts(_same_day((10.0, None, None), (8.9, None, None)), None)) == 1


def test_a_censored_result_beside_a_plain_one_of_the_same_day_conflicts():
    # "<5" and 5 g/L: not the same statement, however close the numbers
    day = _same_day((5.0, "<", None), (5.0, None, None))
    ((analyte, when, results),) = same_day_conflicts(day, None)
    assert (analyte, when) == ("serum_m_protein", d(30)) and len(results) == 2
    # left out of the response and named in its caveats: the follow-up is not read
    r = run(m("serum_m_protein", 20, -10), *day)
    assert r.hematologic.latest is None or r.hematologic.latest.effective != d(30)
    assert any("different results on one day" in c for c in r.hematologic.caveats)


def test_two_range_results_of_one_day_conflict_even_with_one_upper_end():
    # [10, 12] and [10.5, 12]: a Range result is no number two copies of can be compared by
    assert len(same_day_conflicts(_same_day((10.0, None, 12.0), (10.5, None, 12.0)), None)) == 1


# --- censored VEGF over the values it allows (_over_intervals) ----------------------------------------------


def vegf(value: float, day: int, comparator: str | None = None, specimen: str = "plasma"):
    return dataclasses.replace(m("vegf", value, day, specimen, unit="pg/mL"), comparator=comparator)


def _vegf(*points, cfg=CFG):
    return assess_response(list(points), TREATED, [], [], cfg, None, None).vegf


def test_an_at_least_follow_up_may_be_anything_above_its_bound():
    # baseline 500, then ">=150": complete if 150, partial at the cut-off, progression if very high
    r = _vegf(vegf(500, -10), vegf(150, 60, ">="))
    assert r.category == "not_evaluable"
    assert r.reason == (
        "censored VEGF (>=150 pg/mL): the true values leave the category open (complete or partial or progression)"
    )


@pytest.mark.parametrize("comparator", ["<", "<="])
def test_a_below_bound_reaches_down_to_zero(comparator):
    # a lab reporting serum VEGF in ng/mL (cut-off 1.0 ng/mL = 1000 pg/mL): 4.0, then "<0.9", then 1.2. The
    # nadir may have been 0.1 (1.2 is a rise of more than half above the cut-off: progression) or 0.9 (not)
    cfg = dataclasses.replace(CFG, vegf_cutoff={"plasma": 0.2, "serum": 1.0})
    r = _vegf(
        vegf(4.0, -10, specimen="serum"), vegf(0.9, 30, comparator, "serum"), vegf(1.2, 60, specimen="serum"), cfg=cfg
    )
    assert r.category == "not_evaluable"
    assert r.reason.endswith("the true values leave the category open (partial or progression)")


def test_a_bound_spanning_the_cut_off_tries_the_value_just_below_it():
    # baseline ">150" (plasma cut-off 200): just above 150 the 290 after is a rise by half (progression), just
    # below 200 the baseline was not elevated (not evaluable), at 200 no response (none), far above it a
    # partial one
    r = _vegf(vegf(150, -10, ">"), vegf(290, 60))
    assert r.category == "not_evaluable"
    assert r.reason == (
        "censored VEGF (>150 pg/mL): the true values leave the category open (none or not_evaluable or partial or progression)"
    )


def test_as_many_censored_values_as_allowed_are_judged():
    # MAX_CENSORED follow-ups "<100" after a 500 baseline: normalised whatever they are
    r = _vegf(vegf(500, -10), *(vegf(100, 10 * (i + 1), "<") for i in range(MAX_CENSORED)))
    assert r.category == "complete"
    assert r.reason.startswith("VEGF normalised: 500 -> <100 pg/mL (< 200)")


def test_one_censored_value_more_than_allowed_is_left_open():
    r = _vegf(vegf(500, -10), *(vegf(100, 10 * (i + 1), "<") for i in range(MAX_CENSORED + 1)))
    assert r.category == "not_evaluable"
    shown = ", ".join(["<100"] * (MAX_CENSORED + 1))
    assert r.reason == f"censored VEGF ({shown} pg/mL): the true values leave the category open"


# --- percent ---------------------------------------------------------------------------------------------


def test_a_change_is_exact_to_a_millionth_before_it_is_shown():
    # 49.4999996 % is 49.5 % to a millionth: shown as such, not rounded down to a whole 49
    assert percent(-0.494999996) == "-49.5%"


@pytest.mark.parametrize("change", [-0.4996, -0.4995, 0.2496, -0.04996, -0.8996])
def test_a_change_just_below_a_multiple_of_five_reads_as_a_plain_number(change):
    # whatever is shown, it is a signed number without a dangling point or trailing decimal zero
    assert re.fullmatch(r"[-+]\d+(\.\d*[1-9])?%", percent(change))


def test_a_change_just_below_a_category_bound_never_reads_as_the_bound():
    # found with the mutation run: 49.96 % rounded through "50.0" to "-50%" beside the category MR
    from poems_fhir.criteria.response import percent

    assert [percent(c) for c in (-0.4996, -0.4995, 0.2496, -0.899999, -0.5, -0.495)] == [
        "-49.9%",
        "-49.9%",
        "+24.9%",
        "-89.9%",
        "-50%",
        "-49.5%",
    ]
