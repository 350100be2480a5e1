"""A result with no date at all is named by the response, never left out in silence (probe83 D6).

README, treatments on no readable day: "not dropped in silence ... naming the resource". A result the
response would read but cannot place in time (no effective[x], no issued) is a caveat of the response
it belongs to: "serum M-protein 1 g/L (Observation/...) has no date: not placed in time, not used".
"""

from __future__ import annotations

import dataclasses

from poems_fhir.criteria.timeline import Measurement

from .test_response import d, m, run

UNDATED_M = Measurement("serum_m_protein", 1.0, "g/L", None, "Observation/undated-m")


def test_an_undated_m_protein_is_a_caveat_of_both_haematological_frameworks():
    r = run(m("serum_m_protein", 12, -5), m("serum_m_protein", 9, 100), m("serum_m_protein", 5, 150), UNDATED_M)
    assert r.hematologic.category == "PR"  # 12 -> 5: the undated 1 g/L is not placed in time
    said = "serum M-protein 1 g/L (Observation/undated-m) has no date: not placed in time, not used"
    assert said in r.hematologic.caveats and said in r.hematologic_imwg.caveats
    assert r.undated_results == ("Observation/undated-m",)
    # dated, the same value is read and no caveat names it
    dated = run(m("serum_m_protein", 12, -5), dataclasses.replace(UNDATED_M, effective=d(160)))
    assert not [c for c in dated.hematologic.caveats if "has no date" in c] and dated.undated_results == ()


def test_an_undated_immunofixation_and_vegf_are_named_by_what_they_found():
    ife = Measurement("urine_ife", 0.0, None, None, "Observation/undated-uife")
    vegf = Measurement("vegf", 150.0, "pg/mL", None, "Observation/undated-vegf", "plasma")
    r = run(m("serum_m_protein", 12, -5), m("serum_m_protein", 5, 150), ife, vegf)
    assert "urine immunofixation negative (Observation/undated-uife) has no date: not placed in time, not used" in (
        r.hematologic.caveats
    )
    assert "VEGF 150 pg/mL (Observation/undated-vegf) has no date: not placed in time, not used" in r.vegf.reason
    assert not [c for c in r.hematologic.caveats if "undated-vegf" in c]  # each in its own domain


def test_an_undated_result_of_another_test_is_no_response_caveat():
    other = Measurement("platelets", 500.0, "10*9/L", None, "Observation/undated-plt")
    r = run(m("serum_m_protein", 12, -5), m("serum_m_protein", 5, 150), other)
    assert not [c for c in r.hematologic.caveats if "has no date" in c] and r.undated_results == ()


def test_an_undated_albumin_is_named_by_the_albumin_domain():
    albumin = Measurement("albumin", 30.0, "g/L", None, "Observation/undated-alb")
    r = run(m("albumin", 28, -5), m("albumin", 35, 100), albumin)
    assert r.clinical["albumin"].direction == "improved"
    assert "albumin 30 g/L (Observation/undated-alb) has no date: not placed in time, not used" in (
        r.clinical["albumin"].reason
    )
