"""Which format of a document is read and how a text attachment's bytes become text (mapping/attachment.py:
``format_rank``, ``preferred``, ``says_no_text``, ``read_attachment``, ``_codec``) beyond tests/mapping/test_attachment.py
(mutation testing, the forty-fourth session)."""

from __future__ import annotations

import base64
import textwrap
from typing import Any

import pytest

from poems_fhir.mapping.attachment import UnreadableAttachment, preferred, read_attachment, says_no_text

ASCITES = "Moderate ascites."


def form(content_type: str | None, body: bytes | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if content_type is not None:
        out["contentType"] = content_type
    if body is not None:
        out["data"] = base64.b64encode(body).decode()
    return out


def test_of_a_documents_formats_rtf_is_read_before_an_untyped_one_and_an_image_is_none() -> None:
    untyped, rtf = form(None, ASCITES.encode()), form("text/rtf", rb"{\rtf1 Moderate ascites.\par}")
    assert preferred([untyped, rtf]) is rtf
    assert preferred([form("text/html", b"<p>x</p>"), rtf]) == form("text/html", b"<p>x</p>")
    # an inline picture (a thumbnail beside the note's text by url) is no format of the text to read
    assert preferred([form("image/jpeg", b"\xff\xd8\xff\xe0"), form("text/plain")]) is None
    assert preferred([form("application/msword", b"\xd0\xcf\x11\xe0")]) is None


def test_what_says_it_is_no_text() -> None:
    assert says_no_text(form("image/png")) == "image/png"
    assert says_no_text(form("Image/TIFF; name=scan.tif")) == "image/tiff"
    for text in (form("text/plain"), form("application/pdf"), form("text/rtf"), form(None), form("")):
        assert says_no_text(text) is None
    assert says_no_text(form("application/octet-stream")) is None  # a server's default: says nothing


@pytest.mark.parametrize(
    "body",
    ["Moderate ascites.".encode("utf-16"), b"\xfe\xff" + "Moderate ascites.".encode("utf-16-be")],
    ids=["utf-16-le-bom", "utf-16-be-bom"],
)
def test_a_byte_order_mark_without_a_charset_says_utf16(body: bytes) -> None:
    assert read_attachment(form("text/plain", body)) == (ASCITES, None, None, None)


def test_a_declared_utf8_drops_its_byte_order_mark() -> None:
    assert read_attachment(form("text/plain; charset=utf-8", b"\xef\xbb\xbf" + ASCITES.encode())) == (
        ASCITES,
        None,
        None,
        None,
    )
    assert read_attachment(form("text/plain; charset=UTF8", b"\xef\xbb\xbf" + ASCITES.encode())) == (
        ASCITES,
        None,
        None,
        None,
    )


def test_base64_broken_into_lines_is_read_and_data_with_other_characters_is_refused() -> None:
    body = ("IMPRESSION: " + ASCITES * 8).encode()
    lines = "\r\n".join(textwrap.wrap(base64.b64encode(body).decode(), 76))  # MIME's way
    assert read_attachment({"contentType": "text/plain", "data": lines}) == (body.decode(), None, None, None)
    # "!" is no base64: refused, never read with it dropped
    with pytest.raises(UnreadableAttachment, match="data is not base64"):
        read_attachment({"contentType": "text/plain", "data": "TW9kZXJhdGUgYXNjaXRlcy4!"})


def test_one_undecodable_byte_in_a_short_text_is_read_and_listed_two_are_too_many() -> None:
    """A text without a charset that is not UTF-8: read, and listed, while at most one character in ten (and at
    least one) was replaced; more, and it is another charset's text, not read."""
    read = read_attachment(form("text/plain", b"Caf\xe9 ascites."))
    assert read is not None and read.text == "Caf\ufffd ascites."
    assert read.decoding is not None and read.decoding.startswith(
        "text/plain without a charset read as UTF-8 with 1 undecodable character replaced (U+FFFD)"
    )
    with pytest.raises(UnreadableAttachment, match="text/plain without a charset is not UTF-8 text"):
        read_attachment(form("text/plain", b"\xe9\xe9 Ascites."))
    # two replaced in 21 characters: not more than one in ten - read, and listed
    short = b"Ascites \xe9 spleen \xe9 x."
    assert len(short.decode("utf-8", "replace")) == 21
    read = read_attachment(form("text/plain", short))
    assert read is not None and read.text.count("\ufffd") == 2 and read.decoding is not None


def test_a_charset_that_is_no_charset_is_refused_saying_what_to_send() -> None:
    with pytest.raises(UnreadableAttachment) as control:
        read_attachment(form("text/plain; charset=utf\x01", b"Ascites."))
    assert str(control.value) == (
        "text/plain with the charset 'utf\\x01', which is no charset name (a control character in it); not read - "
        "state a charset such as charset=utf-8"
    )
    with pytest.raises(UnreadableAttachment) as escape:
        read_attachment(form("text/plain; charset=utf-7", b"Ascites."))
    assert str(escape.value) == (
        "text/plain in the declared charset 'utf-7', an escape syntax rather than a text charset; not read - send it "
        "as UTF-8 or in its real charset (e.g. charset=windows-1251)"
    )
    with pytest.raises(UnreadableAttachment) as cp1251:
        read_attachment(form("text/plain", "Асцит умеренный, селезёнка увеличена.".encode("cp1251")))
    assert str(cp1251.value) == (
        "text/plain without a charset is not UTF-8 text; not read - send it as UTF-8 or state its charset "
        "(e.g. charset=windows-1251)"
    )
