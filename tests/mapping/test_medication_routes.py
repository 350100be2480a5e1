"""A medication given only where it does not reach the clone is no treatment (mapping `local_routes`;
probe31: dexamethasone 0.1 % eye drops became the "first treatment" and anchored the response baseline,
giving a haematological "NR" and a "no CR after first line" risk factor with no therapy given)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.test_events_mutants2 import RX, med

SCT = "http://snomed.info/sct"
DEX = {"coding": [{"system": RX, "code": "3264", "display": "dexamethasone"}]}
LENALIDOMIDE = med(
    "MedicationStatement",
    id="len",
    medicationCodeableConcept={"coding": [{"system": RX, "code": "342369", "display": "lenalidomide"}]},
    effectiveDateTime="2019-01-01",
)


def route(code: str | None, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if code:
        concept["coding"] = [{"system": SCT, "code": code, **({"display": display} if display else {})}]
    if text:
        concept["text"] = text
    return {"route": concept}


def read(mapping, *resources: dict[str, Any]):
    ex = extract(make_record(*resources), mapping)
    assert ex.errors == []
    return ex


@pytest.mark.parametrize(
    "statement",
    [
        # a coded route without words, a route in words only, and several local routes
        med(
            "MedicationStatement",
            medicationCodeableConcept=DEX,
            effectiveDateTime="2019-10-01",
            dosage=[route("54485002")],
        ),
        med("MedicationStatement", medicationCodeableConcept=DEX, dosage=[route(None, text="Ophthalmic")]),
        med(
            "MedicationRequest", medicationCodeableConcept=DEX, dosageInstruction=[route("6064005"), route("46713006")]
        ),
        med(
            "MedicationAdministration",
            medicationCodeableConcept=DEX,
            effectiveDateTime="2019-10-01",
            dosage=route(None, text="глазные капли"),
        ),
        # no route stated: the name says it
        med("MedicationStatement", medicationCodeableConcept={**DEX, "text": "Dexamethasone 0.1% ophthalmic solution"}),
        med("MedicationRequest", medicationCodeableConcept={"text": "Дексаметазон мазь 0,1%"}),
    ],
)
def test_a_drug_given_only_locally_is_no_treatment(mapping, statement):
    ex = read(mapping, statement)
    assert ex.events == []
    [note] = [n for n in ex.notes if n.kind == "local_route"]
    assert (note.reference, note.rule) == (f"{statement['resourceType']}/m1", "dexamethasone")
    assert note.detail.startswith("not a treatment of the clone: ")


def test_the_form_of_a_referenced_medication_says_it(mapping):
    medication = {
        "resourceType": "Medication",
        "id": "x",
        "code": DEX,
        "form": {"coding": [{"system": SCT, "code": "385135006", "display": "Eye drops"}]},
    }
    m = med("MedicationStatement", medicationReference={"reference": "Medication/x"}, effectiveDateTime="2019-10-01")
    del m["medicationCodeableConcept"]
    assert read(mapping, medication, m).events == []


@pytest.mark.parametrize(
    "statement",
    [
        med("MedicationStatement", medicationCodeableConcept=DEX, effectiveDateTime="2019-10-01"),  # no route: given
        med(
            "MedicationStatement",
            medicationCodeableConcept=DEX,
            effectiveDateTime="2019-10-01",
            dosage=[route("26643006", "Oral route")],
        ),
        # one systemic route among local ones: it may reach the clone
        med(
            "MedicationRequest",
            medicationCodeableConcept=DEX,
            dosageInstruction=[route("54485002"), route("47625008", "Intravenous route")],
        ),
        med("MedicationRequest", medicationCodeableConcept={"text": "Dexamethasone 40 mg tablets"}),
    ],
)
def test_a_systemic_or_unstated_route_is_a_treatment(mapping, statement):
    # beside a lenalidomide already given: dexamethasone alone starts nothing (test_treatment_indication.py)
    [e] = [e for e in read(mapping, LENALIDOMIDE, statement).events if e.agent != "lenalidomide"]
    assert (e.kind, e.agent) == ("treatment", "dexamethasone")


def test_the_first_treatment_is_the_systemic_one(mapping):
    drops = med(
        "MedicationStatement",
        id="drops",
        medicationCodeableConcept=DEX,
        effectiveDateTime="2019-10-01",
        dosage=[route("54485002")],
    )
    tablets = med(
        "MedicationStatement",
        id="tabs",
        medicationCodeableConcept=DEX,
        effectiveDateTime="2020-02-01",
        dosage=[route("26643006", "Oral route")],
    )
    assert [(e.reference, e.effective) for e in read(mapping, LENALIDOMIDE, drops, tablets).events][1:] == [
        ("MedicationStatement/tabs", dt.date(2020, 2, 1))
    ]
