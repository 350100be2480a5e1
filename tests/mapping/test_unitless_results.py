"""A number without a unit (README "A number without a unit"): judged only against the lab's own
unitless range on the same result, or else its interpretation flag, and the evidence says which
(platelets 455 with range 150-400 -> high). Valid results a rule cannot use are listed for the
onboarding report ("values_not_used"), not reported as errors."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.coverage import collect, to_dict
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
PLATELETS, KAPPA = "777-3", "36916-5"


def obs(code: str, value: float | None, rr: dict[str, Any] | None = None, flag: str | None = None) -> dict[str, Any]:
    o: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
    }
    if value is not None:
        o["valueQuantity"] = {"value": value}  # no unit, no code
    if rr is not None:
        o["referenceRange"] = [rr]
    if flag is not None:
        o["interpretation"] = [{"coding": [{"system": V3, "code": flag}]}]
    return o


def platelets(
    mapping, value: float, rr: dict[str, Any] | None = None, flag: str | None = None
) -> dict[str, tuple[State, str]]:
    ex = extract(make_record(obs(PLATELETS, value, rr, flag)), mapping)
    assert ex.errors == []
    found = {f.topic: (f.state, f.evidence.summary) for f in ex.findings}
    assert [n.kind for n in ex.notes] == ["unitless"] and ex.notes[0].rule == "platelets"
    assert ex.measurements == []  # its magnitude is unknown: never a measurement
    return found


LAB = {"low": {"value": 150}, "high": {"value": 400}}


def test_above_the_labs_own_unitless_range_is_high(mapping):
    found = platelets(mapping, 455, LAB)
    state, evidence = found["thrombocytosis_polycythemia"]
    assert state is State.PRESENT and "thrombocytopenia" not in found
    assert "455 without a unit, judged against the lab's own range 150-400 only" in evidence


def test_below_the_labs_own_unitless_range_is_low_and_not_high(mapping):
    found = platelets(mapping, 100, LAB)
    assert found["thrombocytopenia"][0] is State.PRESENT
    assert found["thrombocytosis_polycythemia"][0] is State.ABSENT
    assert "100 without a unit, judged against the lab's own range 150-400 only" in found["thrombocytopenia"][1]


@pytest.mark.parametrize("value", [150, 400, 275])
def test_within_the_range_including_its_limits_is_neither(mapping, value):
    found = platelets(mapping, value, LAB)
    assert found["thrombocytosis_polycythemia"][0] is State.ABSENT and "thrombocytopenia" not in found


def test_a_range_with_only_an_upper_limit_judges_only_the_high_side(mapping):
    found = platelets(mapping, 455, {"high": {"value": 400}})
    assert found["thrombocytosis_polycythemia"][0] is State.PRESENT and "thrombocytopenia" not in found
    assert "judged against the lab's own range <=400 only" in found["thrombocytosis_polycythemia"][1]
    assert platelets(mapping, 100, {"high": {"value": 400}}) == {
        "thrombocytosis_polycythemia": (
            State.ABSENT,
            "platelets 100 without a unit, judged against the lab's own range <=400 only",
        )
    }


def test_a_range_with_only_a_lower_limit_judges_only_the_low_side(mapping):
    found = platelets(mapping, 100, {"low": {"value": 150}})
    assert set(found) == {"thrombocytopenia"} and found["thrombocytopenia"][0] is State.PRESENT
    assert "judged against the lab's own range >=150 only" in found["thrombocytopenia"][1]
    assert platelets(mapping, 455, {"low": {"value": 150}}) == {}  # no upper limit, no flag: undecided, no finding


@pytest.mark.parametrize("rr", [LAB, {"high": {"value": 400}}])
def test_the_labs_range_decides_before_its_flag(mapping, rr):
    # value and range are numbers of the same result line; the flag is used only when they cannot decide
    state, evidence = platelets(mapping, 455, rr, flag="N")["thrombocytosis_polycythemia"]
    assert state is State.PRESENT and "judged by its" not in evidence


def test_without_a_unitless_range_the_flag_decides_and_the_evidence_says_so(mapping):
    state, evidence = platelets(mapping, 455, None, flag="H")["thrombocytosis_polycythemia"]
    assert state is State.PRESENT
    assert "455 without a unit, judged by its interpretation H only" in evidence
    assert "range" not in evidence
    state, evidence = platelets(mapping, 455, {"high": {"value": 400, "unit": "10*9/L"}}, flag="N")[
        "thrombocytosis_polycythemia"
    ]  # a range with a unit cannot be compared with a number without one
    assert state is State.ABSENT and "judged by its interpretation N only" in evidence


def test_a_flag_without_a_number_for_a_rule_that_needs_one_is_listed_as_not_used(mapping):
    record = make_record(obs(KAPPA, None, flag="H"))
    ex = extract(record, mapping)
    assert ex.errors == [] and ex.findings == []
    [note] = ex.notes
    assert (note.kind, note.rule) == ("unused", "flc_kappa")
    assert note.detail.startswith("interpretation H:") and "flc_kappa needs a number" in note.detail
    rows = to_dict(collect([record], mapping))["values_not_used"]
    assert [(r["rule"], r["count"]) for r in rows] == [("flc_kappa", 1)]


def test_a_quantity_without_a_unit_is_refused_with_the_expected_unit_and_keeps_its_number():
    from poems_fhir.mapping.values import UnitlessError, Value, quantity

    with pytest.raises(UnitlessError) as exc:
        quantity({"value": 455, "comparator": ">"}, "valueQuantity", "10*9/L", {})
    assert str(exc.value) == "valueQuantity has no unit (expected 10*9/L); not guessed"
    assert exc.value.value == Value(455.0, None, ">")
