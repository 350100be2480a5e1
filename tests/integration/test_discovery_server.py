"""Incremental discovery against a real FHIR server: the patient a changed resource LEFT (its subject
corrected to another patient, recoded to a code the mapping does not read, deleted) is re-evaluated by the
next plain run, and its report no longer cites that resource (probe73 D4, D8)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from poems_fhir.sync.runner import StopFlag, make_job
from poems_fhir.sync.sources import ServerSource, fhir_instant
from poems_fhir.sync.state import StateStore
from tests.integration.conftest import headers
from tests.integration.test_sync_server import reports, settings


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture(autouse=True)
def no_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 5-minute overlap would re-read the sample data loaded a second before, and the checkpoint is
    the server's Date header, to the second: without the overlap and with the clock to the millisecond
    (the loopback server's own, on this machine), a run finds only what changed after the run before -
    as the probe's runs 5 minutes after the data last changed (tests never wait)."""
    monkeypatch.setattr("poems_fhir.sync.sources.OVERLAP", dt.timedelta(0))
    server_time = ServerSource._server_time

    def precise(self: ServerSource) -> str | None:
        server_time(self)  # the metadata request, as counted
        return fhir_instant(now())

    monkeypatch.setattr(ServerSource, "_server_time", precise)


def sync(server: dict[str, str], tmp_path: Path) -> Any:
    """A plain run: discovery, no --patient."""
    s = settings(server, tmp_path, patient=[])
    store = StateStore(s.state)
    try:
        with store.locked():
            job, _, _ = make_job(s, store, StopFlag(), lambda it: it, now=now)
            return job.run()
    finally:
        store.close()


def get(server: dict[str, str], ref: str) -> dict[str, Any]:
    r = requests.get(f"{server['url']}/{ref}", headers=headers(server), timeout=30)
    r.raise_for_status()
    return dict(r.json())


def put(server: dict[str, str], resource: dict[str, Any]) -> None:
    ref = f"{resource['resourceType']}/{resource['id']}"
    requests.put(f"{server['url']}/{ref}", json=resource, headers=headers(server), timeout=30).raise_for_status()


def report_of(server: dict[str, str], patient: str) -> dict[str, Any]:
    (report,) = [r for r in reports(server) if r["subject"]["reference"] == patient]
    return report


def criterion(report: dict[str, Any], name: str) -> tuple[str, list[str]]:
    """The state our report gives criterion ``name`` and the references its evidence cites."""
    (found,) = [c for c in report.get("contained", []) if c.get("id") == "criterion-" + name.replace("_", "-")]
    state = found["valueCodeableConcept"]["coding"][0]["code"]
    cited = [d["reference"] for d in found.get("derivedFrom", [])]  # Observations; the rest in an extension
    return state, cited + [
        e["valueReference"]["reference"] for e in found.get("extension", []) if "valueReference" in e
    ]


def vegf(obs_id: str, patient: str, value: float) -> dict[str, Any]:
    """A plasma VEGF result (the probe's shape: LOINC 75628-8, a contained plasma Specimen)."""
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": "2024-02-01",
        "valueQuantity": {"value": value, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        "contained": [
            {
                "resourceType": "Specimen",
                "id": "s1",
                "type": {"coding": [{"system": "http://snomed.info/sct", "code": "119361006"}]},
            }
        ],
        "specimen": {"reference": "#s1"},
    }


@pytest.fixture
def first(server: dict[str, str], tmp_path: Path) -> dict[str, str]:
    if not server["resettable"]:
        pytest.skip("discovery counts need a server holding only the sample data")
    summary = sync(server, tmp_path)
    assert (summary.written, summary.failed) == (5, 0)
    return server


def named_run_agrees(server: dict[str, str], tmp_path: Path, patient: str) -> None:
    """A --patient run of the patient (which reads it whatever discovery says) has nothing to change."""
    s = settings(server, tmp_path, patient=[patient])
    store = StateStore(s.state)
    try:
        with store.locked():
            job, _, _ = make_job(s, store, StopFlag(), lambda it: it, now=now)
            summary = job.run()
    finally:
        store.close()
    assert (summary.written, summary.withdrawn, summary.failed) == (0, 0, 0)


def assert_cites_none(report: dict[str, Any], refs: list[str]) -> None:
    text = json.dumps(report)
    assert not [ref for ref in refs if ref in text], "the report still cites a resource its patient no longer has"


def test_a_result_moved_to_another_patient_is_dropped_from_the_report_of_the_patient_it_left(first, tmp_path):
    """D4a: the IFE and MGUS of mimic-cidp were filed under the wrong patient; corrected to mimic-al, they
    are found by the code search under mimic-al only - mimic-cidp is found by its remembered inputs."""
    moved = ["Observation/cidp-ife", "Condition/cidp-mgus"]
    before = report_of(first, "Patient/mimic-cidp")
    assert criterion(before, "monoclonal_plasma_cell_disorder")[0] == "present"
    for ref in moved:
        resource = get(first, ref)
        resource["subject"] = {"reference": "Patient/mimic-al"}
        put(first, resource)
    summary = sync(first, tmp_path)
    assert summary.failed == 0
    after = report_of(first, "Patient/mimic-cidp")
    state, evidence = criterion(after, "monoclonal_plasma_cell_disorder")
    assert state != "present" and not set(moved) & set(evidence)
    assert_cites_none(after, moved)
    named_run_agrees(first, tmp_path, "Patient/mimic-cidp")


def test_a_result_recoded_to_an_unmapped_code_is_dropped_from_the_report(first, tmp_path):
    """D4b: a plasma VEGF corrected to the sodium result it was (LOINC 2951-2, status corrected): no code
    search finds it any more; the by-id check of the remembered inputs does."""
    put(first, vegf("mm-vegf-plasma", "mimic-myeloma", 900))
    assert sync(first, tmp_path).written == 1
    state, evidence = criterion(report_of(first, "Patient/mimic-myeloma"), "vegf_elevation")
    assert state == "present" and "Observation/mm-vegf-plasma" in evidence, evidence
    sodium = get(first, "Observation/mm-vegf-plasma")
    sodium["code"] = {
        "coding": [
            {"system": "http://loinc.org", "code": "2951-2", "display": "Sodium [Moles/volume] in Serum or Plasma"}
        ]
    }
    sodium["valueQuantity"] = {"value": 139, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}
    sodium["status"] = "corrected"
    put(first, sodium)
    summary = sync(first, tmp_path)
    assert (summary.written, summary.failed) == (1, 0)
    after = report_of(first, "Patient/mimic-myeloma")
    state, evidence = criterion(after, "vegf_elevation")
    assert state != "present" and "Observation/mm-vegf-plasma" not in evidence
    assert_cites_none(after, ["Observation/mm-vegf-plasma"])
    named_run_agrees(first, tmp_path, "Patient/mimic-myeloma")


def test_deleted_evidence_is_dropped_from_the_report(first, tmp_path):
    """D8: the only monoclonal evidence and the VEGF of mimic-cidp are deleted; a deletion is no change a
    search lists, so the by-id check finds them absent."""
    deleted = ["Observation/cidp-vegf", "Observation/cidp-ife", "Condition/cidp-mgus"]
    for ref in deleted:
        requests.delete(f"{first['url']}/{ref}", headers=headers(first), timeout=30).raise_for_status()
    summary = sync(first, tmp_path)
    assert (summary.patients_scanned, summary.failed) == (1, 0)  # only the patient the deletions concern
    after = report_of(first, "Patient/mimic-cidp")
    assert criterion(after, "monoclonal_plasma_cell_disorder")[0] != "present"
    assert_cites_none(after, deleted)
    named_run_agrees(first, tmp_path, "Patient/mimic-cidp")


def test_nothing_changed_reads_no_patient(first, tmp_path):
    """The by-id check costs requests, not patients: unchanged inputs bring nobody into the cohort."""
    summary = sync(first, tmp_path)
    assert (summary.patients_scanned, summary.written) == (0, 0)


def test_our_own_withdrawal_brings_nobody_back(first, tmp_path):
    """probe78 N5: the run after we withdrew a plan (its report retracted by a clinician) read the
    withdrawal's own new version as someone's change and planned the patient once more."""
    report = report_of(first, "Patient/classic-poems")
    put(first, {**report, "status": "entered-in-error"})
    retracted = sync(first, tmp_path)
    assert (retracted.patients_scanned, retracted.withdrawn, retracted.failed) == (1, 1, 0)
    quiet = sync(first, tmp_path)
    assert (quiet.patients_scanned, quiet.written, quiet.withdrawn) == (0, 0, 0)
