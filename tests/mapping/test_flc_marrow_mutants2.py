"""Free light chains and bone-marrow plasma cells.

criteria.md §4: FLC are elevated in ~90 % but the FLC ratio is normal in all but 18 % of POEMS, so an
abnormal ratio shows a clone (kappa excess when high, lambda when low) and a normal ratio is not
evidence of absence. §7 / mappings/default.yaml bm_plasma_cells_myeloma: >= 10 % bone-marrow plasma
cells is the myeloma differential [IMWG2014]."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State, Strength
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record, observation, not_read

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
MAJ2 = "monoclonal_plasma_cell_disorder"
RANGE = [{"low": {"value": 0.26, "unit": "{ratio}"}, "high": {"value": 1.65, "unit": "{ratio}"}}]


def obs(code: str, **kw: Any) -> dict[str, Any]:
    return observation(code, "f1", **kw)


def ratio(value: float, **kw: Any) -> dict[str, Any]:
    return obs("48378-4", valueQuantity={"value": value, "unit": "{ratio}", "system": UCUM, "code": "{ratio}"}, **kw)


def flag(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": V3, "code": code}]}]


def run(mapping, resource: dict[str, Any]):
    ex = extract(make_record(resource), mapping)
    assert ex.errors == []
    return ex, ex.findings


# --------------------------------------------------------------- FLC ratio


@pytest.mark.parametrize(
    ("value", "kw", "light"),
    [
        (2.0, {"referenceRange": RANGE}, "kappa"),
        (0.2, {"referenceRange": RANGE}, "lambda"),
        (1.0, {"interpretation": flag("H")}, "kappa"),
        (1.0, {"interpretation": flag("L")}, "lambda"),
        (1.0, {"interpretation": flag("HH"), "referenceRange": RANGE}, "kappa"),
    ],
)
def test_an_abnormal_ratio_shows_a_clone_and_its_light_chain(mapping, value, kw, light):
    ex, [f] = run(mapping, ratio(value, **kw))
    assert (f.topic, f.state, f.strength, f.light_chain, f.heavy_chain) == (
        MAJ2,
        State.PRESENT,
        Strength.STRONG,
        light,
        None,
    )
    assert f.evidence.summary == f"abnormal FLC ratio {value:g} {{ratio}} ({light} excess)"
    assert (f.evidence.value, f.evidence.unit) == (value, "{ratio}")
    assert [(m.analyte, m.value) for m in ex.measurements] == [("flc_ratio", value)]


@pytest.mark.parametrize(
    ("value", "kw"),
    [
        (1.0, {"referenceRange": RANGE}),
        (1.65, {"referenceRange": RANGE}),
        (0.26, {"referenceRange": RANGE}),
        (1.0, {"interpretation": flag("N")}),
    ],
)
def test_a_normal_ratio_is_recorded_but_not_evidence_of_absence(mapping, value, kw):
    ex, found = run(mapping, ratio(value, **kw))
    assert found == []
    assert [(m.analyte, m.value) for m in ex.measurements] == [("flc_ratio", value)]


@pytest.mark.parametrize("value", [0.15, 1.0, 18.0])
def test_a_ratio_without_range_or_flag_is_recorded_and_leaves_the_clone_open(mapping, value):
    """probe62 D10/D11: criteria.md gives no interval for the ratio; without the lab's range or flag it
    was dropped, so negative immunofixations alone made the clone absent beside a ratio of 0.15."""
    ex, [f] = run(mapping, ratio(value))
    assert (f.topic, f.state) == (MAJ2, State.INDETERMINATE)
    assert f.evidence.summary == f"FLC ratio {value:g} {{ratio}}"
    assert f.note == "no reference range or flag from the lab to judge the ratio (normal or abnormal)"
    assert [(m.analyte, m.value, m.abnormal) for m in ex.measurements] == [("flc_ratio", value, None)]


@pytest.mark.parametrize(
    ("value", "light", "excess"),
    [("High", "kappa", "kappa excess"), ("low", "lambda", "lambda excess"), ("abnormal", None, "direction not stated")],
)
def test_an_abnormal_ratio_without_a_number(mapping, value, light, excess):
    ex, [f] = run(mapping, obs("48378-4", valueString=value))
    assert (f.topic, f.state, f.light_chain) == (MAJ2, State.PRESENT, light)
    assert f.evidence.summary == f"abnormal FLC ratio ({excess}; valueString {value!r}, no number)"
    assert f.evidence.value is None and ex.measurements == []


@pytest.mark.parametrize("value", ["normal", "negative", "positive"])
def test_a_ratio_word_without_a_direction_of_abnormality_is_listed_unused(mapping, value):
    ex, found = run(mapping, obs("48378-4", valueString=value))
    assert found == [] and ex.measurements == []
    assert [(n.kind, n.rule, n.detail) for n in ex.notes] == [
        ("unused", "flc_ratio", f"valueString {value!r}: flc_ratio needs a number")
    ]


def test_a_free_light_chain_is_a_measurement_only(mapping):
    ex, found = run(
        mapping,
        obs(
            "36916-5",
            valueQuantity={"value": 30, "unit": "mg/L", "system": UCUM, "code": "mg/L"},
            interpretation=flag("H"),
        ),
    )
    assert found == []
    assert [(m.analyte, m.value, m.unit) for m in ex.measurements] == [("flc_kappa", 30, "mg/L")]


def test_a_free_light_chain_word_is_listed_unused(mapping):
    ex, found = run(mapping, obs("36916-5", valueString="High"))
    assert found == [] and ex.measurements == []
    assert [(n.kind, n.detail) for n in ex.notes] == [("unused", "valueString 'High': flc_kappa needs a number")]


# --------------------------------------------------------------- bone-marrow plasma cells


def bm(value: float) -> dict[str, Any]:
    return obs("11118-7", valueQuantity={"value": value, "unit": "%", "system": UCUM, "code": "%"})


@pytest.mark.parametrize(("value", "myeloma"), [(9.9, False), (10, True), (35, True)])
def test_marrow_plasma_cells_at_10_percent_flag_myeloma(mapping, value, myeloma):
    ex, found = run(mapping, bm(value))
    assert [(m.analyte, m.value, m.unit) for m in ex.measurements] == [("bm_plasma_cells", value, "%")]
    if myeloma:
        [f] = found
        assert (f.topic, f.state) == ("multiple_myeloma", State.PRESENT)
        assert f.evidence.summary == f"bone-marrow plasma cells {value:g} % (>=10%)"
        assert (f.evidence.value, f.evidence.unit, f.source_rule) == (value, "%", "bm_plasma_cells")
    else:
        assert found == []


def test_a_marrow_plasma_cell_word_is_listed_unused(mapping):
    ex, found = run(mapping, obs("11118-7", valueString="increased"))
    assert found == [] and ex.measurements == []
    assert [(n.kind, n.rule, n.detail) for n in ex.notes] == [
        ("unused", "bm_plasma_cells", "valueString 'increased': bm_plasma_cells needs a number")
    ]


def test_a_marrow_plasma_cell_count_without_a_number_is_an_error(mapping):
    ex = extract(make_record(obs("11118-7", valueString="see report")), mapping)
    assert ex.findings == [] and ex.measurements == []
    [err] = ex.errors
    assert "value: expected a Quantity for bm_plasma_cells, found valueString" in str(err)


def test_a_clonal_plasma_cell_result_without_a_number_or_a_word_is_an_error(mapping):
    ex = extract(make_record(obs("93021-4", valueString="see report")), mapping)
    assert not_read(ex.findings) and ex.measurements == []
    [err] = ex.errors
    assert "value: expected a Quantity for bm_clonal_plasma_cells, found valueString" in str(err)


SITE = """format: poems-fhir-mapping/1
name: site
version: '1'
thresholds:
  bm_pc_male: {value: 10, unit: "%", operator: ">=", verification: LOCAL}
  bm_pc_female: {value: 20, unit: "%", operator: ">=", verification: LOCAL}
observations:
  - id: bm_plasma_cells
    high: {male: bm_pc_male, female: bm_pc_female}
"""


@pytest.mark.parametrize(("gender", "myeloma"), [("male", True), ("female", False)])
def test_a_sex_specific_marrow_cut_off_is_applied_per_sex(tmp_path, gender, myeloma):
    # README "Mapping files": `high` may be {male: id, female: id}
    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    ex = extract(make_record(bm(15), gender=gender), load_mapping([site]))
    assert ex.errors == []
    assert [f.evidence.summary for f in ex.findings] == (["bone-marrow plasma cells 15 % (>=10%)"] if myeloma else [])


@pytest.mark.parametrize(
    ("value", "summary"),
    [
        (15, []),  # beyond the male cut-off only: it depends on the sex, which is unknown
        (9, []),
        (25, ["bone-marrow plasma cells 25 % (>=10%, >=20%)"]),  # beyond both: one finding
    ],
)
def test_with_the_sex_unknown_a_sex_specific_marrow_cut_off_counts_only_when_every_cut_off_agrees(
    tmp_path, value, summary
):
    # README "Mapping files": with the sex unknown, every sex-specific cut-off must agree
    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    ex = extract(make_record(bm(value), gender=None), load_mapping([site]))
    assert ex.errors == []
    assert [f.evidence.summary for f in ex.findings] == summary
    assert [m.value for m in ex.measurements] == [value]  # the measurement is kept either way


def test_negative_immunofixations_beside_an_unjudged_ratio_leave_the_clone_indeterminate(mapping):
    """probe62 D11: serum and urine IFE negative with a ratio of 0.15 and no range came out absent -
    a mandatory criterion excluded (not_met) on a result nobody judged."""
    from poems_fhir.criteria.engine import evaluate
    from poems_fhir.criteria.profiles import MAYO

    serum = observation("25700-6", "s", valueString="Negative")
    urine = observation("13440-3", "u", valueString="Negative")
    record = make_record(serum, urine, {**ratio(0.15), "id": "r"})
    result = evaluate("Patient/p1", extract(record, mapping).findings, MAYO, None)
    assert result.criteria[MAJ2].state is State.INDETERMINATE
    judged = make_record(
        observation("25700-6", "s", valueString="Negative"),
        observation("13440-3", "u", valueString="Negative"),
        {**ratio(1.0, referenceRange=RANGE), "id": "r"},
    )
    assert evaluate("Patient/p1", extract(judged, mapping).findings, MAYO, None).criteria[MAJ2].state is State.ABSENT
