"""Generate the clinical-text sample bundles (run: python sample_bundles/text-encodings/generate.py).

Two constructed teaching examples (not real patients) whose key facts are only in text:

- ``clone-free-cidp-negated-text.json``: a CIDP patient with no clone. Every report names the POEMS
  findings only to deny them ("no evidence of plasma cell neoplasm", "no sclerotic lesions",
  "Castleman disease excluded", "negative for IgG kappa"), the letter asks a question ("to rule out
  POEMS") and mentions a relative's myeloma. None of this may count: the patient must not be `met`.
- ``poems-russian-text.json``: a POEMS patient documented in Russian report text (conclusion,
  text/plain presentedForm, uncoded problem-list text) plus a Kazakh note: must be `met`.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"


def entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"https://ehr.example.org/fhir/{resource['resourceType']}/{resource['id']}",
            "resource": resource}


def report(rid: str, pid: str, date: str, code_text: str, category: str, conclusion: str | None = None,
           text_form: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "DiagnosticReport", "id": rid, "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": category}]}],
        "code": {"text": code_text}, "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": date, "issued": f"{date}T16:00:00Z",
    }
    if conclusion:
        r["conclusion"] = conclusion
    if text_form:
        r["presentedForm"] = [{"contentType": "text/plain; charset=utf-8", "language": "ru",
                               "data": base64.b64encode(text_form.encode("utf-8")).decode("ascii")}]
    return r


def observation(rid: str, pid: str, date: str, code: dict[str, Any], **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final", "code": code,
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": date, **value}


def patient(pid: str, gender: str, birth: str, family: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth,
            "name": [{"family": family, "given": ["Text"]}]}


def clone_free_cidp() -> dict[str, Any]:
    pid = "text-mimic-cidp"
    resources = [
        patient(pid, "male", "1962-05-03", "Negated"),
        {"resourceType": "Condition", "id": "tm-cidp", "subject": {"reference": f"Patient/{pid}"},
         "verificationStatus": {"coding": [{"system": VER, "code": "confirmed"}]},
         "code": {"coding": [{"system": ICD10CM, "code": "G61.81",
                              "display": "Chronic inflammatory demyelinating polyneuritis"}]},
         "onsetDateTime": "2023-09-01", "recordedDate": "2023-10-02"},
        report("tm-ncs", pid, "2023-09-20", "Nerve conduction studies and EMG", "NRS",
               "Symmetric demyelinating sensorimotor polyneuropathy with conduction block in both "
               "peroneal nerves; the pattern is most in keeping with CIDP."),
        observation("tm-ife", pid, "2023-10-05",
                    {"coding": [{"system": LOINC, "code": "25700-6"}], "text": "Serum immunofixation"},
                    valueString="Negative for IgG kappa. No monoclonal band detected."),
        report("tm-marrow", pid, "2023-10-12", "Bone marrow trephine biopsy - histology", "SP",
               "Normocellular marrow with trilineage haematopoiesis. Plasma cells 3%, polytypic on "
               "kappa/lambda in situ hybridisation. No evidence of plasma cell neoplasm."),
        report("tm-ct", pid, "2023-10-10", "CT chest, abdomen and pelvis", "RAD",
               "No sclerotic or lytic bone lesions. No lymphadenopathy; spleen normal in size. "
               "No ascites or pleural effusion."),
        report("tm-node", pid, "2023-10-20", "Inguinal lymph node excision biopsy - histology", "SP",
               "Reactive follicular hyperplasia. Castleman disease excluded."),
        observation("tm-vegf", pid, "2023-10-05",
                    {"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF-A, EDTA plasma"},
                    valueQuantity={"value": 96, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"}),
        observation("tm-letter", pid, "2023-10-25", {"text": "Neurology clinic letter"},
                    valueString="Referred to rule out POEMS syndrome. His mother had multiple myeloma. "
                                "No skin hyperpigmentation, no papilloedema.",
                    note=[{"text": "Plan: repeat immunofixation in 6 months to look for a paraprotein."}]),
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [entry(r) for r in resources]}


def poems_russian() -> dict[str, Any]:
    pid = "text-poems-ru"
    ct_text = ("КТ костей скелета от 14.03.2024.\nЗаключение: множественные склеротические очаги в костях таза "
               "и в телах позвонков Th8, L2, наибольший 18 мм. Спленомегалия: селезенка 15 х 6 см. "
               "Асцита нет. Свободной жидкости в плевральных полостях не выявлено.")
    resources = [
        patient(pid, "female", "1971-11-20", "Russian"),
        report("tr-enmg", pid, "2024-03-01", "Электронейромиография (ЭНМГ)", "NRS",
               "Демиелинизирующая сенсомоторная полинейропатия нижних конечностей с вторичным "
               "аксональным поражением."),
        observation("tr-ife", pid, "2024-03-05",
                    {"coding": [{"system": LOINC, "code": "25700-6"}], "text": "Иммунофиксация сыворотки"},
                    valueString="Выявлен моноклональный белок IgA лямбда"),
        report("tr-ct", pid, "2024-03-14", "КТ костей скелета", "RAD", text_form=ct_text),
        observation("tr-vegf", pid, "2024-03-05",
                    {"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF-A, plasma (EDTA)"},
                    valueQuantity={"value": 820, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"}),
        {"resourceType": "Condition", "id": "tr-skin", "subject": {"reference": f"Patient/{pid}"},
         "verificationStatus": {"coding": [{"system": VER, "code": "confirmed"}]},
         "code": {"text": "Гиперпигментация кожи туловища, гипертрихоз"}, "recordedDate": "2024-03-01"},
        observation("tr-exam", pid, "2024-03-01", {"text": "Қарау (осмотр)"},
                    valueString="Аяқтың ісінуі анықталды. Папиллоэдема жоқ."),
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [entry(r) for r in resources]}


def main() -> None:
    for name, bundle in (("clone-free-cidp-negated-text.json", clone_free_cidp()),
                         ("poems-russian-text.json", poems_russian())):
        (HERE / name).write_text(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
