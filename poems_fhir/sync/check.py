# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir config check`: is this configuration ready for its first run? A checklist.

Offline: the settings (TOML, environment, flags), the secrets files, the mapping files, the state,
source and metrics paths. With --online: the server's CapabilityStatement, the token, a search per
resource type the job reads, and - from the CapabilityStatement, without writing anything - the
write interactions the job needs. Nothing is written to the server or to the state.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import requests

from ..errors import EXIT_OK, EXIT_SERVER, EXIT_USAGE, NetworkError, PoemsFhirError
from ..fhir.capabilities import parse_capabilities
from .permissions import READ_TYPES, WRITE_TYPES, scopes as run_scopes
from ..mapping.rules import MappingError, load_mapping
from .config import SyncSettings, load_settings

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    online: bool = False


@dataclass
class Checklist:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str, online: bool = False) -> Check:
        check = Check(name, status, detail, online)
        self.checks.append(check)
        return check

    @property
    def exit_code(self) -> int:
        """0 ready (warnings allowed); 2 a local problem (configuration, secrets, mappings, paths);
        3 the configuration is fine but the server check failed."""
        failed = [c for c in self.checks if c.status == "fail"]
        if any(not c.online for c in failed):
            return EXIT_USAGE
        return EXIT_SERVER if failed else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == EXIT_OK,
            "exit_code": self.exit_code,
            "checks": [asdict(c) for c in self.checks],
        }


#: the resource types the job searches (cohort discovery, per-patient reads, ownership of our resources)
SEARCHED = READ_TYPES


def check_config(
    config_file: Path | None,
    flags: dict[str, Any],
    *,
    online: bool = False,
    environ: dict[str, str] | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Checklist:
    out = Checklist()
    try:
        settings = load_settings(config_file, flags, environ)
        settings.check()
    except PoemsFhirError as exc:
        out.add("configuration", "fail", str(exc))
        return out
    out.add(
        "configuration",
        "ok",
        f"{config_file or 'no file'}: "
        + (
            f"server {settings.server}, auth {settings.auth}"
            if settings.server
            else f"files {', '.join(map(str, settings.source))}"
        ),
    )
    secrets_ok = _check_secrets(settings, out, environ if environ is not None else dict(os.environ))
    _check_mappings(settings, out)
    _check_paths(settings, out)
    _check_scopes(settings, out)
    if online:
        if not settings.server:
            out.add("server", "skip", "--source mode: there is no server to check", online=True)
        elif not secrets_ok:
            out.add("server", "skip", "fix the secrets first", online=True)
        else:
            _check_online(settings, out, session or requests.Session(), sleep)
    return out


def _secret_files(s: SyncSettings) -> list[tuple[str, Path | None, str | None]]:
    """(what, file, environment variable that may stand in for it)"""
    if s.auth == "bearer":
        return [("token", s.token_file, "POEMS_FHIR_TOKEN")]
    if s.auth in ("basic", "client-credentials"):
        return [("client secret", s.client_secret_file, "POEMS_FHIR_CLIENT_SECRET")]
    if s.auth == "smart-backend":
        return [("private key", s.private_key, None)]
    return []


def _secret_problem(s: SyncSettings, what: str, value: str) -> str | None:
    """What makes a token or secret unusable as it will be sent (sync/runner.py refuses it alike)."""
    from ..fhir.auth import password_problem, secret_line_problem, token_problem

    if what == "token":
        return token_problem(value)
    return password_problem(value) if s.auth == "basic" else secret_line_problem(value)


def _check_secrets(s: SyncSettings, out: Checklist, environ: dict[str, str]) -> bool:
    ok = True
    for what, path, env in _secret_files(s):
        if path is None:
            value = environ.get(env, "").strip() if env else ""
            why = _secret_problem(s, what, value) if value else None
            if why:
                out.add(
                    f"secret: {what}", "fail", f"the {what} in {env} cannot be used: {why} (the value is not shown)"
                )
                ok = False
            elif value:
                out.add(f"secret: {what}", "ok", f"from the environment variable {env}")
            else:
                out.add(f"secret: {what}", "fail", f"no {what}: give its file, or set {env}")
                ok = False
            continue
        try:
            if path.exists() and not path.is_file():
                raise IsADirectoryError(21, "not a regular file")
            mode = path.stat().st_mode
            content = path.read_bytes()
        except OSError as exc:
            out.add(f"secret: {what}", "fail", f"cannot read {path}: {exc.strerror}")
            ok = False
            continue
        if not content.strip():
            out.add(f"secret: {what}", "fail", f"{path} is empty")
            ok = False
            continue
        if what == "private key":
            from ..fhir.auth import load_private_key

            try:
                _, alg, kid = load_private_key(path)
            except Exception as exc:  # noqa: BLE001 - any unusable key file is reported, not raised
                out.add(f"secret: {what}", "fail", f"{path}: not a usable PEM or JWKS key ({type(exc).__name__})")
                ok = False
                continue
            detail = f"{path}: {alg}" + (f", kid {kid}" if kid else "")
        else:
            why = _secret_problem(s, what, content.decode("utf-8", "replace").strip())
            if why:
                # probe80 D2: a token file of two lines crashed `config check --online` (exit 70) with both
                out.add(f"secret: {what}", "fail", f"{path} cannot be used: {why}; write the {what} alone on one line")
                ok = False
                continue
            detail = f"{path} ({len(content.strip())} bytes; the value is never shown)"
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            out.add(
                f"secret: {what}",
                "warn",
                f"{detail}; readable by group/others (mode {stat.filemode(mode)}): "
                "chmod 600 it, or use systemd LoadCredential= / a Kubernetes Secret",
            )
        else:
            out.add(f"secret: {what}", "ok", detail)
    return ok


def _check_mappings(s: SyncSettings, out: Checklist) -> None:
    from .runner import unverified_in_force

    try:
        compiled = load_mapping([str(p) for p in s.mappings])
    except MappingError as exc:
        out.add(
            "mappings",
            "fail",
            f"{len(exc.problems)} problem(s), first: {exc.problems[0]}; run `poems-fhir mappings check FILE` for all",
        )
        return
    except OSError as exc:
        out.add("mappings", "fail", f"cannot read a mapping file: {exc}")
        return
    names = ", ".join(f"{m['name']} {m['version']}" for m in compiled.identity)
    out.add("mappings", "ok", names)
    unverified = unverified_in_force(compiled)
    if unverified:
        out.add(
            "mappings: UNVERIFIED",
            "warn",
            f"{len(unverified)} codes/thresholds marked UNVERIFIED are in force; "
            "confirm them for your site (`poems-fhir mappings check` lists them)",
        )


def _writable_dir(path: Path) -> tuple[bool, str]:
    """The nearest existing ancestor must be a writable folder (the job creates the rest)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return False, f"{parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return False, f"{parent} is not writable by this user"
    return True, ""


def _check_paths(s: SyncSettings, out: Checklist) -> None:
    if s.state.exists() and not s.state.is_file():
        out.add(
            "state", "fail", f"{s.state} is not a file: give --state a file path, e.g. /var/lib/poems-fhir/state.sqlite"
        )
    else:
        ok, why = _writable_dir(s.state)
        if not ok:
            out.add("state", "fail", f"{s.state}: {why}")
        elif s.state.exists():
            out.add("state", "ok", f"{s.state} (exists; keep it: it holds checkpoints and what was written)")
        else:
            out.add(
                "state",
                "warn",
                f"{s.state} does not exist yet: the first run creates it and starts from "
                "the beginning; it must persist between runs (a volume, StateDirectory=)",
            )
    for src in s.source:
        out.add(
            f"source {src}", "ok" if src.exists() else "fail", "readable" if src.exists() else "no such file or folder"
        )
    for label, target in (("output folder", s.out or s.dry_run), ("metrics file", s.metrics_file)):
        if target is not None:
            ok, why = _writable_dir(target / "x" if label == "output folder" else target)
            out.add(label, "ok" if ok else "fail", str(target) if ok else f"{target}: {why}")


def _check_online(
    s: SyncSettings, out: Checklist, session: requests.Session, sleep: Callable[[float], None] | None
) -> None:
    from ..errors import AuthError
    from ..fhir.client import FhirClient, RetryPolicy
    from .runner import build_auth

    # a check answers quickly: two tries, short waits
    retry = RetryPolicy(attempts=2, base_delay=1.0, max_delay=5.0, max_retry_after=10.0, budget=10)
    wait = sleep or time.sleep
    statement: Any = None
    try:
        # without credentials first, as token discovery does; some servers want them for metadata too
        statement = FhirClient(s.server or "", session=session, retry=retry, sleep=wait).get("metadata")
    except AuthError:
        pass
    except NetworkError as exc:
        out.add("server", "fail", str(exc), online=True)
        return
    try:
        auth = build_auth(s, session)
        auth.headers()  # obtains a token for the OAuth flows
    except (NetworkError, PoemsFhirError) as exc:
        out.add("token", "fail", str(exc), online=True)
        return
    client = FhirClient(s.server or "", auth, session=session, retry=retry, sleep=wait)
    try:
        with client.redacting():  # fhirVersion or resourceType quoted in the error (probe80 D1)
            if statement is None:
                statement = client.get("metadata")
            caps = parse_capabilities(statement)
    except NetworkError as exc:
        out.add("server", "fail", str(exc), online=True)
        return
    software = (statement.get("software") or {}) if isinstance(statement, dict) else {}
    out.add(
        "server",
        "ok",
        f"{client.base_url}: FHIR {caps.fhir_version}"
        + (f", {software.get('name')} {software.get('version', '')}".rstrip() if software.get("name") else "")
        + f"; incremental={caps.incremental}, writes={caps.write_mode}",
        online=True,
    )
    for note in caps.notes:
        out.add("server: capability", "warn", note, online=True)
    out.add(
        "token",
        "ok" if s.auth != "none" else "skip",
        {
            "none": "--auth none: no credentials",
            "bearer": "static token (checked by the searches below)",
            "basic": "Basic credentials (checked by the searches below)",
        }.get(s.auth, "token obtained"),
        online=True,
    )
    for rtype in SEARCHED:
        try:
            bundle = client.get(rtype, {"_count": "1", "_summary": "count"})
        except NetworkError as exc:
            out.add(f"search {rtype}", "fail", str(exc), online=True)
            continue
        total = bundle.get("total") if isinstance(bundle, dict) else None
        out.add(
            f"search {rtype}", "ok", f"allowed ({total} resources)" if total is not None else "allowed", online=True
        )
    _check_writes(statement, caps.transaction, out)


def _check_writes(statement: dict[str, Any], transaction: bool, out: Checklist) -> None:
    """Write permissions cannot be probed without writing: read them from the CapabilityStatement."""
    rest = next((r for r in statement.get("rest", []) if isinstance(r, dict) and r.get("mode") == "server"), {})
    resources = {r.get("type"): r for r in rest.get("resource", []) if isinstance(r, dict)}
    for rtype in WRITE_TYPES:
        resource = resources.get(rtype)
        if resource is None:
            out.add(
                f"write {rtype}",
                "fail",
                "not in the CapabilityStatement: the server does not offer this type",
                online=True,
            )
            continue
        interactions = {str(i.get("code")) for i in resource.get("interaction", []) if isinstance(i, dict)}
        if not interactions:
            out.add(
                f"write {rtype}",
                "warn",
                "the CapabilityStatement lists no interactions; the first run will tell",
                online=True,
            )
        elif "update" in interactions or "create" in interactions:
            how = "update" if "update" in interactions else "create"
            cond = ", conditional update" if resource.get("conditionalUpdate") else ""
            out.add(
                f"write {rtype}",
                "ok",
                f"{how}{cond} advertised" + (", in a transaction" if transaction else ""),
                online=True,
            )
        else:
            out.add(
                f"write {rtype}",
                "fail",
                f"neither create nor update advertised ({', '.join(sorted(interactions))})",
                online=True,
            )


def _check_scopes(s: SyncSettings, out: Checklist) -> None:
    """The requested SMART scopes must cover what the job reads and writes (v1 .read/.write, v2 .rs/.cu)."""
    if s.auth not in ("client-credentials", "smart-backend") or not s.scope.strip():
        return
    scopes = s.scope.split()

    def covers(rtype: str, need: str) -> bool:
        for sc in scopes:
            context, _, rest = sc.partition("/")
            res, _, perm = rest.partition(".")
            if context not in ("system", "user", "patient") or res not in (rtype, "*"):
                continue
            if perm in ("*", need):  # SMART v1: read, write, *
                return True
            if perm and set(perm) <= set("cruds"):  # SMART v2: c r u d s
                if (need == "read" and "r" in perm) or (need == "write" and ("c" in perm or "u" in perm)):
                    return True
        return False

    # exactly what a run of this configuration requests (sync/permissions.py, the README's table)
    needed = [
        sc.removeprefix("system/").rsplit(".", 1)
        for sc in run_scopes("dry-run" if s.dry_run else "write", bool(s.group))
    ]
    missing = [f"{rtype}.{need}" for rtype, need in needed if not covers(rtype, need)]
    if missing:
        out.add(
            "scopes",
            "warn",
            f"--scope does not ask for {', '.join(missing)}; the server may refuse them "
            '(e.g. scope = "system/*.read system/DiagnosticReport.write ...")',
        )
    else:
        out.add("scopes", "ok", "the requested scopes cover every read and write of the job")
