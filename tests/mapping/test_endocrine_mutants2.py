"""Hormone results (MIN-3 endocrinopathy, criteria.md §5): one finding per result, for its axis —
abnormal = outside the lab's reference range or flagged abnormal; no range and no flag = the value
cannot be judged (indeterminate, never absent: §3.3 "never convert NOT_ASSESSED to ABSENT").
A result without a usable number is judged by its flag or against the lab's own unitless range."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import EndocrineAxis, State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record, observation, not_read

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
TOPIC = "endocrinopathy"


def q(value: float, unit: str = "nmol/L") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def obs(code: str = "2986-8", **kw: Any) -> dict[str, Any]:
    return observation(code, "h1", **kw)


def flag(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": V3, "code": code}]}]


@pytest.fixture(scope="module")
def mapping(tmp_path_factory):
    # these tests judge a result on either side of its range, as every axis but the adrenal (low
    # cortisol) and the male gonadal (low testosterone) does: testosterone with `abnormal: either`
    # stands for them (tests/mapping/test_endocrine_sides.py tests the one-sided rules)
    site = tmp_path_factory.mktemp("site") / "site.yaml"
    site.write_text(
        "format: poems-fhir-mapping/1\nname: site\nversion: '1'\n"
        "observations:\n  - {id: testosterone, abnormal: either}\n",
        encoding="utf-8",
    )
    return load_mapping([site])


def one(mapping, resource: dict[str, Any]):
    ex = extract(make_record(resource), mapping)
    assert ex.errors == []
    [f] = ex.findings
    assert f.topic == TOPIC and f.source_rule is not None
    return ex, f


@pytest.mark.parametrize(
    ("value", "kw", "state"),
    [
        (5, {"referenceRange": [{"low": q(8.6), "high": q(29)}]}, State.PRESENT),  # below the range
        (30, {"referenceRange": [{"low": q(8.6), "high": q(29)}]}, State.PRESENT),  # above it
        (8.6, {"referenceRange": [{"low": q(8.6), "high": q(29)}]}, State.ABSENT),  # on the limits: inside
        (29, {"referenceRange": [{"low": q(8.6), "high": q(29)}]}, State.ABSENT),
        (5, {"referenceRange": [{"high": q(29)}]}, State.ABSENT),  # only an upper limit
        (30, {"referenceRange": [{"high": q(29)}]}, State.PRESENT),
        (30, {"referenceRange": [{"low": q(8.6)}]}, State.ABSENT),  # only a lower limit
        (5, {"referenceRange": [{"low": q(8.6)}]}, State.PRESENT),
        (10, {"interpretation": flag("A")}, State.PRESENT),
        (10, {"interpretation": flag("L")}, State.PRESENT),
        (10, {"interpretation": flag("H")}, State.PRESENT),
        (10, {"interpretation": flag("N")}, State.ABSENT),
        # the lab's flag wins over its range; the range wins over a "normal" flag
        (10, {"interpretation": flag("L"), "referenceRange": [{"low": q(8.6), "high": q(29)}]}, State.PRESENT),
        (5, {"interpretation": flag("N"), "referenceRange": [{"low": q(8.6), "high": q(29)}]}, State.PRESENT),
    ],
)
def test_a_hormone_value_is_judged_by_the_labs_range_or_flag(mapping, value, kw, state):
    ex, f = one(mapping, obs(valueQuantity=q(value), **kw))
    word = "abnormal" if state is State.PRESENT else "normal"
    assert (f.state, f.axis, f.note) == (state, EndocrineAxis.GONADAL, None)
    assert f.evidence.summary == f"testosterone {value:g} nmol/L (gonadal axis) {word}"
    assert (f.evidence.value, f.evidence.unit, f.evidence.reference) == (value, "nmol/L", "Observation/h1")
    [m] = ex.measurements
    assert (m.analyte, m.value, m.unit) == ("testosterone", value, "nmol/L")


def test_no_range_and_no_flag_is_indeterminate_with_why(mapping):
    ex, f = one(mapping, obs(valueQuantity=q(10)))
    assert (f.state, f.axis) == (State.INDETERMINATE, EndocrineAxis.GONADAL)
    assert f.evidence.summary == "testosterone 10 nmol/L (gonadal axis)" and f.evidence.value == 10
    assert f.note == "testosterone: no reference range or interpretation to judge the value"
    assert [m.analyte for m in ex.measurements] == ["testosterone"]


@pytest.mark.parametrize(
    ("code", "name", "axis"), [("2842-3", "prolactin", "pituitary"), ("2731-8", "pth", "parathyroid")]
)
def test_the_axis_is_the_rules(mapping, code, name, axis):
    _, f = one(mapping, obs(code, valueQuantity=q(30, "pg/mL"), referenceRange=[{"high": q(20, "pg/mL")}]))
    assert f.axis is EndocrineAxis(axis) and f.state is State.PRESENT
    assert f.evidence.summary == f"{name} 30 pg/mL ({axis} axis) abnormal"


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("low", State.PRESENT),
        ("High", State.PRESENT),
        ("abnormal", State.PRESENT),
        ("positive", State.PRESENT),
        ("normal", State.ABSENT),
        ("negative", State.ABSENT),
        ("в норме", State.ABSENT),
    ],
)
def test_a_qualitative_hormone_result(mapping, value, state):
    ex, f = one(mapping, obs(valueString=value))
    word = "abnormal" if state is State.PRESENT else "normal"
    assert (f.state, f.axis, f.evidence.value) == (state, EndocrineAxis.GONADAL, None)
    assert f.evidence.summary == f"testosterone valueString {value!r}, no number (gonadal axis) {word}"
    assert ex.measurements == []
    assert [(n.kind, n.rule, n.detail) for n in ex.notes] == [
        ("qualitative", "testosterone", f"testosterone: valueString {value!r}")
    ]


@pytest.mark.parametrize(
    ("kw", "state", "how"),
    [
        (
            {"referenceRange": [{"low": {"value": 8}}]},
            State.PRESENT,
            "5 without a unit, judged against the lab's own range >=8 only",
        ),
        (
            {"referenceRange": [{"high": {"value": 4}}]},
            State.PRESENT,
            "5 without a unit, judged against the lab's own range <=4 only",
        ),
        (
            {"referenceRange": [{"low": {"value": 5}, "high": {"value": 9}}]},
            State.ABSENT,
            "5 without a unit, judged against the lab's own range 5-9 only",
        ),
        ({"interpretation": flag("L")}, State.PRESENT, "5 without a unit, judged by its interpretation L only"),
        ({"interpretation": flag("N")}, State.ABSENT, "5 without a unit, judged by its interpretation N only"),
    ],
)
def test_a_number_without_a_unit_is_judged_against_its_own_range(mapping, kw, state, how):
    ex, f = one(mapping, obs(valueInteger=5, **kw))
    word = "abnormal" if state is State.PRESENT else "normal"
    assert (f.state, f.axis, f.evidence.value) == (state, EndocrineAxis.GONADAL, None)
    assert f.evidence.summary == f"testosterone {how} (gonadal axis) {word}"
    assert ex.measurements == []
    assert [(n.kind, n.detail) for n in ex.notes] == [("unitless", f"testosterone: {how}")]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"valueString": "pending"}, "value: expected a Quantity for testosterone, found valueString"),
        ({"valueInteger": 5}, "valueInteger 5 has no unit (expected nmol/L); not guessed"),
    ],
)
def test_nothing_to_judge_is_an_error_not_a_finding(mapping, kw, message):
    ex = extract(make_record(obs(**kw)), mapping)
    assert not_read(ex.findings) and ex.measurements == []
    [err] = ex.errors
    assert message in str(err)


@pytest.mark.parametrize(
    ("kw", "summary"),
    [
        (
            {"valueQuantity": q(30, "pmol/L"), "referenceRange": [{"high": q(22, "pmol/L")}]},
            "free t4 30 pmol/L (thyroid axis) abnormal",
        ),
        ({"valueString": "High"}, "free t4 valueString 'High', no number (thyroid axis) abnormal"),
    ],
)
def test_the_evidence_names_the_test_in_words(mapping, kw, summary):
    _, f = one(mapping, obs("3024-7", **kw))
    assert (f.state, f.axis, f.evidence.summary) == (State.PRESENT, EndocrineAxis.THYROID, summary)


@pytest.mark.parametrize(
    ("extra", "above"),
    [
        ({"referenceRange": [{"high": q(15, "ng/mL")}]}, True),  # 48 > 15
        ({"referenceRange": [{"low": q(2, "ng/mL"), "high": q(48, "ng/mL")}]}, False),  # at the limit: not above
        ({"interpretation": flag("H")}, True),
        ({"interpretation": flag("HH"), "referenceRange": [{"high": q(60, "ng/mL")}]}, True),  # the flag decides
        ({"interpretation": flag("N"), "referenceRange": [{"high": q(15, "ng/mL")}]}, False),
        ({"interpretation": flag("L")}, False),
        ({"referenceRange": [{"low": q(2, "ng/mL")}]}, None),  # no upper limit, no flag
        ({}, None),
    ],
)
def test_an_endocrine_result_records_whether_it_is_above_its_labs_upper_limit(mapping, extra, above):
    # what the venous-thrombosis factor "hyperprolactinaemia" reads (criteria.md §9): high, not low
    ex = extract(make_record(obs("2842-3", valueQuantity=q(48, "ng/mL"), **extra)), mapping)
    [m] = [m for m in ex.measurements if m.analyte == "prolactin"]
    assert (m.value, m.unit, m.above) == (48.0, "ng/mL", above)
