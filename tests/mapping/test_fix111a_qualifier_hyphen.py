"""fix111a item 3: a test's result glued to its name by a hyphen between commas qualifies the finding before it -
"Castleman disease, HHV8-negative, hyaline vascular type" is Castleman disease (HHV8-negative is its subtype, read
as a field "…: negative" it denied the disease). A finding's own field answer still denies it."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Castleman disease, HHV8-negative, hyaline vascular type", {"castleman_disease": "present"}),
        ("Histology: Castleman disease (HHV8-negative, hyaline vascular type).", {"castleman_disease": "present"}),
        ("Lymphadenopathy, EBER-negative", {"lymphadenopathy": "present"}),
    ],
)  # fmt: skip
def test_a_hyphenated_test_result_qualifies_the_finding(mapping, text, expected):
    assert _read(mapping, text) == expected


# controls (regression guards, read alike before the fix): the finding's own answer, a hyphen read before
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Castleman disease, HHV-8-negative, hyaline vascular type.", {"castleman_disease": "present"}),
        ("Castleman disease - negative.", {"castleman_disease": "negated"}),
        ("Castleman disease: negative", {"castleman_disease": "negated"}),
        ("Ascites -negative", {"ascites": "negated"}),
    ],
)  # fmt: skip
def test_a_findings_own_answer_still_denies_it(mapping, text, expected):
    assert _read(mapping, text) == expected
