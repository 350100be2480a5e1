"""The patient-view hook: discovery, the specification's request example, prefetch present / absent /
partial, cards for the sample patients in three languages, limits, CORS, metrics, logs without PHI."""

from __future__ import annotations

import contextlib
import json
import os
import logging
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest
import responses as responses_lib
from starlette.testclient import TestClient

from poems_fhir.fhir.client import MAX_PATIENT_PAGES
from poems_fhir.i18n import translator
from poems_fhir.i18n.vocabulary import label
from poems_fhir.pipeline import evaluate_paths
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.serve.app import create_app
from poems_fhir.serve.cards import SUMMARY_MAX, choose_language
from poems_fhir.serve.prefetch import queries
from poems_fhir.sync.sources import _codes_by_type
from tests.conftest import SAMPLES
from tests.serve.helpers import NOW, Ehr, bundle_resources, hook_request, patient_id, run_templates

HOOK = "/cds-services/poems-patient-view"
ORIGIN = SAMPLES / "origin-case" / "01-diagnosis-2019-02.json"
ORIGIN_ALL = sorted((SAMPLES / "origin-case").glob("*.json"))
#: one patient each (the origin case: at diagnosis, and with all its restagings)
SAMPLE_FILES = [
    [SAMPLES / "classic-poems.json"],
    [SAMPLES / "relapse-case.json"],
    [ORIGIN],
    ORIGIN_ALL,
    *([p] for p in sorted((SAMPLES / "mimics").glob("*.json"))),
]
ENCODINGS = [[p] for p in sorted((SAMPLES / "encodings").glob("*.json"))]

# The patient-view request example of the CDS Hooks 2.0 specification ("HTTP Request" / "Example"), verbatim
SPEC_EXAMPLE: dict[str, Any] = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "http://hooks.smarthealthit.org:9080",
    "hook": "patient-view",
    "fhirAuthorization": {
        "access_token": "some-opaque-fhir-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read user/Observation.read",
        "subject": "cds-service4",
    },
    "context": {"userId": "Practitioner/example", "patientId": "1288992", "encounterId": "89284"},
    "prefetch": {
        "patientToGreet": {
            "resourceType": "Patient",
            "gender": "male",
            "birthDate": "1925-12-23",
            "id": "1288992",
            "active": True,
        }
    },
}


def post(client: TestClient, ehr: Ehr, body: dict[str, Any], **headers: str):  # type: ignore[no-untyped-def]
    return client.post(HOOK, json=body, headers={**ehr.auth(), **headers})


def origin_request(mapping) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    pid = patient_id(ORIGIN)
    return hook_request(pid, run_templates(bundle_resources(ORIGIN), mapping, pid))


class FakeServer:
    """The EHR's fhirServer as a FhirClient stand-in: answers each search from the sample bundle."""

    def __init__(self, path: Path, mapping) -> None:  # type: ignore[no-untyped-def]
        self.pid = patient_id(path)
        self.answers = run_templates(bundle_resources(path), mapping, self.pid)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.opened: list[tuple[str, str]] = []

    def factory(self, base_url: str, token: str, timeout: float) -> FakeServer:
        self.opened.append((base_url, token))
        return self

    def get(self, path: str) -> dict[str, Any]:
        self.calls.append(("read", path, {}))
        return self.answers["patient"]

    def search(self, rtype: str, params: dict[str, Any], max_pages: int | None = None) -> list[dict[str, Any]]:
        # one patient's search: bounded in pages like the sync job's (fhir/client.py MAX_PATIENT_PAGES)
        assert max_pages == MAX_PATIENT_PAGES
        self.calls.append(("search", rtype, params))
        key = next(q.key for q in queries_for(rtype, params, self.mapping_queries))
        return [e["resource"] for e in self.answers[key]["entry"]]

    mapping_queries: list[Any] = []


def queries_for(rtype: str, params: dict[str, Any], qs: list[Any]) -> list[Any]:
    return [q for q in qs if q.resource_type == rtype and q.search_params(params["patient"]) == params]


def test_discovery_lists_the_service_with_prefetch_templates_for_the_mapped_codes(client, mapping):
    doc = client.get("/cds-services").json()
    (service,) = doc["services"]
    assert (service["hook"], service["id"]) == ("patient-view", "poems-patient-view")
    prefetch = service["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    observation_keys = [k for k in prefetch if k.startswith("observations")]
    assert len(observation_keys) > 1  # the code list is split so that no template gets too long
    in_templates = set()
    for key in observation_keys:
        template = prefetch[key]
        assert template.startswith("Observation?patient={{context.patientId}}&code=") and len(template) < 2000
        in_templates |= set(template.split("code=", 1)[1].split("&", 1)[0].split(","))
    assert in_templates == set(_codes_by_type(mapping)["Observation"])
    for key, rtype in (("conditions", "Condition"), ("procedures", "Procedure"), ("reports", "DiagnosticReport")):
        assert prefetch[key].startswith(f"{rtype}?patient={{{{context.patientId}}}}")


def test_spec_example_request_is_read_and_its_plain_http_fhir_server_refused(client, ehr):
    response = post(client, ehr, SPEC_EXAMPLE)
    assert response.status_code == 400
    assert "https" in response.json()["error"]  # the fhirAuthorization token is not sent in clear


def test_spec_example_with_https_fhir_server_fetches_the_missing_prefetch_there(settings, ehr, mapping):
    server = FakeServer(SAMPLES / "mimics" / "castleman-without-neuropathy.json", mapping)
    server.mapping_queries = queries(mapping)
    body = json.loads(json.dumps(SPEC_EXAMPLE))
    body["fhirServer"] = "https://hooks.example.org/fhir"
    body["context"]["patientId"] = server.pid
    app = create_app(settings, mapping=mapping, client_factory=server.factory, clock=lambda: float(NOW))
    with TestClient(app) as client:
        response = post(client, ehr, body)
    assert response.status_code == 200
    assert response.json() == {"cards": []}  # out of scope: no card
    assert server.opened == [("https://hooks.example.org/fhir", "some-opaque-fhir-access-token")]
    fetched = {c[1] for c in server.calls}
    assert fetched >= {f"Patient/{server.pid}", "Observation", "Condition", "Procedure", "DiagnosticReport"}


@pytest.mark.parametrize(
    ("fhir_server", "allowed"),
    [
        ("https://hooks.example.org/fhir", True),
        ("HTTPS://Hooks.Example.ORG:443/fhir/", True),  # the same base, written differently
        ("https://169.254.169.254/latest/meta-data", False),  # an internal address named by the caller
        ("https://hooks.example.org/fhir-other", False),
        ("https://hooks.example.org.evil.example/fhir", False),
        ("https://hooks.example.org:8443/fhir", False),
    ],
)
def test_with_fhir_servers_configured_only_those_are_read(settings, ehr, mapping, fhir_server, allowed):
    server = FakeServer(SAMPLES / "mimics" / "castleman-without-neuropathy.json", mapping)
    server.mapping_queries = queries(mapping)
    body = json.loads(json.dumps(SPEC_EXAMPLE))
    body["fhirServer"] = fhir_server
    body["context"]["patientId"] = server.pid
    settings = settings.model_copy(update={"fhir_servers": ["https://hooks.example.org/fhir/"]})
    settings = type(settings).model_validate(settings.model_dump())  # through the validator, as from TOML
    app = create_app(settings, mapping=mapping, client_factory=server.factory, clock=lambda: float(NOW))
    with TestClient(app) as client:
        response = post(client, ehr, body)
    if allowed:
        assert response.status_code == 200 and len(server.opened) == 1
    else:
        assert response.status_code == 400 and "not one of the FHIR servers" in response.json()["error"]
        assert server.opened == [] and server.calls == []  # nothing was sent there, the token least of all


@pytest.mark.parametrize(
    "fhir_server",
    [
        "https://hooks.example.org/fhir?_x=1",  # "[base]?_x=1/Patient/p": a search of the whole server
        "https://hooks.example.org/fhir?@evil",
        "https://hooks.example.org/fhir#frag",  # the fragment swallows every path after it
        "https://hooks.example.org/fhir/?",
    ],
)
def test_a_fhir_server_with_a_query_or_fragment_is_refused_before_any_request(settings, ehr, mapping, fhir_server):
    # found by a held-out probe (probe27): it passed the `fhir-servers` list, which compares bases
    server = FakeServer(SAMPLES / "mimics" / "castleman-without-neuropathy.json", mapping)
    server.mapping_queries = queries(mapping)
    body = json.loads(json.dumps(SPEC_EXAMPLE))
    body["fhirServer"] = fhir_server
    body["context"]["patientId"] = server.pid
    for listed in ([], ["https://hooks.example.org/fhir/"]):
        configured = type(settings).model_validate({**settings.model_dump(), "fhir_servers": listed})
        app = create_app(configured, mapping=mapping, client_factory=server.factory, clock=lambda: float(NOW))
        with TestClient(app) as client:
            response = post(client, ehr, body)
        assert response.status_code == 400 and "without a query or fragment" in response.json()["error"]
        assert server.opened == [] and server.calls == []


def test_spec_example_without_fhir_server_and_without_our_prefetch_is_412(client, ehr):
    body = {k: v for k, v in SPEC_EXAMPLE.items() if k not in ("fhirServer", "fhirAuthorization")}
    response = post(client, ehr, body)
    assert response.status_code == 412
    assert "prefetch" in response.json()["error"]


def test_origin_case_at_diagnosis_not_met_yet_vegf_ct_and_node_biopsy_missing(client, ehr, mapping):
    response = post(client, ehr, origin_request(mapping))
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    summary = card["summary"]
    assert len(summary) <= SUMMARY_MAX
    assert "not met yet" in summary and "VEGF" in summary and "CT bone imaging" in summary and "node biopsy" in summary
    assert "**Present**" in card["detail"] and "Elevated VEGF" in card["detail"]  # the shared clinical label
    proposals = [s["actions"][0]["resource"] for s in card["suggestions"]]
    assert [p["resourceType"] for p in proposals] == ["ServiceRequest"] * 3
    assert {(p["status"], p["intent"]) for p in proposals} == {("draft", "proposal")}
    assert proposals[0]["code"]["coding"][0]["code"] == "75628-8"  # VEGF (LOINC, verified in codes.md)
    assert all(p["subject"] == {"reference": "Patient/poems-origin"} for p in proposals)
    assert card["selectionBehavior"] == "any"
    assert card["source"]["label"] == get_profile("mayo").citation
    assert "poems syndrome" not in json.dumps(card, ensure_ascii=False).lower()
    page = client.get(card["links"][0]["url"].removeprefix("http://testserver"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_the_page_behind_the_card_speaks_the_cards_language_and_loads_nothing(client, ehr, mapping, language):
    # probe44: a Russian card linked to an English page; the page had no Content-Security-Policy
    response = post(client, ehr, origin_request(mapping), **{"Accept-Language": language})
    (card,) = response.json()["cards"]
    page = client.get(card["links"][0]["url"].removeprefix("http://testserver"))
    assert page.status_code == 200 and f'<html lang="{language}"' in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "<script" not in page.text and page.headers["x-content-type-options"] == "nosniff"


def test_the_same_record_gives_the_same_card_uuid(client, ehr, mapping):
    first = post(client, ehr, origin_request(mapping)).json()["cards"][0]
    second = post(client, ehr, origin_request(mapping)).json()["cards"][0]
    assert first["uuid"] == second["uuid"]
    assert [s["uuid"] for s in first["suggestions"]] == [s["uuid"] for s in second["suggestions"]]


def _cards_for_sample(client, ehr, mapping, paths, language, all_observations=False):  # type: ignore[no-untyped-def]
    pid = patient_id(*paths)
    prefetch = run_templates(bundle_resources(*paths), mapping, pid, all_observations)
    response = post(client, ehr, hook_request(pid, prefetch), **{"Accept-Language": language})
    assert response.status_code == 200
    return response.json()["cards"]


def _check_cards(cards, paths, mapping, language):  # type: ignore[no-untyped-def]
    expected = evaluate_paths(paths, mapping, get_profile("mayo")).results[0]
    assert len(cards) == (1 if expected.scope.in_scope else 0)
    for card in cards:
        assert len(card["summary"]) <= SUMMARY_MAX
        assert "poems syndrome" not in json.dumps(card, ensure_ascii=False).lower()
        met = expected.assessment.classification.value == "met"
        assert card["indicator"] == ("warning" if met or expected.assessment.flags else "info")
        if language == "en":
            assert ("criteria met" in card["summary"]) == met
            for m in expected.assessment.missing:  # every missing criterion and its work-up are in the detail
                t = translator("en")
                assert label(t, "criterion", m.criterion) in card["detail"]
                assert label(t, "workup", m.criterion) in card["detail"].replace("\\", "")
        if language == "ru":
            assert card["summary"].startswith("Критерии POEMS")
        if language == "kk":
            assert card["summary"].startswith("POEMS критерийлері")


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda ps: "+".join(p.stem for p in ps))
@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_sample_patients_get_a_card_exactly_when_in_scope(client, ehr, mapping, path, language):
    """Prefetch by code: the same conclusion as the file-based evaluation for records coded as mapped."""
    _check_cards(_cards_for_sample(client, ehr, mapping, path, language), path, mapping, language)


@pytest.mark.parametrize("path", ENCODINGS, ids=lambda ps: "+".join(p.stem for p in ps))
def test_local_lab_codes_and_text_only_results_with_all_observations(settings, ehr, mapping, path):
    """Local lab codes / text-only results cannot be searched by code: `all-observations` reads them all."""
    app = create_app(settings.model_copy(update={"all_observations": True}), mapping=mapping, clock=lambda: float(NOW))
    with TestClient(app) as client:
        assert "code=" not in client.get("/cds-services").json()["services"][0]["prefetch"]["observations"]
        _check_cards(_cards_for_sample(client, ehr, mapping, path, "en", True), path, mapping, "en")


def test_card_language_from_accept_language_else_the_configured_one(tmp_path, settings, ehr, mapping):
    assert choose_language("ru-RU,ru;q=0.9,en;q=0.8", "en") == "ru"
    assert choose_language("de-DE, kk;q=0.5, en;q=0.4", "en") == "kk"
    assert choose_language("en;q=0, ru;q=0.1", "kk") == "ru"
    assert choose_language("de, fr", "kk") == "kk"
    assert choose_language(None, "en") == "en"
    app = create_app(settings.model_copy(update={"language": "kk"}), mapping=mapping, clock=lambda: float(NOW))
    with TestClient(app) as client:
        kk = post(client, ehr, origin_request(mapping)).json()["cards"][0]
        en = post(client, ehr, origin_request(mapping), **{"Accept-Language": "en-GB"}).json()["cards"][0]
    assert kk["summary"].startswith("POEMS критерийлері") and "VEGF" in kk["summary"]
    assert en["summary"].startswith("POEMS criteria")


def _with_fhir_server(body: dict[str, Any], prefetch: dict[str, Any], token: str) -> dict[str, Any]:
    """``body`` with ``prefetch`` and the EHR's fhirServer and token to complete it from."""
    return {
        **body,
        "prefetch": prefetch,
        "fhirServer": "https://ehr.example.org/fhir",
        "fhirAuthorization": {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/*.read",
            "subject": "poems",
        },
    }


def test_partial_prefetch_fetches_only_the_missing_keys_from_fhir_server(settings, ehr, mapping):
    server = FakeServer(ORIGIN, mapping)
    server.mapping_queries = queries(mapping)
    full = origin_request(mapping)
    partial = json.loads(json.dumps(full["prefetch"]))
    del partial["conditions"]
    partial["reports"] = None  # the EHR could not answer this key
    partial["procedures"]["link"] = [{"relation": "next", "url": "https://ehr.example.org/fhir?page=2"}]
    body = _with_fhir_server(full, partial, "secret-token-123")
    app = create_app(settings, mapping=mapping, client_factory=server.factory, clock=lambda: float(NOW))
    with TestClient(app) as client:
        from_prefetch = post(client, ehr, full).json()["cards"][0]
        completed = post(client, ehr, body).json()["cards"][0]
        metrics = client.get("/metrics").text
    assert sorted(c[1] for c in server.calls) == ["Condition", "DiagnosticReport", "Procedure"]
    assert completed["summary"] == from_prefetch["summary"] and completed["uuid"] == from_prefetch["uuid"]
    assert 'poems_fhir_cds_data_total{source="fhir_server"} 3.0' in metrics


_FAILED_SEARCH = {
    "resourceType": "Bundle",
    "type": "searchset",
    "entry": [
        {
            "search": {"mode": "outcome"},
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "incomplete", "diagnostics": "laboratory store unavailable"}],
            },
        }
    ],
}


def test_a_prefetch_search_whose_outcome_says_it_failed_is_read_again_not_taken_as_empty(settings, ehr, mapping):
    """CDS Hooks 2.0: services SHOULD check prefetched data for OperationOutcomes; a failed search is
    no "no results" (the card would call the clone missing, or the patient out of scope)."""
    server = FakeServer(ORIGIN, mapping)
    server.mapping_queries = queries(mapping)
    full = origin_request(mapping)
    failed = json.loads(json.dumps(full["prefetch"]))
    key = next(k for k in failed if k.startswith("observations"))
    failed[key] = _FAILED_SEARCH
    body = _with_fhir_server(full, failed, "t-1")
    app = create_app(settings, mapping=mapping, client_factory=server.factory, clock=lambda: float(NOW))
    with TestClient(app) as client:
        expected = post(client, ehr, full).json()["cards"][0]
        completed = post(client, ehr, body).json()["cards"][0]
        without_server = post(client, ehr, {**full, "prefetch": failed})
    assert [c[1] for c in server.calls] == ["Observation"]  # only the failed key, read again
    assert completed["summary"] == expected["summary"]
    assert without_server.status_code == 412 and key in without_server.json()["error"]
    informational = json.loads(json.dumps(_FAILED_SEARCH))
    informational["entry"][0]["resource"]["issue"] = [{"severity": "information", "code": "informational"}]
    with TestClient(create_app(settings, mapping=mapping, clock=lambda: float(NOW))) as client:
        assert post(client, ehr, {**full, "prefetch": {**full["prefetch"], key: informational}}).status_code == 200


@pytest.mark.parametrize(
    "broken",
    [
        {"resourceType": "Bundle"},  # no type, no entries
        {"resourceType": "Bundle", "type": "searchset", "entry": "x"},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": "x"}]},
        {"resourceType": "Bundle", "type": "searchset", "entry": ["x"]},
        {"resourceType": "Bundle", "type": "searchset", "total": 5, "entry": []},  # 5 announced, none held
    ],
)
def test_a_malformed_prefetch_search_is_no_answer_to_its_key(client, ehr, mapping, broken):
    """probe44: these were read as "no conditions", and the card called the recorded polyneuropathy missing."""
    body = origin_request(mapping)
    body["prefetch"]["conditions"] = broken
    response = post(client, ehr, body)
    assert response.status_code == 412 and "conditions" in response.json()["error"]


def test_another_patients_patient_resource_is_no_answer_to_the_patient_key(client, ehr, mapping):
    # probe44: the `patient` prefetch held another Patient and was taken as read
    body = origin_request(mapping)
    body["prefetch"]["patient"] = {**body["prefetch"]["patient"], "id": "someone-else"}
    response = post(client, ehr, body)
    assert response.status_code == 412 and "patient" in response.json()["error"]
    without_id = origin_request(mapping)
    del without_id["prefetch"]["patient"]["id"]
    assert post(client, ehr, without_id).status_code == 412
    assert post(client, ehr, origin_request(mapping)).status_code == 200


def test_an_empty_search_result_is_an_answer(client, ehr, mapping):
    body = origin_request(mapping)
    body["prefetch"]["procedures"] = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    assert post(client, ehr, body).status_code == 200


def test_a_neuropathy_alone_is_proposed_the_test_of_the_clone_first(client, ehr, mapping):
    # probe44: VEGF, CT and a node biopsy were proposed, not the immunofixation the mandatory clone needs
    patient = {"resourceType": "Patient", "id": "pnp-only", "gender": "male", "birthDate": "1970-01-01"}
    pnp = {
        "resourceType": "Condition",
        "id": "pnp",
        "subject": {"reference": "Patient/pnp-only"},
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "G61.8"}]},
    }
    body = hook_request("pnp-only", run_templates([patient, pnp], mapping, "pnp-only"))
    (card,) = post(client, ehr, body).json()["cards"]
    labels = [s["label"] for s in card["suggestions"]]
    assert labels[0] == "Order serum and urine immunofixation and serum free light chains"
    request = card["suggestions"][0]["actions"][0]["resource"]
    assert (request["status"], request["intent"]) == ("draft", "proposal")
    assert len(card["summary"]) <= SUMMARY_MAX


def test_partial_prefetch_without_fhir_server_is_412_not_a_guess(client, ehr, mapping):
    body = origin_request(mapping)
    del body["prefetch"]["conditions"]
    response = post(client, ehr, body)
    assert response.status_code == 412 and "conditions" in response.json()["error"]


def test_absent_prefetch_without_fhir_server_is_412(client, ehr, mapping):
    response = post(client, ehr, hook_request("poems-origin"))
    assert response.status_code == 412


def test_wrong_hook_bad_patient_id_and_non_json_are_400(client, ehr, mapping):
    body = origin_request(mapping)
    assert post(client, ehr, {**body, "hook": "order-select"}).status_code == 400
    assert post(client, ehr, {**body, "context": {"patientId": "../Observation?x=1"}}).status_code == 400
    for dots in ("..", "."):  # a dot segment: "Patient/.." is the server's base
        assert post(client, ehr, {**body, "context": {"patientId": dots}}).status_code == 400
    response = client.post(HOOK, content=b"{not json", headers={**ehr.auth(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert client.post("/cds-services/other", json=body, headers=ehr.auth()).status_code == 404


def test_request_and_prefetch_size_limits_are_413(settings, ehr, mapping):
    small = settings.model_copy(update={"max_request_bytes": 4096, "max_prefetch_resources": 10})
    app = create_app(small, mapping=mapping, clock=lambda: float(NOW))
    with TestClient(app) as client:
        big = post(client, ehr, {**hook_request("p1"), "padding": "x" * 5000})
        assert big.status_code == 413
        many = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "Condition", "id": f"c{i}"}} for i in range(11)],
        }
        body = hook_request("p1", {"conditions": many})
        assert len(json.dumps(body)) < 4096
        assert post(client, ehr, body).status_code == 413


def test_bounded_concurrency_answers_503_when_the_queue_is_full(settings, ehr, mapping):
    app = create_app(
        settings.model_copy(update={"concurrency": 1, "queue": 0}), mapping=mapping, clock=lambda: float(NOW)
    )
    with TestClient(app) as client:
        app.state.service._waiting = 1  # one evaluation in flight
        response = post(client, ehr, origin_request(mapping))
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


def test_cors_preflight_as_the_specification_shows(client):
    response = client.options(
        HOOK,
        headers={
            "Origin": "https://ehr.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://ehr.example.org")
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _captured_logs() -> Iterator[_Records]:
    """Every record of the package's loggers, at debug level, while the block runs."""
    handler = _Records()
    logger = logging.getLogger("poems_fhir")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_logs_and_metrics_carry_no_patient_data(client, ehr, mapping):
    body = origin_request(mapping)
    body["fhirServer"] = "https://ehr.example.org/fhir"
    body["fhirAuthorization"] = {"access_token": "tok-very-secret-42", "token_type": "Bearer"}
    with _captured_logs() as handler:
        assert post(client, ehr, body).status_code == 200
        assert post(client, ehr, hook_request("poems-origin")).status_code == 412
        assert client.post(HOOK, json=body).status_code == 401
    events = [getattr(r, "event", None) for r in handler.records]
    assert events.count("cds.request") == 3 and "cds.auth_rejected" in events
    text = " ".join(r.getMessage() + json.dumps(getattr(r, "fields", {}), default=str) for r in handler.records)
    text += client.get("/metrics").text
    for phi in ("poems-origin", "Patient/", "tok-very-secret-42", "Demyelinating", "IgA lambda", "Bearer ey"):
        assert phi not in text


def test_an_unexpected_error_is_500_and_logs_only_its_class(client, ehr, mapping, monkeypatch):
    def broken(*args: Any, **kw: Any) -> None:
        raise ValueError("Observation oc-vegf of Ivanov I.I. born 1970-01-01 is odd")

    monkeypatch.setattr("poems_fhir.serve.app.evaluate_record", broken)
    handler = _Records()
    logging.getLogger("poems_fhir").addHandler(handler)
    try:
        response = post(client, ehr, origin_request(mapping))
    finally:
        logging.getLogger("poems_fhir").removeHandler(handler)
    assert response.status_code == 500 and "Ivanov" not in response.text
    (record,) = [r for r in handler.records if getattr(r, "event", None) == "cds.error"]
    assert record.getMessage() == "patient-view failed: ValueError" and "Ivanov" not in str(record.fields)
    assert 'poems_fhir_cds_requests_total{outcome="error"} 1.0' in client.get("/metrics").text


def test_the_fhir_authorization_token_never_leaves_the_fhir_server_origin(client, ehr, mapping):
    """A paging link from the EHR's server to another origin is refused before a connection is opened."""
    from tests.fhir.loopback import Loopback, respond

    with Loopback(lifetime=20) as other:
        page = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [],
            "link": [{"relation": "next", "url": f"{other.origin}/fhir/Condition?page=2"}],
        }
        with Loopback([respond(200, page)], lifetime=20) as ehr_server:
            body = origin_request(mapping)
            del body["prefetch"]["conditions"]
            body["fhirServer"] = f"{ehr_server.origin}/fhir"
            body["fhirAuthorization"] = {"access_token": "tok-only-for-the-ehr", "token_type": "Bearer"}
            response = post(client, ehr, body)
    assert response.status_code == 412
    assert len(ehr_server.requests) == 1 and b"Authorization: Bearer tok-only-for-the-ehr" in ehr_server.requests[0]
    assert ehr_server.requests[0].startswith(b"GET /fhir/Condition?patient=poems-origin")
    assert other.connections == 0 and other.requests == []


def test_fuzzed_prefetch_never_gives_a_500(client, ehr, mapping):
    """Elements of the wrong JSON type anywhere in the prefetch: the bad resource is skipped (or the
    key treated as missing), the rest is evaluated; never an internal error. Seeded, deterministic."""
    import copy
    import random

    def paths_of(o: Any, p: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        items = o.items() if isinstance(o, dict) else enumerate(o) if isinstance(o, list) else []
        return [q for k, v in items for q in [(*p, k), *paths_of(v, (*p, k))]]

    base = hook_request("poems-origin", run_templates(bundle_resources(*ORIGIN_ALL), mapping, "poems-origin"))
    junk = [None, 0, 1e308, "", [], {}, [1, 2], {"a": 1}, True, "2019-13-45", {"reference": 5}, {"coding": "x"}]
    where = paths_of(base["prefetch"])
    rng = random.Random(14)  # noqa: S311  (seeded test data, not cryptography)
    answers: dict[int, int] = {}
    for _ in range(120):
        body = copy.deepcopy(base)
        for _ in range(rng.randint(1, 5)):
            path = rng.choice(where)
            target: Any = body["prefetch"]
            try:
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = rng.choice(junk)
            except (KeyError, IndexError, TypeError):
                pass  # an earlier change removed this branch
        status = post(client, ehr, body).status_code
        answers[status] = answers.get(status, 0) + 1
    assert set(answers) <= {200, 412} and answers.get(200, 0) > 60, answers


def test_a_malformed_resource_is_skipped_and_the_rest_evaluated(mapping):
    """The extraction boundary: a resource with an element of the wrong JSON type is reported, not fatal."""
    from poems_fhir.fhir.read import records_from_resources
    from poems_fhir.mapping.extract import extract

    resources = bundle_resources(ORIGIN)
    bad = next(r for r in resources if r["resourceType"] == "Observation")
    bad["status"] = ["final"]  # a list where a code belongs
    bad["meta"] = ["not", "an", "object"]
    records, errors = records_from_resources([(r, "test") for r in resources])
    # the input boundary reports it (before extraction) and keeps it out of the record
    assert [e.resource for e in errors] == [f"Observation/{bad['id']}"]
    assert all(raw.ref != f"Observation/{bad['id']}" for raw in records[0].resources)
    extraction = extract(records[0], mapping)
    assert extraction.findings and not extraction.errors


def test_fallback_retries_log_no_url_and_no_patient_id(settings, ehr, mapping):
    from poems_fhir.fhir.auth import BearerAuth
    from poems_fhir.fhir.client import FhirClient
    from poems_fhir.fhir.http import RetryPolicy
    from tests.fhir.loopback import Loopback, respond

    def factory(base: str, token: str, timeout: float) -> FhirClient:
        return FhirClient(
            base,
            auth=BearerAuth(token),
            retry=RetryPolicy(attempts=2, base_delay=0.2, max_delay=1),
            sleep=lambda s: None,
        )  # no real sleeping in tests

    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    body = origin_request(mapping)
    del body["prefetch"]["reports"]
    handler = _Records()
    logging.getLogger("poems_fhir").addHandler(handler)
    try:
        with Loopback([respond(503, b"busy"), respond(200, empty)], lifetime=20) as server:
            body["fhirServer"] = f"{server.origin}/fhir"
            body["fhirAuthorization"] = {"access_token": "tok-x", "token_type": "Bearer"}
            app = create_app(settings, mapping=mapping, client_factory=factory, clock=lambda: float(NOW))
            with TestClient(app) as client:
                response = post(client, ehr, body)
    finally:
        logging.getLogger("poems_fhir").removeHandler(handler)
    assert response.status_code == 200 and len(server.requests) == 2
    retry = [r for r in handler.records if getattr(r, "event", None) == "http.retry"]
    assert len(retry) == 1 and retry[0].fields == {"delay_s": retry[0].fields["delay_s"]}
    text = " ".join(r.getMessage() + json.dumps(getattr(r, "fields", {})) for r in handler.records)
    assert "poems-origin" not in text and "127.0.0.1" not in text and "tok-x" not in text


def test_a_complete_prefetch_never_touches_fhir_server(client, ehr, mapping):
    body = {
        **origin_request(mapping),
        "fhirServer": "http://hooks.smarthealthit.org:9080",
        "fhirAuthorization": SPEC_EXAMPLE["fhirAuthorization"],
    }
    response = post(client, ehr, body)
    assert response.status_code == 200 and len(response.json()["cards"]) == 1


def test_deeply_nested_json_is_400(client, ehr):
    deep = b'{"hook": "patient-view", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post(HOOK, content=deep, headers={**ehr.auth(), "Content-Type": "application/json"})
    assert response.status_code == 400


def test_card_text_that_is_not_unicode_is_sent_escaped_not_a_500():
    from poems_fhir.serve.app import _CardsResponse

    lone = json.loads('"IgA \\ud800 lambda"')
    body = _CardsResponse({"cards": [{"summary": lone}]}).body
    assert json.loads(body) == {"cards": [{"summary": lone}]}
    assert body.isascii()
    ok = _CardsResponse({"cards": [{"summary": "IgA λ"}]}).body
    assert json.loads(ok.decode("utf-8")) == {"cards": [{"summary": "IgA λ"}]} and "λ".encode() in ok


@pytest.mark.parametrize(
    ("authorization", "said"),
    [
        ({"token_type": "MAC"}, "fhirAuthorization.token_type: String should match pattern"),
        ({"expires_in": -5}, "fhirAuthorization.expires_in: Input should be greater than or equal to 0"),
        ({"expires_in": "300"}, "fhirAuthorization.expires_in: Input should be a valid integer"),
        ({"patient": "someone-else"}, "fhirAuthorization.patient is not context.patientId"),
    ],
)
def test_a_fhir_authorization_the_service_cannot_use_is_a_400_that_says_why(client, ehr, mapping, authorization, said):
    # probe44: any token_type and a token granted for another patient were accepted; "check X" said too little
    body = {
        **origin_request(mapping),
        "fhirServer": "https://ehr.example.org/fhir",
        "fhirAuthorization": {"access_token": "tok-secret-9", "token_type": "Bearer", **authorization},
    }
    response = post(client, ehr, body)
    assert response.status_code == 400 and said in response.json()["error"]
    assert "tok-secret-9" not in response.text and "someone-else" not in response.text
    fine = {**authorization, "token_type": "bearer", "patient": "poems-origin", "expires_in": 300}
    body["fhirAuthorization"] = {"access_token": "tok-secret-9", **fine}
    assert post(client, ehr, body).status_code == 200  # a complete prefetch: the token is never used


@pytest.mark.parametrize("token", ["a\r\nX-Evil: 1", "tok en", "tök", "a\x00b"])
def test_an_access_token_that_cannot_be_a_header_value_is_a_400(client, ehr, mapping, token):
    """It goes into an Authorization header: CR/LF would inject headers, other characters failed in the
    HTTP library with a 500 (found by a black-box fuzzer)."""
    body = {
        **origin_request(mapping),
        "fhirServer": "https://ehr.example.org/fhir",
        "fhirAuthorization": {"access_token": token, "token_type": "Bearer"},
    }
    response = post(client, ehr, body)
    assert response.status_code == 400 and "fhirAuthorization" in response.json()["error"]
    assert token not in response.text


@responses_lib.activate
def test_a_fhir_server_answer_that_inflates_past_the_fallback_cap_is_refused_while_it_streams():
    # found by a held-out probe (probe27): a 300 kB gzip answer inflating to 300 MB took the service
    # to 1.5 GB for one hook call (the sync job's 512 MB cap); the fallback reads one page at a time
    import gzip

    from poems_fhir.errors import FatalNetworkError
    from poems_fhir.serve.app import FALLBACK_MAX_BODY, default_client

    # hex digits inflate about 2-fold, like FHIR JSON: the size cap refuses it, not the inflation check
    # (a run of one byte would be refused at 16 MB as a decompression bomb: tests/fhir/test_network_faults.py)
    filler = os.urandom(FALLBACK_MAX_BODY // 2 + 10).hex().encode()
    body = gzip.compress(b'{"resourceType":"Patient","id":"p1","x":"' + filler + b'"}', 1)
    assert len(body) < FALLBACK_MAX_BODY  # smaller on the wire than the cap
    responses_lib.add(
        "GET",
        "https://ehr.example.org/fhir/Patient/p1",
        body=body,
        headers={"Content-Encoding": "gzip", "Content-Type": "application/fhir+json"},
    )
    client = default_client("https://ehr.example.org/fhir", "token", 5.0)
    with pytest.raises(FatalNetworkError, match="the response is larger than 32 MB"):
        client.get("Patient/p1")


def test_a_hook_instance_that_is_no_uuid_and_a_long_kid_stay_out_of_the_log(client, ehr, mapping):
    # probe44: a name and an MRN sent as hookInstance reached the log; a 12 kB kid was logged whole, twice
    body = origin_request(mapping)
    body["hookInstance"] = "Zyxwvutsname Qwertygiven MRN 12345"
    with _captured_logs() as handler:
        assert post(client, ehr, body).status_code == 200
        long_kid = ehr.token(headers={"kid": "K" * 12_000})
        assert (
            client.post(HOOK, json=hook_request("p1"), headers={"Authorization": f"Bearer {long_kid}"}).status_code
            == 401
        )
    text = " ".join(r.getMessage() + json.dumps(getattr(r, "fields", {}), default=str) for r in handler.records)
    assert "Zyxwvutsname" not in text and "12345" not in text and "(not a UUID: not logged)" in text
    assert "K" * 65 not in text and "K" * 64 in text
