"""An immunofixation whose value is positive without naming a band ("Abnormal", a coded Positive or HL7 v2 "A")
while its comment names it ("An IgA lambda monoclonal protein is present."): the band is the result's - its isotype
was lost ("positive, isotype not stated"), so no atypical-isotype flag could be raised (fix132i's leftover). A comment
that doubts, denies, speaks of an earlier test or of another person adds no band."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

V2 = "http://terminology.hl7.org/CodeSystem/v2-0078"
SCT = "http://snomed.info/sct"
ABNORMAL = {"valueCodeableConcept": {"coding": [{"system": V2, "code": "A", "display": "Abnormal"}]}}
POSITIVE = {"valueCodeableConcept": {"coding": [{"system": SCT, "code": "10828004", "display": "Positive"}]}}


def read(mapping, note: str, **value):
    o = observation("25700-6", "ife", effectiveDateTime="2024-01-02", **value)
    o["note"] = [{"text": note}]
    return [(f.state, f.evidence.summary) for f in extract(make_record(o), mapping).findings]


@pytest.mark.parametrize("value", [{"valueString": "Abnormal"}, ABNORMAL, POSITIVE])
def test_the_band_in_the_comment_of_a_positive_value_is_the_results(mapping, value) -> None:
    assert read(mapping, "An IgA lambda monoclonal protein is present.", **value) == [
        (State.PRESENT, "serum immunofixation: IgA lambda")
    ]


@pytest.mark.parametrize(
    "note",
    [
        "Mother: IgA lambda.",
        "Possible IgA lambda band.",
        "Previously IgA lambda, now not seen.",
        "Clinical correlation advised.",
    ],
)
def test_a_comment_that_does_not_plainly_name_the_band_adds_none(mapping, note) -> None:
    [(state, summary)] = read(mapping, note, **POSITIVE)
    assert state is State.PRESENT and "isotype not stated" in summary


def test_a_band_named_by_the_value_is_kept(mapping) -> None:
    assert read(mapping, "Previously IgA lambda.", valueString="IgG kappa") == [
        (State.PRESENT, "serum immunofixation: IgG kappa")
    ]
