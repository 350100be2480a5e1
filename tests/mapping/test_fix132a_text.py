# SPDX-License-Identifier: Apache-2.0
"""fix132a: clinical-text gaps left by probes 125, 126 and 130 (README "Known limitations").

- item 4: a new lesion against an earlier study named by a Russian year or date («не определявшийся на КТ 2021 г.»,
  «ранее (КТ 2021 г.) не определялся», «на КТ от 12.03.2021») was not read as new (radiologic progression)."""

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
        "Склеротический очаг в L2, не определявшийся на КТ 2021 г.",
        "Склеротический очаг в L2, ранее (КТ 2021 г.) не определялся.",
        "Склеротический очаг в L2, не определявшийся на КТ от 12.03.2021.",
        "Склеротический очаг в L2, не определявшийся на КТ 2021 года.",
        "Склеротический очаг в L2, на КТ 2021 г. не определялся.",
        "Склеротический очаг в L2, по данным МРТ от 12.03.2021 не определялся.",
        "Sclerotic lesion in L2, not seen on the CT of 12.03.2021.",
        "Sclerotic lesion in L2, not seen on CT 2021.",
    ],
)
def test_new_against_a_dated_earlier_study_is_progression(text: str) -> None:
    assert _labels(text) == {"sclerotic_bone_lesion": "present", "radiologic_progression": "present"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # controls: no comparison word, a known lesion, a denial that goes on to today, another finding after
        ("Склеротический очаг в L2.", {"sclerotic_bone_lesion": "present"}),
        (
            "Склеротический очаг в L2, без динамики, не определявшийся на КТ 2021 г.",
            {"sclerotic_bone_lesion": "present"},
        ),
        ("Склеротический очаг в L2 выявлен в 2021 г. и сейчас без динамики.", {"sclerotic_bone_lesion": "present"}),
        (
            "Склеротический очаг в L2, на КТ 2021 г. не определялся, и на данном исследовании не определяется.",
            {"sclerotic_bone_lesion": "negated"},
        ),
        ("Асцит, не определявшийся на КТ 2021 г., и сейчас не определяется.", {"ascites": "negated"}),
        ("Асцит, не определявшийся на КТ 2021 г., сейчас умеренный.", {"ascites": "present"}),
        (
            "Склеротический очаг в L2, не определялся на МРТ 2021 г. Асцита нет.",
            {"sclerotic_bone_lesion": "present", "ascites": "negated", "radiologic_progression": "present"},
        ),
        ("Sclerotic lesion in L2, not seen on this CT or the 2021 CT.", {"sclerotic_bone_lesion": "negated"}),
        ("Склеротических очагов не определяется, как и на КТ 2021 г.", {"sclerotic_bone_lesion": "negated"}),
    ],
)
def test_dated_earlier_study_controls(text: str, expected: dict[str, str]) -> None:
    assert _labels(text) == expected


# item 1: an organ's earlier normal size before today's enlargement ("Spleen: previously normal, now enlarged.") lost
# the finding; today's enlargement is present (probe126 G11)
@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Spleen: previously normal, now enlarged.", "splenomegaly"),
        ("Spleen: normal previously, now enlarged 16 cm.", "splenomegaly"),
        ("Liver: normal on the prior study, now enlarged, 19 cm.", "hepatomegaly"),
        ("Селезёнка: ранее нормальных размеров, сейчас увеличена.", "splenomegaly"),
        ("Селезенка ранее не увеличена, в настоящее время увеличена до 16 см.", "splenomegaly"),
        ("Печень ранее в норме, сейчас увеличена.", "hepatomegaly"),
        ("Көкбауыр: бұрын қалыпты, қазір ұлғайған.", "splenomegaly"),
    ],
)
def test_earlier_normal_then_enlarged_today_is_present(text: str, target: str) -> None:
    assert _labels(text).get(target) == "present"


@pytest.mark.parametrize(
    "text",
    [
        # controls: the reverse, a normal size both times, a denial today
        "Spleen: previously enlarged, now normal.",
        "Селезёнка: ранее увеличена, сейчас нормальных размеров.",
        "Spleen: previously normal, now normal.",
        "Spleen: previously normal, now not enlarged.",
    ],
)
def test_earlier_enlarged_or_normal_today_is_not_present(text: str) -> None:
    assert _labels(text).get("splenomegaly") != "present"


# item 2: Kazakh «бұрын болмаған, қазір орташа» (absent before, moderate now) was historical; it is present, as the
# Russian and English forms are (UNVERIFIED Kazakh wording)
@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("Асцит: бұрын болмаған, қазір орташа.", "ascites", "present"),
        ("Асцит бұрын болмаған, қазір аз мөлшерде.", "ascites", "present"),
        ("Плевралық сұйықтық: бұрын анықталмаған, қазір орташа.", "pleural_effusion", "present"),
        # controls: absent both times, present before only
        ("Асцит: бұрын болмаған, қазір де жоқ.", "ascites", "negated"),
        ("Асцит бұрын болған.", "ascites", "historical"),
        ("Асцит: бұрын орташа, қазір жоқ.", "ascites", "historical"),
    ],
)
def test_kazakh_earlier_absence(text: str, target: str, expected: str) -> None:
    assert _labels(text).get(target) == expected
