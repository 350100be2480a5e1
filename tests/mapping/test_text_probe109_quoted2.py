"""probe109 (regressions of probe107's fixes and what they left): a normal test of another organ after a problem
(D3); a report that names the original report and confirms or enlarges its finding (D4); a frozen-section impression
the paraffin sections confirm (D5); a quoted outside or earlier report refuted in other words (D12); problems answered
by a normal test written differently (D14); immunofixation strings quoting a referring laboratory (D17); a referrer's
heading that swallowed the histology's own denial (D19). Each with positive controls that must stay present."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from tests.mapping.test_extract import report, run

SCL = "sclerotic_bone_lesions"
CAST = "castleman_disease"


def _states(ex, topic):
    return {f.state for f in ex.findings if f.topic == topic}


def _labels(mapping, text, target):
    (res,) = mapping.text.assert_texts([text])
    return {a.label for a in res if a.target == target}


# --- D3: a normal test of another organ leaves the problem stated --------------------------------------------------


@pytest.mark.parametrize(
    ("stated", "denied", "target"),
    [
        ("Splenomegaly - CT: normal liver, spleen 16 cm", "Splenomegaly - USS normal spleen", "splenomegaly"),
        ("Lymphadenopathy - CT normal spleen; axillary nodes 2.5 cm", "Lymphadenopathy - CT normal", "lymphadenopathy"),
        ("Hepatomegaly - USS normal spleen", "Hepatomegaly - CT: normal liver.", "hepatomegaly"),
        ("Splenomegaly - USS normal kidneys, spleen 15 cm.", "Splenomegaly - USS normal size", "splenomegaly"),
        (
            "Hypogonadism - bloods normal prolactin, testosterone 4 nmol/L.",
            "Hypogonadism - bloods normal",
            "hypogonadism",
        ),
        (
            "Hepatosplenomegaly - CT normal kidneys",
            "Hepatosplenomegaly - USS normal liver and spleen",
            "hepatosplenomegaly",
        ),
    ],
)
def test_a_normal_test_of_another_organ_leaves_the_problem_present(mapping, stated, denied, target):
    # the test's own organ (or nothing, or a neutral word) after "normal" still denies the problem
    assert (_labels(mapping, stated, target), _labels(mapping, denied, target)) == ({"present"}, {"negated"})


# --- D14: a problem answered by a normal test, written differently -------------------------------------------------


@pytest.mark.parametrize(
    ("denied", "stated", "target"),
    [
        ("Splenomegaly [USS normal]", "Splenomegaly [USS 16 cm]", "splenomegaly"),
        ("Splenomegaly - not on CT", "Splenomegaly 16 cm on CT; ascites not seen on USS", "splenomegaly"),
        ("Splenomegaly - clinically; not confirmed on imaging", "Splenomegaly - CT otherwise normal", "splenomegaly"),
        (
            "Hypogonadism (testosterone 18 nmol/L, normal)",
            "Hypogonadism - testosterone 5.2 nmol/L (normal 8-29)",
            "hypogonadism",
        ),
        ("Hypothyroidism - TSH 2.1 mU/L, normal", "Hypothyroidism - TSH 12 mU/L, normal fT4", "hypothyroidism"),
        (
            "Adrenal insufficiency - short synacthen test passed",
            "Adrenal insufficiency - short synacthen test failed",
            "adrenal_insufficiency",
        ),
        ("Hypothyroidism - TFTs within normal limits", "Hypogonadism - testosterone low, normal LH", None),
        (
            "Гепатомегалия - по УЗИ размеры в норме",
            "Спленомегалия - по УЗИ печень в норме, селезенка 16 см",
            None,
        ),
        ("Спленомегалия [УЗИ - норма]", "Спленомегалия [УЗИ - 16 см]", "splenomegaly"),
        (
            "Гипогонадизм (тестостерон 18 нмоль/л, норма)",
            "Гипогонадизм (тестостерон 5 нмоль/л, норма 8-29)",
            "hypogonadism",
        ),
        ("Гепатомегалия - УДЗ бойынша өлшемі қалыпты", "Гепатомегалия - УДЗ бойынша 18 см", "hepatomegaly"),
    ],
)
def test_a_problem_answered_by_a_normal_test_written_differently_is_denied(mapping, denied, stated, target):
    (said_denied,) = mapping.text.assert_texts([denied])
    (said_stated,) = mapping.text.assert_texts([stated])
    first = target or said_denied[0].target
    second = target or said_stated[0].target
    assert (
        {a.label for a in said_denied if a.target == first},
        {a.label for a in said_stated if a.target == second},
    ) == (
        {"negated"},
        {"present"},
    )


# --- D4, D5: a report that names the original report and confirms or enlarges its finding --------------------------


@pytest.mark.parametrize(
    ("confirmed", "refuted", "name", "topic", "category"),
    [
        (
            "AMENDED REPORT: sclerotic lesion in L3 is confirmed; the original report omitted a second sclerotic lesion "
            "in T8.",
            "AMENDED REPORT: the sclerotic lesion in L3 described in the original report has not been confirmed.",
            "CT chest, abdomen and pelvis",
            SCL,
            "RAD",
        ),
        (
            "In fact, the sclerotic lesion in L3 is larger than described in the original report (15 mm).",
            "In fact, the sclerotic lesion in L3 described in the original report is a bone island.",
            "CT chest, abdomen and pelvis",
            SCL,
            "RAD",
        ),
        (
            "Addendum: the sclerotic lesion in L3 described in the outside report is again seen on this CT.",
            "Addendum: the sclerotic lesion in L3 described in the outside report is a motion artefact.",
            "CT chest, abdomen and pelvis",
            SCL,
            "RAD",
        ),
        (
            "При пересмотре: склеротический очаг в L3, описан в заключении ЦРБ, подтверждается (15 мм).",
            "При пересмотре: склеротический очаг в L3, описан в заключении ЦРБ, не подтверждается.",
            "КТ ОГК, ОБП",
            SCL,
            "RAD",
        ),
        (
            "Castleman disease was favoured on frozen section and is confirmed on paraffin sections.",
            "Castleman disease was favoured on frozen section but is not confirmed on paraffin sections.",
            "Lymph node excision biopsy",
            CAST,
            "PAT",
        ),
        (
            "Castleman disease, favoured at frozen section, subsequently confirmed on permanent sections.",
            "Outside pathology (2023) was reported as Castleman disease and is confirmed by the referring hospital. "
            "On review here: reactive follicular hyperplasia.",
            "Lymph node excision biopsy",
            CAST,
            "PAT",
        ),
    ],
)
def test_a_report_that_confirms_the_quoted_finding_states_it(mapping, confirmed, refuted, name, topic, category):
    said = _states(run(mapping, report(name, confirmed, category=category)), topic)
    answered = _states(run(mapping, report(name, refuted, category=category)), topic)
    assert State.PRESENT in said
    assert State.PRESENT not in answered


# --- D12: a quoted outside or earlier report refuted in other words ------------------------------------------------


@pytest.mark.parametrize(
    ("refuted", "stated", "name", "topic", "category"),
    [
        (
            "External report mentions a sclerotic lesion in L3; we disagree.",
            "External report mentions a sclerotic lesion in L3; we agree: sclerotic lesion in L3.",
            "CT chest, abdomen and pelvis",
            SCL,
            "RAD",
        ),
        (
            "REVISED REPORT: the sclerotic lesion in L3 previously reported is a motion artefact.",
            "REVISED REPORT: the sclerotic lesion in L3 is larger than previously reported (15 mm).",
            "CT chest, abdomen and pelvis",
            SCL,
            "RAD",
        ),
        (
            "Консультация снимков: склеротический очаг L3, указанный в протоколе ЦРБ, является костным островком.",
            "Консультация снимков: склеротический очаг L3, указанный в протоколе ЦРБ, подтверждается.",
            "КТ ОГК, ОБП",
            SCL,
            "RAD",
        ),
        (
            "Slides from Regional Hospital reviewed (their diagnosis: Castleman disease). Our diagnosis: reactive "
            "follicular hyperplasia.",
            "Slides from Regional Hospital reviewed (their diagnosis: Castleman disease). Our diagnosis: Castleman "
            "disease, hyaline vascular type.",
            "Lymph node excision biopsy",
            CAST,
            "PAT",
        ),
        (
            "Intraoperative consultation: Castleman disease. Final diagnosis: classical Hodgkin lymphoma.",
            "Intraoperative consultation: lymphoid tissue. Final diagnosis: Castleman disease, plasma cell type.",
            "Lymph node excision biopsy",
            CAST,
            "PAT",
        ),
    ],
)
def test_a_quoted_report_refuted_in_other_words_is_not_present(mapping, refuted, stated, name, topic, category):
    answered = _states(run(mapping, report(name, refuted, category=category)), topic)
    said = _states(run(mapping, report(name, stated, category=category)), topic)
    assert State.PRESENT not in answered
    assert answered & {State.INDETERMINATE, State.ABSENT}
    assert State.PRESENT in said
