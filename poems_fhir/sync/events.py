# SPDX-License-Identifier: Apache-2.0
"""Structured logs: every record carries an event name and fields.

Code that logs passes `extra=ev("patient.written", patient=name, resources=3)`; records logged
with a plain format string (older call sites) get their event and fields from TEMPLATES, and
anything else an event named after its logger and function, so that no record goes without one.
JSON logs are one object per line; text logs start with a UTC timestamp and end with key=value
fields.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from ..wellformed import well_formed

#: plain-format log calls elsewhere in the package -> (event, names of the positional args)
TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cohort: %d patient(s) (since %s)": ("cohort", ("patients", "since")),
    "stop requested: finishing after the patient in flight": ("run.stop_requested", ()),
    "stop requested: stopped while finding the patients, none read": ("run.stop_requested", ()),
    "%s: wrote %d resources (%s)": ("patient.written", ("patient", "resources", "classification")),
    "retrying %s %s in %.1fs: %s": ("http.retry", ("method", "url", "delay_s", "error")),
    "retrying %s in %.1fs: %s": ("http.retry", ("what", "delay_s", "error")),
    "the run deadline (%.0f s) has passed: no further requests in this run; the rest waits for the next run": (
        "run.deadline_passed",
        ("deadline_s",),
    ),
    "timeline chart not drawn: %s": ("report.chart_failed", ("error",)),
    "internal error": ("internal_error", ()),
    "internal error at %s (%s)": ("internal_error", ("source", "resource")),
    "the server's Date header is not an HTTP date: the checkpoint does not move this run": (
        "cohort.bad_date_header",
        (),
    ),
}


def ev(event: str, **fields: Any) -> dict[str, Any]:
    """`extra=` for a log call: the event name and its fields."""
    return {"event": event, "fields": fields}


class EventFilter(logging.Filter):
    """Give every record `event` and `fields` (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(getattr(record, "event", None), str):
            template = TEMPLATES.get(str(record.msg))
            args = record.args if isinstance(record.args, tuple) else ()
            if template:
                record.event = template[0]
                record.fields = {k: _plain(v) for k, v in zip(template[1], args, strict=False)}
            else:
                record.event = f"{record.name.removeprefix('poems_fhir.')}.{record.funcName}"
        if not isinstance(getattr(record, "fields", None), dict):
            record.fields = {}
        return True


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _time(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, message, then the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", "log"),
            "message": record.getMessage(),
        }
        for key, value in (getattr(record, "fields", None) or {}).items():
            doc.setdefault(key, _plain(value) if not isinstance(value, (list, dict)) else value)
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return well_formed(json.dumps(doc, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """`2026-11-27T10:00:00.000+00:00 INFO patient.written message key=value ...`"""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {}
        tail = "".join(f" {k}={_text(v)}" for k, v in fields.items())
        message = record.getMessage()
        if not message.isprintable():  # a newline would forge a log line, an ESC a terminal sequence
            message = json.dumps(message, ensure_ascii=False)[1:-1]
        line = f"{_time(record)} {record.levelname} {getattr(record, 'event', 'log')}: {message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return well_formed(line + (f" |{tail}" if tail else ""))


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    # quoted (JSON escapes) when it holds a separator or anything unprintable: a newline would forge a
    # log line, an ESC a terminal sequence
    quote = not text or not text.isprintable() or any(c in text for c in ' =|"')
    return json.dumps(text, ensure_ascii=False) if quote else text


def setup_logging(fmt: str, stream: Any = None, also: tuple[str, ...] = (), debug: bool = False) -> None:
    """Logs of the poems_fhir loggers go to stderr (or `stream`) as text or JSON lines. ``also``:
    other libraries' loggers that write in our process (serve: uvicorn's "Exceeded concurrency
    limit."), their warnings and errors through the same handler - else Python's last-resort handler
    prints them as bare text among the JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(EventFilter())
    root = logging.getLogger("poems_fhir")
    root.handlers[:] = [handler]
    # `poems-fhir --debug sync`: the debug records too - the traceback of an internal error (probe120: it said "run
    # with --debug for the traceback" under --debug, the level reset to INFO here)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False
    for name in also:
        other = logging.getLogger(name)
        other.handlers[:] = [handler]
        other.setLevel(logging.WARNING)
        other.propagate = False
