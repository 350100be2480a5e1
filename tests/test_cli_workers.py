"""`evaluate --workers N`: the same bytes on stdout and in --out for any N; a killed worker costs
one patient and exit code 70, never a hung run."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir import pipeline
from poems_fhir.cli import main
from poems_fhir.errors import EXIT_INTERNAL
from tests.conftest import SAMPLES, benchmark_script

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone.utc)


class _Frozen(dt.datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return NOW


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """--out stamps the run time into every bundle: frozen, so runs can be compared byte for byte
    (forked workers inherit the patched module)."""
    monkeypatch.setattr(
        "poems_fhir.cli.dt", types.SimpleNamespace(datetime=_Frozen, date=dt.date, timezone=dt.timezone)
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    bench = benchmark_script("evaluate_throughput")
    folder = tmp_path_factory.mktemp("generated")
    bench.generate(folder, 24)
    return folder


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def outputs(tmp_path: Path, source: Path, workers: int, *extra: str) -> tuple[str, int, dict[str, bytes]]:
    out = tmp_path / f"w{workers}"
    result = run("evaluate", str(source), "--workers", str(workers), "--out", str(out), *extra)
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    return result.output.replace(str(out), "OUT"), result.exit_code, files


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("which", ["samples", "generated"])
def test_output_is_byte_identical_for_one_and_two_workers(tmp_path, generated, fmt, which):
    source = SAMPLES if which == "samples" else generated
    one = outputs(tmp_path, source, 1, "--format", fmt, "--all")
    two = outputs(tmp_path, source, 2, "--format", fmt, "--all")
    assert one == two
    assert len(one[2]) > 3  # in-scope patients were written back
    if fmt == "json":
        assert len(json.loads(one[0])["patients"]) > 6


def test_one_merged_out_file_is_identical(tmp_path):
    for workers in (1, 2):
        assert run("evaluate", str(SAMPLES), "--workers", str(workers), "--out", str(tmp_path / f"{workers}.json"))
    assert (tmp_path / "1.json").read_bytes() == (tmp_path / "2.json").read_bytes()


def test_a_killed_worker_costs_one_patient_and_exits_70(monkeypatch):
    victim = "Patient/classic-poems"
    real = pipeline.evaluate_record
    parent = os.getpid()  # at test time: a runner (mutmut) may fork the test process after importing this module

    def evaluate_record(record, *args, **kw):
        if record.patient == victim and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        return real(record, *args, **kw)

    monkeypatch.setattr(pipeline, "evaluate_record", evaluate_record)
    result = run("evaluate", str(SAMPLES), "--workers", "2", "--format", "json")
    assert result.exit_code == EXIT_INTERNAL
    doc = json.loads(result.stdout)
    serial = json.loads(run("evaluate", str(SAMPLES), "--workers", "1", "--format", "json").output)
    assert [p for p in serial["patients"] if p["patient"] != victim] == doc["patients"]
    lost = [e for e in doc["errors"] if e.get("internal")]
    assert [e["resource"] for e in lost] == [victim]
    assert "worker process" in lost[0]["message"] and "SIGKILL" in lost[0]["message"]


def test_workers_option_is_checked():
    result = CliRunner().invoke(main, ["evaluate", str(SAMPLES), "--workers", "many"])
    assert result.exit_code == 2 and "worker processes" in result.output


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_workers_come_from_the_environment_as_for_sync_and_the_flag_wins(monkeypatch, tmp_path, command):
    """README "Every core": POEMS_FHIR_WORKERS is read by evaluate and report too (probe51 D8: ignored)."""
    seen: list[int] = []

    def spy(source, keys, work, workers):
        seen.append(workers)
        return iter(())

    monkeypatch.setattr("poems_fhir.parallel.map_patients", spy)  # imported when the command runs
    args = [command, str(SAMPLES / "classic-poems.json")] + (
        ["--html", str(tmp_path / "pages")] if command == "report" else []
    )
    runner = CliRunner()
    bad = runner.invoke(main, args, env={"POEMS_FHIR_WORKERS": "abc"})
    assert bad.exit_code == 2 and "POEMS_FHIR_WORKERS" in bad.output
    runner.invoke(main, args, env={"POEMS_FHIR_WORKERS": "3"})
    runner.invoke(main, [*args, "--workers", "1"], env={"POEMS_FHIR_WORKERS": "3"})
    assert seen == [3, 1]


def test_report_pages_are_identical_for_one_and_two_workers(tmp_path):
    runs = {}
    for workers in (1, 2):
        pages = tmp_path / f"pages{workers}"
        result = run("report", str(SAMPLES), "--html", str(pages), "--workers", str(workers))
        files = {p.name: p.read_bytes() for p in sorted(pages.iterdir())}
        runs[workers] = (result.output.replace(str(pages), "PAGES"), result.exit_code, files)
    assert runs[1] == runs[2]
    assert len(runs[1][2]) > 3 and "no page for" in runs[1][0]


def test_report_writes_each_page_before_drawing_the_next(tmp_path, monkeypatch):
    # a folder of pages is streamed: memory holds one page, not every patient's (issue #11)
    out = tmp_path / "pages"
    drawn_with_pages_on_disk: list[int] = []
    real = pipeline.html_for

    def html_for(*args, **kwargs):
        drawn_with_pages_on_disk.append(len(list(out.glob("*.html"))) if out.exists() else 0)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "html_for", html_for)
    result = run("report", str(SAMPLES), "--html", str(out), "--workers", "1")
    pages = sorted(out.glob("*.html"))
    assert len(pages) >= 5
    assert drawn_with_pages_on_disk == list(range(len(pages)))
    assert result.output.count("wrote ") == len(pages)
