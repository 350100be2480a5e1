"""Scope on plain data: the trigger (each option, both sides), met is always in scope, counts."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Classification, Criterion as C, Evidence, Finding, Sign, State, Strength
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.scope import (
    DEFAULT_TRIGGER,
    Scope,
    ScreeningCounts,
    TriggerError,
    check_trigger,
    decide_scope,
    raised_flags,
    withheld_flags,
)

D = dt.date(2020, 1, 1)


def f(topic: str, state: State = State.PRESENT, strength: Strength = Strength.STRONG, **kw) -> Finding:
    return Finding(
        topic, state, Evidence(f"Condition/{topic}-{state.value}", D, f"{topic} {state.value}"), strength=strength, **kw
    )


def scope_of(findings: list[Finding], trigger=DEFAULT_TRIGGER):
    a = evaluate("Patient/1", findings, MAYO)
    return a, decide_scope(a, trigger)


def test_default_trigger_is_the_two_mandatory_criteria():
    assert DEFAULT_TRIGGER == ("polyneuropathy", "monoclonal_plasma_cell_disorder")


@pytest.mark.parametrize("criterion", [C.POLYNEUROPATHY, C.MONOCLONAL_PLASMA_CELL_DISORDER])
def test_either_mandatory_criterion_present_puts_a_patient_in_scope(criterion):
    _, s = scope_of([f(criterion.value)])
    assert s.scope is Scope.IN_SCOPE and s.in_scope
    assert s.matched == (criterion.value,)
    assert [e.reference for e in s.evidence] == [f"Condition/{criterion.value}-present"]
    assert s.reason == f"{criterion.value} present"


@pytest.mark.parametrize(
    "state, strength",
    [
        (State.ABSENT, Strength.STRONG),
        (State.ABSENT, Strength.WEAK),
        (State.INDETERMINATE, Strength.STRONG),
        (State.NOT_ASSESSED, Strength.STRONG),
    ],
)
def test_a_trigger_criterion_that_is_not_present_does_not(state, strength):
    _, s = scope_of([f(C.POLYNEUROPATHY.value, state, strength), f(C.SKIN_CHANGES.value)])
    assert s.scope is Scope.OUT_OF_SCOPE and s.matched == ()
    assert s.states["polyneuropathy"] is not State.PRESENT
    assert "polyneuropathy" in s.reason and "monoclonal_plasma_cell_disorder not assessed" in s.reason
    # the trigger criteria's own evidence says why
    assert [e.reference for e in s.evidence] == [f"Condition/polyneuropathy-{state.value}"]


def test_no_data_at_all_is_out_of_scope():
    a, s = scope_of([])
    assert a.classification is Classification.INDETERMINATE  # the four-state contract is unchanged
    assert s.scope is Scope.OUT_OF_SCOPE and s.evidence == ()


def test_anaemia_alone_is_out_of_scope_and_its_flag_is_not_raised():
    a, s = scope_of([f(Sign.ANEMIA.value)])
    assert [x.code for x in a.flags] == ["cytopenia_without_castleman"]  # the engine computes it
    assert not s.in_scope
    assert raised_flags(a, s) == () and [x.code for x in withheld_flags(a, s)] == ["cytopenia_without_castleman"]


def test_in_scope_every_flag_is_raised():
    a, s = scope_of([f(C.POLYNEUROPATHY.value), f(Sign.ANEMIA.value), f("cidp")])
    assert s.in_scope
    assert raised_flags(a, s) == a.flags and withheld_flags(a, s) == ()
    assert {x.code for x in a.flags} == {"cytopenia_without_castleman", "differential_cidp"}


def test_a_configured_trigger_replaces_the_default():
    findings = [f(C.CASTLEMAN_DISEASE.value), f(C.SKIN_CHANGES.value)]
    _, default = scope_of(findings)
    _, castleman = scope_of(findings, ("castleman_disease",))
    assert not default.in_scope
    assert castleman.in_scope and castleman.matched == ("castleman_disease",)
    assert castleman.rule.startswith("in scope when any of castleman_disease is present")
    # and the mandatory criteria no longer count under that trigger
    _, neuropathy_only = scope_of([f(C.POLYNEUROPATHY.value)], ("castleman_disease",))
    assert not neuropathy_only.in_scope


def test_several_trigger_criteria_any_one_suffices():
    trigger = ("vegf_elevation", "sclerotic_bone_lesions")
    assert scope_of([f(C.SCLEROTIC_BONE_LESIONS.value)], trigger)[1].in_scope
    assert scope_of([f(C.VEGF_ELEVATION.value)], trigger)[1].in_scope
    assert not scope_of([f(C.ORGANOMEGALY.value)], trigger)[1].in_scope


def test_met_is_always_in_scope_whatever_the_trigger():
    findings = [
        f(C.POLYNEUROPATHY.value),
        f(C.MONOCLONAL_PLASMA_CELL_DISORDER.value),
        f(C.VEGF_ELEVATION.value),
        f(C.SKIN_CHANGES.value),
    ]
    a, s = scope_of(findings, ("castleman_disease",))
    assert a.classification is Classification.MET
    assert s.in_scope and s.matched == () and "criteria met" in s.reason


def test_a_recorded_clinician_diagnosis_is_noted_but_does_not_decide():
    a, s = scope_of([f("clinician_poems_assertion")])
    assert a.clinician_assertions and not s.in_scope
    assert s.note and "Condition/clinician_poems_assertion-present" in s.note


def test_trigger_ids_are_checked():
    assert check_trigger(["polyneuropathy", "polyneuropathy"]) == ("polyneuropathy",)
    with pytest.raises(TriggerError, match="unknown criterion"):
        check_trigger(["nonsense"])
    with pytest.raises(TriggerError, match="at least one"):
        check_trigger([])


def test_screening_counts_per_scope_and_classification():
    counts = ScreeningCounts()
    for findings in (
        [],
        [f(C.POLYNEUROPATHY.value)],
        [f(C.POLYNEUROPATHY.value, State.ABSENT)],
        [f(C.MONOCLONAL_PLASMA_CELL_DISORDER.value), f(C.POLYNEUROPATHY.value, State.ABSENT)],
    ):
        a, s = scope_of(findings)
        counts.add(s, a.classification)
    assert counts.to_dict() == {
        "in_scope": {"total": 2, "met": 0, "not_met": 1, "indeterminate": 1},
        "out_of_scope": {"total": 2, "met": 0, "not_met": 1, "indeterminate": 1},
    }
    assert (counts.total_in_scope, counts.total_out_of_scope) == (2, 2)


def test_screening_counts_add_up_patients_with_the_same_outcome():
    counts = ScreeningCounts()
    a, s = scope_of([f(C.POLYNEUROPATHY.value, State.ABSENT)])
    for _ in range(3):
        counts.add(s, a.classification)
    assert counts.to_dict()["out_of_scope"] == {"total": 3, "met": 0, "not_met": 3, "indeterminate": 0}
    assert (counts.total_in_scope, counts.total_out_of_scope) == (0, 3)
