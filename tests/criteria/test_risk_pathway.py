"""Risk factors and the care pathway on plain data."""

from __future__ import annotations

import pytest

import dataclasses

import datetime as dt

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.pathway import pathway
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.criteria.response import ResponseConfig, assess_response
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.timeline import CourseAssessment, Event, Measurement

CFG = ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000})
T0 = dt.date(2020, 1, 1)


def d(days: int) -> dt.date:
    return T0 + dt.timedelta(days=days)


def f(topic, *, rule=None, day=-30, **kw) -> Finding:
    return Finding(topic, State.PRESENT, Evidence(f"Condition/{rule or topic}", d(day), topic), source_rule=rule, **kw)


def m(analyte, value, day, unit=None, specimen=None):
    return Measurement(analyte, value, unit, d(day), f"Observation/{analyte}-{day}", specimen)


MANDATORY = [f("polyneuropathy"), f("monoclonal_plasma_cell_disorder", heavy_chain="IgG", light_chain="lambda")]
POEMS = [*MANDATORY, f("skin_changes")]  # a minor beside the mandatory ones: the treatment pathway applies


def risk_of(findings, measurements=(), events=(), birth=dt.date(1960, 1, 1), as_of=None):
    response = assess_response(list(measurements), list(events), findings, [], CFG, as_of)
    return {r.id: r for r in assess_risk(findings, list(measurements), list(events), response, birth, as_of)}


def test_wang_factors():
    findings = MANDATORY + [f("pulmonary_hypertension"), f("extravascular_volume_overload", rule="pleural_effusion")]
    events = [Event("treatment", T0, "MedicationStatement/x", "lenalidomide")]
    risk = risk_of(findings, [m("egfr", 25, -10, "mL/min/{1.73_m2}")], events)
    assert {
        k: risk[k].state for k in ("age_over_50", "pulmonary_hypertension", "pleural_effusion", "egfr_below_30")
    } == {
        "age_over_50": State.PRESENT,
        "pulmonary_hypertension": State.PRESENT,
        "pleural_effusion": State.PRESENT,
        "egfr_below_30": State.PRESENT,
    }
    young = risk_of(MANDATORY, [m("egfr", 46, -10)], events, birth=dt.date(1980, 1, 1))
    assert young["age_over_50"].state is State.ABSENT and young["egfr_below_30"].state is State.ABSENT
    assert young["pulmonary_hypertension"].state is State.NOT_ASSESSED  # never assumed absent
    assert "not the same as absent" in young["pleural_effusion"].reason


def test_edema_alone_is_not_the_pleural_effusion_factor():
    risk = risk_of(MANDATORY + [f("extravascular_volume_overload", rule="edema")])
    assert risk["pleural_effusion"].state is State.NOT_ASSESSED


def test_mayo_factors_and_unknown_birth_date():
    events = [Event("treatment", T0, "MedicationStatement/x", "lenalidomide")]
    ms = [m("albumin", 28, -10, "g/L"), m("serum_m_protein", 8, -10, "g/L"), m("serum_m_protein", 3, 90, "g/L")]
    risk = risk_of(MANDATORY, ms, events, birth=None)
    assert risk["low_albumin"].state is State.PRESENT
    assert risk["no_hematologic_cr_after_first_line"].state is State.PRESENT  # PR, not CR
    assert risk["age_over_50"].state is State.NOT_ASSESSED
    untreated = risk_of(MANDATORY, [m("albumin", 40, -10, "g/L")])
    assert untreated["low_albumin"].state is State.ABSENT
    assert untreated["no_hematologic_cr_after_first_line"].state is State.NOT_ASSESSED


def test_no_cr_after_first_line_is_not_judged_while_first_line_is_still_running():
    # probe48 D4: "present" on day 64 of a lenalidomide course ordered to run to day 120
    ms = [m("serum_m_protein", 8, -10, "g/L"), m("serum_m_protein", 3, 60, "g/L")]  # PR on day 60
    course = Event("treatment", T0, "MedicationRequest/rd", "lenalidomide", agent="lenalidomide", end=d(120))
    running = risk_of(MANDATORY, ms, [course], as_of=d(64))["no_hematologic_cr_after_first_line"]
    assert running.state is State.NOT_ASSESSED and running.evidence == ("MedicationRequest/rd",)
    assert (
        running.reason == f"first-line therapy still running on {d(64)} (lenalidomide until {d(120)}): not judged yet"
    )
    assert risk_of(MANDATORY, ms, [course], as_of=d(150))["no_hematologic_cr_after_first_line"].state is State.PRESENT
    # stem cells collected, no transplant yet: the transplant is part of first line
    collected = Event("stem_cell_mobilisation", d(100), "Procedure/mob", "mobilisation", status="completed")
    waiting = risk_of(MANDATORY, ms, [course, collected], as_of=d(150))["no_hematologic_cr_after_first_line"]
    assert waiting.state is State.NOT_ASSESSED and waiting.evidence == ("Procedure/mob",)
    asct = Event("autologous_hsct", d(140), "Procedure/asct", "ASCT", status="completed")
    # probe83 D4: transplanted, its response not assessed yet - induction and transplant are one first line
    done = risk_of(MANDATORY, ms, [course, collected, asct], as_of=d(150))["no_hematologic_cr_after_first_line"]
    assert done.state is State.NOT_ASSESSED and done.evidence == ("Procedure/asct",)
    assert done.reason == (
        f"a transplant is part of first-line therapy and not restaged yet (the transplant on {d(140)}; no "
        f"haematological result from day +90, {d(230)}, by {d(150)}): not judged yet"
    )
    # a sample two weeks after the transplant is no restaging either
    early = [*ms, m("serum_m_protein", 3, 154, "g/L")]
    soon = risk_of(MANDATORY, early, [course, collected, asct], as_of=d(160))["no_hematologic_cr_after_first_line"]
    assert soon.state is State.NOT_ASSESSED and soon.evidence == ("Procedure/asct",)
    restaged = [*ms, m("serum_m_protein", 2, 240, "g/L")]  # still PR after the transplant
    after = risk_of(MANDATORY, restaged, [course, collected, asct], as_of=d(250))["no_hematologic_cr_after_first_line"]
    assert after.state is State.PRESENT


@pytest.mark.parametrize(
    ("status", "running"),
    [
        ("active", True),
        ("in-progress", True),
        ("on-hold", True),
        ("completed", False),
        ("stopped", False),
        (None, False),
    ],
)
def test_a_course_stated_active_without_an_end_is_first_line_still_running(status, running):
    """probe64 D4: "no CR after first line" present 3.5 months into a lenalidomide course recorded
    `active` with no end (a MedicationStatement with effectivePeriod.start only)."""
    ms = [m("serum_m_protein", 8, -10, "g/L"), m("serum_m_protein", 3, 60, "g/L")]  # PR on day 60
    course = Event("treatment", T0, "MedicationStatement/len", "lenalidomide", agent="lenalidomide", status=status)
    factor = risk_of(MANDATORY, ms, [course], as_of=d(100))["no_hematologic_cr_after_first_line"]
    if running:
        assert factor.state is State.NOT_ASSESSED and factor.evidence == ("MedicationStatement/len",)
        assert factor.reason == (
            f"first-line therapy still running on {d(100)} (lenalidomide, {status}, no end stated): not judged yet"
        )
    else:
        assert factor.state is State.PRESENT


def test_post_transplant_factors_only_after_a_transplant_but_the_isotype_from_diagnosis_on():
    # criteria.md §9 post-ASCT factors: IgG-lambda is a property of the clone, known at diagnosis
    # (it informs the decision to transplant); age at ASCT and CR after ASCT need a transplant
    before = risk_of(MANDATORY)
    assert before["igg_lambda"].state is State.PRESENT  # MANDATORY's clone is IgG lambda
    assert before["igg_lambda"].model.startswith("post-ASCT")
    for after_only in ("age_50_or_less_at_asct", "no_hematologic_cr_after_asct", "fdg_avid_lesions_at_baseline"):
        assert after_only not in before
    events = [
        Event("treatment", T0, "MedicationStatement/x", "melphalan"),
        Event("autologous_hsct", d(60), "Procedure/asct", "ASCT", status="completed"),
    ]
    risk = risk_of(MANDATORY, events=events, birth=dt.date(1975, 6, 1))
    assert risk["igg_lambda"].state is State.PRESENT
    assert risk["age_50_or_less_at_asct"].state is State.PRESENT
    assert risk["fdg_avid_lesions_at_baseline"].state is State.NOT_ASSESSED
    assert risk["no_hematologic_cr_after_asct"].state is State.NOT_ASSESSED  # no response data at all
    ms = [m("serum_m_protein", 8, -10, "g/L"), m("serum_ife", 0, 150), m("urine_ife", 0, 150)]
    after_cr = risk_of(MANDATORY, ms, events, birth=dt.date(1955, 6, 1))
    assert after_cr["no_hematologic_cr_after_asct"].state is State.ABSENT
    assert after_cr["age_50_or_less_at_asct"].state is State.ABSENT
    still_m = risk_of(MANDATORY, ms[:1] + [m("serum_m_protein", 5, 150, "g/L")], events)
    assert still_m["no_hematologic_cr_after_asct"].state is State.PRESENT


def test_thrombosis_factors():
    findings = MANDATORY + [
        f("organomegaly", rule="splenomegaly"),
        f("thrombocytosis_polycythemia", rule="platelets", component="thrombocytosis"),
    ]
    risk = risk_of(findings)
    assert risk["thrombosis_splenomegaly"].state is State.PRESENT
    assert risk["thrombosis_thrombocytosis"].state is State.PRESENT
    assert risk["thrombosis_high_hemoglobin_or_hematocrit"].state is State.NOT_ASSESSED


# --- pathway ----------------------------------------------------------------------------------


def steps_of(findings, measurements=(), events=(), as_of=None, course=()):
    a = evaluate("Patient/1", findings, MAYO, as_of)
    response = assess_response(list(measurements), list(events), findings, list(course), CFG, as_of)
    risk = assess_risk(findings, list(measurements), list(events), response, dt.date(1960, 1, 1), as_of)
    earlier = evaluate("Patient/1", findings, MAYO, response.first_treatment) if response.first_treatment else None
    return {s.id: s for s in pathway(a, earlier, response, risk, findings, list(measurements), list(events), as_of)}


def test_no_pathway_without_both_mandatory_criteria_and_nothing_when_not_met():
    steps = steps_of([f("polyneuropathy")])
    assert all(s.startswith("workup-") for s in steps)
    refuted = [Finding("polyneuropathy", State.ABSENT, Evidence("Condition/x", d(-1), "no PN"))]
    assert steps_of(refuted) == {}


def test_marrow_involvement_decides_the_systemic_branch():
    marrow = POEMS + [f("monoclonal_plasma_cell_disorder", rule="marrow_clonal_plasma_cells")]
    steps = steps_of(marrow)
    assert steps["branch"].title.startswith("Systemic therapy") and steps["branch"].status == "not-started"
    assert "transplant-eligibility" in steps


def test_marrow_negative_suggests_radiotherapy_for_limited_lesions():
    steps = steps_of(POEMS, [m("bm_clonal_plasma_cells", 0, -20, "%")])
    assert "radiotherapy" in steps["branch"].title and "transplant-eligibility" not in steps


def test_unknown_marrow_asks_for_a_biopsy():
    assert "Bone-marrow biopsy" in steps_of(POEMS)["branch"].title


def test_a_paraprotein_with_a_neuropathy_alone_gets_the_work_up_not_the_treatment_pathway():
    # a probe: diabetes + polyneuropathy + IgG-lambda MGUS was offered transplant assessment, antiplatelet
    # prophylaxis "for all patients" and the radiotherapy-vs-systemic branch (criteria.md §7: MGUS with a
    # neuropathy is not POEMS without another major and a minor; §10 step 0 is the work-up)
    marrow = MANDATORY + [f("monoclonal_plasma_cell_disorder", rule="marrow_clonal_plasma_cells")]
    steps = steps_of(marrow)
    assert "staging" in steps and any(s.startswith("workup-") for s in steps)
    treating = {"branch", "transplant-eligibility", "neurotoxic-caution", "thrombosis-prophylaxis"}
    assert not treating & set(steps)
    # a POEMS criterion beyond the mandatory ones, or treatment begun, opens it
    assert treating <= set(steps_of(marrow + [f("skin_changes")]))
    treated = [Event("treatment", d(-5), "MedicationStatement/len", "lenalidomide", agent="lenalidomide")]
    assert "branch" in steps_of(marrow, events=treated)


def test_transplant_steps_follow_the_real_dates():
    events = [
        Event("treatment", T0, "MedicationStatement/x", "lenalidomide"),
        Event("stem_cell_mobilisation", d(100), "Procedure/mob", "mobilisation", status="completed"),
        Event("autologous_hsct", d(110), "Procedure/asct", "ASCT", status="completed"),
    ]
    findings = MANDATORY + [f("organomegaly", rule="splenomegaly")]
    planned = steps_of(findings, events=events, as_of=d(105))
    assert planned["engraftment-syndrome"].status == "not-started"
    assert "Splenomegaly" in planned["engraftment-syndrome"].description
    assert "restaging-day100" not in planned
    after = steps_of(findings, events=events, as_of=d(150))
    restage = after["restaging-day100"]
    assert (restage.scheduled_start, restage.scheduled_end, restage.status) == (d(200), d(210), "not-started")
    assert after["engraftment-syndrome"].status == "completed"
    done = steps_of(findings, [m("serum_ife", 0, 205)], events, as_of=d(220))
    assert done["restaging-day100"].status == "in-progress"  # begun on one serum IFE


def test_neurotoxic_caution_status_and_vegf_surveillance_schedule():
    events = [Event("treatment", T0, "MedicationStatement/thal", "thalidomide", agent="thalidomide", neurotoxic=True)]
    improved = [CourseAssessment("neuropathy", "improved", d(40), "Observation/course")]  # a response: step 6
    steps = steps_of(MANDATORY, [m("vegf", 400, 30, "pg/mL", "plasma")], events, as_of=d(60), course=improved)
    assert steps["neurotoxic-caution"].status == "in-progress"
    vegf = steps["vegf-surveillance"]
    assert (
        vegf.repeat_months == 6 and vegf.scheduled_start == dt.date(2020, 7, 31) and "plasma" in vegf.title
    )  # Jan 31 + 6 months


def test_work_up_done_since_the_first_treatment_is_marked_completed():
    events = [Event("treatment", T0, "MedicationStatement/x", "lenalidomide")]
    later_vegf = Finding("vegf_elevation", State.PRESENT, Evidence("Observation/vegf", d(50), "VEGF 900"))
    before = steps_of(MANDATORY + [f("skin_changes")], events=events, as_of=d(10))
    after = steps_of(MANDATORY + [f("skin_changes"), later_vegf], events=events, as_of=d(60))
    assert before["workup-vegf_elevation"].status == "not-started"
    assert after["workup-vegf_elevation"].status == "completed"
    assert list(before)[:3] != [] and set(before) - {"workup-vegf_elevation"} <= set(after) | {"workup-vegf_elevation"}


def _no(topic, rule, day=-30):
    from poems_fhir.criteria.model import Strength

    return Finding(
        topic, State.ABSENT, Evidence(f"Observation/{rule}", d(day), rule), source_rule=rule, strength=Strength.STRONG
    )


def test_thrombosis_factors_ruled_out_by_a_normal_count_or_a_spleen_of_normal_size():
    # criteria.md §9 (Mellors 2021) arterial factors: a normal platelet count rules thrombocytosis out,
    # a refuted splenomegaly rules splenomegaly out; with nothing recorded a factor is not assessed
    findings = [*MANDATORY, _no("thrombocytosis_polycythemia", "platelets"), _no("organomegaly", "splenomegaly")]
    risk = risk_of(findings)
    assert risk["thrombosis_thrombocytosis"].state is State.ABSENT
    assert risk["thrombosis_thrombocytosis"].evidence == ("Observation/platelets",)
    assert risk["thrombosis_splenomegaly"].state is State.ABSENT
    assert risk["thrombosis_high_hemoglobin_or_hematocrit"].state is State.NOT_ASSESSED  # no Hb, no Hct
    # a normal haemoglobin rules out the other MIN-6 part, not thrombocytosis
    hb_only = risk_of([*MANDATORY, _no("thrombocytosis_polycythemia", "hemoglobin")])
    assert hb_only["thrombosis_high_hemoglobin_or_hematocrit"].state is State.ABSENT
    assert hb_only["thrombosis_thrombocytosis"].state is State.NOT_ASSESSED
    # present at any time up to the evaluation wins over a later normal count
    both = risk_of(
        [
            *MANDATORY,
            f("thrombocytosis_polycythemia", rule="platelets", day=-60),
            _no("thrombocytosis_polycythemia", "platelets"),
        ]
    )
    assert both["thrombosis_thrombocytosis"].state is State.PRESENT
    # a denial dated after the evaluation date does not count
    later = risk_of([*MANDATORY, _no("organomegaly", "splenomegaly", day=30)], as_of=d(0))
    assert later["thrombosis_splenomegaly"].state is State.NOT_ASSESSED


def test_volume_overload_is_not_ruled_out_by_one_of_its_parts():
    # oedema, effusions and ascites are parts of one factor (criteria.md §2 MIN-2): "no ascites" leaves
    # oedema and effusions open
    no_ascites = dataclasses.replace(_no("extravascular_volume_overload", "ascites"), component="ascites")  # as mapped
    risk = risk_of([*MANDATORY, no_ascites])
    assert risk["thrombosis_volume_overload"].state is State.NOT_ASSESSED


def test_an_undated_planned_transplant_raises_the_engraftment_alert_unless_a_day_is_asked():
    # probe20 pw06: a Procedure in preparation has no performed[x] yet; README: the alert comes "once a
    # transplant is planned"; with --as-of nothing undated can be placed before the day
    events = [
        Event("treatment", T0, "MedicationStatement/x", "lenalidomide"),
        Event("autologous_hsct", None, "Procedure/asct", "ASCT", status="preparation"),
    ]
    planned = steps_of(MANDATORY, events=events)
    assert planned["engraftment-syndrome"].status == "not-started"
    assert "Procedure/asct" in planned["engraftment-syndrome"].evidence
    assert "engraftment-syndrome" not in steps_of(MANDATORY, events=events, as_of=d(30))
    done = [Event("autologous_hsct", None, "Procedure/asct", "ASCT", status="completed")]
    assert "engraftment-syndrome" not in steps_of(MANDATORY, events=done)  # undated and done: not placed


def test_no_cr_is_not_assessed_while_the_cr_cannot_be_judged():
    """probe41: a day +100 sample with a negative serum immunofixation and no urine yet is "CR not
    assessable" - "no CR after transplant" (HR 5.4) and "no CR after first line" were shown present."""
    events = [
        Event("treatment", d(0), "MedicationStatement/x", "lenalidomide"),
        Event("autologous_hsct", d(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    ms = [m("serum_m_protein", 12, -10, "g/L"), m("serum_ife", 0, 200), m("serum_m_protein", 0, 200, "g/L")]
    risk = risk_of(POEMS, ms, events, as_of=d(220))
    for factor in ("no_hematologic_cr_after_asct", "no_hematologic_cr_after_first_line"):
        assert risk[factor].state is State.NOT_ASSESSED, factor
        assert "CR not assessable" in risk[factor].reason
    # and still named under its model (criteria.md §9: D'Souza 2012 after a transplant, Kourelis 2016 after
    # the first line; mutation seed 22)
    assert risk["no_hematologic_cr_after_asct"].model == "post-ASCT progression factors (D'Souza 2012)"
    assert risk["no_hematologic_cr_after_first_line"].model == "Mayo progression factors (Kourelis 2016)"
    # the urine known and negative: a CR, so no "no CR"; known and positive: no CR
    done = risk_of(POEMS, [*ms, m("urine_ife", 0, 201)], events, as_of=d(220))
    assert done["no_hematologic_cr_after_asct"].state is State.ABSENT
    positive = risk_of(POEMS, [*ms, m("urine_ife", 1, 201)], events, as_of=d(220))
    assert positive["no_hematologic_cr_after_asct"].state is State.PRESENT


def _bortezomib(day: int) -> Event:
    return Event(
        "treatment",
        d(day),
        f"MedicationAdministration/bz-{day}",
        "bortezomib",
        agent="bortezomib",
        end=d(day),
        neurotoxic=True,
        status="completed",
    )


def test_a_weekly_neurotoxic_course_between_two_doses_is_still_running():
    # probe48 D6: weekly bortezomib administrations, each over on its day: "completed" four days after a dose
    doses = [_bortezomib(day) for day in (0, 7, 14, 21)]

    def status(as_of: int) -> str:
        return steps_of(POEMS, events=doses, as_of=d(as_of))["neurotoxic-caution"].status

    assert status(25) == "in-progress"  # 4 days after the last dose of a weekly course
    assert status(28) == "in-progress"  # the next dose is due today
    assert status(29) == "completed"  # past the course's own rhythm: over
    assert steps_of(POEMS, events=doses[:1], as_of=d(3))["neurotoxic-caution"].status == "completed"  # one dose


def test_after_radiotherapy_the_plan_asks_for_the_restaging_that_would_show_a_progression():
    # probe48 D8: radiotherapy completed, no follow-up result yet: nothing in the plan asked for the tests
    # criteria.md §10 step 1a's escalation rests on ("progression 3-6 months after completing radiation")
    marrow_negative = [Measurement("bm_clonal_plasma_cells", 0, "%", d(-20), "Observation/bm")]
    rt = Event("radiotherapy", d(0), "Procedure/rt", "radiotherapy", end=d(40), status="completed")
    steps = steps_of(POEMS, marrow_negative, [rt], as_of=d(60))
    restage = steps["restaging-after-radiotherapy"]
    assert (restage.status, restage.scheduled_start, restage.scheduled_end) == (
        "not-started",
        dt.date(2020, 5, 10),
        dt.date(2020, 8, 10),
    )
    assert restage.evidence == ("Procedure/rt",)
    in_window = [*marrow_negative, m("vegf", 150, 150, "pg/mL", "plasma")]
    assert steps_of(POEMS, in_window, [rt], as_of=d(160))["restaging-after-radiotherapy"].status == "in-progress"
    assert steps_of(POEMS, in_window, [rt], as_of=d(240))["restaging-after-radiotherapy"].status == "completed"
    assert "restaging-after-radiotherapy" not in steps_of(POEMS, in_window, [rt], as_of=d(500))  # long past
    systemic = Event("treatment", d(100), "MedicationStatement/len", "lenalidomide", agent="lenalidomide")
    assert "restaging-after-radiotherapy" not in steps_of(POEMS, marrow_negative, [rt, systemic], as_of=d(120))


def test_a_regimen_under_way_without_a_transplant_leaves_eligibility_open_and_cites_it():
    """probe48 D5: a 76-year-old with eGFR 25 on melphalan + dexamethasone for months still read
    "Assess transplant eligibility: not started", as for a new patient, and the renal dose of criteria.md
    §10 step 2a was not mentioned."""
    marrow = POEMS + [f("monoclonal_plasma_cell_disorder", rule="marrow_clonal_plasma_cells")]
    regimen = [
        Event("treatment", d(0), "MedicationStatement/mel", "melphalan", agent="melphalan"),
        Event("treatment", d(0), "MedicationStatement/dex", "dexamethasone", agent="dexamethasone"),
    ]
    low = [m("egfr", 25, -10, "mL/min/{1.73_m2}")]
    step = steps_of(marrow, low, regimen, as_of=d(120))["transplant-eligibility"]
    assert step.status == "unknown"
    assert {"MedicationStatement/mel", "MedicationStatement/dex", "Observation/egfr--10"} <= set(step.evidence)
    assert ("since", str(d(0))) in step.params and ("renal", "egfr_below_30") in step.params
    assert [v for k, v in step.params if k == "agent"] == ["dexamethasone", "melphalan"]
    # before any treatment: not started, no regimen; a normal eGFR: no renal dose
    fresh = steps_of(marrow, [m("egfr", 30, -10, "mL/min/{1.73_m2}")], as_of=d(-1))["transplant-eligibility"]
    assert fresh.status == "not-started" and fresh.params == () and fresh.evidence == ()
    # a transplant planned (a mobilisation): completed, citing the transplant, not the induction
    mobilised = [*regimen, Event("stem_cell_mobilisation", d(60), "Procedure/mob", "mobilisation")]
    planned = steps_of(marrow, events=mobilised, as_of=d(120))["transplant-eligibility"]
    assert planned.status == "completed" and planned.evidence == ("Procedure/mob",)


def test_diarrhoea_around_engraftment_is_shown_as_a_transplant_complication():
    """probe48 D12 / seed_case.md "Peri-ASCT: engine should record these as complications, not as POEMS
    progression": a diarrhoea at day +11 after the transplant appeared nowhere."""
    events = [
        Event("treatment", T0, "MedicationStatement/x", "lenalidomide"),
        Event("autologous_hsct", d(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    signs = [f("diarrhea", day=111), f("diarrhea", rule="diarrhea-late", day=131), f("diarrhea", rule="before", day=99)]
    step = steps_of(MANDATORY + signs, events=events, as_of=d(200))["engraftment-syndrome"]
    assert [v for k, v in step.params if k == "engraftment_sign"] == [f"diarrhea {d(111)}"]
    assert "Condition/diarrhea" in step.evidence
    assert not {"Condition/diarrhea-late", "Condition/before"} & set(step.evidence)
    # day +30 is still around engraftment; a sign known only after --as-of is not
    edge = steps_of(MANDATORY + [f("diarrhea", day=130)], events=events, as_of=d(200))["engraftment-syndrome"]
    assert ("engraftment_sign", f"diarrhea {d(130)}") in edge.params
    early = steps_of(MANDATORY + signs, events=events, as_of=d(110))["engraftment-syndrome"]
    assert not [v for k, v in early.params if k == "engraftment_sign"]


def test_staging_is_begun_by_its_laboratory_tests_on_record_and_cites_the_latest_of_each():
    """probe48 D14: "Complete staging before therapy" read "not started" beside an immunofixation, free
    light chains, VEGF, blood count and marrow already on record, and cited none of them."""
    assert steps_of(POEMS, as_of=d(0))["staging"].status == "not-started"  # the clone from a diagnosis only
    results = [
        m("serum_ife", 1, -40),
        m("vegf", 900, -50, "pg/mL", "plasma"),
        m("vegf", 1000, -20, "pg/mL", "plasma"),
        m("platelets", 500, -20, "10*9/L"),
        m("albumin", 30, -20, "g/L"),  # chemistry: not a staging test of §10 step 0 that poems-fhir reads
        m("flc_ratio", 0.1, 5),  # after --as-of
    ]
    staging = steps_of(POEMS, results, as_of=d(0))["staging"]
    assert staging.status == "in-progress"
    assert staging.evidence == ("Observation/platelets--20", "Observation/serum_ife--40", "Observation/vegf--20")
    treated = [Event("treatment", d(-5), "MedicationStatement/len", "lenalidomide", agent="lenalidomide")]
    after = steps_of(POEMS, results, treated, as_of=d(0))["staging"]
    assert (after.status, after.evidence) == ("unknown", ())


def test_without_as_of_a_closed_window_is_overdue_as_of_the_newest_fact():
    """probe51 D3: "Overdue since DATE" came only with --as-of, so the sync job (which has none) showed a
    day +100 restaging whose window closed 15 months before the data's end as plainly in progress."""
    events = [
        Event("treatment", T0, "MedicationStatement/x", "lenalidomide"),
        Event("autologous_hsct", d(100), "Procedure/asct", "ASCT", status="completed"),
    ]
    begun = [m("serum_ife", 0, 195)]  # the restaging begun on day +95, its other parts never done
    later = [*begun, m("vegf", 150, 600, "pg/mL", "plasma")]  # a result long after the window (d(190)-d(200))
    step = steps_of(MANDATORY, later, events)["restaging-day100"]
    assert step.status == "in-progress" and ("overdue", str(d(200))) in step.params
    # the newest fact inside the window: not overdue yet; --as-of still decides when given
    assert not [p for p in steps_of(MANDATORY, begun, events)["restaging-day100"].params if p[0] == "overdue"]
    assert not [
        p for p in steps_of(MANDATORY, later, events, as_of=d(199))["restaging-day100"].params if p[0] == "overdue"
    ]


def test_a_planned_transplant_keeps_the_first_line_running_and_says_which(tmp_path):
    """criteria.md §9 (Kourelis 2016, "failure to reach CR" after first line): a transplant in preparation
    is part of the first line, so "no CR" is not judged yet, citing the planned transplant (mutation sample
    seed 23: the kind of the planned event was never checked)."""
    events = [
        Event("treatment", d(0), "MedicationStatement/len", "lenalidomide", agent="lenalidomide", end=d(60)),
        Event("autologous_hsct", d(150), "Procedure/asct-plan", "ASCT planned", status="preparation"),
    ]
    ms = [m("serum_m_protein", 12, -10, "g/L"), m("serum_m_protein", 6, 100, "g/L")]
    factor = risk_of(POEMS, ms, events, as_of=d(120))["no_hematologic_cr_after_first_line"]
    assert factor.state is State.NOT_ASSESSED and factor.evidence == ("Procedure/asct-plan",)
    assert "transplant is part of first-line therapy" in factor.reason
    # a radiotherapy in preparation is no planned transplant: the first line is over, no CR is present
    other = [events[0], Event("radiotherapy", d(150), "Procedure/rt-plan", "RT planned", status="preparation")]
    assert risk_of(POEMS, ms, other, as_of=d(120))["no_hematologic_cr_after_first_line"].state is State.PRESENT
