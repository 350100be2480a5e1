"""fix123d (probe123 D1, D2, D4, D6): clinical text read wrongly in Russian/Kazakh hospital records.

D1, D2: "sclerotic" said of a vessel, a valve, the lung or the brain's white matter (multiple-sclerosis plaques) was a
sclerotic bone lesion («Склеротические изменения стенок брюшной аорты …», "Multiple sclerotic plaques in the
periventricular white matter"), and an MGUS patient with a neuropathy and oedema `met`. D4: a one-word Castleman-like
picture («Кастлеманоподобные изменения») and "features resembling Castleman disease" were the disease itself. D6: a doubt before a comma («Полинейропатия не исключена, рекомендовано повторное исследование.») was read as the
clause-final denial «исключена ,»: the mandatory polyneuropathy went absent and a possible POEMS patient `not_met`."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.profiles import get_profile
from poems_fhir.pipeline import evaluate_record
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.test_text_probe105_history import _read

_SUBJECT = {"reference": "Patient/p1"}


def _report(rid: str, name: str, category: str, text: str, date: str = "2024-03-09") -> dict[str, Any]:
    """A final DiagnosticReport named in words only (a hospital EHR's local report), its text as the conclusion."""
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": category}]}],
        "code": {"text": name},
        "subject": _SUBJECT,
        "effectiveDateTime": date,
        "conclusion": text,
    }


def _patient(*reports: dict[str, Any], neuropathy: bool = True) -> list[dict[str, Any]]:
    """probe123's MGUS patient: an IgG lambda immunofixation and leg oedema (a minor criterion), with an ENMG
    report of a demyelinating polyneuropathy unless ``neuropathy`` is False (the report under test says it)."""
    enmg = _report(
        "enmg", "Электронейромиография", "NRS", "Сенсомоторная демиелинизирующая полинейропатия.", "2024-03-01"
    )
    return [
        *([enmg] if neuropathy else []),
        {
            "resourceType": "Observation",
            "id": "ife",
            "status": "final",
            "subject": _SUBJECT,
            "effectiveDateTime": "2024-03-05",
            "code": {"coding": [{"system": "http://loinc.org", "code": "25700-6"}]},
            "valueString": "IgG лямбда",
        },
        {
            "resourceType": "Condition",
            "id": "oedema",
            "subject": _SUBJECT,
            "recordedDate": "2024-03-01",
            "code": {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "R60.0"}],
                "text": "Отеки голеней",
            },
            "verificationStatus": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
                ]
            },
        },
        *reports,
    ]


def _evaluated(resources: list[dict[str, Any]], mapping) -> tuple[str, dict[str, str]]:
    result = evaluate_record(make_record(*resources), mapping, get_profile("mayo"), None)
    states = {str(getattr(c, "value", c)): r.state.value for c, r in result.assessment.criteria.items()}
    return result.assessment.classification.value, states


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


# D4: a Castleman-like picture is at most possible, never the disease itself (only histology establishes it)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Кастлеманоподобные изменения при IgG4-связанном заболевании.", {"castleman_disease": "possible"}),
        ("Кастлеманоподобная гиперплазия лимфоузла.", {"castleman_disease": "possible"}),
        ("Лимфоузел с кастлеманоподобными изменениями.", {"castleman_disease": "possible"}),
        ("Изменения, подобные болезни Кастлемана.", {"castleman_disease": "possible"}),
        ("Изменения, подобные таковым при болезни Кастлемана.", {"castleman_disease": "possible"}),
        ("Изменения по типу болезни Кастлемана.", {"castleman_disease": "possible"}),
        ("Features resembling Castleman disease.", {"castleman_disease": "possible"}),
        ("Features resembling the hyaline-vascular variant of Castleman disease.", {"castleman_disease": "possible"}),
        ("Findings similar to Castleman disease.", {"castleman_disease": "possible"}),
        ("Castleman's disease-like changes.", {"castleman_disease": "possible"}),
        ("Кастлеман ауруына ұқсас өзгерістер.", {"castleman_disease": "possible"}),
        # controls, read alike before the fix: the forms already doubted, and the disease itself
        ("Castleman-like changes in the lymph node.", {"castleman_disease": "possible"}),
        ("Castleman disease-like features.", {"castleman_disease": "possible"}),
        ("Кастлеман-подобные изменения.", {"castleman_disease": "possible"}),
        ("Болезнь Кастлемана, гиалиново-васкулярный вариант.", {"castleman_disease": "present"}),
        ("Болезнь Кастлемана, подобные изменения в других лимфоузлах.", {"castleman_disease": "present"}),
        ("Hyaline-vascular Castleman disease.", {"castleman_disease": "present"}),
        ("Castleman's disease, plasma cell variant.", {"castleman_disease": "present"}),
        ("Кастлеман ауруы, гиалинді-тамырлы нұсқа.", {"castleman_disease": "present"}),
        ("Изменения по типу сенсомоторной полинейропатии.", {"polyneuropathy": "present"}),
    ],
)  # fmt: skip
def test_fix123d_a_castleman_like_picture_is_no_castleman_disease(mapping, text, expected):
    assert _read(mapping, text) == expected


# D4 at the patient: an IgG4-related disease with a Castleman-like node and an MGUS was `met`
def test_fix123d_a_castleman_like_node_does_not_make_the_patient_met(mapping):
    node = _report(
        "node", "Биопсия шейного лимфоузла", "PAT", "Кастлеманоподобные изменения при IgG4-связанном заболевании."
    )
    classification, states = _evaluated(_patient(node), mapping)
    assert states["castleman_disease"] == "indeterminate"
    assert classification == "indeterminate"


# D6 at the patient: the doubted polyneuropathy was absent, and the patient `not_met` (excluded)
def test_fix123d_a_doubted_polyneuropathy_does_not_exclude_the_patient(mapping):
    enmg = _report(
        "enmg2",
        "Электронейромиография",
        "NRS",
        "ЭНМГ: полинейропатия не исключена, рекомендовано повторное исследование через 3 мес.",
    )
    classification, states = _evaluated(_patient(enmg, neuropathy=False), mapping)
    assert states["polyneuropathy"] == "indeterminate"
    assert classification == "indeterminate"


def _sclerotic(
    mapping, text: str, name: str = "МСКТ органов грудной клетки, брюшной полости и малого таза"
) -> set[str]:
    """The states of the sclerotic-bone-lesion findings an imaging report's conclusion gives."""
    found = extract(make_record(_report("ct", name, "RAD", text)), mapping).findings
    return {f.state.value for f in found if f.topic == "sclerotic_bone_lesions"}


# D1, D2: sclerosis of something that is no bone says nothing of the bones, stated or denied
@pytest.mark.parametrize(
    "text",
    [
        "Склеротические изменения стенок брюшной аорты и подвздошных артерий.",
        "Склеротические изменения стенок аорты и коронарных артерий.",
        "Sclerotic changes of the aortic wall and coronary arteries.",
        "Sclerotic changes of the pelvic arteries.",
        "Аорта: склеротические изменения стенок.",
        "Склеротические изменения створок аортального клапана.",
        "Участки пневмофиброза и склеротические изменения в S6 правого легкого.",
        "Sclerotic changes in the right lower lobe of the lung.",
        "Multiple sclerotic plaques in the periventricular white matter consistent with multiple sclerosis.",
        "Множественные склеротические бляшки в перивентрикулярном и юкстакортикальном белом веществе обоих полушарий "
        "(рассеянный склероз), без активных очагов.",
        "Склеротические очаги в белом веществе головного мозга.",
        "Multiple sclerotic foci, consistent with multiple sclerosis.",
        "No sclerotic changes of the aortic valve.",
        "Склероздық өзгерістер қолқа қабырғасында.",
    ],
)
def test_fix123d_sclerosis_of_no_bone_is_no_sclerotic_bone_lesion(mapping, text):
    assert _sclerotic(mapping, text) == set()


# D1, D2 controls (read alike before the fix): a bone named nearer, or no structure named, stays a bone lesion
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Multiple sclerotic lesions.", {"present"}),
        ("Multiple sclerotic lesions, aortic calcification.", {"present"}),
        ("Lung nodules and multiple sclerotic lesions.", {"present"}),
        ("Sclerotic lesion in the T10 vertebral body adjacent to the aorta.", {"present"}),
        ("Multiple sclerotic lesions in the pelvis and spine; aortic atherosclerosis.", {"present"}),
        ("Склеротический очаг в теле позвонка Th10.", {"present"}),
        ("Склеротические изменения в крыле подвздошной кости.", {"present"}),
        ("Остеосклеротические очаги в костях таза, атеросклероз аорты.", {"present"}),
        ("Сүйектерде склероздық ошақтар.", {"present"}),
        ("Нет склеротических очагов в костях.", {"absent"}),
        ("Склеротические изменения стенок аорты. Очаговых изменений костей не выявлено.", {"absent"}),
    ],
)  # fmt: skip
def test_fix123d_a_bone_lesion_near_a_vessel_still_counts(mapping, text, expected):
    assert _sclerotic(mapping, text) == expected


# D1, D2 at the patient: an MGUS with a neuropathy and oedema was `met` from the vessel or the MS plaque
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("КТ органов брюшной полости", "Склеротические изменения стенок брюшной аорты и подвздошных артерий."),
        ("CT chest, abdomen and pelvis", "Sclerotic changes of the aortic wall and coronary arteries."),
        ("МРТ головного мозга", "Multiple sclerotic plaques in the periventricular white matter consistent with multiple "
         "sclerosis."),
    ],
)  # fmt: skip
def test_fix123d_a_vessel_or_an_ms_plaque_does_not_make_the_patient_met(mapping, name, text):
    classification, states = _evaluated(_patient(_report("ct", name, "RAD", text)), mapping)
    assert states["sclerotic_bone_lesions"] == "not_assessed"
    assert classification == "indeterminate"
