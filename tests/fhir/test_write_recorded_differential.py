"""Beside a recorded multiple myeloma or AL amyloidosis the rule's "met" is no POEMS diagnosis
(criteria.md §7, "must NOT be labelled POEMS"; probe42: a recorded myeloma was written back as "POEMS
syndrome criteria met" with the transplant pathway). A marrow count of >= 10 % plasma cells alone, which
POEMS can show, keeps the coded conclusion."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.write import WriteContext
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_record, html_for, transaction_for
from poems_fhir.report.json_report import patient_to_dict
from poems_fhir.report.text_report import render_assessment
from tests.conftest import ROOT, make_record

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
SYSTEMS = {"C90.0": "http://hl7.org/fhir/sid/icd-10", "E85.81": "http://hl7.org/fhir/sid/icd-10-cm"}
POEMS_STEPS = {"branch", "transplant-eligibility", "neurotoxic-caution", "thrombosis-prophylaxis"}


def _classic(*extra: dict[str, Any]):
    bundle = json.loads((ROOT / "sample_bundles" / "classic-poems.json").read_text(encoding="utf-8"))
    own = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    for r in [*own, *extra]:
        r["subject"] = {"reference": "Patient/p1"}
    return make_record(*own, *extra)


def _written(record, mapping) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    result = evaluate_record(record, mapping, MAYO, None)
    bundle = transaction_for(result, WriteContext(NOW, mapping.identity, result.extraction.used))
    resources = [e["resource"] for e in bundle["entry"]]
    # the criteria assessment (a response report may follow it)
    [report] = [r for r in resources if r["resourceType"] == "DiagnosticReport" and "result" in r][:1]
    [plan] = [r for r in resources if r["resourceType"] == "CarePlan"]
    return result, report, plan


def _condition(code: str, display: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "dx",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "code": {"coding": [{"system": SYSTEMS[code], "code": code, "display": display}]},
        "recordedDate": "2023-06-01",
    }


def test_the_classic_case_is_written_as_poems_with_its_treatment(mapping):
    result, report, plan = _written(_classic(), mapping)
    assert result.assessment.classification.value == "met"
    assert report["conclusionCode"][0]["coding"][0]["code"] == "ORPHA:2905"
    assert POEMS_STEPS & {s.id for s in result.steps} == POEMS_STEPS


@pytest.mark.parametrize(
    ("code", "display", "flag"),
    [
        ("C90.0", "Multiple myeloma", "differential_multiple_myeloma"),
        ("E85.81", "Light chain (AL) amyloidosis", "differential_al_amyloidosis"),
    ],
)
def test_beside_a_recorded_myeloma_or_amyloidosis_met_is_no_poems_diagnosis(mapping, code, display, flag):
    result, report, _ = _written(_classic(_condition(code, display)), mapping)
    assert result.assessment.classification.value == "met"  # the rule's own answer stays visible
    assert flag in {f.code for f in result.assessment.flags}
    assert "conclusionCode" not in report
    assert not POEMS_STEPS & {s.id for s in result.steps}  # no POEMS treatment proposed


def test_many_marrow_plasma_cells_alone_keep_the_poems_conclusion(mapping):
    marrow = {
        "resourceType": "Observation",
        "id": "bm",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "11118-7", "display": "Plasma cells/100 cells"}]},
        "effectiveDateTime": "2023-06-01",
        "valueQuantity": {"value": 12, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
    }
    result, report, _ = _written(_classic(marrow), mapping)
    assert "differential_multiple_myeloma" in {f.code for f in result.assessment.flags}
    assert report["conclusionCode"][0]["coding"][0]["code"] == "ORPHA:2905"
    assert POEMS_STEPS & {s.id for s in result.steps} == POEMS_STEPS


@pytest.mark.parametrize(
    ("code", "display", "name"),
    [
        ("C90.0", "Multiple myeloma", "Features of multiple myeloma"),
        ("E85.81", "Light chain (AL) amyloidosis", "AL amyloidosis recorded or suggested"),
    ],
)
def test_the_met_beside_a_recorded_mimic_says_it_is_not_labelled_poems_wherever_shown(mapping, code, display, name):
    """probe49 D5, probe53: "Classification: MET" stood alone on the console, the page and in the JSON
    beside a recorded AL amyloidosis (criteria.md §7: "must NOT be labelled POEMS")."""
    result, report, _ = _written(_classic(_condition(code, display)), mapping)
    a = result.assessment
    text = render_assessment(a, width=400, scope=result.scope)
    assert f"Not labelled POEMS syndrome: {name} - a recorded diagnosis" in text
    assert text.index("Classification: MET") < text.index("Not labelled POEMS syndrome")
    assert patient_to_dict(a, result.response, result.risk, result.scope)["not_labelled_poems"] == ["Condition/dx"]
    assert "Not labelled POEMS syndrome" in report["conclusion"]
    page = html_for(result, mapping)
    assert '<p id="not-labelled" class="caveat"><b>Not labelled POEMS syndrome: ' in page


def test_a_met_without_a_recorded_mimic_has_no_such_caveat(mapping):
    result, report, _ = _written(_classic(), mapping)
    a = result.assessment
    assert "Not labelled" not in render_assessment(a, scope=result.scope)
    assert patient_to_dict(a, result.response, result.risk, result.scope)["not_labelled_poems"] == []
    assert "Not labelled" not in report["conclusion"]
    assert 'id="not-labelled"' not in html_for(result, mapping)


#: AL amyloidosis as sites record it (probe66 D1: all four were written as POEMS with its treatment)
AL_RECORDED = {
    # WHO ICD-10 has no AL code; codes.md gives E85.8 "Other amyloidosis"
    "WHO ICD-10": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E85.8"}]},
    # the Russian MKB-10 (NSI) under its OID
    "Russian NSI": {"coding": [{"system": "urn:oid:1.2.643.5.1.13.13.11.1005", "code": "E85.8"}]},
    "uncoded, English": {"text": "AL amyloidosis"},
    "uncoded, Russian": {"text": "AL-амилоидоз"},
}


@pytest.mark.parametrize("encoding", sorted(AL_RECORDED))
def test_al_amyloidosis_coded_the_who_or_russian_way_or_named_in_words_is_no_poems_diagnosis(mapping, encoding):
    recorded = {**_condition("E85.81", ""), "code": AL_RECORDED[encoding]}
    result, report, _ = _written(_classic(recorded), mapping)
    assert "differential_al_amyloidosis" in {f.code for f in result.assessment.flags}
    assert "conclusionCode" not in report
    assert not POEMS_STEPS & {s.id for s in result.steps}


def test_al_amyloidosis_named_in_a_biopsy_report_is_flagged_and_its_denial_is_not():
    biopsy = {
        "resourceType": "DiagnosticReport",
        "id": "fatpad",
        "status": "final",
        "code": {"text": "Abdominal fat pad biopsy"},
        "effectiveDateTime": "2023-06-01",
    }
    mapping = load_mapping()
    found = _written(_classic({**biopsy, "conclusion": "Congo red positive: AL lambda amyloidosis."}), mapping)[0]
    assert "differential_al_amyloidosis" in {f.code for f in found.assessment.flags}
    denied = _written(_classic({**biopsy, "conclusion": "Congo red negative: no AL amyloidosis."}), mapping)[0]
    assert "differential_al_amyloidosis" not in {f.code for f in denied.assessment.flags}
    assert denied.assessment.classification.value == "met"  # a denied mimic does not weaken the clone


@pytest.mark.parametrize(
    "text",
    ["Amyloidosis, AA type.", "Familial ATTR amyloidosis.", "Al 12 mg/L (aluminium)", "Амилоидоз AA-типа."],
)
def test_an_amyloidosis_of_another_type_or_aluminium_is_not_al(text):
    [assertions] = load_mapping().text.assert_texts([text])
    assert [a.target for a in assertions if a.target == "al_amyloidosis"] == []


@pytest.mark.parametrize("code", ["E85.82", "E85.89", "E85.1", "E85.2"])
def test_an_amyloidosis_of_another_type_coded_in_icd10cm_is_no_al_differential(mapping, code):
    # probe69 D1: CM's wild-type ATTR (E85.82) fell back to WHO E85.8 and was read as AL: the flag, the
    # POEMS label dropped, and the clone taken as present
    attr = {**_condition("E85.81", ""), "code": {"coding": [{"system": SYSTEMS["E85.81"], "code": code}]}}
    result, report, _ = _written(_classic(attr), mapping)
    assert "differential_al_amyloidosis" not in {f.code for f in result.assessment.flags}
    assert report["conclusionCode"][0]["coding"][0]["code"] == "ORPHA:2905"


def test_who_e85_8_raises_the_al_differential_but_is_no_evidence_of_a_clone(mapping):
    # "Other amyloidosis" holds wild-type ATTR too: the differential is raised, the clone is not asserted
    from poems_fhir.mapping.extract import extract

    who = {
        **_condition("E85.81", ""),
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E85.8"}]},
    }
    found = extract(make_record({**who, "subject": {"reference": "Patient/p1"}}), mapping).findings
    assert sorted(f.topic for f in found) == ["al_amyloidosis"]
