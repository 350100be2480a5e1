"""probe97: fields side by side on a pipe row, a table header with no rows, and field wordings of the
examinations (D1, D5, D7-D10)."""

from __future__ import annotations

import pytest

from poems_fhir.mapping.text.layout import cell_breaks, headed_tables
from tests.mapping.test_text_corpus import labels


def _names(cell: str) -> bool:
    return any(w in cell.lower() for w in ("ascites", "effusion", "papill", "spleen", "splenomegaly", "асцит"))


def _read(mapping, text: str) -> dict[str, str]:
    [assertions] = mapping.text.assert_texts([text])
    return labels(assertions)


# D1: two denied findings as "label: no" cells on one pipe row: the first "no" led on into the next cell
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pleural effusion: no | Ascites: no", {"pleural_effusion": "negated", "ascites": "negated"}),
        ("Ascites: no | Splenomegaly: no", {"ascites": "negated", "splenomegaly": "negated"}),
        ("Pleural effusion: no | Pleural effusion: no", {"pleural_effusion": "negated"}),
        ("Right | Left\nPleural effusion: no | Pleural effusion: no", {"pleural_effusion": "negated"}),
        ("Pleural effusion: no | Ascites: yes", {"pleural_effusion": "negated", "ascites": "present"}),
        ("Ascites - no | Splenomegaly - no", {"ascites": "negated", "splenomegaly": "negated"}),
        ("Pleural effusion: no\tAscites: no", {"pleural_effusion": "negated", "ascites": "negated"}),
        ("Асцит: нет | Гидроторакс: нет", {"ascites": "negated", "pleural_effusion": "negated"}),
        ("Асцит: жоқ | Спленомегалия: жоқ", {"ascites": "negated", "splenomegaly": "negated"}),
        # near readings kept: a cell that leads on ("No | ascites"), a denied list under one answer
        ("Ascites: no. | Pleural effusion: no.", {"ascites": "negated", "pleural_effusion": "negated"}),
        ("Negative for splenomegaly | ascites | pleural effusion",
         {"splenomegaly": "negated", "ascites": "negated", "pleural_effusion": "negated"}),
    ],
)  # fmt: skip
def test_fields_side_by_side_on_a_pipe_row_each_answer_their_own_label(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_a_whole_field_cell_ends_its_sentence_at_the_pipe():
    assert cell_breaks("Pleural effusion: no | Ascites: no") == "Pleural effusion: no. | Ascites: no"
    assert cell_breaks("Ascites: no | yes") == "Ascites: no | yes"  # a bare answer after it: no break


# D5: a table header with no answer rows states nothing
@pytest.mark.parametrize(
    "text",
    [
        "Papilloedema | Comment",
        "Papilloedema | Retinal haemorrhages",
        "Papilloedema\tComment",
        "Ascites | Date",
        "Ascites | Pleural effusion",
        "Ascites | Date\n | ",
        "Ascites | Date\n---|---",
        "Findings: normal.\n\nPapilloedema | Comment",
        "Асцит | Комментарий",
        "Асцит | Гидроторакс",
    ],
)
def test_a_column_header_with_no_rows_states_nothing(mapping, text):
    assert _read(mapping, text) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen | enlarged", {"splenomegaly": "present"}),
        ("Spleen | mildly enlarged", {"splenomegaly": "present"}),
        ("Ascites | small volume", {"ascites": "present"}),
        ("Ascites | moderate", {"ascites": "present"}),
        ("Ascites | Pleural effusion\nno | no", {"ascites": "negated", "pleural_effusion": "negated"}),
        ("Papilloedema | Comment\nabsent | discs sharp", {"papilledema": "negated"}),
        ("Splenomegaly | Comment\n\nMild splenomegaly, 14 cm.", {"splenomegaly": "present"}),
        ("Ascites | Pleural effusion\nModerate ascites and a small right pleural effusion.",
         {"ascites": "present", "pleural_effusion": "present"}),
    ],
)  # fmt: skip
def test_a_verdict_row_and_a_header_over_rows_are_read_as_before(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_an_unfilled_header_is_blanked_at_its_length():
    text = "Ascites | Date\n\nNo splenomegaly."
    out = headed_tables(text, _names)
    assert len(out) == len(text) and out.split("\n")[0].strip() == "" and out.endswith("No splenomegaly.")


def test_headers_alone_line_after_line_are_looked_at_a_few_lines_ahead_each():
    text = "Ascites | Date\nNo splenomegaly.\n" * 20_000
    out = headed_tables(text, _names)
    assert len(out) == len(text) and "Ascites" not in out and out.count("No splenomegaly.") == 20_000


# D7: the toxic cause as an adjective after the noun or in a bracket
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Polyneuropathy (alcoholic)", {"toxic_polyneuropathy": "present"}),
        ("Peripheral neuropathy (toxic)", {"toxic_polyneuropathy": "present"}),
        ("Polyneuropathy: alcoholic", {"toxic_polyneuropathy": "present"}),
        ("Полинейропатия (алкогольная)", {"toxic_polyneuropathy": "present"}),
        ("Полинейропатия токсическая (алкогольная)", {"toxic_polyneuropathy": "present"}),
        ("Полинейропатия токсическая", {"toxic_polyneuropathy": "present"}),
        ("Полинейропатия нижних конечностей, алкогольная", {"toxic_polyneuropathy": "present"}),
        ("Полинейропатия (алкогольдік)", {"toxic_polyneuropathy": "present"}),
        # no cause named: the polyneuropathy alone
        ("Polyneuropathy (not alcoholic)", {"polyneuropathy": "present"}),
        ("Полинейропатия, не токсическая", {"polyneuropathy": "present"}),
    ],
)
def test_a_toxic_cause_after_the_polyneuropathy_is_read(mapping, text, expected):
    assert _read(mapping, text) == expected


# D8: an optic-disc field with a degree before "swollen"; the disc's colour before its sharp margins
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Optic discs: mildly swollen", "present"),
        ("Optic discs: moderately swollen", "present"),
        ("Optic discs: slightly swollen bilaterally", "present"),
        ("Optic discs: markedly swollen", "present"),
        ("Optic nerve heads: mildly swollen", "present"),
        ("Диски зрительных нервов: умеренно отечны", "present"),
        ("ДЗН: незначительно отечны", "present"),
        ("Көру нервінің дискісі: сәл ісінген", "present"),
        ("Optic discs: pink and sharp", "negated"),
        ("Optic discs: pink, sharp margins", "negated"),
        ("Optic discs: not swollen", "negated"),
    ],
)
def test_an_optic_disc_field_with_a_degree_or_a_colour_is_read(mapping, text, expected):
    assert _read(mapping, text) == {"papilledema": expected}


# D9: the oedema field denied, its words in commas; the bare label only where a field starts
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Oedema: absent", {"edema": "negated"}),
        ("Oedema: none", {"edema": "negated"}),
        ("Oedema: nil", {"edema": "negated"}),
        ("Edema: not present", {"edema": "negated"}),
        ("- Oedema: absent", {"edema": "negated"}),
        ("Lungs: clear. Oedema: none.", {"edema": "negated"}),
        ("Exam:\nOedema: none\nAscites: no", {"edema": "negated", "ascites": "negated"}),
        ("Legs: no oedema", {"edema": "negated"}),
        ("Lower limbs: no oedema", {"edema": "negated"}),
        ("Oedema: bilateral, pitting, to mid-shin", {"edema": "present"}),
        ("Отеки: нет", {"edema": "negated"}),
        ("Отеки: отсутствуют", {"edema": "negated"}),
        ("Голени: без отеков", {"edema": "negated"}),
        ("Ісіну: жоқ", {"edema": "negated"}),
        # another oedema named: no peripheral oedema denied
        ("Pulmonary oedema: none", {}),
        ("Macular oedema: none", {}),
        ("CXR: pulmonary oedema: none", {}),
        ("Disc oedema: none", {"papilledema": "negated"}),
        ("Отек легких: нет", {}),
        ("Oedema: 2+", {"edema": "present"}),  # a pitting grade (thirty-fourth session; it was not read)
    ],
)
def test_an_oedema_field_denied_is_read_where_a_field_starts(mapping, text, expected):
    assert _read(mapping, text) == expected


def test_a_caret_anchors_a_phrase_where_a_field_starts():
    import re

    from poems_fhir.mapping.text.lexicon import compile_phrase, expand_literals, key_words, phrase_regex

    regex = re.compile(phrase_regex("^ oedema : none"))
    assert regex.search("oedema : none") and regex.search("exam\n  oedema : none")
    assert regex.search("chest | oedema : none") and regex.search("lungs clear. oedema : none")
    assert not regex.search("pulmonary oedema : none") and not regex.search("cxr: oedema : none")
    assert compile_phrase("^ oedema : none")[0] == {"NORM": "oedema", "IS_SENT_START": True}
    assert expand_literals("^ oedema : none") is None and key_words("^ oedema : none") == ["oedema"]
    for bad in ("oedema ^ none", "^", "^ [oedema] none"):
        with pytest.raises(ValueError):
            compile_phrase(bad)


def test_a_field_start_anchor_reads_a_long_text_once():
    import re

    from poems_fhir.mapping.text.lexicon import phrase_regex

    regex = re.compile(phrase_regex("^ oedema|edema : none|no|nil|absent"))
    assert len(regex.findall(("pulmonary oedema: none. " * 5_000).replace(":", " :"))) == 0


# D10: an organ's field answered "normal" denies its enlargement; "not enlarged" in a cell
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spleen | normal", {"splenomegaly": "negated"}),
        ("Spleen: normal", {"splenomegaly": "negated"}),
        ("Spleen: unremarkable", {"splenomegaly": "negated"}),
        ("Spleen: normal, 11 cm", {"splenomegaly": "negated"}),
        ("Liver | Spleen | Kidneys\nnormal | normal | normal", {"hepatomegaly": "negated", "splenomegaly": "negated"}),
        ("Spleen | not enlarged", {"splenomegaly": "negated"}),
        ("Spleen | normal\nLiver | enlarged", {"splenomegaly": "negated", "hepatomegaly": "present"}),
        ("Селезенка: норма", {"splenomegaly": "negated"}),
        ("Селезенка | не увеличена", {"splenomegaly": "negated"}),
        ("Печень: без особенностей", {"hepatomegaly": "negated"}),
        ("Көкбауыр: қалыпты", {"splenomegaly": "negated"}),
        ("Печень | Селезенка\nне увеличена | увеличена", {"hepatomegaly": "negated", "splenomegaly": "present"}),
        ("Бауыр | Көкбауыр\nқалыпты | ұлғайған", {"hepatomegaly": "negated", "splenomegaly": "present"}),
        # near readings kept: the organ's other features, "normal" without a field
        ("Spleen: no focal lesion", {}),
        ("Spleen: normal echotexture, enlarged at 16 cm", {}),
        # probe105 D15: "normal" ending the organ's clause in prose is read too
        (
            "Liver normal, spleen and lymph nodes are enlarged.",
            {"hepatomegaly": "negated", "splenomegaly": "present", "lymphadenopathy": "present"},
        ),
    ],
)
def test_an_organ_field_answered_normal_denies_its_enlargement(mapping, text, expected):
    assert _read(mapping, text) == expected
