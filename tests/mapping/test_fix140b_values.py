"""values.without_full_stop: a value text without the full stop that ends it as a sentence (fix140b B1).

Imported in the tests, so that the module runs (and fails) on the code before it.
"""

from __future__ import annotations

import pytest

ALIASES = {"мм рт.ст.": "mm[Hg]", "ммрт.ст.": "mm[Hg]", "г/л": "g/L"}


def _without(text: str) -> str:
    from poems_fhir.mapping.values import without_full_stop

    return without_full_stop(text, ALIASES)


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("0.3 g/dL.", "0.3 g/dL"),
        ("0.3 g/dL .", "0.3 g/dL"),
        ("<0.1 g/dL.", "<0.1 g/dL"),
        ("0,3 г/л.", "0,3 г/л"),
        ("1500 pg/mL (serum).", "1500 pg/mL (serum)"),
        ("7 %.", "7 %"),
        ("0.3.", "0.3"),
        ("IgA lambda detected.", "IgA lambda detected"),
    ],
)
def test_a_sentences_full_stop_is_dropped(text: str, left: str) -> None:
    assert _without(text) == left


@pytest.mark.parametrize(
    "text",
    [
        "0.3 g/dL",  # no stop
        "0.3",
        "0.3 g/dL...",  # an ellipsis
        "0.3 g/dL. .",
        "45 мм рт.ст.",  # the unit table's abbreviation, with its own stop
        "45 мм рт. ст.",  # ... spaced: the table's spelling once its spaces are folded
        "",
        ".",
    ],
)
def test_other_texts_are_kept(text: str) -> None:
    assert _without(text) == text
