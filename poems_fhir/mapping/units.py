# SPDX-License-Identifier: Apache-2.0
"""UCUM unit conversion backed by ucumvert (a maintained UCUM grammar on top of pint).

Only two things are ours: annotation-only units (``{ratio}``) mean 1 in UCUM but ucumvert returns
a token for them, and molar <-> mass conversions need the analyte's molar mass, which UCUM cannot
know. An unknown or incommensurable unit raises :class:`UnitError`; we never guess. The library's
answers to the questions every run asks are kept in ``ucum_table.json`` (see ucum_table.py), so a
run builds the library's registry (~1 s) only for a unit or a pair the table does not hold.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .ucum_table import table

ANNOTATION_ONLY = re.compile(r"^\{[^{}]*\}$")


class UnitError(ValueError):
    """A unit could not be parsed or converted; the observation carrying it is skipped."""


@lru_cache(maxsize=1)
def _registry() -> Any:
    # Importing pint and building the registry costs ~1 s, so do it once and only when needed.
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


#: the longest unit the library is asked to parse: clinical UCUM units are a few dozen characters
#: ("mL/min/{1.73_m2}"), and the parser's time and memory grow faster than the length (a 2,000-character
#: unit took seconds, 20,000 characters most of a gigabyte: fuzzprobe3 D2)
MAX_UNIT_LENGTH = 100
_ANNOTATION = re.compile(r"\{[^{}]*\}")
#: an exponent of 3+ digits (clinical units go to 10*12; 10^99999999 is computed digit by digit:
#: minutes, fuzzprobe3 D1), or a number of 10+ digits; annotations are free text and not looked at
_HUGE_NUMBER = re.compile(r"(?:[*^]|[A-Za-z\]\)])[+-]?\d{3,}|\d{10,}")


def _bounded(unit: str) -> None:
    if len(unit) > MAX_UNIT_LENGTH:
        raise UnitError(f"{unit[:40]!r}… is not a usable unit ({len(unit):,} characters; at most {MAX_UNIT_LENGTH})")
    if _HUGE_NUMBER.search(_ANNOTATION.sub("", unit)):
        raise UnitError(f"{unit!r} is not a usable unit (an exponent or number far beyond any clinical unit)")


@lru_cache(maxsize=512)
def _parse(unit: str) -> Any:
    if ANNOTATION_ONLY.match(unit) or unit == "":
        return _registry().from_ucum("1")
    _bounded(unit)
    try:
        parsed = _registry().from_ucum(unit)
    except Exception as exc:  # ucumvert raises its own and pint's errors
        raise UnitError(f"{unit!r} is not a valid UCUM unit ({exc.__class__.__name__})") from None
    if not hasattr(parsed, "to"):
        raise UnitError(f"{unit!r} is not a valid UCUM unit")
    return parsed


def validate_unit(unit: str) -> None:
    """Raise UnitError when ``unit`` is not UCUM."""
    if unit not in table().valid:  # the library's own earlier answer (ucum_table.py)
        _parse(unit)


@lru_cache(maxsize=2048)
def conversion_factor(from_unit: str, to_unit: str, molar_mass: float | None = None) -> float:
    """Factor f such that value[from_unit] * f = value[to_unit].

    ``molar_mass`` (g/mol) bridges amount-of-substance and mass units, e.g. creatinine
    umol/L -> mg/dL with 113.12 g/mol.
    """
    if from_unit == to_unit:
        return 1.0
    factors = table().factors
    if (from_unit, to_unit, molar_mass) not in factors:
        return library_factor(from_unit, to_unit, molar_mass)
    known = factors[(from_unit, to_unit, molar_mass)]
    if known is None:
        raise UnitError(_incommensurable(from_unit, to_unit))
    return float(known)


def _incommensurable(from_unit: str, to_unit: str) -> str:
    return f"cannot convert {from_unit!r} to {to_unit!r}: the dimensions differ"


def library_factor(from_unit: str, to_unit: str, molar_mass: float | None = None) -> float:
    """conversion_factor as the library answers it (ucum_table.py writes its table from this)."""
    source, target = _parse(from_unit), _parse(to_unit)
    ratio = source / target
    try:
        return float(ratio.to("dimensionless").magnitude)
    except Exception:  # noqa: S110 - dimensions differ: try the molar-mass conversion below
        pass
    if molar_mass:
        mol_mass = molar_mass * (_registry().from_ucum("g") / _registry().from_ucum("mol"))
        for candidate in (ratio * mol_mass, ratio / mol_mass):
            try:
                return float(candidate.to("dimensionless").magnitude)
            except Exception:  # noqa: S112 - this direction does not convert: try the other
                continue
    raise UnitError(_incommensurable(from_unit, to_unit))


#: significant digits a converted value keeps: a lab value has at most ~7, and binary noise starts at
#: the 16th (300 ng/L is 300.00000000000006 pg/mL, 1.13 g/dL 11.299999999999999 g/L unrounded, which
#: then misses a cut-off or a "50 % fall" that the value meets exactly)
CONVERTED_DIGITS = 12


def convert(value: float, from_unit: str, to_unit: str, molar_mass: float | None = None) -> float:
    if from_unit == to_unit:
        return value
    return float(f"{value * conversion_factor(from_unit, to_unit, molar_mass):.{CONVERTED_DIGITS}g}")
