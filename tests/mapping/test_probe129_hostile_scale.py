"""probe129 D1-D3: inputs whose cost grew with the square of their size (no timed test here: the work is counted).

D1: an HTML text with unclosed start tags ("<a " x 33,000) took html.parser a minute - a "<" that opens no tag is text
now. D2: an immunofixation string naming thousands of bands looked back over every clause for each band. D3: one
patient's thousands of reports each met every same-day denial of every criterion."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

import poems_fhir.mapping.ife as ife
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.mapping.attachment import html_text
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("Spleen <a <td 16 cm", "Spleen <a <td 16 cm"),  # no tag: text
        ("<p>Spleen 16 cm</p><p>No ascites", "Spleen 16 cm\n\nNo ascites"),  # tags still read
        ("<a href='x'>IgA lambda</a> <b", "IgA lambda <b"),
        ("size < 5 mm <br> ascites", "size < 5 mm\nascites"),
        # probe131 R1-R3: a comment holding a "<" stays a comment, a quoted attribute may hold a "<"
        ("<!-- Splenomegaly <x> --><p>Normal study.</p>", "Normal study."),
        ("<!-- Pleural effusion <side> --><p>No ascites.</p>", "No ascites."),
        ('<table><tr><td title="a<b">Ascites</td><td>No</td></tr></table>', "Ascites\tNo"),
    ],
)
def test_a_less_than_sign_that_opens_no_tag_is_text(html, text):
    assert html_text(html) == text


class _Counting:
    """A compiled pattern's stand-in that counts its searches."""

    def __init__(self, pattern: Any) -> None:
        self.pattern, self.calls = pattern, 0

    def search(self, *args: Any) -> Any:
        self.calls += 1
        return self.pattern.search(*args)


def test_html_with_unclosed_start_tags_is_not_parsed_tag_by_tag(monkeypatch):
    from html.parser import HTMLParser

    calls = {"n": 0}
    parse_starttag = HTMLParser.parse_starttag

    def counted(self: Any, i: int) -> int:
        calls["n"] += 1
        return parse_starttag(self, i)

    monkeypatch.setattr(HTMLParser, "parse_starttag", counted)
    assert html_text("<p>Splenomegaly.</p>" + "<a " * 500).startswith("Splenomegaly.")
    assert calls["n"] <= 5  # the one real tag, not each of 500 unclosed ones rescanned to the end


def test_an_immunofixation_list_of_many_bands_looks_at_each_clause_once(monkeypatch):
    cues = ife.BUILT_IN_CUES
    counting = _Counting(cues.differential)
    monkeypatch.setattr(ife, "BUILT_IN_CUES", replace(cues, differential=counting))
    n = 300
    result = ife.parse_ife("IgG kappa IgA lambda faint band, " * n, cues=ife.BUILT_IN_CUES)
    assert result is not None
    assert counting.calls <= 10 * n  # once or so per clause, not once per clause and band (n * n)


def _report(i: int, day: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": f"ct{i}",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "77477000"}], "text": "CT whole body"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": day,
        "conclusion": text,
    }


def test_same_day_denials_are_met_by_their_own_day_and_criterion_only(monkeypatch, mapping):
    from poems_fhir.criteria.model import Finding

    calls = {"n": 0}
    effective = Finding.effective

    def counted(self: Any) -> Any:
        calls["n"] += 1
        return effective.fget(self)

    monkeypatch.setattr(Finding, "effective", property(counted))
    n = 60
    reports = [
        _report(i, f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}", f"No splenomegaly {i}. Ascites.") for i in range(n)
    ]
    # one real conflict stays one: a same-day "Ascites." and "No ascites." of the same study kind
    reports += [_report(900, "2024-01-01", "No ascites.")]
    result = evaluate_record(make_record(*reports), mapping, get_profile("mayo"), None)
    assert calls["n"] <= 40 * n  # each finding's day looked at a few times, not once per other finding (n * n)
    states = {str(getattr(c, "value", c)): r.state.value for c, r in result.assessment.criteria.items()}
    assert states["extravascular_volume_overload"] == "present"  # the other days' ascites stands
