"""mapping/attachment.py: the text of a report's presentedForm."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poems_fhir.mapping.attachment import UnreadableAttachment, attachment_text, html_text, media_type


def _form(content_type: str | None, body: bytes | None) -> dict[str, object]:
    form: dict[str, object] = {}
    if content_type is not None:
        form["contentType"] = content_type
    if body is not None:
        form["data"] = base64.b64encode(body).decode()
    return form


@pytest.mark.parametrize(
    "content_type, expected",
    [
        ("text/plain", ("text/plain", None)),
        ("Text/Plain; Charset=Windows-1251", ("text/plain", "windows-1251")),
        ('text/html; charset="utf-8"', ("text/html", "utf-8")),
        ("application/pdf", ("application/pdf", None)),
        (None, ("", None)),
    ],
)
def test_media_type(content_type, expected):
    assert media_type(_form(content_type, None)) == expected


@pytest.mark.parametrize(
    "content_type, body, expected",
    [
        ("text/plain", "Спленомегалия.".encode(), "Спленомегалия."),
        ("text/plain", b"\xef\xbb\xbfAscites.", "Ascites."),  # a byte-order mark is not text
        ("text/plain; charset=windows-1251", "Асцит.".encode("cp1251"), "Асцит."),
        ("text/plain; charset=koi8-r", "Асцит.".encode("koi8_r"), "Асцит."),
        ("text/plain; charset=no-such-charset", "Асцит.".encode(), "Асцит."),  # unknown: UTF-8, the default
        ("text/plain; charset=iso-8859-1", "Ödem".encode("latin-1"), "Ödem"),
        ("application/xhtml+xml", b"<div>Ascites<br/>Splenomegaly</div>", "Ascites\nSplenomegaly"),
    ],
)
def test_text_attachments_are_decoded(content_type, body, expected):
    assert attachment_text(_form(content_type, body)) == expected


@pytest.mark.parametrize(
    "form",
    [
        _form("application/msword", b"\xd0\xcf\x11\xe0 splenomegaly"),
        _form("image/png", b"\x89PNG"),
        _form("text/plain", None),  # only a url: nothing is fetched
        {"contentType": "text/plain", "data": 7},
    ],
)
def test_other_attachments_give_no_text(form):
    assert not attachment_text(form)


def test_html_keeps_blocks_rows_and_list_items_apart():
    html = (
        "<html><head><title>x</title><script>var a = 'splenomegaly';</script></head><body>"
        "<h1>CT</h1><p>No   ascites.\n</p><div>Liver &amp; spleen: normal</div>"
        "<p>No evidence of:</p><ol><li>effusion</li><li>nodes</li></ol>"
        "<table><tr><th>Spleen</th><td>16 cm</td></tr><tr><td>Liver</td><td>normal</td></tr></table>"
        "</body></html>"
    )
    assert html_text(html) == (
        "CT\n\nNo ascites.\n\nLiver & spleen: normal\n\nNo evidence of:\n\n- effusion\n\n- nodes"
        "\n\nSpleen\t16 cm\n\nLiver\tnormal"  # a row's cells apart by a tab: a field and its answer
    )


def test_a_table_row_of_a_finding_and_a_bare_answer_is_read_as_that_answer():
    # probe71 D3: <td>Pleural effusion</td><td>No</td> read "Pleural effusion No": present
    from poems_fhir.mapping.rules import load_mapping

    text = html_text(
        "<table><tr><td>Splenomegaly</td><td>No</td></tr><tr><td>Ascites</td><td>Yes, moderate</td></tr>"
        "<tr><td>Pleural effusion</td><td> No </td></tr></table>"
    )
    [assertions] = load_mapping().text.assert_texts([text])
    assert sorted((a.target, a.label) for a in assertions) == [
        ("ascites", "present"),
        ("pleural_effusion", "negated"),
        ("splenomegaly", "negated"),
    ]


def test_broken_html_still_gives_its_text():
    assert html_text("<p>Splenomegaly<p>No ascites</b></i><li>x") == "Splenomegaly\n\nNo ascites\n- x"


@pytest.mark.parametrize(
    "charset", ["rot13", "hex", "base64", "zlib", "bz2", "uu", "quopri", "idna", "punycode", "undefined"]
)
def test_a_charset_that_names_no_text_encoding_is_read_as_utf8(charset):
    """Hostile or broken input: Python knows these codec names but they are no text encodings (or fail
    with replacement), so decoding raised and cost the whole patient."""
    assert attachment_text(_form(f"text/plain; charset={charset}", "Асцит.".encode())) == "Асцит."


def test_markup_the_standard_parser_refuses_still_gives_its_text_with_blocks_apart():
    """html.parser raises on a malformed marked section ("<![<"): the report must not cost the patient."""
    assert html_text("<p>No ascites</p><![<x <p>Splenomegaly &amp; more</p>") == (
        "No ascites\n\n<![<x\n\nSplenomegaly & more"
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="<>/!&#;=\"' abcpli-[]?x0\n", max_size=120))
def test_any_markup_gives_text_and_never_raises(html):
    assert isinstance(html_text(html), str)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"contentType": "text/plain", "data": "%%% not base64 %%%"}, "data is not base64"),
        # probe32: a Russian report in windows-1251 without its charset became replacement characters
        (
            _form("text/plain", "Склеротические очаги в L2 и L4.".encode("cp1251")),
            "text/plain without a charset is not UTF-8 text",
        ),
    ],
)
def test_text_data_that_cannot_be_read_says_why(form, message):
    with pytest.raises(UnreadableAttachment, match=message):
        attachment_text(form)


def test_a_table_row_written_one_cell_a_line_keeps_its_cells_on_one_line_and_an_empty_cell():
    # probe74 D6: a pretty-printed table gave one cell a line, so no header stood above its answers
    html = (
        "<table>\n  <tr>\n    <th>Site</th>\n    <th>Sclerotic lesion</th>\n  </tr>\n"
        "  <tr>\n    <td>Skull</td>\n    <td>No</td>\n  </tr>\n  <tr><td>L2</td><td></td><td>x</td></tr>\n</table>"
        "<p>No\nascites</p>"
    )
    assert html_text(html) == "Site\tSclerotic lesion\n\nSkull\tNo\n\nL2\t\tx\n\n\nNo\nascites"


def test_two_tables_in_a_row_stay_apart():
    # probe76 D3: HTML rows arrive a blank line apart, so a table's end is two blank lines: the second
    # table's rows were read under the first one's header
    html = (
        "<table><tr><th>Site</th><th>Sclerotic lesion</th></tr><tr><td>Skull</td><td>No</td></tr></table>"
        "<table><tr><td>Ascites</td><td>Yes</td></tr></table>"
    )
    assert html_text(html) == "Site\tSclerotic lesion\n\nSkull\tNo\n\n\nAscites\tYes"
    assert html_text(html.replace("</table><table>", "</table>\n\n<table>")) == html_text(html)
