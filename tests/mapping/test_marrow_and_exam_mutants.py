"""Clonal bone-marrow plasma cells (flow cytometry, LOINC 93021-4) and findings recorded as exam
Observations: what each kind of result says about the criteria.

criteria.md §2 MAJ-2 / §6: clonal marrow plasma cells show the clone; a random marrow sample that
shows none is only a weak negative (it does not exclude a clone). An exam Observation coded as a
finding says present/absent by its value; with no value the finding itself was observed."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State, Strength
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, not_read

LOINC, SCT, ICD10 = "http://loinc.org", "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
MAJ2 = "monoclonal_plasma_cell_disorder"
WHY = "random marrow sample: a negative does not exclude a clone"
POSITIVE = {"coding": [{"system": SCT, "code": "10828004", "display": "Positive"}]}
NEGATIVE = {"coding": [{"system": SCT, "code": "260385009", "display": "Negative"}]}


def clonal(**value: Any) -> dict[str, Any]:
    o: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "93021-4"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
    }
    o.update(value)
    return o


def flag(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": V3, "code": code}]}]


def run(mapping, resource: dict[str, Any]):
    ex = extract(make_record(resource), mapping)
    return ex, [f for f in ex.findings if f.topic == MAJ2]


# --------------------------------------------------------------- clonal marrow plasma cells


def test_a_clonal_fraction_above_zero_shows_the_clone_and_is_recorded(mapping):
    ex, [f] = run(
        mapping, clonal(valueQuantity={"value": 4, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"})
    )
    assert ex.errors == []
    assert f.state is State.PRESENT and f.strength is Strength.STRONG and f.note is None
    assert f.evidence.summary.startswith("clonal bone-marrow plasma cells 4") and f.evidence.value == 4
    assert [(m.analyte, m.value) for m in ex.measurements] == [("bm_clonal_plasma_cells", 4)]


def test_zero_clonal_cells_is_only_a_weak_negative(mapping):
    ex, [f] = run(
        mapping, clonal(valueQuantity={"value": 0, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"})
    )
    assert ex.errors == []
    assert f.state is State.ABSENT and f.strength is Strength.WEAK and f.note == WHY
    assert f.evidence.summary.startswith("clonal bone-marrow plasma cells 0")


@pytest.mark.parametrize(("code", "state"), [("H", State.PRESENT), ("N", State.ABSENT)])
def test_a_number_with_a_flag_is_judged_by_the_number(mapping, code, state):
    value = 4 if state is State.PRESENT else 0
    ex, [f] = run(mapping, clonal(valueQuantity={"value": value, "unit": "%"}, interpretation=flag(code)))
    assert f.state is state and f.evidence.value == value
    assert [m.value for m in ex.measurements] == [value]  # the number, not the flag, decides


@pytest.mark.parametrize(("value", "state"), [(3, State.PRESENT), (0, State.ABSENT)])
def test_a_count_without_a_unit_shows_presence_only(mapping, value, state):
    ex, [f] = run(mapping, clonal(valueInteger=value))
    assert ex.errors == [] and ex.measurements == []  # magnitude unknown: never a measurement
    assert f.state is state
    assert f.evidence.summary == (
        f"clonal bone-marrow plasma cells {value} [no unit: used for presence only, magnitude not used]"
    )
    assert (f.strength, f.note) == ((Strength.STRONG, None) if value else (Strength.WEAK, WHY))
    assert [n.kind for n in ex.notes] == ["unitless"]


def test_a_coded_positive_result_shows_the_clone(mapping):
    ex, [f] = run(mapping, clonal(valueCodeableConcept=POSITIVE))
    assert ex.errors == [] and ex.measurements == []
    assert f.state is State.PRESENT and f.strength is Strength.STRONG
    assert f.evidence.summary.startswith("clonal bone-marrow plasma cells detected (")
    assert f.evidence.summary.endswith(", no number)")


@pytest.mark.parametrize("value", [{"valueCodeableConcept": NEGATIVE}, {"valueString": "not detected"}])
def test_a_negative_result_is_a_weak_negative_of_the_clone(mapping, value):
    ex, [f] = run(mapping, clonal(**value))
    assert ex.errors == [] and ex.measurements == []
    assert f.topic == MAJ2 and f.state is State.ABSENT
    assert f.strength is Strength.WEAK and f.note == WHY
    assert f.evidence.summary.startswith("clonal bone-marrow plasma cells not detected (")
    assert f.evidence.summary.endswith(", no number)")


def test_a_low_flag_without_a_number_says_nothing_about_a_clone(mapping):
    # "low" clonal cells neither shows nor excludes a clone: listed as a result the rule cannot use
    ex, found = run(mapping, clonal(valueString="low"))
    assert ex.errors == [] and found == [] and ex.findings == []
    [note] = ex.notes
    assert note.kind == "unused" and note.rule == "bm_clonal_plasma_cells"
    assert note.detail.endswith(": bm_clonal_plasma_cells needs a number") and "low" in note.detail


# --------------------------------------------------------------- a result without a number


def test_a_quantity_without_a_number_or_flag_is_an_error_that_names_the_element(mapping):
    ex, found = run(mapping, clonal(valueQuantity={"unit": "%"}))
    assert not_read(found)
    [err] = ex.errors
    assert err.message == "value: expected a Quantity for bm_clonal_plasma_cells, found valueQuantity"


def test_a_value_of_the_wrong_kind_is_named_in_the_error(mapping):
    # bone-marrow plasma cells (%) need a number; a period says nothing and is reported
    r = clonal(valuePeriod={"start": "2024-01-01"})
    r["code"] = {"coding": [{"system": LOINC, "code": "11118-7"}]}
    ex = extract(make_record(r), mapping)
    assert [e.message for e in ex.errors] == ["value: expected a Quantity for bm_plasma_cells, found valuePeriod"]


def test_no_value_at_all_is_named_as_such(mapping):
    r = clonal()
    r["code"] = {"coding": [{"system": LOINC, "code": "11118-7"}]}
    r["component"] = []
    ex = extract(make_record(r), mapping)
    assert [e.message for e in ex.errors] == ["value: expected a Quantity for bm_plasma_cells, found no value"]


def test_a_flag_alone_cannot_give_a_number_and_says_which_flag(mapping):
    # "positive" for vitamin B12 (a differential, no criterion of its own) has no side to judge
    r = clonal(valueString="positive")
    r["code"] = {"coding": [{"system": LOINC, "code": "2132-9"}]}
    ex = extract(make_record(r), mapping)
    assert [e.message for e in ex.errors] == [
        "value: vitamin_b12 needs a number; valueString 'positive' alone cannot decide it"
    ]


# --------------------------------------------------------------- exam findings


def exam(code: tuple[str, str], **value: Any) -> dict[str, Any]:
    o: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "exam"}]}
        ],
        "code": {"coding": [{"system": code[0], "code": code[1]}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
    }
    o.update(value)
    return o


HEPATOMEGALY = (SCT, "80515008")  # organomegaly, component liver
DIABETIC_PN = (ICD10, "G63.2")  # polyneuropathy + diabetic polyneuropathy + endocrinopathy (pancreatic axis)


def states(mapping, resource: dict[str, Any]) -> dict[str, tuple[State, str, Any, Any]]:
    ex = extract(make_record(resource), mapping)
    assert ex.errors == []
    return {f.topic: (f.state, f.evidence.summary, f.axis, f.component) for f in ex.findings}


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ({"valueString": "present"}, State.PRESENT),
        ({"valueString": "absent"}, State.ABSENT),
        ({"valueString": "не выявлено"}, State.ABSENT),
        ({"valueCodeableConcept": {"text": "detected"}}, State.PRESENT),
        ({"valueCodeableConcept": {"text": "not present"}}, State.ABSENT),
        ({"valueCodeableConcept": POSITIVE}, State.PRESENT),
        ({"valueCodeableConcept": NEGATIVE}, State.ABSENT),
        ({"valueBoolean": False}, State.ABSENT),
        ({"valueBoolean": True}, State.PRESENT),
    ],
)
def test_the_value_of_an_exam_finding_says_present_or_absent(mapping, value, state):
    found = states(mapping, exam(HEPATOMEGALY, **value))
    word = "present" if state is State.PRESENT else "absent"
    assert found == {"organomegaly": (state, f"hepatomegaly {word} on examination", None, "liver")}


def test_a_coded_positive_decides_even_when_its_text_is_not_a_result_term(mapping):
    concept = {"coding": POSITIVE["coding"], "text": "seen on fundoscopy"}
    found = states(mapping, exam(HEPATOMEGALY, valueCodeableConcept=concept))
    assert found["organomegaly"][0] is State.PRESENT


@pytest.mark.parametrize("value", [{"valueString": "see report"}, {"valueCodeableConcept": {"text": "2 cm"}}])
def test_a_value_that_is_neither_yes_nor_no_gives_no_finding(mapping, value):
    assert states(mapping, exam(HEPATOMEGALY, **value)) == {}


def test_an_asserted_finding_without_a_value_was_observed(mapping):
    found = states(mapping, exam(HEPATOMEGALY))
    assert found == {"organomegaly": (State.PRESENT, "hepatomegaly present on examination", None, "liver")}


def test_a_negative_flag_without_a_value_is_absent(mapping):
    found = states(mapping, exam(HEPATOMEGALY, interpretation=flag("NEG")))
    assert found["organomegaly"][0] is State.ABSENT


def test_an_exam_finding_keeps_the_rules_axis_and_names_it_readably(mapping):
    found = states(mapping, exam(DIABETIC_PN, valueBoolean=True))
    summary = "diabetic polyneuropathy present on examination"
    assert set(found) == {"polyneuropathy", "diabetic_polyneuropathy", "endocrinopathy"}
    for state, text, axis, component in found.values():
        assert (state, text, component) == (State.PRESENT, summary, None)
        assert axis is not None and str(getattr(axis, "value", axis)) == "pancreatic"
