"""probe107: a doubt, a withdrawal or an error written AFTER the finding - after a dash, a colon or in a bracket,
as problem lists, report conclusions and Condition.code.text write it (D1 doubts, D2 withdrawals, D3 Russian
short forms, D8 problem-list status words, D9 entries made in error). The finding is not stated: a doubt is
possible, a withdrawal negated, an error nothing of this patient; never present (criteria.md §3.3)."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.profiles import get_profile
from poems_fhir.mapping.ife import parse_ife
from poems_fhir.pipeline import evaluate_record
from tests.conftest import make_record
from tests.mapping.test_text_probe105_history import _criteria, _patient, _read

# --- D1: a doubt after the finding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Conclusion:\n1. Sclerotic lesion L3 - doubtful.\n2. No other abnormality.", {"sclerotic_bone_lesion": "possible"}),
        ("IMPRESSION:\n1. Sclerotic lesion L3 (query).\n2. Mild hepatic steatosis.", {"sclerotic_bone_lesion": "possible"}),
        ("Sclerotic lesion in the right ilium - not convincing; favour overlapping bowel gas.", {"sclerotic_bone_lesion": "possible"}),
        ("Castleman disease - not convincing (no regressed follicles, no onion-skinning).", {"castleman_disease": "possible"}),
        ("Provisional report. Castleman disease - TBC, immunohistochemistry pending.", {"castleman_disease": "possible"}),
        ("Castleman disease - dubious.", {"castleman_disease": "possible"}),
        ("Diagnosis: Castleman disease (query) - awaiting HHV-8 LANA-1 and expert review.", {"castleman_disease": "possible"}),
        ("Lambda-restricted plasma cells - disputed on second review (polytypic on repeat ISH).", {"marrow_clonal_plasma_cells": "possible"}),
        ("Summary: lambda-restricted plasma cells - unproven; no clonal population by flow.", {"marrow_clonal_plasma_cells": "possible"}),
        ("Conclusion: polyneuropathy - doubtful; findings within normal limits for age.", {"polyneuropathy": "possible"}),
        ("Ophthalmology: papilloedema - doubtful; OCT RNFL normal.", {"papilledema": "possible"}),
        ("Ascites - awaiting USS confirmation", {"ascites": "possible"}),
        ("Hypertrichosis - yet to be confirmed.", {"hypertrichosis": "possible"}),
        ("Splenomegaly - not established on imaging.", {"splenomegaly": "possible"}),
    ],
)  # fmt: skip
def test_a_doubt_after_the_finding_is_a_doubt(mapping, text, expected):
    assert _read(mapping, text) == expected


# --- D2: a withdrawal after the finding --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bones: sclerotic lesion L3 - artefact (beam hardening from adjacent metalwork).", {"sclerotic_bone_lesion": "negated"}),
        ("Sclerotic lesion L3 (radiologist's note: on review, artefact).", {"sclerotic_bone_lesion": "negated"}),
        ("Castleman disease - not on my review. Reactive follicular hyperplasia.", {"castleman_disease": "negated"}),
        ("Sclerotic lesion L3 - probably artefact.", {"sclerotic_bone_lesion": "possible"}),
        ("Lambda-restricted plasma cells - probably artefact (high background lambda ISH).", {"marrow_clonal_plasma_cells": "possible"}),
    ],
)  # fmt: skip
def test_a_withdrawal_after_the_finding_withdraws_it(mapping, text, expected):
    assert _read(mapping, text) == expected


# --- D3: Russian (and Kazakh) short forms after the finding -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Заключение: Склеротический очаг в L3 - артефакт.", {"sclerotic_bone_lesion": "negated"}),
        ("Заключение: Склеротический очаг в L3 - не подтв. при пересмотре.", {"sclerotic_bone_lesion": "negated"}),
        ("Склеротический очаг L3 (?). Остальные кости без очаговых изменений.", {"sclerotic_bone_lesion": "possible"}),
        ("Заключение: реактивная гиперплазия лимфоузла. Болезнь Кастлемана - не подтв.", {"castleman_disease": "negated"}),
        ("Заключение ЭНМГ: полинейропатия - не подтв. Туннельный синдром срединных нервов.", {"polyneuropathy": "negated"}),
        ("Спленомегалия - не подтв. по УЗИ.", {"splenomegaly": "negated"}),
        ("Гипогонадизм - сомнит.", {"hypogonadism": "possible"}),
        ("Гипогонадизм - на уточнении.", {"hypogonadism": "possible"}),
        ("Склеротический очаг в L3 - вероятно артефакт.", {"sclerotic_bone_lesion": "possible"}),
        ("Асцит - внесено ошибочно.", {"ascites": "hypothetical"}),
        ("Склероздық ошақ L3 - артефакт.", {"sclerotic_bone_lesion": "negated"}),
        ("Склероздық ошақ L3 - нақтылануда.", {"sclerotic_bone_lesion": "possible"}),  # UNVERIFIED Kazakh wording
        ("Гипогонадизм - қате енгізілген.", {"hypogonadism": "hypothetical"}),  # UNVERIFIED Kazakh wording
    ],
)  # fmt: skip
def test_a_russian_short_status_after_the_finding(mapping, text, expected):
    assert _read(mapping, text) == expected


# --- D8, D9: problem-list status words; entries made in error ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2. Adrenal insufficiency - query, SST arranged.", {"adrenal_insufficiency": "possible"}),
        ("Adrenal insufficiency (query)", {"adrenal_insufficiency": "possible"}),
        ("Hypogonadism - r/o", {"hypogonadism": "possible"}),
        ("Hypogonadism - awaiting 9am testosterone", {"hypogonadism": "possible"}),
        ("Hypogonadism - under investigation", {"hypogonadism": "possible"}),
        ("Hypogonadism - TBC", {"hypogonadism": "possible"}),
        ("Hypogonadism query", {"hypogonadism": "possible"}),
        ("Hypogonadism: repeat normal - not hypogonadal", {"hypogonadism": "possible"}),
        ("Hypogonadism - entered in error", {"hypogonadism": "hypothetical"}),
        ("Hypogonadism - wrong patient, please remove", {"hypogonadism": "hypothetical"}),
        ("2. Papilloedema - entered in error (wrong patient)", {"papilledema": "hypothetical"}),
    ],
)  # fmt: skip
def test_a_problem_items_status_after_it(mapping, text, expected):
    assert _read(mapping, text) == expected


@pytest.mark.parametrize(
    ("text", "criterion"),
    [
        ("Problem list:\n1. MGUS\n2. Hypogonadism - r/o", "endocrinopathy"),  # min/D8
        ("Problems: 1. MGUS 2. Ascites - awaiting USS confirmation 3. COPD", "extravascular_volume_overload"),
        ("Problem list:\n1. MGUS\n2. Papilloedema - entered in error (wrong patient)\n3. COPD", "papilledema"),  # D9
        ("Диагноз: MGUS IgG-λ. Спленомегалия - не подтв. по УЗИ.\nХОБЛ.", "organomegaly"),  # D3
    ],
)
def test_a_minor_sign_with_a_status_after_it_does_not_make_the_patient_met(mapping, text, criterion):
    classification, states = _criteria(mapping, text)
    assert classification != "met"
    assert states[criterion] != "present"


@pytest.mark.parametrize(
    "text",
    [
        "Conclusion:\n1. Sclerotic lesion L3 - doubtful.\n2. No other abnormality.",  # min/D1
        "Sclerotic lesion L3 - probably artefact.",  # min/D2
        "Заключение: Склеротический очаг в L3 - не подтв.",  # min/D3
    ],
)
def test_a_sclerotic_lesion_with_a_status_after_it_is_not_present(mapping, text):
    resources: list[dict[str, Any]] = _patient(text)
    resources[-1]["code"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "77477000"}],
        "text": "CT chest, abdomen and pelvis",
    }
    resources[-1]["category"] = [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD"}]}
    ]
    result = evaluate_record(make_record(*resources), mapping, get_profile("mayo"), None)
    states = {str(getattr(c, "value", c)): r.state.value for c, r in result.assessment.criteria.items()}
    assert states["sclerotic_bone_lesions"] in ("indeterminate", "absent")


# --- D6 (its "TBC"), D3 (its immunofixation) and ambiguous 3: a status after the band -----------------------


@pytest.mark.parametrize(
    "text",
    ["IgG lambda - TBC", "IgG lambda - to be confirmed", "IgG-λ - сомнит.", "IgG-λ - сомн.", "IgA-λ - на уточнении"],
)
def test_an_immunofixation_band_with_a_doubt_after_it_is_possible(text):
    result = parse_ife(text)
    assert not result.bands and not result.negative
    assert result.possible


def test_a_band_not_confirmed_reads_alike_in_english_and_russian():
    english, russian = parse_ife("IgG lambda - not confirmed"), parse_ife("IgG-λ - не подтв.")
    assert (russian.bands, russian.negative, russian.possible) == (english.bands, english.negative, english.possible)
