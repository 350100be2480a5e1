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


CD = "castleman_disease"
PN = "polyneuropathy"


# D8: the referrer's clinical details - every sentence of them - are not the CT's own finding
def test_the_clinical_details_section_is_not_the_studys_finding(mapping):
    text = (
        "CLINICAL DETAILS:\nPOEMS syndrome. Known sclerotic lesions on PET 2022.\n\nFINDINGS:\n"
        "No sclerotic lesions are seen on this study.\n\nIMPRESSION:\nNo sclerotic bone lesions demonstrated."
    )
    findings = _findings(run(mapping, report("CT chest, abdomen and pelvis with contrast", text)), SCL)
    assert {(f.state, f.strength) for f in findings} == {(State.ABSENT, Strength.STRONG)}


# D11: a question on the request or clinical line is what the report answers, not a doubt beside its answer
@pytest.mark.parametrize(
    ("name", "category", "text", "topic"),
    [
        (
            "Excision biopsy, left axillary lymph node - histology",
            "PAT",
            "Clinical: ?POEMS ?Castleman.\n\nDiagnosis:\nReactive follicular hyperplasia. No features of Castleman disease.",
            CD,
        ),
        (
            "Гистологическое исследование биоптата лимфатического узла",
            "PAT",
            "Клинический диагноз: POEMS-синдром? Болезнь Кастлемана?\n\nЗаключение: реактивная фолликулярная "
            "гиперплазия, признаков болезни Кастлемана нет.",
            CD,
        ),
        (
            "CT chest, abdomen and pelvis",
            "RAD",
            "CLINICAL DETAILS: POEMS? Sclerotic lesions?\n\nFINDINGS: No sclerotic bone lesions.",
            SCL,
        ),
        (
            "CT chest, abdomen and pelvis",
            "RAD",
            "HISTORY:\nPOEMS syndrome. Sclerotic lesion in L2 on PET 2022.\n\nFINDINGS: No sclerotic bone lesions.",
            SCL,
        ),
    ],
)
def test_the_referrers_question_leaves_the_reports_answer(mapping, name, category, text, topic):
    findings = _findings(run(mapping, report(name, text, category=category)), topic)
    assert [f.state for f in findings] == [State.ABSENT]


def test_a_history_heading_in_a_nerve_conduction_report_is_the_referrers(mapping):
    text = (
        "History: numb feet for a year. ?PNP ?CIDP ?POEMS.\n\n"
        "Conclusion: No electrophysiological evidence of a large-fibre polyneuropathy."
    )
    findings = _findings(run(mapping, report("Nerve conduction studies and EMG", text, category="OTH")), PN)
    assert [f.state for f in findings] == [State.ABSENT]


# a letter's "History:" is the patient's own history: still read (historical), never the referrer's question
def test_a_letters_history_section_stays_the_patients(mapping):
    text = "History:\nAscites requiring paracentesis in 2019.\n\nPlan: review in clinic."
    findings = _findings(
        run(mapping, report("Haematology clinic letter", text, category="OTH")), "extravascular_volume_overload"
    )
    assert findings and all(f.state is not State.ABSENT for f in findings)
