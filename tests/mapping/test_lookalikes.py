"""Characters that read as others are folded before the text is read, at the same length (probe67 D4: a
Latin "e" in «не», a Cyrillic "о" in "No", full-width "Ｎｏ", a zero-width space, soft hyphen or ESC
between "No" and its finding turned a denial into a present finding; probe69 D2: "исключён" with ё was no
denial)."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.rules import load_mapping
from poems_fhir.mapping.text.lexicon import fold_lookalikes


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("нe выявлено", "не выявлено"),  # Latin e in a Russian word
        ("Nо lesions", "No lesions"),  # Cyrillic о in an English word
        ("Ｎｏ lesions", "No lesions"),
        ("No\u200blesions", "No lesions"),
        ("No\u00adlesions", "No lesions"),
        ("No\x1blesions\x00\x7f", "No lesions  "),
        ("исключён, Ёж", "исключен, Еж"),
        ("IgA-лямбда, IgGкаппа, ПЭТ-КТ, L2-L4", "IgA-лямбда, IgGкаппа, ПЭТ-КТ, L2-L4"),  # real mixes stay
        ("line\nbreak\ttab\r\n", "line\nbreak\ttab\r\n"),
    ],
)
def test_lookalikes_are_folded_at_the_same_length(text, folded):
    out = fold_lookalikes(text)
    assert out == folded and len(out) == len(text)


@pytest.mark.parametrize(
    "text",
    [
        "Склеротических очагов нe выявлено.",
        "Nо sclerotic lesions.",
        "Ｎｏ sclerotic lesions.",
        "No\u200bsclerotic lesions.",
        "No\x1bsclerotic lesions.",
    ],
)
def test_a_denial_written_with_a_lookalike_is_a_denial(text):
    [assertions] = load_mapping().text.assert_texts([text])
    assert [(a.target, a.label) for a in assertions] == [("sclerotic_bone_lesion", "negated")]


def test_ye_with_diaeresis_is_read_as_ye():
    [assertions] = load_mapping().text.assert_texts(["AL-амилоидоз исключён."])
    assert [(a.target, a.label) for a in assertions] == [("al_amyloidosis", "negated")]


def test_folding_a_long_mixed_text_is_linear():
    text = ("нe" + "x" * 58 + " ") * 20000
    assert len(fold_lookalikes(text)) == len(text)


@pytest.mark.parametrize(
    ("text", "target", "label"),
    [
        ("Splеnomegaly 16 cm.", "splenomegaly", "present"),  # a Cyrillic е, no other key word (probe70 D6)
        ("Склеротических очагов HE выявлено.", "sclerotic_bone_lesion", "negated"),  # Latin capitals (D7)
        ("Sclerotic lesions:\u2028No.", "sclerotic_bone_lesion", "negated"),  # U+2028 ends a line as \n does (D10)
    ],
)
def test_a_finding_or_denial_written_with_lookalikes_or_a_line_separator_is_read(text, target, label):
    mapping = load_mapping()
    assert mapping.text.could_matter(text)
    [assertions] = mapping.text.assert_texts([text])
    assert (target, label) in [(a.target, a.label) for a in assertions]


def test_latin_he_is_folded_only_beside_russian_words():
    assert fold_lookalikes("очагов HE выявлено") == "очагов НЕ выявлено"
    assert fold_lookalikes("HE said CT") == "HE said CT"
    assert fold_lookalikes("по данным CT очагов") == "по данным CT очагов"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Νo lesions", "No lesions"),  # a Greek capital Nu in an English word (probe70 D12)
        ("SplΕnomegaly", "SplEnomegaly"),
        ("нο", "но"),  # a Greek omicron in a Russian word
        ("очагов ΗΕ выявлено", "очагов НЕ выявлено"),  # «НЕ» in Greek capitals beside Russian words
        ("очагов ΗΕΤ", "очагов НЕТ"),
        (
            "IgGκ, λ chains, β2-microglobulin, α-fetoprotein, Καρδιά",
            "IgGκ, λ chains, β2-microglobulin, α-fetoprotein, Καρδιά",
        ),
    ],
)
def test_greek_lookalikes_inside_latin_or_cyrillic_words_are_folded_and_greek_symbols_kept(text, folded):
    out = fold_lookalikes(text)
    assert out == folded and len(out) == len(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an invisible character inside a word (probe70 D4/D5): the finding was not found
        ("Sple\u00adnomegaly 16 cm.", [("splenomegaly", "present")]),
        ("Hepato\u200dmegaly.", [("hepatomegaly", "present")]),
        ("Castle\u2060man disease excluded.", [("castleman_disease", "negated")]),
        ("Спле\u00adномегалия.", [("splenomegaly", "present")]),
        # between two words it stands for a space, as before
        ("No\u00adsclerotic lesions.", [("sclerotic_bone_lesion", "negated")]),
        # read both ways, a finding is said once
        ("Hepato\u00admegaly. No\u200bascites.", [("ascites", "negated"), ("hepatomegaly", "present")]),
        ("Νo sclerotic lesions.", [("sclerotic_bone_lesion", "negated")]),
        ("Склеротических очагов ΗΕ выявлено.", [("sclerotic_bone_lesion", "negated")]),
    ],
)
def test_a_word_split_by_an_invisible_character_or_written_with_greek_letters_is_read(text, expected):
    mapping = load_mapping()
    assert mapping.text.could_matter(text)
    [assertions] = mapping.text.assert_texts([text])
    assert sorted((a.target, a.label) for a in assertions) == sorted(expected)


def test_joined_words_keeps_the_length_and_leaves_texts_without_a_split_word_alone():
    from poems_fhir.mapping.text.lexicon import joined_words

    assert joined_words("Sple\u00adnomegaly 16 cm") == "Splenomegaly  16 cm"
    assert joined_words("a\x1bb c\u200dd\u200de") == "ab  cde  "
    assert joined_words("No\u200b lesions") is None and joined_words("plain text") is None
    assert joined_words("end\u00ad") is None
