# SPDX-License-Identifier: Apache-2.0
"""Which of a result's reference ranges applies to the patient.

Labs send sex- and age-stratified ``referenceRange`` entries (``appliesTo`` "male"/"female", ``age``
18-49 a / 50-100 a); criteria.md judges a value against the *local* limit for this patient (§4: "Hb >
sex-specific local ULN"). Every qualified range used to be skipped and of age ranges the first taken,
so a male estradiol was "not judged" beside his own male range and a 59-year-old's testosterone was
judged by the 18-49 range (probe62 D6-D9).

A range applies when each of its qualifiers holds for the patient: ``appliesTo`` naming a sex (HL7
administrative-gender, SNOMED CT 248153007/248152002, v2 0001 M/F, or the words in English and
Russian) and ``age`` (a Range in years, months, weeks or days; bounds inclusive, age in completed
units on the result's date). Ranges that apply and are qualified come first (the more specific), then
the unqualified ones; a range whose qualifier cannot be judged (sex or birth date not recorded, an
``appliesTo`` that names no sex: a menstrual phase, an ethnicity) does not apply - except the result's
only range qualified by age alone, which the lab chose for this patient. Pure: FHIR JSON in, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

_MALE_CODES = {"male", "m", "248153007", "men", "man"}
_FEMALE_CODES = {"female", "f", "248152002", "women", "woman"}
#: age units (UCUM, and the words senders use): "years" and "months" counted by the calendar, weeks and
#: days in days - also what a Condition's onsetAge is read in (extract)
AGE_UNITS: dict[str, str | int] = {"a": "years", "yr": "years", "year": "years", "years": "years",
                                   "mo": "months", "month": "months", "months": "months",
                                   "wk": 7, "week": 7, "weeks": 7, "d": 1, "day": 1, "days": 1}  # fmt: skip


def age_unit(unit: Any) -> str | int | None:
    """The age unit of a Quantity's ``code``/``unit`` (years when it has none); None when unknown."""
    return AGE_UNITS.get(unit.strip().lower()) if isinstance(unit, str) else "years"


@dataclass(frozen=True)
class Subject:
    """What a range's qualifiers ask about the patient: sex ("male"/"female") and age on the result's day."""

    sex: str | None = None
    birth: dt.date | None = None
    on: dt.date | None = None
    #: the latest the birth can be when only its year or month is known ("1965": Dec 31, 1965)
    birth_latest: dt.date | None = None

    def age_in(self, step: str | int, latest: bool = False) -> float | None:
        """Completed years or months by the calendar (a birthday counts), weeks and days by days."""
        born = (self.birth_latest or self.birth) if latest else self.birth
        if born is None or self.on is None or self.on < born:
            return None
        b, o = born, self.on
        months = (o.year - b.year) * 12 + o.month - b.month - (1 if o.day < b.day else 0)
        if step == "years":
            return float(months // 12)
        if step == "months":
            return float(months)
        return float((o - b).days // int(step))


def applicable_ranges(obs: dict[str, Any], who: Subject | None) -> list[dict[str, Any]]:
    """The result's normal referenceRange entries that apply to ``who``, the most specific first; of the
    same specificity, one typed "normal" before an untyped one."""
    ranges = (
        [rr for rr in obs.get("referenceRange") or [] if isinstance(rr, dict) and _meaning(rr) != "other"]
        if isinstance(obs.get("referenceRange"), list)
        else []
    )
    qualified: list[dict[str, Any]] = []
    plain: list[dict[str, Any]] = []
    for rr in ranges:
        verdict = _applies(rr, who or Subject())
        if verdict is True:
            (qualified if _is_qualified(rr) else plain).append(rr)
    qualified.sort(key=lambda rr: _meaning(rr) != "normal")  # stable: the lab's order otherwise
    plain.sort(key=lambda rr: _meaning(rr) != "normal")
    lone = ranges[0] if len(ranges) == 1 else None
    if (
        not qualified
        and lone is not None
        and not lone.get("appliesTo")
        and _applies(lone, who or Subject()) is None
        and _adult_band(lone.get("age"))
    ):
        return ranges  # the lab's only range, for an adult age band: it chose it for this patient
    return qualified + plain


def undecided_populations(obs: dict[str, Any], who: Subject | None) -> list[dict[str, Any]]:
    """The result's normal ranges for a population the patient may belong to but this engine cannot tell
    ("Renal impairment (eGFR < 60)", "Dialysis", a coded chronic kidney disease): an ``appliesTo`` naming
    no sex, whose other qualifiers do not exclude the patient. They are not used to judge a value, but a
    value they would judge otherwise than the range used is not judged (probe124 D5: an FLC ratio of 2.4
    above the standard 0.26-1.65 but inside the lab's renal 0.37-3.10 made the clone present in a patient
    with eGFR 24). A population of children or pregnancy, or of the other sex ("Postmenopausal women" for
    a man), is not the patient's, as in a text range."""
    found = []
    for rr in obs.get("referenceRange") or [] if isinstance(obs.get("referenceRange"), list) else []:
        if not isinstance(rr, dict) or _meaning(rr) == "other" or not rr.get("appliesTo"):
            continue
        concepts = rr["appliesTo"] if isinstance(rr["appliesTo"], list) else [rr["appliesTo"]]
        if any(_sex_of(c) is not None for c in concepts) or _applies(rr, who or Subject()) is False:
            continue  # a sex (judged, or not recorded) is range_choice's usual business
        if not any(_not_the_patients(_words_of(c), who) for c in concepts):
            found.append(rr)
    return found


def _words_of(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    names = [concept.get("text")] + [c.get("display") for c in concept.get("coding") or [] if isinstance(c, dict)]
    return " ".join(n for n in names if isinstance(n, str))


def _not_the_patients(words: str, who: Subject | None) -> bool:
    """A population the patient is not in: children, pregnancy, a critical limit, or the other sex only."""
    if _OTHER_POPULATION.search(words):
        return True
    if _outside_age_in_words(words, who):
        return True
    sexes = {"male"} if _MALE_WORDS.search(words) else set()
    sexes |= {"female"} if _FEMALE_WORDS.search(words) else set()
    sex = who.sex if who is not None else None
    return len(sexes) == 1 and sex in ("male", "female") and sex not in sexes


#: an age population in words (probe125 R10): "Men over 70 years", "Age > 70 years", «Мужчины старше 70 лет»,
#: "Adults 18-49 y", "50+ years", "under 50 years" - (above, number, below), with an age word or unit beside it.
#: Kazakh "70 жастан асқан" / "50 жасқа дейін" UNVERIFIED (not seen in real letters)
_NUM = r"(\d{1,3})"
_AGE_WORD = r"(?:years?|yrs?|y\.?o\.?|y|лет|года?|г\.|жас\w*)"
_AGE_CONTEXT = re.compile(r"\bage[ds]?\b|возраст|жас|\d\s*(?:years?|yrs?|y\.?o\b|y\b|лет\b|года?\b|г\.)", re.IGNORECASE)
_AGE_ABOVE = re.compile(
    r"(?:\bover|\babove|\bolder\s+than|\bgreater\s+than|\bmore\s+than|>=?|≥|\bстарше|\bболее|\bсвыше|\bпосле)\s*"
    + _NUM
    + r"|"
    + _NUM
    + r"\s*(?:\+|"
    + "(?:"
    + _AGE_WORD
    + r"\s*)?(?:and|or)\s*(?:over|above|older)|(?:жастан|жаста)\s+(?:асқан|жоғары)|"
    + "(?:"
    + _AGE_WORD
    + r"\s*)?и\s*старше)",
    re.IGNORECASE,
)
_AGE_BELOW = re.compile(
    r"(?:\bunder|\bbelow|\byounger\s+than|\bless\s+than|<=?|≤|\bмладше|\bменее|\bдо)\s*"
    + _NUM
    + r"|"
    + _NUM
    + r"\s*(?:жасқа\s+дейін|"
    + "(?:"
    + _AGE_WORD
    + r"\s*)?(?:and|or)\s*(?:under|younger))",
    re.IGNORECASE,
)
_AGE_BAND = re.compile(_NUM + r"\s*(?:-|–|—|\bto\b|\bдо\b)\s*" + _NUM + r"\s*" + _AGE_WORD + r"?", re.IGNORECASE)


def _outside_age_in_words(words: str, who: Subject | None) -> bool:
    """Whether a population named in words states an age the patient is surely not of (probe125 R10: "Men over
    70 years" beside the male range made a 55-year-old's low testosterone not judged). "Over 70" may mean 70 or
    71 on: an age at a bound is no verdict, nor is an age the birth date does not tell."""
    if who is None or not _AGE_CONTEXT.search(words):
        return False
    oldest, youngest = who.age_in("years"), who.age_in("years", latest=True)
    if oldest is None or youngest is None:
        return False
    low = high = None
    if (band := _AGE_BAND.search(words)) is not None:
        low, high = int(band.group(1)), int(band.group(2))
    elif (above := _AGE_ABOVE.search(words)) is not None:
        low = int(above.group(1) or above.group(2))
    elif (below := _AGE_BELOW.search(words)) is not None:
        high = int(below.group(1) or below.group(2))
    return (low is not None and oldest < low) or (high is not None and youngest > high)


def same_rank(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two applicable ranges are equally good for the patient (both qualified or both not, both
    typed "normal" or both untyped): the order the lab listed them in cannot choose between them."""
    return _is_qualified(a) == _is_qualified(b) and (_meaning(a) == "normal") == (_meaning(b) == "normal")


#: referenceRange.type (HL7 referencerange-meaning) that is not the normal range a value is judged
#: against: a treatment target or a recommended level, or the range of another population (a menstrual
#: phase, before puberty) - probe79 D4: a "treatment" range listed first decided a VEGF "absent" that
#: the lab's normal range put above its upper limit
_OTHER_MEANINGS = {
    "recommended", "treatment", "therapeutic", "pre", "post", "endocrine", "pre-puberty", "follicular",
    "midcycle", "luteal", "postmenopausal", "postmeopausal",
}  # fmt: skip
_OTHER_WORDS = re.compile(
    r"recommend|treat|therap|target|goal|desirable|optimal|pre-?pubert|follicul|luteal|mid-?cycle|menopaus|"
    r"рекоменд|лечени|терапевт|целев|оптимал",
    re.IGNORECASE,
)


def _meaning(rr: dict[str, Any]) -> str:
    """ "normal" (typed so), "other" (a typed range that is not the normal one) or "" (untyped, or a type
    not recognised: treated like an untyped range)."""
    concept = rr.get("type")
    if not isinstance(concept, dict):
        return ""
    codes = {
        str(c.get("code")).lower()
        for c in concept.get("coding") or []
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    }
    if "normal" in codes:
        return "normal"
    text = concept.get("text")
    if codes & _OTHER_MEANINGS or (isinstance(text, str) and _OTHER_WORDS.search(text)):
        return "other"
    return ""


def _adult_band(age: Any) -> bool:
    """Whether an age band reaches adulthood (its upper bound 18 years or more, or none): a lone neonatal
    or paediatric range is no range the lab chose for an adult being worked up (probe65 D12)."""
    high = age.get("high") if isinstance(age, dict) else None
    if not isinstance(high, dict):
        return True
    value, step = high.get("value"), age_unit(high.get("code") or high.get("unit"))
    if not isinstance(value, (int, float)) or isinstance(value, bool) or step is None:
        return False
    adult = 18.0 if step == "years" else 216.0 if step == "months" else 18 * 365 / int(step)
    return value >= adult


def _is_qualified(rr: dict[str, Any]) -> bool:
    return bool(rr.get("appliesTo")) or rr.get("age") is not None


def _applies(rr: dict[str, Any], who: Subject) -> bool | None:
    """True: every qualifier holds; False: one does not; None: one cannot be judged."""
    verdicts: list[bool | None] = []
    applies_to = rr.get("appliesTo")
    if applies_to:
        sexes = {_sex_of(c) for c in (applies_to if isinstance(applies_to, list) else [applies_to])}
        if None in sexes or not sexes:
            verdicts.append(None)  # a population that is no sex: cannot be judged here
        else:
            verdicts.append(None if who.sex not in ("male", "female") else who.sex in sexes)
    age = rr.get("age")
    if age is not None:
        verdicts.append(_age_applies(age, who))
    if False in verdicts:
        return False
    return None if None in verdicts else True


def _sex_of(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    found: set[str] = set()
    codings = concept.get("coding")
    for coding in codings if isinstance(codings, list) else []:
        code = coding.get("code") if isinstance(coding, dict) else None
        if isinstance(code, str):
            found |= _sex_words(code, exact=True)
    text = concept.get("text")
    if not found and isinstance(text, str):
        found = _sex_words(text, exact=False)
    return found.pop() if len(found) == 1 else None


#: a text ``appliesTo`` that names a sex and nothing else ("Male", "Adult women", "Мужчины"); one that
#: names more ("Men on testosterone replacement therapy", probe65 D9) is another population
_SEX_TEXT = re.compile(
    r"^(?:adults?\s+)?(?:(?P<m>males?|men|man|мужчин\w*|муж\.?)|(?P<f>females?|women|woman|женщин\w*|жен\.?))$"
)


def _sex_words(value: str, exact: bool) -> set[str]:
    v = " ".join(value.strip().lower().split())
    if exact or v in _MALE_CODES | _FEMALE_CODES:
        return {"male"} if v in _MALE_CODES else {"female"} if v in _FEMALE_CODES else set()
    m = _SEX_TEXT.match(v)
    return set() if m is None else {"male"} if m.group("m") else {"female"}


def _age_applies(age: Any, who: Subject) -> bool | None:
    if not isinstance(age, dict):
        return None
    verdict: bool | None = True
    for name, holds in (("low", lambda a, b: a >= b), ("high", lambda a, b: a <= b)):
        bound = age.get(name)
        if bound is None:
            continue
        if not isinstance(bound, dict):
            return None
        value, step = bound.get("value"), age_unit(bound.get("code") or bound.get("unit"))
        if not isinstance(value, (int, float)) or isinstance(value, bool) or step is None:
            return None
        # a birth date known to the year or month only: the band must hold (or fail) for every day it
        # can be (probe65 D8: "1975" judged as born on January 1)
        oldest, youngest = who.age_in(step), who.age_in(step, latest=True)
        if oldest is None or youngest is None:
            return None
        now = {holds(oldest, float(value)), holds(youngest, float(value))}
        if len(now) > 1:
            return None
        if now == {False}:
            verdict = False
    return verdict


#: a text range's parts: "; ", a new line, "|", a comma that is no decimal comma, brackets
_PARTS = re.compile(r"[;\n|()\[\]]|,(?!\d)|\s/\s?|/\s")  # a "/" with a space beside it: "M: … / F: …"
#: a sex word; a letter of a unit ("m/s", "/m", "m^2") is none
_MALE_WORDS = re.compile(r"(?<![/^*])\b(?:males?|men|man|m|мужчин\w*|муж\w*|м|ер|ерлер)\b(?![/^*])", re.IGNORECASE)
_FEMALE_WORDS = re.compile(
    r"(?<![/^*])\b(?:females?|women|woman|f|w|женщин\w*|жен\w*|ж|әйел\w*)\b(?![/^*])", re.IGNORECASE
)
#: a part for another population than an adult of either sex: children, pregnancy (probe81 D5)
_OTHER_POPULATION = re.compile(
    r"child|paediatr|pediatr|infant|newborn|neonat|pregnan|дет|ребен|ребён|новорожд|беремен|бала|жүкті|"
    r"critical|panic|alert|критич|тревож",  # a critical or panic limit is no normal range either (probe82 D2)
    re.IGNORECASE,
)
_NUMBER = r"(?:\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+(?![\d])(?:[.,]\d+)?|\d+(?:[.,]\d+)?(?:[eE][+-]?\d{1,3})?)"
#: "135-175 g/L", "150 - 400 (x10^9/L)", "1.5e2-4.0e2", "120 to 160": the limits and what follows them
_LIMITS = re.compile(
    rf"(?<![\d.,])(?P<low>{_NUMBER})\s*(?:-|–|—|\.\.|\bto\b|\bдо\b)\s*(?P<high>{_NUMBER})(?![\d.,])"
    r"(?P<after>\s*\(?\s*(?:[^\s\d;,()][^\s;,()]*)?)"
)
_AGE_BEFORE = re.compile(r"(?:\bage[ds]?|возраст\w*|жас\w*)\s*:?\s*$", re.IGNORECASE)
_AGE_UNIT = re.compile(r"\s*\(?\s*(?:y|yrs?|years?|mo|months?|лет|года?|г\.?|жас)$", re.IGNORECASE)
_BOUND = re.compile(rf"(?:<=|>=|<|>|≤|≥|\bдо\b|\bменее\b|\bболее\b|\bup to\b)\s*{_NUMBER}.*", re.IGNORECASE)


@dataclass
class _Part:
    text: str
    sexes: set[str]
    other: bool


def text_for(text: str, who: Subject | None) -> str | None:
    """The limits of a text range that apply to ``who``, as "LOW-HIGH UNIT" or "<HIGH UNIT" (what the
    value readers parse), or None when none can be told.

    Labs write words around their limits: a population ("Adults: 135-175 g/L", "(men and women)"), a sex
    before or after the numbers ("Male: 135-175", "M 135-175, F 120-160", "130-170 г/л (мужчины)"), an age
    band ("Men 18-65 y: 135-175"), other populations ("Children: 110-140", "Pregnant women: 110-170"). Parts
    labelled with the patient's sex come first, then parts naming no sex (or both); parts for other
    populations never apply; a part that names a sex alone labels the numbers before it (or after it, when
    it comes first). Two different ranges left for the patient: None - which one holds cannot be told.
    (probe79 D3, probe81 D4, D5: such texts were unreadable, so the default cut-off decided against the
    lab's own range, both ways.)"""
    parts = _parts(text)
    sex = who.sex if who is not None and who.sex in ("male", "female") else None
    if sex is None and any(len(p.sexes) == 1 for p in parts if not p.other):
        return None  # a range for one sex beside one for nobody in particular: sex not recorded, none applies
    own = [p for p in parts if not p.other and p.sexes == {sex}] if sex else []
    shared = [p for p in parts if not p.other and (not p.sexes or len(p.sexes) == 2)]
    for chosen in (own, shared):
        found = {limits for p in chosen if (limits := _limits_in(p.text)) is not None}
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            return None
    return None


def _parts(text: str) -> list[_Part]:
    parts: list[_Part] = []
    pending: set[str] = set()
    pending_other = False
    for piece in (p for chunk in _PARTS.split(text) for p in _by_label(chunk)):
        if not piece.strip():
            continue
        sexes = {"male"} if _MALE_WORDS.search(piece) else set()
        sexes |= {"female"} if _FEMALE_WORDS.search(piece) else set()
        other = bool(_OTHER_POPULATION.search(piece))
        if not any(c.isdigit() for c in piece):  # a label alone: for the numbers before it, or after it
            if parts and not parts[-1].sexes and not parts[-1].other:
                parts[-1].sexes, parts[-1].other = sexes, other
            else:
                pending, pending_other = pending | sexes, pending_other or other
            continue
        parts.append(_Part(piece, sexes | pending, other or pending_other))
        pending, pending_other = set(), False
    return parts


def _by_label(chunk: str) -> list[str]:
    """A chunk cut before each sex label that follows a number: "M 135-175 F 120-160" (probe82 D2)."""
    digit = re.search(r"\d", chunk)
    if digit is None:
        return [chunk]
    cuts = [
        m.start() for words in (_MALE_WORDS, _FEMALE_WORDS) for m in words.finditer(chunk) if m.start() > digit.start()
    ]
    bounds = [0, *sorted(cuts), len(chunk)]
    return [chunk[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _limits_in(part: str) -> str | None:
    """The one value range of a part ("LOW-HIGH UNIT"), an age band left out; else its one bound."""
    ranges = []
    for m in _LIMITS.finditer(part):
        # an age band: a unit of age after it, or "age" just before it (a bounded look: linear in the text)
        if _AGE_UNIT.match(m.group("after").rstrip(":")) or _AGE_BEFORE.search(
            part[max(0, m.start() - 24) : m.start()]
        ):
            continue
        ranges.append(m)
        if len(ranges) > 1:
            return None  # two value ranges in one part: which one holds cannot be told
    if ranges:
        m = ranges[0]
        unit = m.group("after").strip().strip("()").strip()
        return f"{m.group('low')}-{m.group('high')} {unit}".strip()
    bound = _BOUND.search(part)
    return bound.group(0).strip().rstrip(":").strip() if bound else None
