"""fix112a (probe112 D5): a denial on the line after a finding that is a note about an earlier or a less sensitive
examination, or about the fluid's cytology, is a line of its own, not the finding's answer."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pleural effusion\nNot seen on previous CT.", {"pleural_effusion": "present"}),
        ("Splenomegaly\nNot present on the 2019 study.", {"splenomegaly": "present"}),
        ("Ascites\nNegative cytology.", {"ascites": "present"}),
        ("Ascites\nNo malignant cells.", {"ascites": "present"}),
        ("Sclerotic lesion L3\nNot seen on plain film.", {"sclerotic_bone_lesion": "present"}),
    ],
)  # fmt: skip
def test_a_note_about_another_examination_does_not_deny(mapping, text, expected):
    assert _read(mapping, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Splenomegaly, not present on the 2019 study.", {"splenomegaly": "present"}),
        ("Ascites - negative cytology.", {"ascites": "present"}),
        ("Ascites with negative cytology.", {"ascites": "present"}),
    ],
)  # fmt: skip
def test_the_same_line_note_does_not_deny(mapping, text, expected):
    assert _read(mapping, text) == expected


# controls: a bare denial or the finding's own test on the next line still answers it
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pleural effusion\nNot seen.", {"pleural_effusion": "negated"}),
        ("Sclerotic lesion L3\nNot seen on CT.", {"sclerotic_bone_lesion": "negated"}),
        ("Splenomegaly\nNot present.", {"splenomegaly": "negated"}),
        ("Ascites\nNegative.", {"ascites": "negated"}),
        ("Pleural effusion - not seen on CT.", {"pleural_effusion": "negated"}),
    ],
)  # fmt: skip
def test_the_findings_own_denial_on_the_next_line(mapping, text, expected):
    assert _read(mapping, text) == expected
