"""A manual marrow plasma-cell count of 0 % in a sample the lab calls haemodilute or unfit (a note, the code's text,
the interpretation IND) is not used: it says nothing of clonal plasma cells (probe113 D2: it opened the radiotherapy
branch); a count above 0 in such a sample, and a 0 % of an adequate sample, are used as before."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

LOINC_MANUAL = "11118-7"


def _count(value: float, **elements):
    quantity = {"value": value, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}
    return observation(LOINC_MANUAL, "bm", valueQuantity=quantity, **elements)


def _measured(mapping, resource) -> list[float]:
    out = extract(make_record(resource), mapping)
    return [m.value for m in out.measurements if m.analyte == "bm_plasma_cells"]


@pytest.mark.parametrize(
    "elements",
    [
        {"note": [{"text": "Aspirate hemodilute; suboptimal for plasma-cell assessment."}]},
        {"note": [{"text": "Haemodilute sample."}]},
        {"note": [{"text": "Аспират с гемодилюцией, малоинформативен."}]},
        {
            "code": {
                "coding": [{"system": "http://loinc.org", "code": LOINC_MANUAL}],
                "text": "Plasma cells (hemodilute sample)",
            }
        },
        {
            "interpretation": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "IND"}
                    ]
                }
            ]
        },
    ],
)
def test_a_zero_count_of_an_unfit_sample_is_not_used(mapping, elements):
    assert _measured(mapping, _count(0, **elements)) == []


def test_a_zero_count_of_an_adequate_sample_and_a_positive_count_of_an_unfit_one_are_used(mapping):
    assert _measured(mapping, _count(0, note=[{"text": "Adequate, cellular aspirate."}])) == [0.0]
    assert _measured(mapping, _count(12, note=[{"text": "Aspirate hemodilute."}])) == [12.0]
