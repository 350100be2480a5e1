"""Immunofixation gaps left by fix91a, fix92a and fix94a (README "Known limitations"), fixed in fix95b.

1. A denial limited to another specimen with no joining word ("IgG lambda paraprotein not detected in the
   urine") denied the serum band: absent. On a urine result the urine's denial is the result's own.
2. A withdrawal after a colon or a hyphen with no verb of seeing before it ("IgG lambda: not confirmed on
   repeat") was the band's denial: absent.
3. A band stated by its noun in a sentence of its own, then "Negative." ("IgG lambda band. Negative.") was the
   band's denial, not the contradiction it is.
4. A withdrawal in words outside the lists ("please disregard", "likely daratumumab interference",
   "consistent with therapeutic antibody (daratumumab)") left the band a clone.
5. A report wrapped mid-phrase ("No monoclonal⏎IgG lambda band") was read as two clauses: indeterminate.

Each case is checked beside a near miss that must keep its reading.
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import parse_ife
from tests.conftest import observation
from tests.mapping.test_ife_contradictions import SERUM_IFE
from tests.mapping.test_ife_probe90 import _classify


def _reads(text: str) -> str:
    result = parse_ife(text)
    if result.conflict:
        return "conflict"
    if result.bands:
        return "present: " + ", ".join(b.label() for b in result.bands)
    if result.possible or result.equivocal:
        return "possible"
    return "absent" if result.negative else "unread"


# --- 5: a line wrapped after a determiner or an attributive "monoclonal" -----------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss", "reading"),
    [
        ("No monoclonal\nIgG lambda band", "Pattern: monoclonal\nIgG lambda band", "present: IgG lambda"),
        ("No monoclonal\nIgG lambda band detected", "A monoclonal\nIgG lambda band is detected", "present: IgG lambda"),
        ("No evidence of any\nIgG lambda band", "IgG lambda band: monoclonal\nUrine: negative", "present: IgG lambda"),
        (
            "Не выявлено моноклонального\nбелка IgG лямбда",
            "Моноклональный белок IgG лямбда\nвыявлен",
            "present: IgG lambda",
        ),
    ],
)
def test_a_line_wrapped_after_monoclonal_or_a_determiner_goes_on(text, near_miss, reading):
    assert _reads(text) == "absent"
    assert _reads(near_miss) == reading


def test_a_poems_patient_whose_wrapped_denial_says_no_monoclonal_band_is_not_met(mapping):
    text = "No monoclonal\nIgG lambda band"
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("not_met", State.ABSENT)
