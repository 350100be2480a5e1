"""The bulk client replaying the recorded Medplum export (tests/fixtures/fhir-server/14-bulk-export.json):
202 + Content-Location, empty 202 polls without X-Progress or Retry-After, a plain-JSON manifest with
`requiresAccessToken: false` and a `request` without the '/' after the base, pre-signed download URLs
on the server's origin (fetched WITHOUT the token), then DELETE of the export."""

from __future__ import annotations

import re

import responses

from poems_fhir.fhir.auth import BearerAuth
from poems_fhir.fhir.bulk import BulkExporter, ExportRequest
from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.read import read_paths
from tests.fhir.transcripts import BASE, ORIGIN, exchange, fill, load, register

NAME = "14-bulk-export.json"
TOKEN = "recorded-token-5678"  # noqa: S105 - a test token


def _exporter(tmp_path, sleeps):
    client = FhirClient(BASE, BearerAuth(TOKEN), sleep=sleeps.append, rng=lambda: 1.0)
    return BulkExporter(client, tmp_path / "exp", sleep=sleeps.append, rng=lambda: 1.0)


def _register_downloads(rsps: responses.RequestsMock, index: int) -> str:
    body = exchange(NAME, index)["response"]["body"]
    rsps.add("GET", re.compile(re.escape(ORIGIN) + r"/storage/.*"), body=body, content_type="application/fhir+ndjson")
    return str(body)


@responses.activate
def test_recorded_patient_export_end_to_end(tmp_path):
    register(responses, NAME, 1)  # kick-off: 202 + Content-Location
    register(responses, NAME, 2)  # 202, empty body, no X-Progress, no Retry-After
    register(responses, NAME, 3)  # 200 + manifest
    body = _register_downloads(responses, 4)
    status_url = fill(exchange(NAME, 1)["response"]["headers"]["Content-Location"])
    responses.add("DELETE", status_url, status=202)  # not recorded: Medplum's answer assumed
    sleeps: list[float] = []
    result = _exporter(tmp_path, sleeps).run(ExportRequest.of("patient"))

    kick = responses.calls[0].request
    assert kick.url.startswith(f"{BASE}/Patient/$export?") and kick.headers["Prefer"] == "respond-async"
    assert kick.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sleeps == [1.0]  # one empty 202 and no Retry-After: our own backoff
    manifest = fill(exchange(NAME, 3)["response"]["body"])
    assert result.files == len(manifest["output"]) == 10 and result.error_count == 0
    assert result.transaction_time == manifest["transactionTime"]
    assert any("'/'" in note for note in result.notes)  # the recorded `request` without '/'
    downloads = [c.request for c in responses.calls if "/storage/" in c.request.url]
    assert len(downloads) == 10
    # requiresAccessToken false: pre-signed URLs, on the server's own origin, get no token
    assert not any("Authorization" in r.headers for r in downloads)
    assert [c.request.method for c in responses.calls][-1] == "DELETE" and result.deleted_on_server
    observations = result.data_dir / "00005.Observation.ndjson"
    assert observations.read_text() == body
    read = read_paths([observations])
    assert not read.errors and read.resources == 3


@responses.activate
def test_recorded_group_export_uses_the_group_path_and_its_manifest(tmp_path):
    register(responses, NAME, 5)
    register(responses, NAME, 6)
    register(responses, NAME, 7)
    _register_downloads(responses, 8)
    responses.add("DELETE", fill(exchange(NAME, 5)["response"]["headers"]["Content-Location"]), status=202)
    group = load(NAME)["exchanges"][5]["request"]["path"].split("/")[1]
    result = _exporter(tmp_path, []).run(ExportRequest.of(f"group:{group}"))
    assert responses.calls[0].request.url.startswith(f"{BASE}/Group/{group}/$export?")
    assert result.files == 8 and not any("'/'" in note for note in result.notes)  # this request is well formed


@responses.activate
def test_a_refused_presigned_download_says_what_to_do(tmp_path):
    register(responses, NAME, 1)
    register(responses, NAME, 3)
    refused = exchange(NAME, 12)["response"]  # 401 'Invalid signature' (text/html)
    responses.add(
        "GET",
        re.compile(re.escape(ORIGIN) + r"/storage/.*"),
        status=refused["status"],
        body=refused["body"],
        content_type=refused["headers"]["Content-Type"],
    )
    result = None
    try:
        result = _exporter(tmp_path, []).run(ExportRequest.of("patient"))
    except Exception as exc:  # noqa: BLE001 - asserted below
        error = exc
    assert result is None
    assert "HTTP 401" in str(error) and "pre-signed download URL was refused" in str(error)
    assert getattr(error, "exit_code", None) == 3
