"""Recorded (Medplum transcripts) and synthetic faults at the network edge, with `responses`.
Sleep and clocks are patched."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from poems_fhir.errors import (
    EXIT_AUTH,
    EXIT_FORBIDDEN,
    EXIT_SERVER,
    EXIT_USAGE,
    AuthError,
    ConfigError,
    FatalNetworkError,
    ForeignHostError,
    NotFhirServerError,
    PermissionDeniedError,
    RunDeadlineError,
    TemporaryNetworkError,
)
from poems_fhir.fhir.auth import BearerAuth, ClientCredentialsAuth, discover_token_url
from poems_fhir.fhir.capabilities import parse_capabilities
from poems_fhir.fhir.client import FhirClient, RetryPolicy
from poems_fhir.fhir.http import Deadlines, Transport, unsafe_reason
from tests.fhir.loopback import FakeClock
from tests.fhir.transcripts import BASE, ORIGIN, exchange, fill, register

NOW = 1_800_000_000.0
TOKEN_URL = f"{ORIGIN}/oauth2/token"
TOKEN = fill(exchange("02-auth.json", 0)["response"]["body"])
PATIENT = {"resourceType": "Patient", "id": "1"}
HTML_404 = (
    "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
    "<p>The requested URL /fhir/metadata was not found on this server. Apache/2.4.57 (Debian) "
    "Server at fhir.test.example Port 443</p></body></html>"
)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(base: str = BASE, **kw) -> tuple[FhirClient, Sleeps]:
    sleeps = Sleeps()
    kw.setdefault("rng", lambda: 1.0)
    return FhirClient(base, sleep=sleeps, clock=lambda: NOW, **kw), sleeps


def cc_auth(session: requests.Session, token_url: str = TOKEN_URL, **kw) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(
        token_url, "client", kw.pop("scope", ""), session, clock=lambda: NOW, client_secret="the-secret", **kw
    )


# ------------------------------------------------------------------ retries


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"),
        requests.ConnectionError("Connection reset by peer"),
        requests.exceptions.ContentDecodingError("bad gzip"),
        requests.ReadTimeout("read timed out"),
    ],
)
@responses.activate(registry=OrderedRegistry)
def test_connection_level_faults_are_retried(exc):
    responses.add("GET", f"{BASE}/Patient/1", body=exc)
    responses.add("GET", f"{BASE}/Patient/1", json=PATIENT)
    c, sleeps = client()
    assert c.get("Patient/1") == PATIENT
    assert sleeps == [1.0] and c.stats.retries == 1


@responses.activate(registry=OrderedRegistry)
def test_a_retry_logs_the_fields_the_readme_names(caplog):
    # README's event table: http.retry has method, url (no credentials), delay_s, error - the log record
    # carried them only through a message template, as one "what" field ("GET https://…")
    responses.add("GET", f"{BASE}/Patient/1", status=503, body="busy")
    responses.add("GET", f"{BASE}/Patient/1", json=PATIENT)
    c, _ = client()
    with caplog.at_level("WARNING", logger="poems_fhir.client"):
        assert c.get("Patient/1") == PATIENT
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "http.retry"]
    fields = record.fields  # type: ignore[attr-defined]
    assert (fields["method"], fields["url"], fields["delay_s"], fields["attempt"]) == (
        "GET",
        f"{BASE}/Patient/1",
        1.0,
        1,
    )
    assert "HTTP 503" in fields["error"] and "what" not in fields


@responses.activate(registry=OrderedRegistry)
def test_a_200_whose_json_is_truncated_is_retried():
    responses.add(
        "GET",
        f"{BASE}/Observation",
        body='{"resourceType": "Bundle", "entry": [{"resou',
        content_type="application/fhir+json",
    )
    responses.add("GET", f"{BASE}/Observation", body="", content_type="application/fhir+json")  # empty 200
    register(responses, "03-paging-offset.json", 2, url="Observation")
    c, sleeps = client()
    assert c.get("Observation")["resourceType"] == "Bundle"
    assert sleeps == [1.0, 2.0]


@responses.activate
def test_truncated_json_every_time_says_so_not_wrong_base():
    responses.add("GET", f"{BASE}/Patient/1", body='{"resourceType": "Pat', content_type="application/fhir+json")
    c, _ = client(retry=RetryPolicy(attempts=2))
    with pytest.raises(TemporaryNetworkError, match="JSON body is incomplete.*gave up after 2") as exc:
        c.get("Patient/1")
    assert "FHIR base" not in str(exc.value) and exc.value.exit_code == EXIT_SERVER


def test_jitter_never_reaches_zero():
    t = Transport(rng=lambda: 0.0)
    assert [t.delay(n, None) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert t.delay(1, 0.0) == 0.5  # "Retry-After: 0" still waits a little
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=0)


# ------------------------------------------------------------------ token endpoint


@responses.activate(registry=OrderedRegistry)
def test_token_endpoint_503_and_429_are_retried_not_reported_as_wrong_credentials():
    responses.add(
        "POST", TOKEN_URL, status=503, body="<html><title>Service Unavailable</title></html>", content_type="text/html"
    )
    responses.add("POST", TOKEN_URL, status=429, headers={"Retry-After": "7"})
    responses.add("POST", TOKEN_URL, json=TOKEN)
    register(responses, "02-auth.json", 8)
    session = requests.Session()
    c, sleeps = client(auth=cc_auth(session), session=session)
    assert c.get("Patient", {"_count": "1"})["resourceType"] == "Bundle"
    assert sleeps == [1.0, 7.0]


@responses.activate
def test_token_endpoint_down_for_good_is_a_server_error_not_an_auth_error():
    responses.add("POST", TOKEN_URL, status=503)
    session = requests.Session()
    c, sleeps = client(auth=cc_auth(session), session=session, retry=RetryPolicy(attempts=3))
    with pytest.raises(TemporaryNetworkError, match="token endpoint is down or overloaded") as exc:
        c.get("Patient")
    assert not isinstance(exc.value, AuthError) and exc.value.exit_code == EXIT_SERVER
    assert len(sleeps) == 2 and len(responses.calls) == 3  # the FHIR request was never sent


@responses.activate
def test_recorded_wrong_secret_is_refused_once_with_exit_4():
    register(responses, "02-auth.json", 1, url=TOKEN_URL)  # 400 invalid_request "Invalid secret"
    session = requests.Session()
    c, sleeps = client(auth=cc_auth(session), session=session)
    with pytest.raises(AuthError, match="authentication refused.*Invalid secret") as exc:
        c.get("Patient")
    assert exc.value.exit_code == EXIT_AUTH and sleeps == [] and "the-secret" not in str(exc.value)


@responses.activate(registry=OrderedRegistry)
def test_token_endpoint_truncated_json_is_retried():
    responses.add("POST", TOKEN_URL, body='{"access_token": "abc', content_type="application/json")
    responses.add("POST", TOKEN_URL, json=TOKEN)
    auth = cc_auth(requests.Session())
    auth.transport = Transport(auth.session, sleep=Sleeps(), clock=lambda: NOW, rng=lambda: 1.0)
    assert auth.headers()["Authorization"] == "Bearer <redacted>"
    assert auth.transport.sleep == [1.0]


@responses.activate
def test_discovery_on_a_down_server_says_down_not_could_not_discover():
    responses.add(
        "GET",
        f"{BASE}/.well-known/smart-configuration",
        body=requests.ConnectionError("[Errno 111] Connection refused"),
    )
    session = requests.Session()
    auth = cc_auth(session, token_url="", discover_from=BASE)
    c, sleeps = client(auth=auth, session=session)
    with pytest.raises(TemporaryNetworkError, match=r"smart-configuration.*gave up after 5") as exc:
        c.get("metadata")
    assert "could not discover" not in str(exc.value) and exc.value.exit_code == EXIT_SERVER
    assert len(sleeps) == 4


@responses.activate
def test_discovery_of_a_server_without_smart_configuration_asks_for_token_url():
    responses.add("GET", f"{BASE}/.well-known/smart-configuration", status=404, body=HTML_404, content_type="text/html")
    with pytest.raises(ConfigError, match="HTTP 404; pass --token-url") as exc:
        discover_token_url(BASE, requests.Session())
    assert "Apache" not in str(exc.value)


# ------------------------------------------------------------------ messages and exit codes


@responses.activate
def test_an_html_404_at_metadata_is_not_a_fhir_base_with_a_probed_suggestion():
    base = f"{ORIGIN}/fhir"
    responses.add("GET", f"{base}/metadata", status=404, body=HTML_404, content_type="text/html")
    responses.add("GET", f"{base}/R4/metadata", json=fill(exchange("01-metadata.json", 0)["response"]["body"]))
    c, sleeps = client(base)
    with pytest.raises(NotFhirServerError) as exc:
        c.get("metadata")
    message = str(exc.value)
    assert f"{base} is not a FHIR base" in message and f"try --server {base}/R4" in message
    assert "an HTML page ('404 Not Found')" in message
    assert "<" not in message and "Apache" not in message  # never the page itself
    assert exc.value.exit_code == EXIT_USAGE and sleeps == []


@responses.activate
def test_a_login_page_at_metadata_without_a_fhir_base_nearby_gives_the_general_advice():
    responses.add(
        "GET",
        f"{BASE}/metadata",
        body="<html><head><title>Sign in</title></head><body>secret form</body></html>",
        content_type="text/html",
    )
    c, _ = client()
    with pytest.raises(NotFhirServerError, match=r"instead of FHIR JSON.*is --server the FHIR base URL\?") as exc:
        c.get("metadata")
    assert "often …/fhir, …/fhir/R4" in str(exc.value) and "secret form" not in str(exc.value)


@responses.activate
def test_non_fhir_json_404_at_metadata_is_not_a_fhir_base():
    responses.add("GET", f"{BASE}/metadata", status=404, json={"error": "route not found", "path": "/metadata"})
    c, _ = client()
    with pytest.raises(NotFhirServerError, match="answered HTTP 404 with JSON that is not a FHIR resource"):
        c.get("metadata")


def test_json_that_is_not_a_capability_statement_is_not_a_fhir_base():
    with pytest.raises(NotFhirServerError, match="is not a FHIR base"):
        parse_capabilities({"status": "ok", "version": "1.2"})


@responses.activate
def test_html_on_a_search_mid_run_is_fatal_and_short():
    responses.add(
        "GET",
        f"{BASE}/Observation",
        body="<html><title>Session expired</title>" + "x" * 5000 + "</html>",
        content_type="text/html",
    )
    c, sleeps = client()
    with pytest.raises(FatalNetworkError, match=r"an HTML page \('Session expired'\).*login page or a proxy") as exc:
        c.get("Observation")
    assert len(str(exc.value)) < 400 and sleeps == []


@pytest.mark.parametrize(
    ("method", "path", "body", "named", "scopes"),
    [
        ("GET", "Procedure", None, "search on Procedure", ["system/Procedure.read", "system/Procedure.rs"]),
        ("GET", "Patient/1", None, "read on Patient", ["system/Patient.read", "system/Patient.r"]),
        ("POST", "Observation/_search", None, "search on Observation", ["system/Observation.read"]),
        (
            "PUT",
            "CarePlan?identifier=a|b",
            {"resourceType": "CarePlan"},
            "update on CarePlan",
            ["system/CarePlan.write", "system/CarePlan.u"],
        ),
    ],
)
@responses.activate
def test_403_names_the_missing_permission(method, path, body, named, scopes):
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "forbidden", "details": {"text": "Forbidden"}}],
    }
    responses.add(method, f"{BASE}/{path}", status=403, json=outcome)
    session = requests.Session()
    responses.add("POST", TOKEN_URL, json=TOKEN)
    auth = cc_auth(session, scope="system/Observation.read system/Condition.read")
    c, sleeps = client(auth=auth, session=session)
    with pytest.raises(PermissionDeniedError) as exc:
        c.request(method, path, json=body, data={"patient": "1"} if method == "POST" else None)
    message = str(exc.value)
    assert f"permission missing: the server refused {named}" in message
    assert all(s in message for s in scopes)
    assert "requested scope was 'system/Observation.read system/Condition.read'" in message
    assert exc.value.exit_code == EXIT_FORBIDDEN and sleeps == []


@responses.activate
def test_403_on_a_transaction_names_every_type_it_writes():
    responses.add("POST", BASE, status=403, json={"resourceType": "OperationOutcome", "issue": []})
    bundle = fill(exchange("11-transaction.json", 0)["request"]["body"])
    c, _ = client(auth=BearerAuth("tok"))
    with pytest.raises(PermissionDeniedError) as exc:
        c.transaction(bundle)
    types = {e["request"]["url"].split("?")[0].split("/")[0] for e in bundle["entry"]}
    for rtype in types:
        assert f"system/{rtype}.write" in str(exc.value)


@responses.activate
def test_recorded_401_is_authentication_refused_with_exit_4():
    register(responses, "02-auth.json", 4)  # a garbage bearer token
    c, sleeps = client(auth=BearerAuth("not-a-real-token"))
    with pytest.raises(AuthError, match="authentication refused.*HTTP 401: error: Unauthorized") as exc:
        c.get("Patient", {"_count": "1"})
    assert exc.value.exit_code == EXIT_AUTH and not isinstance(exc.value, PermissionDeniedError)
    assert "not-a-real-token" not in str(exc.value) and sleeps == []


@pytest.mark.parametrize(
    ("index", "text"),
    [(2, "HTTP 404: error: Not found"), (3, "HTTP 404: error: Not found"), (6, "HTTP 410: error: Gone")],
)
@responses.activate
def test_recorded_404_and_410_are_fatal_short_and_not_retried(index, text):
    register(responses, "13-errors.json", index)
    c, sleeps = client()
    path = exchange("13-errors.json", index)["request"]["path"]
    with pytest.raises(FatalNetworkError, match=text) as exc:
        c.get(path)
    assert not isinstance(exc.value, (TemporaryNetworkError, NotFhirServerError))
    assert "tracing" not in str(exc.value) and sleeps == []


@responses.activate
def test_a_secret_echoed_by_the_server_is_scrubbed():
    responses.add(
        "GET",
        f"{BASE}/Patient/1",
        status=400,
        json={
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "diagnostics": "bad header Bearer tok-123456"}],
        },
    )
    c, _ = client(auth=BearerAuth("tok-123456"))
    with pytest.raises(FatalNetworkError) as exc:
        c.get("Patient/1")
    assert "tok-123456" not in str(exc.value) and "<redacted>" in str(exc.value)


# ------------------------------------------------------------------ origin rule (no sockets needed)


@pytest.mark.parametrize(
    "url",
    [
        f"https://other.example\\@{BASE[8:]}/Observation",
        f"https://user:pw@{BASE[8:]}/Observation",
        f"https://other.example%09@{BASE[8:]}/Observation".replace("%09", "\t"),
        "https://fhir.test.example:443\\.evil.example/fhir/R4/Observation",
        "ftp://fhir.test.example/fhir/R4/Observation",
    ],
)
def test_ambiguous_urls_are_unsafe(url):
    assert unsafe_reason(url)


def test_plain_urls_are_safe():
    assert unsafe_reason(f"{BASE}/Observation?code=http://loinc.org|777-3&_lastUpdated=gt2026-01-01") is None


@responses.activate
def test_a_backslash_next_link_sends_nothing_with_responses_too():
    first = fill(exchange("03-paging-offset.json", 0)["response"]["body"])
    link = next(lk for lk in first["link"] if lk["relation"] == "next")
    link["url"] = link["url"].replace(ORIGIN, "https://evil.example\\@fhir.test.example")
    responses.add("GET", f"{BASE}/Observation", json=first)
    c, _ = client(auth=BearerAuth("s3cret-token"))
    with pytest.raises(ForeignHostError, match="backslash"):
        list(c.search("Observation", {"patient": "x"}))
    assert len(responses.calls) == 1


def test_a_server_url_with_user_info_is_refused():
    with pytest.raises(ConfigError, match="user-info"):
        FhirClient("https://user:pw@fhir.test.example/fhir/R4")


# ------------------------------------------------------------------ run deadline


@responses.activate
def test_the_run_deadline_stops_sending_and_is_not_retried():
    responses.add("GET", f"{BASE}/Patient/1", json=PATIENT)
    clock = FakeClock()
    c, sleeps = client(monotonic=clock, deadlines=Deadlines(run=3600.0))
    assert c.get("Patient/1") == PATIENT and not c.transport.run_deadline_passed()
    clock.now = 3600.0
    assert c.transport.run_deadline_passed()
    with pytest.raises(RunDeadlineError, match="run deadline .*--run-deadline"):
        c.get("Patient/1")
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_no_retry_wait_reaches_past_the_run_deadline():
    responses.add("GET", f"{BASE}/Patient/1", status=503, headers={"Retry-After": "120"})
    clock = FakeClock()
    c, sleeps = client(monotonic=clock, deadlines=Deadlines(run=60.0))
    # the wait would pass the deadline, which has not passed (probe50 LOW-4: "has passed" was said)
    with pytest.raises(RunDeadlineError, match=r"waiting 120 s to retry would pass the run deadline \(60 s") as raised:
        c.get("Patient/1")
    assert "has passed" not in str(raised.value)
    assert sleeps == [] and len(responses.calls) == 1


def test_the_body_of_a_response_is_read_whole_and_json_still_works():
    with responses.RequestsMock() as rsps:
        big = {
            "resourceType": "Bundle",
            "entry": [{"resource": {"resourceType": "Basic", "id": str(i)}} for i in range(5000)],
        }
        rsps.add("GET", f"{BASE}/Basic", body=json.dumps(big), content_type="application/fhir+json")
        c, _ = client()
        assert len(c.get("Basic")["entry"]) == 5000


def _gzipped_patient(filler: bytes, level: int = 9) -> bytes:
    import gzip

    return gzip.compress(b'{"resourceType":"Patient","id":"1","text":{"div":"' + filler + b'"}}', level)


@responses.activate
def test_a_body_labelled_gzip_that_is_not_gzip_says_so_and_is_retried():
    """probe80 D6: "error - is the server up and reachable? after 0 bytes" sent the operator to look for
    an outage; the server answered every time."""
    for _ in range(5):
        responses.add(
            "GET",
            f"{BASE}/Patient/1",
            body=b'{"resourceType":"Patient","id":"1"}',
            headers={"Content-Encoding": "gzip"},
        )
    c, sleeps = client()
    with pytest.raises(TemporaryNetworkError) as caught:
        c.get("Patient/1")
    assert "labelled Content-Encoding: gzip but is not valid gzip" in str(caught.value)
    assert "is the server up" not in str(caught.value) and len(sleeps) == 4


@responses.activate
def test_a_decompression_bomb_is_refused_while_it_streams_and_not_retried():
    # probe45 D6: a small gzip answer inflating to just under the 512 MB cap was read whole (1.3 GB)
    from poems_fhir.fhir.http import INFLATION_FLOOR, MAX_INFLATION

    body = _gzipped_patient(b" " * (INFLATION_FLOOR * 2))
    assert len(body) * MAX_INFLATION < INFLATION_FLOOR  # far past the ratio, far under the size cap
    responses.add("GET", f"{BASE}/Patient/1", body=body, headers={"Content-Encoding": "gzip"})
    c, sleeps = client()
    with pytest.raises(FatalNetworkError, match=f"inflates more than {MAX_INFLATION}-fold") as caught:
        c.get("Patient/1")
    assert "decompression bomb" in str(caught.value) and sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_a_large_compressed_answer_that_inflates_like_fhir_json_is_read():
    import os

    from poems_fhir.fhir.http import INFLATION_FLOOR

    filler = os.urandom(INFLATION_FLOOR // 2 + 10).hex().encode()  # hex inflates ~2-fold, like resources
    responses.add("GET", f"{BASE}/Patient/1", body=_gzipped_patient(filler, 1), headers={"Content-Encoding": "gzip"})
    c, _ = client()
    assert len(c.get("Patient/1")["text"]["div"]) == len(filler) > INFLATION_FLOOR


@responses.activate
def test_a_token_endpoint_echoing_the_client_secret_is_scrubbed():
    responses.add(
        "POST",
        TOKEN_URL,
        status=401,
        json={"error": "invalid_client", "error_description": "unknown secret the-secret"},
    )
    with pytest.raises(AuthError, match="invalid_client|unknown secret") as exc:
        cc_auth(requests.Session()).headers()
    assert "the-secret" not in str(exc.value) and "<redacted>" in str(exc.value)


@pytest.mark.parametrize(
    ("base", "same", "other"),
    [
        ("http://[::1]:8080/fhir", "http://[::1]:8080/fhir/Patient?_count=1", "http://[::2]:8080/fhir/Patient"),
        ("https://bücher.example/fhir", "https://xn--bcher-kva.example/fhir/Patient", "https://bucher.example/fhir/P"),
        (BASE, f"{BASE}/Observation?code=a b", f"{ORIGIN}:8443/fhir/R4/Observation"),
    ],
)
def test_ipv6_international_names_and_spaces_in_queries_are_judged_as_sent(base, same, other):
    c = FhirClient(base)
    c.check_origin(same)
    with pytest.raises(ForeignHostError):
        c.check_origin(other)


@pytest.mark.parametrize(
    "link",
    [
        "//evil.example/fhir/R4/Observation?page=2",
        "\\\\evil.example\\fhir\\R4\\Observation",
        "/\\evil.example/fhir/R4/Observation",
        "javascript:alert(1)",
    ],
)
@responses.activate
def test_scheme_relative_and_backslash_relative_next_links_are_refused(link):
    first = fill(exchange("03-paging-offset.json", 0)["response"]["body"])
    next(lk for lk in first["link"] if lk["relation"] == "next")["url"] = link
    responses.add("GET", f"{BASE}/Observation", json=first)
    c, _ = client(auth=BearerAuth("s3cret-token"))
    with pytest.raises(ForeignHostError, match="nothing was sent"):
        list(c.search("Observation", {"patient": "x"}))
    assert len(responses.calls) == 1


@responses.activate
def test_a_400_at_metadata_with_parameters_is_not_called_a_wrong_base():
    responses.add(
        "GET",
        f"{BASE}/metadata",
        status=400,
        json={"resourceType": "OperationOutcome", "issue": [{"severity": "error", "diagnostics": "no _summary"}]},
    )
    c, _ = client()
    with pytest.raises(FatalNetworkError) as exc:
        c.request("GET", "metadata", params={"_summary": "true"})
    assert not isinstance(exc.value, NotFhirServerError) and "no _summary" in str(exc.value)


@responses.activate
def test_an_advertised_plain_http_token_endpoint_is_refused_for_an_https_server():
    responses.add(
        "GET",
        f"{BASE}/.well-known/smart-configuration",
        json={"token_endpoint": "http://fhir.test.example/oauth2/token"},
    )
    with pytest.raises(ConfigError, match="not https"):
        discover_token_url(BASE, requests.Session())


@responses.activate
def test_a_basic_credential_echoed_by_the_server_is_never_repeated():
    # probe37: a server echoing "Authorization: Basic <base64>" in its error body put the credential into
    # the log, the JSON summary and the state (the password was redacted, its base64 form was not)
    import base64

    from poems_fhir.fhir.auth import BasicAuth

    encoded = base64.b64encode(b"svc-user:s3cret-pw").decode()
    body = f"upstream refused: Authorization: Basic {encoded} (user svc-user)"
    responses.add("GET", f"{BASE}/Patient/1", status=400, body=body)
    c, _ = client(auth=BasicAuth("svc-user", "s3cret-pw"))
    with pytest.raises(FatalNetworkError) as err:
        c.get("Patient/1")
    assert encoded not in str(err.value) and encoded.rstrip("=") not in str(err.value)
    assert "s3cret-pw" not in str(err.value) and "<redacted>" in str(err.value)
