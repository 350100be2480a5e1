"""A Procedure's note says what the procedure found (probe107 D13): "Dilated fundoscopy: bilateral optic disc swelling
- papilloedema, grade 2." on a completed fundoscopy was not read, papilloedema stayed not assessed and fundoscopy was
proposed again. The note is read by the text engine like a Condition's or an Observation's; a procedure not done,
or entered in error, says nothing."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record


def fundoscopy(status: str, note: str) -> dict:
    return {
        "resourceType": "Procedure",
        "id": "fundus",
        "status": status,
        "code": {"text": "Fundoscopy"},
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": "2024-03-01",
        "note": [{"text": note}],
    }


def papilledema(ex) -> list[tuple[State, bool, str]]:
    return [(f.state, f.from_text, f.evidence.reference) for f in ex.findings if f.topic == "papilledema"]


def test_a_completed_procedures_note_is_read(mapping):
    ex = extract(
        make_record(
            fundoscopy("completed", "Dilated fundoscopy: bilateral optic disc swelling - papilloedema, grade 2.")
        ),
        mapping,
    )
    assert papilledema(ex) == [(State.PRESENT, True, "Procedure/fundus")]


def test_a_denial_in_the_note_is_read_too(mapping):
    ex = extract(make_record(fundoscopy("completed", "Fundoscopy: no papilloedema.")), mapping)
    assert [s for s, _, _ in papilledema(ex)] == [State.ABSENT]


@pytest.mark.parametrize("status", ["not-done", "entered-in-error"])
def test_the_note_of_a_procedure_not_done_says_nothing(mapping, status):
    ex = extract(make_record(fundoscopy(status, "Papilloedema, grade 2.")), mapping)
    assert papilledema(ex) == []
