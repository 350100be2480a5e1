"""55 Synthea patients (real-world coding): every one evaluates without a crash, none is 'met', and -
as a population with no reason to suspect POEMS - every one is out of scope and quiet."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.profiles import PROFILES
from poems_fhir.pipeline import evaluate_paths
from tests.conftest import SHARED, missing_prerequisite

CORPUS = SHARED / "corpora" / "synthea"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_patient_evaluates_and_none_is_met(mapping, profile):
    if not CORPUS.exists():
        missing_prerequisite(f"Synthea corpus not found at {CORPUS} (the shared folder beside the checkout)")
    run = evaluate_paths([CORPUS], mapping, PROFILES[profile])
    assert len(run.results) == 55
    assert run.errors == []
    assert [r.assessment.patient for r in run.results if r.assessment.classification.value == "met"] == []
    # real data reached the engine: CBC findings exist for most adults
    assert sum(1 for r in run.results if r.extraction.measurements) > 40
    # no patient has a trigger criterion: all out of scope, each saying why
    assert [r.assessment.patient for r in run.results if r.scope.in_scope] == []
    assert all("polyneuropathy not assessed" in r.scope.reason for r in run.results)
    # without scope these would be alarms (cytopenia flags, ten "missing" criteria): the engine still computes them
    assert any(r.assessment.flags for r in run.results) and all(r.assessment.missing for r in run.results)


def invoke(*args: str):
    return CliRunner().invoke(main, ["evaluate", str(CORPUS), *args], catch_exceptions=False)


def test_population_text_output_is_one_line_per_patient_and_a_count(tmp_path):
    result = invoke("--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    out = result.output
    for noise in ("FLAG", "suggested:", "Missing", "Risk factors", "Response", "Classification:"):
        assert noise not in out
    assert out.count(": out of scope - none of the trigger criteria present") == 55
    assert "Screening: 0 in scope; 55 out of scope." in out
    assert "Not written back: 55 out-of-scope patient(s)." in out
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_population_json_output_is_quiet():
    doc = json.loads(invoke("--format", "json").output)
    assert doc["screening"]["in_scope"]["total"] == 0 and doc["screening"]["out_of_scope"]["total"] == 55
    for p in doc["patients"]:
        assert (p["scope"], p["quiet"]) == ("out_of_scope", True)
        assert (p["flags"], p["missing"], p["missing_detail"], p["risk_factors"], p["response"]) == (
            [],
            [],
            [],
            {},
            None,
        )
        assert p["criteria"]["polyneuropathy"]["state"] == "not_assessed"  # facts stay: scripts rely on them
        assert p["classification"] in ("indeterminate", "not_met")
        assert p["scope_detail"]["trigger"] == ["polyneuropathy", "monoclonal_plasma_cell_disorder"]


def test_all_shows_the_full_detail_for_audits():
    text = invoke("--all", "--patient", "085e81c0-7a95-ef02-16ef-aa1b4344deed").output
    assert "Scope: OUT OF SCOPE" in text and "Classification: INDETERMINATE" in text
    assert "not raised (out of scope): cytopenia_without_castleman" in text and "! FLAG" not in text
    assert "suggested:" in text  # the audit view shows what would have been suggested
    doc = json.loads(invoke("--show-out-of-scope", "--format", "json").output)
    assert all(p["quiet"] is False and p["response"] is not None and p["risk_factors"] for p in doc["patients"])
    assert any(p["withheld_flags"] == ["cytopenia_without_castleman"] for p in doc["patients"])
    # probe53: every flag says whether it is raised, so "flags" alone does not read a withheld one as raised
    for p in doc["patients"]:
        assert [f["code"] for f in p["flags"] if not f["raised"]] == p.get("withheld_flags", [])
    quiet = json.loads(invoke("--format", "json").output)
    assert all(f["raised"] for p in quiet["patients"] for f in p["flags"])
