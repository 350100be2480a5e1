"""A letter retelling a laboratory result, and two reports of the same day that disagree (probe114 D4, D5).

D4: a clinic letter's "Serum immunofixation showed an IgG lambda paraprotein." made the mandatory clone
present over the laboratory's own negative immunofixation, which was not even cited. D5: two CT reports of
one day, "Sclerotic lesion in T10." and "No sclerotic bone lesions.": present, the negative not cited."""

from __future__ import annotations

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report, make_record, observation

CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
SCLEROTIC = Criterion.SCLEROTIC_BONE_LESIONS.value
RAD = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}]
OTH = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "OTH"}]}]


def criteria(mapping, *resources):
    out = extract(make_record(*resources), mapping)
    return evaluate("Patient/p1", out.findings, MAYO, None).criteria


def negative_ife():
    return observation("25700-6", "ife", effectiveDateTime="2023-12-05", valueCodeableConcept={"text": "Negative"})


def letter(text: str, day: str = "2024-02-01"):
    return {
        **diagnostic_report("let", "Haematology clinic letter", text),
        "category": OTH,
        "effectiveDateTime": day,
    }


def test_a_letter_retelling_an_immunofixation_does_not_override_the_laboratory_result(mapping):
    result = criteria(mapping, negative_ife(), letter("Serum immunofixation showed an IgG lambda paraprotein."))[CLONE]
    assert result.state is State.INDETERMINATE
    assert {e.reference for e in result.evidence} == {"Observation/ife", "DiagnosticReport/let"}
    assert "letter" in result.reason and "serum immunofixation negative" in result.reason


def test_a_letter_alone_still_counts_and_a_positive_laboratory_result_is_not_doubted(mapping):
    alone = criteria(mapping, letter("Serum immunofixation showed an IgG lambda paraprotein."))[CLONE]
    assert alone.state is State.PRESENT
    positive = observation(
        "25700-6", "ife2", effectiveDateTime="2024-01-05", valueCodeableConcept={"text": "IgG lambda"}
    )
    both = criteria(mapping, negative_ife(), positive, letter("Known IgG lambda paraprotein."))[CLONE]
    assert both.state is State.PRESENT
