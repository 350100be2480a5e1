# SPDX-License-Identifier: Apache-2.0
"""The EHR's JWT, checked as the CDS Hooks specification asks (2.0, "Trusting CDS Clients").

- the issuer (`iss`) is on the allowlist (`--trust ISSUER=JWKS`);
- the key comes from that issuer's configured JWK Set (a file, or an https URL fetched with a size and
  time limit, no redirect followed, and cached); a `jku` header must name exactly that URL (the jku allowlist) - we never
  fetch a key from a URL the token itself proposes; with a JWKS file, keys come from the file only;
- `alg` is ES384 or RS384 (the algorithms the specification names), `kid` picks the key;
- `aud` is this service's endpoint URL; `exp`, `iat` and `jti` are required (the specification's
  required claims; `sub`, the client id, is optional there and so here); `exp` is checked
  against an injected clock, and not more than `max_lifetime` seconds ahead;
- a `jti` seen before (until its token expires) is a replay and refused.

Every refusal is a TokenRejected with a reason for the log (never the token); the caller answers 401.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from ..errors import ConfigError
from .settings import Trust

ALGORITHMS = ("ES384", "RS384")
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
#: clock skew tolerated between the EHR and us
LEEWAY = 30


class TokenRejected(Exception):
    """The request's JWT is missing or not acceptable; the message is the reason (safe to log)."""


class KeySource:
    """The public keys of one trusted issuer."""

    url: str | None = None

    def key(self, kid: str) -> Any:
        raise NotImplementedError


@dataclass
class FileKeys(KeySource):
    path: Path

    def __post_init__(self) -> None:
        self._set = jwt.PyJWKSet.from_json(self.path.read_text(encoding="utf-8"))

    def key(self, kid: str) -> Any:
        for k in self._set.keys:
            if k.key_id == kid:
                return k.key
        raise TokenRejected(f"no key {kid[:64]!r} in the issuer's JWKS file")


#: an unknown `kid` refetches the JWKS at most this often (a forged token cannot make us hammer the EHR)
MIN_REFETCH = 60.0


#: a JWK Set is a few keys (a few KB): anything past this is no JWKS, and is not read on (probe44: a
#: 300 MB answer was read whole, the process grew by 300 MB)
MAX_JWKS_BYTES = 1 << 20


@dataclass
class JwksFetcher:
    """GET the issuer's JWK Set: no redirect followed, ``timeout`` seconds in all, at most MAX_JWKS_BYTES;
    whatever is wrong with the answer (a status, an HTML page, not a JWK Set) is a PyJWKClientError, so
    the token is refused with 401 and a reason - never a 500 (probe44: a non-JSON answer gave 500)."""

    url: str
    timeout: float = 5.0
    clock: Callable[[], float] = time.monotonic

    def get_jwk_set(self, refresh: bool = True) -> jwt.PyJWKSet:
        import requests

        ends = self.clock() + self.timeout
        try:
            with requests.get(
                self.url,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
                headers={"Accept": "application/json"},
            ) as response:
                if response.status_code != 200:
                    raise jwt.PyJWKClientError(f"HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise jwt.PyJWKClientError(f"the answer is larger than {MAX_JWKS_BYTES // 1024} KiB")
                    if self.clock() > ends:
                        raise jwt.PyJWKClientError(f"the answer took longer than {self.timeout:g} s")
        except requests.RequestException as exc:
            raise jwt.PyJWKClientError(exc.__class__.__name__) from None
        try:
            return jwt.PyJWKSet.from_json(body.decode("utf-8"))
        except (
            ValueError,
            TypeError,
            AttributeError,
            KeyError,
            jwt.PyJWKSetError,
            jwt.PyJWKError,
            jwt.InvalidKeyError,
        ) as exc:
            raise jwt.PyJWKClientError(f"not a JWK Set ({exc.__class__.__name__})") from None


@dataclass
class UrlKeys(KeySource):
    url: str  # type: ignore[assignment]
    timeout: float = 5.0
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._client = JwksFetcher(self.url, self.timeout)
        self._keys: dict[str, Any] = {}
        self._fetched: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        with self._lock:
            stale = self._fetched is None or self.clock() - self._fetched >= MIN_REFETCH
            if kid not in self._keys and stale:  # first use, or key rotation at the EHR
                self._fetched = self.clock()
                try:
                    found = self._client.get_jwk_set(refresh=True)
                except jwt.PyJWKClientError as exc:
                    raise TokenRejected(f"the issuer's JWKS URL could not be read: {exc}") from None
                self._keys = {k.key_id: k.key for k in found.keys if k.key_id}
            if kid not in self._keys:
                raise TokenRejected(f"no key {kid[:64]!r} at the issuer's JWKS URL")
            return self._keys[kid]


def key_source(trust: Trust) -> KeySource:
    """The issuer's keys; a JWKS file that cannot be used is a configuration error at start."""
    if trust.is_url:
        return UrlKeys(trust.jwks)
    try:
        return FileKeys(Path(trust.jwks))
    except (OSError, UnicodeDecodeError, ValueError, jwt.PyJWTError) as exc:
        raise ConfigError(
            f"--trust {trust.issuer}={trust.jwks}: not a usable JWK Set file "
            f"({exc.__class__.__name__}: {exc}); give the EHR's public keys as a JWKS"
        ) from None


@dataclass
class ReplayGuard:
    """jti values seen, kept until their token expires (then a replay would fail on `exp` anyway)."""

    limit: int = 200_000
    _seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check_and_remember(self, iss: str, jti: str, exp: float, now: float) -> None:
        with self._lock:
            if len(self._seen) >= self.limit:
                self._seen = {k: v for k, v in self._seen.items() if v + LEEWAY >= now}
                if len(self._seen) >= self.limit:
                    raise TokenRejected("too many live tokens to guard against replay: try again shortly")
            if (iss, jti) in self._seen:
                raise TokenRejected("jti already used (replayed token)")
            self._seen[(iss, jti)] = exp


@dataclass
class Verifier:
    sources: dict[str, KeySource]
    max_lifetime: int = 600
    clock: Callable[[], float] = time.time
    replay: ReplayGuard = field(default_factory=ReplayGuard)

    @classmethod
    def from_trust(
        cls, trusted: Iterable[Trust], max_lifetime: int = 600, clock: Callable[[], float] = time.time
    ) -> Verifier:
        return cls({t.issuer: key_source(t) for t in trusted}, max_lifetime, clock)

    def verify(self, authorization: str | None, audiences: list[str]) -> dict[str, Any]:
        """The claims of a valid `Authorization: Bearer JWT`; TokenRejected otherwise."""
        # the scheme name is case-insensitive (RFC 7235 §2.1): "bearer", "BEARER" are Bearer
        if not authorization or authorization[:7].lower() != "bearer ":
            raise TokenRejected("no Bearer JWT in the Authorization header")
        token = authorization[len("Bearer ") :].strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"not a JWT: {exc.__class__.__name__}") from None
        iss = unverified.get("iss")
        if not isinstance(iss, str) or iss not in self.sources:
            raise TokenRejected("issuer not trusted" if isinstance(iss, str) else "no iss claim")
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise TokenRejected(f"algorithm {str(alg)[:32]!r} not accepted (ES384 or RS384)")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("no kid in the JWT header")
        source = self.sources[iss]
        jku = header.get("jku")
        if jku is not None and source.url is not None and jku != source.url:
            raise TokenRejected("jku is not the issuer's configured JWKS URL")
        key = source.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audiences,
                issuer=iss,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError:
            raise TokenRejected("aud is not this service's endpoint") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(f"claim {exc.claim!r} missing") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"signature or claims invalid: {exc.__class__.__name__}") from None
        except (TypeError, ValueError):  # the kid names a key of another type than alg (an RSA key for ES384)
            raise TokenRejected(f"the key {kid[:64]!r} is not a key for {alg}") from None
        now = self.clock()
        exp, iat = claims["exp"], claims["iat"]
        if not isinstance(exp, (int, float)) or not isinstance(iat, (int, float)):
            raise TokenRejected("exp and iat must be numbers")
        if exp + LEEWAY < now:
            raise TokenRejected("token expired")
        if iat - LEEWAY > now:
            raise TokenRejected("token issued in the future")
        if exp - now > self.max_lifetime + LEEWAY or exp - iat > self.max_lifetime + LEEWAY:
            # both: a token issued long ago with a late exp was made to live longer than allowed
            raise TokenRejected(f"token valid for more than {self.max_lifetime} s")
        nbf = claims.get("nbf")
        if nbf is not None and (not isinstance(nbf, (int, float)) or isinstance(nbf, bool) or nbf - LEEWAY > now):
            raise TokenRejected("token not valid yet (nbf)")
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise TokenRejected("jti must be a non-empty string")
        self.replay.check_and_remember(iss, claims["jti"], float(exp), now)
        return claims
