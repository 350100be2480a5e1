"""A lab's status after an immunofixation band (probe109 D9, D13): "IgG lambda - awaiting repeat sample", "IgG lambda -
r/o", "IgG lambda - awaiting immunofixation on a fresh sample to confirm" and a status on the next line ("IgG
lambda⏎TBC") each made a clone-free patient `met`: the band is a doubt (criteria.md §3.3: indeterminate), not a clone.
A band with a plain next step for monitoring, or a line of its own for another specimen, stays a band."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.ife import Band, parse_ife

IGG_L = Band("IgG", "lambda")


@pytest.mark.parametrize(
    "text",
    [
        "IgG lambda - awaiting repeat sample",
        "IgG lambda - awaiting immunofixation on a fresh sample to confirm",
        "IgG lambda - r/o",
        "IgG lambda\nTBC",
        "IgG lambda\n- doubtful",
        "IgG lambda\nне подтв.",
        "IgG lambda - ожидается повторный образец",
    ],
)
def test_a_band_with_a_doubt_after_it_is_possible_not_a_clone(text):
    r = parse_ife(text)
    assert r.bands == () and r.possible == (IGG_L,)


@pytest.mark.parametrize(
    "text",
    [
        "IgG lambda",
        "IgG lambda detected\nComment: repeat in 3 months",
        "IgG lambda band, repeat in 6 months for monitoring",
        "Serum: IgG lambda\nUrine: negative",
    ],
)
def test_a_band_with_a_next_step_or_another_line_stays_a_band(text):
    assert IGG_L in parse_ife(text).bands
