"""probe111 D4, D5: the IMWG row after a relapse from CR shown by serum immunofixation only, and its reason
beside a quantified 24-hour urine M-protein."""

from __future__ import annotations

from .test_response import m, run


def test_relapse_from_cr_by_serum_immunofixation_is_a_provisional_imwg_vgpr():
    r = run(
        m("serum_m_protein", 12, -10),
        m("serum_ife", 1, -10, unit=None),
        m("urine_ife", 0, -10, unit=None),
        m("serum_ife", 0, 100, unit=None),
        m("urine_ife", 0, 100, unit=None),
        m("serum_ife", 1, 400, unit=None),  # back, no electrophoresis value sent
    )
    assert r.hematologic.category == "PD"
    imwg = r.hematologic_imwg
    assert imwg.category == "VGPR", imwg.reason
    assert imwg.provisional
    assert "no follow-up M-protein" not in imwg.reason
    assert imwg.latest is not None and imwg.latest.reference == "Observation/serum_ife-400"
    assert any("relapse from CR" in c for c in imwg.caveats)


def test_without_an_earlier_cr_a_positive_immunofixation_alone_stays_not_evaluable():
    r = run(m("serum_m_protein", 12, -10), m("serum_ife", 1, -10, unit=None), m("serum_ife", 1, 400, unit=None))
    assert r.hematologic_imwg.category == "not_evaluable"


def test_imwg_reason_beside_a_quantified_urine_does_not_say_not_quantified():
    r = run(
        m("serum_m_protein", 2, -10),
        m("urine_m_protein", 400, -10, unit="mg/24 h"),
        m("urine_m_protein", 150, 180, unit="mg/24 h"),
    )
    assert r.hematologic.category == "PR"
    imwg = r.hematologic_imwg
    assert imwg.category == "not_evaluable"
    assert "not quantified" not in imwg.reason
    assert "400 mg/24 h" in imwg.reason and "amyloid-style" in imwg.reason


def test_imwg_reason_without_urine_still_says_not_quantified():
    r = run(m("serum_m_protein", 2, -10), m("serum_m_protein", 1, 180))
    assert r.hematologic_imwg.reason.endswith("urine M-protein not quantified")
