"""`poems-fhir sync --bulk` and `poems-fhir export` end to end against the bulk fixture server
(tests/fhir/bulk_server.py), including a SIGKILL during polling and during download (at a chosen
point: tests/fhir/kill_bulk.py) followed by a resumed run that neither re-exports nor loses files,
and gives the same conclusions as `sync --source` over the same files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.fhir.bulk import JOURNAL_FILE
from tests.conftest import SAMPLES
from tests.fhir.bulk_server import TOKEN, BulkServer

HOOK = Path(__file__).resolve().parents[1] / "fhir" / "kill_bulk.py"
ROOT = Path(__file__).resolve().parents[2]


def resources() -> list[dict[str, Any]]:
    out = []
    for name in ("classic-poems.json", "relapse-case.json"):
        bundle = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
        out += [e["resource"] for e in bundle["entry"]]
    return out


def serve_samples(server: BulkServer) -> list[str]:
    """One small file per resource (many downloads), named by type."""
    names = []
    for i, r in enumerate(resources()):
        name = f"{r['resourceType']}{i:03d}.ndjson"
        server.add_ndjson(name, [r])
        names.append(name)
    return names


@pytest.fixture
def server():
    with BulkServer() as s:
        serve_samples(s)
        yield s


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, Any]:
    """What `sync --source` makes of the same files: the conclusions a bulk run must reach."""
    folder = tmp_path_factory.mktemp("ref")
    src = folder / "src"
    src.mkdir()
    for i, r in enumerate(resources()):
        (src / f"{i:03d}.ndjson").write_text(json.dumps(r) + "\n", encoding="utf-8")
    out = folder / "out"
    result = CliRunner().invoke(
        main,
        [
            "sync",
            "--source",
            str(src),
            "--out",
            str(out),
            "--state",
            str(folder / "s.sqlite"),
            "--phi",
            "--format",
            "json",
        ],
        env={"POEMS_FHIR_PSEUDONYM_KEY": "one-installation"},  # the key of the file names, as sync_bulk's
    )
    assert result.exit_code == 0, result.output
    return {"summary": json.loads(result.stdout), "files": sorted(p.name for p in out.iterdir())}


def sync_bulk(server: BulkServer, tmp: Path, kill_at: str = "none:0", *extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "POEMS_FHIR_TOKEN": TOKEN,
        "POEMS_FHIR_TEST_KILL_AT": kill_at,
        "POEMS_FHIR_PSEUDONYM_KEY": "one-installation",  # file names are keyed by it: same key, same names
        "PYTHONPATH": str(ROOT),
    }
    args = [
        "sync",
        "--server",
        server.base,
        "--auth",
        "bearer",
        "--bulk",
        "patient",
        "--out",
        str(tmp / "out"),
        "--state",
        str(tmp / "state.sqlite"),
        "--phi",
        "--format",
        "json",
        *extra,
    ]
    return subprocess.run(
        [sys.executable, str(HOOK), *args], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
    )


def same_conclusions(done: subprocess.CompletedProcess[str], reference: dict[str, Any], tmp: Path) -> None:
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["completed"] and summary["conclusions"] == reference["summary"]["conclusions"]
    assert summary["screening"] == reference["summary"]["screening"]
    assert sorted(p.name for p in (tmp / "out").iterdir()) == reference["files"]


def test_sync_bulk_killed_while_polling_resumes_the_same_export(server, tmp_path, reference):
    server.pending_polls = 3
    killed = sync_bulk(server, tmp_path, "poll:1")
    assert killed.returncode == -9, killed.stderr  # SIGKILL right after the first poll
    assert server.kickoffs == 1 and server.polls == 1
    resumed = sync_bulk(server, tmp_path)
    assert server.kickoffs == 1  # the saved status URL was polled: no second export
    assert server.polls == 4 and server.deletes == 1
    same_conclusions(resumed, reference, tmp_path)


def test_sync_bulk_killed_while_downloading_fetches_only_the_missing_files(server, tmp_path, reference):
    server.pending_polls = 0
    killed = sync_bulk(server, tmp_path, "download:5", "--bulk-parallel", "2")
    assert killed.returncode == -9, killed.stderr
    journal = (tmp_path / "bulk-export" / JOURNAL_FILE).read_text().splitlines()
    complete = {json.loads(line)["file"] for line in journal}
    assert len(complete) >= 5
    before = len(server.calls("/fhir/R4/files/"))
    resumed = sync_bulk(server, tmp_path)
    assert server.kickoffs == 1
    again = [s.path.rsplit("/", 1)[-1] for s in server.calls("/fhir/R4/files/")[before:]]
    names = list(server.files)
    complete_names = {names[int(Path(f).name.split(".")[0])] for f in complete}
    assert not complete_names & set(again)  # files complete before the kill were not fetched again
    assert len(again) == len(names) - len(complete)
    data = sorted((tmp_path / "bulk-export" / "data").iterdir())
    assert len(data) == len(names) and not list((tmp_path / "bulk-export" / "data").glob("*.part"))
    same_conclusions(resumed, reference, tmp_path)


def test_the_next_run_exports_since_the_transaction_time(server, tmp_path, reference):
    server.pending_polls = 0
    first = sync_bulk(server, tmp_path)
    same_conclusions(first, reference, tmp_path)
    server.files.clear()  # nothing changed since
    second = sync_bulk(server, tmp_path)
    assert second.returncode == 0, second.stderr
    assert server.kickoffs == 2 and server.kickoff_params[1]["_since"] == [server.transaction_time]
    assert json.loads(second.stdout)["patients_scanned"] == 0


def test_export_command_downloads_into_a_folder(server, tmp_path, monkeypatch):
    server.pending_polls = 0
    monkeypatch.setenv("POEMS_FHIR_TOKEN", TOKEN)
    out = tmp_path / "exp"
    args = ["export", "--server", server.base, "--auth", "bearer", "--bulk", "group:g1", "--out", str(out)]
    args += ["--since", "2026-11-01T00:00:00Z"]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["files"] == len(server.files) and doc["transaction_time"] == server.transaction_time
    assert server.calls("/fhir/R4/Group/g1/$export") and server.kickoff_params[0]["_since"] == ["2026-11-01T00:00:00Z"]
    again = CliRunner().invoke(main, [*args, "--format", "json"])  # complete already: nothing fetched, no export
    assert again.exit_code == 0 and json.loads(again.stdout)["downloaded"] == 0 and server.kickoffs == 1
    other = CliRunner().invoke(main, [*args[:-2], "--format", "json"])  # another _since: not mixed up
    assert other.exit_code == 2 and "export of another request" in other.output and server.kickoffs == 1


def test_sigterm_during_downloads_ends_the_export_at_once(tmp_path):
    # found by a held-out probe (probe25): the signal was taken only after every remaining file
    with BulkServer() as server:
        for i in range(80):
            server.add_ndjson(f"Observation{i:03d}.ndjson", [{"resourceType": "Observation", "id": f"o{i}"}])
        out = tmp_path / "e"
        env = {**os.environ, "POEMS_FHIR_TOKEN": TOKEN, "POEMS_FHIR_TEST_KILL_AT": "term:3", "PYTHONPATH": str(ROOT)}
        args = ["export", "--server", server.base, "--auth", "bearer", "--out", str(out), "--parallel", "2"]
        done = subprocess.run(
            [sys.executable, str(HOOK), *args], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
        )
    assert done.returncode == 143, done.stderr
    files = [p for p in out.rglob("*.ndjson")]
    assert 3 <= len(files) <= 3 + 2 * 2  # the three before the signal, at most the two in flight per worker
    assert not list(out.rglob("*.part"))  # a download cut short leaves nothing half-written


def test_export_command_reports_error_files_with_exit_1(server, tmp_path, monkeypatch):
    from tests.fhir.bulk_server import FileSpec

    server.pending_polls = 0
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "diagnostics": "Claim/9 failed"}]}
    server.errors["OperationOutcome.ndjson"] = FileSpec((json.dumps(outcome) + "\n").encode())
    monkeypatch.setenv("POEMS_FHIR_TOKEN", TOKEN)
    result = CliRunner().invoke(
        main, ["export", "--server", server.base, "--auth", "bearer", "--out", str(tmp_path / "e")]
    )
    assert (
        result.exit_code == 1
        and "export error: 00000.OperationOutcome.ndjson:1: error: Claim/9 failed" in result.stdout
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bulk", "patient", "--source", "x", "--out", "y"], "--bulk exports from a server"),
        (["--server", "http://127.0.0.1:1/fhir", "--bulk", "groups"], "system, patient or group:ID"),
        (["--server", "http://127.0.0.1:1/fhir", "--bulk", "patient", "--group", "g"], "use --bulk group:ID"),
        (["--server", "http://127.0.0.1:1/fhir", "--bulk-restart"], "it needs --bulk"),
    ],
)
def test_bulk_configuration_errors_exit_2(args, message, tmp_path):
    result = CliRunner().invoke(main, ["sync", *args, "--state", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and message in result.output


def test_export_status_gone_exit_code_and_restart(server, tmp_path, monkeypatch):
    monkeypatch.setenv("POEMS_FHIR_TOKEN", TOKEN)
    out = tmp_path / "e"
    args = ["export", "--server", server.base, "--auth", "bearer", "--out", str(out)]
    server.pending_polls = 0
    server.status_gone = True
    gone = CliRunner().invoke(main, args)
    assert gone.exit_code == 3 and "no longer knows the bulk export" in gone.output and "--restart" in gone.output
    server.status_gone = False
    fresh = CliRunner().invoke(main, [*args, "--restart"])
    assert fresh.exit_code == 0, fresh.output
    assert server.kickoffs == 2


@pytest.mark.parametrize(
    "since",
    [
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-01T25:00:00Z",
        "yesterday",
        # probe72 D14: a bare date (read by each server in its own zone) or no seconds is no FHIR instant
        "2026-11-01",
        "2026-11-01T00:00Z",
    ],
)
def test_export_since_that_is_no_calendar_time_is_a_usage_error_before_any_request(
    server, tmp_path, since, monkeypatch
):
    monkeypatch.setenv("POEMS_FHIR_TOKEN", TOKEN)
    args = ["export", "--server", server.base, "--auth", "bearer", "--out", str(tmp_path / "e"), "--since", since]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "give a FHIR instant" in result.output
    assert server.kickoffs == 0


def test_sync_bulk_of_a_group_the_server_does_not_have_is_a_usage_error(server, tmp_path, monkeypatch):
    # like --group (README exit codes: 2 for "a --group the server does not have"); faultprobe3 B79
    monkeypatch.setenv("POEMS_FHIR_TOKEN", TOKEN)
    server.missing_groups = {"nope"}
    args = ["export", "--server", server.base, "--auth", "bearer", "--bulk", "group:nope", "--out", str(tmp_path / "e")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "has no Group 'nope'" in result.output


def test_a_file_short_of_its_count_keeps_the_checkpoint_so_the_next_run_exports_it_again(server, tmp_path):
    # the README promised "fetched again by the next run", but the completed run moved the checkpoint to
    # the export's transactionTime and consumed it: the next run exported _since then, and the resources
    # missing from the short file were never read again
    server.pending_polls = 0
    name = next(n for n in server.files if n.startswith("Observation"))
    server.files[name].count = 2  # the file holds one resource
    first = sync_bulk(server, tmp_path)
    assert first.returncode == 1, first.stderr
    assert "the manifest says 2" in first.stdout and "bulk.checkpoint_kept" in first.stderr
    server.files[name].count = None
    second = sync_bulk(server, tmp_path)
    assert second.returncode == 0, second.stderr
    assert server.kickoffs == 2 and "_since" not in server.kickoff_params[1]  # the whole window again
    server.files.clear()  # nothing changed since: the complete run moved the checkpoint
    third = sync_bulk(server, tmp_path)
    assert third.returncode == 0, third.stderr
    assert server.kickoffs == 3 and server.kickoff_params[2]["_since"] == [server.transaction_time]


@pytest.mark.parametrize(("severity", "kept"), [("error", True), ("fatal", True), ("warning", False)])
def test_a_resource_the_server_could_not_export_keeps_the_checkpoint(server, tmp_path, severity, kept):
    """probe55: an error file naming a resource that could not be exported moved the checkpoint past it,
    so no later run read it; a warning loses nothing."""
    from tests.fhir.bulk_server import FileSpec

    server.pending_polls = 0
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "diagnostics": "Observation/9"}]}
    server.errors["OperationOutcome.ndjson"] = FileSpec((json.dumps(outcome) + "\n").encode())
    first = sync_bulk(server, tmp_path)
    assert first.returncode == 1, first.stderr  # the export's issues are listed
    assert ("bulk.checkpoint_kept" in first.stderr) is kept
    del server.errors["OperationOutcome.ndjson"]
    sync_bulk(server, tmp_path)
    assert ("_since" not in server.kickoff_params[1]) is kept  # the whole window again, or since the export


def test_a_dry_run_leaves_the_export_on_the_server(server, tmp_path):
    """probe55: `sync --bulk --dry-run` DELETEd the export, though a dry run changes nothing on the server."""
    server.pending_polls = 0
    done = sync_bulk(server, tmp_path, "none:0", "--dry-run", str(tmp_path / "dry"))
    # (the fixture server answers no search of our earlier reports: those patients fail, the run completes)
    assert json.loads(done.stdout)["completed"], done.stderr
    assert server.kickoffs == 1 and server.deletes == 0 and "bulk.deleted" not in done.stderr


def test_a_garbled_line_in_a_counted_file_keeps_the_checkpoint(server, tmp_path):
    """probe72 D1: a file with a garbled line passed a manifest count of lines; the sync run moved its
    checkpoint past the resource the line held, which no later run read."""
    server.pending_polls = 0
    name = next(n for n in server.files if n.startswith("Observation"))
    spec = server.files[name]
    spec.body += b'{"resourceType": "Observation", "id": "x",\n'
    spec.count = 2  # the server counted the resource it garbled
    first = sync_bulk(server, tmp_path)
    assert first.returncode == 1, first.stderr
    assert "1 resource(s) received, the manifest says 2" in first.stdout and "bulk.checkpoint_kept" in first.stderr
    server.files[name].body = spec.body.rsplit(b"{", 1)[0]
    server.files[name].count = 1
    sync_bulk(server, tmp_path)
    assert server.kickoffs == 2 and "_since" not in server.kickoff_params[1]  # the whole window again


def test_a_line_that_is_no_resource_keeps_the_checkpoint_and_exits_1(server, tmp_path, monkeypatch):
    """probe72 D6: `export` said nothing (exit 0); `sync --bulk` listed the line as skipped input but moved
    its checkpoint past the resource, which no later run read."""
    server.pending_polls = 0
    name = next(n for n in server.files if n.startswith("Observation"))
    server.files[name].body += b'{"resourceType": "Observation", "id": "x",\n'
    monkeypatch.setenv("POEMS_FHIR_TOKEN", TOKEN)
    exported = CliRunner().invoke(
        main, ["export", "--server", server.base, "--auth", "bearer", "--out", str(tmp_path / "e"), "--format", "json"]
    )
    assert exported.exit_code == 1 and json.loads(exported.stdout)["unreadable_lines"] == 1
    first = sync_bulk(server, tmp_path)
    assert first.returncode == 1, first.stderr
    problems = json.loads(first.stdout)["problems"]
    assert sum(":2: not JSON" in p for p in problems) == 1, problems  # listed once, by the reader
    assert "bulk.checkpoint_kept" in first.stderr
    server.files[name].body = server.files[name].body.rsplit(b"{", 1)[0]
    sync_bulk(server, tmp_path)
    assert "_since" not in server.kickoff_params[-1]  # the whole window again


def test_export_names_its_own_flag_in_an_error(tmp_path):
    # probe72 D16: `export --parallel 0` was reported as "flag --bulk-parallel", a flag export does not have
    result = CliRunner().invoke(
        main, ["export", "--server", "http://127.0.0.1:1/fhir", "--out", str(tmp_path / "e"), "--parallel", "0"]
    )
    assert result.exit_code == 2 and "flag --parallel: " in result.output and "--bulk-parallel" not in result.output


def test_export_since_in_the_future_is_a_usage_error_before_any_request(server, tmp_path, monkeypatch):
    # probe72 D14: 2062 for 2026 was sent; the server answered an empty export, exit 0
    monkeypatch.setenv("POEMS_FHIR_TOKEN", TOKEN)
    args = ["export", "--server", server.base, "--auth", "bearer", "--out", str(tmp_path / "e")]
    result = CliRunner().invoke(main, [*args, "--since", "2999-11-01T00:00:00Z"])
    assert result.exit_code == 2 and "is in the future" in result.output and server.kickoffs == 0


def test_export_since_a_little_ahead_of_our_clock_is_taken():
    from poems_fhir.sync.export_cli import _since_problem

    now = 1_795_000_000.0  # 2026-11-18T11:06:40Z
    assert _since_problem("2026-11-18T11:10:00Z", now) is None  # the server's clock may be ahead
    assert "in the future" in (_since_problem("2026-11-18T11:20:00Z", now) or "")
    assert _since_problem("2026-11-18T11:06:40+01:00", now) is None
    assert "in the future" in (_since_problem("2026-11-18T11:06:40-01:00", now) or "")


def test_export_with_a_status_url_on_another_origin_kicks_off_once_across_runs(server, tmp_path, monkeypatch):
    # probe72 D8: every run exited 3 after starting (and abandoning) a new export on the server
    monkeypatch.setenv("POEMS_FHIR_TOKEN", TOKEN)
    server.status_location = "http://127.0.0.1:1/fhir/R4/bulkstatus/job1"  # a misconfigured proxy's address
    args = ["export", "--server", server.base, "--auth", "bearer", "--out", str(tmp_path / "e"), "--format", "json"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 3 and "left running on the server" in json.loads(first.stdout)["error"]
    second = CliRunner().invoke(main, args)
    doc = json.loads(second.stdout)
    assert second.exit_code == 3 and doc["error_type"] == "StatusUrlRefusedError"
    assert "started by an earlier run" in doc["error"] and "--restart" in doc["error"]
    assert server.kickoffs == 1 and TOKEN not in second.output


def test_sync_bulk_of_a_group_writes_reports_for_its_members_only(server, tmp_path, reference):
    # probe72 D7: every patient of the export's files got a report, members of the Group or not
    server.pending_polls = 0
    server.groups["g1"] = {"resourceType": "Group", "id": "g1", "type": "person", "actual": True}
    server.groups["g1"]["member"] = [{"entity": {"reference": "Patient/classic-poems"}}]
    done = sync_bulk(server, tmp_path, "none:0", "--bulk", "group:g1")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["completed"] and summary["patients_scanned"] == 1
    assert [c["patient"] for c in summary["conclusions"]] == ["Patient/classic-poems"]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 1 and written[0] in reference["files"] and len(reference["files"]) == 2
    assert "bulk.non_members" in done.stderr
    assert server.calls("/fhir/R4/Group/g1/$export") and server.deletes == 1
