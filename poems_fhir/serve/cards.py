# SPDX-License-Identifier: Apache-2.0
"""CDS Hooks cards from one evaluated patient: the only place that words the card.

One function, `cards_for(result, language=...)`, builds summary, detail, source, suggestions and link
from the engine's Assessment and the scope decision; nothing else in the service knows the wording.
The clinician labels below are a small stand-in until the shared label vocabulary and gettext
catalogs (issue #12) land: switch `_label`, `_T` and `WORK_UP` to them then. Evidence summaries,
reasons and alert messages are the engine's (English) text.

Cards say which criteria are present and what is missing; they never name POEMS syndrome as a
diagnosis. Out of scope (the sync job's rule, criteria/scope.py) there is no card at all.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..i18n import Translator, translator
from ..i18n.vocabulary import label
from ..report import wording
from ..report.wording import evidence_text
from ..criteria.model import Classification, CriterionResult, Evidence, State
from ..criteria.profiles import get_profile
from ..criteria.response import distinct_alerts
from ..criteria.scope import raised_flags
from ..report.markup import plain
from ..pipeline import PatientResult
from .settings import LANGUAGES

SERVICE_ID = "poems-patient-view"
#: namespace of the cards' and suggestions' stable uuids (uuid5)
NAMESPACE = uuid.UUID("6f1d8a52-3c1e-5b7e-9a43-0c2f6c9b1d11")
SUMMARY_MAX = 140
LOINC = "http://loinc.org"

# Russian (ru) and Kazakh (kk) strings in this module: UNREVIEWED translations - no clinician has
# reviewed them yet; the shared catalogs of issue #12 replace them.
_T: dict[str, dict[str, str]] = {
    "en": {
        "met": "POEMS criteria met ({n} present): review the evidence",
        "indeterminate": "POEMS criteria not met yet: {n} present; missing {items}",
        "indeterminate_none": "POEMS criteria not met yet: {n} present; results open",
        "not_met": "POEMS criteria not met ({n} present)",
        "not_met_absent": "POEMS criteria not met ({n} present); absent: {items}",
        "h_class": "Classification",
        "h_present": "Present",
        "h_missing": "Missing (could change the result)",
        "h_absent": "Absent",
        "h_alerts": "Alerts",
        "h_not_read": "Not read (could change the result)",
        "c_met": "criteria met",
        "c_indeterminate": "not met yet: cannot be confirmed while required facts are missing",
        "c_not_met": "criteria not met",
        "footer": "Decision support: which criteria are met and what is missing, not a diagnosis.",
        "link": "Full criteria page",
        "more": "+{n} more",
    },
    "ru": {  # UNREVIEWED translation
        "met": "Критерии POEMS выполнены (присутствует: {n}): проверьте данные",
        "indeterminate": "Критерии POEMS пока не выполнены: присутствует {n}; не хватает: {items}",
        "indeterminate_none": "Критерии POEMS пока не выполнены: присутствует {n}; есть открытые результаты",
        "not_met": "Критерии POEMS не выполнены (присутствует: {n})",
        "not_met_absent": "Критерии POEMS не выполнены (присутствует: {n}); отсутствует: {items}",
        "h_class": "Классификация",
        "h_present": "Присутствует",
        "h_missing": "Не хватает (может изменить результат)",
        "h_absent": "Отсутствует",
        "h_alerts": "Предупреждения",
        "h_not_read": "Не прочитано (может изменить результат)",
        "c_met": "критерии выполнены",
        "c_indeterminate": "пока не выполнены: нельзя подтвердить, пока не хватает обязательных данных",
        "c_not_met": "критерии не выполнены",
        "footer": "Поддержка решений: какие критерии выполнены и чего не хватает; это не диагноз.",
        "link": "Полная страница критериев",
        "more": "ещё {n}",
    },
    "kk": {  # UNREVIEWED translation
        "met": "POEMS критерийлері орындалды (бар: {n}): деректерді тексеріңіз",
        "indeterminate": "POEMS критерийлері әлі орындалмады: бар {n}; жетіспейді: {items}",
        "indeterminate_none": "POEMS критерийлері әлі орындалмады: бар {n}; ашық нәтижелер бар",
        "not_met": "POEMS критерийлері орындалмады (бар: {n})",
        "not_met_absent": "POEMS критерийлері орындалмады (бар: {n}); жоқ: {items}",
        "h_class": "Жіктеу",
        "h_present": "Бар",
        "h_missing": "Жетіспейді (нәтижені өзгертуі мүмкін)",
        "h_absent": "Жоқ",
        "h_alerts": "Ескертулер",
        "h_not_read": "Оқылмады (нәтижені өзгертуі мүмкін)",
        "c_met": "критерийлер орындалды",
        "c_indeterminate": "әлі орындалмады: міндетті деректер жетіспейінше растау мүмкін емес",
        "c_not_met": "критерийлер орындалмады",
        "footer": "Шешім қабылдауды қолдау: қай критерийлер орындалды және не жетіспейді; бұл диагноз емес.",
        "link": "Критерийлердің толық беті",
        "more": "тағы {n}",
    },
}

#: criterion id -> label per language (ru, kk: UNREVIEWED translations)
_LABELS: dict[str, tuple[str, str, str]] = {
    "polyneuropathy": ("polyneuropathy", "полинейропатия", "полинейропатия"),
    "monoclonal_plasma_cell_disorder": (
        "monoclonal plasma-cell disorder",
        "моноклональное плазмоклеточное заболевание",
        "моноклондық плазмалық жасушалық ауру",
    ),
    "castleman_disease": ("Castleman disease", "болезнь Кастлемана", "Кастлеман ауруы"),
    "sclerotic_bone_lesions": (
        "sclerotic bone lesions",
        "склеротические очаги в костях",
        "сүйектердегі склероздық ошақтар",
    ),
    "vegf_elevation": ("raised VEGF", "повышение VEGF", "VEGF жоғарылауы"),
    "organomegaly": ("organomegaly", "органомегалия", "органомегалия"),
    "extravascular_volume_overload": (
        "extravascular volume overload (oedema, effusions)",
        "экстраваскулярная перегрузка объёмом (отёки, выпоты)",
        "тамырдан тыс сұйықтық артуы (ісінулер, сұйықтық жиналуы)",
    ),
    "endocrinopathy": ("endocrinopathy", "эндокринопатия", "эндокринопатия"),
    "skin_changes": ("skin changes", "изменения кожи", "терінің өзгерістері"),
    "papilledema": ("papilloedema", "отёк диска зрительного нерва", "көру нервісі дискісінің ісінуі"),
    "thrombocytosis_polycythemia": (
        "thrombocytosis / polycythaemia",
        "тромбоцитоз / полицитемия",
        "тромбоцитоз / полицитемия",
    ),
}


@dataclass(frozen=True)
class WorkUp:
    """A missing work-up the card proposes as a ServiceRequest (criteria.md: the deciding tests)."""

    short: tuple[str, str, str]  # summary wording, en/ru/kk
    label: tuple[str, str, str]  # suggestion label, en/ru/kk
    code: dict[str, Any]  # ServiceRequest.code (a LOINC coding only where codes.md verifies one)


WORK_UP: dict[str, WorkUp] = {
    # the mandatory clone first (criteria.md §3.3: the other majors decide only beside it; probe44: a
    # polyneuropathy alone got VEGF, CT and a node biopsy proposed, not the test of the clone)
    "monoclonal_plasma_cell_disorder": WorkUp(
        ("immunofixation", "иммунофиксация", "иммунофиксация"),
        (
            "Order serum and urine immunofixation and serum free light chains",
            "Назначить иммунофиксацию сыворотки и мочи и свободные лёгкие цепи сыворотки",
            "Сарысу мен несептің иммунофиксациясын және сарысудағы бос жеңіл тізбектерді тағайындау",
        ),
        {"text": "Serum and urine immunofixation, serum free light chains"},
    ),  # no verified order code
    "vegf_elevation": WorkUp(
        ("VEGF", "VEGF", "VEGF"),
        (
            "Order VEGF (plasma preferred; record the specimen type)",
            "Назначить VEGF (предпочтительно плазма; указать тип образца)",
            "VEGF тағайындау (плазма жөн; үлгі түрін көрсету)",
        ),
        # LOINC 75628-8: verified in clinical/codes.md
        {
            "coding": [
                {
                    "system": LOINC,
                    "code": "75628-8",
                    "display": "Vascular endothelial growth factor A [Mass/volume] in Serum or Plasma",
                }
            ],
            "text": "VEGF, plasma preferred",
        },
    ),
    "sclerotic_bone_lesions": WorkUp(
        ("CT bone imaging", "КТ костей", "сүйек КТ-сы"),
        (
            "Order CT-based whole-body bone imaging (or FDG PET-CT, bone window)",
            "Назначить КТ всего скелета (или ПЭТ-КТ с ФДГ, костное окно)",
            "Бүкіл қаңқаның КТ-сын тағайындау (немесе ФДГ ПЭТ-КТ, сүйек терезесі)",
        ),
        {"text": "CT-based whole-body bone imaging with bone-window review"},
    ),  # no verified order code
    "castleman_disease": WorkUp(
        ("node biopsy", "биопсия лимфоузла", "лимфа түйінінің биопсиясы"),
        (
            # criteria.md's work-up: a node biopsy only for enlarged or FDG-avid nodes (probe44: the
            # card proposed it unconditionally, unlike the CarePlan's step)
            "Order lymph-node biopsy for Castleman histology if nodes are enlarged or FDG-avid",
            "Назначить биопсию лимфоузла (гистология Кастлемана), если лимфоузлы увеличены или накапливают ФДГ",
            "Лимфа түйіндері ұлғайса немесе ФДГ жинаса, лимфа түйінінің биопсиясын тағайындау (Кастлеман гистологиясы)",
        ),
        {"text": "Lymph-node biopsy for Castleman histology if nodes are enlarged or FDG-avid"},
    ),  # no verified order code
}


def _work_up_order(m: Any) -> tuple[int, str]:
    """The proposed work-up first, in the order of WORK_UP; then the other missing criteria."""
    order = list(WORK_UP)
    return (order.index(m.criterion) if m.criterion in WORK_UP else len(order), m.criterion)


def _i(language: str) -> int:
    return LANGUAGES.index(language) if language in LANGUAGES else 0


def _label(criterion: str, language: str) -> str:
    """The criterion's clinical label from the shared vocabulary, in the card's language (the same
    words as the narrative and the page); the short card list above is the fallback."""
    try:
        return label(translator(language), "criterion", criterion)
    except KeyError:
        labels = _LABELS.get(criterion)
        return labels[_i(language)] if labels else criterion.replace("_", " ")


def _t(language: str, key: str, **kw: Any) -> str:
    return _T.get(language, _T["en"])[key].format(**kw)


_LANG = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*$")


def choose_language(accept_language: str | None, default: str) -> str:
    """The best supported language of an Accept-Language header (RFC 9110 q-values), else ``default``."""
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(",")[:20]:
        m = _LANG.match(part)
        if not m:
            continue
        lang, q = m.group(1).lower(), float(m.group(2)) if m.group(2) else 1.0
        if lang in LANGUAGES and q > 0 and (best is None or q > best[0]):
            best = (q, lang)  # ties keep the earlier entry
    return best[1] if best else default


def _evidence_line(r: CriterionResult, language: str = "en") -> str:
    t = translator(language)
    parts = []
    for e in r.evidence[:2]:
        when = f" ({t.date(e.effective)})" if e.effective else ""
        parts.append(f"{_md(evidence_text(t, e))}{when}")
    return "; ".join(parts) or _md(r.reason)


def _flag_evidence(evidence: Sequence[Evidence], t: Translator) -> str:
    parts = [f"{_md(evidence_text(t, e))}" + (f" ({t.date(e.effective)})" if e.effective else "") for e in evidence[:2]]
    return ": " + "; ".join(parts) if parts else ""


def _why(r: CriterionResult, language: str) -> str:
    """Why a criterion is open or absent, then what was found: "Only a low-grade negative test (such
    as plain radiographs) … (skeletal survey: no lesions (Feb 1, 2019))", "Thyroid disease alone …"."""
    text = _md(wording.rule(translator(language), r))
    return f"{text} ({_evidence_line(r, language)})" if r.evidence else text


def _work_up_text(criterion: str, language: str, fallback: str) -> str:
    """What to do for a missing criterion, from the shared vocabulary in the card's language."""
    try:
        return label(translator(language), "workup", criterion)
    except KeyError:
        return fallback


#: characters of one piece of record text a card quotes (a 200,000-character Condition.code.text made a
#: 200 kB card: probe44); the page has the whole text
MAX_QUOTED_CHARS = 300


def _md(text: str) -> str:
    """Plain text into Markdown: no markup, links or HTML from the record; at most MAX_QUOTED_CHARS."""
    text = plain(text).replace("\n", " ")
    if len(text) > MAX_QUOTED_CHARS:
        text = text[: MAX_QUOTED_CHARS - 1].rstrip() + "…"
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _fit(language: str, key: str, n: int, items: list[str], fallback: str) -> str:
    """The longest listing of ``items`` that keeps the summary within 140 characters."""
    for shown in range(len(items), 0, -1):
        rest = len(items) - shown
        listed = ", ".join(items[:shown]) + (f", {_t(language, 'more', n=rest)}" if rest else "")
        candidate = _t(language, key, n=n, items=listed)
        if len(candidate) <= SUMMARY_MAX:
            return candidate
    return _t(language, fallback, n=n)


def _deciding_absent(result: PatientResult) -> list[str]:
    """Criteria whose absence decides "not met": the absent ones of each rule group that cannot be
    satisfied any more (present + still open < required)."""
    a = result.assessment
    out: list[str] = []
    for group in get_profile(a.profile).groups:
        states = [a.criteria[c.value] for c in group.criteria if c.value in a.criteria]
        if sum(1 for r in states if r.state is State.PRESENT or r.open) < group.at_least:
            out += [r.criterion for r in states if r.state is State.ABSENT and not r.open and r.criterion not in out]
    return out


def _summary(result: PatientResult, language: str) -> str:
    a = result.assessment
    n = sum(1 for r in a.criteria.values() if r.state is State.PRESENT)
    if a.classification is Classification.MET:
        text = _t(language, "met", n=n)
    elif a.classification is Classification.NOT_MET:
        absent = [_label(c, language) for c in _deciding_absent(result)]
        text = _fit(language, "not_met_absent", n, absent, "not_met")
    else:
        items = [
            WORK_UP[m.criterion].short[_i(language)] if m.criterion in WORK_UP else _label(m.criterion, language)
            for m in sorted(a.missing, key=_work_up_order)
        ]
        text = _fit(language, "indeterminate", n, items, "indeterminate_none")
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


#: lines of what was not read a card lists; the rest is counted
MAX_NOT_READ = 5


def _not_read(not_read: Sequence[str], language: str) -> list[str]:
    """What the record was read without (notes the EHR refused, Binaries not fetched), in the service's (English)
    words: a criterion open or absent may rest on it."""
    if not not_read:
        return []
    lines = [f"**{_t(language, 'h_not_read')}**"] + [f"- {_md(line)}" for line in not_read[:MAX_NOT_READ]]
    if len(not_read) > MAX_NOT_READ:
        lines.append(f"- {_t(language, 'more', n=len(not_read) - MAX_NOT_READ)}")
    return [*lines, ""]


def _detail(result: PatientResult, language: str, not_read: Sequence[str] = ()) -> str:
    a = result.assessment
    profile = get_profile(a.profile)
    klass = {
        Classification.MET: "c_met",
        Classification.NOT_MET: "c_not_met",
        Classification.INDETERMINATE: "c_indeterminate",
    }[a.classification]
    lines = [f"**{_t(language, 'h_class')}** ({_md(profile.title)}): {_t(language, klass)}", ""]
    flags = raised_flags(a, result.scope)
    alerts = distinct_alerts(result.response.alerts)  # a relapse (haematological or VEGF progression)
    if flags or alerts:  # alerts first
        t = translator(language)
        lines += [f"**{_t(language, 'h_alerts')}**"]
        # the label, then what raised it and when (probe38 D15: alerts without a result or a date); not the
        # explanations, which speak of the disease - a card never names it as a diagnosis
        lines += [f"- **{_md(label(t, 'flag', f.code))}**{_flag_evidence(f.evidence, t)}" for f in flags]
        lines += [f"- **{_md(label(t, 'alert', al.code))}**: {_md(al.message)}" for al in alerts] + [""]
    lines += _not_read(not_read, language)  # before the criteria it may change
    present = [(c, r) for c, r in a.criteria.items() if r.state is State.PRESENT]
    if present:
        lines += [f"**{_t(language, 'h_present')}**"]
        lines += [f"- {_label(c, language)}: {_evidence_line(r, language)}" for c, r in present] + [""]
    if a.missing:
        lines += [f"**{_t(language, 'h_missing')}**"]
        lines += [
            f"- {_label(m.criterion, language)}: {_why(a.criteria[m.criterion], language)}"
            f" → {_md(_work_up_text(m.criterion, language, m.suggestion))}"
            for m in a.missing
        ]
        lines += [""]
    # met cards too, and an absence by caveat (thyroid only: criteria.md §5 "report separately")
    listed = {m.criterion for m in a.missing}
    absent = [(c, r) for c, r in a.criteria.items() if r.state is State.ABSENT and c not in listed]
    if absent:
        lines += [f"**{_t(language, 'h_absent')}**"]
        lines += [f"- {_label(c, language)}: {_why(r, language)}" for c, r in absent] + [""]
    lines.append(f"_{_t(language, 'footer')}_")
    return "\n".join(lines)


def _source(profile_name: str) -> dict[str, Any]:
    profile = get_profile(profile_name)
    source: dict[str, Any] = {"label": profile.citation}
    m = re.search(r"doi:(10\.\S+)", profile.citation)
    if m:
        source["url"] = f"https://doi.org/{m.group(1)}"
    return source


def card_uuid(result: PatientResult) -> str:
    """Stable for the same patient and the same conclusion: repeated chart opens give the same card."""
    a = result.assessment
    content = json.dumps(
        [
            SERVICE_ID,
            a.patient,
            a.profile,
            a.classification.value,
            sorted(c for c, r in a.criteria.items() if r.state is State.PRESENT),
            sorted(m.criterion for m in a.missing),
            sorted(f.code for f in raised_flags(a, result.scope)),
            sorted({al.code for al in result.response.alerts}),
        ]
    )
    return str(uuid.uuid5(NAMESPACE, hashlib.sha256(content.encode()).hexdigest()))


def _suggestions(result: PatientResult, language: str, card: str) -> list[dict[str, Any]]:
    a = result.assessment
    out = []
    for m in sorted(a.missing, key=_work_up_order):
        work_up = WORK_UP.get(m.criterion)
        if work_up is None:
            continue
        request = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "proposal",
            "subject": {"reference": a.patient},
            "code": work_up.code,
            "reasonCode": [{"text": f"{_LABELS[m.criterion][0]}: {m.reason}"}],
        }
        out.append(
            {
                "label": work_up.label[_i(language)],
                "uuid": str(uuid.uuid5(NAMESPACE, f"{card}|{m.criterion}")),
                "isRecommended": False,
                "actions": [{"type": "create", "description": work_up.label[_i(language)], "resource": request}],
            }
        )
    return out


def indicator(result: PatientResult) -> str:
    """warning when the criteria are met or an alert (a flag, a response alert) is raised; info otherwise."""
    a = result.assessment
    if a.classification is Classification.MET or raised_flags(a, result.scope) or result.response.alerts:
        return "warning"
    return "info"


def cards_for(
    result: PatientResult, language: str = "en", page_url: str | None = None, not_read: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The cards of one evaluated patient: none out of scope, else one card; ``not_read``: what the record was read
    without (serve/prefetch.py), listed in its detail."""
    if not result.scope.in_scope:
        return []
    card_id = card_uuid(result)
    card: dict[str, Any] = {
        "uuid": card_id,
        "summary": _summary(result, language),
        "detail": _detail(result, language, not_read),
        "indicator": indicator(result),
        "source": _source(result.assessment.profile),
    }
    suggestions = _suggestions(result, language, card_id)
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "any"
    if page_url:
        card["links"] = [{"label": _t(language, "link"), "url": page_url, "type": "absolute"}]
    return [card]
