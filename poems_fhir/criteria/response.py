# SPDX-License-Identifier: Apache-2.0
"""Treatment response over time (criteria.md §8): haematological (amyloid-style and IMWG-style),
VEGF, clinical per domain, and progression/relapse alerts.

Pure functions of measurements, events, findings and course assessments with an explicit as-of
date and configuration: no FHIR JSON, no I/O, no clock. Never a guessed category: where the
baseline is not measurable or a needed test is missing the answer is ``not_evaluable`` with why.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from .exact import at_least, at_most, difference, relative_change
from .model import Criterion, Finding, Sign, State
from .timeline import (
    CourseAssessment,
    Event,
    Measurement,
    add_days,
    day_text,
    escalation_window,
    latest_day,
    on_day,
    whole_months,
    within_period,
)

TREATMENT_KINDS = frozenset({"treatment", "autologous_hsct", "radiotherapy", "chemotherapy"})
DOMAIN_TOPICS = {
    "neuropathy": Criterion.POLYNEUROPATHY.value,
    "volume_overload": Criterion.EXTRAVASCULAR_VOLUME_OVERLOAD.value,
    "organomegaly": Criterion.ORGANOMEGALY.value,
    "skin": Criterion.SKIN_CHANGES.value,
    "pulmonary_hypertension": Sign.PULMONARY_HYPERTENSION.value,
}


@dataclass(frozen=True)
class ResponseConfig:
    """Cut-offs. Values marked UNVERIFIED in criteria.md come from the mapping file (configurable)."""

    vegf_cutoff: dict[str, float]  # pg/mL per specimen: plasma 200 (V), serum 1000 (UNVERIFIED)
    vegf_partial_decrease: float = 0.5  # UNVERIFIED (criteria.md §8.2)
    vegf_progression_increase: float = 0.5  # UNVERIFIED (criteria.md §8.2: "numeric rule UNVERIFIED")
    albumin_change: float = 0.10  # UNVERIFIED: direction only, criteria.md §8.4
    amyloid_serum_measurable: float = 5.0  # g/L: "baseline > 0.5 g/dL" (criteria.md §8.1a)
    amyloid_dflc_measurable: float = 100.0  # mg/L
    #: urine M-protein (light chain) mg/24 h: PR needs a baseline above it, PD a rise to above the second
    amyloid_urine_measurable: float = 100.0  # criteria.md §8.1a PR "if > 100 mg/day"
    amyloid_urine_progression: float = 200.0  # criteria.md §8.1a PD "to > 200 mg/day"
    imwg_serum_measurable: float = 10.0  # g/L (seed_case.md T1; IMWG threshold S)
    #: IMWG's urine parts beside a measurable serum M-protein (criteria.md §8.1b), mg/24 h: VGPR "urine
    #: M-protein < 100", PR "urine >= 90 % reduction or < 200", PD "(or urine >= 200)" from the nadir
    imwg_urine_vgpr_below: float = 100.0
    imwg_urine_pr_below: float = 200.0
    imwg_urine_pr_reduction: float = 0.9
    imwg_urine_progression: float = 200.0
    #: bone-marrow plasma cells (%) a CR must be below: IMWG "<5% BM plasma cells" (criteria.md §8.1b);
    #: amyloid-style "one version also requires BM plasma cells <5%" (§8.1a)
    cr_marrow_below: float = 5.0


@dataclass(frozen=True)
class Point:
    value: float
    unit: str | None
    effective: dt.date | None
    reference: str
    comparator: str | None = None  # a censored result: ">2000" is not 2000
    high: float | None = None  # a Range result: the true value lies in [value, high]
    #: what was measured ("serum_ife", ...): a qualitative immunofixation is shown as negative/positive,
    #: never as "0 g/L" beside a baseline in g/L (probe38 D17); in the JSON form only for an immunofixation
    analyte: str | None = field(default=None, compare=False)
    #: the results a computed value is derived from: a dFLC is one day's two light chains, both cited (probe98
    #: D7: "dFLC 180" cited only the lambda result of 190)
    derived_from: tuple[str, ...] = field(default=(), compare=False)
    #: the value as the lab sent it when converted ("1.2 g/dL"): shown for people, not in the JSON form
    sent: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": round(self.value, 4),
            "unit": self.unit,
            "effective": self.effective.isoformat() if self.effective else None,
            "reference": self.reference,
        }
        if self.comparator:
            out["comparator"] = self.comparator
        if self.high is not None:
            out["high"] = round(self.high, 4)
        if self.derived_from:
            out["derived_from"] = list(self.derived_from)
        if self.analyte in _QUALITATIVE:
            # its value is 1 (a band) or 0 (none): a reader must not take it for a measurement (probe42)
            out["analyte"] = self.analyte
            out["result"] = "positive" if self.value > 0 else "negative"
        return out


#: analytes whose point is a finding, not a number: the immunofixations
_QUALITATIVE = frozenset({"serum_ife", "urine_ife"})


@dataclass(frozen=True)
class HematologicResponse:
    framework: str  # "amyloid" | "imwg"
    category: str  # CR VGPR PR MR NR PD not_evaluable
    reason: str
    baseline: Point | None = None
    latest: Point | None = None
    change: float | None = None  # fraction, -0.91 = 91 % reduction
    caveats: tuple[str, ...] = ()
    provisional: bool = False
    #: what else decided the category beside baseline and latest (a CR's immunofixations, ratio, marrow)
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class VegfResponse:
    category: str  # complete partial none progression not_evaluable
    reason: str
    specimen: str | None = None
    baseline: Point | None = None
    latest: Point | None = None
    #: a progression's nadir, which the rise is measured from: shown instead of the baseline, which may be
    #: higher than the latest (probe41: "VEGF rising 850 -> 420")
    nadir: Point | None = None
    #: the newest follow-up VEGF of another specimen type when none of the baseline's own type followed, or when
    #: it is newer than the baseline type's last follow-up: a restaging all the same, shown and cited, never
    #: compared (probe108 D2: the report said "No restaging" and gave no reason beside a plasma VEGF after a serum
    #: baseline)
    unpaired: Point | None = None
    unpaired_specimen: str | None = None


@dataclass(frozen=True)
class DomainResponse:
    domain: str
    direction: str  # improved stable worse not_assessed
    reason: str
    evidence: tuple[str, ...] = ()
    effective: dt.date | None = None  # the day of the statement or result that decided the direction


@dataclass(frozen=True)
class Alert:
    code: str
    message: str
    evidence: tuple[str, ...] = ()
    #: the neurotoxic drugs given (a discordant response), the treatment begun after a progression:
    #: named where people read the alert (probe41 D9, probe69 D7)
    agents: tuple[str, ...] = ()
    #: the days the alert speaks of (a progression's and the later treatment's): shown with its words
    days: tuple[dt.date, ...] = ()


def percent(change: float) -> str:
    """A relative change in whole percent - but never rounded up onto a multiple of 5, where the categories'
    bounds lie (25, 50, 90 %): a 49.5 % fall read "-50%" beside the category MR (probe58 D5); it reads
    "-49.5%". Exact to a millionth first (float noise)."""
    exact = round(abs(change) * 100, 6)
    whole = round(exact)
    # below such a bound: cut to one decimal, never rounded (49.96 % read "-50%" through "50.0")
    below = math.floor(exact * 10) / 10
    shown = f"{below:.1f}".rstrip("0").rstrip(".") if whole % 5 == 0 and exact < whole else f"{whole}"
    return "0%" if shown == "0" else f"{'-' if change < 0 else '+'}{shown}%"


def distinct_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """One alert per code, in first-raised order, with the evidence of all: both haematological
    frameworks raise `hematologic_progression` for one rise, which people should read once."""
    merged: dict[str, Alert] = {}
    for alert in alerts:
        seen = merged.get(alert.code)
        if seen is None:
            merged[alert.code] = alert
        else:
            evidence = tuple(dict.fromkeys(seen.evidence + alert.evidence))
            agents = tuple(dict.fromkeys(seen.agents + alert.agents))
            merged[alert.code] = Alert(
                seen.code, f"{seen.message}; {alert.message}", evidence, agents, seen.days or alert.days
            )
    return list(merged.values())


@dataclass(frozen=True)
class LaterTreatment:
    """The first treatment dated after ``--as-of``, when none had started by then: "no treatment started by
    DATE (the first, lenalidomide, starts ...)", not "no treatment recorded" (probe83 D7)."""

    start: dt.date
    agents: tuple[str, ...]  # every agent (or summary) begun that day, sorted
    references: tuple[str, ...]


@dataclass(frozen=True)
class ResponseAssessment:
    as_of: dt.date | None
    baseline_date: dt.date | None
    first_treatment: dt.date | None
    hematologic: HematologicResponse
    hematologic_imwg: HematologicResponse
    vegf: VegfResponse
    clinical: dict[str, DomainResponse]
    alerts: tuple[Alert, ...] = field(default_factory=tuple)
    #: days after the baseline on which the amyloid-style response was CR (a relapse since does not
    #: undo them): the risk factors ask whether CR was ever reached (§9, "failure to reach CR")
    cr_dates: tuple[dt.date, ...] = ()
    #: treatments recorded on no readable day (their references), when none is dated: the response
    #: cannot start from them, but "no treatment recorded" would be wrong (probe79 D8)
    undated_treatments: tuple[str, ...] = ()
    #: results the response would read that have no date at all (no effective[x], no issued), by reference:
    #: not placed in time, so not used - and each named in its domain's caveat or reason (probe83 D6)
    undated_results: tuple[str, ...] = ()
    #: with no treatment by ``as_of``: the first one after it (probe83 D7)
    later_treatment: LaterTreatment | None = None

    @property
    def clinical_overall(self) -> str:
        directions = [d.direction for d in self.clinical.values()]
        for d in ("worse", "improved", "stable"):
            if d in directions:
                return d
        return "not_assessed"


# ------------------------------------------------------------------ helpers


def _upto(items: Iterable[Measurement], as_of: dt.date | None) -> list[Measurement]:
    """The results dated up to ``as_of``, by date, one per day: a day's copies of one result count
    once, and a day with different results of one test (and specimen) is left out (``same_day_conflicts``
    says so) - two samples of one day are no time course (probe48: 4.0 and 9.5 g/L on one day were a
    "rise from the nadir", or a response, depending on which id sorted last)."""
    kept = [min(day, key=lambda m: m.reference) for day in _by_day(items, as_of).values() if _agree(day)]
    return sorted(kept, key=lambda m: (m.effective, m.reference))


def _by_day(
    items: Iterable[Measurement], as_of: dt.date | None
) -> dict[tuple[str, dt.date, str | None], list[Measurement]]:
    """Results dated up to ``as_of``, grouped by test, day and specimen."""
    by_day: dict[tuple[str, dt.date, str | None], list[Measurement]] = {}
    for m in items:
        if m.effective and (as_of is None or m.effective <= as_of):
            by_day.setdefault((m.analyte, m.effective, m.specimen), []).append(m)
    return by_day


#: results of one test on one day that differ by at most this share of the larger are replicates (an
#: assay run twice, a corrected copy): the day counts once. This project's choice, not criteria.md's.
SAME_DAY_TOLERANCE = 0.10


def _agree(day: Sequence[Measurement]) -> bool:
    """Whether one day's results of one test say the same: equal, or numbers within SAME_DAY_TOLERANCE
    of each other with the same comparator and no range."""
    readings = {(m.value, m.comparator, m.high) for m in day}
    if len(readings) == 1:
        return True
    if len({(m.comparator, m.high) for m in day}) > 1 or any(m.high is not None for m in day):
        return False
    low, high = min(m.value for m in day), max(m.value for m in day)
    return high - low <= SAME_DAY_TOLERANCE * abs(high)


def same_day_conflicts(
    measurements: Sequence[Measurement], as_of: dt.date | None
) -> list[tuple[str, dt.date, tuple[Measurement, ...]]]:
    """(analyte, day, results) for each day with different results of one test and specimen, up to
    ``as_of``: left out of the response (``_upto``) and named in its caveats."""
    return sorted(
        (analyte, day, tuple(sorted(ms, key=lambda m: m.reference)))
        for (analyte, day, _), ms in _by_day(measurements, as_of).items()
        if not _agree(ms)
    )


def _series(measurements: Sequence[Measurement], analyte: str, as_of: dt.date | None) -> list[Measurement]:
    return _upto((m for m in measurements if m.analyte == analyte), as_of)


def _later(a: Point | None, b: Point | None) -> Point | None:
    """The later of two points (``a`` on a tie, ``b`` when ``a`` has no date): the measurement that
    decided a category is the one it is dated by."""
    if a is None or b is None:
        return a or b
    if a.effective is None or (b.effective is not None and b.effective > a.effective):
        return b
    return a


def _point(m: Measurement | None) -> Point | None:
    return Point(m.value, m.unit, m.effective, m.reference, m.comparator, m.high, m.analyte, sent=m.sent) if m else None


def _cr_evidence(c: _Clone, ratio: Measurement | None) -> tuple[str, ...]:
    """A CR rests on both immunofixations (the serum one is ``latest``), and the FLC ratio and the
    marrow where they were assessed: each is cited, so a reader can check the claim."""
    return tuple(m.reference for m in (c.urine_ife, ratio, c.bm_latest) if m is not None)


def first_treatment(events: Iterable[Event], as_of: dt.date | None = None) -> dt.date | None:
    dates = [
        e.effective
        for e in events
        if e.kind in TREATMENT_KINDS
        and e.effective
        and e.status not in ("preparation", "planned")
        and (as_of is None or e.effective <= as_of)
    ]
    return min(dates) if dates else None


def later_treatment(events: Iterable[Event], as_of: dt.date | None) -> LaterTreatment | None:
    """The first treatment given after ``as_of`` (``first_treatment``'s kinds and statuses), every agent of
    its day; None without ``as_of`` or such a treatment."""
    if as_of is None:
        return None
    later = [
        e
        for e in events
        if e.kind in TREATMENT_KINDS
        and e.effective
        and e.effective > as_of
        and e.status not in ("preparation", "planned")
    ]
    if not later:
        return None
    start = min(e.effective for e in later if e.effective)
    first = [e for e in later if e.effective == start]
    return LaterTreatment(
        start,
        tuple(sorted({e.agent or e.summary for e in first})),
        tuple(sorted({e.reference for e in first})),
    )


def undated_treatments(events: Iterable[Event]) -> tuple[str, ...]:
    """The treatments given on no readable day (``first_treatment`` cannot count them), by reference."""
    return tuple(
        dict.fromkeys(
            e.reference
            for e in events
            if e.kind in TREATMENT_KINDS and e.effective is None and e.status not in ("preparation", "planned")
        )
    )


def _within_year(measurements: Sequence[Measurement], start: dt.date | None, as_of: dt.date | None) -> tuple[str, ...]:
    """The results the response reads that lie within the year a first treatment is known to only (probe128
    D7): none, and the year orders every result as a day would; any, and their order against it is unknown."""
    if start is None or getattr(start, "precision", None) != "year":
        return ()
    last = latest_day(start)
    return tuple(
        dict.fromkeys(
            m.reference
            for m in measurements
            if m.analyte in UNDATED_RESPONSE_RESULTS
            and m.effective is not None
            and start <= m.effective <= last
            and (as_of is None or m.effective <= as_of)
        )
    )


def _year_transplants(events: Iterable[Event], start: dt.date | None) -> tuple[str, ...]:
    """The transplants known only to the year the first treatment starts in (probe128 D7). A transplant is one day
    inside it; a radiotherapy course known to its year keeps its own reading (timeline.within_period)."""
    if start is None or getattr(start, "precision", None) != "year":
        return ()
    return tuple(
        dict.fromkeys(
            e.reference
            for e in events
            if e.kind == "autologous_hsct"
            and e.effective == start
            and getattr(e.effective, "precision", None) == "year"
        )
    )


def _not_evaluable(as_of: dt.date | None, reason: str) -> ResponseAssessment:
    """Every part of the response not evaluable (not assessed) for one ``reason``."""
    return ResponseAssessment(
        as_of,
        None,
        None,
        HematologicResponse("amyloid", "not_evaluable", reason),
        HematologicResponse("imwg", "not_evaluable", reason),
        VegfResponse("not_evaluable", reason),
        {d: DomainResponse(d, "not_assessed", reason) for d in (*DOMAIN_TOPICS, "albumin")},
    )


def _listed(refs: tuple[str, ...]) -> str:
    return ", ".join(refs[:3]) + (", ..." if len(refs) > 3 else "")


def _baseline(series: list[Measurement], cut: dt.date | None) -> Measurement | None:
    """The last measurement on or before ``cut``: a sample drawn on the day treatment starts is
    taken before the first dose has had any effect."""
    if cut is None:
        return None
    before = [m for m in series if m.effective and m.effective <= cut]
    return before[-1] if before else None


def _after(series: list[Measurement], start: dt.date) -> list[Measurement]:
    return [m for m in series if m.effective and m.effective > start]


# ------------------------------------------------------------------ haematological


#: the amyloid-style caveat when a CR is possible but cannot be judged: "no CR" risk factors then stay
#: not assessed (criteria.md §3.3: never read a missing test as a result)
CR_NOT_ASSESSABLE = "serum immunofixation negative but urine immunofixation not assessed: CR not assessable"


@dataclass(frozen=True)
class _Clone:
    """Everything the two haematological frameworks read, cut at the baseline."""

    m_base: Measurement | None
    m_after: list[Measurement]
    dflc_base: float | None
    #: (day, dFLC mg/L, the involved chain's reference, the uninvolved chain's) after the baseline
    dflc_after: list[tuple[dt.date, float, str, str]]
    serum_ife: Measurement | None  # latest after baseline
    urine_ife: Measurement | None
    ife_ever_negative_both: dt.date | None
    flc_ratio_latest: Measurement | None
    bm_latest: Measurement | None
    #: (day, involved free light chain mg/L, its reference) for each day both chains were measured
    flc_involved: list[tuple[dt.date, float, str]] = field(default_factory=list)
    #: 24-hour urine M-protein (mg/24 h): the baseline and what followed it
    u_base: Measurement | None = None
    u_after: list[Measurement] = field(default_factory=list)
    #: the first negative serum and urine immunofixation whose restaging (31 days either side) has no
    #: FLC ratio outside its lab's range: the amyloid-style CR (§8.1a) that "PD from CR" starts from
    ife_negative_both_ratio_not_abnormal: dt.date | None = None
    #: the urine immunofixation of the baseline (the last on or before the cut)
    urine_ife_base: Measurement | None = None
    #: every serum and urine immunofixation after the baseline, by date (a relapse is dated by the first
    #: positive of the run that is still positive, not by the latest)
    serum_ife_after: tuple[Measurement, ...] = ()
    urine_ife_after: tuple[Measurement, ...] = ()
    #: the baseline dFLC as a point (its day, its involved chain): shown when no M-protein baseline is
    base_dflc_point: Point | None = None
    #: the serum immunofixation of the baseline (the last on or before the cut)
    serum_ife_base: Measurement | None = None
    #: the clone's light chain (typed by immunofixation, else the higher at the baseline), or None
    light: str | None = None


def _flc_pairs(
    measurements: Sequence[Measurement], as_of: dt.date | None, light: str | None
) -> list[tuple[dt.date, float, float, str, str]]:
    """(day, involved, uninvolved, the involved chain's reference, the uninvolved's) per date both chains were
    measured (mg/L)."""
    kappa = {m.effective: m for m in _series(measurements, "flc_kappa", as_of) if m.effective}
    lam = {m.effective: m for m in _series(measurements, "flc_lambda", as_of) if m.effective}
    out = []
    for day in sorted(set(kappa) & set(lam)):
        k, l_ = kappa[day].value, lam[day].value
        lam_involved = light == "lambda" or (light is None and l_ >= k)
        involved, uninvolved = (l_, k) if lam_involved else (k, l_)
        refs = (
            (lam[day].reference, kappa[day].reference) if lam_involved else (kappa[day].reference, lam[day].reference)
        )
        out.append((day, involved, uninvolved, *refs))
    return out


def _chain_high_at_baseline(measurements: Sequence[Measurement], cut: dt.date, as_of: dt.date | None) -> str | None:
    """With no light chain typed by immunofixation, the clone's chain is the one higher at the baseline
    (the last day both were measured on or before the cut, else the first after), kept for every later
    day: a chain that fell below the other is a dFLC below 0, not the other chain "involved" (a kappa
    clone at 150 against 10 mg/L and 8 against 15 after treatment was "dFLC 7 mg/L, lambda involved").
    None when the two are equal then, or never measured the same day."""
    kappa = {m.effective: m.value for m in _series(measurements, "flc_kappa", as_of) if m.effective}
    lam = {m.effective: m.value for m in _series(measurements, "flc_lambda", as_of) if m.effective}
    days = sorted(set(kappa) & set(lam))
    if not days:
        return None
    before = [d for d in days if d <= cut]
    day = before[-1] if before else days[0]
    high, low = max(kappa[day], lam[day]), min(kappa[day], lam[day])
    # only a chain clearly the higher names a clone (probe74 D12: kappa 150 against lambda 130 took kappa
    # as the clone, and a lambda rise to 300 went unseen); else each day's higher chain, as before
    if high == low or high < _CLONE_DOMINANCE * low:  # equal (both 0 too: no chain is higher), or not clearly
        return None
    return "lambda" if lam[day] > kappa[day] else "kappa"


#: how many times the other chain the clone's must be at the baseline to be taken as the clone's chain
#: without an immunofixation (no FLC ratio interval is set in criteria.md: a plain "clearly higher")
_CLONE_DOMINANCE = 2.0


def _dflc(
    measurements: Sequence[Measurement], as_of: dt.date | None, light: str | None
) -> list[tuple[dt.date, float, str, str]]:
    """Involved minus uninvolved free light chain, per date both were measured (mg/L), with both references."""
    return [
        (day, difference(inv, uninv), ref, other)
        for day, inv, uninv, ref, other in _flc_pairs(measurements, as_of, light)
    ]


def _any_within(days: list[dt.date], day: dt.date, margin: int) -> bool:
    """Whether sorted ``days`` holds one within ``margin`` days of ``day``."""
    i = bisect.bisect_left(days, add_days(day, -margin))
    return i < len(days) and days[i] <= add_days(day, margin)


def _clone(measurements: Sequence[Measurement], cut: dt.date, as_of: dt.date | None, light: str | None) -> _Clone:
    m_series = _series(measurements, "serum_m_protein", as_of)
    m_base = _baseline(m_series, cut)
    u_series = _series(measurements, "urine_m_protein", as_of)
    u_base = _baseline(u_series, cut)
    # the baseline is the last value on or before the cut, so what follows it is what follows the cut
    m_after = _after(m_series, cut)
    dflc = _dflc(measurements, as_of, light)
    base_d = [d for d in dflc if d[0] <= cut]
    after_d = [d for d in dflc if d[0] > cut]
    serum = _after(_series(measurements, "serum_ife", as_of), cut)
    urine = _after(_series(measurements, "urine_ife", as_of), cut)
    # the first negative serum IFE with a negative urine IFE within 31 days (bisected: linear time)
    urine_negative = sorted(u.effective for u in urine if u.value == 0 and u.effective)
    month = 31  # days
    negative_days = [
        s.effective for s in serum if s.value == 0 and s.effective and _any_within(urine_negative, s.effective, month)
    ]
    ratio = _series(measurements, "flc_ratio", as_of)
    abnormal_days = sorted(r.effective for r in ratio if r.abnormal and r.effective and r.effective > cut)
    cr_day = next((d for d in negative_days if not _any_within(abnormal_days, d, month)), None)
    bm = _series(measurements, "bm_plasma_cells", as_of)
    return _Clone(
        m_base,
        m_after,
        base_d[-1][1] if base_d else None,
        after_d,
        serum[-1] if serum else None,
        urine[-1] if urine else None,
        negative_days[0] if negative_days else None,
        ratio[-1] if ratio and ratio[-1].effective and ratio[-1].effective > cut else None,
        bm[-1] if bm and bm[-1].effective and bm[-1].effective > cut else None,
        [(day, inv, ref) for day, inv, _, ref, _ in _flc_pairs(measurements, as_of, light)],
        u_base,
        _after(u_series, cut),
        cr_day,
        _baseline(_series(measurements, "urine_ife", as_of), cut),
        tuple(serum),
        tuple(urine),
        _dflc_at(base_d[-1]) if base_d else None,
        _baseline(_series(measurements, "serum_ife", as_of), cut),
        light,
    )


def _no_m_protein_baseline(c: _Clone, what: str, *, urine: bool) -> str:
    """Why there is no M-protein baseline: none measured, or one shown by immunofixation and never
    quantified ("no M-protein" beside a positive immunofixation read as no clone, probe42)."""
    ife = [m for m in (c.serum_ife_base, c.urine_ife_base if urine else None) if m is not None and _ife_positive(m)]
    if ife:
        return f"{what} detected by immunofixation before the first treatment but not quantified"
    return f"no {what} before the first treatment"


def _progression_from_cr(c: _Clone, *, flc: bool) -> tuple[str, Measurement] | None:
    """What shows the clone back after serum and urine immunofixation were both negative (§8.1a PD
    "from CR"): any detectable M-protein - a positive serum or urine immunofixation, a serum M-protein
    above 0 - or, with ``flc`` (amyloid-style), an abnormal FLC ratio with the involved light chain
    doubled from its lowest value since then. None when nothing does (or there was no such CR).
    Amyloid-style (``flc``), CR also needs a normal FLC ratio: negative immunofixations beside an
    abnormal ratio were no CR, and a later band is then judged from the nadir like any PR/SD."""
    since = c.ife_negative_both_ratio_not_abnormal if flc else c.ife_ever_negative_both
    if since is None:
        return None
    # dated by the first result that showed the clone back and has not been contradicted since (the
    # latest is still positive): a relapse seen in March is not re-dated by September's larger band
    # (probe38 D4); the earliest of serum IFE, urine IFE and serum M-protein, in that order on a tie
    back = [
        (first.effective, n, what(first), first)
        for n, (series, positive, what) in enumerate(
            (
                (c.serum_ife_after, _ife_positive, lambda m: f"serum immunofixation positive on {m.effective}"),
                (c.urine_ife_after, _ife_positive, lambda m: f"urine immunofixation positive on {m.effective}"),
                (c.m_after, _m_detectable, lambda m: f"serum M-protein {m.value:g} g/L on {m.effective}"),
            )
        )
        if (first := _first_of_standing_run(series, since, positive)) is not None and first.effective
    ]
    if back:
        _, _, said, shown = min(back, key=lambda b: (b[0], b[1]))
        return said, shown
    ratio = c.flc_ratio_latest
    if not flc or ratio is None or not ratio.abnormal or not ratio.effective or ratio.effective <= since:
        return None
    # the involved chain on the ratio's day against its lowest value from the CR on (the month
    # before the negative immunofixation counts: the samples of one restaging are not all drawn together)
    window = add_days(since, -31)
    today = [v for day, v, _ in c.flc_involved if day == ratio.effective]
    earlier = [v for day, v, _ in c.flc_involved if window <= day < ratio.effective]
    if today and earlier and today[0] >= 2 * min(earlier) and min(earlier) > 0:
        return (
            f"FLC ratio {ratio.value:g} outside the lab's range on {ratio.effective} with the involved light "
            f"chain doubled ({min(earlier):g} -> {today[0]:g} mg/L)",
            ratio,
        )
    return None


def _dflc_point(c: _Clone) -> Point | None:
    """The latest dFLC as a response's latest point (cited by its involved light chain): a response the
    light chains decide is dated and shown by them (probe41: a light-chain-only clone's VGPR was dated at
    the baseline, "No restaging after the baseline", and cited nothing)."""
    if not c.dflc_after:
        return None
    return _dflc_at(c.dflc_after[-1])


def _dflc_at(dflc: tuple[dt.date, float, str, str]) -> Point:
    """One day's dFLC as a point: cited by its involved chain, derived from both."""
    day, value, ref, other = dflc
    return Point(value, "mg/L", day, ref, analyte="dflc", derived_from=(ref, other))


def _ife_positive(m: Measurement) -> bool:
    return m.value == 1


def _m_detectable(m: Measurement) -> bool:
    return m.value > 0


def _first_of_standing_run(
    series: Sequence[Measurement], since: dt.date, positive: Callable[[Measurement], bool]
) -> Measurement | None:
    """The first result after ``since`` of the unbroken run of positive results that ends with the
    latest one; None when the latest result is not positive (or there is none after ``since``)."""
    first = None
    for m in series:
        if not m.effective or m.effective <= since:
            continue
        first = (first or m) if positive(m) else None
    return first


def _nadir_of(c: _Clone) -> Measurement | None:
    """The lowest serum M-protein before the latest (baseline included), first on a tie."""
    earlier = [*c.m_after[:-1], *([c.m_base] if c.m_base else [])]
    return min(earlier, key=lambda m: m.value) if earlier else None


def _cited(m: Measurement | None) -> tuple[str, ...]:
    return (m.reference,) if m is not None else ()


def _risen_by_half(earlier: list[float], last: float, above: float) -> float | None:
    """§8.1a PD from PR/SD: the nadir of ``earlier`` (baseline included) when ``last`` rose >= 50 %
    from it to more than ``above``; None otherwise (or with nothing earlier)."""
    nadir = min(earlier, default=None)
    return nadir if nadir is not None and at_least(last, nadir, 1.5) and last > above else None


def amyloid_response(c: _Clone, cfg: ResponseConfig) -> HematologicResponse:
    fw = "amyloid"
    latest_m = c.m_after[-1] if c.m_after else None
    base_p, latest_p = _point(c.m_base), _point(latest_m)
    change = relative_change(latest_m.value, c.m_base.value) if latest_m and c.m_base and c.m_base.value else None
    m_measurable = bool(c.m_base and c.m_base.value > cfg.amyloid_serum_measurable)
    d_measurable = c.dflc_base is not None and c.dflc_base > cfg.amyloid_dflc_measurable
    u_measurable = bool(c.u_base and c.u_base.value > cfg.amyloid_urine_measurable)
    # PD: from CR any detectable M-protein; from PR/SD >= 50 % rise from nadir to > 5 g/L, or FLC
    relapse = _progression_from_cr(c, flc=True)
    if relapse:
        what, shown_by = relapse
        return HematologicResponse(
            fw,
            "PD",
            f"M-protein detectable again after a complete response ({what})",
            base_p,
            # what shows the clone back is the latest point: a positive urine immunofixation or an FLC
            # ratio after a serum M-protein of 0 on the CR day (probe35: the report was dated and cited at CR)
            _later(latest_p, _point(shown_by)),
            change,
            evidence=(shown_by.reference,),  # always a result: what showed the clone back
        )
    # a negative immunofixation dated after the latest M-protein value: the M-protein is undetectable now,
    # so that value's rise is no longer the state (probe111 D1: a PD stood beside a later CR shown by
    # negative serum and urine immunofixations sent without an electrophoresis value)
    serum_gone = _serum_undetectable_after(c, latest_m) if latest_m is not None else None
    urine_gone = _urine_undetectable_after(c)
    if latest_m is not None and serum_gone is None:  # (c.m_after is not empty)
        earlier = [m.value for m in c.m_after[:-1]] + ([c.m_base.value] if c.m_base else [])
        nadir = _risen_by_half(earlier, latest_m.value, cfg.amyloid_serum_measurable)
        if nadir is not None:
            return HematologicResponse(
                fw,
                "PD",
                f"M-protein rose >= 50 % from its nadir ({nadir:g} g/L) to "
                f"{latest_m.value:g} g/L (> {cfg.amyloid_serum_measurable:g} g/L)",
                base_p,
                latest_p,
                change,
                evidence=_cited(_nadir_of(c)),  # the rise is measured from it: cited (probe48 D11)
            )
    if c.dflc_after:
        last_d = c.dflc_after[-1][1]
        earlier_d = [d[1] for d in c.dflc_after[:-1]] + ([c.dflc_base] if c.dflc_base is not None else [])
        if _risen_by_half(earlier_d, last_d, 100) is not None:
            return HematologicResponse(
                fw,
                "PD",
                f"dFLC rose >= 50 % from its nadir to {last_d:g} mg/L",
                base_p,
                _later(latest_p, _dflc_at(c.dflc_after[-1])),
                change,
                evidence=c.dflc_after[-1][2:],
            )
    if c.u_after and urine_gone is None:
        # "≥ 50 % increase urine M-protein to > 200 mg/day with visible peak": a quantified urine
        # M-protein is the peak
        last_u = c.u_after[-1]
        earlier_u = [u.value for u in c.u_after[:-1]] + ([c.u_base.value] if c.u_base else [])
        nadir_u = _risen_by_half(earlier_u, last_u.value, cfg.amyloid_urine_progression)
        if nadir_u is not None:
            return HematologicResponse(
                fw,
                "PD",
                f"urine M-protein rose >= 50 % from its nadir ({nadir_u:g} mg/24 h) to {last_u.value:g} mg/24 h "
                f"(> {cfg.amyloid_urine_progression:g} mg/24 h)",
                base_p,
                _later(latest_p, _point(last_u)),
                change,
                evidence=(last_u.reference,),
            )
    caveats: list[str] = []
    # CR: serum and urine immunofixation negative and a normal FLC ratio (an abnormal one: no CR)
    ratio = c.flc_ratio_latest
    if ratio is not None and ratio.abnormal:
        caveats.append(
            f"FLC ratio {ratio.value:g} on {ratio.effective} outside the lab's range: not a complete response"
        )
    elif c.serum_ife and c.serum_ife.value == 0 and c.urine_ife and c.urine_ife.value == 0:
        provisional = False
        if ratio is None:
            caveats.append("FLC ratio not assessed (needed for amyloid-style CR)")
            provisional = True
        elif ratio.abnormal is None:
            caveats.append(f"FLC ratio {ratio.value:g} without the lab's reference range: normal not confirmed")
            provisional = True
        if c.bm_latest is None:
            caveats.append("bone-marrow plasma cells not assessed (one version of CR requires < 5 %)")
            provisional = True
        elif c.bm_latest.value >= cfg.cr_marrow_below:
            # probe35: a CR was claimed, citing a 6 % marrow as its support
            caveats.append(_marrow_not_cr(c.bm_latest, cfg) + " by the version of CR that requires it")
            provisional = True
        return HematologicResponse(
            fw,
            "CR",
            "serum and urine immunofixation negative",
            base_p,
            _point(c.serum_ife),
            change,
            tuple(caveats),
            provisional,
            _cr_evidence(c, ratio),
        )
    if c.serum_ife and c.serum_ife.value == 0 and not c.urine_ife:
        caveats.append(CR_NOT_ASSESSABLE)
    # VGPR: dFLC < 40 mg/L - reached, not held from the start: a dFLC already below 40 before treatment
    # says nothing of a response (probe35: 25 -> 38 mg/L with the M-protein rising was called a VGPR)
    if c.dflc_after and c.dflc_after[-1][1] < 40:
        if c.dflc_base is not None and c.dflc_base < 40:
            caveats.append(f"dFLC {c.dflc_base:g} mg/L was below 40 mg/L before treatment: no VGPR by it")
        elif c.dflc_base is None and not _m_protein_responded(c, m_measurable, change):
            # nor without a dFLC before treatment while the M-protein shows no response: "reached" cannot be
            # told (a dFLC of 33 mg/L beside an M-protein rising 8 -> 9 g/L read as a VGPR; mutation run)
            caveats.append(
                f"dFLC {c.dflc_after[-1][1]:g} mg/L < 40 mg/L, but no dFLC before treatment and no M-protein "
                "response: whether a VGPR was reached cannot be told"
            )
        else:
            unknown_base = c.dflc_base is None
            if unknown_base:  # the M-protein responded: a VGPR, provisional, as the dFLC's start is unknown
                caveats.append("no dFLC before treatment: the VGPR is read beside the M-protein's response")
            if c.dflc_after[-1][1] < 0 and c.light:
                # said, so that a ratio abnormal the other way is not read as this clone's (probe70 D16)
                caveats.append(
                    f"dFLC {c.dflc_after[-1][1]:g} mg/L: the clone's light chain ({c.light}) is now below the other one"
                )
            return HematologicResponse(
                fw,
                "VGPR",
                f"dFLC {c.dflc_after[-1][1]:g} mg/L < 40 mg/L",
                *_dflc_sides(c, base_p, latest_p, change),
                tuple(caveats),
                unknown_base,
                evidence=c.dflc_after[-1][2:],
            )
    if not c.dflc_after and (c.m_after or c.serum_ife):
        caveats.append("VGPR not assessable: dFLC (free light chains) not measured after treatment")
    if serum_gone is not None and m_measurable:
        # undetectable since the latest value: a 100 % reduction (as the IMWG row reads it)
        return HematologicResponse(
            fw,
            "PR",
            f"M-protein not detectable (serum immunofixation negative on {serum_gone.effective})",
            base_p,
            _point(serum_gone),
            -1.0,
            tuple(caveats),
            evidence=(serum_gone.reference,),
        )
    # PR: >= 50 % fall of a measurable M-protein or dFLC
    if m_measurable and change is not None and change <= -0.5:
        return HematologicResponse(
            fw,
            "PR",
            f"M-protein {c.m_base.value:g} -> {latest_m.value:g} g/L "  # type: ignore[union-attr]
            f"({percent(change)})",
            base_p,
            latest_p,
            change,
            tuple(caveats),
        )
    if d_measurable and c.dflc_after and at_most(c.dflc_after[-1][1], c.dflc_base, 0.5):  # type: ignore[arg-type]
        return HematologicResponse(
            fw,
            "PR",
            "dFLC fell >= 50 %",
            *_dflc_sides(c, base_p, latest_p, change),
            tuple(caveats),
            evidence=c.dflc_after[-1][2:],
        )
    if u_measurable and c.u_after and at_most(c.u_after[-1].value, c.u_base.value, 0.5):  # type: ignore[union-attr]
        u0, u1 = c.u_base.value, c.u_after[-1].value  # type: ignore[union-attr]
        return HematologicResponse(
            fw,
            "PR",
            f"urine M-protein {u0:g} -> {u1:g} mg/24 h ({percent((u1 - u0) / u0)})",
            base_p or _point(c.u_base),
            latest_p or _point(c.u_after[-1]),
            change,
            tuple(caveats),
        )
    if not (m_measurable or d_measurable or u_measurable):
        why = (
            f"baseline M-protein {c.m_base.value:g} g/L is not above {cfg.amyloid_serum_measurable:g} g/L"
            if c.m_base
            else _no_m_protein_baseline(c, "M-protein", urine=True)
        )
        return HematologicResponse(
            fw,
            "not_evaluable",
            f"{why}, dFLC is not > 100 mg/L and urine M-protein not > {cfg.amyloid_urine_measurable:g} mg/24 h: "
            "below the measurability gate",
            base_p,
            latest_p,
            change,
            tuple(caveats),
        )
    if latest_m is None and not c.dflc_after and not c.u_after:
        return HematologicResponse(
            fw, "not_evaluable", "no follow-up measurement after the baseline", base_p, None, None, tuple(caveats)
        )
    if not m_measurable and d_measurable and c.dflc_after:
        # judged on the light chains (the M-protein below its gate): shown and dated by them (probe64 D1:
        # an FLC-only restaging read "No restaging since the first treatment", with no latest value)
        return HematologicResponse(
            fw, "NR", "neither CR, VGPR, PR nor PD", *_dflc_sides(c, base_p, latest_p, change), tuple(caveats)
        )
    return HematologicResponse(fw, "NR", "neither CR, VGPR, PR nor PD", base_p, latest_p, change, tuple(caveats))


def _m_protein_responded(c: _Clone, m_measurable: bool, change: float | None) -> bool:
    """The serum immunofixation turned negative since the baseline, or a measurable M-protein fell >= 50 %."""
    return (c.serum_ife is not None and c.serum_ife.value == 0) or (
        m_measurable and change is not None and change <= -0.5
    )


def _dflc_sides(
    c: _Clone, base_p: Point | None, latest_p: Point | None, change: float | None
) -> tuple[Point | None, Point | None, float | None]:
    """Baseline, latest and change of a category the light chains decide: dFLC against dFLC (probe64 D2:
    "3 g/L -> dFLC 70 mg/L" read as a rise, the 140 mg/L the PR rests on cited nowhere); the M-protein's
    only where no dFLC baseline exists."""
    latest = _dflc_point(c)
    if c.base_dflc_point is None or latest is None:
        return base_p or c.base_dflc_point, _later(latest_p, latest), change
    base = c.base_dflc_point
    return base, latest, relative_change(latest.value, base.value) if base.value else None


def imwg_response(c: _Clone, cfg: ResponseConfig) -> HematologicResponse:
    fw = "imwg"
    latest_m = c.m_after[-1] if c.m_after else None
    base_p, latest_p = _point(c.m_base), _point(latest_m)
    change = relative_change(latest_m.value, c.m_base.value) if latest_m and c.m_base and c.m_base.value else None
    if not (c.m_base and c.m_base.value >= cfg.imwg_serum_measurable):
        why = (
            f"baseline serum M-protein {c.m_base.value:g} g/L is below the IMWG measurable-disease threshold "
            f"of {cfg.imwg_serum_measurable:g} g/L (1 g/dL); {_imwg_urine_not_read(c)}"
            if c.m_base
            else _no_m_protein_baseline(c, "serum M-protein", urine=False)
        )
        back = _progression_from_cr(c, flc=False)
        if back is not None:  # the clone back after a CR: said here too, dated by what showed it (probe41 D7)
            return HematologicResponse(
                fw,
                "not_evaluable",
                why,
                base_p,
                _later(latest_p, _point(back[1])),
                change,
                (_relapse_caveat(back[0]),),
                evidence=(back[1].reference,),
            )
        both_negative = bool(c.serum_ife and c.serum_ife.value == 0 and c.urine_ife and c.urine_ife.value == 0)
        marrow_low = c.bm_latest is not None and c.bm_latest.value < cfg.cr_marrow_below
        if both_negative and (c.bm_latest is None or marrow_low):
            # what the latest restaging shows, not a VGPR of an earlier M-protein (probe38 D17)
            marrow = f"< {cfg.cr_marrow_below:g} %" if marrow_low else "not assessed"
            return HematologicResponse(
                fw,
                "not_evaluable",
                why,
                base_p,
                _later(latest_p, _point(c.serum_ife)),
                change,
                (
                    f"descriptively a CR pattern (serum and urine immunofixation negative; bone-marrow plasma cells {marrow})",
                ),
                evidence=_cr_evidence(c, None),
            )
        pattern = (
            ("descriptively a VGPR pattern (>= 90 % reduction, urine negative)",)
            if (change is not None and change <= -0.9 and c.urine_ife and c.urine_ife.value == 0)
            else ()
        )
        return HematologicResponse(fw, "not_evaluable", why, base_p, latest_p, change, pattern)
    judged = _imwg_measurable(c, cfg, latest_m, base_p, latest_p, change)
    back = _progression_from_cr(c, flc=False)
    if back is None or judged.category == "PD":
        return judged
    return replace(judged, caveats=(*judged.caveats, _relapse_caveat(back[0])))


def _imwg_urine_not_read(c: _Clone) -> str:
    """Why the urine does not make the IMWG row evaluable beside a serum M-protein below its gate: none
    quantified, or a 24-hour value this project reads by the amyloid-style framework only (probe111 D5: "urine
    M-protein not quantified" beside 400 -> 150 mg/24 h)."""
    u = c.u_base or (c.u_after[0] if c.u_after else None)
    if u is None:
        return "urine M-protein not quantified"
    when = f" on {u.effective}" if u.effective else ""
    return (
        f"the 24-hour urine M-protein ({u.value:g} mg/24 h{when}) is read by the amyloid-style framework only: "
        "the IMWG row needs a measurable serum M-protein here"
    )


def _undetectable_before(serum_ife: Sequence[Measurement], latest: Measurement) -> Measurement | None:
    """The last negative serum immunofixation dated before ``latest`` (the M-protein was undetectable
    that day), or None."""
    if latest.effective is None:
        return None
    negatives = [m for m in serum_ife if m.value == 0 and m.effective is not None and m.effective < latest.effective]
    return negatives[-1] if negatives else None


def _relapse_caveat(what: str) -> str:
    # criteria.md §8.1b gives IMWG's PD only as >= 25 % and > 5 g/L above the nadir; "from CR: any
    # detectable M-protein" is the amyloid-style table's (§8.1a), which reports it as PD there
    return (
        f"M-protein detectable again after a complete response ({what}): a relapse from CR, "
        "IMWG progression only at >= 25 % and > 5 g/L above the nadir"
    )


def _imwg_measurable(
    c: _Clone,
    cfg: ResponseConfig,
    latest_m: Measurement | None,
    base_p: Point | None,
    latest_p: Point | None,
    change: float | None,
) -> HematologicResponse:
    """IMWG-style response of a measurable serum M-protein (criteria.md §8.1b)."""
    fw = "imwg"
    assert c.m_base is not None  # noqa: S101 - the measurability gate let it through
    if latest_m and c.m_after:
        low = _nadir_of(c)
        nadir = low.value if low is not None else c.m_base.value
        gone = _undetectable_before(c.serum_ife_after, latest_m)
        shown = f"{nadir:g} g/L"
        if gone is not None and nadir > 0:
            # a negative serum immunofixation is an M-protein of 0 on its day: the lowest value the
            # rise is measured from (probe46: 42 -> 3.5 -> IFE negative -> 8 g/L was "PR -81 %")
            nadir, shown = 0.0, f"0 g/L: serum immunofixation negative on {gone.effective}"
        if (
            _serum_undetectable_after(c, latest_m) is None
            and at_least(latest_m.value, nadir, 1.25)
            and difference(latest_m.value, nadir) > 5
        ):
            return HematologicResponse(
                fw,
                "PD",
                f">= 25 % rise from the nadir ({shown}) with > 5 g/L absolute",
                base_p,
                latest_p,
                change,
                evidence=(gone.reference,) if gone is not None and nadir == 0 else _cited(low),
            )
    urine_pd = _imwg_urine_progression(c, cfg)
    if urine_pd is not None:
        u = c.u_after[-1]
        # the urine value the progression rests on is the latest point when it is the newest result, as in
        # the amyloid-style framework (a urine progression with no serum value since read "latest: none")
        return HematologicResponse(
            fw, "PD", urine_pd, base_p, _later(latest_p, _point(u)), change, evidence=(u.reference,)
        )
    marrow_full = c.bm_latest is not None and c.bm_latest.value >= cfg.cr_marrow_below
    if c.serum_ife and c.serum_ife.value == 0 and c.urine_ife and c.urine_ife.value == 0 and not marrow_full:
        marrow = () if c.bm_latest else ("bone-marrow plasma cells (< 5 %) not assessed",)
        return HematologicResponse(
            fw,
            "CR",
            "serum and urine immunofixation negative",
            base_p,
            _point(c.serum_ife),
            change,
            marrow,
            provisional=bool(marrow),
            evidence=_cr_evidence(c, None),
        )
    gone_since = _serum_undetectable_after(c, latest_m)
    if gone_since is not None:
        # no M-protein even by immunofixation since the latest value: a 100 % reduction, the IMWG VGPR
        # a marrow of >= 5 % leaves short of CR (probe70 D8: "no follow-up M-protein" beside negative
        # immunofixations, or "PR -80 %" from a value the negative immunofixation came after)
        change, latest_p = -1.0, _point(gone_since)
    ife = c.serum_ife
    if change is None and latest_m is None and ife is not None and _ife_positive(ife) and c.ife_ever_negative_both:
        # back by serum immunofixation after a CR, with no electrophoresis value since the baseline: §8.1b's
        # VGPR "detectable by IFE but not electrophoresis", provisional as no electrophoresis was sent (probe111
        # D4: "no follow-up M-protein after the baseline" beside three follow-up immunofixations)
        category, reason, urine_caveats, read = _imwg_urine_part(
            c, cfg, "VGPR", f"M-protein detectable by serum immunofixation on {ife.effective}, not quantified"
        )
        return HematologicResponse(
            fw,
            category,
            reason,
            base_p,
            _point(ife),
            None,
            (
                "no serum M-protein by electrophoresis since the baseline: that it is not detectable by "
                "electrophoresis is unconfirmed",
                *urine_caveats,
            ),
            provisional=True,
            evidence=(ife.reference, *read),
        )
    if change is None:
        return HematologicResponse(fw, "not_evaluable", "no follow-up M-protein after the baseline", base_p, None, None)
    if change <= -0.9 or (latest_m and latest_m.value == 0 and c.serum_ife and c.serum_ife.value == 1):
        category = "VGPR"
    else:
        category = "PR" if change <= -0.5 else "MR" if change <= -0.25 else "NR"
    reason = (
        f"M-protein not detectable (serum immunofixation negative on {gone_since.effective})"
        if gone_since is not None
        else f"M-protein {percent(change)}"
    )
    caveats: tuple[str, ...] = ()
    evidence: tuple[str, ...] = (gone_since.reference,) if gone_since is not None else ()
    if category in ("VGPR", "PR"):
        category, reason, caveats, read = _imwg_urine_part(c, cfg, category, reason)
        evidence = (*evidence, *read)
    provisional = bool(caveats)
    if marrow_full and c.bm_latest is not None and c.serum_ife and c.serum_ife.value == 0:
        # negative immunofixations beside a marrow still full of plasma cells: no IMWG CR (§8.1b)
        caveats = (*caveats, _marrow_not_cr(c.bm_latest, cfg))
        evidence = (*evidence, c.bm_latest.reference)
    return HematologicResponse(
        fw, category, reason, base_p, latest_p, change, caveats, provisional=provisional, evidence=evidence
    )


def _serum_undetectable_after(c: _Clone, latest_m: Measurement | None) -> Measurement | None:
    """The latest serum immunofixation when it is negative and later than the latest M-protein value
    (or there is none since the baseline), else None."""
    ife = c.serum_ife
    if ife is None or ife.value != 0 or ife.effective is None:
        return None
    if latest_m is not None and (latest_m.effective is None or latest_m.effective >= ife.effective):
        return None
    return ife


def _urine_undetectable_after(c: _Clone) -> Measurement | None:
    """The latest urine immunofixation when it is negative and later than the latest 24-hour urine
    M-protein after the baseline, else None: the urine M-protein's rise is then no longer the state."""
    ife = c.urine_ife
    if ife is None or ife.value != 0 or ife.effective is None or not c.u_after:
        return None
    latest = c.u_after[-1]
    if latest.effective is None or latest.effective >= ife.effective:
        return None
    return ife


def _marrow_not_cr(marrow: Measurement, cfg: ResponseConfig) -> str:
    return (
        f"bone-marrow plasma cells {marrow.value:g} % on {marrow.effective} (>= {cfg.cr_marrow_below:g} %): "
        "not a complete response"
    )


def _imwg_urine_progression(c: _Clone, cfg: ResponseConfig) -> str | None:
    """IMWG PD by the 24-hour urine M-protein (criteria.md §8.1b: ">= 25 % increase from nadir ...
    (or urine >= 200 mg/24 h)"): the latest value >= 25 % above the lowest before it (the baseline
    included) and at least 200 mg/24 h above it; the reason, or None."""
    if not c.u_after or _urine_undetectable_after(c) is not None:
        return None
    last = c.u_after[-1].value
    earlier = [u.value for u in c.u_after[:-1]] + ([c.u_base.value] if c.u_base else [])
    if not earlier:
        return None
    nadir = min(earlier)
    if at_least(last, nadir, 1.25) and difference(last, nadir) >= cfg.imwg_urine_progression:
        return (
            f"urine M-protein >= 25 % above its nadir ({nadir:g} mg/24 h) and >= "
            f"{cfg.imwg_urine_progression:g} mg/24 h more: {last:g} mg/24 h"
        )
    return None


def _imwg_urine_part(
    c: _Clone, cfg: ResponseConfig, category: str, reason: str
) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """A serum VGPR or PR checked against the urine (criteria.md §8.1b): VGPR needs a urine M-protein
    < 100 mg/24 h, PR one down >= 90 % or < 200 mg/24 h. Urine known free of M-protein at baseline (a
    24-hour value of 0, or a negative urine immunofixation): nothing to follow. Otherwise the latest
    urine since the baseline decides - a negative urine immunofixation (on or after the latest 24-hour
    value) counts as 0 - and a category whose urine part fails falls to the next one the urine allows
    (below PR: MR, for which criteria.md states no urine rule). A urine part that cannot be judged (no
    urine since the baseline, or no baseline value for the 90 % reduction) keeps the category,
    provisional, with a caveat that names what is missing: the category is never claimed on the serum
    alone. Returns (category, reason, caveats, the urine results read)."""
    u_base, ife_base = c.u_base, c.urine_ife_base
    free_at_baseline = (u_base is not None and u_base.value <= 0) or (
        u_base is None and ife_base is not None and ife_base.value == 0
    )
    # ... and since: a positive urine immunofixation or a urine M-protein after it is M-protein to follow
    # (probe76 D13: a VGPR, not provisional, beside a positive restaging urine immunofixation)
    turned = (c.urine_ife is not None and c.urine_ife.value != 0) or any(m.value > 0 for m in c.u_after)
    if free_at_baseline and not turned:
        # the urine results that showed it are cited all the same (probe108 D10: a PR citing its two serum
        # M-proteins only, the negative urine immunofixations it rested on left out)
        shown = (u_base, ife_base, c.urine_ife, *c.u_after)
        return category, reason, (), tuple(dict.fromkeys(m.reference for m in shown if m is not None))
    read = tuple(m.reference for m in (u_base, ife_base) if m is not None)
    latest, ife = (c.u_after[-1] if c.u_after else None), c.urine_ife
    if (
        ife is not None
        and ife.value == 0
        and (latest is None or (ife.effective or dt.date.min) >= (latest.effective or dt.date.min))
    ):
        u1, read = 0.0, (*read, ife.reference)
    elif latest is not None:
        u1, read = latest.value, (*read, latest.reference)
    else:
        if ife is not None:  # positive since the baseline (a negative one was read above): not quantified
            # probe74 D14: the caveat said "no ... urine immunofixation" beside a positive one on file
            when = f" on {ife.effective.isoformat()}" if ife.effective else ""
            missing = f"urine immunofixation positive{when}, no 24-hour urine M-protein to quantify it"
            read = (*read, ife.reference)
        elif u_base is not None:
            missing = f"24-hour urine M-protein {u_base.value:g} mg/24 h at baseline, not measured since"
        elif ife_base is not None:
            missing = "urine immunofixation not negative at baseline, no urine test since"
        else:
            missing = "no 24-hour urine M-protein or urine immunofixation"
        return category, reason, (f"{missing}: the urine part of {category} is unconfirmed",), read
    u0 = u_base.value if u_base is not None else None
    urine = f"urine M-protein {u0:g} -> {u1:g} mg/24 h" if u0 is not None else f"urine M-protein {u1:g} mg/24 h"
    if category == "VGPR" and not u1 < cfg.imwg_urine_vgpr_below:
        category, reason = "PR", f"{reason}; {urine} (VGPR needs < {cfg.imwg_urine_vgpr_below:g})"
    if category == "PR" and not u1 < cfg.imwg_urine_pr_below:
        if u0 is None:
            caveat = (
                f"{urine} and no 24-hour value at baseline: the urine part of PR "
                f"(>= {cfg.imwg_urine_pr_reduction:.0%} reduction) is unconfirmed"
            )
            return category, reason, (caveat,), read
        if -relative_change(u1, u0) < cfg.imwg_urine_pr_reduction:
            category = "MR"
            reason = (
                f"{reason}; {urine} (PR needs >= {cfg.imwg_urine_pr_reduction:.0%} reduction "
                f"or < {cfg.imwg_urine_pr_below:g})"
            )
    return category, reason, (), read


# ------------------------------------------------------------------ VEGF


def _comparable_baseline(series: list[Measurement], cut: dt.date) -> Measurement | None:
    """When the last pre-treatment VEGF has no follow-up of its own specimen type (the lab changed
    from serum to plasma, say), an earlier pre-treatment value of a type that was followed up:
    criteria.md §10 compares like with like. Of several such types, the one followed up most
    recently (plasma, the preferred specimen, on a tie)."""
    paired = []
    for specimen in ("serum", "plasma"):  # the order does not decide a tie: the key does
        own = [m for m in series if m.specimen == specimen]
        start = _baseline(own, cut)
        follow = _after(own, start.effective) if start and start.effective else []
        if start and follow:
            paired.append((follow[-1].effective, specimen == "plasma", start))
    return max(paired, key=lambda p: (p[0], p[1]))[2] if paired else None


def vegf_response(
    measurements: Sequence[Measurement], cut: dt.date, as_of: dt.date | None, cfg: ResponseConfig
) -> VegfResponse:
    series = _series(measurements, "vegf", as_of)
    if not series:
        return VegfResponse(
            "not_evaluable",
            "VEGF never measured (no baseline): obtain one now as a post-treatment "
            "reference, same specimen type from then on",
        )
    baseline = _baseline(series, cut)
    if baseline is None:
        return _vegf_from_post_treatment_reference(series, cfg)
    if baseline.specimen != "plasma":
        # serum and plasma drawn the same day: plasma, the preferred specimen (criteria.md §10 step 0),
        # is the reference when it is followed up - not whichever of the two happens to sort last
        same_day = [m for m in series if m.effective == baseline.effective and m.specimen == "plasma"]
        if same_day and [m for m in _after(series, baseline.effective) if m.specimen == "plasma"]:  # type: ignore[arg-type]
            baseline = same_day[-1]
    if not [m for m in _after(series, baseline.effective) if baseline.specimen and m.specimen == baseline.specimen]:  # type: ignore[arg-type]
        baseline = _comparable_baseline(series, cut) or baseline
    if baseline.specimen is None:
        return VegfResponse(
            "not_evaluable", "baseline VEGF specimen type unknown (serum and plasma differ)", None, _point(baseline)
        )
    follow = [m for m in _after(series, baseline.effective) if m.specimen == baseline.specimen]  # type: ignore[arg-type]
    if not follow:
        others = {m.specimen or "unknown" for m in _after(series, baseline.effective)}  # type: ignore[arg-type]
        why = (
            (
                f"follow-up VEGF in another specimen ({', '.join(sorted(others))}) than the {baseline.specimen} "
                "baseline: serum and plasma are not comparable"
            )
            if others
            else "no VEGF after the baseline"
        )
        later = _after(series, baseline.effective)  # type: ignore[arg-type]
        own = [m for m in later if later[-1].specimen and m.specimen == later[-1].specimen]
        if len(own) >= 2:
            # the other type's own series since the treatment: its first value a post-treatment reference, a rise
            # from its nadir a progression, as with no baseline at all (probe111 D3: plasma 150 -> 600 after a
            # serum baseline raised no alert, the same series with no baseline did)
            since = _vegf_from_post_treatment_reference(own, cfg, f"the {baseline.specimen} baseline is not comparable")
            if since.category == "progression":
                return since
            why = f"{why}; {since.reason}"
        return VegfResponse(
            "not_evaluable",
            why,
            baseline.specimen,
            _point(baseline),
            unpaired=_point(later[-1]) if later else None,
            unpaired_specimen=(later[-1].specimen or "unknown") if later else None,
        )
    switched = _switched_series(series, baseline, follow[-1])
    if len(switched) >= 2:
        # the newest VEGFs are of another type than the baseline's follow-up: their own series, from its first
        # value as a post-treatment reference, still shows a relapse (probe113 D6: serum 3000 -> 900 "complete",
        # then plasma 150 -> 600 raised no alert; criteria.md §8.2, rising VEGF is a progression event)
        since = _vegf_from_post_treatment_reference(
            switched,
            cfg,
            f"the {baseline.specimen} series, last {_shown(follow[-1])} pg/mL on {follow[-1].effective}, "
            f"is not comparable with the later {switched[-1].specimen} series",
        )
        if since.category == "progression":
            return since
    latest = follow[-1]
    cutoff = cfg.vegf_cutoff[baseline.specimen]
    points = (_point(baseline), _point(latest))
    shown = ", ".join(_shown(m) for m in (baseline, *follow) if m.comparator or m.high is not None)
    categories = _over_intervals(
        lambda values: _vegf_category(values[0], values[1:-1], values[-1], cutoff, cfg), [baseline, *follow], cutoff
    )
    if categories is None or len(categories) > 1:
        open_ = f" ({' or '.join(sorted(categories))})" if categories else ""
        return VegfResponse(
            "not_evaluable",
            f"censored VEGF ({shown} pg/mL): the true values leave the category open{open_}",
            baseline.specimen,
            *points,
        )
    (category,) = categories
    base, last = _shown(baseline), _shown(latest)
    caveat = f" (censored: {shown}; the category holds for every value they allow)" if shown else ""
    low: Point | None = None
    if category == "progression":
        nadir = min(follow[:-1] + [baseline], key=lambda m: m.value)
        low = _point(nadir)
        reason = (
            f"VEGF rose from its nadir {_shown(nadir)} to {last} pg/mL "
            f"(>= {cfg.vegf_progression_increase:.0%} and above the {cutoff:g} pg/mL cut-off)"
        )
    elif category == "not_evaluable":
        reason = f"baseline VEGF {base} pg/mL was not elevated (< {cutoff:g} pg/mL)"
    elif category == "complete":
        reason = f"VEGF normalised: {base} -> {last} pg/mL (< {cutoff:g})"
    elif category == "partial":
        reason = f"VEGF {base} -> {last} pg/mL, not normalised"
    else:
        reason = f"VEGF {base} -> {last} pg/mL"
    # a newer VEGF of the type the laboratory switched to, no progression of its own: shown and cited beside the
    # response, never compared with it (probe117: "complete" from an older serum value, the newest plasma above the
    # plasma cut-off said nowhere)
    newer = switched[-1] if switched else None
    return VegfResponse(
        category,
        reason + caveat,
        baseline.specimen,
        *points,
        nadir=low,
        unpaired=_point(newer) if newer else None,
        unpaired_specimen=newer.specimen if newer else None,
    )


def _switched_series(series: Sequence[Measurement], baseline: Measurement, last_own: Measurement) -> list[Measurement]:
    """The VEGFs of the newest value's specimen type, when that type is not the baseline's and the newest value
    came after the baseline's own last follow-up: the series the laboratory switched to (from the baseline on,
    so a value drawn between two of the baseline's type is part of it)."""
    later = _after(series, baseline.effective)  # type: ignore[arg-type]
    newest = later[-1] if later else None
    if newest is None or not newest.specimen or newest.specimen == baseline.specimen:
        return []
    if newest.effective is None or last_own.effective is None or newest.effective <= last_own.effective:
        return []
    return [m for m in later if m.specimen == newest.specimen]


def _vegf_from_post_treatment_reference(
    series: list[Measurement], cfg: ResponseConfig, no_baseline: str = "no VEGF before the first treatment"
) -> VegfResponse:
    """No VEGF before the first treatment: no response can be measured, but the first VEGF after it is
    the post-treatment reference seed_case.md T3 asks for, and a rise from its nadir is progression
    (criteria.md §8.2; a probe: a plasma VEGF 120 -> 650 pg/mL after a transplant raised no alert, and the
    output still asked for a reference VEGF that was on record). ``no_baseline`` says why there is no
    baseline (none, or one of another specimen type)."""
    reference = series[0]
    follow = [m for m in series[1:] if reference.specimen and m.specimen == reference.specimen]
    if not follow:
        return VegfResponse(
            "not_evaluable",
            f"{no_baseline}: "
            + (
                f"the post-treatment reference is {_shown(reference)} pg/mL on {reference.effective} "
                "(response not measurable; a rise from it would be progression)"
                if reference.specimen
                else "obtain one now as a post-treatment reference, with its specimen type"
            ),
            reference.specimen,
            _point(reference),
        )
    cutoff = cfg.vegf_cutoff[reference.specimen]  # type: ignore[index]
    latest = follow[-1]
    categories = _over_intervals(
        lambda values: _vegf_category(values[0], values[1:-1], values[-1], cutoff, cfg), [reference, *follow], cutoff
    )
    points = (_point(reference), _point(latest))
    if categories == {"progression"}:
        nadir = min([reference, *follow[:-1]], key=lambda m: m.value)
        return VegfResponse(
            "progression",
            f"VEGF rose from its nadir {_shown(nadir)} to {_shown(latest)} pg/mL (>= {cfg.vegf_progression_increase:.0%} "
            f"and above the {cutoff:g} pg/mL cut-off), against the post-treatment reference of {reference.effective} "
            f"({no_baseline})",
            reference.specimen,
            *points,
            nadir=_point(nadir),
        )
    against = f"against the post-treatment reference {_shown(reference)} pg/mL of {reference.effective}"
    if categories is None or "progression" in categories:
        # a censored or ranged value ("> 150") may be a progression: left open, as with a baseline (found
        # with the mutation run: "is no progression" claimed more than the data show)
        shown = ", ".join(_shown(m) for m in (reference, *follow) if m.comparator or m.high is not None)
        return VegfResponse(
            "not_evaluable",
            f"{no_baseline}: response not measurable; {against}, the censored VEGF "
            f"({shown} pg/mL) leaves a progression open",
            reference.specimen,
            *points,
        )
    return VegfResponse(
        "not_evaluable",
        f"{no_baseline}: response not measurable; {against}, "
        f"{_shown(latest)} pg/mL on {latest.effective} is no progression",
        reference.specimen,
        *points,
    )


def _vegf_category(base: float, earlier: Sequence[float], latest: float, cutoff: float, cfg: ResponseConfig) -> str:
    """criteria.md §8.2 on plain numbers: the nadir includes the baseline, so a VEGF that never fell and
    now rose by the configured share above the cut-off is progression too (rule UNVERIFIED)."""
    nadir = min([*earlier, base])
    if at_least(latest, nadir, 1 + cfg.vegf_progression_increase) and latest >= cutoff:
        return "progression"
    if base < cutoff:
        return "not_evaluable"
    if latest < cutoff:
        return "complete"
    if at_most(latest, base, 1 - cfg.vegf_partial_decrease):
        return "partial"
    return "none"


def _shown(m: Measurement) -> str:
    upper = f"–{m.high:g}" if m.high is not None else ""
    return f"{m.comparator or ''}{m.value:g}{upper}"


#: the most censored values judged together (each adds up to four candidate values)
MAX_CENSORED = 8


def _over_intervals(decide: Callable[[list[float]], str], series: Sequence[Measurement], cut: float) -> set[str] | None:
    """The answers ``decide`` gives over every value a censored measurement allows ("<50" is any value
    in [0, 50), ">2000" any above 2000, a range 1200-1500 any in it): the ends of each interval, and the cut-off with the value just
    below it where the interval spans it. The rules are monotone in each value, so one answer for all
    of these is the answer for every true value; several answers mean the data cannot decide (None:
    too many censored values to try)."""
    options: list[list[float]] = []
    for m in series:
        v = m.value
        low, high = {
            "<": (0.0, math.nextafter(v, -math.inf)),
            "<=": (0.0, v),
            ">": (math.nextafter(v, math.inf), math.inf),
            ">=": (v, math.inf),
        }.get(m.comparator or "", (v, v if m.high is None else m.high))
        candidates = {low, high} | {c for c in (cut, math.nextafter(cut, -math.inf)) if low <= c <= high}
        options.append(sorted(candidates))
    if sum(len(o) > 1 for o in options) > MAX_CENSORED:
        return None
    return {decide(list(values)) for values in itertools.product(*options)}


# ------------------------------------------------------------------ clinical


def clinical_response(
    findings: Sequence[Finding],
    course: Sequence[CourseAssessment],
    measurements: Sequence[Measurement],
    cut: dt.date,
    as_of: dt.date | None,
    cfg: ResponseConfig,
) -> dict[str, DomainResponse]:
    out: dict[str, DomainResponse] = {}
    for domain, topic in DOMAIN_TOPICS.items():
        # every dated statement about the domain after the first treatment; the latest one wins
        candidates: list[tuple[dt.date, str, str, tuple[str, ...]]] = []
        for c in course:
            if c.domain == domain and c.effective and c.effective > cut and (as_of is None or c.effective <= as_of):
                candidates.append(
                    (c.effective, c.direction, f"clinician's assessment on {c.effective}", (c.reference,))
                )
        present = [
            f
            for f in findings
            if f.topic == topic and f.state is State.PRESENT and f.effective and (as_of is None or f.effective <= as_of)
        ]
        for f in present:
            if f.effective and f.effective > cut and (f.resolved_on is None or (as_of and f.resolved_on > as_of)):
                candidates.append(
                    (f.effective, "worse", "new finding after the first treatment", (f.evidence.reference,))
                )
        baseline = [f for f in present if f.effective and f.effective <= cut]
        resolved = [
            f for f in baseline if f.resolved_on and f.resolved_on > cut and (as_of is None or f.resolved_on <= as_of)
        ]
        if resolved:
            when = max(f.resolved_on for f in resolved if f.resolved_on)
            what = (
                "every baseline finding resolved"
                if len(resolved) == len(baseline)
                else "some baseline findings resolved"
            )
            candidates.append((when, "improved", f"{what} (by {when})", tuple(f.evidence.reference for f in resolved)))
        if candidates:
            when, direction, reason, refs = max(candidates, key=lambda c: (c[0], c[1] == "worse"))
            out[domain] = DomainResponse(domain, direction, reason, refs, when)
        else:
            out[domain] = DomainResponse(domain, "not_assessed", "no follow-up assessment after the first treatment")
    albumin = _series(measurements, "albumin", as_of)
    base = _baseline(albumin, cut)
    after = _after(albumin, base.effective) if base and base.effective else []
    if base and after:
        change = relative_change(after[-1].value, base.value)
        direction = (
            "improved" if change >= cfg.albumin_change else "worse" if change <= -cfg.albumin_change else "stable"
        )
        out["albumin"] = DomainResponse(
            "albumin",
            direction,
            f"albumin {base.value:g} -> {after[-1].value:g} g/L ({percent(change)})",
            (base.reference, after[-1].reference),
            after[-1].effective,
        )
    else:
        out["albumin"] = DomainResponse("albumin", "not_assessed", "no albumin before and after the first treatment")
    return out


# ------------------------------------------------------------------ all together


def assess_response(
    measurements: Sequence[Measurement],
    events: Sequence[Event],
    findings: Sequence[Finding],
    course: Sequence[CourseAssessment],
    cfg: ResponseConfig,
    as_of: dt.date | None = None,
    baseline_date: dt.date | None = None,
    *,
    cr_dates: bool = True,
) -> ResponseAssessment:
    """``cr_dates=False``: the days a CR was reached are not looked for (an assessment at an earlier
    restaging, read for its categories and alerts: each such day re-reads the series)."""
    start = first_treatment(events, as_of)
    # Baseline: the last measurement on or before the first treatment's day, or a user-given date
    cut = baseline_date or start
    year_said = None  # a first treatment known only to its year (probe128 D7)
    year_transplants = _year_transplants(events, start) if baseline_date is None else ()
    if start is not None and year_transplants:
        given = f"the first treatment is known only to its year ({day_text(start)}: {_listed(year_transplants)})"
        if unordered := _within_year(measurements, start, as_of):
            return _not_evaluable(
                as_of,
                f"{given} and {_listed(unordered)} fall within it, so which came first cannot be told - "
                "give --baseline DATE",
            )
        cut = latest_day(start)  # every result is before or after the year: counted from its last day
        year_said = f"{given}: no result read lies within it, so it is counted from its last day, {cut}"
    if cut is None:
        undated = undated_treatments(events)
        later = later_treatment(events, as_of)
        na = HematologicResponse(
            "amyloid",
            "not_evaluable",
            f"a treatment is recorded without a readable date ({_listed(undated)}) and no --baseline date"
            if undated
            else f"no treatment started by {as_of} (the first, {' and '.join(later.agents)}, starts {later.start}) "
            "and no --baseline date"
            if later
            else "no treatment recorded and no --baseline date",
        )
        return ResponseAssessment(
            as_of,
            None,
            None,
            na,
            HematologicResponse("imwg", "not_evaluable", na.reason),
            VegfResponse("not_evaluable", na.reason),
            {d: DomainResponse(d, "not_assessed", na.reason) for d in (*DOMAIN_TOPICS, "albumin")},
            undated_treatments=undated,
            later_treatment=later,
        )
    light = next(
        (
            f.light_chain
            for f in findings
            if f.topic == Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value and f.light_chain
        ),
        None,
    )
    if light is None:
        light = _chain_high_at_baseline(measurements, cut, as_of)
    clone = _clone(measurements, cut, as_of, light)
    amyloid, imwg = amyloid_response(clone, cfg), imwg_response(clone, cfg)
    vegf = vegf_response(measurements, cut, as_of, cfg)
    clinical = clinical_response(findings, course, measurements, cut, as_of, cfg)
    conflicts = same_day_conflicts(measurements, as_of)
    heme = tuple(_conflict_text(c) for c in conflicts if c[0] in _HEMATOLOGIC or c[0] == "urine_m_protein")
    if heme:
        amyloid = replace(amyloid, caveats=(*amyloid.caveats, *heme))
        imwg = replace(imwg, caveats=(*imwg.caveats, *heme))
    vegf_said = "; ".join(_conflict_text(c) for c in conflicts if c[0] == "vegf")
    if vegf_said:  # a VEGF left out because it conflicts was measured: never "never measured"
        never = vegf.category == "not_evaluable" and vegf.reason.startswith("VEGF never measured")
        vegf = replace(vegf, reason=vegf_said if never else f"{vegf.reason}; {vegf_said}")
    # a result on no day cannot be placed before or after the baseline: not used, but named where it would
    # count (probe83 D6: an undated M-protein of 1 g/L, maybe the latest, was left out in silence)
    no_day = [m for m in measurements if m.effective is None and m.analyte in UNDATED_RESPONSE_RESULTS]
    heme_undated = tuple(_undated_text(m) for m in no_day if m.analyte in _HEMATOLOGIC | {"urine_m_protein"})
    if heme_undated:
        amyloid = replace(amyloid, caveats=(*amyloid.caveats, *heme_undated))
        imwg = replace(imwg, caveats=(*imwg.caveats, *heme_undated))
    vegf_undated = "; ".join(_undated_text(m) for m in no_day if m.analyte == "vegf")
    if vegf_undated:
        vegf = replace(vegf, reason=f"{vegf.reason}; {vegf_undated}")
    albumin_undated = "; ".join(_undated_text(m) for m in no_day if m.analyte == "albumin")
    if albumin_undated and "albumin" in clinical:
        clinical["albumin"] = replace(clinical["albumin"], reason=f"{clinical['albumin'].reason}; {albumin_undated}")
    if year_said:
        amyloid = replace(amyloid, caveats=(*amyloid.caveats, year_said))
        imwg = replace(imwg, caveats=(*imwg.caveats, year_said))
        vegf = replace(vegf, reason=f"{vegf.reason}; {year_said}")
    alerts = _alerts(amyloid, imwg, vegf, clinical, findings, events, cut, as_of)
    reached = _complete_response_dates(measurements, cut, as_of, light, cfg) if cr_dates else ()
    return ResponseAssessment(
        as_of,
        cut,
        start,
        amyloid,
        imwg,
        vegf,
        clinical,
        tuple(alerts),
        reached,
        undated_results=tuple(dict.fromkeys(m.reference for m in no_day)),
    )


#: what an undated result of each test the response reads is called in its caveat
_UNDATED_NAMES = {
    "serum_m_protein": "serum M-protein",
    "urine_m_protein": "24-hour urine M-protein",
    "serum_ife": "serum immunofixation",
    "urine_ife": "urine immunofixation",
    "flc_kappa": "free kappa light chain",
    "flc_lambda": "free lambda light chain",
    "flc_ratio": "free light chain ratio",
    "bm_plasma_cells": "bone-marrow plasma cells",
    "vegf": "VEGF",
    "albumin": "albumin",
}
#: the results the response reads, named when they have no date (mapping coverage lists them too)
UNDATED_RESPONSE_RESULTS = frozenset(_UNDATED_NAMES)


def _undated_text(m: Measurement) -> str:
    """ "serum M-protein 1 g/L (Observation/x) has no date: not placed in time, not used"; an
    immunofixation by what it found."""
    name = _UNDATED_NAMES.get(m.analyte, m.analyte.replace("_", " "))
    if m.analyte in _QUALITATIVE:
        shown = f"{name} {'positive' if m.value else 'negative'}"
    else:
        shown = f"{name} {m.comparator or ''}{m.value:g}{' ' + m.unit if m.unit else ''}"
    return f"{shown} ({m.reference}) has no date: not placed in time, not used"


def _conflict_text(conflict: tuple[str, dt.date, tuple[Measurement, ...]]) -> str:
    analyte, day, results = conflict
    shown = ", ".join(f"{m.value:g}{' ' + m.unit if m.unit else ''} ({m.reference})" for m in results)
    return (
        f"{analyte.replace('_', ' ')} on {day}: different results on one day ({shown}) - neither is read, "
        "one day's samples are no time course; check which is right"
    )


#: the results the haematological frameworks read
_HEMATOLOGIC = frozenset(
    {"serum_m_protein", "serum_ife", "urine_ife", "flc_kappa", "flc_lambda", "flc_ratio", "bm_plasma_cells"}
)


#: days checked for a complete response reached (_complete_response_dates): years of monthly restaging
_MAX_CR_DAYS = 240


def _complete_response_dates(
    measurements: Sequence[Measurement],
    cut: dt.date,
    as_of: dt.date | None,
    light: str | None,
    cfg: ResponseConfig,
) -> tuple[dt.date, ...]:
    """The days, after the baseline and up to ``as_of``, on which a haematological result was
    measured and the amyloid-style response as of that day was CR. Each day re-reads the series, so
    at most the last _MAX_CR_DAYS such days are checked: a record of thousands of results (broken or
    hostile input) must not cost quadratic time."""
    heme = [m for m in measurements if m.analyte in _HEMATOLOGIC]
    # a CR needs a negative serum and a negative urine immunofixation after the baseline: no day before
    # both were there can be one (probe67 D1: a page for 400 daily M-protein values took a minute)
    negative = [
        min(
            (m.effective for m in heme if m.analyte == ife and m.value == 0 and m.effective and m.effective > cut),
            default=None,
        )
        for ife in ("serum_ife", "urine_ife")
    ]
    if None in negative:
        return ()
    first = max(d for d in negative if d is not None)
    days = sorted(
        {m.effective for m in heme if m.effective and m.effective >= first and (as_of is None or m.effective <= as_of)}
    )[-_MAX_CR_DAYS:]
    return tuple(day for day in days if amyloid_response(_clone(heme, cut, day, light), cfg).category == "CR")


#: alerts that already propose the relapse/progression work-up (pathway step 7)
RELAPSE_ALERTS = frozenset({"hematologic_progression", "vegf_progression", "reappearance", "radiologic_progression"})


def _radiologic_progression(
    findings: Sequence[Finding], events: Sequence[Event], cut: dt.date, as_of: dt.date | None
) -> list[Alert]:
    """An imaging report after the baseline that says the disease progressed or shows new lesions
    (topic ``radiologic_progression``): criteria.md §8.3, "radiologic events are the most common form
    of progression" (probe48 D1: new sclerotic lesions four months after radiotherapy raised nothing).
    After a completed radiotherapy, §10 step 1a: progression 3-6 months after it calls for systemic
    therapy."""
    seen = sorted(
        (
            f
            for f in findings
            if f.topic == "radiologic_progression"
            and f.state is State.PRESENT
            and f.effective
            and f.effective > cut
            and (as_of is None or f.effective <= as_of)
        ),
        key=lambda f: (f.effective, f.evidence.reference),
    )
    if not seen:
        return []
    first = seen[0]
    assert first.effective is not None  # noqa: S101 - filtered above
    radiated = [
        e.end or e.effective
        for e in events
        if e.kind == "radiotherapy"
        and (e.end or e.effective)
        and (e.end or e.effective) <= first.effective  # type: ignore[operator]
        # completed: a course still going with no end is not "completed on" its first day (probe113 D7)
        and (e.end is not None or e.status not in ("in-progress", "active", "on-hold"))
    ]
    after_rt = ""
    # the imaging report's day: a restaging the response report is dated by (probe108 D1)
    days: tuple[dt.date, ...] = (first.effective,)
    if radiated:
        ended = max(d for d in radiated if d is not None)
        opens, closes = escalation_window(ended)
        after_rt = f"; {whole_months(ended, first.effective)} month(s) after radiotherapy completed {on_day(ended)}" + (
            ": progression 3-6 months after radiation calls for systemic therapy"
            if opens <= first.effective <= closes
            # outside the rule's window the rule is not quoted (probe113 D4: the JSON said it for 7 months)
            else ", outside the 3-6 months of the escalation rule: review the need for systemic therapy"
        )
        period = within_period(ended, first.effective)
        if period == "year":
            # the progression in the year a course known only to its year ended: it may have ended after it, or
            # 3-6 months before it - "0 month(s) after radiotherapy completed in 2022" was said (fix120b)
            after_rt = (
                f"; in {day_text(ended)}, the year radiotherapy was completed: how many months after it is not known "
                "(progression 3-6 months after radiation calls for systemic therapy) - review the need for systemic "
                "therapy"
            )
        elif period == "month":  # less than a month after it, if after it: before the rule's window in any case
            after_rt = (
                f"; in {day_text(ended)}, the month radiotherapy was completed, before the 3-6 months of the "
                "escalation rule: review the need for systemic therapy"
            )
        # the progression's day and the radiotherapy's end: the written alert speaks of the radiotherapy only
        # then (probe108 D12: its advice was read by patients who never had radiotherapy)
        days = (first.effective, ended)
    return [
        Alert(
            "radiologic_progression",
            f"radiological progression reported on {first.effective}: {first.evidence.summary}{after_rt}",
            tuple(dict.fromkeys(f.evidence.reference for f in seen)),
            days=days,
        )
    ]


def _alerts(
    amyloid: HematologicResponse,
    imwg: HematologicResponse,
    vegf: VegfResponse,
    clinical: dict[str, DomainResponse],
    findings: Sequence[Finding],
    events: Sequence[Event],
    cut: dt.date,
    as_of: dt.date | None,
) -> list[Alert]:
    alerts: list[Alert] = []
    for h in (amyloid, imwg):
        if h.category == "PD":
            alerts.append(
                Alert(
                    "hematologic_progression",
                    f"haematological progression ({h.framework}): {h.reason}",
                    # what showed it (the first positive of a relapse from CR), then the latest value
                    tuple(dict.fromkeys((*h.evidence, *(p.reference for p in (h.latest,) if p)))),
                )
            )
    if vegf.category == "progression":
        alerts.append(
            Alert(
                "vegf_progression",
                f"rising VEGF: {vegf.reason}; the second most common progression event after radiological progression",
                tuple(p.reference for p in (vegf.latest,) if p),
            )
        )
    alerts.extend(_radiologic_progression(findings, events, cut, as_of))
    for _domain, topic in DOMAIN_TOPICS.items():
        by_rule: dict[str, list[Finding]] = {}
        for f in findings:
            if (
                f.topic == topic
                and f.state is State.PRESENT
                and f.effective
                and (as_of is None or f.effective <= as_of)
            ):
                by_rule.setdefault(f.source_rule or topic, []).append(f)
        for rule, fs in by_rule.items():
            resolved = [f.resolved_on for f in fs if f.resolved_on and (as_of is None or f.resolved_on <= as_of)]
            again = [
                f for f in fs if resolved and f.effective and f.effective > min(resolved) and f.resolved_on is None
            ]
            if again:
                alerts.append(
                    Alert(
                        "reappearance",
                        # dated: an alert must say what raised it and when (probe38 D15)
                        f"{rule.replace('_', ' ')} recorded again on {min(f.effective for f in again if f.effective)} "
                        f"after it had resolved on {min(resolved)}",
                        tuple(f.evidence.reference for f in again),
                    )
                )
    responding = amyloid.category in ("CR", "VGPR", "PR")
    worse = [d for d in clinical.values() if d.direction == "worse"]
    if responding and worse:
        neurotoxic = sorted(
            {
                e.agent
                for e in events
                if e.neurotoxic and e.agent and (as_of is None or (e.effective and e.effective <= as_of))
            }
        )
        caution = (
            f"; note the neurotoxicity of {', '.join(neurotoxic)}"
            if neurotoxic
            # none given: a caution about the escalation options (seed_case T1), not about a drug the patient had
            else "; if escalating, thalidomide and bortezomib may worsen neuropathy"
        )
        alerts.append(
            Alert(
                "discordant_response",
                f"discordant: haematological {amyloid.category} with clinical worsening "
                f"({', '.join(d.domain for d in worse)}) - consider a regimen change or early "
                f"escalation{caution}",
                tuple(r for d in worse for r in d.evidence),
                tuple(neurotoxic),
            )
        )
    elif worse and not any(a.code in RELAPSE_ALERTS for a in alerts):
        # worse on treatment without a haematological response (probe48 D2: lenalidomide, M-protein NR,
        # VEGF up, neuropathy and oedema worse - no alert, while the same worsening beside a PR had one):
        # clinical relapse/progression (criteria.md §8.4, §8.5), the step 7 review (§10)
        alerts.append(
            Alert(
                "clinical_progression",
                f"clinical worsening ({', '.join(d.domain for d in worse)}) without a haematological response "
                f"({amyloid.category}) - review for progression; consider a regimen change or early escalation",
                tuple(r for d in worse for r in d.evidence),
            )
        )
    return alerts


#: a treatment given within this many days before a progression was still being given at it: its next
#: dose or cycle after the progression is no treatment begun (per-cycle administrations)
_STILL_GIVEN_DAYS = 60


def _given(e: Event) -> bool:
    return e.kind in TREATMENT_KINDS and e.effective is not None and e.status not in ("preparation", "planned")


def _last_given(e: Event) -> dt.date:
    """The last day a treatment was given: its end; an open course stated active, without end, runs on."""
    if e.end is not None:
        return e.end
    if e.status in ("active", "in-progress"):
        return dt.date.max
    return e.effective or dt.date.min


def _begun_after(events: Sequence[Event], day: dt.date, as_of: dt.date | None) -> list[Event]:
    """Treatments begun on or after ``day`` (up to ``as_of``) that do not continue a course given before
    it: a new agent, or one restarted after a pause of more than _STILL_GIVEN_DAYS - not the next cycle of
    the regimen the progression happened on, nor that cycle's successors (each within that many days of the
    one before: probe69 D6, a restart months after a stop was taken for a cycle)."""
    by_agent: dict[str, list[Event]] = {}
    for e in events:
        if _given(e):
            by_agent.setdefault(e.agent or e.kind, []).append(e)
    begun: list[Event] = []
    for course in by_agent.values():
        course.sort(key=lambda e: (e.effective or dt.date.min, e.reference))
        running = max((_last_given(e) for e in course if e.effective and e.effective < day), default=None)
        for e in course:
            if e.effective is None or e.effective < day or (as_of is not None and e.effective > as_of):
                continue
            if running is not None and running != dt.date.max and e.effective <= add_days(running, _STILL_GIVEN_DAYS):
                running = max(running, _last_given(e))  # the course goes on
            elif running is None or running != dt.date.max:
                begun.append(e)
                break
    return sorted(begun, key=lambda e: (e.effective or dt.date.min, e.reference))


def with_progression_before_treatment(
    response: ResponseAssessment,
    measurements: Sequence[Measurement],
    events: Sequence[Event],
    findings: Sequence[Finding],
    course: Sequence[CourseAssessment],
    cfg: ResponseConfig,
) -> ResponseAssessment:
    """A relapse or progression recorded at an earlier restaging, followed by a treatment begun after it,
    stays visible (probe64 D5: the salvage brought the value down, the progression vanished from the
    report and the later response read as the first line's). Not while a progression stands now. The
    response itself keeps its baseline before the first treatment: the alert says so.

    The latest restaging with a relapse alert before the latest treatment begun, as of each result day
    (at most 60, newest first), each assessed alone."""
    cut = response.baseline_date
    if cut is None or response.first_treatment is None or any(a.code in RELAPSE_ALERTS for a in response.alerts):
        return response
    later = [e.effective for e in events if _given(e) and e.effective and cut < e.effective]
    last = max((d for d in later if response.as_of is None or d <= response.as_of), default=None)
    if last is None:
        return response
    # a treatment begun on the day of the result that showed the progression follows it too (probe69 D8)
    days = sorted({m.effective for m in measurements if m.effective and cut < m.effective <= last}, reverse=True)
    baseline = None if cut == response.first_treatment else cut  # a --baseline date stays the baseline
    for day in days[:60]:
        earlier = assess_response(measurements, events, findings, course, cfg, day, baseline, cr_dates=False)
        relapse = [a for a in earlier.alerts if a.code in RELAPSE_ALERTS]
        begun = _begun_after(events, day, response.as_of) if relapse else []
        if not begun:
            continue
        first = begun[0].effective
        if first is None:  # never: only dated treatments are begun
            continue
        given = [e.reference for e in begun if e.effective == first]
        alert = Alert(
            "progression_before_treatment",
            f"{'; '.join(a.message for a in relapse)} - recorded on {day}, "
            + ("the day a treatment was begun" if first == day else f"before the treatment begun on {first}")
            + f"; the response is measured from the last results up to {cut}, not from that treatment's start",
            tuple(dict.fromkeys((*(r for a in relapse for r in a.evidence), *given))),
            tuple(sorted({e.agent for e in begun if e.effective == first and e.agent})),
            (day, first),
        )
        return replace(response, alerts=(*response.alerts, alert))
    return response
