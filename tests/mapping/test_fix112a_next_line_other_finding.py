"""fix112a (probe112 D13): a line that doubts or denies a finding it names, after a line that ends with a finding's
name, is a line of its own - its doubt does not reach the finding above ("Lymphadenopathy⏎Castleman disease not
excluded", «Спленомегалия⏎Не исключена лимфаденопатия.»)."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lymphadenopathy\nCastleman disease not excluded", {"lymphadenopathy": "present", "castleman_disease": "possible"}),
        ("Спленомегалия\nНе исключена лимфаденопатия.", {"splenomegaly": "present", "lymphadenopathy": "possible"}),
    ],
)  # fmt: skip
def test_a_doubt_of_another_finding_on_the_next_line(mapping, text, expected):
    assert _read(mapping, text) == expected


# controls: a doubt or denial naming nothing answers the line above; a wrapped phrase goes on
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lymphadenopathy\nNot excluded.", {"lymphadenopathy": "possible"}),
        ("Спленомегалия\nНе исключена.", {"splenomegaly": "possible"}),
        ("No features of multicentric\nCastleman disease", {"castleman_disease": "negated"}),
        ("Reactive lymphadenopathy suggestive of multicentric\nCastleman disease.", {"lymphadenopathy": "present", "castleman_disease": "possible"}),
        ("Splenomegaly\nNo ascites.", {"splenomegaly": "present", "ascites": "negated"}),
    ],
)  # fmt: skip
def test_the_line_above_is_answered_or_goes_on(mapping, text, expected):
    assert _read(mapping, text) == expected
