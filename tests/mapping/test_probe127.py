"""probe127 (the third regression probe of the fortieth session): a spine study and its amendment naming the same
part in other words ("MRI T-spine" / "MRI thoracic spine") were two studies, the withdrawn lesion kept (R1); one VEGF
analyte in two spellings across a slash ("VEGF / VEGF-A", «VEGF/ФРЭС») was read as a ratio, no VEGF (R2)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.corrections import replaced_results
from tests.mapping.test_fix125e_versions import VEGF_MAJOR, local_vegf, state
from tests.mapping.test_fix126d_versions import pairs, study


@pytest.mark.parametrize(
    ("wet_name", "amended_name"),
    [
        ("MRI T-spine", "MRI thoracic spine"),
        ("MRI C-spine", "MRI cervical spine"),
        ("MRI thoracic spine", "MRI dorsal spine"),
        ("МРТ позвоночника", "МРТ грудного отдела позвоночника"),
    ],
)
def test_one_spine_study_named_in_other_words_is_one_study(wet_name, amended_name):
    wet = study("w", "preliminary", wet_name, "Sclerotic focus in T8.", "2024-02-10T09:00:00Z")
    amended = study("m", "amended", amended_name, "No sclerotic bone lesions.", "2024-02-11T09:00:00Z")
    assert "DiagnosticReport/w" in replaced_results(pairs(wet, amended))
    # ... while a spine study and a chest study are still two studies
    chest = study("c", "amended", "CT chest", "Normal.", "2024-02-11T09:00:00Z")
    assert replaced_results(pairs(wet, chest)) == {}


@pytest.mark.parametrize(
    "name",
    [
        "Фактор роста эндотелия сосудов (VEGF/ФРЭС), плазма",
        "VEGF / VEGF-A, plasma",
        "VEGF-A (VEGF165/VEGF121), plasma",
        "ФРЭС-А/VEGF-A, плазма",
    ],
)
def test_one_vegf_analyte_in_two_spellings_across_a_slash_is_vegf(mapping, name):
    assert [r.spec.id for r in mapping.observation_rules_by_text(name)] == ["vegf"]
    assert state([local_vegf(name, 650, "v1")], VEGF_MAJOR, mapping) is State.PRESENT
    # ... while the inhibitory isoform across a slash is still no VEGF-A concentration
    for other in ("VEGF165b/VEGF165, plasma", "VEGF165/VEGF165b, plasma"):
        assert mapping.observation_rules_by_text(other) == []
