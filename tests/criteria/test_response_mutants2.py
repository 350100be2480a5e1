"""Treatment response (criteria.md §8) at the edges the earlier rounds did not reach: what the
evaluation date hides, what each framework says when a fact is missing, and the texts a clinician
reads beside each category (seed_case.md §3 T1-T3 words them).

The expected answers come from criteria.md §8 and seed_case.md §3-4, not from the code.
"""

from __future__ import annotations

import dataclasses

import datetime as dt

from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.response import Alert, DomainResponse, Point, assess_response
from poems_fhir.criteria.timeline import CourseAssessment, Event, Measurement
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import response_config

CFG = response_config(load_mapping())
T0 = dt.date(2021, 3, 1)  # first treatment
TREATED = [Event("treatment", T0, "MedicationStatement/len", "lenalidomide", agent="lenalidomide")]


def day(n: int) -> dt.date:
    return T0 + dt.timedelta(days=n)


def m(analyte: str, value: float, n: int, specimen: str | None = None, unit: str | None = "g/L") -> Measurement:
    return Measurement(analyte, value, unit, day(n), f"Observation/{analyte}{n}", specimen)


def vegf(value: float, n: int, specimen: str | None = "plasma") -> Measurement:
    return m("vegf", value, n, specimen, "pg/mL")


def resp(*ms: Measurement, as_of: dt.date | None = None, findings=(), events=TREATED):
    return assess_response(list(ms), events, list(findings), [], CFG, as_of)


# --------------------------------------------------------------------------- VEGF (§8.2)


def test_vegf_after_the_evaluation_date_is_not_seen():
    # §3.3 / --as-of: a normalised VEGF measured after the evaluation date cannot make it "complete"
    ms = (vegf(400, -10), vegf(100, 90))
    assert resp(*ms).vegf.category == "complete"
    r = resp(*ms, as_of=day(60)).vegf
    assert r.category == "not_evaluable" and r.reason == "no VEGF after the baseline"
    assert r.latest is None and r.baseline is not None and r.baseline.value == 400


def test_vegf_never_measured_asks_for_a_post_treatment_reference():
    # seed_case.md T3: "Not evaluable (no baseline) - propose obtaining VEGF now as a post-treatment reference"
    r = resp(m("serum_m_protein", 7.7, -10)).vegf
    assert r.category == "not_evaluable"
    assert r.reason == (
        "VEGF never measured (no baseline): obtain one now as a post-treatment reference, "
        "same specimen type from then on"
    )


def test_vegf_on_a_user_given_baseline_date_is_the_baseline():
    # --baseline DATE: the baseline is the last value on or before that date (inclusive)
    ms = [vegf(400, 0), vegf(100, 90)]
    r = assess_response(ms, TREATED, [], [], CFG, baseline_date=day(0)).vegf
    assert r.category == "complete" and r.baseline is not None and r.baseline.value == 400


def test_vegf_only_after_the_first_treatment_is_no_baseline():
    # no response is measurable; the first VEGF after treatment is the reference for progression only
    r = resp(vegf(400, 10), vegf(100, 90)).vegf
    assert (r.category, r.reason) == (
        "not_evaluable",
        "no VEGF before the first treatment: response not measurable; against the post-treatment reference "
        "400 pg/mL of 2021-03-11, 100 pg/mL on 2021-05-30 is no progression",
    )
    assert r.baseline is not None and r.baseline.value == 400 and r.latest is not None and r.latest.value == 100
    assert r.specimen == "plasma"


def test_vegf_baseline_of_unknown_specimen_is_not_compared():
    # §4 / §6: serum and plasma are not interchangeable; an unknown specimen cannot be followed
    r = resp(vegf(400, -10, specimen=None), vegf(100, 90)).vegf
    assert (r.category, r.reason) == ("not_evaluable", "baseline VEGF specimen type unknown (serum and plasma differ)")
    assert r.specimen is None and r.latest is None
    assert r.baseline is not None and (r.baseline.value, r.baseline.reference) == (400, "Observation/vegf-10")


def test_vegf_follow_up_only_in_other_specimens_names_them():
    # §4: serum and plasma are not comparable; the reason names what was measured instead
    r = resp(vegf(400, -10), vegf(900, 60, specimen="serum"), vegf(150, 90, specimen=None)).vegf
    assert r.category == "not_evaluable" and r.specimen == "plasma" and r.latest is None
    assert r.reason == (
        "follow-up VEGF in another specimen (serum, unknown) than the plasma baseline: serum and plasma are not "
        "comparable"
    )


def pt(value: float, n: int, ref: str, unit: str | None = "pg/mL") -> Point:
    return Point(value, unit, day(n), ref)


def test_vegf_each_category_reports_its_reason_specimen_and_points():
    # §8.2 categories (plasma cut-off 200 pg/mL); the baseline and latest cited are the compared values
    def full(*values: tuple[float, int]):
        r = resp(*(vegf(v, n) for v, n in values)).vegf
        return (r.category, r.reason, r.specimen, r.baseline, r.latest)

    base = pt(400, -10, "Observation/vegf-10")
    assert full((400, -10), (150, 60), (300, 120)) == (
        "progression",
        "VEGF rose from its nadir 150 to 300 pg/mL (>= 50% and above the 200 pg/mL cut-off)",
        "plasma",
        base,
        pt(300, 120, "Observation/vegf120"),
    )
    assert full((150, -10), (100, 60)) == (
        "not_evaluable",
        "baseline VEGF 150 pg/mL was not elevated (< 200 pg/mL)",
        "plasma",
        pt(150, -10, "Observation/vegf-10"),
        pt(100, 60, "Observation/vegf60"),
    )
    assert full((400, -10), (150, 60)) == (
        "complete",
        "VEGF normalised: 400 -> 150 pg/mL (< 200)",
        "plasma",
        base,
        pt(150, 60, "Observation/vegf60"),
    )
    assert full((1000, -10), (500, 60)) == (
        "partial",
        "VEGF 1000 -> 500 pg/mL, not normalised",
        "plasma",
        pt(1000, -10, "Observation/vegf-10"),
        pt(500, 60, "Observation/vegf60"),
    )
    assert full((400, -10), (300, 60)) == (
        "none",
        "VEGF 400 -> 300 pg/mL",
        "plasma",
        base,
        pt(300, 60, "Observation/vegf60"),
    )


def test_vegf_progression_is_measured_from_the_lowest_value_on_treatment():
    # nadir 100 (not the first follow-up, 300): 250 is >= 150 % of it and above the cut-off
    r = resp(vegf(400, -10), vegf(300, 30), vegf(100, 60), vegf(250, 120)).vegf
    assert r.category == "progression" and "nadir 100 to 250" in r.reason


# --------------------------------------------------------------------------- haematological (§8.1a)


def flc(d: float, n: int) -> list[Measurement]:
    """A lambda clone with dFLC = d mg/L (lambda - kappa) on day n."""
    return [m("flc_kappa", 10, n, unit="mg/L"), m("flc_lambda", 10 + d, n, unit="mg/L")]


def test_amyloid_pd_after_cr_cites_the_positive_immunofixation():
    # §8.1a PD: from CR any detectable M-protein
    ms = [m("serum_m_protein", 8.0, -10), m("serum_ife", 0, 60, unit=None), m("urine_ife", 0, 60, unit=None)]
    ms.append(m("serum_ife", 1, 120, unit=None))
    h = resp(*ms).hematologic
    assert (h.framework, h.category, h.change) == ("amyloid", "PD", None)
    assert (
        h.reason == "M-protein detectable again after a complete response (serum immunofixation positive on 2021-06-29)"
    )
    assert h.baseline == pt(8.0, -10, "Observation/serum_m_protein-10", "g/L")
    assert h.latest == pt(1, 120, "Observation/serum_ife120", None)
    with_m = resp(*ms, m("serum_m_protein", 1.0, 120)).hematologic
    assert (with_m.category, with_m.latest, with_m.change) == (
        "PD",
        pt(1.0, 120, "Observation/serum_m_protein120", "g/L"),
        -0.875,
    )


def test_amyloid_pd_by_m_protein_is_from_the_nadir_on_treatment():
    # §8.1a PD from PR/SD: >= 50 % rise from the nadir (4 g/L here, not the first follow-up) to > 5 g/L
    ms = [m("serum_m_protein", v, n) for v, n in ((20.0, -10), (15.0, 30), (4.0, 60), (6.5, 120))]
    h = resp(*ms).hematologic
    assert (h.framework, h.category) == ("amyloid", "PD")
    assert h.reason == "M-protein rose >= 50 % from its nadir (4 g/L) to 6.5 g/L (> 5 g/L)"
    assert h.baseline == pt(20.0, -10, "Observation/serum_m_protein-10", "g/L")
    assert h.latest == pt(6.5, 120, "Observation/serum_m_protein120", "g/L")
    assert h.change == -0.675


def test_amyloid_pd_by_m_protein_from_the_baseline_or_without_one():
    # the baseline is the nadir when there is a single follow-up; without a baseline the nadir is on treatment
    assert resp(m("serum_m_protein", 4.0, -10), m("serum_m_protein", 6.5, 60)).hematologic.category == "PD"
    assert resp(m("serum_m_protein", 3.0, 30), m("serum_m_protein", 6.5, 60)).hematologic.category == "PD"


def test_amyloid_pd_by_dflc_from_the_nadir_to_over_100():
    # §8.1a PD: FLC increase >= 50 % to > 100 mg/L
    ms = [m("serum_m_protein", 8.0, -10), *flc(200, -10), *flc(150, 30), *flc(70, 60), *flc(110, 120)]
    h = resp(*ms).hematologic
    assert (h.framework, h.category, h.reason) == ("amyloid", "PD", "dFLC rose >= 50 % from its nadir to 110 mg/L")
    assert h.baseline == pt(8.0, -10, "Observation/serum_m_protein-10", "g/L")
    # probe35: dated by and citing the light chains that show it, not the first-treatment day and nothing
    assert h.latest == pt(110.0, 120, "Observation/flc_lambda120", "mg/L") and h.change is None
    assert h.evidence == ("Observation/flc_lambda120", "Observation/flc_kappa120")  # both chains (probe98 D7)
    with_m = resp(*ms, m("serum_m_protein", 4.0, 120)).hematologic
    assert (with_m.category, with_m.latest, with_m.change) == (
        "PD",
        pt(4.0, 120, "Observation/serum_m_protein120", "g/L"),
        -0.5,
    )


def test_amyloid_pd_by_dflc_just_over_100_and_from_a_baseline_nadir():
    assert resp(*flc(60, -10), *flc(101, 60)).hematologic.category == "PD"  # 101 > 100, >= 90
    assert resp(*flc(70, -10), *flc(150, 60)).hematologic.category == "PD"  # nadir = the baseline 70
    assert resp(*flc(70, 30), *flc(120, 60)).hematologic.category == "PD"  # no baseline: nadir on treatment


def test_a_single_dflc_without_baseline_is_no_progression():
    h = resp(*flc(120, 60)).hematologic
    assert h.category == "not_evaluable"


def ife(serum: int | None, urine: int | None, n: int) -> list[Measurement]:
    out = [] if serum is None else [m("serum_ife", serum, n, unit=None)]
    return out + ([] if urine is None else [m("urine_ife", urine, n, unit=None)])


def test_amyloid_cr_is_provisional_while_flc_ratio_or_marrow_is_missing():
    # §8.1a CR: serum and urine IFE negative and a normal FLC ratio (one version: marrow < 5 %);
    # seed_case.md T3: "CR (IFE-negative; FLC/BM not assessed)"
    base = [m("serum_m_protein", 8.0, -10)]
    h = resp(*base, *ife(0, 0, 100)).hematologic
    assert (h.framework, h.category, h.reason, h.provisional) == (
        "amyloid",
        "CR",
        "serum and urine immunofixation negative",
        True,
    )
    assert h.caveats == (
        "FLC ratio not assessed (needed for amyloid-style CR)",
        "bone-marrow plasma cells not assessed (one version of CR requires < 5 %)",
    )
    assert h.baseline == pt(8.0, -10, "Observation/serum_m_protein-10", "g/L")
    assert h.latest == pt(0, 100, "Observation/serum_ife100", None) and h.change is None
    # a ratio its lab judged normal (within its reference range)
    ratio = dataclasses.replace(m("flc_ratio", 1.0, 100, unit=None), abnormal=False)
    marrow = m("bm_plasma_cells", 2, 100, unit="%")
    no_ratio = resp(*base, *ife(0, 0, 100), marrow).hematologic
    assert no_ratio.provisional is True and no_ratio.caveats == (
        "FLC ratio not assessed (needed for amyloid-style CR)",
    )
    no_marrow = resp(*base, *ife(0, 0, 100), ratio).hematologic
    assert no_marrow.provisional is True and len(no_marrow.caveats) == 1
    full = resp(*base, *ife(0, 0, 100), ratio, marrow, m("serum_m_protein", 0.0, 100)).hematologic
    assert (full.category, full.provisional, full.caveats, full.change) == ("CR", False, (), -1.0)


def test_only_a_negative_serum_ife_without_urine_is_named_as_the_missing_piece():
    base = [m("serum_m_protein", 8.0, -10), m("serum_m_protein", 3.0, 100)]
    missing_urine = "serum immunofixation negative but urine immunofixation not assessed: CR not assessable"
    h = resp(*base, *ife(0, None, 100)).hematologic
    assert h.category == "PR" and missing_urine in h.caveats
    positive = resp(*base, *ife(1, None, 100)).hematologic
    assert positive.category == "PR" and missing_urine not in positive.caveats
    none_at_all = resp(*base).hematologic
    assert none_at_all.category == "PR" and missing_urine not in none_at_all.caveats


def test_amyloid_vgpr_pr_nr_and_not_evaluable_say_why_and_cite_the_points():
    base = pt(7.7, -10, "Observation/serum_m_protein-10", "g/L")
    # seed_case.md T1: M-gradient -52 % from a measurable 7.7 g/L -> PR; dFLC never measured
    h = resp(m("serum_m_protein", 7.7, -10), m("serum_m_protein", 3.7, 30)).hematologic
    assert (h.framework, h.category, h.reason) == ("amyloid", "PR", "M-protein 7.7 -> 3.7 g/L (-52%)")
    assert (h.baseline, h.latest) == (base, pt(3.7, 30, "Observation/serum_m_protein30", "g/L"))
    assert round(h.change or 0, 3) == -0.519
    # seed_case.md T2: "PR (-91 %; VGPR not assessable because dFLC was not measured)"
    assert h.caveats == ("VGPR not assessable: dFLC (free light chains) not measured after treatment",)
    # VGPR: dFLC < 40 mg/L
    v = resp(m("serum_m_protein", 7.7, -10), m("serum_m_protein", 3.7, 30), *flc(150, -10), *flc(30, 30)).hematologic
    assert (v.framework, v.category, v.reason, v.caveats) == ("amyloid", "VGPR", "dFLC 30 mg/L < 40 mg/L", ())
    # decided by the light chains: shown dFLC against dFLC (probe64 D2), not against the M-protein
    assert (v.baseline, v.latest, round(v.change or 0, 3)) == (
        Point(150.0, "mg/L", day(-10), "Observation/flc_lambda-10", analyte="dflc"),
        Point(30.0, "mg/L", day(30), "Observation/flc_lambda30", analyte="dflc"),
        -0.8,
    )
    with_caveat = resp(m("serum_m_protein", 8.0, -10), *ife(0, None, 30), *flc(30, 30)).hematologic
    assert with_caveat.category == "VGPR" and with_caveat.caveats == (
        "serum immunofixation negative but urine immunofixation not assessed: CR not assessable",
        "no dFLC before treatment: the VGPR is read beside the M-protein's response",
    )
    assert with_caveat.provisional
    # PR by dFLC alone (baseline dFLC > 100), M-protein not measurable
    d = resp(*flc(150, -10), *flc(75, 30)).hematologic
    assert (d.category, d.reason, d.caveats) == ("PR", "dFLC fell >= 50 %", ())
    # NR: measurable, little change
    nr = resp(m("serum_m_protein", 8.0, -10), m("serum_m_protein", 7.0, 30)).hematologic
    assert (nr.category, nr.reason) == ("NR", "neither CR, VGPR, PR nor PD")
    assert nr.latest == pt(7.0, 30, "Observation/serum_m_protein30", "g/L") and nr.change == -0.125
    assert (nr.framework, nr.baseline, nr.caveats) == (
        "amyloid",
        pt(8.0, -10, "Observation/serum_m_protein-10", "g/L"),
        ("VGPR not assessable: dFLC (free light chains) not measured after treatment",),
    )
    # measurable baseline but nothing after it
    none = resp(m("serum_m_protein", 8.0, -10)).hematologic
    assert (none.category, none.reason, none.latest, none.change) == (
        "not_evaluable",
        "no follow-up measurement after the baseline",
        None,
        None,
    )
    assert none.baseline == pt(8.0, -10, "Observation/serum_m_protein-10", "g/L") and none.framework == "amyloid"


def test_amyloid_below_the_measurability_gate_is_not_evaluable_with_why():
    # §8.1 "when baseline is not measurable, report not evaluable rather than NR"
    small = resp(m("serum_m_protein", 4.0, -10), m("serum_m_protein", 1.0, 30)).hematologic
    assert (small.category, small.reason) == (
        "not_evaluable",
        "baseline M-protein 4 g/L is not above 5 g/L, dFLC is not > 100 mg/L and urine M-protein not > 100 mg/24 h: below the measurability gate",
    )
    assert small.latest == pt(1.0, 30, "Observation/serum_m_protein30", "g/L") and small.change == -0.75
    assert (small.framework, small.baseline) == ("amyloid", pt(4.0, -10, "Observation/serum_m_protein-10", "g/L"))
    assert small.caveats == ("VGPR not assessable: dFLC (free light chains) not measured after treatment",)
    nothing = resp(m("serum_m_protein", 1.0, 30)).hematologic
    assert nothing.reason.startswith("no M-protein before the first treatment, dFLC is not > 100 mg/L")
    # probe42: a clone shown before treatment by immunofixation only was "no M-protein before the first
    # treatment" - read by a clinician as no clone at all
    shown = resp(*ife(1, None, -10), m("serum_m_protein", 1.0, 30))
    assert shown.hematologic.reason.startswith(
        "M-protein detected by immunofixation before the first treatment but not quantified, dFLC is not"
    )
    assert shown.hematologic_imwg.reason == (
        "serum M-protein detected by immunofixation before the first treatment but not quantified"
    )
    urine_only = resp(*ife(0, 1, -10), m("serum_m_protein", 1.0, 30))
    assert urine_only.hematologic.reason.startswith("M-protein detected by immunofixation before the first")
    assert urine_only.hematologic_imwg.reason == "no serum M-protein before the first treatment"
    negative = resp(*ife(0, 0, -10), *ife(1, None, 20), m("serum_m_protein", 1.0, 30)).hematologic
    assert negative.reason.startswith("no M-protein before the first treatment, dFLC")
    ife_only = resp(*ife(1, None, 30)).hematologic
    assert ife_only.caveats == ("VGPR not assessable: dFLC (free light chains) not measured after treatment",)
    assert resp(m("albumin", 30, 30)).hematologic.caveats == ()


# --------------------------------------------------------------------------- haematological (§8.1b IMWG)


def test_imwg_not_evaluable_below_10_g_per_l_describes_a_vgpr_pattern():
    # seed_case.md T1/T2: 7.7 g/L is below the IMWG measurable-disease threshold; after -91 % with
    # urine negative it is "descriptively a VGPR pattern"
    ms = [m("serum_m_protein", 7.7, -10), m("serum_m_protein", 0.69, 150), *ife(1, 0, 150)]
    h = resp(*ms).hematologic_imwg
    assert (h.framework, h.category) == ("imwg", "not_evaluable")
    assert h.reason == (
        "baseline serum M-protein 7.7 g/L is below the IMWG measurable-disease threshold of 10 g/L (1 g/dL); "
        "urine M-protein not quantified"
    )
    assert h.caveats == ("descriptively a VGPR pattern (>= 90 % reduction, urine negative)",)
    assert h.baseline == pt(7.7, -10, "Observation/serum_m_protein-10", "g/L")
    assert h.latest == pt(0.69, 150, "Observation/serum_m_protein150", "g/L")
    assert round(h.change or 0, 2) == -0.91
    t1 = resp(m("serum_m_protein", 7.7, -10), m("serum_m_protein", 3.7, 30), *ife(1, 0, 30)).hematologic_imwg
    assert (t1.category, t1.caveats) == ("not_evaluable", ())  # -52 %: no VGPR pattern
    urine_pos = resp(m("serum_m_protein", 7.7, -10), m("serum_m_protein", 0.5, 30), *ife(1, 1, 30)).hematologic_imwg
    assert urine_pos.caveats == ()
    exactly = resp(m("serum_m_protein", 5.0, -10), m("serum_m_protein", 0.5, 30), *ife(1, 0, 30)).hematologic_imwg
    assert exactly.change == -0.9 and exactly.caveats == (
        "descriptively a VGPR pattern (>= 90 % reduction, urine negative)",
    )  # exactly 90 % is ">= 90 %"
    no_base = resp(m("serum_m_protein", 3.0, 30)).hematologic_imwg
    assert (no_base.category, no_base.reason) == ("not_evaluable", "no serum M-protein before the first treatment")


def test_imwg_categories_say_the_change_and_cite_the_points():
    def h(latest: float, *extra: Measurement):
        return resp(m("serum_m_protein", 20.0, -10), m("serum_m_protein", latest, 60), *extra).hematologic_imwg

    latest = pt(1.0, 60, "Observation/serum_m_protein60", "g/L")
    vgpr = h(1.0)
    assert (vgpr.framework, vgpr.category, vgpr.reason, vgpr.change) == ("imwg", "VGPR", "M-protein -95%", -0.95)
    assert (vgpr.baseline, vgpr.latest) == (pt(20.0, -10, "Observation/serum_m_protein-10", "g/L"), latest)
    assert (h(10.0).category, h(10.0).reason) == ("PR", "M-protein -50%")
    assert (h(15.0).category, h(15.0).reason) == ("MR", "M-protein -25%")
    assert (h(16.0).category, h(16.0).reason) == ("NR", "M-protein -20%")
    for value, change in ((10.0, -0.5), (15.0, -0.25), (16.0, -0.2)):
        got = h(value)
        assert (got.framework, got.baseline, got.latest, got.change) == (
            "imwg",
            pt(20.0, -10, "Observation/serum_m_protein-10", "g/L"),
            pt(value, 60, "Observation/serum_m_protein60", "g/L"),
            change,
        )
    # §8.1b VGPR: M-protein detectable by immunofixation but not by electrophoresis
    by_ife = resp(m("serum_m_protein", 20.0, -10), m("serum_m_protein", 0.0, 60), *ife(1, None, 60)).hematologic_imwg
    assert by_ife.category == "VGPR"
    none_after = resp(m("serum_m_protein", 20.0, -10)).hematologic_imwg
    assert (none_after.category, none_after.reason, none_after.latest, none_after.change) == (
        "not_evaluable",
        "no follow-up M-protein after the baseline",
        None,
        None,
    )
    assert (none_after.framework, none_after.baseline) == (
        "imwg",
        pt(20.0, -10, "Observation/serum_m_protein-10", "g/L"),
    )


def test_imwg_cr_pd_after_cr_and_pd_from_the_nadir():
    base = [m("serum_m_protein", 20.0, -10)]
    cr = resp(*base, *ife(0, 0, 60)).hematologic_imwg
    assert (cr.framework, cr.category, cr.reason, cr.provisional) == (
        "imwg",
        "CR",
        "serum and urine immunofixation negative",
        True,
    )
    assert cr.caveats == ("bone-marrow plasma cells (< 5 %) not assessed",)
    assert cr.latest == pt(0, 60, "Observation/serum_ife60", None)
    marrow = resp(*base, *ife(0, 0, 60), m("bm_plasma_cells", 2, 60, unit="%")).hematologic_imwg
    urine_only = resp(*base, *ife(1, 0, 60), m("serum_m_protein", 12.0, 60)).hematologic_imwg
    assert urine_only.category == "MR"  # CR needs the serum immunofixation negative too (§8.1b)
    assert (marrow.category, marrow.caveats, marrow.provisional) == ("CR", (), False)
    with_m = resp(*base, *ife(0, 0, 60), m("serum_m_protein", 0.0, 60)).hematologic_imwg
    assert (with_m.category, with_m.change) == ("CR", -1.0)
    relapse = resp(*base, *ife(0, 0, 60), *ife(1, None, 120), m("serum_m_protein", 2.0, 120)).hematologic_imwg
    # 2 g/L back after CR is no IMWG PD (criteria.md §8.1b: >= 25 % and > 5 g/L from the nadir): 90 % down
    assert (relapse.framework, relapse.category, relapse.reason) == ("imwg", "VGPR", "M-protein -90%")
    assert relapse.caveats[-1].startswith("M-protein detectable again after a complete response (serum")
    assert relapse.latest == pt(2.0, 120, "Observation/serum_m_protein120", "g/L") and relapse.change == -0.9
    assert relapse.baseline == pt(20.0, -10, "Observation/serum_m_protein-10", "g/L")
    rise = resp(*base, m("serum_m_protein", 8.0, 30), m("serum_m_protein", 4.0, 60), m("serum_m_protein", 10.0, 90))
    pd = rise.hematologic_imwg
    assert (pd.framework, pd.category) == ("imwg", "PD")
    assert pd.reason == ">= 25 % rise from the nadir (4 g/L) with > 5 g/L absolute"
    assert pd.latest == pt(10.0, 90, "Observation/serum_m_protein90", "g/L") and pd.change == -0.5
    assert pd.baseline == pt(20.0, -10, "Observation/serum_m_protein-10", "g/L")


# --------------------------------------------------------------------------- clinical and alerts (§8.4, §8.5)


def cf(topic: str, n: int, resolved: int | None = None, rule: str | None = None) -> Finding:
    return Finding(
        topic,
        State.PRESENT,
        Evidence(f"Condition/{rule or topic}{n}", day(n), topic),
        is_assertion=True,
        resolved_on=None if resolved is None else day(resolved),
        source_rule=rule,
    )


def test_seed_t1_worse_with_a_partial_response_is_a_discordant_alert():
    # seed_case.md T1: M-gradient -52 % (PR) with worsening ascites/effusions/edema and neuropathy ->
    # "Discordant: propose regimen change / early escalation; note thalidomide neurotoxicity caution"
    ms = [m("serum_m_protein", 7.7, -10), m("serum_m_protein", 3.7, 30)]
    findings = [cf("polyneuropathy", -30), cf("extravascular_volume_overload", 20, rule="ascites")]
    course = [CourseAssessment("neuropathy", "worse", day(30), "Observation/course30")]
    r = assess_response(ms, TREATED, findings, course, CFG)
    assert r.clinical["neuropathy"] == DomainResponse(
        "neuropathy", "worse", "clinician's assessment on 2021-03-31", ("Observation/course30",), day(30)
    )
    assert r.clinical["volume_overload"] == DomainResponse(
        "volume_overload", "worse", "new finding after the first treatment", ("Condition/ascites20",), day(20)
    )
    assert r.clinical["skin"] == DomainResponse(
        "skin", "not_assessed", "no follow-up assessment after the first treatment"
    )
    assert r.clinical["albumin"] == DomainResponse(
        "albumin", "not_assessed", "no albumin before and after the first treatment"
    )
    assert r.clinical_overall == "worse"
    (alert,) = r.alerts
    assert alert == Alert(
        "discordant_response",
        "discordant: haematological PR with clinical worsening (neuropathy, volume_overload) - consider a regimen "
        "change or early escalation; if escalating, thalidomide and bortezomib may worsen neuropathy",
        ("Observation/course30", "Condition/ascites20"),
    )
    thal = Event("treatment", day(40), "MedicationStatement/thal", "thalidomide", agent="thalidomide", neurotoxic=True)
    (named,) = assess_response(ms, [*TREATED, thal], findings, course, CFG).alerts
    assert named.message.endswith(
        "- consider a regimen change or early escalation; note the neurotoxicity of thalidomide"
    )


def test_seed_t2_resolved_findings_and_albumin_are_improvement():
    # seed_case.md T2: effusions/edema resolved, albumin 28 -> 36 g/L: improved
    findings = [
        cf("extravascular_volume_overload", -30, resolved=150, rule="ascites"),
        cf("extravascular_volume_overload", -20, resolved=140, rule="pleural_effusion"),
        cf("organomegaly", -30, resolved=150, rule="splenomegaly"),
        cf("organomegaly", -30, rule="hepatomegaly"),
    ]
    ms = [m("albumin", 28, -10), m("albumin", 36, 150)]
    r = assess_response(ms, TREATED, findings, [], CFG)
    assert r.clinical["volume_overload"] == DomainResponse(
        "volume_overload",
        "improved",
        "every baseline finding resolved (by 2021-07-29)",
        ("Condition/ascites-30", "Condition/pleural_effusion-20"),
        day(150),
    )
    organs = r.clinical["organomegaly"]
    assert (organs.direction, organs.reason) == ("improved", "some baseline findings resolved (by 2021-07-29)")
    assert r.clinical["albumin"] == DomainResponse(
        "albumin",
        "improved",
        "albumin 28 -> 36 g/L (+29%)",
        ("Observation/albumin-10", "Observation/albumin150"),
        day(150),
    )
    assert r.clinical_overall == "improved" and r.alerts == ()
    # a resolution after the evaluation date is not seen yet
    early = assess_response(ms, TREATED, findings, [], CFG, as_of=day(145))
    assert early.clinical["volume_overload"].reason == "some baseline findings resolved (by 2021-07-19)"
    worse = assess_response([m("albumin", 36, -10), m("albumin", 28, 150)], TREATED, [], [], CFG)
    assert (worse.clinical["albumin"].direction, worse.clinical["albumin"].reason) == (
        "worse",
        "albumin 36 -> 28 g/L (-22%)",
    )


def test_progression_alerts_cite_the_latest_result_and_the_nadir_it_rose_from():
    ms = [m("serum_m_protein", 20.0, -10), m("serum_m_protein", 4.0, 60), m("serum_m_protein", 10.0, 90)]
    amyloid, imwg = resp(*ms).alerts  # both frameworks see the rise
    nadir_then_latest = ("Observation/serum_m_protein60", "Observation/serum_m_protein90")  # probe48 D11
    assert (amyloid.code, amyloid.evidence) == ("hematologic_progression", nadir_then_latest)
    assert (
        amyloid.message
        == "haematological progression (amyloid): M-protein rose >= 50 % from its nadir (4 g/L) to 10 g/L (> 5 g/L)"
    )
    assert imwg == Alert(
        "hematologic_progression",
        "haematological progression (imwg): >= 25 % rise from the nadir (4 g/L) with > 5 g/L absolute",
        nadir_then_latest,
    )
    r = resp(vegf(400, -10), vegf(150, 60), vegf(300, 120))
    (v,) = r.alerts
    assert v == Alert(
        "vegf_progression",
        "rising VEGF: VEGF rose from its nadir 150 to 300 pg/mL (>= 50% and above the 200 pg/mL cut-off); the "
        "second most common progression event after radiological progression",
        ("Observation/vegf120",),
    )


def test_reappearance_alert_names_the_finding_and_cites_the_new_record():
    findings = [
        cf("extravascular_volume_overload", -30, resolved=100, rule="pleural_effusion"),
        cf("extravascular_volume_overload", 300, rule="pleural_effusion"),
    ]
    alerts = [a for a in resp(findings=findings).alerts if a.code == "reappearance"]
    assert alerts == [
        Alert(
            "reappearance",
            f"pleural effusion recorded again on {day(300)} after it had resolved on {day(100)}",
            ("Condition/pleural_effusion300",),
        )
    ]
    later = resp(findings=findings, as_of=day(200)).alerts
    assert [a for a in later if a.code == "reappearance"] == []


def test_amyloid_pr_by_dflc_cites_the_dflc_points_and_caveats():
    # §8.1a PR: >= 50 % dFLC fall from a baseline dFLC > 100 mg/L; shown by the dFLC it rests on, not by the
    # M-protein below its gate (probe64 D2: "3 g/L -> dFLC 70 mg/L" read as a rise, the 140 cited nowhere)
    ms = [m("serum_m_protein", 4.0, -10), m("serum_m_protein", 3.0, 30), *flc(150, -10), *flc(75, 30)]
    h = resp(*ms).hematologic
    assert (h.framework, h.category, h.reason, h.caveats, h.change) == ("amyloid", "PR", "dFLC fell >= 50 %", (), -0.5)
    assert h.baseline == Point(150.0, "mg/L", day(-10), "Observation/flc_lambda-10", analyte="dflc")
    assert h.latest == Point(75.0, "mg/L", day(30), "Observation/flc_lambda30", analyte="dflc")
    noted = resp(*ms, *ife(0, None, 30)).hematologic
    assert (noted.category, noted.caveats) == (
        "PR",
        ("serum immunofixation negative but urine immunofixation not assessed: CR not assessable",),
    )


def test_amyloid_nr_on_the_light_chains_alone_is_shown_and_dated_by_them():
    """probe64 D1: M-protein 3 g/L (below the gate), dFLC 140 -> 85 mg/L (-39 %): NR, but "latest" was
    empty, so the report read "No restaging since the first treatment" and was dated at the treatment."""
    h = resp(m("serum_m_protein", 3.0, -10), *flc(140, -10), *flc(85, 60)).hematologic
    assert (h.category, h.reason) == ("NR", "neither CR, VGPR, PR nor PD")
    assert h.baseline == Point(140.0, "mg/L", day(-10), "Observation/flc_lambda-10", analyte="dflc")
    assert h.latest == Point(85.0, "mg/L", day(60), "Observation/flc_lambda60", analyte="dflc")
    assert round(h.change or 0, 3) == -0.393


def test_the_response_report_is_dated_by_the_newest_result_or_statement_it_cites():
    # a probe: the report was dated by the last M-protein (day 30) while it cited a clinician's
    # assessment of day 60 - a report "as of" a day before its own evidence
    from poems_fhir.fhir.write import restaging_date

    ms = [m("serum_m_protein", 7.7, -10), m("serum_m_protein", 3.7, 30)]
    course = [CourseAssessment("neuropathy", "worse", day(60), "Observation/course60")]
    r = assess_response(ms, TREATED, [], course, CFG)
    assert r.clinical["neuropathy"].effective == day(60)
    assert restaging_date(r) == day(60)
    # a platelet count or any other datum that no response cites moves nothing
    assert restaging_date(assess_response(ms, TREATED, [], [], CFG)) == day(30)


def test_a_vegf_rise_after_treatment_is_progression_against_the_post_treatment_reference():
    # seed_case.md T3: no VEGF before treatment - "obtain one now as a post-treatment reference"; a probe
    # then recorded 120 and 650 pg/mL (plasma) after the transplant: no alert, and the output still asked
    # for a reference VEGF (criteria.md §8.2: rising VEGF is a progression event)
    rise = [m("vegf", 120, 60, "plasma", "pg/mL"), m("vegf", 650, 240, "plasma", "pg/mL")]
    r = assess_response(rise, TREATED, [], [], CFG)
    assert r.vegf.category == "progression" and r.vegf.specimen == "plasma"
    assert "against the post-treatment reference of 2021-04-30" in r.vegf.reason
    assert [a.code for a in r.alerts] == ["vegf_progression"]
    flat = [m("vegf", 120, 60, "plasma", "pg/mL"), m("vegf", 150, 240, "plasma", "pg/mL")]
    r = assess_response(flat, TREATED, [], [], CFG)
    assert r.vegf.category == "not_evaluable" and "is no progression" in r.vegf.reason and r.alerts == ()
    (one,) = [m("vegf", 120, 60, "plasma", "pg/mL")]
    r = assess_response([one], TREATED, [], [], CFG)
    assert r.vegf.category == "not_evaluable" and "the post-treatment reference is 120 pg/mL" in r.vegf.reason
    # another specimen is not comparable with the reference
    mixed = [m("vegf", 120, 60, "plasma", "pg/mL"), m("vegf", 1650, 240, "serum", "pg/mL")]
    assert assess_response(mixed, TREATED, [], [], CFG).vegf.category == "not_evaluable"
