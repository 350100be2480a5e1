# SPDX-License-Identifier: Apache-2.0
"""FHIR Bulk Data `$export` client: kick-off, polling, manifest, parallel downloads, resume, delete.

Everything goes through the network edge (fhir/http.py, via the FhirClient and a second Transport
on the same session for downloads): the origin rule, deadlines, error classes and retries are the
same as for every other request.

- Kick-off: `GET [base]/$export`, `Patient/$export` or `Group/ID/$export` with `Prefer:
  respond-async`, `_outputFormat=application/fhir+ndjson`, `_type`, optional `_typeFilter` and
  `_since`. It is retried only when the server refused it outright (429/503): a kick-off that may
  have reached the server is never repeated (that would start a second export).
- Polling honours `Retry-After` (seconds or HTTP date) and logs `X-Progress`; without either, a
  capped exponential backoff with jitter. An overall deadline bounds the wait.
- Downloads: a bounded thread pool; each file streamed to `NAME.part`, decompressed (Content-Encoding
  gzip or a gzip body such as `.gz`), fsync'd and renamed; a journal line (size, sha256) per file.
  The bearer token goes with a download only when the manifest does not say `requiresAccessToken:
  false` AND the URL is on the FHIR server's origin; never to another origin, never across a
  redirect (redirects of downloads are followed without any credentials).
- Resume: `export-state.json` in the export folder holds the request, the status URL (saved before
  the first wait), the manifest and the phase; a rerun polls the saved status URL and fetches only
  the files the journal does not show complete. A status URL the server no longer knows (404/410)
  stops with a message; `restart` starts a fresh export.

Folder layout: `export-state.json`, `manifest.json` (the server's manifest), `downloads.log` (the
journal), `data/*.ndjson` (the resources: the folder to evaluate), `errors/*.ndjson` (OperationOutcome
files of the manifest's `error`), `deleted/*.ndjson` (the `deleted` Bundles of a `_since` export).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from ..errors import (
    AuthError,
    ConfigError,
    FatalNetworkError,
    ForeignHostError,
    NetworkError,
    PermissionDeniedError,
    RunDeadlineError,
    TemporaryNetworkError,
)
from ..sync.events import ev
from .client import FhirClient, outcome_text
from .http import Deadlines, RetryPolicy, Transport, parse_retry_after, redact, response_json, unsafe_reason
from .read import MAX_LINE_BYTES, MAX_PARSE_DEPTH, RELEVANT_TYPES, _loads
from .resource_types import is_resource_type
from .ids import is_fhir_id

log = logging.getLogger("poems_fhir.bulk")

STATE_FILE = "export-state.json"
MANIFEST_FILE = "manifest.json"
JOURNAL_FILE = "downloads.log"
LOCK_FILE = "export.lock"
STATE_VERSION = 1
NDJSON = "application/fhir+ndjson"
#: codes per `_typeFilter` value (several values for one type are OR'ed by the server)
TYPE_FILTER_CHUNK = 40
#: redirects followed for one download (each without credentials)
MAX_REDIRECTS = 5
_TYPE_NAME = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
_GZIP_MAGIC = b"\x1f\x8b"
#: types poems-fhir reads that are not in the Patient compartment: a Patient- or Group-level export
#: never holds them, and some servers refuse the whole kick-off when `_type` names them
NOT_IN_PATIENT_COMPARTMENT = frozenset({"Medication"})


class ExportGoneError(FatalNetworkError):
    """The saved status URL answers 404/410: the server no longer knows the export."""


class SignedUrlRefusedError(FatalNetworkError):
    """A download without credentials (pre-signed URL) was refused: 401/403/410, expired or bad signature."""


class StatusUrlRefusedError(ForeignHostError):
    """A kick-off answered 202 with a status URL that gets no credentials (another origin, whitespace, a
    control character): the export is left running on the server, and remembered so that no later run
    starts another one."""


class NoStatusUrlError(FatalNetworkError):
    """A kick-off answered 202 without a Content-Location: an export may run on the server, with no URL
    to poll; remembered like a refused status URL."""


class OwnSecretInUrlError(ForeignHostError):
    """A file URL (or a redirect) on another origin holds our own token in its text: never fetched."""


# ------------------------------------------------------------------------------------ the request


class _Stopped(BaseException):
    """A download told to stop (the command is ending): a BaseException, so that no retry takes it
    for a network failure."""


def parse_level(value: str) -> tuple[str, str | None]:
    """`system`, `patient` or `group:ID` -> (level, group id)."""
    text = (value or "").strip()
    if text in ("system", "patient"):
        return text, None
    if text.startswith("group:") and is_fhir_id(text[6:]):  # not "." or "..": Group/../$export is the system's
        return "group", text[6:]
    raise ConfigError(f"--bulk {value!r}: give system, patient or group:ID (a FHIR id: letters, digits, '-' and '.')")


@dataclass
class ExportRequest:
    level: str = "system"  # system | patient | group
    group: str | None = None
    types: list[str] = field(default_factory=lambda: sorted(RELEVANT_TYPES))
    type_filters: list[str] = field(default_factory=list)
    since: str | None = None

    @classmethod
    def of(cls, bulk: str, **kw: Any) -> ExportRequest:
        level, group = parse_level(bulk)
        if level != "system" and "types" not in kw:
            kw["types"] = sorted(RELEVANT_TYPES - NOT_IN_PATIENT_COMPARTMENT)
        return cls(level=level, group=group, **kw)

    @property
    def path(self) -> str:
        if self.level == "group":
            return f"Group/{self.group}/$export"
        return "Patient/$export" if self.level == "patient" else "$export"

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"_outputFormat": NDJSON, "_type": ",".join(self.types)}
        if self.type_filters:
            params["_typeFilter"] = list(self.type_filters)
        if self.since:
            params["_since"] = self.since
        return params

    def key(self) -> dict[str, Any]:
        """What must match for a saved export to be resumed by this request."""
        return {
            "level": self.level,
            "group": self.group,
            "types": self.types,
            "type_filters": self.type_filters,
            "since": self.since,
        }


def type_filters(codes_by_type: dict[str, list[str]]) -> list[str]:
    """`_typeFilter` values: Observations of the mapped codes only - exactly what the server mode's
    per-patient search reads (sync/sources.py); the other types are read whole there too."""
    codes = codes_by_type.get("Observation", [])
    return [
        f"Observation?code={','.join(codes[i : i + TYPE_FILTER_CHUNK])}"
        for i in range(0, len(codes), TYPE_FILTER_CHUNK)
    ]


# ------------------------------------------------------------------------------------ the results


@dataclass
class ExportResult:
    folder: Path
    data_dir: Path
    status_url: str
    transaction_time: str | None
    since: str | None
    resumed: bool  # an export started by an earlier run was continued
    files: int = 0  # data files
    downloaded: int = 0  # files fetched in this run (the others were complete already)
    bytes: int = 0  # of the data files, decoded
    errors: list[str] = field(default_factory=list)  # OperationOutcome issues of the error files
    error_count: int = 0
    #: issues of the error files with severity error or fatal (or none given): resources the server could
    #: not export - lost to this export, so a sync run keeps its checkpoint
    failed_resources: int = 0
    deleted_files: int = 0
    short_files: list[str] = field(default_factory=list)  # data files that still differ from the manifest's count
    #: lines of the data files that are no resource (listed under errors too): the reader skips them,
    #: so a sync run keeps its checkpoint (probe72 D6)
    unreadable: list[str] = field(default_factory=list)
    unreadable_count: int = 0
    notes: list[str] = field(default_factory=list)  # quirks of the server that were worked around
    deleted_on_server: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "data": str(self.data_dir),
            "transaction_time": self.transaction_time,
            "since": self.since,
            "resumed": self.resumed,
            "files": self.files,
            "downloaded": self.downloaded,
            "bytes": self.bytes,
            "error_count": self.error_count,
            "errors": self.errors,
            "deleted_files": self.deleted_files,
            "short_files": self.short_files,
            "unreadable_lines": self.unreadable_count,
            "export_deleted_on_server": self.deleted_on_server,
            "notes": self.notes,
        }


# ------------------------------------------------------------------------------------ disk


def _write_json_atomic(path: Path, doc: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_LINE_END = re.compile(rb"[^\n]\n")


def _resources(rec: dict[str, Any]) -> int | None:
    """The resources a journal line says a file holds (a journal written before they were counted: its
    lines, the best it knows)."""
    value = rec.get("resources", rec.get("lines"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def manifest_count(entry: dict[str, Any]) -> int | None:
    """An output entry's `count` (resources in the file) when the server states one."""
    count = entry.get("count")
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


#: unreadable lines of one file named in the journal and the summary (the others are counted)
MAX_UNREADABLE_LISTED = 5


def _resource_problem(line: bytes) -> str | None:
    """Why one NDJSON line is no FHIR resource the reader will read (None: it is one)."""
    try:
        text = line.decode("utf-8")
        # the reader's own rules; its nesting-depth scan only where the brackets could reach that deep
        deep = line.count(b"[") + line.count(b"{") > MAX_PARSE_DEPTH
        doc = _loads(text) if deep else json.loads(text)
    except UnicodeDecodeError:
        return "not UTF-8"
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(doc, dict):
        return "JSON that is no object"
    rtype = doc.get("resourceType")
    if not isinstance(rtype, str):
        return "no resourceType"
    if not is_resource_type(rtype):
        return f"resourceType {rtype[:40]!r} is no FHIR resource type"
    return None


#: bytes of a downloaded file kept to judge whether it is NDJSON at all
_HEAD = 4096


def _not_ndjson(head: bytes, kind: str) -> str | None:
    """Why the start of a downloaded file is an error page, not NDJSON of ``kind`` resources (None: it
    may be NDJSON). Object storage answers a denied or expired URL with 200 and an XML or JSON error
    (probe33: such a file was read as an empty Condition file, the patients' neuropathy vanished from
    the reports and the export was marked consumed)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return None  # an empty file: a type with no resources
    if text[:1] == b"<":
        return "an XML or HTML document"
    line = text.split(b"\n", 1)[0]
    if b"\n" not in text and len(head) >= _HEAD:
        return None  # a first line longer than the head: a resource, most likely; the reader judges it
    try:
        first = json.loads(line)
    except ValueError:
        return None  # the reader reports a bad line with its position
    if not isinstance(first, dict) or not isinstance(first.get("resourceType"), str):
        return "JSON that is no FHIR resource"
    if first["resourceType"] == "OperationOutcome" and kind != "OperationOutcome":
        return f"an OperationOutcome where {kind} resources were listed"
    return None


class _FileWriter:
    """One download into NAME.part: gzip bodies decompressed on the fly, size and sha256 counted."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.part = final.with_name(final.name + ".part")
        self.file = open(self.part, "wb")  # noqa: SIM115 - closed in finish()/abort()
        self.size = 0
        self.sha = hashlib.sha256()
        self.lines = 0  # lines with content
        #: lines that are a FHIR resource (a JSON object with a resourceType): what the manifest's `count`
        #: counts - a garbled line is no resource (probe72 D1: it passed a count of lines)
        self.resources = 0
        #: lines with content that are no resource (not JSON, not an object, no resource type): the
        #: reader skips them, so their resources are lost to this export
        self.unreadable = 0
        self.unreadable_at: list[tuple[int, str]] = []  # the first few: (2, "not JSON")
        self._line = bytearray()  # the line being received (up to MAX_LINE_BYTES)
        self._line_long = False  # the line being received is longer than MAX_LINE_BYTES
        self._lineno = 0
        self._open_line = False  # the last byte written ended no line
        self._inflate: Any = None
        self._sniffed = b""
        self.head = b""  # the first bytes as stored: enough to tell an error page from NDJSON

    def write(self, chunk: bytes) -> None:
        if self._inflate is None and len(self._sniffed) < 2:
            self._sniffed += chunk
            if len(self._sniffed) < 2:
                return
            chunk, self._sniffed = self._sniffed, b"--"
            # a gzip file (`.gz`, Content-Type application/gzip) that HTTP did not decode for us
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if chunk[:2] == _GZIP_MAGIC else False
        if self._inflate:
            try:
                while chunk:
                    if self._inflate.eof:  # a file of several gzip members (concatenated)
                        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    self._out(self._inflate.decompress(chunk))
                    chunk = self._inflate.unused_data if self._inflate.eof else b""
            except zlib.error as exc:
                raise TemporaryNetworkError(f"the gzip file is corrupt ({exc}) - cut short on the way?") from None
            return
        self._out(chunk)

    def _out(self, data: bytes) -> None:
        if data:
            if len(self.head) < _HEAD:
                self.head += data[: _HEAD - len(self.head)]
            self.file.write(data)
            self.size += len(data)
            self.sha.update(data)
            # a newline after a byte that is none ends a line with content (blank lines do not count)
            self.lines += sum(1 for _ in _LINE_END.finditer(data)) + (self._open_line and data[:1] == b"\n")
            self._open_line = data[-1:] != b"\n"
            self._split(data)

    def _split(self, data: bytes) -> None:
        pieces = data.split(b"\n")  # in C: the lines of a chunk are not looked for one by one
        self._extend(pieces[0])
        if len(pieces) == 1:
            return
        line, long = bytes(self._line), self._line_long
        self._line.clear()
        self._line_long = False
        self._judge(line, long)
        for piece in pieces[1:-1]:
            self._judge(piece, len(piece) > MAX_LINE_BYTES)
        self._extend(pieces[-1])

    def _extend(self, piece: bytes) -> None:
        """The start of a line whose end has not come yet (kept up to MAX_LINE_BYTES)."""
        if self._line_long or not piece:
            return
        if len(self._line) + len(piece) > MAX_LINE_BYTES:
            self._line_long = True
            self._line.clear()
        else:
            self._line += piece

    def _judge(self, line: bytes, long: bool) -> None:
        """One whole line: a resource, blank, or unreadable (as the file reader will judge it)."""
        self._lineno += 1
        if self._lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if not long and not line.strip():
            return
        why = "longer than the reader takes" if long else _resource_problem(line)
        if why is None:
            self.resources += 1
            return
        self.unreadable += 1
        if len(self.unreadable_at) < MAX_UNREADABLE_LISTED:
            self.unreadable_at.append((self._lineno, why))

    def finish(self) -> None:
        if self._inflate is None and self._sniffed not in (b"", b"--"):
            self._out(self._sniffed)  # a one-byte body
        if self._inflate:
            if not self._inflate.eof:
                self.abort()
                raise TemporaryNetworkError("the gzip file ends early - cut short on the way?")
            self._out(self._inflate.flush())
        if self._open_line and not self._last_line_whole():
            self.abort()
            # with no Content-Length (nor a gzip trailer) to tell, a body cut inside a line looked whole and
            # was kept as the complete file (probe55 D1): a transient failure, fetched again
            raise TemporaryNetworkError(
                "the file ends inside a line (its last line is no JSON) - cut short on the way?"
            )
        if self._open_line:
            self._judge(bytes(self._line), self._line_long)  # a last line without its newline
        self.lines += self._open_line
        self._open_line = False
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.part, self.final)

    def _last_line_whole(self) -> bool:
        """Whether the bytes after the file's last newline are one JSON value (read back from the disk,
        in blocks from the end: an NDJSON line can be megabytes)."""
        self.file.flush()
        with open(self.part, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            start, tail = end, b""
            while start > 0 and b"\n" not in tail:
                step = min(start, 1 << 20)
                start -= step
                f.seek(start)
                tail = f.read(step) + tail
        try:
            json.loads(tail.rpartition(b"\n")[2].decode("utf-8", "replace"))
        except RecursionError:
            return True  # whole, and too deep: the reader lists it
        except ValueError:
            return False
        return True

    def abort(self) -> None:
        if not self.file.closed:
            self.file.close()
        try:
            self.part.unlink()
        except OSError:
            pass


# ------------------------------------------------------------------------------------ the client


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _http_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return _instant(email.utils.parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass
class BulkExporter:
    """One export folder; `run()` starts or resumes the export that belongs to it."""

    client: FhirClient
    folder: Path
    parallel: int = 4
    restart: bool = False
    #: DELETE the export on the server once used (a dry run leaves it: the server expires it)
    delete: bool = True
    #: overall bound of the wait for the manifest (seconds)
    deadline: float = 6 * 3600.0
    #: backoff between polls when the server sends no Retry-After
    poll_base: float = 1.0
    poll_max: float = 60.0
    #: a server's Retry-After is honoured up to this
    poll_max_retry_after: float = 3600.0
    #: one download (connect to last byte); large files take time
    download_deadline: float = 3600.0
    sleep: Callable[[float], None] | None = None
    monotonic: Callable[[], float] | None = None
    clock: Callable[[], float] | None = None  # wall clock: HTTP-date Retry-After, kick-off time
    rng: Callable[[], float] | None = None
    polls: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        t = self.client.transport
        self.sleep = self.sleep or t.sleep
        self.monotonic = self.monotonic or t.monotonic
        self.clock = self.clock or t.clock
        self.rng = self.rng or t.rng
        if self.parallel < 1:
            raise ConfigError("--bulk-parallel must be at least 1")
        self.data_dir = self.folder / "data"
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ state

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_FILE

    def load_state(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{self.state_path}: cannot read the export state ({exc}); move the folder aside to start a new export"
            ) from None
        if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION:
            raise ConfigError(f"{self.state_path} is not an export state of this poems-fhir version")
        return doc

    def save_state(self, state: dict[str, Any]) -> None:
        _write_json_atomic(self.state_path, self._scrubbed(state))

    def _scrubbed(self, doc: Any) -> Any:
        """``doc`` with our own secrets masked in every string: a server may echo the token in the
        manifest (`request: …?access_token=…`) or in the status URL, and the folder is handed on
        (probe72 D5). A resumed run polls with the token in its Authorization header as always; the
        run in progress keeps the URLs as received in memory."""
        if isinstance(doc, str):
            return self.client._scrub(doc)
        if isinstance(doc, dict):
            return {k: self._scrubbed(v) for k, v in doc.items()}
        if isinstance(doc, list):
            return [self._scrubbed(v) for v in doc]
        return doc

    def active_state(self) -> dict[str, Any] | None:
        """The export of this folder that is not finished with (consumed), if any."""
        state = self.load_state()
        return state if state and state.get("phase") != "consumed" else None

    def mark_consumed(self) -> None:
        """The downloaded files were used (a completed sync run): the next run starts a new export."""
        state = self.load_state()
        if state and state.get("phase") == "downloaded":
            if self.delete and state.get("status_url") and not state.get("deleted_on_server"):
                state["deleted_on_server"] = self._delete(state)  # kept for a short file: used now
            state["phase"] = "consumed"
            self.save_state(state)

    # ------------------------------------------------------------------ run

    def run(self, request: ExportRequest) -> ExportResult:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = open(self.folder / LOCK_FILE, "a+")  # noqa: SIM115 - held for the run
        except OSError as exc:
            raise ConfigError(f"cannot use the export folder {self.folder}: {exc.strerror}") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise ConfigError(
                f"another poems-fhir export is using {self.folder}; one at a time (wait, or stop the other)"
            ) from None
        try:
            return self._run(request)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()

    def _run(self, request: ExportRequest) -> ExportResult:
        state = self.active_state()
        if state is not None and state.get("phase") == "refused" and not self.restart:
            self._adopt_refused(state)  # its status URL is on the configured server now, or this raises
        resumed = state is not None
        if state is not None and state.get("request") != request.key():
            if not self.restart:
                raise ConfigError(
                    f"{self.folder} holds an export of another request ({_describe(state['request'])}), unfinished "
                    "or not yet used by a sync run: run with the same --bulk settings to resume or use it, or pass "
                    "--bulk-restart (export: --restart) to replace it with a new one"
                )
        if state is not None and self.restart:
            self._forget(state)
            state, resumed = None, False
        if state is None:
            state = self._kick_off(request)
        if state["phase"] == "kicked-off":
            self._wait_for_manifest(state)
        result = self._download_all(state, resumed)
        if state.get("deleted_on_server"):
            result.deleted_on_server = True
        elif not result.short_files and self.delete:
            result.deleted_on_server = self._delete(state)
        # else: a file still short of the manifest's count stays on the server, so that the next run can
        # fetch it again as it says (probe55 D3: it was deleted, and every rerun failed on a bare 404)
        if state["phase"] != "downloaded" or bool(state.get("deleted_on_server")) != result.deleted_on_server:
            state["phase"] = "downloaded"
            state["deleted_on_server"] = result.deleted_on_server
            self.save_state(state)
        return result

    def _forget(self, state: dict[str, Any]) -> None:
        """--restart: the old export is abandoned (deleted on the server when it still exists)."""
        if state.get("phase") == "refused":
            # a status URL refused at the kick-off is deleted only where it may get the credentials now
            url, why = self._status_url_of(state.get("refused_location"))
            if url is not None and why is None:
                self._delete({"status_url": url})
        elif state.get("status_url") and state.get("phase") != "downloaded":
            self._delete(state)
        for sub in ("data", "errors", "deleted"):
            shutil.rmtree(self.folder / sub, ignore_errors=True)
        for name in (JOURNAL_FILE, MANIFEST_FILE):
            (self.folder / name).unlink(missing_ok=True)

    # ------------------------------------------------------------------ kick-off

    def _kick_off(self, request: ExportRequest) -> dict[str, Any]:
        for sub in ("data", "errors", "deleted"):
            shutil.rmtree(self.folder / sub, ignore_errors=True)
        (self.folder / JOURNAL_FILE).unlink(missing_ok=True)
        (self.folder / MANIFEST_FILE).unlink(missing_ok=True)
        transport = self.client.transport
        what = f"GET {redact(self.client.url(request.path))} (kick-off)"
        params = request.params()
        notes: list[str] = []

        def attempt() -> requests.Response:
            try:
                return self.client.request(
                    "GET",
                    request.path,
                    params=params,
                    headers={"Accept": "application/fhir+json", "Prefer": "respond-async"},
                    retryable=False,
                )
            except TemporaryNetworkError as exc:
                if exc.status in (429, 503) and not exc.exhausted:
                    raise  # refused outright: nothing was started, safe to ask again
                # it may have reached the server: asking again could start a second export
                raise TemporaryNetworkError(str(exc), url=exc.url, status=exc.status, exhausted=True) from None

        try:
            try:
                response = transport.retrying(attempt, retryable=True, what=what)
            except FatalNetworkError as exc:
                if exc.status != 400 or "_typeFilter" not in params:
                    raise
                # _typeFilter is optional in Bulk Data and many servers refuse it: a refused kick-off
                # started nothing, so asking once more without it is safe (the server just sends more)
                del params["_typeFilter"]
                notes.append(f"the server refused _typeFilter (HTTP 400: {exc}): exported without it")
                response = transport.retrying(attempt, retryable=True, what=what)
        except FatalNetworkError as exc:
            if request.level == "group" and exc.status in (404, 410):
                # like --group: a Group the server does not have is a usage error (exit 2), not an outage
                raise ConfigError(
                    f"--bulk group:{request.group}: the server has no Group {request.group!r} "
                    f"(HTTP {exc.status} at the kick-off); check the id (GET {redact(self.client.url('Group'))})"
                ) from None
            raise
        if response.status_code != 202:
            raise FatalNetworkError(
                f"{what}: the server answered HTTP {response.status_code}, not 202 Accepted - it does not run "
                "$export asynchronously (Bulk Data); check that the server supports $export at this level",
                url=redact(self.client.url(request.path)),
                status=response.status_code,
            )
        kicked_off_at = _http_date(response.headers.get("Date")) or _instant(
            dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc)  # type: ignore[misc]
        )
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "request": request.key(),
            "since": request.since,
            "server": self.client.base_url,
            "status_url": None,
            "kicked_off_at": kicked_off_at,
            "phase": "kicked-off",
            "manifest": None,
            "notes": notes,
        }
        location = response.headers.get("Content-Location")
        status_url, why = self._status_url_of(location)
        if why is not None or status_url is None:
            # the server started an export (202): remembered before it is refused, so that the next run
            # does not start another one and abandon it too - a proxy misconfiguration on a 15-minute
            # timer started 96 full exports a day (probe72 D8). Nothing is ever sent to this URL.
            state.update(phase="refused", refused_location=location, refused_status_url=status_url, refused=why)
            self.save_state(state)
            shown = self._shown_location(state)
            log.warning(
                "bulk export started, but its status URL %s is refused: %s",
                shown,
                why,
                extra=ev("bulk.status_url_refused", status_url=shown, error=why),
            )
            raise self._refusal(
                state,
                f"{what}: the server started a bulk export (202 Accepted), but its status URL {shown} is refused: "
                f"{why}; nothing was sent to it. The export is left running on the server (it expires there) and "
                f"remembered in {self.state_path}, so the next run starts no other one. ",
            )
        state["status_url"] = status_url
        self.save_state(state)  # before any wait: a crash from here on polls this URL again
        log.info(
            "bulk export started: %s",
            redact(status_url),
            extra=ev("bulk.kicked_off", status_url=redact(status_url), level=request.level, since=request.since),
        )
        return state

    def _status_url_of(self, location: str | None) -> tuple[str | None, str | None]:
        """The status URL a kick-off's Content-Location names and why it is refused (None: it is not)."""
        if not location:
            return None, "the 202 answer has no Content-Location header: there is no status URL to poll"
        status_url = urljoin(self.client.base_url + "/", location)
        why = _control_reason(location) or self.client.origin_problem(status_url)
        return status_url, self.client._scrub(why) if why is not None else None

    def _shown_location(self, state: dict[str, Any]) -> str:
        location = state.get("refused_location")
        if not location:
            return "(none)"
        shown = self.client._scrub(redact(str(location)))
        return repr(shown) if _control_reason(shown) or shown != shown.strip() else shown

    def _refusal(self, state: dict[str, Any], head: str) -> FatalNetworkError:
        text = head + (
            f"Polls carry the credentials, which go only to the configured server {self.client.base_url}. "
            "Fix --server (the URL the server uses in its links, e.g. its public address) or the proxy in front "
            "of it (it must pass the server's own Content-Location), then run again: a remembered status URL that "
            "is on the configured server then is polled; or run with --bulk-restart (export: --restart) to start "
            "a new export instead"
        )
        if state.get("refused_status_url") is None:
            return NoStatusUrlError(text)
        return StatusUrlRefusedError(text, url=self._shown_location(state))

    def _adopt_refused(self, state: dict[str, Any]) -> None:
        """A run after a kick-off whose status URL was refused: polled now if it may get the credentials
        (--server was fixed to the origin the server uses in its links); otherwise refused at once, with no
        new kick-off and nothing sent (probe72 D8)."""
        url, why = self._status_url_of(state.get("refused_location"))
        if url is None or why is not None:
            shown = self._shown_location(state)
            raise self._refusal(
                state,
                f"a bulk export started by an earlier run (kick-off at {state.get('kicked_off_at')}) was left "
                f"running on the server: its status URL {shown} is refused ({why or state.get('refused')}), so "
                f"nothing was sent to it and no new export is started while {self.state_path} remembers it. ",
            )
        for key in ("refused_location", "refused_status_url", "refused"):
            state.pop(key, None)
        state.update(status_url=url, phase="kicked-off", server=self.client.base_url)
        self.save_state(state)
        log.info(
            "bulk export: the status URL refused by an earlier run is on the configured server now: polling it",
            extra=ev("bulk.kicked_off", status_url=redact(url), level=state["request"].get("level"), since=None),
        )

    # ------------------------------------------------------------------ polling

    def _wait_for_manifest(self, state: dict[str, Any]) -> None:
        started = self.monotonic()  # type: ignore[misc]
        attempt = 0
        unreadable = 0  # 200 answers whose manifest did not parse (a proxy cut it): polled again
        url = state["status_url"]
        while True:
            try:
                response = self._poll_once(url)
            except TemporaryNetworkError as exc:
                if exc.status != 429 or isinstance(exc, RunDeadlineError):
                    raise
                # polled too often (and retried already): keep waiting, as the server asks
                response = requests.Response()
                response.status_code = 202
                if exc.retry_after is not None:
                    response.headers["Retry-After"] = str(int(exc.retry_after))
            if response.status_code == 200:
                try:
                    manifest = self._manifest(response, state)
                except TemporaryNetworkError as exc:
                    unreadable += 1
                    if unreadable >= MAX_UNREADABLE_MANIFESTS:
                        raise
                    log.warning(
                        "bulk export: %s; polling again",
                        exc,
                        extra=ev("bulk.manifest_unreadable", attempt=unreadable),
                    )
                    response = requests.Response()
                    response.status_code = 202  # waited for like an answer without Retry-After
                else:
                    state["manifest"] = manifest
                    state["phase"] = "downloading"
                    _write_json_atomic(self.folder / MANIFEST_FILE, self._scrubbed(manifest))
                    self.save_state(state)
                    return
            attempt += 1
            # a server may echo what it was sent: the token is never logged
            progress = self.client._scrub(response.headers.get("X-Progress") or "")
            now = self.clock()  # type: ignore[misc]
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now, response.headers.get("Date"))
            if retry_after:  # 0 or a time already past asks for no wait: the backoff below, not a hammer
                delay = min(max(retry_after, 0.1), self.poll_max_retry_after)
            else:
                step = min(self.poll_max, self.poll_base * 2 ** (attempt - 1))
                delay = step * (0.5 + min(max(self.rng(), 0.0), 1.0) / 2)  # type: ignore[misc]
            log.info(
                "bulk export in progress%s: next poll in %.1fs",
                f" ({progress[:80]})" if progress else "",
                delay,
                extra=ev("bulk.progress", progress=progress[:80], delay_s=round(delay, 3), polls=self.polls),
            )
            if self.monotonic() + delay - started > self.deadline:  # type: ignore[misc]
                raise RunDeadlineError(
                    f"the bulk export was not ready within {self.deadline:.0f} s; its status URL is saved in "
                    f"{self.state_path}: run again to continue polling the same export",
                    url=redact(url),
                    exhausted=True,
                )
            self.sleep(delay)  # type: ignore[misc]

    def _poll_once(self, url: str) -> requests.Response:
        self.polls += 1
        try:
            response = self.client.request("GET", url, headers={"Accept": "application/json"})
        except FatalNetworkError as exc:
            if exc.status in (404, 410):
                raise ExportGoneError(
                    f"the server no longer knows the bulk export at {redact(url)} (HTTP {exc.status}: expired or "
                    f"deleted); its files cannot be fetched. Start a new export with --bulk-restart (export: "
                    f"--restart); the state is in {self.state_path}",
                    url=redact(url),
                    status=exc.status,
                ) from None
            if isinstance(exc, PermissionDeniedError):
                # not a scope of a resource type (there is no "system/status.read"): this export's status
                # is not ours to read - started with other credentials, or $export needs a role (probe72 D12)
                said = re.search(r"\(HTTP 403 on \S+ \S+: (.*)\)\. The credentials", str(exc))
                raise PermissionDeniedError(
                    f"permission missing: the server refused to read the bulk export's status at {redact(url)} "
                    f"(HTTP 403{': ' + said.group(1) if said else ''}). The credentials are valid but not "
                    "allowed this export (started with other credentials, or $export needs a role of its "
                    "own): grant it, or start a new export with --bulk-restart (export: --restart)",
                    url=redact(url),
                    status=403,
                ) from None
            if isinstance(exc, AuthError) or exc.status is None or not 400 <= exc.status < 500:
                raise
            # Bulk Data: a 4xx from the status URL (with an OperationOutcome) is an export that failed; polling
            # it again fails the same way forever (probe72 D12)
            raise FatalNetworkError(
                f"the bulk export failed on the server: {exc}. Start a new one with --bulk-restart (export: "
                f"--restart) once the server is fixed; the state is in {self.state_path}",
                url=redact(url),
                status=exc.status,
            ) from None
        if response.status_code not in (200, 202):
            raise FatalNetworkError(
                f"GET {redact(url)} (export status) answered HTTP {response.status_code}: expected 202 "
                "(in progress) or 200 (complete)",
                url=redact(url),
                status=response.status_code,
            )
        return response

    def _manifest(self, response: requests.Response, state: dict[str, Any]) -> dict[str, Any]:
        """The completed export's manifest, checked before anything is downloaded or deleted: an
        answer that lists no files, or a file without a URL, is an unusable export (exit 3, the job
        kept on the server), never an empty one - an empty one would move the checkpoint past data
        that were never read. Missing optional fields are quirks handled later (_download_all)."""
        where = f"GET {redact(state['status_url'])}"
        try:
            manifest = response_json(response)
        except ValueError:
            raise TemporaryNetworkError(
                f"{where}: the export manifest is not JSON ({self.client._scrub(outcome_text(response))})",
                url=redact(state["status_url"]),
                status=200,
            ) from None
        if isinstance(manifest, dict) and manifest.get("resourceType") == "OperationOutcome":
            raise FatalNetworkError(
                f"{where}: the bulk export failed on the server: {self.client._scrub(outcome_text(response))}. "
                "Start a new one with --bulk-restart (export: --restart) once the server is fixed",
                url=redact(state["status_url"]),
                status=200,
            )
        problem = _manifest_problem(manifest)
        if problem:
            raise FatalNetworkError(
                f"{where}: the export manifest is unusable: {problem}; nothing was downloaded and the export "
                "was left on the server",
                url=redact(state["status_url"]),
                status=200,
            )
        return manifest  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ downloads

    def _entries(self, manifest: dict[str, Any], notes: list[str]) -> list[tuple[str, int, dict[str, Any]]]:
        """(kind, index, entry) of every file listed: output, error and deleted."""
        out: list[tuple[str, int, dict[str, Any]]] = []
        for kind in ("output", "error", "deleted"):
            entries = manifest.get(kind)
            if entries is None:
                continue
            if not isinstance(entries, list):  # a manifest saved before _manifest_problem refused these
                raise FatalNetworkError(
                    f"the export manifest's '{kind}' is not a list: its files cannot be fetched; "
                    "start a new export with --bulk-restart (export: --restart)"
                )
            for i, entry in enumerate(entries):
                if isinstance(entry, dict) and isinstance(entry.get("url"), str):
                    out.append((kind, i, entry))
                else:  # a manifest saved before _manifest_problem refused these
                    raise FatalNetworkError(
                        f"the export manifest's {kind}[{i}] has no url: that file cannot be fetched; "
                        "start a new export with --bulk-restart (export: --restart)"
                    )
        return out

    def _target(self, kind: str, index: int, entry: dict[str, Any]) -> Path:
        value = entry.get("type")
        rtype = value if isinstance(value, str) and _TYPE_NAME.match(value) else "Unknown"
        sub = {"output": "data", "error": "errors", "deleted": "deleted"}[kind]
        return self.folder / sub / f"{index:05d}.{rtype}.ndjson"

    def _journal(self) -> dict[str, dict[str, Any]]:
        done: dict[str, dict[str, Any]] = {}
        try:
            lines = (self.folder / JOURNAL_FILE).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return done
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: that file is fetched again
            if isinstance(rec, dict) and isinstance(rec.get("file"), str):
                done[rec["file"]] = rec
        return done

    def _complete(self, path: Path, rec: dict[str, Any] | None, entry: dict[str, Any] | None = None) -> bool:
        """Whether ``path`` is complete: on disk as journaled, and holding as many resources as the
        manifest's `count` says (a file short of it is fetched again by the next run)."""
        count = manifest_count(entry) if entry is not None else None
        received = _resources(rec) if rec is not None else None
        if count is not None and received is not None and received != count:
            return False
        try:
            return rec is not None and path.stat().st_size == rec.get("size")
        except OSError:
            return False

    def _download_all(self, state: dict[str, Any], resumed: bool) -> ExportResult:
        manifest: dict[str, Any] = state["manifest"]
        self._status_url = state["status_url"]
        notes: list[str] = list(state.get("notes") or [])  # the kick-off's
        transaction_time = manifest.get("transactionTime")
        if not is_instant(transaction_time):
            # the next run's _since: a value the server cannot read would fail every later run
            what = (
                "no transactionTime" if transaction_time in (None, "") else "a transactionTime that is not an instant"
            )
            transaction_time = state.get("kicked_off_at")
            notes.append(f"the manifest has {what}: the kick-off time {transaction_time} is used instead")
        request_url = manifest.get("request")
        if (
            isinstance(request_url, str)
            and request_url.startswith(self.client.base_url)
            and not request_url[len(self.client.base_url) :].startswith("/")
        ):
            notes.append("the manifest's request lacks the '/' after the base (a known server bug): ignored")
        requires = manifest.get("requiresAccessToken")
        if not isinstance(requires, bool):
            notes.append(
                "the manifest does not say requiresAccessToken: the token goes only to files on the server's origin"
            )
        entries = self._entries(manifest, notes)
        journal = self._journal()
        result = ExportResult(
            folder=self.folder,
            data_dir=self.data_dir,
            status_url=state["status_url"],
            transaction_time=transaction_time,
            since=state.get("since"),
            resumed=resumed,
            notes=notes,
        )
        todo = []
        for kind, index, entry in entries:
            target = self._target(kind, index, entry)
            rel = str(target.relative_to(self.folder))
            if not self._complete(target, journal.get(rel), entry):
                todo.append((target, entry, rel))
        for sub in ("data", "errors", "deleted"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
            for stale in (self.folder / sub).glob("*.part"):
                stale.unlink(missing_ok=True)  # a download cut by a crash
        if todo:
            try:
                self._fetch_parallel(todo, requires)
            except SignedUrlRefusedError:
                # pre-signed URLs expire (Medplum: after ~1 h): a resumed run may hold stale ones. The
                # status URL answers the manifest again, freshly signed; once, then the refusal stands.
                fresh = self._fresh_manifest(state, entries, notes)
                if fresh is None:
                    raise
                entries = fresh
                todo = [
                    (self._target(k, i, e), e, str(self._target(k, i, e).relative_to(self.folder)))
                    for k, i, e in entries
                ]
                journal = self._journal()
                todo = [t for t in todo if not self._complete(t[0], journal.get(t[2]), t[1])]
                self._fetch_parallel(todo, state["manifest"].get("requiresAccessToken"))
        result.downloaded = len(todo)
        journal = self._journal()
        for kind, index, entry in entries:
            target = self._target(kind, index, entry)
            rec = journal.get(str(target.relative_to(self.folder)), {})
            if kind == "output":
                result.files += 1
                result.bytes += int(rec.get("size", 0))
                count, lines = manifest_count(entry), _resources(rec)
                if count is not None and lines is not None and lines != count:
                    result.errors.append(
                        f"{target.name}: {lines:,} resource(s) received, the manifest says {count:,} (fetched twice): "
                        "the file is read as it is; the next run fetches it again"
                    )
                    result.error_count += 1
                    result.short_files.append(target.name)
                self._unreadable(target.name, rec, result)
            elif kind == "error":
                before = result.error_count
                self._read_errors(target, result)
                if result.error_count == before:
                    # the server announced errors and the file says nothing: a proxy may have eaten it (probe72 D19)
                    notes.append(
                        f"the error file {target.name} listed in the manifest is empty: the server named no issue in it"
                    )
            else:
                result.deleted_files += 1
        for note in notes:
            log.warning("bulk export: %s", note, extra=ev("bulk.quirk", note=note))
        return result

    @staticmethod
    def _unreadable(name: str, rec: dict[str, Any], result: ExportResult) -> None:
        """The lines of a data file that are no resource: each a problem (exit 1), never silently skipped -
        the resource it held is lost to this export (probe72 D6)."""
        count = rec.get("unreadable")
        if not isinstance(count, int) or count <= 0:
            return
        at_lines = rec.get("unreadable_at")
        listed: list[Any] = at_lines if isinstance(at_lines, list) else []
        texts = [
            f"{name}:{at[0]}: {at[1]} - no resource the reader can read: it is skipped, lost to this export"
            for at in listed
            if isinstance(at, list) and len(at) == 2
        ]
        if count > len(texts):
            texts.append(f"{name}: {count - len(texts)} more line(s) that are no resource")
        result.unreadable_count += count
        result.unreadable += texts
        for text in texts:
            BulkExporter._add_error(result, text)

    def _fresh_manifest(
        self, state: dict[str, Any], entries: list[tuple[str, int, dict[str, Any]]], notes: list[str]
    ) -> list[tuple[str, int, dict[str, Any]]] | None:
        """The manifest asked for again; used only when it lists the same files (kinds, order, types)."""
        try:
            response = self._poll_once(state["status_url"])
        except NetworkError:
            return None
        if response.status_code != 200:
            return None
        manifest = self._manifest(response, state)
        fresh = self._entries(manifest, [])
        if [(k, i, e.get("type")) for k, i, e in fresh] != [(k, i, e.get("type")) for k, i, e in entries]:
            return None
        state["manifest"] = manifest
        _write_json_atomic(self.folder / MANIFEST_FILE, self._scrubbed(manifest))
        self.save_state(state)
        notes.append("download URLs were refused (expired?): the manifest was fetched again, freshly signed")
        return fresh

    def _fetch_parallel(self, todo: list[tuple[Path, dict[str, Any], str]], requires: Any) -> None:
        transport = self._download_transport(len(todo))
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=min(self.parallel, len(todo)))
        try:
            futures: list[Future[None]] = [
                pool.submit(self._download, transport, target, entry, rel, requires, stop)
                for target, entry, rel in todo
            ]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in done if f.exception() is not None), None)
            if failed is not None:
                for f in pending:
                    f.cancel()
                wait(pending)
                raise failed.exception()  # type: ignore[misc]
        except BaseException:
            # SIGTERM (SystemExit) or Ctrl-C in the main thread, or a failed file: the queued files are
            # not started and the running ones stop at their next chunk (their .part is removed), so
            # the command ends at once - not after every remaining file, as leaving the pool would
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _download_transport(self, files: int) -> Transport:
        """The same session, clock and statistics; a longer per-exchange deadline and a retry budget
        that grows with the number of files (thousands of tiny files, each may meet a 429)."""
        t = self.client.transport
        return Transport(
            session=t.session,
            retry=RetryPolicy(
                attempts=t.retry.attempts,
                base_delay=t.retry.base_delay,
                max_delay=t.retry.max_delay,
                max_retry_after=t.retry.max_retry_after,
                budget=max(t.retry.budget, 5 * files),
            ),
            deadlines=Deadlines(
                connect=t.deadlines.connect,
                read=t.deadlines.read,
                request=self.download_deadline,
                run=t.deadlines.run,
            ),
            sleep=self.sleep,  # type: ignore[arg-type]
            clock=self.clock,  # type: ignore[arg-type]
            monotonic=self.monotonic,  # type: ignore[arg-type]
            rng=self.rng,  # type: ignore[arg-type]
            stats=t.stats,
        )

    def _may_carry_token(self, url: str) -> bool:
        try:
            self.client.check_origin(url)
        except ForeignHostError:
            return False
        return True

    def _download(
        self,
        transport: Transport,
        target: Path,
        entry: dict[str, Any],
        rel: str,
        requires: Any,
        stop: threading.Event | None = None,
    ) -> None:
        url = urljoin(self._status_url, entry["url"])  # absolute as the spec says; relative ones resolved
        shown = redact(url)
        reason = _control_reason(entry["url"]) or unsafe_reason(url)
        if reason:
            raise ForeignHostError(f"refusing the export file {shown}: {reason}; nothing was sent", url=shown)
        same_origin = self._may_carry_token(url)
        if requires is True and not same_origin:
            raise ForeignHostError(
                f"the export file {shown} needs the access token (requiresAccessToken: true) but is not on the "
                f"FHIR server's origin: the token goes only to {self.client.base_url}, so it was not downloaded",
                url=shown,
            )
        with_token = same_origin and requires is not False
        what = f"GET {shown}"
        reauthorised = False

        def attempt() -> None:
            nonlocal reauthorised
            current, token = url, with_token
            for _hop in range(MAX_REDIRECTS + 1):
                if stop is not None and stop.is_set():
                    raise _Stopped
                writer = _FileWriter(target)

                def write(chunk: bytes, writer: _FileWriter = writer) -> None:
                    if stop is not None and stop.is_set():
                        raise _Stopped  # not an Exception: no retry catches it
                    writer.write(chunk)

                try:
                    response = transport.send(
                        self._prepare(current, token),
                        what=what,
                        write=write,
                        request_deadline=self.download_deadline,
                    )
                    status = response.status_code
                    if 200 <= status < 300 and _is_html(response):
                        # a proxy's login or error page answered with 200: not the file, whatever its name
                        raise FatalNetworkError(
                            f"{what} answered an HTML page instead of the NDJSON file (a proxy's login or error "
                            "page?); it was not kept",
                            url=shown,
                            status=status,
                        )
                    if 200 <= status < 300 and (wrong := _not_ndjson(writer.head, str(entry.get("type") or ""))):
                        raise FatalNetworkError(
                            f"{what} answered {wrong} instead of the NDJSON file (a storage error page?); it was "
                            "not kept - the export is kept and the next run fetches it again",
                            url=shown,
                            status=status,
                        )
                    if 200 <= status < 300:
                        writer.finish()
                        if target.parent.name == "errors":
                            self._scrub_error_file(writer)
                        self._record(rel, writer)
                        received.append(writer.resources)
                        return
                except BaseException:
                    writer.abort()
                    raise
                writer.abort()
                if status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                    location = response.headers["Location"]
                    current = urljoin(current, location)
                    why = _control_reason(location) or unsafe_reason(current)
                    if why:
                        raise ForeignHostError(
                            f"{what} redirected to {redact(current)}: {why}; nothing was sent", url=shown
                        )
                    token = False  # never across a redirect, to any origin
                    continue
                if status == 401 and token and not reauthorised and self.client.auth.refresh():
                    reauthorised = True
                    continue
                raise self._download_error(what, response, token)
            raise FatalNetworkError(f"{what}: more than {MAX_REDIRECTS} redirects", url=shown)

        received: list[int] = []
        transport.retrying(attempt, retryable=True, what=what)
        count = manifest_count(entry)
        if count is not None and received[-1] != count:
            # cut short at a line's end (no Content-Length to tell): fetched once more; a second
            # answer that still differs is kept and reported (_download_all)
            log.warning(
                "%s: %d resource(s) received, the manifest says %d: fetching it again",
                shown,
                received[-1],
                count,
                extra=ev("bulk.count_mismatch", received=received[-1], count=count),
            )
            transport.retrying(attempt, retryable=True, what=what)

    def _prepare(self, url: str, token: bool) -> requests.PreparedRequest:
        headers = {"Accept": NDJSON, "Accept-Encoding": "gzip"}
        if token:
            headers.update(self.client.auth.headers())
        prepared = self.client.session.prepare_request(
            requests.Request("GET", url, headers=headers, auth=self.client.auth.basic() if token else None)
        )
        if not token:
            prepared.headers.pop("Authorization", None)  # nothing from the session either
        elif not self._may_carry_token(prepared.url or ""):
            raise ForeignHostError(f"refusing {redact(prepared.url or '')}: not the server's origin", url=redact(url))
        self._refuse_own_secret(url, prepared.url or "")
        reason = unsafe_reason(prepared.url or "")
        if reason:
            raise ForeignHostError(f"refusing {redact(prepared.url or '')}: {reason}", url=redact(url))
        return prepared

    def _refuse_own_secret(self, url: str, sent: str) -> None:
        """A URL off the server's origin that holds our own secret (`?access_token=<our token>`: a server
        that signs its download URLs with the token it was sent) would carry the token there in the URL
        itself, with or without an Authorization header (probe72 D10): refused, nothing is sent. The
        secret is recognised as it is masked in messages (whole, cut, encoded, in another case)."""
        if self.client._scrub(url) == url and self.client._scrub(sent) == sent:
            return
        if self._may_carry_token(sent):
            return  # back to the configured server, which knows its own token
        shown = self.client._shown(url)
        raise OwnSecretInUrlError(
            f"refusing the export file {shown}: its URL holds our own access token (or another secret of "
            f"ours) and is not on the FHIR server's origin - the token goes only to {self.client.base_url}, "
            "so nothing was sent. The server (or the storage behind it) puts the token it was sent into its "
            "download links: configure it to sign them with a key of its own, or to serve the files on its own "
            "origin",
            url=shown,
        )

    def _download_error(self, what: str, response: requests.Response, token: bool) -> NetworkError:
        status = response.status_code
        text = f"{what} failed: HTTP {status}: {self.client._scrub(outcome_text(response))}"
        if status in (408, 429, 500, 502, 503, 504):
            return TemporaryNetworkError(
                text,
                url=redact(response.url or ""),
                status=status,
                retry_after=parse_retry_after(
                    response.headers.get("Retry-After"),
                    self.clock(),  # type: ignore[misc]
                    response.headers.get("Date"),
                ),
            )
        if status == 404 or (status == 410 and token):
            text += (
                " - the server no longer has the export's file (expired, or deleted on the server?); "
                "run again with --bulk-restart (export: --restart) for a new export"
            )
        if status in (401, 403, 410) and not token:
            text += (
                " - the pre-signed download URL was refused (expired or invalid signature?); "
                "run again with --bulk-restart (export: --restart) for a new export"
            )
            return SignedUrlRefusedError(text, url=redact(response.url or ""), status=status)
        return FatalNetworkError(text, url=redact(response.url or ""), status=status)

    def _scrub_error_file(self, writer: _FileWriter) -> None:
        """An error file is the server's text about our request: a token it echoes there is masked on disk
        too, "never written to the folder" (probe72 D2); the journal records the file as stored."""
        if writer.size > MAX_LINE_BYTES:
            return  # not an error report one reads; left as received
        data = writer.final.read_bytes()
        text = data.decode("utf-8", "surrogateescape")
        scrubbed = self.client._scrub(text)
        if scrubbed == text:
            return
        body = scrubbed.encode("utf-8", "surrogateescape")
        tmp = writer.part
        with open(tmp, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, writer.final)
        writer.size, writer.sha = len(body), hashlib.sha256(body)

    def _record(self, rel: str, writer: _FileWriter) -> None:
        rec = {
            "file": rel,
            "size": writer.size,
            "sha256": writer.sha.hexdigest(),
            "lines": writer.lines,
            "resources": writer.resources,
            "unreadable": writer.unreadable,
            "unreadable_at": writer.unreadable_at,
        }
        line = json.dumps(rec) + "\n"
        with self._lock:
            with open(self.folder / JOURNAL_FILE, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        self.downloaded(rel)

    def downloaded(self, rel: str) -> None:
        """Called after each file is complete on disk and in the journal (a hook for tests)."""

    # ------------------------------------------------------------------ error files

    def _read_errors(self, path: Path, result: ExportResult) -> None:
        """Each OperationOutcome line of an error file: every issue reported (streamed, line by line)."""
        try:
            f = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError as exc:
            result.errors.append(f"{path.name}: cannot read: {exc.strerror}")
            result.error_count += 1
            return
        with f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    doc = _loads(line)  # deep nesting is a ValueError too (json.loads: RecursionError)
                except ValueError:
                    self._add_error(result, f"{path.name}:{lineno}: not JSON")
                    continue
                issues = doc.get("issue") if isinstance(doc, dict) else None
                if not isinstance(issues, list) or not issues:
                    self._add_error(result, f"{path.name}:{lineno}: an error entry without issues")
                    continue
                for issue in issues:
                    if not isinstance(issue, dict):
                        continue
                    details: dict[str, Any] = issue["details"] if isinstance(issue.get("details"), dict) else {}
                    text = issue.get("diagnostics") or details.get("text") or issue.get("code") or "no details"
                    if issue.get("severity") not in ("warning", "information"):
                        result.failed_resources += 1
                    # the server's text: a token it echoes is masked before it reaches the summary (probe72 D2)
                    severity = self.client._scrub(str(issue.get("severity", "error"))[:40])
                    self._add_error(result, f"{path.name}:{lineno}: {severity}: {self.client._scrub(str(text))[:300]}")

    @staticmethod
    def _add_error(result: ExportResult, text: str) -> None:
        result.error_count += 1
        if len(result.errors) < 1000:
            result.errors.append(text)

    # ------------------------------------------------------------------ delete

    def _delete(self, state: dict[str, Any]) -> bool:
        """DELETE the status URL: the server may free the files. A failure is only a warning."""
        url = state["status_url"]
        try:
            self.client.request("DELETE", url)
        except NetworkError as exc:
            if exc.status in (404, 410):
                return True
            log.warning(
                "could not delete the bulk export on the server: %s",
                exc,
                extra=ev("bulk.delete_failed", status_url=redact(url), error=str(exc)),
            )
            return False
        log.info("bulk export deleted on the server", extra=ev("bulk.deleted", status_url=redact(url)))
        return True


#: 200 answers of the status URL whose body does not parse, polled again before the run fails
MAX_UNREADABLE_MANIFESTS = 3

_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")


def is_instant(value: Any) -> bool:
    """A FHIR instant (seconds and a time zone required) that is also a real calendar time."""
    if not isinstance(value, str) or not _INSTANT.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # 2026-02-30, 25:00, +24:00
        return False
    return True


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _control_reason(ref: str) -> str | None:
    """Why a URL as the server wrote it must not be used: urljoin drops a TAB, CR or LF silently (Python's
    WHATWG-style cleaning), so the joined URL no longer shows what the origin rule refuses (probe72 D11)."""
    return "it contains a control character (a TAB, a line break)" if _CONTROL.search(ref) else None


def _is_html(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower() in (
        "text/html",
        "application/xhtml+xml",
    )


def _manifest_problem(manifest: Any) -> str | None:
    """Why a completed export's answer is not a usable manifest (None: it is)."""
    if not isinstance(manifest, dict):
        return "it is not a JSON object"
    if not isinstance(manifest.get("output"), list):
        return "it has no 'output' list (required by Bulk Data; an export with no data lists an empty one)"
    for kind in ("output", "error", "deleted"):
        entries = manifest.get(kind)
        if entries is None:
            continue  # an optional member left out (or null): no such files
        if not isinstance(entries, list):
            # an error file (or a deleted Bundle) listed outside a list: read as "no errors", the
            # export was a success without it (probe72 D4)
            what = {dict: "an object", str: "a string", bool: "a boolean"}.get(type(entries), "a number")
            return f"its '{kind}' is {what}, not a list (the files it names could not be fetched)"
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str) or not entry["url"]:
                return f"{kind}[{i}] has no url (that file could not be fetched)"
    return None


def _describe(key: dict[str, Any]) -> str:
    level = key.get("level")
    text = f"group:{key.get('group')}" if level == "group" else str(level)
    return text + (f", since {key['since']}" if key.get("since") else "")


def export_types(types: Iterable[str] | None = None) -> list[str]:
    return sorted(types or RELEVANT_TYPES)
