"""Source text that no XML document may hold (found by a black-box fuzz probe): a NUL, U+FFFF or a
lone surrogate in a Condition's text or a patient's name made `evaluate --out` skip the patient as an
internal error (exit 70) and `report` stop the whole run with a 0-byte page."""

from __future__ import annotations

import json
from pathlib import Path

from html import escape

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from poems_fhir.cli import main
from poems_fhir.report.markup import escaped, plain, xml_safe
from tests.conftest import SAMPLES


def test_characters_xml_forbids_become_the_replacement_character():
    assert xml_safe("a\x00b\x1fc\ufffed\uffffe\ud800f\udc80g") == "a\ufffdb\ufffdc\ufffdd\ufffde\ufffdf\ufffdg"
    assert xml_safe("tab\tline\ncr\r") == "tab\tline\ncr\r"  # allowed in XML 1.0
    assert escaped('<b a="1">\x00') == "&lt;b a=&quot;1&quot;&gt;\ufffd"


#: every character class escaping treats apart, and its neighbours
_EDGES = list("\x00\x08\x09\x0a\x0b\x0c\x0d\x0e\x1f\x20\ud7ff\ud800\udfff\ue000\ufffd\ufffe\uffff&<>\"'a")


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(exclude_categories=()) | st.sampled_from(_EDGES)))
def test_escaping_is_the_safe_characters_then_html_escape_for_any_text(text):
    # the fast path (nothing to change: the text itself) must give what the full path gives
    assert escaped(text) == escape(xml_safe(plain(text)), quote=True)


@pytest.mark.parametrize("char", _EDGES + list("\u2029\u202a\u202e\u202f\u2065\u2066\u2069\u206a"))
def test_each_edge_character_alone_and_in_a_word(char):
    for text in (char, f"ab{char}cd"):
        assert escaped(text) == escape(xml_safe(plain(text)), quote=True)


def test_bidi_controls_of_source_text_cannot_reorder_what_follows_it():
    # found by a held-out probe (probe26): "Polyneuropathy \u202e" (a stray RIGHT-TO-LEFT OVERRIDE)
    # drew the verification status and date we print after it reversed: "(4202 ,01 naJ)"
    assert escaped("Polyneuropathy \u202e") == "Polyneuropathy "
    assert plain("a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j") == "abcdefghij"
    assert plain("\u05e9\u05dc\u05d5\u05dd \u200f") == "\u05e9\u05dc\u05d5\u05dd \u200f"  # letters, marks kept


def test_non_text_is_escaped_as_its_string():
    assert escaped(3.5) == "3.5"
    assert escaped(ValueError("<x>")) == "&lt;x&gt;"


def _case(tmp_path: Path, text: str, family: str) -> Path:
    bundle = json.loads((SAMPLES / "relapse-case.json").read_text(encoding="utf-8"))
    for entry in bundle["entry"]:
        r = entry["resource"]
        if r["resourceType"] == "Patient":
            r["name"] = [{"family": family, "given": ["Test"]}]
        if r["resourceType"] == "Condition" and r.get("id") == "rv-pnp":
            r["code"]["text"] = text
    path = tmp_path / "case.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")  # ASCII escapes: valid JSON, valid UTF-8
    return path


@pytest.mark.parametrize(
    ("text", "family"),
    [("Polyneuropathy\x00", "Relapse"), ("Polyneuropathy\uffff", "Relapse"), ("Polyneuropathy", "Re\ud800lapse")],
)
def test_write_back_and_page_survive_text_xml_cannot_hold(tmp_path, text, family):
    case = _case(tmp_path, text, family)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["evaluate", str(case), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(next(out.iterdir()).read_text(encoding="utf-8"))
    report = next(e["resource"] for e in written["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert report["text"]["div"].startswith("<div")  # checked well-formed before writing
    pages = tmp_path / "pages"
    result = CliRunner().invoke(main, ["report", str(case), "--html", str(pages)])
    assert result.exit_code == 0, result.output
    (page,) = pages.iterdir()
    assert "\ufffd" in page.read_text(encoding="utf-8")  # the text is shown, its bad character replaced


def test_bidi_controls_reach_no_conclusion_narrative_or_page(tmp_path):
    case = _case(tmp_path, "Polyneuropathy \u202e", "Re\u202elapse")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["evaluate", str(case), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = next(out.iterdir()).read_text(encoding="utf-8")
    for entry in json.loads(written)["entry"]:
        r = entry["resource"]
        for shown in (r.get("conclusion", ""), r.get("text", {}).get("div", ""), r.get("description", "")):
            assert "\u202e" not in shown
    pages = tmp_path / "pages"
    assert CliRunner().invoke(main, ["report", str(case), "--html", str(pages)]).exit_code == 0
    (page,) = pages.iterdir()
    assert "\u202e" not in page.read_text(encoding="utf-8")
