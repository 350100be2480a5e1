"""Survivors of the mutation run over criteria.response (mutmut 3, tenth sample), each killed by a behaviour
criteria.md states or the response output documents:

- the IMWG marrow caveat (criteria.md §8.1b: "CR = negative serum and urine IFE + ... + <5% BM plasma cells")
  is said only where the immunofixations were negative and the marrow is full - never of a marrow below 5 %,
  nor beside a serum immunofixation that is not negative;
- the nadir a haematological progression is measured from includes the baseline (§8.1a "from PR/SD: >= 50 %
  increase", §8.1b ">= 25 % increase from nadir"), and the amyloid-style PD cites it;
- VEGF with no value before the first treatment (§8.2 "Progression: rising VEGF"; seed_case.md T3): the
  first VEGF after it is the post-treatment reference, a rise from the nadir since is progression, and the
  reason sentences (read by clinicians) say so;
- a Range result's upper end in the JSON form of a point is rounded like its value (4 decimals)."""

from __future__ import annotations

import dataclasses

import pytest
import datetime as dt

from poems_fhir.criteria.response import Point
from tests.criteria.test_response import d, m, run


def vegf(value: float, day: int, specimen: str | None = "plasma"):
    return m("vegf", value, day, specimen, unit="pg/mL")


# --- IMWG: the marrow caveat of a CR that is not one (§8.1b: CR needs < 5 % BM plasma cells) -------------


def test_a_full_marrow_beside_a_positive_serum_immunofixation_adds_no_cr_caveat():
    # 20 -> 8 g/L is an IMWG PR (>= 50 %); the serum immunofixation is still positive, so no complete
    # response was in question: the 10 % marrow is no reason given against one
    r = run(
        m("serum_m_protein", 20, -10),
        m("serum_m_protein", 8, 60),
        m("serum_ife", 1, 60, unit=None),
        m("bm_plasma_cells", 10, 60, unit="%"),
    ).hematologic_imwg
    assert r.category == "PR" and r.reason == "M-protein -60%"
    assert r.caveats == ("no 24-hour urine M-protein or urine immunofixation: the urine part of PR is unconfirmed",)
    assert r.evidence == ()


def test_a_marrow_below_five_percent_is_never_said_to_be_full():
    # serum IFE negative, urine IFE not done: no CR (both are needed), a VGPR by the serum (-100 %); the
    # 2 % marrow is below the CR limit and must not be reported as ">= 5 %: not a complete response"
    r = run(
        m("serum_m_protein", 20, -10),
        m("serum_m_protein", 0, 90),
        m("serum_ife", 0, 90, unit=None),
        m("bm_plasma_cells", 2, 90, unit="%"),
    ).hematologic_imwg
    assert r.category == "VGPR"
    assert r.caveats == ("no 24-hour urine M-protein or urine immunofixation: the urine part of VGPR is unconfirmed",)
    assert not any("bone-marrow" in c for c in r.caveats)
    assert r.evidence == ()


def test_a_full_marrow_beside_negative_immunofixation_is_named_against_cr():
    # the case the caveat is for (positive control of the two tests above): serum IFE negative, marrow 10 %
    r = run(
        m("serum_m_protein", 20, -10),
        m("serum_m_protein", 0, 90),
        m("serum_ife", 0, 90, unit=None),
        m("bm_plasma_cells", 10, 90, unit="%"),
    ).hematologic_imwg
    assert r.category == "VGPR"
    assert r.caveats[-1] == "bone-marrow plasma cells 10 % on 2020-03-31 (>= 5 %): not a complete response"
    assert r.evidence == ("Observation/bm_plasma_cells-90",)


# --- the nadir includes the baseline (§8.1a, §8.1b) --------------------------------------------------------


def test_an_amyloid_progression_cites_the_baseline_when_it_is_the_nadir():
    # 6 -> 8 -> 10 g/L: the lowest value is the baseline; 10 >= 1.5 x 6 and > 5 g/L is PD, measured from it
    r = run(m("serum_m_protein", 6, -10), m("serum_m_protein", 8, 60), m("serum_m_protein", 10, 120)).hematologic
    assert r.category == "PD"
    assert r.reason == "M-protein rose >= 50 % from its nadir (6 g/L) to 10 g/L (> 5 g/L)"
    assert r.evidence == ("Observation/serum_m_protein--10",)


def test_an_amyloid_progression_with_one_follow_up_cites_the_baseline():
    r = run(m("serum_m_protein", 6, -10), m("serum_m_protein", 10, 60)).hematologic
    assert r.category == "PD" and r.evidence == ("Observation/serum_m_protein--10",)


def test_an_imwg_progression_is_measured_from_a_baseline_nadir():
    # 10 -> 14 -> 15.5 g/L: +55 % and +5.5 g/L from the baseline (the nadir) is IMWG PD; from 14 it
    # would be +11 % only
    r = run(
        m("serum_m_protein", 10, -10), m("serum_m_protein", 14, 60), m("serum_m_protein", 15.5, 120)
    ).hematologic_imwg
    assert r.category == "PD"
    assert r.reason == ">= 25 % rise from the nadir (10 g/L) with > 5 g/L absolute"
    assert r.evidence == ("Observation/serum_m_protein--10",)


# --- VEGF against the post-treatment reference (§8.2; seed_case.md T3) ---------------------------------------


def test_a_single_post_treatment_vegf_is_the_reference_with_its_specimen():
    r = run(vegf(120, 30)).vegf
    assert r.category == "not_evaluable" and r.specimen == "plasma"
    assert r.reason == (
        "no VEGF before the first treatment: the post-treatment reference is 120 pg/mL on 2020-01-31 "
        "(response not measurable; a rise from it would be progression)"
    )
    assert r.baseline is not None and r.baseline.reference == "Observation/vegf-30"


def test_a_post_treatment_vegf_of_unknown_specimen_is_no_reference():
    # serum and plasma differ (criteria.md §4): without its specimen type it cannot be the reference
    r = run(vegf(120, 30, specimen=None), vegf(650, 90, specimen=None)).vegf
    assert r.category == "not_evaluable" and r.specimen is None
    assert r.reason == (
        "no VEGF before the first treatment: obtain one now as a post-treatment reference, with its specimen type"
    )
    assert r.baseline is not None and r.baseline.reference == "Observation/vegf-30"


def test_a_vegf_rise_from_a_nadir_after_the_reference_is_progression():
    # 150 -> 100 -> 200 pg/mL (plasma): the nadir is the first follow-up (100), and 200 is +100 % from it and at
    # the 200 pg/mL cut-off - progression; measured from the reference (150) it would be +33 % only
    r = run(vegf(150, 30), vegf(100, 60), vegf(200, 120)).vegf
    assert r.category == "progression" and r.specimen == "plasma"
    assert r.reason == (
        "VEGF rose from its nadir 100 to 200 pg/mL (>= 50% and above the 200 pg/mL cut-off), against the "
        "post-treatment reference of 2020-01-31 (no VEGF before the first treatment)"
    )
    assert r.baseline is not None and r.baseline.reference == "Observation/vegf-30" and r.baseline.value == 150
    assert r.latest is not None and r.latest.reference == "Observation/vegf-120" and r.latest.value == 200
    assert r.nadir is not None and r.nadir.reference == "Observation/vegf-60" and r.nadir.value == 100
    assert r.nadir.effective == d(60)


def test_the_vegf_nadir_is_the_lowest_of_all_values_before_the_latest():
    # 150 -> 130 -> 100 -> 200 pg/mL: the nadir is the second follow-up, not the first
    r = run(vegf(150, 30), vegf(130, 60), vegf(100, 90), vegf(200, 120)).vegf
    assert r.category == "progression"
    assert r.reason.startswith("VEGF rose from its nadir 100 to 200 pg/mL")
    assert r.nadir is not None and r.nadir.reference == "Observation/vegf-90"


def test_a_vegf_fall_since_the_reference_is_no_progression():
    # the latest value decides: 150 -> 300 -> 100 pg/mL has fallen, whatever the value between
    r = run(vegf(150, 30), vegf(300, 60), vegf(100, 120)).vegf
    assert r.category == "not_evaluable" and r.nadir is None
    assert r.reason == (
        "no VEGF before the first treatment: response not measurable; against the post-treatment reference "
        "150 pg/mL of 2020-01-31, 100 pg/mL on 2020-04-30 is no progression"
    )


# --- the JSON form of a Range point -----------------------------------------------------------------------


def test_a_range_points_upper_end_is_rounded_like_its_value():
    point = Point(1200.123456, "pg/mL", dt.date(2020, 1, 31), "Observation/vegf", high=1500.123456)
    assert point.to_dict() == {
        "value": 1200.1235,
        "unit": "pg/mL",
        "effective": "2020-01-31",
        "reference": "Observation/vegf",
        "high": 1500.1235,
    }
    assert Point(1.0, None, None, "Observation/x", high=2.25).to_dict()["high"] == 2.25


def test_a_censored_vegf_after_a_post_treatment_reference_leaves_a_progression_open():
    # found with the mutation run: ">150 pg/mL" may be 1000 pg/mL (a progression, criteria.md §8.2), but the
    # reason said "is no progression"; with a pre-treatment baseline the same data were left open
    v = lambda val, day, **k: dataclasses.replace(m("vegf", val, day, "plasma", unit="pg/mL"), **k)  # noqa: E731
    for latest, shown in ((v(150, 90, comparator=">"), ">150"), (v(150, 90, high=400), "150–400")):
        r = run(v(100, 30), latest).vegf
        assert r.category == "not_evaluable"
        assert r.reason == (
            f"no VEGF before the first treatment: response not measurable; against the post-treatment reference "
            f"100 pg/mL of {d(30)}, the censored VEGF ({shown} pg/mL) leaves a progression open"
        )
        # the specimen and the two values it rests on are shown with it (kills _vegf_from_post_treatment_reference
        # mutmut_104, _107, _108)
        assert r.specimen == "plasma"
        assert (r.baseline.reference, r.latest.reference) == ("Observation/vegf-30", "Observation/vegf-90")
    plain = run(v(100, 30), v(120, 90)).vegf
    assert plain.reason.endswith(f"120 pg/mL on {d(90)} is no progression")


@pytest.mark.parametrize("baseline_urine", [(), (m("urine_ife", 0, -10, unit=None),)], ids=["none", "negative"])
def test_a_positive_urine_immunofixation_since_is_named_in_the_urine_caveat(baseline_urine):
    # probe74 D14: serum IFE negative, urine IFE positive (free lambda) the same day, no 24-hour value: the
    # caveat said "no ... urine immunofixation" beside the positive one on file; probe76 D13: with urine free
    # of M-protein at baseline, the urine part was taken as nothing to follow (no caveat, not provisional)
    r = run(
        m("serum_m_protein", 15, -10),
        *baseline_urine,
        m("serum_m_protein", 4, 30),
        m("serum_ife", 0, 90, unit=None),
        m("urine_ife", 1, 90, unit=None),
    ).hematologic_imwg
    assert r.category == "VGPR" and r.provisional
    assert r.caveats == (
        f"urine immunofixation positive on {d(90).isoformat()}, no 24-hour urine M-protein to quantify it: "
        "the urine part of VGPR is unconfirmed",
    )
