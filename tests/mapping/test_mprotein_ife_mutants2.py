"""Immunofixation and M-protein results (MAJ-2, monoclonal plasma-cell disorder): the finding, its
isotype, its strength, and the 1/0 the response timeline needs.

criteria.md §2 MAJ-2 (serum/urine IFE with isotype, M-spike; lambda expected), §6 (IFE is the test
of MAJ-2; SPEP only may miss a small M-protein -> a negative electrophoresis is only a weak negative),
§8.1 (hematologic response follows the M-protein and IFE over time)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State, Strength
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record, observation, not_read

LOINC, SCT, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
MAJ2 = "monoclonal_plasma_cell_disorder"
SERUM_IFE, URINE_IFE, SERUM_MP, URINE_MP = "25700-6", "13440-3", "33358-3", "42482-0"
WEAK = "electrophoresis only: may miss a small M-protein"


def concept(code: str, display: str, system: str = SCT) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


POSITIVE, DETECTED = concept("10828004", "Positive"), concept("260373001", "Detected")
NEGATIVE, NOT_DETECTED = concept("260385009", "Negative"), concept("260415000", "Not detected")


def obs(code: str, **kw: Any) -> dict[str, Any]:
    return observation(code, "m1", **kw)


def flag(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": V3, "code": code}]}]


def run(mapping, resource: dict[str, Any]):
    ex = extract(make_record(resource), mapping)
    assert ex.errors == []
    assert all(f.topic == MAJ2 for f in ex.findings)
    return ex, ex.findings


def timeline(ex) -> list[tuple[str, float, str | None, str | None]]:
    return [(m.analyte, m.value, m.unit, m.specimen) for m in ex.measurements]


# --------------------------------------------------------------- immunofixation


@pytest.mark.parametrize(
    ("code", "analyte", "specimen"), [(SERUM_IFE, "serum_ife", "serum"), (URINE_IFE, "urine_ife", "urine")]
)
def test_an_isotype_is_a_present_finding_per_band_and_a_1_on_the_timeline(mapping, code, analyte, specimen):
    ex, found = run(mapping, obs(code, valueString="IgA lambda"))
    [f] = found
    assert (f.state, f.strength, f.heavy_chain, f.light_chain) == (State.PRESENT, Strength.STRONG, "IgA", "lambda")
    assert f.evidence.summary == f"{specimen} immunofixation: IgA lambda"
    assert f.evidence.reference == "Observation/m1" and f.source_rule == analyte
    assert timeline(ex) == [(analyte, 1.0, None, specimen)]


def test_two_bands_are_two_findings_and_one_timeline_point(mapping):
    ex, found = run(mapping, obs(SERUM_IFE, valueString="IgG kappa and IgA lambda"))
    assert sorted((f.heavy_chain, f.light_chain) for f in found) == [("IgA", "lambda"), ("IgG", "kappa")]
    assert all(f.state is State.PRESENT for f in found)
    assert timeline(ex) == [("serum_ife", 1.0, None, "serum")]


@pytest.mark.parametrize(
    "value",
    [
        {"valueCodeableConcept": POSITIVE},
        {"valueCodeableConcept": DETECTED},
        {"valueBoolean": True},
        {"interpretation": flag("POS")},
        {"interpretation": flag("DET")},
    ],
)
def test_a_positive_without_an_isotype(mapping, value):
    ex, [f] = run(mapping, obs(SERUM_IFE, **value))
    assert (f.state, f.strength, f.heavy_chain, f.light_chain) == (State.PRESENT, Strength.STRONG, None, None)
    assert f.evidence.summary == "serum immunofixation positive (isotype not stated)"
    assert timeline(ex) == [("serum_ife", 1.0, None, "serum")]


@pytest.mark.parametrize(
    "value",
    [
        {"valueCodeableConcept": NEGATIVE},
        {"valueCodeableConcept": NOT_DETECTED},
        {"valueBoolean": False},
        {"interpretation": flag("NEG")},
        {"valueString": "negative"},
        {"valueString": "no monoclonal protein detected"},
    ],
)
def test_a_negative_immunofixation_is_a_strong_absent_and_a_0(mapping, value):
    ex, [f] = run(mapping, obs(SERUM_IFE, **value))
    assert (f.state, f.strength, f.note) == (State.ABSENT, Strength.STRONG, None)  # IFE is the test of MAJ-2
    assert f.evidence.summary == "serum immunofixation negative"
    assert timeline(ex) == [("serum_ife", 0.0, None, "serum")]
    # of urine alone, a low-grade negative: the small serum bands of POEMS need the serum test
    # (criteria.md §4 "serum + urine IFE"; a probe: a urine IFE alone made the patient "not met")
    ex, [f] = run(mapping, obs(URINE_IFE, **value))
    assert (f.state, f.strength) == (State.ABSENT, Strength.WEAK)
    assert f.note == "a urine immunofixation alone does not exclude a serum M-protein: serum immunofixation needed"
    assert f.evidence.summary == "urine immunofixation negative"
    assert timeline(ex) == [("urine_ife", 0.0, None, "urine")]


@pytest.mark.parametrize(
    ("value", "state", "summary", "point"),
    [
        (
            {"valueString": "abnormal"},
            State.PRESENT,
            "serum immunofixation positive (isotype not stated; valueString 'abnormal', no number)",
            1.0,
        ),
        (
            {"interpretation": flag("A")},
            State.PRESENT,
            "serum immunofixation positive (isotype not stated; interpretation A, no number)",
            1.0,
        ),
        (
            {"valueString": "normal"},
            State.ABSENT,
            "serum immunofixation negative (valueString 'normal', no number)",
            0.0,
        ),
        (
            {"interpretation": flag("N")},
            State.ABSENT,
            "serum immunofixation negative (interpretation N, no number)",
            0.0,
        ),
    ],
)
def test_a_qualitative_word_or_flag(mapping, value, state, summary, point):
    ex, [f] = run(mapping, obs(SERUM_IFE, **value))
    assert (f.state, f.evidence.summary, f.heavy_chain) == (state, summary, None)
    assert timeline(ex) == [("serum_ife", point, None, "serum")]


@pytest.mark.parametrize(
    ("value", "shown"), [({"valueString": "see comment"}, "'see comment'"), ({"valueString": "high"}, "'high'")]
)
def test_an_unrecognised_immunofixation_result_is_an_error(mapping, value, shown):
    ex = extract(make_record(obs(SERUM_IFE, **value)), mapping)
    assert not_read(ex.findings) and ex.measurements == []
    [err] = ex.errors
    assert f"unrecognised immunofixation result {shown}: expected e.g. 'IgA lambda' or 'negative'" in str(err)


def test_a_coded_value_outside_snomed_positive_negative_is_read_by_its_text(mapping):
    ex, [f] = run(
        mapping,
        obs(
            SERUM_IFE,
            valueCodeableConcept={"coding": [{"system": "http://lab.local", "code": "X"}], "text": "IgG lambda"},
        ),
    )
    assert (f.state, f.heavy_chain, f.light_chain) == (State.PRESENT, "IgG", "lambda")


def test_a_positive_flag_does_not_override_a_written_result(mapping):
    # the text is the result, the flag does not make it a clone; but a negative the lab flags positive is
    # no firm negative either (probe79 D2: it excluded POEMS)
    ex, [f] = run(mapping, obs(SERUM_IFE, valueString="negative", interpretation=flag("POS")))
    assert f.state is State.INDETERMINATE


# --------------------------------------------------------------- M-protein (electrophoresis)


@pytest.mark.parametrize(
    ("code", "quantity", "analyte", "specimen", "text"),
    [
        (
            SERUM_MP,
            {"value": 0.5, "unit": "g/dL", "system": UCUM, "code": "g/dL"},
            "serum_m_protein",
            "serum",
            "serum M-protein 0.5 g/dL (= 5 g/L)",  # the lab's value first, converted beside it
        ),
        (
            URINE_MP,
            {"value": 150, "unit": "mg/(24.h)", "system": UCUM, "code": "mg/(24.h)"},
            "urine_m_protein",
            "urine",
            "urine M-protein 150 mg/(24.h)",
        ),
    ],
)
def test_a_measured_m_protein_shows_the_clone_and_is_recorded(mapping, code, quantity, analyte, specimen, text):
    ex, [f] = run(mapping, obs(code, valueQuantity=quantity))
    assert (f.state, f.strength, f.note, f.evidence.summary) == (State.PRESENT, Strength.STRONG, None, text)
    assert f.evidence.value == float(text.split("= ")[-1].split()[0] if "= " in text else text.split()[2])
    [m] = ex.measurements
    assert (m.analyte, m.specimen) == (analyte, specimen)


def test_a_zero_m_protein_is_only_a_weak_negative(mapping):
    ex, [f] = run(mapping, obs(SERUM_MP, valueQuantity={"value": 0, "unit": "g/L", "system": UCUM, "code": "g/L"}))
    assert (f.state, f.strength, f.note) == (State.ABSENT, Strength.WEAK, WEAK)
    assert f.evidence.summary == "serum M-protein 0 g/L" and f.evidence.value == 0
    assert [(m.analyte, m.value) for m in ex.measurements] == [("serum_m_protein", 0)]


@pytest.mark.parametrize(("value", "state"), [(3, State.PRESENT), (0, State.ABSENT)])
def test_an_m_protein_without_a_unit_shows_presence_only(mapping, value, state):
    ex, [f] = run(mapping, obs(SERUM_MP, valueInteger=value))
    assert f.state is state and ex.measurements == []
    assert f.evidence.summary == f"serum M-protein {value} [no unit: used for presence only, magnitude not used]"
    assert (f.strength, f.note) == ((Strength.STRONG, None) if value else (Strength.WEAK, WEAK))
    assert [(n.kind, n.detail) for n in ex.notes] == [
        ("unitless", f"serum_m_protein: {value} without a unit used for presence only")
    ]


@pytest.mark.parametrize(
    ("value", "state", "summary", "note"),
    [
        (
            {"valueString": "detected"},
            State.PRESENT,
            "serum M-protein detected (valueString 'detected')",
            "serum_m_protein: valueString 'detected'",
        ),
        (
            {"valueString": "not detected"},
            State.ABSENT,
            "serum M-protein not detected (valueString 'not detected')",
            "serum_m_protein: valueString 'not detected'",
        ),
        (
            {"valueString": "abnormal"},
            State.PRESENT,
            "serum M-protein detected (valueString 'abnormal')",
            "serum_m_protein: valueString 'abnormal'",
        ),
        (
            {"valueString": "normal"},
            State.ABSENT,
            "serum M-protein not detected (valueString 'normal')",
            "serum_m_protein: valueString 'normal'",
        ),
        (
            {"interpretation": flag("H")},
            State.PRESENT,
            "serum M-protein detected (interpretation H)",
            "serum_m_protein: interpretation H",
        ),
        (
            {"valueCodeableConcept": POSITIVE},
            State.PRESENT,
            "serum M-protein detected",
            "serum_m_protein: coded value http://snomed.info/sct|10828004",
        ),
        (
            {"valueCodeableConcept": NEGATIVE},
            State.ABSENT,
            "serum M-protein not detected",
            "serum_m_protein: coded value http://snomed.info/sct|260385009",
        ),
    ],
)
def test_a_qualitative_m_protein(mapping, value, state, summary, note):
    ex, [f] = run(mapping, obs(SERUM_MP, **value))
    assert (f.state, f.evidence.summary) == (state, summary)
    positive = state is State.PRESENT
    assert (f.strength, f.note) == ((Strength.STRONG, None) if positive else (Strength.WEAK, WEAK))
    # no spike is 0 in any unit: on the response timeline as 0 g/L, as a coded 0 g/L would be
    assert timeline(ex) == ([] if positive else [("serum_m_protein", 0.0, "g/L", "serum")])
    assert [(n.kind, n.rule, n.detail) for n in ex.notes] == [("qualitative", "serum_m_protein", note)]


@pytest.mark.parametrize(
    ("value", "state"), [({"valueBoolean": True}, State.PRESENT), ({"valueBoolean": False}, State.ABSENT)]
)
def test_a_boolean_m_protein(mapping, value, state):
    ex, [f] = run(mapping, obs(SERUM_MP, **value))
    assert f.state is state
    assert f.evidence.summary == f"serum M-protein {'detected' if state is State.PRESENT else 'not detected'}"
    assert f.strength is (Strength.STRONG if state is State.PRESENT else Strength.WEAK)


def test_an_m_protein_naming_its_isotype_is_a_finding_with_that_isotype(mapping):
    ex, [f] = run(mapping, obs(SERUM_MP, valueString="IgG kappa"))
    assert (f.state, f.heavy_chain, f.light_chain) == (State.PRESENT, "IgG", "kappa")
    assert f.evidence.summary == "serum M-protein IgG kappa" and f.strength is Strength.STRONG
    assert ex.measurements == []


def test_an_unreadable_m_protein_is_an_error(mapping):
    ex = extract(make_record(obs(SERUM_MP, valueString="see comment")), mapping)
    assert not_read(ex.findings) and ex.measurements == []
    [err] = ex.errors
    assert "M-protein result 'see comment' is neither a quantity nor detected/not detected" in str(err)


# --------------------------------------------------------------- how a coded value is read


def test_a_coded_positive_whose_text_names_the_isotype_keeps_the_isotype(mapping):
    value = {"coding": [{"system": SCT, "code": "10828004"}], "text": "IgA lambda"}
    ex, [f] = run(mapping, obs(SERUM_IFE, valueCodeableConcept=value))
    assert (f.state, f.heavy_chain, f.light_chain) == (State.PRESENT, "IgA", "lambda")
    assert f.evidence.summary == "serum immunofixation: IgA lambda"


@pytest.mark.parametrize(
    ("code", "state", "summary"),
    [
        ("260415000", State.ABSENT, "serum immunofixation negative"),
        ("260385009", State.ABSENT, "serum immunofixation negative"),
        ("10828004", State.PRESENT, "serum immunofixation positive (isotype not stated)"),
        ("260373001", State.PRESENT, "serum immunofixation positive (isotype not stated)"),
    ],
)
def test_a_snomed_positive_or_negative_without_a_display_is_read_by_its_code(mapping, code, state, summary):
    ex, [f] = run(mapping, obs(SERUM_IFE, valueCodeableConcept={"coding": [{"system": SCT, "code": code}]}))
    assert (f.state, f.evidence.summary) == (state, summary)
    assert timeline(ex) == [("serum_ife", 1.0 if state is State.PRESENT else 0.0, None, "serum")]


def test_a_negative_code_of_another_system_is_not_a_snomed_negative(mapping):
    # 260385009 means "Negative" in SNOMED CT only; elsewhere it is just a code with its words
    value = {"coding": [{"system": "http://lab.local", "code": "260385009"}], "text": "IgG kappa"}
    ex, [f] = run(mapping, obs(SERUM_IFE, valueCodeableConcept=value))
    assert (f.state, f.heavy_chain, f.light_chain) == (State.PRESENT, "IgG", "kappa")


@pytest.mark.parametrize(("code", "state"), [("263654008", State.PRESENT), ("17621005", State.ABSENT)])
def test_another_snomed_result_code_is_neither_positive_nor_negative_by_itself(mapping, code, state):
    # SNOMED "Abnormal" / "Normal" (result_codes): read as the qualitative result they are
    ex, [f] = run(mapping, obs(SERUM_IFE, valueCodeableConcept={"coding": [{"system": SCT, "code": code}]}))
    assert f.state is state
    word = "positive (isotype not stated; " if state is State.PRESENT else "negative ("
    assert f.evidence.summary == f"serum immunofixation {word}coded value {SCT}|{code}, no number)"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (SERUM_IFE, "immunofixation has no result (no value[x] and no dataAbsentReason): nothing to read"),
        (SERUM_MP, "M-protein result '' is neither a quantity nor detected/not detected"),
    ],
)
def test_a_result_with_no_value_at_all_is_an_error_that_shows_it_is_empty(mapping, code, message):
    ex = extract(make_record(obs(code)), mapping)
    assert not_read(ex.findings) and ex.measurements == []
    [err] = ex.errors
    assert message in str(err)


COURSE = {"coding": [{"system": "https://poems-fhir.org/CodeSystem/clinical-course", "code": "neuropathy"}]}


@pytest.mark.parametrize(("code", "shown"), [("10828004", "Positive"), ("260385009", "Negative")])
def test_a_course_answered_positive_or_negative_is_an_error_that_quotes_the_answer(mapping, code, shown):
    o = obs(SERUM_IFE, valueCodeableConcept=concept(code, shown))
    o["code"] = COURSE
    ex = extract(make_record(o), mapping)
    assert ex.course == []
    [err] = ex.errors
    assert f"course assessment {shown!r} is not one of ['improved', 'stable', 'worse']" in str(err)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({"valueBoolean": True}, "positive"),
        ({"valueBoolean": False}, "negative"),
        ({"interpretation": flag("POS")}, "positive"),
        ({"interpretation": flag("NEG")}, "negative"),
    ],
)
def test_a_course_answered_yes_or_no_is_an_error_that_says_which(mapping, value, shown):
    o = obs(SERUM_IFE, **value)
    o["code"] = COURSE
    ex = extract(make_record(o), mapping)
    assert ex.course == []
    [err] = ex.errors
    assert f"course assessment {shown!r} is not one of ['improved', 'stable', 'worse']" in str(err)


SITE = """format: poems-fhir-mapping/1
name: site
version: '1'
observations:
  - id: site_ife
    role: immunofixation
    codes: [{system: "https://h.example/lab", code: IFE, verification: LOCAL}]
  - id: site_m_protein
    role: m_protein
    unit: g/L
    codes: [{system: "https://h.example/lab", code: MP, verification: LOCAL}]
"""


@pytest.mark.parametrize(
    ("code", "value", "summary"),
    [
        ("IFE", {"valueString": "IgA lambda"}, "serum immunofixation: IgA lambda"),
        ("IFE", {"valueString": "negative"}, "serum immunofixation negative"),
        ("MP", {"valueString": "detected"}, "serum M-protein detected (valueString 'detected')"),
        ("MP", {"valueQuantity": {"value": 3, "unit": "g/L", "system": UCUM, "code": "g/L"}}, "serum M-protein 3 g/L"),
    ],
)
def test_a_site_rule_without_a_specimen_is_read_as_serum(tmp_path, code, value, summary):
    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    o = obs(SERUM_IFE, **value)
    o["code"] = {"coding": [{"system": "https://h.example/lab", "code": code}]}
    ex, [f] = run(load_mapping([site]), o)
    assert f.evidence.summary == summary


@pytest.mark.parametrize(
    ("value", "state", "text"),
    [
        ({"valueQuantity": {"value": 0.5, "unit": "g/L", "system": UCUM, "code": "g/L"}}, State.PRESENT, "0.5 g/L"),
        ({"valueQuantity": {"value": 1, "unit": "g/L", "system": UCUM, "code": "g/L"}}, State.PRESENT, "1 g/L"),
        ({"valueInteger": 1}, State.PRESENT, "1 [no unit: used for presence only, magnitude not used]"),
    ],
)
def test_any_m_protein_above_zero_shows_the_clone(mapping, value, state, text):
    # POEMS M-proteins are typically small (criteria.md §4): any measurable amount counts
    ex, [f] = run(mapping, obs(SERUM_MP, **value))
    assert (f.state, f.strength, f.note) == (state, Strength.STRONG, None)
    assert f.evidence.summary == f"serum M-protein {text}"


def test_a_follow_up_m_protein_not_detected_is_a_fall_in_the_response(mapping):
    # criteria.md §8.1a PR: >= 50 % fall of a serum M-protein > 5 g/L; a follow-up electrophoresis
    # coded "Not detected" (SNOMED 260415000) was no value at all, so the response was not evaluable
    from poems_fhir.criteria.profiles import get_profile
    from poems_fhir.pipeline import evaluate_record

    baseline = obs(SERUM_MP, valueQuantity={"value": 8.0, "unit": "g/L", "system": UCUM, "code": "g/L"})
    baseline["effectiveDateTime"] = "2024-01-02"
    follow_up = observation(SERUM_MP, "m2", valueCodeableConcept=NOT_DETECTED, effectiveDateTime="2024-06-01")
    treatment = {
        "resourceType": "MedicationStatement",
        "id": "len",
        "status": "active",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "342369"}]
        },
        "subject": {"reference": "Patient/p1"},
        "effectivePeriod": {"start": "2024-02-01"},
    }
    result = evaluate_record(make_record(baseline, follow_up, treatment), mapping, get_profile("mayo"), None)
    h = result.response.hematologic
    assert (h.category, h.change) == ("PR", -1.0)
    assert h.latest is not None and h.latest.reference == "Observation/m2"


@pytest.mark.parametrize(
    ("code", "text", "state"),
    [
        (URINE_IFE, "Bence Jones protein detected", State.PRESENT),
        (URINE_IFE, "BJ+", State.PRESENT),
        (URINE_IFE, "Bence-Jones proteinuria: positive", State.PRESENT),
        (URINE_IFE, "Белок Бенс-Джонса не обнаружен", State.ABSENT),
        (SERUM_MP, "M-protein: not detected", State.ABSENT),
    ],
)
def test_a_result_that_names_its_test_first_is_read(mapping, code, text, state):
    # the seed case's "BJ+" and lab strings that repeat the test's name before the result
    ex, [f] = run(mapping, obs(code, valueString=text))
    assert f.state is state


@pytest.mark.parametrize(
    ("code", "text", "state"),
    [
        (SERUM_MP, "No M-spike", State.ABSENT),
        (SERUM_MP, "No M-spike identified; normal pattern.", State.ABSENT),
        (SERUM_MP, "No monoclonal protein detected", State.ABSENT),
        (SERUM_MP, "No paraprotein seen, polyclonal increase", State.ABSENT),
        (URINE_IFE, "No Bence Jones protein", State.ABSENT),
    ],
)
def test_a_result_that_denies_its_test_by_name_is_a_negative(mapping, code, text, state):
    # "No M-spike" under the serum M-protein code was refused as unreadable (criteria.md §6: a
    # negative electrophoresis is a low-grade negative, a negative immunofixation a strong one)
    ex, [f] = run(mapping, obs(code, valueString=text))
    assert ex.errors == [] and f.state is state


def test_a_denied_name_with_anything_else_is_not_read_as_a_negative(mapping):
    # only a trailing normal/polyclonal pattern may follow the denied name: other words may carry a
    # positive finding (left to the immunofixation parser) or another meaning (refused, reported)
    def read(text):
        ex = extract(make_record(obs(SERUM_MP, valueString=text)), mapping)
        return [(f.state, f.heavy_chain, f.light_chain) for f in ex.findings], len(ex.errors)

    assert read("No M-spike; IgG kappa band on immunofixation") == ([(State.PRESENT, "IgG", "kappa")], 0)
    assert read("No M-spike change") == ([(State.NOT_ASSESSED, None, None)], 1)
    assert read("Not M-spike") == ([(State.NOT_ASSESSED, None, None)], 1)
