"""A refuted Condition whose evidence.detail cites a report stating the finding no longer silences that report: both
stay, a conflict (probe114 D3: a refuted splenomegaly citing a CT with a 17 cm spleen was a strong absent); a
confirmed Condition citing a report still wins over its words (README "Evidence and precedence")."""

from __future__ import annotations

from poems_fhir.criteria.engine import evaluate
from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import MAYO
from poems_fhir.mapping.extract import extract
from tests.conftest import diagnostic_report as report
from tests.conftest import make_record
from tests.mapping.test_conditions_mutants2 import HEPATOMEGALY, cond

CITES_CT = [{"detail": [{"reference": "DiagnosticReport/d1"}]}]


def _organomegaly(mapping, condition, conclusion: str):
    ct = report("d1", "CT abdomen") | {"conclusion": conclusion, "effectiveDateTime": "2024-01-05"}
    out = extract(make_record(ct, condition), mapping)
    return out, evaluate("Patient/p1", out.findings, MAYO).criteria[Criterion.ORGANOMEGALY.value]


def test_a_refutation_citing_a_report_that_states_the_finding_is_a_conflict(mapping):
    refuted = cond(HEPATOMEGALY, verification="refuted", recordedDate="2024-02-01", evidence=CITES_CT)
    out, result = _organomegaly(mapping, refuted, "Hepatomegaly, liver span 19 cm.")
    assert sorted((f.evidence.reference, f.state) for f in out.findings if f.state is not State.NOT_ASSESSED) == [
        ("Condition/c1", State.ABSENT),
        ("DiagnosticReport/d1", State.PRESENT),
    ]
    assert result.state is State.INDETERMINATE
    assert {e.reference for e in result.evidence} >= {"Condition/c1", "DiagnosticReport/d1"}


def test_a_refutation_citing_a_report_that_agrees_still_wins_over_its_words(mapping):
    refuted = cond(HEPATOMEGALY, verification="refuted", recordedDate="2024-02-01", evidence=CITES_CT)
    out, _ = _organomegaly(mapping, refuted, "No hepatomegaly.")
    assert [f.evidence.reference for f in out.findings if f.from_text] == []
