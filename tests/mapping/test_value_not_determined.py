"""A value "not determined" or "not measured" is a test not done, never the finding it names ("Paraprotein: not
determined." in an immunofixation report made the clone present)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from tests.mapping.test_extract import run, states
from tests.mapping.test_probe121 import _ife_report

CLONE = "monoclonal_plasma_cell_disorder"


def _ct_report(text: str) -> dict:
    return {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24338-6"}], "text": "CT abdomen"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "conclusion": text,
    }


NOT_DONE = [
    "Paraprotein: not determined.",
    "Monoclonal protein: not measured.",
    "Monoclonal protein was not determined.",
    "M-protein: not tested.",
]


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
@pytest.mark.parametrize("text", NOT_DONE)
def test_a_clone_not_determined_is_no_clone(mapping, text, form):
    assert states(run(mapping, _ife_report(text, form)), CLONE) == []


@pytest.mark.parametrize(
    ("text", "topic"),
    [("Spleen: not measured.", "organomegaly"), ("Ascites: not determined.", "extravascular_volume_overload")],
)
def test_an_organ_not_measured_is_no_finding(mapping, text, topic):
    assert states(run(mapping, _ct_report(text)), topic) == []


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda band. Quantity: not measured.",  # the band is there, its amount was not measured
        "M-protein not measured; IgG lambda band detected.",
        "Monoclonal protein present, not quantified.",
    ],
)
def test_a_band_whose_amount_was_not_measured_is_still_the_clone(mapping, text):
    assert states(run(mapping, _ife_report(text, "conclusion")), CLONE) == [State.PRESENT]
