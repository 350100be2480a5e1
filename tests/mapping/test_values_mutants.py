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
