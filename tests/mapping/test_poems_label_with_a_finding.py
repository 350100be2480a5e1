"""A problem that names a finding before a POEMS label (probe110 D9): "Splenomegaly - ? POEMS." was read as the
clinician's POEMS label only, and the splenomegaly was lost (a true POEMS patient `indeterminate`). The words before
the label are read as the clinician's words; the label itself stays no evidence of any criterion (criteria.md §3.3)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record


def problem(text: str, verification: str = "confirmed") -> dict:
    return {
        "resourceType": "Condition",
        "id": "prob",
        "code": {"text": text},
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]
        },
        "subject": {"reference": "Patient/p1"},
        "recordedDate": "2024-01-12",
    }


def topics(mapping, text: str) -> dict[str, State]:
    return {f.topic: f.state for f in extract(make_record(problem(text)), mapping).findings}


@pytest.mark.parametrize(
    "text", ["Splenomegaly - ? POEMS.", "Hepatosplenomegaly - query POEMS.", "Splenomegaly (likely POEMS)"]
)
def test_the_finding_before_the_label_is_read(mapping, text):
    found = topics(mapping, text)
    assert found["organomegaly"] is State.PRESENT and "clinician_poems_assertion" in found


@pytest.mark.parametrize(
    "text", ["POEMS syndrome", "Known POEMS syndrome", "History of POEMS", "Osteosclerotic myeloma"]
)
def test_a_label_alone_is_no_evidence(mapping, text):
    found = topics(mapping, text)
    assert set(found) <= {"clinician_poems_assertion"}
