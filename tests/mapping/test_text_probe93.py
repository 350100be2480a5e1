"""probe93: clinical-text defects of tables and fields answered in other words (fix94b)."""

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


# D11: an organ-header table over verdicts reads each organ's verdict
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Spleen | Liver\nenlarged | normal", {"splenomegaly": "present"}),
        ("Spleen | Liver\nenlarged | enlarged", {"splenomegaly": "present", "hepatomegaly": "present"}),
        ("Селезенка | Печень\nувеличена | норма", {"splenomegaly": "present"}),
    ],
)
def test_d11_an_organ_header_table_over_verdicts(mapping, text, expect):
    _check(mapping, text, expect)


# D8: a positive answer other than yes after a stated cell states both findings
@pytest.mark.parametrize(
    "text",
    [
        "Ascites | Splenomegaly 16 cm | seen",
        "Асцит | Спленомегалия 16 см | есть",
        "Асцит | Спленомегалия 16 см | бар",
    ],
)
def test_d8_a_positive_word_after_a_stated_cell(mapping, text):
    _check(mapping, text, {"ascites": "present", "splenomegaly": "present"})


# D13: an enlargement's field answered with the organ's normal size is denied - that organ's only
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Splenomegaly: normal spleen size", {"splenomegaly": "negated"}),
        ("Splenomegaly: spleen normal", {"splenomegaly": "negated"}),
        ("Splenomegaly: spleen normal in size", {"splenomegaly": "negated"}),
        ("Спленомегалия: селезенка нормальных размеров", {"splenomegaly": "negated"}),
        ("Спленомегалия: размеры селезенки в норме", {"splenomegaly": "negated"}),
        ("Lymphadenopathy: nodes normal", {"lymphadenopathy": "negated"}),
        # another organ's normal size denies nothing
        ("Splenomegaly: normal liver size", {"splenomegaly": "present"}),
        ("Hepatomegaly: spleen normal", {"hepatomegaly": "present"}),
        ("Гепатомегалия: селезенка в норме", {"hepatomegaly": "present"}),
    ],
)
def test_d13_a_field_answered_with_the_organs_normal_size(mapping, text, expect):
    _check(mapping, text, expect)


# D12: a header of findings over degree, size or +/- answers: each column's own answer
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("Sclerotic lesions | Ascites\nno | small", {"sclerotic_bone_lesion": "negated", "ascites": "present"}),
        ("Splenomegaly | Ascites\nno | moderate", {"splenomegaly": "negated", "ascites": "present"}),
        ("Splenomegaly | Ascites\n- | +", {"splenomegaly": "negated", "ascites": "present"}),
        ("Спленомегалия | Асцит\nнет | умеренный", {"splenomegaly": "negated", "ascites": "present"}),
        ("Splenomegaly | Ascites\n16 cm | moderate", {"splenomegaly": "present", "ascites": "present"}),
    ],
)
def test_d12_a_table_of_findings_over_degrees(mapping, text, expect):
    _check(mapping, text, expect)
