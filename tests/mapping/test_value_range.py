"""A Range result (valueRange, "VEGF 1200-1500 pg/mL") is the interval of true values it allows
(probe13: it was refused and listed). Boundaries from criteria.md §4 (MAJ-5: serum >= 1000 pg/mL,
plasma >= 200 pg/mL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.criteria.response import assess_response
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.values import ResourceError, Value, compare, range_value
from poems_fhir.pipeline import response_config
from tests.conftest import make_record

SCT, LOINC, UCUM = "http://snomed.info/sct", "http://loinc.org", "http://unitsofmeasure.org"
BASELINE = dt.date(2024, 1, 2)  # --baseline: the response is measured from the first VEGF
SERUM = {"resourceType": "Specimen", "id": "s1", "type": {"coding": [{"system": SCT, "code": "119364003"}]}}


def bound(value: float, unit: str = "pg/mL") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def vegf_range(rid: str, date: str, low: dict | None, high: dict | None) -> dict[str, Any]:
    r: dict[str, Any] = {}
    if low is not None:
        r["low"] = low
    if high is not None:
        r["high"] = high
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "75628-8"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": date,
        "specimen": {"reference": "Specimen/s1"},
        "valueRange": r,
    }


@pytest.mark.parametrize(
    ("value", "cut", "op", "expected"),
    [
        (Value(1200, None, high=1500), 1000, ">=", True),
        (Value(1000, None, high=1500), 1000, ">=", True),  # the low end at the cut-off counts
        (Value(1000, None, high=1500), 1000, ">", None),
        (Value(900, None, high=1000), 1000, ">=", None),  # straddles: undecided
        (Value(800, None, high=999), 1000, ">=", False),
        (Value(800, None, high=999), 1000, "<", True),
        (Value(800, None, high=1000), 1000, "<", None),
    ],
)
def test_a_range_decides_only_when_every_value_in_it_agrees(value, cut, op, expected):
    assert compare(value, cut, op) is expected


def test_range_bounds_are_converted_and_one_sided_ranges_are_censored_values():
    converted = range_value({"low": bound(1.2, "ng/mL"), "high": bound(1.5, "ng/mL")}, "v", "pg/mL", {})
    assert (converted.value, converted.high, converted.unit, converted.comparator) == (
        pytest.approx(1200),
        pytest.approx(1500),
        "pg/mL",
        None,
    )
    assert range_value({"low": bound(1200)}, "v", "pg/mL", {}) == Value(1200.0, "pg/mL", ">=")
    assert range_value({"high": bound(50)}, "v", "pg/mL", {}) == Value(50.0, "pg/mL", "<=")
    assert range_value({"low": bound(700), "high": bound(700)}, "v", "pg/mL", {}) == Value(700.0, "pg/mL")


@pytest.mark.parametrize(
    ("r", "message"),
    [
        ({}, "neither low nor high"),
        ({"low": bound(1500), "high": bound(1200)}, "low 1500 is above high 1200"),
        ({"low": {"value": 1200}, "high": {"value": 1500}}, "has no unit"),
        ({"low": bound(1200, "mg")}, ""),
    ],
)
def test_an_unusable_range_is_a_reported_resource_error(r, message):
    with pytest.raises(ResourceError, match=message):
        range_value(r, "valueRange", "pg/mL", {})


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1200, 1500, State.PRESENT),
        (1000, 1500, State.PRESENT),
        (800, 1200, State.INDETERMINATE),
        (300, 600, State.ABSENT),
        (1200, None, State.PRESENT),  # "at least 1200"
        (None, 600, State.ABSENT),  # "at most 600"
    ],
)
def test_a_serum_vegf_range_against_the_cut_off(mapping, low, high, expected):
    obs = vegf_range("v1", "2024-01-02", bound(low) if low else None, bound(high) if high else None)
    ex = extract(make_record(SERUM, obs), mapping)
    assert ex.errors == []
    assert [f.state for f in ex.findings if f.topic == "vegf_elevation"] == [expected]


def test_the_evidence_shows_the_range(mapping):
    ex = extract(make_record(SERUM, vegf_range("v1", "2024-01-02", bound(1200), bound(1500))), mapping)
    (finding,) = [f for f in ex.findings if f.topic == "vegf_elevation"]
    assert "1200–1500 pg/mL" in finding.evidence.summary


def test_a_range_in_the_vegf_response_counts_every_value_it_allows(mapping):
    """criteria.md §8.2: complete = normalised below the cut-off; a baseline range wholly above it."""
    base = vegf_range("v1", "2024-01-02", bound(1200), bound(1500))
    after = {**vegf_range("v2", "2024-06-02", None, None), "valueQuantity": bound(400)}
    del after["valueRange"]
    ex = extract(make_record(SERUM, base, after), mapping)
    response = assess_response(
        ex.measurements, ex.events, ex.findings, ex.course, response_config(mapping), None, BASELINE
    )
    assert response.vegf.category == "complete"
    assert response.vegf.baseline.to_dict()["high"] == 1500
    assert "1200–1500" in response.vegf.reason
    straddling = vegf_range("v3", "2024-09-02", bound(900), bound(1300))  # may or may not be normal
    ex = extract(make_record(SERUM, base, straddling), mapping)
    assert assess_response(
        ex.measurements, ex.events, ex.findings, ex.course, response_config(mapping), None, BASELINE
    ).vegf.category == ("not_evaluable")


def test_the_range_is_written_as_a_range_in_words(mapping):
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import change_text

    base = vegf_range("v1", "2024-01-02", bound(1200), bound(1500))
    after = vegf_range("v2", "2024-06-02", bound(300), bound(450))
    ex = extract(make_record(SERUM, base, after), mapping)
    r = assess_response(ex.measurements, ex.events, ex.findings, ex.course, response_config(mapping), None, BASELINE)
    assert r.vegf.category == "complete"
    text = change_text(translator("en"), r.vegf.baseline, r.vegf.latest)
    assert text.startswith("1,200–1,500 pg/mL on "), text
    assert "→ 300–450 pg/mL on " in text
