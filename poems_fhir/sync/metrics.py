# SPDX-License-Identifier: Apache-2.0
"""Prometheus metrics of the sync job (prometheus_client), and /metrics + /healthz on loopback.

After each run the metrics are written atomically (temporary file + rename, prometheus_client's
write_to_textfile) for the node exporter's textfile collector. A one-shot run (cron, systemd timer,
CronJob) is a new process each time, so the counters and the last-success time are carried over
from the file the previous run wrote.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Info, generate_latest
from prometheus_client import disable_created_metrics, write_to_textfile
from prometheus_client.parser import text_string_to_metric_families

from .. import __version__
from .events import ev

log = logging.getLogger("poems_fhir.sync")

PATIENT_OUTCOMES = ("written", "would_write", "unchanged", "out_of_scope", "conflicts", "failed", "missing")
#: Summary field -> the outcome label in poems_fhir_patients_total
_OUTCOME_LABEL = {
    "written": "written",
    "would_write": "would_write",
    "unchanged": "unchanged",
    "out_of_scope": "out_of_scope",
    "conflicts": "conflict",
    "failed": "failed",
    "missing": "missing",
}


class SyncMetrics:
    """The job's metrics in their own registry (no global state)."""

    def __init__(self, previous: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        # *_created series would restart with every one-shot process and mislead rate(); the
        # switch is library-wide, and nothing else in this process exports metrics
        disable_created_metrics()
        self.registry = CollectorRegistry()
        r = self.registry
        self.runs = Counter(
            "poems_fhir_runs", "Sync runs by outcome (completed, stopped, error)", ["outcome"], registry=r
        )
        self.patients = Counter(
            "poems_fhir_patients", "Patients by outcome of their last processing", ["outcome"], registry=r
        )
        self.requests = Counter("poems_fhir_requests", "HTTP requests sent to the FHIR server", registry=r)
        self.retries = Counter("poems_fhir_retries", "HTTP requests retried", registry=r)
        self.conflicts = Counter(
            "poems_fhir_conflicts",
            "Writes refused because someone else changed the resource (not overwritten)",
            registry=r,
        )
        self.skipped = Counter("poems_fhir_skipped_input", "Input resources or files skipped as unreadable", registry=r)
        self.duration = Gauge("poems_fhir_last_run_duration_seconds", "Duration of the last run", registry=r)
        self.last_run = Gauge("poems_fhir_last_run_timestamp_seconds", "End of the last run (Unix time)", registry=r)
        self.last_exit = Gauge(
            "poems_fhir_last_run_exit_code",
            "Exit code of the last run (0 ok, 1 partial, 2 configuration, 3 server)",
            registry=r,
        )
        self.last_success = Gauge(
            "poems_fhir_last_success_timestamp_seconds",
            "End of the last run that completed with exit code 0 (Unix time)",
            registry=r,
        )
        self.info = Info("poems_fhir", "Version of poems-fhir and of the mapping in force", registry=r)
        self.info.info({"version": __version__, "mapping": ""})
        for outcome in ("completed", "stopped", "error"):
            self.runs.labels(outcome)
        for field_name in PATIENT_OUTCOMES:
            self.patients.labels(_OUTCOME_LABEL[field_name])
        self.started: float | None = None
        self.finished: float | None = None
        self.success_at: float | None = None
        self.exit_code: int | None = None
        if previous is not None:
            self._carry_over(previous)

    def _carry_over(self, path: Path) -> None:
        """Counters and the last success from the file a previous run wrote."""
        try:
            text = path.read_text(encoding="utf-8")
            families = list(text_string_to_metric_families(text))
        except FileNotFoundError:
            return
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            log.warning(
                "cannot read the previous metrics file %s (%s): counters start at 0",
                path,
                exc,
                extra=ev("metrics.previous_unreadable", file=str(path)),
            )
            return
        counters: dict[str, Any] = {
            "poems_fhir_requests": self.requests,
            "poems_fhir_retries": self.retries,
            "poems_fhir_conflicts": self.conflicts,
            "poems_fhir_skipped_input": self.skipped,
        }
        for family in families:
            for sample in family.samples:
                if not sample.name.endswith("_total") or sample.value < 0:
                    if sample.name == "poems_fhir_last_success_timestamp_seconds" and sample.value > 0:
                        self.success_at = sample.value
                        self.last_success.set(sample.value)
                    continue
                if family.name == "poems_fhir_runs" and "outcome" in sample.labels:
                    self.runs.labels(sample.labels["outcome"]).inc(sample.value)
                elif family.name == "poems_fhir_patients" and "outcome" in sample.labels:
                    self.patients.labels(sample.labels["outcome"]).inc(sample.value)
                elif family.name in counters:
                    counters[family.name].inc(sample.value)

    def set_mapping(self, identity: list[dict[str, str]]) -> None:
        self.info.info({"version": __version__, "mapping": ",".join(f"{m['name']}@{m['version']}" for m in identity)})

    def run_started(self) -> None:
        self.started = self.clock()

    def run_finished(self, summary: Any, exit_code: int, skipped_input: int) -> None:
        """Record a run that produced a summary."""
        self.runs.labels("completed" if summary.completed else "stopped").inc()
        for field_name in PATIENT_OUTCOMES:
            self.patients.labels(_OUTCOME_LABEL[field_name]).inc(getattr(summary, field_name))
        self.requests.inc(summary.requests)
        self.retries.inc(summary.retries)
        self.conflicts.inc(summary.conflicts)
        self.skipped.inc(skipped_input)
        self._end(exit_code, success=summary.completed and exit_code == 0)

    def run_failed(self, exit_code: int) -> None:
        """Record a run that ended with a fatal error (server unreachable, configuration, ...)."""
        self.runs.labels("error").inc()
        self._end(exit_code, success=False)

    def _end(self, exit_code: int, success: bool) -> None:
        now = self.clock()
        self.finished = now
        self.duration.set(now - self.started if self.started is not None else 0.0)
        self.last_run.set(now)
        self.last_exit.set(exit_code)
        self.exit_code = exit_code
        if success:
            self.success_at = now
            self.last_success.set(now)

    def write(self, path: Path) -> None:
        """Atomically (write + rename in the same folder): the collector never reads half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), self.registry)

    def text(self) -> bytes:
        return generate_latest(self.registry)

    def health(self, interval: float, grace: float = 600.0) -> tuple[int, dict[str, Any]]:
        """Liveness of the --every loop: a run has started or ended within 2 intervals (+ grace).

        A server outage does not make the loop unhealthy (restarting it would not help): the last
        exit code and success time are in the body for readiness-style checks."""
        now = self.clock()
        heartbeat = max(t for t in (self.started, self.finished, 0.0) if t is not None)
        stale = heartbeat == 0.0 or now - heartbeat > 2 * interval + grace
        body = {
            "status": "stale" if stale else "ok",
            "last_run_end": self.finished,
            "last_success": self.success_at,
            "last_exit_code": self.exit_code,
        }
        return (503 if stale else 200), body


class HealthServer:
    """GET /metrics (Prometheus text format) and /healthz (JSON) on 127.0.0.1 only."""

    def __init__(self, metrics: SyncMetrics, port: int, interval: float) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path.split("?")[0] == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, outer.metrics.text())
                elif self.path.split("?")[0] == "/healthz":
                    code, body = outer.metrics.health(outer.interval)
                    self._send(code, "application/json", json.dumps(body).encode())
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

            def _send(self, code: int, ctype: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - scrapes are not logged
                pass

        self.metrics = metrics
        self.interval = interval
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="poems-fhir-metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> HealthServer:
        self.thread.start()
        log.info(
            "metrics on http://127.0.0.1:%d/metrics, health on /healthz",
            self.port,
            extra=ev("metrics.listening", port=self.port),
        )
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
