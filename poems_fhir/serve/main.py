# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir serve`: settings, logging, and uvicorn around the app (cli.py only parses flags)."""

from __future__ import annotations

import logging
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
