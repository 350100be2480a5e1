"""probe103 D1: a referenceRange whose low limit lies above its high limit was read as it stood - a normal
cortisol judged against "low 23, high 5" was low (adrenal axis present) and the patient `met`, in silence.
Such a range is not read: the default limits decide, and it is listed with the resource (still read)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.values import ReversedRangeError, reference_range
from tests.conftest import make_record, observation

UCUM = "http://unitsofmeasure.org"
ENDO = Criterion.ENDOCRINOPATHY.value
PLATELETS = Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value


def q(value, unit="ug/dL"):
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def cortisol(*ranges):
    return observation("2143-6", "cort", valueQuantity=q(12), referenceRange=list(ranges))


def endocrine(ex):
    return [f.state for f in ex.findings if f.topic == ENDO]


def test_a_reversed_range_is_not_read_and_is_listed(mapping):
    right = extract(make_record(cortisol({"low": q(5), "high": q(23)})), mapping)
    assert State.PRESENT not in endocrine(right) and right.errors == []
    ex = extract(make_record(cortisol({"low": q(23), "high": q(5)})), mapping)
    assert State.PRESENT not in endocrine(ex)  # it was present: 12 below the "low" limit 23
    [error] = ex.errors
    assert error.resource == "Observation/cort"
    assert error.message == (
        "cortisol: the lab's range low 23 ug/dL, high 5 ug/dL has its low limit above its high limit (low and "
        "high swapped?): not read - the default limits decide; send the range the right way round"
    )


def test_a_reversed_text_range_is_not_read_either(mapping):
    ex = extract(make_record(cortisol({"text": "23-5 ug/dL"})), mapping)
    assert State.PRESENT not in endocrine(ex)
    assert [e.message.split(": not read")[0] for e in ex.errors] == [
        "cortisol: the lab's range '23-5 ug/dL' has its low limit above its high limit (low and high swapped?)"
    ]


def test_a_reversed_platelet_range_makes_no_thrombocytosis(mapping):
    # 300 x10^9/L is normal; against "low 450, high 150" it was read as neither high nor low consistently
    plt = observation(
        "777-3",
        "plt",
        valueQuantity=q(500, "10*9/L"),
        referenceRange=[{"low": q(600, "10*9/L"), "high": q(150, "10*9/L")}],
    )
    ex = extract(make_record(plt), mapping)
    # the default upper limit (450) decides: 500 is above it
    assert [f.state for f in ex.findings if f.topic == PLATELETS] == [State.PRESENT]
    assert len(ex.errors) == 1 and "low 600 10*9/L, high 150 10*9/L" in ex.errors[0].message


@pytest.mark.parametrize(("low", "high"), [(5, 5), (0, 23)])
def test_a_point_or_a_zero_low_range_is_read(low, high):
    got = reference_range(cortisol({"low": q(low), "high": q(high)}), "ug/dL", {}, None)
    assert got is not None and (got.low, got.high) == (low, high)


def test_the_error_is_a_disagreement_of_ranges_for_the_callers():
    with pytest.raises(ReversedRangeError):
        reference_range(cortisol({"low": q(23), "high": q(5)}), "ug/dL", {}, None)
