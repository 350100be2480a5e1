"""probe138 G4 (fix139a): in a Russian or Kazakh report the bracket the mapping layer writes after a value - "[read
from text '…'; result read from the note its value points to ('See comment')]", a unit read through the unit table, a
test known by its name only - stayed English, and with it every word the wording table anchors at the end of the
summary: "cut-off", the UNVERIFIED caveat, "(high)", the verification status. The bracket is said in the reader's
words, part by part; the quoted source words and the codes stay as written (and are not reformatted as numbers).
The same kind of English - a result read without a number ("interpretation H, no number", "reported …"), an
equivocal band, a result on record but not read - is said in the reader's words too.

Controls: English is unchanged but for the quotes (no longer reformatted); a bracket that is not the mapping layer's
own (a source's "[…]") is kept as recorded, and the words before it are not rewritten as if they were ours."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from poems_fhir.criteria.model import Evidence
from poems_fhir.i18n import translator
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.rules import CompiledMapping
from poems_fhir.report.wording import evidence_text
from tests.conftest import make_record, observation

VEGF = "75628-8"
SERUM_M_PROTEIN = "33358-3"
PLATELETS = "777-3"
#: English words of the mapping layer a Russian or Kazakh reader must not meet
ENGLISH = (
    "read from",
    "points to",
    "identified by",
    "lower confidence",
    "unit table",
    "read as",
    "cut-off",
    "UNVERIFIED",
    "(high)",
    "no number",
    "reported",
    "interpretation",
    "presence only",
    "equivocal",
    "not read",
    "confirmed",
)


def said(summary: str, lang: str, value: float | None = None, unit: str | None = None) -> str:
    return evidence_text(translator(lang), Evidence("Observation/o1", dt.date(2024, 1, 2), summary, value, unit))


def english_left(text: str) -> list[str]:
    """Our English words in ``text``, outside the quoted source words."""
    bare = re.sub(r"'(?:[^'\\]|\\.)*'", "''", text)
    return [w for w in ENGLISH if w in bare]


def _read(mapping: CompiledMapping, resource: dict[str, Any], lang: str) -> list[str]:
    ex = extract(make_record(resource), mapping)
    return [evidence_text(translator(lang), f.evidence) for f in ex.findings]


@pytest.mark.parametrize(
    ("lang", "read", "note", "cut_off", "caveat"),
    [
        ("ru", "прочитано из текста '1500 pg/mL'", "из примечания", "порог", "НЕПОДТВЕРЖДЁННЫЙ порог"),
        ("kk", "'1500 pg/mL' мәтінінен оқылды", "ескертпеден", "шегі", "РАСТАЛМАҒАН шекті мән"),
    ],
)
def test_a_see_comment_vegf_is_said_in_the_readers_words(mapping, lang, read, note, cut_off, caveat):
    """The probe's case: a VEGF whose value points to its note, the serum result in the note."""
    resource = observation(VEGF, valueString="See comment", note=[{"text": "Serum VEGF 1500 pg/mL"}])
    [text] = _read(mapping, resource, lang)
    assert read in text and note in text and "('See comment')" in text, text
    assert f" {cut_off} (" in text and caveat in text, text
    assert english_left(text) == [], text


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_a_see_comment_m_protein_is_said_in_the_readers_words(mapping, lang):
    resource = observation(SERUM_M_PROTEIN, valueString="See comment", note=[{"text": "M-spike 12 g/L"}])
    [text] = _read(mapping, resource, lang)
    assert "'12 g/L'" in text and "('See comment')" in text, text
    assert english_left(text) == [], text


@pytest.mark.parametrize(
    ("summary", "ru", "kk"),
    [
        (
            "platelets 512 10*9/L (high) [unit 'K/uL' read as 10*3/uL (unit table)]",
            "(повышен) [единица 'K/uL' прочитана как UCUM 10*3/uL (таблица единиц)]",
            "(жоғары) ['K/uL' бірлігі UCUM 10*3/uL ретінде оқылды (бірліктер кестесі)]",
        ),
        (
            "VEGF 240 pg/mL (plasma) >= 200 pg/mL cut-off [test identified by its name 'VEGF plasma' only: lower "
            "confidence]",
            "порог [тест определён только по названию 'VEGF plasma': меньшая достоверность]",
            "шегі [тест тек 'VEGF plasma' атауы бойынша анықталды: сенімділігі төмен]",
        ),
        (
            "hemoglobin 178 g/L [unit 'G/L' read as g/L: a count per volume cannot be this result]",
            "[единица 'G/L' прочитана как UCUM g/L: этот результат не может быть количеством в объёме]",
            "['G/L' бірлігі UCUM g/L ретінде оқылды: бұл нәтиже көлемдегі сан бола алмайды]",
        ),
        (
            "serum M-protein 0.4 [no unit: used for presence only, magnitude not used] [test identified by its name "
            "'M-Protein (SPE)' only: lower confidence]",
            "[нет единицы измерения: учтено только наличие, величина не используется] [тест определён",
            "[өлшем бірлігі жоқ: тек бар екені ескерілді, шамасы қолданылмады] [тест тек",
        ),
        (
            "serum M-protein 2 [a unit not convertible to the rule's: used for presence only, magnitude not used]",
            "[единица не переводится в единицу правила: учтено только наличие",
            "[бірлік ереже бірлігіне келтірілмейді: тек бар екені ескерілді",
        ),
        (
            "Polyneuropathy (confirmed) [code 'G6З.2' read as G63.2: a letter of another script typed for its Latin "
            "lookalike]",
            "(подтверждено) [код 'G6З.2' прочитан как G63.2: буква другого алфавита",
            "(расталған) ['G6З.2' коды G63.2 ретінде оқылды: ұқсас латын әрпінің",
        ),
    ],
)
def test_every_part_of_the_bracket_and_the_words_before_it(summary, ru, kk):
    for lang, words in (("ru", ru), ("kk", kk)):
        text = said(summary, lang)
        assert words in text, text
        assert english_left(text) == [], text


@pytest.mark.parametrize(
    ("summary", "ru"),
    [
        (
            "VEGF (specimen unknown) reported interpretation H, no number",
            "VEGF (тип образца неизвестен) сообщено: флаг лаборатории H, без числового значения",
        ),
        (
            "VEGF (specimen unknown) reported valueString 'в норме', no number within the lab's range",
            "сообщено: текст результата 'в норме', без числового значения в пределах референсного интервала",
        ),
        (
            "platelets interpretation H, no number (high)",
            "тромбоциты флаг лаборатории H, без числового значения (повышен)",
        ),
        (
            "serum immunofixation positive (isotype not stated; interpretation DET, no number)",
            "иммунофиксация сыворотки положительна (изотип не указан; флаг лаборатории DET, без числового значения)",
        ),
        (
            "urine immunofixation negative (coded value http://snomed.info/sct|260415000, no number)",
            "иммунофиксация мочи отрицательна (кодированное значение http://snomed.info/sct|260415000, без числового",
        ),
        (
            "abnormal FLC ratio (kappa excess; valueString 'high', no number)",
            "патологическое соотношение СЛЦ (избыток каппа; текст результата 'high', без числового значения)",
        ),
        ("serum M-protein not detected (valueString 'Nil')", "M-протеин сыворотки не выявлен (текст результата 'Nil')"),
        (
            "VEGF 120 pg/mL (plasma) flagged flag '↑' in the text",
            "VEGF 120 пг/мл (плазма) отмечено: отметка '↑' в тексте",
        ),
        (
            "VEGF 640 without a unit, judged against the lab's own range 0-115 only (plasma)",
            "VEGF 640 без единицы измерения, оценено только по собственному референсному интервалу лаборатории 0-115",
        ),
        (
            "VEGF 1250 pg/mL (serum) >= 1000 pg/mL cut-off (an UNVERIFIED cut-off: confirm before clinical use), "
            "interpretation L",
            "порог (НЕПОДТВЕРЖДЁННЫЙ порог: подтвердите до клинического применения), флаг лаборатории L",
        ),
        (
            "urine immunofixation equivocal: IgG kappa ('Possible faint IgG kappa band')",
            "иммунофиксация мочи сомнительна: IgG kappa ('Possible faint IgG kappa band')",
        ),
        (
            "platelets: on record, not read (valueInteger 455 has no unit (expected 10*9/L); not guessed)",
            "тромбоциты: результат есть, но не прочитан (valueInteger 455",
        ),
    ],
)
def test_a_result_read_without_a_number_is_said_in_the_readers_words(summary, ru):
    text = said(summary, "ru")
    assert ru in text, text
    assert english_left(text.split(" (valueInteger")[0]) == [], text  # the listed problem stays as listed
    assert english_left(said(summary, "kk").split(" (valueInteger")[0]) == [], said(summary, "kk")


def test_the_quoted_source_words_are_not_reformatted():
    """'1500 pg/mL' is what the note said: not "1 500 пг/мл" (ru) nor "1,500 pg/mL" (en)."""
    summary = "VEGF 1500 pg/mL (serum) [read from text '1500 pg/mL']"
    assert said(summary, "ru", 1500, "pg/mL").endswith("[прочитано из текста '1500 pg/mL']")
    assert said(summary, "en", 1500, "pg/mL") == "VEGF 1,500 pg/mL (serum) [read from text '1500 pg/mL']"


@pytest.mark.parametrize(
    "summary",
    [
        "VEGF 240 pg/mL (plasma) >= 200 pg/mL cut-off [test identified by its name 'VEGF plasma' only: lower confidence]".replace(
            ">=", "≥"
        ),
        "VEGF (specimen unknown) reported interpretation H, no number",
        "serum immunofixation positive (isotype not stated; interpretation DET, no number)",
        "Polyneuropathy (confirmed) [code 'G6З.2' read as G63.2: a letter of another script typed for its Latin "
        "lookalike]",
    ],
)
def test_english_is_unchanged(summary):
    assert said(summary, "en") == summary


@pytest.mark.parametrize(
    "summary",
    [
        "Neuropathy, lower limbs normal [left side]",  # a source's bracket: nothing of ours in it
        "Polyneuropathy (confirmed) [read from text 'x'; seen by Dr Smith]",  # one part not ours: the whole kept
        "Note: valueString 'High' [see below]",
    ],
)
def test_a_bracket_not_ours_is_kept_as_recorded(summary):
    text = said(summary, "ru")
    assert text.endswith(summary[summary.rindex(" [") :]), text
    if summary.startswith("Neuropathy"):
        assert "lower limbs normal [" in text  # "normal" before a source's bracket is the source's word


def test_a_quote_holding_a_bracket_or_a_semicolon_is_one_part():
    summary = (
        "VEGF 150 pg/mL (plasma) [read from text '150 pg/mL [ref; <115]'; unit 'пг/мл' read as pg/mL (unit table)]"
    )
    text = said(summary, "ru")
    assert "[прочитано из текста '150 pg/mL [ref; <115]'; единица 'пг/мл' прочитана как UCUM pg/mL" in text, text


def test_a_sentence_the_text_engine_quotes_keeps_its_words():
    """Control: "reported", "without a unit" in a quoted source sentence are the source's, not ours."""
    summary = 'Clinic letter: "Her husband (62) reported fatigue; 5 without a unit." (from text, note[0])'
    assert (
        said(summary, "ru") == 'Clinic letter: "Her husband (62) reported fatigue; 5 without a unit." (из примечания)'
    )
