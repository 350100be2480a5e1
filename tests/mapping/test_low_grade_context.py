# SPDX-License-Identifier: Apache-2.0
"""What makes a normal result low-grade, read from FHIR (criteria.md §6): an acute illness (probe98 D2),
a transfusion or active bleeding (D3) - each a dated span the engine compares with the sample."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.model import ACUTE_ILLNESS, BLEEDING_OR_TRANSFUSION, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record

SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def condition(system: str, code: str, onset: str, rid: str = "c1", **kw: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": "Patient/p1"},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "onsetDateTime": onset,
        **kw,
    }


def procedure(code: dict[str, Any], day: str, rid: str = "tx", **kw: Any) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": rid,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": code,
        "performedDateTime": day,
        **kw,
    }


def lab(loinc: str, value: float, unit: str, day: str, rid: str, low: float, high: float) -> dict[str, Any]:
    q = {"system": "http://unitsofmeasure.org", "unit": unit, "code": unit}
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, **q},
        "referenceRange": [{"low": {"value": low, **q}, "high": {"value": high, **q}}],
    }


def facts(mapping, topic: str, *resources: dict[str, Any]):
    ex = extract(make_record(*resources), mapping)
    assert ex.errors == []
    return [f for f in ex.findings if f.topic == topic]


def test_an_active_pneumonia_with_no_abatement_lasts_the_mapping_window(mapping):
    [f] = facts(mapping, ACUTE_ILLNESS, condition(ICD10CM, "J18.9", "2022-12-28"))
    assert f.state is State.PRESENT and f.effective == dt.date(2022, 12, 28)
    assert f.resolved_on == dt.date(2023, 1, 27)  # lasts_days: 30 (UNVERIFIED, configurable)


def test_a_stated_abatement_decides_the_end(mapping):
    resolved = condition(
        ICD10CM, "J18.9", "2022-12-28", clinicalStatus={"coding": [{"system": STATUS, "code": "resolved"}]},
        abatementDateTime="2023-03-01",
    )  # fmt: skip
    [f] = facts(mapping, ACUTE_ILLNESS, resolved)
    assert f.resolved_on == dt.date(2023, 3, 1)


def test_a_red_cell_transfusion_by_code_or_by_name_weighs_on_haemoglobin_for_its_window(mapping):
    coded = procedure({"coding": [{"system": SCT, "code": "116863004"}]}, "2023-01-05")
    named = procedure({"text": "Transfusion of 2 units packed red blood cells"}, "2023-01-05", rid="tx2")
    for resource in (coded, named):
        [f] = facts(mapping, BLEEDING_OR_TRANSFUSION, resource)
        assert f.component == "polycythemia" and f.effective == dt.date(2023, 1, 5)
        assert f.resolved_on == dt.date(2023, 1, 19)  # lasts_days: 14 (UNVERIFIED)
    [f] = facts(mapping, BLEEDING_OR_TRANSFUSION, procedure({"text": "Platelet transfusion"}, "2023-01-05"))
    assert f.component == "thrombocytosis"


def test_a_transfusion_not_done_or_planned_places_nothing(mapping):
    code = {"coding": [{"system": SCT, "code": "116863004"}]}
    assert facts(mapping, BLEEDING_OR_TRANSFUSION, procedure(code, "2023-01-05", status="not-done")) == []
    assert facts(mapping, BLEEDING_OR_TRANSFUSION, procedure(code, "2023-01-05", status="preparation")) == []


def test_a_blood_count_on_the_day_of_a_transfusion_is_indeterminate_not_absent(mapping):
    resources = [
        lab("777-3", 300, "10*9/L", "2023-01-05", "plt", 150, 400),
        lab("718-7", 140, "g/L", "2023-01-05", "hb", 130, 170),
        procedure({"coding": [{"system": SCT, "code": "116863004"}]}, "2023-01-05"),
    ]
    result = evaluate_record(make_record(*resources), mapping, MAYO, None)
    r = result.assessment.criteria["thrombocytosis_polycythemia"]
    assert r.state is State.INDETERMINATE and "transfusion" in r.reason
    assert "Procedure/tx" in {e.reference for e in r.evidence}
    without = evaluate_record(make_record(*resources[:2]), mapping, MAYO, None)
    assert without.assessment.criteria["thrombocytosis_polycythemia"].state is State.ABSENT


def test_an_abatement_in_words_ends_a_confounder_at_the_end_of_its_year_or_month(mapping):
    """probe100 D12: iron-deficiency anaemia "resolved" with abatementString "2022" still counted at a 2024
    sample (the normal VEGF low-grade, indeterminate); the year's or month's last day ends it."""
    resolved = {"clinicalStatus": {"coding": [{"system": STATUS, "code": "resolved"}]}}
    vegf = lab("75628-8", 80, "pg/mL", "2024-03-01", "v", 0, 96)
    vegf["specimen"] = {"display": "plasma"}
    for said, state in [("2022", State.ABSENT), ("03/2024", State.INDETERMINATE), ("в 2022 г.", State.ABSENT)]:
        ida = condition(ICD10CM, "D50.9", "2019-01-01", abatementString=said, **resolved)
        result = evaluate_record(make_record(vegf, ida), mapping, MAYO, None)
        assert result.assessment.criteria["vegf_elevation"].state is state, said
    # words that name no date leave the end unknown: the confounder still counts (the safe reading)
    ida = condition(ICD10CM, "D50.9", "2019-01-01", abatementString="after iron therapy", **resolved)
    result = evaluate_record(make_record(vegf, ida), mapping, MAYO, None)
    assert result.assessment.criteria["vegf_elevation"].state is State.INDETERMINATE


ICD10 = "http://hl7.org/fhir/sid/icd-10"


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (ICD10CM, "J18.1"),  # lobar pneumonia
        (ICD10CM, "J15.9"),  # bacterial pneumonia
        (ICD10CM, "J12.82"),  # pneumonia due to COVID-19
        (ICD10CM, "J10.1"),  # influenza
        (ICD10CM, "J09.X2"),
        (ICD10CM, "J11.1"),
        (ICD10CM, "A41.89"),  # other specified sepsis
        (ICD10CM, "A40.9"),  # streptococcal sepsis
        (ICD10, "J13"),
        (ICD10, "U07.2"),  # COVID-19, virus not identified (WHO)
        (SCT, "770349000"),  # sepsis caused by virus, as Synthea codes it
    ],
)
def test_the_categories_of_the_listed_acute_illnesses_count(mapping, system, code):
    """probe100 D5: only J18.9, J22, A41.9, U07.1 counted; a lobar pneumonia or an influenza did not."""
    [f] = facts(mapping, ACUTE_ILLNESS, condition(system, code, "2022-12-28"))
    assert f.state is State.PRESENT and f.resolved_on == dt.date(2023, 1, 27)


@pytest.mark.parametrize("code", ["J20.9", "J44.1", "J45.901", "A49.9", "R65.10"])
def test_neighbours_outside_the_categories_are_no_acute_illness(mapping, code):
    assert facts(mapping, ACUTE_ILLNESS, condition(ICD10CM, code, "2022-12-28")) == []


def named(text: str, onset: str = "2024-03-01", rid: str = "c1", **kw: Any) -> dict[str, Any]:
    """An uncoded problem: the clinician's words are all there is."""
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": "Patient/p1"},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": {"text": text},
        "onsetDateTime": onset,
        **kw,
    }


@pytest.mark.parametrize(
    "text", ["Community-acquired pneumonia", "Внебольничная пневмония", "Influenza A", "Грипп", "Sepsis", "COVID-19"]
)
def test_an_acute_illness_named_in_words_lasts_the_mapping_window(mapping, text):
    """probe100 D13: an uncoded "Community-acquired pneumonia" was nothing while an uncoded "COPD" was a
    confounder; read as the coded one is, it lasts `lasts_days` (30) from its onset."""
    [f] = [f for f in facts(mapping, ACUTE_ILLNESS, named(text)) if f.state is State.PRESENT]
    assert f.effective == dt.date(2024, 3, 1) and f.resolved_on == dt.date(2024, 3, 31)


@pytest.mark.parametrize("text", ["Gastrointestinal bleeding", "Желудочно-кишечное кровотечение", "Upper GI bleed"])
def test_a_bleed_named_in_words_lasts_the_mapping_window(mapping, text):
    [f] = [f for f in facts(mapping, BLEEDING_OR_TRANSFUSION, named(text)) if f.state is State.PRESENT]
    assert f.effective == dt.date(2024, 3, 1) and f.resolved_on == dt.date(2024, 3, 8)  # lasts_days: 7


def test_a_stated_abatement_ends_an_illness_named_in_words(mapping):
    resolved = named(
        "Community-acquired pneumonia", clinicalStatus={"coding": [{"system": STATUS, "code": "resolved"}]},
        abatementDateTime="2024-03-04",
    )  # fmt: skip
    [f] = facts(mapping, ACUTE_ILLNESS, resolved)
    assert f.resolved_on == dt.date(2024, 3, 4)


@pytest.mark.parametrize(
    "text", ["Retinal haemorrhage", "Bleeding risk", "Bleeding tendency", "Кровоизлияние в сетчатку", "No pneumonia"]
)
def test_other_words_name_no_acute_illness_nor_bleed(mapping, text):
    ex = extract(make_record(named(text)), mapping)
    assert [
        f for f in ex.findings if f.topic in (ACUTE_ILLNESS, BLEEDING_OR_TRANSFUSION) and f.state is State.PRESENT
    ] == []


def test_only_a_conditions_words_name_an_acute_illness_not_a_report_nor_a_vaccination(mapping):
    """A history-and-physical note of the Synthea kind: "immunizations: influenza" and a pneumonia in the
    history name no illness at the sample (the rule's `report_source: condition`)."""
    note = {
        "resourceType": "DiagnosticReport",
        "id": "hp",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "History and physical note"},
        "effectiveDateTime": "2024-03-01",
        "conclusion": "Patient was given the following immunizations: influenza. Pneumonia. Gastrointestinal bleeding.",
    }
    present = [f for f in facts(mapping, ACUTE_ILLNESS, note) if f.state is State.PRESENT]
    assert present == [] and facts(mapping, BLEEDING_OR_TRANSFUSION, note) == []
    for text in ("Influenza vaccination", "Long COVID", "Post-COVID-19 condition", "Постковидный синдром"):
        assert [f for f in facts(mapping, ACUTE_ILLNESS, named(text)) if f.state is State.PRESENT] == [], text
