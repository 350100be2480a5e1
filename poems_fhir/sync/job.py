# SPDX-License-Identifier: Apache-2.0
"""The sync job: cohort -> fetch -> evaluate -> (unchanged? out of scope?) -> own? -> write -> record.

Orchestration only: clinical logic is in criteria/, FHIR reading in fhir/ and mapping/, HTTP in
fhir/client.py, ownership rules in sync/ownership.py, persistence in sync/state.py. Network, disk and
clock are injected.

The server decides ownership (content hashes in meta.tag, see fhir/write.py); the local state is a
cache (what is unchanged since the last run) and a journal (runs, failures, takeovers already
reported). Losing it costs requests, never a clinician's work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import contextlib
import hmac
import json
import logging
import os
import re
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .. import __version__
from ..criteria.model import Assessment, Classification
from ..criteria.pathway import Step
from ..criteria.profiles import Profile
from ..criteria.scope import DEFAULT_TRIGGER, ScreeningCounts
from ..errors import (
    NO_SPACE_ERRNOS,
    AuthError,
    DiscoveryStopped,
    ForeignHostError,
    HalfWrittenError,
    NetworkError,
    PageLinkGoneError,
    SearchNotFoundError,
    PreconditionFailedError,
    UnlistedResourceError,
)
from ..fhir.auth import rewrite_record
from ..fhir.read import PatientRecord, SourceError, relative_reference, replaced_records, surviving_record
from ..fhir.write import (
    GUARDED_TYPES,
    SOURCE_TAG_SYSTEM,
    NotWritableError,
    WriteContext,
    conclusion_key,
    tag_of,
    withdrawal_transaction,
)
from ..i18n import translator
from ..i18n.vocabulary import PROFILES as PROFILE_TERMS
from ..i18n.vocabulary import label
from ..mapping.rules import CompiledMapping
from ..parallel import SKIPPED, Done, map_patients
from ..pipeline import PatientResult, evaluate_record, html_for, transaction_for
from .attachments import fetched_digest
from .events import ev
from .ownership import Plan, owned, plan_writes, takeover_of
from .sinks import FILE_KEY, DirSink, ServerView, Sink
from .sources import OVERLAP, Source, earliest_instant, fhir_instant, parse_instant
from .spill import SpilledList
from .state import DELETED_INPUT, PatientState, StateStore

log = logging.getLogger("poems_fhir.sync")

#: HTTP statuses that mean "this patient is not there": reported once, then out of the retry queue
GONE = (404, 410)


@dataclass
class Summary:
    patients_scanned: int = 0
    evaluated: int = 0
    in_scope: int = 0
    written: int = 0
    would_write: int = 0
    unchanged: int = 0
    out_of_scope: int = 0
    withdrawn: int = 0
    conflicts: int = 0  # takeovers by someone else reported for the first time
    clinician_owned: int = 0  # resources left alone because someone else owns them (known or new)
    failed: int = 0
    missing: int = 0
    skipped_input: int = 0  # resources/files that could not be read (each listed under problems)
    alerts: int = 0  # response alerts (progression, relapse, ...) of in-scope patients
    requests: int = 0
    retries: int = 0
    completed: bool = False
    fatal: str | None = None
    #: one line per in-scope patient, past the first few thousand on disk (flat memory, issue #11)
    conclusions: SpilledList = field(default_factory=SpilledList)
    problems: SpilledList = field(default_factory=SpilledList)  # one line per problem: spilled alike
    #: (patient, ref) of the takeovers reported this run: once each, also in a dry run, which records none
    takeovers_said: set[tuple[str, str]] = field(default_factory=set, repr=False)
    #: per scope and classification, over every evaluated patient (unchanged ones included)
    screening: ScreeningCounts = field(default_factory=ScreeningCounts)

    def counts(self) -> dict[str, int]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}


def pseudonym(key: bytes, patient: str) -> str:
    """Keyed (HMAC-SHA-256) pseudonym of a patient reference: not reversible without the key."""
    return "patient-" + hmac.new(key, patient.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


#: a patient named by a reference, also a malformed one a refusal quotes (probe47: "patient/ID",
#: "Patient//ID", "PATIENT/ID", "Patient\\ID", "Patient/phi%2Dpat-7781", "Patient/ü"): the id is whatever
#: follows up to a quote, space, separator or the next path segment
_PATIENT_REF = re.compile(r"(?i)\bpatient[/\\]+([^\s/\\'\"&,;)<>|?#]{1,200})")
#: a Patient search in a reference ("Patient?name=FAMILY", "Patient?identifier=https://mrn|12345"): every
#: value is a name, a birth date or an MRN
_PATIENT_QUERY = re.compile(r"(?i)(\bpatient\?)([^\s'\"]+)")
#: a conditional reference's identifier value elsewhere ("identifier=https://mrn|12345"): an MRN
_IDENTIFIER_VALUE = re.compile(r"(identifier=(?:[^\s|&,;)'\"\[]*\|)?)(?!\[)([^\s&,;)'\"]+)")
_PSEUDONYM = re.compile(r"patient-[0-9a-f]{16}")


def masked_reference(key: bytes, patient: str) -> str:
    """``Patient/<id>`` with only the id masked: a URL or reference still reads as one ("…/fhir/R4/Patient/
    patient-…", where the whole segment replaced read as another endpoint: probe82 D12)."""
    rtype, _, _ = patient.rpartition("/")
    return f"{rtype}/{pseudonym(key, patient)}" if rtype else pseudonym(key, patient)


def scrub_identifiers(key: bytes, text: str) -> str:
    """Every patient reference and Patient-search value in ``text`` as its keyed pseudonym: an error
    text may name another patient (a foreign or malformed reference), a family name or an MRN. A
    reference keeps its type as written (``Patient/``, also a malformed ``patient//``): the id alone is
    masked."""
    text = _PATIENT_REF.sub(lambda m: _masked_match(key, m), text)
    text = _PATIENT_QUERY.sub(lambda m: m.group(1) + _scrub_query(key, m.group(2)), text)
    return _IDENTIFIER_VALUE.sub(lambda m: m.group(1) + _pseudonym_value(key, m.group(2)), text)


def _masked_match(key: bytes, m: re.Match[str]) -> str:
    """A ``_PATIENT_REF`` match with its id masked; one already masked is left as it is."""
    if _PSEUDONYM.fullmatch(m.group(1)):
        return m.group(0)
    return m.group(0)[: m.start(1) - m.start(0)] + pseudonym(key, "Patient/" + m.group(1))


def _scrub_query(key: bytes, query: str) -> str:
    """Each value of a query string as its pseudonym; the system of an identifier and a placeholder
    ("[system|]value", in a hint) are kept."""
    parts = []
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        if eq and value and not value.startswith("["):
            system, bar, code = value.rpartition("|")
            value = f"{system}{bar}{_pseudonym_value(key, code)}" if bar and code else _pseudonym_value(key, value)
        parts.append(f"{name}{eq}{value}")
    return "&".join(parts)


def _pseudonym_value(key: bytes, value: str) -> str:
    """A value already replaced by a pseudonym stays as it is (scrubbing twice changes nothing)."""
    return value if _PSEUDONYM.fullmatch(value) else pseudonym(key, value)


class PseudonymLogFilter(logging.Filter):
    """Without --phi, every log line of a run goes through this (on the handlers): a server's error
    text or a URL logged below the job (retries, transport, auth) may name a patient the job never
    saw. The id of ``Patient/<id>`` anywhere, and the bare id of the patient in flight, become the
    pseudonym the summary uses (a reference keeps its ``Patient/``)."""

    def __init__(self, key: bytes) -> None:
        super().__init__()
        self.key = key
        self.current: str | None = None  # "Patient/<id>" being fetched, evaluated or written

    def scrub(self, text: str) -> str:
        if self.current:
            pid = self.current.split("/", 1)[-1]
            text = text.replace(self.current, masked_reference(self.key, self.current))
            if len(pid) >= 4:  # a one-letter id would replace letters of every word
                text = text.replace(pid, pseudonym(self.key, self.current))
        return scrub_identifiers(self.key, text)

    def filter(self, record: logging.LogRecord) -> bool:
        rewrite_record(record, self.scrub)
        return True


@dataclass
class Evaluated:
    """What the writer needs of one evaluated patient: built where the patient was evaluated (a
    worker process with --workers), small and picklable - never the record or the extraction."""

    found: bool = True
    input_hash: str = ""
    #: the scope decision's in_scope only: its evidence is slow to unpickle
    in_scope: bool = False
    classification: Classification | None = None
    #: the summary line of an in-scope patient, without the patient's name, and its response alerts
    conclusion: dict[str, Any] = field(default_factory=dict)
    alerts: list[dict[str, str]] = field(default_factory=list)
    extraction_errors: list[SourceError] = field(default_factory=list)
    #: conclusion_key: what makes the conclusion materially different
    material: str = ""
    #: the transaction, built only for an in-scope patient whose input changed
    bundle: dict[str, Any] | None = None
    not_writable: str | None = None
    #: the reference of the record this patient was merged into (Patient.link replaced-by): not
    #: evaluated, written or withdrawn
    merged_into: str | None = None
    #: the records this patient replaces (Patient.link replaces): see ServerView.merged_from
    replaces: tuple[str, ...] = ()
    #: a worker's internal error (the reason recorded), or the worker that died on this patient
    internal: str | None = None
    #: "Type/id" -> versionId ('' if none) of every resource the evaluation read (the patient's own record
    #: aside), and those of them the conclusions rest on: remembered for discovery (sync/state.py)
    inputs: dict[str, str] = field(default_factory=dict)
    cited: tuple[str, ...] = ()
    #: "Type/id" -> versionId of our own report(s) and plan on the server after this run: remembered with
    #: the inputs, so a clinician's edit, retraction or deletion of them brings the patient back (probe75 H1)
    own: dict[str, str] = field(default_factory=dict)


class _WorkerFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _internal_reason(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return f"internal error {exc.__class__.__name__} at {os.path.basename(where.filename)}:{where.lineno}"


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
    show_phi: bool = False
    stop_requested: Callable[[], bool] = lambda: False
    progress: Callable[[Iterable[str]], Iterable[str]] = lambda it: it
    request_stats: Callable[[], tuple[int, int]] = lambda: (0, 0)
    #: --dry-run: build the bundles and write them to a folder, but send and record nothing, so
    #: the real run that follows still sends everything
    dry_run: bool = False
    #: per-installation secret of the log pseudonyms (sync/state.py keeps it beside the state)
    pseudonym_key: bytes = b""
    #: runs in which a 404/410 patient is tried again after the one that reported it
    retry_missing: int = 0
    language: str = "en"  # of the clinician-facing texts written back
    #: processes evaluating patients ahead of the writer (a file source only; 1: in this process)
    workers: int = 1
    #: every secret of the run masked (fhir/auth.py Redactor): applied to every problem, state reason and
    #: fatal error the job records, whatever path built it (probe80 D1)
    redact: Callable[[str], str] = lambda text: text

    def __post_init__(self) -> None:
        if not self.pseudonym_key:
            self.pseudonym_key = os.urandom(32)
        if isinstance(self.sink, DirSink) and not self.sink.key:
            self.sink.key = self.pseudonym_key  # file names keyed by the installation's secret
        self._log_filter = PseudonymLogFilter(self.pseudonym_key)
        #: patients to plan again this run although their inputs are unchanged (Cohort.recheck): held here
        #: too, so a dry run, which records nothing, predicts what the real run will do (probe78 N2)
        self._rechecked: frozenset[str] = frozenset()
        #: (patient, ref) of resources recorded as deleted by someone found on the server again this run: no
        #: longer known (a dry run, which records nothing, reports what the real run would)
        self._found: set[tuple[str, str]] = set()
        #: (patient, "Type/id") the state recorded writing that the server holds as no resource of ours for the
        #: patient: never recorded again (probe91b D2)
        self._disowned: set[tuple[str, str]] = set()

    def pseudonym(self, patient: str) -> str:
        """Patient ids in logs and summaries are keyed pseudonyms unless --phi is given."""
        return patient if self.show_phi else pseudonym(self.pseudonym_key, patient)

    def scrub(self, text: str, patient: str) -> str:
        """Error texts carry URLs with the patient id: replace it unless --phi. A secret a server
        echoed is masked in any case (probe80 D1)."""
        text = self.redact(text)
        if self.show_phi:
            return text
        pid = patient.split("/", 1)[-1]
        text = text.replace(patient, masked_reference(self.pseudonym_key, patient))  # "Patient/" kept (D12)
        if len(pid) >= 4:  # a one-letter id would replace letters of every word
            text = text.replace(pid, self.pseudonym(patient))
        # another patient named in it (a refused foreign reference), an MRN of a conditional reference
        return scrub_identifiers(self.pseudonym_key, text)

    # ------------------------------------------------------------------ the run

    def run(self) -> Summary:
        """One run. The summary is complete even when the run dies (``completed`` false, ``fatal``
        set, the exception re-raised with ``.summary``); the checkpoint moves only after a run that
        went through its whole cohort, every patient of which was written, unchanged, skipped with a
        record, or recorded as failed (and so retried next run)."""
        summary = Summary()
        with self._pseudonymised_logs():
            return self._run(summary)

    @contextlib.contextmanager
    def _pseudonymised_logs(self) -> Iterator[None]:
        """Without --phi: PseudonymLogFilter on every handler of the poems_fhir logs for this run."""
        handlers = [] if self.show_phi else list(logging.getLogger("poems_fhir").handlers)
        for handler in handlers:
            handler.addFilter(self._log_filter)
        try:
            yield
        finally:
            for handler in handlers:
                handler.removeFilter(self._log_filter)

    def _run(self, summary: Summary) -> Summary:
        self._found = set()
        self._disowned = set()
        run_id = None if self.dry_run else self.store.start_run(self.server_key, self.now().isoformat())
        try:
            since = self.store.checkpoint(self.server_key)
            settings = self._settings_fingerprint()
            if since is not None and self.store.checkpoint_settings(self.server_key) != settings:
                # a new profile, mapping, trigger, version, report status or language changes conclusions
                # of patients whose data did not change: incremental discovery would never reach them
                log.info(
                    "settings changed since the last completed run (profile, mapping, trigger, version, "
                    "report status or language): every patient is read again",
                    extra=ev("run.settings_changed", since=since),
                )
                since = None
            started = self.now()  # before the server's clock is read: the earlier of the two (probe120 A1)
            try:
                cohort = self.source.cohort(since, extra=self.store.retry_queue(self.server_key, self.retry_missing))
            except DiscoveryStopped:
                log.info("stop requested: stopped while finding the patients, none read")
                summary.completed = False
                return summary
            if cohort.named:
                cohort.patients = self._without_reported_missing(cohort.patients)
            for notice in cohort.notices:
                summary.problems.append(notice)
            self._rechecked = cohort.recheck
            if not self.dry_run:
                for patient in cohort.recheck:
                    self.store.recheck(self.server_key, patient)  # also after a crash of this run
            log.info("cohort: %d patient(s) (since %s)", len(cohort.patients), since or "the beginning")
            stopped = False
            ahead = self._evaluate_ahead(cohort.patients)
            try:
                for patient in self.progress(cohort.patients):
                    if self.stop_requested():
                        stopped = True
                        log.info("stop requested: finishing after the patient in flight")
                        break
                    done = next(ahead) if ahead is not None else None
                    if done is not None and done.worker_died and self.stop_requested():
                        stopped = True  # the stop signal reached the workers too: not this patient's fault
                        log.info("stop requested: finishing after the patient in flight")
                        break
                    self._one(patient, summary, done)
            finally:
                if ahead is not None:
                    ahead.close()  # ends the worker processes
            summary.completed = not stopped
            if summary.completed and cohort.server_time and not self.dry_run:
                checkpoint = self._checkpoint(cohort.server_time, started)
                self.store.set_checkpoint(self.server_key, checkpoint, self.now().isoformat(), settings)
        except BaseException as exc:
            summary.fatal = self.redact(f"{exc.__class__.__name__}: {exc}" if not str(exc) else str(exc))
            exc.summary = summary  # type: ignore[attr-defined]  # the CLI prints it
            raise
        finally:
            summary.requests, summary.retries = self.request_stats()
            if run_id is not None:
                outcome = "completed" if summary.completed else ("failed" if summary.fatal else "stopped")
                self.store.finish_run(run_id, outcome, summary.counts(), self.now().isoformat())
        return summary

    def _evaluate_ahead(self, patients: list[str]) -> Generator[Done[Evaluated], None, None] | None:
        """With --workers and a file source: the patients evaluated (and their transactions built) by
        worker processes, in cohort order; state, checkpoint and writes stay here, per patient."""
        open_source = getattr(self.source, "patient_source", None)
        if self.workers <= 1 or open_source is None or len(patients) < 2:
            return None
        # read before the workers fork: they build a transaction only where the input changed
        unchanged = {p: h for p, h in self.store.unchanged_hashes(self.server_key).items() if p not in self._rechecked}

        def work(patient: str, record: PatientRecord | None) -> Evaluated:
            try:
                return self._evaluate(record, unchanged.get(patient))
            except Exception as exc:  # the parent records it as a failure, like any other
                log.debug("%s", traceback.format_exc(), extra=ev("patient.traceback", patient=self.pseudonym(patient)))
                return Evaluated(internal=_internal_reason(exc))

        return map_patients(open_source(), patients, work, self.workers)

    def _checkpoint(self, server_time: str, started: dt.datetime) -> str:
        """The server's time at the run's start, unless it is ahead of ours then: the earlier of the two is
        always safe (the next run reads a little more again), a server clock running ahead is not (probe45:
        a Date header of "tomorrow" made the next runs search from tomorrow, and a change in between was never
        read). Both are the start's: our clock at the run's end would pass over what changed during the run
        where the server stamps it by another clock than its Date header (a front proxy's; probe120 A1)."""
        ours = fhir_instant(started)
        checkpoint = earliest_instant(server_time, ours)
        if parse_instant(server_time) - parse_instant(ours) > OVERLAP:  # a few seconds' skew is no news
            log.warning(
                "the server's clock (%s) is ahead of ours (%s): the checkpoint is our time",
                server_time,
                ours,
                extra=ev("run.server_clock_ahead", server_time=server_time, ours=ours),
            )
        return checkpoint

    def _one(self, patient: str, summary: Summary, done: Done[Evaluated] | None = None) -> None:
        self._log_filter.current = patient
        summary.patients_scanned += 1
        name = self.pseudonym(patient)
        previous = self.store.patient(self.server_key, patient)
        if previous is not None and patient in self._rechecked:
            previous = replace(previous, input_hash="")
        try:
            if done is not None and done.value is None:  # the worker died, or the record could not be built
                message = done.error.message if done.error else "internal error: no result"
                raise _WorkerFailure(message.removesuffix(SKIPPED))
            self._patient(patient, name, previous, summary, done.value if done else None)
        except (AuthError, ForeignHostError) as exc:
            # the whole run cannot go on: exit code 3 / 2 - its message names the patient's search URL
            # (probe33: "refusing http://other/…/Condition?patient=poems-origin" without --phi)
            exc.args = (self.scrub(str(exc), patient), *exc.args[1:])
            if hasattr(exc, "url") and isinstance(exc.url, str):
                exc.url = self.scrub(exc.url, patient)
            raise
        except NetworkError as exc:
            text = self.scrub(str(exc), patient)
            # only an answer to the patient's own reads says it is gone: a 404/410 to our transaction or to
            # the search of our own reports says nothing of a patient whose data were just read - a failure,
            # retried next run, not parked for good (probe50 MEDIUM-2; FHIR http.html#transaction)
            # nor does a 404/410 to a search's own next link: the page expired, the patient is there
            # (probe68 D2: an expired HAPI page parked a patient for good, its changes never written)
            # nor a 404 to one of its type searches while the Patient read answers (probe80 D3: a gateway
            # without a POST _search route parked every patient for good)
            gone = getattr(exc, "reading_patient", False) and not isinstance(
                exc, (PageLinkGoneError, SearchNotFoundError)
            )
            if exc.status in GONE and gone:
                summary.missing += 1
                summary.problems.append(
                    f"{name}: not on the server (HTTP {exc.status}): reported once, "
                    "then no longer retried (`poems-fhir state retry PATIENT` to try again)"
                )
                self._record(patient, previous, "missing", reason=text)
                return
            summary.failed += 1
            summary.problems.append(f"{name}: {text}")
            log.error("%s: failed: %s", name, text, extra=ev("patient.failed", patient=name, error=text))
            self._record(patient, previous, "failed", reason=text)
        except Exception as exc:  # a patient whose data crashes the mapper costs only that patient
            if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
                raise  # a full disk: every next write fails too - the run stops (exit 74), not per patient
            summary.failed += 1
            reason = exc.reason if isinstance(exc, _WorkerFailure) else _internal_reason(exc)
            reason = self.scrub(reason, patient)
            summary.problems.append(f"{name}: {reason}; recorded as failed and retried next run")
            log.error("%s: %s", name, reason, extra=ev("patient.internal_error", patient=name, error=reason))
            if not isinstance(exc, _WorkerFailure):
                log.debug("%s", traceback.format_exc(), extra=ev("patient.traceback", patient=name))
            self._record(patient, previous, "failed", reason=reason)

    def _evaluate(self, record: PatientRecord | None, unchanged_hash: str | None) -> Evaluated:
        """Evaluate one patient and, when it is in scope and its input changed since the last written
        run, build its transaction. No state, sink or summary is touched: this may run in a worker."""
        if record is None:
            return Evaluated(found=False)
        successor = surviving_record(record)
        if successor is not None:  # a record that "must no longer be used": its data lives on elsewhere
            return Evaluated(merged_into=successor)
        # the run's date judges what is overdue: a patient lost to follow-up has no newer data (probe58 D1)
        result = evaluate_record(
            record, self.mapping, self.profile, None, trigger=self.trigger, today=self.now().date()
        )
        a = result.assessment
        ready = Evaluated(
            input_hash=self._input_hash(record, result.steps if result.scope.in_scope else ()),
            in_scope=result.scope.in_scope,
            classification=a.classification,
            conclusion=self._conclusion("", a),
            alerts=[{"code": al.code, "message": al.message} for al in result.response.alerts],
            extraction_errors=list(result.extraction.errors),
            material=conclusion_key(a, result.response, result.steps),
            # also a record reading merged into this one by its own replaced-by link (probe79 D1)
            replaces=tuple(dict.fromkeys((*replaced_records(record.patient_resource), *record.merged_from))),
            inputs=_input_versions(record),
        )
        ready.cited = tuple(sorted(ref for ref in result.inputs if ref in ready.inputs))
        if result.scope.in_scope and self.sink is not None and ready.input_hash != unchanged_hash:
            try:
                ready.bundle = self._bundle(result)
            except NotWritableError as exc:
                ready.not_writable = str(exc)
        return ready

    def _patient(
        self, patient: str, name: str, previous: PatientState | None, summary: Summary, ready: Evaluated | None = None
    ) -> None:
        unread = 0  # this patient's own resources that could not be read this run
        if ready is None:  # in this process: fetch, then evaluate
            try:
                record, errors = self.source.fetch(patient)
            except NetworkError as exc:
                exc.reading_patient = True  # type: ignore[attr-defined]  # a 404/410 here: the patient is gone
                raise
            for e in errors:
                summary.problems.append(self.scrub(f"{name}: skipped input {e.source}: {e.message}", patient))
            summary.skipped_input += len(errors)
            unread += len(errors)
            unchanged = previous.input_hash if previous and previous.status in ("written", "out_of_scope") else None
            ready = self._evaluate(record, unchanged)
        if ready.internal is not None:
            raise _WorkerFailure(ready.internal)
        if not ready.found:  # e.g. a --patient that is not in the files: like a 404, reported once
            summary.missing += 1
            summary.problems.append(
                f"{name}: no resources found for this patient: reported once, then no "
                "longer retried (`poems-fhir state retry PATIENT` to try again)"
            )
            self._record(patient, previous, "missing", reason="no resources found")
            return
        if ready.merged_into is not None:
            self._merged(patient, name, previous, ready.merged_into, summary)
            return
        summary.evaluated += 1
        for e in ready.extraction_errors:
            summary.problems.append(self.scrub(f"{name}: skipped {e.resource or e.source}: {e.message}", patient))
        summary.skipped_input += len(ready.extraction_errors)
        assert ready.classification is not None  # noqa: S101 - set for a found record
        # ScreeningCounts.add, from the scope's in_scope
        (summary.screening.in_scope if ready.in_scope else summary.screening.out_of_scope)[
            ready.classification.value
        ] += 1
        input_hash = ready.input_hash
        if previous and previous.input_hash == input_hash and previous.status in ("written", "out_of_scope"):
            if previous.status == "written":
                self._conclude(name, ready, summary)
                summary.unchanged += 1
                ready.own = _own_recorded(previous)  # as the state recorded writing them
                self._remember_inputs(patient, ready, only_if_unknown=True)  # a state file from before schema 4
            else:
                summary.out_of_scope += 1
            return
        refused = getattr(self.source, "refused", None)
        unread += len(ready.extraction_errors) + (refused(patient) if callable(refused) else 0)
        if not ready.in_scope and unread and self.sink is not None and self._withdrawal_plan(patient).withdraw:
            self._hold_withdrawal(patient, name, previous, unread, summary)
            return
        if not ready.in_scope:
            summary.out_of_scope += 1
            withdrawn = self._withdraw(
                patient,
                name,
                "the patient no longer meets the criteria that put them in scope "
                f"({', '.join(self.trigger)} not present in the current data)",
                summary,
                self._said_out_of_scope(),
            )
            self._record(patient, previous, "out_of_scope", input_hash=input_hash, written=withdrawn)
            return
        self._conclude(name, ready, summary)
        if self.sink is None:
            return
        if ready.not_writable is not None:
            summary.failed += 1
            summary.problems.append(f"{name}: {self.scrub(ready.not_writable, patient)}")
            self._record(patient, previous, "failed", reason=ready.not_writable)
            return
        if ready.bundle is None:  # cannot happen: built wherever the state said the input changed
            raise _WorkerFailure("internal error: no transaction was built for a changed patient")
        self._write(patient, name, previous, ready, ready.bundle, input_hash, summary)
        self._remember_inputs(patient, ready)  # recorded "written": what the report now rests on

    def _remember_inputs(self, patient: str, ready: Evaluated, *, only_if_unknown: bool = False) -> None:
        """Remember what an in-scope patient's evaluation read, for discovery: a later change, move or
        deletion of any of it brings this patient back (probe73 D4, D8). Server sources only."""
        if self.dry_run or not getattr(self.source, "remembers_inputs", False):
            return
        # ours deleted by someone, watched at a version no resource has: put back, it brings the patient back
        # (probe82 D6: the plan withdrawn for the deletion stayed withdrawn until the conclusion changed)
        deleted = self.store.deletions(self.server_key, patient)
        if only_if_unknown and self.store.has_inputs(self.server_key, patient):
            if deleted:  # a state from before: the inputs were remembered without them
                self.store.remember_deletions(self.server_key, patient)
            return
        watched = {ref: DELETED_INPUT for ref in deleted if ref.count("/") == 1 and "?" not in ref}
        self.store.remember_inputs(
            self.server_key,
            patient,
            {**watched, **ready.inputs, **ready.own},
            (*ready.cited, *ready.own, *watched),
        )

    def _forget_inputs(self, patient: str) -> None:
        if not self.dry_run and getattr(self.source, "remembers_inputs", False):
            self.store.forget_inputs(self.server_key, patient)

    def _hold_withdrawal(
        self, patient: str, name: str, previous: PatientState | None, unread: int, summary: Summary
    ) -> None:
        """A patient written before who is out of scope now while some of its own resources could not be
        read (a date "2023-02-30", a refused resource): its absence from the evaluation is no evidence
        that the patient left scope, so nothing is withdrawn (probe47: a typo in one date withdrew a
        "met" report, "no longer meets the criteria ... not present in the current data"). The patient
        fails - listed, exit 1, evaluated again next run - and the report stays as written."""
        reason = (
            f"out of scope on this run's data, but {unread} of the patient's own resources could not be read "
            "(listed): the written report and plan are kept, not withdrawn; fix those resources"
        )
        summary.failed += 1
        summary.problems.append(f"{name}: {reason}")
        log.warning(
            "%s: withdrawal held: %s",
            name,
            reason,
            extra=ev("patient.withdrawal_held", patient=name, unread=unread, reason=reason),
        )
        self._record(patient, previous, "failed", reason=reason)

    def _without_reported_missing(self, patients: list[str]) -> list[str]:
        """Named patients (--patient, a Group) without those the server did not have in an earlier run,
        once reported and past ``retry_missing`` more tries: "reported once, then no longer retried"
        holds for a name that stays in the configuration too. `poems-fhir state retry` brings one back."""
        kept, gone = [], 0
        back_on_server = getattr(self.source, "back_on_server", None)  # a server source: one GET tells
        for patient in patients:
            previous = self.store.patient(self.server_key, patient)
            if previous is not None and previous.status == "missing" and previous.attempts > self.retry_missing:
                if back_on_server is not None and back_on_server(patient):
                    kept.append(patient)  # restored: read again (probe73 D6: skipped for good, exit 0)
                    continue
                gone += 1
            else:
                kept.append(patient)
        if gone:
            log.info(
                "%d named patient(s) not read: not on the server in an earlier run, already reported "
                "(`poems-fhir state retry PATIENT` to try again)",
                gone,
                extra=ev("cohort.reported_missing", count=gone),
            )
        return kept

    def _merged(self, patient: str, name: str, previous: PatientState | None, successor: str, summary: Summary) -> None:
        """A merged record (Patient.link replaced-by) is like one the server no longer has: reported
        once, nothing written to it and nothing of ours on it withdrawn (a write to a record that
        must no longer be used is refused by some servers and read by nobody)."""
        target = relative_reference(successor)
        shown = self.pseudonym(target) if target.startswith("Patient/") else "another record"
        reason = f"merged into {shown} (Patient.link replaced-by)"
        if previous is not None and previous.status == "missing" and previous.reason == reason:
            return  # reported once: a file source or a discovery that returns it again says nothing new
        summary.missing += 1
        summary.problems.append(
            f"{name}: merged into {shown} (Patient.link replaced-by): this record is no longer "
            "evaluated or written; the surviving record is evaluated under its own id. Reported once, "
            "then no longer retried (`poems-fhir state retry PATIENT` to try again)"
        )
        log.info(
            "%s: merged into %s: skipped",
            name,
            shown,
            extra=ev("patient.merged", patient=name, successor=shown),
        )
        self._record(patient, previous, "missing", reason=reason)

    def _conclude(self, name: str, ready: Evaluated, summary: Summary) -> None:
        """An in-scope patient's line in the summary, with its response alerts."""
        summary.in_scope += 1
        summary.alerts += len(ready.alerts)
        summary.conclusions.append({**ready.conclusion, "patient": name, "alerts": ready.alerts})

    def _bundle(self, result: PatientResult) -> dict[str, Any]:
        ctx = WriteContext(self.now(), self.mapping.identity, result.inputs, self.report_status, language=self.language)
        return transaction_for(result, ctx, html_for(result, self.mapping, language=self.language, generated=ctx.now))

    def _write(
        self,
        patient: str,
        name: str,
        previous: PatientState | None,
        ready: Evaluated,
        bundle: dict[str, Any],
        input_hash: str,
        summary: Summary,
    ) -> None:
        assert self.sink is not None  # noqa: S101 - narrows the type; callers return early without a sink
        material = ready.material
        subject_key = _subject_key(bundle)
        refused: PreconditionFailedError | None = None  # the last attempt's 409/412
        half: HalfWrittenError | None = None  # the last attempt found ours half-written: written again
        written: dict[str, dict[str, str]] = {}
        for attempt in (1, 2, 3):
            half = None
            view = self.sink.existing(patient, subject_key, _recorded_refs(previous))
            if view.disowned:
                previous = self._disown(patient, name, previous, view.disowned, summary)
            view.legacy_versions = _legacy(previous)
            view.patient, view.merged_from = patient, ready.replaces
            plan = plan_writes(bundle, view, material)
            stale = self._against_file(patient, plan, previous)
            if refused is not None and attempt == 3:
                if plan.bundle is None:
                    break  # refused twice, yet the server holds what we send: an attempt was applied
                # changed twice under us within seconds: a failure, retried next run
                raise PreconditionFailedError(
                    f"{refused} - the server refused our conditional write twice: the resource changed between "
                    "our read and our write both times, or the server matches several resources to our "
                    "identifier; nothing was written for this patient, who is retried next run (if it keeps "
                    "failing, look for duplicates of our resources on the server)",
                    url=refused.url,
                    status=refused.status,
                ) from refused
            try:
                # in a dry run the sink is a folder: "would write" what a real run sends
                written = self.sink.write(patient, plan.bundle) if plan.bundle else {}
                break
            except HalfWrittenError as exc:
                # an earlier attempt of this write, applied in part and answered with an error, left ours
                # half-written: ours, read again and written again - never a takeover (probe91 N1)
                half = exc
                self._said_half_written(patient, name, exc)
            except PreconditionFailedError as exc:
                # someone changed a resource between our read and our write, or our write was applied and
                # its answer lost (probe63 D5: twice): read again and decide again
                refused = exc
            except UnlistedResourceError as exc:
                # a clinician's resource the searches left out, found by our create-only write: left as it
                # is, and said as a takeover; the patient fails (probe80 D4)
                self._report_found(patient, name, exc, view, summary)
                raise
        if half is not None:  # found half-written on every attempt: failed, written again next run
            raise half
        # what of ours the server holds after this write: a later change by anyone else brings the patient back
        ready.own = {
            f"{r.get('resourceType')}/{r.get('id')}": str((r.get("meta") or {}).get("versionId") or "")
            for r in view.resources
            if r.get("id")
        } | _own_written(written)
        self._found_again(patient, name, view, summary)
        self._report_takeovers(patient, name, plan, summary)
        if stale:
            self._count_withdrawn(patient, name, stale, self._superseded(), summary)
        withdrawal_only = False
        if plan.withdraw or plan.kept_by_clinician:
            reason, said = (
                (
                    self._retracted(plan.retracted, plan.retracted_by_deletion),
                    self._said_retracted(plan.retracted, plan.retracted_by_deletion),
                )
                if plan.retracted
                else (self._superseded(), self._said_superseded())
            )
            if plan.retracted:  # withdrawn, it no longer cites the retracted report either (probe78 N7)
                plan.withdraw = [_without_reference(r, plan.retracted) for r in plan.withdraw]
            dry = plan.bundle if self.dry_run else None  # what this dry run wrote to the folder
            before = (summary.withdrawn, summary.would_write)
            self._apply_withdrawal(patient, name, plan, reason, summary, said, own=ready.own, sent=dry)
            if plan.bundle is None and (summary.withdrawn, summary.would_write) != before:
                # a withdrawal sent, or put in the dry run's folder, is the patient's write: `written` (or
                # `would_write`), never also `unchanged` (probe84 D7: the real run counted the patient
                # `unchanged` beside its withdrawal where the dry run counted it `would_write`)
                withdrawal_only = True
                if not self.dry_run:
                    summary.written += 1
        if plan.bundle is None and refused is not None and not plan.takeovers and not plan.kept_by_clinician:
            # refused, and now the server holds exactly what we would send: our first attempt was applied
            # and its answer lost (a 5xx after the commit, retried into a 412) - written, not "unchanged"
            # (probe56 D3)
            summary.written += 1
            log.info(
                "%s: our write had been applied although its answer was lost (the retry was refused with 412)",
                name,
                extra=ev(
                    "patient.written", patient=name, resources=0, classification=ready.conclusion["classification"]
                ),
            )
            self._record(patient, previous, "written", input_hash=input_hash)
            return
        if plan.bundle is None:
            if not withdrawal_only:
                summary.unchanged += 1
            self._record(patient, previous, "written", input_hash=input_hash)
            return
        verb = "would write" if self.dry_run else "wrote"
        if self.dry_run:
            summary.would_write += 1
        else:
            summary.written += 1
        self._record(patient, previous, "written", input_hash=input_hash, written=written)
        log.info(
            "%s: %s %d resources (%s)",
            name,
            verb,
            len(plan.bundle["entry"]),
            ready.conclusion["classification"],
            extra=ev(
                "patient.would_write" if self.dry_run else "patient.written",
                patient=name,
                resources=len(plan.bundle["entry"]),
                classification=ready.conclusion["classification"],
            ),
        )

    def _superseded(self) -> str:
        return f"superseded by this run's proposals (profile {self.profile.name})"

    def _said_superseded(self) -> str:
        t = translator(self.language)
        name = label(t, "profile", self.profile.name) if self.profile.name in PROFILE_TERMS else self.profile.title
        return t._("superseded by this run's proposals ({profile})").format(profile=name)

    @staticmethod
    def _retracted(report: str, deleted: bool = False) -> str:
        how = "deleted" if deleted else "marked entered-in-error"
        return f"the criteria report it rests on ({report}) was {how} by someone"

    def _said_retracted(self, report: str, deleted: bool = False) -> str:
        t = translator(self.language)
        said = (
            t._("the criteria report it rests on ({report}) was deleted")
            if deleted
            else t._("the criteria report it rests on ({report}) was marked entered-in-error")
        )
        return said.format(report=report)

    def _said_out_of_scope(self) -> str:
        t = translator(self.language)
        criteria = ", ".join(label(t, "criterion", c) for c in self.trigger)
        return t._(
            "the patient no longer meets the criteria that put them in scope ({criteria} not present in the current data)"
        ).format(criteria=criteria)

    def _against_file(self, patient: str, plan: Plan, previous: PatientState | None) -> list[dict[str, Any]]:
        """File mode: the patient's file holds the transaction last written, and writing replaces it.
        Our open reports and plans in it that this transaction does not carry again (another
        --profile wrote them) are withdrawn in the same transaction, or posting the folder would leave
        them open for ever; they are returned. A file that already says what this transaction says
        (the same reports and plans by content hash: only the clock differs) is left as it is, so a
        lost state or the same input under another path rewrites nothing (``plan.bundle`` = None)."""
        if not (isinstance(self.sink, DirSink) and self.sink.server is None) or plan.bundle is None:
            return []
        from .ownership import is_open, key_of

        before = self.sink.previous(patient, _recorded_file(previous))
        carried = {
            key_of(e["resource"]): tag_of(e["resource"], SOURCE_TAG_SYSTEM)
            for e in plan.bundle["entry"]
            if e["resource"]["resourceType"] in GUARDED_TYPES
        }
        stale = [r for r in before if is_open(r) and key_of(r) not in carried]
        if stale:
            withdrawal = withdrawal_transaction(stale, self._said_superseded(), self.now(), translator(self.language))
            plan.bundle = {**plan.bundle, "entry": plan.bundle["entry"] + withdrawal["entry"]}
        elif carried and {key_of(r): tag_of(r, SOURCE_TAG_SYSTEM) for r in before} == carried:
            plan.bundle = None
        return stale

    def _count_withdrawn(
        self, patient: str, name: str, withdrawn: list[dict[str, Any]], reason: str, summary: Summary
    ) -> None:
        refs = self.scrub(", ".join(f"{r['resourceType']}/{r.get('id') or 'ours'}" for r in withdrawn), patient)
        verb, event = (
            ("would withdraw", "patient.would_withdraw") if self.dry_run else ("withdrew", "patient.withdrawn")
        )
        if not self.dry_run:
            summary.withdrawn += len(withdrawn)
        log.info(
            "%s: %s %s (%s)", name, verb, refs, reason, extra=ev(event, patient=name, resources=refs, reason=reason)
        )

    def _said_half_written(self, patient: str, name: str, exc: HalfWrittenError) -> None:
        refs = ", ".join(f"{r.get('resourceType')}/{r.get('id')}" for r in exc.found if isinstance(r, dict))
        log.info(
            "%s: %s, stored in part by an earlier attempt of this write, is ours: written again",
            name,
            self.scrub(refs, patient),
            extra=ev("patient.half_written", patient=name, resources=self.scrub(refs, patient)),
        )

    def _report_found(
        self, patient: str, name: str, exc: UnlistedResourceError, view: ServerView, summary: Summary
    ) -> None:
        """Report, as takeovers, the resources of someone else among those a create-only write found."""
        found = [r for r in exc.found if isinstance(r, dict) and r.get("id")]
        seen = replace(view, resources=view.resources + found)
        taken = [takeover_of(r) for r in found if owned(r, seen)]
        if taken:
            self._report_takeovers(patient, name, Plan(None, takeovers=taken), summary)

    def _report_takeovers(self, patient: str, name: str, plan: Plan, summary: Summary) -> None:
        for note in plan.notes:
            summary.problems.append(f"{name}: note: {self.scrub(note, patient)}")
        for d in plan.deletions:  # a note, once: a known state since (recorded like a takeover)
            said = (patient, d.ref)
            if said in summary.takeovers_said or self._known(patient, d.ref):
                continue
            summary.takeovers_said.add(said)
            summary.problems.append(f"{name}: note: {self.scrub(d.message, patient)}")
            if not self.dry_run:
                self.store.add_takeover(self.server_key, patient, d.ref, d.key, d.status or "", self.now().isoformat())
        for t in plan.takeovers:
            said = (patient, t.ref)
            if said in summary.takeovers_said:
                continue  # one resource once a run (a report left beside a new one was counted twice)
            summary.takeovers_said.add(said)
            summary.clinician_owned += 1
            # a dry run reports what the real run would: a takeover the state knows is no news (probe75 L4)
            if not self._known(patient, t.ref):
                summary.conflicts += 1
                summary.problems.append(f"{name}: {self.scrub(t.message, patient)}")
                log.warning(
                    "%s: taken over: %s",
                    name,
                    self.scrub(t.message, patient),
                    extra=ev("patient.taken_over", patient=name, resource=self.scrub(t.ref, patient)),
                )
                if not self.dry_run:
                    self.store.add_takeover(
                        self.server_key, patient, t.ref, t.key, t.status or "", self.now().isoformat()
                    )

    def _disown(
        self, patient: str, name: str, previous: PatientState | None, disowned: dict[str, str], summary: Summary
    ) -> PatientState | None:
        """What the state recorded writing for the patient that the server holds as no resource of ours for it
        (``ServerView.disowned``): not ours - ownership is the server's, and a state records what a transaction
        answer claimed it stored. Dropped from the state's record, said once; the patient is planned from what the
        server holds of ours (probe91b D2: a lying answer's locations named a clinician's report and plan, and
        every later run failed the patient, "its search answers are not trusted")."""
        for ref, what in sorted(disowned.items()):
            if (patient, ref) in self._disowned:
                continue
            self._disowned.add((patient, ref))
            shown = self.scrub(ref, patient)
            said = (
                f"the state recorded {shown} as written by poems-fhir, but the server holds it as {what}: not "
                "ours, dropped from the state (an earlier transaction answer named it as what our write stored - "
                "the server's lying answer); never modified, and what is ours is found on the server again"
            )
            summary.problems.append(f"{name}: note: {said}")
            log.warning(
                "%s: %s",
                name,
                said,
                extra=ev("patient.state_disowned", patient=name, resource=shown, found=what),
            )
        return self._trusted(patient, previous)

    def _trusted(self, patient: str, previous: PatientState | None) -> PatientState | None:
        """``previous`` without what the server showed is not ours (``_disown``)."""
        if previous is None:
            return None
        kept = {k: v for k, v in previous.written.items() if (patient, v.get("ref")) not in self._disowned}
        return previous if len(kept) == len(previous.written) else replace(previous, written=kept)

    def _known(self, patient: str, ref: str) -> bool:
        """A takeover (or deletion) of ``ref`` the state knows, and not found on the server again this run."""
        return (patient, ref) not in self._found and self.store.known_takeover(self.server_key, patient, ref)

    def _found_again(self, patient: str, name: str, view: ServerView, summary: Summary) -> None:
        """Our resources the state recorded as deleted by someone that the server holds again (put back under
        their id or our identifier): no longer a deletion - the record goes, so `state conflicts` stops listing
        it and a later deletion is said again. As we wrote it, it is ours again (this run's plan decided with
        it: a plan withdrawn for the deletion is updated back when it applies); changed, it is a takeover,
        reported as such (probe82 D6: the plan stayed withdrawn and the deletion listed until the
        conclusion changed)."""
        from .ownership import key_of, ref_of

        deleted = self.store.deletions(self.server_key, patient)
        if not deleted:
            return
        by_ref = {ref_of(r): r for r in view.resources}
        by_key = {key_of(r): r for r in view.resources}
        for ref, key in deleted.items():
            res = by_ref.get(ref) or by_key.get(key)
            if res is None or (patient, ref) in self._found:
                continue
            self._found.add((patient, ref))
            if not self.dry_run:
                self.store.forget_takeover(self.server_key, patient, ref)
            ours = not owned(res, view)
            shown = self.scrub(ref_of(res), patient)
            if ours:
                summary.problems.append(
                    f"{name}: note: {shown}, deleted by someone earlier, is on the server again as poems-fhir wrote "
                    "it: ours again, no longer listed as deleted"
                )
            log.info(
                "%s: %s, recorded as deleted by someone, is on the server again (%s)",
                name,
                shown,
                "as poems-fhir wrote it: ours again" if ours else "changed by someone: a takeover",
                extra=ev("patient.deletion_undone", patient=name, resource=shown, ours=ours),
            )

    def _withdraw(
        self, patient: str, name: str, reason: str, summary: Summary, said: str
    ) -> dict[str, dict[str, str]] | None:
        """Our own, unchanged, open report and plan of this patient no longer hold: withdraw them.
        Returns where a file-mode withdrawal was written (for the state), else None."""
        if self.sink is None:
            return None
        plan = self._withdrawal_plan(patient, (name, summary))
        return self._apply_withdrawal(patient, name, plan, reason, summary, said)

    def _withdrawal_plan(self, patient: str, said: tuple[str, Summary] | None = None) -> Plan:
        """What of ours is open for this patient: to withdraw (ours, unchanged) or kept (a clinician's).
        ``said``: (name, summary) to report our deleted resources found again under (``_found_again``)."""
        assert self.sink is not None  # noqa: S101 - callers return early without a sink
        from .ownership import is_open, owned, ref_of, takeover_of

        view = self.sink.existing(patient, _subject_key_of(patient))
        file_mode = isinstance(self.sink, DirSink) and self.sink.server is None
        known = self.store.patient(self.server_key, patient)
        if file_mode and isinstance(self.sink, DirSink):  # the file we wrote is all we know; no clinician edits it
            view.resources = self.sink.previous(patient, _recorded_file(known))
        view.legacy_versions = _legacy(known)
        if said is not None and not file_mode:
            self._found_again(patient, said[0], view, said[1])
        plan = Plan(None, ours=view.our_refs())
        for res in view.resources:
            if not is_open(res):
                plan.closed.append(ref_of(res))
                continue
            if not file_mode and owned(res, view):
                plan.kept_by_clinician.append(ref_of(res))
                plan.kept_takeovers.append(takeover_of(res))
            else:
                plan.withdraw.append(res)
        return plan

    def _apply_withdrawal(
        self,
        patient: str,
        name: str,
        plan: Plan,
        reason: str,
        summary: Summary,
        said: str,
        own: dict[str, str] | None = None,
        sent: dict[str, Any] | None = None,
        attempt: int = 1,
    ) -> dict[str, dict[str, str]] | None:
        """``reason``: for logs and the summary (English, ids); ``said``: the same for the clinician,
        in the written resources' language. ``own``: the versions of ours the server holds, brought up to
        date with the withdrawal's (probe78 N5: the next run read our own withdrawal as someone's change
        and planned the patient once more). ``sent``: in a dry run, the transaction this run already wrote
        to the folder for the patient (the folder holds one file a patient: both go into it)."""
        assert self.sink is not None  # noqa: S101 - narrows the type; callers return early without a sink
        for ref in plan.kept_by_clinician:
            log.info(
                "%s: %s no longer holds but belongs to someone else: left alone (%s)",
                name,
                self.scrub(ref, patient),
                reason,
                extra=ev("patient.withdrawal_skipped", patient=name, resource=self.scrub(ref, patient), reason=reason),
            )
        # a clinician's report or plan standing beside data that no longer support it: a takeover, reported
        # once as a conflict (exit 1) - nobody was alerted by the INFO line alone (probe50 LOW-2)
        self._report_takeovers(
            patient,
            name,
            Plan(
                None,
                takeovers=[
                    replace(
                        t,
                        message=f"no longer holds ({reason}), but {t.message}; review it: it may now contradict the data",
                    )
                    for t in plan.kept_takeovers
                ],
            ),
            summary,
        )
        if not plan.withdraw:
            return None
        bundle = withdrawal_transaction(plan.withdraw, said, self.now(), translator(self.language), plan.ours)
        refs = ", ".join(f"{r['resourceType']}/{r.get('id') or 'ours'}" for r in plan.withdraw)
        if self.dry_run:
            self._count_withdrawn(patient, name, plan.withdraw, reason, summary)
            if not isinstance(self.sink, DirSink):
                return None
            # the folder gets the transactions the real run would send, a withdrawal too: counted as a
            # patient it would write, also when the withdrawal is its only change (probe82 D11: nothing
            # was written or counted after a deletion, or for a patient leaving scope)
            if sent is None:
                summary.would_write += 1
            else:  # a write of this run (a --profile switch) and the withdrawal: one file, both
                bundle = {**sent, "entry": [*sent["entry"], *bundle["entry"]]}
            return self.sink.write(patient, bundle)
        try:
            written = self.sink.write(patient, bundle)
        except PreconditionFailedError as exc:
            log.warning(
                "%s: not withdrawn, changed by someone meanwhile: %s",
                name,
                self.scrub(refs, patient),
                extra=ev("patient.withdrawal_conflict", patient=name, resources=self.scrub(refs, patient)),
            )
            return self._withdraw_again(patient, name, plan, reason, summary, said, own, exc, attempt)
        self._count_withdrawn(patient, name, plan.withdraw, reason, summary)
        if own is not None:
            own.update(_own_written(written))
        return {FILE_KEY: written[FILE_KEY]} if FILE_KEY in written else None

    def _withdraw_again(
        self,
        patient: str,
        name: str,
        plan: Plan,
        reason: str,
        summary: Summary,
        said: str,
        own: dict[str, str] | None,
        refused: PreconditionFailedError,
        attempt: int,
    ) -> dict[str, dict[str, str]] | None:
        """A withdrawal refused with 409/412: someone changed one of its resources between our read and our
        write (a clinician signed our report), or an earlier attempt of it was applied and its answer lost (the
        retry was refused). Read again and decide again, as a write does: what is now withdrawn was withdrawn by
        that attempt, what someone changed is kept and reported, the rest is withdrawn (probe101 D2: the
        withdrawal was dropped, our unchanged plan stayed open for good and nothing was reported). Refused a
        second time: the patient fails and is retried on the next run."""
        if attempt >= 2:
            raise PreconditionFailedError(
                f"{refused} - the server refused our withdrawal twice: its resources changed between our read and "
                "our write both times; nothing was withdrawn for this patient this time, who is retried next run",
                url=refused.url,
                status=refused.status,
            ) from refused
        from .ownership import ref_of

        wanted = {ref_of(r) for r in plan.withdraw}
        fresh = self._withdrawal_plan(patient)
        again = Plan(None, ours=fresh.ours)
        again.withdraw = [r for r in fresh.withdraw if ref_of(r) in wanted]
        kept = [(ref, t) for ref, t in zip(fresh.kept_by_clinician, fresh.kept_takeovers, strict=True) if ref in wanted]
        again.kept_by_clinician = [ref for ref, _ in kept]
        again.kept_takeovers = [t for _, t in kept]
        done = [r for r in plan.withdraw if ref_of(r) in wanted.intersection(fresh.closed)]
        if done:  # withdrawn by the attempt whose answer was lost
            self._count_withdrawn(patient, name, done, reason, summary)
        return self._apply_withdrawal(patient, name, again, reason, summary, said, own, attempt=attempt + 1)

    def _conclusion(self, name: str, a: Assessment) -> dict[str, Any]:
        return {
            "patient": name,
            "classification": a.classification.value,
            "missing": [m.criterion for m in a.missing],
            "flags": [f.code for f in a.flags],
        }

    def _record(
        self,
        patient: str,
        previous: PatientState | None,
        status: str,
        *,
        input_hash: str = "",
        written: dict[str, dict[str, str]] | None = None,
        reason: str = "",
    ) -> None:
        """Record one patient's outcome. A failure keeps what the state knew of earlier writes."""
        if self.dry_run:
            return
        previous = self._trusted(patient, previous)
        known = dict(previous.written) if previous else {}
        known.update(written or {})
        attempts = (
            (previous.attempts + 1 if previous and previous.status == status else 1)
            if status in ("failed", "missing")
            else 0
        )
        self.store.record_patient(
            self.server_key,
            patient,
            input_hash,
            known,
            status,
            self.now().isoformat(),
            reason=self.redact(reason),  # the state is shown by `state failed`: no echoed secret (probe80 D1)
            attempts=attempts,
        )
        if status in ("out_of_scope", "missing"):
            self._forget_inputs(patient)  # no report of ours stands on them any more

    def _input_hash(self, record: PatientRecord, steps: Sequence[Step] = ()) -> str:
        """Inputs (version or content of every resource), profile, mapping and our version - and which
        proposals are overdue by the run's date: the one thing that changes with the clock, so a run on
        the day a step falls overdue writes the plan again (and every other run on the same data none)."""
        parts = []
        for raw in sorted(record.resources, key=lambda r: r.ref or r.origin):
            meta = raw.data.get("meta") or {}
            stamp = meta.get("versionId") if isinstance(meta, dict) else None
            stamp = stamp or hashlib.sha256(json.dumps(raw.data, sort_keys=True, default=str).encode()).hexdigest()
            if fetched := fetched_digest(raw.data):  # a Binary's text read into it: its version does not say it
                stamp = f"{stamp}+{fetched}"
            parts.append(f"{raw.ref}@{stamp}")
        overdue = sorted((s.id, v) for s in steps for k, v in s.params if k == "overdue")
        blob = json.dumps({"inputs": parts, **self._settings(), **({"overdue": overdue} if overdue else {})})
        return hashlib.sha256(blob.encode()).hexdigest()

    def _settings(self) -> dict[str, Any]:
        """What, besides the input, decides what is written for a patient."""
        return {
            "profile": self.profile.name,
            "mapping": self.mapping.fingerprint,
            "trigger": self.trigger,
            "version": __version__,
            "status": self.report_status,
            "language": self.language,
            # what is read decides too: a run that reads every Observation reads every patient again once
            **({"all_observations": True} if getattr(self.source, "all_observations", False) else {}),
        }

    def _settings_fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self._settings(), sort_keys=True).encode()).hexdigest()[:32]


def _input_versions(record: PatientRecord) -> dict[str, str]:
    """ "Type/id" -> versionId ('' when it has none) of the resources a record holds, the patient's own
    Patient aside (a change of it is no change of an input another patient may have left)."""
    out: dict[str, str] = {}
    for raw in record.resources:
        ref = raw.ref
        if not ref or ref.count("/") != 1 or ref.startswith(("Patient/", "urn:")) or ":" in ref:
            continue
        meta = raw.data.get("meta")
        version = meta.get("versionId") if isinstance(meta, dict) else None
        out[ref] = version if isinstance(version, str) else ""
    return out


def _without_reference(resource: dict[str, Any], ref: str) -> dict[str, Any]:
    """``resource`` without the elements of its ``supportingInfo`` that reference ``ref``."""
    kept = [s for s in resource.get("supportingInfo") or [] if not (isinstance(s, dict) and s.get("reference") == ref)]
    out = {k: v for k, v in resource.items() if k != "supportingInfo"}
    return {**out, "supportingInfo": kept} if kept else out


def _own_written(written: dict[str, dict[str, str]]) -> dict[str, str]:
    """ "Type/id" -> versionId of our reports and plans in a write's answer (or the state's record of one)."""
    out: dict[str, str] = {}
    for w in written.values():
        ref = w.get("ref") if isinstance(w, dict) else None
        if isinstance(ref, str) and ref.split("/", 1)[0] in GUARDED_TYPES and ref.count("/") == 1:
            out[ref] = str(w.get("version") or "")
    return out


def _own_recorded(previous: PatientState | None) -> dict[str, str]:
    return _own_written(previous.written) if previous else {}


def _recorded_file(previous: PatientState | None) -> str | None:
    """File mode: the file the state recorded writing this patient's last transaction to."""
    return (previous.written.get(FILE_KEY) or {}).get("ref") if previous else None


def _recorded_refs(previous: PatientState | None) -> list[str]:
    """ "Type/id" of what the state recorded writing for the patient (the file of file mode is no
    resource)."""
    return [
        v["ref"] for k, v in (previous.written if previous else {}).items() if k != FILE_KEY and "/" in v.get("ref", "")
    ]


def _legacy(previous: PatientState | None) -> dict[str, str]:
    """Versions the state recorded writing: they vouch only for resources that carry no marker."""
    return {
        v["ref"]: v["version"]
        for v in (previous.written if previous else {}).values()
        if v.get("ref") and v.get("version")
    }


def _subject_key(bundle: dict[str, Any]) -> str:
    from ..fhir.write import SUBJECT_TAG_SYSTEM, tag_of

    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Provenance":
            return tag_of(e["resource"], SUBJECT_TAG_SYSTEM) or ""
    return ""


def _subject_key_of(patient: str) -> str:
    from ..fhir.write import _patient_key

    return _patient_key(patient)
