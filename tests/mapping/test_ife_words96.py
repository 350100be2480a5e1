"""Immunofixation word rules found by probe95 (D8, D9, D11, D12, D19-D21), fixed in fix96b.

1. A verb of disappearing or resolving denied ("IgG lambda band has not resolved", «не исчезла») denied the
   band: absent, where the band stands.
2. A band said to be gone in its own clause ("IgG lambda band has disappeared", "… - resolved", «исчезла»,
   «жойылды», «…, выявлявшаяся ранее, в настоящее время отсутствует») was today's band: it is an earlier band
   beside today's negative.
3. A withdrawal written before the result ("Comment: not confirmed on repeat.⏎Result: IgG lambda band
   detected.") left the band a clone.
4. The Kazakh «Теріс» (negative) was not read: beside a band it contradicted nothing.
5. An artefact denied in words the rule did not know («данных за артефакт нет», «артефакт маловероятен",
   "Artefact? No.") withdrew the band.
6. An earlier test named only by its year ("Comment: in 2021 not confirmed on repeat.") withdrew today's band.
7. "Previous" / "Prior" as a cell's label ("IgG lambda band detected | Previous | negative") was today's
   denial.

Each case is checked beside a near miss that must keep its reading.
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import parse_ife
from tests.conftest import observation
from tests.mapping.test_ife_contradictions import SERUM_IFE
from tests.mapping.test_ife_probe90 import _classify
from tests.mapping.ife_reads import reads as _reads


# --- 1: a verb of disappearing denied ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe95 min/D8; the near miss: the same band denied
        ("IgG lambda band has not resolved.", "IgG lambda band has not been detected."),
        ("IgG lambda band not resolved.", "IgG lambda band not detected."),
        ("IgG lambda band has not disappeared.", "IgG lambda band is not seen."),
        ("IgG lambda band persists and has not resolved.", "IgG lambda band not present."),
        ("IgG lambda band - not resolved", "IgG lambda band - not detected"),
        ("IgG lambda band has not fully resolved after treatment.", "No IgG lambda band after treatment."),
        ("IgG lambda band has not cleared.", "IgG lambda band not found."),
        ("Полоса IgG лямбда не исчезла.", "Полоса IgG лямбда не выявлена."),
        ("Полоса IgG лямбда не исчезла после лечения.", "Полоса IgG лямбда не обнаружена после лечения."),
    ],
)
def test_a_band_that_has_not_resolved_stands(text, near_miss):
    assert _reads(text) == "present: IgG lambda"
    assert _reads(near_miss) == "absent"


def test_a_poems_patient_whose_band_has_not_resolved_is_met(mapping):
    text = "IgG lambda band has not resolved."
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason


# --- 2: a band said to be gone --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe95 min/D9; the near miss: a band said to stay, or only partly gone
        ("IgG lambda band has disappeared.", "IgG lambda band has not disappeared."),
        ("IgG lambda band has resolved.", "IgG lambda band has partially resolved."),
        ("IgG lambda band - resolved", "IgG lambda band - not resolved"),
        ("IgG lambda band: resolved", "IgG lambda band: persists"),
        (
            "IgG lambda band, resolved since the last sample.",
            "IgG lambda band, partially resolved since the last sample.",
        ),
        ("IgG lambda band, now resolved after chemotherapy.", "IgG lambda band, still present after chemotherapy."),
        ("IgG lambda band detected in 2020; today: resolved.", "IgG lambda band detected in 2020; today: present."),
        ("Полоса IgG лямбда исчезла.", "Полоса IgG лямбда не исчезла."),
        ("IgG лямбда жолағы жойылды.", "IgG лямбда жолағы жойылмады."),
        (
            "Полоса IgG лямбда, выявлявшаяся ранее, в настоящее время отсутствует.",
            "Полоса IgG лямбда, выявлявшаяся ранее, сохраняется.",
        ),
        ("Полоса IgG лямбда, ранее выявлявшаяся, сейчас не определяется.", "Полоса IgG лямбда, ранее выявлявшаяся."),
        (
            "М-градиент IgG-λ, выявленный в 2020 г., в настоящее время не выявляется.",
            "М-градиент IgG-λ, выявленный в 2020 г., сохраняется.",
        ),
        ("IgG lambda band, seen in 2019, now not detected.", "IgG lambda band, seen in 2019, still present."),
    ],
)
def test_a_band_said_to_be_gone_is_an_earlier_band(text, near_miss):
    assert _reads(text) == "earlier: IgG lambda"
    assert _reads(near_miss) == "present: IgG lambda"


def test_a_band_gone_beside_a_new_one_leaves_the_new_one():
    result = parse_ife("IgG lambda band has resolved, IgA kappa band persists.")
    assert [b.label() for b in result.bands] == ["IgA kappa"]
    assert [b.label() for b in result.earlier] == ["IgG lambda"]
    # ... and a band with no word of an earlier test, then denied, stays the band's denial
    assert _reads("IgG kappa, now negative") == "absent"


def test_a_poems_patient_whose_band_has_disappeared_is_indeterminate(mapping):
    text = "IgG lambda band has disappeared."
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "earlier test" in reason


# --- 3: a withdrawal written before the result -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe95 min/D11; the near miss: the withdrawal denied, or an earlier test's
        (
            "Comment: not confirmed on repeat.\nResult: IgG lambda band detected.",
            "Comment: not an artefact.\nResult: IgG lambda band detected.",
        ),
        ("Note: probable artefact. IgG lambda band detected.", "Note: artefact excluded. IgG lambda band detected."),
        (
            "Комментарий: не подтверждено при повторе.\nРезультат: IgG лямбда",
            "Комментарий: не артефакт.\nРезультат: IgG лямбда",
        ),
        (
            "Комментарий | не подтверждено при повторе\nРезультат | IgG лямбда",
            "Комментарий | артефакт исключен\nРезультат | IgG лямбда",
        ),
        (
            "Probably spurious. IgG lambda band detected.",
            "Previous sample: not confirmed on repeat. IgG lambda band detected.",
        ),
    ],
)
def test_a_withdrawal_before_the_band_is_a_contradiction(text, near_miss):
    assert _reads(text) == "conflict"
    assert _reads(near_miss) == "present: IgG lambda"


def test_a_poems_patient_whose_withdrawal_comes_first_is_indeterminate(mapping):
    text = "Comment: not confirmed on repeat.\nResult: IgG lambda band detected."
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "not confirmed on repeat" in reason
    # ... and a withdrawal with no band after it states nothing new
    assert _reads("Not confirmed on repeat. Negative.") == "absent"


# --- 4: the Kazakh «Теріс» (negative) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        # probe95 min/D12: against a band in the comment, as "Negative. Comment: IgG lambda band noted." is
        ("Теріс.\nЕскерту: IgG лямбда жолағы бар.", "conflict"),
        ("Теріс. Ескерту: IgG лямбда анықталды.", "conflict"),
        ("Теріс\nNote: IgG лямбда жолағы анықталды.", "conflict"),
        # alone it is negative (it was unread)
        ("Теріс", "absent"),
        ("Теріс.", "absent"),
    ],
)
def test_kazakh_negative_is_read(text, reading):
    assert _reads(text) == reading


def test_a_poems_patient_whose_kazakh_negative_has_a_band_in_the_note_is_indeterminate(mapping):
    ife = observation(SERUM_IFE, "ife", valueString="Теріс", note=[{"text": "IgG лямбда жолағы анықталды."}])
    classification, state, reason = _classify(mapping, ife)
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "Теріс" in reason
    assert _reads("IgG лямбда: теріс") == "absent"  # a label's answer stays the band's denial


# --- 5: an artefact denied in other words ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "near_miss"),
    [
        # probe95 min/D19; the near miss: the artefact stated, or a denial that is the band's
        ("Комментарий: данных за артефакт нет.", "Комментарий: артефакт."),
        ("Комментарий: признаков артефакта нет.", "Комментарий: признаки артефакта."),
        ("Комментарий: за артефакт данных нет.", "Комментарий: артефакт - при повторе полосы нет."),
        ("Комментарий: артефакт не подтвержден.", "Комментарий: не подтвержден."),
        ("Комментарий: артефакт маловероятен.", "Комментарий: артефакт вероятен."),
        ("Артефакт маловероятен.", "Артефакт не исключен."),
        ("Маловероятно, что это артефакт.", "Вероятно артефакт."),
        ("Comment: Artefact? No.", "Comment: Artefact? No band on repeat."),
        ("Comment: artefact - no.", "Comment: artefact? yes."),
        ("Comment: artefact not confirmed.", "Comment: probable artefact - not confirmed on repeat."),
        ("It is unlikely that this is an artefact.", "It is likely that this is an artefact."),
    ],
)
def test_an_artefact_denied_keeps_the_band(comment, near_miss):
    band = "IgG lambda band detected." if comment.isascii() else "Выявлена полоса IgG лямбда."
    assert _reads(f"{band} {comment}") == "present: IgG lambda"
    assert _reads(f"{band} {near_miss}") == "conflict"


def test_a_poems_patient_whose_note_answers_artefact_no_is_met(mapping):
    ife = observation(
        SERUM_IFE,
        "ife",
        valueString="IgG lambda band detected.",
        note=[{"text": "Artefact? No - confirmed on a fresh sample."}],
    )
    classification, state, reason = _classify(mapping, ife)
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason


# --- 6: an earlier test named by its year -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe95 min/D20; the near miss: the same words with no year are today's withdrawal
        (
            "IgG lambda band detected. Comment: in 2021 not confirmed on repeat.",
            "IgG lambda band detected. Comment: not confirmed on repeat.",
        ),
        (
            "IgG lambda band detected. Comment: 2021 sample - not confirmed.",
            "IgG lambda band detected. Comment: sample - not confirmed.",
        ),
        (
            "IgG lambda band detected. In March 2021 not confirmed on repeat.",
            "IgG lambda band detected. Not confirmed on repeat.",
        ),
        (
            "Выявлена полоса IgG лямбда. Комментарий: в 2021 г. не подтверждалась.",
            "Выявлена полоса IgG лямбда. Комментарий: не подтверждалась.",
        ),
        (
            "Выявлена полоса IgG лямбда. Комментарий: в 2019 г. - отрицательно.",
            "Выявлена полоса IgG лямбда. Комментарий: отрицательно.",
        ),
        (
            "Выявлена полоса IgG лямбда. В 2019 году не подтверждена.",
            "Выявлена полоса IgG лямбда. Не подтверждена.",
        ),
    ],
)
def test_an_earlier_test_named_by_its_year_does_not_withdraw_todays_band(text, near_miss):
    assert _reads(text) == "present: IgG lambda"
    assert _reads(near_miss) == "conflict"


def test_a_year_abbreviated_ends_no_sentence_but_a_band_found_then_denied_stays_denied():
    assert _reads("Выявлена полоса IgG лямбда. Комментарий: в 2021 г. не подтверждалась.") == "present: IgG lambda"
    # a clause that says more than its year still ends at «г.»: today's denial of a band seen then
    assert _reads("М-градиент IgG-λ выявлен в 2020 г. Сейчас не выявляется.") != "present: IgG lambda"


# --- 7: "Previous" / "Prior" as a cell's label --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe95 min/D21; the near miss: today's cell is the contradiction
        ("IgG lambda band detected | Previous | negative", "IgG lambda band detected | Current | negative"),
        ("IgG lambda band detected | Prior | negative", "IgG lambda band detected | Today | negative"),
        ("IgG lambda band detected\nPrevious\tnegative", "IgG lambda band detected\nComment\tnegative"),
        ("IgG lambda band detected | Previous result | negative", "IgG lambda band detected | Result | negative"),
        ("Выявлена полоса IgG лямбда | Предыдущий анализ | отрицательно", "Выявлена полоса IgG лямбда | отрицательно"),
    ],
)
def test_a_cell_labelled_previous_is_an_earlier_tests_answer(text, near_miss):
    assert _reads(text) == "present: IgG lambda"
    assert _reads(near_miss) == "conflict"


def test_a_poems_patient_whose_previous_cell_is_negative_is_met(mapping):
    text = "IgG lambda band detected | Previous | negative"
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason


@pytest.mark.parametrize(
    ("comment", "near_miss"),
    [
        # probe95 I052 (the README's "listed nouns" limitation): a verb of suspecting between the denial and the word
        ("Comment: no reason to suspect artefact.", "Comment: reason to suspect artefact."),
        ("Comment: no grounds to suspect an artefact.", "Comment: suspect artefact."),
    ],
)
def test_an_artefact_not_suspected_keeps_the_band(comment, near_miss):
    assert _reads(f"IgG lambda band detected. {comment}") == "present: IgG lambda"
    assert _reads(f"IgG lambda band detected. {near_miss}") == "conflict"
