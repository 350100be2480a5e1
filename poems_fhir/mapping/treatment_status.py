# SPDX-License-Identifier: Apache-2.0
"""Whether a treatment resource says the treatment was given: its ``status`` (and a MedicationRequest's
``intent``) read as FHIR R4 codes.

Senders garble codes ("NOT-DONE", "Not_Taken ", "completed "); a garbled code is read as the code it
spells, never compared raw - a raw comparison missed "NOT-DONE" and counted a transplant that was not done
as given. A status that is blank, missing (it is 1..1 in R4) or no code of the resource's value set cannot
tell whether the treatment was given, nor can ``unknown`` (the sender does not know): the resource is refused with
that reason (a reported skip), never guessed either way.
"""

from __future__ import annotations

from typing import Any

from ..fhir.codes import code_word
from .values import ResourceError

#: the R4 value set of each treatment resource's status (event-status, medication-statement-status,
#: medication-admin-status, medicationrequest-status)
TREATMENT_STATUSES: dict[str, frozenset[str]] = {
    "Procedure": frozenset(
        {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"}
    ),
    "MedicationStatement": frozenset(
        {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"}
    ),
    "MedicationAdministration": frozenset(
        {"in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"}
    ),
    "MedicationRequest": frozenset(
        {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
    ),
}
#: R4 medicationrequest-intent
REQUEST_INTENTS = frozenset(
    {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}
)


class TreatmentStatusError(ResourceError):
    """The status (or intent) cannot tell whether the treatment was given: the resource is a reported skip;
    the message says what to fix."""


def _code(data: dict[str, Any], name: str, allowed: frozenset[str], what: str) -> str:
    rtype = data.get("resourceType")
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        said = "no" if value is None else "a blank"
        raise TreatmentStatusError(
            f"{rtype} has {said} {name} (required in FHIR R4): {what} cannot be told; not read - send the {name}"
        )
    word = code_word(value)
    if word == "unknown" and name == "status":
        # probe140 D11: a medication of status "unknown" was a treatment given (and started the response clock), a
        # Procedure of that status none, both in silence; the sender does not know, so neither is said for it
        raise TreatmentStatusError(
            f"{rtype} status 'unknown' (the sender does not know it): {what} cannot be told; not read - send the status"
        )
    if word not in allowed:
        raise TreatmentStatusError(
            f"{name} {value!r} is not a FHIR R4 {rtype} {name} ({', '.join(sorted(allowed))}): {what} cannot be "
            f"told; not read - fix the {name}"
        )
    return word


def treatment_status(data: dict[str, Any]) -> str | None:
    """The resource's status as its R4 code; raises TreatmentStatusError when it tells nothing. None for a resource
    that states a treatment without such a status (a Condition "status post autologous transplant")."""
    allowed = TREATMENT_STATUSES.get(str(data.get("resourceType")))
    if allowed is None:
        return None
    return _code(data, "status", allowed, "whether the treatment was given")


def request_intent(data: dict[str, Any]) -> str:
    """A MedicationRequest's intent as its R4 code ("order", "proposal", ...); raises TreatmentStatusError
    when it tells nothing (an order and a suggestion cannot be told apart)."""
    return _code(data, "intent", REQUEST_INTENTS, "whether it is an order or only a suggestion")
