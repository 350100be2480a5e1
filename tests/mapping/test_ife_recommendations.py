"""A band stated inside a recommendation is a band; a denial of the other chain agrees with Positive (probe88).

D11: the comment rule of probe86 D7 swallowed a clause that names its band as there - "Recommend repeat in
3 months to monitor the IgG lambda band" was not read at all ("no data"). D12: a coded Positive with
«IgG-λ, каппа не выявлена» or "No kappa band", and a coded Negative with "continue to monitor for IgG
lambda", were called self-contradictory.
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record, observation
from tests.mapping.test_ife_comments import _cidp_patient, _condition
from tests.mapping.test_ife_contradictions import NEGATIVE, POSITIVE, SERUM_IFE, clone_findings

BAND_IN_A_RECOMMENDATION = [
    # probe88 min/D11 and y05, y06, y30 - y33
    ("Recommend repeat in 3 months to monitor the IgG lambda band.", ("IgG", "lambda")),
    ("Please send urine for Bence Jones; IgA lambda paraprotein.", ("IgA", "lambda")),
    ("Suggest correlation with FLC for this IgG lambda paraprotein.", ("IgG", "lambda")),
    ("Request FLC to quantify the IgA lambda band.", ("IgA", "lambda")),
    ("Рекомендован контроль М-градиента IgG-λ через 3 месяца.", ("IgG", "lambda")),
    ("Please repeat: faint IgA lambda band.", ("IgA", "lambda")),
    ("Рекомендовано исследование свободных легких цепей для моноклонального IgA лямбда.", ("IgA", "lambda")),
]


@pytest.mark.parametrize(("text", "band"), BAND_IN_A_RECOMMENDATION)
def test_a_band_named_inside_a_recommendation_is_a_band(text, band):
    result = parse_ife(text)
    assert not result.negative
    assert list(result.bands) == [Band(*band)]


@pytest.mark.parametrize(
    "text",
    [
        # a band the test is to look for, or a caveat on the method, stays a mention
        "Negative. Suggest urine immunofixation to exclude a free lambda band.",
        "Negative. A small IgA lambda band may be missed.",
        "No monoclonal band. Sensitivity of the method 0.1 g/L: a faint IgA lambda band may escape.",
        "Отрицательно. Рекомендовано исследование на М-градиент IgG лямбда.",
        # probe88 y17: a request to monitor names no band
        "Negative; continue to monitor for IgG lambda",
        "Не выявлено. Рекомендовано продолжить контроль IgG лямбда.",
    ],
)
def test_a_band_sought_or_a_caveat_in_a_comment_stays_a_mention(text):
    result = parse_ife(text)
    assert result.negative
    assert (result.bands, result.possible) == ((), ())


@pytest.mark.parametrize(("text", "band"), BAND_IN_A_RECOMMENDATION[:2])
def test_a_patient_whose_immunofixation_names_its_band_in_a_recommendation_is_met(mapping, text, band):
    # probe88 min/D11: polyneuropathy, VEGF 400 pg/mL (plasma), oedema: the clone was "no data"
    ife = observation(SERUM_IFE, "ife", valueString=text)
    resources = _cidp_patient(ife)
    resources[0] = _condition("G62.9", "Polyneuropathy, unspecified")
    result = evaluate_record(make_record(*resources), mapping, get_profile("mayo"), None)
    assert result.assessment.classification.value == "met"


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        ("IgG-λ, каппа не выявлена", [("IgG", "lambda")]),
        ("IgG lambda, kappa not detected", [("IgG", "lambda")]),
        ("IgG kappa, lambda not detected", [("IgG", "kappa")]),
    ],
)
def test_a_band_then_the_other_chain_denied_is_the_band(text, bands):
    result = parse_ife(text)
    assert list(result.bands) == [Band(*b) for b in bands]


@pytest.mark.parametrize(
    "text",
    ["IgG, IgA, kappa not detected", "IgG kappa, IgA lambda not detected", "No kappa or lambda band"],
)
def test_a_list_denied_together_stays_denied(text):
    result = parse_ife(text)
    assert result.negative and not result.chain_only and result.bands == ()


@pytest.mark.parametrize(
    ("value", "state", "summary"),
    [
        # probe88 min/D12, i36, y17
        ({"coding": [POSITIVE], "text": "IgG-λ, каппа не выявлена"}, State.PRESENT, "serum immunofixation: IgG lambda"),
        (
            {"coding": [POSITIVE], "text": "Positive. No kappa band."},
            State.PRESENT,
            "serum immunofixation positive (isotype not stated)",
        ),
        (
            {"coding": [POSITIVE], "text": "Положительно. Каппа не выявлена."},
            State.PRESENT,
            "serum immunofixation positive (isotype not stated)",
        ),
        (
            {"coding": [NEGATIVE], "text": "Negative; continue to monitor for IgG lambda"},
            State.ABSENT,
            "serum immunofixation negative",
        ),
    ],
)
def test_words_that_agree_with_the_code_are_no_contradiction(mapping, value, state, summary):
    found, _ = clone_findings(observation(SERUM_IFE, "ife", valueCodeableConcept=value), mapping)
    assert found == [(state, summary)]


def test_a_denial_of_the_clone_still_contradicts_positive(mapping):
    value = {"coding": [POSITIVE], "text": "No monoclonal band. No kappa band."}
    found, _ = clone_findings(observation(SERUM_IFE, "ife", valueCodeableConcept=value), mapping)
    assert [state for state, _ in found] == [State.INDETERMINATE]


def test_one_chain_denied_alone_without_a_code_is_still_negative():
    assert parse_ife("No kappa band.").negative
