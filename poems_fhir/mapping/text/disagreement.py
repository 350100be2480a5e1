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

from collections.abc import Mapping, Sequence
from dataclasses import replace

from ...criteria.model import Criterion, Finding, State, Strength
from .findings import part_of
from .sites import told_apart

_CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value


def disagreements(
    findings: list[Finding],
    affirmed: frozenset[tuple[str, tuple[str, str | None]]],
    stated: Sequence[Finding] = (),
    cites: Mapping[str, set[str]] | None = None,
    part_regions: Mapping[str, frozenset[str]] | None = None,
) -> list[Finding]:
    """Both rules of this module over one patient's findings. ``affirmed``: (report, part) of every report whose
    words also state the finding - its denial is of one place or of another time, not of the finding
    ("Sclerotic lesion in L2. No sclerotic lesions in the skull."). ``stated``: those reports' findings (present),
    also where a Condition citing them overruled them (coded_wins) - a Condition's support and its day. ``cites``:
    a Condition's reference -> the references it cites, canonical (else its evidence.supporting as written).
    ``part_regions``: the mapping's study regions that see a whole part (sites.told_apart)."""
    regions = part_regions or {}
    return same_day_studies(cited_denials(findings, affirmed, stated, cites, regions), affirmed, regions)


def _parts(f: Finding) -> tuple[str, ...]:
    """The named parts of a finding's component ("liver+spleen": two), in its order; () when it names none."""
    return tuple(p for p in (f.component or "").split("+") if p)


def _same_part(a: Finding, b: Finding) -> bool:
    """Both speak of one criterion part (a Condition of "liver+spleen" and a denial of the spleen do)."""
    (topic_a, part_a), (topic_b, part_b) = part_of(a), part_of(b)
    if topic_a != topic_b:
        return False
    if part_a == part_b:
        return True
    return bool(set(_parts(a)) & set(_parts(b)))


def _split(f: Finding, against: list[Finding]) -> tuple[Finding | None, Finding]:
    """A finding of several parts denied of some only: (the undisputed parts as they were, the disputed ones) -
    "Hepatosplenomegaly." beside a same-day "No splenomegaly." leaves the liver present (probe118 D7, D8): the
    conflict is of the part both speak of, never of the parts only one does. (None, f) when every part is disputed
    or the finding names no parts, or a denial names none (a generic denial speaks for every part)."""
    own = _parts(f)
    if len(own) < 2 or any(not _parts(d) for d in against):
        return None, f
    disputed = {p for d in against for p in _parts(d)}
    rest = tuple(p for p in own if p not in disputed)
    if not rest or len(rest) == len(own):
        return None, f
    return replace(f, component="+".join(rest)), replace(f, component="+".join(p for p in own if p in disputed))


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
    findings: list[Finding],
    affirmed: frozenset[tuple[str, tuple[str, str | None]]] = frozenset(),
    stated: Sequence[Finding] = (),
    cites: Mapping[str, set[str]] | None = None,
    part_regions: Mapping[str, frozenset[str]] | None = None,
) -> list[Finding]:
    """A Condition stating a finding whose cited report denies the same part becomes indeterminate, the
    report in its context (cited): the clinician's code does not silence its own evidence (probe114 i10:
    a confirmed splenomegaly citing a CT "No splenomegaly." was present, the CT not cited).

    Per part: a "hepatosplenomegaly" citing "No splenomegaly." stays present for the liver (probe118 D8). A
    Condition that also cites a report stating the finding is supported: a denial of another day is an ordinary
    report of that day, judged as it would be without the Condition (probe118 D9: a CT "Splenomegaly 16 cm." and
    a later ultrasound "No splenomegaly." - present at any time); only a denial of the stating report's own day,
    nothing telling their sites apart, is a conflict - cited or not (probe131 G1: a splenomegaly citing a CT
    abdomen and pelvis "Splenomegaly 16 cm." beside a same-day, uncited "Ultrasound abdomen" "No splenomegaly."
    was present; the CT itself is a conflict there, so the Condition resting on it is one too)."""
    regions = part_regions or {}
    denials = [f for f in findings if _report_denial(f, affirmed)]
    by_day = _study_denials(findings, affirmed)
    if not denials and not by_day:
        return findings
    # the stating reports' findings by reference: a Condition looks up those it cites (probe129 D3: no scan of all)
    by_ref: dict[str, list[Finding]] = {}
    for s in stated:
        if s.state is State.PRESENT:
            by_ref.setdefault(s.evidence.reference, []).append(s)
    out: list[Finding] = []
    for f in findings:
        cited = (cites or {}).get(f.evidence.reference) or set(f.evidence.supporting)
        condition = f.is_assertion and not f.from_text and f.state is State.PRESENT and bool(cited)
        against = [d for d in denials if d.evidence.reference in cited and _same_part(f, d)] if condition else []
        rest, disputed = _split(f, against)
        support = [s for ref in cited for s in by_ref.get(ref, ()) if _same_part(disputed, s)] if condition else []
        if support:
            # the Condition's own statement stands on each stating report not denied on its own day
            disputes = {id(s): [d for d in against + _day_of(s, by_day) if _disputes(d, s, regions)] for s in support}
            against = [] if any(not ds for ds in disputes.values()) else [d for ds in disputes.values() for d in ds]
            against = list({id(d): d for d in against}.values())
            rest, disputed = _split(f, against)
        if not against:  # nothing to weigh (each finding scanned every statement: quadratic, probe129 D3)
            out.append(f)
            continue
        said = ", ".join(d.evidence.summary for d in against)
        out += [rest] if rest is not None else []
        out.append(
            replace(
                disputed,
                state=State.INDETERMINATE,
                note=f"conflicting: {f.evidence.summary} is recorded and {_how(against, cited)} ({said})",
                context=f.context + tuple(d.evidence for d in against),
            )
        )
    return out


def _how(against: list[Finding], cited: set[str]) -> str:
    """How a Condition's evidence is denied: by a report it cites, or beside the report it cites (probe131 G1)."""
    if all(d.evidence.reference in cited for d in against):
        return "its own cited evidence denies it"
    return "a study of the same site denies its cited evidence the same day"


def _day_of(statement: Finding, by_day: Mapping[tuple[object, str], list[Finding]]) -> list[Finding]:
    """The study denials of a statement's own day and criterion that could dispute it (the clone: same test)."""
    day = by_day.get((statement.effective, part_of(statement)[0]), [])
    return _same_day_denials(statement, day) if day else []


def _disputes(denial: Finding, statement: Finding, part_regions: Mapping[str, frozenset[str]]) -> bool:
    """A report's denial of a part that another report states on the same day, nothing telling their sites apart."""
    return (
        denial.effective is not None
        and denial.effective == statement.effective
        and denial.evidence.reference != statement.evidence.reference
        and _same_part(statement, denial)
        and not (
            statement.site is not None
            and denial.site is not None
            and told_apart(statement.site, denial.site, _parts(statement), part_regions)
        )
    )


def _study(f: Finding) -> bool:
    return f.site is not None and f.effective is not None and not f.retold


def _study_denials(
    findings: list[Finding], affirmed: frozenset[tuple[str, tuple[str, str | None]]]
) -> dict[tuple[object, str], list[Finding]]:
    """Study reports' strong denials by their day and criterion: a finding meets only its own day's (probe129 D3:
    10,000 reports of one patient, each finding scanned every denial - quadratic)."""
    by_day: dict[tuple[object, str], list[Finding]] = {}
    for d in findings:
        if (
            _study(d)
            and d.state is State.ABSENT
            and d.strength is Strength.STRONG
            and (d.evidence.reference, part_of(d)) not in affirmed  # a report stating it too denies another place
        ):
            by_day.setdefault((d.effective, part_of(d)[0]), []).append(d)
    return by_day


def same_day_studies(
    findings: list[Finding],
    affirmed: frozenset[tuple[str, tuple[str, str | None]]] = frozenset(),
    part_regions: Mapping[str, frozenset[str]] | None = None,
) -> list[Finding]:
    """A study report's finding denied by another study report of the same day, of the same part: a conflict
    when nothing tells their sites apart (sites.told_apart), else present with the denial named."""
    by_day = _study_denials(findings, affirmed)
    if not by_day:
        return findings
    regions = part_regions or {}
    out: list[Finding] = []
    for f in findings:
        day = by_day.get((f.effective, part_of(f)[0]), []) if _study(f) and f.state is State.PRESENT else []
        against = _same_day_denials(f, day) if day else []
        if not against:
            out.append(f)
            continue
        rest, disputed = _split(f, against)
        judged = _judged(disputed, against, regions)
        # the parts no denial speaks of stay as they were (probe118 D7: the liver of "Hepatosplenomegaly.")
        out += (
            [rest, judged]
            if rest is not None and judged.state is State.INDETERMINATE
            else [_judged(f, against, regions)]
        )
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


def _judged(f: Finding, against: list[Finding], part_regions: Mapping[str, frozenset[str]]) -> Finding:
    site = f.site
    same = [
        d
        for d in against
        if site is not None and d.site is not None and not told_apart(site, d.site, _parts(f), part_regions)
    ]
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
