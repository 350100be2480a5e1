# SPDX-License-Identifier: Apache-2.0
"""Read one result (an Observation or a component) whatever its encoding: a number with a
unit, a number written as text ("<50", "1 250,5 пг/мл"), a censored quantity, an
interpretation flag alone (H/L/N/A, POS/NEG, DET/ND), a qualitative string ("elevated",
"не выявлен") or a qualifier code (SNOMED Positive/Negative/Detected/Not detected).

The result is a :class:`Reading`; what each reading means for a criterion is decided by the
role handlers in ``extract.py`` (criteria.md §4). Nothing is guessed: a number without a unit
is kept apart (``unitless``) for the few uses where its unit cannot change the conclusion; so is a
number whose unit cannot be converted to the rule's (mmol/L haemoglobin, an unknown local spelling),
with the conversion's refusal kept (``rejected``) for when those uses do not apply.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from collections.abc import Callable
from typing import Any

from .values import (
    ResourceError,
    UnitlessError,
    UnitRejected,
    Value,
    codings,
    concept_text,
    NumberText,
    convert_value,
    parse_number_text,
    quantity,
    range_value,
    without_full_stop,
)


class Qual(str, Enum):
    """What a result without a usable number says."""

    HIGH = "high"
    LOW = "low"
    NORMAL = "normal"
    ABNORMAL = "abnormal"  # abnormal, direction not stated
    POSITIVE = "positive"  # positive / detected / reactive / present
    NEGATIVE = "negative"  # negative / not detected / non-reactive / absent


#: HL7 v3 ObservationInterpretation and HL7 v2 table 0078 share these codes.
INTERPRETATION: dict[str, Qual] = {
    "H": Qual.HIGH,
    "HH": Qual.HIGH,
    "HU": Qual.HIGH,
    "HX": Qual.HIGH,
    ">": Qual.HIGH,
    "L": Qual.LOW,
    "LL": Qual.LOW,
    "LU": Qual.LOW,
    "LX": Qual.LOW,
    "<": Qual.LOW,
    "N": Qual.NORMAL,
    "A": Qual.ABNORMAL,
    "AA": Qual.ABNORMAL,
    "POS": Qual.POSITIVE,
    "DET": Qual.POSITIVE,
    "NEG": Qual.NEGATIVE,
    "ND": Qual.NEGATIVE,
}
DIMENSIONLESS = {None, "1", "{ratio}"}


def normalise_term(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation: "  Not  detected. " -> "not detected"."""
    t = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    t = re.sub(r"\s+", " ", t).strip()
    return t.strip(" .;:!*()[]")


#: the test's own name written before its result ("Bence Jones protein detected", "M-protein: not
#: detected", "BJ+", "белок Бенс-Джонса не обнаружен"): the rest is the qualitative result
_NAMES = (
    r"(?:bence[- ]jones(?: proteinuria| protein)?|bj(?: protein)?|m[- ]?(?:protein|spike|component|band)"
    r"|monoclonal (?:protein|band|component|paraprotein)|paraprotein|белок бенс[- ]джонса|бенс[- ]джонса"
    r"|м[- ]?(?:протеин|градиент|компонент)|парапротеин|моноклональн\w* (?:белок|компонент))"
)
_ANALYTE_NAME = re.compile(r"^" + _NAMES + r"\b\s*[:=-]?\s*")
#: the test's name denied as a whole result: "No M-spike", "No monoclonal protein identified; normal
#: pattern" (a trailing statement of a normal or polyclonal pattern only: anything else is not read)
_NO_ANALYTE = re.compile(
    r"^(?:no|nil)\s+" + _NAMES + r"(?:\s+(?:is\s+|was\s+)?(?:detected|seen|identified|found|present|noted))?"
    r"(?:\s*[;,.]\s*(?:normal|polyclonal)(?:\s+(?:pattern|distribution|electrophoresis|increase))?)?$"
)


def known_term(text: str, terms: dict[str, Qual]) -> str | None:
    """The key of ``terms`` that ``text`` says, whole or after the test's own name (or a negative key
    for the name denied: "No M-spike"); None otherwise."""
    term = normalise_term(text)
    if term in terms:
        return term
    rest = _ANALYTE_NAME.sub("", term, count=1)
    if rest != term and rest in terms:
        return rest
    if _NO_ANALYTE.match(term):
        return next((k for k, q in terms.items() if q is Qual.NEGATIVE), None)
    return None


#: a result's words, then a measured detail after a comma, semicolon or parenthesis: "Positive, >70000
#: BTU", "Negative (<1000 BTU)", "POSITIVE (titre 1:6400)". Only a number (with a comparator, a unit word,
#: a titre) may follow: other words may say more ("No M-spike; IgG kappa band" is a positive band)
_WORDS_THEN_MEASURE = re.compile(
    r"^(?P<head>[^,;(\d<>]+?)\s*[,;(]\s*(?:(?:titre|titer|index|титр)\s*[:=]?\s*)?[<>≤≥]?=?\s*"
    r"\d[\d\s.,:]*(?:[a-zа-яµ%/]+\.?)?\s*\)?\s*\.?$",
    re.IGNORECASE,
)


def _leading_term(text: str, terms: dict[str, Qual]) -> str | None:
    """The key of ``terms`` that a result's leading words say when only a measured detail follows
    them, None otherwise. Only asked of a text no number was read from ("150 pg/mL" is parsed first)."""
    match = _WORDS_THEN_MEASURE.match(text.strip()[:200])
    return known_term(match["head"], terms) if match else None


@dataclass(frozen=True)
class Reading:
    value: Value | None = None  # a number in the rule's unit
    unitless: Value | None = None  # a number whose unit is missing (unit of the lab's own range)
    qual: Qual | None = None
    #: where ``qual`` came from, for the evidence: "interpretation H", "valueString 'elevated'"
    qual_source: str = ""
    text: str = ""  # the text of a string / coded value (immunofixation reads it)
    interpretation: Qual | None = None
    element: str = ""  # the element the number came from, for messages
    #: ``unitless`` has a unit that cannot be converted to the rule's: the refusal, raised where
    #: the number itself is needed (and listed by `mappings coverage` as a unit to add)
    rejected: UnitRejected | None = None


def flag_code(code: str) -> str:
    """An interpretation code as senders garble it: " POS ", "pos", "L\t" -> "POS", "L" (probe140 D2: a flag
    with spaces around it was no code, and a "Negative" flagged " POS " read as a plain negative)."""
    return code.strip().upper()


def interpretation_quals(part: dict[str, Any], terms: dict[str, Qual]) -> list[tuple[Qual, str]]:
    """What every interpretation of ``part`` says, with its source for the evidence, in order: a concept's
    codes, else its words."""
    out: list[tuple[Qual, str]] = []
    concepts = part.get("interpretation")
    for concept in concepts if isinstance(concepts, list) else []:
        if not isinstance(concept, dict):
            continue
        codes = [flag_code(c) for _, c, _ in codings(concept) if c]
        coded = [(INTERPRETATION[c], f"interpretation {c}") for c in codes if c in INTERPRETATION]
        if coded:
            out.extend(coded)
            continue
        # a flag in words only: the concept's text, or the display of a local code (probe81 D6, D7: "Abnormal"
        # beside a negative immunofixation, "Normal" beside platelets, were not read)
        displays = [display for _, _, display in codings(concept)]
        # ... or a word sent as the code ("Positive", "HIGH"): it says what a display would
        for text in [concept.get("text"), *displays, *codes]:
            if isinstance(text, str) and (term := _flag_term(text, terms)) is not None:
                out.append((terms[term], f"interpretation {text!r}"))
                break
    return out


def interpretation_qual(part: dict[str, Any], terms: dict[str, Qual]) -> tuple[Qual | None, str]:
    quals = interpretation_quals(part, terms)
    return quals[0] if quals else (None, "")


#: flags that cannot both hold of one result: a high and a low, a normal and any abnormal, positive and negative
_CONTRADICTING = (
    ({Qual.HIGH}, {Qual.LOW}),
    ({Qual.NORMAL}, {Qual.HIGH, Qual.LOW, Qual.ABNORMAL}),
    ({Qual.POSITIVE}, {Qual.NEGATIVE}),
)


def flags_contradict(part: dict[str, Any], terms: dict[str, Qual]) -> str | None:
    """The interpretation flags of one result that contradict each other ("H, L"), None if they do not:
    the first flag won, so [H, L] and [L, H] gave opposite verdicts (probe140 D7)."""
    quals = interpretation_quals(part, terms)
    said = {q for q, _ in quals}
    if not any(said & one and said & other for one, other in _CONTRADICTING):
        return None
    return ", ".join(dict.fromkeys(source.removeprefix("interpretation ") for _, source in quals))


def unknown_flags(part: dict[str, Any], terms: dict[str, Qual]) -> list[str]:
    """The interpretation codes that are no flag this product reads, even forgiving case and spaces, of a
    concept whose words say nothing either: listed, not ignored in silence. "IND" is read elsewhere (an
    inadequate marrow sample)."""
    out: list[str] = []
    concepts = part.get("interpretation")
    for concept in concepts if isinstance(concepts, list) else []:
        if not isinstance(concept, dict) or interpretation_quals({"interpretation": [concept]}, terms):
            continue
        out.extend(
            c for _, c, _ in codings(concept) if c and flag_code(c) not in INTERPRETATION and flag_code(c) != "IND"
        )
    return out


#: words a flag carries beside what it says: "Abnormal result", "Normal range", "Abnormal - see comment",
#: «Аномальный результат» (probe82 D1, D4: read as no flag at all)
_FLAG_FILLER = re.compile(
    r"\s*(?:[-–—:,;.]\s*)?(?:see (?:the )?(?:comments?|notes?)|results?|range|values?|flag|"
    r"результат\w*|значени\w*|диапазон\w*|см\.? (?:комментарий|примечание))\.?$",
    re.IGNORECASE,
)


def _flag_term(text: str, terms: dict[str, Qual]) -> str | None:
    """The key of ``terms`` an interpretation's words say, the filler words beside them left out."""
    term = normalise_term(text)
    for _ in range(3):  # "Abnormal result - see comment": a few fillers at most
        if term in terms:
            return term
        shorter = normalise_term(_FLAG_FILLER.sub("", term))
        if shorter == term or not shorter:
            return None
        term = shorter
    return term if term in terms else None


def read_result(
    part: dict[str, Any],
    prefix: str,
    unit: str | None,
    molar_mass: float | None,
    aliases: dict[str, str],
    terms: dict[str, Qual],
    result_codes: dict[tuple[str, str], Qual],
    canonical: Callable[[str, str], tuple[Any, Any]] | None = None,
) -> Reading:
    """Read ``part`` (an Observation or component) for a rule whose canonical unit is ``unit``."""
    interp, interp_source = interpretation_qual(part, terms)
    element = prefix + "value"

    def number(v: Value) -> Reading:
        return Reading(value=v, qual=interp, qual_source=interp_source, interpretation=interp)

    def unitless(v: Value, name: str) -> Reading:
        if unit in DIMENSIONLESS:
            return number(Value(v.value, unit, v.comparator))
        return Reading(unitless=v, qual=interp, qual_source=interp_source, interpretation=interp, element=name)

    if "valueQuantity" in part:
        q = part["valueQuantity"]
        if isinstance(q, dict) and q.get("value") is None and not q.get("comparator"):
            # a unit without a number: only the interpretation can speak
            return Reading(qual=interp, qual_source=interp_source, interpretation=interp)
        try:
            return number(quantity(q, element + "Quantity", unit, aliases, molar_mass))
        except UnitlessError as exc:
            return unitless(exc.value, element + "Quantity")
        except UnitRejected as exc:
            if unit in DIMENSIONLESS:
                raise
            # the number still counts against a range in its own unit, a flag, or for presence
            own = Value(float(q["value"]), exc.unit, q.get("comparator"))
            return Reading(
                unitless=own,
                qual=interp,
                qual_source=interp_source,
                interpretation=interp,
                element=element + "Quantity",
                rejected=exc,
            )
    if "valueRange" in part:
        return number(range_value(part["valueRange"], element + "Range", unit, aliases, molar_mass))
    if "valueInteger" in part:
        raw = part["valueInteger"]
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ResourceError(f"{element}Integer is not an integer: {raw!r}")
        return unitless(Value(float(raw), None), element + "Integer")
    if "valueRatio" in part:
        ratio = part["valueRatio"] if isinstance(part["valueRatio"], dict) else {}
        num = quantity(ratio.get("numerator"), element + "Ratio.numerator", None, aliases)
        den = quantity(ratio.get("denominator"), element + "Ratio.denominator", None, aliases)
        if den.value == 0:
            raise ResourceError(f"{element}Ratio has a zero denominator")
        if not math.isfinite(num.value / den.value):
            raise ResourceError(f"{element}Ratio is out of range (numerator / denominator overflows)")
        return number(Value(num.value / den.value, unit or "{ratio}"))
    if "valueString" in part:
        text = part["valueString"]
        if not isinstance(text, str):
            raise ResourceError(f"{element}String is not a string: {text!r}")
        return _read_text(text, f"{element}String", unit, molar_mass, aliases, terms, interp, interp_source)
    if "valueCodeableConcept" in part:
        concept = part["valueCodeableConcept"]
        label = concept_text(concept)
        for system, code, _ in codings(concept):
            if not isinstance(system, str):
                continue
            key = canonical(system, code) if canonical and code else (system, code)
            if code and key in result_codes:
                return Reading(
                    qual=result_codes[key],
                    qual_source=f"coded value {system}|{code}",
                    text=label,
                    interpretation=interp,
                )
            if "interpretation" in system.lower() or system.endswith("0078"):
                if code and code.upper() in INTERPRETATION:
                    return Reading(
                        qual=INTERPRETATION[code.upper()],
                        qual_source=f"coded value {code}",
                        text=label,
                        interpretation=interp,
                    )
        for candidate in (
            [concept.get("text")] + [d for _, _, d in codings(concept)] if isinstance(concept, dict) else []
        ):
            known = known_term(candidate, terms) if isinstance(candidate, str) else None
            if known is not None:
                return Reading(
                    qual=terms[known],
                    qual_source=f"coded value {candidate!r}",
                    text=label,
                    interpretation=interp,
                )
        return Reading(qual=interp, qual_source=interp_source, text=label, interpretation=interp)
    if "valueBoolean" in part:
        flag = part["valueBoolean"]
        if not isinstance(flag, bool):
            raise ResourceError(f"{element}Boolean is not true/false: {flag!r}")
        return Reading(
            qual=Qual.POSITIVE if flag else Qual.NEGATIVE,
            qual_source=f"valueBoolean {flag}",
            text="positive" if flag else "negative",
            interpretation=interp,
        )
    return Reading(qual=interp, qual_source=interp_source, interpretation=interp)


#: where a value string's words after its unit begin: a bracket, a comma or semicolon, a spaced dash, or a
#: marker (* or !) that is no operator inside the unit ("10*9/L")
_AFTER_UNIT = re.compile(r"\s*(?:[(\[]|[,;]|\s[-–]\s|[*!](?!\d))")
_AFTER_UNIT_PIECES = re.compile(r"[()\[\],;]|\s[-–]\s")
_BRACKETED = re.compile(r"\(([^()\[\]]*)\)|\[([^()\[\]]*)\]")
#: the specimen named beside a value or in its label: "(plasma)", ", EDTA plasma", "serum:", «(плазма)», «сыворотка»,
#: «ЭДТА-плазма», Kazakh «қан сарысуы» (UNVERIFIED: seen in no real letter); the anticoagulant belongs to the plasma
#: (probe137 D1: "640 pg/mL, EDTA plasma" in a "See comment" note was refused as a unit)
SPECIMEN_WORD = re.compile(
    r"(?i)(?:(?:k[23][- ]?)?(?:edta|эдта|heparin(?:i[sz]ed)?|lithium[- ]heparin|citrated?|цитрат\w*|гепарин\w*)[- ]?)?"
    r"(?:serum|plasma|сыворотк(?:а|и|е|у|ой)|плазм(?:а|ы|е|у|ой)|(?:қан\s+)?сарысу\w*)(?!\w)"
)  # a whole word: "plasmacytoma", «плазмоциты» name no specimen
#: a reference range written beside the value: "[0-96.2]", "(ref <96.2)", "(N: 0-96.2 pg/mL)", "(норма 0-96)"
_RANGE_WORDS = re.compile(
    r"(?i)(?:(?:ref(?:erence)?\.?(?: (?:range|interval))?|normal(?: range)?|norm|n|rr|норма|реф\.?)\s*[:=]?\s*)?"
    r"(?:[<>≤≥]=?\s*\d[\d.,]*|\d[\d.,]*\s*(?:-|–|—|\.\.)\s*\d[\d.,]*)(?:\s*[^\s\d][^\s]*)?"
)
_FLAGS = (Qual.HIGH, Qual.LOW, Qual.NORMAL, Qual.ABNORMAL)
#: a percentage alone in a bracket after the unit: the band's share of the total protein as electrophoresis
#: reports write it ("7,7 г/л (12,1%)", "0.77 g/dL (12.1 %)" - seed_case.md's own notation; probe128 D5). The
#: quantity and its unit are what is read; a share is no second value, so it is passed over - only in a
#: bracket, and only a bare percentage (a bracket with other words stays unread and the text refused)
#: words naming what the share is of, after its percentage ("12,1 % от общего белка", "12.1% of total protein")
_SHARE_OF = r"(?:\s+(?:of\s+(?:the\s+)?total\s+(?:serum\s+)?protein|от\s+общего\s+белка))?"
_PERCENT_SHARE = re.compile(r"(?i)\d+(?:[.,]\d+)?\s*%" + _SHARE_OF)
#: a mass concentration as M-protein reports write it (g/L, g/dL, mg/dL, г/л, г/дл, мг/дл): the only kind of
#: quantity a share of total protein is passed over beside - a percentage is never read as the value
_MASS = r"\d+(?:[.,]\d+)?\s*(?:m?g|мг|г)\s*/\s*(?:d?l|дл|л)(?![^\W\d_])"
_SHARE = r"\d+(?:[.,]\d+)?\s*%" + _SHARE_OF


def _beside(inner: str) -> str:
    """``inner`` after a spaced or unspaced slash, a comma or a semicolon, or alone in a bracket."""
    return rf"\s*(?:[/,;]\s*{inner}|\(\s*{inner}\s*\)|\[\s*{inner}\s*\])"


#: the band's mass and its share of total protein in other spellings than "mass (share)": "7,7 г/л / 12,1%",
#: "12,1% (7,7 г/л)", "12.1 % / 7.7 g/L" (probe128 D5's leftovers), "7,7 г/л, 12,1%", "0.77 g/dL; 12.1%" (fix139b B3:
#: the share after a comma was refused as a unit - a decimal comma is inside a number, this one after the unit). The
#: mass is kept with any words after it; one mass and one percentage only - a lone percentage, or two masses ("0,3
#: г/л, 0,5 г/л"), is not rewritten (and stays refused)
_MASS_BESIDE_SHARE = re.compile(rf"(?i)^\s*(?:{_MASS}{_beside(_SHARE)}|{_SHARE}{_beside(_MASS)})(?P<rest>.*)$")
_MASS_IN = re.compile(rf"(?i){_MASS}")


def _without_share(text: str) -> str:
    """A value text with a share of total protein beside its mass concentration, as the mass alone (with the
    words after both); any other text unchanged."""
    found = _MASS_BESIDE_SHARE.match(text)
    if found is None or "%" in found.group("rest"):
        return text
    mass = _MASS_IN.search(text, 0, found.start("rest"))
    return f"{mass.group(0)}{found.group('rest')}" if mass else text


def band_bracket(text: str, names_band: Callable[[str], bool]) -> tuple[str, str] | None:
    """A value text with a bracket after its unit that names the band it measures - "0.3 g/dL (IgA lambda by
    immunofixation)", «3 г/л (IgA лямбда)», "150 mg/24 h [free lambda]" - as (the amount without the bracket, the
    bracket's words); None for any other text: no number with a unit before the bracket, no such bracket, several, or
    one with a number of its own ("(12.1% of IgG)", "(total IgG 14 g/L)": a share or a level, no band). Whether the
    words say the band is this result's, today's and not denied is the caller's to judge (probe135 b19: refused as a
    unit - ``_words_after_unit`` passes no isotype over in silence)."""
    flat = " ".join(text.split())
    try:
        parsed = parse_number_text(flat)
    except ValueError:
        return None
    if parsed is None or not parsed.unit:
        return None
    start = len(flat) - len(parsed.unit)
    named = [
        m
        for m in _BRACKETED.finditer(parsed.unit)
        if parsed.unit[: m.start()].strip() and not re.search(r"\d", m.group()) and names_band(m.group()[1:-1])
    ]
    if len(named) != 1:
        return None
    bracket = named[0]
    amount = flat[: start + bracket.start()] + " " + flat[start + bracket.end() :]
    return " ".join(amount.split()), bracket.group()[1:-1].strip()


def _words_after_unit(unit_text: str, terms: dict[str, Qual]) -> tuple[str, Qual | None, str] | None:
    """ "pg/mL (plasma)", "g/dL*", "pg/mL - High", "pg/mL [0-96.2]", "g/L (12.1%)" -> (the unit, a flag among the words or
    None, the flag's word or else all the words), when every word after the unit is a flag, a marker, the specimen or a reference
    range; None otherwise - the whole text stays the unit, refused if it is none ("g/dl (IgG kappa)": an
    isotype beside an M-protein is not dropped in silence). The specimen is read by the VEGF rule from the
    value's words; a range written here is not used (the lab's referenceRange is)."""
    found = _AFTER_UNIT.search(unit_text)
    if found is None or found.start() == 0:
        return None
    head, tail = unit_text[: found.start()].strip(), unit_text[found.start() :].strip()
    flag = None
    # a bracket is one piece whatever it holds ("(150 - 400)", "(35,0-50,0)"), or its parts after a comma and a
    # space ("(serum, ref <500)"); the words outside are cut at commas, semicolons and spaced dashes
    bracketed = [m.group(1) if m.group(1) is not None else m.group(2) for m in _BRACKETED.finditer(tail)]
    outside = _BRACKETED.sub(" ", tail)
    bracketed = [piece for piece in bracketed if not _PERCENT_SHARE.fullmatch(piece.strip())]
    for piece in [*bracketed, *_AFTER_UNIT_PIECES.split(outside)]:
        words = [piece] if _said_after_unit(piece, terms) is not None else _IN_BRACKET.split(piece)
        for word in words:
            said = _said_after_unit(word, terms)
            if said is None:
                return None
            if isinstance(said, Qual) and flag is None:
                flag, tail = said, word.strip(" *!-–")  # the flag's own word is what its source names
    return head, flag, tail


_IN_BRACKET = re.compile(r"[,;]\s+")


def _said_after_unit(piece: str, terms: dict[str, Qual]) -> Qual | bool | None:
    """A piece of the words after a unit: its flag, True for a marker, the specimen or a range, None for
    anything else."""
    word = piece.strip(" *!-–")
    if not word or SPECIMEN_WORD.fullmatch(word) or _RANGE_WORDS.fullmatch(word):
        return True
    known = terms.get(normalise_term(word))
    return known if known in _FLAGS else None


def _read_text(
    text: str,
    element: str,
    unit: str | None,
    molar_mass: float | None,
    aliases: dict[str, str],
    terms: dict[str, Qual],
    interp: Qual | None,
    interp_source: str,
) -> Reading:
    term = known_term(text, terms)
    if term is not None:
        return Reading(
            qual=terms[term],
            qual_source=f"{element.rsplit('.', 1)[-1]} {text.strip()!r}",
            text=text,
            interpretation=interp,
        )
    try:
        # a value wrapped over lines ("5 g/L⏎IgG kappa") is read as one line: the words under the number are
        # judged as words after its unit (probe96 D10: the number was lost in silence, the words read alone)
        # ... and without the full stop that ends it as a sentence ("0.3 g/dL.": fix140b B1, refused as a unit)
        parsed = parse_number_text(_without_share(without_full_stop(" ".join(text.split()), aliases)))
    except ValueError as exc:
        raise ResourceError(f"{element}: {exc}; not guessed") from None
    if parsed is None:
        head = _leading_term(text, terms)
        if head is not None:  # "Positive, >70000 BTU", "Negative (< 1000 BTU)": the words before the detail
            return Reading(
                qual=terms[head],
                qual_source=f"{element.rsplit('.', 1)[-1]} {text.strip()!r}",
                text=text,
                interpretation=interp,
            )
        return Reading(qual=interp, qual_source=interp_source, text=text, interpretation=interp)
    note = f"read from text {text.strip()!r}"
    after = _words_after_unit(parsed.unit, terms) if parsed.unit else None
    if after is not None:
        head, flag, words = after
        if flag is not None and interp is None:
            interp, interp_source = flag, f"flag {words!r} in the text"
        parsed = NumberText(parsed.number, parsed.comparator, head)
    if parsed.unit:
        # a flag written after the number: "520 H", "150 pg/mL (H)", "467 ↑" - but not the litre of a
        # unit spaced around its operator ("450 x 10E9 / L", "32 g / L": the L after "/" is no "low")
        *rest, last = parsed.unit.split()
        flag = terms.get(normalise_term(last))
        of_the_unit = bool(rest) and rest[-1].endswith(("/", "*", "^"))
        if flag in (Qual.HIGH, Qual.LOW, Qual.NORMAL, Qual.ABNORMAL) and not of_the_unit:
            if interp is None:
                interp, interp_source = flag, f"flag {last.strip('()')!r} in the text"
            parsed = NumberText(parsed.number, parsed.comparator, " ".join(rest) or None)
    if parsed.unit:
        if unit is None:
            return Reading(
                value=Value(parsed.number, parsed.unit, parsed.comparator, (note,)),
                qual=interp,
                qual_source=interp_source,
                text=text,
                interpretation=interp,
            )
        value = convert_value(
            parsed.number, parsed.unit, unit, aliases, molar_mass, parsed.comparator, element, (note,)
        )
        return Reading(value=value, qual=interp, qual_source=interp_source, text=text, interpretation=interp)
    bare = Value(parsed.number, None, parsed.comparator, (note,))
    if unit in DIMENSIONLESS:
        return Reading(
            value=Value(parsed.number, unit, parsed.comparator, (note,)),
            qual=interp,
            qual_source=interp_source,
            text=text,
            interpretation=interp,
        )
    return Reading(
        unitless=bare, qual=interp, qual_source=interp_source, text=text, interpretation=interp, element=element
    )
