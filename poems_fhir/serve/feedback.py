# SPDX-License-Identifier: Apache-2.0
"""The feedback endpoint's store: which cards were accepted or overridden (CDS Hooks 2.0 Feedback).

SQLite beside the service's state. What is stored: the card's uuid, the outcome, the accepted
suggestions' uuids, the override reason (code, system, display), the outcome time and the issuer.
Not stored: the clinician's free-text comment (it may name the patient); only whether there was one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

OUTCOMES = ("accepted", "overridden")
#: RFC 3339 §5.6 date-time: full date, "T", full time with optional fraction, "Z" or an offset
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})")


class _Coding(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str | None = Field(default=None, max_length=200)
    system: str | None = Field(default=None, max_length=500)
    display: str | None = Field(default=None, max_length=500)


class _OverrideReason(BaseModel):
    model_config = ConfigDict(extra="allow")
    reason: _Coding | None = None
    userComment: str | None = None  # noqa: N815  (the specification's name)


class _Accepted(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(max_length=100)


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    card: str = Field(max_length=100)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[_Accepted] = Field(default=[], max_length=50)  # noqa: N815
    overrideReason: _OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: str = Field(max_length=40)  # noqa: N815

    @field_validator("outcomeTimestamp")
    @classmethod
    def _rfc3339(cls, v: str) -> str:
        # CDS Hooks 2.0: "ISO8601 ... in UTC ... as profiled in section 5.6 of RFC3339": a full date-time
        # with its offset, on the calendar ("yesterday", "2026-13-45T99:00:00Z" are no time)
        if not _DATE_TIME.fullmatch(v):
            raise ValueError("outcomeTimestamp must be an RFC 3339 date-time, e.g. 2026-12-04T10:00:00Z")
        try:
            dt.datetime.fromisoformat(v.replace("z", "Z").replace("t", "T"))
        except ValueError:
            raise ValueError("outcomeTimestamp is not a date and time on the calendar") from None
        return v


class Feedback(BaseModel):
    model_config = ConfigDict(extra="allow")
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


class FeedbackStore:
    def __init__(self, path: Path, clock: Callable[[], dt.datetime] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, card TEXT NOT NULL, "
                "outcome TEXT NOT NULL, accepted_suggestions TEXT NOT NULL, override_code TEXT, "
                "override_system TEXT, override_display TEXT, has_comment INTEGER NOT NULL, "
                "outcome_timestamp TEXT NOT NULL, received TEXT NOT NULL, issuer TEXT NOT NULL)"
            )

    def add(self, feedback: Feedback, issuer: str) -> None:
        received = self._clock().isoformat(timespec="seconds")
        rows: list[tuple[Any, ...]] = []
        for item in feedback.feedback:
            reason = item.overrideReason.reason if item.overrideReason else None
            rows.append(
                (
                    item.card,
                    item.outcome,
                    json.dumps([s.id for s in item.acceptedSuggestions]),
                    reason.code if reason else None,
                    reason.system if reason else None,
                    reason.display if reason else None,
                    int(bool(item.overrideReason and item.overrideReason.userComment)),
                    item.outcomeTimestamp,
                    received,
                    issuer,
                )
            )
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO feedback (card, outcome, accepted_suggestions, override_code, override_system, "
                "override_display, has_comment, outcome_timestamp, received, issuer) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            found = dict(self._db.execute("SELECT outcome, COUNT(*) FROM feedback GROUP BY outcome").fetchall())
        return {o: int(found.get(o, 0)) for o in OUTCOMES}

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute("SELECT * FROM feedback ORDER BY id")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self._db.close()
