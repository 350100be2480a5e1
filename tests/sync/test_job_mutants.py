"""Sync-job behaviours that a one-token bug would break while the rest of the suite stays green:
the checkpoint after a stopped run, the summary's shape, a failed write. (What a 412 means is decided
from the server's ownership markers now: tests/sync/test_ownership.py and the integration tests.)"""

from __future__ import annotations

import copy
import logging

import pytest
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

    def existing(self, patient: str, subject_key: str, recorded=()) -> ServerView:
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


class NamedSource(CohortSource):
    """A cohort named in the configuration (--patient): the same names every run, one of them
    unknown to the server (its read answers 404)."""

    def __init__(self, records: dict[str, Any], *ghosts: str) -> None:
        super().__init__(records)
        self.ghosts = ghosts
        self.fetched: list[str] = []

    def cohort(self, since, extra=()):
        self.since_seen.append(since)
        return Cohort(sorted({*self.records, *self.ghosts, *extra}), SERVER_TIME, named=True)

    def fetch(self, patient):
        from poems_fhir.errors import FatalNetworkError

        self.fetched.append(patient)
        if patient in self.ghosts:
            raise FatalNetworkError("GET Patient/ghost-1: HTTP 404 not found", status=404)
        return self.records[patient], []


@pytest.mark.parametrize("status", [404, 410])
@pytest.mark.parametrize("where", ["write", "existing"])
def test_a_404_or_410_to_our_write_fails_the_patient_it_does_not_park_it_as_missing(tmp_path, status, where):
    """probe50 MEDIUM-2: one 404/410 on the transaction (or on the search of our own reports) made a patient
    whose data had just been read "not on the server", parked for good: it is a failed write, retried."""
    from poems_fhir.errors import FatalNetworkError

    class Refusing(FakeServer):
        def write(self, patient, bundle):
            if where == "write":
                raise FatalNetworkError(f"POST https://fhir.example/ failed: HTTP {status}", status=status)
            return super().write(patient, bundle)

        def existing(self, patient, subject_key, recorded=()):
            if where == "existing":
                raise FatalNetworkError(f"GET https://fhir.example/CarePlan failed: HTTP {status}", status=status)
            return super().existing(patient, subject_key, recorded)

    store = StateStore(tmp_path / "state.sqlite")
    source = NamedSource({"Patient/classic-poems": records()["Patient/classic-poems"]})
    summary = make_job(source, store, Refusing()).run()
    assert (summary.failed, summary.missing) == (1, 0)
    assert store.patient("srv", "Patient/classic-poems").status == "failed"
    source.fetched.clear()
    make_job(source, store, FakeServer()).run()  # retried next run
    assert source.fetched == ["Patient/classic-poems"]


def test_a_named_patient_the_server_does_not_have_is_reported_once_and_then_not_read(tmp_path, caplog):
    # found by a held-out probe (probe23): a stale --patient was read and reported every run, each
    # time with a message saying it would not be retried (and every run exited 1)
    caplog.set_level(logging.INFO, logger="poems_fhir")
    store = StateStore(tmp_path / "state.sqlite")
    source = NamedSource(records(), "Patient/ghost-1")
    first = make_job(source, store).run()
    assert first.missing == 1 and any("not on the server (HTTP 404)" in p for p in first.problems)
    assert not [r for r in caplog.records if getattr(r, "event", None) == "cohort.reported_missing"]
    source.fetched.clear()
    caplog.clear()
    second = make_job(source, store).run()
    assert second.missing == 0 and not second.problems
    assert "Patient/ghost-1" not in source.fetched and len(source.fetched) == 2
    assert "1 named patient(s) not read: not on the server in an earlier run" in caplog.text
    (said,) = [r for r in caplog.records if getattr(r, "event", None) == "cohort.reported_missing"]
    assert said.fields == {"count": 1}  # type: ignore[attr-defined]
    # --retry-missing 1: one more try, then quiet again; `state retry` brings it back
    source.fetched.clear()
    store.retry("Patient/ghost-1")
    third = make_job(source, store).run()
    assert "Patient/ghost-1" in source.fetched and third.missing == 1
    source.fetched.clear()
    fourth = make_job(source, store, retry_missing=1).run()
    assert "Patient/ghost-1" in source.fetched and fourth.missing == 1
    source.fetched.clear()
    make_job(source, store, retry_missing=1).run()
    assert "Patient/ghost-1" not in source.fetched


def test_each_named_patient_left_out_as_reported_is_counted(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="poems_fhir")
    store = StateStore(tmp_path / "state.sqlite")
    source = NamedSource(records(), "Patient/ghost-1", "Patient/ghost-2")
    assert make_job(source, store).run().missing == 2
    caplog.clear()
    make_job(source, store).run()
    (said,) = [r for r in caplog.records if getattr(r, "event", None) == "cohort.reported_missing"]
    assert said.fields == {"count": 2}  # type: ignore[attr-defined]


def test_a_discovered_patient_once_missing_is_read_again_when_the_server_names_it(tmp_path):
    # a change found by discovery means the patient is there now: not skipped (not a named cohort)
    store = StateStore(tmp_path / "state.sqlite")
    source = NamedSource(records(), "Patient/ghost-1")
    make_job(source, store).run()
    source.cohort = lambda since, extra=(): Cohort(sorted({*source.records, "Patient/ghost-1"}), SERVER_TIME)  # type: ignore[method-assign]
    source.fetched.clear()
    make_job(source, store).run()
    assert "Patient/ghost-1" in source.fetched


class AheadSource(CohortSource):
    def __init__(self, records: dict[str, Any], server_time: str) -> None:
        super().__init__(records)
        self.server_time = server_time

    def cohort(self, since, extra=()):
        self.since_seen.append(since)
        return Cohort(sorted(self.records), self.server_time)


@pytest.mark.parametrize(
    ("server_time", "checkpoint", "warned"),
    [
        ("2026-11-28T10:00:00.000Z", "2026-11-27T10:00:00.000Z", True),  # a day ahead: ours
        ("2026-11-27T10:00:30.000Z", "2026-11-27T10:00:00.000Z", False),  # 30 s ahead: ours, no news
        (SERVER_TIME, SERVER_TIME, False),  # behind ours: the server's (our clock may run ahead)
    ],
)
def test_the_checkpoint_is_never_after_our_own_time(tmp_path, caplog, server_time, checkpoint, warned):
    # probe45 D7: a Date header of "tomorrow" became the checkpoint; the next runs searched from tomorrow
    # and a change made in between was never read
    caplog.set_level(logging.INFO, logger="poems_fhir")
    store = StateStore(tmp_path / "state.sqlite")
    make_job(AheadSource(records(), server_time), store).run()
    assert store.checkpoint("srv") == checkpoint
    ahead = [r for r in caplog.records if getattr(r, "event", None) == "run.server_clock_ahead"]
    assert len(ahead) == int(warned)


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_page_of_the_patients_search_fails_the_patient_it_does_not_park_it_as_missing(tmp_path, status):
    """probe68 D2: a 410 to a next link of one of the patient's searches (HAPI's expired paging link) made
    the patient "not on the server", parked for good: it is an incomplete read, retried next run."""
    from poems_fhir.errors import PageLinkGoneError

    class ExpiredPage(NamedSource):
        def fetch(self, patient):
            self.fetched.append(patient)
            raise PageLinkGoneError(
                f"search Procedure: the server answered HTTP {status} to its own next link", status=status
            )

    store = StateStore(tmp_path / "state.sqlite")
    source = ExpiredPage({"Patient/classic-poems": records()["Patient/classic-poems"]})
    summary = make_job(source, store).run()
    assert (summary.failed, summary.missing) == (1, 0)
    assert store.patient("srv", "Patient/classic-poems").status == "failed"
    working = NamedSource({"Patient/classic-poems": records()["Patient/classic-poems"]})
    make_job(working, store).run()  # retried next run
    assert working.fetched == ["Patient/classic-poems"]
