"""PDF attachments (``application/pdf``): how Epic and most laboratory and radiology systems send pathology and
imaging reports. They were listed as unread ("presentedForm[0] application/pdf not read"), every finding in them "no
data"; their text layer is read through pypdf. A scan (no text layer), an encrypted, broken or oversized PDF is
listed, never read as "no data" in silence."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping import attachment
from poems_fhir.mapping.attachment import UnreadableAttachment, attachment_text, format_rank, readable
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.pdf_files import encrypted, pdf, scanned_pdf

CT_EN = [
    "CT CHEST, ABDOMEN AND PELVIS WITH CONTRAST",
    "CLINICAL HISTORY: Progressive neuropathy.",
    "FINDINGS:",
    "Liver: Normal in size.",
    "Spleen: Enlarged, 16.2 cm.",
    "Bones: Multiple sclerotic lesions in the thoracic spine and pelvis.",
    "IMPRESSION:",
    "1. Splenomegaly.",
    "2. Multiple sclerotic bone lesions.",
]
CT_RU = [
    "КТ органов грудной клетки и брюшной полости",
    "Заключение: спленомегалия (селезёнка 16 см).",
    "Склеротические очаги в телах позвонков Th7, L2.",
    "Асцита нет.",
]


def form(body: bytes, content_type: str = "application/pdf") -> dict[str, Any]:
    return {"contentType": content_type, "data": base64.b64encode(body).decode()}


def report(*forms: dict[str, Any], rid: str = "ct", code: str = "CT chest abdomen pelvis") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"text": code},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
        "presentedForm": list(forms),
    }


def states(out: Any) -> set[tuple[str, State]]:
    return {(f.topic, f.state) for f in out.findings}


def test_a_pdf_is_read_by_its_text_layer_line_by_line() -> None:
    text = attachment_text(form(pdf(CT_EN)))
    assert text is not None
    assert "Spleen: Enlarged, 16.2 cm." in text and "2. Multiple sclerotic bone lesions." in text
    assert readable(form(b"", "application/pdf")) and readable(form(b"", "Application/PDF; name=report.pdf"))


def test_a_page_break_is_one_line_break_and_cyrillic_is_text() -> None:
    text = attachment_text(form(pdf(CT_RU[:2], CT_RU[2:], ["Қорытынды: көкбауыр ұлғайған, асцит жоқ."])))
    assert text is not None
    assert "Заключение: спленомегалия (селезёнка 16 см).\nСклеротические очаги" in text
    assert text.endswith("Асцита нет.\nҚорытынды: көкбауыр ұлғайған, асцит жоқ.\n")


def test_a_denial_running_over_a_page_break_keeps_its_finding_denied(mapping) -> None:
    """probe138 R1: page 1 ended "No evidence of", page 2 began "splenomegaly, …": a blank line between the pages
    ended the sentence, and the finding on page 2 was read present."""
    body = pdf(
        ["CT ABDOMEN PELVIS", "IMPRESSION:", "No evidence of"], ["splenomegaly, hepatomegaly or lymphadenopathy."]
    )
    out = extract(make_record(report(form(body))), mapping)
    organs = {f.state for f in out.findings if f.topic == "organomegaly"}
    assert organs == {State.ABSENT}


def test_running_headers_and_footers_are_left_out(mapping) -> None:
    """probe138 R2: "Patient: DOE, JANE MRN 123 Page 2 of 2" atop page 2 was read into the sentence page 1 left
    open. A line that numbers its page, or that the same place of another page repeats (digits aside), is furniture."""
    header = "St Elsewhere Hospital - Radiology Report printed 03/12/2024"
    body = pdf(
        [header, "CT ABDOMEN PELVIS", "IMPRESSION: No evidence of", "Page 1 of 2"],
        [
            "Patient: DOE, JANE   MRN 123   Page 2 of 2",
            "splenomegaly or ascites.",
            "Moderate pleural effusions.",
            "- 2 -",
        ],
    )
    text = attachment_text(form(body))
    assert text is not None
    assert "Page" not in text and "- 2 -" not in text and "MRN" not in text
    assert "IMPRESSION: No evidence of\nsplenomegaly or ascites.\nModerate pleural effusions." in text
    repeated = attachment_text(form(pdf([header.replace("03", "04"), "Findings: normal."], [header, "No ascites."])))
    assert repeated is not None and "Hospital" not in repeated and "No ascites." in repeated
    single = attachment_text(form(pdf(["IMPRESSION:", "Splenomegaly 16 cm.", "Page 1 of 1"])))
    assert single == "IMPRESSION:\nSplenomegaly 16 cm.\n"  # a page's number alone goes; its text stays


def test_an_imaging_report_given_as_pdf_is_read_and_cited(mapping) -> None:
    out = extract(make_record(report(form(pdf(CT_EN)))), mapping)
    assert not out.errors
    assert {("organomegaly", State.PRESENT), ("sclerotic_bone_lesions", State.PRESENT)} <= states(out)
    bone = next(f for f in out.findings if f.topic == "sclerotic_bone_lesions")
    assert bone.evidence.reference == "DiagnosticReport/ct" and "presentedForm[0]" in bone.evidence.summary


def test_a_russian_pdfs_denial_is_a_denial(mapping) -> None:
    out = extract(make_record(report(form(pdf(CT_RU)))), mapping)
    got = states(out)
    assert ("organomegaly", State.PRESENT) in got and ("sclerotic_bone_lesions", State.PRESENT) in got
    ascites = [f.state for f in out.findings if f.topic == "extravascular_volume_overload"]
    assert ascites and State.PRESENT not in ascites


def test_a_pathology_pdfs_negative_marrow_stays_negative(mapping) -> None:
    """The denial and the finding on two lines of the PDF: the hard-wrapped sentence goes on (README "Sentences")."""
    marrow = report(
        form(
            pdf(
                [
                    "SURGICAL PATHOLOGY REPORT",
                    "FINAL DIAGNOSIS:",
                    "Bone marrow, posterior iliac crest, biopsy: normocellular marrow with no evidence of",
                    "a plasma cell neoplasm. Plasma cells 2%, polytypic.",
                ]
            )
        ),
        rid="bm",
        code="Bone marrow biopsy pathology report",
    )
    marrow["category"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "PAT"}]}]
    out = extract(make_record(marrow), mapping)
    assert ("monoclonal_plasma_cell_disorder", State.PRESENT) not in states(out)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (scanned_pdf(), "no text layer"),
        (encrypted(pdf(CT_EN)), "encrypted with a password"),
        (pdf(CT_EN)[:400], "PDF that cannot be read"),
        (b"IMPRESSION: Splenomegaly.", "does not start with %PDF-"),
    ],
    ids=["scan", "encrypted", "truncated", "not-a-pdf"],
)
def test_what_cannot_be_read_is_listed(mapping, body: bytes, said: str) -> None:
    with pytest.raises(UnreadableAttachment, match=said):
        attachment_text(form(body))
    out = extract(make_record(report(form(body))), mapping)
    assert any(said in e.message and e.resource == "DiagnosticReport/ct" for e in out.errors)
    assert ("organomegaly", State.PRESENT) not in states(out)


def test_a_pdf_encrypted_without_a_user_password_is_read() -> None:
    """Many report systems "protect" a PDF against editing only: it opens without a password."""
    text = attachment_text(form(encrypted(pdf(CT_EN), password="")))
    assert text is not None and "Splenomegaly." in text


def test_a_huge_pdf_is_refused_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachment, "MAX_PDF_BYTES", 1000)
    with pytest.raises(UnreadableAttachment, match="more than the 1,000 read"):
        attachment_text(form(pdf(CT_EN)))


def test_pages_past_the_bound_are_listed_not_read(mapping, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachment, "MAX_PDF_PAGES", 1)
    out = extract(make_record(report(form(pdf(["IMPRESSION: No ascites."], ["Splenomegaly 16 cm."])))), mapping)
    assert any("PDF of 2 pages: the first 1 read, the rest not" in e.message for e in out.errors)
    assert ("organomegaly", State.PRESENT) not in states(out)


def test_a_page_drawn_with_megabytes_of_instructions_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 10 kB attachment can inflate to megabytes of drawing instructions, which pypdf's text extraction takes
    seconds a MB to walk (a crafted one: 30 s for one note). A page over the bound, and the pages after it, are not
    read; what was read before it is."""
    body = pdf(["IMPRESSION: Splenomegaly 16 cm."], ["Ascites. " * 400])
    monkeypatch.setattr(attachment, "MAX_PDF_PAGE_BYTES", 5000)
    read = attachment.read_attachment(form(body))
    assert read is not None and read.text == "IMPRESSION: Splenomegaly 16 cm.\n"
    assert read.unread is not None and read.unread.startswith("PDF of 2 pages: the first 1 read, the rest not (page 2")
    with pytest.raises(UnreadableAttachment, match=r"PDF not read \(page 1 is drawn with [\d,]+ bytes"):
        attachment_text(form(pdf(["Ascites. " * 400])))


def test_of_a_report_as_html_and_pdf_the_html_is_read_once(mapping) -> None:
    """FHIR R4: a report's presentedForm formats "SHALL be semantically equivalent": one is read."""
    html = form(b"<p>IMPRESSION: Splenomegaly 16 cm.</p>", "text/html")
    out = extract(make_record(report(form(pdf(["IMPRESSION: Splenomegaly 16 cm."])), html)), mapping)
    organs = [f for f in out.findings if f.topic == "organomegaly"]
    assert len(organs) == 1 and "presentedForm[1]" in organs[0].evidence.summary
    assert format_rank(html) < format_rank(form(b"")) < 9
