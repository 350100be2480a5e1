"""Replays of the recorded Medplum transcripts that no other test used: the conditional-update
lifecycle (201 with Location/ETag, 200 unchanged, 200 with an EMPTY body, 412 multiple matches),
If-None-Exist, _history and vread; the bulk export's facts (its replay through the bulk client is
tests/fhir/test_bulk_replay.py)."""

from __future__ import annotations

import json

import pytest
import responses
from responses.registries import OrderedRegistry

from poems_fhir.errors import TemporaryNetworkError, PreconditionFailedError
from poems_fhir.fhir.capabilities import Capabilities
from poems_fhir.fhir.client import FhirClient
from poems_fhir.sync.sinks import ServerSink
from tests.fhir.transcripts import BASE, ORIGIN, exchange, fill, load, register

UPDATE = "08-conditional-update.json"
URL = "DiagnosticReport?identifier=urn:example:poems|p1"
V1, V2 = "81d2cc43-dc45-436f-8d45-29d709ee2790", "7b2965d0-bdde-49a8-b7de-d74ea504b946"
REPORT_ID = "0e3b7b16-1d13-469c-af52-987adfe32748"


def sink(client: FhirClient) -> ServerSink:
    caps = Capabilities(fhir_version="4.0.1", last_updated=True, conditional_update=True, transaction=False)
    return ServerSink(client, caps)


def one_entry(index: int) -> dict:
    body = fill(exchange(UPDATE, index)["request"]["body"])
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"fullUrl": "urn:uuid:r", "resource": body, "request": {"method": "PUT", "url": URL}}],
    }


@responses.activate(registry=OrderedRegistry)
def test_conditional_update_lifecycle_through_the_sink():
    for i in (0, 1, 2):
        register(responses, UPDATE, i)
    s = sink(FhirClient(BASE, sleep=lambda _: None))
    created = s.write("Patient/p", one_entry(0))  # 201, Location + ETag
    same = s.write("Patient/p", one_entry(1))  # 200, no new version
    changed = s.write("Patient/p", one_entry(2))  # 200, new version
    key = "urn:example:poems|p1"
    assert created[key] == {"ref": f"DiagnosticReport/{REPORT_ID}", "version": V1}
    assert same[key] == created[key]  # unchanged is only visible as the same versionId
    assert changed[key] == {"ref": f"DiagnosticReport/{REPORT_ID}", "version": V2}


@responses.activate(registry=OrderedRegistry)
def test_an_empty_body_200_keeps_the_version_from_the_etag_and_finds_the_id():
    # Prefer: return=minimal -> 200, empty body, ETag but no Location: the id must not become ""
    register(responses, UPDATE, 3)
    current = fill(exchange(UPDATE, 2)["response"]["body"])
    responses.add(
        "GET",
        f"{BASE}/DiagnosticReport",
        json={"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": current}]},
    )
    written = sink(FhirClient(BASE, sleep=lambda _: None)).write("Patient/p", one_entry(3))
    assert written["urn:example:poems|p1"] == {"ref": f"DiagnosticReport/{REPORT_ID}", "version": V2}


@responses.activate
def test_412_multiple_matches_is_a_precondition_error_not_retried():
    register(responses, UPDATE, 6)
    sleeps: list[float] = []
    client = FhirClient(BASE, sleep=sleeps.append)
    with pytest.raises(PreconditionFailedError, match="412.*multiple-matches|412.*Multiple") as err:
        sink(client).write("Patient/p", one_entry(6))
    assert err.value.status == 412 and sleeps == [] and len(responses.calls) == 1


@responses.activate(registry=OrderedRegistry)
def test_if_none_exist_returns_the_existing_resource_unchanged():
    for i in (0, 1):
        register(responses, "09-if-none-exist.json", i)
    client = FhirClient(BASE, sleep=lambda _: None)
    first = fill(exchange("09-if-none-exist.json", 0)["request"]["body"])
    second = fill(exchange("09-if-none-exist.json", 1)["request"]["body"])
    header = {"If-None-Exist": "identifier=urn:example:poems:obs|flcr-2019-02-11"}
    created = client.request("POST", "Observation", json=first, headers=header)
    again = client.request("POST", "Observation", json=second, headers=header)
    assert (created.status_code, again.status_code) == (201, 200)
    assert created.headers["Location"].startswith(f"{BASE}/Observation/") and created.headers["ETag"].startswith('W/"')
    # If-None-Exist never updates: the stored value stays, whatever we sent the second time
    assert again.json()["id"] == created.json()["id"]
    assert again.json()["valueQuantity"] == created.json()["valueQuantity"] != second["valueQuantity"]


@responses.activate
def test_history_bundle_newest_first_and_vread():
    register(responses, "15-history.json", 0)
    register(responses, "15-history.json", 1)
    client = FhirClient(BASE, sleep=lambda _: None)
    pages = list(client.search_pages(f"DiagnosticReport/{REPORT_ID}/_history"))
    assert len(pages) == 1 and pages[0]["type"] == "history" and pages[0]["total"] == 2
    versions = [r["meta"]["versionId"] for r in client.search(f"DiagnosticReport/{REPORT_ID}/_history")]
    assert versions == [V2, V1]  # 5 successful PUTs in 08 made 2 versions, newest first
    response = client.request("GET", f"DiagnosticReport/{REPORT_ID}/_history/{V1}")
    assert response.headers["ETag"] == f'W/"{V1}"' and client.json(response)["status"] == "preliminary"


# --- bulk export: the recording's facts (replayed through fhir/bulk.py in test_bulk_replay.py) ----


def test_bulk_export_recording_facts_a_bulk_client_must_respect():
    ex = load("14-bulk-export.json")["exchanges"]
    kick = ex[1]["response"]
    assert kick["status"] == 202
    assert kick["headers"]["Content-Location"].startswith("{BASE}/bulkdata/export/")
    polls = [e["response"] for e in ex[2:4]]
    assert polls[0]["status"] == 202 and polls[0]["body"] is None  # no X-Progress, no Retry-After
    assert "Retry-After" not in polls[0]["headers"] and "X-Progress" not in polls[0]["headers"]
    manifest = polls[1]["body"]
    assert polls[1]["status"] == 200 and manifest["requiresAccessToken"] is False
    assert all(o["url"].startswith("{ORIGIN}/storage/") for o in manifest["output"])
    line = json.loads(ex[4]["response"]["body"].splitlines()[0])
    assert line["resourceType"] == "Observation" and line["meta"]["versionId"]
    assert [e["response"]["status"] for e in ex[12:14]] == [401, 401]  # bad / missing signature


@responses.activate
def test_a_202_empty_poll_is_not_mistaken_for_fhir_json():
    # an empty 202 body is refused (the network edge reads it as a body cut short), never parsed into something
    responses.add("GET", f"{BASE}/bulkdata/export/x", status=202, body=b"")
    client = FhirClient(BASE, sleep=lambda _: None)
    response = client.request("GET", "bulkdata/export/x")
    assert response.status_code == 202 and response.content == b""
    with pytest.raises(TemporaryNetworkError, match="JSON body is incomplete"):
        client.json(response)
    assert ORIGIN in BASE
