"""--as-of before the first treatment: "no treatment started by ..." naming the first one, not "no treatment
recorded" (probe83 D7: lenalidomide recorded from 2022-01-15, --as-of 2022-01-12)."""

from __future__ import annotations

from poems_fhir.criteria.response import LaterTreatment
from poems_fhir.criteria.timeline import Event

from .test_response import T0, d, m, run

LEN = Event("treatment", T0, "MedicationStatement/len", "Revlimid 10 MG", agent="lenalidomide")
DEX = Event("treatment", T0, "MedicationStatement/dex", "dexamethasone", agent="dexamethasone")
ASCT = Event("autologous_hsct", d(200), "Procedure/asct", "ASCT", status="completed")


def test_before_the_first_treatment_the_response_names_it_and_its_start():
    r = run(m("serum_m_protein", 12, -5), events=[ASCT, LEN, DEX], as_of=d(-3))
    assert r.first_treatment is None and r.baseline_date is None
    assert r.later_treatment == LaterTreatment(
        T0, ("dexamethasone", "lenalidomide"), ("MedicationStatement/dex", "MedicationStatement/len")
    )
    assert r.hematologic.category == "not_evaluable"
    assert r.hematologic.reason == (
        f"no treatment started by {d(-3)} (the first, dexamethasone and lenalidomide, starts {T0}) and no --baseline date"
    )
    assert "no treatment recorded" not in r.vegf.reason


def test_with_no_treatment_at_all_it_stays_no_treatment_recorded():
    r = run(m("serum_m_protein", 12, -5), events=[], as_of=d(-3))
    assert r.later_treatment is None
    assert r.hematologic.reason == "no treatment recorded and no --baseline date"
    planned = Event("autologous_hsct", d(10), "Procedure/plan", "ASCT", status="preparation")
    assert run(events=[planned], as_of=d(-3)).later_treatment is None  # a transplant in preparation is no treatment
