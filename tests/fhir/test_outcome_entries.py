"""probe103 D2 and A2: a searchset entry of mode 'outcome' is information about the search - an
OperationOutcome passed over -, and a clinical resource marked so was dropped without a word (a
polyneuropathy: `met` became `indeterminate`); a DELETE entry that also carries a resource (a Patient: the
patient left the output) too. Both are now listed; neither is read. Files (both readers) and server pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import responses

from poems_fhir.fhir.client import FhirClient, page_resources
from poems_fhir.fhir.read import read_paths, records_from_resources
from tests.fhir.test_spool import assert_same_as_read_paths
from tests.fhir.transcripts import BASE

PNP = {
    "resourceType": "Condition",
    "id": "pnp",
    "subject": {"reference": "Patient/p"},
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G62.9"}]},
}
PATIENT = {"resourceType": "Patient", "id": "p"}
OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}
MARKED = (
    "an entry of search.mode 'outcome' holds a Condition, not an OperationOutcome: whether it is a result of the "
    "search cannot be told, so it is not read - the server should mark results 'match' or 'include'"
)


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": list(entries)}


def _write(tmp_path: Path, bundle: dict[str, Any]) -> list[Path]:
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return [path]


def test_a_clinical_resource_marked_outcome_is_listed_not_read(tmp_path):
    paths = _write(
        tmp_path,
        _searchset(
            {"resource": PATIENT, "search": {"mode": "match"}},
            {"resource": PNP, "search": {"mode": "outcome"}},
            {"resource": OUTCOME, "search": {"mode": "outcome"}},
        ),
    )
    read = read_paths(paths)
    assert [sorted(r.ref for r in rec.resources) for rec in read.records] == [[]]  # the Patient alone
    assert [(e.source.rsplit("/", 1)[-1], e.message, e.resource) for e in read.errors] == [
        ("b.json#entry[1]", MARKED, "Condition/pnp")
    ]  # the OperationOutcome is passed over as before
    assert_same_as_read_paths(paths)


def test_a_delete_entry_carrying_a_resource_is_listed(tmp_path):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": PATIENT, "request": {"method": "DELETE", "url": "Patient/p"}},
            {"request": {"method": "DELETE", "url": "Condition/old"}},  # the usual form: nothing to say
            {
                "resource": {**PNP, "id": "c2", "subject": {"reference": "Patient/q"}},
                "request": {"method": "POST", "url": "Condition"},
            },
        ],
    }
    paths = _write(tmp_path, bundle)
    read = read_paths(paths)
    assert [(e.message, e.resource) for e in read.errors] == [
        ("a DELETE entry also carries a Patient: the entry deletes it, so it is not read", "Patient/p")
    ]
    assert_same_as_read_paths(paths)


def test_a_server_page_lists_a_resource_marked_outcome():
    page = _searchset(
        {"resource": PNP, "search": {"mode": "outcome"}}, {"resource": OUTCOME, "search": {"mode": "outcome"}}
    )
    got = list(page_resources(page))
    assert [dict(r) for r in got] == [{"resourceType": "Condition", "id": "pnp"}]  # the id only, never the content
    records, errors = records_from_resources([(r, f"{BASE}/Condition/pnp") for r in got] + [(PATIENT, "x")])
    assert [r.resources for r in records] == [[]]
    assert [(e.message, e.resource) for e in errors] == [(MARKED, "Condition/pnp")]


@responses.activate
def test_a_search_through_the_client_yields_the_listed_shell():
    page = _searchset(
        {"resource": PATIENT, "search": {"mode": "match"}}, {"resource": PNP, "search": {"mode": "outcome"}}
    )
    responses.add("GET", f"{BASE}/Condition", json=page)
    found = list(FhirClient(BASE, sleep=lambda s: None).search("Condition", {"patient": "p"}))
    assert [(r["resourceType"], getattr(r, "reason", None)) for r in found] == [
        ("Patient", None),
        ("Condition", MARKED),
    ]
