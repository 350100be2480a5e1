"""The scope decision in full: rule, matched criteria, states, reason, evidence and note.

criteria.md §3.3: only *present* counts (not assessed / indeterminate are no reason to suspect POEMS);
a clinician's "POEMS syndrome" is not evidence for any criterion, so it notes but never decides.
These texts appear in the audit output a site reads.
"""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.scope import Scope, ScopeDecision, TriggerError, check_trigger, decide_scope

T0 = dt.date(2021, 3, 1)
RULE = "in scope when any of polyneuropathy, monoclonal_plasma_cell_disorder is present, or the criteria are met"


def ev(ref: str) -> Evidence:
    return Evidence(ref, T0, ref.split("/")[1])


def fi(topic: str, state: State = State.PRESENT, ref: str = "") -> Finding:
    return Finding(topic, state, ev(ref or f"Condition/{topic}"))


def test_in_scope_names_the_matched_criteria_and_cites_them():
    a = evaluate("Patient/1", [fi("polyneuropathy"), fi("monoclonal_plasma_cell_disorder")], MAYO)
    assert decide_scope(a) == ScopeDecision(
        Scope.IN_SCOPE,
        RULE,
        ("polyneuropathy", "monoclonal_plasma_cell_disorder"),
        ("polyneuropathy", "monoclonal_plasma_cell_disorder"),
        {"polyneuropathy": State.PRESENT, "monoclonal_plasma_cell_disorder": State.PRESENT},
        "polyneuropathy, monoclonal_plasma_cell_disorder present",
        (ev("Condition/polyneuropathy"), ev("Condition/monoclonal_plasma_cell_disorder")),
    )


def test_out_of_scope_gives_every_trigger_state_and_its_evidence():
    a = evaluate("Patient/1", [fi("polyneuropathy", State.ABSENT), fi("skin_changes")], MAYO)
    assert decide_scope(a) == ScopeDecision(
        Scope.OUT_OF_SCOPE,
        RULE,
        ("polyneuropathy", "monoclonal_plasma_cell_disorder"),
        (),
        {"polyneuropathy": State.ABSENT, "monoclonal_plasma_cell_disorder": State.NOT_ASSESSED},
        "none of the trigger criteria present: polyneuropathy absent, monoclonal_plasma_cell_disorder not assessed",
        (ev("Condition/polyneuropathy"),),
        None,
    )


def test_met_without_a_trigger_is_in_scope_with_no_matched_criterion():
    findings = [
        fi("polyneuropathy"),
        fi("monoclonal_plasma_cell_disorder"),
        fi("vegf_elevation"),
        fi("skin_changes"),
    ]
    got = decide_scope(evaluate("Patient/1", findings, MAYO), ("papilledema",))
    assert (got.scope, got.matched, got.reason, got.evidence) == (
        Scope.IN_SCOPE,
        (),
        "criteria met (no trigger criterion present)",
        (),
    )
    assert got.rule == "in scope when any of papilledema is present, or the criteria are met"
    assert got.states == {"papilledema": State.NOT_ASSESSED} and got.trigger == ("papilledema",)


def test_a_clinician_diagnosis_without_a_trigger_is_noted_with_its_reference():
    poems = Finding("clinician_poems_assertion", State.PRESENT, Evidence("Condition/poems", T0, "POEMS syndrome"))
    again = Finding("clinician_poems_assertion", State.PRESENT, Evidence("Condition/poems2", T0, "POEMS"))
    got = decide_scope(evaluate("Patient/1", [poems, again], MAYO))
    assert got.scope is Scope.OUT_OF_SCOPE
    assert got.note == (
        "a clinician's POEMS diagnosis is recorded (POEMS syndrome [Condition/poems], POEMS [Condition/poems2]) "
        "although no trigger criterion is present: check that the site's codes for these criteria are mapped"
    )


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        (["polyneuropathy", "nonsense"], "unknown criterion id(s) ['nonsense']; use ids such as polyneuropathy"),
        ([], "the trigger needs at least one criterion id, such as polyneuropathy"),
    ],
)
def test_a_bad_trigger_says_what_to_use(trigger, message):
    with pytest.raises(TriggerError) as err:
        check_trigger(trigger)
    assert str(err.value) == message


def test_a_trigger_keeps_its_order_without_duplicates():
    assert check_trigger(["papilledema", "polyneuropathy", "papilledema"]) == ("papilledema", "polyneuropathy")
