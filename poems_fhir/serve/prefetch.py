# SPDX-License-Identifier: Apache-2.0
"""Prefetch templates from the compiled mapping, and one patient's record from prefetch + fallback.

The templates are the sync job's per-patient searches (sync/sources.py, built from the compiled
mapping by `_codes_by_type`): Observations by the codes the mapping knows (in chunks, with their
Specimen), and the patient's Conditions, Procedures and DiagnosticReports (these three are read
whole because ICD-10 variants and report texts are recognised while reading, not by a search code),
plus the medication resources (treatment: response timeline and pathway on the card's page).
A lab result known only by its display text (the mapping's synonyms are patterns, not search terms)
cannot be found by code: map the site's local codes, or set `all-observations`.

A key that is absent, null, not a well-formed search result (no `type`, an entry without a resource,
fewer entries than its `total` with no page to follow), a searchset Bundle with a `next` link (the EHR stopped paging) or one
whose OperationOutcome entry says the search failed or is incomplete (severity error/fatal, or an
issue code such as `incomplete`, `timeout`, `too-costly`) is fetched from the EHR's `fhirServer` with the `fhirAuthorization` token through the sync job's
FhirClient: the same origin rule (the token never goes to another host, redirects are not followed,
a paging `next` link to another origin is refused), paging guard, retries and deadlines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..fhir.outcome import failed_search_outcome
from ..fhir.ids import FHIR_ID as ID_PATTERN
from ..fhir.read import PatientRecord, records_from_resources
from ..mapping.rules import CompiledMapping
from ..sync.sources import CODE_CHUNK, _chunks, _codes_by_type

#: a FHIR logical id (FHIR R4 `id` datatype, not "." or "..": fhir/ids.py)
FHIR_ID = re.compile(rf"^{ID_PATTERN}$")
PATIENT = "{{context.patientId}}"


class InsufficientData(Exception):
    """The record cannot be completed: prefetch missing or partial and no usable fhirServer (-> 412)."""


class TooLarge(Exception):
    """More resources than the service accepts for one patient (-> 413)."""


@dataclass(frozen=True)
class Query:
    """One prefetch key: a read of the Patient or a search for one resource type."""

    key: str
    resource_type: str
    params: tuple[tuple[str, str], ...] = ()  # without the patient parameter

    @property
    def is_read(self) -> bool:
        return self.resource_type == "Patient"

    def template(self) -> str:
        if self.is_read:
            return f"Patient/{PATIENT}"
        query = "&".join(f"{k}={quote(v, safe='|,:/.-_')}" for k, v in self.params)
        return f"{self.resource_type}?patient={PATIENT}" + (f"&{query}" if query else "")

    def search_params(self, patient_id: str) -> dict[str, Any]:
        params: dict[str, Any] = {"patient": patient_id}
        for k, v in self.params:
            params.setdefault(k, [])
            params[k].append(v)
        return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in params.items()}


def queries(mapping: CompiledMapping, all_observations: bool = False) -> list[Query]:
    """The prefetch keys. ``all_observations``: one search for every Observation of the patient instead
    of the searches by code (for sites whose lab results carry unmapped local codes or text only)."""
    codes = _codes_by_type(mapping)
    out = [Query("patient", "Patient")]
    chunks = [[]] if all_observations else _chunks(codes["Observation"], CODE_CHUNK)
    for i, chunk in enumerate(chunks, start=1):
        params = (("code", ",".join(chunk)), ("_include", "Observation:specimen"), ("_count", "200"))
        out.append(
            Query(
                f"observations{i}" if len(chunks) > 1 else "observations",
                "Observation",
                params if chunk else params[1:],
            )
        )
    out.append(Query("conditions", "Condition", (("_count", "200"),)))
    out.append(Query("procedures", "Procedure", (("_count", "200"),)))
    out.append(Query("reports", "DiagnosticReport", (("_count", "200"),)))
    # treatment (the response timeline and the work-up pathway on the card's page)
    for rtype in ("MedicationRequest", "MedicationStatement", "MedicationAdministration"):
        include = f"{rtype}:medication"
        out.append(Query(f"{rtype.lower()}s", rtype, (("_include", include), ("_count", "200"))))
    return out


def templates(mapping: CompiledMapping, all_observations: bool = False) -> dict[str, str]:
    return {q.key: q.template() for q in queries(mapping, all_observations)}


def _complete(value: Any, query: Query, patient_id: str) -> bool:
    """Whether a prefetch value answers its key in full."""
    if not isinstance(value, dict):
        return False
    if query.is_read:
        # another patient's Patient is no answer to "Patient/{{context.patientId}}" (probe44: it was
        # taken as read, and the card went out without the context patient's sex and age)
        return value.get("resourceType") == "Patient" and value.get("id") == patient_id
    if value.get("resourceType") != "Bundle":
        return False
    if not _well_formed(value):
        return False
    links = value.get("link") or []
    if any(isinstance(link, dict) and link.get("relation") == "next" for link in links):
        return False
    # an OperationOutcome entry saying the search failed or is incomplete (CDS Hooks: "services SHOULD
    # check any prefetched data for the existence of OperationOutcomes"): read again, or 412
    return failed_search_outcome(value) is None


def _well_formed(bundle: dict[str, Any]) -> bool:
    """A search result as FHIR defines one: a ``type``, ``entry`` a list of entries each holding a
    resource, and no more matches announced (``total``) than it holds with no page to follow. Anything
    else is no answer to the key (probe44: a Bundle without type or entries, an entry "x", were read as
    "no conditions" and the card said the recorded polyneuropathy was missing)."""
    if not isinstance(bundle.get("type"), str):
        return False
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        return False
    matches = 0
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            return False
        search = entry.get("search")
        if not (isinstance(search, dict) and search.get("mode") in ("include", "outcome")):
            matches += 1
    total = bundle.get("total")
    has_next = any(isinstance(link, dict) and link.get("relation") == "next" for link in bundle.get("link") or [])
    return not (type(total) is int and total > matches and not has_next)


def _resources(value: dict[str, Any]) -> list[dict[str, Any]]:
    if value.get("resourceType") != "Bundle":
        return [value]
    out = []
    entries = value.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        search = entry.get("search")
        if isinstance(search, dict) and search.get("mode") == "outcome":
            continue
        out.append(entry["resource"])
    return out


#: fetch(query, patient_id) -> resources of that key from the fhirServer
Fetch = Callable[[Query, str], list[dict[str, Any]]]


@dataclass
class Gathered:
    record: PatientRecord | None
    #: keys answered by prefetch / fetched from the fhirServer
    from_prefetch: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    resources: int = 0


def gather(
    patient_id: str, prefetch: dict[str, Any] | None, keys: list[Query], fetch: Fetch | None, max_resources: int
) -> Gathered:
    """The patient's record from the prefetch (``keys``: `queries(mapping)`), completing what is
    missing through ``fetch``."""
    prefetch = prefetch or {}
    resources: list[tuple[dict[str, Any], str]] = []
    done = Gathered(None)
    missing = []
    for q in keys:
        value = prefetch.get(q.key)
        if isinstance(value, dict) and _complete(value, q, patient_id):
            found = _resources(value)
            done.from_prefetch.append(q.key)
        else:
            missing.append(q)
            continue
        resources += [(r, f"prefetch:{q.key}") for r in found]
    if missing and fetch is None:
        raise InsufficientData(
            f"prefetch {', '.join(q.key for q in missing)} missing or incomplete and no "
            "fhirServer with a fhirAuthorization token to read it from"
        )
    for q in missing:
        if fetch is None:  # unreachable: refused above
            break
        found = fetch(q, patient_id)
        done.fetched.append(q.key)
        resources += [(r, f"fhirServer:{q.key}") for r in found]
        if len(resources) > max_resources:
            break
    if len(resources) > max_resources:
        raise TooLarge(f"more than {max_resources} resources for one patient")
    done.resources = len(resources)
    records, _errors = records_from_resources(resources)
    done.record = next((r for r in records if r.patient == f"Patient/{patient_id}"), None)
    return done
