"""A tiny scripted HTTP server on 127.0.0.1 for faults `responses` cannot simulate: bodies cut short,
resets, slow drips, and URLs that would really reach another socket.

Each accepted connection is served by the next step of the script (a function of the socket and the
raw request). The server listens on 127.0.0.1 only, every socket operation has a timeout, and it stops
by itself after `lifetime` seconds at the latest (normally when the test closes it). It records every
connection it accepted and every request it read, so a test can assert that it received NOTHING.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

Step = Callable[[socket.socket, bytes], None]


class FakeClock:
    """A monotonic clock the server advances as it 'waits' - slow drips without real sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Loopback:
    def __init__(self, steps: list[Step] | None = None, lifetime: float = 10.0) -> None:
        self.steps = list(steps or [])
        self.lifetime = lifetime
        self.connections = 0
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        waited = 0.0
        while not self._stop.is_set() and waited < self.lifetime:
            ready, _, _ = select.select([self._sock], [], [], 0.05)
            if not ready:
                waited += 0.05
                continue
            self._accept_one()
        self._sock.setblocking(False)  # count connections still queued in the backlog
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                break
            self.connections += 1
            conn.close()
        self._sock.close()

    def _accept_one(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        self.connections += 1
        with conn:
            conn.settimeout(5)
            try:
                request = read_request(conn)
            except OSError:
                return
            self.requests.append(request)
            step = self.steps.pop(0) if self.steps else respond(404, b"no step left")
            try:
                step(conn, request)
            except OSError:
                pass  # the client went away: that is what several steps provoke

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.lifetime + 5)

    def __enter__(self) -> Loopback:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close", "", ""]
    return "\r\n".join(lines).encode()


def respond(status: int, body: bytes | dict[str, Any], headers: dict[str, str] | None = None) -> Step:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body

    def step(conn: socket.socket, request: bytes) -> None:
        h = {"Content-Type": "application/fhir+json", "Content-Length": str(len(raw)), **(headers or {})}
        conn.sendall(head(status, h) + raw)

    return step


def cut_short(body: bytes, declared: int) -> Step:
    """Content-Length says `declared`, the connection closes after `body`."""

    def step(conn: socket.socket, request: bytes) -> None:
        conn.sendall(head(200, {"Content-Type": "application/fhir+json", "Content-Length": str(declared)}) + body)

    return step


def chunked_cut(body: bytes) -> Step:
    """Transfer-Encoding: chunked, one chunk, then the connection closes without the final 0-chunk."""

    def step(conn: socket.socket, request: bytes) -> None:
        conn.sendall(
            head(200, {"Content-Type": "application/fhir+json", "Transfer-Encoding": "chunked"})
            + f"{len(body):x}\r\n".encode()
            + body
            + b"\r\n"
        )

    return step


def reset() -> Step:
    """Close with an RST instead of an answer."""

    def step(conn: socket.socket, request: bytes) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return step


def drip(clock: FakeClock, seconds_per_byte: float, nbytes: int, declared: int = 100_000) -> Step:
    """A body that trickles in: `nbytes` bytes, each `seconds_per_byte` apart on the fake clock,
    then silence until the client hangs up (bounded by the socket timeout)."""

    def step(conn: socket.socket, request: bytes) -> None:
        conn.sendall(head(200, {"Content-Type": "application/fhir+json", "Content-Length": str(declared)}))
        for _ in range(nbytes):
            clock.now += seconds_per_byte
            conn.sendall(b" ")
        while conn.recv(1024):  # until the client closes (or 5 s, the socket timeout)
            pass

    return step
