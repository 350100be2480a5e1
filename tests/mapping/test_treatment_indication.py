"""What counts as a treatment of the clone (probe42): a corticosteroid alone before any other
treatment of the clone starts nothing (criteria.md §10 2d, "corticosteroids alone only temporising"),
a treatment whose stated reasons all name another disease is none, and a regimen written as one order
gives each of its agents."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.text.engine import Modifier
from poems_fhir.pipeline import evaluate_record
from tests.conftest import ROOT, make_record
from tests.mapping.test_events_mutants2 import RX

SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
DEX = {"coding": [{"system": RX, "code": "3264", "display": "dexamethasone"}]}
LEN = {"coding": [{"system": RX, "code": "342369", "display": "lenalidomide"}]}
COVID = {"coding": [{"system": SCT, "code": "840539006", "display": "COVID-19"}]}


def given(concept: dict[str, Any], start: str, end: str | None = None, rid: str = "m1", **kw: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": rid,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": concept,
        "effectivePeriod": {"start": start, **({"end": end} if end else {})},
        **kw,
    }


def radiotherapy(**kw: Any) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": "rt",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": SCT, "code": "108290001", "display": "Radiation oncology AND/OR radiotherapy"}]},
        "performedPeriod": {"start": "2016-03-01", "end": "2016-04-20"},
        **kw,
    }


def read(mapping, *resources: dict[str, Any]):
    ex = extract(make_record(*resources), mapping)
    assert ex.errors == []
    return ex


def agents(ex) -> list[tuple[str | None, dt.date | None]]:
    return sorted((e.agent, e.effective) for e in ex.events if e.kind == "treatment")


# ------------------------------------------------------------------ a corticosteroid alone


def test_dexamethasone_alone_starts_no_treatment(mapping):
    ex = read(mapping, given(DEX, "2021-11-03", "2021-11-12"))
    assert agents(ex) == []
    [note] = [n for n in ex.notes if n.kind == "companion_alone"]
    assert (note.reference, note.rule) == ("MedicationAdministration/m1", "dexamethasone")
    assert "2021-11-03" in note.detail and "before any other treatment of the clone" in note.detail
    assert "MedicationAdministration/m1" not in ex.used  # the Provenance does not cite what was not used


def test_a_normal_vegf_during_a_corticosteroid_course_alone_is_a_low_grade_negative(mapping):
    """probe86 D5: dexamethasone alone from Feb 20 to Apr 1, plasma VEGF 150 pg/mL on Mar 15 - `absent`
    (the patient `not_met`); criteria.md §10 2d counts corticosteroids alone as temporising therapy."""
    from poems_fhir.criteria.model import State, Strength
    from tests.conftest import observation

    def vegf(day: str, value: float) -> dict[str, Any]:
        return observation(
            {"coding": [{"system": "http://loinc.org", "code": "75628-8"}], "text": "VEGF, plasma"},
            f"v{day}",
            effectiveDateTime=day,
            valueQuantity={"value": value, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        )

    ex = read(mapping, given(DEX, "2022-02-20", "2022-04-01"), vegf("2022-03-15", 150), vegf("2022-05-01", 150))
    found = {f.evidence.reference: f for f in ex.findings if f.topic == "vegf_elevation"}
    during, after = found["Observation/v2022-03-15"], found["Observation/v2022-05-01"]
    assert (during.state, during.strength) == (State.ABSENT, Strength.WEAK)
    assert "measured during dexamethasone" in (during.note or "") and "from 2022-02-20 to 2022-04-01" in (
        during.note or ""
    )
    assert (after.state, after.strength, after.note) == (State.ABSENT, Strength.STRONG, None)  # after the course
    # a high VEGF during the course stays what it is
    high = read(mapping, given(DEX, "2022-02-20", "2022-04-01"), vegf("2022-03-15", 600))
    assert [(f.state, f.strength) for f in high.findings if f.topic == "vegf_elevation"] == [
        (State.PRESENT, Strength.STRONG)
    ]


@pytest.mark.parametrize(
    ("concept", "period", "status"),
    [
        # probe88 D14: the other systemic corticosteroids, by RxNorm code and by name
        (
            {"coding": [{"system": RX, "code": "8638", "display": "prednisolone"}]},
            ("2022-02-20", "2022-04-01"),
            "completed",
        ),
        ({"text": "Methylprednisolone 500 mg IV"}, ("2022-02-20", "2022-04-01"), "completed"),
        ({"text": "Преднизолон 60 мг"}, ("2022-02-20", "2022-04-01"), "completed"),
        (
            {"coding": [{"system": RX, "code": "8640", "display": "prednisone"}]},
            ("2022-02-20", "2022-04-01"),
            "completed",
        ),
        # probe88 D17: a course still running - no end yet
        (DEX, ("2022-02-20", None), "in-progress"),
    ],
)
def test_a_normal_vegf_during_any_corticosteroid_course_alone_is_low_grade(mapping, concept, period, status):
    from poems_fhir.criteria.model import State, Strength
    from tests.conftest import observation

    vegf = observation(
        {"coding": [{"system": "http://loinc.org", "code": "75628-8"}], "text": "VEGF, plasma"},
        "v",
        effectiveDateTime="2022-03-15",
        valueQuantity={"value": 100, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
    )
    ex = read(mapping, given(concept, *period, status=status), vegf)
    [f] = [f for f in ex.findings if f.topic == "vegf_elevation"]
    assert (f.state, f.strength) == (State.ABSENT, Strength.WEAK), f
    assert ("still running" in (f.note or "")) is (period[1] is None)


def test_pulses_for_cidp_before_lenalidomide_dexamethasone_start_nothing(mapping):
    ex = read(
        mapping,
        given(DEX, "2020-06-01", "2020-06-04", rid="pulse1"),
        given(DEX, "2020-07-01", "2020-07-04", rid="pulse2"),
        given(LEN, "2022-02-15", "2022-12-31", rid="len"),
        given(DEX, "2022-02-15", "2022-12-31", rid="dex"),
        given(DEX, "2022-03-01", rid="later"),
    )
    # beside the lenalidomide and after it, dexamethasone is part of the regimen
    assert agents(ex) == [
        ("dexamethasone", dt.date(2022, 2, 15)),
        ("dexamethasone", dt.date(2022, 3, 1)),
        ("lenalidomide", dt.date(2022, 2, 15)),
    ]
    assert sorted(n.reference for n in ex.notes if n.kind == "companion_alone") == [
        "MedicationAdministration/pulse1",
        "MedicationAdministration/pulse2",
    ]


def test_a_planned_treatment_does_not_make_an_earlier_corticosteroid_part_of_it(mapping):
    planned = {
        "resourceType": "Procedure",
        "id": "asct",
        "status": "preparation",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "Autologous stem cell transplant"},
        "performedDateTime": "2021-01-10",
    }
    ex = read(mapping, given(DEX, "2020-12-01"), planned)
    assert agents(ex) == []


def test_a_transplant_or_radiotherapy_is_another_treatment_of_the_clone(mapping):
    ex = read(mapping, radiotherapy(performedPeriod={"start": "2023-01-05"}), given(DEX, "2023-01-05"))
    assert agents(ex) == [("dexamethasone", dt.date(2023, 1, 5))]


def test_negative_tests_after_a_corticosteroid_course_are_absences(mapping):
    # probe42 p10b: a 10-day course for COVID-19 made every later negative "after treatment began"
    ife = {
        "resourceType": "Observation",
        "id": "ife",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "25700-6", "display": "Immunofixation serum"}]},
        "effectiveDateTime": "2023-09-05",
        "valueCodeableConcept": {"text": "Negative"},
    }
    result = evaluate_record(make_record(given(DEX, "2021-11-03", "2021-11-12"), ife), mapping, MAYO, None)
    assert result.response.first_treatment is None
    assert result.assessment.criteria["monoclonal_plasma_cell_disorder"].state.value == "absent"


# ------------------------------------------------------------------ another indication


@pytest.mark.parametrize(
    "reason",
    [
        {"reasonCode": [COVID]},
        {"reasonCode": [{"text": "COVID-19 pneumonia"}]},
        {"reasonCode": [COVID, {"coding": [{"system": ICD10, "code": "J12.82"}]}]},
        {"reasonReference": [{"reference": "Condition/covid"}]},
        {"reasonReference": [{"display": "COVID-19 pneumonia"}]},
    ],
)
def test_a_treatment_given_for_another_disease_is_none(mapping, reason):
    covid = {
        "resourceType": "Condition",
        "id": "covid",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": SCT, "code": "840539006", "display": "COVID-19"}]},
    }
    ex = read(mapping, covid, given(LEN, "2023-01-05"), given(DEX, "2023-02-01", rid="dex", **reason))
    assert agents(ex) == [("lenalidomide", dt.date(2023, 1, 5))]
    [note] = [n for n in ex.notes if n.kind == "other_indication"]
    assert note.reference == "MedicationAdministration/dex"
    assert note.detail.startswith("not a treatment of the clone: given for ") and "COVID-19" in note.detail


@pytest.mark.parametrize(
    "reason",
    [
        {"reasonCode": [{"coding": [{"system": SCT, "code": "79268004", "display": "Plasmacytoma"}]}]},
        {"reasonCode": [{"text": "POEMS syndrome"}]},
        {"reasonCode": [{"text": "sclerotic bone lesion, L3"}]},
        {"reasonCode": [COVID, {"text": "plasmacytoma"}]},  # one POEMS-related reason is enough
        {"reasonReference": [{"reference": "Condition/unknown"}]},  # a reason that cannot be read may be one
        {"reasonCode": [{}]},
        # a reference that is no object (the extraction reads what the boundary let through: mutation seed 22)
        {"reasonReference": ["Condition/covid"]},
    ],
)
def test_a_treatment_for_poems_or_for_an_unknown_reason_counts(mapping, reason):
    ex = read(mapping, radiotherapy(**reason))
    assert ex.errors == []
    assert [e.kind for e in ex.events] == ["radiotherapy"]
    assert [n for n in ex.notes if n.kind == "other_indication"] == []


def test_radiotherapy_of_another_cancer_is_no_treatment_of_the_clone(mapping):
    prostate = {
        "resourceType": "Condition",
        "id": "ca",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": ICD10, "code": "C61", "display": "Malignant neoplasm of prostate"}]},
    }
    ex = read(mapping, prostate, radiotherapy(reasonReference=[{"reference": "Condition/ca"}]))
    assert ex.events == []
    [note] = [n for n in ex.notes if n.kind == "other_indication"]
    assert note.detail == "not a treatment of the clone: given for Malignant neoplasm of prostate"


def test_radiotherapy_of_a_cancer_the_mapping_counts_as_a_vegf_confounder_is_still_another_disease(mapping):
    """probe100 D4 mapped the cancers as VEGF confounders: a lung cancer (CM C34.90, read as WHO C34) is no
    POEMS concept, and its radiotherapy no treatment of the clone."""
    lung = {
        "resourceType": "Condition",
        "id": "ca",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C34.90"}]},
    }
    ex = read(mapping, lung, radiotherapy(reasonReference=[{"reference": "Condition/ca"}]))
    assert ex.events == []
    assert [n.kind for n in ex.notes if n.kind == "other_indication"] == ["other_indication"]


def named(text: str, **kw: Any) -> dict[str, Any]:
    """A radiotherapy course known only by its name, as many records say it."""
    return radiotherapy(code={"text": text}, **kw)


@pytest.mark.parametrize(
    ("procedure", "organ"),
    [
        (named("Radiotherapy, prostate"), "prostat"),
        (named("External beam radiation therapy"), None),
        (
            radiotherapy(bodySite=[{"coding": [{"system": SCT, "code": "76752008", "display": "Breast structure"}]}]),
            "Breast",
        ),
        (named("IMRT 70 Gy", bodySite=[{"text": "Prostate and seminal vesicles"}]), "Prost"),
        (named("Лучевая терапия на область предстательной железы"), "предстательн"),
        (named("Whole brain radiotherapy"), "brain"),
    ],
)
def test_radiotherapy_aimed_at_another_organ_without_a_reason_is_none(mapping, procedure, organ):
    """probe42: "radiotherapy, prostate" with no stated reason started the response clock of a POEMS
    patient; criteria.md §10 step 1 treats the clone by "radiotherapy to lesion(s)"."""
    ex = read(mapping, procedure)
    if organ is None:  # no organ named: a treatment, as before
        assert [e.kind for e in ex.events] == ["radiotherapy"]
        return
    assert ex.events == []
    [note] = [n for n in ex.notes if n.kind == "other_indication"]
    assert note.rule == "radiotherapy"
    assert organ in note.detail and "no stated reason" in note.detail


@pytest.mark.parametrize(
    "procedure",
    [
        named("Radiotherapy to L3 sclerotic lesion, 40 Gy"),
        named("Radiotherapy, left iliac bone plasmacytoma"),
        named("RT to rib plasmacytoma near the lung"),  # a lung named beside a rib: the clone's site wins
        radiotherapy(bodySite=[{"text": "Pelvis"}]),  # the pelvis is bone as often as it is the prostate
        named("Лучевая терапия на очаг в крыле подвздошной кости"),
        named("Radiotherapy, prostate", reasonCode=[{"text": "solitary plasmacytoma"}]),  # a reason decides
    ],
)
def test_radiotherapy_of_bone_or_a_plasmacytoma_stays_a_treatment(mapping, procedure):
    ex = read(mapping, procedure)
    assert [e.kind for e in ex.events] == ["radiotherapy"]
    assert [n for n in ex.notes if n.kind == "other_indication"] == []


# ------------------------------------------------------------------ a regimen in one order


@pytest.mark.parametrize(
    "name",
    ["Bortezomib, lenalidomide, dexamethasone (VRd)", "VRd: bortezomib + lenalidomide + dexamethasone"],
)
def test_each_agent_of_a_regimen_written_as_one_order_is_given(mapping, name):
    ex = read(mapping, given({"text": name}, "2023-02-01"))
    assert agents(ex) == [
        ("bortezomib", dt.date(2023, 2, 1)),
        ("dexamethasone", dt.date(2023, 2, 1)),
        ("lenalidomide", dt.date(2023, 2, 1)),
    ]
    assert {e.agent for e in ex.events if e.neurotoxic} == {"bortezomib"}
    assert {e.reference for e in ex.events} == {"MedicationAdministration/m1"}


# ------------------------------------------------------------------ thrombosis prophylaxis on record


def _prophylaxis(mapping, *resources: dict[str, Any], as_of: dt.date | None = None):
    # the classic POEMS sample (criteria met, in scope): every pathway step is proposed
    bundle = json.loads((ROOT / "sample_bundles" / "classic-poems.json").read_text(encoding="utf-8"))
    own = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] != "Patient"]
    for r in own + list(resources):
        r["subject"] = {"reference": "Patient/p1"}
    result = evaluate_record(make_record(*own, *resources), mapping, MAYO, as_of)
    assert result.assessment.classification.value == "met"
    [step] = [s for s in result.steps if s.id == "thrombosis-prophylaxis"]
    return result, step


ASPIRIN = {"coding": [{"system": RX, "code": "1191", "display": "aspirin 81 MG Oral Tablet"}]}


@pytest.mark.parametrize("concept", [ASPIRIN, {"text": "Кардиомагнил 75 мг"}, {"text": "Apixaban 2.5 mg twice daily"}])
def test_an_antithrombotic_given_puts_the_prophylaxis_in_progress(mapping, concept):
    order = {
        "resourceType": "MedicationRequest",
        "id": "asa",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": concept,
        "authoredOn": "2023-02-01",
    }
    result, step = _prophylaxis(mapping, order, as_of=dt.date(2024, 10, 1))
    assert step.status == "in-progress"
    assert "MedicationRequest/asa" in step.evidence
    assert [v for k, v in step.params if k == "agent"] in (["aspirin"], ["apixaban"])
    assert result.response.first_treatment is None  # no treatment of the clone


def test_an_antithrombotic_over_by_the_evaluation_day_leaves_it_proposed(mapping):
    past = given(ASPIRIN, "2022-01-01", "2022-03-01", rid="asa")
    _, step = _prophylaxis(mapping, past, as_of=dt.date(2024, 10, 1))
    assert step.status == "not-started"
    assert "MedicationAdministration/asa" not in step.evidence and ("agent", "aspirin") not in step.params
    _, before = _prophylaxis(mapping, given(ASPIRIN, "2025-01-01", rid="asa"), as_of=dt.date(2024, 10, 1))
    assert before.status == "not-started"  # ordered after --as-of: not known then


def test_the_coverage_report_lists_both(mapping):
    from poems_fhir.mapping.coverage import collect, to_dict

    record = make_record(
        given(DEX, "2021-11-03", rid="covid"), given(LEN, "2023-01-05"), radiotherapy(reasonCode=[COVID])
    )
    d = to_dict(collect([record], mapping))
    assert [(i["rule"], i["detail"]) for i in d["treatments_for_another_disease"]] == [
        ("radiotherapy", "not a treatment of the clone: given for COVID-#")  # numbers masked (grouped)
    ]
    [alone] = d["corticosteroids_alone"]
    assert alone["rule"] == "dexamethasone" and "before any other treatment" in alone["detail"]


# ------------------------------------------------------------------ names as records write them (probe42)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PBSCT (autologous)", "autologous_hsct"),
        ("HSCT, autologous, day 0", "autologous_hsct"),
        ("Allogeneic HSCT", None),  # no autologous transplant
        ("SCT evaluation (autologous)", None),  # an evaluation is not the transplant
    ],
)
def test_a_transplant_acronym_before_autologous_is_the_transplant(mapping, name, expected):
    procedure = {
        "resourceType": "Procedure",
        "id": "sct",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": name},
        "performedDateTime": "2023-05-01",
    }
    assert [e.kind for e in read(mapping, procedure).events] == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("sentence", "negated"),
    [
        ("Cherry angiomas on the trunk.", False),
        ("Multiple senile haemangiomas on the chest.", False),
        ("Множественные вишневые ангиомы на коже туловища.", False),
        ("No cherry angiomas.", True),
    ],
)
def test_cherry_angiomas_are_a_skin_haemangioma(mapping, sentence, negated):
    [[assertion]] = mapping.text.assert_texts([sentence])
    assert assertion.target == "hemangioma"
    assert (Modifier.NEGATED in assertion.modifiers) is negated


# ------------------------------------------------------------------ a specimen reference that names nothing


def _vegf(**kw: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "vegf",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "75628-8", "display": "VEGF"}]},
        "effectiveDateTime": "2023-01-10",
        "valueQuantity": {"value": 450, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        **kw,
    }


def test_a_specimen_reference_naming_no_specimen_is_listed(mapping):
    # probe43: the VEGF's specimen type was lost without a word, and a progression read as partial
    ex = extract(make_record(_vegf(specimen={"reference": "Specimen/no-such"})), mapping)
    [error] = ex.errors
    assert error.resource == "Observation/vegf" and "'Specimen/no-such' names no Specimen" in error.message
    assert [m.analyte for m in ex.measurements] == ["vegf"]  # the result itself is still read


def test_a_specimen_that_exists_is_no_problem(mapping):
    specimen = {
        "resourceType": "Specimen",
        "id": "s1",
        "subject": {"reference": "Patient/p1"},
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0487", "code": "PLAS"}]},
    }
    ex = extract(make_record(specimen, _vegf(specimen={"reference": "Specimen/s1"})), mapping)
    assert ex.errors == []


def test_past_the_text_budget_the_rest_of_a_patients_texts_is_listed_unread(mapping, monkeypatch):
    # probe43: a megabyte of report text took the text engine 47 s for one patient
    from poems_fhir.mapping import extract as extract_module

    monkeypatch.setattr(extract_module, "MAX_PATIENT_TEXT_CHARS", 60)

    def report(rid: str, conclusion: str) -> dict[str, Any]:
        return {
            "resourceType": "DiagnosticReport",
            "id": rid,
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"text": "CT chest abdomen pelvis"},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "CT"}]}],
            "effectiveDateTime": "2023-01-10",
            "conclusion": conclusion,
        }

    ex = extract(
        make_record(report("r1", "Splenomegaly."), report("r2", "Sclerotic lesion in the pelvis. " * 3)), mapping
    )
    assert [f.topic for f in ex.findings if f.state.value == "present"] == ["organomegaly"]  # r1 read, r2 not
    [error] = ex.errors
    assert error.source == "Patient/p1" and error.message.startswith("1 text(s) (96 characters) not read")
