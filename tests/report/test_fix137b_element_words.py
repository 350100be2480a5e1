"""probe137 D3: in a Russian or Kazakh narrative every row read from text said "(из текста заключения, conclusion)":
the FHIR element it was read from stayed English. It is said in the reader's words; an element no table row knows
keeps its path, marked as a FHIR element (a technical reference). English and the JSON summary are unchanged."""

from __future__ import annotations

import datetime as dt

import pytest

from poems_fhir.criteria.model import Evidence
from poems_fhir.i18n import translator
from poems_fhir.report.wording import evidence_text

QUOTE = 'CT: "Sclerotic lesions in L2." '


def said(summary: str, lang: str) -> str:
    return evidence_text(translator(lang), Evidence("DiagnosticReport/r1", dt.date(2021, 11, 1), summary))


@pytest.mark.parametrize(
    ("origin", "element", "ru", "kk"),
    [
        ("report text", "conclusion", "из текста заключения", "қорытынды мәтінінен"),
        ("report text", "presentedForm[0]", "из приложенного текста заключения", "қорытындыға қоса берілген мәтіннен"),
        ("report text", "content[2].attachment", "из приложенного документа", "қоса берілген құжаттан"),
        ("text", "note[0]", "из примечания", "ескертпеден"),
        ("text", "valueString", "из текста результата", "нәтиже мәтінінен"),
        ("text", "code.text", "из записанного названия", "жазылған атауынан"),
        ("text", "code.coding[1].display", "из названия кода", "код атауынан"),
        (
            "text",
            "the name of local code http://h.example/cs|IDA",
            "из названия местного кода",
            "жергілікті код атауынан",
        ),
    ],
)
def test_the_element_read_is_said_in_the_readers_words(origin, element, ru, kk):
    summary = QUOTE + f"(from {origin}, {element})"
    for lang, words in (("ru", ru), ("kk", kk)):
        text = said(summary, lang)
        assert text.endswith(f"({words})"), text
        assert element not in text and "from" not in text
        assert '"Sclerotic lesions in L2."' in text  # the source's own words stay as written
    assert said(summary, "en") == summary.strip()  # English keeps the FHIR path, as before


def test_the_context_label_follows_the_element():
    text = said(QUOTE + "(from text, note[3]; negated ('No'))", "ru")
    assert "(из примечания; отрицается ('No'))" in text


def test_an_element_no_row_knows_is_marked_as_a_fhir_path():
    """Never passed off as a word of the language: a new element read by the engine stays traceable."""
    assert said(QUOTE + "(from text, extension[0].valueString)", "ru").endswith(
        "(из текста, элемент FHIR extension[0].valueString)"
    )
    assert said(QUOTE + "(from report text, section[1].text)", "kk").endswith(
        "(қорытынды мәтінінен, FHIR элементі section[1].text)"
    )


def test_a_bracket_in_the_quote_is_not_an_element():
    """Control: only the engine's own "(from …, <element>)" is rewritten, not the source's words."""
    summary = 'CT: "Lesions (from text, see note)." (from report text, conclusion)'
    text = said(summary, "ru")
    assert '"Lesions (from text, see note)."' in text and text.endswith("(из текста заключения)")
