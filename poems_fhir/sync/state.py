# SPDX-License-Identifier: Apache-2.0
"""Embedded state store (SQLite): a cache and a journal, never the authority on ownership.

It keeps checkpoints per server, per-patient input hashes (to skip unchanged patients without any
request), the inputs (``Type/id`` and version) an in-scope patient's last evaluation read (so discovery
re-evaluates the patient a changed, moved or deleted resource was an input of), the ids and versions of what we wrote, failures with their reasons (the retry queue),
takeovers already reported, and the run history. One run at a time, enforced by a file lock.
Ownership of what is on the server is read from the server (content hashes in meta.tag): losing
this file costs requests, never a clinician's work.

Every per-patient record is committed right after that patient was handled, so a run killed at
any point loses nothing: the next run re-evaluates the patients it had not recorded, and the
conditional writes make re-sending harmless. The checkpoint moves only at the end of a completed run.
Every problem opening the file is a StateError/StateLockedError naming the file, what is wrong and
what to do (exit code 2).
"""

from __future__ import annotations

import errno

import contextlib
import datetime as dt
import fcntl
import functools
import json
import os
import re
import secrets
import socket
import sqlite3
import urllib.parse
from ..wellformed import well_formed
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StateError, StateLockedError

#: the version remembered for a resource of ours that someone deleted (a takeover row of status "deleted"):
#: discovery's ``_id`` check takes its absence as known, and its presence - put back by someone - as a change
#: that brings its patient back (probe82 D6). No FHIR versionId has brackets.
DELETED_INPUT = "(deleted)"

#: the reason recorded for a patient parked as missing by a 404/410 to one of its type searches
#: ("GET …/Procedure failed: HTTP 404", "POST …/Observation/_search failed: HTTP 404"), not to its Patient read
_SEARCH_GONE = re.compile(
    r"^(?:GET|POST) \S*?/(?!Patient\b)[A-Z][A-Za-z]+(?:/_search)?(?:\?\S*)? failed: HTTP 4(?:04|10)\b"
)


def parked_by_a_search(reason: str) -> bool:
    """Whether a ``missing`` patient's recorded reason is a type search's 404/410 (probe80 D3)."""
    return bool(_SEARCH_GONE.match(reason))


#: PRAGMA application_id of a poems-fhir state file ("POEM")
APPLICATION_ID = 0x504F454D
SCHEMA_VERSION = 4
SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (
    server TEXT PRIMARY KEY, since TEXT NOT NULL, updated_at TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS patient (
    server TEXT NOT NULL, patient TEXT NOT NULL, input_hash TEXT NOT NULL,
    written TEXT NOT NULL, status TEXT NOT NULL, updated_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (server, patient));
CREATE TABLE IF NOT EXISTS pending (
    server TEXT NOT NULL, patient TEXT NOT NULL, hashes TEXT NOT NULL,
    PRIMARY KEY (server, patient));
CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY AUTOINCREMENT, server TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, outcome TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS takeover (
    server TEXT NOT NULL, patient TEXT NOT NULL, ref TEXT NOT NULL, key TEXT NOT NULL,
    status TEXT NOT NULL, reported_at TEXT NOT NULL, PRIMARY KEY (server, patient, ref));
CREATE TABLE IF NOT EXISTS input (
    server TEXT NOT NULL, ref TEXT NOT NULL, patient TEXT NOT NULL, version TEXT NOT NULL DEFAULT '',
    cited INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (server, ref, patient));
CREATE INDEX IF NOT EXISTS input_patient ON input (server, patient);
"""
_OUR_TABLES = {"checkpoint", "patient", "pending", "run", "takeover", "input"}


@functools.lru_cache(maxsize=1)
def _our_columns() -> dict[str, set[str]]:
    """The columns of each of our tables at this schema (an earlier schema has a subset)."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        return {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in _OUR_TABLES}
    finally:
        db.close()


_PATIENT_COLUMNS = {"server", "patient", "input_hash", "written", "status", "updated_at"}


@dataclass(frozen=True)
class PatientState:
    input_hash: str
    written: dict[str, dict[str, str]]  # identifier "system|value" -> {"ref": "Type/id", "version": vid}
    status: str  # "written" | "out_of_scope" | "failed" | "missing"
    reason: str = ""
    attempts: int = 0


class _Db:
    """The SQLite connection, with every database error turned into a StateError that names the file."""

    def __init__(self, raw: sqlite3.Connection, error: Any) -> None:
        self.raw = raw
        self._error = error

    def execute(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        try:
            return self.raw.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def executescript(self, sql: str) -> None:
        try:
            self.raw.executescript(sql)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        self.raw.close()


def _move_aside(path: Path) -> str:
    return (
        f"move it aside (mv {path} {path}.broken) and run again: the next run rebuilds the state from "
        "the server (it costs requests, never a clinician's work)"
    )


class StateStore:
    def __init__(self, path: str | Path, *, readonly: bool = False, busy_timeout: float = 5.0) -> None:
        """Open (or create) the state file. ``readonly`` (dry runs): never create or change
        anything on disk - an absent file is replaced by an empty in-memory store."""
        self.path = Path(path)
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self._lock_file: Any = None
        self._incomplete = False  # a schema half built by a killed first run (probe72 D9)
        #: read-only and read as immutable (no lock, no side file): the file's (size, mtime) when it was opened
        self._immutable: tuple[int, int] | None = None
        if self.path.is_dir():
            raise StateError(
                f"state path {self.path} is a folder; --state must name a file, "
                f"e.g. --state {self.path / 'state.sqlite'}"
            )
        if readonly:
            self.db = self._connect(self._readonly_target(), uri=True)
            if self.path.exists():
                self._check_schema()
                if self._incomplete:  # a half-built file holds nothing: read as an absent one
                    self.db.close()
                    self._immutable = None
                    self.db = self._connect("file::memory:", uri=True)
            if not self.path.exists() or self._incomplete:
                self._init_schema()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"cannot create the folder of the state file {self.path}: {exc.strerror}; "
                "choose a writable --state path (a persistent volume, one file per server)"
            ) from None
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise StateError(
                f"state file {self.path} is read-only: give the sync job write access to it "
                "(and its folder), or choose another --state"
            )
        if not os.access(self.path.parent, os.W_OK):
            raise StateError(
                f"the folder of the state file {self.path} is not writable (SQLite needs to "
                "create its journal beside the file): give write access or choose another --state"
            )
        self.db = self._connect(str(self.path), uri=False)
        self._check_schema()  # before anything is written: a foreign file is left untouched
        self._init_schema()
        try:
            if self.db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a killed process (no fsync per patient, which cost ~5 ms
            # each); only a power loss can drop the last records, and this file is a cache
            self.db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def _readonly_target(self) -> str:
        """The URI a read-only store opens (dry runs, `poems-fhir state` listings): the file as it is, leaving
        nothing beside it. The state runs SQLite's WAL, whose read-only readers create ``STATE-wal`` and
        ``STATE-shm`` and, unable to checkpoint, never remove them (probe91 N2: a dry run left both behind).
        Without a ``-wal`` beside it the file holds every commit (the last writer checkpointed it into the
        file and removed its WAL): it is read as immutable - no lock, no side file. With one, a real run is
        writing it (or one was killed before it checkpointed): read through that WAL, so its commits are
        seen, with the side files that are there already. Absent: an empty store in memory."""
        if not self.path.exists():
            return "file::memory:"
        uri = f"file:{urllib.parse.quote(str(self.path.absolute()))}?mode=ro"
        if Path(f"{self.path}-wal").exists():
            return uri
        try:
            self._immutable = self._stamp()
        except OSError:
            return uri
        return uri + "&immutable=1"

    def _stamp(self) -> tuple[int, int]:
        st = self.path.stat()
        return (st.st_size, st.st_mtime_ns)

    def _connect(self, target: str, uri: bool) -> _Db:
        try:
            raw = sqlite3.connect(target, isolation_level=None, uri=uri, timeout=self.busy_timeout)  # autocommit
            raw.execute("SELECT count(*) FROM sqlite_master").fetchone()
            # a truncated or damaged file often opens fine: look at its pages once
            problem = raw.execute("PRAGMA quick_check(1)").fetchone()[0]
            if problem != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {problem}")
            return _Db(raw, self._error)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def _error(self, exc: sqlite3.DatabaseError) -> Exception:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StateLockedError(
                f"state file {self.path} is locked by another process ({text}){self._holder()}; "
                "wait for it to finish, or stop it"
            )
        if "readonly" in text or "read-only" in text:
            return StateError(
                f"state file {self.path} is read-only ({text}): give the sync job write access "
                "to it and its folder, or choose another --state"
            )
        if self._immutable is not None and self._changed_since_opened():
            # read without locking (see _readonly_target): a real run that started meanwhile wrote it
            return StateError(
                f"state file {self.path} changed while this read-only run read it ({text}): a real run started "
                "meanwhile; the file is most likely fine - run this again"
            )
        if "disk is full" in text or "disk I/O error" in text:
            # the machine's, not the file's: "damaged ... move it aside" would lose a good checkpoint (probe51
            # D2, a full tmpfs). An OSError of want of space: the run stops with exit 74 and says to free space
            return OSError(
                errno.ENOSPC,
                f"{text} - a full, over-quota or failing disk; the state file itself is not damaged",
                str(self.path),
            )
        return StateError(f"state file {self.path} is damaged or not a state file ({text}): {_move_aside(self.path)}")

    def _changed_since_opened(self) -> bool:
        try:
            return self._stamp() != self._immutable or Path(f"{self.path}-wal").exists()
        except OSError:
            return True

    def _check_schema(self) -> None:
        try:
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            app = self.db.execute("PRAGMA application_id").fetchone()[0]
            tables.discard("sqlite_sequence")
            if not tables:
                return
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(patient)")}
            if app in (0, APPLICATION_ID) and self._half_built(tables):
                self._incomplete = True  # completed by _init_schema (a dry run reads it as empty)
                return
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        if (
            app not in (0, APPLICATION_ID)
            or not tables <= _OUR_TABLES
            or "patient" not in tables
            or not _PATIENT_COLUMNS <= columns
        ):
            raise StateError(
                f"{self.path} is not a poems-fhir state file (another program's database, "
                f"tables {sorted(tables)}): point --state at a file of its own, or "
                f"{_move_aside(self.path)}"
            )
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateError(
                f"state file {self.path} was written by a newer poems-fhir (schema {version}, "
                f"this one reads {SCHEMA_VERSION}): upgrade poems-fhir, or use another --state"
            )

    def _half_built(self, tables: set[str]) -> bool:
        """A file whose schema a killed first run left half created by an earlier poems-fhir (probe72 D9):
        some of our tables only, each with our columns and empty - nothing another program would hold."""
        if not tables < _OUR_TABLES or "patient" in tables:
            return False  # with the patient table it is judged by its columns as before
        ours = _our_columns()
        for table in tables:
            columns = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if not columns or not columns <= ours[table]:
                return False
            if self.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:  # noqa: S608 - our own table name
                return False
        return True

    def _init_schema(self) -> None:
        # one transaction: a first run killed while it creates the file leaves no half-built schema, which
        # every later run refused as another program's database (probe72 D9); the pragmas are in it too
        if self._schema_complete():
            return  # nothing to write: a file another process is writing at this instant still opens
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._create_schema()
            self.db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.db.raw.execute("ROLLBACK")
            raise

    def _schema_complete(self) -> bool:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not _OUR_TABLES <= tables:
            return False
        ours = _our_columns()
        return (
            all(
                ours[t] <= {r[1] for r in self.db.execute(f"PRAGMA table_info({t})")} for t in ("patient", "checkpoint")
            )
            and self.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            and self.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        )

    def _create_schema(self) -> None:
        try:
            before = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)  # executescript would COMMIT the transaction first
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(patient)")}
            if "reason" not in columns:  # a state file from before schema 2
                self.db.execute("ALTER TABLE patient ADD COLUMN reason TEXT NOT NULL DEFAULT ''")
                self.db.execute("ALTER TABLE patient ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
            if "settings" not in {r[1] for r in self.db.execute("PRAGMA table_info(checkpoint)")}:  # before 3
                self.db.execute("ALTER TABLE checkpoint ADD COLUMN settings TEXT NOT NULL DEFAULT ''")
            if "checkpoint" in before and "input" not in before:  # before 4: no patient's inputs are known
                # discovery maps a moved, recoded or deleted resource to the patients it was an input of: the
                # next run reads every patient once (as after a settings change), so every in-scope patient's
                # inputs are remembered - and a report an earlier version left citing such a resource is corrected
                self.db.execute("UPDATE checkpoint SET settings = ''")
            if self.db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    # ---------------------------------------------------------------- lock

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(self.path.suffix + ".lock")

    def _holder(self) -> str:
        try:
            text = self.lock_path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""
        return f" (held by {text})" if text else ""

    @contextlib.contextmanager
    def locked(self) -> Iterator[StateStore]:
        if self.readonly:
            yield self
            return
        lock_path = self.lock_path
        try:
            self._lock_file = open(lock_path, "a+")  # noqa: SIM115 - held for the run
        except OSError as exc:
            raise StateError(
                f"cannot open the lock file {lock_path}: {exc.strerror}; give the sync job write "
                "access to the state folder"
            ) from None
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise StateLockedError(
                f"another poems-fhir sync holds {lock_path}{self._holder()}; one run at a time "
                "(wait, or stop the other run)"
            ) from None
        try:
            self._lock_file.seek(0)
            self._lock_file.truncate()
            self._lock_file.write(
                f"pid {os.getpid()} on {socket.gethostname()} since "
                f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}"
            )
            self._lock_file.flush()
            yield self
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- pseudonym key

    def pseudonym_key(self, key_file: Path | None = None, env: str | None = None) -> bytes:
        """The per-installation secret of the log pseudonyms: from a file or the environment when
        given, else ``pseudonym.key`` beside the state, created (mode 0600) on first use."""
        if env:
            return env.encode("utf-8")
        path = key_file or self.path.parent / "pseudonym.key"
        try:
            return path.read_bytes().strip()
        except FileNotFoundError:
            if key_file or self.readonly:
                if key_file:
                    raise StateError(
                        f"pseudonym key file {key_file} does not exist: create it "
                        "(e.g. head -c 32 /dev/urandom | base64 > FILE) or leave the option out"
                    ) from None
                return secrets.token_bytes(32)  # dry run without state: pseudonyms of this run only
            key = secrets.token_hex(32).encode("ascii")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
            return key
        except OSError as exc:
            raise StateError(f"cannot read the pseudonym key {path}: {exc.strerror}") from None

    # ---------------------------------------------------------------- checkpoints

    def checkpoint(self, server: str) -> str | None:
        row = self.db.execute("SELECT since FROM checkpoint WHERE server = ?", (server,)).fetchone()
        return row[0] if row else None

    def checkpoint_settings(self, server: str) -> str | None:
        """The settings fingerprint the checkpoint was reached with ('' from before schema 3)."""
        row = self.db.execute("SELECT settings FROM checkpoint WHERE server = ?", (server,)).fetchone()
        return row[0] if row else None

    def set_checkpoint(self, server: str, since: str, now: str, settings: str = "") -> None:
        self.db.execute(
            "INSERT INTO checkpoint(server, since, updated_at, settings) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(server) DO UPDATE SET since = excluded.since, updated_at = excluded.updated_at, "
            "settings = excluded.settings",
            (server, since, now, settings),
        )

    # ---------------------------------------------------------------- patients

    def patient(self, server: str, patient: str) -> PatientState | None:
        row = self.db.execute(
            "SELECT input_hash, written, status, reason, attempts FROM patient WHERE server = ? AND patient = ?",
            (server, patient),
        ).fetchone()
        return PatientState(row[0], json.loads(row[1]), row[2], row[3], row[4]) if row else None

    def unchanged_hashes(self, server: str) -> dict[str, str]:
        """Input hash per patient whose last outcome stands while the input is unchanged (written or
        out of scope): what a run's workers need to know before evaluating ahead of the writer."""
        rows = self.db.execute(
            "SELECT patient, input_hash FROM patient WHERE server = ? AND status IN ('written', 'out_of_scope')",
            (server,),
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    def record_patient(
        self,
        server: str,
        patient: str,
        input_hash: str,
        written: dict[str, dict[str, str]],
        status: str,
        now: str,
        reason: str = "",
        attempts: int = 0,
    ) -> None:
        self.db.execute(
            "INSERT INTO patient(server, patient, input_hash, written, status, updated_at, reason, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(server, patient) DO UPDATE SET "
            "input_hash = excluded.input_hash, written = excluded.written, status = excluded.status, "
            "updated_at = excluded.updated_at, reason = excluded.reason, attempts = excluded.attempts",
            # a reason quoting a server's text: SQLite refuses a lone surrogate (probe120 D1)
            (
                server,
                patient,
                input_hash,
                json.dumps(written, sort_keys=True),
                status,
                now,
                well_formed(reason),
                attempts,
            ),
        )

    def retry_queue(self, server: str, retry_missing: int = 0) -> list[str]:
        """Patients to try again: every failure; a 404/410 one only ``retry_missing`` more times - and
        every one parked by a 404/410 to a type search, which never said the patient was gone (probe80 D3:
        an earlier version parked them so; read once more, the Patient read decides)."""
        rows = self.db.execute(
            "SELECT patient, status, attempts, reason FROM patient WHERE server = ? AND status IN ('failed', 'missing')",
            (server,),
        ).fetchall()
        return [r[0] for r in rows if r[1] == "failed" or r[2] <= retry_missing or parked_by_a_search(r[3] or "")]

    def patients(self, server: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT server, patient, status, reason, attempts, updated_at, written FROM patient WHERE 1=1"
        args: list[Any] = []
        if server:
            sql += " AND server = ?"
            args.append(server)
        if status:
            sql += " AND status = ?"
            args.append(status)
        return [
            {
                "server": r[0],
                "patient": r[1],
                "status": r[2],
                "reason": r[3],
                "attempts": r[4],
                "updated_at": r[5],
                "written": json.loads(r[6]),
            }
            for r in self.db.execute(sql + " ORDER BY server, patient", args)
        ]

    def recheck(self, server: str, patient: str) -> None:
        """Plan a written patient's writes again this run although its inputs are unchanged: something of
        what it rests on - our own report or plan included - changed, moved or went on the server."""
        self.db.execute(
            "UPDATE patient SET input_hash = '' WHERE server = ? AND patient = ? AND status = 'written'",
            (server, patient),
        )

    def retry(self, patient: str) -> int:
        """Put a patient back into the retry queue (and re-evaluate it even if unchanged)."""
        cur = self.db.execute(
            "UPDATE patient SET status = 'failed', input_hash = '', attempts = 0, "
            "reason = 'retry requested' WHERE patient = ?",
            (patient,),
        )
        return cur.rowcount

    def forget(self, patient: str) -> int:
        n = 0
        for table in ("patient", "pending", "takeover", "input"):
            n += self.db.execute(f"DELETE FROM {table} WHERE patient = ?", (patient,)).rowcount  # noqa: S608
        return n

    # ---------------------------------------------------------------- inputs (discovery)

    def remember_inputs(self, server: str, patient: str, inputs: dict[str, str], cited: Collection[str]) -> None:
        """Replace what the state remembers of a patient's inputs: ``Type/id`` -> versionId ('' when the
        server names none) of every resource its last evaluation read; ``cited``: those its report rests
        on (checked by id every run, see ServerSource._discover). One transaction: all or nothing."""
        rows = [(server, ref, patient, version or "", int(ref in cited)) for ref, version in sorted(inputs.items())]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("DELETE FROM input WHERE server = ? AND patient = ?", (server, patient))
            try:
                self.db.raw.executemany(
                    "INSERT OR REPLACE INTO input(server, ref, patient, version, cited) VALUES (?, ?, ?, ?, ?)", rows
                )
            except sqlite3.DatabaseError as exc:
                raise self._error(exc) from None
            self.db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.db.raw.execute("ROLLBACK")
            raise

    def forget_inputs(self, server: str, patient: str) -> None:
        self.db.execute("DELETE FROM input WHERE server = ? AND patient = ?", (server, patient))

    def _inputs_known(self) -> bool:
        """Whether the file has the input table: a dry run reads a file of schema 3 as it is (no upgrade),
        and then remembers nothing - discovery goes by codes alone, as before."""
        row = self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'input'").fetchone()
        return row is not None

    def has_inputs(self, server: str, patient: str) -> bool:
        row = self.db.execute("SELECT 1 FROM input WHERE server = ? AND patient = ? LIMIT 1", (server, patient))
        return row.fetchone() is not None

    def inputs_of(self, server: str, patient: str) -> dict[str, tuple[str, bool]]:
        """``Type/id`` -> (version, cited) of what the state remembers of a patient's inputs."""
        rows = self.db.execute(
            "SELECT ref, version, cited FROM input WHERE server = ? AND patient = ? ORDER BY ref", (server, patient)
        )
        return {r[0]: (r[1], bool(r[2])) for r in rows}

    def patients_of(self, server: str, refs: Iterable[str]) -> set[str]:
        """The patients whose remembered inputs hold any of ``refs`` (``Type/id``)."""
        found: set[str] = set()
        wanted = sorted(set(refs))
        if not wanted or not self._inputs_known():
            return found
        for i in range(0, len(wanted), 500):  # SQLite's bound on host parameters is 999 in older builds
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT DISTINCT patient FROM input WHERE server = ? AND ref IN ({marks})",  # noqa: S608 - placeholders
                (server, *chunk),
            )
            found.update(r[0] for r in rows)
        return found

    def input_types(self, server: str) -> set[str]:
        """The resource types of the remembered inputs (``Type`` of ``Type/id``)."""
        if not self._inputs_known():
            return set()
        rows = self.db.execute(
            "SELECT DISTINCT substr(ref, 1, instr(ref, '/') - 1) FROM input WHERE server = ?", (server,)
        )
        return {r[0] for r in rows if r[0]}

    def cited_versions(self, server: str, rtype: str) -> dict[str, set[str]]:
        """id -> the versions remembered of the cited inputs of type ``rtype`` (one resource cited by two
        patients - a shared Medication - may be remembered at two versions)."""
        out: dict[str, set[str]] = {}
        rows = self.db.execute(
            "SELECT ref, version FROM input WHERE server = ? AND cited = 1 AND ref >= ? AND ref < ? ORDER BY ref",
            (server, f"{rtype}/", f"{rtype}0"),  # "0" sorts right after "/": every ref of the type, indexed
        )
        for ref, version in rows:
            out.setdefault(ref.split("/", 1)[1], set()).add(version)
        return out

    def remembered(self, server: str) -> RememberedInputs:
        """The remembered inputs of one server, as discovery reads them."""
        return RememberedInputs(self, server)

    # ---------------------------------------------------------------- takeovers

    def known_takeover(self, server: str, patient: str, ref: str) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM takeover WHERE server = ? AND patient = ? AND ref = ?", (server, patient, ref)
            ).fetchone()
            is not None
        )

    def add_takeover(self, server: str, patient: str, ref: str, key: str, status: str, now: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO takeover(server, patient, ref, key, status, reported_at) VALUES (?, ?, ?, ?, ?, ?)",
            (server, patient, ref, key, status, now),
        )

    def deletions(self, server: str, patient: str) -> dict[str, str]:
        """``ref`` -> identifier key of the patient's resources of ours recorded as deleted by someone (reported
        once, like a takeover, with status "deleted")."""
        rows = self.db.execute(
            "SELECT ref, key FROM takeover WHERE server = ? AND patient = ? AND status = 'deleted' ORDER BY ref",
            (server, patient),
        )
        return {r[0]: r[1] for r in rows}

    def forget_takeover(self, server: str, patient: str, ref: str) -> None:
        """No longer a known takeover or deletion: a resource recorded as deleted is on the server again."""
        self.db.execute("DELETE FROM takeover WHERE server = ? AND patient = ? AND ref = ?", (server, patient, ref))

    def remember_deletions(self, server: str, patient: str) -> None:
        """Remember, as cited inputs at version ``DELETED_INPUT``, the patient's resources of ours recorded as
        deleted (``Type/id`` ones; an input remembered otherwise is kept): discovery then brings the patient
        back when one is put back (probe82 D6)."""
        if not self._inputs_known():
            return
        self.db.execute(
            "INSERT OR IGNORE INTO input(server, ref, patient, version, cited) "
            "SELECT server, ref, patient, ?, 1 FROM takeover WHERE server = ? AND patient = ? "
            "AND status = 'deleted' AND instr(ref, '/') > 0 AND instr(ref, '?') = 0",
            (DELETED_INPUT, server, patient),
        )

    def takeovers(self) -> list[dict[str, Any]]:
        return [
            {"server": r[0], "patient": r[1], "ref": r[2], "key": r[3], "status": r[4], "reported_at": r[5]}
            for r in self.db.execute(
                "SELECT server, patient, ref, key, status, reported_at FROM takeover ORDER BY server, patient, ref"
            )
        ]

    # ---------------------------------------------------------------- pending writes (older files)

    def set_pending(self, server: str, patient: str, hashes: dict[str, str]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO pending(server, patient, hashes) VALUES (?, ?, ?)",
            (server, patient, json.dumps(hashes, sort_keys=True)),
        )

    def pending(self, server: str, patient: str) -> dict[str, str]:
        row = self.db.execute(
            "SELECT hashes FROM pending WHERE server = ? AND patient = ?", (server, patient)
        ).fetchone()
        return json.loads(row[0]) if row else {}

    def clear_pending(self, server: str, patient: str) -> None:
        self.db.execute("DELETE FROM pending WHERE server = ? AND patient = ?", (server, patient))

    # ---------------------------------------------------------------- runs

    def start_run(self, server: str, now: str) -> int:
        cur = self.db.execute("INSERT INTO run(server, started_at) VALUES (?, ?)", (server, now))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, outcome: str, summary: dict[str, Any], now: str) -> None:
        self.db.execute(
            "UPDATE run SET finished_at = ?, outcome = ?, summary = ? WHERE id = ?",
            (now, outcome, json.dumps(summary, sort_keys=True), run_id),
        )

    def runs(self, server: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, started_at, finished_at, outcome, summary, server FROM run"
        rows = self.db.execute(
            sql + (" WHERE server = ? ORDER BY id" if server else " ORDER BY id"), (server,) if server else ()
        ).fetchall()
        return [
            {
                "id": r[0],
                "started_at": r[1],
                "finished_at": r[2],
                "outcome": r[3],
                "summary": json.loads(r[4]) if r[4] else None,
                "server": r[5],
            }
            for r in rows
        ]

    def checkpoints(self) -> list[dict[str, str]]:
        return [
            {"server": r[0], "since": r[1], "updated_at": r[2]}
            for r in self.db.execute("SELECT server, since, updated_at FROM checkpoint ORDER BY server")
        ]

    def export(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "checkpoints": self.checkpoints(),
            "runs": self.runs(),
            "patients": self.patients(),
            "takeovers": self.takeovers(),
        }


@dataclass(frozen=True)
class RememberedInputs:
    """One server's remembered inputs for ServerSource._discover (sources.RememberedInputs)."""

    store: StateStore
    server: str

    def patients_of(self, refs: Iterable[str]) -> set[str]:
        return self.store.patients_of(self.server, refs)

    def types(self) -> set[str]:
        return self.store.input_types(self.server)

    def cited(self, rtype: str) -> dict[str, set[str]]:
        return self.store.cited_versions(self.server, rtype)
