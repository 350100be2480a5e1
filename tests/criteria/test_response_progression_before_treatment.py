"""A relapse or progression recorded at an earlier restaging and followed by a treatment begun after it
stays visible once that treatment brings the value down (probe64 D5: lenalidomide stopped, a progression
by the amyloid-style criteria of criteria.md §8.1a - M-protein up >= 50 % from its nadir and > 5 g/L -,
lenalidomide restarted, the M-protein fell again: the report read as a first-line partial response and the
progression was gone). The response keeps its baseline before the first treatment; the alert says so."""

from __future__ import annotations

from poems_fhir.criteria.response import with_progression_before_treatment
from poems_fhir.criteria.timeline import Event
from tests.criteria.test_response import CFG, d, m, run

STOPPED = Event("treatment", d(0), "MedicationStatement/len-1", "lenalidomide", agent="lenalidomide", end=d(180))
RESTARTED = Event("treatment", d(500), "MedicationStatement/len-2", "lenalidomide", agent="lenalidomide")
#: 15 g/L at baseline, nadir 5, then 9 (>= 50 % above the nadir and > 5 g/L: progression), then 4 on the restart
SERIES = (
    m("serum_m_protein", 15, -10),
    m("serum_m_protein", 5, 180),
    m("serum_m_protein", 9, 470),
    m("serum_m_protein", 4, 680),
)


def assess(*measurements, events=(STOPPED, RESTARTED), as_of=None, baseline=None):
    r = run(*measurements, events=list(events), as_of=as_of, baseline=baseline)
    return with_progression_before_treatment(r, list(measurements), list(events), [], [], CFG)


def codes(r) -> list[str]:
    return [a.code for a in r.alerts]


def test_a_progression_before_a_restarted_treatment_stays_visible_with_its_dates_and_evidence():
    r = assess(*SERIES, as_of=d(700))
    assert r.hematologic.category == "PR"  # 15 -> 4 g/L: still measured from the first baseline
    [alert] = [a for a in r.alerts if a.code == "progression_before_treatment"]
    assert f"recorded on {d(470)}, before the treatment begun on {d(500)}" in alert.message
    assert f"measured from the last results up to {d(0)}" in alert.message
    assert "M-protein rose >= 50 % from its nadir (5 g/L) to 9 g/L" in alert.message
    # what showed the progression (nadir, then the rise), then the treatment begun after it
    assert alert.evidence == (
        "Observation/serum_m_protein-180",
        "Observation/serum_m_protein-470",
        "MedicationStatement/len-2",
    )


def test_while_the_progression_stands_it_is_the_progression_alert_itself():
    r = assess(*SERIES, as_of=d(520))  # restarted, nothing measured since: the 9 g/L is the latest
    assert "hematologic_progression" in codes(r)
    assert "progression_before_treatment" not in codes(r)


def test_before_the_new_treatment_is_begun_there_is_nothing_to_add():
    r = assess(*SERIES[:3], m("serum_m_protein", 4, 490), as_of=d(495))  # down again, no treatment since
    assert codes(r) == []


def test_the_next_cycle_of_the_regimen_the_progression_happened_on_is_no_treatment_begun():
    # monthly administrations: the one after the progression continues the regimen
    cycles = [
        Event("treatment", d(day), f"MedicationAdministration/c{day}", "lenalidomide", agent="lenalidomide")
        for day in range(0, 701, 28)
    ]
    assert "progression_before_treatment" not in codes(assess(*SERIES, events=cycles, as_of=d(700)))
    # a new agent begun after the progression is
    salvage = Event("treatment", d(490), "MedicationStatement/bort", "bortezomib", agent="bortezomib")
    r = assess(*SERIES, events=[*cycles, salvage], as_of=d(700))
    [alert] = [a for a in r.alerts if a.code == "progression_before_treatment"]
    assert alert.evidence[-1] == "MedicationStatement/bort"


def test_a_planned_treatment_or_one_begun_without_a_progression_adds_nothing():
    planned = Event(
        "treatment", d(500), "MedicationRequest/len-2", "lenalidomide", agent="lenalidomide", status="planned"
    )
    assert "progression_before_treatment" not in codes(assess(*SERIES, events=(STOPPED, planned), as_of=d(700)))
    steady = (m("serum_m_protein", 15, -10), m("serum_m_protein", 5, 180), m("serum_m_protein", 4, 680))
    assert codes(assess(*steady, as_of=d(700))) == []


def test_a_given_baseline_date_is_the_one_named():
    r = assess(*SERIES, as_of=d(700), baseline=d(-5))
    [alert] = [a for a in r.alerts if a.code == "progression_before_treatment"]
    assert f"measured from the last results up to {d(-5)}" in alert.message
    assert r.baseline_date == d(-5)


def test_without_treatment_nothing_is_assessed_or_added():
    r = assess(*SERIES, events=(), as_of=d(700))
    assert r.baseline_date is None and codes(r) == []


def test_a_restart_months_after_a_stop_shortly_before_the_progression_is_a_treatment_begun():
    # probe69 D6: lenalidomide stopped 40 days before the progression, restarted 200 days after it - the
    # stop was within 60 days of the progression, so the restart was taken for the next cycle
    stopped = Event("treatment", d(0), "MedicationStatement/len-1", "lenalidomide", agent="lenalidomide", end=d(430))
    restarted = Event("treatment", d(670), "MedicationStatement/len-2", "lenalidomide", agent="lenalidomide")
    r = assess(*SERIES[:3], m("serum_m_protein", 4, 700), events=(stopped, restarted), as_of=d(710))
    [alert] = [a for a in r.alerts if a.code == "progression_before_treatment"]
    assert alert.days == (d(470), d(670)) and alert.agents == ("lenalidomide",)
    assert alert.evidence[-1] == "MedicationStatement/len-2"


def test_a_treatment_begun_on_the_day_of_the_result_that_showed_the_progression_follows_it():
    # probe69 D8: the salvage began the day the rising M-protein was drawn
    salvage = Event("treatment", d(470), "MedicationStatement/dara", "daratumumab", agent="daratumumab")
    r = assess(*SERIES, events=(STOPPED, salvage), as_of=d(700))
    [alert] = [a for a in r.alerts if a.code == "progression_before_treatment"]
    assert alert.days == (d(470), d(470)) and alert.agents == ("daratumumab",)
    assert f"recorded on {d(470)}, the day a treatment was begun;" in alert.message  # not "before" (probe70 D14)


def test_cycles_of_a_regimen_that_go_on_past_the_progression_are_no_treatment_begun_however_many():
    cycles = [
        Event("treatment", d(day), f"MedicationAdministration/c{day}", "lenalidomide", agent="lenalidomide")
        for day in range(0, 1000, 28)
    ]
    assert "progression_before_treatment" not in codes(assess(*SERIES, events=cycles, as_of=d(1000)))
