r"""probe136 RTF items: a large font table is dropped in one linear pass before striprtf (D1), ``\line`` is a line
break within a paragraph, not a paragraph's end (D2), a code page Python lacks is read as Windows-1252 and listed
(D10), tracked deletions are left out as hidden text is (D12). Controls beside each: what must not change."""

from __future__ import annotations

import base64

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping import attachment
from poems_fhir.mapping.attachment import read_attachment, rtf_text
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

FINDING = r"\par IMPRESSION:\par Splenomegaly 16 cm.\par}"


def form(body: str, content_type: str = "text/rtf") -> dict:
    return {"contentType": content_type, "data": base64.b64encode(body.encode("latin-1")).decode()}


def ct(body: str) -> dict:
    return {
        "resourceType": "DiagnosticReport",
        "id": "ct",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24627-2"}], "text": "CT chest"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
        "presentedForm": [form(body)],
    }


def organomegaly(mapping, body: str) -> set[State]:
    out = extract(make_record(ct(body)), mapping)
    return {f.state for f in out.findings if f.topic == "organomegaly"}


# --- D1: font tables -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [r"{\f1 Arial;}" * 40_000, "".join(rf"\f{i} Arial;" for i in range(40_000))],
    ids=["braced", "unbraced"],
)
def test_a_huge_font_table_reaches_striprtf_as_its_character_sets_only(monkeypatch, table: str) -> None:
    seen: list[int] = []
    from striprtf.striprtf import rtf_to_text as real

    def spy(rtf: str, **kwargs: str) -> str:
        seen.append(len(rtf))
        return real(rtf, **kwargs)

    monkeypatch.setattr(attachment, "rtf_to_text", spy, raising=False)
    body = r"{\rtf1\ansi{\fonttbl" + table + "}" + FINDING
    text = rtf_text(body.encode())
    assert "Splenomegaly 16 cm." in text and "Arial" not in text
    assert seen and max(seen) < 200  # the table's half a megabyte never reaches striprtf's quadratic pattern


def test_other_destinations_are_dropped_and_the_text_around_them_kept() -> None:
    body = (
        r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}{\colortbl;\red0\green0\blue0;}{\stylesheet{\s1 Heading 1;}}"
        r"{\info{\title CT report}{\author Dr X}}{\*\revtbl{Unknown;}{Dr X;}}{\*\generator Writer}"
        r"\f0 A\{b\}\par{\pict\bin4 }{}}}after pict\par" + FINDING
    )
    text = rtf_text(body.encode())
    assert "Splenomegaly 16 cm." in text and "A{b}" in text and "after pict" in text
    for word in ("Arial", "Heading", "CT report", "Dr X", "Unknown", "Writer"):
        assert word not in text


def test_a_font_character_set_still_decodes_escapes_without_a_code_page() -> None:
    # control: Cyrillic by the font's \fcharset204 only (WordPad, older exporters), no \ansicpg
    body = r"{\rtf1\ansi\deff0{\fonttbl{\f0\fnil Arial;}{\f1\fcharset204 Arial Cyr;}}\f1 \'d1\'ef\'eb\'e5\'ed\par}"
    assert rtf_text(body.encode()) == "Сплен\n"


# --- D2: \line ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        r"No evidence of\line splenomegaly or hepatomegaly.",
        r"There is no\line splenomegaly.",
        r"\'cd\'e5\'f2 \'e4\'e0\'ed\'ed\'fb\'f5 \'e7\'e0\line \'f1\'ef\'eb\'e5\'ed\'ee\'ec\'e5\'e3\'e0\'eb\'e8\'fe.",
    ],
    ids=["en-evidence", "en-no", "ru"],
)
def test_a_line_break_within_a_paragraph_keeps_the_denial_with_its_finding(mapping, words: str) -> None:
    body = r"{\rtf1\ansi\ansicpg1251{\fonttbl{\f0 Arial;}}\f0 IMPRESSION:\par " + words + r"\par}"
    assert State.PRESENT not in organomegaly(mapping, body)


def test_a_line_break_is_one_line_break_and_a_paragraph_a_block() -> None:
    body = r"{\rtf1\ansi IMPRESSION:\par No evidence of\line splenomegaly.\par Ascites.\tab x\par}"
    assert rtf_text(body.encode()) == "IMPRESSION:\n\nNo evidence of\nsplenomegaly.\n\nAscites.\tx\n"


def test_a_paragraph_still_ends_a_denial(mapping) -> None:
    # control: the paragraph after a denial is its own block (the finding is the patient's)
    body = r"{\rtf1\ansi IMPRESSION:\par No ascites.\par Splenomegaly 16 cm.\par}"
    assert State.PRESENT in organomegaly(mapping, body)


# --- D10: code pages ----------------------------------------------------------------------------------------

RU = r"\par \'d1\'ef\'eb\'e5\'ed\'ee\'ec\'e5\'e3\'e0\'eb\'e8\'ff 16 \'f1\'ec.\par}"


@pytest.mark.parametrize("page", ["99999", "0", "1200", "20127"])
def test_a_code_page_python_cannot_read_escapes_in_is_listed(page: str) -> None:
    read = read_attachment(form(r"{\rtf1\ansi\ansicpg" + page + r"{\fonttbl{\f0 Arial;}}" + RU))
    assert read is not None and read.unread is not None
    assert f"RTF code page {page} unknown" in read.unread and "\ufffd" not in read.text


def test_the_declared_charset_is_the_fallback_of_an_unknown_code_page() -> None:
    read = read_attachment(form(r"{\rtf1\ansi\ansicpg99999" + RU, "text/rtf; charset=windows-1251"))
    assert read is not None and "Спленомегалия 16 см." in read.text and read.unread is not None


def test_a_known_code_page_and_an_unknown_one_without_escapes_say_nothing() -> None:
    # controls: cp1251 read as before; English text in an RTF of an odd code page has nothing to decode
    read = read_attachment(form(r"{\rtf1\ansi\ansicpg1251" + RU))
    assert read is not None and "Спленомегалия 16 см." in read.text and read.unread is None
    read = read_attachment(form(r"{\rtf1\ansi\ansicpg99999{\fonttbl{\f0 Arial;}}" + FINDING))
    assert read is not None and "Splenomegaly 16 cm." in read.text and read.unread is None


# --- D12: tracked deletions ---------------------------------------------------------------------------------


def test_a_tracked_deletion_is_not_the_report(mapping) -> None:
    body = r"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\par IMPRESSION:\par {\deleted Splenomegaly 16 cm.} No ascites.\par}"
    assert State.PRESENT not in organomegaly(mapping, body)
    switched = r"{\rtf1\ansi IMPRESSION:\par \deleted Splenomegaly 16 cm.\deleted0 No ascites.\par}"
    assert "Splenomegaly" not in rtf_text(switched.encode())


def test_a_tracked_insertion_is_the_report(mapping) -> None:
    # control: \revised (a tracked insertion) is the signed text
    body = r"{\rtf1\ansi IMPRESSION:\par {\revised Splenomegaly 16 cm.} No ascites.\par}"
    assert State.PRESENT in organomegaly(mapping, body)
