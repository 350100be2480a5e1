"""The diabetes cut-off of the pancreatic axis needs no lab range (probe62 D13/D14): an HbA1c of
55 mmol/mol (>= 48, mappings/default.yaml hba1c_diabetes_ifcc, UNVERIFIED) or 7.2 % (>= 6.5 %,
hba1c_diabetes_ngsp) is diabetes whatever the lab's normal range; it was "not judged" without one."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

UCUM = "http://unitsofmeasure.org"


def hba1c(value: float, unit: str, **kw):
    q = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return observation("4548-4", "a1c", valueQuantity=q, **kw)


def pancreatic(mapping, resource):
    out = extract(make_record(resource), mapping)
    return [(f.state, f.note) for f in out.findings if f.axis is not None and f.axis.value == "pancreatic"]


@pytest.mark.parametrize(("value", "unit"), [(55, "mmol/mol"), (48, "mmol/mol"), (7.2, "%"), (6.5, "%")])
def test_at_or_above_the_diabetes_cut_without_a_range_is_diabetes(mapping, value, unit):
    [(state, _)] = pancreatic(mapping, hba1c(value, unit))
    assert state is State.PRESENT


@pytest.mark.parametrize(("value", "unit"), [(47, "mmol/mol"), (6.4, "%")])
def test_below_the_cut_without_a_range_is_not_judged(mapping, value, unit):
    [(state, note)] = pancreatic(mapping, hba1c(value, unit))
    assert state is State.INDETERMINATE and note == "hba1c: no reference range or interpretation to judge the value"
