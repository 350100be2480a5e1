# SPDX-License-Identifier: Apache-2.0
"""The JSON output of `poems-fhir evaluate --format json` (a contract: scripts rely on it)."""
from __future__ import annotations

from typing import Any

from ..criteria.model import Assessment, CriterionResult
from ..criteria.response import HematologicResponse, Point, ResponseAssessment, VegfResponse
from ..criteria.risk import RiskFactor


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
        "summary": a.summary,
        "criteria": {cid: _criterion(r) for cid, r in a.criteria.items()},
        "missing": [m.criterion for m in a.missing],
        "missing_detail": [
            {"criterion": m.criterion, "reason": m.reason, "suggestion": m.suggestion}
            for m in a.missing
        ],
        "flags": [
            {"code": f.code, "message": f.message, "evidence": [e.to_dict() for e in f.evidence]}
            for f in a.flags
        ],
        "supporting_signs": {sid: _criterion(r) for sid, r in a.signs.items()},
        "clinician_assertions": [e.to_dict() for e in a.clinician_assertions],
    }


def _point(p: Point | None) -> dict[str, object] | None:
    return p.to_dict() if p else None


def _hematologic(h: HematologicResponse) -> dict[str, Any]:
    return {"framework": h.framework, "category": h.category, "reason": h.reason,
            "baseline": _point(h.baseline), "latest": _point(h.latest),
            "change": round(h.change, 4) if h.change is not None else None,
            "caveats": list(h.caveats), "provisional": h.provisional}


def _vegf(v: VegfResponse) -> dict[str, Any]:
    return {"category": v.category, "specimen": v.specimen, "reason": v.reason,
            "baseline": _point(v.baseline), "latest": _point(v.latest)}


def response_to_dict(r: ResponseAssessment) -> dict[str, Any]:
    return {
        "baseline_date": r.baseline_date.isoformat() if r.baseline_date else None,
        "first_treatment": r.first_treatment.isoformat() if r.first_treatment else None,
        "hematologic": _hematologic(r.hematologic),
        "hematologic_imwg": _hematologic(r.hematologic_imwg),
        "vegf": _vegf(r.vegf),
        "clinical": {d: c.direction for d, c in r.clinical.items()},
        "clinical_detail": {d: {"direction": c.direction, "reason": c.reason, "evidence": list(c.evidence)}
                            for d, c in r.clinical.items()},
        "clinical_overall": r.clinical_overall,
        "alerts": [{"code": a.code, "message": a.message, "evidence": list(a.evidence)} for a in r.alerts],
    }


def risk_to_dict(factors: list[RiskFactor]) -> dict[str, Any]:
    return {f.id: {"state": f.state.value, "model": f.model, "reason": f.reason, "evidence": list(f.evidence)}
            for f in factors}
