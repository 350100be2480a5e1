"""An EHR for the CDS service tests: signing keys, JWTs, and prefetch built by running the templates."""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from poems_fhir.fhir.read import subject_of
from poems_fhir.mapping.rules import CompiledMapping
from poems_fhir.serve.prefetch import queries

ISSUER = "https://ehr.example.org"
PUBLIC_URL = "http://testserver"
SERVICE_URL = f"{PUBLIC_URL}/cds-services/poems-patient-view"
NOW = 1_800_000_000  # frozen clock of the service (2027-01-15)


class Ehr:
    """Signs JWTs as a CDS client does (ES384, kid, jku optional)."""

    def __init__(self, kid: str = "ehr-key-1") -> None:
        self.key = ec.generate_private_key(ec.SECP384R1())
        self.kid = kid

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "alg": "ES384", "use": "sig"})
        return {"keys": [jwk]}

    def write_jwks(self, path: Path) -> Path:
        path.write_text(json.dumps(self.jwks()), encoding="utf-8")
        return path

    def token(
        self,
        aud: str = SERVICE_URL,
        iss: str = ISSUER,
        now: int = NOW,
        lifetime: int = 300,
        drop: tuple[str, ...] = (),
        headers: dict[str, Any] | None = None,
        key: Any = None,
        **claims: Any,
    ) -> str:
        body: dict[str, Any] = {
            "iss": iss,
            "sub": "client-1",
            "aud": aud,
            "exp": now + lifetime,
            "iat": now,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        for name in drop:
            body.pop(name, None)
        return jwt.encode(body, key or self.key, algorithm="ES384", headers={"kid": self.kid, **(headers or {})})

    def auth(self, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kw)}"}


def bundle_resources(*paths: Path) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        out += [e["resource"] for e in doc.get("entry", []) if isinstance(e, dict) and "resource" in e]
    return out


def _codes(resource: dict[str, Any]) -> set[str]:
    concept = resource.get("code") or {}
    return {f"{c.get('system')}|{c.get('code')}" for c in concept.get("coding", []) or [] if isinstance(c, dict)}


def run_templates(
    resources: list[dict[str, Any]], mapping: CompiledMapping, patient_id: str, all_observations: bool = False
) -> dict[str, Any]:
    """What an EHR answers for each prefetch template: the searches run over the patient's resources."""
    ref = f"Patient/{patient_id}"
    by_ref = {f"{r['resourceType']}/{r.get('id')}": r for r in resources}
    out: dict[str, Any] = {}
    for q in queries(mapping, all_observations):
        if q.is_read:
            out[q.key] = by_ref.get(ref)
            continue
        params = dict(q.params)
        wanted = set(params["code"].split(",")) if "code" in params else None
        found = [
            r
            for r in resources
            if r["resourceType"] == q.resource_type and subject_of(r) == ref and (wanted is None or _codes(r) & wanted)
        ]
        included = []
        for r in found:  # _include=Observation:specimen, _include=Medication*:medication
            target = (r.get("specimen") or r.get("medicationReference") or {}).get("reference")
            if target in by_ref and by_ref[target] not in included:
                included.append(by_ref[target])
        out[q.key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in found]
            + [{"resource": r, "search": {"mode": "include"}} for r in included],
        }
    return out


def hook_request(patient_id: str, prefetch: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hookInstance": str(uuid.uuid4()),
        "hook": "patient-view",
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
        **extra,
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def patient_id(*paths: Path) -> str:
    return next(r["id"] for r in bundle_resources(*paths) if r["resourceType"] == "Patient")


class RecordedServer:
    """The EHR's fhirServer under `responses`, answering as Medplum did (tests/fixtures/fhir-server): the
    patient's Condition, Procedure and Observation searches with the recorded bodies of 07 (an Observation search
    by code gets the recorded results of those codes), the other types' searches an empty searchset of the
    same shape, unknown ids the recorded 404 of 13; DocumentReferences, DiagnosticReports and Binaries as a test
    gives them (they are not in the recordings). Serves the CDS service's fallback and the sync job's ServerSource alike."""

    PID = "34eed09a-97d3-4ddf-bc64-7afbf93e740d"

    def __init__(
        self,
        rsps: Any,
        notes: list[dict[str, Any]] | None = None,
        binaries: dict[str, tuple[int, Any]] | None = None,
        documents: tuple[int, Any] | None = None,
        reports: list[dict[str, Any]] | None = None,
    ) -> None:
        from tests.fhir.transcripts import BASE, exchange, fill

        self.base = BASE
        recorded = {
            ex["request"]["path"].split("?")[0]: fill(ex["response"]["body"])
            for ex in [exchange("07-per-patient-reads.json", i) for i in range(3)]
        }
        self.not_found = fill(exchange("13-errors.json", 2)["response"]["body"])
        self.searches = {
            **recorded,
            "DocumentReference": self._searchset(notes or []),
            "DiagnosticReport": self._searchset(reports or []),
        }
        self.binaries = binaries or {}
        self.documents = documents
        self.patient = {"resourceType": "Patient", "id": self.PID, "gender": "male", "birthDate": "1963-04-12"}
        pattern = re.compile(re.escape(BASE) + r"/([A-Za-z]+)(/[^?]*)?(\?.*)?$")
        for method in ("GET", "POST"):
            rsps.add_callback(method, pattern, callback=self._answer)

    @staticmethod
    def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"fullUrl": f"{r['resourceType']}/{r['id']}", "search": {"mode": "match"}, "resource": r}
                for r in resources
            ],
        }

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        split = urllib.parse.urlsplit(request.url)
        rtype, _, rest = split.path[len(urllib.parse.urlsplit(self.base).path) + 1 :].partition("/")
        query = urllib.parse.parse_qs(split.query)
        if request.method == "POST":  # the sync job's long Observation search: POST _search, form-encoded
            query = urllib.parse.parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
        status, body = 200, None
        if rtype == "Patient" and rest == self.PID:
            body = self.patient
        elif rtype == "Binary":
            status, body = self.binaries.get(rest, (404, self.not_found))
        elif rest in ("", "_search"):
            if rtype == "DocumentReference" and self.documents is not None:
                status, body = self.documents
            else:
                body = self._search(rtype, query)
        else:
            status, body = 404, self.not_found
        headers = {"Content-Type": "application/fhir+json; charset=utf-8"}
        return status, headers, body if isinstance(body, str) else json.dumps(body)

    def _search(self, rtype: str, query: dict[str, list[str]]) -> dict[str, Any]:
        found = self.searches.get(rtype) or self._searchset([])
        codes = {c for value in query.get("code", []) for c in value.split(",")}
        if not codes:
            return found
        kept = [e for e in found["entry"] if _codes(e["resource"]) & codes]
        return {**found, "entry": kept}

    def requests(self, calls: Any) -> list[str]:
        """The paths (and queries) the server was asked, in order."""
        return [urllib.parse.urlsplit(c.request.url).path.rsplit("/R4/", 1)[1] for c in calls]
