"""An immunoglobulin level is no band (fix139b B1).

A serum immunofixation sent as "See comment" whose note said "Total IgG 14 g/L" - a quantitative immunoglobulin level,
not a monoclonal band - was read as "serum immunofixation: IgG (light chain not stated)", the clone present; so was
"IgG 14.2 g/L" as an M-protein's valueString and in an immunofixation report's conclusion. criteria.md (MAJ-2) asks
for a *monoclonal* plasma-cell disorder, typed by the immunofixation's isotype: a heavy chain named alone with a value
says how much of that class the serum holds, polyclonal or not. It is now a measurement, as a free light chain with a
value already was: left unread (and listed) where it is all the text says.

Controls: a heavy chain with its light chain and a value is the band's size ("IgA lambda 3.1 g/L"); a heavy chain its
clause calls a clone stays a band ("IgG M-protein 12 g/L", "Monoclonal IgG 12 g/L", «М-градиент IgG 12 г/л»); a band
beside levels stays the band alone; a clone stated beside levels stays present.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation

CLONE = "monoclonal_plasma_cell_disorder"
SERUM_IFE = "25700-6"
SERUM_M_PROTEIN = "33358-3"

LEVELS = [
    "Total IgG 14 g/L",
    "IgG 14.2 g/L",
    "Total IgA 3.1 g/L",
    "IgM 0.4 g/L (0.4-2.3)",
    "IgG 1400 mg/dL",
    "IgG: 14",
    "IgG = 14 g/L",
    "IgG (total) 14 g/L",
    "IgG, total: 14 g/L",
    "IgA 3.1 g/L H",
    "IgG 14 g/L, IgA 3.1 g/L, IgM 0.4 g/L",
    "IgG общий 14 г/л",
    "IgG общ. 14 г/л",
    "Уровень IgG 14 г/л",
    "IgG 14,2 г/л",
    "Жалпы IgG 14 г/л",
    "IgG жалпы 14 г/л",
    "IgG деңгейі 14 г/л",
]


def _clone(mapping: CompiledMapping, resource: dict[str, Any]) -> list[tuple[State, str]]:
    ex = extract(make_record(resource), mapping)
    return [(f.state, f.evidence.summary) for f in ex.findings if f.topic == CLONE]


def _ife_report(conclusion: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "ife-report",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": SERUM_IFE}], "text": "Serum immunofixation"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "conclusion": conclusion,
    }


@pytest.mark.parametrize("text", LEVELS)
def test_a_level_names_no_band(text: str) -> None:
    result = parse_ife(text)
    assert not result.bands and not result.possible and not result.parsed, result


@pytest.mark.parametrize("text", ["Total IgG 14 g/L", "IgG 14.2 g/L", "IgM 0.4 g/L (0.4-2.3)", "IgG общий 14 г/л"])
@pytest.mark.parametrize("code", [SERUM_IFE, SERUM_M_PROTEIN])
def test_a_see_comment_note_with_a_level_stays_unread(mapping: CompiledMapping, code: str, text: str) -> None:
    resource = observation(code, valueString="See comment", note=[{"text": text}])
    found = _clone(mapping, resource)
    assert [s for s, _ in found] == [State.NOT_ASSESSED], found
    assert "not read" in found[0][1] and "See comment" in found[0][1]


@pytest.mark.parametrize("text", ["Total IgG 14 g/L", "IgA 3.1 g/L", "Жалпы IgG 14 г/л"])
@pytest.mark.parametrize("code", [SERUM_IFE, SERUM_M_PROTEIN])
def test_a_level_as_the_value_stays_unread(mapping: CompiledMapping, code: str, text: str) -> None:
    found = _clone(mapping, observation(code, valueString=text))
    assert [s for s, _ in found] == [State.NOT_ASSESSED], found


@pytest.mark.parametrize("text", ["Total IgG 14 g/L", "IgG 14 g/L, IgA 3.1 g/L, IgM 0.4 g/L"])
def test_a_level_in_an_immunofixation_reports_conclusion_is_no_clone(mapping: CompiledMapping, text: str) -> None:
    assert State.PRESENT not in [s for s, _ in _clone(mapping, _ife_report(text))]


@pytest.mark.parametrize(
    "text",
    [
        "IgG kappa M-protein 12 g/L; total IgG 21 g/L",
        "IgG kappa M-protein 12 g/L. Total IgG 21 g/L.",
        "IgG-каппа 12 г/л; IgG общий 21 г/л",
    ],
)
def test_a_band_beside_a_level_stays_the_band_alone(text: str) -> None:
    assert list(parse_ife(text).bands) == [Band("IgG", "kappa")]


@pytest.mark.parametrize("code", [SERUM_IFE, SERUM_M_PROTEIN])
def test_a_band_beside_a_level_in_a_note(mapping: CompiledMapping, code: str) -> None:
    note = [{"text": "IgG kappa M-protein 12 g/L; total IgG 21 g/L"}]
    found = _clone(mapping, observation(code, valueString="See comment", note=note))
    assert [s for s, _ in found] == [State.PRESENT], found
    assert "IgG kappa" in found[0][1]


@pytest.mark.parametrize("code", [SERUM_IFE, SERUM_M_PROTEIN])
def test_a_clone_stated_beside_a_level_stays_present(mapping: CompiledMapping, code: str) -> None:
    note = [{"text": "Monoclonal protein detected. IgG 14 g/L"}]
    found = _clone(mapping, observation(code, valueString="See comment", note=note))
    assert [s for s, _ in found] == [State.PRESENT], found
    assert "IgG (light chain not stated)" not in found[0][1]


@pytest.mark.parametrize(
    "text",
    [
        "Monoclonal protein detected. Total IgG 14,2 g/L; IgA 3.1 g/L; IgM 0.4 g/L (0.4-2.3).",
        "Выявлен моноклональный белок. IgG общий 14 г/л",
        "Моноклоналды ақуыз анықталды. Жалпы IgG 14 г/л",
    ],
)
def test_a_clone_stated_beside_levels_is_a_clone_of_no_stated_isotype(text: str) -> None:
    result = parse_ife(text)
    assert result.untyped and not result.bands and not result.negative, result


@pytest.mark.parametrize(
    "note",
    [
        "Mother: monoclonal protein detected. IgG 14 g/L",
        "Monoclonal protein detected in 2019. IgG 14 g/L",
        "Monoclonal protein detected in the urine. IgG 14 g/L",
        "Monoclonal protein detected. IgG 14 g/L (mother)",
    ],
)
def test_a_clone_said_of_another_time_person_or_place_beside_levels_is_no_clone(
    mapping: CompiledMapping, note: str
) -> None:
    """The levels are no band; what the clone's clause says beyond the clone is not guessed at: unread."""
    found = _clone(mapping, observation(SERUM_IFE, valueString="See comment", note=[{"text": note}]))
    assert State.PRESENT not in [s for s, _ in found], found


def test_a_negative_beside_a_level_is_negative() -> None:
    """The level no longer contradicts the negative (it was an IgG band against it: indeterminate)."""
    result = parse_ife("IgG 14 g/L; no monoclonal protein detected.")
    assert result.negative and not result.conflict


# --- controls: a heavy chain with a value that is a band's size


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("IgA lambda 3.1 g/L", Band("IgA", "lambda")),
        ("IgG kappa 12 g/L", Band("IgG", "kappa")),
        ("IgG-λ 3 г/л", Band("IgG", "lambda")),
        ("IgG M-protein 12 g/L", Band("IgG", None)),
        ("Monoclonal IgG 12 g/L", Band("IgG", None)),
        ("IgG paraprotein 5 g/L", Band("IgG", None)),
        ("М-градиент IgG 12 г/л", Band("IgG", None)),
        ("Моноклональный белок IgG 12 г/л", Band("IgG", None)),
        ("IgG band", Band("IgG", None)),
        ("IgA lambda band detected. Total IgA 3.1 g/L.", Band("IgA", "lambda")),
    ],
)
def test_a_band_with_its_size_stays_a_band(text: str, band: Band) -> None:
    assert list(parse_ife(text).bands) == [band]


def test_a_polyclonal_rise_with_a_level_stays_negative() -> None:
    assert parse_ife("Polyclonal increase, IgG 25 g/L").negative


def test_a_long_run_of_levels_is_read_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a clause calls a clone is asked once per clause, not once per heavy chain in it (12 KB of "IgG 1 " took
    22 s when it was). Counted, not timed."""
    from poems_fhir.mapping import ife

    read = [0]
    pattern = ife._LEVEL_OF_A_CLONE

    class Counting:
        def search(self, text: str, *args: Any) -> Any:
            read[0] += len(text)
            return pattern.search(text, *args)

    monkeypatch.setattr(ife, "_LEVEL_OF_A_CLONE", Counting())
    text = "IgG 1 " * 3_000
    parse_ife(text)
    ife.named_clone(text)
    assert 0 < read[0] <= 10 * len(text)


def test_a_long_clause_beside_a_clone_is_not_tried_as_a_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """The level-alone pattern backtracks on a long run of digits (4,000 took 6 s): only short clauses are tried."""
    from poems_fhir.mapping import ife

    given: list[int] = []
    pattern = ife._LEVEL_ALONE

    class Counting:
        def fullmatch(self, text: str, *args: Any) -> Any:
            given.append(len(text))
            return pattern.fullmatch(text, *args)

    monkeypatch.setattr(ife, "_LEVEL_ALONE", Counting())
    result = parse_ife("Monoclonal protein detected. " + "1" * 4_000 + "x")
    assert not result.bands and all(n <= 120 for n in given)
