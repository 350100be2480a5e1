"""A Bundle's coded elements read as the codes a sender means, or listed (fix141a, probe140 D4, D8, D9, D13).

The reading layer compared codes raw: "Delete" was no deletion (D4: the deleted VEGF read as current, `met`), a
blank request.method was read as if the entry had none (D13), a searchset's OperationOutcome with severity "ERROR"
or code "Incomplete" did not say the search failed (D8), a Patient.link of type "Replaced_By" or "" was neither
merged nor listed (D9). Case, surrounding spaces and underscores are now forgiven (fhir/codes.py, as statuses are);
a value still no code of its value set is listed and its entry (or link) not read.

Controls: the codes as FHIR writes them read as before; "seealso"/"refer" links still merge nothing, silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from poems_fhir.fhir.read import ReadResult, read_paths

VEGF = {
    "resourceType": "Observation",
    "id": "vegf",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2024-01-12",
    "valueQuantity": {"value": 624, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
}
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male"}
URL = "https://ehr.example.org/fhir/Observation/vegf"


def read(tmp_path: Path, bundle: dict[str, Any]) -> ReadResult:
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    return read_paths([tmp_path])


def refs(result: ReadResult) -> list[str]:
    return sorted(r.ref for record in result.records for r in record.resources if r.ref)


def history(method: Any, btype: str = "history") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": btype,
        "entry": [
            {"resource": PATIENT},
            {"fullUrl": URL, "request": {"method": method, "url": "Observation/vegf"}, "response": {"status": "204"}},
            {"fullUrl": URL, "resource": VEGF, "request": {"method": "PUT", "url": "Observation/vegf"}},
        ],
    }


# --- D4: a deletion in a sender's spelling -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["DELETE", "Delete", "delete", " DELETE ", "Delete\n"])
def test_a_history_deletion_in_any_case_supersedes_the_older_version(tmp_path, method):
    result = read(tmp_path, history(method))
    assert refs(result) == []
    assert result.errors == []


@pytest.mark.parametrize("btype", ["History", " HISTORY "])
def test_a_history_bundle_type_in_a_senders_spelling_keeps_its_deletions(tmp_path, btype):
    result = read(tmp_path, history("DELETE", btype))
    assert refs(result) == []
    assert result.errors == []


@pytest.mark.parametrize("method", ["PUT", "Put", "post", "PATCH", "GET"])
def test_control_an_older_version_after_another_method_is_read(tmp_path, method):
    result = read(tmp_path, history(method))
    assert refs(result) == ["Observation/vegf"]
    assert result.errors == []


@pytest.mark.parametrize("method", ["Delete", "delete"])
def test_a_deletion_in_any_case_that_carries_a_resource_is_listed_and_not_read(tmp_path, method):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": PATIENT}, {"resource": VEGF, "request": {"method": method, "url": "Observation/vegf"}}],
    }
    result = read(tmp_path, bundle)
    assert refs(result) == []
    assert [e.resource for e in result.errors] == ["Observation/vegf"]


# --- D13: a blank or unknown method -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        {"method": "", "url": "Observation/vegf"},
        {"method": "REMOVE"},
        {"url": "Observation/vegf"},
        {"method": 3},
        "PUT",
    ],
)
def test_an_entry_whose_request_has_no_http_method_is_listed_and_not_read(tmp_path, request_):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": PATIENT}, {"resource": VEGF, "request": request_}],
    }
    result = read(tmp_path, bundle)
    assert refs(result) == []
    (error,) = result.errors
    assert error.resource == "Observation/vegf"
    assert "no HTTP method" in error.message and error.source.endswith("#entry[1]")


def test_control_an_entry_without_a_request_is_read(tmp_path):
    result = read(
        tmp_path, {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": PATIENT}, {"resource": VEGF}]}
    )
    assert refs(result) == ["Observation/vegf"]
    assert result.errors == []


# --- D8: a failed search in a sender's spelling ------------------------------------------------------------------


def searchset(severity: str, code: str) -> dict[str, Any]:
    outcome = {"resourceType": "OperationOutcome", "id": "oo", "issue": [{"severity": severity, "code": code}]}
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": PATIENT, "search": {"mode": "match"}},
            {"resource": VEGF, "search": {"mode": "match"}},
            {"resource": outcome, "search": {"mode": "outcome"}},
        ],
    }


@pytest.mark.parametrize(
    ("severity", "code"),
    [("ERROR", "processing"), ("Fatal", "processing"), (" error ", "processing"), ("warning", "Incomplete"),
     ("information", "TOO_COSTLY"), ("warning", " timeout ")],
)  # fmt: skip
def test_a_failed_or_incomplete_search_in_any_spelling_is_listed(tmp_path, severity, code):
    result = read(tmp_path, searchset(severity, code))
    assert refs(result) == ["Observation/vegf"]  # its entries are read, as before
    assert [e.message.startswith("the search this searchset came from failed") for e in result.errors] == [True]


@pytest.mark.parametrize(("severity", "code"), [("warning", "processing"), ("Information", "informational")])
def test_control_a_warning_of_a_complete_search_is_not_listed(tmp_path, severity, code):
    result = read(tmp_path, searchset(severity, code))
    assert refs(result) == ["Observation/vegf"]
    assert result.errors == []


def test_an_outcome_entry_mode_in_a_senders_spelling_is_an_outcome(tmp_path):
    # a Condition marked "Outcome" is no result of the search: listed and not read, as with "outcome"
    bundle = searchset("information", "informational")
    bundle["entry"][1]["search"] = {"mode": "Outcome"}
    result = read(tmp_path, bundle)
    assert refs(result) == []
    assert [e.resource for e in result.errors] == ["Observation/vegf"]


# --- D9: a Patient.link type in a sender's spelling --------------------------------------------------------------


def merged(link_type: Any) -> dict[str, Any]:
    old = {"resourceType": "Patient", "id": "old", "link": [{"other": {"reference": "Patient/p1"}, "type": link_type}]}
    moved = {**VEGF, "subject": {"reference": "Patient/old"}}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": old}, {"resource": PATIENT}, {"resource": moved}],
    }


def patients(result: ReadResult) -> dict[str, list[str]]:
    return {r.patient: [x.ref for x in r.resources] for r in result.records}


@pytest.mark.parametrize("link_type", ["replaced-by", "Replaced_By", "REPLACED-BY", " replaced by "])
def test_a_replaced_by_link_in_any_spelling_merges_the_records(tmp_path, link_type):
    result = read(tmp_path, merged(link_type))
    assert patients(result)["Patient/p1"] == ["Observation/vegf"]
    assert not any("no link type" in e.message for e in result.errors)


@pytest.mark.parametrize("link_type", ["", "  ", "replaced", "merged-into"])
def test_a_blank_or_unknown_link_type_is_listed_and_not_followed(tmp_path, link_type):
    result = read(tmp_path, merged(link_type))
    assert patients(result).get("Patient/p1") == []
    assert patients(result).get("Patient/old") == ["Observation/vegf"]
    (problem,) = [e for e in result.errors if "no link type" in e.message]
    assert problem.source == "Patient/old"


@pytest.mark.parametrize("link_type", ["seealso", "seeAlso", "refer"])
def test_control_a_see_also_or_refer_link_merges_nothing_and_is_not_listed(tmp_path, link_type):
    result = read(tmp_path, merged(link_type))
    assert patients(result).get("Patient/old") == ["Observation/vegf"]
    assert result.errors == []
