"""`poems-fhir state ...` and state-file errors through the `sync` command."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.sync.job import pseudonym
from poems_fhir.sync.state import StateStore
from tests.conftest import SAMPLES


def cli(*args):
    return CliRunner().invoke(main, list(args))


def synced(tmp_path):
    state = tmp_path / "s" / "state.sqlite"
    result = cli(
        "sync",
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--source",
        str(SAMPLES / "mimics"),
        "--out",
        str(tmp_path / "out"),
        "--state",
        str(state),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    return state


def test_sync_with_a_state_path_that_is_a_folder_exits_2(tmp_path):
    result = cli(
        "sync", "--source", str(SAMPLES / "classic-poems.json"), "--out", str(tmp_path / "o"), "--state", str(tmp_path)
    )
    assert result.exit_code == 2
    assert f"state path {tmp_path} is a folder" in result.output and "Traceback" not in result.output


def test_sync_with_a_corrupt_state_file_exits_2_and_says_how_to_move_it(tmp_path):
    state = tmp_path / "state.sqlite"
    state.write_bytes(b"\x00garbage" * 512)
    result = cli(
        "sync", "--source", str(SAMPLES / "classic-poems.json"), "--out", str(tmp_path / "o"), "--state", str(state)
    )
    assert result.exit_code == 2 and f"mv {state} {state}.broken" in result.output


def test_sync_dry_run_on_files_leaves_no_state(tmp_path):
    state = tmp_path / "s" / "state.sqlite"
    result = cli(
        "sync",
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--dry-run",
        str(tmp_path / "dry"),
        "--state",
        str(state),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output[result.output.index("{") :])
    assert (doc["would_write"], doc["written"]) == (1, 0)
    assert not (tmp_path / "s").exists()
    assert "would write" in result.output  # the log line (CliRunner mixes stderr in)


def test_state_show_failed_conflicts_export(tmp_path):
    state = synced(tmp_path)
    store = StateStore(state)
    store.record_patient(
        "files:x",
        "Patient/gone",
        "",
        {},
        "missing",
        "2026-11-27T10:00:00",
        reason="GET Patient/gone failed: HTTP 404",
        attempts=1,
    )
    store.add_takeover("files:x", "Patient/classic-poems", "CarePlan/7", "k", "active", "2026-11-27T10:00:00")
    store.add_takeover("files:x", "Patient/classic-poems", "DiagnosticReport/9", "r", "deleted", "2026-11-27T10:00:00")
    store.close()
    show = cli("state", "show", "--state", str(state))
    assert show.exit_code == 0 and "run 1:" in show.output and "written=4" in show.output
    failed = cli("state", "failed", "--state", str(state))
    assert "Patient/gone: missing (1 run(s)): GET Patient/gone failed: HTTP 404" in failed.output
    conflicts = cli("state", "conflicts", "--state", str(state))
    assert "Patient/classic-poems: CarePlan/7 (status active) taken over" in conflicts.output
    assert "Patient/classic-poems: DiagnosticReport/9 deleted by someone; reported" in conflicts.output
    doc = json.loads(cli("state", "export", "--format", "json", "--state", str(state)).output)
    assert {"checkpoints", "runs", "patients", "takeovers"} <= set(doc) and len(doc["runs"]) == 1
    assert any(p["patient"] == "Patient/classic-poems" and p["status"] == "written" for p in doc["patients"])


def test_state_retry_and_forget(tmp_path):
    state = synced(tmp_path)
    store = StateStore(state)
    store.record_patient("files:x", "Patient/gone", "", {}, "missing", "t", reason="404", attempts=1)
    assert store.retry_queue("files:x") == []  # reported once, then out of the queue
    store.close()
    assert cli("state", "retry", "gone", "--state", str(state)).exit_code == 0
    assert StateStore(state).retry_queue("files:x") == ["Patient/gone"]
    assert cli("state", "retry", "Patient/nobody", "--state", str(state)).exit_code == 2
    result = cli("state", "forget", "Patient/classic-poems", "--state", str(state))
    assert result.exit_code == 0 and "forgotten" in result.output
    assert all(p["patient"] != "Patient/classic-poems" for p in StateStore(state).patients())


def test_state_lookup_answers_a_log_pseudonym(tmp_path):
    state = synced(tmp_path)
    key = (state.parent / "pseudonym.key").read_bytes().strip()
    name = pseudonym(key, "Patient/classic-poems")
    result = cli("state", "lookup", name, "--state", str(state))
    assert result.exit_code == 0 and result.output.strip() == "Patient/classic-poems"
    assert cli("state", "lookup", "patient-0000000000000000", "--state", str(state)).exit_code == 1
    shutil.move(state.parent / "pseudonym.key", tmp_path / "elsewhere.key")
    assert cli("state", "lookup", name, "--state", str(state)).exit_code == 2  # no key: says where it looked
    ok = cli("state", "lookup", name, "--state", str(state), "--pseudonym-key-file", str(tmp_path / "elsewhere.key"))
    assert ok.output.strip() == "Patient/classic-poems"


def test_state_commands_without_a_state_file(tmp_path):
    result = cli("state", "show", "--state", str(tmp_path / "none.sqlite"))
    assert result.exit_code == 2 and "no state file at" in result.output


def test_the_summary_prints_even_when_the_run_dies(tmp_path, monkeypatch):
    from poems_fhir.errors import AuthError
    from poems_fhir.sync.sources import FileSource

    def dies(self, patient):
        raise AuthError("GET Patient/x failed: HTTP 401 - check the credentials and their scopes")

    monkeypatch.setattr(FileSource, "fetch", dies)
    result = cli(
        "sync",
        "--source",
        str(SAMPLES / "classic-poems.json"),
        "--out",
        str(tmp_path / "o"),
        "--state",
        str(tmp_path / "s.sqlite"),
        "--format",
        "json",
    )
    assert result.exit_code == 4  # authentication refused (the network edge's exit code)
    doc = json.loads(result.output[result.output.index("{") : result.output.rindex("}") + 1])
    assert doc["completed"] is False and "401" in doc["fatal"]
    assert StateStore(tmp_path / "s.sqlite").runs()[-1]["outcome"] == "failed"
