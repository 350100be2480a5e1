"""A clinician's later refutation of a finding a report stated is a conflict, both cited (probe114 D2).

Two Conditions, asserted then refuted, were already indeterminate; a CT's coded or written sclerotic lesion
refuted by a later Condition stayed present and the Condition was dropped without a word. A measurement is
different: a normal value after an abnormal one is a response, and the criterion stays present."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.engine import combine, evaluate
from poems_fhir.criteria.model import Criterion, Evidence, Finding, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report, make_record

SCLEROTIC = Criterion.SCLEROTIC_BONE_LESIONS.value


def refuted_condition(day: str) -> dict:
    return {
        "resourceType": "Condition",
        "id": "scl",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M85.89"}]},
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]
        },
        "onsetDateTime": day,
        "recordedDate": day,
    }


def ct(**more) -> dict:
    return {
        **diagnostic_report("ct", "CT chest, abdomen and pelvis", "Sclerotic lesion in T10."),
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "effectiveDateTime": "2024-01-10",
        **more,
    }


def sclerotic(mapping, *resources):
    out = extract(make_record(*resources), mapping)
    return evaluate("Patient/p1", out.findings, MAYO, None).criteria[SCLEROTIC]


def test_a_report_text_refuted_later_by_a_clinician_is_a_conflict_with_both_cited(mapping):
    result = sclerotic(mapping, ct(), refuted_condition("2024-03-01"))
    assert result.state is State.INDETERMINATE
    assert {e.reference for e in result.evidence} == {"DiagnosticReport/ct", "Condition/scl"}
    assert "later refuted by a clinician (Condition/scl)" in result.reason


def test_a_coded_report_conclusion_refuted_later_is_a_conflict(mapping):
    coded = ct(
        conclusion="See images.",
        conclusionCode=[{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M85.89"}]}],
    )
    result = sclerotic(mapping, coded, refuted_condition("2024-03-01"))
    assert result.state is State.INDETERMINATE
    assert {e.reference for e in result.evidence} == {"DiagnosticReport/ct", "Condition/scl"}


def test_an_earlier_refutation_or_a_measurement_is_no_such_conflict():
    def finding(ref: str, state: State, day: str, assertion: bool = False, value: float | None = None) -> Finding:
        ev = Evidence(ref, dt.date.fromisoformat(day), "x", value=value)
        return Finding("thrombocytosis_polycythemia", state, ev, is_assertion=assertion)

    # a high platelet count, a clinician's "no thrombocytosis" later: the measurement stands (a response)
    measured = [
        finding("Observation/plt", State.PRESENT, "2024-01-10", value=520),
        finding("Condition/c", State.ABSENT, "2024-03-01", assertion=True),
    ]
    assert combine("thrombocytosis_polycythemia", measured).state is State.PRESENT
    # a report's finding after the refutation: present, as before
    later_report = [
        finding("DiagnosticReport/r", State.PRESENT, "2024-03-10"),
        finding("Condition/c", State.ABSENT, "2024-03-01", assertion=True),
    ]
    assert combine("thrombocytosis_polycythemia", later_report).state is State.PRESENT
