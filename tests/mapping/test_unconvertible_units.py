"""A number whose unit cannot be converted to the rule's (README "Values and units as labs send
them"): haemoglobin in mmol/L (codes.md §E lists it as a unit labs use, with no conversion given), a
local spelling the unit table does not hold. Like a number without a unit, it counts only where its
unit cannot change the conclusion: against a range in its own unit on the same result, its
interpretation flag, or for presence; otherwise the conversion's refusal is reported as before."""

from __future__ import annotations

from typing import Any

from poems_fhir.criteria.model import State
from poems_fhir.mapping.coverage import collect, to_dict
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, read_findings

V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
UCUM = "http://unitsofmeasure.org"
HB, VEGF, M_PROTEIN = "718-7", "75628-8", "33358-3"
TOPIC = "thrombocytosis_polycythemia"


def _q(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def obs(
    code: str, value: float, unit: str, rr: dict[str, Any] | None = None, flag: str | None = None
) -> dict[str, Any]:
    o: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "r1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "valueQuantity": _q(value, unit),
    }
    if rr is not None:
        o["referenceRange"] = [rr]
    if flag is not None:
        o["interpretation"] = [{"coding": [{"system": V3, "code": flag}]}]
    return o


MMOL_RANGE = {"low": _q(8.5, "mmol/L"), "high": _q(11.0, "mmol/L")}  # a Dutch male Hb range


def _hb(mapping, value: float, rr: dict[str, Any] | None = None, flag: str | None = None):
    ex = extract(make_record(obs(HB, value, "mmol/L", rr, flag), gender="male"), mapping)
    return ex, {f.topic: (f.state, f.evidence.summary) for f in ex.findings}


def test_above_its_own_range_in_the_same_unit_is_high(mapping):
    ex, found = _hb(mapping, 11.6, MMOL_RANGE)
    assert ex.errors == [] and ex.measurements == []  # its magnitude in g/L is unknown: no measurement
    state, evidence = found[TOPIC]
    assert state is State.PRESENT
    assert (
        "11.6 mmol/L (a unit not convertible to the rule's), judged against the lab's own range 8.5-11 only" in evidence
    )
    assert [n.kind for n in ex.notes] == ["unitless"]


def test_within_its_own_range_is_not_high(mapping):
    _, found = _hb(mapping, 9.4, MMOL_RANGE)
    assert found[TOPIC][0] is State.ABSENT


def test_its_flag_decides_when_no_range_is_given(mapping):
    _, found = _hb(mapping, 11.6, None, "H")
    assert found[TOPIC][0] is State.PRESENT and "judged by its interpretation H only" in found[TOPIC][1]


def test_a_range_in_another_unit_is_not_compared(mapping):
    """11.6 mmol/L against 13-17 g/dL would be a comparison of different things."""
    rr = {"low": _q(13, "g/dL"), "high": _q(17, "g/dL")}
    ex, found = _hb(mapping, 11.6, rr)
    assert found[TOPIC][0] is State.NOT_ASSESSED and "on record, not read" in found[TOPIC][1]
    assert [str(e.message) for e in ex.errors] == [
        "valueQuantity: cannot convert 'mmol/L' to 'g/L': the dimensions differ; add it to unit_aliases if it is a lab spelling"
    ]


def test_without_range_or_flag_the_refusal_is_reported_and_listed_for_coverage(mapping):
    record = make_record(obs(HB, 11.6, "mmol/L"), gender="male")
    ex = extract(record, mapping)
    assert TOPIC not in {f.topic for f in read_findings(ex.findings)}
    assert len(ex.errors) == 1 and "cannot convert 'mmol/L' to 'g/L'" in ex.errors[0].message
    assert [u["unit"] for u in to_dict(collect([record], mapping))["rejected_units"]] == ["mmol/L"]


def test_a_vegf_above_its_own_range_in_an_unknown_unit_is_indeterminate(mapping):
    """criteria.md §4: a VEGF above the lab's own limit is not the diagnostic cut-off."""
    o = obs(VEGF, 900, "[IU]/mL", {"high": _q(500, "[IU]/mL")})
    ex = extract(make_record(o), mapping)
    states = {f.topic: f.state for f in ex.findings}
    assert states.get("vegf_elevation") is State.INDETERMINATE, (states, ex.errors)


def test_an_m_protein_in_an_unconvertible_unit_shows_presence_only(mapping):
    ex = extract(make_record(obs(M_PROTEIN, 2.1, "%")), mapping)
    found = {f.topic: f for f in ex.findings}
    clone = found["monoclonal_plasma_cell_disorder"]
    assert clone.state is State.PRESENT and "used for presence only" in clone.evidence.summary
    assert ex.measurements == []
