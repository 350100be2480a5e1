"""probe91 N1 against the loopback FHIR server (Medplum's engine): the server applies a patient's transaction
in part - every entry but one - and answers 500; the client sends it again. What the first attempt stored is
ours: the retry's create-only write finds it - a plan or report whose reference to the missing entry is left
as the transaction's urn:uuid - and writes it again in the same run. It is never reported as a clinician's
takeover, and the state lists no conflict (it said "taken over by someone else … leaves it alone from now on",
conflicts 1, exit 1, and blamed the server's search; the next run updated it as ours anyway)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from poems_fhir.fhir.http import Transport
from poems_fhir.fhir.write import unresolved_urns
from poems_fhir.sync.runner import StopFlag, make_job
from poems_fhir.sync.state import StateStore
from tests.integration.test_ownership_server import CP, ours, set_platelets
from tests.integration.test_sync_server import settings

ENTRIES = ("Device", "DiagnosticReport", "CarePlan", "Provenance")


def _partial_then_500(real: Any, drop: int, times: int = 1) -> Any:
    """``Transport.send`` that has the server apply the patient's next transaction without its entry ``drop`` and
    answers 500 for it (probe91's proxy rule ``q['entry'].pop(k)`` with answer 500); the client's own retry of
    the transaction goes through as sent."""
    left = [times]

    def send(self: Transport, prepared: requests.PreparedRequest, *, what: str, **kw: Any) -> requests.Response:
        body = prepared.body if isinstance(prepared.body, bytes) else str(prepared.body or "").encode()
        if left[0] and prepared.method == "POST" and b'"transaction"' in body and CP.encode() in body:
            left[0] -= 1
            bundle = json.loads(body)
            assert [e["resource"]["resourceType"] for e in bundle["entry"]] == list(ENTRIES)
            bundle["entry"].pop(drop)
            prepared.prepare_body(None, None, json=bundle)
            applied = real(self, prepared, what=what, **kw)
            assert applied.status_code == 200, applied.text  # the server applied the rest
            answer = requests.Response()
            answer.status_code, answer.url = 500, prepared.url
            answer._content = json.dumps(
                {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
            ).encode()
            answer.headers["Content-Type"] = "application/fhir+json"
            return answer
        return real(self, prepared, what=what, **kw)

    return send


def sync(server: dict[str, str], tmp_path: Any, **kw: Any) -> tuple[Any, StateStore]:
    s = settings(server, tmp_path, patient=[CP], **kw)
    store = StateStore(s.state)
    with store.locked():
        job, _, _ = make_job(s, store, StopFlag(), lambda it: it, sleep=lambda _: None)  # no real sleep
        return job.run(), store


def _takeovers(store: StateStore) -> list[Any]:
    return store.db.execute("SELECT * FROM takeover").fetchall()


def _clean(server: dict[str, str]) -> None:
    """One report and plan of ours per profile, each as poems-fhir wrote it, every reference resolved."""
    for rtype in ("DiagnosticReport", "CarePlan"):
        found = ours(server, rtype)
        assert found and all(not unresolved_urns(r) for r in found), found
    plans = ours(server, "CarePlan")
    assert len(plans) == 1


@pytest.mark.parametrize("mode", ["create-only", "update"])
@pytest.mark.parametrize("drop", range(len(ENTRIES)), ids=ENTRIES)
def test_a_transaction_applied_in_part_and_answered_500_is_ours_on_the_retry(server, tmp_path, monkeypatch, drop, mode):
    if not server["resettable"] or server["token"]:
        pytest.skip("needs the loopback test server (no token, resettable)")
    if mode == "update":  # ours on the server already, the data changed: conditional updates with If-Match
        first, store = sync(server, tmp_path)
        store.close()
        assert (first.written, first.failed) == (1, 0)
        set_platelets(server, 250)  # a material change: the report and the plan are updated (If-Match)
    with monkeypatch.context() as patch:
        patch.setattr(Transport, "send", _partial_then_500(Transport.send, drop))
        summary, store = sync(server, tmp_path)
    try:
        assert summary.conflicts == 0 and summary.clinician_owned == 0, list(summary.problems)
        assert (summary.written, summary.failed) == (1, 0), list(summary.problems)
        assert not any("taken over" in p or "not trusted" in p for p in summary.problems)
        assert _takeovers(store) == []
    finally:
        store.close()
    _clean(server)
    again, store = sync(server, tmp_path)
    try:
        assert (again.written, again.unchanged, again.failed, again.conflicts) == (0, 1, 0, 0)
        assert _takeovers(store) == []
    finally:
        store.close()
    _clean(server)
