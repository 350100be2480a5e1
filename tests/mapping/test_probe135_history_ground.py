"""probe135 G2: «с учётом анамнеза» (given the history) is the ground of the pathologist's reasoning, not a history of
the finding - «С учетом анамнеза рассматривалась болезнь Кастлемана» beside the report's own denial left Castleman
disease `indeterminate` where the English "was considered given the clinical history" reads absent."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

CASTLEMAN = "castleman_disease"


def node_report(conclusion: str) -> dict:
    return {
        "resourceType": "DiagnosticReport",
        "id": "path",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "SP"}]}],
        "code": {"text": "Surgical pathology - lymph node excisional biopsy"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-01",
        "conclusion": conclusion,
    }


def castleman(mapping, conclusion: str) -> set[State]:
    return {f.state for f in extract(make_record(node_report(conclusion)), mapping).findings if f.topic == CASTLEMAN}


@pytest.mark.parametrize(
    ("conclusion", "expected"),
    [
        (
            "Реактивная гиперплазия, данных за болезнь Кастлемана нет. С учетом анамнеза рассматривалась болезнь "
            "Кастлемана.",
            {State.ABSENT},
        ),
        ("Болезнь Кастлемана рассматривалась с учётом анамнеза.", {State.INDETERMINATE}),  # alone: the doubt stands
        ("Болезнь Кастлемана в анамнезе.", {State.INDETERMINATE}),  # a history of the disease stays one
        ("С учётом анамнеза: гиалиново-васкулярный вариант болезни Кастлемана.", {State.PRESENT}),
    ],
)
def test_the_history_as_the_reasonings_ground(mapping, conclusion: str, expected: set[State]) -> None:
    assert castleman(mapping, conclusion) == expected
