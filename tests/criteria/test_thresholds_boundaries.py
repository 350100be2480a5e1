"""Every cut-off of the core at the value itself and one step either side.

The expected answers come from shared/clinical/criteria.md (section cited per test), not from the
code: a `>=` turned into `>` (or 1.25 into 1.5) must fail one of these. The cut-offs are read through
the shipped mapping (mappings/default.yaml), so the file and the engine are checked together.
"""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import (
    Classification,
    Criterion as C,
    EndocrineAxis,
    Evidence,
    Finding,
    State,
)
from poems_fhir.criteria.profiles import DISPENZIERI_2003, JAPAN_2019, MAYO
from poems_fhir.criteria.response import assess_response
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.timeline import Event, Measurement
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import response_config, risk_config

MAPPING = load_mapping()
CFG = response_config(MAPPING)
RISK = risk_config(MAPPING)
T0 = dt.date(2021, 3, 1)  # first treatment
TREATED = [Event("treatment", T0, "MedicationStatement/len", "lenalidomide", agent="lenalidomide")]


def day(n: int) -> dt.date:
    return T0 + dt.timedelta(days=n)


def m(analyte: str, value: float, n: int, specimen: str | None = None, unit: str | None = "g/L") -> Measurement:
    return Measurement(analyte, value, unit, day(n), f"Observation/{analyte}{n}", specimen)


def resp(*ms: Measurement, findings=()):
    return assess_response(list(ms), TREATED, list(findings), [], CFG)


def f(topic: str, state: State = State.PRESENT, when: dt.date | None = T0, ref: str | None = None, **kw) -> Finding:
    return Finding(topic, state, Evidence(ref or f"Condition/{topic}-{state.value}", when, topic), **kw)


def present(*cs: C, when: dt.date = T0) -> list[Finding]:
    return [f(c.value, when=when) for c in cs]


def absent(*cs: C) -> list[Finding]:
    return [f(c.value, State.ABSENT) for c in cs]


# --- the shipped cut-offs are the published ones (criteria.md §4, §8, §9) ----------------------


def test_mapping_cut_offs_are_the_published_values():
    t = MAPPING.thresholds
    assert (t["vegf_plasma"].value, t["vegf_plasma"].operator) == (200, ">=")  # §4 Mayo plasma >= 200
    assert (t["vegf_serum"].value, t["vegf_serum"].operator) == (1000, ">=")  # §4 serum default 1000
    assert CFG.vegf_cutoff == {"plasma": 200, "serum": 1000}
    assert CFG.vegf_partial_decrease == 0.5  # §8.2 ">= 50 % decrease"
    assert CFG.amyloid_serum_measurable == 5.0 and CFG.amyloid_dflc_measurable == 100  # §8.1a
    assert CFG.imwg_serum_measurable == 10.0  # §8.1b / seed_case T1: 1 g/dL
    assert (RISK.albumin_low, RISK.egfr_low, RISK.age_years) == (32, 30, 50)  # §4 albumin, §9 Wang


# --- §3.3 Time: a fact counts once it is effective on or before the evaluation date --------------


@pytest.mark.parametrize(("offset", "counted"), [(-1, True), (0, True), (1, False)])
def test_as_of_keeps_facts_dated_on_the_evaluation_day(offset, counted):
    as_of = dt.date(2020, 6, 15)
    skin = f(C.SKIN_CHANGES.value, when=as_of + dt.timedelta(days=offset))
    a = evaluate("Patient/1", [skin], MAYO, as_of)
    assert a.criteria[C.SKIN_CHANGES.value].state is (State.PRESENT if counted else State.NOT_ASSESSED)


# --- §3.3 / §6: a clinician refuting what was asserted is conflicting evidence -> INDETERMINATE --


@pytest.mark.parametrize(
    ("refuted_after", "expected"), [(-1, State.PRESENT), (0, State.INDETERMINATE), (1, State.INDETERMINATE)]
)
def test_refutation_on_the_same_day_is_a_conflict(refuted_after, expected):
    asserted = f(C.SKIN_CHANGES.value, when=T0, is_assertion=True, ref="Condition/a")
    refuted = f(C.SKIN_CHANGES.value, State.ABSENT, when=day(refuted_after), is_assertion=True, ref="Condition/b")
    r = evaluate("Patient/1", [asserted, refuted], MAYO).criteria[C.SKIN_CHANGES.value]
    assert r.state is expected
    if expected is State.INDETERMINATE:
        assert "Condition/a" in r.reason and "Condition/b" in r.reason


# --- §3.1-3.3 counting rules at their edge (exactly at_least present) ---------------------------

MANDATORY = (C.POLYNEUROPATHY, C.MONOCLONAL_PLASMA_CELL_DISORDER)
MAYO_MINORS = (
    C.ORGANOMEGALY,
    C.EXTRAVASCULAR_VOLUME_OVERLOAD,
    C.ENDOCRINOPATHY,
    C.SKIN_CHANGES,
    C.PAPILLEDEMA,
    C.THROMBOCYTOSIS_POLYCYTHEMIA,
)


def test_mayo_exactly_one_other_major_and_one_minor_is_met():
    # §3.1: MAJ-1 AND MAJ-2 AND (MAJ-3 OR MAJ-4 OR MAJ-5) AND >= 1 of MIN-1..6
    findings = present(*MANDATORY, C.VEGF_ELEVATION, C.PAPILLEDEMA)
    findings += absent(
        C.CASTLEMAN_DISEASE, C.SCLEROTIC_BONE_LESIONS, *[c for c in MAYO_MINORS if c is not C.PAPILLEDEMA]
    )
    assert evaluate("Patient/1", findings, MAYO).classification is Classification.MET


def test_mayo_zero_minors_all_assessed_is_not_met_and_one_open_is_indeterminate():
    # §3.3: majors satisfied, no minor present; all absent -> not met; one not assessed -> indeterminate
    base = present(*MANDATORY, C.SCLEROTIC_BONE_LESIONS)
    all_absent = evaluate("Patient/1", base + absent(*MAYO_MINORS), MAYO)
    assert all_absent.classification is Classification.NOT_MET
    one_open = evaluate("Patient/1", base + absent(*MAYO_MINORS[1:]), MAYO)
    assert one_open.classification is Classification.INDETERMINATE
    assert [x.criterion for x in one_open.missing] == [C.ORGANOMEGALY.value]


def test_mayo_all_three_other_majors_absent_is_not_met_one_open_indeterminate():
    # §3.3 rows 3 and 4
    base = present(*MANDATORY, C.SKIN_CHANGES)
    assert (
        evaluate(
            "Patient/1", base + absent(C.CASTLEMAN_DISEASE, C.SCLEROTIC_BONE_LESIONS, C.VEGF_ELEVATION), MAYO
        ).classification
        is Classification.NOT_MET
    )
    a = evaluate("Patient/1", base + absent(C.CASTLEMAN_DISEASE, C.SCLEROTIC_BONE_LESIONS), MAYO)
    assert a.classification is Classification.INDETERMINATE
    assert [x.criterion for x in a.missing] == [C.VEGF_ELEVATION.value]


JAPAN_MINORS = (C.EXTRAVASCULAR_VOLUME_OVERLOAD, C.SKIN_CHANGES, C.ORGANOMEGALY, C.SCLEROTIC_BONE_LESIONS)


@pytest.mark.parametrize(
    ("n_present", "expected"), [(1, Classification.NOT_MET), (2, Classification.MET), (3, Classification.MET)]
)
def test_japan_needs_two_of_four_minors(n_present, expected):
    # §1 Japanese proposal: all 3 major (incl. VEGF) + >= 2 of 4 minor; the rest assessed absent
    findings = present(*MANDATORY, C.VEGF_ELEVATION, *JAPAN_MINORS[:n_present]) + absent(*JAPAN_MINORS[n_present:])
    assert evaluate("Patient/1", findings, JAPAN_2019).classification is expected


def test_japan_one_minor_and_one_open_is_indeterminate_and_vegf_is_mandatory():
    findings = present(*MANDATORY, C.VEGF_ELEVATION, JAPAN_MINORS[0]) + absent(*JAPAN_MINORS[2:])
    assert evaluate("Patient/1", findings, JAPAN_2019).classification is Classification.INDETERMINATE
    no_vegf = present(*MANDATORY, *JAPAN_MINORS) + absent(C.VEGF_ELEVATION)
    assert evaluate("Patient/1", no_vegf, JAPAN_2019).classification is Classification.NOT_MET


def test_dispenzieri_2003_one_minor_is_met_vegf_not_needed():
    # §3.2: both majors + >= 1 of 7 minors; sclerotic lesions count as minor there; VEGF not part of 2003
    findings = present(*MANDATORY, C.SCLEROTIC_BONE_LESIONS) + absent(C.VEGF_ELEVATION)
    assert evaluate("Patient/1", findings, DISPENZIERI_2003).classification is Classification.MET
    # thrombocytosis is not a 2003 criterion ("known association")
    only_platelets = present(*MANDATORY, C.THROMBOCYTOSIS_POLYCYTHEMIA) + absent(
        C.SCLEROTIC_BONE_LESIONS,
        C.CASTLEMAN_DISEASE,
        C.ORGANOMEGALY,
        C.EXTRAVASCULAR_VOLUME_OVERLOAD,
        C.ENDOCRINOPATHY,
        C.SKIN_CHANGES,
        C.PAPILLEDEMA,
    )
    assert evaluate("Patient/1", only_platelets, DISPENZIERI_2003).classification is Classification.NOT_MET


# --- §5 endocrinopathy: one non-caveat axis, or two distinct axes ----------------------------------


def endo(axis: EndocrineAxis, state: State = State.PRESENT) -> Finding:
    return f(C.ENDOCRINOPATHY.value, state, ref=f"Observation/{axis.value}-{state.value}", axis=axis)


@pytest.mark.parametrize(
    ("abnormal", "expected"),
    [
        ((EndocrineAxis.THYROID,), State.ABSENT),  # thyroid-only: absent by caveat
        ((EndocrineAxis.PANCREATIC,), State.ABSENT),  # diabetes-only: absent by caveat
        ((EndocrineAxis.THYROID, EndocrineAxis.PANCREATIC), State.PRESENT),  # two distinct axes
        ((EndocrineAxis.GONADAL,), State.PRESENT),  # one non-thyroid, non-diabetes axis
    ],
)
def test_endocrine_caveat_edges(abnormal, expected):
    findings = [endo(a) for a in abnormal] + [endo(a, State.ABSENT) for a in EndocrineAxis if a not in abnormal]
    r = evaluate("Patient/1", findings, MAYO).criteria[C.ENDOCRINOPATHY.value]
    assert r.state is expected
    if expected is State.ABSENT:
        assert r.caveat in ("thyroid_only", "diabetes_only") and not r.open


def test_caveat_applies_to_2003_only_when_its_flag_is_set():
    # §3.2: whether the caveat applies to 2003 is UNVERIFIED -> applied only with the flag (off)
    r = evaluate("Patient/1", [endo(EndocrineAxis.THYROID)], DISPENZIERI_2003).criteria[C.ENDOCRINOPATHY.value]
    assert r.state is State.PRESENT


# --- §8.1a amyloid-style haematological response -------------------------------------------------


@pytest.mark.parametrize(("latest", "category"), [(4.1, "NR"), (4.0, "PR"), (3.9, "PR")])
def test_amyloid_pr_at_exactly_50_percent_fall(latest, category):
    assert resp(m("serum_m_protein", 8.0, -5), m("serum_m_protein", latest, 60)).hematologic.category == category


@pytest.mark.parametrize(("baseline", "evaluable"), [(5.0, False), (5.1, True)])
def test_amyloid_measurable_only_above_5_g_per_l(baseline, evaluable):
    # "if baseline > 0.5 g/dL [> 5 g/L]"
    r = resp(m("serum_m_protein", baseline, -5), m("serum_m_protein", baseline * 0.4, 60)).hematologic
    assert (r.category == "PR") is evaluable
    assert (r.category == "not_evaluable") is (not evaluable)


def flc(n: int, lam: float, kap: float = 10.0) -> list[Measurement]:
    return [m("flc_lambda", lam, n, unit="mg/L"), m("flc_kappa", kap, n, unit="mg/L")]


@pytest.mark.parametrize(("baseline_dflc", "evaluable"), [(100, False), (101, True)])
def test_amyloid_dflc_measurable_only_above_100(baseline_dflc, evaluable):
    # PR by dFLC "if baseline dFLC > 100 mg/L"; follow-up dFLC 45 (not < 40, so not VGPR)
    r = resp(*flc(-5, 10 + baseline_dflc), *flc(60, 55)).hematologic
    assert r.category == ("PR" if evaluable else "not_evaluable")


@pytest.mark.parametrize(("after", "category"), [(110, "PR"), (111, "NR")])
def test_amyloid_pr_by_dflc_at_exactly_50_percent(after, category):
    # baseline dFLC 200 -> 100 mg/L (>= 50 % fall) is PR, 101 is not
    r = resp(*flc(-5, 210), *flc(60, after)).hematologic
    assert r.category == category


@pytest.mark.parametrize(("dflc_after", "category"), [(39.9, "VGPR"), (40.0, "PR")])
def test_amyloid_vgpr_needs_dflc_below_40(dflc_after, category):
    r = resp(*flc(-5, 210), *flc(60, 10 + dflc_after)).hematologic
    assert r.category == category


@pytest.mark.parametrize(("latest", "category"), [(6.0, "PD"), (5.9, "NR")])
def test_amyloid_pd_at_50_percent_rise_from_nadir(latest, category):
    # from PR: >= 50 % increase of serum M-protein to > 0.5 g/dL; nadir 4.0 -> 6.0 is +50 %
    r = resp(m("serum_m_protein", 8.0, -5), m("serum_m_protein", 4.0, 60), m("serum_m_protein", latest, 120))
    assert r.hematologic.category == category


def test_amyloid_pd_needs_more_than_5_g_per_l():
    # +67 % from nadir 3.0, but only to 5.0 g/L (not > 5 g/L): not PD
    r = resp(m("serum_m_protein", 8.0, -5), m("serum_m_protein", 3.0, 60), m("serum_m_protein", 5.0, 120))
    assert r.hematologic.category != "PD"
    r = resp(m("serum_m_protein", 8.0, -5), m("serum_m_protein", 3.0, 60), m("serum_m_protein", 5.1, 120))
    assert r.hematologic.category == "PD"


@pytest.mark.parametrize(("last", "pd"), [(120, True), (119, False)])
def test_amyloid_pd_by_flc_at_50_percent_to_over_100(last, pd):
    # "FLC increase >= 50 % to > 100 mg/L": nadir dFLC 80 -> 120 is +50 %
    r = resp(*flc(-5, 410), *flc(60, 90), *flc(120, 10 + last)).hematologic
    assert (r.category == "PD") is pd


def test_amyloid_pd_by_flc_needs_over_100():
    r = resp(*flc(-5, 410), *flc(60, 70), *flc(120, 110)).hematologic  # nadir 60 -> 100: +67 %, not > 100
    assert r.category != "PD"


# --- §8.1b IMWG-style --------------------------------------------------------------------------


@pytest.mark.parametrize(("baseline", "evaluable"), [(9.9, False), (10.0, True)])
def test_imwg_measurable_from_10_g_per_l(baseline, evaluable):
    r = resp(m("serum_m_protein", baseline, -5), m("serum_m_protein", baseline * 0.4, 60)).hematologic_imwg
    assert (r.category != "not_evaluable") is evaluable


@pytest.mark.parametrize(
    ("latest", "category"),
    [
        (2.0, "VGPR"),
        (2.2, "PR"),  # >= 90 % reduction
        (10.0, "PR"),
        (10.2, "MR"),  # >= 50 % reduction
        (15.0, "MR"),
        (15.2, "NR"),  # MR 25-49 %
    ],
)
def test_imwg_category_edges(latest, category):
    r = resp(m("serum_m_protein", 20.0, -5), m("serum_m_protein", latest, 60)).hematologic_imwg
    assert r.category == category


@pytest.mark.parametrize(("latest", "pd"), [(30.0, True), (29.9, False)])
def test_imwg_progression_at_25_percent_rise_from_nadir(latest, pd):
    # PD = >= 25 % increase from nadir with absolute increase > 0.5 g/dL: nadir 24 -> 30 is +25 %, +6 g/L
    r = resp(m("serum_m_protein", 40.0, -5), m("serum_m_protein", 24.0, 60), m("serum_m_protein", latest, 120))
    assert (r.hematologic_imwg.category == "PD") is pd


def test_imwg_progression_needs_more_than_5_g_per_l_absolute():
    # +25 % from nadir 20 -> 25 is an absolute +5 g/L, not > 5: no PD; 20 -> 25.1 is
    base = [m("serum_m_protein", 40.0, -5), m("serum_m_protein", 20.0, 60)]
    assert resp(*base, m("serum_m_protein", 25.0, 120)).hematologic_imwg.category != "PD"
    assert resp(*base, m("serum_m_protein", 25.1, 120)).hematologic_imwg.category == "PD"


# --- §8.2 VEGF response, per specimen ------------------------------------------------------------


def vegf(value: float, n: int, specimen: str) -> Measurement:
    return m("vegf", value, n, specimen, unit="pg/mL")


@pytest.mark.parametrize(("specimen", "cut"), [("plasma", 200), ("serum", 1000)])
@pytest.mark.parametrize(("delta", "category"), [(-1, "complete"), (0, "partial"), (1, "partial")])
def test_vegf_complete_only_below_the_specimen_cut_off(specimen, cut, delta, category):
    # complete = normalisation below the cut-off (plasma < 200, serum < 1000); baseline 5x the cut-off
    r = resp(vegf(5 * cut, -5, specimen), vegf(cut + delta, 60, specimen)).vegf
    assert (r.category, r.specimen) == (category, specimen)


@pytest.mark.parametrize(("latest", "category"), [(400, "partial"), (401, "none")])
def test_vegf_partial_at_exactly_50_percent_fall(latest, category):
    # partial = >= 50 % decrease without normalisation (plasma 800 -> 400)
    assert resp(vegf(800, -5, "plasma"), vegf(latest, 60, "plasma")).vegf.category == category


@pytest.mark.parametrize(("baseline", "evaluable"), [(199, False), (200, True)])
def test_vegf_response_needs_an_elevated_baseline(baseline, evaluable):
    r = resp(vegf(baseline, -5, "plasma"), vegf(100, 60, "plasma")).vegf
    assert (r.category == "complete") is evaluable
    assert (r.category == "not_evaluable") is (not evaluable)


@pytest.mark.parametrize(("latest", "category"), [(199, "complete"), (200, "progression")])
def test_vegf_progression_never_while_vegf_is_normal(latest, category):
    # nadir 100 after treatment; a rise to 199 (+99 %) is still normal (< 200 plasma): no progression
    r = resp(vegf(800, -5, "plasma"), vegf(100, 60, "plasma"), vegf(latest, 120, "plasma")).vegf
    assert r.category == category


def test_vegf_progression_needs_the_configured_rise_from_nadir():
    # nadir 300 (not normalised) -> 449 is +49.7 %: not progression; 450 (+50 %) is
    base = [vegf(1200, -5, "plasma"), vegf(300, 60, "plasma")]
    assert resp(*base, vegf(449, 120, "plasma")).vegf.category != "progression"
    assert resp(*base, vegf(450, 120, "plasma")).vegf.category == "progression"


def test_serum_and_plasma_vegf_are_never_compared():
    r = resp(vegf(1500, -5, "serum"), vegf(100, 60, "plasma")).vegf
    assert r.category == "not_evaluable" and "not comparable" in r.reason


# --- §8.4 albumin direction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("latest", "direction"), [(33.0, "improved"), (32.9, "stable"), (27.1, "stable"), (27.0, "worse")]
)
def test_albumin_direction_edges(latest, direction):
    r = resp(m("albumin", 30.0, -5), m("albumin", latest, 60))
    assert r.clinical["albumin"].direction == direction


# --- §4 / §9 risk factors ----------------------------------------------------------------------


def risk(ms=(), birth: dt.date | None = None, as_of: dt.date | None = None, events=TREATED):
    response = assess_response(list(ms), events, [], [], CFG, as_of)
    return {r.id: r for r in assess_risk([], list(ms), events, response, birth, as_of, RISK)}


@pytest.mark.parametrize(("albumin", "state"), [(31.9, State.PRESENT), (32.0, State.ABSENT), (32.1, State.ABSENT)])
def test_low_albumin_is_below_32_g_per_l(albumin, state):
    # "low" = < 3.2 g/dL (Kourelis 2016, secondary summary)
    assert risk([m("albumin", albumin, -5)])["low_albumin"].state is state


@pytest.mark.parametrize(("egfr", "state"), [(29.9, State.PRESENT), (30.0, State.ABSENT)])
def test_egfr_below_30(egfr, state):
    # Wang 2017: eGFR < 30 mL/min/1.73 m2
    assert risk([m("egfr", egfr, -5, unit="mL/min/{1.73_m2}")])["egfr_below_30"].state is state


def _born(years: int, days_later: int = 0) -> dt.date:
    """Born ``years`` years before T0 (that birthday falls on T0), shifted by ``days_later``."""
    return dt.date(T0.year - years, T0.month, T0.day) + dt.timedelta(days=days_later)


@pytest.mark.parametrize(
    ("birth", "state"),
    [
        (_born(50), State.ABSENT),  # 50th birthday on the day: 50, not over 50
        (_born(51, 1), State.ABSENT),  # 50 years and 364 days: still 50
        (_born(51), State.PRESENT),  # 51st birthday: over 50
    ],
)
def test_age_over_50_at_diagnosis(birth, state):
    # Wang 2017 (criteria.md §9): age > 50 years, in completed years as ages are stated
    assert risk(birth=birth)["age_over_50"].state is state


@pytest.mark.parametrize(
    ("birth", "state"),
    [(_born(50), State.PRESENT), (_born(51, 1), State.PRESENT), (_born(51), State.ABSENT)],
)
def test_age_50_or_less_at_asct(birth, state):
    # D'Souza 2012 (criteria.md §9): age <= 50 at ASCT is a post-ASCT progression factor
    asct = [Event("autologous_hsct", T0, "Procedure/asct", "ASCT", status="completed")]
    assert risk(birth=birth, events=asct)["age_50_or_less_at_asct"].state is state


@pytest.mark.parametrize(("as_of", "category"), [(59, "not_evaluable"), (60, "PR"), (61, "PR")])
def test_response_as_of_keeps_measurements_dated_on_the_evaluation_day(as_of, category):
    # §3.3 Time / §8: a follow-up result dated on the evaluation day (day 60) is part of the assessment
    ms = [m("serum_m_protein", 8.0, -5), m("serum_m_protein", 3.0, 60)]
    assert assess_response(ms, TREATED, [], [], CFG, as_of=day(as_of)).hematologic.category == category


@pytest.mark.parametrize(("treated_on", "baseline_counted"), [(1, True), (0, True), (-1, False)])
def test_baseline_is_the_last_value_up_to_the_first_treatment_day(treated_on, baseline_counted):
    # §8 baseline = the last value before treatment; a sample drawn on the first treatment day is
    # taken before the first dose could act on it (the usual pre-dose sample), one a day later is not
    events = [Event("treatment", day(treated_on), "MedicationStatement/t", "x")]
    r = assess_response([m("serum_m_protein", 8.0, 0), m("serum_m_protein", 3.0, 60)], events, [], [], CFG)
    assert (r.hematologic.baseline is not None) is baseline_counted


def test_risk_uses_values_up_to_and_including_the_diagnosis_day():
    # §9 "at diagnosis": an albumin measured on the baseline day counts, one after it does not
    events = [Event("treatment", day(10), "MedicationStatement/t", "x")]
    on_day = assess_response([], events, [], [], CFG, baseline_date=day(0))
    got = {r.id: r for r in assess_risk([], [m("albumin", 28, 0)], events, on_day, None, None, RISK)}
    assert got["low_albumin"].state is State.PRESENT
    later = {r.id: r for r in assess_risk([], [m("albumin", 28, 1)], events, on_day, None, None, RISK)}
    assert later["low_albumin"].state is State.NOT_ASSESSED
