"""A value text that ends in a sentence's full stop (fix140b B1).

"0.3 g/dL." as an M-protein's valueString, "1.2 g/L.", «0,3 г/л.», "<0.1 g/dL.", "1500 pg/mL." as a VEGF's were
refused: "'g/dL.' is not a valid UCUM unit" - the clone (or the VEGF) not assessed. The full stop that ends a sentence
is punctuation, not part of the unit: the value is read as it is without it.

Controls: an ellipsis ("0.3 g/dL...") and a second sentence after the stop ("0.3 g/dL. IgA lambda.") stay refused; an
abbreviation's stop leaves its text as unread as before ("0.3 g/dL approx.", "approx. 0.3 g/dL."); a number's own
decimal point is untouched ("1.2 g/L."); a qualitative "IgA lambda detected." reads its band as before; a unit the unit
table spells with its stop («мм рт.ст.») keeps it (test_fix140b_extract.py, test_fix140b_values.py).
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import Extraction, extract
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation

CLONE = "monoclonal_plasma_cell_disorder"
SERUM_M_PROTEIN = "33358-3"
M_PROTEIN_BAND_1 = "51435-6"
VEGF = "75628-8"
PLATELETS = "777-3"
MARROW_PLASMA_CELLS = "11118-7"
FREE_LAMBDA = "33944-0"


def _read(mapping: CompiledMapping, text: str, code: str = SERUM_M_PROTEIN) -> Extraction:
    return extract(make_record(observation(code, valueString=text)), mapping)


@pytest.mark.parametrize(
    ("text", "grams_per_litre", "comparator"),
    [
        ("0.3 g/dL.", 3.0, None),
        ("1.2 g/L.", 1.2, None),
        ("0.3 g/dL .", 3.0, None),
        ("<0.1 g/dL.", 1.0, "<"),
        ("< 0,1 г/л.", 0.1, "<"),
        ("менее 0,1 г/л.", 0.1, "<"),
        ("0,3 г/л.", 0.3, None),
        ("7,7 г/л, 12,1%.", 7.7, None),  # its share of total protein after a comma (fix139b B3), then the stop
        ("0.3 g/dL H.", 3.0, None),
        ("0,3 г/л (жоғары).", 0.3, None),  # Kazakh: high
        ("M-protein: 0.3 g/dL.", 3.0, None),
    ],
)
def test_an_m_protein_ending_in_a_full_stop_is_read(
    mapping: CompiledMapping, text: str, grams_per_litre: float, comparator: str | None
) -> None:
    found = _read(mapping, text)
    assert found.errors == []
    assert [(m.value, m.unit, m.comparator) for m in found.measurements] == [
        (pytest.approx(grams_per_litre), "g/L", comparator)
    ]


def test_an_m_protein_band_1_ending_in_a_full_stop_is_read(mapping: CompiledMapping) -> None:
    found = _read(mapping, "1.2 g/L.", M_PROTEIN_BAND_1)
    assert found.errors == []
    assert [(m.value, m.unit) for m in found.measurements] == [(pytest.approx(1.2), "g/L")]
    assert [f.state for f in found.findings if f.topic == CLONE] == [State.PRESENT]


@pytest.mark.parametrize(
    ("text", "heavy", "light"),
    [("0.3 g/dL (IgA lambda).", "IgA", "lambda"), ("0,3 г/л (IgA лямбда).", "IgA", "lambda")],
)
def test_an_amount_and_its_band_in_a_bracket_then_a_full_stop(
    mapping: CompiledMapping, text: str, heavy: str, light: str
) -> None:
    found = _read(mapping, text)
    assert found.errors == []
    assert [(m.value, m.unit) for m in found.measurements] == [(pytest.approx(3.0 if "g/dL" in text else 0.3), "g/L")]
    assert [(f.state, f.heavy_chain, f.light_chain) for f in found.findings if f.topic == CLONE] == [
        (State.PRESENT, heavy, light)
    ]


@pytest.mark.parametrize(
    ("code", "text", "analyte", "value", "unit"),
    [
        (VEGF, "1500 pg/mL.", "vegf", 1500.0, "pg/mL"),
        (VEGF, "1 500 пг/мл.", "vegf", 1500.0, "pg/mL"),
        (VEGF, "1500 pg/mL (serum).", "vegf", 1500.0, "pg/mL"),
        (PLATELETS, "650 x10^9/L.", "platelets", 650.0, "10*9/L"),
        (MARROW_PLASMA_CELLS, "7 %.", "bm_plasma_cells", 7.0, "%"),
        (FREE_LAMBDA, "120 мг/л.", "flc_lambda", 120.0, "mg/L"),
    ],
)
def test_other_results_ending_in_a_full_stop_are_read(
    mapping: CompiledMapping, code: str, text: str, analyte: str, value: float, unit: str
) -> None:
    found = _read(mapping, text, code)
    assert found.errors == []
    assert [(m.analyte, m.value, m.unit) for m in found.measurements] == [(analyte, pytest.approx(value), unit)]


def test_the_evidence_quotes_the_text_as_sent(mapping: CompiledMapping) -> None:
    found = _read(mapping, "0.3 g/dL.")
    assert [f.evidence.summary for f in found.findings if f.topic == CLONE] == [
        "serum M-protein 0.3 g/dL (= 3 g/L) [read from text '0.3 g/dL.']"
    ]


# --- controls: these read as before the change


@pytest.mark.parametrize(
    "text",
    [
        "0.3 g/dL...",  # an ellipsis: the text may go on
        "0.3 g/dL. IgA lambda.",  # a second sentence after the stop
        "0.3 g/dL approx.",
        "approx. 0.3 g/dL.",
        "0.3 g/dL (previous result).",
    ],
)
def test_a_text_that_says_more_than_its_value_stays_refused(mapping: CompiledMapping, text: str) -> None:
    found = _read(mapping, text)
    assert found.measurements == [] and len(found.errors) == 1
    assert [f.state for f in found.findings if f.topic == CLONE] == [State.NOT_ASSESSED]


@pytest.mark.parametrize(
    ("text", "heavy", "light"),
    [("IgA lambda detected.", "IgA", "lambda"), ("IgA лямбда анықталды.", "IgA", "lambda")],
)
def test_a_band_in_a_sentence_reads_as_before(mapping: CompiledMapping, text: str, heavy: str, light: str) -> None:
    found = _read(mapping, text)
    assert found.errors == []
    assert [(f.state, f.heavy_chain, f.light_chain) for f in found.findings if f.topic == CLONE] == [
        (State.PRESENT, heavy, light)
    ]


@pytest.mark.parametrize(("text", "state"), [("Not detected.", State.ABSENT), ("0.3.", State.PRESENT)])
def test_a_word_or_a_bare_number_before_its_stop_reads_as_before(
    mapping: CompiledMapping, text: str, state: State
) -> None:
    found = _read(mapping, text)
    assert found.errors == []
    assert [f.state for f in found.findings if f.topic == CLONE] == [state]
