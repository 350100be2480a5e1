"""Structured logs, fatal errors in JSON, one-line summaries, skipped input in the exit code."""

from __future__ import annotations

import ast
import io
import json
import logging
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.sync.events import TEMPLATES, ev, setup_logging
from poems_fhir.sync.runner import StopFlag
from tests.conftest import SAMPLES

PACKAGE = Path(__file__).resolve().parents[2] / "poems_fhir"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00 ")


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:  # click >= 8.2 keeps stderr apart by default
        return CliRunner()


def sync(*args: str):
    return _runner().invoke(main, ["sync", *args], catch_exceptions=False)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_every_log_call_in_the_package_has_an_event_name():
    """A log call passes extra=ev(...) or its format string is in events.TEMPLATES."""
    missing = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"
                and node.func.attr in ("debug", "info", "warning", "error", "critical", "exception")
            ):
                has_event = any(k.arg == "extra" for k in node.keywords)
                template = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
                if not has_event and template not in TEMPLATES:
                    missing.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert missing == []


def test_json_and_text_formatters():
    stream = io.StringIO()
    setup_logging("json", stream)
    log = logging.getLogger("poems_fhir.sync")
    log.info("%s: wrote %d resources (%s)", "patient-abc", 4, "met")
    log.warning("plain", extra=ev("custom.event", count=2, items=["a"]))
    log.info("no template %s", "x")
    first, second, third = json_lines(stream.getvalue())
    assert (first["event"], first["patient"], first["resources"], first["classification"]) == (
        "patient.written",
        "patient-abc",
        4,
        "met",
    )
    assert (second["event"], second["count"], second["items"], second["level"]) == ("custom.event", 2, ["a"], "warning")
    assert third["event"] == "sync.test_json_and_text_formatters" and third["time"].endswith("+00:00")
    stream = io.StringIO()
    setup_logging("text", stream)
    log.info("%s: wrote %d resources (%s)", "patient-abc", 4, "met")
    line = stream.getvalue().splitlines()[0]
    assert TIMESTAMP.match(line)
    assert "INFO patient.written: patient-abc: wrote 4 resources (met) | patient=patient-abc resources=4" in line


def test_text_logs_cannot_be_forged_or_carry_terminal_sequences():
    """A hookInstance or a server's error text with a newline or an ESC (found by a black-box fuzzer)."""
    stream = io.StringIO()
    setup_logging("text", stream)
    log = logging.getLogger("poems_fhir.serve")
    forged = "abc\n2026-01-01T00:00:00.000+00:00 INFO cds.request: FORGED"
    log.info("request %s", forged, extra=ev("cds.request", hook_instance="x\x1b[31mRED\x1b[0m", other=forged))
    text = stream.getvalue()
    assert len(text.splitlines()) == 1 and "\x1b" not in text
    assert 'hook_instance="x\\u001b[31mRED\\u001b[0m"' in text and "request abc\\n2026" in text
    stream = io.StringIO()
    setup_logging("text", stream)
    log.info("plain café", extra=ev("cds.request", hook_instance="naïve-1"))
    assert "plain café" in stream.getvalue() and "hook_instance=naïve-1" in stream.getvalue()  # printable: as is


def test_sync_json_logs_are_one_object_per_line_with_events(tmp_path):
    result = sync(
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--log-format",
        "json",
    )
    records = json_lines(result.stderr)
    events = [r["event"] for r in records]
    assert events[0] == "mapping.unverified" and records[0]["count"] > 0  # UNVERIFIED entries are in force
    assert "cohort" in events and "patient.written" in events and events[-1] == "run.finished"
    finished = records[-1]
    assert finished["written"] == 1 and finished["exit_code"] == 0 and finished["duration_s"] >= 0
    written = next(r for r in records if r["event"] == "patient.written")
    assert written["patient"].startswith("patient-")  # pseudonym, never the id


def test_fatal_errors_are_json_with_log_format_json_and_summarised_with_format_json(tmp_path):
    result = sync(
        "--source",
        str(tmp_path / "missing"),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--log-format",
        "json",
        "--format",
        "json",
    )
    assert result.exit_code == 2
    fatal = json_lines(result.stderr)[-1]
    assert (fatal["event"], fatal["level"], fatal["exit_code"]) == ("fatal", "error", 2)
    assert "no such file" in fatal["message"]
    assert json.loads(result.stdout) == {
        "completed": False,
        "error": fatal["error"],
        "error_type": fatal["error_type"],
        "exit_code": 2,
    }
    # a configuration error, before any setting is known
    result = sync("--every", "0s", "--log-format", "json", "--format", "json")
    assert result.exit_code == 2
    assert json_lines(result.stderr)[-1]["event"] == "fatal" and json.loads(result.stdout)["exit_code"] == 2
    # text: one plain line
    result = sync("--every", "0s")
    assert result.stderr.startswith("poems-fhir: error: ") and result.stdout == ""


def test_every_mode_prints_one_json_summary_per_line(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr("threading.Event.wait", lambda self, timeout=None: waits.append(timeout) or len(waits) >= 2)
    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    result = sync(
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--every",
        "15m",
        "--format",
        "json",
    )
    runs = json_lines(result.stdout)
    assert len(runs) == 2 and [r["written"] for r in runs] == [1, 0] and runs[1]["unchanged"] == 1


def test_skipped_input_is_counted_and_exits_1(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SAMPLES / "classic-poems.json", src / "good.json")
    (src / "broken.json").write_text('{"resourceType": "Bundle", "entry": [')
    result = sync(
        "--source", str(src), "--out", str(tmp_path / "o"), "--state", str(tmp_path / "s.sqlite"), "--format", "json"
    )
    doc = json.loads(result.stdout)
    assert doc["skipped_input"] >= 1 and doc["written"] == 1
    assert any("broken.json" in p for p in doc["problems"])
    assert result.exit_code == 1


def test_response_alerts_appear_in_the_summary(tmp_path):
    result = sync(
        "--source",
        str(SAMPLES / "relapse-case.json"),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--format",
        "json",
    )
    doc = json.loads(result.stdout)
    alerts = [a for c in doc["conclusions"] for a in c["alerts"]]
    assert doc["alerts"] == len(alerts) > 0 and all(a["code"] and a["message"] for a in alerts)
    text = sync(
        "--source",
        str(SAMPLES / "relapse-case.json"),
        "--out",
        str(tmp_path / "o2"),
        "--state",
        str(tmp_path / "s2.sqlite"),
    ).stdout
    assert f"  alert: {alerts[0]['code']}: " in text


def test_an_unusable_mapping_file_is_a_configuration_error(tmp_path):
    result = sync(
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--mappings",
        str(tmp_path / "nope.yaml"),
        "--log-format",
        "json",
    )
    assert result.exit_code == 2
    fatal = json_lines(result.stderr)[-1]
    assert fatal["event"] == "fatal" and "nope.yaml" in fatal["message"] and "mappings check" in fatal["message"]


def test_every_mode_outage_leaves_a_json_line_and_a_json_log(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr("threading.Event.wait", lambda self, timeout=None: waits.append(timeout) or len(waits) >= 2)
    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    monkeypatch.setattr("poems_fhir.sync.runner.time.sleep", lambda s: None)
    result = sync(
        "--server",
        "http://127.0.0.1:9/fhir",
        "--state",
        str(tmp_path / "s.sqlite"),
        "--every",
        "15m",
        "--format",
        "json",
        "--log-format",
        "json",
    )
    assert result.exit_code == 3
    runs = json_lines(result.stdout)
    assert len(runs) == 2 and all(r["completed"] is False and r["exit_code"] == 3 for r in runs)
    errors = [r for r in json_lines(result.stderr) if r["event"] == "run.error"]
    assert len(errors) == 2 and errors[0]["retry_in"] == "15m" and "127.0.0.1:9" in errors[0]["error"]


def test_uvicorns_own_warnings_are_json_lines_under_serve():
    # found by a held-out probe (probe27): "Exceeded concurrency limit." came as bare text among the
    # JSON lines (Python's last-resort handler: uvicorn's logger had none with log_config=None)
    from poems_fhir.serve.main import UVICORN_LOGGERS
    from poems_fhir.sync.events import setup_logging

    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in UVICORN_LOGGERS}
    stream = io.StringIO()
    try:
        setup_logging("json", stream, also=UVICORN_LOGGERS)
        logging.getLogger("uvicorn.error").warning("Exceeded concurrency limit.")
        logging.getLogger("uvicorn.error").info("Started server process")  # below warning: not ours to print
    finally:
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "Exceeded concurrency limit." and record["level"] == "warning"
    assert record["logger"] == "uvicorn.error" and record["event"]


def test_every_mode_internal_error_prints_its_summary_on_one_line(tmp_path, monkeypatch):
    """probe120 D2: the run that died of a bug printed its --format json summary as indented JSON (38 lines) in --every
    mode, where every other run's is one object per line."""
    from poems_fhir.sync.job import SyncJob

    def crash(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(SyncJob, "_one", crash)
    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    result = _runner().invoke(
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
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 70
    [run] = json_lines(result.stdout)  # one line, one object
    assert run["completed"] is False and "boom" in run["fatal"]


def test_an_internal_error_of_sync_is_a_json_line_and_debug_shows_its_traceback(tmp_path, monkeypatch):
    """probe120: under `--log-format json` the internal error was a bare text line among the JSON lines, and
    `poems-fhir --debug sync` still said "run with --debug for the traceback" (sync's logging reset the level)."""
    from poems_fhir.sync.job import SyncJob

    def crash(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(SyncJob, "_one", crash)
    monkeypatch.setattr(StopFlag, "install", lambda self: None)
    args = ["--source", str(SAMPLES / "classic-poems.json"), "--out", str(tmp_path / "o"), "--log-format", "json"]
    result = _runner().invoke(main, ["sync", *args, "--state", str(tmp_path / "a.sqlite")])
    assert result.exit_code == 70
    lines = json_lines(result.stderr)  # every line a JSON object
    [fatal] = [r for r in lines if r["event"] == "run.internal_error"]
    assert "RuntimeError: boom" in fatal["message"] and "--debug" in fatal["message"]
    debug = _runner().invoke(main, ["--debug", "sync", *args, "--state", str(tmp_path / "b.sqlite")])
    assert debug.exit_code == 70
    records = json_lines(debug.stderr)
    assert any("Traceback" in r.get("traceback", "") for r in records)
    assert not any("run with --debug" in r["message"] for r in records)
