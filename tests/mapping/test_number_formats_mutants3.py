"""Numbers as labs write them (README "Values without a number": `1 250,5`, `1 250`, `0,8`, `1,250.5`,
`1.250.000`; a single "." is the decimal point; "1,250" is refused as ambiguous), each separator rule
at its edge. Written against the survivors of the 2026-12-02 mutation run in `values.parse_number`."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.values import parse_number, parse_number_text


@pytest.mark.parametrize(
    ("text", "number"),
    [
        # digit groups separated by spaces (also no-break, thin, narrow no-break) or apostrophes
        ("1 250", 1250),
        ("1 250 000", 1_250_000),
        ("12 345 678", 12_345_678),
        ("1 250 000,5", 1_250_000.5),
        ("1\u00a0250\u2009000.25", 1_250_000.25),
        ("1'250'000", 1_250_000),
        ("-1 250", -1250),
        # both separators: the later one is the decimal mark, the earlier ones group thousands
        ("1.250,5", 1250.5),
        ("1.250.000,5", 1_250_000.5),
        ("1,250.5", 1250.5),
        ("1,250,000.75", 1_250_000.75),
        # one kind of separator, more than once: thousands
        ("1,250,000", 1_250_000),
        ("1.250.000", 1_250_000),
        # a single comma that cannot be a thousands separator is a decimal comma
        ("0,8", 0.8),
        ("0,125", 0.125),
        ("-0,125", -0.125),  # three decimals after a zero cannot be thousands, whatever the sign
        ("+0,125", 0.125),
        (",125", 0.125),
        ("12,5", 12.5),
        ("12,50", 12.5),
        ("1250,75", 1250.75),
        # a trailing separator (end of a sentence, "250.") is punctuation; a leading "." is a decimal point
        ("250.", 250),
        ("250,", 250),
        ("1,250.5,", 1250.5),
        ("1 250,5.", 1250.5),
        (".5", 0.5),
        ("12.5", 12.5),
    ],
)
def test_numbers_in_the_formats_labs_write(text, number):
    assert parse_number(text) == number


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("1,250", "ambiguous"),  # thousands or a decimal comma: never guessed
        ("-1,250", "ambiguous"),
        ("1 25 000 000", "digit groups are not thousands"),  # a middle group of two digits
        ("1 250 00 000", "digit groups are not thousands"),
        ("1 250 5", "digit groups are not thousands"),  # the last group is not three digits
        ("1 250 50,5", "digit groups are not thousands"),
        ("1250 000", "digit groups are not thousands"),  # the first group is more than three digits
        ("12 5", "digit groups are not thousands"),
        ("1,000.000,5", "mixed separators"),  # thousands marks of both kinds
        ("1.250,000,5", "mixed separators"),  # the decimal mark twice
        ("1.250,000.5", "mixed separators"),
        ("1,25,000", "not a number"),  # Indian grouping is not read
        ("1.2.3", "not a number"),
    ],
)
def test_numbers_that_are_not_unambiguous_are_refused_with_the_reason(text, why):
    with pytest.raises(ValueError, match=why) as caught:
        parse_number(text)
    assert repr(text) in str(caught.value)  # the message quotes what was read


def test_text_after_the_digits_is_not_a_number():
    for bad in ("12X", "5 mg", "1 250X"):
        with pytest.raises(ValueError):
            parse_number(bad)


def test_comparator_strings_keep_the_number_format_rules():
    assert parse_number_text("< 1 250,5 pg/mL") == parse_number_text("<1250.5 pg/mL")
    found = parse_number_text("более 1.250,5 пг/мл")
    assert found is not None and (found.number, found.comparator, found.unit) == (1250.5, ">", "пг/мл")
    with pytest.raises(ValueError, match="ambiguous"):
        parse_number_text("> 1,250 pg/mL")


@pytest.mark.parametrize(
    ("text", "number", "unit"),
    [("2.3e3 pg/mL", 2300.0, "pg/mL"), ("2,3E+03", 2300.0, None), ("1e3", 1000.0, None), ("4.5E-2 g/L", 0.045, "g/L")],
)
def test_a_number_in_scientific_notation_is_read_whole(text, number, unit):
    """probe79 D10: "2.3e3 pg/mL" was split inside the exponent - "'e3pg/mL' is not a valid UCUM unit",
    advice to add a unit alias for a unit that does not exist."""
    from poems_fhir.mapping.values import parse_number_text

    parsed = parse_number_text(text)
    assert parsed is not None and parsed.number == pytest.approx(number) and parsed.unit == unit
