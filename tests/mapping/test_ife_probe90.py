"""Immunofixation texts whose comment, separator or answer was misread (probe90 D9, D10, D11).

D9: a pipe between a band and the other light chain's denial ("IgG lambda | kappa negative") made one clause
of them, the denial the whole row's: the clone absent, the patient `not_met`.
D10: a comment contradicting its result ("Negative. Comment: IgG lambda band noted.") or withdrawing the band
stated ("… Comment: not confirmed on repeat / probably artefact / no monoclonal band on repeat testing / No
kappa band. No lambda band.") left the band a clone, the patient `met`: now neither a clone nor its absence,
both sides in the reason.
D11: an answer after a dotted leader ("IgG lambda band ....... нет") was a clause of its own and no answer:
the band a clone ("IgG lambda band: no" was negative).
"""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import Criterion, State
from poems_fhir.criteria.profiles import get_profile
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record, observation
from tests.mapping.test_ife_comments import _ife_report
from tests.mapping.test_ife_contradictions import NEGATIVE, POSITIVE, SERUM_IFE, clone_findings

CLONE = Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value
IGG_LAMBDA = Band("IgG", "lambda")


def _poems_patient(ife: dict[str, Any]) -> list[dict[str, Any]]:
    """probe90's base patient: a confirmed polyneuropathy, a CT with a sclerotic lesion and ascites, and the
    immunofixation - `met` with a clone, `not_met` without one."""
    polyneuropathy = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "verificationStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "42345000", "display": "Polyneuropathy"}]},
        "recordedDate": "2024-01-01",
    }
    ct = {
        "resourceType": "DiagnosticReport",
        "id": "d1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}],
        "code": {"text": "CT whole body"},
        "effectiveDateTime": "2024-01-03",
        "conclusion": "Sclerotic lesion in L2. Ascites.",
    }
    return [polyneuropathy, ife, ct]


def _classify(mapping, ife: dict[str, Any]) -> tuple[str, State, str]:
    result = evaluate_record(make_record(*_poems_patient(ife)), mapping, get_profile("mayo"), None)
    criterion = result.assessment.criteria[CLONE]
    return result.assessment.classification.value, criterion.state, criterion.reason


# --- D9: a pipe is a clause's end, like a comma ---------------------------------------------------------

PIPED_OTHER_CHAIN = [
    # probe90 min/D9
    "IgG lambda | kappa negative",
    "IgG lambda monoclonal band | Comment: kappa negative",
    # the same in other words
    "IgG lambda | kappa not detected",
    "IgG-λ | каппа не выявлена",
    "Monoclonal IgG lambda band | no kappa band",
]


@pytest.mark.parametrize("text", PIPED_OTHER_CHAIN)
def test_a_pipe_between_a_band_and_the_other_chains_denial_keeps_the_band(text):
    result = parse_ife(text)
    assert list(result.bands) == [IGG_LAMBDA]
    assert not result.negative and not result.conflict


@pytest.mark.parametrize(
    "text",
    [
        # a denial in a cell of its own still speaks of the band before it, and a denied list goes on
        "IgG lambda | not detected",
        "IgG lambda band | no",
        "IgG | IgA | IgM | kappa | lambda | negative",
        "No IgG | IgA | IgM band",
    ],
)
def test_a_piped_denial_of_the_band_or_the_list_is_still_negative(text):
    result = parse_ife(text)
    assert result.negative and result.bands == ()


@pytest.mark.parametrize("text", PIPED_OTHER_CHAIN[:2])
def test_a_poems_patient_whose_piped_immunofixation_denies_the_other_chain_is_met(mapping, text):
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("met", State.PRESENT)
    assert "IgG lambda" in reason


# --- D10: words against their own result ------------------------------------------------------------------

CONTRADICTIONS = [
    # probe90 min/D10: a negative result and a band in its comment
    ("Negative. Comment: IgG lambda band noted.", "'Negative' but IgG lambda ('Comment: IgG lambda band noted')"),
    ("Negative.\nComment: IgG lambda band", "'Negative' but IgG lambda ('Comment: IgG lambda band')"),
    # ... a band stated, then withdrawn by its comment
    (
        "IgG lambda band detected. Comment: not confirmed on repeat.",
        "IgG lambda ('IgG lambda band detected') but 'Comment: not confirmed on repeat'",
    ),
    (
        "IgG lambda band detected. Comment: probably artefact.",
        "IgG lambda ('IgG lambda band detected') but 'Comment: probably artefact'",
    ),
    (
        "IgG lambda band. Comment: no monoclonal band on repeat testing.",
        "IgG lambda ('IgG lambda band') but 'Comment: no monoclonal band on repeat testing'",
    ),
    # ... both chains denied in clauses of their own deny every band (probe89 D3), this one too
    (
        "IgG lambda band. Comment: No kappa band. No lambda band.",
        "IgG lambda ('IgG lambda band') but 'Comment: No kappa band' and 'No lambda band'",
    ),
    # the same in other words and in Russian
    ("Negative. IgG lambda band noted.", "'Negative' but IgG lambda ('IgG lambda band noted')"),
    (
        "Serum: negative. Comment: IgG lambda band noted.",
        "'Serum: negative' but IgG lambda ('Comment: IgG lambda band noted')",
    ),
    (
        "No monoclonal band detected. Note: IgG lambda paraprotein present.",
        "'No monoclonal band detected' but IgG lambda ('Note: IgG lambda paraprotein present')",
    ),
    (
        "IgG lambda band. Comment: the IgG lambda band was not confirmed on repeat.",
        "IgG lambda ('IgG lambda band') but 'Comment: the IgG lambda band was not confirmed on repeat'",
    ),
    (
        "IgG lambda band detected. Not detected on repeat.",
        "IgG lambda ('IgG lambda band detected') but 'Not detected on repeat'",
    ),
    (
        "IgG lambda paraprotein. Remark: spurious band, not reproducible.",
        "IgG lambda ('IgG lambda paraprotein') but 'Remark: spurious band' and 'not reproducible'",
    ),
    (
        "Отрицательно. Комментарий: выявлена полоса IgG лямбда.",
        "'Отрицательно' but IgG lambda ('Комментарий: выявлена полоса IgG лямбда')",
    ),
    (
        "IgG-λ выявлен. Комментарий: при повторном исследовании не подтвержден.",
        "IgG lambda ('IgG-λ выявлен') but 'Комментарий: при повторном исследовании не подтвержден'",
    ),
    ("IgG лямбда. Примечание: артефакт.", "IgG lambda ('IgG лямбда') but 'Примечание: артефакт'"),
]


@pytest.mark.parametrize(("text", "conflict"), CONTRADICTIONS)
def test_words_against_their_own_result_are_a_conflict_not_a_band(text, conflict):
    result = parse_ife(text)
    assert result.conflict == conflict
    assert result.bands == () and not result.negative
    assert list(result.possible) == [IGG_LAMBDA]  # named, neither a clone nor its absence


@pytest.mark.parametrize(
    ("text", "bands", "negative"),
    [
        # another test's result, a denial with a noun of its own, a free chain's denial: no contradiction
        ("Serum IFE: IgG lambda. Urine IFE: negative.", [IGG_LAMBDA], False),
        ("IgG lambda band. Urine IFE: negative.", [IGG_LAMBDA], False),
        ("Serum IFE: negative. Urine IFE: free lambda band.", [Band(None, "lambda")], False),
        ("IgG lambda band. Negative for Bence Jones protein.", [IGG_LAMBDA], False),
        ("IgG lambda band. No free kappa. No free lambda.", [IGG_LAMBDA], False),
        ("IgG lambda band. Comment: negative for kappa.", [IGG_LAMBDA], False),
        ("IgG lambda band detected. Comment: urine negative.", [IGG_LAMBDA], False),
        ("IgG lambda band. Comment: clinically probable POEMS.", [IGG_LAMBDA], False),
        ("IgG kappa band. Note: IgA lambda not detected.", [Band("IgG", "kappa")], False),
        # a comment that only mentions the band beside a negative stays negative (probe89 D9)
        ("Negative. Comment: recommend monitoring of the IgG lambda band.", [], True),
        # a predicate after a comma is the band's own denial
        ("IgG kappa, now negative", [], True),
    ],
)
def test_a_result_beside_words_that_do_not_contradict_it_reads_as_before(text, bands, negative):
    result = parse_ife(text)
    assert (list(result.bands), result.negative, getattr(result, "conflict", "")) == (bands, negative, "")


def test_a_comment_that_asks_for_confirmation_is_a_doubt():
    result = parse_ife("IgG lambda band. Comment: to be confirmed.")
    assert (result.bands, list(result.possible), getattr(result, "conflict", "")) == ((), [IGG_LAMBDA], "")


@pytest.mark.parametrize(("text", "conflict"), CONTRADICTIONS[:6])
def test_a_poems_patient_whose_immunofixation_contradicts_itself_is_indeterminate(mapping, text, conflict):
    classification, state, reason = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("indeterminate", State.INDETERMINATE)
    assert conflict in reason


@pytest.mark.parametrize(("text", "conflict"), CONTRADICTIONS[:6:5])
def test_an_immunofixation_whose_words_contradict_themselves_is_indeterminate_and_not_timed(mapping, text, conflict):
    findings, ex = clone_findings(observation(SERUM_IFE, "ife", valueString=text), mapping)
    assert findings == [(State.INDETERMINATE, f"serum immunofixation contradicts itself: {conflict}")]
    assert ex.measurements == []  # no 1 or 0 in the response timeline


@pytest.mark.parametrize("code", [NEGATIVE, POSITIVE])
def test_a_coded_result_whose_text_contradicts_itself_is_indeterminate(mapping, code):
    text = CONTRADICTIONS[0][0]
    findings, _ = clone_findings(
        observation(SERUM_IFE, "ife", valueCodeableConcept={"coding": [code], "text": text}), mapping
    )
    assert [state for state, _ in findings] == [State.INDETERMINATE]


def test_an_immunofixation_report_whose_conclusion_contradicts_itself_is_indeterminate(mapping):
    findings, _ = clone_findings(_ife_report(CONTRADICTIONS[2][0]), mapping)
    assert findings == [(State.INDETERMINATE, f"serum immunofixation contradicts itself: {CONTRADICTIONS[2][1]}")]


# --- D11: an answer after a dotted leader, in either language ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # probe90 min/D11
        "IgG lambda band ....... нет",
        # the same in other words
        "IgG lambda band ....... no",
        "IgG lambda band … нет",
        "IgG lambda band . . . . none",
        "IgG lambda band ....... жоқ",
        "IgG lambda band | нет",
    ],
)
def test_a_denying_answer_after_a_dotted_leader_denies_the_band(text):
    result = parse_ife(text)
    assert result.negative and result.bands == () and result.possible == ()


@pytest.mark.parametrize("text", ["IgG lambda band ....... ?", "IgG lambda band ....... possible"])
def test_a_doubtful_answer_after_a_dotted_leader_is_a_doubt(text):
    result = parse_ife(text)
    assert (result.bands, list(result.possible)) == ((), [IGG_LAMBDA])


def test_a_confirming_answer_after_a_dotted_leader_keeps_the_band():
    assert list(parse_ife("IgG lambda band ....... yes").bands) == [IGG_LAMBDA]


def test_a_poems_patient_whose_band_is_denied_after_a_dotted_leader_is_not_met(mapping):
    text = "IgG lambda band ....... нет"
    classification, state, _ = _classify(mapping, observation(SERUM_IFE, "ife", valueString=text))
    assert (classification, state) == ("not_met", State.ABSENT)
