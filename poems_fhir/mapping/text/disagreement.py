# SPDX-License-Identifier: Apache-2.0
"""Sources that disagree about one criterion part, judged after coded_wins and self_conflicts.

- A Condition stating a finding whose own cited report (``evidence.detail``) denies it: a conflict, the
  Condition indeterminate with the report cited (probe114 i10; the mirror of D3's refutation).
- Two study reports of the same day, one stating a finding and one denying it, where nothing tells their
  sites apart: a conflict, both cited (probe114 D5). Where their regions, places or specimens differ
  (probe115 D3, D4), the finding stays present and names the denial.

criteria.md §3.3: INDETERMINATE for conflicting evidence. A finding present on another day, or from another
source, still makes the criterion present (present at any time): only the finding denied so is changed.
"""

from __future__ import annotations

from dataclasses import replace

from ...criteria.model import Criterion, Finding, State, Strength
from .findings import part_of
from .sites import told_apart

_CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value


def disagreements(findings: list[Finding], affirmed: frozenset[tuple[str, tuple[str, str | None]]]) -> list[Finding]:
    """Both rules of this module over one patient's findings. ``affirmed``: (report, part) of every report whose
    words also state the finding - its denial is of one place or of another time, not of the finding
    ("Sclerotic lesion in L2. No sclerotic lesions in the skull.")."""
    return same_day_studies(cited_denials(findings, affirmed), affirmed)


def _same_part(a: Finding, b: Finding) -> bool:
    """Both speak of one criterion part (a Condition of "liver+spleen" and a denial of the spleen do)."""
    (topic_a, part_a), (topic_b, part_b) = part_of(a), part_of(b)
    if topic_a != topic_b:
        return False
    if part_a == part_b:
        return True
    return bool(a.component and b.component and set(a.component.split("+")) & set(b.component.split("+")))


def _report_denial(f: Finding, affirmed: frozenset[tuple[str, tuple[str, str | None]]]) -> bool:
    """A report's strong denial: a low-grade negative (a plain radiograph) cannot deny a finding, nor can a
    report that states it too, nor a denial of one place ("no sclerotic lesions in the skull")."""
    return (
        f.state is State.ABSENT
        and f.strength is Strength.STRONG
        and not f.is_assertion
        and f.evidence.reference.startswith("DiagnosticReport/")
        and (f.evidence.reference, part_of(f)) not in affirmed
        and not (f.site is not None and (f.site.located or f.site.places))
    )


def cited_denials(
    findings: list[Finding], affirmed: frozenset[tuple[str, tuple[str, str | None]]] = frozenset()
) -> list[Finding]:
    """A Condition stating a finding whose cited report denies the same part becomes indeterminate, the
    report in its context (cited): the clinician's code does not silence its own evidence (probe114 i10:
    a confirmed splenomegaly citing a CT "No splenomegaly." was present, the CT not cited)."""
    denials = [f for f in findings if _report_denial(f, affirmed)]
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


def _study(f: Finding) -> bool:
    return f.site is not None and f.effective is not None and not f.retold


def same_day_studies(
    findings: list[Finding], affirmed: frozenset[tuple[str, tuple[str, str | None]]] = frozenset()
) -> list[Finding]:
    """A study report's finding denied by another study report of the same day, of the same part: a conflict
    when nothing tells their sites apart (sites.told_apart), else present with the denial named."""
    denials = [
        f
        for f in findings
        if _study(f)
        and f.state is State.ABSENT
        and f.strength is Strength.STRONG
        and (f.evidence.reference, part_of(f)) not in affirmed  # a report stating it too denies another place
    ]
    if not denials:
        return findings
    out = []
    for f in findings:
        against = _same_day_denials(f, denials) if _study(f) and f.state is State.PRESENT else []
        out.append(_judged(f, against) if against else f)
    return out


def _same_day_denials(f: Finding, denials: list[Finding]) -> list[Finding]:
    return [
        d
        for d in denials
        if d.effective == f.effective
        and d.evidence.reference != f.evidence.reference
        and _same_part(f, d)
        # the clone: only a report of the same test (a marrow's clonal cells and a serum test are two facts)
        and (f.topic != _CLONE or d.source_rule == f.source_rule)
    ]


def _judged(f: Finding, against: list[Finding]) -> Finding:
    site = f.site
    same = [d for d in against if site is not None and d.site is not None and not told_apart(site, d.site)]
    if same:
        said = ", ".join(d.evidence.summary for d in same)
        return replace(
            f,
            state=State.INDETERMINATE,
            note=f"conflicting reports of the same day: stated ({f.evidence.summary}) and denied ({said})",
            context=f.context + tuple(d.evidence for d in same),
        )
    # another region, place or specimen: no conflict, but the denial is named where the finding is shown
    named = ", ".join(f"{d.evidence.summary} ({d.evidence.reference})" for d in against)
    summary = f"{f.evidence.summary}; denied the same day by a study of another site, region or specimen: {named}"
    return replace(f, evidence=replace(f.evidence, summary=summary))
