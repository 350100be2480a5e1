# SPDX-License-Identifier: Apache-2.0
"""FHIR REST client on one requests.Session: timeouts, retries with backoff, paging, auth.

- Retries 408/429/500/502/503/504 and connection errors on idempotent requests, with exponential
  backoff and full jitter, honouring Retry-After (seconds or HTTP-date) up to a cap; a POST is
  retried only when it is conditional (all its entries are conditional / If-None-Exist).
- A retry budget per run bounds the total; 401 re-authorises once, outside the budget.
- Paging follows Bundle.link[next] as given, but refuses a link to another scheme/host/port than the
  configured base: the credentials must never go to another host.
- Clock and sleep are injected, so tests never wait for real.
"""
from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..errors import FatalNetworkError, ForeignHostError, PreconditionFailedError, TemporaryNetworkError
from .auth import Auth

log = logging.getLogger("poems_fhir.client")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
FHIR_JSON = "application/fhir+json"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class RetryPolicy:
    attempts: int = 5  # per request, the first try included
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 300.0  # servers have asked for hours; we wait at most this
    budget: int = 50  # retries per run, all requests together


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    reauths: int = 0


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with default ports made explicit, for same-origin checks."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    return scheme, (parts.hostname or "").lower(), port


def redact(url: str) -> str:
    """The URL without user:password@ (query kept: it holds no secrets we put there)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return parts._replace(netloc=netloc).geturl()
    return url


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as delta-seconds or HTTP-date -> seconds to wait (>= 0), None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def outcome_text(response: requests.Response) -> str:
    """The diagnostics of an OperationOutcome body, or a short text of whatever came back."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return ("(HTML page) " if text.startswith("<") else "") + text[:200]
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        parts = []
        for issue in body.get("issue", []):
            detail = issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code")
            parts.append(f"{issue.get('severity', 'error')}: {detail}")
        return "; ".join(parts)[:500]
    return str(body)[:200]


@dataclass
class FhirClient:
    base_url: str
    auth: Auth = field(default_factory=Auth)
    session: requests.Session = field(default_factory=requests.Session)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: tuple[float, float] = (10.0, 120.0)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    rng: Callable[[], float] = random.random
    stats: ClientStats = field(default_factory=ClientStats)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._origin = origin(self.base_url)
        # gzip is negotiated by requests itself (Accept-Encoding: gzip, deflate)
        self.session.headers.update({"Accept": FHIR_JSON, "User-Agent": "poems-fhir"})

    # ------------------------------------------------------------------ URLs

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    def check_origin(self, url: str) -> None:
        if origin(url) != self._origin:
            raise ForeignHostError(
                f"refusing to follow {redact(url)}: it is not on the configured server "
                f"{self._origin[0]}://{self._origin[1]}:{self._origin[2]}; credentials are only sent there. "
                "If the server is behind a proxy, configure --server with the URL the server uses in its links.",
                url=redact(url),
            )

    # ------------------------------------------------------------------ requests

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, data: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, retryable: bool | None = None) -> requests.Response:
        url = self.url(path)
        self.check_origin(url)
        if retryable is None:
            retryable = method in ("GET", "HEAD", "PUT", "DELETE")
        attempt = 0
        reauthorised = False
        while True:
            attempt += 1
            self.stats.requests += 1
            all_headers = {**self.auth.headers(), **(headers or {})}
            if json is not None:
                all_headers.setdefault("Content-Type", FHIR_JSON)
            response: requests.Response | None
            try:
                response = self.session.request(
                    method, url, params=params, json=json, data=data, headers=all_headers,
                    auth=self.auth.basic(), timeout=self.timeout, allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                error: Exception = TemporaryNetworkError(
                    f"{method} {redact(url)}: {exc.__class__.__name__} - is the server up and reachable?",
                    url=redact(url))
                response = None
            else:
                assert response is not None  # noqa: S101 - narrows the type for mypy; set in the try above
                if response.status_code == 401 and not reauthorised and self.auth.refresh():
                    reauthorised = True  # once, outside the retry budget (token expired or revoked)
                    self.stats.reauths += 1
                    attempt -= 1
                    continue
                if response.status_code < 400 and not (300 <= response.status_code < 400):
                    return response
                error = self._error(method, url, response)
            if not (retryable and isinstance(error, TemporaryNetworkError)):
                raise error
            if attempt >= self.retry.attempts or self.stats.retries >= self.retry.budget:
                raise TemporaryNetworkError(f"{error} (gave up after {attempt} attempt(s))",
                                            url=redact(url)) from None
            delay = self._delay(attempt, response)
            self.stats.retries += 1
            log.warning("retrying %s %s in %.1fs: %s", method, redact(url), delay, error)
            self.sleep(delay)

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        backoff = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        jittered = backoff * (0.5 + self.rng() / 2)
        server = parse_retry_after(response.headers.get("Retry-After") if response is not None else None,
                                   self.clock())
        if server is not None:
            return min(max(server, jittered), self.retry.max_retry_after)
        return jittered

    def _error(self, method: str, url: str, response: requests.Response) -> Exception:
        status = response.status_code
        text = f"{method} {redact(url)} failed: HTTP {status}: {outcome_text(response)}"
        if 300 <= status < 400:
            return FatalNetworkError(
                f"{method} {redact(url)} was redirected (HTTP {status}) to "
                f"{redact(response.headers.get('Location', '?'))}; poems-fhir does not follow redirects "
                "with credentials - configure --server with the final URL", url=redact(url), status=status)
        if status in RETRY_STATUSES:
            return TemporaryNetworkError(text, url=redact(url), status=status)
        if status in (409, 412):
            return PreconditionFailedError(text, url=redact(url), status=status)
        if status in (401, 403):
            from ..errors import AuthError

            return AuthError(text + " - check the credentials and their scopes", url=redact(url), status=status)
        return FatalNetworkError(text, url=redact(url), status=status)

    def json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise FatalNetworkError(
                f"{response.request.method} {redact(response.url)} returned "
                f"{response.headers.get('Content-Type', 'no content type')} instead of FHIR JSON: "
                f"{outcome_text(response)[:120]} - is --server the FHIR base URL?",
                url=redact(response.url), status=response.status_code) from None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.json(self.request("GET", path, params=params))

    # ------------------------------------------------------------------ search

    def search_pages(self, path: str, params: dict[str, Any] | None = None, *,
                     post: bool = False) -> Iterator[dict[str, Any]]:
        """Yield each searchset Bundle, following next links (absolute or relative) on this server."""
        if post:
            response = self.request("POST", path.rstrip("/") + "/_search", data=params,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                                    retryable=True)  # a search is safe to repeat
            bundle = self.json(response)
        else:
            bundle = self.get(path, params)
        seen: set[str] = set()
        while True:
            if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
                raise FatalNetworkError(f"search {path} did not return a Bundle")
            yield bundle
            nxt = next((link.get("url") for link in bundle.get("link", []) or []
                        if link.get("relation") == "next"), None)
            if not nxt:
                return
            nxt = urljoin(self.base_url + "/", nxt)
            if nxt in seen:
                raise FatalNetworkError(f"search {path}: the server's next link repeats ({redact(nxt)})")
            seen.add(nxt)
            bundle = self.get(nxt)

    def search(self, path: str, params: dict[str, Any] | None = None, *, post: bool = False) -> Iterator[dict[str, Any]]:
        """Yield the resources of every page (mode 'match' and 'include'; outcomes skipped)."""
        for bundle in self.search_pages(path, params, post=post):
            for entry in bundle.get("entry", []) or []:
                if (entry.get("search") or {}).get("mode") == "outcome":
                    continue
                if isinstance(entry.get("resource"), dict):
                    yield entry["resource"]

    def transaction(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """POST a transaction; retried only when every entry is conditional (safe to repeat)."""
        conditional = all(
            "?" in e["request"]["url"] or e["request"].get("ifNoneExist") or e["request"]["method"] == "GET"
            for e in bundle.get("entry", [])
        )
        return self.json(self.request("POST", "", json=bundle, retryable=conditional))  # type: ignore[no-any-return]
