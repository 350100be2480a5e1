"""A response row shows a converted value as the lab sent it, the converted one beside it, as the criteria table
does (probe108 D11: "12 g/L on Jan 10, 2024 → 6 g/L" for a lab reporting 1.2 g/dL → 0.6 g/dL)."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.response import Point
from poems_fhir.criteria.timeline import Measurement
from poems_fhir.i18n import translator
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.report.wording import change_text
from tests.conftest import make_record, observation


def _point(value: float, day: int, sent: str | None = None, comparator: str | None = None) -> Point:
    return Point(value, "g/L", dt.date(2024, 1, day), f"Observation/m{day}", comparator, sent=sent)


def test_both_values_as_the_lab_sent_them():
    t = translator("en")
    said = change_text(t, _point(12, 10, "1.2 g/dL"), _point(6, 20, "0.6 g/dL"))
    assert said == "1.2 g/dL (= 12 g/L) on Jan 10, 2024 → 0.6 g/dL (= 6 g/L) on Jan 20, 2024"


def test_a_value_sent_in_the_canonical_unit_is_shown_once():
    t = translator("en")
    assert change_text(t, _point(12, 10), _point(6, 20)) == "12 g/L on Jan 10, 2024 → 6 g/L on Jan 20, 2024"


def test_a_censored_sent_value_keeps_its_comparator():
    t = translator("en")
    said = change_text(t, _point(12, 10, "1.2 g/dL"), _point(1, 20, "0.1 g/dL", comparator="<"))
    assert said.endswith("→ <0.1 g/dL (= <1 g/L) on Jan 20, 2024")


def test_the_mapping_keeps_the_value_as_sent_on_the_measurement():
    from poems_fhir.mapping.extract import extract

    record = make_record(
        observation(
            "33358-3",
            "mp",
            valueQuantity={"value": 1.2, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"},
            effectiveDateTime="2024-01-10",
        )
    )
    found = [m for m in extract(record, load_mapping()).measurements if isinstance(m, Measurement)]
    assert [(m.value, m.unit, m.sent) for m in found] == [(12.0, "g/L", "1.2 g/dL")]
