"""probe107: a second opinion, amended report or addendum that quotes another (or the earlier) report's finding and
answers it (D4); histology naming Castleman disease only as the referrer's question or a superseded frozen-section
impression (D5); an immunofixation result that corrects itself or quotes another laboratory (D6, D7); struck-through
problem-list items and items answered by a normal test (D10). Each with positive controls that must stay present."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import parse_ife
from tests.mapping.test_extract import obs, report, run

SCL = "sclerotic_bone_lesions"
CAST = "castleman_disease"
CLONE = "monoclonal_plasma_cell_disorder"


def _states(ex, topic):
    return {f.state for f in ex.findings if f.topic == topic}


# --- D4: a quoted finding answered by this report ----------------------------------------------------------------


@pytest.mark.parametrize(
    "conclusion",
    [
        "Outside report (Regional Hospital, 01/2024) described a sclerotic lesion in L3. Our review: this represents "
        "a bone island; no sclerotic lesions.",
        "External CT was reported as showing sclerotic lesions in the pelvis. On our review these are degenerative; "
        "no focal sclerotic lesion.",
        "Second opinion review of outside PET-CT.\nOriginal report: 'sclerotic lesion in the right ilium'.\n"
        "Review opinion: not confirmed - normal bone.",
        "AMENDED REPORT: the sclerotic lesion in L3 described in the original report is a motion artefact. No bone "
        "lesion.",
        "Amended: no lesion. Original text: Sclerotic lesion L3.",
        "ADDENDUM 12/03/2024: After discussion at MDT, the L3 'sclerotic lesion' is felt to be a haemangioma.",
        "MDT review: radiologist feels the 'sclerotic lesions' are in fact Schmorl's nodes.",
        "Initial report described a sclerotic focus in T9; on re-review this is a bone island.",
        "По данным КТ из ЦРБ (01.2024) описан склеротический очаг в L3. При пересмотре: костный островок, "
        "склеротических очагов нет.",
        "Пересмотр КТ из другого учреждения. В заключении направившего учреждения: «склеротические очаги в костях "
        "таза». Наше заключение: очаговых изменений костей не выявлено.",
    ],
)
def test_a_quoted_bone_lesion_this_report_answers_is_not_present(mapping, conclusion):
    states = _states(run(mapping, report("CT chest, abdomen and pelvis", conclusion)), SCL)
    assert State.PRESENT not in states
    assert states & {State.INDETERMINATE, State.ABSENT}


@pytest.mark.parametrize(
    "conclusion",
    [
        "Outside pathology (2023) was reported as Castleman disease. On review here: reactive follicular "
        "hyperplasia; features of Castleman disease are not present.",
        "Из другого учреждения поступило заключение: болезнь Кастлемана. При пересмотре препаратов: реактивная "
        "фолликулярная гиперплазия, данных за болезнь Кастлемана нет.",
    ],
)
def test_a_quoted_castleman_diagnosis_the_review_refutes_is_not_present(mapping, conclusion):
    states = _states(run(mapping, report("Lymph node excision biopsy", conclusion, category="PAT")), CAST)
    assert states == {State.INDETERMINATE}


# positive controls: the reviewer agrees, or no word answers the quote
@pytest.mark.parametrize(
    ("name", "conclusion", "topic", "category"),
    [
        (
            "Lymph node excision biopsy",
            "Outside pathology confirmed Castleman disease. On review here we agree: hyaline-vascular Castleman "
            "disease.",
            CAST,
            "PAT",
        ),
        (
            "Lymph node excision biopsy",
            "Второе мнение. Из другого учреждения: болезнь Кастлемана. При пересмотре препаратов диагноз "
            "подтвержден: болезнь Кастлемана, гиалиново-васкулярный вариант.",
            CAST,
            "PAT",
        ),
        ("PET-CT", "Outside PET-CT (2023) showed multiple sclerotic lesions in the pelvis.", SCL, "RAD"),
        (
            "CT chest, abdomen and pelvis",
            "Compared with the prior CT, the sclerotic lesions in T6 and T8 are stable. No sclerotic lesions in the "
            "skull.",
            SCL,
            "RAD",
        ),
    ],
)
def test_a_finding_this_report_states_itself_stays_present(mapping, name, conclusion, topic, category):
    assert State.PRESENT in _states(run(mapping, report(name, conclusion, category=category)), topic)


# --- D5: the referrer's question, a superseded frozen section -------------------------------------------------


@pytest.mark.parametrize(
    "conclusion",
    [
        "Diagnosis: Reactive lymphadenitis. Comment: the referring clinician queried Castleman disease; there are no "
        "Castleman-like features.",
        "Castleman disease was favoured on frozen section; the paraffin sections show metastatic carcinoma instead.",
        "Клиницист предполагает болезнь Кастлемана; морфологических признаков не обнаружено.",
    ],
)
def test_castleman_named_only_as_a_question_or_a_superseded_impression_is_not_present(mapping, conclusion):
    states = _states(run(mapping, report("Lymph node excision biopsy", conclusion, category="PAT")), CAST)
    assert State.PRESENT not in states


def test_a_frozen_section_the_paraffin_sections_confirm_stays_present(mapping):
    conclusion = "Frozen section: Castleman disease. Paraffin sections confirm hyaline-vascular Castleman disease."
    assert State.PRESENT in _states(run(mapping, report("Lymph node biopsy", conclusion, category="PAT")), CAST)


# --- D6, D7: an immunofixation result that corrects itself or quotes another laboratory ---------------------------


def test_a_band_withdrawn_as_another_patients_is_no_band(mapping):
    text = "Corrected report: Negative. (Original report IgG kappa was for a different patient.)"
    r = parse_ife(text, "serum")
    assert (r.negative, r.bands, r.earlier, r.possible) == (True, (), (), ())
    assert _states(run(mapping, obs("25700-6", valueString=text)), CLONE) == {State.ABSENT}


@pytest.mark.parametrize(
    "text",
    [
        "Outside lab (01/2024) reported IgG lambda. Repeat here: no monoclonal band detected.",
        "Referring lab result: IgA lambda. Our result: Negative.",
        "Результат направившей лаборатории: IgG лямбда. Наш результат: отрицательный.",
        "По месту жительства выявлен IgG-λ. При повторном исследовании моноклональный белок не выявлен.",
    ],
)
def test_another_labs_band_beside_todays_negative_is_an_earlier_band(mapping, text):
    r = parse_ife(text, "serum")
    assert r.negative and not r.bands and r.earlier
    # a band found at any time: never absent, never today's present (criteria.md §3.3)
    assert _states(run(mapping, obs("25700-6", valueString=text)), CLONE) == {State.INDETERMINATE}


@pytest.mark.parametrize(
    "text",
    ["Our result: IgA lambda. Referring lab: negative.", "IgG lambda. Outside lab reported the same band."],
)
def test_this_labs_band_beside_another_labs_words_stays_a_band(text):
    assert [b.label() for b in parse_ife(text, "serum").bands] in (["IgA lambda"], ["IgG lambda"])


# --- D10: struck through, or answered by a normal test ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("<p>Problem list</p><ul><li><del>Splenomegaly</del></li><li>IgG lambda MGUS</li></ul>", "splenomegaly"),
        ("<p>Problems</p><p><strike>Hepatosplenomegaly</strike> - CT normal</p><p>COPD</p>", "hepatosplenomegaly"),
        ("<ol><li><s>Ascites</s></li><li>MGUS</li></ol>", "ascites"),
        ("Problems:\n1. MGUS IgG lambda\n2. ~~Adrenal insufficiency~~\n3. COPD", "adrenal_insufficiency"),
    ],
)
def test_a_struck_through_problem_is_no_finding(mapping, text, target):
    ex = run(mapping, report("Clinic letter", text, category="OTH"))
    assert not [f for f in ex.findings if f.source_rule == target and f.state is State.PRESENT]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Problem list:\n1. Hepatosplenomegaly - CT normal\n2. COPD", "hepatosplenomegaly"),
        ("Problems:\n- Splenomegaly - USS normal (11 cm)\n- COPD", "splenomegaly"),
        ("Problems:\n2. Adrenal insufficiency (SST normal)\n3. COPD", "adrenal_insufficiency"),
        ("Спленомегалия - по УЗИ норма.", "splenomegaly"),
        ("Гипогонадизм (тестостерон в норме).", "hypogonadism"),
        ("Спленомегалия - УЗИ без патологии.", "splenomegaly"),
    ],
)
def test_a_problem_answered_by_a_normal_test_is_denied(mapping, text, target):
    (res,) = mapping.text.assert_texts([text])
    assert {a.label for a in res if a.target == target} == {"negated"}


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Splenomegaly - CT 16 cm.", "splenomegaly"),
        ("Papilloedema - MRI normal.", "papilledema"),
        ("Polyneuropathy - MRI spine normal.", "polyneuropathy"),
        ("Спленомегалия - КТ без контраста: селезенка 16 см.", "splenomegaly"),
        ("Splenomegaly ~~16 cm~~ 18 cm.", "splenomegaly"),
    ],
)
def test_a_problem_another_test_leaves_or_a_struck_measure_stays_present(mapping, text, target):
    (res,) = mapping.text.assert_texts([text])
    assert {a.label for a in res if a.target == target} == {"present"}
