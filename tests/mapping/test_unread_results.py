"""A result of the patient that a rule matched but could not read (probe102 A2).

A VEGF in a unit no table knows, a platelet count in "x10E5/uL", an immunofixation whose value is "see scanned
report": each is listed under the run's errors and skipped, as before - but its criterion said "no data" and the
work-up proposed the test again, as if it had never been done. Now the criterion is not assessed *because* a result
on record could not be read, cites that result, and the work-up asks for it to be corrected (or repeated).
A result that is not this patient's test (a donor's, a pleural-fluid VEGF) is not named so.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.criteria.profiles import PROFILES
from poems_fhir.i18n import translator
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import load_mapping
from poems_fhir.pipeline import evaluate_record
from poems_fhir.report.wording import rule, step_title
from tests.conftest import make_record, not_read

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def obs(rid: str, code: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-01",
        **value,
    }


NEUROPATHY = {
    "resourceType": "Condition",
    "id": "pn",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "42345000"}]},
    "subject": {"reference": "Patient/p1"},
    "recordedDate": "2024-01-01",
}
VEGF_UNIT = obs("vegf", "75628-8", valueQuantity={"value": 900, "unit": "pg/mL/x", "system": UCUM, "code": "pg/mL/x"})
IFE_WORDS = obs("ife", "25700-6", valueString="see scanned report")
PLATELETS = obs("plt", "777-3", valueQuantity={"value": 6.2, "unit": "x10E5/uL"})


@pytest.fixture(scope="module")
def result():
    record = make_record(NEUROPATHY, VEGF_UNIT, IFE_WORDS, PLATELETS)
    return evaluate_record(copy.deepcopy(record), load_mapping(), PROFILES["mayo"], None)


@pytest.mark.parametrize(
    ("criterion", "reference", "why"),
    [
        ("vegf_elevation", "Observation/vegf", "'pg/mL/x' is not a valid UCUM unit"),
        ("monoclonal_plasma_cell_disorder", "Observation/ife", "unrecognised immunofixation result"),
        ("thrombocytosis_polycythemia", "Observation/plt", "'x10E5/uL' is not a valid UCUM unit"),
    ],
)
def test_the_criterion_names_the_result_it_could_not_read(result, criterion, reference, why):
    r = result.assessment.criteria[criterion]
    assert r.state is State.NOT_ASSESSED and r.retest == "unread"
    assert "result on record, not read" in r.reason and why in r.reason and r.reason != "no data"
    assert [e.reference for e in r.evidence] == [reference]
    # still listed as a skipped resource for the integration engineer
    assert any(e.resource == reference and why in e.message for e in result.extraction.errors)


def test_the_work_up_asks_to_correct_the_result_not_only_to_order_the_test(result):
    missing = {m.criterion: m.suggestion for m in result.assessment.missing}
    assert missing["vegf_elevation"].startswith("correct the result on record that could not be read")
    assert "VEGF, plasma preferred" in missing["vegf_elevation"]
    assert missing["castleman_disease"].startswith("lymph-node biopsy")  # no data there: unchanged
    step = next(s for s in result.steps if s.id == "workup-vegf_elevation")
    assert step.evidence == ("Observation/vegf",) and ("unread", "result") in step.params
    assert step_title(translator("en"), step).startswith("Correct the result on record that could not be read")
    assert step_title(translator("ru"), step).startswith("Исправьте результат, который не удалось прочитать")
    assert step_title(translator("kk"), step).startswith("Оқылмаған нәтижені")


def test_the_clinician_reads_why_in_each_language(result):
    r = result.assessment.criteria["vegf_elevation"]
    assert rule(translator("en"), r).startswith("A result is on record but could not be read")
    assert rule(translator("ru"), r).startswith("Результат есть в записи, но не может быть прочитан")
    assert rule(translator("kk"), r).startswith("Нәтиже жазбада бар, бірақ оқылмады")


def test_a_readable_result_beside_it_decides():
    good = obs("vegf2", "75628-8", valueQuantity={"value": 900, "unit": "pg/mL", "system": UCUM, "code": "pg/mL"})
    good["specimen"] = {"display": "plasma"}
    r = evaluate_record(make_record(NEUROPATHY, VEGF_UNIT, good), load_mapping(), PROFILES["mayo"], None)
    vegf = r.assessment.criteria["vegf_elevation"]
    assert vegf.state is State.PRESENT and [e.reference for e in vegf.evidence] == ["Observation/vegf2"]


@pytest.mark.parametrize(
    "resource",
    [
        # another person's result and another specimen's are not this patient's test: no "not read" finding
        {**VEGF_UNIT, "focus": [{"reference": "Patient/donor"}]},
        {**VEGF_UNIT, "specimen": {"display": "pleural fluid"}},
    ],
    ids=["donor", "pleural-fluid"],
)
def test_a_result_that_is_not_this_patients_test_is_not_named_as_unread(resource):
    ex = extract(make_record(resource), load_mapping())
    assert ex.findings == [] and len(ex.errors) == 1


def test_extraction_keeps_one_not_read_finding_per_rule_and_no_measurement():
    ex = extract(make_record(VEGF_UNIT), load_mapping())
    assert not_read(ex.findings) and len(ex.findings) == 1 and ex.measurements == []
    assert ex.used == {"Observation/vegf": None}  # cited, so in the Provenance's entities
