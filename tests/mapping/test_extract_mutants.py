"""Extraction rules that a one-token bug would break unnoticed: which reports count as histology
(Castleman only from histology, criteria.md §2 MAJ-3), and 'not performed' on every lab role."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def report(category: str, display: str, code_text: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": category, "display": display}]}],
        "code": {"text": code_text},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-05",
        "conclusionCode": [{"coding": [{"system": ICD10CM, "code": "D47.Z2"}]}],
        "conclusion": "Castleman disease, hyaline-vascular type.",
    }


def castleman(mapping, r: dict[str, Any]) -> list[State]:
    ex = extract(make_record(r), mapping)
    return [f.state for f in ex.findings if f.topic == "castleman_disease"]


@pytest.mark.parametrize(
    ("category", "display", "text"),
    [
        ("SP", "Surgical Pathology", "Lymph node"),  # category code SP alone
        ("OTH", "Other", "Lymph node biopsy"),  # the report's name says biopsy
        ("OTH", "Other", "Histology report"),
    ],
)
def test_castleman_from_a_pathology_report(mapping, category, display, text):
    assert State.PRESENT in castleman(mapping, report(category, display, text))


@pytest.mark.parametrize(
    ("category", "display", "text"),
    [
        ("LAB", "Laboratory", "Interleukin-6 panel"),
        ("HM", "Hematology", "Complete blood count"),
    ],
)
def test_castleman_never_from_a_laboratory_report(mapping, category, display, text):
    # only histology establishes Castleman disease; a lab panel naming it is not evidence
    assert castleman(mapping, report(category, display, text)) == []


@pytest.mark.parametrize(
    ("code", "topic"),
    [
        ("25700-6", "monoclonal_plasma_cell_disorder"),  # immunofixation
        ("33358-3", "monoclonal_plasma_cell_disorder"),  # M-protein
        ("93021-4", "monoclonal_plasma_cell_disorder"),  # clonal plasma cells by flow
        ("48378-4", "monoclonal_plasma_cell_disorder"),  # FLC ratio
        ("75628-8", "vegf_elevation"),
        ("2986-8", "endocrinopathy"),
    ],
)
def test_not_performed_is_not_assessed_on_the_rule_topic(mapping, code, topic):
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "dataAbsentReason": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"}]
        },
    }
    ex = extract(make_record(obs), mapping)
    assert [(f.topic, f.state) for f in ex.findings] == [(topic, State.NOT_ASSESSED)]


LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"


def observation(code: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        **value,
    }


@pytest.mark.parametrize("verification", ["provisional", "differential", "unconfirmed"])
def test_unconfirmed_diagnoses_are_indeterminate(mapping, verification):
    cond = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/p1"},
        "recordedDate": "2024-01-01",
        "code": {"coding": [{"system": SCT, "code": "42345000"}]},
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]
        },
    }
    (f,) = [f for f in extract(make_record(cond), mapping).findings if f.topic == "polyneuropathy"]
    assert f.state is State.INDETERMINATE and verification in (f.note or "")


def test_a_coded_negative_immunofixation_is_recorded_as_0_for_the_response_timeline(mapping):
    ex = extract(
        make_record(observation("25700-6", valueCodeableConcept={"coding": [{"system": SCT, "code": "260385009"}]})),
        mapping,
    )
    assert [(m.analyte, m.value) for m in ex.measurements] == [("serum_ife", 0.0)]


def test_a_bad_procedure_date_names_the_element(mapping):
    proc = {
        "resourceType": "Procedure",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": SCT, "code": "108290001"}]},
        "performedDateTime": "yesterday",
    }
    ex = extract(make_record(proc), mapping)
    assert len(ex.errors) == 1 and "performedDateTime is not a FHIR date" in ex.errors[0].message


def test_a_normal_platelet_count_is_absent_for_its_component_only(mapping):
    ex = extract(
        make_record(
            observation(
                "777-3",
                valueQuantity={"value": 300, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"},
            )
        ),
        mapping,
    )
    (f,) = [f for f in ex.findings if f.topic == "thrombocytosis_polycythemia"]
    assert (f.state, f.component) == (State.ABSENT, "thrombocytosis")


def test_vegf_above_uln_below_cut_off_says_why_it_is_indeterminate(mapping):
    o = observation(
        "75628-8",
        valueQuantity={"value": 150, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        referenceRange=[
            {"high": {"value": 96.2, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"}}
        ],
    )
    o["code"]["text"] = "VEGF im EDTA-Plasma"
    (f,) = [f for f in extract(make_record(o), mapping).findings if f.topic == "vegf_elevation"]
    assert f.state is State.INDETERMINATE
    assert "upper reference limit (96.2 pg/mL)" in f.note and "plasma diagnostic cut-off (200" in f.note


def test_pathology_conclusion_code_is_cited_as_evidence(mapping):
    ex = extract(make_record(report("SP", "Surgical Pathology", "Lymph node")), mapping)
    (f,) = [f for f in ex.findings if f.topic == "castleman_disease" and f.evidence.code]
    assert f.evidence.code == f"{ICD10CM}|D47.Z2"
