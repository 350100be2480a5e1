# SPDX-License-Identifier: Apache-2.0
"""Evaluate findings against a rule profile, three-valued and honest about missing facts.

Pure functions: findings and a profile in, an Assessment out. ``as_of`` is a parameter, not the clock.
"""

from __future__ import annotations


import datetime as dt
from collections import defaultdict
from dataclasses import replace
from collections.abc import Iterable, Sequence
from functools import lru_cache

from .model import (
    ACUTE_ILLNESS,
    BLEEDING_OR_TRANSFUSION,
    CAVEAT_AXES,
    Assessment,
    Classification,
    Criterion,
    CriterionResult,
    Differential,
    EndocrineAxis,
    Evidence,
    Finding,
    Flag,
    MissingItem,
    Sign,
    State,
    Strength,
)
from .profiles import Profile, RuleGroup

#: Criteria that are "any of" their parts (criteria.md §2): present if any part is present,
#: absent only when every part was assessed absent, conflicting statements only within a part.
COMPONENTS: dict[str, tuple[str, ...]] = {
    Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value: ("thrombocytosis", "polycythemia"),
    Criterion.ORGANOMEGALY.value: ("liver", "spleen", "lymph_nodes"),
    Criterion.EXTRAVASCULAR_VOLUME_OVERLOAD.value: ("edema", "pleural_effusion", "ascites"),
    Criterion.SKIN_CHANGES.value: (
        "hyperpigmentation",
        "hypertrichosis",
        "hemangioma",
        "plethora",
        "acrocyanosis",
        "white_nails",
    ),
}

#: What to do to assess a criterion that is open (criteria.md §3.3, §6; seed_case.md §3 T0).
WORK_UP: dict[str, str] = {
    Criterion.POLYNEUROPATHY: "neurological examination and nerve conduction study / EMG",
    Criterion.MONOCLONAL_PLASMA_CELL_DISORDER: (
        "serum and urine immunofixation, serum free light chains; bone-marrow biopsy"
    ),
    Criterion.CASTLEMAN_DISEASE: "lymph-node biopsy for Castleman histology (imaging cannot establish it)",
    Criterion.SCLEROTIC_BONE_LESIONS: (
        "CT-based whole-body bone imaging or FDG PET-CT with bone-window review "
        "(a negative plain radiograph is low-grade evidence)"
    ),
    Criterion.VEGF_ELEVATION: ("VEGF, plasma preferred (send out if not available locally); record the specimen type"),
    Criterion.ORGANOMEGALY: "abdominal imaging for hepatosplenomegaly and lymphadenopathy",
    Criterion.EXTRAVASCULAR_VOLUME_OVERLOAD: "examination and imaging for edema, pleural effusion, ascites",
    Criterion.ENDOCRINOPATHY: (
        "endocrine axes: testosterone/estradiol, prolactin, cortisol, PTH, glucose/HbA1c, TSH/FT4"
    ),
    Criterion.SKIN_CHANGES: "skin examination (hyperpigmentation, hypertrichosis, hemangiomata, white nails)",
    Criterion.PAPILLEDEMA: "fundoscopy",
    Criterion.THROMBOCYTOSIS_POLYCYTHEMIA: "complete blood count with platelets",
}


#: the test to repeat, and when, for a criterion open only by a low-grade negative whose reason is known
#: (CriterionResult.retest; probe98 D8: "VEGF, plasma preferred" was proposed beside a running steroid)
RETEST: dict[tuple[str, str], str] = {
    (Criterion.VEGF_ELEVATION.value, "corticosteroid"): (
        "repeat VEGF (same specimen type, plasma preferred) once the corticosteroid has stopped"
    ),
    (Criterion.VEGF_ELEVATION.value, "confounder"): (
        "repeat VEGF (same specimen type, plasma preferred) away from the confounding condition (treated or "
        "controlled), and weigh the result against it"
    ),
    (Criterion.VEGF_ELEVATION.value, "acute_illness"): (
        "repeat VEGF (same specimen type, plasma preferred) after recovery from the acute illness"
    ),
    (Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value, "bleeding_or_transfusion"): (
        "repeat the complete blood count with platelets away from bleeding and transfusion"
    ),
    # an abnormal free-light-chain ratio with both immunofixations negative: they are done, the marrow decides
    (Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value, "ratio_only"): (
        "bone-marrow aspirate and biopsy with clonality (only the free-light-chain ratio is abnormal; serum and "
        "urine immunofixation negative)"
    ),
}


#: the test of one part of an "any of" criterion, proposed when it alone is not assessed (the others absent)
PART_WORK_UP: dict[tuple[str, str], str] = {
    (Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value, "polycythemia"): "haemoglobin and haematocrit (polycythaemia)",
}


def work_up(c: Criterion, r: CriterionResult) -> str:
    """What to do for an open criterion: repeat a low-grade negative once its reason is gone, test the one part
    not assessed (a platelet count on record: the haemoglobin and haematocrit only), else its whole work-up."""
    if r.retest and (r.criterion, r.retest) in RETEST:
        return RETEST[(r.criterion, r.retest)]
    if r.retest == "unread":  # a result on record that could not be read (mapping.extract.UnreadResult)
        return f"correct the result on record that could not be read (its unit or value) at the source, or repeat: {WORK_UP[c]}"
    if len(r.unassessed_parts) == 1 and (r.criterion, r.unassessed_parts[0]) in PART_WORK_UP:
        return PART_WORK_UP[(r.criterion, r.unassessed_parts[0])]
    return WORK_UP[c]


def evaluate(
    patient: str,
    findings: Iterable[Finding],
    profile: Profile,
    as_of: dt.date | None = None,
    treated_from: dt.date | None = None,
) -> Assessment:
    """Combine the findings of one patient into an Assessment under ``profile``.

    ``treated_from``: the first day of treatment. A test result that finds a criterion absent *after* it
    says nothing of the disease at diagnosis (a normal VEGF or a clear CT in remission is the response,
    criteria.md §3.3 "Time"): it leaves the criterion not assessed, with a note. A clinician's own
    refutation is a diagnostic statement and still counts."""
    by_topic: dict[str, list[Finding]] = defaultdict(list)
    assertions: list[Evidence] = []
    for f in findings:
        if not _in_time(f, as_of):
            continue
        if (
            treated_from is not None
            and f.state is State.ABSENT
            and not f.is_assertion
            and f.effective is not None
            and f.effective > treated_from
        ):
            f = _after_treatment(f, treated_from)
        if f.topic == "clinician_poems_assertion":
            assertions.append(f.evidence)
            continue
        by_topic[f.topic].append(f)
    low_grade_in_context(by_topic)

    criteria: dict[str, CriterionResult] = {}
    for cid in _CRITERION_IDS:
        if cid == _ENDOCRINOPATHY:
            criteria[cid] = _endocrinopathy(by_topic[cid], profile.endocrine_caveat)
        elif cid in COMPONENTS:
            criteria[cid] = _either(cid, by_topic[cid], COMPONENTS[cid])
        else:
            criteria[cid] = combine(cid, by_topic[cid])
    criteria[_MONOCLONAL] = _ratio_against_immunofixations(criteria[_MONOCLONAL], by_topic[_MONOCLONAL])

    signs = {sid: combine(sid, by_topic[sid]) for sid in _SIGN_IDS if by_topic.get(sid)}
    classification, missing = classify(profile, criteria)
    flags = _flags(criteria, signs, by_topic, profile.endocrine_caveat)
    summary = _summary(profile, classification, criteria, missing)
    return Assessment(
        patient=patient,
        as_of=as_of,
        profile=profile.name,
        classification=classification,
        criteria=criteria,
        missing=missing,
        flags=flags,
        signs=signs,
        clinician_assertions=tuple(sorted(assertions, key=_evidence_key)),
        summary=summary,
    )


#: days between an FLC ratio and the immunofixations of the same work-up (a month either side, as a restaging)
_SAME_WORKUP_DAYS = 31


def _ratio_against_immunofixations(result: CriterionResult, findings: Sequence[Finding]) -> CriterionResult:
    """A clone shown by nothing but an abnormal free-light-chain ratio, while the serum and the urine
    immunofixation of the same work-up are both negative, is not established: kidney disease or a
    polyclonal rise shifts the ratio (probe42: CKD stage 4, ratio 2.05 against the standard range, both
    immunofixations negative - a CIDP came out "met"). POEMS' clone is almost always an immunofixation
    band, and its ratio is normal in most (criteria.md §2 MAJ-2, §4): the criterion is indeterminate
    and the marrow decides. A ratio beside a band, a marrow or a biopsy stays a clone."""
    present = [f for f in findings if f.state is State.PRESENT]
    if result.state is not State.PRESENT or not present or any(f.source_rule != "flc_ratio" for f in present):
        return result

    def near(f: Finding) -> bool:
        return f.effective is not None and any(
            p.effective is not None and abs((f.effective - p.effective).days) <= _SAME_WORKUP_DAYS for p in present
        )

    serum = [f for f in findings if f.state is State.ABSENT and f.source_rule == "serum_ife" and near(f)]
    urine = [f for f in findings if f.state is State.ABSENT and f.source_rule == "urine_ife" and near(f)]
    if not serum or not urine:
        return result
    return CriterionResult(
        result.criterion,
        State.INDETERMINATE,
        "abnormal free-light-chain ratio only ("
        + ", ".join(e.summary for e in _evidence(present))
        + ") with the serum and urine immunofixation negative ("
        + ", ".join(e.summary for e in _evidence(serum + urine))
        + "): kidney disease or a polyclonal rise can shift the ratio; a bone-marrow examination decides",
        _evidence(present + serum + urine),
        open=True,
        # the marrow is what is proposed, not the tests on record (probe108 D5)
        retest="ratio_only",
    )


_CONFOUNDER = Differential.VEGF_CONFOUNDER.value
_MIN6 = Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value


def low_grade_in_context(by_topic: dict[str, list[Finding]]) -> None:
    """A normal result obtained where it cannot show the disease is a low-grade negative (criteria.md §6,
    "Low-grade negative (-> INDETERMINATE rather than ABSENT)"), in place in ``by_topic``:

    * a normal VEGF with a known VEGF confounder on record (the conditions the ``differential_vegf_confounder``
      flag names, §4): the confounder counts unless it is known to have begun after the sample (its onset,
      else its recorded date) or to have ended before it (an abatement before the sample); probe98 D1;
    * a normal VEGF during an acute illness (``acute_illness``: onset to abatement, or to the end of the
      mapping's window when none is stated; probe98 D2); the illness is then shown by the confounder flag;
    * a normal blood count during active bleeding or on a transfusion's day or the days after it
      (``bleeding_or_transfusion``, MIN-6; a red-cell transfusion weighs on haemoglobin, a platelet one on
      the platelets; probe98 D3).

    Only a measured negative is made low-grade (a clinician's refutation is a statement), and only one not
    low-grade already (a corticosteroid course gave it its reason first). The fact is cited with it."""
    vegf = [f for f in by_topic.get(_VEGF, ()) if _weakens(f)]
    if vegf:
        confounders = [f for f in by_topic.get(_CONFOUNDER, ()) if f.state is State.PRESENT]
        acute = [f for f in by_topic.get(ACUTE_ILLNESS, ()) if f.state is State.PRESENT]
        cited: dict[str, Finding] = {}
        for f in vegf:
            ill = [a for a in acute if _during(f.effective, a, open_start=False)]
            chronic = [c for c in confounders if _during(f.effective, c, open_start=True)]
            if ill:
                cited.update((a.evidence.reference, a) for a in ill)
                _replace(by_topic[_VEGF], f, ill, "acute_illness", _ACUTE_NOTE)
            elif chronic:
                _replace(by_topic[_VEGF], f, chronic, "confounder", _CONFOUNDER_NOTE)
        if cited:  # the flag that says to repeat the VEGF names the illness too (probe98 D2: no flag at all)
            known = {c.evidence.reference for c in confounders}
            by_topic[_CONFOUNDER].extend(a for ref, a in cited.items() if ref not in known)
    counts = [f for f in by_topic.get(_MIN6, ()) if _weakens(f)]
    if counts:
        blood = [f for f in by_topic.get(BLEEDING_OR_TRANSFUSION, ()) if f.state is State.PRESENT]
        for f in counts:
            near = [
                b
                for b in blood
                if _during(f.effective, b, open_start=False)
                and (b.component is None or f.component is None or b.component == f.component)
            ]
            if near:
                _replace(by_topic[_MIN6], f, near, "bleeding_or_transfusion", _BLOOD_NOTE)


_CONFOUNDER_NOTE = (
    "{what} was measured with {why} on record, a condition that raises VEGF by itself (criteria.md §4): a normal "
    "VEGF with a known confounder is a low-grade negative (§6) - repeat it away from the confounder"
)
_ACUTE_NOTE = (
    "{what} was measured during {why}, an acute illness: a normal VEGF obtained then is a low-grade negative "
    "(criteria.md §6) - repeat it after recovery"
)
_BLOOD_NOTE = (
    "{what} was measured during {why}: a normal blood count during active bleeding or transfusion is a low-grade "
    "negative (criteria.md §6, MIN-6) - repeat it away from them"
)


def _weakens(f: Finding) -> bool:
    """A measured normal result, dated, not low-grade already: what a context can make low-grade."""
    return f.state is State.ABSENT and f.strength is Strength.STRONG and not f.is_assertion and f.effective is not None


def _during(day: dt.date | None, context: Finding, open_start: bool) -> bool:
    """Whether ``context`` holds on ``day``: from its date (undated: only when ``open_start``, a chronic
    condition whose start is not known) to its end (``resolved_on``; none: still holding)."""
    if day is None:
        return False
    start = context.effective
    if start is None and not open_start:
        return False
    return (start is None or start <= day) and (context.resolved_on is None or day <= context.resolved_on)


def _replace(findings: list[Finding], f: Finding, context: list[Finding], retest: str, note: str) -> None:
    said = "; ".join(
        f"{c.evidence.summary} ({c.evidence.reference}"
        + (f", from {c.effective}" if c.effective else "")
        + (f" to {c.resolved_on}" if c.resolved_on else "")
        + ")"
        for c in sorted(context, key=lambda c: _evidence_key(c.evidence))
    )
    weak = replace(
        f,
        strength=Strength.WEAK,
        note=note.format(what=f.evidence.summary, why=said),
        context=_evidence(context),
        retest=retest,
    )
    findings[next(i for i, g in enumerate(findings) if g is f)] = weak


def _after_treatment(f: Finding, treated_from: dt.date) -> Finding:
    return replace(
        f,
        state=State.NOT_ASSESSED,
        note=(
            f"{f.evidence.summary} on {f.effective} is after treatment began on {treated_from}: "
            "a negative result then may reflect the response, not the state at diagnosis"
        ),
    )


#: the ids in enum order, read once (an enum's .value is a descriptor call, per patient a few hundred)
_CRITERION_IDS = tuple(c.value for c in Criterion)
_MONOCLONAL = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
_CASTLEMAN = Criterion.CASTLEMAN_DISEASE.value
_POLYNEUROPATHY = Criterion.POLYNEUROPATHY.value
_AXES = tuple((a, a.value) for a in EndocrineAxis)
_CYTOPENIA_SIGNS = (Sign.ANEMIA.value, Sign.THROMBOCYTOPENIA.value)
_SIGN_IDS = tuple(s.value for s in Sign)
_ENDOCRINOPATHY = Criterion.ENDOCRINOPATHY.value


@lru_cache(maxsize=64)
def _ids(criteria: tuple[Criterion, ...]) -> tuple[str, ...]:
    """The ids of a profile's criteria, read once per profile (see _CRITERION_IDS)."""
    return tuple(c.value for c in criteria)


def criterion_state(topic: str, findings: Iterable[Finding], as_of: dt.date | None = None) -> CriterionResult:
    """One criterion judged as ``evaluate`` judges it (an "any of" criterion part by part), from the
    findings of that topic known at ``as_of``: for the parts of the pipeline that read one criterion
    (the thrombosis risk of volume overload is absent only when every part was assessed absent)."""
    own = [f for f in findings if f.topic == topic and _in_time(f, as_of)]
    return _either(topic, own, COMPONENTS[topic]) if topic in COMPONENTS else combine(topic, own)


def part_state(topic: str, part: str, findings: Iterable[Finding], as_of: dt.date | None = None) -> State:
    """The state of one part of an "any of" criterion (e.g. organomegaly's lymph nodes), from the
    findings that speak for it (their own part, or every part) known at ``as_of``."""
    own = [f for f in findings if f.topic == topic and _in_time(f, as_of) and part in _parts_of(f, COMPONENTS[topic])]
    return combine(topic, own).state


def _in_time(finding: Finding, as_of: dt.date | None) -> bool:
    # Undated facts cannot be placed before a cut-off, so they only count without one.
    if as_of is None:
        return True
    return finding.effective is not None and finding.effective <= as_of


def _evidence_key(e: Evidence) -> tuple[bool, dt.date, str]:
    # undated first, then by date (the order of the ISO dates), then by reference
    return (e.effective is not None, e.effective or dt.date.min, e.reference)


def _evidence(findings: Iterable[Finding]) -> tuple[Evidence, ...]:
    # one entry per source and words: "No hepatomegaly, no splenomegaly" denies two parts, its triggers "No" and
    # "no" - the same sentence was cited twice (probe114 D7); the last of each is kept, as before
    unique = {(f.evidence.reference, f.evidence.summary.casefold()): f.evidence for f in findings}
    return tuple(sorted(unique.values(), key=_evidence_key))


def _with_context(findings: Sequence[Finding]) -> tuple[Evidence, ...]:
    """The findings' evidence and the facts that made any of them low-grade (Finding.context)."""
    if not any(f.context for f in findings):
        return _evidence(findings)
    unique = {(e.reference, e.summary.casefold()): e for f in findings for e in (f.evidence, *f.context)}
    return tuple(sorted(unique.values(), key=_evidence_key))


def _notes(findings: Iterable[Finding]) -> str:
    notes = sorted({f.note for f in findings if f.note})
    return "; ".join(notes)


_VEGF = Criterion.VEGF_ELEVATION.value


def plasma_over_serum(findings: Sequence[Finding]) -> Sequence[Finding]:
    """VEGF measured in plasma and in serum on the same day: the plasma decides (criteria.md §4:
    serum VEGF includes platelet-released VEGF, plasma is the validated specimen, 200 pg/mL V, the
    serum cut-off UNVERIFIED). The serum result of that day is not counted - an UNVERIFIED serum
    cut-off does not outvote a validated plasma result of the same draw - but named in the plasma
    result's summary. Other days, and days with one specimen, are left as they are."""
    plasma_days = {f.effective for f in findings if f.specimen == "plasma" and f.effective is not None}
    if not plasma_days:
        return findings
    shadowed = [f for f in findings if f.specimen == "serum" and f.effective in plasma_days]
    if not shadowed:
        return findings
    skip = {id(s) for s in shadowed}
    out: list[Finding] = []
    for f in findings:
        if id(f) in skip:
            continue
        if f.specimen == "plasma" and f.effective in plasma_days:
            same_day = [s for s in shadowed if s.effective == f.effective]
            if same_day:  # said where every state shows it: in the plasma result's own summary
                named = ", ".join(f"{s.evidence.summary} ({s.evidence.reference})" for s in same_day)
                said = (
                    f"{f.evidence.summary}; same-day serum not counted: {named} - plasma preferred "
                    "(serum VEGF includes platelet-released VEGF, criteria.md §4)"
                )
                f = replace(f, evidence=replace(f.evidence, summary=said))
        out.append(f)
    return out


def combine(topic: str, findings: Sequence[Finding]) -> CriterionResult:
    """Combine the findings of one criterion or sign.

    A criterion counts as present once it was present at any time up to the evaluation date
    (criteria.md §3.3 "Time"); current status over time belongs to response assessment.
    """
    if not findings:  # most criteria of most patients: nothing recorded
        return CriterionResult(topic, State.NOT_ASSESSED, "no data", open=True)
    if topic == _VEGF:
        findings = plasma_over_serum(findings)
    present: list[Finding] = []
    indeterminate: list[Finding] = []
    absent_strong: list[Finding] = []
    absent_weak: list[Finding] = []
    not_done: list[Finding] = []
    for f in findings:  # one pass, each list in the findings' order
        state = f.state
        if state is State.PRESENT:
            present.append(f)
        elif state is State.INDETERMINATE:
            indeterminate.append(f)
        elif state is State.ABSENT:
            (absent_strong if f.strength is Strength.STRONG else absent_weak).append(f)
        else:  # State.NOT_ASSESSED: a test not performed
            not_done.append(f)

    if present:
        conflict = _later_refutation(present, absent_strong)
        if conflict:
            return CriterionResult(
                topic,
                State.INDETERMINATE,
                conflict,
                _evidence(present + absent_strong),
                open=True,
            )
        retold = _retold_against_a_result(present, absent_strong)
        if retold:
            return CriterionResult(topic, State.INDETERMINATE, retold, _evidence(present + absent_strong), open=True)
        reason = "present: " + ", ".join(e.summary for e in _evidence(present))
        return CriterionResult(topic, State.PRESENT, reason, _evidence(present))
    if indeterminate:
        reason = _notes(indeterminate) or "conflicting or low-grade evidence"
        return CriterionResult(
            topic, State.INDETERMINATE, reason, _with_context(indeterminate + absent_weak), open=True
        )
    if absent_strong:
        reason = "absent: " + ", ".join(e.summary for e in _evidence(absent_strong))
        return CriterionResult(topic, State.ABSENT, reason, _evidence(absent_strong))
    if absent_weak:
        reason = "low-grade negative only: " + (
            _notes(absent_weak) or ", ".join(e.summary for e in _evidence(absent_weak))
        )
        retest = min((f.retest for f in absent_weak if f.retest), default=None)
        return CriterionResult(topic, State.INDETERMINATE, reason, _with_context(absent_weak), open=True, retest=retest)
    # every finding left is a test not performed, or a negative after treatment began (with its note)
    plain = [f for f in not_done if not f.note]
    said = (["test not performed: " + ", ".join(e.summary for e in _evidence(plain))] if plain else []) + (
        [_notes(not_done)] if len(plain) < len(not_done) else []
    )
    # a result on record that could not be read: correct it rather than order the test again (probe102 A2)
    unread = "unread" if any(f.retest == "unread" for f in not_done) else None
    return CriterionResult(topic, State.NOT_ASSESSED, "; ".join(said), _evidence(not_done), open=True, retest=unread)


def _later_refutation(present: list[Finding], absent: list[Finding]) -> str | None:
    """A clinician refuting a diagnosis after asserting it is a conflict, not a history.

    Measurements are different: a normal value after an abnormal one is a response, and the
    criterion stays present (criteria.md §3.3). A report's statement (its coded conclusion, its text, a
    letter's words) is no measurement: a clinician refuting it later is the same conflict, both cited
    (probe114 D2: a CT's sclerotic lesion refuted by a later Condition was present, the Condition dropped).
    """
    if any(not _statement(f) for f in present):
        return None
    refutations = [f for f in absent if f.is_assertion and f.effective]
    latest_present = max((f.effective for f in present if f.effective), default=None)
    if not refutations or latest_present is None:
        return None
    later = [f for f in refutations if f.effective and f.effective >= latest_present]
    if not later:
        return None
    if any(not f.is_assertion for f in present):  # a report's finding, refuted by a clinician (probe114 D2)
        return (
            "conflicting statements: reported "
            f"({', '.join(e.reference for e in _evidence(present))}) and later refuted by a clinician "
            f"({', '.join(e.reference for e in _evidence(later))})"
        )
    return (
        "conflicting clinician statements: asserted "
        f"({', '.join(e.reference for e in _evidence(present))}) and later refuted "
        f"({', '.join(e.reference for e in _evidence(later))})"
    )


def _retold_against_a_result(present: list[Finding], absent: list[Finding]) -> str | None:
    """A finding stated only in the words of a letter or note (no study of its own: "Serum immunofixation
    showed an IgG lambda paraprotein.") against the laboratory's own result of the test (a negative
    immunofixation): the letter retells a result, the laboratory's result is the test - the letter does not
    override it, and the conflict is shown, both cited (probe114 D4: the mandatory clone was present on the
    letter, the negative immunofixation not even cited)."""
    if not present or any(not f.retold for f in present):
        return None
    results = [f for f in absent if not f.from_text and not f.is_assertion]
    if not results:
        return None
    return (
        "conflicting: stated only in a letter's or note's text ("
        + ", ".join(e.summary for e in _evidence(present))
        + ") and denied by the laboratory's or study's own result ("
        + ", ".join(e.summary for e in _evidence(results))
        + "): only the result itself is the test"
    )


def _statement(f: Finding) -> bool:
    """A clinician's or a report's statement of a finding, not a measured value: a Condition, text, or a
    DiagnosticReport's own coded finding."""
    return f.is_assertion or f.from_text or f.evidence.reference.startswith("DiagnosticReport/")


def _parts_of(finding: Finding, parts: tuple[str, ...]) -> tuple[str, ...]:
    """The parts one finding speaks for: its own ("liver", "liver+spleen"), or all of them."""
    named = tuple(p for p in (finding.component or "").split("+") if p in parts)
    return named or parts


def _either(topic: str, findings: Sequence[Finding], parts: tuple[str, ...]) -> CriterionResult:
    """ "Any of" criteria, part by part: an enlarged liver with a spleen recorded as not enlarged
    is organomegaly present; a normal haemoglobin excludes polycythemia, not thrombocytosis.

    A finding without a part (a generic statement) speaks for every part. Conflicting
    statements are judged within one part only (``combine``).
    """
    if not findings or all(_parts_of(f, parts) == parts for f in findings):
        return combine(topic, findings)  # only generic statements: every part would say the same
    per_part = {p: combine(topic, [f for f in findings if p in _parts_of(f, parts)]) for p in parts}
    present = [p for p, r in per_part.items() if r.state is State.PRESENT]
    if present:
        evidence = _evidence(
            f for f in findings if f.state is State.PRESENT and any(p in present for p in _parts_of(f, parts))
        )
        reason = "present: " + ", ".join(e.summary for e in evidence)
        others = [
            f"{p.replace('_', ' ')} {r.state.value.replace('_', ' ')}"
            for p, r in per_part.items()
            if r.state is not State.PRESENT and r.evidence
        ]
        if others:
            reason += f" ({'; '.join(others)})"
        return CriterionResult(topic, State.PRESENT, reason, evidence)
    if all(r.state is State.ABSENT for r in per_part.values()):
        return combine(topic, findings)
    absent = [p.replace("_", " ") for p, r in per_part.items() if r.state is State.ABSENT]
    # each open part by name, so the reason says which test would decide the criterion
    by_reason: dict[str, list[str]] = defaultdict(list)
    for p, r in per_part.items():
        if r.state is State.INDETERMINATE:
            by_reason[r.reason].append(p.replace("_", " "))
    unclear = [f"{' and '.join(ps)} indeterminate ({why})" for why, ps in by_reason.items()]
    unassessed = [p.replace("_", " ") for p, r in per_part.items() if r.state is State.NOT_ASSESSED]
    state = State.INDETERMINATE if unclear else State.NOT_ASSESSED
    parts_said = ([f"no {' or '.join(absent)}"] if absent else []) + unclear
    if unassessed:
        parts_said.append(f"{' and '.join(unassessed)} not assessed")
    # a part's result on record that could not be read says so (probe102 A2)
    parts_said += [r.reason for r in per_part.values() if r.state is State.NOT_ASSESSED and r.retest == "unread"]
    reason = "; ".join(parts_said)
    evidence = _with_context(findings)
    retest = min((r.retest for r in per_part.values() if r.retest and r.state is State.INDETERMINATE), default=None)
    if retest is None and not unclear and any(r.retest == "unread" for r in per_part.values()):
        retest = "unread"  # a part's result on record could not be read: correct it first (probe102 A2)
    alone = tuple(p for p, r in per_part.items() if r.state is State.NOT_ASSESSED) if not unclear else ()
    return CriterionResult(topic, state, reason, evidence, open=True, retest=retest, unassessed_parts=alone)


def _endocrinopathy(findings: Sequence[Finding], caveat: bool) -> CriterionResult:
    """MIN-3 with the diabetes/thyroid caveat (criteria.md §2, §5).

    Present when a non-thyroid, non-diabetes axis is abnormal, or two distinct axes are.
    Thyroid-only or diabetes-only is absent by the caveat; it stays *open* while other axes
    have not been tested, because testing them could still make the criterion present.
    """
    topic = Criterion.ENDOCRINOPATHY.value
    per_axis: dict[EndocrineAxis, list[Finding]] = defaultdict(list)
    unaxed: list[Finding] = []
    for f in findings:
        (per_axis[f.axis] if f.axis else unaxed).append(f)
    axis_results = {axis: combine(topic, fs) for axis, fs in per_axis.items()}
    abnormal = {a for a, r in axis_results.items() if r.state is State.PRESENT}
    assessed = {a for a, r in axis_results.items() if r.state in (State.PRESENT, State.ABSENT)}
    untested = [value for a, value in _AXES if a not in assessed]
    abnormal_findings = [f for a in abnormal for f in per_axis[a] if f.state is State.PRESENT]
    # an endocrinopathy asserted without an axis (a generic code) cannot be checked against the caveat
    unaxed_present = [f for f in unaxed if f.state is State.PRESENT]

    if abnormal and (not caveat or abnormal - CAVEAT_AXES or len(abnormal) >= 2):
        axes = ", ".join(sorted(a.value for a in abnormal))
        return CriterionResult(topic, State.PRESENT, f"abnormal axes: {axes}", _evidence(abnormal_findings))
    if abnormal:
        (only,) = abnormal
        label = "thyroid_only" if only is EndocrineAxis.THYROID else "diabetes_only"
        # a second axis - the other caveat axis too ("≥2 distinct axes", criteria.md §5) - that may be
        # abnormal leaves the caveat undecided (probe62 D16: TSH high beside a prediabetic HbA1c read
        # "absent by caveat", the HbA1c left out of the evidence)
        undecided = [a for a, r in axis_results.items() if a is not only and r.state is State.INDETERMINATE]
        if undecided:
            names = ", ".join(sorted(a.value for a in undecided))
            return CriterionResult(
                topic,
                State.INDETERMINATE,
                f"{label.replace('_', '-')} abnormal and {names} undecided: a second abnormal axis would "
                "satisfy this criterion",
                _evidence(abnormal_findings + [f for a in undecided for f in per_axis[a]]),
                open=True,
            )
        still_open = [a for a in untested if EndocrineAxis(a) not in CAVEAT_AXES or EndocrineAxis(a) is not only]
        reason = (
            f"absent by caveat ({label.replace('_', '-')}): thyroid or diabetes alone does not satisfy this criterion"
        )
        if still_open:
            reason += "; not assessed: " + ", ".join(still_open)
        return CriterionResult(
            topic,
            State.ABSENT,
            reason,
            _evidence(abnormal_findings),
            open=bool(still_open),
            caveat=label,
        )
    if unaxed_present:
        return CriterionResult(
            topic,
            State.INDETERMINATE,
            "endocrinopathy recorded without an identifiable axis; the thyroid/diabetes caveat cannot be checked",
            _evidence(unaxed_present),
            open=True,
        )
    if not assessed:
        return combine(topic, list(findings))
    normal = [f for a in assessed for f in per_axis[a]]
    non_caveat_untested = [a for a in untested if EndocrineAxis(a) not in CAVEAT_AXES]
    if non_caveat_untested:
        return CriterionResult(
            topic,
            State.INDETERMINATE,
            "partial endocrine work-up, no abnormal axis; not assessed: " + ", ".join(non_caveat_untested),
            _evidence(normal),
            open=True,
        )
    return CriterionResult(topic, State.ABSENT, "all endocrine axes normal", _evidence(normal))


def classify(profile: Profile, results: dict[str, CriterionResult]) -> tuple[Classification, tuple[MissingItem, ...]]:
    """Three-valued classification over the profile's groups (criteria.md §3.3).

    A group is satisfied with ``at_least`` present, fails when even every open criterion
    turning present could not reach ``at_least``, and is undecided otherwise.
    """
    failed = False
    undecided: list[RuleGroup] = []
    for group in profile.groups:
        states = [results[cid] for cid in _ids(group.criteria)]
        present = sum(1 for r in states if r.state is State.PRESENT)
        still_open = sum(1 for r in states if r.state is not State.PRESENT and r.open)
        if present >= group.at_least:
            continue
        if present + still_open < group.at_least:
            failed = True
        else:
            undecided.append(group)
    if failed:
        return Classification.NOT_MET, ()
    if not undecided:
        return Classification.MET, ()
    missing = []
    for group in undecided:
        for c, cid in zip(group.criteria, _ids(group.criteria), strict=True):
            r = results[cid]
            if r.state is not State.PRESENT and r.open:
                missing.append(MissingItem(cid, r.reason, work_up(c, r)))
    return Classification.INDETERMINATE, tuple(missing)


def _flags(
    criteria: dict[str, CriterionResult],
    signs: dict[str, CriterionResult],
    by_topic: dict[str, list[Finding]],
    endocrine_caveat: bool = True,
) -> tuple[Flag, ...]:
    flags: list[Flag] = []
    # a clone the criterion does not establish (an abnormal free-light-chain ratio alone, both immunofixations
    # negative) has no isotype to review (probe108 D5: "Atypical isotype (kappa)" led such a conclusion)
    established = criteria[_MONOCLONAL].retest != "ratio_only"
    clonal = [f for f in by_topic[_MONOCLONAL] if f.state is State.PRESENT and established]
    kappa = [f for f in clonal if f.light_chain == "kappa"]
    # a kappa clone beside a lambda one (biclonal "IgG kappa and IgA lambda") has the usual lambda clone:
    # nothing atypical to review (probe46 D3)
    if kappa and not any(f.light_chain == "lambda" for f in clonal):
        flags.append(
            Flag(
                "atypical_isotype",
                "kappa light chain: atypical for POEMS (almost always lambda) but not excluding - review",
                _evidence(kappa),
            )
        )
    igm = [f for f in clonal if f.heavy_chain == "IgM"]
    if igm:
        flags.append(
            Flag(
                "igm_paraprotein",
                "IgM paraprotein: consider anti-MAG / MGUS-associated neuropathy; IgM "
                "neuropathy may raise VEGF somewhat - interpret VEGF with care",
                _evidence(igm),
            )
        )
    castleman = criteria[_CASTLEMAN].state is State.PRESENT
    cytopenia = [signs[s] for s in _CYTOPENIA_SIGNS if s in signs]
    cytopenia = [r for r in cytopenia if r.state is State.PRESENT]
    if cytopenia and not castleman:
        flags.append(
            Flag(
                "cytopenia_without_castleman",
                "anaemia and/or thrombocytopenia are distinctively unusual in POEMS unless "
                "Castleman disease is present: consider lymph-node biopsy and reconsider the "
                "diagnosis",
                tuple(e for r in cytopenia for e in r.evidence),
            )
        )
    for diff, message in _DIFFERENTIALS:
        found = [f for f in by_topic.get(diff, []) if f.state is State.PRESENT]
        if found and diff == _DIABETIC and not endocrine_caveat:
            # a rule set without the caveat counts the diabetes: saying it does not would contradict the
            # conclusion beside it (probe77 D2)
            flags.append(Flag(f"differential_{diff}_counted", _DIABETIC_COUNTED, _evidence(found)))
        elif found:
            flags.append(Flag(f"differential_{diff}", message, _evidence(found)))
    neuropathy = criteria[_POLYNEUROPATHY].state
    clone = criteria[_MONOCLONAL].state
    if castleman and (neuropathy is State.ABSENT or clone is State.ABSENT):
        flags.append(
            Flag(
                "differential_castleman_without_neuropathy",
                "Castleman disease without polyneuropathy or without a clonal plasma-cell "
                "disorder: the Castleman variant is classified separately, not as POEMS",
                criteria[_CASTLEMAN].evidence,
            )
        )
    return tuple(flags)


_DIFFERENTIAL_MESSAGES: dict[Differential, str] = {
    Differential.CIDP: (
        "CIDP recorded: the most common misdiagnosis of POEMS. Thrombocytosis, elevated VEGF, "
        "organomegaly, volume overload, skin/endocrine changes and a lambda M-protein favour "
        "POEMS; treatment-resistant CIDP should trigger a POEMS work-up"
    ),
    Differential.MULTIPLE_MYELOMA: (
        "multiple myeloma features (diagnosis, or >=10% bone-marrow plasma cells): lytic lesions, "
        "cytopenias and kappa favour myeloma; check myeloma-defining events"
    ),
    Differential.AL_AMYLOIDOSIS: (
        "AL amyloidosis recorded or suggested: painful/autonomic neuropathy with a lambda clone; "
        "check Congo-red histology and cardiac biomarkers; VEGF elevation, sclerotic lesions and "
        "volume overload favour POEMS"
    ),
    Differential.VEGF_CONFOUNDER: (
        "a condition that raises VEGF by itself is recorded (iron-deficiency anaemia, COPD, obstructive sleep "
        "apnoea, cancer, vasculitis, chronic inflammation, acute illness): interpret VEGF with care and repeat it"
    ),
    Differential.DIABETIC_POLYNEUROPATHY: (
        "diabetic polyneuropathy (or a diabetic neurological complication) recorded: the neuropathy may have "
        "another cause; diabetes alone does not satisfy the endocrinopathy criterion - review the neuropathy "
        "phenotype (demyelinating features, VEGF, clone) before attributing it to POEMS"
    ),
    Differential.TOXIC_POLYNEUROPATHY: (
        "a drug-induced, alcoholic or toxic polyneuropathy recorded: the neuropathy may have that cause "
        "(thalidomide and bortezomib, used against POEMS, worsen a neuropathy) - review the neuropathy phenotype "
        "(demyelinating features, VEGF, clone) before attributing it to POEMS"
    ),
    Differential.MGUS: (
        "MGUS recorded: paraprotein plus neuropathy alone is not POEMS; a further major and a "
        "minor criterion are required"
    ),
    Differential.IGM_NEUROPATHY: (
        "IgM neuropathy recorded (anti-MAG antibodies or neuropathy, Waldenstrom macroglobulinaemia): an "
        "MGUS-associated IgM neuropathy is a POEMS mimic and may raise VEGF somewhat - interpret VEGF with care; "
        "POEMS needs another major criterion and a minor one (with VEGF the only other major one, not labelled "
        "POEMS without review)"
    ),
    Differential.MYELOPROLIFERATIVE_NEOPLASM: (
        "myeloproliferative neoplasm recorded (essential thrombocythaemia, polycythaemia vera, myelofibrosis; "
        "JAK2/CALR/MPL): its own thrombocytosis or erythrocytosis, and a serum VEGF raised by the platelets' "
        "own VEGF, may explain these findings - a POEMS mimic; prefer a plasma VEGF and review before "
        "attributing them to POEMS"
    ),
}
_DIABETIC = Differential.DIABETIC_POLYNEUROPATHY.value
_DIABETIC_COUNTED = (
    "diabetic polyneuropathy (or a diabetic neurological complication) recorded: the neuropathy may have another "
    "cause; this rule set counts diabetes alone as the endocrinopathy (the caveat of the current criteria is "
    "UNVERIFIED for it; profile dispenzieri-2003-caveat applies it) - review the neuropathy phenotype "
    "(demyelinating features, VEGF, clone) before attributing it to POEMS"
)
#: the same, keyed by the plain id (read per patient without an enum .value call)
_DIFFERENTIALS = tuple((d.value, message) for d, message in _DIFFERENTIAL_MESSAGES.items())


def _summary(
    profile: Profile,
    classification: Classification,
    criteria: dict[str, CriterionResult],
    missing: tuple[MissingItem, ...],
) -> str:
    present_text = ", ".join(cid for cid in _ids(profile.criteria) if criteria[cid].state is State.PRESENT) or "none"
    if classification is Classification.MET:
        return f"Criteria met under {profile.name}; present: {present_text}."
    if classification is Classification.NOT_MET:
        failing = [
            cid for group in profile.groups for cid in _ids(group.criteria) if criteria[cid].state is State.ABSENT
        ]
        return (
            f"Criteria not met under {profile.name}; present: {present_text}; absent: {', '.join(failing) or 'none'}."
        )
    return (
        f"Indeterminate under {profile.name} - cannot confirm; present: {present_text}; "
        f"missing: {', '.join(m.criterion for m in missing)}."
    )
