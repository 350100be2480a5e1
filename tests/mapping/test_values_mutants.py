"""mapping.values: behaviour the mutation run of the whole module (eleventh session) found untested."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.values import Range, reference_range

UCUM = "http://unitsofmeasure.org"


def _vegf(quantity: dict) -> dict:
    return {"resourceType": "Observation", "valueQuantity": quantity, "referenceRange": [{"high": {"value": 1000}}]}


def test_a_unitless_range_bound_takes_the_value_s_ucum_code_not_its_display():
    # the display "picograms per millilitre" is no unit anyone can convert; the UCUM code is what counts
    obs = _vegf({"value": 1500, "unit": "picograms per millilitre", "system": UCUM, "code": "pg/mL"})
    assert reference_range(obs, "pg/mL", {}, None) == Range(None, 1000.0)


def test_a_unitless_range_bound_takes_the_unit_text_when_the_code_is_not_ucum():
    # a lab's own unit code ("PGML" in its own system) is not UCUM: the written unit "pg/mL" is
    obs = _vegf({"value": 1500, "unit": "pg/mL", "system": "https://lab.example/units", "code": "PGML"})
    assert reference_range(obs, "pg/mL", {}, None) == Range(None, 1000.0)
    # and a bound in ng/mL of the same line is converted through the written unit
    obs = _vegf({"value": 1.5, "unit": "ng/mL", "system": "https://lab.example/units", "code": "NGML"})
    converted = reference_range(obs, "pg/mL", {}, None)
    assert converted is not None and converted.low is None and converted.high == pytest.approx(1_000_000)


def test_a_unitless_range_bound_takes_the_value_s_code_when_there_is_no_unit_text():
    obs = _vegf({"value": 1500, "system": "https://lab.example/units", "code": "pg/mL"})
    assert reference_range(obs, "pg/mL", {}, None) == Range(None, 1000.0)


def test_a_report_without_a_code_is_named_report_in_its_evidence(mapping):
    # concept_label of no CodeableConcept is "", so the report's label falls back to "report"
    from poems_fhir.mapping.extract import extract
    from tests.conftest import make_record

    report = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "SP"}]}],
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2019-02-10",
        "conclusionCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "D47.Z2"}]}],
    }
    ex = extract(make_record(report), mapping)
    assert [f.evidence.summary for f in ex.findings if f.topic == "castleman_disease"] == ["report: castleman disease"]


def test_a_text_value_that_is_no_number_still_has_its_range_read():
    # "high" states no unit of its own (nothing to read one from): the range's own unit is used
    obs = {"resourceType": "Observation", "valueString": "high", "referenceRange": [{"text": "< 5 pg/mL"}]}
    assert reference_range(obs, "pg/mL", {}, None) == Range(None, 5.0)


def test_a_range_bound_with_its_own_unit_keeps_it():
    # only a bound WITHOUT a unit takes the value's unit; "1 ng/mL" beside a value in pg/mL is 1000 pg/mL
    obs = {
        "resourceType": "Observation",
        "valueQuantity": {"value": 1500, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"},
        "referenceRange": [{"high": {"value": 1, "unit": "ng/mL"}}],
    }
    converted = reference_range(obs, "pg/mL", {}, None)
    assert converted is not None and converted.low is None and converted.high == pytest.approx(1000)


def test_a_range_bound_with_only_a_code_keeps_its_code_as_unit():
    obs = {
        "resourceType": "Observation",
        "valueQuantity": {"value": 1500, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"},
        "referenceRange": [{"high": {"value": 1, "code": "ng/mL"}}],  # no unit text, no system
    }
    converted = reference_range(obs, "pg/mL", {}, None)
    assert converted is not None and converted.high == pytest.approx(1000)


def test_a_range_bound_that_cannot_be_read_is_named_in_the_error():
    from poems_fhir.mapping.values import UnitRejected

    obs = {
        "valueQuantity": {"value": 1, "unit": "pg/mL"},
        "referenceRange": [{"high": {"value": 5, "unit": "furlongs"}}],
    }
    with pytest.raises(UnitRejected, match=r"^referenceRange\[0\]\.high: 'furlongs'"):
        reference_range(obs, "pg/mL", {}, None)


def test_a_range_with_neither_bounds_nor_text_is_no_range():
    obs = {"valueQuantity": {"value": 1, "unit": "pg/mL"}, "referenceRange": [{"type": {"text": "normal range"}}]}
    assert reference_range(obs, "pg/mL", {}, None) is None
