"""Survivors of the mutation run over criteria.response (mutmut 3, twelfth sample), each killed by a behaviour
criteria.md §8 or the README's response section states:

- a progression followed by a treatment *begun* after it stays visible (README, probe64 D5): a new agent or
  a restart after a pause of more than 60 days is begun, the next cycle of a course still given (within 60
  days of its last dose, or an open course stated active / in progress) is not, nor a treatment in
  preparation or planned, nor one given after ``as_of``; the first one begun is named;
- with no light chain typed by immunofixation the clone's chain is the one clearly higher at the baseline
  (the last day both were measured up to and including the cut);
- IMWG (§8.1b): a negative serum immunofixation is an M-protein of 0 - the nadir a > 5 g/L rise is measured
  from; a positive one is no "not detectable"; a urine progression's latest point is the newest result;
- urine free of M-protein at baseline and since: nothing to follow, no urine cited;
- a result on no day is named by what it shows; a treatment on no readable day is listed (three at most);
- ``percent``: no change reads "0%"."""

from __future__ import annotations

import dataclasses

import pytest

from poems_fhir.criteria.response import percent, with_progression_before_treatment
from poems_fhir.criteria.timeline import Event, Measurement
from tests.criteria.test_response import CFG, d, m, run

# --- a treatment begun after a progression (_begun_after, _given, _last_given) ------------------------------

AS_OF = d(700)
STOPPED = Event("treatment", d(0), "MedicationStatement/len-1", "lenalidomide", agent="lenalidomide", end=d(180))
#: 15 g/L at baseline, nadir 5, then 9 (>= 50 % above the nadir and > 5 g/L: progression, §8.1a), then 4
SERIES = (
    m("serum_m_protein", 15, -10),
    m("serum_m_protein", 5, 180),
    m("serum_m_protein", 9, 470),
    m("serum_m_protein", 4, 680),
)
#: monthly lenalidomide from day 0 to day 700: the cycles after the progression continue the regimen
CYCLES = tuple(
    Event("treatment", d(day), f"MedicationAdministration/c{day}", "lenalidomide", agent="lenalidomide")
    for day in range(0, 701, 28)
)


def _alert(events, as_of=AS_OF, measurements=SERIES):
    r = run(*measurements, events=list(events), as_of=as_of)
    r = with_progression_before_treatment(r, list(measurements), list(events), [], [], CFG)
    found = [a for a in r.alerts if a.code == "progression_before_treatment"]
    assert len(found) <= 1
    return found[0] if found else None


def _drug(agent: str, day: int, ref: str | None = None, **kw) -> Event:
    return Event("treatment", d(day), ref or f"MedicationStatement/{agent}-{day}", agent, agent=agent, **kw)


def test_a_treatment_given_after_the_restaging_date_is_no_treatment_begun():
    # kills _begun_after mutmut_20, _25 (a treatment after as_of no longer skipped)
    assert _alert([*CYCLES, _drug("bortezomib", 800)]) is None
    # the control: begun by as_of, it is named
    alert = _alert([*CYCLES, _drug("bortezomib", 690)])
    assert alert is not None and alert.days == (d(470), d(690))


def test_a_treatment_begun_on_the_restaging_date_itself_counts():
    # kills _begun_after mutmut_26 (a treatment on as_of skipped)
    alert = _alert([*CYCLES, _drug("bortezomib", 700)])
    assert alert is not None and alert.days == (d(470), d(700)) and alert.agents == ("bortezomib",)


def test_of_one_agent_the_first_dose_after_the_progression_is_the_one_begun():
    # kills _begun_after mutmut_12 (a course ordered by reference, not by day)
    events = [
        STOPPED,
        _drug("bortezomib", 600, "MedicationStatement/b-1"),
        _drug("bortezomib", 490, "MedicationStatement/b-2"),
    ]
    alert = _alert(events)
    assert alert is not None and alert.days == (d(470), d(490))
    assert f"before the treatment begun on {d(490)}" in alert.message
    assert alert.evidence[-1] == "MedicationStatement/b-2"


def test_of_several_agents_begun_the_earliest_is_named():
    # kills _begun_after mutmut_49, _51 (Events cannot be ordered), _52 (order of listing), _53 (by reference)
    later = _drug("bortezomib", 600, "MedicationStatement/a-bort")
    earlier = _drug("thalidomide", 500, "MedicationStatement/z-thal")
    alert = _alert([STOPPED, later, earlier])
    assert alert is not None and alert.days == (d(470), d(500)) and alert.agents == ("thalidomide",)
    assert alert.evidence[-1] == "MedicationStatement/z-thal"


def test_a_dose_exactly_sixty_days_after_the_last_continues_the_course():
    # kills _begun_after mutmut_32 (the 60th day after the last dose no longer "within" the pause)
    last = _drug("lenalidomide", 0, "MedicationStatement/len-1", end=d(450))
    assert _alert([last, _drug("lenalidomide", 510)]) is None
    # one day later it is a restart
    alert = _alert([last, _drug("lenalidomide", 511)])
    assert alert is not None and alert.days == (d(470), d(511))


@pytest.mark.parametrize("status", ["active", "in-progress"])
def test_an_open_course_stated_running_is_still_given_after_the_progression(status):
    # kills _last_given mutmut_2.._6 (the status not read as running), _begun_after mutmut_44 (a running
    # course's next dose taken for a treatment begun)
    running = _drug("lenalidomide", 0, "MedicationStatement/len-1", status=status)
    assert _alert([running, _drug("lenalidomide", 500)]) is None
    # the control: a completed course without an end was given on its day only - 500 is a restart
    done = _drug("lenalidomide", 0, "MedicationStatement/len-1", status="completed")
    assert _alert([done, _drug("lenalidomide", 500)]) is not None


def test_a_treatment_in_preparation_is_no_treatment_begun():
    # kills _given mutmut_6, _7 (status "preparation" no longer read)
    prepared = _drug("bortezomib", 500, status="preparation")
    assert _alert([STOPPED, prepared]) is None
    assert _alert([STOPPED, dataclasses.replace(prepared, status="completed")]) is not None


def test_a_treatment_dated_before_the_progression_is_never_the_one_begun_after_it():
    # kills _begun_after mutmut_21 (doses before the progression no longer skipped): a thalidomide course
    # recorded as ending before it started (bad data) is still one given before the progression
    odd = _drug("thalidomide", 100, "MedicationStatement/thal", end=d(20))
    alert = _alert([STOPPED, odd, _drug("lenalidomide", 500, "MedicationStatement/len-2")])
    assert alert is not None and alert.days == (d(470), d(500)) and alert.agents == ("lenalidomide",)


# --- the clone's light chain without an immunofixation (_chain_high_at_baseline) ----------------------------


def flc(chain: str, value: float, day: int) -> Measurement:
    return m(f"flc_{chain}", value, day, unit="mg/L")


def test_the_clone_chain_is_read_on_the_last_day_up_to_and_including_the_cut():
    # kills _chain_high_at_baseline mutmut_25 (the first pair read), _26 (the pair on the cut day left out):
    # kappa 100 / lambda 80 a month before (no chain clearly higher), kappa 150 / lambda 10 on the day treatment
    # starts (a kappa clone); after treatment kappa 8, lambda 15: dFLC -7 mg/L, not "7 mg/L, lambda involved"
    r = run(
        flc("kappa", 100, -30),
        flc("lambda", 80, -30),
        flc("kappa", 150, 0),
        flc("lambda", 10, 0),
        flc("kappa", 8, 60),
        flc("lambda", 15, 60),
    )
    assert r.hematologic.latest.value == -7 and r.hematologic.latest.reference == "Observation/flc_kappa-60"


# --- IMWG (§8.1b) -------------------------------------------------------------------------------------------


def ife(analyte: str, value: int, day: int) -> Measurement:
    return m(analyte, value, day, unit=None)


def test_a_negative_serum_immunofixation_is_the_nadir_below_a_nadir_of_one_g_per_l():
    # kills _imwg_measurable mutmut_21 (a nadir of 1 g/L kept over the negative immunofixation's 0): 20 -> 1,
    # immunofixation negative, then 5.5 g/L - a rise of > 5 g/L from 0: PD
    r = run(
        m("serum_m_protein", 20, -10),
        m("serum_m_protein", 1, 60),
        ife("serum_ife", 0, 90),
        m("serum_m_protein", 5.5, 120),
    )
    assert r.hematologic_imwg.category == "PD"
    assert "nadir (0 g/L: serum immunofixation negative" in r.hematologic_imwg.reason


def test_a_positive_serum_immunofixation_after_the_latest_m_protein_is_no_undetectable_m_protein():
    # kills _serum_undetectable_after mutmut_2 (a positive immunofixation taken for "not detectable"): 20 -> 15
    # g/L is -25 %: MR
    r = run(m("serum_m_protein", 20, -10), m("serum_m_protein", 15, 60), ife("serum_ife", 1, 90))
    assert r.hematologic_imwg.category == "MR" and r.hematologic_imwg.change == pytest.approx(-0.25)


def test_an_imwg_urine_progression_is_dated_by_a_later_serum_value():
    # kills _imwg_measurable mutmut_86 (the serum value not compared): urine 100 -> 400 mg/24 h on day 60 is a
    # progression; the serum value of day 90 is the newest result, the latest point
    r = run(
        m("serum_m_protein", 20, -10),
        m("urine_m_protein", 100, -10, unit="mg/24 h"),
        m("urine_m_protein", 400, 60, unit="mg/24 h"),
        m("serum_m_protein", 15, 90),
    )
    assert r.hematologic_imwg.category == "PD"
    assert r.hematologic_imwg.latest.effective == d(90) and r.hematologic_imwg.latest.value == 15


@pytest.mark.parametrize("since", [0, 1])
def test_urine_free_at_baseline_keeps_the_vgpr_and_its_urine_is_cited(since):
    # urine 0 at baseline; a serum VGPR (20 -> 1 g/L): the urine since (0 or 1 mg/24 h, < 100) keeps it, and the
    # urine results it rests on are cited either way (probe108 D10: urine free at baseline cited nothing)
    r = run(
        m("serum_m_protein", 20, -10),
        m("urine_m_protein", 0, -10, unit="mg/24 h"),
        m("serum_m_protein", 1, 60),
        m("urine_m_protein", since, 60, unit="mg/24 h"),
    )
    assert r.hematologic_imwg.category == "VGPR"
    urine = {"Observation/urine_m_protein--10", "Observation/urine_m_protein-60"}
    assert urine <= set(r.hematologic_imwg.evidence)
    assert not r.hematologic_imwg.caveats


# --- results and treatments on no day (_undated_text, _listed, _complete_response_dates) --------------------


def test_an_undated_positive_immunofixation_is_named_positive():
    # kills _undated_text mutmut_14, _16, _17
    undated = Measurement("serum_ife", 1.0, None, None, "Observation/undated-sife")
    r = run(m("serum_m_protein", 12, -5), m("serum_m_protein", 5, 150), undated)
    said = "serum immunofixation positive (Observation/undated-sife) has no date: not placed in time, not used"
    assert said in r.hematologic.caveats


def test_an_undated_result_without_a_unit_is_shown_by_its_number_alone():
    # kills _undated_text mutmut_24 (None appended), _27 ("XXXX")
    undated = Measurement("serum_m_protein", 1.0, None, None, "Observation/undated-m")
    r = run(m("serum_m_protein", 12, -5), m("serum_m_protein", 5, 150), undated)
    assert "serum M-protein 1 (Observation/undated-m) has no date: not placed in time, not used" in (
        r.hematologic.caveats
    )


def _undated(n: int):
    return [Event("treatment", None, f"Procedure/t{i}", "transplant") for i in range(1, n + 1)]


def test_treatments_on_no_day_are_listed_three_at_most():
    # kills _listed mutmut_3, _4, _5, _7, _8, _9
    three = run(m("serum_m_protein", 12, -5), events=_undated(3)).hematologic.reason
    assert "(Procedure/t1, Procedure/t2, Procedure/t3) and no --baseline date" in three
    four = run(m("serum_m_protein", 12, -5), events=_undated(4)).hematologic.reason
    assert "(Procedure/t1, Procedure/t2, Procedure/t3, ...) and no --baseline date" in four


def test_an_undated_immunofixation_beside_a_complete_response_leaves_its_day_found():
    # kills _complete_response_dates mutmut_9 (every serum immunofixation, dated or not, taken for a negative)
    undated = Measurement("serum_ife", 1.0, None, None, "Observation/undated-sife")
    r = run(
        m("serum_m_protein", 8, -10),
        ife("serum_ife", 1, -10),
        ife("serum_ife", 0, 90),
        ife("urine_ife", 0, 92),
        undated,
    )
    assert r.hematologic.category == "CR" and r.cr_dates == (d(92),)


# --- percent ------------------------------------------------------------------------------------------------


def test_no_change_reads_zero_percent():
    # kills percent mutmut_32 (0 read as "0.0" cut to "", signed "+%")
    assert percent(0.0) == "0%"
    assert percent(1e-9) == "0%"
