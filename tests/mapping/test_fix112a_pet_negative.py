"""fix112a (probe112 D11): a metabolic study's negative hyphenated to its name ("PET-negative", "FDG-negative") says the
finding takes up no tracer, not that it is absent - also with a word after it."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Castleman disease, PET-negative elsewhere.", {"castleman_disease": "present"}),
        ("Castleman disease, PET negative elsewhere.", {"castleman_disease": "present"}),
        ("Sclerotic lesion L3, FDG-negative.", {"sclerotic_bone_lesion": "present"}),
    ],
)  # fmt: skip
def test_a_metabolic_negative_keeps_the_finding(mapping, text, expected):
    assert _read(mapping, text) == expected


# controls: the finding's own denial, and another study's negative, still deny
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Castleman-negative.", {"castleman_disease": "negated"}),
        ("No Castleman disease, PET-negative.", {"castleman_disease": "negated"}),
        ("Splenomegaly - CT negative.", {"splenomegaly": "negated"}),
    ],
)  # fmt: skip
def test_a_denial_still_denies(mapping, text, expected):
    assert _read(mapping, text) == expected
