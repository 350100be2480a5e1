"""A corrected result sent as a new resource replaces the one it corrects (probe62 D1-D5).

FHIR observation-status "corrected"/"amended": the result was modified after it was final. EHRs send the
correction as a new resource with the same business identifier and a later ``issued``; read as a second,
independent result, the erroneous original kept counting ("present at any time")."""

from __future__ import annotations

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.engine import evaluate
from poems_fhir.mapping.corrections import replaced_results
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report, make_record, observation

LIS = "urn:oid:1.2.3.4.5.lis"
IFE = "25700-6"  # serum immunofixation
VEGF = "75628-8"


def ife(rid: str, text: str, status: str = "final", issued: str = "2024-01-02T12:00:00Z", **more):
    return observation(IFE, rid, status=status, issued=issued, valueString=text, **more)


def acc(value: str) -> list[dict[str, str]]:
    return [{"system": LIS, "value": value}]


def pairs(*resources):
    return [(f"{r['resourceType']}/{r['id']}", r) for r in resources]


def test_a_later_version_with_the_same_identifier_replaces_the_earlier():
    first = ife("a", "IgA lambda", identifier=acc("ACC1"))
    fixed = ife("b", "No monoclonal protein detected", "corrected", "2024-01-04T09:00:00Z", identifier=acc("ACC1"))
    found = replaced_results(pairs(first, fixed))
    assert list(found) == ["Observation/a"]
    assert (found["Observation/a"].by, found["Observation/a"].status) == ("Observation/b", "corrected")
    assert found["Observation/a"].why == "same identifier"
    # order of the input does not matter; the latest version wins over an intermediate one
    middle = ife("m", "IgA kappa", "amended", "2024-01-03T09:00:00Z", identifier=acc("ACC1"))
    found = replaced_results(pairs(fixed, middle, first))
    assert {k: v.by for k, v in found.items()} == {"Observation/a": "Observation/b", "Observation/m": "Observation/b"}


def test_a_correction_without_the_identifier_replaces_the_same_test_taken_at_the_same_time():
    first = ife("a", "IgA lambda")
    fixed = ife("b", "Negative", "corrected", "2024-01-04T09:00:00Z")
    assert replaced_results(pairs(first, fixed))["Observation/a"].why == "correction of the same test at the same time"
    # a later final result of the same test on the same day is a second result, not a correction
    assert replaced_results(pairs(first, ife("c", "Negative", "final", "2024-01-04T09:00:00Z"))) == {}
    # nor is a correction of a sample taken on another day, of another specimen, or of another test
    other_day = ife("d", "Negative", "corrected", "2024-01-09T09:00:00Z", effectiveDateTime="2024-01-08")
    other_specimen = ife("e", "Negative", "corrected", "2024-01-04T09:00:00Z", specimen={"reference": "Specimen/2"})
    other_test = observation(VEGF, "f", status="corrected", issued="2024-01-04T09:00:00Z")
    assert replaced_results(pairs(first, other_day, other_specimen, other_test)) == {}


def test_the_same_identifier_on_another_test_is_an_accession_not_a_version():
    """An accession number is often shared by every test of one order: it makes no two tests one result."""
    first = ife("a", "IgA lambda", identifier=acc("ACC1"))
    vegf = observation(VEGF, "v", status="corrected", issued="2024-01-05T00:00:00Z", identifier=acc("ACC1"))
    assert replaced_results(pairs(first, vegf)) == {}


def test_a_series_under_one_standing_order_identifier_is_no_set_of_versions():
    """Daily counts drawn under one standing order carry its identifier: each is its own result."""
    day1 = ife("a", "IgA lambda", identifier=acc("ORDER9"))
    day2 = ife(
        "b", "Negative", "final", "2024-01-09T09:00:00Z", identifier=acc("ORDER9"), effectiveDateTime="2024-01-08"
    )
    assert replaced_results(pairs(day1, day2)) == {}


def test_an_identifier_without_a_system_or_a_test_of_another_name_is_no_version():
    """probe65 D2/D3: bare identifier values, and two reports ("CT abdomen", "CT head") under one generic
    code and one visit identifier, were merged."""
    bare = [{"value": "1001"}]
    assert (
        replaced_results(
            pairs(
                ife("a", "IgA lambda", identifier=bare),
                ife("b", "Negative", "final", "2024-01-09T00:00:00Z", identifier=bare),
            )
        )
        == {}
    )
    generic = {"coding": [{"system": "http://snomed.info/sct", "code": "77477000"}]}
    ct1 = {
        **diagnostic_report("ct1", "CT abdomen", "Sclerotic lesion."),
        "code": {**generic, "text": "CT abdomen"},
        "identifier": acc("VISIT1"),
        "issued": "2024-01-01T10:00:00Z",
    }
    ct2 = {
        **diagnostic_report("ct2", "CT head", "Normal."),
        "code": {**generic, "text": "CT head"},
        "identifier": acc("VISIT1"),
        "issued": "2024-01-01T11:00:00Z",
    }
    assert replaced_results(pairs(ct1, ct2)) == {}


def vegf(rid: str, value: float, name: str, status: str, issued: str) -> dict:
    code = {"coding": [{"system": "http://loinc.org", "code": "75628-8"}], "text": name}
    quantity = {"value": value, "unit": "pg/mL"}
    return observation(code, rid, status=status, issued=issued, identifier=acc("V1"), valueQuantity=quantity)


def test_a_lab_result_corrected_under_another_display_name_is_still_the_same_test():
    """A lab code is the test: the correction's code.text ("VEGF plasma" for "VEGF, plasma") changes nothing."""
    first = vegf("a", 624, "VEGF, plasma", "final", "2024-01-02T12:00:00Z")
    fixed = vegf("b", 150, "VEGF plasma", "corrected", "2024-01-03T12:00:00Z")
    assert replaced_results(pairs(first, fixed))["Observation/a"].by == "Observation/b"


def test_versions_that_cannot_be_ordered_both_stand():
    a = ife("a", "IgA lambda", identifier=acc("ACC1"))
    b = ife("b", "Negative", identifier=acc("ACC1"))  # same status, same issued
    assert replaced_results(pairs(a, b)) == {}
    # without issued, meta.lastUpdated orders them; an undated correction is later than an undated original
    a2 = {
        **ife("a", "IgA lambda", identifier=acc("ACC1")),
        "issued": None,
        "meta": {"lastUpdated": "2024-01-02T00:00:00Z"},
    }
    b2 = {
        **ife("b", "Negative", identifier=acc("ACC1")),
        "issued": None,
        "meta": {"lastUpdated": "2024-01-05T00:00:00Z"},
    }
    assert replaced_results(pairs(b2, a2))["Observation/a"].by == "Observation/b"
    a3 = {**ife("a", "IgA lambda"), "issued": None}
    b3 = {**ife("b", "Negative", "corrected"), "issued": None}
    assert replaced_results(pairs(a3, b3))["Observation/a"].by == "Observation/b"


def test_a_clone_free_patient_is_not_met_on_an_immunofixation_corrected_to_negative(mapping):
    """probe62 D1: "IgA lambda" corrected to "No monoclonal protein detected" (wrong patient) still made
    the mandatory clone present; the original is not read, the correction is, and the report lists it."""
    first = ife("a", "IgA lambda", identifier=acc("ACC1"))
    fixed = ife("b", "No monoclonal protein detected", "corrected", "2024-01-04T09:00:00Z", identifier=acc("ACC1"))
    out = extract(make_record(first, fixed), mapping)
    clone = [f for f in out.findings if f.topic == Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value]
    assert clone and {f.evidence.reference for f in clone} == {"Observation/b"}
    assert {f.state for f in clone} == {State.ABSENT}
    assert "Observation/a" not in out.used
    (note,) = [n for n in out.notes if n.kind == "replaced"]
    assert (note.reference, note.detail) == ("Observation/a", "replaced by Observation/b (corrected; same identifier)")
    result = evaluate("Patient/p1", out.findings, MAYO, None)
    assert result.criteria[Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value].state is State.ABSENT


def test_a_corrected_imaging_report_replaces_the_report_and_what_it_said(mapping):
    """probe62 D4: a CT "Sclerotic lesion in L2" corrected to "No sclerotic bone lesions"."""
    first = {
        **diagnostic_report("ct1", "CT whole body", "Sclerotic lesion in L2."),
        "identifier": acc("CT2"),
        "issued": "2024-01-01T12:00:00Z",
    }
    fixed = {
        **diagnostic_report("ct2", "CT whole body", "No sclerotic bone lesions."),
        "identifier": acc("CT2"),
        "status": "corrected",
        "issued": "2024-01-02T12:00:00Z",
    }
    out = extract(make_record(first, fixed), mapping)
    bone = [f for f in out.findings if f.topic == Criterion.SCLEROTIC_BONE_LESIONS.value]
    assert bone and {(f.state, f.evidence.reference) for f in bone} == {(State.ABSENT, "DiagnosticReport/ct2")}


def test_many_versions_of_one_result_are_replaced_by_the_latest_without_pairwise_comparison():
    """A hostile or long-lived record: 20,000 versions of one result under one identifier (a pairwise
    comparison was 400 million steps); every earlier one is replaced by the latest."""
    versions = [
        ife(
            f"v{i}",
            "Negative",
            "corrected" if i else "final",
            f"2024-01-02T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            identifier=acc("ACC1"),
        )
        for i in range(20_000)
    ]
    found = replaced_results(pairs(*versions))
    assert len(found) == 19_999 and {r.by for r in found.values()} == {"Observation/v19999"}
