"""A response time point as the JSON output shows it (README "JSON output": baseline, nadir and latest
of each response framework): the value rounded to 4 decimals, its unit, the date and the source
resource the value came from."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.response import Point


def test_a_response_point_has_value_unit_date_and_source():
    point = Point(0.123456, "g/dL", dt.date(2019, 3, 1), "Observation/m1")
    assert point.to_dict() == {
        "value": 0.1235,
        "unit": "g/dL",
        "effective": "2019-03-01",
        "reference": "Observation/m1",
    }


def test_a_point_without_a_date_or_unit_says_so():
    assert Point(2.0, None, None, "Observation/m2").to_dict() == {
        "value": 2.0,
        "unit": None,
        "effective": None,
        "reference": "Observation/m2",
    }


def test_an_immunofixation_point_says_what_it_found():
    # probe42: {"value": 1.0, "unit": null} for a positive immunofixation read like a measurement
    for analyte, value, result in (("serum_ife", 1.0, "positive"), ("urine_ife", 0.0, "negative")):
        point = Point(value, None, dt.date(2024, 10, 1), "Observation/ife", analyte=analyte)
        assert point.to_dict() == {
            "value": value,
            "unit": None,
            "effective": "2024-10-01",
            "reference": "Observation/ife",
            "analyte": analyte,
            "result": result,
        }
    # a measured analyte keeps the plain form
    assert "analyte" not in Point(7.7, "g/L", None, "Observation/m", analyte="serum_m_protein").to_dict()
