"""Interpretation flags read with case and spaces forgiven, every flag heard, unknown codes named (fix141b).

probe140 D2: an interpretation code with spaces around it (" POS ", "L ", " H ") was no flag at all, ignored
without a word; D7: of contradicting flags in one interpretation ([H, L] against [L, H]) the first decided.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.mapping.results import Qual, flags_contradict, interpretation_qual, interpretation_quals, unknown_flags

TERMS = {"positive": Qual.POSITIVE, "negative": Qual.NEGATIVE, "high": Qual.HIGH, "low": Qual.LOW}
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _flagged(*codes: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": V3, "code": c} for c in codes]}
    if text is not None:
        concept["text"] = text
    return {"interpretation": [concept]}


@pytest.mark.parametrize(
    ("code", "qual"),
    [
        (" POS ", Qual.POSITIVE),
        ("POS\t", Qual.POSITIVE),
        (" NEG ", Qual.NEGATIVE),
        ("L ", Qual.LOW),
        (" H ", Qual.HIGH),
    ],
)
def test_a_flag_with_spaces_around_it_is_read(code: str, qual: Qual) -> None:
    assert interpretation_qual(_flagged(code), TERMS)[0] is qual


@pytest.mark.parametrize(("code", "qual"), [("POS", Qual.POSITIVE), ("pos", Qual.POSITIVE), ("HH", Qual.HIGH)])
def test_clean_and_lower_case_flags_still_read(code: str, qual: Qual) -> None:
    assert interpretation_qual(_flagged(code), TERMS)[0] is qual  # control


@pytest.mark.parametrize(("code", "qual"), [("Positive", Qual.POSITIVE), ("HIGH ", Qual.HIGH)])
def test_a_word_sent_as_the_code_is_read_as_its_word(code: str, qual: Qual) -> None:
    assert interpretation_quals(_flagged(code), TERMS) == [(qual, f"interpretation {code.strip().upper()!r}")]


@pytest.mark.parametrize("codes", [("H", "L"), ("L", "H"), ("N", " A"), ("POS", "neg ")])
def test_contradicting_flags_are_found_in_any_order(codes: tuple[str, ...]) -> None:
    assert flags_contradict(_flagged(*codes), TERMS) == ", ".join(c.strip().upper() for c in codes)


def test_contradicting_flags_in_two_concepts_are_found() -> None:
    part = {"interpretation": [_flagged("H")["interpretation"][0], {"text": "Low"}]}
    assert flags_contradict(part, TERMS) == "H, 'Low'"


@pytest.mark.parametrize("codes", [("H",), ("H", "HH"), ("L", "LL"), ("POS", "DET"), ("A", "H"), ()])
def test_agreeing_flags_are_no_contradiction(codes: tuple[str, ...]) -> None:
    assert flags_contradict(_flagged(*codes), TERMS) is None  # control


def test_a_code_that_is_no_flag_is_named() -> None:
    assert unknown_flags(_flagged("XYZ"), TERMS) == ["XYZ"]


@pytest.mark.parametrize("part", [_flagged(" H "), _flagged("IND"), _flagged("XYZ", text="High"), {}])
def test_a_read_flag_or_a_flag_in_words_is_not_named(part: dict[str, Any]) -> None:
    assert unknown_flags(part, TERMS) == []
