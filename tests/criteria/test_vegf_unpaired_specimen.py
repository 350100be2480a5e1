"""A follow-up VEGF in another specimen type than the baseline's is no response (criteria.md §2 MAJ-5, §4: serum and
plasma are not interchangeable) but it is a restaging: the response keeps it as ``unpaired`` to show and cite, and
the care pathway proposes a VEGF in the baseline's type unless the surveillance already does (probe108 D2)."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.pathway import pathway
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import response_config, risk_config

MAPPING = load_mapping()
CFG = response_config(MAPPING)
RISK = risk_config(MAPPING)
T0 = dt.date(2024, 1, 15)
TREATED = [Event("treatment", T0, "MedicationStatement/len", "lenalidomide", agent="lenalidomide")]


def vegf(value: float, day: int, specimen: str | None) -> Measurement:
    return Measurement("vegf", value, "pg/mL", T0 + dt.timedelta(days=day), f"Observation/vegf{day}", specimen)


def response(*ms: Measurement):
    return assess_response(list(ms), TREATED, [], [], CFG, None)


def test_a_plasma_follow_up_of_a_serum_baseline_is_unpaired_and_not_evaluable():
    r = response(vegf(1800, -5, "serum"), vegf(150, 100, "plasma"), vegf(170, 60, "plasma"))
    v = r.vegf
    assert v.category == "not_evaluable" and v.specimen == "serum"
    assert v.baseline is not None and v.baseline.reference == "Observation/vegf-5"
    assert v.latest is None  # never compared
    assert v.unpaired is not None and v.unpaired.reference == "Observation/vegf100"  # the newest of the other type
    assert v.unpaired_specimen == "plasma"


def test_an_unknown_specimen_follow_up_is_unpaired_too():
    v = response(vegf(900, -5, "plasma"), vegf(300, 90, None)).vegf
    assert v.category == "not_evaluable" and v.unpaired_specimen == "unknown"


def test_a_follow_up_of_the_same_type_is_compared_and_not_unpaired():
    v = response(vegf(1800, -5, "serum"), vegf(700, 90, "serum")).vegf
    assert v.category != "not_evaluable" and v.unpaired is None and v.latest is not None


def test_no_follow_up_at_all_is_no_unpaired_value():
    v = response(vegf(1800, -5, "serum")).vegf
    assert v.category == "not_evaluable" and v.unpaired is None


def _finding(topic: str) -> Finding:
    return Finding(topic, State.PRESENT, Evidence(f"Condition/{topic}", T0 - dt.timedelta(days=30), topic))


FINDINGS = [_finding("polyneuropathy"), _finding("monoclonal_plasma_cell_disorder"), _finding("organomegaly")]


def _steps(*ms: Measurement):
    r = assess_response(list(ms), TREATED, FINDINGS, [], CFG, None)
    risk = assess_risk(FINDINGS, list(ms), TREATED, r, dt.date(1960, 1, 1), None, RISK)
    a = evaluate("Patient/1", FINDINGS, MAYO)
    earlier = evaluate("Patient/1", FINDINGS, MAYO, r.first_treatment)
    return {s.id: s for s in pathway(a, earlier, r, risk, FINDINGS, list(ms), TREATED, None)}


def test_the_plan_proposes_a_vegf_in_the_baselines_type_once():
    steps = _steps(vegf(1800, -5, "serum"), vegf(150, 100, "plasma"))
    same = steps["vegf-same-specimen"]
    assert dict(same.params) == {"specimen": "serum", "other_specimen": "plasma"}
    assert same.status == "not-started"
    assert same.evidence == ("Observation/vegf-5", "Observation/vegf100")
    assert "vegf-surveillance" not in steps


def test_no_proposal_when_the_follow_up_is_comparable():
    assert "vegf-same-specimen" not in _steps(vegf(1800, -5, "serum"), vegf(700, 100, "serum"))


def test_the_surveillance_after_a_response_asks_for_the_baselines_type_instead():
    # a haematological response opens the 6-monthly surveillance, which names the baseline's type itself
    ms = [
        vegf(1800, -5, "serum"),
        vegf(150, 100, "plasma"),
        Measurement("serum_m_protein", 20, "g/L", T0 - dt.timedelta(days=5), "Observation/m0"),
        Measurement("serum_m_protein", 4, "g/L", T0 + dt.timedelta(days=100), "Observation/m1"),
    ]
    steps = _steps(*ms)
    assert "vegf-same-specimen" not in steps
    assert dict(steps["vegf-surveillance"].params)["specimen"] == "serum"


def test_a_rise_within_the_other_types_own_series_is_a_progression():
    # probe111 D3: serum 2500 before, plasma 150 -> 600 after - the plasma series is compared with itself, as with
    # no baseline at all; serum and plasma are never compared with each other
    r = response(vegf(2500, -5, "serum"), vegf(150, 90, "plasma"), vegf(600, 270, "plasma"))
    v = r.vegf
    assert v.category == "progression" and v.specimen == "plasma"
    assert v.nadir is not None and v.nadir.reference == "Observation/vegf90"
    assert v.latest is not None and v.latest.reference == "Observation/vegf270"
    assert "serum baseline is not comparable" in v.reason
    assert any(a.code == "vegf_progression" for a in r.alerts)


def test_a_serum_series_after_a_plasma_baseline_likewise():
    v = response(vegf(700, -5, "plasma"), vegf(500, 90, "serum"), vegf(2500, 270, "serum")).vegf
    assert v.category == "progression" and v.specimen == "serum"


def test_no_rise_within_the_other_type_stays_not_evaluable_and_says_so():
    v = response(vegf(2500, -5, "serum"), vegf(150, 90, "plasma"), vegf(160, 270, "plasma")).vegf
    assert v.category == "not_evaluable" and v.unpaired is not None
    assert v.reason.startswith("follow-up VEGF in another specimen (plasma) than the serum baseline")
    assert "160 pg/mL on 2024-10-11 is no progression" in v.reason
