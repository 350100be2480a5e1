"""The proposed care pathway in the cases the earlier pathway tests left open (found by mutation testing).

Checked: the radiotherapy branch for a marrow without clonal plasma cells and what completes it;
what counts as marrow involvement, as systemic therapy and as radiotherapy given; a transplant still
in preparation; work-up completed since the first treatment; staging before any therapy; the
neurotoxicity caution, thrombosis prophylaxis and engraftment-syndrome wording; restaging dates and
what completes restaging; VEGF surveillance dates and specimen type; relapse/progression and
discordant-response proposals.

Expectations come from /work/shared/clinical/criteria.md §10 (treatment algorithm: step 0 staging
before therapy, step 1 radiotherapy when the random marrow has no clonal plasma cells, step 2
systemic therapy for marrow involvement, 2a transplant, 2d neurotoxicity caution, step 3 antiplatelet
prophylaxis for all, step 4 engraftment syndrome when an ASCT is planned, step 5 restaging at day
+90/+100 after the ASCT, step 6 VEGF about every 6 months with the same specimen type, step 7
relapse salvage) and §8 (monitoring: response, rising VEGF, discordant response), with the seed case
(/work/shared/clinical/seed_case.md: M-protein 7.7 -> 3.7 g/L with worse neuropathy in 2019-03, ASCT
on 2019-08-30, day +90 = 2019-11-28, day +100 = 2019-12-08) for numbers and dates - not from the
code. Where the code words a step in its own way the exact visible text is pinned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.pathway import Step, pathway
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.timeline import CourseAssessment, Event, Measurement, add_months
from tests.criteria.test_pathway_mutants2 import CFG, CLONE, RISK, d, f, m, steps

#: both mandatory criteria and a minor (paraprotein and neuropathy alone get the work-up only); the
#: M-protein from serum (no marrow result): the branch is still open
SERUM_CLONE = f("monoclonal_plasma_cell_disorder", heavy_chain="IgA", light_chain="lambda")
MANDATORY = [f("polyneuropathy"), SERUM_CLONE, f("skin_changes")]
MARROW_NEGATIVE = m("bm_clonal_plasma_cells", 0, -20, "%")  # random iliac-crest sample, no clonal cells

RADIOTHERAPY_BRANCH = Step(
    id="branch",
    title="Consider radiotherapy if the bone lesions are limited",
    description="No clonal plasma cells in the random marrow sample: a dominant plasmacytoma or limited sclerotic "
    "lesions (<= 3 in reviews) are treated with radiotherapy; diffuse lesions need systemic therapy; escalate if "
    "progressing 3-6 months after radiation (Dispenzieri 2023; Dispenzieri 2019; D'Sa 2022).",
    status="not-started",
    coding=None,
    scheduled_start=None,
    scheduled_end=None,
    repeat_months=None,
    evidence=("Observation/bm_clonal_plasma_cells-20",),
    key="branch-radiotherapy",
    params=(),
)


def by_id(got: list[Step]) -> dict[str, Step]:
    return {s.id: s for s in got}


# --- step 1: no clonal plasma cells in the random marrow -> radiotherapy for limited lesions (§10)


def test_a_marrow_without_clonal_plasma_cells_proposes_radiotherapy_in_full():
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE]))
    assert got["branch"] == RADIOTHERAPY_BRANCH
    # the local branch: no transplant proposal; untreated, so no surveillance yet
    assert [i for i in got if not i.startswith("workup-")] == [
        "staging",
        "staging-flc-urine",  # neither measured yet (a staging test no criterion proposes)
        "staging-echo",
        "staging-ncs",  # the neuropathy is known only as a diagnosis
        "branch",
        "neurotoxic-caution",
        "thrombosis-prophylaxis",
    ]


def test_radiotherapy_given_completes_the_radiotherapy_branch():
    rt = Event("radiotherapy", d(10), "Procedure/rt", "Radiotherapy to the iliac lesion", status="completed")
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE], [rt], as_of=d(60)))
    assert got["branch"].status == "completed"
    assert got["branch"].evidence == ("Observation/bm_clonal_plasma_cells-20",)
    # the same plan on the day before the radiotherapy: not given yet
    assert by_id(steps(MANDATORY, [MARROW_NEGATIVE], [rt], as_of=d(9)))["branch"].status == "not-started"


def test_a_procedure_that_is_not_radiotherapy_does_not_complete_the_radiotherapy_branch():
    biopsy = Event("bone_marrow_biopsy", d(-20), "Procedure/bmb", "Bone-marrow biopsy", status="completed")
    ct = Event("ct", d(-25), "Procedure/ct", "Whole-body low-dose CT", status="completed")
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE], [biopsy, ct], as_of=d(0)))
    assert got["branch"] == RADIOTHERAPY_BRANCH  # still not-started: no therapy given
    # no therapy given: staging, not "unknown"; begun by the marrow result on record (probe48 D14)
    assert (got["staging"].status, got["staging"].evidence) == (
        "in-progress",
        ("Observation/bm_clonal_plasma_cells-20",),
    )


def test_a_zero_in_another_test_is_not_a_negative_marrow():
    # a negative urine immunofixation (0) says nothing about the marrow: a biopsy is still needed to choose
    got = by_id(steps(MANDATORY, [m("urine_ife", 0, -20)]))
    assert got["branch"] == Step(
        id="branch",
        title="Bone-marrow biopsy to choose local or systemic therapy",
        description="The extent of marrow disease decides between radiotherapy and systemic therapy: random "
        "iliac-crest aspirate/biopsy with clonality (Dispenzieri 2023).",
        status="not-started",
        key="branch-biopsy",
    )
    # the diagnosis not made (no major criterion) and the marrow unknown: no transplant yet (probe58 D3)
    assert "transplant-eligibility" not in got


def test_with_the_marrow_unknown_the_transplant_step_waits_for_a_diagnosis_or_a_treatment():
    """probe58 D3: an indeterminate diagnosis (paraprotein, neuropathy, a minor criterion; no VEGF, no
    marrow, no bone imaging) got "high-dose melphalan with ASCT if eligible" beside its own proposal of the
    marrow biopsy that "decides between radiotherapy and systemic therapy" (criteria.md §10: step 2/2a on
    disseminated marrow involvement or diffuse lesions; step 0 stages an indeterminate diagnosis)."""
    undecided = by_id(steps(MANDATORY))
    assert undecided["branch"].key == "branch-biopsy" and "transplant-eligibility" not in undecided
    met = by_id(steps([*MANDATORY, f("vegf_elevation")]))  # a major criterion: met, the marrow still unknown
    assert met["branch"].key == "branch-biopsy" and met["transplant-eligibility"].status == "not-started"
    treated = [Event("treatment", d(-5), "MedicationRequest/len", "lenalidomide", agent="lenalidomide")]
    started = by_id(steps(MANDATORY, events=treated))
    assert "transplant-eligibility" in started  # a systemic treatment began: the transplant question is open


# --- step 2: clonal plasma cells in the marrow -> systemic therapy (§10)


def test_clonal_plasma_cells_by_marrow_flow_cytometry_decide_the_systemic_branch():
    flow = f("monoclonal_plasma_cell_disorder", rule="bm_clonal_plasma_cells")  # LOINC 93021-4, a count > 0
    got = by_id(steps([*MANDATORY, flow], [m("bm_clonal_plasma_cells", 4, -30, "%")]))
    assert got["branch"].title == "Systemic therapy (disseminated marrow involvement)"
    assert got["branch"].key == "branch-systemic"
    assert got["branch"].evidence == ("Condition/bm_clonal_plasma_cells",)
    assert got["branch"].status == "not-started"
    assert got["transplant-eligibility"].status == "not-started"


def test_a_transplant_is_systemic_therapy_given():
    # high-dose melphalan + ASCT recorded only as the transplant procedure (no separate medication)
    asct = Event("autologous_hsct", d(40), "Procedure/asct", "ASCT", status="completed")
    got = by_id(steps(PATIENT, [], [asct], as_of=d(60)))
    assert got["branch"].title == "Systemic therapy (disseminated marrow involvement)"
    assert got["branch"].status == "completed"
    assert got["transplant-eligibility"].status == "completed"
    assert got["transplant-eligibility"].evidence == ("Procedure/asct",)


# --- step 2a/4/5: a transplant still in preparation (seed case: ASCT planned for 2019-08-30)

SEED_DX = dt.date(2019, 2, 15)


def seed_finding(topic: str, rule: str | None = None) -> Finding:
    return Finding(topic, State.PRESENT, Evidence(f"Condition/{rule or topic}", SEED_DX, topic), source_rule=rule)


SEED_FINDINGS = [
    seed_finding("polyneuropathy"),
    seed_finding("monoclonal_plasma_cell_disorder", "marrow_clonal_plasma_cells"),
]
INDUCTION = Event("treatment", dt.date(2019, 2, 20), "MedicationStatement/cyclo", "cyclophosphamide")


def test_a_transplant_in_preparation_is_planned_not_done():
    planned = Event("autologous_hsct", dt.date(2019, 8, 30), "Procedure/asct", "HDM-ASCT", status="preparation")
    got = by_id(steps(SEED_FINDINGS, [], [INDUCTION, planned], as_of=None))
    # 2a: the transplant decision is taken (planned), with the planned procedure as evidence
    assert got["transplant-eligibility"].status == "completed"
    assert got["transplant-eligibility"].evidence == ("Procedure/asct",)
    # 4: engraftment syndrome is anticipated, not yet behind the patient
    assert got["engraftment-syndrome"].status == "not-started"
    assert got["engraftment-syndrome"].evidence == ("Procedure/asct",)
    # 5: no restaging is scheduled from a transplant that has not happened
    assert "restaging-day100" not in got


def test_a_radiotherapy_in_preparation_is_no_planned_transplant():
    # only the status "preparation" marks a planned transplant; a radiotherapy in preparation is no transplant
    rt_planned = Event("radiotherapy", dt.date(2019, 8, 1), "Procedure/rt", "RT", status="preparation")
    got = by_id(steps(SEED_FINDINGS, [], [INDUCTION, rt_planned], as_of=None))
    # not completed by it: the induction under way leaves eligibility open (probe48 D5), citing the induction
    assert got["transplant-eligibility"].status == "unknown"
    assert got["transplant-eligibility"].evidence == (INDUCTION.reference,)
    assert "engraftment-syndrome" not in got


# --- step 0: staging before therapy


def test_staging_before_any_therapy_is_not_started():
    # the clone from serum: PATIENT's marrow clone is a marrow examination on record, which begins the staging
    # (probe108 D4)
    got = by_id(steps(MANDATORY, [], [], as_of=d(0)))
    assert got["staging"].title == "Complete staging before therapy"
    assert got["staging"].status == "not-started"
    # once therapy has begun, whether staging was complete is not known from the data
    lena = Event("treatment", d(1), "MedicationStatement/lena", "lenalidomide")
    assert by_id(steps(PATIENT, [], [lena], as_of=d(30)))["staging"].status == "unknown"


# --- work-up assessed since the first treatment


def test_work_up_assessed_since_the_first_treatment_is_completed_with_its_result():
    lena = Event("treatment", d(0), "MedicationStatement/lena", "lenalidomide")
    vegf = Finding("vegf_elevation", State.PRESENT, Evidence("Observation/vegf", d(50), "VEGF 900"))
    got = by_id(steps([f("polyneuropathy"), CLONE, vegf], [], [lena], as_of=d(60)))
    assert got["workup-vegf_elevation"] == Step(
        id="workup-vegf_elevation",
        title="Measure VEGF, plasma preferred (send out if not available locally); record the specimen type - "
        "serum and plasma cut-offs differ",
        description="vegf elevation: present: VEGF 900; assessed since: present.",
        status="completed",
        coding=("http://loinc.org", "75628-8", "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma"),
        evidence=("Observation/vegf",),
        key="workup",
        params=(("criterion", "vegf_elevation"), ("why", "completed")),
    )


# --- step 5: restaging dates near the end of the calendar (year 9999 is a valid FHIR date)


def test_restaging_past_the_calendar_end_gives_its_last_day():
    # day 0 = 9999-10-01: day +90 = 9999-12-30 still exists, day +100 does not -> the last day
    asct = Event("autologous_hsct", dt.date(9999, 10, 1), "Procedure/asct", "ASCT", status="completed")
    got = by_id(steps(PATIENT, [], [asct], as_of=None))
    restage = got["restaging-day100"]
    assert (restage.scheduled_start, restage.scheduled_end) == (dt.date(9999, 12, 30), dt.date(9999, 12, 31))
    assert restage.title == "Restaging at day +90/+100 after transplant (9999-12-30 - 9999-12-31)"
    assert restage.status == "not-started"


def test_restaging_entirely_past_the_calendar_end():
    asct = Event("autologous_hsct", dt.date(9999, 12, 1), "Procedure/asct", "ASCT", status="completed")
    restage = by_id(steps(PATIENT, [], [asct], as_of=None))["restaging-day100"]
    assert (restage.scheduled_start, restage.scheduled_end) == (dt.date.max, dt.date.max)


# --- helpers for the later steps: the full pipeline of test_pathway_mutants2, plus clinicians' course notes


def plan_steps(findings, ms=(), events=(), as_of: dt.date | None = None, course=()) -> list[Step]:
    r = assess_response(list(ms), list(events), findings, list(course), CFG, as_of)
    risk = assess_risk(findings, list(ms), list(events), r, dt.date(1960, 1, 1), as_of, RISK)
    a = evaluate("Patient/1", findings, MAYO, as_of)
    earlier = evaluate("Patient/1", findings, MAYO, r.first_treatment) if r.first_treatment else None
    return pathway(a, earlier, r, risk, findings, list(ms), list(events), as_of)


def plan(findings, ms=(), events=(), as_of: dt.date | None = None, course=()) -> dict[str, Step]:
    return by_id(plan_steps(findings, ms, events, as_of, course))


PATIENT = [f("polyneuropathy"), CLONE, f("skin_changes")]  # a minor: the treatment pathway applies
LENALIDOMIDE = Event("treatment", d(0), "MedicationStatement/lena", "lenalidomide", agent="lenalidomide", end=d(30))


# --- step 1/2 undecided: no marrow result on record, whatever therapy was given


def test_the_biopsy_step_stays_open_while_no_marrow_result_is_on_record_even_after_therapy():
    # found by a held-out probe (probe26): starting any drug turned an unperformed marrow biopsy into
    # "(Done)" on the CarePlan - a clinician reading it would not order the biopsy (criteria.md §10
    # step 0 lists it in the staging)
    rt = Event("radiotherapy", d(5), "Procedure/rt", "Radiotherapy", status="completed")
    assert by_id(steps(MANDATORY, [], [rt], as_of=d(30)))["branch"].status == "not-started"
    assert by_id(steps(MANDATORY, [], [LENALIDOMIDE], as_of=d(30)))["branch"].status == "not-started"
    assert by_id(steps(MANDATORY, [], [LENALIDOMIDE], as_of=d(30)))["branch"].key == "branch-biopsy"


# --- step 2d: caution on neurotoxic agents


CAUTION = (
    "Thalidomide and bortezomib are active but may worsen the neuropathy; monitor neuropathy closely if used "
    "(Dispenzieri 2023; Keddie 2018)."
)


def test_no_neurotoxic_agent_given_leaves_the_caution_open_without_a_list():
    assert plan(PATIENT, [], [LENALIDOMIDE], as_of=d(30))["neurotoxic-caution"] == Step(
        id="neurotoxic-caution",
        title="Weigh neurotoxicity of thalidomide and bortezomib",
        description=CAUTION,
        status="not-started",
    )


def test_neurotoxic_agents_are_named_by_their_medication_sorted():
    thal = Event(
        "treatment", d(0), "MedicationStatement/thal", "Thalidomide 100 mg capsule", "thalidomide", d(90), True
    )
    bort = Event("treatment", d(100), "MedicationStatement/bort", "Velcade 3.5 mg inj", "bortezomib", None, True)
    got = plan(PATIENT, [], [thal, bort], as_of=d(120))["neurotoxic-caution"]
    assert got.description == CAUTION + " Given: bortezomib, thalidomide."
    assert got.params == (("agent", "bortezomib"), ("agent", "thalidomide"))
    assert got.evidence == ("MedicationStatement/thal", "MedicationStatement/bort")
    assert got.status == "in-progress"  # bortezomib has no end: still given


def test_a_neurotoxic_course_is_in_progress_on_its_last_day_and_completed_after():
    thal = Event("treatment", d(0), "MedicationStatement/thal", "thalidomide", "thalidomide", d(90), True)
    assert plan(PATIENT, [], [thal], as_of=d(90))["neurotoxic-caution"].status == "in-progress"
    assert plan(PATIENT, [], [thal], as_of=d(91))["neurotoxic-caution"].status == "completed"


# --- step 3: thrombosis prophylaxis (§9 Mellors 2021 factors)


def test_antiplatelet_prophylaxis_for_all_without_risk_factors():
    assert plan(PATIENT)["thrombosis-prophylaxis"] == Step(
        id="thrombosis-prophylaxis",
        title="Antiplatelet prophylaxis; consider anticoagulation",
        description="Antiplatelet prophylaxis is advised for all patients; consider anticoagulation with thrombosis "
        "risk factors (Mellors 2021).",
        status="not-started",
    )


def test_a_high_hemoglobin_is_named_in_words_as_a_thrombosis_risk_factor():
    got = plan(PATIENT + [f("thrombocytosis_polycythemia", rule="hemoglobin")])["thrombosis-prophylaxis"]
    assert got.description == (
        "Antiplatelet prophylaxis is advised for all patients; consider anticoagulation with thrombosis risk factors "
        "(present: high hemoglobin or hematocrit) (Mellors 2021)."
    )
    assert got.evidence == ("Condition/hemoglobin",)
    assert got.params == (("risk", "thrombosis_high_hemoglobin_or_hematocrit"),)


# --- step 4: engraftment syndrome without splenomegaly


def test_engraftment_syndrome_without_splenomegaly_has_no_higher_risk_note():
    planned = Event("autologous_hsct", dt.date(2019, 8, 30), "Procedure/asct", "HDM-ASCT", status="preparation")
    got = by_id(steps(SEED_FINDINGS, [], [INDUCTION, planned], as_of=None))["engraftment-syndrome"]
    assert got == Step(
        id="engraftment-syndrome",
        title="Anticipate engraftment syndrome around the transplant",
        description="Fever, diarrhoea, weight gain and rash around engraftment; earlier, more aggressive "
        "corticosteroids may help (Dispenzieri 2008).",
        status="not-started",
        evidence=("Procedure/asct",),
    )


# --- step 5: restaging at day +90/+100 on the seed case's transplant date (day 0 = 2019-08-30)

SEED_ASCT = Event("autologous_hsct", dt.date(2019, 8, 30), "Procedure/asct", "HDM-ASCT", status="completed")
DAY_90, DAY_100 = dt.date(2019, 11, 28), dt.date(2019, 12, 8)  # seed_case.md §1, derived days


def restaging(ms, as_of):
    return by_id(steps(SEED_FINDINGS, ms, [INDUCTION, SEED_ASCT], as_of=as_of))["restaging-day100"]


def seed_m(analyte: str, value: float, day: dt.date, unit: str | None = None) -> Measurement:
    return Measurement(analyte, value, unit, day, f"Observation/{analyte}-{day}")


def test_restaging_window_is_day_90_to_100_after_the_real_transplant():
    got = restaging([], as_of=dt.date(2019, 9, 24))  # discharge day +25
    assert (got.scheduled_start, got.scheduled_end, got.status) == (DAY_90, DAY_100, "not-started")
    assert got.title == "Restaging at day +90/+100 after transplant (2019-11-28 - 2019-12-08)"
    assert got.evidence == ("Procedure/asct",)


def test_the_serum_ife_at_day_100_completes_restaging_only_once_it_is_known():
    ife = seed_m("serum_ife", 0, DAY_100)
    done = restaging([ife], as_of=DAY_100)  # the result of that very day counts
    assert done.status == "in-progress"  # begun; one serum IFE is not the whole restaging (probe38 D6)
    assert done.evidence == ("Procedure/asct", "Observation/serum_ife-2019-12-08")
    assert restaging([ife], as_of=dt.date(2019, 12, 7)).status == "not-started"  # not known yet


def test_a_serum_m_protein_from_day_90_on_completes_restaging():
    assert restaging([seed_m("serum_m_protein", 0.4, DAY_90, "g/L")], as_of=DAY_100).status == "in-progress"
    assert restaging([seed_m("serum_m_protein", 0.4, dt.date(2019, 12, 1), "g/L")], as_of=None).status == "in-progress"


FULL_RESTAGING = [
    seed_m("serum_ife", 0, DAY_100),
    seed_m("urine_ife", 0, dt.date(2019, 12, 9)),
    seed_m("flc_kappa", 12.0, DAY_100, "mg/L"),
    seed_m("vegf", 80.0, dt.date(2019, 12, 20), "pg/mL"),
    seed_m("platelets", 250.0, dt.date(2019, 11, 30), "10*9/L"),
]


def _not_done(step: Step) -> tuple[tuple[str, str], ...]:
    """A step's params but the parts done (probe137 D2 added those; tested in test_fix137b_restaging_done)."""
    return tuple(p for p in step.params if p[0] != "done")


def test_restaging_is_completed_only_with_each_of_its_laboratory_parts():
    """criteria.md §10 step 5: serum/urine IFE, FLC, VEGF, CBC ... (probe38 D6: "completed" on one IFE)."""
    done = restaging(FULL_RESTAGING, as_of=dt.date(2019, 12, 31))
    assert done.status == "completed" and done.params == ()
    assert set(done.evidence) == {"Procedure/asct", *(m.reference for m in FULL_RESTAGING)}
    for left_out, part in zip(
        FULL_RESTAGING[1:], ("urine_immunofixation", "free_light_chains", "vegf", "blood_count"), strict=True
    ):
        got = restaging([m for m in FULL_RESTAGING if m is not left_out], as_of=dt.date(2019, 12, 31))
        # the window (to 2019-12-08) closed before 2019-12-31 with a part missing: overdue (probe48 D10)
        # (the parts done are named with their day - probe137 D2 -, the left-out one never among them)
        said = tuple(p for p in got.params if p[0] != "done")
        assert (got.status, said) == ("in-progress", (("missing", part), ("overdue", "2019-12-08")))
        assert not any(v.startswith(part + " ") for k, v in got.params if k == "done")
        assert got.description.endswith(f"Not yet done at this restaging: {part}.")
    # a part more than a month from the restaging day belongs to another visit; one after --as-of is not known
    late = [*FULL_RESTAGING[:3], seed_m("vegf", 80.0, dt.date(2020, 1, 9), "pg/mL"), FULL_RESTAGING[4]]
    # (without --as-of the newest fact, the late VEGF, dates the plan: the window closed before it - probe51 D3)
    assert _not_done(restaging(late, as_of=None)) == (("missing", "vegf"), ("overdue", "2019-12-08"))
    assert _not_done(restaging(FULL_RESTAGING, as_of=dt.date(2019, 12, 19))) == (
        ("missing", "vegf"),
        ("overdue", "2019-12-08"),
    )
    # a 24-hour urine protein stands for the urine part; either light chain or the ratio for the FLC
    other = [FULL_RESTAGING[0], seed_m("urine_m_protein", 0.0, DAY_100, "mg/(24.h)"), seed_m("flc_ratio", 1.1, DAY_100)]
    assert restaging(other + FULL_RESTAGING[3:], as_of=None).status == "completed"


def test_results_before_day_90_or_other_tests_do_not_count_as_restaging():
    before = [
        seed_m("serum_m_protein", 0.69, dt.date(2019, 8, 20), "g/L"),  # pre-transplant restaging, -91 %
        seed_m("serum_ife", 1, dt.date(2019, 11, 27)),  # day +89
    ]
    assert restaging(before, as_of=DAY_100).status == "not-started"
    other = [seed_m("hemoglobin", 129, dt.date(2019, 12, 1), "g/L"), seed_m("albumin", 36, DAY_90, "g/L")]
    assert restaging(other, as_of=DAY_100).status == "not-started"
    assert restaging(before + other, as_of=None).status == "not-started"


# --- step 6 / §8.2: VEGF surveillance about every 6 months, same specimen type


#: a response (criteria.md §10 step 6: surveillance "After response"): the neuropathy improved on day 1
RESPONDED = (CourseAssessment("neuropathy", "improved", d(1), "Observation/course-neuropathy"),)


def vegf_step(ms, as_of, events=(LENALIDOMIDE,)) -> Step:
    return plan(PATIENT, ms, list(events), as_of=as_of, course=RESPONDED)["vegf-surveillance"]


def test_without_any_vegf_one_is_due_on_the_evaluation_date():
    got = vegf_step([m("albumin", 30, 10, "g/L")], as_of=d(30))
    assert got == Step(
        id="vegf-surveillance",
        title="VEGF about every 6 months, plasma (same specimen type and assay)",
        description="VEGF normalisation and its surveillance predict relapse (Gentile 2024; Misawa 2015); serum and "
        "plasma values are not comparable, so keep the specimen type. No VEGF yet: obtain one now as a reference.",
        status="not-started",
        coding=("http://loinc.org", "75628-8", "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma"),
        scheduled_start=d(30),
        repeat_months=6,
        params=(("specimen", "plasma"), ("no_vegf_yet", "yes")),
    )


def test_without_vegf_and_without_an_evaluation_date_it_is_due_at_the_latest_data():
    assert vegf_step([m("albumin", 30, 45, "g/L")], as_of=None).scheduled_start == d(45)
    undated = Measurement("albumin", 31, "g/L", None, "Observation/albumin-undated")
    assert vegf_step([m("albumin", 30, 45, "g/L"), undated], as_of=None).scheduled_start == d(45)
    # no results at all: due from the first treatment
    assert vegf_step([], as_of=None).scheduled_start == d(0)
    assert vegf_step([undated], as_of=None).scheduled_start == d(0)


def test_a_vegf_measured_only_after_treatment_keeps_its_specimen_type():
    got = vegf_step([m("vegf", 1500, 30, "pg/mL", "serum")], as_of=d(40))
    assert got.title == "VEGF about every 6 months, serum (same specimen type and assay)"
    assert got.params == (("specimen", "serum"),)
    assert got.evidence == ("Observation/vegf30",)
    assert got.scheduled_start == dt.date(2021, 9, 30)  # 2021-03-31 + 6 months


def test_the_next_vegf_is_due_six_months_after_the_latest_one_in_time():
    series = [
        m("vegf", 150, 150, "pg/mL", "plasma"),
        m("vegf", 250, 90, "pg/mL", "plasma"),
        m("vegf", 400, -10, "pg/mL", "plasma"),
    ]
    got = vegf_step(series, as_of=d(200))  # listed newest first: the date decides, not the order
    assert got.evidence == ("Observation/vegf150",)
    assert got.scheduled_start == dt.date(2022, 1, 29)  # 2021-07-29 + 6 months


def test_a_vegf_counts_from_its_day_on_and_not_before():
    series = [m("vegf", 400, -10, "pg/mL", "plasma"), m("vegf", 150, 150, "pg/mL", "plasma")]
    assert vegf_step(series, as_of=d(150)).scheduled_start == dt.date(2022, 1, 29)
    earlier = vegf_step(series, as_of=d(149))  # the day-150 result is not known yet
    assert earlier.evidence == ("Observation/vegf-10",)
    assert earlier.scheduled_start == dt.date(2021, 8, 19)  # 2021-02-19 + 6 months


# --- step 7 and §8 alerts: relapse / progression and discordant response


SALVAGE = ". IMiDs or radiation salvage are commonly effective (D'Souza 2012)."


def test_haematological_progression_in_both_frameworks_proposes_salvage_once():
    # both frameworks report the progression; one salvage step (a CarePlan's activity ids are unique)
    ms = [
        m("serum_m_protein", 20, -10, "g/L"),
        m("serum_m_protein", 8, 60, "g/L"),
        m("serum_m_protein", 16, 120, "g/L"),
    ]
    got = [s for s in plan_steps(PATIENT, ms, [LENALIDOMIDE], as_of=d(130)) if s.key == "relapse"]
    assert got == [
        Step(
            id="relapse",
            title="Relapse/progression work-up and salvage",
            description="haematological progression (amyloid): M-protein rose >= 50 % from its nadir (8 g/L) to "
            "16 g/L (> 5 g/L)" + SALVAGE,
            status="not-started",
            evidence=("Observation/serum_m_protein60", "Observation/serum_m_protein120"),  # nadir, then latest
            key="relapse",
            params=(("alert", "hematologic_progression"),),
        ),
    ]


def test_rising_vegf_proposes_salvage():
    ms = [
        m("vegf", 800, -5, "pg/mL", "plasma"),
        m("vegf", 100, 60, "pg/mL", "plasma"),
        m("vegf", 400, 120, "pg/mL", "plasma"),
    ]
    got = plan(PATIENT, ms, [LENALIDOMIDE], as_of=d(130))["relapse"]
    assert got.description.startswith("rising VEGF: VEGF rose from its nadir 100 to 400 pg/mL")
    assert got.description.endswith("after radiological progression" + SALVAGE)
    assert (got.status, got.evidence, got.key) == ("not-started", ("Observation/vegf120",), "relapse")
    assert got.params == (("alert", "vegf_progression"),)


def _ascites_resolved_then_back(back_on: int) -> list[Finding]:
    """Ascites recorded, resolved on day 60, recorded again on ``back_on``: a feature come back."""
    gone = Finding(
        "extravascular_volume_overload",
        State.PRESENT,
        Evidence("Condition/ascites-1", d(-30), "ascites"),
        source_rule="ascites",
        resolved_on=d(60),
    )
    back = Finding(
        "extravascular_volume_overload",
        State.PRESENT,
        Evidence("Condition/ascites-2", d(back_on), "ascites"),
        source_rule="ascites",
    )
    return [gone, back]


def test_ascites_back_after_resolving_proposes_salvage():
    gone, back = _ascites_resolved_then_back(150)
    got = plan(PATIENT + [gone, back], [], [LENALIDOMIDE], as_of=d(160))
    assert got["relapse"] == Step(
        id="relapse",
        title="Relapse/progression work-up and salvage",
        description=f"ascites recorded again on {d(150)} after it had resolved on {d(60)}" + SALVAGE,
        status="not-started",
        evidence=("Condition/ascites-2",),
        key="relapse",
        params=(("alert", "reappearance"),),
    )
    assert "regimen-review" not in got


def test_a_relapse_on_an_imid_given_now_asks_to_review_that_regimen():
    # probe48 D7: "IMiDs ... salvage" advised to a patient progressing on lenalidomide
    gone, back = _ascites_resolved_then_back(150)
    ongoing = Event("treatment", d(0), "MedicationRequest/len", "lenalidomide", agent="lenalidomide", end=d(400))
    got = plan(PATIENT + [gone, back], [], [ongoing], as_of=d(160))["relapse"]
    assert got.description.endswith(
        SALVAGE + " Progression while on lenalidomide: review that regimen rather than repeat it."
    )
    assert ("on_imid", "lenalidomide") in got.params
    over = Event("treatment", d(0), "MedicationRequest/len", "lenalidomide", agent="lenalidomide", end=d(100))
    assert "Progression while on" not in plan(PATIENT + [gone, back], [], [over], as_of=d(160))["relapse"].description


def _seed_case_in_march_with_a_worse_neuropathy(m_protein: float) -> dict[str, Step]:
    """The seed case on 2019-03-31: cyclophosphamide since 2019-02-20, M-protein 7.7 g/L at diagnosis and
    ``m_protein`` on 2019-03-25, when the neuropathy was assessed worse."""
    dx, induction = dt.date(2019, 2, 15), dt.date(2019, 2, 20)
    cyclo = Event("treatment", induction, "MedicationStatement/cyclo", "cyclophosphamide", agent="cyclophosphamide")
    ms = [seed_m("serum_m_protein", 7.7, dx, "g/L"), seed_m("serum_m_protein", m_protein, dt.date(2019, 3, 25), "g/L")]
    worse = CourseAssessment("neuropathy", "worse", dt.date(2019, 3, 25), "Observation/neuro-exam")
    return plan(SEED_FINDINGS, ms, [cyclo], as_of=dt.date(2019, 3, 31), course=[worse])


def test_seed_case_discordant_response_asks_for_a_regimen_review():
    # seed case 2019-03: M-protein 7.7 -> 3.7 g/L (-52 %, PR) while the neuropathy got worse
    got = _seed_case_in_march_with_a_worse_neuropathy(3.7)
    assert got["regimen-review"] == Step(
        id="regimen-review",
        title="Review the regimen: discordant response",
        description="discordant: haematological PR with clinical worsening (neuropathy) - consider a regimen change "
        "or early escalation; if escalating, thalidomide and bortezomib may worsen neuropathy",
        status="not-started",
        evidence=("Observation/neuro-exam",),
        params=(("alert", "discordant_response"),),
    )
    assert "relapse" not in got


def test_clinical_worsening_without_a_response_asks_for_a_regimen_review():
    # probe48 D2: the seed case's worsening with no M-protein response (7.7 -> 7.5 g/L, NR) proposed nothing
    got = _seed_case_in_march_with_a_worse_neuropathy(7.5)
    assert got["regimen-review"] == Step(
        id="regimen-review",
        title="Review the regimen: clinical worsening without response",
        description="clinical worsening (neuropathy) without a haematological response (NR) - review for "
        "progression; consider a regimen change or early escalation",
        status="not-started",
        evidence=("Observation/neuro-exam",),
        key="regimen-review-worsening",
        params=(("alert", "clinical_progression"),),
    )


# --- the seed case after its transplant (2019-12-31): steps 2a, 3, 4, 5 and 6 in full


def test_seed_case_after_the_transplant():
    findings = SEED_FINDINGS + [
        seed_finding("organomegaly", "splenomegaly"),
        seed_finding("extravascular_volume_overload", "pleural_effusion"),
    ]
    mobilisation = Event(
        "stem_cell_mobilisation", dt.date(2019, 8, 10), "Procedure/mob", "etoposide + G-CSF", status="completed"
    )
    # seed_case.md T3: serum IFE and urine Bence Jones (by immunofixation) negative at day +100: a CR
    ife = seed_m("serum_ife", 0, DAY_100)
    urine = seed_m("urine_ife", 0, DAY_100)
    got = plan(findings, [ife, urine], [INDUCTION, mobilisation, SEED_ASCT], as_of=dt.date(2019, 12, 31))
    assert got["transplant-eligibility"] == Step(
        id="transplant-eligibility",
        title="Assess transplant eligibility",
        description="High-dose melphalan with autologous stem-cell transplantation for eligible patients; otherwise "
        "lenalidomide + dexamethasone or melphalan + dexamethasone (Dispenzieri 2023).",
        status="completed",
        evidence=("Procedure/asct",),  # the transplant itself, not the mobilisation before it
    )
    assert got["thrombosis-prophylaxis"].description == (
        "Antiplatelet prophylaxis is advised for all patients; consider anticoagulation with thrombosis risk factors "
        "(present: volume overload, splenomegaly) (Mellors 2021)."
    )
    assert got["engraftment-syndrome"] == Step(
        id="engraftment-syndrome",
        title="Anticipate engraftment syndrome around the transplant",
        description="Fever, diarrhoea, weight gain and rash around engraftment; earlier, more aggressive "
        "corticosteroids may help (Dispenzieri 2008). Splenomegaly is the best baseline predictor of a "
        "complicated course: higher risk.",
        status="completed",
        evidence=("Procedure/mob", "Procedure/asct", "Condition/splenomegaly"),
        params=(("splenomegaly", "yes"),),
    )
    assert got["restaging-day100"] == Step(
        id="restaging-day100",
        title="Restaging at day +90/+100 after transplant (2019-11-28 - 2019-12-08)",
        description="Serum/urine IFE, FLC, VEGF, CBC, chemistry, PET-CT/CT of known lesions, echocardiography if "
        "pulmonary hypertension, neurological examination +/- NCS (D'Souza 2012). Not yet done at this restaging: "
        "free_light_chains, vegf, blood_count.",
        # seed_case.md T3: FLC not assessed, VEGF to obtain: begun, not done (probe38 D6)
        status="in-progress",
        scheduled_start=DAY_90,
        scheduled_end=DAY_100,
        evidence=("Procedure/asct", "Observation/serum_ife-2019-12-08", "Observation/urine_ife-2019-12-08"),
        params=tuple(("missing", x) for x in ("free_light_chains", "vegf", "blood_count"))
        # what was done, and when (probe137 D2)
        + (("done", "serum_immunofixation 2019-12-08"), ("done", "urine_immunofixation 2019-12-08"))
        + (("overdue", "2019-12-08"),),
    )
    assert got["surveillance"] == Step(
        id="surveillance",
        title="Surveillance every 3-6 months",
        description="IFE/FLC, CBC, chemistry, neurological examination; imaging of previously involved sites; "
        "endocrine follow-up (D'Sa 2022).",
        # under way: the day +100 immunofixations; next due 6 months after them (probe58 D2)
        status="in-progress",
        scheduled_start=dt.date(2020, 6, 8),
        repeat_months=3,  # every 3-6 months (criteria.md §10)
        repeat_months_max=6,
        evidence=("Observation/serum_ife-2019-12-08", "Observation/urine_ife-2019-12-08"),
    )
    # VEGF never measured (seed: "method not performed"): one is due now, as a post-treatment reference
    assert got["vegf-surveillance"].scheduled_start == dt.date(2019, 12, 31)
    assert got["vegf-surveillance"].params == (("specimen", "plasma"), ("no_vegf_yet", "yes"))


def test_vegf_surveillance_with_a_measured_vegf_in_full():
    got = vegf_step([m("vegf", 400, -10, "pg/mL", "plasma"), m("vegf", 150, 150, "pg/mL", "plasma")], as_of=d(200))
    assert got == Step(
        id="vegf-surveillance",
        title="VEGF about every 6 months, plasma (same specimen type and assay)",
        description="VEGF normalisation and its surveillance predict relapse (Gentile 2024; Misawa 2015); serum and "
        "plasma values are not comparable, so keep the specimen type.",
        status="in-progress",  # a VEGF since the treatment (probe77 D5)
        coding=("http://loinc.org", "75628-8", "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma"),
        scheduled_start=dt.date(2022, 1, 29),
        repeat_months=6,
        evidence=("Observation/vegf150",),
        params=(("specimen", "plasma"),),
    )


def test_planned_treatment_is_not_treatment_given():
    # a transplant or radiotherapy still in preparation does not complete the branch (criteria.md §10)
    planned_asct = Event("autologous_hsct", d(200), "Procedure/asct", "ASCT", status="preparation")
    planned_rt = Event("radiotherapy", d(200), "Procedure/rt", "RT", status="planned")
    got = by_id(steps(PATIENT, [], [planned_asct, planned_rt], as_of=d(60)))
    assert got["branch"].status == "not-started"


def test_a_chemotherapy_procedure_is_systemic_therapy_given():
    # a chemotherapy known only as a Procedure (SNOMED 367336001) is systemic therapy (criteria.md §10 step 2)
    chemo = Event("chemotherapy", d(30), "Procedure/chemo", "Chemotherapy", status="completed")
    got = by_id(steps(PATIENT, [], [chemo], as_of=d(60)))
    assert got["branch"].title == "Systemic therapy (disseminated marrow involvement)"
    assert got["branch"].status == "completed"


# --- the branch on an earlier date: a marrow result reported later does not count yet (§10 step 1/2)


def test_a_marrow_result_after_the_evaluation_date_does_not_decide_the_branch_yet():
    # the marrow biopsy is dated d(-20); on d(-30) it had not been done: the branch is the biopsy
    # that decides it, neither radiotherapy nor systemic therapy
    early = by_id(steps(MANDATORY, [MARROW_NEGATIVE], as_of=d(-30)))
    assert early["branch"].key == "branch-biopsy" and early["branch"].status == "not-started"
    assert by_id(steps(MANDATORY, [MARROW_NEGATIVE], as_of=d(-20)))["branch"] == RADIOTHERAPY_BRANCH
    marrow_clone = f(
        "monoclonal_plasma_cell_disorder", rule="marrow_clonal_plasma_cells", n=-20, heavy_chain="IgA",
        light_chain="lambda",
    )  # fmt: skip
    before = by_id(steps([*MANDATORY, marrow_clone], as_of=d(-25)))
    assert before["branch"].key == "branch-biopsy"
    on_the_day = by_id(steps([*MANDATORY, marrow_clone], as_of=d(-20)))
    assert on_the_day["branch"].key == "branch-systemic"


# --- step 1a: progression 3-6 months after completing radiation -> systemic therapy (§10, Dispenzieri 2019)

RT = Event("radiotherapy", d(0), "Procedure/rt", "Radiotherapy to the iliac lesion", status="completed", end=d(30))
# the M-protein before radiotherapy, its fall, then a >= 50 % rise from the nadir to > 5 g/L (amyloid PD)
M_BEFORE = [m("serum_m_protein", 12.0, -10, "g/L")]


def _progressing_on(day: int) -> list:
    return [*M_BEFORE, m("serum_m_protein", 6.0, 20, "g/L"), m("serum_m_protein", 12.0, day, "g/L")]


def test_progression_3_to_6_months_after_radiotherapy_proposes_systemic_therapy():
    # radiotherapy completed d(30) = 2021-03-31: the window is 2021-06-28 .. 2021-09-28
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_progressing_on(150)], [RT], as_of=d(160)))
    step = got["escalate-systemic"]
    assert (step.status, step.title) == ("not-started", "Escalate to systemic therapy: progression after radiotherapy")
    assert step.description == (
        f"Progression on {d(150)}, 3-6 months after radiotherapy completed on {d(30)}: systemic therapy "
        "(Dispenzieri 2019)."
    )
    assert step.evidence == ("Observation/serum_m_protein150", "Procedure/rt")
    assert step.params == (("radiotherapy_end", str(d(30))),)
    # a systemic therapy started after the radiotherapy: the escalation is done
    len_ = Event("treatment", d(155), "MedicationStatement/len", "lenalidomide", agent="lenalidomide")
    done = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_progressing_on(150)], [RT, len_], as_of=d(160)))
    assert done["escalate-systemic"].status == "completed"


def test_no_escalation_step_outside_the_window_or_without_progression():
    early = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_progressing_on(100)], [RT], as_of=d(110)))  # < 3 months
    late = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_progressing_on(250)], [RT], as_of=d(260)))  # > 6 months
    falling = [*M_BEFORE, m("serum_m_protein", 6.0, 20, "g/L"), m("serum_m_protein", 5.0, 150, "g/L")]
    responding = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *falling], [RT], as_of=d(160)))
    not_given = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *_progressing_on(150)], [], as_of=d(160)))
    for got in (early, late, responding, not_given):
        assert "escalate-systemic" not in got
    assert late["relapse"].key == "relapse"  # step 7 still proposes salvage


def test_a_marrow_report_that_says_no_clonal_plasma_cells_in_words_opens_the_radiotherapy_branch():
    # the random marrow sample "without clonal plasma cells" (§10 step 1) is usually a pathology report's words
    words = Finding(
        "monoclonal_plasma_cell_disorder",
        State.ABSENT,
        Evidence("DiagnosticReport/bm", d(-20), 'Bone marrow trephine biopsy: "No clonal plasma cells."'),
        source_rule="marrow_clonal_plasma_cells",
    )
    got = by_id(steps([*MANDATORY, words], []))
    assert (got["branch"].key, got["branch"].evidence) == ("branch-radiotherapy", ("DiagnosticReport/bm",))
    # not yet reported on the evaluation date: the biopsy is still to be done
    assert by_id(steps([*MANDATORY, words], [], as_of=d(-21)))["branch"].key == "branch-biopsy"
    # an absent finding of another test (serum immunofixation negative) says nothing of the marrow
    serum = Finding(
        "monoclonal_plasma_cell_disorder", State.ABSENT, Evidence("Observation/ife", d(-20), "IFE negative")
    )
    assert by_id(steps([*MANDATORY, serum], []))["branch"].key == "branch-biopsy"


def test_a_vegf_progression_after_radiotherapy_also_proposes_escalation():
    rising = [
        m("vegf", 800, -10, "pg/mL", "plasma"),
        m("vegf", 300, 60, "pg/mL", "plasma"),
        m("vegf", 700, 150, "pg/mL", "plasma"),
    ]
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *rising], [RT], as_of=d(160)))
    assert got["escalate-systemic"].evidence == ("Observation/vegf150", "Procedure/rt")
    # a VEGF that normalised, measured in the same window: a response, not a reason to escalate
    normal = [m("vegf", 800, -10, "pg/mL", "plasma"), m("vegf", 150, 150, "pg/mL", "plasma")]
    assert "escalate-systemic" not in by_id(steps(MANDATORY, [MARROW_NEGATIVE, *normal], [RT], as_of=d(160)))


def test_an_imaging_report_of_progression_after_radiotherapy_proposes_escalation():
    """criteria.md §8.3: radiological events are the commonest progression; §10 step 1a escalates on a
    progression 3-6 months after radiation, whatever showed it (probe48: new sclerotic lesions four months
    after radiotherapy raised the alert and the relapse work-up, but no escalation)."""

    def imaging(day: int) -> Finding:
        return Finding(
            "radiologic_progression",
            State.PRESENT,
            Evidence(f"DiagnosticReport/ct{day}", d(day), "New sclerotic lesions: progression"),
            source_rule="radiologic_progression",
        )

    got = by_id(steps([*MANDATORY, imaging(150)], [MARROW_NEGATIVE], [RT], as_of=d(160)))
    assert got["escalate-systemic"].evidence == ("DiagnosticReport/ct150", "Procedure/rt")
    assert got["escalate-systemic"].description.startswith(f"Progression on {d(150)}, 3-6 months after")
    # outside the window, reported after --as-of, or not a progression: no escalation
    for findings, as_of in (
        ([imaging(100)], d(110)),
        ([imaging(250)], d(260)),
        ([imaging(150)], d(149)),
        ([dataclasses.replace(imaging(150), state=State.ABSENT)], d(160)),
    ):
        assert "escalate-systemic" not in by_id(steps([*MANDATORY, *findings], [MARROW_NEGATIVE], [RT], as_of=as_of))


# --- step 6 "After response" and step 0 "LN biopsy if nodes enlarged/avid" (probe12)


def test_surveillance_waits_for_a_response():
    # criteria.md §10 step 6: surveillance, trigger "After response" - not while nothing has responded yet
    before = plan(PATIENT, [m("albumin", 30, 10, "g/L")], [LENALIDOMIDE], as_of=d(30))
    assert "surveillance" not in before and "vegf-surveillance" not in before
    # any domain responding: a clinical improvement, a haematological PR, a VEGF fall by half or more
    improved = plan(PATIENT, [], [LENALIDOMIDE], as_of=d(30), course=RESPONDED)
    pr = plan(PATIENT, [m("serum_m_protein", 8.0, -10), m("serum_m_protein", 3.0, 20)], [LENALIDOMIDE], as_of=d(30))
    vegf = plan(PATIENT, [m("vegf", 900, -10, "pg/mL", "plasma"), m("vegf", 400, 20, "pg/mL", "plasma")],
                [LENALIDOMIDE], as_of=d(30))  # fmt: skip
    # under way once a VEGF was measured since the treatment, as the surveillance beside it (probe77 D5)
    assert [g["vegf-surveillance"].status for g in (improved, pr, vegf)] == [
        "not-started",
        "not-started",
        "in-progress",
    ]
    # the haematological surveillance is under way once a test was done since the treatment (probe58 D2)
    assert [g["surveillance"].status for g in (improved, pr, vegf)] == ["not-started", "in-progress", "not-started"]
    assert pr["surveillance"].evidence == ("Observation/serum_m_protein20",)
    # due 6 months after that test; overdue once the evaluation date is past it
    later = plan(PATIENT, [m("serum_m_protein", 8.0, -10), m("serum_m_protein", 3.0, 20)], [LENALIDOMIDE],
                 as_of=d(400))  # fmt: skip
    assert dict(later["surveillance"].params)["overdue"] == later["surveillance"].scheduled_start.isoformat()
    # with no test since the treatment, its interval runs from the treatment: not due on the evaluation date,
    # which moves with it (probe98 D5: a year without a test never read overdue)
    assert improved["surveillance"].scheduled_start == add_months(LENALIDOMIDE.effective, 6)
    untested = plan(PATIENT, [], [LENALIDOMIDE], as_of=d(400), course=RESPONDED)
    assert untested["surveillance"].scheduled_start == add_months(LENALIDOMIDE.effective, 6)
    assert dict(untested["surveillance"].params)["overdue"] == untested["surveillance"].scheduled_start.isoformat()
    # no response in any domain (a minimal fall, a stable course): still none
    nr = plan(PATIENT, [m("serum_m_protein", 8.0, -10), m("serum_m_protein", 7.0, 20)], [LENALIDOMIDE], as_of=d(30),
              course=(CourseAssessment("neuropathy", "stable", d(20), "Observation/c"),))  # fmt: skip
    assert "surveillance" not in nr


def _nodes(state: State, part: str | None = "lymph_nodes") -> Finding:
    return Finding("organomegaly", state, Evidence("DiagnosticReport/ct", d(-20), "CT"), component=part,
                   source_rule="lymphadenopathy")  # fmt: skip


def test_no_node_biopsy_to_complete_the_work_up_when_the_nodes_are_not_enlarged():
    # met already (VEGF elevated, a minor): Castleman only completes the work-up; CT shows normal nodes
    met = [*PATIENT, f("vegf_elevation"), f("skin_changes")]
    assert "workup-castleman_disease" in plan(met, as_of=d(0))
    assert "workup-castleman_disease" not in plan([*met, _nodes(State.ABSENT)], as_of=d(0))
    # enlarged nodes, or nodes not assessed, or a spleen (another part) normal: still proposed
    assert "workup-castleman_disease" in plan([*met, _nodes(State.PRESENT)], as_of=d(0))
    assert "workup-castleman_disease" in plan([*met, _nodes(State.ABSENT, "spleen")], as_of=d(0))
    # where Castleman decides the classification it stays proposed (the other majors are proposed too)
    open_ = [*PATIENT, f("skin_changes"), _nodes(State.ABSENT)]
    assert "workup-castleman_disease" in plan(open_, as_of=d(0))
    # nodes found normal only after --as-of: at --as-of they were not assessed, so the biopsy is proposed
    later = Finding("organomegaly", State.ABSENT, Evidence("DiagnosticReport/ct2", d(20), "CT"),
                    component="lymph_nodes", source_rule="lymphadenopathy")  # fmt: skip
    assert "workup-castleman_disease" in plan([*met, later], as_of=d(0))
    assert "workup-castleman_disease" not in plan([*met, later], as_of=d(30))


def test_staging_tests_no_criterion_proposes_are_proposed_on_their_own_while_missing():
    # seed_case.md T0 "Missing-data actions (CarePlan proposals)": serum FLC and 24-h urine protein/IFE,
    # echo sPAP value; criteria.md §10 step 0 (probe12): before therapy, each while it is missing
    got = plan(PATIENT, [], [], as_of=d(0))
    assert got["staging-flc-urine"].status == "not-started" and got["staging-echo"].status == "not-started"
    assert got["staging-flc-urine"].title == "Serum free light chains and 24-hour urine protein with immunofixation"
    done = [m("flc_lambda", 90, -5, "mg/L"), m("urine_ife", 1, -5), m("pasp", 35, -5, "mm[Hg]")]
    got = plan(PATIENT, done, [], as_of=d(0))
    assert "staging-flc-urine" not in got and "staging-echo" not in got
    # FLC without the urine is not the whole test; a test dated after --as-of is not done yet
    assert "staging-flc-urine" in plan(PATIENT, done[:1], [], as_of=d(0))
    # nor the urine without the FLC; either light chain (or the ratio) with the urine is
    assert "staging-flc-urine" in plan(PATIENT, done[1:2], [], as_of=d(0))
    for flc in ("flc_kappa", "flc_lambda", "flc_ratio"):
        assert "staging-flc-urine" not in plan(PATIENT, [m(flc, 20, -5, "mg/L"), done[1]], [], as_of=d(0)), flc
    assert "staging-echo" in plan(PATIENT, [m("pasp", 35, 5, "mm[Hg]")], [], as_of=d(0))
    # pulmonary hypertension recorded without its sPAP still asks for the value (seed_case.md T0: "sPAP
    # value not reported" -> "echo sPAP value"); an echo that found none needs no value
    assert "staging-echo" in plan([*PATIENT, f("pulmonary_hypertension")], [], [], as_of=d(0))
    no_ph = Finding("pulmonary_hypertension", State.ABSENT, Evidence("DiagnosticReport/echo", d(-3), "no PH"))
    assert "staging-echo" not in plan([*PATIENT, no_ph], [], [], as_of=d(0))
    assert "staging-echo" in plan([*PATIENT, no_ph], [], [], as_of=d(-5))  # not yet on record then
    # once treatment began, still proposed (probe38 D5; the first values are the reference) until the first
    # restaging after the start: then the response steps take over
    after = plan(PATIENT, [], [LENALIDOMIDE], as_of=d(30))
    assert after["staging-flc-urine"].params == (("after_start", "yes"),)
    assert after["staging-flc-urine"].description.endswith("Treatment has started: the first values are the reference.")
    assert "staging-echo" in after
    restaged = [m("serum_m_protein", 3.0, 25, "g/L")]
    assert "staging-flc-urine" not in plan(PATIENT, restaged, [LENALIDOMIDE], as_of=d(30))
    assert "staging-echo" not in plan(PATIENT, restaged, [LENALIDOMIDE], as_of=d(30))
    assert "staging-flc-urine" in plan(PATIENT, restaged, [LENALIDOMIDE], as_of=d(20))  # not known yet
    # any result a restaging reads ends it - a VEGF too (a radiotherapy patient followed by VEGF only)
    vegf_only = [m("vegf", 300, 25, "pg/mL", "plasma")]
    assert "staging-flc-urine" not in plan(PATIENT, vegf_only, [LENALIDOMIDE], as_of=d(30))
    # where the clone itself is open, its own work-up (immunofixation and FLC) proposes them
    assert "staging-flc-urine" not in plan([f("polyneuropathy")], [], [], as_of=d(0))


def test_the_nerve_conduction_report_is_proposed_while_the_neuropathy_is_only_a_diagnosis():
    # seed_case.md T0 "Missing-data actions": "NCS report" (the demyelinating PN is a Condition, "NCS values
    # not reported"); criteria.md §10 step 0 lists NCS/EMG
    got = plan(PATIENT, [], [], as_of=d(0))
    assert (
        got["staging-ncs"].status == "not-started" and got["staging-ncs"].title == "Nerve conduction study / EMG report"
    )
    assert "D'Sa 2022" in got["staging-ncs"].description
    ncs = Event("nerve_conduction_study", d(-10), "DiagnosticReport/ncs", "EMG, lower limbs")
    assert "staging-ncs" not in plan(PATIENT, [], [ncs], as_of=d(0))
    assert "staging-ncs" in plan(PATIENT, [], [ncs], as_of=d(-20))  # reported after that day
    # once treatment began, until the first restaging after the start (probe38 D5)
    assert "staging-ncs" in plan(PATIENT, [], [LENALIDOMIDE], as_of=d(30))
    assert "staging-ncs" not in plan(PATIENT, [m("serum_ife", 1, 25)], [LENALIDOMIDE], as_of=d(30))
    # where the polyneuropathy itself is open, its own work-up step proposes the study
    got = plan([CLONE], [], [], as_of=d(0))
    assert "staging-ncs" not in got and "workup-polyneuropathy" in got


@pytest.mark.parametrize(("status", "done"), [("completed", True), ("stopped", True), ("active", False), (None, False)])
def test_a_course_recorded_as_over_without_an_end_date_is_no_longer_given_now(status, done):
    # probe35: a completed or stopped bortezomib kept the caution "in-progress" long after it ended
    bort = Event("treatment", d(0), "MedicationRequest/b", "bortezomib", "bortezomib", None, True, status=status)
    assert plan(PATIENT, [], [bort])["neurotoxic-caution"].status == ("completed" if done else "in-progress")
    # as of an earlier day the record cannot say when it stopped: still given then
    assert plan(PATIENT, [], [bort], as_of=d(30))["neurotoxic-caution"].status == "in-progress"


def test_the_restaging_cites_its_own_day_not_every_later_follow_up_result():
    # a probe: years of follow-up IFEs all became "evidence" of the day +100 restaging
    ifes = [seed_m("serum_ife", 0, d) for d in (DAY_100, dt.date(2020, 6, 1), dt.date(2021, 6, 1))]
    got = restaging(ifes, as_of=dt.date(2022, 1, 1))
    assert got.evidence == ("Procedure/asct", "Observation/serum_ife-2019-12-08")
    # done in part, and the follow-up moved on (an IFE 6 months later): over, its missing parts still said,
    # not "in progress, overdue since 2019" in 2022 (probe58 D6)
    assert got.status == "completed" and ("superseded", "2020-06-01") in got.params
    assert ("missing", "free_light_chains") in got.params and not dict(got.params).get("overdue")
    # before the follow-up moved on it is a restaging in progress
    early = restaging(ifes[:1], as_of=dt.date(2020, 1, 15))
    assert early.status == "in-progress" and "superseded" not in dict(early.params)


def test_every_kind_of_relapse_is_one_work_up_that_names_each_alert():
    """probe38: three activities titled "Relapse or progression work-up and salvage" for one relapse."""
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import step_text

    ms = [
        m("serum_m_protein", 20, -10, "g/L"),
        m("serum_m_protein", 8, 60, "g/L"),
        m("serum_m_protein", 16, 120, "g/L"),
        m("vegf", 800, -5, "pg/mL", "plasma"),
        m("vegf", 100, 60, "pg/mL", "plasma"),
        m("vegf", 400, 120, "pg/mL", "plasma"),
    ]
    gone, back = _ascites_resolved_then_back(110)
    got = [s for s in plan_steps(PATIENT + [gone, back], ms, [LENALIDOMIDE], as_of=d(130)) if s.key == "relapse"]
    (step,) = got
    assert step.params == (
        ("alert", "hematologic_progression"),
        ("alert", "vegf_progression"),
        ("alert", "reappearance"),
    )
    assert {"Observation/serum_m_protein120", "Observation/vegf120", "Condition/ascites-2"} <= set(step.evidence)
    text = step_text(translator("en"), step)
    for name in ("Haematological progression:", "Rising VEGF:", "A feature has come back:"):
        assert text.count(name) == 1, name
    assert text.count("salvage are commonly effective") == 1


def test_after_the_first_treatment_a_deciding_work_up_decides_only_if_found():
    """engine.evaluate: a negative after the start of treatment leaves a criterion not assessed, so the
    VEGF work-up of the treated origin case cannot "decide the classification" either way (probe38)."""
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import step_text

    before = plan(PATIENT, [], [], as_of=d(0))
    after = plan(PATIENT, [], [LENALIDOMIDE], as_of=d(30))
    deciding = [k for k, s in before.items() if dict(s.params).get("why") == "deciding"]
    assert deciding
    for key in deciding:
        assert dict(after[key].params)["why"] == "deciding_if_found"
        assert "does not exclude it" in step_text(translator("en"), after[key])
        assert "does not exclude it" not in step_text(translator("en"), before[key])


def test_no_poems_treatment_beside_a_recorded_myeloma_or_al_amyloidosis_nor_for_mgus_on_a_steroid():
    """probe41: an MGUS neuropathy given a neurologist's dexamethasone, and AL amyloidosis or myeloma under
    their own treatment, got transplant eligibility and the radiotherapy/systemic branch (criteria.md §7:
    "must NOT be labelled POEMS")."""
    from poems_fhir.criteria.pathway import poems_context

    dex = Event("treatment", d(0), "MedicationRequest/dex", "dexamethasone", agent="dexamethasone")
    mandatory = [f("polyneuropathy"), CLONE]
    treated = plan(mandatory, [], [dex], as_of=d(30))
    assert "transplant-eligibility" in treated  # a treatment begun: POEMS in question
    mgus = plan([*mandatory, f("mgus")], [], [dex], as_of=d(30))
    assert "transplant-eligibility" not in mgus and "branch" not in mgus
    for other in ("al_amyloidosis", "multiple_myeloma"):
        got = plan([*PATIENT, f(other)], [], [LENALIDOMIDE], as_of=d(30))  # a minor present, treated
        assert "transplant-eligibility" not in got and "branch" not in got, other
    # the criteria met decide - but not beside a recorded diagnosis of either (probe42: a recorded myeloma
    # was written back as POEMS with the transplant pathway); a marrow count alone is no such diagnosis
    met = evaluate("Patient/1", [*PATIENT, f("vegf_elevation"), f("al_amyloidosis")], MAYO, None)
    assert met.classification.value == "met" and not poems_context(met, None)
    counted = Finding("multiple_myeloma", State.PRESENT, Evidence("Observation/bm", d(-30), "marrow plasma cells 12 %"))
    met = evaluate("Patient/1", [*PATIENT, f("vegf_elevation"), counted], MAYO, None)
    assert met.classification.value == "met" and poems_context(met, None)
    assert "differential_multiple_myeloma" in {flag.code for flag in met.flags}


def test_an_escalation_after_a_vegf_progression_stays_in_the_plan_once_the_new_therapy_works():
    """probe41 D4: RT, VEGF 800 -> 300 -> 700 (progression in the 3-6 month window), lenalidomide, then VEGF
    400: against the pre-RT baseline that reads "partial" and the escalation vanished from the plan."""
    from poems_fhir.mapping.extract import Extraction
    from poems_fhir.mapping.rules import load_mapping
    from poems_fhir.pipeline import _responses_after_radiotherapy

    vegf = [
        m("vegf", 800, -10, "pg/mL", "plasma"),
        m("vegf", 300, 60, "pg/mL", "plasma"),
        m("vegf", 700, 150, "pg/mL", "plasma"),
        m("vegf", 400, 220, "pg/mL", "plasma"),
    ]
    lena = Event("treatment", d(170), "MedicationStatement/lena", "lenalidomide", agent="lenalidomide")
    ms, events = [MARROW_NEGATIVE, *vegf], [RT, lena]
    assert "escalate-systemic" not in by_id(steps(MANDATORY, ms, events, as_of=d(230)))  # the current response only
    extraction = Extraction(findings=list(MANDATORY), measurements=ms, events=events)
    earlier = _responses_after_radiotherapy(extraction, load_mapping(), d(230), None)
    r = assess_response(ms, events, list(MANDATORY), [], CFG, d(230))
    risk = assess_risk(list(MANDATORY), ms, events, r, dt.date(1960, 1, 1), d(230), RISK)
    a = evaluate("Patient/1", list(MANDATORY), MAYO, d(230))
    got = by_id(pathway(a, None, r, risk, list(MANDATORY), ms, events, d(230), earlier))
    assert got["escalate-systemic"].status == "completed"
    assert "Observation/vegf150" in got["escalate-systemic"].evidence
    # nothing after a radiotherapy: nothing to look back at
    assert _responses_after_radiotherapy(Extraction(measurements=ms, events=[lena]), load_mapping(), None, None) == []


def test_no_biopsy_to_choose_local_or_systemic_therapy_after_a_transplant():
    """probe41 D8: "Bone-marrow biopsy to choose local or systemic therapy" was proposed two years after the
    transplant (the marrow results on record gave no clonality); the choice has been made."""
    asct = Event("autologous_hsct", d(100), "Procedure/asct", "ASCT", status="completed")
    assert by_id(steps(MANDATORY, [], [LENALIDOMIDE], as_of=d(50)))["branch"].key == "branch-biopsy"
    assert "branch" not in by_id(steps(MANDATORY, [], [LENALIDOMIDE, asct], as_of=d(700)))


def test_many_treatment_events_cost_linear_time():
    """probe43: 20,000 MedicationStatements took 111 s - each event was searched for in the list of
    treatments (a dataclass comparison per pair). Counted, not timed: the comparisons of Event."""
    from poems_fhir.criteria.timeline import Event as E

    compared = [0]
    original = E.__eq__

    def counting(self, other):  # type: ignore[no-untyped-def]
        compared[0] += 1
        return original(self, other)

    events = [
        E("treatment", d(i), f"MedicationStatement/m{i}", "lenalidomide", agent="lenalidomide") for i in range(400)
    ]
    E.__eq__ = counting  # type: ignore[method-assign]
    try:
        plan(list(MANDATORY), [], events, as_of=d(500))
    finally:
        E.__eq__ = original  # type: ignore[method-assign]
    assert compared[0] < 400 * 10


def test_a_relapse_after_radiotherapy_gives_escalation_precedence_over_radiation_salvage():
    """probe58 D4: a VEGF rise 3-6 months after radiotherapy got "escalate to systemic therapy" (§10 step 1a)
    and, in the relapse step beside it, "radiation salvage is commonly effective" (step 7)."""
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import step_text

    rising = [
        m("vegf", 800, -10, "pg/mL", "plasma"),
        m("vegf", 300, 60, "pg/mL", "plasma"),
        m("vegf", 700, 150, "pg/mL", "plasma"),
    ]
    got = by_id(steps(MANDATORY, [MARROW_NEGATIVE, *rising], [RT], as_of=d(160)))
    assert "escalate-systemic" in got
    said = "escalate to systemic therapy (step 1a) rather than radiation salvage"
    assert said in got["relapse"].description and ("after_radiotherapy", "escalate") in got["relapse"].params
    assert said in step_text(translator(), got["relapse"])
    # a relapse with no radiotherapy behind it keeps step 7's advice alone
    len_dex = Event("treatment", d(-5), "MedicationRequest/len", "lenalidomide", agent="lenalidomide", end=d(40))
    plain = by_id(steps(MANDATORY, rising, [len_dex], as_of=d(160)))
    assert said not in plain["relapse"].description and "after_radiotherapy" not in dict(plain["relapse"].params)


def test_a_clone_in_a_plasmacytoma_biopsy_is_no_marrow_involvement():
    """probe77 D1: a lambda-restricted plasmacytoma biopsy opened the systemic branch although the random
    marrow had no clonal cells (criteria.md §10 step 1: radiotherapy for a dominant plasmacytoma)."""
    lesion = Finding(
        "monoclonal_plasma_cell_disorder",
        State.PRESENT,
        Evidence("DiagnosticReport/lesion", d(-25), 'Biopsy of left iliac bone lesion: "lambda restricted"'),
        source_rule="marrow_clonal_plasma_cells",
        specimen="lesion",
    )
    marrow = Finding(
        "monoclonal_plasma_cell_disorder",
        State.ABSENT,
        Evidence("DiagnosticReport/bm", d(-20), 'Bone marrow trephine biopsy: "No clonal plasma cells."'),
        source_rule="marrow_clonal_plasma_cells",
    )
    got = by_id(steps([*MANDATORY, lesion, marrow], []))
    assert (got["branch"].key, got["branch"].evidence) == ("branch-radiotherapy", ("DiagnosticReport/bm",))
    # the same clone in the marrow: systemic
    in_marrow = dataclasses.replace(lesion, specimen=None)
    assert by_id(steps([*MANDATORY, in_marrow], []))["branch"].key == "branch-systemic"


def test_the_staging_step_says_which_laboratory_parts_are_on_record():
    """probe77 D3: the step listed the whole §10 step-0 work-up and said nothing of what was done."""
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import step_text

    done = [m("serum_ife", 1, -20, None), m("flc_ratio", 0.1, -20, None), m("vegf", 900, -15, "pg/mL", "plasma")]
    got = by_id(steps(MANDATORY, done, []))["staging"]
    assert got.status == "in-progress"
    assert dict((v, k) for k, v in got.params) == {
        "serum_immunofixation": "on_record",
        "urine_immunofixation": "not_on_record",
        "free_light_chains": "on_record",
        "vegf": "on_record",
        "blood_count": "not_on_record",
        "marrow": "not_on_record",
    }
    text = step_text(translator("en"), got)
    assert "on record: serum immunofixation or M-protein, serum free light chains, VEGF." in text
    assert "Not yet on record: urine immunofixation or 24-hour urine protein, blood count, bone-marrow" in text
    # nothing on record, or treatment begun: nothing said
    assert by_id(steps(MANDATORY, [], []))["staging"].params == ()
