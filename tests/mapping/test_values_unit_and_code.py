"""A Quantity's `unit` (what people see) and UCUM `code` (what machines read) that disagree (probe81 D9):
VEGF shown "150 pg/mL" but coded "ng/mL" was read as 150,000 pg/mL - present, the patient met - with no
input problem. Both converting to the rule's unit but to different values: the value is refused and
listed, naming both; a unit that is only another spelling of the code's unit is read."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation, not_read

UCUM = "http://unitsofmeasure.org"


def quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def test_vegf_whose_unit_and_code_disagree_is_refused_and_listed(mapping):
    ex = extract(make_record(observation("75628-8", "v1", valueQuantity=quantity(150, "pg/mL", "ng/mL"))), mapping)
    assert not_read([f for f in ex.findings if f.topic == "vegf_elevation"])
    (error,) = ex.errors
    assert error.resource == "Observation/v1"
    assert error.message == (
        "valueQuantity: unit 'pg/mL' and code 'ng/mL' disagree (150 pg/mL vs 150000 pg/mL): not read - "
        "fix the unit or the code"
    )


@pytest.mark.parametrize(
    ("code", "value", "unit", "ucum", "state"),
    [
        ("777-3", 480, "K/uL", "10*3/uL", State.PRESENT),  # a display spelling of the code's unit
        ("777-3", 480, "x10^9/L", "10*9/L", State.PRESENT),
        ("75628-8", 150, "pg/ml", "pg/mL", State.ABSENT),  # case of a display
        ("777-3", 480, "platelets per nanolitre", "10*3/uL", State.PRESENT),  # a unit text no table knows
    ],
)
def test_a_unit_that_only_spells_the_codes_unit_is_read(mapping, code, value, unit, ucum, state):
    ex = extract(make_record(observation(code, "o1", valueQuantity=quantity(value, unit, ucum))), mapping)
    assert ex.errors == []
    assert [f.state for f in ex.findings] == [state]


def test_a_platelet_count_whose_unit_and_code_disagree_is_refused(mapping):
    ex = extract(make_record(observation("777-3", "o1", valueQuantity=quantity(480, "/uL", "10*3/uL"))), mapping)
    assert not_read(ex.findings)
    assert [e.message.split(":")[0] for e in ex.errors] == ["valueQuantity"]
    assert "disagree (0.48 10*9/L vs 480 10*9/L)" in ex.errors[0].message
