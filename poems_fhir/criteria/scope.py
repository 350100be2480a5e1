# SPDX-License-Identifier: Apache-2.0
"""Scope: is there a reason to suspect POEMS in this patient at all?

The four-state classification is honest for one suspected patient, but over a population almost
everyone is "indeterminate" with ten criteria "missing". Scope separates the two questions: a patient
is *in scope* when at least one trigger criterion is present (default: a mandatory major criterion,
polyneuropathy or a monoclonal plasma-cell disorder), or when the criteria are met; otherwise *out of
scope*, and the product stays quiet about them (no flags, work-up suggestions, alerts or risk factors).

criteria.md defines the criteria, not a screening scope: the trigger is a product setting, not a
clinical rule, and so it is configurable (``--trigger``). One definition, used by evaluate, report
and sync. Pure: an Assessment in, a ScopeDecision out; no FHIR JSON, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from .model import Assessment, Classification, Criterion, Evidence, Flag, State

#: The mandatory major criteria of every profile (criteria.md §2 MAJ-1, MAJ-2).
DEFAULT_TRIGGER: tuple[str, ...] = (
    Criterion.POLYNEUROPATHY.value,
    Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value,
)


class Scope(str, Enum):
    IN_SCOPE = "in_scope"
    OUT_OF_SCOPE = "out_of_scope"


class TriggerError(ValueError):
    """A trigger names something that is not a criterion id."""


_KNOWN = frozenset(c.value for c in Criterion)


def check_trigger(trigger: Iterable[str]) -> tuple[str, ...]:
    """The trigger as a tuple of criterion ids; unknown ids or an empty trigger are errors."""
    items = tuple(dict.fromkeys(trigger))
    unknown = [c for c in items if c not in _KNOWN]
    if unknown or not items:
        raise TriggerError(
            f"unknown criterion id(s) {unknown}; use ids such as polyneuropathy"
            if unknown
            else "the trigger needs at least one criterion id, such as polyneuropathy"
        )
    return items


def describe_rule(trigger: Sequence[str]) -> str:
    return f"in scope when any of {', '.join(trigger)} is present, or the criteria are met"


@dataclass(frozen=True)
class ScopeDecision:
    """In or out of scope, and what decided it."""

    scope: Scope
    rule: str
    trigger: tuple[str, ...]
    #: trigger criteria that are present (empty when out of scope)
    matched: tuple[str, ...]
    #: the state of every trigger criterion
    states: dict[str, State]
    reason: str
    #: evidence of the matched criteria (in scope) or of every trigger criterion (out of scope)
    evidence: tuple[Evidence, ...] = ()
    #: out of scope despite a clinician's POEMS diagnosis: worth a look at the site's mapping
    note: str | None = None

    @property
    def in_scope(self) -> bool:
        return self.scope is Scope.IN_SCOPE


def decide_scope(a: Assessment, trigger: Sequence[str] = DEFAULT_TRIGGER) -> ScopeDecision:
    """Decide the scope of one assessment under ``trigger`` (criterion ids, any present).

    Only *present* counts: "not assessed" and "indeterminate" are no reason to suspect POEMS
    (criteria.md §3.3 never turns them into present). A patient whose criteria are met is always
    in scope, whatever the trigger: quieting a positive result would hide exactly what matters.
    """
    trigger = check_trigger(trigger)
    rule = describe_rule(trigger)
    states = {c: a.criteria[c].state for c in trigger}
    matched = tuple(c for c in trigger if states[c] is State.PRESENT)
    if matched:
        evidence = tuple(e for c in matched for e in a.criteria[c].evidence)
        return ScopeDecision(Scope.IN_SCOPE, rule, trigger, matched, states, f"{', '.join(matched)} present", evidence)
    if a.classification is Classification.MET:
        return ScopeDecision(
            Scope.IN_SCOPE, rule, trigger, (), states, "criteria met (no trigger criterion present)", ()
        )
    evidence = tuple(e for c in trigger for e in a.criteria[c].evidence)
    by_state = ", ".join(f"{c} {states[c].value.replace('_', ' ')}" for c in trigger)
    note = None
    if a.clinician_assertions:
        # not evidence for any criterion (criteria.md §3.3), so it does not decide the scope; but a
        # recorded POEMS diagnosis without any trigger criterion often means unmapped local codes
        refs = ", ".join(f"{e.summary} [{e.reference}]" for e in a.clinician_assertions)
        note = (
            f"a clinician's POEMS diagnosis is recorded ({refs}) although no trigger criterion is "
            "present: check that the site's codes for these criteria are mapped"
        )
    return ScopeDecision(
        Scope.OUT_OF_SCOPE,
        rule,
        trigger,
        (),
        states,
        f"none of the trigger criteria present: {by_state}",
        evidence,
        note,
    )


#: Flags that only make sense when POEMS is suspected (criteria.md §2 MAJ-2 isotype, MIN-6
#: footnote on cytopenias, §7 differentials): raised only in scope.
SUSPICION_ONLY_FLAGS = frozenset({"atypical_isotype", "igm_paraprotein", "cytopenia_without_castleman"})


def raised_only_in_scope(flag_code: str) -> bool:
    return flag_code in SUSPICION_ONLY_FLAGS or flag_code.startswith("differential_")


def raised_flags(a: Assessment, decision: ScopeDecision) -> tuple[Flag, ...]:
    """The flags to raise: all in scope; out of scope none of those that presuppose suspicion."""
    if decision.in_scope:
        return a.flags
    return tuple(f for f in a.flags if not raised_only_in_scope(f.code))


def withheld_flags(a: Assessment, decision: ScopeDecision) -> tuple[Flag, ...]:
    """The flags not raised because the patient is out of scope (shown only in audit output)."""
    raised = set(raised_flags(a, decision))
    return tuple(f for f in a.flags if f not in raised)


@dataclass
class ScreeningCounts:
    """Counts per scope and classification over a run: "12 in scope: 1 met, ...; 41,988 out of scope"."""

    in_scope: Counter[str] = field(default_factory=Counter)
    out_of_scope: Counter[str] = field(default_factory=Counter)

    def add(self, decision: ScopeDecision, classification: Classification) -> None:
        (self.in_scope if decision.in_scope else self.out_of_scope)[classification.value] += 1

    @property
    def total_in_scope(self) -> int:
        return sum(self.in_scope.values())

    @property
    def total_out_of_scope(self) -> int:
        return sum(self.out_of_scope.values())

    def to_dict(self) -> dict[str, dict[str, int]]:
        def part(c: Counter[str]) -> dict[str, int]:
            return {"total": sum(c.values()), **{k.value: c[k.value] for k in Classification}}

        return {"in_scope": part(self.in_scope), "out_of_scope": part(self.out_of_scope)}
