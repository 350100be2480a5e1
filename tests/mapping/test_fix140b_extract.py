"""The note a "See comment" value points to keeps a full stop that is part of its unit (fix140b B1).

A note is a sentence: its final full stop was cut whatever it ended (probe135 G1: "VEGF 486 pg/mL." read), so the
abbreviation «мм рт.ст.» the unit table spells with its stop lost it - "45 мм рт.ст." in the note of a pulmonary
artery pressure was refused as the unit 'мм рт.ст', the measurement lost. The stop is now cut only where it is no
part of a unit the table knows (values.without_full_stop, as for a valueString).

Controls: a note's sentence stop after any other unit is still cut; the same text as the value reads the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.mapping.extract import Extraction, extract
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation

PASP = {"coding": [{"system": "https://poems-fhir.org/CodeSystem/local", "code": "pasp-echo"}]}
VEGF = "75628-8"


def _read(mapping: CompiledMapping, code: Any, text: str, *, in_note: bool) -> Extraction:
    value: dict[str, Any] = (
        {"valueString": "See comment", "note": [{"text": text}]} if in_note else {"valueString": text}
    )
    return extract(make_record(observation(code, **value)), mapping)


@pytest.mark.parametrize("in_note", [True, False])
@pytest.mark.parametrize("text", ["45 мм рт.ст.", "45 мм рт. ст."])
def test_a_units_own_full_stop_is_kept(mapping: CompiledMapping, text: str, in_note: bool) -> None:
    found = _read(mapping, PASP, text, in_note=in_note)
    assert found.errors == []
    assert [(m.analyte, m.value, m.unit) for m in found.measurements] == [("pasp", 45.0, "mm[Hg]")]


@pytest.mark.parametrize("in_note", [True, False])
@pytest.mark.parametrize("text", ["Serum VEGF 1500 pg/mL.", "1500 pg/mL.", "1 500 пг/мл."])
def test_a_sentences_full_stop_after_another_unit_is_cut(mapping: CompiledMapping, text: str, in_note: bool) -> None:
    found = _read(mapping, VEGF, text, in_note=in_note)
    assert found.errors == []
    assert [(m.analyte, m.value, m.unit) for m in found.measurements] == [("vegf", 1500.0, "pg/mL")]
