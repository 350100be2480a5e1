"""probe111 D8: a censored eGFR keeps its comparator in the risk factor's reason and state."""

from __future__ import annotations

import dataclasses

from poems_fhir.criteria.model import State
from tests.criteria.test_risk_pathway import MANDATORY, m, risk_of


def _egfr(value: float, comparator: str | None):
    return dataclasses.replace(m("egfr", value, -40, "mL/min/{1.73_m2}"), comparator=comparator)


def test_a_censored_egfr_below_the_cut_off_keeps_its_comparator():
    factor = risk_of(MANDATORY, [_egfr(15, "<")])["egfr_below_30"]
    assert factor.state is State.PRESENT
    assert factor.reason.startswith("eGFR <15 mL/min/1.73 m² on ")
    assert "{1.73_m2}" not in factor.reason


def test_a_censored_egfr_above_the_cut_off_is_absent_and_says_so():
    factor = risk_of(MANDATORY, [_egfr(60, ">")])["egfr_below_30"]
    assert factor.state is State.ABSENT and factor.reason.startswith("eGFR >60 ")


def test_a_censored_egfr_that_leaves_the_cut_off_open_is_not_assessed():
    assert risk_of(MANDATORY, [_egfr(25, ">")])["egfr_below_30"].state is State.NOT_ASSESSED
    assert risk_of(MANDATORY, [_egfr(60, "<")])["egfr_below_30"].state is State.NOT_ASSESSED


def test_an_uncensored_egfr_is_read_as_before():
    assert risk_of(MANDATORY, [_egfr(29.9, None)])["egfr_below_30"].state is State.PRESENT
    assert risk_of(MANDATORY, [_egfr(30, None)])["egfr_below_30"].state is State.ABSENT
