"""Immunofixation texts misread by line breaks, labels, comments and notes (probe92 D1, D2, D8, D9, D10, D18,
D19, D20).

D8: a line break did not end a clause: "Serum: IgG lambda⏎Urine: negative", "IgG lambda⏎kappa: negative",
"Serum: IgG lambda⏎Urine: not done" were one clause, the denial the band's: a clone absent, `not_met`.
D9: the answer after a dotted leader was lost when another line followed ("IgG lambda band ....... no⏎Comment:
…"): the band a clone.
D20: a specimen cell before its answer ("Serum IFE | IgG lambda | Urine IFE | negative") made the urine's
"negative" the whole result's: a contradiction of the serum band.
D10: a comment in Observation.note (where FHIR labs put it) was not read for a contradiction of the result.
D1: a withdrawal word denied ("not an artefact", "artefact excluded", «не артефакт») withdrew the band.
D19: the Kazakh "not confirmed on repeat" («қайталап тексергенде расталмады») withdrew nothing.
D18: a band said to be gone ("IgG lambda band seen in 2019, now resolved") beside a negative was no earlier
band: the clone absent.
D2: an earlier test's negative in the comment ("previous sample (2023) was negative", "Prior IFE (2023): no
monoclonal band") contradicted today's band.
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import Band, parse_ife
from tests.conftest import observation
from tests.mapping.test_ife_contradictions import NEGATIVE, SERUM_IFE, clone_findings
from tests.mapping.test_ife_probe90 import _classify

IGG_LAMBDA = Band("IgG", "lambda")
IGA_KAPPA = Band("IgA", "kappa")


def _reads(text: str) -> tuple[list[Band], bool, list[Band], str]:
    result = parse_ife(text)
    return list(result.bands), result.negative, list(result.possible), result.conflict


# --- D8: a line is a clause of its own ---------------------------------------------------------------------

LINES_WITH_A_BAND = [
    # probe92 min/D8 and its cases
    "IgG lambda\nkappa: negative",
    "Serum: IgG lambda\nUrine: not done",
    "Serum: IgG lambda\nUrine: negative",
    "IgG lambda\nFree kappa: not detected",
    "IgG lambda band detected\nUrine IFE: negative",
    "IgG lambda\nUrine | negative",
    "Serum | IgG lambda\nUrine | negative",
    # the same in other spellings: CRLF, blank lines, a label on a line of its own, Russian, a tab
    "Serum: IgG lambda\r\n\r\nUrine: negative",
    "Serum:\nIgG lambda\nUrine:\nnegative",
    "Serum IFE\nIgG lambda\nUrine IFE\nNegative",
    "Сыворотка: IgG лямбда\nМоча: отрицательно",
    "IgG-λ\nкаппа не выявлена",
    "Serum IFE\tIgG lambda\tUrine IFE\tnegative",
]


@pytest.mark.parametrize("text", LINES_WITH_A_BAND)
def test_a_line_that_denies_another_chain_or_specimen_leaves_the_band(text):
    assert _reads(text) == ([IGG_LAMBDA], False, [], "")


def test_an_antisera_table_by_lines_is_the_band_of_its_positive_rows():
    text = "IgG | positive\nIgA | negative\nIgM | negative\nKappa | negative\nLambda | positive"
    assert _reads(text) == ([IGG_LAMBDA], False, [], "")


@pytest.mark.parametrize(
    "text",
    [
        # a line wrapped after a joining word or a label is no clause's end
        "No monoclonal band\ndetected",
        "IgG lambda band not\ndetected",
        "Monoclonal band:\nnot detected",
        "Serum IFE: negative\nUrine IFE: negative",
    ],
)
def test_a_wrapped_line_or_two_negative_lines_are_negative(text):
    assert _reads(text) == ([], True, [], "")


def test_a_line_that_denies_the_whole_result_still_contradicts_the_band():
    bands, negative, possible, conflict = _reads("IgG lambda band detected\nComment: no monoclonal band on repeat")
    assert (bands, negative, possible) == ([], False, [IGG_LAMBDA]) and conflict


@pytest.mark.parametrize("text", LINES_WITH_A_BAND[:4])
def test_a_poems_patient_with_a_two_line_immunofixation_is_met(mapping, text):
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason


# --- D9: a dotted leader's answer, then another line ----------------------------------------------------------

DENIED_BY_A_LEADER = [
    # probe92 min/D9 and its cases
    "IgG lambda band ....... no\nComment: sample haemolysed.",
    "IgG lambda band ....... нет\nКомментарий: подтверждено",
    "IgG lambda band ....... no\nComment: confirmed on repeat",
    "IgG lambda band ....... none\nComment: confirmed on repeat",
    # the same with a label line between
    "IgG lambda band ....... жоқ\n\nNote: see report",
]


@pytest.mark.parametrize("text", DENIED_BY_A_LEADER)
def test_a_denying_answer_after_a_dotted_leader_denies_the_band_whatever_line_follows(text):
    assert _reads(text) == ([], True, [], "")


def test_two_fields_on_a_line_of_dotted_leaders_keep_their_own_answers():
    text = "IgG lambda band ....... no ....... IgA kappa band ....... yes"
    assert _reads(text) == ([IGA_KAPPA], False, [], "")


def test_a_poems_patient_whose_band_is_denied_after_a_leader_and_a_comment_line_is_not_met(mapping):
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=DENIED_BY_A_LEADER[0]))
    assert (classification, state) == ("not_met", State.ABSENT)


# --- D20: a specimen cell labels the cell after it ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # probe92 min/D20
        "Serum IFE | IgG lambda | Urine IFE | negative",
        # the same in other words
        "Serum | IgG lambda | Urine | not detected",
        "Сыворотка | IgG лямбда | Моча | отрицательно",
        "24h urine | negative | Serum immunofixation | IgG lambda",
    ],
)
def test_a_specimen_cell_is_the_label_of_its_answer(text):
    assert _reads(text) == ([IGG_LAMBDA], False, [], "")


def test_a_comment_cell_labels_its_withdrawal():
    bands, negative, possible, conflict = _reads("IgG lambda band | Comment | not confirmed on repeat")
    assert (bands, negative, possible) == ([], False, [IGG_LAMBDA])
    assert conflict == "IgG lambda ('IgG lambda band') but 'Comment | not confirmed on repeat'"


def test_a_poems_patient_with_a_piped_serum_band_and_urine_negative_is_met(mapping):
    text = "Serum IFE | IgG lambda | Urine IFE | negative"
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)


# --- D2: an earlier test's negative is no contradiction of today's band -------------------------------------------

EARLIER_NEGATIVES = [
    # probe92 min/D2 and its cases
    "IgG lambda band detected. Comment: previous sample (2023) was negative.",
    "IgG lambda band detected. Prior IFE (2023): no monoclonal band.",
    "Выявлен М-градиент IgG-λ. Предыдущий анализ (2023): отрицательно.",
    "IgG lambda band ....... detected\nPrevious ....... negative",
    # the same in other words
    "IgG lambda band detected. Comment: earlier sample (March 2023) negative.",
    "IgG lambda band detected.\nPrevious result: negative",
]


@pytest.mark.parametrize("text", EARLIER_NEGATIVES)
def test_an_earlier_tests_negative_leaves_todays_band(text):
    assert _reads(text) == ([IGG_LAMBDA], False, [], "")


def test_a_poems_patient_whose_comment_names_an_earlier_negative_is_met(mapping):
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=EARLIER_NEGATIVES[0]))
    assert (classification, state) == ("met", State.PRESENT)


def test_a_bracket_does_not_join_a_band_after_it_to_a_denial():
    # "Negative (serum) IgG lambda (urine)": the words after the bracket name a band of their own, as before
    assert _reads("Negative (serum) IgG lambda (urine)") == ([IGG_LAMBDA], False, [], "")


# --- D1: a withdrawal word denied is no withdrawal -----------------------------------------------------------

CONFIRMED_BANDS = [
    # probe92 min/D1 and its cases
    "IgG lambda band detected. Comment: not an artefact.",
    "IgG lambda band detected. Comment: artefact excluded.",
    "IgG lambda band detected. Comment: artefact unlikely.",
    "IgG lambda band detected. Comment: no artefact.",
    "IgG lambda band detected. Comment: no evidence of artefact.",
    "IgG lambda band detected. Comment: artefact has been ruled out.",
    "IgG lambda band detected. Comment: not a false positive.",
    "IgG lambda band detected. Comment: false positive unlikely.",
    "IgG lambda band detected. Comment: false positive excluded by repeat testing.",
    "IgG lambda band detected. Comment: not spurious; confirmed with a second sample.",
    "IgG lambda band detected. Comment: confirmed on repeat, not artefact.",
    "IgG lambda band detected. Comment: no hook effect; not an artefact of transferrin.",
    "IgG lambda band detected. Comment: band previously thought to be artefact is now confirmed.",
    "IgG lambda band detected. Comment: not reproducible on the previous analyser; confirmed on the new one.",
    "IgG lambda band detected. Comment: false positive result of 2023 has been superseded.",
    "Выявлен М-градиент IgG-λ. Примечание: не артефакт.",
    "Выявлен М-градиент IgG-λ. Артефакт исключен.",
    "Выявлен М-градиент IgG-λ. Не является артефактом.",
    "Выявлен М-градиент IgG-λ. Ложноположительный результат исключен.",
    # the same in other words and in Kazakh
    "IgG lambda band detected. Comment: unlikely to be an artefact.",
    "IgG lambda band detected.\nComment: not considered to be spurious",
    "IgG лямбда анықталды. Түсініктеме: артефакт емес.",
]


@pytest.mark.parametrize("text", CONFIRMED_BANDS)
def test_a_withdrawal_word_denied_or_of_an_earlier_test_leaves_the_band(text):
    assert _reads(text) == ([IGG_LAMBDA], False, [], "")


WITHDRAWN_BANDS = [
    # a withdrawal, or a doubt about an artefact, still contradicts the band (probe90 D10)
    "IgG lambda band detected. Comment: probably artefact.",
    "IgG lambda band detected. Comment: artefact cannot be excluded.",
    "IgG lambda band. Примечание: артефакт не исключен.",
    "IgG lambda band detected. Comment: not confirmed on repeat; previous sample negative.",
    "IgG lambda band detected. Comment: no band on repeat: artefact.",
    # probe92 D19: Kazakh "not confirmed on repeat", "not confirmed", "false positive"
    "IgG лямбда анықталды. Түсініктеме: қайталап тексергенде расталмады.",
    "IgG лямбда анықталды. Түсініктеме: қайталау кезінде расталмады.",
    "IgG лямбда анықталды. Түсініктеме: расталмады.",
    "IgG лямбда анықталды. Түсініктеме: расталған жоқ.",
    "IgG лямбда анықталды. Түсініктеме: жалған оң нәтиже.",
]


@pytest.mark.parametrize("text", WITHDRAWN_BANDS)
def test_a_withdrawal_or_a_doubted_exclusion_still_contradicts_the_band(text):
    bands, negative, possible, conflict = _reads(text)
    assert (bands, negative, possible) == ([], False, [IGG_LAMBDA]) and conflict


@pytest.mark.parametrize("text", [CONFIRMED_BANDS[0], CONFIRMED_BANDS[16]])
def test_a_poems_patient_whose_band_is_confirmed_not_an_artefact_is_met(mapping, text):
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)


def test_a_poems_patient_whose_band_is_not_confirmed_in_kazakh_is_indeterminate(mapping):
    findings, _ = clone_findings(observation(SERUM_IFE, "ife", valueString=WITHDRAWN_BANDS[5]), mapping)
    assert [state for state, _ in findings] == [State.INDETERMINATE]
    assert "расталмады" in findings[0][1]
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=WITHDRAWN_BANDS[5]))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)


# --- D18: a band gone since was there before ------------------------------------------------------------------

GONE_BANDS = [
    # probe92 min/D18 and its case
    "No monoclonal band detected. Comment: IgG lambda band seen in 2019, now resolved.",
    "No monoclonal band. Comment: IgG lambda band seen in 2019, now resolved.",
    # the same in other words
    "Negative. IgG lambda paraprotein, now disappeared.",
    "IgG lambda, no longer detected",
]


@pytest.mark.parametrize("text", GONE_BANDS)
def test_a_band_said_to_be_gone_is_an_earlier_band(text):
    result = parse_ife(text)
    assert (result.negative, result.bands, list(result.earlier)) == (True, (), [IGG_LAMBDA])


def test_a_band_only_denied_now_stays_a_plain_negative():
    result = parse_ife("IgG kappa, now negative")
    assert (result.negative, result.bands, result.earlier) == (True, (), ())


def test_a_poems_patient_whose_band_has_resolved_is_indeterminate_not_unmet(mapping):
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=GONE_BANDS[0]))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "earlier test" in reason


# --- D10: a note is the result's comment ------------------------------------------------------------------------


def _noted(value: dict, *notes: str) -> dict:
    return observation(SERUM_IFE, "ife", **value, note=[{"text": n} for n in notes])


@pytest.mark.parametrize(
    ("value", "note", "conflict"),
    [
        # probe92 min/D10 and its case
        (
            {"valueString": "Negative"},
            "IgG lambda band noted.",
            "'Negative' but IgG lambda ('Note: IgG lambda band noted')",
        ),
        (
            {"valueString": "IgG lambda band detected."},
            "Not confirmed on repeat.",
            "IgG lambda ('IgG lambda band detected') but 'Note: Not confirmed on repeat'",
        ),
        # the same in other words, in Russian, and beside a coded Negative with no text
        (
            {"valueString": "Выявлен М-градиент IgG-λ"},
            "При повторном исследовании не подтвержден.",
            "IgG lambda ('Выявлен М-градиент IgG-λ') but 'Note: При повторном исследовании не подтвержден'",
        ),
        (
            {"valueCodeableConcept": {"coding": [NEGATIVE]}},
            "IgG lambda paraprotein present.",
            "'Negative' but IgG lambda ('Note: IgG lambda paraprotein present')",
        ),
    ],
)
def test_a_note_that_contradicts_the_result_makes_it_indeterminate(mapping, value, note, conflict):
    findings, ex = clone_findings(_noted(value, note), mapping)
    assert findings == [(State.INDETERMINATE, f"serum immunofixation contradicts itself: {conflict}")]
    assert ex.measurements == []


@pytest.mark.parametrize(
    ("value", "notes", "finding"),
    [
        ({"valueString": "IgG lambda band detected."}, ["Confirmed on repeat."], (State.PRESENT, "IgG lambda")),
        ({"valueString": "IgG lambda band detected."}, ["Not an artefact."], (State.PRESENT, "IgG lambda")),
        ({"valueString": "IgG lambda band detected."}, ["Urine IFE: negative."], (State.PRESENT, "IgG lambda")),
        (
            {"valueString": "IgG lambda band detected."},
            ["Previous sample (2023) negative."],
            (State.PRESENT, "IgG lambda"),
        ),
        ({"valueString": "Negative"}, ["Recommend monitoring of the IgG lambda band."], (State.ABSENT, "negative")),
        ({"valueString": "Negative"}, ["Sample received late.", "Reviewed by Dr A."], (State.ABSENT, "negative")),
    ],
)
def test_a_note_that_agrees_or_speaks_of_another_test_changes_nothing(mapping, value, notes, finding):
    findings, _ = clone_findings(_noted(value, *notes), mapping)
    assert [(state, finding[1] in summary) for state, summary in findings] == [(finding[0], True)]


def test_a_poems_patient_whose_band_is_withdrawn_in_a_note_is_indeterminate(mapping):
    ife = _noted({"valueString": "IgG lambda band detected."}, "Not confirmed on repeat.")
    classification, state, _ = _classify(mapping, ife)
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)


def test_a_clone_free_patient_whose_negative_has_a_band_in_a_note_is_indeterminate_not_unmet(mapping):
    classification, state, _ = _classify(mapping, _noted({"valueString": "Negative"}, "IgG lambda band noted."))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
