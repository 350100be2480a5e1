"""probe87: hostile attachments and texts fail only themselves, and every cut is listed (D1, D2, D6, D9)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.attachment import UnreadableAttachment, attachment_text
from tests.mapping.test_extract import run, states
from tests.mapping.test_text_extract import report

SCL = "sclerotic_bone_lesions"


def rule_states(ex: Any, rule: str) -> list[State]:
    return [f.state for f in ex.findings if f.source_rule == rule]


def _form(content_type: str, body: bytes) -> dict[str, Any]:
    return {"contentType": content_type, "data": base64.b64encode(body).decode()}


def _attached(rid: str, content_type: str, body: bytes) -> dict[str, Any]:
    r = report("CT whole body", "")
    del r["conclusion"]
    r["id"] = rid
    r["presentedForm"] = [_form(content_type, body)]
    return r


def _good(rid: str = "r2") -> dict[str, Any]:
    r = report("CT whole body", "Splenomegaly 16 cm. Sclerotic lesions in L2.")
    r["id"] = rid
    return r


# --- D2: a charset decoding to a lone surrogate --------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain; charset=utf-7", b"+2AA- ascites"),
        ("text/plain; charset=UTF7", b"+2AA- ascites"),
        ("text/plain; charset=unicode_escape", b"\\ud800 ascites"),
        ("text/plain; charset=raw_unicode_escape", b"\\ud800 ascites"),
        ("text/html; charset=utf-7", b"<p>+2AA- ascites</p>"),
    ],
)
def test_an_escape_charset_is_an_unreadable_attachment_and_the_other_reports_are_read(mapping, content_type, body):
    ex = run(mapping, _attached("r1", content_type, body), _good())
    assert states(ex, SCL) == [State.PRESENT] and rule_states(ex, "splenomegaly") == [State.PRESENT]
    (error,) = ex.errors
    assert error.resource == "DiagnosticReport/r1"
    assert "presentedForm[0]" in error.message and "escape syntax" in error.message
    assert "mapping files" not in error.message


def test_no_decoded_text_holds_a_lone_surrogate(monkeypatch):
    # whatever a codec gives, a lone surrogate becomes U+FFFD before the text engine sees it
    import poems_fhir.mapping.attachment as attachment

    monkeypatch.setattr(attachment, "_ESCAPE_CODECS", frozenset())
    assert attachment_text(_form("text/plain; charset=utf-7", b"+2AA- ascites")) == "\ufffd ascites"


def test_a_text_the_engine_fails_on_fails_alone_against_its_own_resource(mapping, monkeypatch):
    """probe87 D2: the failure of one text made every text of the patient unread, each one blamed."""
    engine = mapping.text
    real = engine._run

    def run_or_fail(nlp: Any, chunk: str) -> Any:
        if "ascites" in chunk.lower():
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(nlp, chunk)

    monkeypatch.setattr(engine, "_run", run_or_fail)
    bad = report("CT abdomen", "Moderate ascites. Hepatomegaly.")
    bad["id"] = "r1"
    ex = run(mapping, bad, _good())
    assert states(ex, SCL) == [State.PRESENT] and rule_states(ex, "splenomegaly") == [State.PRESENT]
    assert rule_states(ex, "hepatomegaly") == []  # the failed text is not read at all, not half read
    (error,) = ex.errors
    assert error.resource == "DiagnosticReport/r1" and error.message.startswith("conclusion: ")
    assert "UnicodeEncodeError" in error.message and "mapping files" not in error.message


# --- D1: a NUL in the charset --------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["utf-8\x00", "\x00", "utf-8\x1b[31m", "utf\x008"])
def test_a_charset_with_a_control_character_is_an_unreadable_attachment(mapping, charset):
    with pytest.raises(UnreadableAttachment, match="no charset name"):
        attachment_text(_form(f"text/plain; charset={charset}", b"No ascites."))
    r = _attached("r1", f"text/plain; charset={charset}", b"Sclerotic lesions in L2.")
    r["conclusion"] = "Splenomegaly 16 cm."  # the report's other fields are still read
    ex = run(mapping, r)
    assert rule_states(ex, "splenomegaly") == [State.PRESENT] and states(ex, SCL) == []
    (error,) = ex.errors
    assert error.resource == "DiagnosticReport/r1" and "presentedForm[0]" in error.message


def test_a_correction_with_a_nul_in_its_charset_still_replaces_the_original(mapping):
    original = _good("r1")
    original["identifier"] = [{"system": "urn:acc", "value": "A1"}]
    original["issued"] = "2024-02-01T10:00:00Z"
    fixed = report("CT whole body", "Splenomegaly 16 cm.")
    fixed.update(
        id="r2",
        status="corrected",
        identifier=original["identifier"],
        issued="2024-02-02T10:00:00Z",
        presentedForm=[_form("text/plain; charset=utf-8\x00", b"No ascites.")],
    )
    ex = run(mapping, original, fixed)
    assert rule_states(ex, "splenomegaly") == [State.PRESENT]
    assert [e.resource for e in ex.errors] == ["DiagnosticReport/r2"]


# --- D6: an HTML attachment cut while it is parsed ------------------------------------------------


@pytest.mark.parametrize(("line", "lines"), [("<p>Normal study.</p>", 8000), ("Normal study.<br>", 12000)])
def test_an_html_attachment_cut_while_parsed_is_always_listed_with_its_length(mapping, line, lines):
    html = "<html><body>" + line * lines + "<p>Sclerotic lesion in L2.</p></body></html>"
    ex = run(mapping, _attached("r1", "text/html; charset=utf-8", html.encode()))
    (error,) = ex.errors
    assert error.resource == "DiagnosticReport/r1"
    assert f"presentedForm[0]: text/html of {len(html):,} characters" in error.message
    assert "more text than the 100,000 characters the text engine reads; only the first" in error.message
    assert "107,942" not in error.message  # the length of the part parsed is no length of the text


def test_an_html_attachment_read_whole_lists_nothing(mapping):
    html = "<p>Normal study.</p>" * 5000 + "<p>Sclerotic lesion in L2.</p>"
    ex = run(mapping, _attached("r1", "text/html", html.encode()))
    assert ex.errors == [] and states(ex, SCL) == [State.PRESENT]


# --- D9: the cap on sentences naming a target -----------------------------------------------------


def test_a_text_with_more_sentences_naming_a_target_than_are_read_lists_the_cut(mapping):
    from poems_fhir.mapping.text.engine import MAX_CANDIDATE_SENTENCES

    r = report("CT whole body", "No ascites.\n" * (MAX_CANDIDATE_SENTENCES + 100) + "Sclerotic lesion in L2.")
    r["id"] = "r1"
    ex = run(mapping, r, _good("r2"))
    (error,) = ex.errors
    assert error.resource == "DiagnosticReport/r1" and error.message == (
        f"conclusion: {MAX_CANDIDATE_SENTENCES + 101:,} sentences name a target, more than the "
        f"{MAX_CANDIDATE_SENTENCES:,} the text engine reads of one text; only the first "
        f"{MAX_CANDIDATE_SENTENCES:,} were read"
    )
    assert rule_states(ex, "ascites") == [State.ABSENT]


def test_a_text_within_the_sentence_cap_lists_nothing(mapping):
    from poems_fhir.mapping.text.engine import MAX_CANDIDATE_SENTENCES

    r = report("CT whole body", "No ascites.\n" * (MAX_CANDIDATE_SENTENCES - 1) + "Sclerotic lesion in L2.")
    ex = run(mapping, r)
    assert ex.errors == [] and states(ex, SCL) == [State.PRESENT]
