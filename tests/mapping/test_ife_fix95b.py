"""Immunofixation gaps left by fix91a, fix92a and fix94a (README "Known limitations"), fixed in fix95b.

1. A denial limited to another specimen with no joining word ("IgG lambda paraprotein not detected in the
   urine") denied the serum band: absent. On a urine result the urine's denial is the result's own.
2. A withdrawal after a colon or a hyphen with no verb of seeing before it ("IgG lambda: not confirmed on
   repeat") was the band's denial: absent.
3. A band stated by its noun in a sentence of its own, then "Negative." ("IgG lambda band. Negative.") was the
   band's denial, not the contradiction it is.
4. A withdrawal in words outside the lists ("please disregard", "likely daratumumab interference",
   "consistent with therapeutic antibody (daratumumab)") left the band a clone.
5. A report wrapped mid-phrase ("No monoclonal⏎IgG lambda band") was read as two clauses: indeterminate.

Each case is checked beside a near miss that must keep its reading.
"""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import parse_ife
from tests.conftest import observation
from tests.mapping.test_ife_contradictions import SERUM_IFE, URINE_IFE, clone_findings
from tests.mapping.test_ife_probe90 import _classify


def _reads(text: str, specimen: str | None = None) -> str:
    result = parse_ife(text) if specimen is None else parse_ife(text, specimen)
    if result.conflict:
        return "conflict"
    if result.bands:
        return "present: " + ", ".join(b.label() for b in result.bands)
    if result.possible or result.equivocal:
        return "possible"
    return "absent" if result.negative else "unread"


# --- 1: a denial limited to another specimen, with no joining word --------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # a band stated by its noun, then denied in the urine only; the antiserum's answer stays a denial
        ("IgG lambda paraprotein not detected in the urine", "IgG lambda not detected in the urine"),
        # ... nor a band denied before it is named
        ("IgG lambda paraprotein not detected in urine", "No IgG lambda paraprotein detected in the urine"),
        # ... nor a denial in the serum, the specimen tested
        ("IgG lambda band not detected in the urine.", "IgG lambda paraprotein not detected in the serum"),
        ("Monoclonal IgG lambda band is absent in the 24h urine", "No IgG lambda paraprotein detected in the serum"),
        # Russian: with a band noun, after the band, in either order
        ("Парапротеин IgG-λ в моче не выявлен", "IgG лямбда в моче не выявлен"),
        ("IgG-λ парапротеин не выявляется в моче", "Парапротеин IgG лямбда в сыворотке не выявлен"),
        ("Полоса IgG-λ не выявлена в моче", "Парапротеин IgG лямбда не выявлен в сыворотке"),
    ],
)
def test_a_band_denied_in_the_urine_only_stands_on_a_serum_result(text, near_miss):
    assert _reads(text) == "present: IgG lambda"
    assert _reads(near_miss) == "absent"


@pytest.mark.parametrize(
    "text",
    [
        # with or without a joining word, a denial that names the serum too is no limit
        "Monoclonal IgG lambda paraprotein which is not detected in the urine or serum",
        "IgG lambda paraprotein not detected in the urine or serum",
        "IgG lambda paraprotein that is negative in the urine and in the serum",
    ],
)
def test_a_denial_in_the_urine_and_the_serum_denies_the_band(text):
    assert _reads(text) == "absent"
    assert _reads("IgG lambda paraprotein not detected in the urine") == "present: IgG lambda"


@pytest.mark.parametrize(
    "text",
    [
        "IgG lambda paraprotein not detected in the urine",
        "Monoclonal IgG lambda band which is not detected in the urine",
        "Парапротеин IgG лямбда в моче не выявлен",
    ],
)
def test_on_a_urine_result_the_urines_denial_is_the_results_own(mapping, text):
    assert _reads(text) == "present: IgG lambda"
    found, _ = clone_findings(observation(URINE_IFE, "bj", valueString=text), mapping)
    assert [state for state, _ in found] == [State.ABSENT]
    assert _reads(text, "urine") == "absent"


def test_on_a_urine_result_a_denial_in_the_serum_leaves_the_urine_band(mapping):
    text = "IgG lambda paraprotein not detected in the serum"
    found, _ = clone_findings(observation(URINE_IFE, "bj", valueString=text), mapping)
    assert [state for state, _ in found] == [State.PRESENT]
    assert (_reads(text), _reads(text, "urine")) == ("absent", "present: IgG lambda")


def test_a_poems_patient_whose_serum_band_is_denied_in_the_urine_only_is_met(mapping):
    text = "IgG lambda paraprotein not detected in the urine"
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason


# --- 2: a withdrawal after a colon or a hyphen, with no verb of seeing --------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        # an antiserum's label answered by a denial stays the band's denial
        ("IgG lambda: not confirmed on repeat", "IgG lambda: negative"),
        ("IgG lambda band - not confirmed on repeat", "IgG lambda - negative"),
        ("IgG lambda - probably artefact", "IgG lambda: not detected"),
        # ... and so does a denial on a repeat after a label (the label's answer); a denied withdrawal ("IgG lambda:
        # not an artefact") is the band since probe97 D2 (tests/mapping/test_ife_fix97b.py)
        ("IgG lambda band: could not be reproduced", "IgG lambda: not detected on repeat"),
        ("IgG lambda: spurious", "IgG lambda: absent"),
        ("IgG лямбда: не подтвержден при повторном исследовании", "IgG лямбда: отрицательный"),
        ("IgG лямбда - расталмады", "IgG лямбда - не выявлен"),
    ],
)
def test_a_band_withdrawn_after_a_colon_or_hyphen_is_a_contradiction(text, near_miss):
    assert _reads(text) == "conflict"
    assert _reads(near_miss) == "absent"


def test_a_poems_patient_whose_band_label_is_withdrawn_is_indeterminate(mapping):
    text = "IgG lambda: not confirmed on repeat"
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "not confirmed on repeat" in reason


# --- 3: a band stated by its noun, then "Negative." --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        ("IgG lambda band. Negative.", "IgG lambda: negative"),
        ("IgG lambda paraprotein. Not detected.", "IgG lambda - negative"),
        ("M-protein IgG lambda. Negative.", "IgG lambda | Neg"),
        ("IgG lambda band.\nNegative.", "Negative for IgG lambda"),
        # an isotype named alone is a label answered; a band answered at a line break or in a short form too
        ("Serum IFE: IgG lambda paraprotein. Negative.", "IgG lambda. Negative."),
        ("Monoclonal IgG lambda band. Absent.", "IgG lambda band\nNegative"),
        ("IgG lambda band. Negative", "IgG lambda band. Neg."),
        ("Полоса IgG лямбда. Не выявлена.", "IgG лямбда. Не выявлен."),
    ],
)
def test_a_band_stated_then_a_bare_negative_sentence_is_a_contradiction(text, near_miss):
    assert _reads(text) == "conflict"
    assert _reads(near_miss) == "absent"


def test_a_poems_patient_whose_band_is_followed_by_negative_is_indeterminate(mapping):
    classification, state, reason = _classify(
        mapping, observation(SERUM_IFE, "ife", valueString="IgG lambda band. Negative.")
    )
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "'Negative'" in reason


# --- 4: a withdrawal in other words: "please disregard", a therapeutic antibody ----------------------------


@pytest.mark.parametrize(
    ("text", "near_miss"),
    [
        (
            "IgG lambda band detected. Comment: please disregard.",
            "IgG lambda band detected. No daratumumab interference.",
        ),
        (
            "IgG lambda band detected. Likely daratumumab interference.",
            "IgG lambda band detected. Daratumumab interference excluded.",
        ),
        (
            "IgG lambda band detected. Consistent with therapeutic antibody (daratumumab).",
            "IgG lambda band detected. Patient on daratumumab.",
        ),
        ("IgG kappa band detected - daratumumab interference", "IgG lambda band. Comment: not related to daratumumab."),
        ("IgG kappa band (daratumumab)", "IgG lambda band detected. Comment: please disregard the previous report."),
        (
            "Выявлена полоса IgG каппа, обусловленная даратумумабом.",
            "Выявлена полоса IgG каппа. Интерференция даратумумаба исключена.",
        ),
    ],
)
def test_a_band_put_down_to_a_therapeutic_antibody_or_disregarded_is_a_contradiction(text, near_miss):
    assert _reads(text) == "conflict"
    assert _reads(near_miss).startswith("present: ")


def test_a_poems_patient_whose_band_is_daratumumab_interference_is_indeterminate(mapping):
    text = "IgG lambda band detected. Likely daratumumab interference."
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert "daratumumab" in reason


# --- 5: a line wrapped after a determiner or an attributive "monoclonal" -----------------------------------


@pytest.mark.parametrize(
    ("text", "near_miss", "reading"),
    [
        ("No monoclonal\nIgG lambda band", "Pattern: monoclonal\nIgG lambda band", "present: IgG lambda"),
        ("No monoclonal\nIgG lambda band detected", "A monoclonal\nIgG lambda band is detected", "present: IgG lambda"),
        ("No evidence of any\nIgG lambda band", "IgG lambda band: monoclonal\nUrine: negative", "present: IgG lambda"),
        (
            "Не выявлено моноклонального\nбелка IgG лямбда",
            "Моноклональный белок IgG лямбда\nвыявлен",
            "present: IgG lambda",
        ),
    ],
)
def test_a_line_wrapped_after_monoclonal_or_a_determiner_goes_on(text, near_miss, reading):
    assert _reads(text) == "absent"
    assert _reads(near_miss) == reading


def test_a_poems_patient_whose_wrapped_denial_says_no_monoclonal_band_is_not_met(mapping):
    text = "No monoclonal\nIgG lambda band"
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("not_met", State.ABSENT)


@pytest.mark.parametrize(
    ("text", "specimen", "reading"),
    [
        # probe95 I113: another specimen after the first ("or CSF") is no name of the tested one - still a limit
        ("IgG lambda paraprotein which is not detected in urine or CSF.", "serum", "present: IgG lambda"),
        ("IgG lambda paraprotein not detected in the urine or CSF", "serum", "present: IgG lambda"),
        ("Free lambda band which is not detected in the serum or CSF.", "urine", "present: free lambda light chain"),
        # ... the tested one named: no limit
        ("IgG lambda paraprotein which is not detected in the urine or serum.", "serum", "absent"),
        ("Free lambda band which is not detected in the serum or urine.", "urine", "absent"),
    ],
)
def test_a_denial_naming_two_other_specimens_is_still_limited_to_them(text, specimen, reading):
    assert _reads(text, specimen) == reading


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        # probe96 D2: a line that goes on with where it was looked for is one clause with the line before
        ("IgG lambda paraprotein not detected\nin urine.", "present: IgG lambda"),
        ("Monoclonal IgA kappa band, not seen\nin the urine", "present: IgA kappa"),
        ("Парапротеин IgG-λ не выявлен\nв моче.", "present: IgG lambda"),
        ("No monoclonal band detected\nin the serum.", "absent"),
        # probe96 D4: "this urine", «в данной пробе мочи»
        ("The IgG lambda paraprotein is not detected in this urine sample.", "present: IgG lambda"),
        ("Парапротеин IgG-λ в данной пробе мочи не выявлен.", "present: IgG lambda"),
        # probe96 D9: the result itself set aside
        ("IgG kappa band detected. Please disregard this result.", "conflict"),
        ("Monoclonal IgG kappa band detected. Comment: please ignore - see amended report.", "conflict"),
        ("IgG kappa band detected. Ignore - wrong patient.", "conflict"),
        ("IgG kappa band detected. Comment: result withdrawn.", "conflict"),
        ("IgG kappa band detected. Comment: report cancelled, sample mislabelled.", "conflict"),
        ("IgG kappa band detected. Please repeat in 3 months.", "present: IgG kappa"),
    ],
)
def test_where_it_was_looked_for_and_a_result_set_aside(text, reading):
    assert _reads(text, "serum") == reading


@pytest.mark.parametrize(
    ("text", "specimen"),
    [
        # probe96 D1: a denial of both specimens after the band named them both, whichever was tested: never the
        # band alone (it stood, `met`)
        ("IgM kappa paraprotein; not detected in urine or serum.", "serum"),
        ("IgM kappa paraprotein, not detected in serum or urine.", "serum"),
        ("IgG lambda paraprotein, absent in serum and urine.", "serum"),
        ("Парапротеин IgM-κ; в сыворотке и моче не выявлен.", "serum"),
        ("Free lambda band; not detected in urine or serum.", "urine"),
    ],
)
def test_a_denial_of_both_specimens_after_the_band_is_no_clone(text, specimen):
    assert not _reads(text, specimen).startswith("present")
    assert _reads("IgG lambda band detected in serum; not detected in urine.", "serum") == "present: IgG lambda"
