# SPDX-License-Identifier: Apache-2.0
"""Text attachments given by ``url``: which ones to resolve, what a ``Binary`` must hold to be read, and the
Binaries an input's files carry.

Epic- and Cerner-style APIs put a note's or a report's text in a Binary that ``DocumentReference.content[].attachment``
or ``DiagnosticReport.presentedForm[]`` names by ``url`` ("Binary/e3f…"); without it the report path reads nothing
of them. From a server the sync job fetches the Binary (``sync/attachments.py``); an export or a Bundle may carry the
Binary itself beside the note, and then it is read from the input (``inline_input_binaries``) - never from the
network or the local disk. Either way the Binary's data is put inline into a copy of the resource, which is then
read as any inline attachment is, and its checks are the same (``binary_text``)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from ..mapping.attachment import (
    UnreadableAttachment,
    attachments_of,
    format_rank,
    preferred,
    read_attachment,
    readable,
    says_no_text,
)
from ..mapping.extract import MAX_TEXT_CHARS  # the text engine's own bound: as much is read to tell it is text
from .read import BinaryMiss, PatientRecord, SourceError

#: Binaries read into one patient's attachments at most: a record with thousands of notes (from a server, thousands
#: of requests)
MAX_INLINED = 100
#: a Binary's base64 data read at most (about 6 MB of text; the text engine reads 100,000 characters of it)
MAX_DATA_CHARS = 8 << 20
_BINARY = re.compile(r"(?:^|/)Binary/([A-Za-z0-9\-.]{1,64})(?:/_history/([A-Za-z0-9\-.]{1,64}))?/?$")


def wanted(attachment: Any) -> bool:
    """An attachment by url only whose type is text, or not said."""
    if not isinstance(attachment, dict) or attachment.get("data") or not attachment.get("url"):
        return False
    return not attachment.get("contentType") or readable(attachment)


def text_slots(
    resource: dict[str, Any],
    names_binary: Callable[[str], bool],
    behind_inline: bool | Callable[[dict[str, Any]], bool] = False,
) -> list[tuple[int, dict[str, Any]]]:
    """[(index, attachment)] of a report's or document's url-only text attachments whose url ``names_binary``.
    ``behind_inline`` (or, called with the resource, whether): a document's best url-only format also where one is
    already inline - the reading falls through to it when the inline one cannot be read."""
    attachments = attachments_of(resource)
    slots = [(j, a) for j, a in attachments if wanted(a) and names_binary(str(a["url"]))]
    if resource.get("resourceType") == "DocumentReference" and slots:
        # one document in several formats (Epic: HTML and RTF): the most readable is read, and from a server none
        # where one is already inline (a request per note for a format that is seldom read)
        if preferred([a for _, a in attachments]) is not None and not (
            behind_inline(resource) if callable(behind_inline) else behind_inline
        ):
            return []
        slots = [min(slots, key=lambda slot: format_rank(slot[1]))]
    return slots


def no_inline_text(resource: dict[str, Any]) -> bool:
    """Whether no inline format of a document reads as text (a scan, a text that is not base64, a blank page): its
    url format is then worth a request (a document with a readable inline text needs none)."""
    for _, attachment in attachments_of(resource):
        if not attachment.get("data") or format_rank(attachment) >= 9:
            continue
        try:
            read = read_attachment(attachment, MAX_TEXT_CHARS)
        except UnreadableAttachment:
            continue
        if read is not None and read.text.strip():
            return False
    return True


def binary_text(binary: Any, rid: str | None) -> tuple[str, str] | str:
    """(base64 data, the Binary's own content type or "") of a Binary answering for ``Binary/<rid>``, or why it is
    not read. A Binary saying it is no text (an image under an attachment saying text/plain, probe134 D3) is not
    read; the type it states decides how its bytes are read (a PDF, an HTML page, a charset), whatever the
    attachment says; an untyped or ``application/octet-stream`` one keeps the attachment's type."""
    if not isinstance(binary, dict) or binary.get("resourceType") != "Binary":
        return "the answer is no Binary"
    if binary.get("id") is not None and rid is not None and binary.get("id") != rid:
        return f"the answer is another Binary ({str(binary.get('id'))[:64]!r})"  # probe134 D6
    kind = str(binary.get("contentType") or "")
    if (other := says_no_text(binary)) is not None:
        return f"the Binary is {other}, no text poems-fhir reads"
    data = binary.get("data")
    if not isinstance(data, str) or not data:
        return "the answer holds no Binary data"
    if len(data) > MAX_DATA_CHARS:
        return f"{len(data):,} characters of data, more than {MAX_DATA_CHARS:,}"
    return data, kind if readable(binary) else ""


def input_binary_key(url: str) -> tuple[str, str | None] | None:
    """("Binary/<id>", version or None) of an attachment url naming a Binary (relative, or absolute: in files the
    input's own Binary of that id is the one meant - nothing is fetched)."""
    found = _BINARY.search(url.strip())
    return (f"Binary/{found.group(1)}", found.group(2)) if found else None


def input_binary_names(resource: dict[str, Any]) -> list[str]:
    """The input Binaries ``inline_input_binaries`` may look up for a report or document, as names the distributed
    run joins Binaries to their patients by (distributed/keying.py): "Binary/<id>" for a url ending so (any base,
    any version: the version is checked when the Binary is read), the url itself for a Bundle entry's "urn:…"
    fullUrl. A contained Binary ("#id") travels inside the resource: it has no name here."""
    names = []
    for _, attachment in _input_slots(resource):
        url = str(attachment["url"]).strip()
        if url.startswith("urn:"):  # the order of _input_binary's own tests
            names.append(url)
        elif not url.startswith("#") and (found := input_binary_key(url)) is not None:
            names.append(found[0])
    return names


def inline_input_binaries(record: PatientRecord) -> None:
    """Put, into a copy of each report or document of ``record``, the data of the text Binaries its url-only
    attachments name and the input carries (a Bundle's or an export's ``Binary`` resources, or one contained in the
    resource, "#id"); what was found and cannot be read is added to ``record.problems``. A url naming a Binary the
    input does not hold stays as it was, and why - with what to do - goes to ``record.unread_binaries``: the report
    path lists the attachment with it (probe138 G5)."""
    budget = MAX_INLINED
    for raw in record.resources:
        data = raw.data
        slots = _input_slots(data)
        if not slots:
            continue
        found_at: dict[int, tuple[str, str]] = {}
        for j, attachment in slots:
            url = str(attachment["url"]).strip()
            binary, rid, where = _input_binary(record, data, url)
            if binary is None:
                record.unread_binaries[url] = BinaryMiss(not_in_input(url, where))
                continue
            if budget <= 0:
                record.problems.append(
                    SourceError(
                        raw.origin,
                        f"more than {MAX_INLINED} attachments given by url for this patient: {url[:200]} not read",
                        raw.ref,
                    )
                )
                continue
            budget -= 1
            found = binary_text(binary, rid) if isinstance(binary, dict) else binary
            if isinstance(found, str):
                record.problems.append(SourceError(raw.origin, f"{where}: {found}; its text is not read", raw.ref))
                continue
            found_at[j] = found
        if found_at:
            raw.data = with_binaries(data, found_at)


def with_binaries(resource: dict[str, Any], found: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """A copy of a report or document with the Binaries' data inline in the attachments at these indexes (``found``:
    index -> ``binary_text``'s data and stated type); the Binary's own type decides how its bytes are read."""
    copied = copy.deepcopy(resource)
    targets = dict(attachments_of(copied))  # the copy's attachments, by the same indexes
    for j, (data, kind) in found.items():
        targets[j]["data"] = data
        if kind:
            targets[j]["contentType"] = kind
    return copied


def not_in_input(url: str, where: str) -> str:
    """What happened to a Binary the input does not hold, and what to do: said where the attachment is listed."""
    if url.startswith("#"):
        return (
            f"the contained Binary {url[:64]} is not in the resource: add the Binary to its contained resources, or "
            "give the text inline as data"
        )
    if url.startswith("urn:"):
        return f"no entry of the input is {url[:80]}: add the Binary to the Bundle under that fullUrl"
    key, version = input_binary_key(url) or (where, None)
    named = f"{key}/_history/{version}" if version else key
    return (
        f"the Binary named {named!r} is not in the input: add the Binary to the Bundle or export, or run poems-fhir "
        "sync against the server that holds it"
    )


def _input_slots(resource: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """The url-only text attachments of a report or document that may name a Binary of the input - also behind an
    inline format (a scanned PDF inline beside its text as a Binary: the reading falls through to the text). One
    choice for the readers and for the distributed run's join, so both read the same Binaries."""
    return text_slots(resource, _may_name_input_binary, behind_inline=True)


def _may_name_input_binary(url: str) -> bool:
    """A url that may name a Binary of the input: "#id" (contained), a Bundle entry's "urn:uuid:…" (a document
    Bundle's way, probe138 G1), or one ending "Binary/<id>"."""
    return url.startswith(("#", "urn:uuid:", "urn:oid:")) or input_binary_key(url) is not None


def _input_binary(
    record: PatientRecord, container: dict[str, Any], url: str
) -> tuple[dict[str, Any] | str | None, str | None, str]:
    """(the Binary, a reason it is not the one named, or None when the input has none; its id; how it is named)."""
    if url.startswith("#"):
        inner = record.index.resolve(url, container)
        if not isinstance(inner, dict) or inner.get("resourceType") != "Binary":
            return None, None, url[:200]
        return inner, None, f"contained Binary {url[:65]}"  # "#" and an id of up to 64 characters, whole
    if url.startswith("urn:"):
        # the entry's fullUrl: the Binary it stands for (keyed "Binary/<id>", or by the urn itself without an id)
        key = record.index.canonical(url) or url
        # by its key: an id-less Binary is keyed by the urn, which names no type for lookup_shared to go by
        found = record.index.lookup_shared(key) if key.startswith("Binary/") else record.index.lookup(key)
        if not isinstance(found, dict) or found.get("resourceType") != "Binary":
            return None, None, url[:200]
        rid = key.split("/", 1)[1] if key.startswith("Binary/") else None
        return found, rid, key if rid else f"Binary {url[:80]}"
    key, version = input_binary_key(url) or ("", None)
    binary = record.index.lookup_shared(key)
    if binary is None:
        return None, None, key
    where = f"{key}/_history/{version}" if version else key
    if version is not None:
        meta = binary.get("meta")
        held = meta.get("versionId") if isinstance(meta, dict) else None
        if held != version:
            return f"the input holds version {str(held)[:64]!r} of it, not {version!r}", None, where
    return binary, key.split("/", 1)[1], where
