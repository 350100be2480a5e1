# SPDX-License-Identifier: Apache-2.0
"""Which results a later correction replaces.

Labs and EHRs send a corrected or amended result as a *new* resource (a new id) rather than a new
version of the old one: Epic, Cerner and HAPI-based repositories keep the business ``identifier``
(accession and test) and a later ``issued``, with ``status`` ``corrected``/``amended`` (FHIR
observation-status: "subsequent to being final, the observation has been modified"). Read as two
independent results, the erroneous original still counted ("present at any time": a clone-free
patient `met` on an immunofixation corrected to negative, probe62 D1-D5), so the replaced one is not
read at all and the onboarding report lists it.

Two results are one result in two versions when they are of the same resource type and the same test
(a coding or, without codings, the code's text in common) and either share a business identifier and
the effective time (a standing order's identifier may carry every draw: a series is no set of
versions), or the later one says it is a correction (``corrected``/``amended``) of a result taken at
the same time (same effective date/time and specimen) - a correction need not repeat the identifier. The later
version (``issued``, else ``meta.lastUpdated``; on a tie the corrected one) replaces the earlier; a
later ``entered-in-error``/``cancelled`` version withdraws the result, so the earlier one goes too.

A ``preliminary``/``partial`` result is superseded by the ``final`` (or ``amended``/``corrected``) result of
the same study sent as a new resource (probe114 D1: a preliminary VEGF 600 then a final 120, a partial
"Castleman" histology then a final "no Castleman", still counted as present at any time): the same resource
type and test as above, and either the same business identifier, a ``basedOn`` order in common, the same
specimen, or the same effective day where nothing tells the two apart (other identifiers, orders, specimens or
times of day: probe115 D1, D2 - two draws or two nodes of one day are two results). The final must be the later one (``issued``, else
``meta.lastUpdated``; when either is missing, the status order: the final follows its preliminary).
Nothing here touches HTTP; it reads FHIR JSON of one patient's record.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: result types that carry a business identifier, a test code and an issue time
_RESULT_TYPES = ("Observation", "DiagnosticReport")
#: FHIR statuses saying "this result was changed after it was final"
_CORRECTION = ("corrected", "amended")
#: FHIR statuses of a result not yet verified ("data in the report may be incomplete and/or unverified")
_UNVERIFIED = ("preliminary", "partial")
#: statuses of the verified result that supersedes a preliminary one of the same study
_VERIFIED = ("final", *_CORRECTION)


@dataclass(frozen=True)
class Replacement:
    """``replaced`` (a "Type/id") is an earlier version of ``by``, whose status is ``status``."""

    replaced: str
    by: str
    status: str
    why: str  # "same identifier", "correction of the same test at the same time", "final result of ..."


@dataclass(frozen=True)
class _Result:
    ref: str
    rtype: str
    tests: frozenset[str]
    identifiers: frozenset[str]
    when: str | None  # effective[x] as sent (a date or a period start)
    specimen: str | None  # the specimen reference(s), if any
    status: str
    order: tuple[dt.datetime, int]  # (issued or lastUpdated, 1 when a correction): later wins
    based_on: frozenset[str] = frozenset()  # the orders (basedOn references) it answers
    stamped: bool = True  # whether ``issued`` or ``meta.lastUpdated`` was readable
    name: str | None = None  # the code's text, as the lab names the test ("VEGF, plasma")


def replaced_results(resources: Iterable[tuple[str | None, dict[str, Any]]]) -> dict[str, Replacement]:
    """``(ref, resource)`` pairs of one patient -> the refs that a later version replaces (by the latest
    version of each). Linear but for sorting: versions are found through buckets (one test with one
    identifier; one test taken at one time), each bucket's latest replacing the rest - a patient with
    thousands of platelet counts costs no pairwise comparison."""
    results = [r for r in (_result(ref, data) for ref, data in resources) if r is not None]
    best: dict[str, tuple[_Result, str]] = {}  # older ref -> (its latest replacement, why)
    buckets: dict[tuple[Any, ...], list[_Result]] = defaultdict(list)
    for r in results:
        for test in r.tests:
            for ident in r.identifiers:
                # a standing order's identifier can carry every draw of a test: only the same specimen's
                # (same effective time, or none stated) are versions of one result
                buckets[("id", r.rtype, test, ident, r.when)].append(r)
            if r.when is not None:
                buckets[("at", r.rtype, test, r.when, r.specimen)].append(r)
    for key, bucket in buckets.items():
        if len(bucket) < 2:
            continue
        same_identifier = key[0] == "id"
        # by the identifier any later version; at one time only a later *correction* replaces
        candidates = bucket if same_identifier else [r for r in bucket if r.status in _CORRECTION]
        if not candidates:
            continue
        latest = max(candidates, key=lambda r: r.order)
        why = "same identifier" if same_identifier else "correction of the same test at the same time"
        for older in bucket:
            if older.order >= latest.order:
                continue
            current = best.get(older.ref)
            if current is None or latest.order > current[0].order:
                best[older.ref] = (latest, why)
            elif latest.order == current[0].order and why == "same identifier":
                best[older.ref] = (current[0], why)  # the identifier is the stronger reason to name
    for older, final, why in _superseded_preliminaries(results):
        if older.ref not in best:
            best[older.ref] = (final, why)
    return {ref: Replacement(ref, r.ref, r.status, why) for ref, (r, why) in best.items()}


def _superseded_preliminaries(results: list[_Result]) -> Iterable[tuple[_Result, _Result, str]]:
    """``(preliminary, its final, why)``: each ``preliminary``/``partial`` result and the latest verified
    result of the same study that followed it (probe114 D1). The same study, conservatively: the same
    resource type and test, and the same identifier, an order (``basedOn``) in common, the same specimen or the
    same effective day with nothing that tells them apart. Bucketed like the versions: no pairwise comparison of a whole series."""
    buckets: dict[tuple[Any, ...], list[_Result]] = defaultdict(list)
    for r in results:
        if r.status not in _UNVERIFIED and r.status not in _VERIFIED:
            continue
        for test in r.tests:
            keys = [("same identifier", i) for i in r.identifiers]
            keys += [("same order (basedOn)", b) for b in r.based_on]
            if r.specimen is not None:
                keys.append(("same specimen", r.specimen))
            if r.when is not None:
                # the same day counts only where nothing tells the two apart (``_told_apart``): two draws, labs or
                # nodes of one day are two results (probe115 D1, D2: a same-day serum VEGF replaced a preliminary
                # plasma one, another node's final a node's partial report)
                keys.append(("same effective day", r.when[:10]))
            for how, value in keys:
                buckets[(r.rtype, test, how, value)].append(r)
    found: dict[str, tuple[_Result, _Result, str]] = {}
    for (_rtype, _test, how, _value), bucket in buckets.items():
        finals = [r for r in bucket if r.status in _VERIFIED]
        if not finals:
            continue
        for older in bucket:
            if older.status not in _UNVERIFIED:
                continue
            later = [
                f for f in finals if _follows(f, older) and not (how == "same effective day" and _told_apart(f, older))
            ]
            if not later:
                continue
            final = max(later, key=lambda r: r.order)
            current = found.get(older.ref)
            if current is None or final.order > current[1].order:
                found[older.ref] = (older, final, f"final result of the same study ({how})")
    return found.values()


def _told_apart(a: _Result, b: _Result) -> bool:
    """Two results of one day that something tells apart: other identifiers, other orders, other specimens, other
    times of the day or other names of the test - each present on both."""
    return (
        bool(a.identifiers and b.identifiers and not a.identifiers & b.identifiers)
        or bool(a.based_on and b.based_on and not a.based_on & b.based_on)
        or (a.specimen is not None and b.specimen is not None and a.specimen != b.specimen)
        or (a.when is not None and b.when is not None and len(a.when) > 10 and len(b.when) > 10 and a.when != b.when)
        or (a.name is not None and b.name is not None and a.name != b.name)  # "VEGF, plasma" / "VEGF, serum"
    )


def _follows(final: _Result, preliminary: _Result) -> bool:
    """Whether the verified ``final`` was issued after ``preliminary``: by ``issued`` (else
    ``meta.lastUpdated``) when both have one, else by the status order (a final follows its preliminary)."""
    if final.stamped and preliminary.stamped:
        return final.order[0] >= preliminary.order[0]
    return True


def _result(ref: str | None, data: dict[str, Any]) -> _Result | None:
    rtype = data.get("resourceType")
    if not ref or rtype not in _RESULT_TYPES:
        return None
    tests = _tests(data.get("code"), named=rtype == "DiagnosticReport")
    if not tests:
        return None
    status = data.get("status")
    status = status.strip().lower() if isinstance(status, str) else ""
    stamp = _instant(data.get("issued"))
    if stamp is None:
        meta = data.get("meta")
        stamp = _instant(meta.get("lastUpdated")) if isinstance(meta, dict) else None
    stamped = stamp is not None
    # undated: earlier than any dated version (on a tie the correction is the later)
    stamp = stamp or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return _Result(
        ref,
        rtype,
        tests,
        frozenset(_identifiers(data.get("identifier"))),
        _when(data),
        _specimen(data.get("specimen")),
        status,
        (stamp, 1 if status in _CORRECTION else 0),
        frozenset(_references(data.get("basedOn"))),
        stamped,
        _name(data.get("code")),
    )


def _name(code: Any) -> str | None:
    text = code.get("text") if isinstance(code, dict) else None
    return " ".join(text.split()).casefold() if isinstance(text, str) and text.strip() else None


def _references(value: Any) -> Iterable[str]:
    """The references of a list of Reference (``basedOn``), blank ones left out."""
    for v in value if isinstance(value, list) else []:
        if isinstance(v, dict) and isinstance(v.get("reference"), str) and v["reference"].strip():
            yield v["reference"].strip()


def _tests(code: Any, named: bool) -> frozenset[str]:
    """What test a result is: its codings (a report's with its name, ``named``: report codes are often
    generic, "CT" for a head and an abdomen; a lab code is the test), else its name alone."""
    if not isinstance(code, dict):
        return frozenset()
    codings = code.get("coding")
    found = {
        f"{c.get('system') or ''}|{c['code'].strip()}"
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict) and isinstance(c.get("code"), str) and c["code"].strip()
    }
    text = code.get("text")
    name = " ".join(text.lower().split()) if isinstance(text, str) and text.strip() else ""
    if not found and name:
        return frozenset({"text|" + name})
    # a report's code and its own name: "CT abdomen" and "CT head" under one generic code are two tests
    # (probe65 D3: a visit identifier and a generic SNOMED code merged two reports)
    return frozenset(f"{c}|{name}" for c in found) if named else frozenset(found)


def _identifiers(value: Any) -> Iterable[str]:
    """Business identifiers with their system: a bare value ("1001") names nothing for sure (probe65 D2:
    two immunofixations a year apart, both "1001", were taken for one result)."""
    for i in value if isinstance(value, list) else []:
        if not isinstance(i, dict) or not isinstance(i.get("value"), str) or not i["value"].strip():
            continue
        system = i.get("system")
        if isinstance(system, str) and system.strip():
            yield f"{system.strip()}|{i['value'].strip()}"


def _when(data: dict[str, Any]) -> str | None:
    when = data.get("effectiveDateTime") or data.get("effectiveInstant")
    period = data.get("effectivePeriod")
    if not when and isinstance(period, dict):
        when = period.get("start")
    return when.strip() if isinstance(when, str) and when.strip() else None


def _specimen(value: Any) -> str | None:
    """Observation.specimen is one Reference, DiagnosticReport.specimen a list."""
    refs = sorted(
        v["reference"]
        for v in (value if isinstance(value, list) else [value])
        if isinstance(v, dict) and isinstance(v.get("reference"), str)
    )
    return " ".join(refs) or None


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
