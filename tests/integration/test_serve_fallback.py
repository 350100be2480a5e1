"""`poems-fhir serve` reading from the EHR's fhirServer (a real FHIR server over real HTTP) when the
prefetch is absent or partial: the same cards as from a full prefetch."""

from __future__ import annotations

import pytest
import requests
from starlette.testclient import TestClient

from poems_fhir.serve.app import create_app
from tests.conftest import SAMPLES
from tests.integration.conftest import load_bundles
from poems_fhir.serve.settings import ServeSettings
from tests.serve.helpers import ISSUER, NOW, PUBLIC_URL, Ehr, bundle_resources, hook_request, run_templates

HOOK = "/cds-services/poems-patient-view"
ORIGIN = SAMPLES / "origin-case" / "01-diagnosis-2019-02.json"
CASTLEMAN = SAMPLES / "mimics" / "castleman-without-neuropathy.json"


@pytest.fixture
def server(fhir_server):
    if not fhir_server["resettable"]:
        pytest.skip("needs the resettable loopback server: the origin case is loaded at diagnosis only")
    requests.post(f"{fhir_server['url']}/$reset", timeout=10).raise_for_status()
    load_bundles(fhir_server, [ORIGIN, CASTLEMAN])
    return fhir_server


@pytest.fixture
def ehr():
    return Ehr()


@pytest.fixture
def client(tmp_path, ehr, mapping):
    settings = ServeSettings(
        trust=[f"{ISSUER}={ehr.write_jwks(tmp_path / 'jwks.json')}"],
        public_url=PUBLIC_URL,
        state=tmp_path / "serve.sqlite",
    )
    with TestClient(create_app(settings, mapping=mapping, clock=lambda: float(NOW))) as c:
        yield c


def _fallback(server, prefetch=None, patient="poems-origin"):
    body = hook_request(
        patient,
        prefetch,
        fhirServer=server["url"],
        fhirAuthorization={
            "access_token": server["token"] or "loopback-test-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/*.read",
            "subject": "poems-fhir",
        },
    )
    return body


def test_without_prefetch_the_cards_come_from_fhir_server(server, client, ehr, mapping):
    full = client.post(
        HOOK,
        json=hook_request("poems-origin", run_templates(bundle_resources(ORIGIN), mapping, "poems-origin")),
        headers=ehr.auth(),
    )
    fetched = client.post(HOOK, json=_fallback(server), headers=ehr.auth())
    assert fetched.status_code == 200, fetched.text
    (card,) = fetched.json()["cards"]
    assert card["summary"] == full.json()["cards"][0]["summary"]
    assert card["uuid"] == full.json()["cards"][0]["uuid"]
    assert "not met yet" in card["summary"]
    for missing in ("VEGF", "CT bone imaging", "node biopsy"):
        assert missing in card["summary"]
    assert 'poems_fhir_cds_data_total{source="fhir_server"}' in client.get("/metrics").text


def test_partial_prefetch_is_completed_from_fhir_server(server, client, ehr, mapping):
    prefetch = run_templates(bundle_resources(ORIGIN), mapping, "poems-origin")
    partial = {"patient": prefetch["patient"], "conditions": prefetch["conditions"]}
    response = client.post(HOOK, json=_fallback(server, partial), headers=ehr.auth())
    assert response.status_code == 200
    assert (
        response.json()["cards"][0]["uuid"]
        == client.post(HOOK, json=hook_request("poems-origin", prefetch), headers=ehr.auth()).json()["cards"][0]["uuid"]
    )


def test_out_of_scope_patient_from_fhir_server_gets_no_card(server, client, ehr):
    response = client.post(HOOK, json=_fallback(server, patient="mimic-castleman"), headers=ehr.auth())
    assert response.status_code == 200 and response.json() == {"cards": []}


def test_unknown_patient_on_fhir_server_is_412(server, client, ehr):
    response = client.post(HOOK, json=_fallback(server, patient="no-such-patient"), headers=ehr.auth())
    assert response.status_code == 412
