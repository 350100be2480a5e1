"""Whether a patient "responded" (criteria.md §8) when only one haematological framework says CR.

Found by mutation testing (pathway._responded): IMWG CR needs negative immunofixation but not a
normal free light-chain ratio, so IMWG can be CR while the amyloid-style response - which needs the
ratio too (§8.1a) - is not, and no amyloid CR day exists. The IMWG CR alone is a response.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from poems_fhir.criteria.pathway import _responded
from poems_fhir.criteria.response import HematologicResponse, ResponseAssessment, VegfResponse


def assessment(amyloid: str, imwg: str) -> ResponseAssessment:
    return ResponseAssessment(
        as_of=dt.date(2021, 6, 1),
        baseline_date=dt.date(2021, 1, 1),
        first_treatment=dt.date(2021, 1, 2),
        hematologic=HematologicResponse("amyloid", amyloid, "test"),
        hematologic_imwg=HematologicResponse("imwg", imwg, "test"),
        vegf=VegfResponse("not_evaluable", "test"),
        clinical={},
        cr_dates=(),
    )


@pytest.mark.parametrize(
    ("amyloid", "imwg", "responded"),
    [
        ("NR", "CR", True),  # negative immunofixations, FLC ratio still abnormal
        ("CR", "not_evaluable", True),
        ("not_evaluable", "VGPR", True),
        ("PR", "NR", True),
        ("NR", "NR", False),
        ("MR", "PD", False),  # a minimal response is not one (§8.1b: PR or better)
    ],
)
def test_a_haematological_pr_or_better_in_either_framework_is_a_response(amyloid, imwg, responded):
    assert _responded(assessment(amyloid, imwg)) is responded


def test_a_complete_response_reached_since_the_baseline_is_a_response_after_a_relapse():
    # criteria.md §8: a CR reached since the baseline counts although the category now is NR
    got = dataclasses.replace(assessment("NR", "NR"), cr_dates=(dt.date(2021, 4, 1),))
    assert _responded(got) is True
