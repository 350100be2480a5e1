"""The proposed care pathway (criteria.md §10) in full for one transplanted patient, and its branches.

Every step is pinned with its wording, status, dates, coding and evidence: the CarePlan a clinician
reads is built from exactly these. The expected statuses and dates follow §10 (step 0 staging, steps
1/2 local vs systemic by marrow involvement, 2a transplant, 2d neurotoxicity caution, 3 thrombosis
prophylaxis, 4 engraftment syndrome, 5 restaging at day +90/+100, 6 VEGF every 6 months).
"""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.pathway import Step, pathway
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import response_config, risk_config

MAPPING = load_mapping()
CFG = response_config(MAPPING)
RISK = risk_config(MAPPING)
T0 = dt.date(2021, 3, 1)


def d(n: int) -> dt.date:
    return T0 + dt.timedelta(days=n)


def f(topic: str, rule: str | None = None, n: int = -30, **kw) -> Finding:
    return Finding(topic, State.PRESENT, Evidence(f"Condition/{rule or topic}", d(n), topic), source_rule=rule, **kw)


def m(analyte: str, value: float, n: int, unit: str | None = None, specimen: str | None = None) -> Measurement:
    return Measurement(analyte, value, unit, d(n), f"Observation/{analyte}{n}", specimen)


def steps(findings, ms=(), events=(), as_of: dt.date | None = None) -> list[Step]:
    r = assess_response(list(ms), list(events), findings, [], CFG, as_of)
    risk = assess_risk(findings, list(ms), list(events), r, dt.date(1960, 1, 1), as_of, RISK)
    a = evaluate("Patient/1", findings, MAYO, as_of)
    earlier = evaluate("Patient/1", findings, MAYO, r.first_treatment) if r.first_treatment else None
    return pathway(a, earlier, r, risk, findings, list(ms), list(events), as_of)


CLONE = f("monoclonal_plasma_cell_disorder", rule="marrow_clonal_plasma_cells", heavy_chain="IgA", light_chain="lambda")
FINDINGS = [
    f("polyneuropathy"),
    CLONE,
    f("skin_changes"),
    f("organomegaly", rule="splenomegaly"),
    f("thrombocytosis_polycythemia", rule="platelets"),
]
EVENTS = [
    Event("treatment", T0, "MedicationStatement/thal", "thalidomide", agent="thalidomide", neurotoxic=True, end=d(60)),
    Event("stem_cell_mobilisation", d(100), "Procedure/mob", "mobilisation", status="completed"),
    Event("autologous_hsct", d(110), "Procedure/asct", "ASCT", status="completed"),
]
MEASUREMENTS = [
    m("vegf", 400, -10, "pg/mL", "plasma"),
    m("vegf", 150, 150, "pg/mL", "plasma"),
    m("serum_ife", 0, 205),
]


def _workup(criterion: str, title: str, description: str, why: str, coding: tuple[str, str, str] | None = None) -> Step:
    """An expected not-started work-up step for ``criterion`` (every other field as the pathway leaves it)."""
    return Step(
        id=f"workup-{criterion}",
        title=title,
        description=description,
        status="not-started",
        coding=coding,
        scheduled_start=None,
        scheduled_end=None,
        repeat_months=None,
        evidence=(),
        key="workup",
        params=(("criterion", criterion), ("why", why)),
    )


def test_the_whole_pathway_after_a_transplant():
    # day 0 = d(110) = 2021-06-19: restaging window day +90..+100 = 2021-09-17..2021-09-27; the last VEGF on
    # 2021-07-29 makes the next one due 6 months later
    got = steps(FINDINGS, MEASUREMENTS, EVENTS, as_of=d(220))
    assert got == [
        _workup(
            "castleman_disease",
            "Lymph-node biopsy for Castleman histology if nodes are enlarged or FDG-avid (imaging cannot establish Castleman disease)",
            "castleman disease: no data; decides the classification only if found (treatment has begun).",
            "deciding_if_found",
        ),
        _workup(
            "sclerotic_bone_lesions",
            "CT-based whole-body bone imaging or FDG PET-CT with bone-window review (plain radiographs miss small sclerotic lesions)",
            "sclerotic bone lesions: no data; decides the classification only if found (treatment has begun).",
            "deciding_if_found",
            coding=("http://snomed.info/sct", "77477000", "Computerized axial tomography"),
        ),
        _workup(
            "vegf_elevation",
            "Measure VEGF, plasma preferred (send out if not available locally); record the specimen type - serum and plasma cut-offs differ",
            "vegf elevation: no data; decides the classification only if found (treatment has begun).",
            "deciding_if_found",
            coding=(
                "http://loinc.org",
                "75628-8",
                "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma",
            ),
        ),
        _workup(
            "extravascular_volume_overload",
            "Examination and imaging for edema, pleural effusion, ascites",
            "extravascular volume overload: no data; completes the POEMS work-up.",
            "completing",
        ),
        _workup(
            "endocrinopathy",
            "Endocrine axes: testosterone/estradiol, prolactin, cortisol, PTH, glucose/HbA1c, TSH/FT4",
            "endocrinopathy: no data; completes the POEMS work-up.",
            "completing",
        ),
        _workup(
            "papilledema",
            "Fundoscopy for papilledema",
            "papilledema: no data; completes the POEMS work-up.",
            "completing",
        ),
        Step(
            id="staging",
            title="Complete staging before therapy",
            description="Serum + urine IFE, FLC, plasma VEGF, CBC, bone-marrow aspirate/biopsy, whole-body CT-based bone imaging or FDG PET-CT, lymph-node biopsy if nodes are enlarged/avid, endocrine panel, echocardiography (sPAP), pulmonary function tests, NCS/EMG, fundoscopy (D'Sa 2022).",
            status="unknown",
            coding=None,
            scheduled_start=None,
            scheduled_end=None,
            repeat_months=None,
            evidence=(),
            key="",
            params=(),
        ),
        Step(
            id="branch",
            title="Systemic therapy (disseminated marrow involvement)",
            description="Clonal plasma cells in the bone marrow: treat the clone systemically rather than with radiotherapy alone (Dispenzieri 2023).",
            status="completed",
            coding=None,
            scheduled_start=None,
            scheduled_end=None,
            repeat_months=None,
            evidence=("Condition/marrow_clonal_plasma_cells",),
            key="branch-systemic",
            params=(),
        ),
        Step(
            id="transplant-eligibility",
            title="Assess transplant eligibility",
            description="High-dose melphalan with autologous stem-cell transplantation for eligible patients; otherwise lenalidomide + dexamethasone or melphalan + dexamethasone (Dispenzieri 2023).",
            status="completed",
            coding=None,
            scheduled_start=None,
            scheduled_end=None,
            repeat_months=None,
            evidence=("Procedure/asct",),
            key="",
            params=(),
        ),
        Step(
            id="neurotoxic-caution",
            title="Weigh neurotoxicity of thalidomide and bortezomib",
            description="Thalidomide and bortezomib are active but may worsen the neuropathy; monitor neuropathy closely if used (Dispenzieri 2023; Keddie 2018). Given: thalidomide.",
            status="completed",
            coding=None,
            scheduled_start=None,
            scheduled_end=None,
            repeat_months=None,
            evidence=("MedicationStatement/thal",),
            key="",
            params=(("agent", "thalidomide"),),
        ),
        Step(
            id="thrombosis-prophylaxis",
            title="Antiplatelet prophylaxis; consider anticoagulation",
            description="Antiplatelet prophylaxis is advised for all patients; consider anticoagulation with thrombosis risk factors (present: thrombocytosis, splenomegaly) (Mellors 2021).",
            status="not-started",
            coding=None,
            scheduled_start=None,
            scheduled_end=None,
            repeat_months=None,
            evidence=("Condition/platelets", "Condition/splenomegaly"),
            key="",
            params=(("risk", "thrombosis_thrombocytosis"), ("risk", "thrombosis_splenomegaly")),
        ),
        Step(
            id="engraftment-syndrome",
            title="Anticipate engraftment syndrome around the transplant",
            description="Fever, diarrhoea, weight gain and rash around engraftment; earlier, more aggressive corticosteroids may help (Dispenzieri 2008). Splenomegaly is the best baseline predictor of a complicated course: higher risk.",
            status="completed",
            coding=None,
            scheduled_start=None,
            scheduled_end=None,
            repeat_months=None,
            evidence=("Procedure/mob", "Procedure/asct", "Condition/splenomegaly"),
            key="",
            params=(("splenomegaly", "yes"),),
        ),
        Step(
            id="restaging-day100",
            title="Restaging at day +90/+100 after transplant (2021-09-17 - 2021-09-27)",
            description="Serum/urine IFE, FLC, VEGF, CBC, chemistry, PET-CT/CT of known lesions, echocardiography if pulmonary hypertension, neurological examination +/- NCS (D'Souza 2012). Not yet done at this restaging: urine_immunofixation, free_light_chains, vegf, blood_count.",
            status="in-progress",
            coding=None,
            scheduled_start=dt.date(2021, 9, 17),
            scheduled_end=dt.date(2021, 9, 27),
            repeat_months=None,
            evidence=("Procedure/asct", "Observation/serum_ife205"),
            key="",
            params=tuple(("missing", x) for x in ("urine_immunofixation", "free_light_chains", "vegf", "blood_count"))
            + (("done", f"serum_immunofixation {d(205).isoformat()}"),)  # what was done, when (probe137 D2)
            + (("overdue", "2021-09-27"),),
        ),
        Step(
            id="vegf-surveillance",
            title="VEGF about every 6 months, plasma (same specimen type and assay)",
            description="VEGF normalisation and its surveillance predict relapse (Gentile 2024; Misawa 2015); serum and plasma values are not comparable, so keep the specimen type.",
            status="in-progress",  # a VEGF since the transplant (probe77 D5)
            coding=(
                "http://loinc.org",
                "75628-8",
                "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma",
            ),
            scheduled_start=dt.date(2022, 1, 29),
            scheduled_end=None,
            repeat_months=6,
            evidence=("Observation/vegf150",),
            key="",
            params=(("specimen", "plasma"),),
        ),
        Step(
            id="surveillance",
            title="Surveillance every 3-6 months",
            description="IFE/FLC, CBC, chemistry, neurological examination; imaging of previously involved sites; endocrine follow-up (D'Sa 2022).",
            # under way since the serum IFE after the transplant; next due 6 months after it (probe58 D2)
            status="in-progress",
            coding=None,
            scheduled_start=dt.date(2022, 3, 22),
            scheduled_end=None,
            repeat_months=3,  # every 3-6 months (criteria.md §10), due at the interval's end
            repeat_months_max=6,
            evidence=("Observation/serum_ife205",),
            key="",
            params=(),
        ),
    ]
