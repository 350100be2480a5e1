# SPDX-License-Identifier: Apache-2.0
"""Read FHIR R4/R4B JSON from Bundles, NDJSON files and folders into per-patient records.

Tolerant by design: one bad file, line or entry is reported (file, entry, what is wrong) and
skipped, the rest goes on. Resources stay plain dicts: the mapping layer reads the elements it
needs and validates those, which is ~25x faster than full model parsing (fhir-landscape.md §3).
"""

from __future__ import annotations

import datetime as dt

import gc
import logging
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .outcome import failed_search_outcome
from .resource_types import is_resource_type, type_problem
from .boundary import MAX_DEPTH, Invalid, is_unicode, validate, validate_identity
from .ids import FHIR_ID
from .codes import GENDERS, HTTP_VERBS, fhir_code
from .merges import Merges, find_merges
from .strict_json import DuplicateKey, RefusedResource, check_keys, first_duplicate, repeated_key_message
from .strict_json import loads as _json_loads
from ..mapping.attachment import says_no_text
from ..wellformed import well_formed

log = logging.getLogger(__name__)

BUNDLE_TYPES = {
    "collection",
    "searchset",
    "transaction",
    "batch",
    "document",
    "history",
    "transaction-response",
    "batch-response",
    "message",
}
#: The resource types poems-fhir reads; everything else is counted and skipped quickly.
RELEVANT_TYPES = frozenset(
    {
        "Patient",
        "Observation",
        "Condition",
        "Procedure",
        "DiagnosticReport",
        # clinical notes and scanned or narrative reports as US Core exposes them (progress notes, imaging
        # and pathology reports): read through the same text path as a DiagnosticReport's presentedForm
        "DocumentReference",
        "Specimen",
        "MedicationRequest",
        "MedicationAdministration",
        "MedicationStatement",
        "Medication",
    }
)
#: what a file read keeps: the relevant types, and the Binaries whose text a note's or report's attachment names by
#: url (fhir/binaries.py) - never asked of a server in bulk (an export's Binaries are every scan it holds)
FILE_TYPES = RELEVANT_TYPES | {"Binary"}
_SUBJECT_FIELDS = ("subject", "patient")
#: what a resource the mapping cannot use keeps (``prune``): its identity, version and patient, so
#: that grouping, duplicates and later versions work exactly as for any other resource
_IDENTITY_FIELDS = ("resourceType", "id", "meta", "identifier", *_SUBJECT_FIELDS)
#: ``prune(data)``: True when the mapping can read nothing from this raw Observation
#: (mapping.extract.observation_cannot_matter with the run's mapping); None keeps everything
Prune = Callable[[dict[str, Any]], bool]
#: identifiers of what poems-fhir writes: never read back as clinical input
OWN_IDENTIFIER_PREFIX = "https://poems-fhir.org/fhir/identifier/"


def identity_only(data: dict[str, Any]) -> dict[str, Any]:
    """The resource reduced to what reading needs of it (``_IDENTITY_FIELDS``)."""
    return {k: data[k] for k in _IDENTITY_FIELDS if k in data}


def pruned(data: dict[str, Any], prune: Prune | None) -> dict[str, Any] | None:
    """``identity_only(data)`` for an Observation ``prune`` says the mapping cannot use, else None.
    Its other elements are then never validated (the boundary's rule: what is not read is not
    checked), stored or extracted: most of a hospital's Observations are vitals no rule knows."""
    if prune is None or data.get("resourceType") != "Observation" or not prune(data):
        return None
    return identity_only(data)


def replaced_by(patient: dict[str, Any] | None) -> str | None:
    """Where a merged Patient now lives: the reference of its ``link`` of type ``replaced-by``
    ("The patient resource containing this link must no longer be used", FHIR R4 Patient.link.type),
    "another record" when the link names none; None for a Patient that is not merged. Read after
    the boundary, which checked ``link`` (fhir/boundary.py)."""
    for link in (patient or {}).get("link", []) or []:
        if fhir_code(link.get("type")) == "replaced-by":  # "Replaced_By" alike (probe140 D9)
            return (link.get("other") or {}).get("reference") or "another record"
    return None


def replaced_records(patient: dict[str, Any] | None) -> tuple[str, ...]:
    """The records a surviving Patient replaces (its ``link`` of type ``replaces``): after a merge our
    report and plan written for one of them may now sit in this patient's record (probe37 D08)."""
    out = []
    for link in (patient or {}).get("link", []) or []:
        ref = (link.get("other") or {}).get("reference") if isinstance(link, dict) else None
        if fhir_code(link.get("type")) == "replaces" and isinstance(ref, str) and ref:
            out.append(ref)
    return tuple(out)


def surviving_record(record: PatientRecord) -> str | None:
    """Where ``record``'s patient now lives (Patient.link replaced-by), or None when it is not merged -
    nor when the links go round: a record replaced by itself, or A replaced by B replaced by A, leaves
    no surviving record, so neither is taken as merged and both are evaluated (probe32: both were
    dropped, the message saying the survivor was evaluated). A record whose resources reading moved to
    its survivor (``merged_into``, probe79 D1) is merged into that one, also when only the survivor's
    ``replaces`` link says so."""
    if record.merged_into is not None:
        return record.merged_into
    if record.links_go_round:  # the reader's verdict over the whole input (probe82 D9: else its resources
        return None  # were moved to nobody, and the record was skipped as merged all the same)
    successor = replaced_by(record.patient_resource)
    if successor is None:
        return None
    seen = {record.patient}
    current: str | None = successor
    for _ in range(16):  # a longer chain is no cycle we could tell
        key = record.index.canonical(current)
        if key in seen:
            return None  # round in a circle: no survivor
        if key is None or not key.startswith("Patient/"):
            return successor
        seen.add(key)
        nxt = record.index.lookup(key)
        current = replaced_by(nxt) if nxt is not None else None
        if current is None:
            return successor
    return successor


def is_own_output(data: dict[str, Any]) -> bool:
    """Our own reports and plans come back in searches and exports; they are not evidence."""
    return any(
        isinstance(i, dict) and str(i.get("system", "")).startswith(OWN_IDENTIFIER_PREFIX)
        for i in data.get("identifier", []) or []
    )


# "Observation/123", "http://x/fhir/Observation/123", ".../Observation/123/_history/2"
_REF = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


_PATIENT_REF = re.compile(f"Patient/{FHIR_ID}")
#: resources other resources reach by reference only (Observation.specimen, medicationReference): one
#: without id (or fullUrl) is reachable by nothing and is listed, whatever its subject
REFERENCED_ONLY = ("Medication", "Specimen", "Binary")


def patient_reference(canonical: str) -> bool:
    """Whether a subject, once canonical (ResourceIndex.canonical), names a Patient by a FHIR id: "Patient/../p1",
    "Patient/x?y=1" or a 65-character id would otherwise make a patient of their own."""
    return _PATIENT_REF.fullmatch(canonical) is not None


def not_a_patient(reference: str) -> str:
    if reference.startswith("Patient/") or "/Patient/" in reference:
        return (
            f"subject {reference!r} is not a valid Patient reference (Patient/ and a FHIR id of up to 64 letters, "
            "digits, '-' and '.', or an absolute URL ending so)"
        )
    return f"subject {reference!r} is not a Patient"


def claimed_patient(data: dict[str, Any]) -> str | None:
    """The patient a resource that failed validation says it belongs to ("Patient/p1"), or None: its
    own id for a Patient, else a plain subject/patient reference to a Patient by a valid id."""
    if data.get("resourceType") == "Patient":
        rid = data.get("id")
        canon = f"Patient/{rid}" if isinstance(rid, str) else ""
        return canon if patient_reference(canon) else None
    for element in ("subject", "patient"):
        ref = data.get(element)
        target = ref.get("reference") if isinstance(ref, dict) else None
        if isinstance(target, str) and len(target) <= 1000:
            canon = relative_reference(target)
            return canon if patient_reference(canon) else None
    return None


def relative_reference(reference: str) -> str:
    """ "Type/id" of a relative, absolute or versioned reference (``_REF``); anything else as given.
    ResourceIndex.canonical without the fullUrl table."""
    m = _REF.search(reference)
    return f"{m.group(1)}/{m.group(2)}" if m else reference


def internal_error(source: str, resource: str | None, exc: BaseException) -> SourceError:
    """An unexpected exception turned into a reported skip; the traceback goes to the debug log."""
    log.debug("internal error at %s (%s)", source, resource, exc_info=exc)
    return SourceError(
        source,
        f"internal error ({type(exc).__name__}: {str(exc)[:200]}); skipped - please report this with the --debug log",
        resource,
        internal=True,
    )


class InputError(Exception):
    """No input could be read at all (missing path, nothing FHIR-like): a usage error."""


#: characters of a problem message listed (and of where it was): a message is a sentence or two
MAX_MESSAGE_CHARS = 1000


@dataclass(frozen=True)
class SourceError:
    """A file, line or resource that was skipped, with where it was and why."""

    source: str  # "file.json#entry[3]", "file.ndjson:12"
    message: str
    resource: str | None = None  # "Observation/123" when known
    #: a bug of poems-fhir, not of the input (exit code 70); the traceback is in the --debug log
    internal: bool = False
    #: the patient a refused resource says it belongs to ("Patient/p1"), when its subject is readable:
    #: the sync job does not withdraw that patient's report on data it could not read
    patient: str | None = None

    def __post_init__(self) -> None:
        # a message quotes what was refused: a 1 MB status echoed whole made a 1 MB line in every output
        # (probe43); its beginning and its end - what to do - are kept
        if len(self.message) > MAX_MESSAGE_CHARS:
            cut = len(self.message) - MAX_MESSAGE_CHARS
            head, tail = self.message[: MAX_MESSAGE_CHARS - 200], self.message[-200:]
            object.__setattr__(self, "message", f"{head} [… {cut:,} characters not shown …] {tail}")
        if len(self.source) > MAX_MESSAGE_CHARS:
            object.__setattr__(self, "source", self.source[:MAX_MESSAGE_CHARS] + " […]")

    def to_dict(self) -> dict[str, Any]:
        """As the JSON output lists it: a lone surrogate echoed from the refused input ("c\\ud800")
        becomes U+FFFD, so the document is Unicode text every JSON parser accepts."""
        out: dict[str, Any] = {
            "source": well_formed(self.source),
            "resource": well_formed(self.resource) if self.resource else self.resource,
            "message": well_formed(self.message),
        }
        if self.internal:
            out["internal"] = True
        return out


#: input problems listed one by one per read; past this they are counted by kind in one last entry,
#: so a feed of millions of broken lines keeps memory flat (the bulk client lists an export's error
#: files the same way)
MAX_LISTED_PROBLEMS = 1000
#: distinct kinds counted before the rest are "other"
_MAX_KINDS = 20
_VARIABLE = re.compile(r"'[^']*'|\"[^\"]*\"|\S*[/:.]\S*\d\S*|\S*/\S*|\d[\d,.]*")


def problem_kind(message: str) -> str:
    """What a problem is, without where: "not JSON", "refused", "… is also in … with different content"."""
    head = message.split(": ", 1)[0]
    return _VARIABLE.sub("…", head)[:120]


def over_limit(patient: str, n: int, limit: int) -> SourceError:
    return SourceError(
        patient,
        f"{n} resources for this patient, more than the limit of {limit}; patient not evaluated "
        "(raise the limit with --max-resources-per-patient if this is real)",
        patient,
    )


def list_always(errors: list[SourceError], problem: SourceError) -> None:
    """Append ``problem`` listed even past a ProblemList's limit (a plain list takes it anyway)."""
    if isinstance(errors, ProblemList):
        errors.append_listed(problem)
    else:
        errors.append(problem)


class ProblemList(list[SourceError]):
    """The problems of one read, in reading order: the first ``limit`` listed, the rest counted by
    kind (``close`` appends the count as a last entry). A list to everything that reads it."""

    def __init__(self, limit: int | None = None) -> None:
        super().__init__()
        self.limit = MAX_LISTED_PROBLEMS if limit is None else limit
        self.unlisted: Counter[str] = Counter()
        self.unlisted_internal = False  # an unlisted internal error still sets exit code 70
        self.closed = False

    def append(self, problem: SourceError) -> None:
        if len(self) < self.limit:
            super().append(problem)
        else:
            self._count(problem)

    def append_listed(self, problem: SourceError) -> None:
        """Listed whatever the limit: a patient left out of the run is always named (a count of
        "more input problems" would hide who was not evaluated)."""
        super().append(problem)

    def extend(self, problems: Iterable[SourceError]) -> None:
        for problem in problems:
            self.append(problem)
        if isinstance(problems, ProblemList):  # a shard's own unlisted problems come after its listed ones
            for kind, n in problems.unlisted.items():
                self._add_kind(kind, n)
            self.unlisted_internal |= problems.unlisted_internal

    def insert(self, index: Any, problem: SourceError) -> None:
        super().insert(index, problem)
        while len(self) > self.limit:
            self._count(super().pop())

    def _count(self, problem: SourceError) -> None:
        self._add_kind(problem_kind(problem.message), 1)
        self.unlisted_internal |= problem.internal

    def _add_kind(self, kind: str, n: int) -> None:
        if kind not in self.unlisted and len(self.unlisted) >= _MAX_KINDS:
            kind = "other"
        self.unlisted[kind] += n

    def close(self) -> None:
        """Append one entry counting the unlisted problems by kind (once; nothing when none)."""
        if self.closed or not self.unlisted:
            return
        self.closed = True
        kinds = "; ".join(f"{kind} ({n:,})" for kind, n in self.unlisted.most_common())
        total = sum(self.unlisted.values())
        message = f"{total:,} more input problem(s) not listed (the first {self.limit:,} are): {kinds}"
        super().append(SourceError("input", message, None, internal=self.unlisted_internal))

    def copy(self) -> ProblemList:
        return _restore_problems(*self.__reduce__()[1])

    @property
    def total(self) -> int:
        """Every problem, listed or only counted (the closing count entry is no problem of its own)."""
        return len(self) - (1 if self.closed else 0) + sum(self.unlisted.values())

    def __reduce__(self) -> Any:
        # pickle appends list items before it restores attributes: rebuild through __init__ instead
        return (_restore_problems, (list(self), self.limit, dict(self.unlisted), self.unlisted_internal, self.closed))


def problem_count(problems: list[SourceError]) -> int:
    """How many problems a list stands for: a ProblemList counts those past its limit too (probe32:
    200,000 bad lines were reported as "1001 input problem(s)" and skipped_input=1001)."""
    return problems.total if isinstance(problems, ProblemList) else len(problems)


def _restore_problems(
    items: list[SourceError], limit: int, unlisted: dict[str, int], internal: bool, closed: bool
) -> ProblemList:
    problems = ProblemList(limit)
    list.extend(problems, items)
    problems.unlisted.update(unlisted)
    problems.unlisted_internal, problems.closed = internal, closed
    return problems


@dataclass(slots=True)
class Raw:
    data: dict[str, Any]
    origin: str
    #: "Type/id", or the entry's fullUrl for a resource without id (transaction bundles)
    ref: str | None = None
    #: reduced to its identity (``pruned``): it takes part in grouping and versions, not in a record
    stub: bool = False


@dataclass(frozen=True)
class BinaryMiss:
    """Why the Binary an attachment names by url was not read, and what to do: it is not in the input, or its server
    does not hold it (fhir/binaries.py, sync/attachments.py); ``listed`` when that was listed already (a server's
    404 with the fetch's problems), so the report path says it only where it lists the attachment itself."""

    why: str
    listed: bool = False


@dataclass
class PatientRecord:
    """The raw resources of one patient, and a resolver for references between them."""

    patient: str  # "Patient/<id>"
    resources: list[Raw]
    index: ResourceIndex
    patient_resource: dict[str, Any] | None = None
    #: the record's resources by key, built on the first resolve
    _own: dict[str, dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    #: why references were not followed (another patient's resource, one listed and skipped), in order
    refused: list[str] = field(default_factory=list, repr=False, compare=False)
    #: what reading the record found wrong with its resources (an attachment's Binary the input carries but
    #: that cannot be read: fhir/binaries.py), listed with the patient's evaluation
    problems: list[SourceError] = field(default_factory=list, repr=False, compare=False)
    #: an attachment's url (stripped) -> why the Binary it names was not read (probe138 G5: "by url only" said
    #: neither what happened nor what to do); the report path says it where it lists the attachment
    unread_binaries: dict[str, BinaryMiss] = field(default_factory=dict, repr=False, compare=False)
    #: the surviving record this one's resources were moved to (a merge: fhir/merges.py), or None
    merged_into: str | None = None
    #: the retired records whose resources this record holds (a merge)
    merged_from: tuple[str, ...] = ()
    #: the input's links through this record go round (fhir/merges.py, over the whole input): it is
    #: merged into nobody, whatever its own replaced-by says, and evaluated with its own resources
    links_go_round: bool = False

    def owns(self, patient: str | None) -> bool:
        """Whether a resource of ``patient`` is this record's: its own, or a record it replaced."""
        return patient is not None and (patient == self.patient or patient in self.merged_from)

    #: the Patient carries a modifier extension nobody declared understood (mapping.extract decides):
    #: its sex and birth date are not read, as FHIR forbids reading around one (probe99 D2's leftover)
    demographics_withheld: bool = field(default=False, repr=False, compare=False)

    @property
    def gender_sent(self) -> Any:
        """Patient.gender as sent, unread ("FEMALE", " female", "F"), None without one."""
        return None if self.demographics_withheld else (self.patient_resource or {}).get("gender")

    @property
    def gender(self) -> str | None:
        """Patient.gender as its administrative-gender code, case and spaces forgiven ("FEMALE", " female" ->
        "female"; probe140 D6: they were no sex at all); None for no gender or one that is no code."""
        code = fhir_code(self.gender_sent)
        return code if code in GENDERS else None

    @property
    def birth_date(self) -> str | None:
        return None if self.demographics_withheld else (self.patient_resource or {}).get("birthDate")

    def resolve(self, reference: str | None, container: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """The resource ``reference`` names, for this patient: a contained one ("#id") in ``container``;
        else the record's own copy (also a pruned one's identity); else one that belongs to nobody
        (a Medication, a Specimen without subject: ``ResourceIndex.lookup_shared``).
        Never another patient's copy, nor one listed as skipped: which copy a clashing key or a
        foreign reference found would otherwise depend on the order the files were read."""
        if reference and reference.startswith("#"):
            return self.index.resolve(reference, container)
        key = self.index.canonical(reference)
        if not key:
            return None
        if self._own is None:
            self._own = {}
            for raw in self.resources:  # the first copy wins: kept ones before clashing ones, as read
                if raw.ref:
                    self._own.setdefault(raw.ref, raw.data)
        own = self._own.get(key)
        if own is not None:
            return own
        if key == self.patient:  # the patient's own key (a Bundle that gave a Medication the same fullUrl)
            return None
        nobodys = self.index.lookup_shared(key)
        if nobodys is not None:
            return nobodys
        found = self.index.lookup(key)
        if found is None:
            return None
        if shared_referent(found):  # an index built without the collector's `shared` (by hand)
            return found
        # the record's own, kept out of its resources: a pruned vital's identity (read.pruned)
        subject = subject_of(found)
        owner = self.index.canonical(subject) if subject is not None else None
        if self.owns(owner):  # also a record this one replaced (probe79 D1)
            return found
        whose = f"belongs to {owner}" if owner and patient_reference(owner) else f"has the subject {subject!r}"
        why = f"refers to {key}, which {whose}: not used for {self.patient}"
        if why not in self.refused:
            self.refused.append(why)
        return None


def stored_binary(data: dict[str, Any]) -> dict[str, Any]:
    """What an input's Binary keeps once read: one that says it is no text (an image, a PDF) without its data - an
    export's Binaries can be gigabytes of scans, and such a one is only ever listed as unread (fhir/binaries.py)."""
    if "data" in data and says_no_text(data):
        return {k: v for k, v in data.items() if k != "data"}
    return data


def shared_referent(data: dict[str, Any]) -> bool:
    """Whether a resource belongs to nobody: a Medication, a Binary, or a Specimen without subject."""
    return data.get("resourceType") in REFERENCED_ONLY and subject_of(data) is None


#: ``contained`` lists whose by-id index ResourceIndex keeps (the most recent); one resource's references are
#: resolved together, so a few suffice
MAX_CONTAINED_INDEXES = 64


@dataclass
class ResourceIndex:
    by_key: dict[str, Raw] = field(default_factory=dict)
    by_full_url: dict[str, str] = field(default_factory=dict)  # fullUrl -> "Type/id"
    #: the copy of a key that belongs to nobody (a Medication, a Specimen without subject), whichever
    #: copy ``by_key`` holds:
    #: a Specimen sent once with a subject and once without is the patients' shared one, in any order
    shared: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: per ``contained`` list (by identity): its resources by id, so that resolving "#id" is a lookup - a
    #: scan of the list per reference was quadratic (probe87 D5: 20,000 contained Specimens referenced from
    #: their report took 16.6 s, 40,000 took 59 s)
    _contained: dict[int, tuple[list[Any], int, dict[str, dict[str, Any]]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def canonical(self, reference: str | None) -> str | None:
        """Normalise a reference (relative, absolute URL, urn:uuid fullUrl) to 'Type/id'."""
        if not reference:
            return None
        if reference in self.by_full_url:
            return self.by_full_url[reference]
        m = _REF.search(reference)
        return f"{m.group(1)}/{m.group(2)}" if m else reference

    def resolve(self, reference: str | None, container: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """A contained resource ("#id" in ``container``), else whatever copy the index holds for the
        key: PatientRecord.resolve is the one that decides for a patient."""
        if reference and reference.startswith("#"):
            inner = (container or {}).get("contained")
            return self.contained_by_id(inner).get(reference[1:]) if isinstance(inner, list) else None
        key = self.canonical(reference)
        return self.lookup(key) if key else None

    def contained_by_id(self, contained: list[Any]) -> dict[str, dict[str, Any]]:
        """The resources of one ``contained`` list by id (the first of an id wins), built once per list.
        The list itself is kept beside its index, so its identity cannot pass to another list; a list that
        grew or shrank since is indexed again. At most MAX_CONTAINED_INDEXES lists are remembered."""
        held = self._contained.get(id(contained))
        if held is not None and held[0] is contained and held[1] == len(contained):
            return held[2]
        by_id: dict[str, dict[str, Any]] = {}
        for inner in contained:
            if isinstance(inner, dict) and isinstance(inner.get("id"), str):
                by_id.setdefault(inner["id"], inner)
        if len(self._contained) >= MAX_CONTAINED_INDEXES:
            del self._contained[next(iter(self._contained))]  # the oldest
        self._contained[id(contained)] = (contained, len(contained), by_id)
        return by_id

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The copy kept under "Type/id" ``key`` (the first read, or its latest version)."""
        raw = self.by_key.get(key)
        return raw.data if raw else None

    def lookup_shared(self, key: str) -> dict[str, Any] | None:
        """The copy of ``key`` that belongs to nobody, if one was read."""
        return self.shared.get(key)


@dataclass
class ReadResult:
    records: list[PatientRecord]
    errors: list[SourceError]
    files: int
    resources: int
    skipped_types: int


#: Patients with more relevant resources than this are reported and not evaluated (a runaway feed
#: or a mis-grouped export); ``read_paths(max_per_patient=...)`` / ``--max-resources-per-patient``.
MAX_RESOURCES_PER_PATIENT = 50_000
_INPUT_SUFFIXES = (".json", ".ndjson", ".jsonl")
#: what compresses one file (an export's "Patient.ndjson.gz")
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")
#: a compressed input and an archive (which may hold any export): listed from a folder so that each is
#: reported as what it is, never skipped without a word (probe81 L2: .gz; probe82 D10: .bz2, .tar.gz)
_COMPRESSED_INPUT_SUFFIXES = tuple(s + c for s in _INPUT_SUFFIXES for c in _COMPRESSION_SUFFIXES)
_ARCHIVE_SUFFIXES = (".zip", ".7z", ".tar", ".tgz", ".tbz2", ".txz", *(f".tar{c}" for c in _COMPRESSION_SUFFIXES))


def is_input_name(name: str) -> bool:
    """Whether a folder read takes a file so named (every reader's listing): ``.json``, ``.ndjson``,
    ``.jsonl``, the same names compressed (``.gz``, ``.bz2``, ``.xz``, ``.zst``) and archives
    (``.zip``, ``.7z``, ``.tar``, ``.tgz``, ``.tar.gz`` ...), the last two to be refused with what to do.
    Any other file (a README.txt) is not input and is passed over silently."""
    return name.lower().endswith((*_INPUT_SUFFIXES, *_COMPRESSED_INPUT_SUFFIXES, *_ARCHIVE_SUFFIXES))


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")
        if p.is_dir():
            yield from _folder_entries(p)
        else:
            yield p


def _folder_entries(folder: Path) -> list[Path]:
    """Every input-named entry under ``folder`` but folders (links to folders are not followed): a
    named pipe or a dangling link is then refused and listed by the reader, as when it is named on the
    command line, not dropped without a word. So is a folder that cannot be listed (no permission, a
    path past the system's length limit): it is returned as an entry, whose read fails with the
    reason - one such folder neither stops the run nor vanishes from it (probe32)."""
    unlisted: list[OSError] = []
    found: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=unlisted.append):
        for name in (*names, *dirs):
            entry = Path(root, name)
            if is_input_name(name) and not _is_folder(entry):
                found.append(entry)
    found += [Path(exc.filename) for exc in unlisted if exc.filename is not None]
    return sorted(found)


def _is_folder(entry: Path) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a name past the length limit: the reader reports it
        return False


#: a Bundle file is parsed whole (≈ 10x its size in memory): past this it is refused, not read - an
#: export that large is NDJSON, read line by line (probe43: a 2 GB file ran the process out of memory)
MAX_BUNDLE_FILE_BYTES = 128 << 20
#: one NDJSON line is one resource: past this it is refused without being read whole (a 60 MB
#: presentedForm is large for one resource; a 2 GB line is no resource)
MAX_LINE_BYTES = 64 << 20


def file_too_large(name: str) -> SourceError:
    return SourceError(
        name,
        f"cannot read file: larger than {MAX_BUNDLE_FILE_BYTES >> 20} MiB, and a Bundle file is read whole; "
        "send such an export as NDJSON (one resource per line) or split it",
    )


def line_too_long(where: str) -> SourceError:
    return SourceError(where, f"not read: a line longer than {MAX_LINE_BYTES >> 20} MiB is no single resource")


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading (buffered), if it is a regular file: pipes, devices and sockets are
    refused (OSError) without blocking."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a named pipe" if stat.S_ISFIFO(mode) else "a folder" if stat.S_ISDIR(mode) else "a device or socket"
            raise OSError(f"it is {kind}, not a regular file")
        return os.fdopen(fd, "rb", buffering=1 << 20)
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file. Pipes, devices and sockets are refused without blocking."""
    with open_regular(path) as f:
        return f.read()


def printable_path(path: Path) -> str:
    """The path as text that can be printed: undecodable bytes of a file name become U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")


_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF32_BRACES = (b"{\x00\x00\x00", b"\x00\x00\x00{")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: the first bytes of a UTF-16 JSON text without a byte-order mark: "{" beside a NUL byte
_UTF16_BRACES = (b"{\x00", b"\x00{")
#: the first bytes of compressed data (none can start a JSON text)
_COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"),  # RFC 1952
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),  # RFC 8878
)
_ARCHIVE_MAGIC = ((b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"7z\xbc\xaf\x27\x1c", "7z"))
#: a tar header's magic (POSIX "ustar\0", GNU "ustar  \0") at byte 257: its NUL is in no JSON text
_TAR_MAGIC = ((257, b"ustar\x00"), (257, b"ustar  \x00"))
#: how many first bytes of a file refusal_reason looks at (a tar header's magic ends at 265)
HEAD_BYTES = 265
_PLAIN = "input files are read as plain UTF-8 text"


def refusal_reason(head: bytes, name: str, ndjson: bool) -> str | None:
    """Why a whole input file is not read, from its first HEAD_BYTES bytes (and its name, to tell a
    compressed archive): UTF-16 text (a byte-order mark, or "{" beside a NUL byte), compressed data
    (gzip, bzip2, xz, zstd) or an archive (zip, 7z, tar). None: read it. The one rule of every reader -
    one process, ``--workers N``, ``distributed`` - so that such a file is one problem, said the same way,
    not one "not UTF-8"/"not JSON" per line (probe81 L2/L3, probe82 D7/D10)."""
    fhir_json = "NDJSON" if ndjson else "JSON"
    # UTF-32 first: its little-endian byte-order mark begins with UTF-16's (probe84 D6: "UTF-16 text")
    if head.startswith(_UTF32_BOMS) or head[:4] in _UTF32_BRACES:
        return f"UTF-32 text; FHIR {fhir_json} is UTF-8 - convert the file"
    if head.startswith(_UTF16_BOMS) or head[:2] in _UTF16_BRACES:
        return f"UTF-16 text; FHIR {fhir_json} is UTF-8 - convert the file"
    archive = next((kind for magic, kind in _ARCHIVE_MAGIC if head.startswith(magic)), None)
    if archive is None and any(head[at : at + len(magic)] == magic for at, magic in _TAR_MAGIC):
        archive = "tar"
    if archive is not None:
        return f"a {archive} archive: extract its files first ({_PLAIN})"
    compressed = next((kind for magic, kind in _COMPRESSION_MAGIC if head.startswith(magic)), None)
    if compressed is None:
        return None
    lower = name.lower()
    if lower.endswith((".tgz", ".tbz2", ".txz")) or Path(lower).stem.endswith(".tar"):
        return f"a {compressed}-compressed tar archive: extract its files first ({_PLAIN})"
    return f"{compressed}-compressed: decompress it first ({_PLAIN})"


def refused_file(name: str, head: bytes, ndjson: bool) -> SourceError | None:
    """The one problem of a file refusal_reason refuses (``name``: the file as printed), else None."""
    reason = refusal_reason(head, name, ndjson)
    return None if reason is None else SourceError(name, f"cannot read file: {reason}")


def _decode(data: bytes) -> str:
    """UTF-8, with an optional byte-order mark; anything else is refused with the byte's position."""
    if (reason := refusal_reason(data[:HEAD_BYTES], "", ndjson=False)) is not None:
        raise UnicodeError(reason)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UnicodeError(f"not UTF-8 (byte 0x{data[exc.start]:02x} at line {line})") from None


#: JSON nested deeper than this is not parsed at all. The parsers' own limits would decide
#: otherwise, and json.loads' limit is Python's recursion limit *minus the caller's stack*: the same
#: line could be "not JSON" in one reader and a resource refused at the boundary in another.
MAX_PARSE_DEPTH = 256
#: a JSON string (brackets inside it do not nest) or a bracket
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_NESTING_BYTES = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
#: the same string token as _NESTING's, unrolled and possessive (no backtracking): _NESTING's
#: Python-level loop over every token cost seconds on a large Bundle
_STRING_BYTES = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
#: every bracket of a string-free text as "(" or ")", everything else deleted
_AS_PARENS = bytes.maketrans(b"{[}]", b"(())")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")


def json_skeleton(text: str | bytes) -> bytes:
    """``text`` (as UTF-8) without its JSON string literals: what is left is structure, numbers and
    literals. Strings are recognised exactly as _NESTING recognises them."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return _STRING_BYTES.sub(b"", data)


def nested_too_deeply(text: str | bytes, brackets: int | None = None, skeleton: bytes | None = None) -> bool:
    """Whether ``text`` opens more than MAX_PARSE_DEPTH brackets at once (brackets in strings do not
    count). ``brackets``: the count of "{" and "[" if the caller has it; only a text with that many
    brackets in all is scanned. ``skeleton``: json_skeleton(text) if the caller has it."""
    if isinstance(text, str):
        if (text.count("{") + text.count("[") if brackets is None else brackets) <= MAX_PARSE_DEPTH:
            return False
    elif (text.count(b"{") + text.count(b"[") if brackets is None else brackets) <= MAX_PARSE_DEPTH:
        return False
    parens = (json_skeleton(text) if skeleton is None else skeleton).translate(_AS_PARENS, _NOT_BRACKETS)
    if _properly_nested_within(parens, MAX_PARSE_DEPTH):
        return False
    # not properly nested (not valid JSON) or deeper than the limit: the exact token walk decides
    if isinstance(text, str):
        return _deeper_than(_NESTING.finditer(text), "[{", "]}")
    return _deeper_than(_NESTING_BYTES.finditer(text), (b"[", b"{"), (b"]", b"}"))


def _properly_nested_within(parens: bytes, limit: int) -> bool:
    """Whether ``parens`` ("(" and ")" only) is properly nested and at most ``limit`` deep. Each pass
    deletes every innermost "()" pair, i.e. exactly one level: a properly nested text is empty after
    as many passes as it is deep (C-speed passes; a walk in Python costs a call per bracket)."""
    for _ in range(limit):
        if not parens:
            return True
        reduced = parens.replace(b"()", b"")
        if len(reduced) == len(parens):
            return False  # a ")" before its "(" or unclosed brackets: not properly nested
        parens = reduced
    return not parens


def _deeper_than(tokens: Iterator[re.Match[Any]], opening: Any, closing: Any) -> bool:
    depth = 0
    for m in tokens:
        token = m.group()
        if token in opening:
            depth += 1
            if depth > MAX_PARSE_DEPTH:
                return True
        elif token in closing:
            depth -= 1
    return False


def _loads(text: str, depth_checked: bool = False) -> Any:
    """json.loads, with nesting past MAX_PARSE_DEPTH (or exhausting the parser) a ValueError, a key
    given twice in an object a DuplicateKey (a ValueError) and an integer past Python's digit limit
    ±inf (strict_json). ``depth_checked``: the caller has already applied nested_too_deeply to this text."""
    if not depth_checked and nested_too_deeply(text):
        raise ValueError("nested too deeply")
    try:
        parsed = _json_loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    check_keys(text, parsed)
    return parsed


#: a UTF-8 byte-order mark: tolerated at the start of any NDJSON line, since two exports joined with
#: `cat` carry one at the start of the second file's first line (probe99 D4)
BOM = b"\xef\xbb\xbf"


def refuse_repeated_keys(tree: Any, origin: str, errors: list[SourceError]) -> Any:
    """A file's or NDJSON line's content that gives a key twice somewhere (``tree``: DuplicateKey.tree),
    with what cannot be read refused and listed (probe99 D1): a Bundle's entry that does, as that entry;
    a Bundle whose own top level does (two "entry" lists), or a single resource, as a whole - then None.
    The other entries are read."""
    entries = tree.get("entry") if isinstance(tree, dict) else None
    top = first_duplicate({k: v for k, v in tree.items() if k != "entry"}) if isinstance(tree, dict) else None
    is_bundle = isinstance(tree, dict) and tree.get("resourceType") == "Bundle"
    if not is_bundle or not isinstance(entries, list) or top is not None or type(tree) is not dict:
        found = first_duplicate(tree)
        key, where = found if found is not None else ("?", "?")
        whole = "the Bundle is not read, none of its entries" if is_bundle else "this resource is skipped"
        errors.append(
            SourceError(origin, f"{repeated_key_message(key, where)}; {whole}", None if is_bundle else _ref_of(tree))
        )
        return None
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        rtype = resource.get("resourceType") if isinstance(resource, dict) else None
        found = first_duplicate(entry, f"entry[{i}]")
        if found is None:
            continue
        key, where = found
        prefix = f"entry[{i}].resource"
        if (
            isinstance(rtype, str)
            and rtype.isalnum()
            and where.startswith(prefix)
            and not (where == prefix and key == "resourceType")
        ):
            where = rtype + where[len(prefix) :]
        errors.append(
            SourceError(
                f"{origin}#entry[{i}]", f"{repeated_key_message(key, where)}; this entry is skipped", _ref_of(resource)
            )
        )
        entries[i] = REFUSED_ENTRY
    return tree


def _ref_of(data: Any) -> str | None:
    """ "Type/id" of a resource refused whole, when it names both plainly."""
    if not isinstance(data, dict):
        return None
    rtype, rid = data.get("resourceType"), data.get("id")
    if isinstance(rtype, str) and _TYPE_NAME.fullmatch(rtype) and isinstance(rid, str) and re.fullmatch(FHIR_ID, rid):
        return f"{rtype}/{rid}"
    return None


def _iter_file(path: Path, errors: list[SourceError]) -> Iterator[tuple[dict[str, Any], str, str | None, bool]]:
    """Yield (resource, origin, fullUrl, may_be_deep) from one file; record what cannot be read."""
    name = printable_path(path)
    ndjson = path.suffix.lower() in (".ndjson", ".jsonl")
    try:
        with open_regular(path) as f:
            head = f.read(HEAD_BYTES)
            if (refused := refused_file(name, head, ndjson)) is not None:
                errors.append(refused)
                return
            if not ndjson and os.fstat(f.fileno()).st_size > MAX_BUNDLE_FILE_BYTES:
                errors.append(file_too_large(name))
                return
            data = head + f.read()
    except OSError as exc:
        errors.append(SourceError(name, f"cannot read file: {exc.strerror or exc}"))
        return
    if ndjson:
        # NDJSON separates records by "\n" only: U+2028, U+0085 or a lone "\r" inside a string are
        # legal JSON text. Each line is decoded on its own, so one bad line costs only itself.
        for lineno, chunk in enumerate(data.split(b"\n"), 1):
            if len(chunk) > MAX_LINE_BYTES:
                errors.append(line_too_long(f"{name}:{lineno}"))
                continue
            if chunk.startswith(BOM):
                chunk = chunk[3:]
            if not chunk.strip():
                continue
            try:
                line = chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(not_utf8_line(f"{name}:{lineno}", chunk, exc))
                continue
            if _irrelevant_line(line):
                continue
            try:
                parsed = _loads(line)
            except DuplicateKey as exc:
                parsed = refuse_repeated_keys(exc.tree, f"{name}:{lineno}", errors)
                if parsed is None:
                    continue
            except ValueError as exc:
                errors.append(SourceError(f"{name}:{lineno}", f"not JSON: {exc}"))
                continue
            deep = _may_be_deep(line)
            if (
                isinstance(parsed, dict)
                and isinstance(parsed.get("resourceType"), str)
                and parsed["resourceType"] != "Bundle"
            ):
                yield parsed, f"{name}:{lineno}", None, deep
            else:
                yield from _unpack(parsed, f"{name}:{lineno}", errors, deep)
        return
    try:
        text = _decode(data)
    except UnicodeError as exc:
        errors.append(SourceError(name, f"cannot read file: {exc}"))
        return
    parsed = parse_bundle_file(text, name, errors)
    if parsed is not None:
        yield from _unpack(parsed, name, errors, _may_be_deep(text))


def parse_bundle_file(text: str, name: str, errors: list[SourceError], parse: Callable[[str], Any] = _loads) -> Any:
    """A JSON file's content (a Bundle or one resource), parsed whole; nested past MAX_PARSE_DEPTH, a
    Bundle entry by entry (split_deep_bundle); else its problem listed and None. Every reader's rule."""
    try:
        parsed = parse(text)
        if parsed is None:  # JSON null: no resource, said like any other non-resource (probe67 D8)
            errors.append(SourceError(name, "not a FHIR resource: the file holds JSON null"))
        return parsed
    except DuplicateKey as exc:
        return refuse_repeated_keys(exc.tree, name, errors)
    except ValueError as exc:
        parsed = split_deep_bundle(text, name, errors) if str(exc) == "nested too deeply" else None
        if parsed is None:
            hint = " (it looks like HTML: an error page?)" if text.lstrip().startswith("<") else ""
            errors.append(SourceError(name, f"not JSON{hint}: {exc}"))
        return parsed


#: strings, brackets, commas and colons of a JSON text (split_deep_bundle's walk)
_BUNDLE_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')
#: an entry split_deep_bundle could not parse: _unpack skips it (its problem is listed already)
REFUSED_ENTRY: Any = object()


def split_deep_bundle(text: str, name: str, errors: list[SourceError]) -> Any:
    """A Bundle file nested past MAX_PARSE_DEPTH read entry by entry: the top-level object with each
    entry parsed on its own, an entry that cannot be (too deep, no JSON) listed and replaced by
    REFUSED_ENTRY. One over-deep element cost the whole file, every patient in it (probe54 D1), where
    the same resource in an NDJSON file costs only its line. None when the text is no object with an
    "entry" array at its top (the file stays "not JSON")."""
    depth, key, after_colon = 0, None, False
    span: tuple[int, int] | None = None  # the "entry" array, brackets included
    items: list[tuple[int, int]] = []
    start = 0
    for m in _BUNDLE_TOKENS.finditer(text):
        piece = m.group(0)
        if piece in ("[", "{"):
            depth += 1
            if depth == 2 and after_colon and key == "entry" and piece == "[" and span is None:
                span, start = (m.start(), -1), m.end()
        elif piece in ("]", "}"):
            if depth == 2 and span is not None and span[1] == -1 and piece == "]":
                if text[start : m.start()].strip():
                    items.append((start, m.start()))
                span = (span[0], m.end())
            depth -= 1
            if depth < 0:
                return None
        elif piece == ",":
            if depth == 2 and span is not None and span[1] == -1:
                items.append((start, m.start()))
                start = m.end()
        elif piece == ":":
            after_colon = True
            continue
        elif depth == 1:
            key = piece[1:-1]  # a key, or a value (the next key replaces it)
        after_colon = False
    if depth != 0 or span is None or span[1] == -1:
        return None
    try:
        top = _loads(text[: span[0]] + "[]" + text[span[1] :])
    except ValueError:
        return None
    if not isinstance(top, dict) or top.get("resourceType") != "Bundle":
        return None
    entries: list[Any] = []
    for i, (a, b) in enumerate(items):
        try:
            entries.append(_loads(text[a:b]))
        except DuplicateKey as exc:
            errors.append(SourceError(f"{name}#entry[{i}]", f"{exc}; this entry is skipped"))
            entries.append(REFUSED_ENTRY)
        except ValueError as exc:
            errors.append(SourceError(f"{name}#entry[{i}]", f"not JSON: {exc}; this entry is skipped"))
            entries.append(REFUSED_ENTRY)
    top["entry"] = entries
    return top


def not_utf8_line(where: str, chunk: bytes, exc: UnicodeDecodeError) -> SourceError:
    """The report of an NDJSON line that is not UTF-8: the first bad byte and its column."""
    return SourceError(where, f"not UTF-8 (byte 0x{chunk[exc.start]:02x} at column {exc.start + 1})")


def _may_be_deep(text: str) -> bool:
    """Cheap (C-speed) test whether a text could nest past MAX_DEPTH at all."""
    return text.count("{") + text.count("[") > MAX_DEPTH


_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}")
_TYPE = re.compile(r'"resourceType"\s*:\s*"([A-Za-z]+)"')


def _irrelevant_line(line: str) -> bool:
    """Skip an NDJSON line of a type we never read without parsing it (bulk exports are mostly
    Claims, Encounters, ...). Only when the line holds a single resource: a contained resource
    could otherwise be mistaken for the outer one."""
    if line.count('"resourceType"') != 1:
        return False
    m = _TYPE.search(line)
    return m is not None and m.group(1) not in FILE_TYPES and m.group(1) != "Bundle" and is_resource_type(m.group(1))


def _unpack(
    data: Any, origin: str, errors: list[SourceError], deep: bool
) -> Iterator[tuple[dict[str, Any], str, str | None, bool]]:
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        what = {type(None): "JSON null", list: "a JSON array"}.get(type(data), "no resourceType")  # probe70 D15
        errors.append(SourceError(origin, f"not a FHIR resource: {what}"))
        return
    if data["resourceType"] != "Bundle":
        yield data, origin, None, deep
        return
    # "History", " searchset ": a sender's spelling of the type decides deletions and failed searches (probe140)
    btype = fhir_code(data.get("type")) or data.get("type")
    if not isinstance(btype, str) or btype not in BUNDLE_TYPES:
        errors.append(
            SourceError(origin, f"Bundle.type {btype!r} is not a FHIR R4 bundle type; reading its entries anyway")
        )
    entries = data.get("entry")
    if entries is None:
        return  # an empty Bundle
    if not isinstance(entries, list):
        errors.append(SourceError(origin, "Bundle.entry is not a list"))
        return
    if btype == "searchset" and (failed := failed_search_outcome(data)) is not None:
        # a saved search page that says it is incomplete (probe47 D4: "too-costly", read as complete, exit 0)
        errors.append(
            SourceError(
                origin,
                f"the search this searchset came from failed or is incomplete ({failed}): resources may be "
                "missing from it; its entries are read - fetch the search again",
            )
        )
    # a history lists the newest version first: a deletion supersedes the versions listed after it
    deleted: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"{origin}#entry[{i}]"
        if entry is REFUSED_ENTRY:
            continue
        if not isinstance(entry, dict):
            errors.append(SourceError(where, "entry is not an object"))
            continue
        request: Any = entry.get("request")
        resource = entry.get("resource")
        method = _request_method(request)
        if method is None:  # probe140 D13: a blank or unknown method was read as if the entry had none
            errors.append(SourceError(where, _request_problem(request), _ref_of(resource)))
            continue
        if method == "delete":  # probe140 D4: "Delete" was not taken as a deletion, the deleted VEGF read
            if btype == "history":
                deleted.update(_deleted_keys(entry, request))
            if isinstance(resource, dict):  # probe103 A2: a deleted Patient left the output without a word
                errors.append(SourceError(where, f"{_DELETE_WITH_RESOURCE % _type_of(resource)}", _ref_of(resource)))
            continue
        if (why := outcome_entry_problem(entry)) is not None:
            if why:
                errors.append(SourceError(where, why, _ref_of(resource)))
            continue
        if resource is None:
            if not _may_lack_resource(entry, btype):  # an empty entry of a collection is a lost resource
                errors.append(SourceError(where, "entry without a resource: nothing to read; skipped"))
            continue
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            errors.append(SourceError(where, "entry.resource has no resourceType"))
            continue
        if resource["resourceType"] == "Bundle":
            yield from _unpack(resource, where, errors, deep)
            continue
        if deleted and f"{resource['resourceType']}/{resource.get('id')}" in deleted:
            continue  # an older version of a resource deleted since: no longer active
        full_url = entry.get("fullUrl")
        ok = isinstance(full_url, str) and full_url and is_unicode(full_url)
        yield resource, where, full_url if ok else None, deep


_DELETE_WITH_RESOURCE = "a DELETE entry also carries %s: the entry deletes it, so it is not read"


def _type_of(resource: dict[str, Any]) -> str:
    rtype = resource.get("resourceType")
    return f"a {rtype}" if isinstance(rtype, str) and _TYPE_NAME.fullmatch(rtype) else "a resource"


def outcome_entry_problem(entry: dict[str, Any]) -> str | None:
    """For a searchset entry of mode 'outcome' (information about the search, not a result): "" when it
    holds an OperationOutcome (or nothing) - passed over -, the reason when it holds anything else - listed
    and skipped (probe103 D2: a polyneuropathy Condition marked so was dropped without a word, `met` became
    `indeterminate`); None for any other entry."""
    search = entry.get("search")
    if not (isinstance(search, dict) and fhir_code(search.get("mode")) == "outcome"):
        return None
    resource = entry.get("resource")
    if not isinstance(resource, dict) or resource.get("resourceType") == "OperationOutcome":
        return ""
    return (
        f"an entry of search.mode 'outcome' holds {_type_of(resource)}, not an OperationOutcome: whether it is a "
        "result of the search cannot be told, so it is not read - the server should mark results 'match' or 'include'"
    )


def _request_method(request: Any) -> str | None:
    """An entry's request.method as an HTTP verb in lower case ("Delete", " DELETE " -> "delete"); "" for an entry
    without a request; None for a request whose method is missing, blank or no HTTP verb."""
    if request is None:
        return ""
    method = fhir_code(request.get("method")) if isinstance(request, dict) else None
    return method if method in HTTP_VERBS else None


def _request_problem(request: Any) -> str:
    method = request.get("method") if isinstance(request, dict) else None
    said = "no request.method" if method is None else f"request.method {str(method)[:40]!r}"
    if not isinstance(request, dict):
        said = "a request that is not an object"
    return (
        f"entry with {said}, which is no HTTP method ({', '.join(sorted(m.upper() for m in HTTP_VERBS))}): whether "
        "it creates, changes or deletes its resource cannot be told; not read - fix the entry's request"
    )


def _deleted_keys(entry: dict[str, Any], request: dict[str, Any]) -> set[str]:
    """ "Type/id" of the resource a history's DELETE entry removed (its request.url, else its fullUrl)."""
    keys = set()
    for url in (request.get("url"), entry.get("fullUrl")):
        if isinstance(url, str) and (m := _REF.search(url.split("?", 1)[0])):
            keys.add(f"{m.group(1)}/{m.group(2)}")
    return keys


#: Bundle types whose entries carry a response, not necessarily a resource
_RESPONSE_BUNDLES = frozenset(("transaction-response", "batch-response", "history"))


def _may_lack_resource(entry: dict[str, Any], btype: Any) -> bool:
    """FHIR allows an entry without a resource where it carries a request (a GET or DELETE of a
    batch) or a response (a transaction response, a history entry of a deletion); anywhere else
    (a collection, a searchset, an export) it is a resource that got lost on the way."""
    return (
        btype in _RESPONSE_BUNDLES or isinstance(entry.get("request"), dict) or isinstance(entry.get("response"), dict)
    )


def _last_updated(data: dict[str, Any]) -> str:
    """meta.lastUpdated as a key that sorts by time: the instant in UTC to the microsecond, so that
    "18:10-05:00" is after "22:00Z" and "10:00:00Z" equals "10:00:00.000Z" (text order got both
    wrong: faultprobe4 T08/T26). A missing or unreadable value sorts first, by its text."""
    meta = data.get("meta")
    value = meta.get("lastUpdated") if isinstance(meta, dict) else None
    if not isinstance(value, str):
        return "0"
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"0{value}"
    # the instant in UTC as microseconds since year 1, in integers: converting 9999-12-31T23:59:59-12:00
    # or 0001-01-01T00:00:00+14:00 to UTC leaves datetime's range (probe43: OverflowError, the run lost);
    # FHIR requires a zone, a missing one is read as UTC
    offset = instant.utcoffset() or dt.timedelta(0)
    seconds = instant.toordinal() * 86_400 + instant.hour * 3_600 + instant.minute * 60 + instant.second
    micros = seconds * 1_000_000 + instant.microsecond - offset // dt.timedelta(microseconds=1)
    return f"1{micros:020d}"


def _newer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether ``a`` is a later version than ``b`` (by meta.lastUpdated; ties keep the later read)."""
    return _last_updated(a) >= _last_updated(b)


def read_paths(
    paths: Iterable[str | Path], max_per_patient: int = MAX_RESOURCES_PER_PATIENT, prune: Prune | None = None
) -> ReadResult:
    """Read all inputs and group the relevant resources by patient (``prune``: see :func:`pruned`)."""
    # Parsed JSON is acyclic; keeping 100k+ dicts alive makes the cyclic GC rescan them over
    # and over (measured: 4x slower reads). Pause it while reading.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_paths(paths, max_per_patient, prune)
    finally:
        if enabled:
            gc.enable()


class _Collector:
    """Validates each resource at the boundary and indexes it; refusals and id clashes are reported."""

    def __init__(self, errors: list[SourceError], prune: Prune | None = None) -> None:
        self.errors = errors
        self.prune = prune
        self.index = ResourceIndex()
        self.anonymous: list[Raw] = []  # without id: cannot be deduplicated or referenced
        #: same Type/id, different content, another patient: each kept for its own patient
        self.clashing: list[Raw] = []
        self.skipped = 0
        #: fullUrls that named two different resources: followed for neither
        self.ambiguous: set[str] = set()
        #: Type/id read with different content and the same version time: used for neither copy (the
        #: copies read so far), until a later version replaces them
        self.contested: dict[str, list[Raw]] = {}
        #: the keys of Patients refused at the boundary: their resources are still theirs (refused_patient_key)
        self.refused_patients: set[str] = set()

    def add(self, data: dict[str, Any], origin: str, full_url: str | None = None, deep: bool = True) -> None:
        rtype = data["resourceType"]
        if rtype not in FILE_TYPES:
            problem = type_problem(rtype, _TYPE_NAME.fullmatch(rtype) is not None)
            if problem:  # a typo ("Observaton") is no type the mapping merely does not read
                self.errors.append(SourceError(origin, problem))
            else:
                self.skipped += 1
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
            if refused is not None:  # its resources stay its own (probe81 D2)
                self.refused_patients.add(refused)
                self._full_url(full_url, refused, origin)
            return
        if is_own_output(data):
            self.skipped += 1
            return
        if rtype == "Binary":
            data = stored_binary(data)
        key = ref or full_url  # transaction bundles (Synthea) may carry only a urn:uuid fullUrl
        if key is None:
            self.anonymous.append(Raw(data, origin, stub=stub is not None))
            return
        self._full_url(full_url, key, origin)
        raw = Raw(data, origin, key, stub is not None)
        existing = self.index.by_key.get(key)
        nobodys = rtype in REFERENCED_ONLY and subject_of(data) is None
        if key in self.contested:
            self._contested(key, raw, nobodys)
            return
        if existing is None:
            self.index.by_key[key] = raw
            if nobodys:
                self.index.shared[key] = data
        elif existing.data == data:
            return  # the same resource read twice (overlapping exports, repeated search pages)
        elif subject_of(existing.data) != subject_of(data):
            self.errors.append(other_subject_copy(origin, key, existing.origin))
            self.clashing.append(raw)
            if nobodys:
                self.index.shared.setdefault(key, data)
        elif _stamp(data) != _stamp(existing.data):
            if _newer(data, existing.data):  # a later version of the same resource
                self.index.by_key[key] = raw
                if nobodys:
                    self.index.shared[key] = data
        else:
            # which copy holds cannot be told: neither is used (the first one read was, and a stray file
            # read first decided a VEGF: probe47 D5, probe54), unless a later version comes
            self.errors.append(contested_copies(origin, key, existing.origin))
            del self.index.by_key[key]
            self.index.shared.pop(key, None)
            self.contested[key] = [existing, raw]

    def _full_url(self, full_url: str | None, key: str, origin: str) -> None:
        """``full_url`` names ``key``, unless another entry gave it to another resource (then neither)."""
        if full_url and full_url not in self.ambiguous:
            known = self.index.by_full_url.get(full_url)
            if known is not None and known != key:
                del self.index.by_full_url[full_url]
                self.ambiguous.add(full_url)
                self.errors.append(ambiguous_full_url(origin, full_url, key, known))
            else:
                self.index.by_full_url[full_url] = key

    def _contested(self, key: str, raw: Raw, nobodys: bool) -> None:
        """A further copy of a contested key: a copy of one of them is nothing new; another patient's is
        used for that patient only; a later version replaces them; any other is contested too."""
        copies = self.contested[key]
        first, data = copies[0], raw.data
        if any(c.data == data for c in copies):
            return
        if subject_of(first.data) != subject_of(data):
            self.errors.append(other_subject_copy(raw.origin, key, first.origin))
            self.clashing.append(raw)
            if nobodys:
                self.index.shared.setdefault(key, data)
        elif _stamp(data) != _stamp(first.data):
            if _newer(data, first.data):  # a later version replaces the contested ones
                del self.contested[key]
                self.index.by_key[key] = raw
                if nobodys:
                    self.index.shared[key] = data
        else:
            self.errors.append(contested_copies(raw.origin, key, first.origin))
            copies.append(raw)

    def records(
        self, max_per_patient: int, identifiers: PatientIdentifiers | None = None, merges: Merges | None = None
    ) -> list[PatientRecord]:
        """``identifiers``, ``merges``: the Patients and merges of the whole input, where this collector
        holds part of it (the distributed run): a conditional subject is judged against all of them, and
        a record is merged (or its links go round) as over the whole input - whose problems the caller lists."""
        raws = list(self.index.by_key.values()) + self.anonymous + self.clashing
        return _group_by_patient(
            raws, self.index, self.errors, max_per_patient, identifiers, self.refused_patients, merges
        )


def _stamp(data: dict[str, Any]) -> str:
    """The version time of two copies compared: equal when the instants are (however written)."""
    return _last_updated(data) if isinstance(data.get("meta"), dict) else "0"


def _read_paths(paths: Iterable[str | Path], max_per_patient: int, prune: Prune | None) -> ReadResult:
    errors = ProblemList()
    collector = _Collector(errors, prune)
    files = resources = 0
    for path in iter_input_files(paths):
        files += 1
        for data, origin, full_url, deep in _iter_file(path, errors):
            resources += 1
            collector.add(data, origin, full_url, deep)
    if files == 0:
        raise InputError("no .json or .ndjson files found in the given paths")
    records = collector.records(max_per_patient)
    from .binaries import inline_input_binaries  # it reads records: imported here, past this module's own import

    for record in records:
        inline_input_binaries(record)
    errors.close()
    return ReadResult(records, errors, files, resources, collector.skipped)


def records_from_resources(
    resources: Iterable[tuple[dict[str, Any], str]],
    max_per_patient: int = MAX_RESOURCES_PER_PATIENT,
) -> tuple[list[PatientRecord], list[SourceError]]:
    """Group already-fetched resources (e.g. from a server search) like read_paths does."""
    errors = ProblemList()
    collector = _Collector(errors)
    for data, origin in resources:
        if isinstance(data, RefusedResource):  # a server's answer gave a key twice in it
            errors.append(SourceError(origin, data.reason, _ref_of(data)))
            continue
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            errors.append(SourceError(origin, "not a FHIR resource: no resourceType"))
            continue
        collector.add(data, origin)
    records = collector.records(max_per_patient)
    errors.close()
    return records, errors


def other_subject_copy(origin: str, key: str, other: str) -> SourceError:
    """A copy of ``key`` for another patient than the copy read before."""
    return SourceError(
        origin,
        f"{key} is also in {other} with different content and another subject; each copy is used for its own "
        "patient only",
        key,
    )


def contested_copies(origin: str, key: str, other: str) -> SourceError:
    """Two copies of one resource with different content and the same version time."""
    return SourceError(
        origin,
        f"{key} is also in {other} with different content and no later meta.lastUpdated: which copy holds "
        "cannot be told, so neither is used - keep one copy, or give the newer one a later meta.lastUpdated",
        key,
    )


def ambiguous_full_url(origin: str, full_url: str, key: str, known: str) -> SourceError:
    """Two entries (of two Bundle files, say) give one fullUrl to two different resources: a reference
    to it could be either, so it is followed for neither (probe43: Bob's Bundle reused Alice's
    urn:uuid, and Alice's neuropathy became Bob's evidence, written back to his record)."""
    return SourceError(
        origin,
        f"fullUrl {full_url} names {key} here and {known} in an earlier entry: references to it are not "
        "followed (whose resource they mean cannot be told); give each entry its own fullUrl",
        key,
    )


def refused_patient_key(rtype: str, ref: str | None, full_url: str | None) -> str | None:
    """The key a Patient refused at the boundary would have had, when a fullUrl may name it: its valid
    "Patient/<id>", else (no id) the fullUrl itself; None for any other resource or a malformed id.
    A refused Patient costs its record nothing, as with plain ids, where "Patient/<id>" groups its
    resources without it (probe81 D2: in a urn:uuid transaction, as Synthea writes, every resource of
    the patient was refused as "subject 'urn:uuid:...' is not a Patient")."""
    if rtype != "Patient" or not full_url:
        return None
    if ref is None:
        return full_url
    return ref if patient_reference(ref) else None


def own_key(rtype: str, rid: Any, full_url: str | None) -> str | None:
    """ "Type/id" of a resource: its id, else the RESTful absolute fullUrl it was sent under
    ("https://ehr.example.org/fhir/Patient/p1" is Patient/p1: FHIR resolves the entries' relative
    references against it), else None (a urn:uuid fullUrl keys it on its own)."""
    if isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    if full_url and full_url.startswith(("http://", "https://")) and (m := _REF.search(full_url)):
        if m.group(1) == rtype:  # also a versioned one (FHIR forbids it in fullUrl; it still names the resource)
            return f"{rtype}/{m.group(2)}"
    return None


def subject_of(data: dict[str, Any]) -> str | None:
    """The subject's reference; a logical reference by identifier alone (``Reference.identifier``,
    as some EHRs send it) as the conditional reference that names the same Patient, which grouping
    resolves against the input's Patients (exactly one must carry it)."""
    for name in _SUBJECT_FIELDS:
        ref = data.get(name)
        if not isinstance(ref, dict):
            continue
        if isinstance(ref.get("reference"), str):
            return ref["reference"]
        ident = ref.get("identifier")
        if isinstance(ident, dict) and ref.get("type") in (None, "Patient"):
            value, system = ident.get("value"), ident.get("system")
            if isinstance(value, str) and value and "|" not in value and (system is None or isinstance(system, str)):
                return f"Patient?identifier={system}|{value}" if system else f"Patient?identifier={value}"
    return None


def _group_by_patient(
    raws: list[Raw],
    index: ResourceIndex,
    errors: list[SourceError],
    max_per_patient: int = MAX_RESOURCES_PER_PATIENT,
    identifiers: PatientIdentifiers | None = None,
    refused: Container[str] = (),
    merges: Merges | None = None,
) -> list[PatientRecord]:
    """``refused``: keys of Patients refused at the boundary (a fullUrl subject naming one is theirs).
    ``merges``: decided over the whole input by the caller (who lists their problems), else here."""
    groups: dict[str, list[Raw]] = {}
    patients: dict[str, dict[str, Any]] = {}
    # Every Patient first: a conditional or fullUrl subject may name a Patient read after it (a bulk
    # export's files come in any order, e.g. Observation.ndjson before Patient.ndjson).
    for raw in raws:
        if raw.data["resourceType"] == "Patient" and raw.ref:
            patients[raw.ref] = raw.data
    whole_input = merges is not None
    if merges is None:
        merges = patient_merges(((k, d.get("link")) for k, d in patients.items() if d.get("link")), patients, index)
    for raw in raws:
        data = raw.data
        if data["resourceType"] == "Patient":
            key = raw.ref
            if key:
                patients[key] = data
                groups.setdefault(key, [])
            else:
                errors.append(
                    SourceError(raw.origin, "Patient without id or fullUrl: no resource can refer to it; skipped")
                )
            continue
        # a subject that is there but empty is not "none": it is listed, as any resource's would be
        if data["resourceType"] in REFERENCED_ONLY and (raw.ref is None or subject_of(data) is None):
            if raw.ref is None:
                errors.append(
                    SourceError(
                        raw.origin,
                        f"{data['resourceType']} without id or fullUrl: no resource can refer to it; skipped",
                    )
                )
            continue  # reachable by reference only
        ref = subject_of(data)
        if ref is None:
            if data["resourceType"] != "Specimen":
                errors.append(SourceError(raw.origin, "no subject/patient reference: cannot tell whose it is", raw.ref))
            continue
        patient = index.canonical(ref)
        if not patient or not (patient_reference(patient) or patient in patients or patient in refused):
            if patient and patient.startswith("Patient?"):
                if identifiers is None:  # every Patient is known: indexed once, on the first one needed
                    identifiers = PatientIdentifiers((k, d.get("identifier")) for k, d in patients.items())
                patient, why = identifiers.resolve(patient)
                if patient is None:
                    errors.append(SourceError(raw.origin, why, raw.ref))
                    continue
            else:
                errors.append(SourceError(raw.origin, not_a_patient(ref), raw.ref))
                continue
        # a retired record's resources are its survivor's, in reading order (probe79 D1)
        groups.setdefault(merges.survivor(patient), []).append(raw)
    if not whole_input:
        errors.extend(merge_problems(merges))
    replaced = merges.replaced()
    records = []
    for p, rs in sorted(groups.items()):
        if len(rs) > max_per_patient:
            list_always(errors, over_limit(p, len(rs), max_per_patient))
            continue
        kept = [r for r in rs if not r.stub]  # a stub counted towards the limit: it was read
        records.append(
            PatientRecord(
                patient=p,
                resources=kept,
                index=index,
                patient_resource=patients.get(p),
                merged_into=merges.into.get(p),
                merged_from=replaced.get(p, ()),
                links_go_round=p in merges.going_round,
            )
        )
    return records


def patient_merges(links: Iterable[tuple[str, Any]], present: Container[str], index: ResourceIndex) -> Merges:
    """fhir/merges.find_merges over the input's Patients with links (``links``: key, ``link``), their
    references read as the index reads any (relative, absolute, a fullUrl)."""

    def canonical(ref: str) -> str | None:
        key = index.canonical(ref)
        return key if key is not None and patient_reference(key) else None

    return find_merges(links, present, canonical)


def merge_problems(merges: Merges) -> list[SourceError]:
    """The links a merge could not follow, as input problems naming the record."""
    return [SourceError(patient, why, patient) for patient, why in merges.problems]


_CONDITIONAL = re.compile(r"Patient\?identifier=(?:(.*)\|)?(.+)$")


class PatientIdentifiers:
    """The input's Patients by identifier, for conditional subjects ("Patient?identifier=[system|]value").
    FHIR (http.html, conditional references): "if there are no matches, or multiple matches, the
    transaction fails" - so a subject resolves only to exactly one Patient; two Patients that carry the
    same identifier, or none, leave the resource unassigned and reported, never given to the first
    one read or made a patient of its own."""

    def __init__(self, patients: Iterable[tuple[str, Any]]) -> None:
        """``patients``: (key, identifier list) of every Patient read."""
        self.by_value: dict[str, list[tuple[Any, str]]] = {}
        for key, identifiers in patients:
            for ident in identifiers if isinstance(identifiers, list) else ():
                if isinstance(ident, dict) and isinstance(ident.get("value"), str):
                    self.by_value.setdefault(ident["value"], []).append((ident.get("system"), key))

    def matches(self, ref: str) -> list[str] | None:
        """The distinct Patients ``ref`` names; None when it is not of the conditional form read."""
        m = _CONDITIONAL.match(ref)
        if not m:
            return None
        system, value = m.group(1), m.group(2)
        return list(dict.fromkeys(k for s, k in self.by_value.get(value, ()) if system is None or s == system))

    def resolve(self, ref: str) -> tuple[str | None, str]:
        """(the one Patient ``ref`` names, "") or (None, why not)."""
        found = self.matches(ref)
        if found is None:
            return None, (
                f"subject {ref!r}: a conditional reference is read only as Patient?identifier=[system|]value; "
                "cannot tell whose it is"
            )
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, (
                f"subject {ref!r} matches no Patient in the input: cannot tell whose it is (a conditional "
                "reference must match exactly one Patient); add the Patient to the input or fix the identifier"
            )
        shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
        return None, (
            f"subject {ref!r} matches {len(found)} Patients ({shown}): cannot tell whose it is (a conditional "
            "reference must match exactly one Patient); the identifier is not unique in the input"
        )
