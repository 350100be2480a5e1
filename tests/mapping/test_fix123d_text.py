"""fix123d (probe123 D1, D2, D4, D6): clinical text read wrongly in Russian/Kazakh hospital records.

D6: a doubt before a comma («Полинейропатия не исключена, рекомендовано повторное исследование.») was read as the
clause-final denial «исключена ,»: the mandatory polyneuropathy went absent and a possible POEMS patient `not_met`."""

from __future__ import annotations

import pytest

from tests.mapping.test_text_probe105_history import _read


# D6: "X не исключен(а/о/ы), ..." and its kin are doubts whatever follows the comma
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Полинейропатия не исключена, рекомендовано повторное исследование.", {"polyneuropathy": "possible"}),
        ("ЭНМГ: полинейропатия не исключена, рекомендовано повторное исследование через 3 мес.",
         {"polyneuropathy": "possible"}),
        ("Наличие полинейропатии не исключено, показана повторная ЭНМГ.", {"polyneuropathy": "possible"}),
        ("Полинейропатия не исключена, признаков миопатии нет.", {"polyneuropathy": "possible"}),
        ("Полинейропатия не может быть исключена, рекомендовано повторное исследование.",
         {"polyneuropathy": "possible"}),
        ("Болезнь Кастлемана не исключена, рекомендовано иммуногистохимическое исследование.",
         {"castleman_disease": "possible"}),
        ("Спленомегалия не исключена, рекомендовано КТ.", {"splenomegaly": "possible"}),
        # controls: a denial before a comma denies its own clause (read alike before the fix)
        ("Полинейропатия исключена, рекомендовано наблюдение.", {"polyneuropathy": "negated"}),
        ("Болезнь Кастлемана не подтвердилась, рекомендовано наблюдение.", {"castleman_disease": "negated"}),
        ("Болезнь Кастлемана не подтверждена, рекомендовано наблюдение.", {"castleman_disease": "negated"}),
        ("Лимфома исключена, болезнь Кастлемана.", {"castleman_disease": "present"}),
        ("Polyneuropathy cannot be excluded, repeat study advised.", {"polyneuropathy": "possible"}),
        ("Полинейропатия не исключена.", {"polyneuropathy": "possible"}),
        ("Полинейропатия жоққа шығарылмайды, қайта зерттеу ұсынылады.", {"polyneuropathy": "possible"}),
    ],
)  # fmt: skip
def test_fix123d_a_doubt_before_a_comma_stays_a_doubt(mapping, text, expected):
    assert _read(mapping, text) == expected


# D6: "подтверждена," alone was read as the denial "не подтверждена," (its "не" was optional): a confirmation
@pytest.mark.parametrize(
    "text",
    [
        "Болезнь Кастлемана подтверждена, рекомендовано наблюдение гематолога.",
        "Диагноз болезни Кастлемана подтвердился, рекомендована консультация гематолога.",
    ],
)
def test_fix123d_a_confirmation_before_a_comma_is_no_denial(mapping, text):
    assert _read(mapping, text) == {"castleman_disease": "present"}
