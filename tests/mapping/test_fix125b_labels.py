"""A POEMS label is a clinician diagnosing POEMS, nothing less (probe125 R1, R12, G1, G9, R10).

R1/G9: a coded D47.2 or G62.9 Condition whose text names POEMS only as a question, a suspicion, a rule-out or a
work-up ("Suspected POEMS; MGUS IgA lambda", "POEMS? MGUS", «Полинейропатия (исключить POEMS-синдром)») was read as
the POEMS label, and the coded clone or neuropathy was lost. R12: "MGUS IgA lambda, POEMS excluded" was listed as the
clinician's POEMS assertion. G1: «ПОЭМС-синдром» and "P.O.E.M.S. syndrome" on D47.2 were read as the clone.
Each case is paired with a positive control: the same code under a POEMS diagnosis stays the label, no evidence."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Classification, Criterion, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation
from tests.mapping.test_fix124a_semantics import D472, G629, condition, negative_ife

CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
NEUROPATHY = Criterion.POLYNEUROPATHY.value
ASSERTION = "clinician_poems_assertion"
C900 = ("http://hl7.org/fhir/sid/icd-10-cm", "C90.0", "Multiple myeloma")


def states(mapping, *resources: dict) -> dict[str, set[State]]:
    found: dict[str, set[State]] = {}
    for f in extract(make_record(*resources), mapping).findings:
        found.setdefault(f.topic, set()).add(f.state)
    return found


# ---------------------------------------------------------------- R1, G9: POEMS asked about beside a coded finding


@pytest.mark.parametrize(
    ("text", "code", "topic", "control"),
    [
        ("Suspected POEMS; MGUS IgA lambda", D472, CLONE, "POEMS syndrome"),
        ("POEMS? MGUS", D472, CLONE, "POEMS syndrome"),
        ("POEMS syndrome work-up: MGUS IgA lambda", D472, CLONE, "Known POEMS syndrome"),
        ("?POEMS - monoclonal gammopathy IgA lambda", D472, CLONE, "POEMS syndrome without skin changes"),  # G9
        ("Rule out POEMS - IgG lambda monoclonal gammopathy", D472, CLONE, "POEMS syndrome not in remission"),
        ("Query POEMS: demyelinating polyneuropathy", G629, NEUROPATHY, "POEMS syndrome"),
        ("Suspected POEMS syndrome - polyneuropathy", G629, NEUROPATHY, "POEMS syndrome"),  # G9
        ("Подозрение на POEMS-синдром: моноклональная гаммапатия IgA лямбда", D472, CLONE, "POEMS-синдром"),
        ("POEMS? Моноклональная гаммапатия IgA лямбда", D472, CLONE, "Синдром POEMS"),
        ("Полинейропатия (исключить POEMS-синдром)", G629, NEUROPATHY, "POEMS-синдром"),
        ("POEMS-синдром под вопросом; полинейропатия", G629, NEUROPATHY, "Синдром Кроу-Фукасе"),
        ("POEMS синдромына күдік: полинейропатия", G629, NEUROPATHY, "POEMS синдромы"),  # Kazakh
    ],
)
def test_a_question_of_poems_leaves_the_coded_finding(mapping, text, code, topic, control):
    found = states(mapping, condition(text, code))
    assert found[topic] == {State.PRESENT}
    # the doubt stays the clinician's provisional assertion (criteria.md §3.3), never evidence
    assert found[ASSERTION] == {State.PRESENT}
    # positive control: a POEMS diagnosis under the same code stays the label alone
    assert set(states(mapping, condition(control, code))) == {ASSERTION}


@pytest.mark.parametrize("text", ["Suspected POEMS syndrome", "POEMS syndrome (suspected)", "?POEMS", "Rule out POEMS"])
def test_a_question_of_poems_alone_stays_the_label_of_its_code(mapping, text):
    # nothing but POEMS is named: the D47.2 codes the question, not a clone (the mimic stays no evidence);
    # paired with a finding named beside it
    assert set(states(mapping, condition(text, D472))) == {ASSERTION}
    assert states(mapping, condition(f"{text}; MGUS IgA lambda", D472))[CLONE] == {State.PRESENT}


# ---------------------------------------------------------------- R12: POEMS excluded is no assertion


@pytest.mark.parametrize(
    ("text", "code", "topic"),
    [
        ("MGUS IgA lambda, POEMS excluded", D472, CLONE),
        ("Monoclonal gammopathy - not POEMS", D472, CLONE),
        ("Multiple myeloma IgG kappa; POEMS syndrome excluded", C900, CLONE),
        ("Полинейропатия, POEMS-синдром исключен", G629, NEUROPATHY),
        ("Моноклональная гаммапатия; данных за POEMS-синдром нет", D472, CLONE),
        ("Полинейропатия, POEMS синдромы жоққа шығарылды", G629, NEUROPATHY),  # Kazakh
    ],
)
def test_poems_excluded_is_no_clinician_assertion(mapping, text, code, topic):
    found = states(mapping, condition(text, code))
    assert found[topic] == {State.PRESENT} and ASSERTION not in found
    # positive control: "Polyneuropathy in POEMS syndrome" is the clinician's diagnosis
    assert ASSERTION in states(mapping, condition(text.split(",")[0].split(";")[0].split(" - ")[0] + " in POEMS", code))


def test_the_report_lists_no_assertion_for_an_excluded_poems(mapping):
    out = extract(make_record(condition("MGUS IgA lambda, POEMS excluded", D472)), mapping)
    result = evaluate("Patient/p1", out.findings, MAYO, None)
    assert result.clinician_assertions == () and result.criteria[CLONE].state is State.PRESENT


# ---------------------------------------------------------------- G1: POEMS by its other spellings


@pytest.mark.parametrize(
    "text",
    [
        "ПОЭМС-синдром",
        "Синдром ПОЭМС",
        "ПОЭМС синдромы",  # Kazakh
        "P.O.E.M.S. syndrome",
        "P. O. E. M. S. syndrome",
        "РОЕМS syndrome",  # Cyrillic lookalike capitals
    ],
)
def test_poems_spelt_otherwise_is_the_label_beside_negative_immunofixations(mapping, text):
    resources = [condition(text, D472), negative_ife("25700-6", "ife-s"), negative_ife("13440-3", "ife-u")]
    out = extract(make_record(*resources), mapping)
    result = evaluate("Patient/p1", out.findings, MAYO, None)
    assert result.criteria[CLONE].state is State.ABSENT
    assert result.classification is Classification.NOT_MET
    assert len(result.clinician_assertions) == 1
    # positive control: the same code under a clone's name is the clone
    assert states(mapping, condition("Моноклональная гаммапатия IgA лямбда", D472))[CLONE] == {State.PRESENT}


# ---------------------------------------------------------------- R10: an age population in words is judged


def testosterone(*ranges: dict) -> dict:
    return observation(
        "2986-8",
        "testo",
        effectiveDateTime="2024-02-05",
        valueQuantity={"value": 5.0, "unit": "nmol/L", "system": "http://unitsofmeasure.org", "code": "nmol/L"},
        referenceRange=list(ranges),
    )


def gonadal(mapping, born: str, *ranges: dict) -> set[State]:
    record = make_record(testosterone(*ranges))
    assert record.patient_resource is not None
    record.patient_resource["birthDate"] = born
    return {f.state for f in extract(record, mapping).findings if f.topic == "endocrinopathy"}


MALE = {
    "low": {"value": 8.6, "unit": "nmol/L"},
    "high": {"value": 29, "unit": "nmol/L"},
    "appliesTo": [{"text": "Male"}],
}


def elderly(words: str) -> dict:
    return {
        "low": {"value": 3.0, "unit": "nmol/L"},
        "high": {"value": 29, "unit": "nmol/L"},
        "appliesTo": [{"text": words}],
    }


@pytest.mark.parametrize(
    "words",
    [
        "Men over 70 years",
        "Age > 70 years",
        "Мужчины старше 70 лет",
        "Men aged 70 and over",
        "Мужчины 70 лет и старше",
        "70 жастан асқан ерлер",  # Kazakh, UNVERIFIED
    ],
)
def test_an_age_population_the_birth_date_rules_out_leaves_the_value_judged(mapping, words):
    # a 55-year-old man: testosterone 5 below his range 8.6-29 is the gonadal axis
    assert gonadal(mapping, "1969-01-01", MALE, elderly(words)) == {State.PRESENT}
    # positive control: a population the engine cannot judge still leaves the value not judged
    assert gonadal(mapping, "1969-01-01", MALE, elderly("Men on testosterone replacement therapy")) == {
        State.INDETERMINATE
    }
