"""fix127b (probe127 G1-G5): what the fortieth session's neighbour, look-alike, VEGF165b and POEMS-name fixes missed.

G1: the bone named only as the lesion's neighbour, the site an organ ("Sclerotic focus near the 10th rib in the
spleen") was a bone lesion. G4: a neighbour phrase, a comma, then the bone ("near the left kidney, in the 12th rib")
lost the bone. G2: "A Castleman disease mimic", «под маской болезни Кастлемана», Kazakh «имитациялайтын»,
"Castlemanesque" were the disease. G3: "VEGF165 b", "VEGF-A₁₆₅b", "VEGF165b fraction of total VEGF-A" were VEGF-A
concentrations. G5: «П.О.Е.М.С.-синдром» on D47.2 was read as the clone."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Classification, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.test_fix123d_text import _evaluated, _patient, _report
from tests.mapping.test_fix124a_semantics import D472, condition, negative_ife
from tests.mapping.test_fix125b_labels import CLONE
from tests.mapping.test_fix125d_text import _sclerotic
from tests.mapping.test_fix125e_versions import VEGF_MAJOR, local_vegf, state
from tests.mapping.test_text_probe105_history import _read


# G1: the bone is the neighbour, the organ the site - no bone lesion
@pytest.mark.parametrize(
    "text",
    [
        "Sclerotic focus near the 10th rib in the spleen.",
        "Склеротический очаг рядом с XII ребром в почке.",
        "Sclerotic focus behind the sternum in the anterior mediastinum.",
        "Sclerotic focus adjacent to the L2 vertebra within the liver.",
        "Склеротический очаг вблизи грудины в переднем средостении.",
        "Sclerotic focus near the aorta, at the level of T10.",  # control (read alike before): a level, no site
    ],
)
def test_fix127b_sclerosis_of_an_organ_with_a_bone_as_neighbour_is_no_bone_lesion(mapping, text):
    assert _sclerotic(mapping, text) == set()


def test_fix127b_organ_sclerosis_beside_a_bone_does_not_make_the_patient_met(mapping):
    report = _report("ct", "CT chest, abdomen and pelvis", "RAD", "Sclerotic focus near the 10th rib in the spleen.")
    got, states = _evaluated(_patient(report), mapping)
    assert states["sclerotic_bone_lesions"] != "present"
    assert got != "met"


# G4: a neighbour, a comma, then the bone - the bone's lesion
@pytest.mark.parametrize(
    "text",
    [
        "Sclerotic lesion near the left kidney, in the 12th rib.",
        "Sclerotic lesion next to the aorta, T10 vertebral body.",
        "Склеротический очаг рядом с почкой, в XII ребре.",
        # positive controls (read alike before): the bone first, or the bone alone as neighbour
        "Sclerotic lesion near the uterus in the sacrum.",
        "Sclerotic focus near the 10th rib.",
        "Sclerotic lesion in the 7th rib adjacent to the pleura.",
    ],
)
def test_fix127b_a_bone_after_the_neighbour_and_a_comma_is_the_site(mapping, text):
    assert _sclerotic(mapping, text) == {"present"}


# G2: look-alikes of Castleman disease in other words
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A Castleman disease mimic (reactive hyperplasia).", {"castleman_disease": "negated"}),
        ("Гиперплазия под маской болезни Кастлемана.", {"castleman_disease": "negated"}),
        ("Кастлеман ауруын имитациялайтын гиперплазия.", {"castleman_disease": "negated"}),  # UNVERIFIED wording
        ("Castlemanesque morphology.", {"castleman_disease": "possible"}),
        # positive controls: the disease itself
        ("Castleman disease mimics lymphoma clinically.", {"castleman_disease": "present"}),
        ("Castleman disease, a known mimic of lymphoma.", {"castleman_disease": "present"}),
        ("Grotesque node; Castleman disease.", {"castleman_disease": "present"}),
    ],
)  # fmt: skip
def test_fix127b_a_castleman_look_alike_is_no_castleman_disease(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_fix127b_a_castleman_disease_mimic_does_not_make_the_patient_met(mapping):
    node = _report("node", "Lymph node excisional biopsy, histopathology", "PAT", "A Castleman disease mimic.")
    classification, states = _evaluated(_patient(node), mapping)
    assert states["castleman_disease"] in ("absent", "indeterminate", "not_assessed")
    assert classification != "met"


# G3: rare spellings of VEGF165b, and a fraction - no VEGF-A concentration
@pytest.mark.parametrize(
    "name",
    [
        "VEGF165 b, plasma",
        "VEGF-A₁₆₅b, plasma",
        "VEGF165b fraction of total VEGF-A, plasma",
        "Доля VEGF165b, плазма",  # control (read alike before, by its "165b")
    ],
)
def test_fix127b_vegf165b_spellings_and_a_fraction_are_no_vegf(mapping, name):
    assert mapping.observation_rules_by_text(name) == []
    assert state([local_vegf(name, 650, "v1")], VEGF_MAJOR, mapping) is State.NOT_ASSESSED


@pytest.mark.parametrize(
    "name", ["VEGF-A, plasma", "VEGF-A (isoforms VEGF165 and VEGF165b), plasma", "VEGF165, plasma"]
)
def test_fix127b_positive_controls_vegf_a_names_stay_vegf(mapping, name):
    assert [r.spec.id for r in mapping.observation_rules_by_text(name)] == ["vegf"]


# G5: POEMS dotted in Cyrillic (or mixed) letters is the label, no clone
@pytest.mark.parametrize("text", ["П.О.Е.М.С.-синдром", "Синдром П.О.Э.М.С.", "P.О.E.M.С. syndrome"])
def test_fix127b_dotted_cyrillic_poems_is_the_label(mapping, text):
    resources = [condition(text, D472), negative_ife("25700-6", "ife-s"), negative_ife("13440-3", "ife-u")]
    result = evaluate("Patient/p1", extract(make_record(*resources), mapping).findings, MAYO, None)
    assert result.criteria[CLONE].state is State.ABSENT
    assert result.classification is Classification.NOT_MET
    assert len(result.clinician_assertions) == 1
