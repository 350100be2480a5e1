# SPDX-License-Identifier: Apache-2.0
"""What a clinician reads, in their language: labels, the one-line "why" of each result, evidence
with a readable value, unit and date, the conclusion, the alerts and the CarePlan texts.

Built from ids, states and evidence (never by translating the engine's English ``reason``), so every
sentence is a catalog entry. Shared by the FHIR narrative, the conclusions and the HTML page, which
therefore agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..criteria.model import Assessment, CriterionResult, Evidence, State
from ..criteria.model import Classification
from ..criteria.pathway import Step, recorded_other_diagnosis
from ..criteria.profiles import get_profile
from ..criteria.timeline import escalation_window, whole_months, within_period
from ..mapping.values import parse_date
from ..criteria.response import ResponseAssessment, distinct_alerts
from ..criteria.risk import RiskFactor
from ..criteria.scope import ScopeDecision, raised_flags
from ..i18n import N_, Translator
from ..i18n.bibliography import cite
from ..i18n.vocabulary import agent_label, explain, has_term, label, sources

#: UCUM as sent -> how people write it (the msgid; catalogs localise it, e.g. "г/л")
UNITS: dict[str, str] = {
    "mL/min/{1.73_m2}": N_("mL/min/1.73 m²"),
    "mL/min/1.73m2": N_("mL/min/1.73 m²"),
    "10*9/L": N_("×10⁹/L"),
    "10*12/L": N_("×10¹²/L"),
    "10^9/L": N_("×10⁹/L"),
    "10^12/L": N_("×10¹²/L"),
    "g/L": N_("g/L"),
    "g/dL": N_("g/dL"),
    "mg/L": N_("mg/L"),
    "mg/dL": N_("mg/dL"),
    "pg/mL": N_("pg/mL"),
    "ng/mL": N_("ng/mL"),
    "mmol/L": N_("mmol/L"),
    "umol/L": N_("µmol/L"),
    "%": "%",
    "mm[Hg]": N_("mmHg"),
    "mg/(24.h)": N_("mg/24 h"),
    "nmol/L": N_("nmol/L"),
    "pmol/L": N_("pmol/L"),
    "mIU/L": N_("mIU/L"),
    "[IU]/L": N_("IU/L"),
    "U/L": N_("U/L"),
    "a": N_("years"),
    "kg": N_("kg"),
    "{ratio}": "",
}
#: Headings and phrases used inside f-strings (which gettext extraction cannot see into) are marked
#: here once; tests/i18n checks that every t._("...") literal in the package is in the catalogs.
UI = (
    N_("Classification"),
    N_("Missing, and deciding the classification"),
    N_("To do"),
    N_("Criteria and evidence"),
    N_("Criterion"),
    N_("Result"),
    N_("Date"),
    N_("Why (deciding evidence and rule)"),
    N_("Supporting features present (not counted by the rule)"),
    N_("Response at each restaging"),
    N_("Baseline: {date}."),
    N_("Clinical"),
    N_("Risk factors"),
    N_("Factor"),
    N_("What it predicts"),
    N_("Published factors only; no point score."),
    N_("Proposed care pathway (CarePlan proposal)"),
    N_("Proposal"),
    N_("Status"),
    N_("Why"),
    N_("Sources"),
    N_("Not raised (out of scope)"),
    N_("Timeline"),
    N_("No M-protein, free light chain or VEGF results to chart."),
    N_("No flags, work-up proposals, response or risk factors are shown (run with --all for the audit detail)."),
    N_("Domain"),
    N_("Values"),
    N_("No proposals."),
)
AXES = {
    "adrenal": N_("adrenal"),
    "thyroid": N_("thyroid"),
    "pituitary": N_("pituitary"),
    "gonadal": N_("gonadal"),
    "parathyroid": N_("parathyroid"),
    "pancreatic": N_("pancreatic (diabetes)"),
}
COMPONENTS = {"thrombocytosis": N_("thrombocytosis"), "polycythemia": N_("polycythaemia")}
SPECIMENS = {"plasma": N_("plasma"), "serum": N_("serum")}


def unit(t: Translator, raw: str | None) -> str:
    if not raw:
        return ""
    pretty = UNITS.get(raw)
    if pretty is None:  # unknown UCUM: at least drop the annotation braces and write powers readably
        pretty = re.sub(r"\{([^}]*)\}", r"\1", raw).replace("_", " ").replace("10*", "×10^")
        return pretty
    return t._(pretty) if pretty not in ("%", "") else pretty


def quantity(t: Translator, value: float, raw_unit: str | None) -> str:
    u = unit(t, raw_unit)
    return f"{t.number(value)} {u}".strip() if u != "%" else f"{t.number(value)}%"


#: The words the mapping layer adds around a source's display text (verification, flags, analyte names):
#: ours, so they are translated; the source's own text is quoted as recorded.
_VERIFICATION = {
    "confirmed": N_("confirmed"),
    "provisional": N_("provisional"),
    "unconfirmed": N_("unconfirmed"),
    "differential": N_("differential"),
    "refuted": N_("refuted"),
    "resolved": N_("resolved"),
    "inactive": N_("inactive"),
    "remission": N_("remission"),
    "active": N_("active"),
    "recurrence": N_("recurrence"),
    "relapse": N_("relapse"),
}
_FRAGMENTS: tuple[tuple[str, str], ...] = (
    (r"^serum M-protein\b", N_("serum M-protein")),
    (r"^serum immunofixation negative$", N_("serum immunofixation negative")),
    (r"^urine immunofixation negative$", N_("urine immunofixation negative")),
    (
        r"^urine immunofixation positive \(isotype not stated\)$",
        N_("urine immunofixation positive (isotype not stated)"),
    ),
    (
        r"^serum immunofixation positive \(isotype not stated\)$",
        N_("serum immunofixation positive (isotype not stated)"),
    ),
    (r"^urine M-protein\b", N_("urine M-protein")),
    (r"^serum immunofixation:", N_("serum immunofixation:")),
    (r"^urine immunofixation:", N_("urine immunofixation:")),
    (r"^hemoglobin\b", N_("haemoglobin")),
    (r"^platelets\b", N_("platelets")),
    (r"^hematocrit\b", N_("haematocrit")),
    (r"^abnormal FLC ratio\b", N_("abnormal FLC ratio")),
    (r"\(lambda excess\)", N_("(lambda excess)")),
    (r"\(kappa excess\)", N_("(kappa excess)")),
    (r"\(high\)$", N_("(high)")),
    (r"\(low\)$", N_("(low)")),
    (r"\bnot available \(not-performed\)$", N_("not performed")),
    # the caveat of an UNVERIFIED cut-off (the serum VEGF's) is the only place a reader is told (probe108 D3);
    # the VEGF's cut-off wherever the summary goes on (", interpretation L", probe138 G4's kind)
    (r"(?<=pg/mL )cut-off\b", N_("cut-off")),
    (
        r"\(an UNVERIFIED cut-off: confirm before clinical use\)",
        N_("(an UNVERIFIED cut-off: confirm before clinical use)"),
    ),
    (r"\(specimen unknown\)", N_("(specimen unknown)")),
    (r"\bcut-off$", N_("cut-off")),
    (r"\(plasma\)", N_("(plasma)")),
    (r"\(serum\)", N_("(serum)")),
    (r"\babnormal$", N_("abnormal")),
    (r"\bnormal$", N_("normal")),
)


def _our_words(t: Translator, text: str) -> str:
    text = re.sub(r"^vegf:", "VEGF:", text).replace(">=", "≥")
    if t.language == "en":
        return text
    text = _qualitative_words(t, text)
    m = re.search(r"\(([a-z-]+)(?:, ([a-z-]+))?\)$", text)
    if m and all(w in _VERIFICATION for w in m.groups() if w):
        words = ", ".join(t._(_VERIFICATION[w]) for w in m.groups() if w)
        text = text[: m.start()] + f"({words})"
    m = re.search(r"\((\w+) axis\)", text)
    if m and m.group(1) in AXES:
        text = text.replace(m.group(0), "(" + t._("{axis} axis").format(axis=t._(AXES[m.group(1)])) + ")")
    for pattern, msgid in _FRAGMENTS:
        text = re.sub(pattern, t._(msgid).replace("\\", "\\\\"), text)
    return _FROM_TEXT.sub(lambda m: _from_text(t, m), text)


#: a text the mapping layer quotes with repr(): the source's own words, kept as written in every language
_QUOTE = r"(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"

#: what the bracket after a value says about how it was read (mapping/extract.py _Ctx.evidence, values.py
#: normalise_unit/convert_value, results.py _read_text, _detected_or_weak_negative, _lookalike_code), part by
#: part (probe138 G4: "[read from text …; result read from the note …]" was English in a Russian report, and
#: the bracket at the end kept every "…$" fragment above from matching: "cut-off", "(high)", the UNVERIFIED caveat)
_BRACKET_PARTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"read from text (?P<text>{_QUOTE})"), N_("read from text {text}")),
    (
        re.compile(rf"result read from the note its value points to \((?P<pointer>{_QUOTE})\)"),
        N_("result read from the note its value points to ({pointer})"),
    ),
    (
        re.compile(rf"test identified by its name (?P<name>{_QUOTE}) only: lower confidence"),
        N_("test identified by its name {name} only: lower confidence"),
    ),
    (
        re.compile(rf"unit (?P<written>{_QUOTE}) read as (?P<unit>\S+) \(unit table\)"),
        N_("unit {written} read as {unit} (unit table)"),
    ),
    (
        re.compile(rf"unit (?P<written>{_QUOTE}) read as (?P<unit>\S+): a count per volume cannot be this result"),
        N_("unit {written} read as {unit}: a count per volume cannot be this result"),
    ),
    (
        re.compile(r"no unit: used for presence only, magnitude not used"),
        N_("no unit: used for presence only, magnitude not used"),
    ),
    (
        re.compile(r"a unit not convertible to the rule's: used for presence only, magnitude not used"),
        N_("a unit not convertible to the rule's: used for presence only, magnitude not used"),
    ),
    (
        re.compile(
            rf"code (?P<code>{_QUOTE}) read as (?P<folded>\S+): a letter of another script typed for its Latin lookalike"
        ),
        N_("code {code} read as {folded}: a letter of another script typed for its Latin lookalike"),
    ),
)
_Bracket = list[tuple[re.Match[str], str]]


def _bracket_parts(body: str) -> _Bracket | None:
    """The parts of a bracket the mapping layer wrote, or None where any part is not one of its own (a
    source's "[…]" is quoted as recorded, never rewritten)."""
    parts: _Bracket = []
    pos = 0
    while True:
        for pattern, msgid in _BRACKET_PARTS:
            m = pattern.match(body, pos)
            if m and (m.end() == len(body) or body.startswith("; ", m.end())):
                parts.append((m, msgid))
                break
        else:
            return None
        if m.end() == len(body):
            return parts
        pos = m.end() + 2


def _split_brackets(text: str) -> tuple[str, list[_Bracket]]:
    """The summary without the mapping layer's brackets at its end, and those brackets in order."""
    brackets: list[_Bracket] = []
    while text.endswith("]"):
        for start in reversed([m.start() for m in re.finditer(r" \[", text)]):
            parts = _bracket_parts(text[start + 2 : -1])
            if parts is not None:
                brackets.insert(0, parts)
                text = text[:start]
                break
        else:
            break
    return text, brackets


def _bracket_text(t: Translator, parts: _Bracket) -> str:
    """A bracket in the reader's words; the quoted source words and the UCUM and ICD codes as written."""
    if t.language == "en":
        return " [" + "; ".join(m.group(0) for m, _ in parts) + "]"
    return " [" + "; ".join(t._(msgid).format(**m.groupdict()) for m, msgid in parts) + "]"


#: how a result without a usable number was read (mapping/results.py ``qual_source``): its flag, coded value or
#: words, quoted or coded as the source sent them
_SOURCE = (
    rf"(?:interpretation (?P<flag>{_QUOTE}|[A-Za-z<>]+)|coded value (?P<coded>{_QUOTE}|[^\s,()]+)"
    rf"|valueBoolean (?P<boolean>True|False)|valueString (?P<said>{_QUOTE})|flag (?P<mark>{_QUOTE}) in the text)"
)
_SOURCES = {
    "flag": N_("interpretation {flag}"),
    "coded": N_("coded value {coded}"),
    "boolean": N_("valueBoolean {boolean}"),
    "said": N_("result text {said}"),
    "mark": N_("flag {mark} in the text"),
}
#: the mapping layer's words around such a result (mapping/extract.py _qual_text and its callers, _unitless_side,
#: _vegf_without_number, the M-protein's detected/not detected): "VEGF (specimen unknown) reported interpretation H,
#: no number" was English in a Russian report beside the translated "(specimen unknown)" (probe138 G4's kind)
_NO_NUMBER = re.compile(rf"{_SOURCE}, no number")
_SOURCE_ALONE = re.compile(rf"\({_SOURCE}\)$")
_IFE_HOW = re.compile(r"^(?P<specimen>serum|urine) immunofixation (?P<result>positive|negative) \((?P<how>.+)\)$")
_IFE_WORDS = {
    ("serum", "positive"): N_("serum immunofixation positive (isotype not stated; {how})"),
    ("urine", "positive"): N_("urine immunofixation positive (isotype not stated; {how})"),
    ("serum", "negative"): N_("serum immunofixation negative ({how})"),
    ("urine", "negative"): N_("urine immunofixation negative ({how})"),
}
_FLC_HOW = re.compile(
    r"^abnormal FLC ratio \((?P<excess>kappa excess|lambda excess|direction not stated); (?P<how>.+)\)$"
)
_EXCESS = {
    "kappa excess": N_("kappa excess"),
    "lambda excess": N_("lambda excess"),
    "direction not stated": N_("direction not stated"),
}
_REPORTED = re.compile(r"^(?P<vegf>VEGF \([^()]*\)) reported (?P<how>.+?)(?= within the lab's range$|$)")
_FLAGGED = re.compile(rf" flagged {_SOURCE}$")
_JUDGED_BY = re.compile(rf", judged by its {_SOURCE} only")
_OWN_RANGE = re.compile(r", judged against the lab's own range (?P<range>\S+) only")
#: "serum M-protein detected (valueString 'Detected')" (the M-protein's name is translated above, and agrees)
_DETECTED = re.compile(r"(?<=^serum M-protein|^urine M-protein) (?P<word>detected|not detected)(?= \(|$)")
_DETECTION = {"detected": N_("detected"), "not detected": N_("not detected")}


def _source(t: Translator, m: re.Match[str]) -> str:
    name = next(k for k in _SOURCES if m.group(k) is not None)
    return t._(_SOURCES[name]).format(**{name: m.group(name)})


def _how(t: Translator, text: str) -> str:
    """Every "<source>, no number" in ``text`` in the reader's words; anything else (a quoted source text) as is."""
    return _NO_NUMBER.sub(lambda m: t._("{source}, no number").format(source=_source(t, m)), text)


def _qualitative_words(t: Translator, text: str) -> str:
    """The mapping layer's words about a result read without a usable number, in the reader's language."""
    if _FROM_TEXT.search(text):
        return text  # a sentence quoted by the text engine: the source's words, its own bracket translated below
    m = _IFE_HOW.match(text)
    if m and (m.group("result") == "negative" or m.group("how").startswith("isotype not stated; ")):
        how = m.group("how").removeprefix("isotype not stated; ")
        return t._(_IFE_WORDS[m.group("specimen"), m.group("result")]).format(how=_how(t, how))
    m = _FLC_HOW.match(text)
    if m:
        return t._("abnormal FLC ratio ({excess}; {how})").format(
            excess=t._(_EXCESS[m.group("excess")]), how=_how(t, m.group("how"))
        )
    text = _REPORTED.sub(
        lambda m: m.group("vegf") + " " + t._("reported {how}").format(how=_how(t, m.group("how"))), text
    )
    text = re.sub(
        r"^(VEGF .*) within the lab's range$", lambda m: m.group(1) + " " + t._("within the lab's range"), text
    )
    text = _how(t, text)
    text = _FLAGGED.sub(lambda m: " " + t._("flagged {source}").format(source=_source(t, m)), text)
    text = _JUDGED_BY.sub(lambda m: ", " + t._("judged by its {source} only").format(source=_source(t, m)), text)
    text = _OWN_RANGE.sub(
        lambda m: ", " + t._("judged against the lab's own range {range} only").format(range=m.group("range")), text
    )
    text = _SOURCE_ALONE.sub(lambda m: f"({_source(t, m)})", text)
    text = re.sub(r"^(VEGF .*), " + _SOURCE + "$", lambda m: m.group(1) + ", " + _source(t, m), text)
    text = re.sub(r"(?<=\d) without a unit\b", " " + t._("without a unit"), text)
    text = text.replace("(a unit not convertible to the rule's)", t._("(a unit not convertible to the rule's)"))
    text = _DETECTED.sub(lambda m: " " + t._(_DETECTION[m.group("word")]), text)
    return _unread_words(t, text)


#: the other words the mapping layer says of a result as a whole (mapping/extract.py): a result on record but
#: not read (its problem stays as listed, a technical message), one not available (its FHIR dataAbsentReason
#: code as sent), an equivocal band, a clone reported before a negative, a finding on examination
_UNREAD = re.compile(r": on record, not read \((?P<problem>.*)\)$")
_NOT_AVAILABLE = re.compile(r": not available \((?P<reason>(?!not-performed\))[^()]*)\)$")
_EQUIVOCAL = re.compile(r"^(?P<what>(?:serum|urine) (?:immunofixation|M-protein)) equivocal(?=: | \(|$)")
_EQUIVOCAL_WORDS = {
    "serum immunofixation": N_("serum immunofixation equivocal"),
    "urine immunofixation": N_("urine immunofixation equivocal"),
    "serum M-protein": N_("serum M-protein equivocal"),
    "urine M-protein": N_("urine M-protein equivocal"),
}
_BEFORE = re.compile(
    rf"^(?P<specimen>serum|urine) immunofixation negative now, (?P<named>[^()]+) reported before \((?P<said>{_QUOTE})\)$"
)
_BEFORE_WORDS = {
    "serum": N_("serum immunofixation negative now, {named} reported before ({said})"),
    "urine": N_("urine immunofixation negative now, {named} reported before ({said})"),
}
_EXAMINATION = re.compile(r" (?P<said>present|absent) on examination$")
_EXAMINATION_WORDS = {"present": N_("present on examination"), "absent": N_("absent on examination")}


def _unread_words(t: Translator, text: str) -> str:
    text = _UNREAD.sub(lambda m: ": " + t._("on record, not read ({problem})").format(problem=m.group("problem")), text)
    text = _NOT_AVAILABLE.sub(lambda m: ": " + t._("not available ({reason})").format(reason=m.group("reason")), text)
    text = _EQUIVOCAL.sub(lambda m: t._(_EQUIVOCAL_WORDS[m.group("what")]), text)
    text = _BEFORE.sub(
        lambda m: t._(_BEFORE_WORDS[m.group("specimen")]).format(named=m.group("named"), said=m.group("said")), text
    )
    return _EXAMINATION.sub(lambda m: " " + t._(_EXAMINATION_WORDS[m.group("said")]), text)


#: what the text engine adds to a quoted sentence: "(from report text, conclusion; negated ('No'))" (probe108 D3:
#: the negation that made a criterion absent was English in a Russian report). The FHIR element it was read from
#: is said in the reader's words (probe137 D3: «из текста заключения, conclusion» - the README promises every word a
#: clinician reads in the language; the path stays in the JSON output and the Provenance for traceability)
_FROM_TEXT = re.compile(
    r"\(from (report text|text), ((?:the name of local code )?[^\s;()]+)"
    # the element ends the bracket or a context label follows: "(from text, see note)" quoted from a source is not ours
    r"(?:(?=\))|; (negated|possible|hypothetical|historical|family)\b)"
)
_FROM = {"report text": N_("from report text"), "text": N_("from text")}
#: the elements the text engine reads (mapping/extract.py, documents.py), most specific first, as the place
#: a clinician knows: "from the report's conclusion", not "conclusion"
_ELEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"conclusion$"), N_("from the report's conclusion")),
    (re.compile(r"presentedForm\[\d+\]$"), N_("from the report's attached text")),
    (re.compile(r"content\[\d+\]\.attachment$"), N_("from the attached document")),
    (re.compile(r"(?:component\[\d+\]\.)?note\[\d+\]$"), N_("from a note")),
    (re.compile(r"(?:component\[\d+\]\.)?valueString$"), N_("from the result's text")),
    (re.compile(r"code\.text$"), N_("from the name as recorded")),
    (re.compile(r"code\.coding\[\d+\]\.display$"), N_("from the code's display name")),
    (re.compile(r"the name of local code \S+$"), N_("from the name of a local code")),
)
_CONTEXT_LABELS = {
    "negated": N_("negated"),
    "possible": N_("possible"),
    "hypothetical": N_("hypothetical"),
    "historical": N_("historical"),
    "family": N_("family history"),
}


def _from_text(t: Translator, m: re.Match[str]) -> str:
    said = f"({_read_from(t, m.group(1), m.group(2))}"
    return said + (f"; {t._(_CONTEXT_LABELS[m.group(3)])}" if m.group(3) else "")


def _read_from(t: Translator, origin: str, element: str) -> str:
    """Where a quoted sentence was read, in the reader's words; an element no table row knows keeps its FHIR
    path, marked as one (a technical reference, never passed off as a word of the language)."""
    for pattern, msgid in _ELEMENTS:
        if pattern.match(element):
            return t._(msgid)
    return t._("{origin}, FHIR element {element}").format(origin=t._(_FROM[origin]), element=element)


def evidence_text(t: Translator, e: Evidence) -> str:
    """The source's own display text, with its value in the reader's number format and a readable unit,
    and the words the mapping layer added in the reader's language."""
    head, brackets = _split_brackets(e.summary.strip())
    text = _our_words(t, head)
    if e.value is not None:
        raw = f"{e.value:g} {e.unit}".strip() if e.unit else f"{e.value:g}"
        nice = quantity(t, e.value, e.unit)
        text = text.replace(raw, nice) if raw in text else f"{text}: {nice}" if nice not in text else text
    # other values' units written inside the text (a cut-off, a reference range), longest first
    # and their numbers in the reader's format too: "1,500 pg/mL ≥ 1,000 pg/mL", not "≥ 1000" (probe38 D19)
    for raw_unit in sorted(UNITS, key=len, reverse=True):
        if raw_unit and raw_unit != "%" and raw_unit in text:
            suffix = (" " + unit(t, raw_unit)) if unit(t, raw_unit) else ""

            def reformat(m: re.Match[str], suffix: str = suffix) -> str:
                return t.number(float(m.group(1))) + suffix

            text = re.sub(rf"(?<![\d.,])(\d+(?:\.\d+)?) {re.escape(raw_unit)}(?![\w/])", reformat, text)
    # the bracket after the numbers: its quotes are the source's words, not reformatted ("'1500 pg/mL'")
    return text + "".join(_bracket_text(t, parts) for parts in brackets)


def deciding_evidence(r: CriterionResult) -> tuple[Evidence, ...]:
    """Present: the earliest dated fact that made it present first; otherwise the latest facts first - but a
    clone doubted for its free-light-chain ratio alone shows that ratio first (probe108 D5: it was the one
    left out as "and 1 more" behind the two negative immunofixations)."""
    dated = sorted(r.evidence, key=lambda e: (e.effective or dt.date.min, e.reference))
    ordered = tuple(dated) if r.state is State.PRESENT else tuple(reversed(dated))
    if r.retest == "ratio_only":
        ordered = tuple(sorted(ordered, key=lambda e: e.value is None))
    return ordered


def missing_work_up(t: Translator, r: CriterionResult) -> str:
    """What to do for a missing criterion, as the CarePlan's work-up activity says it: the repeat of a
    low-grade negative or the marrow of a ratio-only clone where that is what is proposed (probe108 D5: the
    tests on record were proposed again), else the criterion's work-up."""
    if r.retest and r.retest != "unread" and has_term("retest", f"{r.criterion}:{r.retest}"):
        return label(t, "retest", f"{r.criterion}:{r.retest}")
    return label(t, "workup", r.criterion)


def deciding_date(r: CriterionResult) -> dt.date | None:
    for e in deciding_evidence(r):
        if e.effective:
            return e.effective
    return None


def _after(reason: str, marker: str) -> list[str]:
    if marker not in reason:
        return []
    tail = reason.split(marker, 1)[1]
    return [x.strip() for x in re.split(r",| and ", tail.split(";")[0]) if x.strip()]


def _axes(t: Translator, names: Sequence[str]) -> str:
    return ", ".join(t._(AXES[n]) if n in AXES else n for n in names)


def state_key(r: CriterionResult) -> str:
    """The state as shown: an absence only by the diabetes/thyroid caveat is shown as such, never as the
    "Absent" of an exclusion (criteria.md §5 ABSENT_BY_CAVEAT, "report separately")."""
    return "absent_by_caveat" if r.state is State.ABSENT and r.caveat else r.state.value


_BETWEEN = re.compile(
    r"(?P<how>above|flagged above) the lab's (?:upper reference )?limit(?: \((?P<limit>[^)]*)\))? but below the "
    r"(?P<specimen>serum|plasma) diagnostic cut-off \((?P<cut>[^)]*)\)"
)


def _number_and_unit(t: Translator, text: str) -> str:
    """ "1000 pg/mL" in the reader's format ("1 000 пг/мл"); anything else as written."""
    number = re.match(r"([\d.]+(?:e[+-]?\d+)?)(.*)", text)
    if not number:
        return text
    return t.number(float(number.group(1))) + (
        " " + unit(t, number.group(2).strip()) if number.group(2).strip() else ""
    )


def _vegf_between(t: Translator, reason: str) -> str | None:
    """The VEGF reasons of criteria.md §4 that are no conflict: a value or flag between the lab's limit
    and the diagnostic cut-off, an unknown specimen between the two cut-offs, a censored value across the
    cut-off (probe38 D10: all read "Conflicting or low-grade evidence")."""
    m = _BETWEEN.search(reason)
    if m:
        specimen = t._(m.group("specimen"))
        cut = _number_and_unit(t, m.group("cut"))
        if m.group("limit"):
            return t._(
                "Above the lab's upper reference limit ({limit}) but below the diagnostic cut-off for {specimen} "
                "({cutoff}): a lab's limit is assay-specific, not diagnostic."
            ).format(limit=_number_and_unit(t, m.group("limit")), specimen=specimen, cutoff=cut)
        return t._(
            "Flagged above the lab's limit but below the diagnostic cut-off for {specimen} ({cutoff}): a lab's "
            "limit is assay-specific, not diagnostic."
        ).format(specimen=specimen, cutoff=cut)
    if "above the lab's upper reference limit but below the diagnostic cut-offs" in reason:
        return t._(
            "Above the lab's upper reference limit but below the diagnostic cut-offs (specimen type unknown): a "
            "lab's limit is assay-specific, not diagnostic."
        )
    if "specimen type unknown and the value lies between the plasma and serum cut-offs" in reason:
        return t._("Specimen type unknown, and the value lies between the plasma and the serum cut-off.")
    if "censored value straddles the cut-off" in reason:
        return t._('A result given as a bound ("<" or ">") that lies on both sides of the cut-off.')
    if "VEGF above the lab's limit without a comparable number" in reason:
        return t._(
            "Above the lab's limit without a number: a lab's limit is assay-specific and lower than the "
            "diagnostic cut-off."
        )
    return None


def rule(t: Translator, r: CriterionResult) -> str:
    """One sentence: why this criterion has this state."""
    reason = r.reason
    if r.state is State.PRESENT:
        if reason.startswith("abnormal axes:"):
            return t._("Abnormal endocrine axes: {axes}.").format(axes=_axes(t, _after(reason, "abnormal axes:")))
        return t._("Recorded at some time up to the data cut-off.")
    if r.state is State.ABSENT:
        if r.caveat:
            text = (
                t._("Thyroid disease alone does not satisfy this criterion.")
                if r.caveat == "thyroid_only"
                else t._("Diabetes alone does not satisfy this criterion.")
            )
            untested = _after(reason, "not assessed:")
            if untested:
                text += " " + t._("Not tested yet: {axes}.").format(axes=_axes(t, untested))
            return text
        if reason.startswith("all endocrine axes normal"):
            return t._("All endocrine axes normal.")
        return t._("Excluded by an adequate test.")
    if reason.startswith("conflicting clinician statements"):
        return t._("Conflicting clinician statements: asserted, then refuted.")
    if reason.startswith("low-grade negative only"):
        return t._("Only a low-grade negative test (such as plain radiographs): it cannot exclude this criterion.")
    if reason.startswith("endocrinopathy recorded without"):
        return t._("Endocrinopathy recorded without an identifiable axis: the diabetes/thyroid rule cannot be checked.")
    if reason.startswith("partial endocrine work-up"):
        return t._("Partial endocrine work-up, no abnormal axis. Not tested yet: {axes}.").format(
            axes=_axes(t, _after(reason, "not assessed:"))
        )
    if r.state is State.NOT_ASSESSED and r.retest == "unread":
        return t._(
            "A result is on record but could not be read (its unit or value): have it corrected at the source; until "
            "then this criterion is not assessed."
        )
    if reason.startswith("test not performed"):
        return t._("Test ordered but not performed.")
    if reason == "no data":
        return t._("No test recorded.")
    parts = [p for p in COMPONENTS if p in reason]
    if parts and reason.endswith("not assessed"):
        missing = [p for p in parts if p in reason.split(";")[-1]]
        excluded = [p for p in parts if p not in missing]
        text = t._("Not assessed: {parts}.").format(parts=", ".join(t._(COMPONENTS[p]) for p in missing))
        if excluded:
            text = t._("Excluded: {parts}.").format(parts=", ".join(t._(COMPONENTS[p]) for p in excluded)) + " " + text
        return text
    vegf = _vegf_between(t, reason)
    if vegf:
        return vegf
    if r.state is State.INDETERMINATE and r.retest == "ratio_only":
        ratio = next((e for e in deciding_evidence(r) if e.value is not None), None)
        return t._(
            "Only the free-light-chain ratio is abnormal (FLC ratio {ratio}), serum and urine immunofixation "
            "negative: kidney disease or a polyclonal rise can shift the ratio; a bone-marrow examination decides."
        ).format(ratio=t.number(ratio.value) if ratio is not None and ratio.value is not None else "-")
    if r.state is State.INDETERMINATE:
        return t._("Conflicting or low-grade evidence; needs a better test.")
    return t._("No adequate test recorded; not the same as absent.")


@dataclass(frozen=True)
class Notice:
    """An alert or flag, worded for people: label, explanation, source, evidence references."""

    kind: str  # "alert" | "flag"
    code: str
    label: str
    explanation: str
    cite: str
    evidence: tuple[str, ...]


def _after_radiotherapy(t: Translator, progressed: dt.date, ended: dt.date) -> str:
    """A progression after radiotherapy, counted in whole calendar months; the 3-6-month rule is quoted only
    inside its window (probe111 D9). A course known only to its month or year "completed in" it, not "on"
    it (probe113 D3: "completed on Mar 2022"); a progression within that year or month is said to be in it, not
    "0 months after" it - the course may have ended after it (fix120b)."""
    period = within_period(ended, progressed)
    if period == "year":
        return t._(
            "Seen on {progressed}, in {ended}, the year the radiotherapy was completed: how many months after it is "
            "not known (progression 3 to 6 months after radiotherapy calls for systemic therapy); review the need "
            "for systemic therapy."
        ).format(progressed=t.date(progressed), ended=t.date(ended))
    if period == "month":  # less than a month after it, if after it: before the rule's window
        return t._(
            "Seen on {progressed}, in {ended}, the month the radiotherapy was completed, before the 3 to 6 months "
            "of the escalation rule: review the need for systemic therapy."
        ).format(progressed=t.date(progressed), ended=t.date(ended))
    months = whole_months(ended, progressed)
    opens, closes = escalation_window(ended)
    inside = opens <= progressed <= closes
    if getattr(ended, "precision", None):
        message = (
            t.n_(
                "Seen on {progressed}, {months} month after the radiotherapy completed in {ended}: "
                "progression 3 to 6 months after radiotherapy calls for systemic therapy.",
                "Seen on {progressed}, {months} months after the radiotherapy completed in {ended}: "
                "progression 3 to 6 months after radiotherapy calls for systemic therapy.",
                months,
            )
            if inside
            else t.n_(
                "Seen on {progressed}, {months} month after the radiotherapy completed in {ended}, "
                "outside the 3 to 6 months of the escalation rule: review the need for systemic therapy.",
                "Seen on {progressed}, {months} months after the radiotherapy completed in {ended}, "
                "outside the 3 to 6 months of the escalation rule: review the need for systemic therapy.",
                months,
            )
        )
    else:
        message = (
            t.n_(
                "Seen on {progressed}, {months} month after the radiotherapy completed on {ended}: "
                "progression 3 to 6 months after radiotherapy calls for systemic therapy.",
                "Seen on {progressed}, {months} months after the radiotherapy completed on {ended}: "
                "progression 3 to 6 months after radiotherapy calls for systemic therapy.",
                months,
            )
            if inside
            else t.n_(
                "Seen on {progressed}, {months} month after the radiotherapy completed on {ended}, "
                "outside the 3 to 6 months of the escalation rule: review the need for systemic therapy.",
                "Seen on {progressed}, {months} months after the radiotherapy completed on {ended}, "
                "outside the 3 to 6 months of the escalation rule: review the need for systemic therapy.",
                months,
            )
        )
    return message.format(progressed=t.date(progressed), months=months, ended=t.date(ended))


def notices(
    t: Translator, a: Assessment, response: ResponseAssessment | None, scope: ScopeDecision | None
) -> list[Notice]:
    """Alerts (response) first, then flags; out of scope nothing is raised."""
    out: list[Notice] = []
    if scope is not None and not scope.in_scope:
        return out
    for alert in distinct_alerts(response.alerts) if response else ():
        out.append(
            Notice(
                "alert",
                alert.code,
                label(t, "alert", alert.code),
                explain(t, "alert", alert.code)
                + (
                    # (a date ending in "г." before the full stop: i18n.Message.format writes one stop)
                    " "
                    + t._("Recorded on {progressed}; treatment begun on {begun}.").format(
                        progressed=t.date(alert.days[0]), begun=t.date(alert.days[1])
                    )
                    if alert.code == "progression_before_treatment" and len(alert.days) == 2
                    else ""
                )
                + (
                    # after a completed radiotherapy only (probe108 D12: said to patients who never had any)
                    " " + _after_radiotherapy(t, alert.days[0], alert.days[1])
                    if alert.code == "radiologic_progression" and len(alert.days) == 2
                    else ""
                )
                + (
                    " " + t._("Given: {agents}.").format(agents=", ".join(agent_label(t, x) for x in alert.agents))
                    if alert.agents
                    else ""
                ),
                sources("alert", alert.code),
                alert.evidence,
            )
        )
    for flag in raised_flags(a, scope) if scope else a.flags:
        out.append(
            Notice(
                "flag",
                flag.code,
                label(t, "flag", flag.code),
                explain(t, "flag", flag.code),
                sources("flag", flag.code),
                tuple(e.reference for e in flag.evidence),
            )
        )
    return out


def criteria_in_profile(a: Assessment) -> list[str]:
    return [c.value for c in get_profile(a.profile).criteria]


def classification_line(t: Translator, a: Assessment) -> str:
    profile = label(t, "profile", a.profile)
    return t._("{classification} ({profile}).").format(
        classification=label(t, "classification", a.classification.value), profile=profile
    )


def not_labelled(t: Translator, a: Assessment) -> str | None:
    """Beside a recorded myeloma, AL amyloidosis or IgM neuropathy (pathway.recorded_other_diagnosis) the
    rule's "met" is no POEMS diagnosis (criteria.md §7: "must NOT be labelled POEMS"): said next to the
    classification wherever it is shown (probe49 D5, probe53: "Classification: MET" stood alone)."""
    refs = set(recorded_other_diagnosis(a)) if a.classification is Classification.MET else set()
    if not refs:
        return None
    names = [label(t, "flag", f.code) for f in a.flags if any(e.reference in refs for e in f.evidence)]
    return t._(
        "Not labelled POEMS syndrome: {diagnoses} - a recorded diagnosis that explains these findings otherwise; "
        "the criteria are met by the rule only, for a clinician to weigh."
    ).format(diagnoses="; ".join(dict.fromkeys(names)))


def present_list(t: Translator, a: Assessment) -> str:
    names = [label(t, "criterion", c) for c in criteria_in_profile(a) if a.criteria[c].state is State.PRESENT]
    return ", ".join(names) or t._("none")


def conclusion(
    t: Translator, a: Assessment, response: ResponseAssessment | None = None, scope: ScopeDecision | None = None
) -> str:
    """DiagnosticReport.conclusion: alerts first, the classification, what is present, what is missing."""
    parts = [f"{n.label}: {n.explanation}" for n in notices(t, a, response, scope)]
    parts.append(classification_line(t, a) + " " + explain(t, "classification", a.classification.value))
    if (caveat := not_labelled(t, a)) is not None:
        parts.append(caveat)
    parts.append(t._("Present: {items}.").format(items=present_list(t, a)))
    if a.missing:
        parts.append(
            t._("Missing, and deciding: {items}.").format(
                items="; ".join(
                    f"{label(t, 'criterion', m.criterion)} ({missing_work_up(t, a.criteria[m.criterion])})"
                    for m in a.missing
                )
            )
        )
    if a.clinician_assertions:
        parts.append(t._("A clinician's POEMS diagnosis is recorded separately and was not used as evidence."))
    parts.append(disclaimer(t))
    return " ".join(parts)


def disclaimer(t: Translator) -> str:
    return t._("Decision support generated by software; not verified by a clinician.")


def data_cutoff(a: Assessment, measurements: Sequence[Any] = ()) -> dt.date | None:
    """The data cut-off a result is stated at: the --as-of date, else the newest criterion evidence
    or measurement (anything with ``effective``). One rule for the page, the narrative and the
    report's effectiveDateTime, so a report never names two."""
    if a.as_of:
        return a.as_of
    dates = [e.effective for r in a.criteria.values() for e in r.evidence if e.effective]
    dates += [m.effective for m in measurements if m.effective]
    return max(dates) if dates else None


def response_line(t: Translator, r: ResponseAssessment, restaging: dt.date | None = None) -> str:
    def shown(h: Any) -> str:  # a CR lacking the ratio or the marrow is provisional in both frameworks
        return label(t, "hematologic", h.category) + (" " + t._("(provisional)") if h.provisional else "")

    vegf = label(t, "vegf", r.vegf.category)
    if r.vegf.unpaired is not None and r.vegf.baseline is not None:
        vegf += " (" + unpaired_vegf_text(t, r.vegf) + ")"
    last = r.vegf.latest
    if last is not None and last.value is not None and restaging and last.effective and last.effective < restaging:
        # a VEGF older than the restaging the report describes says when it was measured: "VEGF normalised"
        # beside an overdue VEGF read as current (probe64 D3)
        vegf += (
            " ("
            + t._("{value} on {date}").format(
                value=_censored(t, last) + quantity(t, _upper(last), last.unit), date=t.date(last.effective)
            )
            + ")"
        )
    text = t._(
        "Haematological: {amyloid} (amyloidosis criteria), {imwg} (IMWG criteria); VEGF: {vegf}; clinical: {clinical}."
    ).format(
        amyloid=shown(r.hematologic),
        imwg=shown(r.hematologic_imwg),
        vegf=vegf,
        clinical=label(t, "direction", r.clinical_overall),
    )
    return text


def no_treatment(t: Translator, r: ResponseAssessment) -> str:
    """No treatment to measure a response from: none recorded, or none begun by the evaluation date - then
    the first one and its start are named (probe83 D7: "No treatment recorded." beside a lenalidomide
    recorded from three days after --as-of)."""
    later = r.later_treatment
    if r.undated_treatments and r.first_treatment is None:
        # a treatment there is, only on no readable day (probe79 D8; the page said "No treatment recorded.")
        shown = ", ".join(r.undated_treatments[:3]) + (", …" if len(r.undated_treatments) > 3 else "")
        return t._("A treatment is recorded without a readable date ({references}).").format(references=shown)
    if later is None or r.as_of is None:
        return t._("No treatment recorded.")
    return t._("No treatment started by {date} (the first, {agents}, starts {start}).").format(
        date=t.date(r.as_of), agents=", ".join(agent_label(t, a) for a in later.agents), start=t.date(later.start)
    )


def no_restaging(t: Translator, r: ResponseAssessment) -> str:
    """Nothing measured after the baseline yet. A baseline that is the first treatment's day says so:
    "the baseline of Feb 22" read as a sample taken on Feb 22 (probe42)."""
    if r.baseline_date is not None and r.baseline_date == r.first_treatment:
        return t._("No restaging since the first treatment on {date}.").format(date=t.date(r.baseline_date))
    return t._("No restaging after the baseline of {date}.").format(date=t.date(r.baseline_date))


def response_heading(t: Translator, r: ResponseAssessment, restaging: dt.date | None) -> str:
    """The sentence that opens a response report: at which restaging, against which baseline."""
    if r.baseline_date is not None and (restaging is None or restaging <= r.baseline_date):
        # nothing measured after the baseline yet: no "response at Feb 22 compared with the baseline of
        # Feb 22" (a probe, at the origin case's T0)
        return no_restaging(t, r)
    if r.baseline_date == r.first_treatment:
        # the baseline is the last result up to that day, each shown with its own date (probe42)
        return t._(
            "Response at {date} compared with the last results before the first treatment on {baseline}:"
        ).format(date=t.date(restaging), baseline=t.date(r.baseline_date))
    return t._("Response at {date} compared with the baseline of {baseline}:").format(
        date=t.date(restaging), baseline=t.date(r.baseline_date)
    )


def response_conclusion(t: Translator, r: ResponseAssessment, restaging: dt.date | None) -> str:
    parts = [f"{label(t, 'alert', x.code)}: {explain(t, 'alert', x.code)}" for x in distinct_alerts(r.alerts)]
    parts.append(response_heading(t, r, restaging))
    parts.append(response_line(t, r, restaging))
    parts.append(disclaimer(t))
    return " ".join(parts)


def change_text(t: Translator, baseline: Any, latest: Any) -> str:
    """ "7.7 g/L on Jan 15, 2019 → 0.69 g/L on Aug 12, 2019": a response's baseline and latest
    measurement (anything with value, unit and effective; None when missing), in the reader's format."""
    if baseline is None or baseline.value is None:
        return ""
    first = _as_sent(t, baseline, _censored(t, baseline) + quantity(t, _upper(baseline), baseline.unit))
    if getattr(baseline, "analyte", None) == "dflc":
        first = "dFLC " + first
    text = t._("{value} on {date}").format(value=first, date=t.date(baseline.effective))
    if latest is not None and latest.value is not None:
        text += " → " + t._("{value} on {date}").format(
            value=_latest_value(t, latest, baseline), date=t.date(latest.effective)
        )
    return text


def hematologic_change_text(t: Translator, h: Any) -> str:
    """A haematological response's values: a progression by its latest result only - it is measured from
    a nadir or a complete response, not from the baseline, which may lie above it ("6 g/L → 1.5 g/L" read
    as a fall for a relapse after CR: probe51 D11; the reason names what it rose from); anything else from
    its baseline."""
    if h.category == "PD" and h.latest is not None and h.latest.value is not None:
        return t._("latest: {value} on {date}").format(
            value=_latest_value(t, h.latest, h.baseline or h.latest), date=t.date(h.latest.effective)
        )
    return change_text(t, h.baseline, h.latest)


def vegf_change_text(t: Translator, v: Any) -> str:
    """A VEGF response's values: a progression from its nadir ("nadir 250 pg/mL on … → 600 pg/mL on …"),
    whose rise the category is; a follow-up in another specimen beside the baseline, each with its
    specimen and never with an arrow (they are not compared); anything else from its baseline."""
    unpaired = getattr(v, "unpaired", None) is not None and v.baseline is not None
    if unpaired and v.latest is None:
        return unpaired_vegf_text(t, v)
    nadir = getattr(v, "nadir", None)
    shown = (
        t._("nadir") + " " + change_text(t, nadir, v.latest)
        if nadir is not None
        else change_text(t, v.baseline, v.latest)
    )
    # a newer value of the type the laboratory switched to, beside the compared pair (not compared with it)
    return shown + ("; " + unpaired_vegf_text(t, v) if unpaired else "")


def _specimen(t: Translator, name: str | None) -> str:
    return t._(SPECIMENS[name]) if name in SPECIMENS else t._("specimen unknown")


def unpaired_vegf_text(t: Translator, v: Any) -> str:
    """ "serum 1,800 pg/mL on Jan 10, 2024; plasma 150 pg/mL on Apr 30, 2024: not comparable": a follow-up
    VEGF in another specimen type than the baseline's is shown, with both specimens, and said to be no
    response (probe108 D2: the written report gave no reason and did not show the plasma value)."""
    base, other = v.baseline, v.unpaired
    return t._(
        "{specimen} {value} on {date}; {other_specimen} {other_value} on {other_date}: serum and plasma values are "
        "not comparable"
    ).format(
        specimen=_specimen(t, v.specimen),
        value=_censored(t, base) + quantity(t, _upper(base), base.unit),
        date=t.date(base.effective),
        other_specimen=_specimen(t, v.unpaired_specimen),
        other_value=_censored(t, other) + quantity(t, _upper(other), other.unit),
        other_date=t.date(other.effective),
    )


def _latest_value(t: Translator, latest: Any, baseline: Any) -> str:
    """The latest value in the baseline's unit; an immunofixation as what it found (a CR by
    immunofixation is no measured "0 g/L")."""
    analyte = getattr(latest, "analyte", None)
    if analyte == "serum_ife":
        return t._("serum immunofixation positive") if latest.value else t._("serum immunofixation negative")
    if analyte == "urine_ife":
        return t._("urine immunofixation positive") if latest.value else t._("urine immunofixation negative")
    if analyte == "dflc":  # the light chains decided: their own value and unit, not the M-protein's
        return "dFLC " + quantity(t, _upper(latest), latest.unit)
    shown = _censored(t, latest) + quantity(t, _upper(latest), baseline.unit)
    return _as_sent(t, latest, shown) if latest.unit == baseline.unit else shown


def _as_sent(t: Translator, point: Any, shown: str) -> str:
    """A converted value as the lab sent it, the converted one beside it: "1.2 g/dL (= 12 g/L)", as the
    criteria table shows it (probe108 D11: the response rows showed only "12 g/L → 6 g/L")."""
    sent = getattr(point, "sent", None)
    if not sent or getattr(point, "high", None) is not None:
        return shown
    return f"{getattr(point, 'comparator', None) or ''}{sent} (= {shown})"


def _censored(t: Translator, point: Any) -> str:
    """ ">" of ">2000 pg/mL", "1200–" of "1200–1500 pg/mL": a censored or range result is not a number."""
    if getattr(point, "high", None) is not None:
        return f"{t.number(point.value)}–"
    return str(getattr(point, "comparator", None) or "")


def _upper(point: Any) -> float:
    high = getattr(point, "high", None)
    return float(point.value if high is None else high)


# ------------------------------------------------------------------ CarePlan wording


def step_title(t: Translator, s: Step) -> str:
    p = dict(s.params)
    if s.term_key == "workup":
        if "retest" in p:  # repeat a low-grade negative once its reason is gone (probe98 D8)
            return label(t, "retest", f"{p['criterion']}:{p['retest']}")
        if "unread" in p:  # a result on record that could not be read (probe102 A2)
            return t._(
                "Correct the result on record that could not be read (its unit or value), or repeat: {test}"
            ).format(test=label(t, "workup", s.workup_key))
        return label(t, "workup", s.workup_key)
    if s.term_key == "vegf-surveillance" and "specimen" in p:
        return t._("VEGF about every 6 months, {specimen} (same specimen type and assay)").format(
            specimen=t._(SPECIMENS.get(p["specimen"], p["specimen"]))
        )
    if s.term_key == "vegf-same-specimen" and "specimen" in p:
        return t._("VEGF in {specimen}, the baseline's specimen type").format(specimen=_specimen(t, p["specimen"]))
    return label(t, "step", s.term_key)


def _restaging_part(t: Translator, part: str) -> str:
    names = {
        "urine_immunofixation": t._("urine immunofixation or 24-hour urine protein"),
        "free_light_chains": t._("serum free light chains"),
        "vegf": t._("VEGF"),
        "blood_count": t._("blood count"),
        "serum_immunofixation": t._("serum immunofixation or M-protein"),
        "marrow": t._("bone-marrow plasma cells"),
    }
    return names.get(part, part)


def _part_done(t: Translator, part: str) -> str:
    """A part a restaging's result shows done (criteria/pathway._DONE_AS): the study itself, not "X or Y"."""
    names = {
        "serum_immunofixation": t._("serum immunofixation"),
        "serum_m_protein": t._("serum M-protein"),
        "urine_immunofixation": t._("urine immunofixation"),
        "urine_m_protein": t._("24-hour urine protein"),
    }
    return names.get(part) or _restaging_part(t, part)


def _done_and_missing(
    t: Translator, done: Sequence[str], missing: Sequence[str], due: dt.date | None, overdue: bool
) -> str:
    """A restaging begun but not complete: what was done on which day, then what is still missing and by when
    (probe137 D2: "Not yet done: blood count ... Overdue since Sep 9" read as the whole restaging overdue)."""
    days: dict[str, list[str]] = {}
    for value in done:  # "<part> <ISO date>", in the restaging's order
        part, day = value.rsplit(" ", 1)
        days.setdefault(day, []).append(part)
    said = [
        t._("Done on {date}: {parts}.").format(
            date=t.date(dt.date.fromisoformat(day)), parts=", ".join(_part_done(t, x) for x in parts)
        )
        for day, parts in sorted(days.items())
    ]
    names = ", ".join(_restaging_part(t, x) for x in missing)
    if due is None:
        said.append(t._("Still missing: {parts}.").format(parts=names))
    elif overdue:
        said.append(t._("Still missing: {parts} (due by {date}, overdue).").format(parts=names, date=t.date(due)))
    else:
        said.append(t._("Still missing: {parts} (due by {date}).").format(parts=names, date=t.date(due)))
    return " ".join(said)


def step_text(t: Translator, s: Step) -> str:
    p = dict(s.params)
    pairs = list(s.params)
    if s.term_key == "workup":
        c = p["criterion"]
        why = {
            "deciding": t._("Decides the classification."),
            "deciding_if_found": t._(
                "Decides the classification only if found: a normal result after the start of treatment may "
                "reflect the response and does not exclude it."
            ),
            "completing": t._("Completes the POEMS work-up."),
            "completed": t._("Assessed since the start of treatment."),
        }[p["why"]]
        return f"{label(t, 'criterion', c)}: {why} ({sources('workup', c)})"
    text = explain(t, "step", s.term_key)
    if s.term_key in ("regimen-review", "regimen-review-worsening", "relapse") and "alert" in p:
        codes = [v for k, v in pairs if k == "alert"]  # a relapse work-up names each alert that showed it
        said = [explain(t, "alert", c) for c in codes]
        # the salvage advice once: the haematological alert's explanation already gives it (probe38)
        text = (
            " ".join(f"{label(t, 'alert', c)}: {x}" for c, x in zip(codes, said, strict=True))
            + " "
            # compared without case and full stop: the Russian and Kazakh alert gives it mid-sentence
            + (text if s.term_key == "relapse" and not any(text.rstrip(".").lower() in x.lower() for x in said) else "")
        )
    on_imid = [v for k, v in pairs if k == "on_imid"]
    if on_imid:
        text += " " + t._("Progression while on {agents}: review that regimen rather than repeat it.").format(
            agents=", ".join(agent_label(t, x) for x in on_imid)
        )
    if "after_radiotherapy" in p:
        text += " " + t._(
            "Progression 3-6 months after radiotherapy: escalate to systemic therapy (step 1a) rather than radiation "
            "salvage."
        )
    agents = [v for k, v in pairs if k == "agent"]
    if agents:
        text += " " + t._("Given: {agents}.").format(agents=", ".join(agent_label(t, x) for x in agents))
    if "since" in p:
        text += " " + t._(
            "Systemic therapy since {date} and no transplant on record: confirm whether transplant eligibility was "
            "assessed."
        ).format(date=t.date(dt.date.fromisoformat(p["since"])))
    if "renal" in p:
        text += (
            " "
            + t._(
                "eGFR below 30 at diagnosis: 180 mg/m² melphalan has been used for renal insufficiency in small series"
            )
            + f" ({cite(('Chiba2008', 'MDACC2011'))})."
        )
    risks = [v for k, v in pairs if k == "risk"]
    if risks:
        text += " " + t._("Thrombosis risk factors present: {factors}.").format(
            factors=", ".join(label(t, "risk", r) for r in risks)
        )
    if "splenomegaly" in p:
        text += " " + t._("Splenomegaly is the best baseline predictor of a complicated course: higher risk.")
    signs = [v.split(" ") for k, v in pairs if k == "engraftment_sign"]
    if signs:
        text += " " + t._(
            "Recorded around engraftment (a transplant complication, not POEMS progression): {signs}."
        ).format(
            signs=", ".join(
                t._("{sign} on {date}").format(
                    sign=label(t, "criterion", sign).lower(), date=t.date(dt.date.fromisoformat(day))
                )
                for sign, day in signs
            )
        )
    if "radiotherapy_end" in p:
        ended = _day_of(p["radiotherapy_end"])
        text += " " + (
            t._("Radiotherapy completed in {date}.")  # known to its month or year only (probe111 D10)
            if getattr(ended, "precision", None)
            else t._("Radiotherapy completed on {date}.")
        ).format(date=t.date(ended))
    on_record = [v for k, v in pairs if k == "on_record"]
    if on_record:
        # the staging's laboratory parts (probe77 D3: the whole work-up listed, nothing said of what was done)
        text += " " + t._("Laboratory parts on record: {parts}.").format(
            parts=", ".join(_restaging_part(t, x) for x in on_record)
        )
        not_yet = [v for k, v in pairs if k == "not_on_record"]
        if not_yet:
            text += " " + t._("Not yet on record: {parts}.").format(
                parts=", ".join(_restaging_part(t, x) for x in not_yet)
            )
    missing = [v for k, v in pairs if k == "missing"]
    done = [v for k, v in pairs if k == "done"]
    if missing and done:
        text += " " + _done_and_missing(t, done, missing, s.scheduled_end, "overdue" in p)
    elif missing:
        text += " " + t._("Not yet done at this restaging: {parts}.").format(
            parts=", ".join(_restaging_part(t, x) for x in missing)
        )
    if "superseded" in p:
        text += " " + t._("Later follow-up since {date} takes its place.").format(
            date=t.date(dt.date.fromisoformat(p["superseded"]))
        )
    if "next_transplant" in p:
        # an earlier transplant's restaging, closed by the next transplant (probe83 D3)
        text += " " + t._("The transplant on {date} came after it.").format(
            date=t.date(dt.date.fromisoformat(p["next_transplant"]))
        )
    if "transplant" in p:
        # more than one transplant: which one this restaging follows (probe83 D3)
        text = t._("After the transplant on {date}.").format(date=t.date(dt.date.fromisoformat(p["transplant"]))) + (
            " " + text
        )
    if s.term_key == "restaging-day100" and s.status != "not-started":
        text += " " + t._("Imaging, echocardiography and nerve studies are not tracked by poems-fhir: confirm them.")
    if "after_start" in p:
        text += " " + t._("Treatment has started: the first values are the reference.")
    if "no_vegf_yet" in p:
        text += " " + t._("No VEGF yet: obtain one now as a reference.")
    if s.scheduled_start and s.scheduled_end:
        text += " " + t._("Due {start} to {end}.").format(start=t.date(s.scheduled_start), end=t.date(s.scheduled_end))
    elif s.scheduled_start:
        text += " " + t._("Next due {date}.").format(date=t.date(s.scheduled_start))
    if s.repeat_months and s.repeat_months_max:
        text += " " + t.n_("Every {low} to {high} month.", "Every {low} to {high} months.", s.repeat_months_max).format(
            low=s.repeat_months, high=s.repeat_months_max
        )
    elif s.repeat_months:
        text += " " + t.n_("Every {n} month.", "Every {n} months.", s.repeat_months).format(n=s.repeat_months)
    if "overdue" in p and not (missing and done):  # a restaging begun: only its missing parts are overdue
        text += " " + t._("Overdue since {date}.").format(date=t.date(dt.date.fromisoformat(p["overdue"])))
    cited = (
        sources("alert", p["alert"])
        if s.term_key in ("regimen-review", "regimen-review-worsening") and "alert" in p
        else sources("step", s.term_key)
    )
    text = text.strip()
    return f"{text} ({cited})" if cited else text


def risk_line(t: Translator, f: RiskFactor) -> str:
    return f"{label(t, 'risk', f.id)}: {label(t, 'state', f.state.value)}"


def _day_of(text: str) -> dt.date:
    """A step's day parameter back as a date, to the precision it was written ("2022-03": known only to its
    month, shown "Mar 2022", not "Mar 1, 2022"; probe111 D10)."""
    day = parse_date(text, "radiotherapy_end")
    assert day is not None  # noqa: S101 - written by the pathway
    return day
