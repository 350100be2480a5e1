"""Immunofixation: a light chain named alone is no free light chain unless its words say so (fix140b B2); a number
after a heavy chain named alone is its level or its date, no band (fix140b B3).

B2. "IgG 14 g/L; lambda band" read "serum immunofixation: free lambda light chain". The IgG is a level (fix139b B1: a
heavy chain alone with a value), so it is no band, and nothing joins it to the lambda band after the semicolon - the
band's heavy chain is not stated. The product reads a light chain band named alone as a clone of that light chain
whose isotype is unknown (Band(None, "lambda"): criteria.md MAJ-2 counts it, lambda is the typical chain, the IgG-lambda
risk factor is "isotype unknown"); only its label said "free", which no word of the text does. Such a band is now
"lambda (heavy chain not stated)", as a heavy chain alone is "IgG (light chain not stated)" - "lambda band" alone as
well; "free lambda light chain" is kept for the words that say it: "free", "light chains", "Bence Jones", «свободные
лёгкие цепи», a table's "Free" row (whose negatives are no longer whole-result denials against a band beside them).

B3. "IgG 2019: 12 g/L" and "IgA (2019) normal" read an IgG (an IgA) band, light chain not stated - the clone present.
fix139b B1 made a heavy chain alone with a value a level, but not with a year, and not with a number in a bracket
(the bracket was a clause of its own). A number after a heavy chain named alone - a value, a year, a date after "in"
or «в» - is now its level or its date, no band, unless its clause calls it a clone ("Monoclonal IgG 2019").

Controls: a heavy chain alone beside a light chain band is still one band ("IgG; lambda band" is IgG lambda); a heavy
chain with its light chain and a year stays a band ("IgA lambda (2019)"); a clone word keeps a heavy chain with a year
a band; a level beside a negative leaves the negative.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation
from tests.mapping.test_fix139b_ife import _ife_report

CLONE = "monoclonal_plasma_cell_disorder"
SERUM_IFE = "25700-6"
URINE_IFE = "13440-3"
SERUM_M_PROTEIN = "33358-3"


def _clone(mapping: CompiledMapping, resource: dict[str, Any]) -> list[tuple[State, str, str | None, str | None]]:
    ex = extract(make_record(resource), mapping)
    return [(f.state, f.evidence.summary, f.heavy_chain, f.light_chain) for f in ex.findings if f.topic == CLONE]


def _labels(text: str) -> list[str]:
    return [b.label() for b in parse_ife(text).bands]


# --- B2: a light chain band whose heavy chain is not stated

NOT_STATED = [
    "IgG 14 g/L; lambda band",
    "IgG 14 g/L, lambda band",
    "IgG 14 g/L. Lambda band.",
    "Total IgG 14 g/L; monoclonal lambda band",
    "IgG 2019: 12 g/L; lambda band",
    "IgG 14 г/л; полоса лямбда",
    "Жалпы IgG 14 г/л; лямбда жолағы",
    "lambda band",
    "Monoclonal lambda band detected",
    "Kappa | Lambda\nnegative | positive",  # only light chains tested
]


@pytest.mark.parametrize("text", NOT_STATED)
def test_a_light_chain_band_named_alone_has_no_heavy_chain_stated(text: str) -> None:
    result = parse_ife(text)
    assert list(result.bands) == [Band(None, "lambda")]
    assert _labels(text) == ["lambda (heavy chain not stated)"]


@pytest.mark.parametrize("code", [SERUM_IFE, SERUM_M_PROTEIN])
@pytest.mark.parametrize("in_note", [False, True])
def test_an_immunoglobulin_level_then_a_lambda_band_is_a_lambda_clone_of_no_stated_isotype(
    mapping: CompiledMapping, code: str, in_note: bool
) -> None:
    text = "IgG 14 g/L; lambda band"
    value: dict[str, Any] = (
        {"valueString": "See comment", "note": [{"text": text}]} if in_note else {"valueString": text}
    )
    found = _clone(mapping, observation(code, **value))
    assert [(s, h, lc) for s, _, h, lc in found] == [(State.PRESENT, None, "lambda")], found
    assert "lambda (heavy chain not stated)" in found[0][1] and "free" not in found[0][1]


def test_in_an_immunofixation_reports_conclusion(mapping: CompiledMapping) -> None:
    found = _clone(mapping, _ife_report("IgG 14 g/L; lambda band."))
    present = [(s, h, lc) for s, _, h, lc in found if s is State.PRESENT]
    assert present == [(State.PRESENT, None, "lambda")], found
    assert not any("free lambda" in summary for _, summary, _, _ in found), found


@pytest.mark.parametrize(
    "text",
    [
        "free lambda light chains",
        "Free lambda band",
        "Lambda light chain band",
        "lambda free light chains detected",
        "Bence Jones protein, lambda type",
        "Bence Jones lambda",
        "lambda Bence Jones protein",
        "свободные легкие цепи лямбда",
        "Свободные лёгкие цепи лямбда",
        "лямбда свободные легкие цепи",
        "IgG 14 g/L; free lambda band",
        "Heavy chain | Kappa | Lambda\nIgG | Neg | Neg\nIgA | Neg | Neg\nFree | Neg | Pos",
        "Free kappa | Free lambda\nnegative | positive",
    ],
)
def test_a_light_chain_its_words_call_free_stays_free(text: str) -> None:
    assert _labels(text) == ["free lambda light chain"]


def test_a_free_light_chain_in_the_urine(mapping: CompiledMapping) -> None:
    found = _clone(mapping, observation(URINE_IFE, valueString="Free lambda light chains detected"))
    assert [(s, summary) for s, summary, _, _ in found] == [
        (State.PRESENT, "urine immunofixation: free lambda light chain")
    ]


def test_a_grids_free_row_of_negatives_denies_no_band_beside_it() -> None:
    """The "Free" row is the free light chains': its negatives say no free light chain, not no clone (it was read as
    "kappa: negative" and "lambda: negative", both chains denied against the IgG lambda band: a contradiction)."""
    result = parse_ife("Heavy chain | Kappa | Lambda\nIgG | Neg | Pos\nIgA | Neg | Neg\nFree | Neg | Neg")
    assert (list(result.bands), result.conflict, result.possible) == ([Band("IgG", "lambda")], "", ())


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("IgG; lambda band", ["IgG lambda"]),  # a heavy chain alone beside a light chain alone: one band
        ("IgG band; lambda band", ["IgG lambda"]),
        ("IgG lambda", ["IgG lambda"]),
        ("IgG 14 g/L; IgA lambda band", ["IgA lambda"]),
        (
            "IgG kappa; IgA; free lambda light chains",
            ["IgG kappa", "IgA (light chain not stated)", "free lambda light chain"],
        ),
        ("Heavy chain | Kappa | Lambda\nIgG | Neg | Pos\nIgA | Neg | Neg", ["IgG lambda"]),
        ("IgG | IgA | IgM | Kappa | Lambda\n+ | - | - | - | +", ["IgG lambda"]),
    ],
)
def test_bands_with_a_heavy_chain_read_as_before(text: str, labels: list[str]) -> None:
    assert _labels(text) == labels


def test_a_free_row_denied_beside_its_denied_grid_stays_negative() -> None:
    text = "Heavy chain | Kappa | Lambda\nIgG | Neg | Neg\nIgA | Neg | Neg\nFree | Neg | Neg"
    result = parse_ife(text)
    assert (result.negative, result.bands, result.conflict) == (True, (), "")


# --- B3: a number after a heavy chain named alone

DATED_OR_MEASURED = [
    "IgG 2019: 12 g/L",
    "IgG 2019",
    "IgA (2019) normal",
    "IgA (2019)",
    "IgG (14 g/L)",
    "IgG (2019): 12 g/L",
    "IgG in 2019: 12 g/L",
    "IgA (in 2019) normal",
    "IgG 2019 г.: 12 г/л",
    "IgA (2019 г.) в норме",
    "IgA в 2019 г. в норме",
    "IgG 2019 ж.: 12 г/л",
    "IgA (2019 ж.) қалыпты",
]


@pytest.mark.parametrize("text", DATED_OR_MEASURED)
def test_a_number_after_a_heavy_chain_names_no_band(text: str) -> None:
    result = parse_ife(text)
    assert not result.bands and not result.possible and not result.parsed, result


@pytest.mark.parametrize("text", ["IgG 2019: 12 g/L", "IgA (2019) normal"])
@pytest.mark.parametrize("code", [SERUM_IFE, SERUM_M_PROTEIN])
def test_a_dated_level_as_the_value_stays_unread(mapping: CompiledMapping, code: str, text: str) -> None:
    found = _clone(mapping, observation(code, valueString=text))
    assert [s for s, _, _, _ in found] == [State.NOT_ASSESSED], found


@pytest.mark.parametrize("text", ["IgG 2019: 12 g/L", "IgA (2019) normal"])
def test_a_dated_level_in_an_immunofixation_reports_conclusion_is_no_clone(mapping: CompiledMapping, text: str) -> None:
    assert State.PRESENT not in [s for s, _, _, _ in _clone(mapping, _ife_report(text))]


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("IgG lambda band; IgA (2019) normal", ["IgG lambda"]),
        ("IgA lambda detected. IgG (2019) 12 g/L", ["IgA lambda"]),
        ("IgG kappa M-protein 12 g/L; IgA (2019) 3.1 g/L", ["IgG kappa"]),
    ],
)
def test_a_band_beside_a_dated_level_is_the_band_alone(text: str, labels: list[str]) -> None:
    assert _labels(text) == labels


def test_a_negative_beside_a_dated_level_stays_negative() -> None:
    result = parse_ife("Negative. IgG 2019: 12 g/L")
    assert (result.negative, result.bands, result.conflict) == (True, (), "")


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("Monoclonal IgG 2019", Band("IgG", None)),  # its clause calls it a clone
        ("IgG paraprotein 2019", Band("IgG", None)),
        ("IgG band 2019", Band("IgG", None)),
        ("Моноклональный IgG 2019 г.", Band("IgG", None)),
        ("IgA lambda (2019)", Band("IgA", "lambda")),  # a heavy chain with its light chain
        ("IgA lambda 2019", Band("IgA", "lambda")),
        ("IgA лямбда (2019 г.)", Band("IgA", "lambda")),
        ("IgA lambda 3.1 g/L", Band("IgA", "lambda")),
        ("IgG", Band("IgG", None)),  # a heavy chain alone with no number
    ],
)
def test_a_clone_word_or_a_light_chain_keeps_the_band(text: str, band: Band) -> None:
    assert list(parse_ife(text).bands) == [band]
