# SPDX-License-Identifier: Apache-2.0
"""A self-contained HTML page per patient, in the reader's language: who and when (patient name and
identifier, generation date, data cut-off), alerts on top, then the classification with what is
missing and what to do, then the evidence (criteria with date and reason), the timeline, the response
at each restaging, risk factors, the proposed pathway and the published sources.

The page is PHI by nature (it names the patient); logs never carry it. No script, no external
resources; printable on A4 or Letter (print CSS wraps instead of dropping columns); meaning never by
colour alone (every coloured mark has a text label beside it).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .. import __version__
from ..criteria.model import Assessment, Evidence, Finding, resolvable_reference
from ..criteria.pathway import Step, poems_context
from ..criteria.response import ResponseAssessment, ResponseConfig, assess_response
from ..criteria.risk import RiskFactor
from ..criteria.scope import ScopeDecision, withheld_flags
from ..criteria.timeline import CourseAssessment, Event, Measurement
from ..i18n import N_, Translator, translator
from ..i18n.bibliography import SOURCES
from ..i18n.vocabulary import explain, label, sources, term
from . import wording as w
from .chart import timeline_svg
from .markup import escaped

log = logging.getLogger(__name__)

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', 'Noto Sans', sans-serif; margin: 1.5rem; color: #1a1a1a;
       max-width: 1100px; line-height: 1.35; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.1rem; margin-top: 1.4rem; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; table-layout: auto; }
#criteria th:first-child { width: 30%; } #pathway th:first-child { width: 28%; }
th, td { border: 1px solid #8c8c8c; padding: .3rem .45rem; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #e8ebf0; } a { color: #0b4f9c; }
.who { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .4rem 0 .8rem; }
.who dt { font-weight: 600; } .who dd { margin: 0; }
.state { font-weight: 600; white-space: nowrap; } td.date, th.date { white-space: nowrap; overflow-wrap: normal; }
.state-present { background: #fde2e1; } .state-absent { background: #e3f1e6; }
.state-not-assessed { background: #f0f0f0; } .state-indeterminate { background: #fff1c2; }
.state-absent-by-caveat { background: #f0f0f0; }
.badge { display: inline-block; padding: .15rem .5rem; border-radius: .3rem; font-weight: 700; border: 2px solid #1a1a1a; }
.cls-met { background: #fde2e1; } .cls-not-met { background: #e3f1e6; } .cls-indeterminate { background: #fff1c2; }
.cls-out-of-scope { background: #e6e6e6; }
.note, .explain { color: #3d3d3d; font-size: .85rem; } .explain { display: block; }
.notice { padding: .45rem .6rem; margin: .35rem 0; border-left: 6px solid; }
.notice-alert { background: #fde2e1; border-color: #a93226; } .notice-flag { background: #fff1c2; border-color: #8a5a00; }
.notice b.kind { text-transform: uppercase; letter-spacing: .03em; }
figure { margin: .5rem 0; } figure svg { max-width: 100%; height: auto; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  table { font-size: 8.5pt; page-break-inside: auto; } tr { page-break-inside: avoid; }
  thead { display: table-header-group; } h2 { page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .notice, .state, .badge, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_SYMBOL = {"present": "●", "absent": "○", "not_assessed": "–", "indeterminate": "?", "absent_by_caveat": "–"}


@dataclass(frozen=True)
class PatientHeader:
    """What identifies the patient on the page (PHI: the page only, never logs)."""

    name: str | None = None
    identifiers: tuple[str, ...] = ()
    birth_date: str | None = None


def patient_header(patient_resource: dict[str, object] | None) -> PatientHeader:
    p = patient_resource or {}
    name = None
    for n in p.get("name") or []:  # type: ignore[attr-defined]
        if isinstance(n, dict):
            name = n.get("text") or " ".join([*(n.get("given") or []), n.get("family") or ""]).strip() or None
            if name:
                break
    idents = []
    for i in p.get("identifier") or []:  # type: ignore[attr-defined]
        if isinstance(i, dict) and i.get("value"):
            kind = (i.get("type") or {}).get("text") or ((i.get("type") or {}).get("coding") or [{}])[0].get("code")
            idents.append(f"{i['value']} ({kind})" if kind else str(i["value"]))
    birth = p.get("birthDate")
    return PatientHeader(name, tuple(idents), birth if isinstance(birth, str) else None)


def _e(text: object) -> str:
    return escaped(text)


def _td(text: object, cls: str = "") -> str:
    return f'<td class="{cls}">{_e(text)}</td>' if cls else f"<td>{_e(text)}</td>"


def _state_cell(t: Translator, state: str) -> str:
    css = "state state-" + state.replace("_", "-")
    return f'<td class="{css}">{_SYMBOL.get(state, "")} {_e(label(t, "state", state))}</td>'


def _link(reference: str, text: str) -> str:
    """The evidence's words, its reference on hover: no link - a relative "Condition/x" resolves against
    wherever the page is opened (a file, an EHR's attachment viewer) and goes nowhere (probe51 D12)."""
    if not resolvable_reference(reference):  # FILE:LINE of a resource without an id: nothing to name
        return _e(text)
    return f'<span class="ref" title="{_e(reference)}">{_e(text)}</span>'


def _evidence(t: Translator, evidence: Sequence[Evidence], limit: int = 4) -> str:
    items = [
        f'{_link(e.reference, w.evidence_text(t, e))} <span class="note">({_e(t.date(e.effective))})</span>'
        for e in list(evidence)[:limit]
    ]
    if len(evidence) > limit:
        items.append(_e(t._("and {n} more").format(n=len(evidence) - limit)))
    return "<br>".join(items)


def _cite(kind: str, key: str) -> str:
    text = sources(kind, key)
    return f' <span class="note">({_e(text)})</span>' if text else ""


#: rows of the restaging table: the latest ones (years of monthly restaging fit)
MAX_RESTAGING_ROWS = 60


def restaging_points(
    measurements: Sequence[Measurement], response: ResponseAssessment, as_of: dt.date | None
) -> list[dt.date]:
    """Dates after the first treatment with a haematological or VEGF result (each is a restaging)."""
    start = response.baseline_date
    if start is None:
        return []
    days = sorted(
        {
            m.effective
            for m in measurements
            if m.effective
            and m.effective > start
            and m.analyte in ("serum_m_protein", "serum_ife", "urine_ife", "vegf", "flc_lambda", "flc_kappa")
            and (as_of is None or m.effective <= as_of)
        }
    )
    return days


def _head(
    t: Translator, a: Assessment, patient: PatientHeader | None, generated: dt.datetime | None, cutoff: dt.date | None
) -> list[str]:
    p = patient or PatientHeader()
    title = t._("POEMS syndrome assessment")
    who = [
        (t._("Patient"), p.name or t._("name not recorded")),
        (t._("Identifier"), "; ".join(p.identifiers) or a.patient),
        *(
            [(t._("Date of birth"), t.date(dt.date.fromisoformat(p.birth_date)))]
            if p.birth_date and _iso(p.birth_date)
            else []
        ),
        (t._("Data cut-off"), t.date(cutoff, "-") + ("" if a.as_of else " " + t._("(latest data)"))),
        (t._("Generated"), t.datetime(generated) if generated else "-"),
        (t._("Criteria"), f"{label(t, 'profile', a.profile)} ({sources('profile', a.profile)})"),
        (t._("Software"), f"poems-fhir {__version__}; " + w.disclaimer(t)),
    ]
    stamp = _generated_stamp(t, generated)
    return [
        "<!DOCTYPE html>",
        f'<html lang="{t.language}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} - {_e(p.name or a.patient)}</title><style>{CSS}</style></head><body>",
        f'<header><h1>{_e(title)}</h1><dl class="who" id="patient">'
        + "".join(f"<dt>{_e(k)}</dt><dd>{stamp if k == t._('Generated') else _e(v)}</dd>" for k, v in who)
        + "</dl></header>",
    ]


#: the generation time is the one part of a page that differs between two runs on the same data
_STAMP = re.compile(r'<time class="generated"[^>]*>[^<]*</time>')


def _generated_stamp(t: Translator, generated: dt.datetime | None) -> str:
    if generated is None:
        return "-"
    return f'<time class="generated" datetime="{_e(generated.isoformat())}">{_e(t.datetime(generated))}</time>'


def without_generation_stamp(page: str) -> str:
    """The page as it reads apart from when it was made: what write-back compares between runs."""
    return _STAMP.sub("", page)


def _iso(value: str | None) -> bool:
    try:
        return bool(value) and bool(dt.date.fromisoformat(value or ""))
    except ValueError:
        return False


def _notices(t: Translator, a: Assessment, response: ResponseAssessment, scope: ScopeDecision | None) -> list[str]:
    out = []
    for n in w.notices(t, a, response, scope):
        kind = t._("ALERT") if n.kind == "alert" else t._("ATTENTION")
        refs = " ".join(_link(r, t._("source {n}").format(n=i)) for i, r in enumerate(n.evidence[:3], 1))
        out.append(
            f'<div class="notice notice-{n.kind}" role="alert" data-code="{_e(n.code.replace("_", "-"))}"><b class="kind">'
            f'{_e(kind)}:</b> <b>{_e(n.label)}.</b> {_e(n.explanation)} <span class="note">({_e(n.cite)})'
            f"{' ' + refs if refs else ''}</span></div>"
        )
    return out


def _not_read(t: Translator, not_read: Sequence[str]) -> list[str]:
    if not not_read:
        return []
    heading = t._("Not read (could change the result)")  # outside the f-string: pybabel extracts it there
    items = "".join(f"<li>{_e(line)}</li>" for line in not_read)
    return [f'<section id="not-read"><h2>{_e(heading)}</h2><ul>{items}</ul></section>']


def _classification(t: Translator, a: Assessment) -> list[str]:
    cls = a.classification.value
    parts = [
        f'<section id="summary"><h2>{_e(t._("Classification"))}</h2>'
        f'<p><span id="classification" class="badge cls-{cls.replace("_", "-")}" data-classification="{cls.replace("_", "-")}">'
        f"{_e(label(t, 'classification', cls))}</span> {_e(explain(t, 'classification', cls))}</p>",
    ]
    if (caveat := w.not_labelled(t, a)) is not None:
        parts.append(f'<p id="not-labelled" class="caveat"><b>{_e(caveat)}</b></p>')
    parts += [
        f"<p>{_e(t._('Present: {items}.').format(items=w.present_list(t, a)))}</p>",
    ]
    if a.missing:
        parts.append(f'<p><b>{_e(t._("Missing, and deciding the classification"))}:</b></p><ul id="missing">')
        for m in a.missing:
            parts.append(
                f"<li><b>{_e(label(t, 'criterion', m.criterion))}</b>: {_e(w.rule(t, a.criteria[m.criterion]))} "
                f"<i>{_e(t._('To do'))}:</i> {_e(w.missing_work_up(t, a.criteria[m.criterion]))}{_cite('workup', m.criterion)}</li>"
            )
        parts.append("</ul>")
    parts.append("</section>")
    return parts


def _criteria(t: Translator, a: Assessment) -> list[str]:
    parts = [
        f'<h2>{_e(t._("Criteria and evidence"))}</h2><table id="criteria"><thead><tr>'
        f'<th>{_e(t._("Criterion"))}</th><th>{_e(t._("Result"))}</th><th class="date">{_e(t._("Date"))}</th>'
        f"<th>{_e(t._('Why (deciding evidence and rule)'))}</th></tr></thead><tbody>"
    ]
    for cid, r in a.criteria.items():
        why = _e(w.rule(t, r))
        deciding = w.deciding_evidence(r)
        if deciding:
            why += "<br>" + _evidence(t, deciding)
        parts.append(
            f'<tr><td><b>{_e(label(t, "criterion", cid))}</b><span class="explain">'
            f"{_e(explain(t, 'criterion', cid))}{_cite('criterion', cid)}</span></td>"
            f"{_state_cell(t, w.state_key(r))}{_td(t.date(w.deciding_date(r), '-'), 'date')}<td>{why}</td></tr>"
        )
    parts.append("</tbody></table>")
    present = a.supporting_present()
    if present:
        parts.append(
            f'<p id="signs"><b>{_e(t._("Supporting features present (not counted by the rule)"))}:</b> '
            + "; ".join(f"{_e(label(t, 'sign', s))} ({_evidence(t, w.deciding_evidence(r), 1)})" for s, r in present)
            + _cite("sign", present[0][0])
            + "</p>"
        )
    return parts


def _response_cell(t: Translator, category_label: str, values: str, extra: str = "") -> str:
    return (
        f"<td><b>{_e(category_label)}</b>{(' ' + _e(extra)) if extra else ''}"
        + (f'<br><span class="note">{_e(values)}</span>' if values else "")
        + "</td>"
    )


def _response(
    t: Translator,
    measurements: Sequence[Measurement],
    events: Sequence[Event],
    findings: Sequence[Finding],
    course: Sequence[CourseAssessment],
    cfg: ResponseConfig,
    response: ResponseAssessment,
    as_of: dt.date | None,
) -> list[str]:
    parts = [f"<h2>{_e(t._('Response at each restaging'))}</h2>"]
    points = restaging_points(measurements, response, as_of)
    if not points:
        text = w.no_treatment(t, response) if response.baseline_date is None else w.no_restaging(t, response)
        return parts + [f'<p class="note" id="response">{_e(text)}</p>']
    baseline = (
        t._("Baseline: the last results before the first treatment on {date}.")
        if response.baseline_date == response.first_treatment
        else t._("Baseline: {date}.")
    ).format(date=t.date(response.baseline_date))
    parts.append(f'<p class="note">{_e(baseline)}</p>')
    if len(points) > MAX_RESTAGING_ROWS:
        # each row re-reads the series: a daily feed of thousands of results took minutes (probe67 D1)
        earlier = len(points) - MAX_RESTAGING_ROWS
        note = t.n_(
            "{n} earlier restaging is not shown: the latest {k} are.",
            "{n} earlier restagings are not shown: the latest {k} are.",
            earlier,
        ).format(n=earlier, k=MAX_RESTAGING_ROWS)
        parts.append(f'<p class="note">{_e(note)}</p>')
        points = points[-MAX_RESTAGING_ROWS:]
    parts.append(
        f'<table id="response"><thead><tr><th>{_e(t._("Date"))}</th>'
        f"<th>{_e(label(t, 'framework', 'amyloid'))}</th><th>{_e(label(t, 'framework', 'imwg'))}</th>"
        f"<th>VEGF</th><th>{_e(t._('Clinical'))}</th></tr></thead><tbody>"
    )
    base = response.baseline_date if response.baseline_date != response.first_treatment else None
    for day in points:
        r = assess_response(measurements, events, findings, course, cfg, day, base, cr_dates=False)
        cells = []
        for h in (r.hematologic, r.hematologic_imwg):
            values = w.hematologic_change_text(t, h)
            cells.append(
                _response_cell(
                    t, label(t, "hematologic", h.category), values, t._("(provisional)") if h.provisional else ""
                )
            )
        v = r.vegf
        values = w.vegf_change_text(t, v)
        cells.append(_response_cell(t, label(t, "vegf", v.category), values))
        clinical = ", ".join(
            f"{label(t, 'domain', d)}: {label(t, 'direction', c.direction)}"
            for d, c in r.clinical.items()
            if c.direction != "not_assessed"
        )
        cells.append(_response_cell(t, label(t, "direction", r.clinical_overall), clinical))
        parts.append(f"<tr>{_td(t.date(day), 'date')}{''.join(cells)}</tr>")
    parts.append("</tbody></table>")
    return parts


def _risk(t: Translator, risk: Sequence[RiskFactor], applies: bool = True) -> list[str]:
    if not applies:  # shown only where POEMS is in question; the JSON output keeps them all (--all's promise)
        return [f'<h2>{_e(t._("Risk factors"))}</h2><p class="note" id="risk">{_e(t._(NOT_POEMS_CONTEXT))}</p>']
    parts = [
        f'<h2>{_e(t._("Risk factors"))}</h2><table id="risk"><thead><tr><th>{_e(t._("Factor"))}</th>'
        f"<th>{_e(t._('Result'))}</th><th>{_e(t._('What it predicts'))}</th></tr></thead><tbody>"
    ]
    for f in risk:
        refs = " ".join(_link(r, t._("source {n}").format(n=i)) for i, r in enumerate(f.evidence[:2], 1))
        parts.append(
            f"<tr><td>{_e(label(t, 'risk', f.id))}</td>{_state_cell(t, f.state.value)}"
            f"<td>{_e(explain(t, 'risk', f.id))}{_cite('risk', f.id)}{(' ' + refs) if refs else ''}</td></tr>"
        )
    parts.append(f'</tbody></table><p class="note">{_e(t._("Published factors only; no point score."))}</p>')
    return parts


def _pathway(t: Translator, steps: Sequence[Step]) -> list[str]:
    parts = [
        f'<h2>{_e(t._("Proposed care pathway (CarePlan proposal)"))}</h2><table id="pathway"><thead><tr>'
        f"<th>{_e(t._('Proposal'))}</th><th>{_e(t._('Status'))}</th><th>{_e(t._('Why'))}</th></tr></thead><tbody>"
    ]
    for s in steps:
        parts.append(f"<tr>{_td(w.step_title(t, s))}{_td(label(t, 'status', s.status))}{_td(w.step_text(t, s))}</tr>")
    parts.append("</tbody></table>")
    return parts


def _bibliography(t: Translator, keys: Sequence[str]) -> list[str]:
    wanted = [SOURCES[k] for k in dict.fromkeys(keys) if k in SOURCES]
    if not wanted:
        return []
    return (
        [f'<h2>{_e(t._("Sources"))}</h2><ul id="sources" class="note">']
        + [f"<li><b>{_e(s.cite)}</b>: {_e(s.reference)}</li>" for s in sorted(wanted, key=lambda s: s.cite)]
        + ["</ul>"]
    )


def _cited(a: Assessment, response: ResponseAssessment, risk: Sequence[RiskFactor], steps: Sequence[Step]) -> list[str]:
    keys: list[str] = list(term("profile", a.profile).sources)
    keys += [k for c in a.criteria for k in term("criterion", c).sources]
    keys += [k for f in a.flags for k in term("flag", f.code).sources]
    keys += [k for x in response.alerts for k in term("alert", x.code).sources]
    keys += [k for f in risk for k in term("risk", f.id).sources]
    keys += [
        k
        for s in steps
        for k in (term("workup", s.workup_key) if s.term_key == "workup" else term("step", s.term_key)).sources
        + _retest_sources(s)
    ]
    return keys


def _retest_sources(s: Step) -> tuple[str, ...]:
    """The sources of a repeat-the-test proposal (probe98 D8), beside its criterion's work-up."""
    p = dict(s.params)
    return term("retest", f"{p['criterion']}:{p['retest']}").sources if "retest" in p else ()


def scope_paragraph(t: Translator, scope: ScopeDecision, audit: bool = True) -> str:
    names = lambda ids: ", ".join(label(t, "criterion", c) for c in ids)  # noqa: E731
    rule = t._("In scope when any of these is present: {criteria}; or when the criteria are met.").format(
        criteria=names(scope.trigger)
    )
    if scope.in_scope:
        text = (
            t._("In scope")
            + ": "
            + (
                t._("{criteria} present.").format(criteria=names(scope.matched))
                if scope.matched
                else t._("criteria met.")
            )
        )
    else:
        text = (
            t._("Out of scope")
            + ": "
            + t._("none of the trigger criteria is present ({states}).").format(
                states=", ".join(
                    f"{label(t, 'criterion', c)}: {label(t, 'state', s.value)}" for c, s in scope.states.items()
                )
            )
        )
        if audit:
            text += " " + t._("Audit detail: nothing on this page is raised to clinicians.")
    note = (
        (
            " "
            + t._(
                "A clinician's POEMS diagnosis is recorded although no trigger criterion is present: check "
                "that the site's codes for these criteria are mapped."
            )
        )
        if scope.note
        else ""
    )
    return (
        f'<p id="scope" class="note" data-scope="{scope.scope.value.replace("_", "-")}"><b>{_e(text)}</b> '
        f"{_e(rule)}{_e(note)}</p>"
    )


#: the published factors are POEMS cohorts' (criteria.md §9): not a paraprotein with a neuropathy alone, nor beside
#: any recorded diagnosis pathway.poems_context leaves them out for - a myeloproliferative neoplasm too (fix132b)
NOT_POEMS_CONTEXT = N_(
    "The risk factors of POEMS cohorts are not shown: they apply where POEMS is in question - the criteria "
    "met, or a POEMS criterion beyond the paraprotein and the neuropathy, or a treatment begun - and not "
    "beside a recorded other diagnosis that explains the findings (myeloma, AL amyloidosis, a myeloproliferative "
    "neoplasm, an IgM neuropathy), nor a treatment alone beside a recorded MGUS."
)


def render_html(
    a: Assessment,
    response: ResponseAssessment,
    risk: Sequence[RiskFactor],
    steps: Sequence[Step],
    measurements: Sequence[Measurement],
    events: Sequence[Event],
    findings: Sequence[Finding],
    course: Sequence[CourseAssessment],
    cfg: ResponseConfig,
    scope: ScopeDecision | None = None,
    language: str = "en",
    patient: PatientHeader | None = None,
    generated: dt.datetime | None = None,
    not_read: Sequence[str] = (),
) -> str:
    """The full page; for an out-of-scope ``scope`` this is the audit page (--all), so marked. ``not_read``:
    what the record was read without that could change the result, shown before the classification it may
    change."""
    t = translator(language)
    # nothing after the data cut-off is shown: the tables and the chart see the same facts
    if a.as_of:
        measurements = [m for m in measurements if m.effective and m.effective <= a.as_of]
        events = [e for e in events if e.effective and e.effective <= a.as_of]
    parts = _head(t, a, patient, generated, w.data_cutoff(a, measurements))
    parts.append('<section id="alerts">' + "".join(_notices(t, a, response, scope)) + "</section>")
    parts += _not_read(t, not_read)
    if scope is not None and not scope.in_scope:
        for flag in withheld_flags(a, scope):
            parts.append(
                f'<p class="note withheld">{_e(t._("Not raised (out of scope)"))}: '
                f"<b>{_e(label(t, 'flag', flag.code))}</b>: {_e(explain(t, 'flag', flag.code))}</p>"
            )
    parts += _classification(t, a)
    if scope is not None:
        parts.append(scope_paragraph(t, scope))
    parts += _criteria(t, a)
    parts.append(f"<h2>{_e(t._('Timeline'))}</h2>")
    try:
        svg = timeline_svg(measurements, events, a.as_of, t)
    except Exception as exc:  # the chart is an extra: an undrawable one must not lose the page
        log.warning("timeline chart not drawn: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        note = t._("The timeline chart could not be drawn; the tables below are complete.")
        parts.append(f'<p class="note" id="timeline">{_e(note)} ({_e(type(exc).__name__)}: {_e(str(exc)[:200])})</p>')
    else:
        parts.append(
            f'<figure id="timeline">{svg}</figure>'
            if svg
            else f'<p class="note" id="timeline">{_e(t._("No M-protein, free light chain or VEGF results to chart."))}</p>'
        )
    parts += _response(t, measurements, events, findings, course, cfg, response, a.as_of)
    parts += _risk(t, risk, poems_context(a, response.first_treatment))
    parts += _pathway(t, steps)
    if a.clinician_assertions:
        note = t._("A clinician's POEMS diagnosis is recorded separately and was not used as evidence.")
        parts.append(
            f'<p class="note">{_e(note)} '
            + "; ".join(_link(e.reference, w.evidence_text(t, e)) for e in a.clinician_assertions)
            + "</p>"
        )
    parts += _bibliography(t, _cited(a, response, risk, steps))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render_out_of_scope_html(
    a: Assessment,
    scope: ScopeDecision,
    language: str = "en",
    patient: PatientHeader | None = None,
    generated: dt.datetime | None = None,
) -> str:
    """The quiet page of an out-of-scope patient: why, and nothing that would call for action."""
    t = translator(language)
    parts = _head(t, a, patient, generated, a.as_of) + [
        f'<p><span id="classification" class="badge cls-out-of-scope" data-classification="out-of-scope">'
        f"{_e(label(t, 'classification', 'out_of_scope'))}</span> {_e(explain(t, 'classification', 'out_of_scope'))} "
        f"{_e(t._('No flags, work-up proposals, response or risk factors are shown (run with --all for the audit detail).'))}</p>",
        scope_paragraph(t, scope, audit=False),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
