"""A clone shown only by an abnormal free-light-chain ratio, with the serum and urine immunofixation of the
same work-up negative, is indeterminate, not present (probe42 p17a: CKD stage 4, ratio 2.05 against the
standard range, both immunofixations negative - a CIDP came out "met")."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State, Strength
from poems_fhir.criteria.profiles import MAYO

D = dt.date(2023, 3, 2)
CLONE = "monoclonal_plasma_cell_disorder"


def clone(state: State, rule: str, ref: str, when: dt.date = D, strength: Strength = Strength.STRONG) -> Finding:
    return Finding(CLONE, state, Evidence(ref, when, f"{rule} {state.value}"), source_rule=rule, strength=strength)


RATIO = clone(State.PRESENT, "flc_ratio", "Observation/ratio")
SERUM_NEG = clone(State.ABSENT, "serum_ife", "Observation/sife")
URINE_NEG = clone(State.ABSENT, "urine_ife", "Observation/uife", strength=Strength.WEAK)
OTHERS = [
    Finding("polyneuropathy", State.PRESENT, Evidence("Condition/pnp", D, "polyneuropathy")),
    Finding("vegf_elevation", State.PRESENT, Evidence("Observation/vegf", D, "VEGF 260 pg/mL")),
    Finding("extravascular_volume_overload", State.PRESENT, Evidence("Condition/oedema", D, "oedema")),
]


def result(*findings: Finding):
    return evaluate("Patient/1", [*OTHERS, *findings], MAYO, None)


def test_a_ratio_against_both_negative_immunofixations_is_indeterminate():
    a = result(RATIO, SERUM_NEG, URINE_NEG)
    r = a.criteria[CLONE]
    assert r.state is State.INDETERMINATE and r.open
    assert {e.reference for e in r.evidence} == {"Observation/ratio", "Observation/sife", "Observation/uife"}
    assert "bone-marrow" in r.reason and "kidney" in r.reason
    assert a.classification.value == "indeterminate"  # no longer "met" on the ratio alone
    # the result still names its criterion, as every result does (mutation seed 22: the rewritten result
    # could name none)
    assert all(res.criterion == cid for cid, res in a.criteria.items())


@pytest.mark.parametrize(
    "findings",
    [
        (RATIO,),  # the ratio alone: a light-chain clone may show nothing else yet
        (RATIO, SERUM_NEG),  # no urine immunofixation: a light chain may be in the urine only
        (RATIO, URINE_NEG),
        # a band, a marrow or a biopsy beside the ratio: a clone
        (RATIO, SERUM_NEG, URINE_NEG, clone(State.PRESENT, "serum_ife", "Observation/band")),
        (RATIO, SERUM_NEG, URINE_NEG, clone(State.PRESENT, "bm_clonal_plasma_cells", "Observation/bm")),
        # immunofixations of another work-up (more than a month away)
        (
            RATIO,
            clone(State.ABSENT, "serum_ife", "Observation/old", when=D - dt.timedelta(days=32)),
            clone(State.ABSENT, "urine_ife", "Observation/later", when=D + dt.timedelta(days=32)),
        ),
    ],
)
def test_a_ratio_stays_a_clone_otherwise(findings):
    assert result(*findings).criteria[CLONE].state is State.PRESENT


def test_the_same_work_up_is_a_month_either_side():
    near = (
        clone(State.ABSENT, "serum_ife", "Observation/s", when=D - dt.timedelta(days=31)),
        clone(State.ABSENT, "urine_ife", "Observation/u", when=D + dt.timedelta(days=31)),
    )
    assert result(RATIO, *near).criteria[CLONE].state is State.INDETERMINATE
