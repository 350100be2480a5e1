"""The clinical meaning of coded data (probe124 D1, D5, D8, D9).

D1: a Condition coded ICD-10-CM D47.2 (or G63, or any code) whose text or display names POEMS syndrome is a
problem-list POEMS label, which is not evidence for any criterion (criteria.md §3.3). D47.2 "POEMS syndrome"
made the clone present and a patient with negative serum and urine immunofixations `met`."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Classification, Criterion, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
NEUROPATHY = Criterion.POLYNEUROPATHY.value


def condition(text: str | None, *codes: tuple[str, str, str | None], rid: str = "c1") -> dict:
    code: dict = {"coding": [{"system": s, "code": c, **({"display": d} if d else {})} for s, c, d in codes]}
    if text is not None:
        code["text"] = text
    return {
        "resourceType": "Condition",
        "id": rid,
        "code": code,
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": "2022-06-01",
    }


def negative_ife(loinc: str, rid: str) -> dict:
    return observation(
        loinc,
        rid,
        effectiveDateTime="2023-03-01",
        valueCodeableConcept={"coding": [{"system": SNOMED, "code": "260385009", "display": "Negative"}]},
    )


def states(mapping, *resources: dict) -> dict[str, set[State]]:
    found: dict[str, set[State]] = {}
    for f in extract(make_record(*resources), mapping).findings:
        found.setdefault(f.topic, set()).add(f.state)
    return found


D472 = (ICD10CM, "D47.2", "Monoclonal gammopathy")
G63 = (ICD10CM, "G63", "Polyneuropathy in diseases classified elsewhere")
G629 = (ICD10CM, "G62.9", "Polyneuropathy, unspecified")


# ---------------------------------------------------------------- D1: a coded POEMS label


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("POEMS syndrome", [D472]),  # the probe's Epic/IMO-style problem
        (None, [(ICD10CM, "D47.2", "POEMS syndrome")]),  # the name in the display only
        ("POEMS syndrome", [G63, D472]),  # two codes of one label (probe124 m60)
        ("Crow-Fukase syndrome", [(ICD10CM, "D47.Z9", "Other specified neoplasms of uncertain behavior"), D472]),
        ("Синдром POEMS", [D472]),
        ("POEMS синдромы", [D472]),  # Kazakh
        ("Known POEMS syndrome", [G629]),
        # a POEMS code beside a translation into a clone's code: one concept, the label
        (None, [("http://www.orpha.net", "2905", "POEMS syndrome"), D472]),
    ],
)
def test_a_coded_poems_label_is_no_evidence(mapping, text, codes):
    found = states(mapping, condition(text, *codes))
    assert set(found) == {"clinician_poems_assertion"}


def test_beside_negative_immunofixations_the_label_leaves_the_clone_absent(mapping):
    resources = [
        condition("POEMS syndrome", D472),
        negative_ife("25700-6", "ife-s"),
        negative_ife("13440-3", "ife-u"),
    ]
    out = extract(make_record(*resources), mapping)
    result = evaluate("Patient/p1", out.findings, MAYO, None)
    assert result.criteria[CLONE].state is State.ABSENT
    assert result.classification is Classification.NOT_MET
    assert [e.summary for e in result.clinician_assertions] == ["POEMS syndrome (confirmed)"]


@pytest.mark.parametrize(
    ("text", "codes", "topic"),
    [
        ("Polyneuropathy in POEMS syndrome", [G63, D472], NEUROPATHY),
        ("Полинейропатия при синдроме POEMS", [G63], NEUROPATHY),
        ("Monoclonal gammopathy (POEMS work-up)", [D472], CLONE),
    ],
)
def test_a_finding_named_before_the_label_is_read_from_the_words(mapping, text, codes, topic):
    found = states(mapping, condition(text, *codes))
    assert found[topic] == {State.PRESENT} and "clinician_poems_assertion" in found
    # the label's other code is not read as a finding of its own
    assert set(found) <= {topic, "clinician_poems_assertion", "mgus"}
    if topic == NEUROPATHY:
        assert CLONE not in found


def evidence_of(mapping, topic: str, *resources: dict) -> set[tuple[str, State]]:
    return {
        (f.evidence.reference, f.state) for f in extract(make_record(*resources), mapping).findings if f.topic == topic
    }


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Monoclonal gammopathy", [D472]),
        ("IgA lambda MGUS", [D472]),
        (None, [D472]),
        ("Моноклональная гаммапатия", [D472]),
    ],
)
def test_positive_control_a_coded_mgus_stays_a_clone_beside_the_label(mapping, text, codes):
    label = condition("POEMS syndrome", D472, rid="label")
    assert evidence_of(mapping, CLONE, condition(text, *codes), label) == {("Condition/c1", State.PRESENT)}


def test_positive_control_a_coded_polyneuropathy_stays_one_beside_the_label(mapping):
    label = condition("POEMS syndrome", G63, rid="label")
    found = evidence_of(mapping, NEUROPATHY, condition("Polyneuropathy", G629), label)
    assert found == {("Condition/c1", State.PRESENT)}


# ---------------------------------------------------------------- D5: a range for a population not judged

V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
STANDARD = {"low": {"value": 0.26}, "high": {"value": 1.65}}


def renal(applies_to: dict, **limits) -> dict:
    return {**(limits or {"low": {"value": 0.37}, "high": {"value": 3.1}}), "appliesTo": [applies_to]}


def flc_ratio(value: float, *ranges: dict, flag: str | None = None) -> dict:
    extra = {"interpretation": [{"coding": [{"system": V3, "code": flag}]}]} if flag else {}
    return observation(
        "48378-4", "flc", valueQuantity={"value": value, "unit": "{ratio}"}, referenceRange=list(ranges), **extra
    )


RENAL_POPULATIONS = [
    {"text": "Renal impairment (eGFR < 60 mL/min/1.73 m2)"},
    {"text": "Chronic kidney disease"},
    {"text": "Почечная недостаточность (СКФ < 60)"},
    {"coding": [{"system": SNOMED, "code": "709044004", "display": "Chronic kidney disease"}]},
]


@pytest.mark.parametrize("population", RENAL_POPULATIONS)
@pytest.mark.parametrize("flag", [None, "H"])
def test_a_ratio_that_a_renal_range_would_call_normal_is_not_judged(mapping, population, flag):
    out = extract(make_record(flc_ratio(2.4, STANDARD, renal(population), flag=flag)), mapping)
    [finding] = [f for f in out.findings if f.topic == CLONE]
    assert finding.state is State.INDETERMINATE
    assert "cannot be judged" in (finding.note or "") and "0.26-1.65" in (finding.note or "")
    # positive control: 5 is above the standard and the renal range - every range the lab sent calls it abnormal
    assert states(mapping, flc_ratio(5, STANDARD, renal(population), flag=flag))[CLONE] == {State.PRESENT}


def test_a_text_renal_range_is_weighed_too(mapping):
    ranges = (STANDARD, {"text": "0.37-3.10", "appliesTo": [{"text": "Dialysis patients"}]})
    assert states(mapping, flc_ratio(2.4, *ranges))[CLONE] == {State.INDETERMINATE}
    # positive control: a range for another population (children, pregnancy, the other sex) is not the patient's
    for other in ({"text": "Children"}, {"text": "Pregnant women"}, {"text": "Postmenopausal women"}):
        assert states(mapping, flc_ratio(2.4, STANDARD, renal(other)))[CLONE] == {State.PRESENT}
    # and sex ranges are judged as before: a man's haemoglobin against his own range, not a woman's
    hb = observation(
        "718-7",
        "hb",
        valueQuantity={"value": 17.2, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"},
        referenceRange=[
            {"low": {"value": 13.5}, "high": {"value": 17.0}, "appliesTo": [{"text": "Male"}]},
            {"low": {"value": 12.0}, "high": {"value": 17.5}, "appliesTo": [{"text": "Female"}]},
        ],
    )
    assert states(mapping, hb)["thrombocytosis_polycythemia"] == {State.PRESENT}


def test_the_probe_case_with_negative_immunofixations_is_indeterminate(mapping):
    resources = [
        condition("CIDP", (ICD10CM, "G61.81", "Chronic inflammatory demyelinating polyneuritis")),
        flc_ratio(2.4, STANDARD, renal(RENAL_POPULATIONS[0])),
    ]
    out = extract(make_record(*resources), mapping)
    result = evaluate("Patient/p1", out.findings, MAYO, None)
    assert result.criteria[CLONE].state is State.INDETERMINATE
    assert result.classification is Classification.INDETERMINATE


def quantity(code: str, value: float, unit: str, *ranges: dict) -> dict:
    q = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    return observation(code, "q", valueQuantity=q, referenceRange=list(ranges))


def test_other_values_a_population_range_disputes_are_not_judged_on_that_side(mapping):
    # platelets 420: above the lab's 150-400, within its 150-600 for splenectomised patients - not judged
    platelets = quantity(
        "777-3", 420, "10*3/uL",
        {"low": {"value": 150}, "high": {"value": 400}},
        {"low": {"value": 150}, "high": {"value": 600}, "appliesTo": [{"text": "Post-splenectomy"}]},
    )  # fmt: skip
    assert states(mapping, platelets)["thrombocytosis_polycythemia"] == {State.INDETERMINATE}
    # a low testosterone (the gonadal axis counts low only) within both lower limits stays judged, also where
    # the upper limits disagree (positive control: a dispute about the side the axis ignores decides nothing)
    low = quantity(
        "2986-8", 150, "ng/dL",
        {"low": {"value": 264}, "high": {"value": 916}},
        {"low": {"value": 200}, "high": {"value": 1100}, "appliesTo": [{"text": "Obesity"}]},
    )  # fmt: skip
    assert states(mapping, low)["endocrinopathy"] == {State.PRESENT}
    between = quantity(
        "2986-8", 230, "ng/dL",
        {"low": {"value": 264}, "high": {"value": 916}},
        {"low": {"value": 200}, "high": {"value": 1100}, "appliesTo": [{"text": "Obesity"}]},
    )  # fmt: skip
    assert states(mapping, between)["endocrinopathy"] == {State.INDETERMINATE}
    high = quantity(
        "2986-8", 1000, "ng/dL",
        {"low": {"value": 264}, "high": {"value": 916}},
        {"low": {"value": 200}, "high": {"value": 1100}, "appliesTo": [{"text": "Obesity"}]},
    )  # fmt: skip
    assert states(mapping, high)["endocrinopathy"] == {State.ABSENT}


# ---------------------------------------------------------------- D9: the bare answer of an exam finding


def exam(code: str, display: str, **value) -> dict:
    return observation(
        {"coding": [{"system": SNOMED, "code": code, "display": display}]},
        "exam",
        category=[
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "exam"}]}
        ],
        **value,
    )


@pytest.mark.parametrize(
    "answer", ["none", "None.", "NONE", "no", "нет", "Нет", "отсутствует", "отсутствуют", "жоқ", "none found"]
)
@pytest.mark.parametrize(
    ("code", "display"), [("30746006", "Lymphadenopathy"), ("16294009", "Splenomegaly"), ("80515008", "Hepatomegaly")]
)
def test_a_bare_negative_answer_to_an_exam_finding_is_absent(mapping, code, display, answer):
    assert states(mapping, exam(code, display, valueString=answer))["organomegaly"] == {State.ABSENT}
    as_text = {"valueCodeableConcept": {"text": answer}}
    assert states(mapping, exam(code, display, **as_text))["organomegaly"] == {State.ABSENT}
    # positive control: the bare yes stays present
    for yes in ("yes", "Yes.", "да", "есть", "бар"):
        assert states(mapping, exam(code, display, valueString=yes))["organomegaly"] == {State.PRESENT}


def test_a_bare_none_is_still_no_immunofixation_result(mapping):
    # the answers are read for a finding's question only: "none" for a serum immunofixation stays unread
    ife = observation("25700-6", "ife", valueString="none")
    before = states(mapping, ife)
    out = extract(make_record(exam("30746006", "Lymphadenopathy", valueString="none"), ife), mapping)
    found = {(f.topic, f.state) for f in out.findings}
    assert ("organomegaly", State.ABSENT) in found
    assert {(t, s) for t, s in found if t == CLONE} == {(CLONE, s) for s in before.get(CLONE, set())}
