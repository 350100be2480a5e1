# SPDX-License-Identifier: Apache-2.0
"""Text attachments a server gives by ``url``: fetched from the same server as a FHIR ``Binary``.

Epic- and Cerner-style APIs put a note's or a report's text in a Binary that ``DocumentReference.content[].attachment``
or ``DiagnosticReport.presentedForm[]`` names by ``url`` ("Binary/e3f…"); without it the report path reads nothing of
them. Only a Binary of the configured server is fetched (a relative url, or an absolute one under --server: the
client refuses any other origin, so credentials never leave the server), only for an attachment that is text (or
says nothing of its type), and at most MAX_FETCHED per patient. The fetched data is put inline into a copy of the
resource, which is then read as any inline attachment is."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    DeadlineExceededError,
    FatalNetworkError,
    PermissionDeniedError,
    RunDeadlineError,
    TemporaryNetworkError,
)
from ..fhir.binaries import MAX_INLINED, binary_text, no_inline_text, text_slots, with_binaries
from ..fhir.client import FhirClient
from ..fhir.read import BinaryMiss, PatientRecord, SourceError
from ..mapping.attachment import attachments_of
from .events import ev

log = logging.getLogger("poems_fhir.sync")

#: Binaries fetched per patient at most: a record with thousands of notes costs thousands of requests
MAX_FETCHED = MAX_INLINED
_BINARY_ID = re.compile(r"^Binary/([A-Za-z0-9\-.]{1,64})(/_history/[A-Za-z0-9\-.]{1,64})?/?$")


def _binary(url: Any, base_url: str) -> re.Match[str] | None:
    if not isinstance(url, str):
        return None
    url = url.strip()
    if url.startswith(base_url.rstrip("/") + "/"):
        url = url[len(base_url.rstrip("/")) + 1 :]
    return _BINARY_ID.match(url)


def binary_id(url: Any, base_url: str) -> str | None:
    """The id of the Binary an attachment url names on this server (relative, or absolute under ``base_url``)."""
    found = _binary(url, base_url)
    return found.group(1) if found else None


def binary_path(url: Any, base_url: str) -> str | None:
    """What to read: ``Binary/<id>``, or the version the url names (``Binary/<id>/_history/<v>``, a vread: probe134 D4,
    the current text was read for a named older version)."""
    found = _binary(url, base_url)
    return f"Binary/{found.group(1)}{found.group(2) or ''}" if found else None


def fetched_digest(resource: dict[str, Any]) -> str:
    """A digest of the text this run fetched into the resource's attachments ('' when none): the sync's input hash
    adds it to the resource's version, which says nothing of a Binary's new content under the same url (probe134 D1:
    a note's changed text left its report as it was)."""
    return ",".join(
        hashlib.sha256(a["data"].encode("utf-8", "surrogatepass")).hexdigest()[:32]
        for _, a in attachments_of(resource)
        if a.get("url") and isinstance(a.get("data"), str)
    )


def _temporary(exc: TemporaryNetworkError) -> str:
    """Why a temporary failure failed, in a few words."""
    if exc.status:
        return f"HTTP {exc.status}"
    return "no answer in time" if isinstance(exc, DeadlineExceededError) else "no answer"


def _slots(resource: dict[str, Any], base_url: str) -> list[tuple[int, dict[str, Any]]]:
    """[(index, attachment)] of a report's or document's url-only text attachments of this server."""
    # a document's url format is fetched behind an inline one only when no inline format reads (a scan beside its text)
    return text_slots(resource, lambda url: binary_id(url, base_url) is not None, behind_inline=no_inline_text)


@dataclass
class BinaryFetcher:
    """Inlines the text Binaries of one run's patients (``inline``); stops for the rest of the run after a 403 (and,
    ``lenient``, once the run deadline has passed)."""

    client: FhirClient
    refused: bool = False
    #: a temporary failure is that attachment's problem, not the patient's failure, and a passed run deadline ends
    #: the fetching (the CDS Hooks service: a card now, with what was not read listed, has no next run to retry in)
    lenient: bool = False
    #: how a 403 is said: for how long Binaries are not read, and what to grant (the service's words differ)
    when: str = "in this run"
    grant: str = "system/Binary.read"
    #: the patient's Binaries read so far (path -> data and type, or None), one request each (probe134 D8)
    _seen: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    #: the patient's attachment urls whose Binary the server does not hold (404/410), for the record's
    #: ``unread_binaries`` (the report path says it where it lists the attachment, probe138 G5)
    unread: dict[str, BinaryMiss] = field(default_factory=dict)
    _gone: dict[str, BinaryMiss] = field(default_factory=dict)

    def inline(self, resources: list[tuple[dict[str, Any], str]], patient: str) -> list[SourceError]:
        """Replace, in ``resources``, each report or document with a url-only text attachment by a copy holding
        the Binary's data; what could not be fetched is returned as problems (the attachment is then listed as
        unread by the report path, as before)."""
        problems: list[SourceError] = []
        budget = [MAX_FETCHED]
        self._seen, self.unread, self._gone = {}, {}, {}
        for i, (resource, origin) in enumerate(resources):
            if self.refused:
                break
            slots = _slots(resource, self.client.base_url)
            if not slots:
                continue
            fetched = {}
            for j, attachment in slots:
                data = self._fetch_within(budget, attachment, origin, patient, problems)
                if data is not None:
                    fetched[j] = data
            if fetched:
                resources[i] = (with_binaries(resource, fetched), origin)
        return problems

    def inline_record(self, record: PatientRecord, patient: str) -> list[SourceError]:
        """``inline`` for a record read from files (a bulk export's: its attachments name Binaries of the server
        it came from); the record's resources are updated in place."""
        pairs = [(raw.data, raw.origin) for raw in record.resources]
        problems = self.inline(pairs, patient)
        record.unread_binaries.update(self.unread)
        for raw, (data, _) in zip(record.resources, pairs, strict=True):
            if data is not raw.data:
                raw.data.clear()
                raw.data.update(data)
        return problems

    def _fetch_within(
        self, budget: list[int], attachment: dict[str, Any], origin: str, patient: str, problems: list[SourceError]
    ) -> tuple[str, str] | None:
        """``_fetch`` while the patient's budget lasts and the server has not refused Binaries."""
        if self.refused:
            return None
        if budget[0] <= 0:
            problems.append(
                SourceError(
                    origin,
                    f"more than {MAX_FETCHED} attachments to fetch for this patient: {str(attachment['url'])[:200]} "
                    "not fetched; its text is not read",
                    patient=patient,
                )
            )
            return None
        path = binary_path(attachment.get("url"), self.client.base_url) or ""
        if path in self._seen:  # a note and a report naming one Binary: one request
            if path in self._gone:  # each url naming it is listed with why
                self.unread[str(attachment["url"]).strip()] = self._gone[path]
            return self._seen[path]
        budget[0] -= 1
        found = self._seen[path] = self._fetch(attachment, origin, patient, problems)
        return found

    def _fetch(
        self, attachment: dict[str, Any], origin: str, patient: str, problems: list[SourceError]
    ) -> tuple[str, str] | None:
        """(base64 data, content type) of the Binary, or None with the problem added."""
        where = binary_path(attachment.get("url"), self.client.base_url) or ""
        rid = binary_id(attachment.get("url"), self.client.base_url)

        def problem(why: str) -> None:
            problems.append(SourceError(origin, f"{where}: {why}; its text is not read", patient=patient))

        try:
            binary = self.client.get(where)
        except PermissionDeniedError as exc:
            self.refused = True
            log.warning(
                "the server refused to read a Binary (HTTP 403): attachments given by url are not read %s; grant %s to "
                "read them",
                self.when,
                self.grant,
                extra=ev("patient.binary_refused", status=exc.status),
            )
            problem(
                f"the server refused it (HTTP 403): attachments given by url are not read {self.when} - grant "
                f"{self.grant} to read them"
            )
            return None
        except FatalNetworkError as exc:  # a 404/410: gone; a 4xx: this one only (a temporary error fails the patient)
            if exc.status in (404, 410):
                # what happened and what to do, here and where the report path lists the attachment (probe138 G5)
                why = gone_from_server(where, exc.status)
                problems.append(SourceError(origin, f"{why}; its text is not read", patient=patient))
                self._gone[where] = self.unread[str(attachment["url"]).strip()] = BinaryMiss(why, listed=True)
                return None
            # probe134 D7: a login page answered 200 was "could not be fetched (HTTP 200)"
            problem("the answer is no FHIR JSON" if exc.status == 200 else f"could not be fetched (HTTP {exc.status})")
            return None
        except TemporaryNetworkError as exc:
            if not self.lenient:
                raise  # the sync job: the patient fails and is retried next run
            if isinstance(exc, RunDeadlineError):
                self.refused = True  # no request is sent any more: said once, here
                problem(
                    "not fetched: the deadline for reading the server passed, and no attachment after it is fetched"
                )
                return None
            problem(f"could not be fetched ({_temporary(exc)})")
            return None
        found = binary_text(binary, rid)
        if isinstance(found, str):
            problem(found)
            return None
        return found


def gone_from_server(where: str, status: int) -> str:
    """A Binary the server answers 404 (not found) or 410 (deleted) for: what happened and what to do."""
    said = "deleted" if status == 410 else "not found"
    return (
        f"the Binary named {where!r} is not on the server (HTTP {status}, {said}): the attachment names a Binary the "
        "server does not hold - have the attachment corrected at the source, or give its text inline"
    )
