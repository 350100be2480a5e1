"""Whether a searchset's OperationOutcome says the search failed (fhir/outcome.py; fix141a, probe140 D8)."""

from __future__ import annotations

import pytest

from poems_fhir.fhir.outcome import failed_search_outcome


def bundle(severity: str, code: str) -> dict:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code, "diagnostics": "x"}]}
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": outcome}]}


@pytest.mark.parametrize(
    ("severity", "code"),
    [("error", "processing"), ("ERROR", "processing"), (" Fatal ", "exception"), ("warning", "Incomplete"),
     ("information", "TOO_COSTLY"), ("warning", "TimeOut"), ("warning", " throttled ")],
)  # fmt: skip
def test_a_failed_or_incomplete_search_in_any_spelling(severity: str, code: str) -> None:
    assert failed_search_outcome(bundle(severity, code)) == f"{severity}: x"


@pytest.mark.parametrize(("severity", "code"), [("warning", "processing"), ("Information", "informational"), ("", "")])
def test_control_a_complete_search(severity: str, code: str) -> None:
    assert failed_search_outcome(bundle(severity, code)) is None
