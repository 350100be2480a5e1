"""The proposed care pathway in the cases the earlier pathway tests left open: the radiotherapy branch
for a marrow without clonal plasma cells, what counts as marrow involvement, as systemic therapy and
as radiotherapy given, a transplant still in preparation, work-up completed since the first treatment,
staging before any therapy, and restaging dates at the end of the calendar.

Expectations come from /work/shared/clinical/criteria.md §10 (treatment algorithm: step 0 staging
before therapy, step 1 radiotherapy when the random marrow has no clonal plasma cells, step 2
systemic therapy for marrow involvement, 2a transplant, step 4 engraftment syndrome when an ASCT is
planned, step 5 restaging at day +90/+100 after the ASCT) and §8 (monitoring), with the seed case
(/work/shared/clinical/seed_case.md: induction from 2019-02, ASCT on 2019-08-30) for dates - not from
the code. Where the code words a step in its own way the exact visible text is pinned.
"""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.pathway import Step
from poems_fhir.criteria.timeline import Event
from tests.criteria.test_pathway_mutants2 import CLONE, d, f, m, steps

#: both mandatory criteria; the M-protein from serum (no marrow result): the branch is still open
SERUM_CLONE = f("monoclonal_plasma_cell_disorder", heavy_chain="IgA", light_chain="lambda")
MANDATORY = [f("polyneuropathy"), SERUM_CLONE]
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
    assert got["staging"].status == "not-started"


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
    assert got["transplant-eligibility"].status == "not-started"


# --- step 2: clonal plasma cells in the marrow -> systemic therapy (§10)


def test_clonal_plasma_cells_by_marrow_flow_cytometry_decide_the_systemic_branch():
    flow = f("monoclonal_plasma_cell_disorder", rule="bm_clonal_plasma_cells")  # LOINC 93021-4, a count > 0
    got = by_id(steps([f("polyneuropathy"), SERUM_CLONE, flow], [m("bm_clonal_plasma_cells", 4, -30, "%")]))
    assert got["branch"].title == "Systemic therapy (disseminated marrow involvement)"
    assert got["branch"].key == "branch-systemic"
    assert got["branch"].evidence == ("Condition/bm_clonal_plasma_cells",)
    assert got["branch"].status == "not-started"
    assert got["transplant-eligibility"].status == "not-started"


def test_a_transplant_is_systemic_therapy_given():
    # high-dose melphalan + ASCT recorded only as the transplant procedure (no separate medication)
    asct = Event("autologous_hsct", d(40), "Procedure/asct", "ASCT", status="completed")
    got = by_id(steps([f("polyneuropathy"), CLONE], [], [asct], as_of=d(60)))
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
    assert got["transplant-eligibility"].status == "not-started"
    assert got["transplant-eligibility"].evidence == ()
    assert "engraftment-syndrome" not in got


# --- step 0: staging before therapy


def test_staging_before_any_therapy_is_not_started():
    got = by_id(steps([f("polyneuropathy"), CLONE], [], [], as_of=d(0)))
    assert got["staging"].title == "Complete staging before therapy"
    assert got["staging"].status == "not-started"
    # once therapy has begun, whether staging was complete is not known from the data
    lena = Event("treatment", d(1), "MedicationStatement/lena", "lenalidomide")
    assert by_id(steps([f("polyneuropathy"), CLONE], [], [lena], as_of=d(30)))["staging"].status == "unknown"


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
    got = by_id(steps([f("polyneuropathy"), CLONE], [], [asct], as_of=None))
    restage = got["restaging-day100"]
    assert (restage.scheduled_start, restage.scheduled_end) == (dt.date(9999, 12, 30), dt.date(9999, 12, 31))
    assert restage.title == "Restaging at day +90/+100 after transplant (9999-12-30 - 9999-12-31)"
    assert restage.status == "scheduled"


def test_restaging_entirely_past_the_calendar_end():
    asct = Event("autologous_hsct", dt.date(9999, 12, 1), "Procedure/asct", "ASCT", status="completed")
    restage = by_id(steps([f("polyneuropathy"), CLONE], [], [asct], as_of=None))["restaging-day100"]
    assert (restage.scheduled_start, restage.scheduled_end) == (dt.date.max, dt.date.max)
