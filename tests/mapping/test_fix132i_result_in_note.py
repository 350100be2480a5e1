"""A result whose value only points to its comment is read from the Observation's notes (fix132i).

D7 (probe132). Epic/Beaker-style interfaces send a text result as valueString "See comment" / "See note" /
"See below" / «см. комментарий» / «см. примечание», the result itself in Observation.note ("A faint IgA lambda
monoclonal band is identified (<0.1 g/dL)."): the immunofixation was "unrecognised immunofixation result 'See
comment'", the clone not assessed and a POEMS patient indeterminate. The notes now are the result, read by the
same parser as a valueString: a band, a negative, a number (VEGF, M-protein).

Controls: a real value with a note stays the value's ("Negative" + "Clinical correlation advised."); a pointer
with no note stays unread and listed; a relative's band in the note is not the patient's; a coded result is
never a pointer.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation

CLONE = "monoclonal_plasma_cell_disorder"
SERUM_IFE = "25700-6"
VEGF = "75628-8"
SERUM_M_PROTEIN = "33358-3"

POINTERS = [
    "See comment",
    "See note",
    "See below",
    "SEE COMMENT.",
    "(see comments)",
    "Please see comment",
    "Refer to note",
    "см. комментарий",
    "См. примечание",
    "см. ниже",
    "түсініктемені қараңыз",
]


def _ife(value: Any, *notes: str, **extra: Any) -> dict[str, Any]:
    elements: dict[str, Any] = {"valueString": value} if isinstance(value, str) else dict(value)
    if notes:
        elements["note"] = [{"text": n} for n in notes]
    return observation(SERUM_IFE, **elements, **extra)


def _clone(mapping: CompiledMapping, resource: dict[str, Any]) -> list[tuple[State, str]]:
    ex = extract(make_record(resource), mapping)
    return [(f.state, f.evidence.summary) for f in ex.findings if f.topic == CLONE]


@pytest.mark.parametrize("pointer", POINTERS)
def test_pointer_reads_the_band_in_the_note(mapping: CompiledMapping, pointer: str) -> None:
    found = _clone(mapping, _ife(pointer, "A faint IgA lambda monoclonal band is identified (<0.1 g/dL)."))
    assert [s for s, _ in found] == [State.PRESENT], found
    assert "IgA lambda" in found[0][1] and pointer in found[0][1]


@pytest.mark.parametrize(
    "note",
    [
        "No monoclonal protein detected.",
        "No monoclonal band identified.",
        "Моноклональный белок не выявлен.",
    ],
)
def test_pointer_reads_the_negative_in_the_note(mapping: CompiledMapping, note: str) -> None:
    assert [s for s, _ in _clone(mapping, _ife("See comment", note))] == [State.ABSENT]


def test_pointer_in_a_text_only_concept(mapping: CompiledMapping) -> None:
    value = {"valueCodeableConcept": {"text": "See note"}}
    found = _clone(mapping, _ife(value, "IgG kappa monoclonal protein detected."))
    assert [s for s, _ in found] == [State.PRESENT]


def test_several_notes_are_read_together(mapping: CompiledMapping) -> None:
    found = _clone(mapping, _ife("See comment", "Performed at the reference laboratory.", "IgA lambda band present."))
    assert [s for s, _ in found] == [State.PRESENT]


def test_vegf_number_in_the_note(mapping: CompiledMapping) -> None:
    ex = extract(make_record(observation(VEGF, valueString="See comment", note=[{"text": "600 pg/mL"}])), mapping)
    assert not ex.errors
    assert [m.value for m in ex.measurements] == [600]


def test_m_protein_in_the_note(mapping: CompiledMapping) -> None:
    resource = observation(SERUM_M_PROTEIN, valueString="See note", note=[{"text": "0.3 g/dL"}])
    found = _clone(mapping, resource)
    assert [s for s, _ in found] == [State.PRESENT], found


# --- controls


def test_value_with_a_comment_stays_the_value(mapping: CompiledMapping) -> None:
    found = _clone(mapping, _ife("Negative", "Clinical correlation advised."))
    assert [s for s, _ in found] == [State.ABSENT]
    assert "points to" not in found[0][1]


def test_pointer_without_a_note_stays_unread_and_listed(mapping: CompiledMapping) -> None:
    ex = extract(make_record(_ife("See comment")), mapping)
    assert [f.state for f in ex.findings if f.topic == CLONE] == [State.NOT_ASSESSED]
    assert ex.errors and "See comment" in ex.errors[0].message


def test_pointer_with_a_blank_note_stays_unread(mapping: CompiledMapping) -> None:
    ex = extract(make_record(_ife("See comment", "   ")), mapping)
    assert [f.state for f in ex.findings if f.topic == CLONE] == [State.NOT_ASSESSED]


@pytest.mark.parametrize(
    "note",
    [
        "Mother: IgA lambda.",
        "Family history: mother had IgA lambda MGUS.",
        "У матери IgA лямбда.",
    ],
)
def test_relatives_band_in_the_note_is_not_the_patients(mapping: CompiledMapping, note: str) -> None:
    assert State.PRESENT not in [s for s, _ in _clone(mapping, _ife("See comment", note))]


def test_a_coded_result_is_no_pointer(mapping: CompiledMapping) -> None:
    value = {
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": "260385009", "display": "See comment"}]
        }
    }
    found = _clone(mapping, _ife(value, "IgA lambda band present."))
    assert [s for s, _ in found] != [State.PRESENT]


def test_words_beside_the_pointer_are_a_value(mapping: CompiledMapping) -> None:
    # "Negative, see comment" is a result with a comment, not a pointer: the note is its comment
    found = _clone(mapping, _ife("Negative - see comment", "Clinical correlation advised."))
    assert "points to" not in " ".join(s for _, s in found)
