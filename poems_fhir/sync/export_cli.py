# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir export`: download a Bulk Data export into a folder (fhir/bulk.py), nothing else.

The server, authentication and deadlines are configured exactly as for `sync` (the same TOML keys,
environment variables and flags); a rerun into the same folder resumes the export there.
"""

from __future__ import annotations

import datetime as dt

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_INTERNAL, ConfigError, PoemsFhirError

log = logging.getLogger("poems_fhir.bulk")

EXPORT_HELP = """Download a FHIR Bulk Data export ($export) into a folder; evaluate it later with
`poems-fhir evaluate DIR/data` or `poems-fhir sync --source DIR/data`.

\b
The export is kicked off (Prefer: respond-async, _outputFormat=application/fhir+ndjson, _type = the
resource types poems-fhir reads), polled (Retry-After honoured, backoff otherwise), its files
downloaded in parallel into DIR/data and the export deleted on the server. A rerun into the same DIR
resumes: it polls the saved status URL (never a second export) and fetches only missing files.

\b
Examples:
  poems-fhir export --server https://fhir.example.org/R4 --auth bearer --token-file /run/secrets/token \\
      --bulk group:cohort-1 --out /data/export
  poems-fhir export --config /etc/poems-fhir/sync.toml --bulk system --out /data/export \\
      --since 2026-11-01T00:00:00Z

\b
Exit codes: 0 downloaded; 1 downloaded, but the server listed errors (error files; each issue is
reported), a file is short of its manifest count or a line is no resource (each reported); 2 configuration or usage error (also: DIR holds an unfinished export of another request,
or another export runs there); 3 server down, unreachable, too slow or its answers unusable (also: the
status URL is gone - rerun with --restart -, the status URL the kick-off answered was refused - remembered:
the next run starts no other export, fix --server or the proxy, or --restart - or a download URL was
refused); 4 authentication refused;
5 permission missing; 70 internal error.
"""


@click.command("export", help=EXPORT_HELP)
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML file (the sync keys).")
@click.option("--server", help="FHIR R4 base URL.")
@click.option("--auth", type=click.Choice(["none", "bearer", "basic", "client-credentials", "smart-backend"]))
@click.option("--token-file", type=click.Path(path_type=Path), help="Bearer token file (or POEMS_FHIR_TOKEN).")
@click.option("--client-id", help="OAuth client id (the user for --auth basic).")
@click.option("--client-secret-file", type=click.Path(path_type=Path), help="Client secret file.")
@click.option("--private-key", type=click.Path(path_type=Path), help="SMART Backend Services key: PEM or JWKS.")
@click.option("--token-url", help="Token endpoint (default: discovered).")
@click.option("--scope", help="OAuth scopes.")
@click.option("--bulk", help="system, patient or group:ID [system].")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Export folder (resumed when rerun).")
@click.option("--since", help="Only resources changed after this FHIR instant (_since), e.g. 2026-11-01T00:00:00Z.")
@click.option("--type-filter", "bulk_type_filter", is_flag=True, default=None, help="_typeFilter: mapped codes only.")
@click.option("--parallel", "bulk_parallel", type=int, help="Parallel downloads [4].")
@click.option("--restart", "bulk_restart", is_flag=True, default=None, help="Abandon DIR's unfinished export.")
@click.option("--request-deadline", help="One HTTP exchange (not a download) [5m].")
@click.option("--run-deadline", help="Give up waiting for the export after DURATION (rerun resumes) [6h].")
@click.option("--mappings", multiple=True, type=click.Path(path_type=Path), help="Site mappings (for --type-filter).")
@click.option("--format", "format_", type=click.Choice(["text", "json"]), help="Summary format [text].")
@click.option("--log-format", type=click.Choice(["text", "json"]), help="Log format on stderr [text].")
def export(config_file: Path | None, since: str | None, **flags: Any) -> None:
    from ..errors import NetworkError

    flags["format"] = flags.pop("format_")
    out: Path = flags.pop("out")
    log_format = flags.get("log_format") or os.environ.get("POEMS_FHIR_LOG_FORMAT", "text")
    fmt = flags.get("format") or os.environ.get("POEMS_FHIR_FORMAT", "text")
    try:
        settings = _settings(config_file, flags, since)
    except PoemsFhirError as exc:
        _fatal(exc, fmt)
    from .events import setup_logging

    setup_logging(settings.log_format if settings.log_format else log_format)
    started = time.monotonic()
    try:
        result = run_export(settings, out, since)
    except (NetworkError, PoemsFhirError) as exc:
        _fatal(exc, fmt)
    except Exception as exc:  # a bug: one line, exit 70 (the CLI's guard prints the traceback with --debug)
        log.debug("internal error", exc_info=exc)
        _fatal(exc, fmt, EXIT_INTERNAL)
    doc = {**result.to_dict(), "duration_s": round(time.monotonic() - started, 3), "completed": True}
    code = 1 if result.error_count else 0
    if fmt == "json":
        click.echo(json.dumps({**doc, "exit_code": code}, indent=2))
    else:
        for error in result.errors:
            click.echo(f"export error: {error}")
        for note in result.notes:
            click.echo(f"note: {note}")
        click.echo(
            f"export: {result.files} file(s), {result.bytes} bytes in {result.data_dir} "
            f"({result.downloaded} downloaded now{', resumed' if result.resumed else ''}); "
            f"transactionTime {result.transaction_time}; {result.error_count} error issue(s)"
        )
    sys.exit(code)


def _since_problem(value: str, now: float | None = None) -> str | None:
    """Why ``--since`` is no usable `_since` (None: it is one): a FHIR instant (seconds and a time zone: a
    bare date is read by each server in its own zone, or refused) that is a real calendar time
    (2026-02-30 or 25:00 match the form only), and not in the future - 2062 for 2026 asks for an empty
    export, which looks like a success (probe72 D14)."""
    from ..fhir.bulk import is_instant

    if not is_instant(value):
        return "give a FHIR instant with seconds and a time zone, such as 2026-11-01T00:00:00Z"
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    now = time.time() if now is None else now
    if when > now + SINCE_SKEW:
        shown = dt.datetime.fromtimestamp(now, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        return f"it is in the future (the clock here says {shown}): the export would be empty - a typo of the year?"
    return None


#: a --since this far ahead of our clock is still taken (the server's clock may be ahead of ours)
SINCE_SKEW = 300.0


def _settings(config_file: Path | None, flags: dict[str, Any], since: str | None) -> Any:
    from .config import load_settings

    # export spells three sync flags its own way: an error names the flag that was typed (probe72 D16)
    names = {"bulk_parallel": "parallel", "bulk_type_filter": "type-filter", "bulk_restart": "restart"}
    settings = load_settings(config_file, flags, flag_names=names)
    if not settings.server:
        raise ConfigError("give --server URL (a FHIR R4 base) or server in --config")
    if since is not None and (problem := _since_problem(since)):
        raise ConfigError(f"--since {since!r}: {problem}")
    # `export` is a bulk export whatever --bulk says: its level defaults to system (and --restart needs no --bulk)
    settings = settings.model_copy(update={"bulk": settings.bulk or "system"})
    settings.check()
    return settings


def run_export(settings: Any, out: Path, since: str | None, session: Any = None, sleep: Any = None) -> Any:
    import requests

    from ..fhir.bulk import BulkExporter, ExportRequest, type_filters
    from ..fhir.capabilities import parse_capabilities
    from ..fhir.client import FhirClient
    from ..fhir.http import Deadlines
    from ..mapping.rules import load_mapping
    from .config import parse_duration
    from .runner import build_auth
    from .sources import _codes_by_type

    session = session or requests.Session()
    client = FhirClient(
        settings.server,
        build_auth(settings, session),
        session=session,
        sleep=sleep or time.sleep,
        deadlines=Deadlines(request=parse_duration(settings.request_deadline)),
    )
    parse_capabilities(client.get("metadata"))  # a FHIR R4 base, reachable, before anything starts
    filters: list[str] = []
    if settings.bulk_type_filter:
        filters = type_filters(_codes_by_type(load_mapping([str(p) for p in settings.mappings])))
    request = ExportRequest.of(settings.bulk or "system", type_filters=filters, since=since)
    exporter = BulkExporter(
        client,
        out,
        parallel=settings.bulk_parallel,
        restart=settings.bulk_restart,
        deadline=parse_duration(settings.run_deadline),
        sleep=sleep,
    )
    return exporter.run(request)


def _fatal(exc: BaseException, fmt: str, code: int | None = None) -> None:
    code = code if code is not None else getattr(exc, "exit_code", 2)
    text = str(exc) if not isinstance(exc, PoemsFhirError) or str(exc) else type(exc).__name__
    if code == EXIT_INTERNAL:
        text = f"internal error: {type(exc).__name__}: {str(exc)[:300]}; please report it"
    if fmt == "json":
        click.echo(json.dumps({"completed": False, "error": text, "error_type": type(exc).__name__, "exit_code": code}))
    click.echo(f"poems-fhir: error: {text}", err=True)
    sys.exit(code)
