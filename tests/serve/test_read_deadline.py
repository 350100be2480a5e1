"""serve's HTTP protocol: a connection that does not deliver its request in time is closed (fuzzprobe2
D1: idle and trickling connections held uvicorn's connection limit, so real calls got 503 for good).
The event loop never runs a timer here: call_later is recorded and the deadline fired by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from poems_fhir.serve.read_deadline import READ_DEADLINE, ReadDeadlineH11Protocol


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        self.written = b""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def ok_app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class Connection:
    """One server-side connection on a loop that is only stepped by hand."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.timers: list[tuple[float, Callable[[], None], asyncio.TimerHandle]] = []
        real_call_later = loop.call_later

        def call_later(delay: float, callback: Callable[..., None], *args: Any, **kw: Any) -> asyncio.TimerHandle:
            handle = real_call_later(3600, lambda: None)  # a real handle that never comes due here
            self.timers.append((delay, lambda: callback(*args), handle))
            return handle

        loop.call_later = call_later  # type: ignore[method-assign,assignment]
        config = Config(app=ok_app, lifespan="off", log_config=None)
        self.protocol = ReadDeadlineH11Protocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        self.transport = Transport()
        self.protocol.connection_made(self.transport)

    def deadline(self) -> Callable[[], None]:
        """The pending read deadline (the last READ_DEADLINE timer not cancelled)."""
        pending = [(d, cb) for d, cb, h in self.timers if d == READ_DEADLINE and not h.cancelled()]
        assert pending, "no read deadline armed"
        return pending[-1][1]

    def settle(self) -> None:
        for _ in range(20):  # let the app's task run: steps of the loop, no time passes
            self.loop.run_until_complete(asyncio.sleep(0))


@pytest.fixture
def conn() -> Iterator[Connection]:
    loop = asyncio.new_event_loop()
    try:
        yield Connection(loop)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending))
        loop.close()


def test_a_connection_that_never_sends_a_request_is_closed_at_the_deadline(conn):
    assert not conn.transport.closed
    conn.deadline()()
    assert conn.transport.closed


def test_a_request_head_trickling_in_is_closed_at_the_deadline(conn):
    conn.protocol.data_received(b"POST /cds-services/poems-patient-view HTTP/1.1\r\nHost: x\r\n")
    conn.deadline()()
    assert conn.transport.closed


def test_a_body_still_arriving_at_the_deadline_is_closed(conn):
    conn.protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    conn.deadline()()
    assert conn.transport.closed


def test_a_request_the_app_is_still_working_on_is_not_cut(conn):
    conn.protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    conn.deadline()()  # the app has not answered yet: that is not the client's delay
    assert not conn.transport.closed


def test_each_request_on_a_kept_alive_connection_gets_its_own_deadline(conn):
    first = conn.deadline()
    conn.protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.settle()
    assert conn.transport.written.startswith(b"HTTP/1.1 200")
    second = conn.deadline()
    assert second is not first  # re-armed when the response completed (the first was cancelled)
    assert not conn.transport.closed
    second()  # no next request within the deadline
    assert conn.transport.closed


def test_a_closed_connection_leaves_no_timer(conn):
    conn.protocol.connection_lost(None)
    assert all(h.cancelled() for d, _, h in conn.timers if d == READ_DEADLINE)
