"""Test hook: run the poems-fhir CLI and SIGKILL the process at a chosen point of a bulk export:
POEMS_FHIR_TEST_KILL_AT=poll:N (right after the N-th status poll was answered, before anything of it
is saved) or download:N (right after the N-th file was complete on disk and in the journal, while
other downloads are in flight). Deterministic, never on a timer; the model is
tests/integration/kill_after_writes.py. Sleeps are no-ops here: the tests never sleep for real.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from poems_fhir.cli import main
from poems_fhir.fhir import bulk

time.sleep = lambda seconds: None  # type: ignore[assignment]  # backoff waits: not in tests
WHERE, _, COUNT = os.environ.get("POEMS_FHIR_TEST_KILL_AT", "none:0").partition(":")
_count = 0


def _tick() -> None:
    global _count
    _count += 1
    if _count >= int(COUNT):
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
    if WHERE == "download":
        _tick()


bulk.BulkExporter._poll_once = _poll_then_maybe_die  # type: ignore[method-assign]
bulk.BulkExporter.downloaded = _downloaded_then_maybe_die  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
