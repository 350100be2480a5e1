# SPDX-License-Identifier: Apache-2.0
"""Authentication for the FHIR client: none, bearer, basic, OAuth2 client credentials, and SMART
Backend Services (client_credentials with a signed JWT assertion, RS384/ES384, PEM or JWKS keys).

Tokens are refreshed before they expire and once after a 401 (the client calls ``refresh``).
Secrets come from files or the environment, are never logged and never appear in messages.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from ..errors import AuthError, ConfigError, TemporaryNetworkError

#: refresh this many seconds before a token's expiry, so a request never carries a dying token
EXPIRY_MARGIN = 60


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


@dataclass
class BearerAuth(Auth):
    token: str
    name = "bearer"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def __repr__(self) -> str:  # never print the token
        return "BearerAuth(token=<redacted>)"


@dataclass
class BasicAuth(Auth):
    user: str
    password: str
    name = "basic"

    def basic(self) -> tuple[str, str]:
        return (self.user, self.password)

    def __repr__(self) -> str:
        return f"BasicAuth(user={self.user!r}, password=<redacted>)"


@dataclass
class _TokenAuth(Auth):
    """Shared token lifecycle of the OAuth2 flows."""

    token_url: str
    client_id: str
    scope: str
    session: requests.Session
    clock: Callable[[], float] = time.time
    _token: str | None = field(default=None, repr=False)
    _expires_at: float = 0.0

    def headers(self) -> dict[str, str]:
        if self._token is None or self.clock() >= self._expires_at - EXPIRY_MARGIN:
            self._fetch()
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        self._fetch()
        return True

    def _form(self) -> dict[str, str]:
        raise NotImplementedError

    def _fetch(self) -> None:
        try:
            response = self.session.post(
                self.token_url, data=self._form(), headers={"Accept": "application/json"}, timeout=(10, 30)
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TemporaryNetworkError(f"token endpoint {self.token_url} unreachable: {exc.__class__.__name__}",
                                        url=self.token_url) from None
        if response.status_code != 200:
            raise AuthError(
                f"token request to {self.token_url} failed: HTTP {response.status_code}: "
                f"{_oauth_error(response)}; check --client-id and the secret/key file",
                url=self.token_url, status=response.status_code,
            )
        try:
            body = response.json()
            self._token = body["access_token"]
        except (ValueError, KeyError):
            raise AuthError(f"token endpoint {self.token_url} returned no access_token",
                            url=self.token_url) from None
        self._expires_at = self.clock() + float(body.get("expires_in", 300))


def _oauth_error(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("error_description") or body.get("error") or body)[:300]
    return str(body)[:300]


@dataclass
class ClientCredentialsAuth(_TokenAuth):
    client_secret: str = field(default="", repr=False)
    name = "client-credentials"

    def _form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self.client_secret}
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

    def _form(self) -> dict[str, str]:
        import jwt

        now = int(self.clock())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": self.token_url,
                  "jti": str(uuid.uuid4()), "iat": now, "exp": now + 300}
        headers = {"typ": "JWT", **({"kid": self.kid} if self.kid else {})}
        assertion = jwt.encode(claims, self.key, algorithm=self.algorithm, headers=headers)
        return {
            "grant_type": "client_credentials",
            "scope": self.scope or "system/*.read",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }


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


def discover_token_url(base_url: str, session: requests.Session) -> str:
    """token_endpoint from {base}/.well-known/smart-configuration."""
    url = base_url.rstrip("/") + "/.well-known/smart-configuration"
    try:
        response = session.get(url, headers={"Accept": "application/json"}, timeout=(10, 30))
        response.raise_for_status()
        return str(response.json()["token_endpoint"])
    except (requests.RequestException, ValueError, KeyError):
        raise ConfigError(f"could not discover the token endpoint at {url}; pass --token-url") from None
