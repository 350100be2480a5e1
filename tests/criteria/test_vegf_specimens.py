"""VEGF in plasma and serum on the same day (found by the held-out probe probe24): a serum result
above the UNVERIFIED serum cut-off made MAJ-5 present - and the patient `met` - although the same
day's plasma, the validated specimen (criteria.md §4: 200 pg/mL, V; serum includes
platelet-released VEGF), was normal; the plasma result was not even shown. The plasma decides."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.engine import combine, plasma_over_serum
from poems_fhir.criteria.model import Criterion, Evidence, Finding, State

VEGF = Criterion.VEGF_ELEVATION.value
DAY = dt.date(2024, 3, 1)


def vegf(state: State, specimen: str | None, value: float, day: dt.date = DAY, ref: str = "") -> Finding:
    ref = ref or f"Observation/{specimen}-{day.isoformat()}"
    return Finding(
        VEGF, state, Evidence(ref, day, f"VEGF {value:g} pg/mL ({specimen})", value=value), specimen=specimen
    )


def test_a_normal_plasma_outweighs_a_high_serum_of_the_same_day():
    result = combine(VEGF, [vegf(State.PRESENT, "serum", 1500), vegf(State.ABSENT, "plasma", 90)])
    assert result.state is State.ABSENT
    assert [e.reference for e in result.evidence] == ["Observation/plasma-2024-03-01"]
    assert "same-day serum not counted: VEGF 1500 pg/mL (serum) (Observation/serum-2024-03-01)" in result.reason


def test_a_high_plasma_stays_present_beside_a_normal_serum():
    result = combine(VEGF, [vegf(State.ABSENT, "serum", 600), vegf(State.PRESENT, "plasma", 250)])
    assert result.state is State.PRESENT
    assert "same-day serum not counted" in result.reason


def test_a_plasma_between_its_limits_keeps_the_day_indeterminate():
    result = combine(VEGF, [vegf(State.PRESENT, "serum", 1500), vegf(State.INDETERMINATE, "plasma", 150)])
    assert result.state is State.INDETERMINATE


def test_other_days_and_single_specimens_are_left_as_they_are():
    other_day = [vegf(State.ABSENT, "plasma", 90), vegf(State.PRESENT, "serum", 1500, DAY + dt.timedelta(days=30))]
    assert plasma_over_serum(other_day) == other_day
    assert combine(VEGF, other_day).state is State.PRESENT  # present at any time (criteria.md §3.3)
    serum_only = [vegf(State.PRESENT, "serum", 1500)]
    assert plasma_over_serum(serum_only) is serum_only
    unknown = [vegf(State.PRESENT, None, 1500), vegf(State.ABSENT, "plasma", 90)]
    assert combine(VEGF, unknown).state is State.PRESENT  # a specimen unknown is no serum result


def test_only_vegf_is_judged_so():
    platelets = Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value
    findings = [
        Finding(platelets, State.PRESENT, Evidence("Observation/a", DAY, "a"), specimen="serum"),
        Finding(platelets, State.ABSENT, Evidence("Observation/b", DAY, "b"), specimen="plasma"),
    ]
    assert combine(platelets, findings).state is State.PRESENT
