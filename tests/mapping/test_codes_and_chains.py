"""Codes beyond the table and evidence chains (issue #8): national ICD-10 systems, parent codes,
Condition.evidence.detail followed to the report's modality, parts from FHIR resources."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import State, Strength
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import MappingError, load_mapping
from poems_fhir.mapping.values import Value, compare, parse_number
from tests.conftest import diagnostic_report as report
from tests.conftest import make_record

ICD10, ICD10CM, SCT = "http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm", "http://snomed.info/sct"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def cond(system: str, code: str, verification: str = "confirmed", date: str = "2024-01-01", **extra):
    return {
        "resourceType": "Condition",
        "code": {"coding": [{"system": system, "code": code}]},
        "verificationStatus": {"coding": [{"system": VER, "code": verification}]},
        "subject": {"reference": "Patient/p1"},
        "recordedDate": date,
        **extra,
    }


def sclerotic_refuted(detail: str) -> dict:
    return cond(ICD10CM, "M85.80", "refuted", evidence=[{"detail": [{"reference": detail}]}])


def test_refutation_on_a_plain_radiograph_is_a_low_grade_negative(mapping):
    ex = extract(
        make_record(report("xr", "Skeletal survey (X-ray)"), sclerotic_refuted("DiagnosticReport/xr")), mapping
    )
    (finding,) = [f for f in ex.findings if f.topic == "sclerotic_bone_lesions"]
    assert finding.state is State.ABSENT and finding.strength is Strength.WEAK
    assert "DiagnosticReport/xr" in (finding.note or "")
    result = evaluate("Patient/p1", ex.findings, MAYO).criteria["sclerotic_bone_lesions"]
    assert result.state is State.INDETERMINATE and result.open


def test_refutation_on_ct_stays_strong(mapping):
    ex = extract(
        make_record(
            report("ct", "CT whole body low dose"),
            report("xr", "Skeletal survey"),
            cond(
                ICD10CM,
                "M85.80",
                "refuted",
                evidence=[{"detail": [{"reference": "DiagnosticReport/xr"}, {"reference": "DiagnosticReport/ct"}]}],
            ),
        ),
        mapping,
    )
    (finding,) = [f for f in ex.findings if f.topic == "sclerotic_bone_lesions"]
    assert finding.strength is Strength.STRONG
    assert evaluate("Patient/p1", ex.findings, MAYO).criteria["sclerotic_bone_lesions"].state is State.ABSENT


def test_refutation_without_evidence_detail_is_unchanged(mapping):
    ex = extract(make_record(cond(ICD10CM, "M85.80", "refuted")), mapping)
    assert [f.strength for f in ex.findings] == [Strength.STRONG]


def test_enlarged_liver_with_spleen_not_enlarged_is_organomegaly(mapping):
    ex = extract(
        make_record(cond(ICD10, "R16.0", date="2024-01-01"), cond(ICD10, "R16.1", "refuted", date="2024-02-01")),
        mapping,
    )
    result = evaluate("Patient/p1", ex.findings, MAYO).criteria["organomegaly"]
    assert result.state is State.PRESENT


def test_icd10_codes_are_canonicalised(mapping):
    assert mapping.canonical("urn:oid:2.16.840.1.113883.6.90", "g629") == (ICD10CM, "G62.9")
    assert mapping.canonical("1.2.643.5.1.13.13.11.1005", " R16.1 ") == (ICD10, "R16.1")
    assert mapping.canonical("http://loinc.org", "777-3") == ("http://loinc.org", "777-3")


def test_parent_code_is_used_for_assertions_only_and_noted(mapping):
    ex = extract(make_record(cond(ICD10, "G62.88")), mapping)
    assert [(f.topic, f.state) for f in ex.findings] == [("polyneuropathy", State.PRESENT)]
    assert [n.kind for n in ex.notes] == ["broader_code"]


def test_diabetic_polyneuropathy_is_flagged_as_a_differential(mapping):
    ex = extract(make_record(cond(ICD10CM, "E11.42")), mapping)
    a = evaluate("Patient/p1", ex.findings, MAYO, dt.date(2024, 6, 1))
    assert a.criteria["polyneuropathy"].state is State.PRESENT
    assert "differential_diabetic_polyneuropathy" in [fl.code for fl in a.flags]
    # diabetes alone never satisfies the endocrinopathy criterion (caveat)
    assert a.criteria["endocrinopathy"].caveat == "diabetes_only"


@pytest.mark.parametrize("system", [ICD10, ICD10CM])
@pytest.mark.parametrize("code", ["G62.0", "G62.1", "G62.2"])
def test_a_toxic_polyneuropathy_is_a_polyneuropathy_with_its_cause_flagged(mapping, system, code):
    # probe86 D6: a confirmed drug-induced (alcoholic, toxic) polyneuropathy was "polyneuropathy: no data"
    ex = extract(make_record(cond(system, code)), mapping)
    a = evaluate("Patient/p1", ex.findings, MAYO, dt.date(2024, 6, 1))
    assert a.criteria["polyneuropathy"].state is State.PRESENT
    flags = {fl.code: fl for fl in a.flags}
    assert "differential_toxic_polyneuropathy" in flags
    assert "thalidomide" in flags["differential_toxic_polyneuropathy"].message
    # no endocrinopathy is implied, unlike a diabetic polyneuropathy
    assert a.criteria["endocrinopathy"].state is not State.PRESENT


def test_a_refuted_toxic_polyneuropathy_refutes_its_cause_not_the_polyneuropathy(mapping):
    ex = extract(make_record(cond(ICD10, "G62.1", "refuted")), mapping)
    a = evaluate("Patient/p1", ex.findings, MAYO, dt.date(2024, 6, 1))
    assert a.criteria["polyneuropathy"].state is not State.ABSENT
    assert "differential_toxic_polyneuropathy" not in [fl.code for fl in a.flags]


def test_number_formats():
    assert parse_number("1 250,5") == 1250.5
    assert parse_number("1\u202f250") == 1250
    assert parse_number("1.250.000") == 1250000
    assert parse_number("1,250.5") == 1250.5
    assert parse_number("0,125") == 0.125
    for bad in ("1,250", "12 5", "1.2.3"):
        try:
            parse_number(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} should be refused")


def test_censored_comparisons_are_interval_logic():
    assert compare(Value(2000, None, ">"), 1000, ">=") is True
    assert compare(Value(500, None, ">"), 1000, ">=") is None  # could be anything above 500
    assert compare(Value(50, None, "<"), 200, ">=") is False
    assert compare(Value(200, None, "<="), 200, ">=") is None  # may be exactly 200
    assert compare(Value(200, None, "<"), 200, ">=") is False
    assert compare(Value(200, None, ">="), 200, ">=") is True
    assert compare(Value(200, None, None), 200, ">") is False


# ------------------------------------------- a weak modality is weak only where criteria.md §6 says so


def test_a_chest_radiograph_without_effusion_is_a_strong_negative(mapping):
    # criteria.md §6: plain radiographs are a low-grade negative for small sclerotic lesions, not for an effusion
    ex = extract(make_record(report("xr", "Chest X-ray PA", "Lungs clear. No pleural effusion.")), mapping)
    (finding,) = [f for f in ex.findings if f.topic == "extravascular_volume_overload"]
    assert finding.state is State.ABSENT and finding.strength is Strength.STRONG and finding.note is None


def test_a_radiograph_without_sclerotic_lesions_stays_a_low_grade_negative(mapping):
    ex = extract(make_record(report("xr", "Skeletal survey (X-ray)", "No sclerotic bone lesions.")), mapping)
    (finding,) = [f for f in ex.findings if f.topic == "sclerotic_bone_lesions"]
    assert finding.state is State.ABSENT and finding.strength is Strength.WEAK
    assert "plain radiographs miss small sclerotic lesions" in (finding.note or "")


def test_a_refuted_effusion_resting_on_a_chest_radiograph_is_strong(mapping):
    ex = extract(
        make_record(
            report("xr", "Chest X-ray"),
            cond(SCT, "60046008", "refuted", evidence=[{"detail": [{"reference": "DiagnosticReport/xr"}]}]),
        ),
        mapping,
    )
    (finding,) = [f for f in ex.findings if f.topic == "extravascular_volume_overload"]
    assert finding.state is State.ABSENT and finding.strength is Strength.STRONG and finding.note is None


HEADER = "format: poems-fhir-mapping/1\nname: site\nversion: '1'\n"


def test_a_modality_weak_for_an_unknown_topic_is_a_mapping_problem(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(HEADER + "modalities:\n  - {id: radiograph, strength: weak, weak_for: [sclerotic_lesions]}\n")
    with pytest.raises(MappingError, match="unknown topic 'sclerotic_lesions'"):
        load_mapping([site])


def test_a_context_rule_for_an_unknown_target_is_a_mapping_problem(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(
        HEADER
        + "text:\n  context:\n    - {lang: en, literal: bone island, category: POSSIBLE_EXISTENCE, targets: [sclerotic]}\n"
    )
    with pytest.raises(MappingError, match="'sclerotic' is not a text target"):
        load_mapping([site])


def test_a_context_rule_restricted_to_a_target_leaves_the_others_alone(mapping):
    (assertions,) = mapping.text.assert_texts(["Sclerotic focus in L2 in keeping with a bone island, splenomegaly."])
    labels = {a.target: a.label for a in assertions}
    assert labels == {"sclerotic_bone_lesion": "possible", "splenomegaly": "present"}
    # "and a" opens a finding of its own (probe84 D1): the bone island in the femur explains no L2 focus
    (other,) = mapping.text.assert_texts(["A bone island in the femur and a sclerotic focus in L2, splenomegaly."])
    assert {a.target: a.label for a in other} == {"sclerotic_bone_lesion": "present", "splenomegaly": "present"}


def test_a_refuted_cidp_is_a_revised_diagnosis_not_a_refuted_polyneuropathy(mapping):
    # criteria.md §7: CIDP is the commonest misdiagnosis of POEMS; "CIDP refuted, revised after the
    # POEMS work-up" leaves the polyneuropathy (MAJ-1) as it was and only withdraws the CIDP flag
    ex = extract(
        make_record(
            cond(SCT, "42345000", date="2019-09-01"),
            cond(SCT, "128209004", "refuted", date="2020-07-01"),
        ),
        mapping,
    )
    a = evaluate("Patient/p1", ex.findings, MAYO, dt.date(2020, 7, 1))
    assert a.criteria["polyneuropathy"].state is State.PRESENT
    assert sorted((f.topic, f.state) for f in ex.findings) == [
        ("cidp", State.ABSENT),
        ("polyneuropathy", State.PRESENT),
    ]


@pytest.mark.parametrize(
    ("system", "code", "specific"),
    [
        (ICD10CM, "C90.00", "multiple_myeloma"),
        (ICD10CM, "E85.81", "al_amyloidosis"),
        (ICD10CM, "C90.30", None),  # solitary plasmacytoma
        (ICD10CM, "R80.3", None),  # Bence Jones proteinuria
    ],
)
def test_a_refuted_specific_plasma_cell_diagnosis_does_not_refute_the_clone(mapping, system, code, specific):
    # "not myeloma" (it is POEMS) says nothing against the IgA-lambda clone the immunofixation showed
    clone = cond(ICD10CM, "D47.2", date="2024-01-01")
    ex = extract(make_record(clone, cond(system, code, "refuted", date="2024-03-01")), mapping)
    absent = sorted(f.topic for f in ex.findings if f.state is State.ABSENT)
    assert absent == ([specific] if specific else [])
    a = evaluate("Patient/p1", ex.findings, MAYO, dt.date(2024, 6, 1))
    assert a.criteria["monoclonal_plasma_cell_disorder"].state is State.PRESENT


def test_a_refuted_monoclonal_gammopathy_still_refutes_the_clone(mapping):
    # D47.2 / "monoclonal gammopathy" is the clone itself, not a subtype of it
    ex = extract(make_record(cond(ICD10CM, "D47.2", "refuted")), mapping)
    assert ("monoclonal_plasma_cell_disorder", State.ABSENT) in [(f.topic, f.state) for f in ex.findings]


def test_cidp_ruled_out_in_words_does_not_rule_out_the_polyneuropathy(mapping):
    ex = extract(
        make_record(report("n1", "Neurology letter", "Demyelinating polyneuropathy; CIDP was excluded.")),
        mapping,
    )
    assert sorted((f.topic, f.state) for f in ex.findings) == [
        ("cidp", State.ABSENT),
        ("polyneuropathy", State.PRESENT),
    ]


@pytest.mark.parametrize(
    "system, canonical",
    [
        ("http://dsm.kz/fhir/CodeSystem/mkb10", ICD10),  # a national URI that names the classification
        ("urn:example:kz:МКБ-10", ICD10),
        ("ICD-10", ICD10),
        ("ICD10", ICD10),
        ("http://fhir.de/CodeSystem/bfarm/icd-10-gm", ICD10),  # listed exactly as well
        ("http://example.org/terminology/icd10-gm", ICD10),
        ("ICD-10-CM", ICD10CM),
        ("http://hospital.example/cs/icd10cm", ICD10CM),
    ],
)
def test_an_icd10_system_is_recognised_by_its_name(mapping, system, canonical):
    """issue #8: no Kazakhstan national ICD-10 identifier is confirmed; a URI naming ICD-10/MKB-10 is read."""
    assert mapping.canonical(system, "g629") == (canonical, "G62.9")
    ex = extract(make_record(cond(system, "G62.9")), mapping)
    assert [(f.topic, f.state) for f in ex.findings] == [("polyneuropathy", State.PRESENT)]


@pytest.mark.parametrize(
    "system",
    [
        "ICD-10-PCS",  # procedures, not diagnoses
        "http://www.cms.gov/Medicare/Coding/ICD10",  # the FHIR URI of ICD-10-PCS
        "http://example.org/icd-10-am",
        "icd-10-ca",
        "http://example.org/icd100",
        "http://example.org/lcd-10",
    ],
)
def test_other_systems_are_not_taken_for_icd10_by_name(mapping, system):
    assert mapping.canonical(system, "G62.9")[0] == system
    assert extract(make_record(cond(system, "G62.9")), mapping).findings == []


def test_an_exact_site_equivalence_wins_over_a_name_pattern(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(HEADER + "system_equivalents:\n  icd10cm:\n    - {uri: ICD10}\n")
    assert load_mapping([site]).canonical("ICD10", "d47z2") == (ICD10CM, "D47.Z2")


def test_a_site_adds_a_name_pattern_and_a_broken_one_is_a_mapping_problem(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(HEADER + "system_name_patterns:\n  icd10:\n    - {pattern: 'nsi\\.example\\.kz/diag'}\n")
    assert load_mapping([site]).canonical("https://nsi.example.kz/diagnoses", "g629") == (ICD10, "G62.9")
    site.write_text(HEADER + "system_name_patterns:\n  icd10:\n    - {pattern: 'mkb[10'}\n")
    with pytest.raises(MappingError, match=r"site\.yaml:6: system_name_patterns: invalid regular expression 'mkb\[10'"):
        load_mapping([site])


def _castleman(*details: str) -> dict:
    return cond(ICD10CM, "D47.Z2", evidence=[{"detail": [{"reference": d} for d in details]}] if details else [])


@pytest.mark.parametrize(
    ("resources", "details", "state"),
    [
        # criteria.md MAJ-3 "Only biopsy establishes it; imaging lymphadenopathy ≠ Castleman" (probe49 D3)
        (
            [report("ct", "CT abdomen", "Enlarged mesenteric nodes; suggests Castleman disease.")],
            ("DiagnosticReport/ct",),
            State.INDETERMINATE,
        ),
        (
            [report("ct", "CT abdomen"), report("pet", "PET-CT whole body")],
            ("DiagnosticReport/ct", "DiagnosticReport/pet"),
            State.INDETERMINATE,
        ),
        # a biopsy among its evidence, no evidence named, or evidence not in the input: the diagnosis stands
        (
            [report("ct", "CT abdomen"), report("ln", "Lymph node biopsy, histopathology")],
            ("DiagnosticReport/ct", "DiagnosticReport/ln"),
            State.PRESENT,
        ),
        ([], (), State.PRESENT),
        ([], ("DiagnosticReport/elsewhere",), State.PRESENT),
        # a lab panel is no imaging: not known to be imaging only
        ([report("lab", "Complete blood count")], ("DiagnosticReport/lab",), State.PRESENT),
    ],
)
def test_a_castleman_diagnosis_resting_on_imaging_only_is_indeterminate(mapping, resources, details, state):
    ex = extract(make_record(*resources, _castleman(*details)), mapping)
    (finding,) = [f for f in ex.findings if f.topic == "castleman_disease"]
    assert finding.state is state
    if state is State.INDETERMINATE:
        assert "imaging only" in (finding.note or "") and "lymph-node biopsy" in (finding.note or "")
        result = evaluate("Patient/p1", ex.findings, MAYO).criteria["castleman_disease"]
        assert result.state is State.INDETERMINATE and result.open


@pytest.mark.parametrize(
    ("system", "code", "topic"),
    [
        # codes.md: thrombosis I82.9 / I74.9 (WHO), vitamin B12 deficiency E53.8, D51.9 if anaemia
        ("http://hl7.org/fhir/sid/icd-10", "I82.9", "thrombosis"),
        ("http://hl7.org/fhir/sid/icd-10", "I74.9", "thrombosis"),
        ("http://hl7.org/fhir/sid/icd-10", "E53.8", "low_vitamin_b12"),
        ("http://hl7.org/fhir/sid/icd-10", "D51.9", "low_vitamin_b12"),
        (ICD10CM, "D51.9", "low_vitamin_b12"),
        ("urn:oid:1.2.643.5.1.13.13.11.1005", "I82.9", "thrombosis"),  # the Russian MKB-10 (NSI)
    ],
)
def test_supporting_signs_coded_as_codes_md_gives_them_are_read(mapping, system, code, topic):
    # probe66 D2: a WHO-coded site's thrombosis and B12 deficiency were not read
    ex = extract(make_record(cond(system, code)), mapping)
    assert [(f.topic, f.state) for f in ex.findings] == [(topic, State.PRESENT)]


@pytest.mark.parametrize(
    "system",
    ["http://hl7.org/fhir/sid/icd-10", "urn:oid:1.2.643.5.1.13.13.11.1005"],  # WHO, the Russian MKB-10
)
def test_a_who_coded_primary_ovarian_failure_is_the_gonadal_axis(mapping, system):
    # probe98 A1: WHO ICD-10 has no E28.39 (its leaf is E28.3): a Russian E28.3 was read as nothing, silently
    ex = extract(make_record(cond(system, "E28.3"), gender="female"), mapping)
    assert [(f.topic, f.state, f.axis and f.axis.value) for f in ex.findings] == [
        ("endocrinopathy", State.PRESENT, "gonadal")
    ]
