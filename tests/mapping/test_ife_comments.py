"""A lab comment in an immunofixation result names isotypes without stating a band (probe86 D7).

A negative serum immunofixation whose text goes on with a routine comment - a recommendation, a request,
a technical note, a reference-range remark, a sensitivity caveat - was read as the bands the comment
names, and a clone-free CIDP patient was `met`.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record, observation

CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
LOINC, SCT, ICD10CM, UCUM = (
    "http://loinc.org",
    "http://snomed.info/sct",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://unitsofmeasure.org",
)

NEGATIVE_WITH_A_COMMENT = [
    # the probe's wordings (probe86 bundles10 z02, z03, z05, z07 - z10)
    "No monoclonal band. Polyclonal increase in gamma region. Free kappa and lambda within reference range.",
    "Negative. Note: free lambda light chains measured separately (see FLC).",
    "Negative. Suggest urine studies for free lambda or kappa light chains.",
    "No monoclonal protein identified. Request was for IgG lambda follow-up.",
    "Negative (sensitivity of IFE approx. 0.1 g/L; small IgA lambda bands may be missed).",
    "No M-protein detected.\nTechnologist: lambda check performed.",
    "Не выявлено. Рекомендовано исследование свободных легких цепей каппа и лямбда.",
    # the same kinds of comment in other words
    "No paraprotein seen. Recommend serum free kappa and lambda light chains if clinically indicated.",
    "Negative. Please consider urine immunofixation for free kappa light chains.",
    "No monoclonal band detected. Clinical details: ?POEMS, query IgA lambda.",
    "Negative. Kappa and lambda staining within normal limits.",
    "Negative. IgA lambda bands below 0.1 g/L may not be detected.",
    "Моноклональный белок не обнаружен. Свободные каппа и лямбда в пределах нормы.",
    "Не выявлено. Свободные легкие цепи лямбда определяются отдельно.",
    "М-градиент не выявлен. Чувствительность метода 0,1 г/л: небольшие полосы IgA лямбда могут быть пропущены.",
    "Парапротеин не обнаружен. Направление: контроль IgG лямбда.",
]


@pytest.mark.parametrize("text", NEGATIVE_WITH_A_COMMENT)
def test_a_comment_after_a_negative_names_no_band(text):
    result = parse_ife(text)
    assert result.negative
    assert (result.bands, result.possible, result.equivocal) == ((), (), False)


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        # a sentence that states its band stays a band, beside a comment or after one
        ("IgA lambda band detected. Suggest bone marrow examination.", [("IgA", "lambda")]),
        ("Suggest urine studies, IgA lambda band detected", [("IgA", "lambda")]),
        ("Negative for IgG. Recommend FLC; IgA lambda band present on repeat", [("IgA", "lambda")]),
        ("IgG kappa. Suggest urine studies for free lambda light chains.", [("IgG", "kappa")]),
        ("Monoclonal IgA, lambda type. Free kappa within reference range.", [("IgA", "lambda")]),
        ("IgA-L", [("IgA", "lambda")]),
        ("Follow-up serum IFE: IgG lambda", [("IgG", "lambda")]),
        ("М-градиент IgG-λ", [("IgG", "lambda")]),
        ("Выявлен М-градиент IgG-λ. Рекомендовано исследование мочи на белок Бенс-Джонса.", [("IgG", "lambda")]),
        ("Моноклональный IgA лямбда. Рекомендовано исследование свободных легких цепей каппа.", [("IgA", "lambda")]),
    ],
)
def test_a_sentence_that_states_a_band_stays_a_band_beside_a_comment(text, bands):
    result = parse_ife(text)
    assert not result.negative
    assert list(result.bands) == [Band(heavy, light) for heavy, light in bands]


def _ife(**value: Any) -> dict[str, Any]:
    return observation("25700-6", "ife", **value)


def _ife_report(conclusion: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "ife-report",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "CH"}]}],
        "code": {"coding": [{"system": LOINC, "code": "25700-6"}], "text": "Serum immunofixation"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "conclusion": conclusion,
    }


@pytest.mark.parametrize("text", NEGATIVE_WITH_A_COMMENT)
def test_a_negative_serum_immunofixation_with_a_comment_is_absent(mapping, text):
    ex = extract(make_record(_ife(valueString=text)), mapping)
    assert ex.errors == []
    assert [(f.state, f.evidence.summary) for f in ex.findings if f.topic == CLONE] == [
        (State.ABSENT, "serum immunofixation negative")
    ]


@pytest.mark.parametrize(
    "conclusion",
    [
        "Serum immunofixation: no monoclonal protein detected. Free kappa and lambda within reference range.",
        "Иммунофиксация сыворотки: моноклональный белок не выявлен. Рекомендовано исследование свободных "
        "легких цепей каппа и лямбда.",
    ],
)
def test_an_immunofixation_report_with_a_comment_in_its_conclusion_is_absent(mapping, conclusion):
    ex = extract(make_record(_ife_report(conclusion)), mapping)
    assert [f.state for f in ex.findings if f.topic == CLONE] == [State.ABSENT]


def _condition(code: str, display: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": code.replace(".", "-"),
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "code": {"coding": [{"system": ICD10CM, "code": code, "display": display}]},
        "onsetDateTime": "2023-12-01",
    }


def _cidp_patient(ife: dict[str, Any]) -> list[dict[str, Any]]:
    """probe86 D7's patient: a recorded CIDP, plasma VEGF 400 pg/mL, oedema and the immunofixation."""
    specimen = {
        "resourceType": "Specimen",
        "id": "plasma",
        "type": {"coding": [{"system": SCT, "code": "119361006", "display": "Plasma specimen"}]},
    }
    vegf = observation(
        "75628-8",
        "vegf",
        valueQuantity={"value": 400, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"},
        specimen={"reference": "Specimen/plasma"},
    )
    return [
        _condition("G61.81", "Chronic inflammatory demyelinating polyneuritis"),
        _condition("R60.0", "Localized edema"),
        specimen,
        vegf,
        ife,
    ]


@pytest.mark.parametrize(
    "ife",
    [
        _ife(valueString=NEGATIVE_WITH_A_COMMENT[0]),
        _ife(valueString=NEGATIVE_WITH_A_COMMENT[6]),
        _ife_report(NEGATIVE_WITH_A_COMMENT[0]),
    ],
)
def test_a_cidp_patient_whose_immunofixation_only_comments_on_light_chains_is_not_met(mapping, ife):
    result = evaluate_record(make_record(*_cidp_patient(ife)), mapping, get_profile("mayo"), None)
    assert result.assessment.classification.value == "not_met"
