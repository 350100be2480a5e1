"""fix111a item 1: a status alone on the line after a finding is the finding's, as the same-line post-posed form
("- doubtful", "- USS normal") is: "Sclerotic lesion L3⏎Doubtful." is a doubt, "Splenomegaly⏎USS normal" the
organ's own test refuting it (criteria.md §3.3: a doubt is never present). A next line that is a finding or a
sentence of its own keeps its own reading."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _criteria, _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3\nDoubtful.", {"sclerotic_bone_lesion": "possible"}),
        ("Conclusion:\n1. Sclerotic lesion L3\nDoubtful.\n2. No other abnormality.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3\nQuery.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3\nProbably artefact.", {"sclerotic_bone_lesion": "possible"}),
        ("Castleman disease\nNot convincing.", {"castleman_disease": "possible"}),
        ("Склеротический очаг L3\nСомнит.", {"sclerotic_bone_lesion": "possible"}),
        ("Splenomegaly\nUSS normal", {"splenomegaly": "negated"}),
        ("Splenomegaly\nUSS normal spleen", {"splenomegaly": "negated"}),
        ("Спленомегалия\nНе подтв. по УЗИ.", {"splenomegaly": "negated"}),
        ("Hypogonadism\nEntered in error", {"hypogonadism": "hypothetical"}),
    ],
)  # fmt: skip
def test_a_status_on_the_next_line_is_the_findings(mapping, text, expected):
    assert _read(mapping, text) == expected


# regression guards (read alike before the fix)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Splenomegaly\nAscites.", {"splenomegaly": "present", "ascites": "present"}),
        ("Sclerotic lesion L3\nNo ascites.", {"sclerotic_bone_lesion": "present", "ascites": "negated"}),
        ("Sclerotic lesion L3\nHepatic steatosis.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3\nConfirmed.", {"sclerotic_bone_lesion": "present"}),
        ("Hepatomegaly\nUSS normal spleen", {"hepatomegaly": "present"}),
        ("Sclerotic lesion L3\nAwaiting CT-guided biopsy.", {"sclerotic_bone_lesion": "present"}),
        ("FINDINGS\nSplenomegaly 16 cm\nPending comparison with prior CT.", {"splenomegaly": "present"}),
    ],
)  # fmt: skip
def test_a_next_line_of_its_own_keeps_its_reading(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_a_minor_sign_doubted_on_the_next_line_does_not_make_the_patient_met(mapping):
    classification, states = _criteria(mapping, "Problem list:\n1. MGUS\n2. Splenomegaly\nUSS normal")
    assert states["organomegaly"] != "present"
    assert classification != "met"
