"""probe99 D7: the immunofixation flag-versus-words check works both ways. A band (or a coded Positive)
that the lab's own interpretation flags negative, not detected or normal is a contradiction - indeterminate,
the reason naming the flag - as a "Negative" flagged abnormal or positive already was (probe79 D2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation, not_read

FIXTURES = Path(__file__).parent.parent / "fixtures" / "probe99"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
SCT = "http://snomed.info/sct"
CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value


def clone(resource, mapping):
    return [f for f in extract(make_record(resource), mapping).findings if f.topic == CLONE]


def flagged(code=None, text=None):
    concept = {"coding": [{"system": V3, "code": code}]} if code else {}
    return [{**concept, **({"text": text} if text else {})}]


def test_the_probe_result_a_band_flagged_neg_is_indeterminate(mapping):
    ife = json.loads((FIXTURES / "ife-band-flagged-negative.json").read_text(encoding="utf-8"))
    (found,) = clone(ife, mapping)
    assert found.state is State.INDETERMINATE
    assert "'IgG kappa band detected' but flagged NEG by the lab" in found.evidence.summary
    assert found.note == "the result and its flag disagree: check the immunofixation report"


@pytest.mark.parametrize("flag", ["NEG", "ND", "N"])
@pytest.mark.parametrize(
    "value",
    [
        {"valueString": "IgG kappa band detected"},
        {"valueString": "IgA lambda"},
        {"valueCodeableConcept": {"coding": [{"system": SCT, "code": "10828004", "display": "Positive"}]}},
    ],
)
def test_a_band_or_positive_flagged_negative_or_normal_is_indeterminate(mapping, value, flag):
    (found,) = clone(observation("25700-6", "ife", interpretation=flagged(flag), **value), mapping)
    assert found.state is State.INDETERMINATE
    assert f"flagged {flag} by the lab" in found.evidence.summary


def test_a_band_flagged_normal_in_words_is_indeterminate(mapping):
    ife = observation("25700-6", "ife", valueString="IgG kappa", interpretation=flagged(text="Normal"))
    (found,) = clone(ife, mapping)
    assert found.state is State.INDETERMINATE
    assert "flagged 'Normal' by the lab" in found.evidence.summary


@pytest.mark.parametrize("flag", ["A", "POS", "H", "DET"])
def test_a_band_the_flag_agrees_with_stays_present(mapping, flag):
    (found,) = clone(observation("25700-6", "ife", valueString="IgG kappa", interpretation=flagged(flag)), mapping)
    assert found.state is State.PRESENT


def test_the_other_direction_is_unchanged(mapping):
    (found,) = clone(observation("25700-6", "ife", valueString="Negative", interpretation=flagged("POS")), mapping)
    assert found.state is State.INDETERMINATE
    assert "'Negative' but flagged POS by the lab" in found.evidence.summary


def errors(resource, mapping):
    return [e.message for e in extract(make_record(resource), mapping).errors]


def test_a_result_only_in_a_component_says_where_it_is(mapping):
    """probe99 D8: "unrecognised immunofixation result ''" quoted an empty string."""
    ife = json.loads((FIXTURES / "ife-in-component.json").read_text(encoding="utf-8"))
    assert not_read(clone(ife, mapping))
    (message,) = errors(ife, mapping)
    assert message.startswith("immunofixation result is in component[0] (valueString 'IgG kappa')")
    assert "send the result as the Observation's value[x]" in message
    assert "''" not in message


def test_a_result_with_no_value_anywhere_says_so(mapping):
    (message,) = errors(observation("25700-6", "ife"), mapping)
    assert message == "immunofixation has no result (no value[x] and no dataAbsentReason): nothing to read"
