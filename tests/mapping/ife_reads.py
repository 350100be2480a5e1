"""How an immunofixation text reads, as one word for a test's table: a conflict, the bands present, an earlier
band gone, a doubt, absent or unread."""

from __future__ import annotations

from poems_fhir.mapping.ife import parse_ife


def reads(text: str, specimen: str | None = None) -> str:
    result = parse_ife(text) if specimen is None else parse_ife(text, specimen)
    if result.conflict:
        return "conflict"
    if result.bands:
        return "present: " + ", ".join(b.label() for b in result.bands)
    if result.earlier and result.negative:
        return "earlier: " + ", ".join(b.label() for b in result.earlier)
    if result.possible or result.equivocal:
        return "possible"
    return "absent" if result.negative else "unread"
