"""fix112a (probe112 D1, D14): a doubt is settled by a confirmation in its clause only when what is confirmed is the
queried finding itself - "confirmed by MRI", "histologically confirmed", «по МРТ подтвержден». A confirmation of
the mimic or of another diagnosis ("pseudopapilloedema confirmed on B-scan", "lymphoma confirmed on biopsy",
"confirmed normal size", "confirmed by MRI to be a Schmorl's node") leaves the doubt. The answer may follow a
semicolon as well as a comma ("queried; confirmed on MRI")."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Papilloedema - query, pseudopapilloedema confirmed on B-scan.", {"papilledema": "possible"}),
        ("Castleman disease - query, lymphoma confirmed on biopsy.", {"castleman_disease": "possible"}),
        ("Sclerotic lesion L3 - query, fracture confirmed by MRI.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - query, confirmed artefact on MRI.", {"sclerotic_bone_lesion": "possible"}),
        ("Splenomegaly - query, confirmed normal size on USS.", {"splenomegaly": "possible"}),
        ("Sclerotic lesion L3 - query, confirmed benign on MRI (haemangioma).", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - query, confirmed by MRI to be a Schmorl's node.", {"sclerotic_bone_lesion": "possible"}),
        ("Pleural effusion - query, consolidation confirmed.", {"pleural_effusion": "possible"}),
        ("Ascites - query, small bowel obstruction confirmed.", {"ascites": "possible"}),
        ("Спленомегалия - под вопросом, по УЗИ подтвержден нормальный размер селезенки.", {"splenomegaly": "possible"}),
    ],
)  # fmt: skip
def test_a_confirmation_of_something_else_leaves_the_doubt(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_a_confirmation_after_a_semicolon_settles_the_doubt(mapping):
    assert _read(mapping, "Sclerotic lesion L3 - queried; confirmed on MRI.") == {"sclerotic_bone_lesion": "present"}


# controls: the finding's own confirmation still settles it; an awaited one does not
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3 - query, confirmed by MRI.", {"sclerotic_bone_lesion": "present"}),
        ("Castleman disease - query, confirmed on HHV8 stain and expert review.", {"castleman_disease": "present"}),
        ("Castleman disease - query, histologically confirmed.", {"castleman_disease": "present"}),
        ("Papilloedema - query, confirmed on fundoscopy by ophthalmology.", {"papilledema": "present"}),
        ("Sclerotic lesion L3 - query, now confirmed on MRI.", {"sclerotic_bone_lesion": "present"}),
        ("Склеротический очаг L3 - под вопросом, по МРТ подтвержден.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3 - query; to be confirmed by MRI.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - query, fracture on MRI.", {"sclerotic_bone_lesion": "possible"}),
    ],
)  # fmt: skip
def test_the_findings_own_confirmation(mapping, text, expected):
    assert _read(mapping, text) == expected
