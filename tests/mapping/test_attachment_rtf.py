"""RTF attachments (``text/rtf``, ``application/rtf``): what several EHRs and most Russian hospital systems export
for reports and notes. They were listed as unread ("presentedForm[0] text/rtf not read"), every finding in them
"no data"; they are read as plain text through striprtf."""

from __future__ import annotations

import base64

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping import attachment
from poems_fhir.mapping.attachment import UnreadableAttachment, attachment_text, readable
from poems_fhir.mapping.extract import extract
from tests.conftest import make_record

# a report as Word/WordPad saves it: a font table, a code page, paragraphs, Cyrillic as \'xx and as \uN
CT_RU = (
    rb"{\rtf1\ansi\ansicpg1251\deff0\nouicompat{\fonttbl{\f0\fnil\fcharset204 Times New Roman;}}"
    rb"{\*\generator Riched20 10.0.19041}\viewkind4\uc1\pard\sa200\sl276\slmult1\f0\fs24\lang1049 "
    rb"\'c7\'e0\'ea\'eb\'fe\'f7\'e5\'ed\'e8\'e5:\par "
    rb"\'d1\'ef\'eb\'e5\'ed\'ee\'ec\'e5\'e3\'e0\'eb\'e8\'ff 16 \'f1\'ec.\par "
    rb"\u1040?\u1089?\u1094?\u1080?\u1090?\u1072? \'ed\'e5\'f2.\par}"
)
CT_EN = rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0 IMPRESSION:\par Multiple sclerotic lesions in the pelvis.\par No ascites.\par}"


def form(body: bytes, content_type: str = "text/rtf") -> dict:
    return {"contentType": content_type, "data": base64.b64encode(body).decode()}


def test_rtf_is_read_in_its_code_page_paragraphs_apart() -> None:
    text = attachment_text(form(CT_RU))
    assert text is not None
    assert "Спленомегалия 16 см." in text and "Асцита нет." in text
    # each paragraph a block of its own: a denial never reaches the next paragraph's finding
    assert "Спленомегалия 16 см.\n\nАсцита нет." in text
    assert "Times New Roman" not in text and "Riched20" not in text  # tables and destinations left out
    assert readable(form(CT_EN, "application/rtf")) and readable(form(CT_EN, "text/rtf; charset=us-ascii"))


def test_an_rtf_without_a_code_page_takes_the_declared_charset() -> None:
    body = rb"{\rtf1\ansi \'d1\'ef\'eb\'e5\'ed\'ee\'ec\'e5\'e3\'e0\'eb\'e8\'ff.\par}"
    assert attachment_text(form(body, "text/rtf; charset=windows-1251")) == "Спленомегалия.\n"


@pytest.mark.parametrize(
    ("body", "said"),
    [(b"Splenomegaly 16 cm.", "does not start with"), (b"{\\rtf1 " + b"0" * 64 + b"}", None)],
)
def test_what_is_not_rtf_is_listed_not_guessed(body: bytes, said: str | None) -> None:
    if said is None:
        assert attachment_text(form(body)) == "0" * 64 + "\n"
        return
    with pytest.raises(UnreadableAttachment, match=said):
        attachment_text(form(body))


def test_a_huge_rtf_is_refused_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachment, "MAX_RTF_BYTES", 100)
    body = rb"{\rtf1 Splenomegaly.\par{\pict\pngblip " + b"89ab" * 100 + rb"}}"
    with pytest.raises(UnreadableAttachment, match="more than the 100 read"):
        attachment_text(form(body))


def test_an_imaging_report_given_as_rtf_is_read(mapping) -> None:
    report = {
        "resourceType": "DiagnosticReport",
        "id": "ct",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"text": "CT whole body"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
        "presentedForm": [form(CT_EN)],
    }
    out = extract(make_record(report), mapping)
    assert not out.errors
    got = {(f.topic, f.state) for f in out.findings}
    assert ("sclerotic_bone_lesions", State.PRESENT) in got
    assert ("extravascular_volume_overload", State.ABSENT) in got
    russian = {**report, "id": "ct-ru", "code": {"text": "КТ всего тела"}, "presentedForm": [form(CT_RU)]}
    got = {(f.topic, f.state) for f in extract(make_record(russian), mapping).findings}
    assert ("organomegaly", State.PRESENT) in got and ("extravascular_volume_overload", State.ABSENT) in got
