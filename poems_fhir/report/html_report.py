"""A self-contained HTML page per patient: criteria with evidence, classification and what is
missing, response at each restaging, risk factors, the proposed pathway, and the timeline chart.

Deterministic (no clock), no external resources, so the same page can be attached to the
DiagnosticReport as presentedForm and shown by an EHR viewer.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from html import escape

from .. import __version__
from ..criteria.model import Assessment, Finding
from ..criteria.pathway import Step
from ..criteria.response import ResponseAssessment, ResponseConfig, assess_response
from ..criteria.risk import RiskFactor
from ..criteria.timeline import CourseAssessment, Event, Measurement
from .chart import timeline_svg

log = logging.getLogger(__name__)

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 1.5rem; color: #222; max-width: 1100px; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; } th, td { border: 1px solid #ddd; padding: .3rem .45rem; vertical-align: top; text-align: left; }
th { background: #f2f4f7; } .present { background: #fde2e1; } .absent { background: #e6f4ea; }
.not_assessed { background: #f3f3f3; color: #555; } .indeterminate { background: #fff4ce; }
.badge { display: inline-block; padding: .15rem .5rem; border-radius: .3rem; font-weight: 600; }
.met { background: #c0392b; color: #fff; } .not_met { background: #27ae60; color: #fff; } .indet { background: #f39c12; color: #fff; }
.note { color: #555; font-size: .85rem; } .flag { background: #fff4ce; padding: .4rem; margin: .3rem 0; border-left: 4px solid #f39c12; }
.alert { background: #fde2e1; padding: .4rem; margin: .3rem 0; border-left: 4px solid #c0392b; }
"""


def _td(text: object, cls: str = "") -> str:
    return f'<td class="{cls}">{escape(str(text))}</td>' if cls else f"<td>{escape(str(text))}</td>"


def restaging_points(measurements: Sequence[Measurement], response: ResponseAssessment,
                     as_of: dt.date | None) -> list[dt.date]:
    """Dates after the first treatment with a haematological or VEGF result (each is a restaging)."""
    start = response.baseline_date
    if start is None:
        return []
    days = sorted({m.effective for m in measurements if m.effective and m.effective > start
                   and m.analyte in ("serum_m_protein", "serum_ife", "urine_ife", "vegf", "flc_lambda", "flc_kappa")
                   and (as_of is None or m.effective <= as_of)})
    return days


def render_html(a: Assessment, response: ResponseAssessment, risk: Sequence[RiskFactor], steps: Sequence[Step],
                measurements: Sequence[Measurement], events: Sequence[Event], findings: Sequence[Finding],
                course: Sequence[CourseAssessment], cfg: ResponseConfig) -> str:
    cls = {"met": "met", "not_met": "not_met", "indeterminate": "indet"}[a.classification.value]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>POEMS syndrome assessment - {escape(a.patient)}</title><style>{CSS}</style></head><body>",
        f"<h1>POEMS syndrome assessment</h1><p class=\"note\">{escape(a.patient)} &middot; profile "
        f"{escape(a.profile)} &middot; as of {escape(a.as_of.isoformat() if a.as_of else 'the latest data')} "
        f"&middot; poems-fhir {__version__} &middot; decision support, not verified by a clinician</p>",
        f'<p><span id="classification" class="badge {cls}">{escape(a.classification.value.replace("_", " ").upper())}'
        f"</span> {escape(a.summary)}</p>",
    ]
    for flag in a.flags:
        parts.append(f'<div class="flag"><b>{escape(flag.code)}</b>: {escape(flag.message)}</div>')
    parts.append('<h2>Criteria</h2><table id="criteria"><thead><tr><th>criterion</th><th>state</th>'
                 "<th>evidence</th><th>reason</th></tr></thead><tbody>")
    for cid, result in a.criteria.items():
        evidence = "; ".join(f"{e.summary} [{e.reference}, {e.effective or 'undated'}]" for e in result.evidence)
        parts.append(f"<tr>{_td(cid.replace('_', ' '))}{_td(result.state.value.replace('_', ' '), result.state.value)}"
                     f"{_td(evidence or '-')}{_td(result.reason)}</tr>")
    parts.append("</tbody></table>")
    if a.missing:
        parts.append('<h2>Missing: assessing these would decide the classification</h2><ul id="missing">')
        parts += [f"<li><b>{escape(m.criterion.replace('_', ' '))}</b>: {escape(m.reason)}. "
                  f"<i>Suggested:</i> {escape(m.suggestion)}</li>" for m in a.missing]
        parts.append("</ul>")

    parts.append("<h2>Timeline</h2>")
    try:
        svg = timeline_svg(measurements, events, a.as_of)
    except Exception as exc:  # the chart is an extra: an undrawable one must not lose the page
        log.warning("timeline chart not drawn: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        parts.append(f'<p class="note" id="timeline">The timeline chart could not be drawn '
                     f'({escape(type(exc).__name__)}: {escape(str(exc)[:200])}); the tables below are complete.</p>')
    else:
        parts.append(f'<figure id="timeline">{svg}</figure>' if svg else
                     '<p class="note" id="timeline">No M-protein, free light chain or VEGF results to chart.</p>')

    parts.append('<h2>Response at each restaging</h2>')
    points = restaging_points(measurements, response, a.as_of)
    if not points:
        parts.append(f'<p class="note" id="response">{escape(response.hematologic.reason)}</p>')
    else:
        parts.append('<table id="response"><thead><tr><th>date</th><th>haematological (amyloid-style)</th>'
                     "<th>haematological (IMWG-style)</th><th>VEGF</th><th>clinical</th></tr></thead><tbody>")
        for day in points:
            r = assess_response(measurements, events, findings, course, cfg, day,
                                response.baseline_date if response.baseline_date != response.first_treatment else None)
            h = r.hematologic
            caveat = f" ({'; '.join(h.caveats)})" if h.caveats else ""
            parts.append(f"<tr>{_td(day)}{_td(h.category + (' provisional' if h.provisional else '') + ' - ' + h.reason + caveat)}"
                         f"{_td(r.hematologic_imwg.category + ' - ' + r.hematologic_imwg.reason)}"
                         f"{_td(r.vegf.category + ' - ' + r.vegf.reason)}"
                         f"{_td(r.clinical_overall + ': ' + ', '.join(f'{d} {c.direction}' for d, c in r.clinical.items()))}</tr>")
        parts.append("</tbody></table>")
    for alert in response.alerts:
        parts.append(f'<div class="alert"><b>{escape(alert.code)}</b>: {escape(alert.message)}</div>')

    parts.append('<h2>Risk factors</h2><table id="risk"><thead><tr><th>factor</th><th>model</th><th>state</th>'
                 "<th>reason</th></tr></thead><tbody>")
    for factor in risk:
        parts.append(f"<tr>{_td(factor.id.replace('_', ' '))}{_td(factor.model)}"
                     f"{_td(factor.state.value.replace('_', ' '), factor.state.value)}{_td(factor.reason)}</tr>")
    parts.append("</tbody></table><p class=\"note\">Published factors only; no point score (weights UNVERIFIED).</p>")

    parts.append('<h2>Proposed care pathway (CarePlan proposal)</h2><table id="pathway"><thead><tr><th>proposal</th>'
                 "<th>status</th><th>when</th><th>why</th></tr></thead><tbody>")
    for s in steps:
        when = ""
        if s.scheduled_start:
            when = f"{s.scheduled_start}" + (f" - {s.scheduled_end}" if s.scheduled_end else "")
            when += f", every {s.repeat_months} months" if s.repeat_months else ""
        elif s.repeat_months:
            when = f"every {s.repeat_months} months"
        parts.append(f"<tr>{_td(s.title)}{_td(s.status)}{_td(when or '-')}{_td(s.description)}</tr>")
    parts.append("</tbody></table>")
    if a.clinician_assertions:
        parts.append("<p class=\"note\">A clinician's POEMS diagnosis is recorded separately and is not evidence: "
                     + escape("; ".join(f"{e.summary} [{e.reference}]" for e in a.clinician_assertions)) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

