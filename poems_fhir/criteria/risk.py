# SPDX-License-Identifier: Apache-2.0
"""Risk factors (criteria.md §9): present / absent / not assessed, each with its evidence.

Published factors only; no point scores or risk groups, whose weights are UNVERIFIED.
Pure: findings, measurements, events, the response and a birth date in; no FHIR JSON, no clock.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .engine import criterion_state
from .model import Criterion, Finding, Sign, State, Strength
from .response import CR_NOT_ASSESSABLE, TREATMENT_KINDS, Point, ResponseAssessment
from .timeline import Event, Measurement, add_days, day_text, latest_day, on_day, restaging_opens


@dataclass(frozen=True)
class RiskConfig:
    age_years: float = 50  # Wang 2017: age > 50 (V)
    egfr_low: float = 30  # mL/min/1.73 m2 (V)
    albumin_low: float = 32  # g/L = 3.2 g/dL (S)
    pasp_high: float = 50  # mmHg, echo-estimated sPAP >= 50 = pulmonary hypertension in POEMS cohorts (V)
    tandem_days: float = 180  # a further transplant within it is a tandem (UNVERIFIED, not in criteria.md)


@dataclass(frozen=True)
class RiskFactor:
    id: str
    model: str
    state: State
    reason: str
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # one order whatever order the source delivered the resources in (files and servers differ)
        if type(self.evidence) is not tuple or len(self.evidence) > 1:  # () and (x,) are sorted already
            object.__setattr__(self, "evidence", tuple(sorted(set(self.evidence))))


def _age(birth: dt.date | None, on: dt.date | None) -> int | None:
    """Age in completed years, as clinicians and the cited studies state it ("age > 50 y"): a
    patient of 50 years and 6 months is 50, so neither over 50 nor, at transplant, over the
    ≤ 50 line (days / 365.25 made a 50th birthday "over 50")."""
    if birth is None or on is None or on < birth:  # a date before the birth date: no age (was negative)
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _no_age(birth: dt.date | None, on: dt.date | None, what: str, unknown: str) -> str:
    if birth is not None and on is not None and on < birth:
        return f"{what} {day_text(on)} is before the birth date {day_text(birth)}"
    return unknown


def _age_between(birth: tuple[dt.date | None, dt.date | None], on: dt.date | None) -> tuple[int | None, int | None]:
    """The youngest and the oldest the patient can be on ``on`` when only the birth year or month is
    known (``birth``: its first and last day) or only the month of ``on`` (a transplant's month read from
    words, a partial date: ``last_day``) - a factor is judged when both ages give the same answer (probe83
    D5: born "1972-08", 49 on 2022-01-15 whatever the day)."""
    first, last = birth
    on_last = getattr(on, "last_day", on)
    return _age(last or first, on), _age(first, on_last)


def _age_factor(
    factor: str,
    model: str,
    birth: tuple[dt.date | None, dt.date | None],
    on: dt.date | None,
    holds: Callable[[int], bool],
    transplant: bool = False,
    evidence: tuple[str, ...] = (),
) -> RiskFactor:
    """An age factor (age > 50 at diagnosis, age <= 50 at transplant): judged on the age on ``on``."""
    youngest, oldest = _age_between(birth, on)
    if on is None or youngest is None or oldest is None:
        unknown = "birth date unknown" if transplant else "birth date or diagnosis date unknown"
        what = "transplant date" if transplant else "diagnosis date"
        return RiskFactor(factor, model, State.NOT_ASSESSED, _no_age(birth[0], on, what, unknown), evidence)
    where = f"at transplant {on_day(on)}" if transplant else f"at {day_text(on)}"  # an age needs its day
    if youngest == oldest:
        age = f"age {oldest}"
    elif holds(youngest) != holds(oldest):
        return RiskFactor(
            factor, model, State.NOT_ASSESSED, f"age {youngest} or {oldest} {where}: {_imprecise(birth, on)}", evidence
        )
    else:
        age = f"age {youngest}-{oldest}"
    return RiskFactor(factor, model, State.PRESENT if holds(oldest) else State.ABSENT, f"{age} {where}", evidence)


def _imprecise(birth: tuple[dt.date | None, dt.date | None], on: dt.date) -> str:
    """Which date is known only to its year or month."""
    said = []
    first, last = birth
    if first is not None and last is not None and first != last:
        known = f"the year ({first.year})" if (first.month, last.month) == (1, 12) else f"the month ({first:%Y-%m})"
        said.append(f"the birth date is known only to {known}")
    precision = getattr(on, "precision", None)
    if precision in ("year", "month"):
        said.append(f"the date is known only to the {precision} ({day_text(on)})")
    return "; ".join(said)


_CRITERIA = frozenset(c.value for c in Criterion)


def _criteria_recorded_by(findings: Sequence[Finding], as_of: dt.date | None) -> dt.date | None:
    """The day by which every criterion present (up to ``as_of``) had first been recorded: the first record
    of each, the latest of those. None when no criterion is present on a dated record."""
    first: dict[str, dt.date] = {}
    for f in findings:
        if (
            f.state is State.PRESENT
            and f.topic in _CRITERIA
            and f.effective
            and (as_of is None or f.effective <= as_of)
        ):
            first[f.topic] = min(first.get(f.topic, f.effective), f.effective)
    return max(first.values(), default=None)


def _latest_before(measurements: Sequence[Measurement], analyte: str, on: dt.date | None) -> Measurement | None:
    series = sorted(
        (m for m in measurements if m.analyte == analyte and m.effective and (on is None or m.effective <= on)),
        key=lambda m: m.effective,  # type: ignore[arg-type,return-value]
    )
    return series[-1] if series else None


def _present(
    findings: Sequence[Finding], topic: str, rules: tuple[str, ...] | None = None, on: dt.date | None = None
) -> list[Finding]:
    return [
        f
        for f in findings
        if f.topic == topic
        and f.state is State.PRESENT
        and (rules is None or f.source_rule in rules)
        and (on is None or (f.effective and f.effective <= on))
    ]


def _denied(
    findings: Sequence[Finding], topic: str, rules: tuple[str, ...] | None = None, on: dt.date | None = None
) -> list[Finding]:
    """Strong statements that the finding is absent (a refuted Condition, "no pleural effusion" on CT,
    a normal echo), dated on or before ``on``."""
    return [
        f
        for f in findings
        if f.topic == topic
        and f.state is State.ABSENT
        and f.strength is Strength.STRONG
        and (rules is None or f.source_rule in rules)
        and (on is None or (f.effective and f.effective <= on))
    ]


#: the factors that read which transplants are the first line's (a tandem) and which begin a later line
_TRANSPLANT_FACTORS = ("no_hematologic_cr_after_first_line", "no_hematologic_cr_after_asct")


def assess_risk(
    findings: Sequence[Finding],
    measurements: Sequence[Measurement],
    events: Sequence[Event],
    response: ResponseAssessment,
    birth_date: dt.date | None,
    as_of: dt.date | None,
    cfg: RiskConfig = RiskConfig(),
    birth_latest: dt.date | None = None,
    *,
    tandem_late: bool | None = None,
) -> list[RiskFactor]:
    """``birth_latest``: the last day the birth can be when only its year or month is recorded
    (``birth_date`` is then the first).

    A transplant known only to its month or year may lie within ``tandem_days`` of the one before on some
    of its days and beyond on others (probe85 D10: "January 2023", days 153-183 after the first): both
    readings are judged (``tandem_late``: False takes it as a tandem if any of its days is one, True only
    if all are), and where the two transplant factors differ they are not assessed, saying so - the first
    day decided before."""
    if tandem_late is None:
        args = (findings, measurements, events, response, birth_date, as_of, cfg, birth_latest)
        early = assess_risk(*args, tandem_late=False)
        pairs = _straddling(_done_transplant_days(events, as_of), cfg.tandem_days)
        return _either_reading(early, assess_risk(*args, tandem_late=True), pairs[0], cfg) if pairs else early
    latest = [f.effective for f in findings if f.effective] + [m.effective for m in measurements if m.effective]
    # "at diagnosis": the baseline (first treatment), else what is recorded up to the evaluation date
    diagnosis = response.baseline_date or max((d for d in latest if as_of is None or d <= as_of), default=None) or as_of
    # ... and the age then: untreated, on the day by which every criterion present had first been recorded -
    # not the evaluation date, nor the latest record: an untreated patient's January work-up does not age
    # with each later --as-of or follow-up sample (probe83 D2, probe84 D3: "age 50 at 2022-01-10" became
    # "age 51 at 2022-06-01" on the same data, or after one M-protein)
    diagnosed = response.baseline_date or _criteria_recorded_by(findings, as_of) or diagnosis
    out: list[RiskFactor] = []
    wang = "Wang 2017 (Peking Union)"
    birth = (birth_date, birth_latest)

    out.append(
        _age_factor(
            "age_over_50",
            wang,
            birth,
            diagnosed,
            lambda age: age > cfg.age_years,
        )
    )

    # present if recorded; absent only where a test or a clinician said so; else not assessed
    ph = _present(findings, Sign.PULMONARY_HYPERTENSION.value, on=diagnosis)
    no_ph = [] if ph else _denied(findings, Sign.PULMONARY_HYPERTENSION.value, on=diagnosis)
    pasp = None if ph or no_ph else _latest_before(measurements, "pasp", diagnosis)
    normal_pasp = pasp is not None and pasp.value < cfg.pasp_high
    out.append(
        RiskFactor(
            "pulmonary_hypertension",
            wang,
            State.PRESENT if ph else State.ABSENT if no_ph or normal_pasp else State.NOT_ASSESSED,
            _ph_reason(measurements, diagnosis, cfg)
            if ph
            else "no pulmonary hypertension"
            if no_ph
            else f"echo sPAP {pasp.value:g} mmHg on {pasp.effective} (< {cfg.pasp_high:g})"  # type: ignore[union-attr]
            if normal_pasp
            else "no echocardiographic assessment recorded",
            tuple(f.evidence.reference for f in ph or no_ph) + ((pasp.reference,) if normal_pasp else ()),  # type: ignore[union-attr]
        )
    )

    volume = Criterion.EXTRAVASCULAR_VOLUME_OVERLOAD.value
    effusion = _present(findings, volume, ("pleural_effusion",), diagnosis)
    no_effusion = [] if effusion else _denied(findings, volume, ("pleural_effusion",), diagnosis)
    out.append(
        RiskFactor(
            "pleural_effusion",
            wang,
            State.PRESENT if effusion else State.ABSENT if no_effusion else State.NOT_ASSESSED,
            "pleural effusion recorded"
            if effusion
            else "no pleural effusion"
            if no_effusion
            else "no pleural effusion recorded (not the same as absent)",
            tuple(f.evidence.reference for f in effusion or no_effusion),
        )
    )

    egfr = _latest_before(measurements, "egfr", diagnosis)
    if egfr is None:
        out.append(RiskFactor("egfr_below_30", wang, State.NOT_ASSESSED, "no eGFR at diagnosis"))
    else:
        # a censored result keeps its comparator, in the state and in the words (probe111 D8: "<15" read "eGFR
        # 15"): "<15" is below 30, ">60" is not, ">25" or "<60" cannot tell
        below = {
            None: egfr.value < cfg.egfr_low,
            "<": True if egfr.value <= cfg.egfr_low else None,
            "<=": True if egfr.value < cfg.egfr_low else None,
            ">": False if egfr.value >= cfg.egfr_low else None,
            ">=": False if egfr.value >= cfg.egfr_low else None,
        }.get(egfr.comparator)
        unit = (egfr.unit or "").replace("{1.73_m2}", "1.73 m²")
        shown = f"eGFR {egfr.comparator or ''}{egfr.value:g} {unit}".rstrip()
        out.append(
            RiskFactor(
                "egfr_below_30",
                wang,
                State.NOT_ASSESSED if below is None else State.PRESENT if below else State.ABSENT,
                f"{shown} on {egfr.effective}"
                + ("" if below is not None else f": censored, cannot tell whether below {cfg.egfr_low:g}"),
                (egfr.reference,),
            )
        )

    mayo = "Mayo progression factors (Kourelis 2016)"
    albumin = _latest_before(measurements, "albumin", diagnosis)
    if albumin is None:
        out.append(RiskFactor("low_albumin", mayo, State.NOT_ASSESSED, "no albumin at diagnosis"))
    else:
        out.append(
            RiskFactor(
                "low_albumin",
                mayo,
                State.PRESENT if albumin.value < cfg.albumin_low else State.ABSENT,
                f"albumin {albumin.value:g} g/L (< {cfg.albumin_low:g} g/L is low; cut-off S)",
                (albumin.reference,),
            )
        )

    cr = response.hematologic.category
    # serum immunofixation negative, urine not yet known: a CR may have been reached - "no CR" is not
    # known either (probe41: "no CR after transplant, HR 5.4" present beside "CR not assessable")
    cr_open = (
        f"haematological response {cr}, but {CR_NOT_ASSESSABLE}"
        if cr != "CR" and CR_NOT_ASSESSABLE in response.hematologic.caveats
        else ""
    )
    # "failure to reach hematologic CR" (Kourelis 2016): a CR reached once counts, a relapse since
    # is reported as progression, not as a CR never reached - but only a CR of the first line: a treatment
    # begun after a progression is a later line, and its CR does not undo the first line's failure (probe83 D1)
    later_line = next((a for a in response.alerts if a.code == "progression_before_treatment" and a.days), None)
    second_line = later_line.days[-1] if later_line else None
    asct = sorted(
        (
            e
            for e in events
            if e.kind == "autologous_hsct"
            and e.effective
            and e.status != "preparation"
            and (as_of is None or e.effective <= as_of)
        ),
        key=lambda e: e.effective,  # type: ignore[arg-type,return-value]
    )
    # ... and so is a transplant that is no tandem (probe84 D4: one reading of a second transplant for both
    # factors): the first line's transplants are the tandem, the next one begins a later line
    begun, last_asct, following = (
        _judged_transplant(asct, cfg.tandem_days, second_line, tandem_late) if asct else (None,) * 3
    )
    ends = [(d, why) for d, why in ((second_line, "progression"), (following, "transplant")) if d is not None]
    line_end = min(ends, key=lambda x: x[0]) if ends else None
    first_cr = [day for day in response.cr_dates if line_end is None or day < line_end[0]]
    if response.first_treatment is None:
        later = response.later_treatment  # recorded, but begun after the evaluation day (probe83 D7)
        out.append(
            RiskFactor(
                "no_hematologic_cr_after_first_line",
                mayo,
                State.NOT_ASSESSED,
                f"no treatment started by {as_of} (the first, {' and '.join(later.agents)}, starts {later.start})"
                if later
                else "no treatment recorded",
            )
        )
    elif first_cr and (cr != "CR" or line_end):
        out.append(
            RiskFactor(
                "no_hematologic_cr_after_first_line",
                mayo,
                State.ABSENT,
                f"complete response reached on {first_cr[0]} (amyloid-style); now {cr}",
                _cr_evidence(measurements, first_cr[0]),
            )
        )
    elif line_end and line_end[1] == "progression" and later_line:
        out.append(
            RiskFactor(
                "no_hematologic_cr_after_first_line",
                mayo,
                State.PRESENT,
                f"no complete response before the progression recorded on {later_line.days[0]}; the treatment "
                f"begun on {second_line} is a later line (now {cr})",
                later_line.evidence,
            )
        )
    elif line_end and following is not None:
        out.append(
            RiskFactor(
                "no_hematologic_cr_after_first_line",
                mayo,
                State.PRESENT,
                f"no complete response before the transplant {on_day(following)}, more than "
                f"{cfg.tandem_days:g} days after the one before: a later line (now {cr})",
                tuple(e.reference for e in asct if e.effective == following)
                + _cr_evidence(measurements, following - dt.timedelta(days=1), after=response.baseline_date),
            )
        )
    elif cr == "not_evaluable":
        out.append(
            RiskFactor(
                "no_hematologic_cr_after_first_line",
                mayo,
                State.NOT_ASSESSED,
                f"haematological response not evaluable: {response.hematologic.reason}",
            )
        )
    elif cr_open:
        out.append(RiskFactor("no_hematologic_cr_after_first_line", mayo, State.NOT_ASSESSED, cr_open))
    elif cr not in ("CR", "PD") and (
        # progressing now: the first line failed, whatever is given since (probe83 D1: a salvage course
        # begun after the progression was "first-line therapy still running")
        running := _first_line_running(events, as_of or max(latest, default=None), response.hematologic.latest)
    ):
        out.append(RiskFactor("no_hematologic_cr_after_first_line", mayo, State.NOT_ASSESSED, running[0], running[1]))
    else:
        out.append(
            RiskFactor(
                "no_hematologic_cr_after_first_line",
                mayo,
                State.ABSENT if cr == "CR" else State.PRESENT,
                f"haematological response {cr} (amyloid-style){_imwg_differs(response, cr)}",
                _response_evidence(response),
            )
        )

    post = "post-ASCT progression factors (D'Souza 2012)"
    # the isotype is known before any transplant: shown from diagnosis on, so it can inform the
    # decision to transplant (an independent reading of criteria.md §9 expected it there too); the
    # age at and the response after a transplant exist only once one was done, and FDG avidity is
    # never coded (one more "not assessed" line on every report before a transplant would be noise)
    clone = _present(findings, Criterion.MONOCLONAL_PLASMA_CELL_DISORDER.value, on=as_of)
    igg_lambda = [f for f in clone if f.heavy_chain == "IgG" and f.light_chain == "lambda"]
    typed = [f for f in clone if f.heavy_chain and f.light_chain]
    out.append(
        RiskFactor(
            "igg_lambda",
            post,
            State.PRESENT if igg_lambda else State.ABSENT if typed else State.NOT_ASSESSED,
            "IgG-lambda isotype" if igg_lambda else "other isotype" if typed else "isotype unknown",
            tuple(f.evidence.reference for f in igg_lambda or typed),
        )
    )
    if asct:
        day0 = asct[0].effective
        out.append(
            _age_factor(
                "age_50_or_less_at_asct",
                post,
                birth,
                day0,
                lambda age: age <= cfg.age_years,
                transplant=True,
                evidence=(asct[0].reference,),
            )
        )
        out.append(
            RiskFactor(
                "fdg_avid_lesions_at_baseline",
                post,
                State.NOT_ASSESSED,
                "FDG avidity of bone lesions is not coded in the data",
            )
        )
        # which transplant "no CR" judges: D'Souza 2012's cohort is the first transplant - a later one (salvage)
        # does not undo its outcome - but a tandem's (_judged_transplant) is judged after the last of the tandem;
        # from its restaging window on (day +90, criteria.md §10 step 5): a day +14 sample is no restaging
        # (probe83 D3). Age <= 50 stays at the first transplant.
        assert begun is not None and last_asct is not None  # noqa: S101 - set above from asct
        tandem = begun != last_asct
        restaging = restaging_opens(last_asct)
        last = response.hematologic.latest
        restaged = last is not None and last.effective is not None and last.effective >= restaging
        which = f" {on_day(last_asct)}" + (f" (a tandem after the transplant {on_day(begun)})" if tandem else "")
        # the transplant(s) judged: cited beside the results (the factor's evidence was empty when absent)
        transplants = tuple(e.reference for e in asct if e.effective and begun <= e.effective <= last_asct)
        # a CR reached from the (first) transplant of the tandem on counts, until a salvage transplant
        cr_after = [day for day in response.cr_dates if day > begun and (following is None or day < following)]
        if cr_after and (cr != "CR" or following is not None):
            out.append(
                RiskFactor(
                    "no_hematologic_cr_after_asct",
                    post,
                    State.ABSENT,
                    f"complete response reached on {cr_after[0]} after the transplant"
                    + (f"{which}, before the next {on_day(following)}" if following else "")
                    + f"; now {cr}",
                    _cr_evidence(measurements, cr_after[0]) + transplants,
                )
            )
        elif following is not None and cr != "not_evaluable":
            out.append(
                RiskFactor(
                    "no_hematologic_cr_after_asct",
                    post,
                    State.PRESENT,
                    f"no complete response after the transplant{which} before the next {on_day(following)} (the factor "
                    f"is the first transplant's outcome; now {cr})",
                    # the results before the next transplant, which the outcome is judged on - not the response now
                    # (probe117 D6: a result after the second transplant was cited, the first one's left out)
                    _cr_evidence(measurements, following - dt.timedelta(days=1), after=begun) + transplants,
                )
            )
        elif cr_open and _assessed_after(last, last_asct):
            out.append(RiskFactor("no_hematologic_cr_after_asct", post, State.NOT_ASSESSED, cr_open))
        elif cr != "not_evaluable" and not restaged and not (cr == "CR" and _assessed_after(last, begun)):
            # the response of the transplant-morning (or an earlier) sample is no response *after* it, nor
            # one of day +14: the transplant's response is read from its restaging on
            out.append(
                RiskFactor(
                    "no_hematologic_cr_after_asct",
                    post,
                    State.NOT_ASSESSED,
                    (
                        f"no haematological response assessment after the transplant{which} yet"
                        if not _assessed_after(last, last_asct)
                        else f"no haematological response assessment from day +90 ({restaging}) after the "
                        f"transplant{which} yet"
                    )
                    + (f" (the last, on {last.effective}, was {cr})" if last and last.effective else ""),
                )
            )
        else:
            out.append(
                RiskFactor(
                    "no_hematologic_cr_after_asct",
                    post,
                    State.NOT_ASSESSED if cr == "not_evaluable" else State.ABSENT if cr == "CR" else State.PRESENT,
                    f"haematological response {cr} (amyloid-style){_imwg_differs(response, cr)}",
                    () if cr == "not_evaluable" else _response_evidence(response) + transplants,
                )
            )

    thrombosis = "thrombosis risk (Mellors 2021)"
    for factor, topic, rules in (
        ("thrombocytosis", Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value, ("platelets", "thrombocytosis")),
        (
            "high_hemoglobin_or_hematocrit",
            Criterion.THROMBOCYTOSIS_POLYCYTHEMIA.value,
            ("hemoglobin", "hematocrit", "polycythemia"),
        ),
        ("volume_overload", Criterion.EXTRAVASCULAR_VOLUME_OVERLOAD.value, None),
        ("splenomegaly", Criterion.ORGANOMEGALY.value, ("splenomegaly", "hepatosplenomegaly")),
    ):
        found = _present(findings, topic, rules, as_of)
        # ruled out: a normal count, a refuted splenomegaly, a CT spleen of normal size. Volume overload
        # has several parts (oedema, effusions, ascites): ruled out only when every part was assessed
        # absent, as the criterion itself is (one part denied does not deny the others)
        denied: tuple[str, ...] = ()
        if not found and rules is not None:
            denied = tuple(f.evidence.reference for f in _denied(findings, topic, rules, as_of))
        elif not found:
            judged = criterion_state(topic, findings, as_of)
            if judged.state is State.ABSENT:
                denied = tuple(e.reference for e in judged.evidence)
        label = factor.replace("_", " ")
        out.append(
            RiskFactor(
                f"thrombosis_{factor}",
                thrombosis,
                State.PRESENT if found else State.ABSENT if denied else State.NOT_ASSESSED,
                label + (" recorded" if found else " ruled out" if denied else " not recorded"),
                tuple(f.evidence.reference for f in found) or denied,
            )
        )
    out.append(_hyperprolactinemia(measurements, findings, as_of, thrombosis))
    return out


def _either_reading(
    tandem: list[RiskFactor], later: list[RiskFactor], pair: tuple[dt.date, dt.date], cfg: RiskConfig
) -> list[RiskFactor]:
    """The factors of the tandem reading, where the transplant factors of the later-line reading differ:
    not assessed, naming both (the same state either way: kept, with the doubt said)."""
    other_of = {f.id: f for f in later}
    out: list[RiskFactor] = []
    for f in tandem:
        other = other_of[f.id]
        if f.id not in _TRANSPLANT_FACTORS or (f.state, f.reason) == (other.state, other.reason):
            out.append(f)
            continue
        a, b = pair
        straddles = (
            f"the transplant {on_day(b)} is within {cfg.tandem_days:g} days of the one {on_day(a)} on some of "
            "its days and not on others"
        )
        if f.state == other.state:  # the same either way: said with the doubt
            out.append(replace(f, reason=f"{f.reason} ({straddles}: the same if it is a later line)"))
            continue
        out.append(
            RiskFactor(
                f.id,
                f.model,
                State.NOT_ASSESSED,
                f"{straddles}: a tandem cannot be told from a later line - as a tandem, {f.state.value} "
                f"({f.reason}); as a later line, {other.state.value} ({other.reason})",
                (*f.evidence, *other.evidence),
            )
        )
    return out


def _done_transplant_days(events: Sequence[Event], as_of: dt.date | None) -> list[dt.date]:
    return sorted(
        {
            e.effective
            for e in events
            if e.kind == "autologous_hsct"
            and e.effective
            and e.status != "preparation"
            and (as_of is None or e.effective <= as_of)
        }
    )


def _straddling(days: Sequence[dt.date], tandem_days: float) -> list[tuple[dt.date, dt.date]]:
    """Consecutive transplants that are a tandem on their earliest days and not on their latest."""
    return [
        (a, b)
        for a, b in pairwise(days)
        if b <= add_days(latest_day(a), int(tandem_days)) and not latest_day(b) <= add_days(a, int(tandem_days))
    ]


def _first_line_running(
    events: Sequence[Event], on: dt.date | None, latest: Point | None = None
) -> tuple[str, tuple[str, ...]] | None:
    """Why first-line therapy is still running on ``on`` - a course whose stated end lies after it, a
    transplant planned, stem cells collected and no transplant yet, a transplant done and no response
    assessed after it (``latest``: the result that decided the response) - and what says so; None otherwise.
    "Failure to reach CR" (Kourelis 2016) is an outcome of a completed first line (probe48 D4: present on
    day 64 of a lenalidomide course ordered to the end of April)."""
    if on is None:
        return None
    done = [e for e in events if e.effective and e.effective <= on]
    for e in done:
        if (
            e.kind in TREATMENT_KINDS
            and e.end is not None
            and e.end > on
            and e.status not in ("preparation", "planned")
        ):
            return f"first-line therapy still running on {on} ({e.summary} until {e.end}): not judged yet", (
                e.reference,
            )
        # a course stated active (in progress, on hold) with no end yet is running too (probe64 D4: "no CR"
        # present 3.5 months into a lenalidomide course recorded active since January)
        if e.kind in TREATMENT_KINDS and e.end is None and e.status in ("active", "in-progress", "on-hold"):
            return (
                f"first-line therapy still running on {on} ({e.summary}, {e.status}, no end stated): not judged yet",
                (e.reference,),
            )
    planned = [e for e in events if e.kind == "autologous_hsct" and e.status in ("preparation", "planned")]
    collected = [e for e in done if e.kind == "stem_cell_mobilisation"]
    transplanted = [e for e in done if e.kind == "autologous_hsct" and e.status not in ("preparation", "planned")]
    if (planned or collected) and not transplanted:
        e = (planned or collected)[0]
        return f"a transplant is part of first-line therapy and not yet done on {on} ({e.summary}): not judged yet", (
            e.reference,
        )
    # induction and transplant are one first line: before the transplant's own restaging (from day +90,
    # criteria.md §10 step 5, as "no CR after ASCT" reads it) the response to induction, or a day +14 sample,
    # is not the line's outcome (probe83 D4: "no CR" from the pre-transplant PR, then absent once the day
    # +100 result was a CR)
    last = max(transplanted, key=lambda e: (e.effective or dt.date.min, e.reference), default=None)
    if last is not None and last.effective is not None:
        restaging = restaging_opens(last.effective)
        if latest is None or latest.effective is None or latest.effective < restaging:
            return (
                f"a transplant is part of first-line therapy and not restaged yet (the transplant "
                f"{on_day(last.effective)}; no haematological result from day +90, {restaging}, by {on}): "
                "not judged yet",
                (last.reference,),
            )
    return None


def _hyperprolactinemia(
    measurements: Sequence[Measurement], findings: Sequence[Finding], as_of: dt.date | None, model: str
) -> RiskFactor:
    """Venous thrombosis risk (criteria.md §9, Mellors 2021: "venous: hyperprolactinemia"): the latest
    prolactin known at ``as_of``, above its lab's upper limit or flagged high. No cut-off of our own:
    prolactin units are assay-dependent (codes.md), so only the lab's range or flag decides. Without a
    prolactin the lab judged, a recorded hyperprolactinaemia (a diagnosis, or text that states it) is
    the factor: the diagnosis was made on a prolactin this record does not hold."""
    latest = _latest_before(measurements, "prolactin", as_of)
    diagnosed = _present(findings, Criterion.ENDOCRINOPATHY.value, ("hyperprolactinemia",), as_of)
    if (latest is None or latest.above is None) and diagnosed:
        return RiskFactor(
            "thrombosis_hyperprolactinemia",
            model,
            State.PRESENT,
            "hyperprolactinaemia recorded",
            tuple(f.evidence.reference for f in diagnosed),
        )
    if latest is None:
        return RiskFactor("thrombosis_hyperprolactinemia", model, State.NOT_ASSESSED, "prolactin not measured")
    shown = f"prolactin {latest.value:g}{' ' + latest.unit if latest.unit else ''} on {latest.effective}"
    if latest.above is None:
        state, reason = State.NOT_ASSESSED, f"{shown}: no upper limit or flag of its lab to judge it"
    elif latest.above:
        state, reason = State.PRESENT, f"{shown}, above its lab's upper limit"
    else:
        state, reason = State.ABSENT, f"{shown}, not above its lab's upper limit"
    return RiskFactor("thrombosis_hyperprolactinemia", model, state, reason, (latest.reference,))


def splenomegaly(findings: Sequence[Finding]) -> list[Finding]:
    return _present(findings, Criterion.ORGANOMEGALY.value, ("splenomegaly", "hepatosplenomegaly"))


def _assessed_after(latest: Point | None, day0: dt.date | None) -> bool:
    """Whether the measurement that decided the haematological response was taken after the transplant."""
    return latest is not None and latest.effective is not None and day0 is not None and latest.effective > day0


def _judged_transplant(
    asct: Sequence[Event], tandem_days: float, second_line: dt.date | None, late: bool = False
) -> tuple[dt.date, dt.date, dt.date | None]:
    """The first-line transplants - the first, and the tandem it begins: each further transplant within
    ``tandem_days`` of the one before with no treatment begun after a progression between (UNVERIFIED:
    criteria.md is silent; probe84 D4) - as (the first's day, the tandem's last day, the day of the
    transplant after them or None). "No CR after ASCT" is the tandem's outcome, judged after its last
    (D'Souza 2012's cohort is first transplants); the next transplant is a later line. ``asct``: done."""
    days = sorted({e.effective for e in asct if e.effective})
    i = 0
    while (
        i + 1 < len(days)
        # a partial date: a tandem if it can be one (``late``: only if every day of it is one)
        and (
            latest_day(days[i + 1]) <= add_days(days[i], int(tandem_days))
            if late
            else days[i + 1] <= add_days(latest_day(days[i]), int(tandem_days))
        )
        and not (second_line is not None and days[i] < second_line <= days[i + 1])
    ):
        i += 1
    return days[0], days[i], days[i + 1] if i + 1 < len(days) else None


def _ph_reason(measurements: Sequence[Measurement], diagnosis: dt.date | None, cfg: RiskConfig) -> str:
    """A recorded pulmonary hypertension, and whether the cohort's definition (echo sPAP >= 50 mmHg,
    Wang 2017) is confirmed by a value - seed_case.md T0: "severity not reported; not confirmable"."""
    pasp = _latest_before(measurements, "pasp", diagnosis)
    if pasp is None:
        return (
            "pulmonary hypertension recorded; sPAP not reported: the cohort definition "
            f"(echo sPAP >= {cfg.pasp_high:g} mmHg) cannot be confirmed"
        )
    meets = "meets" if pasp.value >= cfg.pasp_high else "below"
    return (
        f"pulmonary hypertension recorded; echo sPAP {pasp.value:g} mmHg on {pasp.effective} "
        f"({meets} the cohort definition, >= {cfg.pasp_high:g} mmHg)"
    )


def _response_evidence(response: ResponseAssessment) -> tuple[str, ...]:
    """The results the current haematological response rests on: its baseline and latest result and what else
    decided it (a CR's immunofixations, ratio, marrow) - a "no CR" factor cited none (probe111)."""
    h = response.hematologic
    return tuple(p.reference for p in (h.baseline, h.latest) if p is not None) + h.evidence


_CR_RESULTS = ("serum_ife", "urine_ife", "flc_ratio", "serum_m_protein", "bm_plasma_cells")


def _cr_evidence(measurements: Sequence[Measurement], day: dt.date, after: dt.date | None = None) -> tuple[str, ...]:
    """The results a complete response reached on ``day`` rests on: the newest of each kind up to that day (and,
    with ``after``, after that day: a transplant's own outcome)."""
    refs = []
    for analyte in _CR_RESULTS:
        upto = [
            m
            for m in measurements
            if m.analyte == analyte and m.effective and m.effective <= day and (after is None or m.effective > after)
        ]
        if upto:
            refs.append(max(upto, key=lambda m: m.effective).reference)  # type: ignore[arg-type,return-value]
    return tuple(refs)


def _imwg_differs(response: ResponseAssessment, cr: str) -> str:
    """The IMWG framework's word where it and the amyloid-style one disagree on a CR (probe64 D7: "no CR
    after the transplant" present beside a report reading "Complete response (provisional) (IMWG)"): the
    factor follows the amyloid-style criteria, and says so."""
    imwg = response.hematologic_imwg
    if (imwg.category == "CR") == (cr == "CR") or imwg.category == "not_evaluable":
        return ""
    return f"; IMWG criteria: {imwg.category}" + (" (provisional)" if imwg.provisional else "")
