# SPDX-License-Identifier: Apache-2.0
"""Sources that disagree about one criterion part, judged after coded_wins and self_conflicts.

- A Condition stating a finding whose own cited report (``evidence.detail``) denies it: a conflict, the
  Condition indeterminate with the report cited (probe114 i10; the mirror of D3's refutation).

criteria.md §3.3: INDETERMINATE for conflicting evidence. A finding present on another day, or from another
source, still makes the criterion present (present at any time): only the finding denied so is changed.
"""

from __future__ import annotations

from dataclasses import replace

from ...criteria.model import Criterion, Finding, State, Strength
from .findings import part_of

_CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value


def disagreements(findings: list[Finding]) -> list[Finding]:
    """The rules of this module over one patient's findings."""
    return cited_denials(findings)


def _same_part(a: Finding, b: Finding) -> bool:
    """Both speak of one criterion part (a Condition of "liver+spleen" and a denial of the spleen do)."""
    (topic_a, part_a), (topic_b, part_b) = part_of(a), part_of(b)
    if topic_a != topic_b:
        return False
    if part_a == part_b:
        return True
    return bool(a.component and b.component and set(a.component.split("+")) & set(b.component.split("+")))


def _report_denial(f: Finding) -> bool:
    """A report's strong denial: a low-grade negative (a plain radiograph) cannot deny a finding."""
    return (
        f.state is State.ABSENT
        and f.strength is Strength.STRONG
        and not f.is_assertion
        and f.evidence.reference.startswith("DiagnosticReport/")
    )


def cited_denials(findings: list[Finding]) -> list[Finding]:
    """A Condition stating a finding whose cited report denies the same part becomes indeterminate, the
    report in its context (cited): the clinician's code does not silence its own evidence (probe114 i10:
    a confirmed splenomegaly citing a CT "No splenomegaly." was present, the CT not cited)."""
    denials = [f for f in findings if _report_denial(f)]
    if not denials:
        return findings
    out = []
    for f in findings:
        against = (
            [d for d in denials if d.evidence.reference in f.evidence.supporting and _same_part(f, d)]
            if f.is_assertion and not f.from_text and f.state is State.PRESENT
            else []
        )
        if not against:
            out.append(f)
            continue
        said = ", ".join(d.evidence.summary for d in against)
        out.append(
            replace(
                f,
                state=State.INDETERMINATE,
                note=f"conflicting: {f.evidence.summary} is recorded and its own cited evidence denies it ({said})",
                context=f.context + tuple(d.evidence for d in against),
            )
        )
    return out
