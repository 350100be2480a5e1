"""An immunofixation whose coded value and its own words disagree is indeterminate (probe86 D3).

A valueCodeableConcept coded SNOMED CT Negative with the text "IgA lambda band detected" (or Positive with
"No monoclonal band detected", or coded both Negative and Positive) was read as negative: the clone absent,
which excludes POEMS, and a clone-positive patient `not_met` with no word of the band. criteria.md §3.3:
conflicting evidence is indeterminate.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.mapping.extract import extract
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record, observation
from tests.mapping.test_ife_comments import _condition, _cidp_patient

CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
SCT = "http://snomed.info/sct"
LAB = "https://lab.example.org/ife-result"
SERUM_IFE, URINE_IFE = "25700-6", "13440-3"


def coding(code: str, display: str | None = None, system: str = SCT) -> dict[str, Any]:
    return {"system": system, "code": code, **({"display": display} if display else {})}


NEGATIVE, NOT_DETECTED = coding("260385009", "Negative"), coding("260415000", "Not detected")
POSITIVE, DETECTED = coding("10828004", "Positive"), coding("260373001", "Detected")


def clone_findings(resource: dict[str, Any], mapping) -> tuple[list[tuple[State, str]], Any]:
    ex = extract(make_record(resource), mapping)
    assert ex.errors == []
    return [(f.state, f.evidence.summary) for f in ex.findings if f.topic == CLONE], ex


@pytest.mark.parametrize(
    ("value", "summary"),
    [
        # probe86 min/D3 and bundles6 v01 - v05
        (
            {"coding": [NEGATIVE], "text": "IgA lambda band detected"},
            "coded Negative (SNOMED CT 260385009) but text 'IgA lambda band detected'",
        ),
        (
            {"coding": [POSITIVE], "text": "No monoclonal band detected"},
            "text 'No monoclonal band detected' but coded Positive (SNOMED CT 10828004)",
        ),
        ({"coding": [DETECTED], "text": "Negative"}, "text 'Negative' but coded Detected (SNOMED CT 260373001)"),
        (
            {"coding": [NOT_DETECTED], "text": "IgG lambda"},
            "coded Not detected (SNOMED CT 260415000) but text 'IgG lambda'",
        ),
        (
            {"coding": [coding("260385009", "IgA lambda")]},
            "coded Negative (SNOMED CT 260385009) but display 'IgA lambda'",
        ),
        (
            {"coding": [NEGATIVE, POSITIVE]},
            "coded Negative (SNOMED CT 260385009) but coded Positive (SNOMED CT 10828004)",
        ),
        # Russian words against the code
        (
            {"coding": [NEGATIVE], "text": "Выявлен М-градиент IgA-λ"},
            "coded Negative (SNOMED CT 260385009) but text 'Выявлен М-градиент IgA-λ'",
        ),
        (
            {"coding": [POSITIVE], "text": "Моноклональный белок не выявлен"},
            "text 'Моноклональный белок не выявлен' but coded Positive (SNOMED CT 10828004)",
        ),
        # a laboratory's own coding whose display says negative, its text a band
        (
            {"coding": [coding("NEG", "Negative", LAB)], "text": "IgA lambda band detected"},
            "display 'Negative' but text 'IgA lambda band detected'",
        ),
    ],
)
def test_an_immunofixation_whose_code_and_words_disagree_is_indeterminate(mapping, value, summary):
    found, ex = clone_findings(observation(SERUM_IFE, "ife", valueCodeableConcept=value), mapping)
    assert found == [(State.INDETERMINATE, f"serum immunofixation contradicts itself: {summary}")]
    [finding] = [f for f in ex.findings if f.topic == CLONE]
    assert finding.note == "the coded result and its words disagree: check the immunofixation report"
    assert ex.measurements == []  # neither a 1 nor a 0 in the response timeline


def test_a_urine_immunofixation_whose_code_and_words_disagree_is_indeterminate(mapping):
    # probe86 bundles6 v06
    value = {"coding": [NEGATIVE], "text": "Free lambda light chains detected"}
    found, _ = clone_findings(observation(URINE_IFE, "bj", valueCodeableConcept=value), mapping)
    assert found == [
        (
            State.INDETERMINATE,
            "urine immunofixation contradicts itself: coded Negative (SNOMED CT 260385009) but text "
            "'Free lambda light chains detected'",
        )
    ]


@pytest.mark.parametrize(
    ("value", "state", "summary"),
    [
        (
            {"coding": [NEGATIVE], "text": "No monoclonal protein detected"},
            State.ABSENT,
            "serum immunofixation negative",
        ),
        ({"coding": [NOT_DETECTED], "text": "не выявлено"}, State.ABSENT, "serum immunofixation negative"),
        ({"coding": [NEGATIVE], "text": "Negative"}, State.ABSENT, "serum immunofixation negative"),
        ({"coding": [POSITIVE], "text": "IgA lambda"}, State.PRESENT, "serum immunofixation: IgA lambda"),
        ({"coding": [DETECTED], "text": "Моноклональный IgG каппа"}, State.PRESENT, "serum immunofixation: IgG kappa"),
        (
            {"coding": [coding("IGG-L", "IgG lambda", LAB)], "text": "IgG lambda"},
            State.PRESENT,
            "serum immunofixation: IgG lambda",
        ),
        # a band of an earlier test beside today's negative is no contradiction (probe71 D11)
        (
            {"coding": [NEGATIVE], "text": "Negative (previously IgG lambda)"},
            State.INDETERMINATE,
            "serum immunofixation negative now, IgG lambda reported before ('Negative (previously IgG lambda) Negative')",
        ),
    ],
)
def test_an_immunofixation_whose_code_and_words_agree_is_read_as_before(mapping, value, state, summary):
    found, _ = clone_findings(observation(SERUM_IFE, "ife", valueCodeableConcept=value), mapping)
    assert found == [(state, summary)]


def test_a_patient_whose_only_immunofixation_contradicts_itself_is_not_excluded(mapping):
    # probe86 min/D3: polyneuropathy, plasma VEGF 400 pg/mL, oedema and an immunofixation coded Negative
    # with the text "IgA lambda band detected" was not_met (the clone absent)
    ife = observation(SERUM_IFE, "ife", valueCodeableConcept={"coding": [NEGATIVE], "text": "IgA lambda band detected"})
    resources = _cidp_patient(ife)
    resources[0] = _condition("G62.9", "Polyneuropathy, unspecified")
    result = evaluate_record(make_record(*resources), mapping, get_profile("mayo"), None)
    assert result.assessment.classification.value == "indeterminate"
