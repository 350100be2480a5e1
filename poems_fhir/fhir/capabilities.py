# SPDX-License-Identifier: Apache-2.0
"""Read the server's CapabilityStatement once and choose strategies for what is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import FatalNetworkError, NotFhirServerError


@dataclass
class Capabilities:
    fhir_version: str
    last_updated: bool  # _lastUpdated search on the types we read
    conditional_update: bool
    transaction: bool
    post_search: bool = True
    notes: list[str] = field(default_factory=list)
    #: types whose CapabilityStatement entry declares the `history-type` interaction (GET [type]/_history)
    history_types: frozenset[str] = frozenset()
    #: the resource types the CapabilityStatement lists (optional reads, DocumentReference, are searched
    #: only where the server says it has them)
    types: frozenset[str] = frozenset()

    @property
    def incremental(self) -> str:
        return "lastUpdated" if self.last_updated else "full-rescan-with-hashes"

    @property
    def write_mode(self) -> str:
        return "transaction" if self.transaction else "ordered-conditional-updates"


READ_TYPES = ("Observation", "Condition", "Procedure", "DiagnosticReport")
#: the criterion Observations are contained in the report, never written on their own
WRITE_TYPES = ("DiagnosticReport", "CarePlan", "Provenance", "Device")


def parse_capabilities(statement: dict[str, Any]) -> Capabilities:
    if not isinstance(statement, dict) or statement.get("resourceType") != "CapabilityStatement":
        found = statement.get("resourceType") if isinstance(statement, dict) else None
        raise NotFhirServerError(
            f"metadata returned {'a ' + str(found)[:40] if isinstance(found, str) else 'JSON that is not FHIR'} "
            "instead of a CapabilityStatement: --server is not a FHIR base - is --server the FHIR base URL "
            "(the URL under which /metadata answers, often …/fhir/R4)?"
        )
    version = str(statement.get("fhirVersion", ""))
    if not version.startswith("4."):
        raise FatalNetworkError(f"the server speaks FHIR {version or 'of unknown version'}; poems-fhir needs R4 (4.x)")
    rest: dict[str, Any] = next(
        (r for r in statement.get("rest", []) or [] if isinstance(r, dict) and r.get("mode") == "server"), {}
    )
    resources = {r.get("type"): r for r in rest.get("resource", [])}
    notes = []

    def has_param(rtype: str, name: str) -> bool:
        params = {p.get("name") for p in resources.get(rtype, {}).get("searchParam", [])}
        params |= {p.get("name") for p in rest.get("searchParam", [])}
        return name in params

    last_updated = all(has_param(t, "_lastUpdated") for t in READ_TYPES if t in resources)
    conditional = all(resources.get(t, {}).get("conditionalUpdate", False) for t in WRITE_TYPES if t in resources)
    interactions = {i.get("code") for i in rest.get("interaction", [])}
    transaction = "transaction" in interactions
    if not last_updated:
        notes.append("no _lastUpdated search: every run rescans the cohort and compares content hashes")
    if not conditional:
        notes.append("conditional update not advertised: writes will still use it; the server may refuse")
    if not transaction:
        notes.append("no transaction interaction: writing ordered conditional updates, one request each")
    history_types = frozenset(
        t
        for t, r in resources.items()
        if isinstance(t, str)
        and isinstance(r, dict)
        and any(isinstance(i, dict) and i.get("code") == "history-type" for i in r.get("interaction") or [])
    )
    types = frozenset(t for t in resources if isinstance(t, str))
    return Capabilities(
        version, last_updated, conditional, transaction, notes=notes, history_types=history_types, types=types
    )
