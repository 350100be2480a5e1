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
