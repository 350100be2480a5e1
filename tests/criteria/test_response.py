"""Response assessment on plain data: every category of both frameworks, the measurability gate,
VEGF specimens, nadir and progression, clinical domains and alerts."""

from __future__ import annotations

import dataclasses

import datetime as dt

import pytest

from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.response import ResponseConfig, assess_response
from poems_fhir.criteria.timeline import CourseAssessment, Event, Measurement

CFG = ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000})
T0 = dt.date(2020, 1, 1)  # first treatment


def d(days: int) -> dt.date:
    return T0 + dt.timedelta(days=days)


def m(analyte: str, value: float, day: int, specimen: str | None = None, unit: str | None = "g/L") -> Measurement:
    return Measurement(analyte, value, unit, d(day), f"Observation/{analyte}-{day}", specimen)


TREATED = [Event("treatment", T0, "MedicationStatement/t", "lenalidomide", agent="lenalidomide")]


def run(*measurements: Measurement, events=TREATED, findings=(), course=(), as_of=None, baseline=None):
    return assess_response(list(measurements), list(events), list(findings), list(course), CFG, as_of, baseline)


# --- amyloid-style --------------------------------------------------------------------------


def test_pr_needs_a_measurable_baseline():
    r = run(m("serum_m_protein", 7.7, -10), m("serum_m_protein", 3.7, 30))
    assert r.hematologic.category == "PR" and r.hematologic.change == pytest.approx(-0.519, abs=1e-3)
    assert r.hematologic.baseline.value == 7.7 and r.hematologic.latest.value == 3.7


def test_measurability_gate_gives_not_evaluable_not_nr():
    r = run(m("serum_m_protein", 3.0, -10), m("serum_m_protein", 1.0, 30))
    assert r.hematologic.category == "not_evaluable"
    assert "measurability gate" in r.hematologic.reason


def test_nr_when_measurable_but_little_change():
    assert run(m("serum_m_protein", 8.0, -10), m("serum_m_protein", 6.0, 30)).hematologic.category == "NR"


def test_vgpr_by_dflc():
    r = run(
        m("flc_lambda", 150, -5, unit="mg/L"),
        m("flc_kappa", 10, -5, unit="mg/L"),
        m("flc_lambda", 45, 60, unit="mg/L"),
        m("flc_kappa", 12, 60, unit="mg/L"),
    )
    assert r.hematologic.category == "VGPR"


def test_cr_requires_both_immunofixations_and_reports_missing_flc_and_marrow():
    base = [m("serum_m_protein", 7.7, -10), m("serum_ife", 1, -10, unit=None)]
    only_serum = run(*base, m("serum_ife", 0, 90, unit=None))
    assert only_serum.hematologic.category != "CR"
    assert any("urine immunofixation not assessed" in c for c in only_serum.hematologic.caveats)
    r = run(*base, m("serum_ife", 0, 90, unit=None), m("urine_ife", 0, 92, unit=None))
    assert r.hematologic.category == "CR" and r.hematologic.provisional
    assert any("FLC ratio" in c for c in r.hematologic.caveats)
    assert any("bone-marrow" in c for c in r.hematologic.caveats)
    full = run(
        *base,
        m("serum_ife", 0, 90, unit=None),
        m("urine_ife", 0, 92, unit=None),
        dataclasses.replace(m("flc_ratio", 1.0, 90, unit="{ratio}"), abnormal=False),  # within the lab's range
        m("bm_plasma_cells", 2, 95, unit="%"),
    )
    assert full.hematologic.category == "CR" and not full.hematologic.provisional


def test_an_abnormal_flc_ratio_is_no_complete_response():
    # criteria.md §8.1(a): CR = serum and urine IFE negative AND a normal FLC ratio
    base = [m("serum_m_protein", 8.0, -10), m("serum_ife", 1, -10, unit=None)]
    negative = [m("serum_ife", 0, 90, unit=None), m("urine_ife", 0, 92, unit=None)]
    abnormal = dataclasses.replace(m("flc_ratio", 0.07, 90, unit="{ratio}"), abnormal=True)
    r = run(*base, *negative, m("serum_m_protein", 0.0, 90), abnormal)
    assert r.hematologic.category != "CR"
    assert any("FLC ratio 0.07" in c and "not a complete response" in c for c in r.hematologic.caveats)
    # a ratio with no reference range of its lab: CR stays provisional, and says why
    unjudged = run(*base, *negative, m("flc_ratio", 0.6, 90, unit="{ratio}"))
    assert unjudged.hematologic.category == "CR" and unjudged.hematologic.provisional
    assert any("without the lab's reference range" in c for c in unjudged.hematologic.caveats)


def test_pd_from_nadir_and_from_cr():
    r = run(m("serum_m_protein", 10, -10), m("serum_m_protein", 3, 60), m("serum_m_protein", 6, 200))
    assert r.hematologic.category == "PD" and "nadir (3 g/L)" in r.hematologic.reason
    assert [a.code for a in r.alerts] == ["hematologic_progression"]
    relapse = run(
        m("serum_m_protein", 6, -10),
        m("serum_ife", 0, 90, unit=None),
        m("urine_ife", 0, 90, unit=None),
        m("serum_ife", 1, 400, unit=None),
    )
    assert relapse.hematologic.category == "PD" and "after a complete response" in relapse.hematologic.reason


def test_small_rise_below_threshold_is_not_pd():
    r = run(m("serum_m_protein", 10, -10), m("serum_m_protein", 2, 60), m("serum_m_protein", 4, 200))
    assert r.hematologic.category != "PD"  # +100 % from nadir but not > 5 g/L


# --- IMWG-style -----------------------------------------------------------------------------


@pytest.mark.parametrize(("latest", "category"), [(0.5, "VGPR"), (4, "PR"), (7, "MR"), (9, "NR"), (16, "PD")])
def test_imwg_categories(latest, category):
    assert run(m("serum_m_protein", 10, -10), m("serum_m_protein", latest, 60)).hematologic_imwg.category == category


def test_imwg_not_evaluable_below_10_g_per_l():
    r = run(m("serum_m_protein", 7.7, -10), m("serum_m_protein", 0.69, 180), m("urine_ife", 0, 180, unit=None))
    assert r.hematologic_imwg.category == "not_evaluable" and "10 g/L" in r.hematologic_imwg.reason
    assert r.hematologic_imwg.caveats == ("descriptively a VGPR pattern (>= 90 % reduction, urine negative)",)


def test_imwg_not_evaluable_describes_the_latest_restaging_when_both_immunofixations_are_negative():
    """probe38 D17 (seed case T3): below the IMWG gate, serum and urine IFE negative later is a CR
    pattern, shown by the immunofixation that says so, not the VGPR of an earlier M-protein."""
    course = [m("serum_m_protein", 7.7, -10), m("serum_m_protein", 0.69, 180), m("urine_ife", 0, 180, unit=None)]
    later = [m("serum_ife", 0, 290, unit=None), m("urine_ife", 0, 290, unit=None)]
    r = run(*course, *later).hematologic_imwg
    assert r.category == "not_evaluable"
    assert r.caveats == (
        "descriptively a CR pattern (serum and urine immunofixation negative; bone-marrow plasma cells not assessed)",
    )
    assert r.latest is not None and r.latest.reference == "Observation/serum_ife-290"
    assert r.evidence == ("Observation/urine_ife-290",)
    marrow = run(*course, *later, m("bm_plasma_cells", 2, 290, unit="%")).hematologic_imwg
    assert marrow.caveats[0].endswith("bone-marrow plasma cells < 5 %)")
    full = run(*course, *later, m("bm_plasma_cells", 8, 290, unit="%")).hematologic_imwg
    assert full.caveats == ("descriptively a VGPR pattern (>= 90 % reduction, urine negative)",)


def test_an_immunofixation_is_shown_as_what_it_found_never_as_0_g_per_l():
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import change_text

    r = run(m("serum_m_protein", 7.7, -10), m("serum_ife", 0, 290, unit=None), m("urine_ife", 0, 290, unit=None))
    assert r.hematologic.category == "CR"
    en = change_text(translator("en"), r.hematologic.baseline, r.hematologic.latest)
    assert en.endswith(f"→ serum immunofixation negative on {translator('en').date(d(290))}")
    assert "0 g/L" not in en
    assert "иммунофиксация сыворотки отрицательна" in change_text(
        translator("ru"), r.hematologic.baseline, r.hematologic.latest
    )
    back = run(*CR_AT_90, m("urine_ife", 1, 300, unit=None)).hematologic
    assert "urine immunofixation positive on" in change_text(translator("en"), back.baseline, back.latest)


def test_imwg_cr_caveat_without_marrow():
    r = run(m("serum_m_protein", 12, -10), m("serum_ife", 0, 90, unit=None), m("urine_ife", 0, 90, unit=None))
    assert r.hematologic_imwg.category == "CR" and r.hematologic_imwg.provisional


# --- baseline choice ------------------------------------------------------------------------


def test_no_treatment_no_baseline_is_not_evaluable():
    r = run(m("serum_m_protein", 8, -10), m("serum_m_protein", 2, 60), events=[])
    assert r.hematologic.category == "not_evaluable" and "no treatment" in r.hematologic.reason


def test_user_baseline_date_overrides():
    r = run(m("serum_m_protein", 8, -100), m("serum_m_protein", 12, -10), m("serum_m_protein", 4, 60), baseline=d(-50))
    assert r.hematologic.baseline.value == 8 and r.baseline_date == d(-50)
    assert (
        run(
            m("serum_m_protein", 8, -100), m("serum_m_protein", 12, -10), m("serum_m_protein", 4, 60)
        ).hematologic.baseline.value
        == 12
    )  # default: the last before treatment


def test_as_of_hides_later_results():
    ms = [m("serum_m_protein", 8, -10), m("serum_m_protein", 3, 60), m("serum_m_protein", 0.5, 200)]
    assert run(*ms, as_of=d(100)).hematologic.latest.value == 3


# --- VEGF -----------------------------------------------------------------------------------


def vegf(value, day, specimen="plasma"):
    return m("vegf", value, day, specimen, "pg/mL")


@pytest.mark.parametrize(
    ("values", "category"),
    [
        ([800, 150], "complete"),
        ([800, 350], "partial"),
        ([800, 600], "none"),
        ([800, 150, 500], "progression"),
    ],
)
def test_vegf_categories(values, category):
    points = [vegf(v, -5 if i == 0 else 60 * i) for i, v in enumerate(values)]
    assert run(*points).vegf.category == category


def test_vegf_specimen_mismatch_is_not_evaluable():
    r = run(vegf(1500, -5, "serum"), vegf(150, 90, "plasma"))
    assert r.vegf.category == "not_evaluable" and "not comparable" in r.vegf.reason


def test_vegf_unknown_specimen_or_no_baseline():
    assert "specimen type unknown" in run(vegf(800, -5, None), vegf(100, 90, None)).vegf.reason
    assert "no VEGF before" in run(vegf(100, 90)).vegf.reason


def test_vegf_serum_uses_serum_cut_off():
    assert run(vegf(2500, -5, "serum"), vegf(900, 90, "serum")).vegf.category == "complete"


def test_vegf_progression_alert():
    r = run(vegf(800, -5), vegf(150, 90), vegf(500, 400))
    assert "vegf_progression" in [a.code for a in r.alerts]


@pytest.mark.parametrize(
    ("values", "category"),
    [
        ([400, 600], "progression"),  # never fell: +50 % from the nadir (the baseline itself), above 200
        ([400, 599], "none"),  # one below +50 %
        ([400, 400, 600], "progression"),  # flat, then the rise
        ([150, 225], "progression"),  # a normal baseline, then a new elevation above the cut-off
        ([100, 150], "not_evaluable"),  # +50 % but still below the cut-off: not progression
    ],
)
def test_vegf_progression_is_a_rise_from_the_nadir_which_includes_the_baseline(values, category):
    # README "Treatment response": ">= 50 % rise from the nadir above the cut-off" (criteria.md §8.2:
    # "rising VEGF", numeric rule UNVERIFIED): the VEGF need not have fallen first
    points = [vegf(v, -5 if i == 0 else 60 * i) for i, v in enumerate(values)]
    r = run(*points)
    assert r.vegf.category == category, r.vegf.reason
    assert ("vegf_progression" in [a.code for a in r.alerts]) == (category == "progression")


# --- clinical --------------------------------------------------------------------------------


def finding(topic, day, resolved=None, rule=None):
    return Finding(
        topic,
        State.PRESENT,
        Evidence(f"Condition/{topic}-{day}", d(day), topic),
        is_assertion=True,
        resolved_on=d(resolved) if resolved is not None else None,
        source_rule=rule,
    )


def test_clinical_domains_from_course_resolution_new_findings_and_albumin():
    findings = [
        finding("extravascular_volume_overload", -30, resolved=100),
        finding("skin_changes", -30),
        finding("organomegaly", 50),
    ]
    course = [
        CourseAssessment("neuropathy", "worse", d(40), "Observation/c1"),
        CourseAssessment("neuropathy", "improved", d(120), "Observation/c2"),
    ]
    r = run(m("albumin", 28, -10), m("albumin", 36, 150), findings=findings, course=course)
    directions = {k: v.direction for k, v in r.clinical.items()}
    assert directions == {
        "neuropathy": "improved",
        "volume_overload": "improved",
        "organomegaly": "worse",
        "skin": "not_assessed",
        "pulmonary_hypertension": "not_assessed",
        "albumin": "improved",
    }
    assert r.clinical_overall == "worse"
    early = run(findings=findings, course=course, as_of=d(45))
    assert early.clinical["neuropathy"].direction == "worse"


def test_albumin_stable_within_tolerance():
    assert run(m("albumin", 35, -10), m("albumin", 36, 150)).clinical["albumin"].direction == "stable"


def test_discordant_alert_names_neurotoxic_agents():
    events = TREATED + [
        Event("treatment", d(30), "MedicationStatement/thal", "thalidomide", agent="thalidomide", neurotoxic=True)
    ]
    r = run(
        m("serum_m_protein", 7.7, -10),
        m("serum_m_protein", 3.7, 60),
        events=events,
        course=[CourseAssessment("neuropathy", "worse", d(60), "Observation/c")],
    )
    (alert,) = r.alerts
    assert alert.code == "discordant_response" and "thalidomide" in alert.message
    assert alert.agents == ("thalidomide",)
    # and where people read it (probe41 D9: only the console and JSON named the drug)
    from poems_fhir.criteria.engine import evaluate
    from poems_fhir.criteria.profiles import MAYO
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import notices

    (notice,) = [n for n in notices(translator("ru"), evaluate("Patient/1", [], MAYO), r, None) if n.kind == "alert"]
    assert notice.explanation.endswith("Получал(а): талидомид.")  # the drug in Russian too (probe48 D13)


def test_reappearance_of_a_resolved_finding():
    findings = [
        finding("extravascular_volume_overload", -30, resolved=100, rule="ascites"),
        finding("extravascular_volume_overload", 300, rule="ascites"),
    ]
    assert "reappearance" in [a.code for a in run(findings=findings).alerts]


# --- progression from a complete response (criteria.md §8.1a PD: "from CR: any detectable M-protein
# or abnormal FLC ratio (light chain must double)")

CR_AT_90 = [
    m("serum_m_protein", 8.0, -10),
    m("serum_ife", 1, -10, unit=None),
    m("serum_ife", 0, 90, unit=None),
    m("urine_ife", 0, 92, unit=None),
]


def flc(day: int, kappa: float, lam: float, ratio_abnormal: bool | None) -> list[Measurement]:
    ratio = dataclasses.replace(m("flc_ratio", kappa / lam, day, unit="{ratio}"), abnormal=ratio_abnormal)
    return [m("flc_kappa", kappa, day, unit="mg/L"), m("flc_lambda", lam, day, unit="mg/L"), ratio]


def test_a_positive_urine_immunofixation_after_cr_is_progression():
    r = run(*CR_AT_90, m("urine_ife", 1, 300, unit=None))
    assert r.hematologic.category == "PD"
    assert r.hematologic.reason == (
        f"M-protein detectable again after a complete response (urine immunofixation positive on {d(300)})"
    )
    assert r.hematologic.latest is not None and r.hematologic.latest.reference == "Observation/urine_ife-300"
    # IMWG (measurable baseline): the clone is back, but criteria.md §8.1b gives IMWG's PD only as a rise
    # of >= 25 % and > 5 g/L from the nadir (probe31): no PD, no CR, and a caveat says it relapsed
    imwg = run(m("serum_m_protein", 20.0, -10), *CR_AT_90[1:], m("urine_ife", 1, 300, unit=None))
    assert imwg.hematologic_imwg.category not in ("PD", "CR")
    assert imwg.hematologic_imwg.caveats[-1] == (
        f"M-protein detectable again after a complete response (urine immunofixation positive on {d(300)}): "
        "a relapse from CR, IMWG progression only at >= 25 % and > 5 g/L above the nadir"
    )


def test_a_relapse_from_cr_is_dated_by_the_first_positive_result_of_the_run_still_positive():
    """probe38 D4: March's faint band is the relapse; September's larger band does not re-date it."""
    march = [m("serum_ife", 1, 300, unit=None), m("serum_m_protein", 1.2, 300)]
    september = [m("serum_ife", 1, 480, unit=None), m("serum_m_protein", 3.0, 480)]
    r = run(*CR_AT_90, *march, *september)
    assert r.hematologic.category == "PD"
    assert r.hematologic.reason.endswith(f"(serum immunofixation positive on {d(300)})")
    assert r.hematologic.evidence == ("Observation/serum_ife-300",)
    assert r.hematologic.latest is not None and r.hematologic.latest.effective == d(480)  # the latest value shown
    # a negative in between breaks the run: the standing relapse starts after it
    negative = [m("serum_ife", 0, 400, unit=None), m("serum_m_protein", 0.0, 400)]
    broken = run(*CR_AT_90, *march, *negative, *september)
    assert broken.hematologic.reason.endswith(f"(serum immunofixation positive on {d(480)})")
    # the earliest sign of the clone wins whichever test showed it: an M-protein before the first band
    early_m = run(*CR_AT_90, m("serum_m_protein", 0.8, 250), *march)
    assert early_m.hematologic.reason.endswith(f"(serum M-protein 0.8 g/L on {d(250)})")
    # on one day the immunofixation is named first (the order of criteria.md §8.1a)
    assert run(*CR_AT_90, *march).hematologic.reason.endswith(f"(serum immunofixation positive on {d(300)})")
    # the latest result negative: no standing relapse
    gone = run(*CR_AT_90, *march, m("serum_ife", 0, 480, unit=None), m("serum_m_protein", 0.0, 480))
    assert gone.hematologic.category != "PD"


def test_imwg_progression_after_cr_needs_its_own_rise_from_the_nadir():
    course = [m("serum_m_protein", 20.0, -10), *CR_AT_90[1:], m("serum_m_protein", 0.0, 90)]
    below = run(*course, m("serum_ife", 1, 300, unit=None), m("serum_m_protein", 3.0, 300))  # + 3 g/L
    assert below.hematologic_imwg.category != "PD" and "a relapse from CR" in below.hematologic_imwg.caveats[-1]
    assert below.hematologic.category == "PD"  # amyloid-style: from CR any detectable M-protein (§8.1a)
    above = run(*course, m("serum_ife", 1, 300, unit=None), m("serum_m_protein", 6.0, 300))  # + 6 g/L
    assert above.hematologic_imwg.category == "PD"
    assert above.hematologic_imwg.reason == ">= 25 % rise from the nadir (0 g/L) with > 5 g/L absolute"
    assert not any("relapse from CR" in c for c in above.hematologic_imwg.caveats)


def test_a_measurable_m_protein_after_cr_is_progression_a_zero_is_not():
    back = run(*CR_AT_90, m("serum_m_protein", 1.5, 300))
    assert back.hematologic.category == "PD"
    assert back.hematologic.reason.endswith(f"(serum M-protein 1.5 g/L on {d(300)})")
    still = run(*CR_AT_90, m("serum_m_protein", 0.0, 300))
    assert still.hematologic.category == "CR"


def test_an_abnormal_flc_ratio_after_cr_is_progression_only_with_the_light_chain_doubled():
    # lambda clone: lambda 20 mg/L at CR, 45 mg/L later with an abnormal ratio -> PD (doubled)
    at_cr = flc(90, 12.0, 20.0, False)
    doubled = run(*CR_AT_90, *at_cr, *flc(300, 12.0, 45.0, True), findings=[LAMBDA_CLONE])
    assert doubled.hematologic.category == "PD"
    assert "FLC ratio" in doubled.hematologic.reason and "(20 -> 45 mg/L)" in doubled.hematologic.reason
    assert doubled.hematologic.latest is not None
    assert doubled.hematologic.latest.reference == "Observation/flc_ratio-300"
    # not doubled (20 -> 35): an abnormal ratio is no CR, but not progression either
    risen = run(*CR_AT_90, *at_cr, *flc(300, 12.0, 35.0, True), findings=[LAMBDA_CLONE])
    assert risen.hematologic.category not in ("PD", "CR")
    # doubled, but the lab calls the ratio normal: no progression by this rule
    normal = run(*CR_AT_90, *at_cr, *flc(300, 20.0, 45.0, False), findings=[LAMBDA_CLONE])
    assert normal.hematologic.category != "PD"
    # the FLC route is the amyloid-style framework's; IMWG has no such rule in criteria.md
    assert doubled.hematologic_imwg.category != "PD"
    # without a complete response first, an abnormal ratio is not "progression from CR"
    no_cr = run(m("serum_m_protein", 8.0, -10), *at_cr, *flc(300, 12.0, 45.0, True), findings=[LAMBDA_CLONE])
    assert "after a complete response" not in no_cr.hematologic.reason


LAMBDA_CLONE = Finding(
    "monoclonal_plasma_cell_disorder",
    State.PRESENT,
    Evidence("Observation/ife", d(-10), "IgA lambda"),
    heavy_chain="IgA",
    light_chain="lambda",
)


def test_vegf_compares_like_with_like_from_each_specimens_own_baseline():
    # plasma before treatment, then the lab's serum value the day before treatment, then plasma
    # follow-ups: the plasma baseline (day -30) is compared with the plasma follow-up (criteria.md
    # §8.2 thresholds per specimen, §10 "same specimen type/assay"); the serum value has no pair
    ms = [
        m("vegf", 900, -30, specimen="plasma", unit="pg/mL"),
        m("vegf", 2500, -1, specimen="serum", unit="pg/mL"),
        m("vegf", 150, 120, specimen="plasma", unit="pg/mL"),
    ]
    v = run(*ms).vegf
    assert (v.category, v.specimen) == ("complete", "plasma")
    assert v.baseline is not None and v.baseline.reference == "Observation/vegf--30"
    # the last pre-treatment value has follow-ups of its own type: it stays the baseline
    own = run(*ms, m("vegf", 700, 200, specimen="serum", unit="pg/mL")).vegf
    assert (own.specimen, own.category) == ("serum", "complete")
    assert own.baseline is not None and own.baseline.reference == "Observation/vegf--1"
    # last pre-treatment value of unknown type, both types paired: the one followed up last decides
    both = [
        m("vegf", 900, -30, specimen="plasma", unit="pg/mL"),
        m("vegf", 2500, -20, specimen="serum", unit="pg/mL"),
        m("vegf", 1800, -1, specimen=None, unit="pg/mL"),
        m("vegf", 150, 100, specimen="plasma", unit="pg/mL"),
        m("vegf", 2400, 200, specimen="serum", unit="pg/mL"),
    ]
    assert (run(*both).vegf.specimen, run(*both).vegf.category) == ("serum", "none")
    assert run(*both[:4]).vegf.specimen == "plasma"
    # no specimen with a pair: the last pre-treatment value and why it cannot be compared
    unpaired = run(
        m("vegf", 900, -30, specimen="plasma", unit="pg/mL"), m("vegf", 700, 60, specimen="serum", unit="pg/mL")
    )
    assert unpaired.vegf.category == "not_evaluable" and "not comparable" in unpaired.vegf.reason


def test_vegf_like_with_like_on_the_treatment_day_and_on_a_tie():
    # a specimen's own value drawn on the first treatment day is its baseline (pre-dose sample)
    same_day = run(
        m("vegf", 900, 0, specimen="plasma", unit="pg/mL"),
        m("vegf", 1800, 0, specimen=None, unit="pg/mL"),
        m("vegf", 150, 100, specimen="plasma", unit="pg/mL"),
    ).vegf
    assert (same_day.specimen, same_day.category) == ("plasma", "complete")
    # both types followed up on the same day: plasma, the preferred specimen (criteria.md §10 step 0)
    tie = run(
        m("vegf", 900, -30, specimen="plasma", unit="pg/mL"),
        m("vegf", 2500, -20, specimen="serum", unit="pg/mL"),
        m("vegf", 1800, -1, specimen=None, unit="pg/mL"),
        m("vegf", 150, 100, specimen="plasma", unit="pg/mL"),
        m("vegf", 2400, 100, specimen="serum", unit="pg/mL"),
    ).vegf
    assert (tie.specimen, tie.category) == ("plasma", "complete")


@pytest.mark.parametrize("order", ["serum first", "plasma first"])
def test_serum_and_plasma_on_the_same_days_compare_the_plasma(order):
    # probe20 v24: criteria.md §10 step 0 prefers plasma; the order of the input must not decide
    pairs = [[vegf(2400, -5, "serum"), vegf(800, -5, "plasma")], [vegf(1500, 90, "serum"), vegf(150, 90, "plasma")]]
    points = [p for pair in pairs for p in (pair if order == "serum first" else pair[::-1])]
    r = run(*points)
    assert (r.vegf.specimen, r.vegf.category) == ("plasma", "complete"), r.vegf.reason


@pytest.mark.parametrize(("marrow", "cr"), [(4.9, True), (5.0, False), (30.0, False)])
def test_a_marrow_with_five_percent_plasma_cells_or_more_is_no_imwg_cr(marrow, cr):
    # criteria.md §8.1b: IMWG CR = negative serum and urine IFE + "<5% BM plasma cells"; probe35: a CR was
    # claimed beside a 6 % marrow, citing it
    course = [
        m("serum_m_protein", 20.0, -10),
        m("serum_ife", 1, -10, unit=None),
        m("serum_m_protein", 0.0, 90),
        m("serum_ife", 0, 90, unit=None),
        m("urine_ife", 0, 92, unit=None),
        *flc(90, 12.0, 15.0, False),
        m("bm_plasma_cells", marrow, 95, unit="%"),
    ]
    r = run(*course)
    imwg = r.hematologic_imwg
    if cr:
        assert (imwg.category, imwg.provisional, imwg.caveats) == ("CR", False, ())
        assert (r.hematologic.category, r.hematologic.provisional) == ("CR", False)
        return
    note = f"bone-marrow plasma cells {marrow:g} % on {d(95)} (>= 5 %): not a complete response"
    assert imwg.category == "VGPR" and imwg.caveats[-1] == note
    assert "Observation/bm_plasma_cells-95" in imwg.evidence
    # amyloid-style: CR by its main definition, provisional: "one version also requires BM plasma cells <5%"
    amyloid = r.hematologic
    assert (amyloid.category, amyloid.provisional) == ("CR", True)
    assert amyloid.caveats[-1] == note + " by the version of CR that requires it"


@pytest.mark.parametrize("spep_between", [False, True])
def test_negative_immunofixations_after_the_last_m_protein_are_a_100_percent_reduction_for_imwg(spep_between):
    # criteria.md §8.1b: VGPR = M-protein detectable by IFE but not electrophoresis, or >= 90 % reduction;
    # an M-protein not detectable even by immunofixation has gone. probe70 D8: with a 6 % marrow (no CR)
    # IMWG said "no follow-up M-protein" when no electrophoresis followed, and "PR -80 %" from a value the
    # negative immunofixation came after
    course = [
        m("serum_m_protein", 20.0, -10),
        m("serum_ife", 1, -10, unit=None),
        *([m("serum_m_protein", 4.0, 60)] if spep_between else []),
        m("serum_ife", 0, 90, unit=None),
        m("urine_ife", 0, 92, unit=None),
        m("bm_plasma_cells", 6.0, 95, unit="%"),
    ]
    imwg = run(*course).hematologic_imwg
    assert (imwg.category, imwg.change, imwg.provisional) == ("VGPR", -1.0, False)
    assert imwg.reason == f"M-protein not detectable (serum immunofixation negative on {d(90)})"
    assert imwg.latest.reference == "Observation/serum_ife-90"
    assert imwg.caveats == (f"bone-marrow plasma cells 6 % on {d(95)} (>= 5 %): not a complete response",)
    assert imwg.evidence == ("Observation/serum_ife-90", "Observation/urine_ife-92", "Observation/bm_plasma_cells-95")


def test_an_m_protein_measured_on_the_day_of_the_negative_immunofixation_stays_the_latest():
    # the negative immunofixation counts only when no M-protein was measured since: one beside it the same
    # day is what that restaging shows (and one after it is a rise from 0, tested with the nadir)
    course = [
        m("serum_m_protein", 20.0, -10),
        m("serum_ife", 0, 90, unit=None),
        m("urine_ife", 0, 92, unit=None),
        m("bm_plasma_cells", 6.0, 95, unit="%"),
        m("serum_m_protein", 8.0, 90),
    ]
    imwg = run(*course).hematologic_imwg
    assert (imwg.category, imwg.reason) == ("PR", "M-protein -60%")
    assert imwg.latest.reference == "Observation/serum_m_protein-90"


def test_with_no_typed_light_chain_the_chain_high_at_baseline_stays_the_clones():
    # probe70 D16: with no immunofixation typing, the "involved" chain was the higher one on each day, so
    # a kappa clone (150 vs 10 mg/L) that fell below a recovering lambda (12 vs 130) became a lambda
    # "dFLC rose >= 50 % from its nadir": PD of a clone the patient never had. dFLC = kappa - lambda,
    # below 0 now, and said so
    course = [
        m("serum_m_protein", 3.0, -10),
        *flc(-10, 150.0, 10.0, True),
        *flc(60, 20.0, 15.0, False),
        *flc(120, 12.0, 130.0, True),
    ]
    r = run(*course).hematologic
    assert (r.category, r.reason) == ("VGPR", "dFLC -118 mg/L < 40 mg/L")
    assert r.latest.value == -118.0 and r.latest.reference == "Observation/flc_kappa-120"
    assert "dFLC -118 mg/L: the clone's light chain (kappa) is now below the other one" in r.caveats
    # the same values with the chain typed as lambda by immunofixation: lambda is the clone, and it rose
    typed = run(*course, findings=[_lambda_clone()]).hematologic
    assert typed.category == "PD" and typed.latest.reference == "Observation/flc_lambda-120"


def test_a_chain_only_a_little_higher_at_baseline_names_no_clone():
    # probe74 D12: kappa 150 against lambda 130 mg/L is no clear clone; taken as kappa, a lambda rise to 300
    # mg/L went unseen ("not evaluable"); each day's higher chain is read, and the rise is a progression
    r = run(m("serum_m_protein", 3.0, -10), *flc(-10, 150.0, 130.0, False), *flc(120, 20.0, 300.0, True)).hematologic
    assert r.category == "PD" and r.latest.reference == "Observation/flc_lambda-120"


def _lambda_clone() -> Finding:
    return Finding(
        "monoclonal_plasma_cell_disorder",
        State.PRESENT,
        Evidence("Observation/ife", d(-20), "IgA lambda"),
        light_chain="lambda",
    )


def test_a_dflc_already_below_40_before_treatment_is_no_vgpr():
    # probe35: M-protein 2 -> 2.4 g/L and dFLC 25 -> 38 mg/L were called a VGPR ("dFLC 38 mg/L < 40")
    course = [
        m("serum_m_protein", 2.0, -10),
        *flc(-10, 35.0, 10.0, True),
        m("serum_m_protein", 2.4, 120),
        *flc(120, 48.0, 10.0, True),
    ]
    r = run(*course).hematologic
    assert r.category != "VGPR"
    assert "dFLC 25 mg/L was below 40 mg/L before treatment: no VGPR by it" in r.caveats
    reached = run(m("serum_m_protein", 2.0, -10), *flc(-10, 135.0, 10.0, True), *flc(120, 45.0, 10.0, True))
    assert reached.hematologic.category == "VGPR"  # 125 -> 35 mg/L: reached


def test_a_relapse_shown_after_a_zero_m_protein_is_dated_and_cited_by_what_shows_it():
    # probe35: PD by a positive urine immunofixation was dated at the CR and cited the CR's 0 g/L
    r = run(*CR_AT_90, m("serum_m_protein", 0.0, 90), m("urine_ife", 1, 300, unit=None)).hematologic
    assert r.category == "PD"
    assert r.latest is not None and (r.latest.reference, r.latest.effective) == ("Observation/urine_ife-300", d(300))
    assert r.evidence == ("Observation/urine_ife-300",)
    # urine M-protein progression cites the urine result
    course = [
        m("serum_m_protein", 2.0, -10),
        m("urine_m_protein", 150.0, -10, unit="mg/(24.h)"),
        m("serum_m_protein", 2.0, 200),
        m("urine_m_protein", 400.0, 300, unit="mg/(24.h)"),
    ]
    pd = run(*course).hematologic
    assert pd.category == "PD" and pd.evidence == ("Observation/urine_m_protein-300",)
    assert pd.latest is not None and pd.latest.effective == d(300)


def test_a_vegf_progression_shows_its_nadir_not_a_higher_baseline():
    """probe41 D6: the page read "VEGF rising 850 pg/mL → 420 pg/mL" (baseline → latest)."""
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import vegf_change_text

    series = [
        m("vegf", 850, -10, "plasma", "pg/mL"),
        m("vegf", 90, 100, "plasma", "pg/mL"),
        m("vegf", 420, 300, "plasma", "pg/mL"),
    ]
    v = run(*series).vegf
    assert v.category == "progression"
    assert v.nadir is not None and (v.nadir.value, v.nadir.effective) == (90, d(100))
    text = vegf_change_text(translator("en"), v)
    assert text.startswith("nadir 90 pg/mL on") and text.endswith(f"420 pg/mL on {translator('en').date(d(300))}")
    assert "850" not in text
    falling = run(m("vegf", 850, -10, "plasma", "pg/mL"), m("vegf", 300, 100, "plasma", "pg/mL")).vegf
    assert falling.nadir is None and vegf_change_text(translator("en"), falling).startswith("850 pg/mL")


def test_imwg_below_its_gate_says_the_relapse_from_cr_and_shows_what_showed_it():
    """probe41 D7: baseline 8 g/L (not IMWG-measurable), CR, then a faint band: the IMWG row kept the CR's
    0 g/L and "descriptively a VGPR pattern" and said nothing of the relapse."""
    course = [
        m("serum_m_protein", 8.0, -10),
        m("serum_ife", 0, 90, unit=None),
        m("urine_ife", 0, 92, unit=None),
        m("serum_m_protein", 0.0, 90),
    ]
    r = run(*course, m("serum_ife", 1, 400, unit=None)).hematologic_imwg
    assert r.category == "not_evaluable"
    assert r.caveats == (
        f"M-protein detectable again after a complete response (serum immunofixation positive on {d(400)}): a "
        "relapse from CR, IMWG progression only at >= 25 % and > 5 g/L above the nadir",
    )
    assert r.latest is not None and r.latest.effective == d(400) and r.evidence == ("Observation/serum_ife-400",)


def test_a_response_the_light_chains_decide_is_dated_shown_and_cited_by_them():
    """probe41 D5: an FLC-only clone's VGPR was dated at the baseline and cited nothing; a dFLC VGPR beside
    an M-protein cited only the M-protein."""
    from poems_fhir.i18n import translator
    from poems_fhir.report.wording import change_text

    base = [m("flc_kappa", 10, -10, unit="mg/L"), m("flc_lambda", 350, -10, unit="mg/L")]
    after = [m("flc_kappa", 9, 120, unit="mg/L"), m("flc_lambda", 30, 120, unit="mg/L")]
    h = run(*base, *after).hematologic
    assert h.category == "VGPR"
    assert h.latest is not None and (h.latest.effective, h.latest.value) == (d(120), 21)
    # the dFLC is both chains' difference: both cited, the involved one first (probe98 D7: only the lambda)
    assert h.evidence == ("Observation/flc_lambda-120", "Observation/flc_kappa-120")
    assert h.latest.derived_from == h.evidence and h.latest.to_dict()["derived_from"] == list(h.evidence)
    assert h.baseline.derived_from == ("Observation/flc_lambda--10", "Observation/flc_kappa--10")
    # no M-protein baseline: the light chains' baseline is shown (and the row reads as one analyte)
    assert h.baseline is not None and (h.baseline.value, h.baseline.effective) == (340, d(-10))
    assert change_text(translator("en"), h.baseline, h.latest) == (
        f"dFLC 340 mg/L on {translator('en').date(d(-10))} → dFLC 21 mg/L on {translator('en').date(d(120))}"
    )
    with_m = run(m("serum_m_protein", 12, -10), *base, m("serum_m_protein", 8, 120), *after).hematologic
    assert with_m.category == "VGPR" and with_m.evidence == ("Observation/flc_lambda-120", "Observation/flc_kappa-120")
    # a later dFLC than the M-protein: the row shows the light chains, in their own unit
    later = run(m("serum_m_protein", 12, -10), *base, m("serum_m_protein", 8, 100), *after).hematologic
    assert change_text(translator("en"), later.baseline, later.latest).endswith(
        f"→ dFLC 21 mg/L on {translator('en').date(d(120))}"
    )


@pytest.mark.parametrize(
    ("relapse", "category"),
    [(8.0, "PD"), (5.5, "PD"), (5.0, "PR")],  # > 5 g/L above 0 (criteria.md §8.1b); exactly 5 is not
)
def test_imwg_progression_after_a_negative_immunofixation_is_measured_from_zero(relapse, category):
    """probe46 D1: 42 -> 3.5 g/L -> serum immunofixation negative -> 8 g/L was "PR, -81 %" by IMWG,
    because the nadir was the last number (3.5); a negative immunofixation is an M-protein of 0, and
    criteria.md §8.1b measures PD from the nadir (>= 25 % and > 5 g/L)."""
    r = run(
        m("serum_m_protein", 42.0, -10),
        m("serum_m_protein", 3.5, 180),
        m("serum_ife", 0, 320, unit=None),
        m("urine_ife", 0, 320, unit=None),
        m("serum_ife", 1, 520, unit=None),
        m("serum_m_protein", relapse, 520),
    )
    assert r.hematologic_imwg.category == category
    if category == "PD":
        assert r.hematologic_imwg.reason == (
            f">= 25 % rise from the nadir (0 g/L: serum immunofixation negative on {d(320)}) with > 5 g/L absolute"
        )
    else:  # the clone is back but not by IMWG's margin: said as a relapse from CR
        assert "a relapse from CR" in r.hematologic_imwg.caveats[-1]
    # the same negative result sent as an electrophoresis "not detected" (0 g/L) gives the same category
    as_number = run(
        m("serum_m_protein", 42.0, -10),
        m("serum_m_protein", 3.5, 180),
        m("serum_m_protein", 0.0, 320),
        m("serum_m_protein", relapse, 520),
    )
    assert as_number.hematologic_imwg.category == category


def test_a_negative_immunofixation_after_the_latest_m_protein_is_no_nadir_for_it():
    # only a negative dated before the latest M-protein lowers the nadir the latest is compared with
    r = run(
        m("serum_m_protein", 42.0, -10),
        m("serum_m_protein", 30.0, 180),
        m("serum_m_protein", 36.0, 300),
        m("serum_ife", 0, 320, unit=None),
    )
    assert r.hematologic_imwg.category != "PD"


def test_two_different_results_of_one_day_are_no_time_course_whatever_their_order():
    """probe48 D3: M-protein 4.0 and 9.5 g/L (and VEGF 150 and 460) on one day were a "rise from the
    nadir" with a PD alert, or a PR with a normal VEGF, depending on which id sorted last."""
    verdicts = []
    for first, second in (("a", "b"), ("b", "a")):
        same_day = [
            Measurement("serum_m_protein", 4.0, "g/L", d(120), f"Observation/m-{first}"),
            Measurement("serum_m_protein", 9.5, "g/L", d(120), f"Observation/m-{second}"),
            Measurement("vegf", 150, "pg/mL", d(120), f"Observation/v-{first}", "plasma"),
            Measurement("vegf", 460, "pg/mL", d(120), f"Observation/v-{second}", "plasma"),
        ]
        r = run(m("serum_m_protein", 9.0, -10), vegf(700, -10), *same_day)
        verdicts.append((r.hematologic.category, r.hematologic_imwg.category, r.vegf.category, r.alerts))
        assert r.hematologic.category not in ("PD", "PR") and r.vegf.category not in ("progression", "complete")
        assert r.alerts == ()
        said = f"serum m protein on {d(120)}: different results on one day"
        assert any(c.startswith(said) for c in r.hematologic.caveats)
        assert any(c.startswith(said) for c in r.hematologic_imwg.caveats)
        assert f"vegf on {d(120)}: different results on one day" in r.vegf.reason
    assert verdicts[0] == verdicts[1]


@pytest.mark.parametrize(("second", "kept"), [(9.0, True), (9.4, True), (8.0, False)])
def test_same_day_copies_and_replicates_count_once(second, kept):
    # equal, or within 10 % of each other (an assay run twice, a corrected copy): the day counts once
    r = run(
        m("serum_m_protein", 9.0, -10),
        Measurement("serum_m_protein", 4.0, "g/L", d(120), "Observation/m1"),
        Measurement("serum_m_protein", 4.0 * second / 9.0, "g/L", d(120), "Observation/m2"),
    )
    if kept:
        assert r.hematologic.category == "PR" and r.hematologic.latest.reference == "Observation/m1"
        assert not any("different results on one day" in c for c in r.hematologic.caveats)
    else:
        assert r.hematologic.category != "PR"


def test_serum_and_plasma_vegf_of_one_day_are_no_conflict():
    r = run(vegf(900, -10, "serum"), vegf(700, -10), vegf(150, 90), vegf(160, 90, "serum"))
    assert "different results on one day" not in r.vegf.reason


@pytest.mark.parametrize(
    ("latest_m", "alert"),
    [
        (7.5, "clinical_progression"),  # NR: worse on every side - the probe48 D2 case
        (3.0, "discordant_response"),  # PR: the discordant alert, not this one
        (30.0, None),  # PD: the haematological progression alert already says it
    ],
)
def test_clinical_worsening_without_a_haematological_response_is_an_alert(latest_m, alert):
    course = [
        CourseAssessment("neuropathy", "worse", d(90), "Observation/course-n"),
        CourseAssessment("volume_overload", "worse", d(90), "Observation/course-v"),
    ]
    r = run(m("serum_m_protein", 8.0, -10), m("serum_m_protein", latest_m, 90), course=course)
    codes = [a.code for a in r.alerts]
    assert ("clinical_progression" in codes) is (alert == "clinical_progression")
    if alert == "clinical_progression":
        [a] = [a for a in r.alerts if a.code == alert]
        assert a.message.startswith(
            "clinical worsening (neuropathy, volume_overload) without a haematological response (NR)"
        )
        assert set(a.evidence) == {"Observation/course-n", "Observation/course-v"}
    elif alert is not None:
        assert alert in codes


def test_no_clinical_progression_alert_without_a_worse_domain():
    course = [CourseAssessment("neuropathy", "stable", d(90), "Observation/c")]
    r = run(m("serum_m_protein", 8.0, -10), m("serum_m_protein", 7.5, 90), course=course)
    assert r.alerts == ()


def test_the_response_says_which_day_it_was_assessed_on():
    # mutation sample (seed 23): the returned assessment could forget its --as-of day
    import datetime as _dt

    from poems_fhir.criteria.response import ResponseConfig, assess_response

    from poems_fhir.criteria.timeline import Event, Measurement

    day = _dt.date(2020, 6, 1)
    cfg = ResponseConfig(vegf_cutoff={"plasma": 200, "serum": 1000})
    treated = [Event("treatment", _dt.date(2020, 1, 1), "MedicationStatement/len", "lenalidomide")]
    ms = [
        Measurement("serum_m_protein", 12.0, "g/L", _dt.date(2019, 12, 20), "Observation/m0"),
        Measurement("serum_m_protein", 5.0, "g/L", _dt.date(2020, 5, 1), "Observation/m1"),
    ]
    assert assess_response([], [], [], [], cfg, day).as_of == day  # nothing to assess
    assert assess_response(ms, treated, [], [], cfg, day).as_of == day  # a response assessed


def test_a_treatment_on_no_readable_day_is_named_not_taken_for_no_treatment():
    """probe79 D8: a transplant dated "February 2024" in words gave "no treatment recorded"."""
    undated = Event("autologous_hsct", None, "Procedure/asct", "ASCT", status="completed")
    planned = Event("autologous_hsct", None, "Procedure/plan", "ASCT", status="preparation")
    r = assess_response([], [undated, planned], [], [], CFG)
    assert r.first_treatment is None and r.undated_treatments == ("Procedure/asct",)
    assert r.hematologic.reason == (
        "a treatment is recorded without a readable date (Procedure/asct) and no --baseline date"
    )
    assert assess_response([], [planned], [], [], CFG).undated_treatments == ()
    dated = Event("autologous_hsct", dt.date(2024, 2, 1), "Procedure/dated", "ASCT", status="completed")
    assert assess_response([], [undated, dated], [], [], CFG).first_treatment == dt.date(2024, 2, 1)
