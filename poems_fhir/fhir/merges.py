# SPDX-License-Identifier: Apache-2.0
"""Which patient records a merge retired, and the record that survives each (probe79 D1).

A server's merge leaves two Patients: the old one marked ``link`` type ``replaced-by`` ("must no
longer be used", FHIR R4 Patient.link.type), the survivor often marked ``replaces``. Resources the
merge did not move still name the old record. Reading files, they belong to the survivor: the
sync's server source already takes a record the patient *replaces* as its own (probe73 D9); in a
Bundle or an export, a confirmed polyneuropathy filed under the old record was evaluated as another
patient's, and the survivor was "indeterminate".

Only Patients are looked at (one per patient, and only those with links): what grouping needs is
a small map, old record -> survivor, whatever the size of the input. ``seealso`` and ``refer``
name another record of the same person without retiring either: nothing moves for them.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .codes import LINK_TYPES, fhir_code

#: ``canonical(reference)``: "Patient/<id>" for a reference to a Patient of the input, else None
Canonical = Callable[[str], str | None]


@dataclass
class Merges:
    """``into``: each retired record whose resources go to its survivor (the end of the chain).
    ``problems``: (record, why) for links that cannot be followed: a chain that goes round, a
    record two others say they replace. Those records keep their own resources."""

    into: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: the records whose links go round (in a ring, or leading into one): none is merged, also where its
    #: own ``replaced-by`` names another - each is evaluated with its own resources, as the problem says
    #: (read.surviving_record asks this before following links itself; probe82 D9)
    going_round: frozenset[str] = frozenset()

    def survivor(self, patient: str) -> str:
        """The record that holds ``patient``'s resources: its survivor, else itself."""
        return self.into.get(patient, patient)

    def replaced(self) -> dict[str, tuple[str, ...]]:
        """Survivor -> the retired records whose resources it holds, sorted."""
        out: dict[str, list[str]] = {}
        for old, new in sorted(self.into.items()):
            out.setdefault(new, []).append(old)
        return {new: tuple(olds) for new, olds in out.items()}


def find_merges(patients: Iterable[tuple[str, Any]], present: Container[str], canonical: Canonical) -> Merges:
    """``patients``: (key, ``link`` list) of the input's Patients that have links; ``present``: the
    keys of every Patient read - a resource moves only to a survivor the input holds (a record
    merged into one it does not hold is skipped as before: evaluating the survivor on a part of its
    data would write a report to a record we did not read)."""
    edges = _edges(patients, canonical)
    merges = Merges(problems=edges.problems)
    resolved: dict[str, str | None] = {}
    reported: set[frozenset[str]] = set()
    going_round: set[str] = set()
    for start in sorted(edges.into):
        if start in resolved:
            continue
        path, end, cycle = _follow(start, edges.into, resolved)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            merges.problems.append(_round(cycle))
        # in a ring, or leading into one (the walk stopped at a record already known to)
        into_ring = bool(cycle) or edges.into[path[-1]] in going_round
        target = None if into_ring or end is None or end not in present else end
        for member in path:
            resolved[member] = target
        if into_ring:
            going_round.update(path)
    merges.into = {old: new for old, new in sorted(resolved.items()) if new is not None}
    merges.going_round = frozenset(going_round)
    return merges


@dataclass
class _Edges:
    into: dict[str, str | None]  # record -> the record that replaced it (None: named by no Patient reference)
    problems: list[tuple[str, str]]


def _edges(patients: Iterable[tuple[str, Any]], canonical: Canonical) -> _Edges:
    """One step of each merge: a record's own ``replaced-by`` decides; a ``replaces`` of another
    record counts for a record that says nothing itself, when exactly one record claims it - and not
    when the claimer's own ``replaced-by`` links lead to the record it claims (probe82 D9: an old
    record saying both "replaced by" and "replaces" its survivor): that claim contradicts the
    record's own word, which decides; it is listed."""
    into: dict[str, str | None] = {}
    claims: dict[str, list[str]] = {}
    unknown: list[tuple[str, str]] = []
    for key, links in sorted(patients, key=lambda p: p[0]):
        for kind, ref in _links(links):
            if kind not in LINK_TYPES:  # probe140 D9: "" (or a typo) was neither merged nor listed
                unknown.append((key, _unknown_link(key, kind, ref)))
                continue
            target = canonical(ref) if ref else None
            if kind == "replaced-by" and key not in into:
                into[key] = target
            elif kind == "replaces" and target and target != key and key not in claims.setdefault(target, []):
                claims[target].append(key)
    problems = unknown
    own = dict(into)  # the records' own replaced-by links, before any claim is taken
    for old, by in sorted(claims.items()):
        if old in into:
            continue  # the record's own link decides
        for claimer in [c for c in by if _leads_to(c, old, own)]:
            by.remove(claimer)
            problems.append(
                (
                    claimer,
                    f"{claimer} says it is replaced by {own[claimer]} (Patient.link 'replaced-by') and that it "
                    f"replaces {old}, which its 'replaced-by' leads to: a record cannot replace its own successor, "
                    "so its 'replaces' link is not followed and its 'replaced-by' decides; correct the links",
                )
            )
        if not by:
            continue
        if len(by) == 1:
            into[old] = by[0]
            continue
        shown = ", ".join(by[:3]) + (", ..." if len(by) > 3 else "")
        problems.append(
            (
                old,
                f"{len(by)} records say they replace {old} (Patient.link 'replaces' in {shown}): which one holds "
                f"its resources cannot be told, so they stay with {old}; correct the links",
            )
        )
    return _Edges(into, problems)


def _leads_to(start: str, target: str, into: dict[str, str | None]) -> bool:
    """Whether following ``replaced-by`` links from ``start`` reaches ``target``."""
    seen = {start}
    current = into.get(start)
    while current is not None and current not in seen:
        if current == target:
            return True
        seen.add(current)
        current = into.get(current)
    return False


def _unknown_link(key: str, kind: str, ref: str | None) -> str:
    return (
        f"{key} has a Patient.link of type {kind[:40]!r}{f' to {ref[:200]}' if ref else ''}, which is no link type "
        f"({', '.join(sorted(LINK_TYPES))}): whether this record was merged cannot be told, so the link is not "
        "followed and the record is evaluated with its own resources; correct the link"
    )


def _links(links: Any) -> Iterator[tuple[str, str | None]]:
    """(type, reference) of each link (checked at the boundary; read defensively all the same), its type as a
    link-type code ("Replaced_By" -> "replaced-by", fhir/codes.py), else as sent (a missing one as "")."""
    for link in links if isinstance(links, list) else ():
        if not isinstance(link, dict):
            continue
        other = link.get("other")
        ref = other.get("reference") if isinstance(other, dict) else None
        kind = link.get("type")
        word = fhir_code(kind)
        yield (word if word in LINK_TYPES else str(kind or "")), ref if isinstance(ref, str) else None


def _follow(
    start: str, into: dict[str, str | None], resolved: dict[str, str | None]
) -> tuple[list[str], str | None, list[str]]:
    """(the records passed, the chain's end, the cycle met - empty when none). A record already
    resolved ends the walk with its answer: each link is followed once over all records."""
    path, seen = [start], {start: 0}
    current = into[start]
    while current is not None and current in into:
        if current in resolved:
            return path, resolved[current], []
        if current in seen:
            return path, None, path[seen[current] :]
        seen[current] = len(path)
        path.append(current)
        current = into[current]
    return path, current, []


def _round(cycle: list[str]) -> tuple[str, str]:
    """The problem of links that go round, told from the record that sorts first."""
    first = cycle.index(min(cycle))
    ring = cycle[first:] + cycle[:first]
    shown = " -> ".join([*ring, ring[0]])
    return (
        ring[0],
        f"Patient.link goes round ({shown}): no record of these survives a merge, so each is evaluated with "
        "its own resources; correct the links",
    )
