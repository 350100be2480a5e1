"""The last open survivors of `sync.state` (sixth session's mutation run): the lock wait the README
states, the example in the folder error, a dry run that writes nothing even in the working folder,
and the integrity check named in the damage message."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from poems_fhir.sync.state import StateError, StateStore


def test_a_busy_state_file_is_waited_for_5_seconds(tmp_path: Path) -> None:
    # README "State": waited for up to 5 s before the locked error
    store = StateStore(tmp_path / "state.sqlite")
    assert store.db.raw.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    other = StateStore(tmp_path / "state.sqlite", busy_timeout=0.25)
    assert other.db.raw.execute("PRAGMA busy_timeout").fetchone()[0] == 250


def test_a_folder_given_as_state_is_refused_with_an_example_file_in_it(tmp_path: Path) -> None:
    with pytest.raises(StateError) as caught:
        StateStore(tmp_path)
    assert str(caught.value) == (
        f"state path {tmp_path} is a folder; --state must name a file, e.g. --state {tmp_path / 'state.sqlite'}"
    )


def test_a_dry_run_without_a_state_file_writes_nothing_even_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the in-memory stand-in must be SQLite's memory database, not a file name in the working folder
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    store = StateStore(tmp_path / "absent" / "state.sqlite", readonly=True)
    assert store.db.raw.execute("PRAGMA database_list").fetchone()[2] == ""  # memory: no file
    store.close()
    assert os.listdir(work) == [] and not (tmp_path / "absent").exists()


def test_a_damaged_state_file_names_the_integrity_check(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE patient(key TEXT PRIMARY KEY, hash TEXT)")
    conn.executemany("INSERT INTO patient VALUES (?, ?)", [(f"Patient/{i}", "x" * 200) for i in range(400)])
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[3 * page + 8 : 3 * page + 400] = b"\xff" * 392  # a b-tree page's cell pointers and cells
    path.write_bytes(bytes(data))
    with pytest.raises(StateError) as caught:
        StateStore(path)
    message = str(caught.value)
    assert f"state file {path} is damaged or not a state file (" in message
    assert "(integrity check: *** in database main ***" in message  # SQLite's own words, named
    assert f"mv {path} {path}.broken" in message


def test_a_state_folder_that_cannot_be_made_says_so_and_what_to_do(tmp_path: Path) -> None:
    # mutation sample (seed 23): the message could be lost; a regular file where a folder should be
    # makes mkdir fail even for root
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    path = blocked / "sub" / "state.sqlite"
    with pytest.raises(StateError) as caught:
        StateStore(path)
    said = str(caught.value)
    assert said.startswith(f"cannot create the folder of the state file {path}: ")
    assert said.endswith("; choose a writable --state path (a persistent volume, one file per server)")
