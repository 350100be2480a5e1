"""#8 (thirty-eighth session's leftover): a band named before this laboratory's own negative result ("our result:
negative"), with no other laboratory named, is another's quoted - a band found at another time beside today's
negative, conflicting evidence (criteria.md §3.3) - not today's band with the negative unread."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import Band, parse_ife
from tests.mapping.test_extract import obs, run, states

IGG_L = Band("IgG", "lambda")


@pytest.mark.parametrize(
    "text",
    [
        "IgG lambda; our result: negative.",
        "IgG lambda. Our result: negative.",
        "IgG лямбда; наш результат: отрицательный.",
        "IgG lambda. Our laboratory: no monoclonal band detected.",
    ],
)
def test_a_band_answered_by_our_negative_is_an_earlier_band(text):
    r = parse_ife(text)
    assert (r.bands, r.earlier, r.negative) == ((), (IGG_L,), True)


@pytest.mark.parametrize(
    "text",
    [
        "IgG lambda; our result: IgG lambda.",
        "IgG lambda; confirmed in our laboratory.",
        "IgG lambda band detected. Our result is negative for kappa.",
        "Our result: IgG lambda. Referring lab: negative.",
    ],
)
def test_our_own_band_or_a_confirmation_keeps_it(text):
    assert IGG_L in parse_ife(text).bands


def test_the_observation_is_indeterminate(mapping):
    ex = run(mapping, obs("25700-6", valueString="IgG lambda. Our result: negative."))
    assert states(ex, "monoclonal_plasma_cell_disorder") == [State.INDETERMINATE]
