# SPDX-License-Identifier: Apache-2.0
"""Embedded state store (SQLite): checkpoints per server, per-patient input hashes and the ids and
versions of what we wrote, and the run history. One run at a time, enforced by a file lock.

Every per-patient record is committed right after that patient's write succeeded, so a run killed at
any point loses nothing: the next run re-evaluates the patients it had not recorded, and the
conditional writes make re-sending harmless. The checkpoint moves only at the end of a run in which
every patient was written or recorded as failed.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StateLockedError

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (
    server TEXT PRIMARY KEY, since TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS patient (
    server TEXT NOT NULL, patient TEXT NOT NULL, input_hash TEXT NOT NULL,
    written TEXT NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (server, patient));
CREATE TABLE IF NOT EXISTS pending (
    server TEXT NOT NULL, patient TEXT NOT NULL, hashes TEXT NOT NULL,
    PRIMARY KEY (server, patient));
CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY AUTOINCREMENT, server TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, outcome TEXT, summary TEXT);
"""


@dataclass(frozen=True)
class PatientState:
    input_hash: str
    written: dict[str, dict[str, str]]  # identifier "system|value" -> {"ref": "Type/id", "version": vid}
    status: str  # "written" | "out_of_scope" | "failed" | "conflict"


class StateStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file: Any = None
        self.db = sqlite3.connect(self.path, isolation_level=None)  # autocommit; explicit txns below
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    @contextlib.contextmanager
    def locked(self) -> Iterator[StateStore]:
        lock_path = self.path.with_suffix(self.path.suffix + ".lock")
        self._lock_file = open(lock_path, "w")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StateLockedError(
                f"another poems-fhir sync holds {lock_path}; one run at a time (wait, or stop the other run)"
            ) from None
        try:
            self._lock_file.write(str(os.getpid()))
            self._lock_file.flush()
            yield self
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- checkpoints

    def checkpoint(self, server: str) -> str | None:
        row = self.db.execute("SELECT since FROM checkpoint WHERE server = ?", (server,)).fetchone()
        return row[0] if row else None

    def set_checkpoint(self, server: str, since: str, now: str) -> None:
        self.db.execute(
            "INSERT INTO checkpoint(server, since, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(server) DO UPDATE SET since = excluded.since, updated_at = excluded.updated_at",
            (server, since, now))

    # ---------------------------------------------------------------- patients

    def patient(self, server: str, patient: str) -> PatientState | None:
        row = self.db.execute(
            "SELECT input_hash, written, status FROM patient WHERE server = ? AND patient = ?",
            (server, patient)).fetchone()
        return PatientState(row[0], json.loads(row[1]), row[2]) if row else None

    def record_patient(self, server: str, patient: str, input_hash: str,
                       written: dict[str, dict[str, str]], status: str, now: str) -> None:
        self.db.execute(
            "INSERT INTO patient(server, patient, input_hash, written, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(server, patient) DO UPDATE SET "
            "input_hash = excluded.input_hash, written = excluded.written, status = excluded.status, "
            "updated_at = excluded.updated_at",
            (server, patient, input_hash, json.dumps(written, sort_keys=True), status, now))

    # ---------------------------------------------------------------- pending writes

    def set_pending(self, server: str, patient: str, hashes: dict[str, str]) -> None:
        """What we are about to send, recorded first: after a crash, a 412 on our own write is
        recognised by its content instead of being mistaken for someone else's change."""
        self.db.execute("INSERT OR REPLACE INTO pending(server, patient, hashes) VALUES (?, ?, ?)",
                        (server, patient, json.dumps(hashes, sort_keys=True)))

    def pending(self, server: str, patient: str) -> dict[str, str]:
        row = self.db.execute("SELECT hashes FROM pending WHERE server = ? AND patient = ?",
                              (server, patient)).fetchone()
        return json.loads(row[0]) if row else {}

    def clear_pending(self, server: str, patient: str) -> None:
        self.db.execute("DELETE FROM pending WHERE server = ? AND patient = ?", (server, patient))

    # ---------------------------------------------------------------- runs

    def start_run(self, server: str, now: str) -> int:
        cur = self.db.execute("INSERT INTO run(server, started_at) VALUES (?, ?)", (server, now))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, outcome: str, summary: dict[str, Any], now: str) -> None:
        self.db.execute("UPDATE run SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
                        (now, outcome, json.dumps(summary, sort_keys=True), run_id))

    def runs(self, server: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, started_at, finished_at, outcome, summary FROM run WHERE server = ? ORDER BY id",
            (server,)).fetchall()
        return [{"id": r[0], "started_at": r[1], "finished_at": r[2], "outcome": r[3],
                 "summary": json.loads(r[4]) if r[4] else None} for r in rows]
