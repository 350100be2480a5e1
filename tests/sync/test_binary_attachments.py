"""Text attachments a server gives by url (Epic- and Cerner-style: ``content[].attachment.url`` "Binary/…"):
fetched from the configured server only, put inline, then read as any inline attachment."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest
import responses

from poems_fhir.errors import TemporaryNetworkError
from poems_fhir.fhir.client import FhirClient
from poems_fhir.mapping.extract import extract
from poems_fhir.sync import attachments
from poems_fhir.sync.attachments import BinaryFetcher, binary_id
from poems_fhir.sync.sources import ServerSource
from tests.fhir.transcripts import BASE
from tests.mapping.pdf_files import pdf, scanned_pdf
from tests.sync.test_server_documents import FORBIDDEN, _serve_patient, _with_documents

CT_TEXT = "IMPRESSION: Splenomegaly (16 cm). Multiple sclerotic bone lesions of the pelvis."


def note(rid: str, url: str, content_type: str | None = "text/plain", patient: str = "p-a") -> dict:
    attachment = {"url": url}
    if content_type:
        attachment["contentType"] = content_type
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging study"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "date": "2024-03-05",
        "content": [{"attachment": attachment}],
    }


def binary(text: str, content_type: str = "text/plain") -> dict:
    return {"resourceType": "Binary", "contentType": content_type, "data": base64.b64encode(text.encode()).decode()}


def serve_notes(*resources: dict, patient: str = "p-a") -> None:
    page = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    responses.add(
        "GET",
        f"{BASE}/DocumentReference",
        json=page,
        match=[responses.matchers.query_param_matcher({"patient": patient, "_count": "200"})],
    )


def binary_requests() -> list[str]:
    return [urllib.parse.urlsplit(c.request.url).path for c in responses.calls if "/Binary/" in c.request.url]


def fetch(mapping, patient: str = "Patient/p-a", source: ServerSource | None = None):
    source = source or ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, _with_documents())
    return source, *source.fetch(patient)


def test_a_binary_is_named_by_a_relative_or_same_server_url_only() -> None:
    assert binary_id("Binary/b1", BASE) == "b1"
    assert binary_id(f"{BASE}/Binary/b1", BASE) == "b1"
    assert binary_id(f"{BASE}/Binary/b1/_history/3", BASE) == "b1"
    assert binary_id("https://elsewhere.example.org/fhir/Binary/b1", BASE) is None
    assert binary_id("Binary/../b1", BASE) is None
    assert binary_id("DocumentReference/d1", BASE) is None
    assert binary_id(None, BASE) is None


@responses.activate
def test_a_text_binary_by_url_is_fetched_and_read(mapping):
    _serve_patient()
    serve_notes(note("n1", "Binary/b1"), note("n2", f"{BASE}/Binary/b2", content_type=None))
    responses.add("GET", f"{BASE}/Binary/b1", json=binary(CT_TEXT))
    responses.add("GET", f"{BASE}/Binary/b2", json=binary("<p>Moderate ascites.</p>", "text/html"))
    _, record, errors = fetch(mapping)
    assert not errors and record is not None
    assert sorted(binary_requests()) == ["/fhir/R4/Binary/b1", "/fhir/R4/Binary/b2"]
    found = {(f.topic, f.evidence.reference) for f in extract(record, mapping).findings}
    assert ("organomegaly", "DocumentReference/n1") in found
    assert ("sclerotic_bone_lesions", "DocumentReference/n1") in found
    assert ("extravascular_volume_overload", "DocumentReference/n2") in found  # the Binary's own type, HTML


@responses.activate
def test_no_binary_of_another_host_nor_of_an_image_is_fetched(mapping):
    _serve_patient()
    serve_notes(
        note("n1", "https://elsewhere.example.org/fhir/Binary/b1"),
        note("n2", "Binary/b2", content_type="image/jpeg"),
    )
    _, record, errors = fetch(mapping)
    assert binary_requests() == []
    messages = [e.message for e in extract(record, mapping).errors]
    assert any("by url only" in m for m in messages)


@responses.activate
def test_a_report_presented_form_by_url_is_fetched_too(mapping):
    _serve_patient()
    responses.replace(
        "GET",
        f"{BASE}/DiagnosticReport",
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "DiagnosticReport",
                        "id": "r1",
                        "status": "final",
                        "category": [
                            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}
                        ],
                        "code": {"text": "CT abdomen"},
                        "subject": {"reference": "Patient/p-a"},
                        "effectiveDateTime": "2024-03-01",
                        "presentedForm": [{"contentType": "text/plain", "url": "Binary/r1-text"}],
                    }
                }
            ],
        },
    )
    responses.add("GET", f"{BASE}/Binary/r1-text", json=binary(CT_TEXT))
    source = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, _serve_caps_without_documents())
    _, record, errors = fetch(mapping, source=source)
    assert not errors
    found = {(f.topic, f.evidence.reference) for f in extract(record, mapping).findings}
    assert ("organomegaly", "DiagnosticReport/r1") in found


def _serve_caps_without_documents():
    from tests.sync.test_server_source import caps

    return caps()


@responses.activate
def test_a_missing_binary_is_a_problem_of_that_attachment_only(mapping):
    _serve_patient()
    serve_notes(note("n1", "Binary/gone"), note("n2", "Binary/b2"))
    responses.add("GET", f"{BASE}/Binary/gone", status=404, json={"resourceType": "OperationOutcome"})
    responses.add("GET", f"{BASE}/Binary/b2", json=binary(CT_TEXT))
    _, record, errors = fetch(mapping)
    [error] = errors
    assert "Binary/gone" in error.message and "HTTP 404" in error.message
    assert {f.evidence.reference for f in extract(record, mapping).findings} == {"DocumentReference/n2"}


@responses.activate
def test_a_refused_binary_stops_fetching_for_the_run(mapping):
    _serve_patient("p-a")
    _serve_patient("p-b")
    serve_notes(note("n1", "Binary/b1"), note("n2", "Binary/b2"))
    serve_notes(note("n3", "Binary/b3", patient="p-b"), patient="p-b")
    responses.add("GET", f"{BASE}/Binary/b1", status=403, body=json.dumps(FORBIDDEN))
    source, record, errors = fetch(mapping)
    assert record is not None
    [error] = errors
    assert "HTTP 403" in error.message and "system/Binary.read" in error.message
    _, record, errors = fetch(mapping, "Patient/p-b", source)
    assert record is not None and not errors
    assert binary_requests() == ["/fhir/R4/Binary/b1"]  # asked once


@responses.activate
def test_a_patients_fetches_are_bounded(mapping, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_FETCHED", 1)
    _serve_patient()
    serve_notes(note("n1", "Binary/b1"), note("n2", "Binary/b2"))
    responses.add("GET", f"{BASE}/Binary/b1", json=binary(CT_TEXT))
    _, record, errors = fetch(mapping)
    assert binary_requests() == ["/fhir/R4/Binary/b1"]
    [error] = errors
    assert "more than 1 attachments" in error.message and "Binary/b2" in error.message


@responses.activate
def test_a_temporary_failure_fails_the_patient_not_its_notes_silently(mapping):
    _serve_patient()
    serve_notes(note("n1", "Binary/b1"))
    responses.add("GET", f"{BASE}/Binary/b1", status=400, json={"resourceType": "OperationOutcome"})
    _, record, errors = fetch(mapping)
    assert len(errors) == 1 and "HTTP 400" in errors[0].message
    responses.replace("GET", f"{BASE}/Binary/b1", status=503)
    source = ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, _with_documents())
    with pytest.raises(TemporaryNetworkError):
        source.fetch("Patient/p-a")


def test_the_fetcher_leaves_inline_and_foreign_attachments_untouched() -> None:
    class NoClient:
        base_url = BASE

        def get(self, path):  # pragma: no cover - must not be called
            raise AssertionError(path)

    inline = note("n1", "Binary/b1")
    inline["content"][0]["attachment"]["data"] = base64.b64encode(b"Ascites.").decode()
    foreign = note("n2", "https://elsewhere.example.org/Binary/b2")
    resources = [(inline, "o1"), (foreign, "o2")]
    assert BinaryFetcher(NoClient()).inline(resources, "Patient/p-a") == []  # type: ignore[arg-type]
    assert resources == [(inline, "o1"), (foreign, "o2")]


@responses.activate
def test_of_a_documents_formats_only_the_most_readable_is_fetched(mapping):
    _serve_patient()
    doc = note("n1", "Binary/rtf1", content_type="text/rtf")
    doc["content"].append({"attachment": {"contentType": "text/html", "url": "Binary/html1"}})
    inline = note("n2", "Binary/rtf2", content_type="text/rtf")
    inline["content"].append(
        {"attachment": {"contentType": "text/plain", "data": base64.b64encode(b"Moderate ascites.").decode()}}
    )
    serve_notes(doc, inline)
    responses.add("GET", f"{BASE}/Binary/html1", json=binary(f"<p>{CT_TEXT}</p>", "text/html"))
    _, record, errors = fetch(mapping)
    assert not errors
    assert binary_requests() == ["/fhir/R4/Binary/html1"]  # not the RTF, nothing for the inline document
    topics = [(f.topic, f.evidence.reference) for f in extract(record, mapping).findings]
    assert topics.count(("organomegaly", "DocumentReference/n1")) == 1


@responses.activate
def test_a_documents_url_format_is_fetched_when_its_inline_one_cannot_be_read(mapping):
    """A scanned PDF inline beside its text as a Binary (or an inline text that is not base64): the Binary is
    fetched and read - before, any inline format meant no request, and the scan left every finding "no data". A
    document whose inline text reads needs no request (n3)."""
    _serve_patient()
    scan = note("n1", "Binary/t1")
    scan["content"].insert(
        0, {"attachment": {"contentType": "application/pdf", "data": base64.b64encode(scanned_pdf()).decode()}}
    )
    broken = note("n2", "Binary/t2")
    broken["content"].insert(0, {"attachment": {"contentType": "text/plain", "data": "not base64!"}})
    readable = note("n3", "Binary/t3", content_type="text/rtf")
    readable["content"].insert(
        0, {"attachment": {"contentType": "text/plain", "data": base64.b64encode(b"Moderate ascites.").decode()}}
    )
    serve_notes(scan, broken, readable)
    responses.add("GET", f"{BASE}/Binary/t1", json=binary(CT_TEXT))
    responses.add("GET", f"{BASE}/Binary/t2", json=binary("No ascites. Pericardial effusion."))
    _, record, errors = fetch(mapping)
    assert record is not None
    assert sorted(binary_requests()) == ["/fhir/R4/Binary/t1", "/fhir/R4/Binary/t2"]
    found = {(f.topic, f.evidence.reference) for f in extract(record, mapping).findings}
    assert ("sclerotic_bone_lesions", "DocumentReference/n1") in found
    assert ("extravascular_volume_overload", "DocumentReference/n2") in found
    assert ("extravascular_volume_overload", "DocumentReference/n3") in found  # its inline text


# ---------------------------------------------------------------- probe134


def test_a_notes_new_text_under_the_same_version_is_changed_input(tmp_path):
    """probe134 D1: a Binary's new content at the same url, its DocumentReference at the same version, left the
    patient "unchanged" and its report as it was. The fetched text's digest joins the resource's version."""
    from tests.sync.test_job_mutants12 import LookupServer, _record_of
    from tests.sync.test_job_write_mutants2 import job
    from poems_fhir.sync.state import StateStore

    fixture = Path(__file__).parents[1] / "fixtures" / "documents" / "classic-as-documents.json"

    def record_with(text: str, name: str):
        bundle = json.loads(fixture.read_text(encoding="utf-8"))
        for e in bundle["entry"]:
            r = e["resource"]
            r["meta"] = {"versionId": "1"}
            if r["id"] == "dc-ct-note":  # the text as the sync inlines a fetched Binary: url and data
                r["content"][0]["attachment"] = {
                    "contentType": "text/plain",
                    "url": "Binary/dc-ct-text",
                    "data": base64.b64encode(text.encode()).decode(),
                }
        path = tmp_path / name
        path.write_text(json.dumps(bundle), encoding="utf-8")
        return _record_of(path)

    store, server = StateStore(tmp_path / "s.sqlite"), LookupServer()
    patient = "Patient/doc-classic"
    first = job(store, server, {patient: record_with(CT_TEXT, "a.json")}).run()
    assert (first.written, first.failed) == (1, 0)
    same = job(store, server, {patient: record_with(CT_TEXT, "b.json")}).run()
    assert (same.unchanged, same.written) == (1, 0)
    changed = job(store, server, {patient: record_with("IMPRESSION: No bone lesions. Spleen normal.", "c.json")}).run()
    assert changed.unchanged == 0 and server.lookups == [patient, patient]


@responses.activate
def test_a_binary_that_says_it_is_no_text_is_not_read(mapping):
    """probe134 D3: a Binary whose own contentType is no text (then application/pdf; a PDF is read now) under an
    attachment saying text/plain was read as text; an octet-stream Binary (a server's default) keeps the attachment's
    type."""
    _serve_patient()
    serve_notes(note("n1", "Binary/pdf"), note("n2", "Binary/raw"))
    responses.add("GET", f"{BASE}/Binary/pdf", json=binary(CT_TEXT, "image/tiff"))
    responses.add("GET", f"{BASE}/Binary/raw", json=binary("Moderate ascites.", "application/octet-stream"))
    _, record, errors = fetch(mapping)
    [error] = errors
    assert "Binary/pdf" in error.message and "image/tiff" in error.message
    assert {f.evidence.reference for f in extract(record, mapping).findings} == {"DocumentReference/n2"}


@responses.activate
def test_a_pdf_binary_is_fetched_and_read_by_its_text_layer(mapping):
    """A pathology or imaging report as a PDF Binary (Epic's way): fetched, and read as its text layer."""
    _serve_patient()
    serve_notes(note("n1", "Binary/ctpdf", content_type="application/pdf"))
    body = base64.b64encode(pdf(["IMPRESSION:", "Multiple sclerotic bone lesions in the pelvis."])).decode()
    responses.add(
        "GET", f"{BASE}/Binary/ctpdf", json={"resourceType": "Binary", "contentType": "application/pdf", "data": body}
    )
    _, record, errors = fetch(mapping)
    assert errors == [] and binary_requests() == ["/fhir/R4/Binary/ctpdf"]
    found = {(f.topic, f.evidence.reference) for f in extract(record, mapping).findings}
    assert ("sclerotic_bone_lesions", "DocumentReference/n1") in found


@responses.activate
def test_a_versioned_url_reads_that_version(mapping):
    """probe134 D4: "Binary/b2/_history/1" was fetched as the current Binary/b2."""
    _serve_patient()
    serve_notes(note("n1", "Binary/b2/_history/1"))
    responses.add("GET", f"{BASE}/Binary/b2/_history/1", json={**binary(CT_TEXT), "id": "b2"})
    _, record, errors = fetch(mapping)
    assert not errors and binary_requests() == ["/fhir/R4/Binary/b2/_history/1"]


@responses.activate
def test_an_answer_that_is_another_binary_or_no_json_is_listed(mapping):
    """probe134 D6, D7: a Binary answer carrying another id was read as the note's; a login page answered 200 was
    "could not be fetched (HTTP 200)"."""
    _serve_patient()
    serve_notes(note("n1", "Binary/b1"), note("n2", "Binary/b2"))
    responses.add("GET", f"{BASE}/Binary/b1", json={**binary(CT_TEXT), "id": "other"})
    responses.add("GET", f"{BASE}/Binary/b2", body="<html><body>Sign in</body></html>", content_type="text/html")
    _, record, errors = fetch(mapping)
    messages = sorted(e.message for e in errors)
    assert len(messages) == 2
    assert "another Binary" in messages[0] and "Binary/b1" in messages[0]
    assert "no FHIR JSON" in messages[1] and "HTTP 200" not in messages[1]
    assert not extract(record, mapping).findings


@responses.activate
def test_one_binary_named_twice_is_fetched_once(mapping):
    """probe134 D8: a note and a report naming one Binary cost two requests."""
    _serve_patient()
    serve_notes(note("n1", "Binary/b7"))
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r7",
        "status": "final",
        "code": {"text": "CT abdomen"},
        "subject": {"reference": "Patient/p-a"},
        "presentedForm": [{"contentType": "text/plain", "url": "Binary/b7"}],
    }
    responses.replace(
        "GET",
        f"{BASE}/DiagnosticReport",
        json={"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": report}]},
    )
    responses.add("GET", f"{BASE}/Binary/b7", json=binary(CT_TEXT))
    _, record, errors = fetch(mapping)
    assert not errors and binary_requests() == ["/fhir/R4/Binary/b7"]


@responses.activate
def test_lenient_a_temporary_failure_is_that_attachments_problem_not_the_patients():
    # the CDS Hooks service's fetcher (serve/prefetch.py): a card now, with what was not read listed - the sync job
    # (above) fails the patient instead and retries it next run
    responses.add("GET", f"{BASE}/Binary/b1", status=503)
    responses.add("GET", f"{BASE}/Binary/b2", json=binary(CT_TEXT))
    fetcher = BinaryFetcher(FhirClient(BASE, sleep=lambda s: None), lenient=True)
    pairs = [(note("n1", "Binary/b1"), "DocumentReference/n1"), (note("n2", "Binary/b2"), "DocumentReference/n2")]
    [problem] = fetcher.inline(pairs, "Patient/p-a")
    assert problem.source == "DocumentReference/n1"
    assert problem.message == "Binary/b1: could not be fetched (HTTP 503); its text is not read"
    assert base64.b64decode(pairs[1][0]["content"][0]["attachment"]["data"]).decode() == CT_TEXT


@responses.activate
def test_lenient_fetching_stops_once_the_run_deadline_has_passed():
    from poems_fhir.fhir.http import Deadlines

    client = FhirClient(BASE, sleep=lambda s: None, deadlines=Deadlines(run=0.0))  # passed before the first request
    fetcher = BinaryFetcher(client, lenient=True)
    pairs = [(note("n1", "Binary/b1"), "DocumentReference/n1"), (note("n2", "Binary/b2"), "DocumentReference/n2")]
    [problem] = fetcher.inline(pairs, "Patient/p-a")
    assert problem.message == (
        "Binary/b1: not fetched: the deadline for reading the server passed, and no attachment after it is fetched; "
        "its text is not read"
    )
    assert binary_requests() == [] and fetcher.refused
    # not lenient (the sync job): the patient fails, retried next run
    with pytest.raises(TemporaryNetworkError):
        BinaryFetcher(client).inline([(note("n1", "Binary/b1"), "x")], "Patient/p-a")


@responses.activate
def test_a_refusal_is_said_in_the_fetchers_words():
    responses.add("GET", f"{BASE}/Binary/b1", status=403, body=json.dumps(FORBIDDEN))
    fetcher = BinaryFetcher(FhirClient(BASE, sleep=lambda s: None), when="for this card", grant="Binary.read")
    [problem] = fetcher.inline([(note("n1", "Binary/b1"), "DocumentReference/n1")], "Patient/p-a")
    assert "attachments given by url are not read for this card - grant Binary.read to read them" in problem.message
