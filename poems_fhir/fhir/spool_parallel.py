# SPDX-License-Identifier: Apache-2.0
"""Read the input into the spool with several processes (issue #11, ``--workers N``).

With one process, reading is half of `evaluate`'s time and the evaluation workers would wait for it.
Here the input is cut into *units* in reading order: a Bundle file whole, an NDJSON file in byte
ranges of about 16 MB that end at a line break (so that one big ``Observation.ndjson`` keeps every
core busy), numbered from the line where the range starts. Each unit is read by a forked process
into its own SQLite shard with the serial reader's own code (``spool._ndjson_lines`` and
``spool._Spooler.add``). The parent appends the shards to the spool in unit order - the sequence
number of every resource, and the count of errors before it, shifted by what the earlier shards
hold - and then groups as the serial reader does (``_Spooler.finish``). The spool, and so every
record and every error, is the one a single process reads; the tests compare them.

A unit whose process dies (killed, out of memory) breaks the pool: the shards are dropped and the
input is read again by one process, with a warning. Nothing waits on a dead process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..sync.events import ev
from ..worker_process import become_worker, parent_watch
from .read import HEAD_BYTES, Prune, SourceError, iter_input_files, printable_path, refusal_reason
from .spool import _NDJSON, SpoolSource, Take, _ndjson_lines, _Spooler, configure, iter_file

log = logging.getLogger(__name__)

#: bytes per NDJSON unit: large enough that a unit's fixed cost (a process task, a shard file) is
#: small, small enough that two cores share even a single big file evenly
UNIT_BYTES = 16 << 20


@dataclass(frozen=True)
class Unit:
    """One piece of the input, read by one process: a whole file (``end`` None) or a byte range
    of an NDJSON file whose first line is line ``first_line`` of the file."""

    path: Path
    start: int = 0
    end: int | None = None
    first_line: int = 1
    file: int = 0  # the file's number in reading order (spool's files.id)


@dataclass(frozen=True)
class Shard:
    """What reading one unit left: its SQLite file and what the spool's counters need."""

    db_path: str
    rows: int
    errors: list[SourceError]
    resources: int
    skipped_types: int
    has_urls: bool
    has_stubs: bool = False


def plan(paths: Iterable[str | Path], unit_bytes: int | None = None) -> tuple[list[Unit], int]:
    """The units of PATHS in reading order, and the number of files."""
    unit_bytes = unit_bytes or UNIT_BYTES
    units: list[Unit] = []
    files = 0
    for path in iter_input_files(paths):
        files += 1
        units.extend(_units_of(path, unit_bytes, files))
    return units, files


def _units_of(path: Path, unit_bytes: int, file: int = 0) -> list[Unit]:
    """Byte ranges of a big regular NDJSON file; any other file is one unit (its problems, a pipe
    or an unreadable file, are then reported by the worker exactly as the serial reader does)."""
    try:
        info = os.stat(path)
    except OSError:
        return [Unit(path, file=file)]
    if path.suffix.lower() not in _NDJSON or not stat.S_ISREG(info.st_mode) or info.st_size <= unit_bytes:
        return [Unit(path, file=file)]
    units = []
    start, line = 0, 1
    try:
        with open(path, "rb") as f:
            if refusal_reason(f.read(HEAD_BYTES), str(path), ndjson=True) is not None:
                return [Unit(path, file=file)]  # refused whole, once, by the serial reader (iter_file)
            f.seek(0)
            while True:
                block = f.read(unit_bytes)
                if not block:
                    break
                end, lines = start + len(block), block.count(b"\n")
                # to the end of the line the range would cut, in bounded pieces: a 2 GB line is not
                # read whole here either (probe43)
                while not block.endswith(b"\n"):
                    block = f.readline(1 << 20)
                    if not block:
                        break
                    end += len(block)
                    lines += block.count(b"\n")
                units.append(Unit(path, start, end, line, file))
                start, line = end, line + lines
    except OSError:
        return [Unit(path, file=file)]
    return units


def _unit_resources(
    unit: Unit, errors: list[SourceError], take: Take | None = None
) -> Iterator[tuple[dict[str, Any], str, str | None, bool]]:
    if unit.end is None:
        yield from iter_file(unit.path, errors, take)
        return
    name = printable_path(unit.path)
    try:
        f = open(unit.path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed below, after the generator
        f.seek(unit.start)
    except OSError as exc:
        errors.append(SourceError(name, f"cannot read file: {exc.strerror or exc}"))
        return
    try:
        # streamed, not read whole: a unit holding one 2 GB line must not be in memory (probe43)
        yield from _ndjson_lines(_Range(f, unit.end - unit.start), name, errors, unit.first_line, take, unit.start)  # type: ignore[arg-type]
    except OSError as exc:
        errors.append(SourceError(name, f"cannot read file: {exc.strerror or exc}"))
    finally:
        f.close()


class _Range:
    """The next ``remaining`` bytes of a file, read line by line (all _ndjson_lines asks of a file)."""

    def __init__(self, f: IO[bytes], remaining: int) -> None:
        self.f, self.remaining = f, remaining

    def readline(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        line = self.f.readline(self.remaining if size < 0 else min(size, self.remaining))
        self.remaining -= len(line)
        return line


#: the run's prune, set in each worker process by the pool's initializer (inherited through fork)
_prune: list[Prune | None] = [None]


def _init_worker(prune: Prune | None, parent: int | None = None) -> None:
    become_worker(parent)  # not the sync job's SIGTERM flag, and gone with a killed parent (probe72 D3)
    _prune[0] = prune


def read_unit(unit: Unit, db_path: str, prune: Prune | None = None) -> Shard:
    """Read one unit into a new shard at ``db_path`` with the serial reader's code."""
    shard = SpoolSource(db_path, None)
    conn = sqlite3.connect(db_path)
    try:
        configure(conn)
        spooler = _Spooler(conn, shard, prune)
        spooler.file = unit.file
        for data, origin, full_url, deep in _unit_resources(unit, shard.errors, spooler.take):
            shard.resources += 1
            spooler.add(data, origin, full_url, deep)
        spooler.flush()
        conn.commit()
    finally:
        conn.close()
    return Shard(
        db_path, spooler.seq, shard.errors, shard.resources, shard.skipped_types, shard._has_urls, shard._has_stubs
    )


def _read_task(task: tuple[Unit, str]) -> Shard:
    unit, db_path = task
    return read_unit(unit, db_path, _prune[0])


def read_shards(units: list[Unit], folder: str, workers: int, prune: Prune | None) -> list[Shard]:
    """Every unit read into its shard (in ``folder``), by ``workers`` forked processes, in order."""
    tasks = [(unit, os.path.join(folder, f"shard-{i}.sqlite")) for i, unit in enumerate(units)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(prune, parent_watch())
    ) as pool:
        return list(pool.map(_read_task, tasks))


def merge(spooler: _Spooler, shards: list[Shard]) -> None:
    """Append the shards to the spool in order, as if one process had read them all."""
    conn, source = spooler.conn, spooler.source
    for shard in shards:
        offset, errors_before = spooler.seq, len(source.errors)
        conn.execute("ATTACH DATABASE ? AS shard", (shard.db_path,))
        conn.execute(
            "INSERT INTO res SELECT seq + ?1, kind, pos + ?1, key, rtype, subject, origin, nerr + ?2, patient, data, "
            "stub FROM shard.res ORDER BY seq",
            (offset, errors_before),
        )
        if shard.has_stubs:
            conn.execute(
                "INSERT INTO stubs SELECT seq + ?1, key, patient, nerr + ?2, file, line, at FROM shard.stubs ORDER BY seq",
                (offset, errors_before),
            )
            source._has_stubs = True
        if shard.has_urls:  # each fullUrl's resources, the first read kept (finish() settles clashes)
            conn.execute(
                "INSERT OR IGNORE INTO urls SELECT url, key, seq + ?1, nerr + ?2, origin FROM shard.urls ORDER BY seq",
                (offset, errors_before),
            )
            source._has_urls = True
        conn.execute("INSERT OR IGNORE INTO refused SELECT key FROM shard.refused")  # probe81 D2
        conn.commit()
        conn.execute("DETACH DATABASE shard")
        os.remove(shard.db_path)
        spooler.seq += shard.rows
        source.errors.extend(shard.errors)
        source.resources += shard.resources
        source.skipped_types += shard.skipped_types


def spool_in_parallel(spooler: _Spooler, units: list[Unit], folder: str, workers: int, prune: Prune | None) -> bool:
    """Read ``units`` into ``spooler``'s empty spool with ``workers`` processes; False (and the
    spool untouched) when the pool broke and the caller must read with one process."""
    try:
        shards = read_shards(units, folder, workers, prune)
    except BrokenProcessPool as exc:
        log.warning(
            "a process reading the input died (%s); reading it again with one process",
            exc,
            extra=ev("input.parallel_read_failed", reason=str(exc)),
        )
        for name in os.listdir(folder):
            if name.startswith("shard-"):
                os.remove(os.path.join(folder, name))
        return False
    for unit in units:
        spooler.register_file(unit.file, unit.path)
    merge(spooler, shards)
    return True
