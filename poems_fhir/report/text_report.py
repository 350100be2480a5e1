# SPDX-License-Identifier: Apache-2.0
"""Human-readable text report: per patient a criteria table, classification, missing, flags;
one line per out-of-scope patient; the screening summary of a run."""

from __future__ import annotations

import textwrap

from ..criteria.model import Assessment, CriterionResult, State
from ..criteria.profiles import get_profile
from ..criteria.response import ResponseAssessment
from ..criteria.risk import RiskFactor
from ..criteria.scope import ScopeDecision, ScreeningCounts, raised_flags, withheld_flags
from ..i18n import translator
from ..mapping.values import fhir_date
from .wording import not_labelled
from .markup import terminal_line

_MARK = {
    State.PRESENT: "PRESENT",
    State.ABSENT: "absent",
    State.NOT_ASSESSED: "not assessed",
    State.INDETERMINATE: "INDETERMINATE",
}


def _evidence_line(result: CriterionResult) -> str:
    if not result.evidence:
        return result.reason
    parts = []
    for e in result.evidence[:4]:
        when = fhir_date(e.effective) if e.effective else "undated"
        parts.append(f"{e.summary} [{e.reference}, {when}]")
    more = f" (+{len(result.evidence) - 4} more)" if len(result.evidence) > 4 else ""
    worth_saying = result.state in (State.INDETERMINATE, State.NOT_ASSESSED) or result.caveat
    repeats_evidence = result.evidence[0].summary in result.reason
    note = f" - {result.reason}" if worth_saying and not repeats_evidence else ""
    return "; ".join(parts) + more + note


def _scope_line(scope: ScopeDecision) -> str:
    if scope.in_scope:
        return f"  Scope: in scope - {scope.reason}"
    return f"  Scope: OUT OF SCOPE - {scope.reason}. Audit detail (--all): nothing below is raised to clinicians"


def render_assessment(a: Assessment, width: int = 110, scope: ScopeDecision | None = None) -> str:
    profile = get_profile(a.profile)
    lines = [
        f"Patient {a.patient}  (profile {a.profile}, as of {a.as_of.isoformat() if a.as_of else 'latest data'})",
        f"  Classification: {a.classification.value.upper()}",
        *textwrap.wrap(not_labelled(translator(), a) or "", width, initial_indent="  ! ", subsequent_indent="    "),
        *([_scope_line(scope)] if scope else []),
        f"  {a.summary}",
        "",
        f"  {'criterion':<32} {'state':<14} evidence",
        f"  {'-' * 32} {'-' * 14} {'-' * 40}",
    ]
    in_profile = {c.value for c in profile.criteria}
    for cid, result in a.criteria.items():
        name = cid if cid in in_profile else f"({cid})"
        wrapped = textwrap.wrap(_evidence_line(result), width - 50) or [""]
        lines.append(f"  {name:<32} {_MARK[result.state]:<14} {wrapped[0]}")
        lines.extend(f"  {'':<32} {'':<14} {w}" for w in wrapped[1:])
    if a.signs:
        present = [s for s, _ in a.supporting_present()]
        if present:
            lines.append(f"  Supporting signs present (not counted): {', '.join(present)}")
    if a.missing:
        lines.append("  Missing - assessing these would decide the classification:")
        for m in a.missing:
            lines.append(f"    - {m.criterion}: {m.reason}")
            lines.append(f"      suggested: {m.suggestion}")
    for f in raised_flags(a, scope) if scope else a.flags:
        lines.extend(
            textwrap.wrap(f"FLAG {f.code}: {f.message}", width, initial_indent="  ! ", subsequent_indent="      ")
        )
    for f in withheld_flags(a, scope) if scope else ():
        lines.extend(
            textwrap.wrap(
                f"not raised (out of scope): {f.code}: {f.message}",
                width,
                initial_indent="  - ",
                subsequent_indent="      ",
            )
        )
    for e in a.clinician_assertions:
        lines.append(f"  Clinician assertion (kept separate from the rule result): {e.summary} [{e.reference}]")
    return _joined(lines)


def render_response(r: ResponseAssessment, risk: list[RiskFactor], applies: bool = True) -> str:
    """``applies``: whether POEMS' cohorts' risk factors apply (pathway.poems_context): otherwise they are
    not listed - the JSON output keeps them (the complete result)."""
    if r.first_treatment is None and r.baseline_date is None and r.undated_treatments:
        # probe79 D8: a treatment there is, only on no readable day - not "no treatment recorded"
        shown = ", ".join(r.undated_treatments[:3]) + (", ..." if len(r.undated_treatments) > 3 else "")
        lines = [f"  Response: a treatment is recorded without a readable date ({shown}); give --baseline DATE"]
    elif r.first_treatment is None and r.baseline_date is None and r.later_treatment:
        # probe83 D7: recorded, but begun after --as-of - not "no treatment recorded"
        later = r.later_treatment
        lines = [
            f"  Response: no treatment started by {r.as_of} (the first, {' and '.join(later.agents)}, starts "
            f"{later.start}; give --baseline DATE to assess change from a date)"
        ]
    elif r.first_treatment is None and r.baseline_date is None:
        lines = ["  Response: no treatment recorded (give --baseline DATE to assess change from a date)"]
    else:
        # to the precision known: a treatment month read from words is "2022-04", not its first day (probe82 D8)
        baseline = fhir_date(r.baseline_date) if r.baseline_date else "-"
        first = fhir_date(r.first_treatment) if r.first_treatment else "-"
        lines = [f"  Response (baseline {baseline}, first treatment {first}):"]
        for h in (r.hematologic, r.hematologic_imwg):
            extra = f"; caveats: {'; '.join(h.caveats)}" if h.caveats else ""
            flag = " (provisional)" if h.provisional else ""
            lines.append(f"    haematological, {h.framework}-style: {h.category}{flag} - {h.reason}{extra}")
        lines.append(
            f"    VEGF: {r.vegf.category}{' (' + r.vegf.specimen + ')' if r.vegf.specimen else ''} - {r.vegf.reason}"
        )
        lines.append(
            f"    clinical: {r.clinical_overall} ("
            + ", ".join(f"{d} {c.direction}" for d, c in r.clinical.items())
            + ")"
        )
        for a in r.alerts:
            lines.extend(
                textwrap.wrap(f"ALERT {a.code}: {a.message}", 106, initial_indent="  ! ", subsequent_indent="      ")
            )
    if not applies:
        lines.append(
            "  Risk factors: not shown - POEMS cohorts' factors apply where POEMS is in question (criteria met, "
            "a POEMS criterion beyond the paraprotein and the neuropathy, or a treatment begun), not beside a "
            "recorded other diagnosis that explains the findings (myeloma, AL amyloidosis, a myeloproliferative "
            "neoplasm, an IgM neuropathy), nor a treatment alone beside a recorded MGUS"
        )
        return _joined(lines)
    present = [f"{f.id} ({f.model.split(' (')[0]})" for f in risk if f.state is State.PRESENT]
    unknown = [f.id for f in risk if f.state is State.NOT_ASSESSED]
    lines.append(f"  Risk factors present: {', '.join(present) or 'none'}")
    if unknown:
        lines.append(f"  Risk factors not assessed: {', '.join(unknown)}")
    return _joined(lines)


def _joined(lines: list[str]) -> str:
    """The report's lines, each one line whatever the source text in it holds: a line break inside one
    (a Condition's text "POEMS syndrome\\nClassification: NOT_MET") is shown as backslash-n, so source
    text cannot forge a line of the report (probe47 D3)."""
    return "\n".join(terminal_line(line) for line in lines)


def render_out_of_scope(a: Assessment, scope: ScopeDecision) -> str:
    """The one line an out-of-scope patient gets: no flags, no work-up, no risk factors."""
    when = f", as of {a.as_of.isoformat()}" if a.as_of else ""
    note = f"; note: {scope.note}" if scope.note else ""
    return terminal_line(
        f"{a.patient}: out of scope - {scope.reason} (classification {a.classification.value}{when}){note}"
    )


def _classifications(counts: dict[str, int]) -> str:
    parts = [f"{counts[k]:,} {k.replace('_', ' ')}" for k in ("met", "indeterminate", "not_met") if counts.get(k)]
    return ", ".join(parts)


def render_screening(counts: ScreeningCounts) -> str:
    """ "12 in scope: 1 met, 9 indeterminate, 2 not met; 41,988 out of scope"."""
    d = counts.to_dict()
    inside = f"{d['in_scope']['total']:,} in scope"
    if d["in_scope"]["total"]:
        inside += ": " + _classifications(d["in_scope"])
    return f"{inside}; {d['out_of_scope']['total']:,} out of scope"
