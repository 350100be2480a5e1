"""FHIR client behaviour, driven by recorded Medplum transcripts. Sleep and clock are patched."""

from __future__ import annotations

import email.utils

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from poems_fhir.errors import (
    AuthError,
    FatalNetworkError,
    ForeignHostError,
    PreconditionFailedError,
    TemporaryNetworkError,
)
from poems_fhir.fhir.auth import BearerAuth, ClientCredentialsAuth
from poems_fhir.fhir.capabilities import parse_capabilities
from poems_fhir.fhir.client import FhirClient, RetryPolicy, origin, parse_retry_after
from tests.fhir.transcripts import BASE, ORIGIN, exchange, fill, register, url_of

NOW = 1_800_000_000.0


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(**kw) -> tuple[FhirClient, Sleeps]:
    sleeps = Sleeps()
    c = FhirClient(BASE, sleep=sleeps, clock=lambda: NOW, rng=lambda: 1.0, **kw)
    return c, sleeps


@responses.activate
def test_paging_follows_absolute_next_links_verbatim():
    for i in range(3):
        register(responses, "03-paging-offset.json", i)
    c, _ = client()
    params = {"patient": "34eed09a-97d3-4ddf-bc64-7afbf93e740d", "code": "http://loinc.org|777-3", "_count": "2"}
    resources = list(c.search("Observation", params))
    assert len(resources) == 5 and len({r["id"] for r in resources}) == 5
    assert c.stats.requests == 3


@responses.activate
def test_paging_follows_relative_next_links():
    first = fill(exchange("03-paging-offset.json", 0)["response"]["body"])
    for link in first["link"]:
        if link["relation"] == "next":
            link["url"] = link["url"].replace(BASE + "/", "")  # relative, as some servers send
    responses.add("GET", url_of("Observation"), json=first)
    register(responses, "03-paging-offset.json", 1)
    register(responses, "03-paging-offset.json", 2)
    c, _ = client()
    assert len(list(c.search("Observation", {"patient": "x"}))) == 5


@pytest.mark.parametrize(
    "foreign",
    [
        "https://evil.example/fhir/R4/Observation?_offset=2",
        "http://fhir.test.example/fhir/R4/Observation?_offset=2",
        "https://fhir.test.example:8443/fhir/R4/Observation?_offset=2",
    ],
)
@responses.activate
def test_foreign_next_link_is_refused_and_no_credentials_leave(foreign):
    first = fill(exchange("03-paging-offset.json", 0)["response"]["body"])
    next(link for link in first["link"] if link["relation"] == "next")["url"] = foreign
    responses.add("GET", url_of("Observation"), json=first)
    c, _ = client(auth=BearerAuth("s3cret-token"))
    with pytest.raises(ForeignHostError) as exc:
        list(c.search("Observation", {"patient": "x"}))
    assert "s3cret" not in str(exc.value)
    assert len(responses.calls) == 1


def test_default_ports_are_normalised():
    assert origin("https://fhir.test.example:443/fhir/R4") == origin("https://FHIR.test.example/fhir")
    assert origin("http://h:80/a") == origin("http://h/b") != origin("http://h:8080/b")


@responses.activate
def test_plus_in_dates_is_percent_encoded():
    register(
        responses,
        "05-lastupdated-timezone.json",
        0,
        match=[
            matchers.query_string_matcher(
                "patient=34eed09a-97d3-4ddf-bc64-7afbf93e740d&code=http%3A%2F%2Floinc.org%7C777-3"
                "&_lastUpdated=gt2026-11-27T05%3A09%3A46.672%2B05%3A00"
            )
        ],
    )
    c, _ = client()
    bundle = c.get(
        "Observation",
        {
            "patient": "34eed09a-97d3-4ddf-bc64-7afbf93e740d",
            "code": "http://loinc.org|777-3",
            "_lastUpdated": "gt2026-11-27T05:09:46.672+05:00",
        },
    )
    assert len(bundle["entry"]) == 2
    assert "%2B05%3A00" in responses.calls[0].request.url


@responses.activate(registry=OrderedRegistry)
def test_429_with_retry_after_seconds_then_success():
    responses.add("GET", f"{BASE}/Patient/1", status=429, headers={"Retry-After": "7"})
    responses.add("GET", f"{BASE}/Patient/1", json={"resourceType": "Patient", "id": "1"})
    c, sleeps = client()
    assert c.get("Patient/1")["id"] == "1"
    assert sleeps == [7.0] and c.stats.retries == 1


@responses.activate(registry=OrderedRegistry)
def test_429_with_retry_after_http_date_is_capped():
    later = email.utils.formatdate(NOW + 30, usegmt=True)
    much_later = email.utils.formatdate(NOW + 5 * 3600, usegmt=True)  # "come back in five hours"
    responses.add("GET", f"{BASE}/Patient/1", status=429, headers={"Retry-After": later})
    responses.add("GET", f"{BASE}/Patient/1", status=429, headers={"Retry-After": much_later})
    responses.add("GET", f"{BASE}/Patient/1", json={"resourceType": "Patient", "id": "1"})
    c, sleeps = client()
    c.get("Patient/1")
    assert sleeps[0] == pytest.approx(30, abs=1)
    assert sleeps[1] == 300.0  # RetryPolicy.max_retry_after


def test_parse_retry_after():
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("garbage", NOW) is None
    assert parse_retry_after(email.utils.formatdate(NOW - 60, usegmt=True), NOW) == 0
    # an HTTP-date is measured from the response's own Date (the server's clock) when there is one:
    # a server 90 s behind us asks for 30 s, not for a time already past
    later = email.utils.formatdate(NOW - 60, usegmt=True)
    assert parse_retry_after(later, NOW, email.utils.formatdate(NOW - 90, usegmt=True)) == 30
    assert parse_retry_after(later, NOW, "not a date") == 0  # an unreadable Date: our clock
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", NOW, "Thu, 01 Jan 1970 00:00:00 GMT") > 0


@responses.activate(registry=OrderedRegistry)
def test_503_then_success_with_exponential_backoff():
    for _ in range(2):
        responses.add("GET", f"{BASE}/Patient/1", status=503, body="<html>Service Unavailable</html>")
    responses.add("GET", f"{BASE}/Patient/1", json={"resourceType": "Patient", "id": "1"})
    c, sleeps = client()
    c.get("Patient/1")
    assert sleeps == [1.0, 2.0]


@responses.activate
def test_timeouts_give_up_with_the_url_after_the_attempts():
    responses.add("GET", f"{BASE}/Patient/1", body=requests.ConnectTimeout("slow"))
    c, sleeps = client(retry=RetryPolicy(attempts=3))
    with pytest.raises(TemporaryNetworkError, match=r"Patient/1.*gave up after 3"):
        c.get("Patient/1")
    assert len(sleeps) == 2


@responses.activate
def test_retry_budget_is_per_run():
    responses.add("GET", f"{BASE}/Patient/1", status=502)
    c, sleeps = client(retry=RetryPolicy(attempts=10, budget=3))
    with pytest.raises(TemporaryNetworkError):
        c.get("Patient/1")
    assert c.stats.retries == 3


@responses.activate
def test_html_page_instead_of_json_is_a_clear_error():
    responses.add("GET", f"{BASE}/metadata", body="<html><body>Login</body></html>", content_type="text/html")
    c, _ = client()
    with pytest.raises(FatalNetworkError, match="instead of FHIR JSON.*is --server the FHIR base URL"):
        c.get("metadata")


@responses.activate
def test_operation_outcome_text_is_in_the_error():
    register(responses, "13-errors.json", 0)
    c, sleeps = client()
    with pytest.raises(FatalNetworkError, match="HTTP 400: error: Unknown search parameter: foo"):
        c.get("Observation", {"patient": "34eed09a-97d3-4ddf-bc64-7afbf93e740d", "foo": "bar"})
    assert sleeps == []  # 400 is not retried


@responses.activate(registry=OrderedRegistry)
def test_401_refreshes_the_token_once():
    token_url = f"{ORIGIN}/oauth2/token"
    register(responses, "02-auth.json", 0, url=token_url)  # first token
    register(responses, "02-auth.json", 3)  # 401 (expired / revoked)
    register(responses, "02-auth.json", 2, url=token_url)  # second token
    register(responses, "02-auth.json", 8)  # 200
    session = requests.Session()
    auth = ClientCredentialsAuth(token_url, "client", "", session, clock=lambda: NOW, client_secret="pw")
    c, sleeps = client(auth=auth, session=session)
    assert c.get("Patient", {"_count": "1"})["resourceType"] == "Bundle"
    assert c.stats.reauths == 1 and sleeps == []
    assert responses.calls[0].request.body and "client_secret=pw" in responses.calls[0].request.body


@responses.activate(registry=OrderedRegistry)
def test_persistent_401_is_an_auth_error():
    token_url = f"{ORIGIN}/oauth2/token"
    register(responses, "02-auth.json", 0, url=token_url)
    register(responses, "02-auth.json", 3)
    register(responses, "02-auth.json", 2, url=token_url)
    register(responses, "02-auth.json", 4)
    session = requests.Session()
    auth = ClientCredentialsAuth(token_url, "client", "", session, clock=lambda: NOW, client_secret="pw")
    c, _ = client(auth=auth, session=session)
    with pytest.raises(AuthError, match="HTTP 401"):
        c.get("Patient", {"_count": "1"})


@responses.activate
def test_wrong_secret_is_an_auth_error_with_the_server_reason():
    register(responses, "02-auth.json", 1, url=f"{ORIGIN}/oauth2/token")
    auth = ClientCredentialsAuth(
        f"{ORIGIN}/oauth2/token", "client", "", requests.Session(), client_secret="wrong-secret"
    )
    with pytest.raises(AuthError, match="Invalid secret") as exc:
        auth.headers()
    assert "wrong-secret" not in str(exc.value)


def test_token_is_refreshed_before_expiry():
    calls = []
    now = [NOW]

    class Auth(ClientCredentialsAuth):
        def _fetch(self) -> None:
            calls.append(now[0])
            self._token, self._expires_at = f"t{len(calls)}", now[0] + 3600

    auth = Auth("u", "c", "", requests.Session(), clock=lambda: now[0], client_secret="x")
    assert auth.headers()["Authorization"] == "Bearer t1"
    now[0] += 3000
    assert auth.headers()["Authorization"] == "Bearer t1"
    now[0] += 560  # within the 60 s margin of expiry
    assert auth.headers()["Authorization"] == "Bearer t2"


@responses.activate
def test_412_and_409_on_write_are_precondition_errors_not_retried():
    register(responses, "10-if-match.json", 2)
    c, sleeps = client()
    body = fill(exchange("10-if-match.json", 2)["request"]["body"])
    with pytest.raises(PreconditionFailedError, match="412"):
        c.request(
            "PUT",
            "Condition/d7242fa7-151e-4166-82ba-338daa2e3ac5",
            json=body,
            headers={"If-Match": 'W/"3757a57e-4836-48cf-a39b-ae3a071d464f"'},
        )
    assert sleeps == []


@responses.activate(registry=OrderedRegistry)
def test_non_conditional_post_is_not_retried_but_conditional_transaction_is():
    responses.add("POST", BASE, status=503)
    responses.add("POST", BASE, status=503)
    responses.add("POST", BASE, json={"resourceType": "Bundle", "type": "transaction-response", "entry": []})
    c, sleeps = client()
    plain = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": {"resourceType": "Observation"}, "request": {"method": "POST", "url": "Observation"}}],
    }
    with pytest.raises(TemporaryNetworkError):
        c.transaction(plain)
    assert sleeps == []
    conditional = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {"resourceType": "Observation"},
                "request": {"method": "PUT", "url": "Observation?identifier=a|b"},
            }
        ],
    }
    assert c.transaction(conditional)["type"] == "transaction-response"
    assert sleeps == [1.0]


@responses.activate
def test_transaction_response_from_the_transcript():
    ex = exchange("11-transaction.json", 0)
    responses.add("POST", BASE, json=fill(ex["response"]["body"]))
    c, _ = client()
    response = c.transaction(fill(ex["request"]["body"]))
    assert [e["response"]["status"] for e in response["entry"]] == ["201"] * 5


def test_capabilities_from_the_recorded_metadata():
    caps = parse_capabilities(fill(exchange("01-metadata.json", 0)["response"]["body"]))
    assert caps.fhir_version.startswith("4.") and caps.last_updated and caps.transaction
    assert caps.conditional_update and caps.notes == []
    stripped = fill(exchange("01-metadata.json", 0)["response"]["body"])
    stripped["rest"][0]["interaction"] = [{"code": "batch"}]
    for r in stripped["rest"][0]["resource"]:
        r["searchParam"] = [p for p in r.get("searchParam", []) if p["name"] != "_lastUpdated"]
    caps = parse_capabilities(stripped)
    assert caps.write_mode == "ordered-conditional-updates" and caps.incremental == "full-rescan-with-hashes"
    assert len(caps.notes) == 2
    with pytest.raises(FatalNetworkError, match="R4"):
        parse_capabilities({**stripped, "fhirVersion": "5.0.0"})


def test_redirects_are_not_followed_with_credentials():
    with responses.RequestsMock() as rsps:
        rsps.add("GET", f"{BASE}/metadata", status=307, headers={"Location": "https://other.example/metadata"})
        c, _ = client(auth=BearerAuth("tok"))
        with pytest.raises(FatalNetworkError, match="redirected"):
            c.get("metadata")
        assert len(rsps.calls) == 1


@responses.activate
def test_412_multiple_matches_on_write_is_a_precondition_error():
    # recorded (08[6]); the server never answers 409 (a hand-made 409 used to stand here)
    register(responses, "08-conditional-update.json", 6)
    c, sleeps = client()
    with pytest.raises(PreconditionFailedError, match="412: error: .*[Mm]ultiple"):
        c.request(
            "PUT",
            "DiagnosticReport?identifier=urn:example:poems|p1",
            json=fill(exchange("08-conditional-update.json", 6)["request"]["body"]),
        )
    assert sleeps == []
