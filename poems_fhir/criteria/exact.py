# SPDX-License-Identifier: Apache-2.0
"""Decimal arithmetic for the response rules' boundaries.

Lab values are decimals ("11.3 g/L", "5.65 g/L"); as binary floats, 11.3 * 0.5, 0.15 / 0.1 or
50.3 - 10.3 come out a hair off, and a fall of exactly 50 % (a rise of exactly 25 %) would land on
either side of its boundary depending on the digits. Each float here is read as the shortest decimal
that gives it back (``repr``: what the lab sent, or a converted value rounded by ``units.convert``),
and the arithmetic and the comparison are done in decimal, so a boundary holds exactly where
criteria.md puts it.
"""

from __future__ import annotations

from decimal import Decimal


def dec(x: float) -> Decimal:
    """``x`` as the decimal it was written as (the shortest one that round-trips)."""
    return Decimal(repr(float(x)))


def at_least(value: float, reference: float, factor: float = 1.0) -> bool:
    """value >= reference x factor, in decimal."""
    return dec(value) >= dec(reference) * dec(factor)


def at_most(value: float, reference: float, factor: float = 1.0) -> bool:
    """value <= reference x factor, in decimal."""
    return dec(value) <= dec(reference) * dec(factor)


def difference(a: float, b: float) -> float:
    """a - b, exact in decimal, then the nearest float (50.3 - 10.3 = 40.0, not 39.99999999999999)."""
    return float(dec(a) - dec(b))


def relative_change(new: float, base: float) -> float:
    """(new - base) / base, in decimal, then the nearest float: -0.5 for 11.3 -> 5.65. ``base`` != 0."""
    return float((dec(new) - dec(base)) / dec(base))
