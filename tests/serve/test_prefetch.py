"""One patient's record from prefetch + fallback (serve/prefetch.py): the notes key, which a server or the EHR
may refuse without costing the card, and the Binaries the record's url-only attachments name."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

import pytest
import responses

from poems_fhir.errors import AuthError, FatalNetworkError, PermissionDeniedError, TemporaryNetworkError
from poems_fhir.fhir.client import FhirClient
from poems_fhir.serve.prefetch import InsufficientData, Query, fetch_binaries, gather, queries
from poems_fhir.sync.attachments import BinaryFetcher
from poems_fhir.sync.sources import ServerSource
from tests.fhir.transcripts import BASE
from tests.sync.test_server_documents import _serve_patient, _with_documents

PID = "p-a"
PATIENT = {"resourceType": "Patient", "id": PID, "gender": "male"}
TEXT = "Ophthalmology: fundoscopy shows bilateral papilledema."


def note(rid: str = "n1", url: str | None = None, inline: str | None = None) -> dict[str, Any]:
    attachments = []
    if inline is not None:
        attachments.append({"contentType": "text/html", "data": base64.b64encode(inline.encode()).decode()})
    if url is not None:
        attachments.append({"contentType": "text/plain", "url": url})
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "subject": {"reference": f"Patient/{PID}"},
        "content": [{"attachment": a} for a in attachments],
    }


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def complete_prefetch(mapping, documents: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Every key answered (nothing recorded but the Patient), the notes key as given."""
    out: dict[str, Any] = {q.key: searchset() for q in queries(mapping)}
    out["patient"] = PATIENT
    out["documents"] = documents
    return out


def never(*args: Any) -> Any:
    raise AssertionError("nothing is to be read from the fhirServer")


@responses.activate
def test_the_notes_key_is_the_sync_jobs_document_search(mapping):
    (documents,) = [q for q in queries(mapping) if q.resource_type == "DocumentReference"]
    assert documents.key == "documents" and documents.refusable
    assert [q.key for q in queries(mapping) if q.refusable] == ["documents"]  # no other key may go unread
    _serve_patient(PID)
    responses.add("GET", f"{BASE}/DocumentReference", json=searchset())
    ServerSource(FhirClient(BASE, sleep=lambda s: None), mapping, _with_documents()).fetch(f"Patient/{PID}")
    [asked] = [c.request.url for c in responses.calls if "/DocumentReference" in c.request.url]
    sync_params = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(asked).query).items()}
    assert documents.search_params(PID) == sync_params


@pytest.mark.parametrize(
    "exc",
    [
        PermissionDeniedError("HTTP 403", status=403),
        FatalNetworkError("HTTP 404", status=404),
        FatalNetworkError("HTTP 400", status=400),
        FatalNetworkError("HTTP 405", status=405),
        FatalNetworkError("HTTP 501", status=501),
    ],
)
def test_a_refused_or_unsupported_note_search_leaves_the_notes_unread(mapping, exc):
    prefetch = complete_prefetch(mapping, None)

    def fetch(query: Query, patient_id: str) -> list[dict[str, Any]]:
        assert query.key == "documents"
        raise exc

    done = gather(PID, prefetch, queries(mapping), fetch, 1000)
    assert done.record is not None and done.refused == [("documents", exc.status)] and done.fetched == []
    [line] = done.not_read
    if exc.status == 403:  # the sync job's words (sync/sources.py notes_refused)
        assert line.startswith("DocumentReference search refused (HTTP 403): clinical notes are not read for this card")
    else:
        assert line == (
            f"DocumentReference search not supported by fhirServer (HTTP {exc.status}): clinical notes are not read "
            "for this card"
        )


@pytest.mark.parametrize(
    "exc",
    [
        AuthError("HTTP 401", status=401),
        TemporaryNetworkError("HTTP 503", status=503),
        FatalNetworkError("HTTP 422", status=422),
    ],
)
def test_any_other_failure_of_the_note_search_fails_the_call(mapping, exc):
    # controls: the token refused, an overloaded server, a malformed answer are no refusal of notes
    def fetch(query: Query, patient_id: str) -> list[dict[str, Any]]:
        raise exc

    with pytest.raises(type(exc)):
        gather(PID, complete_prefetch(mapping, None), queries(mapping), fetch, 1000)


def test_a_403_on_another_key_fails_the_call(mapping):
    # control: only notes may go unread; without the Conditions the card would call a criterion missing
    prefetch = complete_prefetch(mapping, searchset())
    del prefetch["conditions"]

    def fetch(query: Query, patient_id: str) -> list[dict[str, Any]]:
        raise PermissionDeniedError("HTTP 403", status=403)

    with pytest.raises(PermissionDeniedError):
        gather(PID, prefetch, queries(mapping), fetch, 1000)


@pytest.mark.parametrize("code", ["forbidden", "not-supported"])
@pytest.mark.parametrize("inside", [False, True])
def test_the_ehrs_prefetch_refusing_the_notes_is_taken_as_said(mapping, code, inside):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code}]}
    documents = searchset(outcome) if inside else outcome
    done = gather(PID, complete_prefetch(mapping, documents), queries(mapping), never, 1000)
    assert done.refused == [("documents", None)]
    assert done.not_read == [
        f"DocumentReference refused by the EHR's prefetch (OperationOutcome {code}): clinical notes are not read for "
        "this card"
    ]


@pytest.mark.parametrize(
    "issue",
    [
        {"severity": "error", "code": "processing"},  # a failure: read again
        {"severity": "warning", "code": "forbidden"},  # not an error
        {"severity": "error", "code": "too-costly"},
    ],
)
def test_another_outcome_in_place_of_the_notes_is_read_again_or_412(mapping, issue):
    documents = {"resourceType": "OperationOutcome", "issue": [issue]}
    with pytest.raises(InsufficientData):
        gather(PID, complete_prefetch(mapping, documents), queries(mapping), None, 1000)
    fetched: list[str] = []

    def fetch(query: Query, patient_id: str) -> list[dict[str, Any]]:
        fetched.append(query.key)
        return []

    done = gather(PID, complete_prefetch(mapping, documents), queries(mapping), fetch, 1000)
    assert fetched == ["documents"] and done.not_read == [] and done.refused == []


def test_a_forbidden_outcome_for_another_key_is_no_refusal(mapping):
    # control: the conditions may not go unread
    prefetch = complete_prefetch(mapping, searchset())
    prefetch["conditions"] = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}
    with pytest.raises(InsufficientData, match="conditions"):
        gather(PID, prefetch, queries(mapping), None, 1000)


class FakeFetcher:
    """The sync job's BinaryFetcher on a client that answers from a dict and records what it was asked."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.base_url = BASE
        self.answers, self.asked = answers, []

    def get(self, path: str) -> Any:
        self.asked.append(path)
        return self.answers[path]

    def __call__(self) -> BinaryFetcher:
        return BinaryFetcher(self, lenient=True)  # type: ignore[arg-type]


def _binary(text: str) -> dict[str, Any]:
    return {
        "resourceType": "Binary",
        "id": "b1",
        "contentType": "text/plain",
        "data": base64.b64encode(text.encode()).decode(),
    }


def _gathered(mapping, *documents: dict[str, Any], fetcher: FakeFetcher | None = None):  # type: ignore[no-untyped-def]
    binaries = None
    if fetcher is not None:

        def binaries(record, patient):  # type: ignore[no-untyped-def]
            return fetch_binaries(record, patient, BASE, fetcher)

    return gather(PID, complete_prefetch(mapping, searchset(*documents)), queries(mapping), never, 1000, binaries)


def _text_of(done) -> str:  # type: ignore[no-untyped-def]
    (raw,) = [r for r in done.record.resources if r.data["resourceType"] == "DocumentReference"]
    (attachment,) = [c["attachment"] for c in raw.data["content"] if "url" in c["attachment"]]
    return base64.b64decode(attachment.get("data", "")).decode()


def test_a_binary_of_the_fhir_server_is_fetched_into_the_note(mapping):
    fetcher = FakeFetcher({"Binary/b1": _binary(TEXT)})
    done = _gathered(mapping, note(url="Binary/b1"), fetcher=fetcher)
    assert fetcher.asked == ["Binary/b1"] and done.not_read == []
    assert _text_of(done) == TEXT


def test_a_binary_the_prefetch_carries_is_read_from_it_not_fetched(mapping):
    fetcher = FakeFetcher({})
    done = _gathered(mapping, note(url=f"{BASE}/Binary/b1"), _binary(TEXT), fetcher=fetcher)
    assert fetcher.asked == [] and done.not_read == [] and _text_of(done) == TEXT


def test_a_binary_the_prefetch_carries_but_cannot_be_read_is_said_once(mapping):
    image = {**_binary(TEXT), "contentType": "image/jpeg"}
    done = _gathered(mapping, note(url="Binary/b1"), image)  # no fhirServer
    assert done.not_read == [
        "DocumentReference/n1: Binary/b1: the Binary is image/jpeg, no text poems-fhir reads; its text is not read"
    ]


def test_a_note_with_an_inline_format_fetches_nothing(mapping):
    # control: a document in two formats is read from the one it holds (fhir/binaries.py text_slots)
    fetcher = FakeFetcher({})
    done = _gathered(mapping, note(url="Binary/b1", inline=f"<p>{TEXT}</p>"), fetcher=fetcher)
    assert fetcher.asked == [] and done.not_read == []


def test_url_only_attachments_not_fetched_are_each_listed(mapping):
    other = "https://elsewhere.example.org/fhir/Binary/b9"
    fetcher = FakeFetcher({"Binary/b1": {"resourceType": "OperationOutcome"}})
    done = _gathered(mapping, note("n1", url="Binary/b1"), note("n2", url=other), fetcher=fetcher)
    assert fetcher.asked == ["Binary/b1"]  # never the other host's
    assert done.not_read == [
        "DocumentReference/n1: Binary/b1: the answer is no Binary; its text is not read",
        f"DocumentReference/n2: {other} not fetched: it names no Binary of fhirServer (the token is sent to "
        "fhirServer only); its text is not read",
    ]
    without_server = _gathered(mapping, note("n1", url="Binary/b1"))
    assert without_server.not_read == [
        "DocumentReference/n1: Binary/b1 not fetched: the call names no fhirServer to fetch it from; its text is not "
        "read"
    ]
