# SPDX-License-Identifier: Apache-2.0
"""Where a sync run's patients come from: a FHIR server, or files (a bulk-export drop).

Both produce the patients to look at (the cohort) and, per patient, a PatientRecord.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
from collections.abc import Iterable
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..errors import (
    AuthError,
    ConfigError,
    FatalNetworkError,
    ForeignHostError,
    NetworkError,
    PageLinkGoneError,
    PermissionDeniedError,
    RunDeadlineError,
    SearchNotFoundError,
    TemporaryNetworkError,
)
from ..fhir.capabilities import Capabilities
from ..fhir.ids import FHIR_ID, is_fhir_id
from ..fhir.client import MAX_PATIENT_PAGES, FhirClient
from ..fhir.resource_types import is_resource_type
from ..fhir.spool import open_paths
from ..fhir.read import (
    PatientRecord,
    Prune,
    SourceError,
    is_own_output,
    problem_count,
    records_from_resources,
    replaced_by,
    replaced_records,
    subject_of,
)
from ..mapping.rules import CompiledMapping
from .attachments import BinaryFetcher
from .events import ev
from .state import DELETED_INPUT

if TYPE_CHECKING:
    from ..fhir.spool import PatientSource

log = logging.getLogger("poems_fhir.sync")
#: a reference to a patient of the server: Patient/ID, optionally version-specific
_PATIENT_REF = re.compile(rf"Patient/({FHIR_ID})(?:/_history/{FHIR_ID})?")

#: codes per search request: keeps URLs well under the 8 kB many servers and proxies accept
CODE_CHUNK = 40
#: re-read this much before the checkpoint: resources committed late with an earlier lastUpdated
OVERLAP = dt.timedelta(minutes=5)
#: records a patient replaces whose resources are searched too (a merge chain is short)
MAX_REPLACED_RECORDS = 5
#: ids per `_id` search of remembered inputs (POST _search past 1,800 characters, as a patient's long code list)
ID_CHUNK = 100
#: a history entry's or reference's "Type/id" (a version-specific one too, absolute or relative)
_TYPE_ID = re.compile(rf"(?:^|/)([A-Z][A-Za-z]{{1,63}})/({FHIR_ID})(?:/_history/[^/?#]*)?/?$")
#: errors that end the run wherever they happen: a history or id check answered so is not skipped
_UNRECOVERABLE = (AuthError, ForeignHostError, RunDeadlineError)


@dataclass
class Cohort:
    patients: list[str]
    server_time: str | None  # the checkpoint to store if the run completes
    requests: int = 0
    #: the patients are named (--patient, a Group's members), not discovered by a change: a name the
    #: server no longer has comes back every run, and is not read again once reported (job.SyncJob)
    named: bool = False
    #: patients whose remembered inputs - our own report and plan among them - changed, moved or went:
    #: re-planned even when their input hash is unchanged, since a clinician's edit, retraction or deletion
    #: of what we wrote changes no input (probe75 H1, M1)
    recheck: frozenset[str] = frozenset()
    #: what discovery could not do this run (listed among the run's problems; it is tried again next run)
    notices: tuple[str, ...] = ()


class RememberedInputs(Protocol):
    """What the state remembers of the in-scope patients' inputs (sync/state.py): discovery maps a changed,
    moved or deleted resource to the patients whose last evaluation read it."""

    def patients_of(self, refs: Iterable[str]) -> set[str]: ...

    def types(self) -> set[str]: ...

    def cited(self, rtype: str) -> dict[str, set[str]]: ...


class Source(Protocol):
    name: str

    def cohort(self, since: str | None, extra: Iterable[str] = ()) -> Cohort: ...

    def fetch(self, patient: str) -> tuple[PatientRecord | None, list[SourceError]]: ...


def _codes_by_type(mapping: CompiledMapping) -> dict[str, list[str]]:
    """ "system|code" tokens to search, per resource type, from the compiled mapping."""
    out: dict[str, set[str]] = {
        "Observation": set(),
        "Condition": set(),
        "Procedure": set(),
        "DiagnosticReport": set(),
        "MedicationMedication": set(),
    }
    for (system, code), rules in mapping.by_code.items():
        for rule in rules:
            if rule.kind in ("observation", "course"):  # course: a clinician's assessment of a domain
                out["Observation"].add(f"{system}|{code}")
            elif rule.kind == "condition":
                out["Condition"].add(f"{system}|{code}")
                out["Observation"].add(f"{system}|{code}")  # exam findings coded like conditions
            elif rule.kind == "procedure":
                out["Procedure"].add(f"{system}|{code}")
            elif rule.kind == "modality":
                out["DiagnosticReport"].add(f"{system}|{code}")
            elif rule.kind == "medication":
                out["MedicationMedication"].add(f"{system}|{code}")
    for system, code in mapping.translations:  # site-local codes that a ConceptMap translates
        for kind in out.values():
            kind.add(f"{system}|{code}")
    return {k: sorted(v) for k, v in out.items()}


#: DiagnosticReport categories of the reports the mapping reads by their text (imaging, pathology):
#: HL7 v2-0074 diagnostic service sections and the LOINC parts for radiology and pathology
REPORT_CATEGORIES = [
    "http://terminology.hl7.org/CodeSystem/v2-0074|" + c
    for c in ("RAD", "CT", "NMR", "NMS", "RX", "US", "VUS", "OUS", "CUS", "SP", "PAT", "CP", "PATH")
] + ["http://loinc.org|LP29684-5", "http://loinc.org|LP7839-6"]
#: clinical notes (US Core): read per patient where the CapabilityStatement lists the type; never discovered by
DOCUMENT_TYPE = "DocumentReference"


def notes_refused(when: str = "in this run", grant: str = "system/DocumentReference.read") -> str:
    """What a server's 403 to the DocumentReference search costs, in the words of the sync job's problem (and of the
    CDS Hooks service's card: serve/prefetch.py)."""
    return (
        f"DocumentReference search refused (HTTP 403): clinical notes are not read {when} - grant {grant} to read them"
    )


#: the medication resources read per patient (the file reader reads the same), and the element that
#: references a Medication resource
MEDICATION_TYPES = {
    "MedicationStatement": "MedicationStatement:medication",
    "MedicationRequest": "MedicationRequest:medication",
    "MedicationAdministration": "MedicationAdministration:medication",
}


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def parse_instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def earliest_instant(a: str, b: str) -> str:
    """The earlier of two FHIR instants (as written by `fhir_instant`)."""
    return a if parse_instant(a) <= parse_instant(b) else b


def fhir_instant(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class ServerSource:
    client: FhirClient
    mapping: CompiledMapping
    capabilities: Capabilities
    patients: list[str] = field(default_factory=list)
    group: str | None = None
    name: str = "server"
    #: the state's remembered inputs (None: discovery by codes only, as before schema 4)
    remembered: RememberedInputs | None = None
    #: every Observation of the patient, not only those of the mapped codes: results a site's lab knows
    #: by display text only are read as the file reader reads them (probe81 D8; more requests)
    all_observations: bool = False
    #: the job remembers each in-scope patient's inputs for this source's discovery
    remembers_inputs: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._codes = _codes_by_type(self.mapping)  # once per run, not per patient
        if self.all_observations:
            self._codes["Observation"] = []  # one search of every Observation, discovery's and the patient's
        self._recheck: set[str] = set()
        self._notices: list[str] = []
        #: clinical notes are read where the server lists DocumentReference, until it refuses them (403)
        self._documents = DOCUMENT_TYPE in self.capabilities.types
        self._refusal: str | None = None  # said on the patient whose search was refused
        self._refused_notes = False  # the server refused DocumentReference in this run
        self._noted: set[str] | None = None  # patients whose reports cite notes (remembered inputs), once
        #: text attachments given by url: fetched from this server (also for a bulk export's files: bulk_source)
        self.binaries = BinaryFetcher(self.client)

    def cohort(self, since: str | None, extra: Iterable[str] = ()) -> Cohort:
        before = self.client.stats.requests
        server_time = self._server_time()
        if since and server_time and parse_instant(since) > parse_instant(server_time):
            # a checkpoint after the server's present was set by a clock that ran ahead (probe45: one run
            # whose answers said "tomorrow"); searching from it finds nothing and the changes in
            # between are lost for good: everything is read again (the writes are idempotent)
            log.warning(
                "the checkpoint %s lies after the server's time %s: every patient is read again",
                since,
                server_time,
                extra=ev("cohort.checkpoint_ahead", since=since, server_time=server_time),
            )
            since = None
        self._recheck, self._notices = set(), []
        if self.patients:
            found = [_patient_ref(p) for p in self.patients]
        elif self.group:
            found = self._group_members(self.group)
        else:
            found = self._discover(since)
        if (self.patients or self.group) and since:
            # named patients are read every run, but one whose inputs did not change is not planned again:
            # what of ours a clinician retracted or deleted meanwhile would go unseen (probe75 H1)
            self._recheck = self._inputs_changed(set(), self._after(since)) & set(found)
        patients = sorted(set(found) | {_patient_ref(p) for p in extra})
        named = bool(self.patients or self.group)
        return Cohort(
            patients,
            server_time,
            self.client.stats.requests - before,
            named=named,
            recheck=frozenset(self._recheck),
            notices=tuple(self._notices),
        )

    def back_on_server(self, patient: str) -> bool:
        """Whether a named patient the server did not have in an earlier run is there again (one GET): a
        restored record is read again by itself, where before it stayed skipped - and its report stale -
        while every run exited 0 (probe73 D6). A merged record (replaced-by) is not back."""
        try:
            found = self.client.get(patient)
        except FatalNetworkError as exc:
            if exc.status in (404, 410):
                return False
            raise
        except TemporaryNetworkError:
            return False  # asked again next run
        return isinstance(found, dict) and found.get("resourceType") == "Patient" and replaced_by(found) is None

    def _group_members(self, group: str) -> list[str]:
        return read_group_members(self.client, group, f"--group {group}")

    def _server_time(self) -> str | None:
        """The server's clock (Date header of a cheap request): checkpoints never use ours."""
        response = self.client.request("GET", "metadata", params={"_summary": "true"})
        date = response.headers.get("Date")
        if not date:
            return None
        try:
            return fhir_instant(email.utils.parsedate_to_datetime(date))
        except (TypeError, ValueError, IndexError, OverflowError):
            log.warning("the server's Date header is not an HTTP date: the checkpoint does not move this run")
            return None

    def _after(self, since: str | None) -> str | None:
        """What changed after this instant is searched: the checkpoint less the overlap (late commits)."""
        if since and self.capabilities.last_updated:
            return fhir_instant(dt.datetime.fromisoformat(since.replace("Z", "+00:00")) - OVERLAP)
        return None

    def _discover(self, since: str | None) -> list[str]:
        subjects: set[str] = set()
        changed: set[str] = set()  # "Type/id" of every changed resource the searches list
        codes = self._codes
        after = self._after(since)
        searches: list[tuple[str, dict[str, Any]]] = []
        for rtype, tokens in codes.items():
            types = list(MEDICATION_TYPES) if rtype == "MedicationMedication" else [rtype]
            if rtype in ("DiagnosticReport", "MedicationMedication") and not tokens:
                continue
            for chunk in _chunks(tokens, CODE_CHUNK):
                for one in types:
                    params: dict[str, Any] = {"_elements": "subject,patient,identifier", "_count": "200"}
                    if chunk:
                        params["code"] = ",".join(chunk)
                    searches.append((one, params))
        # imaging and pathology reports are recognised by their text, so they are found by their
        # category (the modality codes above catch the uncategorised ones); our own reports carry
        # another category and must not re-trigger their patients anyway (hence identifier)
        for chunk in _chunks(REPORT_CATEGORIES, CODE_CHUNK):
            searches.append(
                ("DiagnosticReport", {"_elements": "subject,identifier", "_count": "200", "category": ",".join(chunk)})
            )
        for rtype, params in searches:
            # sorted: without _sort a server may order each page afresh (Medplum: no ORDER BY), so a
            # row updated while we page can move past our offset and its patient be missed for good;
            # ascending _lastUpdated with _count >= 20 also gets cursor links, which Medplum does not
            # cap at 10,000 as it caps offsets (fhir-server transcripts 03 and 04)
            if self.capabilities.last_updated:
                params["_sort"] = "_lastUpdated"
            if after:
                params["_lastUpdated"] = f"gt{after}"
            for resource in self.client.search(rtype, params, discovery=True):
                ref = subject_of(resource)
                if ref and not is_own_output(resource):
                    subjects.add(self.client_relative(ref))
                if isinstance(resource.get("id"), str) and isinstance(resource.get("resourceType"), str):
                    changed.add(f"{resource['resourceType']}/{resource['id']}")
        base = self.client.base_url
        patients = {p for p in (patient_ref(s, base) for s in subjects) if p is not None}
        # the patients a changed resource was an input of: its subject may have been corrected to another
        # patient (probe73 D4), it may have been recoded or deleted (D8) - found by its new subject alone, or
        # not at all, the patient it left kept a report citing it
        self._recheck = self._inputs_changed(changed, after)
        patients |= self._recheck
        # also a Patient of another server (probe80 D7: dropped without the warning and the count)
        unusable = sum(
            1 for s in subjects if (s.startswith("Patient/") or "/Patient/" in s) and patient_ref(s, base) is None
        )
        if unusable:
            # placeholders in <>: the pseudonymiser took "Patient/..." for a reference (probe80 D5)
            log.warning(
                "%d subject reference(s) name a patient but are not Patient/<id> of this server: skipped",
                unusable,
                extra=ev("cohort.unusable_references", count=unusable),
            )
        return sorted(patients)

    def _inputs_changed(self, seen: set[str], after: str | None) -> set[str]:
        """The patients whose remembered inputs changed: those among ``seen`` (the code searches' results,
        no extra request), then per type of remembered input either its history since ``after``, where the
        CapabilityStatement declares ``history-type`` (changed and deleted versions), or else an ``_id``
        search of the inputs reports cite, compared with the versions remembered (deleted ones are absent)."""
        remembered = self.remembered
        if remembered is None:
            return set()
        patients = remembered.patients_of(seen)
        by_history = by_id = 0
        for rtype in sorted(remembered.types()):
            if rtype == "Patient" or not is_resource_type(rtype):
                continue
            if rtype == DOCUMENT_TYPE and not self._documents:
                continue  # notes are not read from this server (no longer listed, or refused): nothing to compare
            try:
                way, found = self._changed_of_type(rtype, after, remembered)
            except PermissionDeniedError as exc:
                if rtype != DOCUMENT_TYPE:
                    raise
                # as for a patient's own search: the run goes on without notes, said once in its problems
                self._documents_refused(exc)
                self._notices.append(self._refusal or "")
                self._refusal = None
                continue
            if way == "history":
                by_history += len(found - patients)
            else:
                by_id += len(found - patients)
            patients |= found
        if patients:
            log.info(
                "%d patient(s) whose inputs changed, moved or were deleted (%d by the searches, %d by history, "
                "%d by id)",
                len(patients),
                len(patients) - by_history - by_id,
                by_history,
                by_id,
                extra=ev("cohort.inputs_changed", count=len(patients), history=by_history, by_id=by_id),
            )
        return patients

    def _changed_of_type(self, rtype: str, after: str | None, remembered: RememberedInputs) -> tuple[str, set[str]]:
        """("history" | "id", the patients) whose remembered inputs of ``rtype`` changed: the type's history where
        the server declares it, else an ``_id`` search of the cited inputs."""
        if after and rtype in self.capabilities.history_types:
            found = self._history(rtype, after, remembered)
            if found is not None:
                return "history", found
        return "id", self._cited_changed(rtype, after, remembered)

    def _history(self, rtype: str, after: str, remembered: RememberedInputs) -> set[str] | None:
        """The patients an input of type ``rtype`` changed or deleted since ``after`` belonged to, from the
        type's history (``GET [type]/_history?_since``), mapped page by page; None when the server answers
        it badly (a 404/400/500, no Bundle, a malformed page): the caller checks by id instead."""
        patients: set[str] = set()
        try:
            for bundle in self.client.search_pages(
                f"{rtype}/_history", {"_since": after, "_count": "200"}, discovery=True
            ):
                refs = {
                    ref
                    for ref in (_history_ref(e, rtype, self.client.base_url) for e in bundle.get("entry") or [])
                    if ref
                }
                patients |= remembered.patients_of(refs)
        except _UNRECOVERABLE:
            raise
        except NetworkError as exc:
            log.warning(
                "%s history could not be used (%s): its remembered inputs are checked by id instead",
                rtype,
                str(exc)[:300],
                extra=ev("cohort.history_unusable", type=rtype, status=exc.status, error=str(exc)[:300]),
            )
            return None
        return patients

    def _cited_changed(self, rtype: str, after: str | None, remembered: RememberedInputs) -> set[str]:
        """The patients of the cited inputs of type ``rtype`` that are gone (deleted: absent from an
        ``_id`` search) or at another version than remembered (recoded, moved, corrected - or, where the
        server names no version, updated after ``after``). One request per ``ID_CHUNK`` ids; a chunk the
        server answers badly is logged and skipped: it is compared again on the next run (the comparison
        is with the remembered versions, not with the checkpoint)."""
        cited = remembered.cited(rtype)
        ids = sorted(i for i in cited if is_fhir_id(i))
        patients: set[str] = set()
        for chunk in _chunks(ids, ID_CHUNK):
            if not chunk:
                continue
            params: dict[str, Any] = {"_id": ",".join(chunk), "_elements": "id", "_count": str(len(chunk))}
            found: dict[str, dict[str, Any]] = {}
            try:
                for resource in self.client.search(rtype, params, post=len(params["_id"]) > 1800, discovery=True):
                    if resource.get("resourceType") == rtype and isinstance(resource.get("id"), str):
                        found[resource["id"]] = resource
            except _UNRECOVERABLE:
                raise
            except NetworkError as exc:
                log.warning(
                    "%d remembered %s input(s) could not be checked (%s): checked again on the next run",
                    len(chunk),
                    rtype,
                    str(exc)[:300],
                    extra=ev("cohort.inputs_check_failed", type=rtype, count=len(chunk), error=str(exc)[:300]),
                )
                # in the run's problems too: a discovery blind to these changes was a silent exit 0 (probe75 L5)
                self._notices.append(
                    f"discovery: {len(chunk)} remembered {rtype} resource(s) could not be checked for a change "
                    f"({self.client._scrub(str(exc))[:200]}); checked again next run"
                )
                continue
            gone = [i for i in chunk if _input_changed(found.get(i), cited[i], after)]
            patients |= remembered.patients_of(f"{rtype}/{i}" for i in gone)
        return patients

    def client_relative(self, ref: str) -> str:
        base = self.client.base_url + "/"
        return ref[len(base) :] if ref.startswith(base) else ref

    def _of_replaced_records(
        self,
        patient: str,
        rtype: str,
        resources: list[tuple[dict[str, Any], str]],
        foreign: list[tuple[dict[str, Any], str]],
    ) -> list[tuple[dict[str, Any], str]]:
        """Resources a search of ``rtype`` answered about other patients: those of a record this patient
        replaces (``Patient.link`` type ``replaces``: a merge that left a Specimen on the old record) are the
        patient's own; any other means a corrupt answer, which fails the patient - naming the resources
        (probe73 D9: the survivor failed on every run, "1 resource(s) of another patient", none named).
        The patient's own Patient is read here when no search brought it (and kept in ``resources``)."""
        me = next(
            (r for r, _ in resources if r.get("resourceType") == "Patient" and _subject_patient(r, "") == patient), None
        )
        if me is None:
            me = self.client.get(patient)
            resources.append((me, f"{self.client.base_url}/{patient}"))
        base = self.client.base_url
        replaced = {p for p in (patient_ref(self.client_relative(r), base) for r in replaced_records(me)) if p}
        strangers = [pair for pair in foreign if _subject_patient(pair[0], base) not in replaced]
        if strangers:
            # probe45: a search answered with another patient's Conditions lost them silently, and the
            # report was rewritten without this patient's polyneuropathy
            named = ", ".join(f"{r.get('resourceType')}/{r.get('id')}" for r, _ in strangers[:5])
            raise self.client.unusable_answer(
                f"search {rtype} of this patient: the server answered with {len(strangers)} resource(s) of "
                f"another patient ({named}{', ...' if len(strangers) > 5 else ''}), which this patient's record "
                "does not replace; its answer is not used - this patient is retried on the next run (if a "
                "merge left them, link the records with Patient.link 'replaces' or move them)",
                rtype,
            )
        return foreign

    def _of_another_patient(self, resource: dict[str, Any], patient: str) -> bool:
        about = _subject_patient(resource, self.client.base_url)
        return about is not None and about != patient

    def fetch(self, patient: str) -> tuple[PatientRecord | None, list[SourceError]]:
        """At most 8 searches (+ paging): the patient rides along with its Observations; the
        Medication* resources (with the Medication they reference) as the file reader reads them; the
        DocumentReferences where the server lists the type.
        A 404/410 to a search says nothing of the patient: ``GET Patient/ID`` decides (probe80 D3)."""
        try:
            return self._fetch(patient)
        except NetworkError as exc:
            if exc.status not in (404, 410) or isinstance(exc, (AuthError, PageLinkGoneError, SearchNotFoundError)):
                raise
            if getattr(exc, "reading_patient", False):
                raise  # the Patient read itself: the patient is gone
            raise self._search_not_found(patient, exc) from exc

    def _search_not_found(self, patient: str, exc: NetworkError) -> SearchNotFoundError:
        """The patient's own read decides: its 404/410 is raised (the patient is gone); an answer makes the
        search's 404 a failure of this run (probe80 D3: one gateway 404 parked every patient for good)."""
        self._read_patient(patient.split("/", 1)[1])
        return SearchNotFoundError(
            f"{exc} - a search endpoint answered HTTP {exc.status} although {patient} exists on the server (a "
            "gateway or route misconfiguration, or a transient error?); this patient is retried on the next run",
            url=exc.url,
            status=exc.status,
        )

    def _read_patient(self, pid: str) -> Any:
        """``GET Patient/ID``; its 404/410 is the one answer that says the patient is gone."""
        try:
            return self.client.get(f"Patient/{pid}")
        except NetworkError as exc:
            exc.reading_patient = True  # type: ignore[attr-defined]
            raise

    def _fetch(self, patient: str) -> tuple[PatientRecord | None, list[SourceError]]:
        """The patient's searches, then the same for each record it replaces (Patient.link 'replaces'): a
        merge that did not move them left the old record's results there (probe82 D3: a polyneuropathy
        filed under the retired record was read from a file, not from the server)."""
        pid = patient.split("/", 1)[1]
        if self._refused_notes:
            self._keep_report_built_on_notes(patient)  # refused for an earlier patient of this run
        resources: list[tuple[dict[str, Any], str]] = []
        self._search_record(patient, patient, resources)
        me = next(
            (r for r, _ in resources if r.get("resourceType") == "Patient" and _subject_patient(r, "") == patient), None
        )
        base = self.client.base_url
        olds = {p for p in (patient_ref(self.client_relative(r), base) for r in replaced_records(me or {})) if p}
        for old in sorted(olds - {patient})[:MAX_REPLACED_RECORDS]:
            try:
                self._search_record(old, patient, resources)
            except NetworkError as exc:
                if exc.status not in (404, 410) or isinstance(exc, AuthError):
                    raise
                # the old record is gone from the server (a merge that deleted it): nothing left there
                log.info(
                    "%s: a record it replaces is gone from the server (HTTP %s)",
                    patient,
                    exc.status,
                    extra=ev("patient.replaced_record_gone", patient=patient, status=exc.status),
                )
        if not any(r.get("resourceType") == "Patient" for r, _ in resources):
            resources.append((self._read_patient(pid), f"{self.client.base_url}/{patient}"))
        fetched = self.binaries.inline(resources, patient)
        records, errors = records_from_resources(resources)
        errors += fetched
        if self._refusal is not None:
            errors.append(SourceError(f"{self.client.base_url}/DocumentReference", self._refusal, patient=patient))
            self._refusal = None
        record = next((r for r in records if r.patient == patient), None)
        if record is not None:  # a Binary the server does not hold: said where its attachment is listed
            record.unread_binaries.update(self.binaries.unread)
        return record, errors

    def _search_record(self, record: str, patient: str, resources: list[tuple[dict[str, Any], str]]) -> None:
        """The searches of ``record`` (the patient, or a record it replaces) into ``resources``."""
        pid = record.split("/", 1)[1]
        codes = self._codes
        obs_params: dict[str, Any] = {
            "patient": pid,
            **({"code": ",".join(codes["Observation"])} if codes["Observation"] else {}),
            "_count": "200",
            "_include": ["Observation:specimen", "Observation:patient"],
        }
        long_query = len(obs_params.get("code", "")) > 1800
        searches: list[tuple[str, dict[str, Any], bool]] = [
            ("Observation", obs_params, long_query),
            ("Condition", {"patient": pid, "_count": "200"}, False),
            ("Procedure", {"patient": pid, "_count": "200"}, False),
            ("DiagnosticReport", {"patient": pid, "_count": "200"}, False),
        ] + [
            (rtype, {"patient": pid, "_count": "200", "_include": include}, False)
            for rtype, include in MEDICATION_TYPES.items()
        ]
        if self._documents:
            searches.append((DOCUMENT_TYPE, {"patient": pid, "_count": "200"}, False))
        for rtype, params, post in searches:
            try:
                self._search_into(rtype, params, post, patient, resources)
            except PermissionDeniedError as exc:
                if rtype != DOCUMENT_TYPE:
                    raise
                self._documents_refused(exc)
                self._keep_report_built_on_notes(patient)

    def _keep_report_built_on_notes(self, patient: str) -> None:
        """A patient whose report cites notes read before is not evaluated without them once they are refused: it
        fails (retried next run, its report kept) - probe134 D5: a 403 rewrote 8 of 10 reports from "Criteria met" to
        "Cannot be confirmed", and the next run wrote them back."""
        if self.remembered is None:
            return
        if self._noted is None:
            cited = self.remembered.cited(DOCUMENT_TYPE)
            self._noted = self.remembered.patients_of(f"{DOCUMENT_TYPE}/{i}" for i in cited)
        if patient in self._noted:
            self._refusal = None  # said by the failure itself
            raise FatalNetworkError(
                "its report rests on clinical notes the server now refuses (DocumentReference search, HTTP 403): not "
                "evaluated without them - its report is kept and it is retried on the next run; grant "
                "system/DocumentReference.read",
                status=403,
            )

    def _documents_refused(self, exc: PermissionDeniedError) -> None:
        """A 403 to the DocumentReference search: the credentials hold the types read before notes were read (a
        deployment's scopes); the run goes on without notes - said once in the log and, on the patient where it
        happened, in the run's problems."""
        self._documents, self._refused_notes = False, True
        log.warning(
            "the server refused the DocumentReference search (HTTP 403): clinical notes are not read in this run; "
            "grant system/DocumentReference.read to read them",
            extra=ev("patient.documents_refused", status=exc.status),
        )
        self._refusal = notes_refused()

    def _search_into(
        self, rtype: str, params: dict[str, Any], post: bool, patient: str, resources: list[tuple[dict[str, Any], str]]
    ) -> None:
        """One search of the patient's record into ``resources`` (another patient's results set apart), added
        only once every page was read."""
        found: list[tuple[dict[str, Any], str]] = []
        foreign: list[tuple[dict[str, Any], str]] = []  # resources about another patient
        for resource in self.client.search(rtype, params, post=post, max_pages=MAX_PATIENT_PAGES):
            if not is_resource_type(str(resource.get("resourceType"))):
                # probe45 D8: a "Conditon" in a Condition search is a corrupt answer, not a bad record:
                # skipped, the report was rewritten without the patient's polyneuropathy
                raise self.client.unusable_answer(
                    f"search {rtype} of this patient: the server answered with a resourceType that is no FHIR "
                    f"R4 type ({str(resource.get('resourceType'))[:40]!r}); its answer is not used - this "
                    "patient is retried on the next run",
                    rtype,
                )
            pair = (resource, f"{self.client.base_url}/{resource.get('resourceType')}/{resource.get('id')}")
            if self._of_another_patient(resource, patient):
                foreign.append(pair)
                continue
            found.append(pair)
        resources += found
        if foreign:
            resources += self._of_replaced_records(patient, rtype, resources, foreign)


def _history_ref(entry: Any, rtype: str, base_url: str) -> str | None:
    """``Type/id`` of a history entry of type ``rtype``: its resource's, else (a deletion, which holds no
    resource) its ``request.url`` or ``fullUrl``; None for anything else."""
    if not isinstance(entry, dict):
        return None
    resource = entry.get("resource")
    if isinstance(resource, dict):
        rid = resource.get("id")
        return f"{rtype}/{rid}" if resource.get("resourceType") == rtype and isinstance(rid, str) else None
    base = base_url.rstrip("/") + "/"
    for where in (entry.get("request"), entry):
        url = where.get("url" if where is not entry else "fullUrl") if isinstance(where, dict) else None
        if isinstance(url, str):
            m = _TYPE_ID.search(url[len(base) :] if url.startswith(base) else url.split("?", 1)[0])
            if m and m.group(1) == rtype:
                return f"{rtype}/{m.group(2)}"
    return None


def _input_changed(resource: dict[str, Any] | None, versions: set[str], after: str | None) -> bool:
    """Whether a remembered input an ``_id`` search found (``resource``, None: absent) differs from what its
    patient was evaluated on: deleted since, changed - or, remembered as deleted (ours, deleted by someone),
    on the server again (put back under its id: probe82 D6); still absent, it is no news."""
    if resource is None:
        return not (versions and versions <= {DELETED_INPUT})
    if DELETED_INPUT in versions:
        return True
    return _changed(resource, versions, after)


def _changed(resource: dict[str, Any], versions: set[str], after: str | None) -> bool:
    """Whether a remembered input found by id is not the version its patient was evaluated on: another
    versionId, or - where either side names none - a lastUpdated after ``after`` (else: unchanged)."""
    meta = resource.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    version = meta.get("versionId")
    known = {v for v in versions if v}
    if isinstance(version, str) and version and known:
        return version not in known
    updated = meta.get("lastUpdated")
    if after and isinstance(updated, str):
        try:
            return parse_instant(updated) > parse_instant(after)
        except ValueError:
            return True  # an unreadable instant: re-evaluating costs one patient's reads, missing it a report
    return False


def _subject_patient(resource: dict[str, Any], base_url: str) -> str | None:
    """``Patient/ID`` a searched resource is about: its own id for a Patient, else its ``subject``
    when that names a patient of this server (None when it names nothing we can compare)."""
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return f"Patient/{rid}" if isinstance(rid, str) else None
    subject = resource.get("subject")
    ref = subject.get("reference") if isinstance(subject, dict) else None
    return patient_ref(ref, base_url) if isinstance(ref, str) else None


def patient_ref(ref: str, base_url: str) -> str | None:
    """``Patient/ID`` for a reference to a patient of the server at ``base_url`` (relative, absolute
    under the base, or version-specific), else None: the id goes into request paths and search
    values, where "/", "?" or "," would change what is asked for."""
    base = base_url.rstrip("/") + "/"
    m = _PATIENT_REF.fullmatch(ref[len(base) :] if ref.startswith(base) else ref)
    return f"Patient/{m.group(1)}" if m else None


def read_group_members(client: FhirClient, group: str, flag: str) -> list[str]:
    """The Patient members of the server's Group/``group`` (`--group ID`, `--bulk group:ID`): a Group the
    server does not have is a usage error (exit 2) naming ``flag``; any other failure, or an answer that is
    no Group, ends the run - the cohort is never widened to patients outside the Group."""
    try:
        found = client.get(f"Group/{group}")
    except FatalNetworkError as exc:
        if exc.status in (404, 410):
            raise ConfigError(f"{flag}: the server has no such Group (HTTP {exc.status}); check the Group id") from None
        raise
    if not isinstance(found, dict) or found.get("resourceType") != "Group":
        raise FatalNetworkError(f"Group/{group} did not return a Group resource")
    return group_patients(found, client.base_url, f"Group/{group}")


def group_patients(group: dict[str, Any], base_url: str, name: str) -> list[str]:
    """The Patient members of a Group resource; references that are not Patient/ID are counted and
    skipped with a warning (counts only: ids are PHI)."""
    found, unusable = [], 0
    for member in group.get("member", []) or []:
        entity = member.get("entity") if isinstance(member, dict) else None
        ref = entity.get("reference") if isinstance(entity, dict) else None
        if isinstance(ref, str) and (ref.startswith("Patient/") or "/Patient/" in ref):
            patient = patient_ref(ref, base_url)
            if patient is None:
                unusable += 1
            else:
                found.append(patient)
    if unusable:
        log.warning(
            "%s: %d Patient member reference(s) are not Patient/<id>: skipped",
            name,
            unusable,
            extra=ev("cohort.unusable_references", group=name, count=unusable),
        )
    return found


def _patient_ref(value: str) -> str:
    return value if value.startswith("Patient/") else f"Patient/{value}"


@dataclass
class FileSource:
    """A folder of Bundle/NDJSON files (e.g. a bulk-export drop) as the source of a sync run."""

    paths: list[Path]
    patients: list[str] = field(default_factory=list)
    name: str = "files"
    prune: Prune | None = None  # Observations the mapping cannot use keep only their identity
    workers: int = 1  # processes that read the files (fhir/spool_parallel.py)

    def __post_init__(self) -> None:
        # a spool on disk (fhir/spool.py): records are built one patient at a time in fetch()
        self._read = open_paths(self.paths, prune=self.prune, workers=self.workers)
        self.read_errors = list(self._read.errors)
        #: problems past the listed ones (ProblemList's limit): counted in skipped_input, not named
        self.read_unlisted = problem_count(self._read.errors) - len(self._read.errors)
        #: per patient, how many of its own resources were refused while reading (listed ones)
        self._refused = Counter(e.patient for e in self.read_errors if e.patient)

    def refused(self, patient: str) -> int:
        """How many resources that name ``patient`` as theirs were refused while the files were read."""
        return self._refused.get(patient, 0)

    def cohort(self, since: str | None, extra: Iterable[str] = ()) -> Cohort:
        wanted = {_patient_ref(p) for p in self.patients}
        patients = [p for p in self._read.patients() if not wanted or p in wanted]
        # a --patient the files do not hold is reported as missing, like a 404 from a server (probe59 D2:
        # dropped in silence, exit 0)
        patients += sorted(wanted - set(patients))
        return Cohort(sorted(patients), None, named=bool(wanted))

    def fetch(self, patient: str) -> tuple[PatientRecord | None, list[SourceError]]:
        return self._read.record(patient), []

    def close(self) -> None:
        self._read.close()

    def patient_source(self) -> PatientSource:
        """The spooled records as a PatientSource, for the job's worker processes (--workers)."""
        return self._read
