# SPDX-License-Identifier: Apache-2.0
"""Prefetch templates from the compiled mapping, and one patient's record from prefetch + fallback.

The templates are the sync job's per-patient searches (sync/sources.py, built from the compiled
mapping by `_codes_by_type`): Observations by the codes the mapping knows (in chunks, with their
Specimen), and the patient's Conditions, Procedures and DiagnosticReports (these three are read
whole because ICD-10 variants and report texts are recognised while reading, not by a search code),
plus the medication resources (treatment: response timeline and pathway on the card's page) and the
patient's clinical notes (DocumentReference, as the sync job reads them where the server lists the type).
A lab result known only by its display text (the mapping's synonyms are patterns, not search terms)
cannot be found by code: map the site's local codes, or set `all-observations`.

A key that is absent, null, not a well-formed search result (no `type`, an entry without a resource,
fewer entries than its `total` with no page to follow), a searchset Bundle with a `next` link (the EHR stopped paging) or one
whose OperationOutcome entry says the search failed or is incomplete (severity error/fatal, or an
issue code such as `incomplete`, `timeout`, `too-costly`) is fetched from the EHR's `fhirServer` with the `fhirAuthorization` token through the sync job's
FhirClient: the same origin rule (the token never goes to another host, redirects are not followed,
a paging `next` link to another origin is refused), paging guard, retries and deadlines.

Notes are the one key a server may refuse (403) or not support (400/404/405/410/501 to the search), as may the EHR
in its prefetch (an OperationOutcome `forbidden` or `not-supported` in place of the result): that costs the notes,
not the card - the record is read without them and the card says so, in the sync job's words. A note's or report's
text given by `url` is read from a Binary the prefetch carries (`inline_input_binaries`), else fetched from the
fhirServer with the sync job's BinaryFetcher (same origin, its caps); what is not read is listed on the card.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..errors import AuthError, FatalNetworkError, PermissionDeniedError
from ..fhir.binaries import inline_input_binaries, text_slots
from ..fhir.codes import fhir_code
from ..fhir.outcome import failed_search_outcome
from ..fhir.ids import FHIR_ID as ID_PATTERN
from ..fhir.read import PatientRecord, records_from_resources
from ..mapping.rules import CompiledMapping
from ..sync.attachments import BinaryFetcher, binary_id
from ..sync.sources import CODE_CHUNK, DOCUMENT_TYPE, _chunks, _codes_by_type, notes_refused

#: a FHIR logical id (FHIR R4 `id` datatype, not "." or "..": fhir/ids.py)
FHIR_ID = re.compile(rf"^{ID_PATTERN}$")
PATIENT = "{{context.patientId}}"
#: answers to the notes' search that say the server does not support it (an unknown type or route, a parameter)
UNSUPPORTED = frozenset({400, 404, 405, 410, 501})
#: OperationOutcome issue codes by which an EHR's prefetch says it will not, or cannot, give a key
_REFUSED_CODES = frozenset({"forbidden", "not-supported"})
#: the card's words for how long notes and Binaries are not read, and what the EHR would grant the service's token
FOR_THIS_CARD = "for this card"
GRANT_NOTES = "DocumentReference.read (patient/ or user/ scope) to the service's fhirAuthorization"
GRANT_BINARIES = "Binary.read (patient/ or user/ scope) to the service's fhirAuthorization"


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
    #: a server that refuses (403) or does not support this search costs its resources, not the card (notes)
    refusable: bool = False

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
    # clinical notes: the sync job's search (sync/sources.py: patient and _count, every status - the reader
    # decides what a withdrawn or replaced note counts for)
    out.append(Query("documents", DOCUMENT_TYPE, (("_count", "200"),), refusable=True))
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
    if any(isinstance(link, dict) and fhir_code(link.get("relation")) == "next" for link in links):  # "Next" too
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
        if not (isinstance(search, dict) and fhir_code(search.get("mode")) in ("include", "outcome")):
            matches += 1
    total = bundle.get("total")
    has_next = any(
        isinstance(link, dict) and fhir_code(link.get("relation")) == "next" for link in bundle.get("link") or []
    )
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
        if isinstance(search, dict) and fhir_code(search.get("mode")) == "outcome":
            continue
        out.append(entry["resource"])
    return out


#: fetch(query, patient_id) -> resources of that key from the fhirServer
Fetch = Callable[[Query, str], list[dict[str, Any]]]
#: binaries(record, "Patient/<id>") -> what was not read: puts the fhirServer's text Binaries that the record's
#: url-only attachments name into the record (``fetch_binaries``), and lists the rest
Binaries = Callable[[PatientRecord, str], list[str]]


@dataclass
class Gathered:
    record: PatientRecord | None
    #: keys answered by prefetch / fetched from the fhirServer
    from_prefetch: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    resources: int = 0
    #: refusable keys left unread, with the HTTP status of the refusal (None: the EHR's prefetch refused)
    refused: list[tuple[str, int | None]] = field(default_factory=list)
    #: what was not read, one line each, for the card: notes refused, Binaries not fetched
    not_read: list[str] = field(default_factory=list)


def _prefetch_refusal(value: Any) -> str | None:
    """The issue code by which the EHR's prefetch refuses a key: an OperationOutcome in place of the search result
    (CDS Hooks 2.0: prefetch errors SHOULD be sent as OperationOutcomes, to spare the service a read), or inside it,
    saying `forbidden` or `not-supported`; None when it says no such thing."""
    if not isinstance(value, dict):
        return None
    outcomes = [value] if value.get("resourceType") == "OperationOutcome" else []
    if value.get("resourceType") == "Bundle" and isinstance(value.get("entry"), list):
        outcomes += [
            e["resource"]
            for e in value["entry"]
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "OperationOutcome"
        ]
    for outcome in outcomes:
        issues = outcome.get("issue")
        for issue in issues if isinstance(issues, list) else []:
            if (
                isinstance(issue, dict)
                and issue.get("severity") in ("error", "fatal")
                and issue.get("code") in _REFUSED_CODES
            ):
                return str(issue["code"])
    return None


def _refusal(query: Query, exc: FatalNetworkError) -> str | None:
    """The card's line for a refusable search the fhirServer refused or does not support; None for any other failure
    (a 401, another key: the call cannot be answered from part of the record)."""
    if not query.refusable:
        return None
    if isinstance(exc, PermissionDeniedError):
        return notes_refused(FOR_THIS_CARD, GRANT_NOTES)
    if isinstance(exc, AuthError) or exc.status not in UNSUPPORTED:
        return None
    return (
        f"{query.resource_type} search not supported by fhirServer (HTTP {exc.status}): clinical notes are not read "
        f"{FOR_THIS_CARD}"
    )


def gather(
    patient_id: str,
    prefetch: dict[str, Any] | None,
    keys: list[Query],
    fetch: Fetch | None,
    max_resources: int,
    binaries: Binaries | None = None,
) -> Gathered:
    """The patient's record from the prefetch (``keys``: `queries(mapping)`), completing what is
    missing through ``fetch``, and the text Binaries its notes and reports name (the prefetch's, else through
    ``binaries``: None when the call names no fhirServer)."""
    prefetch = prefetch or {}
    resources: list[tuple[dict[str, Any], str]] = []
    done = Gathered(None)
    missing = []
    for q in keys:
        value = prefetch.get(q.key)
        code = _prefetch_refusal(value) if q.refusable else None
        if code is not None:  # the EHR refuses it: asking its server with the same grant would get a 403
            done.refused.append((q.key, None))
            done.not_read.append(
                f"{q.resource_type} refused by the EHR's prefetch (OperationOutcome {code}): clinical notes are not "
                f"read {FOR_THIS_CARD}"
            )
            continue
        if isinstance(value, dict) and _complete(value, q, patient_id):
            found = _resources(value)
            done.from_prefetch.append(q.key)
        else:
            missing.append(q)
            continue
        resources += [(r, f"prefetch:{q.key}") for r in found]
    if fetch is None:
        # an EHR set up before notes were a key sends no "documents" and may send no fhirServer: the notes cost
        # their reading, listed on the card, not every card (a 412 on each call until discovery is read again); a
        # key the EHR sent but failed to fill is a failure, 412 as any key's
        for q in [q for q in missing if q.refusable and q.key not in prefetch]:
            missing.remove(q)
            done.refused.append((q.key, None))
            done.not_read.append(
                f"{q.resource_type} not in the prefetch (key {q.key!r}) and no fhirServer to read it from: clinical "
                f"notes are not read {FOR_THIS_CARD} - register the service's prefetch templates again (discovery)"
            )
    if missing and fetch is None:
        raise InsufficientData(
            f"prefetch {', '.join(q.key for q in missing)} missing or incomplete and no "
            "fhirServer with a fhirAuthorization token to read it from"
        )
    for q in missing:
        if fetch is None:  # unreachable: refused above
            break
        try:
            found = fetch(q, patient_id)
        except FatalNetworkError as exc:
            line = _refusal(q, exc)
            if line is None:
                raise
            done.refused.append((q.key, exc.status))
            done.not_read.append(line)  # read on without them, as the sync job does
            continue
        done.fetched.append(q.key)
        resources += [(r, f"fhirServer:{q.key}") for r in found]
        if len(resources) > max_resources:
            break
    if len(resources) > max_resources:
        raise TooLarge(f"more than {max_resources} resources for one patient")
    done.resources = len(resources)
    records, _errors = records_from_resources(resources)
    done.record = next((r for r in records if r.patient == f"Patient/{patient_id}"), None)
    if done.record is not None:
        done.not_read += _read_binaries(done.record, f"Patient/{patient_id}", binaries)
    return done


def _read_binaries(record: PatientRecord, patient: str, binaries: Binaries | None) -> list[str]:
    """The text Binaries the record's url-only attachments name: those the prefetch carries, then the fhirServer's;
    what is not read, one line each."""
    before = len(record.problems)
    inline_input_binaries(record)  # a Binary in a prefetch Bundle: never fetched
    said = {e.resource or e.source for e in record.problems[before:]}
    lines = [f"{e.resource or e.source}: {e.message}" for e in record.problems[before:]]
    if binaries is None:
        rest = unread_by_url(record, "the call names no fhirServer to fetch it from")
    else:
        rest = binaries(record, patient)
    # a note whose Binary the prefetch holds but cannot be read is said once
    return lines + [line for line in rest if not any(line.startswith(f"{ref}: ") for ref in said)]


def url_only(record: PatientRecord) -> list[tuple[str, str]]:
    """(resource, url) of each text attachment of the record still given by url only (of a document, its most
    readable format only, and none where one is inline: fhir/binaries.py ``text_slots``)."""
    return [
        (raw.ref or raw.origin, str(attachment["url"]).strip())
        for raw in record.resources
        for _, attachment in text_slots(raw.data, lambda url: True)
    ]


def unread_by_url(record: PatientRecord, why: str) -> list[str]:
    """One line for each text attachment still given by url only: not fetched, and ``why``."""
    return [f"{ref}: {url[:200]} not fetched: {why}; its text is not read" for ref, url in url_only(record)]


def fetch_binaries(
    record: PatientRecord, patient: str, base_url: str, fetcher: Callable[[], BinaryFetcher]
) -> list[str]:
    """Puts the text Binaries of the fhirServer at ``base_url`` that the record's url-only attachments name into
    copies of its notes and reports, with the sync job's BinaryFetcher (``fetcher()``, made only when one is named:
    the same origin rule, at most MAX_FETCHED, 8 MiB each); returns what was not read, one line each - an attachment
    on another host is never fetched (the token goes to the fhirServer only)."""
    lines: list[str] = []
    if any(binary_id(url, base_url) is not None for _, url in url_only(record)):
        pairs = [(raw.data, raw.ref or raw.origin) for raw in record.resources]
        lines += [f"{e.source}: {e.message}" for e in fetcher().inline(pairs, patient)]
        for raw, (data, _) in zip(record.resources, pairs, strict=True):
            if data is not raw.data:  # a copy with the Binary's data: in place, so the record's index still holds it
                raw.data.clear()
                raw.data.update(data)
    elsewhere = [(ref, url) for ref, url in url_only(record) if binary_id(url, base_url) is None]
    return lines + [
        f"{ref}: {url[:200]} not fetched: it names no Binary of fhirServer (the token is sent to fhirServer only); "
        "its text is not read"
        for ref, url in elsewhere
    ]
