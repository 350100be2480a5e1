# SPDX-License-Identifier: Apache-2.0
"""The proposed care pathway (criteria.md §10) as plain steps; the CarePlan writer renders them.

Pure: assessment, response, risk, findings, measurements and events in. Every step carries its
status (not-started / scheduled / in-progress / completed / unknown), dates where the pathway gives
them, and the evidence that triggered it. Steps keep stable ids, so a re-run updates the same
CarePlan activities instead of adding new ones.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .engine import part_state
from .model import MARROW_CLONE_RULES, Assessment, Classification, Criterion, Finding, Sign, State
from .response import RELAPSE_ALERTS, Alert, ResponseAssessment
from .risk import RiskFactor, splenomegaly
from .timeline import Event, Measurement, add_days, add_months, day_text, escalation_window, on_day, restaging_opens

#: work-up per criterion: (LOINC/SNOMED coding or None, text)
WORKUP: dict[str, tuple[tuple[str, str, str] | None, str]] = {
    "vegf_elevation": (
        ("http://loinc.org", "75628-8", "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma"),
        "Measure VEGF, plasma preferred (send out if not available locally); record the specimen "
        "type - serum and plasma cut-offs differ",
    ),
    "sclerotic_bone_lesions": (
        ("http://snomed.info/sct", "77477000", "Computerized axial tomography"),
        "CT-based whole-body bone imaging or FDG PET-CT with bone-window review "
        "(plain radiographs miss small sclerotic lesions)",
    ),
    "castleman_disease": (
        None,
        "Lymph-node biopsy for Castleman histology if nodes are enlarged or FDG-avid "
        "(imaging cannot establish Castleman disease)",
    ),
    "papilledema": (None, "Fundoscopy for papilledema"),
    "thrombocytosis_polycythemia": (
        ("http://loinc.org", "777-3", "Platelets [#/volume] in Blood by Automated count"),
        "Complete blood count with platelets",
    ),
    "monoclonal_plasma_cell_disorder": (
        ("http://loinc.org", "25700-6", "Immunofixation [interpretation] for Serum or Plasma"),
        "Serum and urine immunofixation and serum free light chains",
    ),
    "polyneuropathy": (None, "Neurological examination and nerve conduction study / EMG"),
    "endocrinopathy": (
        None,
        "Endocrine axes: testosterone/estradiol, prolactin, cortisol, PTH, glucose/HbA1c, TSH/FT4",
    ),
    "organomegaly": (None, "Abdominal imaging for hepatosplenomegaly and lymphadenopathy"),
    "extravascular_volume_overload": (None, "Examination and imaging for edema, pleural effusion, ascites"),
    "skin_changes": (None, "Skin examination (hyperpigmentation, hypertrichosis, hemangiomata, white nails)"),
}

#: MIN-6 is thrombocytosis or polycythaemia: with the platelet count on record, the work-up asks for the
#: haemoglobin and haematocrit only (probe98 D9: "Complete blood count with platelets" beside a platelet count
#: on record); without one it stays the blood count with platelets (seed_case.md: "CBC with platelets")
PART_WORKUP: dict[tuple[str, str], tuple[tuple[str, str, str], str]] = {
    ("thrombocytosis_polycythemia", "polycythemia"): (
        ("http://loinc.org", "718-7", "Hemoglobin [Mass/volume] in Blood"),
        "Haemoglobin and haematocrit (polycythaemia)",
    ),
}


#: the work-up text for a criterion open only by a low-grade negative whose reason is known (probe98 D8)
RETEST: dict[tuple[str, str], str] = {
    ("vegf_elevation", "corticosteroid"): (
        "Repeat VEGF once the corticosteroid has stopped (same specimen type, plasma preferred): a normal VEGF "
        "during a corticosteroid course may reflect it"
    ),
    ("vegf_elevation", "confounder"): (
        "Repeat VEGF away from the confounding condition (same specimen type, plasma preferred), and weigh the "
        "result against it"
    ),
    ("vegf_elevation", "acute_illness"): (
        "Repeat VEGF after recovery from the acute illness (same specimen type, plasma preferred)"
    ),
    ("thrombocytosis_polycythemia", "bleeding_or_transfusion"): (
        "Repeat the complete blood count with platelets away from bleeding and transfusion"
    ),
    # the immunofixations and the ratio are on record: the marrow decides (probe108 D5)
    ("monoclonal_plasma_cell_disorder", "ratio_only"): (
        "Bone-marrow aspirate and biopsy with clonality: only the free-light-chain ratio is abnormal, serum and "
        "urine immunofixation negative"
    ),
}

#: the coding of a retest that is another test than the criterion's work-up (none: no code for the marrow)
RETEST_CODING: dict[tuple[str, str], tuple[str, str, str] | None] = {
    ("monoclonal_plasma_cell_disorder", "ratio_only"): None,
}


@dataclass(frozen=True)
class Step:
    id: str  # stable: "workup-vegf_elevation", "branch", "restaging-day100", ...
    title: str
    description: str
    status: str  # not-started | scheduled | in-progress | completed | unknown
    coding: tuple[str, str, str] | None = None
    scheduled_start: dt.date | None = None
    scheduled_end: dt.date | None = None
    repeat_months: int | None = None
    #: the longest interval where the source gives a range ("every 3-6 months": FHIR Timing periodMax)
    repeat_months_max: int | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)
    #: the vocabulary entry that words this step for people (id "branch" has three variants)
    key: str = ""
    #: facts the wording needs: ("agents", "thalidomide"), ("risk", "thrombosis_splenomegaly"), ...
    params: tuple[tuple[str, str], ...] = ()

    @property
    def term_key(self) -> str:
        return self.key or self.id

    @property
    def workup_key(self) -> str:
        """A work-up's vocabulary key: its criterion, or "criterion.part" where one part is asked for."""
        p = dict(self.params)
        return f"{p['criterion']}.{p['part']}" if "part" in p else p["criterion"]


def _refs(findings: Sequence[Finding]) -> tuple[str, ...]:
    return tuple(sorted({f.evidence.reference for f in findings}))


def _progressions(response: ResponseAssessment) -> list[tuple[dt.date, str]]:
    """(date, reference) of each haematological or VEGF progression the response reports."""
    points = [h.latest for h in (response.hematologic, response.hematologic_imwg) if h.category == "PD"]
    points.append(response.vegf.latest if response.vegf.category == "progression" else None)
    return sorted({(p.effective, p.reference) for p in points if p and p.effective})


#: statuses of a course still being given (FHIR Procedure and medication statuses)
_ONGOING = frozenset({"in-progress", "active", "on-hold"})


def _escalation_after_radiotherapy(
    response: ResponseAssessment,
    radiotherapy: Sequence[Event],
    systemic: Sequence[Event],
    earlier: Sequence[ResponseAssessment] = (),
    radiologic: Sequence[tuple[dt.date, str]] = (),
) -> Step | None:
    """criteria.md §10 step 1a: progression 3-6 months after completing radiation -> systemic
    therapy (Dispenzieri 2019). Done once a systemic therapy started after the radiotherapy. A progression
    seen at an earlier restaging counts too (``earlier``: the response at each earlier result): once the
    value falls on the new therapy, the escalation stays in the plan, done (probe41 D4). ``radiologic``: (date,
    reference) of imaging reports of progression (the commonest form, criteria.md §8.3; probe48: new lesions four
    months after radiotherapy raised the alert but no escalation)."""
    ends = [e.end or e.effective for e in radiotherapy if (e.end or e.effective)]
    if not ends:
        return None
    finished = max(ends)  # type: ignore[type-var]
    window = escalation_window(finished)  # type: ignore[arg-type]
    seen = sorted(
        {
            (day, ref)
            for day, ref in [*(p for r in (*earlier, response) for p in _progressions(r)), *radiologic]
            if window[0] <= day <= window[1]
        }
    )
    if not seen:
        return None
    since = [e for e in systemic if e.effective and e.effective > finished]  # type: ignore[operator]
    return Step(
        "escalate-systemic",
        "Escalate to systemic therapy: progression after radiotherapy",
        f"Progression on {seen[0][0]}, 3-6 months after radiotherapy completed {on_day(finished)}: "  # type: ignore[arg-type]
        "systemic therapy (Dispenzieri 2019).",
        "completed" if since else "not-started",
        evidence=tuple(ref for _, ref in seen) + tuple(e.reference for e in radiotherapy),
        params=(("radiotherapy_end", day_text(finished)),),  # type: ignore[arg-type]
    )


def _restaging_after_radiotherapy(
    radiotherapy: Sequence[Event],
    systemic: Sequence[Event],
    measurements: Sequence[Measurement],
    as_of: dt.date | None,
    now: dt.date | None = None,
) -> Step | None:
    """criteria.md §10 step 1a escalates on "progression 3-6 months after completing radiation": the tests
    that would show it are proposed for that window (probe48 D8: after radiotherapy the plan asked for no
    follow-up at all). Begun (`in-progress`) by a VEGF or serum M-protein/immunofixation result in the
    window, `completed` once the window is over with such a result; none once a systemic therapy started
    after the radiotherapy (its own restaging follows), nor six months past the window. ``now``: the day the
    plan speaks as of without ``as_of`` (the run's date, else the newest fact on record): a restaging done in a
    window closed by then is `completed` (probe111 D6: `in-progress`, "Overdue", without --as-of). A course known
    only to its month (or year) is shown so, and its window counted from the last day it can have ended
    (probe111 D10: "completed on Mar 1, 2022" for "March 2022")."""
    ends = [e.end or e.effective for e in radiotherapy if (e.end or e.effective)]
    if not ends:
        return None
    finished = max(d for d in ends if d is not None)
    if any(e.effective and e.effective > finished for e in systemic):
        return None
    start, end = escalation_window(finished)
    if as_of is not None and as_of > add_months(end, 6):
        return None  # long past: the surveillance steps carry the follow-up from here
    seen = [
        m
        for m in measurements
        if m.analyte in ("vegf", "serum_m_protein", "serum_ife", "flc_ratio")
        and m.effective
        and start <= m.effective <= end
        and _known_on(m.effective, as_of)
    ]
    return Step(
        "restaging-after-radiotherapy",
        "Restage 3-6 months after radiotherapy",
        f"VEGF, serum M-protein with immunofixation and free light chains, and imaging of the treated lesions "
        f"3-6 months after radiotherapy completed {on_day(finished)} (Dispenzieri 2019).",
        ("completed" if (as_of or now) is not None and (as_of or now) > end else "in-progress")  # type: ignore[operator]
        if seen
        else "not-started",
        scheduled_start=start,
        scheduled_end=end,
        evidence=tuple(sorted({m.reference for m in seen})) + tuple(e.reference for e in radiotherapy),
        params=(("radiotherapy_end", day_text(finished)),),
    )


_MANDATORY = ("polyneuropathy", "monoclonal_plasma_cell_disorder")
#: the immunomodulatory drugs (IMiDs) of the mapping's medications: criteria.md §10 step 7's salvage class
_IMIDS = frozenset({"lenalidomide", "thalidomide", "pomalidomide"})


#: recorded diagnoses that explain the clone and its signs otherwise (criteria.md §7: "must NOT be labelled
#: POEMS"): while the criteria are not met, no POEMS treatment or POEMS cohorts' prognosis (probe41)
#: probe128 D8: a recorded myeloproliferative neoplasm (§7's mimic list) too - its thrombocytosis and its
#: platelets' serum VEGF (§4) carried a JAK2+ essential thrombocythaemia with an MGUS to "met"
_OTHER_DIAGNOSES = (
    "differential_multiple_myeloma",
    "differential_al_amyloidosis",
    "differential_myeloproliferative_neoplasm",
)


def recorded_other_diagnosis(a: Assessment) -> tuple[str, ...]:
    """References of a recorded diagnosis (a Condition or a report's coded conclusion, not a marrow count)
    of multiple myeloma, AL amyloidosis or a myeloproliferative neoplasm: criteria.md §7 lists each among what "must NOT be labelled
    POEMS", so beside it a literal "criteria met" is not written as a POEMS diagnosis and POEMS' treatment
    is not proposed (probe42: a myeloma with 45 % marrow plasma cells and lytic lesions, recorded as such,
    was written back as "POEMS syndrome criteria met" with the transplant pathway). A POEMS patient with
    >= 10 % marrow plasma cells and no such diagnosis keeps both."""
    recorded = tuple(
        e.reference
        for f in a.flags
        if f.code in _OTHER_DIAGNOSES
        for e in f.evidence
        if e.reference.startswith(("Condition/", "DiagnosticReport/"))
    )
    return recorded + igm_mimic(a)


#: a recorded IgM neuropathy (anti-MAG antibodies or neuropathy, Waldenström macroglobulinaemia)
_IGM_NEUROPATHY = "differential_igm_neuropathy"


def igm_mimic(a: Assessment) -> tuple[str, ...]:
    """References of a recorded IgM neuropathy (anti-MAG, Waldenström) while VEGF is the only major
    criterion that could join the two mandatory ones - no Castleman disease, no sclerotic bone lesions.
    criteria.md §7 lists "MGUS-associated neuropathy (esp. IgM, anti-MAG)" among what must not be
    labelled POEMS, and says such a neuropathy "may also raise sVEGF somewhat -> interpret VEGF with
    care" (probe46: a Waldenström anti-MAG neuropathy with a serum VEGF of 1150 was written back as
    "POEMS syndrome criteria met" with the transplant proposed). Empty otherwise."""
    other_major = (Criterion.CASTLEMAN_DISEASE.value, Criterion.SCLEROTIC_BONE_LESIONS.value)
    if any((r := a.criteria.get(c)) is not None and r.state is State.PRESENT for c in other_major):
        return ()
    return tuple(e.reference for f in a.flags if f.code == _IGM_NEUROPATHY for e in f.evidence)


def poems_context(a: Assessment, started: dt.date | None) -> bool:
    """Whether POEMS' treatment and its cohorts' prognosis apply: the criteria met without a recorded
    diagnosis of myeloma, AL amyloidosis or a myeloproliferative neoplasm (``recorded_other_diagnosis``) or an IgM neuropathy with VEGF
    as the only other major criterion (``igm_mimic``); else not beside either; else a POEMS criterion present beyond the two mandatory ones, or
    a treatment begun - unless MGUS is recorded: a paraprotein with a neuropathy alone is no POEMS
    (criteria.md §7), and a neurologist's steroid for it no POEMS therapy (probe41)."""
    if a.classification is Classification.MET:
        return not recorded_other_diagnosis(a)
    flags = {f.code for f in a.flags}
    if flags & set(_OTHER_DIAGNOSES) or igm_mimic(a):
        return False
    features = [c for c, r in a.criteria.items() if r.state is State.PRESENT and c not in _MANDATORY]
    return bool(features) or (started is not None and "differential_mgus" not in flags)


def _known_on(effective: dt.date | None, as_of: dt.date | None) -> bool:
    """A result counts on ``as_of`` only if dated then or before (the engine's rule, engine._in_time):
    a marrow biopsy reported later must not decide the branch of an earlier time point."""
    return as_of is None or (effective is not None and effective <= as_of)


#: results a restaging after the first treatment reads (the response's): the first one ends "staging"
_RESPONSE_ANALYTES = ("serum_m_protein", "serum_ife", "urine_ife", "flc_kappa", "flc_lambda", "flc_ratio", "vegf")

#: the haematological studies of §10 step 6's surveillance (IFE/FLC, the M-protein, the blood count)
_SURVEILLANCE_ANALYTES = frozenset(
    {"serum_m_protein", "serum_ife", "urine_ife", "flc_kappa", "flc_lambda", "flc_ratio", "platelets", "hemoglobin"}
)

#: the laboratory tests of criteria.md §10 step 0's staging poems-fhir reads (imaging, echocardiography, nerve
#: studies and fundoscopy are findings, not measurements)
_STAGING_ANALYTES = frozenset(
    {
        *_RESPONSE_ANALYTES,
        "urine_m_protein",
        "platelets",
        "hemoglobin",
        "bm_plasma_cells",
        "bm_clonal_plasma_cells",
    }
)

#: the laboratory parts of the staging (criteria.md §10 step 0) poems-fhir can see, by the analytes that show one
_STAGING_PARTS = (
    ("serum_immunofixation", ("serum_ife", "serum_m_protein")),
    ("urine_immunofixation", ("urine_ife", "urine_m_protein")),
    ("free_light_chains", ("flc_kappa", "flc_lambda", "flc_ratio")),
    ("vegf", ("vegf",)),
    ("blood_count", ("platelets", "hemoglobin")),
    # any count of the marrow's plasma cells (the manual count LOINC 11118-7 as well as the flow cytometry's
    # clonal ones; probe108 D4: only the latter counted) - a marrow report read in words counts too (below)
    ("marrow", ("bm_plasma_cells", "bm_clonal_plasma_cells")),
)

#: the laboratory parts of the day +90/+100 restaging that poems-fhir can see (criteria.md §10 step 5),
#: beside the serum immunofixation or M-protein that dates it; imaging, echocardiography and the nerve
#: studies are not tracked here (the step's text asks for them)
_RESTAGING_PARTS = (
    ("urine_immunofixation", ("urine_ife", "urine_m_protein")),
    ("free_light_chains", ("flc_kappa", "flc_lambda", "flc_ratio")),
    ("vegf", ("vegf",)),
    ("blood_count", ("platelets", "haemoglobin", "hemoglobin")),
)


def _restaging_parts(
    measurements: Sequence[Measurement], day: dt.date, as_of: dt.date | None, until: dt.date | None = None
) -> tuple[list[Measurement], list[str]]:
    """The results of the restaging around ``day`` (the samples of one restaging are not all drawn on
    one day: a month either side, up to ``as_of`` and before ``until``, the next transplant) and the parts
    with none."""
    window = [
        m
        for m in measurements
        if m.effective
        and add_days(day, -31) <= m.effective <= add_days(day, 31)
        and (as_of is None or m.effective <= as_of)
        and (until is None or m.effective < until)
    ]
    found: list[Measurement] = []
    missing: list[str] = []
    for part, analytes in _RESTAGING_PARTS:
        hits = [m for m in window if m.analyte in analytes]
        found += hits
        if not hits:
            missing.append(part)
    return found, missing


#: what each result of a restaging shows it did, in the order the restaging lists them
_DONE_AS = {
    "serum_ife": "serum_immunofixation",
    "serum_m_protein": "serum_m_protein",
    "urine_ife": "urine_immunofixation",
    "urine_m_protein": "urine_m_protein",
    "flc_kappa": "free_light_chains",
    "flc_lambda": "free_light_chains",
    "flc_ratio": "free_light_chains",
    "vegf": "vegf",
    "platelets": "blood_count",
    "haemoglobin": "blood_count",
    "hemoglobin": "blood_count",
}


def _parts_done(results: Sequence[Measurement]) -> tuple[tuple[str, str], ...]:
    """("done", "<part> <date>") for each part of a restaging on record, on its first day: one begun with a part
    missing names what was done and when (probe137 D2: "Not yet done: blood count ... Overdue since" read as if the
    whole restaging were overdue, though its serum and urine studies, FLC and VEGF were done in the window)."""
    first: dict[str, dt.date] = {}
    for m in sorted(results, key=lambda m: m.effective or dt.date.max):
        if m.effective and m.analyte in _DONE_AS:
            first.setdefault(_DONE_AS[m.analyte], m.effective)
    order = list(dict.fromkeys(_DONE_AS.values()))
    return tuple(("done", f"{part} {first[part].isoformat()}") for part in sorted(first, key=order.index))


def responded(response: ResponseAssessment) -> bool:
    """Whether any domain responded (criteria.md §8), for the pipeline's look at earlier restagings."""
    return _responded(response)


def _responded(response: ResponseAssessment) -> bool:
    """Whether any domain responded (criteria.md §8): a haematological PR or better in either framework
    (now, or a CR reached since the baseline), a complete or partial VEGF response, or a clinical
    domain that improved."""
    haematological = {response.hematologic.category, response.hematologic_imwg.category}
    return (
        bool(haematological & {"CR", "VGPR", "PR"})
        or bool(response.cr_dates)
        or response.vegf.category in ("complete", "partial")
        or any(d.direction == "improved" for d in response.clinical.values())
    )


def _nodes_not_enlarged(findings: Sequence[Finding], as_of: dt.date | None) -> bool:
    """The lymph nodes (organomegaly's part) assessed not enlarged at ``as_of``."""
    return part_state(Criterion.ORGANOMEGALY.value, "lymph_nodes", findings, as_of) is State.ABSENT


def _not_over(e: Event, as_of: dt.date | None) -> bool:
    """Whether a course is still given: a course recorded as completed or stopped, with no end date,
    is over by now (not as of an earlier day)."""
    if e.end is None:
        return not (as_of is None and e.status in ("completed", "stopped"))
    return as_of is not None and e.end >= as_of


def _given_now(events: Sequence[Event], as_of: dt.date | None) -> list[Event]:
    """The courses still given on ``as_of``: not over by their end or status, or repeated doses still in
    their rhythm."""
    return [*(e for e in events if _not_over(e, as_of)), *_in_rhythm(events, as_of)]


def _in_rhythm(doses: Sequence[Event], as_of: dt.date | None) -> list[Event]:
    """An agent given as repeated single doses (weekly bortezomib administrations, each over on its day)
    whose last dose is no further back than the longest gap between its doses: the course is still
    running (probe48 D6: the neurotoxicity caution was "completed" four days after a weekly dose). One
    dose has no rhythm; a course past its own longest gap is over. This project's reading, not criteria.md's."""
    if as_of is None:
        return []
    running: list[Event] = []
    by_agent: dict[str, list[Event]] = {}
    for e in doses:
        if e.effective and e.effective <= as_of:
            by_agent.setdefault(e.agent or e.summary, []).append(e)
    for given in by_agent.values():
        days = sorted({e.effective for e in given if e.effective})
        if len(days) < 2:
            continue
        longest = max((b - a).days for a, b in itertools.pairwise(days))
        if (as_of - days[-1]).days <= longest:
            running += [e for e in given if e.effective == days[-1]]
    return running


def _given_on(events: Sequence[Event], day: dt.date, as_of: dt.date | None) -> list[Event]:
    """The courses given on ``day``: begun by then and not yet ended (a course recorded as completed or
    stopped with no end date ended at an unknown day: given up to ``as_of`` where there is one, as
    :func:`_not_over` reads it), or repeated doses still in their rhythm on that day."""

    def given(e: Event) -> bool:
        if e.effective is None or e.effective > day:
            return False
        if e.end is not None:
            return e.end >= day
        return e.status not in ("completed", "stopped") or (as_of is not None and day <= as_of)

    return [*(e for e in events if given(e)), *_in_rhythm(events, day)]


def _progression_days(
    response: ResponseAssessment, relapse: Sequence[Alert], findings: Sequence[Finding]
) -> list[dt.date]:
    """The days the relapse alerts saw a progression: the haematological or VEGF value that showed it, the
    imaging report or the feature come back."""
    days = {day for day, _ in _progressions(response)}
    dated = {f.evidence.reference: f.effective for f in findings if f.effective}
    for alert in relapse:
        if alert.code in ("radiologic_progression", "reappearance"):
            days |= {day for ref in alert.evidence if (day := dated.get(ref)) is not None}
    return sorted(days)


def _transplant_eligibility(
    transplant: Sequence[Event], systemic: Sequence[Event], started: dt.date | None, risk: Sequence[RiskFactor]
) -> Step:
    """criteria.md §10 steps 2a/2c. Completed by a transplant given or planned (a mobilisation counts). A
    systemic regimen under way with no transplant on record leaves open whether eligibility was assessed
    (step 2b's induction before a transplant is a regimen too): the status is ``unknown`` and the regimen
    is cited, not "not started" as for a new patient (probe48 D5). An eGFR below 30 at diagnosis (Wang
    2017's risk factor) adds step 2a's renal dose, "in small series"."""
    regimen = (
        [e for e in systemic if e.kind in ("treatment", "chemotherapy") and e.effective and e.effective >= started]
        if started is not None and not transplant
        else []
    )
    renal = [f for f in risk if f.id == "egfr_below_30" and f.state is State.PRESENT]
    agents = sorted({e.agent or e.summary for e in regimen})
    return Step(
        "transplant-eligibility",
        "Assess transplant eligibility",
        "High-dose melphalan with autologous stem-cell transplantation for eligible patients; otherwise "
        "lenalidomide + dexamethasone or melphalan + dexamethasone (Dispenzieri 2023)."
        + (
            f" Systemic therapy since {started} ({', '.join(agents)}) and no transplant on record: confirm whether "
            "transplant eligibility was assessed."
            if regimen
            else ""
        )
        + (
            " eGFR below 30 at diagnosis: 180 mg/m2 melphalan was used for renal insufficiency in small series."
            if renal
            else ""
        ),
        "completed" if transplant else "unknown" if regimen else "not-started",
        evidence=tuple(e.reference for e in transplant)
        + tuple(e.reference for e in regimen)
        + tuple(r for f in renal for r in f.evidence),
        params=tuple(("agent", x) for x in agents)
        + ((("since", str(started)),) if regimen else ())
        + ((("renal", "egfr_below_30"),) if renal else ()),
    )


#: signs of engraftment syndrome the criteria model records (criteria.md §10 step 4 names fever, diarrhoea,
#: weight gain and rash; of these only diarrhoea is a sign of the model) and the days after the transplant
#: counted as "around engraftment" (this project's reading: criteria.md gives no window)
ENGRAFTMENT_SIGNS = (Sign.DIARRHEA.value,)
ENGRAFTMENT_DAYS = 30


def _around_engraftment(asct: Sequence[Event], findings: Sequence[Finding], as_of: dt.date | None) -> list[Finding]:
    """Signs of engraftment syndrome recorded from a transplant day to day +30 - of each transplant: a second
    one (tandem, or salvage at relapse) engrafts too (probe83 D3) -: seed_case.md asks that these be recorded
    as complications, not as POEMS progression (probe48 D12: a diarrhoea at day +11 was shown nowhere). One
    per sign and day, in date order."""
    days = {e.effective for e in asct if e.effective}
    if not days:
        return []
    seen = {
        (f.effective, f.topic): f
        for f in sorted(findings, key=lambda f: f.evidence.reference)
        if f.topic in ENGRAFTMENT_SIGNS
        and f.state is State.PRESENT
        and f.effective
        and any(day0 <= f.effective <= add_days(day0, ENGRAFTMENT_DAYS) for day0 in days)
        and _known_on(f.effective, as_of)
    }
    return [seen[k] for k in sorted(seen, key=lambda k: (k[0], k[1]))]


def _restaging_day100(
    day0: dt.date,
    following: dt.date | None,
    transplant: Sequence[Event],
    measurements: Sequence[Measurement],
    as_of: dt.date | None,
    several: bool,
) -> Step | None:
    """criteria.md §10 step 5 for the transplant of ``day0``: begun by a serum immunofixation or M-protein
    from day +90 on - before ``following``, the next transplant, whose own restaging takes over (a sample 14
    days after a tandem's second transplant is no restaging of the first: probe83 D3). The last transplant's
    keeps the id ``restaging-day100`` (the restaging the plan proposes now); an earlier one's is shown only
    where it was begun, under an id of its own (its day), `completed`: the next transplant closed it.
    ``several``: more than one transplant, so the step names its own."""
    # from the last day the transplant can be: one known only to its month is sure to be 90 days past from
    # day +90 of its last day (probe84 D5: a sample that may be day +66 began the restaging of "April 2022")
    start = restaging_opens(day0)
    end = add_days(start, 10)
    restaged = [
        m
        for m in measurements
        if m.analyte in ("serum_ife", "serum_m_protein")
        and m.effective
        and m.effective >= start
        and (following is None or m.effective < following)
        and (as_of is None or m.effective <= as_of)
    ]
    if following is not None and not restaged:
        return None  # a tandem's first transplant: never restaged, the next one's restaging is the plan's
    missing: list[str] = []
    done: tuple[tuple[str, str], ...] = ()
    superseded: dt.date | None = None
    if restaged:  # the restaging is the first such day: later follow-up results are no evidence of it
        first = min(m.effective for m in restaged if m.effective)
        restaged = [m for m in restaged if m.effective == first]
        parts, missing = _restaging_parts(measurements, first, as_of, following)
        restaged += parts
        done = _parts_done(restaged) if missing else ()
        # a restaging begun in part is over once the follow-up moved on - a haematological study 3 months
        # or more after it: it read "in progress, overdue since 2019" in 2022, after a CR and a relapse
        # (probe58 D6); its missing parts stay said
        superseded = min(
            (
                m.effective
                for m in measurements
                if m.analyte in _SURVEILLANCE_ANALYTES
                and m.effective
                and m.effective >= add_months(first, 3)
                and (following is None or m.effective < following)
                and _known_on(m.effective, as_of)
            ),
            default=None,
        )
    return Step(
        "restaging-day100" if following is None else f"restaging-day100-{day0.isoformat()}",
        f"Restaging at day +90/+100 after transplant ({start} - {end})",
        (f"After the transplant {on_day(day0)}. " if several else "")
        + "Serum/urine IFE, FLC, VEGF, CBC, chemistry, PET-CT/CT of known lesions, echocardiography if pulmonary "
        "hypertension, neurological examination +/- NCS (D'Souza 2012)."
        + (f" Not yet done at this restaging: {', '.join(missing)}." if missing else "")
        + (f" The transplant on {following} came after it." if following is not None else ""),
        # not-started, not "scheduled": FHIR's scheduled means booked, and nobody booked a proposal;
        # one serum immunofixation is a restaging begun, not done (probe38 D6); a later transplant closes it
        ("in-progress" if missing and superseded is None and following is None else "completed")
        if restaged
        else "not-started",
        scheduled_start=start,
        scheduled_end=end,
        evidence=tuple(e.reference for e in transplant) + tuple(m.reference for m in restaged),
        key="" if following is None else "restaging-day100",
        params=((("transplant", day0.isoformat()),) if several else ())
        + tuple(("missing", x) for x in missing)
        + done
        + ((("superseded", superseded.isoformat()),) if missing and superseded else ())
        + ((("next_transplant", following.isoformat()),) if following is not None else ()),
    )


def pathway(
    a: Assessment,
    earlier: Assessment | None,
    response: ResponseAssessment,
    risk: Sequence[RiskFactor],
    findings: Sequence[Finding],
    measurements: Sequence[Measurement],
    events: Sequence[Event],
    as_of: dt.date | None,
    earlier_responses: Sequence[ResponseAssessment] = (),
    today: dt.date | None = None,
    responded_before: bool = False,
) -> list[Step]:
    """``earlier`` is the assessment at the first treatment: work-up open then and closed now is completed.
    ``earlier_responses``: the response as of earlier results (pipeline: after a radiotherapy only), so a
    progression that led to an escalation is not forgotten once the new therapy works. ``today``: the
    run's date, which judges what is overdue when there is no ``as_of`` (the sync job and the CDS
    service: a patient lost to follow-up has no newer data to be overdue by, probe58 D1).
    ``responded_before``: a response was reached at an earlier restaging and since lost - surveillance
    goes on (probe64 D1: it vanished when a VGPR fell back to no response)."""
    steps: list[Step] = []
    if a.classification is Classification.NOT_MET:
        return steps
    mandatory = all(a.criteria[c].state is State.PRESENT for c in _MANDATORY)

    # --- work-up: what decides the classification first, then what completes it
    deciding = [m.criterion for m in a.missing]
    completing = [
        c
        for c, r in a.criteria.items()
        if r.open
        and c not in deciding
        # §10 step 0 "LN biopsy if nodes enlarged/avid": not to complete the work-up of a patient whose
        # nodes were assessed not enlarged (where Castleman decides the classification it stays proposed)
        and not (c == "castleman_disease" and _nodes_not_enlarged(findings, as_of))
    ]
    done = [c for c, r in (earlier.criteria.items() if earlier else []) if r.open and not a.criteria[c].open]
    for cid in deciding + completing + done:
        coding, text = WORKUP[cid]
        r = a.criteria[cid]
        # a low-grade negative with a known reason: repeat the test once the reason is gone (probe98 D8)
        retest = r.retest if cid not in done and r.state is State.INDETERMINATE and r.retest else None
        text = RETEST.get((cid, retest or ""), text)
        coding = RETEST_CODING.get((cid, retest or ""), coding)
        # a result on record that could not be read: correct it at the source, or repeat (probe102 A2)
        unread = cid not in done and r.state is State.NOT_ASSESSED and r.retest == "unread"
        if unread:
            text = f"Correct the result on record that could not be read (its unit or value), or repeat: {text}"
        # ... else, with one part of the criterion measured, the other one only (probe98 D9)
        parts = r.unassessed_parts if cid not in done and not retest and not unread else ()
        part = parts[0] if len(parts) == 1 and (cid, parts[0]) in PART_WORKUP else None
        if part is not None:
            coding, text = PART_WORKUP[(cid, part)]
        # after the first treatment only a positive result can decide (engine.evaluate: a negative then
        # may be the response, criteria.md §3.3): say so, not "decides the classification" (probe38)
        treated = response.first_treatment is not None
        if cid in done:
            status, why = "completed", f"assessed since: {r.state.value.replace('_', ' ')}"
        else:
            status = "not-started"
            why = (
                (
                    "decides the classification only if found (treatment has begun)"
                    if treated
                    else "decides the classification"
                )
                if cid in deciding
                else "completes the POEMS work-up"
            )
        steps.append(
            Step(
                f"workup-{cid}" + (f"-{part}" if part else ""),
                text,
                f"{cid.replace('_', ' ')}: {r.reason}; {why}.",
                status,
                coding,
                evidence=tuple(e.reference for e in r.evidence),
                key="workup",
                params=(
                    ("criterion", cid),
                    (
                        "why",
                        "completed"
                        if cid in done
                        else ("deciding_if_found" if treated else "deciding")
                        if cid in deciding
                        else "completing",
                    ),
                )
                + ((("part", part),) if part else ())
                + ((("retest", retest),) if retest else ())
                + ((("unread", "result"),) if unread else ()),
            )
        )
    if not mandatory:
        return steps

    started = response.first_treatment

    def known(e: Event) -> bool:  # dated and given by --as-of
        return bool(e.effective) and (as_of is None or e.effective <= as_of)  # type: ignore[operator]

    treatments = [e for e in events if known(e)]
    asct = [e for e in treatments if e.kind == "autologous_hsct" and e.status != "preparation"]
    # a planned transplant is usually not dated yet (a Procedure in preparation has no performed[x]):
    # undated, it counts when no --as-of asks what was known on a day
    planned_asct = [
        e
        for e in events
        # the kind first, and no search of `treatments` per event (probe43: quadratic in medications)
        if ((e.kind == "autologous_hsct" and e.status == "preparation") or e.kind == "stem_cell_mobilisation")
        and (known(e) or (e.effective is None and as_of is None))
    ]

    # --- step 0: staging before therapy: begun by any of its laboratory tests on record (probe48 D14: "not
    # started" beside an immunofixation, FLC, VEGF, blood count and marrow already done); the latest of each
    staging_latest: dict[str, Measurement] = {}
    for m in measurements:
        if m.analyte in _STAGING_ANALYTES and m.effective and _known_on(m.effective, as_of):
            prior = staging_latest.get(m.analyte)
            if prior is None or (m.effective, m.reference) > (prior.effective, prior.reference):  # type: ignore[operator]
                staging_latest[m.analyte] = m
    # a bone-marrow report read in words (a trephine's "4% lambda-restricted plasma cells", or no clonal cells):
    # the marrow examination is on record as the branch below reads it (probe108 D4: "not yet on record" beside
    # a branch chosen from that marrow); the latest one
    marrow_reports = sorted(
        (
            f
            for f in findings
            if f.topic == Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
            and f.state in (State.PRESENT, State.ABSENT)
            and f.source_rule in MARROW_CLONE_RULES
            and f.specimen != "lesion"
            and _known_on(f.effective, as_of)
        ),
        key=lambda f: (f.effective or dt.date.min, f.evidence.reference),
    )
    marrow_report = (marrow_reports[-1].evidence.reference,) if marrow_reports else ()
    staged = tuple(sorted({*(m.reference for m in staging_latest.values()), *marrow_report}))
    # which of its laboratory parts are on record and which not: the step lists the whole work-up as
    # criteria.md does, and said nothing of what was done (probe77 D3)
    staging_parts = (
        ()
        if started or not staged
        else tuple(
            (
                "on_record"
                if any(a in staging_latest for a in analytes) or (part == "marrow" and marrow_report)
                else "not_on_record",
                part,
            )
            for part, analytes in _STAGING_PARTS
        )
    )
    steps.append(
        Step(
            "staging",
            "Complete staging before therapy",
            "Serum + urine IFE, FLC, plasma VEGF, CBC, bone-marrow aspirate/biopsy, whole-body CT-based bone imaging or "
            "FDG PET-CT, lymph-node biopsy if nodes are enlarged/avid, endocrine panel, echocardiography (sPAP), "
            "pulmonary function tests, NCS/EMG, fundoscopy (D'Sa 2022).",
            "unknown" if started else "in-progress" if staged else "not-started",
            evidence=() if started else staged,
            params=staging_parts,
        )
    )
    # the staging tests no criterion's work-up above proposes, each on its own while it is missing
    # (seed_case.md T0 "missing-data actions": serum FLC and 24-h urine protein/IFE; echo sPAP value).
    # Also once treatment began (the origin case's induction started a week before its T0 date): the
    # sPAP and the NCS report are as wanted as before, and a first FLC then is the response's reference
    # (probe38 D5: the three proposals vanished with the first dose, none of the tests done)
    # - until the first restaging after the start, from which the response steps take over
    restaged_since_start = started is not None and any(
        m.analyte in _RESPONSE_ANALYTES and m.effective and m.effective > started and _known_on(m.effective, as_of)
        for m in measurements
    )
    if not restaged_since_start:
        measured = {m.analyte for m in measurements if _known_on(m.effective, as_of)}
        # (the clone is present here - staging follows both mandatory criteria - so its own work-up
        # never proposes these tests too)
        if not (measured & {"flc_kappa", "flc_lambda", "flc_ratio"} and measured & {"urine_ife", "urine_m_protein"}):
            steps.append(
                Step(
                    "staging-flc-urine",
                    "Serum free light chains and 24-hour urine protein with immunofixation",
                    "The baseline of the haematological response: both frameworks read them (D'Sa 2022)."
                    + (" Treatment has started: the first values are the reference." if started else ""),
                    "not-started",
                    key="staging-flc-urine",
                    params=(("after_start", "yes"),) if started else (),
                )
            )
        # the sPAP value is what is wanted (seed_case.md T0: pulmonary hypertension "by echocardiography",
        # "sPAP value not reported" -> "echo sPAP value"); an echo that found no hypertension needs none
        echo = "pasp" in measured or any(
            f.topic == "pulmonary_hypertension" and f.state is State.ABSENT and _known_on(f.effective, as_of)
            for f in findings
        )
        if not echo:
            steps.append(
                Step(
                    "staging-echo",
                    "Echocardiography with the pulmonary artery systolic pressure",
                    "Pulmonary hypertension is a supporting sign and a risk factor (Wang 2017: sPAP >= 50 mmHg) (D'Sa 2022).",
                    "not-started",
                    key="staging-echo",
                )
            )
        # seed_case.md T0 "NCS report": a neuropathy recorded as a diagnosis only; where the criterion
        # itself is open, its own work-up step proposes the study
        ncs_done = any(e.kind == "nerve_conduction_study" and _known_on(e.effective, as_of) for e in events)
        if not ncs_done and "polyneuropathy" not in deciding + completing:
            steps.append(
                Step(
                    "staging-ncs",
                    "Nerve conduction study / EMG report",
                    "Demyelinating features on NCS support the polyneuropathy of POEMS (D'Sa 2022; Dispenzieri 2012).",
                    "not-started",
                    key="staging-ncs",
                )
            )

    # steps 1-4 treat POEMS (criteria.md §10, "treat the plasma-cell clone"): not a paraprotein with a
    # neuropathy alone (§7 MGUS-associated neuropathy: POEMS needs another major and a minor), whose
    # plan is the work-up that decides it - unless the criteria are met, treatment began, or another
    # POEMS criterion is present (the origin case at T0: minors present, the diagnosis indeterminate)
    if not poems_context(a, started):
        return steps

    # --- steps 1/2: local vs systemic, decided by the extent of bone and marrow disease
    marrow = [
        f
        for f in findings
        if f.topic == Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
        and f.state is State.PRESENT
        and f.source_rule in MARROW_CLONE_RULES
        and f.specimen != "lesion"  # a plasmacytoma's clone is no marrow involvement (probe77 D1)
        and _known_on(f.effective, as_of)
    ]
    # no clonal plasma cells: a 0 % result - of clonal plasma cells, or of plasma cells at all (a manual count
    # of 0 %, LOINC 11118-7: no plasma cells, so no clonal ones; probe111 D7) - or a marrow report saying so
    marrow_negative = [
        m.reference
        for m in measurements
        if m.analyte in ("bm_clonal_plasma_cells", "bm_plasma_cells") and m.value == 0 and _known_on(m.effective, as_of)
    ] + [
        f.evidence.reference
        for f in findings
        if f.topic == Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
        and f.state is State.ABSENT
        and f.source_rule in MARROW_CLONE_RULES
        and f.specimen != "lesion"
        and _known_on(f.effective, as_of)
    ]
    # given = done: a transplant or radiotherapy still in preparation or planned is not yet given
    given = [e for e in treatments if e.status not in ("preparation", "planned")]
    # systemic: a medication, a transplant, or a chemotherapy recorded only as a Procedure
    systemic_given = [e for e in given if e.kind in ("treatment", "autologous_hsct", "chemotherapy")]
    radiotherapy_given = [e for e in given if e.kind == "radiotherapy"]
    # a course still going, with no end recorded, is not completed: §10 step 1a counts from completing it
    # (probe113 D7: one begun in March and still "in-progress" was "completed on Mar 1", its restaging overdue)
    radiotherapy_done = [e for e in radiotherapy_given if e.end is not None or e.status not in _ONGOING]
    if marrow:
        steps.append(
            Step(
                "branch",
                "Systemic therapy (disseminated marrow involvement)",
                "Clonal plasma cells in the bone marrow: treat the clone systemically rather than with radiotherapy "
                "alone (Dispenzieri 2023).",
                "completed" if systemic_given else "not-started",
                evidence=_refs(marrow),
                key="branch-systemic",
            )
        )
    elif marrow_negative:
        steps.append(
            Step(
                "branch",
                "Consider radiotherapy if the bone lesions are limited",
                "No clonal plasma cells in the random marrow sample: a dominant plasmacytoma or limited sclerotic lesions "
                "(<= 3 in reviews) are treated with radiotherapy; diffuse lesions need systemic therapy; escalate "
                "if progressing 3-6 months after radiation (Dispenzieri 2023; Dispenzieri 2019; D'Sa 2022).",
                "completed"
                if radiotherapy_done or systemic_given
                else "in-progress"
                if radiotherapy_given
                else "not-started",
                evidence=tuple(dict.fromkeys(marrow_negative)),
                key="branch-radiotherapy",
            )
        )
    elif not any(e.kind == "autologous_hsct" for e in systemic_given):
        # after a transplant the choice between radiotherapy and systemic therapy has been made: a biopsy
        # "to choose" is no proposal any more (probe41: still proposed two years after the transplant)
        steps.append(
            Step(
                "branch",
                "Bone-marrow biopsy to choose local or systemic therapy",
                "The extent of marrow disease decides between radiotherapy and systemic therapy: random iliac-crest "
                "aspirate/biopsy with clonality (Dispenzieri 2023).",
                # no marrow result is on record: the biopsy is not done, whatever therapy was started
                # without it (a treatment is no biopsy; "completed" told a clinician not to order it)
                "not-started",
                key="branch-biopsy",
            )
        )
    radiologic = [
        (f.effective, f.evidence.reference)
        for f in findings
        if f.topic == "radiologic_progression"
        and f.state is State.PRESENT
        and f.effective
        and _known_on(f.effective, as_of)
    ]
    escalation = _escalation_after_radiotherapy(
        response, radiotherapy_done, systemic_given, earlier_responses, radiologic
    )
    if escalation:
        steps.append(escalation)
    elif (
        restage := _restaging_after_radiotherapy(
            radiotherapy_done,
            systemic_given,
            measurements,
            as_of,
            as_of or today or _newest_fact(findings, measurements, events),
        )
    ) is not None:
        steps.append(restage)
    # step 2a is a systemic therapy's (step 2: disseminated marrow involvement): with the marrow not yet
    # known, only once the diagnosis is made or a treatment began - an indeterminate diagnosis whose
    # marrow biopsy is still proposed got the transplant proposed beside it (probe58 D3)
    if marrow or (
        not marrow_negative
        and (a.classification is Classification.MET or started is not None or bool(asct or planned_asct))
    ):
        steps.append(_transplant_eligibility(asct or planned_asct, systemic_given, started, risk))

    # --- caution on neurotoxic agents
    neurotoxic = [e for e in treatments if e.neurotoxic]
    ongoing = _given_now(neurotoxic, as_of)
    steps.append(
        Step(
            "neurotoxic-caution",
            "Weigh neurotoxicity of thalidomide and bortezomib",
            "Thalidomide and bortezomib are active but may worsen the neuropathy; monitor neuropathy closely if used "
            "(Dispenzieri 2023; Keddie 2018)."
            + (f" Given: {', '.join(sorted({e.agent or e.summary for e in neurotoxic}))}." if neurotoxic else ""),
            "in-progress" if ongoing else "completed" if neurotoxic else "not-started",
            evidence=tuple(e.reference for e in neurotoxic),
            params=tuple(("agent", a) for a in sorted({e.agent or e.summary for e in neurotoxic})),
        )
    )

    # --- step 3: thrombosis prophylaxis
    thrombosis = [f for f in risk if f.model.startswith("thrombosis") and f.state is State.PRESENT]
    # an antiplatelet or anticoagulant on record and not over by --as-of: the prophylaxis is under way
    # (probe42: an active aspirin order left it proposed)
    antithrombotic = [e for e in treatments if e.kind == "antithrombotic" and _not_over(e, as_of)]
    steps.append(
        Step(
            "thrombosis-prophylaxis",
            "Antiplatelet prophylaxis; consider anticoagulation",
            "Antiplatelet prophylaxis is advised for all patients; consider anticoagulation with thrombosis risk factors"
            + (
                f" (present: {', '.join(f.id.removeprefix('thrombosis_').replace('_', ' ') for f in thrombosis)})"
                if thrombosis
                else ""
            )
            + " (Mellors 2021)."
            + (
                f" Given: {', '.join(sorted({e.agent or e.summary for e in antithrombotic}))}."
                if antithrombotic
                else ""
            ),
            "in-progress" if antithrombotic else "not-started",
            evidence=tuple(r for f in thrombosis for r in f.evidence) + tuple(e.reference for e in antithrombotic),
            params=tuple(("risk", f.id) for f in thrombosis)
            + tuple(("agent", a) for a in sorted({e.agent or e.summary for e in antithrombotic})),
        )
    )

    # --- step 4: engraftment syndrome when a transplant is planned
    if planned_asct or asct:
        spleen = splenomegaly(findings)
        complications = _around_engraftment(asct, findings, as_of)
        # a further transplant being prepared (a mobilisation or a transplant in preparation dated after the
        # last one done) is anticipated again (probe83 D3); an undated one beside a done transplant is not
        # read as a new one (a record left in preparation)
        last_done = max((e.effective for e in asct if e.effective), default=None)
        again = last_done is not None and any(e.effective and e.effective > last_done for e in planned_asct)
        steps.append(
            Step(
                "engraftment-syndrome",
                "Anticipate engraftment syndrome around the transplant",
                "Fever, diarrhoea, weight gain and rash around engraftment; earlier, more aggressive corticosteroids may "
                "help (Dispenzieri 2008)."
                + (
                    " Splenomegaly is the best baseline predictor of a complicated course: higher risk."
                    if spleen
                    else ""
                ),
                "completed" if asct and not again else "not-started",
                evidence=tuple(e.reference for e in (planned_asct + asct)) + _refs(spleen) + _refs(complications),
                params=((("splenomegaly", "yes"),) if spleen else ())
                + tuple(("engraftment_sign", f"{f.topic} {f.effective}") for f in complications),
            )
        )

    # --- step 5: restaging at day +90/+100, on the real transplant date - of the last transplant (criteria.md
    # §10 step 5, "Trigger: ASCT done"): a second transplant, tandem or salvage, is restaged from its own day
    # (probe83 D3: the plan stayed on the first one); an earlier transplant's restaging that was begun keeps
    # its own activity, closed by the transplant after it
    transplant_days = sorted({e.effective for e in asct if e.effective})
    for i, day0 in enumerate(transplant_days):
        following = transplant_days[i + 1] if i + 1 < len(transplant_days) else None
        restaging = _restaging_day100(
            day0, following, [e for e in asct if e.effective == day0], measurements, as_of, len(transplant_days) > 1
        )
        if restaging is not None:
            steps.append(restaging)

    # --- step 6: surveillance after response (criteria.md §10: trigger "After response"): VEGF every
    # 6 months, same specimen type. Before any domain responded, the work-up and restaging steps apply
    if started and (_responded(response) or responded_before):
        vegf = sorted(
            (
                m
                for m in measurements
                if m.analyte == "vegf" and m.effective and (as_of is None or m.effective <= as_of)
            ),
            key=lambda m: m.effective,  # type: ignore[arg-type,return-value]
        )
        specimen = response.vegf.specimen or (vegf[-1].specimen if vegf else None) or "plasma"
        last = vegf[-1].effective if vegf else None
        # without a VEGF yet it is due now: the evaluation date, else the latest data
        latest = max(
            (m.effective for m in measurements if m.effective and (as_of is None or m.effective <= as_of)),
            default=started,
        )
        due = add_months(last, 6) if last else (as_of or latest)
        steps.append(
            Step(
                "vegf-surveillance",
                f"VEGF about every 6 months, {specimen} (same specimen type and assay)",
                "VEGF normalisation and its surveillance predict relapse (Gentile 2024; Misawa 2015); serum and plasma "
                "values are not comparable, so keep the specimen type."
                + ("" if vegf else " No VEGF yet: obtain one now as a reference."),
                # in progress once a VEGF was measured since the first treatment, as the surveillance beside it
                # (probe77 D5: "not-started" on the day one was measured)
                "in-progress" if last and started <= last else "not-started",
                coding=WORKUP["vegf_elevation"][0],
                scheduled_start=due,
                repeat_months=6,
                evidence=tuple(m.reference for m in vegf[-1:]),
                params=(("specimen", specimen),) + (() if vegf else (("no_vegf_yet", "yes"),)),
            )
        )
        # due 6 months (the interval's end) after the latest haematological test since the first treatment,
        # in progress once there is one: it had no date, so 21 months without a blood test never read
        # overdue, and follow-up tests left it "not started" (probe58 D2)
        tests = [
            m
            for m in measurements
            if m.analyte in _SURVEILLANCE_ANALYTES and m.effective and started <= m.effective
            if _known_on(m.effective, as_of)
        ]
        last_test = max((m.effective for m in tests if m.effective), default=None)
        steps.append(
            Step(
                "surveillance",
                "Surveillance every 3-6 months",
                "IFE/FLC, CBC, chemistry, neurological examination; imaging of previously involved sites; endocrine "
                "follow-up (D'Sa 2022).",
                "in-progress" if last_test else "not-started",
                # with no test since the first treatment, the interval runs from that treatment (probe98 D5: due on
                # the evaluation date, which moved with it, so a year without a test never read overdue)
                scheduled_start=add_months(last_test or started, 6),
                # every 3-6 months: due at the interval's end, so the frequency says the range, not 3 alone
                # (probe64 D6: "Every 3 months" beside a date 6 months on)
                repeat_months=3,
                repeat_months_max=6,
                evidence=tuple(dict.fromkeys(m.reference for m in tests if m.effective == last_test)),
            )
        )

    # --- a follow-up VEGF in another specimen type than the baseline's answers nothing (criteria.md §4; §10
    # step 6: same specimen type and assay): one in the baseline's type is proposed, unless the surveillance
    # above asks for it already (probe108 D2: no VEGF proposal at all once a plasma value followed a serum one)
    vegf_response = response.vegf
    if (
        started
        and vegf_response.unpaired is not None
        and vegf_response.baseline is not None
        and vegf_response.specimen
        and not any(s.id == "vegf-surveillance" for s in steps)
    ):
        steps.append(
            Step(
                "vegf-same-specimen",
                f"VEGF in {vegf_response.specimen}, the baseline's specimen type",
                f"The follow-up VEGF ({vegf_response.unpaired_specimen}) cannot be compared with the "
                f"{vegf_response.specimen} baseline: serum and plasma values are not comparable. A VEGF in "
                f"{vegf_response.specimen} assesses the response; a {vegf_response.unpaired_specimen} series can only "
                "start a new reference.",
                "not-started",
                coding=WORKUP["vegf_elevation"][0],
                evidence=(vegf_response.baseline.reference, vegf_response.unpaired.reference),
                params=(
                    ("specimen", vegf_response.specimen),
                    ("other_specimen", vegf_response.unpaired_specimen or "unknown"),
                ),
            )
        )

    # --- response alerts turned into proposals
    for alert in response.alerts:
        if alert.code == "discordant_response":
            steps.append(
                Step(
                    "regimen-review",
                    "Review the regimen: discordant response",
                    alert.message,
                    "not-started",
                    evidence=alert.evidence,
                    params=(("alert", alert.code),),
                )
            )
        elif alert.code == "clinical_progression":
            steps.append(
                Step(
                    "regimen-review",  # the same activity id: a plan has one of the two at a time
                    "Review the regimen: clinical worsening without response",
                    alert.message,
                    "not-started",
                    evidence=alert.evidence,
                    key="regimen-review-worsening",
                    params=(("alert", alert.code),),
                )
            )
    # one relapse work-up, whatever showed the relapse: haematological progression, rising VEGF, a feature
    # come back - three activities with one title were one work-up (probe38); each alert is named in it
    relapse = [a for a in response.alerts if a.code in RELAPSE_ALERTS]
    first_of = {al.code: al for al in reversed(relapse)}  # both haematological frameworks: the first one's words
    if relapse:
        # an IMiD given when the progression was seen: "IMiDs ... salvage" is no advice for a progression on
        # one (probe48 D7) - judged on the progression's day, not on the evaluation day (probe108 D6: a VEGF
        # rise during a lenalidomide course lost the caution once the course had ended by the run's date)
        imids = [e for e in treatments if e.agent in _IMIDS]
        days = _progression_days(response, relapse, findings)
        running = [e for day in days for e in _given_on(imids, day, as_of)] if days else _given_now(imids, as_of)
        on_imid = sorted({e.agent for e in running if e.agent})
        steps.append(
            Step(
                "relapse",
                "Relapse/progression work-up and salvage",
                "; ".join(first_of[c].message for c in dict.fromkeys(al.code for al in relapse))
                + ". IMiDs or radiation salvage are commonly effective (D'Souza 2012)."
                + (
                    f" Progression while on {', '.join(on_imid)}: review that regimen rather than repeat it."
                    if on_imid
                    else ""
                )
                + (
                    # §10 step 1a before step 7's salvage: "radiation salvage" beside "escalate to systemic
                    # therapy" contradicted it (probe58 D4)
                    " Progression 3-6 months after radiotherapy: escalate to systemic therapy (step 1a) rather than "
                    "radiation salvage."
                    if escalation is not None
                    else ""
                ),
                "not-started",
                evidence=tuple(dict.fromkeys(r for al in relapse for r in al.evidence)),
                key="relapse",
                params=tuple(("alert", c) for c in dict.fromkeys(al.code for al in relapse))
                + tuple(("on_imid", a) for a in on_imid)
                + ((("after_radiotherapy", "escalate"),) if escalation is not None else ()),
            )
        )
    # without --as-of the plan speaks as of the run's date where the caller gives one (sync, serve), else
    # as of the newest fact on record (evaluate: the same data give the same plan; probe51 D3, a
    # restaging window closed 15 months before the data's end read as plainly "in progress")
    cut = as_of or today or _newest_fact(findings, measurements, events)
    return [_overdue(step, cut) for step in steps]


def _newest_fact(
    findings: Sequence[Finding], measurements: Sequence[Measurement], events: Sequence[Event]
) -> dt.date | None:
    """The date of the newest dated finding, result or treatment (its end where it has one)."""
    days = [
        *(f.effective for f in findings),
        *(m.effective for m in measurements),
        *(e.end or e.effective for e in events),
    ]
    return max((d for d in days if d is not None), default=None)


def _overdue(step: Step, as_of: dt.date | None) -> Step:
    """A step not done whose window closed, or whose next due date passed, before ``as_of`` says since
    when it is overdue (probe48 D10: a VEGF "next due" months in the past, a day +100 restaging still
    "in progress" weeks after its window closed, read like any other proposal)."""
    due = step.scheduled_end or (step.scheduled_start if step.repeat_months else None)
    if as_of is None or due is None or due >= as_of or step.status not in ("not-started", "in-progress"):
        return step
    return replace(step, params=(*step.params, ("overdue", due.isoformat())))
