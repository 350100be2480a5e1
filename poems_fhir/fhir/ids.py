# SPDX-License-Identifier: Apache-2.0
"""The FHIR id datatype, as poems-fhir accepts it in request paths, references and search values."""

from __future__ import annotations

import re

#: FHIR R4 `id` (datatypes.html#id): 1-64 letters, digits, "-" and "." - but not "." or "..": they
#: match the pattern, yet a URL resolves them as dot segments (RFC 3986 §5.2.4), so "Group/../$export"
#: is the system-level export and "Patient/.." the server's base. Embeddable in larger patterns.
FHIR_ID = r"(?!\.\.?(?![A-Za-z0-9\-.]))[A-Za-z0-9\-.]{1,64}"
_FHIR_ID = re.compile(FHIR_ID)


def is_fhir_id(value: object) -> bool:
    """Whether ``value`` is a FHIR id that can stand in a request path."""
    return isinstance(value, str) and _FHIR_ID.fullmatch(value) is not None
