"""Time-stamped measurements and treatment events: the inputs of response and risk over time."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    """One numeric result in the mapping's canonical unit (e.g. M-protein in g/L)."""

    analyte: str  # mapping rule id: "serum_m_protein", "vegf", "albumin", ...
    value: float
    unit: str | None
    effective: dt.date | None
    reference: str
    specimen: str | None = None
    comparator: str | None = None


@dataclass(frozen=True)
class Event:
    """A treatment or milestone (transplant, radiotherapy, biopsy), from Procedure or medication."""

    kind: str
    effective: dt.date | None
    reference: str
    summary: str
