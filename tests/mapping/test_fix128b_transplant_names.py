"""fix128b (probe128 D3): an autologous transplant named in words or codes the mapping did not know was no
treatment - "Autologous hematopoietic progenitor cell infusion", "Reinfusion of autologous peripheral blood stem
cells", «Ауто-ТКМ», «ТКМ аутологичная», an ICD-10-PCS 30243Y0 alone - so the response said "no treatment recorded"
and no day +100 restaging was proposed. Controls: an allogeneic / donor transplant, an autologous blood, plasma or
fat product, a work-up, a collection."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

PCS = "http://www.cms.gov/Medicare/Coding/ICD10"


def _procedure(code: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "status": "completed",
        "code": code,
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": "2020-06-01",
    }


def _kinds(mapping, code: dict[str, Any]) -> list[str]:
    return [e.kind for e in extract(make_record(_procedure(code)), mapping).events]


@pytest.mark.parametrize(
    "name",
    [
        "Autologous hematopoietic progenitor cell infusion",
        "Autologous haematopoietic progenitor cell transplantation",
        "Autologous HPC infusion",
        "HPC infusion, autologous",
        "Reinfusion of autologous peripheral blood stem cells",
        "Infusion of autologous stem cells",
        "Transplantation of autologous haematopoietic stem cells",
        "Ауто-ТКМ (мелфалан 200 мг/м2)",
        "аутоТКМ",
        "ТКМ аутологичная",
        "Аутологичная ТКМ",
        "ТКМ",
        "Реинфузия аутологичных стволовых клеток",
        "Инфузия аутологичных ГСК",
        "Трансфузия аутологичных гемопоэтических клеток-предшественников",
    ],
)
def test_fix128b_transplant_names_are_a_transplant(mapping, name):
    assert _kinds(mapping, {"text": name}) == ["autologous_hsct"]


@pytest.mark.parametrize("code", ["30243Y0", "30233Y0", "30243G0", "30233G0"])
def test_fix128b_icd10pcs_autologous_transfusion_codes(mapping, code):
    assert _kinds(mapping, {"coding": [{"system": PCS, "code": code}]}) == ["autologous_hsct"]


@pytest.mark.parametrize(
    "code",
    [
        {"coding": [{"system": PCS, "code": "30243Y2"}]},  # allogeneic related
        {"coding": [{"system": PCS, "code": "30243Y3"}]},  # allogeneic unrelated
        {"text": "Allogeneic hematopoietic progenitor cell infusion"},
        {"text": "Аллогенная ТКМ"},
        {"text": "ТКМ от сиблинга"},
        {"text": "Donor HPC infusion"},
        {"text": "Autologous blood transfusion"},
        {"text": "Infusion of autologous platelet-rich plasma"},
        {"text": "Autologous fat graft"},
        {"text": "Evaluation for autologous HPC infusion"},
        {"text": "Обследование перед ауто-ТКМ"},
    ],
)
def test_fix128b_controls_are_no_autologous_transplant(mapping, code):
    assert "autologous_hsct" not in _kinds(mapping, code)


def test_fix128b_a_collection_stays_mobilisation(mapping):
    assert _kinds(mapping, {"text": "Autologous stem cell collection"}) == ["stem_cell_mobilisation"]
