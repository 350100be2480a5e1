"""A search page's coded elements read as the codes a server means (fix141a, the client side of probe140 D4/D8).

A page's link relation "Next" was no next link (the search silently ended after its first page), an
OperationOutcome with severity "ERROR" did not fail the search, a history page's deletion spelt "Delete" made the
page "malformed", and a self link "Self" was not looked at. Case, spaces and underscores are now forgiven.
"""

from __future__ import annotations

from typing import Any

import pytest
import responses

from poems_fhir.errors import TemporaryNetworkError
from poems_fhir.fhir.client import FhirClient, ignored_parameter, malformed_page

BASE = "https://fhir.example/R4"


def condition(cid: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/1"}}


def page(cid: str, *links: dict[str, str], outcome: dict[str, Any] | None = None) -> dict[str, Any]:
    entries = [{"resource": condition(cid), "search": {"mode": "match"}}]
    if outcome is not None:
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    return {"resourceType": "Bundle", "type": "searchset", "link": list(links), "entry": entries}


@pytest.mark.parametrize("relation", ["next", "Next", "NEXT", " next "])
@responses.activate
def test_a_next_link_in_any_case_is_followed(relation):
    second = f"{BASE}/Condition?page=2"
    responses.add("GET", f"{BASE}/Condition", json=page("c1", {"relation": relation, "url": second}))
    responses.add("GET", second, json=page("c2"))
    found = [r["id"] for r in FhirClient(BASE).search("Condition", {"patient": "1"}, max_pages=10)]
    assert found == ["c1", "c2"]


@responses.activate
def test_control_a_page_without_a_next_link_ends_the_search():
    responses.add("GET", f"{BASE}/Condition", json=page("c1", {"relation": "previous", "url": f"{BASE}/x"}))
    assert [r["id"] for r in FhirClient(BASE).search("Condition", {"patient": "1"}, max_pages=10)] == ["c1"]


@pytest.mark.parametrize(
    ("severity", "code"), [("ERROR", "processing"), ("Fatal", "exception"), ("warning", "Incomplete")]
)
@responses.activate
def test_a_page_whose_outcome_says_failed_in_any_spelling_fails_the_search(severity, code):
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code}]}
    responses.add("GET", f"{BASE}/Condition", json=page("c1", outcome=outcome))
    with pytest.raises(TemporaryNetworkError, match="incomplete"):
        list(FhirClient(BASE).search("Condition", {"patient": "1"}, max_pages=10))


@pytest.mark.parametrize("method", ["DELETE", "Delete", "delete"])
def test_a_history_pages_deletion_in_any_case_is_no_malformed_entry(method):
    bundle = {
        "resourceType": "Bundle",
        "type": "history",
        "entry": [{"request": {"method": method, "url": "Condition/c1"}}],
    }
    assert malformed_page(bundle) is None


@pytest.mark.parametrize("method", ["PUT", ""])
def test_control_a_history_entry_without_a_resource_that_deletes_nothing_is_malformed(method):
    bundle = {
        "resourceType": "Bundle",
        "type": "history",
        "entry": [{"request": {"method": method, "url": "Condition/c1"}}],
    }
    assert malformed_page(bundle) == "entry[0] holds no resource"


@pytest.mark.parametrize("relation", ["self", "Self"])
def test_a_self_link_in_any_case_tells_an_ignored_parameter(relation):
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": relation, "url": f"{BASE}/Condition?patient=1"}],
    }
    assert ignored_parameter(bundle, "_revinclude") is True
    bundle["link"][0]["url"] += "&_revinclude=Provenance:target"
    assert ignored_parameter(bundle, "_revinclude") is False
