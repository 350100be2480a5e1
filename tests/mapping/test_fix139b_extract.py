"""An M-protein amount with its band named in a bracket after the unit (fix139b B2, probe135 b19).

"0.3 g/dL (IgA lambda by immunofixation)", «3 г/л (IgA лямбда)» as an M-protein's valueString (or in the note a
"See comment" value points to) was refused: "'g/dL(IgAlambdabyimmunofixation)' is not a valid UCUM unit", the clone
not assessed. The amount is now read, and the bracket's band with it where the immunofixation parser reads the same
words as this patient's band today and nothing else.

Controls: a bracket that changes what the amount is - "(previous result)", "(not detected)", "(IgA lambda not
detected)", "(previously IgG kappa)", a relative's, a doubt, a level - stays unread and listed; a reference range in
the bracket is no amount ("0.3 g/dL (reference < 0.1)" is 0.3); a zero or an amount below a limit beside a band is not
guessed at; a VEGF with an isotype in its bracket stays refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation

CLONE = "monoclonal_plasma_cell_disorder"
SERUM_M_PROTEIN = "33358-3"
VEGF = "75628-8"


def _read(mapping: CompiledMapping, text: str, *, in_note: bool = False, code: str = SERUM_M_PROTEIN) -> Any:
    value: dict[str, Any] = (
        {"valueString": "See comment", "note": [{"text": text}]} if in_note else {"valueString": text}
    )
    return extract(make_record(observation(code, **value)), mapping)


@pytest.mark.parametrize("in_note", [False, True])
@pytest.mark.parametrize(
    ("text", "grams_per_litre", "heavy", "light"),
    [
        ("0.3 g/dL (IgA lambda by immunofixation)", 3.0, "IgA", "lambda"),
        ("0.3 g/dL (IgA lambda)", 3.0, "IgA", "lambda"),
        ("0.3 g/dL [IgA lambda]", 3.0, "IgA", "lambda"),
        ("M-spike 0.3 g/dL (IgA lambda)", 3.0, "IgA", "lambda"),
        ("0.3 g/dL (IgA lambda) H", 3.0, "IgA", "lambda"),
        ("3 г/л (IgA лямбда)", 3.0, "IgA", "lambda"),
        ("0,3 г/дл (IgA лямбда по иммунофиксации)", 3.0, "IgA", "lambda"),
        ("3 г/л (IgG каппа)", 3.0, "IgG", "kappa"),
        ("3 г/л (IgA лямбда анықталды)", 3.0, "IgA", "lambda"),
        ("0.3 g/dL (IgG)", 3.0, "IgG", None),
    ],
)
def test_the_amount_and_its_band_are_read(
    mapping: CompiledMapping, text: str, grams_per_litre: float, heavy: str, light: str | None, in_note: bool
) -> None:
    ex = _read(mapping, text, in_note=in_note)
    assert ex.errors == []
    assert [(m.value, m.unit) for m in ex.measurements] == [(pytest.approx(grams_per_litre), "g/L")]
    found = [f for f in ex.findings if f.topic == CLONE]
    assert [(f.state, f.heavy_chain, f.light_chain) for f in found] == [(State.PRESENT, heavy, light)], found


def test_the_evidence_names_the_bracket(mapping: CompiledMapping) -> None:
    ex = _read(mapping, "0.3 g/dL (IgA lambda by immunofixation)")
    summary = next(f.evidence.summary for f in ex.findings if f.topic == CLONE)
    assert "IgA lambda" in summary and "0.3 g/dL" in summary and "by immunofixation" in summary


@pytest.mark.parametrize(
    "text",
    [
        "0.3 g/dL (previous result)",
        "0.3 g/dL (not detected)",
        "0.3 g/dL (IgA lambda not detected)",
        "0.3 g/dL (no IgA lambda)",
        "0.3 g/dL (previously IgG kappa)",
        "0.3 g/dL (IgA lambda band previously, now resolved)",
        "0.3 g/dL (mother: IgA lambda)",
        "0.3 g/dL (possible IgA lambda)",
        "0.3 g/dL (IgA lambda ?)",
        "0.3 g/dL (polyclonal IgG)",
        "0.3 g/dL (total IgG 14 g/L)",
        "0.3 g/dL (IgA lambda) (previous result)",
        "0.3 g/dL (IgA lambda) (IgG kappa)",
        "0 g/dL (IgA lambda)",
        "<0.1 g/dL (IgA lambda)",
        "0,3 г/л (предыдущий результат)",
    ],
)
@pytest.mark.parametrize("in_note", [False, True])
def test_a_bracket_that_changes_the_amount_stays_unread(mapping: CompiledMapping, text: str, in_note: bool) -> None:
    ex = _read(mapping, text, in_note=in_note)
    assert ex.measurements == []
    assert [f.state for f in ex.findings if f.topic == CLONE] == [State.NOT_ASSESSED]
    assert len(ex.errors) == 1


def test_a_reference_range_in_the_bracket_is_no_amount(mapping: CompiledMapping) -> None:
    ex = _read(mapping, "0.3 g/dL (reference < 0.1)")
    assert [(m.value, m.unit) for m in ex.measurements] == [(pytest.approx(3.0), "g/L")]


def test_an_isotype_beside_a_vegf_stays_refused(mapping: CompiledMapping) -> None:
    ex = _read(mapping, "640 pg/mL (IgA lambda)", code=VEGF)
    assert ex.measurements == [] and len(ex.errors) == 1
