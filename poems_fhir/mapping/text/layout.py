# SPDX-License-Identifier: Apache-2.0
"""Report layouts that state a finding without a sentence, rewritten before ConText reads them.

Every rewrite keeps the text's length, so offsets (and the quotes cut from the original) still hold.

- Checkbox forms: "Ascites: [ ] yes [x] no", "Отеки ног: [ ] да [x] нет", "☐ present ☒ absent" -> the
  ticked answer alone ("Ascites: no"); none or several ticked -> "?" (not answered: possible, never
  present). Read as written, every form asserted its finding, whatever was ticked (probe61 D3).
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

_BOX = r"(?:\[\s*(?P<tick>[xX✓✔vV+*])?\s*\]|(?P<empty>☐)|(?P<ticked>[☑☒✅]))"
_OPTION = re.compile(_BOX + r"\s*(?P<answer>[^\[\]☐☑☒✅\n.;]*?)\s*(?=\[|☐|☑|☒|✅|[\n.;]|$)")
_FORM = re.compile(
    r"(?:"
    + _BOX.replace("?P<tick>", "?:").replace("?P<empty>", "?:").replace("?P<ticked>", "?:")
    + r"\s*[^\[\]☐☑☒✅\n.;]*?\s*){2,}(?=[\n.;]|$)"
)
_ANSWERED = re.compile(r"\?(?=\s*(?:no|yes|нет|да|жоқ|иә|ия)\b)", re.IGNORECASE)

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


def answered_forms(text: str) -> str:
    """Checkbox forms and "X? No." answers as plain answers, at the same length."""
    text = _FORM.sub(_ticked, text)
    return _ANSWERED.sub(":", text)


def _ticked(form: re.Match[str]) -> str:
    whole = form.group(0)
    ticked = [m.group("answer") for m in _OPTION.finditer(whole) if m.group("tick") or m.group("ticked")]
    said = ticked[0].strip() if len(ticked) == 1 and ticked[0].strip() else "?"
    return said.ljust(len(whole))[: len(whole)]


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
    return _EARLIER.sub(lambda m: " " * len(m.group(0)), text)
