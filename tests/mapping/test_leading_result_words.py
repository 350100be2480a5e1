"""A result written as its words and then a detail - "Positive, >70000 BTU", "Negative (<1000 BTU)" - is
read by its words (probe46: an anti-MAG antibody "Positive, >70000 BTU" was refused as "expected a
Quantity"); only a text from which no number is read is read so."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

LOINC = "http://loinc.org"


def lab(code: dict, value: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": code,
        "effectiveDateTime": "2024-01-02",
        "valueString": value,
    }


def found(mapping, resource: dict) -> dict[str, State]:
    ex = extract(make_record(resource), mapping)
    assert ex.errors == []
    return {f.topic: f.state for f in ex.findings}


@pytest.mark.parametrize(
    "value",
    ["Positive, >70000 BTU", "POSITIVE (titre 1:6400)", "positive; 25000 BTU", "Положительно, >70000 BTU"],
)
def test_a_positive_antibody_with_its_detail_flags_the_igm_neuropathy(mapping, value):
    assert found(mapping, lab({"text": "Anti-MAG antibodies (Buhlmann)"}, value)) == {"igm_neuropathy": State.PRESENT}


@pytest.mark.parametrize("value", ["Negative (<1000 BTU)", "negative, 400 BTU", "Not detected; <1000"])
def test_a_negative_antibody_with_its_detail_flags_nothing(mapping, value):
    assert found(mapping, lab({"text": "Anti-MAG antibodies"}, value)) == {}


def test_a_number_written_first_is_read_as_the_number(mapping):
    vegf = lab({"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF, plasma"}, "150 pg/mL")
    assert found(mapping, vegf) == {"vegf_elevation": State.ABSENT}  # below the plasma cut-off (200)


def test_words_followed_by_no_detail_are_read_as_before(mapping):
    assert found(mapping, lab({"text": "Anti-MAG antibodies"}, "Positive")) == {"igm_neuropathy": State.PRESENT}


@pytest.mark.parametrize(
    "value", ["Positive, but see comment", "Negative; IgG kappa band seen", "No M-spike; IgG kappa"]
)
def test_words_followed_by_more_words_are_not_read_by_their_first_words(mapping, value):
    # the words after the first may say more - or the opposite: never read as the first words alone
    ex = extract(make_record(lab({"text": "Anti-MAG antibodies"}, value)), mapping)
    assert ex.findings == []


def test_a_result_of_minus_zero_is_shown_as_zero(mapping):
    # probe47 D7: "VEGF -0 pg/mL" in the evidence read as a negative result
    vegf = {
        **lab({"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF, plasma"}, ""),
        "valueQuantity": {"value": -0.0, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
    }
    del vegf["valueString"]
    ex = extract(make_record(vegf), mapping)
    assert ex.errors == []
    [finding] = [f for f in ex.findings if f.topic == "vegf_elevation"]
    assert "-0" not in finding.evidence.summary and "VEGF" in finding.evidence.summary.upper()
