"""fix112a (probe112 D12): a marker's result queried after the finding doubts the finding it would decide, so the
explicit exclusion that answers it is not outweighed by a stated finding: "Castleman disease, CD21-negative? No -
Castleman disease excluded; reactive node." is no Castleman disease."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Castleman disease, CD21-negative? No - Castleman disease excluded; reactive node.", {"castleman_disease": "negated"}),
        ("Castleman disease, CD21-negative?", {"castleman_disease": "possible"}),
        ("Castleman disease, HHV8 positive? No.", {"castleman_disease": "possible"}),
    ],
)  # fmt: skip
def test_a_queried_marker_doubts_the_finding(mapping, text, expected):
    assert _read(mapping, text) == expected


# controls: a marker's result stated qualifies the finding
@pytest.mark.parametrize(
    "text",
    [
        "Castleman disease, HHV8-negative, hyaline vascular type.",
        "Castleman disease, HHV8-negative.",
        "Castleman disease - HHV8 negative",
    ],
)
def test_a_stated_marker_keeps_the_finding(mapping, text):
    assert _read(mapping, text) == {"castleman_disease": "present"}


def test_a_markers_field_answered_no_is_no_question(mapping):
    # probe112 c32: the field's answer "no evidence of" denies what it names
    text = "Lymph node, HHV8-negative: no evidence of Castleman disease."
    assert _read(mapping, text) == {"castleman_disease": "negated"}
