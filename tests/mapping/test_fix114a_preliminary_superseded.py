"""A preliminary or partial result is superseded by the final result of the same study (probe114 D1).

FHIR observation-status / diagnostic-report-status ``preliminary``/``partial``: "data in the report may be
incomplete and/or unverified". A final result of the same study sent as a new resource (a new id) replaced
it only when it shared the identifier: a preliminary VEGF 600 followed by a final 120 made the VEGF major
present and the patient `met`; a partial "Castleman" histology followed by a final "no Castleman" too."""

from __future__ import annotations

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.corrections import replaced_results
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report, make_record, observation

VEGF = "75628-8"


ORDER = [{"reference": "ServiceRequest/sr1"}]


def vegf(rid: str, value: float, status: str, issued: str | None, **more):
    more.setdefault("basedOn", ORDER)  # one order: the same study
    return observation(
        VEGF,
        rid,
        status=status,
        **({"issued": issued} if issued else {}),
        effectiveDateTime="2024-01-10",
        valueQuantity={"value": value, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
        **more,
    )


def pairs(*resources):
    return [(f"{r['resourceType']}/{r['id']}", r) for r in resources]


def test_a_final_result_of_the_same_draw_supersedes_the_preliminary():
    pre = vegf("v1", 600, "preliminary", "2024-01-10T10:00:00Z")
    fin = vegf("v2", 120, "final", "2024-01-11T10:00:00Z")
    found = replaced_results(pairs(fin, pre))
    assert list(found) == ["Observation/v1"]
    assert found["Observation/v1"].by == "Observation/v2"
    assert found["Observation/v1"].why == "final result of the same study (same order (basedOn))"
    # partial too, and amended/corrected supersede it as well
    part = vegf("v3", 600, "partial", "2024-01-10T10:00:00Z")
    assert replaced_results(pairs(part, vegf("v4", 120, "amended", "2024-01-11T10:00:00Z")))["Observation/v3"]


def test_the_same_study_is_an_identifier_an_order_or_a_specimen_in_common():
    order = [{"reference": "ServiceRequest/sr1"}]
    pre = vegf("v1", 600, "preliminary", "2024-01-10T10:00:00Z", basedOn=order)
    fin = {**vegf("v2", 120, "final", "2024-02-11T10:00:00Z", basedOn=order), "effectiveDateTime": "2024-02-10"}
    assert (
        replaced_results(pairs(pre, fin))["Observation/v1"].why
        == "final result of the same study (same order (basedOn))"
    )
    spec = {"reference": "Specimen/s1"}
    pre = vegf("v1", 600, "preliminary", "2024-01-10T10:00:00Z", specimen=spec, basedOn=[])
    fin = {
        **vegf("v2", 120, "final", "2024-02-11T10:00:00Z", specimen=spec, basedOn=[]),
        "effectiveDateTime": "2024-02-10",
    }
    assert replaced_results(pairs(pre, fin))["Observation/v1"].why == "final result of the same study (same specimen)"


def test_what_is_not_the_same_study_or_not_later_stands():
    pre = vegf("v1", 600, "preliminary", "2024-01-10T10:00:00Z")
    # another day, nothing in common: another draw
    other_day = {**vegf("v2", 120, "final", "2024-02-11T10:00:00Z", basedOn=[]), "effectiveDateTime": "2024-02-10"}
    # the same day alone, another order and specimen: another draw or lab (probe115 D1)
    same_day = vegf("v6", 120, "final", "2024-01-11T10:00:00Z", basedOn=[{"reference": "ServiceRequest/other"}])
    # another test the same day
    other_test = observation(
        "26515-7", "p1", status="final", issued="2024-01-11T10:00:00Z", effectiveDateTime="2024-01-10"
    )
    # a final issued before the preliminary is no final of it
    earlier = vegf("v3", 120, "final", "2024-01-09T10:00:00Z")
    assert replaced_results(pairs(pre, other_day, other_test)) == {}
    assert replaced_results(pairs(pre, same_day)) == {}
    assert replaced_results(pairs(pre, earlier)) == {}
    # without issue times the status order decides: the final follows its preliminary
    assert replaced_results(pairs(vegf("a", 600, "preliminary", None), vegf("b", 120, "final", None)))
    # two preliminaries, or two finals, are no supersession
    assert replaced_results(pairs(pre, vegf("v5", 300, "preliminary", "2024-01-11T10:00:00Z"))) == {}


def test_the_final_vegf_decides_not_the_preliminary(mapping):
    out = extract(
        make_record(
            vegf("v1", 600, "preliminary", "2024-01-10T10:00:00Z"), vegf("v2", 120, "final", "2024-01-11T10:00:00Z")
        ),
        mapping,
    )
    result = evaluate("Patient/p1", out.findings, MAYO, None)
    vegf_result = result.criteria[Criterion.VEGF_ELEVATION.value]
    assert vegf_result.state is State.ABSENT
    assert {e.reference for e in vegf_result.evidence} == {"Observation/v2"}
    assert "Observation/v1" not in out.used
    assert any(n.kind == "replaced" and n.reference == "Observation/v1" for n in out.notes)


def test_a_final_histology_report_supersedes_the_partial_one(mapping):
    partial = {
        **diagnostic_report("p", "Lymph node biopsy, histology", "Hyaline vascular Castleman disease."),
        "status": "partial",
        "basedOn": ORDER,
        "issued": "2024-01-10T12:00:00Z",
        "effectiveDateTime": "2024-01-08",
    }
    final = {
        **diagnostic_report(
            "f", "Lymph node biopsy, histology", "Reactive follicular hyperplasia. No features of Castleman disease."
        ),
        "issued": "2024-01-15T12:00:00Z",
        "effectiveDateTime": "2024-01-08",
        "basedOn": ORDER,
    }
    out = extract(make_record(partial, final), mapping)
    result = evaluate("Patient/p1", out.findings, MAYO, None)
    castleman = result.criteria[Criterion.CASTLEMAN_DISEASE.value]
    assert castleman.state is State.ABSENT
    assert {e.reference for e in castleman.evidence} == {"DiagnosticReport/f"}


def test_the_same_day_counts_only_where_nothing_tells_the_two_apart():
    # probe115 D1/D2: two draws, labs or nodes of one day are two results
    def one_day(rid, value, status, issued, **more):
        return vegf(rid, value, status, issued, basedOn=[], **more)

    pre = one_day("v1", 600, "preliminary", "2024-01-10T10:00:00Z")
    assert replaced_results(pairs(pre, one_day("v2", 120, "final", "2024-01-11T10:00:00Z")))["Observation/v1"].why == (
        "final result of the same study (same effective day)"
    )
    apart = [
        {"code": {"coding": [{"system": "http://loinc.org", "code": VEGF}], "text": "VEGF, serum"}},
        {"specimen": {"reference": "Specimen/other"}},
        {"identifier": [{"system": "urn:lab:b", "value": "2"}]},
    ]
    named = {"code": {"coding": [{"system": "http://loinc.org", "code": VEGF}], "text": "VEGF, plasma"}}
    for other in apart:
        first = {
            **pre,
            **named,
            "specimen": {"reference": "Specimen/s1"},
            "identifier": [{"system": "urn:lab:a", "value": "1"}],
        }
        second = {**one_day("v2", 120, "final", "2024-01-11T10:00:00Z"), **named, **other}
        assert replaced_results(pairs(first, second)) == {}, other
    timed = {**pre, "effectiveDateTime": "2024-01-10T08:00:00Z"}
    later = {**one_day("v2", 120, "final", "2024-01-11T10:00:00Z"), "effectiveDateTime": "2024-01-10T14:00:00Z"}
    assert replaced_results(pairs(timed, later)) == {}
