"""probe111 D1: a progression followed later by a CR shown only by negative serum and urine immunofixations
and a normal FLC ratio (no M-protein value of 0 sent) is a CR (criteria.md §8.1a/§8.1b), not a standing PD."""

from __future__ import annotations

import dataclasses

from poems_fhir.criteria.timeline import Event

from .test_response import TREATED, d, m, run

SALVAGE = [*TREATED, Event("treatment", d(400), "MedicationStatement/s", "bortezomib", agent="bortezomib")]


def ratio(value: float, day: int, *, abnormal: bool) -> object:
    return dataclasses.replace(m("flc_ratio", value, day, unit="{ratio}"), abnormal=abnormal)


def restaging(day: int) -> list:
    return [
        m("serum_ife", 0, day, unit=None),
        m("urine_ife", 0, day, unit=None),
        m("flc_kappa", 10, day, unit="mg/L"),
        m("flc_lambda", 12, day, unit="mg/L"),
        ratio(0.83, day, abnormal=False),
    ]


def test_serum_progression_then_negative_immunofixations_is_cr():
    r = run(
        m("serum_m_protein", 12, -10),
        m("serum_m_protein", 5, 180),
        m("serum_m_protein", 12, 360),  # PD from the nadir 5
        *restaging(560),
        events=SALVAGE,
    )
    assert r.hematologic.category == "CR", r.hematologic.reason
    assert r.hematologic_imwg.category == "CR", r.hematologic_imwg.reason
    codes = {a.code for a in r.alerts}
    assert "hematologic_progression" not in codes
    assert d(560) in r.cr_dates


def test_the_progression_still_stands_before_the_negative_restaging():
    r = run(
        m("serum_m_protein", 12, -10),
        m("serum_m_protein", 5, 180),
        m("serum_m_protein", 12, 360),
        *restaging(560),
        events=SALVAGE,
        as_of=d(400),
    )
    assert r.hematologic.category == "PD" and r.hematologic_imwg.category == "PD"


def test_urine_progression_then_negative_immunofixations_is_cr():
    r = run(
        m("serum_m_protein", 2, -10),
        m("urine_m_protein", 400, -10, unit="mg/24 h"),
        m("urine_m_protein", 100, 150, unit="mg/24 h"),
        m("urine_m_protein", 320, 330, unit="mg/24 h"),  # urine PD
        *restaging(560),
        events=SALVAGE,
    )
    assert r.hematologic.category == "CR", r.hematologic.reason
    assert "hematologic_progression" not in {a.code for a in r.alerts}


def test_serum_progression_then_only_a_negative_serum_immunofixation():
    # the urine immunofixation not repeated: no CR, but the M-protein is undetectable - no PD
    r = run(
        m("serum_m_protein", 30, -10),
        m("urine_ife", 0, -10, unit=None),
        m("serum_m_protein", 10, 150),
        m("serum_m_protein", 18, 330),
        m("serum_ife", 0, 560, unit=None),
        events=SALVAGE,
    )
    assert r.hematologic.category == "PR", r.hematologic.reason
    assert r.hematologic.change == -1.0
    assert r.hematologic_imwg.category in ("VGPR", "CR"), r.hematologic_imwg.reason
    assert "hematologic_progression" not in {a.code for a in r.alerts}
