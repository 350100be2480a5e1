"""fix111a item 2: a doubt answered by a confirmation in its own clause is settled - "X - query, confirmed by MRI",
«- под вопросом, по МРТ подтвержден» state the finding (the comma after the doubt had made it a field's answer, and
the confirmation a sentence of its own). A confirmation denied or awaited, or another finding's, answers nothing."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3 - query, confirmed by MRI.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3: query, confirmed on MRI", {"sclerotic_bone_lesion": "present"}),
        ("Castleman disease - query, confirmed on HHV8 stain and expert review.", {"castleman_disease": "present"}),
        ("Склеротический очаг L3 - под вопросом, по МРТ подтвержден.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3: possible, confirmed by MRI.", {"sclerotic_bone_lesion": "present"}),
    ],
)  # fmt: skip
def test_a_doubt_answered_by_a_confirmation_is_settled(mapping, text, expected):
    assert _read(mapping, text) == expected


# regression guards (read alike before the fix)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3 - query, to be confirmed by MRI.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - query, awaiting MRI to confirm.", {"sclerotic_bone_lesion": "possible"}),
        ("Склеротический очаг L3 - под вопросом, требует подтверждения по МРТ.", {"sclerotic_bone_lesion": "possible"}),
        ("Склеротический очаг L3 - под вопросом, по МРТ не подтвержден.", {"sclerotic_bone_lesion": "possible"}),
        ("Splenomegaly: query, ascites confirmed.", {"splenomegaly": "possible", "ascites": "present"}),
        ("2. Adrenal insufficiency - query, SST arranged.", {"adrenal_insufficiency": "possible"}),
    ],
)  # fmt: skip
def test_a_doubt_not_answered_stays_a_doubt(mapping, text, expected):
    assert _read(mapping, text) == expected
