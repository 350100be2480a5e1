"""Test hook: run the poems-fhir CLI and SIGKILL the process at a chosen point of a bulk export:
POEMS_FHIR_TEST_KILL_AT=poll:N (right after the N-th status poll was answered, before anything of it
is saved) or download:N (right after the N-th file was complete on disk and in the journal, while
other downloads are in flight); term:N sends SIGTERM instead, right after the N-th file, and that
download thread waits until the command's SIGTERM handler has run (so what follows is the stop, not
a race with it). Deterministic, never on a timer; the model is
tests/integration/kill_after_writes.py. Sleeps are no-ops here: the tests never sleep for real.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from typing import Any

from poems_fhir import cli
from poems_fhir.cli import main
from poems_fhir.fhir import bulk

time.sleep = lambda seconds: None  # type: ignore[assignment]  # backoff waits: not in tests
WHERE, _, COUNT = os.environ.get("POEMS_FHIR_TEST_KILL_AT", "none:0").partition(":")
_count = 0
_handled = threading.Event()
_terminated = cli._terminated


def _note_terminated(signum: int, frame: Any) -> None:
    _handled.set()
    _terminated(signum, frame)


cli._terminated = _note_terminated  # type: ignore[assignment]


def _tick() -> None:
    global _count
    _count += 1
    if _count == int(COUNT):
        if WHERE == "term":
            os.kill(os.getpid(), signal.SIGTERM)
            _handled.wait(30)
        else:
            os.kill(os.getpid(), signal.SIGKILL)


_poll = bulk.BulkExporter._poll_once
_downloaded = bulk.BulkExporter.downloaded


def _poll_then_maybe_die(self: bulk.BulkExporter, url: str) -> Any:
    response = _poll(self, url)
    if WHERE == "poll":
        _tick()
    return response


def _downloaded_then_maybe_die(self: bulk.BulkExporter, rel: str) -> None:
    _downloaded(self, rel)
    if WHERE in ("download", "term"):
        _tick()


bulk.BulkExporter._poll_once = _poll_then_maybe_die  # type: ignore[method-assign]
bulk.BulkExporter.downloaded = _downloaded_then_maybe_die  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
