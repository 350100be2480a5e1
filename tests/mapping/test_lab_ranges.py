"""The lab's own reference range (FHIR Observation.referenceRange: low/high Quantities or a text),
read as the README table of accepted forms describes (`referenceRange` row): bounds and text ranges in the value's own unit,
en dash, "..", decimal commas and thousands spaces, one-sided "<5", ">=10", "до 5"; a range for another
population (appliesTo) is skipped; an unreadable range is skipped, never an error. For a value without
a unit only a range without units can be used: its unit cannot be compared."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.mapping.values import Range, RangesDisagreeError, reference_range, unitless_range


def obs(*ranges: Any, value: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Observation", "referenceRange": list(ranges)}
    if value is not None:
        out["valueQuantity"] = value
    return out


# ------------------------------------------------------------------ unitless_range


@pytest.mark.parametrize(
    ("rr", "expected"),
    [
        ({"low": {"value": 150}, "high": {"value": 450}}, Range(150.0, 450.0)),
        ({"low": {"value": 1.5}}, Range(1.5, None)),
        ({"high": {"value": 5}}, Range(None, 5.0)),
        ({"text": "150-450"}, Range(150.0, 450.0)),
        ({"text": " 150 – 450 "}, Range(150.0, 450.0)),
        ({"text": "150—450"}, Range(150.0, 450.0)),
        ({"text": "150..450"}, Range(150.0, 450.0)),
        ({"text": "4,5-6,5"}, Range(4.5, 6.5)),
        ({"text": "1 000 - 2 000"}, Range(1000.0, 2000.0)),
        ({"text": "<5"}, Range(None, 5.0)),
        ({"text": "<=5"}, Range(None, 5.0)),
        ({"text": "до 5"}, Range(None, 5.0)),
        ({"text": ">10"}, Range(10.0, None)),
        ({"text": ">=10"}, Range(10.0, None)),
    ],
)
def test_unitless_range_reads_bounds_and_texts_without_units(rr, expected):
    assert unitless_range(obs(rr)) == expected


@pytest.mark.parametrize(
    "rr",
    [
        {"low": {"value": 150, "unit": "10*9/L"}, "high": {"value": 450, "unit": "10*9/L"}},
        {"high": {"value": 5, "code": "mg/L"}},  # a code is a unit too
        {"low": {"value": 1}, "high": {"value": 5, "unit": "mg/L"}},  # one bound with a unit spoils both
        {"high": {"value": True}},  # JSON true is not a number
        {"high": {"value": "5"}},  # a string is not a FHIR decimal
        {"high": 5},  # not a Quantity
        {"text": "<5 mg/L"},
        {"text": ">10 g/L"},
        {"text": "5"},  # a single number is no range
        {"text": "normal"},
        {"text": "1.2.3-4"},  # unreadable: skipped, not an error
        {},
        {"appliesTo": [{"text": "women"}], "low": {"value": 1}, "high": {"value": 2}},
    ],
)
def test_unitless_range_refuses_ranges_with_units_and_unreadable_ones(rr):
    assert unitless_range(obs(rr)) is None


NORMAL = {
    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/referencerange-meaning", "code": "normal"}]}
}


def test_unitless_range_takes_the_first_usable_range():
    women = {"appliesTo": [{"text": "women"}], "low": {"value": 1}, "high": {"value": 2}}
    with_unit = {"low": {"value": 3, "unit": "mg/L"}, "high": {"value": 4, "unit": "mg/L"}}
    assert unitless_range(obs("junk", women, with_unit, {"text": "1.2.3-4"}, {"text": "5-9"})) == Range(5.0, 9.0)
    # the first usable of its rank: a range typed "normal" before an untyped one that disagrees
    assert unitless_range(obs({"text": "<3", **NORMAL}, {"text": "5-9"})) == Range(None, 3.0)
    assert unitless_range(obs({"text": "5-9"}, {"high": {"value": 3}, **NORMAL})) == Range(None, 3.0)
    # of one rank, limits that agree merge (one range may give only the high)
    assert unitless_range(obs({"high": {"value": 9}}, {"text": "5-9"})) == Range(5.0, 9.0)
    # bounds with units, but a usable text in the same range
    assert unitless_range(obs({**with_unit, "text": "3-4"})) == Range(3.0, 4.0)
    assert unitless_range(obs({"text": "5 mg/L"}, {"text": ">7"})) == Range(7.0, None)


@pytest.mark.parametrize(
    "ranges",
    [
        ({"text": "<3"}, {"text": "5-9"}),
        ({"high": {"value": 3}}, {"text": "5-9"}),
        ({"low": {"value": 1}, "high": {"value": 5}}, {"low": {"value": 2}, "high": {"value": 5}}),
        ({"text": "5-9", **NORMAL}, {"text": "5-10", **NORMAL}),
    ],
)
def test_ranges_of_one_rank_that_disagree_are_neither_used(ranges):
    """probe79: two ranges that apply equally and give different limits - the order a lab lists them in
    decides nothing, so neither is used (the caller says so and falls back)."""
    with pytest.raises(RangesDisagreeError, match="apply equally and disagree"):
        unitless_range(obs(*ranges))


@pytest.mark.parametrize("ranges", [None, {"low": {"value": 1}}, "1-5", []])
def test_unitless_range_without_a_list_is_none(ranges):
    assert unitless_range({"resourceType": "Observation", "referenceRange": ranges}) is None
    assert unitless_range({"resourceType": "Observation"}) is None


# ------------------------------------------------------------------ text ranges with units (reference_range)

G_DL = {"value": 4.1, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.5-5.0 g/dL", Range(35.0, 50.0)),  # converted like the value
        ("3,5 – 5,0 g/dL", Range(35.0, 50.0)),
        ("35..50 g/L", Range(35.0, 50.0)),  # its own unit wins over the value's
        ("3.5-5.0", Range(35.0, 50.0)),  # no unit: the value's own unit (g/dL)
        ("<5.0 g/dL", Range(None, 50.0)),
        ("<= 5.0", Range(None, 50.0)),
        ("до 5", Range(None, 50.0)),
        (">3.5 g/dL", Range(35.0, None)),
        (">=35 g/L", Range(35.0, None)),
    ],
)
def test_text_range_is_read_in_its_unit_or_the_values_and_converted(text, expected):
    got = reference_range(obs({"text": text}, value=G_DL), "g/L", {}, None)
    assert got is not None and expected.low == pytest.approx(got.low) and expected.high == pytest.approx(got.high)
    assert (got.low is None, got.high is None) == (expected.low is None, expected.high is None)


@pytest.mark.parametrize(
    "text",
    [
        "3.5 g/dL",  # one number: no range
        "3.5-5.0 furlongs",  # a unit neither UCUM nor in the table
        "<5 furlongs",
        "1.2.3-4 g/dL",
        "normal",
    ],
)
def test_unreadable_text_range_is_skipped_not_an_error(text):
    assert reference_range(obs({"text": text}, value=G_DL), "g/L", {}, None) is None
    # and the next range is still used
    nxt = {"low": {"value": 3.5, "unit": "g/dL"}, "high": {"value": 5, "unit": "g/dL"}}
    got = reference_range(obs({"text": text}, nxt, value=G_DL), "g/L", {}, None)
    assert got is not None and (got.low, got.high) == pytest.approx((35.0, 50.0))


def test_text_range_without_any_unit_is_not_guessed():
    unitless_value = {"value": 4.1}
    assert reference_range(obs({"text": "3.5-5.0"}, value=unitless_value), "g/L", {}, None) is None
    assert reference_range(obs({"text": "<5"}, value=unitless_value), "g/L", {}, None) is None
    # the table of the mapping files names a local unit
    got = reference_range(obs({"text": "3.5-5.0 gr/dl"}, value=unitless_value), "g/L", {"gr/dl": "g/dL"}, None)
    assert got is not None and (got.low, got.high) == pytest.approx((35.0, 50.0))


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("300-1000 ng/dL", 300 * 10 / 288.42, 1000 * 10 / 288.42),  # ng/dL -> nmol/L needs the molar mass
        ("<1000 ng/dL", None, 1000 * 10 / 288.42),
        (">300", 300 * 10 / 288.42, None),  # the value's own unit (ng/dL)
    ],
)
def test_text_range_in_mass_units_is_converted_with_the_molar_mass(text, low, high):
    # testosterone 288.42 g/mol (the mapping's molar_mass): 1 ng/dL = 10 ng/L = 10/288.42 nmol/L
    value = {"value": 450, "unit": "ng/dL", "system": "http://unitsofmeasure.org", "code": "ng/dL"}
    got = reference_range(obs({"text": text}, value=value), "nmol/L", {}, 288.42)
    assert got is not None
    assert (got.low, got.high) == (pytest.approx(low) if low else None, pytest.approx(high) if high else None)


@pytest.mark.parametrize(
    ("value", "extra", "abnormal"),
    [
        (0.07, {"referenceRange": [{"low": {"value": 0.26}, "high": {"value": 1.65}}]}, True),
        (0.6, {"referenceRange": [{"low": {"value": 0.26}, "high": {"value": 1.65}}]}, False),
        (
            0.6,
            {
                "interpretation": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                                "code": "N",
                            }
                        ]
                    }
                ]
            },
            False,
        ),
        (0.6, {}, None),
    ],
)
def test_the_flc_ratio_keeps_what_its_lab_said_of_it(mapping, value, extra, abnormal):
    # criteria.md §8.1(a): a complete response needs a *normal* FLC ratio; normal is the lab's range
    from poems_fhir.mapping.extract import extract
    from tests.conftest import make_record, observation

    obs = observation(
        "48378-4",
        valueQuantity={"value": value, "unit": "{ratio}", "system": "http://unitsofmeasure.org", "code": "{ratio}"},
        **extra,
    )
    (measurement,) = [x for x in extract(make_record(obs), mapping).measurements if x.analyte == "flc_ratio"]
    assert measurement.abnormal is abnormal


@pytest.mark.parametrize(
    ("ranges", "value", "expected"),
    [
        # probe88 D15: VEGF 150 above both upper limits (96.2, 115) is above the lab's limit either way
        (({"high": {"value": 96.2}}, {"high": {"value": 115}}), 150, Range(None, 115.0)),
        (({"high": {"value": 96.2}}, {"high": {"value": 115}}), 50, Range(None, 96.2)),
        # probe88 D18: platelets 420 with 150-400 and 140-400 - the lows differ, the value is above both
        (({"text": "150-400"}, {"text": "140-400"}), 420, Range(150.0, 400.0)),
        (({"text": "150-400"}, {"text": "140-400"}), 100, Range(140.0, 400.0)),
    ],
)
def test_a_value_on_one_side_of_every_differing_limit_is_judged_alike_by_each(ranges, value, expected):
    from poems_fhir.mapping.values import Value

    assert unitless_range(obs(*ranges), value=Value(value, None)) == expected


@pytest.mark.parametrize(
    ("value", "comparator", "high"),
    [(100, None, None), (115, None, None), (90, None, 120), (100, ">", None), (200, "<", None)],
)
def test_a_value_between_differing_limits_leaves_neither_used(value, comparator, high):
    # 100 lies between 96.2 and 115; a Range result 90-120 or a censored ">100" / "<200" may too
    from poems_fhir.mapping.values import Value

    with pytest.raises(RangesDisagreeError):
        unitless_range(
            obs({"high": {"value": 96.2}}, {"high": {"value": 115}}), value=Value(value, None, comparator, high=high)
        )
