"""Sources that disagree (fix116a): a confirmed Condition whose own cited report denies it (probe114 i10), and two
study reports of the same day, one stating a finding and one denying it (probe114 D5) - a conflict only where
nothing tells the two sites apart (probe115 D3, D4: other regions, other nodes, other specimens).

criteria.md §3.3: INDETERMINATE for conflicting evidence; a finding present at any time counts. Fixtures are
whole FHIR resources as an EHR sends them, English and Russian."""

from __future__ import annotations

from typing import Any

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Criterion, CriterionResult, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
ORGANOMEGALY = Criterion.ORGANOMEGALY.value
SCLEROTIC = Criterion.SCLEROTIC_BONE_LESIONS.value
CASTLEMAN = Criterion.CASTLEMAN_DISEASE.value
DAY = "2024-01-10"


def report(
    rid: str, name: str, conclusion: str, *, section: str = "RAD", day: str = DAY, **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": section}]}],
        "code": {"text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": day,
        "issued": f"{day}T16:00:00Z",
        "conclusion": conclusion,
        **extra,
    }


def condition(rid: str, coding: dict[str, str], cites: str, verification: str = "confirmed") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [coding]},
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]
        },
        "onsetDateTime": DAY,
        "recordedDate": DAY,
        "evidence": [{"detail": [{"reference": f"DiagnosticReport/{cites}"}]}],
    }


SPLENOMEGALY = {"system": ICD10, "code": "R16.1", "display": "Splenomegaly, not elsewhere classified"}


def result(mapping, topic: str, *resources: dict[str, Any]) -> CriterionResult:
    out = extract(make_record(*resources), mapping)
    return evaluate("Patient/p1", out.findings, MAYO, None).criteria[topic]


def cited(r: CriterionResult) -> set[str]:
    return {e.reference for e in r.evidence}


# ---------------------------------------------------------------- a Condition and the report it cites


def test_a_confirmed_condition_whose_cited_report_denies_it_is_a_conflict(mapping):
    ct = report("ct", "CT abdomen", "Liver normal size. No splenomegaly.")
    r = result(mapping, ORGANOMEGALY, ct, condition("c1", SPLENOMEGALY, "ct"))
    assert r.state is State.INDETERMINATE
    assert cited(r) >= {"Condition/c1", "DiagnosticReport/ct"}
    assert "its own cited evidence denies it" in r.reason
    # narrow: a cited report that is silent, states it or denies another part keeps the Condition's present
    for words in ("Liver normal size.", "Splenomegaly, spleen 17 cm.", "No hepatomegaly."):
        ct = report("ct", "CT abdomen", words)
        kept = result(mapping, ORGANOMEGALY, ct, condition("c1", SPLENOMEGALY, "ct"))
        assert kept.state is State.PRESENT, words
    # ... and so does a low-grade negative (a plain radiograph cannot exclude a lesion, criteria.md §6)
    lesion = {"system": ICD10, "code": "M85.8", "display": "Other specified disorders of bone density"}
    xray = report("xr", "Skeletal survey (X-ray)", "No sclerotic bone lesions.")
    assert result(mapping, SCLEROTIC, xray, condition("c2", lesion, "xr")).state is State.PRESENT
    ct = report("ct", "CT chest, abdomen and pelvis", "No sclerotic bone lesions.")
    assert result(mapping, SCLEROTIC, ct, condition("c2", lesion, "ct")).state is State.INDETERMINATE


def test_a_confirmed_condition_whose_cited_russian_report_denies_it_is_a_conflict(mapping):
    ct = report("ct", "КТ органов брюшной полости", "Печень не увеличена. Спленомегалия: нет.")
    r = result(mapping, ORGANOMEGALY, ct, condition("c1", SPLENOMEGALY, "ct"))
    assert r.state is State.INDETERMINATE
    assert cited(r) >= {"Condition/c1", "DiagnosticReport/ct"}
