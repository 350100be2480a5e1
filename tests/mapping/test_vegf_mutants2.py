"""VEGF (MAJ-5) from an Observation: the whole finding a clinician sees — state, evidence text, note,
specimen, value — and the measurement the response timeline uses.

criteria.md §4 "Engine rule for MAJ-5": cut-off per specimen type (plasma 200, serum 1000 pg/mL);
value >= cut-off -> PRESENT; above the lab's own upper limit but below the cut-off -> INDETERMINATE
with a note (lab limits are assay-specific, not diagnostic); <= ULN, or below the cut-off when no
ULN is given -> ABSENT. Specimen unknown: PRESENT if >= the serum cut-off, ABSENT below the plasma
cut-off, INDETERMINATE in between. Serum and plasma are not interchangeable (§2 MAJ-5), so the
specimen is read from the Specimen resource, its reference display or a local code text naming one."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation, not_read

LOINC, SCT, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
PLASMA, SERUM = "119361006", "119364003"
TOPIC = "vegf_elevation"
LAB_NOTE = "lab limits are assay-specific, not diagnostic"
BETWEEN = "specimen type unknown and the value lies between the plasma and serum cut-offs"
NO_NUMBER = (
    "VEGF above the lab's limit without a comparable number: a lab's upper limit is "
    "assay-specific and lower than the diagnostic cut-off, so elevation cannot be confirmed"
)


def q(value: float, unit: str = "pg/mL", **kw: Any) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit, **kw}


def vegf_obs(**kw: Any) -> dict[str, Any]:
    return observation("75628-8", "v1", **kw)


def specimen(code: str | None = None, text: str | None = None, system: str = SCT) -> dict[str, Any]:
    type_: dict[str, Any] = {}
    if code:
        type_["coding"] = [{"system": system, "code": code}]
    if text:
        type_["text"] = text
    return {"resourceType": "Specimen", "id": "s1", "type": type_}


def flag(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": V3, "code": code}]}]


def run(mapping, *resources: dict[str, Any]):
    ex = extract(make_record(*resources), mapping)
    assert ex.errors == []
    found = [f for f in ex.findings if f.topic == TOPIC]
    assert len(found) == 1, found
    return ex, found[0]


def with_specimen(mapping, spec: str, **kw: Any):
    return run(mapping, specimen(spec), vegf_obs(specimen={"reference": "Specimen/s1"}, **kw))


# --------------------------------------------------------------- known specimen


@pytest.mark.parametrize(("spec", "name", "value", "cut"), [(PLASMA, "plasma", 200, 200), (SERUM, "serum", 1000, 1000)])
def test_at_the_cut_off_is_present_and_the_evidence_names_specimen_and_cut_off(mapping, spec, name, value, cut):
    ex, f = with_specimen(mapping, spec, valueQuantity=q(value))
    assert f.state is State.PRESENT and f.note is None and f.specimen == name
    # the serum cut-off is UNVERIFIED in criteria.md: a present finding on it says so (probe38)
    unverified = " (an UNVERIFIED cut-off: confirm before clinical use)" if name == "serum" else ""
    assert f.evidence.summary == f"VEGF {value} pg/mL ({name}) >= {cut} pg/mL cut-off{unverified}"
    assert (f.evidence.value, f.evidence.unit, f.evidence.reference) == (value, "pg/mL", "Observation/v1")
    [m] = ex.measurements
    assert (m.analyte, m.value, m.unit, m.specimen, m.comparator) == ("vegf", value, "pg/mL", name, None)


def test_a_censored_value_straddling_the_cut_off_is_indeterminate_with_why(mapping):
    ex, f = with_specimen(mapping, PLASMA, valueQuantity=q(250, comparator="<"))
    assert f.state is State.INDETERMINATE and f.specimen == "plasma" and f.evidence.value == 250
    assert f.evidence.summary == "VEGF <250 pg/mL (plasma)"
    assert f.note == "censored value straddles the cut-off"
    [m] = ex.measurements
    assert (m.value, m.comparator, m.specimen) == (250, "<", "plasma")


def test_above_the_lab_uln_below_the_cut_off_names_both_limits(mapping):
    _, f = with_specimen(mapping, PLASMA, valueQuantity=q(150), referenceRange=[{"high": q(96.2)}])
    assert f.state is State.INDETERMINATE and f.specimen == "plasma" and f.evidence.value == 150
    assert f.evidence.summary == "VEGF 150 pg/mL (plasma)"
    assert f.note == (
        f"above the lab's upper reference limit (96.2 pg/mL) but below the plasma diagnostic cut-off (200 pg/mL); {LAB_NOTE}"
    )


@pytest.mark.parametrize(
    ("interpretation", "source"),
    [(flag("H"), "interpretation H"), (flag("A"), "interpretation A"), ([{"text": "High"}], "interpretation 'High'")],
)
def test_flagged_high_or_abnormal_below_the_cut_off_is_indeterminate(mapping, interpretation, source):
    # no reference range sent: the flag says "above the lab's limit", which is not the cut-off
    _, f = with_specimen(mapping, SERUM, valueQuantity=q(700), interpretation=interpretation)
    assert f.state is State.INDETERMINATE and f.specimen == "serum" and f.evidence.value == 700
    assert f.evidence.summary == f"VEGF 700 pg/mL (serum) flagged {source}"
    assert f.note == (f"flagged above the lab's limit but below the serum diagnostic cut-off (1000 pg/mL); {LAB_NOTE}")


@pytest.mark.parametrize(
    "extra", [{}, {"interpretation": flag("L")}, {"interpretation": flag("N")}, {"referenceRange": [{"high": q(700)}]}]
)
def test_below_the_cut_off_and_within_the_lab_limit_is_absent(mapping, extra):
    _, f = with_specimen(mapping, SERUM, valueQuantity=q(700), **extra)
    assert f.state is State.ABSENT and f.note is None and f.specimen == "serum"
    assert f.evidence.summary == "VEGF 700 pg/mL (serum)"
    assert f.evidence.value == 700


# --------------------------------------------------------------- specimen unknown


@pytest.mark.parametrize(
    ("quantity", "state", "note"),
    [
        (q(1000), State.PRESENT, None),
        (q(1500, comparator=">"), State.PRESENT, None),
        (q(199), State.ABSENT, None),
        (q(200), State.INDETERMINATE, BETWEEN),
        (q(999), State.INDETERMINATE, BETWEEN),
        (q(250, comparator="<"), State.INDETERMINATE, BETWEEN),  # may be 199 or 249
        (q(150, comparator=">"), State.INDETERMINATE, BETWEEN),  # may be 160 or 1600
    ],
)
def test_specimen_unknown(mapping, quantity, state, note):
    ex, f = run(mapping, vegf_obs(valueQuantity=quantity))
    assert (f.state, f.note, f.specimen) == (state, note, None)
    comp = quantity.get("comparator", "")
    assert f.evidence.summary == f"VEGF {comp}{quantity['value']} pg/mL (specimen unknown)"
    assert (f.evidence.value, f.evidence.unit) == (quantity["value"], "pg/mL")
    [m] = ex.measurements
    assert (m.analyte, m.specimen) == ("vegf", None)


UNKNOWN_ULN = f"above the lab's upper reference limit but below the diagnostic cut-offs; {LAB_NOTE}"


@pytest.mark.parametrize(
    ("extra", "state", "note"),
    [
        ({"referenceRange": [{"high": q(96.2)}]}, State.INDETERMINATE, UNKNOWN_ULN),
        ({"referenceRange": [{"high": q(150)}]}, State.ABSENT, None),  # equal to the ULN
        ({"interpretation": flag("H")}, State.INDETERMINATE, UNKNOWN_ULN),
        ({"interpretation": flag("A")}, State.INDETERMINATE, UNKNOWN_ULN),
        ({"interpretation": [{"text": "повышен"}]}, State.INDETERMINATE, UNKNOWN_ULN),
        ({"interpretation": flag("L")}, State.ABSENT, None),
        ({"interpretation": flag("N")}, State.ABSENT, None),
    ],
)
def test_specimen_unknown_below_both_cut_offs_but_above_the_lab_limit(mapping, extra, state, note):
    _, f = run(mapping, vegf_obs(valueQuantity=q(150), **extra))
    assert (f.state, f.note, f.specimen) == (state, note, None)
    assert f.evidence.summary == "VEGF 150 pg/mL (specimen unknown)"
    assert (f.evidence.value, f.evidence.unit) == (150, "pg/mL")


# --------------------------------------------------------------- where the specimen comes from


@pytest.mark.parametrize(
    ("resources", "obs_extra", "expected"),
    [
        # a Specimen coded in SNOMED CT decides; its words agreeing or naming neither
        ([specimen(SERUM, text="serum")], {"specimen": {"reference": "Specimen/s1"}}, "serum"),
        ([specimen(PLASMA, text="venous blood")], {"specimen": {"reference": "Specimen/s1"}}, "plasma"),
        # ... but sources that name different ones contradict each other: unknown (probe86 D4)
        ([specimen(SERUM, text="plasma")], {"specimen": {"reference": "Specimen/s1"}}, None),
        ([specimen(PLASMA, text="serum")], {"specimen": {"reference": "Specimen/s1"}}, None),
        (
            [specimen(PLASMA)],
            {
                "specimen": {"reference": "Specimen/s1"},
                "code": {"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF, serum"},
            },
            None,
        ),
        # a Specimen with text only, or a code of another system: its text
        ([specimen(text="EDTA plasma")], {"specimen": {"reference": "Specimen/s1"}}, "plasma"),
        ([specimen(text="Сыворотка крови")], {"specimen": {"reference": "Specimen/s1"}}, "serum"),
        (
            [specimen("PLAS", "Plasma", system="http://lab.local/specimen")],
            {"specimen": {"reference": "Specimen/s1"}},
            "plasma",
        ),
        # another SNOMED CT specimen code (venous blood): neither serum nor plasma by code, so its text
        ([specimen("122555007", "serum")], {"specimen": {"reference": "Specimen/s1"}}, "serum"),
        ([specimen("122555007", "plasma")], {"specimen": {"reference": "Specimen/s1"}}, "plasma"),
        # a contained Specimen
        (
            [],
            {
                "specimen": {"reference": "#sp"},
                "contained": [
                    {"resourceType": "Specimen", "id": "sp", "type": {"coding": [{"system": SCT, "code": SERUM}]}}
                ],
            },
            "serum",
        ),
        # an unresolvable reference: its display
        ([], {"specimen": {"reference": "Specimen/gone", "display": "Serum"}}, "serum"),
        ([], {"specimen": {"display": "EDTA-Plasma"}}, "plasma"),
        # a local code text naming one specimen
        ([], {"code": {"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF im EDTA-Plasma"}}, "plasma"),
        ([], {"code": {"coding": [{"system": LOINC, "code": "75628-8"}], "text": "ФРЭС, сыворотка"}}, "serum"),
        ([], {"code": {"coding": [{"system": LOINC, "code": "75628-8"}], "text": "ФРЭС (плазма)"}}, "plasma"),
        # naming both decides nothing
        (
            [],
            {"code": {"coding": [{"system": LOINC, "code": "75628-8", "display": "VEGF-A in Serum or Plasma"}]}},
            None,
        ),
        ([], {"specimen": [{"reference": "Specimen/s1"}]}, None),  # not a Reference: ignored
    ],
)
def test_the_specimen_is_read_from_the_specimen_its_reference_or_the_code_text(mapping, resources, obs_extra, expected):
    # 500 pg/mL: present for plasma, absent for serum, indeterminate when unknown
    ex, f = run(mapping, *resources, vegf_obs(valueQuantity=q(500), **obs_extra))
    assert f.specimen == expected
    assert f.state is {"plasma": State.PRESENT, "serum": State.ABSENT, None: State.INDETERMINATE}[expected]
    assert ex.measurements[0].specimen == expected


def test_a_specimen_text_that_decides_nothing_leaves_the_code_text_to_decide(mapping):
    ex, f = run(
        mapping,
        specimen(text="blood"),
        vegf_obs(
            valueQuantity=q(500),
            specimen={"reference": "Specimen/s1", "display": "venous blood"},
            code={"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF plasma"},
        ),
    )
    assert f.specimen == "plasma" and f.state is State.PRESENT


# --------------------------------------------------------------- no number


@pytest.mark.parametrize(
    ("value", "state", "summary"),
    [
        ("High", State.INDETERMINATE, "VEGF (specimen unknown) reported valueString 'High', no number"),
        ("повышен", State.INDETERMINATE, "VEGF (specimen unknown) reported valueString 'повышен', no number"),
        ("abnormal", State.INDETERMINATE, "VEGF (specimen unknown) reported valueString 'abnormal', no number"),
        ("positive", State.INDETERMINATE, "VEGF (specimen unknown) reported valueString 'positive', no number"),
        (
            "normal",
            State.ABSENT,
            "VEGF (specimen unknown) reported valueString 'normal', no number within the lab's range",
        ),
        (
            "negative",
            State.ABSENT,
            "VEGF (specimen unknown) reported valueString 'negative', no number within the lab's range",
        ),
        ("low", State.ABSENT, "VEGF (specimen unknown) reported valueString 'low', no number within the lab's range"),
    ],
)
def test_a_qualitative_vegf_is_never_a_diagnostic_elevation(mapping, value, state, summary):
    ex, f = run(mapping, vegf_obs(valueString=value))
    assert f.state is state and f.evidence.summary == summary
    assert f.note == (NO_NUMBER if state is State.INDETERMINATE else None)
    assert f.evidence.value is None and ex.measurements == []
    assert [(n.kind, n.rule, n.detail) for n in ex.notes] == [("qualitative", "vegf", f"vegf: valueString {value!r}")]


@pytest.mark.parametrize(
    ("value", "state", "tail"), [("High", State.INDETERMINATE, ""), ("normal", State.ABSENT, " within the lab's range")]
)
def test_a_qualitative_vegf_names_a_known_specimen(mapping, value, state, tail):
    _, f = with_specimen(mapping, PLASMA, valueString=value)
    assert f.state is state and f.specimen == "plasma"
    assert f.evidence.summary == f"VEGF (plasma) reported valueString {value!r}, no number{tail}"


@pytest.mark.parametrize(
    ("extra", "state", "how"),
    [
        (
            {"referenceRange": [{"high": {"value": 100}}]},
            State.INDETERMINATE,
            "150 without a unit, judged against the lab's own range <=100 only",
        ),
        (
            {"referenceRange": [{"high": {"value": 150}}]},
            State.ABSENT,
            "150 without a unit, judged against the lab's own range <=150 only",
        ),
        ({"interpretation": flag("H")}, State.INDETERMINATE, "150 without a unit, judged by its interpretation H only"),
        ({"interpretation": flag("N")}, State.ABSENT, "150 without a unit, judged by its interpretation N only"),
    ],
)
def test_a_number_without_a_unit_is_judged_only_against_the_labs_own_limit(mapping, extra, state, how):
    ex, f = run(mapping, vegf_obs(valueInteger=150, **extra))
    assert f.state is state and ex.measurements == []
    tail = "" if state is State.INDETERMINATE else " within the lab's range"
    assert f.evidence.summary == f"VEGF {how} (specimen unknown){tail}"
    assert f.note == (NO_NUMBER if state is State.INDETERMINATE else None)
    assert [(n.kind, n.detail) for n in ex.notes] == [("unitless", f"vegf: {how}")]


def test_a_number_without_a_unit_or_a_limit_is_an_error(mapping):
    ex = extract(make_record(vegf_obs(valueInteger=150)), mapping)
    assert not_read([f for f in ex.findings if f.topic == TOPIC])
    [err] = ex.errors
    assert "valueInteger 150 has no unit (expected pg/mL); not guessed" in str(err)


def test_a_specimen_contradiction_is_named_in_the_evidence(mapping):
    """probe86 D4: "VEGF, serum" on a plasma Specimen, 600 pg/mL - the Specimen was followed silently
    (present); unknown, the value between the cut-offs is indeterminate and the label says why."""
    _, f = run(
        mapping,
        specimen(PLASMA),
        vegf_obs(
            valueQuantity=q(600),
            specimen={"reference": "Specimen/s1"},
            code={"coding": [{"system": LOINC, "code": "75628-8"}], "text": "VEGF, serum"},
        ),
    )
    assert f.state is State.INDETERMINATE
    assert "specimen unknown: named serum by the test's name and plasma by its Specimen" in f.evidence.summary
