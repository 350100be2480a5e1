# SPDX-License-Identifier: Apache-2.0
"""fix141c: denials read as findings (the worst error for decision support).

- C1: two blanks or more (spaces, tabs, a no-break space) inside a phrase on one line cut it - "Ascites:  not  seen.",
  "Negative  for splenomegaly." read present, as a line break inside a phrase did before fix140a A3: spaCy makes any
  blank but one space a token of its own. A candidate sentence's blanks between two words of a line are one space
  now (layout.inner_blanks), in every format; the layout rewrites have read aligned columns before.
- C2: the Russian past denial «не было» after its finding in the genitive («Спленомегалии не было.», «Асцита не
  было.», «Склеротических очагов не было») read present; it is a denial now, as the past «не выявлялась» is. An
  absence in a year or in the past before today's presence («в 2021 г. не было, сейчас есть») stays today's finding.

Controls beside each: columns the layout reads (fields, measured rows, cells ending at a tab) keep their reading."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.text.findings import _position
from tests.mapping.test_fix139c_text import note, states
from tests.mapping.test_fix140a_text import formats, labels

ORGANS, OVERLOAD = "organomegaly", "extravascular_volume_overload"

# ---------------------------------------------------------------- C1: a run of blanks inside a phrase

FORMS = ["text", "conclusion", "pdf", "html", "rtf"]


@pytest.mark.parametrize("form", range(5), ids=FORMS)
def test_blanks_inside_a_closing_denial_keep_the_denial(mapping, form: int) -> None:
    assert states(mapping, formats("Ascites:  not  seen.")[form]).get(OVERLOAD) == {State.ABSENT}


@pytest.mark.parametrize("form", range(5), ids=FORMS)
def test_blanks_inside_a_leading_denial_keep_the_denial(mapping, form: int) -> None:
    assert states(mapping, formats("Negative  for splenomegaly.")[form]).get(ORGANS) == {State.ABSENT}


def test_no_break_spaces_inside_a_denial_in_html_keep_the_denial(mapping) -> None:
    html = note("<p>Ascites:&nbsp;&nbsp;not&nbsp;seen.</p>", "text/html")
    assert states(mapping, html).get(OVERLOAD) == {State.ABSENT}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ascites:  not  seen.", [("ascites", "negated")]),  # C1
        ("Ascites: not\u00a0seen.", [("ascites", "negated")]),  # one no-break space
        ("Ascites: not\tseen.", [("ascites", "negated")]),
        ("Ascites: not \t seen.", [("ascites", "negated")]),
        ("Negative  for splenomegaly.", [("splenomegaly", "negated")]),
        ("Splenomegaly:  not  identified.", [("splenomegaly", "negated")]),
        ("Splenomegaly  cannot  be  excluded.", [("splenomegaly", "possible")]),
        ("Нет  данных  за  спленомегалию.", [("splenomegaly", "negated")]),
        ("Асцит:  не  выявлен.", [("ascites", "negated")]),
        ("Ascites:\u2003not seen.", [("ascites", "negated")]),  # a typographic (em) space
    ],
)
def test_a_run_of_blanks_inside_a_line_reads_as_one_space(text: str, expected) -> None:
    assert labels(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # controls: read so before - a field, a measured row, cells ending at a tab, a stated finding
        ("No  evidence of splenomegaly.", [("splenomegaly", "negated")]),
        ("Sclerotic lesions    no", [("sclerotic_bone_lesion", "negated")]),
        ("Sclerotic lesions  no  Ascites  yes", [("ascites", "present"), ("sclerotic_bone_lesion", "negated")]),
        ("Liver    normal    Spleen    enlarged", [("hepatomegaly", "negated"), ("splenomegaly", "present")]),
        ("Spleen    16 cm    enlarged", [("splenomegaly", "present")]),
        ("Spleen\t16 cm\tenlarged", [("splenomegaly", "present")]),
        ("No ascites\tSplenomegaly 16 cm", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Отеки    нет    Асцит    есть", [("ascites", "present"), ("edema", "negated")]),
        (
            "Ascites  not  seen  on  CT;  small  pleural  effusion.",
            [("ascites", "negated"), ("pleural_effusion", "present")],
        ),
        (
            "Finding    Present    Absent\nAscites        X\nSplenomegaly    X",
            [("ascites", "negated"), ("splenomegaly", "present")],
        ),
    ],
)
def test_columns_the_layout_reads_keep_their_reading(text: str, expected) -> None:
    assert labels(text) == expected


def test_only_blanks_between_two_words_of_a_line_become_one_space() -> None:
    from poems_fhir.mapping.text.layout import inner_blanks

    assert inner_blanks("Ascites:  not \t seen.") == "Ascites: not seen."
    assert inner_blanks("Ascites: not\u00a0seen.") == "Ascites: not seen."
    kept = "Not seen:\n    ascites\npleural effusion  \nSplenomegaly: no"
    assert inner_blanks(kept) == kept  # a line's indent and trailing blanks, single spaces


def test_a_sentence_read_with_its_blanks_as_one_space_is_found_in_its_text() -> None:
    # where a finding's sentence stands orders a report's statement and its later revision
    text = "Findings: splenomegaly.\nImpression:  no  splenomegaly  seen."
    assert _position(text, "Impression: no splenomegaly seen.") == text.index("Impression")
    assert _position(text, "Findings: splenomegaly.") == 0
    assert _position(text, "Impression: ascites.") == -1


# ---------------------------------------------------------------- C2: the past «не было»


@pytest.mark.parametrize(
    "text, target",
    [
        ("Спленомегалии не было.", "splenomegaly"),  # C2
        ("Асцита не было.", "ascites"),
        ("Склеротических очагов не было.", "sclerotic_bone_lesion"),
        ("Спленомегалии не было в 2021 г. и с тех пор не выявлялась.", "splenomegaly"),
        ("Не было спленомегалии.", "splenomegaly"),  # before its genitive
        ("Анамнез: не было спленомегалии.", "splenomegaly"),
        ("Спленомегалия: не было.", "splenomegaly"),  # a field's answer
        ("Асцита никогда не было.", "ascites"),
        ("Асцита не было никогда.", "ascites"),
    ],
)
def test_the_past_ne_bylo_after_its_finding_denies_it(text: str, target: str) -> None:
    assert labels(text) == [(target, "negated")]


def test_a_list_before_the_past_ne_bylo_is_denied() -> None:
    assert labels("Асцита, плеврального выпота не было.") == [("ascites", "negated"), ("pleural_effusion", "negated")]
    assert labels("Спленомегалии и асцита не было.") == [("ascites", "negated"), ("splenomegaly", "negated")]


@pytest.mark.parametrize("form", range(4), ids=FORMS[:4])
def test_the_past_ne_bylo_denies_the_criterion_part(mapping, form: int) -> None:
    assert states(mapping, formats("Спленомегалии не было.")[form]).get(ORGANS) == {State.ABSENT}


@pytest.mark.parametrize(
    "text, expected",
    [
        # an earlier time's absence before today's presence is today's finding (fix140a A1's «ранее нет» too)
        ("Спленомегалии в 2021 г. не было, сейчас есть.", [("splenomegaly", "present")]),
        ("Спленомегалии в 2021 году не было, сейчас есть.", [("splenomegaly", "present")]),
        ("Спленомегалии не было в 2021 г., сейчас есть.", [("splenomegaly", "present")]),
        ("Спленомегалия в 2021 г. не выявлялась, сейчас есть.", [("splenomegaly", "present")]),  # read absent before
        ("Асцита не было, сейчас есть.", [("ascites", "present")]),
        ("Асцита не было, сейчас умеренный.", [("ascites", "present")]),
        ("Асцит болған жоқ, қазір бар.", [("ascites", "present")]),
        ("Спленомегалии 2021 жылы болған жоқ, қазір бар.", [("splenomegaly", "present")]),
    ],
)
def test_an_earlier_absence_before_todays_presence_is_todays_finding(text: str, expected) -> None:
    assert labels(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # controls: read so before, or the denial stays its own finding's
        ("Спленомегалия: ранее нет, сейчас есть.", [("splenomegaly", "present")]),  # fix140a A1
        ("Асцита нет и не было.", [("ascites", "negated")]),
        ("Асцит купирован, рецидивов не было.", [("ascites", "historical")]),
        ("Спленомегалии не было бы без терапии.", [("splenomegaly", "present")]),  # a conditional
        ("Спленомегалия была в 2021 г.", [("splenomegaly", "present")]),
        ("Асцита не было, сейчас нет.", [("ascites", "negated")]),
        ("Асцита не было, сейчас выявлена спленомегалия.", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Асцита не было, выявлена спленомегалия.", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Спленомегалия выявлена, асцита не было.", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Спленомегалия была, асцита не было.", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Спленомегалия 16 см, не было асцита.", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Гепатомегалия, спленомегалии не было.", [("hepatomegaly", "present"), ("splenomegaly", "negated")]),
        ("Спленомегалия болған жоқ.", [("splenomegaly", "negated")]),
    ],
)
def test_near_wordings_keep_their_reading(text: str, expected) -> None:
    assert labels(text) == expected
