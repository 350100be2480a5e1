# SPDX-License-Identifier: Apache-2.0
"""The Dask graph of `poems-fhir distributed` (runs on the driver; the tasks are keying.py/partition.py).

  list the input (fsspec: a folder, a file, file:// s3:// gs:// hdfs:// ...)
  pass 1  dask.bytes.read_bytes blocks (NDJSON cut at "\\n", Bundle files whole) -> scan: line counts,
          Patients, subject-less Medication/Specimen, the Binaries notes name (gathered on the driver)
  driver  PatientMap (fullUrl / identifier -> patient key), first line of every block, the shared
          index (read._Collector over the subject-less resources), the BinaryMap (Binary -> the
          patients whose notes name it)                                      (broadcast to the tasks)
  pass 2  the same blocks -> key_block -> a bag of Keyed items -> groupby(output partition)
          (dask's shuffle: partd on disk without a cluster, the task shuffle with spill-to-disk on one)
          -> run_partition per output partition: evaluate each patient, write three files
  driver  summary.json from the partitions' counts

No cluster code of our own: the scheduler is a distributed.Client (an address, or a LocalCluster), or
Dask's synchronous scheduler.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from ..criteria.scope import ScreeningCounts
from ..fhir.read import (
    HEAD_BYTES,
    MAX_RESOURCES_PER_PATIENT,
    InputError,
    ResourceIndex,
    SourceError,
    _Collector,
    is_input_name,
    merge_problems,
    refusal_reason,
)
from ..mapping.rules import CompiledMapping
from ..mapping.text.engine import TextEngine
from ..sync.events import ev
from .keying import BinaryMap, Block, Keyed, PatientMap, Scan, key_block, scan
from .partition import PartResult, Settings, dumps, file_name, run_partition

log = logging.getLogger(__name__)

DEFAULT_BLOCKSIZE = 64 * 2**20
#: input bytes per output partition when --partitions is not given (deterministic: from the input only)
BYTES_PER_PARTITION = 128 * 2**20


class ClusterError(Exception):
    """The scheduler could not be reached, or the cluster lost the run."""


@dataclass(frozen=True)
class InputFile:
    url: str  # what fsspec opens
    name: str  # what origins print: the input as given, joined with the path below it
    ndjson: bool
    size: int
    #: why the whole file is not read (read.refusal_reason of its first bytes): one problem, no blocks
    refused: str | None = None


@dataclass
class Summary:
    files: int = 0
    resources: int = 0
    skipped_types: int = 0
    patients: int = 0
    partitions: int = 0
    transaction_entries: int = 0
    screening: ScreeningCounts = field(default_factory=ScreeningCounts)
    errors: list[SourceError] = field(default_factory=list)  # the first ones (all are in errors/*.ndjson)
    errors_total: int = 0
    internal: bool = False


def list_inputs(inputs: Sequence[str], storage_options: dict[str, Any] | None = None) -> list[InputFile]:
    """The files below each input a folder read takes (read.is_input_name: .json/.ndjson/.jsonl, and
    compressed or archived files, to be refused), each folder sorted like `evaluate` sorts it."""
    from fsspec.core import url_to_fs

    out: list[InputFile] = []
    for given in inputs:
        fs, root = url_to_fs(given, **(storage_options or {}))
        if not fs.exists(root):
            raise InputError(f"{given}: no such file or folder")
        if fs.isdir(root):
            found = fs.find(root, detail=True)
            paths = sorted(
                (p for p, info in found.items() if info.get("type") == "file" and is_input_name(PurePosixPath(p).name)),
                key=lambda p: PurePosixPath(p).parts,
            )
            base = given.rstrip("/")
            for p in paths:
                rel = PurePosixPath(p).relative_to(PurePosixPath(root.rstrip("/")))
                out.append(_input(fs, p, f"{base}/{rel}", found[p].get("size") or 0))
        else:
            out.append(_input(fs, root, given, fs.size(root) or 0))
    if not out:
        raise InputError("no .json or .ndjson files found in the given paths")
    return out


def _input(fs: Any, path: str, name: str, size: int) -> InputFile:
    ndjson = path.lower().endswith((".ndjson", ".jsonl"))
    try:  # the first bytes, here on the driver: a refused file is one problem, not one per line of each block
        with fs.open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        head = b""  # the block's read reports it
    return InputFile(fs.unstrip_protocol(path), name, ndjson, int(size), refusal_reason(head, name, ndjson))


def shippable(mapping: CompiledMapping) -> CompiledMapping:
    """The mapping as it is sent to the workers: without spaCy pipelines already built here. A built
    pipeline does not survive the trip to another process (plain pickle refuses its process-local
    spaCy registrations; cloudpickle ships it, and on a LocalCluster worker text findings then went
    missing: seen in tests). Each worker builds its own on first use, as `evaluate` does."""
    return replace(mapping, text=TextEngine(mapping.text.section))


def default_partitions(files: list[InputFile]) -> int:
    return max(1, math.ceil(sum(f.size for f in files) / BYTES_PER_PARTITION))


def _blocks(files: list[InputFile], blocksize: int, storage_options: dict[str, Any]) -> list[tuple[Block, Any]]:
    """(Block, delayed bytes) for every block, in read order. Empty NDJSON files have none."""
    from dask.bytes import read_bytes

    out: list[tuple[Block, Any]] = []
    for i, f in enumerate(files):
        if f.refused is not None:
            out.append((Block(i, 0, f.name, f.ndjson, f.refused), b""))
            continue
        _, per_file = read_bytes(
            f.url,
            delimiter=b"\n" if f.ndjson else None,
            blocksize=blocksize if f.ndjson else None,
            sample=False,
            **storage_options,
        )
        for j, data in enumerate(per_file[0] if per_file else []):
            out.append((Block(i, j, f.name, f.ndjson), data))
    return out


def _shared_index(scans: list[Scan], first_lines: dict[tuple[int, int], int]) -> tuple[ResourceIndex, list[Keyed]]:
    """The subject-less Medication/Specimen of the whole input, read like `evaluate` reads them."""
    errors: list[SourceError] = []
    collector = _Collector(errors)
    found = []
    for s in scans:
        for order, line, suffix, data, full_url, deep in s.shared:
            b = s.block
            origin = f"{b.name}:{first_lines[(b.file, b.block)] + line}{suffix}" if b.ndjson else f"{b.name}{suffix}"
            found.append((order, data, origin, full_url, deep))
    for _order, data, origin, full_url, deep in sorted(found, key=lambda x: x[0]):
        collector.add(data, origin, full_url, deep)
    # anonymous ones cannot be referenced; the grouping reports them (and finds no patient in them)
    collector.records(MAX_RESOURCES_PER_PATIENT)
    return collector.index, [Keyed(0, "", (-1, -1, -1, i), e.source, error=e) for i, e in enumerate(errors)]


@contextmanager
def scheduler(address: str | None, local_workers: int | None) -> Iterator[Any]:
    """A distributed.Client on an address or a LocalCluster (closed afterwards), or None for
    "synchronous" (Dask's in-process scheduler: debugging and tests)."""
    import dask

    if address == "synchronous":
        with dask.config.set(scheduler="synchronous"):
            yield None
        return
    from distributed import Client, LocalCluster

    if address:
        try:
            client = Client(address, timeout=dask.config.get("distributed.comm.timeouts.connect"))
        except OSError as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        with client:
            yield client
        return
    with (
        LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run(
    inputs: Sequence[str],
    settings: Settings,
    blocksize: int = DEFAULT_BLOCKSIZE,
    files: list[InputFile] | None = None,
) -> Summary:
    """Both passes and the shuffle on the current scheduler (see `scheduler`); writes settings.out."""
    import dask
    import dask.bag as db
    import fsspec

    files = files if files is not None else list_inputs(inputs, settings.storage_options)
    settings = replace(settings, mapping=shippable(settings.mapping))
    n = settings.partitions
    log.info(
        "distributed run: %d file(s), %d partition(s)",
        len(files),
        n,
        extra=ev("distributed.start", files=len(files), partitions=n),
    )
    blocks = _blocks(files, blocksize, settings.storage_options)

    # pass 1: line counts, Patients, subject-less Medication/Specimen, the Binaries notes name
    scans: list[Scan] = list(dask.compute(*[dask.delayed(scan)(b, data) for b, data in blocks]))
    first_lines: dict[tuple[int, int], int] = {}  # (file, block) -> number of its first line
    line = 1
    for s_ in scans:
        line = 1 if s_.block.block == 0 else line
        first_lines[(s_.block.file, s_.block.block)] = line
        line += s_.newlines
    pmap = PatientMap.build([p for s in scans for p in s.patients])
    shared, shared_errors = _shared_index(scans, first_lines)
    # a join, not a broadcast: each Binary goes to the partitions of the patients whose notes name it
    binaries = BinaryMap.build(scans, pmap)
    del scans  # the driver keeps the maps only

    # pass 2: key, shuffle by output partition, evaluate
    # broadcast: one graph key each (named, so that dask does not hash their content)
    token = uuid.uuid4().hex
    pmap_d = dask.delayed(pmap, name=f"poems-patient-map-{token}", traverse=False)
    shared_d = dask.delayed(shared, name=f"poems-shared-index-{token}", traverse=False)
    settings_d = dask.delayed(settings, name=f"poems-settings-{token}", traverse=False)
    binaries_d = dask.delayed(binaries, name=f"poems-binary-map-{token}", traverse=False)
    keyed = [
        dask.delayed(key_block)(b, data, first_lines[(b.file, b.block)], pmap_d, n, binaries_d) for b, data in blocks
    ]
    markers = [Keyed(p, "", (-1, -1, -1, -1), "") for p in range(n)]  # every partition writes its files
    for e in shared_errors:
        markers.append(e._replace(bucket=0))
    # links a merge cannot follow, judged over the whole input (the partitions group by pmap.merges)
    for i, problem in enumerate(merge_problems(pmap.merges)):
        markers.append(Keyed(0, "", (-1, -1, -1, len(shared_errors) + i), problem.source, error=problem))
    bag = (
        db.concat([db.from_delayed(keyed), db.from_sequence(markers, npartitions=1)])
        if keyed
        else db.from_sequence(markers, npartitions=1)
    )
    fs, root = fsspec.core.url_to_fs(settings.out, **settings.storage_options)
    for kind in ("results", "transactions", "errors") if settings.transactions else ("results", "errors"):
        fs.makedirs(f"{root.rstrip('/')}/{kind}", exist_ok=True)
        _remove_stale(fs, f"{root.rstrip('/')}/{kind}", n)
    grouped = bag.groupby(_bucket)
    parts: list[PartResult] = grouped.map(run_partition, shared_d, settings_d, pmap_d).compute()
    summary = _merge(sorted(parts, key=lambda p: p.partition), len(files), n)
    with fsspec.open(f"{settings.out.rstrip('/')}/summary.json", "wb", **settings.storage_options) as f:
        f.write((dumps(summary_to_dict(summary)) + "\n").encode("utf-8"))
    log.info(
        "distributed run done: %d patient(s), %d error(s)",
        summary.patients,
        summary.errors_total,
        extra=ev("distributed.done", patients=summary.patients, errors=summary.errors_total),
    )
    return summary


_PART = re.compile(r"part-(\d{5})\.n?d?json$")


def _remove_stale(fs: Any, folder: str, partitions: int) -> None:
    """Part files of an earlier run with more partitions would read as results of this one."""
    for path in fs.ls(folder, detail=False):
        m = _PART.search(path)
        if m and int(m.group(1)) >= partitions:
            fs.rm(path)


def _bucket(item: Any) -> int:
    return int(item[0])  # Keyed.bucket (partd's on-disk shuffle hands tuples back as lists)


def _merge(parts: list[PartResult], files: int, n: int) -> Summary:
    from .partition import SUMMARY_ERRORS

    s = Summary(files=files, partitions=n)
    for p in parts:
        s.resources += p.resources
        s.skipped_types += p.skipped_types
        s.patients += p.patients
        s.transaction_entries += p.transaction_entries
        s.screening.in_scope.update(p.screening.in_scope)
        s.screening.out_of_scope.update(p.screening.out_of_scope)
        s.errors_total += p.errors
        s.internal = s.internal or p.internal
        s.errors.extend(p.first_errors[: max(0, SUMMARY_ERRORS - len(s.errors))])
    return s


def summary_to_dict(s: Summary) -> dict[str, Any]:
    return {
        "files": s.files,
        "resources": s.resources,
        "skipped_types": s.skipped_types,
        "patients": s.patients,
        "partitions": s.partitions,
        "transaction_entries": s.transaction_entries,
        "screening": s.screening.to_dict(),
        "errors_total": s.errors_total,
        "errors": [e.to_dict() for e in s.errors],
        "outputs": {
            kind: f"{kind}/part-NNNNN" + (".json" if kind == "transactions" else ".ndjson")
            for kind in ("results", "transactions", "errors")
        },
    }


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


__all__ = ["ClusterError", "InputFile", "Summary", "default_partitions", "file_name", "list_inputs", "run", "scheduler"]
