"""probe91b D2 against the loopback FHIR server (Medplum's engine): transaction answers whose
``response.location`` names a clinician's own report and care plan of the same patient instead of the
resources just written (the fault proxy of probe91b's ``d2_loc_clin_stuck``). The state recorded those
locations as ours; every later run read the clinician's resources "the search did not return" and failed
the patient, blaming the search, for good. Now an answer that names a resource the plan did not write is
the server's error for that patient (never recorded), and a state that recorded such a resource as ours
(an earlier version, or a lie that cannot be told at write time) is corrected from the server: the
resource is not ours there, so it is dropped from the state, said once, and the patient is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from poems_fhir.fhir.client import FhirClient
from poems_fhir.fhir.write import ID_SYSTEM
from poems_fhir.sync.state import StateStore
from tests.integration.test_ownership_server import CP, criteria_report, get, ours, put
from tests.integration.test_sync_server import run

CLIN_DR = {
    "resourceType": "DiagnosticReport",
    "id": "clin-dr-1",
    "status": "final",
    "code": {"text": "Clinician note"},
    "subject": {"reference": CP},
    "conclusion": "CLINICIAN REPORT - must not change",
}
CLIN_CP = {
    "resourceType": "CarePlan",
    "id": "clin-cp-1",
    "status": "active",
    "intent": "plan",
    "subject": {"reference": CP},
    "description": "CLINICIAN PLAN - must not change",
}


def _vegf(server: dict[str, str], rid: str, value: float, date: str) -> None:
    put(
        server,
        {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8"}]},
            "subject": {"reference": CP},
            "effectiveDateTime": date,
            "valueQuantity": {"value": value, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        },
    )


def lying_locations(real: Any) -> Any:
    """``FhirClient.transaction`` whose answer names the clinician's report and plan as the locations of our
    report and plan entries (probe91b's proxy rule, response rewritten, the server's store untouched)."""

    def transaction(self: FhirClient, bundle: dict[str, Any]) -> dict[str, Any]:
        answer = real(self, bundle)
        for e in answer.get("entry") or []:
            rs = e.get("response") or {}
            for clin in (CLIN_DR, CLIN_CP):
                if str(rs.get("location", "")).startswith(f"{clin['resourceType']}/"):
                    rs["location"], rs["etag"] = f"{clin['resourceType']}/{clin['id']}/_history/1", 'W/"1"'
                    if isinstance(e.get("resource"), dict):
                        e["resource"]["id"] = clin["id"]
        return answer

    return transaction


@pytest.fixture
def clinicians(server: dict[str, str]) -> dict[str, str]:
    server = {**server, **{c["id"]: put(server, c)["meta"]["versionId"] for c in (CLIN_DR, CLIN_CP)}}
    return server


def _untouched(server: dict[str, str]) -> None:
    for clin in (CLIN_DR, CLIN_CP):
        now = get(server, f"{clin['resourceType']}/{clin['id']}")
        assert now["meta"]["versionId"] == server[clin["id"]]
        assert now.get("conclusion", now.get("description")) == clin.get("conclusion", clin.get("description"))
        assert not any(str(i.get("system", "")).startswith(ID_SYSTEM) for i in now.get("identifier") or [])
        assert len(get(server, f"{clin['resourceType']}/{clin['id']}/_history").get("entry") or []) == 1


def _recorded(tmp_path: Any) -> list[str]:
    store = StateStore(tmp_path / "state.sqlite", readonly=True)
    try:
        state = store.patient(next(iter(p["server"] for p in store.patients())), CP)
    finally:
        store.close()
    assert state is not None
    return sorted(v["ref"] for v in state.written.values())


def test_lying_locations_on_two_writes_never_stick_the_patient(clinicians, tmp_path, monkeypatch):
    """probe91b D2 as the probe ran it: the lie on the first write and on the next update; then honest
    answers, then new data. The lying writes fail the patient as the server's error naming the resource; the
    state never records the clinician's resources; the first honest run settles the patient, new data are
    written, nothing of the clinician's changes."""
    server = clinicians
    with monkeypatch.context() as patch:
        patch.setattr(FhirClient, "transaction", lying_locations(FhirClient.transaction))
        _, first = run(server, tmp_path, patient=[CP])
        assert (first.failed, first.written) == (1, 0)
        said = " ".join(first.problems)
        assert "DiagnosticReport/clin-dr-1" in said or "CarePlan/clin-cp-1" in said
        assert "search answers are not trusted" not in said
        assert not any("clin-" in ref for ref in _recorded(tmp_path))
        _vegf(server, "vegf-new-1", 5000, "2025-01-01")
        _, second = run(server, tmp_path, patient=[CP])
        assert (second.failed, second.written) == (1, 0)
        assert "search answers are not trusted" not in " ".join(second.problems)
        assert not any("clin-" in ref for ref in _recorded(tmp_path))
    _, honest = run(server, tmp_path, patient=[CP])
    assert honest.failed == 0, honest.problems
    (before,) = criteria_report(server)
    _vegf(server, "vegf-new-2", 9000, "2025-02-01")
    _, later = run(server, tmp_path, patient=[CP])
    assert (later.failed, later.written) == (0, 1), later.problems
    (report,) = criteria_report(server)
    assert report["id"] == before["id"] and report["meta"]["versionId"] != before["meta"]["versionId"]
    assert "vegf-new-2" in json.dumps(report)  # the new result is cited
    assert len(ours(server, "CarePlan")) == 1
    _untouched(server)


def test_a_state_that_recorded_a_clinicians_resource_as_ours_is_corrected_from_the_server(
    clinicians, tmp_path, monkeypatch
):
    """A state poisoned before this fix (or by a lie that names a resource the run could not tell at write
    time): it records the clinician's report and plan as ours. The next run reads them: not ours on the server
    (no identifier of ours) - dropped from the state and said once as the server's lying answer, not as an
    untrusted search; our resources, found by the search, are written normally."""
    server = clinicians
    run(server, tmp_path, patient=[CP])
    store = StateStore(tmp_path / "state.sqlite")
    key = next(iter(p["server"] for p in store.patients()))
    state = store.patient(key, CP)
    assert state is not None
    lies = {"criteria-report": "DiagnosticReport/clin-dr-1", "care-plan": "CarePlan/clin-cp-1"}
    poisoned = {
        k: next(({"ref": ref, "version": "1"} for part, ref in lies.items() if f"/{part}|" in k), v)
        for k, v in state.written.items()
    }
    store.record_patient(key, CP, "", poisoned, "written", "2025-01-01T00:00:00+00:00")
    store.close()
    assert any("clin-" in ref for ref in _recorded(tmp_path))
    _vegf(server, "vegf-new-1", 5000, "2025-01-01")
    _, fixed = run(server, tmp_path, patient=[CP])
    assert (fixed.failed, fixed.written) == (0, 1), fixed.problems
    said = " ".join(fixed.problems)
    assert "search answers are not trusted" not in said
    assert "clin-dr-1" in said and "not ours" in said
    assert not any("clin-" in ref for ref in _recorded(tmp_path))
    _vegf(server, "vegf-new-2", 9000, "2025-02-01")
    _, again = run(server, tmp_path, patient=[CP])
    assert (again.failed, again.written) == (0, 1)
    assert "clin-" not in " ".join(again.problems)  # said once
    assert len(ours(server, "CarePlan")) == 1 and len(criteria_report(server)) == 1
    _untouched(server)


def test_one_request_at_a_time_a_lying_location_stops_the_write_before_the_provenance(
    clinicians, tmp_path, monkeypatch
):
    """Without transactions: the answer to our report's create names the clinician's report (its id in the body
    and its Location). The write stops there - the Provenance never names the clinician's report - the patient
    fails as the server's error, and the next honest run writes the patient; the clinician's resources never
    change."""
    import dataclasses

    import requests

    from poems_fhir.sync import runner

    server = clinicians
    real_caps = runner.parse_capabilities
    monkeypatch.setattr(runner, "parse_capabilities", lambda s: dataclasses.replace(real_caps(s), transaction=False))
    real = FhirClient.request

    def request(self: FhirClient, method: str, path: str, *a: Any, **kw: Any) -> requests.Response:
        response = real(self, method, path, *a, **kw)
        if method in ("POST", "PUT") and path.startswith("DiagnosticReport") and response.content:
            body = json.loads(response.content)
            body["id"] = "clin-dr-1"
            response._content = json.dumps(body).encode()
            response.headers["Location"] = f"{self.base_url}/DiagnosticReport/clin-dr-1/_history/1"
        return response

    with monkeypatch.context() as patch:
        patch.setattr(FhirClient, "request", request)
        _, first = run(server, tmp_path, patient=[CP])
    assert (first.failed, first.written) == (1, 0)
    assert "DiagnosticReport/clin-dr-1" in " ".join(first.problems)
    provenances = get(server, "Provenance", target="DiagnosticReport/clin-dr-1").get("entry") or []
    assert provenances == []
    _, honest = run(server, tmp_path, patient=[CP])
    assert honest.failed == 0 and honest.written == 1, honest.problems
    assert not any("clin-" in ref for ref in _recorded(tmp_path))
    assert len(criteria_report(server)) == 1 and len(ours(server, "CarePlan")) == 1
    _untouched(server)
