"""Patient.gender read as its administrative-gender code with case and spaces forgiven (fix141b, probe140 D6:
"FEMALE", " female", "Male" were no sex, and a haemoglobin beyond the female cut-off only stayed undecided)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.fhir.read import PatientRecord, ResourceIndex


def _record(gender: Any) -> PatientRecord:
    return PatientRecord("Patient/p1", [], ResourceIndex(), {"resourceType": "Patient", "id": "p1", "gender": gender})


@pytest.mark.parametrize(
    ("sent", "code"), [("FEMALE", "female"), ("Female", "female"), (" female", "female"), ("Male", "male")]
)
def test_a_gender_in_another_case_or_with_spaces_is_read(sent: str, code: str) -> None:
    assert _record(sent).gender == code


@pytest.mark.parametrize("sent", ["female", "male", "other", "unknown"])
def test_a_gender_code_is_read_as_sent(sent: str) -> None:
    assert _record(sent).gender == sent  # control


@pytest.mark.parametrize("sent", ["F", "", "woman", 1])
def test_a_gender_that_is_no_code_is_not_read_but_kept_as_sent(sent: Any) -> None:
    record = _record(sent)
    assert record.gender is None and record.gender_sent == sent
