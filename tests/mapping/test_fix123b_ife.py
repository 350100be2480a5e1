"""fix123b: an immunofixation result's clone stated with no band named beside another test's, specimen's or time's
negative is a positive result, its isotype not stated ("Monoclonal protein present. Bence Jones protein: negative.":
the Bence Jones negative is the urine's free light chains, no conflict about the clone); a site's mapping file adds
verbs of telling a relative the result, and its relative words count after the band too."""

from __future__ import annotations


import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import Band, parse_ife
from tests.mapping.test_extract import obs, run, states
from tests.mapping.test_probe121 import _ife_report

CLONE = "monoclonal_plasma_cell_disorder"
IGA_L = Band("IgA", "lambda")

# --- 1. a negative of another test beside this result's untyped clone ------------------------------------------------

OTHERS_NEGATIVE = [
    "Monoclonal protein present. Bence Jones protein: negative.",
    "Моноклональный белок выявлен. Белок Бенс-Джонса не обнаружен.",
    "Monoclonal band present. Bence Jones: negative.",
    "Моноклональная полоса выявлена. Белок Бенс-Джонса не обнаружен.",
    "M-protein detected. Urine immunofixation: negative.",
    "Positive. Bence Jones protein: negative.",
    "Paraprotein detected. Previous sample (2021): negative.",
]


@pytest.mark.parametrize("text", OTHERS_NEGATIVE)
def test_the_parser_reads_an_untyped_clone_beside_anothers_negative(text):
    result = parse_ife(text)
    assert result.untyped and not result.negative and result.parsed


@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
@pytest.mark.parametrize("text", OTHERS_NEGATIVE)
def test_a_report_of_an_untyped_clone_beside_anothers_negative_is_present(mapping, text, form):
    # the text engine read the Bence Jones negative as the clone's (an absent finding beside the present one)
    assert states(run(mapping, _ife_report(text, form)), CLONE) == [State.PRESENT]


@pytest.mark.parametrize("text", OTHERS_NEGATIVE)
def test_an_observation_of_an_untyped_clone_beside_anothers_negative_is_present(mapping, text):
    # as an Observation's value it was unread, or the serum's negative ("Monoclonal band present. Bence Jones:
    # negative." was an absent clone)
    found = run(mapping, obs("25700-6", valueString=text))
    assert states(found, CLONE) == [State.PRESENT]
    assert "isotype not stated" in next(f for f in found.findings if f.topic == CLONE).evidence.summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # controls: a clone denied, a clone typed, the same test's negative
        ("Monoclonal protein not detected. Bence Jones protein: negative.", [State.ABSENT]),
        ("Моноклональный белок не выявлен. Белок Бенс-Джонса не обнаружен.", [State.ABSENT]),
        ("Bence Jones protein: positive (lambda).", [State.PRESENT]),
        ("IgA lambda detected. Bence Jones protein: negative.", [State.PRESENT]),
        # a doubted clone beside another test's negative: possible, not this result's negative (it was absent)
        ("Possible monoclonal protein. Bence Jones protein: negative.", [State.INDETERMINATE]),
        ("Monoclonal protein cannot be excluded. Urine: negative.", [State.INDETERMINATE]),
    ],
)
@pytest.mark.parametrize("form", ["conclusion", "presentedForm"])
def test_controls_beside_anothers_negative(mapping, text, expected, form):
    assert states(run(mapping, _ife_report(text, form)), CLONE) == expected


@pytest.mark.parametrize(
    "text",
    [
        # a negative that may be this result's own: no untyped clone (left to the text engine, as before)
        "Monoclonal protein present. Negative.",
        "Monoclonal protein present. Serum immunofixation: negative.",
        "Monoclonal protein present. Repeat: negative.",
        # another specimen's clone beside this result's negative
        "Bence Jones protein detected. Serum immunofixation: negative.",
    ],
)
def test_a_negative_that_may_be_this_results_own_makes_no_untyped_clone(text):
    result = parse_ife(text)
    assert not result.untyped and not result.negative


def test_the_specimen_tested_decides_which_negative_is_anothers():
    # on a urine result the Bence Jones protein is its own test: no untyped clone beside its negative
    assert not parse_ife("Monoclonal protein present. Bence Jones protein: negative.", "urine").untyped
    assert parse_ife("Bence Jones protein detected. Serum immunofixation: negative.", "urine").untyped
