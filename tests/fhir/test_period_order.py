"""probe99 D6: a Period read by the mapping must not end before it starts (FHIR R4 per-1)."""

from __future__ import annotations

import pytest

from poems_fhir.fhir.boundary import Invalid, before, validate


@pytest.mark.parametrize(
    ("rtype", "element"),
    [
        ("Observation", "effectivePeriod"),
        ("DiagnosticReport", "effectivePeriod"),
        ("Condition", "onsetPeriod"),
        ("Condition", "abatementPeriod"),
        ("Procedure", "performedPeriod"),
        ("MedicationStatement", "effectivePeriod"),
    ],
)
def test_a_period_ending_before_its_start_is_refused(rtype, element):
    with pytest.raises(Invalid, match=rf"^{rtype}\.{element}\.end '2019-01-01' is before its start '2019-03-01'"):
        validate({"resourceType": rtype, element: {"start": "2019-03-01", "end": "2019-01-01"}})


@pytest.mark.parametrize(
    ("later", "earlier", "expected"),
    [
        ("2024-01-01", "2024-02-01", True),
        ("2023", "2024-05-01", True),
        ("2024-02", "2024-02-15", False),  # may be the same day
        ("2024-05-01", "2024-05-01", False),
        ("2024-01-01T10:00:00Z", "2024-01-01T11:00:00Z", True),
        ("2024-01-01T23:00:00-05:00", "2024-01-02T01:00:00Z", False),  # 04:00Z on the 2nd: after
    ],
)
def test_before_compares_as_precisely_as_both_are_written(later, earlier, expected):
    assert before(later, earlier) is expected
