"""Where a sync run's transactions go: a FHIR server, or a folder (--out / --dry-run)."""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..fhir.capabilities import Capabilities
from ..fhir.client import FhirClient
from ..fhir.write import patient_file_name

Written = dict[str, dict[str, str]]  # "system|value" -> {"ref": "Type/id", "version": versionId}


#: fields that carry what a clinician sees; server-side reference rewriting and meta do not count
_CONTENT_FIELDS = {
    "DiagnosticReport": ("status", "conclusion", "conclusionCode", "contained", "effectiveDateTime"),
    "CarePlan": ("status", "intent", "title", "description", "activity"),
}
GUARDED = tuple(_CONTENT_FIELDS)


def content_hash(resource: dict[str, Any]) -> str:
    fields = _CONTENT_FIELDS.get(resource.get("resourceType", ""), ())
    blob = json.dumps({f: resource.get(f) for f in fields}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def guarded_hashes(bundle: dict[str, Any]) -> dict[str, str]:
    return {entry_key(e): content_hash(e["resource"]) for e in bundle["entry"]
            if e["resource"]["resourceType"] in GUARDED}


class Sink(Protocol):
    name: str

    def write(self, patient: str, bundle: dict[str, Any]) -> Written: ...

    def current(self, url: str) -> dict[str, Any] | None: ...


def entry_key(entry: dict[str, Any]) -> str:
    """The business key of a transaction entry: its conditional URL's search value."""
    return entry["request"]["url"].split("?", 1)[1].split("=", 1)[1]


def with_if_match(bundle: dict[str, Any], previous: Written) -> dict[str, Any]:
    """Add If-Match for every resource we wrote before, so a change by someone else gives 412."""
    out = copy.deepcopy(bundle)
    for entry in out["entry"]:
        known = previous.get(entry_key(entry))
        if known and known.get("version") and entry["resource"]["resourceType"] in GUARDED:
            entry["request"]["ifMatch"] = f'W/"{known["version"]}"'
    return out


@dataclass
class DirSink:
    folder: Path
    name: str = "files"

    def write(self, patient: str, bundle: dict[str, Any]) -> Written:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / patient_file_name(patient)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)  # atomic: a killed run never leaves half a file
        return {entry_key(e): {"ref": e["fullUrl"], "version": ""} for e in bundle["entry"]}

    def current(self, url: str) -> dict[str, Any] | None:
        return None


@dataclass
class ServerSink:
    client: FhirClient
    capabilities: Capabilities
    name: str = "server"

    def write(self, patient: str, bundle: dict[str, Any]) -> Written:
        if self.capabilities.transaction:
            response = self.client.transaction(bundle)
            return self._written(bundle, [e.get("resource") or {} for e in response.get("entry", [])],
                                 [(e.get("response") or {}) for e in response.get("entry", [])])
        return self._ordered_updates(bundle)

    def current(self, url: str) -> dict[str, Any] | None:
        """The resource a conditional URL (Type?identifier=...) matches now, or None."""
        rtype, query = url.split("?", 1)
        name, value = query.split("=", 1)
        found = list(self.client.search(rtype, {name: value}))
        return found[0] if found else None

    def _written(self, bundle: dict[str, Any], resources: list[dict[str, Any]],
                 responses: list[dict[str, Any]]) -> Written:
        written: Written = {}
        for entry, resource, resp in zip(bundle["entry"], resources, responses):
            ref = resp.get("location", "").split("/_history/")[0]
            if resource.get("id"):
                ref = f"{resource['resourceType']}/{resource['id']}"
            version = (resource.get("meta") or {}).get("versionId") or _etag_version(resp.get("etag"))
            written[entry_key(entry)] = {"ref": ref.replace(self.client.base_url + "/", ""), "version": version or ""}
        return written

    def _ordered_updates(self, bundle: dict[str, Any]) -> Written:
        """Without transactions: conditional PUTs in dependency order, urn:uuids replaced as we go."""
        resolved: dict[str, str] = {}
        written: Written = {}
        for entry in bundle["entry"]:
            text = json.dumps(entry["resource"])
            for urn, ref in resolved.items():
                text = text.replace(f'"{urn}"', f'"{ref}"')
            headers = {"If-Match": entry["request"]["ifMatch"]} if entry["request"].get("ifMatch") else None
            response = self.client.request("PUT", entry["request"]["url"], json=json.loads(text), headers=headers)
            body = self.client.json(response) if response.content else {}
            rid = body.get("id") or response.headers.get("Location", "").split("/_history/")[0].rsplit("/", 1)[-1]
            if not rid:  # 200 with an empty body and no Location (Prefer: return=minimal): look it up
                rid = (self.current(entry["request"]["url"]) or {}).get("id", "")
            ref = f"{entry['resource']['resourceType']}/{rid}"
            resolved[entry["fullUrl"]] = ref
            version = (body.get("meta") or {}).get("versionId") or _etag_version(response.headers.get("ETag"))
            written[entry_key(entry)] = {"ref": ref, "version": version or ""}
        return written


def _etag_version(etag: str | None) -> str | None:
    if not etag:
        return None
    return etag.removeprefix("W/").strip('"')
