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
A result contained in its report (or panel) takes part as a result of its own (probe124 D2: a preliminary
contained IFE "Faint IgA lambda band" was not replaced by the final sent later as a standalone Observation):
what it does not say itself it takes from its container - the issue time, the effective time, the specimen,
and the container's identifiers and orders, which then match versions but tell no two results apart (a report's
accession is not its result's). A result in a preliminary report is unverified whatever it says itself.

Times compare as times, not strings: one instant written in two zones is one time, and a date contains the
instants of its day, so an amendment stamped "2023-03-01T08:00:00Z" of a result dated "2023-03-01" under the
same identifier is a version of it (probe124 D3). Specimens compare by reference and by their own accession
(``identifier``/``accessionIdentifier`` with a system) when their collection times agree: two feeds that each
made a Specimen resource of one draw name one specimen (probe124 D4). Two reports of one coded study under one
identifier whose names differ ("CT CAP w contrast (wet read)" / "CT chest, abdomen and pelvis with contrast")
are versions when the later says it is one - an amendment or correction, or the final of a preliminary
(probe124 D7); two final reports of different names under one identifier stay two studies (probe65 D3: a visit
identifier on a CT head and a CT abdomen).
Nothing here touches HTTP; it reads FHIR JSON of one patient's record.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .text.sites import field_of

#: result types that carry a business identifier, a test code and an issue time
_RESULT_TYPES = ("Observation", "DiagnosticReport")
#: FHIR statuses saying "this result was changed after it was final"
_CORRECTION = ("corrected", "amended")
#: FHIR statuses of a result not yet verified ("data in the report may be incomplete and/or unverified")
_UNVERIFIED = ("preliminary", "partial")
#: statuses of the verified result that supersedes a preliminary one of the same study
_VERIFIED = ("final", *_CORRECTION)

#: ``resolve(reference, holder)``: the resource a reference of ``holder`` names for this patient (a "#id" in
#: ``holder``'s ``contained``), or None - the record's resolver (``PatientRecord.resolve``)
Resolve = Callable[[str, dict[str, Any]], "dict[str, Any] | None"]
#: the bucket of a result without an effective time (only such results share it)
_UNDATED = ("none", "")

_SNOMED = "http://snomed.info/sct"
_V2_SPECIMEN = "http://terminology.hl7.org/CodeSystem/v2-0487"  # HL7 v2 table 0487 (specimen type)
#: the material a Specimen type code names, in any code system: SNOMED CT specimen concepts and HL7 v2 table
#: 0487 codes (the ones ``extract`` reads for serum/plasma and body fluids). Two results whose specimens name
#: other materials are two draws whatever accession, code system or language names them (probe126 G5: SNOMED
#: plasma beside v2 "SER" under one accession made a "corrected" serum VEGF replace the plasma VEGF)
_MATERIAL_CODES: dict[tuple[str, str], str] = {
    (_SNOMED, "119364003"): "serum",
    (_SNOMED, "119361006"): "plasma",
    (_SNOMED, "122575003"): "urine",
    (_SNOMED, "258450006"): "cerebrospinal fluid",
    (_SNOMED, "418564007"): "pleural fluid",
    (_V2_SPECIMEN, "SER"): "serum",
    (_V2_SPECIMEN, "PLAS"): "plasma",
    (_V2_SPECIMEN, "UR"): "urine",
    (_V2_SPECIMEN, "CSF"): "cerebrospinal fluid",
    (_V2_SPECIMEN, "PLR"): "pleural fluid",
}
#: ... and the words of a Specimen type's text or displays (English, Russian, Kazakh; the Kazakh serum
#: «сарысу» is the one ``extract`` reads, urine «несеп»/«зәр» from its fluid words). "Serum or plasma" names two
#: materials and so none: only a type naming one material tells draws apart
_MATERIAL_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (material, re.compile(pattern, re.IGNORECASE))
    for material, pattern in (
        ("serum", r"\bserum\b|\bsera\b|сыворот|сарысу"),
        ("plasma", r"plasma|плазм"),
        ("urine", r"\burine\b|\burinary\b|\bмоч[аиеу]|несеп|зәр"),
        ("cerebrospinal fluid", r"cerebrospinal|\bcsf\b|ликвор|спинномозгов"),
        ("pleural fluid", r"pleural|плевральн"),
    )
)


@dataclass(frozen=True)
class Replacement:
    """``replaced`` (a "Type/id") is an earlier version of ``by``, whose status is ``status``."""

    replaced: str
    by: str
    status: str
    why: str  # "same identifier", "correction of the same test at the same time", "final result of ..."


@dataclass(frozen=True)
class _Drawn:
    """The specimens a result was measured on, as far as the record tells them."""

    #: each reference ("#s" as its holder's: "DiagnosticReport/r#s") and each accession: what matches
    keys: frozenset[str] = frozenset()
    #: what identifies a specimen apart from the others: a Specimen resource of its own, an accession. A contained
    #: Specimen is a copy in its container with no identity outside it: it tells nothing apart by being another
    #: resource (probe124 m62: the lab's contained plasma Specimen and the EHR's plasma Specimen of one draw)
    identities: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()  # the Specimen types' codings ("serum", "plasma")
    #: the materials the Specimen types name, by code or words ("serum", "plasma"): one each, or unknown
    materials: frozenset[str] = frozenset()
    collected: str | None = None  # when the Specimen was collected, if it says

    def told_apart(self, other: _Drawn) -> bool:
        """Two specimens that are not one: other identities, or other types in one code system, each known on
        both (SNOMED serum and HL7 v2 ``SER`` are one type said twice)."""
        if self.identities and other.identities and not self.identities & other.identities:
            return True
        return self.other_type(other)

    def other_type(self, other: _Drawn) -> bool:
        """Other specimen types in one code system, each known on both: plasma and serum are two draws whatever
        accession a lab gave them (probe125 R7: a plasma VEGF and a "corrected" serum VEGF under one accession);
        or other materials, each named by one, whatever code system or words name them (probe126 G5: SNOMED
        plasma beside v2 "SER", or "Plasma" beside «Сыворотка» typed by text only)."""
        if len(self.materials) == 1 and len(other.materials) == 1 and self.materials != other.materials:
            return True
        if self.kinds & other.kinds:
            return False
        systems = {k.rsplit("|", 1)[0] for k in self.kinds} & {k.rsplit("|", 1)[0] for k in other.kinds}
        return bool(systems)


@dataclass(frozen=True)
class _Result:
    ref: str
    rtype: str
    tests: frozenset[str]
    identifiers: frozenset[str]  # its own and, contained, its container's: what matches versions
    when: str | None  # effective[x] as sent (a date or a period start)
    drawn: _Drawn  # the specimens it was measured on
    status: str
    order: tuple[dt.datetime, int]  # (issued or lastUpdated, 1 when a correction): later wins
    based_on: frozenset[str] = frozenset()  # the orders (basedOn references) it answers
    stamped: bool = True  # whether ``issued`` or ``meta.lastUpdated`` was readable
    name: str | None = None  # the code's text, as the lab names the test ("VEGF, plasma")
    #: its own identifiers and orders: what tells two results apart (a container's accession does not)
    own_identifiers: frozenset[str] = frozenset()
    own_based_on: frozenset[str] = frozenset()
    #: a report's codings without its name (a study under one code and identifier, named two ways: D7)
    coded: frozenset[str] = frozenset()


def replaced_results(
    resources: Iterable[tuple[str | None, dict[str, Any]]],
    contained: Iterable[tuple[str, dict[str, Any], dict[str, Any]]] = (),
    resolve: Resolve | None = None,
) -> dict[str, Replacement]:
    """``(ref, resource)`` pairs of one patient, and ``(key, observation, container)`` for the results contained
    in a report or panel (``key`` names it: "DiagnosticReport/r#ife") -> the refs and keys that a later version
    replaces (by the latest version of each). ``resolve`` follows specimen references to compare accessions.
    Linear but for sorting: versions are found through buckets (one test with one identifier on one day; one
    test taken at one time), each bucket's latest replacing the rest - a patient with thousands of platelet
    counts costs no pairwise comparison."""
    results = [r for r in (_result(ref, data, None, resolve) for ref, data in resources) if r is not None]
    results += [r for r in (_result(key, data, box, resolve) for key, data, box in contained) if r is not None]
    best: dict[str, tuple[_Result, str]] = {}  # older ref -> (its latest replacement, why)
    for key, bucket in _version_buckets(results).items():
        if len(bucket) < 2:
            continue
        if key[0] == "id":
            # by the identifier any later version of a compatible time (a date holds its instants: D3)
            _keep_latest(best, bucket, _latest_of(bucket, lambda r: True), "same identifier")
        elif key[0] == "at":
            # at one time only a later *correction* replaces
            corrected = _latest_of(bucket, lambda r: r.status in _CORRECTION)
            _keep_latest(best, bucket, corrected, "correction of the same test at the same time")
        else:  # "named": one coded study under one identifier, named two ways - versions when the later says so
            corrections = _latest_of(bucket, lambda r: r.status in _CORRECTION)
            verified = _latest_of(bucket, lambda r: r.status in _VERIFIED)
            for older in bucket:
                found = (verified if older.status in _UNVERIFIED else corrections)(older)
                if (
                    found is not None
                    and _follows(found, older)
                    and found.order > older.order
                    and not _other_regions(found, older)
                ):
                    _prefer(best, older, found, "same identifier")
    for older, final, why in _superseded_preliminaries(results):
        if older.ref not in best:
            best[older.ref] = (final, why)
    return {ref: Replacement(ref, r.ref, r.status, why) for ref, (r, why) in best.items()}


def _version_buckets(results: list[_Result]) -> dict[tuple[Any, ...], list[_Result]]:
    """Results that may be versions of one another, by what they share: a test and identifier on one day
    ("id"), a test, time and specimen ("at"), a report's coding and identifier on one day ("named")."""
    buckets: dict[tuple[Any, ...], list[_Result]] = defaultdict(list)
    for r in results:
        days = _days(r.when)
        for test in r.tests:
            for ident in r.identifiers:
                # a standing order's identifier can carry every draw of a test: only the same specimen's
                # (a compatible effective time, or none stated) are versions of one result
                for day in days:
                    buckets[("id", r.rtype, test, ident, day)].append(r)
            if r.when is not None:
                for specimen in r.drawn.keys or {None}:
                    buckets[("at", r.rtype, test, _time_key(r.when), specimen)].append(r)
        for coded in r.coded:
            for ident in r.identifiers:
                for day in days:
                    buckets[("named", r.rtype, coded, ident, day)].append(r)
    return buckets


def _latest_of(bucket: list[_Result], eligible: Callable[[_Result], bool]) -> Callable[[_Result], _Result | None]:
    """For the results of one bucket (one day, ``_days``): ``latest(older)``, the latest eligible result taken at a
    time compatible with ``older``'s (``_same_time``). In linear time: instants are grouped by their time, and a
    date (compatible with every instant of its day) is compared with each group's latest."""
    by_time: dict[str | None, _Result] = {}
    loose: _Result | None = None  # the latest eligible one stated as a date only
    overall: _Result | None = None
    for r in bucket:
        if not eligible(r):
            continue
        key = _time_key(r.when)
        held = by_time.get(key)
        by_time[key] = r if held is None or r.order > held.order else held
        overall = _later(overall, r)
        if _loose(r.when):
            loose = _later(loose, r)

    def latest(older: _Result) -> _Result | None:
        if _loose(older.when):
            return overall
        return _later(by_time.get(_time_key(older.when)), loose)

    return latest


def _keep_latest(
    best: dict[str, tuple[_Result, str]],
    bucket: list[_Result],
    latest: Callable[[_Result], _Result | None],
    why: str,
) -> None:
    for older in bucket:
        found = latest(older)
        if found is not None and found.order > older.order and _one_specimen(found, older):
            _prefer(best, older, found, why)


def _prefer(best: dict[str, tuple[_Result, str]], older: _Result, latest: _Result, why: str) -> None:
    """Record ``latest`` as what replaces ``older`` unless a later replacement is known; on a tie the identifier
    is the stronger reason to name."""
    current = best.get(older.ref)
    if current is None or latest.order > current[0].order:
        best[older.ref] = (latest, why)
    elif latest.order == current[0].order and why == "same identifier":
        best[older.ref] = (current[0], why)


def _later(a: _Result | None, b: _Result | None) -> _Result | None:
    if a is None or b is None:
        return a or b
    return b if b.order > a.order else a


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
            keys += [("same specimen", s) for s in r.drawn.keys]
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
                f
                for f in finals
                if _follows(f, older)
                and _one_specimen(f, older)
                and not (how == "same effective day" and _told_apart(f, older))
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
    times of the day or other names of the test - each present on both (a container's identifiers and orders
    are its own, not its result's: they tell nothing apart)."""
    return (
        bool(a.own_identifiers and b.own_identifiers and not a.own_identifiers & b.own_identifiers)
        or bool(a.own_based_on and b.own_based_on and not a.own_based_on & b.own_based_on)
        or a.drawn.told_apart(b.drawn)
        or (
            a.when is not None
            and b.when is not None
            and not _loose(a.when)
            and not _loose(b.when)
            and not _same_time(a.when, b.when)
        )
        or (a.name is not None and b.name is not None and a.name != b.name)  # "VEGF, plasma" / "VEGF, serum"
    )


def _other_regions(a: _Result, b: _Result) -> bool:
    """Whether two reports' names give other body regions ("CT chest" / "CT abdomen and pelvis", "PET-CT whole
    body" / "PET-CT brain"): two studies, even under one accession - a RIS gives a combined order one accession -
    and even when the later is amended (probe125 R8). The region words are those that tell same-day studies
    apart (``text.sites.field_of``); a name that gives none ("CT CAP (wet read)") is no other region. Two spine
    studies are of one region: a spine study's part may be named in words that are also a region's ("MRI T-spine"
    amended as "MRI thoracic spine", «МРТ позвоночника» as «МРТ грудного отдела позвоночника»: spine; chest and
    spine), and the amendment's withdrawal of a lesion was lost (probe127 R1)."""
    if a.name is None or b.name is None:
        return False
    regions_a, regions_b = _spine_as_one(field_of(a.name)), _spine_as_one(field_of(b.name))
    return bool(regions_a and regions_b and regions_a != regions_b)


def _spine_as_one(regions: frozenset[str]) -> frozenset[str]:
    return frozenset({"spine"}) if "spine" in regions else regions


def _one_specimen(a: _Result, b: _Result) -> bool:
    """Whether nothing says the two are two draws: collected at different times (one accession on two draws), or
    of other specimen types (probe125 R7: one accession on a plasma and a serum tube) - unless the results share
    an identifier of their own, which names one result whose specimen type a correction may fix."""
    if a.drawn.collected is not None and b.drawn.collected is not None:
        if not _same_time(a.drawn.collected, b.drawn.collected):
            return False
    return not a.drawn.other_type(b.drawn) or bool(a.own_identifiers & b.own_identifiers)


def _follows(final: _Result, preliminary: _Result) -> bool:
    """Whether the verified ``final`` was issued after ``preliminary``: by ``issued`` (else
    ``meta.lastUpdated``) when both have one, else by the status order (a final follows its preliminary)."""
    if final.stamped and preliminary.stamped:
        return final.order[0] >= preliminary.order[0]
    return True


def _result(
    ref: str | None, data: dict[str, Any], container: dict[str, Any] | None, resolve: Resolve | None
) -> _Result | None:
    """A result as versions compare it; one contained in ``container`` takes what it does not say from it."""
    rtype = data.get("resourceType")
    if not ref or rtype not in _RESULT_TYPES:
        return None
    tests = _tests(data.get("code"), named=rtype == "DiagnosticReport")
    if not tests:
        return None
    status = _status(data)
    stamp = _stamp(data)
    when = _when(data)
    own_ids, own_orders = frozenset(_identifiers(data.get("identifier"))), frozenset(_references(data.get("basedOn")))
    ids, orders = own_ids, own_orders
    drawn = _specimens(ref, data, resolve)
    if container is not None:
        status = _contained_status(status, _status(container))
        stamp = stamp or _stamp(container)
        when = when or _when(container)
        ids |= frozenset(_identifiers(container.get("identifier")))
        orders |= frozenset(_references(container.get("basedOn")))
        if not drawn.keys:
            drawn = _specimens(ref, container, resolve)
    stamped = stamp is not None
    # undated: earlier than any dated version (on a tie the correction is the later)
    stamp = stamp or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return _Result(
        ref,
        rtype,
        tests,
        ids,
        when,
        drawn,
        status,
        (stamp, 1 if status in _CORRECTION else 0),
        orders,
        stamped,
        _name(data.get("code")),
        own_ids,
        own_orders,
        _tests(data.get("code"), named=False) if rtype == "DiagnosticReport" else frozenset(),
    )


def _status(data: dict[str, Any]) -> str:
    status = data.get("status")
    return status.strip().lower() if isinstance(status, str) else ""


def _contained_status(own: str, container: str) -> str:
    """A contained result's status: a result in a preliminary report is unverified, one in an amended report
    amended, whatever it says itself ("final" is what a send-out lab writes on each of its rows)."""
    if own in ("", "final") and container in (*_UNVERIFIED, *_CORRECTION):
        return container
    return own or container


def _stamp(data: dict[str, Any]) -> dt.datetime | None:
    """``issued``, else ``meta.lastUpdated``."""
    stamp = _instant(data.get("issued"))
    if stamp is None:
        meta = data.get("meta")
        stamp = _instant(meta.get("lastUpdated")) if isinstance(meta, dict) else None
    return stamp


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


def _specimens(ref: str, data: dict[str, Any], resolve: Resolve | None) -> _Drawn:
    """The specimens a result names (Observation.specimen is one Reference, DiagnosticReport.specimen a list):
    each reference, and the accessions (``identifier``/``accessionIdentifier`` with a system: two feeds'
    Specimen resources of one draw, probe124 D4), types and collection time of the Specimens they name."""
    value = data.get("specimen")
    keys: set[str] = set()
    identities: set[str] = set()
    kinds: set[str] = set()
    materials: set[str] = set()
    collected: str | None = None
    for v in value if isinstance(value, list) else [value]:
        reference = v.get("reference") if isinstance(v, dict) else None
        if not isinstance(reference, str) or not reference.strip():
            continue
        local = reference.startswith("#")
        keys.add(ref.split("#", 1)[0] + reference if local else reference)
        if not local:
            identities.add(reference)
        specimen = resolve(reference, data) if resolve is not None else None
        if not isinstance(specimen, dict) or specimen.get("resourceType") != "Specimen":
            continue
        accessions = [*_listed(specimen.get("identifier")), *_listed(specimen.get("accessionIdentifier"))]
        found = {f"accession|{a}" for a in _identifiers(accessions)}
        keys |= found
        identities |= found
        kinds |= {t for t in _tests(specimen.get("type"), named=False) if not t.startswith("text|")}
        materials |= _materials(specimen.get("type"))
        collection = specimen.get("collection")
        if isinstance(collection, dict):
            collected = (
                collected
                or _when({"effectiveDateTime": collection.get("collectedDateTime")})
                or _when({"effectivePeriod": collection.get("collectedPeriod")})
            )
    return _Drawn(frozenset(keys), frozenset(identities), frozenset(kinds), frozenset(materials), collected)


def _materials(kind: Any) -> frozenset[str]:
    """The materials a Specimen type names: its codings (``_MATERIAL_CODES``) and its words (text and
    displays, ``_MATERIAL_WORDS``). A code and words that name two materials name none for sure: such a type
    tells no draw apart (the same-system code comparison still may)."""
    if not isinstance(kind, dict):
        return frozenset()
    codings = [c for c in _listed(kind.get("coding")) if isinstance(c, dict)]
    coded = {
        _MATERIAL_CODES[key]
        for c in codings
        if (key := (str(c.get("system") or "").strip(), str(c.get("code") or "").strip())) in _MATERIAL_CODES
    }
    words = [kind.get("text"), *(c.get("display") for c in codings)]
    said = " ".join(w for w in words if isinstance(w, str))
    return frozenset(coded | {material for material, pattern in _MATERIAL_WORDS if pattern.search(said)})


def _listed(value: Any) -> list[Any]:
    """An element that is a list, or one value (Specimen.accessionIdentifier), as a list."""
    if isinstance(value, list):
        return value
    return [value] if value is not None else []


def _loose(when: str | None) -> bool:
    """A time stated as a date (or a month, a year) only: it holds every instant of its day."""
    return when is not None and "T" not in when


def _time_key(when: str | None) -> str | None:
    """An instant as UTC, so that one instant written in two zones is one time; a date as sent."""
    if when is None or _loose(when):
        return when
    parsed = _instant(when)
    return parsed.astimezone(dt.timezone.utc).isoformat() if parsed is not None else when


def _days(when: str | None) -> list[tuple[str, str]]:
    """The day buckets of an effective time: a date's own; an instant's written day (where a date of that day
    finds it) and its UTC day (where the same instant written in another zone finds it)."""
    if when is None:
        return [_UNDATED]
    if _loose(when):
        return [("day", when)]
    days = [("day", when[:10])]
    parsed = _instant(when)
    if parsed is not None:
        days.append(("utc", parsed.astimezone(dt.timezone.utc).date().isoformat()))
    return days


def _same_time(a: str, b: str) -> bool:
    """Whether two effective times can be one: the same instant (in any zone), the same date, or a date and an
    instant of that day as written ("2023-03-01" holds "2023-03-01T08:00:00Z")."""
    if _loose(a) and _loose(b):
        return a == b
    if _loose(a) or _loose(b):
        date, instant = (a, b) if _loose(a) else (b, a)
        return instant.startswith(date)
    return _time_key(a) == _time_key(b)


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
