"""`poems-fhir sync` against faulty servers: each cause has its own message and exit code."""

from __future__ import annotations

import pytest
import responses
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.errors import ConfigError
from poems_fhir.sync.config import load_settings
from tests.fhir.test_network_faults import HTML_404
from tests.fhir.transcripts import BASE, ORIGIN, exchange, fill, register

METADATA = fill(exchange("01-metadata.json", 0)["response"]["body"])
DATE = {"Date": "Fri, 27 Nov 2026 10:00:00 GMT"}


@pytest.fixture(autouse=True)
def no_real_sleep(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("poems_fhir.sync.runner.time.sleep", slept.append)
    monkeypatch.delenv("POEMS_FHIR_TOKEN", raising=False)
    return slept


def sync(tmp_path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["sync", "--state", str(tmp_path / "s.sqlite"), *args], env=env or {})


def test_down_server_with_client_credentials_and_no_token_url_says_down(tmp_path, no_real_sleep):
    result = sync(
        tmp_path,
        "--server",
        "http://127.0.0.1:9/fhir",
        "--auth",
        "client-credentials",
        "--client-id",
        "c",
        env={"POEMS_FHIR_CLIENT_SECRET": "pw-123456"},
    )
    assert result.exit_code == 3, result.output
    assert "connection refused - the server is down" in result.output
    assert "could not discover" not in result.output and "pw-123456" not in result.output
    assert len(no_real_sleep) == 4  # retried with the same backoff as any request


@responses.activate
def test_wrong_base_exits_2_with_a_suggestion_and_no_html(tmp_path):
    responses.add("GET", f"{ORIGIN}/fhir/metadata", status=404, body=HTML_404, content_type="text/html")
    responses.add("GET", f"{BASE}/metadata", json=METADATA)
    result = sync(tmp_path, "--server", f"{ORIGIN}/fhir")
    assert result.exit_code == 2, result.output
    assert f"{ORIGIN}/fhir is not a FHIR base" in result.output
    assert f"try --server {BASE}" in result.output
    assert "<" not in result.output and "Apache" not in result.output


@responses.activate
def test_refused_token_exits_4(tmp_path):
    responses.add("GET", f"{BASE}/metadata", json=METADATA, headers=DATE)
    register(responses, "02-auth.json", 4, url="Observation")  # 401 for a garbage token
    result = sync(tmp_path, "--server", BASE, "--auth", "bearer", env={"POEMS_FHIR_TOKEN": "garbage-token"})
    assert result.exit_code == 4, result.output
    assert "authentication refused" in result.output and "garbage-token" not in result.output


@responses.activate
def test_missing_permission_exits_5_and_names_it(tmp_path):
    responses.add("GET", f"{BASE}/metadata", json=METADATA, headers=DATE)
    responses.add(
        "GET",
        f"{BASE}/Observation",
        status=403,
        json={
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "forbidden", "details": {"text": "Forbidden"}}],
        },
    )
    result = sync(tmp_path, "--server", BASE, "--auth", "bearer", env={"POEMS_FHIR_TOKEN": "tok-123456"})
    assert result.exit_code == 5, result.output
    assert "permission missing: the server refused search on Observation" in result.output
    assert "system/Observation.read" in result.output


@responses.activate
def test_server_errors_that_persist_exit_3(tmp_path):
    responses.add(
        "GET", f"{BASE}/metadata", status=503, body="<html><title>Maintenance</title></html>", content_type="text/html"
    )
    result = sync(tmp_path, "--server", BASE)
    assert result.exit_code == 3, result.output
    assert "HTTP 503" in result.output and "gave up after 5" in result.output and "<" not in result.output


def test_deadlines_are_flags_and_config_keys(tmp_path):
    cfg = tmp_path / "sync.toml"
    cfg.write_text('request-deadline = "2m"\nrun-deadline = "1h"\n')
    s = load_settings(cfg, {}, environ={})
    assert (s.request_deadline, s.run_deadline) == ("2m", "1h")
    s = load_settings(cfg, {"request_deadline": "30s"}, environ={"POEMS_FHIR_RUN_DEADLINE": "2h"})
    assert (s.request_deadline, s.run_deadline) == ("30s", "2h")
    assert (load_settings(None, {}, environ={}).request_deadline, load_settings(None, {}, environ={}).run_deadline) == (
        "5m",
        "6h",
    )
    with pytest.raises(ConfigError, match="request-deadline"):
        load_settings(None, {"request_deadline": "soon"}, environ={})
    with pytest.raises(ConfigError, match="at least 1s"):
        load_settings(None, {"run_deadline": "0s"}, environ={})
    assert sync(tmp_path, "--server", BASE, "--run-deadline", "never").exit_code == 2


@responses.activate
def test_the_run_deadline_reaches_the_client(tmp_path, monkeypatch):
    seen = {}
    from poems_fhir.fhir import http

    real = http.Transport.__post_init__

    def spy(self):
        seen["deadlines"] = self.deadlines
        real(self)

    monkeypatch.setattr(http.Transport, "__post_init__", spy)
    responses.add("GET", f"{BASE}/metadata", status=404, json={"resourceType": "OperationOutcome", "issue": []})
    sync(tmp_path, "--server", BASE, "--request-deadline", "45s", "--run-deadline", "2h")
    assert (seen["deadlines"].request, seen["deadlines"].run) == (45, 7200)


@responses.activate
def test_the_run_deadline_asks_the_job_to_stop_after_the_patient_in_flight(tmp_path):
    from poems_fhir.sync.runner import StopFlag, make_job
    from poems_fhir.sync.state import StateStore
    from tests.fhir.loopback import FakeClock

    responses.add("GET", f"{BASE}/metadata", json=METADATA, headers=DATE)
    s = load_settings(None, {"server": BASE, "run_deadline": "1h", "patient": ("a",)}, environ={})
    store = StateStore(tmp_path / "s.sqlite")
    try:
        job, _, source = make_job(s, store, StopFlag(), lambda items: items, sleep=lambda seconds: None)
        clock = FakeClock()
        source.client.transport.monotonic = clock
        source.client.transport.start_run()
        assert not job.stop_requested()
        clock.now = 3600.0
        assert job.stop_requested()
    finally:
        store.close()
