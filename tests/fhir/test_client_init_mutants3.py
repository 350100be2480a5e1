"""What a FhirClient built from its plain settings puts on the wire: the (connect, read) timeout pair
becomes requests' timeout and the wording of a timeout error; the User-Agent names poems-fhir (a server
operator reading the access log sees which tool sent the request)."""

from __future__ import annotations

import pytest

import requests
import responses

from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.http import describe
from tests.fhir.transcripts import BASE


def client(**kw) -> FhirClient:
    return FhirClient(BASE, sleep=lambda s: None, clock=lambda: 1_800_000_000.0, rng=lambda: 0.5, **kw)


@responses.activate
def test_the_timeout_pair_is_the_connect_and_read_timeout_of_every_request():
    responses.add("GET", f"{BASE}/metadata", json={"resourceType": "CapabilityStatement"})
    client(timeout=(3.0, 7.0)).request("GET", "metadata")
    connect, read = responses.calls[0].request.req_kwargs["timeout"]
    assert connect == 3.0
    assert 0 < read <= 7.0  # never more than the read timeout (less only when the exchange deadline is near)


def test_timeout_errors_name_the_configured_seconds():
    deadlines = client(timeout=(3.0, 7.0)).transport.deadlines
    assert "within 3 s" in describe(requests.ConnectTimeout("connect timed out"), deadlines)
    assert "for 7 s" in describe(requests.ReadTimeout("read timed out"), deadlines)


@responses.activate
def test_requests_say_they_come_from_poems_fhir():
    responses.add("GET", f"{BASE}/metadata", json={"resourceType": "CapabilityStatement"})
    client().request("GET", "metadata")
    sent = responses.calls[0].request.headers
    assert sent["User-Agent"] == "poems-fhir"
    assert sent["Accept"] == "application/fhir+json"


@pytest.mark.parametrize(
    "base", ["https://fhir.example.org/fhir?token=SECRETQ", "https://fhir.example.org/fhir#frag", "https://h/fhir?"]
)
def test_a_server_base_with_a_query_or_fragment_is_a_usage_error_that_does_not_echo_it(base):
    # probe43: sent as "GET /fhir?token=SECRETQ/metadata", exit 3, the value logged 17 times
    from poems_fhir.errors import ConfigError
    from poems_fhir.fhir.client import FhirClient

    with pytest.raises(ConfigError) as refused:
        FhirClient(base)
    message = str(refused.value)
    assert "has no query or fragment" in message
    assert "SECRETQ" not in message and "frag" not in message.split("cannot")[0]
