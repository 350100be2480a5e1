"""Threshold results (MIN-6 platelets / hemoglobin / hematocrit, cytopenia flags, vitamin B12, sPAP):
which limit decides, per sex, and the finding a clinician sees.

criteria.md §4: thrombocytosis = platelets > local ULN, default 450 x10^9/L only without one;
polycythemia = Hb/Hct > the sex-specific local ULN (defaults Hb 165 g/L men / 160 g/L women);
anemia and thrombocytopenia are flagged (mappings/default.yaml: lab range preferred, WHO defaults
130/120 g/L, platelets 150). Pulmonary hypertension = echo sPAP >= 50 mmHg, the cut-off and not the
lab's range (prefer_reference_range: false). Sex unknown: every sex-specific cut-off must agree.
A result without a usable number is judged by its flag or against the lab's own unitless range."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record, not_read

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"
LOCAL = "https://poems-fhir.org/CodeSystem/local"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
MIN6 = "thrombocytosis_polycythemia"
CODE = {
    "platelets": "777-3",
    "hemoglobin": "718-7",
    "hematocrit": "4544-3",
    "vitamin_b12": "2132-9",
    "pasp": "pasp-echo",
}
UNIT = {"platelets": "10*9/L", "hemoglobin": "g/L", "hematocrit": "%", "vitamin_b12": "pmol/L", "pasp": "mm[Hg]"}


def q(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def obs(
    test: str,
    value: float | None = None,
    *,
    high: float | None = None,
    low: float | None = None,
    flag: str | None = None,
    **kw: Any,
) -> dict[str, Any]:
    unit = UNIT[test]
    o: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "t1",
        "status": "final",
        "code": {"coding": [{"system": LOCAL if test == "pasp" else LOINC, "code": CODE[test]}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
    }
    if value is not None:
        o["valueQuantity"] = q(value, unit)
    rr: dict[str, Any] = {}
    if high is not None:
        rr["high"] = q(high, unit)
    if low is not None:
        rr["low"] = q(low, unit)
    if rr:
        o["referenceRange"] = [rr]
    if flag:
        o["interpretation"] = [{"coding": [{"system": V3, "code": flag}]}]
    o.update(kw)
    return o


def run(mapping, resource: dict[str, Any], gender: str | None = "male"):
    ex = extract(make_record(resource, gender=gender), mapping)
    assert ex.errors == []
    return ex, {f.topic: f for f in ex.findings}


def summary(found, topic):
    f = found[topic]
    return f.state, f.evidence.summary


# --------------------------------------------------------------- platelets


@pytest.mark.parametrize(
    ("value", "state", "text"),
    [(450, State.ABSENT, "platelets 450 10*9/L"), (451, State.PRESENT, "platelets 451 10*9/L (high)")],
)
def test_platelets_default_cut_off_without_a_lab_range(mapping, value, state, text):
    ex, found = run(mapping, obs("platelets", value))
    f = found[MIN6]
    assert (f.state, f.evidence.summary, f.component) == (state, text, "thrombocytosis")
    assert (f.evidence.value, f.evidence.unit, f.evidence.reference) == (value, "10*9/L", "Observation/t1")
    assert f.source_rule == "platelets" and "thrombocytopenia" not in found
    [m] = ex.measurements
    assert (m.analyte, m.value, m.unit) == ("platelets", value, "10*9/L")


@pytest.mark.parametrize(
    ("value", "high", "flag", "state"),
    [
        (420, 400, None, State.PRESENT),  # above the lab's ULN although below the default 450
        (400, 400, None, State.ABSENT),  # equal to the ULN
        (500, 600, None, State.ABSENT),  # the lab's ULN over the default
        (380, 400, "H", State.PRESENT),  # the lab's own flag
        (380, None, "HH", State.PRESENT),
    ],
)
def test_platelets_the_labs_upper_limit_or_flag_decides(mapping, value, high, flag, state):
    _, found = run(mapping, obs("platelets", value, high=high, flag=flag))
    assert found[MIN6].state is state and found[MIN6].component == "thrombocytosis"
    assert found[MIN6].evidence.summary.endswith(" (high)") is (state is State.PRESENT)
    assert "thrombocytopenia" not in found  # a high flag says nothing of the low side


def test_a_high_flag_given_as_text_counts(mapping):
    _, found = run(mapping, obs("platelets", 300, interpretation=[{"text": "High"}]))
    assert summary(found, MIN6) == (State.PRESENT, "platelets 300 10*9/L (high)")


@pytest.mark.parametrize(
    ("value", "low", "flag", "text"),
    [
        (149, None, None, "interpretation"),  # below the default 150
        (155, 160, None, "range"),  # below the lab's LLN
        (200, None, "L", "flag"),
        (200, None, "LL", "flag"),
    ],
)
def test_thrombocytopenia_is_flagged(mapping, value, low, flag, text):
    _, found = run(mapping, obs("platelets", value, low=low, flag=flag))
    f = found["thrombocytopenia"]
    assert (f.state, f.evidence.summary, f.evidence.value) == (State.PRESENT, f"platelets {value} 10*9/L (low)", value)
    assert f.component is None
    assert found[MIN6].state is State.ABSENT  # low is not high


def test_a_low_flag_given_as_text_counts(mapping):
    _, found = run(mapping, obs("platelets", 200, interpretation=[{"text": "снижен"}]))
    assert summary(found, "thrombocytopenia") == (State.PRESENT, "platelets 200 10*9/L (low)")


@pytest.mark.parametrize(("value", "low"), [(150, None), (160, 160)])
def test_at_the_lower_limit_is_not_thrombocytopenia(mapping, value, low):
    _, found = run(mapping, obs("platelets", value, low=low))
    assert "thrombocytopenia" not in found and found[MIN6].state is State.ABSENT


# --------------------------------------------------------------- hemoglobin per sex


@pytest.mark.parametrize(
    ("gender", "value", "min6", "anemia"),
    [
        ("male", 166, State.PRESENT, False),
        ("male", 165, State.ABSENT, False),
        ("male", 130, State.ABSENT, False),
        ("male", 129, State.ABSENT, True),
        ("female", 161, State.PRESENT, False),
        ("female", 160, State.ABSENT, False),
        ("female", 125, State.ABSENT, False),  # anaemic for a man, not for a woman
        ("female", 119, State.ABSENT, True),
        (None, 170, State.PRESENT, False),  # above both cut-offs
        (None, 163, State.INDETERMINATE, False),  # above the women's, below the men's: indeterminate
        (None, 125, State.ABSENT, False),  # below the men's anaemia cut-off only: not flagged
        (None, 119, State.ABSENT, True),
    ],
)
def test_hemoglobin_sex_specific_cut_offs(mapping, gender, value, min6, anemia):
    ex, found = run(mapping, obs("hemoglobin", value), gender=gender)
    assert (found[MIN6].state if MIN6 in found else None) is min6
    if min6 is not None:
        assert found[MIN6].component == "polycythemia"
        assert found[MIN6].evidence.summary == f"hemoglobin {value} g/L" + (" (high)" if min6 is State.PRESENT else "")
    assert ("anemia" in found) is anemia
    if anemia:
        assert summary(found, "anemia") == (State.PRESENT, f"hemoglobin {value} g/L (low)")
    assert [(m.analyte, m.value) for m in ex.measurements] == [("hemoglobin", value)]


def test_hemoglobin_the_labs_range_is_preferred(mapping):
    _, found = run(mapping, obs("hemoglobin", 150, high=145, low=120), gender="female")
    assert summary(found, MIN6) == (State.PRESENT, "hemoglobin 150 g/L (high)")
    _, found = run(mapping, obs("hemoglobin", 135, low=140), gender="male")
    assert summary(found, "anemia") == (State.PRESENT, "hemoglobin 135 g/L (low)")


# --------------------------------------------------------------- hematocrit: no default cut-off


@pytest.mark.parametrize(
    ("kw", "state"),
    [
        ({}, None),  # nothing to judge against: measurement only
        ({"flag": "N"}, State.ABSENT),
        ({"flag": "H"}, State.PRESENT),
        ({"high": 48}, State.PRESENT),
        ({"high": 50}, State.ABSENT),
        ({"low": 40, "high": 52}, State.ABSENT),
    ],
)
def test_hematocrit_is_judged_by_the_labs_range_or_flag_only(mapping, kw, state):
    ex, found = run(mapping, obs("hematocrit", 50, **kw))
    assert (found[MIN6].state if MIN6 in found else None) is state
    assert [(m.analyte, m.value, m.unit) for m in ex.measurements] == [("hematocrit", 50, "%")]
    if state is not None:
        assert found[MIN6].component == "polycythemia"


# --------------------------------------------------------------- low-only and cut-off-only rules


@pytest.mark.parametrize(
    ("value", "low", "flag", "flagged"),
    [(100, 150, None, True), (150, 150, None, False), (300, None, "L", True), (300, None, None, False)],
)
def test_vitamin_b12_is_a_low_flag_only(mapping, value, low, flag, flagged):
    ex, found = run(mapping, obs("vitamin_b12", value, low=low, flag=flag))
    assert set(found) == ({"low_vitamin_b12"} if flagged else set())
    if flagged:
        assert summary(found, "low_vitamin_b12") == (State.PRESENT, f"vitamin b12 {value} pmol/L (low)")
    assert [m.analyte for m in ex.measurements] == ["vitamin_b12"]


@pytest.mark.parametrize(("value", "flagged"), [(49, False), (50, True), (60, True)])
def test_spap_uses_the_cut_off_not_the_labs_range(mapping, value, flagged):
    # a lab's sPAP "normal" limit (35) is not the pulmonary-hypertension cut-off (>= 50 mmHg)
    _, found = run(mapping, obs("pasp", value, high=35))
    assert set(found) == ({"pulmonary_hypertension"} if flagged else set())
    if flagged:
        assert summary(found, "pulmonary_hypertension") == (State.PRESENT, f"pasp {value} mm[Hg] (high)")
        assert (found["pulmonary_hypertension"].evidence.value, found["pulmonary_hypertension"].evidence.unit) == (
            value,
            "mm[Hg]",
        )


# --------------------------------------------------------------- no usable number


@pytest.mark.parametrize(
    ("value", "min6", "low"),
    [
        ("High", State.PRESENT, False),
        ("повышен", State.PRESENT, False),
        ("normal", State.ABSENT, False),
        ("negative", State.ABSENT, False),
        ("low", State.ABSENT, True),
    ],
)
def test_a_qualitative_platelet_result(mapping, value, min6, low):
    ex, found = run(mapping, obs("platelets", valueString=value))
    text = f"platelets valueString {value!r}, no number"
    assert summary(found, MIN6) == (min6, text + (" (high)" if min6 is State.PRESENT else ""))
    assert found[MIN6].component == "thrombocytosis" and found[MIN6].evidence.value is None
    assert ("thrombocytopenia" in found) is low
    if low:
        assert summary(found, "thrombocytopenia") == (State.PRESENT, text + " (low)")
    assert ex.measurements == []
    assert [(n.kind, n.rule, n.detail) for n in ex.notes] == [
        ("qualitative", "platelets", f"platelets: valueString {value!r}")
    ]


@pytest.mark.parametrize("value", ["abnormal", "positive"])
def test_abnormal_without_a_direction_is_indeterminate(mapping, value):
    ex, found = run(mapping, obs("platelets", valueString=value))
    f = found[MIN6]
    assert (f.state, f.evidence.summary) == (State.INDETERMINATE, f"platelets valueString {value!r}, no number")
    assert f.note == "platelets: abnormal without a direction or a number" and f.component == "thrombocytosis"
    assert set(found) == {MIN6}


def test_abnormal_without_a_direction_for_a_rule_without_a_topic_is_an_error(mapping):
    ex = extract(make_record(obs("vitamin_b12", valueString="abnormal")), mapping)
    assert ex.findings == []
    [err] = ex.errors
    assert "vitamin_b12 needs a number; valueString 'abnormal' alone cannot decide it" in str(err)
    assert err.internal is False


@pytest.mark.parametrize(
    ("kw", "min6", "how"),
    [
        (
            {"referenceRange": [{"high": {"value": 400}}]},
            State.PRESENT,
            "500 without a unit, judged against the lab's own range <=400 only",
        ),
        (
            {"referenceRange": [{"low": {"value": 150}, "high": {"value": 500}}]},
            State.ABSENT,
            "500 without a unit, judged against the lab's own range 150-500 only",
        ),
        (
            {"interpretation": [{"coding": [{"system": V3, "code": "H"}]}]},
            State.PRESENT,
            "500 without a unit, judged by its interpretation H only",
        ),
    ],
)
def test_a_number_without_a_unit_is_judged_against_its_own_range(mapping, kw, min6, how):
    ex, found = run(mapping, obs("platelets", valueInteger=500, **kw))
    assert summary(found, MIN6) == (min6, f"platelets {how}" + (" (high)" if min6 is State.PRESENT else ""))
    assert ex.measurements == [] and found[MIN6].evidence.value is None
    assert [(n.kind, n.detail) for n in ex.notes] == [("unitless", f"platelets: {how}")]


def test_a_number_without_a_unit_below_the_labs_low_limit_is_thrombocytopenia(mapping):
    _, found = run(mapping, obs("platelets", valueInteger=100, referenceRange=[{"low": {"value": 150}}]))
    assert summary(found, "thrombocytopenia") == (
        State.PRESENT,
        "platelets 100 without a unit, judged against the lab's own range >=150 only (low)",
    )


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"valueInteger": 500}, "valueInteger 500 has no unit (expected 10*9/L); not guessed"),
        ({"valueString": "see report"}, "value: expected a Quantity for platelets, found valueString"),
        ({"valueQuantity": {"unit": "10*9/L"}}, "value: expected a Quantity for platelets, found valueQuantity"),
    ],
)
def test_nothing_to_judge_is_an_error_not_a_finding(mapping, kw, message):
    ex = extract(make_record(obs("platelets", **kw)), mapping)
    assert not_read(ex.findings) and ex.measurements == []
    [err] = ex.errors
    assert message in str(err) and err.internal is False


# --------------------------------------------------------------- prefer_reference_range: false (README "Mapping files")

SITE_RULE = """format: poems-fhir-mapping/1
name: site
version: '1'
observations:
  - id: site_pressure
    role: threshold
    unit: "mm[Hg]"
    high: pasp_pulmonary_hypertension
    high_topic: pulmonary_hypertension
    low_topic: anemia
    prefer_reference_range: false
    codes: [{system: "https://h.example/lab", code: P2, verification: LOCAL}]
"""


@pytest.mark.parametrize(("value", "topics"), [(10, {"anemia"}), (40, set()), (55, {"pulmonary_hypertension"})])
def test_a_cut_off_rule_still_uses_the_labs_limit_on_a_side_without_a_cut_off(tmp_path, value, topics):
    # the high side has a cut-off (50, used instead of the lab's 35); the low side has none, so the lab's
    # lower limit (20) is the only one there is
    site = tmp_path / "site.yaml"
    site.write_text(SITE_RULE, encoding="utf-8")
    o = obs("pasp", value, high=35, low=20)
    o["code"] = {"coding": [{"system": "https://h.example/lab", "code": "P2"}]}
    _, found = run(load_mapping([site]), o)
    assert set(found) == topics
