"""A prefetched search's coded elements read as the codes the EHR means (serve/prefetch.py; fix141a).

A prefetch page with a link relation "Next" was taken as the whole answer (its other pages never read), and an
entry of mode "Outcome" or "Include" counted as a match against ``total``. Case, spaces and underscores are now
forgiven, as in the file reader and the client.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.serve.prefetch import InsufficientData, Query, gather, queries
from tests.serve.test_prefetch import PID, complete_prefetch, searchset


def condition(cid: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{PID}"}}


def with_conditions(mapping: Any, page: dict[str, Any]) -> dict[str, Any]:
    prefetch = complete_prefetch(mapping, searchset())
    prefetch["conditions"] = page
    return prefetch


@pytest.mark.parametrize("relation", ["next", "Next", " NEXT "])
def test_a_prefetched_page_with_a_next_link_in_any_case_is_no_whole_answer(mapping, relation):
    page = searchset(condition("c1"))
    page["link"] = [{"relation": relation, "url": "https://ehr.example/fhir/Condition?page=2"}]
    with pytest.raises(InsufficientData, match="conditions"):
        gather(PID, with_conditions(mapping, page), queries(mapping), None, 1000)
    fetched: list[str] = []

    def fetch(query: Query, patient_id: str) -> list[dict[str, Any]]:
        fetched.append(query.key)
        return []

    gather(PID, with_conditions(mapping, page), queries(mapping), fetch, 1000)
    assert fetched == ["conditions"]


@pytest.mark.parametrize("mode", ["Include", "OUTCOME"])
def test_an_include_or_outcome_entry_in_any_case_is_no_match_against_the_total(mapping, mode):
    # total 2, one match and one entry of another mode, no next page: the answer is short - read again, or 412
    page = searchset(condition("c1"), condition("c2"))
    page["entry"][1]["search"] = {"mode": mode}
    page["total"] = 2
    with pytest.raises(InsufficientData, match="conditions"):
        gather(PID, with_conditions(mapping, page), queries(mapping), None, 1000)


def test_control_a_whole_prefetched_page_is_read(mapping):
    page = searchset(condition("c1"), condition("c2"))
    page["entry"][1]["search"] = {"mode": "Match"}
    page["total"] = 2
    page["link"] = [{"relation": "Self", "url": "https://ehr.example/fhir/Condition"}]
    gather(PID, with_conditions(mapping, page), queries(mapping), None, 1000)
