"""probe120 D1: a server's error text holding a JSON escape of a lone UTF-16 surrogate ("\\ud800": valid JSON, no
Unicode character) ended the whole sync - SQLite refused the failed patient's reason (UnicodeEncodeError, exit 70),
and every patient after it went unprocessed on every later run. The text is made well-formed where it comes in (an
OperationOutcome's issues) and where it is written (the state's reason, each log line)."""

from __future__ import annotations

import io
import json
import logging

import requests

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.errors import TemporaryNetworkError
from poems_fhir.fhir.client import outcome_text
from poems_fhir.fhir.outcome import issues_text
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.events import JsonFormatter, TextFormatter
from poems_fhir.sync.job import SyncJob
from poems_fhir.sync.state import StateStore
from tests.sync.test_job_write_mutants2 import CLASSIC, NOW, RELAPSE, Server, Source, records

SURROGATE_BODY = b'{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"bad \\ud800 param"}]}'


def _response(body: bytes, status: int = 400) -> requests.Response:
    r = requests.Response()
    r.status_code, r._content = status, body
    r.headers["Content-Type"] = "application/fhir+json"
    return r


def test_an_outcomes_lone_surrogate_becomes_the_replacement_character():
    assert outcome_text(_response(SURROGATE_BODY)) == "error: bad \ufffd param"
    assert issues_text([{"severity": "error", "diagnostics": "x\udfff"}]) == "error: x\ufffd"
    "error: bad \ufffd param".encode("utf-8")  # writable


class FailingOne(Source):
    """The first patient's search answered with an error whose text holds a lone surrogate (as raised by any path
    that did not clean it), the second read as usual."""

    def fetch(self, patient):
        if patient == CLASSIC:
            raise TemporaryNetworkError("GET …/Condition?patient=classic-poems failed: HTTP 503: error: bad \ud800")
        return super().fetch(patient)


def test_a_failed_patients_unwritable_reason_fails_that_patient_only(tmp_path):
    store, server = StateStore(tmp_path / "s.sqlite"), Server()
    summary = SyncJob(FailingOne(records()), server, store, load_mapping(), MAYO, "srv", lambda: NOW).run()
    assert (summary.failed, summary.written) == (1, 1)  # the other patient goes on
    assert store.patient("srv", CLASSIC).status == "failed"
    assert store.patient("srv", CLASSIC).reason.endswith("bad \ufffd")
    assert store.patient("srv", RELAPSE).status == "written"


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("poems_fhir", logging.WARNING, __file__, 1, message, None, None)
    record.event = "patient.failed"
    record.fields = {"reason": "bad \ud800"}
    return record


def test_log_lines_with_a_lone_surrogate_are_writable():
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(_record("failed: bad \ud800"))
        stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, as a UTF-8 stderr is
        stream.write(line + "\n")
        stream.flush()
        assert "\ud800" not in line
    doc = json.loads(JsonFormatter().format(_record("failed: bad \ud800")))
    assert doc["message"] == "failed: bad \ufffd"
