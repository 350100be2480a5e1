# SPDX-License-Identifier: Apache-2.0
"""A normal result obtained where it cannot show the disease is a low-grade negative (criteria.md §6):
a VEGF with a known confounder (probe98 D1) or during an acute illness (D2), a blood count during
bleeding or a transfusion (D3); the work-up proposed says to repeat the test (D8)."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import (
    ACUTE_ILLNESS,
    BLEEDING_OR_TRANSFUSION,
    Classification,
    Criterion as C,
    Evidence,
    Finding,
    State,
    Strength,
)
from poems_fhir.criteria.profiles import MAYO

D = dt.date


def fact(topic: str, state: State, ref: str, day: D | None, **kw) -> Finding:
    return Finding(topic, state, Evidence(ref, day, ref), **kw)


def base() -> list[Finding]:
    """Neuropathy and a lambda clone present, Castleman and bone lesions strongly absent: VEGF decides."""
    return [
        fact(C.POLYNEUROPATHY.value, State.PRESENT, "Condition/pn", D(2023, 1, 2)),
        fact(C.MONOCLONAL_PLASMA_CELL_DISORDER.value, State.PRESENT, "Observation/ife", D(2023, 1, 2)),
        fact(C.CASTLEMAN_DISEASE.value, State.ABSENT, "DiagnosticReport/ln", D(2023, 1, 2)),
        fact(C.SCLEROTIC_BONE_LESIONS.value, State.ABSENT, "DiagnosticReport/ct", D(2023, 1, 2)),
    ]


SAMPLE = D(2023, 1, 2)
COPD_ONSET = D(2019, 1, 1)
PNEU_ONSET, PNEU_END = D(2022, 12, 28), D(2023, 1, 27)
CBC_DAY = D(2023, 1, 5)


def vegf(day: D = SAMPLE) -> Finding:
    return fact(C.VEGF_ELEVATION.value, State.ABSENT, "Observation/vegf", day, specimen="plasma")


def copd(onset: D | None = COPD_ONSET, resolved: D | None = None) -> Finding:
    return fact("vegf_confounder", State.PRESENT, "Condition/copd", onset, is_assertion=True, resolved_on=resolved)


def test_a_normal_vegf_with_a_confounder_on_record_is_low_grade_and_cites_it():
    a = evaluate("p", base() + [vegf(), copd()], MAYO)
    r = a.criteria[C.VEGF_ELEVATION.value]
    assert r.state is State.INDETERMINATE and r.open
    assert "Condition/copd" in r.reason and "confounder" in r.reason
    assert {e.reference for e in r.evidence} == {"Observation/vegf", "Condition/copd"}
    assert a.classification is Classification.INDETERMINATE
    assert [f.code for f in a.flags] == ["differential_vegf_confounder"]


def test_the_work_up_says_to_repeat_the_vegf_away_from_the_confounder():
    a = evaluate("p", base() + [vegf(), copd()], MAYO)
    [m] = [m for m in a.missing if m.criterion == C.VEGF_ELEVATION.value]
    assert m.criterion == C.VEGF_ELEVATION.value and "repeat VEGF" in m.suggestion and "confounding" in m.suggestion
    assert a.criteria[C.VEGF_ELEVATION.value].retest == "confounder"


def test_a_confounder_begun_after_or_ended_before_the_sample_leaves_the_negative_strong():
    later = evaluate("p", base() + [vegf(), copd(onset=D(2023, 6, 1))], MAYO)
    assert later.criteria[C.VEGF_ELEVATION.value].state is State.ABSENT
    ended = evaluate("p", base() + [vegf(), copd(resolved=D(2022, 1, 1))], MAYO)
    assert ended.criteria[C.VEGF_ELEVATION.value].state is State.ABSENT
    assert ended.classification is Classification.NOT_MET


def test_an_undated_confounder_counts_a_provisional_one_does_not():
    undated = evaluate("p", base() + [vegf(), copd(onset=None)], MAYO)
    assert undated.criteria[C.VEGF_ELEVATION.value].state is State.INDETERMINATE
    provisional = fact("vegf_confounder", State.INDETERMINATE, "Condition/copd", D(2019, 1, 1), is_assertion=True)
    a = evaluate("p", base() + [vegf(), provisional], MAYO)
    assert a.criteria[C.VEGF_ELEVATION.value].state is State.ABSENT


def test_a_strong_normal_vegf_on_another_day_still_excludes():
    a = evaluate("p", base() + [vegf(), vegf(D(2024, 1, 1)), copd(resolved=D(2023, 6, 1))], MAYO)
    assert a.criteria[C.VEGF_ELEVATION.value].state is State.ABSENT


def pneumonia(onset: D | None = PNEU_ONSET, until: D | None = PNEU_END) -> Finding:
    return fact(ACUTE_ILLNESS, State.PRESENT, "Condition/pneu", onset, is_assertion=True, resolved_on=until)


def test_a_normal_vegf_during_an_acute_illness_is_low_grade_and_flagged():
    a = evaluate("p", base() + [vegf(), pneumonia()], MAYO)
    r = a.criteria[C.VEGF_ELEVATION.value]
    assert r.state is State.INDETERMINATE and "acute illness" in r.reason
    assert "Condition/pneu" in {e.reference for e in r.evidence}
    assert r.retest == "acute_illness"
    [flag] = a.flags
    assert flag.code == "differential_vegf_confounder" and [e.reference for e in flag.evidence] == ["Condition/pneu"]


def test_an_acute_illness_outside_the_sample_or_undated_changes_nothing():
    for ill in (pneumonia(until=D(2022, 12, 31)), pneumonia(onset=D(2023, 1, 3)), pneumonia(onset=None, until=None)):
        a = evaluate("p", base() + [vegf(), ill], MAYO)
        assert a.criteria[C.VEGF_ELEVATION.value].state is State.ABSENT
        assert a.classification is Classification.NOT_MET and not a.flags


def test_a_clinicians_refuted_vegf_elevation_stays_a_statement():
    refuted = fact(C.VEGF_ELEVATION.value, State.ABSENT, "Condition/v", D(2023, 1, 2), is_assertion=True)
    a = evaluate("p", base() + [refuted, copd()], MAYO)
    assert a.criteria[C.VEGF_ELEVATION.value].state is State.ABSENT


def test_an_already_low_grade_vegf_keeps_its_own_reason():
    steroid = Evidence("MedicationStatement/pred", D(2022, 12, 1), "prednisolone")
    weak = Finding(
        C.VEGF_ELEVATION.value, State.ABSENT, Evidence("Observation/vegf", D(2023, 1, 2), "VEGF 90"),
        strength=Strength.WEAK, note="during prednisolone", context=(steroid,), retest="corticosteroid",
    )  # fmt: skip
    a = evaluate("p", base() + [weak, copd()], MAYO)
    r = a.criteria[C.VEGF_ELEVATION.value]
    assert r.reason == "low-grade negative only: during prednisolone" and r.retest == "corticosteroid"
    assert "MedicationStatement/pred" in {e.reference for e in r.evidence}
    [m] = [m for m in a.missing if m.criterion == C.VEGF_ELEVATION.value]
    assert "once the corticosteroid has stopped" in m.suggestion


MIN6 = C.THROMBOCYTOSIS_POLYCYTHEMIA.value


def count(part: str, ref: str, day: D = CBC_DAY) -> Finding:
    return fact(MIN6, State.ABSENT, ref, day, component=part)


def test_a_blood_count_on_a_red_cell_transfusion_day_leaves_polycythaemia_indeterminate():
    tx = fact(BLEEDING_OR_TRANSFUSION, State.PRESENT, "Procedure/tx", D(2023, 1, 5), component="polycythemia",
              resolved_on=D(2023, 1, 19))  # fmt: skip
    a = evaluate("p", [count("thrombocytosis", "Observation/plt"), count("polycythemia", "Observation/hb"), tx], MAYO)
    r = a.criteria[MIN6]
    assert r.state is State.INDETERMINATE and "Procedure/tx" in r.reason
    assert "no thrombocytosis" in r.reason  # a red-cell transfusion does not weigh on the platelets
    assert "Procedure/tx" in {e.reference for e in r.evidence}
    assert r.retest == "bleeding_or_transfusion"


def test_active_bleeding_weighs_on_both_parts_and_ends():
    bleed = fact(BLEEDING_OR_TRANSFUSION, State.PRESENT, "Condition/gi", D(2023, 1, 4), resolved_on=D(2023, 1, 11))
    counts = [count("thrombocytosis", "Observation/plt"), count("polycythemia", "Observation/hb")]
    assert evaluate("p", [*counts, bleed], MAYO).criteria[MIN6].state is State.INDETERMINATE
    later = [
        count("thrombocytosis", "Observation/plt2", D(2023, 3, 1)),
        count("polycythemia", "Observation/hb2", D(2023, 3, 1)),
    ]
    assert evaluate("p", [*counts, *later, bleed], MAYO).criteria[MIN6].state is State.ABSENT
