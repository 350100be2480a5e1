"""'No haematological CR after first line' (criteria.md §9, Mayo, Kourelis 2016) and the age factors with a
birth date known only to its year or month (§9, Wang 2017 and D'Souza 2012) - probe83 D1, D4, D5."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.model import State
from poems_fhir.criteria.response import assess_response, with_progression_before_treatment
from poems_fhir.criteria.risk import assess_risk
from poems_fhir.criteria.timeline import Event, Measurement

from .test_risk_pathway import CFG, MANDATORY, d, m

LENALIDOMIDE = Event("treatment", d(0), "MedicationRequest/len", "lenalidomide", agent="lenalidomide", end=d(75))
DARATUMUMAB = Event("treatment", d(160), "MedicationRequest/dara", "daratumumab", agent="daratumumab", end=d(270))
#: PR on day 100, progression from the nadir on day 150 (4 -> 10 g/L)
FIRST_LINE_FAILS = [m("serum_m_protein", 12, -5, "g/L"), m("serum_m_protein", 4, 100, "g/L"),
                    m("serum_m_protein", 10, 150, "g/L")]  # fmt: skip
#: serum and urine immunofixation negative, no M-protein: CR
CR_ON = [m("serum_m_protein", 0, 330, "g/L"), m("serum_ife", 0, 330), m("urine_ife", 0, 330)]


def first_line(ms, events, as_of, birth=dt.date(1960, 1, 1)):
    # as the pipeline does: a progression before a later treatment stays known
    response = assess_response(list(ms), list(events), MANDATORY, [], CFG, as_of)
    response = with_progression_before_treatment(response, list(ms), list(events), MANDATORY, [], CFG)
    risk = {r.id: r for r in assess_risk(MANDATORY, list(ms), list(events), response, birth, as_of)}
    return risk["no_hematologic_cr_after_first_line"]


def test_a_cr_reached_on_a_treatment_begun_after_a_progression_is_no_first_line_cr():
    got = first_line([*FIRST_LINE_FAILS, *CR_ON], [LENALIDOMIDE, DARATUMUMAB], d(340))
    assert got.state is State.PRESENT
    assert got.reason == (
        f"no complete response before the progression recorded on {d(150)}; the treatment begun on {d(160)} "
        "is a later line (now CR)"
    )
    assert "Observation/serum_m_protein-150" in got.evidence and "MedicationRequest/dara" in got.evidence


def test_a_first_line_cr_still_counts_after_a_relapse_and_a_salvage_line():
    ms = [m("serum_m_protein", 12, -5, "g/L"), m("serum_m_protein", 0, 60, "g/L"), m("serum_ife", 0, 60),
          m("urine_ife", 0, 60), m("serum_ife", 1, 150), m("serum_m_protein", 6, 150, "g/L"),
          m("serum_m_protein", 2, 250, "g/L")]  # fmt: skip
    got = first_line(ms, [LENALIDOMIDE, DARATUMUMAB], d(260))
    assert got.state is State.ABSENT and got.reason.startswith(f"complete response reached on {d(60)}")


def test_a_treatment_given_while_the_progression_stands_is_not_first_line_still_running():
    # day 200: daratumumab runs to day 270, the progression of day 150 still the latest result
    got = first_line(FIRST_LINE_FAILS, [LENALIDOMIDE, DARATUMUMAB], d(200))
    assert got.state is State.PRESENT and got.reason == "haematological response PD (amyloid-style)"
    # a course still running with no progression: not judged yet (unchanged)
    longer = Event("treatment", d(0), "MedicationRequest/len", "lenalidomide", agent="lenalidomide", end=d(200))
    running = first_line(FIRST_LINE_FAILS[:2], [longer], d(110))
    assert running.state is State.NOT_ASSESSED and running.evidence == ("MedicationRequest/len",)


def ages(birth: dt.date, birth_latest: dt.date | None, asct_on: int = 200):
    events = [LENALIDOMIDE, Event("autologous_hsct", d(asct_on), "Procedure/asct", "ASCT", status="completed")]
    ms = [m("serum_m_protein", 12, -5, "g/L")]
    response = assess_response(ms, events, MANDATORY, [], CFG, d(300))
    risk = assess_risk(MANDATORY, ms, events, response, birth, d(300), birth_latest=birth_latest)
    return {r.id: r for r in risk if r.id in ("age_over_50", "age_50_or_less_at_asct")}


def test_a_birth_month_decides_the_age_factors_that_every_day_of_it_decides_alike():
    # born in August 1969 (T0 = 2020-01-01): 50 at the first treatment whatever the day - not over 50;
    # on day 200 (2020-07-19) 50 too - 50 or less at the transplant
    got = ages(dt.date(1969, 8, 1), dt.date(1969, 8, 31))
    assert (got["age_over_50"].state, got["age_over_50"].reason) == (State.ABSENT, f"age 50 at {d(0)}")
    assert got["age_50_or_less_at_asct"].state is State.PRESENT
    assert got["age_50_or_less_at_asct"].evidence == ("Procedure/asct",)


def test_a_birth_year_that_straddles_the_line_leaves_the_factor_not_assessed_and_says_why():
    # born in 1969: 50 or 51 on 2020-07-19 - "50 or less at transplant" depends on the day
    got = ages(dt.date(1969, 1, 1), dt.date(1969, 12, 31))
    asct = got["age_50_or_less_at_asct"]
    assert asct.state is State.NOT_ASSESSED and asct.evidence == ("Procedure/asct",)
    assert asct.reason == f"age 50 or 51 at transplant on {d(200)}: the birth date is known only to the year (1969)"
    over = got["age_over_50"]  # 50 or 51 on 2020-01-01: over 50 depends on the day too
    assert (over.state, over.reason) == (
        State.NOT_ASSESSED,
        f"age 50 or 51 at {d(0)}: the birth date is known only to the year (1969)",
    )
    # both ages on one side: judged, with the range shown
    young = ages(dt.date(1970, 1, 1), dt.date(1970, 12, 31))
    assert (young["age_over_50"].state, young["age_over_50"].reason) == (State.ABSENT, f"age 49-50 at {d(0)}")
    assert young["age_50_or_less_at_asct"].state is State.PRESENT
    older = ages(dt.date(1960, 1, 1), dt.date(1960, 12, 31))["age_over_50"]
    assert (older.state, older.reason) == (State.PRESENT, f"age 59-60 at {d(0)}")


def test_a_patient_born_in_a_known_month_is_judged_from_the_files(tmp_path):
    # the whole path: a FHIR partial birthDate reaches the age factors (it was read as no birth date)
    import json

    from poems_fhir.criteria.profiles import MAYO
    from poems_fhir.mapping.rules import load_mapping
    from poems_fhir.pipeline import evaluate_paths
    from tests.conftest import SAMPLES

    bundle = json.loads((SAMPLES / "mimics" / "cidp-igg-kappa-mgus.json").read_text())
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    for partial, state in ((patient["birthDate"][:7], State.PRESENT), ("1960", State.PRESENT), ("2030", None)):
        patient["birthDate"] = partial
        (tmp_path / "b.json").write_text(json.dumps(bundle))
        (r,) = evaluate_paths([tmp_path / "b.json"], load_mapping(), MAYO).results
        age = next(f for f in r.risk if f.id == "age_over_50")
        if state is None:  # born after the evaluation day: no age
            assert age.state is State.NOT_ASSESSED
        else:
            assert age.state is state and age.reason.startswith("age "), (partial, age)


def test_a_transplant_month_read_from_words_counts_every_day_of_it():
    # born 1971-04-15; a transplant "in April 2022" (a partial date): 50 before the 15th, 51 from it
    from poems_fhir.mapping.values import PartialDate

    def at_asct(month: PartialDate):
        events = [LENALIDOMIDE, Event("autologous_hsct", month, "Procedure/asct", "ASCT", status="completed")]
        ms = [m("serum_m_protein", 12, -5, "g/L")]
        response = assess_response(ms, events, MANDATORY, [], CFG, None)
        risk = assess_risk(MANDATORY, ms, events, response, dt.date(1971, 4, 15), None)
        return next(r for r in risk if r.id == "age_50_or_less_at_asct")

    straddles = at_asct(PartialDate(2022, 4, 1, "month"))
    assert straddles.state is State.NOT_ASSESSED
    assert straddles.reason == "age 50 or 51 at transplant in 2022-04: the date is known only to the month (2022-04)"
    before = at_asct(PartialDate(2021, 4, 1, "month"))  # 49 or 50: 50 or less either way
    assert (before.state, before.reason) == (State.PRESENT, "age 49-50 at transplant in 2021-04")


def test_before_the_first_treatment_the_factor_names_it():
    # probe83 D7: "no treatment recorded" while lenalidomide is recorded from a later day
    got = first_line(FIRST_LINE_FAILS[:1], [LENALIDOMIDE], d(-2))
    assert got.state is State.NOT_ASSESSED
    assert got.reason == f"no treatment started by {d(-2)} (the first, lenalidomide, starts {d(0)})"
    assert first_line(FIRST_LINE_FAILS[:1], [], d(-2)).reason == "no treatment recorded"


def both(ms, events, as_of):
    response = assess_response(list(ms), list(events), MANDATORY, [], CFG, as_of)
    response = with_progression_before_treatment(response, list(ms), list(events), MANDATORY, [], CFG)
    risk = {r.id: r for r in assess_risk(MANDATORY, list(ms), list(events), response, dt.date(1960, 1, 1), as_of)}
    return risk["no_hematologic_cr_after_first_line"], risk["no_hematologic_cr_after_asct"]


def asct(day: int, rid: str) -> Event:
    return Event("autologous_hsct", d(day), f"Procedure/{rid}", "ASCT", status="completed")


#: PR at the first transplant's restaging (day 100 + 92), then CR after a second transplant
RESTAGED_PR = [m("serum_m_protein", 12, -5, "g/L"), m("serum_m_protein", 4, 192, "g/L")]
CR_AFTER = [m("serum_m_protein", 0, 360, "g/L"), m("serum_ife", 0, 360), m("urine_ife", 0, 360)]


def test_a_tandem_is_one_first_line_for_both_factors():
    # probe84 D4: a second transplant 167 days after the first, no progression between: a tandem - its CR
    # is the first line's and the transplant's (the first-line factor said so, the transplant factor not)
    first_line_, after = both([*RESTAGED_PR, *CR_AFTER], [LENALIDOMIDE, asct(100, "a1"), asct(267, "a2")], d(370))
    assert (first_line_.state, after.state) == (State.ABSENT, State.ABSENT)


def test_a_transplant_long_after_the_first_is_a_later_line_for_both_factors():
    # probe84 D4: 21 months later, no progression recorded - no tandem: the first line (and the first
    # transplant) ended without CR; the first-line factor was "not restaged yet" from the later transplant
    ms = [*RESTAGED_PR, m("serum_m_protein", 4, 700, "g/L")]
    first_line_, after = both(ms, [LENALIDOMIDE, asct(100, "a1"), asct(740, "a2")], d(760))
    # the later transplant and the newest results before it, the first line's outcome (thirty-eighth session)
    assert first_line_.state is State.PRESENT
    assert first_line_.evidence == ("Observation/serum_m_protein-700", "Procedure/a2")
    assert first_line_.reason == (
        f"no complete response before the transplant on {d(740)}, more than 180 days after the one before: a "
        "later line (now PR)"
    )
    assert after.state is State.PRESENT
    # a CR on the later transplant leaves both present
    late_cr = [m("serum_m_protein", 0, 840, "g/L"), m("serum_ife", 0, 840), m("urine_ife", 0, 840)]
    assert [f.state for f in both([*ms, *late_cr], [LENALIDOMIDE, asct(100, "a1"), asct(740, "a2")], d(850))] == [
        State.PRESENT,
        State.PRESENT,
    ]


def test_a_transplant_known_to_its_month_is_restaged_from_day_90_of_its_last_day():
    # probe84 D5: "April 2022" (a partial date); a sample on July 5 may be day +66 - not the restaging
    from poems_fhir.mapping.values import PartialDate

    april = Event("autologous_hsct", PartialDate(2022, 4, 1, "month"), "Procedure/a", "ASCT", status="completed")
    ms = [
        Measurement("serum_m_protein", 12, "g/L", dt.date(2022, 1, 10), "Observation/m0"),
        Measurement("serum_m_protein", 3, "g/L", dt.date(2022, 7, 5), "Observation/m1"),
    ]
    start = Event("treatment", dt.date(2022, 1, 15), "MedicationRequest/len", "lenalidomide", agent="lenalidomide",
                  end=dt.date(2022, 3, 1))  # fmt: skip
    first_line_, after = both(ms, [start, april], dt.date(2022, 7, 10))
    assert (first_line_.state, after.state) == (State.NOT_ASSESSED, State.NOT_ASSESSED)
    assert "day +90, 2022-07-29" in first_line_.reason and "(2022-07-29)" in after.reason
    later = [*ms, Measurement("serum_m_protein", 3, "g/L", dt.date(2022, 7, 30), "Observation/m2")]
    assert [f.state for f in both(later, [start, april], dt.date(2022, 8, 1))] == [State.PRESENT, State.PRESENT]


def test_a_transplant_month_that_straddles_the_tandem_bound_leaves_both_factors_not_assessed():
    # probe85 D10: the first transplant on day 100, the second known only to its month. October's days are
    # 174-204 days after it: a tandem on its first days, a later line on its last - the day decides, so
    # neither reading may be taken (the first day was); a month wholly within or beyond 180 days decides
    from poems_fhir.mapping.values import PartialDate

    def second_in(month: int):
        second = Event(
            "autologous_hsct", PartialDate(2020, month, 1, "month"), "Procedure/a2", "ASCT", status="completed"
        )
        return both([*RESTAGED_PR, *CR_AFTER], [LENALIDOMIDE, asct(100, "a1"), second], d(370))

    first_line_, after = second_in(10)
    assert (first_line_.state, after.state) == (State.NOT_ASSESSED, State.NOT_ASSESSED)
    for factor in (first_line_, after):
        assert factor.reason.startswith(
            f"the transplant in 2020-10 is within 180 days of the one on {d(100)} on some of its days and not on "
            "others: a tandem cannot be told from a later line - as a tandem, absent ("
        ), factor.reason
        assert "; as a later line, present (no complete response " in factor.reason
    # both readings cited: the later-line transplant, and the results the tandem reading's CR rests on
    assert "Procedure/a2" in first_line_.evidence and "Observation/serum_ife-360" in first_line_.evidence
    assert [f.state for f in second_in(9)] == [State.ABSENT, State.ABSENT]  # days 144-173: a tandem
    assert [f.state for f in second_in(11)] == [State.PRESENT, State.PRESENT]  # days 205-234: a later line


def test_a_straddling_transplant_month_that_changes_nothing_keeps_the_factor_and_says_so():
    # a CR at the first transplant's restaging (day 192) is the first line's either way
    from poems_fhir.mapping.values import PartialDate

    cr = [
        m("serum_m_protein", 12, -5, "g/L"),
        m("serum_m_protein", 0, 192, "g/L"),
        m("serum_ife", 0, 192),
        m("urine_ife", 0, 192),
    ]
    second = Event("autologous_hsct", PartialDate(2020, 10, 1, "month"), "Procedure/a2", "ASCT", status="completed")
    first_line_, _ = both(cr, [LENALIDOMIDE, asct(100, "a1"), second], d(370))
    assert first_line_.state is State.ABSENT
    assert first_line_.reason.endswith(
        f"(the transplant in 2020-10 is within 180 days of the one on {d(100)} on some of its days and not on "
        "others: the same if it is a later line)"
    ), first_line_.reason


def test_a_cr_factor_cites_the_results_and_the_transplant_it_rests_on():
    # "Every conclusion cites its evidence": the "no CR" factors cited nothing when absent (or present from the
    # response): the results the CR rests on and the transplant judged are cited
    first_line_, after = both([*RESTAGED_PR, *CR_AFTER], [LENALIDOMIDE, asct(100, "a1"), asct(267, "a2")], d(370))
    results = {"Observation/serum_ife-360", "Observation/urine_ife-360"}
    assert after.state is State.ABSENT and results <= set(after.evidence)
    assert {"Procedure/a1", "Procedure/a2"} <= set(after.evidence)
    assert first_line_.state is State.ABSENT and results <= set(first_line_.evidence)
    # a CR reached and lost since: the CR day's results, not the relapse's
    relapse = [*CR_AFTER, m("serum_ife", 1, 400), m("serum_m_protein", 5, 400, "g/L")]
    first_line_, after = both([*RESTAGED_PR, *relapse], [LENALIDOMIDE, asct(100, "a1"), asct(267, "a2")], d(410))
    assert after.state is State.ABSENT and "Observation/serum_ife-360" in after.evidence
    assert "Observation/serum_ife-400" not in after.evidence
    # still PR after the transplant: present, citing the response's baseline and latest and the transplant
    first_line_, after = both(
        [*RESTAGED_PR, m("serum_m_protein", 3, 370, "g/L")], [LENALIDOMIDE, asct(100, "a1")], d(380)
    )
    assert after.state is State.PRESENT
    assert {"Observation/serum_m_protein--5", "Observation/serum_m_protein-370", "Procedure/a1"} <= set(after.evidence)


def test_a_first_transplants_outcome_cites_the_results_before_the_next():
    # probe117 D6: judged on the first transplant (the next, 200 days later, is a later line), "no CR" cited a result
    # after the second transplant and not the first one's restaging it rests on
    ms = [*RESTAGED_PR, m("serum_m_protein", 3, 350, "g/L")]
    first_line_, after = both(ms, [LENALIDOMIDE, asct(100, "a1"), asct(300, "a2")], d(360))
    assert after.state is State.PRESENT and "before the next" in after.reason
    assert "Observation/serum_m_protein-192" in after.evidence and "Procedure/a1" in after.evidence
    assert "Observation/serum_m_protein-350" not in after.evidence
    assert first_line_.state is State.PRESENT and "a later line" in first_line_.reason
    assert {"Observation/serum_m_protein-192", "Procedure/a2"} <= set(first_line_.evidence)
    assert "Observation/serum_m_protein-350" not in first_line_.evidence
