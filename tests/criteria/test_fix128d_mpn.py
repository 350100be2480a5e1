"""probe128 D8: a recorded myeloproliferative neoplasm (criteria.md §7: a mimic that "must NOT be labelled
POEMS", JAK2/CALR/MPL work-up) was not read at all - a JAK2+ essential thrombocythaemia (D47.3) with an
IgG-kappa MGUS, platelets 850, a serum VEGF of 1400 (platelet-released, §4) and a diabetic polyneuropathy
came out `met` with no flag and the POEMS treatment proposed. Now the MPN is flagged, and a `met` beside it
is not labelled POEMS (as beside a recorded myeloma or AL amyloidosis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.pipeline import evaluate_record
from poems_fhir.report.json_report import patient_to_dict
from tests.conftest import make_record

FLAG = "differential_myeloproliferative_neoplasm"
POEMS_STEPS = {"branch", "transplant-eligibility"}
CM = "http://hl7.org/fhir/sid/icd-10-cm"
WHO = "http://hl7.org/fhir/sid/icd-10"
SCT = "http://snomed.info/sct"


def _condition(rid: str, text: str, coding: list[dict[str, str]] | None = None) -> dict[str, Any]:
    code: dict[str, Any] = {"text": text}
    if coding:
        code["coding"] = coding
    return {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": code,
        "subject": {"reference": "Patient/p1"},
        "recordedDate": "2020-06-01",
    }


def _obs(rid: str, loinc: str, text: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}], "text": text},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2020-12-01",
        **value,
    }


def _m19(*mpn: dict[str, Any]) -> list[dict[str, Any]]:
    """probe128's m19 without its MPN: a clone, a polyneuropathy, thrombocytosis, a high serum VEGF and
    splenomegaly - the rule's `met`."""
    return [
        *mpn,
        _condition(
            "dpn",
            "Type 2 diabetes mellitus with diabetic polyneuropathy",
            [{"system": CM, "code": "E11.42", "display": "Type 2 diabetes mellitus with diabetic polyneuropathy"}],
        ),
        _obs("ife", "25700-6", "Serum immunofixation", valueString="IgG kappa"),
        _obs("plt", "777-3", "Platelets", valueQuantity={"value": 850, "unit": "10*9/L"}),
        _obs("vegf", "75628-8", "VEGF, serum", valueQuantity={"value": 1400, "unit": "pg/mL"}),
        _condition("spleen", "Splenomegaly", [{"system": CM, "code": "R16.1", "display": "Splenomegaly"}]),
    ]


def _evaluate(mapping, resources: list[dict[str, Any]]):
    result = evaluate_record(make_record(*resources), mapping, MAYO, dt.date(2021, 1, 31))
    out = patient_to_dict(result.assessment, result.response, result.risk, result.scope)
    return result, out


@pytest.mark.parametrize(
    ("text", "coding"),
    [
        (
            "JAK2 V617F-positive essential thrombocythaemia",
            [{"system": CM, "code": "D47.3", "display": "Essential (hemorrhagic) thrombocythemia"}],
        ),
        ("Polycythaemia vera", [{"system": WHO, "code": "D45", "display": "Polycythaemia vera"}]),
        ("Primary myelofibrosis", [{"system": CM, "code": "D47.4", "display": "Osteomyelofibrosis"}]),
        ("Chronic myeloproliferative disease", [{"system": CM, "code": "D47.1"}]),
        ("Myelofibrosis", [{"system": CM, "code": "D75.81", "display": "Myelofibrosis"}]),
        ("Essential thrombocythemia", [{"system": SCT, "code": "109994006"}]),
        # uncoded: the words alone
        ("JAK2 V617F-positive essential thrombocythaemia", None),
        ("Myeloproliferative neoplasm, JAK2-positive", None),
        ("Эссенциальная тромбоцитемия, JAK2 V617F положительная", None),
        ("Истинная полицитемия", None),
        ("Первичный миелофиброз", None),
        ("Эссенциалды тромбоцитемия", None),  # Kazakh, UNVERIFIED
    ],
)
def test_a_recorded_mpn_is_flagged_and_the_met_beside_it_is_not_labelled_poems(mapping, text, coding):
    result, out = _evaluate(mapping, _m19(_condition("mpn", text, coding)))
    assert out["classification"] == "met"  # the rule's own answer stays visible
    flags = {f["code"]: f for f in out["flags"]}
    assert FLAG in flags
    assert "serum VEGF" in flags[FLAG]["message"] and "thrombocytosis" in flags[FLAG]["message"]
    assert out["not_labelled_poems"] == ["Condition/mpn"]
    assert not POEMS_STEPS & {s.id for s in result.steps}  # no POEMS treatment proposed


@pytest.mark.parametrize(
    "text",
    [
        "Thrombocytosis",  # reactive or POEMS' own: MIN-6, no MPN
        "Secondary polycythaemia",
        "JAK2 V617F negative",
        "No myeloproliferative neoplasm",
        "Миелопролиферативное заболевание исключено",
        "Bone marrow: mild myelofibrosis (MF-1), plasma cells 4 %",  # a fibre grade, which a POEMS marrow may show
    ],
)
def test_controls_raise_no_mpn_flag_and_keep_the_poems_label(mapping, text):
    result, out = _evaluate(mapping, _m19(_condition("other", text)))
    assert out["classification"] == "met"
    assert FLAG not in {f["code"] for f in out["flags"]}
    assert out["not_labelled_poems"] == []


def test_a_refuted_mpn_is_no_mpn(mapping):
    mpn = _condition("mpn", "Essential thrombocythaemia", [{"system": CM, "code": "D47.3"}])
    mpn["verificationStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]
    }
    _, out = _evaluate(mapping, _m19(mpn))
    assert FLAG not in {f["code"] for f in out["flags"]}
    assert out["not_labelled_poems"] == []
