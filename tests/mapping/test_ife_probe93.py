"""Immunofixation cells and tables of antisera (probe93 D1-D3): a short negative in a cell ("IgG lambda | Neg",
"| -") was no denial - a clone, `met`; a table of antisera over their answers was read row by row - an
all-"Neg" or all-"-" table named every band (a clone), "Kappa | Lambda⏎negative | positive" lost the lambda."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import Band, parse_ife
from tests.conftest import observation
from tests.mapping.test_ife_contradictions import SERUM_IFE
from tests.mapping.test_ife_probe90 import _classify

NEGATIVE_CELLS = [
    "IgG lambda | Neg",
    "IgG lambda | neg.",
    "IgG lambda\tNeg",
    "IgG lambda | -",
    "IgG lambda: -",
    "IgG лямбда | отр.",
    "IgG\tIgA\tIgM\tKappa\tLambda\nNeg\tNeg\tNeg\tNeg\tNeg",
    "IgG | IgA | IgM | Kappa | Lambda\n- | - | - | - | -",
    "IgG | IgA | IgM | kappa | lambda\nnegative | negative | negative | negative | negative",
]


@pytest.mark.parametrize("text", NEGATIVE_CELLS)
def test_a_short_negative_in_a_cell_or_under_an_antiseras_header_denies_the_bands(text):
    result = parse_ife(text)
    assert (result.negative, result.bands, result.possible) == (True, (), ())


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("Kappa | Lambda\nnegative | positive", Band(None, "lambda")),
        ("Free kappa | Free lambda\nnegative | positive", Band(None, "lambda")),
        ("IgG | IgA | IgM | Kappa | Lambda\n+ | - | - | - | +", Band("IgG", "lambda")),
        ("IgG | IgA | IgM | Kappa | Lambda\nPos | Neg | Neg | Neg | Pos", Band("IgG", "lambda")),
        ("IgG: +\nKappa: -\nLambda: +", Band("IgG", "lambda")),
    ],
)
def test_an_antiseras_header_over_its_answers_is_read_column_by_column(text, band):
    result = parse_ife(text)
    assert [b.label() for b in result.bands] == [band.label()]


@pytest.mark.parametrize("text", NEGATIVE_CELLS[:1] + NEGATIVE_CELLS[6:8])
def test_a_poems_patient_whose_immunofixation_cells_say_neg_is_not_met(mapping, text):
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("not_met", State.ABSENT)


def test_a_poems_patient_whose_lambda_column_is_positive_is_met(mapping):
    text = "IgG | IgA | IgM | Kappa | Lambda\n+ | - | - | - | +"
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason
