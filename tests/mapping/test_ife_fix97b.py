"""Immunofixation wordings found by probe97 (D2, D3, D4, D6, D11), fixed in fix97b.

1. D2: a band's label answered by a denied withdrawal ("IgG lambda: not an artefact", «IgG лямбда: не
   артефакт») was the label's denial: absent, where the lab says the band is real.
2. D3: a band denied in the urine only, the urine qualified by a word not listed ("… not detected in the
   accompanying / corresponding urine sample"), denied the serum band: absent.
3. D4: a band named, then denied in both specimens in other words than _NEGATIVE's ("…; not seen in serum or
   urine", "… in either serum or urine", «…; не обнаружен ни в сыворотке, ни в моче», Kazakh) stayed a clone.
4. D6: a result set aside in Russian («Результат аннулирован / отменён», «Не учитывать результат») or as
   "Entered in error." left the band a clone.
5. D11: an earlier band said to be gone ("Previously noted IgG lambda band has resolved.") was an unrecognised
   result: it is today's negative beside an earlier band.

Each case is checked beside a near miss that must keep its reading.
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from tests.conftest import observation
from tests.mapping.test_ife_contradictions import SERUM_IFE
from tests.mapping.ife_reads import reads as _reads
from tests.mapping.test_ife_probe90 import _classify


# --- 1 (D2): a label answered by a denied withdrawal ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe97 min/D2; the label's denial stays a denial
        ("IgG lambda: not an artefact", "IgG lambda: negative"),
        ("IgG lambda band: not an artefact", "IgG lambda band: not detected"),
        ("IgG lambda - not an artefact", "IgG lambda - not detected"),
        ("IgG лямбда: не артефакт", "IgG лямбда: не выявлен"),
        # other words for the same
        ("IgG lambda: not artefactual", "IgG lambda: not detected on repeat"),
        ("IgA kappa: no artefact", "IgA kappa: no"),
        ("IgG lambda: not spurious", "IgG lambda: absent"),
        ("IgG lambda: not a false positive", "IgG lambda: none"),
        ("IgG лямбда: не является артефактом", "IgG лямбда: отсутствует"),
        ("IgG lambda: no evidence of artefact", "IgG lambda: no evidence of a band"),
        ("IgG lambda: not thought to be spurious", "No IgG lambda band, not an artefact"),
        ("IgG lambda: данных за артефакт нет", "IgG lambda not detected - not an artefact"),
        ("IgG lambda band: not an artefact, confirmed on a fresh sample", "IgG lambda: not detected, no artefact"),
        ("IgG kappa band in a patient not on daratumumab", "No IgG kappa band; not on daratumumab"),
    ],
)
def test_a_label_answered_by_a_denied_withdrawal_is_the_band(text, near_miss):
    assert _reads(text).startswith("present: ")
    assert _reads(near_miss) == "absent"


@pytest.mark.parametrize(
    "text",
    ["IgG lambda: artefact", "IgG lambda: probably artefact", "IgG lambda: artefact cannot be excluded"],
)
def test_a_label_answered_by_a_withdrawal_stays_a_contradiction(text):
    assert _reads(text) == "conflict"


def test_a_poems_patient_whose_band_is_said_not_an_artefact_is_met(mapping):
    text = "IgG lambda: not an artefact"
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason


# --- 2 (D3): a urine-only denial, the urine qualified by any words -------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe97 min/D3; a denial that names the tested specimen too stays a denial
        (
            "IgG lambda paraprotein not detected in the accompanying urine sample",
            "IgG lambda paraprotein not detected in the accompanying serum and urine",
        ),
        (
            "IgG lambda paraprotein not detected in the corresponding urine",
            "IgG lambda paraprotein not detected in the accompanying urine or serum",
        ),
        # other qualifiers
        (
            "IgG lambda paraprotein not detected in the matched urine sample",
            "IgG lambda not detected in the matched urine",
        ),
        (
            "IgG lambda paraprotein not detected in the simultaneous urine",
            "No IgG lambda paraprotein detected in the simultaneous urine",
        ),
        (
            "IgG lambda paraprotein not detected in the submitted urine specimen",
            "IgG lambda paraprotein not detected in the submitted serum specimen",
        ),
        (
            "IgG lambda paraprotein not detected in a simultaneously collected urine sample",
            "IgG lambda paraprotein not detected in the serum or the accompanying urine",
        ),
        (
            "IgG lambda band is absent in the patient's urine",
            "IgG lambda paraprotein not detected in this sample",
        ),
        (
            "Immunofixation shows a monoclonal IgG lambda paraprotein which is not detected in the accompanying urine.",
            "IgG lambda paraprotein not detected in the accompanying serum",
        ),
        # ... wrapped before where it was looked for
        (
            "IgG lambda paraprotein not detected\nin a simultaneously collected urine sample",
            "IgG lambda paraprotein not detected\nin the serum",
        ),
        # Russian: a qualifier before the urine; «в сыворотке и моче» names the serum too (it was read as the urine's)
        (
            "Парапротеин IgG лямбда не выявлен в сопутствующей пробе мочи",
            "Парапротеин IgG лямбда не выявлен в сыворотке и моче",
        ),
        (
            "Парапротеин IgG лямбда в прилагаемой пробе мочи не выявлен",
            "IgG лямбда парапротеин не выявлен в сыворотке и моче",
        ),
    ],
)
def test_a_band_denied_in_a_qualified_urine_only_stands_on_a_serum_result(text, near_miss):
    assert _reads(text) == "present: IgG lambda"
    assert _reads(near_miss) == "absent"


def test_on_a_urine_result_the_qualified_urine_is_the_specimen_tested():
    assert _reads("IgG lambda paraprotein not detected in the accompanying urine sample", "urine") == "absent"
    assert _reads("IgG lambda paraprotein not detected in the corresponding serum", "urine") == "present: IgG lambda"


def test_a_poems_patient_whose_band_is_denied_in_the_accompanying_urine_is_met(mapping):
    text = "IgG lambda paraprotein not detected in the accompanying urine sample"
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason


# --- 3 (D4): a band named, then denied in both specimens in any words ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # probe97 min/D4
        "IgG lambda paraprotein; not seen in serum or urine.",
        "IgG lambda paraprotein; not identified in serum or urine",
        "IgG lambda paraprotein; not detected in either serum or urine",
        "IgG lambda paraprotein; absent in both serum and urine samples",
        "IgG lambda paraprotein, not present in serum or urine",
        "Парапротеин IgG лямбда; не обнаружен ни в сыворотке, ни в моче",
        "IgG лямбда парапротеині; сарысуда және несепте анықталмады",
        # other words for the same
        "IgG lambda paraprotein; not found in serum and urine",
        "IgG lambda paraprotein. Not seen in serum or urine.",
        "IgG lambda paraprotein; detected in neither serum nor urine",
        "IgG lambda paraprotein; not demonstrated in serum or urine specimens",
        "Парапротеин IgG лямбда; в сыворотке и моче отсутствует",
        "Парапротеин IgG лямбда; не определяется в сыворотке и в моче",
    ],
)
def test_a_band_then_denied_in_both_specimens_in_any_words_is_a_contradiction(text):
    assert _reads(text) == "conflict"
    assert _reads(text, "urine") == "conflict"


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        # another noun's denial, a denial of the other specimen alone, the band's own denial in one clause
        ("IgG lambda paraprotein; free light chains not seen in serum or urine", "present: IgG lambda"),
        ("IgG lambda paraprotein; not seen in urine", "present: IgG lambda"),
        ("IgG lambda paraprotein not seen in serum or urine", "absent"),
        ("IgM kappa paraprotein; not detected.", "absent"),
        ("Negative in serum and urine", "absent"),
        # a comma before "nor" / «ни» goes on with the denied list
        ("No IgG kappa band, nor IgA lambda", "absent"),
    ],
)
def test_near_sentences_keep_their_reading(text, reading):
    assert _reads(text) == reading


def test_a_poems_patient_whose_band_is_then_not_seen_in_serum_or_urine_is_indeterminate(mapping):
    text = "IgG lambda paraprotein; not seen in serum or urine."
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert state == State.INDETERMINATE
    assert classification == "indeterminate"
    assert "not seen in serum or urine" in reason


# --- 4 (D6): a result set aside in other words ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe97 min/D6; an earlier result set aside, or a treatment cancelled, leaves today's band
        (
            "Выявлена полоса IgG лямбда. Результат аннулирован.",
            "Выявлена полоса IgG лямбда. Предыдущий результат аннулирован.",
        ),
        (
            "Выявлена полоса IgG лямбда. Результат отменён.",
            "Выявлена полоса IgG лямбда. Лечение даратумумабом отменено.",
        ),
        (
            "Выявлена полоса IgG лямбда. Не учитывать результат.",
            "Выявлена полоса IgG лямбда. Результат не аннулирован.",
        ),
        (
            "Выявлена полоса IgG лямбда. Просьба не учитывать данный результат.",
            "Выявлена полоса IgG лямбда, не учитывая данные анамнеза",
        ),
        ("IgG lambda band detected. Entered in error.", "IgG lambda band detected. Previous result entered in error."),
        # other words for the same
        ("IgG lambda band detected. Result annulled.", "IgG lambda band detected. Not entered in error."),
        ("IgG lambda band detected. Result retracted.", "IgG lambda band detected. Daratumumab was cancelled."),
        ("IgG lambda band detected. Do not use this result.", "IgG lambda band detected. Use this result."),
        ("IgG lambda band detected - result entered in error", "IgG lambda band detected. Result reviewed."),
        (
            "Выявлена полоса IgG лямбда. Результат недействителен.",
            "Выявлена полоса IgG лямбда. Результат действителен.",
        ),
        (
            "Выявлена полоса IgG лямбда. Результат внесён ошибочно.",
            "Выявлена полоса IgG лямбда. Результат подтверждён.",
        ),
        ("IgG лямбда жолағы анықталды. Нәтиже жарамсыз.", "IgG лямбда жолағы анықталды."),
        ("IgG лямбда жолағы анықталды. Нәтижені ескермеңіз.", "IgG лямбда жолағы анықталды. Нәтиже расталды."),
    ],
)
def test_a_result_set_aside_withdraws_the_band(text, near_miss):
    assert _reads(text) == "conflict"
    assert _reads(near_miss) == "present: IgG lambda"


def test_a_result_set_aside_before_the_band_or_beside_a_negative():
    assert _reads("Entered in error. IgG lambda band detected.") == "conflict"
    assert _reads("Результат аннулирован. Выявлена полоса IgG лямбда.") == "conflict"
    assert _reads("Negative. Результат аннулирован.") == "absent"


def test_a_poems_patient_whose_result_was_annulled_is_indeterminate(mapping):
    text = "Выявлена полоса IgG лямбда. Результат аннулирован."
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "аннулирован" in reason


# --- 5 (D11): an earlier band said to be gone ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # probe97 min/D11; an earlier band said to stay, or gone only in part, is today's band
        ("Previously noted IgG lambda band has resolved.", "Previously noted IgG lambda band has not resolved."),
        (
            "The previously noted IgG lambda band has resolved.",
            "Previously noted IgG lambda band has partially resolved.",
        ),
        ("Previously seen IgG lambda band has disappeared.", "Previously noted IgG lambda band persists."),
        (
            "Previously detected IgG lambda paraprotein has now resolved.",
            "Previously noted IgG lambda band still present.",
        ),
        ("Previously noted IgG lambda band - resolved", "Previously noted IgG lambda band has not fully resolved."),
        ("Prior IgG lambda band has cleared.", "Previous IgG lambda band not resolved."),
        ("Ранее выявленная полоса IgG лямбда исчезла.", "Ранее выявленная полоса IgG лямбда не исчезла."),
        ("Ранее выявлявшийся парапротеин IgG лямбда исчез", "Ранее выявленная полоса IgG лямбда частично разрешилась."),
        ("Бұрын анықталған IgG лямбда жолағы жойылды.", "Бұрын анықталған IgG лямбда жолағы жойылмады."),
    ],
)
def test_an_earlier_band_said_to_be_gone_is_todays_negative(text, near_miss):
    assert _reads(text) == "earlier: IgG lambda"
    assert _reads(near_miss) == "present: IgG lambda"


def test_a_poems_patient_whose_earlier_band_has_resolved_is_indeterminate(mapping):
    text = "Previously noted IgG lambda band has resolved."
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "earlier test" in reason
