# SPDX-License-Identifier: Apache-2.0
"""The sync job: cohort -> fetch -> evaluate -> (unchanged? out of scope?) -> write -> record.

Orchestration only: clinical logic is in criteria/, FHIR reading in fhir/ and mapping/, HTTP in
fhir/client.py, persistence in sync/state.py. Network, disk and clock are injected.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from .. import __version__
from ..criteria.model import Assessment
from ..criteria.profiles import Profile
from ..criteria.scope import DEFAULT_TRIGGER, ScreeningCounts
from ..errors import AuthError, ForeignHostError, NetworkError, PreconditionFailedError
from ..fhir.read import PatientRecord
from ..fhir.write import NotWritableError, WriteContext
from ..mapping.rules import CompiledMapping
from ..pipeline import evaluate_record, html_for, transaction_for
from .sinks import GUARDED, Sink, content_hash, entry_key, guarded_hashes, with_if_match
from .sources import Source
from .state import StateStore

log = logging.getLogger("poems_fhir.sync")


@dataclass
class Summary:
    patients_scanned: int = 0
    evaluated: int = 0
    in_scope: int = 0
    written: int = 0
    unchanged: int = 0
    out_of_scope: int = 0
    conflicts: int = 0
    failed: int = 0
    skipped_input: int = 0  # resources/files that could not be read (each listed under problems)
    alerts: int = 0  # response alerts (progression, relapse, ...) of in-scope patients
    requests: int = 0
    retries: int = 0
    completed: bool = True
    conclusions: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: per scope and classification, over every evaluated patient (unchanged ones included)
    screening: ScreeningCounts = field(default_factory=ScreeningCounts)

    def counts(self) -> dict[str, int]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}


@dataclass
class SyncJob:
    source: Source
    sink: Sink | None  # None = evaluate and record nothing (not used by the CLI)
    store: StateStore
    mapping: CompiledMapping
    profile: Profile
    server_key: str
    now: Callable[[], dt.datetime]
    trigger: tuple[str, ...] = DEFAULT_TRIGGER
    report_status: str = "partial"
    language: str = "en"  # of the clinician-facing texts written back
    show_phi: bool = False
    stop_requested: Callable[[], bool] = lambda: False
    progress: Callable[[Iterable[str]], Iterable[str]] = lambda it: it
    request_stats: Callable[[], tuple[int, int]] = lambda: (0, 0)
    #: --dry-run: build and write the bundles to a folder, but record nothing, so the real run
    #: that follows still sends everything
    dry_run: bool = False

    def pseudonym(self, patient: str) -> str:
        """Patient ids in logs and summaries are hashed unless --phi is given."""
        return patient if self.show_phi else "patient-" + hashlib.sha256(patient.encode()).hexdigest()[:12]

    def scrub(self, text: str, patient: str) -> str:
        """Error texts carry URLs with the patient id: replace it unless --phi."""
        if self.show_phi:
            return text
        pid = patient.split("/", 1)[-1]
        return text.replace(patient, self.pseudonym(patient)).replace(pid, self.pseudonym(patient))

    def run(self) -> Summary:
        summary = Summary()
        started = self.now().isoformat()
        run_id = self.store.start_run(self.server_key, started)
        since = self.store.checkpoint(self.server_key)
        retry_failed = [p for p, s in self._failed_patients()]
        cohort = self.source.cohort(since, extra=retry_failed)
        log.info("cohort: %d patient(s) (since %s)", len(cohort.patients), since or "the beginning")
        try:
            for patient in self.progress(cohort.patients):
                if self.stop_requested():
                    summary.completed = False
                    log.info("stop requested: finishing after the patient in flight")
                    break
                self._one(patient, summary)
        finally:
            summary.requests, summary.retries = self.request_stats()
            if summary.completed and cohort.server_time and not self.dry_run:
                self.store.set_checkpoint(self.server_key, cohort.server_time, self.now().isoformat())
            outcome = "completed" if summary.completed else "stopped"
            self.store.finish_run(run_id, outcome, summary.counts(), self.now().isoformat())
        return summary

    def _failed_patients(self) -> list[tuple[str, str]]:
        rows = self.store.db.execute(
            "SELECT patient, status FROM patient WHERE server = ? AND status IN ('failed', 'conflict')",
            (self.server_key,)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def _one(self, patient: str, summary: Summary) -> None:
        summary.patients_scanned += 1
        name = self.pseudonym(patient)
        try:
            record, errors = self.source.fetch(patient)
        except (AuthError, ForeignHostError):
            raise  # the whole run cannot go on: exit code 3 / 2
        except NetworkError as exc:
            summary.failed += 1
            summary.problems.append(f"{name}: fetch failed: {self.scrub(str(exc), patient)}")
            log.error("%s: fetch failed: %s", name, self.scrub(str(exc), patient))
            self._record(patient, "", {}, "failed")
            return
        summary.skipped_input += len(errors)
        for e in errors:
            summary.problems.append(f"{name}: skipped input {e.source}: {e.message}")
        if record is None:
            summary.failed += 1
            summary.problems.append(f"{name}: no resources found for this patient")
            self._record(patient, "", {}, "failed")
            return
        result = evaluate_record(record, self.mapping, self.profile, None, trigger=self.trigger)
        summary.evaluated += 1
        summary.skipped_input += len(result.extraction.errors)
        for e in result.extraction.errors:
            summary.problems.append(f"{name}: skipped {e.resource or e.source}: {e.message}")
        a = result.assessment
        summary.screening.add(result.scope, a.classification)
        if not result.scope.in_scope:
            summary.out_of_scope += 1
            self._record(patient, "", {}, "out_of_scope")
            return
        summary.in_scope += 1
        alerts = [{"code": al.code, "message": al.message} for al in result.response.alerts]
        summary.alerts += len(alerts)
        summary.conclusions.append({**self._conclusion(name, a), "alerts": alerts})
        input_hash = self._input_hash(record)
        previous = self.store.patient(self.server_key, patient)
        if previous and previous.status == "written" and previous.input_hash == input_hash:
            summary.unchanged += 1
            return
        if self.sink is None:
            return
        try:
            ctx = WriteContext(self.now(), self.mapping.identity, result.extraction.used, self.report_status,
                               language=self.language)
            bundle = transaction_for(result, ctx, html_for(result, self.mapping, language=self.language,
                                                           generated=ctx.now))
        except NotWritableError as exc:
            summary.failed += 1
            summary.problems.append(f"{name}: {exc}")
            self._record(patient, input_hash, {}, "failed")
            return
        known = dict(previous.written) if previous else {}
        if not self.dry_run:
            self.store.set_pending(self.server_key, patient, guarded_hashes(bundle))
        try:
            try:
                written = self.sink.write(patient, with_if_match(bundle, known))
            except PreconditionFailedError:
                # 412/409: re-read what is there now. Our own content (a write whose version a crash
                # kept us from recording) -> adopt its version and write again; anything else was
                # changed by someone else and is never overwritten.
                known = self._reread(patient, bundle, known)
                written = self.sink.write(patient, with_if_match(bundle, known))
        except PreconditionFailedError as exc:
            summary.conflicts += 1
            text = self.scrub(str(exc), patient)
            summary.problems.append(f"{name}: not overwritten, changed by someone else since our last write ({text})")
            log.warning("%s: conflict: %s", name, text)
            self._record(patient, input_hash, previous.written if previous else {}, "conflict")
            return
        except (AuthError, ForeignHostError):
            raise
        except NetworkError as exc:
            summary.failed += 1
            summary.problems.append(f"{name}: write failed: {self.scrub(str(exc), patient)}")
            log.error("%s: write failed: %s", name, self.scrub(str(exc), patient))
            self._record(patient, "", previous.written if previous else {}, "failed")
            return
        for key, h in guarded_hashes(bundle).items():
            if key in written:
                written[key]["hash"] = h
        if not self.dry_run:
            self.store.clear_pending(self.server_key, patient)
        summary.written += 1
        self._record(patient, input_hash, written, "written")
        log.info("%s: wrote %d resources (%s)", name, len(written), a.classification.value)

    def _reread(self, patient: str, bundle: dict[str, Any], known: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        ours = set(self.store.pending(self.server_key, patient).values())
        ours |= {v.get("hash", "") for v in known.values()}
        updated = dict(known)
        for entry in bundle["entry"]:
            if entry["resource"]["resourceType"] not in GUARDED:
                continue
            current = self.sink.current(entry["request"]["url"]) if self.sink else None
            if current is None:
                continue
            if content_hash(current) not in ours:
                raise PreconditionFailedError(
                    f"{current['resourceType']}/{current.get('id')} was changed by someone else "
                    f"(status {current.get('status')!r})")
            updated[entry_key(entry)] = {"ref": f"{current['resourceType']}/{current.get('id')}",
                                         "version": (current.get("meta") or {}).get("versionId", "")}
        return updated

    def _conclusion(self, name: str, a: Assessment) -> dict[str, Any]:
        return {"patient": name, "classification": a.classification.value,
                "missing": [m.criterion for m in a.missing], "flags": [f.code for f in a.flags]}

    def _record(self, patient: str, input_hash: str, written: dict[str, dict[str, str]], status: str) -> None:
        if self.dry_run:
            return
        self.store.record_patient(self.server_key, patient, input_hash, written, status, self.now().isoformat())

    def _input_hash(self, record: PatientRecord) -> str:
        """Inputs (version or content of every resource), profile, mapping and our version."""
        parts = []
        for raw in sorted(record.resources, key=lambda r: r.ref or r.origin):
            meta = raw.data.get("meta") or {}
            stamp = meta.get("versionId") or hashlib.sha256(
                json.dumps(raw.data, sort_keys=True).encode()).hexdigest()
            parts.append(f"{raw.ref}@{stamp}")
        blob = json.dumps({"inputs": parts, "profile": self.profile.name, "mapping": self.mapping.fingerprint,
                           "trigger": self.trigger, "version": __version__, "status": self.report_status})
        return hashlib.sha256(blob.encode()).hexdigest()
