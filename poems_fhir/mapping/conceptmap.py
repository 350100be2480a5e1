# SPDX-License-Identifier: Apache-2.0
"""Site ConceptMaps (R4 JSON, e.g. exported from a terminology server): local code -> standard code.

Only mappings that keep the meaning safe for classification are used: the target must be equal
to, or wider than, the local concept (equivalence ``equal``/``equivalent``/``wider``/``subsumes``).
A narrower or inexact target could turn a vaguer local finding into a criterion, so those
elements are skipped and listed by ``poems-fhir mappings check``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..fhir.read import read_regular_file

from .rules import MappingError, Problem, _line_index, _nearest_line

SAFE_EQUIVALENCE = frozenset({"equal", "equivalent", "wider", "subsumes"})


@dataclass
class ConceptMapTable:
    path: str
    name: str
    version: str
    sha256: str
    translations: dict[tuple[str, str], list[tuple[str, str]]]
    skipped: list[Problem] = field(default_factory=list)


def json_line_index(raw: bytes) -> dict[tuple[Any, ...], int]:
    """Line numbers of a JSON document's elements, for locating problems: JSON as written by
    terminology servers is YAML too, so YAML's composer gives the positions json.loads does not.
    Empty where it is not (a tab-indented or escape-heavy file): the problem is then named by path."""
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(raw.decode("utf-8-sig"))
        try:
            return _line_index(loader.get_single_node())
        finally:
            loader.dispose()
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return {}


def load_concept_map(path: str | Path) -> ConceptMapTable:
    from fhir.resources.R4B.conceptmap import ConceptMap
    from pydantic import ValidationError

    name = str(path)
    try:
        raw = read_regular_file(Path(path))
        data = json.loads(raw)
    except RecursionError:
        raise MappingError(
            [
                Problem(
                    name,
                    None,
                    "(file)",
                    "cannot read ConceptMap JSON: nested too deeply",
                    "export the ConceptMap as FHIR R4 JSON",
                )
            ]
        ) from None
    except (OSError, ValueError) as exc:
        raise MappingError(
            [
                Problem(
                    name, None, "(file)", f"cannot read ConceptMap JSON: {exc}", "export the ConceptMap as FHIR R4 JSON"
                )
            ]
        ) from None
    if not isinstance(data, dict) or data.get("resourceType") != "ConceptMap":
        raise MappingError(
            [
                Problem(
                    name,
                    None,
                    "resourceType",
                    "not a ConceptMap",
                    "pass a FHIR ConceptMap resource (JSON), or a YAML mapping file",
                )
            ]
        )
    try:
        ConceptMap.model_validate(data)
    except ValidationError as exc:
        lines = json_line_index(raw)
        raise MappingError(
            [
                Problem(
                    name,
                    _nearest_line(lines, tuple(e["loc"])),
                    ".".join(map(str, e["loc"])),
                    e["msg"],
                    "fix the ConceptMap so it is valid FHIR R4",
                )
                for e in exc.errors()
            ]
        ) from None
    translations: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    skipped: list[tuple[tuple[Any, ...], Problem]] = []  # with the element's path, for its line
    # JSON null is absent in FHIR (fhir.resources accepts "target": null): `or []` throughout
    for gi, group in enumerate(data.get("group") or []):
        source, target = group.get("source"), group.get("target")
        if not source or not target:
            skipped.append(
                (
                    ("group", gi),
                    Problem(
                        name,
                        None,
                        f"group[{gi}]",
                        "group without source or target system",
                        "set group.source and group.target",
                    ),
                )
            )
            continue
        for ei, element in enumerate(group.get("element") or []):
            for ti, tgt in enumerate(element.get("target") or []):
                equivalence = tgt.get("equivalence") or "equivalent"
                key = f"group[{gi}].element[{ei}].target[{ti}]"
                if equivalence not in SAFE_EQUIVALENCE or not tgt.get("code") or not element.get("code"):
                    skipped.append(
                        (
                            ("group", gi, "element", ei, "target", ti),
                            Problem(
                                name,
                                None,
                                key,
                                f"{element.get('code')} -> {tgt.get('code')} skipped (equivalence {equivalence!r})",
                                "only equal/equivalent/wider/subsumes mappings are used",
                            ),
                        )
                    )
                    continue
                translations[(source, element["code"])].append((target, tgt["code"]))
    return ConceptMapTable(
        path=name,
        name=data.get("name") or data.get("id") or Path(path).stem,
        version=data.get("version", ""),
        sha256=hashlib.sha256(raw).hexdigest(),
        translations=dict(translations),
        skipped=_with_lines(skipped, raw),
    )


def _with_lines(skipped: list[tuple[tuple[Any, ...], Problem]], raw: bytes) -> list[Problem]:
    lines = json_line_index(raw) if skipped else {}
    return [dataclasses.replace(problem, line=_nearest_line(lines, path)) for path, problem in skipped]
