# SPDX-License-Identifier: Apache-2.0
"""Read files into a disk-backed spool and hand out one patient's record at a time (issue #11).

``read_paths`` keeps every parsed resource of the input in memory (≈ 13x the input). Here each
file is streamed once (NDJSON line by line; a Bundle file whole, it is bounded already), each
relevant resource is decoded with orjson, checked at the boundary exactly as ``read_paths`` does,
and written to an SQLite file in a temporary folder together with what grouping needs (key,
subject, the patient it names, where it was read). Grouping then runs mostly inside SQLite:
duplicate keys, ``urn:uuid`` fullUrls, conditional ``Patient?identifier=`` subjects and every
reading rule of ``read_paths`` are replayed in the same order, so the patients, their resources
(in the same order) and the errors are the same. ``record(patient)`` decodes only that patient's
rows; references to shared resources (a Medication, a Specimen) are looked up in the store.

Why SQLite: it is in the standard library (no new dependency, no server), an append-only table
with journal and fsync off takes a few hundred thousand rows a second, and a per-patient B-tree
index gives point lookups for one record, which a forked worker reads through its own connection.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from .binaries import inline_input_binaries
from .resource_types import is_resource_type, type_problem
from ..sync.events import ev
from .json_codec import dump as _dump
from .json_codec import load as _load
from .json_codec import long_digits as _long_digits
from .strict_json import DuplicateKey, check_keys
from .boundary import MAX_DEPTH, Invalid, plain_identity_fields, validate, validate_identity
from . import read as _read
from .read import (
    _AS_PARENS,
    claimed_patient,
    file_too_large,
    line_too_long,
    relative_reference,
    list_always,
    merge_problems,
    over_limit,
    patient_merges,
    REFERENCED_ONLY,
    not_a_patient,
    own_key,
    patient_reference,
    refused_patient_key,
    _TYPE_NAME,
    MAX_PARSE_DEPTH,
    MAX_RESOURCES_PER_PATIENT,
    PatientIdentifiers,
    FILE_TYPES,
    stored_binary,
    Prune,
    InputError,
    PatientRecord,
    ProblemList,
    Raw,
    ResourceIndex,
    SourceError,
    _decode,
    BOM,
    refuse_repeated_keys,
    _irrelevant_line,
    _loads,
    json_skeleton,
    nested_too_deeply,
    not_utf8_line,
    HEAD_BYTES,
    open_regular,
    refused_file,
    _may_be_deep,
    _newer,
    _properly_nested_within,
    _stamp,
    _unpack,
    contested_copies,
    other_subject_copy,
    parse_bundle_file,
    ambiguous_full_url,
    identity_only,
    is_own_output,
    iter_input_files,
    printable_path,
    pruned,
    subject_of,
)

log = logging.getLogger(__name__)

_NDJSON = (".ndjson", ".jsonl")
_BATCH = 2000
_LONG_DIGITS_TEXT = re.compile(r"[0-9]{19}")


# read._TYPE on bytes; ``\s`` of a str pattern also matches \x1c-\x1f in ASCII text
_TYPE_BYTES = re.compile(rb'"resourceType"[\s\x1c-\x1f]*:[\s\x1c-\x1f]*"([A-Za-z]+)"')
_KIND_KEYED, _KIND_ANONYMOUS, _KIND_CLASHING = 0, 1, 2


class PatientSource(Protocol):
    """Patient records built on demand; the input is not held in memory."""

    files: int
    resources: int
    skipped_types: int

    @property
    def errors(self) -> list[SourceError]:
        """What could not be read, in reading order (a ProblemList: the first ones listed)."""
        ...

    def patients(self) -> list[str]: ...

    def record(self, patient: str) -> PatientRecord | None: ...

    def for_worker(self) -> PatientSource: ...

    def close(self) -> None: ...


def _parse(data: str | bytes, brackets: int | None = None) -> Any:
    """orjson where it reads exactly what json.loads reads; json.loads (and its messages) otherwise.
    ``data``: an NDJSON line (bytes) or a whole file's text; ``brackets``: its "{" and "[" if known."""
    if brackets is None:
        brackets = data.count("{") + data.count("[") if isinstance(data, str) else data.count(b"{") + data.count(b"[")
    if brackets > MAX_PARSE_DEPTH:
        parsed = _parse_cleared(data)
        if parsed is not _UNCLEARED:
            check_keys(data, parsed)  # a key given twice: DuplicateKey (strict_json, probe99 D1)
            return parsed
    # a large text's string-free copy serves the depth and the long-number checks, then is dropped
    skeleton = json_skeleton(data) if brackets > MAX_PARSE_DEPTH else None
    if nested_too_deeply(data, brackets, skeleton):
        raise ValueError("nested too deeply")  # read._loads' rule, decided before either parser
    if skeleton is not None:
        long_number = _long_digits(skeleton)
    elif isinstance(data, str):
        long_number = bool(_LONG_DIGITS_TEXT.search(data))
    else:
        long_number = _long_number(data)
    skeleton = None  # a third of a large Bundle's size: not held while it is parsed
    if not long_number:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # NaN, 1e400, lone surrogates, depth: json.loads decides, with its message
        else:
            check_keys(data, parsed)
            return parsed
    return _loads(data if isinstance(data, str) else data.decode("utf-8"), depth_checked=True)


_UNCLEARED = object()
#: every byte but the quote, the brackets and what a number outside strings is made of
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"{}[],.-0123456789')


def _parse_cleared(data: str | bytes) -> Any:
    """orjson's reading of a large text (a Bundle file) that cheap checks clear: no number of 19+
    digits outside strings and at most MAX_PARSE_DEPTH deep; else _UNCLEARED (then _parse's exact
    checks decide). The checks read a reduced copy: escaped backslashes and quotes taken out, then
    every byte but quotes, brackets, commas and number characters, then every string. That is exact
    for valid JSON (a letter of an exponent joins digits: only ever a false alarm), and the answer is
    only used when orjson reads the text, which proves it valid. json_skeleton's regular expression
    over a whole Bundle cost more than orjson; Synthea's narratives carry 19-digit seeds in strings."""
    blob = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    reduced = blob.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    # every other piece between quotes is outside the strings, where the quotes pair up (valid JSON);
    # a third of a regular expression's cost. Where they do not, orjson refuses the text anyway
    structure = b"".join(reduced.split(b'"')[::2])
    if _long_digits(structure):
        return _UNCLEARED
    if not _properly_nested_within(structure.translate(_AS_PARENS, b",.-0123456789"), MAX_PARSE_DEPTH):
        return _UNCLEARED
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _UNCLEARED


def _long_number(data: bytes) -> bool:
    """A run of 19+ digits outside JSON strings (digits inside a string, an identifier or base64
    text, read the same in either parser)."""
    return _long_digits(data) and _long_digits(json_skeleton(data))


def _irrelevant_ascii(chunk: bytes) -> bool:
    """read._irrelevant_line on an ASCII line, without decoding it."""
    if chunk.count(b'"resourceType"') != 1:
        return False
    m = _TYPE_BYTES.match(chunk, chunk.find(b'"resourceType"'))
    return m is not None and m.group(1) not in _READ_TYPES and is_resource_type(m.group(1).decode("ascii"))


#: FILE_TYPES and Bundle (unpacked), as bytes: an ASCII line's type is looked up undecoded
_READ_TYPES = frozenset(t.encode("ascii") for t in (*FILE_TYPES, "Bundle"))


def iter_file(
    path: Path, errors: list[SourceError], take: Take | None = None
) -> Iterator[tuple[dict[str, Any], str, str | None, bool]]:
    """read._iter_file, streamed: (resource, origin, fullUrl, may_be_deep), problems into ``errors``;
    ``take``: see _ndjson_lines."""
    name = printable_path(path)
    ndjson = path.suffix.lower() in _NDJSON
    try:
        f = open_regular(path)
    except OSError as exc:
        errors.append(SourceError(name, f"cannot read file: {exc.strerror or exc}"))
        return
    with f:
        try:
            head = f.read(HEAD_BYTES)
            if (refused := refused_file(name, head, ndjson)) is not None:
                errors.append(refused)
                return
            f.seek(0)
            if not ndjson:
                if os.fstat(f.fileno()).st_size > _read.MAX_BUNDLE_FILE_BYTES:
                    errors.append(file_too_large(name))
                    return
                data = f.read()
        except OSError as exc:
            errors.append(SourceError(name, f"cannot read file: {exc.strerror or exc}"))
            return
        if not ndjson:
            yield from _bundle_file(data, name, errors)
            return
        try:
            yield from _ndjson_lines(f, name, errors, take=take)
        except OSError as exc:
            errors.append(SourceError(name, f"cannot read file: {exc.strerror or exc}"))


def _bundle_file(
    data: bytes, name: str, errors: list[SourceError]
) -> Iterator[tuple[dict[str, Any], str, str | None, bool]]:
    try:
        text = _decode(data)
    except UnicodeError as exc:
        errors.append(SourceError(name, f"cannot read file: {exc}"))
        return
    parsed = parse_bundle_file(text, name, errors, _parse)
    if parsed is not None:
        yield from _unpack(parsed, name, errors, _may_be_deep(text))


#: ``take(parsed, line, offset)``: True when the reader kept the line's resource itself
#: (_Spooler.take: a pruned stub recorded by its place in the file), so it is not yielded
Take = Callable[[Any, int, int], bool]


def _ndjson_lines(
    f: IO[bytes],
    name: str,
    errors: list[SourceError],
    first_line: int = 1,
    take: Take | None = None,
    offset: int = 0,
) -> Iterator[tuple[dict[str, Any], str, str | None, bool]]:
    # NDJSON separates records by "\n" only (binary line iteration splits on b"\n" alone);
    # ``first_line`` and ``offset``: where a byte range of the file starts (spool_parallel)
    for lineno, chunk in enumerate(_bounded_lines(f), first_line):
        at = offset
        if isinstance(chunk, int):  # a line past the limit: its length, not its bytes
            offset += chunk
            errors.append(line_too_long(f"{name}:{lineno}"))
            continue
        offset += len(chunk)
        # (a file read.refused_file refuses - UTF-16, compressed - never gets here: iter_file, _units_of)
        if chunk.startswith(BOM):  # at the start of any line: files joined with `cat` (probe99 D4)
            chunk = chunk[3:]
        if chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        if not chunk or chunk.isspace():  # `not chunk.strip()` without copying the line
            continue
        if chunk.isascii():
            if _irrelevant_ascii(chunk):
                continue
        else:
            try:
                line = chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(not_utf8_line(f"{name}:{lineno}", chunk, exc))
                continue
            if _irrelevant_line(line):
                continue
        brackets = chunk.count(b"{") + chunk.count(b"[")
        try:
            parsed = _parse(chunk, brackets)
        except DuplicateKey as exc:  # refused, or a Bundle line without its entries that repeat a key
            parsed = refuse_repeated_keys(exc.tree, f"{name}:{lineno}", errors)
            if parsed is None:
                continue
        except ValueError as exc:
            errors.append(SourceError(f"{name}:{lineno}", f"not JSON: {exc}"))
            continue
        deep = brackets > MAX_DEPTH
        if take is not None and not deep and take(parsed, lineno, at):
            continue
        if (
            isinstance(parsed, dict)
            and isinstance(parsed.get("resourceType"), str)
            and parsed["resourceType"] != "Bundle"
        ):
            yield parsed, f"{name}:{lineno}", None, deep
        else:
            yield from _unpack(parsed, f"{name}:{lineno}", errors, deep)


def _bounded_lines(f: IO[bytes]) -> Iterator[bytes | int]:
    """The file's lines, as iteration gives them; a line longer than read.MAX_LINE_BYTES (without its
    "\n") is read past in bounded pieces and given as its length in bytes instead (never whole in memory)."""
    limit = _read.MAX_LINE_BYTES + 1
    while True:
        chunk = f.readline(limit)
        if not chunk:
            return
        if len(chunk) < limit or chunk.endswith(b"\n"):
            yield chunk
            continue
        skipped = len(chunk)
        while chunk and not chunk.endswith(b"\n"):
            chunk = f.readline(1 << 20)
            skipped += len(chunk)
        yield skipped


_SCHEMA = """
CREATE TABLE res(
    seq INTEGER PRIMARY KEY,  -- order read (among resources kept at the boundary)
    kind INTEGER NOT NULL,    -- 0 keyed (the index of read_paths), 1 without key, 2 clashing copy
    pos INTEGER NOT NULL,     -- place in read_paths' order within its kind (a later version takes the first's)
    key TEXT,                 -- "Type/id", or the entry's fullUrl
    rtype TEXT NOT NULL,
    subject TEXT,
    origin TEXT NOT NULL,
    nerr INTEGER NOT NULL,    -- errors reported before this resource (to place its duplicate error)
    patient TEXT,             -- the group ("Patient/<id>", ...) once known
    data BLOB NOT NULL,       -- the resource after the boundary, as JSON
    stub INTEGER NOT NULL     -- 1: reduced to its identity (read.pruned), not part of a record
);
-- pruned stubs of the plainest shape (_Spooler.take), by their place in the input: most of an export
CREATE TABLE stubs(
    seq INTEGER PRIMARY KEY,  -- in the order of res.seq
    key TEXT NOT NULL,        -- "Observation/<id>"
    patient TEXT NOT NULL,    -- its subject, which is exactly "Patient/<id>"
    nerr INTEGER NOT NULL,
    file INTEGER NOT NULL,    -- files.id
    line INTEGER NOT NULL,
    at INTEGER NOT NULL       -- the byte offset of the line in the file
);
CREATE TABLE files(id INTEGER PRIMARY KEY, path BLOB NOT NULL, name TEXT NOT NULL);
-- every resource each fullUrl named, first read first: a fullUrl naming two is followed for neither
CREATE TABLE urls(url TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, nerr INTEGER NOT NULL,
                  origin TEXT NOT NULL, PRIMARY KEY (url, key));
-- the keys of Patients refused at the boundary that a fullUrl names (read.refused_patient_key)
CREATE TABLE refused(key TEXT PRIMARY KEY);
CREATE TABLE changes(seq INTEGER PRIMARY KEY, action INTEGER NOT NULL, pos INTEGER);
CREATE TABLE assign(seq INTEGER PRIMARY KEY, patient TEXT NOT NULL);
"""
_DELETE, _CLASH, _MOVE = 0, 1, 2
#: resources per patient, pruned stubs included: what the limit of resources per patient counts
_COUNTS = (
    "SELECT patient, count(*) FROM (SELECT patient FROM res WHERE patient IS NOT NULL "
    "UNION ALL SELECT patient FROM stubs) GROUP BY patient"
)
#: the same, a merged record's stubs counted as its survivor's (table ``merges``, probe79 D1)
_MERGED_COUNTS = (
    "SELECT patient, count(*) FROM (SELECT patient FROM res WHERE patient IS NOT NULL "
    "UNION ALL SELECT coalesce(m.new, s.patient) FROM stubs AS s LEFT JOIN merges AS m ON m.old = s.patient) "
    "GROUP BY patient"
)


#: the subject of a stub that _Spooler.take keeps: what read.relative_reference leaves as it is


def stub_identity(
    key: str, patient: str, line: int, at: int, path: bytes, f: IO[bytes] | None = None
) -> dict[str, Any] | None:
    """The identity of the stub that _Spooler.take recorded at byte ``at`` (line ``line``) of the
    file at ``path`` (``f``: that file, already open), read again; None when the line no longer
    holds that resource (the file changed while it was read)."""
    try:
        if f is None:
            with open(path, "rb") as opened:
                opened.seek(at)
                chunk = opened.readline()
        else:
            f.seek(at)
            chunk = f.readline()
        if chunk.startswith(BOM):
            chunk = chunk[3:]
        data = _parse(chunk.rstrip(b"\n"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or f"{data.get('resourceType')}/{data.get('id')}" != key
        or subject_of(data) != patient
    ):
        return None
    return identity_only(data)


class _Cleanup:
    """Remove the spool folder once, from the process that made it."""

    def __init__(self, folder: str) -> None:
        self.folder, self.pid = folder, os.getpid()

    def __call__(self) -> None:
        if os.getpid() == self.pid:
            shutil.rmtree(self.folder, ignore_errors=True)


class SpoolSource:
    """A PatientSource over an SQLite spool of the input (see the module docstring)."""

    def __init__(self, db_path: str, cleanup: weakref.finalize | None) -> None:
        self.db_path = db_path
        self.files = self.resources = self.skipped_types = 0
        self.readers = 1  # processes that read the input (fhir/spool_parallel.py)
        self.errors = ProblemList()
        self._cleanup = cleanup
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._patients: list[str] = []
        self._known: set[str] = set()
        self._patient_rows: dict[str, int] = {}  # patient key -> seq of its Patient resource
        self._has_urls = False
        self._has_stubs = False
        #: a merge (fhir/merges.py): retired record -> survivor, survivor -> retired records; a few
        #: entries per merged patient, whatever the size of the input (probe79 D1)
        self._merged_into: dict[str, str] = {}
        self._merged_from: dict[str, tuple[str, ...]] = {}
        self._round: frozenset[str] = frozenset()  # records whose links go round: merged into nobody

    # -- the PatientSource protocol

    def patients(self) -> list[str]:
        return list(self._patients)

    def record(self, patient: str) -> PatientRecord | None:
        if patient not in self._known:
            return None
        conn = self.connection()
        index = _StoreIndex(self)
        resources = []
        for key, origin, blob in conn.execute(
            "SELECT key, origin, data FROM res WHERE patient = ? AND stub = 0 ORDER BY kind, pos", (patient,)
        ):
            resources.append(Raw(_load(blob), origin, key))
        seq = self._patient_rows.get(patient)
        patient_resource = self._data(seq) if seq is not None else None
        record = PatientRecord(
            patient=patient,
            resources=resources,
            index=index,
            patient_resource=patient_resource,
            merged_into=self._merged_into.get(patient),
            merged_from=self._merged_from.get(patient, ()),
            links_go_round=patient in self._round,
        )
        inline_input_binaries(record)  # a note's text in a Binary the input carries (an export's, a Bundle's)
        return record

    def for_worker(self) -> SpoolSource:
        """A copy for a forked child: it opens its own read-only connection, and never removes the spool."""
        copy = SpoolSource.__new__(SpoolSource)
        copy.__dict__.update(self.__dict__)
        copy.errors = self.errors.copy()
        copy._conn, copy._cleanup, copy._pid = None, None, -1
        return copy

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a spawned worker, a task argument): the for_worker() copy, without handles."""
        return dict(self.for_worker().__dict__)

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
        if self._cleanup is not None:
            self._cleanup()

    def __enter__(self) -> SpoolSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- store access

    def connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            # a forked child must not use its parent's connection: it opens its own, read-only
            self._conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, check_same_thread=False)
            self._pid = os.getpid()
        return self._conn

    def _data(self, seq: int) -> dict[str, Any]:
        row = self.connection().execute("SELECT data FROM res WHERE seq = ?", (seq,)).fetchone()
        data: dict[str, Any] = _load(row[0])
        return data

    def lookup_key(self, key: str) -> dict[str, Any] | None:
        conn = self.connection()
        row = conn.execute("SELECT data FROM res WHERE key = ? AND kind = 0", (key,)).fetchone()
        if row:
            return _load(row[0])  # type: ignore[no-any-return]
        if not self._has_stubs:
            return None
        stub = conn.execute(
            "SELECT s.key, s.patient, s.line, s.at, f.path FROM stubs AS s JOIN files AS f ON f.id = s.file "
            "WHERE s.key = ?",
            (key,),
        ).fetchone()
        return stub_identity(*stub) if stub else None

    def lookup_shared(self, key: str) -> dict[str, Any] | None:
        """The copy of ``key`` that belongs to nobody (read.ResourceIndex.shared): kept, or clashing."""
        row = (
            self.connection()
            .execute(
                "SELECT data FROM res WHERE key = ? AND subject IS NULL AND rtype IN (?, ?, ?) "
                "AND kind IN (0, 2) ORDER BY kind, pos LIMIT 1",
                (key, *REFERENCED_ONLY),
            )
            .fetchone()
        )
        return _load(row[0]) if row else None  # type: ignore[no-any-return]

    def lookup_url(self, url: str) -> str | None:
        if not self._has_urls:
            return None
        row = self.connection().execute("SELECT key FROM urls WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None


REFERENCED_ONLY_PREFIXES = tuple(f"{t}/" for t in REFERENCED_ONLY)
# the queries below name REFERENCED_ONLY by three placeholders
assert len(REFERENCED_ONLY) == 3, "update the spool's REFERENCED_ONLY queries"  # noqa: S101


class _StoreIndex(ResourceIndex):
    """ResourceIndex whose lookups go to the spool (the record's own resources are in the record)."""

    def __init__(self, source: SpoolSource) -> None:
        super().__init__()
        self.source = source
        self._canon: dict[str, str | None] = {}
        self._found: dict[str, dict[str, Any] | None] = {}

    def canonical(self, reference: str | None) -> str | None:
        if not reference:
            return None
        if reference not in self._canon:
            self._canon[reference] = self.source.lookup_url(reference) or relative_reference(reference)
        return self._canon[reference]

    def lookup(self, key: str) -> dict[str, Any] | None:
        if key not in self._found:
            self._found[key] = self.source.lookup_key(key)
        return self._found[key]

    def lookup_shared(self, key: str) -> dict[str, Any] | None:
        if key.startswith(REFERENCED_ONLY_PREFIXES):  # only these can belong to nobody
            shared = f"shared:{key}"
            if shared not in self._found:
                self._found[shared] = self.source.lookup_shared(key)
            return self._found[shared]
        return None


class _Spooler:
    """read._Collector + read._group_by_patient, with the resources on disk."""

    def __init__(self, conn: sqlite3.Connection, source: SpoolSource, prune: Prune | None = None) -> None:
        self.conn = conn
        self.source = source
        self.prune = prune
        self.errors = source.errors
        self.seq = 0
        self.rows: list[tuple[Any, ...]] = []
        self.urls: list[tuple[str, str, int, int, str]] = []
        self.refused: list[tuple[str]] = []  # keys of refused Patients a fullUrl names (table ``refused``)
        self.canon: dict[str, str] = {}
        self.stubs: list[tuple[Any, ...]] = []
        self.file = 0  # files.id of the file being read

    def begin_file(self, file: int, path: Path) -> None:
        """Reading ``path`` (files.id ``file``) starts: stubs taken from it name it."""
        self.register_file(file, path)
        self.file = file

    def register_file(self, file: int, path: Path) -> None:
        name = printable_path(path)
        self.conn.execute(
            "INSERT OR IGNORE INTO files VALUES (?, ?, ?)", (file, os.fsencode(os.path.abspath(path)), name)
        )

    def take(self, data: Any, line: int, at: int) -> bool:
        """Keep a pruned stub as a row of ``stubs`` - key, patient, place in the file - instead of a
        resource (``add``): vitals no rule knows are most of an export, and the identity's check,
        encoding and row cost ~8 µs of the ~20 each took. Only the plainest shape, one that ``add``
        would store unchanged and group by its subject alone: an Observation the mapping cannot use
        (``prune``), with an id, a subject "Patient/<id>" and no identifier, whose identity the
        boundary accepts as it is. Anything else goes to ``add``. The identity is read again from the
        file in the rare case it is needed: a key read twice, a fullUrl subject (``_materialise``), a
        reference to it (``SpoolSource.lookup_key``)."""
        if self.prune is None or type(data) is not dict or data.get("resourceType") != "Observation":
            return False
        if "identifier" in data or "patient" in data:
            return False
        subject, rid = data.get("subject"), data.get("id")
        if type(subject) is not dict or type(rid) is not str:
            return False
        ref = subject.get("reference")
        if type(ref) is not str or not patient_reference(ref) or not self.prune(data):
            return False
        if not plain_identity_fields(data):
            return False
        self.source.resources += 1
        self.stubs.append((self.seq, f"Observation/{rid}", ref, len(self.errors), self.file, line, at))
        self.seq += 1
        if len(self.stubs) >= _BATCH:
            self.flush()
        return True

    def add(self, data: dict[str, Any], origin: str, full_url: str | None, deep: bool) -> None:
        rtype = data["resourceType"]
        if rtype not in FILE_TYPES:
            problem = type_problem(rtype, _TYPE_NAME.fullmatch(rtype) is not None)
            if problem:
                self.errors.append(SourceError(origin, problem))
            else:
                self.source.skipped_types += 1
            return
        rid = data.get("id")
        ref = own_key(rtype, rid, full_url)
        stub = pruned(data, self.prune)
        try:
            if stub is None:
                validate(data, check_depth=deep)
            else:
                data = validate_identity(stub, check_depth=deep)
        except Invalid as exc:
            refused = refused_patient_key(rtype, ref, full_url)
            self.errors.append(SourceError(origin, f"refused: {exc}", ref, patient=claimed_patient(data) or refused))
            if refused is not None and full_url:  # read._Collector: its resources stay its own (probe81 D2)
                self.refused.append((refused,))
                self.urls.append((full_url, refused, self.seq, len(self.errors), origin))
                self.seq += 1  # its place in reading order, for a fullUrl another entry also gives
            return
        if is_own_output(data):
            self.source.skipped_types += 1
            return
        if rtype == "Binary":
            data = stored_binary(data)
        key = ref or full_url
        if key is not None and full_url:
            self.urls.append((full_url, key, self.seq, len(self.errors), origin))
        subject = subject_of(data)
        patient = None
        # one reachable by reference only and without id is listed when the rest is grouped
        if subject and rtype != "Patient" and not (key is None and rtype in REFERENCED_ONLY):
            canon = self.canon.get(subject)
            if canon is None:
                if len(self.canon) > 100_000:  # a bound: subjects repeat within a patient's resources
                    self.canon.clear()
                canon = self.canon[subject] = relative_reference(subject)
            if patient_reference(canon):
                patient = canon
        seq = self.seq
        self.seq += 1
        kind = _KIND_KEYED if key is not None else _KIND_ANONYMOUS
        row = (seq, kind, seq, key, rtype, subject, origin, len(self.errors), patient, _dump(data), stub is not None)
        self.rows.append(row)
        if len(self.rows) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self.stubs:
            self.conn.executemany("INSERT INTO stubs VALUES (?,?,?,?,?,?,?)", self.stubs)
            self.source._has_stubs = True
            self.stubs = []
        if self.rows:
            self.conn.executemany("INSERT INTO res VALUES (?,?,?,?,?,?,?,?,?,?,?)", self.rows)
            self.rows = []
        if self.urls:
            self.conn.executemany("INSERT OR IGNORE INTO urls VALUES (?, ?, ?, ?, ?)", self.urls)  # the first read
            self.source._has_urls = True
            self.urls = []
        if self.refused:
            self.conn.executemany("INSERT OR IGNORE INTO refused VALUES (?)", self.refused)
            self.refused = []

    # -- after reading

    def finish(self, max_per_patient: int) -> None:
        self.flush()
        conn = self.conn
        conn.execute("CREATE INDEX res_key ON res(key)")
        if self.source._has_stubs:
            conn.execute("CREATE INDEX stubs_key ON stubs(key)")
            self._materialise()
        late = self._duplicates()
        if self.source._has_urls:
            late += self._ambiguous_urls()
            # a subject that is an entry's fullUrl names the resource the fullUrl stands for
            conn.execute(
                "UPDATE res SET patient = CASE WHEN u.key GLOB 'Patient/*' THEN u.key ELSE NULL END "
                "FROM urls AS u WHERE u.url = res.subject AND res.rtype != 'Patient' "
                "AND NOT (res.key IS NULL AND res.rtype IN (?, ?, ?))",  # listed by _group_the_rest
                REFERENCED_ONLY,
            )
        self._group_the_rest()
        # errors of duplicates go where read_paths reports them: in reading order
        # (position, seq, rank): a resource's fullUrl problem (rank 0) comes before its duplicate problem
        for at, _seq, _rank, error in sorted(late, key=lambda x: (x[0], x[1], x[2]), reverse=True):
            self.errors.insert(at, error)
        merged = self._merge_records()
        # stub in the index: a record's rows are one range of it, its pruned stubs never read
        conn.execute("CREATE INDEX res_patient ON res(patient, stub, kind, pos) WHERE patient IS NOT NULL")
        # a stub keeps the patient its line names (stub_identity checks it): a retired record's count
        # goes to its survivor here
        counts = dict(conn.execute(_MERGED_COUNTS if merged else _COUNTS).fetchall())
        keys = sorted(set(counts) | set(self.source._patient_rows))
        kept = []
        for p in keys:
            n = counts.get(p, 0)
            if n > max_per_patient:
                list_always(self.errors, over_limit(p, n, max_per_patient))
                continue
            kept.append(p)
        self.source._patients = kept
        self.source._known = set(kept)
        conn.commit()

    def _merge_records(self) -> bool:
        """read._group_by_patient's merges (probe79 D1): the resources of a record a merge retired go to
        its survivor, in one pass over the rows (table ``merges``). Only Patients that have links are
        decoded; the map holds one entry per merged record. True when some record was merged."""
        conn, rows = self.conn, self.source._patient_rows
        links = (
            (key, _load(blob).get("link"))
            for seq, key, blob in conn.execute(
                "SELECT seq, key, data FROM res WHERE rtype = 'Patient' AND key IS NOT NULL AND instr(data, ?) > 0",
                (b'"link"',),
            )
            if rows.get(key) == seq  # the copy grouping kept
        )
        merges = patient_merges(list(links), rows, _StoreIndex(self.source))
        self.errors.extend(merge_problems(merges))
        self.source._round = merges.going_round
        if not merges.into:
            return False
        self.source._merged_into, self.source._merged_from = merges.into, merges.replaced()
        conn.execute("CREATE TABLE merges(old TEXT PRIMARY KEY, new TEXT NOT NULL)")
        conn.executemany("INSERT INTO merges VALUES (?, ?)", merges.into.items())
        conn.execute("UPDATE res SET patient = m.new FROM merges AS m WHERE m.old = res.patient")
        return True

    def _materialise(self) -> None:
        """The stubs that take part in more than the count become rows of ``res``, exactly as
        ``add`` would have written them, so that duplicates and grouping replay read_paths as for
        any resource: a key read more than once, a subject that is also some entry's fullUrl."""
        conn = self.conn
        # picked first, into a table of their own: the reading below must not scan what it changes
        conn.execute(
            "CREATE TABLE pick AS SELECT seq FROM stubs WHERE key IN (SELECT key FROM res WHERE key IS NOT NULL) "
            "OR key IN (SELECT key FROM stubs GROUP BY key HAVING count(*) > 1) "
            "OR patient IN (SELECT url FROM urls)"
        )
        found = conn.execute(
            "SELECT s.seq, s.key, s.patient, s.nerr, s.line, s.at, f.path, f.name FROM pick AS p "
            "JOIN stubs AS s ON s.seq = p.seq JOIN files AS f ON f.id = s.file ORDER BY s.seq"
        )
        # streamed (a feed read twice makes every stub one of these), files opened once each
        opened: dict[bytes, IO[bytes]] = {}
        rows: list[tuple[Any, ...]] = []
        try:
            for seq, key, patient, nerr, line, at, path, name in found:
                origin = f"{name}:{line}"
                f = opened.get(path)
                if f is None:
                    try:
                        f = opened[path] = open(path, "rb")  # noqa: SIM115 - closed below
                    except OSError:
                        f = None
                identity = stub_identity(key, patient, line, at, path, f) if f is not None else None
                if identity is None:
                    self.errors.append(
                        SourceError(origin, "the file changed while it was read; this resource is skipped", key)
                    )
                    continue
                rows.append(
                    (seq, _KIND_KEYED, seq, key, "Observation", patient, origin, nerr, patient, _dump(identity), True)
                )
                if len(rows) >= _BATCH:
                    conn.executemany("INSERT INTO res VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
                    rows.clear()
        finally:
            for f in opened.values():
                f.close()
        conn.executemany("INSERT INTO res VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("DELETE FROM stubs WHERE seq IN (SELECT seq FROM pick)")
        conn.execute("DROP TABLE pick")

    def _ambiguous_urls(self) -> list[tuple[int, int, int, SourceError]]:
        """read._Collector's rule for a fullUrl that named two different resources: reported where the
        second was read, and removed, so that no reference to it is followed."""
        conn = self.conn
        late: list[tuple[int, int, int, SourceError]] = []
        clashing = [u for (u,) in conn.execute("SELECT url FROM urls GROUP BY url HAVING count(*) > 1").fetchall()]
        for url in clashing:
            (first_key, *_), (key, seq, nerr, origin) = conn.execute(
                "SELECT key, seq, nerr, origin FROM urls WHERE url = ? ORDER BY seq LIMIT 2", (url,)
            ).fetchall()
            late.append((nerr, seq, 0, ambiguous_full_url(origin, url, key, first_key)))
            conn.execute("DELETE FROM urls WHERE url = ?", (url,))
        return late

    def _duplicates(self) -> list[tuple[int, int, int, SourceError]]:
        """Replay read._Collector's rule for every key read more than once, in reading order."""
        conn = self.conn
        late: list[tuple[int, int, int, SourceError]] = []
        changes: list[tuple[int, int, int | None]] = []
        rows = conn.execute(
            "SELECT r.key, r.seq, r.origin, r.nerr, r.data FROM res AS r "
            "JOIN (SELECT key FROM res WHERE key IS NOT NULL GROUP BY key HAVING count(*) > 1) AS d "
            "ON r.key = d.key ORDER BY r.key, r.seq"
        )
        current: str | None = None
        existing: tuple[int, str, bytes, Any] = (0, "", b"", None)  # seq, origin, blob, data
        first = 0
        #: read._Collector.contested: the copies (data) of a key used for neither, and the first's origin
        contested: list[Any] | None = None
        contested_origin = ""
        for key, seq, origin, nerr, blob in rows:
            if key != current:
                current, existing, first, contested = key, (seq, origin, blob, None), seq, None
                continue
            if contested is not None:
                data = _load(blob)
                if any(c == data for c in contested):
                    changes.append((seq, _DELETE, None))
                elif subject_of(contested[0]) != subject_of(data):
                    late.append((nerr, seq, 1, other_subject_copy(origin, key, contested_origin)))
                    changes.append((seq, _CLASH, None))
                elif _stamp(data) != _stamp(contested[0]):
                    if _newer(data, contested[0]):  # a later version replaces them, where it was read
                        contested, existing = None, (seq, origin, blob, data)
                    else:
                        changes.append((seq, _DELETE, None))
                else:
                    late.append((nerr, seq, 1, contested_copies(origin, key, contested_origin)))
                    changes.append((seq, _DELETE, None))
                    contested.append(data)
                if len(changes) >= _BATCH:
                    self._store_changes(changes)
                continue
            old_seq, old_origin, old_blob, old = existing
            if blob == old_blob and b"NaN" not in blob and b"Infinity" not in blob:  # NaN != NaN
                changes.append((seq, _DELETE, None))
                continue
            data = _load(blob)
            if old is None:
                old = _load(old_blob)
                existing = (old_seq, old_origin, old_blob, old)
            if old == data:
                changes.append((seq, _DELETE, None))  # the same resource read twice
            elif subject_of(old) != subject_of(data):
                late.append((nerr, seq, 1, other_subject_copy(origin, key, old_origin)))
                changes.append((seq, _CLASH, None))
            elif _stamp(data) != _stamp(old):
                if _newer(data, old):  # a later version takes the earlier one's place
                    changes.append((old_seq, _DELETE, None))
                    changes.append((seq, _MOVE, first))
                    existing = (seq, origin, blob, data)
                else:
                    changes.append((seq, _DELETE, None))
            else:  # which copy holds cannot be told: neither is used (read._Collector)
                late.append((nerr, seq, 1, contested_copies(origin, key, old_origin)))
                changes.append((seq, _DELETE, None))
                changes.append((old_seq, _DELETE, None))
                contested, contested_origin = [old, data], old_origin
            if len(changes) >= _BATCH:
                self._store_changes(changes)
        self._store_changes(changes)
        conn.execute("DELETE FROM res WHERE seq IN (SELECT seq FROM changes WHERE action = 0)")
        conn.execute("UPDATE res SET kind = 2 WHERE seq IN (SELECT seq FROM changes WHERE action = 1)")  # clashing
        conn.execute("UPDATE res SET pos = c.pos FROM changes AS c WHERE c.seq = res.seq AND c.action = 2")
        return late

    def _store_changes(self, changes: list[tuple[int, int, int | None]]) -> None:
        # INSERT OR REPLACE: a later version that is itself replaced is finally deleted
        self.conn.executemany("INSERT OR REPLACE INTO changes VALUES (?, ?, ?)", changes)
        changes.clear()

    def _group_the_rest(self) -> None:
        """read._group_by_patient for Patients and every resource whose subject is not plainly
        'Patient/<id>': in read_paths' order (a conditional subject takes the first Patient whose
        identifier matches, in reading order)."""
        conn = self.conn
        errors = self.errors
        patients = self.source._patient_rows
        identifiers: PatientIdentifiers | None = None
        assign: list[tuple[int, str]] = []
        index = _StoreIndex(self.source)  # the source reads through the building connection for now
        # Patients refused at the boundary: a fullUrl subject naming one is theirs (probe81 D2)
        refused = {key for (key,) in conn.execute("SELECT key FROM refused")}
        # every Patient first, as read._group_by_patient: a subject may name a Patient read after it
        for seq, key in conn.execute(
            "SELECT seq, key FROM res WHERE patient IS NULL AND rtype = 'Patient' AND key IS NOT NULL ORDER BY kind, pos"
        ):
            patients[key] = seq
        rows = conn.execute("SELECT seq, key, rtype, subject, origin FROM res WHERE patient IS NULL ORDER BY kind, pos")
        for seq, key, rtype, subject, origin in rows:
            if rtype == "Patient":
                if key:
                    patients[key] = seq
                else:
                    errors.append(
                        SourceError(origin, "Patient without id or fullUrl: no resource can refer to it; skipped")
                    )
                continue
            if rtype in REFERENCED_ONLY and (key is None or subject is None):
                if key is None:
                    errors.append(
                        SourceError(origin, f"{rtype} without id or fullUrl: no resource can refer to it; skipped")
                    )
                continue  # reachable by reference only
            if subject is None:
                if rtype != "Specimen":
                    errors.append(SourceError(origin, "no subject/patient reference: cannot tell whose it is", key))
                continue
            patient = index.canonical(subject)
            if not patient or not (patient_reference(patient) or patient in patients or patient in refused):
                if patient and patient.startswith("Patient?"):
                    if identifiers is None:  # every Patient is known: indexed once, on the first one needed
                        identifiers = PatientIdentifiers(
                            (k, self.source._data(seq).get("identifier")) for k, seq in patients.items()
                        )
                    patient, why = identifiers.resolve(patient)
                    if patient is None:
                        errors.append(SourceError(origin, why, key))
                        continue
                else:
                    errors.append(SourceError(origin, not_a_patient(subject), key))
                    continue
            assign.append((seq, patient))
            if len(assign) >= _BATCH:  # into another table: the scan of res is not disturbed
                conn.executemany("INSERT INTO assign VALUES (?, ?)", assign)
                assign.clear()
        conn.executemany("INSERT INTO assign VALUES (?, ?)", assign)
        conn.execute("UPDATE res SET patient = a.patient FROM assign AS a WHERE a.seq = res.seq")


def configure(conn: sqlite3.Connection) -> None:
    """A new spool (or shard) file: no journal, no fsync (a crash loses a temporary file only)."""
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -32768", "temp_store = FILE"):
        conn.execute(f"PRAGMA {pragma}")
    conn.executescript(_SCHEMA)


def open_paths(
    paths: Iterable[str | Path],
    max_per_patient: int = MAX_RESOURCES_PER_PATIENT,
    workdir: str | Path | None = None,
    prune: Prune | None = None,
    workers: int = 1,
) -> SpoolSource:
    """Read PATHS into a spool in a new temporary folder (under ``workdir``, else the system's
    temporary folder) and group by patient. The same patients, records and errors as
    ``read_paths`` with the same ``prune``; the folder is removed on ``close()`` (or at exit).
    ``workers`` > 1: the files are read by that many forked processes (fhir/spool_parallel.py)."""
    paths = list(paths)  # planned, then maybe read again with one process
    folder = tempfile.mkdtemp(prefix="poems-fhir-spool-", dir=workdir)
    source = SpoolSource(os.path.join(folder, "spool.sqlite"), None)
    source._cleanup = weakref.finalize(source, _Cleanup(folder))  # also at exit, if never closed
    try:
        conn = sqlite3.connect(source.db_path, check_same_thread=False)
        source._conn = conn  # grouping looks fullUrls and Patients up through it
        configure(conn)
        spooler = _Spooler(conn, source, prune)
        if not _read_in_parallel(spooler, paths, folder, workers, prune):
            for path in iter_input_files(paths):
                source.files += 1
                spooler.begin_file(source.files, path)
                for data, origin, full_url, deep in iter_file(path, source.errors, spooler.take):
                    source.resources += 1
                    spooler.add(data, origin, full_url, deep)
        if source.files == 0:
            raise InputError("no .json or .ndjson files found in the given paths")
        spooler.finish(max_per_patient)
        source.errors.close()
        conn.close()
        source._conn = None
    except BaseException:
        source.close()
        raise
    log.debug(
        "spooled %s resources of %s files",
        source.resources,
        source.files,
        extra=ev(
            "input.spooled",
            resources=source.resources,
            files=source.files,
            patients=len(source._patients),
            processes=source.readers,
        ),
    )
    return source


def _read_in_parallel(
    spooler: _Spooler, paths: Iterable[str | Path], folder: str, workers: int, prune: Prune | None
) -> bool:
    """fhir/spool_parallel.py when it can help (several processes, forked, several units)."""
    if workers <= 1:
        return False
    from ..parallel import fork_available
    from .spool_parallel import plan, spool_in_parallel

    if not fork_available():
        return False
    units, files = plan(paths)
    if len(units) < 2:
        return False
    readers = min(workers, len(units))
    if not spool_in_parallel(spooler, units, folder, readers, prune):
        return False
    spooler.source.files, spooler.source.readers = files, readers
    return True


def iter_records(source: PatientSource, wanted: Iterable[str] | None = None) -> Iterator[PatientRecord]:
    """The records of ``source`` in order, one at a time; with ``wanted``, only those patients
    (``Patient/ID`` or ``ID``, the rule of pipeline.iter_evaluations)."""
    want = set(wanted) if wanted else None
    for patient in source.patients():
        if want is not None and patient not in want and patient.split("/", 1)[-1] not in want:
            continue
        record = source.record(patient)
        if record is not None:
            yield record
