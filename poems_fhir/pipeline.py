"""One evaluation run over files: read -> map -> evaluate, per patient.

Orchestration only; the clinical logic lives in criteria/, the FHIR reading in fhir/ and mapping/.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .criteria.engine import evaluate
from .criteria.model import Assessment
from .criteria.profiles import Profile
from .fhir.read import PatientRecord, ReadResult, SourceError, read_paths
from .mapping.extract import Extraction, extract
from .mapping.rules import CompiledMapping


@dataclass
class PatientResult:
    record: PatientRecord
    extraction: Extraction
    assessment: Assessment


@dataclass
class Run:
    results: list[PatientResult]
    errors: list[SourceError] = field(default_factory=list)
    read: ReadResult | None = None


def evaluate_record(
    record: PatientRecord, mapping: CompiledMapping, profile: Profile, as_of: dt.date | None
) -> PatientResult:
    extraction = extract(record, mapping)
    assessment = evaluate(record.patient, extraction.findings, profile, as_of)
    return PatientResult(record, extraction, assessment)


def iter_evaluations(
    records: Iterable[PatientRecord], mapping: CompiledMapping, profile: Profile, as_of: dt.date | None,
    patients: Iterable[str] | None = None,
) -> Iterator[PatientResult]:
    wanted = set(patients) if patients else None
    for record in records:
        if wanted is None or record.patient in wanted or record.patient.split("/", 1)[-1] in wanted:
            yield evaluate_record(record, mapping, profile, as_of)


def evaluate_paths(
    paths: Iterable[str | Path],
    mapping: CompiledMapping,
    profile: Profile,
    as_of: dt.date | None = None,
    patients: Iterable[str] | None = None,
) -> Run:
    read = read_paths(paths)
    results = list(iter_evaluations(read.records, mapping, profile, as_of, patients))
    errors = list(read.errors) + [e for r in results for e in r.extraction.errors]
    return Run(results, errors, read)
