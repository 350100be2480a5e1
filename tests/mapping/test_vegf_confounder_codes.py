# SPDX-License-Identifier: Apache-2.0
"""The VEGF confounders of criteria.md §4 read from coded Conditions (probe100 D4): iron-deficiency anaemia,
COPD and sleep apnoea by their ICD-10 categories (a near code such as J44.1 or D50.0 counts), and cancers,
vasculitis and chronic inflammatory disease - but never the plasma-cell disorder itself or its neighbours."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record

SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def condition(system: str, code: str, rid: str = "c1") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "onsetDateTime": "2020-01-01",
    }


def normal_vegf() -> dict[str, Any]:
    q = {"system": "http://unitsofmeasure.org", "unit": "pg/mL", "code": "pg/mL"}
    return {
        "resourceType": "Observation",
        "id": "v",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "specimen": {"display": "plasma"},
        "effectiveDateTime": "2024-03-01",
        "valueQuantity": {"value": 80, **q},
    }


def confounders(mapping, *resources: dict[str, Any]):
    ex = extract(make_record(*resources), mapping)
    assert ex.errors == []
    return [f for f in ex.findings if f.topic == "vegf_confounder"]


COUNTED = [
    (ICD10CM, "C34.90"),  # lung cancer
    (ICD10CM, "C18.9"),  # colon cancer
    (ICD10, "C50.9"),  # breast cancer, WHO
    (ICD10CM, "C79.31"),  # brain metastases
    (ICD10CM, "C7A.010"),  # malignant carcinoid of the duodenum (CM-only category)
    (ICD10CM, "M31.9"),  # vasculitis
    (ICD10CM, "M30.0"),  # polyarteritis nodosa
    (ICD10CM, "M31.30"),  # granulomatosis with polyangiitis
    (ICD10CM, "M06.9"),  # rheumatoid arthritis
    (ICD10CM, "M05.79"),
    (ICD10CM, "M32.14"),  # lupus nephritis
    (ICD10CM, "K50.90"),  # Crohn disease
    (ICD10CM, "K51.90"),  # ulcerative colitis
    (ICD10CM, "M45.9"),  # ankylosing spondylitis
    (ICD10CM, "J44.1"),  # COPD with exacerbation: a near code of J44.9
    (ICD10CM, "D50.0"),  # iron-deficiency anaemia after blood loss
    (ICD10CM, "D50.8"),
    (ICD10, "J44.8"),
    (SCT, "363346000"),
    (SCT, "254837009"),
    (SCT, "31996006"),
    (SCT, "69896004"),
    (SCT, "185086009"),  # chronic obstructive bronchitis, as Synthea codes COPD
]

NOT_COUNTED = [
    (ICD10CM, "C90.00"),  # multiple myeloma: the clone itself (its own differential flag)
    (ICD10, "C90.0"),
    (ICD10CM, "C90.20"),  # extramedullary plasmacytoma
    (ICD10CM, "C90.30"),  # solitary plasmacytoma
    (ICD10, "C90.3"),
    (ICD10CM, "C88.0"),  # Waldenström
    (ICD10CM, "C83.00"),  # lymphoid and haematopoietic: not in the list
    (ICD10CM, "C91.10"),
    (ICD10CM, "D47.Z2"),  # Castleman disease
    (ICD10CM, "D47.2"),  # monoclonal gammopathy
    (ICD10CM, "C44.91"),  # basal cell carcinoma of the skin
    (ICD10CM, "C4A.9"),  # Merkel cell carcinoma (skin)
    (ICD10CM, "D03.9"),  # melanoma in situ
    (ICD10CM, "D05.10"),  # ductal carcinoma in situ
    (ICD10CM, "C79.51"),  # bone metastases: how POEMS' sclerotic lesions are coded before the diagnosis
    (ICD10CM, "C79.52"),
    (ICD10CM, "C77.9"),  # lymph-node metastases: how its lymph nodes are
    (ICD10CM, "M31.10"),  # thrombotic microangiopathy: no vasculitis
    (ICD10CM, "J43.9"),  # emphysema is not under J44 (a site adds it)
    (ICD10CM, "D51.0"),  # B12 deficiency anaemia: no iron deficiency
]


@pytest.mark.parametrize(("system", "code"), COUNTED)
def test_a_confounder_of_criteria_md_s4_or_a_near_code_of_one_counts(mapping, system, code):
    [f] = confounders(mapping, condition(system, code))
    assert f.state is State.PRESENT
    result = evaluate_record(make_record(normal_vegf(), condition(system, code)), mapping, MAYO, None)
    assert result.assessment.criteria["vegf_elevation"].state is State.INDETERMINATE
    assert "differential_vegf_confounder" in {f.code for f in result.assessment.flags}


@pytest.mark.parametrize(("system", "code"), NOT_COUNTED)
def test_the_plasma_cell_disorder_skin_cancer_in_situ_or_bone_metastases_do_not_count(mapping, system, code):
    assert confounders(mapping, condition(system, code)) == []
    result = evaluate_record(make_record(normal_vegf(), condition(system, code)), mapping, MAYO, None)
    assert result.assessment.criteria["vegf_elevation"].state is State.ABSENT


def test_a_refuted_cancer_subtype_refutes_nothing(mapping):
    refuted = condition(ICD10CM, "C34.90")
    refuted["verificationStatus"] = {"coding": [{"code": "refuted"}]}
    assert confounders(mapping, refuted) == []
