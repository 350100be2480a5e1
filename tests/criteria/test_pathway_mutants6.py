"""The proposed care pathway in cases the earlier pathway tests left open (found by mutation testing).

Checked: the three staging proposals before therapy pinned in full (wording, status, vocabulary key);
a 24-hour urine protein counts as the urine half of the FLC/urine staging test; a marrow report saying
"no clonal plasma cells" in words counts on an --as-of date after it; a treatment in preparation or
planned - dated on or before --as-of - is not therapy given.

Expectations come from /work/shared/clinical/criteria.md §10 (step 0 staging before therapy, step 1
radiotherapy when the random marrow has no clonal plasma cells, step 2 systemic therapy for marrow
involvement) and seed_case.md T0 "missing-data actions" (serum FLC and 24-h urine protein/IFE, echo
sPAP value, NCS report).
"""

from __future__ import annotations

from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.pathway import Step
from poems_fhir.criteria.timeline import Event
from tests.criteria.test_pathway_mutants2 import d, m, steps
from tests.criteria.test_pathway_mutants4 import MANDATORY, MARROW_NEGATIVE, PATIENT, RADIOTHERAPY_BRANCH, by_id

# --- step 0: the staging tests no criterion's work-up proposes, each pinned in full


def test_the_staging_proposals_before_therapy_in_full():
    # both mandatory criteria, nothing measured, no NCS report, no therapy yet: all three are proposed
    got = by_id(steps(PATIENT, [], [], as_of=d(0)))
    assert got["staging-flc-urine"] == Step(
        id="staging-flc-urine",
        title="Serum free light chains and 24-hour urine protein with immunofixation",
        description="The baseline of the haematological response: both frameworks read them (D'Sa 2022).",
        status="not-started",
        key="staging-flc-urine",
    )
    assert got["staging-echo"] == Step(
        id="staging-echo",
        title="Echocardiography with the pulmonary artery systolic pressure",
        description="Pulmonary hypertension is a supporting sign and a risk factor (Wang 2017: sPAP >= 50 mmHg) "
        "(D'Sa 2022).",
        status="not-started",
        key="staging-echo",
    )
    assert got["staging-ncs"] == Step(
        id="staging-ncs",
        title="Nerve conduction study / EMG report",
        description="Demyelinating features on NCS support the polyneuropathy of POEMS (D'Sa 2022; Dispenzieri 2012).",
        status="not-started",
        key="staging-ncs",
    )
    # each is worded for people by its own vocabulary entry
    assert [got[i].term_key for i in ("staging-flc-urine", "staging-echo", "staging-ncs")] == [
        "staging-flc-urine",
        "staging-echo",
        "staging-ncs",
    ]


def test_a_24_hour_urine_protein_with_the_free_light_chains_completes_that_staging_test():
    # seed_case.md T0: "serum FLC and 24-h urine protein/IFE" - the urine M-protein (24-h urine protein
    # electrophoresis) is the urine half as well as a urine immunofixation is
    flc = m("flc_kappa", 20, -5, "mg/L")
    urine_protein = m("urine_m_protein", 0.2, -5, "g/(24.h)")
    assert "staging-flc-urine" not in by_id(steps(PATIENT, [flc, urine_protein], [], as_of=d(0)))
    # the urine protein alone still lacks the light chains
    assert "staging-flc-urine" in by_id(steps(PATIENT, [urine_protein], [], as_of=d(0)))


# --- step 1: a marrow report that says "no clonal plasma cells" in words, on a later evaluation date


def test_a_marrow_report_in_words_counts_on_an_evaluation_date_after_it():
    words = Finding(
        "monoclonal_plasma_cell_disorder",
        State.ABSENT,
        Evidence("DiagnosticReport/bm", d(-20), 'Bone marrow trephine biopsy: "No clonal plasma cells."'),
        source_rule="marrow_clonal_plasma_cells",
    )
    for as_of in (d(-20), d(0)):  # on the report's day and after it
        branch = by_id(steps([*MANDATORY, words], [], as_of=as_of))["branch"]
        assert (branch.key, branch.status, branch.evidence) == (
            "branch-radiotherapy",
            "not-started",
            ("DiagnosticReport/bm",),
        ), as_of


# --- what counts as therapy given: not a treatment in preparation or planned, even when dated before --as-of
# (PATIENT's clone is from the marrow: the systemic branch applies)


def test_a_transplant_in_preparation_dated_before_the_evaluation_date_is_not_systemic_therapy_given():
    # a Procedure in preparation may carry its planned date; on a later --as-of it is still not performed
    asct = Event("autologous_hsct", d(30), "Procedure/asct", "HDM-ASCT", status="preparation")
    got = by_id(steps(PATIENT, [], [asct], as_of=d(60)))
    assert got["branch"].key == "branch-systemic"
    assert got["branch"].status == "not-started"
    # the transplant decision is taken (planned), but no transplant was performed
    assert got["transplant-eligibility"].status == "completed"
    assert got["engraftment-syndrome"].status == "not-started"
    # once it is performed, the systemic branch is behind the patient
    done = Event("autologous_hsct", d(30), "Procedure/asct", "HDM-ASCT", status="completed")
    assert by_id(steps(PATIENT, [], [done], as_of=d(60)))["branch"].status == "completed"


def test_a_planned_treatment_dated_before_the_evaluation_date_is_not_therapy_given():
    planned_drug = Event(
        "treatment", d(10), "MedicationRequest/len", "lenalidomide", agent="lenalidomide", status="planned"
    )
    assert by_id(steps(PATIENT, [], [planned_drug], as_of=d(60)))["branch"].status == "not-started"
    planned_rt = Event("radiotherapy", d(10), "Procedure/rt", "Radiotherapy to the iliac lesion", status="planned")
    assert by_id(steps(MANDATORY, [MARROW_NEGATIVE], [planned_rt], as_of=d(60)))["branch"] == RADIOTHERAPY_BRANCH
    # the same radiotherapy completed does complete the radiotherapy branch
    given = Event("radiotherapy", d(10), "Procedure/rt", "Radiotherapy to the iliac lesion", status="completed")
    assert by_id(steps(MANDATORY, [MARROW_NEGATIVE], [given], as_of=d(60)))["branch"].status == "completed"
