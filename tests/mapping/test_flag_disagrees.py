"""A result whose lab flag says otherwise than its value (probe79): never a firm answer the flag contradicts."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

V2 = "http://terminology.hl7.org/CodeSystem/v2-0078"
SCT = "http://snomed.info/sct"
CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value


def flagged(code):
    return [{"coding": [{"system": V2, "code": code}]}]


def states(resource, mapping, topic=CLONE):
    return [f.state for f in extract(make_record(resource), mapping).findings if f.topic == topic]


@pytest.mark.parametrize(
    "value",
    [
        {"valueCodeableConcept": {"coding": [{"system": SCT, "code": "260385009", "display": "Negative"}]}},
        {"valueString": "Negative"},
        {"valueString": "не выявлено"},
    ],
)
@pytest.mark.parametrize("flag", ["A", "POS", "H", "DET"])
def test_a_negative_immunofixation_flagged_abnormal_or_positive_is_indeterminate(mapping, value, flag):
    """probe79 D2: "Negative" flagged A made the clone absent and the patient not met, the flag unmentioned."""
    ife = observation("25700-6", "ife", interpretation=flagged(flag), **value)
    assert states(ife, mapping) == [State.INDETERMINATE]
    (found,) = [f for f in extract(make_record(ife), mapping).findings if f.topic == CLONE]
    assert f"flagged {flag}" in found.evidence.summary


@pytest.mark.parametrize("flag", ["N", "NEG", "ND"])
def test_a_negative_immunofixation_the_flag_agrees_with_stays_absent(mapping, flag):
    ife = observation("25700-6", "ife", valueString="Negative", interpretation=flagged(flag))
    assert states(ife, mapping) == [State.ABSENT]


PLATELETS = Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value


def platelets(rid="plt", **elements):
    return observation("777-3", rid, **elements)


def count(value, comparator=None):
    q = {"value": value, "unit": "10*9/L", "system": "http://unitsofmeasure.org", "code": "10*9/L"}
    return {"valueQuantity": {**q, **({"comparator": comparator} if comparator else {})}}


def part_of(resource, mapping):
    return [
        (f.state, f.evidence.reference)
        for f in extract(make_record(resource), mapping).findings
        if f.topic == PLATELETS
    ]


@pytest.mark.parametrize(
    "elements",
    [
        count(400, ">"),
        count(500, "<"),
        {**count(500, "<"), "referenceRange": [{"low": {"value": 150}, "high": {"value": 400}}]},
        {"valueString": "<500 x10^9/L"},
    ],
)
def test_a_censored_count_on_both_sides_of_the_limit_is_indeterminate_not_missing(mapping, elements):
    """probe79 D5: "<500" against 450 was dropped without a word - "not assessed", a CBC proposed."""
    assert part_of(platelets(**elements), mapping) == [(State.INDETERMINATE, "Observation/plt")]


@pytest.mark.parametrize(("elements", "state"), [(count(1000, ">"), State.PRESENT), (count(100, "<"), State.ABSENT)])
def test_a_censored_count_on_one_side_is_read(mapping, elements, state):
    assert part_of(platelets(**elements), mapping) == [(state, "Observation/plt")]


def test_a_count_the_lab_flags_normal_beyond_the_default_cut_off_is_indeterminate(mapping):
    """probe79 D7: platelets 460 flagged N, no range of the lab's: "present (high)" by the default 450,
    the opposite of the lab's flag; criteria.md judges "> local ULN"."""
    plt = platelets(**count(460), interpretation=flagged("N"))
    assert part_of(plt, mapping) == [(State.INDETERMINATE, "Observation/plt")]
    (found,) = [f for f in extract(make_record(plt), mapping).findings if f.topic == PLATELETS]
    assert "flagged normal (N)" in (found.note or "")
    # the lab's own range decides, whatever the flag; an H flag agrees with the cut-off
    ranged = platelets(**count(460), interpretation=flagged("N"), referenceRange=[{"high": {"value": 400}}])
    assert part_of(ranged, mapping)[0][0] is not State.INDETERMINATE
    assert part_of(platelets(**count(460), interpretation=flagged("H")), mapping) == [
        (State.PRESENT, "Observation/plt")
    ]
    assert part_of(platelets(**count(300), interpretation=flagged("N")), mapping) == [(State.ABSENT, "Observation/plt")]


@pytest.mark.parametrize(
    "interpretation",
    [
        {"text": "Abnormal"},
        {"text": "Positive"},
        {"text": "Аномальный"},
        {"coding": [{"system": "urn:oid:1.2.3.4", "code": "X9", "display": "Abnormal"}]},
        # words beside the flag (probe82 D1)
        {"text": "Abnormal result"},
        {"text": "Abnormal - see comment"},
        {"text": "Positive result"},
        {"text": "Аномальный результат"},
    ],
)
def test_a_flag_in_words_beside_a_negative_immunofixation_is_read_too(mapping, interpretation):
    """probe81 D6: only a coded A/POS made the negative indeterminate; "Abnormal" in words left the exclusion."""
    ife = observation("25700-6", "ife", valueString="Negative", interpretation=[interpretation])
    assert states(ife, mapping) == [State.INDETERMINATE]


@pytest.mark.parametrize(
    "interpretation",
    [
        {"text": "Normal"},
        {"coding": [{"system": "urn:oid:1.2.3.4", "code": "0", "display": "Normal"}]},
        {"text": "Normal range"},  # probe82 D4
    ],
)
def test_a_normal_flag_in_words_beside_a_count_beyond_the_default_is_read_too(mapping, interpretation):
    """probe81 D7: "Normal" in words beside platelets 480 with no range of the lab's: "present (high)"."""
    plt = platelets(**count(480), interpretation=[interpretation])
    assert part_of(plt, mapping) == [(State.INDETERMINATE, "Observation/plt")]


def test_a_flag_that_denies_is_not_read_as_the_flag_it_names(mapping):
    ife = observation("25700-6", "ife", valueString="Negative", interpretation=[{"text": "Not abnormal"}])
    assert states(ife, mapping) == [State.ABSENT]
