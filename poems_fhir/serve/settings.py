# SPDX-License-Identifier: Apache-2.0
"""Settings of `poems-fhir serve`: a TOML file whose keys are the flags, then the flags.

Trusted EHRs are `trust = ["ISSUER=JWKS", ...]` (TOML) or `--trust ISSUER=JWKS` (repeatable), where
JWKS is a JWK Set file or an https URL. Without any trusted issuer the service does not start: a CDS
service that accepts unsigned requests would hand out patient data to anyone who asks.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..criteria.profiles import DEFAULT_PROFILE, get_profile
from ..criteria.scope import DEFAULT_TRIGGER, check_trigger
from ..errors import ConfigError

LANGUAGES = ("en", "ru", "kk")
LIST_KEYS = {"trust", "mappings", "trigger", "cors_origins", "fhir_servers"}


class Trust(BaseModel):
    """One trusted EHR: its JWT issuer and where its public keys are (a JWKS file or URL)."""

    issuer: str
    jwks: str

    @property
    def is_url(self) -> bool:
        return self.jwks.startswith(("https://", "http://"))


def parse_trust(value: str) -> Trust:
    """`ISSUER=JWKS`, split at the first '=' (a JWKS URL may carry a query string; an issuer does not)."""
    issuer, sep, jwks = value.partition("=")
    if not sep or not issuer or not jwks:
        raise ConfigError(
            f"--trust {value!r}: expected ISSUER=JWKS, e.g. "
            "https://ehr.example.org=https://ehr.example.org/.well-known/jwks.json"
        )
    return Trust(issuer=issuer.strip(), jwks=jwks.strip())


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    #: the service's base URL as the EHR reaches it (the JWT audience); default http://HOST:PORT
    public_url: str | None = None
    trust: list[str] = []
    language: Literal["en", "ru", "kk"] = "en"
    mappings: list[Path] = []
    profile: str = DEFAULT_PROFILE
    trigger: list[str] = list(DEFAULT_TRIGGER)
    #: prefetch every Observation of the patient instead of those with mapped codes (unmapped local codes)
    all_observations: bool = False
    #: SQLite file of the feedback endpoint (accepted / overridden cards)
    state: Path = Path(".poems-fhir/serve.sqlite")
    log_format: Literal["text", "json"] = "text"
    #: a request body larger than this is refused with 413
    max_request_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    #: prefetch (or fallback) resources per request; more is refused with 413
    max_prefetch_resources: int = Field(default=20000, ge=10)
    #: evaluations running at once (worker threads); further requests wait in a bounded queue
    concurrency: int = Field(default=4, ge=1, le=64)
    #: requests waiting for a worker; beyond this the service answers 503 with Retry-After
    queue: int = Field(default=32, ge=0)
    #: origins allowed by CORS (browser-based CDS clients); "*" as in the CDS Hooks specification
    cors_origins: list[str] = ["*"]
    #: the FHIR base URLs a hook call's fhirServer may name (the EHRs' own servers); empty: any https URL
    fhir_servers: list[str] = []
    #: seconds for one request to the EHR's fhirServer (the fallback)
    fhir_timeout: float = Field(default=10.0, gt=0, le=120)
    #: a JWT may not expire later than this many seconds from now (bounds the jti replay cache)
    max_token_lifetime: int = Field(default=600, ge=30, le=3600)

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, v: list[str]) -> list[str]:
        return list(check_trigger(v))  # TriggerError is a ValueError: pydantic reports it

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        return get_profile(v).name  # UnknownProfileError is a ValueError: pydantic reports it

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("https://", "http://")):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v.rstrip("/") if v else v

    @field_validator("fhir_servers")
    @classmethod
    def _fhir_servers(cls, v: list[str]) -> list[str]:
        for url in v:
            if not url.startswith(("https://", "http://")) or not urlsplit(url).hostname:
                raise ValueError(
                    f"{url!r} is not an http(s) URL (give the FHIR base, e.g. https://ehr.example.org/fhir)"
                )
        return [fhir_base_key(url) for url in v]

    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    def trusted(self) -> list[Trust]:
        return [parse_trust(t) for t in self.trust]

    def check(self) -> None:
        trusted = self.trusted()
        if not trusted:
            raise ConfigError(
                "give at least one --trust ISSUER=JWKS (or `trust = [...]` in --config): the "
                "service accepts only requests signed by a trusted EHR"
            )
        for t in trusted:
            if not t.is_url and not Path(t.jwks).is_file():
                raise ConfigError(f"--trust {t.issuer}={t.jwks}: no such JWKS file (give a JWK Set file or URL)")
            if t.jwks.startswith("http://"):
                raise ConfigError(
                    f"--trust {t.issuer}={t.jwks}: a JWKS URL must be https (keys over plain "
                    "HTTP can be replaced on the way)"
                )


def fhir_base_key(url: str) -> str:
    """A FHIR base URL as compared with the allowed ones: scheme and host in lower case, the default
    port left out, no trailing slash, no query or fragment (the path keeps its case: servers differ)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    port = parts.port
    netloc = host if port is None or port == {"https": 443, "http": 80}.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _norm(key: str) -> str:
    return key.replace("-", "_")


ENV_PREFIX = "POEMS_FHIR_SERVE_"


def load_serve_settings(
    config_file: Path | None, flags: dict[str, Any], environ: dict[str, str] | None = None
) -> ServeSettings:
    """TOML (keys = flag names) < environment (POEMS_FHIR_SERVE_<KEY>; lists comma-separated) < flags;
    an empty/None flag does not override."""
    environ = dict(os.environ) if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read --config {config_file}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: invalid TOML: {exc}") from None
        known = list(ServeSettings.model_fields)
        for key, value in data.items():
            name = _norm(key)
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" - did you mean {close[0].replace('_', '-')!r}?" if close else ""
                raise ConfigError(
                    f"{config_file}: unknown key {key!r}{hint} (the keys are the `poems-fhir serve` flag names)"
                )
            if name in LIST_KEYS and not isinstance(value, list):
                raise ConfigError(f'{config_file}: {key!r} must be a list, e.g. {key} = ["..."]')
            values[name] = value
    for name in ServeSettings.model_fields:
        env = environ.get(f"{ENV_PREFIX}{name.upper()}")
        if env is not None:
            values[name] = [v.strip() for v in env.split(",") if v.strip()] if name in LIST_KEYS else env
    for key, value in flags.items():
        if value is None or value == () or value == []:
            continue
        values[key] = list(value) if isinstance(value, tuple) else value
    try:
        settings = ServeSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"serve settings: {problems}") from None
    settings.check()
    return settings
