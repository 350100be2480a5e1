"""Without --phi, the run summary's problem lines name no patient and no MRN (probe32: "skipped
Observation/x: refers to Specimen/s, which belongs to Patient/intr: not used for Patient/classic-poems"
put the real ids beside the pseudonym, linking them; a conditional subject's MRN was echoed too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main

LOINC = "http://loinc.org"
MRN = "https://hospital.example/mrn"


def _inputs(folder: Path) -> Path:
    folder.mkdir()
    resources = [
        {"resourceType": "Patient", "id": "good-one", "gender": "male"},
        {"resourceType": "Patient", "id": "other-one", "gender": "female"},
        {"resourceType": "Specimen", "id": "s1", "subject": {"reference": "Patient/other-one"}},
        {
            "resourceType": "Observation",
            "id": "vegf",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "75628-8"}]},
            "subject": {"reference": "Patient/good-one"},
            "specimen": {"reference": "Specimen/s1"},
            "effectiveDateTime": "2024-01-12",
            "valueQuantity": {"value": 624, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        },
        {
            "resourceType": "Observation",
            "id": "orphan",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "777-3"}]},
            "subject": {"reference": f"Patient?identifier={MRN}|MRN-778899"},
            "effectiveDateTime": "2024-01-12",
            "valueQuantity": {"value": 500, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"},
        },
    ]
    (folder / "in.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    return folder


@pytest.mark.parametrize("phi", [False, True])
def test_problem_lines_are_pseudonymised_unless_phi(tmp_path, phi):
    source = _inputs(tmp_path / "in")
    args = ["sync", "--source", str(source), "--out", str(tmp_path / "out"), "--state", str(tmp_path / "s.sqlite")]
    result = CliRunner().invoke(main, [*args, *(["--phi"] if phi else []), "--format", "json"])
    summary = json.loads(result.stdout)
    problems = "\n".join(summary["problems"])
    assert "belongs to" in problems and "matches no Patient" in problems  # both problems are reported
    for secret in ("Patient/good-one", "Patient/other-one", "MRN-778899"):
        assert (secret in problems) is phi, secret
    if not phi:
        assert "belongs to Patient/patient-" in problems and f"identifier={MRN}|patient-" in problems


@pytest.mark.parametrize("phi", [False, True])
def test_a_run_stopping_error_names_no_patient_without_phi(tmp_path, monkeypatch, phi):
    # probe33: "refusing http://other/fhir/Condition?patient=poems-origin&…" (a next link to another
    # host) reached stderr and the summary's fatal text with the patient's id
    from poems_fhir.errors import ForeignHostError
    from poems_fhir.sync.sources import FileSource

    def fetch(self, patient):
        pid = patient.split("/", 1)[1]
        raise ForeignHostError(f"refusing http://127.0.0.2/fhir/Condition?patient={pid}&_count=200: another host")

    monkeypatch.setattr(FileSource, "fetch", fetch)
    source = _inputs(tmp_path / "in")
    args = ["sync", "--source", str(source), "--out", str(tmp_path / "out"), "--state", str(tmp_path / "s.sqlite")]
    args += ["--workers", "1"]  # fetched in this process, where the patch is
    result = CliRunner().invoke(main, [*args, *(["--phi"] if phi else []), "--format", "json"])
    assert result.exit_code == 3, result.output  # a refused host: the server's answers unusable
    shown = result.stdout + result.stderr
    assert "refusing http://127.0.0.2/fhir/Condition?patient=" in shown
    assert ("good-one" in shown) is phi
