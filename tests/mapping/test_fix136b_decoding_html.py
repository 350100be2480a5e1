"""probe136 D3, D6, D11: bytes that are not text in the charset read (a cp1251 «нет» in a UTF-8 report) make
the finding beside them indeterminate and are listed; HTML a browser does not show is not read; UTF-8 bytes
declared UTF-16 are read as UTF-8 and listed, never "no data" in silence."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.attachment import html_text, read_attachment
from poems_fhir.mapping.extract import Extraction, extract
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record

MAPPING = load_mapping()


def _ct(body: bytes | None = None, conclusion: str | None = None, content_type: str = "text/plain") -> Extraction:
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24338-6"}], "text": "CT"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
    }
    if body is not None:
        report["presentedForm"] = [{"contentType": content_type, "data": base64.b64encode(body).decode()}]
    if conclusion is not None:
        report["conclusion"] = conclusion
    return extract(make_record(report), MAPPING)


def _organomegaly(out: Extraction) -> set[State]:
    return {f.state for f in out.findings if f.topic == "organomegaly"}


# --- D3: a replacement character beside a finding -------------------------------------------------------------

#: the report around the mis-encoded word: a text mostly undecodable is refused whole (listed), as before
RU_HEAD = "КТ органов брюшной полости с контрастированием.\n\nЗАКЛЮЧЕНИЕ:\n\n".encode()


@pytest.mark.parametrize(
    "body",
    [
        RU_HEAD + "Спленомегалия: ".encode() + "нет".encode("cp1251") + b".",  # a cp1251 field in a UTF-8 template
        b"N\xffo splenomegaly.",  # a stray byte inside the denial
        b"Doesn\x92t show splenomegaly.",  # a cp1252 apostrophe in UTF-8
        RU_HEAD
        + "Гепатомегалии ".encode()
        + "без".encode("cp1251")
        + " изменений. Спленомегалия ".encode()
        + b"\xed\xe5\xf2.",
    ],
)
def test_a_finding_beside_undecodable_bytes_is_indeterminate_and_listed(body: bytes) -> None:
    out = _ct(body)
    assert State.PRESENT not in _organomegaly(out)
    assert State.INDETERMINATE in _organomegaly(out)
    note = next(f.note for f in out.findings if f.topic == "organomegaly")
    assert note is not None and "could not be decoded" in note
    assert any("U+FFFD" in e.message for e in out.errors)


def test_a_senders_own_replacement_character_in_a_conclusion_is_no_positive() -> None:
    assert _organomegaly(_ct(conclusion="N\ufffdo splenomegaly.")) == {State.INDETERMINATE}
    # as sent in a UTF-8 attachment: read, and listed
    out = _ct("Спленомегалия: \ufffd\ufffd\ufffd.".encode())
    assert _organomegaly(out) == {State.INDETERMINATE}
    assert any("as sent" in e.message for e in out.errors)


@pytest.mark.parametrize(
    ("body", "state"),
    [
        ("Спленомегалия: нет.".encode(), State.ABSENT),  # clean UTF-8: unchanged
        (b"No splenomegaly.", State.ABSENT),
        ("Спленомегалия 16 см.".encode(), State.PRESENT),
        # a stray byte in another sentence leaves this one's finding as it is
        (b"R\xe9sum\xe9 attached.\n\nSplenomegaly 16 cm.", State.PRESENT),
        ("Спленомегалия: нет.".encode("cp1251"), None),  # a whole cp1251 text: listed unreadable, as before
    ],
)
def test_controls_clean_text_and_other_sentences_unchanged(body: bytes, state: State | None) -> None:
    out = _ct(body)
    assert _organomegaly(out) == ({state} if state else set())
    if b"\xe9" not in body and state is not None:
        assert not out.errors


# --- D6: HTML no reader sees ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hidden",
    [
        '<p style="display:none">Splenomegaly 16 cm.</p>',
        '<div STYLE="color: red; Display : None !important"><p>Splenomegaly 16 cm.</p></div>',
        '<p style="visibility:hidden">Splenomegaly 16 cm.</p>',
        "<p hidden>Splenomegaly 16 cm.</p>",
        "<template><p>Splenomegaly 16 cm.</p></template>",
        "<noscript>Splenomegaly 16 cm.</noscript>",
        '<div hidden><p>Splenomegaly<p>16 cm.</p><br/><img src="x"></div>',
    ],
)
def test_html_a_browser_does_not_show_is_not_read(hidden: str) -> None:
    page = f"<p>IMPRESSION:</p>{hidden}<p>Normal study.</p>"
    assert html_text(page) == "IMPRESSION:\n\nNormal study."
    assert _organomegaly(_ct(page.encode(), content_type="text/html")) == set()


@pytest.mark.parametrize(
    "shown",
    [
        '<p style="display:block">Splenomegaly 16 cm.</p>',
        '<p aria-hidden="true">Splenomegaly 16 cm.</p>',  # hidden from screen readers only: a reader sees it
        '<p title="display:none">Splenomegaly 16 cm.</p>',
        "<p hidden>Template field</p><p>Splenomegaly 16 cm.</p>",  # what follows a hidden element is shown
        "<p hidden>Template field<p>Splenomegaly 16 cm.</p>",  # a new paragraph closes the hidden one
        '<div hidden="until-found">Splenomegaly 16 cm.</div>',
    ],
)
def test_html_controls_what_is_shown_is_read(shown: str) -> None:
    assert "Splenomegaly 16 cm." in html_text(f"<p>IMPRESSION:</p>{shown}")
    assert _organomegaly(_ct(f"<p>IMPRESSION:</p>{shown}".encode(), content_type="text/html")) == {State.PRESENT}


# --- D11: UTF-8 bytes declared UTF-16 ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text/html", "text/plain"])
@pytest.mark.parametrize("charset", ["utf-16", "UTF-16LE", "utf-32"])
def test_utf8_bytes_declared_wide_are_read_as_utf8_and_listed(kind: str, charset: str) -> None:
    body = b"<p>IMPRESSION:</p><p>Splenomegaly 16 cm.</p>" if kind == "text/html" else b"Splenomegaly 16 cm. OK"
    read = read_attachment({"contentType": f"{kind}; charset={charset}", "data": base64.b64encode(body).decode()})
    assert read is not None and "Splenomegaly 16 cm." in read.text
    assert read.decoding is not None and "UTF-8" in read.decoding
    out = _ct(body, content_type=f"{kind}; charset={charset}")
    assert _organomegaly(out) == {State.PRESENT}
    assert any("UTF-8" in e.message for e in out.errors)


def test_real_utf16_is_still_read_as_declared() -> None:
    body = "Спленомегалия 16 см.".encode("utf-16-le")
    read = read_attachment({"contentType": "text/plain; charset=utf-16le", "data": base64.b64encode(body).decode()})
    assert read is not None and read.text == "Спленомегалия 16 см." and read.decoding is None
