"""Test hook: run the poems-fhir CLI and SIGKILL the process right after its N-th successful server
write (N from POEMS_FHIR_TEST_KILL_AFTER_WRITES), before the job records that write in its state.

This is the worst moment for a crash (the server has our report, the state store does not), chosen
deterministically instead of racing a log line. Used by tests/integration/test_sync_server.py.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from poems_fhir.cli import main
from poems_fhir.sync import sinks

KILL_AFTER = int(os.environ["POEMS_FHIR_TEST_KILL_AFTER_WRITES"])
_write = sinks.ServerSink.write
_done = 0


def _write_then_maybe_die(self: sinks.ServerSink, patient: str, bundle: dict[str, Any]) -> sinks.Written:
    global _done
    written = _write(self, patient, bundle)
    _done += 1
    if _done >= KILL_AFTER:
        os.kill(os.getpid(), signal.SIGKILL)
    return written


sinks.ServerSink.write = _write_then_maybe_die  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
