"""Faults over real sockets on 127.0.0.1: URLs that would reach another socket, bodies cut short,
resets, slow drips. Sleep and the monotonic clock are patched; nothing waits for real."""

from __future__ import annotations

import base64

import pytest
import requests

from poems_fhir.errors import (
    ConfigError,
    DeadlineExceededError,
    ForeignHostError,
    TemporaryNetworkError,
)
from poems_fhir.fhir.auth import BasicAuth, BearerAuth, ClientCredentialsAuth
from poems_fhir.fhir.client import FhirClient, RetryPolicy
from poems_fhir.fhir.http import Deadlines
from tests.fhir.loopback import FakeClock, Loopback, chunked_cut, cut_short, drip, reset, respond

PATIENT = {"resourceType": "Patient", "id": "p1"}
SECRET = "s3cret-Value-42"


def bundle_with_next(next_url: str) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "next", "url": next_url}],
        "entry": [{"resource": {"resourceType": "Observation", "id": "o1"}}],
    }


def make_client(server: Loopback, **kw) -> tuple[FhirClient, list[float]]:
    sleeps: list[float] = []
    kw.setdefault("monotonic", FakeClock())
    return FhirClient(f"{server.origin}/fhir/R4", sleep=sleeps.append, rng=lambda: 1.0, **kw), sleeps


def ambiguous_links(fhir: Loopback, other: Loopback) -> list[str]:
    a, b = fhir.port, other.port
    return [
        # urlsplit: host 127.0.0.1:a (same origin); urllib3/requests: connects to 127.0.0.1:b
        f"http://127.0.0.1:{b}\\@127.0.0.1:{a}/fhir/R4/Observation?page=2",
        # user-info that names the other host as a "user"
        f"http://127.0.0.1:{a}@127.0.0.1:{b}/fhir/R4/Observation?page=2",
        # user-info on our own origin: never sent (requests would turn it into Basic credentials)
        f"http://user:pw@127.0.0.1:{a}/fhir/R4/Observation?page=2",
        # whitespace / tab in the authority
        f"http://127.0.0.1:{b}\t@127.0.0.1:{a}/fhir/R4/Observation?page=2",
    ]


def test_the_backslash_link_really_reaches_the_other_host_when_sent_naively():
    """Control: the attack URL is real - plain requests sends it, with credentials, to the other socket."""
    with Loopback([respond(200, PATIENT)]) as other, Loopback() as fhir:
        url = ambiguous_links(fhir, other)[0]
        requests.get(url, auth=("client", SECRET), timeout=5)
    assert other.connections == 1 and len(other.requests) == 1
    assert base64.b64encode(f"client:{SECRET}".encode()) in other.requests[0]


@pytest.mark.parametrize("auth", [BearerAuth(SECRET), BasicAuth("client", SECRET)], ids=["bearer", "basic"])
@pytest.mark.parametrize("which", range(4))
def test_ambiguous_next_links_are_refused_and_the_other_host_receives_nothing(auth, which):
    with Loopback(lifetime=10) as other:
        fhir = Loopback(lifetime=10)
        link = ambiguous_links(fhir, other)[which]
        fhir.steps.append(respond(200, bundle_with_next(link)))
        client, _ = make_client(fhir, auth=auth)
        with pytest.raises(ForeignHostError, match="nothing was sent") as exc:
            list(client.search("Observation", {"patient": "p1"}))
        fhir.close()
    assert SECRET not in str(exc.value)
    assert other.connections == 0 and other.requests == []  # not even a TCP connection
    assert len(fhir.requests) == 1  # only the first page


def test_a_redirect_to_another_port_is_not_followed():
    with Loopback() as other, Loopback() as fhir:
        fhir.steps.append(respond(302, b"", {"Location": f"{other.origin}/fhir/R4/metadata"}))
        client, _ = make_client(fhir, auth=BearerAuth(SECRET))
        with pytest.raises(Exception, match="redirected"):
            client.get("metadata")
    assert other.connections == 0


def test_an_advertised_token_endpoint_with_a_backslash_gets_no_secret():
    with Loopback() as other, Loopback() as fhir:
        bad = f"http://127.0.0.1:{other.port}\\@127.0.0.1:{fhir.port}/oauth2/token"
        fhir.steps.append(respond(200, {"token_endpoint": bad}, {"Content-Type": "application/json"}))
        session = requests.Session()
        auth = ClientCredentialsAuth(
            "", "client", "", session, client_secret=SECRET, discover_from=f"{fhir.origin}/fhir/R4"
        )
        client, _ = make_client(fhir, auth=auth, session=session)
        with pytest.raises(ConfigError, match="advertised token endpoint cannot be used") as exc:
            client.get("metadata")
    assert SECRET not in str(exc.value)
    assert other.connections == 0 and len(fhir.requests) == 1


JSON_HEADERS = {"Content-Type": "application/json"}


def test_a_plain_http_token_endpoint_on_another_host_gets_no_secret():
    # probe101 A2: a plain-http server's discovery answer named a token endpoint elsewhere, over http, and it
    # got the client secret: whoever can answer a plain-http request chooses where the secret goes
    with Loopback() as other, Loopback() as fhir:
        fhir.steps.append(
            respond(200, {"token_endpoint": f"{other.origin}/oauth2/token"}, {"Content-Type": "application/json"})
        )
        session = requests.Session()
        auth = ClientCredentialsAuth(
            "", "client", "", session, client_secret=SECRET, discover_from=f"{fhir.origin}/fhir/R4"
        )
        client, _ = make_client(fhir, auth=auth, session=session)
        with pytest.raises(ConfigError, match="plain http on another host than the server"):
            client.get("metadata")
    assert other.connections == 0


def test_a_plain_http_token_endpoint_on_the_servers_own_origin_is_used():
    with Loopback() as fhir:
        fhir.steps.append(
            respond(200, {"token_endpoint": f"{fhir.origin}/oauth2/token"}, {"Content-Type": "application/json"})
        )
        fhir.steps.append(
            respond(200, {"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}, JSON_HEADERS)
        )
        fhir.steps.append(respond(200, {"resourceType": "CapabilityStatement"}, JSON_HEADERS))
        session = requests.Session()
        auth = ClientCredentialsAuth(
            "", "client", "", session, client_secret=SECRET, discover_from=f"{fhir.origin}/fhir/R4"
        )
        client, _ = make_client(fhir, auth=auth, session=session)
        assert client.get("metadata") == {"resourceType": "CapabilityStatement"}
    lines = [r.split(b"\r\n", 1)[0] for r in fhir.requests]
    assert lines[:2] == [b"GET /fhir/R4/.well-known/smart-configuration HTTP/1.1", b"POST /oauth2/token HTTP/1.1"]


@pytest.mark.parametrize(
    "fault",
    [
        lambda: cut_short(b'{"resourceType": "Pat', declared=500),
        lambda: chunked_cut(b'{"resourceType": "Pat'),
        lambda: reset(),
        lambda: respond(200, b'{"resourceType": "Patient", "id": "p'),  # truncated JSON, Content-Length right
    ],
    ids=["content-length-cut", "chunked-cut", "reset", "truncated-json"],
)
def test_transient_faults_are_retried_with_backoff(fault):
    with Loopback([fault(), respond(200, PATIENT)]) as fhir:
        client, sleeps = make_client(fhir)
        assert client.get("Patient/p1") == PATIENT
    assert sleeps == [1.0] and client.stats.retries == 1 and len(fhir.requests) == 2


def test_a_body_cut_short_every_time_gives_up_with_a_clear_message():
    with Loopback([cut_short(b'{"resourceType"', declared=200) for _ in range(3)]) as fhir:
        client, sleeps = make_client(fhir, retry=RetryPolicy(attempts=3))
        with pytest.raises(TemporaryNetworkError, match="cut short.*gave up after 3") as exc:
            client.get("Patient/p1")
    assert sleeps == [1.0, 2.0]
    assert exc.value.exit_code == 3


def test_a_slow_drip_ends_at_the_request_deadline_and_is_retried():
    clock = FakeClock()
    # one byte every 10 s: the read timeout (120 s of silence) never fires; 300 s deadline does
    with Loopback([drip(clock, 10.0, 100), respond(200, PATIENT)]) as fhir:
        client, sleeps = make_client(fhir, monotonic=clock, deadlines=Deadlines(request=300.0))
        assert client.get("Patient/p1") == PATIENT
    assert sleeps == [1.0] and len(fhir.requests) == 2


def test_a_slow_drip_every_time_is_a_deadline_error():
    clock = FakeClock()
    with Loopback([drip(clock, 10.0, 100) for _ in range(2)]) as fhir:
        client, _ = make_client(
            fhir, monotonic=clock, deadlines=Deadlines(request=300.0), retry=RetryPolicy(attempts=2)
        )
        with pytest.raises(DeadlineExceededError, match=r"still arriving after \d+ s \(request deadline 300 s"):
            client.get("Patient/p1")
    assert 300 <= clock.now <= 2 * 1000


def test_the_token_endpoint_is_retried_when_its_connection_is_reset():
    with Loopback(
        [
            reset(),
            respond(200, {"access_token": "tok", "expires_in": 3600}, {"Content-Type": "application/json"}),
            respond(200, PATIENT),
        ]
    ) as server:
        session = requests.Session()
        auth = ClientCredentialsAuth(f"{server.origin}/oauth2/token", "client", "", session, client_secret=SECRET)
        client, sleeps = make_client(server, auth=auth, session=session)
        assert client.get("Patient/p1") == PATIENT
    assert sleeps == [1.0]
    assert b"Authorization: Bearer tok" in server.requests[2]


def test_gzip_bodies_are_decoded_while_streaming():
    import gzip
    import json

    big = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Basic", "id": str(i)}} for i in range(20000)],
    }
    raw = gzip.compress(json.dumps(big).encode())
    with Loopback(
        [
            respond(200, raw, {"Content-Encoding": "gzip"}),
            respond(200, raw[: len(raw) // 2], {"Content-Encoding": "gzip"}),  # gzip cut short
            respond(200, raw, {"Content-Encoding": "gzip"}),
        ]
    ) as fhir:
        client, sleeps = make_client(fhir)
        assert len(client.get("Basic")["entry"]) == 20000
        assert len(client.get("Basic")["entry"]) == 20000
    assert sleeps == [1.0]


def test_a_dripping_redirect_is_neither_followed_nor_waited_for():
    clock = FakeClock()

    def dripping_redirect(conn, request):
        from tests.fhir.loopback import head

        conn.sendall(head(302, {"Location": "http://127.0.0.1:9/elsewhere", "Content-Length": "100000"}))
        for _ in range(100):
            clock.now += 10.0
            conn.sendall(b" ")
        while conn.recv(1024):
            pass

    with Loopback([dripping_redirect]) as fhir:
        client, _ = make_client(
            fhir, monotonic=clock, deadlines=Deadlines(request=300.0), retry=RetryPolicy(attempts=1)
        )
        with pytest.raises(DeadlineExceededError):
            client.get("metadata")
