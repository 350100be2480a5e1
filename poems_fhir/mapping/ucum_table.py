# SPDX-License-Identifier: Apache-2.0
"""Answers of the UCUM library worked out ahead of time, so that a run need not build it.

Building ucumvert's pint registry costs ~1 s, every run, before the first resource is read, yet a
run asks it the same few questions: is each unit of the mapping UCUM, and what factor turns a lab's
unit into a rule's. ``ucum_table.json`` (next to this file) holds those answers as ucumvert gave
them: the units known to be valid and the factors (or "incommensurable") between them, with the
ucumvert version that answered. ``units.py`` looks there first and asks the library only for what
the table does not hold; a table written by another ucumvert version is ignored.

The table is generated, never edited: ``python -m poems_fhir.mapping.ucum_table`` rewrites it from
the default mapping, the sample bundles and a list of common lab units. ``tests/mapping/test_ucum_table.py``
asks the library every question in it again and compares the answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).with_name("ucum_table.json")
#: units labs commonly send beside those the mapping names (after the unit table's folding)
COMMON_LAB_UNITS = (
    "g/L", "g/dL", "mg/dL", "mg/dl", "mg/L", "ug/L", "ng/mL", "ng/L", "pg/mL", "pg/ml", "ug/mL", "ug/dL",
    "mmol/L", "umol/L", "nmol/L", "pmol/L", "mol/L", "mg/d", "g/d", "mg/(24.h)", "g/(24.h)", "10*9/L",
    "10*3/uL", "10*3/mm3", "10*6/uL", "10*12/L", "/uL", "/mm3", "%", "[IU]/L", "m[IU]/L", "u[IU]/mL",
    "[iU]/L", "m[iU]/L", "u[iU]/mL", "U/L", "mU/L", "uU/mL", "mL/min", "mL/min/{1.73_m2}", "mm[Hg]", "kg",
    "g", "cm", "mm", "m", "s", "ms", "{ratio}", "1", "/L", "fL", "pg", "mg/g", "mg/mmol", "g/mol",
)  # fmt: skip


@dataclass(frozen=True)
class Table:
    valid: frozenset[str]
    #: (from, to, molar mass or None) -> factor, or None when the dimensions differ
    factors: dict[tuple[str, str, float | None], float | None]


def _key(from_unit: str, to_unit: str, molar_mass: float | None) -> str:
    return json.dumps([from_unit, to_unit, molar_mass])


def ucumvert_version() -> str:
    try:
        return metadata.version("ucumvert")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency of this package
        return "unknown"


@lru_cache(maxsize=1)
def table() -> Table:
    """The shipped table when ucumvert is the version that wrote it; else an empty one."""
    try:
        data = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Table(frozenset(), {})
    if not isinstance(data, dict) or data.get("ucumvert") != ucumvert_version():
        return Table(frozenset(), {})
    factors: dict[tuple[str, str, float | None], float | None] = {}
    for key, factor in data.get("factors", {}).items():
        a, b, mm = json.loads(key)
        factors[(a, b, mm)] = factor
    return Table(frozenset(data.get("valid", [])), factors)


def build(units: set[str], targets: set[tuple[str, float | None]]) -> dict[str, Any]:
    """Ask the library: which of ``units`` are valid, and the factor from each valid unit to each
    (rule unit, molar mass) of ``targets``."""
    from .units import UnitError, _parse, library_factor

    valid = set()
    for unit in units | {t for t, _ in targets}:
        try:
            _parse(unit)
        except UnitError:
            continue
        valid.add(unit)
    factors: dict[str, float | None] = {}
    for to_unit, molar_mass in sorted(targets, key=lambda t: (t[0], t[1] or 0.0)):
        if to_unit not in valid:
            continue
        for from_unit in sorted(valid):
            try:
                factors[_key(from_unit, to_unit, molar_mass)] = (
                    1.0 if from_unit == to_unit else library_factor(from_unit, to_unit, molar_mass)
                )
            except UnitError:
                factors[_key(from_unit, to_unit, molar_mass)] = None
    return {"ucumvert": ucumvert_version(), "valid": sorted(valid), "factors": factors}


def questions_of_default_mapping() -> tuple[set[str], set[tuple[str, float | None]]]:
    """The units the default mapping names, and its (rule unit, molar mass) targets."""
    from .rules import load_mapping

    mapping = load_mapping()
    units = set(COMMON_LAB_UNITS) | set(mapping.unit_aliases.values())
    targets: set[tuple[str, float | None]] = set()
    for threshold in mapping.thresholds.values():
        units.add(threshold.unit)
        targets.add((threshold.unit, None))
    for rules in mapping.by_code.values():
        for rule in rules:
            unit = getattr(rule.spec, "unit", None)
            if unit:
                units.add(unit)
                targets.add((unit, getattr(rule.spec, "molar_mass", None)))
    return units, targets


def main() -> None:
    units, targets = questions_of_default_mapping()
    data = build(units, targets)
    TABLE_PATH.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{TABLE_PATH}: {len(data['valid'])} units, {len(data['factors'])} factors (ucumvert {data['ucumvert']})")


if __name__ == "__main__":
    main()
