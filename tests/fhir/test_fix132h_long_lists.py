# SPDX-License-Identifier: Apache-2.0
"""probe129 D4: one Observation with 390,000 components (48 MB) was walked and mapped item by item
(1.1 GB). A resource with a list longer than MAX_LIST_ITEMS is a reported skip; one at the bound is read."""

from __future__ import annotations

import pytest

from poems_fhir.fhir.boundary import MAX_LIST_ITEMS, Invalid, validate


def _panel(n: int) -> dict:
    comp = {"code": {"coding": [{"system": "http://loinc.org", "code": "777-3"}]}, "valueQuantity": {"value": 1}}
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "58410-2"}]},
        "component": [dict(comp) for _ in range(n)],
    }


def test_a_resource_with_more_components_than_the_bound_is_refused_naming_the_list() -> None:
    with pytest.raises(Invalid, match=r"Observation\.component has more than 1,000 items"):
        validate(_panel(MAX_LIST_ITEMS + 1))
    # control: a panel at the bound (and a real one of dozens) is read
    assert len(validate(_panel(MAX_LIST_ITEMS))["component"]) == MAX_LIST_ITEMS
    assert len(validate(_panel(30))["component"]) == 30
