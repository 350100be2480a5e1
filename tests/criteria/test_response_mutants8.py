"""Survivors of the twenty-fourth session's mutation sample (seed 24) in criteria.response, each killed by a
behaviour criteria.md states: the urine part of an IMWG VGPR/PR named when it is unconfirmed (§8.1b), the
VGPR-pattern evidence, the VEGF reference and the specimen rule of the VEGF response (§8.2)."""

from __future__ import annotations

from tests.criteria.test_response import m, run


def test_an_unmeasured_urine_since_a_24_hour_baseline_is_named_in_the_caveat():
    # §8.1b: VGPR needs the 24-hour urine M-protein < 100 mg/24 h; none measured since the baseline
    r = run(
        m("serum_m_protein", 20, -10),
        m("urine_m_protein", 300, -10, unit="mg/24 h"),
        m("serum_m_protein", 1, 90),
    ).hematologic_imwg
    assert r.category == "VGPR" and r.provisional
    assert r.caveats == (
        "24-hour urine M-protein 300 mg/24 h at baseline, not measured since: the urine part of VGPR is unconfirmed",
    )


def test_an_imwg_cr_cites_the_urine_immunofixation_it_rests_on():
    # §8.1b: IMWG CR = serum and urine immunofixation negative (+ marrow < 5 %); the serum one is `latest`
    r = run(m("serum_m_protein", 12, -10), m("serum_ife", 0, 90, unit=None), m("urine_ife", 0, 90, unit=None))
    imwg = r.hematologic_imwg
    assert imwg.category == "CR" and imwg.latest is not None and imwg.latest.reference == "Observation/serum_ife-90"
    assert imwg.evidence == ("Observation/urine_ife-90",)


def test_a_first_vegf_after_treatment_is_shown_as_the_post_treatment_reference():
    # seed_case.md T3: no VEGF before treatment - the first one after it is the reference, shown with its date
    r = run(m("vegf", 120, 30, specimen="plasma", unit="pg/mL")).vegf
    assert r.category == "not_evaluable" and "post-treatment reference is 120 pg/mL" in r.reason
    assert r.baseline is not None and r.baseline.reference == "Observation/vegf-30" and r.baseline.value == 120
