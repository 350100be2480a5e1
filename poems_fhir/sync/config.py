# SPDX-License-Identifier: Apache-2.0
"""Sync configuration: a TOML file whose keys are the CLI flags, POEMS_FHIR_* environment
variables, then flags - each overriding the one before. Secrets come from files or the environment,
never from a command-line value.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..criteria.profiles import DEFAULT_PROFILE, get_profile
from ..criteria.scope import DEFAULT_TRIGGER, check_trigger
from ..errors import ConfigError
from ..fhir.ids import FHIR_ID

AuthKind = Literal["none", "bearer", "basic", "client-credentials", "smart-backend"]
#: the FHIR id datatype (R4 §2.24.0.1), without the dot segments "." and ".." (fhir/ids.py)
_FHIR_ID = re.compile(FHIR_ID)


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
    #: one HTTP exchange (connect to last byte) and one whole run: durations like 30s, 5m, 6h
    request_deadline: str = "5m"
    run_deadline: str = "6h"
    source: list[Path] = []
    out: Path | None = None
    mappings: list[Path] = []
    profile: str = DEFAULT_PROFILE
    phi: bool = False
    report_status: Literal["partial", "preliminary"] = "partial"
    #: criteria of which at least one must be present for a patient to be in scope (get reports);
    #: the one definition is criteria/scope.py
    trigger: list[str] = list(DEFAULT_TRIGGER)
    #: Prometheus text file written after each run (node exporter textfile collector)
    metrics_file: Path | None = None
    #: --every mode: serve /metrics and /healthz on 127.0.0.1:PORT
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    #: language of the clinician-facing texts written back (a catalog in poems_fhir/locale)
    language: str = "en"
    #: Bulk Data $export as the source (fhir/bulk.py): system | patient | group:ID
    bulk: str | None = None
    #: the export's work folder (default: bulk-export beside the state file)
    bulk_dir: Path | None = None
    #: abandon an unfinished export of the work folder (or one whose status URL is gone) and start anew
    bulk_restart: bool = False
    #: ask for Observations of the mapped codes only (_typeFilter; the server must support it)
    bulk_type_filter: bool = False
    #: parallel downloads
    bulk_parallel: int = Field(default=4, ge=1, le=64)
    #: read every Observation of a patient, not only those of the mapped codes (results known by display
    #: text only, which the file reader reads too)
    all_observations: bool = False

    @field_validator("bulk")
    @classmethod
    def _bulk(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(rf"system|patient|group:{FHIR_ID}", v):
            raise ValueError(f"{v!r}: give system, patient or group:ID (a FHIR id: letters, digits, '-' and '.')")
        return v

    @field_validator("patient")
    @classmethod
    def _patient(cls, v: list[str]) -> list[str]:
        # an id goes into request paths (Patient/ID) and search values, where "/", "?" or ","
        # would change what is asked for: only the FHIR id syntax passes
        for value in v:
            if not _FHIR_ID.fullmatch(value.removeprefix("Patient/")):
                raise ValueError(
                    f"{value[:80]!r} is not a patient id: give ID or Patient/ID, where ID is a FHIR id "
                    "(1-64 letters, digits, '-' and '.')"
                )
        return v

    @field_validator("group")
    @classmethod
    def _group(cls, v: str | None) -> str | None:
        if v is not None and not _FHIR_ID.fullmatch(v):
            raise ValueError(f"{v[:80]!r} is not a Group id (a FHIR id: 1-64 letters, digits, '-' and '.')")
        return v

    #: worker processes evaluating patients ahead of the writer (file source); 0 or "auto": every core
    workers: int = Field(default=0, ge=0)

    @field_validator("workers", mode="before")
    @classmethod
    def _workers(cls, v: Any) -> Any:
        return 0 if isinstance(v, str) and v.strip().lower() == "auto" else v

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        from ..i18n import UnknownLanguageError, translator

        try:
            return translator(v).language
        except UnknownLanguageError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, v: list[str]) -> list[str]:
        return list(check_trigger(v))  # TriggerError is a ValueError: pydantic reports it

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        return get_profile(v).name  # UnknownProfileError is a ValueError: pydantic reports it

    @field_validator("every")
    @classmethod
    def _every(cls, v: str | None) -> str | None:
        if v is not None:
            seconds = parse_duration(v)
            if not MIN_EVERY <= seconds <= MAX_EVERY:
                raise ValueError(
                    f"{v!r} is outside {MIN_EVERY:.0f}s .. {MAX_EVERY // 86400:.0f}d: a shorter interval "
                    "hammers the server, a longer one belongs in a timer or CronJob (run without --every)"
                )
        return v

    @field_validator("request_deadline", "run_deadline")
    @classmethod
    def _deadline(cls, v: str) -> str:
        if parse_duration(v) < 1:
            raise ValueError(f"{v!r}: a deadline must be at least 1s")
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
        if self.bulk and not self.server:
            raise ConfigError("--bulk exports from a server: give --server URL (a FHIR R4 base)")
        if self.bulk and self.group:
            raise ConfigError("--bulk and --group exclude each other: use --bulk group:ID")
        if self.bulk_restart and not self.bulk:
            # probe55: accepted and ignored, so an operator believed a new export had been started
            raise ConfigError("--bulk-restart starts a new bulk export: it needs --bulk system|patient|group:ID")
        if self.auth == "bearer" and not self.token_file and not os.environ.get("POEMS_FHIR_TOKEN"):
            raise ConfigError("--auth bearer needs --token-file FILE or the POEMS_FHIR_TOKEN environment variable")
        if self.auth in ("basic", "client-credentials") and not self.client_id:
            raise ConfigError(f"--auth {self.auth} needs --client-id")
        if self.auth in ("basic", "client-credentials") and not (
            self.client_secret_file or os.environ.get("POEMS_FHIR_CLIENT_SECRET")
        ):
            raise ConfigError(f"--auth {self.auth} needs --client-secret-file FILE or POEMS_FHIR_CLIENT_SECRET")
        if self.metrics_port and not self.every:
            raise ConfigError(
                "--metrics-port serves /metrics and /healthz in --every mode only; for a one-shot "
                "run use --metrics-file FILE.prom (node exporter textfile collector)"
            )
        if self.metrics_file and self.metrics_file.suffix != ".prom":
            raise ConfigError(
                f"--metrics-file {self.metrics_file}: the node exporter's textfile collector reads "
                "only *.prom files; name it e.g. poems_fhir.prom"
            )
        if self.auth == "smart-backend" and not (self.client_id and self.private_key):
            raise ConfigError("--auth smart-backend needs --client-id and --private-key FILE (PEM or JWKS)")


_DURATION = re.compile(r"^(\d{1,9})\s*(s|m|h|d)$")
#: --every bounds: the loop is for minutes to days
MIN_EVERY, MAX_EVERY = 10.0, 7 * 86400.0


def parse_duration(text: str) -> float:
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 1h or 1d")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


LIST_KEYS = {"patient", "source", "mappings", "trigger"}

#: keys that would put a secret value in the file: refused, with where the secret goes instead
SECRET_KEYS = {
    "token": 'token-file = "/run/secrets/token" (or the POEMS_FHIR_TOKEN environment variable)',
    "access-token": 'token-file = "/run/secrets/token" (or the POEMS_FHIR_TOKEN environment variable)',
    "bearer-token": 'token-file = "/run/secrets/token" (or the POEMS_FHIR_TOKEN environment variable)',
    "client-secret": 'client-secret-file = "/run/secrets/client-secret" (or POEMS_FHIR_CLIENT_SECRET)',
    "secret": 'client-secret-file = "/run/secrets/client-secret" (or POEMS_FHIR_CLIENT_SECRET)',
    "password": 'client-secret-file = "/run/secrets/password" (or POEMS_FHIR_CLIENT_SECRET)',
    "private-key-pem": 'private-key = "/run/secrets/poems-fhir.pem" (a PEM or JWKS file)',
}
SECRET_ADVICE = "secrets only from files or env"  # noqa: S105 - advice text, not a password


def flag_name(field_name: str) -> str:
    return field_name.replace("_", "-")


KNOWN_KEYS = [flag_name(f) for f in SyncSettings.model_fields]


def did_you_mean(key: str, known: list[str] | None = None) -> str:
    close = difflib.get_close_matches(key.replace("_", "-").lower(), known or KNOWN_KEYS, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _decode(data: bytes, what: str) -> str:
    """UTF-8 (a BOM is allowed); anything else names the line and how to convert it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{what}: line {line}: not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8, "
            f"e.g. `iconv -f latin1 -t utf-8`"
        ) from None


def _expand_patient_files(values: list[str]) -> list[str]:
    """--patient @ids.txt reads one patient id (or Patient/ID) per line; # starts a comment."""
    out: list[str] = []
    for value in values:
        if not value.startswith("@"):
            out.append(value)
            continue
        path = Path(value[1:])
        try:
            if path.exists() and not path.is_file():
                raise IsADirectoryError(21, "not a regular file")
            lines = _decode(path.read_bytes(), f"patient list {path}").split("\n")
        except OSError as exc:
            raise ConfigError(f"cannot read patient list {path}: {exc.strerror}") from None
        out.extend(line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip())
    return out


def _norm(key: str) -> str:
    return key.replace("-", "_")


def _key_lines(text: str) -> dict[str, int]:
    """Line of each top-level `key = ...` (tomllib keeps no positions)."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if line.lstrip().startswith("["):
            break  # a table starts: top-level keys end here
        m = re.match(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=""", line)
        if m:
            lines.setdefault(m.group(1) or m.group(2) or m.group(3), number)
    return lines


def read_toml(config_file: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The TOML's keys (normalised) and where each came from ("FILE line N"); ConfigError otherwise.

    Unknown keys (with a suggestion), secrets, tables and list keys given as a string are refused here,
    with the file and line."""
    try:
        if config_file.exists() and not config_file.is_file():
            raise IsADirectoryError(21, "not a regular file")
        text = _decode(config_file.read_bytes(), str(config_file))
    except OSError as exc:
        raise ConfigError(f"cannot read --config {config_file}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_file}: invalid TOML: {exc}") from None
    lines = _key_lines(text)
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key, value in data.items():
        where = f"{config_file} line {lines[key]}" if key in lines else str(config_file)
        if key.lower() in SECRET_KEYS or key.lower().replace("_", "-") in SECRET_KEYS:
            raise ConfigError(
                f"{where}: {key!r} would put a secret in the configuration file: "
                f"{SECRET_ADVICE} - use {SECRET_KEYS[key.lower().replace('_', '-')]}"
            )
        if _norm(key) not in SyncSettings.model_fields:
            raise ConfigError(
                f"{where}: unknown key {key!r}{did_you_mean(key)} (the keys are the `poems-fhir sync` flag names)"
            )
        if isinstance(value, str) and "-----BEGIN" in value:
            raise ConfigError(
                f"{where}: {key!r} holds key material: {SECRET_ADVICE} - give the path of a PEM or JWKS file instead"
            )
        if _norm(key) in LIST_KEYS and not isinstance(value, list):
            example = json_list(value)
            raise ConfigError(f"{where}: {key!r} must be a list, e.g. {key} = {example}")
        if isinstance(value, dict):
            raise ConfigError(f"{where}: {key!r} is a table; give a plain value (see `poems-fhir sync --help`)")
        values[_norm(key)] = value
        origin[_norm(key)] = where
    return values, origin


def json_list(value: Any) -> str:
    import json

    return json.dumps([value] if isinstance(value, (str, int, float)) else ["..."], ensure_ascii=False)


def load_settings(
    config_file: Path | None,
    flags: dict[str, Any],
    environ: dict[str, str] | None = None,
    flag_names: dict[str, str] | None = None,
) -> SyncSettings:
    """TOML < environment (POEMS_FHIR_<FLAG>) < flags; unknown TOML keys are errors.

    Every error names where the value came from: the file and line, the environment variable or the flag
    (``flag_names``: a command's own spelling of a flag, e.g. `export --parallel` for `bulk_parallel`)."""
    environ = dict(os.environ) if environ is None else environ
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if config_file:
        merged, origin = read_toml(config_file)
    for field_name in SyncSettings.model_fields:
        env = environ.get(f"POEMS_FHIR_{field_name.upper()}")
        if env is not None:
            merged[field_name] = [v.strip() for v in env.split(",") if v.strip()] if field_name in LIST_KEYS else env
            origin[field_name] = f"environment variable POEMS_FHIR_{field_name.upper()}"
    for key, value in flags.items():
        if value is None or value == () or value is False:
            continue
        merged[_norm(key)] = list(value) if isinstance(value, tuple) else value
        origin[_norm(key)] = f"flag --{(flag_names or {}).get(_norm(key)) or flag_name(_norm(key))}"
    # a switch given as text (an environment variable, a quoted TOML value) is read by pydantic's boolean
    # rules - true/false, yes/no, on/off, 1/0 - and anything else is an error with its origin: it was
    # read as false ("yes please" ran without --phi)
    patients = merged.get("patient", [])
    if isinstance(patients, list) and all(isinstance(p, str) for p in patients):
        merged["patient"] = _expand_patient_files(patients)
    try:
        return SyncSettings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        key = ".".join(str(p) for p in first["loc"]).replace("_", "-")
        where = origin.get(field, "configuration")
        value = merged.get(field)
        msg = str(first["msg"])
        shown = (
            ""
            if value is None or msg.startswith("Value error") or field in ("token_file", "client_secret_file")
            else f" (got {value!r})"
        )
        raise ConfigError(f"{where}: key {key!r}: {msg.removeprefix('Value error, ')}{shown}") from None
