"""probe80 D4 against the loopback FHIR server (Medplum's engine): the state file is lost and the ownership
searches leave out our report, plan and Provenance (an index that lags, a proxy that drops rows). The run
used to send a conditional update without If-Match, which the server applied to the one resource matching
our identifier - the clinician's signed report. Now a report or plan with nothing of ours listed is sent
create-only (If-None-Exist): the server changes nothing it finds, and the run fails the patient, reporting
the takeover, in a transaction and one request at a time alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.write import ID_SYSTEM
from tests.integration.test_ownership_server import CP, criteria_report, fresh_run, get, ours, put

SIGNED = "SIGNED BY DR. HOUSE: POEMS confirmed; do not change."


def _ours(resource: dict[str, Any]) -> bool:
    return any(str(i.get("system", "")).startswith(ID_SYSTEM) for i in resource.get("identifier") or [])


def lying(real: Any) -> Any:
    """``FhirClient.search_pages`` whose ownership searches leave out everything of ours: our reports and plans,
    every Provenance they include, and every Provenance of ours (the proxy of probe80's lying_search.sh)."""

    def search_pages(self: FhirClient, path: str, params: dict[str, Any] | None = None, **kw: Any) -> Iterator[Any]:
        for page in real(self, path, params, **kw):
            params = params or {}
            if path in ("DiagnosticReport", "CarePlan") and "_revinclude" in params:
                page = {
                    **page,
                    "entry": [
                        e
                        for e in page.get("entry") or []
                        if not _ours(e.get("resource") or {}) and e["resource"].get("resourceType") != "Provenance"
                    ],
                }
            elif path == "Provenance" and "_tag" in params:
                page = {**page, "entry": []}
            yield page

    return search_pages


def _sign_and_change(server: dict[str, str]) -> dict[str, Any]:
    """The clinician signs our report with their own conclusion; a new VEGF result changes the evidence."""
    (report,) = criteria_report(server)
    report["status"], report["conclusion"] = "final", SIGNED
    signed = put(server, report)
    vegf = {
        "resourceType": "Observation",
        "id": "cp-vegf-2",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
        "subject": {"reference": CP},
        "effectiveDateTime": "2024-06-01",
        "valueQuantity": {"value": 80, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
    }
    put(server, vegf)
    return signed


@pytest.mark.parametrize("transactions", [True, False], ids=["transaction", "one-by-one"])
def test_a_lost_state_and_a_lying_search_leave_a_signed_report_untouched(server, tmp_path, monkeypatch, transactions):
    from poems_fhir.sync import runner

    fresh_run(server, tmp_path, patient=[CP])
    signed = _sign_and_change(server)
    if not transactions:
        real_caps = runner.parse_capabilities
        monkeypatch.setattr(
            runner, "parse_capabilities", lambda s: dataclasses.replace(real_caps(s), transaction=False)
        )
    monkeypatch.setattr(FhirClient, "search_pages", lying(FhirClient.search_pages))
    summary = fresh_run(server, tmp_path, patient=[CP])  # the state file lost, the searches lying
    (after,) = criteria_report(server)
    assert (after["status"], after["conclusion"]) == ("final", SIGNED)
    assert after["meta"]["versionId"] == signed["meta"]["versionId"]  # not written at all
    assert summary.failed == 1 and summary.written == 0
    assert summary.conflicts == 1  # the clinician's report, reported as a takeover
    problems = " ".join(summary.problems)
    assert "did not list a resource of ours" in problems and f"DiagnosticReport/{after['id']}" in problems
    assert "'final'" in problems and "retried next run" in problems
    assert len(ours(server, "CarePlan")) == 1  # nothing duplicated


def test_an_honest_search_afterwards_decides_as_it_would_have(server, tmp_path, monkeypatch):
    """The run after the lying one, with searches that answer honestly: the signed report stands for the
    conclusion (the new result does not change it materially), our plan is updated (If-Match) - what a run
    without the lying search does - and nothing is duplicated."""
    fresh_run(server, tmp_path, patient=[CP])
    signed = _sign_and_change(server)
    with monkeypatch.context() as patch:
        patch.setattr(FhirClient, "search_pages", lying(FhirClient.search_pages))
        assert fresh_run(server, tmp_path, patient=[CP]).failed == 1
    summary = fresh_run(server, tmp_path, patient=[CP])
    assert (summary.written, summary.failed) == (1, 0)
    (kept,) = criteria_report(server)
    assert (kept["id"], kept["status"], kept["conclusion"], kept["meta"]["versionId"]) == (
        signed["id"],
        "final",
        SIGNED,
        signed["meta"]["versionId"],
    )
    (plan,) = ours(server, "CarePlan")
    assert plan["status"] == "draft"


def test_without_state_and_with_an_honest_search_nothing_is_created_twice(server, tmp_path, monkeypatch):
    """Idempotency with create-only writes: the first write creates (If-None-Exist), a rerun without the
    state file finds everything of ours and sends nothing."""
    sent: list[dict[str, Any]] = []
    real = FhirClient.transaction
    monkeypatch.setattr(FhirClient, "transaction", lambda self, bundle: sent.append(bundle) or real(self, bundle))
    first = fresh_run(server, tmp_path, patient=[CP])
    assert first.written == 1
    (bundle,) = sent
    assert {e["resource"]["resourceType"]: e["request"]["method"] for e in bundle["entry"]} == {
        "Device": "PUT",
        "DiagnosticReport": "POST",
        "CarePlan": "POST",
        "Provenance": "PUT",
    }
    again = fresh_run(server, tmp_path, patient=[CP])
    assert (again.written, again.unchanged, again.failed, again.conflicts) == (0, 1, 0, 0)
    assert len(criteria_report(server)) == 1 and len(ours(server, "CarePlan")) == 1
    provenances = get(server, "Provenance", _count="200").get("entry") or []
    assert len(provenances) == 1
