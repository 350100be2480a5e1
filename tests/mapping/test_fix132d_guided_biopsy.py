"""fix132d (probe132 D1): a pathology report whose name names the imaging that guided the needle ("SURGICAL PATHOLOGY -
BONE, T11 VERTEBRAL LESION, CT-GUIDED BIOPSY", «Биопсия лимфоузла под контролем УЗИ») was read as a CT: its histology-only
findings (a lambda-restricted plasma cell neoplasm, Castleman disease) were dropped. Controls: a CT stays imaging, and an
interventional radiology report of the biopsy (category RAD) stays the imaging report it is filed as."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mapping.test_extract import report, run

CLONE = "monoclonal_plasma_cell_disorder"
CAST = "castleman_disease"
SCL = "sclerotic_bone_lesions"


def _found(mapping, name: str, text: str, category: str | None) -> set[tuple[str, str]]:
    r: dict[str, Any] = report(name, text, category=category or "SP")
    if category is None:  # no category: the name alone says what the report is
        del r["category"]
    return {(f.topic, f.state.value) for f in run(mapping, r).findings}


@pytest.mark.parametrize(
    ("name", "text", "category", "expected"),
    [
        ("SURGICAL PATHOLOGY - BONE, T11 VERTEBRAL LESION, CT-GUIDED BIOPSY",
         "FINAL DIAGNOSIS: - Plasma cell neoplasm, lambda-restricted.", "SP", {(CLONE, "present")}),
        ("SURGICAL PATHOLOGY - RETROPERITONEAL LYMPH NODE, CT-GUIDED CORE BIOPSY",
         "Castleman disease, hyaline vascular type.", "SP", {(CAST, "present")}),
        ("Retroperitoneal lymph node, CT-guided core biopsy",
         "Reactive lymph node. Negative for Castleman disease.", "SP", {(CAST, "absent")}),
        ("Lymph node, US-guided core biopsy", "Castleman disease, hyaline vascular type.", None, {(CAST, "present")}),
        ("Bone biopsy L2 under CT guidance", "Monoclonal plasma cell infiltrate, kappa restricted.", None,
         {(CLONE, "present")}),
        ("Fluoroscopy-guided bone biopsy, L2", "Plasmacytoma.", "PAT", {(CLONE, "present")}),
        ("Биопсия лимфоузла под контролем УЗИ", "Болезнь Кастлемана, гиалиново-васкулярный вариант.", None,
         {(CAST, "present")}),
        ("Трепанобиопсия очага Th11 под контролем КТ", "Плазмоклеточная опухоль, рестрикция лямбда.", "PAT",
         {(CLONE, "present")}),
    ],
)  # fmt: skip
def test_fix132d_guided_biopsy_is_histology(mapping, name, text, category, expected):
    assert _found(mapping, name, text, category) == expected


@pytest.mark.parametrize(
    ("name", "text", "category", "expected"),
    [
        # a CT is imaging, whatever its category
        ("CT CHEST", "Sclerotic lesion in T11.", "RAD", {(SCL, "present")}),
        ("CT CHEST", "Sclerotic lesion in T11.", "SP", {(SCL, "present")}),
        # the radiologist's report of the biopsy: imaging, its lesion read as imaging
        ("CT-guided biopsy", "Sclerotic lesion in T11 targeted; 3 cores obtained.", "RAD", {(SCL, "present")}),
        # a procedure note that only says the biopsy was done is no result
        ("CT-guided biopsy", "CT-guided core biopsy of the retroperitoneal lymph node was performed. No complications.",
         "RAD", set()),
        ("CT-guided biopsy", "CT-guided core biopsy of the retroperitoneal lymph node was performed. No complications.",
         None, set()),
    ],
)  # fmt: skip
def test_fix132d_guided_biopsy_controls(mapping, name, text, category, expected):
    assert _found(mapping, name, text, category) == expected
