# SPDX-License-Identifier: Apache-2.0
"""probe132 D2: a disease's criteria not met, or not enough to establish it, is never the disease.

"Histologic criteria for Castleman disease are not fulfilled.", "The findings are insufficient to establish a
diagnosis of Castleman disease.", "The features fall short of a definitive diagnosis of Castleman disease." and
their Russian and Kazakh forms were read as Castleman disease present, the trigger being after or around the
target. Criteria not met is absent (the pathologist's no); not enough to establish is a doubt."""

import pytest

from poems_fhir.mapping.rules import load_mapping

MAPPING = load_mapping()


def _labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in MAPPING.text.assert_texts([text])[0]:
        out.setdefault(a.target, a.label)
    return out


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Histologic criteria for Castleman disease are not fulfilled.", "castleman_disease"),
        ("The criteria for Castleman disease are not met.", "castleman_disease"),
        ("Castleman disease: criteria not met.", "castleman_disease"),
        ("Castleman disease criteria are not satisfied.", "castleman_disease"),
        ("Multicentric Castleman disease - criteria unmet.", "castleman_disease"),
        ("Although some features overlap, a diagnosis of Castleman disease cannot be made.", "castleman_disease"),
        ("Criteria for hypothyroidism are not met.", "hypothyroidism"),
        ("Критерии болезни Кастлемана не выполнены.", "castleman_disease"),
        ("Гистологические критерии болезни Кастлемана не соблюдены.", "castleman_disease"),
        ("Болезнь Кастлемана: критерии не выполнены.", "castleman_disease"),
        ("Изменения не достигают критериев болезни Кастлемана.", "castleman_disease"),
        ("Диагноз болезни Кастлемана не может быть установлен.", "castleman_disease"),
        ("Кастлеман ауруының критерийлері орындалмаған.", "castleman_disease"),
    ],
)
def test_criteria_not_met_is_absent(text: str, target: str) -> None:
    assert _labels(text)[target] == "negated"


@pytest.mark.parametrize(
    "text",
    [
        "The findings are insufficient to establish a diagnosis of Castleman disease.",
        "The features fall short of a definitive diagnosis of Castleman disease.",
        "These changes stop short of Castleman disease.",
        "Castleman disease is not established.",
        "Изменения недостаточно для установления диагноза болезни Кастлемана.",
        "Морфологическая картина недостаточна для диагноза болезни Кастлемана.",
        "Кастлеман ауруы диагнозын қою үшін деректер жеткіліксіз.",
    ],
)
def test_not_enough_to_establish_is_a_doubt(text: str) -> None:
    assert _labels(text)["castleman_disease"] == "possible"


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        # controls: the criteria met, another disease's criteria not met, another clause's finding
        ("Castleman disease criteria are fulfilled.", "castleman_disease", "present"),
        ("Castleman disease, unicentric hyaline vascular type.", "castleman_disease", "present"),
        ("Polyneuropathy, CIDP criteria not met.", "polyneuropathy", "present"),
        ("Polyneuropathy; criteria for CIDP are not fulfilled.", "polyneuropathy", "present"),
        ("Полинейропатия, критерии ХВДП не выполнены.", "polyneuropathy", "present"),
        ("Болезнь Кастлемана, гиалиново-васкулярный вариант.", "castleman_disease", "present"),
        ("Бүйрек үсті безінің жеткіліксіздігі.", "adrenal_insufficiency", "present"),
    ],
)
def test_controls(text: str, target: str, expected: str) -> None:
    assert _labels(text)[target] == expected
