"""probe130 G5: a Quantity whose unit text carries the band's bracketed share of the total protein ("г/л (12,1%)",
seed_case.md's notation, as `valueQuantity.unit` with no UCUM code) was no unit: the M-protein was used for presence
only and the partial response of seed_case.md T1 (7.7 -> 3.7 g/L, -52 %) was lost."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.values import UnitlessError, UnitRejected, quantity


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ({"value": 7.7, "unit": "г/л (12,1%)"}, 7.7),
        ({"value": 0.77, "unit": "g/dL (12.1 %)"}, 7.7),
        ({"value": 7.7, "unit": "g/L (12%)", "system": "http://unitsofmeasure.org", "code": "g/L"}, 7.7),
        ({"value": 7.7, "unit": "g/L"}, 7.7),  # control
    ],
)
def test_a_bracketed_share_after_the_unit_is_no_part_of_it(q, expected):
    value = quantity(q, "valueQuantity", "g/L", {"г/л": "g/L"})
    assert value.unit == "g/L"
    assert value.value == pytest.approx(expected)


@pytest.mark.parametrize(
    "unit",
    [
        "г/л (12,1% IgG kappa)",  # words beside the share: not a share alone
        "(12,1%)",  # a share and no unit
    ],
)
def test_other_brackets_are_still_no_unit(unit):
    with pytest.raises((UnitRejected, UnitlessError, ValueError)):
        quantity({"value": 7.7, "unit": unit}, "valueQuantity", "g/L", {"г/л": "g/L"})


# probe130 G9: the Kazakh year abbreviation «2019 ж.» as a transplant's performedString is its year
@pytest.mark.parametrize("text", ["2019 ж.", "2019 ж", "2019 жылы", "в 2019 г."])
def test_a_year_alone_in_kazakh_and_russian(text):
    from poems_fhir.mapping.extract import year_alone

    day = year_alone(text)
    assert day is not None and day.year == 2019 and getattr(day, "precision", None) == "year"
