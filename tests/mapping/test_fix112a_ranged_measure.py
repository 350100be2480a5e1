"""fix112a (probe112 D6, D7): the report's own bracketed normal range reaches more forms - an earlier measure between
the measure and the bracket, words after the limit, a range of values (its upper value), the dimension's name and
the Kazakh postposition «(қалыпты 12 см дейін)»."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen 16 cm, previously 12 cm (normal < 13 cm).", {"splenomegaly": "present"}),
        ("Spleen 16 cm (normal < 12 cm in adults); no ascites.", {"splenomegaly": "present", "ascites": "negated"}),
        ("Spleen 12–14 cm in length (normal < 12 cm).", {"splenomegaly": "present"}),
        ("Көкбауыр 16 см (қалыпты 12 см дейін).", {"splenomegaly": "present"}),
        ("Бауыр 20 см (қалыпты 15 см дейін).", {"hepatomegaly": "present"}),
    ],
)  # fmt: skip
def test_a_measure_above_the_reports_range_is_enlarged(mapping, text, expected):
    assert _read(mapping, text) == expected


# controls: at or under the report's limit, or a limit with no "<" / "up to" and no unit, the bracket reads as written
# (fix116b: "(normal 12 cm)" with its unit is the upper limit - tests/mapping/text_corpus)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen 11 cm (normal < 12 cm)", {"splenomegaly": "negated"}),
        ("Spleen 16 cm (normal 12)", {"splenomegaly": "negated"}),
        ("Spleen 10-11 cm (normal < 12 cm)", {"splenomegaly": "negated"}),
        ("Spleen 11 cm, previously 16 cm (normal < 12 cm)", {"splenomegaly": "negated"}),
        ("Spleen 11 cm (normal < 12 cm in adults).", {"splenomegaly": "negated"}),
        ("Көкбауыр 16 см (ұлғаймаған).", {"splenomegaly": "negated"}),
    ],
)  # fmt: skip
def test_a_measure_within_the_reports_range_is_not_enlarged(mapping, text, expected):
    assert _read(mapping, text) == expected
