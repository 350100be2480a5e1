"""FHIR JSON -> findings: every value[x] shape, statuses, units, specimens, reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.model import State, Strength
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


def obs(code: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": value.pop("status", "final"),
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        **value,
    }


def q(value: float, unit: str, ucum: bool = True) -> dict[str, Any]:
    return {"value": value, "unit": unit, **({"system": UCUM, "code": unit} if ucum else {})}


def cond(system: str, code: str, verification: str | None = None, **extra: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "Condition",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "recordedDate": "2024-01-01",
        **extra,
    }
    if verification:
        r["verificationStatus"] = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification}]
        }
    return r


def run(mapping, *resources, gender="male"):
    return extract(make_record(*resources, gender=gender), mapping)


def states(ex, topic):
    return [f.state for f in ex.findings if f.topic == topic]


# --- value[x] shapes -----------------------------------------------------------------------


def test_value_quantity_with_unit_conversion(mapping):
    ex = run(mapping, obs("33358-3", valueQuantity=q(0.77, "g/dL")))
    assert ex.measurements[0].value == pytest.approx(7.7) and ex.measurements[0].unit == "g/L"
    assert states(ex, "monoclonal_plasma_cell_disorder") == [State.PRESENT]


def test_value_quantity_unit_alias_without_ucum_code(mapping):
    ex = run(mapping, obs("777-3", valueQuantity=q(480, "x10^9/L", ucum=False)))
    assert ex.measurements[0].value == 480
    assert states(ex, "thrombocytosis_polycythemia") == [State.PRESENT]


def test_unknown_unit_is_an_error_on_that_observation_only(mapping):
    ex = run(mapping, obs("777-3", valueQuantity=q(480, "lots", ucum=False)), obs("33358-3", valueQuantity=q(5, "g/L")))
    assert len(ex.errors) == 1 and "lots" in ex.errors[0].message
    assert ex.errors[0].resource == "Observation/r0"
    assert states(ex, "monoclonal_plasma_cell_disorder") == [State.PRESENT]
    assert not [m for m in ex.measurements if m.analyte == "platelets"]


def test_missing_unit_is_not_guessed(mapping):
    ex = run(mapping, obs("777-3", valueQuantity={"value": 480}))
    assert "no unit" in ex.errors[0].message


def test_value_codeable_concept_ife(mapping):
    ex = run(mapping, obs("25700-6", valueCodeableConcept={"text": "IgG-λ"}))
    (finding,) = ex.findings
    assert (finding.state, finding.heavy_chain, finding.light_chain) == (State.PRESENT, "IgG", "lambda")


def test_value_codeable_concept_snomed_negative(mapping):
    ex = run(mapping, obs("13440-3", valueCodeableConcept={"coding": [{"system": SCT, "code": "260385009"}]}))
    assert states(ex, "monoclonal_plasma_cell_disorder") == [State.ABSENT]


def test_value_string_ife_and_unrecognised_text_is_reported(mapping):
    ex = run(mapping, obs("25700-6", valueString="IgA/λ"), obs("25700-6", valueString="see comment"))
    # the unrecognised one is named as a result on record, not read (probe102 A2)
    assert states(ex, "monoclonal_plasma_cell_disorder") == [State.PRESENT, State.NOT_ASSESSED]
    assert "unrecognised immunofixation" in ex.errors[0].message


def test_value_boolean_exam_finding(mapping):
    finding_obs = {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "H47.10"}]},
        "effectiveDateTime": "2024-01-02",
        "valueBoolean": False,
    }
    ex = run(mapping, finding_obs)
    assert states(ex, "papilledema") == [State.ABSENT]


def test_value_integer_needs_a_unit_for_dimensioned_rules(mapping):
    ex = run(mapping, obs("777-3", valueInteger=480))
    assert "valueInteger 480 has no unit" in ex.errors[0].message


def test_value_ratio_for_flc_ratio(mapping):
    ratio = {"numerator": {"value": 1}, "denominator": {"value": 20}}
    ex = run(mapping, obs("48378-4", valueRatio=ratio, interpretation=[{"coding": [{"code": "L"}]}]))
    assert ex.measurements[0].value == pytest.approx(0.05)
    (finding,) = ex.findings
    assert finding.light_chain == "lambda" and finding.state is State.PRESENT


def test_components_are_read(mapping):
    panel = obs(
        "0000-0",
        component=[{"code": {"coding": [{"system": LOINC, "code": "777-3"}]}, "valueQuantity": q(300, "10*9/L")}],
    )
    ex = run(mapping, panel)
    assert states(ex, "thrombocytosis_polycythemia") == [State.ABSENT]


def test_string_number_without_unit_is_reported_not_guessed(mapping):
    # issue #8: "<50" is now read as a censored number, but without a unit or a lab range its
    # magnitude is unknown, so it is still reported rather than guessed
    ex = run(mapping, obs("75628-8", valueString="less than 50"))
    assert "has no unit" in ex.errors[0].message and "not guessed" in ex.errors[0].message


# --- statuses and absent data ---------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["entered-in-error", "cancelled", "ENTERED-IN-ERROR", "Cancelled", "entered_in_error", " cancelled "]
)
def test_ignored_observation_statuses(mapping, status):
    # probe32: the garbled spellings were read as valid results
    ex = run(mapping, obs("25700-6", valueString="IgA lambda", status=status))
    assert ex.findings == [] and ex.errors == []


def test_a_status_that_is_no_fhir_code_is_a_reported_skip(mapping):
    ex = run(mapping, obs("75628-8", status="withdrawn", valueQuantity=q(1500, "pg/mL")))
    assert ex.findings == [] and ex.measurements == []
    assert ex.errors[0].message.startswith("status 'withdrawn' is not a FHIR result status (amended, appended,")
    ok = run(mapping, obs("75628-8", status="FINAL", valueQuantity=q(1500, "pg/mL")))
    assert ok.errors == [] and states(ok, "vegf_elevation") != []
    # the message quotes the status as the resource wrote it, not our normalised spelling (mutation seed 22)
    odd = run(mapping, obs("75628-8", status="Not_Verified", valueQuantity=q(1500, "pg/mL")))
    assert odd.errors[0].message.startswith("status 'Not_Verified' is not a FHIR result status")


def test_a_registered_observation_has_no_result_yet_so_nothing_is_read_and_nothing_is_wrong(mapping):
    # FHIR: "registered - the existence of the observation is registered, but there is no result yet
    # available"; such a VEGF order without a value was reported as a bad resource (probe13)
    ex = run(mapping, obs("75628-8", status="registered"))
    assert ex.errors == [] and ex.findings == [] and ex.measurements == []
    ex = run(mapping, obs("75628-8", status="registered", valueQuantity=q(1500, "pg/mL")))
    assert ex.errors == [] and ex.findings == [] and ex.measurements == []  # not a result yet
    ex = run(mapping, obs("75628-8", status="preliminary", valueQuantity=q(1500, "pg/mL")))
    assert states(ex, "vegf_elevation") != []  # a preliminary result is a result


def test_data_absent_reason_is_not_assessed(mapping):
    dar = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"}]}
    ex = run(mapping, obs("75628-8", dataAbsentReason=dar))
    assert states(ex, "vegf_elevation") == [State.NOT_ASSESSED]
    assert "not-performed" in ex.findings[0].evidence.summary


def test_condition_verification_statuses(mapping):
    ex = run(
        mapping,
        cond(SCT, "42345000"),
        cond(SCT, "16294009", "refuted"),
        cond(SCT, "60046008", "provisional"),
        cond(SCT, "30746006", "entered-in-error"),
    )
    assert states(ex, "polyneuropathy") == [State.PRESENT]
    assert states(ex, "organomegaly") == [State.ABSENT]
    assert states(ex, "extravascular_volume_overload") == [State.INDETERMINATE]
    assert len(ex.findings) == 3


def test_condition_onset_and_evidence_detail(mapping):
    c = cond(SCT, "42345000", onsetDateTime="2015", evidence=[{"detail": [{"reference": "Observation/ncs"}]}])
    (finding,) = run(mapping, c).findings
    assert finding.effective.isoformat() == "2015-01-01"
    assert finding.evidence.supporting == ("Observation/ncs",)


@pytest.mark.parametrize(
    ("age", "birth", "onset"),
    [
        ({"value": 59, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}, "1962-05-10", "2021-05-10"),
        ({"value": 59, "unit": "years"}, "1962", "2021-01-01"),
        ({"value": 18, "code": "mo"}, "2000-11-30", "2002-05-30"),  # 18 months on: the same day of the month
        ({"value": 10, "code": "d"}, "2024-01-01", "2024-01-11"),
        # no birth date, no unit or an unknown one, no number: no date, as before
        ({"value": 59, "code": "a"}, None, None),
        ({"value": 59}, "1962-05-10", None),
        ({"value": 59, "code": "kg"}, "1962-05-10", None),
        ({"unit": "a"}, "1962-05-10", None),
    ],
)
def test_condition_onset_given_as_an_age_is_dated_from_the_birth_date(mapping, age, birth, onset):
    """probe49 D8: "onsetAge 59 a" was no date, so under --as-of the diagnosis counted as "no data"; it is
    the earliest day the onset can have been, the birth date plus the age."""
    c = cond(SCT, "42345000", onsetAge=age)
    c.pop("recordedDate", None)
    record = make_record(c)
    if birth:
        record.patient_resource["birthDate"] = birth  # type: ignore[index]
    (finding,) = extract(record, mapping).findings
    assert (finding.effective.isoformat() if finding.effective else None) == onset


def test_condition_also_topics(mapping):
    ex = run(mapping, cond(SCT, "128209004"))
    assert {f.topic for f in ex.findings} == {"polyneuropathy", "cidp"}


def test_poems_problem_list_entry_is_an_assertion_not_evidence(mapping):
    c = cond("http://example.org/local", "X1")
    c["code"]["text"] = "POEMS syndrome"
    (finding,) = run(mapping, c).findings
    assert finding.topic == "clinician_poems_assertion"


# --- thresholds, VEGF, endocrine ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "specimen", "rr_high", "expected"),
    [
        (250, "plasma", None, State.PRESENT),
        (150, "plasma", None, State.ABSENT),
        (150, "plasma", 96.2, State.INDETERMINATE),
        (80, "plasma", 96.2, State.ABSENT),
        (900, "serum", None, State.ABSENT),
        (1200, "serum", None, State.PRESENT),
        (1200, None, None, State.PRESENT),
        (150, None, None, State.ABSENT),
        (500, None, None, State.INDETERMINATE),
    ],
)
def test_vegf_cut_offs_per_specimen(mapping, value, specimen, rr_high, expected):
    extra: dict[str, Any] = {"valueQuantity": q(value, "pg/mL")}
    resources = []
    if specimen:
        code = {"plasma": "119361006", "serum": "119364003"}[specimen]
        resources.append({"resourceType": "Specimen", "id": "s1", "type": {"coding": [{"system": SCT, "code": code}]}})
        extra["specimen"] = {"reference": "Specimen/s1"}
    if rr_high:
        extra["referenceRange"] = [{"high": q(rr_high, "pg/mL")}]
    ex = run(mapping, *resources, obs("75628-8", **extra))
    assert states(ex, "vegf_elevation") == [expected]
    assert ex.findings[0].specimen == specimen


def test_vegf_specimen_from_contained_specimen(mapping):
    o = obs(
        "75628-8",
        valueQuantity=q(1200, "pg/mL"),
        specimen={"reference": "#s"},
        contained=[{"resourceType": "Specimen", "id": "s", "type": {"coding": [{"system": SCT, "code": "119364003"}]}}],
    )
    assert run(mapping, o).findings[0].specimen == "serum"


def test_platelets_prefer_lab_upper_limit_over_default(mapping):
    ex = run(mapping, obs("777-3", valueQuantity=q(420, "10*9/L"), referenceRange=[{"high": q(400, "10*9/L")}]))
    assert states(ex, "thrombocytosis_polycythemia") == [State.PRESENT]
    ex = run(mapping, obs("777-3", valueQuantity=q(420, "10*9/L")))
    assert states(ex, "thrombocytosis_polycythemia") == [State.ABSENT]  # default 450


@pytest.mark.parametrize(
    ("gender", "value", "expected"),
    [
        ("male", 163, State.ABSENT),
        ("female", 163, State.PRESENT),
        (None, 163, State.INDETERMINATE),
        (None, 170, State.PRESENT),
    ],
)
def test_hemoglobin_sex_specific(mapping, gender, value, expected):
    ex = run(mapping, obs("718-7", valueQuantity=q(value, "g/L")), gender=gender)
    assert states(ex, "thrombocytosis_polycythemia") == ([expected] if expected else [])


def test_low_hemoglobin_is_anaemia_sign(mapping):
    ex = run(mapping, obs("718-7", valueQuantity=q(9.0, "g/dL")))
    assert states(ex, "anemia") == [State.PRESENT]


def test_comparator_below_threshold(mapping):
    ex = run(mapping, obs("777-3", valueQuantity={**q(100, "10*9/L"), "comparator": "<"}))
    assert states(ex, "thrombocytosis_polycythemia") == [State.ABSENT]


def test_endocrine_abnormal_by_reference_range_and_normal_by_interpretation(mapping):
    ex = run(
        mapping,
        obs(
            "2986-8", valueQuantity=q(150, "ng/dL"), referenceRange=[{"low": q(8.6, "nmol/L"), "high": q(29, "nmol/L")}]
        ),
        obs("2143-6", valueQuantity=q(400, "nmol/L"), interpretation=[{"coding": [{"code": "N"}]}]),
        obs("2731-8", valueQuantity=q(40, "pg/mL")),
    )
    by_axis = {f.axis.value: f.state for f in ex.findings}
    assert by_axis == {"gonadal": State.PRESENT, "adrenal": State.ABSENT, "parathyroid": State.INDETERMINATE}


def test_m_protein_zero_is_weak_negative(mapping):
    (finding,) = run(mapping, obs("33358-3", valueQuantity=q(0, "g/L"))).findings
    assert finding.state is State.ABSENT and finding.strength is Strength.WEAK


# --- reports ----------------------------------------------------------------------------------


def report(code_text: str, conclusion: str, *, category: str = "RAD", codes=None) -> dict[str, Any]:
    r = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"text": code_text},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": category}]}],
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-02-01",
        "conclusion": conclusion,
    }
    if codes:
        r["conclusionCode"] = codes
    return r


def test_negative_radiograph_is_weak_negative_ct_strong(mapping):
    (xray,) = run(mapping, report("X-ray skeletal survey", "No typical sclerotic bone changes.")).findings
    assert (xray.state, xray.strength) == (State.ABSENT, Strength.WEAK)
    (ct,) = run(mapping, report("CT whole body", "No sclerotic lesions.")).findings
    assert (ct.state, ct.strength) == (State.ABSENT, Strength.STRONG)


def test_positive_imaging_text_and_conclusion_codes(mapping):
    ex = run(
        mapping,
        report(
            "PET-CT", "Sclerotic lesion in T7. Splenomegaly.", codes=[{"coding": [{"system": SCT, "code": "16294009"}]}]
        ),
    )
    assert {(f.topic, f.state) for f in ex.findings} == {
        ("sclerotic_bone_lesions", State.PRESENT),
        ("organomegaly", State.PRESENT),
    }


def test_castleman_needs_histology_not_imaging(mapping):
    assert run(mapping, report("CT abdomen", "Lymph nodes, consider Castleman disease.")).findings == []
    ex = run(mapping, report("Lymph node biopsy", "No evidence of Castleman disease.", category="SP"))
    assert states(ex, "castleman_disease") == [State.ABSENT]


def test_laboratory_reports_are_left_to_their_observations(mapping):
    assert run(mapping, report("CBC panel", "sclerotic", category="LAB")).findings == []


def test_vegf_confounder_condition(mapping):
    ex = run(mapping, cond("http://hl7.org/fhir/sid/icd-10-cm", "J44.9"))
    assert states(ex, "vegf_confounder") == [State.PRESENT]


# --- the nerve-conduction study: a procedure most records state as a report --------------------


def _report(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"text": text},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2019-02-10",
        **extra,
    }


@pytest.mark.parametrize(
    "name",
    [
        "Nerve conduction study, lower limbs",
        "NCS/EMG",
        "Electromyography",
        "ЭНМГ нижних конечностей",
        "Электронейромиография",
    ],
)
def test_a_nerve_conduction_report_or_procedure_records_the_study(mapping, name):
    ex = run(mapping, _report(name, conclusion="Demyelinating sensorimotor polyneuropathy."))
    (event,) = [e for e in ex.events if e.kind == "nerve_conduction_study"]
    assert event.effective is not None and event.effective.isoformat() == "2019-02-10"
    # the report is cited as the study's evidence: the same reference its conclusion's finding has
    assert [f.evidence.reference for f in ex.findings if f.topic == "polyneuropathy"] == [event.reference]
    procedure = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": {"text": name},
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": "2019-02-11",
    }
    assert [e.kind for e in run(mapping, procedure).events] == ["nerve_conduction_study"]


def test_a_referral_or_an_unrelated_report_records_no_study(mapping):
    for name in ("Referral for NCS", "Consultation neurology EMG", "Chest X-ray", "Echocardiography report"):
        assert not [e for e in run(mapping, _report(name)).events if e.kind == "nerve_conduction_study"], name
    registered = _report("EMG", status="registered")  # ordered, not done
    assert run(mapping, registered).events == []


def test_a_site_code_for_the_study_is_read_from_a_report_code(mapping):
    coded = _report(
        "", code={"coding": [{"system": "https://poems-fhir.org/CodeSystem/local", "code": "nerve-conduction-study"}]}
    )
    assert [e.kind for e in run(mapping, coded).events] == ["nerve_conduction_study"]


@pytest.mark.parametrize(
    "age", [{"value": -5, "code": "a"}, {"value": 1e308, "code": "a"}, {"value": 200, "unit": "years"}]
)
def test_an_onset_age_no_person_reaches_is_a_reported_skip(mapping, age):
    """probe54 D2: an onsetAge of -5 or 1e308 years left the Condition undated and unreported (under --as-of
    the polyneuropathy then said "no data"); a negative VEGF is refused and listed - so is this."""
    record = make_record(cond(SCT, "42345000", onsetAge=age))
    record.patient_resource["birthDate"] = "1962-05-10"  # type: ignore[index]
    ex = extract(record, mapping)
    assert ex.findings == []
    (error,) = ex.errors
    assert "is no age a person reaches" in error.message and error.resource.startswith("Condition/")


@pytest.mark.parametrize(
    ("status", "resolved"),
    [("active", False), ("Resolved", True), ("REMISSION", True), ("inactive", True), (None, False)],
)
def test_clinical_status_is_read_as_a_fhir_code_whatever_its_case(mapping, status, resolved):
    extra = {"abatementDateTime": "2023-05-01"}
    if status is not None:
        extra["clinicalStatus"] = {"coding": [{"code": status}]}
    (finding,) = run(mapping, cond(SCT, "42345000", **extra)).findings
    assert (finding.resolved_on is not None) is resolved


def test_a_clinical_status_that_is_no_fhir_code_is_a_reported_skip(mapping):
    """probe54 D3: an unknown clinicalStatus was accepted silently and printed as a status ("confirmed,
    bogus"), where an unknown verificationStatus is refused and listed."""
    c = cond(SCT, "42345000", clinicalStatus={"coding": [{"code": "bogus"}]})
    ex = run(mapping, c)
    assert ex.findings == []
    (error,) = ex.errors
    assert error.message.startswith("clinicalStatus 'bogus' is no FHIR code")
    # a display or text that says it is read, as for verificationStatus
    shown = cond(
        SCT, "42345000", clinicalStatus={"coding": [{"system": "http://local", "code": "A1", "display": "Active"}]}
    )
    assert len(run(mapping, shown).findings) == 1


def test_a_blank_display_is_no_name(mapping):
    """probe54 D4: a display of " " gave the evidence "IgG kappa,   (confirmed)"."""
    c = cond(SCT, "42345000")
    c["code"]["coding"][0]["display"] = " "
    c["code"]["coding"].append({"system": "http://local", "code": "x", "display": "Polyneuropathy"})
    (finding,) = run(mapping, c).findings
    assert finding.evidence.summary == "Polyneuropathy (confirmed)"


# --- treatments dated in words (probe79 D8) --------------------------------------------------


def _transplant(**performed: Any) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": "asct",
        "status": performed.pop("status", "completed"),
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "709115004"}], "text": "autologous HSCT"},
        "subject": {"reference": "Patient/p1"},
        **performed,
    }


def test_a_treatment_dated_by_a_month_in_words_starts_on_its_first_day_and_says_so(mapping):
    ex = run(mapping, _transplant(performedString="February 2024"))
    (event,) = [e for e in ex.events if e.reference == "Procedure/asct"]
    assert event.effective == dt.date(2024, 2, 1) and ex.errors == []
    assert (
        "performedString 'February 2024' read as 2024-02 (a partial date: counted from its first day" in event.summary
    )
    assert [(n.kind, n.reference) for n in ex.notes if n.kind == "date_in_words"] == [
        ("date_in_words", "Procedure/asct")
    ]


@pytest.mark.parametrize(
    ("performed", "said"),
    [
        ({"performedString": "early 2024"}, "performedString 'early 2024'"),
        ({"performedAge": {"value": 59, "unit": "a"}}, "performed[x] is performedAge (no date)"),
        ({}, "no performed[x]"),
    ],
)
def test_a_treatment_on_no_readable_day_is_reported_not_dropped(mapping, performed, said):
    ex = run(mapping, _transplant(**performed))
    assert [e.effective for e in ex.events if e.reference == "Procedure/asct"] == [None]
    (error,) = ex.errors
    assert error.resource == "Procedure/asct"
    assert error.message.startswith(f"a treatment with no readable date: {said}; it cannot be placed on the timeline")
    assert [n.kind for n in ex.notes if n.reference == "Procedure/asct"] == ["undated_treatment"]
    # a treatment not given yet misses no day on the timeline: no problem
    assert run(mapping, _transplant(status="preparation", **performed)).errors == []


def test_an_undated_medication_is_reported_once_per_resource(mapping):
    regimen = {
        "resourceType": "MedicationStatement",
        "id": "vrd",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "Bortezomib, lenalidomide, dexamethasone (VRd)"},
    }
    ex = run(mapping, regimen)
    assert len([e for e in ex.events if e.reference == "MedicationStatement/vrd"]) >= 2
    (error,) = ex.errors
    assert error.resource == "MedicationStatement/vrd" and "no readable date: no effective[x]" in error.message
