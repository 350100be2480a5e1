"""probe99 D6: required elements and date order. An Observation (or report) without ``status`` (1..1 in FHIR
R4) is refused and listed; a Period ending before it starts (FHIR per-1) refuses its resource at the boundary;
a Condition abated before its onset is read - the diagnosis stands - with the problem listed and the
abatement date not used."""

from __future__ import annotations

from pathlib import Path

import pytest

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.fhir.read import read_paths
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report, make_record, observation

BUNDLE = Path(__file__).parent.parent / "fixtures" / "probe99" / "dates-and-status.json"


def read():
    result = read_paths([BUNDLE])
    (record,) = result.records
    return result, record


def test_an_observation_without_status_is_refused_and_listed(mapping):
    _, record = read()
    ex = extract(record, mapping)
    assert [f for f in ex.findings if f.topic == Criterion.VEGF_ELEVATION.value] == []
    messages = {e.resource: e.message for e in ex.errors}
    assert messages["Observation/vegf-no-status"] == (
        "Observation has no status (required in FHIR R4): whether it is final, preliminary or withdrawn "
        "cannot be told; not read - send the status"
    )


def test_a_report_without_status_is_refused_too(mapping):
    report = diagnostic_report("ct", "CT chest abdomen pelvis", "Splenomegaly.")
    del report["status"]
    ex = extract(make_record(report), mapping)
    assert ex.findings == []
    assert [e.message.split(":")[0] for e in ex.errors] == ["DiagnosticReport has no status (required in FHIR R4)"]


def test_an_effective_period_ending_before_it_starts_is_refused_at_the_boundary(mapping):
    result, record = read()
    (error,) = [e for e in result.errors if e.resource == "Observation/plt-period-backwards"]
    assert error.message == (
        "refused: Observation.effectivePeriod.end '2024-01-01' is before its start '2024-02-01' (FHIR per-1)"
    )
    assert "Observation/plt-period-backwards" not in {r.ref for r in record.resources}


def test_a_condition_abated_before_its_onset_is_read_with_the_problem_listed(mapping):
    _, record = read()
    ex = extract(record, mapping)
    organs = [f for f in ex.findings if f.topic == Criterion.ORGANOMEGALY.value]
    assert [f.state for f in organs] == [State.PRESENT]
    assert {e.resource: e.message for e in ex.errors}["Condition/spl-abated-before-onset"] == (
        "abatement 2020-01-01 is before onset 2024-05-01: one of the dates is wrong; the condition is read, "
        "as abated on an unknown date - correct the dates"
    )


def test_dates_in_order_or_of_unequal_precision_are_no_problem(mapping):
    ok = observation("75628-8", "v", valueQuantity={"value": 50, "unit": "pg/mL"})
    ok.pop("effectiveDateTime")
    ok["effectivePeriod"] = {"start": "2024-02", "end": "2024-02-15"}
    condition = {
        "resourceType": "Condition",
        "id": "c",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "16294009"}]},
        "onsetDateTime": "2024-05",
        "abatementDateTime": "2024-05-03",
    }
    ex = extract(make_record(ok, condition), mapping)
    assert ex.errors == []


@pytest.mark.parametrize("status", ["unknown", "UNKNOWN", " Unknown "])
def test_a_result_of_status_unknown_is_refused_and_listed_like_one_without_status(mapping, status):
    """probe140 D5: an immunofixation "Negative" of status unknown made the clone absent; the sender does not know
    whether it is final, preliminary or withdrawn - the reason a missing status is refused."""
    ife = observation("25700-6", valueString="Negative", status=status)
    report = diagnostic_report("ct", "CT chest abdomen pelvis", "No sclerotic lesions.")
    report["status"] = status
    ex = extract(make_record(ife, report), mapping)
    assert ex.findings == []
    assert sorted(e.message for e in ex.errors) == [
        f"{rtype} status 'unknown' (the sender does not know it): whether it is final, preliminary or withdrawn "
        "cannot be told; not read - send the status"
        for rtype in ("DiagnosticReport", "Observation")
    ]
