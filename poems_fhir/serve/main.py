# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir serve`: settings, logging, and uvicorn around the app (cli.py only parses flags)."""

from __future__ import annotations

import logging
import socket
import sqlite3
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..mapping.rules import MappingError, load_mapping
from ..sync.events import ev, setup_logging
from .settings import load_serve_settings

log = logging.getLogger("poems_fhir.serve")
#: uvicorn writes its own warnings ("Exceeded concurrency limit.") under these: in our log format too
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error")


def serve(config_file: Path | None, flags: dict[str, Any]) -> None:
    """Run the service until SIGINT/SIGTERM; ConfigError / MappingError before it starts."""
    import uvicorn

    from .app import create_app
    from .read_deadline import ReadDeadlineH11Protocol

    settings = load_serve_settings(config_file, flags)
    setup_logging(settings.log_format, also=UVICORN_LOGGERS)
    try:
        mapping = load_mapping([str(p) for p in settings.mappings])
    except MappingError as exc:
        raise ConfigError(f"{exc}\nRun `poems-fhir mappings check FILE` for details.") from None
    try:
        app = create_app(settings, mapping=mapping)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"--state {settings.state}: the feedback store cannot be opened ({exc})") from None
    _check_listen(settings.host, settings.port)
    log.info(
        "serving CDS Hooks on %s:%d",
        settings.host,
        settings.port,
        extra=ev(
            "cds.started",
            host=settings.host,
            port=settings.port,
            public_url=settings.base_url(),
            issuers=len(settings.trust),
            language=settings.language,
            profile=settings.profile,
        ),
    )
    # no access log: URLs of the card pages are capabilities, and paths are no business of the logs
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            access_log=False,
            log_config=None,
            limit_concurrency=settings.concurrency + settings.queue + 16,
            server_header=False,
            http=ReadDeadlineH11Protocol,  # idle or trickling connections do not hold that limit for good
        )
    except SystemExit as exc:
        # uvicorn exits 3 when it cannot start (the port taken since the check): our 3 is a network
        # error of the sync job, so a start failure is the configuration error it is (exit 2)
        if exc.code == UVICORN_STARTUP_FAILURE:
            raise ConfigError(f"the service could not start on {settings.host}:{settings.port} (see the log)") from None
        raise


#: uvicorn's exit status when the server did not start (uvicorn.main.STARTUP_FAILURE)
UVICORN_STARTUP_FAILURE = 3


def _check_listen(host: str, port: int) -> None:
    """Refuse before start, with what to do, an address we cannot listen on (probe44: a port in use
    exited 3 - documented as a network error of the sync job - after uvicorn's own log line)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ConfigError(f"--host {host}: not an address of this machine ({exc.strerror or exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}. Another process may use the port: "
                "stop it or choose another --port (or --host)."
            ) from None
