"""fix112a (probe112 D15, in part): Kazakh adrenal insufficiency, «Бүйрек үсті безінің жеткіліксіздігі», is read, and a
Kazakh hormone with its verdict and no value, «(кортизол қалыпты)», denies its own axis only, as the Russian «(кортизол
в норме)» does (UNVERIFIED Kazakh wording)."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Бүйрек үсті безінің жеткіліксіздігі (ТТГ қалыпты)", {"adrenal_insufficiency": "present"}),
        ("Бүйрек үсті безінің жеткіліксіздігі (кортизол қалыпты)", {"adrenal_insufficiency": "negated"}),
        ("Бүйрек үсті безінің жеткіліксіздігі жоқ.", {"adrenal_insufficiency": "negated"}),
        ("Гипогонадизм (тестостерон қалыпты)", {"hypogonadism": "negated"}),
        ("Гиперпролактинемия (пролактин қалыпты)", {"hyperprolactinemia": "negated"}),
    ],
)  # fmt: skip
def test_kazakh_axes(mapping, text, expected):
    assert _read(mapping, text) == expected


# controls: another axis's normal hormone keeps the problem; a value and its verdict still deny
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Гипогонадизм (ТТГ қалыпты)", {"hypogonadism": "present"}),
        ("Гипогонадизм (ТТГ 2,1 мЕд/л, қалыпты)", {"hypogonadism": "present"}),
        ("Гипогонадизм (тестостерон 18 нмоль/л, қалыпты)", {"hypogonadism": "negated"}),
        ("Гипогонадизм (тестостерон төмен, ТТГ қалыпты)", {"hypogonadism": "present"}),
    ],
)  # fmt: skip
def test_another_axis_keeps_the_problem(mapping, text, expected):
    assert _read(mapping, text) == expected
