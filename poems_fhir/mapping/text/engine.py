# SPDX-License-Identifier: Apache-2.0
"""The text engine: sentence split -> target phrases -> ConText modifiers, on blank spaCy pipelines.

One engine per run (it lives on the compiled mapping); the spaCy pipelines are built on first use,
so a run whose texts never pass the prefilter never imports spaCy. Texts go to the pipeline of
their script (Latin or Cyrillic); all texts of a patient are read in one call.
"""

from __future__ import annotations

import logging

import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, Literal

from .layout import ANSWERISH_LINE, EARLIER_TIME, earlier_absence, earlier_normal_size
from .layout import DENIAL_HEADING as _DENIAL_HEADING
from .layout import (
    answered_forms,
    cell_breaks,
    headed_tables,
    inner_blanks,
    line_end_hyphens,
    measured_rows,
    open_end,
    open_paragraph_ends,
    ranged_measures,
    row_borders,
    set_aside_contrast,
    struck_out,
    wrapped_line_breaks,
)
from .spelt_out import SpeltOut
from .lexicon import (
    ContextRuleSpec,
    KeyIndex,
    ListSpec,
    PhraseFilter,
    TextSection,
    _token_regex,
    fold_lookalikes,
    joined_words,
    closing_regex,
    compile_phrase,
    compound_split,
    dehyphen,
    expand_literals,
    list_regex,
    normalise,
    phrase_regex,
    split_compounds,
)

log = logging.getLogger(__name__)


class TextEngineError(Exception):
    """The NLP pipeline failed on a batch of texts; the texts are reported, the run goes on."""


class Modifier(str, Enum):
    NEGATED = "negated"
    POSSIBLE = "possible"
    HYPOTHETICAL = "hypothetical"
    HISTORICAL = "historical"
    FAMILY = "family"


_CATEGORY = {
    "NEGATED_EXISTENCE": Modifier.NEGATED,
    "POSSIBLE_EXISTENCE": Modifier.POSSIBLE,
    "HYPOTHETICAL": Modifier.HYPOTHETICAL,
    "HISTORICAL": Modifier.HISTORICAL,
    "FAMILY": Modifier.FAMILY,
}


@dataclass(frozen=True)
class Assertion:
    """One target mention in one text, with the context that modifies it."""

    target: str  # condition rule id
    text: str  # the words that matched
    sentence: str
    modifiers: frozenset[Modifier] = frozenset()
    triggers: tuple[str, ...] = ()  # the modifier phrases, for the evidence
    #: withdrawn as another patient's or made in error (probe109 D18): nothing of this patient in any text
    not_this_patient: bool = False
    #: stated only as "not seen on the previous CT": new, unless the same text denies it today (probe117 D1)
    new_since_earlier: bool = False

    @property
    def label(self) -> str:
        """present | negated | possible | hypothetical | historical | family (one word, by precedence)."""
        m = self.modifiers
        for name in (Modifier.FAMILY, Modifier.HYPOTHETICAL, Modifier.POSSIBLE, Modifier.NEGATED, Modifier.HISTORICAL):
            if name in m:
                return name.value
        return "present"


#: an exception's lesion in another organ (probe76 D9: "save for a lesion in the lung" made a bone denial possible)
_ELSEWHERE = re.compile(
    r"\b(?:lungs?|pulmonary|liver|hepatic|skin|cutaneous|kidneys?|renal|breasts?|brain|thyroid|spleen|splenic|"
    r"pancrea\w*|adrenal|lymph|nodes?|soft[ -]tissue|muscle|лёгк\w*|легк\w*|легоч\w*|печен\w*|кож\w*|почк\w*|"
    r"почеч\w*|щитовид\w*|мозг\w*|селез[её]н\w*|надпочеч\w*|лимф\w*|узл\w*|молочн\w*|мягк\w*|мышц\w*|"
    r"өкпе\w*|бауыр\w*|тері\w*|бүйрек\w*)\b",
    re.IGNORECASE,
)


#: the ConTextRule metadata key of a rule that introduces a list (ContextRuleSpec.over_list)
_OVER_LIST = "over_list"
#: ... and of a rule that withdraws the entry as another patient's or made in error (ContextRuleSpec.not_this_patient)
_NOT_THIS_PATIENT = "not_this_patient"


@dataclass(frozen=True)
class _Reach:
    """Where a list introduced by an ``over_list`` rule lies (characters of the sentence's doc)."""

    start: int
    end: int
    modifier: Modifier
    trigger: str


def _in_list(assertion: Assertion, ent: Any, reaches: list[_Reach], stated: bool) -> Assertion:
    """A plainly stated target inside a generic list ("It can cause tiredness, … and, less commonly, swelling
    of the ankles", "The differential diagnosis includes CIDP, POEMS syndrome and an anti-MAG neuropathy")
    takes the list's category: the list is said of a drug, a disease or a differential, not of the patient.
    A target the sentence already qualifies (denied, doubted, historical) keeps its own reading.

    The list ends where the patient's own clause begins (probe106 D1, D2: "Warning signs were explained and on
    examination he had ascites", «Побочные эффекты разъяснены, отмечаются отеки»): a target past its list's
    end, or stated in its own clause (``stated``: a word such as "noted", «отмечаются» beside it), loses what
    only a list's trigger gave it - ConText's own scope of that trigger runs past the list's end."""
    own = {r.trigger for r in reaches}
    inside = [r for r in reaches if r.start <= ent.start_char and ent.end_char <= r.end]
    if assertion.modifiers:
        if assertion.triggers and set(assertion.triggers) <= own and (stated or not inside):
            return replace(assertion, modifiers=frozenset(), triggers=())
        return assertion
    if not inside or stated:
        return assertion
    nearest = min(inside, key=lambda r: abs(ent.start_char - r.start))
    return replace(assertion, modifiers=frozenset({nearest.modifier}), triggers=(nearest.trigger,))


#: what ends a clause around a list item: a comma, a semicolon, a colon, a bracket, a sentence's end
_ITEM_CLAUSE = re.compile(r"[,;:()\[\].!?\n]")


def _same_noun(a: str, b: str) -> bool:
    """Two forms of one noun ("lesions"/"lesion", «очагов»/«очага»): equal, or - both of four letters or
    more - sharing all but at most two letters of the shorter (its inflection)."""
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    short = min(len(a), len(b))
    need = max(4, short - 2)
    return short >= 4 and a[:need] == b[:need]


_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z]")


# Sentence ends: full stop/question/exclamation + space, a blank line, or a line that starts a list
# item or a "Heading:"; a hard-wrapped line inside a sentence is not cut - nor a "heading:" in small letters
# after a line that ends in a letter: "Pulmonary⏎oedema: none" is one phrase wrapped (probe100 D1: the
# "oedema: none" line was a field of its own and denied peripheral oedema)
#: the full stop of a year's abbreviation («2021 г.», «2020-2021 гг.», Kazakh «2019 ж.»): before a lower-case word
#: it ends no sentence («очаг, на КТ 2021 г. не определялся»: the denial was cut from its finding, probe132)
_YEAR_STOP = r"(?:(?<=\dг\.)|(?<=\d\sг\.)|(?<=\dгг\.)|(?<=\d\sгг\.)|(?<=\dж\.)|(?<=\d\sж\.))"
_SENTENCE_END = re.compile(
    rf"(?<=[.!?])(?!{_YEAR_STOP}\s+[a-zа-яёәғқңөұүһі])\s+|\n\s*\n|\n(?=\s*(?:[-*\u2022#]|\d+[.)]\s))"
    r"|\n(?=\s*[^\W\d_][\w /-]{0,40}:)(?:(?<![^\W\d_]\n)(?<![^\W\d_][ \t]\n)|(?![ \t]*[a-zа-яёәғқңөұүһі]))"
)


#: a "sentence" longer than this (a text without full stops) is cut at line ends, at glued sentence ends,
#: then in pieces
MAX_SENTENCE = 1500


@dataclass(frozen=True)
class Piece:
    """A sentence as read, or a piece of one too long to parse whole. ``cut``: the piece was cut from its
    sentence mid-clause, so a denial, plan or doubt said of its findings may lie in the part cut off."""

    text: str
    cut: bool = False
    #: the piece lies in the report's section for the referrer's question or history ("Clinical details:")
    referred: bool = False


#: a sentence end glued to the next sentence ("feet.Plan:", text flattened from a PDF): a full stop,
#: question or exclamation mark before a capital letter, no space between
_GLUED_END = re.compile(r"[.!?](?=[A-Z\u0400-\u042F\u0401\u0406\u0492\u049A\u04A2\u04AE\u04B0\u04BA\u04D8\u04E8])")
#: the word before such a stop: a letter word of two letters or more, or a number ("Hb 12.5.Plan")
_WORD_BEFORE = re.compile(r"(?:[^\W\d_]{2,}|\d+|[)%])$")
#: abbreviations that take a capital after their full stop ("Dr.Smith"); one-letter words ("e.g.", "т.е.")
#: are no word of two letters and never end a sentence here
_ABBREVIATIONS = frozenset("dr mr mrs ms prof st sr jr vs approx fig ref vol nr др проф ст".split())


def _glued_sentences(line: str) -> list[str]:
    """``line`` cut after each glued sentence end (probe81 D1: "Numbness in both feet."x66 + "Plan: repeat
    immunofixation ... to look for a paraprotein." had no space after its full stops, so it was one
    1,500-character "sentence", cut blindly, and "for a paraprotein." read alone as a clone). Each stop is
    looked at once, with at most 12 characters before it: linear."""
    out, start = [], 0
    for m in _GLUED_END.finditer(line):
        word = _WORD_BEFORE.search(line[max(start, m.start() - 12) : m.start()])
        if word is None or word.group(0).lower() in _ABBREVIATIONS:
            continue
        out.append(line[start : m.end()])
        start = m.end()
    out.append(line[start:])
    return out


def _capped(part: str) -> list[Piece]:
    """``part`` in pieces of at most MAX_SENTENCE characters, each cut at its last space past half the
    cap (never inside a word: "paraprotein" cut is "protein"); every piece of a cut part is ``cut``. The
    cuts advance by half the cap at least: linear."""
    if len(part) <= MAX_SENTENCE:
        return [Piece(part)]
    out, start = [], 0
    while len(part) - start > MAX_SENTENCE:
        end = max(
            part.rfind(" ", start + MAX_SENTENCE // 2, start + MAX_SENTENCE),
            part.rfind("\t", start + MAX_SENTENCE // 2, start + MAX_SENTENCE),
        )
        end = end + 1 if end > 0 else start + MAX_SENTENCE
        out.append(Piece(part[start:end], cut=True))
        start = end
    out.append(Piece(part[start:], cut=True))
    return out


def _pieces(sentence: str) -> list[Piece]:
    """A sentence, or - too long to parse whole - its lines, each cut at glued sentence ends first and
    only then, where a part is still too long, at a space (such pieces are ``cut``: read as uncertain)."""
    if len(sentence) <= MAX_SENTENCE:
        return [Piece(sentence)]
    return [piece for line in sentence.splitlines() for part in _glued_sentences(line) for piece in _capped(part)]


#: the trigger a cut piece's findings carry (shown in the evidence)
CUT_TRIGGER = f"a sentence of more than {MAX_SENTENCE:,} characters read in pieces"


def _uncertain_when_cut(a: Assertion) -> Assertion:
    """A finding read in a piece cut from its sentence is uncertain, neither present nor denied: the
    plan, doubt or denial said of it may be in the part cut off (probe81 D1: "for a paraprotein." read
    alone was a clone). What the piece itself says is only a plan or of another person still says nothing."""
    if a.modifiers & {Modifier.HYPOTHETICAL, Modifier.FAMILY}:
        return a
    return replace(a, modifiers=frozenset({Modifier.POSSIBLE}), triggers=(*a.triggers, CUT_TRIGGER))


#: the trigger a finding of the referrer's section carries (shown in the evidence)
REFERRER_TRIGGER = "the report's section for the referrer's question or history"


def _referred(a: Assertion) -> Assertion:
    """A finding in the referrer's section is what the study was asked or told, not what it found: a
    statement there ("Known sclerotic lesions on PET 2022") is the referrer's, a "?" there the question the
    report answers (probe105 D8, D11) - hypothetical, whatever else the sentence says of it. A relative's
    finding stays the family's."""
    if Modifier.FAMILY in a.modifiers:
        return a
    return replace(a, modifiers=a.modifiers | {Modifier.HYPOTHETICAL}, triggers=(*a.triggers, REFERRER_TRIGGER))


#: a list item's marker: "- ascites", "• ascites", "1. ascites", "2) ascites"
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s*")
#: a line that introduces a list: short, ends with a colon ("No:", "Negative for the following:")
_LIST_HEADING = re.compile(r"^[^\n]{1,80}:$")


def _numbered(pieces: list[str]) -> list[str]:
    """ "1. lymphadenopathy": the full stop after an item's number ends no sentence."""
    out: list[str] = []
    for piece in pieces:
        if out and re.fullmatch(r"\s*\d+[.)]", out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


#: a one-line numbered list: "Impression: 1) no splenomegaly 2) hepatomegaly 20 cm"
_FIRST_INLINE_ITEM = re.compile(r"(?:^|\s)1\)\s")
_NEXT_INLINE_ITEM = re.compile(r"\s+(?=(?:[2-9]|1\d)\)\s)")


def _inline_items(pieces: list[str]) -> list[str]:
    """Each item of a numbered list written on one line without full stops is a sentence of its own:
    item 1's denial reached item 2 ("1) no ascites 2) bilateral pleural effusions" denied the effusions,
    probe60 D3). Only after a "1)" marker: "(see figure 2) or ..." is no list."""
    out: list[str] = []
    for piece in pieces:
        out += _NEXT_INLINE_ITEM.split(piece) if _FIRST_INLINE_ITEM.search(piece) else [piece]
    return out


#: words after which a line break continues the sentence (a hard wrap): articles, prepositions,
#: conjunctions, auxiliaries and the words that announce a finding ("features of", "данных за")
_CONTINUES = frozenset(
    "a an the of and or nor but with without in on at to for by from as than into onto over under within "
    "between including include includes such both either neither any there these this that which who is are "
    "was were be been being has have had may might could would should can cannot will suggest suggests "
    "suggesting suggestive consistent compatible evidence signs features concerning worrisome likely "
    "possible probable r/o "
    "и или а но с со без в во на по для при из от до к о об что как данных признаков за также либо "
    "және мен бен пен немесе".split()
)
#: words that deny or answer: a line starting with one answers the line before; a line ending with one
#: (not after a colon) goes on ("there is no⏎Splenomegaly")
_DENIALS = frozenset(
    "no none not nil negative absent without normal unremarkable neither nor нет не без отсутствует "
    "отсутствуют отсутствие жоқ".split()
)
#: a denial on the next line that is a note about another examination - an earlier one, a less sensitive one - or
#: about the fluid's cytology: not the finding's answer, a line of its own ("Pleural effusion⏎Not seen on previous
#: CT.", "Sclerotic lesion L3⏎Not seen on plain film.", "Ascites⏎Negative cytology.", probe112 D5: each denied the
#: finding; "…⏎Not seen on CT." is the finding's own test and still answers it)
_OTHER_STUDY_NOTE = re.compile(
    r"(?:(?:not|never)[ \t]+(?:seen|present|visible|identified|detected|demonstrated|shown|apparent|evident|"
    r"visuali[sz]ed)|negative|absent|normal|no[ \t]+evidence)[ \t]+(?:on|at|in|by)[ \t]+"
    r"(?:(?:the|a|an|his|her|their|our)[ \t]+)?"
    r"(?:previous|prior|earlier|preceding|old|older|original|initial|last|outside|external|baseline|(?:19|20)\d\d\b|"
    r"plain[ \t]+(?:film|radiograph|x-?ray)s?|radiographs?\b|x-?rays?\b|xr\b|cxr\b|skeletal[ \t]+survey)|"
    r"(?:negative|normal|benign|reactive|bland)[ \t]+(?:cytology|cytological|microbiology|culture|gram)|"
    r"(?:cytology|culture)[ \t]+(?:negative|normal|benign|reactive)|no[ \t]+malignan\w+[ \t]+cells",
    re.IGNORECASE,
)
#: names that go on a phrase across a line end: the lower-case line-start rule does not see them
_EPONYMS = frozenset(
    "castleman castleman's crow crow-fukase fukase bence poems waldenström waldenstrom takatsuki".split()
)
#: a line that ends in a denial with nothing denied yet: the lines under it are what it denies
_DENIAL_LEAD_IN = re.compile(
    r"\b(?:not|не)\s+(?:seen|identified|detected|demonstrated|present|found|visuali[sz]ed|выявлен\w*|обнаружен\w*|"
    r"определя\w*|визуализир\w*)\s*$",
    re.IGNORECASE,
)
#: a bare denial alone on a text's first line, heading the lines under it ("No⏎Ascites⏎Pleural effusion",
#: probe85 h09: the second item was read as present). Only first: further down it may answer the line above
_BARE_DENIAL = re.compile(r"[ \t]*(?:no|none|нет|жоқ)[ \t:]*\r?", re.IGNORECASE)
#: a line that answers the line above it yes: a piece that has one is a questionnaire, not a list
_AFFIRMATIVE_ANSWER = re.compile(
    r"[ \t]*(?:yes|present|positive|seen|identified|detected|да|есть|имеется|имеются|выявлен\w*|определя\w*|"
    r"бар|анықталды)[ \t.]*\r?",
    re.IGNORECASE,
)
#: a line end, and the first word of the next line: a capital and only small letters after it
_LINE_BREAK = re.compile(r"\n(?=[ \t]*[^\W\d_])")
#: a line wrapped mid-phrase: a letter before the break, a small letter after it ("Pulmonary⏎oedema: none")
_WRAP = re.compile(r"(?<=[^\W\d_])[ \t]*\n(?=[ \t]*[^\W\d_])")


def _joined_wraps(low: str, text: str) -> str:
    """``low`` (the normalised ``text``, same length) with each line break that wraps a phrase as a space, so
    a field anchored where a line starts (a phrase's ``^``) is not found after it: "Pulmonary⏎oedema: none"
    denied peripheral oedema (probe100 D1). A line that starts with a capital is a line of its own."""
    out: list[str] | None = None
    for m in _WRAP.finditer(text):
        if text[m.end() :].lstrip(" \t")[:1].islower():
            out = out or list(low)
            out[m.end() - 1] = " "
    return "".join(out) if out else low


#: a lead-in that denies what it lists ("Not seen:", "Absent:", "No evidence of:", "Negative for:", «Не
#: выявлено:»), read on its first line
_DENYING_LEAD_IN = re.compile(r"\b(?:no|not|none|absent|negative|without|нет|не|без|отсутству\w*)\b", re.IGNORECASE)
#: a line under such a list that states its own finding: a predicate, a degree, a size, "there is"
#: (a threshold, "> 1 cm", "larger than 5 mm", is part of the denied item)
_STATES_ITS_OWN = re.compile(
    r"\b(?:is|are|was|were|has|have|noted|seen|present|identified|detected|demonstrated|visuali[sz]ed|"
    r"measur\w*|enlarged|mild|mildly|moderate|moderately|marked|markedly|massive|small|large|trace|minimal|"
    r"severe|extensive|there|however|but|определя\w*|выявлен\w*|визуализир\w*|имеется|отмечается|"
    r"увеличен\w*|умеренн\w*|небольш\w*|выраженн\w*|ұлғай\w*|анықталды|анықталған|бар|көрінеді|байқалады)\b|\d",
    re.IGNORECASE,
)
_THRESHOLD = re.compile(
    r"[<>≤≥]|\b(?:larger|greater|more|bigger|less|smaller|over|exceeding|больше|более|менее)\b", re.I
)
#: a section heading on a line of its own, with no colon ("IMPRESSION", "Conclusion")
_SECTION_HEADING = re.compile(
    r"[ \t]*(?:[A-ZА-ЯЁ][A-ZА-ЯЁ /&-]{3,40}|(?i:impression|conclusion|conclusions|findings|summary|comments?|"
    r"opinion|recommendations?|заключение|выводы?|қорытынды))[ \t]*\r?"
)


def _denied_list_end(piece: str, first_line: str, keys: KeyIndex) -> int | None:
    """Where the list under a denying lead-in ends in ``piece`` (the line end before the first line that
    states its own finding or is a heading - a capitalised one names no finding: "ASCITES" is an item),
    or None: the whole piece is the list. Each line is looked at once (linear)."""
    if not _denies(first_line):
        return None
    at = piece.find("\n")
    while at != -1:
        nxt = piece.find("\n", at + 1)
        line = piece[at + 1 : nxt if nxt != -1 else len(piece)]
        if line.strip() and (
            (_SECTION_HEADING.fullmatch(line) and not keys.hits(line))
            or (_STATES_ITS_OWN.search(line) and not _THRESHOLD.search(line))
        ):
            return at
        at = nxt
    return None


def _denies(first_line: str) -> bool:
    """Whether a list's first line denies what it lists ("Not seen:", "No evidence of:", «Не выявлено:»,
    «Анықталмады:», "The following were not identified")."""
    return bool(
        _DENYING_LEAD_IN.search(first_line)
        or _DENIAL_HEADING.fullmatch(first_line)
        or _DENIAL_LEAD_IN.search(first_line)
        or _BARE_DENIAL.fullmatch(first_line)
    )


#: a denial heading inline, before the list it denies: "None of the following:", "Absent:", «Не выявлено:»,
#: «Жоқ:» (the words before the first colon, at most six)
_INLINE_DENIAL_HEAD = re.compile(r"\s*(?P<head>(?:[^\W\d_]+[ \t]+){0,5}[^\W\d_]+)[ \t]*:")
_KAZAKH_DENIAL = re.compile(r"\b(?:жоқ|жок|анықталмады)\b", re.IGNORECASE)


def _semicolons_under_denial(sentence: str, names_target: Callable[[str], bool]) -> str:
    """ "None of the following: splenomegaly; hepatomegaly; lymphadenopathy" (probe95 D16): a denial heading
    before a colon denies every item after it, whether commas or semicolons part them; ConText's semicolon
    ends a denial, so the second item was read as present. Each semicolon there becomes a comma (same
    length) - not one before an item that states its own finding ("Absent: ascites; effusion is seen", "…;
    small effusion"), nor under a heading that names a finding ("Splenomegaly: none; ascites")."""
    if ";" not in sentence:
        return sentence
    m = _INLINE_DENIAL_HEAD.match(sentence)
    if m is None or names_target(m.group("head")):
        return sentence
    head = m.group("head")
    if not (_DENYING_LEAD_IN.search(head) or _DENIAL_LEAD_IN.search(head) or _KAZAKH_DENIAL.search(head)):
        return sentence
    parts = sentence[m.end() :].split(";")
    out = parts[0]
    for part in parts[1:]:
        states = _STATES_ITS_OWN.search(part) and not _THRESHOLD.search(part)
        out += (";" if states else ",") + part
    return sentence[: m.end()] + out


def _denied_items(listed: str) -> list[str]:
    """The lines under a denial's heading, each read under it: "Not seen:⏎Ascites⏎Pleural effusion" is "Not
    seen: Ascites" and "Not seen: Pleural effusion" (a heading without a colon gets one). A line that goes
    on the one before - after a word that needs more ("of", "and"), a hyphen, a comma or a slash, or in
    lower case under a capitalised line - stays with it. Each line looked at once (linear)."""
    head, _, rest = listed.partition("\n")
    heading = head.strip()
    if not heading.endswith(":"):
        heading += ":"
    items: list[str] = []
    for line in rest.split("\n"):
        said = line.strip(" \t\r\u00a0")
        if not said:
            continue
        last = items[-1].rsplit(None, 1)[-1].lower() if items else ""
        if items and (
            last in _CONTINUES
            or last.endswith(("-", ",", "/"))
            # a wrap: "Pleural or pericardial⏎effusion" (a list in lower case throughout is one item a line)
            or (said[0].islower() and items[-1][0].isupper())
        ):
            items[-1] = f"{items[-1]} {said}"
        else:
            items.append(said)
    return [_under(heading, item) for item in items] or [listed]


def _under(heading: str, item: str) -> str:
    """An item read under its heading: after a lead-in ("No evidence of: Ascites"), or, under a denial that
    answers ("Not seen", "None", «Жоқ», «Анықталмады»), as the item's answer ("Асцит: Жоқ"): a postposed
    denial such as Kazakh «жоқ» denies nothing after it (probe88 D5)."""
    word = heading.rstrip(":").strip()
    if _DENIAL_HEADING.fullmatch(word) or _BARE_DENIAL.fullmatch(word):
        return f"{item}: {word}"
    return f"{heading} {item}"


def _denial_heading(line: str, first: bool) -> bool:
    """Whether ``line`` is a denial heading the lines under it (a bare "No" only on a text's first line)."""
    return bool(_DENIAL_HEADING.fullmatch(line) or (first and _BARE_DENIAL.fullmatch(line)))


def _headed_lists(pieces: list[str], keys: KeyIndex) -> list[str]:
    """A denial heading further down a piece starts a list of its own: "Findings⏎Splenomegaly⏎Not seen⏎
    Ascites⏎Pleural effusion" (probe85 e50/h06) read "Splenomegaly⏎Not seen" as an answer - the spleen
    denied, ascites and effusion stated. A heading with two lines or more under it, each naming a finding,
    heads them. Not in a questionnaire, where each finding's line is answered by the next
    ("Splenomegaly⏎Absent⏎Ascites⏎Present", "…⏎Ascites⏎Trace"): a piece with two denial lines, a "yes"
    line or a line under it that names no finding keeps its lines as answers."""
    out: list[str] = []
    for piece in pieces:
        lines = piece.split("\n")
        filled = [i for i, line in enumerate(lines) if line.strip()]
        # a bare "No" under a title that names no finding ("CT REPORT⏎No⏎Ascites", probe88 D5) heads too
        denials = [
            i
            for i in filled
            if _DENIAL_HEADING.fullmatch(lines[i])
            or (_BARE_DENIAL.fullmatch(lines[i]) and not keys.hits("\n".join(lines[:i])))
        ]
        under = [i for i in filled if denials and i > denials[0]]
        if (
            len(denials) != 1
            or denials[0] == filled[0]
            or len(under) < 2
            or any(_AFFIRMATIVE_ANSWER.fullmatch(lines[i]) or ANSWERISH_LINE.fullmatch(lines[i]) for i in filled)
            # each line under it names a finding: "Sclerotic lesions⏎Not seen⏎Ascites⏎Trace" answers (probe88 D1)
            or not all(keys.hits(lines[i]) for i in under)
        ):
            out.append(piece)
            continue
        above = lines[: denials[0]]
        last = max(i for i in filled if i < denials[0])
        # the line just above may be what the denial answers ("Sclerotic lesions⏎Not seen⏎Ascites⏎Pleural
        # effusion": a form, probe89 D1) or a stated finding over a headed list (probe85 e50): a bare name
        # there is read as a doubt - neither reading may make a denied finding present
        if _BARE_NAME.fullmatch(above[last]) and keys.hits(above[last]):
            above[last] = "¿ " + above[last].strip()
        out += ["\n".join(above), "\n".join(lines[denials[0] :])]
    return out


#: a finding's name alone on its line, a label a denial under it could answer: a few words, no number, no
#: predicate ("Sclerotic lesions", "Splenomegaly"; not "Splenomegaly 16 cm", "Spleen is enlarged")
_BARE_NAME = re.compile(r"[ \t]*[^\W\d_][^\d:.;!?\n]{0,60}[ \t]*\r?")


#: a line that is only a status said of the finding on the line above - a doubt, a withdrawal, an error, a
#: confirmation or the organ's own test ("Sclerotic lesion L3⏎Doubtful.", "Splenomegaly⏎USS normal"): read as the
#: same-line post-posed status after a dash, so the same rules decide it. Only a short line that opens with a
#: status word and names no finding ("Splenomegaly⏎Ascites." and "…⏎No ascites." are lines of their own)
_STATUS_LINE = re.compile(
    r"[ \t]*(?:(?:probably|possibly|still|currently|as\s+yet|yet\s+to\s+be|remains|of)\s+)?"
    r"(?:doubtful|dubious|unconvincing|not\s+convincing|unproven|unconfirmed|not\s+confirmed|not\s+established|"
    r"disputed|contested|debatable|questionable|equivocal|uncertain|unclear|provisional|tbc|t\.b\.c\.?|"
    r"to\s+be\s+confirmed|confirmation\s+pending|query|queried|¿+|\?+|\((?:query|¿+|\?+)\)|"
    r"under\s+(?:investigation|consideration)|r/o|rule\s+out|artefact|artifact|spurious|retracted|withdrawn|"
    r"(?:entered|documented|recorded)\s+in\s+error|wrong\s+patient|confirmed|"
    r"(?:on\s+|by\s+|per\s+)?(?:ct|cect|mri|mr|uss|us|usg|ultrasound|pet|pet-ct|imaging|scan|repeat\s+(?:ct|uss|mri))"
    r"\s*:?\s*(?:now\s+)?(?:normal|unremarkable|negative|nad|clear)"
    r"(?:\s+(?:spleen|liver|(?:lymph\s+)?nodes?|liver\s+(?:and|&)\s+spleen|spleen\s+(?:and|&)\s+liver)\b)?|"
    r"сомнит\w*|сомн\.?|под\s+вопросом|на\s+уточнении|не\s+подтв\w*\.?|артефакт|вероятно\s+артефакт|отозван\w*|"
    r"внесено\s+ошибочно|ошибочн\w*|ошибка\s+ввода|подтвержд\w*|(?:по\s+)?(?:узи|кт|мрт)\s*:?\s*(?:норма|без\s+патологии)|"
    r"нақтылануда|күмәнді|қате\s+енгізілген|расталды|расталмады)"
    r"(?![^\W_])(?P<tail>[^\n]{0,50}?)[ \t.]*\r?",
    re.IGNORECASE,
)


def _status_lines(pieces: list[str], keys: KeyIndex) -> list[str]:
    """Each line that is only a status of the finding on the line above joined to it after a dash:
    "Sclerotic lesion L3⏎Doubtful." is read as "Sclerotic lesion L3 - Doubtful." (a status on its own line was
    no one's; the same-line form "- doubtful", "- USS normal" was read). Only after a line that names a finding
    and ends a phrase (no full stop, colon or semicolon), and only a status line that names none."""
    out: list[str] = []
    for piece in pieces:
        if "\n" not in piece:
            out.append(piece)
            continue
        lines = piece.split("\n")
        joined = [lines[0]]
        for line in lines[1:]:
            above = joined[-1].rstrip(" \t\r")
            if (
                above
                and (above[-1].isalnum() or above[-1] == ")")
                and len(line) <= 80
                and (status := _STATUS_LINE.fullmatch(line))
                and keys.hits(above.rsplit("\n", 1)[-1])
                and not keys.hits(status.group("tail"))
            ):
                joined[-1] = f"{above} - {line.strip()}"
            else:
                joined.append(line)
        out.append("\n".join(joined))
    return out


def _other_script(line: str, next_line: str) -> bool:
    """Whether two lines are written in other scripts: each with a few letters, most of them Latin in one and
    Cyrillic in the other (an abbreviation such as "IgA" or "CT" in a Russian line does not make it Latin)."""
    scripts = []
    for text in (line, next_line):
        latin, cyrillic = len(_LATIN.findall(text)), len(_CYRILLIC.findall(text))
        if latin + cyrillic < 8:
            return False
        scripts.append("cyrillic" if cyrillic > 2 * latin else "latin" if latin > 2 * cyrillic else "mixed")
    return "mixed" not in scripts and scripts[0] != scripts[1]


def _line_of(text: str, at: int) -> str:
    """The line of ``text`` that starts at ``at``, up to its line end."""
    end = text.find("\n", at)
    return text[at:] if end < 0 else text[at:end]


def _line_items(pieces: list[str], keys: KeyIndex) -> list[str]:
    """A line that starts with a capitalised word after a line that names a finding and ends a phrase is
    a sentence of its own: reports list one finding a line without full stops ("No
    lymphadenopathy⏎Splenomegaly 16 cm"), and the first line's denial reached the next lines' findings.
    A hard-wrapped sentence goes on: its next line starts in lower case or with a word such as IgA, the
    line before ends with a word that needs more ("evidence of⏎Castleman disease", "и⏎…"), or it names
    no finding yet ("No features of multicentric⏎Castleman disease": its denial is for the next line)."""
    out: list[str] = []
    for piece in _headed_lists(pieces, keys):
        if "\n" not in piece:
            out.append(piece)
            continue
        first_line = piece.split("\n", 1)[0].strip()
        # a lead-in and its lines ("No evidence of:⏎Ascites⏎Pleural effusion"), also one ending in a denial
        # with no object ("The following were not identified⏎Ascites⏎Pleural effusion", probe74 D16)
        # (a line that is the denial alone heads its list although its verb is also a key word: «Не
        # выявлены⏎Асцит⏎Гидроторакс» read the list as present)
        if (
            first_line.endswith(":")
            or (_denial_heading(first_line, first=True) and piece.strip() != first_line)
            or (_DENIAL_LEAD_IN.search(first_line) and not keys.hits(first_line))
        ):
            # a denial's list ends at a line that states its own finding or at a heading (probe76 D2:
            # "Absent:⏎Ascites⏎Sclerotic lesion in L2 is seen." denied the lesion); the rest is read on
            end = _denied_list_end(piece, first_line, keys)
            listed = piece if end is None else piece[:end]
            # each line of a denial's list is read under its heading, as a bulleted item is: read whole, the
            # heading's scope ended a few lines down and the later lines were stated (probe87 D3)
            out += _denied_items(listed) if _denies(first_line) else [listed]
            if end is None:
                continue
            piece = piece[end + 1 :]
        start = line_start = 0
        named = False  # whether the lines since ``start`` name a target (each line looked at once: linear)
        for m in _LINE_BREAK.finditer(piece):
            line = piece[line_start : m.start()]
            named = named or keys.hits(line)
            line_start = m.end()
            if _other_script(line, _line_of(piece, m.end())):
                # an English heading over a Cyrillic result ("Serum immunofixation electrophoresis⏎IgA лямбда
                # (моноклоналды жолақ) табылмады."): no sentence wraps from one script into the other, and read as
                # one the sentence went to the Latin pipeline, which left the bracketed band's denial unread
                out.append(piece[start : m.start()])
                start, named = m.end(), False
                continue
            before = piece[start : m.start()].rstrip(" \t\r")
            word = re.search(r"(\S+)$", before[-80:])
            nxt = piece[m.end() : m.end() + 80].lstrip(" \t")
            first = re.match(r"[^\W\d_]+", nxt)
            last = word.group(1).lower() if word else ""
            if (
                not named
                or word is None
                or not (before[-1].isalnum() or before[-1] in ")%")
                or last in _CONTINUES
                # "no⏎Splenomegaly" goes on; "Ascites: no⏎Splenomegaly" is an answer (probe74 D4)
                or (last in _DENIALS and not re.search(r"[:\-]\s*\S+$", before[-40:]))
                or first is None
                or not (first.group(0)[0].isupper() and first.group(0)[1:].islower())
                # the next line answers or denies ("Sclerotic bone lesions⏎None identified", probe74 D2) -
                # unless it is a note about another examination or the cytology (probe112 D5), or a denial or
                # doubt of a finding it names after a line that ends with its own («Спленомегалия⏎Не исключена
                # лимфаденопатия.», probe112 D13: the doubt reached the spleen)
                or (
                    first.group(0).lower() in _DENIALS
                    and not _OTHER_STUDY_NOTE.match(nxt)
                    and not (keys.hits(last) and keys.hits(_line_of(piece, m.end())[len(first.group(0)) :]))
                )
                # a name that continues a phrase ("without hyaline-vascular⏎Castleman disease", D3) - not after a
                # line that ends with a finding's name ("Lymphadenopathy⏎Castleman disease not excluded", probe112
                # D13: the doubt of Castleman disease reached the nodes)
                or (first.group(0).lower() in _EPONYMS and not keys.hits(last))
                # the line ends mid-phrase: an adjective or a hyphenated word before a wrap
                or "-" in last
            ):
                continue
            out.append(piece[start : m.start()])
            start, named = m.end(), False
        out.append(piece[start:])
    return out


#: a request, referral, indication or clinical-question line: the question the study answers, read to its
#: line end ("Request: CT for POEMS staging", «Клинический вопрос: POEMS», «Направлен с ?ХВДП»)
_QUESTION_LINE = re.compile(
    r"[ \t]*(?:(?:clinical|exam|study)\s+)?(?:indications?|request(?:ed)?|referral|query|reason\s+for\s+\w+|"
    r"clinical\s+(?:details|information|info|questions?|indications?|history|query))\s*:"
    r"|[ \t]*(?:показани[яе]?(?:\s+к\s+исследованию)?|клиническ\w*\s+вопрос\w*|клинические\s+(?:данные|сведения)|"
    r"диагноз\s+(?:при\s+)?направлени[яе]|из\s+направления|направление|запрос)\s*:"
    r"|[ \t]*направлен[аоы]?\s+с\b",
    re.IGNORECASE,
)


#: a question's last word that asks for what follows ("to exclude⏎…", «на предмет⏎…»)
_ASKS_MORE = frozenset(
    "exclude excluding assess assessment evaluate evaluation out r/o investigate check query regarding re "
    "исключить исключение исключения оценить оценка предмет уточнить уточнения вопрос".split()
)


def _question_lines(pieces: list[str]) -> list[str]:
    """A request / referral / indication / clinical-question line with its question on it ends at its line
    end: the next line is read on its own (probe88 D3: "Request: CT for POEMS staging⏎Sclerotic lesion in
    L2." - the line names no finding, so it was read as wrapped, and its hypothetical scope took the
    lesion). A question whose last word asks for more ("for", "to exclude", «на предмет») goes on; a label
    alone on its line ("Indication:⏎?POEMS") heads the line under it."""
    out: list[str] = []
    for piece in pieces:
        start = at = 0
        while (end := piece.find("\n", at)) != -1:
            m = _QUESTION_LINE.match(piece, at, end)
            said = piece[m.end() : end].strip() if m else ""
            last = said.rsplit(None, 1)[-1].lower() if said else ""
            # a question that needs its next line ("please assess for⏎Sclerotic lesions", "to exclude⏎…",
            # probe89 D2) goes on, whatever the case of that line; otherwise it ends at its line, also before
            # a line in lower case ("?CIDP ?POEMS⏎sclerotic lesion in L2 on the previous CT", probe89 D14)
            goes_on = last in _CONTINUES or last in _ASKS_MORE or last.endswith(("-", ",", "/"))
            if m and said and piece[end + 1 :].strip() and not goes_on:
                out.append(piece[start:end])
                start = end + 1
            at = end + 1
        out.append(piece[start:])
    return out


def _segments(text: str, keys: KeyIndex) -> list[str]:
    """Sentences, with each item of a list read under the line that introduces it: "No:\n- ascites\n-
    pleural effusion" is "No: ascites" and "No: pleural effusion", so the heading's negation, doubt
    or plan ("To exclude:", "Не выявлено:") reaches every item, as a reader takes it."""
    out: list[str] = []
    heading: str | None = None
    named = False  # a segment before this one names a target (kept as we go: joining them all was quadratic)
    heading_alone = False  # the segment before is a heading ending in a colon, alone

    def keep(segment: str) -> None:
        nonlocal named
        out.append(segment)
        named = named or bool(keys.hits(segment))

    for s in _line_items(
        _status_lines(_question_lines(_inline_items(_numbered(_SENTENCE_END.split(text)))), keys), keys
    ):
        item = _LIST_ITEM.match(s)
        if item and heading is not None and s.strip():
            keep(_under(heading, s[item.end() :].strip()))
            continue
        stripped = s.strip()
        # a heading alone in its paragraph over paragraphs that each name a finding: "<p>Not seen:</p><p>ascites</p>
        # <p>pleural effusion</p>" (probe95 U27: an HTML list without bullets read every item present)
        if heading_alone and heading is not None and _BARE_NAME.fullmatch(stripped) and keys.hits(stripped):
            keep(_under(heading, stripped))
            continue
        heading_alone = False
        lines = stripped.split("\n")
        # a denial heading without its colon is read with one: "Not seen⏎- Ascites" as "Not seen: Ascites"
        # (probe85 D4: its bulleted items were read as present) - also as the last line of a piece, over the
        # bullets under it, the lines above it read on their own ("Splenomegaly⏎Not seen⏎- Ascites", probe88 D4)
        last = lines[-1].strip()
        if len(lines) > 1 and (
            _DENIAL_HEADING.fullmatch(last) or (_BARE_DENIAL.fullmatch(last) and not keys.hits("\n".join(lines[:-1])))
        ):
            above = lines[:-1]
            if _BARE_NAME.fullmatch(above[-1]) and keys.hits(above[-1]):  # answered or stated: a doubt
                above[-1] = "¿ " + above[-1].strip()
            keep("\n".join(above))
            heading = last + ":"
            heading_alone = False
            continue
        # a lead-in that ends in a word no clause ends with heads its list as one with a colon does: "No evidence
        # of⏎- ascites⏎- pleural effusion" (each item was read alone, present)
        heading = (
            stripped
            if _LIST_HEADING.match(stripped)
            else lines[0].rstrip() + ":"
            if _denial_heading(lines[0], first=not named) or (len(lines) == 1 and open_end(stripped, keys.hits))
            else None
        )
        heading_alone = heading is not None and len(lines) == 1 and heading.endswith(":")
        if heading is None and len(lines) == 2 and open_end(lines[0], keys.hits) and _BARE_NAME.fullmatch(lines[1]):
            # "No evidence of⏎⏎ascites⏎⏎pleural effusion" (paragraphs, the first break joined): the open line heads
            # the bare names after its own, as "No evidence of:" alone in its paragraph does
            heading, heading_alone = lines[0].rstrip() + ":", keys.hits(lines[1])
        keep(s)
    return out


#: a line that heads a section of its own ("FINDINGS:", "Impression:", «Заключение:»), or a heading in capitals
#: alone on its line ("FINDINGS"): it ends the referrer's section above it
_SECTION_LINE = re.compile(r"[ \t]*[^\W\d_][\w /-]{0,40}:")


def _heads_section(line: str, keys: KeyIndex) -> bool:
    """Whether ``line`` heads a section of its own and names no finding ("FINDINGS:", "IMPRESSION")."""
    said = line.strip()
    heading = bool(_SECTION_LINE.match(line)) or (said.isupper() and len(said) <= 40)
    return heading and not keys.hits(said.split(":", 1)[0].lower())


#: a sentence after the question that tells of an earlier study or another's report is still the referrer's
#: ("Clinical query: ?POEMS. Splenomegaly on previous CT.")
_HISTORY_SAID = re.compile(
    r"\b(?:previous\w*|prior|known|outside|history|hx|reported|referr\w*|earlier|old|last|ранее|анамнез\w*|"
    r"известн\w*|предыдущ\w*|прежн\w*)\b|\b(?:19|20)\d\d\b",
    re.IGNORECASE,
)


def _sentence_end(text: str, start: int, end: int) -> int:
    stop = re.compile(r"[.?!¿;]").search(text, start, end)
    return end if stop is None else stop.start()


def _asked_stop(text: str, start: int, end: int, keys: KeyIndex) -> re.Match[str] | None:
    """The full stop that ends a question asked between ``start`` and ``end`` before a sentence that opens with a
    finding's name (see ``_ASKED_STOP``), or None."""
    for stop in _ASKED_STOP.finditer(text, start, end):
        first = stop.group("next").split()[0]
        if _REFERRERS_WORD.match(first) or not keys.hits(stop.group("next").lower()):
            continue
        # the first sentence after the question that names a finding decides: the report's, or still the referrer's
        asked = _ASKS.search(text, start, stop.start())
        told = _HISTORY_SAID.search(text, stop.end(), _sentence_end(text, stop.end(), end))
        return stop if (asked or _measured_here(text, stop.end(), end)) and not told else None
    return None


#: ... or where the measure comes from, whatever the words after: "on USS", "on examination", "by the GP", «по
#: данным УЗИ», «при осмотре», «на КТ»
_SOURCE = re.compile(
    r"\b(?:on|by|per|from|according|uss|echo\w*|exam\w*|palpa\w*|clinical\w*)\b|"
    # "in" and "at" only before a place of care, not a body site: "… in clinic", "at the GP", not "Sclerotic lesion in
    # T10, 12 mm" (probe119 D13: the report's own measured lesion stayed the referrer's)
    r"\b(?:in|at)\s+(?:the\s+|an?\s+)?(?:clinic|ward|gp|outpatient\w*|opd|a\s*&\s*e|ed|er|referral|letter|"
    r"another|other|outside|external|\w+\s+hospital|hospital)\b|"
    r"\b(?:по|при|на|из|со?)\s|\bв\s+(?:поликлиник|стационар|направлени|выписк|больниц|приемн|при[её]мн)\w*|"
    r"осмотр\w*|пальпа\w*|бойынша|кезінде|[а-яёәғқңөұүһі]+(?:да|де|та|те)\b",
    re.IGNORECASE,
)
#: a sentence's end that is no decimal point ("15.5 cm")
_MEASURED_END = re.compile(r"[.?!¿;](?!\d)")


def _measured_here(text: str, start: int, end: int) -> bool:
    """The sentence from ``start`` measures its finding and names no study: "Splenomegaly 15 cm." - a measure is the
    examination's own reading, which a question heading does not ask; the referrer's history tells of the study it
    comes from ("Splenomegaly 15 cm on previous CT", "… on USS": `_HISTORY_SAID`, `_ANOTHER_EXAM`) (fix116b:
    "Clinical query: POEMS staging. Splenomegaly 15 cm." was the referrer's, the query having no "?" or request)."""
    stop = _MEASURED_END.search(text, start, end)
    sentence = text[start : stop.start() if stop else end]
    return _MEASURE.search(sentence) is not None and not _ANOTHER_EXAM.search(sentence) and not _SOURCE.search(sentence)


def referrer_spans(text: str, heading: re.Pattern[str], keys: KeyIndex) -> list[tuple[int, int]]:
    """Where ``text`` holds a report's section for the referrer's question or history (probe105 D8, D11:
    "CLINICAL DETAILS:⏎POEMS syndrome. Known sclerotic lesions on PET 2022." read the second sentence as
    the CT's own finding, out of the heading's reach; "Clinical: ?POEMS ?Castleman." doubted what the
    report's diagnosis denied). A heading with its words on its line heads that line (and the next while
    the line asks for more: "to exclude⏎…"), as ``_question_lines`` reads it: "Indication: ?POEMS⏎Sclerotic
    lesion in L2." states the lesion. A heading alone on its line heads the lines under it (after blank
    lines) up to a blank line or the next section's heading - a line such as "FINDINGS:" that names no
    finding ("Ascites: yes" under it is the referrer's)."""
    spans: list[tuple[int, int]] = []
    for m in heading.finditer(normalise(text)):
        if spans and m.start() < spans[-1][1]:
            continue
        end = _line_end(text, m.end())
        asked = _QUERY_END.search(text, m.end(), end) if _ASKING_HEADING.search(m.group(0)) else None
        if asked is None and _ASKING_HEADING.search(m.group(0)):
            asked = _asked_stop(text, m.end(), end, keys)
        if asked is not None and text[asked.end() : end].strip():
            # a question heads its question only, to its "?" or its full stop before a label: "Clinical query: Castleman
            # disease? Lymph node: no features of Castleman disease." - the histology's own denial is this
            # report's (fix111a: it was the referrer's, so the biopsy was proposed again)
            spans.append((m.start(), asked.end()))
            continue
        inline = _INLINE_HEADING.search(text, m.end(), end)
        while inline is not None and keys.hits(inline.group(1).lower()):  # "Ascites: yes" is no heading
            inline = _INLINE_HEADING.search(text, inline.end(), end)
        if inline is not None:  # "Clinical details: POEMS. Findings: splenomegaly 16 cm." (probe106 D5, D6)
            spans.append((m.start(), inline.start()))
            continue
        if text[m.end() : end].strip():
            while (
                _asks_more(text[m.end() : end]) and end < len(text) and text[end + 1 : _line_end(text, end + 1)].strip()
            ):
                end = _line_end(text, end + 1)
        else:
            end = _section_end(text, end, keys)
        spans.append((m.start(), end))
    return spans


#: a referrer's heading that asks a question ("Clinical query:", "Clinical question:", «Клинический вопрос:»)
_ASKING_HEADING = re.compile(r"quer|question|вопрос|сұрақ", re.IGNORECASE)
#: where such a question ends on its line: a "?" after a word before white space, or a sentence's full stop before
#: a field's label ("Clinical query: Castleman disease. Lymph node: …"); after a full stop a sentence with no label may
#: still be the referrer's ("Clinical query: POEMS. Known sclerotic lesions on PET 2022.")
_QUERY_END = re.compile(r"(?<=[^\W_)])(?:\?+(?=[ \t]+\S)|\.(?=[ \t]+[^\W\d_][\w /-]{0,30}?[ \t]*:))")
#: a question's full stop before a sentence that opens with a finding's name ends the question when it asked ("?" or a
#: request in it): "Clinical query: ?sclerotic lesions ?splenomegaly. Splenomegaly 15 cm.", "Clinical query: no
#: sclerotic lesions on XR - CT please. Sclerotic lesion L3." - the report's own finding (probe112 D8: swallowed);
#: "Clinical query: ?POEMS. Known sclerotic lesions on PET 2022." stays the referrer's
_ASKED_STOP = re.compile(r"(?<=[^\W_)])\.(?=[ \t]+(?P<next>[^\W\d_][\w-]*(?:[ \t]+[^\W\d_][\w-]*)?))")
_ASKS = re.compile(r"[?¿]|\b(?:please|pls|kindly|пожалуйста|просьба|прошу)\b", re.IGNORECASE)
_REFERRERS_WORD = re.compile(
    r"(?:known|previous|previously|prior|history|hx|recent|recently|outside|old|past|referred|patient|pt|he|she|"
    r"his|her|on|with|has|had|was|is|for|to|ранее|известн\w*|в|на|по|у)$",
    re.IGNORECASE,
)


#: a section heading inside a line, after a sentence ends: "…. Findings:", "… IMPRESSION:", «… Заключение:»
_INLINE_HEADING = re.compile(r"(?<=[.;?!])\s+([^\W\d_][\w /-]{0,30}?)\s*:")


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _asks_more(said: str) -> bool:
    """Whether a question's last word asks for its next line ("please assess for⏎…", «исключить⏎…»)."""
    words = said.split()
    last = words[-1].lower() if words else ""
    return last in _CONTINUES or last in _ASKS_MORE or last.endswith(("-", ",", "/"))


def _section_end(text: str, at: int, keys: KeyIndex) -> int:
    """The end of the line under a heading alone on its line (ending at ``at``), past blank lines: that one line
    only - the lines after it may be the report's own findings with no blank line or heading between
    (probe106 D7: "Indication:⏎Staging of POEMS syndrome⏎The spleen is enlarged at 16 cm." lost the spleen),
    and one line holds what a referrer writes under such a heading. A line heading a section of its own
    ("FINDINGS:") ends it at once."""
    start = at + 1
    while start < len(text) and not text[start : _line_end(text, start)].strip():
        start = _line_end(text, start) + 1
    if start >= len(text) or _heads_section(text[start : _line_end(text, start)], keys):
        return at
    return _line_end(text, start)


def _blocks(text: str, referrer: re.Pattern[str] | None, keys: KeyIndex) -> list[tuple[str, bool]]:
    """``text`` cut at its referrer's sections, each part with whether it is one (see ``referrer_spans``)."""
    if referrer is None:
        return [(text, False)]
    spans = referrer_spans(text, referrer, keys)
    if not spans:
        return [(text, False)]
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in spans:
        out += [(text[at:start], False), (text[start:end], True)]
        at = end
    out.append((text[at:], False))
    return [(block, referred) for block, referred in out if block.strip()]


#: sentences with a target parsed per text: a real report has tens; a text with more (megabytes of
#: pasted narrative) would hold a run - or a CDS request - for minutes (~0.5 ms a sentence)
MAX_CANDIDATE_SENTENCES = 2000


def candidate_sentences(
    text: str,
    keys: KeyIndex,
    sentence_filter: PhraseFilter,
    found_count: list[int] | None = None,
    referrer: re.Pattern[str] | None = None,
) -> list[Piece]:
    """The sentences of ``text`` in which a target phrase occurs (the rest cannot hold a target), the
    first MAX_CANDIDATE_SENTENCES of them (more are logged as skipped: event text.truncated). How many
    there were before the cut is appended to ``found_count``. ``referrer``: the headings of the referrer's
    sections (see ``referrer_spans``); their pieces are ``referred``."""
    # a line break that parts no clause inside a kept sentence is a space (fix140a A3: "Ascites: not⏎seen."), and
    # so is a run of blanks inside a line (fix141c C1: "Ascites:  not  seen.")
    found = [
        Piece(inner_blanks(wrapped_line_breaks(p.text.strip(), keys.hits)), p.cut, referred)
        for block, referred in _blocks(text, referrer, keys)
        for s in _segments(block, keys)
        for p in _pieces(s)
        if p.text.strip() and keys.hits(p.text) and sentence_filter.search(p.text)
    ]
    if found_count is not None:
        found_count.append(len(found))
    if len(found) > MAX_CANDIDATE_SENTENCES:
        log.warning(
            "a text of %d characters has %d sentences naming a target: only the first %d are read",
            len(text),
            len(found),
            MAX_CANDIDATE_SENTENCES,
            extra={
                "event": "text.truncated",
                "fields": {"characters": len(text), "sentences": len(found), "read": MAX_CANDIDATE_SENTENCES},
            },
        )
        del found[MAX_CANDIDATE_SENTENCES:]
    return found


#: a historical trigger that says the finding went away (not "history of", "previously"): resolved, regressed,
#: settled, did not recur, купирован, разрешился, регрессировал, исчез, без рецидива, жойылды
_RESOLUTION = re.compile(
    r"resol|regress|settl|clear|subsid|disappear|normali[sz]|remitt|recur|купир|разреш|регресс|исчез|рецидив|"
    r"жойыл|кетті",
    re.IGNORECASE,
)


def _resolved_later(found: list[Assertion]) -> list[Assertion]:
    """A finding said to have gone later in its sentence was there before, at every mention: «В 2019 г.
    отмечался асцит…; асцит купирован» (probe105 D10: the first mention read present beside the historical
    second, so the criterion was present, `met`). Only a plainly present mention before a resolved one of the
    same target; a finding stated now beside an old one that resolved becomes a doubt, never a denial."""
    out = list(found)
    for later, a in enumerate(found):
        if a.label != "historical" or not any(_RESOLUTION.search(t) for t in a.triggers):
            continue
        for i in range(later):
            b = out[i]
            if b.target == a.target and not b.modifiers:
                out[i] = replace(b, modifiers=a.modifiers, triggers=a.triggers)
    return out


#: what ends a clause inside a sentence, for reading a clause in the other script
_CLAUSE_MARK = re.compile(r"[,;:()\[\]\n]")


def _clause_of(text: str, words: str) -> str | None:
    """The clause of ``text`` holding ``words`` (their first occurrence), between clause marks."""
    at = text.find(words)
    if at < 0:
        return None
    start = max((m.end() for m in _CLAUSE_MARK.finditer(text, 0, at)), default=0)
    end = _CLAUSE_MARK.search(text, at + len(words))
    return text[start : end.start() if end else len(text)]


def script_of(text: str) -> str:
    return "cyrillic" if len(_CYRILLIC.findall(text)) > len(_LATIN.findall(text)) else "latin"


#: token attributes whose values are text: YAML reads an unquoted no/yes/on/off there as a boolean
_TEXT_ATTRS = frozenset(
    {"ORTH", "TEXT", "LOWER", "NORM", "LEMMA", "SHAPE", "PREFIX", "SUFFIX", "POS", "TAG", "DEP", "ENT_TYPE"}
)
_SET_KEYS = frozenset({"IN", "NOT_IN"})


def pattern_problem(pattern: Any) -> str | None:
    """What is wrong with a raw spaCy token pattern of a context rule, checked without importing
    spaCy (the pipeline is built only on the first text that can matter, too late for a site's
    typo): a list of token objects; text attributes take strings (or IN/NOT_IN lists of strings, or
    a REGEX string)."""
    if not isinstance(pattern, list) or not pattern:
        return "a non-empty list of token objects expected"
    for n, token in enumerate(pattern):
        if not isinstance(token, dict):
            return f"token {n} is not an object"
        for attr, value in token.items():
            if attr not in _TEXT_ATTRS:
                continue
            values: Any = [value]
            if isinstance(value, dict):
                if not set(value) <= _SET_KEYS | {"REGEX"}:
                    return f"token {n} {attr}: only IN, NOT_IN or REGEX"
                values = [value["REGEX"]] if "REGEX" in value else []
                for key in sorted(_SET_KEYS & set(value)):
                    if not isinstance(value[key], list):
                        return f"token {n} {attr}: {key} takes a list"
                    values = [*values, *value[key]]
            if not all(isinstance(v, str) for v in values):
                return (
                    f"token {n} {attr}: {value!r} - text expected; quote words YAML reads as "
                    'true/false (no, yes, on, off): "no"'
                )
    return None


def _second_reading(text: str) -> str | None:
    """``text`` with the words an invisible character splits or a hyphen cuts at a line end joined, or None where
    there are none (joined_words, line_end_hyphens)."""
    joined = joined_words(text)
    dehyphenated = line_end_hyphens(text if joined is None else joined)
    return joined if dehyphenated is None else dehyphenated


def _could_matter(keys: KeyIndex, text: str) -> bool:
    # a key word written with a lookalike letter, an invisible character or a hyphen at a line end counts too
    # (probe70 D6: "Splеnomegaly" with a Cyrillic е was found only beside another key word; fix140a: "as-⏎cites")
    if not text:
        return False
    if keys.hits(text):
        return True
    joined = _second_reading(text)
    if text.isascii() and joined is None:
        return False
    return keys.hits(fold_lookalikes(text)) or (joined is not None and keys.hits(fold_lookalikes(joined)))


@dataclass
class TextEngine:
    section: TextSection
    _pipelines: dict[str, Any] = field(default_factory=dict, repr=False)
    _keys_beyond: dict[frozenset[str], KeyIndex] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        phrases = [p for t in self.section.targets.values() for p in t.phrases]
        # a list's member names are key words too: "no enlargement of the liver or spleen"
        members = [p for spec in self.section.lists for names in spec.members.values() for p in names]
        self._lists = [compiled for spec in self.section.lists if (compiled := self._compile_list(spec)) is not None]
        self.keys = KeyIndex(phrases + members)
        self.sentence_filter = PhraseFilter(phrases, [r.pattern for r, _ in self._lists])
        # every target in every pipeline: a Russian report quotes "IgA lambda"
        self._targets = [
            (tid, regex)
            for tid, t in self.section.targets.items()
            if (regex := PhraseFilter(t.phrases).regex) is not None
        ]
        words = [_token_regex(normalise(w)) for w in self.section.inner_negations]
        self._inner_negation = re.compile("|".join(words)) if words else None
        self._coordinators = frozenset(normalise(w) for w in self.section.coordinators)
        self._carriers = frozenset(tid for tid, t in self.section.targets.items() if t.carries_inner)
        closing = closing_regex(
            self.section.closing_negations,
            self.section.assertive_words,
            self.section.coordinators,
            tails=self.section.closing_tails,
        )
        self._closing = re.compile(closing) if closing else None
        doubt = closing_regex(
            self.section.closing_doubts, self.section.assertive_words, self.section.coordinators, aside_only=True
        )
        self._closing_doubt = re.compile(doubt) if doubt else None
        stating = [phrase_regex(w) for w in self.section.assertive_words]
        self._assertive = re.compile("|".join(stating)) if stating else None
        verdicts = [phrase_regex(w) for w in self.section.clause_verdicts]
        self._clause_verdict = re.compile("|".join(verdicts)) if verdicts else None
        items = [phrase_regex(w) for w in self.section.item_verdicts]
        self._item_verdict = re.compile(r",[\s\-]*(?:" + "|".join(items) + ")") if items else None
        # a coordinator that closes a list before its clause ends - past no denial of a clause of its own
        joins = "|".join(re.escape(c) for c in sorted(self._coordinators) if c.isalpha())
        self._list_closed = re.compile(rf"(?:(?!\b{_DENIAL_WORDS}\b)[^.;!?])*?\b(?:{joins})\b") if joins else None
        predicates = [phrase_regex(p) for spec in self.section.lists for p in spec.after]
        self._own_predicate = re.compile("(?:" + "|".join(predicates) + r")\s*$") if predicates else None
        exceptions = [phrase_regex(p) for p in self.section.exceptions]
        self._exception = re.compile("|".join(exceptions)) if exceptions else None
        # where an over_list rule's list ends: ";" and the mapping's contrast and patient words
        self._list_end = re.compile("|".join([";", *(phrase_regex(p) for p in self.section.list_ends)]))
        clauses = self.section.nominative_clauses
        self._nominative = _whole(clauses.forms)
        self._genitive_denial = _whole(clauses.denials)
        self._singular_denial = _whole(clauses.singular_denials)
        self._opener = _whole(clauses.openers)
        sections = self.section.referrer_sections
        self._referrer = _headings(sections.headings)
        self._study_referrer = _headings(sections.headings + sections.study_headings)
        quoted = self.section.quoted_reports
        self._quoted_source = _anywhere(quoted.sources)
        self._review = _anywhere(quoted.reviews)
        self._confirm = _anywhere(quoted.confirms)
        self._compound = compound_split(self.section.likeness_compounds)
        likeness = self.section.likeness_words
        self._likeness = re.compile("|".join(f"(?:{w})" for w in likeness), re.IGNORECASE) if likeness else None
        after = self.section.likeness_after
        self._likeness_after = re.compile("|".join(f"(?:{w})" for w in after), re.IGNORECASE) if after else None
        weighed = self.section.weighed_words
        self._weighed = re.compile("|".join(f"(?:{w})" for w in weighed), re.IGNORECASE) if weighed else None
        before = self.section.new_before
        # the words end right before the finding, up to two describing words between ("De novo small sclerotic")
        self._new_before = (
            re.compile(rf"(?:{'|'.join(f'(?:{w})' for w in before)})(?:\s+[^\W\d_][\w-]*){{0,2}}\s*$", re.IGNORECASE)
            if before
            else None
        )
        new_after = self.section.new_after
        self._new_after = (
            re.compile(rf"{_SITE_BEFORE_VERB}(?:{'|'.join(f'(?:{w})' for w in new_after)})", re.IGNORECASE)
            if new_after
            else None
        )
        self._new_means = {tid: t.new_means for tid, t in self.section.targets.items() if t.new_means}
        self._spelt_out = SpeltOut.build(self.section.poems_names, self.section.poems_name_features)

    def quotes_another(self, sentence: str) -> bool:
        """Whether a sentence gives its finding to another or an earlier report ("Outside report described a sclerotic
        lesion", «Из другого учреждения поступило заключение: болезнь Кастлемана»)."""
        return self._quoted_source is not None and self._quoted_source.search(normalise(sentence)) is not None

    def confirms(self, sentence: str) -> bool:
        """Whether a sentence says this report sees the finding itself - "sclerotic lesion in L3 is confirmed; the
        original report omitted …", "larger than described in the original report", "favoured on frozen section and
        is confirmed on paraffin sections" (probe109 D4, D5: each read as the other report's finding, answered). A
        negation just before the words ("not confirmed", «не подтверждается») leaves them no confirmation, and so does
        another report named as the confirmer in the same clause ("… is confirmed by the referring hospital")."""
        if self._confirm is None:
            return False
        low = normalise(sentence)
        return any(
            _NOT_JUST_BEFORE.search(low, 0, m.start()) is None and not self._confirmed_by_another(low, m.end())
            for m in self._confirm.finditer(low)
        )

    def _confirmed_by_another(self, low: str, end: int) -> bool:
        """The clause after a confirmation, up to its punctuation, gives another report as its agent ("by the
        referring hospital"); a comparison's report ("larger than described in the original report") is no agent."""
        clause = _CLAUSE_END.split(low[end : end + 60], maxsplit=1)[0]
        return (
            _AGENT.match(clause) is not None
            and self._quoted_source is not None
            and self._quoted_source.search(clause) is not None
        )

    def reviews(self, text: str) -> bool:
        """Whether a text says it reviews, amends or answers another report ("Our review:", "AMENDED", «При
        пересмотре»)."""
        return self._review is not None and self._review.search(normalise(text)) is not None

    def _compile_list(self, spec: ListSpec) -> tuple[re.Pattern[str], list[tuple[str, re.Pattern[str]]]] | None:
        """A list's regex and, per member target, the regex of its names (which members a match holds)."""
        pattern = list_regex(spec, self.section.coordinators)
        if pattern is None:
            return None
        members = [
            (tid, re.compile("|".join(phrase_regex(p) for p in names))) for tid, names in spec.members.items() if names
        ]
        return re.compile(pattern), members

    def could_matter(self, text: str) -> bool:
        return _could_matter(self.keys, text)

    def could_matter_beyond(self, text: str, targets: frozenset[str]) -> bool:
        """Whether ``text`` holds a key word of a target other than ``targets`` (the words of an acute illness
        or a VEGF confounder, "COVID-19 pneumonia", name another disease than POEMS: probe100 D13)."""
        keys = self._keys_beyond.get(targets)
        if keys is None:
            phrases = [p for tid, t in self.section.targets.items() if tid not in targets for p in t.phrases]
            members = [p for spec in self.section.lists for names in spec.members.values() for p in names]
            keys = self._keys_beyond[targets] = KeyIndex(phrases + members)
        return _could_matter(keys, text)

    @property
    def scripts(self) -> list[str]:
        return sorted({lang.script for lang in self.section.languages.values()})

    def check(self) -> list[tuple[str, str]]:
        """Problems in the section as (key, message): phrases that do not compile, unknown languages."""
        problems = []
        for tid, target in self.section.targets.items():
            for phrase in target.phrases:
                try:
                    compile_phrase(phrase)
                except (ValueError, re.error) as exc:
                    problems.append((f"text.targets.{tid}", f"phrase {phrase!r}: {exc}"))
        for tid, target in self.section.targets.items():
            if target.new_means is not None and target.new_means not in self.section.targets:
                problems.append((f"text.targets.{tid}", f"new_means: {target.new_means!r} is not a text target"))
        for i, rule in enumerate(self.section.context):
            if rule.lang not in self.section.languages:
                problems.append((f"text.context[{i}]", f"unknown language {rule.lang!r}"))
            if rule.pattern is None:
                try:
                    compile_phrase(rule.literal)
                except (ValueError, re.error) as exc:
                    problems.append((f"text.context[{i}]", f"literal {rule.literal!r}: {exc}"))
            elif isinstance(rule.pattern, list) and (problem := pattern_problem(rule.pattern)):
                problems.append((f"text.context[{i}]", f"pattern: {problem}"))
            for unknown in sorted(set(rule.targets or ()) - set(self.section.targets)):
                problems.append((f"text.context[{i}]", f"targets: {unknown!r} is not a text target"))
        for i, spec in enumerate(self.section.lists):
            for phrase in [
                *spec.before,
                *spec.after,
                *spec.breaks,
                *(p for names in spec.members.values() for p in names),
            ]:
                try:
                    compile_phrase(phrase)
                except (ValueError, re.error) as exc:
                    problems.append((f"text.lists[{i}]", f"phrase {phrase!r}: {exc}"))
            for unknown in sorted(set(spec.members) - set(self.section.targets)):
                problems.append((f"text.lists[{i}]", f"members: {unknown!r} is not a text target"))
            if not (spec.before or spec.after):
                problems.append((f"text.lists[{i}]", "neither 'before' nor 'after' phrases: the list says nothing"))
        clauses = self.section.nominative_clauses
        for key, phrases in (
            ("forms", clauses.forms),
            ("denials", clauses.denials),
            ("openers", clauses.openers),
            ("singular_denials", clauses.singular_denials),
        ):
            for phrase in phrases:
                try:
                    compile_phrase(phrase)
                except (ValueError, re.error) as exc:
                    problems.append((f"text.nominative_clauses.{key}", f"phrase {phrase!r}: {exc}"))
        return problems

    # ------------------------------------------------------------ pipelines

    def _pipeline(self, script: str) -> Any:
        if script not in self._pipelines:
            self._pipelines[script] = self._build(script)
        return self._pipelines[script]

    def _build(self, script: str) -> Any:
        import medspacy  # noqa: F401  (registers the pipeline factories)
        import spacy
        from loguru import logger
        from medspacy.context import ConTextRule

        # PyRuSH (medspaCy's default splitter) logs through loguru: keep it out of the sync job's log
        logger.disable("PyRuSH")
        _register_norm()
        langs = {k: v for k, v in self.section.languages.items() if v.script == script}
        tokenizer = next(iter(langs.values())).tokenizer if langs else "xx"
        nlp: Any = spacy.blank(tokenizer)
        # spaCy's letter classes miss Kazakh letters (қ, ұ, ә ...): split a final full stop after any letter
        suffixes = list(nlp.Defaults.suffixes or []) + [r"(?<=\w)\.", r"(?<=\w)[,;:]"]
        nlp.tokenizer.suffix_search = spacy.util.compile_suffix_regex(suffixes).search
        # Texts arrive already cut into candidate sentences (candidate_sentences): spaCy's rule-based
        # sentencizer finishes the job; PyRuSH cost ~6 ms a sentence here, 100 times more.
        nlp.add_pipe("sentencizer")
        nlp.add_pipe(_NORM_PIPE)
        # Targets are found by the compiled phrase regexes (self._targets), not by spaCy's Matcher:
        # the same phrases, a tenth of the cost; ConText then reads them from doc.ents.
        context: Any = nlp.add_pipe("medspacy_context", config={"rules": None})
        rules = []
        disabled = {d.lower() for d in self.section.disable_defaults}
        for code, lang in langs.items():
            if lang.medspacy_defaults:
                rules += [r for r in _medspacy_default_rules(code) if r.literal.lower() not in disabled]
        specs = [spec for spec in _later_wins(self.section.context) if spec.lang in langs]
        owner = _literal_owners(specs)
        for n, spec in enumerate(specs):
            literals = expand_literals(spec.literal) if spec.pattern is None else None
            if literals is not None:
                literals = [lit for lit in literals if owner[(spec.lang, lit.lower())] == n]
            # target labels are the rule ids upper-cased (_with_targets)
            allowed = {t.upper() for t in spec.targets} if spec.targets is not None else None
            ended_by = set(spec.terminated_by) if spec.terminated_by else None
            if literals is not None:  # plain words: PhraseMatcher, far cheaper than token patterns
                rules += [
                    ConTextRule(
                        lit,
                        spec.category,
                        direction=spec.direction,
                        max_scope=spec.max_scope,
                        allowed_types=allowed,
                        terminated_by=ended_by,
                        metadata={_OVER_LIST: spec.over_list, _NOT_THIS_PATIENT: spec.not_this_patient},
                    )
                    for lit in literals
                ]
                continue
            pattern = spec.pattern if spec.pattern is not None else compile_phrase(spec.literal)
            rules.append(
                ConTextRule(
                    spec.literal,
                    spec.category,
                    pattern=pattern,
                    direction=spec.direction,
                    max_scope=spec.max_scope,
                    allowed_types=allowed,
                    terminated_by=ended_by,
                    metadata={_OVER_LIST: spec.over_list, _NOT_THIS_PATIENT: spec.not_this_patient},
                )
            )
        for rule in rules:
            # medspaCy lets a terminator cut a modifier's scope only when the two scopes "overlap", and
            # its overlap test misses a scope lying wholly inside the other: a terminator scoped to the
            # whole sentence never cut a negation with a max_scope ("көкбауыр ұлғайған, бауыр
            # ұлғаймаған, асцит жоқ"). Scoped to its neighbours, it cuts every scope it lies inside.
            if rule.direction.upper() == "TERMINATE" and rule.max_scope is None:
                rule.max_scope = 1
        context.add(rules)
        return nlp

    # ------------------------------------------------------------ running

    def assert_texts(
        self,
        texts: list[str],
        failures: dict[int, str] | None = None,
        cuts: dict[int, str] | None = None,
        studies: Collection[int] = (),
    ) -> list[list[Assertion]]:
        """Assertions per text, in order.

        Cost is kept to what can matter: a text without any target's key word costs one regex
        search; otherwise it is cut into sentences (ConText's scope never crosses one) and only the
        sentences in which a whole target phrase occurs are parsed, grouped per script.

        ``failures``: where a text the pipeline fails on is told (its index -> why); that text gives no
        assertion and the others are read (probe87 D2: one text's failure lost the patient's other texts).
        Without it such a failure raises TextEngineError. A pipeline that cannot be built always raises.
        ``cuts``: where a text with more candidate sentences than MAX_CANDIDATE_SENTENCES is told (its index
        -> what was read), so that the cut is listed as a problem of its resource (probe87 D9).
        ``studies``: the indexes of texts that are a study's report, where the mapping's ``study_headings``
        ("History:", «Клинический диагноз:») head the referrer's section too (a letter's are the patient's).
        """
        # slot i: text i as it is; slot n + i: text i with its split words joined (see _readings)
        results: list[list[Assertion]] = [[] for _ in range(2 * len(texts))]
        by_script: dict[str, list[tuple[int, Piece]]] = defaultdict(list)
        failed: dict[int, str] = {}  # text index -> why the pipeline failed on it
        for i, text in self._readings(texts):
            text = fold_lookalikes(text)  # same length: quotes cut from the original still hold
            if not self.could_matter(text):
                continue
            # "? Castleman disease": a query mark before the words it doubts ends no sentence; tables, forms
            # and answers ("[x] no", "X? No.") become plain answers first
            # a paragraph break after "No evidence of" is one line break, as a wrapped line's (probe138 G3)
            # a table's header row is no finding: its rows answer it (probe74 D6)
            # and a row's cells that each state something end a sentence at their tab (probe76 D4)
            # and a row that measures an organ and names its finding ("Spleen | 16 cm | enlarged") is one clause
            text = _QUERY_MARK.sub(
                lambda m: "¿" * len(m.group()),
                cell_breaks(
                    measured_rows(
                        answered_forms(
                            row_borders(
                                headed_tables(
                                    earlier_absence(
                                        earlier_normal_size(
                                            ranged_measures(struck_out(open_paragraph_ends(text, self.keys.hits)))
                                        )
                                    ),
                                    self.keys.hits,
                                )
                            ),
                            self.keys.hits,
                        )
                    )
                ),
            )
            counted: list[int] = []
            referrer = self._study_referrer if i % len(texts) in studies else self._referrer
            for chunk in candidate_sentences(text, self.keys, self.sentence_filter, counted, referrer):
                by_script[script_of(chunk.text)].append((i, chunk))
            if cuts is not None and counted[0] > MAX_CANDIDATE_SENTENCES and i < len(texts):
                cuts[i] = (
                    f"{counted[0]:,} sentences name a target, more than the {MAX_CANDIDATE_SENTENCES:,} the text "
                    f"engine reads of one text; only the first {MAX_CANDIDATE_SENTENCES:,} were read"
                )
        for script, chunks in by_script.items():
            if script not in self.scripts:
                script = self.scripts[0] if self.scripts else script
            try:
                nlp = self._pipeline(script)
            except Exception as exc:  # spaCy/medspaCy internals: report, never crash the run
                raise TextEngineError(
                    f"the {script} text pipeline failed: {type(exc).__name__}: {exc}; "
                    "check the text section of the mapping files"
                ) from exc
            for i, chunk in chunks:
                if i % len(texts) in failed:
                    continue  # a text the pipeline failed on is not read at all (a denial may be what failed)
                try:
                    kept = self._other_script_clauses(self._chunk_assertions(nlp, chunk), chunk, script)
                except Exception as exc:  # one text's failure is that text's, never its batch's (probe87 D2)
                    why = f"the text engine failed on this text ({type(exc).__name__}: {exc}); not read"
                    if failures is None:
                        raise TextEngineError(why) from exc
                    failed[i % len(texts)] = why
                    log.warning(
                        "the %s text pipeline failed on a text of %d characters (%s): that text is not read",
                        script,
                        len(texts[i % len(texts)]),
                        type(exc).__name__,
                        exc_info=log.isEnabledFor(logging.DEBUG),
                        extra={
                            "event": "text.failed",
                            "fields": {
                                "script": script,
                                "characters": len(texts[i % len(texts)]),
                                "error": type(exc).__name__,
                            },
                        },
                    )
                    continue
                results[i] += kept
        n = len(texts)
        for i in failed:
            results[i] = results[n + i] = []
        if failures is not None:
            failures.update(failed)
        for i in range(n):
            if not results[n + i]:
                continue
            # where the two readings disagree about a target, the joined one holds: a soft hyphen or joiner
            # sits inside a word («от\u00adсутствуют» read as two words left the finding present, probe74
            # D10); a target only the text as it is names stays
            joined = {a.target for a in results[n + i]}
            results[i] = [a for a in results[i] if a.target not in joined] + results[n + i]
        return [self._new_findings(_weighed_and_denied(_denied_today(r), self._weighed)) for r in results[:n]]

    def _new_findings(self, assertions: list[Assertion]) -> list[Assertion]:
        """A stated finding said to be new since an earlier study is also its ``new_means`` target: "Sclerotic
        lesions in T6 and L3, not seen on the prior study" is radiologic progression (criteria.md §8.3; probe128 D4:
        only "new …" / "newly …" / «впервые …» words were). Once per sentence and target."""
        added: list[Assertion] = []
        said = {(a.target, a.sentence) for a in assertions if a.label == "present"}
        for a in assertions:
            means = self._new_means.get(a.target)
            if means is None or not a.new_since_earlier or a.label != "present" or (means, a.sentence) in said:
                continue
            said.add((means, a.sentence))
            added.append(
                Assertion(target=means, text=a.text, sentence=a.sentence, triggers=("new since an earlier study",))
            )
        return assertions + added

    def _chunk_assertions(self, nlp: Any, chunk: Piece) -> list[Assertion]:
        """The assertions of one candidate sentence."""
        doc = self._run(nlp, chunk.text)
        shared = doc.user_data.get(_SHARED, {})
        inner = doc.user_data.get(_INNER, {})
        found: list[tuple[int, Assertion]] = []
        spans = sorted((e.start_char, e.end_char) for e in doc.ents)
        # where ConText's terminators end (a clause ending at a comma): no closing denial reaches back past one
        ends = [doc[t.modifier_span[1] - 1].idx for t in doc._.context_graph.modifiers if t.category == "TERMINATE"]
        low = normalise(doc.text)
        reaches = self._list_reaches(doc, low, chunk.text)
        earlier = doc.user_data.get(_EARLIER_VERDICT, {})
        for ent in doc.ents:
            assertion = _asked(self._closing_denial(self._assertion(ent, chunk.text), ent, doc.text, spans, ends), ent)
            if (ent.start, ent.end) in earlier:  # an earlier time's verdict, today's normal size after it
                begin, end = earlier[(ent.start, ent.end)]
                today = Modifier.NEGATED if Modifier.NEGATED in assertion.modifiers else Modifier.HISTORICAL
                assertion = replace(assertion, modifiers=frozenset({today}), triggers=(chunk.text[begin:end],))
            gone = self._gone_since(ent, assertion)
            if gone is not None:  # "Splenomegaly noted in 2021 and not seen since": historical (fix140a A1)
                assertion = replace(assertion, modifiers=frozenset({Modifier.HISTORICAL}), triggers=(gone,))
            resolved = self._resolved_after_own_verdict(ent, low) if assertion.label == "present" else None
            if resolved is not None:  # "Ascites: moderate previously, now absent": historical (probe130 G3)
                assertion = replace(assertion, modifiers=frozenset({Modifier.HISTORICAL}), triggers=(resolved,))
            assertion = _restated_elsewhere(assertion, low, ent.end_char, spans)
            assertion = _in_list(assertion, ent, reaches, bool(reaches) and self._stated_in_clause(low, ent))
            found.append((ent.start_char, assertion))
            found += [(ent.start_char, replace(assertion, target=t)) for t in shared.get((ent.start, ent.end), [])]
            if assertion.label == "present":  # "two new sclerotic lesions": the lesions are stated too
                found += [(ent.start_char, replace(assertion, target=t)) for t in inner.get((ent.start, ent.end), [])]
        kept = _resolved_later([a for _, a in self._without_excepted_denials(doc.text, found)])
        if chunk.referred:  # the referrer's section: what it names is the question, not the study's finding
            kept = [_referred(a) for a in kept]
        return [_uncertain_when_cut(a) for a in kept] if chunk.cut else kept

    def _stated_in_clause(self, low: str, ent: Any) -> bool:
        """Whether the target's own clause (between commas, brackets, sentence ends) holds a word that states it
        ("splenomegaly was noted", «отмечаются отеки», "confirmed"): a clause about the patient, not a list item."""
        if self._assertive is None:
            return False
        start = max((m.end() for m in _ITEM_CLAUSE.finditer(low, 0, ent.start_char)), default=0)
        end_match = _ITEM_CLAUSE.search(low, ent.end_char)
        end = end_match.start() if end_match else len(low)
        return bool(
            self._assertive.search(low[start : ent.start_char]) or self._assertive.search(low[ent.end_char : end])
        )

    def _list_reaches(self, doc: Any, low: str, original: str) -> list[_Reach]:
        """The lists an ``over_list`` rule introduces: from its trigger to the list's end (``list_ends``, ";"
        or the sentence's end) forward, and back to the previous such end for a rule that looks back.
        ConText's own scope stops at the list's terminators ("… and an anti-MAG neuropathy") or its
        ``max_scope``; a generic list (a drug's side effects, warning signs, a differential) names no finding
        of the patient to its last item (probe105 D1-D5)."""
        reaches: list[_Reach] = []
        for m in doc._.context_graph.modifiers:
            if not (m.rule.metadata or {}).get(_OVER_LIST) or m.category not in _CATEGORY:
                continue
            first, last = doc[m.modifier_span[0]], doc[m.modifier_span[1] - 1]
            begin, end = first.idx, last.idx + len(last.text)
            sent = first.sent
            trigger = original[begin:end].replace("¿", "?")
            direction = m.direction.upper()
            if direction in ("FORWARD", "BIDIRECTIONAL"):
                stop = self._list_end.search(low, end, sent.end_char)
                reaches.append(_Reach(end, stop.start() if stop else sent.end_char, _CATEGORY[m.category], trigger))
            if direction in ("BACKWARD", "BIDIRECTIONAL"):
                stops = [s.end() for s in self._list_end.finditer(low, sent.start_char, begin)]
                reaches.append(_Reach(stops[-1] if stops else sent.start_char, begin, _CATEGORY[m.category], trigger))
        return reaches

    def _other_script_clauses(self, kept: list[Assertion], chunk: Piece, script: str) -> list[Assertion]:
        """A clause written wholly in the other script is read with that script's rules too: «Объективно: живот
        мягкий, no HSM, no ascites.» goes to the Cyrillic pipeline by its letters, which knows no English "no"
        (probe105 D9: the ascites read present, `met`). A target read plainly present takes the other reading's
        context when the target, its clause (between commas, semicolons, colons, brackets) and the trigger are
        all in that script - a trigger reaching into a clause of the sentence's own language is left out ("no
        HSM, асцит умеренный" keeps the ascites)."""
        other = "latin" if script == "cyrillic" else "cyrillic"
        own_letters, other_letters = (_CYRILLIC, _LATIN) if script == "cyrillic" else (_LATIN, _CYRILLIC)
        if other not in self.scripts or all(a.modifiers for a in kept) or not other_letters.search(chunk.text):
            return kept
        theirs = self._chunk_assertions(self._pipeline(other), chunk)
        out = []
        for a in kept:
            clause = _clause_of(chunk.text, a.text)
            read = next(
                (
                    b
                    for b in theirs
                    if b.target == a.target
                    and b.text == a.text
                    and b.modifiers
                    and not a.modifiers
                    and clause is not None
                    and not own_letters.search(clause)
                    and all(t.lower() in clause.lower() for t in b.triggers)
                ),
                None,
            )
            out.append(a if read is None else replace(a, modifiers=read.modifiers, triggers=read.triggers))
        return out

    @staticmethod
    def _readings(texts: list[str]) -> Iterator[tuple[int, str]]:
        """Each text with its result slot; a text with a word split by an invisible character or cut by a
        hyphen at a line end once more with the word joined, in slot n + i (joined_words, line_end_hyphens:
        whether the character stands for a space, or the hyphen joins a compound, is not known)."""
        for i, text in enumerate(texts):
            yield i, text
            joined = _second_reading(text)
            if joined is not None:
                yield len(texts) + i, joined

    def _closing_denial(
        self, assertion: Assertion, ent: Any, text: str, spans: list[tuple[int, int]], terminators: list[int]
    ) -> Assertion:
        """A clause-final denial past the words between: "Увеличенных лимфоузлов в средостении и брюшной
        полости нет" - ConText's short scope of "нет" stopped at the place words, so the nodes were read
        as present. Only words that state nothing of the target and a denial that ends the clause; another
        target between only when joined to this one by coordinators ("асцита и выпота в перикарде нет"
        denies both; "гидроторакс слева, асцита нет" not the hydrothorax)."""
        if (self._closing is None and self._closing_doubt is None) or assertion.modifiers:  # only plainly present
            return assertion
        low = normalise(text)
        # a list of targets joined by commas or coordinators comes first: "асцита, гидроторакса,
        # перикардиального выпота нет" (probe34: a list of three left its first item present)
        # (a target that states its own predicate - "печень увеличена,
        # асцита, гидроторакса нет" - is a clause of its own and is not chained)
        start_at, chained = ent.end_char, []
        own = self._own_predicate is not None and self._own_predicate.search(low[ent.start_char : ent.end_char])
        for start, other_end in sorted(spans) if not own else []:
            if start < start_at:
                continue
            if not self._joins(low[start_at:start]):
                break
            start_at = other_end
            chained.append(start)
        m = self._closing.match(low, start_at if chained else ent.end_char) if self._closing else None
        modifier = Modifier.NEGATED
        if m is None and self._closing_doubt is not None:
            # a doubt past a relative clause or a bracket: "Sclerotic lesions, which are typical of POEMS,
            # cannot be ruled out" (probe88 D7) - whatever the aside says of it: "A sclerotic lesion, which
            # measures 8 mm, cannot be excluded", "…, which were described on the X-ray, cannot be excluded
            # on this CT" doubt it still (probe89 D6: a measure or a stating word there left it present)
            m = self._closing_doubt.match(low, start_at if chained else ent.end_char)
            modifier = Modifier.POSSIBLE
        if m is None:
            today = _earlier_denial_today(text, ent)
            if today is None:
                # "Sclerotic lesions in T6 and L3, not seen on the prior study of 03/2020": ConText's denial stopped at
                # the comma; the finding is stated and new (probe128 D4)
                return replace(assertion, new_since_earlier=True) if _earlier_denial_new(text, ent) else assertion
            return replace(
                assertion, modifiers=assertion.modifiers | {Modifier.NEGATED}, triggers=(*assertion.triggers, today)
            )
        if _CONTRAST_AFTER.match(low, m.end()) and not _names_another(low, m.end(), spans):
            # "…are not seen on this CT, but are seen on the PET" (probe92 D7): read as ConText did - unless
            # the contrast names a finding of its own ("…, but there is a new lytic lesion in L3": probe93 D9)
            return assertion
        # a terminator inside an aside ("which" of ", which are typical of POEMS syndrome,") ends nothing
        aside = range(m.start("aside"), m.end("aside")) if m.start("aside") >= 0 else range(0)
        if any(start in aside for start, _ in spans):
            return assertion  # a finding of its own is no aside: «көкбауыр ұлғайған, бауыр ұлғайған, асцит жоқ»
        if any(ent.end_char <= t < m.start("closing") and t not in aside for t in terminators):
            return assertion
        if m.group("closing").lstrip().startswith(";") and re.search(r"\d", low[ent.end_char : m.start("closing")]):
            return assertion  # "Sclerotic lesion 12 mm in L2; none identified": measured, so stated
        end = ent.end_char
        for start, other_end in spans:
            if not ent.end_char <= start < m.end():
                continue
            if not self._joins(low[end:start]):
                return assertion
            end = other_end
        closing = text[m.start("closing") : m.end("closing")].strip()
        if modifier is Modifier.NEGATED and _on_the_earlier_study(
            text[ent.end_char : m.start("closing")], text[m.start("closing") : ent.sent.end_char]
        ):
            # "Pleural effusion - not seen on previous CT.": new, stated - unless the text denies it elsewhere
            return replace(assertion, new_since_earlier=True)
        if self._own_clause(ent, closing, m.start("closing")):
            return assertion  # "Спленомегалия, асцита и гидроторакса нет"
        return replace(
            assertion,
            modifiers=assertion.modifiers | {modifier},
            triggers=(*assertion.triggers, closing),
        )

    def _joins(self, between: str) -> bool:
        """Whether the text between two targets is only coordinators ("и", ", and", "or")."""
        words = [w for w in re.split(r"[\s,\-]+", between) if w]
        return all(w in self._coordinators for w in words)

    def _without_excepted_denials(self, text: str, found: list[tuple[int, Assertion]]) -> list[tuple[int, Assertion]]:
        """ "No lymphadenopathy except for an enlarged 2.5 cm axillary lymph node": the exception states
        the target the denial named, so the denial before it gives way (the two made a conflict, an
        indeterminate part, of a node the report calls enlarged). Only a denial followed by an exception
        word and then the same target affirmed."""
        if self._exception is None:
            return found
        words = [m.start() for m in self._exception.finditer(normalise(text))]
        if not words:
            return found

        def excepted(at: int, a: Assertion) -> bool:
            return a.label == "negated" and any(
                at < w < later_at and b.target == a.target and b.label == "present"
                for w in words
                for later_at, b in found
            )

        kept = [(at, a) for at, a in found if not excepted(at, a)]
        return [(at, self._one_excepted(text, at, a, words)) for at, a in kept]

    @staticmethod
    def _one_excepted(text: str, at: int, a: Assertion, words: list[int]) -> Assertion:
        """ "No sclerotic lesions other than the known 1 cm lesion in L3": the exception names one of the
        kind the denial denies (the target's own head noun - "lesion", «очага») without repeating the
        target phrase, so one may be there: possible, no longer a denial (probe71 D13: read as absent, hiding
        a known lesion)."""
        if a.label != "negated" or Modifier.NEGATED not in a.modifiers:
            return a
        norm = normalise(text)
        # the phrase's last word, and the word right after it (a target may match "sclerotic" of
        # "sclerotic lesions")
        heads = [w for w in (a.text.split()[-1:] + re.findall(r"\w+", norm[at + len(a.text) :])[:1]) if len(w) >= 4]
        if not heads:
            return a
        for w in words:
            if w <= at:
                continue
            after = re.split(r"[.;:!?]|\bbut\b|\bно\b", norm[w:], maxsplit=1)[0]
            if any(not any(_same_noun(m.group(0), h) for h in heads) for m in _ELSEWHERE.finditer(after)):
                continue  # "save for a lesion in the lung": another organ's lesion says nothing of this one
            if any(_same_noun(word, head) for word in re.findall(r"\w+", after)[1:9] for head in heads):
                return replace(
                    a,
                    # possible, not present: which lesion "the known one" is, the sentence does not say (a
                    # lesion in the lung is no bone lesion); the report that found it says more
                    modifiers=(a.modifiers - {Modifier.NEGATED}) | {Modifier.POSSIBLE},
                    triggers=(*a.triggers, norm[w:][: len(after)].strip()),
                )
        return a

    @staticmethod
    def _components(nlp: Any) -> list[Any]:
        return [proc for _, proc in nlp.pipeline]

    def _run(self, nlp: Any, chunk: str) -> Any:
        """One sentence through the rule-based components (nlp.pipe's batching buys nothing for
        rule components and costs ~0.5 ms a call)."""
        # «Кастлеманоподобные»: the compound's two words, so that its "like" half doubts the target (probe123 D4)
        text = set_aside_contrast(
            dehyphen(split_compounds(_semicolons_under_denial(chunk, self._names_target), self._compound))
        )
        if not text.rstrip().endswith((".", "!", "?")):
            # a list line or the end of a text ("Splenomegaly: no"): its end is a sentence end, which
            # rules such as ": no ." need to see (past the original's end: quotes stay within it)
            text += " ."
        doc = nlp.make_doc(text)
        components = self._components(nlp)
        for proc in components[:-1]:
            doc = proc(doc)
        return components[-1](self._with_targets(doc))

    def _names_target(self, text: str) -> bool:
        """Whether ``text`` holds a whole target phrase."""
        low = normalise(text)
        return any(regex.search(low) for _, regex in self._targets)

    def _with_targets(self, doc: Any) -> Any:
        """Set doc.ents to the target phrases found in the text (longest first, no overlaps)."""
        from spacy.util import filter_spans

        text = _joined_wraps(normalise(doc.text), doc.text)
        spans, listed = self._listed(doc, text)
        earlier: dict[tuple[int, int], tuple[int, int]] = {}  # an earlier time's verdict -> today's normal size
        for tid, regex in self._targets:
            for m in regex.finditer(text):
                end = m.start() + len(m.group(0).rstrip(_SPAN_TAIL))
                today = _todays_size_after_earlier(text, m.start(), end)
                if today is False:
                    continue
                span = doc.char_span(m.start(), end, label=tid.upper(), alignment_mode="expand")
                if span is not None:
                    spans.append(span)
                    if today is not None:
                        earlier[(span.start, span.end)] = today
        spans = [
            s for s in spans if (s.start, s.end) in earlier or _todays_size_after_earlier(text, *_chars(s)) is None
        ]
        if self._spelt_out is not None and (named := self._spelt_out.spans(text)):
            # "POEMS syndrome (polyneuropathy, organomegaly, …)": the name's features, not the patient's (probe132 D5)
            spans = [s for s in spans if not any(a <= s.start_char and s.end_char <= b for a, b in named)]
        doc.ents = kept = filter_spans(spans)
        doc.user_data[_EARLIER_VERDICT] = earlier
        shared = self._coordinated(doc, spans, kept) if self._coordinators else {}
        for k in kept:
            for label in listed.get((k.start, k.end), []):
                labels = shared.setdefault((k.start, k.end), [])
                if label not in labels and label != k.label_.lower():
                    labels.append(label)
        doc.user_data[_SHARED] = shared
        doc.user_data[_INNER] = self._inner_targets(spans, kept)
        return doc

    def _inner_targets(self, spans: list[Any], kept: list[Any]) -> dict[tuple[int, int], list[str]]:
        """The targets inside a kept span of a target that carries them (TargetSpec.carries_inner)."""
        inner: dict[tuple[int, int], list[str]] = {}
        for k in kept:
            if k.label_.lower() not in self._carriers:
                continue
            for d in spans:
                if k.start <= d.start and d.end <= k.end and d.label_ != k.label_:
                    labels = inner.setdefault((k.start, k.end), [])
                    if d.label_.lower() not in labels:
                        labels.append(d.label_.lower())
        return inner

    def _listed(self, doc: Any, text: str) -> tuple[list[Any], dict[tuple[int, int], list[str]]]:
        """Spans of the lists (ListSpec) in the text, each labelled with its first member's target, and
        the other members' targets, which share its assertion. They come first, so a list wins over a
        target phrase of the same length inside it ("enlarged ... lymph nodes")."""
        spans: list[Any] = []
        shared: dict[tuple[int, int], list[str]] = {}
        for regex, members in self._lists:
            for m in regex.finditer(text):
                words = m.group(0)
                found = sorted((hit.start(), tid) for tid, member in members if (hit := member.search(words)))
                if not found:
                    continue
                end = m.start() + len(words.rstrip(_SPAN_TAIL))
                span = doc.char_span(m.start(), end, label=found[0][1].upper(), alignment_mode="expand")
                if span is not None:
                    spans.append(span)
                    shared[(span.start, span.end)] = [tid for _, tid in found[1:]]
        return spans, shared

    def _coordinated(self, doc: Any, spans: list[Any], kept: list[Any]) -> dict[tuple[int, int], list[str]]:
        """Targets that share a kept span's assertion: "no pleural or pericardial effusion" keeps the
        longer pleural phrase; "pericardial effusion", its tail after "or", is negated with it. Only a
        tail after a coordinator: "no chronic inflammatory demyelinating polyradiculoneuropathy" does not
        deny a polyneuropathy."""
        shared: dict[tuple[int, int], list[str]] = {}
        for k in kept:
            for d in spans:
                if (
                    k.start < d.start
                    and d.end == k.end
                    and d.label_ != k.label_
                    and normalise(doc[d.start - 1].text) in self._coordinators
                ):
                    labels = shared.setdefault((k.start, k.end), [])
                    if d.label_.lower() not in labels:
                        labels.append(d.label_.lower())
        return shared

    def _assertion(self, ent: Any, original: str) -> Assertion:
        mods = [m for m in ent._.modifiers if m.category in _CATEGORY]
        if self._own_predicate is not None and self._own_predicate.search(normalise(ent.text)):
            # "Печень увеличена, асцита нет": a target that ends with its own predicate ends its clause
            # too; a denial after the comma is the next clause's, one before a comma the previous
            # clause's ("No lymphadenopathy, spleen enlarged at 15 cm")
            mods = [m for m in mods if not _after_comma(m, ent) and not _before_comma(m, ent)]
        elif any(_says_before_comma(m, ent) for m in mods):
            # "Гидроторакс регрессировал, асцит не определяется": another modifier's trigger before the
            # comma is the target's own predicate; a denial of another target after the comma is the
            # next clause's ("Castleman disease suspected, not confirmed" stays a denial)
            mods = [m for m in mods if not (_after_comma(m, ent) and _other_target_before(m, ent))]
        new = any(_not_on_the_earlier_study(m, ent) for m in mods)
        said_new = self._said_new(ent)
        if said_new is not None:  # "Previously unseen sclerotic foci", «ранее не определявшиеся очаги»: new, stated
            new = True
            mods = [m for m in mods if not said_new[0] <= ent.doc[m.modifier_span[0]].idx < said_new[1]]
        mods = [
            m
            for m in mods
            if not self._next_clause_denial(m, ent)
            and not _bracketed_apart(m, ent)
            and not _verdict_before_dash(m, ent)
            and not _not_on_the_earlier_study(m, ent)
            and not _denied_elsewhere(m, ent)
            and not self._stated_in_bracket(m, ent)
            and not _property_asked(m, ent)
            and not self._own_verdict_across_comma(m, ent)
            and not self._verdict_item_after_comma(m, ent)
        ]
        mods = _refuted_suspicion(mods, ent)
        modifiers = {_CATEGORY[m.category] for m in mods}

        def quote(span: Any) -> str:
            return original[span.start_char : span.end_char].replace("¿", "?")  # _QUERY_MARK's, back

        triggers = [quote(ent.doc[m.modifier_span[0] : m.modifier_span[1]]) for m in mods]
        inner = [t.text for t in ent if self._inner_negation and self._inner_negation.search(normalise(t.text))]
        if inner:  # "liver is not enlarged": the negation sits inside the target phrase
            modifiers.add(Modifier.NEGATED)
            triggers += inner
        if self._likeness is not None and self._likeness.search(normalise(ent.text)):
            # "Castlemanoid changes", «Кастлемановидные изменения»: the target's own word says "like" (probe125 G2)
            modifiers.add(Modifier.POSSIBLE)
            triggers.append(quote(ent))
        lookalike = self._lookalike_after(ent)
        if lookalike is not None:  # "a Castleman mimic": the look-alike, not the thing
            modifiers.add(Modifier.NEGATED)
            triggers.append(lookalike)
        own = _own_pseudo_denial(ent)
        if own is not None:  # "No progression of disease": the pseudo-negation's own word is the target
            modifiers.add(Modifier.NEGATED)
            triggers.append(quote(own))
        return Assertion(
            target=ent.label_.lower(),
            text=quote(ent),
            sentence=quote(ent.sent).strip(),
            modifiers=frozenset(modifiers),
            triggers=tuple(triggers),
            not_this_patient=any((m.rule.metadata or {}).get(_NOT_THIS_PATIENT) for m in mods),
            new_since_earlier=new and not modifiers,
        )

    def _said_new(self, ent: Any) -> tuple[int, int] | None:
        """Where the words that say the finding ``ent`` is new since an earlier study lie (characters of its doc):
        right before it ("Previously unseen", "De novo", «Вновь выявленные», TextSection.new_before) or after it and
        its site ("… in T6 and L3 have developed since the previous examination", new_after) - or None."""
        text, sent = ent.doc.text, ent.sent
        # only a window either side is read: the words stand right by the finding, and reading the sentence (or the
        # whole text) for each finding cost a fifth of the Synthea corpus's evaluation
        if self._new_before is not None:
            start = max(sent.start_char, ent.start_char - _NEW_WINDOW)
            before = self._new_before.search(normalise(text[start : ent.start_char]))
            if before is not None:
                return start + before.start(), ent.start_char
        if self._new_after is not None:
            stop = min(sent.end_char, ent.end_char + _NEW_WINDOW)
            after = self._new_after.match(normalise(text[ent.end_char : stop]))
            if after is not None:
                span = ent.end_char + after.start(), ent.end_char + after.end()
                if not any(ent.end_char <= o.start_char < span[1] for o in ent.doc.ents):
                    return span
        return None

    def _lookalike_after(self, ent: Any) -> str | None:
        """The words from the target ``ent`` on that name a look-alike of it (``likeness_after``: "Castleman mimic",
        "Castleman disease look-alike"), or None."""
        if self._likeness_after is None:
            return None
        text = ent.doc.text
        said = self._likeness_after.match(normalise(text[: ent.end_char + 60]), ent.start_char)
        return text[said.start() : said.end()] if said is not None and said.end() > ent.end_char else None

    def _own_verdict_across_comma(self, modifier: Any, ent: Any) -> bool:
        """A denial on the other side of a comma from a target whose own clause states it after it with a verdict
        (``clause_verdicts``): the denial is the other clause's finding's - «Плеврального выпота по-прежнему не видно,
        асцит умеренный.», "Ascites moderate, pleural effusion still not seen." (probe125 R6, G5: the ascites was
        denied). Only a verdict after the target, in its clause, and no list member after a coordinator ("No
        ascites, or effusion moderate" stays one denied list)."""
        if self._clause_verdict is None or modifier.category != "NEGATED_EXISTENCE":
            return False
        start, end = modifier.modifier_span
        doc, sent = ent.doc, ent.sent
        if end <= ent.start:
            between = doc[end : ent.start]
        elif start >= ent.end:
            between = doc[ent.end : start]
        else:
            return False
        # a comma, or a dash standing free between words ("No pleural effusion - ascites moderate": probe126 G10)
        commas = [t.i for t in between if t.text == "," or _free_dash(t)]
        if not commas:
            return False
        if (
            end <= ent.start
            and commas[-1] + 1 < ent.start
            and normalise(doc[commas[-1] + 1].text) in self._coordinators
        ):
            return False  # "No pleural effusion, or ascites moderate": one list under the denial
        stop = next((t.i for t in doc[ent.end : sent.end] if t.text in (",", ";", "(", ")")), sent.end)
        # the verdict may follow a dash or a colon: "No pleural effusion, ascites - moderate." (probe126 G10)
        own = _VERDICT_MARK.sub("", normalise(doc[ent.end : stop].text), count=1)
        verdict = self._clause_verdict.match(own)
        # a verdict of an earlier time is no verdict of today's: "No pleural effusion, ascites - present previously.",
        # "… ascites - moderate in 2021." keep the denial (probe130: read present today)
        return verdict is not None and _EARLIER_TIME_IN.search(own, verdict.end()) is None

    def _gone_since(self, ent: Any, assertion: Assertion) -> str | None:
        """The words that say a finding stated in its own clause was not seen since - "Splenomegaly noted in 2021 and
        not seen since." - or None. There before, gone now: historical, as "…, now normal" and "and no longer seen"
        read (criteria.md §3.3: present at any time; a clinician dates it) - fix140a A1: the denial's reach back took
        the statement (absent), the contracted "hasn't been seen since" none (present). After a bare comma or semicolon
        ("Splenomegaly noted in 2021, not seen since.") only a clause with a stating word ("noted", "seen") states it:
        "Ascites, not seen since 2021." and "Splenomegaly has not been seen since." stay denials (fix139c). A denial or
        doubt in the finding's clause ("was not present in 2021 and …", "was suspected in 2021 and …", "No
        splenomegaly in 2021 and …"), or another finding's clause between, leaves the reading as it was."""
        if assertion.label not in ("present", "negated"):
            return None
        doc, sent = ent.doc, ent.sent
        low = normalise(doc.text)
        stop = _SINCE_CLAUSE_STOP.search(low, ent.end_char, sent.end_char)
        since = _NOT_SEEN_SINCE.search(low, ent.end_char, stop.start() if stop else sent.end_char)
        if since is None or _STATED_DENIAL.search(low, ent.start_char, since.start()):
            return None
        stated = low[ent.end_char : since.start()]
        # «с тех пор», «содан бері» ("since then") look back to the time the clause before names; a bare English
        # comma may stand before the finding's own denial ("Ascites, not seen since 2021": nothing stated before it)
        english_bare = since.group("clause").lstrip()[:1].isascii() and not since.group("joined")
        if english_bare and not (self._assertive is not None and self._assertive.search(stated)):
            return None
        end = ent.end_char
        for other in (o for o in doc.ents if ent.end_char <= o.start_char < since.start()):
            if not self._joins(low[end : other.start_char]):
                return None  # another finding's clause between ("Splenomegaly 16 cm; ascites noted in 2021 and …")
            end = other.end_char
        if ";" in low[end : since.start()] and not re.fullmatch(r"[^;]*;\s*", low[end : since.start("clause")]):
            return None  # a semicolon ends the finding's clause unless the denial follows it at once
        if any(
            ent.end_char <= doc[m.modifier_span[0]].idx < since.start()
            for m in doc._.context_graph.modifiers
            if m.category not in ("TERMINATE", "HISTORICAL")
        ):
            return None  # a doubt, denial or an earlier study's note in the finding's clause
        clause = doc.text[since.start("clause") : since.end("clause")]
        if any(t not in clause for t in assertion.triggers):
            return None  # a denial of its own elsewhere
        return clause.strip()

    def _verdict_item_after_comma(self, modifier: Any, ent: Any) -> bool:
        """A denial before the target whose list the target's item leaves by a verdict word after a comma
        (``item_verdicts``): "No ascites, enlarged spleen." states the spleen (fix140a A2: ConText's "No" reached
        past the comma) - as a grade word after the comma ends the denial's scope. Not where a coordinator closes
        the list after it ("No ascites, enlarged spleen or liver": one denied list), nor under a denial that heads
        its list with a colon ("Not seen: ascites, enlarged lymph nodes")."""
        if self._item_verdict is None or modifier.category != "NEGATED_EXISTENCE":
            return False
        doc, (start, end) = ent.doc, modifier.modifier_span
        if end > ent.start:
            return False
        low = normalise(doc.text)
        trigger_end = doc[end - 1].idx + len(doc[end - 1].text)
        comma = low.rfind(",", trigger_end, ent.start_char + 1)
        if comma < 0 or any(comma < o.start_char < ent.start_char for o in doc.ents):
            return False  # no comma right before the target's item, or another target opens the item
        if ":" in low[doc[start].idx : comma]:
            return False  # a heading lists what it denies ("Not seen:", "The following were not identified:")
        verdict = self._item_verdict.match(low, comma)
        if verdict is None or verdict.end() > ent.end_char:
            return False
        return self._list_closed is None or self._list_closed.match(low, verdict.end()) is None

    def _resolved_after_own_verdict(self, ent: Any, low: str) -> str | None:
        """The words of today's absence after the target's own verdict of an earlier time - "Ascites: moderate
        previously, now absent.", «Асцит: ранее умеренный, сейчас отсутствует.» (probe130 G3: the grade read it
        present today) - or None. The grade is of an earlier time (as "Spleen enlarged in 2021, now of normal size"
        is): historical, never present today. Only the target's own clause (a verdict and an earlier time, nothing
        else) and a next clause that is only today's denial."""
        if self._clause_verdict is None:
            return None
        sent = ent.sent
        comma = low.find(",", ent.end_char, sent.end_char)
        if comma < 0 or any(o is not ent and ent.end_char <= o.start_char < comma for o in ent.doc.ents):
            return None
        own = _EARLIER_WORDS.sub(" ", _VERDICT_MARK.sub("", low[ent.end_char : comma], count=1)).strip()
        verdict = self._clause_verdict.match(own)
        if verdict is None or own[verdict.end() :].strip():
            return None
        today = _TODAYS_ABSENCE.match(low, comma, sent.end_char)
        return ent.doc.text[today.start("words") : today.end("words")] if today is not None else None

    def _stated_in_bracket(self, modifier: Any, ent: Any) -> bool:
        """The target stands in a bracket that states it, and the denial or doubt ``modifier`` before the
        bracket is another finding's: "No ascites (splenomegaly noted)", "No ascites (splenomegaly 16 cm)"
        (probe93 D17: ConText's "No" reached into the bracket and denied the spleen). The bracket states its
        finding by a stating word ("noted", "present", «отмечается») or a measure - or, in Russian, by the
        nominative of a finding after a denial that takes the genitive: «Нет асцита (спленомегалия)». A
        bracket that only goes on the denied list ("No splenomegaly (or ascites)") stays denied."""
        if (
            modifier.category not in ("NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE")
            or modifier.modifier_span[1] > ent.start
        ):
            return False
        doc, sent = ent.doc, ent.sent
        text = doc.text
        trigger_end = doc[modifier.modifier_span[1] - 1].idx + len(doc[modifier.modifier_span[1] - 1].text)
        opener = max(text.rfind("(", trigger_end, ent.start_char), text.rfind("[", trigger_end, ent.start_char))
        if opener < 0 or text.find(_CLOSER[text[opener]], opener, ent.start_char) >= 0:
            return False  # the target is in no bracket opened after the trigger
        closer = text.find(_CLOSER[text[opener]], ent.end_char, sent.end_char)
        if closer < 0:
            return False
        lead = normalise(text[opener + 1 : ent.start_char])
        inside = lead + " " + normalise(text[ent.end_char : closer])
        if _BRACKET_DENIAL.search(inside) or _GOES_ON.match(lead):
            return False  # "(splenomegaly not seen)", "(or splenomegaly)": a denial of its own, the denied list
        if _MEASURE.search(inside) or (self._assertive is not None and self._assertive.search(inside)):
            return True
        trigger = normalise(doc[modifier.modifier_span[0] : modifier.modifier_span[1]].text)
        return bool(
            self._genitive_denial is not None
            and self._nominative is not None
            and self._genitive_denial.fullmatch(trigger)
            and self._nominative.fullmatch(normalise(ent.text))
            and not inside.strip(" ,")
        )

    def _next_clause_denial(self, modifier: Any, ent: Any) -> bool:
        """ConText's denial ``modifier`` of ``ent`` is the next clause's (:meth:`_own_clause`)."""
        start, end = modifier.modifier_span
        if modifier.category != "NEGATED_EXISTENCE" or start < ent.end:
            return False
        return self._own_clause(ent, ent.doc[start:end].text, ent.doc[start].idx)

    def _own_clause(self, ent: Any, denial: str, at: int) -> bool:
        """ "Гепатомегалия, спленомегалии нет": a finding that opens the sentence in the nominative and
        ends at a comma states itself; a denial that takes the genitive ("нет", at char ``at``) belongs
        to the next clause, whose finding is named in the genitive ("спленомегалии"). Only when such a
        finding stands between: "Асцит, отеки - нет" (both nominative) still denies both."""
        nominative, genitive, singular = self._nominative, self._genitive_denial, self._singular_denial
        if nominative is None or genitive is None:
            return False
        takes_genitive = genitive.fullmatch(normalise(denial)) is not None
        agrees = singular is not None and singular.fullmatch(normalise(denial)) is not None
        if not (takes_genitive or agrees):
            return False
        doc = ent.doc
        if ent.end >= len(doc) or doc[ent.end].text != ",":
            return False
        opener = self._opener
        if any(
            not t.is_punct and (opener is None or not opener.fullmatch(normalise(t.text)))
            for t in doc[ent.sent.start : ent.start]
        ):
            return False  # not the sentence's opening words (adjectives before it aside)
        if not nominative.fullmatch(normalise(ent.text)):
            return False
        between = [other for other in doc.ents if ent.end_char < other.start_char and other.end_char <= at]
        if takes_genitive:
            return any(not nominative.fullmatch(normalise(other.text)) for other in between)
        # a singular predicate agrees with one finding only: "Двусторонний гидроторакс, асцит не выявлен"
        # denies the ascites (probe57 D1); "Гидроторакс, асцит не выявлены" (plural) denies both. Only when
        # the first finding is described ("двусторонний"): a bare "Гидроторакс, асцит не выявлен" may be a
        # list agreeing with its nearest member, and a denial is not taken from it on a guess
        described = any(not t.is_punct for t in doc[ent.sent.start : ent.start])
        return described and len(between) == 1 and nominative.fullmatch(normalise(between[0].text)) is not None


#: a denial limited to one place and a clause that, without repeating the noun, states it in another (probe95
#: D18): "No sclerotic lesions in the skull, but multiple in the pelvis", "…; multiple in the pelvis", "Sclerotic
#: lesions: none in the skull, several in the pelvis", «Склеротических очагов в черепе нет, но множественные в
#: костях таза». A count or degree word, then a place ("No sclerotic lesions in the skull or pelvis", "…, pelvis
#: or spine" name no second finding; "…; a lytic lesion in L3" is another kind)
_ELSEWHERE_QUANTITY = (
    r"multiple|several|numerous|many|few|some|scattered|two|three|four|five|\d+|one|single|a|an|"
    r"small|mild|moderate|large|trace|minimal|marked|massive|"
    r"множественн\w*|единичн\w*|несколько|многочисленн\w*|одиночн\w*|один|одна|два|две|три|небольш\w*|"
    r"умеренн\w*|выраженн\w*"
)
_PLACE_THEN = (
    r"(?:[\s\-]+[^\W\d_]+){0,3}?(?:\s*:\s*(?:none|no|nil|absent|нет))?"
    r"[\s\-]+(?:in|at|of|within|involving|on|в|во|на)\s[^,;.()]{1,60}?"
)
_RESTATED_ELSEWHERE = re.compile(
    r"(?:,|;|\s+(?=but\b|но\b|а\b))\s*(?:(?:but|whereas|while|however|although|though|and|но|а|однако|тогда как)\b,?\s*)?"
    r"(?P<again>(?:there\s+(?:are|is)\s+)?"
    rf"(?:{_ELSEWHERE_QUANTITY})\s+(?:(?:few|small|tiny|large|larger|ones?|amount|volume|quantity|are|is|were|was|"
    r"seen|noted|present|identified|мелк\w*|крупн\w*|количеств\w*|определяются|выявлены|имеются)\s+){0,3}"
    r"(?:in|at|within|involving|throughout|across|on|в|во|на)\s[^,;.()]{1,60})",
)
_RESTATED_AFTER_PLACE = re.compile(_PLACE_THEN + _RESTATED_ELSEWHERE.pattern)
_RESTATED_IN_PLACE = re.compile(r"[^,;.()]{0,60}?" + _RESTATED_ELSEWHERE.pattern)
#: ... or a denial said of one side or place, then "present" of another (probe95 D25): "Papilloedema absent on
#: the left but present on the right", «Папиллоэдема слева отсутствует, справа определяется»
_PRESENT_ELSEWHERE = re.compile(
    r"(?:[\s\-]+[^\W\d_]+){0,3}?\s+(?:(?:is|are|was|were)\s+)?(?:absent|not\s+seen|not\s+present|negative)"
    r"\s+(?:in|at|on)\s[^,;.()]{1,40}?(?:,|;|\s+(?=but\b|whereas\b|while\b))\s*"
    r"(?:(?:but|whereas|while|and)\b,?\s*)?(?P<again>(?:(?:is|are|was|were)\s+)?(?:present|seen|noted|visible|evident)"
    r"\s+(?:in|at|on)\s[^,;.()]{1,40})"
    r"|\s+(?:(?:справа|слева)\s+(?:нет|отсутству\w*|не\s+выявлен\w*|не\s+определя\w*)"
    r"|(?:нет|отсутству\w*|не\s+выявлен\w*|не\s+определя\w*)\s+(?:справа|слева))\s*[,;]\s*(?:(?:но|а)\s+)?"
    r"(?P<again_ru>(?:справа|слева)\s+(?:есть|имеется|определя\w*|выявлен\w*)"
    r"|(?:есть|имеется|определя\w*|выявлен\w*)\s+(?:справа|слева))",
)


#: ... or a field's words said of one side, then the finding's own word of the other (probe100 D6): "Optic discs:
#: pink and sharp on the right, swollen on the left" is one swollen disc (read as both denied), «ДЗН: без отека
#: справа, слева отечен»; a disc not seen on one side ("…, not seen on the left") leaves that side unknown: a doubt
#: (one "not assessed", «слева не оценивалась», is no finding said and leaves the other side's denial)
_SIDE = r"(?:(?:on|in|at)\s+(?:the\s+)?(?:right|left)(?:\s+(?:eye|side))?|справа|слева|оң\s+жақта|сол\s+жақта)"
_SIDE_DEGREE = r"(?:(?:mildly|moderately|markedly|slightly|minimally|severely|grossly|significantly|умеренно|незначительно|слегка|резко)\s+)?"
_OTHER_SIDE = re.compile(
    rf"[^,;.()]{{0,40}}?\s*{_SIDE}\s*[,;]\s*(?:(?:but|whereas|while|and|но|а)\b,?\s*)?"
    rf"(?:(?P<again_side>(?:(?:is|are|was|were)\s+)?{_SIDE_DEGREE}"
    r"(?:swollen|oedematous|edematous|enlarged|elevated|raised|blurred|present|seen|noted|visible|evident|"
    r"отечн\w*|отечен|увеличен\w*|ісінген)"
    rf"\s*{_SIDE}"
    rf"|{_SIDE}\s+{_SIDE_DEGREE}(?:отечн\w*|отечен|увеличен\w*|ісінген))"
    rf"|(?P<unseen>(?:not\s+(?:seen|visuali[sz]ed|viewed)|obscured|no\s+view|не\s+(?:видн\w*|визуализир\w*))\s*{_SIDE}"
    rf"|{_SIDE}\s+не\s+(?:видн\w*|визуализир\w*)))(?=\s*(?:$|[,;.)]))",
)

#: ... or a grade of the finding on the other side, in the next clause (fix139c, probe125 G5's rest): "Pleural effusion
#: still not seen on the left; on the right a moderate effusion", "No pleural effusion on the left, a small effusion on
#: the right", «Плевральный выпот слева не определяется; справа умеренный выпот» - the denial is one side's. Only a
#: grade and the finding's own words (a pneumothorax on the right is another finding; "on the right not assessed"
#: says nothing), the other side than the denial's (``_graded_other_side``)
_GRADE = (
    r"(?:small|moderate|large|trace|minimal|mild|massive|significant|marked|sizeable|substantial|"
    r"\d+(?:[.,]\d+)?\s*(?:ml|mm|cm)|небольш\w*|умеренн\w*|выраженн\w*|значительн\w*|незначительн\w*|"
    r"минимальн\w*|массивн\w*|\d+(?:[.,]\d+)?\s*(?:мл|мм|см))"
)
_GRADED_NOUN = (
    r"(?:amount|volume|quantity|of|pleural|effusions?|one|fluid|collection|layer|rim|o?edema|pitting|выпот\w*|"
    r"количеств\w*|жидкост\w*|плевральн\w*|от[её]к\w*)"
)
_GRADED_OTHER_SIDE = re.compile(
    rf"[^,;.()]{{0,60}}?(?P<side>{_SIDE})[^,;.()]{{0,40}}?\s*[,;]\s*(?:(?:but|whereas|while|and|но|а)\b,?\s*)?"
    rf"(?P<again>(?P<other>{_SIDE})\s*[-–—:]?\s*(?:there\s+is\s+)?(?:an?\s+)?{_GRADE}(?:\s+{_GRADED_NOUN}){{0,4}}"
    rf"|(?:there\s+is\s+)?(?:an?\s+)?{_GRADE}(?:\s+{_GRADED_NOUN}){{0,4}}\s+(?P<other_after>{_SIDE}))"
    r"(?=\s*(?:$|[,;.)]))",
)
_SIDE_WORD = re.compile(r"right|left|справа|слева|оң|сол")


def _graded_other_side(low: str, end: int, spans: list[tuple[int, int]]) -> str | None:
    """The clause that grades the finding on the other side than its denial's, after the mention ending at ``end``
    (see ``_GRADED_OTHER_SIDE``), or None; none when another target stands in it."""
    m = _GRADED_OTHER_SIDE.match(low, end)
    if m is None or any(m.start("again") <= start < m.end() for start, _ in spans):
        return None
    denied = _SIDE_WORD.search(m.group("side"))
    graded = _SIDE_WORD.search(m.group("other") or m.group("other_after"))
    if denied is None or graded is None or denied.group() == graded.group():
        return None  # "No effusion on the left; on the left a small one" is no other side
    return m.group("again")


def _restated_elsewhere(assertion: Assertion, low: str, end: int, spans: list[tuple[int, int]]) -> Assertion:
    """A denied mention whose place-limited denial is followed by the same finding elsewhere, the noun left
    out: present, the restating clause its trigger. Not when another target stands in that clause, nor when
    its place is another organ ("No sclerotic lesions in the skull, two in the lungs")."""
    if Modifier.NEGATED not in assertion.modifiers:
        return assertion
    # the place is the mention's own end ("очагов в костях черепа") or follows it ("lesions in the skull")
    placed = re.search(r"\s(?:in|at|within|в|во|на)\s", normalise(assertion.text)) is not None
    side = _OTHER_SIDE.match(low, end)
    if side is not None and not any(side.start() < start < side.end() for start, _ in spans):
        # "pink and sharp on the right, swollen on the left": the field's denying words are one side's
        if side.group("unseen"):
            return replace(
                assertion,
                modifiers=(assertion.modifiers - {Modifier.NEGATED}) | {Modifier.POSSIBLE},
                triggers=(*assertion.triggers, side.group("unseen")),
            )
        return replace(
            assertion,
            modifiers=assertion.modifiers - {Modifier.NEGATED},
            triggers=(*assertion.triggers, side.group("again_side")),
        )
    graded = _graded_other_side(low, end, spans)
    if graded is not None:
        return replace(
            assertion, modifiers=assertion.modifiers - {Modifier.NEGATED}, triggers=(*assertion.triggers, graded)
        )
    m = (
        _RESTATED_AFTER_PLACE.match(low, end)
        or (_RESTATED_IN_PLACE.match(low, end) if placed else None)
        or _PRESENT_ELSEWHERE.match(low, end)
    )
    if m is None:
        return assertion
    group = "again" if m.start("again") >= 0 else "again_ru"
    again = m.start(group)
    if any(again <= start < m.end() for start, _ in spans):
        return assertion
    if _ELSEWHERE.search(low, again, m.end()) and not _ELSEWHERE.search(low, end, again):
        return assertion
    return replace(
        assertion, modifiers=assertion.modifiers - {Modifier.NEGATED}, triggers=(*assertion.triggers, m.group(group))
    )


def _names_another(low: str, at: int, spans: list[tuple[int, int]]) -> bool:
    """The contrast clause that starts at ``at`` (up to a full stop or a semicolon) has a subject of its own:
    another target, or a new subject after the contrast word ("but there is …", "but a new lytic lesion …")."""
    end = min((i for i in (low.find(".", at), low.find(";", at)) if i >= 0), default=len(low))
    return any(at <= start < end for start, _ in spans) or _NEW_SUBJECT.match(low, at) is not None


#: a contrast that opens with a subject of its own speaks of something else
_NEW_SUBJECT = re.compile(
    r"\s*[,;]?\s*(?:but|however|although|though|yet|whereas|while)\s*,?\s+"
    r"(?:there|a|an|new|another|other|several|multiple|some|few)\b"
)


#: a clause after a closing denial or doubt that takes it back: a contrast ("…are not seen on this CT, but are
#: seen on the PET", «…не выявлены на данной КТ, но определяются на ПЭТ») or an affirming predicate joined by
#: "and" ("…cannot be excluded on this CT, and are clearly seen on the MRI"): probe92 D7, read as absent
_CONTRAST_AFTER = re.compile(
    r"\s*[,;]?\s*(?:but|however|although|though|yet|whereas|while|но|однако|хотя|зато|а|бірақ|алайда|ал)\b"
    r"|\s*,?\s*(?:and|и)\s+(?!(?:[^\W\d_]+\s+){0,3}?(?:not|no|never|не|нет|ни)\b)(?:[^\W\d_]+\s+){0,3}?"
    r"(?:seen|visible|visuali[sz]ed|identified|demonstrated|detected|noted|present|confirmed|определя\w*|"
    r"выявля\w*|выявлен\w*|визуализир\w*|видн\w*|обнаружен\w*|подтвержден\w*)\b",
    re.IGNORECASE,
)


#: what sets a later phrase apart from a finding before a closing "?": a colon, a semicolon, a bracket, a dash
#: what a phrase regex takes after its last word and a span must not end with: the separators between a
#: phrase's words (lexicon.phrase_regex: spaces, a hyphen or any dash) - a dash kept in the span hid the
#: "– none –" after it (probe112 D2)
_SPAN_TAIL = " \t\n-‐‑‒–—"
_ASIDE_BREAK = re.compile(r"[:;(\[]|\s[-–—]\s|[–—]")


def _asked(assertion: Assertion, ent: Any) -> Assertion:
    """A finding stated in a sentence that ends in "?" is asked, not stated: possible ("Sclerotic lesion in
    L2? Ascites." read the lesion present, probe90 D8 - ConText's "?" reaches three words back). Only a
    plainly present finding in the sentence's last phrase ("Sclerotic lesion in L2 - metastasis?", "Ascites
    present, cause?" doubt the metastasis, the cause, not the finding)."""
    if assertion.modifiers:
        return assertion
    sent = ent.sent
    rest = ent.doc.text[ent.end_char : sent.end_char].rstrip(" .\t\r\n")  # " ." the engine added
    if not rest.endswith("?") or _ASIDE_BREAK.search(rest):
        return assertion
    # a comma sets the question's phrase apart too ("Splenomegaly 16 cm, portal hypertension?", «Склеротический
    # очаг в L2, метастаз?»: probe92 D3 - the cause, novelty or diagnosis is asked) - unless it ends
    # a list of bare findings: "Splenomegaly, ascites?" asks each (possible); a finding with words of its own
    # before the comma is stated ("Known sclerotic lesion in L2, progression?")
    comma = rest.rfind(",")
    listed = not rest[: rest.find(",")].strip() and any(
        o.start_char >= ent.end_char + comma for o in ent.doc.ents if o is not ent
    )
    if comma >= 0 and not listed:
        return assertion
    return replace(assertion, modifiers=frozenset({Modifier.POSSIBLE}), triggers=(*assertion.triggers, "?"))


#: words after a comma that ask whether the finding is there at all ("Ascites, or not?", "Ascites, real?")
_EXISTENCE_ASKED = re.compile(
    r"\b(?:or|not|no|yes|present|there|real|true|genuine|definite|definitely|certain|confirmed|artefact|artifact|"
    r"possible|possibly|likely|probable|probably|maybe|или|не|нет|да|есть|подтвержд\w*|достоверн\w*|реальн\w*|"
    r"истинн\w*|артефакт\w*|возможн\w*|вероятн\w*|немесе|жоқ|бар|ма|ме|ба|бе|па|пе)\b",
    re.IGNORECASE,
)


def _property_asked(modifier: Any, ent: Any) -> bool:
    """ConText's "?" after a comma asks a property of the finding before it, which is stated: "Ascites, new?",
    "Ascites, loculated?" (probe93 D15: the "?" reached three words back and doubted the ascites; "Splenomegaly
    16 cm, new?" is out of its reach and read present). Not when the phrase after the comma names another
    finding ("Splenomegaly, ascites?" asks each) or asks whether it is there ("Ascites, or not?", "…, real?")."""
    start, end = modifier.modifier_span
    doc = ent.doc
    if modifier.category != "POSSIBLE_EXISTENCE" or start < ent.end or doc[start:end].text != "?":
        return False
    commas = [t.i for t in doc[ent.end : start] if t.text == ","]
    if not commas:
        return False
    asked = doc[commas[-1] + 1 : start]
    if not any(t.is_alpha for t in asked) or any(ent.end <= o.start < start for o in doc.ents if o is not ent):
        return False
    return _EXISTENCE_ASKED.search(asked.text) is None


_CLOSER = {"(": ")", "[": "]"}


def _bracketed_apart(modifier: Any, ent: Any) -> bool:
    """The modifier's trigger sits in a bracket that names a finding of its own, and the target stands outside
    it: "Polyneuropathy (CIDP excluded)", "Splenomegaly (ascites not seen)" - the bracket's denial is its own
    finding's (probe88: it denied the polyneuropathy, the spleen). A bracket with no finding of its own
    speaks of the one before it: "Polyneuropathy (excluded)" stays denied."""
    doc, sent = ent.doc, ent.sent
    text = doc.text
    start, end = modifier.modifier_span
    at, stop = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
    opener = max(text.rfind("(", sent.start_char, at), text.rfind("[", sent.start_char, at))
    if opener < 0 or text.find(_CLOSER[text[opener]], opener, at) >= 0:
        return False  # not inside a bracket (or the last one closed before the trigger)
    closer = text.find(_CLOSER[text[opener]], stop, sent.end_char)
    if closer < 0 or opener < ent.start_char < closer:
        return False  # an unclosed bracket, or the target inside it too
    return any(o is not ent and opener < o.start_char and o.end_char <= closer for o in doc.ents)


#: a dash that parts clauses: a hyphen or any dash with white space on both sides, or an en or em dash
_CLAUSE_DASH = re.compile(r"\s[-‐‑‒–—―]\s|[–—―]")
#: what ends a clause before a denial's trigger: a sentence's stop, a semicolon, a comma, a parting dash
_CLAUSE_BREAK = re.compile(r"[.;,!?\n]|\s[-‐‑‒–—―]\s|[–—―]")


def _verdict_before_dash(modifier: Any, ent: Any) -> bool:
    """The denial ``modifier`` is a verdict on what stands before it in its clause, and ``ent`` lies past the
    dash that ends that verdict: "Spleen – not enlarged – hepatomegaly.", "Spleen not enlarged - hepatomegaly."
    (probe112 D9: the "not" of the spleen's verdict went on past the dash and denied the liver). A verdict is a
    denial with words of its clause before its trigger ("Spleen" - the organ it answers) and no finding named
    between its trigger and the dash: a denial that leads its list ("No splenomegaly - hepatomegaly",
    "Not seen - ascites") keeps reaching past a dash (a dash-parted list of denied findings, the safe side)."""
    if modifier.category != "NEGATED_EXISTENCE":
        return False
    doc, sent = ent.doc, ent.sent
    start, end = modifier.modifier_span
    if end > ent.start:
        return False  # the trigger is not before the target
    text = doc.text
    at, stop = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
    dash = _CLAUSE_DASH.search(text, stop, ent.start_char)
    if dash is None:
        return False
    if any(o is not ent and stop <= o.start_char < dash.start() for o in doc.ents):
        return False  # the denial names a finding before the dash: it leads a list
    lead = text[sent.start_char : at]
    breaks = list(_CLAUSE_BREAK.finditer(lead))
    clause = lead[breaks[-1].end() :] if breaks else lead
    return any(c.isalpha() for c in clause)


#: an earlier examination: "previous", "prior", «предыдущем», Kazakh «алдыңғы»
#: «прежний» of an earlier study, not «по-прежнему» ("still", as before): «плеврального выпота по-прежнему не видно»
#: denies it today (probe122 D9: read as "not seen on the previous study", a new finding)
_FORMER = r"(?<!по\s)(?<!по-)прежн\w*"
_EARLIER = (
    r"(?:previous|prior|earlier|preceding|last|old|older|original|initial|baseline|"
    rf"предыдущ\w*|{_FORMER}|прошл\w*|исходн\w*|алдыңғы)"
)
#: a post-posed denial that says where the finding was not: on an earlier examination - "not seen on previous CT",
#: "not present on the prior study", "not previously seen", "was not visible at the last examination"
_SEEN_WORDS = (
    r"(?:seen|present|visible|identified|detected|demonstrated|shown|apparent|evident|visuali[sz]ed|noted|reported|"
    r"described)"
)
#: an examination named by its year: "the 2021 CT", "the PET-CT of March 2021" - or its date ("the CT of 12.03.2021")
_YEAR = r"(?:\d{1,2}[./-]\d{1,2}[./-])?(?:19|20)\d\d"
_STUDY = (
    r"(?:ct|mri|mr|pet(?:[-/ ]?ct)?|x-?rays?|radiographs?|scans?|stud(?:y|ies)|exam(?:ination)?s?|imaging|survey|"
    r"bone\s+scan|scintigraphy)"
)
_NOT_ON_EARLIER = re.compile(
    rf"(?:not|never)\s+(?:(?:been|previously)\s+)?{_SEEN_WORDS}\s+(?:(?:on|at|in|by|from)\s+"
    rf"(?:(?:the|a|an|his|her|their|our)\s+)?{_EARLIER}\b|previously\b)|"
    # ... "not previously seen", "never previously identified"
    rf"(?:not|never)\s+(?:been\s+)?previously\s+{_SEEN_WORDS}\b|"
    # ... or the denial's adjective before the time: "Ascites: absent previously, now moderate", "none on the prior CT"
    rf"(?:absent|none|nil)\s+(?:previously|before|earlier|formerly|(?:on|at|in)\s+(?:(?:the|a|an)\s+)?{_EARLIER}\b)|"
    # ... or the earlier study named by its year: "not visualised on the 2021 CT", "absent on the CT of 2021" (probe130
    # G4: no progression read)
    rf"(?:(?:not|never)\s+(?:(?:been|previously)\s+)?{_SEEN_WORDS}|absent)\s+(?:on|at|in|by)\s+(?:the\s+)?"
    rf"(?:{_YEAR}\s+{_STUDY}|{_STUDY}\s+(?:(?:of|from|in|dated)\s+(?:\w+\s+)?)?{_YEAR})\b",
    re.IGNORECASE,
)
#: ... or its first words after "previously": "Ascites - previously not seen", "Ascites: previously absent, now
#: moderate" (probe125 G5: read as denied today)
_NOT_SEEN = re.compile(rf"(?:(?:not|never)\s+(?:been\s+)?{_SEEN_WORDS}|absent|none|nil)\b", re.IGNORECASE)
#: what may stand between the finding and such a denial: a few words of its site ("L3", "in the left iliac bone"), a
#: mark, a copula, "previously", and - in Russian and Kazakh, where the place comes first - the earlier
#: examination right before the denial: «Плевральный выпот, на предыдущем КТ не определялся», «Асцит, ранее не
#: выявлялся», «Плевралық сұйықтық — алдыңғы КТ-да анықталмаған»
#: a Russian examination named by its year or date: «КТ 2021 г.», «МРТ 2021 года», «КТ от 12.03.2021», «ПЭТ-КТ
#: (2021 г.)» - an earlier study as «предыдущее КТ» is (probe132 item 4: «не определявшийся на КТ 2021 г.» raised no
#: radiologic progression where "not seen on the 2021 CT" did)
_RU_YEAR = rf"{_YEAR}(?:\s*(?:гг?\.?|год[ауе]?)(?!\w))?"
_RU_STUDY = (
    r"(?:кт|мскт|мрт|пэт(?:[-/ ]?кт)?|рентген\w*|снимк\w*|исследовани\w*|сцинтиграф\w*|остеосцинтиграф\w*|"
    r"томограм\w*|обследовани\w*)"
)
_RU_DATED_STUDY = rf"(?:{_RU_STUDY}\s+(?:от\s+|за\s+)?\(?{_RU_YEAR}\)?|в\s+{_RU_YEAR})"
_BEFORE_EARLIER_DENIAL = re.compile(
    r"(?:[\s,()]*[^\W_][\w/.-]*){0,6}?[\W_]*(?:(?:was|were|is|are|has|have|had|been)\s+)*(?P<previously>previously\s+)?"
    rf"(?P<earlier>(?:(?:на|при|по)\s+(?:данным\s+)?(?:{_EARLIER}(?:\s+[^\W\d_][\w-]*){{0,2}}|{_RU_DATED_STUDY})|"
    # ... «ранее (КТ 2021 г.) не определялся»: the earlier study in a bracket after the time word
    rf"(?:ранее|прежде|раньше|бұрын)(?:\s*\((?:на\s+|по\s+данным\s+)?(?:{_RU_DATED_STUDY}|{_RU_STUDY})\s*\))?|"
    rf"{_EARLIER}(?:\s+[\w-]+){{1,2}})\s*)?",
    re.IGNORECASE,
)
#: a finding's site before a verb that says something of it ("in T6 and L3", "(T6, L3)"): a few words with no
#: verdict of their own (not "are stable and new lytic lesions have developed")
_SITE_BEFORE_VERB = (
    r"(?:[\s,()]*(?!(?:is|are|was|were|stable|unchanged|persist\w*|new|newly|but|while|whereas|и|но|а|без)\b)"
    # a word is taken whole (possessive): a word split into several "words" in every way made the match
    # exponential in a long word (2.7 ms a finding, a fifth of the Synthea corpus's evaluation)
    r"[^\W_][\w/.-]*+){0,6}?[\s,()]*"
)
#: a Russian or Kazakh denial in the past: «не определялся», «не был выявлен», «анықталмаған», «анықталған жоқ»
_PAST_DENIAL = re.compile(
    # ... or «отсутствовал(а/о/и)» - «Асцит: ранее отсутствовал, сейчас умеренный» (probe130 G2: read as denied today)
    r"(?:не\s+(?:был\w*\s+)?[а-яё]+(?:л|ла|ло|ли|лся|лась|лось|лись|н|на|но|ны)|отсутствовал[аои]?|"
    # ... or its participle: «очаг, не определявшийся на КТ 2021 г.», «не выявленный ранее» (probe132 item 4)
    r"не\s+[а-яё]+(?:вш|енн|анн)[а-яё]*|"
    r"[^\W\d_]+(?:маған|меген|баған|беген|"
    r"паған|пеген)|[^\W\d_]+(?:ған|ген|қан|кен)\s+жоқ|[^\W\d_]+(?:мады|меді|бады|беді|пады|педі))\b",
    re.IGNORECASE,
)

#: ... or the earlier study after a Russian denial in the past, the clause's last words: «не определялся на предыдущем
#: КТ», «не выявлялся ранее», «не определялся по данным прошлого исследования»
_EARLIER_AFTER = re.compile(
    rf"\s+(?:(?:на|при|в|по\s+данным)\s+(?:{_EARLIER}(?:\s+[^\W\d_][\w-]*){{0,2}}|{_RU_DATED_STUDY})|{_RU_DATED_STUDY}|"
    r"ранее|прежде|раньше)\s*",
    re.IGNORECASE,
)

#: a size verdict at a target's end ("Spleen 14 cm, enlarged", «селезенка увеличена»)
_SIZE_VERDICT_END = re.compile(r"(?:enlarged|palpable|увеличен\w*|пальпиру\w*|ұлғай\w*|үлкейген)$")
#: ... followed right away by an earlier study or time (`layout.EARLIER_TIME`)
_EARLIER_TIME_AFTER = re.compile(rf"[^\S\n]+{EARLIER_TIME}", re.IGNORECASE)
#: ... or with the time right before it, inside the target: "Spleen: previously enlarged", «Селезенка: ранее
#: увеличена», «Көкбауыр: бұрын ұлғайған» (the mapping's organ phrases take such a word; fix139c) - also that time's
#: denial: "Spleen: previously not enlarged" says nothing of today
_EARLIER_TIME_BEFORE = re.compile(
    rf"(?<!\w){EARLIER_TIME}[^\S\n]+(?:(?:not|не|mildly|moderately|markedly|slightly|умеренно|незначительно|"
    r"значительно|слегка|несколько|резко)[^\S\n]+){0,2}\S+$",
    re.IGNORECASE,
)
#: today's normal size said after such a verdict: "…, now of normal size", "…, currently not enlarged", «…, сейчас
#: нормальных размеров», «…, в настоящее время не увеличена»
_TODAYS_NORMAL_SIZE = re.compile(
    r",\s*(?:(?:but|and|а|но)\s+)?(?:now|currently|today|at\s+present|сейчас|теперь|в\s+настоящее\s+время|қазір)\s+"
    r"(?P<words>(?:(?:is|of)\s+)*(?:normal(?:\s+(?:in\s+)?size|[\s-]sized)?|not\s+enlarged|within\s+normal\s+limits|"
    r"unremarkable)\b|(?:нормальн|обычн)\w*\s+размер\w*|не\s+увеличен\w*|(?:размер\w*\s+)?в\s+(?:норме|пределах\s+нормы)|"
    r"норма\b|қалыпты|ұлғаймаған)",
    re.IGNORECASE,
)


def _of_an_earlier_time(text: str, start: int, end: int) -> int | None:
    """Where the words of an earlier time end, when the target ``text[start:end]`` ends with a size verdict they
    follow: "Spleen 11 cm, mildly enlarged previously.", «Селезенка 14 см, увеличена в 2021 г., сейчас 11 см.» -
    that time's verdict, not today's (probe122: read as today's enlargement; after a dash `layout.dashed_yes` leaves
    it unread since probe122 D5). "…, enlarged since 2021", "…, enlarged, previously 12 cm" are today's."""
    if _SIZE_VERDICT_END.search(text, start, end) is None:
        return None
    if _EARLIER_TIME_BEFORE.search(text, start, end) is not None:
        return end  # "Spleen: previously enlarged, now normal" as "Spleen: enlarged previously, now normal" (fix139c)
    after = _EARLIER_TIME_AFTER.match(text, end)
    return after.end() if after is not None else None


def _todays_size_after_earlier(text: str, start: int, end: int) -> tuple[int, int] | Literal[False] | None:
    """For the target ``text[start:end]``: None where it is no size verdict of an earlier time (`_of_an_earlier_time`);
    else where today's normal size is said after it ("…, now of normal size": the enlargement is historical, as "…,
    now normal" is - criteria.md §3.3, present at any time, a clinician dates it), or False (no verdict of today's:
    "Spleen 14 cm, enlarged in 2021, now 11 cm." is not read, as after a dash since probe122 D5)."""
    after = _of_an_earlier_time(text, start, end)
    if after is None:
        return None
    today = _TODAYS_NORMAL_SIZE.search(text, after, _clause_stop(text, after))
    return today.span("words") if today is not None else False


#: a finding's own clause, then "and not seen since" (up to today): "and not seen since", "and has not been seen
#: since", "but hasn't been identified again", «и с тех пор не выявлялась», «, с тех пор не определяется», Kazakh «,
#: содан бері анықталмады» (UNVERIFIED: not seen in real letters). English wants "and"/"but": "Splenomegaly has not been
#: seen since." alone, or after a comma, is a denial (fix139c)
_NOT_SEEN_SINCE = re.compile(
    r"(?:[,;]\s*)?(?P<clause>(?:(?P<joined>and|but)\s+)?(?:(?:has|have|had|was|were|is|are)(?:\s*n['’]t|\s+not|\s+never)|"
    r"not|never)\s+(?:been\s+)?(?:seen|identified|detected|demonstrated|visuali[sz]ed|present|found|evident|noted|"
    r"observed|apparent|visible|documented|appreciated)\s+(?:ever\s+)?(?:since|again|subsequently|thereafter)\b|"
    r"(?:(?<=[,;])\s*(?:(?:и|но|а)\s+)?|(?<=\s)(?:и|но|а)\s+)с\s+тех\s+пор\s+не\s+(?:определя|выявля|"
    r"визуализиру|обнаружива|отмеча|наблюда)\w*|(?:(?<=[,;])\s*|(?<=\s)(?:және|бірақ|алайда)\s+)содан\s+бері\s+"
    r"(?:анықталма|байқалма|көрінбе)\w*)"
)
#: a denial in the finding's own words or its clause before "… since": "was not present in 2021 and has not been seen
#: since" denies it then and now
_STATED_DENIAL = re.compile(
    r"\b(?:not|no|never|none|nil|without|absent|negative|excluded|normal|unremarkable|нет|не|ни|без|жоқ|емес)\b|"
    r"n['’]t\b|\bотсутству\w*|[^\W\d_]+(?:маған|меген|баған|беген|паған|пеген)\b"
)
#: where the finding's clause ends before "… since": a line end, a full stop that ends a sentence (not a decimal point,
#: nor a year's abbreviation before a small letter: «в 2021 г. и с тех пор …»)
_SINCE_CLAUSE_STOP = re.compile(r"\n|\.(?!\d|\s*[,;]|\s+[a-zа-яёәғқңөұүһі])")


#: a denial that opens a clause of its own: a coordinator after it no longer closes the list before it
_DENIAL_WORDS = r"(?:no|not|none|without|negative|absent|нет|не|без|жоқ)"


#: an earlier time in a finding's own verdict: "moderate previously", «ранее умеренный», "moderate in 2021"
_EARLIER_WORDS = re.compile(rf"(?:^|\s)(?:(?:was|were)\s+)?{EARLIER_TIME}|^(?:(?:was|were)\s+)", re.IGNORECASE)
#: today's absence as the whole next clause: ", now absent", ", but currently not seen", ", not now", «, сейчас
#: отсутствует», «, в настоящее время не определяется», Kazakh «, қазір жоқ» (UNVERIFIED: not seen in real letters)
_TODAYS_ABSENCE = re.compile(
    r",\s*(?:(?:but|and|а|но)\s+)?(?P<words>(?:(?:now|currently|today|at\s+present|сейчас|теперь|в\s+настоящее\s+время|"
    r"қазір)\s+(?:(?:is|are|has|have)\s+)?(?:absent|resolved|gone|none|nil|not\s+(?:seen|present|visible|detected|"
    r"identified|evident)|отсутству\w*|нет|не\s+(?:определя|выявля|визуализиру|лоциру)\w*|купирован\w*|"
    r"разрешил\w*|жоқ|анықталмайды)|not\s+now|no\s+longer(?:\s+(?:seen|present|visible|evident))?))\s*(?=[.;\n]|$)"
)
#: how far from a finding the words that say it is new are looked for (`TextEngine._said_new`): two describing
#: words before it, or its site's six words and the verb after it
_NEW_WINDOW = 240
#: an earlier study or time anywhere in a clause (`layout.EARLIER_TIME`)
_EARLIER_TIME_IN = re.compile(rf"(?<!\w){EARLIER_TIME}", re.IGNORECASE)
#: a dash or a colon opening a finding's verdict: "ascites - moderate", "ascites: moderate"
_VERDICT_MARK = re.compile(r"^\s*[-–—:]+\s*")
_DASHES = ("-", "–", "—", "--")


def _free_dash(token: Any) -> bool:
    """A dash token with a space on both sides: a clause's mark, not a word's hyphen ("T-spine", «гепато-»)."""
    return (
        token.text in _DASHES and bool(token.whitespace_) and token.i > 0 and bool(token.doc[token.i - 1].whitespace_)
    )


def _chars(span: Any) -> tuple[int, int]:
    return span.start_char, span.end_char


def _clause_stop(text: str, at: int) -> int:
    """The end of the sentence or clause (a full stop, a semicolon, a line end) from ``at``."""
    # an abbreviation's full stop before a comma («в 2021 г., сейчас …») ends no clause
    stop = re.compile(r"[;\n]|\.(?!\d|\s*[,;])").search(text, at)
    return stop.start() if stop is not None else len(text)


#: a denial on the earlier study that goes on to another time or study: "or now", "nor on this study", "or today"
_LEADING_COPULA = re.compile(
    # ... or "that were absent on the previous CT" (probe130 G4)
    r"^(?:(?:was|were|is|are|has|have|had|been)\s+)+(?=not\b|never\b|absent\b)",
    re.IGNORECASE,
)
_OR_TODAY = re.compile(
    # "… and not now", "… and not on the current study": the denial goes on to today too (probe128 D4's control)
    r"\b(?:and|nor)\s+not\s+(?:(?:on|in|at)\s+)?(?:the\s+)?(?:now|today|currently|this|current|present)\b|"
    r"\b(?:or|nor)\s+(?:(?:on|in|at)\s+)?(?:the\s+)?(?:now|today|currently|this|current|present)\b|"
    r"\b(?:или|ни)\s+(?:на\s+)?(?:сейчас|сегодня|данн\w*|настоящ\w*|текущ\w*)|"
    # ... "and now" ending the clause: "Ascites: absent previously and now" («… и сейчас» is `_TODAY_TOO`'s); "…
    # and now moderate" says more
    r"\b(?:and|as)\s+(?:(?:on|in|at)\s+)?(?:the\s+)?(?:now|today|currently|at\s+present|(?:this|the\s+current|"
    r"current|present)\s+(?:study|exam|examination|scan|ct|mri))\s*$",
    re.IGNORECASE,
)
#: the rest of the sentence denies the finding today too: "…, still absent", "(still not seen)", "; no ascites now",
#: «…, в настоящее время также не определяется», «… әлі де анықталмайды»
_STILL_DENIED = re.compile(
    r"\b(?:absent|no|not|nor|none|neither|without)\b|n't\b|"
    r"\b(?:отсутству\w*|нет|не|ни|без|жоқ|емес)\b|[^\W\d_]+(?:майды|мейді|байды|бейді|пайды|пейді|маған|меген)\b",
    re.IGNORECASE,
)


#: a clause after the denial that is only today, its verb left out: «…, и сейчас», «…, как и в настоящее время», "…, as
#: now", "… (or today)" - the denial goes on to it (probe117 D4: read new, present); a clause that says more ("…, now
#: moderate", «…, и сейчас умеренный») is no such
_TODAY_TOO = re.compile(
    r"\s*(?:(?:or|as|like|и|или|как\s+и|так\s+же\s+как\s+и)\s+)?(?:(?:on|in|at|на|при|в)\s+)?(?:the\s+)?"
    r"(?:now|today|currently|at\s+present|(?:this|the\s+current|current|present|today'?s)\s+(?:study|exam|examination|scan|ct|mri)|"
    r"сейчас|теперь|сегодня|в\s+настоящее\s+время|(?:данн|настоящ|текущ|сегодняшн)\w*\s+[\w-]+)"
    r"(?:\s+(?:too|also|either|тоже|также))?\s*",
    re.IGNORECASE,
)


#: where the clause of an earlier-study denial ends: a date's stops and an abbreviation's before a lower-case word, a
#: comma or a bracket end none («не определявшийся на КТ от 12.03.2021 г., и сейчас не определяется», probe132)
_REST_CLAUSE_STOP = re.compile(r"[;,()\n]|\.(?!\d|\s*[a-zа-яё,;)])")


def _next_clause_denies_today(rest: str) -> bool:
    """The clause after the first stop in ``rest`` (the text from an earlier-study denial to the sentence's end) denies
    the finding today: "…, still absent", "(still not seen)", «…, в настоящее время также не определяется» - or is
    only today, the denial's verb left out: «…, и сейчас» (`_TODAY_TOO`). Only the next clause ("…, now small, no
    pleural effusion" denies another finding)."""
    stop = _REST_CLAUSE_STOP.search(rest)
    if stop is None:
        return False
    nxt = re.split(r"[.;,()\n]", rest[stop.start() + 1 :], maxsplit=1)[0]
    if _TODAY_TOO.fullmatch(nxt) is not None:
        return True
    return _STILL_DENIED.search(nxt) is not None and all(_ONLY_TODAYS_DENIAL.fullmatch(w) for w in _WORD.findall(nxt))


#: the words of a clause that only denies the finding before it today, naming nothing else: "still absent", "still not
#: seen on the current study", «в настоящее время также не определяется» - not "no ascites", "no other lesions" (a
#: denial of another finding: fix120a's fallback read "Sclerotic lesion in L3, not seen on previous CT; no ascites." as
#: the lesion denied today)
_ONLY_TODAYS_DENIAL = re.compile(
    r"still|also|again|too|either|currently|now|today|presently|present|remains?|is|are|was|were|be|been|has|have|and|"
    r"but|or|nor|as|before|at|on|in|the|this|current|study|exam|examination|scan|ct|mri|imaging|absent|not|no|none|"
    r"never|neither|seen|identified|detected|visible|visuali[sz]ed|noted|demonstrated|evident|found|"
    r"и|но|а|или|ни|в|на|при|настоящее|время|сейчас|теперь|сегодня|также|тоже|по-прежнему|данном|данной|настоящем|"
    r"текущем|исследовании|кт|мрт|не|нет|отсутству\w*|определя\w*|выявля\w*|визуализир\w*|обнаружива\w*|"
    r"қазір|де|да|әлі|[^\W\d_]+(?:майды|мейді|байды|бейді|пайды|пейді|маған|меген)|жоқ|емес",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _denied_today(assertions: list[Assertion]) -> list[Assertion]:
    """A finding stated only as "not seen on the previous CT" is no new finding where the same text denies it
    elsewhere: "Pleural effusion - not seen on previous CT.⏎No pleural effusion on the current study." (probe117
    D1: the first line made it present)."""
    denied = {a.target for a in assertions if a.label == "negated"}
    if not denied or not any(a.new_since_earlier for a in assertions):
        return assertions
    return [
        replace(a, modifiers=frozenset({Modifier.NEGATED}), triggers=(*a.triggers, "denied elsewhere in the text"))
        if a.new_since_earlier and a.target in denied
        else a
        for a in assertions
    ]


def _weighed_and_denied(assertions: list[Assertion], weighed: re.Pattern[str] | None) -> list[Assertion]:
    """A diagnosis said to have been weighed ("Castleman disease was considered given the clinical history") in a
    text that denies it ("no evidence of Castleman disease") is the reasoning that led to the denial: denied too
    (probe132 D6: the comment's doubt outweighed the final diagnosis). Only a doubt that is nothing else (no
    history, no hypothesis), and only where the same text denies the same target; "X is considered" alone stays
    possible, and so does a present-tense doubt beside a denial."""
    if weighed is None:
        return assertions
    denied = {a.target for a in assertions if a.label == "negated"}
    if not denied:
        return assertions
    return [
        replace(a, modifiers=frozenset({Modifier.NEGATED}), triggers=(*a.triggers, "weighed and denied in the text"))
        if a.target in denied and a.modifiers == {Modifier.POSSIBLE} and _only_weighed(a, weighed)
        else a
        for a in assertions
    ]


def _only_weighed(a: Assertion, weighed: re.Pattern[str]) -> bool:
    """Every word that doubts ``a`` is inside its sentence's words of past weighing ("was considered" of "The
    differential diagnosis of X was considered"): another doubt in the sentence ("lymphoma was considered; X
    cannot be excluded") is a doubt still."""
    said = [m.group() for m in weighed.finditer(normalise(a.sentence))]
    return bool(said and a.triggers) and all(any(normalise(t) in s for s in said) for t in a.triggers)


def _not_on_the_earlier_study(modifier: Any, ent: Any) -> bool:
    """The denial ``modifier`` after the finding says the finding was not seen on an earlier examination (ConText's
    reading; `_on_the_earlier_study` says when)."""
    start = modifier.modifier_span[0]
    if modifier.category != "NEGATED_EXISTENCE" or start < ent.end:
        return False
    doc, sent = ent.doc, ent.sent
    at = doc[start].idx
    if any(o is not ent and ent.end_char <= o.start_char < at for o in doc.ents):
        return False  # another finding between: the denial is its
    return _on_the_earlier_study(doc.text[ent.end_char : at], doc.text[at : sent.end_char])


def _on_the_earlier_study(lead: str, rest: str) -> bool:
    """A denial after the finding (``lead`` the words between, ``rest`` the text from the denial to the sentence's
    end) that says the finding was not seen on an earlier examination: "Pleural effusion - not seen on previous
    CT.", "Ascites, not present on prior CT.", "- not previously seen", «Плевральный выпот, на предыдущем КТ не
    определялся», «Асцит, ранее не выявлялся» - the finding is new, stated (probe112 D5's same-line form read as
    denied; the next-line form is `_OTHER_STUDY_NOTE`'s). Only where nothing but a mark, a copula or the earlier
    study stands between the finding and the denial, and no word of this examination is in the clause ("not seen
    on this or the previous CT", "not seen, as on previous CT" deny)."""
    return _earlier_study_denial(lead, rest) == "new"


def _earlier_study_denial(lead: str, rest: str, *, this_exam: bool = True) -> str | None:
    """Whether the denial (``lead``, ``rest`` as `_on_the_earlier_study`'s) is one of an earlier examination: "new"
    where it denies only the earlier one, "today" where it goes on to this one too - "not seen on this or the
    previous CT", "… or now", "…, still absent" (probe117 D1), "…, и сейчас" (D4) - and None where it is no such
    denial. ``this_exam`` False: a word of this examination in the clause is not enough ("…, not seen on the previous
    study but are now present" states it), only "or"/"nor" before today or the next clause."""
    before = _BEFORE_EARLIER_DENIAL.fullmatch(lead)
    if before is None or _MAIN_DENIAL.search(lead):
        return None
    stop = _REST_CLAUSE_STOP.search(rest)
    clause = (rest[: stop.start()] if stop else rest).lstrip(_SPAN_TAIL + ",:")
    # ConText's trigger may start at the copula: "…, which were not present on the baseline PET-CT" (probe128 D4)
    clause = _LEADING_COPULA.sub("", clause)
    said = _NOT_ON_EARLIER.match(clause) or (_NOT_SEEN.match(clause) if before.group("previously") else None)
    if said is not None:  # its own "present" is no "present examination"
        # "… or now", "… or on the current study", "… nor on this study": the denial goes on to today (probe117)
        after = clause[said.end() :]
        today = _OR_TODAY.search(after) is not None or (this_exam and _THIS_EXAM.search(f"{lead} {after}") is not None)
    elif before.group("earlier") is not None and _PAST_DENIAL.match(clause) is not None:
        # Russian and Kazakh name the earlier study before the denial, the denial in the past: «на предыдущем КТ не
        # определялся»
        today = this_exam and _THIS_EXAM.search(clause) is not None
    elif (past := _PAST_DENIAL.match(clause)) is not None and _EARLIER_AFTER.fullmatch(clause, past.end()) is not None:
        # ... or after it, ending the clause: «Асцит - не определялся на предыдущем КТ, и сейчас умеренный», «…, не
        # выявлялся ранее» (probe121 D11: read as denied today)
        today = False
    else:
        return None
    # the next clause denies it today: "Ascites - not seen on previous CT, still absent." (probe117 D1: read as new)
    return "today" if today or _next_clause_denies_today(rest) else "new"


#: where such a denial starts: "not seen on previous CT", «не определялся», «(на предыдущем КТ) не определялся»
#: (or "absent": "… that were absent on the previous CT", probe130 G4)
#: (or a Kazakh denial in the past: «Асцит: бұрын болмаған, қазір де жоқ», UNVERIFIED: not seen in real letters)
_DENIAL_START = re.compile(
    r"\b(?:not|never|absent|не|[^\W\d_]+(?:маған|меген|баған|беген|паған|пеген))\b", re.IGNORECASE
)


def _first_denial_after(text: str, ent: Any) -> re.Match[str] | None:
    """The first denial word after ``ent`` in its sentence, where no other finding stands between (the denial of an
    earlier examination that `_earlier_denial_new` and `_earlier_denial_today` weigh)."""
    start, end = ent.end_char, ent.sent.end_char
    said = _DENIAL_START.search(text, start, end)
    if said is None or any(o is not ent and start <= o.start_char < said.start() for o in ent.doc.ents):
        return None
    return said


def _earlier_denial_new(text: str, ent: Any) -> bool:
    """Whether the first denial after ``ent`` says only that it was not seen on an earlier examination (as
    `_earlier_denial_today` finds it, with no other finding between): "…, not seen on the prior study"."""
    start, end = ent.end_char, ent.sent.end_char
    said = _first_denial_after(text, ent)
    if said is None:
        return False
    if _KNOWN_LESION.search(text, start, said.start()):
        return False  # "Sclerotic lesions unchanged, not seen on the prior CT": a known one, not said new
    return _earlier_study_denial(text[start : said.start()], text[said.start() : end]) == "new"


#: words that say a finding is a known one: it is not new, whatever follows
_KNOWN_LESION = re.compile(
    r"\b(?:unchanged|stable|persist\w*|known|again|без\s+динамики|стабильн\w*|прежн\w*|известн\w*)\b", re.IGNORECASE
)


def _earlier_denial_today(text: str, ent: Any) -> str | None:
    """The words of a denial of an earlier examination after ``ent`` that goes on to this one, where the closing
    denial does not reach it - its places too many words ("Pleural effusion - not seen on previous CT or on the current
    study."), a bracket after them ("… (still not seen)."): the finding is denied (probe117 D4: read new, present).
    Only the first denial after the finding, with nothing but what `_BEFORE_EARLIER_DENIAL` allows and no other
    finding between."""
    start, end = ent.end_char, ent.sent.end_char
    said = _first_denial_after(text, ent)
    if said is None:
        return None
    if _earlier_study_denial(text[start : said.start()], text[said.start() : end], this_exam=False) != "today":
        return None
    words = (
        _NOT_ON_EARLIER.match(text, said.start(), end)
        or _NOT_SEEN.match(text, said.start(), end)
        or _PAST_DENIAL.match(text, said.start(), end)
    )
    return words.group() if words is not None else said.group()


#: a measure that states a finding ("16 cm", «14 см»)
_MEASURE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:cm|mm|см|мм)\b", re.IGNORECASE)
#: a denial in a bracket: it speaks of its finding as a denial of its own
_BRACKET_DENIAL = re.compile(r"\b(?:no|not|nor|without|none|absent|negative|нет|не|ни|без|отсутству\w*|жоқ|емес)\b")
#: a coordinator that opens a bracket: it goes on the list before it ("No splenomegaly (or ascites)")
_GOES_ON = re.compile(r"\s*(?:or|and|nor|или|и|ни|немесе|және)\b")
#: another examination named in an aside: a modality, or an earlier study ("on X-ray", "on the radiographs",
#: "on the previous CT", «на рентгенограмме», «на УЗИ»)
_ANOTHER_EXAM = re.compile(
    r"\b(?:x[- ]?rays?|radiographs?|radiograph(?:y|ic)|plain\s+films?|films?|skeletal\s+survey|ultrasound|"
    r"ultrasonography|sonography|us|usg|mri|mr|ct|pet(?:[-/ ]?ct)?|scintigraphy|bone\s+scan|"
    r"previous|prior|earlier|last|old|outside|preceding|initial|baseline|former|"
    r"рентген\w*|узи|ультразвук\w*|мрт|кт|мскт|пэт(?:[-/ ]?кт)?|сцинтиграф\w*|остеосцинтиграф\w*|"
    rf"предыдущ\w*|{_FORMER}|ранее|прошл\w*|исходн\w*|удз|алдыңғы)\b",
    re.IGNORECASE,
)
#: a denial or doubt in the clause after an aside
_MAIN_DENIAL = re.compile(
    r"\b(?:no|not|never|without|cannot|can't|neither|nor|нет|не|ни|без|жоқ|емес)\b|n't\b", re.IGNORECASE
)
#: the examination the report is of: "this CT", "the current study", «данной КТ», «настоящем исследовании»
_THIS_EXAM = re.compile(
    r"\b(?:this|current|present|today'?s?|same|данн\w*|настоящ\w*|эт\w*|текущ\w*|сегодняшн\w*|осы|бұл)\b",
    re.IGNORECASE,
)


def _denied_elsewhere(modifier: Any, ent: Any) -> bool:
    """The denial ``modifier`` sits in an aside after the target - a bracket, or commas with the clause going
    on after them - that names another examination: "Sclerotic lesions (not seen on X-ray)", "Sclerotic
    lesions, not seen on the X-ray, are clearly seen on this CT", «Склеротические очаги (на рентгенограмме не
    видны)» (probe93 D10: read as absent). The finding is stated; the aside says where else it was not seen.
    A bare aside ("Sclerotic lesions (not seen)"), one about this examination ("(not seen on this CT)") and a
    comma that ends the sentence ("Sclerotic lesions, not seen on the X-ray") still deny."""
    start, end = modifier.modifier_span
    if modifier.category != "NEGATED_EXISTENCE" or start < ent.end:
        return False
    doc, sent = ent.doc, ent.sent
    text = doc.text
    at, stop = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
    opener = max(text.rfind("(", ent.end_char, at), text.rfind("[", ent.end_char, at))
    if opener >= 0:
        if text.find(_CLOSER[text[opener]], opener, at) >= 0:
            return False
        closer = text.find(_CLOSER[text[opener]], stop, sent.end_char)
        if closer < 0:
            return False
        aside_start, aside_end = opener, closer
    else:
        comma = text.rfind(",", ent.end_char, at)
        closer = text.find(",", stop, sent.end_char)
        after = text[closer + 1 : sent.end_char].strip(" .") if closer >= 0 else ""
        # the clause goes on past the aside's closing comma with words of its own ("are clearly seen"), no
        # denial of its own ("…, is also not seen on this CT" denies it still)
        if (
            comma < 0
            or closer < 0
            or not re.match(r"[^\W\d_]", after)
            or _MAIN_DENIAL.search(after)
            or text.find(",", ent.end_char, comma) >= 0
        ):
            return False
        aside_start, aside_end = comma, closer
    if any(aside_start < o.start_char < aside_end for o in doc.ents if o is not ent):
        return False  # the aside names a finding of its own
    aside = text[aside_start + 1 : at] + " " + text[stop:aside_end]
    return _ANOTHER_EXAM.search(aside) is not None and _THIS_EXAM.search(aside) is None


#: where a clause ends, for the words after a confirmation
_CLAUSE_END = re.compile(r"[;,.()]")
#: ... whose agent follows it: "confirmed by …", «подтвержден … по данным»
_AGENT = re.compile(r"\s*(?:by|from|according\s+to|по\s+данным|согласно)\b")
#: a negation ending just before a confirmation's words ("has not been", "could not be", «не»): no confirmation
_NOT_JUST_BEFORE = re.compile(r"(?:\b(?:not|never|no|не|ни|емес)|n't)\s+(?:(?:be|been|yet|be\s+fully)\s+)?$")


def _anywhere(phrases: list[str]) -> re.Pattern[str] | None:
    """The phrases anywhere in a lower-cased text (``normalise``)."""
    return re.compile("|".join(phrase_regex(p) for p in phrases)) if phrases else None


def _headings(phrases: list[str]) -> re.Pattern[str] | None:
    """Headings at a line's start (after a bullet) before their colon - "Clinical details:", "CLINICAL
    HISTORY/INDICATION:" - on the lower-cased text (``normalise``)."""
    if not phrases:
        return None
    words = "|".join(phrase_regex(p) for p in phrases)
    return re.compile(rf"^[ \t]*(?:[-–•*·][ \t]*)?(?:{words})(?:/[^\n:]{{1,30}})?[ \t]*:", re.MULTILINE)


def _whole(phrases: list[str]) -> re.Pattern[str] | None:
    """A regex that matches a whole (normalised) text naming one of ``phrases``."""
    return re.compile("(?:" + "|".join(phrase_regex(p) for p in phrases) + ")") if phrases else None


def _says_before_comma(modifier: Any, ent: Any) -> bool:
    """A modifier other than a denial whose trigger follows the target before any comma: the
    target's own clause says it ("Гидроторакс регрессировал, ...", "Асцит под вопросом, ...")."""
    start = modifier.modifier_span[0]
    return (
        modifier.category != "NEGATED_EXISTENCE"
        and start >= ent.end
        and not any(t.text == "," for t in ent.doc[ent.end : start])
    )


def _before_comma(modifier: Any, ent: Any) -> bool:
    """A denial whose trigger comes before the target, with a comma between."""
    end = modifier.modifier_span[1]
    return (
        modifier.category == "NEGATED_EXISTENCE"
        and end <= ent.start
        and any(t.text == "," for t in ent.doc[end : ent.start])
    )


def _other_target_before(modifier: Any, ent: Any) -> bool:
    """Another target stands between ``ent`` and the modifier's trigger."""
    start = modifier.modifier_span[0]
    return any(ent.end <= other.start and other.end <= start for other in ent.doc.ents if other is not ent)


def _after_comma(modifier: Any, ent: Any) -> bool:
    """A denial whose trigger comes after the target, past a comma."""
    start = modifier.modifier_span[0]
    return (
        modifier.category == "NEGATED_EXISTENCE"
        and start >= ent.end
        and any(t.text == "," for t in ent.doc[ent.end : start])
    )


def _refuted_suspicion(mods: list[Any], ent: Any) -> list[Any]:
    """A suspicion stated first and then denied after the target is a negation: "Sclerotic lesions
    suspected on plain films were not confirmed on CT", "Подозрение на болезнь Кастлемана не
    подтвердилось". (Otherwise a doubt outranks a negation: "no definite X" stays possible.)"""
    negations = [m for m in mods if m.category == "NEGATED_EXISTENCE"]
    doubts = [m for m in mods if m.category == "POSSIBLE_EXISTENCE"]
    if not negations or not doubts:
        return mods
    first_negation = min(m.modifier_span[0] for m in negations)
    if first_negation >= ent.end and all(m.modifier_span[1] <= first_negation for m in doubts):
        return [m for m in mods if m.category != "POSSIBLE_EXISTENCE"]
    return mods


#: a doubt word after a "?" and a space: the "?" asks what is before it ("Splenomegaly ? equivocal")
_DOUBT_AFTER_QUERY = (
    r"probabl\w*|likely|suspect\w*|suspicious|equivocal|indeterminate|questionabl\w*|uncertain|borderline|"
    r"queried|под[ \t]+вопросом|сомнительн\w*|возможн\w*|вероятн\w*|мүмкін|күмәнді"
)
#: a "?" that opens what it doubts (at a line's start or after a comma, semicolon, colon or bracket,
#: before a word): "? sclerotic lesion", "Sclerotic lesions, ? metastases", "Dx: ? Castleman"; the
#: "¿" it becomes is a forward POSSIBLE trigger in the mapping. A "?" after words ("Is there
#: splenomegaly ? No") stays a question and a sentence end.
_QUERY_MARK = re.compile(
    r"(?:^|(?<=[,;:(])|(?<=[,;:(] ))\?(?=\s*[^\W\d_])"
    # probe86 D8: a "?" glued to the word it doubts after a space, in a list of queries or mid-sentence:
    # "Referral: ?CIDP ?POEMS polyneuropathy" (the second "?" cut the sentence, and "POEMS
    # polyneuropathy." was read as affirmed)
    r"|(?<=\s)\?(?=[^\W\d_])(?!(?i:yes|no|nil|none|да|нет)\b)"
    # and a "?" standing alone between words when a lower-case word follows that is no answer: "Small ?
    # pleural effusion", "? pleural effusion ? ascites" ("Is there splenomegaly ? No" stays a question)
    # (nor before a doubt word: "Splenomegaly ? equivocal", what "Splenomegaly .... equivocal" becomes, doubts the
    # spleen - probe90 D8)
    r"|(?<=[^\W_] )\?(?= (?!(?:yes|no|not|nil|none|neg\w*|pos\w*|да|нет|не|"
    + _DOUBT_AFTER_QUERY
    + r")\b)[a-zа-яёәғқңөұүһі])"
    # probe89 D13: a query list with capitals ("? Splenomegaly ? Ascites") - not before an answer or a degree
    r"|(?:^|(?<=\s))\?{1,3}(?= (?!(?i:yes|no|not|nil|none|neg\w*|pos\w*|small|mild|moderate|large|trace|"
    r"minimal|normal|да|нет|не|" + _DOUBT_AFTER_QUERY + r")\b)[^\W\d_])"
    # and a doubled mark glued to its word ("?? ascites", "??Ascites")
    r"|(?:^|(?<=\s))\?{2,3}(?=[^\W\d_])",
    re.MULTILINE,
)
_NORM_PIPE = "poems_fhir_norm"
#: the first words of a pseudo-negation that deny what the pseudo's own word names ("no increase of ...")
_DENYING_HEADS = frozenset({"no", "without", "нет", "без"})


def _own_pseudo_denial(ent: Any) -> Any | None:
    """The span of a pseudo-negation ("no progression of", "no increase in") inside which the target begins.

    Such a pseudo keeps what follows its own word stated ("no increase in the ascites": the ascites is there), but
    when that word is where the target itself begins - radiological progression, "increase in the number of
    lesions" - the target is what the "no" denies (probe109 D20: "No progression of disease." raised a progression
    alert). medspaCy prunes the plain "no" inside the longer pseudo, so ConText alone cannot say it."""
    for m in ent.doc._.context_graph.modifiers:
        start, end = m.modifier_span
        if m.category != "PSEUDO":
            continue
        if start < ent.start < end and normalise(ent.doc[start].text) in _DENYING_HEADS:
            return ent.doc[start:end]
        # ... and one that ends in its negative word speaks of a target inside it: "anti-MAG antibodies negative"
        # keeps the polyneuropathy before it stated and denies the anti-MAG neuropathy it names (probe110 D7)
        if start <= ent.start and ent.end <= end and normalise(ent.doc[end - 1].text).startswith(_NEGATIVE_TAILS):
            return ent.doc[start:end]
    return None


_NEGATIVE_TAILS = ("negative", "neg", "-ve", "отрицат", "негатив", "теріс")


_SHARED = "poems_fhir_shared"  # doc.user_data key: kept span -> targets that share its assertion
_INNER = "poems_fhir_inner"  # doc.user_data key: kept span -> targets inside it, kept when it is stated
#: doc.user_data key: kept span of a size verdict of an earlier time -> where today's normal size is said after it
_EARLIER_VERDICT = "poems_fhir_earlier_verdict"


def _register_norm() -> None:
    """A pipe that sets Token.norm_ to lower case with ё as е: what compiled phrases match."""
    from spacy.language import Language

    if _NORM_PIPE in Language.factories:
        return

    @Language.component(_NORM_PIPE)
    def norm(doc: Any) -> Any:
        for token in doc:
            token.norm_ = token.lower_.replace("ё", "е")
            if token.is_sent_start and _after_a_year_stop(token):
                token.is_sent_start = False
        return doc


#: a year's abbreviation: «2021 г.», «2020-2021 гг.», Kazakh «2019 ж.»
_YEAR_WORDS = frozenset({"г", "гг", "ж"})


def _after_a_year_stop(token: Any) -> bool:
    """Whether ``token``, a lower-case word, follows the full stop of a year's abbreviation (and a bracket or comma
    after it): «очаг, на КТ 2021 г. не определялся», «ранее (КТ 2021 г.) не определялся» - the sentencizer ended the
    sentence at the stop, so the denial lost its finding. The sentence goes on."""
    doc, i = token.doc, token.i - 1
    if not token.text[:1].islower():
        return False
    while i >= 0 and doc[i].text in {")", ",", "]"}:
        i -= 1
    return (
        i >= 2
        and doc[i].text == "."
        and doc[i - 1].lower_ in _YEAR_WORDS
        and not doc[i - 1].whitespace_
        and doc[i - 2].text[-1:].isdigit()
    )


def _medspacy_default_rules(lang: str) -> list[Any]:
    from medspacy.context import ConTextRule

    import medspacy

    root = Path(medspacy.__file__).resolve().parents[1] / "resources" / lang / "context_rules.json"
    return list(ConTextRule.from_json(str(root))) if root.exists() else []


def _literal_owners(specs: Sequence[ContextRuleSpec]) -> dict[tuple[str, str], int]:
    """For each words-only phrase a rule expands to (in one language, any case), the index of the last
    rule that yields it. Two rules yielding the same phrase match the same span and ConText keeps one of
    them by the order of all rules: "since resolved" came from a rule of reach 4 and one of reach 8, and
    adding any rule elsewhere flipped which one read "Papilloedema noted in 2021, since resolved" (found
    while adding a rule). The later rule wins, as a site's rule wins over a default."""
    owner: dict[tuple[str, str], int] = {}
    for n, spec in enumerate(specs):
        for lit in (expand_literals(spec.literal) if spec.pattern is None else None) or ():
            owner[(spec.lang, lit.lower())] = n
    return owner


def _later_wins(specs: Sequence[ContextRuleSpec]) -> list[ContextRuleSpec]:
    """The context rules with, for one words-only literal in one language (any case), only the last one:
    a site's rule comes after the defaults and replaces the default of the same literal. Two rules on
    the same words both match the same span and ConText keeps the first, so a site's "исключить"
    BACKWARD did nothing beside the default's FORWARD (probe39 X1)."""
    last: dict[tuple[str, str], int] = {}
    for i, spec in enumerate(specs):
        if spec.pattern is None:
            last[(spec.lang, spec.literal.lower())] = i
    return [
        spec for i, spec in enumerate(specs) if spec.pattern is not None or last[(spec.lang, spec.literal.lower())] == i
    ]
