# SPDX-License-Identifier: Apache-2.0
"""fix141c: denials read as findings (the worst error for decision support).

- C1: two blanks or more (spaces, tabs, a no-break space) inside a phrase on one line cut it - "Ascites:  not  seen.",
  "Negative  for splenomegaly." read present, as a line break inside a phrase did before fix140a A3: spaCy makes any
  blank but one space a token of its own. A candidate sentence's blanks between two words of a line are one space
  now (layout.inner_blanks), in every format; the layout rewrites have read aligned columns before.

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
