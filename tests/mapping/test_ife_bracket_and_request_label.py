"""probe119 D8 and D11 (#8): a bracket that only names the band again is no clause of its own ("IgA lambda (monoclonal
band) not detected" denies the band), and a requester's doubt in a label before the colon does not doubt the band the
laboratory states found after it ("Immunofixation requested for suspected POEMS: IgA lambda band detected")."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import Band, parse_ife
from tests.mapping.test_extract import obs, run, states

IGA_L = Band("IgA", "lambda")


def _kind(text: str) -> str:
    r = parse_ife(text)
    if r.conflict:
        return "conflict"
    if r.bands:
        return "band"
    if r.possible:
        return "possible"
    return "negative" if r.negative else "none"


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda (monoclonal band) not detected.",
        "IgA lambda (paraprotein) not detected.",
        "IgA lambda (M-protein) absent.",
        "IgA лямбда (моноклональная полоса) не выявлен.",
        "IgA лямбда (моноклоналды жолақ) табылмады.",
        "Моноклоналды жолақ (IgA лямбда) табылмады.",
        "IgA лямбда, табылмады.",
        "IgA лямбда (моноклоналды жолақ) анықталмады.",
    ],
)
def test_a_band_named_again_in_a_bracket_is_denied_by_what_follows(text):
    assert _kind(text) == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda (monoclonal band) detected.",
        "IgA lambda (paraprotein).",
        "IgA lambda (M-protein) 12 g/L.",
        "IgA lambda (monoclonal band). Kappa not detected.",
        "IgA lambda (12.1%) detected.",
        "IgA лямбда (моноклоналды жолақ) анықталды.",
        "IgA лямбда анықталды, каппа табылмады.",
        "IgG kappa (polyclonal background) and IgA lambda (monoclonal band) detected.",
    ],
)
def test_a_band_named_again_in_a_bracket_stays_the_band(text):
    assert parse_ife(text).bands[-1] == IGA_L


@pytest.mark.parametrize(
    "text",
    [
        "Immunofixation requested for suspected POEMS: IgA lambda band detected.",
        "Suspected paraproteinaemia: IgA lambda band detected.",
        "Query monoclonal gammopathy: IgA lambda band detected.",
        "?POEMS: IgA lambda band detected.",
        "Направлен с подозрением на POEMS-синдром: выявлен IgA лямбда.",
    ],
)
def test_a_requesters_doubt_before_the_colon_leaves_the_band_found(text):
    assert parse_ife(text).bands == (IGA_L,)


@pytest.mark.parametrize(
    "text",
    [
        "Possible band: IgA lambda.",  # the doubt is the answer's label, nothing stated found
        "Query POEMS: possible faint IgA lambda band.",  # a doubt of the answer's own
        "Suspected POEMS: IgA lambda band cannot be excluded.",
        "Possible: IgA lambda band detected?",
        "IgA lambda: suspected, repeat advised.",
        "Result: IgA lambda band probably detected.",
    ],
)
def test_a_doubt_of_the_answer_itself_stays_a_doubt(text):
    assert _kind(text) == "possible"


def test_the_observation_reads_the_request_label_and_the_bracket(mapping):
    found = obs("25700-6", valueString="Immunofixation requested for suspected POEMS: IgA lambda band detected.")
    assert states(run(mapping, found), "monoclonal_plasma_cell_disorder") == [State.PRESENT]
    denied = obs("25700-6", valueString="IgA лямбда (моноклоналды жолақ) табылмады.")
    assert states(run(mapping, denied), "monoclonal_plasma_cell_disorder") == [State.ABSENT]


@pytest.mark.parametrize(
    "text",
    [
        "IgA lambda band. Awaiting confirmation.",
        "IgA lambda band. TBC.",
        "IgA lambda band. Confirmation pending.",
        "IgA lambda, to be excluded.",
        "IgA lambda - to be excluded.",  # was negative: "excluded" read as a denial
        "IgA lambda (to be excluded).",
        "IgA lambda, r/o.",
        "IgA лямбда. На уточнении.",
        "IgA лямбда, исключить.",
    ],
)
def test_a_status_still_open_after_the_band_makes_it_possible(text):
    assert _kind(text) == "possible"


@pytest.mark.parametrize(
    "text",
    [
        # another disease to exclude, in a clause of its own: the band stands
        "IgA lambda band detected; POEMS to be excluded.",
        "IgA lambda band detected. Amyloidosis to be excluded.",
        "IgA lambda band detected. Repeat in 3 months to confirm stability.",
    ],
)
def test_another_question_after_the_band_leaves_it(text):
    assert parse_ife(text).bands == (IGA_L,)


@pytest.mark.parametrize(
    "text",
    [
        "Discussed with his son: IgA lambda band detected.",
        "Result phoned to the patient and his daughter: IgA lambda band detected.",
        "Mother informed: IgA lambda band detected.",
        "Результат сообщен сыну пациента: выявлен IgA лямбда.",
        "Результат обсужден с пациентом и сыном: выявлен IgA лямбда.",
    ],
)
def test_a_relative_told_the_result_before_the_band_leaves_it_the_patients(text):
    assert parse_ife(text).bands == (IGA_L,)


@pytest.mark.parametrize(
    "text",
    [
        "Son: IgA lambda.",
        "Mother of the patient: IgA lambda band detected.",
        "Informed that his mother had IgA lambda myeloma.",
        "Patient told us his mother had IgA lambda.",
        "Сообщил, что у матери IgA лямбда.",
        "Family history discussed with the patient: mother had IgA lambda myeloma.",
        "Result discussed; father: IgA lambda.",
    ],
)
def test_a_relatives_band_stays_the_relatives_beside_words_of_telling(text):
    assert _kind(text) == "none"
