"""Generate the sample FHIR R4 bundles (run: python sample_bundles/generate.py).

The bundles are committed; this script documents how they were made and keeps them consistent.
Encodings vary on purpose, as real servers send them: Quantity with UCUM code or only a unit
string, valueString vs valueCodeableConcept, relative / urn:uuid / contained references,
ICD-10-CM vs WHO ICD-10 vs SNOMED CT, collection / searchset / transaction bundles and NDJSON.
Clinical content of the origin case follows shared/clinical/seed_case.md; the other cases are
constructed teaching examples (not real patients).
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"
ICD10, ICD10CM = "http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOCAL_PROC = "https://poems-fhir.org/CodeSystem/local"
COURSE = "https://poems-fhir.org/CodeSystem/clinical-course"
DIRECTION = "https://poems-fhir.org/CodeSystem/course-direction"


def course(oid: str, pid: str, domain: str, when: str, direction: str, text: str) -> dict[str, Any]:
    """A clinician's assessment of the course of one domain (see mappings/default.yaml `course`)."""
    return obs(oid, pid, cc(COURSE, domain, text=f"Course of {domain.replace('-', ' ')}"), when, category="exam",
               valueCodeableConcept=cc(DIRECTION, direction, direction.capitalize(), text))


def cc(system: str | None, code: str | None, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if system:
        coding = {"system": system, "code": code}
        if display:
            coding["display"] = display
        out["coding"] = [coding]
    if text:
        out["text"] = text
    return out


def patient(pid: str, gender: str, birth: str, family: str, given: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth,
            "name": [{"family": family, "given": [given]}],
            "identifier": [{"system": "https://poems-fhir.org/sample-mrn", "value": pid.upper()}]}


def obs(oid: str, pid: str, code: dict[str, Any], when: str, *, category: str = "laboratory",
        updated: str | None = None, **value: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation", "id": oid, "status": value.pop("status", "final"),
        "category": [cc(OBS_CAT, category)], "code": code,
        "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when,
    }
    if updated:
        res["meta"] = {"lastUpdated": updated}
    res.update(value)
    return res


def qty(value: float, unit: str, ucum: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value, "unit": unit}
    if ucum is not None:
        q.update(system=UCUM, code=ucum)
    return q


def rng(low: float | None, high: float | None, unit: str, ucum: str | None = None) -> list[dict[str, Any]]:
    r: dict[str, Any] = {}
    if low is not None:
        r["low"] = qty(low, unit, ucum)
    if high is not None:
        r["high"] = qty(high, unit, ucum)
    return [r]


def cond(cid: str, pid: str, code: dict[str, Any], *, onset: str | None = None, recorded: str,
         verification: str = "confirmed", clinical: str = "active", abatement: str | None = None,
         updated: str | None = None, evidence: list[str] | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Condition", "id": cid,
        "clinicalStatus": cc(CLIN, clinical), "verificationStatus": cc(VER, verification),
        "code": code, "subject": {"reference": f"Patient/{pid}"}, "recordedDate": recorded,
    }
    if verification == "refuted":
        del res["clinicalStatus"]  # FHIR: no clinicalStatus when refuted (con-5)
    if onset:
        res["onsetDateTime"] = onset
    if abatement:
        res["abatementDateTime"] = abatement
    if updated:
        res["meta"] = {"lastUpdated": updated}
    if evidence:
        res["evidence"] = [{"detail": [{"reference": r} for r in evidence]}]
    return res


def report(rid: str, pid: str, code: dict[str, Any], when: str, conclusion: str, *,
           category: str = "RAD", codes: list[dict[str, Any]] | None = None,
           status: str = "final") -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "DiagnosticReport", "id": rid, "status": status,
        "category": [cc(V2_0074, category)], "code": code,
        "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when, "issued": when + "T12:00:00+00:00",
        "conclusion": conclusion,
    }
    if codes:
        res["conclusionCode"] = codes
    return res


def procedure(rid: str, pid: str, code: dict[str, Any], when: str, status: str = "completed") -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": rid, "status": status, "code": code,
            "subject": {"reference": f"Patient/{pid}"}, "performedDateTime": when}


def med(rid: str, pid: str, rxnorm: str, name: str, start: str, end: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement", "id": rid, "status": "completed" if end else "active",
        "medicationCodeableConcept": cc(RXNORM, rxnorm, name, name),
        "subject": {"reference": f"Patient/{pid}"},
        "effectivePeriod": {"start": start, **({"end": end} if end else {})},
    }
    return res


def collection(resources: list[dict[str, Any]], bundle_type: str = "collection") -> dict[str, Any]:
    b: dict[str, Any] = {"resourceType": "Bundle", "type": bundle_type, "entry": []}
    for r in resources:
        entry: dict[str, Any] = {"fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r}
        if bundle_type == "searchset":
            entry["search"] = {"mode": "match"}
        b["entry"].append(entry)
    if bundle_type == "searchset":
        b["total"] = len(resources)
    return b


def write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------- origin case


def origin_case() -> None:
    """The seed case (seed_case.md), one bundle per time point, each adding what became known."""
    p = "poems-origin"
    d = HERE / "origin-case"
    t0 = [
        patient(p, "male", "1962-06-15", "Origin", "Case"),
        cond("oc-pnp", p, {"coding": [{"system": ICD10, "code": "G62.8", "display": "Other specified polyneuropathies"}],
                           "text": "Demyelinating sensorimotor polyneuropathy, lower-limb predominant"},
             onset="2015", recorded="2019-02-11"),
        cond("oc-weightloss", p, cc(ICD10, "R63.4", "Abnormal loss of weight"), onset="2015", recorded="2019-02-11"),
        report("oc-petct", p, cc(None, None, text="PET-CT whole body"), "2018-12-10",
               "Enlarged, tracer-accumulating retroperitoneal and intra-abdominal lymph nodes. Bilateral "
               "hydrothorax. Hydropericardium. Splenomegaly. Ascites. Degenerative changes of the cervical, "
               "thoracic and lumbar spine.",
               codes=[cc(SCT, "30746006", "Lymphadenopathy"), cc(SCT, "60046008", "Pleural effusion"),
                      cc(SCT, "373945007", "Pericardial effusion"), cc(SCT, "16294009", "Splenomegaly"),
                      cc(SCT, "389026000", "Ascites")]),
        obs("oc-ife-1", p, cc(LOINC, "25700-6", "Immunofixation [interpretation] for Serum or Plasma"), "2019-01-15",
            valueString="IgA λ (12.1%)"),
        obs("oc-mspike-1", p, cc(LOINC, "33358-3", "Protein.monoclonal [Mass/volume] in Serum or Plasma by Electrophoresis"),
            "2019-01-15", valueQuantity=qty(7.7, "g/L", "g/L")),
        obs("oc-bj-1", p, cc(LOINC, "13440-3", "Immunofixation [interpretation] for Urine", "Urine Bence Jones protein"),
            "2019-01-15", valueCodeableConcept=cc(SCT, "10828004", "Positive", "Bence Jones protein detected")),
        obs("oc-bmpc", p, cc(LOINC, "11118-7", "Plasma cells/100 cells in Bone marrow by Manual count"), "2019-02-14",
            valueQuantity=qty(7, "%", "%")),
        report("oc-bm-path", p, cc(None, None, text="Bone marrow trephine biopsy - histology"), "2019-02-14",
               "Monoclonal plasma-cell infiltration, plasma cells 7%.", category="SP"),
        cond("oc-hsm", p, cc(ICD10, "R16.2", "Hepatomegaly with splenomegaly, not elsewhere classified"), recorded="2019-02-12"),
        cond("oc-lad", p, cc(ICD10, "R59.1", "Generalized enlarged lymph nodes"), recorded="2019-02-12"),
        cond("oc-edema", p, cc(ICD10, "R60.1", "Generalized oedema"), recorded="2019-02-12"),
        cond("oc-pleural", p, cc(ICD10, "J90", "Pleural effusion, not elsewhere classified"), recorded="2019-02-12"),
        cond("oc-ascites", p, cc(ICD10, "R18", "Ascites"), recorded="2019-02-12"),
        cond("oc-hyperpig", p, cc(ICD10, "L81.4", "Other melanin hyperpigmentation"), recorded="2019-02-12"),
        cond("oc-hypertrich", p, cc(ICD10, "L68.9", "Hypertrichosis, unspecified"), recorded="2019-02-12"),
        cond("oc-leukonychia", p, cc(ICD10, "L60.8", "Other nail disorders", "Leukonychia (white nails)"), recorded="2019-02-12"),
        cond("oc-hyperemia", p, cc(ICD10, "R23.2", "Flushing", "Skin hyperaemia (mapped to plethora/flushing)"), recorded="2019-02-12"),
        cond("oc-hypothyroid", p, cc(ICD10, "E03.9", "Hypothyroidism, unspecified", "Primary hypothyroidism"), recorded="2019-02-13"),
        cond("oc-ph", p, cc(SCT, "70995007", "Pulmonary hypertension", "Pulmonary hypertension by echocardiography"),
             recorded="2019-02-13"),
        cond("oc-clubbing", p, cc(ICD10, "R68.3", "Clubbing of fingers"), recorded="2019-02-12"),
        report("oc-xray", p, cc(None, None, text="X-ray skeletal survey"), "2019-02-13",
               "No typical sclerotic bone changes."),
        obs("oc-vegf", p, cc(LOINC, "75628-8", "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma"),
            "2019-02-15", dataAbsentReason=cc("http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                               "not-performed", "Not Performed"),
            note=[{"text": "Method not performed in Kazakhstan"}]),
        obs("oc-hb-1", p, cc(LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood"), "2019-02-11",
            valueQuantity=qty(90, "g/L", "g/L"), referenceRange=rng(130, 170, "g/L", "g/L"),
            interpretation=[cc(INTERP, "L", "Low")]),
        obs("oc-creat-1", p, cc(LOINC, "14682-9", "Creatinine [Moles/volume] in Serum or Plasma"), "2019-02-11",
            valueQuantity=qty(105, "µmol/L")),
        obs("oc-alb-1", p, cc(LOINC, "1751-7", "Albumin [Mass/volume] in Serum or Plasma"), "2019-02-11",
            valueQuantity=qty(28, "g/L", "g/L")),
        obs("oc-egfr-1", p, cc(LOINC, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted"), "2019-02-11",
            valueQuantity=qty(46, "mL/min", "mL/min")),
        cond("oc-poems-dx", p, {"coding": [{"system": "http://www.orpha.net", "code": "2905", "display": "POEMS syndrome"}],
                                "text": "POEMS syndrome (clinical diagnosis)"},
             recorded="2019-02-20", verification="provisional"),
    ]
    write(d / "01-diagnosis-2019-02.json", collection(t0))

    t1 = [
        med("oc-dex-1", p, "3264", "dexamethasone", "2019-02-22", "2019-03-25"),
        med("oc-cyc-1", p, "3002", "cyclophosphamide", "2019-02-22", "2019-03-25"),
        obs("oc-mspike-2", p, cc(LOINC, "33358-3", "Protein.monoclonal [Mass/volume] in Serum or Plasma by Electrophoresis"),
            "2019-03-28", valueQuantity=qty(0.37, "g/dL", "g/dL")),
        obs("oc-ife-2", p, cc(LOINC, "25700-6"), "2019-03-28", valueCodeableConcept=cc(None, None, text="IgA-lambda")),
        course("oc-course-pnp-1", p, "neuropathy", "2019-03-28", "worse", "Polyneuropathy progressing"),
        course("oc-course-vol-1", p, "volume-overload", "2019-03-28", "worse",
               "Increasing ascites, pleural effusions and oedema"),
    ]
    write(d / "02-after-2-courses-2019-03.json", collection(t1, "searchset"))

    t2 = [
        med("oc-thal", p, "10432", "thalidomide", "2019-03-29", "2019-08-05"),
        med("oc-dex-2", p, "3264", "dexamethasone", "2019-03-29", "2019-08-05"),
        obs("oc-mspike-3", p, cc(LOINC, "33358-3"), "2019-08-12", valueQuantity=qty(0.69, "g/L", "g/L")),
        obs("oc-ife-3", p, cc(LOINC, "25700-6"), "2019-08-12", valueString="IgA lambda"),
        obs("oc-bj-3", p, cc(LOINC, "13440-3", "Immunofixation [interpretation] for Urine"), "2019-08-12",
            valueCodeableConcept=cc(SCT, "260385009", "Negative")),
        obs("oc-hb-3", p, cc(LOINC, "718-7"), "2019-08-12", valueQuantity=qty(12.9, "g/dL", "g/dL")),
        obs("oc-creat-3", p, cc(LOINC, "14682-9"), "2019-08-12", valueQuantity=qty(81, "umol/L", "umol/L")),
        obs("oc-alb-3", p, cc(LOINC, "1751-7"), "2019-08-12", valueQuantity=qty(36, "g/L", "g/L")),
        obs("oc-egfr-3", p, cc(LOINC, "62238-1"), "2019-08-12", valueQuantity=qty(57, "mL/min", "mL/min")),
        cond("oc-ascites", p, cc(ICD10, "R18", "Ascites"), recorded="2019-02-12", clinical="resolved",
             abatement="2019-08-12", updated="2019-08-12T10:00:00Z"),
        cond("oc-pleural", p, cc(ICD10, "J90", "Pleural effusion, not elsewhere classified"), recorded="2019-02-12",
             clinical="resolved", abatement="2019-08-12", updated="2019-08-12T10:00:00Z"),
        cond("oc-edema", p, cc(ICD10, "R60.1", "Generalized oedema"), recorded="2019-02-12", clinical="resolved",
             abatement="2019-08-12", updated="2019-08-12T10:00:00Z"),
        cond("oc-ph", p, cc(SCT, "70995007", "Pulmonary hypertension"), recorded="2019-02-13", clinical="resolved",
             abatement="2019-08-12", updated="2019-08-12T10:00:00Z"),
        course("oc-course-pnp-2", p, "neuropathy", "2019-08-12", "improved", "Regression of polyneuropathy"),
        course("oc-course-org-2", p, "organomegaly", "2019-08-12", "improved", "Lymph nodes smaller by up to 50%"),
        procedure("oc-mobilisation", p, cc(LOCAL_PROC, "stem-cell-mobilisation", "Stem-cell mobilisation (etoposide + G-CSF) and apheresis",
                                           "Stem-cell mobilisation and apheresis"), "2019-08-20"),
    ]
    write(d / "03-restaging-2019-08.json", collection(t2))

    t3 = [
        procedure("oc-asct", p, cc(LOCAL_PROC, "autologous-hsct", "Autologous haematopoietic stem-cell transplantation",
                                   "High-dose melphalan 200 mg/m2 + autologous HSCT"), "2019-08-30"),
        cond("oc-diarrhea", p, cc(SCT, "128333008", "Diarrheal disorder", "Peri-engraftment diarrhoea"),
             onset="2019-09-15", recorded="2019-09-16", clinical="resolved", abatement="2019-09-20"),
        obs("oc-ife-4", p, cc(LOINC, "25700-6"), "2019-12-06", valueString="не выявлен (negative)"),
        obs("oc-bj-4", p, cc(LOINC, "13440-3"), "2019-12-06", valueCodeableConcept=cc(SCT, "260385009", "Negative")),
        course("oc-course-pnp-4", p, "neuropathy", "2019-12-06", "improved", "Further regression of polyneuropathy"),
        course("oc-course-skin-4", p, "skin", "2019-12-06", "improved", "Less hyperpigmentation, keratosis, hyperaemia"),
        course("oc-course-org-4", p, "organomegaly", "2019-12-06", "improved",
               "Smaller spleen; all lymph-node groups of normal size"),
    ]
    write(d / "04-day100-2019-12.json", collection(t3))


# ------------------------------------------------------------------------- other cases


def classic() -> None:
    p = "classic-poems"
    spec = {"resourceType": "Specimen", "id": "cp-plasma-1", "type": cc(SCT, "119361006", "Plasma specimen"),
            "subject": {"reference": f"Patient/{p}"}}
    res = [
        patient(p, "female", "1977-03-02", "Classic", "Teaching"),
        cond("cp-pnp", p, {"coding": [{"system": ICD10CM, "code": "G62.89"}, {"system": SCT, "code": "42345000", "display": "Polyneuropathy"}],
                           "text": "Demyelinating polyneuropathy"}, onset="2023-05", recorded="2024-01-10"),
        obs("cp-ife", p, cc(LOINC, "25700-6"), "2024-01-12",
            valueCodeableConcept=cc("https://lab.example.org/ife-result", "IGG-L", "IgG lambda", "IgG lambda")),
        obs("cp-mspike", p, cc(LOINC, "33358-3"), "2024-01-12", valueQuantity=qty(0.3, "g/dL", "g/dL")),
        spec,
        obs("cp-vegf", p, cc(LOINC, "75628-8"), "2024-01-12", valueQuantity=qty(624, "ng/L", "ng/L"),
            specimen={"reference": "Specimen/cp-plasma-1"}, referenceRange=rng(None, 96.2, "pg/mL", "pg/mL")),
        report("cp-ct", p, {"coding": [{"system": SCT, "code": "77477000", "display": "Computerized axial tomography"}],
                            "text": "CT whole body, low dose"}, "2024-01-15",
               "Multiple sclerotic lesions in the pelvis and thoracic spine. Mild splenomegaly.",
               codes=[cc(ICD10CM, "M85.89", "Other specified disorders of bone density and structure, multiple sites"),
                      cc(ICD10CM, "R16.1", "Splenomegaly, not elsewhere classified")]),
        obs("cp-plt", p, cc(LOINC, "777-3"), "2024-01-10", valueQuantity=qty(512, "10*3/uL", "10*3/uL"),
            referenceRange=rng(150, 400, "10*3/uL", "10*3/uL"), interpretation=[cc(INTERP, "H")]),
        cond("cp-skin", p, cc(ICD10CM, "L81.4", "Other melanin hyperpigmentation"), recorded="2024-01-10"),
        obs("cp-cortisol", p, cc(LOINC, "2143-6"), "2024-01-11", valueQuantity=qty(3.1, "ug/dL", "ug/dL"),
            referenceRange=rng(5, 23, "ug/dL", "ug/dL")),
        obs("cp-tsh", p, cc(LOINC, "3016-3"), "2024-01-11", valueQuantity=qty(2.1, "mIU/L"), referenceRange=rng(0.4, 4.0, "mIU/L")),
    ]
    write(HERE / "classic-poems.json", collection(res, "searchset"))


def mimics() -> None:
    d = HERE / "mimics"
    # CIDP with IgG-kappa MGUS: the commonest misdiagnosis.
    p = "mimic-cidp"
    cidp = [
        patient(p, "male", "1963-09-21", "Cidp", "Mimic"),
        cond("cidp-dx", p, {"coding": [{"system": SCT, "code": "128209004"}, {"system": ICD10CM, "code": "G61.81"}],
                            "text": "Chronic inflammatory demyelinating polyradiculoneuropathy"}, onset="2022-11", recorded="2023-02-01"),
        cond("cidp-mgus", p, cc(ICD10CM, "D47.2", "Monoclonal gammopathy"), recorded="2023-02-03"),
        obs("cidp-ife", p, cc(LOINC, "25700-6"), "2023-02-02", valueString="IgG kappa"),
        obs("cidp-vegf", p, cc(LOINC, "75628-8"), "2023-02-02", valueQuantity=qty(380, "pg/mL", "pg/mL"),
            contained=[{"resourceType": "Specimen", "id": "s1", "type": cc(SCT, "119364003", "Serum specimen")}],
            specimen={"reference": "#s1"}),
        report("cidp-ct", p, cc(SCT, "77477000", "Computerized axial tomography", "CT skeleton"), "2023-02-10",
               "No sclerotic or lytic bone lesions. No organomegaly."),
        obs("cidp-plt", p, cc(LOINC, "777-3"), "2023-02-02", valueQuantity=qty(265, "10*9/L", "10*9/L"),
            referenceRange=rng(150, 400, "10*9/L", "10*9/L")),
    ]
    write(d / "cidp-igg-kappa-mgus.json", collection(cidp))

    p = "mimic-myeloma"
    mm = [
        patient(p, "female", "1951-01-30", "Myeloma", "Mimic"),
        cond("mm-dx", p, cc(ICD10CM, "C90.00", "Multiple myeloma not having achieved remission"), recorded="2024-06-03"),
        cond("mm-pnp", p, cc(ICD10CM, "G63", "Polyneuropathy in diseases classified elsewhere"), recorded="2024-06-03"),
        obs("mm-ife", p, cc(LOINC, "25700-6"), "2024-05-28", valueString="Monoclonal IgG kappa band"),
        obs("mm-mspike", p, cc(LOINC, "33358-3"), "2024-05-28", valueQuantity=qty(38, "g/L", "g/L")),
        obs("mm-bmpc", p, cc(LOINC, "11118-7"), "2024-05-30", valueQuantity=qty(35, "%", "%")),
        report("mm-ct", p, cc(None, None, text="Whole-body low-dose CT"), "2024-05-31",
               "Multiple lytic lesions of the skull and spine; no sclerotic lesions."),
        obs("mm-hb", p, cc(LOINC, "718-7"), "2024-05-28", valueQuantity=qty(9.2, "g/dL", "g/dL")),
        obs("mm-plt", p, cc(LOINC, "777-3"), "2024-05-28", valueQuantity=qty(140, "x10^9/L")),
        obs("mm-vegf", p, cc(LOINC, "75628-8", text="VEGF, serum"), "2024-05-28", valueQuantity=qty(450, "pg/mL", "pg/mL"),
            referenceRange=rng(None, 500, "pg/mL", "pg/mL")),
    ]
    write(d / "myeloma-with-neuropathy.json", collection(mm, "searchset"))

    p = "mimic-al"
    al = [
        patient(p, "male", "1958-04-12", "Amyloid", "Mimic"),
        cond("al-dx", p, cc(ICD10CM, "E85.81", "Light chain (AL) amyloidosis"), recorded="2025-03-02"),
        cond("al-pnp", p, cc(SCT, "42345000", "Polyneuropathy", "Painful axonal polyneuropathy"), recorded="2025-02-20"),
        obs("al-ife", p, cc(LOINC, "25700-6"), "2025-02-21", valueString="free lambda light chains"),
        obs("al-ratio", p, cc(LOINC, "48378-4"), "2025-02-21", valueQuantity=qty(0.05, "{ratio}", "{ratio}"),
            referenceRange=rng(0.26, 1.65, "{ratio}", "{ratio}")),
        obs("al-ntprobnp", p, cc(LOINC, "33762-6"), "2025-02-21", valueQuantity=qty(4200, "pg/mL", "pg/mL")),
        spec_plasma := {"resourceType": "Specimen", "id": "al-plasma", "type": cc(SCT, "119361006", "Plasma specimen"),
                        "subject": {"reference": f"Patient/{p}"}},
        obs("al-vegf", p, cc(LOINC, "75628-8"), "2025-02-21", valueQuantity=qty(85, "pg/mL", "pg/mL"),
            specimen={"reference": "Specimen/al-plasma"}),
        report("al-ct", p, cc(SCT, "77477000", "Computerized axial tomography"), "2025-02-25",
               "No osteosclerotic lesions."),
        cond("al-edema", p, cc(ICD10CM, "R60.0", "Localized edema"), recorded="2025-02-20"),
    ]
    assert spec_plasma
    write(d / "al-amyloidosis.json", collection(al))

    p = "mimic-castleman"
    cd = [
        patient(p, "female", "1985-07-07", "Castleman", "Mimic"),
        report("cd-ln-path", p, cc(None, None, text="Lymph node excision biopsy - histopathology"), "2024-10-02",
               "Hyaline-vascular Castleman disease.", category="SP",
               codes=[cc(ICD10CM, "D47.Z2", "Castleman disease")]),
        cond("cd-lad", p, cc(SCT, "30746006", "Lymphadenopathy"), recorded="2024-09-20"),
        cond("cd-pnp-refuted", p, cc(SCT, "42345000", "Polyneuropathy"), recorded="2024-10-10", verification="refuted"),
        obs("cd-ife", p, cc(LOINC, "25700-6"), "2024-09-25", valueString="No monoclonal protein detected"),
        obs("cd-hb", p, cc(LOINC, "718-7"), "2024-09-25", valueQuantity=qty(98, "g/L", "g/L")),
    ]
    write(d / "castleman-without-neuropathy.json", collection(cd))


def site_local() -> None:
    """A hospital that sends its own lab and problem-list codes, with its mapping override."""
    d = HERE / "site-local"
    p = "site-local-1"
    lab, probs = "https://hospital.example.org/fhir/CodeSystem/lab", "https://hospital.example.org/fhir/CodeSystem/problems"
    res = [
        patient(p, "male", "1970-11-05", "Local", "Codes"),
        cond("sl-pnp", p, cc(probs, "PNP-DEMY", "Polyneuropathie, demyelinisierend"), recorded="2025-05-02"),
        cond("sl-spleen", p, cc(probs, "SPLEEN-L", "Splenomegalie"), recorded="2025-05-02"),
        obs("sl-ife", p, cc(lab, "IFE-S", "Immunfixation Serum"), "2025-05-03", valueString="IgA lambda"),
        obs("sl-vegf", p, cc(lab, "VEGF-PL", "VEGF im EDTA-Plasma"), "2025-05-03", valueQuantity=qty(310, "ng/L")),
        obs("sl-plt", p, cc(lab, "PLT", "Thrombozyten"), "2025-05-03", valueQuantity=qty(480, "/nL")),
        report("sl-ct", p, cc(lab, "CT-GK", "CT Ganzkörper"), "2025-05-06", "Sclerotic lesion in L3 vertebral body."),
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in res]
    (d).mkdir(parents=True, exist_ok=True)
    (d / "export.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    concept_map = {
        "resourceType": "ConceptMap", "id": "hospital-problems-to-snomed", "url": "https://hospital.example.org/fhir/ConceptMap/problems",
        "name": "HospitalProblemsToSnomed", "version": "3", "status": "active",
        "group": [{"source": probs, "target": SCT, "element": [
            {"code": "PNP-DEMY", "target": [{"code": "42345000", "equivalence": "wider"}]},
            {"code": "SPLEEN-L", "target": [{"code": "16294009", "equivalence": "equivalent"}]},
            {"code": "PNP-SUSP", "target": [{"code": "42345000", "equivalence": "narrower"}]},
        ]}],
    }
    write(d / "problems-conceptmap.json", concept_map)


def relapse_case() -> None:
    """A constructed case of VEGF and M-protein relapse after a response (issue: response tracking)."""
    p = "relapse-vegf"
    plasma = {"resourceType": "Specimen", "id": "rv-plasma", "type": cc(SCT, "119361006", "Plasma specimen"),
              "subject": {"reference": f"Patient/{p}"}}
    serum = {"resourceType": "Specimen", "id": "rv-serum", "type": cc(SCT, "119364003", "Serum specimen"),
             "subject": {"reference": f"Patient/{p}"}}

    def vegf(oid: str, when: str, value: float, specimen: str) -> dict[str, Any]:
        return obs(oid, p, cc(LOINC, "75628-8"), when, valueQuantity=qty(value, "pg/mL", "pg/mL"),
                   specimen={"reference": f"Specimen/{specimen}"})

    res = [
        patient(p, "male", "1975-05-20", "Relapse", "Teaching"), plasma, serum,
        cond("rv-pnp", p, cc(SCT, "42345000", "Polyneuropathy"), onset="2021-06", recorded="2021-11-02"),
        cond("rv-spleen", p, cc(SCT, "16294009", "Splenomegaly"), recorded="2021-11-02"),
        obs("rv-ife-1", p, cc(LOINC, "25700-6"), "2021-11-05", valueString="IgG lambda"),
        obs("rv-m-1", p, cc(LOINC, "33358-3"), "2021-11-05", valueQuantity=qty(6.0, "g/L", "g/L")),
        vegf("rv-vegf-1", "2021-11-05", 1450, "rv-plasma"),
        report("rv-ct", p, cc(SCT, "77477000", "Computerized axial tomography", "CT whole body"), "2021-11-08",
               "Two sclerotic lesions of the pelvis."),
        med("rv-len", p, "342369", "lenalidomide", "2021-12-01", "2022-02-28"),
        med("rv-dex", p, "3264", "dexamethasone", "2021-12-01", "2022-02-28"),
        procedure("rv-asct", p, cc(LOCAL_PROC, "autologous-hsct", "Autologous haematopoietic stem-cell transplantation"),
                  "2022-04-01"),
        vegf("rv-vegf-s", "2022-07-10", 900, "rv-serum"),  # serum: not comparable with the plasma baseline
        obs("rv-ife-2", p, cc(LOINC, "25700-6"), "2022-07-10", valueString="negative"),
        obs("rv-uife-2", p, cc(LOINC, "13440-3"), "2022-07-10", valueCodeableConcept=cc(SCT, "260385009", "Negative")),
        obs("rv-m-2", p, cc(LOINC, "33358-3"), "2022-07-10", valueQuantity=qty(0, "g/L", "g/L")),
        vegf("rv-vegf-2", "2022-10-01", 160, "rv-plasma"),
        vegf("rv-vegf-3", "2023-10-02", 610, "rv-plasma"),
        obs("rv-ife-3", p, cc(LOINC, "25700-6"), "2023-10-02", valueString="IgG lambda"),
        obs("rv-m-3", p, cc(LOINC, "33358-3"), "2023-10-02", valueQuantity=qty(1.5, "g/L", "g/L")),
    ]
    write(HERE / "relapse-case.json", collection(res))


def transaction_urn() -> None:
    """A transaction bundle with urn:uuid references, as exported by generators like Synthea
    (resources carry ids, but refer to each other through their urn:uuid fullUrls)."""
    ns = uuid.UUID("6f1c2d3e-0000-4000-8000-000000000001")
    pu = f"urn:uuid:{uuid.uuid5(ns, 'patient')}"
    entries = []
    pat = patient("txn-patient", "female", "1969-02-14", "Transaction", "Urn")
    entries.append({"fullUrl": pu, "resource": pat, "request": {"method": "POST", "url": "Patient"}})

    def add(name: str, r: dict[str, Any]) -> None:
        r["id"] = f"txn-{name}"
        r["subject"] = {"reference": pu}
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid5(ns, name)}", "resource": r,
                        "request": {"method": "POST", "url": r["resourceType"]}})

    add("pnp", cond("x", "x", cc(SCT, "42345000", "Polyneuropathy"), recorded="2025-09-01"))
    add("ife", obs("x", "x", cc(LOINC, "25700-6"), "2025-09-02", valueString="IgG-λ"))
    add("plt", obs("x", "x", cc(LOINC, "777-3"), "2025-09-02", valueQuantity=qty(470, "10*9/L", "10*9/L")))
    add("vegf", obs("x", "x", cc(LOINC, "75628-8", text="VEGF (serum)"), "2025-09-02",
                    valueQuantity=qty(1450, "pg/mL", "pg/mL")))
    write(HERE / "transaction-urn-uuid.json", {"resourceType": "Bundle", "type": "transaction", "entry": entries})


if __name__ == "__main__":
    origin_case()
    classic()
    mimics()
    site_local()
    relapse_case()
    transaction_urn()
