# SPDX-License-Identifier: Apache-2.0
"""Parse immunofixation results ("IgA lambda", "IgG-λ", "biclonal IgG kappa and IgA lambda",
"negative", Russian "лямбда") into heavy chain, light chain and negative (codes.md §B).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .attachment import html_text, marked_up
from .text.lexicon import fold_lookalikes, phrase_regex


@dataclass(frozen=True)
class Band:
    heavy_chain: str | None  # "IgG" | "IgA" | "IgM" | "IgD" | "IgE" | None for free light chains or not stated
    light_chain: str | None  # "kappa" | "lambda" | None when not stated
    #: a light chain alone that its words call free ("free lambda", "lambda light chains", "Bence Jones lambda", a
    #: table's "Free" row); one named alone without them ("lambda band", "IgG 14 g/L; lambda band") is a band whose
    #: heavy chain is not stated (fix140b B2: it was labelled free). Said, not compared: the band is the same clone
    free: bool = field(default=False, compare=False)

    def label(self) -> str:
        if self.heavy_chain and self.light_chain:
            return f"{self.heavy_chain} {self.light_chain}"
        if self.light_chain and self.free:
            return f"free {self.light_chain} light chain"
        if self.light_chain:
            return f"{self.light_chain} (heavy chain not stated)"
        return f"{self.heavy_chain} (light chain not stated)"


@dataclass(frozen=True)
class IfeResult:
    negative: bool
    bands: tuple[Band, ...] = ()
    #: bands named with doubt ("possible faint IgG kappa band", "IgG kappa cannot be excluded") and
    #: whole results that are equivocal ("Equivocal", "сомнительный"): no confirmed clone, no negative
    possible: tuple[Band, ...] = ()
    equivocal: bool = False
    #: bands the text says were seen before ("Previously seen IgG kappa paraprotein is no longer detectable",
    #: "Negative (previously IgG lambda)"): not today's, but a clone the patient had (probe71 D11)
    earlier: tuple[Band, ...] = ()
    #: negative only by denying one light chain alone ("No kappa band", «каппа не выявлена»): no word against
    #: a clone of the other chain, so no contradiction of a coded Positive (probe88 D12)
    chain_only: bool = False
    #: the words contradict themselves - a result and its comment, a band and its withdrawal ("Negative.
    #: Comment: IgG lambda band noted.", "IgG lambda band. Comment: not confirmed on repeat."): both sides,
    #: quoted; the bands named go to ``possible`` (neither a clone nor its absence: probe90 D10)
    conflict: str = ""
    #: a clone of the tested specimen stated with no band named beside only another test's, specimen's or time's
    #: negative ("Monoclonal protein present. Bence Jones protein: negative.", «Моноклональный белок выявлен. Белок
    #: Бенс-Джонса не обнаружен.»): a positive result, its isotype not stated - the clause that states it (fix123b)
    untyped: str = ""

    @property
    def parsed(self) -> bool:
        return (
            self.negative
            or bool(self.bands)
            or bool(self.possible)
            or self.equivocal
            or bool(self.conflict)
            or bool(self.untyped)
        )


#: a negative as labs abbreviate it: "Neg", "Not det.", «Отр.», «Отриц.», «Не обн.», «Не выявл.» (probe123 D7)
_ABBREVIATED_NEGATIVE = r"(?:neg|not det|отр|отриц|не (?:обн|обнар|выявл))"
#: a clone's noun, the subject of a denial or an exclusion: "monoclonal …", "paraprotein(aemia)", "M-protein",
#: "gammopathy", «парапротеин(емия)», «М-градиент», «МГНЗ», Kazakh «моноклоналды …», «жолақ» (a band)
_CLONE_NOUN = (
    r"(?:monoclonal|paraprotein\w*|m[- ]?(?:protein|spike|component|band)|gammopath\w*|\bmgus|"
    r"моноклональн\w*|парапротеин\w*|м-?(?:градиент|компонент|протеин)\w*|гаммапати\w*|\bмгнз|моноклонал\w*|жолақ\w*)"
)
#: ... the words between it and its verb: not a negation or a modal, whose verb is a doubt or a plan ("Monoclonal
#: gammopathy cannot / may be excluded", «… не исключена», «… может быть исключена», "… to be excluded"), nor across
#: a clause
_BETWEEN = (
    r"(?:[^\S\n]*[:–—-])?(?: (?!(?:not|cannot|can't|can|could|may|might|would|should|must|need\w*|never|to|не|нельзя|"
    r"следует|мо[гж]\w*|должн\w*|необходимо|для)\b)[^\s.,;|?]+){0,3}"
)
#: ... the verbs that say it was not seen, in full and as labs abbreviate them: "not det.", «не обн.», «не
#: визуализируется», «не отмечается», «данных за … не получено» (no evidence of it); Kazakh «байқалмады» (not
#: observed), «көрінбейді» (not visible) - UNVERIFIED: not seen in real letters (probe123 D7)
_NOT_SEEN = (
    r"(?:not (?:detected|detectable|det\b\.?|seen|visuali[sz]ed|demonstrated|identified|observed|evident|found|present)|"
    r"не (?:выявл\w*|обнаруж\w*|обн\b\.?|обнар\b\.?|определя\w*|визуализир\w*|отмеча\w*|наблюда\w*|прослежива\w*|"
    r"регистрир\w*|получен\w*)|нет|отсутству\w*|"
    r"анықталмады|анықталған жоқ|табылмады|табылған жоқ|байқалмады|байқалған жоқ|көрінбейді|көрінбеді|жоқ)"
)
#: ... or ruled out: "Monoclonal gammopathy excluded", «Моноклональная гаммапатия исключена», «Исключена
#: парапротеинемия»; Kazakh «жоққа шығарылды» (UNVERIFIED) - not a question ("… excluded?")
_RULED_OUT = (
    r"(?:(?:(?:is|was|has been|have been|been) )?(?:excluded|ruled out)|исключен[аоы]?|жоққа шығарылды)\b(?!\s*\?)"
)
_NEGATIVE = re.compile(
    r"\b(negative|not detected|none detected|no monoclonal|no m[- ]?protein|no paraprotein|"
    r"no (?:monoclonal )?band|absent|normal pattern|not detectable|undetectable|не выявлен[аоы]?|не обнаружен[аоы]?|"
    r"отрицательн\w*\b(?!\s+динамик)|теріс\b)"
    # Kazakh «Теріс» (negative: probe95 D12, unread beside a band); "Paraprotein: not detectable" (probe125 G7: unread)
    # ... and the lab's short forms: "Neg (G, A, M, k, l)", "Not det.", «Отр.», «Отриц.», «Не обн.» (probe123 D7);
    # "not det." is not "not determined" (not done)
    rf"|\b{_ABBREVIATED_NEGATIVE}\b"
    # "no dominant monoclonal band", "no evidence of a monoclonal gammopathy", "normal immunofixation
    # pattern", "моноклональных полос нет", Kazakh "моноклоналды ақуыз анықталмады"
    r"|\bno (?:dominant|discrete|definite|distinct|obvious|significant) (?:monoclonal|m[- ]?protein|paraprotein|band)"
    r"|\bno (?:evidence|traces?|signs?) (?:of|for) (?:an? )?(?:monoclonal|m[- ]?protein|paraprotein|band|gammopathy|clon)"
    r"|\bnormal (?:serum |urine )?(?:immunofixation|ife)\b"
    # a clone's noun denied or ruled out (probe123 D7: «Парапротеин: не обн.», «Моноклональный компонент не
    # визуализируется», «Данных за парапротеинемию не получено», «Моноклональная гаммапатия исключена»)
    rf"|{_CLONE_NOUN}{_BETWEEN} (?:{_NOT_SEEN}|{_RULED_OUT})"
    rf"|(?<!не )(?<!быть )(?<!be )(?<!\w){_RULED_OUT} (?:[^\s.,;|?]+ )?{_CLONE_NOUN}"
)
_LIGHT = {
    "lambda": "lambda",
    "kappa": "kappa",
    "λ": "lambda",
    "κ": "kappa",
    "лямбда": "lambda",
    "каппа": "kappa",
    "l": "lambda",
    "k": "kappa",
    # common misspellings and the Cyrillic one-letter abbreviations ("IgA kapa", "IgG-к", "IgA/л")
    "kapa": "kappa",
    "lamda": "lambda",
    "капа": "kappa",
    "лямда": "lambda",
    "к": "kappa",
    "л": "lambda",
}
# One band: optional heavy chain, separator, light chain; or "free lambda (light chains)".
_BAND = re.compile(
    r"(?:\b(?:ig|иг)\s*([gamde])\b|\b(?:ig|иг)([gamde])(?=[-/\s]|[λκ]|lambda|kappa|лямбда|каппа))"
    r"\s*[-/ ]?\s*(lambda|kappa|λ|κ|лямбда|каппа|lamda|kapa\b|лямда|капа\b|l\b|k\b|(?<=[-/])[кл]\b)?"
    r"|\b(?:free\s+|свободн\w*\s+)?(lambda|kappa|λ|κ|лямбда|каппа|lamda|kapa|лямда|капа)\b"
)
_HEAVY_RU = {"g": "G", "a": "A", "m": "M", "d": "D", "e": "E"}


#: a line break in any of its spellings
_LINE_BREAK = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"\s+")


def _one_space(m: re.Match[str]) -> str:
    """A run of spaces as one: a line break if it holds one, a cell's pipe if it holds a tab (a tab separates
    cells as a pipe does), else a space."""
    run = m.group()
    return "\n" if _LINE_BREAK.search(run) else " | " if "\t" in run else " "


#: a dotted leader between a field and its answer ("IgG lambda band ....... no", "… нет", ". . . none"): the
#: answer's colon
_LEADER = re.compile(r"\s*(?:\.\s*){3,}(?=\S)")
#: a line that does not end its clause: a label waiting for its answer on the next line ("Serum:⏎IgG lambda"),
#: a line wrapped after a joining word or a hyphen ("not⏎detected", "IgG-⏎lambda") - or after a determiner or
#: an attributive "monoclonal" waiting for its noun: "No monoclonal⏎IgG lambda band", "any⏎band", «не выявлено
#: моноклонального⏎белка» (fix95b: two clauses, "No monoclonal" against a band), «Нет данных за⏎IgA лямбда», «Без
#: признаков⏎…» (fix139c: the band was read); "Pattern: monoclonal⏎…", "The band is monoclonal⏎…" end theirs
_OPEN_LINE_END = re.compile(
    r"(?:[:,/&-]|\b(?:not|of|for|with|without|and|or|nor|the|an?|any|by|in|on|to|at|is|are|was|were|be|been|"
    r"не|и|или|в|на|с|со|без|для|по|при|за|без признаков)\b|"
    r"\b(?:no|any|an?|the|small|faint|minor|discrete|definite|dominant|distinct|single|new|residual|persistent|"
    r"further|additional|trace) monoclonal|"
    r"(?:выявлен\w*|обнаружен\w*|нет|без|следы|небольш\w*|слаб\w*) моноклональн\w*)\n|"
    # a line that goes on with where it was looked for: "not detected⏎in the urine", «не выявлен⏎в моче» (probe96
    # D2: the urine's denial, cut from its specimen, denied the serum band)
    r"\n(?=(?:in|on|from) (?:the |this |that |an? )?(?:(?!(?:urine|serum|plasma|blood|csf|and|or)\b)[\w'-]+ ){0,3}"
    r"(?:urine|serum|plasma|blood|csf)\b|в (?:\w+ ){0,2}(?:моч|сыворотк|плазм|кров))"
)


#: "total" set apart from the heavy chain before a value: "igg (total) 14", "igg, total: 14", «igg общ. 14»
_LEVEL_WORD_APART = re.compile(
    r"(?<=\b(?:ig|иг)[gamde])(?:[^\S\n]*\([^\S\n]*(total|общ\w*|жалпы)[^\S\n]*\)|[^\S\n]*,[^\S\n]*(total|общ\w*|жалпы)|"
    r"[^\S\n]+(общ)\.)(?=[^\S\n]*[:=]?[^\S\n]*\d)"
)


#: a bracket after a heavy chain named alone that holds a number - "IgA (2019) normal", "IgG (14 g/L)", «IgA (в 2019
#: г.)»: its level or its date, joined to it as if unbracketed, so that its clause holds both (_measured: no band;
#: fix140b B3 - the bracket was a clause of its own, the heavy chain before it a band)
_NUMBER_BRACKET_AFTER_HEAVY = re.compile(
    r"(?<=\b(?:ig|иг)[gamde])[^\S\n]*\([^\S\n]*((?:(?:in|on|from|since|в|во|на|от|с)\s+)?[<>≤≥]?[^\S\n]*\d[^()\n]*)\)"
)


def _leaders(text: str) -> str:
    """Each dotted leader as the colon of its field; a second leader in a clause follows an answer and opens
    the next field: "IgG lambda band ....... no ....... IgA kappa band ....... yes" is "IgG lambda band: no |
    IgA kappa band: yes"."""
    out: list[str] = []
    start, colon = 0, False
    for m in _LEADER.finditer(text):
        between = text[start : m.start()]
        colon = colon and not re.search(r"[;|\n]", between)
        out += [between, " | " if colon else " : "]
        colon, start = not colon, m.end()
    return "".join(out) + text[start:]


def _normalise(text: str) -> str:
    """The folded, lower-case text with its spaces collapsed - but its line breaks kept: a line is a clause of
    its own ("Serum: IgG lambda⏎Urine: negative" is no denial of the serum band: probe92 D8), unless it is
    left open (_OPEN_LINE_END); a dotted leader is the colon of a field ("IgG lambda band ....... no⏎Comment:
    …" answers the band no: probe92 D9)."""
    if marked_up(text):
        # an HTML table or rich text in a valueString, read as the text engine reads it: cells a tab apart, rows
        # lines (probe95 D7: "<tr><th>IgG</th>…<td>Pos</td>…" was negative)
        text = html_text(text)
    # the text engine's folding: "ΙgA" with a Greek Iota lost its heavy chain, "Νegative" with a Greek Nu
    # was unrecognised (probe74 D15); κ and λ stay symbols
    text = unicodedata.normalize("NFKC", fold_lookalikes(text))
    # ... an abbreviation's full stop before the lower-case words of its place ends no sentence: "Not det. in urine",
    # «Не обн. в моче» deny the urine's (probe125 R2: "Not det." was the whole result's negative, against the band)
    text = _ABBREVIATION_THEN_PLACE.sub(r"\1", text).lower()
    # each run of spaces once, by what it holds (a pattern that opens with "[^\S\n]*" before a line break or
    # a tab tried every space of a long run again: 25,000 spaces took 5 s)
    text = _SPACES.sub(_one_space, text.strip())
    # an abbreviation's full stop before the antisera it answers ends no sentence: «Отр. (G, A, M, к, л)», «Отр.:
    # IgG, IgA, …» are one clause, as "Negative (…)" is (probe123 D7: the list was bands of its own, against the negative)
    text = _ABBREVIATION_BEFORE_BRACKET.sub(r"\1", text)
    text = _SERA_AFTER_NEGATIVE.sub(_sera_dropped, text)
    text = _column_pairs(text)
    # a field answered by a sign - "IgG: -", "Lambda: +" - in words: a line ending in "-" is otherwise left
    # open and joined to the next (probe93 D2: an all-"-" table of antisera read every band)
    text = _SIGN_ANSWER.sub(lambda m: ": negative" if m.group(1) in "-–—" else ": positive", text)
    text = _leaders(text)
    text = _OPEN_LINE_END.sub(lambda m: m.group()[:-1] + " ", text)
    # a level's "total" set apart from its heavy chain - "IgG (total) 14 g/L", "IgG, total: 14 g/L", «IgG общ. 14 г/л» -
    # joins it, so that its clause holds the heavy chain and its value (_measured: no band)
    text = _LEVEL_WORD_APART.sub(lambda m: " " + (m.group(1) or m.group(2) or m.group(3)), text)
    text = _NUMBER_BRACKET_AFTER_HEAVY.sub(lambda m: f" {m.group(1).strip()} ", text)
    # a line that is only the status of the line before ("IgG lambda⏎TBC") is that line's (probe109 D9)
    text = _STATUS_LINE.sub(lambda m: " - " + m.group(1), text)
    return re.sub(r" +", " ", text).strip()


#: ... before the lower-case word that goes on with its clause: a preposition of place or scope, or a specimen ("Not
#: det. in urine", "Neg. for Bence Jones", «Не обн. в моче», «Отр. для IgG») - the case told before the text is
#: lowered (a capital after it begins a sentence: "Neg. In the urine: …")
_ABBREVIATION_THEN_PLACE = re.compile(
    rf"(?i:\b({_ABBREVIATED_NEGATIVE}))\.(?=[^\S\n]+(?:in|on|at|for|within|from|urine|serum|plasma|csf|в|во|для|при|на|"
    r"моч\w*|сыворот\w*|плазм\w*|ликвор\w*|несеп\w*|сарысу\w*)\b)"
)
_ABBREVIATION_BEFORE_BRACKET = re.compile(rf"\b({_ABBREVIATED_NEGATIVE})\.(?=[^\S\n]*[(:–—-])")
#: an antiserum in a list of the antisera tested: "G", "IgG", "anti-kappa", "κ", «л», «лямбда»
_SERUM_NAME = (
    r"(?:(?:anti|анти)[- ]?)?(?:(?:ig|иг)\s*[gamde]|[gamdeklκλклгам]|kappa|lambda|kapa|lamda|каппа|лямбда|капа|лямда)"
)
_SERUM_SEPARATOR = r"[^\S\n]*(?:[,/]|\band\b|\bи\b)[^\S\n]*"
#: ... a bracket that is only such a list (its names a space apart too), or a list of several after a colon or a dash
#: to the clause's end: "(G, A, M, k, l)", «(IgG, IgA, IgM, каппа, лямбда)», ": G, A, M, kappa, lambda" - not a band
#: after a dash ("not detected - IgG kappa"); each space in one place only (a long run that fails is not tried every
#: way)
_SERA_AFTER_NEGATIVE = re.compile(
    rf"[^\S\n]*\([^\S\n]*{_SERUM_NAME}(?:(?:{_SERUM_SEPARATOR}|[^\S\n]+){_SERUM_NAME})*[^\S\n]*\)|"
    rf"[^\S\n]*[:–—-][^\S\n]*{_SERUM_NAME}(?:{_SERUM_SEPARATOR}{_SERUM_NAME})+[^\S\n]*(?=[.;|\n]|$)"
)
_SERA_REACH = 120  # characters before a list of antisera where its negative is looked for (a clause of a real result)


def _sera_dropped(m: re.Match[str]) -> str:
    """A bracket or a list of antisera after a negative - "Neg (G, A, M, kappa, lambda)", «Отр. (G, A, M, к, л)», "No
    monoclonal band detected (IgG, IgA, IgM, kappa, lambda)", "Negative: G, A, M, kappa, lambda" - names the antisera
    it is negative with, no band: dropped (probe123 D7: the letters broke the denied list and its kappa and lambda were
    free light chains against the negative). After any other words it stays: "IgA lambda detected (IgA, lambda)"."""
    reach = max(0, m.start() - _SERA_REACH)
    start = max(reach, *(m.string.rfind(c, reach, m.start()) + 1 for c in ".;,|\n"))
    clause = m.string[start : m.start()]
    return "" if _NEGATIVE.search(clause) and not _POSITIVE.search(clause) else m.group()


_STATUS_LINE = re.compile(
    r"\n[^\S\n]*[-–—]?[^\S\n]*(tbc|tbd|t\.b\.c\.|to be confirmed|doubtful|dubious|query|\?+|equivocal|unconfirmed|"
    r"not confirmed|сомнит\w*|сомн|под вопросом|не подтв\w*|күмәнді)[^\S\n]*\.?[^\S\n]*(?=\n|$)"
)


_SIGN_ANSWER = re.compile(r"[^\S\n]*:[^\S\n]*([-–—]|\+{1,3})[^\S\n]*(?=\n|\||$)")


#: the antisera named by a letter alone, in a table that names every column or row by one ("G | A | M | κ | λ")
_ANTISERUM_LETTERS = {
    "g": Band("IgG", None),
    "a": Band("IgA", None),
    "m": Band("IgM", None),
    "d": Band("IgD", None),
    "e": Band("IgE", None),
    "k": Band(None, "kappa"),
    "l": Band(None, "lambda"),
    "κ": Band(None, "kappa"),
    "λ": Band(None, "lambda"),
}
#: the words around an antiserum's name in a header or a row label: "Anti-IgG", "Kappa light chain", "IgG antiserum"
_ANTISERUM_WORDS = re.compile(
    r"^(?:anti|анти)[- ]?|\b(?:antiserum|antisera|light chains?|heavy chains?|(?:легк\w*|тяж[её]л\w*) цеп\w*)\b|[():]"
)
#: a header's corner or a row's label that names no antiserum and no answer: "Heavy chain | Kappa | Lambda",
#: "Antiserum | Result", "Antiserum | IgG | …⏎Result | Neg | …"
_TABLE_LABEL = re.compile(
    r"(?:antiser\w*|antibod\w*|isotypes?|(?:heavy|light)(?: chains?)?(?: ?/ ?(?:heavy|light)(?: chains?)?)?|chains?|"
    r"immunoglobulins?|ig|analytes?|tests?|parameters?|results?|bands?|reactions?|findings?|answers?|values?|"
    r"specimen|sample|ife|immunofixation|elp|spe|(?:electrophoresis |ife )?lanes?|антисыворот\w*|изотип\w*|"
    r"(?:тяж[её]л\w*|легк\w*) цеп\w*|цеп\w*|результат\w*|показател\w*|нәтиже\w*)?"
)
#: a cell's answer: negative, positive (a sign, a short word, «отр.», «пол.») or a doubt
_NEGATIVE_CELL = re.compile(
    r"(?:neg(?:ative)?|[-–—−]+|no|none|nil|absent|not (?:detected|seen|present|found|identified)|"
    r"отр(?:иц(?:ат(?:ельн\w*)?)?)?|нет|отсутств\w*|не выявлен\w*|не обнаружен\w*|теріс|жоқ|анықталмады|табылмады)\.?"
)
_POSITIVE_CELL = re.compile(
    r"(?:pos(?:itive)?|\+{1,4}|detected|present|seen|yes|(?:weak(?:ly)?|faint) (?:pos(?:itive)?|\+)|"
    r"пол(?:ож(?:ит(?:ельн\w*)?)?)?|выявлен\w*|обнаружен\w*|есть|оң|бар|анықталды)\.?"
)
_DOUBT_CELL = re.compile(r"(?:\?+|±|\+/-|\(\+\)|equivocal|possible|borderline|сомнит\w*)\.?")


def _answer(cell: str) -> str | None:
    """A cell's answer in the words the clause reader knows ("negative", "positive", "equivocal"), or None."""
    if _NEGATIVE_CELL.fullmatch(cell):
        return "negative"
    if _POSITIVE_CELL.fullmatch(cell):
        return "positive"
    if _DOUBT_CELL.fullmatch(cell):
        return "equivocal"
    return None


def _antiserum(cell: str, letters: bool) -> Band | None:
    """The antiserum a header cell or a row label names ("IgG", "Anti-kappa", "Free lambda", "IgG kappa"; a
    letter alone - "G", "K", "λ" - where ``letters``), or None."""
    name = _ANTISERUM_WORDS.sub(" ", cell).strip()
    if letters and name in _ANTISERUM_LETTERS:
        return _ANTISERUM_LETTERS[name]
    if not name or len(name.split()) > 3 or not _bare(name):
        return None
    bands = _bands(name)
    return bands[0] if len(bands) == 1 else None


def _antiserum_name(band: Band) -> str:
    """An antiserum as the clause reader reads it: "igg", "kappa", "igg lambda", "free lambda" (a grid's "Free" row)."""
    name = " ".join(part.lower() for part in (band.heavy_chain, band.light_chain) if part)
    return f"free {name}" if band.free and not band.heavy_chain else name


def _cells(line: str) -> list[str]:
    """A table row's cells, without the empty ones its border makes ("| IgG | IgA |")."""
    cells = [c.strip() for c in line.split("|")]
    if len(cells) > 1 and not cells[0] and line.lstrip().startswith("|"):
        cells = cells[1:]
    if len(cells) > 1 and not cells[-1] and line.rstrip().endswith("|"):
        cells = cells[:-1]
    return cells


#: a line that only rules a table: "|---|---|", "| :---: | --- |", "+-----+-----+"
_RULE_LINE = re.compile(r"[|+:\s=–—-]*[-=–—]{3}[|+:\s=–—-]*")


def _rule(line: str) -> bool:
    return ("|" in line or "+" in line) and _RULE_LINE.fullmatch(line) is not None


def _header(cells: list[str]) -> tuple[bool, list[Band]] | None:
    """A row of antisera - "IgG | IgA | IgM | Kappa | Lambda", "G | A | M | κ | λ", "Heavy chain | Kappa | Lambda"
    (a corner cell first: True) - as its antisera, or None."""
    for corner in (False, True):
        names = cells[1:] if corner else cells
        if corner and cells[0] and not _TABLE_LABEL.fullmatch(cells[0]):
            return None
        if len(names) < 2:
            return None
        sera = [_antiserum(c, False) for c in names]
        if None in sera:
            sera = [_antiserum(c, True) for c in names]  # letters only where every cell is one
        if None not in sera:
            return corner, [b for b in sera if b is not None]
    return None


def _fields(pairs: list[tuple[Band, str]]) -> list[str]:
    """A table's antisera and their answers as fields, one a line ("igg: negative"); the one heavy chain and the
    one light chain a table finds positive are one band ("igg lambda: positive")."""
    positive = [b for b, a in pairs if a == "positive"]
    heavy = [b for b in positive if not b.light_chain]
    light = [b for b in positive if not b.heavy_chain]
    if len(positive) == 2 and len(heavy) == 1 and len(light) == 1:
        band = Band(heavy[0].heavy_chain, light[0].light_chain)
        pairs = [(band, a) if b == heavy[0] else (b, a) for b, a in pairs if b != light[0]]
    return [f"{_antiserum_name(b)}: {a}" for b, a in pairs]


#: a grid's row of free light chains: "Heavy chain | Kappa | Lambda⏎…⏎Free | Neg | Neg"
_FREE_ROWS = frozenset({"free", "free light chains", "free light chain", "flc", "свободные", "свободные легкие цепи"})


def _grid(lines: list[str], n: int, corner: bool, sera: list[Band]) -> tuple[list[str], int]:
    """The rows of a grid under its header at line ``n`` - heavy chains down, light chains across ("Heavy chain |
    Kappa | Lambda⏎IgG | Neg | Pos⏎…") or the other way round -, each cell the band of its row and column: its
    fields and the line after the grid (``n`` when no row follows)."""
    kinds = {bool(b.heavy_chain) for b in sera}
    if len(kinds) != 1 or any(b.heavy_chain and b.light_chain for b in sera):
        return [], n
    across_heavy = kinds.pop()
    pairs: list[tuple[Band, str]] = []
    m = n + 1
    while m < len(lines):
        if _rule(lines[m]):
            m += 1
            continue
        row = _cells(lines[m]) if "|" in lines[m] else []
        if len(row) != len(sera) + 1:  # a corner cell, or none (a tab-separated header's empty corner is lost)
            break
        # each row's label the other kind of chain: a heavy chain (or "Free") under light chains, a light chain
        # under heavy chains
        own = Band(None, None) if row[0] in _FREE_ROWS and not across_heavy else _antiserum(row[0], True)
        if own is None or (own.heavy_chain or not own.light_chain if across_heavy else own.light_chain):
            break
        answers = [_answer(c) for c in row[1:]]
        if None in answers:
            break
        for band, said in zip(sera, answers, strict=True):
            cell = (
                Band(band.heavy_chain, own.light_chain)
                if across_heavy
                else Band(own.heavy_chain, band.light_chain, free=row[0] in _FREE_ROWS)
            )
            pairs.append((cell, str(said)))
        n = m
        m += 1
    return _fields(pairs), n + 1 if pairs else n


#: the monoclonal protein as a field answered by a short negative: "Monoclonal band:⏎none", "Monoclonal protein |
#: none", "M-protein: nil" (probe95 D27: not read)
_M_FIELD = re.compile(
    r"(?m)^((?:monoclonal (?:band|protein|component|spike|immunoglobulin)|m[- ]?(?:protein|spike|component|band)|"
    r"paraprotein|моноклональн\w* (?:белок|полос\w*|компонент\w*)|парапротеин|м[- ]?градиент)s?)"
    r"[^\S\n]*(?::[^\S\n]*\n?|\|)[^\S\n]*(?:none|nil|no|not seen|neg\.?|[-–—]|нет|жоқ)[^\S\n]*$"
)
#: the antisera by heavy and light chain, each a letter and its answer: "Heavy chains: G neg, A neg, M neg. Light
#: chains: K neg, L neg." (probe95 D27: not read)
_LETTER_LIST = re.compile(r"\b(?:heavy|light) chains?[^\S\n]*:[^\S\n]*([^.\n;]*)")


def _letter_lists(text: str) -> str:
    """Each list of lettered antisera and their answers as fields, one a line; a list with anything else is
    left as it is."""

    def fields(m: re.Match[str]) -> str:
        pairs: list[tuple[Band, str]] = []
        for item in re.split(r",|\band\b", m.group(1)):
            name, _, said = item.strip().partition(" ")
            band = _antiserum(name, True)
            answer = _answer(said.strip(" :="))
            if band is None or answer is None:
                return m.group()
            pairs.append((band, answer))
        return "\n".join(_fields(pairs))

    return _LETTER_LIST.sub(fields, text) if "chain" in text else text


def _column_pairs(text: str) -> str:
    """The tables of antisera, as one field a line ("igg: negative⏎iga: negative …"), read cell by cell - an
    antiserum a table lists is no band, only one whose cell says positive is (probe95 D1-D7):

    - a header row of antisera over a row of as many answers - "IgG | IgA | IgM | Kappa | Lambda⏎Neg | Neg | Neg
      | Neg | Neg", "G | A | M | κ | λ⏎- | - | - | - | -", "Antiserum | IgG | …⏎Result | Neg | …" (a corner cell
      and a row label), a markdown table ("| IgG | … |⏎|---|---|⏎| Neg | … |") - column by column (probe93 D1-D3:
      read row by row, the header named every band);
    - a grid of heavy chains by light chains - "Heavy chain | Kappa | Lambda⏎IgG | Neg | Pos⏎IgA | Neg | Neg" -
      each cell the band of its row and column (probe95 D1: an all-"Neg" grid was free kappa and lambda);
    - one antiserum a row over its answer - "IgG | -⏎…⏎Lambda | -", "G | -⏎…⏎λ | -" under "Antiserum | Result" or
      not (probe95 D5: the "-" lines were left open, every band read);
    - a header row of antisera with no answer - "IgG | IgA | IgM | Kappa | Lambda" - is the panel tested, no
      result (probe95 D6: five bands).

    Answers: "Neg", "-", "negative", «отр.» and the like deny, "Pos", "+", «пол.» state, "?", "±" doubt; a table
    with any other answer is left to the clause reader. So too the monoclonal protein as a field ("Monoclonal
    band:⏎none", "Monoclonal protein | none") and lists of lettered antisera ("Heavy chains: G neg, A neg, M neg.").
    """
    text = _letter_lists(_M_FIELD.sub(r"\1: negative", text))
    if "|" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    n = 0
    while n < len(lines):
        line = lines[n]
        if "|" not in line:
            out.append(line)
            n += 1
            continue
        if _rule(line):
            n += 1
            continue
        head = _cells(line)
        m = n + 1
        while m < len(lines) and _rule(lines[m]):
            m += 1
        row = _cells(lines[m]) if m < len(lines) and "|" in lines[m] else []
        header = _header(head)
        if header is not None:
            corner, sera = header
            fields, after = _grid(lines, n, corner, sera) if corner or len(row) == len(sera) + 1 else ([], n)
            if fields:
                out.extend(fields)
                n = after
                continue
            answered = _answer_rows(lines, m, corner, sera)
            if answered:
                out.extend(answered[0])
                n = answered[1]
                continue
            if (corner or len(sera) >= 3) and all(not (b.heavy_chain and b.light_chain) for b in sera):
                out.append(f"antisera: {', '.join(map(_antiserum_name, sera))}")  # the panel alone: no result
                # ... and a row of answers that are fewer or more than its antisera answers none of them: "IgG | IgA
                # | IgM | Kappa | Lambda⏎Neg | Neg | Neg" leaves kappa and lambda untold (no negative)
                n = m + 1 if row and all(_answer(c) for c in row) else n + 1
                continue
        # "Antiserum | Result" over one antiserum a row
        labels = len(head) == 2 and all(c and _TABLE_LABEL.fullmatch(c) for c in head)
        fields, after = _antiserum_rows(lines, n + 1 if labels else n)
        if fields:
            out.extend(fields)
            n = after
            continue
        out.append(line)
        n += 1
    return "\n".join(out)


def _answer_rows(lines: list[str], m: int, corner: bool, sera: list[Band]) -> tuple[list[str], int] | None:
    """The rows of answers from line ``m`` under a header of antisera - each as many answers (after a label such
    as "Result" where the header has a corner cell) - as fields, row by row, and the line after them; None when
    line ``m`` is no such row."""
    fields: list[str] = []
    while m < len(lines) and "|" in lines[m]:
        if _rule(lines[m]):
            m += 1
            continue
        row = _cells(lines[m])
        if len(row) != len(sera) + corner or (corner and row[0] and not _TABLE_LABEL.fullmatch(row[0])):
            break
        answers = [_answer(c) for c in row[corner:]]
        if None in answers:
            break
        fields += _fields([(b, str(a)) for b, a in zip(sera, answers, strict=True)])
        m += 1
    return (fields, m) if fields else None


def _antiserum_rows(lines: list[str], n: int) -> tuple[list[str], int]:
    """The rows from line ``n`` that each give one antiserum and its answer ("IgG | -", "λ | -", "IgG lambda |
    отр."; a letter alone only in two rows or more) as fields, and the line after them."""
    pairs: list[tuple[Band, str]] = []
    lettered = False
    m = n
    while m < len(lines) and "|" in lines[m]:
        row = _cells(lines[m])
        said = _answer(row[1]) if len(row) == 2 else None
        band = _antiserum(row[0], True) if said else None
        if said is None or band is None:
            break
        lettered = lettered or row[0] in _ANTISERUM_LETTERS
        pairs.append((band, said))
        m += 1
    if lettered and len(pairs) < 2:
        return [], n
    return _fields(pairs), m


# A band named in a clause with a negation is not a band: "no monoclonal IgA lambda detected",
# "negative for IgG kappa", "IgG kappa: not detected", "не выявлен IgA лямбда", "IgG каппа не обнаружен".
# A polyclonal increase names isotypes too and is no clone.
_CLAUSE = re.compile(
    r"[;\n()|]|\.(?!(?<=\d\.)\d)|,(?<!маловероятно,)(?!\s*(?:and|or|nor|и|или|ни)\b)|\b(?:but|however|although|whereas|но|однако)\b"
)
_NEGATED_CLAUSE = re.compile(
    r"\b(?:no|not|none|neither|negative|without|absent|neg)\b|n't\b|\bне\b|\bнет\b|\bбез\b|\bотр(?:иц)?\b|"
    r"отрицательн\w*\b(?!\s+динамик)|отсутств\w*|\bжоқ\b|анықталма\w*|теріс|"
    # probe36: "IgG lambda excluded / ruled out", "Absence / Lack of …", "Free of …", "… undetectable",
    # "…: nil", "исключен IgG-λ" made a clone of a denial (checked after the doubts: "cannot be excluded")
    r"\b(?:excluded|ruled out|(?<!for )(?<!of )exclusion|absence|lack(?:s|ing)?|free of|undetect\w*|nil|"
    r"unidentifiable)\b|"
    # ... not a request to exclude: «Для исключения парапротеинемии: выявлен IgA лямбда» (probe119 D7: the band detected
    # read as an absent clone), "For exclusion of paraproteinaemia: IgA lambda detected"
    r"(?<!для )(?<!целью )(?<!с целью )исключ\w*|жоққа шығар\w*|"
    # Kazakh «табылмады» / «табылған жоқ» (not found: probe116 D3, «IgA лямбда табылмады» was the band)
    r"табылма\w*"
)
# "not only", "no change in": words with a negation that do not negate - nor a denial limited to another
# specimen, joined to the band it follows: "IgG lambda paraprotein which is not detected in the urine",
# «парапротеин IgG лямбда, который не выявляется в моче» (probe93 D5: the urine's denial was the serum band's).
# The other specimen is the urine's (or the CSF's) on a serum result, the serum's on a urine result; a denial
# that goes on to name the tested one too ("… in the urine or serum") is no limit.
_ELSEWHERE = {
    "serum": (r"urine|csf|cerebrospinal fluid", r"моч[еи]|ликвор\w*"),
    "urine": (r"serum|plasma|blood|csf|cerebrospinal fluid", r"сыворотк\w*|плазм\w*|крови|ликвор\w*"),
}
#: ... the tested specimen's own names: a denial that goes on to name one ("in the urine or serum") is no limit,
#: another specimen after it ("in urine or CSF") still is (probe95 I113: read as the serum band's denial)
_TESTED = {"serum": (r"serum|plasma|blood", r"сыворотк|плазм|кров"), "urine": (r"urine", r"моч")}


def _and_the_tested(specimen: str) -> tuple[str, str]:
    tested, tested_ru = _TESTED[specimen]
    return (
        rf"(?!\s*(?:,|/|\bor\b|\band\b|\bnor\b)\s*(?:(?:in|on|from) )?(?:the )?(?:{tested})\b)",
        rf"(?!\s*(?:,|\bи\b|\bили\b)\s*(?:в )?(?:{tested_ru}))",
    )


_DENIED_EN = (
    r"(?:(?:not|no longer) (?:detected|detectable|seen|found|present|identified|visible|demonstrated)|absent|"
    r"negative|undetectable)"
)
_DENIED_RU = r"(?:не (?:выявля\w*|выявлен\w*|обнаружива\w*|обнаружен\w*|определя\w*)|отсутству\w*)"


#: a verb of disappearing or resolving denied: "has not resolved", "not (yet / fully) disappeared", "not cleared",
#: «не исчезла», «не разрешилась», Kazakh «жойылмады» (a band that stays: today's)
_NOT_GONE = re.compile(
    r"\b(?:(?:has|have|had|is|are|was|were|did|does) )?not (?:(?:yet|fully|completely|entirely) )?(?:been )?"
    r"(?:resolved?|disappeared?|cleared|gone(?: away)?|vanished|regressed)\b|"
    r"\bне (?:(?:полностью|до конца|совсем) )?(?:исчез\w*|разрешил\w*|регрессировал\w*)|жойылма\w*|жоғалма\w*"
)
#: ... the stems every one of them has (a clause with none is not searched)
_NOT_GONE_STEMS = re.compile(r"resolv|disappear|clear|gone|vanish|regress|исчез|разреш|регресс|жойыл|жоғал")


def _other_specimen(specimen: str) -> tuple[str, str]:
    """The words that limit a denial to another specimen than the one tested: "in the urine", «в моче» - with
    any words that qualify it before it: "in the accompanying / corresponding / matched / simultaneously collected
    urine sample", «в сопутствующей пробе мочи» (probe97 D3: only a listed few were known, the others denied the
    serum band). Neither the tested specimen's name nor a joining word qualifies it: "in serum and urine", «в
    сыворотке и моче» deny the tested one too."""
    names, names_ru = _ELSEWHERE[specimen]
    tested, tested_ru = _TESTED[specimen]
    and_tested, and_tested_ru = _and_the_tested(specimen)
    qualifier = rf"(?!(?:{tested}|{names}|and|or|nor|but|not|no|in|on|from)\b)[\w'-]+ "
    qualifier_ru = rf"(?!(?:{tested_ru}|{names_ru})|(?:и|или|а|но|не|в)\b)\w+ "
    return (
        rf"(?:in|on|from) (?:the |this |that |an? |its |their |his |her )?(?:{qualifier}){{0,3}}"
        rf"(?:{names})\b(?: (?:sample|specimen|ife|immunofixation|study))?" + and_tested,
        rf"в (?:{qualifier_ru}){{0,2}}(?:{names_ru})" + and_tested_ru,
    )


def _pseudo(specimen: str) -> re.Pattern[str]:
    """_PSEUDO for a result of this specimen."""
    other, other_ru = _other_specimen(specimen)
    return re.compile(
        r"\b(?:which|that|but|though|although|while|whereas|and)(?: (?:is|was|are|were|has been|have been|remains?))? "
        rf"{_DENIED_EN} {other}|"
        rf"\b(?:котор\w+|что|и|но|а) (?:{_DENIED_RU} {other_ru}|{other_ru} (?:{_DENIED_RU}|нет))|"
        r"\bnot only\b|\bno (?:change|increase|decrease)\b|\bне только\b|\bбез динамики\b|"
        r"\b(?:not|non)[- ]?(?:quantif\w*|measurable|measured)|too small to (?:quantify|measure)|"
        r"не (?:количествен\w*|измеря\w*)"
    )


def _limited(specimen: str) -> re.Pattern[str]:
    """A denial limited to another specimen with no joining word: "… not detected in the urine", «… в моче не
    выявлен», «… не выявлен в моче»."""
    other, other_ru = _other_specimen(specimen)
    return re.compile(
        rf"(?:(?:is|was|are|were|remains?) )?{_DENIED_EN} {other}|"
        rf"{_DENIED_RU} {other_ru}|{other_ru} (?:{_DENIED_RU}|нет)"
    )


def _specimen_first(names: str) -> str:
    """A denial written as a specimen's sub-field: "urine negative", "- urine: not detected", "urine IFE negative"
    (not after another specimen joined to it: "serum and urine negative")."""
    return (
        r"(?<![\w/&])(?<!\band )(?<!\bor )(?<!\bnor )(?:(?:in|on|from) )?(?:the )?"
        rf"(?:{names})\b(?: (?:ife|immunofixation|sample|specimen|study))?\s*[:=–—-]?\s*{_DENIED_EN}"
    )


def _limited_field(specimen: str) -> re.Pattern[str]:
    """_LIMITED, or the other specimen's sub-field denial: "IgG lambda M-protein: urine negative" on a serum result
    (probe96: read as the serum band's denial)."""
    return re.compile(_limited(specimen).pattern + "|" + _specimen_first(_ELSEWHERE[specimen][0]))


#: the tested specimen's own sub-field denial: "…: urine negative, serum negative" - the text denies the tested
#: specimen too, so a sub-field denial of the other one is not set aside
_TESTED_DENIED = {specimen: re.compile(_specimen_first(_TESTED[specimen][0])) for specimen in _TESTED}


_PSEUDO = {specimen: _pseudo(specimen) for specimen in _ELSEWHERE}
_LIMITED = {specimen: _limited(specimen) for specimen in _ELSEWHERE}
_LIMITED_FIELD = {specimen: _limited_field(specimen) for specimen in _ELSEWHERE}


def _unsaid(clause: str, specimen: str, fields: bool) -> str:
    """The clause without its words that have a negation but deny nothing of the band (_PSEUDO) - nor the denial
    limited to another specimen after a band it states with a noun: "IgG lambda paraprotein not detected in
    the urine", «Парапротеин IgG лямбда в моче не выявлен» (fix95b: with no joining word the urine's denial was
    the serum band's). A band named with no noun ("IgG lambda not detected in the urine": the antiserum's
    answer) or denied before ("No IgG lambda paraprotein detected in the urine") stays denied. Nor a withdrawal
    word denied: "IgG lambda: not an artefact" (_denied_withdrawals)."""
    clause = _denied_withdrawals(_PSEUDO[specimen].sub(" ", clause))
    if _NOT_GONE_STEMS.search(clause):
        # a verb of disappearing denied is a band still there: "IgG lambda band has not resolved / not
        # disappeared", «Полоса IgG лямбда не исчезла» (probe95 D8: the "not" denied the band, absent)
        clause = _NOT_GONE.sub(" ", clause)
    m = (_LIMITED_FIELD if fields else _LIMITED)[specimen].search(clause)
    if m is not None:
        said = clause[: m.start()]
        if _bands(said) and _BAND_NOUN.search(said) and not _NEGATED_CLAUSE.search(_PSEUDO[specimen].sub(" ", said)):
            return f"{said} {clause[m.end() :]}"
    return clause


# A clause that calls the immunoglobulins it names polyclonal, oligoclonal or normal states no clone
# ("Polyclonal hypergammaglobulinaemia (IgG kappa and IgG lambda)", "Normal IgG, IgA, IgM, kappa and
# lambda staining pattern") - unless it also names a monoclonal protein: "Monoclonal IgG kappa band on a
# polyclonal background" is a clone (the background is what is polyclonal).
_POLYCLONAL = re.compile(
    r"polyclonal|oligoclonal|\bnormal\b|поликлональн\w*|олигоклональн\w*|нормальн\w*|в норме|поликлон(?:ал)?ды|қалыпты"
)
#: (Kazakh «поликлонды» and «поликлоналды», UNVERIFIED: not seen in real letters - probe130 G10: «Поликлоналды IgG каппа
#: және лямбда» was a clone)
_NO_CLONE_WORD = re.compile(r"polyclonal|oligoclonal|поликлональн\w*|олигоклональн\w*|поликлон(?:ал)?ды")
_BACKGROUND = re.compile(
    r"\b(?:on|against|in|with)\s+(?:an?\s+|the\s+)?(?:polyclonal|normal|diffuse)\s+background\b|"
    r"\bbackground\s+of\s+(?:a\s+)?(?:polyclonal|normal|diffuse)\b[\w\s-]*|"
    r"на\s+(?:поликлональн|нормальн|диффузн)\w*\s+фоне|на\s+фоне\s+(?:поликлональн|нормальн|диффузн)\w*[\w\s-]*"
)
_MONOCLONAL = re.compile(
    r"monoclonal|m[- ]?(?:protein|spike|component|band)|paraprotein|\bband\b|\bspike\b|"
    r"моноклональн\w*|парапротеин\w*|м[- ]?(?:протеин|градиент|компонент)\w*"
)
#: the words that state a band as a thing found - a clone's noun or "monoclonal" ("IgG lambda band", "IgG lambda
#: paraprotein", «полоса IgG лямбда»), not an antiserum's label ("IgG lambda")
_BAND_NOUN = re.compile(_MONOCLONAL.pattern + r"|полос\w*")


# A polyclonal rise named with its own isotypes beside a band is the gel's background, no band and no denial: "IgA
# lambda with polyclonal IgG", "IgM kappa with polyclonal IgG (type II cryoglobulin)", "Monoclonal IgA lambda with a
# polyclonal increase in IgG", "IgA lambda band and polyclonal IgG", «IgA лямбда на фоне поликлонального IgG», «IgM
# каппа с поликлональным IgG» (probe128 D2: the "polyclonal" denied the band before it - a POEMS patient lost his
# mandatory clone; D6: the polyclonal IgG was an extra untyped band). README "a clone on a polyclonal background stays
# a clone". The phrase goes with its joining word; a band of its own after it in the list stays a band ("polyclonal
# IgG and IgA lambda band").
_POLYCLONAL_ITEM = (
    r"(?:(?:(?:ig|иг)\s*[gamde]\b(?:\s*[-/ ]?\s*(?:kappa|lambda|κ|λ|каппа|лямбда)\b)?|(?:kappa|lambda|каппа|лямбда)\b)"
    r"(?!\s*(?:band|spike|paraprotein|m[- ]?protein|monoclonal|полос\w*|парапротеин\w*|м-?градиент\w*|моноклон\w*)))"
)
_POLYCLONAL_ISOTYPES = rf"{_POLYCLONAL_ITEM}(?:\s*(?:,|/|\band\b|\bor\b|\bи\b|\bили\b|\bжәне\b)\s*{_POLYCLONAL_ITEM})*"
#: the polyclonal word and its noun before the isotypes: "polyclonal", "a polyclonal increase in", "polyclonally
#: raised", «поликлонального повышения», Kazakh «поликлонды» (UNVERIFIED: not seen in real letters)
_POLYCLONAL_HEAD = (
    r"(?:polyclonal(?:ly)?(?:\s+(?:increase[sd]?|rise|raised|elevat(?:ion|ed)|excess|background))?(?:\s+(?:in|of))?|"
    r"поликлональн\w*(?:\s+(?:повышени\w*|увеличени\w*|рост\w*|фон\w*))?|"
    r"поликлон(?:ал)?ды(?:\s+(?:жоғарылау\w*|артуы))?)\s+"
)
#: the words that join it to the band: "with", "and", "plus", "on a background of", "superimposed on", "over", "on top
#: of" (probe130 G8: "IgA lambda superimposed on polyclonal IgG" lost its clone), «с», «и», «на фоне», «наложенный на»,
#: Kazakh «және» (UNVERIFIED) - before it, or after it when it comes first ("Polyclonal increase in IgG with IgA lambda
#: band")
_POLYCLONAL_JOIN_BEFORE = (
    r"(?:\b(?:with|and|plus|besides?|alongside|as well as|(?:along|together) with|in addition to|"
    r"(?:on|against|in) (?:an? |the )?background of|superimposed (?:on|upon)|overlying|over|on top of|atop)\s+"
    r"(?:an?\s+|the\s+)?|"
    r"(?<!\w)(?:с|со|и|а также|наряду с|на фоне|при|наложенн\w* на|поверх)\s+|\bжәне\s+)"
)
#: ("and" there only before a clone's noun: "Polyclonal IgG kappa and IgG lambda" is one polyclonal list)
_POLYCLONAL_JOIN_AFTER = (
    r"(?=\s*(?:\b(?:with|plus)\b|(?<!\w)(?:с|со|на фоне)(?!\w)|"
    r"(?:\band\b|(?<!\w)и(?!\w)|\bжәне\b)(?=[^;\n()|.,]*(?:monoclonal|\bband|paraprotein|m-?protein|spike|моноклон|"
    r"полос|парапротеин|градиент))))"
)
#: ... or a polyclonal rise named by its noun alone after a joining word: "IgA lambda plus polyclonal
#: hypergammaglobulinaemia", «IgG каппа на фоне поликлональной гипергаммаглобулинемии»
_POLYCLONAL_NOUN = (
    r"(?:polyclonal\s+(?:hypergammaglobulin\w*|gammopathy|background)|поликлональн\w*\s+(?:гипергаммаглобулинеми\w*|"
    r"гаммапати\w*|фон\w*)|поликлонды\s+гипергаммаглобулинемия)\b"
)
#: ... and a Kazakh case ending or background word after the isotypes: «поликлонды IgG-мен», «… IgG аясында» (UNVERIFIED)
_POLYCLONAL_TAIL = (
    r"(?:\s+(?:background|increase|rise|elevation)\b|[-\s]?(?:мен|бен|пен)\b|\s+(?:аясында|фонында|фоне)\b)?"
)
_POLYCLONAL_BESIDE = re.compile(
    rf"{_POLYCLONAL_JOIN_BEFORE}(?:{_POLYCLONAL_HEAD}{_POLYCLONAL_ISOTYPES}|{_POLYCLONAL_NOUN}){_POLYCLONAL_TAIL}|"
    rf"(?<![\w-]){_POLYCLONAL_HEAD}{_POLYCLONAL_ISOTYPES}{_POLYCLONAL_TAIL}{_POLYCLONAL_JOIN_AFTER}"
)
#: a polyclonal rise named with its isotypes anywhere, joined or after a comma ("IgA lambda and kappa, polyclonal IgG")
_POLYCLONAL_NAMED = re.compile(rf"(?<![\w-]){_POLYCLONAL_HEAD}{_POLYCLONAL_ISOTYPES}")
#: the stretch a band and its background share: a clause up to a semicolon, bracket, line or sentence end
_SHARED_STRETCH = re.compile(r"[^;\n()|.]+|[;\n()|.]")


def _polyclonal_beside_dropped(text: str) -> str:
    """The text without a polyclonal rise of its own isotypes named beside a band (_POLYCLONAL_BESIDE) - only where the
    rest of its stretch still names a band with its light chain or a clone's noun: "Polyclonal IgG and IgA" and
    "Polyclonal IgG kappa and IgG lambda" stay the polyclonal negative, nor are both light chains of one heavy chain
    named with no clone's noun a clone ("IgG kappa and lambda with polyclonal IgA": _polyclonal_pair)."""
    if "polyclon" not in text and "поликлон" not in text:
        return text
    return _SHARED_STRETCH.sub(lambda m: _stretch_without_background(m.group()), text)


def _stretch_without_background(stretch: str) -> str:
    rest = _POLYCLONAL_BESIDE.sub(" ", stretch)
    if _polyclonal_pair(stretch, _POLYCLONAL_NAMED.sub(" ", rest)):
        return _POLYCLONAL_ONLY
    if rest == stretch:
        return stretch
    bands = _bands(rest)
    if not (any(b.light_chain for b in bands) or _MONOCLONAL.search(rest)):
        return stretch
    return re.sub(r" +", " ", rest)


#: what a polyclonal pair's stretch is read as: the polyclonal negative, no isotype left to be read as a band
_POLYCLONAL_ONLY = " polyclonal pattern "
#: a clone's noun or "monoclonal" in any of the three languages (Kazakh «жолақ», «моноклоналды»: UNVERIFIED)
_PAIR_CLONE_WORD = re.compile(_BAND_NOUN.pattern + r"|\b(?:bands|spikes)\b|жола[қғ]\w*|моноклон\w*")
#: a light chain said free is a clone of its own, not the other chain of the heavy chain before it
_FREE_CHAIN = re.compile(r"\bfree\b|свободн\w*|бос\b")


def _polyclonal_pair(stretch: str, rest: str) -> bool:
    """A stretch with a polyclonal word whose other isotypes (``rest``: without a polyclonal rise named with its own)
    are both light chains of one heavy chain, with no clone's noun: "Polyclonal pattern, IgG kappa and IgG lambda",
    "IgG kappa and lambda with polyclonal IgA", "IgM kappa and lambda on a background of polyclonal IgG", «IgA лямбда
    и каппа с поликлональным IgG», «Поликлоналды IgG каппа және лямбда» - a polyclonal gel, no clone (probe130 R1-R3,
    G1, G10: the second light chain, its heavy chain unwritten, was a free light chain clone and the first a band;
    the polyclonal word in another comma clause, or in the background phrase, denied nothing). Two heavy chains
    ("IgG kappa and IgA lambda with polyclonal IgM"), a clone's noun ("IgG kappa and lambda bands") or a chain said
    free keep the reading of the bands."""
    if not _NO_CLONE_WORD.search(stretch) or _PAIR_CLONE_WORD.search(rest) or _FREE_CHAIN.search(rest):
        return False
    bands = _bands(rest)
    heavy = {b.heavy_chain for b in bands if b.heavy_chain}
    return len(heavy) <= 1 and {b.light_chain for b in bands} >= {"kappa", "lambda"}


# a positive verb of its own: "IgA lambda band present" does not continue a denied list before it
_POSITIVE = re.compile(
    r"\b(?:detected|present|seen|found|identified|noted|visible|shows?|demonstrated)\b|"
    r"(?<!не )\b(?:выявлен\w*|обнаружен\w*|определя\w*)"
)
# a masking or sensitivity caveat: "an IgA lambda band could be masked by the transferrin band", "small IgM
# kappa bands may be obscured", "may be hidden / not detected / below detection", «может не выявляться»,
# «может быть замаскирован» (probe89 D8: each made a negative immunofixation a clone)
_MASKED = (
    r"\b(?:may|might|can|could|would)(?: not)? (?:(?:be|go|remain) )?(?:masked|obscured|hidden|overlooked|undetected|"
    r"not (?:be )?(?:detected|detectable|seen|visible|visualised|visualized|apparent|resolved)|"
    r"below (?:the )?(?:detection|limit|level)|beneath (?:the )?(?:detection|limit))|"
    r"\b(?:masked|obscured|hidden) (?:by|behind|within|under)\b|\bbelow (?:the )?(?:limit|level) of detection\b|"
    r"(?:может|могут) (?:не (?:выявля\w*|определя\w*|обнаружива\w*|визуализир\w*)|быть (?:замаскирован\w*|скрыт\w*|"
    r"не (?:видн\w*|определ\w*|обнаружен\w*))|маскировать\w*)|замаскирован\w*|ниже (?:порога|предела) (?:чувствительности|определения|обнаружения)"
)
# A clause that only MENTIONS isotypes or light chains - a recommendation, a request, a technical note,
# a reference-range remark, a sensitivity caveat - states no band: "Suggest urine studies for free lambda
# or kappa light chains", "Request was for IgG lambda follow-up", "free lambda light chains measured
# separately", "Free kappa and lambda within reference range", "small IgA lambda bands may be missed",
# "lambda check performed", «Рекомендовано исследование свободных легких цепей каппа и лямбда» (probe86
# D7: each made a negative immunofixation a clone). The rest of its sentence goes with it ("Clinical
# details: ?POEMS, query IgA lambda"), unless a clause states a band in words of its own (_POSITIVE).
#: ... but "please disregard (this)" alone sets the band aside (_WITHDRAWN): no mention
_NOT_DISREGARD = r"(?! (?:disregard|ignore)\b)"  # "please disregard this result", "please ignore - see amended report"
_MENTION = re.compile(
    # recommendations and requests
    r"\b(?:suggest\w*|recommend\w*|advis\w*|consider\w*|please"
    + _NOT_DISREGARD
    # "referring/referral lab(oratory)" is another laboratory (_ANOTHER_LAB), no request: "IgA lambda - referring lab
    # result confirmed." is this laboratory's band (fix116b: it was not read at all)
    + r"|request\w*|referr\w*(?!\s+(?:[\w/-]+\s+)?(?:lab|labs|laborator\w*|hospital|cent(?:re|er)|institution|clinic)\b)"
    + r"|order(?:ed)? for|"
    r"clinical (?:details|information|indication|question|history)|indication|"
    r"to (?:exclude|rule out|look for|assess|evaluate|investigate|monitor)|if (?:clinically|clinical|there is|indicated)|"
    # probe88 D12: "Negative; continue to monitor for IgG lambda"
    r"monitor(?:ing)? for|continue (?:to )?monitor\w*)\b|"
    # technical notes: measured or reported elsewhere, a check done, the method's sensitivity
    r"\b(?:measured|reported|quantified|assessed) (?:separately|elsewhere|by)\b|\bsee (?:flc|free|serum|urine|"
    r"separate)\b|\bchecks?\s+(?:was\s+|were\s+)?(?:performed|done|carried out)\b|\b(?:technologist|technician)\b|"
    r"\bsensitivity of (?:the )?(?:ife|immunofixation|method|assay|test)\b|"
    r"\b(?:may|might|can|could) (?:be )?(?:missed|not be (?:detected|seen)|escape)\b|" + _MASKED + "|"
    # a reference-range remark
    r"\b(?:within|in|inside) (?:the )?(?:normal |reference |ref\.? )?(?:range|limits|interval)\b|"
    r"\b(?:reference|normal) (?:range|limits|interval)\b|"
    r"рекоменд\w*|продолж\w* (?:контрол\w*|наблюдени\w*|мониторинг\w*)|предлага\w*|целесообразн\w*|(?<!при )(?:дополнительн\w*|повторн\w*) исследовани\w*|"
    r"исследовани\w* (?:свободн\w*|суточн\w*|мочи|сыворотки на|на)|направлени\w*|запрос\w*|для (?:контроля|исключения)|"
    r"(?:определя\w*|измеря\w*|исследу\w*) отдельно|в пределах (?:нормы|референс\w*)|референсн\w*|"
    r"чувствительность (?:метода|иммунофиксации|иммунофиксационного|теста)|(?:может|могут) быть (?:пропущен\w*|не выявлен\w*)|проверк\w* (?:выполнен\w*|проведен\w*)"
)
# ... but a clause in it that names the band, M-protein or paraprotein as there is a statement: "Recommend
# repeat in 3 months to monitor the IgG lambda band", "Please repeat: faint IgA lambda band", "Please send
# urine for Bence Jones; IgA lambda paraprotein", «Рекомендован контроль М-градиента IgG-λ» (probe88 D11:
# each result was not read at all) - unless it is a caveat ("small IgA lambda band may be missed") or the
# band is what the test is to look for ("Suggest urine IFE to exclude a free lambda band")
_CAVEAT = re.compile(
    r"\bsensitivity\b|\b(?:may|might|can|could) (?:be )?(?:missed|not be (?:detected|seen)|escape)\b|"
    r"\bbelow (?:the )?(?:detection|limit)|чувствительност\w*|(?:может|могут) быть (?:пропущен\w*|не выявлен\w*)|"
    + _MASKED
)
_SOUGHT = re.compile(
    r"\b(?:to (?:exclude|rule out|look for|detect|screen for|search for|check for|test for)|screen(?:ing)? for|"
    r"look(?:ing)? for|check(?:ing)? for|test(?:ing)? for|"
    r"for (?:any|an?|possible|a possible|presence of|the presence of)\b|(?:exclude|rule out|r/o)\b)|"
    # probe89 D9: "to quantify any IgA lambda band", "urine immunofixation for IgA lambda paraprotein" (a band
    # named right after "for", with no "this / the": the one sought, not one there)
    r"\b(?:any|whatever)\b|\bfor (?:(?:a|an|monoclonal|free) )?(?:(?:ig|иг)\s*[gamde]\b|(?:ig|иг)[gamde]|kappa|lambda|κ|λ)|"
    r"на (?:наличие|предмет)|для (?:исключения|выявления)|исключить|исследовани\w* на\b|\bлюб(?:ой|ого|ая|ую|ых|ые)\b"
)


def _states_a_band(clause: str, caveat: bool) -> bool:
    """A clause of a comment that names a band, an M-protein or a paraprotein as there (probe88 D11)."""
    words = _MENTION.sub(" ", clause)
    return bool(_MONOCLONAL.search(words)) and not caveat and not _CAVEAT.search(clause) and not _SOUGHT.search(clause)


#: the delimiters that end a sentence (and a mention's scope)
_SENTENCE_END = frozenset({".", "\n", ""})

# Doubt about a band: it is not a confirmed clone (nor a negative)
_UNCERTAIN = re.compile(
    r"\b(?:possible|possibly|probable|probably|equivocal|suspicious|suspected|questionable|query|likely|"
    r"borderline|indeterminate|inconclusive|uncertain|doubtful)\b|\?|"
    r"\b(?:can ?not|could not|not) (?:be )?(?:excluded|ruled out)\b|\bcannot (?:be )?(?:excluded|ruled out)\b|"
    r"возможн\w*|вероятн\w*|сомнительн\w*|подозрени\w*|не исключ\w*|нельзя исключить|под вопросом|неопредел\w*|"
    # probe107 D6, D3: a status after the band, as a lab's short form - "IgG lambda - TBC", «IgG-λ - сомнит.»
    # (each was the band, a clone-free patient `met`); Kazakh «күмәнді» (doubtful)
    r"\b(?:tbc|tbd|(?:yet |still )?to be confirmed|awaiting confirmation|pending confirmation|unproven|dubious)\b|"
    # probe109 D13: a band awaiting its repeat or to be ruled out - "IgG lambda - awaiting repeat sample", "- awaiting
    # immunofixation on a fresh sample to confirm", "- r/o" (each a clone-free patient `met`)
    r"\b(?:awaiting|pending)\s+(?:a\s+|the\s+)?(?:repeat|fresh|new|second|confirmatory)\b|"
    r"\bawaiting\b[^.\n]{0,60}\bto confirm\b|(?:^|[-–—(:,]\s*)(?:r/o|rule out|to rule out|to be (?:excluded|ruled out)|"
    r"to exclude)\s*(?=$|\n|[.;)])|"
    r"ожида\w* повтор\w*|на повтор\w*|"
    r"\bсомн(?:ит)?\b|на уточнении|уточняется|требует подтверждения|күмәнді"
)


def _doubts_the_band(clause: str) -> bool:
    """Whether the clause doubts its band: an uncertainty word anywhere in it - except only in a label before a colon
    that the band after it answers, stated found with no doubt of its own: "Immunofixation requested for suspected
    POEMS: IgA lambda band detected", "?POEMS: …", "Query monoclonal gammopathy: …", «Направлен с подозрением на
    POEMS-синдром: выявлен IgA лямбда» (probe119 D11: the requester's question doubted the laboratory's answer)."""
    doubt = _UNCERTAIN.search(clause)
    if doubt is None:
        return False
    colon = clause.rfind(":", 0, _bands_start(clause))
    if colon < 0 or doubt.start() > colon:
        return True
    answer = clause[colon + 1 :]
    return _UNCERTAIN.search(answer) is not None or not _POSITIVE.search(answer)


#: a whole result that is only a doubt
_EQUIVOCAL = re.compile(
    r"^\s*(?:equivocal|indeterminate|inconclusive|borderline|uncertain|сомнительн\w*|неопредел\w*)\s*\.?\s*$"
)
# A clause that is only a negative predicate speaks of the bands of the clause before it: "IgA lambda
# band previously seen, now not detected", "IgG каппа, в настоящее время не выявляется". (A clause
# with a noun of its own, "no Bence Jones protein", does not.)
_NEGATIVE_PREDICATE = re.compile(
    r"^\s*(?:[-:]\s*)?(?:(?:now|currently|today|on repeat(?: testing)?|at present|since)\s+)?(?:is\s+|are\s+|was\s+)?"
    r"(?:not (?:detected|seen|found|present|identified|visible|detectable)|no longer (?:detected|seen|present|"
    r"detectable|visible|identified)|negative|absent|undetectable|disappeared|resolved)"
    r"(?:\s+(?:now|currently|today|on repeat(?: testing| study)?|since))?\s*$"
    r"|^\s*(?:[-:]\s*)?(?:(?:в настоящее время|сейчас|ныне|при повторном исследовании)\s+)?"
    r"(?:не (?:выявля\w*|выявлен\w*|обнаружива\w*|обнаружен\w*|определя\w*)|отсутству\w*|исчез\w*)\s*$"
    # ... Kazakh «анықталмады», «табылмады», «анықталған жоқ» (not detected / not found: «Моноклоналды жолақ (IgA
    # лямбда) табылмады», probe119 D8)
    r"|^\s*(?:[-:]\s*)?(?:қазір\s+)?(?:анықталмады|табылмады|анықталған жоқ|табылған жоқ)\s*$"
    # a field's answer after dots or a pipe, in either language: "IgG lambda band ....... нет", "… | no"
    # (probe90 D11: the answer in a clause of its own was no predicate; "IgG lambda band: no" was negative)
    # ... and the lab's short forms in a cell or a field: "| Neg", ": neg.", "| -", «| отр.» (probe93 D1: "IgG
    # lambda | Neg" was a clone)
    r"|^\s*(?:[-:]\s*)?(?:no|none|nil|нет|жоқ|[-–—])\s*$"
    # ... "Not det.", «Не обн.», «Отриц.» (probe123 D7)
    rf"|^\s*(?:[-:]\s*)?{_ABBREVIATED_NEGATIVE}\.?\s*$"
)

# ... a clause that only calls them polyclonal makes them no clone: "IgG kappa (polyclonal)", "IgG kappa
# and lambda, polyclonal increase" (a "polyclonal background" is the rest of the gel, not these bands)
_POLYCLONAL_PREDICATE = re.compile(
    r"^\s*(?:[-:]\s*)?(?:(?:is|are|was|were)\s+)?(?:polyclonal|oligoclonal|поликлональн\w*|олигоклональн\w*)"
    r"(?:\s+(?:pattern|increase|distribution|hypergammaglobulin\w*|picture|характер|увеличение|гипергаммаглобулинеми\w*))?\s*$"
)

# ... and a clause that is only a doubt makes them doubtful: "Faint IgA lambda band, clonality uncertain",
# "IgG lambda band, cannot be excluded", "следы IgA лямбда, под вопросом"
_DOUBT_PREDICATE = re.compile(
    r"^\s*(?:[-:]\s*)?(?:(?:its\s+|the\s+)?(?:clonality|monoclonality|significance|nature)\s+(?:is\s+)?)?"
    r"(?:uncertain|unclear|equivocal|questionable|doubtful|indeterminate|not certain|to be confirmed|"
    r"(?:can ?not|could not|not) (?:be )?(?:excluded|ruled out|confirmed)|of uncertain significance)\s*$"
    # ... or a status still open after it, in a clause or a sentence of its own: "IgA lambda band. Awaiting
    # confirmation.", "IgA lambda, to be excluded", "… TBC." (each was the band: a clone not yet asserted)
    r"|^\s*(?:[-:]\s*)?(?:(?:yet|still)\s+)?(?:awaiting confirmation|pending confirmation|confirmation (?:pending|awaited|"
    r"to follow)|tbc|tbd|to be (?:confirmed|excluded|ruled out)|to (?:exclude|rule out)|rule out|r/o)\s*$"
    r"|^\s*(?:[-:]\s*)?(?:клональность\s+)?(?:под вопросом|сомнительн\w*|неясн\w*|не исключ\w*|нельзя исключить|"
    r"требует подтверждения|ожида\w* подтверждения|на уточнении|уточняется|подлежит уточнению|исключить|"
    r"для исключения|күмәнді)\s*$"
    # ... and a doubtful answer to a field: "IgG lambda band ....... ?", "… | possible", «… возможно»
    r"|^\s*(?:[-:]\s*)?(?:\?+|possible|probable|query|borderline|возможно|вероятно)\s*$"
)

# A comment's label: what follows is the laboratory's remark on the result ("Comment: …", "Note: …",
# «Комментарий: …», «Примечание: …»)
_COMMENT_LABEL = re.compile(
    r"^\s*(?:(?:lab(?:oratory)?\s+)?(?:comments?|notes?|remarks?)|addendum|комментари\w*|примечани\w*|"
    r"түсініктеме)\s*[:\-]\s*"
)
# A band withdrawn by the words after it: "not confirmed on repeat", "probably artefact", "spurious", "false
# positive", "not reproduced", «не подтвердилась», «артефакт» (probe90 D10: the band stayed a clone) - or set
# aside: "please disregard", a band put down to a therapeutic antibody ("likely daratumumab interference",
# "consistent with therapeutic antibody (daratumumab)": an IgG kappa drug seen on the gel), «даратумумаб»
# (fix95b: each left the band a clone)
_WITHDRAWN_WORDS = (
    r"\b(?:artefact\w*|artifact\w*|spurious|false[- ]positive|unconfirmed|not (?:been )?(?:confirmed|reproduced|"
    r"reproducible|repeatable)|(?:could|can|was|were) ?not (?:be )?(?:confirmed|reproduced)|cannot (?:be )?(?:confirmed|"
    r"reproduced)|(?:did not|failed to) (?:confirm|reproduce)|disregard\w*|please ignore|(?:to|should) be ignored|"
    r"daratumumab|isatuximab|elotuzumab|therapeutic (?:monoclonal )?(?:antibod\w*|mabs?)|"
    r"(?:drug|mab|antibody)[- ]interference|wrong patient|another patient|mislabel\w*|"
    # the result itself withdrawn: "Comment: result withdrawn", "report cancelled", "result invalid" (probe96 D9)
    r"(?:result|report|sample|test)s? (?:(?:is|was|has been|been) )?(?:withdrawn|cancell?ed|invalid\w*|void(?:ed)?|"
    r"annull?ed|retracted|rescinded|revoked|nullified)|"
    # ... or entered in error, not to be used: "Entered in error.", "ignore this result", "do not use this result"
    # (probe97 D6)
    r"entered in error|(?:erroneously|wrongly|incorrectly|mistakenly) (?:entered|reported|issued)|"
    r"ignore (?:this|the) (?:result|report)|(?:do not|don't) (?:use|act on) (?:this|the) (?:result|report))\b|"
    # Russian and Kazakh: «Результат аннулирован / отменён / недействителен / внесён ошибочно», «Не учитывать
    # результат», «Нәтиже жарамсыз», «Нәтижені ескермеңіз» (probe97 D6: the band stood, a clone)
    r"(?:результат|анализ|исследовани|заключени|ответ)\w*(?: (?!не\b)\w+){0,2} (?:аннулирован\w*|отмен[её]н\w*|"
    r"недействител\w*|внес[её]н\w* (?:по )?ошибочно|внес[её]н\w* по ошибке)|"
    r"(?:аннулирован\w*|отмен[её]нн\w*|ошибочно внес[её]нн\w*|недействительн\w*) (?:\w+ )?(?:результат|анализ)\w*|"
    r"не (?:учитыв|принима)\w*(?: во внимание)?(?: \w+){0,2} (?:результат|анализ)\w*|"
    r"нәтиже\w*(?: (?!емес\b)\w+){0,2} (?:жарамсыз\w*|күшін жой\w*|қате енгізіл\w*)|ескермеңіз|ескерілмесін|"
    r"есепке алмаңыз|"
    r"артефакт\w*|не подтверд\w*|не подтвержд\w*|не подтв\b|ложноположительн\w*|не воспроизв\w*|даратумумаб\w*|изатуксимаб\w*|"
    r"элотузумаб\w*|терапевтическ\w* (?:моноклональн\w* )?антител\w*|"
    # Kazakh: «расталмады» / «расталған жоқ» (not confirmed), «жалған оң» (false positive) - probe92 D19
    r"расталма\w*|расталған жоқ|расталмаған|жалған[- ]оң\w*"
)
# ... or a denial on a repeat: "not detected on repeat", «при повторном исследовании не выявлена», Kazakh
# «қайталап тексергенде анықталмады» (probe92 D19) - after a band's label alone ("IgG lambda: negative on repeat")
# the label's answer, not a withdrawal
_DENIED_ON_REPEAT = (
    r"\b(?:not (?:seen|detected|found|present|identified|visible) on (?:a |the )?(?:repeat\w*|re-?test\w*|second)|"
    r"(?:absent|negative|disappeared) on (?:a |the )?(?:repeat\w*|re-?test\w*))\b|"
    r"при повторн\w* (?:исследовани|анализ)\w* не (?:выявл|обнаруж|определ)\w*|"
    r"қайтала\w*(?: \S+){0,2} (?:анықталмады|табылмады)"
)
_WITHDRAWN = re.compile(_WITHDRAWN_WORDS + "|" + _DENIED_ON_REPEAT)
_WITHDRAWN_WORD = re.compile(_WITHDRAWN_WORDS)
#: a withdrawal word itself denied before it: "not an artefact", "no evidence of artefact", "not a false positive",
#: "unlikely to be spurious", «не артефакт», «не является артефактом» (probe92 D1: each withdrew the band)
_WITHDRAWAL_DENIED_BEFORE = re.compile(
    r"(?:\b(?:not|no|non|never|without|neither|nor|unlikely)|n't|\bне|\bнет|\bбез|\bмаловероятн\w*,?)"
    r"(?:[\s-]+(?:a|an|the|be|been|being|is|was|are|were|it|this|considered|thought|believed|felt|deemed|likely|"
    r"to|of|evidence|signs?|suggestion|suggestive|consistent|with|due|является|считается|признаков|данных|за|на|"
    # "no suspicion of artefact", "no concern for artefact", "no evidence of interference or artefact", «нет
    # подозрений на артефакт» (probe93 D7: each withdrew the band)
    r"suspicion|suspect|suspected|concerns?|for|indication|hint|reason|grounds|question|interference|or|and|nor|"
    # "not on daratumumab", "no history of daratumumab", "not receiving a therapeutic antibody"
    r"on|receiving|treated|taking|given|history|related|attributable|attributed|caused|by|from|secondary|"
    r"подозрени\w*|указани\w*|получа\w*|или|и|"
    # "unlikely that this is an artefact", «маловероятно, что это артефакт» (probe95 D19)
    r"that|что|это|чтобы))*"
    r"[\s-]*$"
)
_DENIAL_REACH = 200  # characters before a withdrawal word where its denial is looked for
#: ... or after it: "artefact excluded", "artefact has been ruled out", "false positive unlikely", "false
#: positive result of 2023 has been superseded", «артефакт исключен», «артефакт емес»
_WITHDRAWAL_DENIED_AFTER = re.compile(
    r"(?:[\s,:-]+[^\s,:]+){0,5}?[\s,:-]+(excluded|ruled out|unlikely|improbable|superseded|withdrawn|retracted|"
    r"disproved|refuted|исключ\w*|маловероят\w*|опроверг\w*|отвергнут\w*|емес|жоққа шығар\w*)\b"
)
#: ... or answered no right after it: "Artefact? No.", "artefact - no", "Artefact? No - confirmed on a fresh
#: sample", «данных за артефакт нет», «за артефакт данных нет», «признаков артефакта нет», "artefact not
#: confirmed", «артефакт не подтвержден» (probe95 D19: each withdrew the band) - not "Artefact? No band on
#: repeat", nor a denial further on («артефакт - при повторе полосы нет»)
_WITHDRAWAL_ANSWERED_NO = re.compile(
    r"[\s?:.–—-]*\b(?:no|нет|жоқ)\b\s*(?:[.,;!?–—-]|$)"
    r"|\s+(?:(?:данных|признаков|оснований|указаний|сведений|подозрени\w*)\s+)?(?:нет|не (?:выявлен\w*|обнаружен\w*))\b"
    r"|\s+(?:(?:is|was|has|have|been|were)\s+){0,2}(?:not|un)\s*confirmed\b|\s+не (?:подтвержд|подтверд)\w*"
)
#: ... unless the exclusion is itself denied, a doubt: "artefact cannot be excluded", «артефакт не исключен»
_EXCLUSION_DOUBTED = re.compile(r"(?:\bnot|\bcannot|\bcan't|\bне|\bнельзя)(?:\s+be)?\s*$")
#: a year that names the test it speaks of: "in 2021", "in March 2021", "2021 sample", «в 2021 г.», «в 2019 году»
_YEAR = r"(?:19|20)\d\d"
_YEAR_THEN = (
    rf"\b(?:in|from|during)\s+(?:(?:early|late|mid)[- ]?)?(?:[a-z]+\s+)?{_YEAR}\b|"
    rf"\b{_YEAR}\s+(?:sample|specimen|test|study|result|analysis|ife|immunofixation|serum|urine)\b|"
    rf"\bв\s+(?:\w+\s+)?{_YEAR}\s*(?:г\b|году)|\b{_YEAR}\s*(?:ж\b|жыл\w*)"
)
#: an earlier test's words: "previous sample", "prior IFE", «предыдущий анализ», «ранее» (probe92 D2) - or a test
#: named by its year: "in 2021 not confirmed on repeat", "2021 sample - not confirmed", «в 2021 г. не
#: подтверждалась», Kazakh «2021 жылы» (probe95 D20: today's band withdrawn)
_THEN = re.compile(
    r"\b(?:previous(?:ly)?|prior|earlier|formerly|initially|at diagnosis|at baseline|before treatment)\b|"
    r"ранее|прежн\w*|предыдущ\w*|исходн\w*|до лечения|бұрын\w*|алдыңғы|" + _YEAR_THEN
)


#: a therapeutic antibody's name: a withdrawal only where the band is put down to it
_DRUG = re.compile(r"daratumumab|isatuximab|elotuzumab|даратумумаб\w*|изатуксимаб\w*|элотузумаб\w*")
#: ... the words that put it down to it: "interference", "consistent with", "due to", "likely", «обусловлен»
_ATTRIBUTED = re.compile(
    r"\b(?:interfer\w*|consistent|compatible|due to|from|likely|probabl\w*|possibl\w*|represent\w*|reflect\w*|"
    r"attribut\w*|related|derived|co-?migrat\w*|mimic\w*|suspect\w*)\b|\?|"
    r"интерферен\w*|обусловлен\w*|связан\w*|соответству\w*|вероятн\w*|возможн\w*|за сч[её]т"
)


def _only_given(m: re.Match[str], clause: str) -> bool:
    """A therapeutic antibody named with no word that puts the band down to it: "Patient on daratumumab" (a
    treatment, not the band's cause: a band of another isotype is the patient's own) - but a clause that is
    the drug's name alone ("IgG kappa band (daratumumab)") names the band's cause."""
    return bool(_DRUG.fullmatch(m.group())) and not _attributes(clause) and clause.strip(" .:-") != m.group()


@lru_cache(maxsize=64)
def _attributes(clause: str) -> bool:
    """Once per clause, not once per drug named in it (a clause naming a drug 4,000 times took 15 s)."""
    return _ATTRIBUTED.search(clause) is not None


def _denied_withdrawals(clause: str) -> str:
    """The clause without its withdrawal words that are denied - "not an artefact", "no artefact", "not
    spurious", "not a false positive", «не артефакт», «не является артефактом» - or answered no ("artefact? no",
    «данных за артефакт нет»): the lab saying the band is real denies nothing of it, so "IgG lambda: not an
    artefact", «IgG лямбда: не артефакт» are the band (probe97 D2: read as the label's denial, absent). Only the
    denial's words go: none of them names a band."""
    if not _WITHDRAWN_STEMS.search(clause):  # (most clauses: no withdrawal word)
        return clause
    out: list[str] = []
    start = 0
    for m in _WITHDRAWN_WORD.finditer(clause):
        if m.start() < start:
            continue
        reach = max(start, m.start() - _DENIAL_REACH)
        denial = _WITHDRAWAL_DENIED_BEFORE.search(clause[reach : m.start()])
        answered = None if denial else _WITHDRAWAL_ANSWERED_NO.match(clause, m.end())
        if denial is None and answered is None:
            continue
        out += [clause[start : reach + denial.start() if denial else m.start()], " "]
        start = answered.end() if answered else m.end()
    return "".join(out) + clause[start:] if out else clause


#: the stems of _WITHDRAWN_WORDS that a denial can precede
_WITHDRAWN_STEMS = re.compile(
    r"artefact|artifact|spurious|false|confirm|reproduc|repeatable|disregard|ignor|mab\b|antibod|interference|"
    r"patient|mislabel|withdrawn|cancel|invalid|void|annul|retract|rescind|revok|nullif|error|erroneous|wrongly|"
    r"incorrectly|mistakenly|use|act on|артефакт|подтвер|ложноположительн|воспроизв|маб|антител|аннулир|отмен|"
    r"недействит|ошибочн|ошибке|учитыв|принима|растал|жалған|жарамсыз|күшін|қате|ескер|есепке"
)


def _withdraws(clause: str) -> bool:
    """Words that withdraw today's band ("not confirmed on repeat", "probably artefact", «расталмады») - not
    a withdrawal word denied ("not an artefact", "artefact excluded", «не артефакт»: probe92 D1) nor an
    earlier test's ("not reproducible on the previous analyser", "previously thought to be artefact")."""
    denied_to = 0  # the end of a withdrawal's denial after it ("артефакт не подтвержден": not a withdrawal again)
    for m in _WITHDRAWN.finditer(clause):
        # the denial is in the words right before it: only they are read, not the whole clause again each time
        before = clause[max(0, m.start() - _DENIAL_REACH) : m.start()]
        if m.start() < denied_to or _WITHDRAWAL_DENIED_BEFORE.search(before) or _only_given(m, clause):
            continue
        answered = _WITHDRAWAL_ANSWERED_NO.match(clause, m.end())
        if answered:
            denied_to = answered.end()
            continue
        after = _WITHDRAWAL_DENIED_AFTER.match(clause, m.end())
        if after and not _EXCLUSION_DOUBTED.search(clause[: after.start(1)]):
            continue
        return not _THEN.search(clause)  # (looked for only where a withdrawal is: most clauses have none)
    return False


# What a clause that denies the whole result may say besides its denial: "Negative", "No monoclonal band
# detected on repeat testing", «Моноклональный белок не выявлен» - not "negative for Bence Jones protein",
# "Urine IFE: negative" (another test's result)
_RESULT_WORDS = re.compile(
    r"\b(?:monoclonal|m[- ]?(?:protein|spike|component|band)|paraproteins?|proteins?|bands?|spikes?|components?|"
    r"detected|detectable|seen|identified|found|present|observed|noted|visible|demonstrated|on|in|at|this|the|an?|"
    r"any|repeat(?:ed)?|re-?test(?:ing)?|testing|test|study|sample|specimen|analysis|is|was|are|were|now|today|"
    r"result|immunofixation|ife|evidence|of|gammopathy|pattern|conclusion|interpretation)\b|"
    r"моноклональн\w*|белок\w*|белка|полос\w*|м[- ]?градиент\w*|парапротеин\w*|при|повторн\w*|исследовани\w*|"
    r"анализ\w*|результат\w*|иммунофиксаци\w*|заключени\w*|[\W_]"
)


def _read_clauses(
    t: str, specimen: str | None
) -> tuple[str, str, bool, list[tuple[str, bool, bool]], list[list[Band]]]:
    """The normalised text ``t`` as the parser reads it: the specimen tested, the text without the antisera's names,
    whether the other specimen's sub-field denial is set aside (`_unsaid`), its clauses and each clause's bands (read
    once: linear work)."""
    tested = "urine" if specimen == "urine" else "serum"
    said = _ANTI.sub(" ", t)
    fields = not _TESTED_DENIED[tested].search(said)
    pieces = _withdrawn_after_a_dash(_clauses(said), tested, fields)
    return tested, said, fields, pieces, _free_after_a_comma(pieces, [_bands(clause) for clause, _, _ in pieces])


def _free_after_a_comma(pieces: list[tuple[str, bool, bool]], named: list[list[Band]]) -> list[list[Band]]:
    """Each clause's bands, a light chain that opens a clause after a comma said free when the clause before ends in
    the words that call it so: "Bence Jones protein, lambda type", «свободные легкие цепи, лямбда» (_FREE_BEFORE)."""
    out: list[list[Band]] = []
    for index, bands in enumerate(named):
        clause, after_comma, _ = pieces[index]
        first = bands[0] if bands else None
        if (
            first is not None
            and first.heavy_chain is None
            and not first.free
            and after_comma
            and not clause[: _bands_start(clause)].strip()
            and _FREE_BEFORE.search(pieces[index - 1][0][-60:])
        ):
            bands = [Band(None, first.light_chain, free=True), *bands[1:]]
        out.append(bands)
    return out


def others_bands(text: str, specimen: str | None = None, cues: IfeCues | None = None) -> tuple[Band, ...]:
    """The bands ``text`` names only as not asserted of this patient - a relative's, a condition's, a test still to come
    ("Науқастың ұлында IgA лямбда анықталды", "IgA lambda band detected in his half-brother", "Rule out IgA lambda"):
    ``parse_ife`` reads no band there; this says the text was understood, not missed, so a report's text engine does
    not read the band as the patient's (probe121 D1, D4). Only where the rest of the text names no clone of its own
    ("His brother has IgA lambda MGUS. Patient: monoclonal gammopathy detected." is no such text: probe122 D1)."""
    t = _normalise(text)
    if not t:
        return ()
    _, _, _, pieces, named = _read_clauses(t, specimen)
    unasserted = _not_asserted(pieces, named, cues or BUILT_IN_CUES)
    others = tuple(dict.fromkeys(b for i, kind in unasserted.items() if kind == "other" for b in named[i]))
    sentences = _sentences(pieces)
    own = [i for s in sentences if not any(unasserted.get(j) == "other" for j in s) for i in s]
    if any(named[i] or _MONOCLONAL.search(pieces[i][0]) or _GAMMOPATHY.search(pieces[i][0]) for i in own):
        return ()  # the text says more of a clone than the others' bands
    return others


#: a clone named without a band: "monoclonal gammopathy", «моноклональная гаммапатия», "paraproteinaemia"
_GAMMOPATHY = re.compile(
    r"gammopath\w*|гаммапати\w*|парапротеин\w*|paraprotein\w*|mgus|мгнз|\bmgcs\b|моноклонал\w*|bence|бенс\w*|"
    r"\bm[- ]?(?:protein|spike|component)\b|м-?градиент\w*"
)


def parse_ife(text: str, specimen: str | None = None, cues: IfeCues | None = None) -> IfeResult:
    """Parse one free-text or display immunofixation result.

    Returns ``IfeResult(negative=False, bands=())`` (``parsed`` False) when nothing is recognised,
    so the caller can report it instead of guessing. Bands named in a negated clause are dropped,
    and the result is negative when every named band was negated. ``specimen`` is the one tested
    ("serum" when not told, "urine"): a denial limited to another specimen ("… not detected in the urine" on a
    serum result) denies nothing of its band. ``cues`` are the words that put a band in another's mouth or
    family, a condition, a differential or another laboratory: the built-in ones, or those a mapping file adds to
    them (``IfeCues.with_phrases``, README "Clinical text").
    """
    cues = cues or BUILT_IN_CUES
    t = _normalise(text)
    if not t:
        return IfeResult(False)
    if _EQUIVOCAL.match(t):
        return IfeResult(False, equivocal=True)
    bands: list[Band] = []
    possible: list[Band] = []
    negated_any = False
    chain_denials: list[str] = []  # the clauses that deny one light chain alone ("no kappa band")
    previous: list[Band] = []  # the bands the clause before named (and kept)
    denied_list = False  # the clause before denied (or called polyclonal) a list that ends with a band
    pending: list[Band] = []  # a bare list ("IgG, IgA, IgM, kappa, lambda: ...") waits for its predicate
    earlier: list[Band] = []
    mention = False  # the sentence so far only mentions isotypes (a comment, a request, a note)
    caveat = False  # ... or is a caveat on the method's sensitivity
    said_outside: list[Band] = []  # the bands stated outside a comment
    comment_clauses: list[str] = []  # the comment clauses that state a band (probe88 D11)
    against: list[tuple[int, str]] = []  # the clauses that withdraw or deny a band stated (probe90 D10)
    # the clauses that deny the whole result ("Negative.") or withdraw a band before it is stated
    whole_negatives: list[tuple[int, str]] = []
    panel = False  # the clause before listed the antisera tested with
    then_seen = False  # a clause after the bands before said they were seen at an earlier test (_SEEN_THEN)
    t = _polyclonal_beside_dropped(t)
    tested, said, fields, pieces, named = _read_clauses(t, specimen)
    quoted = _quoted_sentences(pieces, named, cues)
    unasserted = _not_asserted(pieces, named, cues)
    for index, (clause, after_comma, new_sentence) in enumerate(pieces):
        if index in unasserted:
            # a relative's, a condition's, a differential's or hearsay (probe116)
            if unasserted[index] == "doubt":
                possible += [b for b in named[index] if b not in possible]
            elif unasserted[index] == "disowns":
                whole_negatives.append((index, clause))
            previous, denied_list = [], False
            continue
        if index in quoted:
            # another lab's or another patient's result quoted beside this one's (probe107 D6/D7)
            if quoted[index]:
                earlier += [b for b in named[index] if b not in earlier]
            previous, denied_list = [], False  # (a list pending before it is this result's, kept)
            continue
        mention = mention and not new_sentence
        caveat = (caveat and not new_sentence) or bool(_CAVEAT.search(clause))
        clause_bands = list(named[index])
        if _PANEL.search(clause):  # "antisera IgG, IgA ...", "IgG, IgA ... and lambda antisera": the panel
            clause_bands, pending, panel = [], [], True
        elif panel and (
            (clause_bands and _bare(clause) and all(not (b.heavy_chain and b.light_chain) for b in clause_bands))
            or clause.strip() in _ANTISERUM_LETTERS
        ):
            # ... and the rest of its list, after commas or a line each: "Antisera: IgG, IgA, IgM, kappa, lambda⏎
            # Result: negative" names no band (probe93 D6: the list was an IgG lambda band against the result), nor
            # does a list of letters: "Antisera: G, A, M, κ, λ⏎Result: …" (probe95 D22: the "A" ended the list)
            continue
        else:
            panel = False
        continues = bool(clause_bands) and after_comma and _BAND_FIRST.match(clause) is not None
        if continues and _another_chain(pending, clause_bands):
            # "IgG-λ, каппа не выявлена", "IgG lambda, kappa not detected": a complete band, then the other
            # light chain alone - a statement of its own, not the list's last member (probe88 D12)
            continues = False
        if pending and not continues:  # the list was a statement of its own: "IgG kappa, no Bence Jones"
            previous = [b for b in pending if b not in bands]
            bands += previous
            said_outside += pending
            pending = []
        then = _EARLIER.search(clause) if clause_bands else None
        if then is not None and not _STILL.search(clause) and not _stays(clause):
            # the bands after "previously" are an earlier test's: not today's band, nor today's negative
            # ("IgA lambda (previously IgG kappa)": IgA lambda is today's); with none after it the clause
            # is about the earlier test ("IgA lambda band previously seen"); a band said to persist is today's
            old = _bands(clause[then.start() :]) or clause_bands
            earlier += [b for b in old if b not in earlier]
            now = clause[: then.start()] if old is not clause_bands else ""
            clause_bands = _bands(now)
            if not clause_bands:
                # ... and one said to be gone is today's negative: "Previously noted IgG lambda band has resolved",
                # «Ранее выявленная полоса IgG лямбда исчезла» (probe97 D11: unrecognised, as "IgG lambda band has
                # disappeared" was not)
                negated_any = (
                    negated_any
                    or bool(_NEGATED_CLAUSE.search(_unsaid(clause, tested, fields)))
                    or _gone_after_the_band(clause)
                )
                previous, denied_list = [b for b in old], False
                continue
            clause = now
        if clause_bands and _gone_after_the_band(clause):
            # "IgG lambda band has disappeared", "IgG lambda band - resolved", «Полоса IgG лямбда исчезла»: a band
            # that was there, gone today - an earlier band and today's negative (probe95 D9: today's band)
            earlier += [b for b in clause_bands if b not in earlier]
            negated_any, previous, denied_list, then_seen = True, [], False, False
            continue
        if _MENTION.search(clause):
            mention = True
        if (
            clause_bands
            and mention
            and not _POSITIVE.search(_MENTION.sub(" ", clause))
            and not _states_a_band(clause, caveat)
        ):
            # a comment that names isotypes: no band, no negative, nor a predicate of a list before it
            previous, denied_list, pending = [], False, []
            continue
        if not clause_bands:
            body = _COMMENT_LABEL.sub("", clause, count=1)  # a comment's words, without their label
            if (
                body != clause
                and bands
                and not mention
                and (
                    _NEGATIVE_PREDICATE.search(body)
                    or _withdraws(body)
                    or (_denies_the_result(body, t) and not _measure_only(body))
                )
            ):
                # a comment that denies or withdraws the band stated before it: "IgG lambda band detected.
                # Comment: not confirmed on repeat / negative / no monoclonal band on repeat testing"
                against.append((index, clause))
            elif (
                previous
                and new_sentence
                and _NEGATIVE_PREDICATE.search(clause)
                and (_asserted(pieces, index) or _stated_then_denied(pieces, index, said, t))
            ):
                # a sentence of its own against a band stated as seen: "IgG lambda band detected. Not detected
                # on repeat." (a predicate after a comma, "IgG kappa, now negative", stays the band's denial),
                # or against a band stated by its noun: "IgG lambda band. Negative."
                against.append((index, clause))
            elif previous and (
                _NEGATIVE_PREDICATE.search(_own_place_dropped(clause, tested, pieces[index - 1][0]))
                or _POLYCLONAL_PREDICATE.search(clause)
                or _GONE_PREDICATE.match(body)
            ):
                bands = [b for b in bands if b not in previous]
                negated_any = True
                if then_seen or (_GONE.search(clause) and not _POLYCLONAL_PREDICATE.search(clause)):
                    # "IgG lambda band seen in 2019, now resolved": a band that was there (probe92 D18); "Полоса
                    # IgG лямбда, выявлявшаяся ранее, в настоящее время отсутствует" (probe95 D9)
                    earlier += [b for b in previous if b not in earlier]
            elif previous and _DOUBT_PREDICATE.search(body):
                bands = [b for b in bands if b not in previous]
                possible += [b for b in previous if b not in possible]
            elif bands and not mention and _withdraws(body):
                against.append((index, clause))  # "IgG lambda band. Probably artefact."
            elif earlier and not bands and not mention and index > min(quoted, default=index) and _withdraws(body):
                # this laboratory's withdrawal of a band quoted from another: "Referring laboratory reported IgG
                # lambda; not reproduced in our laboratory." - today's negative beside an earlier band (fix116b)
                negated_any = True
            elif not mention and _withdraws(body):
                # a withdrawal written before the band it withdraws: "Comment: not confirmed on repeat.⏎Result:
                # IgG lambda band detected.", "Note: probable artefact. IgG lambda band detected." (probe95 D11: a
                # clone) - against a band stated after it, as "Negative." is
                whole_negatives.append((index, clause))
            elif not mention and _denies_the_result(body, t) and not _measure_only(body):
                # "Negative." (a band stated beside it contradicts it) - not the electrophoresis' measure too small to
                # see beside a band named: "IgA lambda detected; M-spike not detectable." (probe126 R1)
                whole_negatives.append((index, clause))
            if previous and _SEEN_THEN.match(clause):
                then_seen = True  # "Полоса IgG лямбда, выявлявшаяся ранее, …": the band before, seen then
            elif clause.strip():
                previous, denied_list, then_seen = [], False, False
            continue
        if denied_list and continues and not _POSITIVE.search(clause):
            # "No IgG, IgA or IgM band", "Polyclonal IgG, IgA and IgM": the list goes on after the comma
            negated_any, previous = True, []
            continue
        if _bare(clause) and (not pending or continues):
            pending += [b for b in clause_bands if b not in pending]
            previous, denied_list = [], False
            continue
        members, pending = pending + clause_bands, []  # the list's last member and its predicate
        if _POLYCLONAL.search(_BACKGROUND.sub(" ", clause)) and not _MONOCLONAL.search(clause):
            negated_any, previous, denied_list = True, [], _BAND_LAST.search(clause) is not None
            continue
        denied_list = False
        if any(b in bands for b in members) and (
            _withdraws(clause)
            or (not _UNCERTAIN.search(clause) and _NEGATED_CLAUSE.search(_unsaid(clause, tested, fields)))
        ):
            # a band stated, then denied or withdrawn by name: "IgG lambda band. Comment: the IgG lambda band
            # was not confirmed on repeat / is probably an artefact"
            against.append((index, clause))
            previous = []
            continue
        if _doubts_the_band(clause):  # before the negation words: "cannot be excluded" is a doubt
            possible += [b for b in members if b not in possible]
            previous = []
            continue
        if _NEGATED_CLAUSE.search(_unsaid(clause, tested, fields)):
            if all(b.heavy_chain is None for b in members) and len({b.light_chain for b in members}) == 1:
                chain_denials.append(clause)  # "No kappa band": one light chain denied, not the clone
            else:
                negated_any = True
            previous, denied_list = [], _BAND_LAST.search(clause) is not None
            continue
        previous, then_seen = [b for b in members if b not in bands], False
        bands += previous
        if mention and not _POSITIVE.search(_MENTION.sub(" ", clause)):
            comment_clauses.append(clause)  # named in the comment only (a clause with "present" states it)
        else:
            said_outside += members
    bands += [b for b in pending if b not in bands]
    said_outside += pending
    if bands and not said_outside:
        # only a comment names a band: beside the result's own negative words it creates none ("Negative.
        # Recommend monitoring of the IgG lambda band if clinically indicated": probe89 D9)
        words = t
        for clause in comment_clauses + chain_denials:
            words = words.replace(clause, " ")
        if negated_any or _NEGATIVE.search(words):
            bands, negated_any = [], True
    before = tuple(_merge_lone_chains(earlier))
    stated = [b for b in bands if b in said_outside]
    if stated:
        # the words that deny the result contradict a band stated beside them: "Negative. Comment: IgG lambda
        # band noted.", "IgG lambda band. Comment: No kappa band. No lambda band." (each chain denied in a
        # clause of its own: probe89 D3; a free chain's denial is a remark on the light chains); which holds
        # cannot be told, and an absent clone excludes POEMS while a present one makes it (probe90 D10)
        whole = [(i, c) for i, c in enumerate(p for p, _, _ in pieces) if c in chain_denials and not _FREE.search(c)]
        if {b.light_chain for _, c in whole for b in _bands(c)} < {"kappa", "lambda"}:
            whole = []
        against = sorted({*against, *whole_negatives, *whole})
    if stated and against:
        return IfeResult(
            False,
            possible=tuple(_merge_lone_chains([*stated, *(b for b in possible if b not in stated)])),
            earlier=before,
            conflict=_conflict(text, pieces, stated, against),
        )
    bands = _merge_lone_chains(bands)
    if bands:
        return IfeResult(False, tuple(bands), earlier=before)
    if possible:
        return IfeResult(False, possible=tuple(_merge_lone_chains(possible)), earlier=before)
    # "Oligoclonal bands", "polyclonal pattern" (a bare "normal" is left to the qualitative words)
    no_clone = bool(_NO_CLONE_WORD.search(_BACKGROUND.sub(" ", t))) and not _MONOCLONAL.search(t)
    rest = t
    for clause in chain_denials:
        rest = rest.replace(clause, " ")
    negative = negated_any or no_clone or bool(_NEGATIVE.search(rest))
    if {b.light_chain for c in chain_denials for b in _bands(c)} >= {"kappa", "lambda"}:
        # "No kappa band. No lambda band.", «Лямбда не выявлена. Каппа не выявлена.»: each chain denied in a
        # clause of its own denies every band, as "Kappa and lambda not detected" does (probe89 D3)
        negative = True
    elif chain_denials and not negative:
        # only one light chain denied ("Positive. No kappa band.", «каппа не выявлена»): negative, but it says
        # nothing against a clone of the other chain, nor against a coded Positive (probe88 D12) - and beside a clone
        # stated with no band named ("Monoclonal protein detected. Kappa: negative.") no negative at all (probe122)
        if any(_untyped_clone_stated(clause) for clause, _, _ in pieces):
            return IfeResult(False, earlier=before)
        return IfeResult(True, earlier=before, chain_only=True)
    if not negative and (_UNCERTAIN.search(t) or _WEAK.search(t)):
        # "Equivocal result, repeat advised", "possible faint band, unable to type", "weakly positive" (no
        # band named: probe49 D6 was a refused result; a named band stays a band - POEMS' are often small)
        return IfeResult(False, equivocal=True, earlier=before)
    if negative or _OTHERS_NORMAL.search(t) or _NEGATED_CLAUSE.search(t):
        # (a negative, or another test's "normal" or «отсутствует» that is no negative of this result: "Monoclonal
        # protein present. Serum free light chains: normal.", «… белок Бенс-Джонса в моче отсутствует» - probe125 G6)
        own, doubted = _own_clone_beside_others_negatives(pieces, tested, cues)
        if own and not _UNCERTAIN.search(t):
            # a clone of this result stated with no band named, every negative beside it another test's, specimen's or
            # time's: "Monoclonal protein present. Bence Jones protein: negative." (the urine's free light chains), "…
            # Previous sample (2021) negative." - a positive result, its isotype not stated (fix123b: unread, the text
            # engine read the Bence Jones negative against the clone)
            return IfeResult(False, earlier=before, untyped=own)
        if doubted:
            # ... a doubted one: "Possible monoclonal protein. Bence Jones protein: negative." is equivocal, not this
            # result's negative (fix123b: the Bence Jones negative was the serum's, an absent clone)
            return IfeResult(False, equivocal=True, earlier=before)
    if not negative and not _UNCERTAIN.search(t):
        own = _clone_beside_levels(pieces)
        if own:
            # a clone stated with no band named beside immunoglobulin levels: "Monoclonal protein detected. IgG 14 g/L"
            # - a positive result, its isotype not stated (the level was read as an IgG band before fix139b)
            return IfeResult(False, earlier=before, untyped=own)
    if negative and any(_untyped_clone_stated(clause) for clause, _, _ in pieces):
        # ... beside a negative of this result or of the same specimen ("Monoclonal protein present. Immunofixation:
        # negative."), or a clone of another specimen beside this one's negative ("Bence Jones protein detected. Serum
        # immunofixation: negative."): no negative result, nor a band this parser can name - left unread (probe122 D2)
        return IfeResult(False, earlier=before)
    return IfeResult(negative, earlier=before)


#: a clone stated present with no isotype: "Monoclonal protein present", "M-protein detected", "Bence Jones protein
#: detected", «Выявлен моноклональный белок», Kazakh «Моноклоналды ақуыз анықталды»
_UNTYPED_CLONE = re.compile(
    r"\b(?:monoclonal\s+(?:protein|gammopathy|component|immunoglobulin|paraprotein|band|spike)|"
    r"m[- ]?(?:protein|spike|component|band)|paraprotein|bence[- ]jones(?:\s+protein)?)\b|"
    r"моноклональн\w*\s+(?:бел\w*|протеин\w*|гаммапати\w*|иммуноглобулин\w*|компонент\w*|секреци\w*|полос\w*)|"
    r"парапротеин\w*|м-?градиент\w*|белок\s+бенс\w*|моноклоналды\s+(?:ақуыз|гаммапатия|жолақ)"
)


def _untyped_clone_stated(clause: str) -> bool:
    """Whether the clause states a clone present without naming a band (and does not deny or doubt it)."""
    return (
        _UNTYPED_CLONE.search(clause) is not None
        and (_POSITIVE.search(clause) is not None or re.search(r"\bpresent\b|анықталды", clause) is not None)
        and not _NEGATED_CLAUSE.search(clause)
        and not _UNCERTAIN.search(clause)
        and not _bands(clause)
    )


#: a result said to be normal - another test's beside a clone stated ("Serum free light chains: normal", «Свободные легкие
#: цепи в норме», Kazakh «қалыпты»): no denial of this result, but a result that is not this one's (probe125 G6)
_OTHERS_NORMAL = re.compile(
    r"\bnormal\b|\bwithin (?:the )?(?:normal|reference) (?:limits|range)\b|\bwnl\b|\bunremarkable\b|"
    r"\bв (?:пределах )?норм\w*|\bнорм(?:а|альн\w*)\b|қалыпты"
)
#: a clause that is only a positive result: "Positive", "Result: detected", «Положительный», Kazakh «Оң»
_POSITIVE_ALONE = re.compile(
    r"\s*(?:(?:result|interpretation|immunofixation|ife|результат|заключение|иммунофиксация)\s*:?\s*)?"
    r"(?:positive|detected|положительн\w*|выявлен\w*|обнаружен\w*|оң)\s*"
)
#: what a clause names as its test, where not the one tested: a Bence Jones protein (the urine's free light chains)
#: or the urine, the serum, the CSF, serum free light chains (and, in ``_tests_named``, an earlier sample or another
#: laboratory)
_TEST_NAMES = {
    "urine": re.compile(r"\burine\b|\bbence\b|\bbj\b|бенс\w*|моч[аеиу]\w*|несеп\w*"),
    "serum": re.compile(r"\b(?:serum|plasma|blood)\b|сыворот\w*|плазм\w*|\bкров\w*|сарысу\w*"),
    "csf": re.compile(r"\bcsf\b|cerebrospinal|ликвор\w*"),
    # ... and their ratio: "Kappa/lambda ratio normal", «Соотношение каппа/лямбда в норме» (probe125 G6)
    "flc": re.compile(
        r"\bflc\b|free (?:kappa|lambda|light)|свободн\w* (?:легк|каппа|лямбда)\w*|"
        r"\b(?:kappa|κ|k)\s*/\s*(?:lambda|λ|l)\s+ratio\b|\bratio (?:of )?(?:free )?(?:kappa|κ)|соотношени\w* (?:каппа|κ|к)\b"
    ),
}


def _tests_named(clause: str, tested: str, cues: IfeCues) -> set[str]:
    """The tests a clause speaks of: those it names (``_TEST_NAMES``, another laboratory's), else the one tested."""
    named = {name for name, words in _TEST_NAMES.items() if words.search(clause)}
    if _EARLIER.search(clause):
        named.add("earlier")
    if cues.another_lab.search(clause):
        named.add("another laboratory")
    return named or {tested}


def _another_tests(clause: str, tested: str, cues: IfeCues) -> bool:
    """Whether a clause speaks of another test than this result: another specimen's only ("Bence Jones protein:
    negative", "Urine: negative" on a serum result), serum free light chains, an earlier sample or another
    laboratory's - not the result itself ("Negative", "Serum immunofixation: negative", "Repeat: negative")."""
    named = _tests_named(clause, tested, cues)
    return bool(named & {"flc", "earlier", "another laboratory"}) or tested not in named


def _own_clone_beside_others_negatives(
    pieces: list[tuple[str, bool, bool]], tested: str, cues: IfeCues
) -> tuple[str, bool]:
    """This result's clone stated with no band named ("Monoclonal protein present", "Positive") - the first clause
    that states it - and whether one doubts it ("Possible monoclonal protein", "Monoclonal protein present?"), where
    every clause that denies something beside it is another test's, specimen's or time's ("Bence Jones protein:
    negative", «Белок Бенс-Джонса не обнаружен», "Previous sample (2021) negative"): a negative of one test is no
    conflict with a positive of another, nor this result's negative (fix123b). ("", False) when there is no such
    clone, or a denial beside it may be of this result."""
    stated: list[str] = []
    doubted: list[str] = []
    for clause, _, _ in pieces:
        if _another_tests(clause, tested, cues):
            continue
        if _untyped_clone_stated(clause) or _POSITIVE_ALONE.fullmatch(clause):
            stated.append(clause)
        elif _UNTYPED_CLONE.search(clause) and _UNCERTAIN.search(clause) and not _bands(clause):
            doubted.append(clause)  # (its doubt may have a negation's words: "cannot be excluded")
    ours = stated + doubted
    denials = [
        c
        for c, _, _ in pieces
        if c not in ours and (_NEGATED_CLAUSE.search(c) or _NEGATIVE.search(c) or _OTHERS_NORMAL.search(c))
    ]
    if not ours or not denials or not all(_another_tests(c, tested, cues) for c in denials):
        return "", False
    return (stated[0].strip() if stated else ""), bool(doubted)


#: the tested specimen named as where a denial holds: "in the urine", «в моче», «несепте»
_OWN_PLACE = {
    "urine": r"(?:in (?:the )?urine|в моче|несепте)",
    "serum": r"(?:in (?:the )?(?:serum|plasma)|в сыворотке(?: крови)?|в плазме|сарысуда)",
}
#: a Bence Jones protein: the urine's by its name
_BENCE = re.compile(r"\bbence\b|\bbj\b|бенс")


def _own_place_dropped(clause: str, tested: str, before: str) -> str:
    """A predicate without the tested specimen's name: «(лямбда) в моче не обнаружен» on a urine result - or after a
    Bence Jones protein, the urine's by name - is «не обнаружен» (probe116 D3: «Белок Бенс-Джонса (лямбда) в моче не
    обнаружен» was a free lambda band). Another specimen's name stays: its denial is not this result's."""
    place = _OWN_PLACE["urine" if _BENCE.search(before) else tested]
    return re.sub(rf"^\s*{place}\s+|\s+{place}\s*$", " ", clause)


_FREE = re.compile(r"\bfree\b|light chains?|bence|свободн\w*|легк\w* цеп\w*|бенс")


#: a hyphen, a dash or a colon inside a clause: "IgG lambda band detected - not confirmed on repeat"
_DASH = re.compile(r"\s[-–—]+\s|[-–—]+\s|:\s*")
_MAX_DASHES = 32  # a clause of a real report has a few


def _withdrawn_after_a_dash(
    pieces: list[tuple[str, bool, bool]], tested: str, fields: bool
) -> list[tuple[str, bool, bool]]:
    """A band stated as seen, then withdrawn after a hyphen, a dash or a colon - "IgG lambda band detected -
    not confirmed on repeat", "… detected:⏎not confirmed on repeat", "… detected - not an artefact" - as two
    sentences, the withdrawal (or its denial) a comment of its own (probe93 D4: the withdrawal's "not" denied
    the band in the same clause, absent). So too a band named with no verb of seeing and withdrawn in words
    that deny nothing before the withdrawal - "IgG lambda: not confirmed on repeat", "IgG lambda band - probably
    artefact", «IgG лямбда: не подтвержден при повторном исследовании» (fix95b: absent) - but not a label's
    answer: "IgG lambda: negative on repeat" stays as it was ("IgG lambda: not an artefact" is the band:
    _denied_withdrawals)."""
    out: list[tuple[str, bool, bool]] = []
    for clause, after_comma, new_sentence in pieces:
        # each dash reads the words before it again: a clause without a band has none to withdraw, and only
        # the first dashes of one are tried (probe95 D26: 100 kB of "-" lines took two minutes)
        dashes = islice(_DASH.finditer(clause), _MAX_DASHES) if _BAND.search(clause) else ()
        for m in dashes:
            head, tail = clause[: m.start()], clause[m.end() :]
            if not _bands(head) or _NEGATED_CLAUSE.search(_unsaid(head, tested, fields)):
                continue
            word = next((w for w in _WITHDRAWN_WORD.finditer(tail) if not _only_given(w, tail)), None)
            if (_POSITIVE.search(head) and _WITHDRAWN.search(tail)) or (
                word is not None and not _NEGATED_CLAUSE.search(tail[: word.start()])
            ):
                out += [(head, after_comma, new_sentence), (tail, False, True)]
                break
        else:
            out.append((clause, after_comma, new_sentence))
    return out


#: a band said to have gone only in part: "partially resolved", «частично разрешилась» (today's band)
_PARTLY_GONE = re.compile(
    r"\b(?:partially|partly|incompletely|not (?:yet |fully |completely )?(?:resolved|cleared|disappeared))\b|"
    r"частично|не полностью|ішінара"
)


def _stays(clause: str) -> bool:
    """An earlier band said not to be gone, or gone only in part: "Previously noted IgG lambda band has not
    resolved / has partially resolved", «Ранее выявленная полоса IgG лямбда не исчезла» - today's band, as one
    said to persist is."""
    return bool(_NOT_GONE_STEMS.search(clause)) and bool(_NOT_GONE.search(clause) or _PARTLY_GONE.search(clause))


def _gone_after_the_band(clause: str) -> bool:
    """The words after the clause's last band say it has gone: "IgG lambda band has disappeared", "IgG lambda
    band - resolved", «Полоса IgG лямбда исчезла», «IgG лямбда жолағы жойылды» (not a band said to stay)."""
    if not _GONE_STEMS.search(clause):  # (most clauses: no word of it)
        return False
    ends = [m.end() for m in _BAND.finditer(clause)]
    if not ends or _STILL.search(clause):
        return False
    nouns = _BAND_NOUNS.match(clause, ends[-1])
    rest = clause[nouns.end() if nouns else ends[-1] :]
    return bool(_GONE_PREDICATE.match(rest))


def _asserted(pieces: list[tuple[str, bool, bool]], index: int) -> bool:
    """The clause right before this one (no dotted leader between) states its band as seen ("IgG lambda band
    detected"), not as an earlier test's."""
    before = pieces[index - 1][0] if index > 0 else ""
    return bool(before.strip() and _POSITIVE.search(before) and not _EARLIER.search(before))


#: a lab's short negative, the answer to the band before it ("IgG lambda band. Neg.", «… Отр.», «… Не обн.»)
_SHORT_NEGATIVE = re.compile(rf"\s*{_ABBREVIATED_NEGATIVE}\.?\s*")


def _stated_then_denied(pieces: list[tuple[str, bool, bool]], index: int, said: str, t: str) -> bool:
    """The clause before is a sentence of its own that states a band by its noun ("IgG lambda band.", "IgG
    lambda paraprotein.", «Полоса IgG лямбда.») and this one, after its full stop, denies the whole result
    ("Negative.", "Not detected."): the text contradicts itself, as "IgG lambda band detected. Negative." does
    (fix95b: the band's denial, absent). An isotype named alone is a label answered ("IgG lambda. Negative.",
    "IgG lambda: negative"), and so is a band answered at a line break ("IgG lambda band⏎Negative") or in a
    short form ("IgG lambda band. Neg.", "… No.")."""
    if index == 0:
        return False
    before, _, began = pieces[index - 1]
    clause = pieces[index][0]
    return bool(
        began
        and _BAND_NOUN.search(before)
        and not _EARLIER.search(before)
        and not _SHORT_NEGATIVE.fullmatch(clause)
        and _denies_the_result(clause, t)
        and re.search(re.escape(before) + r"\.\s*" + re.escape(clause), said)
    )


#: the serum named in a result ("Serum: negative") - which is the whole result only where no urine is named
_SERUM = re.compile(r"\bserum\b|сыворотк\w*|сарысу\w*")
_URINE = re.compile(r"\burine\b|\bbence\b|\bbj\b|моч[аиеуы]\w*|бенс|несеп\w*")


@lru_cache(maxsize=8)
def _names_urine(text: str) -> bool:
    """Once per text, not once per clause (probe95 D26: a 100 kB note of short clauses took a minute)."""
    return _URINE.search(text) is not None


#: the electrophoresis' measure of a clone: its spike or peak on the gel ("M-spike", "M-peak", "monoclonal spike",
#: «М-градиент», «М-пик», «моноклональный пик»; Kazakh letters use «М-градиент» too - UNVERIFIED: not seen in real
#: letters). Another test than the immunofixation: a POEMS clone is often too small for it (criteria.md §4,
#: "M-protein typically small"), so its denial beside a band named denies nothing of the band (probe126 R1)
_EP_MEASURE = re.compile(
    r"\b(?:m[- ]?|monoclonal )(?:spike|peak)s?\b|[mм][- ]?(?:градиент|пик)\w*|моноклональн\w* пик\w*|"
    r"\b(?:spep|electrophoresis)\b|электрофорез\w*"
)
#: ... the immunofixation's own words for its clone or result: a clause with one of them beside the measure denies
#: the result ("M-spike and monoclonal band not detectable", "Immunofixation and M-spike: negative")
_IFE_OWN_WORDS = re.compile(
    r"\b(?:immuno-?fixation|ife|band|m[- ]?(?:protein|component|band)|paraprotein\w*|monoclonal (?:protein|"
    r"component|immunoglobulin|gammopathy)|gammopath\w*|clon\w*)\b|иммунофиксаци\w*|полос\w*|парапротеин\w*|"
    r"[mм]-?(?:компонент|протеин)\w*|моноклональн\w* (?:бел|компонент|гаммапати|иммуноглобулин)\w*|гаммапати\w*|"
    r"жолақ\w*|ақуыз\w*"
)


def _measure_only(clause: str) -> bool:
    """Whether a clause speaks only of the electrophoresis' measure ("M-spike not detectable", «М-градиент не
    определяется»), no word of the immunofixation's own result beside it (probe126 R1: read as the whole result's
    negative against the band named beside it)."""
    return _EP_MEASURE.search(clause) is not None and not _IFE_OWN_WORDS.search(_EP_MEASURE.sub(" ", clause))


def _denies_the_result(clause: str, text: str) -> bool:
    """A clause that denies the whole result and says nothing else: "Negative", "No monoclonal band detected
    on repeat testing", «Моноклональный белок не выявлен», "Serum: negative" where the text names no urine
    (not "Negative for Bence Jones protein", "Urine IFE: negative")."""
    if _SERUM.search(clause) and _URINE.search(clause) and _BOTH_DENIED.search(clause):
        # both specimens denied - "not detected in urine or serum", "not seen in either serum or urine", "absent
        # in both serum and urine samples", «в сыворотке и моче не выявлен», «не обнаружен ни в сыворотке, ни в
        # моче», «сарысуда және несепте анықталмады» - is whichever was tested, in any verb of denial (probe96 D1;
        # probe97 D4: only _NEGATIVE's were, the band before it stood, `met`)
        both = _BOTH.sub(" ", _URINE.sub(" ", _SERUM.sub(" ", _BOTH_DENIED.sub(" ", clause))))
        if not _RESULT_WORDS.sub("", both).strip():
            return True
    if not _NEGATIVE.search(clause):
        return False
    unsaid = _NEGATIVE.sub(_specimens_kept, clause)
    rest = _RESULT_WORDS.sub("", unsaid)
    if rest.strip() and not _names_urine(text):
        rest = _RESULT_WORDS.sub("", _SERUM.sub(" ", unsaid))
    return not rest.strip()


#: a specimen a denial may name inside its own words: the urine (a Bence Jones protein), the serum, the CSF
_SPECIMEN_NAMED = re.compile(rf"{_URINE.pattern}|{_SERUM.pattern}|\b(?:plasma|csf|cerebrospinal)\b|плазм\w*|ликвор\w*")


def _specimens_kept(m: re.Match[str]) -> str:
    """A denial's words taken out, the specimen it names kept: "Paraprotein in urine has been ruled out",
    «Парапротеин в моче: не обн.» deny the urine's, not the whole result (probe125 R2: the clone's noun and the
    words after it were one negative, the urine's name inside it, and a serum band beside it was in conflict)."""
    return " " + " ".join(s.group() for s in _SPECIMEN_NAMED.finditer(m.group())) + " "


#: the words of a denial of both specimens ("not seen in serum or urine", «не обнаружен ни в сыворотке, ни в
#: моче», «сарысуда және несепте анықталмады»)
_BOTH_DENIED = re.compile(
    r"\b(?:(?:is|was|are|were) )?(?:not|no longer) (?:detected|detectable|seen|found|present|identified|visible|"
    r"demonstrated|observed|evident)\b|\b(?:detected|seen|found|present|identified|demonstrated|observed) in neither\b|"
    # "…; neither in serum nor in urine", "detected neither in serum nor in urine" (probe100 D3: the band stood)
    r"\b(?:(?:detected|seen|found|present|identified|demonstrated|observed) )?neither\b(?= (?:in )?(?:the )?\w+ nor\b)|"
    r"\b(?:absent|negative|undetectable)\b|"
    r"\bне (?:выявля\w*|выявлен\w*|обнаружива\w*|обнаружен\w*|определя\w*|определ[её]н\w*)|отсутству\w*|"
    r"отрицательн\w*\b(?!\s+динамик)|анықталмады|анықталған жоқ|табылмады|теріс"
)
_BOTH = re.compile(
    r"\b(?:or|and|both|nor|from|in|the|either|samples?|specimens?)\b|\bи\b|\bили\b|\bни\b|\bв\b|\bкак\b|"
    r"\bобразц\w*|\bпроб\w*|\bжәне\b|\bнемесе\b|\bүлгі\w*"
)


def _quote(text: str, clause: str) -> str:
    """A clause of the normalised text as the original spells it ("Comment: IgG lambda band noted")."""
    words = re.findall(r"[^\s|:]+", clause)  # a label merged with its cell ("Comment | …") quoted as written
    found = re.search(r"[\s|:]*".join(re.escape(w) for w in words), text, re.IGNORECASE) if words else None
    said = found.group() if found else clause.strip()
    return repr(said if len(said) <= 60 else said[:57] + "...")


def _conflict(
    text: str, pieces: list[tuple[str, bool, bool]], stated: list[Band], against: list[tuple[int, str]]
) -> str:
    """Both sides of a result that contradicts itself, in the order of the text: "'Negative' but IgG lambda
    ('Comment: IgG lambda band noted')", "IgG lambda ('IgG lambda band detected') but 'Comment: not confirmed
    on repeat'"."""
    denied = {i for i, _ in against}
    sides: list[tuple[int, bool, str]] = [(i, False, _quote(text, c)) for i, c in against]
    named: dict[int, list[str]] = {}  # the clause that first states a band: the bands it states
    for band in _merge_lone_chains(stated):
        parts = (
            {band} if band in stated else {b for b in stated if b.heavy_chain == band.heavy_chain or not b.heavy_chain}
        )
        where = next((i for i, (c, _, _) in enumerate(pieces) if i not in denied and parts & set(_bands(c))), -1)
        named.setdefault(where, []).append(band.label())
    for where, labels in named.items():
        said = f" ({_quote(text, pieces[where][0])})" if where >= 0 else ""
        sides.append((where, True, f"{' and '.join(labels)}{said}"))
    sides.sort()
    said_so = ""
    for n, (_, names_bands, words) in enumerate(sides):
        said_so += ("" if n == 0 else " and " if names_bands == sides[n - 1][1] else " but ") + words
    return said_so


#: a band said to be there still: today's band, whatever it was before
_STILL = re.compile(
    r"\b(?:still|persist\w*|again|unchanged|stable|as before|remains?|remaining|continues?)\b|"
    r"сохраня\w*|по-прежнему|вновь|снова|остается|остаётся|без динамики"
)
#: a clause about an earlier test: "previously seen", "prior", «ранее выявлявшийся», "at diagnosis"
_EARLIER = re.compile(
    r"\b(?:previous(?:ly)?|prior|earlier|formerly|initially|at diagnosis|at baseline|before treatment|"
    r"pre-?treatment|no longer)\b|ранее|прежде|исходно|до лечения|при диагностике|больше не|бұрын"
)


#: a result another laboratory or an earlier report gave, quoted beside this one: "Outside lab (01/2024) reported IgG
#: lambda. Repeat here: no monoclonal band", "Referring lab result: IgA lambda. Our result: Negative." (probe107 D6/D7:
#: read as today's band, or lost to today's negative) - a band found at any time, not today's (criteria.md §3.3)
#: (Kazakh phrases UNVERIFIED: not seen in real results)
_ANOTHER_LAB = re.compile(
    r"\b(?:outside|external|referring|referral|sending|other|another|original|initial|first|outside[- ]hospital)\s+"
    r"(?:[\w/-]+\s+){0,2}?(?:lab|labs|laborator\w*|hospital|cent(?:re|er)|institution|clinic|report|result|sample|"
    r"test|ife|immunofixation|electrophoresis)\b|"
    r"\b(?:reported|performed|done) (?:by|at|from|elsewhere)\b(?: (?:the|an?) )?(?! here\b)|"
    r"(?:направивш|сторонн|друг|внешн|перв)\w*\s+(?:\w+\s+)?(?:лаборатор|учреждени|клиник|стационар|больниц|лпу|"
    r"организаци|центр)\w*|по месту жительства|первичн\w* (?:анализ|результат|заключени|ответ)\w*|"
    r"басқа (?:зертхана|мекеме|аурухана|клиника)\w*|жолдаған (?:зертхана|мекеме)\w*"
)
#: ... and one said to be another patient's: no band of this patient's at all (criteria.md §3.3: withdrawn as
#: another patient's, it never counted) - "Original report IgG kappa was for a different patient"
_ANOTHER_PATIENT = re.compile(
    r"\b(?:wrong|different|another|other) patient\b|\bnot (?:this|the) patient'?s?\b|\bmislabel\w*|"
    r"друг\w* (?:пациент|больн)\w*|чуж\w* (?:анализ|результат|проб)\w*|басқа (?:пациент|науқас)\w*"
)


#: a band gone since: it was there before ("now resolved", "has disappeared", "no longer detected", «исчез»)
_GONE = re.compile(r"\b(?:resolved|disappeared|no longer|gone|cleared)\b|исчез\w*|больше не|жойылды|жоғалды")
#: ... said of the band before it, whatever follows: "has disappeared", "- resolved", ": resolved", "resolved since
#: the last sample", "now resolved after chemotherapy", "today: resolved", «исчезла», Kazakh «жойылды» (probe95
#: D9: today's band) - not "partially resolved", nor a denied one ("has not resolved": _NOT_GONE)
_GONE_PREDICATE = re.compile(
    r"^\s*(?:[-:–—]\s*)?(?:(?:now|currently|today|since|at present|by now|in the meantime)\s*[:,–—-]?\s*)?"
    r"(?:(?:has|have|had|is|are|was|were)\s+)?(?:(?:now|since|completely|fully|entirely|totally)\s+)?(?:been\s+)?"
    r"(?:resolved|disappeared|cleared|gone|vanished)\b"
    r"|^\s*(?:[-:–—]\s*)?(?:(?:в настоящее время|сейчас|ныне|теперь)\s*[:,–—-]?\s*)?(?:(?:полностью|уже)\s+)?"
    r"(?:исчез\w*|разрешил\w*)"
    r"|^\s*(?:[-:–—]\s*)?(?:(?:қазір|қазіргі уақытта)\s+)?(?:толық\s+)?(?:жойылды|жоғалды)"
)
#: the stems of _GONE_PREDICATE's verbs
_GONE_STEMS = re.compile(r"resolv|disappear|clear|gone|vanish|исчез|разреш|жойыл|жоғал")
#: the nouns of a band between its name and what is said of it: "IgG lambda band has disappeared", «IgG лямбда
#: жолағы жойылды»
_BAND_NOUNS = re.compile(
    r"(?:\s*(?:monoclonal|band|paraprotein|m[- ]?(?:protein|spike|component|band)|spike|component|полос\w*|"
    r"парапротеин\w*|м[- ]?градиент\w*|жолағы|жолақ))*"
)
#: a clause that only says the band before it was seen at an earlier test: "выявлявшаяся ранее", "ранее
#: выявлявшаяся", "выявленный в 2020 г", "previously seen", "seen in 2019", "detected at diagnosis" - what
#: the next clause denies is that band's absence today (probe95 D9: «Полоса IgG лямбда, выявлявшаяся ранее, в
#: настоящее время отсутствует» was today's band)
_SEEN_THEN_EN = (
    r"(?:seen|detected|found|noted|identified|reported|present|demonstrated)",
    r"(?:previously|earlier|before|initially|formerly|at diagnosis|at baseline|before treatment|"
    r"(?:in|on) (?:\w+ )?(?:19|20)\d\d)",
)
_SEEN_THEN_RU = (
    r"(?:выявля\w*|выявлен\w*|обнаружива\w*|обнаружен\w*|определя\w*|определ[её]нн\w*)",
    r"(?:ранее|прежде|впервые|исходно|при диагностике|до лечения|в (?:\w+ )?(?:19|20)\d\d\s*(?:г|года?)?)",
)
_SEEN_THEN = re.compile(
    "|".join(rf"^\s*(?:{when}\s+{seen}|{seen}\s+{when})\s*$" for seen, when in (_SEEN_THEN_EN, _SEEN_THEN_RU))
)


#: a result called weakly positive, with no band named: neither a clone nor its absence
_WEAK = re.compile(
    r"\b(?:weak(?:ly)?|faint(?:ly)?|borderline)[- ]?(?:positive|reactive|pos)\b|слабо[- ]?положительн\w*|әлсіз оң"
)


# the antisera a laboratory tested with are no bands: "anti-IgG, anti-IgA ...", "IgG, IgA, IgM, kappa and
# lambda antisera: no monoclonal band", "панель антисывороток"
_ANTI = re.compile(r"\b(?:anti|анти)[- ]?(?:(?:ig|иг)\s*[gamde]|kappa|lambda|κ|λ|каппа|лямбда)\b")
_PANEL = re.compile(r"\bantisera\b|\bantiserum\b|\btested (?:with|for)\b|\bpanel\b|антисыворот\w*|панел\w*")
_COORDINATORS_ONLY = re.compile(r"(?:\s|,|/|&|\band\b|\bor\b|\bи\b|\bили\b)*")


def _another_chain(pending: list[Band], clause_bands: list[Band]) -> bool:
    """A list of complete bands followed by a light chain alone that none of them has."""
    if not pending or not all(b.heavy_chain and b.light_chain for b in pending):
        return False
    lights = {b.light_chain for b in pending}
    return all(b.heavy_chain is None and b.light_chain not in lights for b in clause_bands)


def _bare(clause: str) -> bool:
    """A clause that is nothing but band names (a list's member: "IgG", " kappa and lambda")."""
    return _COORDINATORS_ONLY.fullmatch(_BAND.sub(" ", clause)) is not None


#: a cell or a line that only names the specimen, the test or the comment: the label of the next one
_LABEL_CELL = re.compile(
    r"\s*(?:(?:(?:random|spot|24[- ]?h(?:ou)?r?|timed)\s+)?(?:serum|urine|plasma|csf)|сыворотк\w*|плазм\w*|"
    r"(?:суточн\w*\s+)?моч[аиеуы]\w*|сарысу\w*|несеп\w*|comments?|notes?|remarks?|result|interpretation|conclusion|"
    r"комментари\w*|примечани\w*|результат|заключение|түсініктеме|нәтиже\w*|қорытынды\w*)"
    r"(?:\s+(?:ife|if|immunofixation|immunofixation electrophoresis|иммунофиксаци\w*|иммунофиксация|"
    r"иммунофиксациясы|иф))?\s*:?\s*"
)
_BAND_FIRST = re.compile(r"\s*(?:and\s+|or\s+|nor\s+|и\s+|или\s+)?(?:" + _BAND.pattern + ")")
_BAND_LAST = re.compile("(?:" + _BAND.pattern + r")\s*$")


#: ... and one that only names an earlier test: "IgG lambda band detected | Previous | negative", "…⏎Prior⇥negative"
#: (probe95 D21: the previous sample's "negative" was today's, against the band)
_THEN_CELL = re.compile(
    r"\s*(?:previous|prior|earlier|last|baseline|предыдущ\w*|прежн\w*|ранее|исходн\w*|алдыңғы|бұрынғы)"
    r"(?:\s+(?:sample|specimen|result|test|study|ife|immunofixation|анализ|исследование|результат|нәтиже\w*))?\s*:?\s*"
)
#: a clause that is only a year written with «г.» ("year"), with its preposition: «в 2021 г», «от 12.03.2021 г»
_YEAR_ABBREVIATED = re.compile(r"\s*(?:(?:в|на|с|от|за|до)\s+)?(?:\d{1,2}\.\d{1,2}\.)?(?:19|20)\d\d\s*гг?\s*")


def _quoted_sentences(pieces: list[tuple[str, bool, bool]], named: list[list[Band]], cues: IfeCues) -> dict[int, bool]:
    """The clauses of sentences that quote another result beside this one's, each with whether its bands count as an
    earlier band: another laboratory's or an earlier report's (True: "Outside lab reported IgG lambda", a band found at
    any time) or another patient's (False: never this patient's). Only where another sentence gives this result;
    the words before the band open the quote ("Our result: IgA lambda. Referring lab: negative" keeps the band)."""
    sentences: list[list[int]] = []
    for index, (_, _, new_sentence) in enumerate(pieces):
        if new_sentence or not sentences:
            sentences.append([])
        sentences[-1].append(index)
    own = [s for s in sentences if any(pieces[i][0].strip() for i in s)]
    if len(own) < 2:
        return _quoted_clauses(pieces, named, own[0], cues) if own else {}
    out: dict[int, bool] = {}
    for members in own:
        words = " ".join(pieces[i][0] for i in members)
        first_band = next((i for i in members if named[i]), None)
        if cues.another_patient.search(words) and first_band is not None:
            out.update(dict.fromkeys(members, False))
            continue
        cue = next((i for i in members if cues.another_lab.search(pieces[i][0])), None)
        if cue is not None and (first_band is None or cue <= first_band):
            if first_band is None or cues.another_lab.search(
                pieces[first_band][0][: _bands_start(pieces[first_band][0])]
            ):
                out.update(dict.fromkeys(members, True))
            elif cue < first_band:
                out.update(dict.fromkeys(members, True))
    return out | _answered_by_our_result(pieces, named, out)


#: this laboratory's own result, named as such at a clause's start: "our result: negative", «наш результат: …»
_OUR_RESULT = re.compile(
    r"\s*(?:our|наш\w*|біздің)\s+(?:own\s+)?(?:result|finding|reading|ife|immunofixation|laborator\w*|lab|test|"
    r"результат\w*|исследовани\w*|лаборатори\w*|нәтиже\w*)\b"
)


def _answered_by_our_result(
    pieces: list[tuple[str, bool, bool]], named: list[list[Band]], quoted: dict[int, bool]
) -> dict[int, bool]:
    """The clauses before "our result: negative" whose bands it answers: a band named before this laboratory's own
    negative result, with no other laboratory named, is another's quoted ("IgG lambda; our result: negative.", "IgG
    lambda. Our result: negative." - the second was the band, the negative unread): a band found at another time
    (True), as an outside laboratory's named one is (criteria.md §3.3 - conflicting evidence, never an absent clone)."""
    for ours, (clause, _, _) in enumerate(pieces):
        if named[ours] or ours in quoted or not _OUR_RESULT.match(clause):
            continue
        if _NEGATIVE.search(clause) and not _OWN_CONFIRMS.search(clause):
            before = [i for i in range(ours) if i not in quoted]
            return dict.fromkeys(before, True) if any(named[i] for i in before) else {}
    return {}


#: this laboratory's own words for its result: "our result", "in our laboratory", "here", "on repeat", «наш
#: результат», «в нашей лаборатории», «при повторном исследовании»
_OWN_LAB = re.compile(
    r"\b(?:our|here|in-house|this laborator\w*|this lab|repeat\w*|retest\w*|reproduc\w*)\b|"
    r"наш\w*|(?:нашей|данной) лаборатори\w*|повторн\w*|воспроизв\w*|біздің"
)
#: ... confirming the quoted band: it is this laboratory's too ("; confirmed in our laboratory")
_OWN_CONFIRMS = re.compile(r"\bconfirm\w*|подтвер\w*|расталды|расталған")


def _quoted_clauses(
    pieces: list[tuple[str, bool, bool]], named: list[list[Band]], members: list[int], cues: IfeCues
) -> dict[int, bool]:
    """In a result of one sentence, the clauses that quote another laboratory's band before a later clause that
    gives this laboratory's own result in its words, not confirming it: "Referring laboratory reported IgG lambda;
    not reproduced in our laboratory.", "Outside lab reported IgG lambda; our result: negative." - an earlier band
    (True), as in two sentences (fix116b: the second read as today's band beside a negative, present). "Referring
    lab reported IgG lambda; confirmed in our laboratory." keeps the band (today's too)."""
    first_band = next((i for i in members if named[i]), None)
    if first_band is None:
        return {}
    cue = next((i for i in members if cues.another_lab.search(pieces[i][0])), None)
    if cue is None:
        return _answered_by_our_result(pieces, named, {})
    if cue > first_band:
        return {}
    if cue == first_band and not cues.another_lab.search(pieces[first_band][0][: _bands_start(pieces[first_band][0])]):
        return {}  # "IgA lambda - referring lab result confirmed": the band is named before the quote
    ours = next((i for i in members if i > first_band and _OWN_LAB.search(pieces[i][0]) and not named[i]), None)
    if ours is None or (_OWN_CONFIRMS.search(pieces[ours][0]) and not _NEGATED_CLAUSE.search(pieces[ours][0])):
        return {}
    return dict.fromkeys((i for i in members if i < ours), True)


# --- probe116: a band named in a sentence that does not assert it of this patient -------------------------------
#: a relative's disease: "Family history: mother had IgA lambda myeloma", "Father: IgA lambda", «У матери …»,
#: «Сестра: IgG лямбда», Kazakh «Анасында IgG лямбда» (probe116 D1: each was the patient's clone)
_RELATIVE = re.compile(
    r"\bfamily (?:history|hx)\b|\bf/?hx\b|\bfirst[- ]degree\b|\b(?:(?:step|half)-?)?(?:mother|father|brother|sister|"
    r"daughter|sibling|parent|aunt|uncle|cousin|grand(?:mother|father|parent|son|daughter)|twin|niece|nephew)s?(?:['’]s?)?\b|"
    r"\b(?:step-?)?sons?(?:['’]s?)?\b|\brelatives?\b(?! (?:to|increase|decrease|excess)\b)|"
    r"семейн\w* анамнез\w*|наследствен\w*|\b(?:мат(?:ь|ери|ерью)|мам[аыеу]|от(?:ец|ца|цу|цом)|брат\w*|сестр\w*|"
    r"сын(?:а|у|ом|овья|е)?|доч(?:ь|ери|ерью)|родственни\w*|бабушк\w*|дедушк\w*|дяд[яиюе]|т[её]т[яиюе])\b|"
    r"\bана(?:сы|сында|сының|сына|м)\b|\bәке(?:сі|сінде|сінің|м)\b|\b(?:ағ|ін|әпк|сіңл)(?:асы|ісі|есі|ісінде|асында|"
    r"есінде)\b|\bқарындас\w*|\bқызы(?:нда|ның)?\b|\bұл(?:ы|ында|ының|ым|дары|дарында)\b|\bтуыс\w*|отбасылық|"
    r"тұқым қуалау\w*"
)
#: words that put what follows as a question, a condition or a test still to come: "Rule out IgA lambda", "If
#: immunofixation shows an IgA lambda clone", "Should a lambda M-protein be found", "Awaiting serum immunofixation
#: for lambda", «исключить», «при выявлении», «если», Kazakh «егер» (probe116 D2) - only before the band: "IgG lambda
#: - awaiting repeat sample" is a band awaiting confirmation (_UNCERTAIN)
_HYPOTHETICAL = re.compile(
    r"\b(?:rule out|r/o|to (?:exclude|rule out)|exclude|if|should|whether|in case|unless|awaiting|await(?:s|ed)?|"
    r"pending|(?:request|order)(?:ed)? for|(?:is|was|been) (?:requested|ordered)|planned|scheduled|hypothetical(?:ly)?|"
    r"assuming|suppose)\b|"
    r"исключить|для исключения|\bесли\b|при (?:выявлении|обнаружении|наличии)|в случае|ожида\w*|запрош\w*|"
    r"назнач\w*|планир\w*|гипотетич\w*|жоққа шығару\w*|\bегер\b|жағдайда|күтілуде|тағайындал\w*|жоспарлан\w*"
)
#: ... but not of a band the text has already: "the / this IgA lambda band", «данн\w* полос\w*»
_KNOWN_BAND = re.compile(
    r"\b(?:the|this|that|its|known|existing|persistent)\s+(?:(?:small|faint|monoclonal|residual)\s+)?"
    r"(?:(?:ig|иг)\s*[gamde]\b[\s-]*)?(?:lambda|kappa|λ|κ)?\s*(?:band|paraprotein|m[- ]?(?:protein|spike))"
)
#: ... or, anywhere in the sentence, its result still awaited: "IgA лямбда: иммунофиксация нәтижесі күтілуде",
#: "IgA lambda - result pending", «IgA лямбда: результат ожидается»
_RESULT_AWAITED = re.compile(
    r"\b(?:results?|reports?)\s+(?:(?:is|are)\s+)?(?:pending|awaited|to follow|not yet (?:available|back))\b|"
    r"\b(?:awaiting|pending)\s+(?:the\s+)?(?:results?|reports?)\b|результат\w*\s+ожида\w*|ожида\w*\s+результат\w*|"
    r"нәтиже\w*\s+күтілуде"
)
#: a differential diagnosis lists what is weighed, not what is found: "Differential diagnosis: … vs IgA lambda MGUS",
#: "DDx: IgA lambda MGUS vs CIDP", «Дифференциальный диагноз: …» (probe116 D4)
_DIFFERENTIAL = re.compile(
    r"\bdifferential(?: diagnos[ie]s| dx)?\b|\bd/?dx\b|\bdd\s*:|дифференциальн\w*|\bдифф?\.?\s*диагноз\w*|\bд/д\b|"
    r"ажыратпалы|дифференциалды"
)
#: another's word for it, not verified here: "reportedly", "(reported by another laboratory, unconfirmed)", "the
#: referral letter quotes", "patient states he was told", «со слов», «в направлении указан», Kazakh «айтуынша»
#: (probe116 D5, D8) - a doubt, never a band
_HEARSAY = re.compile(
    r"\b(?:reportedly|allegedly|supposedly|unconfirmed|unverified|transcribed from|hearsay|outside records|"
    r"not (?:yet |been |independently |otherwise )*verified|(?:letter|report|referral) quotes|quoted (?:in|from|by)|"
    r"per (?:the )?(?:referral|referring|outside|external) (?:letter|note|lab\w*|report|records?)|referral letter|"
    r"private (?:lab\w*|clinic)|(?:patient|he|she|they) (?:states?|reports?|says|said|claims?)|(?:was|were) told|"
    r"according to (?:the )?(?:patient|referral|outside|external|family)|no (?:documentation|records?|report) "
    r"(?:available|provided|seen)|(?:reported|performed|done) (?:by|at|in) (?:an? |the )?(?:other|another|outside|"
    r"external|private|referring) )|"
    r"со слов|по словам|в направлени\w*|по данным (?:направлени|выписк|сторонн|друг|внешн)\w*|не верифицир\w*|"
    r"неподтвержд\w*|частн\w* (?:лаборатор|клиник)\w*|айтуынша|сөзінше|жолдамада(?: көрсетілген)?|тексерілмеген|расталмаған"
)
#: ... unless the sentence confirms it here: "IgA lambda paraprotein reported elsewhere, confirmed in our laboratory"
_CONFIRMED = re.compile(
    r"\b(?:confirmed|verified|reproduced)\b|(?<!не )подтвержд[её]н\w*|(?<!не )подтвердил\w*|расталды"
)
_CONFIRMED_DENIED = re.compile(r"(?:\b(?:not|never|cannot|can't|un)|n't|\bне)(?:\s+\w+){0,2}\s*$")
#: a denial of "confirmed": "not confirmed", "could not be confirmed", "not yet verified"


def _confirmed_here(words: str) -> bool:
    """The sentence says the band was confirmed (not "not confirmed", "unconfirmed")."""
    return any(
        not _CONFIRMED_DENIED.search(words[max(0, m.start() - 30) : m.start()]) for m in _CONFIRMED.finditer(words)
    )


def _sentences(pieces: list[tuple[str, bool, bool]]) -> list[list[int]]:
    """The indexes of the clauses of each sentence."""
    sentences: list[list[int]] = []
    for index, (_, _, new_sentence) in enumerate(pieces):
        if new_sentence or not sentences:
            sentences.append([])
        sentences[-1].append(index)
    return sentences


#: the relative as the band's owner after it: "IgG lambda MGUS in his son", "… in the patient's mother", «… у брата»,
#: Kazakh «… анасында» - not a relative told or met ("discussed with the patient and his son", "phoned to the ward
#: sister", «анасына хабарланды»: probe118 D3)
_REL_WORD = (
    r"(?:(?:step|half)-?)?(?:mother|father|brother|sister|daughter|sibling|parent|aunt|uncle|cousin|"
    r"grand(?:mother|father|parent|son|daughter)|twin|niece|nephew|son|relative)s?"
)
#: (with the qualifiers of a kinship: "in the patient’s older sister", "in his maternal uncle")
_POSSESSOR = (
    r"(?:(?:the|a|an|his|her|their|patient['’]?s?|the patient['’]?s?|one|older|younger|elder|eldest|maternal|paternal|"
    r"half|step|twin)[\s-]+)*"
)
_OWNER_AFTER = re.compile(
    rf"\b(?:in|of|from)\s+{_POSSESSOR}{_REL_WORD}\b|\b{_REL_WORD}'s?\s+(?:sample|specimen|serum|urine|result)\b|"
    r"\bу\s+(?:мат(?:ери)|отца|брата|сестры|сына|дочери|родственни\w*|бабушки|дедушки|дяди|тёти|тети)\b|"
    r"\b(?:анасында|анасының|әкесінде|әкесінің|(?:ағ|ін|әпк|сіңл)(?:асында|ісінде|есінде)|қарындасында|қызында|"
    r"ұлында|ұлының|туысында)\b|"
    # ... or all a dash after it says: "IgG lambda - mother"
    rf"\s[-–—]\s*{_POSSESSOR}{_REL_WORD}(?:'s?)?(?:\s+(?:sample|specimen|serum|screening))?\s*$"
)
#: ... or a clause after the band (a bracket, a comma) that only names one: "(patient's brother, cascade screening)"
#: (probe118 D5), «(брат пациента)», Kazakh «(науқастың ағасы)» - not "(sample hand-delivered by the patient's
#: brother)" nor "; patient's mother informed"
_OWNER_CLAUSE = re.compile(
    rf"\s*(?:[-–—:]\s*)?(?:(?:sample|specimen|serum|result)s?\s+(?:of|from)\s+)?{_POSSESSOR}{_REL_WORD}"
    r"(?:'s?)?(?:\s+(?:sample|specimen|serum|screening|cascade screening|family screening))?\s*|"
    r"\s*(?:[-–—:]\s*)?(?:мать|отец|брат|сестра|сын|дочь|родственни\w*)(?:\s+пациент\w*)?\s*|"
    r"\s*(?:[-–—:]\s*)?(?:науқастың\s+)?(?:анасы|әкесі|ағасы|інісі|әпкесі|сіңлісі|қарындасы|қызы|ұлы|туысы)\s*"
)
#: ... or a label before the band that names one: "Brother | IgG lambda", "Result: Brother | …" (a relative table)
_OWNER_LABEL = re.compile(rf"\s*(?:[^:]{{0,30}}:\s*)?{_POSSESSOR}{_REL_WORD}(?:'s?)?\s*:?\s*")
#: another's word for it as an attribution that may follow the band: "IgA lambda paraprotein according to the
#: patient", "IgA lambda band, reportedly", "IgA lambda (per referral letter)", "(reported by another laboratory,
#: unconfirmed)", «(по данным выписки …)» - not a clause of its own about something else ("; patient reports
#: worsening numbness", "; referral letter mentions neuropathy": probe118 D2)
_ATTRIBUTION = re.compile(
    r"\b(?:reportedly|allegedly|supposedly|purportedly|unconfirmed|unverified|hearsay|outside records|"
    r"not (?:yet |been |independently |otherwise )*verified|quoted (?:in|from|by)|"
    r"(?:as )?per (?:the )?(?:referral|referring|outside|external) (?:letter|note|lab\w*|report|records?)|"
    r"according to (?:the )?(?:patient|referral|outside|external|family)|"
    r"(?:as )?(?:reported|performed|done) (?:by|at|in) (?:an? |the )?(?:other|another|outside|external|private|"
    r"referring) |"
    # "as stated in the referral letter", "(from / see referral letter)"
    r"(?:as )?(?:stated|reported|described|mentioned|documented|quoted|noted|given) (?:in|by|on) (?:an? |the )?"
    r"(?:referral|referring|outside|external|other|another|private|patient)|"
    r"(?:from|see|in) (?:the )?(?:referral|referring|outside|external) (?:letter|note|lab\w*|report|records?))|"
    r"со слов|по словам|по данным (?:направлени|выписк|сторонн|друг|внешн)\w*|не верифицир\w*|неподтвержд\w*|"
    r"айтуынша|сөзінше|тексерілмеген|расталмаған"
)
_ATTRIBUTION_FIRST = re.compile(r"\s*(?:[-–—:]\s*)?(?:" + _ATTRIBUTION.pattern + ")")
#: a test result still awaited that is another test's: "bone marrow result awaited", "Pending FLC results" (probe118 D4)
_OTHER_TEST = re.compile(
    r"\b(?:marrow|trephine|biopsy|flc|free light|light chain|urine|vegf|cytogenetic\w*|fish|pet|ct|mri|x-?ray|"
    r"skeletal|quantification|quantitation|densitometry)\b|костн\w*|мочи|трепан\w*|биопси\w*|свободн\w*|сүйек"
)
#: ... a clause that is only this result awaited: "Result pending", «результат ожидается», «иммунофиксация нәтижесі
#: күтілуде»
_AWAITED_ALONE = re.compile(
    r"\s*(?:[-–—:]\s*)?(?:(?:the |this |its )?(?:immunofixation|ife|иммунофиксаци\w*|иммунофиксация)\s*:?\s*)?"
    r"(?:" + _RESULT_AWAITED.pattern + r")\s*"
)
#: a note with no band that disowns the result: "Transcribed from the referral letter; not verified by our
#: laboratory", «Переписано из направления, в нашей лаборатории не подтверждено» (probe118 D6) - not one that only
#: names a referral ("Clinical details from referral letter: neuropathy", "Referral diagnosis (unconfirmed): CIDP",
#: "Transcribed by J. Smith": probe118 D1)
_DISOWNED = re.compile(
    r"\b(?:transcribed|copied|taken|entered|quoted|reproduced) (?:from|off) (?:the |an? |his |her )?(?:referral|"
    r"referring|outside|external|another|other|previous|prior|old|private|send-?out|[\w-]+ (?:hospital|clinic|lab\w*)|"
    r"(?:[\w-]+ )?letter|discharge|records?)\b|\bas (?:reported|quoted) (?:by|in|from)\b|"
    r"(?:переписан\w*|скопирован\w*|перенес[её]н\w*|взят\w*) (?:из|с) (?:направлени|выписк|друг|сторонн|внешн|"
    r"частн|предыдущ)\w*|(?:жолдамадан|сыртқы|басқа)\w*(?: \w+)? көшірілген"
)
_UNVERIFIED_ALONE = re.compile(
    r"\s*(?:(?:the\s+)?(?:result|value|band|finding|paraprotein)s?\s+)?(?:(?:is|was|has|have|are|were)\s+)?"
    r"(?:not (?:yet |been |independently |otherwise )*(?:verified|confirmed)|unverified|unconfirmed)"
    r"(?:\s+(?:by|in|at)\s+(?:our|this|the|a|local)?\s*(?:lab\w*|laborator\w*|hospital))?(?:\s+(?:here|locally))?\s*|"
    r"\s*(?:(?:в нашей|в данной|нашей|данной) лаборатори\w*\s+|здесь\s+)?не (?:подтвержд|верифицир)\w*"
    r"(?:\s+(?:в нашей|в данной|нашей|данной) лаборатори\w*|\s+здесь)?\s*|"
    r"\s*(?:біздің зертханада\s+)?(?:расталмаған|расталмады|тексерілмеген)\s*"
)


#: a relative named before the band as someone told the result, not its owner: "Discussed with his son: IgA lambda band
#: detected", "Result phoned to the patient and his daughter: …", «Результат сообщен сыну: …», "Mother informed: …"
_TOLD_BEFORE = re.compile(
    r"\b(?:discussed|shared|explained|communicated|conveyed|phoned|telephoned|called|told|informed|notified|given|"
    r"sent|copied|reported|relayed|faxed|e-?mailed|handed)(?:\s+(?:by (?:tele)?phone|by e-?mail|in person|directly|"
    r"today))?(?:\s+(?:with|to))?\s+(?:(?:(?:the\s+)?patient|him|her|them)\s+(?:and|&)\s+)?"
    r"(?:(?:the|a|an|his|her|their|patient'?s?)\s+)*$|"
    r"(?:сообщ|обсужд|разъясн|передан|доведен|озвуч)\w*(?:\s+(?:с|со))?\s+(?:(?:пациент\w*|больн\w*|ему|ей|ним|ней)\s+и\s+"
    r"(?:(?:его|её|ее)\s+)?)?$"
)
_TOLD_AFTER = re.compile(
    r"\s*(?:(?:was|were|has been|have been)\s+)?(?:informed|told|notified|updated|aware|called|phoned)\b|"
    r"\s*(?:информирован\w*|уведомлен\w*|сообщено)|\w*\s*хабарланды"
)


@dataclass(frozen=True)
class IfeCues:
    """The words that say a band named in a sentence is not asserted of this patient today: a relative's
    (``relative``, and ``owner_clause``: a clause after the band that only names one), a condition's or a test to
    come (``hypothetical``), a differential's (``differential``), another's word for it (``hearsay`` before the band,
    ``attribution`` after it), another laboratory's result quoted (``another_lab``) or another patient's
    (``another_patient``); a relative told the result, not its owner (``told_before``: a verb of telling before the
    relative, ``told_after``: after it). The built-in ones are below; a mapping file adds words to them
    (``text.immunofixation_context``), so a site can teach its own language without code. ``relative_after``: a
    site's relative words, searched after the band too (the built-in ones after it are ``_OWNER_AFTER``'s, with their
    prepositions; a site's language has others: "IgA lambda nachgewiesen bei der Schwester")."""

    relative: re.Pattern[str] = _RELATIVE
    owner_clause: re.Pattern[str] = _OWNER_CLAUSE
    relative_after: re.Pattern[str] | None = None
    told_before: re.Pattern[str] = _TOLD_BEFORE
    told_after: re.Pattern[str] = _TOLD_AFTER
    hypothetical: re.Pattern[str] = _HYPOTHETICAL
    differential: re.Pattern[str] = _DIFFERENTIAL
    hearsay: re.Pattern[str] = _HEARSAY
    attribution: re.Pattern[str] = _ATTRIBUTION
    attribution_first: re.Pattern[str] = _ATTRIBUTION_FIRST
    another_lab: re.Pattern[str] = _ANOTHER_LAB
    another_patient: re.Pattern[str] = _ANOTHER_PATIENT

    def with_phrases(
        self,
        *,
        relative: Sequence[str] = (),
        hypothetical: Sequence[str] = (),
        differential: Sequence[str] = (),
        hearsay: Sequence[str] = (),
        another_laboratory: Sequence[str] = (),
        another_patient: Sequence[str] = (),
        telling: Sequence[str] = (),
    ) -> IfeCues:
        """These cues with a mapping file's phrases added (the text engine's phrase syntax: ``word*`` any ending,
        ``a|b`` either, ``[word]`` optional). A relative's word also counts as all a clause after the band says
        ("IgG lambda (Bruder)") and after the band in its clause, as its owner ("IgA lambda nachgewiesen bei der
        Schwester"); a hearsay phrase also after the band, as an attribution; a verb of telling before the relative
        or after it makes the relative one told the result ("Schwester informiert: IgA lambda nachgewiesen",
        "Besprochen mit der Schwester: …" - the patient's band), as the built-in ones do."""
        if not any((relative, hypothetical, differential, hearsay, another_laboratory, another_patient, telling)):
            return self
        hearsay_words = _site_words(hearsay)
        attribution = _or(self.attribution, hearsay_words)
        relative_words = _site_words(relative)
        telling_words = _site_words(telling)
        return IfeCues(
            relative=_or(self.relative, relative_words),
            owner_clause=_or(self.owner_clause, rf"\s*(?:[-–—:]\s*)?(?:{relative_words})\s*" if relative else ""),
            relative_after=_or_site(self.relative_after, relative_words),
            # a few words may stand between the verb and the relative, as the built-in ones' articles and "the
            # patient and" do ("besprochen mit dem Patienten und seiner Schwester"); the site's grammar is not known
            told_before=_or(self.told_before, rf"(?:{telling_words})\s*(?:[^\W\d_]+\s+){{0,5}}$" if telling else ""),
            told_after=_or(self.told_after, rf"\s*(?:[^\W\d_]+\s+){{0,3}}?(?:{telling_words})" if telling else ""),
            hypothetical=_or(self.hypothetical, _site_words(hypothetical)),
            differential=_or(self.differential, _site_words(differential)),
            hearsay=_or(self.hearsay, hearsay_words),
            attribution=attribution,
            attribution_first=re.compile(r"\s*(?:[-–—:]\s*)?(?:" + attribution.pattern + ")"),
            another_lab=_or(self.another_lab, _site_words(another_laboratory)),
            another_patient=_or(self.another_patient, _site_words(another_patient)),
        )


def _site_words(phrases: Sequence[str]) -> str:
    """One regex for a mapping file's phrases, on the parser's lower-cased text (е also matches ё)."""
    return "|".join(phrase_regex(p).replace("е", "[её]") for p in phrases if p.strip())


def _or(built_in: re.Pattern[str], words: str) -> re.Pattern[str]:
    return re.compile(f"(?:{built_in.pattern})|(?:{words})") if words else built_in


def _or_site(before: re.Pattern[str] | None, words: str) -> re.Pattern[str] | None:
    """A site's words added to those another mapping file added before (none built in)."""
    if not words:
        return before
    return _or(before, words) if before is not None else re.compile(words)


#: the parser's own cue words, when no mapping adds to them
BUILT_IN_CUES = IfeCues()


def _disowns(pieces: list[tuple[str, bool, bool]], members: list[int]) -> bool:
    """A sentence with no band that says the result is not this laboratory's own or not verified (a note)."""
    for i in members:
        body = _COMMENT_LABEL.sub("", pieces[i][0], count=1).strip().rstrip(".")
        if _DISOWNED.search(body) or _UNVERIFIED_ALONE.fullmatch(body):
            return True
    return False


def _joined(pieces: list[tuple[str, bool, bool]], first: int, last: int) -> bool:
    """Whether the clauses first..last are one list, each joined to the one before by a comma (or a table cell)."""
    return all(pieces[i][1] for i in range(first + 1, last + 1))


def _short(clause: str) -> bool:
    """A clause of a few words that states nothing of its own: a cue's label ("Со слов пациента", "Reportedly")."""
    return len(clause.split()) <= 6 and not _POSITIVE.search(clause)


def _doubted(
    pieces: list[tuple[str, bool, bool]], named: list[list[Band]], members: list[int], cues: IfeCues, hearsay: bool
) -> bool:
    """Whether a differential's or hearsay cue governs a band of the sentence: before it in its clause ("DDx: IgA
    lambda MGUS", "Reportedly IgA lambda"), in a short clause a comma joins to it before ("Со слов пациента, ранее
    выявлялся IgA лямбда", «Дифференциальный диагноз: ХВДП, …, МГНЗ с секрецией IgA лямбда»), or - hearsay only - as an
    attribution after it, in its clause or opening the clause after it ("IgA lambda paraprotein according to the
    patient", "IgA lambda (per referral letter)"). A cue in a clause of its own after the band is about something
    else: "IgG lambda paraprotein; differential diagnosis includes POEMS" (probe118 D2)."""
    cue = cues.hearsay if hearsay else cues.differential
    # the clauses with a cue and no band, searched once (each band looked back over every clause: quadratic in a
    # long list of bands - probe129 D2)
    cued = [i for i in members if not named[i] and cue.search(pieces[i][0])]
    for b in (i for i in members if named[i]):
        clause = pieces[b][0]
        start = _bands_start(clause)
        if cue.search(clause[:start]):
            return True
        if hearsay and cues.attribution.search(clause[start:]):
            return True
        named_end = _BAND.search(clause)
        end = named_end.end() if named_end else len(clause)
        after_band = cue.search(clause, end)
        if not hearsay and after_band and not re.search(r"[-–—:]", clause[end : after_band.start()]):
            return True  # "IgA lambda MGUS is in the differential", "IgA lambda MGUS vs CIDP: differential"
        earlier = [i for i in cued if i < b]
        if any(_joined(pieces, i, b) and _short(pieces[i][0]) for i in earlier):
            return True
        after = b + 1
        if hearsay and after in members and not named[after] and cues.attribution_first.match(pieces[after][0]):
            return True
    return False


#: what may stand between a relative told the result and the result: the label's colon, a few words before it
#: ("… his son: IgA lambda", "… сыну пациента: выявлен IgA лямбда") - not "… his daughter that her IgA lambda band …"
_TOLD_LABEL_END = re.compile(r"[^:;.]{0,25}:\s*(?:(?:выявлен\w*|обнаружен\w*|анықталды)\s*)?")
#: ... and after the band, a sample that a pronoun gives to someone: "… detected in her sample" (probe122 D3)
_PRONOUN_SAMPLE = re.compile(
    r"\b(?:in|from|of|on)\s+(?:her|his|their)\s+(?:own\s+)?(?:sample|specimen|serum|blood|urine)|"
    r"\b(?:её|ее|его|их)\s+(?:образц|пробе|проб|сыворотк|кров)\w*"
)


#: the patient named as an owner of the band before a relative is: "IgA lambda band detected in the patient and in his
#: brother", «… у пациента и у его брата» (probe122 D10: the brother's only, a true clone lost)
_THE_PATIENT_TOO = re.compile(
    r"\b(?:in|of|from)\s+(?:the\s+)?patient\b(?!['’]s)|\bу\s+(?:пациент|больн)\w*|\bнауқаста\b"
)


def _relative_owner_before(clause: str, start: int, cues: IfeCues) -> bool:
    """Whether a relative named before the band in its clause owns it - not someone told the result, named in the
    label before the result's colon ("Discussed with his son: IgA lambda band detected" is the patient's band,
    probe119; "Mother: IgA lambda" is the mother's; "Explained to him and his daughter that her IgA lambda band …" and
    "…: IgA lambda band detected in her sample" are the daughter's, probe122 D3)."""
    before = clause[:start]
    told_ok = not _PRONOUN_SAMPLE.search(clause, start)
    for m in cues.relative.finditer(before):
        # "… informed" / «… хабарланды» after the relative: the label's end starts after it
        after = cues.told_after.match(before, m.end())
        told = cues.told_before.search(before[: m.start()]) or after
        if not (told and told_ok and _TOLD_LABEL_END.fullmatch(before, after.end() if after else m.end())):
            return True
    return False


#: a word for the patient in many languages ("Patient", "Patientin", "paciente", «пациент»): with a site's relative
#: word after it, the patient named as the band's owner too ("bei dem Patienten und seiner Schwester")
_PATIENT_WORD = re.compile(r"\b(?:patient|pacient|pacjent|pazient|пациент|больн|науқас)\w*")


def _site_relative_after(clause: str, start: int, cues: IfeCues) -> bool:
    """Whether a site's relative word after the band in its clause owns it ("IgA lambda nachgewiesen bei der
    Schwester"): the built-in words after the band need their prepositions (``_OWNER_AFTER``), a site's language has
    its own, so any of its relative words there counts - but not one told the result, a verb of telling just before
    or after it ("… und der Schwester mitgeteilt", "… besprochen mit der Schwester"), nor one after the patient named
    as the owner too ("… beim Patienten und bei der Schwester"; not "des Patienten Schwester", the patient's sister)."""
    if cues.relative_after is None:
        return False
    for m in cues.relative_after.finditer(clause, start):
        # told: the verb a few words before it, after the band ("… besprochen mit der Schwester"), or right after it
        # ("… der Schwester mitgeteilt") - not a verb later in the clause ("IgA lambda bei der Schwester nachgewiesen
        # und ihr mitgeteilt" is the sister's band)
        after = cues.told_after.match(clause, m.end())
        if cues.told_before.search(clause, start, m.start()) or (
            after and len(clause[m.end() : after.end()].split()) < 3
        ):
            continue
        # (a patient word right before the relative is its possessor: "des Patienten Schwester")
        patient = (p for p in _PATIENT_WORD.finditer(clause, start, m.start()) if clause[p.end() : m.start()].strip())
        if not _THE_PATIENT_TOO.search(clause, start, m.start()) and next(patient, None) is None:
            return True
    return False


def _owned(
    pieces: list[tuple[str, bool, bool]], named: list[list[Band]], members: list[int], b: int, cues: IfeCues
) -> bool:
    """Whether a relative is the band's owner: named before it in its clause ("Mother: IgA lambda", "The patient's
    daughter has …", «У матери …», «Анасында …»), after it as its owner ("… in his son", «… анасында»), as the label
    of a cell or a line before it ("Brother | IgG lambda"), or as all a bracket or a clause after it says ("IgG lambda
    paraprotein (patient's brother, cascade screening)": probe118 D5)."""
    clause = pieces[b][0]
    start = _bands_start(clause)
    if _relative_owner_before(clause, start, cues):
        return True
    owner = _OWNER_AFTER.search(clause, start)
    if owner is not None and not _THE_PATIENT_TOO.search(clause, start, owner.start()):
        return True
    if _site_relative_after(clause, start, cues):
        return True
    before = b - 1
    if before in members and pieces[b][1] and _OWNER_LABEL.fullmatch(pieces[before][0]):
        return True
    after = b + 1
    return after in members and not named[after] and cues.owner_clause.fullmatch(pieces[after][0]) is not None


def _conditional(clause: str, cues: IfeCues) -> bool:
    """Whether a condition, a rule-out or a test to come governs the band of its clause: the cue before it ("Rule out
    IgA lambda", "If immunofixation shows an IgA lambda clone", "Pending: IgG lambda immunofixation") - not across a
    label's colon to a band stated found ("In case of queries contact the laboratory: IgA lambda band detected",
    "Immunofixation requested for neuropathy: IgG lambda band detected": probe118 D4), nor a band the text already has
    ("Request FLC to quantify the IgA lambda band")."""
    start = _bands_start(clause)
    cue = cues.hypothetical.search(clause, 0, start)
    if cue is None or _KNOWN_BAND.search(clause):
        return False
    colon = clause.rfind(":", cue.end(), start)
    return colon < 0 or not _POSITIVE.search(clause, colon)


def _awaited(pieces: list[tuple[str, bool, bool]], named: list[list[Band]], b: int, last_alone: int) -> bool:
    """Whether this result is still awaited: said in the band's clause, of no other test and with no band stated
    found ("IgA lambda - result pending", «IgA лямбда: результат ожидается»), or in a later clause of the sentence that
    says nothing else ("IgA lambda? Result pending.") - not "IgA lambda band; bone marrow result awaited" (probe118
    D4)."""
    clause = pieces[b][0]
    m = _RESULT_AWAITED.search(clause)
    if m is not None and not _POSITIVE.search(clause) and not _OTHER_TEST.search(clause, _bands_start(clause)):
        return True
    return last_alone > b


def _last_awaited_alone(pieces: list[tuple[str, bool, bool]], named: list[list[Band]], members: list[int]) -> int:
    """The last clause of the sentence that only says a result is awaited ("Result pending."), or -1 - searched once
    for all its bands (`_awaited`; probe129 D2: once per band was quadratic)."""
    return max(
        (
            i
            for i in members
            if not named[i] and _AWAITED_ALONE.fullmatch(_COMMENT_LABEL.sub("", pieces[i][0], count=1))
        ),
        default=-1,
    )


def _sentence_kind(
    pieces: list[tuple[str, bool, bool]], members: list[int], named: list[list[Band]], cues: IfeCues
) -> tuple[str, list[int]] | None:
    """What the sentence does with the bands it names, if it does not assert them of this patient: ("other", the
    clauses) - a relative's, a condition's, a test to come (no band) -, ("doubt", …) - a differential, hearsay (a
    possible band) - or ("disowns", …) - a sentence with no band that disowns the result ("Note: transcribed from an
    outside laboratory report; not verified by our laboratory": probe116 D8). Each cue must govern the band - before
    it in its clause, or as its owner or attribution -, not merely stand in its sentence (probe118 D1-D5)."""
    words = " ".join(pieces[i][0] for i in members)
    banded = [i for i in members if named[i]]
    if not banded:
        return ("disowns", members) if _disowns(pieces, members) and not _confirmed_here(words) else None
    if _doubted(pieces, named, members, cues, hearsay=False):
        return "doubt", members
    if _doubted(pieces, named, members, cues, hearsay=True) and not _confirmed_here(words):
        return "doubt", members
    kind = "doubt" if _UNCERTAIN.search(words) else "other"
    last_alone = _last_awaited_alone(pieces, named, members)
    if any(_awaited(pieces, named, b, last_alone) for b in banded):
        return kind, members
    owned = [b for b in banded if _owned(pieces, named, members, b, cues)]
    if owned:
        return "other", [i for i in members if i in owned or (i not in banded and cues.relative.search(pieces[i][0]))]
    conditional = [b for b in banded if _conditional(pieces[b][0], cues)]
    if conditional:
        return kind, conditional
    return None


def _not_asserted(pieces: list[tuple[str, bool, bool]], named: list[list[Band]], cues: IfeCues) -> dict[int, str]:
    """The clauses whose bands are not asserted of this patient (probe116), each with what they are: "other" (no
    band: a relative's, a condition's, a test to come), "doubt" (a possible band: a differential, hearsay) or
    "disowns" (a sentence that disowns the result: against a band stated beside it)."""
    out: dict[int, str] = {}
    for members in _sentences(pieces):
        found = _sentence_kind(pieces, members, named, cues)
        if found is not None:
            out.update(dict.fromkeys(found[1], found[0]))
    return out


def _bands_start(clause: str) -> int:
    """Where the first band of a clause is named (its length when none is)."""
    m = _BAND.search(clause)
    return m.start() if m else len(clause)


#: a bracket that only names a band's noun: "(monoclonal band)", "(paraprotein)", "(M-protein)", «(моноклональная
#: полоса)», Kazakh «(моноклоналды жолақ)»
_APPOSITION = re.compile(
    r"\s*(?:(?:monoclonal|моноклональн\w*|моноклонды|моноклоналды)\s+)?(?:band|paraprotein|m[- ]?(?:protein|spike|"
    r"component|band)|spike|component|protein|полос\w*|парапротеин\w*|м[- ]?(?:протеин|градиент|компонент)\w*|белок|"
    r"жолағы|жолақ|ақуыз)\s*|\s*(?:monoclonal|моноклональн\w*|моноклонды|моноклоналды)\s*"
)


def _clauses(t: str) -> list[tuple[str, bool, bool]]:
    """The clauses of a result (split by _CLAUSE), each with whether a comma opened it and whether it
    begins a sentence (the text's start, or after a full stop or a line break); a bracket after
    a clause that names no band belongs to that clause: "Polyclonal hypergammaglobulinaemia (IgG kappa
    and IgG lambda)" names the polyclonal immunoglobulins, "Monoclonal protein detected (IgG kappa)" its
    band; "IgA lambda (12.1%)" stays two."""
    pieces: list[tuple[str, str]] = []  # (clause, the delimiter that ends it)
    start = 0
    for m in _CLAUSE.finditer(t):
        pieces.append((t[start : m.start()], m.group()))
        start = m.end()
    pieces.append((t[start:], ""))
    clauses: list[tuple[str, bool, bool]] = []
    opened_by = ""
    i = 0
    while i < len(pieces):
        clause, delimiter = pieces[i]
        if delimiter == "\n" and not clause.strip() and clauses:
            opened_by = delimiter  # the line break after a full stop: the same sentence end
            i += 1
            continue
        while (
            delimiter == "."
            and clause.endswith("г")
            and i + 1 < len(pieces)
            and _YEAR_ABBREVIATED.fullmatch(_COMMENT_LABEL.sub("", clause))
        ):
            # the "г." of a year («год») ends no sentence: «Комментарий: в 2021 г. не подтверждалась» is one clause
            # (probe95 D20: «не подтверждалась» was a withdrawal of its own)
            after, delimiter = pieces[i + 1]
            clause = f"{clause} {after}"
            i += 1
        if (
            delimiter in ("|", "\n")
            and i + 1 < len(pieces)
            and (_LABEL_CELL.fullmatch(clause) or _THEN_CELL.fullmatch(clause))
        ):
            # a cell or a line that only names the specimen or the comment is the label of the next one:
            # "Serum IFE | IgG lambda | Urine IFE | negative" is "Serum IFE: IgG lambda | Urine IFE: negative"
            # (probe92 D20: the urine's "negative" was the whole result's, against the serum band)
            answer, delimiter = pieces[i + 1]
            clause = f"{clause.strip().rstrip(':').strip()}: {answer.strip()}"
            i += 1
        if (
            delimiter == "("
            and i + 2 < len(pieces)
            and pieces[i + 1][1] == ")"
            and _bands(clause)
            and _APPOSITION.fullmatch(pieces[i + 1][0])
            and not _bands(pieces[i + 2][0])
        ):
            # a bracket that only names the band again is no clause of its own: what follows is said of the band
            # - "IgA lambda (monoclonal band) not detected", «IgA лямбда (моноклоналды жолақ) табылмады» (probe119
            # D8: the bracket stated the band, the denial after it was a withdrawal - a clone-free patient `met`)
            follows, delimiter = pieces[i + 2]
            clause = f"{clause.rstrip()} {pieces[i + 1][0].strip()} {follows.strip()}".rstrip()
            i += 2
        elif delimiter == "(" and i + 1 < len(pieces) and not _bands(clause):
            inner, delimiter = pieces[i + 1]
            clause = f"{clause} {inner}"
            i += 1
            if delimiter == ")" and i + 1 < len(pieces) and pieces[i + 1][0].strip() and not _bands(clause):
                # ... and so do the words after it: "previous sample (2023) was negative", "Prior IFE (2023): no
                # monoclonal band" (probe92 D2: "was negative" was a denial of its own, against today's band)
                after, delimiter = pieces[i + 1]
                if not _bands(after):
                    clause = f"{clause} {after}"
                    i += 1
                else:
                    delimiter = ")"
        # a table's cells go on like a comma's ("IgG lambda | kappa negative" is "IgG lambda, kappa negative":
        # probe90 D9 read the kappa's denial as the whole row's)
        clauses.append((clause, opened_by in (",", "|"), opened_by in _SENTENCE_END))
        opened_by = delimiter
        i += 1
    return clauses


_CHAIN = r"(?:free\s+)?(?:lambda|kappa|λ|κ|лямбда|каппа)"
_VALUE_AFTER = re.compile(r"\s*(?:light chains?\s*)?(?:[:=]\s*)?(?:[<>≤≥]\s*)?\d")
_RATIO_AFTER = re.compile(r"\s*(?:[/:]\s*" + _CHAIN + r"|(?:light chains?\s*)?(?:ratio|соотношени))")
_RATIO_BEFORE = re.compile(_CHAIN + r"\s*[/:]\s*(?:free\s+)?$")


#: a value after a heavy chain named alone, with the words labs put between: "IgG 14.2 g/L", "IgG: 14", "IgG (total)
#: 14 g/L", «IgG общий 14 г/л», Kazakh «IgG жалпы 14 г/л» (UNVERIFIED), "IgM level 0.4" - or a year, the date of a
#: level: "IgG 2019: 12 g/L", "IgA (2019) normal", "IgG in 2019", «IgA в 2019 г.» (fix140b B3: an IgG band). A number
#: after a heavy chain is no band unless the clause calls it one (_LEVEL_OF_A_CLONE)
_LEVEL_AFTER = re.compile(
    r"\s*(?:\(?\s*(?:total|level|concentration|общ\w*|уровень|концентраци\w*|жалпы|деңгей\w*)\s*\)?\s*)?[:=]?\s*"
    r"(?:(?:in|on|from|since|of|в|во|на|от|с|за)\s+(?=(?:19|20)\d\d\b))?(?:[<>≤≥]\s*)?\d"
)
#: the words that make a heavy chain with a value a clone's: its noun or "monoclonal" ("IgG M-protein 12 g/L",
#: "Monoclonal IgG 12 g/L", «М-градиент IgG 12 г/л», "IgG paraprotein 5 g/L", a Bence Jones protein)
_LEVEL_OF_A_CLONE = re.compile(_PAIR_CLONE_WORD.pattern + r"|\bbence\b|\bbj\b|бенс\w*")


def _measured(t: str, m: re.Match[str], clone_named: Callable[[], bool]) -> bool:
    """A free light chain with a value or in a ratio is a measurement, not a band: "kappa 18 mg/L",
    "kappa/lambda ratio 0.75", "kappa:lambda 2:1". So is a heavy chain named alone with a value where nothing in
    its clause names a clone: a quantitative immunoglobulin level ("Total IgG 14 g/L", "IgM 0.4 g/L (0.4-2.3)",
    «IgG общий 14 г/л»), which says nothing of a clone (fix139b: read as an IgG band, the clone present). A heavy
    chain with its light chain and a value is a band's size ("IgA lambda 3.1 g/L"), as is one its clause calls
    a clone ("IgG M-protein 12 g/L"); ``clone_named`` says whether it does (asked once per clause, not per chain)."""
    if m.group(4) is None:
        heavy_alone = bool(m.group(1) or m.group(2)) and m.group(3) is None
        return heavy_alone and bool(_LEVEL_AFTER.match(t, m.end())) and not clone_named()
    return bool(
        _VALUE_AFTER.match(t, m.end())
        or _RATIO_AFTER.match(t, m.end())
        # "kappa/" just before it: only those words are read, not all before it again for every chain named
        or _RATIO_BEFORE.search(t[max(0, m.start() - 40) : m.start()])
    )


#: a clause that only states a clone, with no band, date, person or place: "Monoclonal protein detected", "Result:
#: M-protein present", «Выявлен моноклональный белок», Kazakh «Моноклоналды ақуыз анықталды»
_CLONE_ALONE = re.compile(
    r"\s*(?:(?:result|interpretation|conclusion|результат|заключение|нәтиже)\s*:\s*)?"
    r"(?:(?:выявлен\w*|обнаружен\w*)\s+)?(?:an?\s+|the\s+)?"
    rf"(?:{_UNTYPED_CLONE.pattern})"
    r"(?:\s+(?:is|was|has been))?(?:\s+(?:detected|present|identified|seen|noted|found|выявлен\w*|обнаружен\w*|анықталды))?\s*"
)
#: a clause that is only an immunoglobulin level, or the rest of one cut at its decimal comma or reference range: "total
#: igg 14 g/l", "igg общий 14", "2 г/л", "0.4-2.3"
_LEVEL_ALONE = re.compile(
    r"\s*(?:(?:total|общий|уровень|жалпы)\s+)?(?:(?:ig|иг)\s*[gamde]\b\s*"
    r"(?:(?:total|level|concentration|общ\w*|уровень|концентраци\w*|жалпы|деңгей\w*)\s*)?[:=]?\s*)?"
    r"[<>≤≥]?\s*\d[\d.]*(?:\s*[-–]\s*\d[\d.]*)?\s*(?:(?:m?g|мг|г)\s*/\s*(?:d?l|дл|л)\b)?"
    r"(?:\s*[<>≤≥]?\s*\d[\d.]*(?:\s*[-–]\s*\d[\d.]*)?)?\s*(?:h|l|high|low)?\s*"  # its range, in a bracket joined to it
)


def _clone_named_in(t: str) -> Callable[[], bool]:
    """Whether ``t`` names a clone (_LEVEL_OF_A_CLONE), searched once when first asked."""
    found: list[bool] = []

    def named() -> bool:
        if not found:
            found.append(_LEVEL_OF_A_CLONE.search(t) is not None)
        return found[0]

    return named


_SHORT_CLAUSE = 120  # characters: a clause of a clone stated alone or of one level is far shorter


def _levels_named(pieces: list[tuple[str, bool, bool]]) -> bool:
    """Whether a clause names an immunoglobulin level (a heavy chain alone with a value: ``_measured``)."""
    for clause, _, _ in pieces:
        named = _clone_named_in(clause)
        if any(m.group(4) is None and _measured(clause, m, named) for m in _BAND.finditer(clause)):
            return True
    return False


def _clone_beside_levels(pieces: list[tuple[str, bool, bool]]) -> str:
    """The clause of a text that is one clone stated alone (_CLONE_ALONE, stated and not denied) beside immunoglobulin
    levels and nothing else ("Monoclonal protein detected. IgG 14 g/L"); "" for any other text - a date, a relative,
    a place or a doubt beside the clone is left to the reader that would read the clone alone."""
    said = [clause for clause, _, _ in pieces if clause.strip()]
    if any(len(c) > _SHORT_CLAUSE for c in said):
        return ""  # each is a few words: a long run of digits is tried no further (_LEVEL_ALONE backtracks on it)
    clones = [i for i, c in enumerate(said) if _CLONE_ALONE.fullmatch(c) and _untyped_clone_stated(c)]
    if len(clones) != 1 or len(said) < 2:
        return ""
    others = said[: clones[0]] + said[clones[0] + 1 :]
    if not all(_LEVEL_ALONE.fullmatch(c) for c in others) or not _levels_named(pieces):
        return ""
    return said[clones[0]].strip()


def _bands(t: str) -> list[Band]:
    bands: list[Band] = []
    clone_named = _clone_named_in(t)
    for m in _BAND.finditer(t):
        if _measured(t, m, clone_named):
            continue
        heavy_letter = m.group(1) or m.group(2)
        light_raw = m.group(3) or m.group(4)
        heavy = f"Ig{_HEAVY_RU[heavy_letter]}" if heavy_letter else None
        light = _LIGHT.get(light_raw) if light_raw else None
        if heavy is None and light is None:
            continue
        band = Band(heavy, light, free=heavy is None and _said_free(t, m))
        if band not in bands:
            bands.append(band)
        elif band.free:  # "lambda band (free lambda light chains)": the words that say it free
            bands[bands.index(band)] = band
    return bands


#: the words that call a light chain named alone free, before it ("free", "Bence Jones", Kazakh «бос» - UNVERIFIED)
#: or after it ("light chains", "free light chains", «свободные лёгкие цепи», Kazakh «жеңіл тізбек» - UNVERIFIED): a
#: light chain with no heavy chain is what those words name, a free light chain
_FREE_BEFORE = re.compile(
    r"(?:\bfree|свободн\w*|(?<!\w)бос|\bbence[- ]?jones|\bbj|бенс[- ]?джонс\w*)"
    r"(?:\s+(?:protein\w*|белок|белка))?(?:\s+(?:light\s+chains?|легк\w*\s+цеп\w*))?\s*[-:,]?\s*$"
)
_FREE_AFTER = re.compile(
    r"[^\S\n]*-?[^\S\n]*(?:type[^\S\n]+|тип\w*[^\S\n]+)?"
    r"(?:(?:and|or|и|или|және|/)[^\S\n]*(?:lambda|kappa|λ|κ|лямбда|каппа)[^\S\n]*)?"
    r"(?:free\b|свободн|(?<!\w)бос(?!\w)|light[^\S\n]+chains?\b|легк\w*[^\S\n]+цеп|жеңіл[^\S\n]+тізбе|\(?bence|бенс)"
)


def _said_free(t: str, m: re.Match[str]) -> bool:
    """Whether the words around a light chain named alone (``m``, a match of _BAND) call it free."""
    return bool(
        _FREE_CHAIN.match(m.group())
        or _FREE_BEFORE.search(t[max(0, m.start() - 40) : m.start()])
        or _FREE_AFTER.match(t, m.end())
    )


def _merge_lone_chains(bands: list[Band]) -> list[Band]:
    heavies = [b for b in bands if b.heavy_chain and not b.light_chain]
    lights = [b for b in bands if b.light_chain and not b.heavy_chain]
    complete = [b for b in bands if b.heavy_chain and b.light_chain]
    if len(heavies) == 1 and len(lights) == 1 and not complete:
        return [Band(heavies[0].heavy_chain, lights[0].light_chain)]
    return bands


def names_an_isotype(text: str) -> bool:
    """Whether ``text`` names a heavy or light chain at all ("IgA lambda by immunofixation", «IgA лямбда», "free
    kappa"): what it says of it is ``parse_ife``'s to read."""
    return _BAND.search(_ANTI.sub(" ", _normalise(text))) is not None


def named_clone(text: str) -> Band | None:
    """The one clone a sentence names, for a clone read from clinical text ("Kappa-restricted plasma
    cells", "Immunofixation: IgG kappa paraprotein", "каппа-рестрикция"): the light chain when exactly
    one is named (values and ratios are no names), with the heavy chain when exactly one is; else None."""
    bands = _merge_lone_chains(_bands(_ANTI.sub(" ", _normalise(text))))
    lights = {b.light_chain for b in bands if b.light_chain}
    if len(lights) != 1:
        return None
    heavies = {b.heavy_chain for b in bands if b.heavy_chain}
    return Band(heavies.pop() if len(heavies) == 1 else None, lights.pop())
