"""Value texts: an M-protein's share of total protein after a comma (fix139b B3), and the bracket that names an
M-protein's band (fix139b B2, results.band_bracket).

B3. "7,7 г/л, 12,1%" - the band in g/L, then its share of total protein after a comma, as Russian and Kazakh
electrophoresis reports write it (seed_case.md's "7,7 г/л (12,1%)" with a comma for the bracket) - was refused:
"'г/л,12,1%' is not a valid UCUM unit". So was "0.77 g/dL, 12.1%". The mass is read, the percentage never is.

Controls: two amounts after a comma ("0,3 г/л, 0,5 г/л") are not one; a lone percentage, two percentages, a share of
something else, or a mass with no mass unit stay refused.
"""

from __future__ import annotations

import pytest

from poems_fhir.mapping.extract import Extraction, extract
from poems_fhir.mapping.rules import CompiledMapping
from tests.conftest import make_record, observation

M_PROTEIN = "33358-3"


def _read(mapping: CompiledMapping, text: str) -> Extraction:
    return extract(make_record(observation(M_PROTEIN, valueString=text)), mapping)


@pytest.mark.parametrize(
    "text",
    [
        "7,7 г/л, 12,1%",
        "7,7 г/л, 12,1 %",
        "7,7г/л,12,1%",
        "7,7 г/л; 12,1%",
        "7,7 г/л, 12,1 % от общего белка",
        "0.77 g/dL, 12.1%",
        "7.7 g/L, 12.1% of total protein",
        "12,1%, 7,7 г/л",
        "М-градиент 7,7 г/л, 12,1%",
        "M-spike 0.77 g/dL, 12.1%",
    ],
)
def test_the_mass_before_its_share_after_a_comma_is_read(mapping: CompiledMapping, text: str) -> None:
    found = _read(mapping, text)
    assert found.errors == []
    assert [(m.value, m.unit) for m in found.measurements] == [(pytest.approx(7.7), "g/L")]


def test_the_share_after_a_comma_in_a_see_comment_note(mapping: CompiledMapping) -> None:
    resource = observation(M_PROTEIN, valueString="See comment", note=[{"text": "7,7 г/л, 12,1%"}])
    found = extract(make_record(resource), mapping)
    assert [(m.value, m.unit) for m in found.measurements] == [(pytest.approx(7.7), "g/L")]


@pytest.mark.parametrize(
    "text",
    [
        "0,3 г/л, 0,5 г/л",  # two amounts: not one
        "0.3 g/dL, 0.5 g/dL",
        "7,7 г/л, 12,1%, 0,5 г/л",
        "7,7 г/л, 12,1%, 5%",
        "12.1%, 5%",
        "7.7 g/L, 12.1% of IgG",  # a share of something else
        "7,7 ммоль/л, 12,1%",  # no mass concentration
    ],
)
def test_a_list_that_is_no_mass_and_its_share_stays_refused(mapping: CompiledMapping, text: str) -> None:
    found = _read(mapping, text)
    assert found.measurements == [] and len(found.errors) == 1


# --- band_bracket: the bracket after an amount's unit that names its band (new in fix139b: imported in the tests, so
# that the tests above run on the code before it)


def _band_bracket(text: str) -> tuple[str, str] | None:
    from poems_fhir.mapping.ife import names_an_isotype
    from poems_fhir.mapping.results import band_bracket

    return band_bracket(text, names_an_isotype)


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("0.3 g/dL (IgA lambda by immunofixation)", ("0.3 g/dL", "IgA lambda by immunofixation")),
        ("3 г/л (IgA лямбда)", ("3 г/л", "IgA лямбда")),
        ("0.3 g/dL [free lambda]", ("0.3 g/dL", "free lambda")),
        ("0.3 g/dL (IgA lambda) H", ("0.3 g/dL H", "IgA lambda")),
        ("0.3 g/dL (serum) (IgA lambda)", ("0.3 g/dL (serum)", "IgA lambda")),
    ],
)
def test_band_bracket_splits_the_amount_from_its_band(text: str, split: tuple[str, str]) -> None:
    assert _band_bracket(text) == split


@pytest.mark.parametrize(
    "text",
    [
        "0.3 g/dL",
        "0.3 g/dL (previous result)",
        "0.3 g/dL (12.1% of IgG)",  # a number of its own: a share, no band
        "0.3 g/dL (total IgG 14 g/L)",
        "0.3 g/dL (IgA lambda) (IgG kappa)",  # several: not guessed
        "0.3 (IgA lambda)",  # no unit before the bracket
        "IgA lambda 0.3 g/dL",
        "1,250 g/L (IgA lambda)",  # an ambiguous number
    ],
)
def test_band_bracket_leaves_other_texts(text: str) -> None:
    assert _band_bracket(text) is None
