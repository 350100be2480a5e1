"""Client rules a one-token bug would break unnoticed (README "HTTP behaviour"): URLs are built from
the base without doubled slashes, the origin rule refuses with a message that names the URL and the
foreign origin, Basic credentials are sent, GET/HEAD/PUT/DELETE are retried by default and a plain POST
is not, each request re-authorises once, and a run-deadline stop names the request."""

from __future__ import annotations

import base64

import pytest
import responses
from responses.registries import OrderedRegistry

from poems_fhir.errors import ForeignHostError, RunDeadlineError, TemporaryNetworkError
from poems_fhir.fhir.auth import Auth, BasicAuth
from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.http import Deadlines
from tests.fhir.transcripts import BASE, ORIGIN

PATIENT = {"resourceType": "Patient", "id": "1"}


def client(**kw) -> tuple[FhirClient, list[float]]:
    sleeps: list[float] = []
    return FhirClient(BASE, sleep=sleeps.append, clock=lambda: 1_800_000_000.0, rng=lambda: 0.5, **kw), sleeps


# ------------------------------------------------------------------ URLs


@responses.activate
def test_a_base_url_with_a_trailing_slash_gives_single_slash_urls():
    c = FhirClient(BASE + "/")
    assert c.base_url == BASE
    responses.add("GET", f"{BASE}/Patient/1", json=PATIENT)
    assert c.get("Patient/1") == PATIENT
    assert responses.calls[0].request.url == f"{BASE}/Patient/1"


@pytest.mark.parametrize("path", ["Patient/1", "/Patient/1", "//Patient/1"])
def test_a_relative_path_joins_the_base_with_one_slash(path):
    c, _ = client()
    assert c.url(path) == f"{BASE}/Patient/1"


def test_an_empty_path_is_the_base_itself():
    c, _ = client()
    assert c.url("") == BASE


# ------------------------------------------------------------------ origin rule


def test_a_url_requests_cannot_prepare_is_refused_with_its_reason():
    # urllib accepts the empty first label, requests refuses to prepare it: nothing may be sent
    c, _ = client()
    bad = "https://.example/fhir/R4/Patient/1"
    with pytest.raises(ForeignHostError) as info:
        c.check_origin(bad)
    assert str(info.value) == (
        f"refusing {bad}: it cannot be parsed; credentials go only to the configured server "
        f"https://fhir.test.example:443, so nothing was sent. If the server is behind a proxy, configure "
        "--server with the URL the server uses in its links."
    )
    assert info.value.url == bad


def test_a_foreign_host_is_refused_naming_the_origin_it_points_at():
    c, _ = client()
    other = "https://other.example:8443/fhir/R4/Patient?_count=1"
    with pytest.raises(ForeignHostError) as info:
        c.check_origin(other)
    assert str(info.value) == (
        f"refusing {other}: it points at https://other.example:8443; credentials go only to the configured "
        "server https://fhir.test.example:443, so nothing was sent. If the server is behind a proxy, "
        "configure --server with the URL the server uses in its links."
    )
    assert info.value.url == other


def test_the_refused_url_is_shown_without_user_info():
    c, _ = client()
    with pytest.raises(ForeignHostError) as info:
        c.check_origin("https://user:secret@fhir.test.example/fhir/R4/Patient")
    assert info.value.url == "https://<user-info>@fhir.test.example/fhir/R4/Patient"
    assert "secret" not in str(info.value)


# ------------------------------------------------------------------ credentials


@responses.activate
def test_basic_credentials_are_sent():
    responses.add("GET", f"{BASE}/Patient/1", json=PATIENT)
    c, _ = client(auth=BasicAuth("poems", "s3cret"))
    c.get("Patient/1")
    expected = "Basic " + base64.b64encode(b"poems:s3cret").decode()
    assert responses.calls[0].request.headers["Authorization"] == expected


class _Refreshing(Auth):
    name = "test"

    def __init__(self) -> None:
        self.refreshed = 0

    def refresh(self) -> bool:
        self.refreshed += 1
        return True


@responses.activate(registry=OrderedRegistry)
def test_every_request_may_reauthorise_once_and_each_is_counted():
    for _ in range(2):
        responses.add("GET", f"{BASE}/Patient/1", status=401)
        responses.add("GET", f"{BASE}/Patient/1", json=PATIENT)
    auth = _Refreshing()
    c, sleeps = client(auth=auth)
    assert c.get("Patient/1") == PATIENT
    assert c.get("Patient/1") == PATIENT
    assert auth.refreshed == 2 and c.stats.reauths == 2 and sleeps == []


# ------------------------------------------------------------------ retries by method


@responses.activate(registry=OrderedRegistry)
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_idempotent_methods_are_retried_by_default(method):
    url = f"{BASE}/DiagnosticReport/r1"
    responses.add(method, url, status=503)
    if method == "HEAD":  # a HEAD answer has no body
        responses.add(method, url, status=200)
    else:
        responses.add(method, url, status=200, json={"resourceType": "DiagnosticReport", "id": "r1"})
    c, sleeps = client()
    body = {"resourceType": "DiagnosticReport", "id": "r1"} if method == "PUT" else None
    assert c.request(method, "DiagnosticReport/r1", json=body).status_code == 200
    assert len(responses.calls) == 2 and sleeps == [0.75]


@responses.activate(registry=OrderedRegistry)
def test_a_plain_post_is_not_retried_by_default():
    responses.add("POST", f"{BASE}/Provenance", status=503)
    responses.add("POST", f"{BASE}/Provenance", status=201, json={"resourceType": "Provenance", "id": "p"})
    c, sleeps = client()
    with pytest.raises(TemporaryNetworkError):
        c.request("POST", "Provenance", json={"resourceType": "Provenance"})
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_a_retry_wait_past_the_run_deadline_names_the_request():
    responses.add("GET", f"{BASE}/Patient/1", status=503, headers={"Retry-After": "120"})
    c, sleeps = client(monotonic=lambda: 0.0, deadlines=Deadlines(run=60.0))
    c.transport.start_run()
    with pytest.raises(RunDeadlineError) as info:
        c.get("Patient/1")
    assert str(info.value).startswith(
        f"GET {BASE}/Patient/1: not sent, waiting 120 s to retry would pass the run deadline (60 s, --run-deadline)"
    )
    assert sleeps == [] and ORIGIN in str(info.value)
