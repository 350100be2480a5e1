"""The sync job with worker processes evaluating ahead of the writer: the same files and summary as
in one process; a killed worker costs one patient, recorded as failed and written by the next run;
a stop that reaches the workers loses and duplicates nothing."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
from pathlib import Path

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.sync import job as job_module
from poems_fhir.sync.config import load_settings
from poems_fhir.sync.job import SyncJob
from poems_fhir.sync.sinks import DirSink
from poems_fhir.sync.sources import FileSource
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)
PARENT = os.getpid()
VICTIM = "Patient/classic-poems"


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(SAMPLES / "origin-case", folder / "origin-case")
    shutil.copy(SAMPLES / "classic-poems.json", folder)
    shutil.copytree(SAMPLES / "mimics", folder / "mimics")
    return folder


def make_job(data: Path, state: Path, out: Path, workers: int, **kw) -> SyncJob:
    kw.setdefault("pseudonym_key", b"one-installation")  # keys the file names
    return SyncJob(
        source=FileSource([data]),
        sink=DirSink(out),
        store=StateStore(state),
        mapping=load_mapping(),
        profile=MAYO,
        server_key="files:test",
        now=lambda: NOW,
        show_phi=True,
        workers=workers,
        **kw,
    )


def kill_worker_on(monkeypatch, victim: str) -> None:
    real = job_module.evaluate_record

    def evaluate_record(record, *args, **kw):
        if record.patient == victim and os.getpid() != PARENT:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        return real(record, *args, **kw)

    monkeypatch.setattr(job_module, "evaluate_record", evaluate_record)


def test_workers_write_the_same_files_and_summary(data, tmp_path):
    one = make_job(data, tmp_path / "1.sqlite", tmp_path / "out1", 1).run()
    two = make_job(data, tmp_path / "2.sqlite", tmp_path / "out2", 2).run()
    assert one.written == two.written == 5
    assert one.counts() == two.counts() and one.conclusions == two.conclusions and one.problems == two.problems
    files = sorted(p.name for p in (tmp_path / "out1").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "out2").iterdir())
    for name in files:
        assert (tmp_path / "out1" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes()
    again = make_job(data, tmp_path / "2.sqlite", tmp_path / "out2", 2).run()
    assert (again.written, again.unchanged) == (0, 5)


def test_a_killed_worker_costs_one_patient_and_the_next_run_writes_it(data, tmp_path, monkeypatch):
    kill_worker_on(monkeypatch, VICTIM)
    first = make_job(data, tmp_path / "s.sqlite", tmp_path / "out", 2).run()
    assert first.completed and first.failed == 1 and first.written == 4
    problem = next(p for p in first.problems if p.startswith(VICTIM))
    assert "worker process" in problem and "SIGKILL" in problem and "retried next run" in problem
    store = StateStore(tmp_path / "s.sqlite")
    assert store.patient("files:test", VICTIM).status == "failed"
    monkeypatch.undo()
    second = make_job(data, tmp_path / "s.sqlite", tmp_path / "out", 2).run()
    assert (second.written, second.unchanged, second.failed) == (1, 4, 0)
    assert len(list((tmp_path / "out").glob("*.json"))) == 5  # one transaction per patient, none twice


def test_a_stop_that_kills_the_workers_records_nothing_for_their_patients(data, tmp_path, monkeypatch):
    """systemd's SIGTERM reaches the whole group: the workers die, the job stops without blaming anyone."""
    kill_worker_on(monkeypatch, VICTIM)
    patients = FileSource([data]).cohort(None).patients
    at = patients.index(VICTIM)
    calls = {"n": 0}

    def stop() -> bool:  # asked once before each patient, and once more when a worker died
        calls["n"] += 1
        return calls["n"] > at + 1

    first = make_job(data, tmp_path / "s.sqlite", tmp_path / "out", 2, stop_requested=stop).run()
    assert not first.completed and first.failed == 0 and first.patients_scanned == at
    assert StateStore(tmp_path / "s.sqlite").patient("files:test", VICTIM) is None
    monkeypatch.undo()
    second = make_job(data, tmp_path / "s.sqlite", tmp_path / "out", 2).run()
    assert second.completed and second.failed == 0
    assert second.written + second.unchanged == 5
    assert len(list((tmp_path / "out").glob("*.json"))) == 5


def test_workers_setting_from_toml_env_and_flag(tmp_path):
    toml = tmp_path / "sync.toml"
    toml.write_text('source = ["in"]\nout = "out"\nworkers = 3\n')
    assert load_settings(toml, {}, {}).workers == 3
    assert load_settings(toml, {}, {"POEMS_FHIR_WORKERS": "auto"}).workers == 0  # 0: every core
    assert load_settings(toml, {"workers": "1"}, {"POEMS_FHIR_WORKERS": "2"}).workers == 1
    with pytest.raises(Exception, match="workers"):
        load_settings(toml, {"workers": "-2"}, {})


@pytest.mark.parametrize("workers", [2, 3])
def test_with_workers_the_writer_reads_and_evaluates_no_patient_itself(data, tmp_path, monkeypatch, workers):
    """Mutation sample seed 23/24 (`_evaluate_ahead` only from 3 workers; `_one` ignoring the worker's
    result): the output stays the same, but every patient is fetched and evaluated again in the writer -
    the workers' speed-up lost. With --workers N (N >= 2) the writer only writes."""
    job = make_job(data, tmp_path / "s.sqlite", tmp_path / "out", workers)
    assert hasattr(job.source, "patient_source")  # a file source: evaluated ahead
    fetched: list[str] = []
    real_fetch = FileSource.fetch

    def counting_fetch(self, patient):
        if os.getpid() == PARENT:
            fetched.append(patient)
        return real_fetch(self, patient)

    monkeypatch.setattr(FileSource, "fetch", counting_fetch)
    summary = job.run()
    assert summary.evaluated >= 4 and fetched == []
