"""A dash between an organ and its verdict reads as the hyphen or the colon it stands for (probe106: «Селезенка —
увеличена.» was no finding while «Селезенка - увеличена.» was splenomegaly); the verdict's own negation still
counts."""

from __future__ import annotations

import pytest


def _labels(mapping, text: str) -> dict[str, str]:
    (assertions,) = mapping.text.assert_texts([text])
    return {a.target: a.label for a in assertions}


@pytest.mark.parametrize("dash", ["—", "–", "‒", "‑", "‐"])
@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Селезенка {} увеличена.", "splenomegaly"),
        ("Печень {} увеличена.", "hepatomegaly"),
        ("Spleen {} enlarged.", "splenomegaly"),
        ("Көкбауыр {} ұлғайған.", "splenomegaly"),
        ("Лимфоузлы {} увеличены.", "lymphadenopathy"),
    ],
)
def test_an_organ_dash_enlarged_is_the_finding(mapping, text, target, dash):
    assert _labels(mapping, text.format(dash))[target] == "present"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Селезенка — не увеличена.", {"splenomegaly": "negated"}),
        ("Лимфоузлы — не увеличены.", {"lymphadenopathy": "negated"}),
        ("Spleen — normal; liver — enlarged.", {"splenomegaly": "negated", "hepatomegaly": "present"}),
        ("Печень — норма, селезенка — увеличена.", {"hepatomegaly": "negated", "splenomegaly": "present"}),
    ],
)
def test_a_denial_after_the_dash_still_denies(mapping, text, expected):
    assert _labels(mapping, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # probe112 D2: a denial between two dashes stays the finding's denial
        ("Ascites – none – gallstones.", {"ascites": "negated"}),
        ("Papilloedema – none – retinal haemorrhage right eye.", {"papilledema": "negated"}),
        # probe112 D4: a dash parts two clauses; the verdict of one is not joined to the organ of the other
        (
            "Лимфоузлы — не увеличены — селезенка — 16 см, увеличена.",
            {"lymphadenopathy": "negated", "splenomegaly": "present"},
        ),
    ],
)
def test_a_dash_between_clauses_parts_them(mapping, text, expected):
    assert _labels(mapping, text) == expected
