"""The CLI contract: text and JSON output, exit codes."""
from __future__ import annotations

import json

from click.testing import CliRunner

from poems_fhir.cli import main
from tests.conftest import SAMPLES

SITE = ["--mappings", str(SAMPLES / "site-local" / "site-mapping.yaml"),
        "--mappings", str(SAMPLES / "site-local" / "problems-conceptmap.json")]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_help_teaches_with_examples():
    result = invoke("evaluate", "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--as-of" in result.output


def test_text_output_for_the_classic_case():
    result = invoke("evaluate", str(SAMPLES / "classic-poems.json"))
    assert result.exit_code == 0, result.output
    assert "Classification: MET" in result.output
    assert "VEGF 624 pg/mL (plasma)" in result.output
    assert "Observation/cp-vegf" in result.output


def test_json_contract():
    result = invoke("evaluate", str(SAMPLES), "--format", "json", *SITE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) >= {"patients", "errors"}
    by_patient = {p["patient"]: p for p in doc["patients"]}
    origin = by_patient["Patient/poems-origin"]
    assert set(origin) >= {"patient", "as_of", "profile", "classification", "criteria", "missing", "flags"}
    assert origin["criteria"]["polyneuropathy"]["state"] == "present"
    assert origin["criteria"]["polyneuropathy"]["evidence"][0]["reference"] == "Condition/oc-pnp"
    assert by_patient["Patient/classic-poems"]["classification"] == "met"
    assert by_patient["Patient/site-local-1"]["classification"] == "met"
    # mimics are never labelled POEMS
    for pid in ("mimic-cidp", "mimic-myeloma", "mimic-al", "mimic-castleman"):
        assert by_patient[f"Patient/{pid}"]["classification"] != "met"


def test_site_codes_are_unknown_without_the_site_mapping():
    doc = json.loads(invoke("evaluate", str(SAMPLES / "site-local"), "--format", "json").output)
    assert doc["patients"][0]["criteria"]["polyneuropathy"]["state"] == "not_assessed"


def test_skipped_input_exits_1_and_is_listed(tmp_path):
    (tmp_path / "bad.json").write_text("<html>oops</html>")
    (tmp_path / "good.json").write_text((SAMPLES / "classic-poems.json").read_text())
    result = invoke("evaluate", str(tmp_path), "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["errors"][0]["source"].endswith("bad.json")
    assert doc["patients"][0]["classification"] == "met"


def test_usage_errors_exit_2(tmp_path):
    assert invoke("evaluate", str(tmp_path / "missing")).exit_code == 2
    assert invoke("evaluate", str(SAMPLES), "--profile", "nope").exit_code == 2
    assert invoke("evaluate", str(SAMPLES), "--as-of", "yesterday").exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: poems-fhir-mapping/1\nname: x\nversion: '1'\nobservations: [{id: vegf, bogus: 1}]\n")
    result = invoke("evaluate", str(SAMPLES), "--mappings", str(bad))
    assert result.exit_code == 2 and "bogus" in result.output


def test_patient_filter():
    doc = json.loads(invoke("evaluate", str(SAMPLES / "mimics"), "--patient", "mimic-al", "--format", "json").output)
    assert [p["patient"] for p in doc["patients"]] == ["Patient/mimic-al"]


def test_mappings_check_ok_and_problems(tmp_path):
    ok = invoke("mappings", "check", *SITE[1::2])
    assert ok.exit_code == 0 and "ok:" in ok.output
    assert "PNP-SUSP" in ok.output  # the skipped 'narrower' ConceptMap element is reported
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: poems-fhir-mapping/1\nname: x\nversion: '1'\nthresholds:\n  vegf_plasma: {unit: furlong}\n")
    result = invoke("mappings", "check", str(bad), "--format", "json")
    assert result.exit_code == 2
    problem = json.loads(result.output)["problems"][0]
    assert problem["key"].startswith("thresholds.vegf_plasma") and problem["line"] == 5 and problem["hint"]
