"""An IMWG VGPR or PR whose urine part is met by urine free of M-protein at baseline and since cites those urine
results (probe108 D10: the written PR cited its two serum M-proteins only)."""

from __future__ import annotations

from tests.criteria.test_response import m, run


def test_negative_urine_immunofixations_before_and_after_are_cited():
    r = run(
        m("serum_m_protein", 20, -10),
        m("urine_ife", 0, -10, unit=None),
        m("serum_m_protein", 9, 90),
        m("urine_ife", 0, 90, unit=None),
    )
    imwg = r.hematologic_imwg
    assert imwg.category == "PR" and not imwg.provisional
    assert {"Observation/urine_ife--10", "Observation/urine_ife-90"} <= set(imwg.evidence)


def test_a_urine_known_free_only_at_baseline_is_cited_too():
    r = run(m("serum_m_protein", 20, -10), m("urine_ife", 0, -10, unit=None), m("serum_m_protein", 9, 90))
    imwg = r.hematologic_imwg
    assert imwg.category == "PR" and "Observation/urine_ife--10" in imwg.evidence


def test_without_urine_results_nothing_is_cited_and_the_pr_is_provisional():
    imwg = run(m("serum_m_protein", 20, -10), m("serum_m_protein", 9, 90)).hematologic_imwg
    assert imwg.category == "PR" and imwg.provisional and imwg.evidence == ()
