# SPDX-License-Identifier: Apache-2.0
"""Authentication for the FHIR client: none, bearer, basic, OAuth2 client credentials, and SMART
Backend Services (client_credentials with a signed JWT assertion, RS384/ES384, PEM or JWKS keys).

Tokens are refreshed before they expire and once after a 401 (the client calls ``refresh``).
Token requests go through the client's Transport (fhir/http.py): the same deadlines and the same
retries (5xx/429, resets, truncated JSON); a refusal (4xx) is an AuthError, an unreachable endpoint a
TemporaryNetworkError - never "wrong credentials" for a server that is down. The token endpoint is
discovered lazily (at the first token request) when not configured, so a server that is down is
reported as down. Secrets come from files or the environment, are never logged and never appear in
messages.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ..errors import AuthError, ConfigError, PoemsFhirError, TemporaryNetworkError, UnusableTokenError
from .http import (
    RETRY_STATUSES,
    Transport,
    body_summary,
    looks_truncated_json,
    origin,
    parse_retry_after,
    response_json,
    scrub_secrets,
    unsafe_reason,
)

#: refresh this many seconds before a token's expiry, so a request never carries a dying token
EXPIRY_MARGIN = 60


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be sent as ``Authorization: Bearer <token>``, or None. A token is one line of
    visible ASCII (RFC 6750 b64token and RFC 6749 VSCHAR both lie within it; a space would end it): a
    line break or a character outside Latin-1 crashed the run as an "internal error" and printed the
    whole header, i.e. every line of the token file (probe80 D2). The answer never quotes the token."""
    if not token:
        return "it is empty"
    lines = token.splitlines()
    if len(lines) > 1 or "\r" in token or "\n" in token:
        return f"it holds {max(len(lines), 2)} lines (a second line, e.g. a refresh token or a note?)"
    for char in token:
        if char == " " or char == "\t":
            return "it holds a space or tab"
        if not "\x21" <= char <= "\x7e":
            kind = "a control character" if ord(char) < 0x20 or ord(char) == 0x7F else "a non-ASCII character"
            return f"it holds {kind} (U+{ord(char):04X})"
    return None


def secret_line_problem(secret: str) -> str | None:
    """Why a client secret or password read from a file or the environment is surely a mistake, or None:
    a line break (a second line) - or, for Basic auth, a character requests cannot encode (Latin-1)."""
    if "\n" in secret or "\r" in secret:
        return f"it holds {max(len(secret.splitlines()), 2)} lines (a second line, e.g. a note?)"
    return None


def password_problem(password: str) -> str | None:
    """Why a Basic password cannot be sent: requests encodes Basic credentials as Latin-1, and anything
    else crashed the run (probe80 D2); or a second line."""
    try:
        password.encode("latin-1")
    except UnicodeEncodeError:
        return "it holds a character outside Latin-1, which Basic authentication cannot send"
    return secret_line_problem(password)


def scrub_error(exc: BaseException, scrub: Callable[[str], str]) -> BaseException:
    """``exc`` with every text it carries (message, URL) passed through ``scrub``, in place: the one
    step between a server's text and everything that shows an error - the log, the summary, the state
    (probe80 D1: texts built from an answer's <title>, resourceType or Bundle.type kept an echoed token
    or client secret)."""
    exc.args = tuple(scrub(a) if isinstance(a, str) else a for a in exc.args)
    url = getattr(exc, "url", None)
    if isinstance(url, str):
        exc.url = scrub(url)  # type: ignore[attr-defined]
    return exc


@dataclass
class Redactor:
    """Every secret in play in one run (the access token of the moment, the client secret, a refresh
    token, the signed assertion and private-key material, a Basic password), masked in any text: the
    last line of defence where a run's text leaves the process - the summary, the log, the state
    (probe80 D1). ``add`` a source of secrets (``Auth.secrets``) once it exists."""

    sources: list[Callable[[], list[str]]] = field(default_factory=list)

    def add(self, source: Callable[[], list[str]]) -> None:
        self.sources.append(source)

    def secrets(self) -> list[str]:
        return [s for source in self.sources for s in source() if s]

    def __call__(self, text: str) -> str:
        return scrub_secrets(text, self.secrets()) if self.sources else text

    def error(self, exc: BaseException) -> BaseException:
        return scrub_error(exc, self)

    @contextlib.contextmanager
    def on_logs(self, logger_name: str = "poems_fhir") -> Iterator[None]:
        """Every record through the handlers of ``logger_name`` masked while the block runs."""
        flt = _RedactingFilter(self)
        handlers = list(logging.getLogger(logger_name).handlers)
        for handler in handlers:
            handler.addFilter(flt)
        try:
            yield
        finally:
            for handler in handlers:
                handler.removeFilter(flt)


class _RedactingFilter(logging.Filter):
    """A log record's message and fields with every secret masked."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        rewrite_record(record, self.redact)
        return True


def rewrite_record(record: logging.LogRecord, rewrite: Callable[[str], str]) -> None:
    """A log record's message and its structured ``fields`` passed through ``rewrite`` (a mask of secrets,
    the pseudonyms of patient ids): what a log handler formats never holds the original."""
    message = record.getMessage()
    changed = rewrite(message)
    if changed != message:
        record.msg, record.args = changed, None
    fields = getattr(record, "fields", None)
    if isinstance(fields, dict):
        record.fields = {k: rewrite(v) if isinstance(v, str) else v for k, v in fields.items()}


class Auth:
    """No authentication."""

    name = "none"

    def headers(self) -> dict[str, str]:
        return {}

    def basic(self) -> tuple[str, str] | None:
        return None

    def refresh(self) -> bool:
        """Get fresh credentials after a 401; False when that cannot help."""
        return False

    def secrets(self) -> list[str]:
        """Values that must never appear in a message."""
        return []


@dataclass
class BearerAuth(Auth):
    token: str
    name = "bearer"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def secrets(self) -> list[str]:
        return [self.token]

    def __repr__(self) -> str:  # never print the token
        return "BearerAuth(token=<redacted>)"


@dataclass
class BasicAuth(Auth):
    user: str
    password: str
    name = "basic"

    def basic(self) -> tuple[str, str]:
        return (self.user, self.password)

    def secrets(self) -> list[str]:
        # the header's base64 too: a server or proxy that echoes "Authorization: Basic dXNlcjpwdw=="
        # in an error body gave the password away in logs, the summary and the state (probe37)
        pair = f"{self.user}:{self.password}".encode()
        return [
            self.password,
            base64.b64encode(pair).decode("ascii"),
            base64.b64encode(pair).decode("ascii").rstrip("="),
        ]

    def __repr__(self) -> str:
        return f"BasicAuth(user={self.user!r}, password=<redacted>)"


@dataclass
class _TokenAuth(Auth):
    """Shared token lifecycle of the OAuth2 flows."""

    token_url: str  # "" with discover_from set: found in the server's .well-known/smart-configuration
    client_id: str
    scope: str
    session: requests.Session
    clock: Callable[[], float] = time.time
    _token: str | None = field(default=None, repr=False)
    _expires_at: float = 0.0
    #: the FHIR base whose .well-known/smart-configuration names the token endpoint (when token_url is "")
    discover_from: str = ""
    #: set by FhirClient to its own Transport (one retry budget, one clock); else a private one
    transport: Transport | None = field(default=None, repr=False)
    #: a refresh token the endpoint sent along (unused, but a secret: masked wherever it is echoed)
    _refresh_token: str = field(default="", repr=False)

    def headers(self) -> dict[str, str]:
        if self._token is None or self.clock() >= self._expires_at - EXPIRY_MARGIN:
            self._fetch()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        self._fetch()
        return True

    def secrets(self) -> list[str]:
        return [self._token or "", self._refresh_token]

    def _form(self) -> dict[str, str]:
        raise NotImplementedError

    def _scrub(self, text: str) -> str:
        return scrub_secrets(text, self.secrets())

    def _transport(self) -> Transport:
        if self.transport is None:
            self.transport = Transport(self.session, clock=self.clock)
        return self.transport

    def _fetch(self) -> None:
        try:
            self._fetch_token()
        except PoemsFhirError as exc:
            # a login page's <title>, a discovery answer, an error body: server text that may echo the
            # client secret, masked before any message is built from it (probe80 D1)
            scrub_error(exc, self._scrub)
            raise

    def _fetch_token(self) -> None:
        transport = self._transport()
        if not self.token_url:
            self.token_url = discover_token_url(self.discover_from, self.session, transport)
        url = self.token_url
        reason = unsafe_reason(url)
        if reason:
            raise ConfigError(f"token URL cannot be used: {reason}")
        what = f"token request to {url}"

        def attempt() -> dict[str, object]:
            prepared = transport.session.prepare_request(
                requests.Request("POST", url, data=self._form(), headers={"Accept": "application/json"})
            )
            if unsafe_reason(prepared.url or ""):
                raise ConfigError(f"token URL cannot be used: {unsafe_reason(prepared.url or '')}")
            response = transport.send(prepared, what=what)
            status = response.status_code
            if status in RETRY_STATUSES:
                raise TemporaryNetworkError(
                    f"{what}: HTTP {status} - the token endpoint is down or overloaded (not a credentials problem)",
                    url=url,
                    status=status,
                    retry_after=parse_retry_after(
                        response.headers.get("Retry-After"), transport.clock(), response.headers.get("Date")
                    ),
                )
            if status != 200:
                raise AuthError(
                    f"authentication refused: {what} failed: HTTP {status}: {self._scrub(_oauth_error(response))}; "
                    "check --client-id, the secret/key file and --scope",
                    url=url,
                    status=status,
                )
            try:
                body = response_json(response)
            except ValueError:
                if looks_truncated_json(response):
                    raise TemporaryNetworkError(
                        f"{what}: the JSON body is incomplete - cut short on the way", url=url, status=status
                    ) from None
                raise ConfigError(
                    f"{what} returned {self._scrub(body_summary(response))}, not a token: is --token-url the "
                    "OAuth2 token endpoint?"
                ) from None
            if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
                raise AuthError(f"token endpoint {url} returned no access_token", url=url)
            return body

        body = transport.retrying(attempt, retryable=True, what=what)
        refresh = body.get("refresh_token")
        self._refresh_token = refresh if isinstance(refresh, str) else ""
        problem = token_problem(str(body["access_token"]))
        if problem:
            # probe80 D2: sent in a header, it crashed the run (exit 70) and printed itself on stderr
            raise UnusableTokenError(
                f"authentication failed: {what} returned an access_token that cannot be sent in an "
                f"Authorization header: {problem}; it was not used (nor shown). Check that --token-url is the "
                "OAuth2 token endpoint and ask its operator why it issues such tokens",
                url=url,
            )
        self._token = str(body["access_token"])
        try:
            lifetime = float(body.get("expires_in", 300))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            lifetime = 300.0
        self._expires_at = self.clock() + lifetime


def _oauth_error(response: requests.Response) -> str:
    try:
        body = response_json(response)
    except ValueError:
        return body_summary(response)
    if isinstance(body, dict):
        return str(body.get("error_description") or body.get("error") or body)[:300]
    return str(body)[:300]


@dataclass
class ClientCredentialsAuth(_TokenAuth):
    client_secret: str = field(default="", repr=False)
    name = "client-credentials"

    def secrets(self) -> list[str]:
        return [self._token or "", self.client_secret, self._refresh_token]

    def _form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        if self.scope:
            form["scope"] = self.scope
        return form


@dataclass
class SmartBackendAuth(_TokenAuth):
    """SMART Backend Services: a short-lived JWT signed with our private key proves who we are."""

    key: Any = field(default=None, repr=False)  # a PyJWT-usable private key
    algorithm: str = "RS384"
    kid: str | None = None
    name = "smart-backend"
    #: the last signed client assertion (a bearer credential for its 5 minutes)
    _assertion: str = field(default="", repr=False)
    _key_material: list[str] | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        if self._key_material is None:  # serialised once: secrets() runs for every message
            self._key_material = private_key_material(self.key)
        return [self._token or "", self._refresh_token, self._assertion, *self._key_material]

    def _form(self) -> dict[str, str]:
        import jwt

        now = int(self.clock())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
        }
        headers = {"typ": "JWT", **({"kid": self.kid} if self.kid else {})}
        assertion = jwt.encode(claims, self.key, algorithm=self.algorithm, headers=headers)
        self._assertion = assertion
        return {
            "grant_type": "client_credentials",
            "scope": self.scope or "system/*.read",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }


def private_key_material(key: Any) -> list[str]:
    """The base64 body of ``key`` as unencrypted PKCS#8 PEM (one string, its lines joined): masked like
    any secret where a text would echo it. Empty for anything that is no private key object."""
    from cryptography.hazmat.primitives import serialization

    try:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
    except (AttributeError, TypeError, ValueError):
        return []
    return ["".join(line for line in pem.splitlines() if line and not line.startswith("-----"))]


def load_private_key(path: str | Path) -> tuple[Any, str, str | None]:
    """A PEM private key or a JWKS/JWK file -> (key, algorithm RS384|ES384, kid)."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read private key {path}: {exc.strerror}") from None
    if raw.lstrip().startswith(b"{"):
        data = json.loads(raw)
        keys = data.get("keys", [data])
        private = [k for k in keys if "d" in k]
        if not private:
            raise ConfigError(f"{path}: the JWKS holds no private key (no 'd' member)")
        jwk = private[0]
        alg = jwk.get("alg") or ("RS384" if jwk.get("kty") == "RSA" else "ES384")
        if alg not in ("RS384", "ES384"):
            raise ConfigError(f"{path}: key algorithm {alg} is not allowed; SMART Backend Services uses RS384 or ES384")
        return jwt.PyJWK(jwk, algorithm=alg).key, alg, jwk.get("kid")
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return key, "RS384", None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key, "ES384", None
    raise ConfigError(f"{path}: only RSA (RS384) and EC P-384 (ES384) keys are supported")


def discover_token_url(base_url: str, session: requests.Session, transport: Transport | None = None) -> str:
    """token_endpoint from {base}/.well-known/smart-configuration (retried like any request).

    A server that is down raises TemporaryNetworkError (it is down, not misconfigured); a server
    that answers without a usable token endpoint raises ConfigError (pass --token-url).
    """
    transport = transport or Transport(session)
    url = base_url.rstrip("/") + "/.well-known/smart-configuration"
    reason = unsafe_reason(url)
    if reason:
        raise ConfigError(f"--server cannot be used: {reason}")
    what = f"GET {url}"

    def attempt() -> str:
        prepared = transport.session.prepare_request(
            requests.Request("GET", url, headers={"Accept": "application/json"})
        )
        response = transport.send(prepared, what=what)
        status = response.status_code
        if status in RETRY_STATUSES:
            raise TemporaryNetworkError(
                f"{what}: HTTP {status} - the server is down or overloaded",
                url=url,
                status=status,
                retry_after=parse_retry_after(
                    response.headers.get("Retry-After"), transport.clock(), response.headers.get("Date")
                ),
            )
        if status != 200:
            raise ConfigError(f"could not discover the token endpoint: {what} answered HTTP {status}; pass --token-url")
        try:
            body = response_json(response)
        except ValueError:
            if looks_truncated_json(response):
                raise TemporaryNetworkError(
                    f"{what}: the JSON body is incomplete - cut short on the way", url=url
                ) from None
            raise ConfigError(
                f"could not discover the token endpoint: {what} returned {body_summary(response)}; pass --token-url"
            ) from None
        token_url = body.get("token_endpoint") if isinstance(body, dict) else None
        if not isinstance(token_url, str) or not token_url:
            raise ConfigError(
                f"could not discover the token endpoint: {what} names no token_endpoint; pass --token-url"
            )
        bad = unsafe_reason(token_url)
        if not bad and url.lower().startswith("https:") and not token_url.lower().startswith("https:"):
            bad = "it is not https although the server is (the client secret would travel in clear text)"
        if not bad and not token_url.lower().startswith("https:") and origin(token_url) != origin(url):
            # a plain-http server's answer is no proof of who answered: whoever can answer it would get the
            # secret, in clear text, at a host of its choosing (probe101 A2); the same origin is the server
            bad = (
                "it is plain http on another host than the server (the client secret would travel in clear text "
                "to a host named only by an unauthenticated answer)"
            )
        if bad:
            raise ConfigError(f"the advertised token endpoint cannot be used: {bad}; pass --token-url")
        return token_url

    return transport.retrying(attempt, retryable=True, what=what)
