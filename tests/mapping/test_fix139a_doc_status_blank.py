"""fix139a (A3): `DocumentReference.docStatus: ""` - no FHIR JSON (a primitive may not be empty) - was read as if
absent: the document read as final, its findings counted. A code no composition status knows ("draft") is listed and
the document not read (whether it is withdrawn cannot be told); a blank docStatus is treated so now.

Every other status the product reads already refuses a blank one (controls, listed and not read): an Observation's or
a DiagnosticReport's status, a DocumentReference's status, a Condition's clinical and verification status. An absent
docStatus, "final" in any case and a withdrawn one keep their reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.mapping.documents import DocumentError, index_documents, skip_reason
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record, observation
from tests.mapping.test_documents import ORGANS, document

CT = ("18748-4", "Diagnostic imaging study")
SPLEEN = "IMPRESSION: Splenomegaly, 16 cm."


def _read(mapping, resource: dict[str, Any]) -> tuple[set[str], list[str]]:
    out = extract(make_record(resource), mapping)
    return {f.topic for f in out.findings}, [e.message for e in out.errors]


@pytest.mark.parametrize("blank", ["", " ", "\t\n"])
def test_a_blank_doc_status_is_listed_and_the_document_not_read(mapping, blank):
    topics, errors = _read(mapping, document(SPLEEN, loinc=CT, docStatus=blank))
    assert ORGANS not in topics
    [error] = errors
    assert error.startswith(f"docStatus {blank!r} is empty") and "not read - fix the docStatus" in error


def test_skip_reason_raises_for_a_blank_doc_status_as_for_an_unknown_code():
    index = index_documents(make_record())
    for said in ("", "draft"):
        with pytest.raises(DocumentError, match="docStatus"):
            skip_reason({**document("x"), "docStatus": said}, "DocumentReference/d1", index)


def test_through_the_product_the_criterion_stays_unassessed_and_the_problem_listed(tmp_path: Path):
    patient = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"}
    doc = document(SPLEEN, loinc=CT, docStatus="")
    path = tmp_path / "b.json"
    entries = [{"resource": r} for r in (patient, doc)]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json", "--all"], catch_exceptions=False)
    out = json.loads(result.output)
    assert out["patients"][0]["criteria"][ORGANS]["state"] == "not_assessed"
    assert any(e["message"].startswith("docStatus '' is empty") for e in out["errors"])


@pytest.mark.parametrize("elements", [{}, {"docStatus": "final"}, {"docStatus": "FINAL"}, {"docStatus": "amended"}])
def test_an_absent_or_valid_doc_status_is_read_as_before(mapping, elements):
    topics, errors = _read(mapping, document(SPLEEN, loinc=CT, **elements))
    assert ORGANS in topics and errors == []


def test_a_withdrawn_document_stays_silent(mapping):
    assert _read(mapping, document(SPLEEN, loinc=CT, docStatus="entered-in-error")) == (set(), [])


def _condition(**status: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "42345000", "display": "Polyneuropathy"}]},
        "onsetDateTime": "2023-01-01",
        **status,
    }


@pytest.mark.parametrize(
    ("resource", "said"),
    [
        (observation("75628-8", status="", valueQuantity={"value": 1500, "unit": "pg/mL"}), "status ''"),
        (
            {
                "resourceType": "DiagnosticReport",
                "id": "r1",
                "status": "",
                "subject": {"reference": "Patient/p1"},
                "code": {"text": "CT abdomen"},
                "effectiveDateTime": "2024-01-01",
                "conclusion": "Splenomegaly.",
            },
            "status ''",
        ),
        (document(SPLEEN, loinc=CT, status=""), "has no status"),
        (_condition(verificationStatus={"coding": [{"code": ""}]}), "verificationStatus ''"),
        (_condition(clinicalStatus={"coding": [{"code": ""}]}), "clinicalStatus ''"),
    ],
)
def test_every_other_blank_status_is_refused_too(mapping, resource, said):
    """Controls: the handling a blank docStatus is made consistent with."""
    topics, errors = _read(mapping, resource)
    assert not topics - {"clinician_poems_assertion"}
    assert any(said in e and "not read" in e for e in errors), errors
