"""The interpretation codes of a result with case and spaces forgiven (fix141b, probe140 D2: "L ", " H " were
no flag, so a VEGF of 624 pg/mL flagged "L " was present and platelets of 430 flagged " H " normal)."""

from __future__ import annotations

from poems_fhir.mapping.values import ABNORMAL_HIGH, ABNORMAL_LOW, POSITIVE, interpretation_codes


def _flagged(*codes: str) -> dict[str, object]:
    return {"interpretation": [{"coding": [{"code": c} for c in codes]}]}


def test_codes_are_read_without_spaces_in_upper_case() -> None:
    assert interpretation_codes(_flagged(" H ", "l\t", " pos")) == {"H", "L", "POS"}
    assert interpretation_codes(_flagged(" H ")) & ABNORMAL_HIGH
    assert interpretation_codes(_flagged("L ")) & ABNORMAL_LOW
    assert interpretation_codes(_flagged(" POS ")) & POSITIVE


def test_a_blank_code_is_no_code() -> None:
    assert interpretation_codes(_flagged(" ", "")) == set()
