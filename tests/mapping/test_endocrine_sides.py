"""Which side of the lab's range counts for an axis (criteria.md §5): "adrenal (low cortisol/ACTH
stimulation failure), gonadal (low testosterone in men; ...)". A result on the other side says the
axis is not insufficient; the other axes count either side (tests/mapping/test_endocrine_mutants2.py)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import EndocrineAxis, State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

UCUM = "http://unitsofmeasure.org"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def q(value: float, unit: str = "nmol/L") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def flag(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": V3, "code": code}]}]


def finding(mapping, code: str, **kw: Any):
    ex = extract(make_record(observation(code, "h1", **kw)), mapping)
    assert ex.errors == []
    [f] = ex.findings
    return f


@pytest.mark.parametrize(
    ("code", "axis", "low", "high"),
    [("2143-6", EndocrineAxis.ADRENAL, 140, 690), ("2986-8", EndocrineAxis.GONADAL, 8.6, 29)],
)
@pytest.mark.parametrize(
    ("where", "kw", "state"),
    [
        ("below", {}, State.PRESENT),
        ("above", {}, State.ABSENT),  # probe19: a high cortisol / testosterone made the axis present
        ("inside", {}, State.ABSENT),
        ("above", {"interpretation": flag("H")}, State.ABSENT),
        ("below", {"interpretation": flag("L")}, State.PRESENT),
    ],
)
def test_only_a_low_cortisol_or_testosterone_counts(mapping, code, axis, low, high, where, kw, state):
    value = {"below": low / 2, "above": high * 1.5, "inside": (low + high) / 2}[where]
    f = finding(mapping, code, valueQuantity=q(value), referenceRange=[{"low": q(low), "high": q(high)}], **kw)
    assert (f.state, f.axis) == (state, axis)
    if where == "above":
        assert f.evidence.summary.endswith("high: only low counts for this axis")


@pytest.mark.parametrize(
    ("kw", "state"),
    [
        ({"interpretation": flag("H"), "valueQuantity": q(900)}, State.ABSENT),  # a flag alone: its side
        ({"interpretation": flag("L"), "valueQuantity": q(50)}, State.PRESENT),
        ({"valueString": "high"}, State.ABSENT),
        ({"valueString": "low"}, State.PRESENT),
        ({"valueString": "abnormal"}, State.INDETERMINATE),  # which side is not said
    ],
)
def test_a_cortisol_without_a_range_is_judged_by_its_stated_side(mapping, kw, state):
    assert finding(mapping, "2143-6", **kw).state is state


def test_other_axes_count_either_side(mapping):
    # a high TSH is a thyroid abnormality (the thyroid-only caveat is the engine's, not this rule's)
    f = finding(
        mapping,
        "3016-3",
        valueQuantity=q(12, "m[IU]/L"),
        referenceRange=[{"low": q(0.4, "m[IU]/L"), "high": q(4, "m[IU]/L")}],
    )
    assert (f.state, f.axis) == (State.PRESENT, EndocrineAxis.THYROID)


@pytest.mark.parametrize(("gender", "read"), [("male", True), (None, True), ("female", False)])
def test_testosterone_counts_for_men_only(mapping, gender, read):
    # criteria.md §5: "low testosterone in men"; a woman's (low by the male range) is not read
    o = observation("2986-8", "h1", valueQuantity=q(1.0), referenceRange=[{"low": q(8.6), "high": q(29)}])
    ex = extract(make_record(o, gender=gender), mapping)
    assert [f.state for f in ex.findings] == ([State.PRESENT] if read else [])
    assert [m.analyte for m in ex.measurements] == (["testosterone"] if read else [])


@pytest.mark.parametrize(
    ("code", "unit", "low", "high"),
    [("4548-4", "%", 4.0, 5.6), ("2345-7", "mmol/L", 3.9, 5.5)],
)
@pytest.mark.parametrize(
    ("where", "kw", "state"),
    [
        ("above", {}, State.PRESENT),
        ("above", {"interpretation": flag("H")}, State.PRESENT),
        # probe31: a low HbA1c (3.9 %) or glucose (3.1 mmol/L) made the pancreatic axis abnormal - and,
        # with a thyroid result, endocrinopathy present on "two axes"; criteria.md §5: "pancreatic (diabetes)"
        ("below", {}, State.ABSENT),
        ("below", {"interpretation": flag("L")}, State.ABSENT),
        ("inside", {}, State.ABSENT),
    ],
)
def test_only_a_high_hba1c_or_glucose_is_the_pancreatic_axis(mapping, code, unit, low, high, where, kw, state):
    # above: past the diabetes cut-offs too (HbA1c 12.3 %, glucose 12.1 mmol/L), see the next test
    value = {"below": round(low * 0.8, 1), "above": round(high * 2.2, 1), "inside": (low + high) / 2}[where]
    f = finding(
        mapping,
        code,
        valueQuantity=q(value, unit),
        referenceRange=[{"low": q(low, unit), "high": q(high, unit)}],
        **kw,
    )
    assert (f.state, f.axis) == (state, EndocrineAxis.PANCREATIC)
    if where == "below":
        assert f.evidence.summary.endswith("low: only high counts for this axis")


@pytest.mark.parametrize(
    ("code", "value", "unit", "low", "high", "state"),
    [
        # probe36: prediabetes is not the diabetes of the pancreatic axis (HbA1c 6.0 % flagged H beside a
        # hypothyroidism made "two axes" and the patient "met"); cut-offs UNVERIFIED, configurable
        ("4548-4", 6.0, "%", 4.0, 5.6, State.INDETERMINATE),
        ("4548-4", 6.4, "%", 4.0, 5.6, State.INDETERMINATE),
        ("4548-4", 6.5, "%", 4.0, 5.6, State.PRESENT),  # at the cut-off
        ("4548-4", 44, "mmol/mol", 20, 42, State.INDETERMINATE),
        ("4548-4", 48, "mmol/mol", 20, 42, State.PRESENT),
        ("2345-7", 6.4, "mmol/L", 3.9, 5.5, State.INDETERMINATE),
        ("2345-7", 11.0, "mmol/L", 3.9, 5.5, State.INDETERMINATE),
        ("2345-7", 11.1, "mmol/L", 3.9, 5.5, State.PRESENT),
    ],
)
def test_a_result_above_the_range_below_the_diabetes_cut_off_is_indeterminate(
    mapping, code, value, unit, low, high, state
):
    f = finding(
        mapping,
        code,
        valueQuantity=q(value, unit),
        referenceRange=[{"low": q(low, unit), "high": q(high, unit)}],
        interpretation=flag("H"),
    )
    assert (f.state, f.axis) == (state, EndocrineAxis.PANCREATIC)
    if state is State.INDETERMINATE:
        assert "not the diabetes the axis needs" in (f.note or "")


@pytest.mark.parametrize(
    ("gender", "value", "kw", "state"),
    [
        # probe36: a postmenopausal woman's oestradiol of 30 pmol/L flagged L against a premenopausal
        # range made the gonadal axis abnormal and the patient "met"; a raised one is the POEMS finding
        ("female", 30, {"interpretation": flag("L")}, State.ABSENT),
        ("male", 300, {"interpretation": flag("H")}, State.PRESENT),
        ("female", 1200, {}, State.PRESENT),
    ],
)
def test_only_a_raised_oestradiol_is_the_gonadal_axis(mapping, gender, value, kw, state):
    o = observation(
        "2243-4",
        "e2",
        valueQuantity=q(value, "pmol/L"),
        referenceRange=[{"low": q(45, "pmol/L"), "high": q(854, "pmol/L")}],
        **kw,
    )
    (f,) = extract(make_record(o, gender=gender), mapping).findings
    assert (f.state, f.axis) == (state, EndocrineAxis.GONADAL)


@pytest.mark.parametrize(("gender", "read"), [("female", True), ("other", True), (None, True), ("male", False)])
def test_a_site_rule_for_women_only_skips_a_mans_result(tmp_path, gender, read):
    """`sex:` works both ways: a site's rule for women only (here testosterone made one by an overlay) is
    not read for a man, and read for a woman or a patient of another or no recorded gender, as the
    default rules for men are (mutation seed 22: only the men's side was tested)."""
    from poems_fhir.mapping.rules import load_mapping

    site = tmp_path / "site.yaml"
    site.write_text(
        "format: poems-fhir-mapping/1\nname: site\nversion: '1'\nobservations:\n  - {id: testosterone, sex: female}\n",
        encoding="utf-8",
    )
    o = observation("2986-8", "h1", valueQuantity=q(1.0), referenceRange=[{"low": q(8.6), "high": q(29)}])
    ex = extract(make_record(o, gender=gender), load_mapping([site]))
    assert [m.analyte for m in ex.measurements] == (["testosterone"] if read else [])


@pytest.mark.parametrize("code", ["4548-4", "2345-7"])
def test_a_diabetes_marker_said_high_without_a_number_cannot_be_judged(mapping, code):
    """criteria.md §5 "pancreatic (diabetes)": a high HbA1c or glucose without its number may be prediabetes
    or diabetes - the axis is indeterminate, with why (mutation sample seed 23: this finding was never
    checked)."""
    f = finding(mapping, code, valueString="high")
    assert (f.state, f.axis) == (State.INDETERMINATE, EndocrineAxis.PANCREATIC)
    assert "the diabetes cut-off cannot be judged" in (f.note or "")
