# SPDX-License-Identifier: Apache-2.0
"""fix132j: clinical-text gaps left by the fixers' time boxes (README "Known limitations", probe132 D6 and items 5, 6).

The single-sentence controls (similar-looking inputs that keep their reading) are in
tests/mapping/text_corpus/{en,ru,kk}.yaml."""

import pytest

from poems_fhir.mapping.rules import load_mapping

MAPPING = load_mapping()


def _labels(text: str) -> list[tuple[str, str]]:
    return sorted({(a.target, a.label) for a in MAPPING.text.assert_texts([text])[0]})


_NODE = "FINAL DIAGNOSIS: Reactive lymph node; no evidence of Castleman disease.\nCOMMENT: "
_RU = "Реактивный лимфоузел, данных за болезнь Кастлемана нет. "


# D6: in a text that denies a diagnosis, "X was considered" is the reasoning behind the denial - absent
@pytest.mark.parametrize(
    "text",
    [
        _NODE + "Castleman disease was considered given the clinical history.",
        _NODE + "The differential diagnosis of Castleman disease was considered, but regressed germinal centers and "
        "hyalinized vessels are not present.",
        "Reactive lymph node; no evidence of Castleman disease. Castleman disease was entertained.",
        _RU + "Болезнь Кастлемана рассматривалась с учетом клиники.",
        _RU + "Проводился дифференциальный диагноз с болезнью Кастлемана.",
        _RU + "Дифференциальный диагноз с болезнью Кастлемана проводился.",
        "Реактивті лимфа түйіні, Кастлеман ауруы анықталмады. Кастлеман ауруы қарастырылды.",  # UNVERIFIED Kazakh
    ],
)
def test_weighed_then_denied_is_absent(text: str) -> None:
    assert _labels(text) == [("castleman_disease", "negated")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # alone, the weighing is a doubt (no denial in the text)
        ("Castleman disease is considered.", [("castleman_disease", "possible")]),
        ("Castleman disease was considered.", [("castleman_disease", "possible")]),
        ("Болезнь Кастлемана рассматривалась.", [("castleman_disease", "possible")]),
        # a present-tense doubt beside a denial stays a doubt
        (
            "No evidence of Castleman disease. Castleman disease is considered.",
            [("castleman_disease", "negated"), ("castleman_disease", "possible")],
        ),
        # another doubt in the weighing sentence is a doubt still
        (
            "No evidence of Castleman disease on this core. Lymphoma was considered; Castleman disease cannot be "
            "excluded.",
            [("castleman_disease", "negated"), ("castleman_disease", "possible")],
        ),
        # "regarded as" is a verdict
        ("Изменения рассматриваются как болезнь Кастлемана.", [("castleman_disease", "present")]),
    ],
)
def test_weighing_controls(text: str, expected: list[tuple[str, str]]) -> None:
    assert _labels(text) == expected
