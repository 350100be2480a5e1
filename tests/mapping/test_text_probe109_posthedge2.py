"""probe109: the regressions of probe107's status words after a finding, and their siblings.

D1 a rule-out of a cause or another disease after the finding states the finding; D2 a next step done on the
finding (a guided biopsy, a tap) takes it as found; D6 a status answered in the same sentence is settled; D7 a
query of an artefact is a doubt, not a withdrawal. Positive controls keep the doubts probe107 added
(criteria.md §3.3: a doubt is indeterminate, never present; a stated finding is present)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.profiles import get_profile
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record
from tests.mapping.test_text_probe105_history import _patient, _read

# --- D1: "- r/o <cause>" states the finding; a bare "- r/o" doubts it -------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3 - r/o metastasis: bone scan and PSA negative.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3 - r/o metastasis.", {"sclerotic_bone_lesion": "present"}),
        ("Castleman disease - r/o lymphoma: no evidence of lymphoma on flow.", {"castleman_disease": "present"}),
        ("Ascites - r/o SBP: cell count normal", {"ascites": "present"}),
        ("Splenomegaly - r/o lymphoma", {"splenomegaly": "present"}),
        # controls: the finding itself ruled out stays a doubt
        ("Hypogonadism - r/o", {"hypogonadism": "possible"}),
        ("Hypogonadism - r/o.", {"hypogonadism": "possible"}),
        ("Hypogonadism (r/o)", {"hypogonadism": "possible"}),
        ("Sclerotic lesion L3 - R/O.", {"sclerotic_bone_lesion": "possible"}),
        ("Hypogonadism - rule out.", {"hypogonadism": "possible"}),
    ],
)  # fmt: skip
def test_a_rule_out_of_a_cause_states_the_finding(mapping, text, expected):
    assert _read(mapping, text) == expected


# --- D2: a next step done on the finding ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3 - awaiting CT-guided biopsy.", {"sclerotic_bone_lesion": "present"}),
        ("Pleural effusion - awaiting thoracocentesis", {"pleural_effusion": "present"}),
        ("Pericardial effusion - awaiting pericardiocentesis.", {"pericardial_effusion": "present"}),
        ("Lymphadenopathy - awaiting US-guided core biopsy", {"lymphadenopathy": "present"}),
        ("Lymphadenopathy - awaiting excision biopsy", {"lymphadenopathy": "present"}),
        ("Склеротический очаг L3 - ожидается КТ-контролируемая биопсия.", {"sclerotic_bone_lesion": "present"}),
        ("Плевральный выпот - ожидается плевральная пункция.", {"pleural_effusion": "present"}),
        # controls: a test that would confirm it is awaited - a doubt
        ("Sclerotic lesion L3 - awaiting CT to confirm", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - awaiting MRI before biopsy", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - awaiting repeat CT", {"sclerotic_bone_lesion": "possible"}),
        ("Hypogonadism - awaiting 9am testosterone", {"hypogonadism": "possible"}),
        ("Склеротический очаг L3 - ожидается КТ.", {"sclerotic_bone_lesion": "possible"}),
        ("Гипогонадизм - ожидается повторный тестостерон.", {"hypogonadism": "possible"}),
    ],
)  # fmt: skip
def test_a_next_step_on_the_finding_states_it(mapping, text, expected):
    assert _read(mapping, text) == expected


# --- D6: a status answered in the same sentence ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3 - TBC on MRI: MRI 2024-02-01 confirms.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3 (TBC on the outside report) - confirmed on this CT.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3 - previously queried, now confirmed on MRI.", {"sclerotic_bone_lesion": "present"}),
        ("Castleman disease - TBC; confirmed on HHV8 stain and expert review.", {"castleman_disease": "present"}),
        ("Склеротический очаг L3 - сомнит., по МРТ подтвержден.", {"sclerotic_bone_lesion": "present"}),
        ("Склеротический очаг L3 - на уточнении, по МРТ подтверждается.", {"sclerotic_bone_lesion": "present"}),
        ("Склероздық ошақ L3 - нақтылануда, МРТ-да расталды.", {"sclerotic_bone_lesion": "present"}),  # UNVERIFIED
        # controls: a confirmation awaited or denied is no answer
        ("Sclerotic lesion L3 - TBC: to be confirmed on MRI.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - query, awaiting MRI to confirm.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - doubtful; MRI could not confirm.", {"sclerotic_bone_lesion": "possible"}),
        ("Склеротический очаг L3 - сомнит., требует подтверждения по МРТ.", {"sclerotic_bone_lesion": "possible"}),
        ("Склероздық ошақ L3 - нақтылануда.", {"sclerotic_bone_lesion": "possible"}),  # UNVERIFIED
    ],
)  # fmt: skip
def test_a_status_answered_in_the_same_sentence_is_settled(mapping, text, expected):
    assert _read(mapping, text) == expected


# --- D7: a query of an artefact -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3 (?artefact)", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - ?artefact", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 (query artefact)", {"sclerotic_bone_lesion": "possible"}),
        # controls: a withdrawal stays a denial
        ("Sclerotic lesion L3 (radiologist's note: on review, artefact).", {"sclerotic_bone_lesion": "negated"}),
        ("Sclerotic lesion L3 (artefact)", {"sclerotic_bone_lesion": "negated"}),
    ],
)  # fmt: skip
def test_a_query_of_an_artefact_is_a_doubt(mapping, text, expected):
    assert _read(mapping, text) == expected


# --- D18, D11: an entry withdrawn as made in error or another patient's -----------------------------------


def _problem_states(mapping, text: str) -> dict[str, str]:
    """probe105's `M` patient with ``text`` as an uncoded problem-list Condition (code.text only)."""
    resources: list[dict[str, Any]] = _patient("Discharge summary.")
    resources.append(
        {
            "resourceType": "Condition",
            "id": "problem",
            "subject": {"reference": "Patient/p1"},
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
            "code": {"text": text},
            "recordedDate": "2024-02-01",
        }
    )
    result = evaluate_record(make_record(*resources), mapping, get_profile("mayo"), None)
    return {str(getattr(c, "value", c)): r.state.value for c, r in result.assessment.criteria.items()}


@pytest.mark.parametrize(
    ("text", "criterion"),
    [
        ("Hypogonadism - entered in error", "endocrinopathy"),
        ("Splenomegaly - wrong patient, please remove", "organomegaly"),
        ("Splenomegaly - documented in error", "organomegaly"),
        ("Спленомегалия - ошибка ввода", "organomegaly"),
        ("Склеротический очаг L3 - ошибочная запись (другой пациент)", "sclerotic_bone_lesions"),
        ("Splenomegaly - recorded on wrong chart", "organomegaly"),  # D11
        ("Sclerotic bone lesion L3 - charted on the wrong record", "sclerotic_bone_lesions"),  # D11
        ("Hypogonadism - belongs to another patient", "endocrinopathy"),  # D11
        ("Спленомегалия - относится к другому пациенту", "organomegaly"),  # D11
    ],
)
def test_an_entry_made_in_error_is_nothing_of_this_patient(mapping, text, criterion):
    assert _problem_states(mapping, text)[criterion] == "not_assessed"


@pytest.mark.parametrize(
    ("text", "criterion", "state"),
    [
        ("Hypogonadism - r/o", "endocrinopathy", "indeterminate"),  # a rule-out problem stays a suspicion
        ("Splenomegaly - different from the previous scan", "organomegaly", "present"),
        ("Splenomegaly - seen on another CT", "organomegaly", "present"),
    ],
)
def test_a_problem_not_withdrawn_keeps_its_reading(mapping, text, criterion, state):
    assert _problem_states(mapping, text)[criterion] == state


# --- D8, D10: other doubts and withdrawals after the finding ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sclerotic lesion L3 - confirmation pending.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - ?real", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - T.B.C.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - of doubtful significance.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - under consideration.", {"sclerotic_bone_lesion": "possible"}),
        ("Castleman disease - under consideration, awaiting HHV8 stain.", {"castleman_disease": "possible"}),
        ("Склеротический очаг L3 - сомн.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion L3 - motion artefact.", {"sclerotic_bone_lesion": "negated"}),
        ("Sclerotic lesion L3 - beam hardening artefact.", {"sclerotic_bone_lesion": "negated"}),
        ("Sclerotic lesion L3 - retracted.", {"sclerotic_bone_lesion": "negated"}),
        ("Склеротический очаг L3 - двигательный артефакт.", {"sclerotic_bone_lesion": "negated"}),
        ("Склеротический очаг L3 - отозвано.", {"sclerotic_bone_lesion": "negated"}),
        # controls: a query of a cause, a denied artefact, MGUS's own name and a confirmation state it
        ("Sclerotic lesion L3 - ?metastasis", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3 - no motion artefact.", {"sclerotic_bone_lesion": "present"}),
        ("Sclerotic lesion L3 - confirmed.", {"sclerotic_bone_lesion": "present"}),
        ("Monoclonal gammopathy - of undetermined significance.", {"monoclonal_gammopathy": "present"}),
    ],
)  # fmt: skip
def test_other_doubts_and_withdrawals_after_the_finding(mapping, text, expected):
    assert _read(mapping, text) == expected
