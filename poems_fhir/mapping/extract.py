# SPDX-License-Identifier: Apache-2.0
"""Turn one patient's raw FHIR resources into findings, measurements and events.

Knows FHIR JSON shapes and terminology; knows nothing of HTTP. Which rules apply to a resource is
one dict lookup per coding (rules.CompiledMapping.rules_for).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

from ..criteria.model import CONTEXT_TOPICS, Criterion, Differential, Evidence, Finding, State, Strength
from ..criteria.response import TREATMENT_KINDS
from ..criteria.timeline import CourseAssessment, Event, Measurement, add_days, add_months
from ..fhir.boundary import before, unknown_modifier
from ..fhir.codes import code_word
from ..fhir.read import BinaryMiss, PatientRecord, Raw, SourceError, internal_error
from .attachment import (
    UnreadableAttachment,
    format_rank,
    html_text,
    marked_up,
    media_type,
    read_attachment,
    readable,
)
from .ife import IfeResult, names_an_isotype, others_bands, parse_ife
from .results import (
    SPECIMEN_WORD,
    Qual,
    Reading,
    band_bracket,
    flags_contradict,
    interpretation_qual,
    unknown_flags,
    normalise_term,
    read_result,
)
from .corrections import Replacement, replaced_results
from .dates_in_words import date_in_words
from .documents import (
    DocumentError,
    DocumentIndex,
    document_wording,
    index_documents,
    report_view,
    skip_reason,
)
from .range_choice import AGE_UNITS, Subject
from .rules import (
    ICD10_SYSTEMS,
    MAX_NAME_CHARS,
    CompiledMapping,
    ConditionRule,
    MedicationRule,
    ModalityRule,
    ObservationRule,
    ProcedureRule,
    Rule,
    has_code_lookalikes,
)
from .treatment_status import request_intent, treatment_status
from .text.lexicon import fold_lookalikes, normalise, phrase_regex
from .text.engine import TextEngineError
from .text.disagreement import disagreements
from .text.findings import TextJob, coded_wins, job_findings, part_of, self_conflicts
from .values import (
    PartialDate,
    ABNORMAL,
    ABNORMAL_HIGH,
    ABNORMAL_LOW,
    NEGATIVE,
    NORMAL,
    POSITIVE,
    Range,
    RangesDisagreeError,
    ReversedRangeError,
    UndecidedRangeError,
    ResourceError,
    Value,
    compare,
    codings,
    concept_label,
    concept_text,
    interpretation_codes,
    parse_date,
    reference_range,
    unitless_range,
    without_full_stop,
)

SNOMED = "http://snomed.info/sct"
SCT_POSITIVE = {"10828004", "260373001"}  # Positive, Detected
SCT_NEGATIVE = {"260385009", "260415000"}  # Negative, Not detected
SCT_SERUM, SCT_PLASMA = "119364003", "119361006"
V2_SPECIMEN = "http://terminology.hl7.org/CodeSystem/v2-0487"  # HL7 v2 table 0487 (specimen type)
V2_SERUM, V2_PLASMA = "SER", "PLAS"
#: specimens that are not blood, by code: a serum/plasma test run on them is another test (a
#: pleural-fluid VEGF, a CSF albumin). SNOMED CT specimen concepts and HL7 v2 table 0487 codes.
_FLUID_CODES = {
    (SNOMED, "418564007"): "pleural fluid",
    (SNOMED, "258450006"): "cerebrospinal fluid",
    (SNOMED, "122575003"): "urine",
    (V2_SPECIMEN, "CSF"): "cerebrospinal fluid",
    (V2_SPECIMEN, "UR"): "urine",
    (V2_SPECIMEN, "PLR"): "pleural fluid",
}
#: ... and by the words of the specimen's or the test's name ("VEGF, pleural fluid", "Albumin CSF")
_FLUID_WORDS = re.compile(
    r"\b(?:pleural|cerebrospinal|csf|urine|urinary|ascitic|peritoneal|synovial|bronchoalveolar|vitreous|"
    r"aqueous humou?r|saliva|pericardial fluid|drain fluid|effusion fluid|"
    r"pericardial|effusion|"
    r"плевральн\w*|ликвор\w*|спинномозгов\w*|моч[аиеу]\w*|асцитическ\w*|перитонеальн\w*|синовиальн\w*|"
    # probe39: "Перикардиальная жидкость", "ФРЭС-А, выпот"; Kazakh pleural fluid, fluid, urine
    r"перикардиальн\w*|выпот\w*|жидкост\w*|плевра\w*|сұйықт\w*|несеп\w*|зәр\w*)",
    re.IGNORECASE,
)
IGNORED_STATUS = {"entered-in-error", "cancelled"}
#: FHIR: "registered - the existence of the observation is registered, but there is no result yet
#: available": an order, not a result (its value, if one is sent anyway, is not one either)
NO_RESULT_YET = "registered"
VERIFICATION_SYSTEM_CODES = {"confirmed", "provisional", "differential", "refuted", "unconfirmed", "entered-in-error"}
#: Observation and DiagnosticReport status codes (FHIR R4 observation-status, diagnostic-report-status)
RESULT_STATUSES = {
    "registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown",
    "partial", "appended",
}  # fmt: skip


def _normal_status(data: dict[str, Any]) -> str | None:
    """The result's status as a FHIR code (case, spaces and underscores forgiven), the raw value when
    it is no such code, None when absent."""
    status = data.get("status")
    if not isinstance(status, str):
        return None
    word = code_word(status)
    return word if word in RESULT_STATUSES else status


def _no_result(data: dict[str, Any]) -> bool:
    """Withdrawn (entered-in-error), cancelled or only registered: no result to read. A status that is
    no FHIR code is a reported skip (probe32: "ENTERED-IN-ERROR" was read as a valid result)."""
    status = _normal_status(data)
    if status is None and data.get("resourceType") in ("Observation", "DiagnosticReport"):
        # status is 1..1 in R4 (probe99 D6: an Observation without one was read as a final result)
        raise ResourceError(
            f"{data['resourceType']} has no status (required in FHIR R4): whether it is final, preliminary or "
            "withdrawn cannot be told; not read - send the status"
        )
    if status is not None and status not in RESULT_STATUSES:
        raise ResourceError(
            f"status {status!r} is not a FHIR result status ({', '.join(sorted(RESULT_STATUSES))}): "
            "whether it is withdrawn cannot be told; not read - fix the status"
        )
    if status == "unknown":
        # probe140 D5: read as a released result ("Negative" made the clone absent); the sender does not know whether
        # it is final, preliminary or withdrawn - as a missing status, which is refused for that reason
        raise ResourceError(
            f"{data.get('resourceType')} status 'unknown' (the sender does not know it): whether it is final, "
            "preliminary or withdrawn cannot be told; not read - send the status"
        )
    return status in (*IGNORED_STATUS, NO_RESULT_YET)


#: an uncoded diagnosis of POEMS syndrome by any of its names: POEMS, Crow-Fukase, Takatsuki, the
#: acronym spelt out ("Polyneuropathy, organomegaly, endocrinopathy, M-protein, skin changes") - a
#: clinician's assertion, never read as the findings its name lists
#: what ties a finding to the POEMS label after it: "- ? POEMS", "(query POEMS", ", likely POEMS", "due to POEMS"
_LABEL_TIE = re.compile(
    r"(?:[\s\-–—:;,(\[?]|\b(?:query|queried|likely|possible|probable|probably|suspected|r/o|\?|in keeping with|"
    r"consistent with|due to|secondary to|from|with|of|in|in the setting of|as part of|associated with|related to|"
    r"вероятно|возможно|на фоне|при|с|в рамках|в структуре)\b)+$",
    re.IGNORECASE,
)


def _before_label(text: str) -> str:
    """The words before a POEMS label, without what ties them to it; "" when they name nothing (a bare label,
    "Known", "History of")."""
    lead = _LABEL_TIE.sub("", text).strip()
    return lead if len(re.sub(r"\W", "", lead)) >= 4 else ""


@dataclass(frozen=True)
class _PoemsName:
    """A POEMS name in a Condition's code and how the clinician says it."""

    #: "asserted" (a diagnosis), "doubted" (a question, suspicion, rule-out or work-up) or "denied" (excluded)
    stance: str
    #: asserted: the words before the name that name a finding ("Polyneuropathy in POEMS syndrome"); doubted or
    #: denied: the words outside the name's clause ("MGUS IgA lambda" of "Suspected POEMS; MGUS IgA lambda");
    #: "" when they name nothing
    words: str
    where: str


def _poems_label(concept: Any, rules: list[Rule], mapping: CompiledMapping) -> _PoemsName | None:
    """A Condition's code as a POEMS name, or None: a POEMS name in its text or a display (the codings of one
    concept are one concept's names: D47.2 "Monoclonal gammopathy" under the text "POEMS syndrome" is how a
    problem list codes POEMS), else a POEMS code among its codings (a diagnosis)."""
    names = [("code.text", concept.get("text") if isinstance(concept, dict) else None)]
    names += [(f"code.coding[{i}].display", display) for i, (_, _, display) in enumerate(codings(concept))]
    for where, name in names:
        if isinstance(name, str) and (named := _POEMS_TEXT.search(fold_lookalikes(name))):
            return _poems_stance(name, named.start(), named.end(), where, mapping)
    if any(rule.spec.topic == "clinician_poems_assertion" for rule in rules):
        return _PoemsName("asserted", "", "code")
    return None


#: what ends the clause of a POEMS name: a comma, semicolon, colon, bracket, "?", a sentence's end or a spaced dash
_CLAUSE_END = re.compile(r"[;:,()\[\]\n?]|\.(?=\s|$)|\s[-–—]+\s")
#: a "?" right before the name ("?POEMS", "- ? POEMS"; not "MGUS? POEMS", the other word's question)
_QUERY_BEFORE = re.compile(r"(?:^|(?<=[\s\-–—:;,(\[]))\?\s*$")
#: the rest of the name after it ("POEMS syndrome", «POEMS-синдром», "POEMS синдромы")
_NAME_TAIL = r"^[\s\-]*(?:syndrome|синдром\w{0,4})?"
#: what may follow a cue that ends the name's clause
_CUE_END = r"\s*\)?[\s?!]*(?=$|[.;:,)\]\n]|\s[-–—]+\s)"


@functools.lru_cache(maxsize=8)
def _stance_cues(phrases: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """The mapping's phrases as a cue right before a POEMS name (with a tie: "work-up for", «подозрение на») and
    as one right after it that ends its clause."""
    if not phrases:
        return None
    cue = "(?:" + "|".join(phrase_regex(p) for p in phrases) + ")"
    before = re.compile(cue + r"(?:\s+(?:for|of|on|на|за|для))?[\s\-–—]*$", re.IGNORECASE)
    after = re.compile(_NAME_TAIL + r"[\s\-–—:,(]*" + cue + _CUE_END, re.IGNORECASE)
    return before, after


def _poems_stance(name: str, start: int, end: int, where: str, mapping: CompiledMapping) -> _PoemsName:
    """How a POEMS name at ``name[start:end]`` is said: a diagnosis, or a question or a denial of POEMS by the
    mapping's ``text.poems_label_doubts`` / ``poems_label_denials`` next to it (probe125 R1: "Suspected POEMS;
    MGUS IgA lambda" on D47.2 was a label and the coded clone was lost). Doubts are tried first: "POEMS not
    excluded" doubts it."""
    text = normalise(fold_lookalikes(name))
    ends_before = list(_CLAUSE_END.finditer(text, 0, start))
    clause_start = ends_before[-1].end() if ends_before else 0
    clause_end = m.start() if (m := _CLAUSE_END.search(text, end)) else len(text)
    if (query := _QUERY_BEFORE.search(text[:start])) is not None:  # "?POEMS - MGUS"
        return _PoemsName("doubted", _beside(name, min(clause_start, query.start()), clause_end), where)
    if (query := re.match(_NAME_TAIL + r"\s*\?", text[end:])) is not None:  # "POEMS? MGUS"
        return _PoemsName("doubted", _beside(name, clause_start, max(clause_end, end + query.end())), where)
    section = mapping.text.section
    for stance, phrases in (("doubted", section.poems_label_doubts), ("denied", section.poems_label_denials)):
        if (cues := _stance_cues(tuple(phrases))) is None:
            continue
        if cues[0].search(text[clause_start:start]):
            return _PoemsName(stance, _beside(name, clause_start, clause_end), where)
        if (tail := cues[1].match(text[end:])) is not None:
            return _PoemsName(stance, _beside(name, clause_start, max(clause_end, end + tail.end())), where)
    return _PoemsName("asserted", _before_label(name[:start]), where)


#: separators left at the edges of the words beside a POEMS name's clause
_EDGE = " \t\n;:,-–—?(["


def _beside(name: str, start: int, end: int) -> str:
    """The words outside ``name[start:end]`` (the clause of a doubted or denied POEMS name), "" when they name
    nothing: "MGUS IgA lambda" of "MGUS IgA lambda, POEMS excluded"."""
    parts = [name[:start].rstrip(_EDGE), name[end:].lstrip(_EDGE + ")]")]
    words = "; ".join(p for p in parts if p)
    return words if len(re.sub(r"\W", "", words)) >= 4 else ""


#: the rule of a clinician's POEMS diagnosis (criteria.md §3.3: listed apart, never evidence)
_POEMS_ASSERTION = Rule(
    "condition", ConditionRule(id="poems_clinician_diagnosis", topic="clinician_poems_assertion"), "text"
)

_POEMS_TEXT = re.compile(
    # "ПОЭМС" (the acronym in Cyrillic letters) and "P.O.E.M.S." are its name too (probe125 G1: D47.2 «ПОЭМС-синдром»
    # was read as the clone), and «ПОЕМС» - Е for Э, as the English "E" is heard (probe126 G3: «ПОЕМС-синдром» too)
    # - and dotted in either script, or letters of both mixed (probe127 G5: «П.О.Е.М.С.-синдром» read as the clone)
    r"\bpoems\b|\bпо[эе]мс\b|\b[pп]\.\s?[oо]\.\s?[eеэ]\.\s?[mм]\.\s?[sс]\b\.?|\bcrow[\s-]*fukase\b|\btakatsuki\b|кроу[\s-]*фукасе|такацуки"
    r"|\bpolyneuropathy,?\s+organomegaly,?\s+endocrinopathy\b"
    # the old name of POEMS (probe36: "Osteosclerotic myeloma" as a diagnosis made sclerotic lesions present
    # with no imaging - a label, not evidence of any criterion, criteria.md §3.3)
    r"|\bosteosclerotic\s+myeloma\b|остеосклеротическ\w*\s+миелом\w*",
    re.IGNORECASE,
)


@dataclass
class Extraction:
    findings: list[Finding] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    course: list[CourseAssessment] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    #: the source resources that contributed anything, "Type/id" -> meta.versionId (or None)
    used: dict[str, str | None] = field(default_factory=dict)
    #: texts queued for the text engine, read in one batch after all resources (mapping/text)
    text_jobs: list[TextJob] = field(default_factory=list)
    #: how values, units and codes were read where it was not plain (`mappings coverage` lists them)
    notes: list[ReadingNote] = field(default_factory=list)
    #: the exceptions behind ``errors`` (structured: a rejected unit carries the unit)
    rejected: list[tuple[str, ResourceError]] = field(default_factory=list)
    #: the record's document replacements and carried attachments, built at its first DocumentReference
    documents: DocumentIndex | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ReadingNote:
    """A decision about a value, unit or code that the onboarding report lists.

    kind: "text_fallback" (code matched by display text), "unit_alias", "unitless", "qualitative",
    "unused" (a result the rule cannot use, e.g. "High" for albumin), "broader_code", "lookalike_code" (an
    ICD-10 code typed with a letter of another script, read as its Latin lookalike).
    """

    kind: str
    reference: str
    rule: str | None
    detail: str


def extract(record: PatientRecord, mapping: CompiledMapping) -> Extraction:
    out = Extraction()
    findings, measurements, events, course = out.findings, out.measurements, out.events, out.course
    _withhold_demographics(record, mapping, out)
    out.errors.extend(record.problems)  # found while the record was read (a Binary that is no text: fhir/binaries.py)
    readable = list(_with_contained_results(record.resources, mapping, out.errors))
    replaced = _replaced(record, readable)
    noted: set[str] = set()
    for raw, key in ((read.raw, read.key) for read in readable):
        handler = _HANDLERS.get(raw.data["resourceType"])
        if handler is None:
            continue
        # also what a replaced report contains (cited as the report), and a contained result replaced itself
        gone = next((k for k in (raw.ref, key) if k in replaced), None)
        if gone is not None:
            if gone not in noted:  # once (a set: thousands of versions stay linear)
                noted.add(gone)
                r = replaced[gone]
                out.notes.append(ReadingNote("replaced", gone, None, f"replaced by {r.by} ({r.status}; {r.why})"))
            continue
        before = (len(findings), len(measurements), len(events), len(course))
        jobs_before, refused_before = len(out.text_jobs), len(record.refused)
        try:
            try:
                modified = unknown_modifier(raw.data, mapping.understood_modifiers)
                if modified is not None:  # FHIR: not read as if the modifier were not there (probe99 D2)
                    raise ResourceError(modified)
                handler(raw, record, mapping, out)
            except (TypeError, AttributeError) as exc:
                # an element of the wrong JSON shape (a list where a string belongs, ...): the
                # resource is malformed, not the run; the message names the type only, never the data
                raise ResourceError(
                    f"malformed {raw.data['resourceType']}: an element has the wrong JSON "
                    f"type ({exc.__class__.__name__})"
                ) from exc
        except ResourceError as exc:
            # drop anything half-extracted from this resource, report it, go on
            del out.findings[before[0] :], out.measurements[before[1] :], out.events[before[2] :]
            del out.course[before[3] :], out.text_jobs[jobs_before:]
            cause = exc.cause if isinstance(exc, UnreadResult) else exc
            out.errors.append(SourceError(raw.origin, str(cause), raw.ref))
            out.rejected.append((raw.ref or raw.origin, cause))
            if isinstance(exc, UnreadResult):  # its criterion says so: not "no data" (probe102 A2)
                findings.append(exc.finding)
                if raw.ref:
                    meta = raw.data.get("meta")
                    out.used[raw.ref] = meta.get("versionId") if isinstance(meta, dict) else None
            continue
        except Exception as exc:  # last resort: a bug must cost this resource only, never the run
            del out.findings[before[0] :], out.measurements[before[1] :], out.events[before[2] :]
            del out.course[before[3] :]
            out.errors.append(internal_error(raw.origin, raw.ref, exc))
            continue
        # a reference to another patient's resource is listed; the resource itself is still read
        out.errors.extend(SourceError(raw.origin, why, raw.ref) for why in record.refused[refused_before:])
        if raw.ref and (len(findings), len(measurements), len(events), len(course)) != before:
            meta = raw.data.get("meta")
            out.used[raw.ref] = meta.get("versionId") if isinstance(meta, dict) else None
    _companions_alone(out, mapping)
    _read_texts(record, mapping, out)
    return out


def _withhold_demographics(record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    """A Patient whose modifier extension is not understood: its sex and birth date (reference ranges, the
    age factor) are not read, and it is listed - the rest of the record is (FHIR: an element holding an
    unknown modifier is not read as if it were not there)."""
    patient = record.patient_resource
    problem = unknown_modifier(patient, mapping.understood_modifiers) if isinstance(patient, dict) else None
    record.demographics_withheld = problem is not None
    if problem is not None:
        out.errors.append(
            SourceError(record.patient, f"{problem}; its sex and birth date are not used", record.patient)
        )
    elif record.gender is None and record.gender_sent is not None:
        # a gender sent but no code (case and spaces forgiven): listed, not read as no gender (probe140 D6)
        said = str(record.gender_sent)[:40]
        out.errors.append(
            SourceError(
                record.patient,
                f"Patient.gender {said!r} is not an administrative-gender code (male, female, other, unknown): "
                "the sex is not read - sex-specific cut-offs and ranges are not chosen",
                record.patient,
            )
        )


@dataclass(frozen=True)
class _Readable:
    """A resource to read: a resource of the record (``key`` its ref), or a result contained in a report or panel
    (``key`` "DiagnosticReport/r#ife", ``container`` the report), read as an Observation cited as its container."""

    raw: Raw
    key: str | None
    container: dict[str, Any] | None = None


def _replaced(record: PatientRecord, readable: list[_Readable]) -> dict[str, Replacement]:
    """What a later version replaces (probe62 D1-D5: a corrected result sent as a new resource), contained results
    included (probe124 D2: a preliminary contained in its report, the final sent alone). Specimens are followed
    to compare their accessions (probe124 D4); a reference refused on the way is listed by the resource that
    reads it, not here."""
    refused = len(record.refused)
    try:
        return replaced_results(
            ((read.key, read.raw.data) for read in readable if read.container is None),
            ((read.key, read.raw.data, read.container) for read in readable if read.container and read.key),
            record.resolve,
        )
    finally:
        del record.refused[refused:]


#: where a container lists the results it holds: a report's ``result``, a panel's ``hasMember``
_MEMBERS = {"DiagnosticReport": "result", "Observation": "hasMember"}


def _with_contained_results(
    resources: list[Raw], mapping: CompiledMapping, problems: list[SourceError]
) -> Iterator[_Readable]:
    """Every resource, and after each DiagnosticReport the Observations it contains and lists in ``result``
    ("#v1"), after each Observation panel those it contains and lists in ``hasMember`` (probe124 D6: an SPEP
    panel's contained immunofixation was not read), and the members of a contained panel in turn: a send-out
    lab's report may carry its results inside it. Each is read as an Observation of its own, cited as the
    container (a contained resource has no identity outside it); it keeps the container's ``contained`` list,
    where its own "#specimen" reference points. A container withdrawn (entered-in-error), cancelled, only
    registered, or not read for its status (none, or no code) gives none: what it contains has no existence apart from it, whatever status the contained
    Observation itself carries. A "#id" listed that names no contained Observation is listed in ``problems``."""
    for raw in resources:
        yield _Readable(raw, raw.ref)
        data = raw.data
        if data.get("resourceType") not in _MEMBERS or not isinstance(data.get("contained"), list):
            continue
        if not _gives_members(data):
            continue  # its own handler reports a missing status or one that is no code (probe140 D1)
        if unknown_modifier(data, mapping.understood_modifiers) is not None:
            continue  # a container not read (an unknown modifier extension) gives no results either
        inner = {c.get("id"): c for c in data["contained"] if isinstance(c, dict) and isinstance(c.get("id"), str)}
        for reference, observation in _contained_members(data, inner, raw, problems):
            key = f"{raw.ref}{reference}" if raw.ref else None
            yield _Readable(
                Raw({**observation, "contained": data["contained"]}, f"{raw.origin}{reference}", raw.ref), key, data
            )


def _gives_members(container: dict[str, Any]) -> bool:
    """Whether a container's contained results are read: only when the container itself is, with a result
    status that is a FHIR code (case, spaces and underscores forgiven) and neither withdrawn, cancelled nor
    only registered. A container not read for its status (missing, blank, "pending") is listed by its own
    handler; what it contains has no existence apart from it (probe140 D1: its contained VEGF gave `met`)."""
    status = _normal_status(container)
    return status in RESULT_STATUSES and status not in (*IGNORED_STATUS, NO_RESULT_YET)


def _contained_members(
    container: dict[str, Any], inner: dict[Any, dict[str, Any]], raw: Raw, problems: list[SourceError]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``("#id", Observation)`` for each contained Observation the container lists as a result or member, and the
    members of those that are panels themselves (each once: a list that goes round ends)."""
    seen: set[str] = set()
    pending: list[dict[str, Any]] = [container]
    while pending:
        holder = pending.pop(0)
        links = holder.get(_MEMBERS.get(str(holder.get("resourceType")), ""))
        for link in links if isinstance(links, list) else []:
            reference = link.get("reference") if isinstance(link, dict) else None
            if not isinstance(reference, str) or not reference.startswith("#") or reference in seen:
                continue  # a resource of its own (read as itself), or one already read
            seen.add(reference)
            found = inner.get(reference[1:])
            if found is None or found.get("resourceType") != "Observation":
                what = (
                    "names no contained resource" if found is None else f"names a contained {found.get('resourceType')}"
                )
                problems.append(
                    SourceError(
                        raw.origin,
                        f"{_MEMBERS[str(holder.get('resourceType'))]} {reference} {what}: not read as a result",
                        raw.ref,
                    )
                )
                continue
            yield reference, found
            if _gives_members(found):
                pending.append(found)  # a withdrawn or unread panel's members go with it


def _read_texts(record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    """Run the queued texts through the text engine in one batch; coded facts win over text."""
    if not out.text_jobs:
        return
    jobs = _within_text_budget(record, out)
    failures: dict[int, str] = {}  # a text the engine failed on is listed against its own resource (probe87 D2)
    cuts: dict[int, str] = {}  # and one with more sentences naming a target than it reads (probe87 D9)
    try:
        studies = {i for i, job in enumerate(jobs) if job.study}
        results = mapping.text.assert_texts([job.text for job in jobs], failures, cuts, studies)
    except TextEngineError as exc:
        out.errors.extend(SourceError(job.reference, f"{job.source}: {exc}", job.reference) for job in jobs)
        return
    out.errors.extend(
        SourceError(jobs[i].reference, f"{jobs[i].source}: {why}", jobs[i].reference)
        for i, why in sorted({**cuts, **failures}.items())
    )
    added = [f for job, assertions in zip(jobs, results, strict=True) for f in job_findings(job, assertions, mapping)]
    if not added:
        return
    # a Condition's evidence.detail as this project names references (a fullUrl cites "DiagnosticReport/x", probe118 D13)
    details = {
        f.evidence.reference: {_cited_key(record, r) for r in f.evidence.supporting}
        for f in out.findings
        if f.evidence.supporting
    }
    kept = coded_wins(out.findings + added, details)[len(out.findings) :]
    stated = [f for f in added if f.state is State.PRESENT]
    affirmed = frozenset((f.evidence.reference, part_of(f)) for f in stated)
    # sources that disagree: a Condition and the report it cites, two study reports of one day (probe114 i10, D5;
    # a Condition's stating reports, also where it overruled their words, are its support: probe118 D9)
    out.findings[:] = disagreements(
        self_conflicts(out.findings + kept, affirmed), affirmed, stated, details, mapping.part_regions
    )
    versions = {r.ref: (r.data.get("meta") or {}).get("versionId") for r in record.resources if r.ref}
    for f in kept:
        if f.evidence.reference in versions:
            out.used[f.evidence.reference] = versions[f.evidence.reference]


def _cited_key(record: PatientRecord, reference: str) -> str:
    """A cited reference as the findings name the resource ("https://…/DiagnosticReport/x" -> "DiagnosticReport/x")."""
    return reference if reference.startswith("#") else record.index.canonical(reference) or reference


#: characters of all one patient's texts the engine reads (the texts that can matter, in reading order):
#: the Synthea corpus's most is ~60k; a patient sent a megabyte of report text took the text engine 47 s
#: (probe43), so past this the rest is listed unread
MAX_PATIENT_TEXT_CHARS = 300_000


def _within_text_budget(record: PatientRecord, out: Extraction) -> list[TextJob]:
    kept: list[TextJob] = []
    left, unread, unread_chars = MAX_PATIENT_TEXT_CHARS, 0, 0
    for job in out.text_jobs:
        if len(job.text) <= left:
            kept.append(job)
            left -= len(job.text)
        else:
            unread += 1
            unread_chars += len(job.text)
    if unread:
        out.errors.append(
            SourceError(
                record.patient,
                f"{unread} text(s) ({unread_chars:,} characters) not read: the text engine reads at most "
                f"{MAX_PATIENT_TEXT_CHARS:,} characters of one patient's texts (the first in reading order); "
                "coded results are read in full",
                record.patient,
            )
        )
    return kept


#: characters of one text the engine reads: a long pathology report or letter is ~10-50k; a
#: megabyte-long conclusion took the text engine a minute (probe22), so past this only its beginning,
#: cut at a sentence end, is read, and the rest is reported unread
MAX_TEXT_CHARS = 100_000
_SENTENCE_END = re.compile(r"[.;!?](?!\w)")
#: a full stop glued to the next sentence: after a lower-case letter, before a capital ("feet.Plan")
_GLUED_END = re.compile(r"(?<=[a-zа-яё])[.!?](?=[A-ZА-ЯЁ])")


def _bounded_text(text: str, raw: Raw, source: str, out: Extraction) -> str:
    """The first MAX_TEXT_CHARS characters of ``text``, ended at its last sentence end (never in
    the middle of a sentence, whose negation may come after the cut); the cut is listed."""
    head, read = _sentence_head(text)
    out.errors.append(
        SourceError(
            raw.origin,
            f"{source}: {len(text):,} characters, more than the {MAX_TEXT_CHARS:,} the text engine reads; {read}",
            raw.ref,
        )
    )
    return head


def _sentence_head(text: str) -> tuple[str, str]:
    """The first MAX_TEXT_CHARS characters of ``text`` ended at its last sentence end, and what of it is read."""
    head = text[:MAX_TEXT_CHARS]
    # the last sentence end: a full stop (or ; ! ?) not followed by a letter or digit ("L2." before
    # "<<<<", probe67 D10: the one whole sentence was dropped), or a line end
    ends = [m.start() for m in _SENTENCE_END.finditer(head)]
    end = max(ends[-1] if ends else -1, head.rfind("\n"))
    if end <= 0:  # text flattened with no space after its full stops: "feet.Plan:" (probe82 D5: nothing was read)
        glued = [m.start() for m in _GLUED_END.finditer(head)]
        end = glued[-1] if glued else end
    head = head[: end + 1] if end > 0 else ""
    read = (
        f"only the first {len(head):,} (whole sentences) were read"
        if head
        # probe81 L4: "only the first 0 (whole sentences) were read"
        else f"no sentence ends within its first {MAX_TEXT_CHARS:,}: none of it was read"
    )
    return head, read


def _queue_text(
    raw: Raw,
    mapping: CompiledMapping,
    out: Extraction,
    text: Any,
    source: str,
    kind: str,
    effective: dt.date | None,
    **kw: Any,
) -> None:
    """Queue one text for the text engine, if the compiled target lexicon says it can matter."""
    if isinstance(text, str) and marked_up(text):
        # rich text in a note, a valueString or a problem's name is read as a conclusion's is: cells a tab
        # apart, rows and blocks sentences (probe87: "<td>Ascites</td><td>No</td>" read the ascites present)
        text = html_text(text, MAX_TEXT_CHARS)
    if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        text = _bounded_text(text, raw, source, out)
    if isinstance(text, str) and mapping.text.could_matter(text):
        kw.setdefault("label", concept_label(raw.data.get("code")))
        out.text_jobs.append(TextJob(_ref(raw), effective, text, source, kind, **kw))


#: a yes/no answer in words to a question a finding's code asks ("Lymphadenopathy" = "none", «нет»): on an
#: unmapped Observation, and on a finding-coded exam Observation beside the result terms (probe124 D9)
_BARE_NO = re.compile(
    r"^\s*(?:no|none|nil|absent|negative|not present|not seen|none seen|not found|none found|not detected|нет|отсутству\w*|"
    r"не выявлен\w*|не обнаружен\w*|отрицательн\w*|жоқ)\s*\.?\s*$",
    re.IGNORECASE,
)
_BARE_YES = re.compile(
    r"^\s*(?:yes|present|positive|detected|да|есть|выявлен\w*|обнаружен\w*|"
    r"положительн\w*|бар)\s*\.?\s*$",
    re.IGNORECASE,
)


def _own_words(concept: Any) -> str:
    """A concept's ``text`` when it is the name qualified as a whole by a denial or a doubt ("Polyneuropathy
    ruled out", "No polyneuropathy", "?Polyneuropathy", "Rule out polyneuropathy", «Полинейропатия
    исключена»), else "": a longer name says other things ("Polyneuropathy, diabetes excluded", "(CIDP not
    confirmed)", "with absent ankle reflexes" - probe88 D8, probe89 D18), and its denials need not be the
    code's."""
    text = concept.get("text") if isinstance(concept, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > 120:
        return ""
    return text if _QUALIFIED_NAME.match(text) else ""


#: a name with a denial or doubt before or after it and nothing else: no comma, semicolon or bracket within
_QUALIFIED_NAME = re.compile(
    r"\s*(?:(?P<before>no|not|negative\s+for|without|r/o|rule\s+out|ruled\s+out|exclude|exclusion\s+of|\?|possible|"
    r"probable|suspected|query|нет|без|исключить|исключение|подозрение\s+на)\s*)?"
    r"[^\W\d_][^,;:()\[\]\n?]{0,80}?"
    r"(?(before)\s*\??|\s*[-:–—,(]?\s*(?:ruled\s+out|excluded|not\s+confirmed|negative|absent|no|\?|possible|likely|"
    r"suspected|исключен\w{0,2}|не\s+подтвержден\w{0,2}|под\s+вопросом|не\s+выявлен\w{0,2}|нет|жоқ))"
    # then the end, or more after a separator ("Polyneuropathy ruled out, diabetes mellitus", "(ruled out by EMG)")
    r"(?:\s*\)?\s*\.?\s*$|(?:(?<=[^\W\d_])|(?<=[)?]))(?:\s*[,;]|\s+by\b|\s*\().*)",
    re.IGNORECASE | re.DOTALL,
)


def _uncoded(concept: Any) -> bool:
    """No coding with a system and a code: only then is code.text read as clinical text.

    (A local code the tables do not hold is the display-fallback's business, not this one's.)
    """
    return not any(system and code for system, code, _ in codings(concept))


def _local_coding(concept: Any, mapping: CompiledMapping) -> str | None:
    """ "system|code" of the first coding when every coding is in a site's own code system, else None."""
    coded = [(system, code) for system, code, _ in codings(concept) if system and code]
    if not coded or not all(mapping.is_local_system(system) for system, _ in coded):
        return None
    return f"{coded[0][0]}|{coded[0][1]}"


def _queue_notes(raw: Raw, mapping: CompiledMapping, out: Extraction, effective: dt.date | None) -> None:
    for i, note in enumerate(raw.data.get("note") or []):
        if isinstance(note, dict):
            _queue_text(raw, mapping, out, note.get("text"), f"note[{i}]", "note", effective)


# ---------------------------------------------------------------- Observation


def _effective(data: dict[str, Any]) -> dt.date | None:
    for name in ("effectiveDateTime", "effectiveInstant", "issued"):
        if data.get(name) is not None:
            return parse_date(data[name], name)
    period = data.get("effectivePeriod")
    if isinstance(period, dict):
        return parse_date(period.get("start") or period.get("end"), "effectivePeriod")
    return None


def _ref(raw: Raw) -> str:
    return raw.ref or raw.origin


#: a focus of these types is a person: the result is about them, not the subject of record - a relative
#: recorded as a FamilyMemberHistory too (probe116 D7: the mother's IgA lambda made a mimic `met`)
_PERSON_TYPES = frozenset({"Patient", "RelatedPerson", "Person", "Group", "FamilyMemberHistory"})


def _another_person(data: dict[str, Any], record: PatientRecord) -> str | None:
    """FHIR Observation.focus: "the actual focus of an observation when it is not the patient of
    record" (a donor, a parent, a fetus). The person it names when that is not this patient."""
    foci = data.get("focus") or []
    if isinstance(foci, dict):
        foci = [foci]  # one Reference where FHIR has a list: read as the list of it (as for category)
    if not isinstance(foci, list):
        raise ResourceError(f"Observation.focus is not a list of References ({type(foci).__name__})")
    for focus in foci:
        if not isinstance(focus, dict):
            continue
        reference = focus.get("reference")
        kind = _focus_type(focus, data, record)
        if isinstance(reference, str) and reference:
            key = record.index.canonical(reference)
            if key and kind in _PERSON_TYPES and not (kind == "Patient" and record.owns(key)):  # a merged record's too
                return key if key.startswith(f"{kind}/") else f"{kind} {reference}"
            if kind is None:
                # an opaque reference (urn:uuid, "#x") to nothing in the input, untyped: what the result is about
                # cannot be told, and a focus is there only when it is not the patient of record
                return f"{reference} (not in the input)"
        elif kind in _PERSON_TYPES - {"Patient"}:
            # no reference, but typed a person ({"type": "FamilyMemberHistory", "display": "mother"}): not this
            # patient either (a display alone may name a thing, "the bone marrow", and a typed Patient with no
            # reference may be the subject itself: both kept)
            said = focus.get("display")
            return f"{kind} {said!r}" if isinstance(said, str) else f"a {kind} without a reference"
    return None


def _focus_type(focus: dict[str, Any], data: dict[str, Any], record: PatientRecord) -> str | None:
    """The resource type a focus names: by its reference ("FamilyMemberHistory/f1"), the contained resource it
    points to ("#fmh1"), the Bundle entry of its urn:uuid fullUrl, else its ``type`` (probe117 D3: a relative's
    record referenced by urn:uuid or contained was read as the patient's)."""
    reference = focus.get("reference")
    if isinstance(reference, str) and reference.startswith("#"):
        inner = record.index.resolve(reference, data)
        if isinstance(inner, dict) and isinstance(inner.get("resourceType"), str):
            return inner["resourceType"]
    elif isinstance(reference, str) and reference:
        key = record.index.canonical(reference)
        if key and _TYPED_KEY.match(key):
            return key.split("/", 1)[0]
        target = record.index.resolve(reference)
        if isinstance(target, dict) and isinstance(target.get("resourceType"), str):
            return target["resourceType"]
    kind = focus.get("type")
    return kind if isinstance(kind, str) else None


_TYPED_KEY = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


def _observation(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    if _no_result(data):
        return
    if "focus" in data and (other := _another_person(data, record)):
        raise ResourceError(
            f"Observation.focus is {other}: a result about another person (a donor, a relative), "
            "not about this patient; not read"
        )
    parts: list[tuple[dict[str, Any], str]] = [(data, "")]
    for i, comp in enumerate(data.get("component") or []):
        if isinstance(comp, dict):
            parts.append((comp, f"component[{i}]."))
    # Most observations (vitals, panels) match no rule: find matches before reading anything else.
    matches: list[tuple[dict[str, Any], str, Rule, str, str | None]] = []
    for part, prefix in parts:
        applied: set[str] = set()  # a local and a LOINC coding of one concept count once
        coded = codings(part.get("code"))
        for system, code, _ in coded:
            for rule in mapping.rules_for(system, code):
                if rule.spec.id not in applied:
                    applied.add(rule.spec.id)
                    matches.append((part, prefix, rule, f"{system}|{code}", None))
        if not applied:
            fallback = _text_fallback(part, mapping, coded)
            if fallback is not None:
                rule, text = fallback
                local = next((f"{s}|{c}" for s, c, _ in coded if s and c), "")
                matches.append((part, prefix, rule, local, text))
                out.notes.append(
                    ReadingNote("text_fallback", _ref(raw), rule.spec.id, f"{text!r} ({local or 'code.text only'})")
                )
    if not matches:
        _uncoded_observation(raw, out)
        _observation_text(raw, mapping, out)
        return
    effective = _effective(data)
    pointed = _result_in_notes(data, mapping)
    for part, prefix, rule, code, by_text in matches:
        pointer = None
        if pointed is not None and part is data:
            part, pointer = pointed
        if rule.kind == "observation" and rule.spec.unit and isinstance(part.get("valueString"), str):
            bare = _without_own_label(part["valueString"], part, rule, mapping)
            if bare is not None:
                part = {**part, "valueString": bare}
        band = None
        if rule.kind == "observation" and rule.spec.role == "m_protein" and isinstance(part.get("valueString"), str):
            # "0.3 g/dL (IgA lambda by immunofixation)": the amount, and the band its bracket names (_m_protein)
            split = band_bracket(part["valueString"], names_an_isotype)
            if split is not None:
                part, band = {**part, "valueString": split[0]}, (split[1], part["valueString"])
        ctx = _Ctx(raw, record, mapping, out, effective, part, prefix, code, rule.spec.id, by_text, pointer, band)
        if rule.kind == "observation":
            _apply_observation_rule(ctx, rule.spec)
        elif rule.kind == "condition":
            _exam_finding(ctx, rule.spec)
        elif rule.kind == "course":
            _course(ctx, rule.spec)


def _uncoded_observation(raw: Raw, out: Extraction) -> None:
    """An Observation without a code, a text or a display naming its test (``code`` is 1..1 in R4) is listed: what
    was measured cannot be told, and it was dropped without a word (probe140 D14: a VEGF of 624 pg/mL sent with
    no ``code`` or ``code: {}``)."""
    if _names_a_test(raw.data.get("code")):
        return
    out.errors.append(
        SourceError(
            raw.origin,
            "Observation has no code (Observation.code: no coding, text or display): what was measured cannot be "
            "told, so no test's rule reads its value; send the test's code",
            raw.ref,
        )
    )


def _names_a_test(code: Any) -> bool:
    """Whether an Observation.code names a test at all: a code, a display or a text that is not blank."""
    named = [said for _, c, d in codings(code) for said in (c, d) if _said(said)]
    return bool(named) or (isinstance(code, dict) and _said(code.get("text")))


#: a value text that names its test before the number: "VEGF 486 pg/mL", "VEGF: 486 pg/mL", "Result: 150 pg/mL",
#: «Результат: 150 пг/мл» (a lab comment read as the result, probe135 G1; "M-protein 7.7 g/L" as a valueString)
_LABELLED_NUMBER = re.compile(r"^\s*(?P<label>[^\W\d_][^\d<>≤≥\n]{0,59}?)\s*(?:[:=]\s*|\s+)(?=[<>≤≥]?\s*\d)")
#: labels that name no test but the number itself
_GENERIC_LABELS = frozenset(
    {"result", "value", "level", "concentration", "результат", "значение", "уровень", "концентрация", "нәтиже", "мәні"}
)


def _without_own_label(text: str, part: dict[str, Any], rule: Rule, mapping: CompiledMapping) -> str | None:
    """A numeric value text without a label before its number that is the test's own name - its code's text or a
    display, a name the rule's synonyms match, or a word such as "Result:" - else None (a label naming anything
    else, "IgG kappa 7.7 g/L", is kept and the text refused as before)."""
    found = _LABELLED_NUMBER.match(text)
    if found is None:
        return None
    label = _without_specimen(found.group("label")).casefold()
    if not label:
        return text[
            found.end() :
        ]  # "serum: 1250 pg/mL", «сыворотка 1250 пг/мл»: the specimen alone names no other test
    names = {concept_text(part.get("code")).casefold()} | {d.casefold() for _, _, d in codings(part.get("code")) if d}
    own = label in _GENERIC_LABELS or label in {n.strip() for n in names if n.strip()}
    own = own or any(r is rule and pattern.fullmatch(label) for pattern, r in mapping.observation_text)
    return text[found.end() :] if own else None


#: a specimen word in a value's label, with its preposition or bracket: "Plasma VEGF", "VEGF (serum)", "VEGF, EDTA
#: plasma", "VEGF in plasma", «VEGF плазмы», «VEGF в сыворотке» (probe137 D1: a lab sentence in a "See comment" note)
_LABEL_SPECIMEN = re.compile(
    rf"[(\[,]?\s*(?:\b(?:in|в|во)\s+)?(?:{SPECIMEN_WORD.pattern.removeprefix('(?i)')})\s*[)\]]?", re.I
)


def _without_specimen(label: str) -> str:
    """A value's label without the specimen it names (read by the VEGF rule from the value's words): what is left
    is the test's name, or nothing."""
    return " ".join(_LABEL_SPECIMEN.sub(" ", label).split()).strip(" :=-,")


def _result_in_notes(data: dict[str, Any], mapping: CompiledMapping) -> tuple[dict[str, Any], str] | None:
    """The Observation with its notes as its result, where its value only points to them ("See comment",
    «см. примечание»: mapping ``result_pointers``), with the pointing words; else None. Epic/Beaker-style
    interfaces send a text result so (probe132 D7: an immunofixation "See comment" whose note named the IgA
    lambda band was unread). The notes then become the valueString every result parser reads - a band, a
    negative, a number - and are no longer the result's comment; a pointer with no note stays as sent
    (unread and listed). A coded result is never a pointer, whatever its display says."""
    said = _pointing_value(data)
    if said is None or normalise_term(said) not in mapping.result_pointers:
        return None
    notes = [
        n["text"].strip() for n in data.get("note") or [] if isinstance(n, dict) and isinstance(n.get("text"), str)
    ]
    # a comment is a sentence: its full stop is no part of a unit ("VEGF 486 pg/mL.", probe135 G1) - unless the unit
    # table spells the unit with it ("45 мм рт.ст.": fix140b B1, the abbreviation's stop was cut and the unit refused)
    notes = [without_full_stop(n, mapping.unit_aliases) for n in notes if n]
    if not notes:
        return None
    part = {k: v for k, v in data.items() if k != "note" and not _VALUE_ELEMENT.fullmatch(k)}
    part["valueString"] = "\n".join(notes)
    return part, said


def _pointing_value(data: dict[str, Any]) -> str | None:
    """The words of a value that could point to the notes: a valueString, or a CodeableConcept of text
    (or displays) alone - one coding a result code would be a result."""
    if isinstance(data.get("valueString"), str):
        return str(data["valueString"])
    concept = data.get("valueCodeableConcept")
    if isinstance(concept, dict) and not any(code for _, code, _ in codings(concept)):
        return concept_text(concept)
    return None


#: standard terminologies: a code from these that the table does not hold is a different concept
#: on purpose, so its display is not matched as text
_STANDARD_SYSTEMS = {"http://loinc.org", "http://snomed.info/sct"}


def _text_fallback(
    part: dict[str, Any], mapping: CompiledMapping, coded: list[tuple[str | None, str | None, str | None]]
) -> tuple[Rule, str] | None:
    """Display-text fallback for lab codes that only carry a display or code.text
    ("VEGF-A, serum (send-out)", "IFE SERUM"): the rule whose declared synonyms match.

    Only for local codes (or code.text alone); ambiguous text (two rules match) is not used.
    ``coded`` is ``codings(part["code"])``, already read by the caller.
    """
    concept = part.get("code")
    if not isinstance(concept, dict) or not mapping.observation_text:
        return None
    if any(system in _STANDARD_SYSTEMS for system, _, _ in coded):
        return None
    texts = [t for t in [concept.get("text")] + [d for _, _, d in coded] if isinstance(t, str) and t.strip()]
    for text in texts:
        hits = mapping.observation_rules_by_text(text)
        # one name of the test naming another protein (code.text «Рецептор ФРЭС 1 типа (sFlt-1)») outweighs a
        # shorter one that does not (display «ФРЭС»): the test is the receptor (probe123 D3)
        if len(hits) == 1 and not any(mapping.names_another_test(hits[0], t[:MAX_NAME_CHARS]) for t in texts):
            return hits[0], text.strip()
    return None


def observation_pruner(mapping: CompiledMapping) -> Callable[[dict[str, Any]], bool]:
    """The ``prune`` of fhir.read/fhir.spool for this mapping (evaluation; never `mappings coverage`,
    which must see the codes no rule knows)."""
    return functools.partial(observation_cannot_matter, mapping=mapping)


def observation_cannot_matter(data: dict[str, Any], mapping: CompiledMapping) -> bool:
    """Whether :func:`_observation` would read nothing from this raw Observation, decided before the
    boundary check: vitals and panels that no rule knows are most of a hospital's Observations, and
    the reader then keeps only their identity (``read.identity_only``) instead of validating,
    storing and extracting them (issue #11). Conservative: a code a rule knows, any text the text
    engine or the display fallback could read, or an element of an unexpected shape -> False (the
    boundary then checks and reports it as for any resource)."""
    if "valueString" in data or "note" in data or "contained" in data:
        return False  # _observation_text reads these; contained resources may be referenced
    if not _names_a_test(data.get("code")):
        return False  # an Observation naming no test is listed (_uncoded_observation), not dropped unseen
    parts: list[Any] = [data]
    components = data.get("component")
    if components is not None:
        if not isinstance(components, list):
            return False
        parts += components
    for part in parts:
        if not isinstance(part, dict):
            return False
        concept = part.get("code")
        if concept is None:
            continue
        if not isinstance(concept, dict):
            return False
        text = concept.get("text")
        if text is not None and not isinstance(text, str):
            return False
        coding = concept.get("coding")
        if coding is not None and not isinstance(coding, list):
            return False
        standard = coded = display = False
        for c in coding or ():
            if not isinstance(c, dict):
                return False
            system, code = c.get("system"), c.get("code")
            if not (system is None or isinstance(system, str)) or not (code is None or isinstance(code, str)):
                return False
            if not (c.get("display") is None or isinstance(c["display"], str)):
                return False
            if mapping.rules_for(system, code):
                return False
            standard = standard or system in _STANDARD_SYSTEMS
            coded = coded or bool(system and code)
            display = display or "display" in c
        if (text is not None or display) and not standard:
            return False  # _text_fallback matches code.text and displays of local codes
        if part is data and text is not None and not coded:
            return False  # _observation_text reads the code.text of an uncoded Observation
    return True


def _observation_text(raw: Raw, mapping: CompiledMapping, out: Extraction) -> None:
    """An Observation no code rule knows: its code.text, valueString and notes may still name a finding."""
    data = raw.data
    code = data.get("code")
    has_code_text = isinstance(code, dict) and bool(code.get("text"))
    if not has_code_text and "valueString" not in data and "note" not in data:
        return  # vitals and the like: nothing to read
    code_text = concept_text(code) if has_code_text and _uncoded(code) else ""
    texts = [(code_text, "code.text"), (data.get("valueString"), "valueString")]
    texts += [
        ((n or {}).get("text") if isinstance(n, dict) else None, f"note[{i}]")
        for i, n in enumerate(data.get("note") or [])
    ]
    if not any(isinstance(t, str) and mapping.text.could_matter(t) for t, _ in texts):
        return  # vitals and the like: most unmapped observations carry no text worth reading
    effective = _effective(data)
    positive, answer = _coded_result(data)
    if positive is None and answer:  # "Hepatomegaly" = "absent" / "нет": a yes/no answer in words
        positive = False if _BARE_NO.match(answer) else (True if _BARE_YES.match(answer) else None)
    for text, source in texts:
        kind = "note" if source.startswith("note") else "observation"
        _queue_text(
            raw, mapping, out, text, source, kind, effective, coded_value=positive if source == "code.text" else None
        )


@dataclass
class _Ctx:
    raw: Raw
    record: PatientRecord
    mapping: CompiledMapping
    out: Extraction
    effective: dt.date | None
    part: dict[str, Any]  # the Observation or one component
    prefix: str
    code: str
    rule_id: str | None = None
    by_text: str | None = None  # matched by display text (fallback), not by code
    pointer: str | None = None  # the value only pointed to the notes ("See comment"): ``part`` holds them as its value
    #: the words of a bracket after an M-protein's unit that name its band ("IgA lambda by immunofixation") and the
    #: value text they were in: ``part`` holds the amount without them (results.band_bracket)
    band: tuple[str, str] | None = None
    #: the last reading and its rule: role handlers read the same result up to three times
    _read: tuple[ObservationRule, Reading] | None = field(default=None, init=False, repr=False)

    def read(self, rule: ObservationRule) -> Reading:
        if self._read is not None and self._read[0] is rule:
            return self._read[1]  # a Reading is immutable; a failed read is not kept (it raises again)
        reading = self._read_result(rule)
        self._read = (rule, reading)
        return reading

    def _read_result(self, rule: ObservationRule) -> Reading:
        m = self.mapping
        reading = read_result(
            self.part,
            self.prefix,
            rule.unit,
            rule.molar_mass,
            m.unit_aliases,
            m.result_terms,
            m.result_codes,
            m.canonical,
        )
        number = reading.value or reading.unitless
        if number is not None and number.value < 0:
            # every result a rule reads is a concentration, count, percentage or ratio (probe32: a VEGF
            # of -624 pg/mL made the criterion absent, a platelet count of -512 flagged H present)
            raise ResourceError(
                f"{self.prefix}value {number.value:g}{' ' + number.unit if number.unit else ''} is negative: "
                f"no {rule.id.replace('_', ' ')} can be; not read - fix the value"
            )
        return reading

    def list_once(self, message: str) -> None:
        """An input problem of this result, listed once however many of its parts or rules meet it."""
        error = SourceError(self.raw.origin, message, self.raw.ref)
        if error not in self.out.errors:
            self.out.errors.append(error)

    def note(self, kind: str, detail: str) -> None:
        self.out.notes.append(ReadingNote(kind, _ref(self.raw), self.rule_id, detail))

    def evidence(self, summary: str, value: Value | None = None) -> Evidence:
        extra = list(value.notes) if value else []
        if self.by_text:
            extra.append(f"test identified by its name {self.by_text!r} only: lower confidence")
        if self.pointer:
            extra.append(f"result read from the note its value points to ({self.pointer!r})")
        if extra:
            summary = f"{summary} [{'; '.join(extra)}]"
        return Evidence(
            reference=_ref(self.raw),
            effective=self.effective,
            summary=summary,
            value=round(value.value, 4) if value else None,
            unit=value.unit if value else None,
            code=self.code or None,
            comparator=value.comparator if value else None,
        )

    def finding(self, topic: str, state: State, summary: str, value: Value | None = None, **kw: Any) -> None:
        kw.setdefault("source_rule", self.rule_id)
        self.out.findings.append(Finding(topic, state, self.evidence(summary, value), **kw))


def _absent_reason(part: dict[str, Any]) -> str | None:
    dar = part.get("dataAbsentReason")
    if dar is None:
        return None
    codes = [c for _, c, _ in codings(dar) if c]
    return (codes[0] if codes else None) or (dar.get("text") if isinstance(dar, dict) else None) or "unknown"


def _rule_topic(rule: ObservationRule) -> str | None:
    return {
        "immunofixation": Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
        "m_protein": Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
        "clonal_plasma_cells": Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
        "flc_ratio": Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
        "vegf": Criterion.VEGF_ELEVATION.value,
        "endocrine": Criterion.ENDOCRINOPATHY.value,
    }.get(rule.role or "", rule.topic)


def _apply_observation_rule(ctx: _Ctx, rule: ObservationRule) -> None:
    fluid = _other_specimen(ctx, rule)
    if fluid is not None:
        raise ResourceError(
            f"specimen {fluid!r}: {rule.id} is read on {rule.specimen or 'blood (serum or plasma)'} only; "
            "a result on another specimen is another test and is not used"
        )
    label = rule.id.replace("_", " ")
    reason = _absent_reason(ctx.part)
    if reason is not None:
        topic = _rule_topic(rule)
        if topic:
            # a platelet count not done says nothing of the haemoglobin: only this rule's part
            part = rule.component if topic == rule.topic else None
            ctx.finding(topic, State.NOT_ASSESSED, f"{label}: not available ({reason})", axis=rule.axis, component=part)
        return
    _list_unknown_flags(ctx)
    if _contradicting_flags(ctx, rule, label):
        return
    handler = _ROLE_HANDLERS[rule.role or "measurement"]
    try:
        handler(ctx, rule)
    except UnreadResult:
        raise
    except ResourceError as exc:
        topic = _rule_topic(rule)
        if topic is None:
            raise
        # this patient's result of this test (the person and the specimen were checked above), not readable:
        # the criterion names it as on record and not read, and proposes correcting it, not ordering the test
        part = rule.component if topic == rule.topic else None
        finding = Finding(
            topic,
            State.NOT_ASSESSED,
            ctx.evidence(f"{label}: on record, not read ({exc})"),
            note=f"{UNREAD_NOTE}: {label} ({exc})",
            axis=rule.axis,
            component=part,
            source_rule=ctx.rule_id,
            retest=UNREAD,
        )
        raise UnreadResult(exc, finding) from exc


def _list_unknown_flags(ctx: _Ctx) -> None:
    """An interpretation code that is no flag even with case and spaces forgiven is listed: ignored in
    silence, a lab's "HIGH " or "Positive" flag was as if never sent (probe140 D2)."""
    for code in unknown_flags(ctx.part, ctx.mapping.result_terms):
        ctx.list_once(
            f"interpretation code {code[:40]!r} is not an interpretation flag that is read (H, L, N, A, POS, NEG, "
            "DET, ND, ...): the flag is ignored; send an HL7 ObservationInterpretation code"
        )


def _contradicting_flags(ctx: _Ctx, rule: ObservationRule, label: str) -> bool:
    """Flags of one result that contradict each other (H with L, N with A, POS with NEG) leave its criterion
    indeterminate, the contradiction said: the first flag decided, so [H, L] made a VEGF of 624 pg/mL
    present and [L, H] indeterminate (probe140 D7). A rule without a criterion does not read the result."""
    flags = flags_contradict(ctx.part, ctx.mapping.result_terms)
    if flags is None:
        return False
    why = f"its interpretation flags contradict each other ({flags})"
    topic = _rule_topic(rule)
    if topic is None:
        raise ResourceError(f"{label}: {why}; not read")
    part = rule.component if topic == rule.topic else None
    note = f"{why}: which one the lab meant cannot be told; check the result"
    ctx.finding(topic, State.INDETERMINATE, f"{label}: flagged {flags}", axis=rule.axis, component=part, note=note)
    return True


#: Finding.retest of a result on record that could not be read, and the note that opens its reason
UNREAD = "unread"
UNREAD_NOTE = "result on record, not read"


class UnreadResult(ResourceError):
    """A result of this patient that a rule matched but could not read (a unit no table knows, a malformed or
    missing value): still reported and skipped as ``cause``, and ``finding`` keeps its criterion from saying
    "no data" and proposing the test again (probe102 A2)."""

    def __init__(self, cause: ResourceError, finding: Finding) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.finding = finding


def _numeric(ctx: _Ctx, rule: ObservationRule) -> Value:
    reading = ctx.read(rule)
    if reading.value is None:
        _no_number(ctx, rule, reading)
    assert reading.value is not None  # noqa: S101 - narrows the type for mypy; _no_number raises
    return reading.value


def _no_number(ctx: _Ctx, rule: ObservationRule, reading: Reading) -> NoReturn:
    element = ctx.prefix + "value"
    if reading.rejected is not None:
        raise reading.rejected  # a unit that cannot be converted, and nothing else to judge it by
    if reading.unitless is not None:
        raise ResourceError(
            f"{reading.element or element} {_fmt(reading.unitless)} has no unit (expected {rule.unit}); not guessed"
        )
    if reading.qual is not None:
        raise ResourceError(f"{element}: {rule.id} needs a number; {reading.qual_source} alone cannot decide it")
    present = [k for k in ctx.part if k.startswith("value")]
    raise ResourceError(f"{element}: expected a Quantity for {rule.id}, found {present[0] if present else 'no value'}")


def _unused(ctx: _Ctx, rule: ObservationRule, reading: Reading) -> None:
    """A valid result this rule cannot use (e.g. "High" for albumin): noted, not an error."""
    ctx.note("unused", f"{reading.qual_source or 'result'}: {rule.id} needs a number")


def _unitless_side(ctx: _Ctx, reading: Reading) -> tuple[bool | None, bool | None, str]:
    """A number without a unit judged only against the lab's own unitless range, then its flag.

    Returns (above the upper limit, below the lower limit, evidence text). The unit cannot change
    this comparison because value and range come from the same result line.
    """
    v = reading.unitless
    assert v is not None  # noqa: S101 - narrows the type for mypy; callers check unitless
    how = f"{_fmt(v)} (a unit not convertible to the rule's)" if v.unit else f"{_fmt(v)} without a unit"
    try:
        rr = unitless_range(ctx.part, v.unit, _subject(ctx), v)
    except RangesDisagreeError as exc:
        rr, how = None, f"{how} ({exc})"
    high = compare(v, rr.high, ">") if rr and rr.high is not None else None
    low = compare(v, rr.low, "<") if rr and rr.low is not None else None
    if rr is not None:
        how += f", judged against the lab's own range {_range_text(rr)} only"
    flag = reading.interpretation
    if high is None and low is None and flag is not None:
        high, low = _qual_sides(flag)
        how += f", judged by its {reading.qual_source} only"
    return high, low, how


def _range_text(rr: Range) -> str:
    if rr.low is not None and rr.high is not None:
        return f"{rr.low:g}-{rr.high:g}"
    return f"<={rr.high:g}" if rr.high is not None else f">={rr.low:g}"


def _qual_sides(qual: Qual) -> tuple[bool | None, bool | None]:
    """(above the upper limit, below the lower limit) that a qualitative result states."""
    return {
        Qual.HIGH: (True, False),
        Qual.LOW: (False, True),
        Qual.NORMAL: (False, False),
        Qual.NEGATIVE: (False, False),
    }.get(qual, (None, None))


def _record(
    ctx: _Ctx,
    rule: ObservationRule,
    value: Value,
    specimen: str | None = None,
    abnormal: bool | None = None,
    above: bool | None = None,
) -> None:
    ctx.out.measurements.append(
        Measurement(
            analyte=rule.id,
            value=value.value,
            unit=value.unit,
            effective=ctx.effective,
            reference=_ref(ctx.raw),
            specimen=specimen or rule.specimen,
            comparator=value.comparator,
            high=value.high,
            abnormal=abnormal,
            above=above,
            sent=value.sent,
        )
    )


def _range(ctx: _Ctx, rule: ObservationRule, value: Value | None = None) -> Range | None:
    """The lab's range for the result (``value``: the result, which decides between equally good ranges
    whose limits differ where it lies on one side of them all)."""
    return _range_or_dispute(ctx, rule, value)[0]


def _range_or_dispute(
    ctx: _Ctx, rule: ObservationRule, value: Value | None = None
) -> tuple[Range | None, RangesDisagreeError | None]:
    """``_range``, and the disagreement of equally good ranges where there is one (noted either way)."""
    try:
        found = reference_range(ctx.part, rule.unit, ctx.mapping.unit_aliases, rule.molar_mass, _subject(ctx), value)
    except UndecidedRangeError as exc:
        # the range that applies still judges the side of the value both agree on; the role decides
        # whether the disputed side matters to its criterion
        ctx.note("unused", f"{rule.id}: {exc}")
        return exc.used, exc
    except RangesDisagreeError as exc:
        ctx.note("unused", f"{rule.id}: {exc} (for this patient): default limits decide")
        if isinstance(exc, ReversedRangeError):  # bad input: listed with the resource, which is still read
            listed = f"{rule.id}: {exc} - the default limits decide; send the range the right way round"
            if listed not in ctx.record.refused:
                ctx.record.refused.append(listed)
        return None, exc
    if found is None:
        # a range the lab wrote that could not be read is said, not passed over (probe81 D4: the default
        # cut-off decided without a word); `mappings coverage` lists it under values not used
        ranges = ctx.part.get("referenceRange")
        texts = [rr.get("text") for rr in ranges if isinstance(rr, dict)] if isinstance(ranges, list) else []
        for text in [t for t in texts if isinstance(t, str) and t.strip()][:3]:
            ctx.note(
                "unused",
                f"{rule.id}: the lab's range {text[:80]!r} was not read (for this patient): default limits decide",
            )
    return found, None


def _subject(ctx: _Ctx) -> Subject:
    """The patient as a referenceRange's appliesTo/age asks: sex, and age on the result's day."""
    birth = ctx.record.birth_date
    try:
        born = parse_date(birth, "Patient.birthDate") if isinstance(birth, str) else None
    except ResourceError:
        born = None
    latest = None
    if isinstance(born, PartialDate):  # only the year or the month: the last day it can be
        latest = born.last_day
    return Subject(ctx.record.gender, born, ctx.effective, latest)


def _fmt(value: Value) -> str:
    comp = value.comparator or ""
    if value.sent and value.high is None:  # the lab's own value first, the converted one rounded beside it
        return f"{comp}{value.sent} (= {comp}{_three_digits(value.value)} {value.unit or ''})".replace(" )", ")")
    upper = f"–{value.high:g}" if value.high is not None else ""
    return f"{comp}{value.value:g}{upper} {value.unit or ''}".strip()


def _three_digits(number: float) -> str:
    """A converted value to three significant digits, without an exponent (85.5, 1230, 0.0123)."""
    return f"{float(f'{number:.3g}'):g}" if math.isfinite(number) and abs(number) < 1e15 else f"{number:g}"


# --- roles


def _coded_result(part: dict[str, Any]) -> tuple[bool | None, str]:
    """Positive/negative from valueCodeableConcept, valueBoolean or interpretation; plus text."""
    text = ""
    if "valueCodeableConcept" in part:
        concept = part["valueCodeableConcept"]
        for system, code, _ in codings(concept):
            if system == SNOMED and code in SCT_POSITIVE:
                return True, concept_text(concept)
            if system == SNOMED and code in SCT_NEGATIVE:
                return False, concept_text(concept)
        text = concept_text(concept)
    elif "valueString" in part:
        text = str(part["valueString"])
    elif "valueBoolean" in part:
        return bool(part["valueBoolean"]), "positive" if part["valueBoolean"] else "negative"
    interp = interpretation_codes(part)
    if interp & POSITIVE and not text:
        return True, "positive"
    if interp & NEGATIVE and not text:
        return False, "negative"
    return None, text


def _ife_negative(ctx: _Ctx, topic: str, specimen: str, summary: str) -> None:
    """A negative immunofixation: of serum, a strong negative; of urine alone, a low-grade one - the small
    serum IgA/IgG-lambda bands of POEMS need the serum test (criteria.md §4 "serum + urine IFE"; a probe:
    a negative urine IFE alone made the clone absent and the patient "not met", no serum test proposed)."""
    if specimen == "urine":
        ctx.finding(
            topic,
            State.ABSENT,
            summary,
            strength=Strength.WEAK,
            note="a urine immunofixation alone does not exclude a serum M-protein: serum immunofixation needed",
        )
    else:
        ctx.finding(topic, State.ABSENT, summary)


#: the SNOMED CT result codes by the names a reason shows
_SCT_RESULT_NAMES = {
    "10828004": "Positive",
    "260373001": "Detected",
    "260385009": "Negative",
    "260415000": "Not detected",
}


def _ife_sides(ctx: _Ctx, specimen: str) -> tuple[list[str], list[str]]:
    """What a coded immunofixation value says, as (positive sides, negative sides): each SNOMED CT
    Positive/Detected or Negative/Not detected coding, the concept's text and each display read on its
    own (a band, or a whole-word result such as "Positive", "Negative", "не выявлено"). The display of a
    SNOMED result coding counts only where it says otherwise than its code ("IgA lambda" on Negative)."""
    concept = ctx.part.get("valueCodeableConcept")
    positive: list[str] = []
    negative: list[str] = []
    if not isinstance(concept, dict):
        return positive, negative

    def words(kind: str, said: Any, code_says: bool | None = None) -> None:
        if not isinstance(said, str) or not said.strip():
            return
        parsed = parse_ife(said, specimen, ctx.mapping.ife_cues)
        meaning = ctx.mapping.result_terms.get(normalise_term(said))
        if parsed.conflict:
            # words that contradict themselves ("Negative. Comment: IgG lambda band noted.") name a band: against
            # a coded Negative they are the contradiction; alone, the text's own (probe90 D10)
            if code_says is False:
                positive.append(f"{kind} {_short_text(said)}")
        elif parsed.bands or parsed.untyped or (not parsed.negative and meaning in (Qual.POSITIVE, Qual.ABNORMAL)):
            if code_says is not True:
                positive.append(f"{kind} {_short_text(said)}")
        elif (parsed.negative and not parsed.chain_only) or meaning in (Qual.NEGATIVE, Qual.NORMAL):
            # (one light chain denied alone, "No kappa band", contradicts no Positive: probe88 D12)
            if code_says is not False:
                negative.append(f"{kind} {_short_text(said)}")

    words("text", concept.get("text"))
    for system, code, display in codings(concept):
        if system == SNOMED and code in SCT_POSITIVE | SCT_NEGATIVE:
            says = code in SCT_POSITIVE
            (positive if says else negative).append(f"coded {_SCT_RESULT_NAMES[code]} (SNOMED CT {code})")
            words("display", display, says)
        else:
            words("display", display)
    return positive, negative


def _immunofixation(ctx: _Ctx, rule: ObservationRule) -> None:
    topic = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
    specimen = rule.specimen or "serum"
    says_positive, says_negative = _ife_sides(ctx, specimen)
    if says_positive and says_negative:
        # the coded value and its own words disagree (Negative with "IgA lambda band detected", Positive with
        # "No monoclonal band detected", codings Negative and Positive): which holds cannot be told here, and
        # an absent clone excludes POEMS (criteria.md §3.3: conflicting evidence is indeterminate; probe86 D3
        # read every such result as negative, a clone-positive patient not met)
        ctx.finding(
            topic,
            State.INDETERMINATE,
            f"{specimen} immunofixation contradicts itself: {' and '.join(says_negative)}"
            f" but {' and '.join(says_positive)}",
            note="the coded result and its words disagree: check the immunofixation report",
        )
        return
    positive, text = _coded_result(ctx.part)
    parsed = parse_ife(text, specimen, ctx.mapping.ife_cues) if text else None
    if parsed and parsed.conflict:
        _ife_conflict(ctx, f"{specimen} immunofixation", parsed)
        return
    noted = _ife_noted(ctx, specimen, text or ("" if positive is None else "Positive" if positive else "Negative"))
    if noted is not None and noted.conflict:
        _ife_conflict(ctx, f"{specimen} immunofixation", noted)
        return
    if noted is not None and positive is not True and not (parsed and parsed.bands):
        # a note naming the band an earlier test found beside today's negative ("Negative", note "Previous IgG
        # lambda band no longer detected."), as the same words in the value (probe93 D18: absent, not met)
        parsed, text = noted, f"{text or 'Negative'}; note: {'; '.join(_note_texts(ctx))}"
    if not (parsed and (parsed.bands or parsed.negative or parsed.possible or parsed.equivocal)) and (
        positive is True or bool(parsed and parsed.untyped) or _ife_qual(ctx, rule) is Qual.POSITIVE
    ):
        # a positive value naming no band ("Abnormal", coded Positive) whose comment names it: the band is the
        # result's (fix132i's leftover: its isotype was lost, no atypical-isotype flag)
        in_note = _ife_note_bands(ctx, specimen)
        if in_note is not None:
            parsed, text = in_note, f"{text or 'Positive'}; note: {'; '.join(_note_texts(ctx))}"
    if parsed and parsed.chain_only and positive is True:
        parsed = None  # Positive, "No kappa band": the other chain's clone (probe88 D12)
    untyped = bool(parsed and parsed.untyped) and positive is not False  # (a coded Negative's words: _ife_sides)
    detected = bool(parsed and parsed.bands) or untyped or (positive is True)
    if detected or positive is False or (parsed and parsed.negative):
        # 1 = a monoclonal protein detected, 0 = negative: the response timeline needs both
        _record(ctx, rule, Value(1.0 if detected else 0.0, None))
    if (detected or positive is True) and _flag_disagrees(ctx, topic, specimen, text or "positive", negative=False):
        return
    if parsed and parsed.bands:
        for band in parsed.bands:
            ctx.finding(
                topic,
                State.PRESENT,
                f"{specimen} immunofixation: {band.label()}",
                heavy_chain=band.heavy_chain,
                light_chain=band.light_chain,
            )
        return
    if untyped:
        # this result's clone stated with no band named beside another test's negative ("Monoclonal protein present.
        # Bence Jones protein: negative."): positive, as "Monoclonal protein present" alone is (fix123b)
        ctx.finding(
            topic, State.PRESENT, f"{specimen} immunofixation positive (isotype not stated; {_short_text(text)})"
        )
        return
    if parsed and parsed.earlier and (positive is False or parsed.negative):
        # negative today, but the result names the clone an earlier test found: a criterion counts once
        # present at any time (criteria.md §3.3) - never the absence that excludes POEMS (probe71 D11: a
        # treated patient's "previously seen IgG kappa paraprotein is no longer detectable" made them not met)
        named = ", ".join(b.label() for b in parsed.earlier)
        ctx.finding(
            topic,
            State.INDETERMINATE,
            f"{specimen} immunofixation negative now, {named} reported before ({_short_text(text)})",
            note="a clone found by an earlier test counts at any time: cite that result to confirm it",
        )
        return
    if positive is False or (parsed and parsed.negative):
        if _flag_disagrees(ctx, topic, specimen, text or "negative", negative=True):
            return
        _ife_negative(ctx, topic, specimen, f"{specimen} immunofixation negative")
        return
    if positive is True:
        ctx.finding(topic, State.PRESENT, f"{specimen} immunofixation positive (isotype not stated)")
        return
    if parsed and (parsed.possible or parsed.equivocal):
        _equivocal_band(ctx, f"{specimen} immunofixation", parsed, text)
        return
    qual = _ife_qual(ctx, rule)
    if qual is not None:
        _record(ctx, rule, Value(1.0 if qual is Qual.POSITIVE else 0.0, None))
        if qual is Qual.POSITIVE:
            ctx.finding(
                topic,
                State.PRESENT,
                f"{specimen} immunofixation positive (isotype not stated; {_qual_text(ctx.read(rule))})",
            )
        else:
            _ife_negative(ctx, topic, specimen, f"{specimen} immunofixation negative ({_qual_text(ctx.read(rule))})")
        return
    if not text and not any(_VALUE_ELEMENT.fullmatch(k) for k in ctx.part):
        raise ResourceError(_no_ife_value(ctx))
    raise ResourceError(f"unrecognised immunofixation result {text!r}: expected e.g. 'IgA lambda' or 'negative'")


_VALUE_ELEMENT = re.compile(r"value[A-Z]\w*")


def _no_ife_value(ctx: _Ctx) -> str:
    """Why an immunofixation without a value of its own is not read: where its result is, if a component holds
    one (probe99 D8: "unrecognised immunofixation result ''" quoted an empty string). A component's value is
    not read as the test's result: a component is a part of the test (a heavy chain, a light chain, an
    interpretation line), and which one is the result cannot be told from its place."""
    parts = ctx.raw.data.get("component") if ctx.part is ctx.raw.data else None
    for i, part in enumerate(parts if isinstance(parts, list) else []):
        found = [k for k in part if _VALUE_ELEMENT.fullmatch(k)] if isinstance(part, dict) else []
        if found:
            said = part[found[0]]
            shown = f" {_short_text(said)}" if isinstance(said, str) else ""
            return (
                f"immunofixation result is in component[{i}] ({found[0]}{shown}), not in the Observation's own "
                "value: a component is not read as the test's result - not read; send the result as the "
                "Observation's value[x]"
            )
    return "immunofixation has no result (no value[x] and no dataAbsentReason): nothing to read"


def _flag_disagrees(ctx: _Ctx, topic: str, specimen: str, text: str, *, negative: bool) -> bool:
    """Whether the lab's own interpretation flag says the opposite of the result, either way; if so the
    finding is indeterminate with both in the reason. A "negative" flagged abnormal or positive (probe79 D2:
    "Negative" flagged A made the patient not met), and a band or a Positive flagged negative, not detected
    or normal (probe99 D7: "IgG kappa band detected" flagged NEG made the mandatory criterion present
    without a word): which one holds cannot be told here; a clone counts for POEMS, its absence excludes it."""
    codes = interpretation_codes(ctx.part)
    flags = sorted(codes & (ABNORMAL | POSITIVE) if negative else codes & (NEGATIVE | NORMAL))
    stated, source = interpretation_qual(ctx.part, ctx.mapping.result_terms)
    against = (Qual.ABNORMAL, Qual.HIGH, Qual.POSITIVE) if negative else (Qual.NEGATIVE, Qual.NORMAL)
    if not flags and stated in against:
        flags = [source.removeprefix("interpretation ")]  # a flag in words (probe81 D6)
    if not flags:
        return False
    ctx.finding(
        topic,
        State.INDETERMINATE,
        f"{specimen} immunofixation {_short_text(text)} but flagged {', '.join(flags)} by the lab",
        note="the result and its flag disagree: check the immunofixation report",
    )
    return True


def _ife_noted(ctx: _Ctx, specimen: str, said: str) -> IfeResult | None:
    """The result read with the Observation's notes as its comment, where they contradict it - value "IgG
    lambda band detected." and note "Not confirmed on repeat.", value "Negative" and note "IgG lambda band
    noted." - as the same words in the value do (probe92 D10: FHIR labs put the comment in ``note``, which
    was not read for it). A note that agrees, mentions or speaks of another test changes nothing."""
    texts = _note_texts(ctx)
    if not said or not texts:
        return None
    parsed = parse_ife(said + "".join(f"\nNote: {t}" for t in texts), specimen, ctx.mapping.ife_cues)
    if parsed.conflict:
        return parsed
    # ... and a note naming a band an earlier test found, the value naming none (probe93 D18)
    return parsed if parsed.earlier and not parse_ife(said, specimen, ctx.mapping.ife_cues).earlier else None


def _ife_note_bands(ctx: _Ctx, specimen: str) -> IfeResult | None:
    """The bands the Observation's notes alone name, plainly - no doubt, denial, conflict, earlier test, another
    person (the parser's cues) - else None."""
    texts = _note_texts(ctx)
    if not texts:
        return None
    parsed = parse_ife("\n".join(texts), specimen, ctx.mapping.ife_cues)
    plain = not (parsed.conflict or parsed.negative or parsed.possible or parsed.equivocal or parsed.earlier)
    return parsed if parsed.bands and plain else None


def _note_texts(ctx: _Ctx) -> list[str]:
    """The texts of the Observation's notes (not a component's)."""
    notes = ctx.raw.data.get("note") if ctx.part is ctx.raw.data else None
    if not isinstance(notes, list):
        return []
    return [n["text"] for n in notes if isinstance(n, dict) and isinstance(n.get("text"), str) and n["text"].strip()]


def _ife_conflict(ctx: _Ctx, what: str, parsed: IfeResult) -> None:
    """A result whose words contradict themselves - a result and its comment, a band and its withdrawal
    ("Negative. Comment: IgG lambda band noted.", "IgG lambda band detected. Comment: not confirmed on
    repeat."): neither a clone nor its absence, both sides in the reason, nothing in the response timeline
    (criteria.md §3.3; probe90 D10: each was a clone and the patient `met`)."""
    ctx.finding(
        Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
        State.INDETERMINATE,
        f"{what} contradicts itself: {parsed.conflict}",
        note=f"its words disagree ({parsed.conflict}): check the immunofixation report",
    )


def _equivocal_band(ctx: _Ctx, what: str, parsed: IfeResult, text: str) -> None:
    """A band named with doubt, or an equivocal result: neither a clone nor its absence."""
    named = ", ".join(b.label() for b in parsed.possible)
    ctx.finding(
        Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
        State.INDETERMINATE,
        f"{what} equivocal{': ' + named if named else ''} ({_short_text(text)})",
        note="a band reported with doubt is not a confirmed clone: repeat or confirm the immunofixation",
    )


def _short_text(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _ife_qual(ctx: _Ctx, rule: ObservationRule) -> Qual | None:
    """Positive / negative from a qualitative string, coded value or interpretation flag."""
    try:
        qual = ctx.read(rule).qual
    except ResourceError:
        return None
    if qual in (Qual.POSITIVE, Qual.ABNORMAL):
        return Qual.POSITIVE
    if qual in (Qual.NEGATIVE, Qual.NORMAL):
        return Qual.NEGATIVE
    return None


def _qual_text(reading: Reading) -> str:
    return f"{reading.qual_source}, no number" if reading.qual_source else "no number"


#: an M-protein seen on electrophoresis but too small to measure: detected ("trace", "следы М-градиента")
_TRACE = re.compile(
    r"\btraces?\b|\b(?:not|non)[- ]?quantifiable\b|\btoo small to (?:quantify|measure)\b|"
    r"\bследы\b|\bследов\w*|не поддается количественной оценке",
    re.IGNORECASE,
)


_DENIED = re.compile(
    r"\b(?:no|without|none|absent|negative)\b|\bнет\b|\bбез\b|\bне (?:выявлен|обнаружен)", re.IGNORECASE
)


def _m_protein(ctx: _Ctx, rule: ObservationRule) -> None:
    topic = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
    specimen = rule.specimen or "serum"
    if ctx.band is not None:
        _amount_and_its_band(ctx, rule, specimen, *ctx.band)
        return
    reading = ctx.read(rule)
    if reading.value is None and reading.unitless is None:
        positive = (
            {Qual.POSITIVE: True, Qual.ABNORMAL: True, Qual.HIGH: True, Qual.NEGATIVE: False, Qual.NORMAL: False}.get(
                reading.qual
            )
            if reading.qual
            else None
        )
        if positive is None:
            positive, text = _coded_result(ctx.part)
            parsed = parse_ife(text, specimen, ctx.mapping.ife_cues) if positive is None and text else None
            if parsed and parsed.conflict:
                _ife_conflict(ctx, f"{specimen} M-protein", parsed)
                return
            bands = parsed.bands if parsed else ()
            if parsed and not bands and (parsed.possible or parsed.equivocal):
                _equivocal_band(ctx, f"{specimen} M-protein", parsed, text)
                return
            if parsed and parsed.negative:  # "no monoclonal IgA lambda detected"
                positive = False
            elif parsed and parsed.untyped:  # "M-protein present. Bence Jones protein: negative." (fix123b)
                positive = True
            if bands:  # "M-protein: IgG lambda" names the protein it detected
                for band in bands:
                    ctx.finding(
                        topic,
                        State.PRESENT,
                        f"{specimen} M-protein {band.label()}",
                        heavy_chain=band.heavy_chain,
                        light_chain=band.light_chain,
                    )
                return
            if positive is None and text and _TRACE.search(text) and not _DENIED.search(text):
                # a spike seen but too small to measure
                positive = True
            if positive is None:
                raise ResourceError(f"M-protein result {text!r} is neither a quantity nor detected/not detected")
        elif reading.qual_source:
            ctx.note("qualitative", f"{rule.id}: {reading.qual_source}")
        if not positive and rule.unit:
            # no spike on electrophoresis is 0 in any unit: the response reads it as the coded 0 g/L
            # it is (a follow-up "not detected" after a measurable baseline is a fall, not a gap)
            _record(ctx, rule, Value(0.0, rule.unit))
        state = State.PRESENT if positive else State.ABSENT
        how = f" ({reading.qual_source})" if reading.qual_source.startswith(("valueString", "interpretation")) else ""
        ctx.finding(
            topic,
            state,
            f"{specimen} M-protein {'detected' if positive else 'not detected'}{how}",
            strength=Strength.STRONG if positive else Strength.WEAK,
            note=None if positive else "electrophoresis only: may miss a small M-protein",
        )
        return
    # electrophoresis may miss small M-proteins (criteria.md §6): a zero is a weak negative only
    _detected_or_weak_negative(
        ctx, rule, f"{specimen} M-protein", "electrophoresis only: may miss a small M-protein", reading
    )


def _amount_and_its_band(ctx: _Ctx, rule: ObservationRule, specimen: str, words: str, written: str) -> None:
    """An M-protein amount with a bracket naming its band: "0.3 g/dL (IgA lambda by immunofixation)", «3 г/л (IgA
    лямбда)» - the amount, and the band where the immunofixation parser reads the bracket's words as this patient's
    band today and nothing else (probe135 b19: the whole value was refused as a unit). A bracket that denies, doubts,
    dates or disowns its band ("(IgA lambda not detected)", "(previously IgG kappa)", "(mother: IgA lambda)"), or an
    amount not above zero beside a band, is not guessed at: the result stays unread and listed."""
    parsed = parse_ife(words, specimen, ctx.mapping.ife_cues)
    if not parsed.bands or parsed.negative or parsed.possible or parsed.equivocal or parsed.conflict or parsed.earlier:
        raise ResourceError(
            f"M-protein result: the words in the bracket after its amount ({words!r}) are not read as its band"
        )
    value = _numeric(ctx, rule)
    if compare(value, 0, ">") is not True:
        raise ResourceError(f"M-protein result {_fmt(value)} beside a band named ({words!r}): amount and band disagree")
    # the evidence quotes the value as written, bracket and all
    quoted = f"read from text {written.strip()!r}"
    value = replace(value, notes=tuple(quoted if n.startswith("read from text ") else n for n in value.notes))
    _record(ctx, rule, value)
    for band in parsed.bands:
        ctx.finding(
            Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
            State.PRESENT,
            f"{specimen} M-protein {band.label()} {_fmt(value)}",
            value,
            heavy_chain=band.heavy_chain,
            light_chain=band.light_chain,
        )


def _measurement(ctx: _Ctx, rule: ObservationRule) -> None:
    reading = ctx.read(rule)
    if reading.value is None and reading.unitless is None and reading.qual is not None:
        _unused(ctx, rule, reading)
        return
    _record(ctx, rule, _numeric(ctx, rule))


def _flc_ratio(ctx: _Ctx, rule: ObservationRule) -> None:
    reading = ctx.read(rule)
    if reading.value is None and reading.qual is not None:
        if reading.qual in (Qual.HIGH, Qual.LOW, Qual.ABNORMAL):
            light = {Qual.HIGH: "kappa", Qual.LOW: "lambda"}.get(reading.qual)
            excess = f"{light} excess" if light else "direction not stated"
            ctx.finding(
                Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
                State.PRESENT,
                f"abnormal FLC ratio ({excess}; {_qual_text(reading)})",
                light_chain=light,
            )
        else:
            _unused(ctx, rule, reading)  # a normal ratio is usual in POEMS: no evidence of absence
        return
    value = _numeric(ctx, rule)
    interp = interpretation_codes(ctx.part)
    rr, dispute = _range_or_dispute(ctx, rule, value)
    if isinstance(dispute, UndecidedRangeError):
        # the lab's ranges judge the ratio differently and which one is the patient's cannot be told (a
        # renal range beside the standard one, probe124 D5): a flag is one range's verdict, and taking the
        # standard range silently made a CKD patient's clone present
        _record(ctx, rule, value, abnormal=None)
        ctx.finding(
            Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
            State.INDETERMINATE,
            f"FLC ratio {_fmt(value)}",
            value,
            note=f"not judged: {dispute}",
        )
        return
    high = bool(interp & ABNORMAL_HIGH) or (rr is not None and rr.high is not None and value.value > rr.high)
    low = bool(interp & ABNORMAL_LOW) or (rr is not None and rr.low is not None and value.value < rr.low)
    # a normal ratio is a condition of complete response (criteria.md §8.1): keep what the lab said
    judged = rr is not None or bool(interp)
    _record(ctx, rule, value, abnormal=(high or low) if judged else None)
    if not judged:
        # criteria.md gives no interval for the ratio: without the lab's range or flag it cannot be judged,
        # and dropping it let negative immunofixations alone make the clone absent (probe62 D10/D11)
        ctx.finding(
            Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
            State.INDETERMINATE,
            f"FLC ratio {_fmt(value)}",
            value,
            note="no reference range or flag from the lab to judge the ratio (normal or abnormal)",
        )
        return
    # A normal ratio is usual in POEMS (criteria.md §4): it is not evidence of absence.
    if high or low:
        light = "kappa" if high else "lambda"
        ctx.finding(
            Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
            State.PRESENT,
            f"abnormal FLC ratio {_fmt(value)} ({light} excess)",
            value,
            light_chain=light,
        )


def _clonal_plasma_cells(ctx: _Ctx, rule: ObservationRule) -> None:
    why = "random marrow sample: a negative does not exclude a clone"
    reading = ctx.read(rule)
    label = "clonal bone-marrow plasma cells"
    if reading.value is None and reading.unitless is None and reading.qual is not None:
        topic = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
        if reading.qual in (Qual.POSITIVE, Qual.HIGH, Qual.ABNORMAL):
            ctx.finding(topic, State.PRESENT, f"{label} detected ({_qual_text(reading)})")
        elif reading.qual in (Qual.NEGATIVE, Qual.NORMAL):
            ctx.finding(
                topic, State.ABSENT, f"{label} not detected ({_qual_text(reading)})", strength=Strength.WEAK, note=why
            )
        else:
            _unused(ctx, rule, reading)
        return
    _detected_or_weak_negative(ctx, rule, label, why, reading)


def _detected_or_weak_negative(
    ctx: _Ctx, rule: ObservationRule, label: str, why_weak: str, reading: Reading | None = None
) -> None:
    """A quantity > 0 shows the clone; zero is only a low-grade negative (``why_weak``).

    A number without a unit still shows presence (zero is zero in any unit): it is used for
    that only, and not recorded as a measurement (its magnitude is unknown).
    """
    topic = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
    if reading is not None and reading.value is None and reading.unitless is not None:
        v = reading.unitless
        why, words = ("a unit not convertible to the rule's", "in a unit not convertible to the rule's")
        if not v.unit:
            why, words = "no unit", "without a unit"
        how = f"{label} {_fmt(v)} [{why}: used for presence only, magnitude not used]"
        ctx.note("unitless", f"{rule.id}: {_fmt(v)} {words} used for presence only")
        if compare(v, 0, ">") is True:
            ctx.finding(topic, State.PRESENT, how)
        else:
            ctx.finding(topic, State.ABSENT, how, strength=Strength.WEAK, note=why_weak)
        return
    value = reading.value if reading is not None and reading.value is not None else _numeric(ctx, rule)
    _record(ctx, rule, value)
    if compare(value, 0, ">") is True:
        ctx.finding(topic, State.PRESENT, f"{label} {_fmt(value)}", value)
    else:
        ctx.finding(topic, State.ABSENT, f"{label} {_fmt(value)}", value, strength=Strength.WEAK, note=why_weak)


#: the lab calling its marrow sample unfit for counting plasma cells: in a note, the code's text or the
#: interpretation "IND" (indeterminate)
_INADEQUATE_SAMPLE = re.compile(
    r"h(?:a)?emodilut|blood[- ]diluted|peripheral blood contamina|suboptimal|sub-optimal|inadequate|insufficient|"
    r"non-?diagnostic|not (?:adequate|representative|suitable)|dry tap|гемодилю|разведен\w* кровью|неинформатив|"
    r"малоинформатив|недостаточн\w* (?:материал|образ)|непригодн",
    re.IGNORECASE,
)


def _inadequate_sample(ctx: _Ctx) -> bool:
    data = ctx.raw.data
    code = data.get("code")
    name = code.get("text") if isinstance(code, dict) else None
    texts = [*_note_texts(ctx), name if isinstance(name, str) else ""]
    coded = [
        c.get("code")
        for concept in (data.get("interpretation") or [])
        if isinstance(concept, dict)
        for c in (concept.get("coding") or [])
        if isinstance(c, dict)
    ]
    return any(isinstance(c, str) and c.strip().upper() == "IND" for c in coded) or any(
        _INADEQUATE_SAMPLE.search(t) for t in texts if t
    )


def _bm_plasma_cells(ctx: _Ctx, rule: ObservationRule) -> None:
    reading = ctx.read(rule)
    if reading.value is None and reading.unitless is None and reading.qual is not None:
        _unused(ctx, rule, reading)
        return
    value = _numeric(ctx, rule)
    if compare(value, 0, ">") is not True and _inadequate_sample(ctx):
        # a count of 0 in a sample the lab calls haemodilute or unfit says nothing of the marrow: not "no
        # clonal plasma cells", not a marrow on record (probe113 D2: it opened the radiotherapy branch)
        ctx.note("unused", f"{rule.id}: {_fmt(value)} in a sample the lab calls unfit for the count - not used")
        return
    _record(ctx, rule, value)
    thresholds = [ctx.mapping.threshold(tid) for tid in _threshold_ids(rule.high, ctx.record.gender)]
    if not rule.high_topic or not thresholds:
        return
    # sex unknown with sex-specific cut-offs: beyond only if beyond every one (as _side decides)
    if all(compare(value, thr.value, thr.operator) is True for thr in thresholds):
        cut_offs = ", ".join(f"{thr.operator}{thr.value:g}{thr.unit}" for thr in thresholds)
        ctx.finding(rule.high_topic, State.PRESENT, f"bone-marrow plasma cells {_fmt(value)} ({cut_offs})", value)


def _specimen_resource(ctx: _Ctx) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The Observation's specimen reference and the Specimen it resolves to (either may be None)."""
    obs = ctx.raw.data
    ref = obs.get("specimen") if isinstance(obs.get("specimen"), dict) else None
    specimen = ctx.record.resolve(ref.get("reference"), obs) if ref else None
    reference = ref.get("reference") if ref else None
    display = ref.get("display") if ref else None
    # a reference that also says what was sampled (its display) loses nothing when it resolves to nothing
    if specimen is None and isinstance(reference, str) and reference.strip() and not _said(display):
        _unresolved_specimen(ctx, reference)
    if specimen is not None and _withdrawn_specimen(ctx, specimen, reference):
        return ref, None
    if specimen is not None and (modified := unknown_modifier(specimen, ctx.mapping.understood_modifiers)):
        # what was sampled decides the result (serum or plasma VEGF): not read past a modifier (probe99 D2)
        raise ResourceError(f"its specimen {reference}: {modified}")
    if (
        ref
        and specimen is not None
        and isinstance(specimen.get("id"), str)
        and not str(ref.get("reference")).startswith("#")
    ):
        # the result rests on it (serum or plasma decides VEGF): a source the Provenance names (probe37 D10)
        meta = specimen.get("meta")
        ctx.out.used[f"Specimen/{specimen['id']}"] = meta.get("versionId") if isinstance(meta, dict) else None
    return ref, specimen


def _withdrawn_specimen(ctx: _Ctx, specimen: dict[str, Any], reference: Any) -> bool:
    """A Specimen entered in error (its status, case and spaces forgiven) says nothing of what was sampled: listed,
    and the result read as if it named none (probe140 D12: its type "plasma" still decided a VEGF's cut-off)."""
    status = specimen.get("status")
    if not isinstance(status, str) or code_word(status) != "entered-in-error":
        return False
    ctx.list_once(
        f"its specimen {str(reference)[:80]!r} is entered-in-error: what was sampled (serum or plasma) is not read "
        "from it"
    )
    return True


def _said(text: Any) -> bool:
    return isinstance(text, str) and bool(text.strip())


def _unresolved_specimen(ctx: _Ctx, reference: str) -> None:
    """A specimen reference that names no Specimen of the input is listed (probe43: a VEGF whose Specimen
    was missing lost its specimen type silently, and a progression read as a partial response); a
    Specimen of another patient is listed by ``resolve`` already."""
    key = reference if reference.startswith("#") else ctx.record.index.canonical(reference)
    if key is not None and not key.startswith("#") and ctx.record.index.lookup(key) is not None:
        return  # it exists but is not this patient's: resolve listed it
    ctx.list_once(
        f"specimen reference {reference[:80]!r} names no Specimen in the input: what was sampled (serum or "
        "plasma) is read from the test's name only; send the Specimen with the result"
    )


def _other_specimen(ctx: _Ctx, rule: ObservationRule) -> str | None:
    """The name of a specimen other than the one the rule reads (blood, or the rule's own ``specimen``),
    when the Observation states one: its Specimen's type (codes, then words), its specimen reference's
    display, or the words of the test's own name. None when nothing names another specimen."""
    ref, specimen = _specimen_resource(ctx)
    named: list[str] = []
    if specimen:
        for system, code, display in codings(specimen.get("type")):
            fluid = _FLUID_CODES.get((system or "", code or ""))
            if fluid is not None:
                named.append(fluid)
            elif display:
                named.append(display)
        named.append(concept_text(specimen.get("type")))
    if ref and isinstance(ref.get("display"), str):
        named.append(ref["display"])
    named += [concept_text(ctx.part.get("code"))] + [d for _, _, d in codings(ctx.part.get("code")) if d]
    for name in named:
        m = _FLUID_WORDS.search(name or "")
        if m is None:
            continue
        is_urine = m.group(0).lower().startswith(("urin", "моч"))
        if rule.specimen == "urine" and is_urine:
            return None
        return name.strip()
    return None


def _specimen(ctx: _Ctx) -> tuple[str | None, str | None]:
    """Serum or plasma, from the referenced Specimen (its type's codes, then its words), the specimen
    reference's display, the test's own name (code.text, displays) or its value's words ("500 pg/mL
    (plasma)"), each source judged on its own:
    "Serum or Plasma" (the LOINC display) names both and so decides nothing; a local display such as
    "VEGF im EDTA-Plasma" names one. Sources that name different ones contradict each other (probe86 D4:
    "VEGF, serum" taken from a plasma Specimen, the Specimen silently followed): then unknown, with why.
    Returns (specimen, the contradiction or None)."""
    obs = ctx.raw.data
    ref, specimen = _specimen_resource(ctx)
    named: list[tuple[str, str]] = []  # (serum|plasma, where)
    texts: list[tuple[str, str]] = []
    if specimen:
        for system, code, _ in codings(specimen.get("type")):
            if (system, code) in ((SNOMED, SCT_SERUM), (V2_SPECIMEN, V2_SERUM)):
                named.append(("serum", "its Specimen"))
            if (system, code) in ((SNOMED, SCT_PLASMA), (V2_SPECIMEN, V2_PLASMA)):
                named.append(("plasma", "its Specimen"))
        kind = specimen.get("type")
        # its words and each display on their own: "Serum" beside a display "Plasma specimen" is a
        # contradiction, not a name of both (probe88 D13)
        if isinstance(kind, dict) and isinstance(kind.get("text"), str):
            texts.append((kind["text"], "its Specimen"))
        texts += [(d, "its Specimen") for _, _, d in codings(kind) if isinstance(d, str)]
    if ref and isinstance(ref.get("display"), str):
        texts.append((ref["display"], "its specimen reference"))
    code = obs.get("code")
    if isinstance(code, dict) and isinstance(code.get("text"), str):
        texts.append((code["text"], "the test's name"))
    texts += [(d, "the test's name") for _, _, d in codings(code) if isinstance(d, str)]
    if isinstance(obs.get("valueString"), str):  # "500 pg/mL (plasma)": the words after the value's unit
        texts.append((obs["valueString"], "its value"))
    if ctx.pointer:
        # the value only pointed to its notes: they are the result, and so are their specimen words ("640 pg/mL
        # (plasma)", "VEGF (serum) 1250 pg/mL"), judged against the other sources as a value's (probe137 D1)
        texts += [
            (n["text"], "its note") for n in obs.get("note") or [] if isinstance(n, dict) and _said(n.get("text"))
        ]
    for text, where in texts:
        t = text.lower()
        plasma, serum = ("plasma" in t or "плазм" in t), ("serum" in t or "сыворот" in t or "сарысу" in t)
        if plasma != serum:
            named.append(("plasma" if plasma else "serum", where))
    kinds = {k for k, _ in named}
    if len(kinds) == 1:
        return named[0][0], None
    if not kinds:
        return None, None
    by = {k: next(w for n, w in named if n == k) for k in ("serum", "plasma")}
    return None, f"named serum by {by['serum']} and plasma by {by['plasma']}"


def _limit_text(limit: float, unit: str | None) -> str:
    return f"{limit:g} {unit}" if unit else f"{limit:g}"


def _vegf(ctx: _Ctx, rule: ObservationRule) -> None:
    """MAJ-5 per specimen type (criteria.md §4 'Engine rule for MAJ-5')."""
    topic = Criterion.VEGF_ELEVATION.value
    reading = ctx.read(rule)
    specimen, contradiction = _specimen(ctx)
    if reading.value is None:
        _vegf_without_number(ctx, rule, reading, specimen)
        return
    value = reading.value
    _record(ctx, rule, value, specimen)
    thr = ctx.mapping.thresholds
    plasma, serum = thr["vegf_plasma"], thr["vegf_serum"]
    rr, dispute = _range_or_dispute(ctx, rule, value)
    # labs disagreeing whether the value is above their upper limit: not "within it" (probe89 D15)
    disputed = dispute is not None and dispute.high_differs
    label = f"VEGF {_fmt(value)} ({specimen or 'specimen unknown' + (f': {contradiction}' if contradiction else '')})"
    kw = {"specimen": specimen}

    def present(summary: str) -> None:
        # a low flag on a value above the cut-off contradicts it (probe96 D13: "1250 pg/mL L" was present, the
        # flag unmentioned), as a platelet count's does: which one is wrong cannot be told here
        if reading.interpretation is Qual.LOW:
            note = "flagged low by the lab but above the diagnostic cut-off: the flag contradicts the value"
            ctx.finding(topic, State.INDETERMINATE, f"{summary}, {reading.qual_source}", value, **kw, note=note)
        else:
            ctx.finding(topic, State.PRESENT, summary, value, **kw)

    if specimen is None:
        if compare(value, serum.value, serum.operator):
            present(label)
        elif compare(value, plasma.value, plasma.operator) is False:
            if disputed:
                ctx.finding(topic, State.INDETERMINATE, label, value, **kw, note=_disputed_limit(dispute, "every"))
            elif (
                rr is not None and rr.high is not None and compare(value, rr.high, ">")
            ) or reading.interpretation in (
                Qual.HIGH,
                Qual.ABNORMAL,
            ):
                # above the lab's own limit, below every cut-off: not a diagnostic elevation, not normal
                ctx.finding(
                    topic,
                    State.INDETERMINATE,
                    label,
                    value,
                    **kw,
                    note="above the lab's upper reference limit but below the diagnostic cut-offs; lab "
                    "limits are assay-specific, not diagnostic",
                )
            else:
                ctx.finding(topic, State.ABSENT, label, value, **kw)
        else:
            ctx.finding(
                topic,
                State.INDETERMINATE,
                label,
                value,
                **kw,
                note="specimen type unknown and the value lies between the plasma and serum cut-offs",
            )
        return
    cut = plasma if specimen == "plasma" else serum
    above = compare(value, cut.value, cut.operator)
    if above:
        # a cut-off the clinical reference leaves UNVERIFIED (serum 1000 pg/mL) says so where it decides:
        # a "met" on it read as settled (probe38)
        unverified = " (an UNVERIFIED cut-off: confirm before clinical use)" if cut.verification == "UNVERIFIED" else ""
        present(f"{label} >= {cut.value:g} {cut.unit} cut-off{unverified}")
    elif above is None:
        ctx.finding(topic, State.INDETERMINATE, label, value, **kw, note="censored value straddles the cut-off")
    elif disputed:
        cutoff = f"the {specimen} diagnostic cut-off ({cut.value:g} {cut.unit})"
        ctx.finding(topic, State.INDETERMINATE, label, value, **kw, note=_disputed_limit(dispute, cutoff))
    elif rr is not None and rr.high is not None and value.value > rr.high:
        ctx.finding(
            topic,
            State.INDETERMINATE,
            label,
            value,
            **kw,
            note=(
                # with its unit (probe108 D9: "limit (500)" beside "cut-off (1,000 pg/mL)")
                f"above the lab's upper reference limit ({_limit_text(rr.high, value.unit)}) but below the "
                f"{specimen} diagnostic cut-off ({cut.value:g} {cut.unit}); lab limits are "
                "assay-specific, not diagnostic"
            ),
        )
    elif reading.interpretation in (Qual.HIGH, Qual.ABNORMAL):
        ctx.finding(
            topic,
            State.INDETERMINATE,
            label + f" flagged {reading.qual_source}",
            value,
            **kw,
            note=(
                f"flagged above the lab's limit but below the {specimen} diagnostic cut-off "
                f"({cut.value:g} {cut.unit}); lab limits are assay-specific, not diagnostic"
            ),
        )
    else:
        ctx.finding(topic, State.ABSENT, label, value, **kw)


def _disputed_limit(dispute: RangesDisagreeError | None, cutoff: str) -> str:
    """Why a VEGF below the cut-off is not read as normal: its lab's equally good ranges disagree."""
    which = "every diagnostic cut-off" if cutoff == "every" else cutoff
    return (
        f"{dispute} - the value is above one of the lab's upper reference limits and within another, below "
        f"{which}; lab limits are assay-specific, not diagnostic"
    )


def _vegf_without_number(ctx: _Ctx, rule: ObservationRule, reading: Reading, specimen: str | None) -> None:
    """VEGF reported as "High"/"normal", or as a number without a unit (criteria.md §4): above the
    lab's own limit is not the diagnostic cut-off -> indeterminate; within it -> absent."""
    topic = Criterion.VEGF_ELEVATION.value
    label = f"VEGF ({specimen or 'specimen unknown'})"
    if reading.unitless is not None:
        above, _, how = _unitless_side(ctx, reading)
        ctx.note("unitless", f"{rule.id}: {how}")
        label = f"VEGF {how} ({specimen or 'specimen unknown'})"
    else:
        above = (
            {
                Qual.HIGH: True,
                Qual.ABNORMAL: True,
                Qual.POSITIVE: True,
                Qual.NORMAL: False,
                Qual.NEGATIVE: False,
                Qual.LOW: False,
            }.get(reading.qual)
            if reading.qual
            else None
        )
        label = f"{label} reported {_qual_text(reading)}"
        if reading.qual is not None:
            ctx.note("qualitative", f"{rule.id}: {reading.qual_source}")
    if above is None:
        _no_number(ctx, rule, reading)
    if above:
        ctx.finding(
            topic,
            State.INDETERMINATE,
            label,
            specimen=specimen,
            note=(
                "VEGF above the lab's limit without a comparable number: a lab's upper limit is "
                "assay-specific and lower than the diagnostic cut-off, so elevation cannot be confirmed"
            ),
        )
    else:
        ctx.finding(topic, State.ABSENT, label + " within the lab's range", specimen=specimen)


def _threshold_ids(value: str | dict[str, str] | None, gender: str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if gender in value:
        return [value[gender]]
    return list(value.values())  # sex unknown: every sex-specific cut-off must agree


def _between_sexes(ctx: _Ctx, rule: ObservationRule, value: Value) -> str | None:
    """Why a value of a patient of unknown sex cannot be judged: beyond one sex's upper cut-off and
    not the other's (haemoglobin 163 g/L: above the female 160, not the male 165); None otherwise."""
    cuts = rule.high if isinstance(rule.high, dict) else None
    if not cuts or ctx.record.gender in cuts:
        return None
    beyond = {
        sex: compare(value, ctx.mapping.threshold(t).value, ctx.mapping.threshold(t).operator)
        for sex, t in cuts.items()
    }
    if len(set(beyond.values())) < 2:
        return None
    limits = ", ".join(
        f"{sex} {ctx.mapping.threshold(t).operator} {ctx.mapping.threshold(t).value:g} {ctx.mapping.threshold(t).unit}"
        for sex, t in sorted(cuts.items())
    )
    return f"{_sex_unknown(ctx.record)}: the value is beyond the cut-off for one sex only ({limits})"


def _sex_unknown(record: PatientRecord) -> str:
    """Why the patient's sex is not known, truly: a gender sent but not read is not "not recorded" (probe140 D6)."""
    sent = record.gender_sent
    if sent is None:
        return "sex not recorded (Patient.gender)"
    if record.gender is None:
        return f"sex not read (Patient.gender {str(sent)[:40]!r} is not an administrative-gender code)"
    return f"sex recorded as {record.gender} (Patient.gender): neither sex's cut-off applies"


def _side(ctx: _Ctx, rule: ObservationRule, value: Value, rr: Range | None, high: bool) -> bool | None:
    """Is the value beyond the high (or low) limit? Lab range first when preferred; None = unknown."""
    interp = interpretation_codes(ctx.part)
    flags = ABNORMAL_HIGH if high else ABNORMAL_LOW
    if interp & flags:
        return True
    stated = ctx.read(rule).interpretation  # an interpretation given as text ("High", "повышен")
    if stated is (Qual.HIGH if high else Qual.LOW):
        return True
    limit = (rr.high if high else rr.low) if rr else None
    if limit is not None and (rule.prefer_reference_range or not (rule.high if high else rule.low)):
        return compare(value, limit, ">" if high else "<")
    ids = _threshold_ids(rule.high if high else rule.low, ctx.record.gender)
    if ids:
        verdicts = {compare(value, ctx.mapping.threshold(t).value, ctx.mapping.threshold(t).operator) for t in ids}
        return verdicts.pop() if len(verdicts) == 1 else None
    if interp & NORMAL:
        return False
    return None


def _threshold(ctx: _Ctx, rule: ObservationRule) -> None:
    reading = ctx.read(rule)
    name = rule.id.replace("_", " ")
    value: Value | None
    if reading.value is None:
        # no usable number: a flag ("H" = above the lab's ULN) or a unitless value against its own range
        value = None
        if reading.unitless is not None:
            high, low, how = _unitless_side(ctx, reading)
            summary = f"{name} {how}"
            ctx.note("unitless", f"{rule.id}: {how}")
        elif reading.qual is not None:
            high, low = _qual_sides(reading.qual)
            if reading.qual is Qual.POSITIVE and rule.high_topic and not rule.topic:
                high = True  # a test whose only finding is "high" (an antibody): positive is that finding
            summary = f"{name} {_qual_text(reading)}"
            ctx.note("qualitative", f"{rule.id}: {reading.qual_source}")
        else:
            _no_number(ctx, rule, reading)
        if high is None and low is None:
            if rule.topic and reading.qual in (Qual.ABNORMAL, Qual.POSITIVE):
                ctx.finding(
                    rule.topic,
                    State.INDETERMINATE,
                    summary,
                    component=rule.component,
                    note=f"{name}: abnormal without a direction or a number",
                )
                return
            _no_number(ctx, rule, reading)
    else:
        value = reading.value
        _record(ctx, rule, value)
        rr, dispute = _range_or_dispute(ctx, rule, value)
        if (
            isinstance(dispute, UndecidedRangeError)
            and dispute.matters("high")
            and rule.topic
            and (rule.prefer_reference_range or not rule.high)
        ):
            # the lab's range for a population the patient may be in calls it otherwise (probe124 D5)
            note = f"{name} not judged: {dispute}"
            ctx.finding(
                rule.topic, State.INDETERMINATE, f"{name} {_fmt(value)}", value, component=rule.component, note=note
            )
            return
        high = _side(ctx, rule, value, rr, high=True)
        low = _side(ctx, rule, value, rr, high=False) if (rule.low or rule.low_topic or rr) else None
        summary = f"{name} {_fmt(value)}"
        if high and low:
            # a flag that contradicts the number (probe32: platelets 100 flagged H with a range of 150-400
            # made thrombocytosis and thrombocytopenia both present): which one is wrong cannot be told
            note = f"{name}: its interpretation flag contradicts the value against the lab's range"
            if rule.topic:
                ctx.finding(rule.topic, State.INDETERMINATE, summary, value, component=rule.component, note=note)
            ctx.note("unused", note)
            return
    if rule.topic:
        if high and value is not None and (normal := _flagged_normal_beyond_default(ctx, rule, rr)) is not None:
            # the lab's own limit, which criteria.md judges by, is above the value; only the default is not
            # (probe79 D7: platelets 460 flagged N were "present (high)" by the default 450)
            ctx.finding(rule.topic, State.INDETERMINATE, summary, value, component=rule.component, note=normal)
        elif high:
            ctx.finding(rule.topic, State.PRESENT, summary + " (high)", value, component=rule.component)
        elif high is False:
            ctx.finding(rule.topic, State.ABSENT, summary, value, component=rule.component)
        elif value is not None and (between := _between_sexes(ctx, rule, value)) is not None:
            # a result exists: "no data" and a test to order would be wrong (probe31)
            ctx.finding(rule.topic, State.INDETERMINATE, summary, value, component=rule.component, note=between)
        elif (
            value is not None
            and value.comparator
            and ((rr is not None and rr.high is not None) or _threshold_ids(rule.high, ctx.record.gender))
        ):
            # a censored value on both sides of the limit ("<500" against 450): measured, but not placed -
            # never "no data" with a test to order (probe79 D5: a CBC on file, "complete blood count" proposed)
            ctx.finding(
                rule.topic,
                State.INDETERMINATE,
                summary,
                value,
                component=rule.component,
                note=f"{name}: the value is censored ({_fmt(value)}) on both sides of the limit",
            )
        # unknown: no limit to judge against -> no finding; the measurement is kept
    if rule.high_topic and high:
        ctx.finding(rule.high_topic, State.PRESENT, summary + " (high)", value)
    if rule.low_topic and low:
        ctx.finding(rule.low_topic, State.PRESENT, summary + " (low)", value)


def _flagged_normal_beyond_default(ctx: _Ctx, rule: ObservationRule, rr: Range | None) -> str | None:
    """Why a value beyond the rule's default cut-off is not "high": the lab flags it normal and gives no
    upper limit of its own (the cut-off stands in for that limit); None when that is not the case."""
    interp = interpretation_codes(ctx.part)
    # a code N, or "Normal" in words (probe81 D7); a high or abnormal flag beside it is no normal one
    if interp & ABNORMAL or ctx.read(rule).interpretation is not Qual.NORMAL:
        return None
    if rr is not None and rr.high is not None:
        return None  # the lab's own limit decided
    cuts = [ctx.mapping.threshold(t) for t in _threshold_ids(rule.high, ctx.record.gender)]
    if not cuts:
        return None
    limits = ", ".join(f"{c.operator} {c.value:g} {c.unit}" for c in cuts)
    return (
        f"{rule.id.replace('_', ' ')}: flagged normal (N) by the lab, beyond the default cut-off ({limits}); "
        "the lab's own upper limit is not given"
    )


def _endocrine(ctx: _Ctx, rule: ObservationRule) -> None:
    topic = Criterion.ENDOCRINOPATHY.value
    gender = ctx.record.gender
    if rule.sex is not None and gender in ("male", "female") and gender != rule.sex:
        # criteria.md §5 names "low testosterone in men": a woman's testosterone says nothing of the axis
        ctx.note("other_sex", f"{rule.id}: counts for {rule.sex} patients only; this patient is {gender}")
        return
    reading = ctx.read(rule)
    if reading.value is None:
        if reading.unitless is not None:
            high, low, how = _unitless_side(ctx, reading)
            ctx.note("unitless", f"{rule.id}: {how}")
        elif reading.qual is not None:
            high, low = _qual_sides(reading.qual)
            if reading.qual in (Qual.ABNORMAL, Qual.POSITIVE):
                high = True if rule.abnormal == "either" else None  # which side is not said
                low = low if rule.abnormal == "either" else None
            how = _qual_text(reading)
            ctx.note("qualitative", f"{rule.id}: {reading.qual_source}")
        else:
            _no_number(ctx, rule, reading)
        summary = f"{rule.id.replace('_', ' ')} {how} ({rule.axis.value if rule.axis else '?'} axis)"
        if high is None and low is None:
            if reading.qual in (Qual.ABNORMAL, Qual.POSITIVE):
                ctx.finding(
                    topic,
                    State.INDETERMINATE,
                    summary,
                    axis=rule.axis,
                    note=f"{rule.id}: abnormal, but not said whether {rule.abnormal} (only {rule.abnormal} counts)",
                )
                return
            _no_number(ctx, rule, reading)
        abnormal_flag = _counts(rule, bool(high), bool(low))
        if abnormal_flag and rule.present_at:  # "HbA1c: high", no number: prediabetes or diabetes?
            note = f"{rule.id}: above the lab's range without a number: the diabetes cut-off cannot be judged"
            ctx.finding(topic, State.INDETERMINATE, summary, axis=rule.axis, note=note)
            return
        ctx.finding(
            topic,
            State.PRESENT if abnormal_flag else State.ABSENT,
            summary + _side_text(rule, abnormal_flag, bool(high), bool(low)),
            axis=rule.axis,
        )
        return
    value = reading.value
    interp = interpretation_codes(ctx.part)
    rr, dispute = _range_or_dispute(ctx, rule, value)
    undecided = isinstance(dispute, UndecidedRangeError) and dispute.matters(rule.abnormal)
    if undecided:  # the lab's range for a population the patient may be in calls it otherwise (probe124 D5)
        rr, interp = None, set()
    _record(ctx, rule, value, above=_above(value, interp, rr))
    summary = f"{rule.id.replace('_', ' ')} {_fmt(value)} ({rule.axis.value if rule.axis else '?'} axis)"
    abnormal: bool | None
    above = bool(interp & ABNORMAL_HIGH) or (rr is not None and rr.high is not None and value.value > rr.high)
    below = bool(interp & ABNORMAL_LOW) or (rr is not None and rr.low is not None and value.value < rr.low)
    if rule.abnormal != "either" and (above or below or rr is not None or interp & NORMAL):
        abnormal = _counts(rule, above, below)  # "low cortisol": a high one is no adrenal insufficiency
    elif interp & ABNORMAL and rule.abnormal == "either":
        abnormal = True
    elif rr is not None:
        abnormal = (rr.low is not None and value.value < rr.low) or (rr.high is not None and value.value > rr.high)
    elif interp & NORMAL:
        abnormal = False
    else:
        abnormal = None
    if abnormal is None and rule.present_at and (cut := _disease_cut_reached(ctx, rule, value)) is not None:
        # the disease's own cut-off needs no lab range: an HbA1c of 55 mmol/mol is diabetes whatever the
        # lab's normal range (probe62 D13/D14: it was "not judged", and the axis it adds was lost)
        ctx.finding(topic, State.PRESENT, f"{summary} abnormal ({cut})", value, axis=rule.axis)
        return
    if abnormal is None:
        ctx.finding(
            topic,
            State.INDETERMINATE,
            summary,
            value,
            axis=rule.axis,
            note=f"{rule.id} not judged: {dispute}"
            if undecided
            else f"{rule.id}: no reference range or interpretation to judge the value",
        )
    elif abnormal and above and rule.present_at and (short := _below_disease_cut(ctx, rule, value)) is not None:
        ctx.finding(topic, State.INDETERMINATE, summary + " high", value, axis=rule.axis, note=short)
    else:
        ctx.finding(
            topic,
            State.PRESENT if abnormal else State.ABSENT,
            summary + _side_text(rule, abnormal, above, below),
            value,
            axis=rule.axis,
        )


def _disease_cut_reached(ctx: _Ctx, rule: ObservationRule, value: Value) -> str | None:
    """The disease cut-off (``present_at``) the value reaches, as words; None when it does not (or none
    is configured for its unit)."""
    tid = rule.present_at.get(value.unit or "")
    if tid is None:
        return None
    cut = ctx.mapping.threshold(tid)
    if compare(value, cut.value, cut.operator) is not True:
        return None
    return f"{cut.operator} {cut.value:g} {cut.unit}, the diabetes cut-off ({cut.verification}); no lab range sent"


def _below_disease_cut(ctx: _Ctx, rule: ObservationRule, value: Value) -> str | None:
    """Why a result above the lab's range is not yet the disease (``present_at``); None when it is."""
    tid = rule.present_at.get(value.unit or "")
    if tid is None:
        return f"{rule.id}: above the lab's range; its unit {value.unit!r} has no diabetes cut-off to judge it by"
    cut = ctx.mapping.threshold(tid)
    if compare(value, cut.value, cut.operator):
        return None
    return (
        f"{rule.id}: above the lab's range but not {cut.operator} {cut.value:g} {cut.unit} "
        f"({cut.verification}): not the diabetes the axis needs"
    )


def _counts(rule: ObservationRule, above: bool, below: bool) -> bool:
    """Whether a result on these sides of its range is the abnormality the rule's axis counts."""
    return {"either": above or below, "low": below, "high": above}[rule.abnormal]


def _side_text(rule: ObservationRule, abnormal: bool, above: bool, below: bool) -> str:
    if abnormal:
        return " abnormal"
    if above or below:  # the other side: "cortisol 900 nmol/L high: only low counts"
        return f" {'high' if above else 'low'}: only {rule.abnormal} counts for this axis"
    return " normal"


def _above(value: Value, interp: set[str], rr: Range | None) -> bool | None:
    """Whether an endocrine result is above its lab's upper limit: its flag (H/HH/HU/> above, N or a
    low flag not), else its range's upper limit; None when neither says (e.g. only a lower limit)."""
    if interp & ABNORMAL_HIGH:
        return True
    if interp & (NORMAL | ABNORMAL_LOW):
        return False
    if rr is not None and rr.high is not None:
        return value.value > rr.high
    return None


_ROLE_HANDLERS = {
    "immunofixation": _immunofixation,
    "m_protein": _m_protein,
    "flc": _measurement,
    "flc_ratio": _flc_ratio,
    "clonal_plasma_cells": _clonal_plasma_cells,
    "bm_plasma_cells": _bm_plasma_cells,
    "vegf": _vegf,
    "threshold": _threshold,
    "endocrine": _endocrine,
    "measurement": _measurement,
}


def _exam_finding(ctx: _Ctx, rule: ConditionRule) -> None:
    """An Observation coded as a finding (e.g. papilledema on fundoscopy): value says yes/no."""
    positive, text = _coded_result(ctx.part)
    if positive is None and text:  # a whole-string qualitative value: "absent", "не выявлено"
        meaning = ctx.mapping.result_terms.get(normalise_term(text))
        positive = True if meaning is Qual.POSITIVE else False if meaning is Qual.NEGATIVE else None
    if positive is None and text:
        # the bare answer to the question the finding's code asks: "none", "no", «нет», «отсутствует» - not
        # lab result terms ("none" is no immunofixation result), so read here only (probe124 D9: "none" for
        # Lymphadenopathy was not read, the nodes "not assessed")
        positive = False if _BARE_NO.match(text) else (True if _BARE_YES.match(text) else None)
    if positive is None and not any(k.startswith("value") for k in ctx.part):
        positive = True  # an asserted finding with no value: the finding itself was observed
    if positive is None:
        return
    label = rule.id.replace("_", " ")
    for topic in _condition_topics(rule):
        ctx.finding(
            topic,
            State.PRESENT if positive else State.ABSENT,
            f"{label} {'present' if positive else 'absent'} on examination",
            axis=rule.axis,
            component=rule.component,
        )


def _course(ctx: _Ctx, rule: Any) -> None:
    positive, text = _coded_result(ctx.part)
    direction = None
    for system, code, _ in codings(ctx.part.get("valueCodeableConcept")):
        direction = direction or rule.values.get(f"{system}|{code}")
    direction = direction or rule.values.get(text.strip().lower())
    if direction is None:
        raise ResourceError(f"course assessment {text!r} is not one of {sorted(set(rule.values.values()))}")
    ctx.out.course.append(CourseAssessment(rule.domain, direction, ctx.effective, _ref(ctx.raw)))


# ---------------------------------------------------------------- Condition


def _condition_topics(rule: ConditionRule) -> list[str]:
    return ([rule.topic] if rule.topic else []) + list(rule.also)


def _verification(data: dict[str, Any]) -> str:
    """Condition.verificationStatus as a FHIR code (case, spaces and underscores forgiven; a coding's
    code or, with none, the concept's text). Absent: confirmed. Codes that contradict each other
    ("confirmed" beside "refuted") or none that is a FHIR code: a reported skip - reading them as
    confirmed turned a refuted diagnosis into a present criterion (probe32)."""
    concept = data.get("verificationStatus")
    if concept is None:
        return "confirmed"
    said = [c for _, c, _ in codings(concept) if isinstance(c, str)]
    known = {code_word(c) for c in said} & VERIFICATION_SYSTEM_CODES
    if not known:  # a code of another system ("Confirmed" as its display), or text only
        words = [d for _, _, d in codings(concept) if isinstance(d, str)]
        if isinstance(concept, dict) and isinstance(concept.get("text"), str):
            words.append(concept["text"])
        known = {code_word(w) for w in words} & VERIFICATION_SYSTEM_CODES
        said = said or words
    if len(known) == 1:
        return known.pop()
    if known:
        raise ResourceError(
            f"verificationStatus says {' and '.join(sorted(known))} at once: whether the diagnosis holds "
            "cannot be told; not read - keep one code"
        )
    raise ResourceError(
        f"verificationStatus {', '.join(repr(c) for c in said) or '(no code)'} is no FHIR code "
        f"({', '.join(sorted(VERIFICATION_SYSTEM_CODES))}): whether the diagnosis holds cannot be told; not read"
    )


#: Condition.clinicalStatus codes (FHIR R4 condition-clinical)
CLINICAL_STATUS_CODES = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}


def _clinical_status(data: dict[str, Any]) -> str | None:
    """Condition.clinicalStatus as a FHIR code, read as _verification reads its status (case, spaces and
    underscores forgiven; a coding's code, else its display or the text). None when not given. A value
    that is no such code is a reported skip: it was accepted silently and printed as a status ("confirmed,
    bogus"), and "Resolved" in capitals was not read as resolved (probe54 D3)."""
    concept = data.get("clinicalStatus")
    if concept is None:
        return None
    said = [c for _, c, _ in codings(concept) if isinstance(c, str)]
    known = [w for c in said if (w := code_word(c)) in CLINICAL_STATUS_CODES]
    if not known:
        words = [d for _, _, d in codings(concept) if isinstance(d, str)]
        if isinstance(concept, dict) and isinstance(concept.get("text"), str):
            words.append(concept["text"])
        known = [w for d in words if (w := code_word(d)) in CLINICAL_STATUS_CODES]
        said = said or words
    if known:
        return known[0]
    raise ResourceError(
        f"clinicalStatus {', '.join(repr(c) for c in said) or '(no code)'} is no FHIR code "
        f"({', '.join(sorted(CLINICAL_STATUS_CODES))}): whether the condition is current cannot be told; not read"
    )


#: a year, or a month and year, that an abatementString says and nothing else ("2022", "in 2022", "03/2022",
#: "2022-03", «в 2022 г.», «2022 жылы», «2022 ж.»)
_ABATED_IN = re.compile(
    r"\s*(?:(?:in|since|from|resolved|ended|в|с)\s+)?(?:(?P<month>0?[1-9]|1[0-2])[./-])?(?P<year>(?:19|20)\d\d)"
    r"(?:-(?P<month2>0[1-9]|1[0-2]))?\s*(?:г\.?|года?|году|жылы|ж\.?)?\s*\.?\s*",
    re.IGNORECASE,
)


def _abated_in_words(said: Any) -> dt.date | None:
    """The last day of the year or month an abatementString names, or None: a confounder "resolved 2022" held
    until the end of 2022, not to a 2024 sample (probe100 D12: it counted, the normal VEGF low-grade)."""
    m = _ABATED_IN.fullmatch(said) if isinstance(said, str) and len(said) <= 40 else None
    if m is None:
        return None
    year, month = int(m["year"]), m["month"] or m["month2"]
    if month is None:
        return dt.date(year, 12, 31)
    first_of_next = dt.date(year + int(month) // 12, int(month) % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


#: words that make a transplant status no autologous transplant (an allogeneic, donor, cord-blood one)
_NOT_AUTOLOGOUS = re.compile(
    r"\ballo|алло|\bdonor|донор|haplo|гапло|cord blood|пуповин|syngene|сингенн|\b(?:m{1,2}ud|m{1,2}sd|urd)\b",
    re.IGNORECASE,
)
#: a year in a status's words ("s/p ASCT 2019"): the transplant's, when it is the only year named
_A_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def _transplant_status(
    raw: Raw, onset: dt.date | None, recorded: dt.date | None, mapping: CompiledMapping, out: Extraction
) -> bool:
    """A Condition coded as a transplant status (procedure rule ``status_of``, ICD-10-CM Z94.84): the transplant
    it says happened, as an event (probe128 D1: "no treatment recorded" for a patient "s/p ASCT 2019"). Its day:
    the onset when it precedes the recordedDate (the status begins with the transplant), else the one year its
    words name (on or before that date), else none - it happened before the recordedDate, listed as an input
    problem. Its type is unknown unless the words say so: an allogeneic or donor one is no autologous
    transplant. True when the Condition was such a status (nothing else is read from it)."""
    data = raw.data
    spec = next(
        (
            rule.spec
            for system, code, _ in codings(data.get("code"))
            for rule in mapping.rules_for(system, code)
            if rule.kind == "procedure" and getattr(rule.spec, "status_of", False) and rule.spec.event
        ),
        None,
    )
    if spec is None:
        return False
    words = " ".join(
        [concept_label(data.get("code"))]
        + [n["text"] for n in data.get("note") or [] if isinstance(n, dict) and isinstance(n.get("text"), str)]
    )
    if _NOT_AUTOLOGOUS.search(words):
        out.notes.append(
            ReadingNote("transplant_status", _ref(raw), spec.id, f"not an autologous transplant: {words!r}")
        )
        return True
    bound = recorded or onset
    years = {int(y) for y in _A_YEAR.findall(words)}
    day: dt.date | None
    if onset is not None and (recorded is None or onset < recorded):
        day, how = onset, f"dated by its onset, {onset.isoformat()}"
    elif len(years) == 1 and (bound is None or min(years) <= bound.year):
        day = PartialDate(min(years), 1, 1, "year")
        how = f"dated by the year its words name, {day.year}"
    else:
        day, how = None, f"a transplant before {bound.isoformat() if bound else 'an unknown day'}, its day not known"
    label = f"{concept_label(data.get('code')) or spec.id} (a transplant status: {how}; type not stated)"
    out.notes.append(ReadingNote("transplant_status", _ref(raw), spec.id, f"{label}: {words!r}"))
    if day is None:
        _undated_treatment(raw, spec.id, spec.event or "", how, out)
    elif getattr(day, "precision", None) == "year":
        out.errors.append(
            SourceError(
                raw.origin,
                f"a transplant known only to its year ({how}); used for the response only where every result it "
                "reads is certainly before or after that year - give --baseline DATE for the day",
                raw.ref,
            )
        )
    out.events.append(Event(spec.event or "", day, _ref(raw), label, status="completed"))
    return True


def _abated_before_onset(data: dict[str, Any]) -> str | None:
    """A Condition whose abatement date precedes its onset date (each as precise as written), said in words."""
    onset = data.get("onsetDateTime") or (data.get("onsetPeriod") or {}).get("start")
    abated = data.get("abatementDateTime") or (data.get("abatementPeriod") or {}).get("start")
    if not isinstance(onset, str) or not isinstance(abated, str) or not before(abated, onset):
        return None
    return (
        f"abatement {abated} is before onset {onset}: one of the dates is wrong; the condition is read, "
        "as abated on an unknown date - correct the dates"
    )


def _condition(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    verification = _verification(data)
    if verification == "entered-in-error":
        return
    onset = None
    if data.get("onsetDateTime") is not None:
        onset = parse_date(data["onsetDateTime"], "onsetDateTime")
    elif isinstance(data.get("onsetPeriod"), dict):
        onset = parse_date(data["onsetPeriod"].get("start"), "onsetPeriod.start")
    elif isinstance(data.get("onsetAge"), dict):
        onset = _onset_at_age(data["onsetAge"], record.birth_date)
    recorded = parse_date(data.get("recordedDate"), "recordedDate")
    clinical = _clinical_status(data)
    resolved_on = None
    if clinical in ("resolved", "inactive", "remission"):
        resolved_on = (
            parse_date(data.get("abatementDateTime"), "abatementDateTime")
            or parse_date((data.get("abatementPeriod") or {}).get("start"), "abatementPeriod.start")
            or _abated_in_words(data.get("abatementString"))
        )
    if (contradiction := _abated_before_onset(data)) is not None:
        # the diagnosis stands (a clinician recorded it); one of its dates is wrong and which cannot be told:
        # read as abated on an unknown date, the problem listed (probe99 D6: read without a word)
        out.errors.append(SourceError(raw.origin, contradiction, raw.ref))
        resolved_on = None
    if verification != "refuted" and _transplant_status(raw, onset, recorded, mapping, out):
        return
    supporting = _evidence_details(data, record)
    rules = [r for s, c, _ in codings(data.get("code")) for r in mapping.rules_for(s, c) if r.kind == "condition"]
    if not rules and verification != "refuted":
        rules = _broader_condition_rules(raw, data, mapping, out)
    folded = _lookalike_code(raw, data.get("code"), mapping, rules[0].spec.id if rules else None, out)
    text = concept_label(data.get("code"))
    said: tuple[str, str] | None = None  # the clinician's words to read, and where they stand
    label = _poems_label(data.get("code"), rules, mapping)
    if label is not None and (label.stance == "asserted" or not label.words):
        # a POEMS label is no evidence of any criterion (criteria.md §3.3), whatever codes carry it: the ICD
        # codes of a problem-list "POEMS syndrome" (D47.2, G63 …) code the label, not a clone or a neuropathy
        # found (probe124 D1: D47.2 "POEMS syndrome" made the clone present, the patient `met`); a POEMS
        # excluded and nothing else is not even the clinician's assertion (probe125 R12)
        rules = [] if label.stance == "denied" else [_POEMS_ASSERTION]
        # a finding named before the label in the clinician's words ("Polyneuropathy in POEMS syndrome") is
        # that finding (probe110 D9: the organomegaly was lost); the label itself stays no evidence
        if label.words:
            said = (label.words, label.where)
    elif label is not None:
        # POEMS only asked about or denied beside a finding ("Suspected POEMS; MGUS IgA lambda", "Polyneuropathy
        # (rule out POEMS)", "MGUS, POEMS excluded"): no POEMS diagnosis, so the codes stay the findings they code
        # and the other words are read (probe125 R1, R12); a doubted POEMS stays the clinician's provisional
        # assertion (criteria.md §3.3), a denied one is none
        findings = [r for r in rules if r.spec.topic != "clinician_poems_assertion"]
        rules = findings + ([_POEMS_ASSERTION] if label.stance == "doubted" else [])
        if not findings:  # the clinician's words are all there is
            said = (label.words, label.where)
        elif verification in (None, "confirmed") and _QUALIFIED_NAME.match(label.words) and len(label.words) <= 120:
            said = (label.words, label.where)  # a denial of what the code states, as _own_words reads it
    elif not rules and _uncoded(data.get("code")):  # the clinician's words are all there is
        said = (concept_text(data.get("code")), "code.text")
    elif not rules and (local := _local_coding(data.get("code"), mapping)) is not None:
        # a problem list in the site's own codes ("IDA" "Iron deficiency anaemia"): its name is read as
        # the clinician's words, like code.text alone (a standard code no rule holds is another concept)
        said = (concept_label(data.get("code")), f"the name of local code {local}")
    elif rules and verification in (None, "confirmed") and _own_words(data.get("code")):
        # the clinician's words beside the code: read for a denial of what the code states ("Polyneuropathy
        # ruled out" on G62.9, probe86 D2) - coded_wins drops what merely repeats the code
        said = (_own_words(data.get("code")), "code.text")
    if said is not None:
        _queue_text(
            raw, mapping, out, said[0], said[1], "condition", onset or recorded,
            verification=verification, supporting=supporting, resolved_on=resolved_on,
        )  # fmt: skip
    _queue_notes(raw, mapping, out, onset or recorded)
    # one finding per topic and part: two codings of one organ are one finding, but a Condition coding
    # both hepatomegaly and splenomegaly states two parts of organomegaly (criteria combine by part)
    seen: set[tuple[str, str | None]] = set()
    words = text[:MAX_NAME_CHARS]
    for rule in rules:
        spec: ConditionRule = rule.spec
        if spec.not_if_text and any(re.search(p, words, re.IGNORECASE) for p in spec.not_if_text):
            continue  # its own words name another concept under this code (a liver haemangioma)
        for topic in _condition_topics(spec):
            if (topic, spec.component) in seen:
                continue
            if verification == "refuted" and spec.refuted_denies is not None and topic not in spec.refuted_denies:
                continue  # "not CIDP" is no "not polyneuropathy"
            seen.add((topic, spec.component))
            state, strength, note = State.PRESENT, Strength.STRONG, None
            date = onset or recorded
            if verification == "refuted":
                state, date = State.ABSENT, recorded or onset
                strength, note = _evidence_chain(data, record, mapping, supporting, topic)
            elif verification in ("provisional", "differential", "unconfirmed"):
                state, note = (
                    State.INDETERMINATE,
                    f"{spec.id.replace('_', ' ')}: {verification} diagnosis, not confirmed",
                )
            elif topic in HISTOLOGY_ONLY and (imaging := _imaging_only(data, record, mapping, supporting)):
                state, note = (
                    State.INDETERMINATE,
                    f"{spec.id.replace('_', ' ')} recorded on imaging only ({', '.join(imaging)}): only a "
                    "lymph-node biopsy establishes it (criteria.md MAJ-3)",
                )
            until = resolved_on
            if spec.lasts_days is not None and until is None and date is not None and state is State.PRESENT:
                # an acute illness or a bleed with no abatement stated: held to last the mapping's window
                until = add_days(date, spec.lasts_days)
            status = f", {clinical}" if clinical and clinical != "active" else ""
            summary = f"{text or spec.id} ({verification}{status}){folded}"
            evidence = Evidence(_ref(raw), date, summary, code=_first_code(data.get("code")), supporting=supporting)
            if topic == "clinician_poems_assertion":
                state = State.PRESENT  # the assertion exists whatever its verification status
            out.findings.append(
                Finding(
                    topic,
                    state,
                    evidence,
                    strength=strength,
                    note=note,
                    axis=spec.axis,
                    component=spec.component,
                    is_assertion=True,
                    source_rule=spec.id,
                    resolved_on=until,
                )
            )


def _onset_at_age(age: dict[str, Any], birth: str | None) -> dt.date | None:
    """A Condition's ``onsetAge`` as a date: the birth date plus the age - the earliest day the onset can
    have been (probe49 D8: "onset at 59" was no date, so under --as-of the diagnosis said "no data"). None
    without a birth date, a number or a known unit. An age no person reaches (negative, past 150 years) is
    a reported skip, as a negative result is (probe54 D2: it left the Condition undated, unreported)."""
    value, unit = age.get("value"), str(age.get("code") or age.get("unit") or "").strip().lower()
    step = AGE_UNITS.get(unit)
    if step is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        per: float = 365.25 if step == "years" else 30.44 if step == "months" else float(step)  # type: ignore[arg-type]
        days = value * per
        if not 0 <= days <= 150 * 366:  # NaN fails too
            raise ResourceError(
                f"onsetAge {value:g} {unit} is no age a person reaches (negative, or more than 150 years): "
                "fix the value"
            )
    try:
        born = parse_date(birth, "Patient.birthDate")
    except ResourceError:
        return None
    if born is None or step is None or not isinstance(value, (int, float)):
        return None
    if step in ("years", "months"):
        months = int(value) * (12 if step == "years" else 1)
        onset = add_months(born, months)
        return None if onset == dt.date.max else onset  # past the calendar's end: no date
    assert isinstance(step, int)  # noqa: S101 - the day units
    return add_days(born, int(value * step))


def _lookalike_code(raw: Raw, concept: Any, mapping: CompiledMapping, rule_id: str | None, out: Extraction) -> str:
    """The evidence's word on an ICD-10 code read through a lookalike letter («С90.0» with a Cyrillic С
    read as C90.0, probe123 D5), noted for `mappings coverage` as a parent code is; "" when none was.
    The folding itself is CompiledMapping.canonical's: here it is only made visible. Nothing for a code
    no rule read (``rule_id`` None): it is unmapped whatever its letters."""
    if rule_id is None:
        return ""
    for system, code, _ in codings(concept):
        if not (system and code and has_code_lookalikes(code)):
            continue
        canonical_system, folded = mapping.canonical(system, code)
        if canonical_system in ICD10_SYSTEMS:
            said = f"code {code.strip()!r} read as {folded}: a letter of another script typed for its Latin lookalike"
            out.notes.append(ReadingNote("lookalike_code", _ref(raw), rule_id, f"{system}|{said}"))
            return f" [{said}]"
    return ""


def _broader_condition_rules(raw: Raw, data: dict[str, Any], mapping: CompiledMapping, out: Extraction) -> list[Rule]:
    """An ICD-10 code more specific than the table (a national extension, "G62.88") maps to its
    nearest mapped parent; the note makes it visible to `mappings coverage`."""
    for system, code, _ in codings(data.get("code")):
        rules = [r for r in mapping.broader_rules_for(system, code) if r.kind == "condition"]
        if rules:
            out.notes.append(
                ReadingNote("broader_code", _ref(raw), rules[0].spec.id, f"{system}|{code} read as its parent code")
            )
            return rules
    return []


def _evidence_chain(
    data: dict[str, Any], record: PatientRecord, mapping: CompiledMapping, supporting: tuple[str, ...], topic: str
) -> tuple[Strength, str | None]:
    """How strong a refutation of ``topic`` is, from the reports its evidence.detail points to.

    A refuted finding resting only on plain radiographs is a low-grade negative (criteria.md §6):
    indeterminate, not absent. Any strong modality (CT, PET-CT, MRI) among them keeps it strong. A report
    of imaging whose modality no rule names, or one not in the input, is low-grade where the modality
    decides, as the report read alone is (probe81 D3: a refutation citing a "Bone survey" was `absent`).
    """
    weak: list[str] = []
    unknown: list[str] = []
    partial: list[str] = []
    unread: list[str] = []
    for reference in supporting:
        target = record.resolve(reference, data)
        if target is None:
            if _may_be_a_report(reference, record) and _UNKNOWN_IMAGING.weak_on(topic):
                unknown.append(f"{reference} (not in the input)")
            continue
        if target.get("resourceType") != "DiagnosticReport":
            continue
        # a report withdrawn, cancelled or with no result yet, or whose status is no FHIR code (listed "not
        # read"), is no test: a refutation resting on it rests on nothing read (probe81 L5: a whole-body CT
        # of status "Ｐatient/x", not read, still made MAJ-4 `absent`)
        try:
            no_result = _no_result(target)
        except ResourceError:
            no_result = True
        if no_result:
            unread.append(f"{reference} (status {str(target.get('status'))[:40]!r})")
            continue
        if unknown_modifier(target, mapping.understood_modifiers) is not None:  # not read (probe99 D2), here too
            unread.append(f"{reference} (a modifier extension not understood)")
            continue
        modality = _modality(target, mapping)
        if modality is None and not _is_pathology(target) and _is_imaging(target):
            modality = _UNKNOWN_IMAGING  # as _diagnostic_report reads it alone
        if modality is None and not _is_pathology(target):
            continue  # an ultrasound, a lab panel: no test of these criteria, it does not weigh
        # a head CT for bone lesions, a marrow biopsy for Castleman disease
        verdict = _inadequate_negatives(target, record, mapping).get(topic)
        if modality is not None and modality.weak_on(topic):
            (unknown if modality is _UNKNOWN_IMAGING else weak).append(f"{reference} ({modality.id})")
        elif verdict is not None:
            partial.append(f"{reference} ({verdict[1]})")
        elif modality is not None:
            return Strength.STRONG, None
    if weak:
        return Strength.WEAK, (
            f"refuted on {', '.join(weak + unknown + partial)} only: a plain radiograph is low-grade evidence "
            "of absence (small sclerotic lesions are missed); CT-based imaging needed"
        )
    if unknown:
        return Strength.WEAK, (
            f"refuted on {', '.join(unknown + partial)} only: which test it was is not known (a low-grade "
            "negative); CT-based whole-body imaging decides"
        )
    if partial:
        return Strength.WEAK, f"refuted on {', '.join(partial)} only: a low-grade negative (criteria.md §6)"
    if unread:
        return Strength.WEAK, (
            f"refuted on {', '.join(unread)} only: a report not read (withdrawn, without a result, its status "
            "cannot be told, or it carries a modifier extension not understood) - a low-grade negative"
        )
    return Strength.STRONG, None


def _may_be_a_report(reference: str, record: PatientRecord) -> bool:
    """Whether a detail not in the input may be a report: "DiagnosticReport/..." or a reference whose type
    cannot be told (a urn:uuid); a contained one ("#x") that is not there is none."""
    if reference.startswith("#"):
        return False
    key = record.index.canonical(reference) or ""
    return key.startswith("DiagnosticReport/") or "/" not in key


#: criteria a diagnosis establishes only by histology (criteria.md §2 MAJ-3: "Only biopsy establishes
#: it; imaging lymphadenopathy ≠ Castleman")
HISTOLOGY_ONLY = frozenset({"castleman_disease"})


def _imaging_only(
    data: dict[str, Any], record: PatientRecord, mapping: CompiledMapping, supporting: tuple[str, ...]
) -> list[str]:
    """The imaging reports a diagnosis names as its evidence when they are all it names: every
    ``evidence.detail`` resolves to a DiagnosticReport that is imaging and no pathology (probe49 D3: a
    "confirmed" Castleman disease resting on a CT that "suggests Castleman disease" made the patient
    "met"). Empty when a detail is a biopsy, another kind of resource, or not in the input - the
    clinician's statement then stands as written."""
    shown: list[str] = []
    for reference in supporting:
        target = record.resolve(reference, data)
        if not target or target.get("resourceType") != "DiagnosticReport" or _is_pathology(target):
            return []
        modality = _modality(target, mapping)
        if modality is None and not _is_imaging(target):
            return []
        shown.append(f"{reference} ({modality.id if modality else 'imaging'})")
    return shown


def _first_code(concept: Any) -> str | None:
    for system, code, _ in codings(concept):
        if system and code:
            return f"{system}|{code}"
    return None


def _evidence_details(data: dict[str, Any], record: PatientRecord) -> tuple[str, ...]:
    """The references of ``evidence.detail`` to cite beside the Condition: never one that resolves to
    another patient's resource (or one skipped) - ``record.resolve`` lists it - which the write-back
    would otherwise name in this patient's Provenance. One not in the input at all is the Condition's
    own statement, cited as it stands."""
    refs = []
    for ev in data.get("evidence") or []:
        for detail in (ev or {}).get("detail") or []:  # a non-object: a malformed resource, reported
            ref = detail.get("reference") if isinstance(detail, dict) else None
            if not isinstance(ref, str) or not ref:
                continue
            key = ref if ref.startswith("#") else record.index.canonical(ref)
            if record.resolve(ref, data) is None and key is not None and record.index.lookup(key) is not None:
                continue  # another patient's (or a skipped) resource: refused and listed by resolve
            refs.append(ref)
    return tuple(refs)


# ---------------------------------------------------------------- Procedure


def _procedure(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    status = treatment_status(data)  # "NOT-DONE" is not done; a blank or unknown status is a reported skip
    if status in ("not-done", "entered-in-error"):
        return  # "preparation" is kept: a planned transplant triggers the engraftment alert
    date = end = None
    if data.get("performedDateTime") is not None:
        date = parse_date(data["performedDateTime"], "performedDateTime")
    elif isinstance(data.get("performedPeriod"), dict):
        period = data["performedPeriod"]
        date = parse_date(period.get("start"), "performedPeriod.start")
        # a course (radiotherapy) is completed on its period's end: the pathway's windows count from it
        end = parse_date(period.get("end"), "performedPeriod.end")
    # a procedure's note says what it found ("Dilated fundoscopy: bilateral disc swelling", probe107 D13)
    _queue_notes(raw, mapping, out, date or end)
    spec: ProcedureRule | None = next(
        (
            rule.spec
            for system, code, _ in codings(data.get("code"))
            for rule in mapping.rules_for(system, code)
            if rule.kind == "procedure" and (rule.spec.event or rule.spec.topic)
        ),
        None,
    )
    if spec is not None:
        _lookalike_code(raw, data.get("code"), mapping, spec.id, out)
    if spec is None:  # named only in words: the first rule (in file order) whose text matches
        name = concept_text(data.get("code"))
        spec = next((s for pattern, s in mapping.procedure_text if (s.event or s.topic) and pattern.search(name)), None)
    if spec is not None and spec.topic and not spec.event:
        _procedure_fact(raw, spec, date, end, out)
        return
    if spec is not None and spec.event:
        if spec.event in TREATMENT_KINDS and (
            other := _other_indication(data, record, mapping) or _other_site(data, spec.id, mapping)
        ):
            out.notes.append(
                ReadingNote("other_indication", _ref(raw), spec.id, f"not a treatment of the clone: {other}")
            )
            return
        label = concept_label(data.get("code")) or spec.id
        if date is None and end is None:
            date, label = _performed_in_words(raw, spec.id, spec.event, label, out)
        out.events.append(Event(spec.event, date or end, _ref(raw), label, end=end, status=status))


def _procedure_fact(raw: Raw, spec: ProcedureRule, date: dt.date | None, end: dt.date | None, out: Extraction) -> None:
    """A procedure that is a fact for the criteria (a transfusion, criteria.md §6 MIN-6): a finding of its
    topic from its day to the end of the mapping's window after it (probe98 D3). Undated, or not done yet
    (in preparation), it places nothing."""
    if date is None and end is None or treatment_status(raw.data) in _NOT_GIVEN_YET:
        return
    start = date or end
    last = end or date
    label = concept_label(raw.data.get("code")) or spec.id
    out.findings.append(
        Finding(
            spec.topic or "",
            State.PRESENT,
            Evidence(_ref(raw), start, label, code=_first_code(raw.data.get("code"))),
            component=spec.component,
            source_rule=spec.id,
            resolved_on=add_days(last, spec.lasts_days or 0) if last else None,
        )
    )


#: statuses of a treatment not (yet) given: its missing date misses nothing on the timeline
_NOT_GIVEN_YET = frozenset({"preparation", "planned", "draft"})


def _performed_in_words(raw: Raw, rule_id: str, kind: str, label: str, out: Extraction) -> tuple[dt.date | None, str]:
    """A Procedure dated by no FHIR date: a ``performedString`` naming one month or day for sure is read
    as that date (a month as its first day, as partial dates are) and the label says so; else a treatment
    is reported undated (probe79 D8: "February 2024" was dropped in silence, the response said "no
    treatment recorded"). (date, label)."""
    text = raw.data.get("performedString")
    if not isinstance(text, str):
        said = next((f"performed[x] is {k} (no date)" for k in _PERFORMED_OTHER if k in raw.data), "no performed[x]")
        _undated_treatment(raw, rule_id, kind, said, out)
        return None, label
    day = date_in_words(text)
    if day is None and kind in YEAR_ONLY_KINDS and (year := year_alone(text)) is not None:
        return _year_only_treatment(raw, rule_id, kind, f"performedString {text!r}", year, label, out)
    if day is None:
        _undated_treatment(raw, rule_id, kind, f"performedString {text!r}", out)
        return None, label
    shown = f"{day.year:04d}-{day.month:02d}" if getattr(day, "precision", None) == "month" else day.isoformat()
    read_as = f"performedString {text!r} read as {shown}"
    if shown != day.isoformat():
        read_as += f" (a partial date: counted from its first day, {day.isoformat()})"
    out.notes.append(ReadingNote("date_in_words", _ref(raw), rule_id, read_as))
    return day, f"{label} ({read_as})"


#: treatments a year alone dates (probe128 D7): a transplant is one day, so the results of the years before and
#: after it are certainly before and after it; the response uses the year only where no result it reads lies
#: within it (criteria.response). A course of drugs is not: its start moves by up to eleven months.
YEAR_ONLY_KINDS = frozenset({"autologous_hsct"})

#: a text that is a year and nothing else: "2019", "in 2019", «в 2019 г.», «2019 году», «2019 жылы», «2019 ж.»
_YEAR_ALONE = re.compile(
    r"\s*(?:(?:in|в|во)\s+)?(?P<year>(?:19|20)\d\d)\s*(?:г\.?|года?|году|жылы|ж\.?)?\s*\.?\s*", re.I
)


def year_alone(text: str) -> PartialDate | None:
    """The year ``text`` names and nothing else, as a year-precision date; else None."""
    m = _YEAR_ALONE.fullmatch(text) if len(text) <= 40 else None
    return PartialDate(int(m["year"]), 1, 1, "year") if m else None


def _year_only_treatment(
    raw: Raw, rule_id: str, kind: str, said: str, year: PartialDate, label: str, out: Extraction
) -> tuple[dt.date, str]:
    """A transplant known only to its year: placed in that year (its last day for every window, as a
    radiotherapy known to its year is), the input problem still listed - the response is assessed only
    where the order of its results against the year is certain (probe128 D7)."""
    detail = (
        f"a treatment known only to its year: {said}; read as {year.year}, used for the response only where "
        "every result it reads is certainly before or after that year - give --baseline DATE (or a FHIR date) "
        "for the day"
    )
    out.errors.append(SourceError(raw.origin, detail, raw.ref))
    out.notes.append(ReadingNote("date_in_words", _ref(raw), rule_id, f"{said} read as {year.year} (a year)"))
    return year, f"{label} ({said} read as {year.year}: known only to its year)"


#: the other performed[x] types of an R4 Procedure: an age or a range of ages is no day on the timeline
_PERFORMED_OTHER = ("performedAge", "performedRange")


def _undated_treatment(raw: Raw, rule_id: str, kind: str, said: str, out: Extraction) -> None:
    """A treatment given on no readable day: listed (an input problem naming it, and in `mappings
    coverage`), not dropped in silence - it exists but cannot be placed on the timeline (probe79 D8)."""
    if kind not in TREATMENT_KINDS or treatment_status(raw.data) in _NOT_GIVEN_YET:
        return
    if any(n.kind == "undated_treatment" and n.reference == _ref(raw) for n in out.notes):
        return  # a regimen's agents are one resource: said once
    detail = (
        f"a treatment with no readable date: {said}; it cannot be placed on the timeline, so the response "
        "is not assessed from it - give --baseline DATE (or a FHIR date in the resource)"
    )
    out.errors.append(SourceError(raw.origin, detail, raw.ref))
    out.notes.append(ReadingNote("undated_treatment", _ref(raw), rule_id, detail))


# ---------------------------------------------------------------- medications

#: statuses of a medication never given: a statement's "intended", an administration's "not-done"
_MED_IGNORED = {"entered-in-error", "cancelled", "not-taken", "draft", "intended", "not-done", "declined"}
#: MedicationRequest intents that are no order to give it: a suggestion or a plan (probe35: a proposal
#: started the response clock)
_MED_NOT_ORDERED = {"proposal", "plan", "option"}


def _medication(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    if treatment_status(data) in _MED_IGNORED:  # "NOT-TAKEN" was not taken; a blank status is a reported skip
        return
    if data.get("resourceType") == "MedicationRequest" and request_intent(data) in _MED_NOT_ORDERED:
        return  # a blank intent is no order either: a reported skip (it was read as one)
    if data.get("doNotPerform") is True:
        return  # an order NOT to give it (an R4 modifier: probe140 D3 read it as given, "Given: lenalidomide")
    concept = data.get("medicationCodeableConcept")
    ref = data.get("medicationReference")
    medication: dict[str, Any] | None = None
    if concept is None and isinstance(ref, dict):
        medication = record.resolve(ref.get("reference"), data)
        if medication is not None and (modified := unknown_modifier(medication, mapping.understood_modifiers)):
            raise ResourceError(f"the Medication it names ({ref.get('reference')}) is not read: {modified}")
        concept = (medication or {}).get("code") or ({"text": ref.get("display")} if ref.get("display") else None)
    if not isinstance(concept, dict):
        return
    rule = next(
        (r.spec for s, c, _ in codings(concept) for r in mapping.rules_for(s, c) if r.kind == "medication"), None
    )
    rules = [rule] if rule is not None else _medications_named(concept_text(concept), mapping)
    for rule in rules:
        _medication_event(raw, rule, concept, medication, record, mapping, out)


#: where each medication resource says when it was given: named when none does
_MEDICATION_DATES = {
    "MedicationStatement": "no effective[x]",
    "MedicationAdministration": "no effective[x]",
    "MedicationRequest": "no authoredOn, dosage timing or dispense validity period",
}


def _medications_named(text: str, mapping: CompiledMapping) -> list[MedicationRule]:
    """Every agent a medication's words name, in file order: a regimen written as one order
    ("Bortezomib, lenalidomide, dexamethasone (VRd)") gives each of its agents (probe42: only the
    first was read, so bortezomib's neurotoxicity caution stayed unproposed)."""
    found: list[MedicationRule] = []
    for pattern, spec in mapping.medication_text:
        if all(f.id != spec.id for f in found) and pattern.search(text):
            found.append(spec)
    return found


def _medication_event(
    raw: Raw,
    rule: MedicationRule,
    concept: dict[str, Any],
    medication: dict[str, Any] | None,
    record: PatientRecord,
    mapping: CompiledMapping,
    out: Extraction,
) -> None:
    data = raw.data
    event = rule.event
    if event is None:
        return
    local = _local_route(data, concept, medication, mapping)
    if local is not None and event == "treatment":
        out.notes.append(ReadingNote("local_route", _ref(raw), rule.id, f"not a treatment of the clone: {local}"))
        return
    if event in TREATMENT_KINDS and (other := _other_indication(data, record, mapping)) is not None:
        out.notes.append(ReadingNote("other_indication", _ref(raw), rule.id, f"not a treatment of the clone: {other}"))
        return
    start = end = None
    for name in ("effectiveDateTime", "authoredOn"):
        if data.get(name):
            start = parse_date(data[name], name)
            break
    if data.get("resourceType") == "MedicationRequest":
        # when the order says to start (its dosage's timing bounds), not when it was written
        start = _dosage_start(data) or start
    period = data.get("effectivePeriod") or (data.get("dispenseRequest") or {}).get("validityPeriod")
    if isinstance(period, dict):
        start = start or parse_date(period.get("start"), "effectivePeriod.start")
        end = parse_date(period.get("end"), "effectivePeriod.end")
    if end is None and data.get("resourceType") == "MedicationRequest":
        end = _dosage_end(data)  # the order's own last day (probe35: a stopped course stayed "given")
    if end is None and data.get("resourceType") == "MedicationAdministration" and data.get("effectiveDateTime"):
        end = start  # one dose, given that day
    if start is None and end is None:  # probe79 D8: the same silent gap as an undated Procedure
        _undated_treatment(raw, rule.id, event, _MEDICATION_DATES.get(data.get("resourceType", ""), "no date"), out)
    out.events.append(
        Event(
            event,
            start,
            _ref(raw),
            concept_label(concept) or rule.id,
            agent=rule.id,
            end=end,
            neurotoxic=rule.neurotoxic,
            status=treatment_status(data),
        )
    )


def _other_indication(data: dict[str, Any], record: PatientRecord, mapping: CompiledMapping) -> str | None:
    """What a treatment was given for when its stated reasons (``reasonCode``, ``reasonReference``)
    all name another disease - dexamethasone for COVID-19, radiotherapy of a prostate cancer - else
    None. A reason is POEMS-related when a code of it is one the mapping knows or its words hold a
    target's key word (neuropathy, plasma cell, myeloma, Castleman, oedema, ...); a reason that
    cannot be read (an unresolved reference without a display) may be one, so the treatment counts."""
    reasons: list[Any] = list(_as_list(data.get("reasonCode")))
    for ref in _as_list(data.get("reasonReference")):
        target = record.resolve(ref.get("reference"), data) if isinstance(ref, dict) else None
        if target is not None:
            reasons.append(target.get("code"))
        elif isinstance(ref, dict) and isinstance(ref.get("display"), str) and ref["display"].strip():
            reasons.append({"text": ref["display"]})
        else:
            return None
    if not reasons:
        return None
    names = []
    for concept in reasons:
        coded = [(system, code) for system, code, _ in codings(concept) if system and code]
        text = concept_text(concept)
        if not coded and not text.strip():
            return None  # a reason that says nothing
        if any(
            _poems_rules(mapping.rules_for(system, code) or mapping.broader_rules_for(system, code))
            for system, code in coded
        ):
            return None
        if _POEMS_TEXT.search(text) or mapping.text.could_matter_beyond(text, _other_disease_targets(mapping)):
            return None  # POEMS by name, or a word of a POEMS concept (not of another disease's words)
        names.append(concept_label(concept) or f"{coded[0][0]}|{coded[0][1]}")
    return "given for " + "; ".join(names)


def _poems_rules(rules: list[Rule]) -> bool:
    """Whether rules speak of POEMS: an acute illness or a bleed (a context of a test, not a POEMS concept,
    probe98) is another disease a treatment can be given for (a steroid for COVID-19 pneumonia), and so is a
    VEGF confounder (a COPD, a prostate cancer: probe100 D4 mapped the cancers)."""
    return any(not (r.kind == "condition" and r.spec.topic in _OTHER_DISEASES) for r in rules)


#: condition topics that are another disease than POEMS: a treatment given for one is no treatment of the clone
_OTHER_DISEASES = CONTEXT_TOPICS | {Differential.VEGF_CONFOUNDER.value}


def _other_disease_targets(mapping: CompiledMapping) -> frozenset[str]:
    """The text targets (condition rule ids) whose words name another disease (``_OTHER_DISEASES``)."""
    return frozenset(rid for rid, rule in mapping.conditions.items() if rule.topic in _OTHER_DISEASES)


def _other_site(data: dict[str, Any], rule_id: str, mapping: CompiledMapping) -> str | None:
    """The organ a treatment with no stated reason was aimed at, when that organ is one the clone's
    treatment does not target (mapping ``other_sites``: "radiotherapy, prostate", a breast
    irradiation; probe42) and neither its name nor its body sites name bone or a plasmacytoma
    (``clone_sites``); None otherwise. A stated reason decides instead (``_other_indication``)."""
    patterns = mapping.procedure_sites.get(rule_id)
    if patterns is None or data.get("reasonCode") or data.get("reasonReference"):
        return None
    other, clone = patterns
    names = [concept_text(data.get("code"))] + [concept_text(site) for site in _as_list(data.get("bodySite"))]
    said = " | ".join(name for name in names if name.strip())
    if (found := other.search(said)) is None or (clone is not None and clone.search(said)):
        return None
    return f"aimed at the {found.group(0).strip()} (no stated reason)"


def _as_list(value: Any) -> list[Any]:
    """A repeating element as a list (one object sent where FHIR has a list is read as the list of it)."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def _companions_alone(out: Extraction, mapping: CompiledMapping) -> None:
    """A companion agent (dexamethasone: criteria.md §10 2d, "corticosteroids alone only temporising")
    given before any other treatment of the clone starts nothing: a course for COVID-19 or CIDP years
    earlier made every later negative test "after treatment" (probe42). Such events are dropped and
    listed; beside or after another treatment they are part of its regimen."""
    companions = mapping.companion_agents
    if not companions:
        return
    starts = [
        e.effective
        for e in out.events
        if e.kind in TREATMENT_KINDS
        and e.agent not in companions
        and e.effective
        and e.status not in ("preparation", "planned")
    ]
    first = min(starts, default=None)
    alone = [
        e
        for e in out.events
        if e.kind in TREATMENT_KINDS
        and e.agent in companions
        and e.effective
        and (first is None or e.effective < first)
    ]
    if not alone:
        return
    dropped = {id(e) for e in alone}  # by identity: one pass, not a list search per event
    out.events[:] = [e for e in out.events if id(e) not in dropped]
    _negatives_during(out, alone)
    kept = {e.reference for e in out.events} | {f.evidence.reference for f in out.findings}
    kept |= {c.reference for f in out.findings for c in f.context}  # the course a negative is low-grade by
    kept |= {m.reference for m in out.measurements}
    for e in alone:
        out.notes.append(
            ReadingNote(
                "companion_alone",
                e.reference,
                e.agent,
                f"not a treatment of the clone: {e.summary} on {e.effective} came before any other treatment "
                "of the clone (a corticosteroid alone only temporises)",
            )
        )
        if e.reference not in kept:  # nothing else of it was used: the Provenance does not cite it
            out.used.pop(e.reference, None)


def _negatives_during(out: Extraction, courses: list[Event]) -> None:
    """A normal VEGF measured during a corticosteroid course given alone is a low-grade negative (probe86
    D5: dexamethasone from Feb 20 to Apr 1, plasma VEGF 150 on Mar 15, `absent`, the patient `not_met`):
    criteria.md §10 2d counts corticosteroids alone as temporising therapy, and a negative during a therapy
    may reflect it (as after treatment began); §6 makes a VEGF with a known confounder a low-grade negative."""
    vegf = Criterion.VEGF_ELEVATION.value
    for i, f in enumerate(out.findings):
        if f.topic != vegf or f.state is not State.ABSENT or f.effective is None:
            continue
        during = next((e for e in courses if e.effective and e.effective <= f.effective <= _course_end(e)), None)
        if during is None:
            continue
        until = (
            f" to {during.end}"
            if during.end and during.end != during.effective
            else ", still running"
            if _course_end(during) == dt.date.max
            else ""
        )
        out.findings[i] = replace(
            f,
            strength=Strength.WEAK,
            note=(
                f"{f.evidence.summary} was measured during {during.summary} (from {during.effective}{until}), a "
                "corticosteroid given alone, which criteria.md §10 2d counts as temporising therapy: a normal "
                "VEGF then may reflect it - a low-grade negative (§6)"
            ),
            context=(Evidence(during.reference, during.effective, during.summary),),
            retest="corticosteroid",
        )


def _course_end(e: Event) -> dt.date:
    """The last day a course can be running on: its stated end; a course stated running with no end yet
    (active, in progress, on hold) runs on (probe88 D17); else its one day."""
    if e.end is not None:
        return e.end
    return dt.date.max if e.status in ("active", "in-progress", "on-hold") else e.effective or dt.date.min


def _local_route(
    data: dict[str, Any], concept: dict[str, Any], medication: dict[str, Any] | None, mapping: CompiledMapping
) -> str | None:
    """Why a medication was given only where it does not reach the clone (mapping ``local_routes``):
    every dosage route stated is a local one (eye drops, a cream), or, with no route stated, its name
    or form says so ("dexamethasone 0.1% ophthalmic solution"); None when it may be systemic."""
    dosages = data.get("dosage") if data.get("resourceType") != "MedicationRequest" else None
    if dosages is None:
        dosages = data.get("dosageInstruction")
    if isinstance(dosages, dict):  # MedicationAdministration.dosage is one element
        dosages = [dosages]
    routes = [d["route"] for d in dosages or [] if isinstance(d, dict) and isinstance(d.get("route"), dict)]
    if routes:
        named = [_route_name(route, mapping) for route in routes]
        return f"route {', '.join(n for n in named if n)}" if all(named) else None
    form = (medication or {}).get("form")
    for what in (concept, form):
        name = _route_name(what, mapping) if isinstance(what, dict) else None
        if name:
            return name
    return None


def _route_name(concept: dict[str, Any], mapping: CompiledMapping) -> str | None:
    """The words of ``concept`` when a code or word of it names a local route (mapping ``local_routes``)."""
    label = concept_label(concept) or concept_text(concept)
    for system, code, _ in codings(concept):
        if any(r.kind == "route" for r in mapping.rules_for(system, code)):
            return label or f"{system}|{code}"
    words = mapping.local_route_words
    text = concept_text(concept)
    return (label or text) if words is not None and text and words.search(text) else None


def _dosage_end(data: dict[str, Any]) -> dt.date | None:
    """The latest ``dosageInstruction[].timing.repeat.boundsPeriod.end`` of a MedicationRequest, when
    every dosage states one (an open-ended dosage keeps the order open)."""
    ends = []
    dosages = data.get("dosageInstruction")
    for i, dosage in enumerate(dosages if isinstance(dosages, list) else []):
        bounds: Any = dosage
        for element in ("timing", "repeat", "boundsPeriod"):
            bounds = bounds.get(element) if isinstance(bounds, dict) else None
        day = (
            parse_date(bounds["end"], f"dosageInstruction[{i}].timing.repeat.boundsPeriod.end")
            if isinstance(bounds, dict) and bounds.get("end")
            else None
        )
        if day is None:
            return None
        ends.append(day)
    return max(ends, default=None)


def _dosage_start(data: dict[str, Any]) -> dt.date | None:
    """The earliest ``dosageInstruction[].timing.repeat.boundsPeriod.start`` of a MedicationRequest:
    the day therapy is to begin, which ``authoredOn`` (when the order was written) often precedes by
    days - a baseline sample drawn in between is still before treatment."""
    starts = []
    dosages = data.get("dosageInstruction")
    for i, dosage in enumerate(dosages if isinstance(dosages, list) else []):
        bounds: Any = dosage
        for element in ("timing", "repeat", "boundsPeriod"):  # any other shape: no start stated
            bounds = bounds.get(element) if isinstance(bounds, dict) else None
        if isinstance(bounds, dict) and bounds.get("start"):
            day = parse_date(bounds["start"], f"dosageInstruction[{i}].timing.repeat.boundsPeriod.start")
            if day:
                starts.append(day)
    return min(starts, default=None)


# ---------------------------------------------------------------- DiagnosticReport


def _modality(data: dict[str, Any], mapping: CompiledMapping) -> ModalityRule | None:
    for system, code, _ in codings(data.get("code")):
        for rule in mapping.rules_for(system, code):
            if rule.kind == "modality":
                return rule.spec
    name = concept_text(data.get("code")).lower()
    if _pathology_result(data, name):
        # probe132 D1: "SURGICAL PATHOLOGY - BONE, T11 VERTEBRAL LESION, CT-GUIDED BIOPSY" named the imaging that
        # guided the needle; read as a CT, its "plasma cell neoplasm, lambda-restricted" (histology only) was lost
        name = _IMAGE_GUIDANCE.sub(" ", name)
    return mapping.modality_by_text(name)


#: the imaging that guided a needle or a resection, named in a pathology report's name: "CT-guided",
#: "US-guided", "under ultrasound guidance", "fluoroscopy-guided", «под контролем КТ/УЗИ», «под УЗ-навигацией»;
#: Kazakh «КТ бақылауымен» UNVERIFIED (not seen in real reports)
_IMAGE_GUIDANCE = re.compile(
    r"\b[\w/-]+(?:\s+|-)?guided\b"
    r"|\b(?:under|with|using)\s+(?:[\w/-]+\s+){1,2}(?:guidance|control|navigation)\b"
    r"|\b[\w/-]+\s+guidance\b"
    r"|под\s+(?:контролем|навигацией|наведением)\s+(?:[\w/-]+(?:\s+|$)){1,2}"
    r"|под\s+[\w/-]+[\s-]*(?:навигацией|наведением|контролем)"
    r"|[\w/-]+\s+бақылау\w*"
)


def _pathology_result(data: dict[str, Any], name: str) -> bool:
    """Whether a report is pathology's result before it is imaging: its category is a pathology section,
    or, with no imaging category, its name says pathology, histology or biopsy. An interventional
    radiology report ("CT-guided biopsy", category RAD) stays the imaging it is filed as."""
    codes, words = _category(data)
    if codes & _PATHOLOGY_SECTIONS or _PATHOLOGY_WORDS.search(words):
        return True
    return not _is_imaging(data) and _PATHOLOGY_WORDS.search(name) is not None


def _diagnostic_report(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    if _no_result(data):
        return
    if not _names_a_test(data.get("code")) and not str(raw.ref).startswith("DocumentReference/"):
        # code is 1..1 in R4 (a DocumentReference's type, read as the code here, is 0..1): a report naming no study was read in silence (probe140 D15); its words still speak
        out.errors.append(
            SourceError(
                raw.origin,
                "DiagnosticReport has no code (DiagnosticReport.code: no coding, text or display): which study it "
                "reports cannot be told - its text is read without it (an imaging report's modality unknown, its "
                "negatives low-grade); send the report's code",
                raw.ref,
            )
        )
    modality = _modality(data, mapping)
    date = _effective(data)
    if (done := _reported_procedure(data, mapping)) is not None and done.event:
        # the report of a procedure is the record that it was done (a nerve-conduction study)
        out.events.append(Event(done.event, date, _ref(raw), concept_label(data.get("code")) or done.id))
    if modality is None and not _is_pathology(data) and _is_imaging(data):
        # an imaging report whose modality no rule names ("Бүкіл дененің компьютерлік томографиясы"): its
        # findings are read, its negatives are low-grade - which modality tested is not known (probe39: it
        # was dropped without a word, a positive sclerotic-lesion report included)
        modality = _UNKNOWN_IMAGING
        out.notes.append(
            ReadingNote(
                "unknown_modality",
                _ref(raw),
                None,
                f"{concept_label(data.get('code')) or 'imaging report'}: modality not recognised - findings read, "
                "negatives low-grade; name it under `modalities` (keywords) in the site mapping",
            )
        )
    kind = "imaging" if modality else ("histology" if _is_pathology(data) else None)
    if kind is None:
        texts = _report_texts_reported(raw, out, record.unread_binaries)
        parser_decided = _ife_report(raw, record, mapping, out, texts)
        # a letter is no test of what only a named kind of report tests (papilloedema: the eye)
        inadequate = _inadequate_negatives(data, record, mapping, texts) if _any_text_matters(texts, mapping) else None
        if parser_decided:  # the immunofixation parser's reading of its report is the clone's, not the text engine's
            clone = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
            inadequate = {**(inadequate or {}), clone: ("ignore_all", "read by the immunofixation parser")}
        # a procedure's report (a nerve conduction study) is a study: its "History:" is the referrer's (probe105 D11)
        _report_texts(raw, texts, mapping, out, "report", date, None, None, inadequate, study=done is not None)
        return  # laboratory panels: their result Observations are read on their own
    label = concept_label(data.get("code")) or "report"
    seen: set[tuple[str, str | None]] = set()  # per topic and part, as for a Condition
    for system, code, _ in codings_list(data.get("conclusionCode")):
        for rule in mapping.rules_for(system, code):
            if rule.kind != "condition" or not _source_ok(rule.spec, kind):
                continue
            for topic in _condition_topics(rule.spec):
                if (topic, rule.spec.component) not in seen:
                    seen.add((topic, rule.spec.component))
                    out.findings.append(
                        Finding(
                            topic,
                            State.PRESENT,
                            Evidence(
                                _ref(raw), date, f"{label}: {rule.spec.id.replace('_', ' ')}", code=f"{system}|{code}"
                            ),
                            source_rule=rule.spec.id,
                            component=rule.spec.component,
                        )
                    )
    # the report's words are read beside its codes: coded_wins drops what only repeats a code, self_conflicts
    # keeps what denies or doubts it (probe86 D1, probe88 D9, D10)
    coded = any(
        r.kind == "condition" for sy, c, _ in codings_list(data.get("conclusionCode")) for r in mapping.rules_for(sy, c)
    )
    # decoded once: the adequacy check and the text engine read them
    texts = _report_texts_reported(raw, out, record.unread_binaries)
    if not any(t.strip() for _, t in texts) and not coded:  # a blank conclusion says nothing (probe76 D16)
        _unread_report(raw, kind, out, record.unread_binaries)
    inadequate = _inadequate_negatives(data, record, mapping, texts) if _any_text_matters(texts, mapping) else None
    weak = modality is not None and modality.strength == "weak"
    weak_note = (
        (
            "excluded by imaging of an unrecognised modality only: which test it was is not known (a low-grade "
            "negative); CT-based whole-body imaging decides"
            if modality is _UNKNOWN_IMAGING
            else f"excluded by {modality.id if modality else 'imaging'} only: plain radiographs "
            "miss small sclerotic lesions; CT-based imaging needed"
        )
        if weak
        else None
    )
    _report_texts(raw, texts, mapping, out, kind, date, weak_note, modality if weak else None, inadequate, study=True)


def _any_text_matters(texts: list[tuple[str, str]], mapping: CompiledMapping) -> bool:
    """Whether the text engine will read any of a report's texts: only then are its negatives judged
    (``_inadequate_negatives`` searches the whole text; most reports say nothing of any criterion)."""
    return any(mapping.text.could_matter(text) for _, text in texts)


def _report_name(data: dict[str, Any], record: PatientRecord) -> str:
    """What a report says it is: its code's text and displays, and its specimens' types."""
    parts = [concept_text(data.get("code"))]
    for ref in data.get("specimen") or []:
        if not isinstance(ref, dict):
            continue
        if isinstance(ref.get("display"), str):
            parts.append(ref["display"])
        specimen = record.resolve(ref.get("reference"), data) if isinstance(ref.get("reference"), str) else None
        if isinstance(specimen, dict):
            parts.append(concept_text(specimen.get("type")))
    return " ".join(p for p in parts if p)


def _texts_of(
    data: dict[str, Any], problems: list[str] | None = None, unread: Mapping[str, BinaryMiss] | None = None
) -> list[tuple[str, str]]:
    """A report's readable texts as (where, text): its conclusion and each text presentedForm (plain
    text in its charset, or HTML; one that is not text is left out). Why a text attachment could not
    be read goes to ``problems``, with a Binary named by url that was not read (``unread``: not in the input)."""
    conclusion = data.get("conclusion")
    out = []
    if isinstance(conclusion, str):
        # HTML markup in the conclusion (a table of "No" rows read its header as a present finding,
        # probe87 D8) is read as an HTML attachment is: cells a tab apart, rows and blocks sentences
        out.append(("conclusion", html_text(conclusion, MAX_TEXT_CHARS) if marked_up(conclusion) else conclusion))
    forms = list(enumerate(data.get("presentedForm") or []))
    # FHIR R4: "Multiple formats are allowed but they SHALL be semantically equivalent" - one report as HTML and
    # RTF is read once, the most readable format that gives a text (probe133 R3: each finding cited twice)
    alternatives = [(i, f) for i, f in forms if isinstance(f, dict) and f.get("data") and format_rank(f) < 9]
    if len(alternatives) > 1:
        forms = sorted(alternatives, key=lambda item: format_rank(item[1]))
    blank: list[str] = []
    for i, form in forms:
        if len(alternatives) > 1 and any(where.startswith("presentedForm") for where, _ in out):
            break  # one format read: the others say the same
        if problems is not None and (miss := _unlisted_miss(form, unread)) is not None:  # probe138 G5
            problems.append(f"presentedForm[{i}]: {miss.why}; its text is not read: what it says counts as no data")
            continue
        try:
            read = read_attachment(form, MAX_TEXT_CHARS) if isinstance(form, dict) else None
        except UnreadableAttachment as exc:
            if problems is not None:
                problems.append(f"presentedForm[{i}]: {exc}")
            continue
        text = read.text if read is not None else None
        if read is not None and problems is not None:
            # read, but not all of it as sent (a PDF's pages past the bound, bytes replaced): listed
            problems += [f"presentedForm[{i}]: {said}" for said in (read.unread, read.decoding) if said is not None]
        if read is not None and read.cut_at is not None:
            # HTML parsed only until its text passed the bound: always listed, with the page's own length
            # (its text's is not known without parsing it all); probe87 D6: cut without a word, or listed
            # with the length of the part parsed
            text, said = _sentence_head(read.text)
            if problems is not None:
                problems.append(
                    f"presentedForm[{i}]: {media_type(form)[0]} of {read.cut_at:,} characters with markup, more text "
                    f"than the {MAX_TEXT_CHARS:,} characters the text engine reads; {said}"
                )
        if text and text.strip():
            out.append((f"presentedForm[{i}]", text))
        elif read is not None:
            # probe136 D5: a blank rendition ("\n", tags only) is no reading - the next format is read, and a
            # report whose every format is blank is listed, never a silent "no data"
            blank.append(f"presentedForm[{i}]")
    if blank and problems is not None and not any(where.startswith("presentedForm") for where, _ in out):
        problems.append(
            f"{', '.join(blank)}: {'text is' if len(blank) == 1 else 'texts are'} blank (whitespace or markup only); "
            "nothing read - send the report's text"
        )
    return out


def _unread_report(raw: Raw, kind: str, out: Extraction, unread: Mapping[str, BinaryMiss] | None = None) -> None:
    """An imaging or pathology report whose findings are all in an attachment poems-fhir does not read
    (PDF, RTF, an image, one given only by ``url``): listed, never "no data" without a word (probe71 D18:
    a CT report given as RTF left the lesions it named "not assessed - no data", 0 input problems)."""
    forms = [f for f in raw.data.get("presentedForm") or [] if isinstance(f, dict)]
    if not forms or any(f.get("data") and readable(f) for f in forms):
        return  # no attachment, or a text one already listed as unreadable (charset, base64)
    if all(_unlisted_miss(f, unread) is not None for f in forms):
        return  # each a Binary not in the input: listed by _texts_of with what to do
    shown = _forms_shown(forms, "presentedForm[{}]", unread)
    out.errors.append(
        SourceError(
            raw.origin,
            f"{kind} report with no readable text: {shown} not read (poems-fhir reads the conclusion and text/plain, "
            "HTML, RTF or PDF attachments); its findings count as no data - send its text as the conclusion or a "
            "text/plain presentedForm",
            raw.ref,
        )
    )


def _forms_shown(forms: list[dict[str, Any]], where: str, unread: Mapping[str, BinaryMiss] | None = None) -> str:
    """Unread attachments as a problem names them: "presentedForm[0] application/pdf by url only" (``where`` the
    element's name with a ``{}`` for the index); probe76 D15: how it was given, not only its type. A Binary named by
    url that was not read says why and what to do (probe138 G5: "by url only" said neither)."""
    return ", ".join(
        f"{where.format(i)} " + (media_type(f)[0] or "without contentType") + _given(f, unread)
        for i, f in enumerate(forms)
    )


def _given(form: dict[str, Any], unread: Mapping[str, BinaryMiss] | None) -> str:
    if form.get("data"):
        return ""
    if not form.get("url"):
        return " with no data"
    miss = (unread or {}).get(str(form["url"]).strip())
    return f" by url ({miss.why})" if miss is not None else " by url only"


def _unlisted_miss(form: Any, unread: Mapping[str, BinaryMiss] | None) -> BinaryMiss | None:
    """The Binary a url-only attachment names, not read and not listed yet (not in the input), or None."""
    if not unread or not isinstance(form, dict) or form.get("data") or not form.get("url"):
        return None
    miss = unread.get(str(form["url"]).strip())
    return miss if miss is not None and not miss.listed else None


def _report_texts_reported(
    raw: Raw, out: Extraction, unread: Mapping[str, BinaryMiss] | None = None
) -> list[tuple[str, str]]:
    """``_texts_of`` of a report, each unreadable attachment listed under the extraction's errors."""
    problems: list[str] = []
    texts = _texts_of(raw.data, problems, unread)
    out.errors.extend(SourceError(raw.origin, problem, raw.ref) for problem in problems)
    return texts


def _inadequate_negatives(
    data: dict[str, Any], record: PatientRecord, mapping: CompiledMapping, texts: list[tuple[str, str]] | None = None
) -> dict[str, tuple[str, str]]:
    """Per criterion: ("weak" | "ignore" | "ignore_all", why) when this report's negative is no full test of it
    (mapping ``negative_tests``: a head CT for sclerotic lesions, a marrow biopsy for Castleman)."""
    if not mapping.negative_tests:
        return {}
    name = _report_name(data, record)
    text = "\n".join(t for _, t in (_texts_of(data) if texts is None else texts))
    out = {}
    for topic, test in mapping.negative_tests.items():
        verdict = test.judge(name, text)
        if verdict is not None:
            out[topic] = verdict
    return out


def _negative_note(topic: str, verdict: tuple[str, str], name: str) -> str:
    effect, why = verdict
    what = topic.replace("_", " ")
    if effect == "weak":
        return f"{what} excluded on {name or 'this report'} only: {why}; a low-grade negative (criteria.md §6)"
    return f"{what}: {why} (criteria.md §6)"


#: what a report's own result needs of it to be read as an Observation of its code
_REPORT_RESULT_FIELDS = ("status", "code", "subject", "effectiveDateTime", "effectivePeriod", "issued")


def _ife_report(
    raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction, texts: list[tuple[str, str]]
) -> bool:
    """An immunofixation report that gives its result only in words - its conclusion ("Serum immunofixation:
    IgG kappa.", "Иммунофиксация: выявлен моноклональный IgG-λ") or a text presentedForm (``texts``, as
    ``_texts_of`` decoded them): the first the parser reads, the conclusion before the attachments, is read as
    the result of an Observation of the report's code, with the immunofixation parser (the text engine knows
    no band without the word "monoclonal", nor its light chain). A text the parser does not read is left to
    the text engine, as every text of the report also is; the evidence cites the report. (probe119 D10: a
    presentedForm went to the text engine only - «Выявлен IgA лямбда.» was "no data", "IgA lambda band
    detected." a band without the parser's reading of it.) Returns True where the parser decided what the report
    says of the clone - a band it reads, or that the text names only others' bands, a relative's or a condition's
    (`ife.others_bands`): the text engine's reading of the same words is then not the clone's evidence (probe121 D1,
    D4: «Науқастың ұлында IgA лямбда анықталды», "… in his half-brother" were the patient's band through the text
    engine; D3, D6: "Immunofixation requested for suspected POEMS: IgA lambda band detected.", "IgA lambda
    (monoclonal band), free kappa not detected." were `indeterminate`, the text engine doubting the parser's band).
    So does this result's clone stated with no band named beside only another test's, specimen's or time's negative
    ("Monoclonal protein present. Bence Jones protein: negative.": a positive result, its isotype not stated - the
    text engine read the urine's Bence Jones negative against the clone; fix123b). A negative or a doubt of the
    parser's leaves the text engine's reading beside it, as before (probe122 D2: a secondary negative was the
    whole result)."""
    data = raw.data
    conclusion = data.get("conclusion")
    # the conclusion as written (today's reading of it), then each attachment's text
    candidates = [conclusion] if isinstance(conclusion, str) else []
    candidates += [text for where, text in texts if where != "conclusion"]
    candidates = [c for c in candidates if c.strip()]
    if not candidates:
        return False
    coded = codings(data.get("code"))
    rules = [r for s, c, _ in coded for r in mapping.rules_for(s, c) if r.kind == "observation"]
    if not rules:
        rules = list(mapping.observation_rules_by_text(concept_label(data.get("code"))))
    if not any(r.spec.role == "immunofixation" for r in rules):
        return False
    readings = ((c, parse_ife(c, cues=mapping.ife_cues)) for c in candidates)
    result, parsed = next(((c, r) for c, r in readings if r.parsed), (None, None))
    if result is None or parsed is None:
        return any(others_bands(c, cues=mapping.ife_cues) for c in candidates)
    virtual = {k: data[k] for k in _REPORT_RESULT_FIELDS if k in data}
    virtual.update(resourceType="Observation", valueString=result)
    specimens = data.get("specimen")
    if isinstance(specimens, list) and len(specimens) == 1:  # a report lists specimens, a result has one
        virtual["specimen"] = specimens[0]
    _observation(Raw(virtual, raw.origin, raw.ref or f"DiagnosticReport/{data.get('id')}"), record, mapping, out)
    # ... or this result's clone stated with no band named beside another test's negative (fix123b): the text
    # engine read "Bence Jones protein: negative" against it
    return bool(parsed.bands or parsed.untyped)


def _reported_procedure(data: dict[str, Any], mapping: CompiledMapping) -> ProcedureRule | None:
    """The procedure (of a rule with ``reports: true``) a report's code names, by code or by name."""
    for system, code, _ in codings(data.get("code")):
        for rule in mapping.rules_for(system, code):
            if rule.kind == "procedure" and rule.spec.reports:
                return rule.spec  # type: ignore[no-any-return]
    name = concept_text(data.get("code"))
    return next((s for pattern, s in mapping.procedure_text if s.reports and pattern.search(name)), None)


def _report_texts(
    raw: Raw,
    texts: list[tuple[str, str]],
    mapping: CompiledMapping,
    out: Extraction,
    kind: str,
    date: dt.date | None,
    weak_note: str | None,
    weak_modality: ModalityRule | None,
    inadequate: dict[str, tuple[str, str]] | None = None,
    study: bool = False,
) -> None:
    """A report's texts (``_texts_of``) go to the text engine (mapping/text)."""
    data = raw.data
    name = concept_label(data.get("code"))
    weak: dict[str, Any] = {"weak_note": weak_note, "weak_modality": weak_modality, "study": study}
    if study:  # which specimens: two nodes excised the same day are two sites (probe115 D3)
        weak["specimens"] = tuple(
            str(s["reference"]) for s in data.get("specimen") or [] if isinstance(s, dict) and s.get("reference")
        )
    if inadequate:
        weak["inadequate"] = {t: (v[0], _negative_note(t, v, name)) for t, v in inadequate.items()}
    for source, text in texts:
        _queue_text(raw, mapping, out, text, source, kind, date, **weak)


def codings_list(concepts: Any) -> list[tuple[str | None, str | None, str | None]]:
    return [c for concept in concepts or [] for c in codings(concept)]


#: HL7 v2 table 0074 sections of pathology: SP surgical pathology, PAT pathology, CP cytopathology
_PATHOLOGY_SECTIONS = {"sp", "pat", "path", "cp"}
_PATHOLOGY_WORDS = re.compile(
    r"patholog|histolog|biops|cytolog|immunohisto|патолог|гистолог|биопс|биоптат|цитолог|иммуногистохим|\bигх\b"
)


#: imaging sections of the report category: HL7 v2 table 0074 (RAD, CT, MR/NMR, nuclear medicine,
#: ultrasound, X-ray), LOINC's Radiology part, and their words
_IMAGING_SECTIONS = {"rad", "ct", "nmr", "nms", "mr", "us", "vus", "rus", "xrc", "cus", "img", "lp29684-5"}
_IMAGING_WORDS = re.compile(r"radiolog|imaging|рентген|лучев|радиолог|визуализац|сәулелік")
#: its negatives are low-grade where the modality decides (a bone lesion needs CT-based imaging); an
#: effusion or an organ size any imaging tests
_UNKNOWN_IMAGING = ModalityRule(
    id="imaging of an unrecognised modality", strength="weak", weak_for=["sclerotic_bone_lesions"]
)


def _category(data: dict[str, Any]) -> tuple[set[str], str]:
    """A report's category as its codes (lower case) and its words (displays and text, lower case)."""
    concepts = [c for c in data.get("category") or [] if isinstance(c, dict)]
    # case and spaces forgiven (probe140 D10: " PAT " was no pathology section, its Castleman histology dropped)
    codes = {(c or "").strip().lower() for concept in concepts for _, c, _ in codings(concept)}
    words = " ".join(d or "" for concept in concepts for _, _, d in codings(concept))
    words += " " + " ".join(str(c.get("text") or "") for c in concepts)
    return codes, words.lower()


def _is_imaging(data: dict[str, Any]) -> bool:
    codes, words = _category(data)
    return bool(codes & _IMAGING_SECTIONS) or _IMAGING_WORDS.search(words) is not None


def _is_pathology(data: dict[str, Any]) -> bool:
    codes, words = _category(data)
    return bool(codes & _PATHOLOGY_SECTIONS) or (
        _PATHOLOGY_WORDS.search(f"{words} {concept_text(data.get('code')).lower()}") is not None
    )


def _source_ok(rule: ConditionRule, kind: str) -> bool:
    return rule.report_source in ("any", kind)


def _document_reference(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    """A DocumentReference (a clinical note, or an imaging or pathology report as US Core exposes it): read as
    the report it carries (mapping/documents.py), unless withdrawn, replaced or the same attachment as a
    report's; cited as the document itself."""
    if out.documents is None:
        out.documents = index_documents(record)
    try:
        skip = skip_reason(raw.data, raw.ref, out.documents)
    except DocumentError as exc:
        raise ResourceError(str(exc)) from None
    if raw.ref in out.documents.link_problems:  # probe136 D7, D9: a link to itself or round a ring, ignored
        out.errors.append(SourceError(raw.origin, out.documents.link_problems[raw.ref], raw.ref))
    if skip is not None:
        if skip.kind != "withdrawn":
            by = f" by {skip.by}" if skip.by else ""
            out.notes.append(ReadingNote(skip.kind, _ref(raw), None, f"not read: {skip.kind}{by} ({skip.why})"))
        return
    view = report_view(raw.data)
    errors_before = len(out.errors)
    if not _texts_of(view) and not any(
        isinstance(f, dict) and f.get("data") and readable(f) for f in view["presentedForm"]
    ):
        # nothing readable (a PDF, RTF, an image, a Binary given by url only): listed, never "no data" silently
        forms = view["presentedForm"]
        shown = _forms_shown(forms, "content[{}].attachment", record.unread_binaries)
        out.errors.append(
            SourceError(
                raw.origin,
                f"document with no readable text: {shown or 'no content'} not read (poems-fhir reads text/plain, "
                "HTML, RTF and PDF attachments given inline as data, and the text Binary an attachment names by url from the "
                "configured server or from the input that carries it); what it says counts as no data",
                raw.ref,
            )
        )
        view = {**view, "presentedForm": []}  # listed once, here, not again as a report's attachment
    jobs_before = len(out.text_jobs)
    _diagnostic_report(Raw(view, raw.origin, raw.ref), record, mapping, out)
    for i in range(jobs_before, len(out.text_jobs)):  # "(from report text, content[0].attachment)"
        job = out.text_jobs[i]
        out.text_jobs[i] = replace(job, source=document_wording(job.source))
    for i in range(errors_before, len(out.errors)):
        error = out.errors[i]
        out.errors[i] = replace(error, message=document_wording(error.message))


_HANDLERS = {
    "Observation": _observation,
    "Condition": _condition,
    "Procedure": _procedure,
    "DiagnosticReport": _diagnostic_report,
    "DocumentReference": _document_reference,
    "MedicationRequest": _medication,
    "MedicationAdministration": _medication,
    "MedicationStatement": _medication,
}
