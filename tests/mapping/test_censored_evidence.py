"""A censored value keeps its comparator in the evidence (probe98 D6): the JSON said `"value": 250.0` for a plasma
VEGF of "<250 pg/mL" - a number at the cut-off for a result the engine itself judged below or straddling it."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import Evidence
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

VEGF = "75628-8"


def _vegf_evidence(mapping, **value):
    found = extract(make_record(observation(VEGF, specimen={"display": "plasma"}, **value)), mapping)
    [finding] = [f for f in found.findings if f.topic == "vegf_elevation"]
    return finding.evidence.to_dict()


@pytest.mark.parametrize(
    ("value", "comparator", "number"),
    [
        (
            {
                "valueQuantity": {
                    "value": 250,
                    "comparator": "<",
                    "unit": "pg/mL",
                    "system": "http://unitsofmeasure.org",
                    "code": "pg/mL",
                }
            },
            "<",
            250.0,
        ),
        ({"valueString": "<50 pg/mL"}, "<", 50.0),
        ({"valueString": ">2000 pg/mL"}, ">", 2000.0),
    ],
)
def test_a_censored_vegf_says_its_comparator(mapping, value, comparator, number):
    evidence = _vegf_evidence(mapping, **value)
    assert (evidence.get("comparator"), evidence["value"]) == (comparator, number)


def test_an_exact_value_has_no_comparator(mapping):
    evidence = _vegf_evidence(mapping, valueString="250 pg/mL")
    assert "comparator" not in evidence and evidence["value"] == 250.0


def test_the_comparator_is_written_before_its_value():
    said = Evidence("Observation/v", None, "VEGF <250 pg/mL", value=250.0, unit="pg/mL", comparator="<").to_dict()
    assert list(said)[list(said).index("comparator") + 1] == "value"
