"""probe80 D1/D2/D3: a secret a server or token endpoint echoes on any path is masked in the summary, the
log and the state; a token that cannot go into a header is a configuration/auth error, never a crash; a
404 to one of a patient's searches fails the patient for this run, it does not park it as gone."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
import responses
from click.testing import CliRunner

from poems_fhir.cli import main
from tests.fhir.transcripts import BASE, ORIGIN, exchange, fill

METADATA = fill(exchange("01-metadata.json", 0)["response"]["body"])
DATE = {"Date": "Fri, 27 Nov 2026 10:00:00 GMT"}
TOKEN = "tok-S3cr3tV4lue-9f8e7d6c5b4a"
CLIENT_SECRET = "cs-Cl13ntS3cr3t-abcdef0123"
TOKEN_URL = f"{ORIGIN}/oauth2/token"


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch):
    monkeypatch.setattr("poems_fhir.sync.runner.time.sleep", lambda s: None)
    monkeypatch.delenv("POEMS_FHIR_TOKEN", raising=False)
    monkeypatch.delenv("POEMS_FHIR_CLIENT_SECRET", raising=False)


def sync(tmp_path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(
        main,
        ["sync", "--state", str(tmp_path / "s.sqlite"), "--format", "json", "--log-format", "json", *args],
        env=env or {},
    )


def leaked(text: str, secret: str) -> bool:
    """The secret, or any 12 characters of it, in ``text``."""
    return any(secret[i : i + 12] in text for i in range(len(secret) - 11))


def state_text(tmp_path) -> str:
    path = tmp_path / "s.sqlite"
    if not path.exists():
        return ""
    with sqlite3.connect(path) as db:
        return " ".join(str(r) for r in db.execute("SELECT * FROM patient"))


def one_json_object(stdout: str) -> dict:
    doc = json.loads(stdout)
    assert isinstance(doc, dict)
    return doc


def empty_bundle() -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": []}


def client_credentials(tmp_path, *extra: str) -> list[str]:
    secret = tmp_path / "secret"
    secret.write_text(CLIENT_SECRET + "\n")
    return [
        "--server",
        BASE,
        "--auth",
        "client-credentials",
        "--client-id",
        "poems",
        "--client-secret-file",
        str(secret),
        *extra,
    ]


@responses.activate
def test_a_token_endpoint_answering_200_html_with_the_secret_in_its_title_is_masked(tmp_path):
    responses.add("GET", f"{BASE}/metadata", json=METADATA, headers=DATE)
    responses.add("POST", TOKEN_URL, body=f"<html><title>SSO {CLIENT_SECRET}</title></html>", content_type="text/html")
    result = sync(tmp_path, *client_credentials(tmp_path, "--token-url", TOKEN_URL))
    assert result.exit_code == 2, result.output
    assert "returned an HTML page" in result.output and "<redacted>" in result.output
    assert not leaked(result.output, CLIENT_SECRET)
    assert one_json_object(result.stdout)["completed"] is False


@responses.activate
def test_a_smart_configuration_answering_200_html_with_the_secret_in_its_title_is_masked(tmp_path):
    responses.add("GET", f"{BASE}/metadata", json=METADATA, headers=DATE)
    responses.add(
        "GET",
        f"{BASE}/.well-known/smart-configuration",
        body=f"<html><title>login {CLIENT_SECRET}</title></html>",
        content_type="text/html",
    )
    result = sync(tmp_path, *client_credentials(tmp_path))
    assert result.exit_code == 2, result.output
    assert "could not discover the token endpoint" in result.output and "<redacted>" in result.output
    assert not leaked(result.output, CLIENT_SECRET)


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ({"resourceType": f"Foo {TOKEN}"}, 2),
        ({**METADATA, "fhirVersion": TOKEN}, 3),
    ],
    ids=["resourceType", "fhirVersion"],
)
@responses.activate
def test_a_token_echoed_in_the_metadata_answer_is_masked(tmp_path, metadata, code):
    responses.add("GET", f"{BASE}/metadata", json=metadata, headers=DATE)
    result = sync(tmp_path, "--server", BASE, "--auth", "bearer", env={"POEMS_FHIR_TOKEN": TOKEN})
    assert result.exit_code == code, result.output
    assert "<redacted>" in result.output
    assert not leaked(result.output, TOKEN)


@pytest.mark.parametrize(
    "answer",
    [
        {"resourceType": f"X{TOKEN}"},
        {"resourceType": "Bundle", "type": TOKEN, "entry": []},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": TOKEN, "id": "1"}}]},
    ],
    ids=["search-resourceType", "Bundle.type", "entry-resourceType"],
)
@responses.activate
def test_a_token_echoed_in_a_patients_search_answer_is_masked_in_summary_log_and_state(tmp_path, answer):
    responses.add("GET", f"{BASE}/metadata", json=METADATA, headers=DATE)
    responses.add("GET", re.compile(re.escape(BASE) + r"/Condition\b.*"), json=answer, headers=DATE)
    responses.add("GET", re.compile(re.escape(BASE) + r"/(?!Condition).*"), json=empty_bundle(), headers=DATE)
    responses.add("POST", re.compile(re.escape(BASE) + r"/\w+/_search"), json=empty_bundle(), headers=DATE)
    result = sync(tmp_path, "--server", BASE, "--auth", "bearer", "--patient", "p1", env={"POEMS_FHIR_TOKEN": TOKEN})
    assert result.exit_code == 1, result.output
    doc = one_json_object(result.stdout)
    assert doc["failed"] == 1 and "<redacted>" in " ".join(doc["problems"])
    assert not leaked(result.output, TOKEN)
    state = state_text(tmp_path)
    assert "failed" in state and not leaked(state, TOKEN)


# ---------------------------------------------------------------- D2: tokens that cannot be sent


@pytest.mark.parametrize(
    "content",
    ["abcdef-secretvalue-2lines\nrefresh-token-xyz\n", "abcdef-secretvalue-\u20ac-euro\n", "abcdef secretvalue"],
    ids=["two-lines", "non-latin-1", "space"],
)
def test_a_token_file_that_cannot_be_sent_is_a_configuration_error_that_does_not_show_it(tmp_path, content):
    token = tmp_path / "token"
    token.write_text(content, encoding="utf-8")
    result = sync(tmp_path, "--server", BASE, "--auth", "bearer", "--token-file", str(token))
    assert result.exit_code == 2, result.output
    doc = one_json_object(result.stdout)
    assert doc["error_type"] == "UnusableSecretError" and str(token) in doc["error"]
    assert "one line of visible ASCII" in doc["error"]
    assert "secretvalue" not in result.output and "refresh-token" not in result.output


def test_a_token_in_the_environment_with_a_line_break_is_a_configuration_error(tmp_path):
    result = sync(tmp_path, "--server", BASE, "--auth", "bearer", env={"POEMS_FHIR_TOKEN": "abcdefgh\r\nX-Evil: 1"})
    assert result.exit_code == 2, result.output
    assert "POEMS_FHIR_TOKEN" in one_json_object(result.stdout)["error"]
    assert "abcdefgh" not in result.output and "X-Evil" not in result.output


@pytest.mark.parametrize("access_token", ["at-Acc3ssT0ken-7777aaaa\r\nX-Evil: 1", "at-Acc3ssT0ken-\u20ac-7777aaaa"])
@responses.activate
def test_an_access_token_that_cannot_be_sent_is_an_auth_error_that_does_not_show_it(tmp_path, access_token):
    responses.add("GET", f"{BASE}/metadata", json=METADATA, headers=DATE)
    responses.add("POST", TOKEN_URL, json={"access_token": access_token, "token_type": "bearer", "expires_in": 300})
    result = sync(tmp_path, *client_credentials(tmp_path, "--token-url", TOKEN_URL))
    assert result.exit_code == 4, result.output
    doc = one_json_object(result.stdout)
    assert doc["error_type"] == "UnusableTokenError" and "cannot be sent in an Authorization header" in doc["error"]
    assert "Acc3ss" not in result.output and "X-Evil" not in result.output
    assert not leaked(result.output, CLIENT_SECRET)


def test_config_check_online_reports_a_two_line_token_file_without_showing_it(tmp_path):
    token = tmp_path / "token"
    token.write_text("abcdef-secretvalue-2lines\nrefresh-token-xyz\n")
    token.chmod(0o600)
    config = tmp_path / "sync.toml"
    config.write_text(
        f'server = "{BASE}"\nauth = "bearer"\ntoken-file = "{token}"\nstate = "{tmp_path / "s.sqlite"}"\n'
    )
    result = CliRunner().invoke(main, ["config", "check", "--online", "--format", "json", "--config", str(config)])
    assert result.exit_code == 2, result.output
    doc = one_json_object(result.stdout)
    failed = [c for c in doc["checks"] if c["status"] == "fail"]
    assert any("2 lines" in c["detail"] for c in failed), doc
    assert "secretvalue" not in result.output and "refresh-token" not in result.output


# ---------------------------------------------------------------- D3: a search's 404 is not a gone patient

NOT_FOUND = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1960-01-01"}


def patient_server(rsps, *, search_404: str, patient_status: int = 200) -> None:
    """A server whose ``search_404`` route ("GET Procedure", "POST Observation") answers 404."""
    method, rtype = search_404.split()
    rsps.add("GET", f"{BASE}/metadata", json=METADATA, headers=DATE)
    search = rf"/{rtype}/_search" if method == "POST" else rf"/{rtype}\b(?!/).*"
    rsps.add(method, re.compile(re.escape(BASE) + search), status=404, json=NOT_FOUND, headers=DATE)
    rsps.add(
        "GET",
        f"{BASE}/Patient/p1",
        status=patient_status,
        json=PATIENT if patient_status == 200 else NOT_FOUND,
        headers=DATE,
    )
    rsps.add("GET", re.compile(re.escape(BASE) + r"/(?!Patient/)\w+\b(?!/).*"), json=empty_bundle(), headers=DATE)
    rsps.add("POST", re.compile(re.escape(BASE) + r"/\w+/_search"), json=empty_bundle(), headers=DATE)


@pytest.mark.parametrize("route", ["GET Procedure", "POST Observation"])
@responses.activate
def test_a_404_to_a_patients_search_fails_the_patient_for_this_run_it_is_not_missing(tmp_path, route):
    patient_server(responses, search_404=route)
    result = sync(tmp_path, "--server", BASE, "--patient", "p1", "--phi")
    assert result.exit_code == 1, result.output
    doc = one_json_object(result.stdout)
    assert (doc["failed"], doc["missing"]) == (1, 0), doc
    problem = " ".join(doc["problems"])
    assert f"{BASE}/{route.split()[1]}" in problem and "a search endpoint answered HTTP 404" in problem
    assert "no longer retried" not in problem
    assert "'failed'" in state_text(tmp_path) and "'missing'" not in state_text(tmp_path)


@responses.activate
def test_a_404_to_a_search_of_a_patient_the_server_no_longer_has_makes_it_missing(tmp_path):
    patient_server(responses, search_404="GET Procedure", patient_status=404)
    result = sync(tmp_path, "--server", BASE, "--patient", "p1", "--phi")
    assert result.exit_code == 1, result.output
    doc = one_json_object(result.stdout)
    assert (doc["failed"], doc["missing"]) == (0, 1), doc
    assert "not on the server (HTTP 404)" in " ".join(doc["problems"])


def test_a_patient_parked_as_missing_by_a_search_404_is_back_in_the_retry_queue(tmp_path):
    from poems_fhir.sync.state import StateStore

    store = StateStore(tmp_path / "s.sqlite")
    parked = {
        "Patient/a": "GET http://h/fhir/R4/Procedure failed: HTTP 404: error: Not found",
        "Patient/b": "POST http://h/fhir/R4/Observation/_search failed: HTTP 404: error: Not found",
        "Patient/c": "GET http://h/fhir/R4/Patient/patient-0123456789abcdef failed: HTTP 404: error: Not found",
        "Patient/d": "no resources found",
    }
    for patient, reason in parked.items():
        store.record_patient("srv", patient, "", {}, "missing", "2026-12-05T00:00:00", reason=reason, attempts=2)
    assert sorted(store.retry_queue("srv")) == ["Patient/a", "Patient/b"]
