"""Words the engine adds to evidence, in the reader's language (probe108 D3): inside a Russian or Kazakh report the
serum cut-off's UNVERIFIED caveat - the only place the reader is told -, "specimen unknown" and the text engine's
"(from report text, conclusion; negated …)" stayed English."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.model import Evidence
from poems_fhir.i18n import translator
from poems_fhir.report.wording import evidence_text

CAVEAT = "VEGF 1000 pg/mL (serum) >= 1000 pg/mL cut-off (an UNVERIFIED cut-off: confirm before clinical use)"
TEXT = "CT whole body: \"No sclerotic or lytic bone lesions.\" (from report text, conclusion; negated ('No'))"


def said(summary: str, lang: str) -> str:
    return evidence_text(translator(lang), Evidence("Observation/o1", dt.date(2024, 3, 1), summary))


@pytest.mark.parametrize(
    ("lang", "caveat", "cut_off"),
    [("ru", "НЕПОДТВЕРЖДЁННЫЙ порог", "порог"), ("kk", "РАСТАЛМАҒАН шекті мән", "шегі")],
)
def test_the_unverified_cut_off_caveat_is_in_the_readers_language(lang, caveat, cut_off):
    text = said(CAVEAT, lang)
    assert caveat in text and f"{cut_off} (" in text
    assert "UNVERIFIED cut-off" not in text and "cut-off" not in text


@pytest.mark.parametrize(
    ("lang", "origin", "negated"),
    [("ru", "из текста заключения", "отрицается"), ("kk", "қорытынды мәтінінен", "жоққа шығарылған")],
)
def test_the_text_engines_words_are_translated_the_quote_is_not(lang, origin, negated):
    text = said(TEXT, lang)
    # the element, "conclusion", in the reader's words too since probe137 D3 (test_fix137b_element_words)
    assert f"({origin}; {negated} ('No'))" in text
    assert '"No sclerotic or lytic bone lesions."' in text  # the source's own words stay as written


def test_english_is_unchanged():
    assert said(TEXT, "en") == TEXT
    assert said("VEGF 400 pg/mL (specimen unknown)", "ru").endswith("(тип образца неизвестен)")
