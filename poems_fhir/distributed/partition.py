# SPDX-License-Identifier: Apache-2.0
"""Evaluate one output partition: group its shuffled items by patient, evaluate each patient with the
same functions as `poems-fhir evaluate`, write the partition's three files.

Per patient: `read._Collector` (boundary validation, duplicate ids, own output dropped) and its grouping
(`records_from_resources`' semantics, with fullUrls) over that patient's resources in read order, then
`pipeline.evaluate_record`, the `evaluate --format json` item (`report.json_report.patient_to_dict`) and,
in scope, `pipeline.transaction_for` with the page attached (as `evaluate --out`). The subject-less
Medication/Specimen resources are the broadcast `shared` index, consulted after the patient's own; the
Binaries the patient's notes name came with the patient's resources (keying.BinaryMap) and are read into
the notes by `fhir/binaries.inline_input_binaries`, as every file reader does.

Files (names carry the partition number only, contents are in patient order, so a given partitioning
always gives the same bytes for the same input and run time):
  results/part-NNNNN.ndjson       one JSON item per patient
  transactions/part-NNNNN.json    one transaction Bundle for the partition's in-scope patients
  errors/part-NNNNN.ndjson        one skipped file/line/resource per line (evaluate's `errors` items)
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections import ChainMap
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from ..criteria.profiles import get_profile
from ..criteria.scope import ScreeningCounts
from ..fhir.binaries import inline_input_binaries
from ..fhir.read import MAX_RESOURCES_PER_PATIENT, ResourceIndex, SourceError, _Collector, _loads, internal_error
from ..mapping.rules import CompiledMapping
from .keying import Keyed, Order, PatientMap

#: errors each partition returns to the summary (all of them are in its errors file)
SUMMARY_ERRORS = 100


@dataclass(frozen=True)
class Settings:
    """What every partition needs, sent once to each worker."""

    mapping: CompiledMapping
    out: str  # output folder URL
    partitions: int
    now: dt.datetime  # one clock reading for the whole run (transactions and pages)
    profile: str
    as_of: dt.date | None = None
    baseline: dt.date | None = None
    trigger: tuple[str, ...] = ()
    show_all: bool = False
    report_status: str = "partial"
    language: str = "en"
    max_per_patient: int = MAX_RESOURCES_PER_PATIENT
    storage_options: dict[str, Any] = field(default_factory=dict)
    #: build and write the transactions (False: results and errors only, a screening run)
    transactions: bool = True


@dataclass
class PartResult:
    """What a partition reports back to the driver (small: counts and the first errors)."""

    partition: int
    patients: int = 0
    resources: int = 0
    skipped_types: int = 0
    screening: ScreeningCounts = field(default_factory=ScreeningCounts)
    transaction_entries: int = 0
    errors: int = 0
    internal: bool = False
    first_errors: list[SourceError] = field(default_factory=list)


def file_name(kind: str, partition: int) -> str:
    suffix = "json" if kind == "transactions" else "ndjson"
    return f"{kind}/part-{partition:05d}.{suffix}"


def dumps(doc: Any) -> str:
    """Compact JSON that strict parsers accept (cli._json's rule: a non-finite float becomes null)."""

    def clean(node: Any) -> Any:
        if isinstance(node, float) and not math.isfinite(node):
            return None
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items()}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    try:
        return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(clean(doc), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def dedupe(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Device entry is shared by all patients: keep one per fullUrl (as `evaluate --out FILE`)."""
    seen: set[str] = set()
    out = []
    for e in entries:
        if e["fullUrl"] not in seen:
            seen.add(e["fullUrl"])
            out.append(e)
    return out


def _chained(own: ResourceIndex, shared: ResourceIndex) -> ResourceIndex:
    """The patient's index first, then the broadcast subject-less resources (no copy per patient)."""
    return ResourceIndex(
        by_key=cast(dict[str, Any], ChainMap(own.by_key, shared.by_key)),
        by_full_url=cast(dict[str, str], ChainMap(own.by_full_url, shared.by_full_url)),
        shared=cast(dict[str, Any], ChainMap(own.shared, shared.shared)),
    )


def _as_keyed(item: Any) -> Keyed:
    """partd's on-disk shuffle (msgpack) hands tuples back as lists."""
    if isinstance(item, Keyed):
        return item
    k = Keyed(*item)
    order = cast(Order, tuple(k.order))
    return k._replace(order=order, counts=cast(tuple[int, int], tuple(k.counts)) if k.counts is not None else None)


def evaluate_partition(
    group: tuple[int, Iterable[Keyed]], shared: ResourceIndex, settings: Settings, pmap: PatientMap | None = None
) -> tuple[PartResult, list[str], dict[str, Any], list[SourceError]]:
    """One partition's results lines, transaction Bundle and errors (nothing written). ``pmap``: the
    whole input's Patients, so that a conditional subject no patient key took (no Patient, or two,
    carry the identifier) is reported as `evaluate` reports it, not as "matches no Patient"."""
    from ..mapping.extract import observation_pruner
    from ..pipeline import evaluate_record, html_for, merged_record_problem, run_day, transaction_for
    from ..report.json_report import patient_to_dict

    partition, items = group[0], map(_as_keyed, group[1])
    result = PartResult(partition)
    read_errors: list[tuple[Any, SourceError]] = []
    resources: list[Keyed] = []
    for it in items:
        if it.counts is not None:
            result.resources += it.counts[0]
            result.skipped_types += it.counts[1]
        elif it.error is not None:
            read_errors.append((it.order, it.error))
        elif it.text is not None or it.data is not None:
            resources.append(it)
    errors = [e for _, e in sorted(read_errors, key=lambda p: p[0])]
    resources.sort(key=lambda it: (it.patient, it.order))
    profile = get_profile(settings.profile)
    lines: list[str] = []
    entries: list[dict[str, Any]] = []
    # the reading rules of `evaluate` (fhir/spool.py): an Observation no rule can use is kept as its
    # identity only, not validated whole (a malformed vital sign is not reported)
    prune = observation_pruner(settings.mapping)
    identifiers = pmap.identifiers() if pmap is not None else None
    for _patient, its in itertools.groupby(resources, key=lambda it: it.patient):
        collector = _Collector(errors, prune)
        for it in its:
            # a Binary's copy for a second patient: what is wrong with it is listed once, by the first one
            collector.errors = [] if it.quiet else errors
            if it.text is not None:
                try:
                    data = _loads(it.text)
                except ValueError as exc:  # orjson read it, json cannot (e.g. nested too deeply)
                    collector.errors.append(SourceError(it.origin, f"not JSON: {exc}"))
                    continue
            else:
                data = cast(dict[str, Any], it.data)
            collector.add(data, it.origin, it.full_url, it.deep)
        collector.errors = errors
        records = collector.records(settings.max_per_patient, identifiers, pmap.merges if pmap is not None else None)
        index = _chained(collector.index, shared)
        for record in records:
            record.index = index
            inline_input_binaries(record)  # where every file reader builds a record (fhir/spool.py, read.py)
            if (merged := merged_record_problem(record)) is not None:  # read as its survivor's (probe79 D1)
                errors.append(merged)
                continue
            try:
                r = evaluate_record(
                    record,
                    settings.mapping,
                    profile,
                    settings.as_of,
                    settings.baseline,
                    settings.trigger,
                    clock_day=run_day(),
                )
            except Exception as exc:  # last resort: a bug must cost this patient only
                errors.append(internal_error(record.patient, record.patient, exc))
                continue
            errors.extend(r.extraction.errors)
            result.patients += 1
            result.screening.add(r.scope, r.assessment.classification)
            lines.append(dumps(patient_to_dict(r.assessment, r.response, r.risk, r.scope, settings.show_all)))
            if r.scope.in_scope and settings.transactions:
                entries.extend(_transaction_entries(r, settings, errors, html_for, transaction_for))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "transaction"}
    kept = dedupe(entries)
    if kept:  # FHIR JSON has no empty arrays: a partition with nobody in scope has no entry element
        bundle["entry"] = kept
    result.transaction_entries = len(kept)
    result.errors = len(errors)
    result.internal = any(e.internal for e in errors)
    result.first_errors = errors[:SUMMARY_ERRORS]
    return result, lines, bundle, errors


def _transaction_entries(
    r: Any, settings: Settings, errors: list[SourceError], html_for: Any, transaction_for: Any
) -> list[dict[str, Any]]:
    from ..fhir.write import NotWritableError, WriteContext

    ctx = WriteContext(
        settings.now, settings.mapping.identity, r.inputs, settings.report_status, language=settings.language
    )
    try:
        page = html_for(r, settings.mapping, language=settings.language, generated=settings.now)
        return list(transaction_for(r, ctx, page)["entry"])
    except NotWritableError as exc:
        errors.append(SourceError(r.assessment.patient, str(exc)))
    except Exception as exc:  # last resort: one patient's bug must not lose the others
        errors.append(internal_error(r.assessment.patient, r.assessment.patient, exc))
    return []


def run_partition(
    group: tuple[int, Iterable[Keyed]], shared: ResourceIndex, settings: Settings, pmap: PatientMap | None = None
) -> PartResult:
    """Evaluate one partition and write its files under ``settings.out`` (fsspec URL)."""
    import fsspec

    result, lines, bundle, errors = evaluate_partition(group, shared, settings, pmap)
    files = {
        "results": "".join(line + "\n" for line in lines),
        "errors": "".join(dumps(e.to_dict()) + "\n" for e in errors),
    }
    if settings.transactions:
        files["transactions"] = dumps(bundle) + "\n"
    for kind, text in files.items():
        url = f"{settings.out.rstrip('/')}/{file_name(kind, result.partition)}"
        with fsspec.open(url, "wb", **settings.storage_options) as f:
            f.write(text.encode("utf-8", "surrogatepass"))
    return result
