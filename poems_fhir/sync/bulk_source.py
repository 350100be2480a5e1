# SPDX-License-Identifier: Apache-2.0
"""`sync --bulk`: the sync job's source is a Bulk Data export of the server, downloaded into a work
folder (fhir/bulk.py) and read like `sync --source DIR` (FileSource).

The checkpoint of a completed run is the export's transactionTime; the next run exports `_since`
that instant. Such an export holds only the resources changed since, not a patient's whole record,
and evaluating a part of a record would change its conclusions: so in an incremental run the export
names the patients that changed, and their whole records are read from the server by the same
per-patient searches as the server mode (ServerSource.fetch). A first (full) export is evaluated
from the files alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import logging

from ..fhir.bulk import BulkExporter, ExportRequest, ExportResult
from ..fhir.read import PatientRecord, Prune, SourceError
from ..mapping.extract import observation_pruner
from ..parallel import available_cores
from .events import ev
from .sources import Cohort, FileSource, ServerSource, _patient_ref, read_group_members

log = logging.getLogger("poems_fhir.bulk")


@dataclass
class BulkSource:
    exporter: BulkExporter
    request: ExportRequest
    server: ServerSource | None = None  # whole records of the patients an incremental export names
    patients: list[str] = field(default_factory=list)
    name: str = "bulk"
    result: ExportResult | None = None
    prune: Prune | None = None  # FileSource.prune
    workers: int = 1  # FileSource.workers
    read_errors: list[SourceError] = field(default_factory=list)
    read_unlisted: int = 0
    #: patients of a group export's files that are not members of the Group: neither evaluated nor written
    non_members: int = 0

    def cohort(self, since: str | None, extra: Iterable[str] = ()) -> Cohort:
        self.request.since = since
        # `--bulk group:ID` is `--group ID` read through $export: its members only. Servers put others into a
        # Group export (related patients, a member's $everything; probe72 D7), so the Group is read from the
        # server, as --group reads it - first: a Group that cannot be read starts no export and never widens
        # the cohort to whoever the files hold
        members = self._members()
        result = self.exporter.run(self.request)  # resumes an unfinished export of this folder
        self.result = result
        # an incremental export with no changes has no files: nobody to look at
        self._files: Any = (
            FileSource([result.data_dir], patients=list(self.patients), prune=self.prune, workers=self.workers)
            if result.files
            else None
        )
        self.read_unlisted = self._files.read_unlisted if self._files else 0
        unreadable = set(result.unreadable)
        scrub = self.exporter.client._scrub  # the files' text is the server's: no token it echoes (probe72 D2)
        self.read_errors = [
            dataclasses.replace(e, message=scrub(e.message), resource=scrub(e.resource) if e.resource else None)
            for e in (self._files.read_errors if self._files else [])
        ] + [
            SourceError(f"export error {text.split(': ', 1)[0]}", scrub(text.split(": ", 1)[-1]))
            for text in result.errors
            if text not in unreadable  # the file reader lists these lines itself
        ]
        if result.error_count > len(result.errors):
            self.read_errors.append(
                SourceError("export errors", f"{result.error_count - len(result.errors)} more issue(s) not listed")
            )
        found = self._files.cohort(since, extra).patients if self._files else []
        patients = sorted(set(found) | {_patient_ref(p) for p in extra})
        if members is not None:
            patients = self._members_only(patients, members)
        if result.short_files or result.failed_resources or result.unreadable_count:
            # a file short of its manifest count lost resources nobody can name, and an error file's
            # error names a resource the server could not export (probe55): the checkpoint stays where it
            # was, so the next run exports the same window again (since the old checkpoint)
            log.warning(
                "%d export file(s) differ from the manifest's count, %d resource(s) could not be exported "
                "(the export's error files) and %d line(s) of the files are no resource: the checkpoint is not "
                "moved, the next run exports the same changes again",
                len(result.short_files),
                result.failed_resources,
                result.unreadable_count,
                extra=ev(
                    "bulk.checkpoint_kept",
                    files=len(result.short_files),
                    failed=result.failed_resources,
                    unreadable=result.unreadable_count,
                ),
            )
            return Cohort(patients, None)
        return Cohort(patients, result.transaction_time)

    def _members(self) -> set[str] | None:
        """The Group's Patient members for a group export (None: a system or patient export)."""
        if self.request.level != "group" or self.request.group is None:
            return None
        group = self.request.group
        return set(read_group_members(self.exporter.client, group, f"--bulk group:{group}"))

    def _members_only(self, patients: list[str], members: set[str]) -> list[str]:
        outside = [p for p in patients if p not in members]
        self.non_members = len(outside)
        if outside:
            # counts only: the patients' ids are PHI
            log.warning(
                "--bulk group:%s: %d patient(s) in the export are not members of Group/%s: not evaluated, "
                "nothing written for them",
                self.request.group,
                len(outside),
                self.request.group,
                extra=ev("bulk.non_members", group=self.request.group, count=len(outside)),
            )
        return [p for p in patients if p in members]

    @property
    def incremental(self) -> bool:
        return self.result is not None and self.result.since is not None

    def fetch(self, patient: str) -> tuple[PatientRecord | None, list[SourceError]]:
        if self.incremental and self.server is not None:
            return self.server.fetch(patient)
        if self._files is None:
            return None, []
        record, errors = self._files.fetch(patient)
        if record is not None and self.server is not None:
            # an exported note's or report's text given by url names a Binary of the exporting server
            errors = [*errors, *self.server.binaries.inline_record(record, patient)]
        return record, errors

    def finish(self) -> None:
        """The run went through its whole cohort: the next run starts a new export."""
        self.exporter.mark_consumed()


def bulk_source(settings: Any, client: Any, mapping: Any, server: ServerSource, sleep: Any = None) -> BulkSource:
    """The --bulk source of a sync run, from its settings (runner.make_job)."""
    from ..fhir.bulk import type_filters
    from .config import parse_duration
    from .sources import _codes_by_type

    folder = settings.bulk_dir or settings.state.parent / "bulk-export"
    exporter = BulkExporter(
        client,
        folder,
        parallel=settings.bulk_parallel,
        restart=settings.bulk_restart,
        delete=settings.dry_run is None,  # a dry run sends nothing that changes the server
        deadline=parse_duration(settings.run_deadline),
        sleep=sleep,
    )
    filters = type_filters(_codes_by_type(mapping)) if settings.bulk_type_filter else []
    request = ExportRequest.of(settings.bulk, type_filters=filters)
    return BulkSource(
        exporter,
        request,
        server=server,
        patients=list(settings.patient),
        prune=observation_pruner(mapping),
        workers=settings.workers or available_cores(),
    )
