"""Turn one patient's raw FHIR resources into findings, measurements and events.

Knows FHIR JSON shapes and terminology; knows nothing of HTTP. Which rules apply to a resource is
one dict lookup per coding (rules.CompiledMapping.rules_for).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..criteria.model import Criterion, Evidence, Finding, State, Strength
from ..criteria.timeline import CourseAssessment, Event, Measurement
from ..fhir.read import PatientRecord, Raw, SourceError, internal_error
from .ife import parse_ife
from .rules import CompiledMapping, ConditionRule, ModalityRule, ObservationRule, Rule
from .values import (
    ABNORMAL,
    ABNORMAL_HIGH,
    ABNORMAL_LOW,
    NEGATIVE,
    NORMAL,
    POSITIVE,
    Range,
    ResourceError,
    Value,
    compare,
    codings,
    concept_label,
    concept_text,
    interpretation_codes,
    parse_date,
    quantity,
    reference_range,
)

SNOMED = "http://snomed.info/sct"
SCT_POSITIVE = {"10828004", "260373001"}  # Positive, Detected
SCT_NEGATIVE = {"260385009", "260415000"}  # Negative, Not detected
SCT_SERUM, SCT_PLASMA = "119364003", "119361006"
IGNORED_STATUS = {"entered-in-error", "cancelled"}
VERIFICATION_SYSTEM_CODES = {"confirmed", "provisional", "differential", "refuted",
                             "unconfirmed", "entered-in-error"}
_POEMS_TEXT = re.compile(r"\bpoems\b", re.IGNORECASE)


@dataclass
class Extraction:
    findings: list[Finding] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    course: list[CourseAssessment] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    #: the source resources that contributed anything, "Type/id" -> meta.versionId (or None)
    used: dict[str, str | None] = field(default_factory=dict)


def extract(record: PatientRecord, mapping: CompiledMapping) -> Extraction:
    out = Extraction()
    for raw in record.resources:
        handler = _HANDLERS.get(raw.data["resourceType"])
        if handler is None:
            continue
        before = (len(out.findings), len(out.measurements), len(out.events), len(out.course))
        try:
            handler(raw, record, mapping, out)
        except ResourceError as exc:
            # drop anything half-extracted from this resource, report it, go on
            del out.findings[before[0]:], out.measurements[before[1]:], out.events[before[2]:]
            del out.course[before[3]:]
            out.errors.append(SourceError(raw.origin, str(exc), raw.ref))
            continue
        except Exception as exc:  # last resort: a bug must cost this resource only, never the run
            del out.findings[before[0]:], out.measurements[before[1]:], out.events[before[2]:]
            del out.course[before[3]:]
            out.errors.append(internal_error(raw.origin, raw.ref, exc))
            continue
        if (len(out.findings), len(out.measurements), len(out.events), len(out.course)) != before and raw.ref:
            out.used[raw.ref] = (raw.data.get("meta") or {}).get("versionId")
    return out


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


def _observation(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    if data.get("status") in IGNORED_STATUS:
        return
    parts: list[tuple[dict[str, Any], str]] = [(data, "")]
    for i, comp in enumerate(data.get("component") or []):
        if isinstance(comp, dict):
            parts.append((comp, f"component[{i}]."))
    # Most observations (vitals, panels) match no rule: find matches before reading anything else.
    matches = []
    for part, prefix in parts:
        applied: set[str] = set()  # a local and a LOINC coding of one concept count once
        for system, code, _ in codings(part.get("code")):
            for rule in mapping.rules_for(system, code):
                if rule.spec.id not in applied:
                    applied.add(rule.spec.id)
                    matches.append((part, prefix, rule, f"{system}|{code}"))
    if not matches:
        return
    effective = _effective(data)
    for part, prefix, rule, code in matches:
        ctx = _Ctx(raw, record, mapping, out, effective, part, prefix, code, rule.spec.id)
        if rule.kind == "observation":
            _apply_observation_rule(ctx, rule.spec)
        elif rule.kind == "condition":
            _exam_finding(ctx, rule.spec)
        elif rule.kind == "course":
            _course(ctx, rule.spec)


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

    def evidence(self, summary: str, value: Value | None = None) -> Evidence:
        return Evidence(
            reference=_ref(self.raw),
            effective=self.effective,
            summary=summary,
            value=round(value.value, 4) if value else None,
            unit=value.unit if value else None,
            code=self.code,
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
    label = rule.id.replace("_", " ")
    reason = _absent_reason(ctx.part)
    if reason is not None:
        topic = _rule_topic(rule)
        if topic:
            ctx.finding(topic, State.NOT_ASSESSED, f"{label}: not available ({reason})", axis=rule.axis)
        return
    handler = _ROLE_HANDLERS[rule.role or "measurement"]
    handler(ctx, rule)


def _numeric(ctx: _Ctx, rule: ObservationRule) -> Value:
    part, m = ctx.part, ctx.mapping
    element = ctx.prefix + "value"
    if "valueQuantity" in part:
        return quantity(part["valueQuantity"], element + "Quantity", rule.unit, m.unit_aliases, rule.molar_mass)
    if "valueInteger" in part:
        if rule.unit and rule.unit not in ("1", "{ratio}"):
            raise ResourceError(f"{element}Integer has no unit (expected {rule.unit}); not guessed")
        return Value(float(part["valueInteger"]), rule.unit)
    if "valueRatio" in part:
        ratio = part["valueRatio"]
        num = quantity(ratio.get("numerator"), element + "Ratio.numerator", None, m.unit_aliases)
        den = quantity(ratio.get("denominator"), element + "Ratio.denominator", None, m.unit_aliases)
        if den.value == 0:
            raise ResourceError(f"{element}Ratio has a zero denominator")
        if not math.isfinite(num.value / den.value):
            raise ResourceError(f"{element}Ratio is out of range (numerator / denominator overflows)")
        return Value(num.value / den.value, rule.unit or "{ratio}")
    present = [k for k in part if k.startswith("value")]
    raise ResourceError(
        f"{element}: expected a Quantity for {rule.id}, found {present[0] if present else 'no value'}"
    )


def _record(ctx: _Ctx, rule: ObservationRule, value: Value, specimen: str | None = None) -> None:
    ctx.out.measurements.append(Measurement(
        analyte=rule.id, value=value.value, unit=value.unit, effective=ctx.effective,
        reference=_ref(ctx.raw), specimen=specimen or rule.specimen, comparator=value.comparator,
    ))


def _range(ctx: _Ctx, rule: ObservationRule) -> Range | None:
    return reference_range(ctx.part, rule.unit, ctx.mapping.unit_aliases, rule.molar_mass)


def _fmt(value: Value) -> str:
    comp = value.comparator or ""
    return f"{comp}{value.value:g} {value.unit or ''}".strip()


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


def _immunofixation(ctx: _Ctx, rule: ObservationRule) -> None:
    topic = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
    specimen = rule.specimen or "serum"
    positive, text = _coded_result(ctx.part)
    parsed = parse_ife(text) if text else None
    detected = bool(parsed and parsed.bands) or (positive is True)
    if detected or positive is False or (parsed and parsed.negative):
        # 1 = a monoclonal protein detected, 0 = negative: the response timeline needs both
        _record(ctx, rule, Value(1.0 if detected else 0.0, None))
    if parsed and parsed.bands:
        for band in parsed.bands:
            ctx.finding(topic, State.PRESENT, f"{specimen} immunofixation: {band.label()}",
                        heavy_chain=band.heavy_chain, light_chain=band.light_chain)
        return
    if positive is False or (parsed and parsed.negative):
        ctx.finding(topic, State.ABSENT, f"{specimen} immunofixation negative")
        return
    if positive is True:
        ctx.finding(topic, State.PRESENT, f"{specimen} immunofixation positive (isotype not stated)")
        return
    raise ResourceError(
        f"unrecognised immunofixation result {text!r}: expected e.g. 'IgA lambda' or 'negative'"
    )


def _m_protein(ctx: _Ctx, rule: ObservationRule) -> None:
    topic = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
    specimen = rule.specimen or "serum"
    if "valueQuantity" not in ctx.part and not {"valueInteger", "valueRatio"} & ctx.part.keys():
        positive, text = _coded_result(ctx.part)
        if positive is None:
            raise ResourceError(f"M-protein result {text!r} is neither a quantity nor detected/not detected")
        state = State.PRESENT if positive else State.ABSENT
        ctx.finding(topic, state, f"{specimen} M-protein {'detected' if positive else 'not detected'}",
                    strength=Strength.STRONG if positive else Strength.WEAK,
                    note=None if positive else "electrophoresis only: may miss a small M-protein")
        return
    # electrophoresis may miss small M-proteins (criteria.md §6): a zero is a weak negative only
    _detected_or_weak_negative(ctx, rule, f"{specimen} M-protein", "electrophoresis only: may miss a small M-protein")


def _measurement(ctx: _Ctx, rule: ObservationRule) -> None:
    _record(ctx, rule, _numeric(ctx, rule))


def _flc_ratio(ctx: _Ctx, rule: ObservationRule) -> None:
    value = _numeric(ctx, rule)
    _record(ctx, rule, value)
    interp = interpretation_codes(ctx.part)
    rr = _range(ctx, rule)
    high = bool(interp & ABNORMAL_HIGH) or (rr is not None and rr.high is not None and value.value > rr.high)
    low = bool(interp & ABNORMAL_LOW) or (rr is not None and rr.low is not None and value.value < rr.low)
    # A normal ratio is usual in POEMS (criteria.md §4): it is not evidence of absence.
    if high or low:
        light = "kappa" if high else "lambda"
        ctx.finding(Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value, State.PRESENT,
                    f"abnormal FLC ratio {_fmt(value)} ({light} excess)", value, light_chain=light)


def _clonal_plasma_cells(ctx: _Ctx, rule: ObservationRule) -> None:
    _detected_or_weak_negative(ctx, rule, "clonal bone-marrow plasma cells",
                               "random marrow sample: a negative does not exclude a clone")


def _detected_or_weak_negative(ctx: _Ctx, rule: ObservationRule, label: str, why_weak: str) -> None:
    """A quantity > 0 shows the clone; zero is only a low-grade negative (``why_weak``)."""
    value = _numeric(ctx, rule)
    _record(ctx, rule, value)
    topic = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
    if compare(value, 0, ">") is True:
        ctx.finding(topic, State.PRESENT, f"{label} {_fmt(value)}", value)
    else:
        ctx.finding(topic, State.ABSENT, f"{label} {_fmt(value)}", value, strength=Strength.WEAK, note=why_weak)


def _bm_plasma_cells(ctx: _Ctx, rule: ObservationRule) -> None:
    value = _numeric(ctx, rule)
    _record(ctx, rule, value)
    for tid in _threshold_ids(rule.high, ctx.record.gender):
        thr = ctx.mapping.threshold(tid)
        if compare(value, thr.value, thr.operator) and rule.high_topic:
            ctx.finding(rule.high_topic, State.PRESENT,
                        f"bone-marrow plasma cells {_fmt(value)} ({thr.operator}{thr.value:g}{thr.unit})", value)


def _specimen(ctx: _Ctx) -> str | None:
    """Serum or plasma, from the referenced Specimen, or from local code text naming one only."""
    obs = ctx.raw.data
    ref = obs.get("specimen") if isinstance(obs.get("specimen"), dict) else None
    specimen = ctx.record.resolve(ref.get("reference"), obs) if ref else None
    texts = []
    if specimen:
        for system, code, _ in codings(specimen.get("type")):
            if system == SNOMED and code == SCT_SERUM:
                return "serum"
            if system == SNOMED and code == SCT_PLASMA:
                return "plasma"
        texts.append(concept_text(specimen.get("type")))
    if ref and ref.get("display"):
        texts.append(ref["display"])
    # "Serum or Plasma" (the LOINC display) names both and so decides nothing; a local
    # display such as "VEGF im EDTA-Plasma" names one.
    texts.append(concept_text(obs.get("code")))
    for text in texts:
        t = text.lower()
        if ("plasma" in t) != ("serum" in t):
            return "plasma" if "plasma" in t else "serum"
    return None


def _vegf(ctx: _Ctx, rule: ObservationRule) -> None:
    """MAJ-5 per specimen type (criteria.md §4 'Engine rule for MAJ-5')."""
    topic = Criterion.VEGF_ELEVATION.value
    value = _numeric(ctx, rule)
    specimen = _specimen(ctx)
    _record(ctx, rule, value, specimen)
    thr = ctx.mapping.thresholds
    plasma, serum = thr["vegf_plasma"], thr["vegf_serum"]
    rr = _range(ctx, rule)
    label = f"VEGF {_fmt(value)} ({specimen or 'specimen unknown'})"
    kw = {"specimen": specimen}
    if specimen is None:
        if compare(value, serum.value, serum.operator):
            ctx.finding(topic, State.PRESENT, label, value, **kw)
        elif compare(value, plasma.value, plasma.operator) is False:
            ctx.finding(topic, State.ABSENT, label, value, **kw)
        else:
            ctx.finding(topic, State.INDETERMINATE, label, value, **kw,
                        note="specimen type unknown and the value lies between the plasma and serum cut-offs")
        return
    cut = plasma if specimen == "plasma" else serum
    above = compare(value, cut.value, cut.operator)
    if above:
        ctx.finding(topic, State.PRESENT, f"{label} >= {cut.value:g} {cut.unit} cut-off", value, **kw)
    elif above is None:
        ctx.finding(topic, State.INDETERMINATE, label, value, **kw, note="censored value straddles the cut-off")
    elif rr is not None and rr.high is not None and value.value > rr.high:
        ctx.finding(topic, State.INDETERMINATE, label, value, **kw,
                    note=(f"above the lab's upper reference limit ({rr.high:g}) but below the "
                          f"{specimen} diagnostic cut-off ({cut.value:g} {cut.unit}); lab limits are "
                          "assay-specific, not diagnostic"))
    else:
        ctx.finding(topic, State.ABSENT, label, value, **kw)


def _threshold_ids(value: str | dict[str, str] | None, gender: str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if gender in value:
        return [value[gender]]
    return list(value.values())  # sex unknown: every sex-specific cut-off must agree


def _side(ctx: _Ctx, rule: ObservationRule, value: Value, rr: Range | None, high: bool) -> bool | None:
    """Is the value beyond the high (or low) limit? Lab range first when preferred; None = unknown."""
    interp = interpretation_codes(ctx.part)
    flags = ABNORMAL_HIGH if high else ABNORMAL_LOW
    if interp & flags:
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
    value = _numeric(ctx, rule)
    _record(ctx, rule, value)
    rr = _range(ctx, rule)
    name = rule.id.replace("_", " ")
    high = _side(ctx, rule, value, rr, high=True)
    low = _side(ctx, rule, value, rr, high=False) if (rule.low or rule.low_topic or rr) else None
    summary = f"{name} {_fmt(value)}"
    if rule.topic:
        if high:
            ctx.finding(rule.topic, State.PRESENT, summary + " (high)", value, component=rule.component)
        elif high is False:
            ctx.finding(rule.topic, State.ABSENT, summary, value, component=rule.component)
        # unknown: no limit to judge against -> no finding; the measurement is kept
    if rule.high_topic and high:
        ctx.finding(rule.high_topic, State.PRESENT, summary + " (high)", value)
    if rule.low_topic and low:
        ctx.finding(rule.low_topic, State.PRESENT, summary + " (low)", value)


def _endocrine(ctx: _Ctx, rule: ObservationRule) -> None:
    value = _numeric(ctx, rule)
    _record(ctx, rule, value)
    topic = Criterion.ENDOCRINOPATHY.value
    interp = interpretation_codes(ctx.part)
    rr = _range(ctx, rule)
    summary = f"{rule.id.replace('_', ' ')} {_fmt(value)} ({rule.axis.value if rule.axis else '?'} axis)"
    abnormal: bool | None
    if interp & ABNORMAL:
        abnormal = True
    elif rr is not None:
        abnormal = (rr.low is not None and value.value < rr.low) or (rr.high is not None and value.value > rr.high)
    elif interp & NORMAL:
        abnormal = False
    else:
        abnormal = None
    if abnormal is None:
        ctx.finding(topic, State.INDETERMINATE, summary, value, axis=rule.axis,
                    note=f"{rule.id}: no reference range or interpretation to judge the value")
    else:
        ctx.finding(topic, State.PRESENT if abnormal else State.ABSENT,
                    summary + (" abnormal" if abnormal else " normal"), value, axis=rule.axis)


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
    if positive is None and not any(k.startswith("value") for k in ctx.part):
        positive = True  # an asserted finding with no value: the finding itself was observed
    if positive is None:
        return
    label = rule.id.replace("_", " ")
    for topic in _condition_topics(rule):
        ctx.finding(topic, State.PRESENT if positive else State.ABSENT,
                    f"{label} {'present' if positive else 'absent'} on examination", axis=rule.axis,
                    component=rule.component)


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
    codes = [c for _, c, _ in codings(data.get("verificationStatus")) if c in VERIFICATION_SYSTEM_CODES]
    return codes[0] if codes else "confirmed"


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
    recorded = parse_date(data.get("recordedDate"), "recordedDate")
    clinical = [c for _, c, _ in codings(data.get("clinicalStatus")) if c]
    resolved_on = None
    if clinical and clinical[0] in ("resolved", "inactive", "remission"):
        resolved_on = parse_date(data.get("abatementDateTime"), "abatementDateTime") or (
            parse_date((data.get("abatementPeriod") or {}).get("start"), "abatementPeriod.start"))
    supporting = _evidence_details(data)
    rules = [r for s, c, _ in codings(data.get("code")) for r in mapping.rules_for(s, c) if r.kind == "condition"]
    text = concept_label(data.get("code"))
    if not rules and _POEMS_TEXT.search(concept_text(data.get("code"))):
        rules = [Rule("condition", ConditionRule(id="poems_clinician_diagnosis",
                                                 topic="clinician_poems_assertion"), "text")]
    seen: set[str] = set()
    for rule in rules:
        spec: ConditionRule = rule.spec
        for topic in _condition_topics(spec):
            if topic in seen:
                continue
            seen.add(topic)
            state, strength, note = State.PRESENT, Strength.STRONG, None
            date = onset or recorded
            if verification == "refuted":
                state, date = State.ABSENT, recorded or onset
            elif verification in ("provisional", "differential", "unconfirmed"):
                state, note = State.INDETERMINATE, f"{spec.id.replace('_', ' ')}: {verification} diagnosis, not confirmed"
            status = f", {clinical[0]}" if clinical and clinical[0] != "active" else ""
            summary = f"{text or spec.id} ({verification}{status})"
            evidence = Evidence(_ref(raw), date, summary, code=_first_code(data.get("code")),
                                supporting=supporting)
            if topic == "clinician_poems_assertion":
                state = State.PRESENT  # the assertion exists whatever its verification status
            out.findings.append(Finding(topic, state, evidence, strength=strength, note=note,
                                        axis=spec.axis, component=spec.component, is_assertion=True,
                                        source_rule=spec.id, resolved_on=resolved_on))


def _first_code(concept: Any) -> str | None:
    for system, code, _ in codings(concept):
        if system and code:
            return f"{system}|{code}"
    return None


def _evidence_details(data: dict[str, Any]) -> tuple[str, ...]:
    refs = []
    for ev in data.get("evidence") or []:
        for detail in (ev or {}).get("detail") or []:
            if isinstance(detail, dict) and detail.get("reference"):
                refs.append(detail["reference"])
    return tuple(refs)


# ---------------------------------------------------------------- Procedure


def _procedure(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    if data.get("status") in ("not-done", "entered-in-error", "unknown"):
        return  # "preparation" is kept: a planned transplant triggers the engraftment alert
    date = None
    if data.get("performedDateTime") is not None:
        date = parse_date(data["performedDateTime"], "performedDateTime")
    elif isinstance(data.get("performedPeriod"), dict):
        date = parse_date(data["performedPeriod"].get("start"), "performedPeriod.start")
    for system, code, _ in codings(data.get("code")):
        for rule in mapping.rules_for(system, code):
            if rule.kind == "procedure" and rule.spec.event:
                out.events.append(Event(rule.spec.event, date, _ref(raw),
                                        concept_label(data.get("code")) or rule.spec.id,
                                        status=data.get("status")))
                return


# ---------------------------------------------------------------- medications

_MED_IGNORED = {"entered-in-error", "cancelled", "not-taken", "draft"}


def _medication(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    if data.get("status") in _MED_IGNORED:
        return
    concept = data.get("medicationCodeableConcept")
    ref = data.get("medicationReference")
    if concept is None and isinstance(ref, dict):
        medication = record.resolve(ref.get("reference"), data)
        concept = (medication or {}).get("code") or ({"text": ref.get("display")} if ref.get("display") else None)
    if not isinstance(concept, dict):
        return
    rule = next((r.spec for s, c, _ in codings(concept) for r in mapping.rules_for(s, c) if r.kind == "medication"), None)
    if rule is None:
        text = concept_text(concept)
        rule = next((spec for pattern, spec in mapping.medication_text if pattern.search(text)), None)
    if rule is None or not rule.event:
        return
    start = end = None
    for name in ("effectiveDateTime", "authoredOn"):
        if data.get(name):
            start = parse_date(data[name], name)
            break
    period = data.get("effectivePeriod") or (data.get("dispenseRequest") or {}).get("validityPeriod")
    if isinstance(period, dict):
        start = start or parse_date(period.get("start"), "effectivePeriod.start")
        end = parse_date(period.get("end"), "effectivePeriod.end")
    out.events.append(Event(rule.event, start, _ref(raw), concept_label(concept) or rule.id, agent=rule.id,
                            end=end, neurotoxic=rule.neurotoxic, status=data.get("status")))


# ---------------------------------------------------------------- DiagnosticReport


def _modality(data: dict[str, Any], mapping: CompiledMapping) -> ModalityRule | None:
    for system, code, _ in codings(data.get("code")):
        for rule in mapping.rules_for(system, code):
            if rule.kind == "modality":
                return rule.spec
    text = concept_text(data.get("code")).lower()
    for modality in mapping.modalities:
        if any(re.search(k, text) for k in modality.keywords):
            return modality
    return None


def _diagnostic_report(raw: Raw, record: PatientRecord, mapping: CompiledMapping, out: Extraction) -> None:
    data = raw.data
    if data.get("status") in IGNORED_STATUS or data.get("status") == "registered":
        return
    modality = _modality(data, mapping)
    date = _effective(data)
    kind = "imaging" if modality else ("histology" if _is_pathology(data) else None)
    if kind is None:
        return  # laboratory panels: their result Observations are read on their own
    label = concept_label(data.get("code")) or "report"
    seen: set[str] = set()
    for system, code, _ in codings_list(data.get("conclusionCode")):
        for rule in mapping.rules_for(system, code):
            if rule.kind != "condition" or not _source_ok(rule.spec, kind):
                continue
            for topic in _condition_topics(rule.spec):
                if topic not in seen:
                    seen.add(topic)
                    out.findings.append(Finding(topic, State.PRESENT, Evidence(
                        _ref(raw), date, f"{label}: {rule.spec.id.replace('_', ' ')}",
                        code=f"{system}|{code}"), source_rule=rule.spec.id))
    conclusion = data.get("conclusion")
    if not isinstance(conclusion, str) or not conclusion:
        return
    weak = modality is not None and modality.strength == "weak"
    for present_re, absent_re, text_rule in mapping.condition_text:
        if not _source_ok(text_rule, kind) or text_rule.topic in seen:
            continue
        evidence = Evidence(_ref(raw), date, f"{label}: {conclusion.strip()[:160]}")
        if absent_re is not None and absent_re.search(conclusion):
            out.findings.append(Finding(
                text_rule.topic or "", State.ABSENT, evidence, source_rule=text_rule.id,
                strength=Strength.WEAK if weak else Strength.STRONG,
                note=(f"excluded by {modality.id if modality else 'imaging'} only: plain radiographs "
                      "miss small sclerotic lesions; CT-based imaging needed") if weak else None,
            ))
        elif present_re.search(conclusion):
            out.findings.append(Finding(text_rule.topic or "", State.PRESENT, evidence, source_rule=text_rule.id))


def codings_list(concepts: Any) -> list[tuple[str | None, str | None, str | None]]:
    return [c for concept in concepts or [] for c in codings(concept)]


def _is_pathology(data: dict[str, Any]) -> bool:
    cats = " ".join(
        f"{c or ''} {d or ''}" for concept in data.get("category") or [] for _, c, d in codings(concept)
    ).lower()
    text = concept_text(data.get("code")).lower()
    return any(k in cats for k in ("path", " sp", "cp ")) or bool(
        re.search(r"patholog|histolog|biops|cytolog", text)
    ) or cats.strip() in ("sp", "path")


def _source_ok(rule: ConditionRule, kind: str) -> bool:
    return rule.report_source in ("any", kind)


_HANDLERS = {
    "Observation": _observation,
    "Condition": _condition,
    "Procedure": _procedure,
    "DiagnosticReport": _diagnostic_report,
    "MedicationRequest": _medication,
    "MedicationAdministration": _medication,
    "MedicationStatement": _medication,
}
