# SPDX-License-Identifier: Apache-2.0
"""fix132g: clinical-text gaps left by fix132a's time box (README "Known limitations", probe132 items 3, 5, 6, 7).

The controls (similar-looking inputs that keep their reading) are in tests/mapping/text_corpus/{en,ru,kk}.yaml."""

import pytest

from poems_fhir.mapping.rules import load_mapping

MAPPING = load_mapping()


def _labels(text: str) -> list[tuple[str, str]]:
    return sorted({(a.target, a.label) for a in MAPPING.text.assert_texts([text])[0]})


# item 3: an earlier time AFTER the grade makes that clause historical, as before it; today's denial stands
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Асцита нет, асцит - умеренный ранее", [("ascites", "historical"), ("ascites", "negated")]),
        ("No ascites; ascites - moderate previously", [("ascites", "historical"), ("ascites", "negated")]),
        ("Ascites - moderate previously.", [("ascites", "historical")]),
        ("Асцит – умеренный ранее.", [("ascites", "historical")]),
        ("Ascites: moderate (previously).", [("ascites", "historical")]),
        ("Спленомегалия 16 см ранее.", [("splenomegaly", "historical")]),
    ],
)
def test_earlier_time_after_the_grade_is_historical(text: str, expected: list[tuple[str, str]]) -> None:
    assert _labels(text) == expected
