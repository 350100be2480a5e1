"""The checkpoint is a time of the run's start, by either clock (probe120 A1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync.job import SyncJob
from poems_fhir.sync.sources import Cohort
from poems_fhir.sync.state import StateStore
from tests.sync.test_job_mutants import NOW, CohortSource, records

RUN_LENGTH = dt.timedelta(hours=1)


class SlowRunClock:
    """Our clock: NOW until the cohort is read, an hour later from then on (a long run)."""

    def __init__(self) -> None:
        self.cohort_read = False

    def __call__(self) -> dt.datetime:
        return NOW + RUN_LENGTH if self.cohort_read else NOW


class AheadSource(CohortSource):
    def __init__(self, records: dict[str, Any], server_time: str, clock: SlowRunClock) -> None:
        super().__init__(records)
        self.server_time, self.clock = server_time, clock

    def cohort(self, since, extra=()):
        self.clock.cohort_read = True
        return Cohort(sorted(self.records), self.server_time)


def run(tmp_path, server_time: str) -> str | None:
    clock = SlowRunClock()
    store = StateStore(tmp_path / "state.sqlite")
    SyncJob(AheadSource(records(), server_time, clock), None, store, load_mapping(), MAYO, "srv", clock).run()
    return store.checkpoint("srv")


def test_a_server_clock_ahead_gives_our_time_at_the_runs_start_not_at_its_end(tmp_path):
    # the server's Date a day ahead: a change it stamped during the hour of the run (by a clock other than its
    # Date header's) lies after our start; our time at the end would pass over it
    assert run(tmp_path, "2026-11-28T10:00:00.000Z") == "2026-11-27T10:00:00.000Z"


def test_a_server_clock_behind_ours_is_the_checkpoint_whatever_the_runs_length(tmp_path):
    assert run(tmp_path, "2026-11-27T09:59:00.000Z") == "2026-11-27T09:59:00.000Z"
