# SPDX-License-Identifier: Apache-2.0
"""One vocabulary of clinical labels: every criterion, sign, flag, state, classification, response
category, risk factor and pathway step has a short label, a one-line explanation and its published
sources (``bibliography.SOURCES``, cited Author Year).

Ids stay in the JSON contract and in codes; people see these labels. The English strings are the
gettext msgids (marked with ``N_`` for extraction); ``Translator._`` turns them into the reader's
language. An id with no entry is a bug caught by the tests, never shown raw.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import N_, Translator
from .bibliography import cite


@dataclass(frozen=True)
class Term:
    label: str
    explanation: str
    sources: tuple[str, ...] = ()


_CRITERIA_SRC = ("D2023", "D2012HIT")

CRITERIA: dict[str, Term] = {
    "polyneuropathy": Term(
        N_("Polyneuropathy"),
        N_("Peripheral polyradiculoneuropathy, typically demyelinating, symmetric, distal and sensorimotor."),
        _CRITERIA_SRC,
    ),
    "monoclonal_plasma_cell_disorder": Term(
        N_("Monoclonal plasma-cell proliferative disorder"),
        N_(
            "A monoclonal plasma-cell clone (immunofixation, free light chains, marrow or lesion biopsy); "
            "almost always lambda."
        ),
        _CRITERIA_SRC,
    ),
    "castleman_disease": Term(
        N_("Castleman disease"),
        N_("Castleman histology on lymph-node biopsy; imaging alone cannot establish it."),
        _CRITERIA_SRC,
    ),
    "sclerotic_bone_lesions": Term(
        N_("Sclerotic bone lesions"),
        N_(
            "Sclerotic, mixed, or lytic lesions with a sclerotic rim; CT-based imaging shows small lesions that "
            "plain radiographs miss."
        ),
        _CRITERIA_SRC + ("DSa2022",),
    ),
    "vegf_elevation": Term(
        N_("Elevated VEGF"),
        N_(
            "Raised vascular endothelial growth factor; plasma VEGF of 200 pg/mL or more has a specificity of 95%; serum and "
            "plasma values are not interchangeable."
        ),
        ("D2023", "DS2011"),
    ),
    "organomegaly": Term(N_("Organomegaly"), N_("Splenomegaly, hepatomegaly or lymphadenopathy."), _CRITERIA_SRC),
    "extravascular_volume_overload": Term(
        N_("Extravascular volume overload"), N_("Oedema, pleural effusion or ascites."), _CRITERIA_SRC
    ),
    "endocrinopathy": Term(
        N_("Endocrinopathy"),
        N_(
            "Adrenal, thyroid, pituitary, gonadal, parathyroid or pancreatic; diabetes or thyroid disease alone "
            "does not satisfy this criterion."
        ),
        _CRITERIA_SRC,
    ),
    "skin_changes": Term(
        N_("Skin changes"),
        N_(
            "Hyperpigmentation, hypertrichosis, glomeruloid haemangiomata, plethora, acrocyanosis, flushing or "
            "white nails."
        ),
        _CRITERIA_SRC,
    ),
    "papilledema": Term(N_("Papilloedema"), N_("Optic disc oedema on fundoscopy."), _CRITERIA_SRC),
    "thrombocytosis_polycythemia": Term(
        N_("Thrombocytosis or polycythaemia"),
        N_("Raised platelet count, or raised haemoglobin or haematocrit; the criteria give no numeric cut-off."),
        _CRITERIA_SRC,
    ),
}

_SIGN = N_("Supporting feature of POEMS syndrome; reported, not counted by the rule.")
SIGNS: dict[str, Term] = {
    k: Term(label, _SIGN, ("D2012HIT",))
    for k, label in {
        "clubbing": N_("Clubbing"),
        "weight_loss": N_("Weight loss"),
        "pulmonary_hypertension": N_("Pulmonary hypertension"),
        "pericardial_effusion": N_("Pericardial effusion"),
        "thrombosis": N_("Thrombosis"),
        "diarrhea": N_("Diarrhoea"),
        "low_vitamin_b12": N_("Low vitamin B12"),
        "hyperhidrosis": N_("Hyperhidrosis"),
        "anemia": N_("Anaemia"),
        "thrombocytopenia": N_("Thrombocytopenia"),
    }.items()
}

STATES: dict[str, Term] = {
    "present": Term(N_("Present"), N_("Recorded at some time up to the data cut-off.")),
    "absent": Term(N_("Absent"), N_("Excluded by an adequate test.")),
    "not_assessed": Term(N_("Not assessed"), N_("No adequate test recorded; not the same as absent.")),
    "indeterminate": Term(N_("Indeterminate"), N_("Conflicting or low-grade evidence; needs a better test.")),
    # criteria.md §5 ABSENT_BY_CAVEAT, "report separately": not the green "Absent" of an axis-by-axis exclusion
    "absent_by_caveat": Term(
        N_("Not met by this alone"),
        N_("Thyroid disease or diabetes alone does not satisfy this criterion; the other axes decide."),
    ),
}

CLASSIFICATIONS: dict[str, Term] = {
    "met": Term(N_("Criteria met"), N_("The recorded data satisfy the diagnostic rule.")),
    "not_met": Term(N_("Criteria not met"), N_("The recorded data exclude the diagnostic rule.")),
    "indeterminate": Term(
        N_("Cannot be confirmed or excluded"),
        N_("Facts that decide the diagnostic rule are missing; never read as met."),
    ),
    "out_of_scope": Term(N_("Out of scope"), N_("No reason to suspect POEMS syndrome under the configured trigger.")),
}

PROFILES: dict[str, Term] = {
    "mayo": Term(
        N_("Current Dispenzieri criteria"),
        N_("Both mandatory major criteria, one other major criterion and one minor criterion."),
        ("D2023", "D2012HIT"),
    ),
    "dispenzieri-2003": Term(
        N_("Dispenzieri 2003 criteria"),
        N_("Both major criteria and one minor criterion (VEGF not included)."),
        ("D2003",),
    ),
    "dispenzieri-2003-caveat": Term(
        N_("Dispenzieri 2003 criteria with the endocrine caveat"),
        N_(
            "Both major criteria and one minor criterion (VEGF not included); diabetes or thyroid disease alone "
            "is no endocrinopathy (the caveat of the current criteria, unverified for 2003)."
        ),
        ("D2003", "D2012HIT"),
    ),
    "japan-2019": Term(
        N_("Japanese criteria proposal"),
        N_("Polyneuropathy, a monoclonal plasma-cell disorder and elevated VEGF, and two of four minor criteria."),
        ("Suichi2019",),
    ),
}

FLAGS: dict[str, Term] = {
    "atypical_isotype": Term(
        N_("Atypical isotype (kappa)"),
        N_("Kappa light chain: atypical for POEMS syndrome, which is almost always lambda, but not excluding; review."),
        ("D2012HIT",),
    ),
    "igm_paraprotein": Term(
        N_("IgM paraprotein"),
        N_("Consider anti-MAG or MGUS-associated neuropathy; IgM neuropathy can raise VEGF: interpret VEGF with care."),
        ("D2012HIT", "Pihan2018"),
    ),
    "cytopenia_without_castleman": Term(
        N_("Cytopenia without Castleman disease"),
        N_(
            "Anaemia or thrombocytopenia is distinctively unusual in POEMS syndrome unless Castleman disease is present: "
            "consider lymph-node biopsy and reconsider the diagnosis."
        ),
        ("D2012HIT",),
    ),
    "differential_cidp": Term(
        N_("CIDP recorded"),
        N_(
            "The most common misdiagnosis: thrombocytosis, raised VEGF, organomegaly, volume overload, skin or endocrine "
            "changes and a lambda clone favour POEMS syndrome; treatment-resistant CIDP calls for a POEMS work-up."
        ),
        ("D2019", "Naddaf2015"),
    ),
    "differential_multiple_myeloma": Term(
        N_("Features of multiple myeloma"),
        N_(
            "Lytic lesions, cytopenias, kappa and at least 10% marrow plasma cells favour myeloma: check "
            "myeloma-defining events."
        ),
        ("D2003", "IMWG2014"),
    ),
    "differential_al_amyloidosis": Term(
        N_("AL amyloidosis recorded or suggested"),
        N_(
            "Check Congo-red histology and cardiac biomarkers; raised VEGF, sclerotic lesions and volume overload "
            "favour POEMS syndrome."
        ),
        ("Suichi2019",),
    ),
    "differential_mgus": Term(
        N_("MGUS recorded"),
        N_(
            "A paraprotein with neuropathy alone is not POEMS syndrome: another major and a minor criterion are "
            "required."
        ),
        ("D2012HIT",),
    ),
    "differential_igm_neuropathy": Term(
        N_("IgM neuropathy recorded (anti-MAG, Waldenström macroglobulinaemia)"),
        N_(
            "An MGUS-associated IgM (anti-MAG) neuropathy mimics POEMS syndrome and may raise VEGF somewhat: "
            "interpret VEGF with care. POEMS needs another major criterion and a minor one; where VEGF is the only "
            "other major criterion, it is not labelled POEMS syndrome without a clinician's review."
        ),
        ("D2012HIT", "Pihan2018"),
    ),
    "differential_myeloproliferative_neoplasm": Term(
        N_("Myeloproliferative neoplasm recorded"),
        N_(
            "Essential thrombocythaemia, polycythaemia vera or myelofibrosis mimics POEMS syndrome: the thrombocytosis "
            "or erythrocytosis may be its own, and a serum VEGF is raised by the platelets' own VEGF - prefer a plasma "
            "VEGF. Beside it, met criteria are not labelled POEMS syndrome without a clinician's review."
        ),
        ("D2012HIT",),
    ),
    "differential_diabetic_polyneuropathy": Term(
        N_("Diabetic polyneuropathy recorded"),
        N_(
            "The neuropathy may have another cause, and diabetes alone does not meet the endocrinopathy criterion: "
            "review demyelinating features, VEGF and the clone before attributing the neuropathy to POEMS syndrome."
        ),
        ("D2012HIT",),
    ),
    "differential_diabetic_polyneuropathy_counted": Term(
        N_("Diabetic polyneuropathy recorded"),
        N_(
            "The neuropathy may have another cause; this rule set counts diabetes alone as the endocrinopathy (the "
            "caveat of the current criteria is unverified for it): review demyelinating features, VEGF and the "
            "clone before attributing the neuropathy to POEMS syndrome."
        ),
        ("D2012HIT", "D2003"),
    ),
    "differential_toxic_polyneuropathy": Term(
        N_("Drug-induced, alcoholic or toxic polyneuropathy recorded"),
        N_(
            "The neuropathy may have the recorded cause (thalidomide and bortezomib, used against POEMS syndrome, "
            "worsen a neuropathy): review demyelinating features, VEGF and the clone before attributing the "
            "neuropathy to POEMS syndrome."
        ),
        ("D2023",),
    ),
    "differential_vegf_confounder": Term(
        N_("Another cause of raised VEGF"),
        N_(
            "Iron-deficiency anaemia, COPD, sleep apnoea, cancer, vasculitis, chronic inflammation or acute illness "
            "raise VEGF by themselves: interpret VEGF with care and repeat it."
        ),
        ("Pihan2018",),
    ),
    "differential_castleman_without_neuropathy": Term(
        N_("Castleman disease without neuropathy or clone"),
        N_("The Castleman variant is classified separately, not as POEMS syndrome."),
        ("D2019",),
    ),
}

HEMATOLOGIC: dict[str, Term] = {
    "CR": Term(
        N_("Complete response"),
        N_("Serum and urine immunofixation negative (and a normal free light chain ratio)."),
        ("CIBMTR-AL",),
    ),
    "VGPR": Term(
        N_("Very good partial response"),
        N_("Involved minus uninvolved free light chain below 40 mg/L, or M-protein down by at least 90%."),
        ("CIBMTR-AL", "CurrOncol2023"),
    ),
    "PR": Term(
        N_("Partial response"),
        N_("M-protein or free light chain difference down by at least 50%."),
        ("CIBMTR-AL", "CurrOncol2023"),
    ),
    "MR": Term(N_("Minimal response"), N_("M-protein down 25-49%."), ("CurrOncol2023",)),
    "NR": Term(
        N_("No response"), N_("Neither complete, very good partial, partial response nor progression."), ("CIBMTR-AL",)
    ),
    "PD": Term(
        N_("Progression"),
        N_("M-protein or free light chains rising again, or detectable after a complete response."),
        ("CIBMTR-AL", "CurrOncol2023"),
    ),
    "not_evaluable": Term(
        N_("Not evaluable"),
        N_("The baseline is not measurable or a needed test is missing; never a guessed category."),
        ("CIBMTR-AL",),
    ),
}
FRAMEWORKS: dict[str, Term] = {
    "amyloid": Term(
        N_("Haematological response (amyloidosis criteria)"),
        N_("Suited to small M-proteins: free light chains and immunofixation."),
        ("CIBMTR-AL",),
    ),
    "imwg": Term(
        N_("Haematological response (IMWG myeloma criteria)"),
        N_("Needs a measurable M-protein of 10 g/L or more."),
        ("CurrOncol2023",),
    ),
}
VEGF_RESPONSE: dict[str, Term] = {
    "complete": Term(
        N_("VEGF normalised"),
        N_("Below the cut-off for the same specimen type."),
        ("DS2011", "Misawa2015", "Gentile2024"),
    ),
    "partial": Term(N_("VEGF partly reduced"), N_("Down by at least 50% without normalising."), ("Gentile2024",)),
    "none": Term(N_("No VEGF response"), N_("Neither normalised nor halved."), ("Gentile2024",)),
    "progression": Term(
        N_("VEGF rising"),
        N_("Rising VEGF is the second most common progression event after radiological progression."),
        ("DS2012",),
    ),
    "not_evaluable": Term(
        N_("VEGF response not evaluable"),
        N_("No elevated baseline, another specimen type, or no follow-up value."),
        ("DS2011",),
    ),
}
DIRECTIONS: dict[str, Term] = {
    "improved": Term(N_("Improved"), ""),
    "stable": Term(N_("Stable"), ""),
    "worse": Term(N_("Worse"), ""),
    "not_assessed": Term(N_("Not assessed"), ""),
}
DOMAINS: dict[str, Term] = {
    "neuropathy": Term(N_("Neuropathy"), "", ("Misawa2015", "Gentile2024")),
    "volume_overload": Term(N_("Volume overload"), "", ("Misawa2015",)),
    "organomegaly": Term(N_("Organomegaly"), ""),
    "skin": Term(N_("Skin changes"), ""),
    "pulmonary_hypertension": Term(N_("Pulmonary hypertension"), ""),
    "albumin": Term(N_("Albumin"), "", ("Misawa2015",)),
}
ALERTS: dict[str, Term] = {
    "hematologic_progression": Term(
        N_("Haematological progression"),
        N_(
            "The clone is growing again: relapse or progression work-up; IMiDs or radiotherapy salvage are commonly "
            "effective."
        ),
        ("DS2012",),
    ),
    "vegf_progression": Term(
        N_("Rising VEGF"),
        N_("Rising VEGF is the second most common progression event after radiological progression."),
        ("DS2012",),
    ),
    "reappearance": Term(
        N_("A feature has come back"), N_("A finding recorded again after it had resolved."), ("Kourelis2016",)
    ),
    "radiologic_progression": Term(
        N_("Radiological progression"),
        N_(
            "An imaging report after the start of treatment says the disease progressed or shows new lesions: "
            "radiological events are the most common form of progression."
        ),
        ("DS2012", "D2019"),
    ),
    "progression_before_treatment": Term(
        N_("Progression before the current treatment"),
        N_(
            "A relapse or progression was recorded at an earlier restaging and a treatment was begun after it: the "
            "response shown is still measured from its baseline, not from that treatment's start."
        ),
        ("DS2012",),
    ),
    "clinical_progression": Term(
        N_("Clinical worsening without response"),
        N_(
            "Clinical worsening on treatment without a haematological response: review for progression and "
            "consider a change of regimen or early escalation."
        ),
        ("Kourelis2016",),
    ),
    "discordant_response": Term(
        N_("Discordant response"),
        N_(
            "Haematological response with clinical worsening: consider a change of regimen or early escalation; "
            "thalidomide and bortezomib can worsen neuropathy."
        ),
        ("D2023",),
    ),
}
RISK_MODELS: dict[str, str] = {
    "Wang": "Wang2017",
    "Mayo": "Kourelis2016",
    "post-ASCT": "DS2012",
    "thrombosis": "Mellors2021",
}
RISK: dict[str, Term] = {
    "age_over_50": Term(
        N_("Age over 50 years"), N_("Overall survival at diagnosis (hazard ratio 4.07)."), ("Wang2017",)
    ),
    "pulmonary_hypertension": Term(
        N_("Pulmonary hypertension"),
        # what it predicts, then the cohort's definition (a recorded diagnosis without the sPAP cannot
        # confirm it: seed_case.md T0, and the factor's reason says so)
        N_(
            "Overall survival at diagnosis (hazard ratio 3.99); the cohort's definition: echocardiographic "
            "systolic pulmonary artery pressure of 50 mmHg or more."
        ),
        ("Wang2017", "WangPH2013"),
    ),
    "pleural_effusion": Term(
        N_("Pleural effusion"), N_("Overall survival at diagnosis (hazard ratio 3.81)."), ("Wang2017",)
    ),
    "egfr_below_30": Term(
        N_("eGFR below 30 mL/min/1.73 m²"), N_("Overall survival at diagnosis (hazard ratio 8.25)."), ("Wang2017",)
    ),
    "low_albumin": Term(
        N_("Low albumin at diagnosis"),
        N_("Risk of progression after first-line treatment; below 32 g/L."),
        ("Kourelis2016",),
    ),
    "no_hematologic_cr_after_first_line": Term(
        N_("No haematological complete response after first line"),
        N_("Risk of progression after first-line treatment."),
        ("Kourelis2016",),
    ),
    "igg_lambda": Term(N_("IgG-lambda isotype"), N_("Progression after transplant (hazard ratio 7.5)."), ("DS2012",)),
    "age_50_or_less_at_asct": Term(
        N_("Age 50 or younger at transplant"), N_("Progression after transplant (hazard ratio 4.4)."), ("DS2012",)
    ),
    "fdg_avid_lesions_at_baseline": Term(
        N_("FDG-avid lesions at baseline"), N_("Progression after transplant (hazard ratio 6.4)."), ("DS2012",)
    ),
    "no_hematologic_cr_after_asct": Term(
        N_("No haematological complete response after transplant"),
        N_("Progression after transplant (hazard ratio 5.4)."),
        ("DS2012",),
    ),
    "thrombosis_thrombocytosis": Term(
        N_("Thrombocytosis (thrombosis risk)"), N_("Arterial thrombosis risk."), ("Mellors2021",)
    ),
    "thrombosis_high_hemoglobin_or_hematocrit": Term(
        N_("High haemoglobin or haematocrit (thrombosis risk)"), N_("Arterial thrombosis risk."), ("Mellors2021",)
    ),
    "thrombosis_volume_overload": Term(
        N_("Volume overload (thrombosis risk)"), N_("Arterial thrombosis risk."), ("Mellors2021",)
    ),
    "thrombosis_splenomegaly": Term(
        N_("Splenomegaly (thrombosis risk)"), N_("Arterial thrombosis risk."), ("Mellors2021",)
    ),
    "thrombosis_hyperprolactinemia": Term(
        N_("Hyperprolactinaemia (thrombosis risk)"), N_("Venous thrombosis risk."), ("Mellors2021",)
    ),
}

STEP_STATUS: dict[str, Term] = {
    "not-started": Term(N_("Proposed"), ""),
    "scheduled": Term(N_("Scheduled"), ""),
    "in-progress": Term(N_("In progress"), ""),
    "completed": Term(N_("Done"), ""),
    "unknown": Term(N_("Status unknown"), ""),
}

#: work-up proposal per open criterion
WORKUP: dict[str, Term] = {
    "polyneuropathy": Term(N_("Neurological examination and nerve conduction study / EMG"), "", _CRITERIA_SRC),
    "monoclonal_plasma_cell_disorder": Term(
        N_("Serum and urine immunofixation, serum free light chains; bone-marrow biopsy"), "", _CRITERIA_SRC
    ),
    "castleman_disease": Term(
        N_("Lymph-node biopsy for Castleman histology if nodes are enlarged or FDG-avid"), "", _CRITERIA_SRC
    ),
    "sclerotic_bone_lesions": Term(
        N_("CT-based whole-body bone imaging or FDG PET-CT with bone-window review"), "", ("D2023", "DSa2022")
    ),
    "vegf_elevation": Term(
        N_("VEGF, plasma preferred (send out if not available locally); record the specimen type"), "", ("DS2011",)
    ),
    "organomegaly": Term(N_("Abdominal imaging for hepatosplenomegaly and lymphadenopathy"), "", _CRITERIA_SRC),
    "extravascular_volume_overload": Term(
        N_("Examination and imaging for oedema, pleural effusion and ascites"), "", _CRITERIA_SRC
    ),
    "endocrinopathy": Term(
        N_("Endocrine axes: testosterone or oestradiol, prolactin, cortisol, PTH, glucose/HbA1c, TSH/FT4"),
        "",
        _CRITERIA_SRC,
    ),
    "skin_changes": Term(N_("Skin examination"), "", _CRITERIA_SRC),
    "papilledema": Term(N_("Fundoscopy"), "", _CRITERIA_SRC),
    "thrombocytosis_polycythemia": Term(N_("Complete blood count with platelets"), "", _CRITERIA_SRC),
    # the platelet count on record: the haemoglobin and haematocrit only (criteria/pathway.py PART_WORKUP; probe98 D9)
    "thrombocytosis_polycythemia.polycythemia": Term(
        N_("Haemoglobin and haematocrit (polycythaemia)"), "", _CRITERIA_SRC
    ),
}

#: the work-up proposal for a criterion open only by a low-grade negative whose reason is known:
#: "<criterion>:<reason>" (CriterionResult.retest; probe98 D8)
RETEST: dict[str, Term] = {
    "vegf_elevation:corticosteroid": Term(
        N_("Repeat VEGF (same specimen type, plasma preferred) once the corticosteroid has stopped"),
        "",
        ("Pihan2018", "D2023"),
    ),
    "vegf_elevation:confounder": Term(
        N_("Repeat VEGF (same specimen type, plasma preferred) away from the confounding condition"),
        "",
        ("Pihan2018",),
    ),
    "vegf_elevation:acute_illness": Term(
        N_("Repeat VEGF (same specimen type, plasma preferred) after recovery from the acute illness"),
        "",
        ("Pihan2018",),
    ),
    "thrombocytosis_polycythemia:bleeding_or_transfusion": Term(
        N_("Repeat the complete blood count with platelets away from bleeding and transfusion"), "", _CRITERIA_SRC
    ),
    "monoclonal_plasma_cell_disorder:ratio_only": Term(
        N_("Bone-marrow aspirate and biopsy with clonality: only the free-light-chain ratio is abnormal"),
        "",
        ("D2023",),
    ),
}

#: pathway steps by their key (Step.key)
STEPS: dict[str, Term] = {
    "staging": Term(
        N_("Complete staging before therapy"),
        N_(
            "Serum and urine immunofixation, free light chains, plasma VEGF, blood count, bone-marrow aspirate and "
            "biopsy, whole-body CT-based bone imaging or FDG PET-CT, lymph-node biopsy if nodes are enlarged or avid, "
            "endocrine panel, echocardiography, pulmonary function tests, nerve conduction study, fundoscopy."
        ),
        ("DSa2022",),
    ),
    "staging-flc-urine": Term(
        N_("Serum free light chains and 24-hour urine protein with immunofixation"),
        N_("The baseline of the haematological response: both frameworks read them."),
        ("DSa2022",),
    ),
    "staging-echo": Term(
        N_("Echocardiography with the pulmonary artery systolic pressure"),
        N_("Pulmonary hypertension is a supporting sign and a risk factor (Wang 2017: sPAP of 50 mmHg or more)."),
        ("DSa2022",),
    ),
    "staging-ncs": Term(
        N_("Nerve conduction study / EMG report"),
        N_("Demyelinating features on NCS support the polyneuropathy of POEMS."),
        ("DSa2022", "D2012HIT"),
    ),
    "branch-systemic": Term(
        N_("Systemic therapy (disseminated marrow involvement)"),
        N_("Clonal plasma cells in the bone marrow: treat the clone systemically rather than with radiotherapy alone."),
        ("D2023",),
    ),
    "branch-radiotherapy": Term(
        N_("Consider radiotherapy if the bone lesions are limited"),
        N_(
            "No clonal plasma cells in the random marrow sample: a dominant plasmacytoma or limited sclerotic lesions "
            "are treated with radiotherapy, diffuse lesions systemically; escalate if progressing 3-6 months after "
            "radiation."
        ),
        ("D2023", "D2019", "DSa2022"),
    ),
    "escalate-systemic": Term(
        N_("Escalate to systemic therapy: progression after radiotherapy"),
        N_("Progression 3-6 months after completing radiotherapy: treat the clone systemically."),
        ("D2019",),
    ),
    "restaging-after-radiotherapy": Term(
        N_("Restage 3-6 months after radiotherapy"),
        N_(
            "VEGF, serum M-protein with immunofixation and free light chains, and imaging of the treated lesions: "
            "progression 3-6 months after radiotherapy calls for systemic therapy."
        ),
        ("D2019",),
    ),
    "branch-biopsy": Term(
        N_("Bone-marrow biopsy to choose local or systemic therapy"),
        N_(
            "The extent of marrow disease decides between radiotherapy and systemic therapy: random iliac-crest "
            "aspirate and biopsy with clonality."
        ),
        ("D2023",),
    ),
    "transplant-eligibility": Term(
        N_("Assess transplant eligibility"),
        N_(
            "High-dose melphalan with autologous stem-cell transplantation if eligible; otherwise lenalidomide with "
            "dexamethasone, or melphalan with dexamethasone."
        ),
        ("D2023",),
    ),
    "neurotoxic-caution": Term(
        N_("Weigh the neurotoxicity of thalidomide and bortezomib"),
        N_("Both are active but may worsen the neuropathy; monitor the neuropathy closely if used."),
        ("D2023", "Keddie2018"),
    ),
    "thrombosis-prophylaxis": Term(
        N_("Antiplatelet prophylaxis; consider anticoagulation"),
        N_(
            "Antiplatelet prophylaxis for all patients; consider anticoagulation when thrombosis risk factors are "
            "present."
        ),
        ("Mellors2021",),
    ),
    "engraftment-syndrome": Term(
        N_("Anticipate engraftment syndrome around the transplant"),
        N_(
            "Fever, diarrhoea, weight gain and rash around engraftment; earlier, more intensive corticosteroids may "
            "help."
        ),
        ("D2008",),
    ),
    "restaging-day100": Term(
        N_("Restaging at day +90 to +100 after transplant"),
        N_(
            "Serum and urine immunofixation, free light chains, VEGF, blood count, chemistry, PET-CT or CT of known "
            "lesions, echocardiography if pulmonary hypertension, neurological examination and nerve conduction "
            "study."
        ),
        ("DS2012",),
    ),
    "vegf-surveillance": Term(
        N_("VEGF about every 6 months, same specimen type and assay"),
        N_("VEGF normalisation and its surveillance predict relapse; serum and plasma values are not comparable."),
        ("Gentile2024", "Misawa2015"),
    ),
    "vegf-same-specimen": Term(
        N_("VEGF in the baseline's specimen type"),
        N_(
            "A follow-up VEGF in another specimen type cannot be compared with the baseline: serum and plasma "
            "values are not comparable. A VEGF in the baseline's specimen type assesses the response; a series in "
            "the other type can only start a new reference."
        ),
        ("DS2011", "Gentile2024"),
    ),
    "surveillance": Term(
        N_("Surveillance every 3-6 months"),
        N_(
            "Immunofixation and free light chains, blood count, chemistry, neurological examination, imaging of "
            "previously involved sites, endocrine follow-up."
        ),
        ("DSa2022",),
    ),
    "regimen-review": Term(
        N_("Review the regimen: discordant response"),
        N_("Haematological response with clinical worsening: consider a change of regimen or early escalation."),
        ("D2023",),
    ),
    "regimen-review-worsening": Term(
        N_("Review the regimen: clinical worsening without response"),
        N_("Clinical worsening without a haematological response: consider a change of regimen or early escalation."),
        ("Kourelis2016",),
    ),
    "relapse": Term(
        N_("Relapse or progression work-up and salvage"),
        N_("IMiDs or radiotherapy salvage are commonly effective."),
        ("DS2012",),
    ),
}

#: the default mapping's medication ids, as people name the drug (INN): a site's own medication ids
#: are shown as the site wrote them
AGENTS: dict[str, str] = {
    "melphalan": N_("melphalan"),
    "lenalidomide": N_("lenalidomide"),
    "thalidomide": N_("thalidomide"),
    "pomalidomide": N_("pomalidomide"),
    "bortezomib": N_("bortezomib"),
    "dexamethasone": N_("dexamethasone"),
    "cyclophosphamide": N_("cyclophosphamide"),
    "daratumumab": N_("daratumumab"),
    "aspirin": N_("aspirin"),
    "clopidogrel": N_("clopidogrel"),
    "warfarin": N_("warfarin"),
    "apixaban": N_("apixaban"),
    "rivaroxaban": N_("rivaroxaban"),
    "dabigatran": N_("dabigatran"),
    "enoxaparin": N_("enoxaparin"),
}


def agent_label(t: Translator, agent: str) -> str:
    """A drug in the reader's language (probe48 D13: "Получал(а): bortezomib")."""
    return t._(AGENTS[agent]) if agent in AGENTS else agent


_TABLES: dict[str, dict[str, Term]] = {
    "criterion": CRITERIA,
    "sign": SIGNS,
    "state": STATES,
    "classification": CLASSIFICATIONS,
    "profile": PROFILES,
    "flag": FLAGS,
    "hematologic": HEMATOLOGIC,
    "framework": FRAMEWORKS,
    "vegf": VEGF_RESPONSE,
    "direction": DIRECTIONS,
    "domain": DOMAINS,
    "alert": ALERTS,
    "risk": RISK,
    "status": STEP_STATUS,
    "workup": WORKUP,
    "retest": RETEST,
    "step": STEPS,
}


def term(kind: str, key: str) -> Term:
    """The entry for ``key`` of ``kind`` ("criterion", "flag", ...); KeyError is a bug (tested)."""
    table = _TABLES[kind]
    if kind == "criterion" and key not in table and key in SIGNS:
        return SIGNS[key]
    return table[key]


def has_term(kind: str, key: str) -> bool:
    return key in _TABLES[kind]


def label(t: Translator, kind: str, key: str) -> str:
    return t._(term(kind, key).label)


def explain(t: Translator, kind: str, key: str) -> str:
    e = term(kind, key).explanation
    return t._(e) if e else ""


def sources(kind: str, key: str) -> str:
    return cite(term(kind, key).sources)


def tables() -> dict[str, dict[str, Term]]:
    return dict(_TABLES)
