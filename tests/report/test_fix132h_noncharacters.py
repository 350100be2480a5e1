# SPDX-License-Identifier: Apache-2.0
"""probe132 (fix132h): the Unicode noncharacters (U+FDD0-U+FDEF and U+xFFFE/U+xFFFF of every plane) in
source text reached the text output unchanged; the README promises that what a terminal acts on is
shown as U+FFFD there. They are now, like the control characters; the text around them is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from poems_fhir.cli import main
from poems_fhir.report.markup import terminal_line, terminal_text

NONCHARACTERS = ["\ufffe", "\uffff", "\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff"]
#: neighbours of the noncharacter ranges: ordinary characters, kept as they are
KEPT = ["\ufdcf", "\ufdf0", "\ufffd", "\ufffc", "\U0001fffd", "\U0010fffd", "é", "Қ", "ж"]


@pytest.mark.parametrize("char", NONCHARACTERS)
def test_a_noncharacter_is_shown_as_the_replacement_character_and_its_neighbours_are_kept(char: str) -> None:
    assert terminal_text(f"a{char}b") == "a\ufffdb"
    assert terminal_line(f"a{char}b\nc") == "a\ufffdb\\nc"
    # controls: the characters beside the noncharacter ranges, letters, TAB and LF stay as they are
    kept = "".join(KEPT)
    assert terminal_text(f"{kept}{char}\t{kept}\n") == f"{kept}\ufffd\t{kept}\n"


def _bundle(tmp_path: Path) -> Path:
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"text": "Polyneuropathy \ufffe\uffff\ufdd0\U0010ffff confirmed"},
    }
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24338-6"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-02",
        "conclusion": "Splenomegaly \ufffe\uffff\ufdef\U0001fffe. Ascites.",
    }
    entries = [{"resource": {"resourceType": "Patient", "id": "p1"}}, {"resource": condition}, {"resource": report}]
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    return path


def test_a_condition_text_and_a_report_conclusion_reach_the_text_output_without_noncharacters(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["evaluate", str(_bundle(tmp_path)), "--all"], catch_exceptions=False)
    out = result.stdout
    assert not any(char in out for char in NONCHARACTERS), out
    # the findings are still read and shown, each noncharacter a U+FFFD
    assert "Polyneuropathy \ufffd\ufffd\ufffd\ufffd confirmed" in out
    assert "Splenomegaly \ufffd\ufffd\ufffd\ufffd." in out
    assert "organomegaly" in out and "PRESENT" in out
