"""Small readers for FHIR JSON datatypes: dates, codings, quantities, reference ranges.

Each validates exactly what it reads and raises ResourceError with a message that names the
element, so a bad resource is reported and skipped instead of guessed at.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .units import UnitError, convert

UCUM = "http://unitsofmeasure.org"
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class ResourceError(ValueError):
    """One resource cannot be used; it is reported and skipped, the rest goes on."""


def parse_date(value: Any, element: str) -> dt.date | None:
    """FHIR date/dateTime/instant -> date. Partial dates ("2019-02") take their first day."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ResourceError(f"{element} is not a date string: {value!r}")
    m = _DATE.match(value)
    if not m:
        raise ResourceError(f"{element} is not a FHIR date: {value!r}")
    try:
        return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        raise ResourceError(f"{element} is not a valid date: {value!r}") from None


def codings(concept: Any) -> list[tuple[str | None, str | None, str | None]]:
    """(system, code, display) of a CodeableConcept; tolerant of missing parts."""
    if not isinstance(concept, dict):
        return []
    out = []
    for c in concept.get("coding") or []:
        if isinstance(c, dict):
            code = c.get("code")
            out.append((c.get("system"), str(code) if code is not None else None, c.get("display")))
    return out


def concept_text(concept: Any) -> str:
    """Everything a human could read in a CodeableConcept: text and displays."""
    if not isinstance(concept, dict):
        return ""
    parts = [concept.get("text") or ""]
    parts += [d for _, _, d in codings(concept) if d]
    return " ".join(p for p in parts if p)


def concept_label(concept: Any) -> str:
    """The one name a human would use: the text, else the first display."""
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    return next((d for _, _, d in codings(concept) if d), "")


@dataclass(frozen=True)
class Value:
    """A numeric value in the rule's canonical unit, with its comparator ("<", ">=", …)."""

    value: float
    unit: str | None
    comparator: str | None = None


def quantity(
    q: Any,
    element: str,
    target_unit: str | None,
    aliases: dict[str, str],
    molar_mass: float | None = None,
) -> Value:
    """Read a Quantity and convert it to ``target_unit`` with UCUM semantics."""
    if not isinstance(q, dict):
        raise ResourceError(f"{element} is not a Quantity")
    raw = q.get("value")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ResourceError(f"{element}.value is missing or not a number: {raw!r}")
    unit = q.get("code") if q.get("system") == UCUM and q.get("code") else q.get("unit") or q.get("code")
    comparator = q.get("comparator")
    if target_unit is None:
        return Value(float(raw), unit, comparator)
    if not unit:
        raise ResourceError(f"{element} has no unit (expected {target_unit}); not guessed")
    ucum_unit = aliases.get(str(unit), str(unit))
    try:
        return Value(convert(float(raw), ucum_unit, target_unit, molar_mass), target_unit, comparator)
    except UnitError as exc:
        raise ResourceError(f"{element}: {exc}") from None


@dataclass(frozen=True)
class Range:
    low: float | None
    high: float | None


def reference_range(
    obs: dict[str, Any], target_unit: str | None, aliases: dict[str, str], molar_mass: float | None
) -> Range | None:
    """The first usable referenceRange, converted like the value. None when there is none."""
    for i, rr in enumerate(obs.get("referenceRange") or []):
        if not isinstance(rr, dict) or rr.get("appliesTo"):
            continue
        low = high = None
        if rr.get("low") is not None:
            low = quantity(rr["low"], f"referenceRange[{i}].low", target_unit, aliases, molar_mass).value
        if rr.get("high") is not None:
            high = quantity(rr["high"], f"referenceRange[{i}].high", target_unit, aliases, molar_mass).value
        if low is not None or high is not None:
            return Range(low, high)
    return None


ABNORMAL_HIGH = {"H", "HH", "HU", ">"}
ABNORMAL_LOW = {"L", "LL", "LU", "<"}
ABNORMAL = {"A", "AA"} | ABNORMAL_HIGH | ABNORMAL_LOW
NORMAL = {"N"}
POSITIVE = {"POS", "DET"}
NEGATIVE = {"NEG", "ND"}


def interpretation_codes(obs: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for concept in obs.get("interpretation") or []:
        out.update(code for _, code, _ in codings(concept) if code)
    return out


def compare(value: Value, cut: float, operator: str) -> bool | None:
    """Whether ``value`` satisfies ``operator cut``; None when a comparator makes it undecidable."""
    v, comp = value.value, value.comparator
    # A censored value is a half-line; it decides only when all of it lies on one side of the cut
    # (">150" against ">= 200" may be 160 or 900; "<=200" may be exactly 200).
    if comp in ("<", "<="):  # the true value is at most v
        if operator in (">", ">="):
            impossible = v < cut if (operator == ">=" and comp == "<=") else v <= cut
            return False if impossible else None
        certain = v < cut if (operator == "<" and comp == "<=") else v <= cut
        return True if certain else None
    if comp in (">", ">="):  # the true value is at least v
        if operator in (">", ">="):
            certain = v > cut if (operator == ">" and comp == ">=") else v >= cut
            return True if certain else None
        impossible = v > cut if (operator == "<=" and comp == ">=") else v >= cut
        return False if impossible else None
    return {">": v > cut, ">=": v >= cut, "<": v < cut, "<=": v <= cut}[operator]
