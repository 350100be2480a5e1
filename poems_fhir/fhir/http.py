# SPDX-License-Identifier: Apache-2.0
"""The network edge shared by the FHIR client and the token flows: which URL may be sent where,
how long one exchange and one run may take, and which failures are worth retrying.

- A URL is judged as it will be sent: after requests has prepared it, parsed the way urllib3 (which
  opens the connection) parses it, and also the way urllib.parse does. User-info, backslashes,
  whitespace/control characters, and any disagreement between the parsers are refused before a
  connection is opened - `http://other:1\\@server:2/` looks like `server` to urlsplit but connects to
  `other`.
- Every body is streamed and read against a wall-clock deadline per exchange (a server that sends a
  byte every few seconds never trips a read timeout) and an optional deadline per run.
- Transient failures (resets, refused connections, timeouts, bodies cut short, deadline exceeded, and
  whatever the caller classes as transient: 408/429/5xx, truncated JSON) are retried with one backoff:
  exponential, jittered (never below half the step, so never 0), honouring Retry-After up to a cap,
  within a retry budget per run.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import http.client
import json
import logging
import random
import re
import socket
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

import idna
import requests
import urllib3.exceptions
from requests.cookies import extract_cookies_to_jar
from urllib3.util import parse_url

from .read import nested_too_deeply  # the input rule of every reader applies to every answer too
from ..errors import (
    DeadlineExceededError,
    FatalNetworkError,
    RunDeadlineError,
    TemporaryNetworkError,
)
from ..sync.events import ev

log = logging.getLogger("poems_fhir.client")

T = TypeVar("T")
Origin = tuple[str, str, int]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: a backslash or a control character anywhere, or a space before the query: parsers disagree about
#: such URLs (urllib.parse drops tabs and newlines, urllib3 ends the authority at a backslash)
_AMBIGUOUS = re.compile(r"[\\\x00-\x1f\x7f]|^[^?#]* ")


@dataclass
class RetryPolicy:
    attempts: int = 5  # per request, the first try included
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 300.0  # servers have asked for hours; we wait at most this
    budget: int = 50  # retries per run, all requests together

    def __post_init__(self) -> None:
        if self.base_delay <= 0 or self.max_delay < self.base_delay or self.attempts < 1:
            raise ValueError("RetryPolicy needs attempts >= 1 and 0 < base_delay <= max_delay")


@dataclass
class Deadlines:
    connect: float = 10.0  # to open the connection
    read: float = 120.0  # silence between two packets
    request: float = 300.0  # one whole exchange, request sent to last byte received
    run: float | None = None  # the whole run; None: no limit


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    reauths: int = 0


# ---------------------------------------------------------------------------------------------- URLs


def origin(url: str) -> Origin:
    """(scheme, host, port) as urllib.parse sees it, default ports made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    host = (parts.hostname or "").lower()
    if not host.isascii():
        try:  # compare like with like: urllib3 and requests send international names IDNA-encoded
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            pass
    return scheme, host, port


def sent_origin(url: str) -> Origin:
    """(scheme, host, port) as urllib3 sees it - the host requests will actually connect to."""
    parts = parse_url(url)
    scheme = (parts.scheme or "").lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return scheme, (parts.host or "").lower().strip("[]"), port  # IPv6 literals without brackets


def prepared_url(url: str) -> str:
    """The URL as requests will send it (host IDNA-encoded, path and query re-quoted)."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    return prepared.url or ""


def show_origin(o: Origin) -> str:
    return f"{o[0]}://{o[1]}:{o[2]}"


def unsafe_reason(url: str) -> str | None:
    """Why this URL must not be sent anywhere (None when it is unambiguous)."""
    if _AMBIGUOUS.search(url):
        return "it contains a backslash, a control character or a space"
    try:
        split = urlsplit(url)
        ours, theirs = origin(url), sent_origin(url)
        u3_auth = parse_url(url).auth
    except (ValueError, urllib3.exceptions.LocationParseError):
        return "it cannot be parsed"
    if "@" in split.netloc or u3_auth:
        return "it carries user-info (user:password@); credentials never travel inside URLs"
    if ours[0] not in _DEFAULT_PORTS:
        return "its scheme is not http or https"
    if not ours[1]:
        return "it has no host"
    if ours != theirs:
        return f"it would connect to {show_origin(theirs)}, not to {show_origin(ours)} as it appears"
    return None


#: query parameters whose values are credentials by convention: OAuth tokens (RFC 6750 §2.3 allows
#: ``access_token`` in a URL), API keys, and the signatures of pre-signed storage URLs (S3, GCS, Azure SAS)
_SECRET_PARAMS = re.compile(
    r"(?i)([?&;](?:access_token|id_token|refresh_token|token|client_secret|password|passwd|pwd|secret|"
    r"api[-_]?key|key|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|"
    r"x-goog-signature|x-goog-credential)=)[^&;#]*"
)


def redact(url: str) -> str:
    """The URL for messages: any user-info replaced, and the values of query parameters that carry
    credentials by convention (probe45: a server's next link with ``access_token=…`` reached the log,
    the summary and the state file). Other query parameters are kept: they say which search it was."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1<user-info>@", url)
    return _SECRET_PARAMS.sub(r"\1<redacted>", url)


#: shortest part of a secret that is masked where a server echoes it cut (a shorter one would mask
#: ordinary words; a secret shorter than this is masked only whole)
MIN_SECRET_PART = 8


def scrub_secrets(text: str, secrets: list[str]) -> str:
    """``text`` with every secret masked: whole, and every run of eight characters or more of it - cut
    short by a server or proxy (probe45: "invalid token: SECRETTOKE…"), from its middle, in another
    letter case, percent-encoded or base64-encoded (probe68 D3: a 500 body echoing the token so reached
    the log, the summary and the state file)."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        text = text.replace(secret, "<redacted>")
        if len(secret) >= MIN_SECRET_PART:
            text = _mask_parts(text, _secret_parts(secret))
    return text


@functools.lru_cache(maxsize=16)  # scrubbing runs for every request's URL: the parts are built once
def _secret_parts(secret: str) -> frozenset[str]:
    """Every run of MIN_SECRET_PART characters of the secret as written, percent-encoded and base64-encoded,
    in lower case (ASCII)."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        "".join(f"%{b:02x}" for b in raw),  # every byte percent-encoded
        raw.hex(),
        "".join(f"\\u{ord(c):04x}" for c in secret),  # JSON escapes written out
        "".join(f"&#{ord(c)};" for c in secret),  # HTML entities
        "".join(f"&#x{ord(c):x};" for c in secret),
    }
    # base64 of the secret inside a longer text ("Bearer <token>", "user:<password>") is aligned on the
    # text, not on the secret: the encodings from each of the first three bytes on cover every alignment
    # (the last characters, which depend on what follows, are left out), also of the secret in one case
    for text in {raw, secret.lower().encode("utf-8"), secret.upper().encode("utf-8")}:
        forms |= {base64.b64encode(text).decode("ascii"), base64.urlsafe_b64encode(text).decode("ascii")}
        for skip in range(3):
            part = text[skip:]
            usable = len(part) - len(part) % 3
            for encode in (base64.b64encode, base64.urlsafe_b64encode):
                forms.add(encode(part[:usable]).decode("ascii"))
    n = MIN_SECRET_PART
    return frozenset(_ascii_lower(f)[i : i + n] for f in forms for i in range(len(f) - n + 1))


def _ascii_lower(text: str) -> str:
    """Lower case for ASCII letters only: the same length as ``text`` (str.lower may not keep it)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _mask_parts(text: str, parts: frozenset[str]) -> str:
    """Each stretch of ``text`` covered by overlapping parts replaced by one ``<redacted>``: linear in
    the text (one set lookup per position)."""
    n = MIN_SECRET_PART
    low = _ascii_lower(text)
    out: list[str] = []
    last = i = 0
    while i <= len(low) - n:
        if low[i : i + n] not in parts:
            i += 1
            continue
        end = i + n
        while end < len(low) and low[end - n + 1 : end + 1] in parts:
            end += 1
        out += [text[last:i], "<redacted>"]
        last = i = end
    return "".join(out) + text[last:] if out else text


def parse_retry_after(value: str | None, now: float, date: str | None = None) -> float | None:
    """Retry-After as delta-seconds or HTTP-date -> seconds to wait (>= 0), None if absent/garbled.
    An HTTP-date is measured from the response's own ``Date`` header when it has one (RFC 9110
    §10.2.3: both are the server's clock), else from ``now``: a server whose clock is behind ours
    would otherwise always ask for a time already past, i.e. no wait at all."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    start = _http_date(date) if date else None
    when = _http_date(value)
    return None if when is None else max(0.0, when - (now if start is None else start))


def _http_date(value: str) -> float | None:
    """An HTTP-date as a POSIX timestamp; None if it is none."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None


# ----------------------------------------------------------------------------------------- bodies


def html_title(text: str) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title", text, re.I | re.S)
    title = re.sub(r"\s+", " ", m.group(1)).strip() if m else ""
    return title[:80]


def looks_like_html(response: requests.Response) -> bool:
    ctype = response.headers.get("Content-Type", "").lower()
    head = response.content[:512].lstrip().lower()
    return "html" in ctype or head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def body_summary(response: requests.Response) -> str:
    """A short, safe description of a non-JSON body: never an HTML page, never more than a line."""
    if not response.content:
        return "an empty body"
    text = response.content[:4096].decode("utf-8", "replace")
    if looks_like_html(response):
        title = html_title(text)
        return f"an HTML page ({title!r})" if title else "an HTML page"
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = "".join(c if c.isprintable() else "?" for c in line)[:120]
    return f"text {line!r}" if line else "a blank body"


def response_json(response: requests.Response) -> Any:
    """The body as JSON, as ``response.json()`` reads it (a UTF-8 byte-order mark ignored), with JSON
    nested more than read.MAX_PARSE_DEPTH levels a ValueError like any body that is no JSON - never a
    RecursionError, which a server's answer of 1,000 nested brackets would raise deep in the parser."""
    content = response.content
    if nested_too_deeply(content):
        raise ValueError(NESTED_TOO_DEEPLY)
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError(NESTED_TOO_DEEPLY) from None


NESTED_TOO_DEEPLY = "JSON nested too deeply"


def looks_truncated_json(response: requests.Response) -> bool:
    """A body that starts like JSON (or is empty) but does not parse was cut short on the way."""
    head = response.content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return head in (b"{", b"[", b"")


# ------------------------------------------------------------------------------------------ errors


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and whatever it wraps (requests wraps urllib3 wraps socket errors)."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(seen) < 20:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return seen


def describe(exc: BaseException, deadlines: Deadlines, waited: str | None = None) -> str:
    """The network failure in words an operator can act on. ``waited``: why a read timed out sooner than
    the read deadline (the request's or the run's deadline was nearer: probe63 D6 "no data for 120 s"
    after 5 s)."""
    chain = _chain(exc)

    def has(*types: type) -> bool:
        return any(isinstance(e, types) for e in chain)

    if has(urllib3.exceptions.NameResolutionError, socket.gaierror):
        return "the host name could not be resolved (DNS) - is the server name right?"
    if has(ConnectionRefusedError):
        return "connection refused - the server is down or not reachable on that port"
    if has(requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError):
        return f"no connection within {deadlines.connect:.0f} s - the server is down or unreachable"
    if has(requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError, socket.timeout):
        if waited:
            return f"no answer within {waited} - the server or a proxy is holding the request"
        return f"no data for {deadlines.read:.0f} s - the server stopped answering"
    if has(ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return "the connection was reset"
    if has(requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError, http.client.IncompleteRead):
        return "the response was cut short (connection closed before the whole body arrived)"
    if has(zlib.error):
        # probe80 D6: a body labelled gzip that is not gzip was "error - is the server up and reachable?"
        return "the body is labelled Content-Encoding: gzip but is not valid gzip (a proxy or compression layer?)"
    if has(requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError):
        return "the compressed response body is corrupt (cut short?)"
    return f"{exc.__class__.__name__} - is the server up and reachable?"


# --------------------------------------------------------------------------------------- transport


#: a decompressed body past INFLATION_FLOOR bytes that is more than MAX_INFLATION times its size on the
#: wire is a decompression bomb: FHIR JSON and NDJSON compress 5-50-fold (Synthea's NDJSON ~15), a
#: run of one repeated byte ~1000-fold
MAX_INFLATION = 200
INFLATION_FLOOR = 16 * 2**20


#: the Content-Encoding values decoded by GzipStream (what our Accept-Encoding: gzip asks for)
_GZIP_ENCODINGS = ("gzip", "x-gzip")
#: decoded bytes per zlib call: a decompression bomb is seen before it is in memory
_INFLATE_STEP = 1 << 20


class GzipStream:
    """gzip Content-Encoding decoded here, not by urllib3, because urllib3 does not say whether the
    stream ended: a body cut inside the compressed stream, with no Content-Length to tell, read as a
    complete, shorter body (probe55 D2: an export file of 4 lines instead of 23 kept as complete).
    Several members are one body (RFC 1952); bytes after a complete member that are no gzip member are
    ignored, as other clients do."""

    def __init__(self) -> None:
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._open = False  # the current member has begun and not ended
        self._ended = False  # at least one member ended
        self._trailing = False  # a complete member was followed by what is no member: ignored

    def decode(self, data: bytes) -> list[bytes]:
        """The decoded bytes of ``data``, the next bytes on the wire (zlib.error when corrupt)."""
        out: list[bytes] = []
        limited = False  # the last call filled its output step: zlib may hold more, even with no input left
        while (data or limited) and not self._trailing:
            if data and not self._open and self._ended and not b"\x1f\x8b".startswith(data[:2]):
                self._trailing = True  # no member follows the complete one
                break
            self._open = True
            piece = self._obj.decompress(data, _INFLATE_STEP)
            limited = len(piece) == _INFLATE_STEP
            if piece:
                out.append(piece)
            if self._obj.eof:
                data = self._obj.unused_data
                self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._open, self._ended = False, True
            else:
                data = self._obj.unconsumed_tail
        return out

    @property
    def complete(self) -> bool:
        """Whether the body ended where a member ended (or was empty)."""
        return not self._open


@dataclass
class Transport:
    """One requests.Session, deadlines, and the retry loop. Clock and sleep are injected."""

    session: requests.Session = field(default_factory=requests.Session)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    deadlines: Deadlines = field(default_factory=Deadlines)
    sleep: Callable[[float], None] = lambda seconds: time.sleep(seconds)
    clock: Callable[[], float] = lambda: time.time()  # wall clock: HTTP-date Retry-After
    monotonic: Callable[[], float] = lambda: time.monotonic()  # deadlines
    rng: Callable[[], float] = random.random
    stats: ClientStats = field(default_factory=ClientStats)
    max_body: int = 512 * 1024 * 1024
    _run_ends: float | None = field(default=None, init=False, repr=False)
    _run_deadline_logged: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.start_run()

    def start_run(self) -> None:
        self._run_ends = None if self.deadlines.run is None else self.monotonic() + self.deadlines.run

    def run_deadline_passed(self) -> bool:
        passed = self._run_ends is not None and self.monotonic() >= self._run_ends
        if passed and not self._run_deadline_logged:
            self._run_deadline_logged = True
            log.warning(
                "the run deadline (%.0f s) has passed: no further requests in this run; "
                "the rest waits for the next run",
                self.deadlines.run or 0,
            )
        return passed

    def _run_deadline_error(self, what: str, wait: float | None = None) -> RunDeadlineError:
        """``wait``: the retry's wait that would end past the deadline (probe50 LOW-4: "has passed" was said
        4.8 s into a 30 s run, of a Retry-After of 120 s not begun)."""
        why = (
            f"waiting {wait:.0f} s to retry would pass the run deadline ({self.deadlines.run or 0:.0f} s, --run-deadline)"
            if wait is not None
            else f"the run deadline ({self.deadlines.run or 0:.0f} s, --run-deadline) has passed"
        )
        return RunDeadlineError(f"{what}: not sent, {why}; the rest waits for the next run", exhausted=True)

    # ------------------------------------------------------------------ one exchange

    def send(
        self,
        prepared: requests.PreparedRequest,
        *,
        what: str,
        write: Callable[[bytes], None] | None = None,
        request_deadline: float | None = None,
    ) -> requests.Response:
        """Send one prepared request and read its whole body within the deadlines.

        Network failures become TemporaryNetworkError (retryable) or FatalNetworkError.
        The caller has checked where the prepared URL goes. With ``write`` (bulk downloads), a 2xx
        body goes to it chunk by chunk, decoded (gzip), never whole in memory and without the size
        limit; other statuses are read as usual. ``request_deadline`` replaces the per-exchange one.
        """
        start = self.monotonic()
        ends = start + (request_deadline or self.deadlines.request)
        if self._run_ends is not None:
            if start >= self._run_ends:
                raise self._run_deadline_error(what)
            ends = min(ends, self._run_ends)
        settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        read_timeout = max(0.001, min(self.deadlines.read, ends - start))
        waited = None
        if read_timeout < self.deadlines.read:
            which = "run deadline" if self._run_ends is not None and ends >= self._run_ends else "request deadline"
            flag = "--run-deadline" if which == "run deadline" else "--request-deadline"
            waited = f"{read_timeout:.0f} s (the {which} left, {flag})"
        self.stats.requests += 1
        try:
            # the adapter, not Session.send: Session.send reads a redirect's body itself (to prepare the
            # redirect it will not follow), outside our deadline
            response = self.session.get_adapter(prepared.url or "").send(
                prepared,
                timeout=(self.deadlines.connect, read_timeout),
                stream=True,
                proxies=settings.get("proxies") or {},
                verify=_verify(settings.get("verify")),
                cert=settings.get("cert"),
            )
            extract_cookies_to_jar(self.session.cookies, prepared, response.raw)
        except requests.exceptions.SSLError as exc:
            raise FatalNetworkError(
                f"{what}: TLS failed ({_ssl_reason(exc)}) - check the server certificate or REQUESTS_CA_BUNDLE",
                url=redact(prepared.url or ""),
            ) from None
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidHeader,
        ) as exc:
            raise FatalNetworkError(
                f"{what}: {exc.__class__.__name__}: not a usable URL or header", url=redact(prepared.url or "")
            ) from None
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
            urllib3.exceptions.HTTPError,
            OSError,
            http.client.HTTPException,
        ) as exc:
            raise TemporaryNetworkError(
                f"{what}: {describe(exc, self.deadlines, waited)}", url=redact(prepared.url or "")
            ) from None
        streamed = write if write is not None and 200 <= response.status_code < 300 else None
        try:
            body = self._read_body(response, start, ends, what, streamed)
        finally:
            response.close()
        response._content = body  # the body is read: .content/.json()/.text work as usual
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    def _read_body(
        self,
        response: requests.Response,
        start: float,
        ends: float,
        what: str,
        write: Callable[[bytes], None] | None = None,
    ) -> bytes:
        raw = response.raw
        chunks: list[bytes] = []
        size = 0
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        gunzip = GzipStream() if encoding in _GZIP_ENCODINGS else None
        while True:
            now = self.monotonic()
            if now >= ends:
                limit = "run" if self._run_ends is not None and ends >= self._run_ends else "request"
                if limit == "run":
                    raise self._run_deadline_error(what)
                raise DeadlineExceededError(
                    f"{what}: the response was still arriving after {now - start:.0f} s (request deadline "
                    f"{ends - start:.0f} s, --request-deadline) - the server or a proxy is sending "
                    f"very slowly ({size} bytes so far)",
                    url=redact(response.url or ""),
                )
            try:
                # returns as soon as any data is there; gzip is decoded below, other encodings by urllib3
                wire = raw.read1(65536, decode_content=gunzip is None)
                pieces = gunzip.decode(wire) if gunzip is not None else [wire]
            except (
                urllib3.exceptions.HTTPError,
                requests.RequestException,
                OSError,
                http.client.HTTPException,
                ValueError,
                zlib.error,
            ) as exc:
                raise TemporaryNetworkError(
                    f"{what}: {describe(exc, self.deadlines)} after {size} bytes",
                    url=redact(response.url or ""),
                    status=response.status_code,
                ) from None
            if not wire:
                if gunzip is not None and not gunzip.complete:
                    raise TemporaryNetworkError(
                        f"{what}: the compressed response body ends early (the gzip stream is cut short) after "
                        f"{size} bytes",
                        url=redact(response.url or ""),
                        status=response.status_code,
                    )
                return b"".join(chunks)
            for chunk in pieces:
                size += len(chunk)
                self._refuse_a_bomb(raw, size, what, response)
                if write is not None:
                    write(chunk)
                    continue
                if size > self.max_body:
                    raise FatalNetworkError(
                        f"{what}: the response is larger than {self.max_body // 2**20} MB",
                        url=redact(response.url or ""),
                        status=response.status_code,
                    )
                chunks.append(chunk)

    @staticmethod
    def _refuse_a_bomb(raw: Any, size: int, what: str, response: requests.Response) -> None:
        """A compressed body that inflates far more than FHIR JSON does is refused while it streams
        (probe45 D6: a 500 kB gzip answer inflating to 512 MB, just under the size cap, took the job to
        1.3 GB before it was parsed). ``raw.tell()`` is urllib3's count of bytes on the wire."""
        if size <= INFLATION_FLOOR:
            return
        try:
            wire = int(raw.tell())
        except (AttributeError, OSError, TypeError, ValueError):
            return  # no wire count: the size cap alone applies
        if size > MAX_INFLATION * max(wire, 1):
            raise FatalNetworkError(
                f"{what}: the response inflates more than {MAX_INFLATION}-fold when decompressed "
                f"({size // 2**20} MB from {wire // 2**10} kB on the wire) - a decompression bomb, not read "
                "further; FHIR JSON compresses about 5-50-fold",
                url=redact(response.url or ""),
                status=response.status_code,
            )

    # ------------------------------------------------------------------ retries

    def retrying(self, attempt: Callable[[], T], *, retryable: bool, what: str) -> T:
        """Run attempt() until it succeeds, retrying TemporaryNetworkError with backoff."""
        n = 0
        while True:
            n += 1
            try:
                return attempt()
            except TemporaryNetworkError as error:
                if not retryable or error.exhausted:
                    raise
                if n >= self.retry.attempts or self.stats.retries >= self.retry.budget:
                    budget = "" if n >= self.retry.attempts else f", retry budget of {self.retry.budget} used up"
                    raise type(error)(
                        f"{error} (gave up after {n} attempt(s){budget})",
                        url=error.url,
                        status=error.status,
                        retry_after=error.retry_after,
                        exhausted=True,
                    ) from None
                delay = self.delay(n, error.retry_after)
                if self._run_ends is not None and self.monotonic() + delay >= self._run_ends:
                    raise self._run_deadline_error(what, delay) from None
                self.stats.retries += 1
                log.warning("retrying %s in %.1fs: %s", what, delay, error, extra=_retry_event(what, delay, error, n))
                self.sleep(delay)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        jittered = backoff * (0.5 + min(max(self.rng(), 0.0), 1.0) / 2)  # never below half: never 0
        if retry_after is not None:
            return min(max(retry_after, jittered), self.retry.max_retry_after)
        return jittered


def _verify(value: object) -> bool | str:
    return value if isinstance(value, (bool, str)) else True


def _ssl_reason(exc: BaseException) -> str:
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"certificate not trusted: {e.verify_message}"
    return "handshake failed"


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})


def _retry_event(what: str, delay: float, error: Exception, attempt: int) -> dict[str, Any]:
    """The `http.retry` event as the README's table names its fields: method and url apart (a bulk
    download's or poll's `what` names no method: then `what`)."""
    method, _, url = what.partition(" ")
    where = {"method": method, "url": url} if method in _METHODS and url else {"what": what}
    return ev("http.retry", **where, delay_s=round(delay, 1), error=str(error), attempt=attempt)
