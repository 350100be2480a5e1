"""fix125d (probe125 R3-R6, G2-G5): clinical text the fortieth session's fixes read wrongly or left unread.

R3, R4: a sclerotic lesion placed "subpleural", "pleural-based", "juxtacortical", "subcortical" or "perivascular" of a
named bone (a rib, the femur, the iliac bone) was dropped as the lung's, the brain's or a vessel's. R5: multiple
sclerosis named in another clause ("...; known multiple sclerosis, unrelated.") removed the lesions. G3: sclerosis of
the kidneys' parenchyma («почек», the plural), of the spleen, or Kazakh «аорта қабырғасы» (the aortic wall; «қабырға»
is also a rib) was a sclerotic bone lesion and an MGUS neuropathy `met`. G2: a one-word likeness («Кастлемановидные
изменения», "Castlemanoid changes"), "akin to" and «имитирующая» were Castleman disease itself."""

from __future__ import annotations


import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.test_fix123d_text import _evaluated, _patient, _report
from tests.mapping.test_text_probe105_history import _read


def _sclerotic(mapping, text: str, name: str = "CT chest, abdomen and pelvis") -> set[str]:
    """The states of the sclerotic-bone-lesion findings an imaging report's conclusion gives."""
    found = extract(make_record(_report("ct", name, "RAD", text)), mapping).findings
    return {f.state.value for f in found if f.topic == "sclerotic_bone_lesions"}


# R3, R4, R5: a lesion of a named bone, whatever position word stands before it, and MS in another clause
@pytest.mark.parametrize(
    "text",
    [
        "Subpleural sclerotic lesion of the right 7th rib.",
        "Pleural-based sclerotic lesion of the left 5th rib.",
        "Субплевральный склеротический очаг в VII ребре справа.",
        "Субплевральные склеротические очаги в задних отрезках IV-VI ребер слева.",
        "Juxtacortical sclerotic lesion of the left femur.",
        "Subcortical sclerotic focus in the right humeral head.",
        "Perivascular sclerotic focus in the iliac bone.",
        "Субкортикальный склеротический очаг в головке правой плечевой кости.",
        "Multiple sclerotic lesions; known multiple sclerosis, unrelated.",
        "Множественные склеротические очаги; рассеянный склероз в анамнезе, не связан.",
        # controls (read alike before the fix): a bone nearer than an organ, or nothing named
        "Sclerotic lesion in the T5 vertebral body adjacent to the spleen.",
        "Склеротические очаги в позвонках; почки без особенностей.",
        "Оң жақ 5-қабырғада склероздық ошақ.",
        "Multiple sclerotic lesions.",
    ],
)
def test_fix125d_a_positioned_lesion_of_a_named_bone_stays(mapping, text):
    assert _sclerotic(mapping, text) == {"present"}


# G3: sclerosis of a soft organ or a vessel's wall is no sclerotic bone lesion
@pytest.mark.parametrize(
    "text",
    [
        "Склеротические изменения в паренхиме почек.",
        "Склеротический очаг в селезенке.",
        "Sclerotic focus in the spleen (old infarct).",
        "Sclerotic focus in the spleen.",
        "Sclerotic changes in the renal parenchyma.",
        "Аорта қабырғасының склероздық өзгерістері.",
        "Sclerotic focus in the prostate.",
        # controls (read alike before the fix): with no bone named, a position word still places it elsewhere
        "Subpleural sclerotic focus.",
        "Juxtacortical sclerotic lesions, consistent with multiple sclerosis.",
        "Multiple sclerotic foci, consistent with multiple sclerosis.",
    ],
)
def test_fix125d_sclerosis_of_a_soft_organ_is_no_bone_lesion(mapping, text):
    assert _sclerotic(mapping, text) == set()


# R3 and G3 at the patient: the rib lesion `met`; the kidneys' sclerosis leaves the MGUS neuropathy undecided
@pytest.mark.parametrize(
    ("text", "classification", "state"),
    [
        ("Subpleural sclerotic lesion of the right 7th rib.", "met", "present"),
        ("Склеротические изменения в паренхиме почек.", "indeterminate", "not_assessed"),
        ("Sclerotic focus in the spleen (old infarct).", "indeterminate", "not_assessed"),
    ],
)
def test_fix125d_sclerotic_at_the_patient(mapping, text, classification, state):
    got, states = _evaluated(_patient(_report("ct", "CT chest, abdomen and pelvis", "RAD", text)), mapping)
    assert (got, states["sclerotic_bone_lesions"]) == (classification, state)


# G2: a likeness or a look-alike of Castleman disease is never the disease
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Кастлемановидные изменения в лимфоузле.", {"castleman_disease": "possible"}),
        ("Кастлемановидная гиперплазия лимфатического узла.", {"castleman_disease": "possible"}),
        ("Castlemanoid changes.", {"castleman_disease": "possible"}),
        ("Pattern akin to Castleman disease.", {"castleman_disease": "possible"}),
        ("Changes reminiscent of Castleman disease.", {"castleman_disease": "possible"}),
        ("Гиперплазия, имитирующая болезнь Кастлемана.", {"castleman_disease": "negated"}),
        # controls (read alike before the fix): the disease itself, and the forms already doubted
        ("Болезнь Кастлемана, имитирующая лимфому.", {"castleman_disease": "present"}),
        ("Castleman disease, hyaline vascular variant.", {"castleman_disease": "present"}),
        ("Castleman-like changes.", {"castleman_disease": "possible"}),
        ("Reactive hyperplasia mimicking Castleman disease.", {"castleman_disease": "negated"}),
    ],
)  # fmt: skip
def test_fix125d_a_castleman_likeness_is_no_castleman_disease(mapping, text, expected):
    assert _read(mapping, text) == expected


# G2 at the patient: the MGUS neuropathy with a Castleman-like node was `met`
@pytest.mark.parametrize("text", ["Кастлемановидные изменения в лимфоузле.", "Castlemanoid changes."])
def test_fix125d_a_castleman_likeness_does_not_make_the_patient_met(mapping, text):
    node = _report("node", "Lymph node excisional biopsy, histopathology", "PAT", text)
    classification, states = _evaluated(_patient(node), mapping)
    assert states["castleman_disease"] == "indeterminate"
    assert classification == "indeterminate"


# R6, G5: a denial on the other side of a comma does not reach a finding its own clause grades; "previously absent,
# now moderate" is an earlier study's absence
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Плеврального выпота по-прежнему не видно, асцит умеренный.", {"pleural_effusion": "negated", "ascites": "present"}),
        ("Выпота в плевральных полостях по-прежнему не видно, асцит умеренный.",
         {"pleural_effusion": "negated", "ascites": "present"}),
        ("Плеврального выпота не видно, асцит умеренный.", {"pleural_effusion": "negated", "ascites": "present"}),
        ("Ascites moderate, pleural effusion still not seen.", {"pleural_effusion": "negated", "ascites": "present"}),
        ("Ascites moderate, pleural effusion not seen.", {"pleural_effusion": "negated", "ascites": "present"}),
        ("Ascites: previously absent, now moderate.", {"ascites": "present"}),
        ("Pleural effusion: previously none, now small.", {"pleural_effusion": "present"}),
        # controls (read alike before the fix): a denied list, a denial in the finding's own clause, today's absence
        ("No pleural effusion, or ascites moderate.", {"pleural_effusion": "negated", "ascites": "negated"}),
        ("No significant ascites, pleural effusion not seen.", {"pleural_effusion": "negated", "ascites": "negated"}),
        ("Ascites: previously absent, still absent.", {"ascites": "negated"}),
        ("Pleural effusion still not seen, ascites moderate.", {"pleural_effusion": "negated", "ascites": "present"}),
        ("Асцит: ранее не было, сейчас умеренный.", {"ascites": "present"}),
    ],
)  # fmt: skip
def test_fix125d_a_graded_finding_is_not_denied_across_a_comma(mapping, text, expected):
    assert _read(mapping, text) == expected
