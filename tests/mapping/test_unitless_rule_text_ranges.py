"""A rule without a unit (prolactin: ng/mL <-> mIU/L is assay-dependent) keeps the value in the unit it
was written in; the lab's text range is read in that unit too (probe62 D15: "4-15", "4,0 - 15,2 нг/мл"
were never read, so a prolactin of 45 ng/mL was "not judged")."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

UCUM = "http://unitsofmeasure.org"


def prolactin(value: float, unit: str, text: str):
    return observation(
        "2842-3",
        "prl",
        valueQuantity={"value": value, "unit": unit, "system": UCUM, "code": unit},
        referenceRange=[{"text": text}],
    )


def endocrine(mapping, resource):
    out = extract(make_record(resource), mapping)
    return [(f.state, f.axis.value if f.axis else None) for f in out.findings if f.topic == "endocrinopathy"]


@pytest.mark.parametrize("text", ["4-15", "4.0 - 15.2 ng/mL", "4,0-15,2", "4,0 - 15,2 нг/мл"])
def test_a_text_range_in_the_values_own_unit_judges_it(mapping, text):
    assert endocrine(mapping, prolactin(45, "ng/mL", text)) == [(State.PRESENT, "pituitary")]
    assert endocrine(mapping, prolactin(10, "ng/mL", text)) == [(State.ABSENT, "pituitary")]


def test_a_text_range_in_a_unit_the_value_cannot_be_converted_to_is_not_used(mapping):
    # 80-300 mIU/L beside a value in ng/mL: no fixed factor between them, so the range judges nothing
    assert (State.PRESENT, "pituitary") not in endocrine(mapping, prolactin(45, "ng/mL", "80-300 mIU/L"))
