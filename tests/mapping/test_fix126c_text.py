"""fix126c (probe126 R2, R3, G1-G4, G8): what the fortieth session's text and name fixes still read wrongly.

R2, G8: a soft organ or a vessel named as a sclerotic lesion's *neighbour* before the bone it lies in ("Sclerotic
lesion near the uterus in the sacrum", «… рядом с почкой в XII ребре») took the lesion away from the bone. G2, G4:
"simulating", "masquerading as" and "Castleman-esque" were Castleman disease itself. R3, G1: a VEGF isoform ratio
("VEGF165b/VEGF165 ratio") and the inhibitory isoform named with "-A" ("VEGF-A165b") were VEGF-A concentrations.
G3: «ПОЕМС-синдром» (Е for Э) on D47.2 was read as the clone."""

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


# R2, G8: the organ named as a neighbour before the bone; the bone is the lesion's site
@pytest.mark.parametrize(
    "text",
    [
        "Sclerotic lesion near the uterus in the sacrum.",
        "Sclerotic lesion adjacent to the bladder in the left pubic bone.",
        "Sclerotic focus abutting the spleen in the left 10th rib.",
        "Sclerotic lesion behind the kidney in the 12th rib.",
        "Sclerotic lesion near the aorta in the T10 vertebral body.",
        "Sclerotic focus next to the left kidney in the 11th rib.",
        "Sclerotic lesion posterior to the urinary bladder in the right ischium.",
        "Склеротический очаг рядом с почкой в XII ребре.",
        "Склеротический очаг вблизи аорты в теле Th10 позвонка.",
        # controls (read alike before the fix): the bone first, the organ after it or in its own clause
        "Бүйрек маңында XII қабырғада склероздық ошақ.",  # Kazakh (UNVERIFIED)
        "Склеротический очаг, прилежащий к мочевому пузырю, в лонной кости.",
        "Sclerotic lesion in the sacrum, posterior to the uterus.",
        "Sclerotic focus in the left 10th rib overlying the spleen.",
        "Склеротический очаг в XII ребре, рядом с почкой.",
    ],
)
def test_fix126c_a_lesion_beside_an_organ_in_a_named_bone_stays(mapping, text):
    assert _sclerotic(mapping, text) == {"present"}


# ... while sclerosis *of* the organ, with the bone its neighbour or nothing named, is still no bone lesion
@pytest.mark.parametrize(
    "text",
    [
        "Sclerotic changes of the aortic wall near the spine.",
        "Sclerotic plaque near the aorta.",
        "Sclerotic focus in the spleen near the 10th rib.",
        "Sclerotic focus in the kidney adjacent to the 12th rib.",
        "Склеротические изменения стенки аорты рядом с позвоночником.",
        "Склеротический очаг в селезенке рядом с X ребром.",
    ],
)
def test_fix126c_sclerosis_of_an_organ_beside_a_bone_is_no_bone_lesion(mapping, text):
    assert _sclerotic(mapping, text) == set()


def test_fix126c_a_lesion_beside_an_organ_makes_the_patient_met(mapping):
    report = _report("ct", "CT chest, abdomen and pelvis", "RAD", "Sclerotic lesion near the uterus in the sacrum.")
    got, states = _evaluated(_patient(report), mapping)
    assert (got, states["sclerotic_bone_lesions"]) == ("met", "present")


# G2, G4: a look-alike or a likeness of Castleman disease is never the disease
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hyperplasia simulating Castleman disease.", {"castleman_disease": "negated"}),
        ("Reactive hyperplasia masquerading as Castleman disease.", {"castleman_disease": "negated"}),
        ("Reactive node imitating Castleman disease.", {"castleman_disease": "negated"}),
        ("Гиперплазия, маскирующаяся под болезнь Кастлемана.", {"castleman_disease": "negated"}),
        ("Castleman-esque morphology.", {"castleman_disease": "possible"}),
        ("Castleman-ish changes.", {"castleman_disease": "possible"}),
        # controls: the disease itself that simulates or masquerades as another
        ("Castleman disease simulating lymphoma.", {"castleman_disease": "present"}),
        ("Castleman disease masquerading as lymphoma.", {"castleman_disease": "present"}),
        ("Болезнь Кастлемана, маскирующаяся под лимфому.", {"castleman_disease": "present"}),
    ],
)  # fmt: skip
def test_fix126c_a_castleman_look_alike_is_no_castleman_disease(mapping, text, expected):
    assert _read(mapping, text) == expected


@pytest.mark.parametrize("text", ["Hyperplasia simulating Castleman disease.", "Castleman-esque morphology."])
def test_fix126c_a_castleman_look_alike_does_not_make_the_patient_met(mapping, text):
    node = _report("node", "Lymph node excisional biopsy, histopathology", "PAT", text)
    classification, states = _evaluated(_patient(node), mapping)
    assert states["castleman_disease"] in ("absent", "indeterminate", "not_assessed")
    assert classification != "met"


# R3, G1: a ratio's name, the inhibitory isoform with "-A": no VEGF-A concentration
@pytest.mark.parametrize(
    "name",
    [
        "VEGF165b/VEGF165 ratio, plasma",
        "VEGF-A165b/VEGF-A165 ratio, plasma",
        "Соотношение VEGF165b/VEGF165, плазма",
        "VEGF-A165b, plasma",
        "VEGF-A 165b, plasma",
        "VEGF165b, plasma",
    ],
)
def test_fix126c_a_vegf_ratio_or_the_inhibitory_isoform_is_no_vegf(mapping, name):
    assert mapping.observation_rules_by_text(name) == []
    assert state([local_vegf(name, 650, "v1")], VEGF_MAJOR, mapping) is State.NOT_ASSESSED


@pytest.mark.parametrize(
    "name",
    [
        "VEGF-A165, plasma",
        "VEGF165, plasma",
        "VEGF-A, plasma",
        "ФРЭС, плазма",
        "VEGF-A (isoforms VEGF165 and VEGF165b), plasma",  # total VEGF-A that lists the b isoform among its own
    ],
)
def test_fix126c_positive_controls_vegf_a_names_stay_vegf(mapping, name):
    assert [r.spec.id for r in mapping.observation_rules_by_text(name)] == ["vegf"]
    assert state([local_vegf(name, 650, "v1")], VEGF_MAJOR, mapping) is State.PRESENT


# G3: «ПОЕМС» (Е for Э) is POEMS too: the label, no clone
@pytest.mark.parametrize("text", ["ПОЕМС-синдром", "Синдром ПОЕМС", "ПОЕМС синдромы"])
def test_fix126c_poems_spelt_with_ye_is_the_label(mapping, text):
    resources = [condition(text, D472), negative_ife("25700-6", "ife-s"), negative_ife("13440-3", "ife-u")]
    result = evaluate("Patient/p1", extract(make_record(*resources), mapping).findings, MAYO, None)
    assert result.criteria[CLONE].state is State.ABSENT
    assert result.classification is Classification.NOT_MET
    assert len(result.clinician_assertions) == 1
