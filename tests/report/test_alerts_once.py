"""An alert raised by both haematological frameworks for one rise of the M-protein (found by the
held-out probe probe26): the conclusions, the narrative, the page and the card said "Haematological
progression: …" twice in a row, as if there were two events."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.criteria.response import Alert, distinct_alerts
from poems_fhir.pipeline import evaluate_paths
from poems_fhir.serve.cards import cards_for

CASE = Path(__file__).resolve().parents[1] / "fixtures" / "response" / "progression-in-both-frameworks.json"
SENTENCE = "Haematological progression: "


def test_distinct_alerts_keeps_one_per_code_with_all_evidence():
    alerts = [
        Alert("hematologic_progression", "amyloid", ("Observation/a",)),
        Alert("vegf_progression", "vegf", ("Observation/v",)),
        Alert("hematologic_progression", "imwg", ("Observation/a", "Observation/b")),
    ]
    merged = distinct_alerts(alerts)
    assert [a.code for a in merged] == ["hematologic_progression", "vegf_progression"]
    assert merged[0].evidence == ("Observation/a", "Observation/b") and merged[0].message == "amyloid; imwg"


def test_one_rise_raised_by_both_frameworks_is_said_once(tmp_path, mapping):
    result = evaluate_paths([CASE], mapping, get_profile("mayo")).results[0]
    assert [a.code for a in result.response.alerts].count("hematologic_progression") == 2  # both frameworks
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["evaluate", str(CASE), "--format", "json", "--out", str(out)])
    assert done.exit_code == 0, done.output
    written = json.loads(next(out.iterdir()).read_text(encoding="utf-8"))
    reports = [e["resource"] for e in written["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    assert reports and all(r["conclusion"].count(SENTENCE) == 1 for r in reports)
    pages = tmp_path / "pages"
    assert CliRunner().invoke(main, ["report", str(CASE), "--html", str(pages)]).exit_code == 0
    (page,) = pages.iterdir()
    assert page.read_text(encoding="utf-8").count('data-code="hematologic-progression"') == 1
    (card,) = cards_for(result, "en")
    assert card["detail"].count("Haematological progression") == 1
