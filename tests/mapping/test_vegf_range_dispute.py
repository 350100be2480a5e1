"""A VEGF below the diagnostic cut-off whose lab gives equally good ranges that disagree on the upper
limit (probe89 D15): one lab puts it above its limit, the other within - indeterminate, the two ranges
named, never "absent" by the default limits.

Expected answers from shared/clinical/criteria.md §4 ("Value above the lab's own upper reference limit
but below the cut-off -> INDETERMINATE"; "Value <= ULN -> ABSENT")."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.test_values_boundaries import SCT, SPECIMEN_CODE, obs


def vegf(mapping, value: float, specimen: str | None, *highs: float) -> list[Any]:
    resources: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    if specimen:
        code = SPECIMEN_CODE[specimen]
        resources.append({"resourceType": "Specimen", "id": "s1", "type": {"coding": [{"system": SCT, "code": code}]}})
        extra["specimen"] = {"reference": "Specimen/s1"}
    ranges = [{"high": {"value": h, "unit": "pg/mL"}} for h in highs]
    resources.append(obs("75628-8", value, "pg/mL", referenceRange=ranges, **extra))
    ex = extract(make_record(*resources, gender="male"), mapping)
    return [f for f in ex.findings if f.topic == "vegf_elevation"]


@pytest.mark.parametrize("specimen", ["plasma", None])
def test_a_vegf_between_two_equally_good_upper_limits_is_indeterminate_naming_both(mapping, specimen):
    for highs in ((96.2, 115), (115, 96.2)):  # the order a lab lists them in means nothing
        [f] = vegf(mapping, 100, specimen, *highs)
        assert f.state is State.INDETERMINATE
        assert "'<96.2'" in f.note and "'<115'" in f.note and "above one of the lab's upper" in f.note


def test_a_serum_vegf_between_two_upper_limits_is_indeterminate(mapping):
    [f] = vegf(mapping, 800, "serum", 700, 900)
    assert f.state is State.INDETERMINATE and "serum diagnostic cut-off" in f.note


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (90, State.ABSENT),  # within both upper limits
        (96.2, State.ABSENT),  # at the lower limit: within both
        (120, State.INDETERMINATE),  # above both: above the lab's limit either way (probe88 D15)
        (200, State.PRESENT),  # at the plasma cut-off, whatever the lab's limits
    ],
)
def test_a_vegf_on_one_side_of_both_upper_limits_is_judged_as_each_judges_it(mapping, value, expected):
    [f] = vegf(mapping, value, "plasma", 96.2, 115)
    assert f.state is expected
    assert "disagree" not in (f.note or "")


def test_ranges_that_differ_only_in_their_lower_limit_leave_no_upper_limit_in_dispute(mapping):
    # 7 pg/mL lies between the lower limits 5 and 10 and below both upper limits (96.2): whether it is
    # above the lab's upper limit is not in doubt - absent below the cut-off, as without any range
    ranges = [{"low": {"value": lo, "unit": "pg/mL"}, "high": {"value": 96.2, "unit": "pg/mL"}} for lo in (5, 10)]
    specimen = {"resourceType": "Specimen", "id": "s1", "type": {"coding": [{"system": SCT, "code": "119361006"}]}}
    o = obs("75628-8", 7, "pg/mL", referenceRange=ranges, specimen={"reference": "Specimen/s1"})
    ex = extract(make_record(specimen, o, gender="male"), mapping)
    [f] = [f for f in ex.findings if f.topic == "vegf_elevation"]
    assert f.state is State.ABSENT
    assert any("disagree" in n.detail for n in ex.notes)  # the dispute is still said
