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
    """The result's referenceRange entries that apply to ``who``, the most specific first."""
    ranges = (
        [rr for rr in obs.get("referenceRange") or [] if isinstance(rr, dict)]
        if isinstance(obs.get("referenceRange"), list)
        else []
    )
    qualified: list[dict[str, Any]] = []
    plain: list[dict[str, Any]] = []
    for rr in ranges:
        verdict = _applies(rr, who or Subject())
        if verdict is True:
            (qualified if _is_qualified(rr) else plain).append(rr)
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
