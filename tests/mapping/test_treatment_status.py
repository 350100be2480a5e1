"""A treatment's status and a MedicationRequest's intent are read as FHIR R4 codes (fix139a noticed): "NOT-DONE",
"Not_Taken ", "CANCELLED" say what their codes say - a transplant not done is no transplant - and a blank or
missing status (1..1 in R4), a status of another value set, or a blank intent cannot tell whether the treatment
was given: the resource is refused and listed, never counted as given."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.fhir.boundary import validate
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.treatment_status import TreatmentStatusError, request_intent, treatment_status
from tests.conftest import make_record

LOCAL = "https://poems-fhir.org/CodeSystem/local"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
LEN = {"coding": [{"system": RX, "code": "342369", "display": "lenalidomide"}]}


def transplant(status: Any = "completed", **kw: Any) -> dict[str, Any]:
    res = {
        "resourceType": "Procedure",
        "id": "asct",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": LOCAL, "code": "autologous-hsct"}]},
        "performedDateTime": "2024-03-01",
        **kw,
    }
    if status is not None:
        res["status"] = status
    return res


def medication(rtype: str, status: Any, **kw: Any) -> dict[str, Any]:
    res = {
        "resourceType": rtype,
        "id": "m1",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": LEN,
        "effectiveDateTime" if rtype != "MedicationRequest" else "authoredOn": "2024-03-01",
        **kw,
    }
    if status is not None:
        res["status"] = status
    return res


def events(mapping, resource: dict[str, Any]) -> tuple[list[tuple[str, str | None]], list[str]]:
    ex = extract(make_record(resource), mapping)
    return [(e.kind, e.status) for e in ex.events], [e.message for e in ex.errors]


@pytest.mark.parametrize("status", ["NOT-DONE", "Not_Done ", "not done", "ENTERED-IN-ERROR"])
def test_a_transplant_not_done_in_any_spelling_is_no_transplant(mapping, status):
    assert events(mapping, transplant(status)) == ([], [])


@pytest.mark.parametrize(("status", "code"), [("COMPLETED", "completed"), (" In_Progress", "in-progress")])
def test_a_transplant_done_in_any_spelling_is_one_with_its_status_as_the_code(mapping, status, code):
    assert events(mapping, transplant(status)) == ([("autologous_hsct", code)], [])


@pytest.mark.parametrize(
    ("status", "said"),
    [("", "has a blank status"), ("   ", "has a blank status"), (None, "has no status")],
)
def test_a_transplant_with_a_blank_or_missing_status_is_refused_and_listed(mapping, status, said):
    found, errors = events(mapping, transplant(status))
    assert found == []
    assert errors == [
        f"Procedure {said} (required in FHIR R4): whether the treatment was given cannot be told; not read - "
        "send the status"
    ]


def test_a_status_of_another_value_set_is_refused_with_the_codes_that_would_do(mapping):
    # "done" and "taken" are no event-status codes; "not-taken" is a MedicationStatement's, not a Procedure's
    for status in ("done", "not-taken"):
        found, (error,) = events(mapping, transplant(status))
        assert found == []
        assert error.startswith(f"status {status!r} is not a FHIR R4 Procedure status (completed, entered-in-error")
        assert error.endswith("whether the treatment was given cannot be told; not read - fix the status")


@pytest.mark.parametrize(
    ("rtype", "status"),
    [
        ("MedicationStatement", "NOT-TAKEN"),
        ("MedicationStatement", "Intended"),
        ("MedicationAdministration", "NOT-DONE"),
        ("MedicationAdministration", "Entered_In_Error"),
        ("MedicationRequest", "CANCELLED"),
        ("MedicationRequest", "Draft"),
    ],
)
def test_a_medication_not_given_in_any_spelling_starts_nothing(mapping, rtype, status):
    kw = {"intent": "order"} if rtype == "MedicationRequest" else {}
    assert events(mapping, medication(rtype, status, **kw)) == ([], [])


@pytest.mark.parametrize("rtype", ["MedicationStatement", "MedicationAdministration", "MedicationRequest"])
def test_a_medication_with_a_blank_status_is_refused_not_given(mapping, rtype):
    kw = {"intent": "order"} if rtype == "MedicationRequest" else {}
    found, errors = events(mapping, medication(rtype, "", **kw))
    assert found == []
    assert errors == [
        f"{rtype} has a blank status (required in FHIR R4): whether the treatment was given cannot be told; "
        "not read - send the status"
    ]


def test_a_medication_given_in_any_spelling_is_a_treatment_with_its_code(mapping):
    found, errors = events(mapping, medication("MedicationStatement", "COMPLETED"))
    assert (found, errors) == ([("treatment", "completed")], [])


@pytest.mark.parametrize("intent", ["PROPOSAL", "Plan", " option "])
def test_a_suggested_medication_in_any_spelling_is_no_order(mapping, intent):
    assert events(mapping, medication("MedicationRequest", "active", intent=intent)) == ([], [])


@pytest.mark.parametrize(("intent", "said"), [("", "has a blank intent"), (None, "has no intent")])
def test_a_request_whose_intent_is_blank_or_missing_is_refused_not_read_as_an_order(mapping, intent, said):
    kw = {"intent": intent} if intent is not None else {}
    found, errors = events(mapping, medication("MedicationRequest", "active", **kw))
    assert found == []
    assert errors == [
        f"MedicationRequest {said} (required in FHIR R4): whether it is an order or only a suggestion cannot be "
        "told; not read - send the intent"
    ]


def test_an_order_in_any_spelling_is_one(mapping):
    found, errors = events(mapping, medication("MedicationRequest", "active", intent="Original_Order"))
    assert (found, errors) == ([("treatment", "active")], [])


def test_the_status_functions_read_codes_and_refuse_the_rest():
    assert treatment_status({"resourceType": "MedicationStatement", "status": "On Hold"}) == "on-hold"
    assert request_intent({"resourceType": "MedicationRequest", "intent": "REFLEX-ORDER"}) == "reflex-order"
    with pytest.raises(TreatmentStatusError, match="'stopped-ish' is not a FHIR R4 MedicationRequest status"):
        treatment_status({"resourceType": "MedicationRequest", "status": "stopped-ish"})
    with pytest.raises(TreatmentStatusError, match="MedicationRequest has no intent"):
        request_intent({"resourceType": "MedicationRequest"})


def test_an_stu3_statement_not_taken_is_not_taken(mapping):
    stu3 = medication("MedicationStatement", "completed", taken="n")
    assert validate(stu3)["status"] == "not-taken"
    assert events(mapping, stu3) == ([], [])
    taken = medication("MedicationStatement", "completed", taken="y")
    assert validate(taken)["status"] == "completed"
    assert events(mapping, taken) == ([("treatment", "completed")], [])


def test_a_resource_stating_a_treatment_without_such_a_status_has_none():
    # a Condition "status post autologous transplant" (Z94.84) is a treatment on the timeline: its clinicalStatus is
    # no treatment status (asking the table for a Condition's crashed its reading: "internal error (KeyError)")
    assert treatment_status({"resourceType": "Condition", "clinicalStatus": {"text": "active"}}) is None


@pytest.mark.parametrize(
    ("rtype", "kw"),
    [
        ("Procedure", {}),
        ("MedicationStatement", {}),
        ("MedicationAdministration", {}),
        ("MedicationRequest", {"intent": "order"}),
    ],
)
def test_a_treatment_of_status_unknown_is_listed_neither_given_nor_silently_dropped(mapping, rtype, kw):
    """probe140 D11: a medication of status "unknown" was a treatment given (it started the response clock); a Procedure
    of that status was dropped in silence. The sender does not know: listed, not read."""
    resource = transplant("Unknown") if rtype == "Procedure" else medication(rtype, "UNKNOWN", **kw)
    found, errors = events(mapping, resource)
    assert found == []
    assert errors == [
        f"{rtype} status 'unknown' (the sender does not know it): whether the treatment was given cannot be told; "
        "not read - send the status"
    ]


def test_an_order_not_to_give_a_drug_is_no_treatment(mapping):
    """probe140 D3: MedicationRequest.doNotPerform true (an R4 modifier: do not give it) was read as lenalidomide given
    ("Given: lenalidomide" on the CarePlan)."""
    request = medication("MedicationRequest", "active", intent="order", doNotPerform=True)
    assert events(mapping, request) == ([], [])
    allowed = medication("MedicationRequest", "active", intent="order", doNotPerform=False)
    assert events(mapping, allowed) == ([("treatment", "active")], [])


def test_a_do_not_perform_that_is_no_boolean_is_refused_at_the_boundary():
    from poems_fhir.fhir.boundary import Invalid

    with pytest.raises(Invalid, match="doNotPerform"):
        validate(medication("MedicationRequest", "active", intent="order", doNotPerform="true"))
