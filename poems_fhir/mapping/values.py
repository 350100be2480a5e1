# SPDX-License-Identifier: Apache-2.0
"""Small readers for FHIR JSON datatypes: dates, codings, quantities, reference ranges.

Each validates exactly what it reads and raises ResourceError with a message that names the
element, so a bad resource is reported and skipped instead of guessed at.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

from ..criteria.timeline import day_text
from .range_choice import Subject, applicable_ranges, same_rank, text_for, undecided_populations
from .units import UnitError, convert

UCUM = "http://unitsofmeasure.org"
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class ResourceError(ValueError):
    """One resource cannot be used; it is reported and skipped, the rest goes on."""


class PartialDate(dt.date):
    """A FHIR date given only to the year ("2015") or the month ("2023-05"): its first day for every
    comparison and computation, its own precision where a person reads it ("2015", "May 2023" - not
    "Jan 1, 2015", probe38 D14)."""

    precision: str  # "year" or "month"

    def __new__(cls, year: int, month: int, day: int, precision: str = "year") -> PartialDate:
        obj = super().__new__(cls, year, month, day)
        obj.precision = precision
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # pickled by worker processes: date's own form drops precision
        return (PartialDate, (self.year, self.month, self.day, self.precision))

    def __repr__(self) -> str:
        return f"PartialDate({self.year}, {self.month}, {self.day}, {self.precision!r})"

    # a day computed from a partial date is a plain day: date arithmetic builds the subclass, whose
    # default precision made a transplant "in April 2022" + 90 days a restaging "Due 2022 to 2022"
    def _plain(self) -> dt.date:
        return dt.date(self.year, self.month, self.day)

    def __add__(self, other: dt.timedelta) -> dt.date:  # type: ignore[override]
        return self._plain() + other

    __radd__ = __add__  # type: ignore[assignment]

    def __sub__(self, other: Any) -> Any:
        return self._plain() - (other._plain() if isinstance(other, PartialDate) else other)

    def __rsub__(self, other: Any) -> Any:
        return other - self._plain()

    def replace(self, year: int | None = None, month: int | None = None, day: int | None = None) -> dt.date:  # type: ignore[override]
        return self._plain().replace(year or self.year, month or self.month, day or self.day)

    @property
    def last_day(self) -> dt.date:
        """The last day the date can be: Dec 31 of its year, or its month's last day."""
        if self.precision == "year":
            return dt.date(self.year, 12, 31)
        following = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)


def fhir_date(day: dt.date) -> str:
    """A date as FHIR writes it, to the precision it was given ("2015", "2023-05", "2023-05-04")."""
    return day_text(day)


def parse_date(value: Any, element: str) -> dt.date | None:
    """FHIR date/dateTime/instant -> date. Partial dates ("2019-02") take their first day, as a
    ``PartialDate`` that remembers its precision."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ResourceError(f"{element} is not a date string: {value!r}")
    day = _day(value[:10])  # the pattern reads at most 10 characters: the rest cannot change the date
    if day is None:
        raise ResourceError(f"{element} is not a FHIR date: {value!r}")
    if day is _INVALID:
        raise ResourceError(f"{element} is not a valid date: {value!r}")
    if len(value) in (4, 7):  # the pattern matched: "YYYY" or "YYYY-MM"
        full: dt.date = day  # type: ignore[assignment]
        return PartialDate(full.year, full.month, full.day, "year" if len(value) == 4 else "month")
    return day  # type: ignore[return-value]


_INVALID = object()


@lru_cache(maxsize=4096)
def _day(head: str) -> dt.date | object | None:
    """The date a FHIR date starts with; None when it is no date, _INVALID when no calendar day.
    Cached: a patient's resources share a few dates, and the regex + int parsing is per element."""
    m = _DATE.match(head)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return _INVALID


def codings(concept: Any) -> list[tuple[str | None, str | None, str | None]]:
    """(system, code, display) of a CodeableConcept; tolerant of missing parts."""
    if not isinstance(concept, dict):
        return []
    out = []
    coding = concept.get("coding")
    for c in coding if isinstance(coding, list) else []:
        if isinstance(c, dict):
            code = c.get("code")
            out.append((c.get("system"), str(code) if code is not None else None, c.get("display")))
    return out


def concept_text(concept: Any) -> str:
    """Everything a human could read in a CodeableConcept: text and displays."""
    if not isinstance(concept, dict):
        return ""
    parts = [concept.get("text") or ""]
    parts += [d for _, _, d in codings(concept) if d]
    return " ".join(p for p in parts if isinstance(p, str) and p)


def concept_label(concept: Any) -> str:
    """The one name a human would use: the text, else the first display."""
    if not isinstance(concept, dict):
        return ""
    # blank names are none (probe54 D4: a display " " gave the evidence "IgG kappa,   (confirmed)")
    if str(concept.get("text") or "").strip():
        return str(concept["text"]).strip()
    return next((str(d).strip() for _, _, d in codings(concept) if d and str(d).strip()), "")


@dataclass(frozen=True)
class Value:
    """A numeric value in the rule's canonical unit, with its comparator ("<", ">=", …).

    ``notes`` records how it was read when that was not plain UCUM (a lab unit spelling, a
    decimal comma, a number in a string): it is shown in the evidence text.
    """

    value: float
    unit: str | None
    comparator: str | None = None
    notes: tuple[str, ...] = ()
    #: a Range result ("1200-1500 pg/mL"): the true value lies in [value, high]
    high: float | None = None
    #: the number and unit as the lab sent them, when they were converted ("3.1 ug/dL"): what a person
    #: reads first - a converted "85.527 nmol/L" has a precision the lab never measured (probe38 D18)
    sent: str | None = None

    def __post_init__(self) -> None:
        # a result of -0 is 0: shown "VEGF -0 pg/mL" it read as a negative result (probe47 D7)
        if self.value == 0:
            object.__setattr__(self, "value", 0.0)
        if self.high == 0:
            object.__setattr__(self, "high", 0.0)


#: a percentage alone in a bracket after a unit: the band's share of the total protein as electrophoresis reports
#: write it ("г/л (12,1%)" - seed_case.md's notation, probe128 D5 in a string). In a Quantity's unit text it is no
#: part of the unit (probe130 G5: "г/л (12,1%)" as `valueQuantity.unit` made the M-protein unquantified)
#: also after a slash, and with the words naming what it is a share of ("г/л (12,1 % от общего белка)", "g/L / 12.1%")
_SHARE_AFTER_UNIT = re.compile(
    r"(?i)\s*(?:\(\s*(?:\d+(?:[.,]\d+)?\s*%(?:\s+(?:of\s+(?:the\s+)?total\s+(?:serum\s+)?protein"
    r"|от\s+общего\s+белка))?)\s*\)|\s/\s*\d+(?:[.,]\d+)?\s*%)\s*$"
)


def _unit_of(q: dict[str, Any]) -> Any:
    """The unit a Quantity states: its UCUM code, else its unit text or code (as :func:`quantity`), without a
    bracketed percentage share after it."""
    unit = q.get("code") if q.get("system") == UCUM and q.get("code") else q.get("unit") or q.get("code")
    if isinstance(unit, str) and unit.rstrip().endswith((")", "%")):
        shorter = _SHARE_AFTER_UNIT.sub("", unit)
        return shorter if shorter.strip() else unit
    return unit


def quantity(
    q: Any,
    element: str,
    target_unit: str | None,
    aliases: dict[str, str],
    molar_mass: float | None = None,
) -> Value:
    """Read a Quantity and convert it to ``target_unit`` with UCUM semantics."""
    if not isinstance(q, dict):
        raise ResourceError(f"{element} is not a Quantity")
    raw = q.get("value")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ResourceError(f"{element}.value is missing or not a number: {raw!r}")
    unit = _unit_of(q)
    comparator = q.get("comparator")
    if target_unit is None:
        return Value(float(raw), unit, comparator)
    if not unit and target_unit in RATIO_UNITS:
        return Value(float(raw), target_unit, comparator)  # a ratio needs no unit
    if not unit:
        raise UnitlessError(
            f"{element} has no unit (expected {target_unit}); not guessed", Value(float(raw), None, comparator)
        )
    value = convert_value(float(raw), str(unit), target_unit, aliases, molar_mass, comparator, element)
    _unit_agrees_with_code(q, value, element, target_unit, aliases, molar_mass)
    return value


def _unit_agrees_with_code(
    q: dict[str, Any], value: Value, element: str, target_unit: str, aliases: dict[str, str], molar_mass: float | None
) -> None:
    """Refuse a Quantity whose ``unit`` (what people see) and ``code`` both convert to ``target_unit`` but
    to different values (probe81 D9: "pg/mL" shown, "ng/mL" coded: VEGF 150 read as 150,000 pg/mL, met,
    without a word). Converted values are compared, not spellings: "pg/ml", "K/uL" beside "10*3/uL" agree;
    a unit text no table knows says nothing either way."""
    unit, code, raw = q.get("unit"), q.get("code"), float(q["value"])
    if not isinstance(unit, str) or not isinstance(code, str) or unit.strip() == code.strip():
        return
    try:
        by = {u: convert(raw, normalise_unit(u, aliases)[0], target_unit, molar_mass) for u in (unit, code)}
    except (UnitError, ArithmeticError):
        return
    if math.isclose(by[unit], by[code], rel_tol=1e-9) or not all(map(math.isfinite, by.values())):
        return
    raise ResourceError(
        f"{element}: unit {unit!r} and code {code!r} disagree ({by[unit]:g} {target_unit} vs {by[code]:g} "
        f"{target_unit}): not read - fix the unit or the code"
    )


def range_value(
    r: Any,
    element: str,
    target_unit: str | None,
    aliases: dict[str, str],
    molar_mass: float | None = None,
) -> Value:
    """A Range result ("VEGF 1200-1500 pg/mL") as the interval of true values it allows: both bounds
    converted like any Quantity; a low bound alone is ">= low", a high bound alone "<= high". A bound
    without a unit is not guessed (the range is refused, as a unitless Quantity would be for a rule
    that needs its unit)."""
    if not isinstance(r, dict) or (r.get("low") is None and r.get("high") is None):
        raise ResourceError(f"{element} has neither low nor high")
    bounds = {}
    for side in ("low", "high"):
        if r.get(side) is not None:
            try:
                bounds[side] = quantity(r[side], f"{element}.{side}", target_unit, aliases, molar_mass)
            except UnitlessError as exc:
                raise ResourceError(str(exc)) from exc
    low, high = bounds.get("low"), bounds.get("high")
    if low is None:
        return Value(high.value, high.unit, "<=", high.notes)  # type: ignore[union-attr]
    if high is None:
        return Value(low.value, low.unit, ">=", low.notes)
    if low.value > high.value:
        raise ResourceError(f"{element}: low {low.value:g} is above high {high.value:g}")
    notes = tuple(dict.fromkeys(low.notes + high.notes))
    return Value(low.value, low.unit, None, notes, high=None if high.value == low.value else high.value)


class UnitRejected(ResourceError):
    """A unit that is neither UCUM nor in the unit table: reported (and listed by `coverage`)."""

    def __init__(self, message: str, unit: str) -> None:
        super().__init__(message)
        self.unit = unit


class UnitlessError(ResourceError):
    """A number without a unit where the rule needs one; ``value`` is kept for the callers that
    can use a unitless value without guessing its magnitude (presence, the lab's own range)."""

    def __init__(self, message: str, value: Value) -> None:
        super().__init__(message)
        self.value = value


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
#: "mc" that starts a unit's part and is followed by litre, gram, mole or IU: the micro prefix
_MC_MICRO = re.compile(r"(?<![A-Za-z])mc(?=(?:L|l|g|mol|\[?IU)(?![a-z]))")


_LOST_EXPONENT = re.compile(r"(?<![\d.])10\s+(\d{1,2})(?=\s*/)")


@lru_cache(maxsize=1024)
def _fold_unit(written: str) -> str:
    """Typographic variants folded: spaces, micro signs, "×", superscript exponents. Cached: the
    same few unit spellings recur in every result, and two regex passes cost more than the rest."""
    # "x 10 9/L": an exponent whose superscript was lost in a copy ("× 10⁹/L") keeps its place as a power
    written = _LOST_EXPONENT.sub(r"10^\1", written)
    folded = re.sub(r"\s+", "", written).replace("µ", "u").replace("μ", "u").replace("×", "x")
    # "mc" as the micro prefix, as US labs write it ("K/mcL", "mcg/dL"): micro, as "u" in UCUM
    folded = _MC_MICRO.sub("u", folded)
    folded = re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: "10^" + m.group(1).translate(_SUPERSCRIPT), folded)
    return folded.translate(_SUPERSCRIPT)  # mm³ -> mm3 (UCUM writes exponents as plain digits)


def normalise_unit(unit: str, aliases: dict[str, str]) -> tuple[str, str | None]:
    """A unit as written -> (UCUM unit, note or None). The unit table (``unit_aliases`` of the
    mapping files) is looked up with the unit as written, then with typographic variants folded
    (micro signs, "×", superscript exponents, spaces); case is never folded ("G/L" is 10^9/L
    in French labs, "g/L" is grams per litre)."""
    written = unit.strip()
    if written in aliases:
        return aliases[written], f"unit {written!r} read as {aliases[written]} (unit table)"
    folded = _fold_unit(written)
    if folded in aliases:
        return aliases[folded], f"unit {written!r} read as {aliases[folded]} (unit table)"
    return folded, None


#: the results labs report in grams per volume (haemoglobin, albumin, M-protein): only there is a "G" read as a gram
_GRAM_TARGETS = frozenset({"g/L", "g/dL"})


def _gram_reading(unit: str, aliases: dict[str, str]) -> str | None:
    """The unit with a leading "G" (giga) read as grams ("G/L" -> "g/L", "G/DL" -> "g/dL"), or None."""
    written = unit.strip()
    if not written.startswith("G") or written[1:2] in ("i", "p"):  # "Giga/L", "Gpt/L" are counts only
        return None
    return normalise_unit("g" + written[1:], aliases)[0]


def convert_value(
    number: float,
    unit: str,
    target_unit: str,
    aliases: dict[str, str],
    molar_mass: float | None,
    comparator: str | None,
    element: str,
    notes: tuple[str, ...] = (),
) -> Value:
    ucum_unit, note = normalise_unit(unit, aliases)
    try:
        converted = convert(number, ucum_unit, target_unit, molar_mass)
    except UnitError as exc:
        # "G/L" is giga per litre for a count (French labs), but a haemoglobin in an upper-case export ("178
        # G/L") is grams: where the giga reading cannot be the analyte's, the gram one is tried (probe97 c556)
        gram = _gram_reading(unit, aliases) if target_unit in _GRAM_TARGETS else None
        try:
            if gram is None:
                raise exc
            converted = convert(number, gram, target_unit, molar_mass)
        except UnitError:
            _refuse(exc, unit, ucum_unit, element)
        ucum_unit, note = gram, f"unit {unit.strip()!r} read as {gram}: a count per volume cannot be this result"
    if not math.isfinite(converted):  # 1e308 g/L in mg/L: beyond what a float holds
        raise ResourceError(f"{element}.value {number!r} {unit} is out of range in {target_unit}")
    sent = f"{number:g} {unit}" if ucum_unit != target_unit and converted != number else None
    return Value(converted, target_unit, comparator, notes + ((note,) if note else ()), sent=sent)


def _refuse(exc: UnitError, unit: str, ucum_unit: str, element: str) -> NoReturn:
    # the unit as the source wrote it, where folding changed it (probe81 L4: "E3 x10^9/L" was shown glued)
    written = f" (written {unit.strip()!r})" if unit.strip() != ucum_unit else ""
    raise UnitRejected(f"{element}: {exc}{written}; add it to unit_aliases if it is a lab spelling", unit) from None


# --- numbers written as text ---------------------------------------------------------------

_COMPARATORS = {
    "<": "<",
    "<=": "<=",
    "=<": "<=",
    "≤": "<=",
    "⩽": "<=",
    ">": ">",
    ">=": ">=",
    "=>": ">=",
    "≥": ">=",
    "⩾": ">=",
    "=": None,
    "less than": "<",
    "below": "<",
    "under": "<",
    "менее": "<",
    "меньше": "<",
    "ниже": "<",
    "до": "<=",
    "greater than": ">",
    "more than": ">",
    "above": ">",
    "over": ">",
    "более": ">",
    "больше": ">",
    "выше": ">",
    "свыше": ">",
}
_COMP_RE = "|".join(sorted((re.escape(c) for c in _COMPARATORS), key=len, reverse=True))
_NUMBER_TEXT = re.compile(
    rf"^\s*(?P<comp>{_COMP_RE})?\s*(?P<num>[+-]?(?:\d+(?:[.,]\d+)?[eE][+-]?\d{{1,3}}(?![\d.,])|\d{{1,3}}(?:[ \u00a0\u2009\u202f']\d{{3}})+(?![\d^*])(?:[.,]\d+)?|\d[\d.,]*))\s*(?P<unit>\S.*?)?\s*$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f']")
_EXPONENT = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d{1,3}")


def parse_number(text: str) -> float:
    """A number as labs write it: "1 250,5", "1,250.5", "0,8", "12.5", "1 250" (thin or
    no-break spaces too). Raises ValueError when it is ambiguous ("1,250": thousands or a
    decimal comma?) or not a number; a single "." is always the decimal point."""
    t = text.strip().rstrip(".,")
    if _EXPONENT.fullmatch(t):  # "2.3e3", "2,3E+03": the exponent says where the decimal mark is (probe79 D10)
        return float(t.replace(",", "."))
    groups = _SPACES.split(t)
    if len(groups) > 1:
        if (
            not all(len(g) == 3 and g.isdigit() for g in groups[1:-1])
            or not re.match(r"^\d{3}(?:[.,]\d+)?$", groups[-1])
            or not re.match(r"^[+-]?\d{1,3}$", groups[0])
        ):
            raise ValueError(f"{text!r}: digit groups are not thousands")
        t = "".join(groups)
    if "," in t and "." in t:
        decimal = "," if t.rfind(",") > t.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        whole, _, frac = t.rpartition(decimal)
        if not re.match(rf"^[+-]?\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+$", whole):
            raise ValueError(f"{text!r}: mixed separators")
        t = whole.replace(thousands, "") + "." + frac
    elif t.count(",") > 1 or t.count(".") > 1:
        sep = "," if "," in t else "."
        if not re.match(rf"^[+-]?\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+$", t):
            raise ValueError(f"{text!r}: not a number")
        t = t.replace(sep, "")
    elif "," in t:
        whole, _, frac = t.partition(",")
        if len(frac) == 3 and whole.lstrip("+-") not in ("0", ""):
            raise ValueError(f"{text!r} is ambiguous: thousands separator or decimal comma")
        t = whole + "." + frac
    return float(t)


#: a sentence's full stop after a value text - "0.3 g/dL.", «0,3 г/л.», "< 0.1 g/dL.", "1500 pg/mL (serum)." - one
#: stop (fix140b B1: refused as the unit 'g/dL.'); not an ellipsis ("0.3 g/dL...", "0.3 g/dL. ."), whose text may go on
_FULL_STOP_END = re.compile(r"(?<=[^\s.])\s*\.$")


def without_full_stop(text: str, aliases: dict[str, str]) -> str:
    """``text`` without the full stop that ends it as a sentence; unchanged when it has none, or when the stop is
    part of a unit the unit table spells with one («мм рт.ст.»: the abbreviation's own stop)."""
    found = _FULL_STOP_END.search(text)
    if found is None:
        return text
    folded = _fold_unit(text)
    if any(folded.endswith(_fold_unit(spelling)) for spelling in aliases if spelling.endswith(".")):
        return text
    return text[: found.start()]


@dataclass(frozen=True)
class NumberText:
    number: float
    comparator: str | None
    unit: str | None


def parse_number_text(text: str) -> NumberText | None:
    """ "<50", "> 2000 pg/mL", "≥ 200", "1 250,5 пг/мл", "менее 50" -> number, comparator, unit.
    None when the text does not start with a number; ValueError when the number is ambiguous."""
    m = _NUMBER_TEXT.match(text)
    if not m:
        return None
    comp = _COMPARATORS[m.group("comp").lower()] if m.group("comp") else None
    number = parse_number(m.group("num"))
    unit = m.group("unit")
    return NumberText(number, comp, unit.strip() if unit else None)


@dataclass(frozen=True)
class Range:
    low: float | None
    high: float | None


class RangesDisagreeError(ValueError):
    """Two reference ranges that apply equally to the patient give different limits: neither is used.

    ``high_differs``: the value lies between their upper limits (one lab puts it above its limit, another
    within), so whether it is above the lab's upper limit is unknown - not "no" (probe89 D15)."""

    def __init__(self, message: str, *, high_differs: bool = False) -> None:
        super().__init__(message)
        self.high_differs = high_differs


def _agreeing(found: list[Range], shown: list[str], value: Value | None = None) -> Range:
    """One range from equally good ones: their limits merged where they agree (one may give only the
    low, the other only the high), and where a limit differs, the one that judges ``value`` as every
    other does (a VEGF of 150 above both upper limits 96.2 and 115 is above the lab's limit either way;
    probe88 D15, D18). RangesDisagreeError where the value lies between them, or no value is given
    (probe79: VEGF ranges "0-300" and "0-96.2", neither typed - the first listed decided, and the order a
    lab lists them in means nothing)."""
    lows = sorted({r.low for r in found if r.low is not None})
    highs = sorted({r.high for r in found if r.high is not None})
    low = _one_limit(lows, value, "low")
    high = _one_limit(highs, value, "high")
    if low is _BETWEEN or high is _BETWEEN:
        raise RangesDisagreeError(
            f"the lab's ranges {' and '.join(shown)} apply equally and disagree: neither is used",
            high_differs=high is _BETWEEN,
        )
    return Range(low, high)  # type: ignore[arg-type]


_BETWEEN = object()  # a value whose side of the limit the candidates do not agree on


def _one_limit(limits: list[float], value: Value | None, which: str) -> float | None | object:
    if len(limits) <= 1:
        return limits[0] if limits else None
    if value is None:
        return _BETWEEN
    least, most = _value_span(value)
    # the value above every upper limit (or below every lower one) is so under each; wholly on the
    # other side, it is within each
    if which == "high":
        return limits[-1] if least > limits[-1] else limits[0] if most <= limits[0] else _BETWEEN
    return limits[0] if most < limits[0] else limits[-1] if least >= limits[-1] else _BETWEEN


def _value_span(value: Value) -> tuple[float, float]:
    """The least and the most the value can be: a censored value ("<50") or a Range result spans more."""
    if value.comparator in ("<", "<="):
        return -math.inf, value.value
    if value.comparator in (">", ">="):
        return value.value, math.inf
    return value.value, value.high if value.high is not None else value.value


def _first_agreeing(obs: dict[str, Any], who: Subject | None, read: Any, value: Value | None = None) -> Range | None:
    """The first applicable range ``read`` can use, with the ranges of its rank after it (``read``: a
    referenceRange entry -> Range or None)."""
    chosen: dict[str, Any] | None = None
    found: list[Range] = []
    shown: list[str] = []
    for rr in applicable_ranges(obs, who):
        if chosen is not None and not same_rank(chosen, rr):
            break
        got = read(rr)
        if got is None:
            continue
        if got.low is not None and got.high is not None and got.low > got.high:
            raise ReversedRangeError(
                f"the lab's range {_range_words(rr, got)} has its low limit above its high limit (low and high "
                "swapped?): not read"
            )
        chosen = chosen or rr
        found.append(got)
        shown.append(repr(rr.get("text")) if isinstance(rr.get("text"), str) else _shown_range(got))
    if not found:
        return None
    used = _agreeing(found, shown, value)
    if value is not None:
        _undecided_range_agrees(obs, who, read, value, used, shown)
    return used


def _undecided_range_agrees(
    obs: dict[str, Any], who: Subject | None, read: Any, value: Value, used: Range, shown: list[str]
) -> None:
    """RangesDisagreeError where a range the lab sent for a population the patient may be in (whether he
    is cannot be judged: "Renal impairment") puts ``value`` on another side of a limit than the range
    used: which range the lab meant for him cannot be told (probe124 D5)."""
    for rr in undecided_populations(obs, who):
        try:
            other = read(rr)
        except ResourceError:  # a range of another population in a unit of its own: not read, as not used
            continue
        if other is None or (other.low is not None and other.high is not None and other.low > other.high):
            continue
        try:
            _agreeing([used, other], [], value)
        except RangesDisagreeError as exc:
            population = "; ".join(_population_words(rr))[:80]
            text = rr.get("text")
            words = repr(text[:80]) if isinstance(text, str) and text.strip() else _shown_range(other)
            if other.low is not None and other.high is not None and not isinstance(text, str):
                words = _range_words(rr, other)  # in the lab's own unit
            raise UndecidedRangeError(
                f"the lab's range {words} for {population!r} (whether it applies to this "
                f"patient cannot be judged) and its range {' and '.join(shown)} judge the value differently",
                used,
                high_differs=exc.high_differs,
            ) from None


def _population_words(rr: dict[str, Any]) -> list[str]:
    said = rr.get("appliesTo")
    concepts: list[Any] = said if isinstance(said, list) else [said]
    words = []
    for concept in concepts:
        if isinstance(concept, dict):
            label = concept_label(concept) or next((f"{s}|{c}" for s, c, _ in codings(concept) if c), "")
            words.append(label or "a population")
    return words or ["a population"]


class UndecidedRangeError(RangesDisagreeError):
    """The range used and one the lab sent for a population the patient may be in (whether he is cannot be
    judged: "Renal impairment") put the value on different sides of a limit (probe124 D5). ``used``: the
    range that applies, which still judges the side of the value the two agree on (``high_differs``: the
    upper limits disagree; else the lower ones)."""

    def __init__(self, message: str, used: Range, *, high_differs: bool = False) -> None:
        super().__init__(message, high_differs=high_differs)
        self.used = used

    def matters(self, side: str) -> bool:
        """Whether the disagreement is about ``side`` ("high", "low" or "either") of the value."""
        return side == "either" or (side == "high") == self.high_differs


class ReversedRangeError(RangesDisagreeError):
    """A referenceRange whose low limit lies above its high limit ("low 23, high 5", "23-5 µg/dL"): no
    range of the lab is used, the default limits decide, and it is said (probe103 D1: a normal cortisol
    read against the reversed range was low, an endocrinopathy, and the patient `met`, in silence)."""


def _range_words(rr: dict[str, Any], got: Range) -> str:
    """The range as the lab wrote it (its own values and units, not converted ones)."""
    sides = []
    for name in ("low", "high"):
        q = rr.get(name)
        if isinstance(q, dict) and isinstance(q.get("value"), (int, float)):
            unit = q.get("unit") or q.get("code")
            sides.append(f"{name} {q['value']:g}" + (f" {str(unit)[:20]}" if unit else ""))
    if len(sides) == 2:
        return ", ".join(sides)
    text = rr.get("text")
    return repr(text[:80]) if isinstance(text, str) and text.strip() else f"low {got.low:g}, high {got.high:g}"


def _shown_range(r: Range) -> str:
    if r.low is not None and r.high is not None:
        return f"'{r.low:g}-{r.high:g}'"
    return f"'<{r.high:g}'" if r.high is not None else f"'>{r.low:g}'"


def reference_range(
    obs: dict[str, Any],
    target_unit: str | None,
    aliases: dict[str, str],
    molar_mass: float | None,
    who: Subject | None = None,
    value: Value | None = None,
) -> Range | None:
    """The first usable referenceRange that applies to ``who`` (range_choice: sex, age), converted like
    the value, with the ranges of its rank (``_agreeing``: ``value`` decides between limits that differ
    where it lies on one side of them all). None when there is none.

    Bounds without a unit, and a text range ("0-115 pg/mL", "< 96,2", "до 5"), are in the unit
    the value itself was written in (the same result line); a text range that cannot be read is
    skipped, never an error.
    """
    ranges = obs.get("referenceRange")
    if not ranges or not isinstance(ranges, list):
        return None  # most results: no range, and no need to read the written unit
    written = _written_unit(obs)

    def read(rr: dict[str, Any]) -> Range | None:
        i = next(n for n, r in enumerate(ranges) if r is rr)
        low = high = None
        for name in ("low", "high"):
            q = rr.get(name)
            if q is None:
                continue
            if isinstance(q, dict) and not (q.get("unit") or q.get("code")) and written and target_unit:
                q = {**q, "unit": written}
            bound = quantity(q, f"referenceRange[{i}].{name}", target_unit, aliases, molar_mass).value
            low, high = (bound, high) if name == "low" else (low, bound)
        if low is not None or high is not None:
            return Range(low, high)
        text = rr.get("text")
        text = text_for(text, who) if isinstance(text, str) else None
        # a rule without a unit (prolactin: ng/mL and mIU/L are assay-dependent) keeps the value in its
        # written unit: a text range is read in that unit too (probe62 D15: "4-15" was never read)
        if isinstance(text, str) and (target_unit or written):
            return _text_range(text, written, target_unit or written or "", aliases, molar_mass)
        return None

    return _first_agreeing(obs, who, read, value)


#: the units of a ratio: a value or range written without a unit is in them (no unit is guessed for another rule)
RATIO_UNITS = frozenset({"1", "{ratio}"})


def _written_unit(obs: dict[str, Any]) -> str | None:
    """The unit the value was written in (before conversion), if any."""
    q = obs.get("valueQuantity")
    if isinstance(q, dict):
        unit = _unit_of(q)
        return unit if isinstance(unit, str) and unit else None
    text = obs.get("valueString")
    if isinstance(text, str):
        try:
            parsed = parse_number_text(text)
        except ValueError:
            return None
        return parsed.unit if parsed else None
    return None


_RANGE_WITH_UNIT = re.compile(
    r"^\s*(\d[\d\s.,]*?(?:[eE][+-]?\d{1,3})?)\s*(?:-|–|—|\.\.)\s*(\d[\d.,]*(?:[eE][+-]?\d{1,3})?)\s*(\S.*?)?\s*$"
)


def _text_range(
    text: str, written: str | None, target_unit: str, aliases: dict[str, str], molar_mass: float | None
) -> Range | None:
    # a ratio needs no unit, in its range as in its value: «0,26-1,65» beside a ratio of "0,84" is the ratio's
    # range (probe123 D8: an FLC ratio with its lab's text range was "no range to judge it"); a range without
    # a unit beside a value without one stays unread for any other rule (its unit is not guessed)
    written = written or (target_unit if target_unit in RATIO_UNITS else None)
    try:
        m = _RANGE_WITH_UNIT.match(text)
        if m:
            low_n, high_n, unit = parse_number(m.group(1)), parse_number(m.group(2)), m.group(3) or written
            if not unit:
                return None
            low = convert_value(low_n, unit, target_unit, aliases, molar_mass, None, "referenceRange.text")
            high = convert_value(high_n, unit, target_unit, aliases, molar_mass, None, "referenceRange.text")
            return Range(low.value, high.value)
        parsed = parse_number_text(text)
        if parsed is None or parsed.comparator is None or not (parsed.unit or written):
            return None
        bound = convert_value(
            parsed.number, parsed.unit or written or "", target_unit, aliases, molar_mass, None, "referenceRange.text"
        ).value
    except (ValueError, ResourceError):
        return None
    return Range(None, bound) if parsed.comparator in ("<", "<=") else Range(bound, None)


ABNORMAL_HIGH = {"H", "HH", "HU", ">"}
ABNORMAL_LOW = {"L", "LL", "LU", "<"}
ABNORMAL = {"A", "AA"} | ABNORMAL_HIGH | ABNORMAL_LOW
NORMAL = {"N"}
POSITIVE = {"POS", "DET"}
NEGATIVE = {"NEG", "ND"}


def interpretation_codes(obs: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    concepts = obs.get("interpretation")
    for concept in concepts if isinstance(concepts, list) else []:
        # case and spaces forgiven (probe140 D2: " POS ", "L " were no flag at all)
        out.update(code.strip().upper() for _, code, _ in codings(concept) if code and code.strip())
    return out


def compare(value: Value, cut: float, operator: str) -> bool | None:
    """Whether ``value`` satisfies ``operator cut``; None when a comparator makes it undecidable.

    A censored value ("<50", ">=2000") stands for an interval of possible true values: the
    answer is True when every value in it satisfies the test, False when none does, else None.
    """
    v, comp = value.value, value.comparator
    # the interval of possible true values: (low, low_inclusive, high, high_inclusive)
    inf = float("inf")
    low, low_in, high, high_in = {
        "<": (-inf, False, v, False),
        "<=": (-inf, False, v, True),
        ">": (v, False, inf, False),
        ">=": (v, True, inf, False),
    }.get(comp or "", (v, True, v if value.high is None else value.high, True))

    if operator in (">", ">="):
        all_hold = low > cut or (low == cut and (operator == ">=" or not low_in))
        any_hold = high > cut or (high == cut and operator == ">=" and high_in)
    else:
        all_hold = high < cut or (high == cut and (operator == "<=" or not high_in))
        any_hold = low < cut or (low == cut and operator == "<=" and low_in)
    if all_hold:
        return True
    return None if any_hold else False


_RANGE_TEXT = re.compile(
    r"^\s*(\d[\d\s.,]*?(?:[eE][+-]?\d{1,3})?)\s*(?:-|–|—|\.\.)\s*(\d[\d\s.,]*?(?:[eE][+-]?\d{1,3})?)\s*$"
)


def unitless_range(
    obs: dict[str, Any], unit: str | None = None, who: Subject | None = None, value: Value | None = None
) -> Range | None:
    """The lab's own range for a value that has no unit: low/high without units, or a text range
    such as "150-450", "<5", "до 5". A range with units is not used (the value's unit is unknown),
    except one in ``unit``, the value's own unit when it could not be converted: value and limits
    in one unit compare whatever that unit is. RangesDisagreeError as for ``reference_range``."""

    def read(rr: dict[str, Any]) -> Range | None:
        bounds: list[float | None] = []
        usable = True
        for name in ("low", "high"):
            q = rr.get(name)
            if q is None:
                bounds.append(None)
            elif (
                isinstance(q, dict)
                and isinstance(q.get("value"), (int, float))
                and not isinstance(q.get("value"), bool)
                and (not (q.get("unit") or q.get("code")) or (unit is not None and _unit_of(q) == unit))
            ):
                bounds.append(float(q["value"]))
            else:
                usable = False
        if usable and (bounds[0] is not None or bounds[1] is not None):
            return Range(bounds[0], bounds[1])
        text = rr.get("text")
        text = text_for(text, who) if isinstance(text, str) else None
        if not isinstance(text, str):
            return None
        m = _RANGE_TEXT.match(text)
        try:
            if m:
                return Range(parse_number(m.group(1)), parse_number(m.group(2)))
            parsed = parse_number_text(text)
        except ValueError:
            return None
        if parsed and not parsed.unit and parsed.comparator in ("<", "<="):
            return Range(None, parsed.number)
        if parsed and not parsed.unit and parsed.comparator in (">", ">="):
            return Range(parsed.number, None)
        return None

    return _first_agreeing(obs, who, read, value)
