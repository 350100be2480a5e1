# SPDX-License-Identifier: Apache-2.0
"""Read one input block and key each relevant resource by its patient (pure: bytes in, tuples out).

A block is a delimiter-aligned piece of an NDJSON file (dask.bytes.read_bytes) or a whole Bundle JSON
file. The reading rules are `fhir/read.py`'s own (NDJSON split on "\\n" only, UTF-8 per line, irrelevant
lines skipped before parsing, Bundles unpacked entry by entry, the same error messages), so that the
distributed run reads exactly what `poems-fhir evaluate` reads.

Two passes use it:
1. `scan`: Patients (key, fullUrl, identifiers), the Medication/Specimen resources without a subject
   (reachable by reference only: small, broadcast to every partition), the line count of each
   block (so that origins say `file.ndjson:LINE` as `evaluate` does), and the names of the input
   Binaries each report's or document's url-only text attachments name (one entry per note, no data).
2. `key_block`: every other relevant resource becomes a `Keyed` tuple, keyed by its patient. A subject
   given as a `urn:uuid` fullUrl or as a conditional reference (`Patient?identifier=...`) is resolved
   with the `PatientMap` of pass 1, broadcast to every task; resources whose patient cannot be told go
   to the orphan key "", where the grouping reports them as `evaluate` does. A Binary (no subject) is
   joined to the patients whose notes name it (`BinaryMap`, built from pass 1's names): it goes to each
   of them, and one nobody names is dropped there (an export's Binary.ndjson can be gigabytes of notes
   and scans: they are not broadcast).
Single-resource NDJSON lines are decoded cheaply with orjson for the key and shipped as text (compact
to shuffle); the partition decodes them again with the reader's own `json.loads` rules.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from ..fhir.binaries import input_binary_names
from ..fhir.merges import Merges, find_merges
from ..fhir.resource_types import is_resource_type
from ..fhir.read import (
    _REF,
    _TYPE_NAME,
    FILE_TYPES,
    MAX_RESOURCES_PER_PATIENT,
    SourceError,
    _Collector,
    _decode,
    _irrelevant_line,
    _loads,
    parse_bundle_file,
    _may_be_deep,
    PatientIdentifiers,
    own_key,
    _unpack,
    subject_of,
)

#: the patient key of resources whose patient cannot be told (reported by the partition's grouping)
ORPHAN = ""
_BOM = b"\xef\xbb\xbf"
#: read order: (file, block, line in block, entry in line) - sorting by it replays `evaluate`'s order
Order = tuple[int, int, int, int]


@dataclass(frozen=True)
class Block:
    """Where a block comes from: read order of its file and of the block in it, and the printed name."""

    file: int
    block: int
    name: str
    ndjson: bool
    #: why the whole file is not read (read.refusal_reason, asked on the driver): its one block has no data
    refused: str | None = None


class Keyed(NamedTuple):
    """One shuffled item. Exactly one of text/data/error/counts is set (a marker has none)."""

    bucket: int
    patient: str
    order: Order
    origin: str
    text: str | None = None  # an NDJSON line holding one resource
    data: dict[str, Any] | None = None  # an entry of a Bundle (already decoded)
    full_url: str | None = None
    deep: bool = True
    error: SourceError | None = None
    counts: tuple[int, int] | None = None  # (resources, skipped types) of one block
    #: a Binary's copy for a second patient that names it: its reading problems are listed by the first one's
    quiet: bool = False


@dataclass(frozen=True)
class PatientInfo:
    order: Order
    key: str
    full_url: str | None
    identifiers: tuple[dict[str, Any], ...]
    links: tuple[dict[str, Any], ...] = ()  # Patient.link: a merge sends a retired record to its survivor


@dataclass
class Scan:
    """What pass 1 learns from one block."""

    block: Block
    newlines: int = 0
    patients: list[PatientInfo] = field(default_factory=list)
    #: (order, line in block, origin suffix, resource, fullUrl, deep) of subject-less Medication/Specimen
    shared: list[tuple[Order, int, str, dict[str, Any], str | None, bool]] = field(default_factory=list)
    #: (subject, names) of each report or document whose url-only text attachments may name an input Binary
    #: (fhir/binaries.input_binary_names): ids and urls only
    notes: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)
    #: (fullUrl, "Binary/<id>") of Bundle entries' Binaries: a note naming the fullUrl reads that key's copy
    binary_urls: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PatientMap:
    """The Patients of the whole input, for references that name them by fullUrl or identifier."""

    by_full_url: dict[str, str] = field(default_factory=dict)
    #: key -> {"identifier": [...]} in first-read order (what `resolve_conditional` indexes)
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: a record a merge retired -> its survivor (fhir/merges.py): both go to the survivor's partition, whose
    #: grouping merges them as `evaluate` does (probe79 D1: they were evaluated in different partitions)
    merged_into: dict[str, str] = field(default_factory=dict)
    #: the merges of the whole input (merged_into is theirs): every partition groups by them, so a record
    #: whose links go round is merged into nobody there too (probe82 D9), and their problems are listed once
    merges: Merges = field(default_factory=Merges)
    _identifiers: PatientIdentifiers | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def build(cls, infos: list[PatientInfo]) -> PatientMap:
        pmap = cls()
        links: dict[str, list[dict[str, Any]]] = {}
        for info in sorted(infos, key=lambda i: i.order):
            if info.full_url:
                pmap.by_full_url[info.full_url] = info.key
            pmap.patients.setdefault(info.key, {"identifier": list(info.identifiers)})
            if info.links:
                links.setdefault(info.key, list(info.links))  # the copy read first, as grouping keeps it

        def canonical(ref: str) -> str | None:
            key = pmap.canonical(ref)
            return key if key in pmap.patients else None

        pmap.merges = find_merges(links.items(), pmap.patients, canonical)
        pmap.merged_into = pmap.merges.into
        return pmap

    def identifiers(self) -> PatientIdentifiers:
        """The input's Patients by identifier (read.PatientIdentifiers), built once."""
        if self._identifiers is None:
            self._identifiers = PatientIdentifiers((k, d.get("identifier")) for k, d in self.patients.items())
        return self._identifiers

    def resolve_conditional(self, reference: str) -> str | None:
        """The one Patient a "Patient?identifier=..." subject names (read.PatientIdentifiers), else None."""
        return self.identifiers().resolve(reference)[0]

    def canonical(self, reference: str) -> str:
        if reference in self.by_full_url:
            return self.by_full_url[reference]
        m = _REF.search(reference)
        return f"{m.group(1)}/{m.group(2)}" if m else reference


@dataclass
class BinaryMap:
    """Which patients' notes name each input Binary: the join of pass 2 (a Binary has no subject). Keyed by the
    names of ``fhir/binaries.input_binary_names``: "Binary/<id>", or a Bundle entry's "urn:…" fullUrl."""

    by_name: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, scans: list[Scan], pmap: PatientMap) -> BinaryMap:
        """From pass 1's notes, each to its patient as pass 2 keys it (a merged record's to its survivor)."""
        keys: dict[str, set[str]] = {}
        for s in scans:
            for full_url, key in s.binary_urls:
                keys.setdefault(full_url, set()).add(key)
        found: dict[str, set[str]] = {}
        for s in scans:
            for subject, names in s.notes:
                patient = subject_key(subject, pmap)
                if patient == ORPHAN:  # not evaluated: its Binaries are not read
                    continue
                for name in names:
                    found.setdefault(name, set()).add(patient)
                    # "urn:uuid:…" stands for the Binary of that entry: every copy of its key takes part
                    for key in keys.get(name, ()):
                        found.setdefault(key, set()).add(patient)
        return cls({name: tuple(sorted(patients)) for name, patients in found.items()})

    def patients_of(self, data: dict[str, Any], full_url: str | None) -> tuple[str, ...]:
        """The patients whose notes name this Binary (by its key or its fullUrl), sorted; () for nobody."""
        key = own_key("Binary", data.get("id"), full_url) or full_url
        found = set(self.by_name.get(key, ())) if key else set()
        if full_url and full_url != key:
            found.update(self.by_name.get(full_url, ()))
        return tuple(sorted(found))


def bucket_of(patient: str, partitions: int) -> int:
    """The output partition of a patient: stable across processes and runs (no Python hash seed)."""
    return zlib.crc32(patient.encode("utf-8", "surrogatepass")) % partitions


SHARED = None  # the key of subject-less Medication/Specimen: broadcast, not shuffled
SKIP = "\x00skip"  # a resource type poems-fhir never reads
JOIN = "\x00binary"  # a subject-less Binary: to the patients whose notes name it (BinaryMap)


def patient_key(data: dict[str, Any], full_url: str | None, pmap: PatientMap | None) -> str | None:
    """The patient a resource belongs to, as `read._group_by_patient` will decide it."""
    rtype = data.get("resourceType")
    if not isinstance(rtype, str):
        return ORPHAN
    if rtype not in FILE_TYPES:
        # a typo ("Observaton") is listed like any resource of no patient, not skipped as a type not read
        return SKIP if _TYPE_NAME.fullmatch(rtype) and is_resource_type(rtype) else ORPHAN
    if rtype == "Patient":
        key = own_key("Patient", data.get("id"), full_url) or full_url or ORPHAN
        return pmap.merged_into.get(key, key) if pmap is not None else key
    ref = subject_of(data)
    if rtype in ("Medication", "Specimen") and not ref:
        return SHARED
    if rtype == "Binary" and ref is None:  # read._group_by_patient's rule: it belongs to nobody
        return JOIN
    return subject_key(ref, pmap)


def subject_key(ref: str | None, pmap: PatientMap | None) -> str:
    """The patient a resource with the subject ``ref`` belongs to (``patient_key``), ORPHAN if none."""
    if not ref or pmap is None:
        return ORPHAN
    patient = pmap.canonical(ref)
    if patient.startswith("Patient?"):
        # unresolved (no Patient or several carry the identifier): read_paths reports it where orphans go
        patient = pmap.resolve_conditional(patient) or ORPHAN
    elif not (patient.startswith("Patient/") or patient in pmap.patients):
        return ORPHAN
    return pmap.merged_into.get(patient, patient)


class _Entry(NamedTuple):
    line: int  # line index in the block (0 for a Bundle file)
    entry: int  # entry index in the line or file
    suffix: str  # origin after "name" / "name:LINE": "" or "#entry[3]" ...
    data: dict[str, Any]  # decoded (cheaply, for single-resource NDJSON lines)
    text: str | None  # the line, when it holds one resource
    full_url: str | None
    deep: bool


def _relocate(errors: list[SourceError], prefix: str) -> list[SourceError]:
    return [SourceError(prefix + e.source, e.message, e.resource, e.internal) for e in errors]


def read_block(block: Block, data: bytes, errors: list[tuple[int, SourceError]]) -> Iterator[_Entry]:
    """The resources of a block, in read order; problems go to ``errors`` as (line in block, error)
    whose source is relative (":LINE" is prepended by the caller, who knows the block's first line)."""
    if block.refused is not None:
        errors.append((0, SourceError("", f"cannot read file: {block.refused}")))
        return
    if block.ndjson:
        yield from _read_ndjson(block, data, errors)
        return
    found: list[SourceError] = []
    try:
        text = _decode(data)
    except UnicodeError as exc:
        errors.append((0, SourceError("", f"cannot read file: {exc}")))
        return
    parsed = parse_bundle_file(text, "", found)
    if parsed is not None:
        for n, (resource, origin, full_url, deep) in enumerate(_unpack(parsed, "", found, _may_be_deep(text))):
            yield _Entry(0, n, origin, resource, None, full_url, deep)
    errors.extend((0, e) for e in found)


def _read_ndjson(block: Block, data: bytes, errors: list[tuple[int, SourceError]]) -> Iterator[_Entry]:
    for i, chunk in enumerate(data.split(b"\n")):
        if i == 0 and block.block == 0 and chunk.startswith(_BOM):
            chunk = chunk[3:]
        if not chunk.strip():
            continue
        try:
            line = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"not UTF-8 (byte 0x{chunk[exc.start]:02x} at column {exc.start + 1})"
            errors.append((i, SourceError("", message)))
            continue
        if _irrelevant_line(line):
            continue
        deep = _may_be_deep(line)
        try:
            cheap = orjson.loads(chunk)
        except orjson.JSONDecodeError:
            cheap = None  # orjson is stricter than json (NaN, lone surrogates, huge integers): ask json
        if isinstance(cheap, dict) and isinstance(cheap.get("resourceType"), str) and cheap["resourceType"] != "Bundle":
            yield _Entry(i, 0, "", cheap, line, None, deep)
            continue
        try:
            parsed = _loads(line)
        except ValueError as exc:
            errors.append((i, SourceError("", f"not JSON: {exc}")))
            continue
        if (
            isinstance(parsed, dict)
            and isinstance(parsed.get("resourceType"), str)
            and parsed["resourceType"] != "Bundle"
        ):
            yield _Entry(i, 0, "", parsed, None, None, deep)
            continue
        found: list[SourceError] = []
        for n, (resource, origin, full_url, rdeep) in enumerate(_unpack(parsed, "", found, deep)):
            yield _Entry(i, n, origin, resource, None, full_url, rdeep)
        errors.extend((i, e) for e in found)


def _keyed(e: _Entry, patient: str, order: Order, origin: str, partitions: int, quiet: bool = False) -> Keyed:
    bucket = bucket_of(patient, partitions)
    if e.text is not None:
        return Keyed(bucket, patient, order, origin, text=e.text, deep=e.deep, quiet=quiet)
    return Keyed(bucket, patient, order, origin, data=e.data, full_url=e.full_url, deep=e.deep, quiet=quiet)


def _unnamed_binary(e: _Entry, origin: str, order: Order, partitions: int) -> list[Keyed]:
    """A Binary no note names is not shuffled, but what `evaluate` lists about it on its own is listed: refused at
    the boundary (read's own checks, which look at its data's JSON type only), or without id or fullUrl."""
    errors: list[SourceError] = []
    collector = _Collector(errors)
    collector.add(e.data, origin, e.full_url, e.deep)
    collector.records(MAX_RESOURCES_PER_PATIENT)
    return [Keyed(bucket_of(origin, partitions), ORPHAN, order, origin, error=error) for error in errors]


def _origin(block: Block, first_line: int, line: int, suffix: str) -> str:
    if block.ndjson and block.refused is None:  # a refused file is one problem, of the file
        return f"{block.name}:{first_line + line}{suffix}"
    return f"{block.name}{suffix}"


def _may_matter(block: Block, data: bytes) -> bool:
    """Whether pass 1 has anything to find in a block (C-speed test; false positives are harmless)."""
    if block.refused is not None:
        return False
    if not block.ndjson:
        return True
    if any(word in data for word in (b'"Patient"', b'"Medication"', b'"Specimen"', b'"Bundle"')):
        return True
    # a note or report whose attachment may be given by url: the names of the Binaries it reads
    return b'"url"' in data and (b'"DocumentReference"' in data or b'"DiagnosticReport"' in data)


_NOTE_TYPES = ("DocumentReference", "DiagnosticReport")


def scan(block: Block, data: bytes) -> Scan:
    """Pass 1 over one block: its line count, its Patients, its subject-less Medication/Specimen and the
    Binaries its notes name."""
    out = Scan(block, newlines=data.count(b"\n"))
    if not _may_matter(block, data):
        return out
    for e in read_block(block, data, []):
        order = (block.file, block.block, e.line, e.entry)
        key = patient_key(e.data, e.full_url, None)
        rtype = e.data.get("resourceType")
        if rtype in _NOTE_TYPES:
            # every copy's names (not validated yet; `evaluate` reads the latest version): a Binary too many
            # in a patient's partition is never read, one too few would leave a note unread
            if names := input_binary_names(e.data):
                out.notes.append((subject_of(e.data), tuple(names)))
        elif key == JOIN and e.full_url:
            own = own_key("Binary", e.data.get("id"), e.full_url)
            if own is not None and own != e.full_url:
                out.binary_urls.append((e.full_url, own))
        elif rtype == "Patient" and key:
            found = e.data.get("identifier")  # not validated yet: any JSON type
            idents = tuple(i for i in found if isinstance(i, dict)) if isinstance(found, list) else ()
            link = e.data.get("link")
            links = tuple(x for x in link if isinstance(x, dict)) if isinstance(link, list) else ()
            out.patients.append(PatientInfo(order, key, e.full_url, idents, links))
        elif key is SHARED:
            data_ = _loads(e.text) if e.text is not None else e.data  # the reader's own decoding
            out.shared.append((order, e.line, e.suffix, data_, e.full_url, e.deep))
    return out


def key_block(
    block: Block,
    data: bytes,
    first_line: int,
    pmap: PatientMap,
    partitions: int,
    binaries: BinaryMap | None = None,
) -> list[Keyed]:
    """Pass 2 over one block: every relevant resource keyed by its patient, and the block's problems.
    ``binaries``: the patients whose notes name each Binary (without it, no Binary is kept)."""
    problems: list[tuple[int, SourceError]] = []
    out: list[Keyed] = []
    resources = skipped = 0
    for e in read_block(block, data, problems):
        resources += 1
        key = patient_key(e.data, e.full_url, pmap)
        if key is None or key == SKIP:  # SHARED: read in pass 1 and broadcast
            skipped += key == SKIP
            continue
        origin = _origin(block, first_line, e.line, e.suffix)
        order = (block.file, block.block, e.line, e.entry)
        if key == JOIN:
            targets = binaries.patients_of(e.data, e.full_url) if binaries is not None else ()
            if not targets:
                out.extend(_unnamed_binary(e, origin, order, partitions))
            # one copy per patient whose notes name it; the first lists what is wrong with it
            out.extend(_keyed(e, patient, order, origin, partitions, quiet=n > 0) for n, patient in enumerate(targets))
            continue
        out.append(_keyed(e, key, order, origin, partitions))
    for line, err in problems:
        origin = _origin(block, first_line, line, "")
        error = _relocate([err], origin)[0]
        out.append(
            Keyed(bucket_of(origin, partitions), ORPHAN, (block.file, block.block, line, -1), origin, error=error)
        )
    counts_bucket = (block.file + block.block) % partitions
    out.append(Keyed(counts_bucket, ORPHAN, (block.file, block.block, -1, -1), block.name, counts=(resources, skipped)))
    return out
