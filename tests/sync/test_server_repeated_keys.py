"""A key given twice in a server's answer (probe99 D1 held for files only): a search page's resource
that repeats a key is a listed skip, the others are read; any other answer is not used."""

from __future__ import annotations

import pytest
import responses

from poems_fhir.errors import TemporaryNetworkError
from poems_fhir.fhir.client import FhirClient
from poems_fhir.sync.sources import ServerSource
from tests.fhir.transcripts import BASE
from tests.sync.test_server_source import _answer_empty, caps, empty_bundle

MINE = '{"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p-a"}, "code": {"text": "x"}}'
# the second "subject" is another patient's: json.loads kept it, in silence, and the Condition was
# read as that patient's; the first would make it ours - which is meant cannot be told
TWICE = (
    '{"resourceType": "Condition", "id": "c2", "subject": {"reference": "Patient/p-a"}, '
    '"code": {"text": "polyneuropathy"}, "subject": {"reference": "Patient/p-b"}}'
)


def _page(*resources: str) -> str:
    return '{"resourceType": "Bundle", "type": "searchset", "entry": [%s]}' % ", ".join(
        '{"resource": %s}' % r for r in resources
    )


def _serve_patient(condition_page: str, patient: str = '{"resourceType": "Patient", "id": "p-a"}') -> None:
    _answer_empty(
        "Observation",
        "Procedure",
        "DiagnosticReport",
        "MedicationStatement",
        "MedicationRequest",
        "MedicationAdministration",
    )
    responses.add("POST", f"{BASE}/Observation/_search", json=empty_bundle())
    responses.add("GET", f"{BASE}/Condition", body=condition_page, content_type="application/fhir+json")
    responses.add("GET", f"{BASE}/Patient/p-a", body=patient, content_type="application/fhir+json")


@responses.activate
def test_a_search_pages_resource_with_a_repeated_key_is_a_listed_skip(mapping):
    _serve_patient(_page(MINE, TWICE))
    record, errors = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps()).fetch("Patient/p-a")
    assert record is not None
    assert [f"Condition/{r.data['id']}" for r in record.resources if r.data["resourceType"] == "Condition"] == [
        "Condition/c1"
    ]
    [error] = errors
    assert error.source == f"{BASE}/Condition/c2"
    assert "the key 'subject' is given twice in one JSON object, at the top level of Condition" in error.message
    assert error.message.endswith("this resource is skipped")


@responses.activate
def test_a_repeated_key_deeper_in_an_entry_refuses_that_entry_only(mapping):
    nested = TWICE.replace(', "subject": {"reference": "Patient/p-b"}}', ', "note": [{"text": "a", "text": "b"}]}')
    _serve_patient(_page(MINE, nested))
    record, errors = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps()).fetch("Patient/p-a")
    assert record is not None and len(errors) == 1
    assert "the key 'text' is given twice in one JSON object, in Condition.note[0]" in errors[0].message


@responses.activate
def test_a_page_whose_own_top_level_repeats_a_key_is_not_used(mapping):
    # two "entry" lists: which resources the page holds cannot be told
    page = _page(MINE)[:-1] + ', "entry": []}'
    _serve_patient(page)
    with pytest.raises(TemporaryNetworkError, match="the key 'entry' is given twice .* the answer is not used"):
        ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps()).fetch("Patient/p-a")


@responses.activate
def test_a_single_resource_answer_with_a_repeated_key_is_not_used():
    responses.add(
        "GET",
        f"{BASE}/DiagnosticReport/r1",
        body='{"resourceType": "DiagnosticReport", "id": "r1", "status": "preliminary", "status": "final"}',
        content_type="application/fhir+json",
    )
    client = FhirClient(BASE, sleep=lambda s: None)
    with pytest.raises(TemporaryNetworkError, match="the key 'status' is given twice"):
        client.get("DiagnosticReport/r1")


@responses.activate
def test_answers_without_a_repeated_key_are_read_as_they_are(mapping):
    # the same colons in strings and escaped keys are no repeat (the cheap count meets its slow check)
    text = MINE.replace('"x"', '"a: b \\u003a c"')
    _serve_patient(_page(text))
    record, errors = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, caps()).fetch("Patient/p-a")
    assert errors == [] and record is not None
    [condition] = [r for r in record.resources if r.data["resourceType"] == "Condition"]
    assert condition.data["code"]["text"] == "a: b : c"
