"""fix112a (probe112 D3): a normal test with a date and no preposition, or followed by what is now, is an earlier
test, not the finding's refutation - on the finding's line after a dash and on the line after it alike
("Splenomegaly⏎USS normal 2019, now 16 cm" had lost the spleen since the next-line status rule)."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Splenomegaly\nUSS normal 2019, now 16 cm", {"splenomegaly": "present"}),
        ("Splenomegaly - USS normal 2019, now 16 cm", {"splenomegaly": "present"}),
        ("Splenomegaly\nUSS normal 2019.", {"splenomegaly": "present"}),
        ("Splenomegaly - USS normal 03/2019", {"splenomegaly": "present"}),
        ("Splenomegaly - USS normal, now 16 cm", {"splenomegaly": "present"}),
        ("Hepatomegaly - CT normal 2019, now 20 cm", {"hepatomegaly": "present"}),
    ],
)  # fmt: skip
def test_an_earlier_normal_test_keeps_the_finding(mapping, text, expected):
    assert _read(mapping, text) == expected


# controls: the finding's own normal test still denies it
@pytest.mark.parametrize(
    "text",
    [
        "Splenomegaly - USS normal.",
        "Splenomegaly\nUSS normal",
        "Splenomegaly - USS normal (11 cm)",
        "Splenomegaly - USS normal 11 cm",
        "Splenomegaly - USS normal, 11 cm",
    ],
)
def test_the_findings_own_normal_test_still_denies(mapping, text):
    assert _read(mapping, text) == {"splenomegaly": "negated"}


def test_a_normal_test_in_a_year_keeps_the_finding(mapping):
    assert _read(mapping, "Splenomegaly\nUSS normal in 2019, now 16 cm.") == {"splenomegaly": "present"}
