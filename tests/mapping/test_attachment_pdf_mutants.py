"""The PDF reader (mapping/attachment.py: ``pdf_text``, ``_pdf_pages``, ``_without_page_furniture``) beyond
tests/mapping/test_attachment_pdf.py (mutation testing, the forty-fourth session): what is said of a PDF that is not
read whole, where reading stops for the text engine's ``limit`` and the page bound, a blank page, a real-world PDF
with a broken cross-reference table, and which lines are a page's running header or footer."""

from __future__ import annotations

import base64
import io
import logging

import pytest

from poems_fhir.mapping import attachment
from poems_fhir.mapping.attachment import UnreadableAttachment, _without_page_furniture, pdf_text, read_attachment
from tests.mapping.pdf_files import pdf, scanned_pdf

PAGE_1 = ["IMPRESSION:", "Splenomegaly 16 cm."]
PAGE_2 = ["Moderate ascites."]
PAGE_3 = ["No sclerotic bone lesions."]


def form(body: bytes) -> dict[str, str]:
    return {"contentType": "application/pdf", "data": base64.b64encode(body).decode()}


def page_texts(body: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(body)).pages]


def broken_xref(body: bytes) -> bytes:
    """The PDF with its ``startxref`` pointing nowhere, as many report systems' PDFs have it: pypdf finds the objects
    by scanning (and warns), its strict mode refuses the file."""
    return body[: body.rfind(b"startxref")] + b"startxref\n12\n%%EOF\n"


def test_a_pdf_read_whole_says_nothing_unread_and_each_page_is_one_line_on() -> None:
    read = read_attachment(form(pdf(PAGE_1, PAGE_2)))
    assert read is not None
    assert read.text == "IMPRESSION:\nSplenomegaly 16 cm.\nModerate ascites.\n"
    assert read.unread is None and read.decoding is None


def test_a_blank_page_adds_nothing() -> None:
    assert pdf_text(pdf(PAGE_1, [], PAGE_3)) == ("IMPRESSION:\nSplenomegaly 16 cm.\nNo sclerotic bone lesions.\n", None)


def test_pages_past_the_bound_are_said_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachment, "MAX_PDF_PAGES", 2)
    assert pdf_text(pdf(PAGE_1, PAGE_2, PAGE_3)) == (
        "IMPRESSION:\nSplenomegaly 16 cm.\nModerate ascites.\n",
        "PDF of 3 pages: the first 2 read, the rest not",
    )


def test_reading_stops_once_the_text_passes_the_limit_and_not_at_it() -> None:
    """``limit``: what the text engine reads of one text. A page is extracted while the text read so far is not
    longer than it - at exactly the limit the next page is still read."""
    body = pdf(PAGE_1, PAGE_2, PAGE_3)
    first, second, _ = map(len, page_texts(body))
    assert pdf_text(body, limit=first) == (
        "IMPRESSION:\nSplenomegaly 16 cm.\nModerate ascites.\n",
        "PDF of 3 pages: the first 2 read, the rest not",
    )
    assert pdf_text(body, limit=first - 1) == (
        "IMPRESSION:\nSplenomegaly 16 cm.\n",
        "PDF of 3 pages: the first 1 read, the rest not",
    )
    # the characters of all pages read so far count, not those of the last page alone
    assert pdf_text(body, limit=first + second - 1)[1] == "PDF of 3 pages: the first 2 read, the rest not"
    assert second <= first + second - 1
    # through read_attachment: the text engine's limit reaches the PDF reader
    read = read_attachment(form(body), limit=first - 1)
    assert read is not None and read.unread == "PDF of 3 pages: the first 1 read, the rest not"


def test_a_page_of_exactly_the_bound_of_instructions_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PdfReader

    body = pdf(PAGE_2, PAGE_1)  # the second page is drawn with more instructions than the first
    sizes = [len(page.get_contents().get_data()) for page in PdfReader(io.BytesIO(body)).pages]
    assert sizes[0] < sizes[1]
    monkeypatch.setattr(attachment, "MAX_PDF_PAGE_BYTES", sizes[1])
    assert pdf_text(body) == ("Moderate ascites.\nIMPRESSION:\nSplenomegaly 16 cm.\n", None)
    monkeypatch.setattr(attachment, "MAX_PDF_PAGE_BYTES", sizes[1] - 1)
    assert pdf_text(body) == (
        "Moderate ascites.\n",
        f"PDF of 2 pages: the first 1 read, the rest not (page 2 is drawn with {sizes[1]:,} bytes of instructions, "
        f"more than {sizes[1] - 1:,})",
    )


def test_what_is_refused_is_said_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnreadableAttachment) as scan:
        pdf_text(scanned_pdf())
    assert str(scan.value) == (
        "PDF with no text layer (a scanned image?); not read - send the report's text as text/plain, or the PDF with "
        "its recognised text"
    )
    with pytest.raises(UnreadableAttachment) as other:
        pdf_text(b"IMPRESSION: Splenomegaly.")
    assert str(other.value) == "PDF that does not start with %PDF-: not a PDF; not read"
    body = pdf(PAGE_1)
    monkeypatch.setattr(attachment, "MAX_PDF_BYTES", len(body) - 1)
    with pytest.raises(UnreadableAttachment) as large:
        pdf_text(body)
    assert str(large.value) == (
        f"PDF of {len(body):,} bytes, more than the {len(body) - 1:,} read; not read - send the report's text as "
        "text/plain"
    )
    monkeypatch.setattr(attachment, "MAX_PDF_BYTES", len(body))
    assert pdf_text(body)[0] == "IMPRESSION:\nSplenomegaly 16 cm.\n"  # exactly the bound: read


def test_a_pdf_after_white_space_is_still_a_pdf() -> None:
    assert pdf_text(b"\r\n  " + pdf(PAGE_2)) == ("Moderate ascites.\n", None)


def test_a_pdf_with_a_broken_cross_reference_table_is_read_without_pypdfs_warnings_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Real-world PDFs are often slightly malformed: pypdf reads them leniently (not strictly, which refuses them),
    and its warnings about each odd object are not the sync log's business."""
    with caplog.at_level(logging.WARNING):
        assert pdf_text(broken_xref(pdf(PAGE_1))) == ("IMPRESSION:\nSplenomegaly 16 cm.\n", None)
        assert logging.getLogger().level == logging.WARNING  # only pypdf's own logger is quietened, not the root
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]


# --- running headers and footers (probe138 R2), line by line -----------------------------------------------------


def test_furniture_is_looked_for_among_a_pages_first_and_last_three_lines_only() -> None:
    page = [
        "St Elsewhere Hospital",
        "CT ABDOMEN",
        "FINDINGS:",
        "As described on page 2 of 3 of the earlier study,",
        "the spleen is enlarged.",
        "IMPRESSION: Splenomegaly.",
        "Signed: Dr X",
        "Page 1 of 1",
    ]
    # one page: only the line that numbers it goes; "page 2 of 3" in the middle of the text stays
    assert _without_page_furniture(["\n".join(page)]) == ["\n".join(page[:-1])]


def test_a_line_repeated_at_the_same_edge_of_two_pages_goes_digits_case_and_spacing_aside() -> None:
    pages = [
        "\n".join(["ST ELSEWHERE  RADIOLOGY 12/03/2024", "IMPRESSION:", "a", "b", "c", "d", "Splenomegaly."]),
        "\n".join(["St Elsewhere Radiology 13/03/2024", "No ascites.", "e", "f", "g", "h", "Pleural effusion."]),
    ]
    assert _without_page_furniture(pages) == [
        "\n".join(["IMPRESSION:", "a", "b", "c", "d", "Splenomegaly."]),
        "\n".join(["No ascites.", "e", "f", "g", "h", "Pleural effusion."]),
    ]


def test_a_line_on_one_page_only_or_twice_on_one_page_is_text() -> None:
    pages = ["Splenomegaly.\nNo ascites.\nSplenomegaly.", "Moderate ascites.\nNo pleural effusion."]
    assert _without_page_furniture(pages) == pages
