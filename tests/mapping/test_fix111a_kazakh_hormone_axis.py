"""fix111a item 6: in Kazakh, as in English and Russian (probe110 D5), a normal hormone denies only its own endocrine
axis - «Гипогонадизм (ТТГ 2,1 мЕд/л, қалыпты)» keeps the hypogonadism (the one Kazakh rule answered every axis).
The Kazakh wording is UNVERIFIED (not seen in real letters)."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Гипогонадизм (ТТГ 2,1 мЕд/л, қалыпты)", {"hypogonadism": "present"}),
        ("Гипотиреоз (тестостерон 18 нмоль/л, қалыпты)", {"hypothyroidism": "present"}),
        ("Гиперпролактинемия (ТТГ 2 мЕд/л, қалыпты)", {"hyperprolactinemia": "present"}),
        ("Қант диабеті (тестостерон 18 нмоль/л, қалыпты)", {"diabetes": "present"}),
    ],
)  # fmt: skip
def test_a_normal_hormone_denies_only_its_own_axis_in_kazakh(mapping, text, expected):
    assert _read(mapping, text) == expected


# regression guards (read alike before the fix): the axis's own hormone denies it
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Гипогонадизм (тестостерон 18 нмоль/л, қалыпты)", {"hypogonadism": "negated"}),
        ("Гипогонадизм (ЛГ 4 ХБ/л, қалыпты)", {"hypogonadism": "negated"}),
        ("Гипотиреоз (ТТГ 2,1 мЕд/л, қалыпты)", {"hypothyroidism": "negated"}),
        ("Гиперпролактинемия (пролактин 200 мЕд/л, қалыпты)", {"hyperprolactinemia": "negated"}),
        ("Қант диабеті (HbA1c 5,4 %, қалыпты)", {"diabetes": "negated"}),
    ],
)  # fmt: skip
def test_the_axiss_own_hormone_still_denies_it(mapping, text, expected):
    assert _read(mapping, text) == expected
