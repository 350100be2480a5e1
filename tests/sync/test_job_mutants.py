"""Sync-job behaviours that a one-token bug would break while the rest of the suite stays green:
the checkpoint after a stopped run, a 412 re-read that remembers what we wrote before."""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.errors import PreconditionFailedError
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.job import SyncJob
from poems_fhir.sync.sinks import entry_key
from poems_fhir.sync.sources import Cohort
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES, load_json

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
SERVER_TIME = "2026-11-27T09:59:00.000Z"


class CohortSource:
    """Two patients from the sample files; remembers the `since` it was asked for."""

    name = "fake"

    def __init__(self, records: dict[str, Any]) -> None:
        self.records = records
        self.since_seen: list[str | None] = []

    def cohort(self, since, extra=()):
        self.since_seen.append(since)
        return Cohort(sorted(self.records), SERVER_TIME)

    def fetch(self, patient):
        return self.records[patient], []


def records() -> dict[str, Any]:
    from poems_fhir.fhir.read import read_paths

    read = read_paths([SAMPLES / "classic-poems.json", SAMPLES / "relapse-case.json"])
    return {r.patient: r for r in read.records}


def make_job(source, store, sink=None, **kw) -> SyncJob:
    return SyncJob(source, sink, store, load_mapping(), MAYO, "srv", lambda: NOW, **kw)


def test_a_stopped_run_does_not_move_the_checkpoint(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    source = CohortSource(records())
    stopped = make_job(source, store, stop_requested=lambda: True).run()
    assert not stopped.completed and stopped.patients_scanned == 0
    assert store.checkpoint("srv") is None
    assert store.runs("srv")[-1]["outcome"] == "stopped"
    done = make_job(source, store).run()
    assert done.completed and done.patients_scanned == 2
    assert store.checkpoint("srv") == SERVER_TIME
    make_job(source, store).run()
    assert source.since_seen == [None, None, SERVER_TIME]


def test_a_dry_run_moves_no_checkpoint_and_records_nothing(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    source = CohortSource(records())
    make_job(source, store, FakeServer(), dry_run=True).run()
    assert store.checkpoint("srv") is None
    assert store.patient("srv", sorted(source.records)[0]) is None


class FakeServer:
    """A server sink that keeps what was written, versions it, and can answer 412 once."""

    name = "server"

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}  # conditional url -> resource
        self.versions: dict[str, int] = {}
        self.fail_next: int = 0
        self.writes = 0

    def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
        if self.fail_next:
            self.fail_next -= 1
            raise PreconditionFailedError("POST transaction failed: HTTP 412: precondition failed")
        self.writes += 1
        written = {}
        for e in bundle["entry"]:
            url = e["request"]["url"]
            self.versions[url] = self.versions.get(url, 0) + 1
            res = copy.deepcopy(e["resource"])
            res["id"] = f"id-{abs(hash(url)) % 10_000}"
            res["meta"] = {"versionId": str(self.versions[url])}
            self.resources[url] = res
            written[entry_key(e)] = {"ref": f"{res['resourceType']}/{res['id']}", "version": str(self.versions[url])}
        return written

    def current(self, url: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.resources.get(url))


def test_a_412_re_read_remembers_our_earlier_writes(tmp_path):
    """Our own resource, written in an earlier run and still unchanged on the server, is ours: a 412
    (e.g. a version we failed to record) must adopt it and write again, not report a conflict."""
    store = StateStore(tmp_path / "state.sqlite")
    recs = records()
    source = CohortSource(recs)
    server = FakeServer()
    assert make_job(source, store, server).run().written == 2
    patient = "Patient/classic-poems"
    before = store.patient("srv", patient)
    assert before is not None and before.status == "written"
    assert all(v.get("hash") for k, v in before.written.items() if "DiagnosticReport" in v["ref"])
    # the input changes (so the report changes), and the first write of the next run gets a 412
    raw = next(r for r in recs[patient].resources if r.data.get("id") == "cp-vegf")
    raw.data["valueQuantity"]["value"] = 900
    server.fail_next = 1
    summary = make_job(source, store, server).run()
    assert (summary.conflicts, summary.written) == (0, 1), summary.problems
    assert store.patient("srv", patient).status == "written"


def test_a_412_with_someone_elses_content_is_a_conflict_and_not_overwritten(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    recs = records()
    source = CohortSource(recs)
    server = FakeServer()
    make_job(source, store, server).run()
    patient = "Patient/classic-poems"
    url = next(u for u, r in server.resources.items()
               if r["resourceType"] == "DiagnosticReport" and r["subject"]["reference"] == patient)
    server.resources[url]["conclusion"] = "Reviewed by Dr X: criteria met"  # a clinician's edit
    raw = next(r for r in recs[patient].resources if r.data.get("id") == "cp-vegf")
    raw.data["valueQuantity"]["value"] = 900
    server.fail_next = 1
    writes = server.writes
    summary = make_job(source, store, server).run()
    assert summary.conflicts == 1 and server.writes == writes
    assert server.resources[url]["conclusion"] == "Reviewed by Dr X: criteria met"
    assert store.patient("srv", patient).status == "conflict"
    assert "changed by someone else" in summary.problems[0]


def test_sample_bundle_has_the_observation_these_tests_change():
    bundle = load_json(SAMPLES / "classic-poems.json")
    assert any(e["resource"].get("id") == "cp-vegf" for e in bundle["entry"])
