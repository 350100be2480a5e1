"""What a failed exchange turns into (the error class decides retry and exit code; the message tells
an integration engineer what happened and what to do), and that form data and headers reach the
server. No real sleep: retries are off (one attempt) or sleep is injected."""

from __future__ import annotations

import json

import pytest
import responses

from poems_fhir.errors import (
    AuthError,
    FatalNetworkError,
    NotFhirServerError,
    PreconditionFailedError,
    TemporaryNetworkError,
)
from poems_fhir.fhir.auth import BasicAuth, BearerAuth
from poems_fhir.fhir.client import FhirClient, RetryPolicy
from tests.fhir.transcripts import BASE

URL = f"{BASE}/Patient/1"
GAVE_UP = " (gave up after 1 attempt(s))"  # retries are off in these tests


def client(**kw) -> FhirClient:
    return FhirClient(BASE, retry=RetryPolicy(attempts=1), sleep=lambda s: None, clock=lambda: 1_800_000_000.0, **kw)


def fail(status: int, url: str = URL, **kw) -> Exception:
    responses.add("GET", url, status=status, **kw)
    with pytest.raises(Exception) as info:
        client().request_json("GET", url.removeprefix(BASE + "/"))
    return info.value


def outcome(*issues) -> dict:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


# ------------------------------------------------------------------ HTTP status -> error


@responses.activate
@pytest.mark.parametrize("status", [300, 301, 307, 308])
def test_every_3xx_is_a_refused_redirect_naming_the_target(status):
    exc = fail(status, headers={"Location": "https://other.example/fhir/Patient/1"})
    assert type(exc) is FatalNetworkError and exc.status == status and exc.url == URL
    assert str(exc) == (
        f"GET {URL} was redirected (HTTP {status}) to https://other.example/fhir/Patient/1; poems-fhir does not "
        "follow redirects with credentials - configure --server with the final URL"
    )


@responses.activate
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_overload_statuses_are_temporary_and_say_so(status):
    exc = fail(status, json=outcome({"severity": "error", "code": "transient", "diagnostics": "busy"}))
    assert type(exc) is TemporaryNetworkError and exc.status == status and exc.url == URL
    assert str(exc) == f"GET {URL} failed: HTTP {status}: error: busy - the server is overloaded or down" + GAVE_UP


@responses.activate
def test_a_request_timeout_is_temporary_but_not_called_an_overload():
    exc = fail(408, json=outcome({"severity": "error", "code": "timeout", "diagnostics": "slow"}))
    assert type(exc) is TemporaryNetworkError and (exc.status, exc.url) == (408, URL)
    assert str(exc) == f"GET {URL} failed: HTTP 408: error: slow" + GAVE_UP


@responses.activate
def test_retry_after_of_a_temporary_failure_is_kept():
    exc = fail(503, headers={"Retry-After": "7"})
    assert isinstance(exc, TemporaryNetworkError) and exc.retry_after == 7


@responses.activate
def test_refused_credentials_are_an_auth_error_with_url_and_status():
    exc = fail(401, json=outcome({"severity": "error", "code": "login", "diagnostics": "expired"}))
    assert type(exc) is AuthError and (exc.status, exc.url) == (401, URL)
    assert str(exc).startswith(f"authentication refused: GET {URL} failed: HTTP 401: error: expired")


@responses.activate
@pytest.mark.parametrize("status", [409, 412])
def test_conflict_and_precondition_failed_are_precondition_errors(status):
    exc = fail(status, json=outcome({"severity": "error", "code": "conflict", "diagnostics": "version"}))
    assert type(exc) is PreconditionFailedError and (exc.status, exc.url) == (status, URL)


@responses.activate
@pytest.mark.parametrize("status", [400, 404, 410, 422])
def test_other_client_errors_are_fatal_with_url_and_status(status):
    exc = fail(status, json=outcome({"severity": "error", "code": "invalid", "diagnostics": "bad"}))
    assert type(exc) is FatalNetworkError and (exc.status, exc.url) == (status, URL)
    assert str(exc) == f"GET {URL} failed: HTTP {status}: error: bad"


@responses.activate(assert_all_requests_are_fired=False)
@pytest.mark.parametrize("status", [404, 405, 410])
def test_metadata_that_does_not_exist_means_the_base_is_wrong(status):
    exc = fail(status, url=f"{BASE}/metadata")
    assert type(exc) is NotFhirServerError
    assert f"answered HTTP {status}" in str(exc)


@responses.activate
@pytest.mark.parametrize("status", [406, 411])
def test_other_metadata_failures_are_not_read_as_a_wrong_base(status):
    exc = fail(status, url=f"{BASE}/metadata")
    assert type(exc) is FatalNetworkError and exc.status == status


# ------------------------------------------------------------------ the server's words


@responses.activate
def test_outcome_issues_that_are_not_objects_are_skipped_not_the_rest():
    body = outcome("junk", {"severity": "warning", "code": "x", "diagnostics": "second"})
    exc = fail(400, json=body)
    assert str(exc).endswith("HTTP 400: warning: second")


@responses.activate
def test_an_outcome_without_issues_says_so():
    assert str(fail(400, json=outcome())).endswith("HTTP 400: an OperationOutcome without issues")


@responses.activate
def test_outcome_text_is_cut_at_500_characters():
    exc = fail(400, json=outcome({"severity": "error", "code": "x", "diagnostics": "d" * 1000}))
    said = str(exc).split("HTTP 400: ", 1)[1]
    assert said == ("error: " + "d" * 1000)[:500]


@responses.activate
def test_another_resource_as_error_body_is_named_by_type_and_bounded():
    assert str(fail(400, json={"resourceType": "Patient"})).endswith("HTTP 400: a Patient resource")
    exc = fail(400, json={"resourceType": "X" * 300})
    assert str(exc).split("HTTP 400: ", 1)[1] == ("a " + "X" * 300 + " resource")[:100]


@responses.activate
@pytest.mark.parametrize(("secret", "hidden"), [("abcd", True), ("s3cr3t-token", True), ("abc", False)])
def test_secrets_of_four_characters_or_more_never_reach_a_message(secret, hidden):
    # shorter "secrets" would blank out ordinary words in every message; they are not real secrets
    responses.add(
        "GET", URL, status=400, json=outcome({"severity": "error", "code": "x", "diagnostics": f"got {secret}"})
    )
    c = FhirClient(BASE, auth=BearerAuth(secret), retry=RetryPolicy(attempts=1), sleep=lambda s: None)
    with pytest.raises(FatalNetworkError) as info:
        c.request_json("GET", "Patient/1")
    said = str(info.value)
    assert (secret not in said and "got <redacted>" in said) if hidden else said.endswith(f"got {secret}")


@responses.activate
def test_an_empty_password_does_not_scramble_messages():
    responses.add("GET", URL, status=400, json=outcome({"severity": "error", "code": "x", "diagnostics": "bad"}))
    c = FhirClient(BASE, auth=BasicAuth("u", ""), retry=RetryPolicy(attempts=1), sleep=lambda s: None)
    with pytest.raises(FatalNetworkError) as info:
        c.request_json("GET", "Patient/1")
    assert str(info.value) == f"GET {URL} failed: HTTP 400: error: bad"


# ------------------------------------------------------------------ a 2xx body that is not JSON


def parse_error(body: bytes, content_type: str | None) -> Exception:
    responses.add("GET", URL, body=body, status=200, content_type=content_type)
    with pytest.raises(Exception) as info:
        client().request_json("GET", "Patient/1")
    return info.value


@responses.activate
def test_plain_text_instead_of_json_is_fatal_and_asks_about_the_base():
    exc = parse_error(b"hello there", "text/plain")
    assert type(exc) is FatalNetworkError and (exc.status, exc.url) == (200, URL)
    assert str(exc) == (
        f"GET {URL} returned text/plain (text 'hello there') instead of FHIR JSON - is --server the FHIR base URL?"
    )


@responses.activate
def test_an_html_page_instead_of_json_suggests_a_login_page():
    exc = parse_error(b"<html><head><title>Sign in</title></head></html>", "text/html")
    assert type(exc) is FatalNetworkError and (exc.status, exc.url) == (200, URL)
    assert str(exc).startswith(f"GET {URL} returned text/html (an HTML page")
    assert str(exc).endswith("instead of FHIR JSON - a login page or a proxy in front of the server?")


@responses.activate
def test_a_body_without_a_content_type_says_so():
    exc = parse_error(b"hello", None)
    assert type(exc) is FatalNetworkError
    assert str(exc).startswith(f"GET {URL} returned no content type (text 'hello')")


@responses.activate
def test_json_cut_short_is_temporary():
    exc = parse_error(b'{"resourceType": "Pat', "application/fhir+json")
    assert type(exc) is TemporaryNetworkError and (exc.status, exc.url) == (200, URL)
    assert str(exc).startswith(f"GET {URL}: the JSON body is incomplete (")
    assert str(exc).endswith(" bytes: JSONDecodeError) - cut short on the way" + GAVE_UP)


# ------------------------------------------------------------------ what is sent


@responses.activate
def test_request_sends_form_data_and_request_json_sends_headers():
    responses.add("POST", f"{BASE}/Patient/_search", json={"resourceType": "Bundle", "type": "searchset"})
    responses.add("GET", URL, json={"resourceType": "Patient", "id": "1"})
    c = client()
    r = c.request("POST", "Patient/_search", data={"name": "Ivanov"})
    assert r.status_code == 200 and responses.calls[0].request.body == "name=Ivanov"
    assert c.request_json("GET", "Patient/1", headers={"Prefer": "handling=strict"}) == {
        "resourceType": "Patient",
        "id": "1",
    }
    assert responses.calls[1].request.headers["Prefer"] == "handling=strict"
    assert json.loads(responses.calls[1].response.content)["id"] == "1"


TOKEN = "eyJhbGciOiJSUzM4NCJ9.probe45-token-value-0123456789"


@responses.activate
def test_a_token_in_a_link_the_server_sends_back_never_reaches_a_message_or_the_log(caplog):
    # probe45 D4: a next link carrying ?access_token=<our token>, answered 503: the token was in every
    # http.retry line, the summary's problems and the state file
    import logging

    first = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [],
        "link": [{"relation": "next", "url": f"{BASE}/Observation?_page=2&access_token={TOKEN}"}],
    }
    responses.add("GET", f"{BASE}/Observation", json=first)
    responses.add("GET", f"{BASE}/Observation", status=503, body="down")
    c = FhirClient(BASE, auth=BearerAuth(TOKEN), retry=RetryPolicy(attempts=3), sleep=lambda s: None)
    with caplog.at_level(logging.DEBUG, logger="poems_fhir"), pytest.raises(TemporaryNetworkError) as info:
        list(c.search("Observation"))
    said = [str(info.value), str(info.value.url), *(r.getMessage() for r in caplog.records)]
    said += [str(getattr(r, "fields", "")) for r in caplog.records]
    assert len(caplog.records) == 2  # two retries logged
    assert all(TOKEN not in s and TOKEN[:12] not in s for s in said), said
    assert "access_token=<redacted>" in str(info.value)


@responses.activate
def test_a_token_echoed_cut_short_is_masked_too():
    # probe45 D9: "invalid token: SECRETTOKE…" kept the token's first characters in clear
    echo = f"invalid token: {TOKEN[:10]} ... {TOKEN} ... {TOKEN[-12:]}"
    responses.add("GET", URL, status=400, json=outcome({"severity": "error", "code": "x", "diagnostics": echo}))
    c = FhirClient(BASE, auth=BearerAuth(TOKEN), retry=RetryPolicy(attempts=1), sleep=lambda s: None)
    with pytest.raises(FatalNetworkError) as info:
        c.request_json("GET", "Patient/1")
    assert str(info.value).endswith("invalid token: <redacted> ... <redacted> ... <redacted>")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://h/fhir/Observation?_page=2&access_token=abc",
            "https://h/fhir/Observation?_page=2&access_token=<redacted>",
        ),
        (
            "https://h/f?X-Amz-Signature=1a2b&X-Amz-Credential=AK%2F1&x=1",
            "https://h/f?X-Amz-Signature=<redacted>&X-Amz-Credential=<redacted>&x=1",
        ),
        ("https://h/f?sig=s&sv=2020", "https://h/f?sig=<redacted>&sv=2020"),
        ("https://u:p@h/fhir?api_key=k#frag", "https://<user-info>@h/fhir?api_key=<redacted>#frag"),
        # a search's own parameters stay: they say which search failed (FHIR's `code` is no OAuth code)
        (
            "https://h/fhir/Observation?patient=p1&code=http://loinc.org|1-8",
            "https://h/fhir/Observation?patient=p1&code=http://loinc.org|1-8",
        ),
        ("https://h/fhir/Patient?name=token&_count=10", "https://h/fhir/Patient?name=token&_count=10"),
    ],
)
def test_redact_masks_the_query_parameters_that_carry_credentials(url, shown):
    from poems_fhir.fhir.http import redact

    assert redact(url) == shown
