"""A 404/410 to a search's own next link is an expired or lost page, not a deleted patient (probe68 D2:
HAPI answers 410 "Search id ... does not exist and may have expired" for an expired paging link; the
patient whose first page had been read was parked as "not on the server", its changes never written)."""

from __future__ import annotations

import pytest
import responses

from poems_fhir.errors import FatalNetworkError, PageLinkGoneError, TemporaryNetworkError
from poems_fhir.fhir.client import FhirClient

BASE = "https://fhir.example/R4"
EXPIRED = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "processing",
            "diagnostics": "Search id 'abc' does not exist and may have expired",
        }
    ],
}


def _first_page(next_url: str) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "next", "url": next_url}],
        "entry": [{"resource": {"resourceType": "Procedure", "id": "p1", "subject": {"reference": "Patient/1"}}}],
    }


@pytest.mark.parametrize("status", [404, 410])
@responses.activate
def test_a_gone_next_page_is_an_incomplete_search_retried_next_run(status):
    paging = f"{BASE}?_getpages=abc&_getpagesoffset=200&_count=200"
    responses.add("GET", f"{BASE}/Procedure", json=_first_page(paging))
    responses.add("GET", paging, status=status, json=EXPIRED)
    with pytest.raises(PageLinkGoneError) as exc:
        list(FhirClient(BASE).search("Procedure", {"patient": "1"}, max_pages=100))
    assert isinstance(exc.value, TemporaryNetworkError) and exc.value.status == status
    assert str(exc.value).startswith(
        f"search Procedure: the server answered HTTP {status} to its own next link (the page expired or was lost): "
        "the search is incomplete and not used; retried on the next run"
    )


@responses.activate
def test_a_gone_first_page_is_the_servers_answer_about_the_search_itself():
    responses.add("GET", f"{BASE}/Procedure", status=410, json=EXPIRED)
    with pytest.raises(FatalNetworkError) as exc:
        list(FhirClient(BASE).search("Procedure", {"patient": "1"}, max_pages=100))
    assert exc.value.status == 410 and not isinstance(exc.value, PageLinkGoneError)
