# SPDX-License-Identifier: Apache-2.0
"""Read FHIR R4/R4B JSON from Bundles, NDJSON files and folders into per-patient records.

Tolerant by design: one bad file, line or entry is reported (file, entry, what is wrong) and
skipped, the rest goes on. Resources stay plain dicts: the mapping layer reads the elements it
needs and validates those, which is ~25x faster than full model parsing (fhir-landscape.md §3).
"""
from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUNDLE_TYPES = {"collection", "searchset", "transaction", "batch", "document", "history",
                "transaction-response", "batch-response", "message"}
#: The resource types poems-fhir reads; everything else is counted and skipped quickly.
RELEVANT_TYPES = frozenset({
    "Patient", "Observation", "Condition", "Procedure", "DiagnosticReport", "Specimen",
    "MedicationRequest", "MedicationAdministration", "MedicationStatement", "Medication",
})
_SUBJECT_FIELDS = ("subject", "patient")
#: identifiers of what poems-fhir writes: never read back as clinical input
OWN_IDENTIFIER_PREFIX = "https://poems-fhir.org/fhir/identifier/"


def is_own_output(data: dict[str, Any]) -> bool:
    """Our own reports and plans come back in searches and exports; they are not evidence."""
    return any(isinstance(i, dict) and str(i.get("system", "")).startswith(OWN_IDENTIFIER_PREFIX)
               for i in data.get("identifier", []) or [])
# "Observation/123", "http://x/fhir/Observation/123", ".../Observation/123/_history/2"
_REF = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


class InputError(Exception):
    """No input could be read at all (missing path, nothing FHIR-like): a usage error."""


@dataclass(frozen=True)
class SourceError:
    """A file, line or resource that was skipped, with where it was and why."""

    source: str  # "file.json#entry[3]", "file.ndjson:12"
    message: str
    resource: str | None = None  # "Observation/123" when known

    def to_dict(self) -> dict[str, str | None]:
        return {"source": self.source, "resource": self.resource, "message": self.message}


@dataclass(slots=True)
class Raw:
    data: dict[str, Any]
    origin: str
    #: "Type/id", or the entry's fullUrl for a resource without id (transaction bundles)
    ref: str | None = None


@dataclass
class PatientRecord:
    """The raw resources of one patient, and a resolver for references between them."""

    patient: str  # "Patient/<id>"
    resources: list[Raw]
    index: ResourceIndex
    patient_resource: dict[str, Any] | None = None

    @property
    def gender(self) -> str | None:
        return (self.patient_resource or {}).get("gender")

    @property
    def birth_date(self) -> str | None:
        return (self.patient_resource or {}).get("birthDate")

    def resolve(self, reference: str | None, container: dict[str, Any] | None = None) -> dict[str, Any] | None:
        return self.index.resolve(reference, container)


@dataclass
class ResourceIndex:
    by_key: dict[str, Raw] = field(default_factory=dict)
    by_full_url: dict[str, str] = field(default_factory=dict)  # fullUrl -> "Type/id"

    def canonical(self, reference: str | None) -> str | None:
        """Normalise a reference (relative, absolute URL, urn:uuid fullUrl) to 'Type/id'."""
        if not reference:
            return None
        if reference in self.by_full_url:
            return self.by_full_url[reference]
        m = _REF.search(reference)
        return f"{m.group(1)}/{m.group(2)}" if m else reference

    def resolve(self, reference: str | None, container: dict[str, Any] | None = None) -> dict[str, Any] | None:
        if reference and reference.startswith("#") and container:
            for contained in container.get("contained", []) or []:
                if isinstance(contained, dict) and contained.get("id") == reference[1:]:
                    return contained
            return None
        key = self.canonical(reference)
        raw = self.by_key.get(key) if key else None
        return raw.data if raw else None


@dataclass
class ReadResult:
    records: list[PatientRecord]
    errors: list[SourceError]
    files: int
    resources: int
    skipped_types: int


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")
        if p.is_dir():
            files = sorted(
                f for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in (".json", ".ndjson", ".jsonl")
            )
            yield from files
        else:
            yield p


def _iter_file(path: Path, errors: list[SourceError]) -> Iterator[tuple[dict[str, Any], str, str | None]]:
    """Yield (resource, origin, fullUrl) from one file; record what cannot be read."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(SourceError(name, f"cannot read file: {exc}"))
        return
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip() or _irrelevant_line(line):
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                errors.append(SourceError(f"{name}:{lineno}", f"not JSON: {exc}"))
                continue
            if isinstance(data, dict) and data.get("resourceType") not in (None, "Bundle"):
                yield data, f"{name}:{lineno}", None
            else:
                yield from _unpack(data, f"{name}:{lineno}", errors)
        return
    try:
        data = json.loads(text)
    except ValueError as exc:
        hint = " (it looks like HTML: an error page?)" if text.lstrip().startswith("<") else ""
        errors.append(SourceError(name, f"not JSON{hint}: {exc}"))
        return
    yield from _unpack(data, name, errors)


_TYPE = re.compile(r'"resourceType"\s*:\s*"([A-Za-z]+)"')


def _irrelevant_line(line: str) -> bool:
    """Skip an NDJSON line of a type we never read without parsing it (bulk exports are mostly
    Claims, Encounters, ...). Only when the line holds a single resource: a contained resource
    could otherwise be mistaken for the outer one."""
    if line.count('"resourceType"') != 1:
        return False
    m = _TYPE.search(line)
    return m is not None and m.group(1) not in RELEVANT_TYPES and m.group(1) != "Bundle"


def _unpack(data: Any, origin: str, errors: list[SourceError]) -> Iterator[tuple[dict[str, Any], str, str | None]]:
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        errors.append(SourceError(origin, "not a FHIR resource: no resourceType"))
        return
    if data["resourceType"] != "Bundle":
        yield data, origin, None
        return
    btype = data.get("type")
    if btype not in BUNDLE_TYPES:
        errors.append(SourceError(origin, f"Bundle.type {btype!r} is not a FHIR R4 bundle type; "
                                          "reading its entries anyway"))
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        errors.append(SourceError(origin, "Bundle.entry is not a list"))
        return
    for i, entry in enumerate(entries):
        where = f"{origin}#entry[{i}]"
        if not isinstance(entry, dict):
            errors.append(SourceError(where, "entry is not an object"))
            continue
        request = entry.get("request") or {}
        if isinstance(request, dict) and request.get("method") == "DELETE":
            continue
        if (entry.get("search") or {}).get("mode") == "outcome":
            continue
        resource = entry.get("resource")
        if resource is None:
            continue  # transaction responses and deletions carry no resource
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            errors.append(SourceError(where, "entry.resource has no resourceType"))
            continue
        if resource["resourceType"] == "Bundle":
            yield from _unpack(resource, where, errors)
            continue
        yield resource, where, entry.get("fullUrl")


def _newer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether ``a`` is a later version than ``b`` (by meta.lastUpdated; ties keep the later read)."""
    la, lb = _last_updated(a), _last_updated(b)
    return la >= lb


def _last_updated(data: dict[str, Any]) -> str:
    meta = data.get("meta")
    value = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else ""


def read_paths(paths: Iterable[str | Path]) -> ReadResult:
    """Read all inputs and group the relevant resources by patient."""
    # Parsed JSON is acyclic; keeping 100k+ dicts alive makes the cyclic GC rescan them over
    # and over (measured: 4x slower reads). Pause it while reading.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_paths(paths)
    finally:
        if enabled:
            gc.enable()


def _read_paths(paths: Iterable[str | Path]) -> ReadResult:
    errors: list[SourceError] = []
    index = ResourceIndex()
    anonymous: list[Raw] = []  # resources without id: cannot be deduplicated or referenced
    files = resources = skipped = 0
    for path in iter_input_files(paths):
        files += 1
        for data, origin, full_url in _iter_file(path, errors):
            resources += 1
            rtype = data["resourceType"]
            if not isinstance(rtype, str) or rtype not in RELEVANT_TYPES or is_own_output(data):
                skipped += 1
                continue
            rid = data.get("id")
            key = f"{rtype}/{rid}" if isinstance(rid, str) and rid else None
            if key is None:
                if full_url:
                    # transaction bundles (Synthea) may carry only a urn:uuid fullUrl
                    key = full_url
                else:
                    anonymous.append(Raw(data, origin))
                    continue
            raw = Raw(data, origin, key)
            if full_url:
                index.by_full_url[full_url] = key
            existing = index.by_key.get(key)
            if existing is None or _newer(data, existing.data):
                index.by_key[key] = raw
    if files == 0:
        raise InputError("no .json or .ndjson files found in the given paths")
    records = _group_by_patient(list(index.by_key.values()) + anonymous, index, errors)
    return ReadResult(records, errors, files, resources, skipped)


def records_from_resources(resources: Iterable[tuple[dict[str, Any], str]]) -> tuple[list[PatientRecord], list[SourceError]]:
    """Group already-fetched resources (e.g. from a server search) like read_paths does."""
    errors: list[SourceError] = []
    index = ResourceIndex()
    anonymous: list[Raw] = []
    for data, origin in resources:
        rtype, rid = data.get("resourceType"), data.get("id")
        if not isinstance(rtype, str) or rtype not in RELEVANT_TYPES or is_own_output(data):
            continue
        if not rid:
            anonymous.append(Raw(data, origin))
            continue
        key = f"{rtype}/{rid}"
        existing = index.by_key.get(key)
        if existing is None or _newer(data, existing.data):
            index.by_key[key] = Raw(data, origin, key)
    return _group_by_patient(list(index.by_key.values()) + anonymous, index, errors), errors


def subject_of(data: dict[str, Any]) -> str | None:
    for name in _SUBJECT_FIELDS:
        ref = data.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return ref["reference"]
    return None


def _group_by_patient(raws: list[Raw], index: ResourceIndex, errors: list[SourceError]) -> list[PatientRecord]:
    groups: dict[str, list[Raw]] = {}
    patients: dict[str, dict[str, Any]] = {}
    for raw in raws:
        data = raw.data
        if data["resourceType"] == "Patient":
            key = raw.ref
            if key:
                patients[key] = data
                groups.setdefault(key, [])
            continue
        if data["resourceType"] in ("Medication", "Specimen") and not subject_of(data):
            continue  # reachable by reference only
        ref = subject_of(data)
        if ref is None:
            if data["resourceType"] != "Specimen":
                errors.append(SourceError(raw.origin, "no subject/patient reference: cannot tell "
                                          "whose it is", raw.ref))
            continue
        patient = index.canonical(ref)
        if not patient or not (patient.startswith("Patient/") or patient in patients):
            if patient and patient.startswith("Patient?"):
                patient = _resolve_conditional(patient, patients) or patient
            else:
                errors.append(SourceError(raw.origin, f"subject {ref!r} is not a Patient", raw.ref))
                continue
        groups.setdefault(patient, []).append(raw)
    return [
        PatientRecord(patient=p, resources=rs, index=index, patient_resource=patients.get(p))
        for p, rs in sorted(groups.items())
    ]


def _resolve_conditional(ref: str, patients: dict[str, dict[str, Any]]) -> str | None:
    """Resolve 'Patient?identifier=system|value' against the Patients that were read."""
    m = re.match(r"Patient\?identifier=(?:(.*)\|)?(.+)$", ref)
    if not m:
        return None
    system, value = m.group(1), m.group(2)
    for key, data in patients.items():
        for ident in data.get("identifier", []) or []:
            if ident.get("value") == value and (system is None or ident.get("system") == system):
                return key
    return None
