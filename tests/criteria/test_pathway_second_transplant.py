"""A second autologous transplant - salvage at relapse, or a tandem - on plain data (probe83 D3).

criteria.md §10 step 5: restaging at day +90/+100, "Trigger: ASCT done" - of the last transplant; step 4:
engraftment syndrome around each transplant; §9 post-ASCT factors (D'Souza 2012): "no CR" judged from the
transplant's restaging on, the first transplant's outcome (a tandem's after its last transplant).
"""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.model import State
from poems_fhir.criteria.timeline import Event

from .test_risk_pathway import MANDATORY, T0, d, f, m, risk_of, steps_of

LEN = Event("treatment", T0, "MedicationStatement/len", "lenalidomide", agent="lenalidomide", end=d(160))
ASCT1 = Event("autologous_hsct", d(200), "Procedure/asct1", "ASCT", status="completed")


def _asct2(day: int) -> Event:
    return Event("autologous_hsct", d(day), "Procedure/asct2", "ASCT", status="completed")


# salvage: restaged at day +92 (M 2), relapse (M 8), second transplant on d(840), M 6 twenty days later
SALVAGE_RESULTS = [
    m("serum_m_protein", 12, -5, "g/L"),
    m("serum_m_protein", 2, 292, "g/L"),
    m("serum_m_protein", 8, 780, "g/L"),
    m("serum_m_protein", 6, 860, "g/L"),
]
SALVAGE = [LEN, ASCT1, _asct2(840)]


def test_a_salvage_transplant_is_restaged_from_its_own_day_and_the_first_keeps_its_restaging():
    steps = steps_of(MANDATORY, SALVAGE_RESULTS, SALVAGE, as_of=d(870))
    now = steps["restaging-day100"]
    assert (now.scheduled_start, now.scheduled_end, now.status) == (d(930), d(940), "not-started")
    assert now.evidence == ("Procedure/asct2",)
    assert ("transplant", str(d(840))) in now.params
    assert "After the transplant on" in now.description
    earlier = steps[f"restaging-day100-{d(200)}"]
    assert earlier.term_key == "restaging-day100"
    assert (earlier.scheduled_start, earlier.status) == (d(290), "completed")
    assert earlier.evidence[:2] == ("Procedure/asct1", "Observation/serum_m_protein-292")
    assert ("next_transplant", str(d(840))) in earlier.params
    # its missing parts are still named; the results after the second transplant are not its evidence
    assert "Observation/serum_m_protein-860" not in earlier.evidence
    assert ("missing", "vegf") in earlier.params


def test_a_single_transplant_keeps_its_restaging_unchanged():
    steps = steps_of(MANDATORY, SALVAGE_RESULTS[:2], [LEN, ASCT1], as_of=d(300))
    assert [s for s in steps if s.startswith("restaging-day100")] == ["restaging-day100"]
    step = steps["restaging-day100"]
    assert (step.scheduled_start, step.status) == (d(290), "in-progress")
    assert not [k for k, _ in step.params if k in ("transplant", "next_transplant")]


def test_a_sample_days_after_a_tandem_transplant_is_no_restaging_of_either():
    tandem = [LEN, ASCT1, _asct2(292)]  # the second at day +92 of the first, before any restaging
    results = [m("serum_m_protein", 12, -5, "g/L"), m("serum_ife", 1, 306), m("serum_m_protein", 4, 306, "g/L")]
    steps = steps_of(MANDATORY, results, tandem, as_of=d(311))
    step = steps["restaging-day100"]
    assert (step.scheduled_start, step.scheduled_end, step.status) == (d(382), d(392), "not-started")
    assert [s for s in steps if s.startswith("restaging-day100")] == ["restaging-day100"]  # the first: never restaged
    risk = risk_of(MANDATORY, results, tandem, as_of=d(311))
    factor = risk["no_hematologic_cr_after_asct"]
    assert factor.state is State.NOT_ASSESSED
    assert f"from day +90 ({d(382)}) after the transplant on {d(292)} (a tandem after the transplant on {d(200)})" in (
        factor.reason
    )
    # D'Souza 2012's age is the first transplant's
    assert f"at transplant on {d(200)}" in risk["age_50_or_less_at_asct"].reason
    # the tandem's restaging decides
    restaged = [*results, m("serum_m_protein", 3, 385, "g/L")]
    assert risk_of(MANDATORY, restaged, tandem, as_of=d(390))["no_hematologic_cr_after_asct"].state is State.PRESENT


def test_no_cr_after_the_transplant_waits_for_its_restaging_window():
    early = [m("serum_m_protein", 12, -5, "g/L"), m("serum_m_protein", 4, 230, "g/L")]  # day +30, PR
    factor = risk_of(MANDATORY, early, [LEN, ASCT1], as_of=d(240))["no_hematologic_cr_after_asct"]
    assert factor.state is State.NOT_ASSESSED and f"from day +90 ({d(290)})" in factor.reason
    restaged = [*early, m("serum_m_protein", 3, 292, "g/L")]
    assert risk_of(MANDATORY, restaged, [LEN, ASCT1], as_of=d(300))["no_hematologic_cr_after_asct"].state is (
        State.PRESENT
    )
    # a complete response reached early is reached
    cr = [m("serum_m_protein", 12, -5, "g/L"), m("serum_ife", 0, 230), m("urine_ife", 0, 230)]
    assert risk_of(MANDATORY, cr, [LEN, ASCT1], as_of=d(240))["no_hematologic_cr_after_asct"].state is State.ABSENT


def test_no_cr_after_a_salvage_transplant_is_the_first_transplants_outcome():
    risk = risk_of(MANDATORY, SALVAGE_RESULTS, SALVAGE, as_of=d(870))
    factor = risk["no_hematologic_cr_after_asct"]
    assert factor.state is State.PRESENT
    assert f"after the transplant on {d(200)} before the next on {d(840)}" in factor.reason
    # a complete response after the salvage transplant does not undo the first one's failure
    cr = [*SALVAGE_RESULTS, m("serum_ife", 0, 935), m("urine_ife", 0, 935)]
    assert risk_of(MANDATORY, cr, SALVAGE, as_of=d(940))["no_hematologic_cr_after_asct"].state is State.PRESENT
    assert f"at transplant on {d(200)}" in risk["age_50_or_less_at_asct"].reason


def test_engraftment_follows_each_transplant_and_a_further_one_prepared():
    signs = [f("diarrhea", day=850)]  # day +10 of the second transplant
    step = steps_of(MANDATORY + signs, SALVAGE_RESULTS, SALVAGE, as_of=d(870))["engraftment-syndrome"]
    assert step.status == "completed"
    assert ("engraftment_sign", f"diarrhea {d(850)}") in step.params
    mobilised = [
        LEN,
        ASCT1,
        Event("stem_cell_mobilisation", d(800), "Procedure/mob2", "mobilisation", status="completed"),
    ]
    again = steps_of(MANDATORY, SALVAGE_RESULTS, mobilised, as_of=d(820))["engraftment-syndrome"]
    assert again.status == "not-started" and "Procedure/mob2" in again.evidence
    # an undated transplant left in preparation beside a done one is no new transplant
    stale = [LEN, ASCT1, Event("autologous_hsct", None, "Procedure/prep", "ASCT", status="preparation")]
    assert steps_of(MANDATORY, SALVAGE_RESULTS[:2], stale)["engraftment-syndrome"].status == "completed"


def test_age_at_transplant_is_the_first_transplants():
    risk = risk_of(MANDATORY, SALVAGE_RESULTS, SALVAGE, birth=dt.date(1970, 1, 1), as_of=d(870))
    assert risk["age_50_or_less_at_asct"].state is State.PRESENT  # 50 at the first, 52 at the second
