# SPDX-License-Identifier: Apache-2.0
"""Build the write-back: derived Observations, DiagnosticReport, CarePlan, Device, Provenance,
as one FHIR R4 transaction Bundle per patient with conditional updates on stable identifiers.

Conventions (fhir-landscape.md §5): DiagnosticReport `partial` (never `final`: software does not
verify), CarePlan `draft` + intent `proposal`, software attributed through Provenance.agent = Device,
`meta.security` AIAST on every generated resource. Every resource is validated with
fhir.resources R4B, then checked against what that library does not enforce (bindings, reference
target types) by ``check_transaction``. Nothing here knows where the Bundle goes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import itertools
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..criteria.model import Assessment, Classification, CriterionResult, State, resolvable_reference
from ..criteria.pathway import Step, recorded_other_diagnosis
from ..criteria.response import ResponseAssessment
from ..criteria.scope import ScopeDecision
from ..i18n import Translator, translator
from ..i18n.vocabulary import explain, label
from ..report import wording
from ..report.html_report import without_generation_stamp
from ..report.markup import plain
from ..mapping.values import fhir_date
from .shape_check import ShapeCache
from .narrative import careplan_narrative, check_narrative, criteria_narrative, notice_narrative, response_narrative

BASE = "https://poems-fhir.org"
ID_SYSTEM = f"{BASE}/fhir/identifier"
CRITERIA_SYSTEM = f"{BASE}/fhir/CodeSystem/poems-criteria"
STATE_SYSTEM = f"{BASE}/fhir/CodeSystem/criterion-state"
REPORT_CODE_SYSTEM = f"{BASE}/fhir/CodeSystem/report-type"
WORKUP_SYSTEM = f"{BASE}/fhir/CodeSystem/work-up"
RUN_TAG_SYSTEM = f"{BASE}/fhir/CodeSystem/input-hash"
#: meta.tag on what we write: the hash of the resource's own content as we wrote it (ownership)
CONTENT_TAG_SYSTEM = f"{BASE}/fhir/CodeSystem/content-hash"
#: meta.tag: the hash of the content as poems-fhir built it (what a re-run compares with); equal to
#: content-hash unless the server normalised what we sent (then content-hash is re-tagged to match)
SOURCE_TAG_SYSTEM = f"{BASE}/fhir/CodeSystem/source-hash"
#: meta.tag: the hash of the words of the narrative (text.div) as we wrote it - a clinician's edit of
#: what an EHR shows is a takeover too (probe37 D09); markup a server re-serialises does not count
NARRATIVE_TAG_SYSTEM = f"{BASE}/fhir/CodeSystem/narrative-hash"
#: meta.tag: the hash of the clinical conclusion (classification, criterion states, response, steps)
CONCLUSION_TAG_SYSTEM = f"{BASE}/fhir/CodeSystem/conclusion"
#: meta.tag on our Provenance: the (hashed) patient key, to find our past writes without local state
SUBJECT_TAG_SYSTEM = f"{BASE}/fhir/CodeSystem/subject-key"
EVIDENCE_EXT = f"{BASE}/fhir/StructureDefinition/evidence"
AIAST = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "AIAST",
    "display": "artificial intelligence asserted",
}
ORPHA_POEMS = {"system": "http://www.orpha.net", "code": "ORPHA:2905", "display": "POEMS syndrome"}
_NS = uuid.UUID("0b9a3c1e-5f0d-4c55-9d2f-70f3c2a1e0b1")

STATE_DISPLAY = {
    State.PRESENT: "Present",
    State.ABSENT: "Absent",
    State.NOT_ASSESSED: "Not assessed",
    State.INDETERMINATE: "Indeterminate",
}


class NotWritableError(Exception):
    """This patient's result cannot be written back (e.g. the patient has no server id)."""


class MergedPatientError(NotWritableError):
    """The patient record was merged into another (Patient.link replaced-by): it must no longer be
    used, so nothing is written to it; the surviving record is evaluated under its own id."""

    def __init__(self, patient: str, successor: str) -> None:
        super().__init__(
            f"{patient} was merged into {successor} (Patient.link replaced-by: this record must no longer "
            "be used); nothing is written to it - the surviving record is evaluated under its own id"
        )
        self.patient, self.successor = patient, successor


class OutOfScopeError(NotWritableError):
    """The patient is out of scope: nothing is written back, so no flag or proposal reaches the EHR."""


class OutputInvalidError(Exception):
    """A generated resource broke a FHIR rule; this is a bug in poems-fhir, never written."""


@dataclass(frozen=True)
class WriteContext:
    """What the write-back needs besides the assessment: run identity and the clock's reading."""

    now: dt.datetime
    mapping_identity: list[dict[str, str]]
    used: dict[str, str | None]  # evidence resources -> versionId
    report_status: str = "partial"
    #: language of every clinician-facing text (narrative, conclusion, CarePlan), written as `language`
    language: str = "en"

    def __post_init__(self) -> None:
        if self.report_status not in ("partial", "preliminary"):
            raise ValueError("DiagnosticReport status must be 'partial' or 'preliminary', never 'final'")


def _urn(key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, key)}"


def _identifier(kind: str, value: str) -> dict[str, str]:
    return {"system": f"{ID_SYSTEM}/{kind}", "value": value}


def _patient_key(patient: str) -> str:
    # identifiers carry a hash of the patient reference, not the reference itself (no PHI in ids)
    return hashlib.sha256(patient.encode()).hexdigest()[:24]


def contained_id(criterion: str) -> str:
    """Id of a criterion's contained Observation (FHIR ids allow no underscore)."""
    return "criterion-" + criterion.replace("_", "-")


def _meta() -> dict[str, Any]:
    return {"security": [dict(AIAST)]}


def _labelled(contained: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Contained resources carry the AI-asserted security label too (README: every generated resource;
    probe51 D9) - dom-4 forbids only their versionId and lastUpdated."""
    return [{**c, "meta": _meta()} if "meta" not in c else c for c in contained]


def _ref(reference: str) -> dict[str, str]:
    return {"reference": reference}


def _evidence_ref(reference: str) -> dict[str, str]:
    """A Reference to an evidence resource. Evidence read from a file without an id is cited as
    ``FILE:LINE``, which no server can resolve: a display-only Reference names it (the file's base
    name only: where the site keeps its exports is not the EHR's business)."""
    if resolvable_reference(reference):
        return _ref(reference)
    return {"display": f"input resource without an id ({Path(reference).name})"}


def _state_concept(state: State) -> dict[str, Any]:
    return {
        "coding": [{"system": STATE_SYSTEM, "code": state.value, "display": STATE_DISPLAY[state]}],
        "text": STATE_DISPLAY[state],
    }


def _with_evidence(obs: dict[str, Any], refs: Iterable[str]) -> dict[str, Any]:
    """derivedFrom for Observations; R4 allows no Condition/DiagnosticReport there: an extension."""
    refs = sorted({r for r in refs if r})  # id-less evidence too (FILE:LINE, urn:uuid): display-only
    observations = [x for x in refs if x.startswith("Observation/")]
    others = [x for x in refs if not x.startswith("Observation/")]
    if observations:
        obs["derivedFrom"] = [_ref(x) for x in observations]
    if others:
        obs["extension"] = [{"url": EVIDENCE_EXT, "valueReference": _evidence_ref(x)} for x in others]
    return obs


def _report_base(
    a: Assessment, ctx: WriteContext, ident: dict[str, str], code: str, display: str, text: str
) -> dict[str, Any]:
    """What both reports share: never final, decision-support category, software-asserted."""
    return {
        "resourceType": "DiagnosticReport",
        "meta": _meta(),
        "language": ctx.language,
        "identifier": [ident],
        "status": ctx.report_status,
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "OTH", "display": "Other"}
                ],
                "text": "Clinical decision support",
            }
        ],
        "code": {"coding": [{"system": REPORT_CODE_SYSTEM, "code": code, "display": display}], "text": text},
        "subject": _ref(a.patient),
        "issued": ctx.now.isoformat(timespec="seconds"),
    }


def _criterion_observation(
    a: Assessment, cid: str, r: CriterionResult, pkey: str, effective: str, t: Translator | None = None
) -> dict[str, Any]:
    """One criterion result, dated by its deciding evidence (none: undated), worded in ``t``'s language."""
    t = t or translator()
    # and what the evidence rests on: the report behind a refuted Condition decides its strength
    refs = [e.reference for e in r.evidence] + [x for e in r.evidence for x in e.supporting]
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": _meta(),
        "identifier": [_identifier("criterion-result", f"{pkey}.{a.profile}.{cid}")],
        "status": "preliminary",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ],
                "text": "Derived criterion result",
            }
        ],
        "code": {
            "coding": [{"system": CRITERIA_SYSTEM, "code": cid, "display": label(translator(), "criterion", cid)}],
            "text": label(t, "criterion", cid),
        },
        "subject": _ref(a.patient),
        "valueCodeableConcept": {**_state_concept(r.state), "text": label(t, "state", r.state.value)},
        "note": [{"text": wording.rule(t, r)}],
    }
    deciding = wording.deciding_date(r)
    if deciding:
        obs["effectiveDateTime"] = fhir_date(deciding)
    return _with_evidence(obs, refs)


def build_transaction(
    a: Assessment,
    ctx: WriteContext,
    steps: list[Step] | None = None,
    response: ResponseAssessment | None = None,
    html: str | None = None,
    scope: ScopeDecision | None = None,
    measurements: Sequence[Any] = (),
) -> dict[str, Any]:
    """One transaction Bundle for one patient: criteria report, response report (once treated),
    care plan with the pathway ``steps``, Device and Provenance. ``html`` is the readable page,
    attached to the criteria report as presentedForm. A patient out of ``scope`` gets nothing:
    a report of "indeterminate" with work-up proposals for everyone would bury the real ones."""
    if scope is not None and not scope.in_scope:
        raise OutOfScopeError(f"out of scope ({scope.reason}): nothing is written back")
    if not a.patient.startswith("Patient/"):
        raise NotWritableError(
            "the Patient has no id (only a transaction fullUrl), so results cannot be "
            "written back to it; load the data into the server first and evaluate what it returns"
        )
    pkey = _patient_key(a.patient)
    # the page's data cut-off (wording.data_cutoff over the same ``measurements``), else the criteria's
    cutoff = wording.data_cutoff(a, measurements)
    effective = fhir_date(cutoff) if cutoff else "unknown"
    t = translator(ctx.language)
    device_ident = _identifier("device", f"poems-fhir-{__version__}")
    device_urn = _urn(f"device|{__version__}")
    entries: list[tuple[str, dict[str, Any], str]] = []

    device = {
        "resourceType": "Device",
        "meta": _meta(),
        "identifier": [device_ident],
        "status": "active",
        "deviceName": [{"name": "poems-fhir", "type": "manufacturer-name"}],
        "type": {"text": "Clinical decision support software"},
        "version": [{"value": __version__}],
        "note": [{"text": "Open-source POEMS syndrome criteria adapter; its output is decision support only."}],
    }
    entries.append((device_urn, device, f"Device?identifier={device_ident['system']}|{device_ident['value']}"))

    # The criterion results exist only as parts of this report, so they are contained in it
    # (FHIR: contained resources are those that cannot exist independently). This also keeps the
    # transaction at 4 entries: Medplum refuses conditional transactions of more than 8.
    contained = []
    for cid, r in a.criteria.items():
        obs = _criterion_observation(a, cid, r, pkey, effective, t)
        obs["id"] = contained_id(cid)
        del obs["meta"]
        contained.append(obs)

    report_ident = _identifier("criteria-report", f"{pkey}.{a.profile}")
    report_urn = _urn(f"report|{report_ident['value']}")
    report = _report_base(
        a,
        ctx,
        report_ident,
        "poems-criteria-assessment",
        "POEMS syndrome criteria assessment",
        t._("POEMS syndrome criteria assessment") + f" ({label(t, 'profile', a.profile)})",
    )
    report.update(
        {
            "contained": _labelled(contained),
            "result": [_ref(f"#{o['id']}") for o in contained],
            "conclusion": plain(wording.conclusion(t, a, response, scope)),
            "text": criteria_narrative(t, a, cutoff, scope, response),
        }
    )
    if effective != "unknown":
        report["effectiveDateTime"] = effective
    # beside a recorded myeloma, AL amyloidosis or IgM (anti-MAG) neuropathy with VEGF the only other major
    # criterion, the rule's "met" is no POEMS diagnosis (criteria.md §7):
    # the coded conclusion, which EHR logic reads as one, is not written; the flag leads the conclusion text
    if a.classification is Classification.MET and not recorded_other_diagnosis(a):
        report["conclusionCode"] = [
            {"coding": [dict(ORPHA_POEMS)], "text": "POEMS syndrome criteria met (software assessment)"}
        ]
    if html is not None:
        report["presentedForm"] = [
            {
                "contentType": "text/html; charset=utf-8",
                "language": t.language,
                "title": t._("POEMS syndrome assessment (readable page)"),
                "data": base64.b64encode(html.encode("utf-8")).decode("ascii"),
            }
        ]
    entries.append((report_urn, report, conditional_url("DiagnosticReport", report_ident, a.patient)))
    if response is not None and (response.first_treatment or response.baseline_date):
        response_report = _response_report(a, response, pkey, ctx, t)
        ident = response_report["identifier"][0]
        response_urn = _urn(f"response|{ident['value']}")
        entries.append((response_urn, response_report, conditional_url("DiagnosticReport", ident, a.patient)))
    else:
        response_urn = None

    plan_ident = _identifier("care-plan", f"{pkey}.{a.profile}")
    plan_urn = _urn(f"plan|{plan_ident['value']}")
    plan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "meta": _meta(),
        "language": t.language,
        "identifier": [plan_ident],
        "text": careplan_narrative(t, steps or []),
        "status": "draft",
        "intent": "proposal",
        "title": t._("POEMS syndrome: proposed work-up and care pathway"),
        "description": t._(
            "Proposals from the criteria assessment; a clinician decides whether and how to act on them."
        ),
        "subject": _ref(a.patient),
        "author": _ref(device_urn),
        "supportingInfo": [_ref(u) for u in (report_urn, response_urn) if u],
        "activity": [_activity(step, t) for step in steps or []],
    }
    other_evidence = sorted(
        {r for step in steps or [] for r in step.evidence if r.split("/", 1)[0] not in _REASON_TYPES and "/" in r}
    )
    plan["supportingInfo"] += [_evidence_ref(r) for r in other_evidence]  # e.g. the transplant Procedure
    if not plan["activity"]:
        del plan["activity"]
    entries.append((plan_urn, plan, conditional_url("CarePlan", plan_ident, a.patient)))

    input_hash = _input_hash(a, ctx)
    material = conclusion_key(a, response, steps or [])
    sources = sorted(ctx.used.items())
    guarded = [(u, r) for u, r, _ in entries if r["resourceType"] in GUARDED_TYPES]
    provenance: dict[str, Any] = {
        "resourceType": "Provenance",
        "meta": {
            **_meta(),
            "tag": [
                {"system": RUN_TAG_SYSTEM, "code": input_hash},
                {"system": SUBJECT_TAG_SYSTEM, "code": pkey},
                {"system": CONCLUSION_TAG_SYSTEM, "code": material},
            ],
        },
        # the identifier rides along so a later run can tell which of our resources a deleted
        # target was, without any local state
        "target": [{"reference": u, "identifier": dict(r["identifier"][0])} for u, r in guarded],
        "recorded": ctx.now.isoformat(timespec="seconds"),
        "policy": [f"{BASE}/fhir/profile/{a.profile}"]
        + [f"urn:poems-fhir:mapping:{m['name']}:{m['version']}:sha256:{m['sha256']}" for m in ctx.mapping_identity],
        "activity": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                    "code": "CREATE",
                    "display": "create",
                }
            ]
        },
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "author",
                            "display": "Author",
                        }
                    ]
                },
                "who": _ref(device_urn),
            }
        ],
    }
    if sources:
        provenance["entity"] = [
            {"role": "source", "what": _evidence_ref(f"{ref}/_history/{vid}" if vid else ref)} for ref, vid in sources
        ]
    entries.append(
        (
            _urn(f"provenance|{pkey}|{a.profile}|{input_hash}"),
            provenance,
            f"Provenance?_tag={RUN_TAG_SYSTEM}|{input_hash}",
        )
    )

    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": urn, "resource": res, "request": {"method": "PUT", "url": url}} for urn, res, url in entries
        ],
    }
    mark_ownership(bundle, material)
    problems = check_transaction(bundle, input_refs=set(ctx.used) | {a.patient})
    if problems:
        raise OutputInvalidError("; ".join(problems))
    return bundle


def _step_coding(step: Step) -> dict[str, str]:
    """One code per kind of proposal, with one display (probe51 D10: "branch" stood for a biopsy, systemic
    therapy and radiotherapy, and displays carried a patient's dates and specimen): the vocabulary key -
    a work-up its criterion's - and its English label; what this patient's step says is in the text."""
    en = translator()
    if step.term_key == "workup":
        return {
            "system": WORKUP_SYSTEM,
            "code": step.id,
            "display": label(en, "workup", step.workup_key),
        }
    return {"system": WORKUP_SYSTEM, "code": step.term_key, "display": label(en, "step", step.term_key)}


def _activity(step: Step, t: Translator | None = None) -> dict[str, Any]:
    t = t or translator()
    coding = (
        {"system": step.coding[0], "code": step.coding[1], "display": step.coding[2]}
        if step.coding
        else _step_coding(step)
    )
    detail: dict[str, Any] = {
        "kind": "ServiceRequest",
        "code": {"coding": [coding], "text": wording.step_title(t, step)},
        "status": step.status,
        "description": wording.step_text(t, step),
    }
    # sorted: the same data read from files or from a server (another order) gives the same plan
    reasons = sorted({r for r in step.evidence if r.split("/", 1)[0] in _REASON_TYPES})
    if reasons:
        detail["reasonReference"] = [_ref(r) for r in reasons]
    # a Procedure or a medication a step rests on (the transplant that completes the eligibility step,
    # the bortezomib of the caution) is no R4 reasonReference target: cited in the evidence extension,
    # so every activity names what it rests on (probe48 D9)
    others = sorted({r for r in step.evidence if r.split("/", 1)[0] not in _REASON_TYPES})
    if others:
        detail["extension"] = [{"url": EVIDENCE_EXT, "valueReference": _evidence_ref(r)} for r in others]
    if step.repeat_months:
        # a range ("every 3-6 months") is period..periodMax, in the element order of the FHIR Timing type
        longest = {"periodMax": step.repeat_months_max} if step.repeat_months_max else {}
        timing: dict[str, Any] = {
            "repeat": {"frequency": 1, "period": step.repeat_months, **longest, "periodUnit": "mo"}
        }
        if step.scheduled_start:
            timing["repeat"]["boundsPeriod"] = {"start": step.scheduled_start.isoformat()}
        detail["scheduledTiming"] = timing
    elif step.scheduled_start:
        detail["scheduledPeriod"] = {
            "start": step.scheduled_start.isoformat(),
            **({"end": step.scheduled_end.isoformat()} if step.scheduled_end else {}),
        }
    return {"id": step.id, "detail": detail}


#: CarePlan.activity.detail.reasonReference targets in R4; other evidence goes to supportingInfo
_REASON_TYPES = {"Condition", "Observation", "DiagnosticReport", "DocumentReference"}


def _input_hash(a: Assessment, ctx: WriteContext) -> str:
    blob = json.dumps(
        {
            "patient": a.patient,
            "profile": a.profile,
            "as_of": str(a.as_of),
            "mapping": ctx.mapping_identity,
            "inputs": sorted(ctx.used.items()),
            # inputs without a versionId (files) change the hash through what they showed
            "results": {
                cid: [r.state.value, r.reason, [e.to_dict() for e in r.evidence]] for cid, r in a.criteria.items()
            },
            "version": __version__,
            # what the run writes besides the inputs: a report written as preliminary, or in another language,
            # is another write with its own Provenance (probe68 D5: one Provenance updated in place for each
            # toggle of --report-status); absent at the defaults, so their hashes stay as they were
            **({"report_status": ctx.report_status} if ctx.report_status != "partial" else {}),
            **({"language": ctx.language} if ctx.language != "en" else {}),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


RESPONSE_SYSTEM = f"{BASE}/fhir/CodeSystem/response-domain"
RESPONSE_CATEGORY_SYSTEM = f"{BASE}/fhir/CodeSystem/response-category"


def _response_observation(
    a: Assessment,
    oid: str,
    label: str,
    category: str,
    reason: str,
    effective: str,
    refs: Iterable[str],
    shown: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """``shown``: (label, category) as people read them in the report's language; ``reason`` the note."""
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "preliminary",
        "code": {
            "coding": [{"system": RESPONSE_SYSTEM, "code": oid, "display": label}],
            "text": shown[0] if shown else label,
        },
        "subject": _ref(a.patient),
        "valueCodeableConcept": {
            "coding": [{"system": RESPONSE_CATEGORY_SYSTEM, "code": category, "display": category.replace("_", " ")}],
            "text": shown[1] if shown else category.replace("_", " "),
        },
        "note": [{"text": reason}],
    }
    if effective != "unknown":
        obs["effectiveDateTime"] = effective
    return _with_evidence(obs, refs)


def conditional_url(rtype: str, ident: dict[str, Any], patient: str) -> str:
    """The conditional update of a report or plan of ours: by its identifier *and* the patient. FHIR
    updates whatever one resource the criteria match, whatever its subject: by identifier alone, our
    report that a clinician had moved to the right patient and signed off was moved back and overwritten
    (probe37); with the subject, it matches nothing there and ours is created anew in this record."""
    return f"{rtype}?identifier={ident['system']}|{ident['value']}&subject={patient}"


def as_conditional_create(request: dict[str, Any]) -> dict[str, Any]:
    """The create-only form of a conditional update ``Type?criteria``: ``POST Type`` with ``ifNoneExist`` =
    the same criteria (FHIR http.html "conditional create"). A server that holds a match answers 200 with
    it and changes nothing: what a run that believes nothing of ours exists may send (probe80 D4: the
    conditional update overwrote the one resource that matched - a clinician's signed report - when the
    ownership searches had left it out)."""
    rtype, _, criteria = str(request["url"]).partition("?")
    return {"method": "POST", "url": rtype, "ifNoneExist": criteria}


def create_criteria(request: dict[str, Any]) -> str | None:
    """The ``ifNoneExist`` criteria of a conditional create entry, else None."""
    criteria = request.get("ifNoneExist") if request.get("method") == "POST" else None
    return criteria if isinstance(criteria, str) and criteria else None


def restaging_date(r: ResponseAssessment) -> dt.date | None:
    """The restaging a response describes: its newest haematological, VEGF or clinical-domain result or
    statement (what the report cites), else the baseline."""
    days = [
        p.effective
        for p in (r.hematologic.latest, r.hematologic_imwg.latest, r.vegf.latest, r.vegf.unpaired)
        if p and p.effective and (r.baseline_date is None or p.effective > r.baseline_date)
    ]
    days += [
        d.effective
        for d in r.clinical.values()
        if d.effective and d.evidence and (r.baseline_date is None or d.effective > r.baseline_date)
    ]
    # an imaging report of progression after the treatment began is a restaging too (probe108 D1: the report
    # was dated on the first treatment's day and said "No restaging" beside the PET-CT's progression alert)
    days += [
        a.days[0]
        for a in r.alerts
        if a.code == "radiologic_progression" and a.days and (r.baseline_date is None or a.days[0] > r.baseline_date)
    ]
    return max(days) if days else r.baseline_date


def _response_report(
    a: Assessment, r: ResponseAssessment, pkey: str, ctx: WriteContext, t: Translator | None = None
) -> dict[str, Any]:
    """Response assessment beside the diagnostic report: one contained Observation per domain,
    dated by the restaging it describes (not by the newest data of any kind)."""
    t = t or translator(ctx.language)
    restaging = restaging_date(r)
    effective = fhir_date(restaging) if restaging else "unknown"
    contained = []

    def note(kind: str, category: str, base: Any, latest: Any, reason: str, values: str | None = None) -> str:
        # English: the engine's specific reason; other languages: the category explained, with the values
        # (the engine's reasons are not catalog entries yet)
        if t.language == "en":
            return reason
        values = wording.change_text(t, base, latest) if values is None else values
        return " ".join(x for x in (explain(t, kind, category), values) if x) or label(t, kind, category)

    for h in (r.hematologic, r.hematologic_imwg):
        contained.append(
            _response_observation(
                a,
                f"hematologic-{h.framework}",
                f"Haematological response ({h.framework}-style)",
                h.category,
                note(
                    "hematologic",
                    h.category,
                    h.baseline,
                    h.latest,
                    h.reason
                    + (" (provisional)" if h.provisional else "")
                    + "."
                    + (f" Caveats: {'; '.join(h.caveats)}." if h.caveats else ""),
                    wording.hematologic_change_text(t, h),
                )
                + (" " + t._("(provisional)") if h.provisional and t.language != "en" else ""),
                effective,
                [r for p in (h.baseline, h.latest) if p for r in (p.reference, *p.derived_from)] + list(h.evidence),
                (label(t, "framework", h.framework), label(t, "hematologic", h.category)),
            )
        )
    contained.append(
        _response_observation(
            a,
            "vegf",
            "VEGF response",  # one display for the code; the specimen is in the note (probe51 D10)
            r.vegf.category,
            note("vegf", r.vegf.category, r.vegf.nadir or r.vegf.baseline, r.vegf.latest, r.vegf.reason),
            effective,
            list(
                dict.fromkeys(p.reference for p in (r.vegf.baseline, r.vegf.nadir, r.vegf.latest, r.vegf.unpaired) if p)
            ),
            (t._("VEGF response"), label(t, "vegf", r.vegf.category)),
        )
    )
    for domain, d in r.clinical.items():
        contained.append(
            _response_observation(
                a,
                f"clinical-{domain.replace('_', '-')}",
                f"Clinical response: {domain.replace('_', ' ')}",
                d.direction,
                d.reason if t.language == "en" else label(t, "direction", d.direction),
                effective,
                d.evidence,
                (label(t, "domain", domain), label(t, "direction", d.direction)),
            )
        )
    ident = _identifier("response-report", f"{pkey}.{a.profile}")
    report = _report_base(
        a,
        ctx,
        ident,
        "poems-response-assessment",
        "POEMS syndrome treatment response assessment",
        t._("POEMS syndrome treatment response assessment"),
    )
    report.update(
        {
            "contained": _labelled(contained),
            "result": [_ref(f"#{o['id']}") for o in contained],
            "conclusion": plain(wording.response_conclusion(t, r, restaging)),
            "text": response_narrative(t, a, r, restaging),
        }
    )
    if effective != "unknown":
        report["effectiveDateTime"] = effective
    return report


# ------------------------------------------------------------------ our own output checks

_REQUIRED_BINDINGS = {
    ("DiagnosticReport", "status"): {
        "registered",
        "partial",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "appended",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("Observation", "status"): {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    ("Device", "status"): {"active", "inactive", "entered-in-error", "unknown"},
}
#: (resource type, element) -> allowed reference targets in R4
_TARGETS = {
    ("DiagnosticReport", "result"): {"Observation"},
    ("DiagnosticReport", "subject"): {"Patient", "Group", "Device", "Location"},
    ("Observation", "derivedFrom"): {
        "DocumentReference",
        "ImagingStudy",
        "Media",
        "QuestionnaireResponse",
        "Observation",
        "MolecularSequence",
    },
    ("Observation", "subject"): {"Patient", "Group", "Device", "Location"},
    ("CarePlan", "subject"): {"Patient", "Group"},
    ("CarePlan", "author"): {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Device",
        "RelatedPerson",
        "Organization",
        "CareTeam",
    },
    ("Provenance", "agent.who"): {
        "Practitioner",
        "PractitionerRole",
        "RelatedPerson",
        "Patient",
        "Device",
        "Organization",
    },
}
_PARSERS: dict[str, Any] = {}
#: shapes of Bundles fhir.resources accepted, per process: a pure function's memo
_SHAPES = ShapeCache()


def _model(rtype: str) -> Any:
    if rtype not in _PARSERS:
        import importlib

        module = importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}")
        _PARSERS[rtype] = getattr(module, rtype)
    return _PARSERS[rtype]


def _refs_at(resource: dict[str, Any], element: str) -> list[str]:
    value: Any = resource
    for part in element.split("."):
        if isinstance(value, list):
            value = [v.get(part) for v in value if isinstance(v, dict)]
        else:
            value = value.get(part) if isinstance(value, dict) else None
    items = value if isinstance(value, list) else [value]
    return [i["reference"] for i in items if isinstance(i, dict) and "reference" in i]


def check_transaction(bundle: dict[str, Any], input_refs: set[str]) -> list[str]:
    """What fhir.resources does not enforce: bindings, reference targets, resolvable references."""
    problems: list[str] = []
    invalid = _SHAPES.check(bundle)  # fhir.resources' verdict, memoised by shape (see shape_check.py)
    if invalid:
        problems.append(f"Bundle is not valid FHIR R4B: {invalid}")
    types = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
    for e in bundle["entry"]:
        problems.extend(_check_resource(e["resource"], types, input_refs, {}))
    return problems


def _check_resource(
    res: dict[str, Any], types: dict[str, str], input_refs: set[str], local: dict[str, str]
) -> list[str]:
    problems: list[str] = []
    rtype = res["resourceType"]
    local = {**local, **{f"#{c['id']}": c["resourceType"] for c in res.get("contained", [])}}
    for c in res.get("contained", []):
        if (c.get("meta") or {}).get("versionId") or (c.get("meta") or {}).get("lastUpdated"):
            problems.append(f"contained {c['resourceType']} must not carry meta.versionId/lastUpdated (dom-4)")
        problems.extend(_check_resource(c, types, input_refs, local))
    for (t, element), allowed in _REQUIRED_BINDINGS.items():
        if t == rtype and res.get(element) not in allowed:
            problems.append(f"{rtype}.{element} {res.get(element)!r} is not in its required value set")
    if isinstance(res.get("text"), dict):
        problems.extend(f"{rtype}.text: {p}" for p in check_narrative(res["text"].get("div", "")))
    if rtype == "DiagnosticReport" and res.get("status") == "final":
        problems.append("DiagnosticReport.status must never be 'final' from software")
    if rtype == "CarePlan" and (res.get("status"), res.get("intent")) != ("draft", "proposal"):
        problems.append("CarePlan must be status 'draft' with intent 'proposal'")
    for (t, element), allowed in _TARGETS.items():
        if t != rtype:
            continue
        for ref in _refs_at(res, element):
            target = types.get(ref) or local.get(ref) or ref.split("/", 1)[0]
            if target not in allowed:
                problems.append(f"{rtype}.{element} -> {ref} ({target}) is not an allowed target")
    for ref in _all_refs({k: v for k, v in res.items() if k != "contained"}):
        base = ref.split("/_history/")[0]
        if ref.startswith("#"):
            if ref not in local:
                problems.append(f"{rtype} references {ref}, which is not a contained resource")
        elif ref.startswith("urn:uuid:") and ref not in types:
            problems.append(f"{rtype} references {ref}, which is not in the transaction")
        elif not ref.startswith("urn:uuid:") and base not in input_refs:
            problems.append(f"{rtype} references {ref}, which is neither in the transaction nor an input")
    return problems


def _all_refs(value: Any) -> list[str]:
    """Every ``reference`` string in ``value``, depth first in document order (a loop, not recursion:
    it runs over every element of every resource we write)."""
    found: list[str] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            ref = v.get("reference")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(reversed(v.values()))
        elif isinstance(v, list):
            stack.extend(reversed(v))
    return found


# ------------------------------------------------------------------ ownership markers
#
# Everything we write carries, in meta.tag, the hash of its own content as we wrote it. Any run,
# with or without local state, can then tell "exactly what we wrote" (the hash still matches) from
# "changed by someone" (status, conclusion, notes, activities ... no longer match). Elements that a
# server or a re-run rewrites without changing the meaning are left out of the hash: meta, id, text,
# issued, and the ids of references to our own resources (urn:uuid in the transaction, Type/id on
# the server).

#: resources a clinician may take over: never modified once changed by someone else
GUARDED_TYPES = ("DiagnosticReport", "CarePlan")
_OWN_REF_TYPES = ("Device", "DiagnosticReport", "CarePlan")
_UNHASHED = ("meta", "id", "text", "issued")
_OWN_REF = re.compile(r"^(?:.*/)?(" + "|".join(_OWN_REF_TYPES) + r")/[A-Za-z0-9\-.]{1,64}(?:/_history/.*)?$")
#: statuses that mean a clinician acted on the resource (software writes partial/preliminary, draft)
CLINICIAN_STATUSES = {
    "DiagnosticReport": {"final", "amended", "corrected", "appended"},
    "CarePlan": {"active", "completed", "on-hold"},
}
WITHDRAWN_STATUSES = {
    "DiagnosticReport": {"cancelled", "entered-in-error"},
    "CarePlan": {"revoked", "entered-in-error"},
}


#: the prefix of a content hash that keeps references to other resources' of our types literal (the CT
#: report a plan cites as evidence) and drops the id only from references to our own resources: a
#: clinician who re-points our plan to their own report changed it (probe40 D14). A hash without it is
#: the first version's (every reference of our types without its id), still verified that way.
HASH_V2 = "v2-"


def _normalised(value: Any, urn_types: dict[str, str], ours: frozenset[str] | None = None) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "reference" and isinstance(v, str):
                m = _OWN_REF.match(v)
                # ours None: the first version. Else only our own lose their id; our Device always (it is
                # named by our Provenance only, which a server may not return)
                own = m is not None and (ours is None or m.group(1) == "Device" or own_ref_key(v) in ours)
                out[k] = urn_types.get(v) or (m.group(1) if m and own else v)
            else:
                out[k] = _normalised(v, urn_types, ours)
        return out
    if isinstance(value, list):
        return [_normalised(v, urn_types, ours) for v in value]
    return value


def own_ref_key(reference: str) -> str:
    """ "Type/id" of a reference, relative or absolute, versioned or not."""
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:])


def ownership_hash(
    resource: dict[str, Any], urn_types: dict[str, str] | None = None, ours: frozenset[str] | None = None
) -> str:
    """The hash of what a clinician sees in ``resource`` (see the comment above); ``ours`` (the "Type/id"
    of our own resources) makes it the second version's, without the prefix."""
    content = {k: v for k, v in resource.items() if k not in _UNHASHED}
    if isinstance(content.get("presentedForm"), list):
        content["presentedForm"] = [_page_digest(f) for f in content["presentedForm"]]
    blob = json.dumps(_normalised(content, urn_types or {}, ours), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def content_hash(
    resource: dict[str, Any], urn_types: dict[str, str] | None = None, ours: frozenset[str] = frozenset()
) -> str:
    """The marker we write: the second version (in a transaction our own references are its urn:uuids)."""
    return HASH_V2 + ownership_hash(resource, urn_types, ours)


def _matches(
    marker: str, resource: dict[str, Any], urn_types: dict[str, str] | None, ours: frozenset[str] | None
) -> bool:
    if marker.startswith(HASH_V2):
        return marker == content_hash(resource, urn_types, ours or frozenset())
    return marker == ownership_hash(resource, urn_types)


def _page_digest(form: Any) -> Any:
    """An attached page of ours counts by what it says, not by when it was generated (its time stamp
    changes with every run; comparing it would rewrite every report on every run)."""
    if not (
        isinstance(form, dict)
        and str(form.get("contentType", "")).startswith("text/html")
        and isinstance(form.get("data"), str)
    ):
        return form
    try:
        page = base64.b64decode(form["data"], validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors: someone else's bytes
        return form
    digest = hashlib.sha256(without_generation_stamp(page).encode("utf-8")).hexdigest()
    return {**form, "data": digest}


def _set_tag(resource: dict[str, Any], system: str, code: str) -> None:
    meta = resource.setdefault("meta", {})
    tags = [t for t in meta.get("tag", []) or [] if t.get("system") != system]
    meta["tag"] = tags + [{"system": system, "code": code}]


def tag_of(resource: dict[str, Any], system: str) -> str | None:
    meta = resource.get("meta") or {}
    for t in meta.get("tag", []) or [] if isinstance(meta, dict) else []:
        if isinstance(t, dict) and t.get("system") == system and isinstance(t.get("code"), str):
            return str(t["code"])
    return None


def mark(resource: dict[str, Any], content: str) -> None:
    """Set the ownership markers of a resource as we build it: content-hash = source-hash, and the
    narrative's words."""
    _set_tag(resource, SOURCE_TAG_SYSTEM, content)
    _set_tag(resource, CONTENT_TAG_SYSTEM, content)
    _set_tag(resource, NARRATIVE_TAG_SYSTEM, narrative_hash(resource))


_MARKUP = re.compile(r"<[^>]*>")


def narrative_hash(resource: dict[str, Any]) -> str:
    """The hash of the words a person reads in ``text.div``: tags, entities and spacing a server may
    re-serialise are left out, every word and its order count."""
    text = resource.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    words = " ".join(html.unescape(_MARKUP.sub(" ", div)).split()) if isinstance(div, str) else ""
    return hashlib.sha256(words.encode("utf-8")).hexdigest()[:32]


def narrative_unchanged(resource: dict[str, Any]) -> bool:
    """The narrative still says what we wrote (resources written before the marker existed: yes)."""
    marker = tag_of(resource, NARRATIVE_TAG_SYSTEM)
    return marker is None or marker == narrative_hash(resource)


def mark_ownership(bundle: dict[str, Any], material: str) -> None:
    """Tag every guarded resource of ``bundle`` with its conclusion key and its content hash."""
    types = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] in GUARDED_TYPES:
            _set_tag(res, CONCLUSION_TAG_SYSTEM, material)
            mark(res, content_hash({k: v for k, v in res.items() if k != "meta"}, types))


def is_unchanged_ours(resource: dict[str, Any], ours: frozenset[str] | None = None) -> bool:
    """True when ``resource`` is exactly what poems-fhir wrote: its content hash still matches (``ours``:
    our own resources on the server, which its references of our types must name)."""
    marker = tag_of(resource, CONTENT_TAG_SYSTEM)
    return marker is not None and _matches(marker, resource, None, ours) and narrative_unchanged(resource)


def unresolved_urns(resource: dict[str, Any]) -> list[str]:
    """References a server stored as the ``urn:uuid:`` of our transaction: the entry they named was not
    stored with it (a transaction applied in part), so the reference never resolved."""
    return sorted({r for r in _all_refs(resource) if r.startswith("urn:uuid:")})


def is_broken_ours(resource: dict[str, Any], ours: frozenset[str] | None = None) -> bool:
    """True when ``resource`` is what poems-fhir wrote except that some of its references to our own
    entries were never resolved (the server applied the transaction in part): its content hash matches
    once each unresolved ``urn:uuid:`` is read as one of our own types. Still ours - never a clinician's
    takeover - and due to be written again (probe37 D03-D05: the old repair deleted such resources,
    which needs a delete permission the README says is never needed, and lost them for good when the
    run died half-way)."""
    marker = tag_of(resource, CONTENT_TAG_SYSTEM)
    urns = unresolved_urns(resource)
    if marker is None or not urns or len(urns) > 4 or not narrative_unchanged(resource):  # 3**4 hashes at most
        return False
    return any(
        _matches(marker, resource, dict(zip(urns, types, strict=True)), ours)
        for types in itertools.product(_OWN_REF_TYPES, repeat=len(urns))
    )


def conclusion_key(a: Assessment, response: ResponseAssessment | None, steps: list[Step]) -> str:
    """What makes a conclusion materially different: classification, criterion states, response
    categories and the proposed steps - not dates of issue, evidence versions or wording."""
    blob: dict[str, Any] = {
        "profile": a.profile,
        "classification": a.classification.value,
        "criteria": {cid: r.state.value for cid, r in a.criteria.items()},
        "steps": sorted((s.id, s.status) for s in steps),
    }
    if response is not None and (response.first_treatment or response.baseline_date):
        blob["response"] = [
            response.hematologic.category,
            response.hematologic_imwg.category,
            response.vegf.category,
            response.clinical_overall,
        ]
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:16]


def withdrawal_transaction(
    resources: list[dict[str, Any]],
    reason: str,
    now: dt.datetime,
    t: Translator | None = None,
    ours: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Withdraw our own, unchanged report(s)/plan(s) the FHIR way: a report becomes ``cancelled``
    with a conclusion that says why, a plan ``revoked`` with its activities ``cancelled``; each PUT
    carries If-Match of the version we read, and a Provenance records the withdrawal. ``reason`` is
    in ``t``'s language (the clinician reads it). What people read says the withdrawal: the narrative
    is replaced by it, and the report's page (presentedForm), which still says the old conclusion,
    goes - an EHR that shows either must not show a withdrawn "criteria met" as current."""
    t = t or translator()
    stamp = now.isoformat(timespec="seconds")
    said = t._("Withdrawn by poems-fhir on {date}: {reason}. This decision support no longer holds.").format(
        date=t.datetime(now), reason=reason
    )
    entries: list[dict[str, Any]] = []
    targets = []
    # the second hash version, as every write of ours: references to our own resources (``ours``, and what
    # is withdrawn here) lose their id, a clinician's are hashed as written (probe73 D3: withdrawals carried
    # the first version, under which a clinician re-pointing one to their own report was not seen)
    ours = ours | frozenset(f"{r['resourceType']}/{r['id']}" for r in resources if r.get("id"))
    for current in resources:
        res = {k: v for k, v in current.items() if k != "meta"}
        res["meta"] = {
            "security": [dict(AIAST)],
            "tag": [
                t
                for t in (current.get("meta") or {}).get("tag", []) or []
                if t.get("system") not in (CONTENT_TAG_SYSTEM, SOURCE_TAG_SYSTEM)
            ],
        }
        ident = (res.get("identifier") or [{}])[0]
        # a resource read from the server has its id; one from our own file (file mode) its identifier and
        # its patient, as every write of ours (conditional_url: by identifier alone, posting the folder would
        # cancel our report that a clinician had moved to the right patient and signed off - probe51 D1)
        subject = (res.get("subject") or {}).get("reference") if isinstance(res.get("subject"), dict) else None
        ref = (
            f"{res['resourceType']}/{res['id']}"
            if res.get("id")
            else conditional_url(res["resourceType"], ident, subject)
            if isinstance(subject, str) and subject.startswith("Patient/")
            else f"{res['resourceType']}?identifier={ident.get('system')}|{ident.get('value')}"
        )
        if res["resourceType"] == "DiagnosticReport":
            res["status"] = "cancelled"
            earlier = t._("The earlier text was: {earlier}").format(earlier=current.get("conclusion", ""))
            res["conclusion"] = f"{said} {earlier}"
            res.pop("conclusionCode", None)
            res.pop("presentedForm", None)
            for part in res.get("contained") or []:
                # a viewer that reads the results, not the conclusion, must not see them as current either
                # (probe73 D11: a withdrawn report's criterion results stayed preliminary/present)
                if isinstance(part, dict) and part.get("resourceType") == "Observation":
                    part["status"] = "cancelled"
            res["text"] = notice_narrative(t, [said, earlier])
        else:
            res["status"] = "revoked"
            res["description"] = f"{said} " + str(current.get("description", ""))
            res["text"] = notice_narrative(t, [said])
            for activity in res.get("activity") or []:
                detail = activity.get("detail") if isinstance(activity, dict) else None
                if isinstance(detail, dict) and detail.get("status") not in ("completed", "cancelled", None):
                    detail["status"] = "cancelled"  # a revoked plan proposes nothing any more
        mark(res, content_hash(res, None, ours))
        version = (current.get("meta") or {}).get("versionId")
        request = {"method": "PUT", "url": ref, **({"ifMatch": f'W/"{version}"'} if version else {})}
        full_url = _urn(f"withdraw|{ref}|{stamp}")
        entries.append({"fullUrl": full_url, "resource": res, "request": request})
        targets.append({"reference": ref if res.get("id") else full_url, "identifier": dict(ident)})
    key = hashlib.sha256(json.dumps([t["reference"] for t in targets] + [stamp]).encode()).hexdigest()[:32]
    provenance = {
        "resourceType": "Provenance",
        "meta": {**_meta(), "tag": [{"system": RUN_TAG_SYSTEM, "code": f"withdraw-{key}"}]},
        "target": targets,
        "recorded": stamp,
        "reason": [{"text": reason}],
        "activity": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                    "code": "NULLIFY",
                    "display": "nullify",
                }
            ]
        },
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "author",
                            "display": "Author",
                        }
                    ]
                },
                "who": {
                    "identifier": _identifier("device", f"poems-fhir-{__version__}"),
                    "display": f"poems-fhir {__version__}",
                },
            }
        ],
    }
    entries.append(
        {
            "fullUrl": _urn(f"withdraw|{key}"),
            "resource": provenance,
            "request": {"method": "PUT", "url": f"Provenance?_tag={RUN_TAG_SYSTEM}|withdraw-{key}"},
        }
    )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
