"""The written response report and CarePlan after a serum VEGF baseline and a plasma follow-up (probe108 D2): the
report is dated by the plasma restaging (no "No restaging"), shows both values with their specimens and says why
they are not compared, cites both; the CarePlan proposes a VEGF in the baseline's type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main

CASE = Path(__file__).parents[1] / "fixtures" / "response" / "serum-then-plasma-vegf.json"


def _written(tmp_path: Path, language: str = "en") -> dict[str, dict]:
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["evaluate", str(CASE), "--out", str(out), "--language", language])
    assert result.exit_code == 0, result.output
    resources = [e["resource"] for e in json.loads(out.read_text())["entry"]]
    report = next(
        r
        for r in resources
        if r["resourceType"] == "DiagnosticReport" and r["code"]["coding"][0]["code"] == "poems-response-assessment"
    )
    plan = next(r for r in resources if r["resourceType"] == "CarePlan")
    return {"report": report, "plan": plan}


def test_the_response_report_shows_both_specimens_and_why_they_are_not_compared(tmp_path):
    report = _written(tmp_path)["report"]
    assert report["effectiveDateTime"] == "2024-04-30"  # the plasma VEGF's day, not the first treatment's
    said = report["conclusion"]
    assert "No restaging" not in said
    assert "serum 1,800 pg/mL on Jan 10, 2024; plasma 150 pg/mL on Apr 30, 2024" in said
    assert "not comparable" in said
    vegf = next(c for c in report["contained"] if c["id"].endswith("vegf"))
    cited = {x["reference"] for x in vegf.get("derivedFrom", [])}
    assert {"Observation/vegf-switch-o3", "Observation/vegf-switch-o5"} <= cited
    assert "plasma 150 pg/mL" in report["text"]["div"]


def test_the_plan_proposes_a_vegf_in_the_baselines_specimen(tmp_path):
    plan = _written(tmp_path)["plan"]
    activity = next(a for a in plan["activity"] if a.get("id") == "vegf-same-specimen")
    detail = activity["detail"]
    assert detail["code"]["text"] == "VEGF in serum, the baseline's specimen type"
    assert detail["status"] == "not-started"
    assert [r["reference"] for r in detail["reasonReference"]] == [
        "Observation/vegf-switch-o3",
        "Observation/vegf-switch-o5",
    ]


@pytest.mark.parametrize(("language", "serum", "plasma"), [("ru", "сыворотка", "плазма"), ("kk", "сарысу", "плазма")])
def test_the_specimens_are_named_in_the_readers_language(tmp_path, language, serum, plasma):
    written = _written(tmp_path, language)
    said = written["report"]["conclusion"].lower()
    assert serum in said and plasma in said and "not comparable" not in said
    activity = next(a for a in written["plan"]["activity"] if a.get("id") == "vegf-same-specimen")
    assert "baseline" not in activity["detail"]["code"]["text"]
