"""A date-time counts by its own calendar date, in the time zone it was written in (README, `--as-of`):
a VEGF drawn at 01:30 on 1 February in Almaty (+06:00) is 1 February, though it is 31 January in UTC -
the day the clinician and the lab see (probe102 A4 asked for this to be said and pinned)."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import PROFILES
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

VEGF = "vegf_elevation"


def vegf(when: str):
    return observation(
        "75628-8",
        "v",
        effectiveDateTime=when,
        valueQuantity={"value": 1500, "unit": "pg/mL", "system": "http://unitsofmeasure.org", "code": "pg/mL"},
    )


@pytest.mark.parametrize(
    ("when", "day"),
    [
        ("2024-02-01T01:30:00+06:00", dt.date(2024, 2, 1)),  # 2024-01-31T19:30Z
        ("2024-01-31T22:30:00-05:00", dt.date(2024, 1, 31)),  # 2024-02-01T03:30Z
        ("2024-02-01T00:00:00Z", dt.date(2024, 2, 1)),
    ],
)
def test_the_day_is_the_one_written(mapping, when, day):
    [f] = [f for f in extract(make_record(vegf(when)), mapping).findings if f.topic == VEGF]
    assert f.evidence.effective == day


def test_as_of_the_day_before_leaves_it_out(mapping):
    findings = extract(make_record(vegf("2024-02-01T01:30:00+06:00")), mapping).findings
    profile = PROFILES["mayo"]
    before = evaluate("Patient/p1", findings, profile, as_of=dt.date(2024, 1, 31)).criteria[VEGF]
    on_the_day = evaluate("Patient/p1", findings, profile, as_of=dt.date(2024, 2, 1)).criteria[VEGF]
    assert before.state is State.NOT_ASSESSED and on_the_day.state is State.PRESENT
