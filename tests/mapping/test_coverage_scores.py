"""`mappings coverage` lists the neuropathy scales criteria.md §8.4 names (ONLS, mCRES, grip strength, CMAP)
under a site's own codes as relevant and unmapped (probe58 D7: an ONLS series went unread and unlisted)."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.coverage import collect, to_dict
from tests.conftest import make_record, observation


@pytest.mark.parametrize(
    "name", ["ONLS score", "INCAT disability score", "mCRES", "Grip strength, right", "CMAP amplitude"]
)
def test_a_neuropathy_scale_under_a_local_code_is_listed_as_relevant(mapping, name):
    score = observation({"coding": [{"system": "http://hospital.example/codes", "code": "N1", "display": name}]})
    score["valueQuantity"] = {"value": 3}
    rows = to_dict(collect([make_record(score)], mapping))["unmapped_relevant"]
    assert [(r["code"], r["text"]) for r in rows] == [("N1", name)]
