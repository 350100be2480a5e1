# SPDX-License-Identifier: Apache-2.0
"""What an OperationOutcome says, as plain data: its issues as one line, and whether one inside a
searchset says the search failed or is incomplete. Shared by the HTTP client (a search page) and the
file reader (a saved searchset), so both judge the same outcome the same way."""

from __future__ import annotations

from typing import Any

from ..wellformed import well_formed
from .codes import fhir_code


def issues_text(issues: Any) -> str:
    """An OperationOutcome's issues as one line: "severity: diagnostics; …" (at most 500 characters)."""
    parts = []
    for issue in issues if isinstance(issues, list) else []:
        if not isinstance(issue, dict):
            continue
        details: dict[str, Any] = issue["details"] if isinstance(issue.get("details"), dict) else {}
        detail = issue.get("diagnostics") or details.get("text") or issue.get("code")
        parts.append(f"{issue.get('severity', 'error')}: {detail}")
    # a server's text may hold a lone surrogate ("\ud800"): no character, and unwritable anywhere (probe120 D1)
    return well_formed("; ".join(parts)[:500]) or "an OperationOutcome without issues"


#: issue codes that say a search's results are incomplete, whatever the severity
_INCOMPLETE = frozenset({"incomplete", "too-costly", "timeout", "throttled", "transient"})


def failed_search_outcome(bundle: dict[str, Any]) -> str | None:
    """The text of an OperationOutcome inside a searchset that says the search failed or is incomplete
    (severity error or fatal, or an issue code such as `incomplete` or `timeout`); None if there is
    none. Such a page is not "no resources": read as one, a patient left scope and their report was
    withdrawn, and a discovery search moved the checkpoint past changes it never saw (faultprobe4)."""
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else []:  # any JSON: also a CDS Hooks prefetch
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "OperationOutcome":
            continue
        listed = resource.get("issue")
        issues = [i for i in listed if isinstance(i, dict)] if isinstance(listed, list) else []
        if any(_says_failed(i.get("severity"), i.get("code")) for i in issues):
            return issues_text(issues)
    return None


def _says_failed(severity: Any, code: Any) -> bool:
    # "ERROR", "Incomplete": a sender's spelling is the same code (probe140 D8: a failed search read as complete)
    return fhir_code(severity) in ("error", "fatal") or fhir_code(code) in _INCOMPLETE
