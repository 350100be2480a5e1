# SPDX-License-Identifier: Apache-2.0
"""A FHIR code of the reading layer as a sender may spell it (probe140): "Delete", " PAT ", "Replaced_By",
"ERROR". Codes are case-sensitive in FHIR, but none of the value sets read here has two codes that differ
only in case, spaces or underscores - so those are forgiven, here and for the mapping's statuses (code_word).
A value that is still no code of its value set is the caller's to list, never read as if absent."""

from __future__ import annotations

from typing import Any


def code_word(code: str) -> str:
    """A FHIR code as senders garble it: "REFUTED", "Entered_in_error ", "entered in error" -> "entered-in-error"."""
    return "-".join(code.strip().lower().replace("_", " ").replace("-", " ").split())


#: Bundle.entry.request.method (FHIR R4 http-verb)
HTTP_VERBS = frozenset({"get", "head", "post", "put", "delete", "patch"})
#: Patient.link.type (FHIR R4 link-type)
LINK_TYPES = frozenset({"replaced-by", "replaces", "refer", "seealso"})
#: Patient.gender (FHIR R4 administrative-gender)
GENDERS = frozenset({"male", "female", "other", "unknown"})


def fhir_code(value: Any) -> str | None:
    """``value`` as the code it means ("Replaced_By" -> "replaced-by", "ERROR" -> "error"); None when it is
    no text. "" for blank text: no code of any value set, so the caller lists it."""
    return code_word(value) if isinstance(value, str) else None
