"""fix111a item 4: the report's own normal range in a bracket after a measured organ is no refutation - a spleen
measured above the upper limit the report gives is enlarged ("Spleen 16 cm (normal < 12 cm)" read the bracket's
"normal" as a denial). The limit is the report's: the codebase and criteria.md give no spleen length of their own,
so "Spleen - 16 cm." with no range and no word of size stays unread."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen 16 cm (normal < 12 cm)", {"splenomegaly": "present"}),
        ("Spleen: 16 cm (N up to 12 cm).", {"splenomegaly": "present"}),
        ("Spleen measures 160 mm (normal range up to 12 cm).", {"splenomegaly": "present"}),
        ("The spleen is 14.5 cm (normal 8-13 cm).", {"splenomegaly": "present"}),
        ("Селезенка 16 см (норма до 12 см).", {"splenomegaly": "present"}),
        ("Liver 19 cm (normal < 16 cm).", {"hepatomegaly": "present"}),
        ("Spleen 16 x 7 cm (normal < 12 cm)", {"splenomegaly": "present"}),
    ],
)  # fmt: skip
def test_a_measure_above_the_reports_normal_range_is_enlarged(mapping, text, expected):
    assert _read(mapping, text) == expected


# regression guards (read alike before the fix): at or under the report's limit the organ is normal; no range, no
# reading (no spleen length of our own: none in the mapping nor in criteria.md)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen 11 cm (normal < 12 cm)", {"splenomegaly": "negated"}),
        ("Spleen 12 cm (normal up to 12 cm)", {"splenomegaly": "negated"}),
        ("Spleen - 16 cm.", {}),
    ],
)  # fmt: skip
def test_a_measure_within_the_range_or_without_one(mapping, text, expected):
    assert _read(mapping, text) == expected
