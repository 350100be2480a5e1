"""Negative immunofixation wordings that were "unrecognised immunofixation result" (probe123 D7), fixed in fix123f.

1. Abbreviated negatives - «Парапротеин: не обн.», «Отр.», «Отриц.», "Neg", "Paraprotein: not det." - and the
   clone's noun denied by other verbs: «Моноклональный компонент не визуализируется», «Данных за парапротеинемию
   не получено» (no evidence of it), "Monoclonal component not visualised", Kazakh «Моноклоналды жолақ байқалмады».
2. The clone ruled out: «Моноклональная гаммапатия исключена», "Monoclonal gammopathy excluded" - a doubt ("not
   excluded", «не исключена», "cannot be excluded") stays a doubt.
3. The antisera tested, listed after the negative - «Отр. (G, A, M, к, л)», "Neg. (anti-G, A, M, kappa, lambda)",
   "Negative: G, A, M, kappa, lambda" - were bands of their own (free kappa and lambda: a clone-free patient with
   a clone) or a list against the negative (a conflict).
4. The same words in an immunofixation report's text (the text engine beside the parser), and the lab's short forms
   as a whole qualitative result.

Each case is checked beside a positive or doubtful near miss that must keep its reading.
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.results import normalise_term
from tests.conftest import make_record, observation
from tests.mapping.ife_reads import reads
from tests.mapping.test_ife_comments import _ife_report
from tests.mapping.test_ife_contradictions import SERUM_IFE
from tests.mapping.test_ife_probe90 import CLONE, _classify

# --- 1, 2: abbreviated negatives, other verbs of denial, the clone ruled out ----------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss", "near_reading"),
    [
        # probe123 min/D7 (Russian, Kazakh) and their English equivalents; the near miss a band or a doubt
        ("Парапротеин: не обн.", "Парапротеин: обн. IgG-к", "present: IgG kappa"),
        ("Моноклональная гаммапатия исключена.", "Моноклональная гаммапатия не исключена.", "possible"),
        ("Данных за парапротеинемию не получено.", "Данных за парапротеинемию IgG-к получено.", "present: IgG kappa"),
        (
            "Моноклональный компонент не визуализируется.",
            "Моноклональный компонент IgG-к визуализируется.",
            "present: IgG kappa",
        ),
        ("Моноклоналды жолақ байқалмады", "Моноклоналды жолақ (IgA лямбда) байқалды", "present: IgA lambda"),
        ("Paraprotein: not det.", "Paraprotein: det. IgG kappa", "present: IgG kappa"),
        ("Monoclonal gammopathy excluded", "Monoclonal gammopathy not excluded", "possible"),
        ("Monoclonal gammopathy excluded.", "Monoclonal gammopathy cannot be excluded.", "possible"),
        ("Monoclonal gammopathy has been ruled out.", "Monoclonal gammopathy could not be ruled out.", "possible"),
        ("Monoclonal component not visualised.", "Monoclonal IgA lambda component visualised.", "present: IgA lambda"),
        # the same family in other words
        ("М-градиент не обн.", "М-градиент IgG-к обн.", "present: IgG kappa"),
        ("Парапротеинемия исключена.", "Парапротеинемия: исключена? IgG-к", "possible"),
        ("Исключена моноклональная гаммапатия.", "Нельзя исключить моноклональную гаммапатию.", "possible"),
        ("Данных за моноклональную гаммапатию не получено.", "Моноклональная гаммапатия IgG-к.", "present: IgG kappa"),
        ("Парапротеин не визуализируется.", "Парапротеин IgA-л визуализируется.", "present: IgA lambda"),
        ("Моноклональный белок не отмечается.", "Моноклональный белок IgG-л не исключается.", "possible"),
        ("Отр.", "Пол. IgG-к", "present: IgG kappa"),
        ("Отриц.", "IgG-к выявлен.", "present: IgG kappa"),
        ("Neg.", "IgG kappa band detected. Others neg.", "present: IgG kappa"),
        ("Not det.", "IgG kappa band: det.", "present: IgG kappa"),
        ("No evidence for a paraprotein.", "Evidence of an IgG kappa paraprotein.", "present: IgG kappa"),
        ("Monoclonal gammopathy excluded (see comment).", "Monoclonal gammopathy excluded?", "possible"),
        # Kazakh «көрінбейді» (not visible), a paraprotein «анықталмады» (not detected): UNVERIFIED in real letters
        ("Моноклоналды жолақ көрінбейді.", "Моноклоналды жолақ (IgG каппа) көрінеді.", "present: IgG kappa"),
        ("Парапротеин анықталмады.", "Парапротеин күмәнді.", "possible"),
        ("М-градиент байқалмады.", "М-градиент (IgA лямбда) байқалды.", "present: IgA lambda"),
    ],
)
def test_a_negative_in_other_words_is_absent(text, near_miss, near_reading):
    assert reads(text) == "absent"
    assert reads(near_miss) == near_reading


def test_not_determined_is_no_negative():
    # "not det." is "not detected"; "not determined" is a test not done
    assert reads("Paraprotein: not det.") == "absent"
    assert reads("Paraprotein: not determined.") != "absent"


# --- 3: the antisera listed after a negative -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # probe123 min/D7-2
        "Отр. (G, A, M, к, л)",
        "Neg (G, A, M, k, l).",
        # the letters broke the denied list: kappa and lambda were free light chains, or the bracket a list of bands
        "Negative (G, A, M, kappa, lambda)",
        "Neg. (anti-G, A, M, kappa, lambda)",
        "Not det. (G, A, M, kappa, lambda)",
        "Отр. (IgG, IgA, IgM, каппа, лямбда)",
        "Отр.: IgG, IgA, IgM, каппа, лямбда",
        "Negative: G, A, M, kappa, lambda",
        "Negative - G, A, M, kappa, lambda",
        "Монокл. компонент: не обн. (IgG, IgA, IgM, κ, λ)",
        "Моноклональный компонент не визуализируется (G, A, M, к, л).",
    ],
)
def test_the_antisera_listed_after_a_negative_are_no_band(text):
    assert reads(text) == "absent"


@pytest.mark.parametrize(
    ("negative", "positive", "reading"),
    [
        # the list after a positive stays the band it names; a band stated beside the negative contradicts it
        ("Neg. (G, A, M, kappa, lambda)", "Positive (IgA, lambda)", "present: IgA lambda"),
        ("Отр. (G, A, M, к, л)", "Отр. (G, A, M, к). IgG-л выявлен.", "conflict"),
        ("Negative: G, A, M, kappa, lambda", "Positive: IgA, lambda", "present: IgA lambda"),
    ],
)
def test_a_list_after_a_positive_keeps_its_band(negative, positive, reading):
    assert reads(negative) == "absent"
    assert reads(positive) == reading


@pytest.mark.parametrize(
    "text",
    ["IgG lambda band. Не обн.", "IgG lambda band. Not det.", "IgG lambda band. Отриц."],
)
def test_a_short_negative_after_a_band_answers_it(text):
    # a short form answers the band before it ("IgG lambda band. Neg." is absent), not a contradiction
    assert reads(text) == "absent"


# --- patients: a clone-free polyneuropathy is not met --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Парапротеин: не обн.",
        "Отр. (G, A, M, к, л)",
        "Моноклональная гаммапатия исключена.",
        "Данных за парапротеинемию не получено.",
        "Моноклональный компонент не визуализируется.",
        "Моноклоналды жолақ байқалмады",
        "Paraprotein: not det.",
        "Neg (G, A, M, k, l)",
        "Monoclonal gammopathy excluded",
        "Negative: G, A, M, kappa, lambda",
    ],
)
def test_a_clone_free_patient_with_such_a_negative_is_not_met(mapping, text):
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("not_met", State.ABSENT)


@pytest.mark.parametrize(
    ("text", "state"),
    [("Monoclonal gammopathy not excluded", State.INDETERMINATE), ("Парапротеин: обн. IgG-к", State.PRESENT)],
)
def test_the_near_misses_stay_a_doubt_or_a_clone(mapping, text, state):
    assert _classify(mapping, observation(SERUM_IFE, "ife", valueString="Отр."))[1] == State.ABSENT
    assert _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))[1] == state


# --- 4: in a report's text, and as a whole qualitative result ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Парапротеин: не обн.", "Paraprotein: not det.", "Парапротеин: отр.", "Моноклоналды жолақ байқалмады."],
)
def test_an_immunofixation_report_saying_so_is_absent(mapping, text):
    ex = extract(make_record(_ife_report(text)), mapping)
    assert ex.errors == []
    assert {f.state for f in ex.findings if f.topic == CLONE} == {State.ABSENT}


@pytest.mark.parametrize("said", ["Отр.", "отриц", "Не обн.", "не обнар.", "не выявл.", "Not det."])
def test_the_short_forms_are_a_negative_qualitative_result(mapping, said):
    assert mapping.result_terms.get(normalise_term(said)) == "negative"
