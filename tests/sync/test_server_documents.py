"""Clinical notes from a server: DocumentReference is searched per patient where the CapabilityStatement lists
it, and a server that refuses it (HTTP 403: a deployment's scopes predate notes) costs the notes, not the run."""

from __future__ import annotations

import base64
import json
import urllib.parse

import responses

from poems_fhir.fhir.client import FhirClient
from poems_fhir.sync.permissions import READ_TYPES, scopes
from poems_fhir.sync.sources import ServerSource
from tests.fhir.transcripts import BASE
from tests.sync.test_server_source import _answer_empty, caps, empty_bundle

NOTE = {
    "resourceType": "DocumentReference",
    "id": "n1",
    "status": "current",
    "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}]},
    "subject": {"reference": "Patient/p-a"},
    "date": "2024-03-05",
    "content": [
        {
            "attachment": {
                "contentType": "text/plain",
                "data": base64.b64encode(b"Skin: hyperpigmentation. Bilateral leg edema.").decode(),
            }
        }
    ],
}
FORBIDDEN = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "forbidden", "diagnostics": "Forbidden"}],
}


def _serve_patient(pid: str = "p-a") -> None:
    _answer_empty(
        "Observation",
        "Condition",
        "Procedure",
        "DiagnosticReport",
        "MedicationStatement",
        "MedicationRequest",
        "MedicationAdministration",
    )
    responses.add("POST", f"{BASE}/Observation/_search", json=empty_bundle())
    responses.add("GET", f"{BASE}/Patient/{pid}", json={"resourceType": "Patient", "id": pid})


def _document_searches() -> list[dict[str, list[str]]]:
    return [
        urllib.parse.parse_qs(urllib.parse.urlsplit(c.request.url).query)
        for c in responses.calls
        if urllib.parse.urlsplit(c.request.url).path.endswith("/DocumentReference")
    ]


def _with_documents():
    c = caps()
    return caps(types=c.types | {"DocumentReference"})


@responses.activate
def test_notes_are_read_where_the_server_lists_document_reference(mapping):
    _serve_patient()
    page = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": NOTE}]}
    responses.add("GET", f"{BASE}/DocumentReference", json=page)
    record, errors = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, _with_documents()).fetch(
        "Patient/p-a"
    )
    assert not errors
    assert record is not None
    assert [r.ref for r in record.resources if r.data["resourceType"] == "DocumentReference"] == [
        "DocumentReference/n1"
    ]
    [query] = _document_searches()
    assert query["patient"] == ["p-a"]


@responses.activate
def test_a_server_without_document_reference_is_not_asked(mapping):
    _serve_patient()
    assert "DocumentReference" not in caps().types
    record, errors = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps()).fetch("Patient/p-a")
    assert record is not None and not errors
    assert _document_searches() == []


@responses.activate
def test_a_refused_document_search_costs_the_notes_once_not_the_run(mapping):
    _serve_patient("p-a")
    _serve_patient("p-b")
    responses.add("GET", f"{BASE}/DocumentReference", status=403, body=json.dumps(FORBIDDEN))
    source = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, _with_documents())
    record, errors = source.fetch("Patient/p-a")
    assert record is not None  # the patient is read without notes
    [error] = errors
    assert "HTTP 403" in error.message and "system/DocumentReference.read" in error.message
    assert error.patient == "Patient/p-a"
    # the next patient: not asked again, no second problem
    record, errors = source.fetch("Patient/p-b")
    assert record is not None and not errors
    assert len(_document_searches()) == 1


@responses.activate
def test_a_refused_note_page_adds_none_of_its_earlier_pages(mapping):
    # page 1 answers, page 2 is refused: the notes are read whole or not at all
    _serve_patient()
    first = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": NOTE}],
        "link": [{"relation": "next", "url": f"{BASE}/DocumentReference?patient=p-a&_count=200&_page=2"}],
    }
    responses.add(
        "GET",
        f"{BASE}/DocumentReference",
        json=first,
        match=[responses.matchers.query_param_matcher({"patient": "p-a", "_count": "200"})],
    )
    responses.add(
        "GET",
        f"{BASE}/DocumentReference",
        status=403,
        body=json.dumps(FORBIDDEN),
        match=[responses.matchers.query_param_matcher({"patient": "p-a", "_count": "200", "_page": "2"})],
    )
    record, errors = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, _with_documents()).fetch(
        "Patient/p-a"
    )
    assert record is not None
    assert not [r for r in record.resources if r.data["resourceType"] == "DocumentReference"]
    assert len(errors) == 1 and "HTTP 403" in errors[0].message


def test_the_least_privilege_names_document_reference_read_only() -> None:
    assert "DocumentReference" in READ_TYPES
    assert "system/DocumentReference.read" in scopes("write")
    assert "system/DocumentReference.write" not in scopes("write")


@responses.activate
def test_a_report_resting_on_notes_is_kept_when_the_notes_are_refused(mapping, tmp_path):
    """probe134 D5: a 403 on the notes search rewrote 8 of 10 reports from "Criteria met" to "Cannot be confirmed"
    (evaluated without the notes they rest on), and the next clean run wrote them back. A patient whose report cites
    notes fails instead - its report kept, retried next run; one whose report cites none is read without them."""
    import pytest

    from poems_fhir.errors import FatalNetworkError
    from poems_fhir.sync.state import StateStore

    store = StateStore(tmp_path / "state.sqlite")
    store.remember_inputs("srv", "Patient/p-a", {"DocumentReference/n1": "1"}, {"DocumentReference/n1"})
    store.remember_inputs("srv", "Patient/p-b", {"Observation/o1": "1"}, {"Observation/o1"})
    store.remember_inputs("srv", "Patient/p-c", {"DocumentReference/n9": "1"}, {"DocumentReference/n9"})
    _serve_patient("p-a")
    _serve_patient("p-b")
    _serve_patient("p-c")
    responses.add("GET", f"{BASE}/DocumentReference", status=403, body=json.dumps(FORBIDDEN))
    source = ServerSource(
        FhirClient(BASE, sleep=lambda s: None), mapping, _with_documents(), remembered=store.remembered("srv")
    )
    with pytest.raises(FatalNetworkError, match="rests on clinical notes") as failed:
        source.fetch("Patient/p-a")
    assert failed.value.status == 403
    record, errors = source.fetch("Patient/p-b")  # no notes behind its report: read without them
    assert record is not None and not errors  # (the refusal was said by p-a's failure)
    with pytest.raises(FatalNetworkError, match="rests on clinical notes"):
        source.fetch("Patient/p-c")  # refused earlier in the run: not asked again, still not downgraded
    assert len(_document_searches()) == 1
    store.close()
