"""A Bulk Data export fixture server on 127.0.0.1 (threaded http.server in the test process).

It serves a CapabilityStatement, kick-off (`$export`, `Patient/$export`, `Group/ID/$export`),
the status URL (202 a chosen number of times, with or without X-Progress/Retry-After, then the
manifest), file downloads (plain, gzip-encoded, `.gz`, pre-signed, redirecting to another origin,
429 with Retry-After first) and DELETE. It counts kick-offs, polls, deletes and records every request
with its headers, so tests can assert what was sent where (the token above all). The server's state
lives in the test process: a CLI run in a subprocess that is killed leaves it intact for the rerun.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "secret-token-1234"  # noqa: S105 - a test token


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    query: str = ""


@dataclass
class FileSpec:
    body: bytes
    encoding: str = "plain"  # plain | gzip (Content-Encoding) | gz (a gzip file, no Content-Encoding)
    throttle: int = 0  # answer 429 with Retry-After this many times first
    retry_after: str = "1"
    status: int = 200
    content_type: str = "application/fhir+ndjson"
    count: int | None = None  # the manifest's `count` for this file (resources), when set
    short: int = 0  # answer this many times with the first line only (cut at a line's end)
    cut: int = 0  # answer this many times with the first half of the body as sent (gzip or not), no Content-Length


class BulkServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        self.kickoffs = 0
        self.polls = 0
        self.deletes = 0
        self.pending_polls = 2  # 202 answers before the manifest
        self.poll_429 = 0  # 429 + Retry-After answers to polls first ("too many requests")
        self.poll_headers: list[dict[str, str]] = []  # headers of each 202 (cycled); default none
        self.files: dict[str, FileSpec] = {}
        self.errors: dict[str, FileSpec] = {}
        self.requires_token: bool | None = True
        self.transaction_time: str | None = "2026-11-27T00:09:48.351Z"
        self.request_slash = True
        self.status_gone = False
        self.status_error: int | None = None  # the status URL answers this 4xx with an OperationOutcome
        self.presigned: set[str] = set()  # file names served under /presigned/ (no token needed)
        self.signature = 1  # pre-signed URLs carry Signature=v<this>; others are refused with 410 (expired)
        self.redirect: dict[str, str] = {}  # file name -> absolute URL it redirects to
        self.kickoff_params: list[dict[str, list[str]]] = []
        self.require_auth = True
        self.refuse_type_filter = False  # answer a kick-off with _typeFilter 400 (as many servers do)
        self.missing_groups: set[str] = set()  # Group ids whose $export answers 404
        #: the kick-off's Content-Location when set (a proxy's own URL, whitespace; "" sends none)
        self.status_location: str | None = None
        self.groups: dict[str, dict[str, Any]] = {}  # Group resources served at Group/ID (their members)
        self.group_status: int | None = None  # GET Group/ID answers this status with an OperationOutcome
        self.manifest_bodies: list[bytes] = []  # the 200 answers of the status URL, in turn; then manifest()
        self.date = "Fri, 27 Nov 2026 00:09:48 GMT"
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"{self.origin}/fhir/R4"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> BulkServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --------------------------------------------------------------- content

    def add_ndjson(self, name: str, resources: list[dict[str, Any]], **kw: Any) -> bytes:
        body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in resources).encode()
        self.files[name] = FileSpec(body, **kw)
        return body

    def manifest(self) -> dict[str, Any]:
        def url(name: str) -> str:
            if name in self.redirect:
                return f"{self.origin}/redirect/{name}"
            if name in self.presigned:
                return f"{self.origin}/presigned/{name}?Signature=v{self.signature}"
            return f"{self.base}/files/{name}"

        doc: dict[str, Any] = {
            "request": f"{self.base}/Patient/$export" if self.request_slash else f"{self.base}Patient/$export",
            "output": [
                {"type": re.match(r"[A-Za-z]+", name).group(0), "url": url(name)}  # type: ignore[union-attr]
                | ({"count": spec.count} if spec.count is not None else {})
                for name, spec in self.files.items()
            ],
            "error": [{"type": "OperationOutcome", "url": f"{self.base}/files/{name}"} for name in self.errors],
        }
        if self.transaction_time:
            doc["transactionTime"] = self.transaction_time
        if self.requires_token is not None:
            doc["requiresAccessToken"] = self.requires_token
        return doc

    def authorised(self, seen: Seen) -> bool:
        return seen.headers.get("authorization") == f"Bearer {TOKEN}"

    def calls(self, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith(prefix)]

    # --------------------------------------------------------------- HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def date_time_string(self, timestamp: float | None = None) -> str:
                return server.date  # the server's clock, not ours

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
                self._send(
                    status, json.dumps(doc).encode(), {"Content-Type": "application/fhir+json", **(headers or {})}
                )

            def do_DELETE(self) -> None:
                self._route()

            def do_GET(self) -> None:
                self._route()

            def _route(self) -> None:
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, {k.lower(): v for k, v in self.headers.items()}, parts.query)
                with server.lock:
                    server.seen.append(seen)
                path = parts.path
                if path == "/fhir/R4/metadata":
                    return self._json(200, {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "rest": []})
                needs_auth = server.require_auth and not path.startswith(("/presigned/", "/redirect/", "/other/"))
                if needs_auth and not server.authorised(seen):
                    return self._json(
                        401, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}
                    )
                if path.endswith("$export") and server.refuse_type_filter and "_typeFilter" in parse_qs(parts.query):
                    with server.lock:
                        server.kickoff_params.append(parse_qs(parts.query))
                    return self._json(
                        400,
                        {
                            "resourceType": "OperationOutcome",
                            "issue": [{"severity": "error", "code": "not-supported", "diagnostics": "_typeFilter"}],
                        },
                    )
                if path.endswith("$export") and path.split("/")[-2] in server.missing_groups:
                    return self._json(
                        404, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
                    )
                if path.endswith("$export"):
                    with server.lock:
                        server.kickoffs += 1
                        server.kickoff_params.append(parse_qs(parts.query))
                    return self._json(
                        202,
                        {
                            "resourceType": "OperationOutcome",
                            "issue": [{"severity": "information", "code": "informational"}],
                        },
                        {"Content-Location": f"{server.base}/bulkstatus/job1"}
                        if server.status_location is None
                        else ({"Content-Location": server.status_location} if server.status_location else {}),
                    )
                if path.startswith("/fhir/R4/Group/") and path.count("/") == 4 and self.command == "GET":
                    gid = path.rsplit("/", 1)[-1]
                    if server.group_status is not None:
                        return self._json(
                            server.group_status,
                            {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]},
                        )
                    if gid in server.groups:
                        return self._json(200, server.groups[gid])
                    return self._json(
                        404, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
                    )
                if path.startswith("/fhir/R4/bulkstatus/"):
                    if server.status_gone:
                        return self._json(
                            404,
                            {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]},
                        )
                    if server.status_error and self.command == "GET":
                        return self._json(
                            server.status_error,
                            {
                                "resourceType": "OperationOutcome",
                                "issue": [{"severity": "error", "code": "exception", "diagnostics": "export job died"}],
                            },
                        )
                    if self.command == "DELETE":
                        with server.lock:
                            server.deletes += 1
                        return self._send(202)
                    with server.lock:
                        server.polls += 1
                        too_many = server.poll_429 > 0
                        server.poll_429 -= 1 if too_many else 0
                    if too_many:
                        return self._send(429, b"slow down", {"Content-Type": "text/plain", "Retry-After": "30"})
                    with server.lock:
                        pending = server.pending_polls > 0
                        if pending:
                            server.pending_polls -= 1
                            headers = (
                                server.poll_headers[(server.polls - 1) % len(server.poll_headers)]
                                if server.poll_headers
                                else {}
                            )
                    if pending:
                        return self._send(202, b"", headers)
                    with server.lock:
                        scripted = server.manifest_bodies.pop(0) if server.manifest_bodies else None
                    body = scripted if scripted is not None else json.dumps(server.manifest()).encode()
                    return self._send(200, body, {"Content-Type": "application/json"})
                name = path.rsplit("/", 1)[-1]
                if path.startswith("/redirect/"):
                    return self._send(302, b"", {"Location": server.redirect[name]})
                if path.startswith("/presigned/") and parse_qs(parts.query).get("Signature") != [
                    f"v{server.signature}"
                ]:
                    return self._send(410, b"URL has expired", {"Content-Type": "text/plain"})
                spec = server.files.get(name) or server.errors.get(name)
                if spec is None:
                    return self._send(404, b"no such file", {"Content-Type": "text/plain"})
                with server.lock:
                    throttled = spec.throttle > 0
                    if throttled:
                        spec.throttle -= 1
                if throttled:
                    return self._send(
                        429, b"slow down", {"Content-Type": "text/plain", "Retry-After": spec.retry_after}
                    )
                if spec.status != 200:
                    return self._send(spec.status, b"refused", {"Content-Type": "text/plain"})
                body, headers = spec.body, {"Content-Type": spec.content_type}
                with server.lock:
                    if spec.short > 0:
                        spec.short -= 1
                        body = body.split(b"\n", 1)[0] + b"\n"
                if spec.encoding == "gzip":
                    assert "gzip" in seen.headers.get("accept-encoding", ""), "gzip not accepted"
                    body, headers = gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
                elif spec.encoding == "gz":
                    body, headers = gzip.compress(body), {"Content-Type": "application/gzip"}
                with server.lock:
                    cut = spec.cut > 0
                    spec.cut -= cut
                if cut:  # the connection closes half-way, and nothing said how long the body was
                    self.send_response(200)
                    for k, v in {**headers, "Connection": "close"}.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return None
                return self._send(200, body, headers)

        return Handler


@dataclass
class OtherOrigin:
    """A second server (another port = another origin) that serves any path and records requests."""

    body: bytes = b""
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.seen.append(Seen("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+ndjson")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
