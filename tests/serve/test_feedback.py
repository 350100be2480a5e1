"""The feedback endpoint: accepted / overridden cards stored (no free text) and reported in metrics."""

from __future__ import annotations

import sqlite3

from starlette.testclient import TestClient

from poems_fhir.serve.app import create_app
from tests.serve.helpers import NOW, SERVICE_URL, bundle_resources, hook_request, patient_id, run_templates
from tests.serve.test_hook import ORIGIN

FEEDBACK = "/cds-services/poems-patient-view/feedback"


def _card(client, ehr, mapping):  # type: ignore[no-untyped-def]
    pid = patient_id(ORIGIN)
    body = hook_request(pid, run_templates(bundle_resources(ORIGIN), mapping, pid))
    return client.post("/cds-services/poems-patient-view", json=body, headers=ehr.auth()).json()["cards"][0]


def test_accepted_and_overridden_cards_are_stored_and_counted(client, ehr, mapping, settings):
    card = _card(client, ehr, mapping)
    body = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2027-01-15T10:00:00Z",
            },
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2027-01-15T10:01:00Z",
                "overrideReason": {
                    "reason": {
                        "code": "already-ordered",
                        "system": "https://example.org/override",
                        "display": "Already ordered",
                    },
                    "userComment": "Patient Ivanov: VEGF sent out yesterday",
                },
            },
        ]
    }
    response = client.post(FEEDBACK, json=body, headers=ehr.auth(aud=f"{SERVICE_URL}/feedback"))
    assert response.status_code == 200
    rows = (
        sqlite3.connect(str(settings.state))
        .execute("SELECT card, outcome, accepted_suggestions, override_code, has_comment FROM feedback ORDER BY id")
        .fetchall()
    )
    assert rows == [
        (card["uuid"], "accepted", f'["{card["suggestions"][0]["uuid"]}"]', None, 0),
        (card["uuid"], "overridden", "[]", "already-ordered", 1),
    ]
    dump = b"".join(line.encode() for line in sqlite3.connect(str(settings.state)).iterdump())
    assert b"Ivanov" not in dump  # free text is not kept
    metrics = client.get("/metrics").text
    assert 'poems_fhir_cds_feedback_total{outcome="accepted"} 1.0' in metrics
    assert 'poems_fhir_cds_feedback_stored{outcome="overridden"} 1.0' in metrics


def test_stored_feedback_is_reported_after_a_restart(settings, ehr, mapping):
    body = {"feedback": [{"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2027-01-15T10:00:00Z"}]}
    for expected in (1.0, 2.0):
        with TestClient(create_app(settings, mapping=mapping, clock=lambda: float(NOW))) as client:
            assert client.post(FEEDBACK, json=body, headers=ehr.auth()).status_code == 200
            assert f'poems_fhir_cds_feedback_stored{{outcome="overridden"}} {expected}' in client.get("/metrics").text


def test_feedback_without_jwt_or_with_a_bad_body_is_refused(client, ehr):
    good = {"feedback": [{"card": "c-1", "outcome": "accepted", "outcomeTimestamp": "2027-01-15T10:00:00Z"}]}
    assert client.post(FEEDBACK, json=good).status_code == 401
    bad = {"feedback": [{"card": "c-1", "outcome": "maybe", "outcomeTimestamp": "2027-01-15T10:00:00Z"}]}
    assert client.post(FEEDBACK, json=bad, headers=ehr.auth()).status_code == 400
    assert client.post(FEEDBACK, json={"feedback": []}, headers=ehr.auth()).status_code == 400
    # found by a held-out probe (probe27): a time that is no time was stored
    for when in ("yesterday", "2026-13-45T99:00:00Z", "2026-02-30T10:00:00Z", "2027-01-15", "2027-01-15T10:00:00"):
        item = {"card": "c-1", "outcome": "accepted", "outcomeTimestamp": when}
        assert client.post(FEEDBACK, json={"feedback": [item]}, headers=ehr.auth()).status_code == 400, when
    for when in ("2027-01-15T10:00:00.123456789+05:00", "2027-01-15t10:00:00z"):
        item = {"card": "c-1", "outcome": "accepted", "outcomeTimestamp": when}
        assert client.post(FEEDBACK, json={"feedback": [item]}, headers=ehr.auth()).status_code == 200, when


def test_the_specification_feedback_examples_are_stored(client, ehr, settings):
    """CDS Hooks 2.0 "Feedback": the overridden and the accepted example bodies."""
    overridden = {
        "feedback": [
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "code": "reason-code-provided-by-service",
                        "system": "http://example.org/cds-services/fhir/CodeSystem/override-reasons",
                    },
                    "userComment": "clinician entered comment",
                },
                "outcomeTimestamp": "2020-12-11T00:00:00Z",
            }
        ]
    }
    accepted = {
        "feedback": [
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                "outcomeTimestamp": "2021-12-11T10:05:31Z",
            }
        ]
    }
    for body in (overridden, accepted):
        assert client.post(FEEDBACK, json=body, headers=ehr.auth()).status_code == 200
    rows = (
        sqlite3.connect(str(settings.state))
        .execute("SELECT outcome, override_code, accepted_suggestions, outcome_timestamp FROM feedback ORDER BY id")
        .fetchall()
    )
    assert rows == [
        ("overridden", "reason-code-provided-by-service", "[]", "2020-12-11T00:00:00Z"),
        ("accepted", None, '["e56e1945-20b3-4393-8503-a1a20fd73152"]', "2021-12-11T10:05:31Z"),
    ]
