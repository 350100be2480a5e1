"""Forked workers die with their parent and take the default SIGTERM (probe72 D3: after a SIGKILL of
`sync`, its reading workers - which had inherited the job's SIGTERM stop flag and siblings holding
their queue's write end - lived on holding the state lock, and every later run exited 2)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap

import pytest

from poems_fhir.parallel import fork_available

pytestmark = pytest.mark.skipif(not fork_available() or not hasattr(os, "pidfd_open"), reason="Linux fork only")

# the parent: the sync job's kind of SIGTERM handler, a reading pool of two processes as
# fhir/spool_parallel.read_shards makes them (ProcessPoolExecutor, fork, our initializer), each blocked
# on a queue forever; it prints the workers' pids and waits to be killed
PARENT = textwrap.dedent(
    """
    import os, signal, sys, threading
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing
    from poems_fhir.fhir import spool_parallel

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # as sync/runner.py does
    WATCH = sys.argv[1] == "watch"

    def block(_):
        os.write(1, f"{os.getpid()}\\n".encode())  # one write: two workers' lines never interleave
        threading.Event().wait()  # a worker that waits on something that never comes

    pool = ProcessPoolExecutor(
        2,
        mp_context=multiprocessing.get_context("fork"),
        initializer=spool_parallel._init_worker if WATCH else None,
        initargs=(None, os.getpid()) if WATCH else (),
    )
    list(pool.map(block, range(2)))
    """
)


def _wait_gone(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` (not our child) ends within ``seconds``: waits on its pidfd, no sleep."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], seconds)
        return bool(ready)
    finally:
        os.close(fd)


def _start(mode: str) -> tuple[subprocess.Popen[str], list[int]]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(parent.stdout.readline()), int(parent.stdout.readline())]
    return parent, workers


def test_reading_workers_die_with_a_killed_parent_and_take_sigterm():
    parent, workers = _start("watch")
    parent.kill()  # SIGKILL: the parent can tell nobody
    parent.wait()
    assert all(_wait_gone(pid, 30) for pid in workers)


def test_without_the_initializer_the_workers_outlive_the_parent_and_ignore_sigterm():
    # the phenomenon itself, so that the test above cannot pass by accident
    parent, workers = _start("plain")
    parent.kill()
    parent.wait()
    try:
        assert not any(_wait_gone(pid, 0.5) for pid in workers)
        for pid in workers:
            os.kill(pid, signal.SIGTERM)  # the inherited handler only sets a flag
        assert not any(_wait_gone(pid, 0.5) for pid in workers)
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        assert all(_wait_gone(pid, 30) for pid in workers)


def test_become_worker_restores_the_default_sigterm_in_a_child():
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        from poems_fhir.worker_process import become_worker

        signal.signal(signal.SIGTERM, lambda *_: None)
        become_worker(os.getppid())
        ok = signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        os._exit(0 if ok else 3)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
