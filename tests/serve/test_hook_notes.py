"""The patient-view hook reads what the sync job reads: the patient's clinical notes (DocumentReference, a prefetch
key, completed through fhirServer) and the text Binaries their attachments name by url (the prefetch's, else
fetched from fhirServer with the sync job's fetcher). A server that refuses notes costs the notes, not the card; a
Binary that cannot be fetched is a line on the card, not a failed hook."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
import responses as responses_lib
from starlette.testclient import TestClient

from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import DEFAULT_PROFILE, get_profile
from poems_fhir.fhir.auth import BearerAuth
from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.http import Deadlines
from poems_fhir.pipeline import evaluate_paths, evaluate_record
from poems_fhir.serve.app import create_app, default_client
from poems_fhir.sync.sources import ServerSource
from tests.conftest import SAMPLES
from tests.fhir.loopback import Loopback, respond
from tests.serve.helpers import NOW, RecordedServer, bundle_resources, hook_request, run_templates
from tests.serve.test_hook import SPEC_EXAMPLE, _captured_logs, post
from tests.sync.test_server_documents import FORBIDDEN, _with_documents

ORIGIN = SAMPLES / "origin-case" / "01-diagnosis-2019-02.json"
PID = "poems-origin"
#: a note stating or denying a finding (papilloedema: not assessed in the origin case at diagnosis)
NOTES = {
    "en-states": ("Ophthalmology: fundoscopy shows bilateral papilledema.", State.PRESENT),
    "en-denies": ("Ophthalmology: fundoscopy shows no papilledema.", State.ABSENT),
    "ru-states": ("Офтальмолог: на глазном дне двусторонний отёк дисков зрительных нервов.", State.PRESENT),
    "ru-denies": ("Офтальмолог: отёка дисков зрительных нервов нет.", State.ABSENT),
    "kk-states": ("Офтальмолог: көру нервісі дискісінің ісінуі анықталды.", State.PRESENT),
    "kk-denies": ("Офтальмолог: көру нервісі дискісінің ісінуі жоқ.", State.ABSENT),
}
HEADINGS = {State.PRESENT: "**Present**", State.ABSENT: "**Absent**"}


def note(text: str | None, patient: str = PID, rid: str = "n1", url: str | None = None) -> dict[str, Any]:
    """A progress note, its text inline (``text``) or given by ``url`` only."""
    attachment: dict[str, Any] = {"contentType": "text/plain"}
    if url is not None:
        attachment["url"] = url
    else:
        attachment["data"] = base64.b64encode(str(text).encode()).decode()
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "date": "2019-02-12T10:00:00Z",
        "content": [{"attachment": attachment}],
    }


def binary(text: str, rid: str = "b1") -> dict[str, Any]:
    return {
        "resourceType": "Binary",
        "id": rid,
        "contentType": "text/plain",
        "data": base64.b64encode(text.encode()).decode(),
    }


def section(detail: str, heading: str) -> str:
    """One section of a card's detail: from its heading to the blank line."""
    return detail.split(heading, 1)[1].split("\n\n", 1)[0] if heading in detail else ""


def papilloedema_on(card: dict[str, Any]) -> State | None:
    """Where the card lists papilloedema: under Present, under Absent, or nowhere."""
    for state, heading in HEADINGS.items():
        if "Papilloedema" in section(card["detail"], heading):
            return state
    return None


def evaluated(resources: list[dict[str, Any]], tmp_path: Path, mapping) -> State:  # type: ignore[no-untyped-def]
    """Papilloedema as `poems-fhir evaluate` finds it in a Bundle of these resources."""
    path = tmp_path / "bundle.json"
    entries = [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    (result,) = evaluate_paths([path], mapping, get_profile(DEFAULT_PROFILE)).results
    return result.assessment.criteria["papilledema"].state


def synced(server: RecordedServer, mapping) -> tuple[State, list[str]]:  # type: ignore[no-untyped-def]
    """Papilloedema as the sync job's server source reads the patient from the same server, and its problems."""
    source = ServerSource(FhirClient(server.base, sleep=lambda s: None), mapping, _with_documents())
    record, errors = source.fetch(f"Patient/{server.PID}")
    assert record is not None
    result = evaluate_record(record, mapping, get_profile(DEFAULT_PROFILE), None)
    return result.assessment.criteria["papilledema"].state, [e.message for e in errors]


def fallback_call(server: RecordedServer) -> dict[str, Any]:
    """A call with no prefetch: everything is read from the fhirServer."""
    return hook_request(
        server.PID, fhirServer=server.base, fhirAuthorization={"access_token": "tok-ehr", "token_type": "Bearer"}
    )


@pytest.fixture
def app_client(settings, mapping):  # type: ignore[no-untyped-def]
    app = create_app(settings, mapping=mapping, client_factory=quick_client, clock=lambda: float(NOW))
    with TestClient(app) as c:
        yield c


def quick_client(base: str, token: str, timeout: float) -> FhirClient:
    """The service's own client, without real waiting between retries."""
    client = default_client(base, token, timeout)
    client.transport.sleep = lambda s: None
    return client


def test_discovery_asks_for_the_notes_with_the_sync_jobs_search(client):
    (service,) = client.get("/cds-services").json()["services"]
    # sync/sources.py: DocumentReference?patient=<id>&_count=200, every status
    assert service["prefetch"]["documents"] == "DocumentReference?patient={{context.patientId}}&_count=200"
    assert "DocumentReference" in service["usageRequirements"] and "Binary" in service["usageRequirements"]


@pytest.mark.parametrize("variant", sorted(NOTES))
def test_a_note_in_the_prefetch_changes_the_card_as_it_changes_the_evaluation(client, ehr, mapping, tmp_path, variant):
    text, expected = NOTES[variant]
    resources = [*bundle_resources(ORIGIN), note(text)]
    assert evaluated(resources, tmp_path, mapping) is expected  # what `poems-fhir evaluate` says
    response = post(client, ehr, hook_request(PID, run_templates(resources, mapping, PID)))
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert papilloedema_on(card) is expected
    assert "**Not read" not in card["detail"]


def test_without_the_note_the_card_says_nothing_of_papilloedema(client, ehr, mapping, tmp_path):
    # control: the origin case alone leaves it unassessed, in the evaluation and on the card
    resources = bundle_resources(ORIGIN)
    assert evaluated(resources, tmp_path, mapping) is State.NOT_ASSESSED
    (card,) = post(client, ehr, hook_request(PID, run_templates(resources, mapping, PID))).json()["cards"]
    assert papilloedema_on(card) is None


def test_another_patients_note_in_the_prefetch_is_not_read(client, ehr, mapping):
    # control: the prefetch key holds only the context patient's notes; a stray one of another patient is not theirs
    prefetch = run_templates(bundle_resources(ORIGIN), mapping, PID)
    stray = note(NOTES["en-states"][0], patient="someone-else")
    prefetch["documents"]["entry"].append({"resource": stray, "search": {"mode": "match"}})
    prefetch["documents"]["total"] = 1
    (card,) = post(client, ehr, hook_request(PID, prefetch)).json()["cards"]
    assert papilloedema_on(card) is None


@pytest.mark.parametrize("variant", ["en-states", "en-denies", "ru-denies", "kk-states"])
def test_notes_and_their_binaries_are_fetched_from_fhir_server_as_the_sync_job_reads_them(
    app_client, ehr, mapping, variant
):
    text, expected = NOTES[variant]
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = RecordedServer(
            rsps,
            notes=[note(None, RecordedServer.PID, url="Binary/b1")],
            binaries={"b1": (200, binary(text))},
        )
        state, problems = synced(server, mapping)
        assert state is expected and problems == []  # the sync job reads the note through its Binary
        rsps.calls.reset()
        response = post(app_client, ehr, fallback_call(server))
        asked = server.requests(rsps.calls)
        sent = [c.request.headers.get("Authorization") for c in rsps.calls]
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert papilloedema_on(card) is expected
    assert "**Not read" not in card["detail"]
    assert "DocumentReference" in asked and asked[-1] == "Binary/b1"  # the Binary after the searches
    assert set(sent) == {"Bearer tok-ehr"}


def test_a_reports_text_given_by_url_is_fetched_too(app_client, ehr, mapping):
    # another resource type: a DiagnosticReport's presentedForm names its Binary (the sync job fetches it too)
    report = {
        "resourceType": "DiagnosticReport",
        "id": "ct1",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "CT"}]}],
        "code": {"text": "CT whole body, bone window"},
        "subject": {"reference": f"Patient/{RecordedServer.PID}"},
        "effectiveDateTime": "2019-02-14",
        "presentedForm": [{"contentType": "text/plain", "url": "Binary/ct"}],
    }
    text = "IMPRESSION: Multiple sclerotic bone lesions of the pelvis and spine."
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = RecordedServer(rsps, reports=[report], binaries={"ct": (200, binary(text, "ct"))})
        source = ServerSource(FhirClient(server.base, sleep=lambda s: None), mapping, _with_documents())
        record, errors = source.fetch(f"Patient/{server.PID}")
        assert record is not None and errors == []
        synced_state = evaluate_record(record, mapping, get_profile(DEFAULT_PROFILE), None).assessment.criteria[
            "sclerotic_bone_lesions"
        ]
        response = post(app_client, ehr, fallback_call(server))
    assert synced_state.state is State.PRESENT
    (card,) = response.json()["cards"]
    assert "Sclerotic bone lesions" in section(card["detail"], "**Present**")
    assert "**Not read" not in card["detail"]


def test_a_refused_note_search_costs_the_notes_not_the_card(app_client, ehr, mapping):
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = RecordedServer(
            rsps, notes=[note(NOTES["en-states"][0], RecordedServer.PID)], documents=(403, FORBIDDEN)
        )
        state, problems = synced(server, mapping)
        with _captured_logs() as logs:
            response = post(app_client, ehr, fallback_call(server))
    # the sync job: read on without notes, one problem in its words
    assert state is State.NOT_ASSESSED
    [problem] = problems
    assert problem.startswith("DocumentReference search refused (HTTP 403): clinical notes are not read in this run")
    # the service: a card, papilloedema unknown as for the sync job, and the card says why
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert papilloedema_on(card) is None
    not_read = section(card["detail"], "**Not read (could change the result)**")
    assert "DocumentReference search refused (HTTP 403): clinical notes are not read for this card" in not_read
    assert "DocumentReference.read" in not_read
    [logged] = [r for r in logs.records if getattr(r, "event", None) == "cds.documents_refused"]
    assert logged.fields["status"] == 403 and logged.fields["key"] == "documents"


@pytest.mark.parametrize("status", [404, 400, 501])
def test_a_server_without_document_reference_costs_the_notes_not_the_card(app_client, ehr, mapping, status):
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = RecordedServer(rsps, documents=(status, {}))
        server.documents = (status, server.not_found)  # Medplum's recorded OperationOutcome
        response = post(app_client, ehr, fallback_call(server))
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert f"DocumentReference search not supported by fhirServer (HTTP {status})" in card["detail"]


def test_a_note_search_that_fails_for_now_is_a_412_like_any_key(app_client, ehr, mapping):
    # control: an overloaded server (503, retried) is no refusal; the card is not computed from part of the record
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = RecordedServer(rsps, documents=(503, {"resourceType": "OperationOutcome"}))
        response = post(app_client, ehr, fallback_call(server))
    assert response.status_code == 412 and "HTTP 503" in response.json()["error"]


def test_the_ehrs_prefetch_refusing_notes_costs_the_notes_not_the_card(client, ehr, mapping):
    prefetch = run_templates(bundle_resources(ORIGIN), mapping, PID)
    prefetch["documents"] = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}
    response = post(client, ehr, hook_request(PID, prefetch))  # no fhirServer: nothing else to read
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert "DocumentReference refused by the EHR's prefetch (OperationOutcome forbidden)" in card["detail"]


def test_a_missing_notes_key_without_fhir_server_costs_the_notes_not_the_card(client, ehr, mapping):
    """An EHR registered before notes were a prefetch key sends no "documents" and may send no fhirServer: every
    call was a 412 until the EHR read the discovery again; now the card comes, saying the notes were not read."""
    prefetch = run_templates(bundle_resources(ORIGIN), mapping, PID)
    del prefetch["documents"]
    response = post(client, ehr, hook_request(PID, prefetch))
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    not_read = section(card["detail"], "**Not read (could change the result)**")
    assert "DocumentReference not in the prefetch (key 'documents') and no fhirServer to read it from" in not_read


def test_another_missing_key_without_fhir_server_is_still_a_412(client, ehr, mapping):
    # control: only the notes are optional; a card from a record without its Conditions would mislead
    prefetch = run_templates(bundle_resources(ORIGIN), mapping, PID)
    del prefetch["documents"], prefetch["conditions"]
    response = post(client, ehr, hook_request(PID, prefetch))
    assert response.status_code == 412 and "conditions" in response.json()["error"]
    assert "documents" not in response.json()["error"]


def test_a_binary_the_prefetch_carries_is_read_and_the_server_not_asked(client, ehr, mapping):
    prefetch = run_templates([*bundle_resources(ORIGIN), note(None, url="Binary/b1")], mapping, PID)
    prefetch["documents"]["entry"].append({"resource": binary(NOTES["en-states"][0]), "search": {"mode": "include"}})
    # a fhirServer the service may not use (plain http): asked, it would be a line on the card
    body = hook_request(
        PID, prefetch, fhirServer=SPEC_EXAMPLE["fhirServer"], fhirAuthorization=SPEC_EXAMPLE["fhirAuthorization"]
    )
    response = post(client, ehr, body)
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert papilloedema_on(card) is State.PRESENT and "**Not read" not in card["detail"]


def test_a_binary_by_url_without_fhir_server_is_listed(client, ehr, mapping):
    prefetch = run_templates([*bundle_resources(ORIGIN), note(None, url="Binary/b1")], mapping, PID)
    (card,) = post(client, ehr, hook_request(PID, prefetch)).json()["cards"]
    assert papilloedema_on(card) is None
    assert "DocumentReference/n1: Binary/b1 not fetched: the call names no fhirServer" in card["detail"]


def test_a_fhir_server_the_service_may_not_use_costs_the_binaries_not_the_card(client, ehr, mapping):
    # a complete prefetch: the plain-http fhirServer would be a 400 if a key were missing; for a Binary it is a line
    prefetch = run_templates([*bundle_resources(ORIGIN), note(None, url="Binary/b1")], mapping, PID)
    body = hook_request(
        PID, prefetch, fhirServer=SPEC_EXAMPLE["fhirServer"], fhirAuthorization=SPEC_EXAMPLE["fhirAuthorization"]
    )
    response = post(client, ehr, body)
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert "DocumentReference/n1: Binary/b1 not fetched: fhirServer must be an https URL" in card["detail"]


def test_a_binary_on_another_origin_is_never_fetched_with_the_token(settings, ehr, mapping):
    text = NOTES["en-states"][0]
    with Loopback(lifetime=20) as other, Loopback([respond(200, binary(text, "b2"))], lifetime=20) as ehr_server:
        base = f"{ehr_server.origin}/fhir"
        resources = [
            *bundle_resources(ORIGIN),
            note(None, rid="n1", url=f"{other.origin}/fhir/Binary/b1"),
            note(None, rid="n2", url=f"{base}/Binary/b2"),
        ]
        body = hook_request(
            PID,
            run_templates(resources, mapping, PID),
            fhirServer=base,
            fhirAuthorization={"access_token": "tok-only-for-the-ehr", "token_type": "Bearer"},
        )
        app = create_app(settings, mapping=mapping, client_factory=quick_client, clock=lambda: float(NOW))
        with TestClient(app) as c:
            response = post(c, ehr, body)
    assert response.status_code == 200
    assert other.connections == 0 and other.requests == []
    [asked] = ehr_server.requests
    assert asked.startswith(b"GET /fhir/Binary/b2 ") and b"Authorization: Bearer tok-only-for-the-ehr" in asked
    (card,) = response.json()["cards"]
    assert papilloedema_on(card) is State.PRESENT  # from the EHR's own Binary
    assert f"DocumentReference/n1: {other.origin}/fhir/Binary/b1 not fetched: it names no Binary of fhirServer" in (
        card["detail"].replace("\\", "")
    )


def test_a_binary_that_cannot_be_fetched_is_a_line_on_the_card_not_a_failed_hook(app_client, ehr, mapping):
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = RecordedServer(
            rsps,
            notes=[
                note(None, RecordedServer.PID, rid="n1", url="Binary/gone"),
                note(None, RecordedServer.PID, rid="n2", url="Binary/busy"),
                note(None, RecordedServer.PID, rid="n3", url="Binary/b3"),
            ],
            binaries={
                "busy": (503, {"resourceType": "OperationOutcome"}),
                "b3": (200, binary(NOTES["en-denies"][0], "b3")),
            },
        )
        response = post(app_client, ehr, fallback_call(server))
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    not_read = section(card["detail"], "**Not read (could change the result)**")
    # a 404 says the server does not hold it, and what to do (fix139a, probe138 G5)
    assert "DocumentReference/n1: the Binary named 'Binary/gone' is not on the server (HTTP 404, not found)" in not_read
    assert "DocumentReference/n2: Binary/busy: could not be fetched (HTTP 503); its text is not read" in not_read
    assert papilloedema_on(card) is State.ABSENT  # the one that was fetched is read


def test_a_refused_binary_is_said_once_for_this_card(app_client, ehr, mapping):
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        server = RecordedServer(
            rsps,
            notes=[
                note(None, RecordedServer.PID, rid="n1", url="Binary/b1"),
                note(None, RecordedServer.PID, rid="n2", url="Binary/b2"),
            ],
            binaries={"b1": (403, FORBIDDEN), "b2": (403, FORBIDDEN)},
        )
        response = post(app_client, ehr, fallback_call(server))
        asked = [p for p in server.requests(rsps.calls) if p.startswith("Binary/")]
    assert response.status_code == 200 and asked == ["Binary/b1"]
    (card,) = response.json()["cards"]
    assert "attachments given by url are not read for this card - grant Binary.read" in card["detail"]


def test_binaries_past_the_calls_deadline_are_listed_not_a_failed_hook(settings, ehr, mapping):
    def expired(base: str, token: str, timeout: float) -> FhirClient:
        # the whole call's reading time spent already: no request is sent any more
        return FhirClient(base, auth=BearerAuth(token), deadlines=Deadlines(run=0.0), sleep=lambda s: None)

    prefetch = run_templates(
        [*bundle_resources(ORIGIN), note(None, url="Binary/b1"), note(None, rid="n2", url="Binary/b2")], mapping, PID
    )
    body = hook_request(
        PID,
        prefetch,
        fhirServer="https://fhir.test.example/fhir/R4",
        fhirAuthorization={"access_token": "t", "token_type": "Bearer"},
    )
    app = create_app(settings, mapping=mapping, client_factory=expired, clock=lambda: float(NOW))
    with responses_lib.RequestsMock() as rsps, TestClient(app) as c:
        response = post(c, ehr, body)
        assert len(rsps.calls) == 0
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert "Binary/b1: not fetched: the deadline for reading the server passed" in card["detail"]


def test_the_complete_prefetch_of_a_record_without_url_attachments_never_touches_fhir_server(client, ehr, mapping):
    # control: notes with their text inline need no Binary; the plain-http fhirServer is never checked nor asked
    body = hook_request(
        PID,
        run_templates([*bundle_resources(ORIGIN), note(NOTES["en-states"][0])], mapping, PID),
        fhirServer=SPEC_EXAMPLE["fhirServer"],
        fhirAuthorization=copy.deepcopy(SPEC_EXAMPLE["fhirAuthorization"]),
    )
    response = post(client, ehr, body)
    assert response.status_code == 200 and "**Not read" not in response.json()["cards"][0]["detail"]


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Not read (could change the result)"), ("ru", "Не прочитано (может изменить результат)")],
)
def test_the_page_behind_the_card_repeats_its_not_read_lines(client, ehr, mapping, language, heading):
    """A clinician who opens the page from the card must not miss what the card said its record was read without."""
    prefetch = run_templates(bundle_resources(ORIGIN), mapping, PID)
    del prefetch["documents"]
    response = post(client, ehr, hook_request(PID, prefetch), **{"Accept-Language": language})
    (card,) = response.json()["cards"]
    page = client.get(card["links"][0]["url"].removeprefix("http://testserver")).text
    lines = page.split('<section id="not-read">', 1)[1].split("</section>", 1)[0]
    assert f"<h2>{heading}</h2>" in lines
    assert (
        "DocumentReference not in the prefetch (key &#x27;documents&#x27;) and no fhirServer to read it from" in lines
    )
    # before the classification it may change
    assert page.index('<section id="not-read">') < page.index('<section id="summary">')


def test_a_page_whose_card_read_everything_has_no_not_read_section(client, ehr, mapping):
    prefetch = run_templates(bundle_resources(ORIGIN), mapping, PID)
    response = post(client, ehr, hook_request(PID, prefetch))
    (card,) = response.json()["cards"]
    assert "**Not read" not in card["detail"]
    page = client.get(card["links"][0]["url"].removeprefix("http://testserver")).text
    assert 'id="not-read"' not in page and 'id="summary"' in page
