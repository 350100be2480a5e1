"""What the sync job writes for a patient follows its settings (README "sync"): the DiagnosticReport's
status is --report-status, the page in presentedForm is in --language and states when it was generated
by the job's own clock (the clock of the run, not the wall clock)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.read import read_paths
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_record
from poems_fhir.sync.job import SyncJob
from poems_fhir.sync.sources import FileSource
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
CASE = SAMPLES / "classic-poems.json"


@pytest.fixture(scope="module")
def mapping():
    return load_mapping()


def written(tmp_path, mapping, **settings) -> tuple[dict, str]:
    job = SyncJob(
        FileSource([CASE]),
        None,
        StateStore(tmp_path / "s.sqlite"),
        mapping,
        MAYO,
        "srv",
        lambda: NOW,
        pseudonym_key=b"k" * 32,
        **settings,
    )
    result = evaluate_record(read_paths([CASE]).records[0], mapping, MAYO, None, None)
    bundle = job._bundle(result)
    report = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    page = base64.b64decode(report["presentedForm"][0]["data"]).decode("utf-8")
    return report, page


def test_the_report_status_is_the_configured_one(tmp_path, mapping):
    assert written(tmp_path, mapping, report_status="preliminary")[0]["status"] == "preliminary"
    assert written(tmp_path, mapping, report_status="partial")[0]["status"] == "partial"


def test_the_page_is_in_the_configured_language(tmp_path, mapping):
    assert '<html lang="ru">' in written(tmp_path, mapping, language="ru")[1]
    assert '<html lang="kk">' in written(tmp_path, mapping, language="kk")[1]


def test_the_page_was_generated_at_the_runs_clock(tmp_path, mapping):
    assert 'datetime="2026-11-27T10:00:00+00:00"' in written(tmp_path, mapping)[1]
