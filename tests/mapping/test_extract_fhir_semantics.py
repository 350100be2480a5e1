"""What FHIR says a resource means, beyond its code: a withdrawn container, another person's result,
a course's completion date (held-out probes 20 and 21)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

LOINC, SCT, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
PLASMA = {"resourceType": "Specimen", "id": "sp", "type": {"coding": [{"system": SCT, "code": "119361006"}]}}


def vegf(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "v1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "75628-8"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "specimen": {"reference": "#sp"},
        "valueQuantity": {"value": 850, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"},
        **extra,
    }


def report_containing(status: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "sendout",
        "status": status,
        "code": {"text": "Send-out VEGF"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "contained": [vegf(), PLASMA],
        "result": [{"reference": "#v1"}],
    }


def vegf_findings(*resources: dict[str, Any], mapping: Any) -> list[Any]:
    ex = extract(make_record(*resources), mapping)
    return [f for f in ex.findings if f.topic == "vegf_elevation"]


@pytest.mark.parametrize("status", ["final", "amended", "corrected", "preliminary"])
def test_a_reports_contained_results_are_read(mapping, status):
    found = vegf_findings(report_containing(status), mapping=mapping)
    assert [f.evidence.reference for f in found] == ["DiagnosticReport/sendout"]


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "registered"])
def test_a_withdrawn_cancelled_or_unreported_report_gives_none_of_its_contained_results(mapping, status):
    # probe21 C12/C13/C18: the contained Observation says "final", but it exists only inside its report
    assert vegf_findings(report_containing(status), mapping=mapping) == []


def test_a_result_about_another_person_is_reported_and_not_read(mapping):
    # probe21 I27: Observation.focus = the donor: "the actual focus ... when it is not the patient of record"
    donor = vegf(focus=[{"reference": "Patient/donor1"}], contained=[PLASMA])
    ex = extract(make_record(donor), mapping)
    assert not [f for f in ex.findings if f.topic == "vegf_elevation"]
    assert [e.resource for e in ex.errors] == ["Observation/v1"] and "another person" in ex.errors[0].message


@pytest.mark.parametrize(
    "focus",
    [
        # probe116 D7: a relative's record (FamilyMemberHistory) as the focus made a mimic `met`
        [{"reference": "FamilyMemberHistory/mother"}],
        [{"reference": "RelatedPerson/rp1"}],
        [{"type": "FamilyMemberHistory", "display": "mother"}],  # typed, no reference
        # probe117 D3: the relative's record contained, or by a urn:uuid the input does not hold
        [{"reference": "#fmh1"}],
        [{"reference": "urn:uuid:6a1f0c2e-1111-4a3b-9c0d-000000000117"}],
        [{"reference": "urn:uuid:6a1f0c2e-1111-4a3b-9c0d-000000000117", "type": "FamilyMemberHistory"}],
    ],
)
def test_a_focus_on_a_relative_is_another_person(mapping, focus):
    relative = {"resourceType": "FamilyMemberHistory", "id": "fmh1", "status": "completed"}
    ex = extract(make_record(vegf(focus=focus, contained=[PLASMA, relative])), mapping)
    assert not [f for f in ex.findings if f.topic == "vegf_elevation"]
    assert [e.resource for e in ex.errors] == ["Observation/v1"] and "another person" in ex.errors[0].message


@pytest.mark.parametrize(
    "focus",
    [
        [{"reference": "Patient/p1"}],  # the subject itself
        [{"reference": "http://example.org/fhir/Patient/p1"}],  # the subject, absolute
        [{"reference": "Specimen/sp"}],  # a thing, not a person
        [{"display": "the bone marrow"}],  # no reference
        [{"type": "Patient", "display": "the patient"}],  # typed Patient, no reference: may be the subject
        [{"reference": "#sp1"}],  # a contained thing
    ],
)
def test_a_focus_on_the_patient_or_on_a_thing_keeps_the_result(mapping, focus):
    thing = {"resourceType": "BodyStructure", "id": "sp1", "patient": {"reference": "Patient/p1"}}
    assert len(vegf_findings(vegf(focus=focus, contained=[PLASMA, thing]), mapping=mapping)) == 1


def procedure(code: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": "rt", "code": code, "subject": {"reference": "Patient/p1"}, **extra}


RADIOTHERAPY = {"coding": [{"system": SCT, "code": "108290001"}]}


def test_a_course_is_completed_at_the_end_of_its_period(mapping):
    # probe20 pw01: radiotherapy 2020-01-10 .. 2020-02-10 is completed on 2020-02-10
    p = procedure(RADIOTHERAPY, status="completed", performedPeriod={"start": "2020-01-10", "end": "2020-02-10"})
    (event,) = extract(make_record(p), mapping).events
    assert (event.kind, str(event.effective), str(event.end)) == ("radiotherapy", "2020-01-10", "2020-02-10")


def test_a_period_with_only_an_end_dates_the_procedure_by_it(mapping):
    p = procedure(RADIOTHERAPY, status="completed", performedPeriod={"end": "2020-02-10"})
    (event,) = extract(make_record(p), mapping).events
    assert str(event.effective) == str(event.end) == "2020-02-10"


def test_a_single_date_has_no_end(mapping):
    (event,) = extract(
        make_record(procedure(RADIOTHERAPY, status="completed", performedDateTime="2020-01-10")), mapping
    ).events
    assert str(event.effective) == "2020-01-10" and event.end is None


def test_a_focus_sent_as_one_object_is_read_as_its_list(mapping):
    # probe22 R-focus-type-confusion: {"focus": {"reference": "Patient/donor"}} (not a list) was read as own
    donor = vegf(focus={"reference": "Patient/donor1"}, contained=[PLASMA])
    ex = extract(make_record(donor), mapping)
    assert not [f for f in ex.findings if f.topic == "vegf_elevation"] and "another person" in ex.errors[0].message


@pytest.mark.parametrize("focus", ["Patient/donor1", 7, True])
def test_a_focus_of_another_json_type_is_a_reported_skip(mapping, focus):
    ex = extract(make_record(vegf(focus=focus, contained=[PLASMA])), mapping)
    assert not ex.findings and "Observation.focus is not a list" in ex.errors[0].message
