"""The work-up of one part of MIN-6 (probe98 D9): with a normal platelet count on record and no haemoglobin or
haematocrit, the plan asked for a "Complete blood count with platelets" (citing the count already done);
criteria.md §6 MIN-6 is thrombocytosis *or* polycythaemia, and only the polycythaemia side is unassessed."""

from __future__ import annotations

import dataclasses

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.i18n import translator
from poems_fhir.report.wording import step_title
from tests.criteria.test_pathway_mutants2 import f
from tests.criteria.test_pathway_mutants4 import PATIENT, plan

MIN6 = "thrombocytosis_polycythemia"


def _part(component: str, state: State = State.ABSENT):
    return dataclasses.replace(f(MIN6, rule=component, component=component), state=state)


def test_a_platelet_count_on_record_asks_for_the_haemoglobin_and_haematocrit_only():
    got = plan([*PATIENT, _part("thrombocytosis")])
    assert f"workup-{MIN6}" not in got
    s = got[f"workup-{MIN6}-polycythemia"]
    title = "Haemoglobin and haematocrit (polycythaemia)"
    assert (s.coding[1], s.title, s.status) == ("718-7", title, "not-started")
    assert step_title(translator("en"), s) == title
    assert step_title(translator("ru"), s) == "Гемоглобин и гематокрит (полицитемия)"


@pytest.mark.parametrize("measured", [(), ("polycythemia",)])
def test_without_a_platelet_count_the_blood_count_with_platelets_is_asked_for(measured):
    # seed_case.md (Hb 90 g/L, no platelet count): "CBC with platelets"
    got = plan([*PATIENT, *(_part(c) for c in measured)])
    assert got[f"workup-{MIN6}"].title == "Complete blood count with platelets"


def test_a_side_read_only_as_indeterminate_is_not_measured():
    got = plan([*PATIENT, _part("thrombocytosis", State.INDETERMINATE)])
    assert f"workup-{MIN6}" in got


def test_the_missing_facts_name_the_same_test_as_the_plan():
    """probe100 D9: the plan asked for the haemoglobin and haematocrit, the JSON's missing facts for a complete
    blood count with platelets."""
    from poems_fhir.criteria.engine import evaluate
    from poems_fhir.criteria.profiles import MAYO

    major = [f("polyneuropathy"), *PATIENT[1:2], f("vegf_elevation")]  # the minor criteria decide
    [item] = [m for m in evaluate("Patient/1", [*major, _part("thrombocytosis")], MAYO).missing if m.criterion == MIN6]
    assert item.suggestion == "haemoglobin and haematocrit (polycythaemia)"
    [item] = [m for m in evaluate("Patient/1", major, MAYO).missing if m.criterion == MIN6]
    assert item.suggestion == "complete blood count with platelets"
