"""A sentence that states two parts of a criterion is cited once (probe114 D7: "No hepatomegaly, no splenomegaly"
was listed twice, its triggers "No" and "no" the only difference)."""

from __future__ import annotations

import datetime as dt

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Evidence, Finding, State
from poems_fhir.criteria.profiles import MAYO

DAY = dt.date(2024, 1, 10)
SAID = 'CT: "No hepatomegaly, no splenomegaly, no lymphadenopathy." (from report text, conclusion; negated ({}))'


def _denial(part: str, trigger: str) -> Finding:
    return Finding(
        "organomegaly", State.ABSENT, Evidence("DiagnosticReport/ct", DAY, SAID.format(trigger)), component=part
    )


def test_one_sentence_denying_two_parts_is_cited_once():
    denials = [_denial("liver", "'No'"), _denial("spleen", "'no'"), _denial("lymph_nodes", "'no'")]
    a = evaluate("Patient/1", denials, MAYO)
    result = a.criteria["organomegaly"]
    assert result.state is State.ABSENT
    assert [e.reference for e in result.evidence] == ["DiagnosticReport/ct"]
    assert result.reason.count("No hepatomegaly") == 1


def test_two_different_sentences_of_one_report_are_both_cited():
    other = Finding(
        "organomegaly",
        State.ABSENT,
        Evidence("DiagnosticReport/ct", DAY, 'CT: "Spleen normal." (from report text)'),
        component="spleen",
    )
    a = evaluate("Patient/1", [_denial("liver", "'No'"), other], MAYO)
    assert len(a.criteria["organomegaly"].evidence) == 2
