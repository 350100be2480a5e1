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
    # ... and a cited report that states it and denies it of one place, or of the rest
    for words in (
        "Sclerotic lesion in L2. No sclerotic lesions in the skull.",
        "Sclerotic lesion in L2. No sclerotic lesions.",
    ):
        ct = report("ct", "CT chest, abdomen and pelvis", words)
        assert result(mapping, SCLEROTIC, ct, condition("c2", lesion, "ct")).state is State.PRESENT, words


def test_a_confirmed_condition_whose_cited_russian_report_denies_it_is_a_conflict(mapping):
    ct = report("ct", "КТ органов брюшной полости", "Печень не увеличена. Спленомегалия: нет.")
    r = result(mapping, ORGANOMEGALY, ct, condition("c1", SPLENOMEGALY, "ct"))
    assert r.state is State.INDETERMINATE
    assert cited(r) >= {"Condition/c1", "DiagnosticReport/ct"}


# ---------------------------------------------------------------- two study reports of one day


def test_two_same_day_ct_reports_one_stating_one_denying_are_a_conflict(mapping):
    name = "CT chest, abdomen and pelvis"
    r = result(
        mapping,
        SCLEROTIC,
        report("a", name, "Sclerotic lesion in T10."),
        report("b", name, "No sclerotic bone lesions.", issued="2024-01-11T09:00:00Z"),
    )
    assert r.state is State.INDETERMINATE
    assert cited(r) == {"DiagnosticReport/a", "DiagnosticReport/b"}
    assert "conflicting reports of the same day" in r.reason
    # a denial of the very place stated is a conflict too
    same_place = result(
        mapping,
        SCLEROTIC,
        report("a", name, "Sclerotic lesion in L3."),
        report("b", name, "No sclerotic lesion in L3."),
    )
    assert same_place.state is State.INDETERMINATE


def test_a_ct_and_an_ultrasound_of_one_day_that_disagree_on_the_spleen_are_a_conflict(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("ct", "CT abdomen", "Splenomegaly, spleen 16 cm."),
        report("us", "Ultrasound abdomen", "No splenomegaly."),
    )
    assert r.state is State.INDETERMINATE
    assert cited(r) >= {"DiagnosticReport/ct", "DiagnosticReport/us"}
    # a whole-body study covers every region
    whole = result(
        mapping,
        ORGANOMEGALY,
        report("abd", "CT abdomen and pelvis", "Retroperitoneal lymphadenopathy."),
        report("pet", "Whole-body PET-CT", "No lymphadenopathy."),
    )
    assert whole.state is State.INDETERMINATE


def test_two_same_day_russian_ct_reports_that_disagree_are_a_conflict(mapping):
    name = "КТ органов грудной клетки, брюшной полости и малого таза"
    r = result(
        mapping,
        SCLEROTIC,
        report("a", name, "Склеротический очаг в теле L3."),
        report("b", name, "Склеротических очагов не выявлено."),
    )
    assert r.state is State.INDETERMINATE
    assert cited(r) == {"DiagnosticReport/a", "DiagnosticReport/b"}


def test_a_denial_in_another_body_region_keeps_the_finding_and_is_named(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("chest", "CT chest", "No lymphadenopathy."),
        report("abd", "CT abdomen and pelvis", "Retroperitoneal lymphadenopathy."),
    )
    assert r.state is State.PRESENT
    assert "DiagnosticReport/chest" in r.reason


def test_a_russian_denial_in_another_body_region_keeps_the_finding(mapping):
    r = result(
        mapping,
        ORGANOMEGALY,
        report("chest", "КТ органов грудной клетки", "Лимфаденопатии не выявлено."),
        report("abd", "КТ брюшной полости и малого таза", "Лимфаденопатия забрюшинного пространства."),
    )
    assert r.state is State.PRESENT
    assert "DiagnosticReport/chest" in r.reason


def test_a_denial_of_another_site_in_the_same_study_keeps_the_finding(mapping):
    name = "CT chest, abdomen and pelvis"
    bones = result(
        mapping,
        SCLEROTIC,
        report("a", name, "Sclerotic lesion in L3."),
        report("b", name, "No sclerotic lesions in the pelvis."),
    )
    assert bones.state is State.PRESENT
    assert "DiagnosticReport/b" in bones.reason
    nodes = result(
        mapping,
        ORGANOMEGALY,
        report("a", name, "Axillary lymph nodes enlarged, up to 25 mm."),
        report("b", name, "No lymphadenopathy in the neck."),
    )
    assert nodes.state is State.PRESENT


def test_two_node_histologies_of_one_day_from_other_nodes_keep_the_castleman_diagnosis(mapping):
    def histology(rid: str, words: str, specimen: str | None) -> dict[str, Any]:
        extra = {"specimen": [{"reference": f"Specimen/{specimen}"}]} if specimen else {}
        return report(rid, "Lymph node biopsy, histology", words, section="PAT", **extra)

    for s1, s2 in (("s1", "s2"), (None, None)):
        r = result(
            mapping,
            CASTLEMAN,
            histology("h1", "Right axillary node: hyaline vascular Castleman disease.", s1),
            histology("h2", "Left inguinal node: reactive lymph node, no features of Castleman disease.", s2),
        )
        assert r.state is State.PRESENT, (s1, s2)
        assert "DiagnosticReport/h2" in r.reason  # the denial is named, not silently dropped
