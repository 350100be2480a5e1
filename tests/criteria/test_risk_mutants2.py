"""Risk factors (criteria.md §9) where the earlier rounds left gaps: which day is "at diagnosis"
without a treatment, and the model names and reasons a clinician reads beside each factor.

"At diagnosis" is the baseline (first treatment), else the evaluation date (--as-of), else the
latest dated fact; expected answers follow criteria.md §9, not the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import response_config, risk_config

MAPPING = load_mapping()
CFG = response_config(MAPPING)
RISK = risk_config(MAPPING)
T0 = dt.date(2021, 3, 1)
WANG = "Wang 2017 (Peking Union)"
MAYO = "Mayo progression factors (Kourelis 2016)"
POST = "post-ASCT progression factors (D'Souza 2012)"
THROMBOSIS = "thrombosis risk (Mellors 2021)"


def day(n: int) -> dt.date:
    return T0 + dt.timedelta(days=n)


def m(analyte: str, value: float, n: int, unit: str | None = "g/L") -> Measurement:
    return Measurement(analyte, value, unit, day(n), f"Observation/{analyte}{n}")


def f(topic: str, n: int = -30, rule: str | None = None, **kw) -> Finding:
    return Finding(topic, State.PRESENT, Evidence(f"Condition/{rule or topic}{n}", day(n), topic), source_rule=rule, **kw)


def risk(findings=(), ms=(), events=(), birth: dt.date | None = None, as_of: dt.date | None = None):
    response = assess_response(list(ms), list(events), list(findings), [], CFG, as_of)
    return {r.id: r for r in assess_risk(list(findings), list(ms), list(events), response, birth, as_of, RISK)}


def test_without_treatment_age_is_taken_on_the_evaluation_date_not_at_the_last_fact():
    # 50 years and ~half a year at --as-of, but under 50 on the day of the last recorded fact
    as_of = day(0)
    birth = as_of - dt.timedelta(days=18263 + 180)
    got = risk([f("polyneuropathy", -365)], birth=birth, as_of=as_of)["age_over_50"]
    assert got.state is State.PRESENT and got.reason == f"age 50 at {as_of}"


def test_without_any_date_age_is_not_assessed():
    # no treatment, no --as-of and no dated fact: there is no day "at diagnosis"
    got = risk(birth=dt.date(1950, 1, 1))["age_over_50"]
    assert (got.model, got.state, got.reason) == (WANG, State.NOT_ASSESSED, "birth date or diagnosis date unknown")


def test_each_factor_names_its_published_model():
    treated = [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide"),
        Event("autologous_hsct", day(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    got = risk([f("polyneuropathy")], [m("albumin", 30, -5)], treated, birth=dt.date(1960, 1, 1))
    models = {k: r.model for k, r in got.items()}
    assert {k for k, v in models.items() if v == WANG} == {
        "age_over_50",
        "pulmonary_hypertension",
        "pleural_effusion",
        "egfr_below_30",
    }
    assert {k for k, v in models.items() if v == MAYO} == {"low_albumin", "no_hematologic_cr_after_first_line"}
    assert {k for k, v in models.items() if v == POST} == {
        "igg_lambda",
        "age_50_or_less_at_asct",
        "fdg_avid_lesions_at_baseline",
        "no_hematologic_cr_after_asct",
    }
    assert {k for k, v in models.items() if v == THROMBOSIS} == {
        "thrombosis_thrombocytosis",
        "thrombosis_high_hemoglobin_or_hematocrit",
        "thrombosis_volume_overload",
        "thrombosis_splenomegaly",
    }


def test_age_exactly_at_a_configured_cut_off_is_not_over_it():
    # Wang 2017: age *over* the cut-off; 48 years of 365.25 days is a whole number of days (17532),
    # so a site-configured 48 meets the cut-off exactly on that day
    cfg = dataclasses.replace(RISK, age_years=48)
    as_of = day(0)
    response = assess_response([], [], [], [], CFG, as_of)
    for days, state in ((17531, State.ABSENT), (17532, State.ABSENT), (17533, State.PRESENT)):
        birth = as_of - dt.timedelta(days=days)
        got = {r.id: r for r in assess_risk([], [], [], response, birth, as_of, cfg)}["age_over_50"]
        assert got.state is state, days
