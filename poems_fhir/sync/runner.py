# SPDX-License-Identifier: Apache-2.0
"""Wire a sync run from settings: auth, client, capabilities, source, sink, state; loop and signals."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

from ..criteria.profiles import get_profile
from ..errors import ConfigError, UnusableSecretError
from ..fhir.auth import (
    Auth,
    BasicAuth,
    BearerAuth,
    ClientCredentialsAuth,
    Redactor,
    SmartBackendAuth,
    load_private_key,
    password_problem,
    secret_line_problem,
    token_problem,
)
from ..fhir.capabilities import Capabilities, parse_capabilities
from ..fhir.client import FhirClient
from ..fhir.http import Deadlines
from ..mapping.extract import observation_pruner
from ..mapping.rules import load_mapping
from ..parallel import available_cores
from . import events
from .config import SyncSettings, parse_duration
from .events import ev
from .job import Summary, SyncJob, scrub_identifiers
from .sinks import DirSink, ServerSink
from .sources import FileSource, ServerSource
from .state import StateStore

log = logging.getLogger("poems_fhir.sync")


def _secret(path: Path | None, env: str, what: str, problem: Callable[[str], str | None]) -> str:
    """The secret from its file (surrounding whitespace, the final newline, stripped) or ``env``; one that
    ``problem`` refuses is a configuration error naming where it came from, never its value (probe80 D2)."""
    if path:
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read {what} file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise UnusableSecretError(f"{what} file {path} is not UTF-8 text; write the {what} alone in it") from None
        where = f"{what} file {path}"
    else:
        value = (os.environ.get(env) or "").strip()
        if not value:
            raise ConfigError(f"no {what}: give a file or set {env}")
        where = f"{what} in {env}"
    why = problem(value)
    if why:
        raise UnusableSecretError(
            f"the {where} cannot be used: {why}. It must hold the {what} alone, on one line of visible ASCII "
            "(the value is not shown)"
        )
    return value


def build_auth(s: SyncSettings, session: requests.Session) -> Auth:
    if s.auth == "none":
        return Auth()
    if s.auth == "bearer":
        return BearerAuth(_secret(s.token_file, "POEMS_FHIR_TOKEN", "token", token_problem))
    secret_needed = s.auth in ("basic", "client-credentials")
    problem = password_problem if s.auth == "basic" else secret_line_problem
    secret = (
        _secret(s.client_secret_file, "POEMS_FHIR_CLIENT_SECRET", "client secret", problem) if secret_needed else ""
    )
    if s.auth == "basic":
        return BasicAuth(s.client_id or "", secret)
    token_url = s.token_url or ""  # "": discovered at the first token request (a down server says so)
    if s.auth == "client-credentials":
        return ClientCredentialsAuth(
            token_url, s.client_id or "", s.scope, session, client_secret=secret, discover_from=s.server or ""
        )
    key, alg, kid = load_private_key(s.private_key)  # type: ignore[arg-type]
    return SmartBackendAuth(
        token_url, s.client_id or "", s.scope, session, key=key, algorithm=alg, kid=kid, discover_from=s.server or ""
    )


def setup_logging(fmt: str, stream: Any = None, debug: bool = False) -> None:
    """Structured logs on stderr: see sync/events.py."""
    events.setup_logging(fmt, stream, debug=debug)


def unverified_in_force(compiled: Any) -> list[str]:
    """Codes and thresholds marked UNVERIFIED in the mapping in force ("system|code", "threshold:id")."""
    codes = sorted(
        {
            f"{s}|{c}"
            for (s, c), rules in compiled.by_code.items()
            for r in rules
            for ref in r.spec.codes
            if ref.system == s and ref.code == c and ref.verification == "UNVERIFIED"
        }
    )
    thresholds = sorted(
        f"threshold:{name}" for name, th in compiled.thresholds.items() if th.verification == "UNVERIFIED"
    )
    return codes + thresholds


def warn_unverified(compiled: Any) -> None:
    unverified = unverified_in_force(compiled)
    if unverified:
        log.warning(
            "%d mapping entries marked UNVERIFIED are in force (candidate codes/thresholds: confirm "
            "before clinical use; `poems-fhir mappings check` lists them): %s%s",
            len(unverified),
            ", ".join(unverified[:5]),
            " ..." if len(unverified) > 5 else "",
            extra=ev("mapping.unverified", count=len(unverified), entries=unverified),
        )


class StopFlag:
    """SIGTERM/SIGINT: finish the patient in flight, then stop (and wake a sleeping --every loop)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.event.set())

    def __call__(self) -> bool:
        return self.event.is_set()


#: the last compiled mapping and the files (with their size and mtime) it was compiled from: the
#: metrics and the job of one run, and the runs of one --every process, compile it once (~3 s)
_MAPPING: dict[tuple[tuple[str, int, int], ...], Any] = {}


def mapping_for(paths: list[str | Path]) -> Any:
    """``load_mapping(paths)``, compiled again only when one of the files changed."""
    from ..mapping.rules import default_mapping_path

    def stamp(p: str | Path) -> tuple[str, int, int]:
        try:
            st = os.stat(p)
        except OSError:
            return (str(p), -1, -1)  # load_mapping reports it
        return (str(p), st.st_size, st.st_mtime_ns)

    key = tuple(stamp(p) for p in [default_mapping_path(), *paths])  # type: ignore[arg-type]
    if key not in _MAPPING:
        mapping = load_mapping(paths)  # raises before anything is remembered
        _MAPPING.clear()
        _MAPPING[key] = mapping
    return _MAPPING[key]


def make_job(
    s: SyncSettings,
    store: StateStore,
    stop: StopFlag,
    progress: Callable[[Iterable[str]], Iterable[str]],
    now: Callable[[], dt.datetime] | None = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
    redactor: Redactor | None = None,
) -> tuple[SyncJob, Capabilities | None, Any]:
    mapping = mapping_for(list(s.mappings))
    warn_unverified(mapping)
    profile = get_profile(s.profile)
    now = now or (lambda: dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
    capabilities = None
    client = None
    if s.server:
        session = session or requests.Session()
        deadlines = Deadlines(request=parse_duration(s.request_deadline), run=parse_duration(s.run_deadline))
        auth = build_auth(s, session)
        if redactor is not None:
            redactor.add(auth.secrets)  # known to the summary, the log and the state from here on
        client = FhirClient(s.server, auth, session=session, sleep=sleep or time.sleep, deadlines=deadlines)
        with client.redacting():  # its fhirVersion or resourceType is quoted in the error (probe80 D1)
            capabilities = parse_capabilities(client.get("metadata"))
        log.info(
            "server FHIR %s: incremental=%s, writes=%s",
            capabilities.fhir_version,
            capabilities.incremental,
            capabilities.write_mode,
            extra=ev(
                "server.capabilities",
                fhir_version=capabilities.fhir_version,
                incremental=capabilities.incremental,
                writes=capabilities.write_mode,
            ),
        )
        for note in capabilities.notes:
            log.warning("%s", note, extra=ev("server.capability_note", note=note))
        source: Any = ServerSource(
            client,
            mapping,
            capabilities,
            patients=list(s.patient),
            group=s.group,
            remembered=store.remembered(client.base_url),  # the job's server_key
            all_observations=s.all_observations,
        )
        server_sink = ServerSink(client, capabilities)
        # a dry run reads ownership from the server and writes what it would send to a folder
        sink: Any = DirSink(s.dry_run, server=server_sink) if s.dry_run else server_sink
        if s.bulk:
            from .bulk_source import bulk_source

            source = bulk_source(s, client, mapping, source, sleep=sleep)
            sink = sink if s.dry_run or not s.out else DirSink(s.out)  # --out: transaction bundles to files
        server_key = client.base_url
    else:
        source = FileSource(
            list(s.source),
            patients=list(s.patient),
            prune=observation_pruner(mapping),
            workers=s.workers or available_cores(),
        )
        sink = DirSink(s.dry_run or s.out)  # type: ignore[arg-type]
        server_key = "files:" + ",".join(str(p.resolve()) for p in s.source)
    if client is not None:
        client.stop_requested = stop  # a discovery search stops between pages (no patient in flight)
    stats = (lambda: (client.stats.requests, client.stats.retries)) if client else (lambda: (0, 0))
    job = SyncJob(
        source=source,
        sink=sink,
        store=store,
        mapping=mapping,
        profile=profile,
        server_key=server_key,
        now=now,
        report_status=s.report_status,
        show_phi=s.phi,
        trigger=tuple(s.trigger),
        dry_run=bool(s.dry_run),
        language=s.language,
        pseudonym_key=store.pseudonym_key(s.pseudonym_key_file, os.environ.get("POEMS_FHIR_PSEUDONYM_KEY")),
        retry_missing=s.retry_missing,
        workers=s.workers or available_cores(),
        stop_requested=(lambda: stop() or client.transport.run_deadline_passed()) if client else stop,
        progress=progress,
        request_stats=stats,
        redact=redactor or (lambda text: text),
    )
    return job, capabilities, source


def run_once(
    s: SyncSettings,
    stop: StopFlag,
    progress: Callable[[Iterable[str]], Iterable[str]],
    redactor: Redactor | None = None,
    **kw: Any,
) -> tuple[Summary, list[str]]:
    """One run. ``redactor`` learns the run's secrets: the caller masks what it prints with it; the log
    is masked here while the run lasts, and any error leaving the run is (probe80 D1)."""
    redactor = redactor if redactor is not None else Redactor()
    try:
        with redactor.on_logs():
            return _run_once(s, stop, progress, redactor, **kw)
    except BaseException as exc:
        redactor.error(exc)
        raise


def _run_once(
    s: SyncSettings,
    stop: StopFlag,
    progress: Callable[[Iterable[str]], Iterable[str]],
    redactor: Redactor,
    **kw: Any,
) -> tuple[Summary, list[str]]:
    store = StateStore(s.state, readonly=bool(s.dry_run))  # a dry run leaves no state behind
    try:
        with store.locked():
            job, _, source = make_job(s, store, stop, progress, redactor=redactor, **kw)
            summary = job.run()
            if summary.completed and not s.dry_run and hasattr(source, "finish"):
                source.finish()  # sync --bulk: the export was used, the next run starts a new one
            read_errors = list(getattr(source, "read_errors", []))
            summary.skipped_input += len(read_errors) + getattr(source, "read_unlisted", 0)
            extra = [f"skipped input {e.source}: {e.message}" for e in read_errors]
            if not s.phi:  # a foreign reference or a conditional subject names a patient or an MRN
                extra = [scrub_identifiers(job.pseudonym_key, line) for line in extra]
            return summary, extra
    finally:
        store.close()
