from __future__ import annotations

import pytest

from poems_fhir.mapping.units import UnitError, convert


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected", "molar"),
    [
        (1, "pg/mL", "ng/L", 1, None),
        (1, "g/dL", "g/L", 10, None),
        (700, "mg/dL", "g/L", 7, None),
        (1, "10*3/uL", "10*9/L", 1, None),
        (1, "L/L", "%", 100, None),
        (1, "g/(24.h)", "mg/(24.h)", 1000, None),
        (1, "mg/dL", "mg/L", 10, None),
        (1, "u[IU]/mL", "m[IU]/L", 1, None),
        (105, "umol/L", "mg/dL", 1.1877, 113.12),
        (1, "mg/dL", "umol/L", 88.40, 113.12),
        (1, "ng/dL", "pmol/L", 12.87, 776.87),
        (0.05, "{ratio}", "{ratio}", 0.05, None),
        (0.05, "1", "{ratio}", 0.05, None),
        (46, "mL/min", "mL/min/{1.73_m2}", 46, None),
    ],
)
def test_conversions(value, src, dst, expected, molar):
    assert convert(value, src, dst, molar) == pytest.approx(expected, rel=1e-3)


def test_unknown_unit_is_an_error_not_a_guess():
    with pytest.raises(UnitError, match="not a valid UCUM unit"):
        convert(1, "furlongs", "g/L")


def test_incommensurable_units_are_an_error():
    with pytest.raises(UnitError, match="dimensions differ"):
        convert(1, "g/L", "mmol/L")


@pytest.mark.parametrize(
    "unit",
    [
        "10^99999999/L",  # computed digit by digit by the library: minutes (fuzzprobe3 D1)
        "10*999/L",
        "10*-999/L",  # a factor of 1e-1008: every platelet count 0
        "g" + ".g" * 60,  # the parser's cost grows faster than the length (fuzzprobe3 D2)
        "m" * 101,
        "12345678901.L",
    ],
)
def test_units_far_beyond_any_clinical_unit_are_refused_before_the_library_parses_them(unit, monkeypatch):
    import poems_fhir.mapping.units as units

    monkeypatch.setattr(units, "_registry", lambda: pytest.fail("the library was asked"))
    units._parse.cache_clear()
    with pytest.raises(UnitError, match="not a usable unit"):
        units.validate_unit(unit)


@pytest.mark.parametrize(
    "unit", ["10*12/L", "10^9/L", "mL/min/{1.73_m2}", "/100{WBCs}", "g/(24.h)", "{" + "x" * 90 + "}"]
)
def test_clinical_units_pass_the_bounds(unit):
    from poems_fhir.mapping.units import _bounded

    _bounded(unit)  # raises if refused
