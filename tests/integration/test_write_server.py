"""A generated transaction, posted to a real FHIR server, is accepted and idempotent."""

from __future__ import annotations

import datetime as dt

import requests

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.write import WriteContext
from poems_fhir.pipeline import evaluate_paths, transaction_for
from tests.conftest import SAMPLES
from tests.integration.conftest import headers, load_bundles


def test_post_generated_transaction(fhir_server, mapping):
    if fhir_server["resettable"]:
        requests.post(f"{fhir_server['url']}/$reset", timeout=10).raise_for_status()
    load_bundles(fhir_server, [SAMPLES / "classic-poems.json"])  # the patient and the evidence it cites
    run = evaluate_paths([SAMPLES / "classic-poems.json"], mapping, MAYO)
    r = run.results[0]
    now = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone.utc)
    bundle = transaction_for(r, WriteContext(now, mapping.identity, r.inputs))
    for _attempt in range(2):
        response = requests.post(fhir_server["url"], json=bundle, headers=headers(fhir_server), timeout=30)
        assert response.status_code == 200, response.text
        entries = response.json()["entry"]
        assert [e["response"]["status"][:3] in ("200", "201") for e in entries] == [True] * len(bundle["entry"])
    search = requests.get(
        f"{fhir_server['url']}/CarePlan",
        params={"subject": "Patient/classic-poems"},
        headers=headers(fhir_server),
        timeout=30,
    ).json()
    plans = [e["resource"] for e in search.get("entry", [])]
    assert len(plans) == 1 and (plans[0]["status"], plans[0]["intent"]) == ("draft", "proposal")
