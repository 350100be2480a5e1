"""The state store's query API as `poems-fhir state` and the sync job use it (README "State file"):
filters, row contents and order, forget/retry across tables, takeovers, the pending hashes of older
files, and the error each SQLite failure becomes. Fast unit tests (mutmut reaches them)."""

from __future__ import annotations

import sqlite3

import pytest

from poems_fhir.errors import EXIT_USAGE, StateError, StateLockedError
from poems_fhir.sync.state import SCHEMA_VERSION, StateStore

A, B = "https://a.example/fhir", "https://b.example/fhir"
W1 = {"report": {"ref": "DiagnosticReport/1", "version": "2"}}


@pytest.fixture
def store(tmp_path):
    s = StateStore(tmp_path / "state.sqlite")
    yield s
    s.close()


def fill(s: StateStore) -> None:
    # inserted out of order on purpose: every listing is sorted by server, then patient
    s.record_patient(B, "Patient/2", "h-b2", {}, "failed", "t3", reason="HTTP 500", attempts=2)
    s.record_patient(A, "Patient/2", "h-a2", W1, "written", "t2")
    s.record_patient(A, "Patient/1", "h-a1", {}, "missing", "t1", reason="HTTP 404", attempts=1)


def test_patients_lists_every_column_sorted_by_server_then_patient(store):
    fill(store)
    assert store.patients() == [
        {
            "server": A,
            "patient": "Patient/1",
            "status": "missing",
            "reason": "HTTP 404",
            "attempts": 1,
            "updated_at": "t1",
            "written": {},
        },
        {
            "server": A,
            "patient": "Patient/2",
            "status": "written",
            "reason": "",
            "attempts": 0,
            "updated_at": "t2",
            "written": W1,
        },
        {
            "server": B,
            "patient": "Patient/2",
            "status": "failed",
            "reason": "HTTP 500",
            "attempts": 2,
            "updated_at": "t3",
            "written": {},
        },
    ]


def test_patients_filters_by_server_and_status_alone_and_together(store):
    fill(store)
    assert [(p["server"], p["patient"]) for p in store.patients(server=A)] == [(A, "Patient/1"), (A, "Patient/2")]
    assert [(p["server"], p["patient"]) for p in store.patients(status="failed")] == [(B, "Patient/2")]
    assert [p["patient"] for p in store.patients(server=A, status="written")] == ["Patient/2"]
    assert store.patients(server=B, status="written") == []
    assert store.patients(server="https://c.example/fhir") == []


def test_checkpoints_list_each_server_with_since_and_update_time_sorted(store):
    store.set_checkpoint(B, "2024-02-01T00:00:00Z", "now-b")
    store.set_checkpoint(A, "2024-01-01T00:00:00Z", "now-a")
    store.set_checkpoint(A, "2024-03-01T00:00:00Z", "now-a2")  # moves, does not add a row
    assert store.checkpoints() == [
        {"server": A, "since": "2024-03-01T00:00:00Z", "updated_at": "now-a2"},
        {"server": B, "since": "2024-02-01T00:00:00Z", "updated_at": "now-b"},
    ]


def test_takeovers_are_known_per_server_patient_and_reference(store):
    assert store.takeovers() == [] and not store.known_takeover(A, "Patient/1", "CarePlan/9")
    store.add_takeover(B, "Patient/1", "CarePlan/9", "careplan", "modified", "t2")
    store.add_takeover(A, "Patient/2", "DiagnosticReport/3", "report", "deleted", "t1")
    store.add_takeover(A, "Patient/1", "CarePlan/9", "careplan", "modified", "t0")
    store.add_takeover(A, "Patient/1", "CarePlan/9", "careplan", "deleted", "t5")  # reported once: kept as first
    assert store.known_takeover(A, "Patient/1", "CarePlan/9")
    assert not store.known_takeover(A, "Patient/1", "CarePlan/8")  # another resource
    assert not store.known_takeover(A, "Patient/3", "CarePlan/9")  # another patient
    assert not store.known_takeover("https://c.example/fhir", "Patient/1", "CarePlan/9")  # another server
    assert store.takeovers() == [
        {
            "server": A,
            "patient": "Patient/1",
            "ref": "CarePlan/9",
            "key": "careplan",
            "status": "modified",
            "reported_at": "t0",
        },
        {
            "server": A,
            "patient": "Patient/2",
            "ref": "DiagnosticReport/3",
            "key": "report",
            "status": "deleted",
            "reported_at": "t1",
        },
        {
            "server": B,
            "patient": "Patient/1",
            "ref": "CarePlan/9",
            "key": "careplan",
            "status": "modified",
            "reported_at": "t2",
        },
    ]


def test_pending_hashes_round_trip_per_server_and_patient_and_clear(store):
    assert store.pending(A, "Patient/1") == {}
    store.set_pending(A, "Patient/1", {"report": "h1", "careplan": "h2"})
    store.set_pending(B, "Patient/1", {"report": "other"})
    store.set_pending(A, "Patient/1", {"report": "h3"})  # replaces
    assert store.pending(A, "Patient/1") == {"report": "h3"}
    assert store.pending(B, "Patient/1") == {"report": "other"}
    assert store.pending(A, "Patient/2") == {}
    store.clear_pending(A, "Patient/1")
    assert store.pending(A, "Patient/1") == {} and store.pending(B, "Patient/1") == {"report": "other"}
    store.clear_pending(B, "Patient/2")  # another patient: nothing of Patient/1 goes
    assert store.pending(B, "Patient/1") == {"report": "other"}


def test_forget_removes_one_patient_from_every_table_and_counts_the_rows(store):
    fill(store)
    store.set_pending(A, "Patient/2", {"report": "h"})
    store.add_takeover(A, "Patient/2", "CarePlan/9", "careplan", "modified", "t")
    store.add_takeover(A, "Patient/1", "CarePlan/8", "careplan", "modified", "t")
    assert store.forget("Patient/2") == 4  # two patient rows (both servers), one pending, one takeover
    assert [p["patient"] for p in store.patients()] == ["Patient/1"]
    assert store.pending(A, "Patient/2") == {}
    assert [t["patient"] for t in store.takeovers()] == ["Patient/1"]
    assert store.forget("Patient/2") == 0


def test_retry_requeues_a_patient_on_every_server_and_forgets_its_input_hash(store):
    fill(store)
    assert store.retry("Patient/2") == 2
    for server in (A, B):
        p = store.patient(server, "Patient/2")
        assert p is not None
        assert (p.status, p.input_hash, p.attempts, p.reason) == ("failed", "", 0, "retry requested")
    assert store.patient(A, "Patient/1").status == "missing"  # type: ignore[union-attr]
    assert store.retry("Patient/9") == 0


def test_export_has_the_schema_and_every_listing(store):
    fill(store)
    store.set_checkpoint(A, "s", "n")
    store.add_takeover(A, "Patient/2", "CarePlan/9", "careplan", "modified", "t")
    run = store.start_run(A, "t0")
    store.finish_run(run, "completed", {"written": 1}, "t1")
    out = store.export()
    assert out["schema"] == SCHEMA_VERSION
    assert out["checkpoints"] == store.checkpoints() and len(out["checkpoints"]) == 1
    assert out["patients"] == store.patients() and len(out["patients"]) == 3
    assert out["takeovers"] == store.takeovers() and len(out["takeovers"]) == 1
    assert [r["outcome"] for r in out["runs"]] == ["completed"]


# ------------------------------------------------------------------ SQLite errors -> exit 2 with the fix


@pytest.mark.parametrize("text", ["database is locked", "database table is busy"])
def test_locked_or_busy_is_a_lock_error_naming_the_file_and_the_holder(store, text):
    store.lock_path.write_text("pid 42 on host-a since 2024-01-01T00:00:00+00:00\n", encoding="utf-8")
    err = store._error(sqlite3.OperationalError(text))
    assert isinstance(err, StateLockedError) and err.exit_code == EXIT_USAGE
    assert str(err) == (
        f"state file {store.path} is locked by another process ({text}) "
        "(held by pid 42 on host-a since 2024-01-01T00:00:00+00:00); wait for it to finish, or stop it"
    )


def test_lock_error_without_a_lock_file_names_no_holder(store):
    assert not store.lock_path.exists()
    err = store._error(sqlite3.OperationalError("database is locked"))
    assert str(err) == (
        f"state file {store.path} is locked by another process (database is locked); wait for it to finish, or stop it"
    )
    store.lock_path.write_text("  \n", encoding="utf-8")  # empty: no holder either
    assert str(store._error(sqlite3.OperationalError("database is locked"))) == str(err)


@pytest.mark.parametrize("text", ["attempt to write a readonly database", "the file is read-only"])
def test_read_only_says_to_give_write_access(store, text):
    err = store._error(sqlite3.OperationalError(text))
    assert type(err) is StateError and err.exit_code == EXIT_USAGE
    assert str(err) == (
        f"state file {store.path} is read-only ({text}): give the sync job write access to it and its folder, "
        "or choose another --state"
    )


def test_anything_else_is_damage_with_the_move_aside_command(store):
    err = store._error(sqlite3.DatabaseError("file is not a database"))
    assert type(err) is StateError
    assert str(err) == (
        f"state file {store.path} is damaged or not a state file (file is not a database): move it aside "
        f"(mv {store.path} {store.path}.broken) and run again: the next run rebuilds the state from the server "
        "(it costs requests, never a clinician's work)"
    )


def test_state_store_rejects_a_folder(tmp_path):
    with pytest.raises(StateError, match="is a folder"):
        StateStore(tmp_path)
