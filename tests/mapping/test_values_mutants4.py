"""mapping.values, read where the mutation run of the fifteenth session found it untested: the text a
CodeableConcept shows, what a Quantity's errors say, a unitless ratio's comparator, a Range's notes and
molar mass (each test kills a surviving mutant of `make mutation`)."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.values import (
    ResourceError,
    concept_text,
    convert_value,
    quantity,
    range_value,
)

UCUM = "http://unitsofmeasure.org"
ALIASES = {"mg/dl": "mg/dL"}


def test_concept_text_is_the_text_and_displays_joined_by_a_space():
    concept = {"text": "VEGF", "coding": [{"display": "Vascular endothelial growth factor"}, {"code": "x"}]}
    assert concept_text(concept) == "VEGF Vascular endothelial growth factor"
    assert concept_text(None) == "" and concept_text("VEGF") == ""


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("12 pg/mL", "valueQuantity is not a Quantity"),
        ({"value": "12", "unit": "pg/mL"}, "valueQuantity.value is missing or not a number: '12'"),
        ({"value": True, "unit": "pg/mL"}, "valueQuantity.value is missing or not a number: True"),
        ({"unit": "pg/mL"}, "valueQuantity.value is missing or not a number: None"),
    ],
)
def test_a_quantity_that_is_none_says_which_element_and_why(q, message):
    with pytest.raises(ResourceError) as caught:
        quantity(q, "valueQuantity", "pg/mL", {})
    assert str(caught.value) == message


@pytest.mark.parametrize("target", ["1", "{ratio}"])
def test_a_ratio_needs_no_unit_and_keeps_its_comparator(target):
    v = quantity({"value": 2.5, "comparator": ">"}, "valueQuantity", target, {})
    assert (v.value, v.unit, v.comparator) == (2.5, target, ">")


def test_a_value_beyond_a_float_after_conversion_is_refused_by_name():
    with pytest.raises(ResourceError) as caught:
        convert_value(1e308, "g/L", "mg/L", {}, None, None, "valueQuantity")
    assert str(caught.value) == "valueQuantity.value 1e+308 g/L is out of range in mg/L"


def test_a_range_bound_names_itself_in_its_error():
    with pytest.raises(ResourceError) as caught:
        range_value({"low": {"value": "x", "unit": "pg/mL"}}, "valueRange", "pg/mL", {})
    assert str(caught.value).startswith("valueRange.low.value is missing or not a number")


def test_a_range_converts_its_bounds_with_the_molar_mass():
    # creatinine 88.4-176.8 umol/L with 113.12 g/mol: 1.0-2.0 mg/dL
    r = {
        "low": {"value": 88.4, "system": UCUM, "code": "umol/L"},
        "high": {"value": 176.8, "system": UCUM, "code": "umol/L"},
    }
    v = range_value(r, "valueRange", "mg/dL", {}, 113.12)
    assert v.value == pytest.approx(1.0, rel=1e-3) and v.high == pytest.approx(2.0, rel=1e-3)


@pytest.mark.parametrize("sides", [("low",), ("high",), ("low", "high")])
def test_a_range_keeps_how_its_bounds_were_read(sides):
    # "mg/dl" is a lab spelling of mg/dL: the note says so, whichever bounds the range has
    r = {side: {"value": 1.0 if side == "low" else 2.0, "unit": "mg/dl"} for side in sides}
    v = range_value(r, "valueRange", "mg/dL", ALIASES)
    assert v.notes and all("mg/dl" in note for note in v.notes)
