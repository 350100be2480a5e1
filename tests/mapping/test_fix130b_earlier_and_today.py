# SPDX-License-Identifier: Apache-2.0
"""probe130 G2, G3, G4, G7: a finding's earlier state beside today's.

- G2: «Асцит: ранее отсутствовал, сейчас умеренный.» (absent before, moderate now) lost the ascites.
- G3: "Ascites: moderate previously, now absent." was read present today; it is historical (never present).
- G4: "… that were absent on the previous CT", "(not visualised on the 2021 CT)" raised no radiologic progression.
- G7: "No pleural effusion, ascites - present." denied the ascites."""

import pytest

from poems_fhir.mapping.rules import load_mapping

MAPPING = load_mapping()


def _labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in MAPPING.text.assert_texts([text])[0]:
        out.setdefault(a.target, a.label)
    return out


@pytest.mark.parametrize(
    "text",
    [
        "Асцит: ранее отсутствовал, сейчас умеренный.",
        "Асцит: прежде отсутствовал, сейчас умеренный.",
        "Асцит ранее отсутствовал, в настоящее время небольшой.",
        "Асцит: отсутствовал ранее, сейчас умеренный.",
    ],
)
def test_absent_before_and_graded_now_is_present(text: str) -> None:
    assert _labels(text)["ascites"] == "present"


@pytest.mark.parametrize(
    "text",
    [
        "Ascites: moderate previously, now absent.",
        "Асцит: ранее умеренный, сейчас отсутствует.",
        "Ascites moderate in 2021, now resolved.",
        "Асцит ранее умеренный, в настоящее время не определяется.",
        "Гидроторакс: ранее выраженный, сейчас не определяется.",
        "Ascites moderate previously, not now.",
    ],
)
def test_graded_before_and_absent_now_is_historical(text: str) -> None:
    assert _labels(text).get("ascites", _labels(text).get("pleural_effusion")) == "historical"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # controls: today's grade, another finding's absence, an absence that stays today's
        ("Ascites: moderate previously, now small.", "present"),
        ("Ascites moderate, pleural effusion now absent.", "present"),
        ("Ascites: absent previously, now moderate.", "present"),
        ("Асцит: ранее отсутствовал, сейчас также отсутствует.", "negated"),
        ("Асцит: ранее отсутствовал, и сейчас.", "negated"),
        ("Асцит отсутствует.", "negated"),
    ],
)
def test_controls(text: str, expected: str) -> None:
    assert _labels(text)["ascites"] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Sclerotic lesions in T6 and L3 that were absent on the previous CT.",
        "Sclerotic lesions in T6 and L3 (not visualised on the 2021 CT).",
        "Sclerotic lesions in T6 and L3, not seen on the CT of March 2021.",
        "Sclerotic lesions in T6 and L3, absent on the 2021 PET-CT.",
    ],
)
def test_a_lesion_absent_on_an_earlier_study_is_progression(text: str) -> None:
    labels = _labels(text)
    assert labels.get("radiologic_progression") == "present", labels
    assert labels.get("sclerotic_bone_lesion") == "present", labels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesions in T6 and L3 (not visualised on this CT).", "negated"),
        ("Sclerotic lesion in L2, absent on the previous CT and now.", "negated"),
        ("Sclerotic lesion in L2 (not visualised on the 2021 CT or on this study).", "negated"),
        ("Sclerotic lesion in L2 unchanged, absent on the prior radiograph.", "present"),
    ],
)
def test_no_progression_controls(text: str, expected: str) -> None:
    labels = _labels(text)
    assert labels.get("radiologic_progression") != "present", labels
    assert labels["sclerotic_bone_lesion"] == expected


@pytest.mark.parametrize(
    "text",
    [
        "No pleural effusion, ascites - present.",
        "No pleural effusion - ascites noted.",
        "Плеврального выпота нет, асцит - имеется.",
        "Плеврального выпота нет, асцит определяется.",
    ],
)
def test_a_stating_word_in_its_own_clause_states_it(text: str) -> None:
    labels = _labels(text)
    assert labels["ascites"] == "present", labels
    assert labels["pleural_effusion"] == "negated", labels


@pytest.mark.parametrize(
    "text",
    [
        "No ascites - present.",
        "No pleural effusion, or ascites present.",
        "No pleural effusion, ascites - not present.",
    ],
)
def test_a_denied_list_stays_denied(text: str) -> None:
    assert _labels(text)["ascites"] == "negated"
