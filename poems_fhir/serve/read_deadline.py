# SPDX-License-Identifier: Apache-2.0
"""uvicorn's HTTP protocol with a deadline for reading each request (fuzzprobe2 D1).

uvicorn waits without limit for a new connection's first request, and once a response is sent any
byte resets its keep-alive timer. Its connection limit (which `serve` sets, so that request bodies
read at once stay bounded) counts such connections: ~50 idle or trickling ones - a slowloris client,
or a proxy that opens connections ahead of use - made every real call a 503 for as long as they
stayed open. Here each request's head and body must arrive within ``READ_DEADLINE`` seconds of the
connection opening or of the previous response; a connection still reading after that is closed.
Time the app spends evaluating (the request read, the response not yet sent) is not limited here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: seconds for the whole of one request's head and body (a hook call is at most a few MiB)
READ_DEADLINE = 20.0


class ReadDeadlineH11Protocol(H11Protocol):
    read_deadline: float = READ_DEADLINE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this keep-alive connection has its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._read_timer = self.loop.call_later(self.read_deadline, self._read_overdue)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _read_overdue(self) -> None:
        self._read_timer = None
        # IDLE: no complete request head yet; SEND_BODY: the body is still arriving. Anything else
        # (the app is working on the request, or answering it) is not the client's delay.
        # Closing the transport runs connection_lost: an app still reading the body sees a disconnect.
        if not self.transport.is_closing() and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self.transport.close()
