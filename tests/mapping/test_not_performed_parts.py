"""A test not performed (dataAbsentReason, criteria.md §6: NOT_ASSESSED, never absent) speaks only for
the criterion part its rule reads: a platelet count not done leaves the haemoglobin part of MIN-6
(thrombocytosis or polycythaemia) to the haemoglobin result, and the reverse."""

from __future__ import annotations

from typing import Any

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

UCUM = "http://unitsofmeasure.org"
NOT_PERFORMED = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"}]
}


def q(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def test_a_platelet_count_not_performed_is_a_finding_of_the_platelet_part_only(mapping):
    ex = extract(make_record(observation("777-3", "plt", dataAbsentReason=NOT_PERFORMED)), mapping)
    [finding] = [f for f in ex.findings if f.topic == "thrombocytosis_polycythemia"]
    assert finding.state is State.NOT_ASSESSED and finding.component == "thrombocytosis"


def test_a_haemoglobin_not_performed_is_a_finding_of_the_polycythaemia_part_only(mapping):
    ex = extract(make_record(observation("718-7", "hb", dataAbsentReason=NOT_PERFORMED)), mapping)
    [finding] = [f for f in ex.findings if f.topic == "thrombocytosis_polycythemia"]
    assert finding.state is State.NOT_ASSESSED and finding.component == "polycythemia"


def test_a_high_haemoglobin_beside_a_platelet_count_not_done_is_still_present(mapping):
    ex = extract(
        make_record(
            observation("777-3", "plt", dataAbsentReason=NOT_PERFORMED),
            observation("718-7", "hb", valueQuantity=q(190, "g/L")),  # above every default male cut-off
        ),
        mapping,
    )
    result = evaluate("Patient/p1", ex.findings, MAYO)
    assert result.criteria["thrombocytosis_polycythemia"].state is State.PRESENT
