# SPDX-License-Identifier: Apache-2.0
"""Where a sync run's transactions go: a FHIR server, or a folder (--out / --dry-run)."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable
from typing import Any, Protocol

from ..fhir.json_codec import dump
from ..fhir.capabilities import Capabilities
from ..errors import (
    FatalNetworkError,
    HalfWrittenError,
    LyingAnswerError,
    NetworkError,
    PartialTransactionError,
    TemporaryNetworkError,
    UnlistedResourceError,
)
from ..fhir.client import FhirClient, ignored_parameter, outcome_text_of, page_resources
from ..fhir.read import is_own_output
from .events import ev
from ..fhir.file_names import patient_file_name
from ..fhir.write import (
    CONTENT_TAG_SYSTEM,
    GUARDED_TYPES,
    RUN_TAG_SYSTEM,
    SOURCE_TAG_SYSTEM,
    SUBJECT_TAG_SYSTEM,
    HASH_V2,
    content_hash as ownership_marker,
    create_criteria,
    is_broken_ours,
    is_unchanged_ours,
    unresolved_urns,
    own_ref_key,
    NARRATIVE_TAG_SYSTEM,
    narrative_hash,
    ownership_hash,
    tag_of,
)

log = logging.getLogger(__name__)

Written = dict[str, dict[str, str]]  # "system|value" -> {"ref": "Type/id", "version": versionId}


#: fields that carry what a clinician sees; server-side reference rewriting and meta do not count
_CONTENT_FIELDS = {
    "DiagnosticReport": ("status", "conclusion", "conclusionCode", "contained", "effectiveDateTime"),
    "CarePlan": ("status", "intent", "title", "description", "activity"),
}
GUARDED = tuple(_CONTENT_FIELDS)
#: reads that confirm a recorded report or plan is gone, per patient (a state or Provenance naming many
#: is broken or hostile: the first few decide as well as all)
MAX_CONFIRMED_GONE = 20


def content_hash(resource: dict[str, Any]) -> str:
    fields = _CONTENT_FIELDS.get(resource.get("resourceType", ""), ())
    blob = json.dumps({f: resource.get(f) for f in fields}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def guarded_hashes(bundle: dict[str, Any]) -> dict[str, str]:
    return {
        entry_key(e): content_hash(e["resource"]) for e in bundle["entry"] if e["resource"]["resourceType"] in GUARDED
    }


@dataclass
class ServerView:
    """What the server holds now of ours for one patient: the ground truth of ownership."""

    #: our reports and plans (recognised by identifier system), as they are now
    resources: list[dict[str, Any]] = field(default_factory=list)
    #: our own Provenances for this patient (they name the identifiers of what they targeted)
    provenances: list[dict[str, Any]] = field(default_factory=list)
    #: "Type/id" of our resources that someone else's Provenance targets
    foreign_targets: set[str] = field(default_factory=set)
    #: "Type/id" -> versionId we recorded writing, for resources written before ownership markers
    #: existed (poems-fhir < 0.2): unchanged since that version means ours
    legacy_versions: dict[str, str] = field(default_factory=dict)
    #: our writes are ordered conditional updates (no transactions): the Provenance is a request of its
    #: own, after the report and plan, so a run killed in between leaves them without it
    ordered_writes: bool = False
    #: the patient this view is for, and the records it replaces (a merge): a resource of ours written
    #: for a replaced record and moved here by the merge is still ours (withdrawn, not taken over)
    patient: str = ""
    merged_from: tuple[str, ...] = ()
    #: read from a server (not a folder): a report or plan with nothing of ours listed is sent create-only
    #: (If-None-Exist), so a search that leaves ours out cannot make the write overwrite a clinician's
    #: resource (probe80 D4); a file for a person to POST later keeps its conditional updates
    from_server: bool = False
    #: "Type/id" of the patient's reports and plans the searches returned that are not ours (no identifier
    #: of ours): a transaction answer naming one of them as what our write stored is a lie (probe91b D2)
    others: set[str] = field(default_factory=set)
    #: "Type/id" the state recorded writing for the patient that the server holds as no resource of ours for
    #: this patient (no identifier of ours, or another patient's) -> what it is: the state's record came from
    #: a transaction answer's claim, never from the server's resources; dropped from the state (probe91b D2)
    disowned: dict[str, str] = field(default_factory=dict)

    def our_refs(self) -> frozenset[str]:
        """ "Type/id" of our own resources on the server: our reports and plans (a clinician's takeover
        of one included), and what our Provenances name (a report deleted since included)."""
        refs = {f"{r.get('resourceType')}/{r.get('id')}" for r in self.resources}
        for prov in self.provenances:
            for target in prov.get("target") or []:
                ref = target.get("reference") if isinstance(target, dict) else None
                if isinstance(ref, str) and not ref.startswith("urn:"):
                    refs.add(own_ref_key(ref))
        return frozenset(refs)


def is_our_provenance(resource: dict[str, Any]) -> bool:
    return resource.get("resourceType") == "Provenance" and tag_of(resource, RUN_TAG_SYSTEM) is not None


class Sink(Protocol):
    name: str

    def write(self, patient: str, bundle: dict[str, Any]) -> Written: ...

    def current(self, url: str) -> dict[str, Any] | None: ...

    def existing(self, patient: str, subject_key: str, recorded: Iterable[str] = ()) -> ServerView: ...


def _with_references(value: Any, refs: dict[str, dict[str, Any]]) -> Any:
    """``value`` with every Reference whose ``reference`` is in ``refs`` made the logical reference
    there (its display kept)."""
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and ref in refs:
            return {**{k: v for k, v in value.items() if k != "reference"}, **refs[ref]}
        return {k: _with_references(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_references(v, refs) for v in value]
    return value


#: the key under which the state records the file a patient's transaction was written to (file mode)
FILE_KEY = "poems-fhir:file"


def entry_key(entry: dict[str, Any]) -> str:
    """The business key of a transaction entry: its conditional URL's search value - or its conditional
    create's (``ifNoneExist``) - or, for a plain update, its URL."""
    url = entry["request"]["url"]
    query = create_criteria(entry["request"]) or (url.split("?", 1)[1] if "?" in url else None)
    # the identifier is the first criterion (fhir/write.conditional_url adds the subject after it)
    return query.split("&", 1)[0].split("=", 1)[1] if query is not None else url


def with_if_match(bundle: dict[str, Any], previous: Written) -> dict[str, Any]:
    """Add If-Match for every resource we wrote before, so a change by someone else gives 412."""
    out = copy.deepcopy(bundle)
    for entry in out["entry"]:
        known = previous.get(entry_key(entry))
        if known and known.get("version") and entry["resource"]["resourceType"] in GUARDED:
            entry["request"]["ifMatch"] = f'W/"{known["version"]}"'
    return out


def bundle_bytes(bundle: dict[str, Any]) -> bytes:
    """The Bundle as UTF-8 JSON with one entry per line: compact and C-encoded (indent=2 forces Python's
    pure encoder, 4x slower, and made a 70 KB file of a 45 KB bundle), still readable entry by entry
    and diffable. orjson writes it where it writes what json would (fhir/json_codec.py)."""
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        return dump(bundle) + b"\n"
    head = dump({k: v for k, v in bundle.items() if k != "entry"})[:-1]
    lines = b",\n".join(dump(e) for e in entries)
    return head + (b"," if len(head) > 1 else b"") + b'"entry":[\n' + lines + b"\n]}\n"


@dataclass
class DirSink:
    folder: Path
    name: str = "files"
    #: the file-name key (fhir/file_names.py); the sync job gives it its pseudonym key
    key: bytes = b""

    def path_of(self, patient: str) -> Path:
        if not self.key:
            raise ValueError("DirSink needs its file-name key before it names a file")
        return self.folder / patient_file_name(patient, self.key)

    def write(self, patient: str, bundle: dict[str, Any]) -> Written:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path_of(patient)
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_bytes(bundle_bytes(bundle))
            tmp.replace(path)  # atomic: a killed run never leaves half a file
        except OSError:
            tmp.unlink(missing_ok=True)  # a full disk leaves no half-written temporary file behind
            raise
        written = {entry_key(e): {"ref": e["fullUrl"], "version": ""} for e in bundle["entry"]}
        # where it went: a later run given another --out folder still finds what it has to withdraw
        written[FILE_KEY] = {"ref": str(path.absolute()), "version": ""}
        return written

    def current(self, url: str) -> dict[str, Any] | None:
        return None

    def existing(self, patient: str, subject_key: str, recorded: Iterable[str] = ()) -> ServerView:
        # a folder holds no clinician's edits; a dry run against a server reads them from there
        return self.server.existing(patient, subject_key, recorded) if self.server else ServerView()

    def previous(self, patient: str, recorded: str | None = None) -> list[dict[str, Any]]:
        """Our reports and plans in the patient's file as last written (a withdrawal replaces it): in
        file mode the files are all we know of what was sent. The file in this folder, else the one the
        state recorded writing (``recorded``: a run given another --out folder than the last one)."""
        path = self.path_of(patient)
        if not path.is_file() and recorded and recorded.endswith(path.name):
            path = Path(recorded)  # the same patient's file name: never another patient's
        try:
            bundle = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        entries = bundle.get("entry") if isinstance(bundle, dict) else None
        entries = [e for e in (entries if isinstance(entries, list) else []) if isinstance(e, dict)]
        # the file's references between its entries are urn:uuids of that transaction: a withdrawal
        # sent on its own names the same resources by type and identifier (a logical reference, valid
        # anywhere: CarePlan.author -> the Device, supportingInfo -> the report)
        logical = {
            e["fullUrl"]: {"type": e["resource"]["resourceType"], "identifier": e["resource"]["identifier"][0]}
            for e in entries
            if isinstance(e.get("fullUrl"), str)
            and e["fullUrl"].startswith("urn:")
            and isinstance(e.get("resource"), dict)
            and isinstance(e["resource"].get("identifier"), list)
            and e["resource"]["identifier"]
        }
        resources = [e.get("resource") for e in entries]
        return [
            _with_references(r, logical)
            for r in resources
            if isinstance(r, dict) and r.get("resourceType") in GUARDED_TYPES
        ]

    server: Any = None  # a ServerSink to read from (dry run against a server), never written to


@dataclass
class ServerSink:
    client: FhirClient
    capabilities: Capabilities
    name: str = "server"

    #: (patient, view.our_refs()) of the last ``existing`` call: what a later run counts as ours
    _seen: tuple[str, frozenset[str]] = field(default=("", frozenset()), init=False, repr=False)
    #: (patient, view) of the last ``existing`` call: what a write's answer may name (``_lie_in``)
    _view: tuple[str, ServerView | None] = field(default=("", None), init=False, repr=False)

    def write(self, patient: str, bundle: dict[str, Any]) -> Written:
        try:
            return self._write(patient, bundle)
        except NetworkError as exc:
            if not isinstance(exc, TemporaryNetworkError) and _SEVERAL_MATCHED.search(str(exc)):
                # probe56 D2: Medplum answers 400 "Conditional PUT matched multiple resources" (HAPI 412):
                # one duplicate of ours (a Device, say) stops every patient's write, and nothing said why
                exc.args = (
                    f"{exc} - the server matches several resources to one of our conditional URLs: look for "
                    "duplicates of our resources (DiagnosticReport, CarePlan, Provenance, Device with our "
                    "identifier) on the server and remove the extra ones; nothing was written for this patient",
                    *exc.args[1:],
                )
            raise

    def _write(self, patient: str, bundle: dict[str, Any]) -> Written:
        self._returned: dict[str, dict[str, Any]] = {}
        if self.capabilities.transaction:
            response = self.client.transaction(bundle)
            shape = _not_a_transaction_response(response)
            if shape:
                # probe45: an OperationOutcome (or an entry object) answered with 200 was reported as a
                # server treating transactions as batches "keeping what it stored": nothing was stored
                raise PartialTransactionError(
                    f"the server answered the transaction with 200 but with {shape}, not a transaction-response: "
                    "what it stored, if anything, is not known; recorded as failed and written again next run "
                    "(every entry is a conditional write: nothing is duplicated)"
                )
            unconfirmed = unconfirmed_entries(bundle, response)
            if unconfirmed:
                self._applied_in_part(bundle, unconfirmed)
            resources = [e.get("resource") or {} for e in response.get("entry", [])]
            responses = [(e.get("response") or {}) for e in response.get("entry", [])]
            written = self._written(bundle, resources, responses)
            self._refuse_lying_answer(bundle, written, patient)
            half = self._refuse_found(bundle, written, self._found_by_creates(bundle, resources, responses), patient)
        else:
            written, half = self._ordered_updates(bundle, patient)
        self._settle(bundle, written, self._seen[1] if self._seen[0] == patient else frozenset())
        if half:
            raise _half_written(half)
        return written

    def _found_by_creates(
        self, bundle: dict[str, Any], resources: list[dict[str, Any]], responses: list[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(entry, what the server holds) for each conditional create of the transaction that the server
        answered with an existing resource (200, not 201 Created) instead of creating ours."""
        found = []
        for entry, resource, resp in zip(bundle["entry"], resources, responses, strict=False):
            if create_criteria(entry["request"]) and not str(resp.get("status", "")).strip().startswith("201"):
                location = str(resp.get("location") or "").split("/_history/")[0]
                found.append((entry, self._matched(entry, resource, location)))
        return found

    def _matched(self, entry: dict[str, Any], resource: dict[str, Any], location: str) -> dict[str, Any]:
        """The resource a conditional create matched: as the answer holds it, else read by its location, else
        searched by the create's criteria (an answer with neither: Prefer return=minimal)."""
        rtype = entry["resource"]["resourceType"]
        if resource.get("resourceType") == rtype and resource.get("id"):
            return resource
        if location:
            body = self.client.request_json("GET", location.replace(self.client.base_url + "/", ""))
            if isinstance(body, dict) and body.get("resourceType") == rtype:
                return body
        return self.current(f"{rtype}?{create_criteria(entry['request'])}") or {"resourceType": rtype}

    def _refuse_found(
        self, bundle: dict[str, Any], written: Written, found: list[tuple[dict[str, Any], dict[str, Any]]], patient: str
    ) -> list[dict[str, Any]]:
        """A conditional create that found a resource: exactly what we sent (ours, written before - a run
        killed between its write and its record, a search index that lags) is our write done. What we sent
        but half-written - a reference to another entry of it left as its ``urn:uuid:``, stored by an earlier
        attempt of this write that the server applied in part (and answered 5xx, so it was sent again) - is
        ours too, returned to be written again (probe91 N1: it was reported as a clinician's takeover).
        Anything else - a clinician's report, ours with other content - was left as it is, and the ownership
        searches that did not list it are not trusted: the patient fails for this run, retried next run
        (probe80 D4: the conditional update sent instead overwrote a clinician's signed report)."""
        seen = self._seen[1] if self._seen[0] == patient else frozenset()
        ours = frozenset(own_ref_key(w["ref"]) for w in written.values() if "/" in str(w.get("ref", ""))) | seen
        others = [(entry, res) for entry, res in found if not _exactly_sent(res, entry["resource"], ours)]
        half = [res for entry, res in others if _half_sent(res, entry["resource"], ours)]
        others = [(entry, res) for entry, res in others if not _half_sent(res, entry["resource"], ours)]
        if not others:
            return half
        named = "; ".join(_found_text(entry, res, ours) for entry, res in others)
        raise UnlistedResourceError(
            f"the server's search did not list a resource of ours that our create-only write found: {named}; it "
            "was not changed, and nothing more is written for this patient this run (retried next run): the "
            "server's search answers are not trusted - an index that lags, or a proxy or gateway that drops "
            "results; if it persists, check that `DiagnosticReport?subject=…&_revinclude=Provenance:target` and "
            "`CarePlan?subject=…` return every resource of the patient",
            found=[res for _, res in others],
        )

    def _refuse_lying_answer(self, bundle: dict[str, Any], written: Written, patient: str) -> None:
        """A transaction answer whose locations name resources the write did not create or update (``_lie_in``)
        is the server's error for this patient: nothing of it is recorded or re-tagged (probe91b D2)."""
        seen: dict[str, str] = {}
        lies = []
        for entry in bundle["entry"]:
            ref = own_ref_key(str((written.get(entry_key(entry)) or {}).get("ref") or ""))
            why = self._lie_in(entry, ref, patient, seen) if "/" in ref else None
            if why is not None:
                lies.append(f"{ref} for our {entry['resource']['resourceType']} ({why})")
        if lies:
            raise _lying_answer(lies)

    def _lie_in(self, entry: dict[str, Any], ref: str, patient: str, seen: dict[str, str]) -> str | None:
        """Why ``ref``, the answer's location for ``entry``, is not what the write created or updated, or None.
        Told from what this patient's searches returned just before: the resource of ours the entry's
        conditional update matched (by our identifier), the patient's reports and plans that are not ours.
        ``seen``: locations of the answer's earlier entries (two entries never store one resource)."""
        rtype = entry["resource"]["resourceType"]
        view = self._view[1] if self._view[0] == patient else None
        ident = (entry["resource"].get("identifier") or [{}])[0]
        key = f"{ident.get('system')}|{ident.get('value')}" if isinstance(ident, dict) else ""
        earlier, seen[ref] = seen.get(ref), entry_key(entry)
        if ref.split("/", 1)[0] != rtype:
            return "a resource of another type"
        if earlier is not None:
            return "named for another entry of the same transaction too"
        if view is None or rtype not in GUARDED_TYPES:
            return None
        ours = {
            f"{r.get('resourceType')}/{r.get('id')}": f"{(r.get('identifier') or [{}])[0].get('system')}|"
            f"{(r.get('identifier') or [{}])[0].get('value')}"
            for r in view.resources
        }
        matched = next((r for r, k in ours.items() if k == key and r.startswith(f"{rtype}/")), None)
        if ref in view.others:
            return "a resource of this patient that is not poems-fhir's: no identifier of ours"
        if matched is not None and ref != matched and not create_criteria(entry["request"]):
            return f"not {matched}, the resource of ours its conditional update matched"
        if ref in ours and ours[ref] != key:
            return "another resource of poems-fhir, under another identifier"
        return None

    def _applied_in_part(self, bundle: dict[str, Any], unconfirmed: list[tuple[int, str]]) -> None:
        """A transaction the server applied only in part (Medplum without its transaction-bundles
        feature treats one as a batch). Nothing is deleted (no delete permission is ever needed, and a
        run killed half-way through a repair would lose what it had deleted): what was stored keeps our
        markers, a report or plan whose reference to a failed entry was left as an unresolved
        ``urn:uuid:`` still counts as ours and is written again, and a Provenance target that never
        resolved is not read as "deleted by someone" (see ``sync.ownership``). The rest of the run writes
        one conditional update at a time, and the patient fails (written again next run)."""
        entries = bundle["entry"]
        failed = ", ".join(
            f"{entries[i]['request']['method']} {entries[i]['resource']['resourceType']} ({status})"
            for i, status in unconfirmed
        )
        self.capabilities = dataclasses.replace(self.capabilities, transaction=False)
        log.warning(
            "the server applied a transaction in part: writing one conditional update at a time for the rest of this run",
            extra=ev("server.partial_transaction"),
        )
        only_provenance = all(entries[i]["resource"]["resourceType"] == "Provenance" for i, _ in unconfirmed)
        raise PartialTransactionError(
            f"the server answered the transaction with 200 but did not apply every entry ({failed}): it treats "
            "transactions as batches (Medplum: the transaction-bundles feature is off); what it stored is "
            "kept and recognised as ours; "
            + (
                # the report and plan are stored as ours and unchanged: the next run sends the Provenance alone
                # when none of ours names them (probe63 D1; probe50 LOW-1: say what happens next)
                "only the Provenance was not stored: the next run sends it alone - if the server refused it, "
                "find why (its answer above)"
                if only_provenance
                else "recorded as failed and written again next run"
            )
        )

    def _settle(self, bundle: dict[str, Any], written: Written, seen: frozenset[str] = frozenset()) -> None:
        """A server that normalises what it stores (reformatted numbers, reordered elements...) would
        make our own resources look changed by someone: then re-tag the stored content once (If-Match),
        so any later run recognises it as ours. Nothing is re-sent when the server kept it as sent.
        ``seen``: our resources on the server before the write (ServerView.our_refs), which a later run
        counts as ours too - a report of ours a clinician finalised among them (probe56 D1: a plan citing
        it was re-tagged as if that report were someone else's, then read as a takeover for good)."""
        kept = frozenset(
            own_ref_key(t["reference"])
            for e in bundle["entry"]
            if e["resource"].get("resourceType") == "Provenance"
            for t in e["resource"].get("target") or []
            if isinstance(t, dict) and isinstance(t.get("reference"), str) and not t["reference"].startswith("urn:")
        )
        for entry in bundle["entry"]:
            sent = entry["resource"]
            key = entry_key(entry)
            if (
                sent["resourceType"] not in GUARDED_TYPES
                or key not in written
                or not written[key]["ref"]
                or tag_of(sent, SOURCE_TAG_SYSTEM) is None
            ):
                continue
            stored = self._returned.get(key) or self.client.get(written[key]["ref"])
            # our own: what this write stored (its references to them resolved by the server) and what it kept
            # unchanged and did not send, which its Provenance names by id - as a later run reads them (probe50
            # HIGH-1: without the kept response report, a plan citing it was re-tagged with a hash no later
            # run verifies, and read as a clinician's takeover from then on)
            ours = (
                frozenset(own_ref_key(w["ref"]) for w in written.values() if "/" in str(w.get("ref", ""))) | kept | seen
            )
            if (
                is_unchanged_ours(stored, ours)
                or tag_of(stored, SOURCE_TAG_SYSTEM) != tag_of(sent, SOURCE_TAG_SYSTEM)
                or unresolved_urns(stored)  # half-written by an earlier attempt: written again, never re-tagged
            ):
                continue
            source = tag_of(sent, SOURCE_TAG_SYSTEM) or ""
            code = ownership_marker(stored, None, ours) if source.startswith(HASH_V2) else ownership_hash(stored)
            renewed = (CONTENT_TAG_SYSTEM, NARRATIVE_TAG_SYSTEM)
            tags = [t for t in (stored.get("meta") or {}).get("tag", []) if t.get("system") not in renewed]
            fixed = {
                **stored,
                "meta": {
                    **(stored.get("meta") or {}),
                    "tag": tags
                    + [
                        {"system": CONTENT_TAG_SYSTEM, "code": code},
                        {"system": NARRATIVE_TAG_SYSTEM, "code": narrative_hash(stored)},
                    ],
                },
            }
            version = (stored.get("meta") or {}).get("versionId")
            response = self.client.request(
                "PUT", written[key]["ref"], json=fixed, headers={"If-Match": f'W/"{version}"'} if version else None
            )
            body = self.client.json(response) if response.content else {}
            written[key]["version"] = (
                (body.get("meta") or {}).get("versionId")
                or _etag_version(response.headers.get("ETag"))
                or written[key]["version"]
            )

    def current(self, url: str) -> dict[str, Any] | None:
        """The resource a conditional URL (Type?identifier=...) matches now, or None."""
        rtype, query = url.split("?", 1)
        criteria = dict(part.split("=", 1) for part in query.split("&"))
        found = list(self.client.search(rtype, criteria))
        return found[0] if found else None

    def existing(self, patient: str, subject_key: str, recorded: Iterable[str] = ()) -> ServerView:
        """Three searches: our reports and plans of this patient (with every Provenance that targets
        them) and our own Provenances of this patient (which also name what was deleted since).
        ``recorded``: "Type/id" the state recorded writing for this patient; with what our Provenances
        name, each one the searches did not return is read to confirm it is gone (`_confirm_gone`)."""
        view = ServerView(ordered_writes=not self.capabilities.transaction, from_server=True)
        own_refs: set[str] = set()
        foreign: list[dict[str, Any]] = []
        revinclude_ignored = False
        for rtype in GUARDED_TYPES:
            for page in self.client.search_pages(
                rtype, {"subject": patient, "_count": "200", "_revinclude": "Provenance:target"}
            ):
                revinclude_ignored = revinclude_ignored or ignored_parameter(page, "_revinclude")
                for res in page_resources(page):
                    if res.get("resourceType") == rtype:
                        if is_own_output(res):
                            view.resources.append(res)
                            own_refs.add(f"{rtype}/{res.get('id')}")
                        elif res.get("id"):
                            view.others.add(f"{rtype}/{res.get('id')}")
                    elif res.get("resourceType") == "Provenance" and not is_our_provenance(res):
                        foreign.append(res)
        if revinclude_ignored and own_refs:
            # the server did not apply _revinclude (its self link says so): a clinician's Provenance
            # naming our report would go unseen and the report be updated as ours (faultprobe4 T29)
            refs = sorted(own_refs)
            for i in range(0, len(refs), 40):
                for res in self.client.search("Provenance", {"target": ",".join(refs[i : i + 40]), "_count": "200"}):
                    if res.get("resourceType") == "Provenance" and not is_our_provenance(res):
                        foreign.append(res)
        for res in self.client.search("Provenance", {"_tag": f"{SUBJECT_TAG_SYSTEM}|{subject_key}", "_count": "200"}):
            if is_our_provenance(res):
                view.provenances.append(res)
        for prov in foreign:
            for target in prov.get("target", []) or []:
                ref = str((target or {}).get("reference", "")).split("/_history/")[0]
                ref = ref.replace(self.client.base_url + "/", "")
                if ref in own_refs:
                    view.foreign_targets.add(ref)
        for i, res in enumerate(view.resources):
            if not (res.get("meta") or {}).get("versionId"):
                view.resources[i] = self._versioned(res)
        from_state = {own_ref_key(r) for r in recorded}
        named = set(from_state)
        for prov in view.provenances:
            for target in prov.get("target") or []:
                said = target.get("reference") if isinstance(target, dict) else None
                if isinstance(said, str) and not said.startswith("urn:"):
                    named.add(own_ref_key(said))
        unseen = sorted(r for r in named - own_refs if r.split("/", 1)[0] in GUARDED_TYPES)
        for gone in unseen[:MAX_CONFIRMED_GONE]:
            found = self._confirm_gone(gone, patient)
            if found is not None and gone in from_state:
                view.disowned[gone] = found
        self._seen = (patient, view.our_refs())
        self._view = (patient, view)
        return view

    def _confirm_gone(self, ref: str, patient: str) -> str | None:
        """A report or plan we wrote (the state or our Provenance says so) that the patient's search did
        not return: gone (404/410), or the search is not to be trusted. Taken for gone, it would be
        written again by its conditional URL with no If-Match - over a clinician's edit (probe45: an empty
        search answer, a clinician's conclusion replaced) - or called "deleted by someone". So a read
        that finds it on this patient, as a resource of ours (an identifier of ours: what the search should
        have listed), fails the patient (retried on the next run), nothing written.

        Anything else the read finds is no resource of ours for this patient, whatever named it: returned, said
        as what it is (None: gone). Ownership is the server's: a state that recorded it as ours took that from
        a transaction answer's ``location`` (probe91b D2: a lying answer named a clinician's report and plan,
        and every later run failed the patient here, "its search answers are not trusted")."""
        try:
            body = self.client.request_json("GET", ref)
        except FatalNetworkError as exc:
            if exc.status in (404, 410):
                return None
            raise
        if not isinstance(body, dict):
            return None
        subject = (body.get("subject") or {}).get("reference")
        this_patient = isinstance(subject, str) and own_ref_key(subject) == patient
        if not is_own_output(body):
            return (
                "a resource of this patient without any identifier of poems-fhir (someone else's)"
                if this_patient
                else "a resource without any identifier of poems-fhir, not of this patient"
            )
        if not this_patient:
            return "a resource of poems-fhir for another patient"
        raise self.client.unusable_answer(
            f"the server holds {ref} of this patient, which its search of the patient's "
            f"{ref.split('/', 1)[0]} resources did not return: its search answers are not trusted; nothing "
            "written for this patient (retried on the next run)",
            ref,
        )

    def _versioned(self, res: dict[str, Any]) -> dict[str, Any]:
        """A resource of ours that a search returned without meta.versionId, read directly: every
        update of it carries If-Match on that version, so a clinician's change in between is a 412, not
        overwritten (faultprobe4 T33). The direct read's content replaces the search's, so what is
        decided and the version it is matched against belong together. Unchanged if the server names
        no version at all (it then cannot guard the write)."""
        response = self.client.request("GET", f"{res['resourceType']}/{res.get('id')}")
        body = self.client.json(response) if response.content else None
        if not isinstance(body, dict) or (body.get("resourceType"), body.get("id")) != (
            res["resourceType"],
            res.get("id"),
        ):
            return res
        version = (body.get("meta") or {}).get("versionId") or _etag_version(response.headers.get("ETag"))
        if version:
            body["meta"] = {**(body.get("meta") or {}), "versionId": version}
        return body

    def _written(
        self, bundle: dict[str, Any], resources: list[dict[str, Any]], responses: list[dict[str, Any]]
    ) -> Written:
        written: Written = {}
        for entry, resource, resp in zip(bundle["entry"], resources, responses, strict=False):
            if entry["request"].get("ifMatch") and str(resp.get("status", "")).startswith("201"):
                # an update of a version we read answered "created": the server ignores conditional
                # updates, and now holds a duplicate of ours (probe56 D2)
                log.warning(
                    "the server created %s where we updated a version of ours we had just read (If-Match): it "
                    "seems to ignore conditional updates - look for duplicates of our resources on the server",
                    resp.get("location") or entry["request"].get("url"),
                    extra=ev("write.conditional_ignored", url=str(entry["request"].get("url"))),
                )
            if resource.get("resourceType"):
                self._returned[entry_key(entry)] = resource
            ref = resp.get("location", "").split("/_history/")[0]
            if resource.get("id"):
                ref = f"{resource['resourceType']}/{resource['id']}"
            version = (resource.get("meta") or {}).get("versionId") or _etag_version(resp.get("etag"))
            written[entry_key(entry)] = {"ref": ref.replace(self.client.base_url + "/", ""), "version": version or ""}
        return written

    def _ordered_updates(self, bundle: dict[str, Any], patient: str = "") -> tuple[Written, list[dict[str, Any]]]:
        """Without transactions: conditional PUTs (a conditional create - POST with If-None-Exist - where
        nothing of ours was listed) in dependency order, urn:uuids replaced as we go. A create that finds a
        resource other than ours as sent stops the write before the rest (the Provenance is last); one that
        finds ours half-written by an earlier attempt is returned with what was written (written again)."""
        resolved: dict[str, str] = {}
        written: Written = {}
        half: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        for entry in bundle["entry"]:
            text = json.dumps(entry["resource"])
            for urn, ref in resolved.items():
                text = text.replace(f'"{urn}"', f'"{ref}"')
            criteria = create_criteria(entry["request"])
            if criteria:
                response = self.client.request(
                    "POST", entry["request"]["url"], json=json.loads(text), headers={"If-None-Exist": criteria}
                )
            else:
                headers = {"If-Match": entry["request"]["ifMatch"]} if entry["request"].get("ifMatch") else None
                response = self.client.request("PUT", entry["request"]["url"], json=json.loads(text), headers=headers)
            body = self.client.json(response) if response.content else {}
            if criteria and response.status_code != 201:  # 200: it matched an existing resource, left unchanged
                location = response.headers.get("Location", "").split("/_history/")[0]
                matched = self._matched(entry, body if isinstance(body, dict) else {}, location)
                written[entry_key(entry)] = {"ref": f"{matched.get('resourceType')}/{matched.get('id')}", "version": ""}
                half += self._refuse_found(bundle, written, [(entry, matched)], patient)
                body = matched
            if body.get("resourceType"):
                self._returned[entry_key(entry)] = body
            rid = body.get("id") or response.headers.get("Location", "").split("/_history/")[0].rsplit("/", 1)[-1]
            if not rid:  # 200 with an empty body and no Location (Prefer: return=minimal): look it up
                lookup = f"{entry['request']['url']}?{criteria}" if criteria else entry["request"]["url"]
                rid = (self.current(lookup) or {}).get("id", "")
            ref = f"{entry['resource']['resourceType']}/{rid}"
            why = self._lie_in(entry, ref, patient, seen)
            if why is not None:  # before a later entry (the Provenance) names what it says it stored
                raise _lying_answer([f"{ref} for our {entry['resource']['resourceType']} ({why})"])
            resolved[entry["fullUrl"]] = ref
            version = (body.get("meta") or {}).get("versionId") or _etag_version(response.headers.get("ETag"))
            written[entry_key(entry)] = {"ref": ref, "version": version or ""}
        return written, half


def _lying_answer(lies: list[str]) -> LyingAnswerError:
    return LyingAnswerError(
        "the server's answer to our transaction names, as what it stored, "
        + "; ".join(lies)
        + ": not what our write created or updated - the server's error (a proxy or gateway that rewrites answers?); "
        "nothing of the answer is recorded as ours and nothing was changed on those resources; the patient is "
        "retried next run, when the server's resources decide what is ours"
    )


def _half_written(found: list[dict[str, Any]]) -> HalfWrittenError:
    named = ", ".join(f"{r.get('resourceType')}/{r.get('id') or '?'}" for r in found)
    return HalfWrittenError(
        f"our create-only write found {named} as an earlier attempt of this write stored it: ours, half-written (a "
        "reference to another entry left as the transaction's urn:uuid: - a transaction the server applied in part "
        "and answered with an error); it is read again and written again",
        found=found,
    )


def _half_sent(found: dict[str, Any], sent: dict[str, Any], ours: frozenset[str]) -> bool:
    """Whether a resource a conditional create found is ours as this write sent it, half-written: the content
    this run built (the same source hash), stored with a reference to another entry of the transaction left
    as its ``urn:uuid:`` (``is_broken_ours``) - an earlier attempt the server applied in part."""
    source = tag_of(sent, SOURCE_TAG_SYSTEM)
    return source is not None and tag_of(found, SOURCE_TAG_SYSTEM) == source and is_broken_ours(found, ours)


def _exactly_sent(found: dict[str, Any], sent: dict[str, Any], ours: frozenset[str]) -> bool:
    """Whether a resource a conditional create found is ours exactly as this write sent it: unchanged since we
    wrote it, with the content this run built (the same source hash)."""
    source = tag_of(sent, SOURCE_TAG_SYSTEM)
    return source is not None and tag_of(found, SOURCE_TAG_SYSTEM) == source and is_unchanged_ours(found, ours)


def _found_text(entry: dict[str, Any], found: dict[str, Any], ours: frozenset[str]) -> str:
    """What a conditional create found, for the failure message: the resource, its status and whose it is."""
    ref = f"{found.get('resourceType')}/{found.get('id') or '?'}"
    mine = ours | {f"{found.get('resourceType')}/{found.get('id')}"}
    whose = (
        "ours as written before, with other content"
        if tag_of(found, CONTENT_TAG_SYSTEM) and (is_unchanged_ours(found, mine) or is_broken_ours(found, mine))
        else "changed by someone else - never modified by poems-fhir"
    )
    return f"{ref} (status {found.get('status')!r}, {whose}; If-None-Exist {create_criteria(entry['request'])})"


#: a server's refusal because a conditional URL matched several resources (Medplum, HAPI wordings)
_SEVERAL_MATCHED = re.compile(
    r"match(?:ed|es)? (?:multiple|several|\d+) resources|multiple[- ](?:matches|resources)", re.I
)


def _not_a_transaction_response(response: Any) -> str | None:
    """What the answer to a transaction is when it is no Bundle of entry answers, else None (a
    batch-response too: a server that ran the transaction as a batch says so entry by entry)."""
    if not isinstance(response, dict):
        return "something else"
    if response.get("resourceType") != "Bundle":
        return outcome_text_of(response)
    if response.get("type") not in ("transaction-response", "batch-response"):
        return f"a Bundle of type {str(response.get('type'))[:40]!r}"
    if not isinstance(response.get("entry"), list):
        return "a Bundle whose entry is no list"
    return None


def unconfirmed_entries(bundle: dict[str, Any], response: Any) -> list[tuple[int, str]]:
    """(index, status) of the entries a transaction-response does not confirm with a 2xx status: a failed
    entry, or one the response leaves out. A conformant transaction is all or nothing (an error
    status for the whole), so any of these means the server applied it in part."""
    got = response.get("entry") if isinstance(response, dict) else None
    got = got if isinstance(got, list) else []
    out = []
    for i in range(len(bundle["entry"])):
        answer = got[i] if i < len(got) and isinstance(got[i], dict) else {}
        resp = answer.get("response")
        status = str(resp.get("status", "")).strip() if isinstance(resp, dict) else ""
        if not status.startswith("2"):
            out.append((i, status[:40] or "no answer"))
    return out


def _etag_version(etag: str | None) -> str | None:
    if not etag:
        return None
    return etag.removeprefix("W/").strip('"')
