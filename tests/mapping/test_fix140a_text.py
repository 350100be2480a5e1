# SPDX-License-Identifier: Apache-2.0
"""fix140a: the clinical-text items the forty-fourth session left (README "Known limitations", *Text* and part of *PDF*).

- A1: a finding stated and then "not seen since" ("Splenomegaly noted in 2021 and not seen since.") read absent - the
  closing denial reached back over the statement; it is historical now, as "previously enlarged, now normal" (fix139c
  C3) and "and no longer seen" read: criteria.md §3.3 counts a finding present at any time, a clinician dates it.
  "Splenomegaly was not seen until 2021." (seen from then on) read absent; «Спленомегалия: ранее нет, сейчас есть.»
  (none before, there now) read absent.
- A2: "No ascites, enlarged spleen." denied the spleen: a verdict word after the comma states its item, as a grade word
  there does - unless a coordinator closes the denied list, or the denial heads it with a colon.
- A3: a line break inside a phrase ("Ascites: not⏎seen.", "…in L2;⏎this statement is withdrawn.") cut it: the finding
  read present; a word hyphenated at a line end ("as-⏎cites") was not read, in any format.

Controls beside each: bare denials, denied lists, list lines and compounds keep their reading."""

from __future__ import annotations

from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.mapping.rules import load_mapping
from tests.mapping.pdf_files import pdf
from tests.mapping.test_fix139c_text import note, report, rtf, states
from tests.mapping.test_probe139_pdf import ct_report

MAPPING = load_mapping()
ORGANS, OVERLOAD, BONE = "organomegaly", "extravascular_volume_overload", "sclerotic_bone_lesions"


def labels(text: str) -> list[tuple[str, str]]:
    return sorted({(a.target, a.label) for a in MAPPING.text.assert_texts([text])[0]})


# ---------------------------------------------------------------- A1: stated, then not seen since


@pytest.mark.parametrize(
    "text, target",
    [
        ("Splenomegaly noted in 2021 and not seen since.", "splenomegaly"),  # A1
        ("Splenomegaly noted in 2021 and has not been seen since.", "splenomegaly"),  # A1
        ("Splenomegaly was noted in 2021 and hasn't been seen since.", "splenomegaly"),  # contracted: read present
        ("Splenomegaly was noted in 2021 and hasn\u2019t been seen since.", "splenomegaly"),
        ("Splenomegaly noted in 2021, and not seen since then.", "splenomegaly"),
        ("Splenomegaly noted in 2021 but not seen since.", "splenomegaly"),
        ("Splenomegaly noted in 2021 and never seen since.", "splenomegaly"),
        ("Splenomegaly noted in 2021 and not identified since 2022.", "splenomegaly"),
        ("Splenomegaly noted in 2021 and not seen again.", "splenomegaly"),
        ("Splenomegaly noted in 2021, not seen since.", "splenomegaly"),  # a stating word before the comma
        ("Splenomegaly noted in 2021; not seen since.", "splenomegaly"),
        ("Ascites was drained in 2021 and has not been seen since.", "ascites"),
        ("Sclerotic lesion in L3 noted in 2020 and not seen since.", "sclerotic_bone_lesion"),
        ("Спленомегалия отмечалась в 2021 г. и с тех пор не выявлялась.", "splenomegaly"),
        ("Спленомегалия выявлена в 2021 г., с тех пор не определяется.", "splenomegaly"),
        ("Спленомегалия 2021 жылы анықталған, содан бері анықталмады.", "splenomegaly"),
    ],
)
def test_a_finding_stated_then_not_seen_since_is_historical(text: str, target: str) -> None:
    assert labels(text) == [(target, "historical")]


def test_stated_then_not_seen_since_is_indeterminate_for_the_criterion_never_absent(mapping) -> None:
    # criteria.md §3.3: present at any time counts; the earlier time is a clinician's to date (as fix139c C3)
    assert states(mapping, note("Splenomegaly noted in 2021 and not seen since.")) == {ORGANS: {State.INDETERMINATE}}


@pytest.mark.parametrize(
    "text, expected",
    [
        # a denial alone, "since" or not, stays one (fix139c C2)
        ("Splenomegaly has not been seen since.", [("splenomegaly", "negated")]),
        ("Splenomegaly hasn't been identified since 2021.", [("splenomegaly", "negated")]),
        ("Спленомегалия с тех пор не выявлялась.", [("splenomegaly", "negated")]),
        # nothing stated before a bare comma: the finding's own denial
        ("Ascites, not seen since 2021.", [("ascites", "negated")]),
        # denied or doubted then, not seen since: a denial
        ("No splenomegaly in 2021 and not seen since.", [("splenomegaly", "negated")]),
        ("Splenomegaly was not present in 2021 and has not been seen since.", [("splenomegaly", "negated")]),
        ("Splenomegaly was suspected in 2021 and has not been seen since.", [("splenomegaly", "negated")]),
        # another finding's clause between: only that finding's history
        (
            "Splenomegaly 16 cm; ascites noted in 2021 and not seen since.",
            [("ascites", "historical"), ("splenomegaly", "present")],
        ),
        ("Splenomegaly noted in 2021 and no longer seen.", [("splenomegaly", "historical")]),  # read so before
    ],
)
def test_other_denials_with_since_keep_their_reading(text: str, expected) -> None:
    assert labels(text) == expected


@pytest.mark.parametrize(
    "text, target",
    [
        ("Splenomegaly was not seen until 2021.", "splenomegaly"),  # A1
        ("Sclerotic lesions were not seen until the 2021 CT.", "sclerotic_bone_lesion"),
        ("Splenomegaly has not been seen until now.", "splenomegaly"),  # as "hasn't been seen until now" (fix139c)
        ("Splenomegaly wasn't seen until 2021.", "splenomegaly"),  # control: read so since fix139c
    ],
)
def test_not_seen_until_a_time_is_seen_from_then_on(text: str, target: str) -> None:
    assert labels(text) == [(target, "present")]


@pytest.mark.parametrize(
    "text", ["Splenomegaly was not seen.", "Splenomegaly was not seen on CT.", "Splenomegaly has not been seen since."]
)
def test_a_denial_without_until_stays_one(text: str) -> None:
    assert labels(text) == [("splenomegaly", "negated")]


@pytest.mark.parametrize(
    "text, target",
    [
        ("Спленомегалия: ранее нет, сейчас есть.", "splenomegaly"),  # A1
        ("Асцит: ранее нет, сейчас умеренный.", "ascites"),
        ("Асцит: нет ранее, сейчас есть.", "ascites"),
        ("Асцита ранее нет, сейчас есть.", "ascites"),
        ("Асцит: ранее не было, сейчас имеется.", "ascites"),  # control: read so before
        ("Splenomegaly: previously absent, now present.", "splenomegaly"),  # control
        ("Спленомегалия: бұрын жоқ, қазір бар.", "splenomegaly"),  # control
    ],
)
def test_an_earlier_absence_before_todays_presence_is_todays_finding(text: str, target: str) -> None:
    assert labels(text) == [(target, "present")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Спленомегалия: ранее нет, сейчас нет.", [("splenomegaly", "negated")]),
        ("Спленомегалия: ранее есть, сейчас нет.", [("splenomegaly", "historical")]),
        ("Ascites: previously present, now absent.", [("ascites", "historical")]),
    ],
)
def test_other_earlier_and_todays_verdicts_keep_their_reading(text: str, expected) -> None:
    assert labels(text) == expected


def test_the_earlier_absence_is_blanked_at_the_same_length() -> None:
    from poems_fhir.mapping.text.layout import earlier_absence

    text = "Спленомегалия: ранее нет, сейчас есть. Асцит: ранее нет, сейчас нет."
    blanked = earlier_absence(text)
    assert blanked == "Спленомегалия:" + " " * len(" ранее нет, сейчас ") + "есть. Асцит: ранее нет, сейчас нет."
    assert len(blanked) == len(text)


def test_an_earlier_absence_through_a_note_is_present(mapping) -> None:
    assert states(mapping, note("Спленомегалия: ранее нет, сейчас есть.")) == {ORGANS: {State.PRESENT}}


# ---------------------------------------------------------------- A2: a verdict word after the comma


@pytest.mark.parametrize(
    "text, expected",
    [
        ("No ascites, enlarged spleen.", [("ascites", "negated"), ("splenomegaly", "present")]),  # A2
        ("No ascites, an enlarged spleen 16 cm.", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("No lymphadenopathy, palpable spleen.", [("lymphadenopathy", "negated"), ("splenomegaly", "present")]),
        ("Without ascites, enlarged spleen.", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("No evidence of ascites, enlarged liver.", [("ascites", "negated"), ("hepatomegaly", "present")]),
        ("No ascites, swollen optic discs.", [("ascites", "negated"), ("papilledema", "present")]),
        ("No ascites, enlarged lymph nodes in the axilla.", [("ascites", "negated"), ("lymphadenopathy", "present")]),
        (
            "No ascites, enlarged spleen, no pleural effusion or oedema.",  # the later clause's own list
            [("ascites", "negated"), ("pleural_effusion", "negated"), ("splenomegaly", "present")],
        ),
    ],
)
def test_a_verdict_word_after_the_comma_states_its_item(text: str, expected) -> None:
    assert labels(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("No ascites, effusion or oedema.", [("ascites", "negated")]),  # A2's control (bare "effusion" is no target)
        (
            "No ascites, pleural effusion or peripheral oedema.",
            [("ascites", "negated"), ("edema", "negated"), ("pleural_effusion", "negated")],
        ),
        ("No ascites, no enlarged spleen.", [("ascites", "negated"), ("splenomegaly", "negated")]),  # A2's control
        # a coordinator closes the denied list after the verdict word
        (
            "No ascites, enlarged spleen or liver.",
            [("ascites", "negated"), ("hepatomegaly", "negated"), ("splenomegaly", "negated")],
        ),
        (
            "No ascites, enlarged spleen and liver.",
            [("ascites", "negated"), ("hepatomegaly", "negated"), ("splenomegaly", "negated")],
        ),
        ("No ascites or enlarged spleen.", [("ascites", "negated"), ("splenomegaly", "negated")]),
        ("No ascites, or enlarged spleen.", [("ascites", "negated"), ("splenomegaly", "negated")]),
        # a denial that heads its list with a colon denies every item
        ("Not seen: ascites, enlarged spleen.", [("ascites", "negated"), ("splenomegaly", "negated")]),
        ("No evidence of: ascites, enlarged lymph nodes.", [("ascites", "negated"), ("lymphadenopathy", "negated")]),
        (
            "The following were not identified: ascites, enlarged lymph nodes.",
            [("ascites", "negated"), ("lymphadenopathy", "negated")],
        ),
        ("No ascites, hepatomegaly.", [("ascites", "negated"), ("hepatomegaly", "negated")]),  # no verdict word
    ],
)
def test_denied_lists_keep_their_denial(text: str, expected) -> None:
    assert labels(text) == expected


def test_a_verdict_item_through_a_note(mapping) -> None:
    found = states(mapping, note("CT: No ascites, enlarged spleen."))
    assert found == {OVERLOAD: {State.ABSENT}, ORGANS: {State.PRESENT}}


# ---------------------------------------------------------------- A3: a line break inside a phrase, a cut word

NOT_SEEN = "Ascites: not\nseen."
WITHDRAWN = "The previous version of this report stated a sclerotic lesion in L2;\nthis statement is withdrawn."


def formats(text: str) -> list[dict[str, Any]]:
    """The text as a plain-text note, a report's conclusion, a PDF (one drawn line a line), HTML (<br>) and RTF
    (\\line)."""
    resources = [
        note(text),
        report(text),
        ct_report(pdf_bytes=pdf(text.split("\n"))),
        note("<p>" + text.replace("\n", "<br>") + "</p>", "text/html"),
    ]
    if text.isascii():
        resources.append(rtf(text.replace("\n", r"\line ")))
    return resources


@pytest.mark.parametrize("form", range(5), ids=["text", "conclusion", "pdf", "html", "rtf"])
def test_a_line_break_inside_a_closing_denial_keeps_the_denial(mapping, form: int) -> None:
    assert states(mapping, formats(NOT_SEEN)[form]).get(OVERLOAD) == {State.ABSENT}


@pytest.mark.parametrize("form", range(5), ids=["text", "conclusion", "pdf", "html", "rtf"])
def test_a_withdrawal_after_a_semicolon_and_a_line_break_withdraws(mapping, form: int) -> None:
    assert states(mapping, formats(WITHDRAWN)[form]).get(BONE) == {State.ABSENT}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ascites: not\r\nseen.", [("ascites", "negated")]),
        ("Ascites: not \n  seen.", [("ascites", "negated")]),
        ("Splenomegaly: not\nidentified.", [("splenomegaly", "negated")]),
        ("Асцит: не\nвыявлен.", [("ascites", "negated")]),
        ("Sclerotic lesion in L2;\nthis was incorrect.", [("sclerotic_bone_lesion", "negated")]),
        ("Sclerotic lesion in L2;\nThis statement is withdrawn.", [("sclerotic_bone_lesion", "negated")]),
        # ", X 16" ends the denial as on one line
        ("No ascites,\nsplenomegaly 16 cm.", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Spleen: previously enlarged,\nnow normal.", [("splenomegaly", "historical")]),
    ],
)
def test_line_breaks_that_part_no_clause_read_as_one_line(text: str, expected) -> None:
    assert labels(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Findings:\nSplenomegaly.\nNo ascites.", [("ascites", "negated"), ("splenomegaly", "present")]),  # A3 control
        ("No ascites\nSplenomegaly 16 cm", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Ascites: no\nSplenomegaly 16 cm", [("ascites", "negated"), ("splenomegaly", "present")]),
        ("Not seen:\nascites\npleural effusion", [("ascites", "negated"), ("pleural_effusion", "negated")]),
        ("No evidence of\nhepatomegaly\nsplenomegaly", [("hepatomegaly", "negated"), ("splenomegaly", "negated")]),
        ("Sclerotic lesions are not\nseen.", [("sclerotic_bone_lesion", "negated")]),  # read so before
    ],
)
def test_list_lines_keep_their_own_polarity(text: str, expected) -> None:
    assert labels(text) == expected


def test_only_line_breaks_that_part_no_clause_are_joined() -> None:
    from poems_fhir.mapping.text.layout import wrapped_line_breaks

    def hits(words: str) -> bool:
        return "ascites" in words.lower()

    assert wrapped_line_breaks("Ascites: not\r\n  seen.", hits) == "Ascites: not seen."
    assert wrapped_line_breaks("lesion in L2;\nthis is withdrawn", hits) == "lesion in L2; this is withdrawn"
    assert wrapped_line_breaks("IgG-\nkappa band", hits) == "IgG-kappa band"  # a compound keeps its hyphen
    assert wrapped_line_breaks("hepato-\nand splenomegaly", hits) == "hepato- and splenomegaly"
    kept = "Splenomegaly.\nNo ascites\nAscites: no\nLiver normal"
    assert wrapped_line_breaks(kept, hits) == kept  # sentence ends, a field's answer, a phrase's end


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Moderate as-\ncites.", [("ascites", "present")]),  # A3
        ("Massive spleno-\nmegaly.", [("splenomegaly", "present")]),  # A3
        ("Умеренный асци-\nт.", [("ascites", "present")]),  # A3
        ("Спленомега-\nлия 16 см.", [("splenomegaly", "present")]),
        ("No as-\ncites.", [("ascites", "negated")]),
        ("Ascites: not en-\ncountered.", [("ascites", "negated")]),
        ("Sple\u00ad\nnomegaly.", [("splenomegaly", "present")]),  # a soft hyphen at the line end
        ("Moderate as-\r\ncites.", [("ascites", "present")]),
    ],
)
def test_a_word_hyphenated_at_a_line_end_is_read_joined(text: str, expected) -> None:
    assert labels(text) == expected


@pytest.mark.parametrize("form", range(5), ids=["text", "conclusion", "pdf", "html", "rtf"])
def test_a_hyphenated_word_in_every_format(mapping, form: int) -> None:
    assert states(mapping, formats("Moderate as-\ncites.")[form]).get(OVERLOAD) == {State.PRESENT}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Monoclonal IgG-\nkappa band.", [("monoclonal_protein", "present")]),  # A3's control
        ("Non-\nenlarged spleen.", [("splenomegaly", "negated")]),  # a compound: "non-enlarged"
        ("Hepato-\nsplenomegaly.", [("hepatosplenomegaly", "present")]),
        ("Гепато-\nи спленомегалия.", [("hepatomegaly", "present"), ("splenomegaly", "present")]),
    ],
)
def test_compounds_at_a_line_end_keep_their_reading(text: str, expected) -> None:
    assert labels(text) == expected


def test_the_immunofixation_reader_reads_a_compound_at_a_line_end() -> None:
    assert Band("IgG", "kappa") in parse_ife("Serum immunofixation: monoclonal IgG-\nkappa band.").bands


def test_only_cut_words_are_joined() -> None:
    from poems_fhir.mapping.text.layout import line_end_hyphens

    assert line_end_hyphens("Moderate as-\ncites.") == "Moderate ascites."
    assert line_end_hyphens("асци-\nт и спленомега-\nлия") == "асцит и спленомегалия"
    assert line_end_hyphens("IgG-\nkappa, CT-\nguided") is None  # an abbreviation before the hyphen
    assert line_end_hyphens("hepato- and\nspleno-\nmegaly") == "hepato- and\nsplenomegaly"
    assert line_end_hyphens("hepato-\nand splenomegaly") is None  # a suspended word before "and"
    assert line_end_hyphens("Splenomegaly.\nNo ascites.") is None
