r"""The RTF reader (mapping/attachment.py: ``rtf_read``) beyond tests/mapping/test_attachment_rtf.py and
test_fix136a_rtf.py (mutation testing, the forty-fourth session): the size bound, what is said of what is refused or
read in another code page, RTF's default code page, and line breaks written as escaped bytes."""

from __future__ import annotations

import pytest

from poems_fhir.mapping import attachment
from poems_fhir.mapping.attachment import UnreadableAttachment, rtf_read

SPLEEN_CP1251 = rb"\'d1\'ef\'eb\'e5\'ed"  # "Сплен" in Windows-1251, "Ñïëåí" in Windows-1252


def test_an_rtf_of_exactly_the_bound_is_read_and_one_byte_more_is_refused_saying_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = rb"{\rtf1\ansi Splenomegaly.\par}"
    monkeypatch.setattr(attachment, "MAX_RTF_BYTES", len(body))
    assert rtf_read(body) == ("Splenomegaly.\n", None)
    monkeypatch.setattr(attachment, "MAX_RTF_BYTES", len(body) - 1)
    with pytest.raises(UnreadableAttachment) as refused:
        rtf_read(body)
    assert str(refused.value) == (
        f"RTF of {len(body):,} bytes, more than the {len(body) - 1:,} read (its text is a few kB: the rest is embedded "
        "pictures); not read - send the report's text as text/plain"
    )


def test_what_is_not_rtf_is_refused_saying_so_and_white_space_before_rtf_is_no_matter() -> None:
    with pytest.raises(UnreadableAttachment) as refused:
        rtf_read(b"Splenomegaly 16 cm.")
    assert str(refused.value) == "RTF that does not start with {\\rtf: not RTF; not read"
    assert rtf_read(b"\r\n  {\\rtf1\\ansi Ascites.\\par}") == ("Ascites.\n", None)


def test_escapes_without_a_code_page_or_a_charset_are_windows_1252() -> None:
    """RTF's default code page: "caf\\'e9" is "café"."""
    assert rtf_read(rb"{\rtf1\ansi caf\'e9 \'b5g/L\par}") == ("café µg/L\n", None)


def test_an_unknown_code_page_is_read_in_the_declared_windows_code_page_or_else_in_windows_1252() -> None:
    body = rb"{\rtf1\ansi\ansicpg99999 " + SPLEEN_CP1251 + rb"\par}"
    said = (
        "RTF code page 99999 unknown or not its \\'hh bytes' (\\ansicpg): its escaped characters read as {} - send "
        "the report's text as text/plain in UTF-8"
    )
    assert rtf_read(body, "windows-1251") == ("Сплен\n", said.format("cp1251"))
    # a declared charset that is no Windows code page cannot stand for \ansicpg: RTF's default is read, and said
    assert rtf_read(body, "koi8-r") == ("Ñïëåí\n", said.format("cp1252"))
    assert rtf_read(body) == ("Ñïëåí\n", said.format("cp1252"))


def test_an_absurd_code_page_is_quoted_to_12_digits() -> None:
    text, unread = rtf_read(rb"{\rtf1\ansi\ansicpg12345678901234 " + SPLEEN_CP1251 + rb"\par}")
    assert text == "Ñïëåí\n"
    assert unread is not None and unread.startswith("RTF code page 123456789012 unknown or not")


def test_a_line_break_written_as_escaped_bytes_is_one_paragraph_break() -> None:
    r"""``\'0d\'0a`` (CR LF as escapes, as some exporters write a line break): one break between the paragraphs, as
    ``\par`` is - not a carriage return left in the text."""
    assert rtf_read(rb"{\rtf1\ansi IMPRESSION:\'0d\'0aSplenomegaly.\par}") == ("IMPRESSION:\n\nSplenomegaly.\n", None)


def test_a_known_code_pages_undefined_byte_leaves_the_rest_in_that_code_page() -> None:
    r"""``\'98`` is no character of Windows-1251: replaced, while the Cyrillic beside it is read in the document's
    own code page (the fallback is for a code page Python cannot read, not for one odd byte)."""
    assert rtf_read(rb"{\rtf1\ansi\ansicpg1251 " + SPLEEN_CP1251 + rb" \'98\par}") == ("Сплен \ufffd\n", None)
