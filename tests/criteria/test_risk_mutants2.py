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
    return Finding(
        topic, State.PRESENT, Evidence(f"Condition/{rule or topic}{n}", day(n), topic), source_rule=rule, **kw
    )


def risk(findings=(), ms=(), events=(), birth: dt.date | None = None, as_of: dt.date | None = None):
    response = assess_response(list(ms), list(events), list(findings), [], CFG, as_of)
    return {r.id: r for r in assess_risk(list(findings), list(ms), list(events), response, birth, as_of, RISK)}


def test_without_treatment_age_is_taken_at_the_last_fact_not_on_the_evaluation_date():
    # probe83 D2: 51 at --as-of, but 50 on the day of the last recorded fact, a year earlier - the work-up
    # does not age with each later --as-of, and --as-of today says what no --as-of says
    as_of = day(0)
    birth = dt.date(as_of.year - 51, as_of.month, as_of.day) - dt.timedelta(days=30)
    got = risk([f("polyneuropathy", -365)], birth=birth, as_of=as_of)["age_over_50"]
    assert got.state is State.ABSENT and got.reason == f"age 50 at {day(-365)}"
    assert risk([f("polyneuropathy", -365)], birth=birth)["age_over_50"] == got
    # a fact after --as-of is not the last fact as of then
    later = risk([f("polyneuropathy", -365), f("skin_changes", 30)], birth=birth, as_of=as_of)["age_over_50"]
    assert later == got
    # nothing recorded by then: the evaluation date is all there is
    assert risk([f("polyneuropathy", 30)], birth=birth, as_of=as_of)["age_over_50"].reason == f"age 51 at {as_of}"


def test_without_treatment_a_follow_up_record_does_not_move_the_age_at_diagnosis():
    # probe84 D3: a criteria-meeting work-up at 50, one follow-up M-protein after the 51st birthday - the
    # age at diagnosis is the work-up's; the labs "at diagnosis" still read up to the evaluation day
    as_of = day(0)
    birth = dt.date(as_of.year - 51, as_of.month, as_of.day) - dt.timedelta(days=30)
    work_up = [f("polyneuropathy", -150), f("monoclonal_plasma_cell_disorder", -150), f("skin_changes", -140)]
    follow_up = f("monoclonal_plasma_cell_disorder", -5)
    got = risk([*work_up, follow_up], [m("albumin", 30, -2)], birth=birth, as_of=as_of)
    assert (got["age_over_50"].state, got["age_over_50"].reason) == (State.ABSENT, f"age 50 at {day(-140)}")
    assert got["low_albumin"].state is State.PRESENT  # an albumin after the work-up still counts
    assert risk([*work_up, follow_up], birth=birth)["age_over_50"] == got["age_over_50"]


def test_age_is_in_completed_years():
    # criteria.md §9: Wang "Age >50 y", post-ASCT "age ≤50 at ASCT": 50 years and 6 months is 50,
    # so neither over 50 at diagnosis nor over the ≤ 50 line at transplant (both were inverted)
    as_of = day(0)
    birth = dt.date(as_of.year - 50, as_of.month, as_of.day) - dt.timedelta(days=182)
    got = risk([f("polyneuropathy", -10)], birth=birth, as_of=as_of)["age_over_50"]
    assert (got.state, got.reason) == (State.ABSENT, f"age 50 at {day(-10)}")


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
        "thrombosis_hyperprolactinemia",
    }


def test_age_exactly_at_a_configured_cut_off_is_not_over_it():
    # Wang 2017: age *over* the cut-off, in completed years: a site-configured 48 is passed on the
    # 49th birthday, not on the 48th nor the day before the 49th
    cfg = dataclasses.replace(RISK, age_years=48)
    as_of = day(0)
    response = assess_response([], [], [], [], CFG, as_of)
    on_48th = dt.date(as_of.year - 48, as_of.month, as_of.day)
    on_49th = dt.date(as_of.year - 49, as_of.month, as_of.day)
    for birth, state in (
        (on_48th, State.ABSENT),
        (on_49th + dt.timedelta(days=1), State.ABSENT),
        (on_49th, State.PRESENT),
    ):
        got = {r.id: r for r in assess_risk([], [], [], response, birth, as_of, cfg)}["age_over_50"]
        assert got.state is state, birth


def test_wang_factors_are_read_at_diagnosis_not_later():
    # Wang 2017 factors are baseline factors: a pulmonary hypertension or pleural effusion first
    # recorded after the first treatment is not a factor at diagnosis
    treated = [Event("treatment", day(0), "MedicationStatement/len", "lenalidomide")]
    later = [f("pulmonary_hypertension", 30), f("extravascular_volume_overload", 30, rule="pleural_effusion")]
    got = risk(later, events=treated)
    assert got["pulmonary_hypertension"].state is State.NOT_ASSESSED
    assert got["pleural_effusion"].state is State.NOT_ASSESSED
    before = [f("pulmonary_hypertension", -1), f("extravascular_volume_overload", 0, rule="pleural_effusion")]
    got = risk(before, events=treated)
    assert got["pulmonary_hypertension"].state is State.PRESENT
    assert got["pulmonary_hypertension"].evidence == ("Condition/pulmonary_hypertension-1",)
    assert got["pleural_effusion"].state is State.PRESENT


def _summary(got) -> dict[str, tuple[State, str, tuple[str, ...]]]:
    return {k: (r.state, r.reason, r.evidence) for k, r in got.items()}


def test_every_factor_states_why_when_everything_is_recorded():
    # criteria.md §9: each factor with the fact behind it; the reasons are what the clinician reads
    findings = [
        f("polyneuropathy"),
        f("monoclonal_plasma_cell_disorder", heavy_chain="IgG", light_chain="lambda"),
        f("pulmonary_hypertension"),
        f("extravascular_volume_overload", rule="pleural_effusion"),
        f("thrombocytosis_polycythemia", rule="platelets"),
        f("thrombocytosis_polycythemia", rule="hemoglobin"),
        f("organomegaly", rule="splenomegaly"),
    ]
    ms = [
        m("egfr", 25, -10, "mL/min/{1.73_m2}"),
        m("albumin", 28, -10),
        m("serum_m_protein", 8.0, -10),
        m("serum_m_protein", 3.0, 60),
        dataclasses.replace(m("prolactin", 48, -10, "ng/mL"), above=True),
    ]
    events = [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide"),
        Event("autologous_hsct", day(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    got = _summary(risk(findings, ms, events, birth=dt.date(1960, 1, 1)))
    assert got == {
        "age_over_50": (State.PRESENT, "age 61 at 2021-03-01", ()),
        "pulmonary_hypertension": (
            State.PRESENT,
            # seed_case.md T0: "severity not reported; cohort definition sPAP >= 50 mmHg not confirmable"
            "pulmonary hypertension recorded; sPAP not reported: the cohort definition (echo sPAP >= 50 mmHg) "
            "cannot be confirmed",
            ("Condition/pulmonary_hypertension-30",),
        ),
        "pleural_effusion": (State.PRESENT, "pleural effusion recorded", ("Condition/pleural_effusion-30",)),
        "egfr_below_30": (State.PRESENT, "eGFR 25 mL/min/1.73 m² on 2021-02-19", ("Observation/egfr-10",)),
        "low_albumin": (State.PRESENT, "albumin 28 g/L (< 32 g/L is low; cut-off S)", ("Observation/albumin-10",)),
        "no_hematologic_cr_after_first_line": (
            State.PRESENT,
            "haematological response PR (amyloid-style)",
            # the response's baseline and latest result (the factor cited nothing before the thirty-eighth session)
            ("Observation/serum_m_protein-10", "Observation/serum_m_protein60"),
        ),
        "igg_lambda": (State.PRESENT, "IgG-lambda isotype", ("Condition/monoclonal_plasma_cell_disorder-30",)),
        "age_50_or_less_at_asct": (State.ABSENT, "age 61 at transplant on 2021-06-09", ("Procedure/asct",)),
        "fdg_avid_lesions_at_baseline": (
            State.NOT_ASSESSED,
            "FDG avidity of bone lesions is not coded in the data",
            (),
        ),
        # the last M-protein (day 60) predates the transplant of day 100: no response after it yet (it was
        # "present" from the pre-transplant PR - a probe's finding with a transplant-morning sample)
        "no_hematologic_cr_after_asct": (
            State.NOT_ASSESSED,
            f"no haematological response assessment after the transplant on {day(100)} yet (the last, on {day(60)}, was PR)",
            (),
        ),
        "thrombosis_thrombocytosis": (State.PRESENT, "thrombocytosis recorded", ("Condition/platelets-30",)),
        "thrombosis_high_hemoglobin_or_hematocrit": (
            State.PRESENT,
            "high hemoglobin or hematocrit recorded",
            ("Condition/hemoglobin-30",),
        ),
        "thrombosis_volume_overload": (State.PRESENT, "volume overload recorded", ("Condition/pleural_effusion-30",)),
        "thrombosis_splenomegaly": (State.PRESENT, "splenomegaly recorded", ("Condition/splenomegaly-30",)),
        "thrombosis_hyperprolactinemia": (
            State.PRESENT,
            "prolactin 48 ng/mL on 2021-02-19, above its lab's upper limit",
            ("Observation/prolactin-10",),
        ),
    }


def test_every_factor_states_why_when_nothing_is_recorded():
    # nothing recorded is "not assessed", never "absent" (criteria.md §6), and says what is missing
    events = [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide"),
        Event("autologous_hsct", day(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    got = _summary(risk([f("monoclonal_plasma_cell_disorder")], events=events))
    gate = "no M-protein before the first treatment, dFLC is not > 100 mg/L and urine M-protein not > 100 mg/24 h: below the measurability gate"
    assert got == {
        "age_over_50": (State.NOT_ASSESSED, "birth date or diagnosis date unknown", ()),
        "pulmonary_hypertension": (State.NOT_ASSESSED, "no echocardiographic assessment recorded", ()),
        "pleural_effusion": (State.NOT_ASSESSED, "no pleural effusion recorded (not the same as absent)", ()),
        "egfr_below_30": (State.NOT_ASSESSED, "no eGFR at diagnosis", ()),
        "low_albumin": (State.NOT_ASSESSED, "no albumin at diagnosis", ()),
        "no_hematologic_cr_after_first_line": (
            State.NOT_ASSESSED,
            f"haematological response not evaluable: {gate}",
            (),
        ),
        "igg_lambda": (State.NOT_ASSESSED, "isotype unknown", ()),
        "age_50_or_less_at_asct": (State.NOT_ASSESSED, "birth date unknown", ("Procedure/asct",)),
        "fdg_avid_lesions_at_baseline": (
            State.NOT_ASSESSED,
            "FDG avidity of bone lesions is not coded in the data",
            (),
        ),
        "no_hematologic_cr_after_asct": (
            State.NOT_ASSESSED,
            "haematological response not_evaluable (amyloid-style)",
            (),
        ),
        "thrombosis_thrombocytosis": (State.NOT_ASSESSED, "thrombocytosis not recorded", ()),
        "thrombosis_high_hemoglobin_or_hematocrit": (
            State.NOT_ASSESSED,
            "high hemoglobin or hematocrit not recorded",
            (),
        ),
        "thrombosis_volume_overload": (State.NOT_ASSESSED, "volume overload not recorded", ()),
        "thrombosis_splenomegaly": (State.NOT_ASSESSED, "splenomegaly not recorded", ()),
        "thrombosis_hyperprolactinemia": (State.NOT_ASSESSED, "prolactin not measured", ()),
    }
    untreated = risk()["no_hematologic_cr_after_first_line"]
    assert (untreated.state, untreated.reason) == (State.NOT_ASSESSED, "no treatment recorded")


MODEL_OF = {
    "age_over_50": WANG,
    "pulmonary_hypertension": WANG,
    "pleural_effusion": WANG,
    "egfr_below_30": WANG,
    "low_albumin": MAYO,
    "no_hematologic_cr_after_first_line": MAYO,
    "igg_lambda": POST,
    "age_50_or_less_at_asct": POST,
    "fdg_avid_lesions_at_baseline": POST,
    "no_hematologic_cr_after_asct": POST,
}


def test_models_are_named_whatever_the_factor_state():
    events = [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide"),
        Event("autologous_hsct", day(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    ms = [m("egfr", 25, -10), m("albumin", 28, -10), m("serum_m_protein", 8.0, -10), m("serum_m_protein", 3.0, 60)]
    for got in (risk(ms=ms, events=events, birth=dt.date(1960, 1, 1)), risk(events=events), risk()):
        for k, r in got.items():
            assert r.model == MODEL_OF.get(k, THROMBOSIS), k


def test_a_complete_response_is_no_risk_factor_and_transplant_dates_are_the_first_real_one():
    # Kourelis 2016 / D'Souza 2012: "no hematologic CR" is absent once the response is CR
    events = [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide"),
        Event("autologous_hsct", day(200), "Procedure/asct2", "ASCT 2", status="completed"),
        Event("autologous_hsct", day(100), "Procedure/asct1", "ASCT 1", status="completed"),
        Event("autologous_hsct", day(50), "Procedure/planned", "ASCT planned", status="preparation"),
    ]
    ms = [
        m("serum_m_protein", 8.0, -10),
        m("serum_ife", 0, 150, unit=None),
        m("urine_ife", 0, 150, unit=None),
    ]
    got = risk(ms=ms, events=events, birth=day(0) - dt.timedelta(days=18263))
    first_line = got["no_hematologic_cr_after_first_line"]
    assert (first_line.state, first_line.reason) == (State.ABSENT, "haematological response CR (amyloid-style)")
    assert (got["no_hematologic_cr_after_asct"].state, got["no_hematologic_cr_after_asct"].reason) == (
        State.ABSENT,
        "haematological response CR (amyloid-style)",
    )
    age = got["age_50_or_less_at_asct"]  # the first completed transplant (day 100), not the planned one
    assert (age.state, age.reason, age.evidence) == (
        State.PRESENT,  # 50 in completed years (born 18,263 days before day 0): ≤ 50
        "age 50 at transplant on 2021-06-09",
        ("Procedure/asct1",),
    )
    on_the_day = risk(ms=ms, events=events[:3], birth=dt.date(1960, 1, 1), as_of=day(100))
    assert on_the_day["age_50_or_less_at_asct"].evidence == ("Procedure/asct1",)
    only_planned = risk(ms=ms, events=[events[0], events[3]], birth=dt.date(1960, 1, 1))
    assert "age_50_or_less_at_asct" not in only_planned


def test_risk_evidence_is_sorted_and_unique_whatever_the_source_order():
    from poems_fhir.criteria.risk import RiskFactor

    r = RiskFactor("x", WANG, State.PRESENT, "why", ("Condition/b", "Condition/a", "Condition/b"))
    assert r.evidence == ("Condition/a", "Condition/b")
    listed = RiskFactor("x", WANG, State.PRESENT, "why", ["Condition/a"])  # type: ignore[arg-type]
    assert listed.evidence == ("Condition/a",)


def test_the_latest_value_before_diagnosis_is_used_whatever_the_input_order():
    treated = [Event("treatment", day(0), "MedicationStatement/len", "lenalidomide")]
    ms = [m("egfr", 25, -5), m("egfr", 60, -30), m("albumin", 36, -5), m("albumin", 28, -30), m("albumin", 20, 0)]
    got = risk(ms=ms, events=treated)
    assert (got["egfr_below_30"].state, got["egfr_below_30"].evidence) == (State.PRESENT, ("Observation/egfr-5",))
    assert (got["low_albumin"].state, got["low_albumin"].evidence) == (State.PRESENT, ("Observation/albumin0",))
    assert got["egfr_below_30"].reason == "eGFR 25 g/L on 2021-02-24"
    unitless = risk(ms=[Measurement("egfr", 25, None, day(-5), "Observation/e")], events=treated)
    assert unitless["egfr_below_30"].reason == "eGFR 25 on 2021-02-24"  # probe111 D8: one space, the unit shown as read


def test_thrombosis_factors_by_each_mapping_rule_and_only_up_to_the_evaluation_date():
    # Mellors 2021: thrombocytosis, high Hb/Hct, volume overload, splenomegaly
    from poems_fhir.criteria.risk import splenomegaly

    findings = [
        f("thrombocytosis_polycythemia", rule="thrombocytosis"),
        f("thrombocytosis_polycythemia", rule="hematocrit"),
        f("organomegaly", rule="hepatosplenomegaly"),
        f("extravascular_volume_overload", 30, rule="edema"),
    ]
    got = risk(findings, as_of=day(0))
    assert got["thrombosis_thrombocytosis"].evidence == ("Condition/thrombocytosis-30",)
    assert got["thrombosis_high_hemoglobin_or_hematocrit"].evidence == ("Condition/hematocrit-30",)
    assert got["thrombosis_splenomegaly"].evidence == ("Condition/hepatosplenomegaly-30",)
    assert got["thrombosis_volume_overload"].state is State.NOT_ASSESSED  # recorded after --as-of
    assert [x.source_rule for x in splenomegaly(findings)] == ["hepatosplenomegaly"]
    liver_only = [f("organomegaly", rule="hepatomegaly"), f("organomegaly")]
    assert splenomegaly(liver_only) == []
    assert risk(liver_only)["thrombosis_splenomegaly"].state is State.NOT_ASSESSED


def test_other_isotype_cites_the_typed_clone_and_age_50_at_transplant_counts():
    asct = [Event("autologous_hsct", day(0), "Procedure/asct", "ASCT", status="completed")]
    clone = [f("monoclonal_plasma_cell_disorder", heavy_chain="IgA", light_chain="lambda")]
    got = risk(clone, events=asct)["igg_lambda"]
    assert (got.state, got.evidence) == (State.ABSENT, ("Condition/monoclonal_plasma_cell_disorder-30",))
    # D'Souza 2012: age <= 50 at ASCT; a configured 48 years is exactly 17532 days
    cfg = dataclasses.replace(RISK, age_years=48)
    response = assess_response([], asct, [], [], CFG)
    birth = day(0) - dt.timedelta(days=17532)
    at = {r.id: r for r in assess_risk([], [], asct, response, birth, None, cfg)}["age_50_or_less_at_asct"]
    assert at.state is State.PRESENT


def test_two_evidence_references_are_sorted_too():
    from poems_fhir.criteria.risk import RiskFactor

    assert RiskFactor("x", WANG, State.PRESENT, "why", ("Condition/b", "Condition/a")).evidence == (
        "Condition/a",
        "Condition/b",
    )


def test_polycythemia_rule_is_a_high_hemoglobin_factor():
    got = risk([f("thrombocytosis_polycythemia", rule="polycythemia")])
    assert got["thrombosis_high_hemoglobin_or_hematocrit"].evidence == ("Condition/polycythemia-30",)


def test_an_evaluation_date_before_the_birth_date_gives_no_age():
    # --as-of before the patient was born (a Synthea patient at --as-of 2015): no negative ages
    as_of = day(0)
    birth = as_of + dt.timedelta(days=400)
    got = risk([f("polyneuropathy", -10)], birth=birth, as_of=as_of)["age_over_50"]
    assert (got.state, got.reason) == (
        State.NOT_ASSESSED,
        f"diagnosis date {day(-10)} is before the birth date {birth}",
    )


#: M-protein 8 g/L before treatment, serum and urine immunofixation negative on day 150 (CR), the
#: clone back on day 400 (progression from CR)
CR_150_RELAPSE_400 = [
    m("serum_m_protein", 8.0, -10),
    m("serum_ife", 0, 150, unit=None),
    m("urine_ife", 0, 150, unit=None),
    m("serum_ife", 1, 400, unit=None),
]


def _treated_then_transplanted(transplant_day: int) -> list[Event]:
    return [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide"),
        Event("autologous_hsct", day(transplant_day), "Procedure/asct", "ASCT", status="completed"),
    ]


def test_a_complete_response_once_reached_is_no_risk_factor_after_a_relapse():
    # Kourelis 2016 "failure to reach hematologic CR", D'Souza 2012 "no hematologic CR" (criteria.md §9):
    # CR on day 150, the clone back on day 400 (progression, shown as such) - CR was reached
    events, ms = _treated_then_transplanted(100), CR_150_RELAPSE_400
    got = risk(ms=ms, events=events, birth=dt.date(1960, 1, 1))
    first_line = got["no_hematologic_cr_after_first_line"]
    assert (first_line.state, first_line.reason) == (
        State.ABSENT,
        f"complete response reached on {day(150)} (amyloid-style); now PD",
    )
    after = got["no_hematologic_cr_after_asct"]
    assert (after.state, after.reason) == (
        State.ABSENT,
        f"complete response reached on {day(150)} after the transplant; now PD",
    )
    # on day 120 the CR had not been reached: the factor is present (response NR/not CR)
    early = risk(ms=ms, events=events, birth=dt.date(1960, 1, 1), as_of=day(120))
    assert early["no_hematologic_cr_after_first_line"].state is not State.ABSENT
    # a CR before the transplant only: after the transplant it was not reached again
    got_before = risk(ms=ms, events=_treated_then_transplanted(200), birth=dt.date(1960, 1, 1))
    assert got_before["no_hematologic_cr_after_first_line"].state is State.ABSENT
    assert got_before["no_hematologic_cr_after_asct"].state is State.PRESENT


def test_the_isotype_behind_a_post_transplant_factor_is_known_on_the_evaluation_date():
    events = [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide"),
        Event("autologous_hsct", day(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    typed_later = f("monoclonal_plasma_cell_disorder", n=300, heavy_chain="IgG", light_chain="lambda")
    on_day_200 = risk(findings=[typed_later], events=events, birth=dt.date(1960, 1, 1), as_of=day(200))
    assert on_day_200["igg_lambda"].state is State.NOT_ASSESSED  # typed only on day 300
    on_day_300 = risk(findings=[typed_later], events=events, birth=dt.date(1960, 1, 1), as_of=day(300))
    assert on_day_300["igg_lambda"].state is State.PRESENT


def test_an_effusion_or_pulmonary_hypertension_ruled_out_is_absent_not_unknown():
    # Wang 2017: the factor is absent where a test or a clinician said so (a CT without effusion, a
    # normal echo), not merely unrecorded
    from poems_fhir.criteria.model import Strength

    def denied(topic: str, rule: str, n: int = -10, strength: Strength = Strength.STRONG) -> Finding:
        return Finding(topic, State.ABSENT, Evidence(f"DiagnosticReport/{rule}{n}", day(n), "no"),
                       strength=strength, source_rule=rule)  # fmt: skip

    no_effusion = denied("extravascular_volume_overload", "pleural_effusion")
    no_ph = denied("pulmonary_hypertension", "spap")
    got = risk(findings=[no_effusion, no_ph], as_of=day(0))
    assert (got["pleural_effusion"].state, got["pleural_effusion"].reason) == (State.ABSENT, "no pleural effusion")
    assert got["pleural_effusion"].evidence == ("DiagnosticReport/pleural_effusion-10",)
    assert (got["pulmonary_hypertension"].state, got["pulmonary_hypertension"].reason) == (
        State.ABSENT,
        "no pulmonary hypertension",
    )
    # a low-grade denial, another part of volume overload, or a denial after the date: still unknown
    weak = denied("extravascular_volume_overload", "pleural_effusion", strength=Strength.WEAK)
    ascites = denied("extravascular_volume_overload", "ascites")
    later = denied("extravascular_volume_overload", "pleural_effusion", n=10)
    for findings in ([weak], [ascites], [later]):
        assert risk(findings=findings, as_of=day(0))["pleural_effusion"].state is State.NOT_ASSESSED
    # recorded present beside a denial: present
    effusion = f("extravascular_volume_overload", n=-20, rule="pleural_effusion")
    assert risk(findings=[effusion, no_effusion], as_of=day(0))["pleural_effusion"].state is State.PRESENT


def test_a_normal_echo_pasp_rules_pulmonary_hypertension_out():
    # the cohort definition (criteria.md §9, Wang 2017): echo-estimated sPAP >= 50 mmHg
    normal = risk(ms=[m("pasp", 30, -5, unit="mm[Hg]")], as_of=day(0))["pulmonary_hypertension"]
    assert (normal.state, normal.reason, normal.evidence) == (
        State.ABSENT,
        f"echo sPAP 30 mmHg on {day(-5)} (< 50)",
        ("Observation/pasp-5",),
    )
    assert risk(ms=[m("pasp", 49.9, -5, unit="mm[Hg]")], as_of=day(0))["pulmonary_hypertension"].state is State.ABSENT
    # at the cut-off the sign itself is recorded (a finding); the measurement alone does not deny it
    assert risk(ms=[m("pasp", 50, -5, unit="mm[Hg]")], as_of=day(0))["pulmonary_hypertension"].state is (
        State.NOT_ASSESSED
    )
    # measured after the diagnosis date: not known then
    assert risk(ms=[m("pasp", 30, 5, unit="mm[Hg]")], as_of=day(0))["pulmonary_hypertension"].state is (
        State.NOT_ASSESSED
    )


def test_a_transplant_dated_before_the_birth_date_gives_no_age_and_says_why():
    birth = day(200)  # a data error: the transplant on day 100 predates the birth date
    events = [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide"),
        Event("autologous_hsct", day(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    got = risk(events=events, birth=birth)["age_50_or_less_at_asct"]
    assert (got.state, got.reason) == (
        State.NOT_ASSESSED,
        f"transplant date {day(100)} is before the birth date {birth}",
    )


def test_a_response_measured_on_the_transplant_morning_is_no_response_after_the_transplant():
    # D'Souza 2012 "no hematologic CR" after ASCT: the sample drawn before the graft on day 0 is the
    # pre-transplant response; the factor waits for a sample after it
    ms = [m("serum_m_protein", 10.0, -10), m("serum_m_protein", 4.0, 100)]
    got = risk(ms=ms, events=_treated_then_transplanted(100), birth=dt.date(1960, 1, 1))
    factor = got["no_hematologic_cr_after_asct"]
    assert factor.state is State.NOT_ASSESSED and f"after the transplant on {day(100)} yet" in factor.reason
    later = [*ms, m("serum_m_protein", 3.0, 190)]
    got = risk(ms=later, events=_treated_then_transplanted(100), birth=dt.date(1960, 1, 1))
    assert got["no_hematologic_cr_after_asct"].state is State.PRESENT  # day 190: PR, no CR after it


def test_a_cr_on_the_transplant_day_is_not_one_reached_after_it():
    got = risk(ms=CR_150_RELAPSE_400, events=_treated_then_transplanted(150), birth=dt.date(1960, 1, 1))
    assert got["no_hematologic_cr_after_first_line"].state is State.ABSENT  # reached on day 150
    assert got["no_hematologic_cr_after_asct"].state is State.PRESENT  # not after the transplant of day 150


def test_volume_overload_is_ruled_out_as_a_thrombosis_risk_only_when_every_part_is():
    # criteria.md §9 (Mellors 2021): volume overload is an arterial thrombosis risk factor; §2/§3.3:
    # an "any of" criterion is absent only when every part was assessed absent (probe12)
    from poems_fhir.criteria.model import Strength

    def no(part: str, n: int = -10, strength: Strength = Strength.STRONG) -> Finding:
        return Finding("extravascular_volume_overload", State.ABSENT, Evidence(f"Condition/no-{part}", day(n), "no"),
                       strength=strength, source_rule=part, component=part)  # fmt: skip

    every = [no("edema"), no("pleural_effusion"), no("ascites")]
    got = risk(findings=every, as_of=day(0))["thrombosis_volume_overload"]
    assert (got.state, got.reason) == (State.ABSENT, "volume overload ruled out")
    assert set(got.evidence) == {"Condition/no-edema", "Condition/no-pleural_effusion", "Condition/no-ascites"}
    for findings in (
        every[:2],  # ascites never assessed
        [*every[:2], no("ascites", strength=Strength.WEAK)],  # a low-grade negative for one part
        [*every[:2], no("ascites", n=10)],  # denied only after --as-of
    ):
        assert risk(findings=findings, as_of=day(0))["thrombosis_volume_overload"].state is State.NOT_ASSESSED
    # one part present beside the others denied: present
    oedema = f("extravascular_volume_overload", n=-20, rule="edema", component="edema")
    assert risk(findings=[*every, oedema], as_of=day(0))["thrombosis_volume_overload"].state is State.PRESENT


def test_hyperprolactinemia_is_a_venous_thrombosis_risk_judged_by_the_lab():
    # criteria.md §9 (Mellors 2021) "venous: hyperprolactinemia"; codes.md: prolactin units are
    # assay-dependent, so the lab's own upper limit or flag decides (probe12)
    def prl(value: float, n: int, above: bool | None) -> Measurement:
        return dataclasses.replace(m("prolactin", value, n, "ng/mL"), above=above)

    def state(*ms: Measurement) -> State:
        return risk(ms=ms, as_of=day(0))["thrombosis_hyperprolactinemia"].state

    assert state(prl(48, -10, True)) is State.PRESENT
    assert state(prl(12, -10, False)) is State.ABSENT
    assert state(prl(30, -10, None)) is State.NOT_ASSESSED  # no range, no flag: not judged
    assert state(prl(48, -20, True), prl(12, -10, False)) is State.ABSENT  # the latest counts
    assert state(prl(12, -20, False), prl(48, 10, True)) is State.ABSENT  # not one after --as-of
    got = risk(ms=[prl(30, -10, None)], as_of=day(0))["thrombosis_hyperprolactinemia"]
    assert got.reason == "prolactin 30 ng/mL on 2021-02-19: no upper limit or flag of its lab to judge it"


def test_a_recorded_hyperprolactinemia_is_the_venous_risk_when_no_prolactin_was_judged():
    # criteria.md §9 "venous: hyperprolactinemia"; MIN-3 "pituitary (prolactin abnormality)": a diagnosis
    # (coded or stated in text) was made on a prolactin the record does not hold
    def prl(value: float, n: int, above: bool | None) -> Measurement:
        return dataclasses.replace(m("prolactin", value, n, "ng/mL"), above=above)

    dx = f("endocrinopathy", -40, rule="hyperprolactinemia")

    def got(findings=(), ms=()):
        return risk(findings=findings, ms=ms, as_of=day(0))["thrombosis_hyperprolactinemia"]

    alone = got([dx])
    assert (alone.state, alone.reason, alone.evidence) == (
        State.PRESENT,
        "hyperprolactinaemia recorded",
        ("Condition/hyperprolactinemia-40",),
    )
    assert got([dx], [prl(30, -10, None)]).state is State.PRESENT  # a prolactin the lab did not judge
    assert got([dx], [prl(12, -10, False)]).state is State.ABSENT  # the lab's latest judgement decides
    assert got([f("endocrinopathy", 10, rule="hyperprolactinemia")]).state is State.NOT_ASSESSED  # after --as-of
    assert got([f("endocrinopathy", -40, rule="hypopituitarism")]).state is State.NOT_ASSESSED  # another axis


def test_a_recorded_pulmonary_hypertension_says_whether_the_spap_confirms_the_cohort_definition():
    events = [Event("treatment", day(0), "MedicationStatement/len", "lenalidomide")]
    ph = [f("pulmonary_hypertension")]
    got = risk(ph, [m("pasp", 62, -20, "mm[Hg]")], events)["pulmonary_hypertension"]
    assert (got.state, got.reason) == (
        State.PRESENT,
        f"pulmonary hypertension recorded; echo sPAP 62 mmHg on {day(-20)} (meets the cohort definition, >= 50 mmHg)",
    )
    low = risk(ph, [m("pasp", 41, -20, "mm[Hg]")], events)["pulmonary_hypertension"]
    assert low.state is State.PRESENT and "(below the cohort definition, >= 50 mmHg)" in low.reason


def test_a_cr_the_two_frameworks_disagree_on_is_named_with_both():
    # probe64 D7: after the transplant both immunofixations negative, the FLC ratio still abnormal:
    # amyloid-style PR (its CR needs a normal ratio), IMWG CR (provisional: no marrow). The factors follow
    # the amyloid-style criteria, and say what IMWG calls it
    events = [
        Event("treatment", day(0), "MedicationStatement/len", "lenalidomide", agent="lenalidomide", end=day(60)),
        Event("autologous_hsct", day(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    ms = [
        m("serum_m_protein", 12.0, -10),
        m("flc_kappa", 10, -10, "mg/L"),
        m("flc_lambda", 200, -10, "mg/L"),
        Measurement("flc_ratio", 0.05, None, day(-10), "Observation/ratio-10", abnormal=True),
        m("serum_m_protein", 0, 200),
        m("serum_ife", 0, 200, unit=None),
        m("urine_ife", 0, 200, unit=None),
        m("flc_kappa", 5, 200, "mg/L"),
        m("flc_lambda", 60, 200, "mg/L"),
        Measurement("flc_ratio", 0.083, None, day(200), "Observation/ratio200", abnormal=True),
    ]
    got = risk(ms=ms, events=events, birth=dt.date(1960, 1, 1), as_of=day(210))
    for factor in ("no_hematologic_cr_after_first_line", "no_hematologic_cr_after_asct"):
        assert (got[factor].state, got[factor].reason) == (
            State.PRESENT,
            "haematological response PR (amyloid-style); IMWG criteria: CR (provisional)",
        ), factor
