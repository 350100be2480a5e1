# SPDX-License-Identifier: Apache-2.0
"""What every forked worker process does first: its own signal handling, and dying with its parent.

A forked child inherits the parent's Python signal handlers: the sync job's SIGTERM handler only sets
a stop flag, so a reading worker of a killed job ignored SIGTERM and, blocked on a queue whose write
end its siblings also held, never saw an end of file - it lived on holding the state lock, and every
later run exited 2 (probe72 D3). So a worker takes the default SIGTERM (and leaves Ctrl-C to the
parent, which reaches the whole process group), and on Linux asks the kernel to kill it when the
thread that forked it ends (``prctl(PR_SET_PDEATHSIG)``): a parent killed with SIGKILL cannot tell it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading

_PR_SET_PDEATHSIG = 1


def parent_watch() -> int | None:
    """Called in the parent before forking: its pid when the kernel can watch it for the child, else
    None. The death signal follows the *thread* that forks, so only the main thread's children use it
    (the main thread ends with the process)."""
    if sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread():
        return os.getpid()
    return None


def become_worker(parent: int | None) -> None:
    """Called first in the child: default SIGTERM, Ctrl-C ignored (the parent decides), and - with
    ``parent`` from :func:`parent_watch` - killed when the parent dies, also if it died already."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    if parent is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the watch was set: nothing would tell us
        os._exit(1)
