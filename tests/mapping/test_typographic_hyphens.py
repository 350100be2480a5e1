"""The typographic hyphen (U+2010) and the non-breaking hyphen (U+2011) word processors write are the hyphen
(probe112 D10: "Oedema‑free, ascites‐free." read the ascites present)."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.text.lexicon import fold_lookalikes


@pytest.mark.parametrize("hyphen", ["\u2010", "\u2011"])
def test_a_finding_free_with_a_typographic_hyphen_is_denied(mapping, hyphen):
    (assertions,) = mapping.text.assert_texts([f"Oedema{hyphen}free, ascites{hyphen}free."])
    assert {a.target: a.label for a in assertions}.get("ascites") == "negated"


def test_the_fold_keeps_the_length_and_leaves_dashes():
    text = "ascites\u2011free \u2013 spleen \u2014 liver"
    folded = fold_lookalikes(text)
    assert len(folded) == len(text)
    assert folded == "ascites-free \u2013 spleen \u2014 liver"  # en and em dashes part clauses: not folded
