# SPDX-License-Identifier: Apache-2.0
"""The least privilege a sync run needs, per mode: one place for the --help example, the README table
and the test that records every request of a real run against it."""

from __future__ import annotations

#: read and searched in every server mode (discovery, per-patient reads, ownership of our resources)
READ_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "Procedure",
    "DiagnosticReport",
    "DocumentReference",  # clinical notes; searched where the CapabilityStatement lists the type
    "Binary",  # a note's or report's text given by url (only of the configured server)
    "Specimen",
    "Medication",
    "MedicationStatement",
    "MedicationRequest",
    "MedicationAdministration",
    "CarePlan",
    "Provenance",
)
#: written (conditional update or create: the server searches by identifier, then creates or updates)
WRITE_TYPES = ("Device", "DiagnosticReport", "CarePlan", "Provenance")


def scopes(mode: str = "write", group: bool = False) -> list[str]:
    """SMART v1 system scopes: ``mode`` "write" (a normal run) or "dry-run" (reads only)."""
    reads = list(READ_TYPES) + (["Group"] if group else []) + (["Device"] if mode == "write" else [])
    out = [f"system/{t}.read" for t in reads]
    if mode == "write":
        out += [f"system/{t}.write" for t in WRITE_TYPES]
    return out


def scope_string(mode: str = "write", group: bool = False) -> str:
    return " ".join(scopes(mode, group))
