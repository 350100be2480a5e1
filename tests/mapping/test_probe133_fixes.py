"""probe133 (regression probe of the forty-second session): hidden RTF text, one report in two formats, and the
study's name in a document's description."""

from __future__ import annotations

import base64

from poems_fhir.criteria.model import State
from poems_fhir.mapping.attachment import attachment_text
from poems_fhir.mapping.documents import report_view
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.test_documents import b64, document

RAD = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}


def rtf(body: bytes) -> dict:
    return {"contentType": "text/rtf", "data": base64.b64encode(body).decode()}


def test_hidden_rtf_text_is_not_read() -> None:
    """R2: a template's hidden field ``{\\v Splenomegaly 16 cm. Moderate ascites.}`` made a patient `met`."""
    text = attachment_text(
        rtf(rb"{\rtf1\ansi Visible.\par{\v Splenomegaly 16 cm. Moderate ascites.}\par No edema.\par}")
    )
    assert text is not None and "Splenomegaly" not in text and "ascites" not in text
    assert "Visible." in text and "No edema." in text
    switched = attachment_text(rtf(rb"{\rtf1\ansi Visible. \v Splenomegaly.\v0  Shown again.\par}"))
    assert switched is not None and "Splenomegaly" not in switched and "Shown again." in switched
    # the switch ends with its group; escaped braces and backslashes are text; \viewkind is no switch
    grouped = attachment_text(rtf(rb"{\rtf1\ansi\viewkind4 a \{b\} {\v c {d} e} f\par}"))
    assert grouped is not None and grouped.split() == ["a", "{b}", "f"]


def test_one_report_in_two_formats_is_read_once(mapping) -> None:
    """R3: presentedForm's formats "SHALL be semantically equivalent" (FHIR R4); HTML and RTF of one CT report cited
    each finding twice."""
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "category": [RAD],
        "code": {"text": "CT abdomen"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
        "presentedForm": [
            rtf(rb"{\rtf1 Splenomegaly 16 cm.\par}"),
            {"contentType": "text/html", "data": b64("<p>Splenomegaly 16 cm.</p>")},
        ],
    }
    out = extract(make_record(report), mapping)
    assert [(f.topic, f.state) for f in out.findings] == [("organomegaly", State.PRESENT)]
    assert "presentedForm[1]" in out.findings[0].evidence.summary  # the HTML, the more readable format
    # a broken preferred format: the next one is read, the problem listed
    broken = {**report, "id": "r2"}
    broken["presentedForm"] = [
        {"contentType": "text/plain; charset=utf-7", "data": b64("x")},
        {"contentType": "text/html", "data": b64("<p>Splenomegaly 16 cm.</p>")},
    ]
    out = extract(make_record(broken), mapping)
    assert [f.topic for f in out.findings] == ["organomegaly"] and len(out.errors) == 1


def test_a_documents_description_names_its_study(mapping) -> None:
    """G2: a generic imaging document (18748-4) whose study is named only in its description: the modality was not
    known, so its bone negatives counted as low-grade."""
    doc = document(
        "IMPRESSION: No sclerotic or lytic bone lesions.",
        loinc=("18748-4", "Diagnostic imaging study"),
        description="CT CHEST ABDOMEN PELVIS (low-dose whole body)",
    )
    assert "CT CHEST ABDOMEN PELVIS" in report_view(doc)["code"]["text"]
    by_topic = {f.topic: f for f in extract(make_record(doc), mapping).findings}
    assert by_topic["sclerotic_bone_lesions"].state is State.ABSENT
    # the description is a name, never findings: a description naming a finding adds nothing
    named = document("No comment.", "d2", description="Splenomegaly follow-up")
    assert not extract(make_record(named), mapping).findings


def test_plain_ends_hidden_rtf_text() -> None:
    """probe135 R1/R2: ``\\plain`` resets every character property, hidden text with them - "\\v hidden\\par\\pard\\plain
    Splenomegaly 16 cm." hid the rest of the report (organomegaly "no data", nothing listed)."""
    paragraph = rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}{\f1 Arial;}}IMPRESSION:\par \v\f1 hidden\par\pard\plain\f0  Splenomegaly 16 cm.\par}"
    inline = rb"{\rtf1\ansi IMPRESSION:\par \v hidden template\plain Splenomegaly 16 cm.\par}"
    for body in (paragraph, inline):
        text = attachment_text(rtf(body))
        assert text is not None and "Splenomegaly 16 cm." in text and "hidden" not in text
