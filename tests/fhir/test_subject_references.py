"""Whose a resource is (found by a black-box fuzz probe, fuzzprobe4): a subject that is no valid Patient
reference made a "phantom" patient of its own, evaluated and written back with that subject, and the
real patient silently lost the evidence; a Specimen without id but with a subject was dropped unlisted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poems_fhir.fhir.read import read_paths
from tests.fhir.test_spool import assert_same_as_read_paths

PN = {"coding": [{"system": "http://snomed.info/sct", "code": "42345000"}]}


def _write(tmp_path: Path, *resources: dict) -> Path:
    path = tmp_path / "in.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "subject",
    [
        "Patient/../p1",
        "Patient/",
        "Patient//p1",
        "Patient/p1?x=1",
        "Patient/p1#frag",
        "Patient/p1 ",
        "Patient/p1/../p1",
        "Patient/" + "a" * 65,
        "http://example.org/fhir/Patient/p1?x=1",
    ],
)
def test_a_subject_that_is_no_valid_patient_reference_is_a_listed_skip(tmp_path, subject):
    path = _write(
        tmp_path,
        {"resourceType": "Patient", "id": "p1"},
        {"resourceType": "Condition", "id": "c1", "code": PN, "subject": {"reference": subject}},
    )
    result = read_paths([path])
    assert [r.patient for r in result.records] == ["Patient/p1"]  # no patient of its own
    assert result.records[0].resources == []
    (error,) = result.errors
    assert (
        error.resource == "Condition/c1" and repr(subject) in error.message and "not a valid Patient" in error.message
    )
    assert_same_as_read_paths([path])  # the spool (evaluate, sync --source) says the same


@pytest.mark.parametrize(
    "subject",
    [
        "Patient/p1",
        "Patient/p1/_history/3",
        "http://example.org/fhir/Patient/p1",
        "Patient/a.b-C9",
        "Patient/" + "a" * 64,
    ],
)
def test_valid_patient_references_still_name_their_patient(tmp_path, subject):
    pid = subject.rsplit("/", 1)[-1] if "_history" not in subject else "p1"
    path = _write(
        tmp_path,
        {"resourceType": "Patient", "id": pid},
        {"resourceType": "Condition", "id": "c1", "code": PN, "subject": {"reference": subject}},
    )
    result = read_paths([path])
    assert result.errors == [] and [r.patient for r in result.records] == [f"Patient/{pid}"]
    assert [r.data["id"] for r in result.records[0].resources] == ["c1"]
    assert_same_as_read_paths([path])


def test_a_specimen_without_id_is_listed_even_with_a_subject(tmp_path):
    path = _write(
        tmp_path,
        {"resourceType": "Patient", "id": "p1"},
        {"resourceType": "Specimen", "type": {"text": "serum"}, "subject": {"reference": "Patient/p1"}},
        {"resourceType": "Specimen", "id": "s2", "type": {"text": "plasma"}, "subject": {"reference": "Patient/p1"}},
    )
    result = read_paths([path])
    (error,) = result.errors
    assert "Specimen without id or fullUrl: no resource can refer to it" in error.message
    assert [r.data.get("id") for r in result.records[0].resources] == ["s2"]  # one with an id still counts
    assert_same_as_read_paths([path])


@pytest.mark.parametrize("rtype", ["Specimen", "Medication"])
@pytest.mark.parametrize("patient", [{"resourceType": "Patient", "id": "p1"}, {"resourceType": "Patient"}])
def test_one_without_id_whose_subject_is_a_full_url_is_listed_too(tmp_path, rtype, patient):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:u1", "resource": patient},
            {"resource": {"resourceType": rtype, "subject": {"reference": "urn:uuid:u1"}}},
        ],
    }
    path = tmp_path / "in.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = read_paths([path])
    assert [e.message for e in result.errors] == [
        f"{rtype} without id or fullUrl: no resource can refer to it; skipped"
    ]
    assert [r.resources for r in result.records] == [[]]
    assert_same_as_read_paths([path])
