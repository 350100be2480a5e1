# SPDX-License-Identifier: Apache-2.0
"""A DocumentReference read as the report it carries.

US Core exposes clinical notes (progress notes, consultations, discharge summaries) and often imaging and
pathology reports as DocumentReferences whose ``content[].attachment`` holds the text. poems-fhir reads them
through the same path as a DiagnosticReport's ``presentedForm``: this module decides whether a document is
read at all (its status, a newer document replacing it, the same attachment already carried by a
DiagnosticReport) and gives the DiagnosticReport-shaped view the report path reads. Pure: plain dicts in,
plain dicts out."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..fhir.read import PatientRecord
from .attachment import attachments_of
from ..fhir.codes import code_word

#: FHIR R4 document-reference-status and composition-status (DocumentReference.status, .docStatus)
DOCUMENT_STATUSES = frozenset({"current", "superseded", "entered-in-error"})
DOC_STATUSES = frozenset({"preliminary", "final", "amended", "entered-in-error"})

LOINC = "http://loinc.org"
#: LOINC document-ontology types of imaging and pathology reports, given to the report path as the
#: HL7 v2-0074 section a DiagnosticReport's category would carry (a type's display or text naming
#: imaging or pathology is recognised by the report path's own words as well)
_SECTION_OF_TYPE = {
    "18748-4": "RAD",  # Diagnostic imaging study
    "18726-0": "RAD",  # Radiology studies (set)
    "11526-1": "PAT",  # Pathology study
    "11529-5": "SP",  # Surgical pathology study
    "60567-5": "PAT",  # Comprehensive pathology report panel
    "60568-3": "PAT",  # Pathology synoptic report
}
_V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
_BINARY = re.compile(r"(?:^|/)(Binary/[A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?/?$")


class DocumentError(ValueError):
    """A DocumentReference that cannot be read as it is (a missing or unknown status)."""


@dataclass(frozen=True)
class Skip:
    """Why a document is not read: ``kind`` "withdrawn" (silent, as an entered-in-error report), "replaced"
    or "duplicate" (each a reading note naming ``by``)."""

    kind: str
    by: str | None = None
    why: str = ""


@dataclass
class DocumentIndex:
    """What the record's other resources say about its documents, built once per record."""

    #: "DocumentReference/id" -> the document that replaces it (relatesTo code "replaces")
    replaced_by: dict[str, str] = field(default_factory=dict)
    #: an attachment's identity (see attachment_key) -> the resource that carries it first
    carried_by: dict[str, str] = field(default_factory=dict)
    #: "DocumentReference/id" -> why its relatesTo links were ignored (it replaces itself, or the links go round),
    #: listed once where the document is read
    link_problems: dict[str, str] = field(default_factory=dict)


def attachment_key(attachment: Any) -> str | None:
    """One attachment's identity: the Binary it names (relative or absolute, any version), else its url,
    else a digest of its inline data; None when it has none of these."""
    if not isinstance(attachment, dict):
        return None
    url = attachment.get("url")
    if isinstance(url, str) and url.strip():
        binary = _BINARY.search(url.strip())
        return binary.group(1) if binary else url.strip()
    data = attachment.get("data")
    if isinstance(data, str) and data.strip():
        return "data:" + hashlib.sha256("".join(data.split()).encode("utf-8", "surrogatepass")).hexdigest()
    return None


def _attachments(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for _, a in attachments_of(data)]


def index_documents(record: PatientRecord) -> DocumentIndex:
    """The record's replacements and carried attachments: a DiagnosticReport's presentedForm is read from the
    report (it carries the conclusion, the codes and the results beside the text), so a document carrying the
    same attachment is the same report exposed twice (US Core: one Binary referenced from both); among
    documents, the first read carries it."""
    index = DocumentIndex()
    documents: list[tuple[str, dict[str, Any]]] = []
    for raw in record.resources:
        data, ref = raw.data, raw.ref
        rtype = data.get("resourceType")
        if rtype == "DiagnosticReport" and ref and code_word(str(data.get("status") or "")) != "entered-in-error":
            forms = data.get("presentedForm")
            for form in forms if isinstance(forms, list) else []:
                key = attachment_key(form)
                if key is not None:
                    index.carried_by.setdefault(key, ref)
        elif rtype == "DocumentReference" and ref:
            documents.append((ref, data))
    edges = [(ref, old) for ref, data in documents if not _withdrawn(data) for old in _replaces(data)]
    for ref, old in edges:
        if old == ref:
            index.link_problems.setdefault(
                ref,
                f"relatesTo 'replaces' names the document itself ({ref}): a document cannot replace itself; the link "
                "is ignored and the document read - an amendment replaces its earlier version by a new id",
            )
    ring = _in_rings([(new, old) for new, old in edges if new != old])
    for members in _rings(ring, edges):
        index.link_problems.setdefault(
            members[0],
            f"relatesTo 'replaces' goes round ({', '.join(members)} replace one another): links that go round "
            "replace nothing; each document is read - correct the links",
        )
    for new, old in edges:
        if new != old and not (new in ring and old in ring and ring[new] == ring[old]):
            index.replaced_by.setdefault(old, new)
    for ref, data in documents:
        for attachment in _attachments(data):
            key = attachment_key(attachment)
            if key is not None:
                index.carried_by.setdefault(key, ref)
    return index


def _withdrawn(data: dict[str, Any]) -> bool:
    """entered-in-error by its status or docStatus: a withdrawn document replaces nothing (probe136 D8: an
    entered-in-error replacement withdrew the original it named, so the original's finding was lost)."""
    return any(
        isinstance(data.get(name), str) and code_word(data[name]) == "entered-in-error"
        for name in ("status", "docStatus")
    )


def _replaces(data: dict[str, Any]) -> list[str]:
    """The documents this one says it replaces, as "DocumentReference/id" (relative, absolute or versioned)."""
    out = []
    relations = data.get("relatesTo")
    for relation in relations if isinstance(relations, list) else []:
        if not isinstance(relation, dict) or code_word(str(relation.get("code") or "")) != "replaces":
            continue
        target = relation.get("target")
        reference = target.get("reference") if isinstance(target, dict) else None
        if isinstance(reference, str) and "DocumentReference/" in reference:
            tail = reference.rsplit("DocumentReference/", 1)[1].split("/_history")[0].strip("/")
            if tail:
                out.append("DocumentReference/" + tail)
    return out


def _in_rings(edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each document on a cycle of "replaces" links -> its ring's number (Tarjan's strongly connected components,
    iterative: a chain of 10,000 documents is no recursion limit); documents on no cycle are left out."""
    graph: dict[str, list[str]] = {}
    for new, old in edges:
        graph.setdefault(new, []).append(old)
        graph.setdefault(old, [])
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    rings: dict[str, int] = {}
    for root in graph:
        if root in order:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                order[node] = low[node] = len(order)
                stack.append(node)
                on_stack.add(node)
            if i < len(graph[node]):
                work.append((node, i + 1))
                nxt = graph[node][i]
                if nxt not in order:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], order[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == order[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    for member in component:
                        rings[member] = order[node]
    return rings


def _rings(ring_of: dict[str, int], edges: list[tuple[str, str]]) -> list[list[str]]:
    """The documents of each ring, in the order the links name them (for the message)."""
    rings: dict[int, list[str]] = {}
    for node in dict.fromkeys(x for edge in edges for x in edge):
        if node in ring_of:
            rings.setdefault(ring_of[node], []).append(node)
    return list(rings.values())


def skip_reason(data: dict[str, Any], ref: str | None, index: DocumentIndex) -> Skip | None:
    """Why this document is not read, or None; raises DocumentError for a status that says nothing."""
    status = data.get("status")
    if not isinstance(status, str) or not status.strip():
        raise DocumentError(
            "DocumentReference has no status (required in FHIR R4): whether it is current or withdrawn cannot be "
            "told; not read - send the status"
        )
    word = code_word(status)
    if word not in DOCUMENT_STATUSES:
        raise DocumentError(
            f"status {status[:60]!r} is not a FHIR document status ({', '.join(sorted(DOCUMENT_STATUSES))}): "
            "whether it is withdrawn cannot be told; not read - fix the status"
        )
    doc_status = data.get("docStatus")
    if isinstance(doc_status, str) and not doc_status.strip():
        # "" is no FHIR JSON (a primitive may not be empty) and no absent docStatus: a sender's blank status says
        # nothing of whether the document stands, as a code no status knows does not (fix139a)
        raise DocumentError(
            f"docStatus {doc_status[:60]!r} is empty (a FHIR value may not be blank): whether the document is withdrawn "
            "cannot be told; not read - fix the docStatus or leave it out"
        )
    doc_word = code_word(doc_status) if isinstance(doc_status, str) else None
    if doc_word is not None and doc_word not in DOC_STATUSES:
        raise DocumentError(
            f"docStatus {str(doc_status)[:60]!r} is not a FHIR composition status ({', '.join(sorted(DOC_STATUSES))})"
            ": whether the document is withdrawn cannot be told; not read - fix the docStatus"
        )
    if "entered-in-error" in (word, doc_word):
        return Skip("withdrawn")
    if ref and ref in index.replaced_by:
        return Skip("replaced", index.replaced_by[ref], "a later document replaces it (relatesTo)")
    if word == "superseded":
        return Skip("replaced", None, "status superseded: a later document replaces it")
    for attachment in _attachments(data):
        key = attachment_key(attachment)
        carrier = index.carried_by.get(key) if key is not None else None
        if carrier is not None and carrier != ref:
            return Skip("duplicate", carrier, "the same attachment is read there")
    return None


def report_view(data: dict[str, Any]) -> dict[str, Any]:
    """The document as the DiagnosticReport the report path reads: its type as the code, its category (plus
        the section its LOINC type implies and its type's words), the clinical period (else the document's date),
        the attachments as presentedForm; its ``description`` and the attachments' titles name the study (read for
    its modality, never as findings: no conclusion)."""
    doc_type = data.get("type") if isinstance(data.get("type"), dict) else None
    categories = [c for c in data.get("category") or [] if isinstance(c, dict)]
    for coding in (doc_type or {}).get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") == LOINC and coding.get("code") in _SECTION_OF_TYPE:
            categories.append({"coding": [{"system": _V2_0074, "code": _SECTION_OF_TYPE[coding["code"]]}]})
    names = [doc_type.get("text")] if doc_type else []
    names += [c.get("display") for c in (doc_type or {}).get("coding") or [] if isinstance(c, dict)]
    words = " ".join(n for n in names if isinstance(n, str) and n.strip())
    if words:
        categories.append({"text": words})  # "Radiology report", "Pathology consult": the report path's words
    doc_status = data.get("docStatus")
    view: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": code_word(doc_status) if isinstance(doc_status, str) and doc_status.strip() else "final",
        "category": categories,
        "presentedForm": _forms(data),
    }
    for name in ("id", "meta", "subject", "identifier"):
        if name in data:
            view[name] = data[name]
    titles = [(doc_type or {}).get("text"), data.get("description")] + [a.get("title") for a in view["presentedForm"]]
    named = _distinct(titles)
    if doc_type is not None or named:
        # the type ("Diagnostic imaging study") and the study's own name (Epic puts "CT CHEST ABDOMEN PELVIS" in
        # the description or the attachment's title): the modality rules read both (probe133 G2)
        code = dict(doc_type or {})
        code_text = named
        if code_text:
            code["text"] = code_text
        view["code"] = code
    context = data.get("context")
    period = context.get("period") if isinstance(context, dict) else None
    if isinstance(period, dict) and (period.get("start") or period.get("end")):
        view["effectivePeriod"] = period
    elif data.get("date") is not None:
        view["issued"] = data["date"]
    return view


def _distinct(names: list[Any]) -> str:
    """The study's names once each, in order: a description equal to the type's text (or a title in every format)
    named the study twice ("CT ABDOMEN PELVIS CT ABDOMEN PELVIS: …", probe136)."""
    seen: dict[str, str] = {}
    for name in names:
        if isinstance(name, str) and name.strip():
            seen.setdefault(" ".join(name.split()).casefold(), name.strip())
    return " ".join(seen.values())


def _forms(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every attachment, at its index in ``content`` (a holder without one as {}): the report path reads the most
    readable format and falls through to the next when one cannot be read or is blank, listing it - as for a
    report's presentedForm (probe136 D4: only the preferred format was passed on, so a plain text that was not
    base64 hid the RTF behind it)."""
    contents = data.get("content")
    if not isinstance(contents, list):
        return []
    return [
        holder["attachment"] if isinstance(holder, dict) and isinstance(holder.get("attachment"), dict) else {}
        for holder in contents
    ]


def document_wording(message: str) -> str:
    """A report-path message about a document, in the document's own element names."""
    message = re.sub(r"presentedForm\[(\d+)\]", r"content[\1].attachment", message)
    return message.replace("a text/plain presentedForm", "a text/plain attachment")
