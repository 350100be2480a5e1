"""Survivors of the mutation run over criteria.response (mutmut 3, ninth sample), each killed by a behaviour
criteria.md states or the response output documents: the baseline and latest point of a VGPR the light chains
decide (§8.1a), the nadir an IMWG progression is measured from and what it cites (§8.1b "PD = >= 25 % increase
from nadir with absolute serum increase > 0.5 g/dL (or urine >= 200 mg/24 h)"), the urine parts of an IMWG
VGPR ("urine M-protein < 100 mg/24 h") and PR ("urine >= 90 % reduction or < 200 mg/24 h"), and the caveat
that names one day's conflicting results of a test."""

from __future__ import annotations

import dataclasses

from tests.criteria.test_response import d, m, run


def mg(analyte: str, value: float, day: int):
    return m(analyte, value, day, unit="mg/L")


def urine(value: float, day: int):
    return m("urine_m_protein", value, day, unit="mg/24 h")


# --- amyloid-style VGPR by the light chains beside an M-protein baseline (§8.1a: VGPR = dFLC < 40 mg/L) ------


def test_a_light_chain_vgpr_without_a_dflc_baseline_keeps_the_m_protein_baseline():
    # no free light chains before treatment: the baseline shown is the serum M-protein's, and the latest
    # point is the dFLC the VGPR rests on when it is the newest result (a VGPR with no dFLC baseline stands,
    # provisional, beside an M-protein that fell >= 50 %)
    r = run(
        m("serum_m_protein", 8.0, -10),
        m("serum_m_protein", 4.0, 30),
        mg("flc_lambda", 45, 60),
        mg("flc_kappa", 12, 60),
    ).hematologic
    assert r.category == "VGPR" and r.reason == "dFLC 33 mg/L < 40 mg/L" and r.provisional
    assert r.caveats == ("no dFLC before treatment: the VGPR is read beside the M-protein's response",)
    assert r.baseline is not None and r.baseline.reference == "Observation/serum_m_protein--10"
    assert r.latest is not None and r.latest.effective == d(60) and r.latest.value == 33
    assert r.latest.reference == "Observation/flc_lambda-60"


def test_a_light_chain_vgpr_is_dated_by_a_later_m_protein():
    # the latest point is the newest result of the restaging: an M-protein measured after the light chains
    r = run(
        m("serum_m_protein", 8.0, -10),
        mg("flc_lambda", 45, 60),
        mg("flc_kappa", 12, 60),
        m("serum_m_protein", 4.0, 90),
    ).hematologic
    assert r.category == "VGPR" and r.provisional
    assert r.baseline is not None and r.baseline.reference == "Observation/serum_m_protein--10"
    assert r.latest is not None and r.latest.reference == "Observation/serum_m_protein-90"
    assert r.latest.effective == d(90)


# --- IMWG progression from the nadir (§8.1b) --------------------------------------------------------------


def test_a_negative_serum_immunofixation_as_the_nadir_is_what_an_imwg_progression_cites():
    # probe46: 42 -> 3.5 -> serum IFE negative -> 8 g/L: a rise from 0, cited by the immunofixation
    r = run(
        m("serum_m_protein", 42, -10),
        m("serum_m_protein", 3.5, 60),
        m("serum_ife", 0, 90, unit=None),
        m("serum_m_protein", 8, 150),
    ).hematologic_imwg
    assert r.category == "PD"
    assert (
        r.reason
        == ">= 25 % rise from the nadir (0 g/L: serum immunofixation negative on 2020-03-31) with > 5 g/L absolute"
    )
    assert r.evidence == ("Observation/serum_ife-90",)


def test_a_negative_serum_immunofixation_on_the_day_of_the_latest_m_protein_is_no_nadir_before_it():
    # the nadir is the lowest value *before* the latest: 40 -> 20 -> 12 g/L is a 70 % fall (PR), not a
    # rise from an immunofixation drawn with the latest sample
    r = run(
        m("serum_m_protein", 40, -10),
        m("serum_m_protein", 20, 60),
        m("serum_m_protein", 12, 90),
        m("serum_ife", 0, 90, unit=None),
        urine(0, -10),
    ).hematologic_imwg
    assert r.category == "PR" and r.reason == "M-protein -70%"


def test_an_imwg_progression_by_the_urine_is_reported_whole():
    # §8.1b "(or urine >= 200 mg/24 h)": serum 20 -> 12 g/L is no serum progression, the urine 300 -> 600 is
    r = run(
        m("serum_m_protein", 20, -10),
        urine(300, -10),
        m("serum_m_protein", 12, 60),
        urine(600, 60),
    ).hematologic_imwg
    assert r.framework == "imwg" and r.category == "PD"
    assert r.reason == "urine M-protein >= 25 % above its nadir (300 mg/24 h) and >= 200 mg/24 h more: 600 mg/24 h"
    assert r.baseline is not None and r.baseline.reference == "Observation/serum_m_protein--10"
    assert r.latest is not None and r.latest.effective == d(60)
    assert r.change == -0.4
    assert r.evidence == ("Observation/urine_m_protein-60",)


def test_the_urine_nadir_is_the_lowest_of_every_value_before_the_latest():
    # 300 -> 250 -> 50 -> 260 mg/24 h: 260 is >= 25 % and 210 mg/24 h above the nadir of 50 (§8.1b)
    r = run(
        m("serum_m_protein", 20, -10),
        urine(300, -10),
        m("serum_m_protein", 12, 30),
        urine(250, 30),
        urine(50, 60),
        urine(260, 90),
    ).hematologic_imwg
    assert r.category == "PD"
    assert r.reason == "urine M-protein >= 25 % above its nadir (50 mg/24 h) and >= 200 mg/24 h more: 260 mg/24 h"


def test_an_imwg_minimal_response_has_no_caveats_and_no_evidence():
    # MR 25-49 % (§8.1b): nothing else decided it, nothing is unconfirmed
    r = run(m("serum_m_protein", 10, -10), m("serum_m_protein", 7, 60)).hematologic_imwg
    assert r.category == "MR" and r.caveats == () and r.evidence == () and not r.provisional


# --- the urine part of an IMWG VGPR / PR (§8.1b) ------------------------------------------------------------


def test_a_small_baseline_urine_m_protein_still_has_to_be_followed():
    # only a 24-hour value of 0 (or a negative urine IFE) means no urine M-protein to follow
    r = run(m("serum_m_protein", 20, -10), urine(1, -10), m("serum_m_protein", 1, 90)).hematologic_imwg
    assert r.category == "VGPR" and r.provisional
    assert r.caveats == (
        "24-hour urine M-protein 1 mg/24 h at baseline, not measured since: the urine part of VGPR is unconfirmed",
    )


def test_a_vgpr_whose_urine_is_not_below_100_falls_to_pr_and_says_both_values():
    # VGPR needs the urine M-protein < 100 mg/24 h; 150 is < 200, so the PR's urine part holds
    r = run(
        m("serum_m_protein", 20, -10),
        urine(300, -10),
        m("serum_m_protein", 1, 90),
        urine(150, 90),
    ).hematologic_imwg
    assert r.category == "PR"
    assert r.reason == "M-protein -95%; urine M-protein 300 -> 150 mg/24 h (VGPR needs < 100)"
    assert r.evidence == ("Observation/urine_m_protein--10", "Observation/urine_m_protein-90")


def test_a_negative_urine_immunofixation_on_the_day_of_the_24_hour_value_counts_as_0():
    # documented in _imwg_urine_part: a negative urine IFE on or after the latest 24-hour value reads 0
    r = run(
        m("serum_m_protein", 20, -10),
        urine(300, -10),
        m("serum_m_protein", 1, 90),
        urine(150, 90),
        m("urine_ife", 0, 90, unit=None),
    ).hematologic_imwg
    assert r.category == "VGPR" and r.reason == "M-protein -95%" and not r.provisional
    assert r.evidence == ("Observation/urine_m_protein--10", "Observation/urine_ife-90")


def test_a_pr_with_a_urine_above_200_and_no_urine_baseline_names_the_unconfirmed_reduction():
    # PR needs the urine >= 90 % down or < 200 mg/24 h: with no baseline value the reduction cannot be judged
    r = run(
        m("serum_m_protein", 20, -10),
        m("serum_m_protein", 8, 60),
        urine(250, 60),
    ).hematologic_imwg
    assert r.category == "PR" and r.provisional
    assert r.caveats == (
        "urine M-protein 250 mg/24 h and no 24-hour value at baseline: the urine part of PR "
        "(>= 90% reduction) is unconfirmed",
    )


# --- one day's conflicting results (_conflict_text) ---------------------------------------------------------


def test_conflicting_results_of_one_day_are_named_with_their_values_units_and_references():
    def ref(x, reference):
        return dataclasses.replace(x, reference=reference)

    r = run(
        m("serum_m_protein", 12, -10),
        ref(m("serum_m_protein", 4.0, 30), "Observation/a"),
        ref(m("serum_m_protein", 9.5, 30), "Observation/b"),
        ref(m("serum_ife", 0, 30, unit=None), "Observation/c"),
        ref(m("serum_ife", 1, 30, unit=None), "Observation/e"),
    )
    said = (  # by analyte, then day
        "serum ife on 2020-01-31: different results on one day (0 (Observation/c), 1 (Observation/e)) - "
        "neither is read, one day's samples are no time course; check which is right",
        "serum m protein on 2020-01-31: different results on one day (4 g/L (Observation/a), 9.5 g/L "
        "(Observation/b)) - neither is read, one day's samples are no time course; check which is right",
    )
    for h in (r.hematologic, r.hematologic_imwg):
        assert h.caveats[-2:] == said


def test_an_imwg_urine_progression_with_no_serum_value_since_shows_the_urine_as_its_latest_point():
    # found with the mutation run: PD by the urine alone came out with no latest point, where the
    # amyloid-style framework shows the urine value
    r = run(m("serum_m_protein", 20, -10), urine(300, -10), urine(600, 60)).hematologic_imwg
    assert r.category == "PD"
    assert r.latest is not None and (r.latest.value, r.latest.effective) == (600, d(60))
    assert r.evidence == ("Observation/urine_m_protein-60",)


def test_a_low_dflc_with_no_baseline_beside_a_rising_m_protein_is_no_vgpr():
    # a dFLC of 33 mg/L after treatment, none before, the M-protein rising 8 -> 9 g/L: a VGPR "reached"
    # cannot be told (probe35's rule - reached, not held from the start - with the baseline missing)
    r = run(
        m("serum_m_protein", 8.0, -10), m("serum_m_protein", 9.0, 30), mg("flc_lambda", 45, 30), mg("flc_kappa", 12, 30)
    )
    h = r.hematologic
    assert h.category == "NR"
    assert h.caveats == (
        "dFLC 33 mg/L < 40 mg/L, but no dFLC before treatment and no M-protein response: whether a VGPR was "
        "reached cannot be told",
    )
