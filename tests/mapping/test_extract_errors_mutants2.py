"""One bad resource costs that resource only (GUIDE "Safe sync": a bad resource is reported and skipped
while the rest goes on): nothing half-extracted from it survives, the error names it, and the
resources actually used are recorded with their version (for Provenance)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping import extract as extract_module
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.text.engine import TextEngineError
from tests.conftest import make_record, read_findings

LOINC, SCT, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"


def q(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def platelets(rid: str, value: float = 500, **kw: Any) -> dict[str, Any]:
    o = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": LOINC, "code": "777-3"}]},
        "effectiveDateTime": "2024-01-02",
        "valueQuantity": q(value, "10*9/L"),
    }
    o.update(kw)
    return o


def test_an_error_in_one_part_drops_everything_read_from_that_resource(mapping):
    panel = platelets(
        "bad",
        component=[
            {"code": {"coding": [{"system": LOINC, "code": "718-7"}]}, "valueQuantity": q(170, "g/L")},
            {"code": {"coding": [{"system": LOINC, "code": "75628-8"}]}, "valueString": "abc"},
        ],
    )
    ex = extract(make_record(panel, platelets("good", meta={"versionId": "3"})), mapping)
    assert [f.evidence.reference for f in read_findings(ex.findings)] == ["Observation/good"]
    assert [m.reference for m in ex.measurements] == ["Observation/good"]
    [err] = ex.errors
    assert (err.source, err.resource, err.internal) == ("test#0", "Observation/bad", False)
    assert err.message == "component[1].value: expected a Quantity for vegf, found valueString"
    [(ref, exc)] = ex.rejected
    assert ref == "Observation/bad" and str(exc) == err.message
    # the bad one is cited by its criterion as a result on record, not read (probe102 A2)
    assert ex.used == {"Observation/good": "3", "Observation/bad": None}


def test_an_element_of_the_wrong_json_type_is_a_malformed_resource_not_a_crash(mapping):
    cond = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": SCT, "code": "80515008"}]},
        "evidence": ["not an object"],
    }
    ex = extract(make_record(cond, platelets("good")), mapping)
    assert [f.evidence.reference for f in ex.findings] == ["Observation/good"]
    [err] = ex.errors
    assert err.message == "malformed Condition: an element has the wrong JSON type (AttributeError)"
    assert (err.resource, err.internal) == ("Condition/c1", False)
    assert [ref for ref, _ in ex.rejected] == ["Condition/c1"]


def test_an_unexpected_error_is_an_internal_error_for_that_resource_only(mapping, monkeypatch):
    def boom(raw, record, mapping, out):
        out.findings.append(out.findings[0])  # something half-done, then a bug
        raise ValueError("bug")

    monkeypatch.setitem(extract_module._HANDLERS, "Procedure", boom)
    proc = {"resourceType": "Procedure", "id": "pr1", "status": "completed", "subject": {"reference": "Patient/p1"}}
    ex = extract(make_record(platelets("good"), proc, platelets("after", 100)), mapping)
    assert [(f.evidence.reference, f.state) for f in ex.findings] == [
        ("Observation/good", State.PRESENT),
        ("Observation/after", State.ABSENT),
        ("Observation/after", State.PRESENT),
    ]
    [err] = ex.errors
    assert err.internal is True and err.resource == "Procedure/pr1"
    assert err.message.startswith("internal error (ValueError: bug); skipped")
    assert ex.rejected == []


@pytest.mark.parametrize(("meta", "version"), [({"versionId": "7"}, "7"), ("not an object", None), (None, None)])
def test_a_resource_used_is_recorded_with_its_version(mapping, meta, version):
    o = platelets("o1") if meta is None else platelets("o1", meta=meta)
    ex = extract(make_record(o), mapping)
    assert ex.used == {"Observation/o1": version}


def test_a_resource_that_gave_nothing_is_not_recorded_as_used(mapping):
    vitals = {
        "resourceType": "Observation",
        "id": "v1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
        "valueQuantity": q(80, "/min"),
        "meta": {"versionId": "2"},
    }
    ex = extract(make_record(vitals, {"resourceType": "Encounter", "id": "e1"}), mapping)
    assert ex.used == {} and ex.findings == [] and ex.errors == []


def hepatomegaly_question(rid: str, **kw: Any) -> dict[str, Any]:
    o = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "Hepatomegaly"},
        "effectiveDateTime": "2024-01-02",
    }
    o.update(kw)
    return o


def test_a_finding_read_from_text_records_its_resource_as_used(mapping):
    ex = extract(
        make_record(hepatomegaly_question("t1", meta={"versionId": "4"}), hepatomegaly_question("t2")), mapping
    )
    assert sorted(f.evidence.reference for f in ex.findings) == ["Observation/t1", "Observation/t2"]
    assert ex.used == {"Observation/t1": "4", "Observation/t2": None}


def test_a_text_engine_failure_reports_each_text_and_the_coded_facts_stay(mapping, monkeypatch):
    def fail(texts, failures=None, cuts=None, studies=()):
        raise TextEngineError("model not loaded")

    monkeypatch.setattr(mapping.text, "assert_texts", fail)
    ex = extract(make_record(hepatomegaly_question("t1"), platelets("good")), mapping)
    assert [f.evidence.reference for f in ex.findings] == ["Observation/good"]
    [err] = ex.errors
    assert (err.source, err.resource, err.message) == (
        "Observation/t1",
        "Observation/t1",
        "code.text: model not loaded",
    )


def test_resources_no_handler_reads_are_passed_over_not_the_end(mapping):
    ex = extract(
        make_record(
            {"resourceType": "Encounter", "id": "e1"}, {"resourceType": "Specimen", "id": "s9"}, platelets("after")
        ),
        mapping,
    )
    assert [f.evidence.reference for f in ex.findings] == ["Observation/after"]


RADIOTHERAPY = {
    "resourceType": "Procedure",
    "id": "rt1",
    "status": "completed",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": SCT, "code": "108290001"}]},
    "performedDateTime": "2024-02-01",
}


def earlier_resources() -> list[dict[str, Any]]:
    # before the bad one: 3 coded findings (two from platelets 100, one Condition), 2 measurements, 1 event,
    # 0 courses, and a text job (its finding comes at the end)
    albumin = platelets("alb", code={"coding": [{"system": LOINC, "code": "1751-7"}]}, valueQuantity=q(30, "g/L"))
    spleen = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": SCT, "code": "16294009"}]},
    }
    return [platelets("low", 100), albumin, spleen, dict(RADIOTHERAPY), hepatomegaly_question("t1")]


def kept(ex) -> tuple[list[str], list[str], list[str]]:
    return (
        sorted(f"{f.evidence.reference}:{f.topic}" for f in ex.findings),
        [m.reference for m in ex.measurements],
        [e.reference for e in ex.events],
    )


EXPECTED = (
    [
        "Condition/c1:organomegaly",
        "Observation/low:thrombocytopenia",
        "Observation/low:thrombocytosis_polycythemia",
        "Observation/t1:organomegaly",
    ],
    ["Observation/low", "Observation/alb"],
    ["Procedure/rt1"],
)


def test_a_bad_resource_after_good_ones_drops_only_its_own_parts(mapping):
    bad = platelets(
        "bad", component=[{"code": {"coding": [{"system": LOINC, "code": "75628-8"}]}, "valueString": "abc"}]
    )
    ex = extract(make_record(*earlier_resources(), bad), mapping)
    findings, *rest = EXPECTED
    # ... and its VEGF is named as a result on record, not read (probe102 A2)
    assert kept(ex) == (sorted([*findings, "Observation/bad:vegf_elevation"]), *rest)
    assert [e.resource for e in ex.errors] == ["Observation/bad"]


def test_an_internal_error_after_good_resources_drops_only_its_own_parts(mapping, monkeypatch):
    def boom(raw, record, mapping, out):
        out.findings.append(out.findings[0])
        out.measurements.append(out.measurements[0])
        raise ValueError("bug")

    monkeypatch.setitem(extract_module._HANDLERS, "MedicationRequest", boom)
    bad = {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "subject": {"reference": "Patient/p1"}}
    ex = extract(make_record(*earlier_resources(), bad), mapping)
    assert kept(ex) == EXPECTED
    [err] = ex.errors
    assert (err.source, err.resource, err.internal) == ("test#5", "MedicationRequest/m1", True)
