"""DocumentReferences (US Core clinical notes, imaging and pathology reports) read as the report they carry.

A hospital's FHIR API exposes progress notes, consultations and often the radiology and pathology reports as
DocumentReferences with the text in ``content[].attachment``; poems-fhir read none of them, so an EHR whose CT
report is a document left every criterion it states "no data"."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.criteria.model import Criterion, State
from poems_fhir.mapping.documents import (
    DocumentError,
    attachment_key,
    index_documents,
    report_view,
    skip_reason,
)
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

LOINC = "http://loinc.org"
ORGANS = Criterion.ORGANOMEGALY.value
BONE = Criterion.SCLEROTIC_BONE_LESIONS.value
OVERLOAD = Criterion.EXTRAVASCULAR_VOLUME_OVERLOAD.value
SKIN = Criterion.SKIN_CHANGES.value


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def document(
    text: str | None,
    rid: str = "d1",
    *,
    loinc: tuple[str, str] | None = ("11506-3", "Progress note"),
    type_text: str | None = None,
    status: str | None = "current",
    url: str | None = None,
    content_type: str = "text/plain",
    **elements: Any,
) -> dict[str, Any]:
    attachment: dict[str, Any] = {"contentType": content_type}
    if text is not None:
        attachment["data"] = b64(text)
    if url is not None:
        attachment["url"] = url
    doc_type: dict[str, Any] = {}
    if loinc:
        doc_type["coding"] = [{"system": LOINC, "code": loinc[0], "display": loinc[1]}]
    if type_text:
        doc_type["text"] = type_text
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": rid,
        "type": doc_type,
        "category": [
            {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                        "code": "clinical-note",
                    }
                ]
            }
        ],
        "subject": {"reference": "Patient/p1"},
        "date": "2024-03-05T09:30:00Z",
        "content": [{"attachment": attachment}],
        **elements,
    }
    if status is not None:
        resource["status"] = status
    return resource


def states(mapping, *resources: dict[str, Any]) -> dict[str, set[State]]:
    found: dict[str, set[State]] = {}
    for f in extract(make_record(*resources), mapping).findings:
        found.setdefault(f.topic, set()).add(f.state)
    return found


# ---------------------------------------------------------------- the pure module


def test_an_attachment_is_known_by_its_binary_whatever_the_base_or_version() -> None:
    assert attachment_key({"url": "Binary/abc"}) == "Binary/abc"
    assert attachment_key({"url": "https://ehr.example.org/fhir/R4/Binary/abc"}) == "Binary/abc"
    assert attachment_key({"url": "https://ehr.example.org/fhir/Binary/abc/_history/2"}) == "Binary/abc"
    assert attachment_key({"url": "https://docs.example.org/note.pdf"}) == "https://docs.example.org/note.pdf"
    one, two = attachment_key({"data": b64("No edema.")}), attachment_key({"data": b64("Edema.")})
    assert one and two and one != two
    # base64 broken over lines is the same data
    wrapped = b64("No edema.")
    assert attachment_key({"data": wrapped[:4] + "\n" + wrapped[4:]}) == one
    assert attachment_key({"contentType": "text/plain"}) is None
    assert attachment_key("Binary/abc") is None


def test_the_view_is_a_report_with_the_documents_type_period_and_attachments() -> None:
    doc = document(
        "Spleen 16 cm.",
        loinc=("18748-4", "Diagnostic imaging study"),
        type_text="CT abdomen",
        context={"period": {"start": "2024-03-01"}},
    )
    view = report_view(doc)
    assert view["resourceType"] == "DiagnosticReport"
    assert view["code"] == doc["type"]
    assert view["effectivePeriod"] == {"start": "2024-03-01"}
    assert "issued" not in view  # the clinical period wins over the document's own date
    assert view["presentedForm"] == [doc["content"][0]["attachment"]]
    assert view["status"] == "final"
    codes = {c.get("code") for cat in view["category"] for c in cat.get("coding", [])}
    assert "RAD" in codes  # the LOINC imaging document type gives the imaging section
    assert any("CT abdomen" in (cat.get("text") or "") for cat in view["category"])
    # without a clinical period the document's date; a preliminary document stays preliminary
    plain = report_view(document("x", docStatus="preliminary"))
    assert plain["issued"] == "2024-03-05T09:30:00Z" and "effectivePeriod" not in plain
    assert plain["status"] == "preliminary"
    assert "RAD" not in {c.get("code") for cat in plain["category"] for c in cat.get("coding", [])}


def test_pathology_document_types_give_the_pathology_section() -> None:
    view = report_view(document("x", loinc=("11529-5", "Surgical pathology study")))
    assert "SP" in {c.get("code") for cat in view["category"] for c in cat.get("coding", [])}


@pytest.mark.parametrize(
    ("elements", "kind"),
    [
        ({"status": "entered-in-error"}, "withdrawn"),
        ({"status": "Entered_in_error"}, "withdrawn"),
        ({"docStatus": "entered-in-error"}, "withdrawn"),
        ({"status": "superseded"}, "replaced"),
    ],
)
def test_withdrawn_and_superseded_documents_are_not_read(elements: dict[str, Any], kind: str) -> None:
    doc = {**document("Ascites."), **elements}
    skip = skip_reason(doc, "DocumentReference/d1", index_documents(make_record(doc)))
    assert skip is not None and skip.kind == kind


def test_current_final_document_is_read() -> None:
    doc = document("Ascites.", docStatus="final")
    assert skip_reason(doc, "DocumentReference/d1", index_documents(make_record(doc))) is None


@pytest.mark.parametrize(("status", "said"), [(None, "no status"), ("active", "not a FHIR document status")])
def test_a_status_that_says_nothing_is_a_reported_skip(status: str | None, said: str) -> None:
    doc = document("Ascites.", status=status)
    with pytest.raises(DocumentError, match=said):
        skip_reason(doc, "DocumentReference/d1", index_documents(make_record(doc)))
    with pytest.raises(DocumentError, match="docStatus"):
        skip_reason({**document("x"), "docStatus": "draft"}, "DocumentReference/d1", index_documents(make_record()))


def test_a_document_another_replaces_is_not_read() -> None:
    old = document("No ascites.", "d1")
    new = document(
        "Moderate ascites.",
        "d2",
        relatesTo=[{"code": "replaces", "target": {"reference": "DocumentReference/d1"}}],
    )
    index = index_documents(make_record(old, new))
    skip = skip_reason(old, "DocumentReference/d1", index)
    assert skip is not None and skip.kind == "replaced" and skip.by == "DocumentReference/d2"
    assert skip_reason(new, "DocumentReference/d2", index) is None
    # "appends" or "transforms" replace nothing
    other = document("Moderate ascites.", "d3", relatesTo=[{"code": "appends", "target": {"reference": "d1"}}])
    assert skip_reason(old, "DocumentReference/d1", index_documents(make_record(old, other))) is None


def test_the_attachment_of_a_report_is_read_from_the_report_once() -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"text": "CT abdomen"},
        "subject": {"reference": "Patient/p1"},
        "presentedForm": [{"contentType": "text/plain", "url": "https://ehr.example.org/fhir/Binary/b1"}],
    }
    doc = document(None, "d1", url="Binary/b1")
    skip = skip_reason(doc, "DocumentReference/d1", index_documents(make_record(report, doc)))
    assert skip is not None and skip.kind == "duplicate" and skip.by == "DiagnosticReport/r1"
    # a withdrawn report carries nothing: the document is read
    withdrawn = {**report, "status": "entered-in-error"}
    assert skip_reason(doc, "DocumentReference/d1", index_documents(make_record(withdrawn, doc))) is None
    # two documents with the same inline text: the first is read
    first, second = document("Ascites.", "d1"), document("Ascites.", "d2")
    index = index_documents(make_record(first, second))
    assert skip_reason(first, "DocumentReference/d1", index) is None
    dup = skip_reason(second, "DocumentReference/d2", index)
    assert dup is not None and dup.by == "DocumentReference/d1"


# ---------------------------------------------------------------- read through extraction


def test_a_progress_note_is_read_and_cited_as_the_document(mapping) -> None:
    note = document(
        "Exam: bilateral pitting edema of the legs. Skin: hyperpigmentation and glomeruloid hemangiomas.",
        context={"period": {"start": "2024-03-04"}},
    )
    out = extract(make_record(note), mapping)
    by_topic = {f.topic: f for f in out.findings}
    assert by_topic[OVERLOAD].state is State.PRESENT and by_topic[SKIN].state is State.PRESENT
    evidence = by_topic[SKIN].evidence
    assert evidence.reference == "DocumentReference/d1"
    assert str(evidence.effective) == "2024-03-04"
    assert "content[0].attachment" in evidence.summary and "presentedForm" not in evidence.summary
    assert "DocumentReference/d1" in out.used


def test_an_imaging_document_is_a_study_and_a_note_is_a_letter(mapping) -> None:
    # "No sclerotic bone lesions" in a CT report is a test of the bones; in a progress note it is a remark
    ct = document(
        "FINDINGS: No sclerotic bone lesions. Spleen 16 cm, enlarged.",
        loinc=("18748-4", "Diagnostic imaging study"),
        type_text="CT chest abdomen pelvis",
    )
    found = states(mapping, ct)
    assert found[BONE] == {State.ABSENT}
    assert found[ORGANS] == {State.PRESENT}
    letter = states(mapping, document("No sclerotic bone lesions."))
    assert BONE not in letter  # a letter's negative is no test (the text path's letters)


def test_skipped_documents_add_nothing_and_say_why(mapping) -> None:
    old = document("Moderate ascites.", "d1", status="superseded")
    gone = document("Splenomegaly 17 cm.", "d2", status="entered-in-error")
    out = extract(make_record(old, gone), mapping)
    assert not out.findings
    notes = [n for n in out.notes if n.reference == "DocumentReference/d1"]
    assert notes and notes[0].kind == "replaced" and "superseded" in notes[0].detail
    assert not [n for n in out.notes if n.reference == "DocumentReference/d2"]  # withdrawn: silent, as a report


def test_a_document_without_readable_text_is_listed_not_silently_no_data(mapping) -> None:
    pdf = document(None, "d1", url="Binary/b9", content_type="application/pdf")
    out = extract(make_record(pdf), mapping)
    assert not out.findings
    [error] = [e for e in out.errors if e.resource == "DocumentReference/d1"]
    assert "content[0].attachment application/pdf by url only" in error.message
    assert "presentedForm" not in error.message


def test_a_document_without_status_is_a_reported_skip(mapping) -> None:
    out = extract(make_record(document("Moderate ascites.", status=None)), mapping)
    assert not out.findings
    assert any("no status" in e.message for e in out.errors if e.resource == "DocumentReference/d1")


def test_an_unreadable_charset_names_the_documents_element(mapping) -> None:
    doc = document(None, "d1")
    doc["content"][0]["attachment"]["data"] = base64.b64encode("Асцит умеренный.".encode("cp1251")).decode()
    out = extract(make_record(doc), mapping)
    messages = [e.message for e in out.errors if e.resource == "DocumentReference/d1"]
    assert messages and all("content[0].attachment" in m and "presentedForm" not in m for m in messages)


# ---------------------------------------------------------------- end to end, from a file


def test_evaluate_reads_documents_from_a_bundle(tmp_path: Path) -> None:
    resources = [
        {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-01-01"},
        document(
            "IMPRESSION: Splenomegaly (16 cm). Multiple sclerotic bone lesions of the pelvis.",
            "d1",
            loinc=("18748-4", "Diagnostic imaging study"),
            type_text="CT chest abdomen pelvis",
        ),
        document("Moderate ascites.", "d2", status="superseded"),
    ]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json", "--all"], catch_exceptions=False)
    patient = json.loads(result.output)["patients"][0]
    criteria = patient["criteria"]
    assert criteria[ORGANS]["state"] == "present" and criteria[BONE]["state"] == "present"
    assert {e["reference"] for e in criteria[BONE]["evidence"]} == {"DocumentReference/d1"}
    assert criteria[OVERLOAD]["state"] == "not_assessed"  # the superseded document is not read


def test_the_classic_case_as_documents_concludes_as_the_classic_case(tmp_path: Path) -> None:
    """tests/fixtures/documents/classic-as-documents.json: sample_bundles/classic-poems.json with its CT report and
    its skin finding as a DocumentReference each (a CT report as US Core exposes it; a dermatology consult note)."""
    root = Path(__file__).parents[2]

    def criteria(path: Path) -> tuple[str, dict[str, str], set[str]]:
        result = CliRunner().invoke(main, ["evaluate", str(path), "--format", "json"], catch_exceptions=False)
        patient = json.loads(result.output)["patients"][0]
        cited = {e["reference"] for c in patient["criteria"].values() for e in c["evidence"]}
        return patient["classification"], {k: v["state"] for k, v in patient["criteria"].items()}, cited

    classic = criteria(root / "sample_bundles" / "classic-poems.json")
    documents = criteria(root / "tests" / "fixtures" / "documents" / "classic-as-documents.json")
    assert documents[:2] == classic[:2] and classic[0] == "met"
    assert {"DocumentReference/dc-ct-note", "DocumentReference/dc-derm-note"} <= documents[2]


def test_one_document_in_several_formats_is_read_once(mapping) -> None:
    """FHIR R4: a document's content repetitions are one document in other formats (Epic sends HTML and RTF); both
    were read, each finding cited twice."""
    doc = document(None, "d1")
    doc["content"] = [
        {"attachment": {"contentType": "text/rtf", "data": b64(r"{\rtf1 Moderate ascites.\par}")}},
        {"attachment": {"contentType": "text/html", "data": b64("<p>Moderate ascites.</p>")}},
        {"attachment": {"contentType": "application/pdf", "url": "Binary/pdf1"}},
    ]
    view = report_view(doc)
    # every format is passed on, at its index, and the report path reads one: the next where one cannot be read
    # or is blank (probe136 D4, D5)
    assert [a["contentType"] for a in view["presentedForm"]] == ["text/rtf", "text/html", "application/pdf"]
    out = extract(make_record(doc), mapping)
    assert [f.topic for f in out.findings] == [OVERLOAD]
    assert "content[1].attachment" in out.findings[0].evidence.summary  # the HTML, the most readable
    assert not out.errors  # the PDF beside a readable format is not listed
    # only an unreadable format: each listed
    pdf_only = document(None, "d2", url="Binary/p", content_type="application/pdf")
    assert report_view(pdf_only)["presentedForm"] == [pdf_only["content"][0]["attachment"]]
    # RTF alone is read
    rtf = document(None, "d3")
    rtf["content"][0]["attachment"] = {"contentType": "application/rtf", "data": b64(r"{\rtf1 Moderate ascites.\par}")}
    assert [f.topic for f in extract(make_record(rtf), mapping).findings] == [OVERLOAD]


def test_coverage_lists_documents_read_elsewhere_and_replaced(mapping) -> None:
    """`mappings coverage` lists what a document's reading note says (probe134: the notes appeared nowhere)."""
    from poems_fhir.mapping.coverage import collect, to_dict

    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"text": "CT abdomen"},
        "subject": {"reference": "Patient/p1"},
        "presentedForm": [{"contentType": "text/plain", "url": "Binary/b1"}],
    }
    shared = document(None, "d1", url="Binary/b1")
    old = document("Ascites.", "d2", status="superseded")
    listed = to_dict(collect([make_record(report, shared, old)], mapping))
    [row] = listed["documents_read_elsewhere"]
    assert "DiagnosticReport/r1" in json.dumps(row) and "DocumentReference/d1" in json.dumps(row)
    assert "DocumentReference/d2" in json.dumps(listed["results_replaced_by_a_later_version"])
