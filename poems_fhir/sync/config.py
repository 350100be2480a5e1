"""Sync configuration: a TOML file whose keys are the CLI flags, POEMS_FHIR_* environment
variables, then flags - each overriding the one before. Secrets come from files or the environment,
never from a command-line value.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..criteria.profiles import DEFAULT_PROFILE, PROFILES
from ..errors import ConfigError

AuthKind = Literal["none", "bearer", "basic", "client-credentials", "smart-backend"]


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server: str | None = None
    auth: AuthKind = "none"
    token_file: Path | None = None
    client_id: str | None = None
    client_secret_file: Path | None = None
    private_key: Path | None = None
    token_url: str | None = None
    scope: str = ""
    state: Path = Path(".poems-fhir/state.sqlite")
    #: secret of the log pseudonyms (default: pseudonym.key beside the state, created on first run;
    #: or the POEMS_FHIR_PSEUDONYM_KEY environment variable)
    pseudonym_key_file: Path | None = None
    #: runs in which a patient the server answers 404/410 for is tried again after being reported
    retry_missing: int = 0
    patient: list[str] = []
    group: str | None = None
    dry_run: Path | None = None
    format: Literal["text", "json"] = "text"
    log_format: Literal["text", "json"] = "text"
    every: str | None = None
    source: list[Path] = []
    out: Path | None = None
    mappings: list[Path] = []
    profile: str = DEFAULT_PROFILE
    phi: bool = False
    report_status: Literal["partial", "preliminary"] = "partial"
    #: criteria of which at least one must be present for a patient to get reports
    trigger: list[str] = ["polyneuropathy", "monoclonal_plasma_cell_disorder"]

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, v: list[str]) -> list[str]:
        from ..criteria.model import Criterion

        unknown = [c for c in v if c not in {x.value for x in Criterion}]
        if unknown or not v:
            raise ValueError(f"unknown criterion id(s) {unknown}; use ids such as polyneuropathy")
        return v

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        if v not in PROFILES:
            raise ValueError(f"unknown profile {v!r}; choose one of {', '.join(sorted(PROFILES))}")
        return v

    @field_validator("every")
    @classmethod
    def _every(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    def interval(self) -> float | None:
        return parse_duration(self.every) if self.every else None

    def check(self) -> None:
        if not self.server and not self.source:
            raise ConfigError("give --server URL (a FHIR R4 base) or --source DIR (Bundle/NDJSON files)")
        if self.server and self.source:
            raise ConfigError("--server and --source exclude each other")
        if self.source and not (self.out or self.dry_run):
            raise ConfigError("with --source, give --out DIR (or --dry-run DIR) for the transaction bundles")
        if self.auth == "bearer" and not self.token_file and not os.environ.get("POEMS_FHIR_TOKEN"):
            raise ConfigError("--auth bearer needs --token-file FILE or the POEMS_FHIR_TOKEN environment variable")
        if self.auth in ("basic", "client-credentials") and not self.client_id:
            raise ConfigError(f"--auth {self.auth} needs --client-id")
        if self.auth in ("basic", "client-credentials") and not (
                self.client_secret_file or os.environ.get("POEMS_FHIR_CLIENT_SECRET")):
            raise ConfigError(f"--auth {self.auth} needs --client-secret-file FILE or POEMS_FHIR_CLIENT_SECRET")
        if self.auth == "smart-backend" and not (self.client_id and self.private_key):
            raise ConfigError("--auth smart-backend needs --client-id and --private-key FILE (PEM or JWKS)")


_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")


def parse_duration(text: str) -> float:
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 1h or 1d")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


LIST_KEYS = {"patient", "source", "mappings", "trigger"}


def _expand_patient_files(values: list[str]) -> list[str]:
    """--patient @ids.txt reads one patient id (or Patient/ID) per line; # starts a comment."""
    out: list[str] = []
    for value in values:
        if not value.startswith("@"):
            out.append(value)
            continue
        try:
            lines = Path(value[1:]).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read patient list {value[1:]}: {exc.strerror}") from None
        out.extend(line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip())
    return out


def _norm(key: str) -> str:
    return key.replace("-", "_")


def load_settings(config_file: Path | None, flags: dict[str, Any], environ: dict[str, str] | None = None) -> SyncSettings:
    """TOML < environment (POEMS_FHIR_<FLAG>) < flags; unknown TOML keys are errors."""
    environ = dict(os.environ) if environ is None else environ
    merged: dict[str, Any] = {}
    if config_file:
        try:
            merged.update({_norm(k): v for k, v in tomllib.loads(config_file.read_text(encoding="utf-8")).items()})
        except OSError as exc:
            raise ConfigError(f"cannot read --config {config_file}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_file}: invalid TOML: {exc}") from None
    for field_name in SyncSettings.model_fields:
        env = environ.get(f"POEMS_FHIR_{field_name.upper()}")
        if env is not None:
            merged[field_name] = env.split(",") if field_name in LIST_KEYS else env
    for key, value in flags.items():
        if value is None or value == () or value is False:
            continue
        merged[_norm(key)] = list(value) if isinstance(value, tuple) else value
    if "phi" in merged and isinstance(merged["phi"], str):
        merged["phi"] = merged["phi"].lower() in ("1", "true", "yes")
    merged["patient"] = _expand_patient_files(merged.get("patient", []))
    try:
        return SyncSettings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]).replace("_", "-")
        raise ConfigError(f"configuration key {key!r}: {first['msg']}") from None
