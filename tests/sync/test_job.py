"""The sync job end to end on files, and its state store: idempotent, resumable, conflict-safe."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.errors import PreconditionFailedError, StateLockedError
from poems_fhir.sync.job import SyncJob
from poems_fhir.sync.sinks import DirSink, entry_key, with_if_match
from poems_fhir.sync.sources import FileSource
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES / "origin-case", folder / "origin-case")
    shutil.copy(SAMPLES / "classic-poems.json", folder)
    shutil.copytree(SAMPLES / "mimics", folder / "mimics")
    return folder


class RecordingSink(DirSink):
    def __init__(self, folder: Path, fail_on: set[str] | None = None) -> None:
        super().__init__(folder)
        self.calls: list[str] = []
        self.fail_on = fail_on or set()

    def write(self, patient, bundle):
        self.calls.append(patient)
        if patient in self.fail_on:
            raise PreconditionFailedError("PUT DiagnosticReport failed: HTTP 412: precondition failed")
        return super().write(patient, bundle)


def job(data: Path, store: StateStore, sink, **kw) -> SyncJob:
    from poems_fhir.mapping.rules import load_mapping

    return SyncJob(source=FileSource([data]), sink=sink, store=store, mapping=load_mapping(), profile=MAYO,
                   server_key="files:test", now=lambda: NOW, **kw)


def test_first_run_writes_in_scope_patients_second_run_writes_nothing(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    sink = RecordingSink(tmp_path / "out")
    first = job(data, store, sink).run()
    assert first.patients_scanned == 6 and first.evaluated == 6
    # mimic-castleman has neither polyneuropathy nor a clone: out of scope, nothing written
    assert first.written == 5 and first.out_of_scope == 1
    second = job(data, store, sink).run()
    assert (second.written, second.unchanged) == (0, 5)
    assert len(sink.calls) == 5
    assert len(list((tmp_path / "out").glob("*.json"))) == 5


def test_out_of_scope_patients_get_no_report(data, tmp_path):
    shutil.copy(Path(__file__).resolve().parents[2] / "sample_bundles" / "transaction-urn-uuid.json", data)
    bundle = json.loads((data / "transaction-urn-uuid.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] in ("Patient", "Observation")
                       and e["resource"].get("code", {}).get("coding", [{}])[0].get("code") != "25700-6"]
    (data / "transaction-urn-uuid.json").write_text(json.dumps(bundle))
    store = StateStore(tmp_path / "state.sqlite")
    summary = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert summary.out_of_scope == 2  # the Castleman mimic and the neuropathy-free patient
    assert "Patient/txn-patient" not in {c["patient"] for c in summary.conclusions}


def test_changing_one_observation_rewrites_only_that_patient(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    job(data, store, RecordingSink(tmp_path / "out")).run()
    path = data / "classic-poems.json"
    bundle = json.loads(path.read_text())
    for e in bundle["entry"]:
        if e["resource"]["id"] == "cp-vegf":
            e["resource"]["valueQuantity"]["value"] = 700
    path.write_text(json.dumps(bundle))
    sink = RecordingSink(tmp_path / "out")
    summary = job(data, store, sink).run()
    assert sink.calls == ["Patient/classic-poems"]
    assert (summary.written, summary.unchanged) == (1, 4)


def test_a_killed_run_resumes_without_loss_or_duplicates(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    calls = {"n": 0}

    def stop_after_two() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    first = job(data, store, RecordingSink(tmp_path / "out"), stop_requested=stop_after_two).run()
    assert first.written == 2 and not first.completed
    assert store.runs("files:test")[-1]["outcome"] == "stopped"
    sink = RecordingSink(tmp_path / "out")
    second = job(data, store, sink).run()
    assert (second.written, second.unchanged) == (3, 2)
    assert len(list((tmp_path / "out").glob("*.json"))) == 5  # one transaction per patient, no duplicates


def test_a_write_refused_412_is_a_failure_that_keeps_what_we_knew_and_is_retried(data, tmp_path):
    # ownership is decided from the server before writing; a 412 then means the resource changed
    # between our read and our write: the patient is recorded failed (not a permanent conflict),
    # what the state knew of our earlier writes is kept, and the next run tries again
    store = StateStore(tmp_path / "state.sqlite")
    job(data, store, RecordingSink(tmp_path / "out")).run()
    before = store.patient("files:test", "Patient/classic-poems")
    path = data / "classic-poems.json"
    bundle = json.loads(path.read_text())
    bundle["entry"][1]["resource"]["recordedDate"] = "2024-01-11"
    path.write_text(json.dumps(bundle))
    sink = RecordingSink(tmp_path / "out", fail_on={"Patient/classic-poems"})
    summary = job(data, store, sink).run()
    assert summary.failed == 1 and "412" in summary.problems[0]
    after = store.patient("files:test", "Patient/classic-poems")
    assert after.status == "failed" and "412" in after.reason
    assert after.written == before.written and after.written  # a failure never erases earlier writes
    again = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert again.written == 1


def test_if_match_is_added_for_reports_and_plans_we_wrote():
    bundle = {"entry": [
        {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "DiagnosticReport"},
         "request": {"method": "PUT", "url": "DiagnosticReport?identifier=s|v"}},
        {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Provenance"},
         "request": {"method": "PUT", "url": "Provenance?_tag=s|h"}}]}
    out = with_if_match(bundle, {"s|v": {"ref": "DiagnosticReport/9", "version": "abc"}})
    assert out["entry"][0]["request"]["ifMatch"] == 'W/"abc"'
    assert "ifMatch" not in out["entry"][1]["request"] and "ifMatch" not in bundle["entry"][0]["request"]
    assert entry_key(bundle["entry"][1]) == "s|h"


def test_summary_hashes_patient_ids_unless_phi(data, tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    hidden = job(data, store, RecordingSink(tmp_path / "out")).run()
    assert all(c["patient"].startswith("patient-") for c in hidden.conclusions)
    shown = job(data, StateStore(tmp_path / "s2.sqlite"), RecordingSink(tmp_path / "o2"), show_phi=True).run()
    assert "Patient/poems-origin" in {c["patient"] for c in shown.conclusions}


def test_one_run_at_a_time(tmp_path):
    a = StateStore(tmp_path / "state.sqlite")
    b = StateStore(tmp_path / "state.sqlite")
    with a.locked():
        with pytest.raises(StateLockedError, match="one run at a time"):
            with b.locked():
                pass
    with b.locked():
        pass


def test_checkpoint_moves_only_when_the_run_completes(tmp_path):
    from poems_fhir.sync.sources import Cohort

    class Source:
        name = "fake"

        def __init__(self):
            self.since_seen = []

        def cohort(self, since, extra=()):
            self.since_seen.append(since)
            return Cohort([], "2026-11-27T09:59:00.000Z")

        def fetch(self, patient):
            raise AssertionError

    from poems_fhir.mapping.rules import load_mapping

    store = StateStore(tmp_path / "state.sqlite")
    source = Source()
    SyncJob(source, None, store, load_mapping(), MAYO, "srv", lambda: NOW).run()
    SyncJob(source, None, store, load_mapping(), MAYO, "srv", lambda: NOW).run()
    assert source.since_seen == [None, "2026-11-27T09:59:00.000Z"]
