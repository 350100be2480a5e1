"""A unit written with spaces around its operator ("450 x 10E9 / L", "32 g / L"), as letters and forms
abstracted by hand write it: the "L" after the "/" is the litre, not a "low" flag (it was taken for one,
and the rest, "x10E9/", refused as no UCUM unit: the platelet count lost). A flag after a whole unit
("520 x 10E9 / L H", "30 g / L L") is still a flag; a refused unit is named as the source wrote it."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

PLATELETS, ALBUMIN = "777-3", "1751-7"


def _read(mapping, code: str, text: str):
    return extract(make_record(observation(code, valueString=text)), mapping)


@pytest.mark.parametrize(
    ("code", "text", "value", "unit"),
    [
        (PLATELETS, "450 x 10E9 / L", 450.0, "10*9/L"),
        (PLATELETS, "612 x10^9 / L", 612.0, "10*9/L"),
        (ALBUMIN, "32 g / L", 32.0, "g/L"),
        (ALBUMIN, "3.1 g / dL", 31.0, "g/L"),
        (ALBUMIN, "29 g/ L", 29.0, "g/L"),
    ],
)
def test_a_unit_spaced_around_its_slash_is_read_whole(mapping, code, text, value, unit):
    found = _read(mapping, code, text)
    assert found.errors == []
    (m,) = found.measurements
    assert (m.value, m.unit) == (pytest.approx(value), unit)


def test_a_flag_after_a_spaced_unit_is_still_a_flag(mapping):
    high = _read(mapping, PLATELETS, "520 x 10E9 / L H")
    (finding,) = [f for f in high.findings if f.topic == "thrombocytosis_polycythemia"]
    assert finding.state.value == "present" and "(high)" in finding.evidence.summary
    low = _read(mapping, ALBUMIN, "30 g / L L")
    assert low.errors == [] and [(m.value, m.unit) for m in low.measurements] == [(30.0, "g/L")]


def test_a_refused_unit_is_named_as_written(mapping):
    found = _read(mapping, PLATELETS, "1 E3 x10^9/L")
    (error,) = found.errors
    assert "(written 'E3 x10^9/L')" in error.message
