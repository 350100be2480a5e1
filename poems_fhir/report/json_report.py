"""The JSON output of `poems-fhir evaluate --format json` (a contract: scripts rely on it)."""
from __future__ import annotations

from typing import Any

from ..criteria.model import Assessment, CriterionResult


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
