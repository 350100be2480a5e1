"""What probe139 found in PDF reports as reporting systems make them: a word in a font without a Unicode map lost
(and with it a denial), a text layer of such glyphs read as nothing in silence, ligatures, and a withdrawal written
as a clause of its own after the finding."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record
from tests.mapping.pdf_files import handmade_pdf, pdf, scanned_pdf

OVERLOAD, BONE, ORGANS = "extravascular_volume_overload", "sclerotic_bone_lesions", "organomegaly"


def ct_report(*, conclusion: str | None = None, pdf_bytes: bytes | None = None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": "ct",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24627-2"}], "text": "CT chest abdomen pelvis"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
    }
    if conclusion is not None:
        report["conclusion"] = conclusion
    if pdf_bytes is not None:
        report["presentedForm"] = [{"contentType": "application/pdf", "data": base64.b64encode(pdf_bytes).decode()}]
    return report


def read(mapping, resource: dict[str, Any]) -> tuple[dict[str, set[State]], list[str]]:
    extraction = extract(make_record(resource), mapping)
    states: dict[str, set[State]] = {}
    for f in extraction.findings:
        states.setdefault(f.topic, set()).add(f.state)
    return states, [e.message for e in extraction.errors]


# ---------------------------------------------------------------- D1, D7: glyphs without a Unicode map


def test_a_denial_drawn_in_a_font_without_unicode_map_is_not_read_as_the_finding(mapping) -> None:
    """probe139 D1: "NO" in a font without ToUnicode came out as two control characters, read as spaces: "NO evidence
    of ascites." was ascites present. The sentence is not judged now, and the lost glyphs are listed."""
    content = rb"BT /F1 10 Tf 72 700 Td (\001\002 evidence of ascites.) Tj ET"
    states, problems = read(mapping, ct_report(pdf_bytes=handmade_pdf(content)))
    assert State.PRESENT not in states.get(OVERLOAD, set())
    assert states.get(OVERLOAD) == {State.INDETERMINATE}
    assert any("2 glyphs its fonts do not map to text" in p for p in problems)


def test_a_text_layer_of_such_glyphs_is_listed_not_read_as_nothing(mapping) -> None:
    """probe139 D7: a whole page of unmapped glyphs was "no data" with nothing listed."""
    content = rb"BT /F1 10 Tf 72 700 Td (\001\002\003\004\005\006\007\010 \016\017\020\021\022.) Tj ET"
    states, problems = read(mapping, ct_report(pdf_bytes=handmade_pdf(content)))
    assert OVERLOAD not in states
    assert any("text layer is 13 glyphs its fonts do not map to text" in p for p in problems)


def test_a_pdf_whose_glyphs_all_map_is_read_as_before(mapping) -> None:
    # control: the same hand-made PDF with its words: a denial, nothing listed
    content = rb"BT /F1 10 Tf 72 700 Td (No evidence of ascites.) Tj ET"
    states, problems = read(mapping, ct_report(pdf_bytes=handmade_pdf(content)))
    assert states.get(OVERLOAD) == {State.ABSENT}
    assert not [p for p in problems if "glyphs" in p]


# ---------------------------------------------------------------- D10: ligatures


@pytest.mark.parametrize(
    "line, topic",
    [("Moderate pleural e\ufb00usion.", OVERLOAD), ("Splenomegaly \ufb01ndings: spleen 16 cm, enlarged.", ORGANS)],
)
def test_a_ligature_in_a_pdf_reads_as_its_letters(mapping, line: str, topic: str) -> None:
    """probe139 D10: "e\ufb00usion" (the "ff" ligature a PDF's font draws) was no effusion."""
    states, _ = read(mapping, ct_report(pdf_bytes=pdf([line])))
    assert states.get(topic) == {State.PRESENT}


# ---------------------------------------------------------------- D3: a withdrawal as a clause of its own


@pytest.mark.parametrize(
    "conclusion",
    [
        "The previous version of this report stated a sclerotic lesion in L2; this statement is withdrawn.",  # D3
        "The previous version of this report stated a sclerotic lesion in L2; this statement is withdrawn. "
        "No sclerotic bone lesions.",
        "Sclerotic lesion in L2 (statement withdrawn).",
        "Sclerotic lesion in L2; this finding has been retracted.",
        "Sclerotic lesion in L2; this was incorrect.",
        "Склеротический очаг в L2; данное заключение отозвано.",
        "Склеротический очаг в L2 (это описание ошибочно).",
    ],
)
def test_a_withdrawal_after_the_finding_in_a_clause_of_its_own_is_no_finding(mapping, conclusion: str) -> None:
    states, _ = read(mapping, ct_report(conclusion=conclusion))
    assert states.get(BONE) == {State.ABSENT}


@pytest.mark.parametrize(
    "conclusion",
    [
        "Sclerotic lesion in L2; this is not incorrect.",
        "Sclerotic lesion in L2; this finding is new.",
        "Sclerotic lesion in L2; the previous report was wrong to omit it.",
        "Sclerotic lesion in L2; the earlier report was incorrect.",
    ],
)
def test_a_clause_that_withdraws_nothing_leaves_the_finding(mapping, conclusion: str) -> None:
    # controls: no withdrawal of this finding (a denial of the error, a new finding, another report's error)
    states, _ = read(mapping, ct_report(conclusion=conclusion))
    assert states.get(BONE) == {State.PRESENT}


# ---------------------------------------------------------------- D5: PDF bytes declared as text


def test_pdf_bytes_declared_text_plain_are_read_as_the_pdf(mapping) -> None:
    """probe139 D5: a PDF under an inline text/plain attachment was read as prose - its operators quoted as evidence
    and, of an incrementally updated file, the superseded sentence read ("Splenomegaly 16 cm." replaced by "No
    splenomegaly."). Read as the PDF it is now, and listed."""
    first = handmade_pdf(rb"BT /F1 10 Tf 72 700 Td (Splenomegaly 16 cm.) Tj ET")
    report = ct_report(pdf_bytes=first)
    report["presentedForm"][0]["contentType"] = "text/plain"
    states, problems = read(mapping, report)
    assert states.get(ORGANS) == {State.PRESENT}
    assert any("declared text/plain, but its bytes are a PDF: read as a PDF" in p for p in problems)
    denial = handmade_pdf(rb"BT /F1 10 Tf 72 700 Td (No splenomegaly. No ascites.) Tj ET")
    report["presentedForm"][0]["data"] = base64.b64encode(denial).decode()
    states, _ = read(mapping, report)
    assert State.PRESENT not in states.get(ORGANS, set()) and states.get(OVERLOAD) == {State.ABSENT}


def test_a_text_that_only_mentions_pdf_is_read_as_text(mapping) -> None:
    # control: a plain text starting with other words, "%PDF-" later in it, stays text
    text = b"Moderate ascites. (Original: %PDF-1.4 attachment on file.)"
    report = ct_report()
    report["presentedForm"] = [{"contentType": "text/plain", "data": base64.b64encode(text).decode()}]
    states, problems = read(mapping, report)
    assert states.get(OVERLOAD) == {State.PRESENT} and not [p for p in problems if "bytes are a PDF" in p]


# ---------------------------------------------------------------- D8: a scanned page beside text pages


def _joined(*documents: bytes) -> bytes:
    """One PDF of the pages of several, as a report system appends a scanned page to its generated ones."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in documents:
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_scanned_page_beside_text_pages_is_listed_and_the_text_still_read(mapping) -> None:
    """probe139 D8: page 2, a picture without a text layer, was dropped in silence: the finding it may hold lost."""
    joined = _joined(pdf(["FINDINGS", "No ascites."]), scanned_pdf(), pdf(["IMPRESSION", "Splenomegaly, 16 cm."]))
    states, problems = read(mapping, ct_report(pdf_bytes=joined))
    assert states[OVERLOAD] == {State.ABSENT} and states[ORGANS] == {State.PRESENT}
    [listed] = [p for p in problems if "a picture without a text layer" in p]
    assert "PDF page 2 of 3: a picture without a text layer (a scanned page?), not read" in listed


def test_a_blank_page_between_text_pages_is_no_scanned_page(mapping) -> None:
    # control: an empty page (nothing drawn) holds no finding: nothing listed
    joined = _joined(pdf(["FINDINGS", "No ascites."]), pdf([]), pdf(["IMPRESSION", "Splenomegaly, 16 cm."]))
    states, problems = read(mapping, ct_report(pdf_bytes=joined))
    assert states[OVERLOAD] == {State.ABSENT} and states[ORGANS] == {State.PRESENT}
    assert problems == []


# ---------------------------------------------------------------- D11, D12: running headers and what is not one


def test_lines_at_the_same_place_whose_numbers_differ_are_content_not_a_running_header(mapping) -> None:
    """probe139 D11: "Key image 1 (slice 117): sclerotic lesion, 9 mm" atop page 1 and "Key image 2 (slice 134): …"
    atop page 2 differ only in digits and were dropped as a running header, and the lesion with them."""
    body = pdf(
        ["Key image 1 (slice 117): sclerotic lesion, 9 mm", "Findings: see key images."],
        ["Key image 2 (slice 134): sclerotic lesion, 10 mm", "End of report."],
    )
    states, problems = read(mapping, ct_report(pdf_bytes=body))
    assert states[BONE] == {State.PRESENT} and problems == []


def test_a_header_numbering_its_pages_from_any_first_page_and_a_print_time_are_still_furniture() -> None:
    from poems_fhir.mapping.attachment import pdf_text

    text, _ = pdf_text(
        pdf(
            ["Sheet 5 - DOE, JANE - printed 03/12/2024 14:05", "IMPRESSION: No evidence of", "Footer 77"],
            ["Sheet 6 - DOE, JANE - printed 03/12/2024 14:06", "splenomegaly.", "Footer 77"],
        )
    )
    assert text == "IMPRESSION: No evidence of\nsplenomegaly.\n"


def test_a_pdf_whose_every_line_repeats_at_the_same_place_is_read_not_called_textless(mapping) -> None:
    """probe139 D12: the two pages' one line each were all "running header", and the PDF was then listed as "no text
    layer": its finding lost and the wrong reason given."""
    body = pdf(["Sclerotic lesion in L2, 9 mm."], ["Sclerotic lesion in L2, 9 mm."])
    states, problems = read(mapping, ct_report(pdf_bytes=body))
    assert states[BONE] == {State.PRESENT} and problems == []
