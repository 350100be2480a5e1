"""A result dated after the run's day (a typo: 2204 for 2024) is no result yet: set aside and listed, with a
day's grace for time zones; treatments and diagnoses may lie ahead and are left (pipeline.set_aside_future_results)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import PROFILES
from poems_fhir.fhir.read import read_paths
from poems_fhir.pipeline import evaluate_record
from poems_fhir.mapping.rules import load_mapping

SAMPLE = Path(__file__).parent.parent / "sample_bundles" / "classic-poems.json"
DAY = dt.date(2026, 12, 6)


def _with_vegf_on(tmp_path: Path, when: str) -> Path:
    bundle = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for e in bundle["entry"]:
        if e["resource"].get("id") == "cp-vegf":
            e["resource"]["effectiveDateTime"] = when
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def _vegf(path: Path, clock_day: dt.date | None):
    (record,) = read_paths([path]).records
    r = evaluate_record(copy.deepcopy(record), load_mapping(), PROFILES["mayo"], None, clock_day=clock_day)
    return r.assessment.criteria["vegf_elevation"], r.extraction


def test_a_result_dated_after_the_run_is_set_aside_and_listed(tmp_path):
    path = _with_vegf_on(tmp_path, "2204-01-12")
    criterion, extraction = _vegf(path, DAY)
    assert criterion.state is State.NOT_ASSESSED
    assert [(e.resource, e.message) for e in extraction.errors] == [
        (
            "Observation/cp-vegf",
            "dated 2204-01-12, after the run's date 2026-12-06: a result from the future is not used - check its date",
        )
    ]
    assert "Observation/cp-vegf" not in extraction.used  # never cited in the write-back's Provenance
    assert [m for m in extraction.measurements if m.reference == "Observation/cp-vegf"] == []
    # without a run day (a pure evaluation of history) it is read as it stands
    assert _vegf(path, None)[0].state is State.PRESENT


def test_the_next_day_is_allowed_for_time_zones_and_the_day_after_is_not(tmp_path):
    assert _vegf(_with_vegf_on(tmp_path, "2026-12-07T01:30:00+14:00"), DAY)[0].state is State.PRESENT
    assert _vegf(_with_vegf_on(tmp_path, "2026-12-08"), DAY)[0].state is State.NOT_ASSESSED


def test_evaluate_on_the_command_line_uses_todays_date(tmp_path):
    path = _with_vegf_on(tmp_path, "9999-01-12")
    result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output  # an input problem listed
    out = json.loads(result.output)
    assert out["patients"][0]["criteria"]["vegf_elevation"]["state"] == "not_assessed"
    assert any("dated 9999-01-12, after the run's date" in e["message"] for e in out["errors"])


def test_a_run_day_at_the_calendars_end_sets_nothing_aside(tmp_path):
    # the day's grace must not leave the calendar (OverflowError cost the patient, exit 70)
    criterion, extraction = _vegf(_with_vegf_on(tmp_path, "9999-12-31"), dt.date.max)
    assert criterion.state is State.PRESENT and extraction.errors == []
