# SPDX-License-Identifier: Apache-2.0
"""Report layouts that state a finding without a sentence, rewritten before ConText reads them.

Every rewrite but one keeps the text's length, so offsets (and the quotes cut from the original) still
hold. The exception: a table whose header row names the finding is read row by row ("Skull: Sclerotic
lesion: No.", :func:`headed_tables`), a row's quote the clause it became. Three are shorter and work on other
text: a candidate sentence's line breaks that part no clause (:func:`wrapped_line_breaks`), its runs of blanks
inside a line (:func:`inner_blanks`) and the text's second reading with the words a hyphen cuts at a line end
joined (:func:`line_end_hyphens`).

- Checkbox forms: "Ascites: [ ] yes [x] no", "Отеки ног: [ ] да [x] нет", "☐ present ☒ absent" -> the
  ticked answer alone ("Ascites: no"); none or several ticked -> "?" (not answered: possible, never
  present). Read as written, every form asserted its finding, whatever was ticked (probe61 D3). A box of
  its own ("[x] Ascites", "Ascites: [ ]", "Ascites [ ] Pleural effusion [x]"): ticked, the item stands;
  empty, "?" (probe65 D4/D5).
- Question and answer: "Pleural effusion? No." -> "Pleural effusion: No." - the question mark made both
  answers uncertain (probe61 D14).
- A contrast word set off by commas inside one clause - "Sclerotic lesions, however, were not
  identified", "were not, however, identified" - is blanked: ConText took it for a clause end and cut
  the denial off its finding (probe61 D1/D2). Only where a predicate follows it (or a "not" precedes
  it); "No lymphadenopathy, however, splenomegaly …" keeps its clause boundary. So is a reference to an
  earlier description in commas ("X, noted previously, has resolved"): the clause's predicate says what
  holds now.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

#: a checkbox: "[ ]", "[x]", "[ X ]", "☐", "☒" (the mark is the tick)
_BOX = re.compile(r"\[[ \t]{0,3}([xX✓✔vV+*]?)[ \t]{0,3}\]|([☐☑☒✅])")
#: what ends a form's answers: a line, a sentence or a clause end
_FORM_END = re.compile(r"[\n.;]")
#: the most characters between two boxes of one form (an answer is a word or three)
_MAX_ANSWER = 40
_ANSWERED = re.compile(r"\?(?=[ \t]{0,3}(?:no|yes|нет|да|жоқ|иә|ия)\b)", re.IGNORECASE)
#: the same question answered at the start of the next line: "Sclerotic lesion in L2?⏎Yes." (probe92 D5: read as
#: asked, possible) - the answer a word alone or before a full stop, a comma, a dash, a colon or a bracket
#: ("Splenomegaly?⏎Yes (16 cm).", probe93 D14)
_ANSWERED_BELOW = re.compile(
    r"\?([ \t]{0,3}\r?\n[ \t]{0,3})(?=(?:no|yes|нет|да|жоқ|иә|ия)[ \t]{0,3}(?:[.;!,:\-–—(\[]|\r?$))",
    re.IGNORECASE | re.MULTILINE,
)
#: "Question: sclerotic lesions? Answer: none identified." - a question and its labelled answer on one line,
#: or the answer on the next line ("Q: sclerotic lesions?⏎A: no.", probe87 D7)
_QUESTION_ANSWER = re.compile(
    r"^([ \t]{0,20}(?:(?:clinical[ \t]+)?question|q|вопрос|сұрақ)[ \t]{0,3}:)?([^?\n]{1,120})\?"
    r"([ \t]{0,3}\r?\n?[ \t]{0,3}(?:answer|a|ответ|жауап)[ \t]{0,3}:)",
    re.IGNORECASE | re.MULTILINE,
)


def _as_answer(m: re.Match[str]) -> str:
    """The question as a label and its answer after it, at the same length (quotes stay in place)."""
    return " " * len(m.group(1) or "") + m.group(2) + ":" + " " * len(m.group(3))


_CONTRAST = r"(?:however|though|однако|впрочем|тем\s+не\s+менее|алайда|бірақ)"
#: the words that continue the clause after the contrast: an auxiliary, a denial, a participle of finding
_PREDICATE = (
    r"(?:were|was|is|are|has|have|had|could|can|cannot|did|does|do|remains?|appears?|seems?|not|identified|seen|"
    r"detected|demonstrated|visuali[sz]ed|found|excluded|не|нет|отсутству\w*|выявл\w*|определя\w*|визуализ\w*|"
    r"обнаруж\w*|был\w*|явля\w*|имеет\w*|исключ\w*|анықтал\w*|жоқ|байқал\w*|көрін\w*)\b"
)
_ASIDE = re.compile(
    rf"(?<=\w),\s*{_CONTRAST}\s*,(?=\s*{_PREDICATE})|(?:(?<=\bnot)|(?<=\bno)|(?<=\bне))\s*,\s*{_CONTRAST}\s*,",
    re.IGNORECASE,
)


#: a form's field on a line of its own: a label and a colon, nothing after it (bounded: linear per line)
_LABEL_LINE = re.compile(r"[ \t]{0,20}[^\n:]{1,80}:[ \t\u00a0]{0,20}\r?")
#: a label with no colon on a line of its own, a few words (bounded: linear per line) - a field only when
#: the next line with words is a bare answer ("Sclerotic lesions⏎No.", probe70 D9)
_BARE_LABEL = re.compile(r"[ \t]{0,20}[^\W\d_][^\n:.;!?\[\]]{0,60}?[ \t\u00a0]{0,20}\r?")
_MAX_LABEL_WORDS = 6
#: a line that starts with such a label (the next field of a form)
_LABEL_START = re.compile(r"[ \t]{0,20}[^\n:.;!?]{1,80}:")
#: a bare answer on a line of its own
_ANSWER_LINE = re.compile(
    r"[ \t\u00a0]{0,20}(?:no|yes|none|nil|absent|present|negative|positive|not seen|not present|нет|да|"
    r"отсутству\w{0,6}|не выявлен\w{0,2}|жоқ|иә|ия|possible|probable|equivocal|questionable|uncertain|"
    r"indeterminate|suspected|под вопросом|сомнительн\w{0,3}|возможн\w{0,3}|мүмкін|күмәнді|\?)"
    r"[ \t\u00a0]{0,20}[.;!]?[ \t\u00a0]{0,20}\r?",
    re.IGNORECASE,
)

#: a denial alone on its line, heading the list under it without a colon ("Not seen⏎Ascites", «Не
#: выявлены⏎…», «Отсутствуют⏎…», «Анықталмады⏎…», "Absent⏎…"; probe85 D4/D7, Kazakh k05)
DENIAL_HEADING = re.compile(
    r"[ \t]*(?:(?:not|не)\s+(?:seen|identified|detected|demonstrated|present|found|visuali[sz]ed|выявлен\w*|"
    r"обнаружен\w*|определя\w*|визуализир\w*)|absent|none\s+seen|отсутству\w*|анықталмады|табылмады|"
    r"байқалмады)[ \t:]*\r?",
    re.IGNORECASE,
)


def answered_lines(text: str, names: Callable[[str], bool] | None = None) -> str:
    """Form fields written over lines, at the same length (probe67 D2, D3): an answer on the next line
    joins its label ("Sclerotic lesions:\nNo." read as present: the line end cut the denial off); a label
    with no answer - the line after it empty, the end of the text or the next field - is not answered: its
    colon becomes "?" (a blank template's "Ascites:" read as ascites present)."""
    if ":" not in text and "\n" not in text:
        return text
    out = list(text)
    lines = text.split("\n")
    at, answered = 0, -1
    for i, line in enumerate(lines):
        start, at = at, at + len(line) + 1
        if i <= answered:  # the answer of a label without a colon, moved up to it
            continue
        if not _LABEL_LINE.fullmatch(line):
            answered = _answer_bare_label(lines, i, start, out, names) or answered
            continue
        # the answer on the next line, or after a blank line or two: moved next to the colon, one space
        # between ("Label:  No." with two read as present: probe70 D1), the rest padded with spaces
        answer = next(
            (k for k in range(i + 1, min(i + 4, len(lines))) if lines[k].strip(" \t\r\u00a0")),
            None,
        )
        if answer is not None and _ANSWER_LINE.fullmatch(lines[answer]):
            colon = start + line.rindex(":")
            end = (
                start + len(line) + 1 + sum(len(x) + 1 for x in lines[i + 1 : answer]) + len(lines[answer].rstrip("\r"))
            )
            said = " " + lines[answer].strip(" \t\r\u00a0")
            out[colon + 1 : end] = list(said.ljust(end - colon - 1))
            continue
        # the next line with words: none (the text ends), or the next field; a lead-in ("No evidence of:")
        # before its list or a heading before its text keeps its colon
        after = next((x for x in lines[i + 1 : i + 4] if x.strip()), None)
        if (after is None and not any(x.strip() for x in lines[i + 4 : i + 5])) or (
            after is not None and _LABEL_START.match(after)
        ):
            out[start + line.rindex(":")] = "?"
    return "".join(out)


def _answer_bare_label(
    lines: list[str], i: int, start: int, out: list[str], names: Callable[[str], bool] | None = None
) -> int | None:
    """A label with no colon whose next line with words is a bare answer: the line end becomes the
    colon and the answer follows it ("Sclerotic lesions:No.", or with a space where a carriage return or
    a blank line leaves room), at the same length."""
    line = lines[i]
    if (
        i + 1 >= len(lines)
        or not _BARE_LABEL.fullmatch(line)
        or len(line.split()) > _MAX_LABEL_WORDS
        or _ANSWER_LINE.fullmatch(line)
    ):
        return None
    answer = next((k for k in range(i + 1, min(i + 4, len(lines))) if lines[k].strip(" \t\r\u00a0")), None)
    if answer is None or not _ANSWER_LINE.fullmatch(lines[answer]) or _heads_a_list(lines, answer, names):
        return None
    if names is not None and not names(line):  # a title ("CT REPORT⏎No⏎Ascites"): its "No" heads the list
        return None
    colon = start + len(line.rstrip(" \t\r\u00a0"))
    end = start + len(line) + 1 + sum(len(x) + 1 for x in lines[i + 1 : answer]) + len(lines[answer].rstrip("\r"))
    said = lines[answer].strip(" \t\r\u00a0")
    room = end - colon - 1
    said = (" " + said if len(said) < room else said).ljust(room)
    out[colon:end] = [":", *said]
    return answer


#: a line that answers the line above it with a degree or a verdict, not a finding's name ("Trace", "Small",
#: "Unremarkable", «Небольшой справа»): a block with one is a questionnaire (probe88 D1)
ANSWERISH_LINE = re.compile(
    r"[ \t]{0,20}(?:trace|small|mild|moderate|large|massive|minimal|normal|unremarkable|stable|present|"
    r"positive|yes|enlarged|not enlarged|следы|небольш\w{0,4}|незначительн\w{0,4}|умеренн\w{0,4}|выраженн\w{0,4}|"
    r"норм\w{0,6}|без особенностей|есть|да|увеличен\w{0,3}|не увеличен\w{0,3}|бар|қалыпты|ұлғайған)"
    r"(?:[ \t]{1,5}[^\s]{1,20}){0,2}[ \t.]{0,20}\r?",
    re.IGNORECASE,
)


def _heads_a_list(lines: list[str], at: int, names: Callable[[str], bool] | None) -> bool:
    """Whether the denial on line ``at`` heads the lines under it rather than answering the line above:
    a denial heading ("Not seen", "Absent", «Не выявлены») with two lines or more under it, each naming a
    finding (``names``) and none an answer, in a block (the lines between blank ones) where no other line
    is an answer ("Findings⏎Splenomegaly⏎Not seen⏎Ascites⏎Pleural effusion": the spleen was read denied and
    the effusion stated, probe85 e50/h06). A questionnaire answers line by line: "Splenomegaly⏎Absent⏎
    Ascites⏎Present", "Sclerotic lesions⏎Not seen⏎Ascites⏎Trace" (probe88 D1: "Trace" names no finding)."""
    if names is None or not DENIAL_HEADING.fullmatch(lines[at]):
        return False
    first = at
    while first > 0 and lines[first - 1].strip():
        first -= 1
    last = at
    while last + 1 < len(lines) and lines[last + 1].strip():
        last += 1
    others = [line for k, line in enumerate(lines[first : last + 1], first) if k != at]
    return (
        last - at >= 2
        and not any(_ANSWER_LINE.fullmatch(line) or ANSWERISH_LINE.fullmatch(line) for line in others)
        and all(names(line) for line in lines[at + 1 : last + 1])
    )


#: a field's value that a template left unfilled: "___", "***", "...", "<not entered>", "{result}", "yes/no",
#: "(select) present / absent", an empty box
_PLACEHOLDER = (
    r"_{2,}|\*{2,}|\.{3,}|…|<[^<>\n]{1,30}>|\{[^{}\n]{1,40}\}|\(?select\)?[^\n.;:]{0,30}|"
    r"(?:yes|no|present|absent|да|нет|иә|жоқ)[ \t]*/[ \t]*(?:yes|no|present|absent|да|нет|иә|жоқ)|□|☐"
)
#: a field's value that says there is no information: the field states nothing (not assessed), never a
#: denial ("Polyneuropathy: N/A", «Полинейропатия: нет данных» read as absent: probe71 D12)
_NO_INFO = (
    r"unknown|unk|no data|no information|n/a|n\.a\.|not available|not applicable|not assessed|not evaluated|"
    r"not done|not performed|not examined|not recorded|not determined|not measured|not tested|нет данных|н/д|неизвестно|не известно|не оценивал\w{0,4}|"
    r"не проводил\w{0,4}|не исследовал\w{0,4}|не обследовал\w{0,4}|мәлімет жоқ|деректер жоқ|белгісіз"
)
#: a zero count or volume: none ("Sclerotic lesions: 0", "Ascites: 0 ml": read as present, probe71 D2)
_ZERO = r"0(?:[.,]0+)?(?:[ \t]*(?:ml|mm|cm|мл|мм|см))?(?:[ \t]*\((?:zero|none|ноль)\))?"
_FIELD_VALUE = re.compile(
    rf":[ \t]*(?:(?P<placeholder>{_PLACEHOLDER})|(?P<no_info>{_NO_INFO})|(?P<zero>{_ZERO}))[ \t]*(?=[.;,](?!\d)|\r?$)",
    re.IGNORECASE | re.MULTILINE,
)
_FIELD_LABEL = re.compile(r"[^\n.;]{1,80}$")
#: a label about a finding, not the finding: its value says nothing of whether the finding is there
_ABOUT_THE_FINDING = re.compile(
    r"\b(?:cause|causes|etiology|aetiology|origin|type|grade|stage|severity|duration|onset|"
    r"причин\w*|этиолог\w*|генез|тип|стади\w*|степен\w*|давност\w*|себеб\w*)\b",
    re.IGNORECASE,
)
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04FF]")


def unfilled_fields(text: str) -> str:
    """Form fields whose value is no answer, at the same length (probe71 D1, D2, D12): a placeholder of
    an unfilled template ("Sclerotic lesions: ___") is not answered - its colon becomes "?" and the
    placeholder is blanked; "N/A", "unknown", «нет данных» blank the whole field (it states nothing); a
    zero ("Ascites: 0 ml") is "no" («нет»). Only after a label of a few words on its own."""
    if ":" not in text:
        return text
    out = list(text)
    for m in _FIELD_VALUE.finditer(text):
        label = _FIELD_LABEL.search(text, max(0, m.start() - 80), m.start())
        if (
            label is None
            or not 1 <= len(label.group(0).split()) <= 8
            or not any(c.isalpha() for c in label.group(0))
            or _ABOUT_THE_FINDING.search(label.group(0))  # "Etiology of polyneuropathy: unknown" names it
        ):
            continue
        if m.group("no_info"):
            out[label.start() : m.end()] = " " * (m.end() - label.start())
        elif m.group("placeholder"):
            out[m.start() : m.end()] = "?".ljust(m.end() - m.start())
        else:
            word = "нет" if _CYRILLIC_WORD.search(label.group(0)) else "no"
            value = text[m.start() + 1 : m.end()]
            said = " " + word if len(value) > len(word) else word
            if len(said) < len(value):  # a full stop, not spaces, after the answer (": no  ." read as present)
                said += "."
            said = said.ljust(len(value))
            if len(value) >= len(word):
                out[m.start() + 1 : m.end()] = said
    return "".join(out)


#: a table row of a label and a bare answer: "Pleural effusion<TAB>No", "Pleural effusion | No |" (an HTML
#: table's cells arrive tab-separated); the label a few words with no sentence punctuation
_ROW = re.compile(
    r"^(?P<lead>[ \t|]*)(?P<label>[^\W\d_][^\n\t|:.;!?]{0,60}?)(?P<sep>[ ]*(?:\t[ \t]*|\|[ \t]*))"
    r"(?P<answer>(?:no|yes|none|nil|absent|present|negative|positive|not seen|not present|нет|да|"
    r"отсутству\w{0,6}|не выявлен\w{0,2}|жоқ|иә|ия)\b[^\n\t|]{0,30})(?P<tail>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)

#: the same row from any offset (a row after a sentence on its line)
_ROW_AT = re.compile(_ROW.pattern.removeprefix("^"), _ROW.flags)

_NEGATIVE_ANSWER = re.compile(
    r"(?:no|none|nil|absent|negative|not seen|not present|нет|отсутству\w*|не выявлен\w*|жоқ)\b", re.I
)
_POSITIVE_ANSWER = re.compile(r"(?:yes|present|positive|да|иә|ия)\b", re.I)


def _polarity(answer: str) -> bool | None:
    """True for a yes, False for a no, None for anything else."""
    a = answer.strip()
    return False if _NEGATIVE_ANSWER.match(a) else True if _POSITIVE_ANSWER.match(a) else None


def in_script_of(label: str, answer: str) -> str:
    """A bare yes/no answer in the script of its label: "Ascites ....... нет" is "Ascites: no" (probe89
    D17: the English reading took «нет» for no word and the ascites as present); any other answer as it is."""
    if bool(_CYRILLIC_WORD.search(label)) == bool(_CYRILLIC_WORD.search(answer)):
        return answer
    said = _polarity(answer)
    if said is None:
        return answer
    if _CYRILLIC_WORD.search(label):
        return "да" if said else "нет"
    return "yes" if said else "no"


def _rows_of(text: str) -> Iterator[re.Match[str]]:
    """The label-and-answer rows of ``text``, each matched in its line from a sentence's end before it
    ("Sclerotic lesion in L2. Splenomegaly or ascites | no", probe90 D6)."""
    at = 0
    for line in text.split("\n"):
        if "\t" in line or "|" in line:
            lead = _sentence_lead(line)
            m = _ROW_AT.match(text, at + lead)
            if m is not None:
                yield m
        at += len(line) + 1


def table_rows(text: str) -> str:
    """A table row of a finding and its answer as "label: answer", at the same length (probe71 D3:
    "Pleural effusion | No" and an HTML row <td>Pleural effusion</td><td>No</td> read as present)."""
    if "\t" not in text and "|" not in text:
        return text
    out = list(text)
    for m in _rows_of(text):
        if len(m.group("label").split()) > _MAX_LABEL_WORDS:
            continue
        # more cells after the answer (a prior and a current column): only when every one says the same
        # (the rest of the line is split here, not by the regex: nested quantifiers backtracked for ever)
        cells = [c.strip() for c in re.split(r"[\t|]", m.group("tail")) if c.strip()]
        if cells and any(
            len(c) > 30 or _polarity(c) is None or _polarity(c) != _polarity(m.group("answer")) for c in cells
        ):
            continue
        start, end = m.start("sep"), m.end("tail") - (1 if m.group("tail").endswith("\r") else 0)
        said = in_script_of(m.group("label"), m.group("answer").strip())
        room = end - start - 1
        said = " " + said if len(said) < room else said
        if len(said) < room and not said.endswith("."):
            said += "."  # a full stop, not spaces, ends the answer
        out[start:end] = [":", *said.ljust(room)[:room]]
    return "".join(out)


def answered_forms(text: str, names: Callable[[str], bool] | None = None) -> str:
    """Checkbox forms, "X? No." answers and form fields over lines as plain answers, at the same length.
    One pass over the boxes (no backtracking regex: a line of thousands of boxes is linear)."""
    text = unfilled_fields(table_rows(answered_lines(text, names)))
    boxes = list(_BOX.finditer(text)) if "[" in text or any(c in text for c in "☐☑☒✅") else []
    if boxes:
        out = list(text)
        i = 0
        while i < len(boxes):
            j = i
            while j + 1 < len(boxes) and _one_form(text[boxes[j].end() : boxes[j + 1].start()]):
                j += 1
            if j > i and _answer_after(text, boxes[j]):
                _tick(text, boxes[i : j + 1], out)
            else:  # one box, or each label before its own box ("Ascites [ ] Pleural effusion [x]")
                for box in boxes[i : j + 1]:
                    _single(box, out)
            i = j + 1
        text = "".join(out)
    if "?" in text:
        # probe71 D21: "Question: sclerotic lesions? Answer: none identified." stayed a question (possible)
        text = _QUESTION_ANSWER.sub(_as_answer, text)
    # last: the question's answer above ("Q: X? A: no" is "X:    no") is a field like any other (probe87 D7)
    if "?" in text:
        text = _ANSWERED_BELOW.sub(lambda m: ":" + " " * len(m.group(1)), text)
    text = dashed_yes(spaced_answers(_ANSWERED.sub(":", text)))
    if names is None:
        return text
    return doubted_fields(spaced_fields(text, names), names)


#: white space inside a line: spaces, tabs, no-break and typographic spaces (runs taken whole - possessive -
#: so that a run of dots or spaces is never cut two ways: "." * 100000 took 27 s)
_WS = "[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
#: a mark between a field's label and its answer: a colon, a dash, "=", "/", an arrow, dot leaders
_SEP_MARK = r"(?::|[-‐‑‒–—―=/→]|\.{2,60}+|…{1,20}+)"
#: a field's bare negative answer after such a mark and any run of white space (probe87 D11: "Sclerotic
#: lesions:  no." with two spaces, a tab or an em space, "Ascites — no", "Ascites ........ No", ": no
#: evidence" read as present): the answer ends its line, its clause, or is set off by a wide gap
_SPACED_ANSWER = re.compile(
    rf"{_WS}{{0,20}}+{_SEP_MARK}(?:{_WS}{{0,3}}+{_SEP_MARK})?{_WS}{{0,20}}+"
    r"(?P<answer>(?P<plain>no|nil|none|absent|negative|not seen|нет|отсутству\w{0,6}|жоқ)|"
    r"no[ \t]+(?:evidence|signs?)|нет[ \t]+признаков|белгілері[ \t]+жоқ)\b"
    rf"(?P<stop>[.;,]?)(?={_WS}{{0,20}}(?:\r?$|[.;,)])|{_WS}{{2}}|\t)",
    re.IGNORECASE | re.MULTILINE,
)
#: a field's yes answer after a dash or "=", where a field starts: «Отеки — есть (голени)», "Oedema - present"
_DASHED_YES = re.compile(
    rf"(?:^|(?<=[.;!?\t|]))(?P<label>{_WS}*+[^\W\d_][^\n.;:!?=/→…\-‐‑‒–—―|]{{0,60}}?){_WS}++(?P<mark>[-‐‑‒–—―=])"
    rf"{_WS}*+(?:yes|present|есть|да|имеются|имеется|бар|иә)\b",
    re.IGNORECASE | re.MULTILINE,
)


#: an earlier study or time named right after a size verdict: "enlarged previously", "enlarged in 2021", "enlarged on the
#: previous CT", «увеличена в 2021 г.», «увеличена ранее» - that time's verdict, not today's (probe122 D4, D5; after a
#: comma fix123a) - unless today goes on with it ("… in 2021 and now", «… ранее и сейчас»). Not "since 2021", «с 2021
#: г.»: still so. Kazakh «… жылы» UNVERIFIED (not seen in real letters)
EARLIER_TIME = (
    r"(?:(?:(?:on|in|at)\s+(?:the\s+)?(?:previous|prior|earlier|last|old|initial|baseline|preceding)\b|"
    r"(?:in|on)\s+(?:(?:[a-z]+|\d{1,2}[./])\s*)?(?:19|20)\d\d\b|at\s+(?:diagnosis|presentation|baseline)\b|"
    r"(?:previously|before|earlier|formerly|initially|then|in\s+the\s+past)\b|(?:\d+|a|one|two|three)\s+"
    r"(?:years?|months?|weeks?)\s+ago\b|ранее|прежде|раньше|в\s+прошлом|в\s+дебюте|"
    r"(?:на|при)\s+(?:предыдущ|прошл|прежн|первичн)\w*|в\s+(?:[а-я]+\s+)?(?:19|20)\d\d|"
    r"\d+\s+(?:лет|год\w*|месяц\w*)\s+назад|бұрын|(?:19|20)\d\d\s*ж(?:ылы|\.))"
    r"(?![^.;\n]{0,30}?\b(?:and|as|и|как\s+и)\s+(?:now|still|today|currently|at\s+present|сейчас|теперь|по-прежнему|"
    r"в\s+настоящее\s+время)))"
)


#: ... and an organ's size verdict after a dash, where a field starts or after a comma: «Селезенка — увеличена»,
#: "Spleen – enlarged", «Лимфоузлы — не увеличены», «Көкбауыр — ұлғайған» (probe106: the em dash hid the finding
#: where a hyphen or a colon did not). Only these verdicts: a dash elsewhere parts clauses ("Ascites – none –
#: gallstones", «Лимфоузлы — не увеличены — селезенка — 16 см, увеличена»: probe112 D2, D4 when every dash
#: between words was read as a hyphen)
#: (a spaced ASCII hyphen is such a dash too: "Spleen - not enlarged - hepatomegaly." denied the liver, probe119 D12)
#: ... or after the dash that ends another organ's verdict: "Spleen – not enlarged – liver – enlarged, 19 cm." (probe117
#: D2: the liver was lost; `dashed_yes` takes the chain from the verdict before it)
_DASHED_VERDICT_BODY = (
    rf"(?P<label>{_WS}*+[^\W\d_][^\n.;:!?=/→…\-‐‑‒–—―|,]{{0,60}}?){_WS}*+(?P<mark>[‐‑‒–—―]|(?<=\s)-(?=\s))"
    # ... a measure may come first: «селезенка – 16 см, увеличена» (fix123a, probe122 D11)
    rf"{_WS}*+(?:\d{{1,3}}(?:[.,]\d{{1,2}})?\s*(?:cm|mm|см|мм)\b\s*,?\s*)?"
    # ... a word of time before it: «Селезенка – по-прежнему увеличена», "Spleen – still enlarged" (probe125 G4; the
    # Kazakh «әлі де» UNVERIFIED: not seen in real letters)
    r"(?:(?:still|again|по-прежнему|вс[её]\s+ещ[её]|сохраняется|әлі\s+де)\s+)?"
    r"(?:(?:(?:not|не)\s+)?(?:(?:mildly|moderately|markedly|slightly|умеренно|незначительно|значительно|"
    r"несколько|слегка|резко)\s+)?(?:enlarged|palpable|увеличен\w*|пальпиру\w*|ұлғай\w*|үлкейген)\b|"
    # ... or a normal size: "Spleen – normal size – liver – enlarged, 19 cm." (probe121 D7: the chain lost the liver),
    # a measure in brackets after it too ("normal size (11 cm) – liver – …", probe122 D11)
    r"(?:of\s+)?normal(?:\s+(?:in\s+)?size|\s+sized)?(?=\s*(?:\([^()\n]{0,30}\)\s*)?(?:$|[‐‑‒–—―.;,]|-\s))|"
    # «размеры в норме», «в пределах нормы» (fix123a: «Печень – размеры в норме – селезенка – …» lost the spleen)
    r"нормальн\w*\s+размер\w*|обычн\w*\s+размер\w*|(?:размер\w*\s+)?(?:в\s+норме|в\s+пределах\s+нормы)|"
    r"қалыпты\s+мөлшер\w*)"
    # ... today's: not a verdict of an earlier study or time ("spleen – enlarged on the previous study, now 11 cm",
    # «Селезенка 14 см – значительно увеличена в 2021 г., сейчас 11 см»: probe122 D4, D5 read them enlarged today)
    rf"(?![^\S\n]*,?[^\S\n]*{EARLIER_TIME})"
)
_DASHED_VERDICT = re.compile(rf"(?:^|(?<=[.;!?\t|,])){_DASHED_VERDICT_BODY}", re.IGNORECASE | re.MULTILINE)
#: the next organ's verdict after the dash that ends a verdict, past a bracket after it ("normal size (11 cm) – liver –
#: enlarged": probe122 D11)
_CHAINED_VERDICT = re.compile(
    rf"(?:{_WS}*+\([^()\n]{{0,30}}\))?(?:{_WS}*+(?P<lead>[‐‑‒–—―])|{_WS}++(?P<hyphen>-)(?=\s)){_DASHED_VERDICT_BODY}",
    re.IGNORECASE,
)
#: ... and a chain's start after a dash that ends another clause: a field's bare answer or a finding named alone -
#: "Ascites – none – liver – enlarged.", "Hepatomegaly – spleen – not enlarged." (fix123a: a chain started only after
#: a size verdict, so the liver, the spleen were lost). Only a dash with white space before it (no hyphenated word)
_AFTER_DASH_VERDICT = re.compile(rf"(?:(?<=\s[‐‑‒–—―])|(?<=\s-)){_DASHED_VERDICT_BODY}", re.IGNORECASE)


def dashed_yes(text: str) -> str:
    """A field answered yes after a dash, its dash read as the colon, at the same length: «Отеки — есть
    (голени)» is «Отеки : есть (голени)» (probe105 D13: a bare «Отеки» is no target - oedema of the lungs or the
    marrow is none - so only the field form is read, and its dash was not; a no was already made ": no").
    Only after a label of a few words where a field starts."""
    if not any(c in text for c in "-‐‑‒–—―="):
        return text
    out: list[str] | None = None
    for m in _DASHED_YES.finditer(text):
        label = m.group("label")
        if not 1 <= len(label.split()) <= _MAX_LABEL_WORDS or _ANSWER_WORD.search(label):
            continue
        out = out or list(text)
        out[m.start("mark")] = ":"
    for first in (*_DASHED_VERDICT.finditer(text), *_AFTER_DASH_VERDICT.finditer(text)):
        verdict: re.Match[str] | None = first
        while verdict is not None:  # the verdict, then each organ's verdict chained after it by a dash
            if not 1 <= len(verdict.group("label").split()) <= _MAX_LABEL_WORDS:
                break
            out = out or list(text)
            if any(c.isdigit() for c in verdict.group("label")):
                # "Spleen 14 cm - mildly enlarged": a measure and its verdict, one clause (probe119 z02) - and so after
                # an en or em dash, read as that hyphen ("Spleen 14 cm – mildly enlarged" was no finding, probe117 D5)
                out[verdict.start("mark")] = "-"
            else:
                # the colon right after the label, as an organ's verdict is written ("Селезенка: увеличена"), the
                # dash a space
                out[verdict.start("mark")] = " "
                out[verdict.end("label")] = ":"
            verdict = _CHAINED_VERDICT.match(text, verdict.end())
            if verdict is not None and 1 <= len(verdict.group("label").split()) <= _MAX_LABEL_WORDS:
                # the dash between two organs' verdicts ends the first: "Spleen – enlarged – liver – normal." read the
                # liver's "normal" back onto the spleen (probe125 G4: the spleen absent); a semicolon, at the same length
                lead = "lead" if verdict.group("lead") is not None else "hyphen"
                out[verdict.start(lead)] = ";"
    return "".join(out) if out is not None else text


#: the label before such a mark: a few words since the line's or the sentence's start
_SPACED_LABEL = re.compile(r"[^\n.;:!?=/→…]{1,80}$")
#: white space after an answer, before the line's end or the next field
_GAP_AFTER = re.compile(rf"{_WS}{{1,20}}(?=\r?$|[^\W\d_])", re.MULTILINE)
_ANSWER_WORD = re.compile(r"(?:yes|no|none|nil|present|absent|positive|negative|да|нет|иә|жоқ)\W*$", re.IGNORECASE)


#: a test's or a marker's name glued to the hyphen after it: an acronym or a word with a digit ("HHV8", "HHV-8",
#: "EBER", "CD20", "LANA-1")
_QUALIFIER_BEFORE = re.compile(r"(?<![\w-])(?:[A-Z][A-Z0-9]+|[^\W_]*\d[\w]*)(?:-[A-Z0-9]+)*$")
#: a hyphen with no white space on either side ("HHV8-negative")
_GLUED_MARK = re.compile(r"[-‐‑](?=[^\W_])")


def spaced_answers(text: str) -> str:
    """A field's bare negative answer after a run of white space or another separator, moved next to a
    colon with one space, at the same length: "Sclerotic lesions:  no." (two spaces, a tab, NBSP, an em
    space), "Ascites — no", "Ascites = nil", "Ascites / no", "Ascites ........ No", "Ascites: no evidence"
    are "Sclerotic lesions: no." - ConText's ": no" needs the colon, the word and the sentence end side by
    side, and read every other spacing as the finding present (probe87 D11, a regression of probe70 D1;
    D7: "Q: X? A: no" became "X:    no"). Only after a label of a few words of its own (no answer word
    last: "yes / no" is a template's placeholder); a yes is left as written. Each mark is looked at once,
    with bounded runs around it (linear)."""
    if not any(c in text for c in ":-‐‑‒–—―=/→…."):
        return text
    out = list(text)
    for m in _SPACED_ANSWER.finditer(text):
        start = m.start()
        label = _SPACED_LABEL.search(text, max(0, start - 80), start)
        if (
            label is None
            # a hyphen glued on both sides after a test's name is a compound word, a qualifier of the finding
            # before it: "Castleman disease, HHV8-negative, hyaline vascular type" (fix111a: read as its denial)
            or (_QUALIFIER_BEFORE.search(text, max(0, start - 40), start) and _GLUED_MARK.match(text, start))
            or (label.start() > 0 and text[label.start() - 1] not in "\n.;:!?=/→…")
            or not any(c.isalpha() for c in label.group(0))
            or not 1 <= len(label.group(0).split()) <= _MAX_LABEL_WORDS
            or _ANSWER_WORD.search(label.group(0))
        ):
            continue
        answer = m.group("answer")
        if not m.group("plain"):  # "no evidence", «нет признаков»: the bare denial
            answer = "жоқ" if "жоқ" in answer.lower() else "нет" if _CYRILLIC_WORD.search(answer) else "no"
        answer = in_script_of(label.group(0), answer)
        stop, end, next_field = m.group("stop"), m.end(), False
        written = text[start : m.end()]
        if not stop:  # the gap after the answer makes room for its full stop ("X:  no   Ascites: yes")
            gap = _GAP_AFTER.match(text, end)
            if gap:
                next_field = gap.end() < len(text) and text[gap.end()] not in "\r\n"
                end = max(end, gap.end() - 1)  # one white space kept after the full stop
            stop = "."
        if written in (f": {answer}", f": {answer}{m.group('stop')}") and not next_field:
            continue  # read as it is
        room = end - start
        # a full stop written, or the next field on the line, needs the stop more than the answer its space
        keep_stop = next_field or bool(m.group("stop"))
        shapes = (": {}{}", ":{}{}", ": {}", ":{}") if keep_stop else (": {}{}", ": {}", ":{}{}", ":{}")
        said = next((s for s in (f.format(answer, stop) for f in shapes) if len(s) <= room), None)
        if said is None or text[start:end] == said.ljust(room):
            continue
        out[start:end] = list(said.ljust(room))
    return "".join(out)


#: what a query before one word asks of the field's own finding: a degree, a site, a size, an answer ("? mild",
#: "? L2", "?16 cm", "? yes") - not a cause or a diagnosis ("Sclerotic lesion in L2 - ?metastasis", "Ascites -
#: ?cardiac" query the cause: the finding is stated, probe92 D4)
_QUERIED = (
    r"mild|mildly|small|moderate|large|massive|gross|trace|minimal|slight|significant|marked|severe|yes|no|"
    r"present|enlarged|seen|[^\W\d_]{0,2}\d{1,3}(?:[.,]\d{1,2})?(?:[ \t]?(?:cm|mm|см|мм)|[^\W\d_]{0,2})|"
    r"мал\w{0,4}|небольш\w{0,4}|умеренн\w{0,3}|выраженн\w{0,3}|значительн\w{0,3}|да|нет|есть|увеличен\w{0,3}|"
    r"аз|орташа|иә|жоқ|бар"
)
#: a field's answer that doubts it: "possible", "equivocal", «под вопросом», "?"
_DOUBT_WORDS = (
    r"possible|possibly|probable|probably|likely|suspected|suspicious|equivocal|indeterminate|questionable|"
    r"uncertain|under[ \t]+question|cannot[ \t]+(?:be[ \t]+)?exclude[d]?|can'?t[ \t]+exclude|not[ \t]+sure|unsure|"
    r"borderline|yes[ \t]*\?|no[ \t]*\?|query|queried|"  # probe90 D8, D7
    r"под[ \t]+вопросом|сомнительн\w{0,3}|возможн\w{0,3}|вероятн\w{0,3}|уточнить|не[ \t]+исключ\w{0,4}|"
    r"мүмкін|күмәнді|\?[ \t]{0,3}(?:" + _QUERIED + r")|\?"  # "? mild", "? L2": a query before one word (probe90 D8)
)
#: a field's answer that says the finding is not there in other words: "normal", "unremarkable", «норма»
_NORMAL_WORDS = (
    r"normal|unremarkable|within[ \t]+normal[ \t]+limits|wnl|nothing[ \t]+abnormal|норма|в[ \t]+норме|"
    r"без[ \t]+особенностей|без[ \t]+патологии|қалыпты(?:[ \t]+шегінде)?"
)
#: "normal size" answers an enlargement's field no ("Splenomegaly: normal size", «Гепатомегалия: нормальных
#: размеров»: fix91b left them present) - not an organ's ("Liver: normal size" the engine reads as it is)
#: ... and the organ's normal size named with it ("Splenomegaly: normal spleen size", "…: spleen normal",
#: «Спленомегалия: селезенка нормальных размеров» read present, probe93 D13) - the organ the label's
_ORGAN = (
    r"(?:spleen|splenic|liver|hepatic|(?:lymph[ \t]+)?nodes?|nodal|селез[её]нк\w{0,2}|печен\w{0,2}|"
    r"(?:лимфо)?узл\w{0,2}|лимфатическ\w{0,3}[ \t]+узл\w{0,2}|көкбауыр\w{0,3}|бауыр\w{0,3})"
)
_SIZE_WORDS = (
    rf"normal[ \t-]+(?:sized?[ \t]+)?{_ORGAN}(?:[ \t]+size)?|"
    rf"{_ORGAN}(?:[ \t]+size)?(?:[ \t]+(?:is|are))?[ \t]+(?:normal(?:[ \t]+(?:in[ \t]+)?size)?|of[ \t]+normal[ \t]+size|"
    r"within[ \t]+normal[ \t]+limits|unremarkable)|"
    rf"{_ORGAN}[ \t]+(?:нормальн\w{{0,3}}[ \t]+размер\w{{0,3}}|в[ \t]+норме|размер\w{{0,3}}[ \t]+в[ \t]+норме)|"
    rf"(?:нормальн\w{{0,3}}[ \t]+)?размер\w{{0,3}}[ \t]+{_ORGAN}[ \t]+в[ \t]+норме|"
    r"normal[ \t]+(?:in[ \t]+)?size|normal[ \t]+sized?|нормальн\w{0,3}[ \t]+размер\w{0,3}|"
    r"размер\w{0,3}[ \t]+в[ \t]+норме|қалыпты[ \t]+өлшем\w{0,4}"
)
_ENLARGEMENT = re.compile(r"megal|enlarg|lymphadenopath|увелич|мегали|лимфаденопат|ұлғай", re.IGNORECASE)
#: an organ's words and the words of its enlargement's label: "normal spleen size" answers "Splenomegaly", not
#: "Hepatomegaly"
_ORGAN_OF = (
    (re.compile(r"splee?n|селез|көкбауыр", re.I), re.compile(r"splen|spleen|селез|спленомегал|көкбауыр", re.I)),
    (
        re.compile(r"liver|hepat|печен|(?<!көк)бауыр", re.I),
        re.compile(r"hepat|liver|печен|гепатомегал|(?<!көк)бауыр", re.I),
    ),
    (re.compile(r"node|nodal|узл", re.I), re.compile(r"lymph|node|лимф|узл", re.I)),
)


def _sized_of(label: str, answer: str) -> bool:
    """A normal size answers an enlargement's field ``label`` no: the label names an enlargement and the organ
    the answer names, if any, is the label's ("Splenomegaly: normal liver size" denies nothing)."""
    if not _ENLARGEMENT.search(label):
        return False
    return all(of.search(label) for organ, of in _ORGAN_OF if organ.search(answer))


#: such an answer after a field's mark (a colon, a dash, dot leaders, a pipe, a tab) ending its line or its
#: field (a wide gap after it): the mark, the word and a full stop, runs bounded and taken whole (linear)
_DOUBT_ANSWER = re.compile(
    rf"{_WS}{{0,20}}+(?P<mark>{_SEP_MARK}|\|){_WS}{{0,20}}+"
    rf"(?P<doubt>(?P<normal>(?P<size>{_SIZE_WORDS})|{_NORMAL_WORDS})|{_DOUBT_WORDS})"
    # ... or a comma ("Splenomegaly: normal, ascites: moderate", "…: normal, 11 cm", probe92 D12)
    r"(?P<stop>[.;,]?)"
    # ... or a full stop and the next sentence ("Hepatomegaly: normal in size. Ascites: yes")
    # ... or the next field's dot leaders ("Splenomegaly .... equivocal .... Ascites .... no", probe90 D8)
    rf"(?={_WS}{{0,20}}+\r?$|{_WS}{{2}}|\t|(?<=[.;,])[ \t]|{_WS}{{1,20}}+(?:\.{{2,60}}+|…{{1,20}}+))",
    re.IGNORECASE | re.MULTILINE,
)
_DOUBT_LABEL = re.compile(r"[^\n.;:!?=/→…|\t]{1,80}$")


def _field_label(text: str, at: int, names: Callable[[str], bool]) -> str | None:
    """The label of a field whose mark is at ``at``: a few words since the line's, the sentence's or the
    cell's start, naming a finding, no answer word last; None if there is none."""
    label = _DOUBT_LABEL.search(text, max(0, at - 80), at)
    if (
        label is None
        or (label.start() > 0 and text[label.start() - 1] not in "\n.;:!?=/→…|\t")
        or not 1 <= len(label.group(0).split()) <= _MAX_LABEL_WORDS
        or _ANSWER_WORD.search(label.group(0))
        or not names(label.group(0))
    ):
        return None
    return label.group(0)


def _said_in(room: int, shapes: tuple[str, ...], last: str) -> str:
    """The first of ``shapes`` that fits in ``room`` characters, else ``last``; padded to ``room``."""
    return next((s for s in shapes if len(s) <= room), last).ljust(room)


#: a confirmation later in the clause after a doubt's comma or semicolon: "- query, confirmed by MRI", "- queried;
#: confirmed on MRI", «- под вопросом, по МРТ подтвержден» - the doubt is answered, the text is left as written for
#: the mapping's rule of an answered status. Only a confirmation of the queried finding itself: nothing but a
#: manner or a study before the verb ("histologically", "on MRI", «по МРТ») and nothing but a study after it up to
#: the clause's end - "pseudopapilloedema confirmed on B-scan", "lymphoma confirmed on biopsy", "confirmed normal
#: size", "confirmed by MRI to be a Schmorl's node", «подтвержден нормальный размер» confirm something else and
#: answer nothing (probe112 D1); nor does a confirmation denied or awaited ("not confirmed", "to be confirmed",
#: «требует подтверждения»)
_CONFIRM_PREP = r"(?:by|on|at|with|in|via|after|from|по|на|при|после|данным)"
_CONFIRMED_AFTER = re.compile(
    r"[ \t]*(?:(?:now|since|subsequently|later|then|histologically|radiologically|clinically|pathologically|"
    r"cytologically|also|definitely|гистологически|морфологически|цитологически|рентгенологически|клинически|"
    r"теперь|затем|позже|впоследствии)[ \t]+){0,2}"
    rf"(?:{_CONFIRM_PREP}[ \t]+(?:[^\W_][\w-]{{0,30}}[ \t]+){{1,4}}?|(?:[^\W_][\w-]{{0,30}}[ \t]+){{1,3}}?бойынша[ \t]+)?"
    r"(?:was[ \t]+|were[ \t]+|is[ \t]+|has[ \t]+been[ \t]+|been[ \t]+|был[аои]?[ \t]+)?"
    r"(?:confirm(?:s|ed|ing)|prov(?:es|en|ed)|verified|verifies|substantiated|established|подтвержд[её]н[аоы]?|"
    r"подтвержда[ею]тся|подтвердил\w{0,3}|верифицирован\w{0,3}|расталды)\b"
    rf"(?:[ \t]+{_CONFIRM_PREP}\b[^.;,\n()\[\]]{{0,80}}?)?"
    r"(?=[ \t]*(?:[.;\n]|$))",
    re.IGNORECASE,
)
#: a word after the confirmation's study that says what was confirmed is not the finding: "confirmed by MRI to be
#: a Schmorl's node", "confirmed on USS as normal"
_CONFIRMED_OTHER = re.compile(
    r"\b(?:to[ \t]+be|as|be|normal|benign|not|no|but|shows?|showing|reveal\w*|нормальн\w*|доброкачествен\w*|не)\b",
    re.IGNORECASE,
)


def doubted_fields(text: str, names: Callable[[str], bool]) -> str:
    """A field answered with a doubt doubts its own label only, at the same length (probe89 D5: "Sclerotic
    lesions: equivocal", «: под вопросом», ": ?", "…… possible", "| possible", "A: possible" read the lesion
    as present, and with no full stop the doubt word reached the next line's finding): the mark becomes "?",
    the answer ends its sentence - "Sclerotic lesions? equivocal." - or, with no room for the full stop, is
    blanked ("Sclerotic lesions?         "). Only after a label of a few words naming a finding."""
    if not any(c in text for c in ":-‐‑‒–—―=/→….|\t"):
        return text
    out = list(text)
    for m in _DOUBT_ANSWER.finditer(text):
        label = _field_label(text, m.start(), names)
        if (m.group("doubt") == "?" and m.group("stop")) or label is None:
            continue  # ": ?." (a headed table's unanswered cell) reads as a doubt already
        confirmed = (
            _CONFIRMED_AFTER.match(text, m.end(), min(len(text), m.end() + 300)) if m.group("stop") in ",;" else None
        )
        if (
            confirmed
            and m.group("stop")
            and not names(confirmed.group(0))
            and not _CONFIRMED_OTHER.search(confirmed.group(0))
        ):
            continue  # "- query, confirmed by MRI": answered in its clause; "query, ascites confirmed" is not (fix111a)
        if m.group("size") and not _sized_of(label, m.group("size")):
            continue  # "Liver: normal size" says it of the organ: read as written
        start, end, next_field = m.start("mark"), m.end(), False
        gap = _GAP_AFTER.match(text, end)
        if gap:
            next_field = gap.end() < len(text) and text[gap.end()] not in "\r\n"
            end = gap.end() - (1 if next_field else 0)
        word = m.group("doubt")
        if m.group("normal"):  # "Splenomegaly: normal" is no splenomegaly (probe90 D7)
            no = in_script_of(label, "no")
            out[start:end] = list(_said_in(end - start, (f": {no}.", f":{no}.", f": {no}"), f":{no}"))
            continue
        shapes = () if word == "?" else (f"? {word}.",)
        out[start:end] = list(_said_in(end - start, shapes, "?"))
    return "".join(out)


#: two cells of a line apart: a tab, or two white spaces or more
_WIDE_GAP = re.compile(rf"({_WS}{{2,}}+|\t)")
#: a bare answer cell: yes/no and their kin, or a doubt
_BARE_FIELD_ANSWER = re.compile(
    rf"(?P<answer>no|none|nil|absent|negative|not seen|yes|present|positive|нет|да|отсутству\w{{0,6}}|"
    rf"не выявлен\w{{0,2}}|жоқ|иә|ия|(?P<normal>(?P<size>{_SIZE_WORDS})|{_NORMAL_WORDS})|(?P<doubt>{_DOUBT_WORDS}))"
    r"[.;]?",
    re.IGNORECASE,
)
_SPACED_LABEL_CELL = re.compile(r"[^\W\d_][^\n\t|:.;!?=/→…]{0,60}")


def spaced_fields(text: str, names: Callable[[str], bool]) -> str:
    """Fields with no colon, a label and its bare answer two spaces or more (or a tab) apart, at the same
    length (probe89 D11: "Sclerotic lesions    no" read as present, "Sclerotic lesions  no  Ascites  yes"
    denied the ascites): "Sclerotic lesions: no. Ascites: yes."; a doubt "Sclerotic lesions? possible.".
    Only a label of a few words naming a finding before a bare answer; each line split once (linear)."""
    if "  " not in text and "\t" not in text and not any(c in text for c in "\u00a0\u2000\u2003\u3000"):
        return text
    lines = text.split("\n")
    for n, line in enumerate(lines):
        parts = _WIDE_GAP.split(line)
        if len(parts) < 3:
            continue
        cells, gaps = parts[0::2], parts[1::2]
        changed, k = False, 0
        while k + 1 < len(cells):
            label, said = cells[k], cells[k + 1].rstrip("\r")
            # the label after a sentence on the line: "Sclerotic lesion in L2. Splenomegaly    no" (probe90 D6)
            ends = list(_SENTENCE_END.finditer(label))
            label = label[ends[-1].end() :] if ends else label
            answer = _BARE_FIELD_ANSWER.fullmatch(said)
            if (
                answer is None
                or not _SPACED_LABEL_CELL.fullmatch(label.strip().lstrip("-–•*·").strip())  # a bullet before it
                or len(label.split()) > _MAX_LABEL_WORDS
                or _ANSWER_WORD.search(label)
                or not names(label)
                or (answer.group("size") and not _sized_of(label, answer.group("size")))
            ):
                k += 1
                continue
            word = answer.group("answer")
            after = gaps[k + 1] if k + 1 < len(gaps) else ""
            room = len(gaps[k]) + len(said) + len(after) - (1 if after else 0)
            if answer.group("doubt"):
                shapes = () if word == "?" else (f"? {word}.",)
                field = _said_in(room, shapes, "?")
            else:
                word = in_script_of(label, "no" if answer.group("normal") else word)
                field = _said_in(room, (f": {word}.", f":{word}.", f": {word}"), f":{word}")
            cells[k + 1] = field + (" " if after else "") + cells[k + 1][len(said) :]
            gaps[k] = ""
            if after:
                gaps[k + 1] = ""
            changed, k = True, k + 2
        if changed:
            lines[n] = "".join(c + (gaps[j] if j < len(gaps) else "") for j, c in enumerate(cells))
    return "\n".join(lines)


def _answer_end(tail: str) -> tuple[int, bool]:
    """Where the answer after a form's last box ends in ``tail``: at a line or clause end, at a gap of two
    spaces or a tab, or before the next field's label ("[x] no   Ascites: [x] yes": probe71 D14, the two
    forms of one line were read as one with two ticks)."""
    stop = _FORM_END.search(tail)
    end = stop.start() if stop else len(tail)
    next_field = False
    gap = _FIELD_GAP.search(tail, 0, end)
    if gap and tail[gap.end() : end].strip():
        end, next_field = gap.start(), True
    if ":" in tail[:end]:  # a label after one space: the answer is its first word
        word = re.match(r"\s*\S+", tail)
        end, next_field = min(end, word.end() if word else 0), True
    return end, next_field


#: two fields of a form on one line are set apart by two spaces or more, or a tab
_FIELD_GAP = re.compile(r"\t| {2,}")


def _answer_after(text: str, box: re.Match[str]) -> bool:
    """Whether an answer follows the last box of a run (else the labels stand before their boxes)."""
    tail = text[box.end() : box.end() + _MAX_ANSWER]
    return bool(tail[: _answer_end(tail)[0]].strip())


def _single(box: re.Match[str], out: list[str]) -> None:
    """A box of its own: ticked, the item it labels stands as written; empty, it is not asserted - "?"
    (possible, never present: probe65 D4, "Ascites: [ ]" read as ascites present)."""
    ticked = bool(box.group(1)) or box.group(2) in ("☑", "☒", "✅")
    width = box.end() - box.start()
    out[box.start() : box.end()] = list(" " * width if ticked else "?".ljust(width))


def _one_form(between: str) -> bool:
    """Whether two boxes belong to one form: a short answer between them, no line or clause end, no
    next field's label ("no   Ascites:")."""
    return len(between) <= _MAX_ANSWER and not _FORM_END.search(between) and ":" not in between


def _tick(text: str, run: list[re.Match[str]], out: list[str]) -> None:
    """Rewrite one form (its boxes and answers) in ``out`` as its ticked answer, padded."""
    tail = text[run[-1].end() : run[-1].end() + _MAX_ANSWER]
    upto, next_field = _answer_end(tail)
    end = run[-1].end() + upto
    answers = []
    for k, box in enumerate(run):
        upto = run[k + 1].start() if k + 1 < len(run) else end
        ticked = bool(box.group(1)) or box.group(2) in ("☑", "☒", "✅")
        answers.append((ticked, text[box.end() : upto].strip()))
    chosen = [a for t, a in answers if t]
    said = chosen[0] if len(chosen) == 1 and chosen[0] else "?"
    if next_field and said != "?":  # another field follows on the line: this answer ends its sentence
        said += "."
    start = run[0].start()
    out[start:end] = list(said.ljust(end - start)[: end - start])


#: a reference to an earlier description set off by commas inside a clause: "Optic disc swelling, noted
#: previously, has resolved", "очаги, описанные ранее, в настоящее время не визуализируются" - ConText's
#: "previously" there cut the clause's own predicate ("has resolved") off the finding (probe61 D8/D9);
#: the predicate says what holds now, so the aside is blanked
_EARLIER = re.compile(
    r"(?<=\w),\s*(?:(?:noted|seen|described|reported|mentioned)\s+(?:previously|earlier|before)|previously\s+"
    r"(?:noted|seen|described|reported)|(?:описанн|отмеченн|выявленн|указанн)\w*\s+ранее|ранее\s+"
    r"(?:описанн|отмеченн|выявленн|указанн)\w*)\s*,(?=\s*\w)",
    re.IGNORECASE,
)


def set_aside_contrast(text: str) -> str:
    """A contrast word, or a reference to an earlier description, in commas inside a clause: blanked
    (same length)."""
    text = _ASIDE.sub(lambda m: " " * len(m.group(0)), text)
    text = _EARLIER.sub(lambda m: " " * len(m.group(0)), text)
    if "," in text and _DENIAL_AFTER_PHRASE.search(text):
        text = _DESCRIBING_PHRASE.sub(lambda m: " " + m.group(1) + " ", text)
    return text


#: a describing phrase in commas between a noun and the clause's denial: «Картина, характерная для болезни
#: Кастлемана, не определяется» - the commas cut the closing denial off the finding, which read as
#: present (probe71 D9); the commas go (same length), the phrase stays
_DESCRIBING_PHRASE = re.compile(
    r",(\s*(?:характерн|типичн|свойственн|специфичн|подозрительн|соответствующ|указывающ|подобн|"
    r"похож)\w*\s[^,.;:\n]{1,80}?),(?=\s*(?:не|нет)\b)",
    re.IGNORECASE,
)
_DENIAL_AFTER_PHRASE = re.compile(r",\s*(?:не|нет)\b", re.IGNORECASE)


#: a table's shape worth reading by its header: a few columns of short cells (a wider table, or longer
#: cells, is read line by line as before)
_MAX_COLUMNS = 12
_MAX_HEADER_CELL = 80
_MAX_LABEL_CELL = 60
#: a markdown table's rule under its header: "---|:---:|"
_RULE_LINE = re.compile(r"[ \t|:+-]*-{3,}[ \t|:+-]*\r?")


def _cells(line: str) -> list[str] | None:
    """The cells of a table row (tab or pipe separated), or None for a line that is no row. A pipe
    before the first cell and after the last one is the row's border, not an empty cell."""
    row = line.strip(" \r\u00a0")
    if "\t" not in row and "|" not in row:
        return None
    if row.startswith("|"):
        row = row[1:]
    if row.endswith(("|", "\t")):
        row = row[:-1]
    return [c.strip(" \t\r\u00a0") for c in re.split(r"[\t|]", row)]


#: a cell that says there is nothing to say: "N/A", "unknown", "___", a zero
_NO_ANSWER_CELL = re.compile(rf"(?:{_PLACEHOLDER})|(?:{_NO_INFO})|(?:{_ZERO})", re.IGNORECASE)


def _answers(cell: str) -> bool:
    """A cell that answers a column's question: yes/no and its kin, "?", "-", a field's non-answer
    ("unknown", "N/A", "0"), a hedge ("Probable", "Cannot exclude") or nothing."""
    said = cell.rstrip(".")
    return (
        not said
        or said in ("?", "-", "—", "–")
        or _polarity(said) is not None
        or _NO_ANSWER_CELL.fullmatch(said) is not None
        or _HEDGE_CELL.fullmatch(said) is not None
    )


#: a cell that answers with a doubt: the row is possible, never present nor absent (probe76 D6: "L2 |
#: Probable" left the table unread and its header read as a present lesion)
_HEDGE_CELL = re.compile(
    r"(?:probable|probably|possible|possibly|likely|suspected|suspicious|equivocal|indeterminate|questionable|"
    r"uncertain|cannot (?:be )?excluded?|can ?not (?:be )?excluded?|not excluded|query|queried|\?|вероятно|"
    r"возможно|сомнительно|под вопросом|уточнить|не исключ\w{0,4}|мүмкін|күмәнді)[ \t]{0,3}\??",
    re.IGNORECASE,
)
#: the first cell of a header row: the name of the column of sites, or nothing ("Site | Sclerotic lesion";
#: "L2 | Sclerotic lesion", "Bones | Sclerotic lesion L2" are a row stating a finding: probe76 D1)
_SITE_COLUMN = re.compile(
    r"(?:(?:anatomic(?:al)?|bone|skeletal|lesion|body)[ \t]{1,3})?(?:site|location|locali[sz]ation|level|"
    r"region|area|segment|organ|structure|side|anatomy|#|no\.|№)s?(?:[ \t]*/[ \t]*\w{1,12})?|"
    r"локализаци\w{0,2}|област\w{0,2}|уров\w{0,3}|отдел\w{0,2}|орган\w{0,2}|сегмент\w{0,2}|зон\w{0,2}|"
    r"участ\w{0,3}|мест\w{0,2}|орны|аймақ\w{0,3}|деңгей\w{0,3}|мүше\w{0,3}|",
    re.IGNORECASE,
)
#: what a finding's column name never holds: a number (a level, a size), a predicate, a location clause
#: ("Sclerotic lesion in L2", "Splenomegaly 16 cm" state a finding)
_STATEMENT_WORD = re.compile(
    r"\d|[.,;!]|\b(?:in|at|on|is|are|was|were|seen|noted|present|identified|detected|measuring|measures|"
    r"enlarged|в|на|определя\w*|выявлен\w*|увеличен\w*)\b",
    re.IGNORECASE,
)


def headed_tables(text: str, names: Callable[[str], bool]) -> str:
    """A table whose header row names the finding and whose rows answer it per site (probe74 D6: "Site |
    Sclerotic lesion⏎Skull | No⏎L2 | No" read the header as a present lesion). The header row is no finding
    and goes (blanked); each data row becomes one clause per column, "<row label>: <column header>:
    <cell>." - "Skull: Sclerotic lesion: No." - which the rules read as any field ("?" or a blank cell: not
    answered). A header row: its cells after the first name a finding (``names``), none of them is an
    answer, and the row after it answers under such a column. Rows are read while they have the header's
    number of cells (an HTML table's rows arrive a blank line apart, a plain one's line by line; a row
    whose last cells are empty may leave them out). A table without such a header is left to
    :func:`table_rows`.

    The one rewrite that does not keep the text's length: a row's quote is the clause it became. The
    text grows by its own length and 4,096 characters at most (a wide table of short rows is read as written past that)."""
    if "\t" not in text and "|" not in text:
        return text
    lines = text.split("\n")
    cells = [_cells(line) for line in lines]
    budget = len(text) + 4096
    i = 0
    while i < len(lines):
        header = cells[i]
        if header is None or not 2 <= len(header) <= _MAX_COLUMNS or not _is_header(header, names):
            i += 1
            continue
        rows, gap = _data_rows(cells, i, header, names)
        if not rows:
            if _alone(lines, cells, i):  # a header and no rows (an unfilled template) states nothing (probe76 D5)
                lines[i] = " " * len(lines[i].rstrip("\r")) + ("\r" if lines[i].endswith("\r") else "")
            i += 1
            continue
        lines[i] = " " * len(lines[i].rstrip("\r")) + ("\r" if lines[i].endswith("\r") else "")
        for k in rows:
            said = _row_clauses(cells[k] or [], header)
            if len(said) - len(lines[k]) > budget:
                break
            budget -= max(0, len(said) - len(lines[k]))
            lines[k] = said + ("\r" if lines[k].endswith("\r") else "")
        i = rows[-1] + 1 if gap >= 0 else i + 1
    budget = _checked_tables(lines, budget)
    budget = _column_tables(lines, names, budget)
    budget = _listed_rows(lines, names, budget)
    budget = _paired_rows(lines, names, budget)
    _verdict_rows(lines, names, budget)
    return "\n".join(lines)


#: an organ no finding is named by, in a column of organs beside the spleen or the liver ("Liver | Spleen |
#: Kidneys⏎normal | enlarged | normal" was not read, probe93 D16)
_OTHER_ORGAN = re.compile(
    r"(?:(?:left|right|both|bilateral)[ \t]+)?(?:kidneys?|gall[ \t]?bladder|pancreas|adrenals?(?:[ \t]+glands?)?|"
    r"(?:urinary[ \t]+)?bladder|bowel|stomach|thyroid(?:[ \t]+gland)?|heart|lungs?|bones?|aorta|portal[ \t]+vein|"
    r"uterus|ovar(?:y|ies)|prostate|brain|почк\w{0,2}|желчн\w{0,3}[ \t]+пузыр\w{0,2}|поджелудочн\w{0,3}[ \t]+"
    r"желез\w{0,2}|надпочечник\w{0,2}|мочев\w{0,3}[ \t]+пузыр\w{0,2}|щитовидн\w{0,3}[ \t]+желез\w{0,2}|"
    r"желуд\w{0,2}|кишечник\w{0,2}|сердц\w{0,2}|л[её]гк\w{0,3}|аорт\w{0,2}|кост\w{0,3}|матк\w{0,2}|"
    r"бүйрек\w{0,4}|ұйқы[ \t]+безі|қалқанша[ \t]+без\w{0,2}|жүрек\w{0,3}|өкпе\w{0,3}|сүйек\w{0,4})",
    re.IGNORECASE,
)


def _column_tables(lines: list[str], names: Callable[[str], bool], budget: int) -> int:
    """A table whose header row names the findings and whose row under it answers each (probe92 D17:
    "Splenomegaly | Ascites | Pleural effusion⏎no | no | no" read every finding present): the header goes
    (blanked), each answer row becomes "Splenomegaly: no. Ascites: no. Pleural effusion: no." Only a header
    of two cells or more, each a finding's short name (or, beside one at least, an organ no finding is named
    by: "Liver | Spleen | Kidneys", probe93 D16), over rows of as many cells, each a row's answer
    (:func:`_row_answer`), a no-answer ("N/A") or empty, one answering at least (a markdown rule between, or a
    blank line: an HTML table's rows). After the first, a column may be headed by something else ("Comment",
    "Date"): its cell is kept as written."""
    i = 0
    while i < len(lines):
        header = _cells(lines[i])
        if (
            header is None
            or not 2 <= len(header) <= _MAX_COLUMNS
            or not all(len(c) <= _MAX_LABEL_CELL and _pair_label(c) for c in header)
            or not any(_finding_cell(c, names) for c in header)
            or any(_STATEMENT_WORD.search(c) for c in header)
        ):
            i += 1
            continue
        # a column headed by something else - "Comment", "Date", "Visual acuity", "Retinal haemorrhages" - keeps
        # its cell as written: only the findings' and organs' columns must answer (probe95 D15: "Papilloedema |
        # Comment⏎absent | discs sharp" left the header unread, read as "Papilloedema: Comment", present)
        answered = [bool(_finding_cell(c, names) or _OTHER_ORGAN.fullmatch(c.rstrip(":"))) for c in header]
        if not answered[0]:  # "Chest | Pleural effusion⏎Abdomen | No": a first column of sites labels rows
            i += 1
            continue
        k = i + 1
        if k < len(lines) and _RULE_LINE.fullmatch(lines[k]):
            k += 1
        rows: list[tuple[int, list[str]]] = []
        while k < len(lines):
            # an HTML table's rows arrive a blank line apart (probe95 D14: its column table was not read)
            if not lines[k].strip() and k + 1 < len(lines) and lines[k + 1].strip():
                k += 1
            row = _cells(lines[k])
            if row is None or len(row) != len(header):
                break
            answers = [
                (_column_answer(c, row, names) if asks else c.rstrip(" .")) if c.rstrip(" .") else ""
                for c, asks in zip(row, answered, strict=True)
            ]
            if any(
                a is None and not _NO_ANSWER_CELL.fullmatch(c.rstrip(" .")) for a, c in zip(answers, row, strict=True)
            ):
                break
            if not any(a for a, asks in zip(answers, answered, strict=True) if asks):
                break
            rows.append((k, [a if a is not None else c.rstrip(" .") for a, c in zip(answers, row, strict=True)]))
            k += 1
        if not rows:
            if _header_alone(lines, i, header, answered, names):  # an unfilled template states nothing (probe97 D5)
                lines[i] = _clause_line(lines[i], " " * len(lines[i].rstrip("\r")))
            i += 1
            continue
        for j in range(i, rows[0][0]):  # the header (and its rule): no finding of its own
            lines[j] = _clause_line(lines[j], " " * len(lines[j].rstrip("\r")))
        for k, said_of in rows:
            said = " ".join(
                f"{c.rstrip(':')}: {in_script_of(c, a) if a else '?'}." for c, a in zip(header, said_of, strict=True)
            )
            if len(said) - len(lines[k]) > budget:
                return budget
            budget -= max(0, len(said) - len(lines[k]))
            lines[k] = _clause_line(lines[k], said)
        i = rows[-1][0] + 1
    return budget


#: a column's name that is no finding and no verdict: what a table of findings asks besides ("Comment", "Date")
_COLUMN_NAME = re.compile(
    r"(?:comments?|notes?|remarks?|dates?|results?|findings?|values?|details?|description|status|grade|severity|"
    r"degree|size|volume|measurements?|location|site|side|previous|prior|current|baseline|change|follow[ -]?up|"
    r"visual[ \t]+acuity|retinal[ \t]+ha?emorrhages?|exudates|cotton[ \t]+wool[ \t]+spots|macula|vessels|"
    r"комментари[йи]|примечани[ея]|дата|результаты?|описание|размеры?|степень|локализация|статус|"
    r"түсініктеме|ескерту|күні|нәтиже|сипаттама|өлшемі)",
    re.IGNORECASE,
)


def _header_alone(
    lines: list[str], at: int, header: list[str], named: list[bool], names: Callable[[str], bool]
) -> bool:
    """Whether the column header at line ``at`` is a header with no rows: a header of a table left unfilled
    ("Papilloedema | Comment", "Ascites | Pleural effusion", a header row at the end of a text: read as
    "Papilloedema: Comment", present, probe97 D5). Each cell names a finding, an organ or a column
    (:data:`_COLUMN_NAME`) - a verdict ("Spleen | enlarged", "Ascites | small volume") is a row - and the next
    line with words, a few lines ahead at most (linear), is no table row, or a row of empty cells."""
    if not all(asks or _COLUMN_NAME.fullmatch(c.rstrip(":")) for c, asks in zip(header, named, strict=True)):
        return False
    if not any(_finding_cell(c, names) for c in header) or any(
        _answered_field(c) or _DENIAL_WORD.search(c) for c in header
    ):  # "Ascites - no | Splenomegaly - no" is a row of fields
        return False
    for k in range(at + 1, min(at + 4, len(lines))):
        if _RULE_LINE.fullmatch(lines[k]):
            continue
        row = _cells(lines[k])
        if row is not None and not any(row):
            continue
        if lines[k].strip(" \t\r\u00a0"):
            return row is None
    return True


#: a "+" / "-" cell of a row that holds a "+": the table's yes and no (probe93 D12: "Splenomegaly | Ascites⏎- |
#: +" read both present)
_PLUS_MINUS = {"+": "yes", "-": "no", "—": "no", "–": "no", "−": "no"}


def _column_answer(cell: str, row: list[str], names: Callable[[str], bool]) -> str | None:
    """The answer a column table's cell gives its column's finding: a row's answer (:func:`_row_answer`), a
    "+" or "-" where the row holds a "+", or a verdict, degree or size that names no finding of its own -
    "enlarged", "small", "moderate", "16 cm" (probe93 D11, D12: "Spleen | Liver⏎enlarged | normal" was not
    read, "Sclerotic lesions | Ascites⏎no | small" left the "no" unread and the lesions present)."""
    said = cell.rstrip(" .")
    if said in _PLUS_MINUS and any(c.strip(" .") == "+" for c in row):
        return _PLUS_MINUS[said]
    answer = _row_answer(cell)
    if answer is not None or said in _PLUS_MINUS:
        return answer
    if _describes(said, names) or (
        _VERDICT_CELL.fullmatch(said) is not None and not _finding_cell(re.split(r"[,(]", said)[0].strip(), names)
    ):
        return said
    return None


#: an organ's verdict in a row's second cell: "enlarged", "enlarged, 16 cm", «увеличена», "normal size"
_VERDICT_CELL = re.compile(r"[^\W\d_][^\n\t|:;!?]{0,39}")


def _verdict_rows(lines: list[str], names: Callable[[str], bool], budget: int) -> int:
    """A row of two cells, an organ or a finding and what is said of it, as the field it is: "Spleen |
    enlarged" -> "Spleen: enlarged." (probe92 D21: read as two cells, no phrase; "Spleen: enlarged" is
    splenomegaly). Only a short label naming a finding (its key word) and a short second cell, starting with
    a word, that names none of its own; bare answers are :func:`table_rows`' ("Ascites | no")."""
    for k, line in enumerate(lines):
        lead = _sentence_lead(line)
        row = _cells(line[lead:])
        if row is None or len(row) != 2:
            continue
        label, cell = row[0], row[1].rstrip(" .")
        if (
            not _pair_label(label)
            or not names(label)
            or _VERDICT_CELL.fullmatch(cell) is None
            or _row_answer(cell) is not None
            or _NO_ANSWER_CELL.fullmatch(cell)
            or _finding_cell(re.split(r"[,(]", cell)[0].strip(), names)
        ):
            continue
        said = line[:lead] + f"{label.rstrip(':')}: {cell}."
        grown = _rewrite(lines, k, said, budget)
        if grown is None:
            break
        budget = grown
    return budget


def _clause_line(line: str, said: str) -> str:
    """A row's line rewritten as ``said``, its carriage return kept."""
    return said + ("\r" if line.endswith("\r") else "")


def _rewrite(lines: list[str], k: int, said: str, budget: int) -> int | None:
    """Line ``k`` rewritten as ``said`` (its carriage return kept) and the growth budget left, or None - the
    line left as it is - where the text would grow past the budget (the rewriting stays linear)."""
    line = lines[k]
    if len(said) - len(line) > budget:
        return None
    lines[k] = _clause_line(line, said)
    return budget - max(0, len(said) - len(line))


def _listed_rows(lines: list[str], names: Callable[[str], bool], budget: int) -> int:
    """A row that lists findings and then one bare answer: each finding takes the answer (probe89 D4:
    "Sclerotic lesions | Ascites | none", «… | нет», an HTML row "…<TAB>Not seen" read the first findings
    as present) - "Sclerotic lesions: none. Ascites: none." Only where every cell before the last names a
    finding ("Spleen | 16 cm | no" is left as it is); a cell that states its finding (a number, predicate or
    place) keeps its statement and ends its sentence, the findings after it take the answer ("Sclerotic lesion
    in L2. Ascites: no."), the bare findings before it take nothing - "Ascites | Splenomegaly 16 cm | no" does
    not say which the "no" answers: "Ascites: ?." (probe90 D12); a doubt answer doubts each ("? (possible)"),
    "normal", "unremarkable", "no evidence" deny each (probe90 D7). A row after a sentence on its line
    ("Sclerotic lesion in L2. Splenomegaly | Ascites | nil") is read from the sentence's end (probe90 D6)."""
    for k, line in enumerate(lines):
        lead = _sentence_lead(line)
        row = _cells(line[lead:])
        if row is None or not 3 <= len(row) <= _MAX_COLUMNS:
            continue
        answer = _row_answer(row[-1])
        if answer is None or not all(c and len(c) <= _MAX_LABEL_CELL and _finding_cell(c, names) for c in row[:-1]):
            continue
        # the findings just before the answer take it; a cell before them that states its finding ("Sclerotic
        # lesion in L2") keeps its statement, a sentence of its own (its "| Ascites | no" read the ascites present)
        first = len(row) - 1
        while first > 0 and not _STATEMENT_WORD.search(row[first - 1]):
            first -= 1
        if first == len(row) - 1 and not any(not _STATEMENT_WORD.search(c) for c in row[:-1]):
            continue
        # ... and a positive answer states them either way: "Ascites | Splenomegaly 16 cm | yes" (probe92 D6)
        # ("seen", «есть», «бар» are as positive: probe93 D8)
        positive = _polarity(answer) is True or _CHECK_YES.fullmatch(answer) is not None
        stated = [
            (c if c.endswith(".") else c + ".")
            if _STATEMENT_WORD.search(c)
            else f"{c.rstrip(':')}: {in_script_of(c, answer) if positive else '?'}."
            for c in row[:first]
        ]
        said = " ".join(stated + [f"{c.rstrip(':')}: {in_script_of(c, answer)}." for c in row[first:-1]])
        said = line[:lead] + said
        grown = _rewrite(lines, k, said, budget)
        if grown is None:
            break
        budget = grown
    return budget


#: a sentence's end before a row or fields on the same line: a full stop, "?", "!" or ";" and white space
_SENTENCE_END = re.compile(r"[.?!;][ \t\u00a0]+(?=[^\W\d_])")


def _sentence_lead(line: str) -> int:
    """Where a row on ``line`` starts: after the last sentence end before its first separator (a tab or a
    pipe) - "Sclerotic lesion in L2. Splenomegaly | Ascites | nil" - or 0 (probe90 D6: the sentence and the
    first cell were read as one stated cell and the row's first finding as present)."""
    cut = min((i for i in (line.find("\t"), line.find("|")) if i >= 0), default=-1)
    if cut <= 0:
        return 0
    ends = list(_SENTENCE_END.finditer(line, 0, cut))
    return ends[-1].end() if ends else 0


#: a row's answer that says the finding is not there in other words (probe90 D7: "Splenomegaly | Ascites |
#: unremarkable" read both present)
_NORMAL_CELL = re.compile(
    rf"{_NORMAL_WORDS}|no[ \t]+evidence"
    # ... and the words that deny every finding of the row (probe92 D16: "no evidence of either", "none of these",
    # "normal study" read each finding present)
    r"(?:[ \t]+of[ \t]+(?:either|any|both|these|them|the[ \t]+above))?|none[ \t]+of[ \t]+(?:these|them|the[ \t]+above)|"
    r"neither|(?:normal|unremarkable|negative)[ \t]+(?:study|examination|exam|scan|findings?|result)|"
    r"ни[ \t]+того,?[ \t]+ни[ \t]+другого|(?:нет|не[ \t]+выявлен\w{0,2})[ \t]+ни[ \t]+того,?[ \t]+ни[ \t]+другого|"
    r"(?:без[ \t]+патологи\w{0,2}|патологи\w{0,2}[ \t]+не[ \t]+выявлен\w{0,2})",
    re.IGNORECASE,
)


def _row_answer(cell: str) -> str | None:
    """The answer a row's last cell gives each finding before it, or None for a cell that is no answer: a
    bare yes/no as written, a doubt as "? (word)", a "normal" as "no"."""
    answer = cell.rstrip(" .")
    if not answer or _NO_ANSWER_CELL.fullmatch(answer):
        return None
    if _NORMAL_CELL.fullmatch(answer):
        return "нет" if _CYRILLIC_WORD.search(answer) else "no"
    if _CHECK_YES.fullmatch(answer):  # «есть», «имеется», «бар», "seen" (probe92 D22)
        return answer
    if not _bare_answer(answer):
        return None
    return f"? ({answer})" if _HEDGE_CELL.fullmatch(answer) and answer != "?" else answer


def _paired_rows(lines: list[str], names: Callable[[str], bool], budget: int) -> int:
    """A row of fields side by side, each field's label cell followed by its answer's: "Splenomegaly | no |
    Ascites | yes", "Ascites<TAB>no<TAB>Pleural effusion<TAB>no<TAB>…" -> "Splenomegaly: no. Ascites: yes."
    (probe90 D6, D7: read as written, the first "no" denied the next finding and the first finding stood).
    Only a row of four cells or more, every other one a short label and at least one of them a finding's
    name answered as :func:`_row_answer` answers (yes/no, a doubt, "normal", «есть»). The other answers may
    say how much or where ("Sclerotic lesions | L2 | Ascites | no", "Splenomegaly | normal | Ascites |
    moderate") and a label may name no finding ("Splenomegaly | no | Comment | see previous CT"): each pair is
    its own field (probe92 D13, D14, D15 - the row was read as written and a "no" lost or misplaced)."""
    for k, line in enumerate(lines):
        lead = _sentence_lead(line)
        row = _cells(line[lead:])
        if row is None or len(row) < 4 or len(row) % 2 or len(row) > 2 * _MAX_COLUMNS:
            continue
        labels, cells = row[0::2], row[1::2]
        if not all(_pair_label(c) for c in labels):
            continue
        finding = [_finding_cell(c, names) for c in labels]
        answers = [_row_answer(c) for c in cells]
        said_of = [
            a
            if a is not None
            else c.rstrip(" .")
            if _NO_ANSWER_CELL.fullmatch(c.rstrip(" .")) or (not f and c and len(c) <= _MAX_LABEL_CELL)
            else c.rstrip(" .")
            if _describes(c, names)
            else None
            for c, a, f in zip(cells, answers, finding, strict=True)
        ]
        if not all(said_of) or not any(f and a is not None for f, a in zip(finding, answers, strict=True)):
            continue
        said = line[:lead] + " ".join(
            f"{c.rstrip(':')}: {in_script_of(c, a or '')}." for c, a in zip(labels, said_of, strict=True)
        )
        grown = _rewrite(lines, k, said, budget)
        if grown is None:
            break
        budget = grown
    return budget


#: a side-by-side field's label: a few words, no answer, no sentence punctuation
_PAIR_LABEL = re.compile(r"[^\W\d_][^\n\t|:.;!?]{0,59}:?")


def _pair_label(cell: str) -> bool:
    return (
        _PAIR_LABEL.fullmatch(cell) is not None
        and len(cell.split()) <= _MAX_LABEL_WORDS
        and not _answers(cell)
        and not _NORMAL_CELL.fullmatch(cell)
    )


#: an answer that says how much, how many or where: "16 cm", "L2, L4", "moderate", "multiple"
_DESCRIBING_CELL = re.compile(r"[^\n\t|:;!?]{1,30}")


def _describes(cell: str, names: Callable[[str], bool]) -> bool:
    """A short answer cell that names no finding of its own (a measure, a site, a degree, a count)."""
    return bool(cell) and _DESCRIBING_CELL.fullmatch(cell) is not None and not _finding_cell(cell, names)


#: a cell of one word that says how many, how much or what state - a key word of some finding's phrase, but
#: no finding's name ("multiple" of "multiple myeloma", "enlarged", «множественные»): "Sclerotic lesions |
#: multiple | Splenomegaly | no" read "multiple" as a finding and gave the lesions the "no" (probe92 D14) - also
#: after a degree ("mildly enlarged", «умеренно увеличена»: "Spleen | mildly enlarged" was not read, probe93 D16)
_QUALITY_CELL = re.compile(
    # ... or denied: "not enlarged", «не увеличена» ("Spleen | not enlarged" was not read, probe97 D10)
    r"(?:(?:not|не)[ \t]{1,3})?"
    r"(?:(?:mildly|moderately|markedly|slightly|massively|grossly|significantly|minimally|borderline|very|"
    r"diffusely|умеренно|значительно|незначительно|резко|слегка|несколько|немного|выраженно|диффузно|сәл|"
    r"біршама|айтарлықтай)[ \t]{1,3})?"
    r"(?:multiple|numerous|several|many|single|solitary|few|enlarged|increased|diffuse|focal|mild|moderate|marked|"
    rf"massive|small|large|trace|{_SIZE_WORDS}|"
    r"множественн\w{0,3}|многочисленн\w{0,3}|единичн\w{0,3}|увеличен\w{0,3}|"
    r"диффузн\w{0,3}|очагов\w{0,3}|ұлғайған|ұлғаймаған|көптеген)\.?",
    re.IGNORECASE,
)


def _finding_cell(cell: str, names: Callable[[str], bool]) -> bool:
    """A cell that names a finding: a key word of one, and not a bare degree, count, verdict or "normal"."""
    return (
        names(cell)
        and _QUALITY_CELL.fullmatch(cell) is None
        and _NORMAL_CELL.fullmatch(cell.rstrip(" .")) is None
        and not _answers(cell)
    )


#: the first cell of a check-mark table's header: the column of findings, or nothing ("Finding | Present |
#: Absent")
_FINDING_COLUMN = re.compile(
    r"(?:finding|feature|sign|item|parameter|symptom|criterion|признак|находк|показател|симптом|критери|"
    r"белгі|көрсеткіш)\w{0,4}|",
    re.IGNORECASE,
)
#: a check-mark column that says yes in words no field answers with («Есть», «Имеется», «Бар»)
_CHECK_YES = re.compile(r"есть|имеется|бар|seen|noted", re.IGNORECASE)
#: a check mark in a cell: "X", "✓", "+", "☒"
_MARK_CELL = re.compile(r"[xXхХ✓✔☑☒✅+*•vV]")


#: a check-mark cell that marks nothing ("", "-", "0", "no", "✗") and one that marks its column ("X", "✓", "+",
#: "1", "yes"): probe90 D3 - "- | X", "no | yes", "0 | 1" rows stopped the table, and the rows read as stated
_UNMARKED = frozenset({"", "-", "–", "—", "0", "no", "нет", "жоқ", "✗", "✘", "o", "о"})
_MARKED_WORDS = frozenset({"1", "yes", "да", "иә", "ия"})


def _unmarked(cell: str) -> bool:
    return cell.strip().lower() in _UNMARKED


def _marked(cell: str) -> bool:
    return bool(_MARK_CELL.fullmatch(cell.strip())) or cell.strip().lower() in _MARKED_WORDS


def _checked_tables(lines: list[str], budget: int) -> int:
    """A check-mark table (probe89 D12): a header "Finding | Present | Absent" whose cells after the first
    are answers, rows "Ascites |  | X" with a mark under one of them - the mark's column is the row's answer,
    "Ascites: Absent."; no mark, or more than one: "Ascites: ?." (not answered: possible, never present).
    Read as written, the row stated its finding. Rows are read while they are rows of at most the header's
    cells, each cell after the first empty or a mark (HTML rows arrive a blank line apart). The header row
    goes, rows or not: alone, its "Absent" denied the line under it ("Splenomegaly 16 cm")."""
    i = 0
    while i < len(lines):
        header = _cells(lines[i])
        if (
            header is None
            or not 3 <= len(header) <= _MAX_COLUMNS
            or not _FINDING_COLUMN.fullmatch(header[0].rstrip(":"))
            or not all(c and len(c) <= 30 and (_answers(c) or _CHECK_YES.fullmatch(c)) for c in header[1:])
            or not any(_polarity(c) is not None or _CHECK_YES.fullmatch(c) for c in header[1:])
        ):
            i += 1
            continue
        rows, k = [], i + 1
        if k < len(lines) and _RULE_LINE.fullmatch(lines[k]):  # a markdown rule under the header
            k += 1
        while k < len(lines):
            row = _cells(lines[k])
            if row is None:
                if lines[k].strip(" \t\r\u00a0") or k + 1 >= len(lines) or _cells(lines[k + 1]) is None:
                    break
                k += 1  # one blank line between two rows
                continue
            if (
                len(row) > len(header)
                or not row[0]
                or len(row[0]) > _MAX_LABEL_CELL
                or not all(_unmarked(c) or _marked(c) for c in row[1:])
            ):
                break
            rows.append((k, row))
            k += 1
        nxt = next((line for line in lines[i + 1 :] if line.strip(" \t\r\u00a0")), None)
        if not rows and nxt is not None and _cells(nxt) is not None:
            i += 1  # a header over rows that are no mark rows is left as written (probe90 D3, D4)
            continue
        # the header is no finding: blanked, with its rows or alone (its "Absent" headed the next line)
        lines[i] = _clause_line(lines[i], " " * len(lines[i].rstrip("\r")))
        if not rows:
            i += 1
            continue
        if rows[0][0] > i + 1 and _RULE_LINE.fullmatch(lines[i + 1]):
            lines[i + 1] = _clause_line(lines[i + 1], " " * len(lines[i + 1].rstrip("\r")))
        for k, row in rows:
            marked = [header[j] for j in range(1, len(row)) if _marked(row[j])]
            # the column first, as a lead-in ("Absent: Sclerotic lesion in L2."): an answer after a located or
            # measured finding did not reach it ("…in L2: Absent." read present, probe90 D4)
            label = row[0].rstrip(":")
            said = f"{marked[0].rstrip(' .')}: {label}." if len(marked) == 1 else f"{label}: ?."
            if len(said) - len(lines[k]) > budget:
                return budget
            budget -= max(0, len(said) - len(lines[k]))
            lines[k] = _clause_line(lines[k], said)
        i = rows[-1][0] + 1
    return budget


def _is_header(row: list[str], names: Callable[[str], bool]) -> bool:
    """A row that looks like a header: its first cell names the column of sites (or is empty), the cells
    after it name a finding, in short cells, none answers and none states a finding (a number, a predicate,
    a place: "Sclerotic lesion in L2" is a row, probe76 D1). When in doubt, no header."""
    return (
        _SITE_COLUMN.fullmatch(row[0].rstrip(":")) is not None
        and all(c and not _answers(c) for c in row[1:])
        and all(len(c) <= _MAX_HEADER_CELL for c in row)
        and any(names(c) for c in row[1:])
        and not any(names(c) and _STATEMENT_WORD.search(c) for c in row[1:])
    )


def _alone(lines: list[str], cells: list[list[str] | None], at: int) -> bool:
    """Whether the header at line ``at`` has no rows: the next line with words (after a markdown rule) is
    no table row, or there is none. Looked at a few lines ahead only (linear)."""
    for k in range(at + 1, min(at + 4, len(lines))):
        row = cells[k]
        if row is not None and _RULE_LINE.fullmatch("|".join(row)):
            continue
        if lines[k].strip(" \t\r\u00a0"):
            return row is None
    return True


def _data_rows(
    cells: list[list[str] | None], at: int, header: list[str], names: Callable[[str], bool]
) -> tuple[list[int], int]:
    """The rows under the header at line ``at`` and the blank lines between two rows (0 or 1, the same
    all through): none unless the first row answers under a column whose header names a finding."""
    rows: list[int] = []
    gap = -1
    k = at + 1
    while k < len(cells):
        step = 1 if cells[k] is not None else 2
        if step == 2 and (k + 1 >= len(cells) or cells[k + 1] is None or gap == 0):
            break
        if gap >= 0 and step - 1 != gap:
            break
        row = cells[k + step - 1] or []
        if _RULE_LINE.fullmatch("|".join(row)) and not rows:  # a markdown rule under the header
            k += step
            continue
        if len(row) > len(header) or len(row[0]) > _MAX_LABEL_CELL:
            break
        if _is_header(row, names) and rows:  # the next table's header
            break
        if not rows and not any(
            names(h) and _answers(row[j] if j < len(row) else "") for j, h in enumerate(header) if j
        ):
            break
        gap = step - 1
        rows.append(k + step - 1)
        k += step
    return rows, gap


def _row_clauses(row: list[str], header: list[str]) -> str:
    """ "L2 | Yes | No" under "Site | Sclerotic lesion | Lytic lesion" -> "L2: Sclerotic lesion: Yes. L2:
    Lytic lesion: No." (a cell left out or empty: "?")."""
    label = row[0].rstrip(":")
    said = []
    for j, column in enumerate(header[1:], start=1):
        cell = (row[j] if j < len(row) else "").rstrip(" .") or "?"
        if _HEDGE_CELL.fullmatch(cell) and cell != "?":  # a doubt: possible, its word kept
            cell = f"? ({cell})"
        said.append(f"{label + ': ' if label else ''}{column.rstrip(':')}: {cell}.")
    return " ".join(said)


#: a cell that leads into the next one: it ends in a denial or a word that needs more ("No", "Not
#: identified", "Negative for", "without"), or a label's colon
_LEADS_ON = re.compile(
    r"(?:^|[\s(])(?:(?:no|without|nor|neither|of|for|with|and|or|the|a|an|to|нет|без|и|или|для|за|жоқ|және)|"
    r"(?:not|не)(?:[ \t]+[^\W\d_]+)?)[ \t]*$|[:,(/-][ \t]*$",
    re.IGNORECASE,
)


def _bare_answer(cell: str) -> bool:
    """A cell that is an answer and says no more: "No", "Yes, 12 mm", "No (bone island)", "?", "N/A" -
    not "No ascites" (a statement of its own)."""
    yes_no = _NEGATIVE_ANSWER.match(cell) or _POSITIVE_ANSWER.match(cell)
    if yes_no:
        return re.match(r"[ \t]*[^\W\d_]", cell[yes_no.end() :]) is None
    return _answers(cell)


#: a cell that says something of its own: a denial, a number or a predicate
_STATES_SOMETHING = re.compile(
    r"\d|\b(?:no|not|none|without|absent|negative|is|are|was|were|seen|noted|present|enlarged|нет|не|без|"
    r"отсутству\w{0,4}|определя\w{0,4}|выявлен\w{0,2}|увеличен\w{0,2}|жоқ)\b",
    re.IGNORECASE,
)


#: a cell that is a whole field: a short label, its mark (a colon, a dash, "=") and a bare answer
_FIELD_CELL = re.compile(r"(?P<label>[^\W\d_][^\n\t|:.;!?=]{0,60}?)[ \t]*(?::|[-–—=])[ \t]*(?P<answer>[^\t|]{1,30})")


def _answered_field(cell: str) -> bool:
    """ "Pleural effusion: no", "Ascites - none", «Асцит: нет»: a label of a few words answered yes or no."""
    m = _FIELD_CELL.fullmatch(cell.strip(" \t\r\u00a0"))
    return (
        m is not None
        and len(m.group("label").split()) <= _MAX_LABEL_WORDS
        and _polarity(m.group("answer")) is not None
        and _bare_answer(m.group("answer").strip())
    )


def cell_breaks(text: str) -> str:
    """Cells of a row that each state something end a sentence at their tab or pipe: "No ascites<TAB>Splenomegaly
    16 cm" (an HTML row, its cells a tab apart) read as no splenomegaly (probe76 D4). A full stop goes
    before the tab where the cell before states a phrase of its own and the cell after starts one with a
    word; never after a cell that answers or leads on ("No", "Not identified", "Ascites:") nor before an
    answer ("Pleural effusion<TAB>No" is a field) or a number ("Spleen<TAB>16 cm"). The text grows by one
    character a break, two before a pipe with no space before it (the line is looked at once: linear)."""
    if "\t" not in text and "|" not in text:
        return text
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if "\t" not in line and "|" not in line:
            continue
        parts = re.split(r"([\t|])", line)  # cells and, between them, their separators (a pipe too)
        cells, seps = parts[0::2], parts[1::2]
        for k in range(len(cells) - 1):
            left, right = cells[k].rstrip(" \r"), cells[k + 1].strip(" \r")
            field = _answered_field(left)
            if (
                not right
                or not right[0].isalpha()
                or not any(c.isalpha() for c in left)
                # a pipe only after a cell that states something of its own (a denial, a measure): "Sclerotic
                # lesions | Lytic lesions | not seen" lists findings under one answer (probe88 D2)
                # ... and before one that states its own: "Negative for splenomegaly | ascites | pleural effusion"
                # is one denied list (probe90 D5)
                # ... or after a whole field, a label and its bare answer ("Pleural effusion: no | Ascites: no":
                # its "no" led on and denied the next cell's finding, its own stood, probe97 D1)
                or (
                    seps[k] == "|"
                    and not (_STATES_SOMETHING.search(left) and _STATES_SOMETHING.search(right))
                    and not field
                )
                or left.endswith((".", "!", "?", ";"))
                or _bare_answer(left.strip())
                or _bare_answer(right)
                or (_LEADS_ON.search(left[-60:]) and not field)
            ):
                continue
            # the full stop ends the sentence before whitespace: a tab, or the space before a pipe (one added)
            trailing = cells[k][len(left) :]
            cells[k] = left + "." + (trailing if trailing or seps[k] == "\t" else " ")
        lines[n] = "".join(c + (seps[k] if k < len(seps) else "") for k, c in enumerate(cells))
    return "\n".join(lines)


#: a markdown row's border: a pipe before its first cell or after its last one, spaces around it
_BORDER_PIPE = re.compile(r"^([ \t\u00a0]*)\||\|(?=[ \t\u00a0\r]*$)", re.MULTILINE)


def row_borders(text: str) -> str:
    """The pipes at a markdown row's ends ("| Ascites: no | Pleural effusion: no |") and a rule line under
    its header ("|---|---|") become spaces, once the table rewrites have read them (probe100 D2: the last
    cell's "no" before its border pipe denied nothing, the row read a pleural effusion present, while the
    same row without its borders read right). At the same length; linear (one pass)."""
    if "|" not in text:
        return text
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if "|" not in line:
            continue
        if _RULE_LINE.fullmatch(line):
            lines[n] = re.sub(r"[^\r]", " ", line)
            continue
        lines[n] = _BORDER_PIPE.sub(lambda m: (m.group(1) or "") + " ", line)
    return "\n".join(lines)


#: a row's first cell that names what the row measures: a few words, no number, no denial or lead-in
_MEASURED_LABEL = re.compile(r"[^\W\d_][^\d\t|:.;!?]{0,40}")
_DENIAL_WORD = re.compile(r"\b(?:no|not|none|without|negative|absent|нет|не|без|жоқ|емес)\b", re.IGNORECASE)
_MAX_MEASURED_CELL = 40


def measured_rows(text: str) -> str:
    """A row that names an organ and says what was found, "Spleen | 16 cm | enlarged", "Spleen | enlarged"
    (tabs or pipes), reads as "Spleen: 16 cm, enlarged" - the cells cut the organ from its word (probe71:
    such a row was no finding). Only a row of a plain label and one cell or more, each short and none an
    answer (those are fields, see table_rows); at the same length (a separator becomes a colon or a comma)."""
    if "\t" not in text and "|" not in text:
        return text
    lines = text.split("\n")
    for n, line in enumerate(lines):
        cells = _cells(line)
        if cells is None or len(cells) < 2 or len(cells) > _MAX_COLUMNS:
            continue
        label, rest = cells[0], cells[1:]
        if (
            not _MEASURED_LABEL.fullmatch(label)
            or len(label.split()) > _MAX_LABEL_WORDS
            or _DENIAL_WORD.search(label)
            or not all(c and len(c) <= _MAX_MEASURED_CELL and not _bare_answer(c) for c in rest)
            # a measure among its cells ("16 cm"): "Sclerotic lesions | Lytic lesions | not seen" is a row of
            # findings under one answer, not an organ and what was found (probe88 D2)
            or not any(c[0].isdigit() for c in rest)
        ):
            continue
        seps = [i for i, ch in enumerate(line) if ch in "\t|"]
        body = line.strip(" \r\u00a0")
        chars = list(line)
        if body.startswith("|"):  # the row's borders are no separators
            chars[seps.pop(0)] = " "
        if body.endswith(("|", "\t")):
            chars[seps.pop()] = " "
        for k, i in enumerate(seps):
            chars[i] = ":" if k == 0 else ","
        lines[n] = "".join(chars)
    return "\n".join(lines)


#: text struck through in markdown ("~~Splenomegaly~~", and HTML's <del>/<s>/<strike> as attachment.html_text writes
#: them): within one line, at most a few hundred characters (bounded: linear)
_STRUCK = re.compile(r"~~(?=\S)[^~\n]{1,300}?~~")


def struck_out(text: str) -> str:
    """Struck-through words blanked at the same length: an item crossed off a problem list ("1. ~~Splenomegaly~~ -
    CT normal", "<li><del>Ascites</del></li>") is withdrawn by its writer, no finding (probe107 D10: read present)."""
    if "~~" not in text:
        return text
    return _STRUCK.sub(lambda m: " " * len(m.group()), text)


#: an organ measured, then the report's own normal range in a bracket: "Spleen 16 cm (normal < 12 cm)", "Spleen:
#: 16 cm (N up to 12 cm)", «Селезенка 16 см (норма до 12 см)» - the organ's words, a few words, the measure, the bracket
_NUM = r"\d{1,3}(?:[.,]\d{1,2})?"
_LENGTH_UNIT = r"(?:cm|mm|см|мм)"
_RANGED_MEASURE = re.compile(
    r"\b(?P<organ>spleen|splenic|liver|hepatic|селез[её]нк\w{0,3}|печен\w{0,3}|көкбауыр\w{0,4}|бауыр\w{0,4})\b"
    # the measure, a range of values ("12–14 cm": its upper value), its other dimensions
    rf"[^\n.;()\d]{{0,40}}?(?P<value>{_NUM})(?:[ \t]*(?:-|–|—|to)[ \t]*(?P<upper>{_NUM}))?"
    rf"(?:[ \t]*[x×х*][ \t]*{_NUM}){{0,2}}"
    r"[ \t]*(?P<unit>cm|mm|см|мм)\b"
    # the dimension's name ("in length", «по длине») and an earlier measure ("16 cm, previously 12 cm"; probe112 D6, D7)
    r"(?:[ \t]+(?:in[ \t]+(?:length|craniocaudal[ \t]+(?:length|dimension|diameter))|long|length|craniocaudal(?:ly)?|"
    r"по[ \t]+длине|длиной|в[ \t]+длину|ұзындығы))?"
    rf"(?:[ \t]*,?[ \t]*(?:previously|prior|before|was|earlier|ранее|прежде|бұрын)[^\n.;()\d]{{0,30}}?{_NUM}[ \t]*"
    rf"{_LENGTH_UNIT}\b)?"
    r"[ \t]*,?[ \t]*"
    # ... the bracket's normal in other words too: "(normal value 12 cm)", "(normal size …)", "(upper limit of normal
    # …)" (probe117 D5)
    r"\((?P<range>(?:normal(?:[ \t]+(?:range|values?|size|length|limit))?|upper[ \t]+(?:limit[ \t]+of[ \t]+normal|"
    r"normal[ \t]+limit|limit)|norm|n|ref(?:erence)?\.?(?:[ \t]+range)?|uln|норма|в[ \t]+норме|қалыпты|"
    # ... and in Russian: «(нормальное значение 12 см)», «(верхняя граница нормы 13 см)» (probe121 D8)
    r"нормальн\w*[ \t]+(?:значени\w*|размер\w*|длин\w*)|верхн\w*[ \t]+границ\w*[ \t]+норм\w*)"
    r"[ \t]*[:=]?[ \t]*(?:(?:<|≤|<=|up[ \t]+to|less[ \t]+than|under|до|менее|не[ \t]+более)[ \t]*|"
    # ... or the Kazakh postposition after the limit: «(қалыпты 12 см дейін)»
    rf"{_NUM}[ \t]*(?:-|–|to|до)[ \t]*|(?={_NUM}[ \t]*{_LENGTH_UNIT}?[ \t]*(?:дейін|шейін)\b)|"
    # ... or no comparator: an organ's normal size given as one length is its upper limit - "(normal 12 cm)", «(норма
    # 12 см)» (fix116b: the bracket's "normal" denied a 15 cm spleen); its unit written, so that "(n 12)" is no limit
    rf"(?={_NUM}[ \t]*{_LENGTH_UNIT}\b))"
    rf"(?P<limit>{_NUM})[ \t]*(?P<limit_unit>{_LENGTH_UNIT})?(?:[ \t]*(?:дейін|шейін))?"
    # ... and a few words after the limit: "(normal < 12 cm in adults)"
    r"(?:[ \t]+[^\W\d_][^()\d\n<>]{0,30}?)?[ \t]*)\)",
    re.IGNORECASE,
)
_MM = {"mm": 0.1, "мм": 0.1, "cm": 1.0, "см": 1.0}
_ENLARGED_IN = {"latin": "enlarged", "cyrillic": "увеличена", "kazakh": "ұлғайған"}


def ranged_measures(text: str) -> str:
    """An organ measured (its first dimension) above the upper limit of the normal range its report gives in a bracket
    reads as enlarged: "Spleen 16 cm (normal < 12 cm)" is "Spleen 16 cm (enlarged      )" at the same length
    (fix111a: the bracket's "normal" denied the spleen). The limit is the report's own, never one of ours: at or under it the bracket is read
    as written ("Spleen 11 cm (normal < 12 cm)" is a normal spleen)."""
    if "(" not in text:
        return text
    out: list[str] | None = None
    for m in _RANGED_MEASURE.finditer(text):
        unit = m.group("unit").lower()
        value = float((m.group("upper") or m.group("value")).replace(",", ".")) * _MM[unit]
        limit = float(m.group("limit").replace(",", ".")) * _MM[(m.group("limit_unit") or unit).lower()]
        if value <= limit:
            continue
        organ = m.group("organ").lower()
        word = _ENLARGED_IN["kazakh" if "бауыр" in organ else "cyrillic" if _CYRILLIC_WORD.search(organ) else "latin"]
        room = m.end("range") - m.start("range")
        if len(word) > room:
            continue
        out = out if out is not None else list(text)
        out[m.start("range") : m.end("range")] = list(word.ljust(room))
    return "".join(out) if out is not None else text


#: an organ's normal size at an earlier time, before today's verdict after a comma: "previously normal, now",
#: "normal on the prior study, now", «ранее нормальных размеров, сейчас», «ранее не увеличена, в настоящее время»,
#: Kazakh «бұрын қалыпты, қазір» (UNVERIFIED: not seen in real letters)
_EARLIER_WHEN = (
    r"(?:previously|before|earlier|formerly|initially|(?:on|at|in)\s+(?:the\s+)?(?:previous|prior|earlier|last|"
    r"baseline|initial)(?:\s+(?:study|exam(?:ination)?|ct|mri|scan|ultrasound|imaging))?|in\s+(?:19|20)\d\d|"
    r"ранее|прежде|раньше|(?:на|при)\s+(?:предыдущ|прошл|прежн|первичн)\w*(?:\s+(?:кт|мрт|узи|исследовани\w*))?|"
    r"бұрын)"
)
_NORMAL_SIZE = (
    r"(?:(?:of\s+)?normal(?:\s+(?:in\s+)?size|[\s-]sized)?|not\s+enlarged|within\s+normal\s+limits|unremarkable|"
    r"(?:нормальн|обычн)\w*\s+размер\w*|в\s+норме|в\s+пределах\s+нормы|не\s+увеличен\w*|нормальн\w*|норма\b|"
    r"қалыпты(?:\s+мөлшер\w*)?|ұлғаймаған)"
)
_TODAY_WORD = r"(?:now|currently|today|at\s+present|сейчас|теперь|в\s+настоящее\s+время|қазір)"
#: what parts the earlier verdict from today's: a comma, a semicolon or a spaced dash (fix139c: "previously normal;
#: now enlarged" was not read)
_THEN_TODAY = r"\s*(?:[,;]|\s[-–—])\s*(?:(?:but|and|а|но)\s+)?"
#: ... followed by today's enlargement or measure: "now enlarged", "now 19 cm", «сейчас увеличена», «қазір ұлғайған»
_TODAYS_ENLARGEMENT = (
    r"(?=(?:(?:mildly|moderately|markedly|slightly|massively|is|are)\s+)*(?:enlarged|\d)|"
    r"(?:(?:умеренно|незначительно|значительно|несколько|слегка|резко)\s+)?увеличен|ұлғай|\d)"
)
_EARLIER_NORMAL = (
    rf"(?<!\w)(?:{_EARLIER_WHEN}\s+(?:(?:was|were|is)\s+)?{_NORMAL_SIZE}|{_NORMAL_SIZE}\s+{_EARLIER_WHEN})"
)
_EARLIER_NORMAL_THEN_TODAY = re.compile(
    rf"(?P<earlier>{_EARLIER_NORMAL}{_THEN_TODAY}{_TODAY_WORD}\s+|"
    # ... or an aside in commas before the copula: "The spleen, previously normal, is now enlarged" (fix139c), its
    # commas with it
    rf",[ \t]*{_EARLIER_NORMAL}\s*,\s*(?:is|are)\s+{_TODAY_WORD}\s+){_TODAYS_ENLARGEMENT}",
    re.IGNORECASE,
)


def earlier_normal_size(text: str) -> str:
    """An organ's normal size at an earlier time before today's enlargement is left out of the sentence, at the same
    length: "Spleen: previously normal, now enlarged." reads as "Spleen:                        enlarged." - the
    enlargement is today's, the earlier normal only its history (probe126 G11: the earlier "normal" kept the organ
    and today's verdict apart, so the splenomegaly was lost); also after a semicolon or a dash, with a copula, as an
    aside ("The spleen, previously normal, is now enlarged.", fix139c). The reverse ("previously enlarged, now
    normal") is left as written: the engine reads it historical (``_of_an_earlier_time``)."""
    return _EARLIER_NORMAL_THEN_TODAY.sub(lambda m: " " * len(m.group("earlier")), text)


#: a finding's absence at an earlier time: "previously none", "absent previously", «ранее нет», «ранее не было», Kazakh
#: «бұрын жоқ» (UNVERIFIED: not seen in real letters)
_ABSENCE = (
    r"(?:no|none|nil|absent|not\s+(?:seen|present|detected|identified)|нет|не\s+было|отсутствовал\w*|"
    r"не\s+(?:выявлял|определял|отмечал|визуализировал)\w*|(?:болған\s+)?жоқ|болмаған)(?!\w)"
)
#: ... before today's presence: "now present", "now yes", "now moderate", «сейчас есть», «сейчас умеренный», «қазір бар»
_TODAYS_PRESENCE = (
    r"(?=(?:(?:is|are)\s+)?(?:present|yes|seen|noted|identified|detected|mild|mildly|moderate|small|large|massive|"
    r"marked|trace)\b|есть|имеется|имеются|определяется|определяются|выявлен|отмечается|отмечаются|умеренн|небольш|"
    r"незначительн|выраженн|значительн|массивн|бар\b|анықталды|анықталады|орташа|айқын)"
)
_EARLIER_ABSENCE_THEN_TODAY = re.compile(
    rf"(?<!\w)(?:{_EARLIER_WHEN}\s+{_ABSENCE}|{_ABSENCE}\s+{_EARLIER_WHEN}){_THEN_TODAY}{_TODAY_WORD}\s+"
    rf"{_TODAYS_PRESENCE}",
    re.IGNORECASE,
)
#: ... an absence in a year, «в 2021 г. не было», «не было в 2021 году», Kazakh «2021 жылы болған жоқ», or a past absence
#: alone, its tense the earlier time: «Асцита не было, сейчас есть» (fix141c C2: the past «не было» denies, so it
#: reached back to a finding present today; Kazakh UNVERIFIED) - only where today's word ends the clause: «…, сейчас
#: выявлена спленомегалия» states another finding, and the absence stays the sentence's first finding's
_IN_A_YEAR = r"(?:в\s+(?:19|20)\d\d(?:\s*г\.|\s*(?:года|году|год)(?!\w))?|(?:19|20)\d\d\s*ж(?:ылы(?!\w)|\.))"
_PAST_ABSENCE = r"(?:не\s+было|болған\s+жоқ)(?!\w)"
_DATED_ABSENCE_THEN_TODAY = re.compile(
    rf"(?<!\w)(?:{_IN_A_YEAR}\s+{_ABSENCE}|{_ABSENCE}\s+{_IN_A_YEAR}|{_PAST_ABSENCE}){_THEN_TODAY}{_TODAY_WORD}\s+"
    rf"{_TODAYS_PRESENCE}(?=\w*[ \t]*(?:[.;,)]|\r?$))",
    re.IGNORECASE | re.MULTILINE,
)


_ANY_TODAY_WORD = re.compile(_TODAY_WORD, re.IGNORECASE)


def earlier_absence(text: str) -> str:
    """A finding's absence at an earlier time before its presence today is left out of the sentence, at the same
    length: «Спленомегалия: ранее нет, сейчас есть.» reads as «Спленомегалия:                есть.» (fix140a A1:
    the earlier «нет,» reached back to the finding, which read absent) - present now, as "Spleen: previously normal,
    now enlarged" is (``earlier_normal_size``). The reverse ("previously present, now absent") is the engine's:
    historical (criteria.md §3.3, present at any time; a clinician dates it)."""
    if _ANY_TODAY_WORD.search(text) is None:  # most texts: one cheap look
        return text
    text = _EARLIER_ABSENCE_THEN_TODAY.sub(lambda m: " " * len(m.group()), text)
    return _DATED_ABSENCE_THEN_TODAY.sub(lambda m: " " * len(m.group()), text)


#: words no clause ends with: an article, a preposition, a conjunction, a denial before what it denies ("No evidence
#: of", "negative for", "There is no", «нет данных за», «Селезёнка не», "and", «и», «және»). Not «нет» (Russian puts
#: it last: «Асцита нет»), nor "evidence", «данных», "either", "negative" (they end a clause or answer: "Ascites:
#: negative", «Асцит: нет данных» - no data)
_OPEN_END_WORDS = frozenset(
    "a an the of for with without to by from as than into onto between including within in on at and or nor but "
    "no not is are was were been "
    "и или либо а но без с со в во на по для при из от до к о об за не ни "
    "және немесе мен бен пен".split()
)
#: ... and two words that end no clause either: «без признаков», «нет признаков» (without / no signs of)
_OPEN_END_PAIR = re.compile(r"(?<!\w)(?P<word>без|нет)\s+признаков$", re.IGNORECASE)
#: a paragraph break: a line end and at least one blank line (from the line end on: each is looked at once)
_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t\u00a0\r]*\n)+")
#: the last word of a line, white space after it (a whole word: the "a" of "segment 2a" is none)
_LAST_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?=[ \t\u00a0\r]*$)")
#: where a field's answer stands: after a colon, a tab, a pipe, "=", a question mark or a spaced dash
_ANSWER_SLOT = re.compile(r"(?:[:\t|=?]|\s[-–—])\s*$")


def open_paragraph_ends(text: str, names: Callable[[str], bool]) -> str:
    """A paragraph break after a word no clause ends with is one line break, at the same length: "No evidence
    of⏎⏎splenomegaly." reads as "No evidence of⏎ splenomegaly.", as the RTF reader's ``\\line`` does (probe138 G3:
    the blank line ended the sentence, the denial never reached its finding, the splenomegaly was present). A
    paragraph that ends a phrase ("Impression:", "No ascites.", «Асцита нет») still ends its sentence; a denial
    that answers a field ("Ascites: no", "Ascites no") is no open end. Each break is looked at once, with at most
    100 characters of the line before it: linear."""
    if "\n" not in text:
        return text
    out: list[str] | None = None
    for m in _PARAGRAPH_BREAK.finditer(text):
        line = text[max(0, m.start() - 100) : m.start()].rsplit("\n", 1)[-1]
        if open_end(line, names):
            out = out or list(text)
            # the first line end kept, the blank lines after it spaces: one line wrapped
            out[m.start() + 1 : m.end()] = " " * (m.end() - m.start() - 1)
    return "".join(out) if out is not None else text


def open_end(line: str, names: Callable[[str], bool]) -> bool:
    """Whether ``line`` ends in a word no clause ends with, not as a field's answer."""
    last = _LAST_WORD.search(line)
    if last is None:
        return False
    pair = _OPEN_END_PAIR.search(line[: last.end()])
    if pair is not None:
        # «Асцит: нет признаков» answers its field; «без признаков» is open wherever it stands
        return pair.group("word").lower() == "без" or not _ANSWER_SLOT.search(line[: pair.start()])
    if last.group().lower() not in _OPEN_END_WORDS:
        return False
    if last.group().lower() != "no":
        return True
    # "no" may be a field's answer: "There is no", "with no" are open; "No" alone, "Ascites: no", "Ascites<TAB>no",
    # "Ascites - no", "Ascites no" answer
    lead = line[: last.start()]
    words = re.findall(r"[^\W\d_]+", lead)
    return bool(words) and not _ANSWER_SLOT.search(lead) and not names(words[-1])


#: a line break inside a sentence and the blanks around it (no blank line: a paragraph break is
#: ``open_paragraph_ends``'s)
#: (from a run's first blank only: a long run of blanks is looked at once)
_LINE_BREAK_RUN = re.compile(r"(?<![ \t\u00a0\r])[ \t\u00a0\r]*\n[ \t\u00a0\r]*(?=[^\W\d_])")
#: a hyphen (also the typographic ones and a soft hyphen) right after a letter: the line before ends in it
_HYPHEN_END = re.compile(r"(?<=[^\W\d_])[-\u2010\u2011\u00ad]$")
#: a clause mark at the end of the line before: the line break after it parts nothing it does not
_CLAUSE_MARK_END = re.compile(r"[;,]$")
#: words that join two words: after a hyphen they make it a suspended one ("hepato- and splenomegaly",
#: «гепато- и спленомегалия»), no word cut in two
_JOINERS = frozenset("and or nor и или либо а және немесе мен бен пен".split())


def wrapped_line_breaks(sentence: str, names: Callable[[str], bool]) -> str:
    """A sentence's line breaks that part no clause, read as a space: after a word no clause ends with
    ("Ascites: not⏎seen."), after a semicolon or comma ("…sclerotic lesion in L2;⏎this statement is
    withdrawn.") - a line break is a token of its own to ConText, so a phrase cut by one ("not seen", ";
    this statement is withdrawn", ", X 16") was no phrase, and the finding read present (fix140a A3). After
    a hyphen the line break goes without a space: "IgG-⏎kappa" is "IgG-kappa" (a compound keeps its hyphen;
    a word cut in two, "as-⏎cites", is read joined in the text's second reading, ``line_end_hyphens``).
    Only inside a sentence the segmenter keeps whole: a list's lines are sentences of their own by then. A
    run of blanks around the break becomes one space (shorter: ConText reads two blanks as a token too)."""
    if "\n" not in sentence:
        return sentence

    def joined(m: re.Match[str]) -> str:
        before = sentence[max(0, m.start() - 100) : m.start()].rsplit("\n", 1)[-1]
        nxt = re.match(r"[^\W\d_]+", sentence[m.end() :])
        if _HYPHEN_END.search(before):
            return " " if nxt is not None and nxt.group().lower() in _JOINERS else ""
        if _CLAUSE_MARK_END.search(before) or open_end(before, names):
            return " "
        return m.group()

    return _LINE_BREAK_RUN.sub(joined, sentence)


#: a word cut at a line end by a hyphen: the fragment before it (two letters or more, no capital after its first:
#: not an abbreviation such as "IgG-", "CT-") and the rest of the word on the next line, in small letters
_CUT_WORD = re.compile(
    r"(?<![^\W\d_])(?P<head>[^\W\d_][^\W\d_A-ZА-ЯЁӘҒҚҢӨҰҮҺІ]+)[-\u2010\u2011\u00ad][ \t\u00a0\r]*\n[ \t\u00a0\r]*"
    r"(?P<tail>[a-zа-яёәғқңөұүһі][^\W\d_]*)"
)


#: a hyphen at a line end, blanks between
_HYPHEN_BREAK = re.compile(r"[-\u2010\u2011\u00ad][ \t\u00a0\r]*\n")


def line_end_hyphens(text: str) -> str | None:
    """The text with each word a hyphen cuts at a line end joined ("as-⏎cites" -> "ascites", «асци-⏎т» ->
    «асцит»), or None when there is none (fix140a A3: "Moderate as-⏎cites." named no finding). Whether the
    hyphen cuts a word or joins a compound ("non-⏎enlarged", "well-⏎defined") the text does not say: this
    is the text's second reading (the engine's ``_readings``), whose findings hold only for the targets it
    names - a compound joined wrongly names none. A hyphen before "and", «и» ("hepato- and splenomegaly")
    suspends a word: not joined. Shorter than the text: the hyphen and the line break go."""
    if _HYPHEN_BREAK.search(text) is None:  # most texts: one cheap look
        return None
    found = False

    def join(m: re.Match[str]) -> str:
        nonlocal found
        if m.group("tail").lower() in _JOINERS:
            return m.group()
        found = True
        return m.group("head") + m.group("tail")

    out = _CUT_WORD.sub(join, text)
    return out if found else None


#: blanks inside a line between two words or marks: a run of two or more (spaces, tabs, a no-break space, the
#: typographic spaces), or one blank other than a space
_INNER_BLANKS = re.compile(
    r"(?<=\S)(?:[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f]{2,}|[\t\u00a0\u1680\u2000-\u200a\u202f\u205f])(?=\S)"
)


def inner_blanks(sentence: str) -> str:
    """A candidate sentence's blanks between two words of a line read as one space: "Ascites:  not  seen.",
    "Negative  for splenomegaly", "Ascites: not<NBSP>seen." (fix141c C1: spaCy makes any blank but one space a
    token of its own, so a phrase it cut was no phrase - the denial was lost and the finding read present). The
    layout rewrites have read the line's columns by now ("Sclerotic lesions    no" is a field, "Spleen<TAB>16
    cm" a measured row, cells that each state something end a sentence at their tab: ``spaced_fields``,
    ``measured_rows``, ``cell_breaks``), so what is left of a wide gap parts no cells. Blanks at a line's start or
    end stay (a line break's own: ``wrapped_line_breaks``). Shorter: the quotes are cut from this text, as from
    the line break's (the evidence's summary reads every run of blanks as one space anyway)."""
    return _INNER_BLANKS.sub(" ", sentence)
