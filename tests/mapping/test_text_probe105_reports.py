"""probe105: a report's referrer section (clinical details, request, history) read as the study's own finding
or its "?" outranking the report's answer (D8, D11), a light chain's negative stain beside a restriction read as
a denial of the clone (D12), and the Kazakh chest-abdomen-pelvis CT taken as a limited field (D14)."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State, Strength
from tests.mapping.test_extract import report, run

SCL = "sclerotic_bone_lesions"


def _findings(ex, topic):
    return [f for f in ex.findings if f.topic == topic]


# D14: «Кеуде, құрсақ және жамбас КТ» (chest, abdomen and pelvis) is whole-trunk imaging, as the English and
# Russian names are; its «кеуде» (chest) had made it a limited field - a low-grade negative
@pytest.mark.parametrize(
    "name",
    [
        "Кеуде, құрсақ және жамбас КТ",
        "Кеуде қуысы, іш қуысы және кіші жамбас КТ",
        "КТ ОГК, ОБП и ОМТ",
        "CT chest/abdo/pelvis",
    ],
)
def test_a_chest_abdomen_pelvis_ct_in_each_language_is_a_strong_negative(mapping, name):
    (f,) = _findings(run(mapping, report(name, "Склероздық ошақтар анықталмады.", category="RAD")), SCL)
    assert (f.state, f.strength) == (State.ABSENT, Strength.STRONG)


@pytest.mark.parametrize("name", ["Кеуде КТ", "Жамбас сүйектерінің КТ", "Мойын КТ"])
def test_a_kazakh_ct_of_one_region_stays_a_limited_field(mapping, name):
    (f,) = _findings(run(mapping, report(name, "Склероздық ошақтар анықталмады.", category="RAD")), SCL)
    assert (f.state, f.strength) == (State.ABSENT, Strength.WEAK)


CLONE = "monoclonal_plasma_cell_disorder"


# D12: the other light chain's negative stain beside a restriction is the restriction itself, no denial of
# the clone: the marrow report stated the clone twice and was read as contradicting itself (indeterminate)
@pytest.mark.parametrize(
    ("name", "conclusion"),
    [
        (
            "Трепанобиопсия костного мозга - гистологическое исследование",
            "Иммуногистохимическое исследование: CD138+ плазматические клетки 8%, лямбда-рестрикция, каппа "
            "отрицательные.\n\nЗаключение: моноклональная плазмоклеточная инфильтрация костного мозга (лямбда), 8%.",
        ),
        (
            "Bone marrow trephine biopsy",
            "Immunohistochemistry: CD138+ plasma cells 8%, lambda-restricted, kappa negative.\n\n"
            "Conclusion: lambda-restricted plasma cells, 8% of the marrow cellularity.",
        ),
    ],
)
def test_a_negative_stain_for_the_other_light_chain_leaves_the_clone_present(mapping, name, conclusion):
    findings = _findings(run(mapping, report(name, conclusion, category="PAT")), CLONE)
    assert [f.state for f in findings] == [State.PRESENT]


def test_a_denied_restriction_with_its_stains_stays_denied(mapping):
    text = "Лямбда-рестрикция плазматических клеток не выявлена, каппа отрицательные."
    findings = _findings(run(mapping, report("Трепанобиопсия костного мозга", text, category="PAT")), CLONE)
    assert [f.state for f in findings] == [State.ABSENT]
