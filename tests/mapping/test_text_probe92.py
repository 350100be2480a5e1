"""probe92: clinical-text defects of the thirty-second session's layout and engine changes (fix92b)."""

from __future__ import annotations

import pytest


def _labels(mapping, text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in mapping.text.assert_texts([text])[0]:
        out.setdefault(a.target, a.label)
    return out


def _check(mapping, text: str, expect: dict[str, str]) -> None:
    got = _labels(mapping, text)
    assert {k: got.get(k) for k in expect} == expect, (text, got)


# D3: a stated finding whose sentence ends in a question after a comma stays stated - the later phrase is asked
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Splenomegaly 16 cm, portal hypertension?", {"splenomegaly": "present"}),
        ("Known sclerotic lesion in L2, progression?", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion in L2, new?", {"sclerotic_bone_lesion": "present"}),
        ("Ascites present, cause?", {"ascites": "present"}),
        ("Moderate ascites and bilateral pleural effusions, due to heart failure?", {"ascites": "present"}),
        ("Склеротический очаг в L2, метастаз?", {"sclerotic_bone_lesion": "present"}),
        ("Спленомегалия 16 см, портальная гипертензия?", {"splenomegaly": "present"}),
        # a list of bare findings is asked, each
        ("Splenomegaly, ascites?", {"splenomegaly": "possible", "ascites": "possible"}),
        ("Sclerotic lesion in L2? Ascites.", {"sclerotic_bone_lesion": "possible", "ascites": "present"}),
    ],
)
def test_d3_question_after_a_comma_asks_the_later_phrase(mapping, text, expect):
    _check(mapping, text, expect)


# D4: a queried cause after a field's mark doubts the cause, not the finding; a queried degree or site doubts it
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Sclerotic lesion in L2 - ?metastasis", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion in L2 — ?metastasis", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion in L2: ?metastasis", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion in L2 - ? myeloma", {"sclerotic_bone_lesion": "present"}),
        ("Ascites - ?cardiac", {"ascites": "present"}),
        ("Ascites: ? mild", {"ascites": "possible"}),
        ("Ascites: ? L2", {"ascites": "possible"}),
        ("Ascites: ?16 cm", {"ascites": "possible"}),
        ("Асцит: ? умеренный", {"ascites": "possible"}),
    ],
)
def test_d4_a_queried_cause_doubts_nothing_of_the_finding(mapping, text, expect):
    _check(mapping, text, expect)


# D5: a question answered at the start of the next line is answered
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Sclerotic lesion in L2?\nYes.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion in L2?\nYes - confirmed on MRI.", {"sclerotic_bone_lesion": "present"}),
        ("Склеротический очаг в L2?\nДа.", {"sclerotic_bone_lesion": "present"}),
        ("Ascites?\nNo.", {"ascites": "negated"}),
        # a line that only starts with the word is no answer
        ("Sclerotic lesion in L2?\nNo evidence of ascites.", {"sclerotic_bone_lesion": "possible"}),
    ],
)
def test_d5_a_question_answered_on_the_next_line(mapping, text, expect):
    _check(mapping, text, expect)


# D6: a positive answer after a stated cell states the bare findings before it too; a negative one leaves them doubtful
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Ascites | Splenomegaly 16 cm | yes", {"ascites": "present", "splenomegaly": "present"}),
        ("Ascites | Splenomegaly 16 cm | present", {"ascites": "present"}),
        ("Ascites | Sclerotic lesion in L2 | yes", {"ascites": "present", "sclerotic_bone_lesion": "present"}),
        ("Асцит | Спленомегалия 16 см | да", {"ascites": "present", "splenomegaly": "present"}),
        ("Ascites | Splenomegaly 16 cm | no", {"ascites": "possible", "splenomegaly": "present"}),
    ],
)
def test_d6_a_positive_answer_after_a_stated_cell(mapping, text, expect):
    _check(mapping, text, expect)


# D7: a contrast or an affirming clause after a clause-final denial takes it back
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (
            "Sclerotic lesions, which were described on the X-ray, are not seen on this CT, but are seen on the PET.",
            {"sclerotic_bone_lesion": "present"},
        ),
        (
            "Sclerotic lesions, which were described on the X-ray, cannot be excluded on this CT, and are clearly "
            "seen on the MRI.",
            {"sclerotic_bone_lesion": "present"},
        ),
        (
            "Склеротические очаги, которые были описаны на рентгенограмме, не выявлены на данной КТ, но определяются "
            "на ПЭТ.",
            {"sclerotic_bone_lesion": "present"},
        ),
        # without the contrast the denial stands
        (
            "Sclerotic lesions, which were described on the X-ray, are not seen on this CT.",
            {"sclerotic_bone_lesion": "negated"},
        ),
    ],
)
def test_d7_a_contrast_after_a_closing_denial(mapping, text, expect):
    _check(mapping, text, expect)


# D11: a participle opens an aside between the finding and its closing denial, as «которые» does
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (
            "Склеротические очаги, описанные на рентгенограмме, не выявлены на данной КТ.",
            {"sclerotic_bone_lesion": "negated"},
        ),
        (
            "Склеротические очаги, описанные на рентгенограмме, на данной КТ не определяются.",
            {"sclerotic_bone_lesion": "negated"},
        ),
        ("Асцит, описанный при УЗИ, на данной КТ не выявлен.", {"ascites": "negated"}),
        ("Sclerotic lesions, described on the X-ray, are not seen on this CT.", {"sclerotic_bone_lesion": "negated"}),
        ("Склеротические очаги, описанные на рентгенограмме, увеличились.", {"sclerotic_bone_lesion": "present"}),
    ],
)
def test_d11_a_participle_aside_before_a_closing_denial(mapping, text, expect):
    _check(mapping, text, expect)


# D12: a field answered "normal" ends at a comma too
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Splenomegaly: normal, ascites: moderate.", {"splenomegaly": "negated", "ascites": "present"}),
        ("Splenomegaly: normal, ascites moderate.", {"splenomegaly": "negated", "ascites": "present"}),
        ("Спленомегалия: норма, асцит: умеренный.", {"splenomegaly": "negated", "ascites": "present"}),
        ("Sclerotic lesions: possible, ascites: none.", {"sclerotic_bone_lesion": "possible", "ascites": "negated"}),
    ],
)
def test_d12_a_normal_field_answer_before_a_comma(mapping, text, expect):
    _check(mapping, text, expect)


# D13, D14, D15, D22: side-by-side fields whose answers say how much or where, a label that names no finding, «есть»
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Splenomegaly | normal | Ascites | moderate", {"splenomegaly": "negated", "ascites": "present"}),
        ("Splenomegaly | unremarkable | Ascites | yes", {"splenomegaly": "negated", "ascites": "present"}),
        ("Спленомегалия | норма | Асцит | есть", {"splenomegaly": "negated", "ascites": "present"}),
        ("Splenomegaly | no evidence | Ascites | trace", {"splenomegaly": "negated", "ascites": "present"}),
        ("Sclerotic lesions | L2 | Ascites | no", {"sclerotic_bone_lesion": "present", "ascites": "negated"}),
        ("Splenomegaly | 16 cm | Ascites | no", {"splenomegaly": "present", "ascites": "negated"}),
        ("Sclerotic lesions | L2, L4 | Ascites | no", {"sclerotic_bone_lesion": "present", "ascites": "negated"}),
        ("Splenomegaly | moderate | Ascites | no", {"splenomegaly": "present", "ascites": "negated"}),
        ("Splenomegaly | 16 cm | Pleural effusion | no", {"splenomegaly": "present", "pleural_effusion": "negated"}),
        (
            "Sclerotic lesions | several | Splenomegaly | no",
            {"sclerotic_bone_lesion": "present", "splenomegaly": "negated"},
        ),
        (
            "Sclerotic lesions | multiple | Splenomegaly | no",
            {"sclerotic_bone_lesion": "present", "splenomegaly": "negated"},
        ),
        ("Splenomegaly | no | Comment | see previous CT", {"splenomegaly": "negated"}),
        ("Splenomegaly | no | Comment | -", {"splenomegaly": "negated"}),
        ("Splenomegaly | no | Note | compare with prior", {"splenomegaly": "negated"}),
        ("Splenomegaly | no | Size | 11 cm", {"splenomegaly": "negated"}),
        ("Splenomegaly | no | Remarks | none", {"splenomegaly": "negated"}),
        ("Спленомегалия | нет | Асцит | есть", {"splenomegaly": "negated", "ascites": "present"}),
        ("Спленомегалия\tнет\tАсцит\tесть", {"splenomegaly": "negated", "ascites": "present"}),
    ],
)
def test_d13_d14_d15_d22_side_by_side_fields(mapping, text, expect):
    _check(mapping, text, expect)


# D16: a row's answer that denies every finding of the row in more words
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Splenomegaly | Ascites | no evidence of either", {"splenomegaly": "negated", "ascites": "negated"}),
        ("Splenomegaly | Ascites | none of these", {"splenomegaly": "negated", "ascites": "negated"}),
        ("Sclerotic lesions | Ascites | normal study", {"sclerotic_bone_lesion": "negated", "ascites": "negated"}),
    ],
)
def test_d16_a_row_denied_in_more_words(mapping, text, expect):
    _check(mapping, text, expect)


# D17: findings in the header row, the answers in the row under it
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (
            "Splenomegaly | Ascites | Pleural effusion\nno | no | no",
            {"splenomegaly": "negated", "ascites": "negated", "pleural_effusion": "negated"},
        ),
        ("| Splenomegaly | Ascites |\n|---|---|\n| no | yes |", {"splenomegaly": "negated", "ascites": "present"}),
        ("Спленомегалия\tАсцит\nнет\tесть", {"splenomegaly": "negated", "ascites": "present"}),
    ],
)
def test_d17_a_table_of_findings_over_their_answers(mapping, text, expect):
    _check(mapping, text, expect)


# D21: an organ's row with a verdict is the field it is
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Spleen | enlarged", {"splenomegaly": "present"}),
        ("Spleen | enlarged, 16 cm", {"splenomegaly": "present"}),
        ("Селезенка | увеличена", {"splenomegaly": "present"}),
        ("Liver | normal\nSpleen | enlarged (16 cm)", {"splenomegaly": "present"}),
        (
            "Spleen | normal size\nLymph nodes | enlarged, 2 cm",
            {"splenomegaly": "negated", "lymphadenopathy": "present"},
        ),
        # two findings side by side are no field - and, alone, a column header with no rows: nothing (probe97 D5)
        ("Ascites | Splenomegaly", {}),
    ],
)
def test_d21_an_organ_row_with_a_verdict(mapping, text, expect):
    _check(mapping, text, expect)
