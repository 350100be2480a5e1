# SPDX-License-Identifier: Apache-2.0
"""fix139c: clinical-text items of the forty-fourth session (README "Known limitations", probe138 G3, G11's rest).

- C1: a paragraph break after a word no clause ends with ("No evidence of⏎⏎splenomegaly.") cut the denial from its
  finding - read present, in plain text, HTML and RTF notes and in a report's conclusion; a lead-in without its
  colon ("No evidence of⏎- ascites") did not head its list; the immunofixation reader's Russian «Нет данных
  за⏎IgA лямбда» read the band.
- C2: a contracted closing denial with a time word after it ("Splenomegaly hasn't been identified since.", "…
  haven't been seen since 2021", "… to date") stayed present - the denial had to end its clause; it is a denial now,
  as the uncontracted "has not been identified since" always was. "Ascites hasn't recurred since." (there before,
  gone now) is historical, as "has not recurred" is: criteria.md §3.3 counts a finding present at any time.
- C3 (probe126 G11's rest): an organ's earlier normal size before today's enlargement was lost after a semicolon or
  a dash, as an aside ("The spleen, previously normal, is now enlarged."), as "unremarkable" or «норма»; the reverse
  ("Spleen: previously enlarged, now normal.", «Селезёнка: ранее увеличена, сейчас не увеличена.») was not read at
  all. Today's size is normal, but criteria.md §3.3 counts a finding present at any time up to the evaluation date:
  the enlargement is historical (`indeterminate`, a clinician dates it), never absent.
- C4 (probe125 G5's rest): "Pleural effusion still not seen on the left; on the right a moderate effusion." denied
  the effusion - the grade on the other side, in the next clause, is the finding; a denial of both sides stays.

Controls beside each: headings, real lists and answered fields keep their reading."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from poems_fhir.criteria.model import State
from poems_fhir.mapping.extract import extract
from poems_fhir.mapping.ife import Band, parse_ife
from poems_fhir.mapping.rules import load_mapping
from tests.conftest import make_record
from tests.mapping.test_documents import document

CT = ("18748-4", "Diagnostic imaging study")


def states(mapping, resource: dict[str, Any]) -> dict[str, set[State]]:
    out: dict[str, set[State]] = {}
    for f in extract(make_record(resource), mapping).findings:
        out.setdefault(f.topic, set()).add(f.state)
    return out


def note(text: str, content_type: str = "text/plain") -> dict[str, Any]:
    """A CT report as a DocumentReference whose one attachment holds ``text``."""
    return document(text, loinc=CT, type_text="CT abdomen pelvis", content_type=content_type)


def report(conclusion: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "ct",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "24627-2"}], "text": "CT chest"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-01-15",
        "conclusion": conclusion,
    }


def rtf(body: str) -> dict[str, Any]:
    doc = note("")
    data = base64.b64encode((r"{\rtf1\ansi\ansicpg1251{\fonttbl{\f0 Arial;}}\f0 " + body + "}").encode("latin-1"))
    doc["content"][0]["attachment"] = {"contentType": "text/rtf", "data": data.decode()}
    return doc


ORGANS, OVERLOAD = "organomegaly", "extravascular_volume_overload"

# ---------------------------------------------------------------- C1: a paragraph break inside a denial


@pytest.mark.parametrize(
    "text",
    [
        "IMPRESSION:\n\nNo evidence of\n\nsplenomegaly.",  # probe138 G3
        "No evidence of\n\nSplenomegaly.",
        "No evidence of\r\n\r\nsplenomegaly.",
        "No evidence of  \n \n\n  splenomegaly.",
        "Negative for\n\nsplenomegaly or lymphadenopathy.",
        "There is no\n\nsplenomegaly.",
        "Spleen is not\n\nenlarged.",
        "Splenomegaly not\n\nseen.",
        "Без признаков\n\nспленомегалии.",
        "Нет признаков\n\nспленомегалии.",
        "Нет данных за\n\nспленомегалию.",
        "Спленомегалии не\n\nвыявлено.",
        "Асцита и\n\nспленомегалии нет.",
        "Көкбауыр ұлғаюы және\n\nасцит жоқ.",
        "No evidence of\n- splenomegaly\n- lymphadenopathy",  # a lead-in without its colon heads its list
        "No evidence of\n\n- splenomegaly\n- lymphadenopathy",
        "No evidence of\n\nhepatomegaly\n\nsplenomegaly",  # paragraphs of bare names under the lead-in
    ],
)
def test_a_paragraph_break_after_an_open_word_keeps_the_denial_with_its_finding(mapping, text: str) -> None:
    found = states(mapping, note(text))
    assert found.get(ORGANS) == {State.ABSENT}


@pytest.mark.parametrize(
    "resource",
    [
        note("<p>IMPRESSION:</p><p>No evidence of</p><p>splenomegaly.</p>", "text/html"),
        note("<p>No evidence of</p><p>hepatomegaly</p><p>splenomegaly</p>", "text/html"),
        rtf(r"IMPRESSION:\par No evidence of\par splenomegaly.\par"),
        rtf(
            r"\'cd\'e5\'f2 \'e4\'e0\'ed\'ed\'fb\'f5 \'e7\'e0\par \'f1\'ef\'eb\'e5\'ed\'ee\'ec\'e5\'e3\'e0\'eb\'e8\'fe.\par"
        ),
        report("No evidence of\n\nsplenomegaly."),
    ],
    ids=["html", "html-paragraph-list", "rtf", "rtf-ru", "conclusion"],
)
def test_other_formats_and_a_conclusion_keep_the_denial_too(mapping, resource: dict[str, Any]) -> None:
    assert states(mapping, resource).get(ORGANS) == {State.ABSENT}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Impression:\n\nSplenomegaly.", {ORGANS: {State.PRESENT}}),  # a heading stays apart
        ("Findings:\n\nSplenomegaly.\n\nNo ascites.", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        ("No ascites\n\nSplenomegaly 16 cm", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        ("No ascites.\n\nSplenomegaly 16 cm.", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        ("Ascites: no\n\nSplenomegaly 16 cm", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        ("Ascites - no\n\nSplenomegaly 16 cm", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        ("Ascites\tno\n\nSplenomegaly\tyes", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        ("Асцита нет\n\nСпленомегалия 16 см.", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        ("Асцит: нет признаков\n\nСпленомегалия 16 см.", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        ("Асцит: нет данных\n\nСпленомегалия 16 см.", {ORGANS: {State.PRESENT}}),  # «нет данных»: no data
        ("No evidence of\n\nascites.\n\nSplenomegaly.", {ORGANS: {State.PRESENT}, OVERLOAD: {State.ABSENT}}),
        (
            "Sclerotic lesion in segment 2a\n\nSplenomegaly.",
            {ORGANS: {State.PRESENT}, "sclerotic_bone_lesions": {State.PRESENT}},
        ),
    ],
)
def test_a_paragraph_that_ends_its_phrase_still_ends_its_sentence(mapping, text: str, expected) -> None:
    assert states(mapping, note(text)) == expected


def test_the_joined_break_is_one_line_break_at_the_same_length() -> None:
    from poems_fhir.mapping.text.layout import open_paragraph_ends

    text = "No evidence of\n\n\nsplenomegaly.\n\nAscites: no\n\nHepatomegaly."
    joined = open_paragraph_ends(text, lambda words: "ascites" in words.lower())
    assert joined == "No evidence of\n  splenomegaly.\n\nAscites: no\n\nHepatomegaly."
    assert len(joined) == len(text)


IGA_L = Band("IgA", "lambda")


@pytest.mark.parametrize(
    "text", ["Нет данных за\nIgA лямбда.", "Нет данных за\n\nIgA лямбда.", "Без признаков\nIgA лямбда."]
)
def test_the_immunofixation_reader_keeps_a_russian_denial_across_a_line_break(text: str) -> None:
    result = parse_ife(text)
    assert result.negative and IGA_L not in result.bands


@pytest.mark.parametrize("text", ["IgA лямбда.", "Сыворотка: нет данных\nМоча: IgA лямбда."])
def test_a_band_after_a_line_that_ends_its_phrase_stays(text: str) -> None:
    assert IGA_L in parse_ife(text).bands


# ---------------------------------------------------------------- C2: a time word after a contracted closing denial

MAPPING = load_mapping()


def labels(text: str) -> list[tuple[str, str]]:
    return sorted({(a.target, a.label) for a in MAPPING.text.assert_texts([text])[0]})


@pytest.mark.parametrize(
    "text, target",
    [
        ("Splenomegaly hasn't been identified since.", "splenomegaly"),
        ("Sclerotic lesions haven't been seen since 2021.", "sclerotic_bone_lesion"),
        ("Splenomegaly hasn\u2019t been identified since.", "splenomegaly"),  # typographic apostrophe
        ("Splenomegaly hasn't been seen since then.", "splenomegaly"),
        ("Splenomegaly hasn't been seen ever since.", "splenomegaly"),
        ("Splenomegaly hasn't been seen since the last visit.", "splenomegaly"),
        ("Splenomegaly wasn't seen since March 2021.", "splenomegaly"),
        ("Sclerotic lesions haven't been seen since 03/2021.", "sclerotic_bone_lesion"),
        ("Sclerotic lesions haven't been seen since 12.03.2021.", "sclerotic_bone_lesion"),
        ("Splenomegaly wasn't seen since 2021 on CT.", "splenomegaly"),
        ("Splenomegaly hasn't been identified to date.", "splenomegaly"),
        ("Ascites hasn't been seen so far.", "ascites"),
        ("Ascites hasn't been seen thus far.", "ascites"),
        ("Ascites hasn't been seen as yet.", "ascites"),
        ("Ascites hasn't been seen up to now.", "ascites"),
        ("Ascites isn't seen to date.", "ascites"),
    ],
)
def test_a_time_word_after_a_contracted_denial_keeps_the_denial(text: str, target: str) -> None:
    assert labels(text) == [(target, "negated")]


@pytest.mark.parametrize(
    "text",
    [
        "Splenomegaly has not been identified since.",
        "Sclerotic lesions have not been seen since 2021.",
        "Splenomegaly has not been identified to date.",
        "Ascites hasn't been seen.",
    ],
)
def test_the_uncontracted_and_bare_denials_read_the_same(text: str) -> None:
    # controls: what the contracted forms now match
    assert [label for _, label in labels(text)] == ["negated"]


@pytest.mark.parametrize(
    "text, expected",
    [
        # "until" is no time up to today: seen from then on (a denial of the time before)
        ("Splenomegaly wasn't seen until 2021.", [("splenomegaly", "present")]),
        ("Splenomegaly hasn't been seen until now.", [("splenomegaly", "present")]),
        # a contrast or another finding after the time ends the denial's clause
        ("Splenomegaly hasn't been seen since 2021 but is now present.", [("splenomegaly", "present")]),
        (
            "Ascites hasn't been seen since 2021, splenomegaly 16 cm.",
            [("ascites", "negated"), ("splenomegaly", "present")],
        ),
        (
            "Ascites hasn't been seen since, but pleural effusion is present.",
            [("ascites", "negated"), ("pleural_effusion", "present")],
        ),
    ],
)
def test_a_time_word_does_not_carry_the_denial_further(text: str, expected) -> None:
    assert labels(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ascites hasn't recurred since.",
        "Ascites hasn't recurred.",
        "Ascites hasn\u2019t recurred since the transplant.",
        "Ascites didn't recur.",
        "Pleural effusion hasn't returned.",
        "Ascites, which hasn't recurred.",
        "Ascites has not recurred since.",  # control: read so before
    ],
)
def test_a_contracted_not_recurred_is_there_before_gone_now(text: str) -> None:
    # criteria.md §3.3: a finding present at any time counts - "not recurred" is never today's absence alone
    assert [label for _, label in labels(text)] == ["historical"]


def test_not_recurred_through_a_note_is_indeterminate_never_absent(mapping) -> None:
    assert states(mapping, note("Ascites hasn't recurred since.")).get(OVERLOAD) == {State.INDETERMINATE}


# ---------------------------------------------------------------- C3: an earlier size, today's after it


@pytest.mark.parametrize(
    "text, target",
    [
        ("Spleen: previously normal, now enlarged.", "splenomegaly"),  # control: read since fix132a
        ("Селезёнка: ранее не увеличена, сейчас увеличена", "splenomegaly"),  # control
        ("Spleen: previously normal; now enlarged.", "splenomegaly"),
        ("Spleen: previously normal - now enlarged.", "splenomegaly"),
        ("The spleen, previously normal, is now enlarged.", "splenomegaly"),
        ("Liver, previously normal, is now enlarged to 19 cm.", "hepatomegaly"),
        ("Spleen: previously unremarkable, now enlarged.", "splenomegaly"),
        ("Селезёнка: ранее норма, сейчас увеличена.", "splenomegaly"),
        ("Көкбауыр: бұрын қалыпты; қазір ұлғайған.", "splenomegaly"),
    ],
)
def test_an_earlier_normal_size_before_todays_enlargement_is_todays_finding(text: str, target: str) -> None:
    assert labels(text) == [(target, "present")]


@pytest.mark.parametrize(
    "text, target",
    [
        ("Spleen: enlarged previously, now normal", "splenomegaly"),  # control: read so before
        ("Spleen: previously enlarged, now normal.", "splenomegaly"),
        ("Spleen was previously enlarged, now normal.", "splenomegaly"),
        ("Spleen: previously mildly enlarged, now normal in size.", "splenomegaly"),
        ("Spleen: previously enlarged, now not enlarged.", "splenomegaly"),
        ("Spleen: previously enlarged, now unremarkable.", "splenomegaly"),
        ("Liver: previously enlarged, now of normal size.", "hepatomegaly"),
        ("Селезёнка: ранее увеличена, сейчас не увеличена.", "splenomegaly"),
        ("Селезёнка: ранее увеличена, сейчас нормальных размеров.", "splenomegaly"),
        ("Печень: ранее увеличена, сейчас в норме.", "hepatomegaly"),
        ("Көкбауыр: бұрын ұлғайған, қазір қалыпты.", "splenomegaly"),
    ],
)
def test_an_earlier_enlargement_before_todays_normal_size_is_historical(text: str, target: str) -> None:
    assert labels(text) == [(target, "historical")]


def test_an_earlier_enlargement_is_indeterminate_for_the_criterion_never_absent(mapping) -> None:
    # criteria.md §3.3: present at any time counts; the earlier time is undated - a clinician decides
    assert states(mapping, note("Spleen: previously enlarged, now normal.")) == {ORGANS: {State.INDETERMINATE}}


@pytest.mark.parametrize(
    "text, expected",
    [
        # an earlier size alone, or without today's normal size, says nothing of today: not read
        ("Spleen: previously enlarged.", []),
        ("Spleen: previously not enlarged.", []),
        ("Селезёнка: ранее не увеличена.", []),
        ("Spleen: previously enlarged, now 11 cm.", []),
        ("Spleen: previously enlarged; now normal.", []),
        # normal then and now: today's denial
        ("Spleen: previously not enlarged, now not enlarged.", [("splenomegaly", "negated")]),
        ("Spleen: now not enlarged.", [("splenomegaly", "negated")]),
        ("Spleen: still enlarged.", [("splenomegaly", "present")]),
        ("Spleen enlarged previously and now.", [("splenomegaly", "present")]),
    ],
)
def test_other_earlier_sizes_keep_their_reading(text: str, expected) -> None:
    assert labels(text) == expected


def test_only_an_asides_commas_are_blanked() -> None:
    from poems_fhir.mapping.text.layout import earlier_normal_size

    aside = "The spleen, previously normal, is now enlarged."
    assert earlier_normal_size(aside) == "The spleen" + " " * 28 + "enlarged."
    # the comma after a denial parts two clauses: it stays
    listed = "No ascites, previously normal, now enlarged spleen."
    assert earlier_normal_size(listed) == "No ascites," + " " * 24 + "enlarged spleen."


# ---------------------------------------------------------------- C4: a grade on the other side after a side's denial


@pytest.mark.parametrize(
    "text",
    [
        "Pleural effusion still not seen on the left; on the right a moderate effusion.",
        "No pleural effusion on the left; on the right a moderate effusion.",
        "No pleural effusion on the left, a small effusion on the right.",
        "Pleural effusion not seen on the left; a moderate effusion on the right.",
        "No pleural effusion on the left; on the right a small amount of fluid.",
        "No pleural effusion on the left; on the right 200 ml.",
        "Pleural effusion still not seen on the left; on the right a moderate effusion, previously small.",
        "Плевральный выпот слева по-прежнему не определяется; справа умеренный выпот.",
        "Плевральный выпот слева не определяется, справа — умеренный.",
        "Pleural effusion not seen on the left; moderate on the right.",  # control: read so before
    ],
)
def test_a_grade_on_the_other_side_is_the_finding(text: str) -> None:
    assert labels(text) == [("pleural_effusion", "present")]


@pytest.mark.parametrize(
    "text",
    [
        "No pleural effusion on the left or on the right.",
        "No pleural effusion on the left; on the right not assessed.",
        "No pleural effusion on the left; on the right no effusion either.",
        "No pleural effusion on the left; on the left a small effusion.",  # the same side: no other side
        "No pleural effusion on the left; on the right a moderate pneumothorax.",  # another finding
        "Плевральный выпот не определяется ни слева, ни справа.",
    ],
)
def test_a_denial_of_both_sides_or_without_a_grade_stays(text: str) -> None:
    assert labels(text) == [("pleural_effusion", "negated")]


def test_a_grade_on_the_other_side_through_a_note(mapping) -> None:
    text = "CHEST: Pleural effusion still not seen on the left; on the right a moderate effusion."
    assert states(mapping, note(text)).get(OVERLOAD) == {State.PRESENT}
