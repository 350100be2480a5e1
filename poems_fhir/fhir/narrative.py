# SPDX-License-Identifier: Apache-2.0
"""FHIR narrative (``text``, status ``generated``) for the written resources, and a checker of the
FHIR XHTML rules (R4 Narrative.div: xhtml namespace, a limited set of elements and attributes, no
scripts, forms or event handlers, not empty).

The narrative is the short form an EHR shows: alerts first, the classification, what is present,
what is missing and what to do, then the criteria with the date and the reason. The HTML page
(presentedForm) is the long form; both are worded by ``report.wording``, so they agree.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET  # noqa: S405 - types and ParseError only; parsing goes through defusedxml
from collections.abc import Iterable, Sequence

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ..criteria.model import Assessment, Evidence, resolvable_reference
from ..criteria.pathway import Step
from ..criteria.response import ResponseAssessment
from ..criteria.scope import ScopeDecision
from ..i18n import Translator
from ..i18n.vocabulary import explain, label, sources
from ..report import wording as w
from ..report.markup import escaped

XHTML_NS = "http://www.w3.org/1999/xhtml"

#: R4 narrative: the HTML 4 elements FHIR allows (http://hl7.org/fhir/R4/narrative.html#xhtml)
ALLOWED_ELEMENTS = frozenset(
    """a abbr acronym b big blockquote br caption cite code col colgroup dd dfn div dl dt em
h1 h2 h3 h4 h5 h6 hr i img li ol p pre q samp small span strong sub sup table tbody td tfoot th thead tr tt ul
var""".split()
)
ALLOWED_ATTRIBUTES = frozenset(
    """class style title id lang dir accesskey tabindex href name src alt colspan rowspan
span width height align valign border cellpadding cellspacing summary scope abbr headers char charoff start type
value compact""".split()
) | {"{http://www.w3.org/XML/1998/namespace}lang"}


def _e(text: object) -> str:
    return escaped(text)


def _div(t: Translator, body: Iterable[str]) -> dict[str, str]:
    return {
        "status": "generated",
        "div": f'<div xmlns="{XHTML_NS}" lang="{t.language}" xml:lang="{t.language}">' + "".join(body) + "</div>",
    }


def _link(reference: str, text: str) -> str:
    if not resolvable_reference(reference):  # FILE:LINE of a resource without an id: nothing to link to
        return _e(text)
    return f'<a href="{_e(reference)}">{_e(text)}</a>'


def evidence_links(t: Translator, evidence: Sequence[Evidence], limit: int = 3) -> str:
    items = []
    for e in list(evidence)[:limit]:
        items.append(_link(e.reference, w.evidence_text(t, e)) + f" ({_e(t.date(e.effective))})")
    more = len(evidence) - limit
    if more > 0:
        items.append(_e(t._("and {n} more").format(n=more)))
    return "; ".join(items)


def _notices(
    t: Translator,
    a: Assessment,
    response: ResponseAssessment | None,
    scope: ScopeDecision | None,
    kinds: tuple[str, ...] = ("alert", "flag"),
) -> list[str]:
    out = []
    for n in w.notices(t, a, response, scope):
        if n.kind in kinds:
            marker = t._("ALERT") if n.kind == "alert" else t._("ATTENTION")
            out.append(
                f'<p class="{n.kind}"><b>{_e(marker)}: {_e(n.label)}.</b> {_e(n.explanation)} <i>({_e(n.cite)})</i></p>'
            )
    return out


def criteria_narrative(
    t: Translator,
    a: Assessment,
    cutoff: dt.date | None,
    scope: ScopeDecision | None,
    response: ResponseAssessment | None = None,
) -> dict[str, str]:
    body = _notices(t, a, response, scope)
    body.append(
        f"<p><b>{_e(w.classification_line(t, a))}</b> "
        f"{_e(explain(t, 'classification', a.classification.value))} "
        f"<i>({_e(sources('profile', a.profile))})</i></p>"
    )
    body.append(
        f"<p>{_e(t._('Data cut-off'))}: {_e(t.date(cutoff) if cutoff else '-')}</p>"
        f"<p>{_e(t._('Present: {items}.').format(items=w.present_list(t, a)))}</p>"
    )
    if a.missing:
        body.append(f"<p><b>{_e(t._('Missing, and deciding the classification'))}:</b></p><ul>")
        for m in a.missing:
            body.append(
                f"<li><b>{_e(label(t, 'criterion', m.criterion))}</b>: "
                f"{_e(w.rule(t, a.criteria[m.criterion]))} {_e(t._('To do'))}: "
                f"{_e(w.missing_work_up(t, a.criteria[m.criterion]))}.</li>"
            )
        body.append("</ul>")
    body.append(
        f"<table><thead><tr><th>{_e(t._('Criterion'))}</th><th>{_e(t._('Result'))}</th>"
        f"<th>{_e(t._('Date'))}</th><th>{_e(t._('Why'))}</th></tr></thead><tbody>"
    )
    for cid, r in a.criteria.items():
        deciding = w.deciding_evidence(r)
        why = _e(w.rule(t, r)) + (" " + evidence_links(t, deciding, 2) if deciding else "")
        body.append(
            f"<tr><td>{_e(label(t, 'criterion', cid))}</td><td>{_e(label(t, 'state', w.state_key(r)))}</td>"
            f"<td>{_e(t.date(w.deciding_date(r), '-'))}</td><td>{why}</td></tr>"
        )
    body.append("</tbody></table>")
    if a.clinician_assertions:
        note = t._("A clinician's POEMS diagnosis is recorded separately and was not used as evidence.")
        body.append(f"<p>{_e(note)}</p>")
    body.append(f"<p><i>{_e(w.disclaimer(t))}</i></p>")
    return _div(t, body)


def response_narrative(
    t: Translator, a: Assessment, r: ResponseAssessment, restaging: dt.date | None
) -> dict[str, str]:
    body = _notices(t, a, r, None, ("alert",))
    body.append(f"<p><b>{_e(w.response_heading(t, r, restaging))}</b> {_e(w.response_line(t, r, restaging))}</p>")
    body.append(
        f"<table><thead><tr><th>{_e(t._('Domain'))}</th><th>{_e(t._('Result'))}</th>"
        f"<th>{_e(t._('Values'))}</th></tr></thead><tbody>"
    )
    for h in (r.hematologic, r.hematologic_imwg):
        values = w.hematologic_change_text(t, h)
        body.append(
            f"<tr><td>{_e(label(t, 'framework', h.framework))}</td>"
            f"<td>{_e(label(t, 'hematologic', h.category))}{_e(' ' + t._('(provisional)') if h.provisional else '')}</td>"
            f"<td>{_e(values or '-')}</td></tr>"
        )
    v = r.vegf
    values = w.vegf_change_text(t, v)
    body.append(f"<tr><td>VEGF</td><td>{_e(label(t, 'vegf', v.category))}</td><td>{_e(values or '-')}</td></tr>")
    for domain, d in r.clinical.items():
        body.append(
            # the day of the statement or result that decided the direction (probe38: every domain "-")
            f"<tr><td>{_e(label(t, 'domain', domain))}</td><td>{_e(label(t, 'direction', d.direction))}</td>"
            f"<td>{_e(t.date(d.effective) if d.effective else '-')}</td></tr>"
        )
    body.append("</tbody></table>")
    body.append(f"<p><i>{_e(w.disclaimer(t))}</i></p>")
    return _div(t, body)


def notice_narrative(t: Translator, paragraphs: Sequence[str]) -> dict[str, str]:
    """A narrative of a few plain paragraphs (a withdrawal notice), the first in bold."""
    body = [f"<p><b>{_e(paragraphs[0])}</b></p>"] + [f"<p>{_e(p)}</p>" for p in paragraphs[1:]]
    return _div(t, body)


def careplan_narrative(t: Translator, steps: Sequence[Step]) -> dict[str, str]:
    body = [
        f"<p><b>{_e(t._('POEMS syndrome: proposed work-up and care pathway'))}</b>. "
        f"{_e(t._('Proposals from the criteria assessment; a clinician decides whether and how to act on them.'))}</p>"
    ]
    if steps:
        body.append("<ol>")
        for s in steps:
            body.append(
                f"<li><b>{_e(w.step_title(t, s))}</b> ({_e(label(t, 'status', s.status))}). "
                f"{_e(w.step_text(t, s))}</li>"
            )
        body.append("</ol>")
    else:
        body.append(f"<p>{_e(t._('No proposals.'))}</p>")
    body.append(f"<p><i>{_e(w.disclaimer(t))}</i></p>")
    return _div(t, body)


# ------------------------------------------------------------------ the FHIR XHTML rules


def check_narrative(div: str) -> list[str]:
    """Problems with a Narrative.div under the FHIR R4 rules; empty when it is valid."""
    try:
        root = SafeET.fromstring(div)  # a narrative may come back from a server: no entities, no DTDs
    except ET.ParseError as exc:
        return [f"narrative is not well-formed XML: {exc}"]
    except DefusedXmlException as exc:
        return [f"narrative declares a DTD or entities, which FHIR XHTML forbids: {exc!r}"]
    problems = []
    if root.tag != f"{{{XHTML_NS}}}div":
        problems.append("narrative root must be an xhtml <div> (xmlns http://www.w3.org/1999/xhtml)")
    if not "".join(root.itertext()).strip() and root.find(f".//{{{XHTML_NS}}}img") is None:
        problems.append("narrative must not be empty (txt-2)")
    for el in root.iter():
        ns, _, name = el.tag.rpartition("}")
        if ns != "{" + XHTML_NS:
            problems.append(f"element <{el.tag}> is not in the xhtml namespace")
        elif name not in ALLOWED_ELEMENTS:
            problems.append(f"element <{name}> is not allowed in a FHIR narrative (txt-1)")
        for attr, value in el.attrib.items():
            if attr not in ALLOWED_ATTRIBUTES:
                problems.append(f"attribute {attr!r} on <{name}> is not allowed in a FHIR narrative (txt-3)")
            if attr in ("href", "src") and value.strip().lower().startswith(
                ("javascript:", "data:text/html", "vbscript:")
            ):
                problems.append(f"<{name} {attr}> must not run script")
            if attr == "src" and not value.startswith(("#", "data:image/")):
                problems.append("<img src> must refer to a contained image or an attachment (txt-3)")
    return problems
