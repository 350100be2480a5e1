"""Generate the result-encoding sample bundles (run: python sample_bundles/encodings/make.py).

Constructed teaching examples (not real patients) of records as hospitals send them (issue #8):
results without a number, comparators and decimal commas, lab unit spellings, local codes
known only by their display, ICD-10 under national system identifiers, organ parts recorded
separately, and a refutation resting on a plain radiograph. tests/test_encoding_samples.py
asserts their conclusions.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"
MKB10_RU = "urn:oid:1.2.643.5.1.13.13.11.1005"  # Russia, NSI MKB-10 (UNVERIFIED in the mapping)
ICD10_OID = "urn:oid:2.16.840.1.113883.6.3"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
V2_0078 = "http://terminology.hl7.org/CodeSystem/v2-0078"
RU_LAB = "urn:oid:1.2.643.5.1.13.3.25.77.1.1.100"  # a hospital LIS code system (made up for the example)
US_LAB = "https://lab.example-health.org/codes"


def patient(pid: str, gender: str, birth: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth}


def obs(oid: str, pid: str, code: dict[str, Any], when: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": oid, "status": "final", "code": code,
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when, **value}


def cond(cid: str, pid: str, system: str, code: str, display: str, when: str, verification: str = "confirmed",
         **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
            "verificationStatus": {"coding": [{"system": VER, "code": verification}]},
            "recordedDate": when, **extra}


def report(rid: str, pid: str, text: str, when: str, conclusion: str) -> dict[str, Any]:
    return {"resourceType": "DiagnosticReport", "id": rid, "status": "final", "code": {"text": text},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when, "conclusion": conclusion}


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": f"urn:example:{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}


def russian_hospital() -> dict[str, Any]:
    """A Russian hospital record: MKB-10 under the NSI OID, LIS codes with Russian names,
    values as text with decimal commas and Russian units."""
    p = "enc-ru-1"
    d = "2023-03-14"
    return bundle([
        patient(p, "male", "1968-05-02"),
        cond("ru-pnp", p, MKB10_RU, "G62.8", "Другие уточненные полинейропатии", d),
        cond("ru-spleen", p, MKB10_RU, "R16.1", "Спленомегалия", d),
        cond("ru-liver", p, MKB10_RU, "R16.0", "Гепатомегалия", d, "refuted"),
        cond("ru-ascites", p, MKB10_RU, "R18", "Асцит", d),
        obs("ru-ife", p, {"coding": [{"system": RU_LAB, "code": "IFE-S",
                                       "display": "Иммунофиксация белков сыворотки крови"}]}, d,
            valueString="IgA лямбда"),
        obs("ru-vegf", p, {"coding": [{"system": RU_LAB, "code": "VEGF",
                                        "display": "Фактор роста эндотелия сосудов (VEGF-A), сыворотка"}]}, d,
            valueString="1 640 пг/мл"),
        obs("ru-plt", p, {"coding": [{"system": LOINC, "code": "777-3"}], "text": "Тромбоциты"}, d,
            valueQuantity={"value": 467, "unit": "х10^9/л"}),
        obs("ru-hb", p, {"coding": [{"system": LOINC, "code": "718-7"}], "text": "Гемоглобин"}, d,
            valueString="148 г/л"),
        obs("ru-testo", p, {"coding": [{"system": LOINC, "code": "2986-8"}], "text": "Тестостерон общий"}, d,
            valueString="снижен"),
    ])


def abstracted_letter() -> dict[str, Any]:
    """A record abstracted from clinic letters: results without numbers, a diabetic
    polyneuropathy code, an organ recorded as not enlarged, a refutation on plain X-ray."""
    p = "enc-letter-1"
    d = "2022-09-01"
    return bundle([
        patient(p, "female", "1959-11-20"),
        cond("lt-dpn", p, ICD10CM, "E11.42", "Type 2 diabetes mellitus with diabetic polyneuropathy", d),
        cond("lt-liver", p, ICD10_OID, "R16.0", "Hepatomegaly", d),
        cond("lt-spleen", p, ICD10_OID, "R16.1", "Splenomegaly", "2022-10-01", "refuted"),
        report("lt-xr", p, "Skeletal survey (plain radiographs)", d, "Skeletal survey reviewed."),
        cond("lt-scl", p, ICD10CM, "M85.80", "Sclerotic bone lesions", "2022-09-02", "refuted",
             evidence=[{"detail": [{"reference": "DiagnosticReport/lt-xr"}]}]),
        obs("lt-mprot", p, {"coding": [{"system": LOINC, "code": "33358-3"}]}, d, valueString="Detected"),
        obs("lt-vegf", p, {"text": "VEGF (send-out)"}, d, valueString="High"),
        obs("lt-plt", p, {"coding": [{"system": US_LAB, "code": "PLT", "display": "Platelet count"}]}, d,
            interpretation=[{"coding": [{"system": V2_0078, "code": "H"}]}]),
    ])


def us_vendor_units() -> dict[str, Any]:
    """A US lab feed: K/uL platelets, mg/dl and pg/ml spellings, a censored VEGF, an IFE
    known only by code.text."""
    p = "enc-us-1"
    d = "2024-02-10"
    return bundle([
        patient(p, "male", "1975-01-09"),
        cond("us-pnp", p, ICD10CM, "G62.89", "Other specified polyneuropathies", d),
        obs("us-ife", p, {"text": "IFE SERUM"}, d, valueString="IgG LAMBDA"),
        obs("us-vegf", p, {"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF, plasma"}, d,
            valueQuantity={"value": 2000, "comparator": ">", "unit": "pg/ml"}),
        obs("us-plt", p, {"coding": [{"system": LOINC, "code": "777-3"}]}, d,
            valueQuantity={"value": 512, "unit": "K/uL"}),
        obs("us-flc", p, {"coding": [{"system": LOINC, "code": "36916-5"}]}, d,
            valueQuantity={"value": 1.9, "unit": "mg/dl"}),
    ])


if __name__ == "__main__":
    for name, doc in (("russian-hospital.json", russian_hospital()), ("abstracted-letter.json", abstracted_letter()),
                      ("us-vendor-units.json", us_vendor_units())):
        (HERE / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
