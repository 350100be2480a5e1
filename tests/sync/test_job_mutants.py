"""Sync-job behaviours that a one-token bug would break while the rest of the suite stays green:
the checkpoint after a stopped run, the summary's shape, a failed write. (What a 412 means is decided
from the server's ownership markers now: tests/sync/test_ownership.py and the integration tests.)"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any


from poems_fhir.criteria.profiles import MAYO
from poems_fhir.errors import PreconditionFailedError
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.job import SyncJob

from poems_fhir.sync.sinks import ServerView, entry_key
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
        self.crash_after_write = False
        self.if_match: list[str | None] = []  # ifMatch of each report entry sent

    def write(self, patient: str, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
        if self.fail_next:
            self.fail_next -= 1
            raise PreconditionFailedError("POST transaction failed: HTTP 412: precondition failed")
        self.writes += 1
        written = {}
        self.if_match += [
            e["request"].get("ifMatch") for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"
        ][:1]
        for e in bundle["entry"]:
            url = e["request"]["url"]
            self.versions[url] = self.versions.get(url, 0) + 1
            res = copy.deepcopy(e["resource"])
            res["id"] = f"id-{abs(hash(url)) % 10_000}"
            res["meta"] = {"versionId": str(self.versions[url])}
            self.resources[url] = res
            written[entry_key(e)] = {"ref": f"{res['resourceType']}/{res['id']}", "version": str(self.versions[url])}
        if self.crash_after_write:
            raise SystemExit("killed after the server stored the write, before the job recorded it")
        return written

    def current(self, url: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.resources.get(url))

    def existing(self, patient: str, subject_key: str) -> ServerView:
        # nothing of ours on this server yet: every bundle is written as built
        return ServerView()


def test_sample_bundle_has_the_observation_these_tests_change():
    bundle = load_json(SAMPLES / "classic-poems.json")
    assert any(e["resource"].get("id") == "cp-vegf" for e in bundle["entry"])


def test_conclusions_summary_shape_and_the_page_attached(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    server = FakeServer()
    summary = make_job(
        CohortSource({"Patient/classic-poems": records()["Patient/classic-poems"]}), store, server, show_phi=True
    ).run()
    (c,) = summary.conclusions
    assert c == {
        "patient": "Patient/classic-poems",
        "classification": "met",
        "missing": [],
        "flags": c["flags"],
        "alerts": [],
    } and isinstance(c["flags"], list)
    report = next(
        r for r in server.resources.values() if r["resourceType"] == "DiagnosticReport" and "presentedForm" in r
    )
    assert report["presentedForm"][0]["contentType"].startswith("text/html")


def test_a_failed_write_is_reported_without_the_patient_id(tmp_path):
    from poems_fhir.errors import TemporaryNetworkError

    class Down(FakeServer):
        def write(self, patient, bundle):
            raise TemporaryNetworkError(f"PUT https://fhir.example/DiagnosticReport?subject={patient} failed: HTTP 503")

    store = StateStore(tmp_path / "state.sqlite")
    summary = make_job(CohortSource({"Patient/classic-poems": records()["Patient/classic-poems"]}), store, Down()).run()
    assert summary.failed == 1 and "HTTP 503" in summary.problems[0]
    assert "classic-poems" not in summary.problems[0] and "patient-" in summary.problems[0]
    assert store.patient("srv", "Patient/classic-poems").status == "failed"
