"""Procedures and medications as events (treatment timeline, response baselines, neurotoxic agents).

criteria.md §8-§10: response is judged from the start of treatment; thalidomide and bortezomib are
neurotoxic (worsening neuropathy may be the drug). A procedure or medication that did not happen
(not-done, entered-in-error, cancelled, not-taken, draft) is no event; a planned one (preparation) is
kept, since a planned transplant is what the engraftment alert looks ahead to."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

SCT = "http://snomed.info/sct"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"


def proc(**kw: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": "pr1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": SCT, "code": "108290001", "display": "Radiotherapy"}]},
        "performedDateTime": "2024-02-01",
    }
    p.update(kw)
    return p


def med(resource_type: str = "MedicationRequest", **kw: Any) -> dict[str, Any]:
    m: dict[str, Any] = {
        "resourceType": resource_type,
        "id": "m1",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": "10432", "display": "thalidomide 50 MG"}]},
        "authoredOn": "2024-01-10",
    }
    if resource_type == "MedicationRequest":
        m["intent"] = "order"  # 1..1 in R4: a request without one is refused (no order nor suggestion told)
    elif resource_type == "MedicationAdministration":
        m["status"] = "completed"  # "active" is no administration status in R4: refused
    m.update(kw)
    return m


def events(mapping, *resources: dict[str, Any]):
    ex = extract(make_record(*resources), mapping)
    assert ex.errors == []
    return ex.events


# --------------------------------------------------------------- procedures


def test_a_procedure_is_an_event_on_its_date(mapping):
    [e] = events(mapping, proc())
    assert (e.kind, e.effective, e.reference, e.summary, e.status) == (
        "radiotherapy",
        dt.date(2024, 2, 1),
        "Procedure/pr1",
        "Radiotherapy",
        "completed",
    )
    assert (e.agent, e.end, e.neurotoxic) == (None, None, False)


@pytest.mark.parametrize(
    ("kw", "date", "summary"),
    [
        (
            {"performedDateTime": None, "performedPeriod": {"start": "2024-03-01", "end": "2024-03-20"}},
            dt.date(2024, 3, 1),
            "Radiotherapy",
        ),
        ({"performedDateTime": None}, None, "Radiotherapy"),
        ({"code": {"coding": [{"system": SCT, "code": "108290001"}]}}, dt.date(2024, 2, 1), "radiotherapy"),
        (
            {"code": {"coding": [{"system": SCT, "code": "108290001"}], "text": "RT to L2"}},
            dt.date(2024, 2, 1),
            "RT to L2",
        ),
    ],
)
def test_a_procedures_date_and_name(mapping, kw, date, summary):
    p = proc(**kw)
    if p.get("performedDateTime") is None:
        p.pop("performedDateTime")
    ex = extract(make_record(p), mapping)
    [e] = ex.events
    assert (e.effective, e.summary) == (date, summary)
    # a treatment on no day is kept, and listed (probe79 D8: it was dropped from the timeline in silence)
    assert [x.message.split(";")[0] for x in ex.errors] == (
        ["a treatment with no readable date: no performed[x]"] if date is None else []
    )


@pytest.mark.parametrize("status", ["not-done", "entered-in-error"])
def test_a_procedure_that_did_not_happen_is_no_event(mapping, status):
    assert events(mapping, proc(status=status)) == []


def test_a_planned_procedure_is_kept_with_its_status(mapping):
    [e] = events(mapping, proc(status="preparation"))
    assert (e.kind, e.status) == ("radiotherapy", "preparation")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        # codes.md §D confirms no code for a transplant, mobilisation or lymph-node biopsy: records name them
        ("Autologous peripheral blood stem cell transplantation (HDM-ASCT)", "autologous_hsct"),
        ("High-dose chemotherapy with autologous stem cell rescue", "autologous_hsct"),
        ("Bone marrow transplant, autologous", "autologous_hsct"),
        ("Auto-SCT day 0", "autologous_hsct"),
        ("Аутологичная трансплантация гемопоэтических стволовых клеток", "autologous_hsct"),
        ("ауто-ТГСК", "autologous_hsct"),
        ("Аутологиялық дің жасушаларын трансплантациялау", "autologous_hsct"),  # Kazakh (probe49 D4)
        ("Stem cell mobilisation (G-CSF) and leukapheresis", "stem_cell_mobilisation"),
        ("Mobilisation for autologous stem cell transplant", "stem_cell_mobilisation"),  # mobilisation first
        ("Involved-site radiotherapy to right iliac lesion, 50 Gy in 25 fractions", "radiotherapy"),
        ("Лучевая терапия на очаг L3", "radiotherapy"),
        ("Induction chemotherapy", "chemotherapy"),
        ("Bone marrow aspirate and trephine biopsy, posterior iliac crest", "bone_marrow_biopsy"),
        ("Трепанобиопсия подвздошной кости", "bone_marrow_biopsy"),
        ("Excision biopsy of inguinal lymph node", "lymph_node_biopsy"),
        ("Биопсия шейного лимфатического узла", "lymph_node_biopsy"),
        # not the procedure itself, or another one
        ("Evaluation for autologous stem cell transplant", None),
        ("Consultation: ASCT eligibility", None),
        ("Radiotherapy planning CT", None),
        ("Allogeneic stem cell transplantation", None),
        ("Cardiac catheterisation", None),
    ],
)
def test_a_procedure_named_only_in_words(mapping, name, kind):
    local = {"coding": [{"system": "http://hospital.example.org/procedures", "code": "X1", "display": name}]}
    for code in ({"text": name}, local):
        got = events(mapping, proc(code=code))
        assert [e.kind for e in got] == ([kind] if kind else [])
        if kind:
            assert got[0].summary == name and got[0].effective == dt.date(2024, 2, 1)


def test_a_procedure_with_two_mapped_codings_is_one_event(mapping):
    code = {"coding": [{"system": SCT, "code": "108290001"}, {"system": SCT, "code": "367336001"}]}
    assert [e.kind for e in events(mapping, proc(code=code))] == ["radiotherapy"]


def test_an_unknown_procedure_is_no_event(mapping):
    assert events(mapping, proc(code={"coding": [{"system": SCT, "code": "1"}], "text": "Dental check"})) == []


# --------------------------------------------------------------- medications


def test_a_neurotoxic_drug_is_a_treatment_event_that_says_so(mapping):
    [e] = events(mapping, med())
    assert (e.kind, e.effective, e.reference, e.summary, e.agent) == (
        "treatment",
        dt.date(2024, 1, 10),
        "MedicationRequest/m1",
        "thalidomide 50 MG",
        "thalidomide",
    )
    assert (e.neurotoxic, e.end, e.status) == (True, None, "active")


def test_a_drug_named_in_text_only_with_its_period(mapping):
    m = med(
        "MedicationStatement",
        medicationCodeableConcept={"text": "Lenalidomide 10 mg"},
        effectivePeriod={"start": "2024-01-01", "end": "2024-03-01"},
    )
    del m["authoredOn"]
    [e] = events(mapping, m)
    assert (e.agent, e.neurotoxic, e.summary) == ("lenalidomide", False, "Lenalidomide 10 mg")
    assert (e.effective, e.end) == (dt.date(2024, 1, 1), dt.date(2024, 3, 1))


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        # the product as EHRs send it (probe49 D4: a treated patient read as untreated, "not met")
        ("Revlimid 10 MG Oral Capsule", "lenalidomide"),
        ("VELCADE 3.5 MG INJECTION", "bortezomib"),
        ("Alkeran (HDM) 200 mg/m2 IV", "melphalan"),
        ("Ревлимид 25 мг", "lenalidomide"),
        ("Велкейд (бортезомиб) 3,5 мг", "bortezomib"),
        ("Darzalex 1800 mg SC", "daratumumab"),
        ("Thalomid 100 mg", "thalidomide"),
        ("Endoxan 500 mg", "cyclophosphamide"),
        # a brand inside another word is no match
        ("Prevlimidus cream", None),
    ],
)
def test_a_drug_named_by_its_brand(mapping, text, agent):
    m = med("MedicationStatement", medicationCodeableConcept={"text": text}, effectiveDateTime="2024-01-01")
    del m["authoredOn"]
    assert [e.agent for e in events(mapping, m)] == ([agent] if agent else [])


def test_a_referenced_medication_is_read_from_the_record(mapping):
    medication = {"resourceType": "Medication", "id": "x", "code": {"coding": [{"system": RX, "code": "358258"}]}}
    m = med(
        "MedicationAdministration", medicationReference={"reference": "Medication/x"}, effectiveDateTime="2024-05-05"
    )
    del m["medicationCodeableConcept"], m["authoredOn"]
    evs = [e for e in events(mapping, medication, m) if e.reference == "MedicationAdministration/m1"]
    assert [(e.agent, e.neurotoxic, e.effective, e.summary) for e in evs] == [
        ("bortezomib", True, dt.date(2024, 5, 5), "bortezomib")
    ]


def test_a_medication_reference_that_cannot_be_resolved_is_read_by_its_display(mapping):
    m = med(
        "MedicationAdministration",
        medicationReference={"reference": "Medication/gone", "display": "Bortezomib 2 mg"},
        effectiveDateTime="2024-05-05",
    )
    del m["medicationCodeableConcept"], m["authoredOn"]
    [e] = events(mapping, m)
    assert (e.agent, e.summary, e.effective) == ("bortezomib", "Bortezomib 2 mg", dt.date(2024, 5, 5))


def test_the_effective_date_comes_before_the_authored_date(mapping):
    [e] = events(mapping, med(effectiveDateTime="2024-01-15"))
    assert e.effective == dt.date(2024, 1, 15)


def test_a_prescription_validity_period_dates_a_request(mapping):
    m = med(dispenseRequest={"validityPeriod": {"start": "2024-06-01", "end": "2024-07-01"}})
    del m["authoredOn"]
    [e] = events(mapping, m)
    assert (e.effective, e.end) == (dt.date(2024, 6, 1), dt.date(2024, 7, 1))


def bounds(start: str | None) -> dict[str, Any]:
    return {"timing": {"repeat": {"boundsPeriod": {"start": start} if start else {}}}}


def test_a_request_starts_when_its_dosage_says_not_when_it_was_written(mapping):
    # written on 2024-01-10, to start on 2024-01-20 (and a second dosage line from 2024-02-01):
    # a baseline sample drawn on 2024-01-15 is still before the treatment
    m = med(dosageInstruction=[bounds("2024-02-01"), {"text": "28-day cycles"}, bounds("2024-01-20")])
    [e] = events(mapping, m)
    assert e.effective == dt.date(2024, 1, 20)
    # no start in the dosage: the order's date
    [written] = events(mapping, med(dosageInstruction=[bounds(None), {"text": "daily"}]))
    assert written.effective == dt.date(2024, 1, 10)
    # a statement or administration has its own effective date: dosage bounds are a request's only
    [given] = events(mapping, med("MedicationStatement", effectiveDateTime="2024-01-12", dosage=[bounds("2024-03-01")]))
    assert given.effective == dt.date(2024, 1, 12)


def test_a_malformed_dosage_start_is_a_reported_problem(mapping):
    ex = extract(make_record(med(dosageInstruction=[bounds("next Monday")])), mapping)
    assert ex.events == [] and "boundsPeriod.start" in ex.errors[0].message


@pytest.mark.parametrize(
    ("resource_type", "status"),
    [
        ("MedicationRequest", "entered-in-error"),
        ("MedicationRequest", "cancelled"),
        ("MedicationRequest", "draft"),
        ("MedicationStatement", "not-taken"),
        ("MedicationStatement", "intended"),  # probe35: not yet taken started the response clock
        ("MedicationAdministration", "not-done"),
    ],
)
def test_a_medication_not_given_is_no_event(mapping, resource_type, status):
    assert events(mapping, med(resource_type, status=status)) == []


@pytest.mark.parametrize(
    ("intent", "given"), [("proposal", False), ("plan", False), ("option", False), ("order", True)]
)
def test_a_request_that_is_no_order_is_no_event(mapping, intent, given):
    # probe35: a proposed bortezomib started the response clock before the real first dose
    assert bool(events(mapping, med(intent=intent))) is given


@pytest.mark.parametrize("status", ["stopped", "completed", "on-hold"])
def test_a_medication_given_and_then_stopped_is_still_an_event(mapping, status):
    assert len(events(mapping, med("MedicationStatement", status=status))) == 1


@pytest.mark.parametrize("concept", [{"text": "Paracetamol 500 mg"}, {"coding": [{"system": RX, "code": "161"}]}])
def test_a_drug_no_rule_knows_is_no_event(mapping, concept):
    assert events(mapping, med(medicationCodeableConcept=concept)) == []


# --------------------------------------------------------------- clinical course (criteria.md §8.4)

COURSE = "https://poems-fhir.org/CodeSystem/clinical-course"
DIRECTION = "https://poems-fhir.org/CodeSystem/course-direction"


def course_obs(domain: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "c1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": COURSE, "code": domain}]},
        "effectiveDateTime": "2024-04-01",
        **value,
    }


@pytest.mark.parametrize(
    ("domain", "value", "direction"),
    [
        ("neuropathy", {"valueCodeableConcept": {"coding": [{"system": DIRECTION, "code": "worse"}]}}, "worse"),
        (
            "neuropathy",
            {
                "valueCodeableConcept": {
                    "coding": [{"system": "http://other", "code": "x"}, {"system": DIRECTION, "code": "improved"}]
                }
            },
            "improved",
        ),
        ("volume-overload", {"valueString": " Stable "}, "stable"),
        ("organomegaly", {"valueCodeableConcept": {"text": "improved"}}, "improved"),
    ],
)
def test_a_clinical_course_assessment(mapping, domain, value, direction):
    ex = extract(make_record(course_obs(domain, **value)), mapping)
    assert ex.errors == [] and ex.findings == []
    [c] = ex.course
    assert (c.domain, c.direction, c.effective, c.reference) == (
        domain.replace("-", "_"),
        direction,
        dt.date(2024, 4, 1),
        "Observation/c1",
    )


def test_an_unknown_course_answer_is_an_error_that_lists_the_answers(mapping):
    ex = extract(make_record(course_obs("neuropathy", valueString="better?")), mapping)
    assert ex.course == []
    [err] = ex.errors
    assert "course assessment 'better?' is not one of ['improved', 'stable', 'worse']" in str(err)


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ({"performedDateTime": "soon"}, "performedDateTime is not a FHIR date: 'soon'"),
        ({"performedPeriod": {"start": "2024-02-30"}}, "performedPeriod.start is not a valid date: '2024-02-30'"),
    ],
)
def test_a_bad_procedure_date_is_an_error_that_names_the_element(mapping, dates, message):
    p = proc(**dates)
    if "performedPeriod" in dates:
        del p["performedDateTime"]
    ex = extract(make_record(p), mapping)
    assert ex.events == []
    [err] = ex.errors
    assert err.message == message


def test_a_ct_procedure_is_an_event_although_ct_is_also_an_imaging_modality_code(mapping):
    [e] = events(mapping, proc(code={"coding": [{"system": SCT, "code": "77477000"}]}))
    assert (e.kind, e.summary) == ("ct", "ct_procedure")


def test_a_contained_medication_is_read(mapping):
    m = med(
        "MedicationAdministration",
        medicationReference={"reference": "#med"},
        effectiveDateTime="2024-05-05",
        contained=[{"resourceType": "Medication", "id": "med", "code": {"text": "Bortezomib 3.5 mg"}}],
    )
    del m["medicationCodeableConcept"], m["authoredOn"]
    [e] = events(mapping, m)
    assert (e.agent, e.neurotoxic, e.summary) == ("bortezomib", True, "Bortezomib 3.5 mg")


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ({"authoredOn": "soon"}, "authoredOn is not a FHIR date: 'soon'"),
        ({"authoredOn": None, "effectiveDateTime": "soon"}, "effectiveDateTime is not a FHIR date: 'soon'"),
        (
            {"authoredOn": None, "effectivePeriod": {"start": "soon"}},
            "effectivePeriod.start is not a FHIR date: 'soon'",
        ),
        ({"effectivePeriod": {"end": "later"}}, "effectivePeriod.end is not a FHIR date: 'later'"),
    ],
)
def test_a_bad_medication_date_is_an_error_that_names_the_element(mapping, dates, message):
    m = med("MedicationStatement", **dates)
    if m.get("authoredOn") is None:
        del m["authoredOn"]
    ex = extract(make_record(m), mapping)
    assert ex.events == []
    [err] = ex.errors
    assert err.message == message


def test_a_request_ends_on_its_dosages_last_day_and_an_administration_on_its_own(mapping):
    # probe35: a stopped bortezomib order with boundsPeriod.end kept the neurotoxic caution "in-progress"
    [e] = events(mapping, med(dosageInstruction=[bounds("2021-02-01"), bounds("2021-03-01")]))
    assert e.end is None  # the bounds helper states no end: open-ended
    ended = med(
        dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2021-02-01", "end": "2021-04-08"}}}},
            {"timing": {"repeat": {"boundsPeriod": {"start": "2021-02-01", "end": "2021-03-01"}}}},
        ]
    )
    [e] = events(mapping, ended)
    assert (e.effective, e.end) == (dt.date(2021, 2, 1), dt.date(2021, 4, 8))
    one_open = med(
        dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2021-02-01", "end": "2021-04-08"}}}},
            {"timing": {"repeat": {"boundsPeriod": {"start": "2021-02-01"}}}},
        ]
    )
    assert events(mapping, one_open)[0].end is None
    [dose] = events(mapping, med("MedicationAdministration", effectiveDateTime="2021-05-13"))
    assert (dose.effective, dose.end) == (dt.date(2021, 5, 13), dt.date(2021, 5, 13))
