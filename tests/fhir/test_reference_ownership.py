"""Whose copy a reference resolves to (found by a black-box fuzz probe, probe22): a Specimen or report
referenced by a patient's resource was looked up in the index shared by all patients, so another
patient's copy of a clashing key - or another patient's Specimen, or one listed as skipped - decided
the patient's VEGF specimen type or the strength of a refuted bone finding, depending on the order
the files were given. A record now resolves to its own copy, or to a resource that belongs to nobody
(a Medication, a Specimen without subject), never to anything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poems_fhir.criteria.profiles import get_profile
from poems_fhir.fhir.read import PatientRecord, read_paths
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_paths
from tests.fhir.test_spool import assert_same_as_read_paths

PLASMA = {"coding": [{"system": "http://snomed.info/sct", "code": "119361006", "display": "Plasma specimen"}]}
SERUM = {"coding": [{"system": "http://snomed.info/sct", "code": "119364003", "display": "Serum specimen"}]}


def _specimen(subject: str | None, kind: dict, sid: str = "s1") -> dict:
    spec: dict = {"resourceType": "Specimen", "id": sid, "type": kind}
    if subject is not None:
        spec["subject"] = {"reference": subject}
    return spec


def _vegf(patient: str, specimen: str = "Specimen/s1", oid: str = "vegf") -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "subject": {"reference": patient},
        "specimen": {"reference": specimen},
        "effectiveDateTime": "2024-01-12",
        # between the plasma and the serum cut-off: the specimen type decides
        "valueQuantity": {"value": 624, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
    }


def _write(path: Path, *resources: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return path


def _record(records: list[PatientRecord], patient: str) -> PatientRecord:
    return next(r for r in records if r.patient == patient)


def _state(paths: list[Path], patient: str, criterion: str = "vegf_elevation") -> str:
    run = evaluate_paths(paths, load_mapping(), get_profile("mayo"))
    result = next(r for r in run.results if r.record.patient == patient)
    return result.assessment.criteria[criterion].state.value


@pytest.mark.parametrize("good_first", [True, False])
def test_a_clashing_key_resolves_to_each_patients_own_copy_in_either_file_order(tmp_path, good_first):
    good = _write(tmp_path / "good.ndjson", _specimen("Patient/good", PLASMA), _vegf("Patient/good"))
    other = _write(tmp_path / "other.ndjson", _specimen("Patient/other", SERUM))
    paths = [good, other] if good_first else [other, good]
    result = read_paths(paths)
    assert "each copy is used for its own patient only" in result.errors[0].message
    assert _record(result.records, "Patient/good").resolve("Specimen/s1")["type"] == PLASMA
    assert _record(result.records, "Patient/other").resolve("Specimen/s1")["type"] == SERUM
    assert _state(paths, "Patient/good") == "present"  # 624 pg/mL in plasma (>= 200)
    assert_same_as_read_paths(paths)


@pytest.mark.parametrize("other_first", [True, False])
def test_another_patients_specimen_is_not_used(tmp_path, other_first):
    own = [_vegf("Patient/good")]
    foreign = [{"resourceType": "Patient", "id": "other"}, _specimen("Patient/other", PLASMA)]
    path = _write(tmp_path / "in.ndjson", *(foreign + own if other_first else own + foreign))
    result = read_paths([path])
    assert _record(result.records, "Patient/good").resolve("Specimen/s1") is None
    assert _record(result.records, "Patient/other").resolve("Specimen/s1")["type"] == PLASMA
    assert _state([path], "Patient/good") == "indeterminate"  # specimen type unknown
    # the broken link is listed, with the resource that holds it; the resource itself is read
    run = evaluate_paths([path], load_mapping(), get_profile("mayo"))
    assert [(e.resource, e.message) for e in run.errors] == [
        ("Observation/vegf", "refers to Specimen/s1, which belongs to Patient/other: not used for Patient/good")
    ]
    assert_same_as_read_paths([path])


@pytest.mark.parametrize("subject", ["Group/g", "", "Patient/../p1"])
def test_a_specimen_listed_as_skipped_is_not_used(tmp_path, subject):
    path = _write(tmp_path / "in.ndjson", _specimen(subject, PLASMA), _vegf("Patient/p1"))
    result = read_paths([path])
    (error,) = result.errors
    assert error.resource == "Specimen/s1"
    assert f"subject {subject!r}" in error.message
    assert _record(result.records, "Patient/p1").resolve("Specimen/s1") is None
    assert _state([path], "Patient/p1") == "indeterminate"
    run = evaluate_paths([path], load_mapping(), get_profile("mayo"))
    assert run.errors[-1].resource == "Observation/vegf"
    assert run.errors[-1].message.startswith("refers to Specimen/s1, which ")
    assert_same_as_read_paths([path])


def test_a_specimen_or_medication_that_belongs_to_nobody_is_shared(tmp_path):
    medication = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6313"}]},
    }
    path = _write(
        tmp_path / "in.ndjson",
        _specimen(None, PLASMA),
        medication,
        _vegf("Patient/a"),
        _vegf("Patient/b", oid="vegf-b"),
    )
    result = read_paths([path])
    assert result.errors == []
    for patient in ("Patient/a", "Patient/b"):
        record = _record(result.records, patient)
        assert record.resolve("Specimen/s1")["type"] == PLASMA
        assert record.resolve("Medication/m1") == medication
        assert _state([path], patient) == "present"
    assert evaluate_paths([path], load_mapping(), get_profile("mayo")).errors == []
    assert_same_as_read_paths([path])


def test_a_referenced_report_of_another_patient_does_not_weigh_a_refuted_condition(tmp_path):
    """A refuted finding resting on the patient's own radiograph is a low-grade negative; another
    patient's CT under the same key must not make it a strong one (criteria.md §6)."""
    condition = {
        "resourceType": "Condition",
        "id": "scl",
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M85.80"}]},
        "subject": {"reference": "Patient/good"},
        "recordedDate": "2022-09-02",
        "evidence": [{"detail": [{"reference": "DiagnosticReport/xr"}]}],
    }

    def report(patient: str, code: str, display: str) -> dict:
        return {
            "resourceType": "DiagnosticReport",
            "id": "xr",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "subject": {"reference": patient},
            "effectiveDateTime": "2022-09-01",
        }

    good = _write(tmp_path / "good.ndjson", condition, report("Patient/good", "37637-6", "XR Skeletal survey"))
    other = _write(tmp_path / "other.ndjson", report("Patient/other", "82689-1", "CT Whole body"))
    states = {}
    for paths in ([good, other], [other, good]):
        states[paths[0].name] = _state(paths, "Patient/good", "sclerotic_bone_lesions")
    assert states == {"good.ndjson": "indeterminate", "other.ndjson": "indeterminate"}
    assert_same_as_read_paths([other, good])


@pytest.mark.parametrize("patients_copy_first", [True, False])
def test_a_key_held_by_a_patients_specimen_and_by_a_shared_one_resolves_to_the_shared_one_in_any_order(
    tmp_path, patients_copy_first
):
    # found by a held-out differential probe (probe28): Patient/d's VEGF read the other patient's copy
    # (refused: specimen unknown) in one file order and the shared copy (serum) in the other
    one = _write(tmp_path / "1.ndjson", {"resourceType": "Patient", "id": "c"}, _specimen("Patient/c", PLASMA, "sx"))
    two = _write(
        tmp_path / "2.ndjson",
        {"resourceType": "Patient", "id": "d"},
        _vegf("Patient/d", "Specimen/sx"),
        _specimen(None, SERUM, "sx"),
    )
    paths = [one, two] if patients_copy_first else [two, one]
    result = read_paths(paths)
    assert _record(result.records, "Patient/d").resolve("Specimen/sx")["type"] == SERUM
    assert _record(result.records, "Patient/c").resolve("Specimen/sx")["type"] == PLASMA  # its own copy
    assert _state(paths, "Patient/d") == "absent"  # 624 pg/mL in serum (< 1000)
    run = evaluate_paths(paths, load_mapping(), get_profile("mayo"))
    assert not any(e.message.startswith("refers to") for e in run.errors)
    assert_same_as_read_paths(paths)


def test_another_patients_report_in_evidence_detail_is_not_cited_and_is_listed(tmp_path):
    """probe32: a Condition's evidence.detail naming another patient's CT and VEGF was echoed under
    `supporting` - and into this patient's Provenance - with no error listed."""
    condition = {
        "resourceType": "Condition",
        "id": "pnp",
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G62.89"}]},
        "subject": {"reference": "Patient/good"},
        "recordedDate": "2022-09-02",
        "evidence": [
            {"detail": [{"reference": "DiagnosticReport/ct"}, {"reference": "Observation/vegf"}]},
            {"detail": [{"reference": "DiagnosticReport/own"}, {"reference": "DiagnosticReport/not-in-input"}]},
        ],
    }
    own = {
        "resourceType": "DiagnosticReport",
        "id": "own",
        "status": "final",
        "code": {"text": "Nerve conduction study"},
        "subject": {"reference": "Patient/good"},
        "effectiveDateTime": "2022-09-01",
    }
    ct = {**own, "id": "ct", "code": {"text": "CT whole body"}, "subject": {"reference": "Patient/other"}}
    path = _write(tmp_path / "in.ndjson", condition, own, ct, _vegf("Patient/other"))
    run = evaluate_paths([path], load_mapping(), get_profile("mayo"))
    result = next(r for r in run.results if r.record.patient == "Patient/good")
    cited = {
        ref
        for f in result.extraction.findings
        if f.evidence.reference == "Condition/pnp"
        for ref in f.evidence.supporting
    }
    assert cited == {"DiagnosticReport/own", "DiagnosticReport/not-in-input"}
    messages = [e.message for e in result.extraction.errors]
    assert "refers to DiagnosticReport/ct, which belongs to Patient/other: not used for Patient/good" in messages
    assert "refers to Observation/vegf, which belongs to Patient/other: not used for Patient/good" in messages
