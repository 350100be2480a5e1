# SPDX-License-Identifier: Apache-2.0
"""One evaluation run over files: read -> map -> evaluate, per patient.

Orchestration only; the clinical logic lives in criteria/, the FHIR reading in fhir/ and mapping/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .criteria.engine import evaluate
from .criteria.model import Assessment
from .criteria.profiles import Profile
from .criteria.pathway import Step, pathway, responded
from .criteria.response import (
    ResponseAssessment,
    ResponseConfig,
    assess_response,
    with_progression_before_treatment,
)
from .criteria.risk import RiskConfig, RiskFactor, assess_risk
from .criteria.scope import DEFAULT_TRIGGER, ScopeDecision, ScreeningCounts, decide_scope
from .fhir.read import PatientRecord, ReadResult, SourceError, internal_error, read_paths, surviving_record
from .fhir.write import MergedPatientError, WriteContext, build_transaction
from .mapping.extract import Extraction, extract
from .mapping.rules import CompiledMapping
from .mapping.values import PartialDate, ResourceError, parse_date


@dataclass
class PatientResult:
    record: PatientRecord
    extraction: Extraction
    assessment: Assessment
    response: ResponseAssessment
    risk: list[RiskFactor]
    steps: list[Step]
    #: in or out of scope under the trigger, with the rule and evidence that decided it
    scope: ScopeDecision

    @property
    def inputs(self) -> dict[str, str | None]:
        """The input resources this result rests on, with their versionIds (the write-back's
        Provenance sources): what the mapping used, dated on or before the --as-of date (a later
        result read but not yet known at that date is no source), and everything the conclusions
        cite, such as the report a refuted Condition rests on (``Evidence.supporting``)."""
        cited = cited_references(self)
        used = self.extraction.used
        as_of = self.assessment.as_of
        if as_of is not None:
            x = self.extraction
            dated: list[tuple[str, dt.date | None]] = [(f.evidence.reference, f.evidence.effective) for f in x.findings]
            dated += [(m.reference, m.effective) for m in x.measurements]
            dated += [(e.reference, e.effective) for e in x.events]
            dated += [(c.reference, c.effective) for c in x.course]
            known = {ref for ref, day in dated if day is None or day <= as_of}
            # a Specimen or Medication has no date of its own: it counts with the result or treatment that
            # names it (probe51 D7: the Specimens a VEGF's plasma/serum was read from left the Provenance)
            attached = self._attached(known)
            undated = set(used) - {ref for ref, _ in dated}
            used = {ref: vid for ref, vid in used.items() if ref in known or (ref in undated and ref in attached)}
        versions = {r.ref: (r.data.get("meta") or {}).get("versionId") for r in self.record.resources if r.ref}
        out = dict(used)
        for ref in cited:
            out.setdefault(ref, versions.get(ref))
        return out

    def _attached(self, refs: set[str]) -> set[str]:
        """The Specimens and Medications the resources ``refs`` name."""
        index = self.record.index
        out: set[str] = set()
        for raw in self.record.resources:
            if raw.ref not in refs:
                continue
            for key in ("specimen", "medicationReference"):
                target = raw.data.get(key)
                ref = target.get("reference") if isinstance(target, dict) else None
                canonical = index.canonical(ref) if isinstance(ref, str) else None
                if canonical:
                    out.add(canonical)
        return out


def cited_references(result: PatientResult) -> set[str]:
    """Every input reference the written conclusions cite: criteria evidence and what it rests on,
    the response's deciding results, the care pathway's evidence."""
    a, r = result.assessment, result.response
    refs = {e.reference for c in a.criteria.values() for e in c.evidence}
    refs |= {s for c in a.criteria.values() for e in c.evidence for s in e.supporting}
    for h in (r.hematologic, r.hematologic_imwg):
        refs |= {p.reference for p in (h.baseline, h.latest) if p} | set(h.evidence)
    refs |= {p.reference for p in (r.vegf.baseline, r.vegf.nadir, r.vegf.latest, r.vegf.unpaired) if p}
    refs |= {x for d in r.clinical.values() for x in d.evidence}
    refs |= {x for step in result.steps for x in step.evidence}
    return {x for x in refs if x}


@dataclass
class Run:
    results: list[PatientResult]
    errors: list[SourceError] = field(default_factory=list)
    read: ReadResult | None = None


def screening_counts(results: Iterable[PatientResult]) -> ScreeningCounts:
    """Patients per scope and classification (the screening summary of a run)."""
    counts = ScreeningCounts()
    for r in results:
        counts.add(r.scope, r.assessment.classification)
    return counts


def response_config(mapping: CompiledMapping) -> ResponseConfig:
    t = mapping.thresholds
    return ResponseConfig(
        vegf_cutoff={"plasma": t["vegf_plasma"].value, "serum": t["vegf_serum"].value},
        vegf_partial_decrease=t["vegf_partial_decrease"].value / 100,
        vegf_progression_increase=t["vegf_progression_increase"].value / 100,
        albumin_change=t["albumin_change"].value / 100,
    )


def risk_config(mapping: CompiledMapping) -> RiskConfig:
    t = mapping.thresholds
    return RiskConfig(
        age_years=t["age_risk"].value,
        egfr_low=t["egfr_low"].value,
        albumin_low=t["albumin_low"].value,
        pasp_high=t["pasp_pulmonary_hypertension"].value,
        tandem_days=t["tandem_transplant_days"].value,
    )


def run_day() -> dt.date:
    """The run's calendar day, for the edges (CLI, distributed run) to pass as ``clock_day``."""
    return dt.date.today()


#: the kinds of resource whose date says when something was measured or seen: none is dated after the run
_RESULT_TYPES = ("Observation/", "DiagnosticReport/", "DocumentReference/")


def set_aside_future_results(extraction: Extraction, clock_day: dt.date | None) -> None:
    """Results dated after the run's day (a day's grace: a date-time counts by its own local date, up to
    +14:00 ahead of UTC) are no results yet - a typo such as 2204 for 2024 - and would become the latest
    value every response, surveillance date and risk rests on: set aside and listed with their date.
    Treatments and diagnoses are left: a planned procedure or a course's end may lie ahead."""
    if clock_day is None:
        return
    limit = clock_day + dt.timedelta(days=1) if clock_day < dt.date.max else clock_day  # the calendar's end

    def future(reference: str, day: dt.date | None) -> bool:
        return day is not None and day > limit and reference.startswith(_RESULT_TYPES)

    dates: dict[str, dt.date] = {}
    for ref, day in (
        [(f.evidence.reference, f.evidence.effective) for f in extraction.findings]
        + [(m.reference, m.effective) for m in extraction.measurements]
        + [(c.reference, c.effective) for c in extraction.course]
    ):
        if future(ref, day):
            dates.setdefault(ref, day)  # type: ignore[arg-type]
    if not dates:
        return
    extraction.findings[:] = [f for f in extraction.findings if f.evidence.reference not in dates]
    extraction.measurements[:] = [m for m in extraction.measurements if m.reference not in dates]
    extraction.course[:] = [c for c in extraction.course if c.reference not in dates]
    for ref, day in dates.items():
        extraction.used.pop(ref, None)
        extraction.errors.append(
            SourceError(
                ref,
                f"dated {day.isoformat()}, after the run's date {clock_day.isoformat()}: a result from the future "
                "is not used - check its date",
                ref,
            )
        )


def _birth_dates(record: PatientRecord) -> tuple[dt.date | None, dt.date | None]:
    """The first and the last day the patient can have been born: a birth date known only to the year or
    the month ("1972-08") still decides an age factor that every day of it decides alike (probe83 D5)."""
    try:
        born = parse_date(record.birth_date, "Patient.birthDate")
    except ResourceError:
        return None, None
    return born, born.last_day if isinstance(born, PartialDate) else born


def _responded_before(
    extraction: Extraction,
    mapping: CompiledMapping,
    as_of: dt.date | None,
    baseline: dt.date | None,
    response: ResponseAssessment,
) -> bool:
    """Whether a response (criteria.md §8) was reached at an earlier restaging while none stands now:
    surveillance (§10 step 6, "after response") goes on when it is lost. Only for a treated patient not
    responding now; the response as of each earlier result, newest first, until one."""
    if response.first_treatment is None or responded(response):
        return False
    return any(
        responded(r)
        for r in _responses_since(extraction, mapping, response.first_treatment, as_of, baseline, newest_first=True)
    )


def _responses_after_radiotherapy(
    extraction: Extraction, mapping: CompiledMapping, as_of: dt.date | None, baseline: dt.date | None
) -> list[ResponseAssessment]:
    """The response as of each result after a radiotherapy ended (criteria.md §10 step 1a looks for a
    progression 3-6 months after it): a progression that led to a systemic therapy stays known when the
    new therapy brings the value down. Only for the rare patient given radiotherapy; a few results each."""
    ends = [day for e in extraction.events if e.kind == "radiotherapy" and (day := e.end or e.effective) is not None]
    if not ends:
        return []
    return list(_responses_since(extraction, mapping, min(ends), as_of, baseline))


def _responses_since(
    extraction: Extraction,
    mapping: CompiledMapping,
    first: dt.date,
    as_of: dt.date | None,
    baseline: dt.date | None,
    newest_first: bool = False,
) -> Iterator[ResponseAssessment]:
    """The response as of each day a result was taken after ``first`` and before ``as_of`` (at most 60
    days: the oldest, or the newest when ``newest_first``), assessed one at a time as they are read."""
    days = sorted(
        {
            m.effective
            for m in extraction.measurements
            if m.effective and m.effective > first and (as_of is None or m.effective < as_of)
        },
        reverse=newest_first,
    )[:60]
    cfg = response_config(mapping)
    for day in days:
        yield assess_response(
            extraction.measurements,
            extraction.events,
            extraction.findings,
            extraction.course,
            cfg,
            day,
            baseline,
            cr_dates=False,
        )


def evaluate_record(
    record: PatientRecord,
    mapping: CompiledMapping,
    profile: Profile,
    as_of: dt.date | None,
    baseline: dt.date | None = None,
    trigger: Sequence[str] = DEFAULT_TRIGGER,
    today: dt.date | None = None,
    clock_day: dt.date | None = None,
) -> PatientResult:
    """``today`` (the run's date, used only without ``as_of``) judges which proposals are overdue.
    ``clock_day`` (the run's date, default ``today``): results dated after it are set aside and listed."""
    extraction = extract(record, mapping)
    set_aside_future_results(extraction, clock_day or today)
    response = assess_response(
        extraction.measurements,
        extraction.events,
        extraction.findings,
        extraction.course,
        response_config(mapping),
        as_of,
        baseline,
    )
    # a progression before a later treatment stays known when that treatment brings the value down
    response = with_progression_before_treatment(
        response,
        extraction.measurements,
        extraction.events,
        extraction.findings,
        extraction.course,
        response_config(mapping),
    )
    # a test that finds a criterion absent after treatment began is no absence at diagnosis
    assessment = evaluate(record.patient, extraction.findings, profile, as_of, response.first_treatment)
    born = _birth_dates(record)
    risk = assess_risk(
        extraction.findings,
        extraction.measurements,
        extraction.events,
        response,
        born[0],
        as_of,
        risk_config(mapping),
        birth_latest=born[1],
    )

    # the work-up as it stood when treatment began: what was open then and is assessed now is done
    earlier = (
        evaluate(record.patient, extraction.findings, profile, response.first_treatment)
        if response.first_treatment
        else None
    )
    steps = pathway(
        assessment,
        earlier,
        response,
        risk,
        extraction.findings,
        extraction.measurements,
        extraction.events,
        as_of,
        _responses_after_radiotherapy(extraction, mapping, as_of, baseline),
        today,
        _responded_before(extraction, mapping, as_of, baseline, response),
    )
    return PatientResult(record, extraction, assessment, response, risk, steps, decide_scope(assessment, trigger))


def iter_evaluations(
    records: Iterable[PatientRecord],
    mapping: CompiledMapping,
    profile: Profile,
    as_of: dt.date | None,
    patients: Iterable[str] | None = None,
    baseline: dt.date | None = None,
    trigger: Sequence[str] = DEFAULT_TRIGGER,
    errors: list[SourceError] | None = None,
) -> Iterator[PatientResult]:
    """Evaluate each wanted record. With ``errors``, a patient whose evaluation fails unexpectedly
    is reported there (internal error) and skipped; the others go on."""
    wanted = set(patients) if patients else None
    for record in records:
        if wanted is None or record.patient in wanted or record.patient.split("/", 1)[-1] in wanted:
            if errors is None:
                yield evaluate_record(record, mapping, profile, as_of, baseline, trigger)
                continue
            try:
                result = evaluate_record(record, mapping, profile, as_of, baseline, trigger)
            except Exception as exc:  # last resort: a bug must cost this patient only
                errors.append(internal_error(record.patient, record.patient, exc))
                continue
            yield result


def evaluate_paths(
    paths: Iterable[str | Path],
    mapping: CompiledMapping,
    profile: Profile,
    as_of: dt.date | None = None,
    patients: Iterable[str] | None = None,
    trigger: Sequence[str] = DEFAULT_TRIGGER,
) -> Run:
    read = read_paths(paths)
    failed: list[SourceError] = []
    results = list(iter_evaluations(read.records, mapping, profile, as_of, patients, trigger=trigger, errors=failed))
    errors = list(read.errors) + failed + [e for r in results for e in r.extraction.errors]
    return Run(results, errors, read)


def merged_record_problem(record: PatientRecord) -> SourceError | None:
    """A record a merge retired (Patient.link replaced-by, or its survivor's ``replaces``) is not
    evaluated: its resources in the input are read as its survivor's (probe79 D1), and evaluating it
    too made a second patient of one. Listed as skipped, with the message ``--out`` gave it."""
    successor = surviving_record(record)
    if successor is None:
        return None
    return SourceError(record.patient, str(MergedPatientError(record.patient, successor)))


def transaction_for(result: PatientResult, ctx: WriteContext, html: str | None = None) -> dict[str, Any]:
    """The write-back transaction of one evaluated patient (refused when out of scope or merged)."""
    successor = surviving_record(result.record)
    if successor is not None:
        raise MergedPatientError(result.record.patient, successor)
    return build_transaction(
        result.assessment,
        ctx,
        result.steps,
        result.response,
        html,
        scope=result.scope,
        measurements=result.extraction.measurements,
    )


def html_for(
    result: PatientResult,
    mapping: CompiledMapping,
    audit: bool = False,
    language: str = "en",
    generated: dt.datetime | None = None,
    not_read: Sequence[str] = (),
) -> str:
    """The readable page of one evaluated patient (also attached to the report as presentedForm), in
    ``language``, stamped with when it was ``generated``. It names the patient (PHI: never logged).
    Out of scope it is a quiet page saying why, unless ``audit`` (--all) asks for the full detail.
    ``not_read``: what the record was read without that could change the result (the CDS card's lines)."""
    from .report.html_report import patient_header, render_html, render_out_of_scope_html

    patient = patient_header(result.record.patient_resource)
    if not result.scope.in_scope and not audit:
        return render_out_of_scope_html(result.assessment, result.scope, language, patient, generated)
    x = result.extraction
    return render_html(
        result.assessment,
        result.response,
        result.risk,
        result.steps,
        x.measurements,
        x.events,
        x.findings,
        x.course,
        response_config(mapping),
        result.scope,
        language,
        patient,
        generated,
        not_read,
    )
