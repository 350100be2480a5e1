# SPDX-License-Identifier: Apache-2.0
"""A normal VEGF during an acute illness, read from FHIR (criteria.md §6 MAJ-5 "during acute illness"): the
everyday codes of the listed illnesses (probe100 D5) and an illness or a bleed named only in words (D13)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"


def condition(code: dict[str, Any], onset: str, rid: str = "c1") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": code,
        "onsetDateTime": onset,
    }


def lab(loinc: str, value: float, unit: str, day: str, rid: str, **kw: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, "system": UCUM, "unit": unit, "code": unit},
        **kw,
    }


VEGF = lab("75628-8", 80, "pg/mL", "2024-03-06", "v", specimen={"display": "plasma"})


def vegf_state(mapping, *resources: dict[str, Any]) -> State:
    result = evaluate_record(make_record(VEGF, *resources), mapping, MAYO, None)
    return result.assessment.criteria["vegf_elevation"].state


@pytest.mark.parametrize("code", ["J18.1", "J15.9", "J10.1", "A41.89"])
def test_a_normal_vegf_five_days_into_a_coded_acute_illness_is_low_grade(mapping, code):
    ill = condition({"coding": [{"system": ICD10CM, "code": code}]}, "2024-03-01")
    assert vegf_state(mapping, ill) is State.INDETERMINATE
    long_ago = condition({"coding": [{"system": ICD10CM, "code": code}]}, "2023-01-01")
    assert vegf_state(mapping, long_ago) is State.ABSENT


def uncoded(text: str, onset: str) -> dict[str, Any]:
    return condition({"text": text}, onset)


@pytest.mark.parametrize("text", ["Community-acquired pneumonia", "Внебольничная пневмония"])
def test_a_normal_vegf_five_days_into_a_pneumonia_named_in_words_is_low_grade(mapping, text):
    """probe100 D13: the uncoded problem was not read; a year before, it has ended (its 30-day window)."""
    assert vegf_state(mapping, uncoded(text, "2024-03-01")) is State.INDETERMINATE
    assert vegf_state(mapping, uncoded(text, "2023-03-01")) is State.ABSENT


@pytest.mark.parametrize("text", ["Gastrointestinal bleeding", "Желудочно-кишечное кровотечение"])
def test_a_normal_blood_count_two_days_after_a_bleed_named_in_words_is_low_grade(mapping, text):
    cbc = [
        lab("718-7", 13, "g/dL", "2024-03-03", "hb", referenceRange=[{"low": {"value": 12}, "high": {"value": 16}}]),
        lab(
            "777-3",
            300,
            "10*3/uL",
            "2024-03-03",
            "plt",
            referenceRange=[{"low": {"value": 150}, "high": {"value": 400}}],
        ),
    ]

    def state(*extra: dict[str, Any]) -> State:
        result = evaluate_record(make_record(*cbc, *extra), mapping, MAYO, None)
        return result.assessment.criteria["thrombocytosis_polycythemia"].state

    assert state() is State.ABSENT
    assert state(uncoded(text, "2024-03-01")) is State.INDETERMINATE
    assert state(uncoded(text, "2023-03-01")) is State.ABSENT
