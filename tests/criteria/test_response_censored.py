"""A censored VEGF ("<50", ">2000": below or above what the assay quantifies) in the response.

criteria.md §8.2 compares VEGF values; it says nothing of censored ones, and a value reported as
">2000" is not 2000. The category is given only when it holds for every true value the censored
results allow; otherwise the response is not evaluable and says which values leave it open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from poems_fhir.criteria.response import ResponseConfig, assess_response
from poems_fhir.criteria.timeline import Event, Measurement

CFG = ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000})
T0 = dt.date(2020, 1, 1)
TREATED = [Event("treatment", T0, "MedicationStatement/t", "lenalidomide", agent="lenalidomide")]


def vegf(value: float, day: int, comparator: str | None = None, specimen: str = "serum") -> Measurement:
    return Measurement("vegf", value, "pg/mL", T0 + dt.timedelta(days=day), f"Observation/v{day}", specimen, comparator)


def response(*points: Measurement):
    return assess_response(list(points), TREATED, [], [], CFG, None, None).vegf


@pytest.mark.parametrize(
    ("points", "category"),
    [
        # below the quantification limit after treatment: normalised whatever its true value
        ([vegf(2500, -5), vegf(50, 90, "<")], "complete"),
        ([vegf(2500, -5), vegf(1000, 90, "<")], "complete"),  # "<1000": strictly below the 1000 cut-off
        # above the upper limit at baseline, normal after: a complete response
        ([vegf(2000, -5, ">"), vegf(600, 90)], "complete"),
        # rose from a measured nadir to above the upper limit: progression for every true value
        ([vegf(2500, -5), vegf(800, 90), vegf(2000, 200, ">")], "progression"),
        # a lower bound at baseline that is already above the cut-off: elevated whatever it is
        ([vegf(2000, -5, ">="), vegf(900, 90)], "complete"),
    ],
)
def test_a_category_that_holds_for_every_true_value_is_given(points, category):
    r = response(*points)
    assert r.category == category
    assert "censored" in r.reason and any(p.comparator and f"{p.comparator}{p.value:g}" in r.reason for p in points)


@pytest.mark.parametrize(
    ("points", "open_categories"),
    [
        # above the upper limit at baseline and after: fell by half? rose? nobody knows
        ([vegf(2000, -5, ">"), vegf(2000, 90, ">")], ("none", "partial", "progression")),
        # baseline above the limit, 1500 after: a 50 % fall if the baseline was 3000 or more
        ([vegf(2000, -5, ">"), vegf(1500, 90)], ("none", "partial")),
        # baseline 3000, the follow-up only "above 2000": anything from no change to progression
        ([vegf(3000, -5), vegf(2000, 90, ">")], ("none", "progression")),
        # a baseline "<1500" may or may not have been elevated (serum cut-off 1000)
        ([vegf(1500, -5, "<"), vegf(400, 90)], ("complete", "not_evaluable")),
    ],
)
def test_a_category_the_censored_values_leave_open_is_not_evaluable(points, open_categories):
    r = response(*points)
    assert r.category == "not_evaluable"
    assert r.reason.startswith("censored VEGF (") and "leave the category open" in r.reason
    for category in open_categories:
        assert category in r.reason


def test_exact_values_keep_their_categories_and_wording():
    assert response(vegf(2500, -5), vegf(600, 90)).reason == "VEGF normalised: 2500 -> 600 pg/mL (< 1000)"
    assert response(vegf(2000, -5), vegf(2000, 90)).category == "none"  # the same numbers, exact: no change


def test_too_many_censored_values_are_not_tried():
    points = [vegf(2000, -5, ">")] + [vegf(2000, 10 * i, ">") for i in range(1, 10)]
    r = response(*points)
    assert r.category == "not_evaluable" and "leave the category open" in r.reason


def test_the_censored_bound_decides_at_the_cut_off():
    # "<=1000": the true value may be exactly the serum cut-off, which is elevated (>= cut-off)
    r = response(vegf(2500, -5), vegf(1000, 90, "<="))
    assert r.category == "not_evaluable" and "complete" in r.reason and "partial" in r.reason
    exact = dataclasses.replace(vegf(1000, 90), comparator=None)
    assert response(vegf(2500, -5), exact).category == "partial"


def test_the_censored_bound_is_shown_as_censored_in_the_json_and_in_words():
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import change_text

    r = response(vegf(2000, -5, ">"), vegf(600, 90))
    assert r.baseline.to_dict()["comparator"] == ">" and "comparator" not in r.latest.to_dict()
    text = change_text(translator("en"), r.baseline, r.latest)
    assert text.startswith(">2,000 pg/mL on "), text
    assert "→ 600" in text
