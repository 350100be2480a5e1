# SPDX-License-Identifier: Apache-2.0
"""The CDS Hooks 2.0 service: discovery, the `patient-view` hook, feedback, the card's page, metrics.

Starlette (ASGI) served by uvicorn. Per request: size limits, the EHR's JWT (security.py), the
hook request validated at the boundary (pydantic), then in a bounded worker pool: the record from
prefetch + fallback (prefetch.py), the sync job's evaluation (pipeline.evaluate_record), and the
cards (cards.py). Logs carry event names, outcomes and timings, never patient data or tokens.
"""

from __future__ import annotations

import re

import datetime as dt
import ipaddress
import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..criteria.profiles import get_profile
from ..errors import ConfigError, NetworkError
from ..fhir.auth import BearerAuth
from ..fhir.client import MAX_PATIENT_PAGES, FhirClient
from ..fhir.http import Deadlines, RetryPolicy
from ..fhir.read import PatientRecord
from ..mapping.rules import CompiledMapping, load_mapping
from ..pipeline import PatientResult, evaluate_record, html_for
from ..sync.attachments import BinaryFetcher
from ..sync.events import TEMPLATES, ev
from .cards import SERVICE_ID, cards_for, choose_language
from .feedback import Feedback, FeedbackStore
from .metrics import ServeMetrics
from .prefetch import (
    FHIR_ID,
    FOR_THIS_CARD,
    GRANT_BINARIES,
    Binaries,
    Fetch,
    InsufficientData,
    Query,
    TooLarge,
    fetch_binaries,
    gather,
    queries,
    unread_by_url,
)
from .security import TokenRejected, Verifier
from .settings import ServeSettings, fhir_base_key

log = logging.getLogger("poems_fhir.serve")

#: how long the page behind a card's link stays available, and how many are kept
PAGE_TTL = 15 * 60
PAGE_LIMIT = 256


class FhirAuthorization(BaseModel):
    model_config = ConfigDict(extra="allow")
    # visible ASCII only (RFC 6750's b64token is stricter): it goes into an Authorization header, where a
    # CR/LF would inject headers and anything else fails inside the HTTP library (a 500)
    access_token: str = Field(min_length=1, max_length=20000, pattern=r"^[\x21-\x7e]+$")
    # CDS Hooks 2.0: "Fixed value: Bearer"; another scheme's token sent as a bearer token would be refused
    # by the server at best (probe44: any value was accepted)
    token_type: str = Field("Bearer", pattern=r"^(?i:bearer)$")  # the scheme's name, not a secret
    expires_in: int | None = Field(None, ge=0, strict=True)
    scope: str | None = Field(None, max_length=20000)
    subject: str | None = Field(None, max_length=1000)
    #: the patient the token is for (SMART patient scopes): must be context.patientId (HookRequest)
    patient: str | None = Field(None, max_length=64)

    def __repr__(self) -> str:  # never print the token
        return "FhirAuthorization(access_token=<redacted>)"


class HookContext(BaseModel):
    model_config = ConfigDict(extra="allow")
    patientId: str  # noqa: N815  (the specification's names)
    userId: str | None = None  # noqa: N815

    @field_validator("patientId")
    @classmethod
    def _patient_id(cls, v: str) -> str:
        # it goes into request paths: a FHIR id, and not "." or ".." (fhir/ids.py; pydantic's own
        # pattern engine has no look-ahead to say so)
        if not FHIR_ID.fullmatch(v):
            raise ValueError("String should match a FHIR id (1-64 letters, digits, '-' and '.'; not '.' or '..')")
        return v


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _what_is_wrong(exc: ValidationError) -> str:
    """Each refused element with pydantic's reason, never the value (a token, a name): probe44 found
    "check fhirAuthorization" too vague to act on."""
    parts = []
    for e in exc.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in e["loc"])
        reason = str(e["msg"]).removeprefix("Value error, ")[:200]
        parts.append(f"{where}: {reason}" if where else reason)
    return "; ".join(parts)


def loggable_instance(hook_instance: str) -> str:
    """The hookInstance as the log shows it: CDS Hooks makes it a UUID; anything else an EHR sends there
    is not written to the log (probe44: a name and an MRN sent as hookInstance reached the log)."""
    return hook_instance if _UUID.fullmatch(hook_instance) else "(not a UUID: not logged)"


class HookRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    hook: str
    hookInstance: str = Field(min_length=1, max_length=200)  # noqa: N815
    fhirServer: str | None = None  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: HookContext
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _token_for_this_patient(self) -> HookRequest:
        # a token granted for another patient cannot read this one's record (probe44): say so (400)
        # rather than answer 412 after the server's 403s
        auth = self.fhirAuthorization
        if auth is not None and auth.patient is not None and auth.patient != self.context.patientId:
            raise ValueError("fhirAuthorization.patient is not context.patientId")
        return self


def _entries(value: Any) -> int:
    """Resources in one prefetch value (a Bundle's entries, else the resource itself)."""
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        entries = value.get("entry")
        return len(entries) if isinstance(entries, list) else 0
    return 0 if value is None else 1


class Refused(Exception):
    def __init__(self, status: int, outcome: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.outcome, self.headers = status, outcome, headers


#: the page is self-contained (inline CSS and SVG, no script, no link it loads): a CSP that forbids
#: everything else keeps record text that slipped through escaping from running or calling out (probe44)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class Page:
    """What the page behind a card shows: the result, in the card's language, with what the card says its record
    was read without (the page repeats it: a clinician who opens the page must not miss it)."""

    result: PatientResult
    language: str = "en"
    not_read: tuple[str, ...] = ()


@dataclass
class PageCache:
    """The pages behind the cards' links, under unguessable tokens, for a short time (in memory)."""

    clock: Callable[[], float] = time.monotonic
    #: token -> (expiry, page)
    _pages: OrderedDict[str, tuple[float, Page]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, page: Page) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._pages[token] = (self.clock() + PAGE_TTL, page)
            while len(self._pages) > PAGE_LIMIT:
                self._pages.popitem(last=False)
        return token

    def get(self, token: str) -> Page | None:
        with self._lock:
            found = self._pages.get(token)
            if found and found[0] < self.clock():
                del self._pages[token]
                return None
        return found[1] if found else None


def check_fhir_server(url: str, allowed: list[str] | None = None) -> None:
    """The EHR's fhirServer: https, or plain http only on loopback (a test or a sidecar); and, where
    `fhir-servers` lists the EHRs' FHIR bases, one of them: the hook call's body chooses the URL the
    service then reads, so without the list a caller could point it at an internal address."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        key = fhir_base_key(url)
    except ValueError:
        raise Refused(400, "bad_request", "fhirServer is not a URL") from None
    if "?" in url or "#" in url:
        # a base with a query or fragment is no FHIR base: "[base]?x/Patient/1" would be a search of
        # the whole server with the EHR's token (and it would pass the list, which compares bases)
        raise Refused(400, "bad_request", "fhirServer must be a FHIR base URL, without a query or fragment")
    if allowed and key not in allowed:
        raise Refused(400, "bad_request", "fhirServer is not one of the FHIR servers this service may read")
    loopback = host == "localhost"
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise Refused(400, "bad_request", "fhirServer must be an https URL")


class ClientLogScrubber(logging.Filter):
    """The sync job's client logs request URLs (retries, deadlines); in a hook call they carry the
    patient's id. While the current thread serves a hook call, keep the event and its numbers and drop
    the URL and the error text; other records (and other users of the logger) are untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.serving = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(self.serving, "on", False):
            return True
        template = TEMPLATES.get(str(record.msg))
        args = record.args if isinstance(record.args, tuple) else ()
        fields = dict(zip(template[1], args, strict=False)) if template else {}
        event = template[0] if template else "http.client"
        record.event = event  # type: ignore[attr-defined]  # read by sync/events.py's formatters
        record.fields = {k: v for k, v in fields.items() if isinstance(v, (int, float))}  # type: ignore[attr-defined]
        record.msg, record.args = f"{event}: a request to the EHR's fhirServer (URL not logged)", ()
        return True


def client_log_scrubber() -> ClientLogScrubber:
    """The one scrubber on the client's logger (added once per process)."""
    logger = logging.getLogger("poems_fhir.client")
    for f in logger.filters:
        if isinstance(f, ClientLogScrubber):
            return f
    scrubber = ClientLogScrubber()
    logger.addFilter(scrubber)
    return scrubber


#: the most one fhirServer answer may hold, decoded: one page of one patient's search. The sync job's
#: 512 MB would let one hook call - whose caller chooses the server - take gigabytes (a 300 kB gzip
#: answer inflating to 300 MB), times the evaluation workers
FALLBACK_MAX_BODY = 32 * 2**20


def default_client(base_url: str, token: str, timeout: float) -> FhirClient:
    """The sync job's FhirClient for the EHR's fhirServer: origin rule, paging guard, retries, deadlines."""
    client = FhirClient(
        base_url,
        auth=BearerAuth(token),
        retry=RetryPolicy(attempts=2, base_delay=0.2, max_delay=1.0, budget=6),
        # one request at most `timeout`, the whole fallback of one hook call at most 3x that
        deadlines=Deadlines(connect=timeout, read=timeout, request=timeout, run=3 * timeout),
    )
    client.transport.max_body = FALLBACK_MAX_BODY
    return client


@dataclass
class Service:
    settings: ServeSettings
    mapping: CompiledMapping
    verifier: Verifier
    store: FeedbackStore
    metrics: ServeMetrics = field(default_factory=ServeMetrics)
    pages: PageCache = field(default_factory=PageCache)
    client_factory: Callable[[str, str, float], FhirClient] = default_client
    scrubber: ClientLogScrubber = field(default_factory=client_log_scrubber)
    #: wall-clock seconds: today's date judges which proposals are overdue (a card is read today)
    wall_clock: Callable[[], float] = time.time
    _waiting: int = 0

    def __post_init__(self) -> None:
        self.profile = get_profile(self.settings.profile)
        self.queries = queries(self.mapping, self.settings.all_observations)  # once, not per request
        self.templates = {q.key: q.template() for q in self.queries}
        self.limiter = anyio.CapacityLimiter(self.settings.concurrency)
        base = self.settings.base_url()
        self.discovery_url = f"{base}/cds-services"
        self.service_url = f"{self.discovery_url}/{SERVICE_ID}"
        for outcome, count in self.store.counts().items():
            self.metrics.feedback_stored.labels(outcome).set(count)

    # ------------------------------------------------------------------ discovery

    def discovery(self) -> dict[str, Any]:
        return {
            "services": [
                {
                    "hook": "patient-view",
                    "id": SERVICE_ID,
                    "title": "POEMS criteria work-up",
                    "description": "Which POEMS criteria are present, which are missing, and the work-up that would "
                    "decide them; a card only for patients in scope (polyneuropathy or a monoclonal "
                    "plasma-cell disorder present, or criteria met).",
                    "prefetch": self.templates,
                    "usageRequirements": "Prefetch as listed, or fhirServer with a fhirAuthorization token allowed to "
                    "read Patient, Observation, Specimen, Condition, Procedure, DiagnosticReport, DocumentReference, "
                    "Binary and Medication* resources (without DocumentReference or Binary the card says which "
                    "notes were not read).",
                }
            ]
        }

    # ------------------------------------------------------------------ hook

    async def authorize(self, request: Request, audiences: list[str]) -> dict[str, Any]:
        try:
            # in a worker thread: a JWKS URL may have to be fetched
            return await anyio.to_thread.run_sync(self.verifier.verify, request.headers.get("authorization"), audiences)
        except TokenRejected as exc:
            log.warning("JWT refused: %s", exc, extra=ev("cds.auth_rejected", reason=str(exc), path=request.url.path))
            raise Refused(
                401, "unauthorized", "invalid or missing JWT", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            ) from None

    async def body(self, request: Request) -> Any:
        limit = self.settings.max_request_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise Refused(413, "too_large", f"request body larger than {limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refused(413, "too_large", f"request body larger than {limit} bytes")
            chunks.append(chunk)
        try:
            return json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Refused(400, "bad_request", "the body is not JSON (or nested too deeply)") from None

    def fetcher(self, hook: HookRequest) -> tuple[Fetch, Binaries] | tuple[None, None]:
        """Reads from the EHR's fhirServer: the keys the prefetch lacks, and the text Binaries the record's url-only
        attachments name; the URL is checked and the client made only when something is actually to be read (a
        complete prefetch whose notes and reports hold their text never touches the server)."""
        server, authorization = hook.fhirServer, hook.fhirAuthorization
        if not server or not authorization:
            return None, None
        clients: list[FhirClient] = []

        def client_for() -> FhirClient:
            if not clients:
                check_fhir_server(server, self.settings.fhir_servers)
                try:
                    clients.append(self.client_factory(server, authorization.access_token, self.settings.fhir_timeout))
                except ConfigError:
                    raise Refused(
                        400, "bad_request", "fhirServer cannot be used (see the FHIR base URL rules)"
                    ) from None
            return clients[0]

        def fetch(query: Query, patient_id: str) -> list[dict[str, Any]]:
            client = client_for()
            if query.is_read:
                return [client.get(f"Patient/{patient_id}")]
            found = []
            for resource in client.search(
                query.resource_type, query.search_params(patient_id), max_pages=MAX_PATIENT_PAGES
            ):
                found.append(resource)
                if len(found) > self.settings.max_prefetch_resources:
                    raise TooLarge(f"more than {self.settings.max_prefetch_resources} resources for one patient")
            return found

        def binaries(record: PatientRecord, patient: str) -> list[str]:
            def fetcher() -> BinaryFetcher:
                # lenient: a Binary that cannot be fetched (a 5xx, the call's deadline) is a line on the card
                return BinaryFetcher(client_for(), lenient=True, when=FOR_THIS_CARD, grant=GRANT_BINARIES)

            try:
                return fetch_binaries(record, patient, server, fetcher)
            except Refused as exc:  # a fhirServer this service may not read costs the Binaries, not the card
                return unread_by_url(record, str(exc))

        return fetch, binaries

    def evaluate(self, hook: HookRequest, language: str) -> tuple[list[dict[str, Any]], Any]:
        self.scrubber.serving.on = True  # this worker thread now handles a patient: no URLs in logs
        try:
            return self._evaluate(hook, language)
        finally:
            self.scrubber.serving.on = False

    def _evaluate(self, hook: HookRequest, language: str) -> tuple[list[dict[str, Any]], Any]:
        patient_id = hook.context.patientId
        fetch, binaries = self.fetcher(hook)
        try:
            gathered = gather(
                patient_id, hook.prefetch, self.queries, fetch, self.settings.max_prefetch_resources, binaries
            )
        except InsufficientData as exc:
            raise Refused(412, "insufficient_data", str(exc)) from None
        except TooLarge as exc:
            raise Refused(413, "too_large", str(exc)) from None
        except NetworkError as exc:
            log.warning(
                "reading the EHR's fhirServer failed: %s (HTTP %s)",
                exc.__class__.__name__,
                exc.status,
                extra=ev(
                    "cds.fallback_failed",
                    error=exc.__class__.__name__,
                    status=exc.status,
                    hook_instance=loggable_instance(hook.hookInstance),
                ),
            )
            raise Refused(
                412,
                "insufficient_data",
                "the patient's data could not be read from fhirServer "
                f"({exc.__class__.__name__}" + (f", HTTP {exc.status})" if exc.status else ")"),
            ) from None
        self.metrics.data.labels("prefetch").inc(len(gathered.from_prefetch))
        self.metrics.data.labels("fhir_server").inc(len(gathered.fetched))
        for key, status in gathered.refused:
            # as the sync job logs it (patient.documents_refused); the card names it too
            log.warning(
                "prefetch key %s refused or not supported (%s): the patient is read without it, the card says so",
                key,
                f"HTTP {status}" if status is not None else "by the EHR's prefetch",
                extra=ev(
                    "cds.documents_refused",
                    key=key,
                    status=status,
                    hook_instance=loggable_instance(hook.hookInstance),
                ),
            )
        if gathered.record is None:
            raise Refused(412, "insufficient_data", "no Patient resource for context.patientId in the data")
        today = dt.datetime.fromtimestamp(self.wall_clock(), dt.timezone.utc).date()
        result = evaluate_record(
            gathered.record, self.mapping, self.profile, None, trigger=self.settings.trigger, today=today
        )
        page = None
        if result.scope.in_scope:
            token = self.pages.put(Page(result, language, tuple(gathered.not_read)))
            page = f"{self.discovery_url}/pages/{token}"
        return cards_for(result, language, page, gathered.not_read), gathered

    async def hook(self, request: Request) -> Response:
        started = time.perf_counter()
        hook_instance = None
        try:
            await self.authorize(request, [self.service_url, self.discovery_url])
            if request.path_params["service"] != SERVICE_ID:
                raise Refused(404, "bad_request", f"no CDS service {request.path_params['service']!r}")
            try:
                hook = HookRequest.model_validate(await self.body(request))
            except ValidationError as exc:
                raise Refused(400, "bad_request", f"not a CDS Hooks request: {_what_is_wrong(exc)}") from None
            hook_instance = loggable_instance(hook.hookInstance)
            if hook.hook != "patient-view":
                raise Refused(400, "bad_request", f"this service answers the patient-view hook, not {hook.hook!r}")
            if hook.fhirAuthorization and not hook.fhirServer:
                raise Refused(400, "bad_request", "fhirAuthorization without fhirServer")
            size = sum(_entries(v) for v in (hook.prefetch or {}).values())
            if size > self.settings.max_prefetch_resources:
                raise Refused(
                    413, "too_large", f"prefetch holds more than {self.settings.max_prefetch_resources} resources"
                )
            language = choose_language(request.headers.get("accept-language"), self.settings.language)
            if self._waiting >= self.settings.concurrency + self.settings.queue:
                raise Refused(503, "busy", "too many requests in progress", {"Retry-After": "1"})
            self._waiting += 1
            try:
                cards, gathered = await anyio.to_thread.run_sync(self.evaluate, hook, language, limiter=self.limiter)
            finally:
                self._waiting -= 1
        except Exception as exc:  # noqa: BLE001  (a bug must not leak record content into logs or answers)
            if isinstance(exc, Refused):
                return self._refused(exc, hook_instance, started)
            self.metrics.requests.labels("error").inc()
            # the class only: an exception's message may quote the record
            log.error(
                "patient-view failed: %s",
                exc.__class__.__name__,
                extra=ev("cds.error", error=exc.__class__.__name__, hook_instance=hook_instance),
            )
            return JSONResponse({"error": "internal error: see the service's log"}, 500)
        elapsed = time.perf_counter() - started
        self.metrics.seconds.observe(elapsed)
        outcome = "cards" if cards else "no_card"
        self.metrics.requests.labels(outcome).inc()
        for card in cards:
            self.metrics.cards.labels(card["indicator"]).inc()
        log.info(
            "patient-view: %d card(s)",
            len(cards),
            extra=ev(
                "cds.request",
                outcome=outcome,
                status=200,
                hook_instance=hook_instance,
                cards=len(cards),
                language=language,
                prefetch_keys=len(gathered.from_prefetch),
                fetched_keys=len(gathered.fetched),
                not_read=len(gathered.not_read),
                ms=round(elapsed * 1000, 1),
            ),
        )
        return _CardsResponse({"cards": cards})

    def _refused(self, exc: Refused, hook_instance: str | None, started: float) -> Response:
        self.metrics.requests.labels(exc.outcome).inc()
        log.info(
            "patient-view refused: %s",
            exc.outcome,
            extra=ev(
                "cds.request",
                outcome=exc.outcome,
                status=exc.status,
                hook_instance=hook_instance,
                ms=round((time.perf_counter() - started) * 1000, 1),
            ),
        )
        return JSONResponse({"error": str(exc)}, exc.status, headers=exc.headers)

    # ------------------------------------------------------------------ feedback

    async def feedback(self, request: Request) -> Response:
        try:
            url = f"{self.discovery_url}/{request.path_params['service']}/feedback"
            claims = await self.authorize(request, [self.service_url, url, self.discovery_url])
            if request.path_params["service"] != SERVICE_ID:
                raise Refused(404, "bad_request", f"no CDS service {request.path_params['service']!r}")
            try:
                feedback = Feedback.model_validate(await self.body(request))
            except ValidationError:
                raise Refused(400, "bad_request", "not a CDS Hooks feedback body") from None
        except Refused as exc:
            log.info(
                "feedback refused: %s",
                exc.outcome,
                extra=ev("cds.feedback_refused", outcome=exc.outcome, status=exc.status),
            )
            return JSONResponse({"error": str(exc)}, exc.status, headers=exc.headers)
        await anyio.to_thread.run_sync(self.store.add, feedback, str(claims["iss"]))
        for item in feedback.feedback:
            self.metrics.feedback.labels(item.outcome).inc()
        for outcome, count in self.store.counts().items():
            self.metrics.feedback_stored.labels(outcome).set(count)
        log.info(
            "feedback: %d item(s)",
            len(feedback.feedback),
            extra=ev(
                "cds.feedback",
                items=len(feedback.feedback),
                accepted=sum(i.outcome == "accepted" for i in feedback.feedback),
                overridden=sum(i.outcome == "overridden" for i in feedback.feedback),
            ),
        )
        return Response(status_code=200)

    # ------------------------------------------------------------------ page, metrics

    async def page(self, request: Request) -> Response:
        found = self.pages.get(request.path_params["token"])
        if found is None:
            return PlainTextResponse("this page has expired: open the patient's chart again", 404)
        # in the card's language (probe44: a Russian card linked to an English page), with the card's "Not read"
        html = await anyio.to_thread.run_sync(
            lambda: html_for(found.result, self.mapping, language=found.language, not_read=found.not_read)
        )
        return HTMLResponse(html, headers=PAGE_HEADERS)

    async def metrics_endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def create_app(
    settings: ServeSettings,
    *,
    mapping: CompiledMapping | None = None,
    verifier: Verifier | None = None,
    store: FeedbackStore | None = None,
    client_factory: Callable[[str, str, float], FhirClient] = default_client,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    service = Service(
        settings,
        mapping if mapping is not None else load_mapping([str(p) for p in settings.mappings]),
        verifier or Verifier.from_trust(settings.trusted(), settings.max_token_lifetime, clock),
        store or FeedbackStore(settings.state),
        client_factory=client_factory,
        wall_clock=clock,
    )

    async def discovery(request: Request) -> Response:
        return JSONResponse(service.discovery())

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})

    routes = [
        Route("/cds-services", discovery, methods=["GET"]),
        Route("/cds-services/pages/{token}", service.page, methods=["GET"]),
        Route("/cds-services/{service}", service.hook, methods=["POST"]),
        Route("/cds-services/{service}/feedback", service.feedback, methods=["POST"]),
        Route("/metrics", service.metrics_endpoint, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    # CORS as the CDS Hooks specification shows it (browser-based CDS clients)
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Origin", "Accept", "Content-Location", "Location", "X-Requested-With"],
        )
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.service = service
    return app


class _CardsResponse(JSONResponse):
    """Cards quote the record; text that is not Unicode (a lone surrogate from a JSON escape) is sent
    escaped, as \\uXXXX, instead of failing the whole answer."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")
