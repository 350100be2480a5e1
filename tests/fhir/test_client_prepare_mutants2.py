"""The Content-Type the client puts on the wire. FHIR R4 (http.html#mime-type) names
application/fhir+json as the MIME type of a JSON resource, and the recorded Medplum exchanges
(tests/fixtures/fhir-server/08-conditional-update.json, 11-transaction.json) send exactly that on every
PUT/POST with a body; a request without a body has no Content-Type; a type the caller chose is kept."""

from __future__ import annotations

import json

import responses

from poems_fhir.fhir.client import FhirClient
from tests.fhir.transcripts import BASE, exchange

FHIR_JSON = "application/fhir+json"
REPORT = {"resourceType": "DiagnosticReport", "status": "preliminary", "code": {"text": "POEMS"}}


def client() -> FhirClient:
    return FhirClient(BASE, sleep=lambda s: None, clock=lambda: 1_800_000_000.0, rng=lambda: 0.5)


def test_the_recorded_writes_send_fhir_json():
    # the ground truth these tests hold the client to
    for name, index in (("08-conditional-update.json", 0), ("11-transaction.json", 0)):
        assert exchange(name, index)["request"]["headers"]["Content-Type"] == FHIR_JSON


@responses.activate
def test_a_put_with_a_resource_body_is_sent_as_fhir_json():
    url = f"{BASE}/DiagnosticReport?identifier=urn%3Aexample%3Apoems%7Cp1"
    responses.add("PUT", url, json={**REPORT, "id": "r1"}, status=201)
    client().request("PUT", "DiagnosticReport?identifier=urn%3Aexample%3Apoems%7Cp1", json=REPORT)
    sent = responses.calls[0].request
    assert sent.headers["Content-Type"] == FHIR_JSON
    assert json.loads(sent.body) == REPORT


@responses.activate
def test_a_transaction_is_posted_as_fhir_json():
    responses.add("POST", BASE, json={"resourceType": "Bundle", "type": "transaction-response", "entry": []})
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": REPORT, "request": {"method": "PUT", "url": "DiagnosticReport?identifier=s|v"}}],
    }
    client().transaction(bundle)
    assert responses.calls[0].request.headers["Content-Type"] == FHIR_JSON


@responses.activate
def test_a_read_without_a_body_has_no_content_type():
    responses.add("GET", f"{BASE}/Patient/1", json={"resourceType": "Patient", "id": "1"})
    client().get("Patient/1")
    sent = responses.calls[0].request
    assert "Content-Type" not in sent.headers
    assert sent.headers["Accept"] == FHIR_JSON


@responses.activate
def test_a_content_type_chosen_by_the_caller_is_kept():
    # FHIR PATCH with a JSON Patch document must say application/json-patch+json, not fhir+json
    responses.add("PATCH", f"{BASE}/Patient/1", json={"resourceType": "Patient", "id": "1"})
    patch = [{"op": "replace", "path": "/active", "value": True}]
    client().request("PATCH", "Patient/1", json=patch, headers={"Content-Type": "application/json-patch+json"})
    assert responses.calls[0].request.headers["Content-Type"] == "application/json-patch+json"
