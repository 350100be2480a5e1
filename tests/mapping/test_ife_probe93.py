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
        ("Free kappa | Free lambda\nnegative | positive", Band(None, "lambda", free=True)),
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


# probe93 D6: the antisera a laboratory tested with, listed before the result, name no band
@pytest.mark.parametrize(
    "text",
    [
        "Antisera: IgG, IgA, IgM, kappa, lambda\nResult: negative",
        "Antisera tested:\nIgG\nIgA\nIgM\nKappa\nLambda\nResult: negative",
        "Антисыворотки: IgG, IgA, IgM, каппа, лямбда\nРезультат: отрицательный",
    ],
)
def test_a_list_of_the_antisera_before_a_negative_result_is_no_band(mapping, text):
    result = parse_ife(text)
    assert (result.negative, result.bands, result.possible, result.conflict) == (True, (), (), "")
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("not_met", State.ABSENT)


def test_a_band_after_the_antisera_list_is_still_read():
    result = parse_ife("Antisera: IgG, IgA, IgM, kappa, lambda\nResult: IgG lambda band detected")
    assert [b.label() for b in result.bands] == ["IgG lambda"]


# probe93 D7: a withdrawal word negated by "no … of / for" confirms the band
@pytest.mark.parametrize(
    "comment",
    [
        "no suspicion of artefact.",
        "no concern for artefact.",
        "no evidence of interference or artefact.",
        "нет подозрений на артефакт.",
    ],
)
def test_a_negated_suspicion_of_artefact_confirms_the_band(mapping, comment):
    text = f"IgG lambda band detected. Comment: {comment}"
    result = parse_ife(text)
    assert ([b.label() for b in result.bands], result.conflict) == (["IgG lambda"], "")
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)


def test_a_suspected_artefact_still_withdraws_the_band():
    assert parse_ife("IgG lambda band detected. Comment: artefact or interference suspected.").conflict


# probe93 D4: a withdrawal after a hyphen, a dash or a colon withdraws the band (not its denial)
@pytest.mark.parametrize(
    "text",
    [
        "IgG lambda band detected - not confirmed on repeat",
        "IgG lambda band detected -\nnot confirmed on repeat",
        "IgG lambda band detected:\nnot confirmed on repeat",
        "IgG lambda band detected — probably artefact",
        "IgG лямбда выявлена - при повторном исследовании не подтвердилась",
    ],
)
def test_a_band_withdrawn_after_a_hyphen_or_colon_is_indeterminate(mapping, text):
    result = parse_ife(text)
    assert (result.negative, result.bands, [b.label() for b in result.possible]) == (False, (), ["IgG lambda"])
    assert result.conflict
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)


def test_a_denied_withdrawal_after_a_hyphen_confirms_the_band():
    result = parse_ife("IgG lambda band detected - not an artefact")
    assert ([b.label() for b in result.bands], result.conflict) == (["IgG lambda"], "")


# probe93 D5: a denial limited to another specimen does not deny the serum band
@pytest.mark.parametrize(
    "text",
    [
        "Immunofixation shows a monoclonal IgG lambda paraprotein which is not detected in the urine.",
        "Immunofixation shows a monoclonal IgG lambda paraprotein which is\nnot detected in the urine.",
        "Monoclonal IgG lambda band that is absent in the 24h urine.",
        "Выявлен парапротеин IgG лямбда, который в моче не выявляется.",
        "Выявлен парапротеин IgG лямбда, который не выявляется в моче.",
    ],
)
def test_a_band_denied_only_in_the_urine_stands(mapping, text):
    result = parse_ife(text)
    assert [b.label() for b in result.bands] == ["IgG lambda"]
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)


@pytest.mark.parametrize("text", ["IgG lambda not detected in the urine", "No IgG lambda band in serum or urine"])
def test_a_band_denied_without_being_stated_stays_denied(text):
    result = parse_ife(text)
    assert (result.negative, result.bands) == (True, ())


# probe93 D18: a note naming the band an earlier test found reads as the same words in the value
def test_a_note_naming_an_earlier_band_beside_a_negative_is_indeterminate(mapping):
    ife = observation(
        SERUM_IFE, "ife", valueString="Negative", note=[{"text": "Previous IgG lambda band no longer detected."}]
    )
    classification, state, reason = _classify(mapping, ife)
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)


def test_a_note_naming_an_earlier_band_beside_todays_band_keeps_todays(mapping):
    ife = observation(
        SERUM_IFE, "ife", valueString="IgA kappa band", note=[{"text": "Previous IgG lambda band no longer detected."}]
    )
    classification, state, _ = _classify(mapping, ife)
    assert (classification, state) == ("met", State.PRESENT)
