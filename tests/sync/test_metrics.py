"""Prometheus metrics after each run (textfile collector) and /metrics + /healthz on loopback."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from poems_fhir import __version__
from poems_fhir.cli import main
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.job import Summary
from poems_fhir.sync.metrics import HealthServer, SyncMetrics
from poems_fhir.sync.runner import StopFlag
from tests.conftest import SAMPLES


def samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(path.read_text())
        for s in f.samples
    }


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_run_metrics_are_written_and_carried_over_between_one_shot_runs(tmp_path):
    prom = tmp_path / "textfile" / "poems_fhir.prom"
    clock = Clock()
    m = SyncMetrics(previous=prom, clock=clock)
    m.run_started()
    clock.t += 12.5
    m.run_finished(Summary(patients_scanned=3, written=2, out_of_scope=1, requests=40, retries=2, completed=True), 0, 0)
    m.write(prom)
    got = samples(prom)
    assert got[("poems_fhir_runs_total", (("outcome", "completed"),))] == 1
    assert got[("poems_fhir_patients_total", (("outcome", "written"),))] == 2
    assert got[("poems_fhir_requests_total", ())] == 40 and got[("poems_fhir_retries_total", ())] == 2
    assert got[("poems_fhir_last_run_duration_seconds", ())] == 12.5
    assert got[("poems_fhir_last_success_timestamp_seconds", ())] == clock.t
    assert not any(name.endswith("_created") for name, _ in got)
    success = clock.t
    # the next process: a failed run keeps the counters and the last success time
    clock.t += 900
    m2 = SyncMetrics(previous=prom, clock=clock)
    m2.run_started()
    m2.run_finished(Summary(patients_scanned=1, conflicts=1, skipped_input=2, requests=5, completed=True), 1, 2)
    m2.run_started()
    m2.run_failed(3)
    m2.write(prom)
    got = samples(prom)
    assert got[("poems_fhir_runs_total", (("outcome", "completed"),))] == 2
    assert got[("poems_fhir_runs_total", (("outcome", "error"),))] == 1
    assert got[("poems_fhir_patients_total", (("outcome", "conflict"),))] == 1
    assert got[("poems_fhir_conflicts_total", ())] == 1 and got[("poems_fhir_skipped_input_total", ())] == 2
    assert got[("poems_fhir_requests_total", ())] == 45
    assert got[("poems_fhir_last_run_exit_code", ())] == 3
    assert got[("poems_fhir_last_success_timestamp_seconds", ())] == success
    assert [p.name for p in prom.parent.iterdir()] == ["poems_fhir.prom"]  # no temporary file left


def test_an_unreadable_previous_file_starts_from_zero(tmp_path):
    prom = tmp_path / "poems_fhir.prom"
    prom.write_bytes(b"\xff\xfe not metrics {{{")
    m = SyncMetrics(previous=prom)
    m.run_started()
    m.run_finished(Summary(written=1), 0, 0)
    m.write(prom)
    assert samples(prom)[("poems_fhir_patients_total", (("outcome", "written"),))] == 1


def test_health_is_stale_when_the_loop_stops_making_progress():
    clock = Clock()
    m = SyncMetrics(clock=clock)
    assert m.health(900)[0] == 503  # no run yet
    m.run_started()
    assert m.health(900) == (200, {"status": "ok", "last_run_end": None, "last_success": None, "last_exit_code": None})
    clock.t += 60
    m.run_failed(3)
    code, body = m.health(900)
    assert code == 200 and body["last_exit_code"] == 3 and body["last_success"] is None  # an outage is not death
    clock.t += 2 * 900 + 601
    assert m.health(900)[0] == 503


def test_metrics_and_healthz_served_on_loopback():
    m = SyncMetrics()
    m.run_started()
    m.run_finished(Summary(written=4, completed=True), 0, 0)
    server = HealthServer(m, 0, 900).start()
    try:
        assert server.server.server_address[0] == "127.0.0.1"
        base = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(base + "/metrics", timeout=5) as r:  # noqa: S310 - loopback test server
            text = r.read().decode()
            assert r.headers["Content-Type"].startswith("text/plain")
        assert 'poems_fhir_patients_total{outcome="written"} 4.0' in text
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:  # noqa: S310
            assert json.loads(r.read())["status"] == "ok"
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(base + "/other", timeout=5)  # noqa: S310
        assert exc.value.code == 404
    finally:
        server.stop()


def test_sync_writes_the_metrics_file_after_each_run(tmp_path, monkeypatch):
    waits = []

    def fake_wait(self, timeout=None):
        waits.append(timeout)
        return len(waits) >= 2

    monkeypatch.setattr("threading.Event.wait", fake_wait)
    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    prom = tmp_path / "poems_fhir.prom"
    result = CliRunner().invoke(
        main,
        [
            "sync",
            "--source",
            str(SAMPLES / "classic-poems.json"),
            "--out",
            str(tmp_path / "o"),
            "--state",
            str(tmp_path / "s.sqlite"),
            "--every",
            "15m",
            "--metrics-file",
            str(prom),
        ],
    )
    assert result.exit_code == 0, result.output
    got = samples(prom)
    assert got[("poems_fhir_runs_total", (("outcome", "completed"),))] == 2
    assert got[("poems_fhir_patients_total", (("outcome", "written"),))] == 1
    assert got[("poems_fhir_patients_total", (("outcome", "unchanged"),))] == 1
    default = load_mapping([]).identity[0]
    assert [k for k in got if k[0] == "poems_fhir_info"][0][1] == (
        ("mapping", f"{default['name']}@{default['version']}"),
        ("version", __version__),
    )


def test_metrics_options_are_checked(tmp_path):
    base = ["sync", "--source", str(SAMPLES), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, [*base, "--metrics-port", "9464"])
    assert result.exit_code == 2 and "--every mode only" in result.output
    result = CliRunner().invoke(main, [*base, "--metrics-file", str(tmp_path / "m.txt")])
    assert result.exit_code == 2 and "*.prom" in result.output


def test_every_mode_serves_metrics_and_health_while_it_waits(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    seen = []
    real_wait = threading.Event.wait

    def fake_wait(self, timeout=None):
        if timeout != 900:  # threads starting up wait too
            return real_wait(self, timeout)
        # between two runs: ask the loop's own server, as a probe would
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:  # noqa: S310
            seen.append((r.status, json.loads(r.read())))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:  # noqa: S310
            seen.append(r.read().decode())
        return len(seen) >= 4

    monkeypatch.setattr("threading.Event.wait", fake_wait)
    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    result = CliRunner().invoke(
        main,
        [
            "sync",
            "--source",
            str(SAMPLES / "classic-poems.json"),
            "--out",
            str(tmp_path / "o"),
            "--state",
            str(tmp_path / "s.sqlite"),
            "--every",
            "15m",
            "--metrics-port",
            str(port),
        ],
    )
    assert result.exit_code == 0, result.output
    (status, health), metrics_text = seen[0], seen[1]
    assert status == 200 and health["status"] == "ok" and health["last_exit_code"] == 0
    assert 'poems_fhir_runs_total{outcome="completed"} 1.0' in metrics_text
    assert 'poems_fhir_runs_total{outcome="completed"} 2.0' in seen[3]
    with pytest.raises(OSError):  # stopped with the loop
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)  # noqa: S310
