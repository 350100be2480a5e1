"""probe138 G5 (fix139a), against a server: a note naming "Binary/gone" that the server answers 404 (or 410) for was
listed "Binary/gone: could not be fetched (HTTP 404); its text is not read" and, by the report path, "content[0]
.attachment text/plain by url only not read (…)". Both say now that the Binary is not on the server (404 not found,
410 deleted) and what to do - have the attachment corrected at the source, or give its text inline -; a report's
presentedForm likewise, listed once by the fetch where its conclusion is read.

Controls: any other 4xx stays "could not be fetched (HTTP 400)"; a note whose Binary is fetched lists nothing."""

from __future__ import annotations

import pytest
import responses

from poems_fhir.mapping.extract import extract
from tests.fhir.transcripts import BASE
from tests.sync.test_binary_attachments import CT_TEXT, binary, binary_requests, fetch, note, serve_notes
from tests.sync.test_server_documents import _serve_patient

WHAT_TO_DO = "have the attachment corrected at the source, or give its text inline"


def _report(rid: str, url: str, conclusion: str | None = None) -> dict:
    data = {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"text": "CT abdomen"},
        "subject": {"reference": "Patient/p-a"},
        "effectiveDateTime": "2024-03-01",
        "presentedForm": [{"contentType": "text/plain", "url": url}],
    }
    if conclusion:
        data["conclusion"] = conclusion
    return data


def _serve_reports(*reports: dict) -> None:
    page = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in reports]}
    responses.replace("GET", f"{BASE}/DiagnosticReport", json=page)


@responses.activate
@pytest.mark.parametrize(("status", "said"), [(404, "not found"), (410, "deleted")])
def test_a_binary_the_server_does_not_hold_says_so_and_what_to_do(mapping, status, said):
    _serve_patient()
    serve_notes(note("n1", "Binary/gone"))
    responses.add("GET", f"{BASE}/Binary/gone", status=status, json={"resourceType": "OperationOutcome"})
    _, record, errors = fetch(mapping)
    [error] = errors
    gone = f"the Binary named 'Binary/gone' is not on the server (HTTP {status}, {said})"
    assert gone in error.message and WHAT_TO_DO in error.message and "its text is not read" in error.message
    [listed] = [e.message for e in extract(record, mapping).errors if e.resource == "DocumentReference/n1"]
    assert f"content[0].attachment text/plain by url ({gone}" in listed and "by url only" not in listed


@responses.activate
def test_one_binary_named_by_two_urls_is_fetched_once_and_said_for_each(mapping):
    """Two reports naming one Binary, relative and absolute: one request, each report listed with why."""
    _serve_patient()
    serve_notes()
    _serve_reports(_report("r1", "Binary/gone"), _report("r2", f"{BASE}/Binary/gone"))
    responses.add("GET", f"{BASE}/Binary/gone", status=404, json={"resourceType": "OperationOutcome"})
    _, record, errors = fetch(mapping)
    assert len(binary_requests()) == 1 and len(errors) == 1
    listed = {e.resource: e.message for e in extract(record, mapping).errors}
    for ref in ("DiagnosticReport/r1", "DiagnosticReport/r2"):
        assert "by url (the Binary named 'Binary/gone' is not on the server (HTTP 404" in listed[ref], listed


@responses.activate
def test_a_reports_presented_form_is_said_where_it_is_listed_and_once(mapping):
    """Without text the report is listed with why; with a conclusion, the fetch's problem alone says it."""
    _serve_patient()
    serve_notes()
    _serve_reports(_report("r1", "Binary/r1-text"), _report("r2", "Binary/r2-text", conclusion="No splenomegaly."))
    for rid in ("r1", "r2"):
        responses.add("GET", f"{BASE}/Binary/{rid}-text", status=404, json={"resourceType": "OperationOutcome"})
    _, record, errors = fetch(mapping)
    assert len(errors) == 2 and all(WHAT_TO_DO in e.message for e in errors)
    listed = [e for e in extract(record, mapping).errors if e.resource and e.resource.startswith("DiagnosticReport")]
    [r1] = [e.message for e in listed if e.resource == "DiagnosticReport/r1"]
    assert "presentedForm[0] text/plain by url (the Binary named 'Binary/r1-text' is not on the server" in r1
    assert not [e for e in listed if e.resource == "DiagnosticReport/r2"]  # listed once: by the fetch


@responses.activate
def test_another_client_error_stays_as_it_was(mapping):
    """Control: a 400 is no missing Binary."""
    _serve_patient()
    serve_notes(note("n1", "Binary/bad"))
    responses.add("GET", f"{BASE}/Binary/bad", status=400, json={"resourceType": "OperationOutcome"})
    _, record, errors = fetch(mapping)
    [error] = errors
    assert "could not be fetched (HTTP 400)" in error.message and "not on the server" not in error.message
    [listed] = [e.message for e in extract(record, mapping).errors if e.resource == "DocumentReference/n1"]
    assert "by url only" in listed


@responses.activate
def test_a_fetched_binary_lists_nothing(mapping):
    """Control."""
    _serve_patient()
    serve_notes(note("n1", "Binary/b1"))
    responses.add("GET", f"{BASE}/Binary/b1", json=binary(CT_TEXT))
    _, record, errors = fetch(mapping)
    assert not errors
    assert not [e for e in extract(record, mapping).errors if e.resource == "DocumentReference/n1"]
