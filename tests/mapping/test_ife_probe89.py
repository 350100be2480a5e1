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
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record, observation
from tests.mapping.test_ife_comments import _cidp_patient
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


HYPOTHETICAL_BANDS = [
    # probe89 min/D9: H30, H26, H29
    "IFE: Negative. Please repeat in 6 weeks to quantify any IgA lambda band.",
    "IFE: No band. Recommend urine immunofixation for IgA lambda paraprotein.",
    "IFE: Negative. Recommend monitoring of the IgG lambda band if clinically indicated.",
    "Negative. Suggest urine immunofixation to check for an IgA lambda band.",
    "Отрицательно. Рекомендован контроль М-градиента IgG-λ через 3 месяца.",
    "Моноклональный белок не выявлен. Рекомендовано повторить для оценки любого М-градиента IgA лямбда.",
]


@pytest.mark.parametrize("text", HYPOTHETICAL_BANDS)
def test_a_recommendation_beside_a_negative_creates_no_band(text):
    result = parse_ife(text)
    assert result.negative
    assert (result.bands, result.possible) == ((), ())


@pytest.mark.parametrize(
    "text",
    [
        "Recommend repeat to quantify any IgA lambda band.",
        "Recommend urine immunofixation for IgA lambda paraprotein.",
        "Рекомендовано повторить для оценки любого М-градиента IgA лямбда.",
    ],
)
def test_a_sought_band_in_a_recommendation_is_a_mention(text):
    assert parse_ife(text).bands == ()


@pytest.mark.parametrize(
    ("text", "band"),
    [
        # with no negative statement, a recommendation naming "the X band" as there is still a band (probe88 D11)
        ("Positive. Recommend repeat in 3 months to monitor the IgG lambda band.", ("IgG", "lambda")),
        ("Положительно. Рекомендован контроль М-градиента IgG-λ через 3 месяца.", ("IgG", "lambda")),
        # a band stated outside the comment stays, whatever the comment says
        ("IgA lambda band detected. Recommend monitoring of the IgA lambda band.", ("IgA", "lambda")),
    ],
)
def test_a_recommendation_naming_the_band_without_a_negative_is_a_band(text, band):
    result = parse_ife(text)
    assert not result.negative
    assert list(result.bands) == [Band(*band)]


@pytest.mark.parametrize("text", [MASKING_CAVEATS[0], MASKING_CAVEATS[1], HYPOTHETICAL_BANDS[0], HYPOTHETICAL_BANDS[2]])
def test_a_cidp_patient_whose_negative_immunofixation_names_a_hypothetical_band_is_not_met(mapping, text):
    ife = observation(SERUM_IFE, "ife", valueString=text)
    result = evaluate_record(make_record(*_cidp_patient(ife)), mapping, get_profile("mayo"), None)
    assert result.assessment.classification.value == "not_met"


@pytest.mark.parametrize(
    ("text", "band"),
    [
        # a band reported beside or under another protein is a band, not a masking caveat
        ("IgA lambda band co-migrating with transferrin.", ("IgA", "lambda")),
        ("IgA lambda band comigrating within the beta region", ("IgA", "lambda")),
        ("A small IgA lambda band, partly masked by transferrin, is present.", ("IgA", "lambda")),
        ("М-градиент IgG каппа, маскирующий трансферрин.", ("IgG", "kappa")),
    ],
)
def test_a_band_reported_beside_another_protein_stays_a_band(text, band):
    assert list(parse_ife(text).bands) == [Band(*band)]
