"""The log-pseudonym key (README "Logs"): `pseudonym.key` beside the state, created once with mode 0600,
or `--pseudonym-key-file FILE`, or the environment; a dry run without a state file never writes one and
uses a key of that run only. Errors say which file and how to make one."""

from __future__ import annotations

import pytest

from poems_fhir.sync.state import StateError, StateStore


def test_the_created_key_is_64_hex_digits_written_once_with_mode_0600(tmp_path):
    key = StateStore(tmp_path / "state.sqlite").pseudonym_key()
    assert len(key) == 64 and all(c in b"0123456789abcdef" for c in key)  # 32 random bytes, as hex
    path = tmp_path / "pseudonym.key"
    assert path.read_bytes() == key and path.stat().st_mode & 0o777 == 0o600


def test_a_key_file_given_but_missing_is_an_error_that_says_how_to_make_one(tmp_path):
    missing = tmp_path / "keys" / "poems.key"
    with pytest.raises(StateError) as caught:
        StateStore(tmp_path / "state.sqlite").pseudonym_key(key_file=missing)
    assert str(caught.value) == (
        f"pseudonym key file {missing} does not exist: create it "
        "(e.g. head -c 32 /dev/urandom | base64 > FILE) or leave the option out"
    )
    assert not missing.exists() and not (tmp_path / "pseudonym.key").exists()


def test_a_dry_run_without_a_key_uses_a_key_of_its_own_and_writes_nothing(tmp_path):
    store = StateStore(tmp_path / "state.sqlite", readonly=True)
    first, second = store.pseudonym_key(), store.pseudonym_key()
    assert len(first) == 32 and len(second) == 32 and first != second  # 32 random bytes per call
    assert list(tmp_path.iterdir()) == []


def test_a_key_file_that_cannot_be_read_names_the_file(tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(StateError, match=f"cannot read the pseudonym key {folder}"):
        StateStore(tmp_path / "state.sqlite").pseudonym_key(key_file=folder)


def test_the_environment_key_is_its_utf8_bytes(tmp_path):
    assert StateStore(tmp_path / "state.sqlite").pseudonym_key(env="clé") == "clé".encode()


def test_runs_list_each_run_with_its_own_start_end_outcome_and_server(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    first = store.start_run("https://a.example/fhir", "2026-12-01T10:00:00Z")
    store.finish_run(first, "completed", {"written": 2}, "2026-12-01T10:05:00Z")
    second = store.start_run("https://b.example/fhir", "2026-12-02T08:00:00Z")
    assert store.runs() == [
        {
            "id": first,
            "started_at": "2026-12-01T10:00:00Z",
            "finished_at": "2026-12-01T10:05:00Z",
            "outcome": "completed",
            "summary": {"written": 2},
            "server": "https://a.example/fhir",
        },
        {
            "id": second,
            "started_at": "2026-12-02T08:00:00Z",
            "finished_at": None,
            "outcome": None,
            "summary": None,
            "server": "https://b.example/fhir",
        },
    ]
    assert [r["id"] for r in store.runs("https://b.example/fhir")] == [second]


def test_unchanged_hashes_are_those_of_written_and_out_of_scope_patients_of_that_server(tmp_path):
    store = StateStore(tmp_path / "state.sqlite")
    now = "2026-12-02T08:00:00Z"
    store.record_patient("srv", "Patient/w", "h-w", {}, "written", now)
    store.record_patient("srv", "Patient/o", "h-o", {}, "out_of_scope", now)
    store.record_patient("srv", "Patient/f", "h-f", {}, "failed", now, reason="HTTP 500")
    store.record_patient("other", "Patient/x", "h-x", {}, "written", now)
    assert store.unchanged_hashes("srv") == {"Patient/w": "h-w", "Patient/o": "h-o"}


def test_a_file_that_is_no_database_names_sqlites_reason(tmp_path):
    # README "State": a damaged state file is an error naming the file, the cause and the fix
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not an SQLite database, just text " * 100)
    with pytest.raises(StateError) as caught:
        StateStore(path)
    assert f"state file {path} is damaged or not a state file (file is not a database)" in str(caught.value)


def test_a_patients_attempts_are_read_back(tmp_path):
    # the retry bookkeeping (README "State"): a patient missing twice is recorded with 2 attempts, and
    # the next run counts on from what it reads back
    store = StateStore(tmp_path / "state.sqlite")
    store.record_patient("https://s", "Patient/1", "h", {}, "missing", "2026-12-02T10:00:00Z", "HTTP 404", attempts=2)
    state = store.patient("https://s", "Patient/1")
    assert state is not None
    assert (state.status, state.reason, state.attempts) == ("missing", "HTTP 404", 2)


# --- a state file that is not ours, or from a newer poems-fhir (README "State": exit 2, naming the fix)


def _db(path, *sql):
    import sqlite3

    conn = sqlite3.connect(path)
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()


OUR_PATIENT = (
    "CREATE TABLE patient(server, patient, input_hash, written, status, updated_at, reason, attempts, "
    "PRIMARY KEY(server, patient))"
)


@pytest.mark.parametrize(
    ("statements", "tables"),
    [
        ((OUR_PATIENT, "CREATE TABLE invoices(x)"), ["invoices", "patient"]),  # ours plus another program's
        (("CREATE TABLE patient(x, y)",), ["patient"]),  # a 'patient' table of someone else's
    ],
)
def test_a_database_of_another_program_is_refused_with_the_move_aside_command(tmp_path, statements, tables):
    path = tmp_path / "state.sqlite"
    _db(path, *statements)
    with pytest.raises(StateError) as caught:
        StateStore(path)
    assert str(caught.value) == (
        f"{path} is not a poems-fhir state file (another program's database, tables {tables}): point --state "
        f"at a file of its own, or move it aside (mv {path} {path}.broken) and run again: the next run rebuilds "
        "the state from the server (it costs requests, never a clinician's work)"
    )


def test_our_tables_under_another_programs_application_id_are_refused(tmp_path):
    path = tmp_path / "state.sqlite"
    StateStore(path).close()
    _db(path, "PRAGMA application_id = 12345")
    with pytest.raises(StateError, match="is not a poems-fhir state file"):
        StateStore(path)


def test_a_state_file_of_a_newer_poems_fhir_says_to_upgrade(tmp_path):
    from poems_fhir.sync.state import SCHEMA_VERSION

    path = tmp_path / "state.sqlite"
    StateStore(path).close()
    _db(path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError) as caught:
        StateStore(path)
    assert str(caught.value) == (
        f"state file {path} was written by a newer poems-fhir (schema {SCHEMA_VERSION + 1}, this one reads "
        f"{SCHEMA_VERSION}): upgrade poems-fhir, or use another --state"
    )


def test_a_new_state_file_carries_our_application_id_and_schema_version(tmp_path):
    # what lets a later run tell its own file from another program's (and from a newer poems-fhir's)
    import sqlite3

    from poems_fhir.sync.state import APPLICATION_ID, SCHEMA_VERSION

    path = tmp_path / "state.sqlite"
    StateStore(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_a_schema_script_refused_by_sqlite_names_its_reason():
    import sqlite3

    from poems_fhir.sync.state import _Db

    class Refusing:
        def executescript(self, sql):
            raise sqlite3.OperationalError("attempt to write a readonly database")

    db = _Db(Refusing(), lambda exc: StateError(f"wrapped: {exc}"))  # type: ignore[arg-type]
    with pytest.raises(StateError, match="wrapped: attempt to write a readonly database"):
        db.executescript("CREATE TABLE x(y)")


def test_a_dry_run_reads_the_state_file_it_was_given(tmp_path, monkeypatch):
    # a dry run opens the file read-only (an SQLite URI, mode=ro): it must read that very file, not
    # create another one named after the URI in the working folder
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "state.sqlite"
    store = StateStore(path)
    store.record_patient("https://s", "Patient/1", "h", {}, "written", "2026-12-02T10:00:00Z")
    store.close()
    dry = StateStore(path, readonly=True)
    state = dry.patient("https://s", "Patient/1")
    assert state is not None and state.input_hash == "h"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("file:")]


def test_the_busy_timeout_reaches_sqlite(tmp_path, monkeypatch):
    # how long a run waits for another run's lock before it says so (exit 2): passed to every connection
    import sqlite3

    seen = []
    real = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: seen.append(k.get("timeout")) or real(*a, **k))
    StateStore(tmp_path / "state.sqlite", busy_timeout=0.25).close()
    assert seen and set(seen) == {0.25}
