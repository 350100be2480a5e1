"""A recorded IgM neuropathy - anti-MAG antibodies or neuropathy, Waldenström macroglobulinaemia - is a
POEMS mimic (criteria.md §7: "MGUS-associated neuropathy (esp. IgM, anti-MAG) ... may also raise sVEGF
somewhat -> interpret VEGF with care"). probe46 D2: such a patient, with a serum VEGF of 1150 as the only
major criterion beside the two mandatory ones, was written back as "POEMS syndrome criteria met"
(ORPHA:2905) with high-dose melphalan and a transplant proposed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.pathway import igm_mimic, poems_context
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.write import WriteContext
from poems_fhir.pipeline import evaluate_record, transaction_for
from tests.conftest import make_record
from tests.fhir.test_write_recorded_differential import POEMS_STEPS, _classic

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CONFIRMED = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]}


def condition(rid: str, code: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "verificationStatus": CONFIRMED,
        "code": code,
        "recordedDate": "2021-02-01",
    }


def lab(rid: str, code: dict[str, Any], **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": code,
        "effectiveDateTime": "2021-02-01",
        **value,
    }


ANTI_MAG = {"text": "Anti-MAG antibodies (Buhlmann)"}
WALDENSTROM = {"coding": [{"system": ICD10CM, "code": "C88.0", "display": "Waldenstrom macroglobulinemia"}]}


def igm_patient(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Polyneuropathy, IgM-kappa, serum VEGF 1150 pg/mL, enlarged nodes: "met" by the rule's letter."""
    return [
        condition("pn", {"coding": [{"system": ICD10CM, "code": "G62.9", "display": "Polyneuropathy, unspecified"}]}),
        condition(
            "lad", {"coding": [{"system": ICD10CM, "code": "R59.0", "display": "Localized enlarged lymph nodes"}]}
        ),
        lab("ife", {"coding": [{"system": LOINC, "code": "25700-6"}]}, valueString="IgM kappa"),
        lab(
            "vegf",
            {"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF (serum)"},
            valueQuantity={"value": 1150, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        ),
        *extra,
    ]


def written(resources: list[dict[str, Any]], mapping):
    for r in resources:
        r["subject"] = {"reference": "Patient/p1"}
    result = evaluate_record(make_record(*resources), mapping, MAYO, None)
    bundle = transaction_for(result, WriteContext(NOW, mapping.identity, result.extraction.used))
    [report] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"][:1]
    return result, report


def test_without_a_recorded_igm_neuropathy_the_rule_is_written_as_poems(mapping):
    result, report = written(igm_patient(), mapping)
    assert result.assessment.classification.value == "met"
    assert report["conclusionCode"][0]["coding"][0]["code"] == "ORPHA:2905"
    assert POEMS_STEPS & {s.id for s in result.steps}


@pytest.mark.parametrize(
    ("extra", "cited"),
    [
        (condition("wm", WALDENSTROM), "Condition/wm"),
        (lab("mag", ANTI_MAG, valueString="Positive, >70000 BTU"), "Observation/mag"),
        (lab("mag", ANTI_MAG, valueString="positive"), "Observation/mag"),
        (condition("magn", {"text": "Anti-MAG demyelinating neuropathy"}), "Condition/magn"),
    ],
)
def test_beside_a_recorded_igm_neuropathy_a_vegf_only_met_is_no_poems_diagnosis(mapping, extra, cited):
    result, report = written(igm_patient(extra), mapping)
    a = result.assessment
    assert a.classification.value == "met"  # the rule's own answer stays visible
    [flag] = [f for f in a.flags if f.code == "differential_igm_neuropathy"]
    assert cited in {e.reference for e in flag.evidence}
    assert "conclusionCode" not in report
    assert report["conclusion"].index("IgM neuropathy recorded") < report["conclusion"].index("Criteria met")
    assert not POEMS_STEPS & {s.id for s in result.steps}  # no POEMS treatment proposed
    assert igm_mimic(a) and not poems_context(a, None)


def test_a_negative_anti_mag_antibody_flags_nothing(mapping):
    result, report = written(igm_patient(lab("mag", ANTI_MAG, valueString="Negative (<1000 BTU)")), mapping)
    assert "differential_igm_neuropathy" not in {f.code for f in result.assessment.flags}
    assert report["conclusionCode"][0]["coding"][0]["code"] == "ORPHA:2905"


def test_with_sclerotic_lesions_beside_it_the_poems_conclusion_stays(mapping):
    # VEGF is not the only other major criterion: the mimic is flagged, the diagnosis is POEMS'
    record = _classic(lab("mag", ANTI_MAG, valueString="Positive, >70000 BTU"))
    result = evaluate_record(record, mapping, MAYO, None)
    a = result.assessment
    assert a.criteria["sclerotic_bone_lesions"].state.value == "present"
    assert "differential_igm_neuropathy" in {f.code for f in a.flags}
    assert igm_mimic(a) == () and poems_context(a, None)
    assert POEMS_STEPS & {s.id for s in result.steps} == POEMS_STEPS
