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
        "Patient/..",  # dot segments: the server's base, not a patient
        "Patient/.",
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


# --- conditional subjects: exactly one Patient, or none (probe21 I09/I10) ---------------------

MRN = "urn:oid:1.2.3.4"


def _patient(pid: str, *mrns: str) -> dict:
    return {"resourceType": "Patient", "id": pid, "identifier": [{"system": MRN, "value": v} for v in mrns]}


def _condition(cid: str, subject: str) -> dict:
    return {"resourceType": "Condition", "id": cid, "code": PN, "subject": {"reference": subject}}


@pytest.mark.parametrize("first", ["pa", "pb"])
def test_a_conditional_subject_two_patients_match_belongs_to_neither(tmp_path, first):
    # FHIR http.html: "if there are no matches, or multiple matches, the transaction fails"
    patients = [_patient("pa", "333"), _patient("pb", "333")]
    if first == "pb":
        patients.reverse()
    path = _write(tmp_path, *patients, _condition("c1", f"Patient?identifier={MRN}|333"))
    result = read_paths([path])
    assert sorted(r.patient for r in result.records) == ["Patient/pa", "Patient/pb"]
    assert all(r.resources == [] for r in result.records)
    (error,) = result.errors
    assert error.resource == "Condition/c1" and "matches 2 Patients" in error.message
    assert "Patient/pa" in error.message and "Patient/pb" in error.message
    assert_same_as_read_paths([path])


@pytest.mark.parametrize("subject", [f"Patient?identifier={MRN}|999", "Patient?identifier=999", "Patient?name=x"])
def test_a_conditional_subject_no_patient_matches_is_listed_never_a_patient_of_its_own(tmp_path, subject):
    path = _write(tmp_path, _patient("p1", "333"), _condition("c1", subject))
    result = read_paths([path])
    assert [r.patient for r in result.records] == ["Patient/p1"] and result.records[0].resources == []
    (error,) = result.errors
    assert error.resource == "Condition/c1" and repr(subject) in error.message
    assert_same_as_read_paths([path])


@pytest.mark.parametrize(
    "subject", [f"Patient?identifier={MRN}|333", "Patient?identifier=333", f"Patient?identifier={MRN}|444"]
)
def test_a_conditional_subject_one_patient_matches_is_theirs(tmp_path, subject):
    # one Patient carrying the identifier twice, or two identifiers, is still one match
    path = _write(tmp_path, _patient("p1", "333", "333", "444"), _patient("p2", "555"), _condition("c1", subject))
    result = read_paths([path])
    assert result.errors == []
    assert {r.patient: [x.data["id"] for x in r.resources] for r in result.records} == {
        "Patient/p1": ["c1"],
        "Patient/p2": [],
    }
    assert_same_as_read_paths([path])


def test_the_system_tells_apart_patients_that_share_a_number(tmp_path):
    other = {"resourceType": "Patient", "id": "p2", "identifier": [{"system": "urn:other", "value": "333"}]}
    path = _write(tmp_path, _patient("p1", "333"), other, _condition("c1", f"Patient?identifier={MRN}|333"))
    result = read_paths([path])
    assert result.errors == [] and [x.data["id"] for x in result.records[0].resources] == ["c1"]
    assert_same_as_read_paths([path])


# --- a history Bundle: a deletion supersedes the versions listed after it (probe21 H08) ----------


def _history(*entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": "history", "entry": list(entries)}


def _version(cid: str, version: str, method: str = "PUT") -> dict:
    return {
        "resource": {**_condition(cid, "Patient/p1"), "meta": {"versionId": version}},
        "request": {"method": method, "url": f"Condition/{cid}"},
    }


def test_a_resource_deleted_in_a_history_is_no_longer_read(tmp_path):
    delete = {"request": {"method": "DELETE", "url": "Condition/c1"}, "response": {"status": "204 No Content"}}
    bundle = _history(delete, _version("c1", "1", "POST"), _version("c2", "1", "POST"))
    path = tmp_path / "h.json"
    path.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Patient", "id": "p1"}}, {"resource": bundle}],
            }
        ),
        encoding="utf-8",
    )
    result = read_paths([path])
    assert result.errors == [] and [x.data["id"] for x in result.records[0].resources] == ["c2"]
    assert_same_as_read_paths([path])


def test_a_resource_created_again_after_its_deletion_is_read(tmp_path):
    delete = {"request": {"method": "DELETE", "url": "http://example.org/fhir/Condition/c1"}}
    path = tmp_path / "h.json"
    path.write_text(json.dumps(_history(_version("c1", "3"), delete, _version("c1", "1", "POST"))), encoding="utf-8")
    result = read_paths([path])
    (record,) = result.records
    assert [x.data["meta"]["versionId"] for x in record.resources] == ["3"]
    assert_same_as_read_paths([path])


def test_a_delete_in_a_transaction_removes_nothing_it_does_not_list(tmp_path):
    # outside a history the order says nothing about versions: the entry is simply not a resource
    delete = {"request": {"method": "DELETE", "url": "Condition/c1"}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [delete, _version("c1", "1")]}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    assert [x.data["id"] for x in read_paths([path]).records[0].resources] == ["c1"]


# --- a logical reference: Reference.identifier alone (probe21 I-series, Epic-style) ---------------


@pytest.mark.parametrize(
    ("subject", "owner"),
    [
        ({"identifier": {"system": MRN, "value": "333"}}, "Patient/p1"),
        ({"type": "Patient", "identifier": {"value": "555"}}, "Patient/p2"),
        ({"identifier": {"system": MRN, "value": "999"}, "display": "nobody"}, None),  # no Patient carries it
        ({"type": "Practitioner", "identifier": {"value": "333"}}, None),  # not a Patient
    ],
)
def test_a_subject_by_identifier_alone_is_the_one_patient_carrying_it(tmp_path, subject, owner):
    condition = {"resourceType": "Condition", "id": "c1", "code": PN, "subject": subject}
    path = _write(tmp_path, _patient("p1", "333"), _patient("p2", "555"), condition)
    result = read_paths([path])
    assert {r.patient: [x.data["id"] for x in r.resources] for r in result.records} == {
        "Patient/p1": ["c1"] if owner == "Patient/p1" else [],
        "Patient/p2": ["c1"] if owner == "Patient/p2" else [],
    }
    assert len(result.errors) == (owner is None)
    assert_same_as_read_paths([path])


# --- a resource without id, sent under a RESTful fullUrl (probe22 R-patient-fullurl-phantom) --------


@pytest.mark.parametrize(
    ("full_url", "patients"),
    [
        ("https://ehr.example.org/fhir/Patient/p1", ["Patient/p1"]),  # the same Patient as "Patient/p1"
        ("urn:uuid:6a1e", ["Patient/p1", "urn:uuid:6a1e"]),  # a uuid names it on its own
        ("https://ehr.example.org/fhir/Patient/p1/_history/2", ["Patient/p1"]),  # versioned: the same one
    ],
)
def test_a_patient_without_id_is_the_one_its_restful_full_url_names(tmp_path, full_url, patients):
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": full_url, "resource": {"resourceType": "Patient", "birthDate": "1950-01-01"}},
            {"resource": _condition("c1", "Patient/p1")},
        ],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = read_paths([path])
    assert sorted(r.patient for r in result.records) == patients
    (record,) = [r for r in result.records if r.patient == "Patient/p1"]
    assert [x.data["id"] for x in record.resources] == ["c1"]
    assert (record.patient_resource or {}).get("birthDate") == ("1950-01-01" if len(patients) == 1 else None)
    assert_same_as_read_paths([path])


# --- probe81 D2: a refused Patient of a urn:uuid transaction (as Synthea writes) ---------------

TRANSACTION = Path(__file__).resolve().parents[2] / "sample_bundles" / "transaction-urn-uuid.json"


def _transaction(tmp_path: Path, patch: dict, *, without_id: bool = False) -> Path:
    bundle = json.loads(TRANSACTION.read_text(encoding="utf-8"))
    patient = bundle["entry"][0]["resource"]
    patient.update(patch)
    if without_id:
        del patient["id"]
    path = tmp_path / "txn.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "patch",
    [
        {"name": ["Urn Transaction"]},
        {"birthDate": "1969-02-14T10:00"},  # Synthea's birthDate with a time
        {"identifier": {"value": "TXN-PATIENT"}},
    ],
    ids=["name-string", "birthDate-time", "identifier-object"],
)
@pytest.mark.parametrize(
    ("without_id", "key"), [(False, "Patient/txn-patient"), (True, "urn:uuid:531fb843-5ff5-5321-9e85-17bebb2b9fda")]
)
def test_a_refused_patient_of_a_urn_transaction_keeps_its_resources(tmp_path, patch, without_id, key):
    # the subjects are the Patient's urn:uuid fullUrl: with the Patient refused, every other resource was
    # refused too as "subject 'urn:uuid:...' is not a Patient"; with plain ids the refusal cost nothing
    path = _transaction(tmp_path, patch, without_id=without_id)
    result = read_paths([path])
    assert [r.patient for r in result.records] == [key]
    assert len(result.records[0].resources) == 4 and result.records[0].patient_resource is None
    (error,) = result.errors
    assert error.message.startswith("refused: Patient.") and error.patient == key
    assert_same_as_read_paths([path])  # the spool (evaluate, sync --source), one process and two


def test_a_refused_patients_fullurl_is_still_one_resources_only(tmp_path):
    # the refused Patient's fullUrl given to another resource too: followed for neither, as for any
    bundle = json.loads(TRANSACTION.read_text(encoding="utf-8"))
    bundle["entry"][0]["resource"]["name"] = ["x"]
    bundle["entry"][1]["fullUrl"] = bundle["entry"][0]["fullUrl"]
    path = tmp_path / "txn.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = read_paths([path])
    assert any("fullUrl" in e.message and "not followed" in e.message for e in result.errors)
    assert_same_as_read_paths([path])
