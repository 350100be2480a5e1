"""Negative immunofixations and denying words that became a clone (probe89 D3, D8, D9).

D3: a coded Positive whose words deny both light chains in two clauses ("No kappa band. No lambda band.")
was positive - the probe88 D12 rule (one chain denied alone agrees with Positive) was applied per clause.
D8: a masking caveat ("… may be obscured", "… could be masked by the transferrin band") was a band.
D9: a recommendation that names a hypothetical band ("to quantify any IgA lambda band", "for IgA lambda
paraprotein", "Negative. Recommend monitoring of the IgG lambda band …") was a band.
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import parse_ife
from tests.conftest import observation
from tests.mapping.test_ife_contradictions import POSITIVE, SERUM_IFE, clone_findings

BOTH_CHAINS_DENIED_APART = [
    # probe89 min/D3: K09, H35, K08
    "No kappa band. No lambda band.",
    "Positive. No lambda band. No kappa band.",
    "Лямбда не выявлена. Каппа не выявлена.",
    "Положительно. Каппа не выявлена; лямбда не выявлена.",
]


@pytest.mark.parametrize("text", BOTH_CHAINS_DENIED_APART)
def test_both_light_chains_denied_in_clauses_of_their_own_deny_every_band(text):
    result = parse_ife(text)
    assert result.negative and not result.chain_only
    assert (result.bands, result.possible) == ((), ())


@pytest.mark.parametrize("text", BOTH_CHAINS_DENIED_APART)
def test_a_positive_code_whose_words_deny_both_chains_apart_contradicts_itself(mapping, text):
    value = {"coding": [POSITIVE], "text": text}
    found, _ = clone_findings(observation(SERUM_IFE, "ife", valueCodeableConcept=value), mapping)
    assert [state for state, _ in found] == [State.INDETERMINATE]


MASKING_CAVEATS = [
    # probe89 min/D8: G06, G02, I29
    "IFE: Negative. Small IgM kappa bands may be obscured.",
    "IFE: Negative. An IgA lambda band could be masked by the transferrin band.",
    "No monoclonal band. Note: sample haemolysed; IgA lambda band may be obscured.",
    "Negative. A faint IgG kappa band may be hidden in the beta region.",
    "Negative. A small IgA lambda band may not be detected.",
    "Negative. An IgM kappa paraprotein below the detection limit may not be visible.",
    "Отрицательно. Небольшой М-градиент IgA лямбда может не выявляться.",
    "Не выявлено. Слабая полоса IgM каппа может быть замаскирована трансферрином.",
]


@pytest.mark.parametrize("text", MASKING_CAVEATS)
def test_a_masking_caveat_is_a_mention(text):
    result = parse_ife(text)
    assert result.negative
    assert (result.bands, result.possible) == ((), ())
