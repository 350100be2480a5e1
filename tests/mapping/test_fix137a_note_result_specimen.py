"""A "See comment" result's note: its specimen words count, and a short lab sentence is its value (fix137a).

D1, A2 (probe137). A VEGF sent as valueString "See comment" with "640 pg/mL (plasma)" in its note was read as
"VEGF 640 pg/mL (specimen unknown)", indeterminate (the note's "plasma" ignored: the cut-off is per specimen,
criteria.md §4), and the CarePlan asked for a VEGF on record; "Plasma VEGF 640 pg/mL (EDTA plasma)." was not read
at all. The note's specimen words now count as the value's own do; a note's specimen that contradicts the
Observation's own stated specimen leaves it unknown (indeterminate between the cut-offs, saying why); a short
sentence naming this test (with or without its specimen) and one value is read as the value.

Controls: a note naming another test, a relative's value, a plan, a question or several values stays unread.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation

VEGF = "75628-8"
SERUM_M_PROTEIN = "33358-3"


def _found(mapping: CompiledMapping, code: str, note: str, **extra: Any) -> list[tuple[str, State, str]]:
    resource = observation(code, valueString="See comment", note=[{"text": note}], **extra)
    ex = extract(make_record(resource), mapping)
    return [(f.topic, f.state, f.evidence.summary) for f in ex.findings]


@pytest.mark.parametrize(
    ("note", "specimen"),
    [
        ("640 pg/mL (plasma)", "plasma"),
        ("640 pg/mL, EDTA plasma", "plasma"),
        ("640 pg/mL (K2-EDTA plasma)", "plasma"),
        ("640 пг/мл (плазма)", "plasma"),
        ("640 пг/мл, ЭДТА-плазма", "plasma"),
        ("Plasma VEGF 640 pg/mL (EDTA plasma).", "plasma"),
        ("VEGF, plasma: 640 pg/mL", "plasma"),
        ("VEGF in plasma 640 pg/mL", "plasma"),
        ("VEGF плазмы 640 пг/мл.", "plasma"),
        ("VEGF в плазме: 640 пг/мл", "plasma"),
        ("плазма: 640 пг/мл", "plasma"),
        ("serum: 1250 pg/mL", "serum"),
        ("VEGF (serum) 1250 pg/mL.", "serum"),
        ("Serum VEGF 1250 pg/mL", "serum"),
        ("сыворотка 1250 пг/мл", "serum"),
        ("VEGF в сыворотке 1250 пг/мл", "serum"),
        ("қан сарысуы 1250 пг/мл", "serum"),
    ],
)
def test_note_names_its_specimen(mapping: CompiledMapping, note: str, specimen: str) -> None:
    found = _found(mapping, VEGF, note)
    assert [(t, s) for t, s, _ in found] == [("vegf_elevation", State.PRESENT)], found
    assert f"({specimen})" in found[0][2], found


def test_plasma_value_below_serum_cut_off_is_decided_by_the_note(mapping: CompiledMapping) -> None:
    found = _found(mapping, VEGF, "Plasma VEGF 250 pg/mL.")
    assert [s for _, s, _ in found] == [State.PRESENT], found


@pytest.mark.parametrize("note", ["640 pg/mL (plasma)", "Plasma VEGF 640 pg/mL."])
def test_note_contradicting_the_observations_specimen_is_indeterminate(mapping: CompiledMapping, note: str) -> None:
    found = _found(mapping, VEGF, note, specimen={"display": "Serum"})
    assert [s for _, s, _ in found] == [State.INDETERMINATE], found
    assert "named serum by its specimen reference and plasma by its note" in found[0][2], found


def test_note_agreeing_with_the_observations_specimen(mapping: CompiledMapping) -> None:
    """Control: the note agreeing with the Specimen changes nothing."""
    found = _found(mapping, VEGF, "640 pg/mL (plasma)", specimen={"display": "EDTA plasma"})
    assert [s for _, s, _ in found] == [State.PRESENT], found


@pytest.mark.parametrize(
    "note",
    [
        "IgG 14 g/L",
        "Platelets 450",
        "Repeat VEGF in 3 months",
        "VEGF was 640 last year?",
        "Mother's VEGF 640 pg/mL",
        "VEGF 640 pg/mL, IgG 14 g/L",
        "VEGF 640 pg/mL (plasma); repeat in 3 months",
        "Plasma VEGF 640 pg/mL; serum VEGF 1250 pg/mL",
        "VEGF 640 pg/mL?",
        "VEGF матери 640 пг/мл",
        "плазмоциты 640 пг/мл",
        "640 pg/mL (plasmacytoma)",
    ],
)
def test_note_that_is_not_this_result_stays_unread(mapping: CompiledMapping, note: str) -> None:
    """Controls: another test, a plan, a question, a relative, several values."""
    found = _found(mapping, VEGF, note)
    assert [s for _, s, _ in found] == [State.NOT_ASSESSED], found


def test_m_protein_sentence_with_specimen(mapping: CompiledMapping) -> None:
    found = _found(mapping, SERUM_M_PROTEIN, "М-градиент сыворотки 7,7 г/л.")
    assert [s for _, s, _ in found] == [State.PRESENT], found
    assert "7.7 g/L" in found[0][2], found
