"""Mapping cut-offs (mappings/default.yaml `thresholds`) at the value, one unit either side, per
specimen and sex, through real FHIR Observations; censored values; immunofixation abbreviations.

Expected answers are taken from shared/clinical/criteria.md (section cited per test), not the code.
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.mapping.values import Value, compare
from tests.conftest import make_record, not_read

LOINC, SCT, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
SPECIMEN_CODE = {"serum": "119364003", "plasma": "119361006"}


def obs(
    code: str,
    value: float,
    unit: str,
    *,
    comparator: str | None = None,
    high: float | None = None,
    low: float | None = None,
    system: str = LOINC,
    **extra: Any,
) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    if comparator:
        q["comparator"] = comparator
    o: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "valueQuantity": q,
        **extra,
    }
    if high is not None or low is not None:
        rr: dict[str, Any] = {}
        if high is not None:
            rr["high"] = {"value": high, "unit": unit, "system": UCUM, "code": unit}
        if low is not None:
            rr["low"] = {"value": low, "unit": unit, "system": UCUM, "code": unit}
        o["referenceRange"] = [rr]
    return o


def states(mapping, *resources, topic: str, gender: str | None = "male") -> list[State]:
    ex = extract(make_record(*resources, gender=gender), mapping)
    assert ex.errors == []
    return [f.state for f in ex.findings if f.topic == topic]


def vegf(mapping, value: float, specimen: str | None, **kw: Any) -> list[State]:
    resources: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    if specimen:
        resources.append(
            {
                "resourceType": "Specimen",
                "id": "s1",
                "type": {"coding": [{"system": SCT, "code": SPECIMEN_CODE[specimen]}]},
            }
        )
        extra["specimen"] = {"reference": "Specimen/s1"}
    resources.append(obs("75628-8", value, "pg/mL", **kw, **extra))
    return states(mapping, *resources, topic="vegf_elevation")


# --- criteria.md §4 "Engine rule for MAJ-5": value >= cut-off -> PRESENT, per specimen --------------


@pytest.mark.parametrize(("specimen", "cut"), [("plasma", 200), ("serum", 1000)])
@pytest.mark.parametrize(("delta", "expected"), [(-1, State.ABSENT), (0, State.PRESENT), (1, State.PRESENT)])
def test_vegf_cut_off_per_specimen(mapping, specimen, cut, delta, expected):
    assert vegf(mapping, cut + delta, specimen) == [expected]


def test_serum_cut_off_is_not_applied_to_plasma_and_vice_versa(mapping):
    # plasma 999 is far above the plasma cut-off; serum 999 is below the serum one
    assert vegf(mapping, 999, "plasma") == [State.PRESENT]
    assert vegf(mapping, 999, "serum") == [State.ABSENT]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (199, State.ABSENT),  # below the lower (plasma) cut-off
        (200, State.INDETERMINATE),
        (999, State.INDETERMINATE),  # in between
        (1000, State.PRESENT),  # at the higher (serum) cut-off
    ],
)
def test_vegf_specimen_unknown(mapping, value, expected):
    # "Specimen type unknown: PRESENT if >= the higher (serum) cut-off, ABSENT if below the lower
    # (plasma) cut-off, INDETERMINATE in between"
    assert vegf(mapping, value, None) == [expected]


@pytest.mark.parametrize(("specimen", "value", "uln"), [("plasma", 96, 96.2), ("serum", 700, 700)])
def test_vegf_equal_to_the_lab_uln_is_absent_above_it_indeterminate(mapping, specimen, value, uln):
    # "Value above the lab's own upper reference limit but below the cut-off -> INDETERMINATE ...
    # Value <= ULN ... -> ABSENT"
    assert vegf(mapping, uln, specimen, high=uln) == [State.ABSENT]
    assert vegf(mapping, uln + 1, specimen, high=uln) == [State.INDETERMINATE]
    assert vegf(mapping, uln - 1, specimen, high=uln) == [State.ABSENT]


def test_vegf_above_uln_and_at_the_cut_off_is_present(mapping):
    assert vegf(mapping, 200, "plasma", high=96.2) == [State.PRESENT]


@pytest.mark.parametrize(
    ("comparator", "value", "specimen", "expected"),
    [
        ("<", 250, "plasma", State.INDETERMINATE),  # "<250": the true value may be 199 or 249 -> straddles 200
        ("<", 200, "plasma", State.ABSENT),  # "<200" is below the cut-off for sure
        ("<", 150, "plasma", State.ABSENT),
        ("<", 1200, "serum", State.INDETERMINATE),
        ("<", 1000, "serum", State.ABSENT),
        (">", 200, "plasma", State.PRESENT),  # "> 200" is above the cut-off for sure
        (">", 1500, "serum", State.PRESENT),
        (">", 150, "plasma", State.INDETERMINATE),  # "> 150" may be 160 or 900
    ],
)
def test_censored_vegf(mapping, comparator, value, specimen, expected):
    assert vegf(mapping, value, specimen, comparator=comparator) == [expected]


# --- the comparator logic itself, on the closed/open edges ---------------------------------------


@pytest.mark.parametrize(
    ("value", "cut", "op", "expected"),
    [
        (Value(200, None), 200, ">=", True),
        (Value(199, None), 200, ">=", False),
        (Value(200, None), 200, ">", False),
        (Value(201, None), 200, ">", True),
        (Value(150, None), 150, "<", False),
        (Value(149, None), 150, "<", True),
        (Value(150, None), 150, "<=", True),
        (Value(151, None), 150, "<=", False),
        # a censored value decides only when its whole range is on one side
        (Value(200, None, "<"), 200, ">=", False),
        (Value(201, None, "<"), 200, ">=", None),
        (Value(200, None, "<="), 200, ">=", None),
        (Value(199, None, "<="), 200, ">=", False),
        (Value(200, None, ">"), 200, ">=", True),
        (Value(199, None, ">"), 200, ">=", None),
        (Value(200, None, ">="), 200, ">=", True),
        (Value(200, None, ">="), 200, ">", None),
        (Value(200, None, ">"), 200, ">", True),
        (Value(200, None, "<"), 200, ">", False),
        (Value(150, None, ">"), 150, "<", False),
        (Value(149, None, ">"), 150, "<", None),
        (Value(150, None, ">="), 150, "<", False),
        (Value(150, None, ">="), 150, "<=", None),
        (Value(150, None, "<"), 150, "<", True),
        (Value(151, None, "<"), 150, "<", None),
        (Value(150, None, "<="), 150, "<=", True),
        (Value(150, None, "<="), 150, "<", None),
    ],
)
def test_compare_edges(value, cut, op, expected):
    assert compare(value, cut, op) is expected


# --- §4 MIN-6 thresholds (configurable defaults, UNVERIFIED), lab range preferred -----------------


@pytest.mark.parametrize(("value", "expected"), [(450, [State.ABSENT]), (451, [State.PRESENT])])
def test_platelets_default_cut_off_is_above_450(mapping, value, expected):
    # "platelets > local ULN; suggested default 450 x10^9/L"
    assert states(mapping, obs("777-3", value, "10*9/L"), topic="thrombocytosis_polycythemia") == expected


@pytest.mark.parametrize(("value", "expected"), [(400, [State.ABSENT]), (401, [State.PRESENT])])
def test_platelets_lab_uln_wins_over_the_default(mapping, value, expected):
    assert states(mapping, obs("777-3", value, "10*9/L", high=400), topic="thrombocytosis_polycythemia") == expected


@pytest.mark.parametrize(("value", "low"), [(149, True), (150, False)])
def test_thrombocytopenia_below_150(mapping, value, low):
    assert (states(mapping, obs("777-3", value, "10*9/L"), topic="thrombocytopenia") == [State.PRESENT]) is low


@pytest.mark.parametrize(("gender", "cut"), [("male", 165), ("female", 160)])
@pytest.mark.parametrize(("delta", "expected"), [(0, State.ABSENT), (1, State.PRESENT)])
def test_hemoglobin_sex_specific_cut_off(mapping, gender, cut, delta, expected):
    # "Hb > sex-specific ULN (e.g. > 16.5 g/dL men / > 16.0 g/dL women)"
    found = states(mapping, obs("718-7", cut + delta, "g/L"), topic="thrombocytosis_polycythemia", gender=gender)
    assert found == [expected]


def test_hemoglobin_between_the_sex_cut_offs_without_sex_is_undecided(mapping):
    # 162 g/L is high for a woman, normal for a man: with the sex unknown it is indeterminate, cited and
    # saying why - not "no data" with a CBC to order (probe31)
    assert states(mapping, obs("718-7", 162, "g/L"), topic="thrombocytosis_polycythemia", gender=None) == [
        State.INDETERMINATE
    ]
    [f] = extract(make_record(obs("718-7", 162, "g/L"), gender=None), mapping).findings
    assert f.note == (
        "sex not recorded (Patient.gender): the value is beyond the cut-off for one sex only "
        "(female > 160 g/L, male > 165 g/L)"
    )
    assert f.evidence.reference.startswith("Observation/")
    assert states(mapping, obs("718-7", 150, "g/L"), topic="thrombocytosis_polycythemia", gender=None) == [State.ABSENT]
    assert states(mapping, obs("718-7", 166, "g/L"), topic="thrombocytosis_polycythemia", gender=None) == [
        State.PRESENT
    ]


@pytest.mark.parametrize(("gender", "cut"), [("male", 130), ("female", 120)])
def test_anaemia_sex_specific_cut_off(mapping, gender, cut):
    assert states(mapping, obs("718-7", cut - 1, "g/L"), topic="anemia", gender=gender) == [State.PRESENT]
    assert states(mapping, obs("718-7", cut, "g/L"), topic="anemia", gender=gender) == []


# --- §4 pulmonary hypertension (sPAP >= 50 mmHg), §7 myeloma (>= 10 % marrow plasma cells) -------


@pytest.mark.parametrize(("value", "present"), [(49, False), (50, True)])
def test_pasp_50_mmhg(mapping, value, present):
    o = obs("pasp-echo", value, "mm[Hg]", system="https://poems-fhir.org/CodeSystem/local")
    assert (states(mapping, o, topic="pulmonary_hypertension") == [State.PRESENT]) is present


@pytest.mark.parametrize(("value", "present"), [(9.9, False), (10, True)])
def test_marrow_plasma_cells_10_percent_flag_myeloma(mapping, value, present):
    assert (states(mapping, obs("11118-7", value, "%"), topic="multiple_myeloma") == [State.PRESENT]) is present


# --- §5 endocrine: abnormal = outside the lab's range, on the side the axis counts (the limit itself is normal)


@pytest.mark.parametrize(
    # criteria.md §5: "low testosterone in men" - above the range is no hypogonadism
    ("value", "expected"),
    [(8.6, State.PRESENT), (8.7, State.ABSENT), (29.0, State.ABSENT), (29.1, State.ABSENT)],
)
def test_testosterone_below_the_lab_range(mapping, value, expected):
    o = obs("2986-8", value, "nmol/L", low=8.7, high=29.0)
    assert states(mapping, o, topic="endocrinopathy") == [expected]


# --- codes.md §B immunofixation abbreviations -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("IgG-K", Band("IgG", "kappa")),
        ("IgA-L", Band("IgA", "lambda")),
        ("IgG/K", Band("IgG", "kappa")),
        ("IgA L", Band("IgA", "lambda")),
        ("igm-k", Band("IgM", "kappa")),
        ("IgA-λ", Band("IgA", "lambda")),
        ("IgG-κ", Band("IgG", "kappa")),
        ("IgA лямбда", Band("IgA", "lambda")),
        ("IgG каппа", Band("IgG", "kappa")),
    ],
)
def test_ife_abbreviations(text, band):
    r = parse_ife(text)
    assert r.bands == (band,) and not r.negative


def test_lone_chains_merge_only_when_no_complete_band_exists():
    # "IgA and lambda" is one IgA-lambda band ...
    assert parse_ife("IgA and lambda").bands == (Band("IgA", "lambda"),)
    # ... but beside a complete band, a lone heavy and a lone light chain are not paired up
    r = parse_ife("IgG kappa; IgA; free lambda")
    assert r.bands == (Band("IgG", "kappa"), Band("IgA", None), Band(None, "lambda"))


def test_two_lone_heavy_chains_are_not_merged_with_one_light_chain():
    r = parse_ife("IgG, IgA and lambda")
    assert Band("IgG", "lambda") not in r.bands and Band("IgA", "lambda") not in r.bands
    assert Band(None, "lambda") in r.bands


# --- readers: comparator kept, reference ranges chosen and converted like the value -----------------


def test_quantity_keeps_the_comparator_with_and_without_conversion():
    from poems_fhir.mapping.values import quantity

    raw = {"value": 250, "comparator": "<", "unit": "pg/mL", "system": UCUM, "code": "pg/mL"}
    assert quantity(raw, "valueQuantity", None, {}) == Value(250.0, "pg/mL", "<")
    converted = quantity(raw, "valueQuantity", "ng/L", {})
    assert (converted.value, converted.unit, converted.comparator) == (pytest.approx(250.0), "ng/L", "<")


def test_reference_range_skips_applies_to_and_converts_both_limits():
    from poems_fhir.mapping.values import Range, reference_range

    def qty(v, u):
        return {"value": v, "unit": u, "system": UCUM, "code": u}

    o = {
        "referenceRange": [
            {"appliesTo": [{"text": "pregnancy"}], "low": qty(1, "g/dL"), "high": qty(2, "g/dL")},
            {"low": qty(3.5, "g/dL"), "high": qty(5.2, "g/dL")},
        ]
    }
    got = reference_range(o, "g/L", {}, None)
    assert got == Range(pytest.approx(35.0), pytest.approx(52.0))


def test_one_concept_coded_twice_gives_one_finding_with_its_value(mapping):
    o = obs("75628-8", 412, "pg/mL")
    o["code"]["coding"].append({"system": LOINC, "code": "75628-8", "display": "again"})
    o["code"]["text"] = "VEGF plasma"
    ex = extract(make_record(o), mapping)
    (f,) = [f for f in ex.findings if f.topic == "vegf_elevation"]
    assert f.evidence.value == 412 and f.evidence.unit == "pg/mL"
    assert len(ex.measurements) == 1


V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


@pytest.mark.parametrize(
    ("code", "value", "unit"),
    [("75628-8", -624, "pg/mL"), ("777-3", -512, "10*9/L"), ("33358-3", -3, "g/L"), ("718-7", -0.5, "g/L")],
)
def test_a_negative_measurement_is_a_reported_skip_not_a_result(mapping, code, value, unit):
    # probe32: a VEGF of -624 pg/mL made the criterion absent, a platelet count of -512 flagged H present
    ex = extract(
        make_record(obs(code, value, unit, interpretation=[{"coding": [{"system": V3, "code": "H"}]}])), mapping
    )
    assert not_read(ex.findings) and ex.measurements == []
    [err] = ex.errors
    assert f"value {value:g} {unit} is negative" in err.message and err.message.endswith("not read - fix the value")


@pytest.mark.parametrize(("value", "flag"), [(100, "H"), (900, "L")])
def test_a_flag_that_contradicts_the_value_and_range_is_indeterminate_not_both_sides(mapping, value, flag):
    # probe32: platelets 100 flagged H (range 150-400) were thrombocytosis *and* thrombocytopenia
    o = obs("777-3", value, "10*9/L", low=150, high=400, interpretation=[{"coding": [{"system": V3, "code": flag}]}])
    ex = extract(make_record(o), mapping)
    assert ex.errors == []
    assert [(f.topic, f.state) for f in ex.findings] == [("thrombocytosis_polycythemia", State.INDETERMINATE)]
    assert ex.findings[0].note == "platelets: its interpretation flag contradicts the value against the lab's range"
    assert [m.value for m in ex.measurements] == [value]  # the number itself is kept
