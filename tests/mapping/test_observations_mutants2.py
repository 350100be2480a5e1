"""Observations: which rule reads a result (code, component, display-text fallback), a result not
available (dataAbsentReason), the date, and statuses that say nothing.

criteria.md §6 "FHIR encoding": not done = Observation with dataAbsentReason (not-performed) -> the
criterion is NOT_ASSESSED, never absent. README "Codes beyond the table": a local code is matched by
its display text at lower confidence, and says so; a standard (LOINC/SNOMED) code the table does not
hold is a different concept and is not matched by text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.criteria.model import EndocrineAxis, State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation, not_read

LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def q(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def obs(code: dict[str, Any] | str, **kw: Any) -> dict[str, Any]:
    return observation(code, "o1", **kw)


def run(mapping, *resources: dict[str, Any], listed: tuple[str, ...] = ()):
    """The extraction, whose listed problems begin with ``listed`` (none by default)."""
    ex = extract(make_record(*resources), mapping)
    assert [e.message[: len(p)] for e, p in zip(ex.errors, listed, strict=False)] == list(listed)
    assert len(ex.errors) == len(listed)
    return ex


# --------------------------------------------------------------- not available


@pytest.mark.parametrize(
    ("code", "topic", "label", "axis"),
    [
        ("75628-8", "vegf_elevation", "vegf", None),
        ("25700-6", "monoclonal_plasma_cell_disorder", "serum ife", None),
        ("33358-3", "monoclonal_plasma_cell_disorder", "serum m protein", None),
        ("48378-4", "monoclonal_plasma_cell_disorder", "flc ratio", None),
        ("93021-4", "monoclonal_plasma_cell_disorder", "bm clonal plasma cells", None),
        ("2986-8", "endocrinopathy", "testosterone", EndocrineAxis.GONADAL),
        ("777-3", "thrombocytosis_polycythemia", "platelets", None),
    ],
)
@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ({"coding": [{"system": DAR, "code": "not-performed"}], "text": "not done"}, "not-performed"),
        ({"text": "sample haemolysed"}, "sample haemolysed"),
        ({}, "unknown"),
    ],
)
def test_a_result_not_available_leaves_its_criterion_not_assessed(mapping, code, topic, label, axis, reason, shown):
    ex = run(mapping, obs(code, dataAbsentReason=reason))
    [f] = ex.findings
    assert (f.topic, f.state, f.axis) == (topic, State.NOT_ASSESSED, axis)
    assert f.evidence.summary == f"{label}: not available ({shown})"
    assert f.evidence.reference == "Observation/o1" and f.source_rule == label.replace(" ", "_")
    assert ex.measurements == [] and ex.notes == []


@pytest.mark.parametrize("code", ["1751-7", "2132-9", "11118-7"])
def test_a_result_not_available_for_a_rule_without_a_criterion_says_nothing(mapping, code):
    ex = run(mapping, obs(code, dataAbsentReason={"coding": [{"system": DAR, "code": "not-performed"}]}))
    assert ex.findings == [] and ex.measurements == []


# --------------------------------------------------------------- which rule


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_a_withdrawn_result_says_nothing(mapping, status):
    ex = run(mapping, obs("777-3", status=status, valueQuantity=q(500, "10*9/L")))
    assert ex.findings == [] and ex.measurements == [] and ex.used == {}


def test_a_result_used_is_recorded_with_its_version(mapping):
    ex = run(mapping, obs("777-3", valueQuantity=q(500, "10*9/L"), meta={"versionId": "7"}))
    assert ex.used == {"Observation/o1": "7"}


def test_a_local_and_a_loinc_coding_of_one_test_count_once(mapping):
    code = {
        "coding": [
            {"system": "http://lab.local", "code": "PLT"},
            {"system": LOINC, "code": "777-3"},
            {"system": LOINC, "code": "26515-7"},
        ]
    }
    ex = run(mapping, obs(code, valueQuantity=q(500, "10*9/L")))
    assert [f.topic for f in ex.findings] == ["thrombocytosis_polycythemia"]
    assert len(ex.measurements) == 1
    assert ex.findings[0].evidence.code == f"{LOINC}|777-3"  # the coding the rule knows


def test_each_component_is_read_with_its_own_rule(mapping):
    panel = obs(
        {"text": "CBC"},
        component=[
            {"code": {"coding": [{"system": LOINC, "code": "777-3"}]}, "valueQuantity": q(500, "10*9/L")},
            "not a component",
            {"code": {"coding": [{"system": LOINC, "code": "718-7"}]}, "valueQuantity": q(170, "g/L")},
        ],
    )
    ex = run(mapping, panel)
    assert sorted((f.component, f.state, f.evidence.code) for f in ex.findings) == [
        ("polycythemia", State.PRESENT, f"{LOINC}|718-7"),
        ("thrombocytosis", State.PRESENT, f"{LOINC}|777-3"),
    ]
    assert sorted(m.analyte for m in ex.measurements) == ["hemoglobin", "platelets"]


def test_an_error_in_a_component_names_the_component(mapping):
    panel = obs(
        {"text": "Panel"},
        component=[{"code": {"coding": [{"system": LOINC, "code": "75628-8"}]}, "valueString": "abc"}],
    )
    ex = extract(make_record(panel), mapping)
    [err] = ex.errors
    assert "component[0].value: expected a Quantity for vegf, found valueString" in str(err)
    assert not_read(ex.findings) and ex.measurements == []


@pytest.mark.parametrize(
    ("code", "shown", "local"),
    [
        (
            {"coding": [{"system": "http://lab.local", "code": "V9", "display": "VEGF-A, serum (send-out)"}]},
            "VEGF-A, serum (send-out)",
            "http://lab.local|V9",
        ),
        ({"text": "  VEGF, serum  "}, "VEGF, serum", "code.text only"),
        (
            {"coding": [{"system": "http://lab.local", "code": "V9"}], "text": "VEGF serum"},
            "VEGF serum",
            "http://lab.local|V9",
        ),
    ],
)
def test_a_local_code_is_matched_by_its_name_at_lower_confidence(mapping, code, shown, local):
    ex = run(mapping, obs(code, valueQuantity=q(1200, "pg/mL")))
    [f] = ex.findings
    assert (f.topic, f.state, f.specimen) == ("vegf_elevation", State.PRESENT, "serum")
    assert f.evidence.summary == (
        "VEGF 1200 pg/mL (serum) >= 1000 pg/mL cut-off (an UNVERIFIED cut-off: confirm before clinical use) "
        f"[test identified by its name {shown!r} only: lower confidence]"
    )
    assert f.evidence.code == (None if local == "code.text only" else local)
    assert [(n.kind, n.rule, n.detail) for n in ex.notes] == [("text_fallback", "vegf", f"{shown!r} ({local})")]


@pytest.mark.parametrize(
    "code",
    [
        {"coding": [{"system": LOINC, "code": "99999-9", "display": "VEGF"}]},  # a standard code: another concept
        {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "1"},
                {"system": "http://lab.local", "code": "V", "display": "VEGF"},
            ]
        },
        {"text": "free kappa and free lambda"},  # two rules match: ambiguous
        {"text": "   "},
    ],
)
def test_a_name_is_not_used_when_it_could_mean_another_concept(mapping, code):
    # a blank text names no test at all: listed since probe140 D14
    listed = ("Observation has no code",) if code == {"text": "   "} else ()
    ex = run(mapping, obs(code, valueQuantity=q(1200, "pg/mL")), listed=listed)
    assert ex.findings == [] and ex.measurements == []
    assert [n for n in ex.notes if n.kind == "text_fallback"] == []


# --------------------------------------------------------------- the date


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ({"effectiveDateTime": "2024-01-02T10:00:00Z"}, dt.date(2024, 1, 2)),
        ({"effectiveInstant": "2024-02-03T10:00:00Z"}, dt.date(2024, 2, 3)),
        ({"issued": "2024-03-04T10:00:00Z"}, dt.date(2024, 3, 4)),
        ({"effectivePeriod": {"start": "2024-04-05", "end": "2024-04-09"}}, dt.date(2024, 4, 5)),
        ({"effectivePeriod": {"end": "2024-04-09"}}, dt.date(2024, 4, 9)),
        ({"effectiveDateTime": "2024-01-02", "issued": "2024-01-09T10:00:00Z"}, dt.date(2024, 1, 2)),
        ({}, None),
    ],
)
def test_the_date_of_a_result(mapping, dates, expected):
    o = obs("777-3", valueQuantity=q(500, "10*9/L"))
    del o["effectiveDateTime"]
    o.update(dates)
    ex = run(mapping, o)
    assert ex.findings[0].evidence.effective == expected
    assert ex.measurements[0].effective == expected


# --------------------------------------------------------------- an Observation no code rule knows: its words


SCT = "http://snomed.info/sct"


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ({"valueString": "absent"}, State.ABSENT),
        ({"valueString": "No."}, State.ABSENT),
        ({"valueString": "нет"}, State.ABSENT),
        ({"valueString": "не выявлено"}, State.ABSENT),
        ({"valueString": "yes"}, State.PRESENT),
        ({"valueString": "Present"}, State.PRESENT),
        ({"valueString": "да"}, State.PRESENT),
        ({"valueCodeableConcept": {"coding": [{"system": SCT, "code": "260385009"}]}}, State.ABSENT),
        ({"valueBoolean": False}, State.ABSENT),
        ({"valueBoolean": True}, State.PRESENT),
        ({}, State.PRESENT),  # the finding itself, as a question with no answer, is the assertion
    ],
)
def test_an_uncoded_finding_question_is_answered_by_its_value(mapping, value, state):
    ex = run(mapping, obs({"text": "Hepatomegaly"}, **value))
    [f] = ex.findings
    assert (f.topic, f.component, f.state, f.from_text) == ("organomegaly", "liver", state, True)
    assert f.evidence.summary == 'Hepatomegaly: "Hepatomegaly" (from text, code.text)'
    assert f.evidence.effective == dt.date(2024, 1, 2)


def test_the_notes_of_an_unknown_observation_are_read(mapping):
    ex = run(mapping, obs({"text": "Exam"}, note=[{"text": "Splenomegaly noted."}, "not a note", {"text": 5}]))
    [f] = ex.findings
    assert (f.topic, f.component, f.state) == ("organomegaly", "spleen", State.PRESENT)
    assert f.evidence.summary == 'Exam: "Splenomegaly noted." (from text, note[0])'


def test_a_free_text_value_of_a_coded_unknown_observation_is_read(mapping):
    ex = run(mapping, obs({"coding": [{"system": LOINC, "code": "8888-8"}]}, valueString="Splenomegaly"))
    [f] = ex.findings
    assert (f.component, f.state, f.evidence.summary) == (
        "spleen",
        State.PRESENT,
        '"Splenomegaly" (from text, valueString)',
    )


def test_the_code_text_of_a_coded_observation_is_its_name_not_a_finding(mapping):
    ex = run(
        mapping, obs({"coding": [{"system": LOINC, "code": "8888-8"}], "text": "Hepatomegaly"}, valueString="absent")
    )
    assert ex.findings == []


@pytest.mark.parametrize(
    "kw", [{"valueString": "80"}, {"valueQuantity": q(80, "/min")}, {"note": [{"text": "patient calm"}]}]
)
def test_vitals_and_the_like_say_nothing(mapping, kw):
    ex = run(mapping, obs({"text": "Heart rate"}, **kw))
    assert ex.findings == [] and ex.notes == []


# --------------------------------------------------------------- exam findings and course, by code


def test_an_exam_observation_coded_as_a_finding_is_read_as_that_finding(mapping):
    o = obs(
        {"coding": [{"system": SCT, "code": "80515008"}]},
        valueCodeableConcept={"coding": [{"system": SCT, "code": "260385009"}]},
    )
    ex = run(mapping, o)
    [f] = ex.findings
    assert (f.topic, f.component, f.state, f.from_text) == ("organomegaly", "liver", State.ABSENT, False)
    assert f.evidence.summary == "hepatomegaly absent on examination"
    assert ex.course == []


def test_a_course_observation_is_read_as_a_course(mapping):
    o = obs(
        {"coding": [{"system": "https://poems-fhir.org/CodeSystem/clinical-course", "code": "neuropathy"}]},
        valueString="worse",
    )
    ex = run(mapping, o)
    assert ex.findings == []
    assert [(c.domain, c.direction, c.effective) for c in ex.course] == [("neuropathy", "worse", dt.date(2024, 1, 2))]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"effectivePeriod": {"start": "soon"}}, "effectivePeriod is not a FHIR date: 'soon'"),
        ({"effectiveDateTime": "soon"}, "effectiveDateTime is not a FHIR date: 'soon'"),
        ({"issued": 5}, "issued is not a date string: 5"),
    ],
)
def test_a_bad_result_date_is_an_error_that_names_the_element(mapping, period, message):
    o = obs("777-3", valueQuantity=q(500, "10*9/L"))
    del o["effectiveDateTime"]
    o.update(period)
    ex = extract(make_record(o), mapping)
    assert ex.findings == []
    [err] = ex.errors
    assert err.message == message


def test_a_local_code_without_a_system_is_not_named_as_the_code(mapping):
    code = {"coding": [{"code": "V9", "display": "VEGF-A, serum (send-out)"}]}
    ex = run(mapping, obs(code, valueQuantity=q(1200, "pg/mL")))
    [f] = ex.findings
    assert f.evidence.code is None
    assert [(n.kind, n.reference, n.detail) for n in ex.notes] == [
        ("text_fallback", "Observation/o1", "'VEGF-A, serum (send-out)' (code.text only)")
    ]


def test_an_observation_coded_without_a_system_is_read_by_its_words(mapping):
    # a code without a system identifies nothing: the code.text is the clinician's words
    ex = run(mapping, obs({"coding": [{"code": "X1"}], "text": "Hepatomegaly"}, valueString="absent"))
    [f] = ex.findings
    assert (f.component, f.state, f.from_text) == ("liver", State.ABSENT, True)


def test_only_notes_are_read_when_there_is_no_code_text_or_value_string(mapping):
    ex = run(mapping, obs({"coding": [{"system": LOINC, "code": "8888-8"}]}, note=[{"text": "Splenomegaly."}]))
    [f] = ex.findings
    assert (f.component, f.state) == ("spleen", State.PRESENT)


def test_a_code_of_the_wrong_shape_reads_nothing(mapping):
    ex = extract(make_record(obs("777-3", valueQuantity=q(500, "10*9/L")) | {"code": "platelets"}), mapping)
    assert ex.findings == [] and ex.measurements == []


def test_a_display_is_not_the_clinicians_text(mapping):
    # only code.text is read as words; a coding's display names a test, and no rule knows this one
    ex = run(mapping, obs({"coding": [{"display": "Hepatomegaly"}]}))
    assert ex.findings == []


# --------------------------------------------------------------- reading the value: units, codes, evidence


@pytest.mark.parametrize(
    ("code", "quantity", "analyte", "value", "unit"),
    [
        ("2986-8", {"value": 300, "unit": "ng/dL", "system": UCUM, "code": "ng/dL"}, "testosterone", 10.4015, "nmol/L"),
        ("777-3", {"value": 500000, "unit": "/uL", "system": UCUM, "code": "/uL"}, "platelets", 500, "10*9/L"),
        ("75628-8", {"value": 250, "unit": "ng/L", "system": UCUM, "code": "ng/L"}, "vegf", 250, "pg/mL"),
    ],
)
def test_a_value_is_converted_to_the_rules_unit(mapping, code, quantity, analyte, value, unit):
    # testosterone mass -> molar needs its molar mass (288.42 g/mol, mappings/default.yaml)
    ex = run(mapping, obs(code, valueQuantity=quantity))
    [m] = ex.measurements
    assert (m.analyte, m.unit) == (analyte, unit) and m.value == pytest.approx(value, abs=1e-4)
    assert ex.findings[0].evidence.value == pytest.approx(value, abs=1e-4)


def test_the_evidence_value_is_rounded_to_4_decimals(mapping):
    ratio = obs(
        "48378-4",
        valueQuantity={"value": 0.123456, "unit": "{ratio}"},
        referenceRange=[{"low": {"value": 0.26}, "high": {"value": 1.65}}],
    )
    ex = run(mapping, ratio)
    assert ex.findings[0].evidence.value == 0.1235
    assert ex.measurements[0].value == 0.123456  # the measurement keeps the value as sent


def test_a_coded_qualitative_result_is_read_by_its_code(mapping):
    ex = run(mapping, obs("75628-8", valueCodeableConcept={"coding": [{"system": SCT, "code": "75540009"}]}))
    [f] = ex.findings
    assert f.state is State.INDETERMINATE
    assert f.evidence.summary == f"VEGF (specimen unknown) reported coded value {SCT}|75540009, no number"
    assert [(n.kind, n.reference) for n in ex.notes] == [("qualitative", "Observation/o1")]


def test_every_caveat_of_a_value_is_listed_in_its_evidence(mapping):
    code = {"coding": [{"system": "http://lab.local", "code": "P1", "display": "Platelet count"}]}
    ex = run(mapping, obs(code, valueQuantity={"value": 500, "unit": "10^9/L"}))
    [f] = ex.findings
    assert f.evidence.summary == (
        "platelets 500 10*9/L (high) [unit '10^9/L' read as 10*9/L (unit table); "
        "test identified by its name 'Platelet count' only: lower confidence]"
    )


def test_an_irrelevant_observation_is_not_even_dated(mapping):
    # nothing in it could name a finding: its bad date is no error
    ex = run(mapping, obs({"text": "Heart rate"}, valueString="80", effectiveDateTime="soon"))
    assert ex.findings == []


def test_a_coded_negative_answer_wins_whatever_its_words(mapping):
    value = {"coding": [{"system": SCT, "code": "260385009"}], "text": "Nil"}
    ex = run(mapping, obs({"text": "Hepatomegaly"}, valueCodeableConcept=value))
    [f] = ex.findings
    assert (f.component, f.state) == ("liver", State.ABSENT)


def test_the_answer_to_the_question_does_not_negate_the_notes(mapping):
    ex = run(mapping, obs({"text": "Hepatomegaly"}, valueString="no", note=[{"text": "Splenomegaly noted."}]))
    assert sorted((f.component, f.state) for f in ex.findings) == [("liver", State.ABSENT), ("spleen", State.PRESENT)]


def test_a_coded_result_with_stray_spaces_is_still_read(mapping):
    value = {"coding": [{"system": "http://snomed.info/sct ", "code": " 75540009 "}]}
    ex = run(mapping, obs("75628-8", valueCodeableConcept=value))
    assert [f.state for f in ex.findings] == [State.INDETERMINATE]


def test_a_data_absent_reason_of_the_wrong_shape_still_means_not_available(mapping):
    ex = run(mapping, obs("75628-8", dataAbsentReason="not-performed"))
    [f] = ex.findings
    assert (f.state, f.evidence.summary) == (State.NOT_ASSESSED, "vegf: not available (unknown)")


@pytest.mark.parametrize(
    ("code", "value", "rr", "topic", "state"),
    [
        # the lab's range in another unit is converted to the rule's unit before comparing
        (
            "777-3",
            q(420, "10*9/L"),
            {"high": {"value": 400000, "unit": "/uL", "system": UCUM, "code": "/uL"}},
            "thrombocytosis_polycythemia",
            State.PRESENT,
        ),
        (
            "2986-8",
            q(5, "nmol/L"),
            {"low": {"value": 264, "unit": "ng/dL", "system": UCUM, "code": "ng/dL"}},
            "endocrinopathy",
            State.PRESENT,
        ),  # 264 ng/dL = 9.15 nmol/L (molar mass 288.42)
        (
            "2986-8",
            q(10, "nmol/L"),
            {"low": {"value": 264, "unit": "ng/dL", "system": UCUM, "code": "ng/dL"}},
            "endocrinopathy",
            State.ABSENT,
        ),
    ],
)
def test_a_reference_range_in_another_unit_is_converted(mapping, code, value, rr, topic, state):
    ex = run(mapping, obs(code, valueQuantity=value, referenceRange=[rr]))
    assert [(f.topic, f.state) for f in ex.findings] == [(topic, state)]
