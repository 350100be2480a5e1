# SPDX-License-Identifier: Apache-2.0
"""Every core: an ordered pool of forked worker processes over patients.

The parent hands out patient keys only (in chunks); each worker opens its own copy of the source
once (``PatientSource.for_worker``), builds each patient's record, runs the per-patient function and
sends back its small, picklable result. Results come out in patient order whatever the number of
workers, so output is byte-identical for ``--workers 1`` and ``--workers N``.

Failures stay per patient: an exception in the work becomes that patient's internal error (as in
``pipeline.iter_evaluations(errors=...)``); a worker process that dies (killed, out of memory, a
crash in a C extension) costs the patient it was working on - reported as an internal error, never
retried in the parent, which a patient that kills its process would kill too - and the patients it
had not started yet go to a new worker. Nothing waits forever on a dead worker.

Workers are started with ``fork`` (Linux): they inherit the parent's read-only data (the mapping,
the compiled rules, the per-patient function and, for :class:`MemorySource`, the records read)
without pickling. Where ``fork`` is not the platform's safe default (macOS, Windows) the patients
are evaluated in-process, one after the other, with a warning.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

from .fhir.read import PatientRecord, ReadResult, SourceError, internal_error
from .fhir.spool import PatientSource  # the one protocol: the spool, or MemorySource below
from .sync.events import ev
from .worker_process import become_worker, parent_watch

log = logging.getLogger(__name__)

#: what a patient whose worker process died is reported with (the sync job records the reason)
DIED = "the worker process evaluating this patient died"
SKIPPED = "; skipped"

T = TypeVar("T")


class MemorySource:
    """A :class:`PatientSource` over records already read into memory (``read_paths``). Forked
    workers share the parent's copy of the records (copy-on-write), so ``for_worker`` is itself."""

    def __init__(self, read: ReadResult) -> None:
        self.files, self.resources, self.skipped_types = read.files, read.resources, read.skipped_types
        self.errors: list[SourceError] = list(read.errors)
        self._records = {r.patient: r for r in read.records}

    def patients(self) -> list[str]:
        return list(self._records)  # read_paths' order: sorted by patient key

    def record(self, patient: str) -> PatientRecord | None:
        return self._records.get(patient)

    def for_worker(self) -> MemorySource:
        return self

    def close(self) -> None:
        pass

    def __enter__(self) -> MemorySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def parse_workers(value: str | int | None) -> int:
    """``--workers``: a positive number, or 0 / "auto" (and no value) for every core available."""
    if value is None:
        return available_cores()
    text = str(value).strip().lower()
    if text in ("", "0", "auto"):
        return available_cores()
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number of worker processes (a positive number, 0 or auto)") from None
    if n < 0:
        raise ValueError(f"{value!r}: the number of worker processes cannot be negative (0 or auto: every core)")
    return n


def fork_available() -> bool:
    """Forked workers inherit the parent's memory; only Linux makes that both available and safe."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def select_patients(patients: Iterable[str], wanted: Iterable[str] | None) -> list[str]:
    """The keys a ``--patient`` filter keeps (``Patient/ID`` or ``ID``), as ``iter_evaluations`` does."""
    keep = set(wanted) if wanted else None
    return [p for p in patients if keep is None or p in keep or p.split("/", 1)[-1] in keep]


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """One patient's outcome: the work's value, or the internal error that cost this patient."""

    patient: str
    value: T | None = None
    error: SourceError | None = None
    #: the worker process died while on this patient (as opposed to the work raising)
    worker_died: bool = False


def _run_one(source: PatientSource, patient: str, work: Callable[[str, PatientRecord | None], T]) -> Done[T]:
    try:
        return Done(patient, work(patient, source.record(patient)))
    except Exception as exc:  # last resort: a bug must cost this patient only
        return Done(patient, error=internal_error(patient, patient, exc))


def map_patients(
    source: PatientSource,
    patients: Sequence[str],
    work: Callable[[str, PatientRecord | None], T],
    workers: int = 1,
    chunk: int | None = None,
) -> Generator[Done[T], None, None]:
    """``work(patient, record)`` for every patient, results in the order of ``patients``.

    ``workers`` <= 1 (or a single patient, or no ``fork``) runs in this process with no pool.
    Closing the iterator early (a stop request, Ctrl-C) ends the worker processes."""
    if workers > 1 and len(patients) > 1 and not fork_available():
        log.warning(
            "worker processes need the fork start method (Linux); evaluating in this process",
            extra=ev("workers.unavailable", workers=workers, platform=sys.platform),
        )
    if workers <= 1 or len(patients) <= 1 or not fork_available():
        for patient in patients:
            yield _run_one(source, patient, work)
        return
    workers = min(workers, len(patients))
    size = chunk or max(1, min(64, len(patients) // (workers * 8)))
    yield from _Pool(source, list(patients), work, workers, size).run()


@dataclass
class _Worker:
    process: Any  # multiprocessing's ForkProcess
    conn: Connection
    #: (index, patient) sent and not yet answered, in the order the worker handles them
    pending: deque[tuple[int, str]] = field(default_factory=deque)
    #: patients per chunk sent and not yet answered in full
    chunks: deque[int] = field(default_factory=deque)


def _worker_main(
    conn: Connection,
    source: PatientSource,
    work: Callable[[str, PatientRecord | None], Any],
    inherited: list[Connection],
    parent: int | None = None,
) -> None:
    """A worker: chunks of (index, patient) in, one (index, Done) out per patient; stops on None or
    when the parent is gone (end of file on the pipe, or the kernel's death signal)."""
    become_worker(parent)  # Ctrl-C reaches the whole group: the parent decides; its stop flag is its own
    for other in inherited:  # the parent's ends of the other workers' pipes: theirs alone
        other.close()
    mine = source.for_worker()
    try:
        while True:
            task = conn.recv()
            if task is None:
                break
            for index, patient in task:
                conn.send((index, _run_one(mine, patient, work)))
    except (EOFError, OSError):
        pass  # the parent has gone: nothing to report to
    finally:
        mine.close()
        conn.close()


class _Pool(Generic[T]):
    def __init__(
        self,
        source: PatientSource,
        patients: list[str],
        work: Callable[[str, PatientRecord | None], T],
        workers: int,
        chunk: int,
    ) -> None:
        self.source, self.patients, self.work, self.size = source, patients, work, workers
        items = list(enumerate(patients))
        self.todo: deque[list[tuple[int, str]]] = deque(items[i : i + chunk] for i in range(0, len(items), chunk))
        #: how far ahead of the next result to print the workers may run (bounds buffered results)
        self.window = workers * chunk * 4
        self.workers: dict[Connection, _Worker] = {}
        self.results: dict[int, Done[T]] = {}
        self.context = multiprocessing.get_context("fork")

    def _start(self) -> None:
        parent, child = self.context.Pipe(duplex=True)
        others = [w.conn for w in self.workers.values()] + [parent]
        process = self.context.Process(  # type: ignore[attr-defined]
            target=_worker_main,
            args=(child, self.source, self.work, others, parent_watch()),
            daemon=True,
            name="poems-fhir-worker",
        )
        # no Ctrl-C between fork and the worker's own signal set-up
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child.close()  # the worker's end is the worker's alone: its death is our end of file
        self.workers[parent] = _Worker(process, parent)

    def run(self) -> Iterator[Done[T]]:
        total = len(self.patients)
        next_out = 0
        # the workers' garbage collector leaves what they inherit alone: no page copied just for that
        # (freeze and unfreeze are O(1); gc.get_freeze_count is not, it walks the whole heap)
        gc.freeze()
        try:
            for _ in range(self.size):
                self._start()
            while next_out < total:
                while next_out in self.results:
                    yield self.results.pop(next_out)
                    next_out += 1
                if next_out >= total:
                    break
                if not self.workers:  # every worker died and none could be started
                    self._fail_remaining(next_out)
                    continue
                # after the results are handed out, not before: the window moves with them, and a
                # dispatch with the old position left every worker idle and waited for ever (a slow
                # patient whose result released a whole window at once hung a CI run)
                self._dispatch(next_out)
                for conn in wait(list(self.workers)):
                    self._receive(self.workers[conn])  # type: ignore[index]
        finally:
            self._stop(graceful=next_out >= total)
            gc.unfreeze()

    def _dispatch(self, next_out: int) -> None:
        for worker in list(self.workers.values()):
            while self.todo and len(worker.chunks) < 2 and self.todo[0][0][0] < next_out + self.window:
                task = self.todo.popleft()
                try:
                    worker.conn.send(task)
                except OSError:  # it died meanwhile: its end of file is read next
                    self.todo.appendleft(task)
                    break
                worker.pending.extend(task)
                worker.chunks.append(len(task))

    def _receive(self, worker: _Worker) -> None:
        try:
            index, done = worker.conn.recv()
        except (EOFError, OSError):
            self._died(worker)
            return
        expected, _ = worker.pending.popleft()
        assert index == expected, (index, expected)  # noqa: S101 - a worker answers in the order it was given
        self.results[index] = done
        worker.chunks[0] -= 1
        if not worker.chunks[0]:
            worker.chunks.popleft()

    def _died(self, worker: _Worker) -> None:
        del self.workers[worker.conn]
        worker.conn.close()
        worker.process.join()
        how = _exit_text(worker.process.exitcode)
        if worker.pending:
            index, patient = worker.pending.popleft()
            log.error(
                "a worker process died (%s) while evaluating a patient: that patient is reported as an internal error",
                how,
                extra=ev("workers.died", exit=how, patients_requeued=len(worker.pending)),
            )
            error = SourceError(patient, f"internal error: {DIED} ({how}){SKIPPED}", patient, internal=True)
            self.results[index] = Done(patient, error=error, worker_died=True)
            if worker.pending:  # not started yet: another worker takes them, in patient order
                self.todo.append(list(worker.pending))
                self.todo = deque(sorted(self.todo, key=lambda task: task[0][0]))
        if self.todo:
            self._start()

    def _fail_remaining(self, next_out: int) -> None:
        for index in range(next_out, len(self.patients)):
            if index not in self.results:
                patient = self.patients[index]
                error = SourceError(
                    patient, f"internal error: no worker process could be started{SKIPPED}", patient, True
                )
                self.results[index] = Done(patient, error=error, worker_died=True)
        self.todo.clear()

    def _stop(self, graceful: bool) -> None:
        for worker in self.workers.values():
            try:
                if graceful:
                    worker.conn.send(None)
                else:
                    worker.process.terminate()
            except OSError:
                pass
        for worker in self.workers.values():
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self.workers.clear()


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = "; out of memory?" if -code == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit status {code}"
