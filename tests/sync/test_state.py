"""State file errors: every problem is exit 2 naming the file, the problem and the fix."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from poems_fhir.errors import EXIT_USAGE, StateError, StateLockedError
from poems_fhir.sync.state import StateStore


def make_state(path):
    store = StateStore(path)
    store.record_patient("srv", "Patient/1", "h", {"k": {"ref": "DiagnosticReport/1", "version": "2"}}, "written", "t")
    store.close()


def test_corrupt_state_file_says_how_to_move_it_aside(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(
        StateError, match=r"damaged or not a state file.*mv .*state.sqlite .*state.sqlite.broken"
    ) as exc:
        StateStore(path)
    assert exc.value.exit_code == EXIT_USAGE and str(path) in str(exc.value)


def test_truncated_state_file(tmp_path):
    path = tmp_path / "state.sqlite"
    make_state(path)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"state.sqlite{suffix}").unlink(missing_ok=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(StateError, match=f"state file {path} is damaged.*move it aside"):
        StateStore(path)


def test_state_path_that_is_a_folder(tmp_path):
    with pytest.raises(StateError, match=r"is a folder; --state must name a file, e.g. --state .*state.sqlite"):
        StateStore(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_state_file(tmp_path):
    path = tmp_path / "state.sqlite"
    make_state(path)
    path.chmod(0o444)
    with pytest.raises(StateError, match="read-only.*write access"):
        StateStore(path)


def test_read_only_state_file_even_as_root(tmp_path, monkeypatch):
    path = tmp_path / "state.sqlite"
    make_state(path)
    real = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if str(p) == str(path) and mode == os.W_OK else real(p, mode)
    )
    with pytest.raises(StateError, match=f"{path} is read-only"):
        StateStore(path)


def test_foreign_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StateError, match=r"not a poems-fhir state file .*invoices"):
        StateStore(path)
    assert path.read_bytes() == before


def test_a_state_file_from_the_previous_schema_is_upgraded(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE checkpoint (server TEXT PRIMARY KEY, since TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE patient (server TEXT NOT NULL, patient TEXT NOT NULL, input_hash TEXT NOT NULL,
            written TEXT NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (server, patient));
        INSERT INTO patient VALUES ('srv', 'Patient/1', 'h', '{}', 'failed', 't');
    """)
    db.commit()
    db.close()
    store = StateStore(path)
    assert store.patient("srv", "Patient/1").status == "failed"
    assert store.retry_queue("srv") == ["Patient/1"]


def test_locked_state_names_who_holds_it(tmp_path):
    path = tmp_path / "state.sqlite"
    holder = StateStore(path)
    with holder.locked():
        with pytest.raises(StateLockedError, match=rf"held by pid {os.getpid()} on .* since "):
            with StateStore(path).locked():
                pass


def test_locked_by_another_process_mid_write(tmp_path):
    path = tmp_path / "state.sqlite"
    make_state(path)
    # another process holds an exclusive SQLite lock (e.g. a hand edit with sqlite3 in progress)
    code = (
        "import sqlite3,sys; db=sqlite3.connect(sys.argv[1], isolation_level=None); "
        "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        store = StateStore(path, busy_timeout=0)  # a reader gets in (WAL); writing is refused
        with pytest.raises(StateLockedError, match=f"state file {path} is locked by another process"):
            store.record_patient("srv", "Patient/2", "h", {}, "written", "t")
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def test_readonly_store_for_a_dry_run_creates_nothing(tmp_path):
    path = tmp_path / "sub" / "state.sqlite"
    store = StateStore(path, readonly=True)
    with store.locked():
        assert store.retry_queue("srv") == []
    assert not (tmp_path / "sub").exists()


def _written_state(path):
    store = StateStore(path)
    with store.locked():
        store.set_checkpoint("srv", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z")
        store.record_patient("srv", "Patient/1", "h", {}, "written", "t")
    store.close()


def test_a_read_only_store_of_an_existing_state_leaves_no_wal_or_shm_beside_it(tmp_path):
    """probe91 N2: a dry run (or a `state` listing) on an existing state - which runs SQLite's WAL - left an
    empty STATE-wal and a STATE-shm beside it: a read-only reader creates them and cannot remove them."""
    path = tmp_path / "state.sqlite"
    _written_state(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite", "state.sqlite.lock"]
    before = path.read_bytes()
    dry = StateStore(path, readonly=True)
    with dry.locked():
        assert dry.checkpoint("srv") == "2026-01-01T00:00:00Z"
        assert dry.patient("srv", "Patient/1") is not None
    dry.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.sqlite", "state.sqlite.lock"]
    assert path.read_bytes() == before


def test_a_read_only_store_reads_the_commits_of_a_run_still_writing_through_its_wal(tmp_path):
    """A real run in flight (its WAL beside the file, not yet checkpointed into it): a dry run reads its
    commits too, through that WAL."""
    path = tmp_path / "state.sqlite"
    _written_state(path)
    real = StateStore(path)
    real.db.execute("PRAGMA wal_autocheckpoint=0")
    real.record_patient("srv", "Patient/2", "h2", {}, "written", "t")
    assert (tmp_path / "state.sqlite-wal").exists()
    dry = StateStore(path, readonly=True)
    assert dry.patient("srv", "Patient/2") is not None and dry.patient("srv", "Patient/1") is not None
    dry.close()
    real.close()
    assert not (tmp_path / "state.sqlite-wal").exists()  # the real run's own, removed by it


def test_a_state_a_real_run_changes_under_an_unlocked_reader_is_not_called_damaged(tmp_path):
    """Read as immutable (no lock), the file may change under the reader when a real run starts meanwhile: an
    error then says so, never "damaged ... move it aside"."""
    import sqlite3

    path = tmp_path / "state.sqlite"
    _written_state(path)
    dry = StateStore(path, readonly=True)
    real = StateStore(path)
    real.record_patient("srv", "Patient/2", "h2", {}, "written", "t")
    message = str(dry._error(sqlite3.DatabaseError("database disk image is malformed")))
    assert "changed while this read-only run read it" in message and "move it aside" not in message
    real.close()
    dry.close()


def test_the_pseudonym_key_is_created_once_beside_the_state(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    key = store.pseudonym_key()
    assert (tmp_path / "pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert StateStore(tmp_path / "state.sqlite").pseudonym_key() == key
    assert store.pseudonym_key(env="from-env") == b"from-env"


def test_the_schema_is_created_in_one_transaction(tmp_path, monkeypatch):
    # probe72 D9: a first run killed while it created the file left only the checkpoint table, and every
    # later run refused the file as another program's database. A failure half-way now leaves no table.
    import poems_fhir.sync.state as state_module

    path = tmp_path / "state.sqlite"
    monkeypatch.setattr(state_module, "SCHEMA", state_module.SCHEMA + "CREATE TABLE checkpoint (x);")
    with pytest.raises(StateError):
        StateStore(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == []
    assert db.execute("PRAGMA application_id").fetchone()[0] == 0
    db.close()
    monkeypatch.undo()
    StateStore(path).close()  # the next run creates it whole


@pytest.mark.parametrize(
    "tables",
    [
        ["checkpoint"],
        ["checkpoint", "pending"],
        ["run", "takeover", "checkpoint", "pending"],
    ],
)
def test_a_schema_half_built_by_an_earlier_killed_run_is_completed(tmp_path, tables):
    from poems_fhir.sync.state import SCHEMA

    path = tmp_path / "state.sqlite"
    db = sqlite3.connect(path)
    for statement in SCHEMA.split(";"):
        if any(f"EXISTS {t} (" in statement for t in tables):
            db.execute(statement)
    db.commit()
    db.close()
    before = path.read_bytes()
    dry = StateStore(path, readonly=True)  # a dry run reads it as an empty state, without changing it
    assert dry.checkpoint("srv") is None
    dry.close()
    assert path.read_bytes() == before
    store = StateStore(path)
    store.close()
    db = sqlite3.connect(path)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"checkpoint", "patient", "pending", "run", "takeover"} <= names
    db.close()


@pytest.mark.parametrize(
    "statements",
    [
        ["CREATE TABLE checkpoint (server TEXT, since TEXT, updated_at TEXT)", "INSERT INTO checkpoint VALUES (1,2,3)"],
        ["CREATE TABLE checkpoint (server TEXT, price REAL)"],
    ],
)
def test_a_file_with_one_of_our_table_names_holding_data_or_other_columns_is_still_refused(tmp_path, statements):
    path = tmp_path / "state.sqlite"
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StateError, match="not a poems-fhir state file"):
        StateStore(path)
    assert path.read_bytes() == before
