# SPDX-License-Identifier: Apache-2.0
"""The JSON output of `poems-fhir evaluate --format json` (a contract: scripts rely on it)."""

from __future__ import annotations

from typing import Any

from ..criteria.model import Assessment, Classification, CriterionResult
from ..criteria.pathway import recorded_other_diagnosis
from ..criteria.response import HematologicResponse, Point, ResponseAssessment, VegfResponse
from ..criteria.risk import RiskFactor
from ..criteria.scope import ScopeDecision, ScreeningCounts, raised_flags
from ..mapping.values import fhir_date


def _criterion(result: CriterionResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "state": result.state.value,
        "reason": result.reason,
        "evidence": [e.to_dict() for e in result.evidence],
    }
    if result.caveat:
        out["caveat"] = result.caveat
    return out


def assessment_to_dict(a: Assessment) -> dict[str, Any]:
    return {
        "patient": a.patient,
        "as_of": a.as_of.isoformat() if a.as_of else None,
        "profile": a.profile,
        "classification": a.classification.value,
        # criteria.md §7: beside a recorded myeloma, AL amyloidosis or IgM neuropathy a "met" is no POEMS
        # diagnosis (the written report carries no POEMS code): the diagnoses' references, else empty
        "not_labelled_poems": list(recorded_other_diagnosis(a)) if a.classification is Classification.MET else [],
        "summary": a.summary,
        "criteria": {cid: _criterion(r) for cid, r in a.criteria.items()},
        "missing": [m.criterion for m in a.missing],
        "missing_detail": [
            {"criterion": m.criterion, "reason": m.reason, "suggestion": m.suggestion} for m in a.missing
        ],
        "flags": [
            {"code": f.code, "message": f.message, "evidence": [e.to_dict() for e in f.evidence]} for f in a.flags
        ],
        "supporting_signs": {sid: _criterion(r) for sid, r in a.signs.items()},
        "clinician_assertions": [e.to_dict() for e in a.clinician_assertions],
    }


def _point(p: Point | None) -> dict[str, object] | None:
    return p.to_dict() if p else None


def _hematologic(h: HematologicResponse) -> dict[str, Any]:
    return {
        "framework": h.framework,
        "category": h.category,
        "reason": h.reason,
        "baseline": _point(h.baseline),
        "latest": _point(h.latest),
        "change": round(h.change, 4) if h.change is not None else None,
        "caveats": list(h.caveats),
        "provisional": h.provisional,
    }


def _vegf(v: VegfResponse) -> dict[str, Any]:
    return {
        "category": v.category,
        "specimen": v.specimen,
        "reason": v.reason,
        "baseline": _point(v.baseline),
        "latest": _point(v.latest),
        **({"nadir": _point(v.nadir)} if v.nadir else {}),  # a progression's: the rise is from it
        # a follow-up in another specimen type, not comparable (probe108 D2; only when there is one)
        **({"unpaired": {**(_point(v.unpaired) or {}), "specimen": v.unpaired_specimen}} if v.unpaired else {}),
    }


def response_to_dict(r: ResponseAssessment) -> dict[str, Any]:
    return {
        # FHIR's partial date where only the month is known (a treatment read from words: probe82 D8)
        "baseline_date": fhir_date(r.baseline_date) if r.baseline_date else None,
        "first_treatment": fhir_date(r.first_treatment) if r.first_treatment else None,
        "hematologic": _hematologic(r.hematologic),
        "hematologic_imwg": _hematologic(r.hematologic_imwg),
        "vegf": _vegf(r.vegf),
        "clinical": {d: c.direction for d, c in r.clinical.items()},
        "clinical_detail": {
            d: {"direction": c.direction, "reason": c.reason, "evidence": list(c.evidence)}
            for d, c in r.clinical.items()
        },
        "clinical_overall": r.clinical_overall,
        "alerts": [{"code": a.code, "message": a.message, "evidence": list(a.evidence)} for a in r.alerts],
        # probe79 D8: a treatment on no readable day is no "no treatment" (only when there is one)
        **({"undated_treatments": list(r.undated_treatments)} if r.undated_treatments else {}),
        # probe83 D6: results the response would read but cannot place in time (only when there is one)
        **({"undated_results": list(r.undated_results)} if r.undated_results else {}),
        # probe83 D7: no treatment by as_of, the first one after it (only when there is one)
        **(
            {
                "later_treatment": {
                    "start": r.later_treatment.start.isoformat(),
                    "agents": list(r.later_treatment.agents),
                    "references": list(r.later_treatment.references),
                }
            }
            if r.later_treatment
            else {}
        ),
    }


def risk_to_dict(factors: list[RiskFactor]) -> dict[str, Any]:
    return {
        f.id: {"state": f.state.value, "model": f.model, "reason": f.reason, "evidence": list(f.evidence)}
        for f in factors
    }


def scope_to_dict(scope: ScopeDecision) -> dict[str, Any]:
    return {
        "rule": scope.rule,
        "trigger": list(scope.trigger),
        "matched": list(scope.matched),
        "states": {c: st.value for c, st in scope.states.items()},
        "reason": scope.reason,
        "evidence": [e.to_dict() for e in scope.evidence],
        "note": scope.note,
    }


def patient_to_dict(
    a: Assessment, response: ResponseAssessment, risk: list[RiskFactor], scope: ScopeDecision, audit: bool = False
) -> dict[str, Any]:
    """One patient of the JSON output. Out of scope it is quiet (``quiet: true``): the criteria stay
    (facts, and scripts rely on them), but no missing work-up, flags, response or risk factors (the
    keys stay, empty; ``response`` is null) - unless ``audit`` (--all)."""
    out = assessment_to_dict(a)
    raised = {f.code for f in raised_flags(a, scope)}
    # each flag says whether it is raised: with --all an out-of-scope patient lists its withheld flags
    # too, and a reader of "flags" alone took them for raised (probe53)
    out["flags"] = [{**f, "raised": f["code"] in raised} for f in out["flags"]]
    out.update(
        {
            "scope": scope.scope.value,
            "scope_detail": scope_to_dict(scope),
            "quiet": False,
            "response": response_to_dict(response),
            "risk_factors": risk_to_dict(risk),
        }
    )
    if scope.in_scope:
        return out
    if audit:
        out["withheld_flags"] = [f["code"] for f in out["flags"] if not f["raised"]]
        return out
    out.update(
        {
            "summary": f"Out of scope: {scope.reason}.",
            "missing": [],
            "missing_detail": [],
            "flags": [f for f in out["flags"] if f["raised"]],
            "response": None,
            "risk_factors": {},
            "quiet": True,
        }
    )
    return out


def screening_to_dict(counts: ScreeningCounts) -> dict[str, dict[str, int]]:
    """{"in_scope": {"total": 12, "met": 1, "not_met": 2, "indeterminate": 9}, "out_of_scope": {...}}"""
    return counts.to_dict()
