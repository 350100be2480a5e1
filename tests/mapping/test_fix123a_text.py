"""fix123a (probe121 D11, probe122 D9, D11, older): clinical text about organ size and fluid collections read wrongly.

D9: "still not seen" before its finding did not deny it ("No ascites, still not seen pleural effusion." read the effusion
present), and «по-прежнему» ("still") was read as «прежний» (an earlier study: «плеврального выпота по-прежнему не
видно» made a new finding)."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


# D9: "still not seen" / «по-прежнему не видно» deny the finding today
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No ascites, still not seen pleural effusion.", {"ascites": "negated", "pleural_effusion": "negated"}),
        ("No splenomegaly, again not identified ascites.", {"splenomegaly": "negated", "ascites": "negated"}),
        ("Асцита нет, плеврального выпота по-прежнему не видно.",
         {"ascites": "negated", "pleural_effusion": "negated"}),
        ("Плеврального выпота по-прежнему не выявлено.", {"pleural_effusion": "negated"}),
    ],
)  # fmt: skip
def test_fix123a_still_not_seen_denies_today(mapping, text, expected):
    assert _read(mapping, text) == expected


# D9 controls: a finding stated after "still", a denial that looks back, an earlier study named - as before
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pleural effusion, still not seen.", {"pleural_effusion": "negated"}),
        ("Pleural effusion still not seen on the current study.", {"pleural_effusion": "negated"}),
        ("No ascites, still not resolved pleural effusion.", {"ascites": "negated", "pleural_effusion": "present"}),
        ("Ascites still not seen, small pleural effusion.", {"ascites": "negated", "pleural_effusion": "present"}),
        ("Плевральный выпот, на прежнем КТ не определялся.", {"pleural_effusion": "present"}),
        ("Асцита нет, выпот в плевральных полостях по-прежнему определяется.",
         {"ascites": "negated", "pleural_effusion": "present"}),
    ],
)  # fmt: skip
def test_fix123a_still_not_seen_controls(mapping, text, expected):
    assert _read(mapping, text) == expected


# probe121 D11: a Russian denial in the past, then the earlier study - not seen then, stated now
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Асцит - не определялся на предыдущем КТ, и сейчас умеренный.", {"ascites": "present"}),
        ("Асцит не определялся на предыдущем КТ, и сейчас умеренный.", {"ascites": "present"}),
        ("Плевральный выпот не выявлялся ранее, сейчас небольшой.", {"pleural_effusion": "present"}),
    ],
)  # fmt: skip
def test_fix123a_russian_denial_then_the_earlier_study(mapping, text, expected):
    assert _read(mapping, text) == expected


# ... controls: the denial goes on to today, or names no earlier study - denied, as before
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Асцит - не определялся на предыдущем КТ, в настоящее время также не определяется.", {"ascites": "negated"}),
        ("Асцит - не определялся на предыдущем КТ и на данном исследовании.", {"ascites": "negated"}),
        ("Асцит - не определялся на предыдущем КТ, и сейчас.", {"ascites": "negated"}),
        ("Асцит не определялся.", {"ascites": "negated"}),
        ("Ascites - not seen on previous CT, now moderate.", {"ascites": "present"}),
    ],
)  # fmt: skip
def test_fix123a_russian_denial_then_the_earlier_study_controls(mapping, text, expected):
    assert _read(mapping, text) == expected


# probe122 D11, fix120a's leftovers: organ verdicts in dash chains and after a word of time
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Селезенка по-прежнему увеличена, 16 см.", {"splenomegaly": "present"}),
        ("Печень все еще увеличена.", {"hepatomegaly": "present"}),
        ("Печень по-прежнему не увеличена.", {"hepatomegaly": "negated"}),
        ("Печень – размеры в норме – селезенка – 16 см, увеличена.",
         {"hepatomegaly": "negated", "splenomegaly": "present"}),
        ("Spleen – normal size (11 cm) – liver – enlarged, 19 cm.",
         {"splenomegaly": "negated", "hepatomegaly": "present"}),
        ("Ascites – none – liver – enlarged.", {"ascites": "negated", "hepatomegaly": "present"}),
        ("Hepatomegaly – spleen – not enlarged.", {"hepatomegaly": "present", "splenomegaly": "negated"}),
        ("Ascites – small – spleen – enlarged.", {"ascites": "present", "splenomegaly": "present"}),
        ("Spleen – palpable.", {"splenomegaly": "present"}),
        ("Spleen: palpable.", {"splenomegaly": "present"}),
    ],
)  # fmt: skip
def test_fix123a_dash_chains_and_time_words(mapping, text, expected):
    assert _read(mapping, text) == expected


# ... controls: a dash that parts clauses, a bare measure (criteria.md gives no spleen length), a denial leading a list
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen - 17 cm.", {}),
        ("Ascites – none – gallstones.", {"ascites": "negated"}),
        ("No splenomegaly - hepatomegaly.", {"splenomegaly": "negated", "hepatomegaly": "negated"}),
        ("Spleen – not enlarged – liver – enlarged, 19 cm.", {"splenomegaly": "negated", "hepatomegaly": "present"}),
        ("Liver – normal size – spleen – enlarged on the previous study, now 11 cm.", {"hepatomegaly": "negated"}),
    ],
)  # fmt: skip
def test_fix123a_dash_chains_controls(mapping, text, expected):
    assert _read(mapping, text) == expected


# a size verdict of an earlier time after a comma is not today's (probe122, older; after a dash since probe122 D5)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen 11 cm, mildly enlarged previously.", {}),
        ("Spleen 14 cm, enlarged in 2021, now 11 cm.", {}),
        ("Spleen 14 cm, mildly enlarged previously, now 11 cm.", {}),
        ("Селезенка 14 см, увеличена в 2021 г., сейчас 11 см.", {}),
        ("Spleen enlarged on the previous CT.", {}),
        ("Liver 19 cm, enlarged 2 years ago, now 15 cm.", {}),
        # today's normal size after it: the enlargement is historical (criteria.md §3.3), as "…, now normal." was
        ("Spleen 14 cm, enlarged in 2021, now of normal size.", {"splenomegaly": "historical"}),
    ],
)  # fmt: skip
def test_fix123a_an_earlier_times_size_verdict_is_not_todays(mapping, text, expected):
    assert _read(mapping, text) == expected


# ... controls: today's verdict with an earlier size or a start date - present, as before
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen 16 cm, enlarged, previously 12 cm.", {"splenomegaly": "present"}),
        ("Spleen 16 cm, enlarged since 2021.", {"splenomegaly": "present"}),
        ("Селезенка 16 см, увеличена, ранее 12 см.", {"splenomegaly": "present"}),
        ("Селезенка 16 см, увеличена с 2021 г.", {"splenomegaly": "present"}),
        ("Spleen 16 cm, enlarged in 2021 and now.", {"splenomegaly": "present"}),
        ("Spleen 16 cm, enlarged as on the previous CT.", {"splenomegaly": "present"}),
        ("Spleen 13 cm, enlarged in 2019, now normal.", {"splenomegaly": "historical"}),
    ],
)  # fmt: skip
def test_fix123a_todays_size_verdict_controls(mapping, text, expected):
    assert _read(mapping, text) == expected
