# SPDX-License-Identifier: Apache-2.0
"""What JSON parsers decide by their own rule, decided by ours: a repeated object key and an integer
too long for Python.

* A key given twice in one object (``"subject": …, "subject": …``) is ambiguous JSON (RFC 8259 §4:
  "the behavior of software that receives such an object is unpredictable"). json.loads and orjson keep
  the last value without a word, so another patient's result, an entered-in-error status or the second of
  two VEGF values was read (probe99 D1). Such a resource is refused, naming the key and where it is.
* An integer of more than 4,300 digits makes json.loads fail with Python's own advice ("use
  sys.set_int_max_str_digits() ..."), which cost a whole Bundle file (probe99 D3). It is read as ±inf
  instead: harmless in an element nothing reads, refused at the boundary like ``1e400`` where one is read.

Why the duplicate check costs little (issue #11: reading speed matters). Decoding stays with the fast
parser, which cannot report a repeated key. Every member of every object has exactly one ":" outside
strings, so a text with no repeated key has as many ":" as orjson's re-encoding of what it read (orjson
writes no whitespace and escapes no ":"); a dropped member takes its own ":" with it. Two C-speed counts
and one orjson.dumps per text clear it; only a text that fails them (a repeated key, an escaped ":" -
``\\u003a`` - or values orjson cannot write) is decoded again, slowly, through json's
object_pairs_hook, which sees every pair and decides. A hook-based decode of every text instead would
read several times slower.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

#: json.loads' message for an integer past Python's int-digit limit
_INT_LIMIT = "integer string conversion"


class _Twice(dict[str, Any]):
    """An object of the strict decode that gives a key twice (``twice``: the first such key); its values
    are the last ones, as json.loads keeps them."""

    __slots__ = ("twice",)
    twice: str


class DuplicateKey(ValueError):
    """A text with a key given twice in one object. ``tree``: the text decoded strictly (an object that
    repeats a key is a ``_Twice``), so a Bundle's other entries can still be read from it."""

    def __init__(self, tree: Any) -> None:
        self.tree = tree
        found = first_duplicate(tree)
        key, where = found if found is not None else ("?", "?")
        super().__init__(repeated_key_message(key, where))


def repeated_key_message(key: str, where: str) -> str:
    """``where``: the object's path ("Observation.valueQuantity"), or a name alone for a top level."""
    shown = key if len(key) <= 60 else key[:57] + "..."
    if not where:
        place = "at its top level"
    else:
        place = f"in {where}" if "." in where or "[" in where else f"at the top level of {where}"
    return (
        f"the key {shown!r} is given twice in one JSON object, {place}: which value is meant cannot be "
        "told (parsers keep either one), so it is not read - send the key once"
    )


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    twice = _Twice(pairs)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            twice.twice = key
            break
        seen.add(key)
    return twice


def huge_int(digits: str) -> int | float:
    """An integer literal as json reads it, or ±inf past Python's int-digit limit, where json.loads
    failed the whole text with Python's advice (probe99 D3). A plain float, like ``1e400`` reads: the
    boundary refuses it where an element is read ("not a finite number ... beyond ±1.8e308"), and it
    is stored and written like any other value."""
    try:
        return int(digits)
    except ValueError:
        return -math.inf if digits.startswith("-") else math.inf


def loads(text: str | bytes) -> Any:
    """json.loads, with an integer past Python's int-digit limit read as ±inf (``huge_int``)."""
    try:
        return json.loads(text)
    except ValueError as exc:
        if _INT_LIMIT not in str(exc):
            raise
    return json.loads(text, parse_int=huge_int)


def strict_loads(text: str | bytes) -> Any:
    """The slow decode: every object that repeats a key is a ``_Twice``."""
    return json.loads(text, object_pairs_hook=_object, parse_int=huge_int)


def first_duplicate(tree: Any, base: str | None = None) -> tuple[str, str] | None:
    """(key, where) of the first object in ``tree`` that gives a key twice, ``where`` a path such as
    "Observation.valueQuantity" (``base``: the name of the root, else its resourceType; "" for the top
    level of what has none), else None."""
    if base is None:
        rtype = tree.get("resourceType") if isinstance(tree, dict) else None
        twice_type = isinstance(tree, _Twice) and tree.twice == "resourceType"
        base = rtype if isinstance(rtype, str) and rtype.isalnum() and not twice_type else ""
    stack: list[tuple[Any, str]] = [(tree, base)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _Twice):
            return node.twice, path
        if isinstance(node, dict):
            stack.extend((value, f"{path}.{key}" if path else key) for key, value in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{i}]") for i, value in reversed(list(enumerate(node))))
    return None


def check_keys(data: str | bytes, parsed: Any) -> None:
    """Raise DuplicateKey when ``data`` (the text ``parsed`` was read from) gives a key twice in an
    object. Cheap for every text that does not (see the module docstring)."""
    if isinstance(data, str):
        colons = data.count(":")
        escaped = "\\u003" in data
    else:
        colons = data.count(b":")
        escaped = b"\\u003" in data
    if colons < 2:
        return  # one member at most: nothing can repeat
    if not escaped:
        try:
            if orjson.dumps(parsed).count(b":") == colons:
                return
        except (TypeError, orjson.JSONEncodeError):  # integers past 64 bits, lone surrogates: decide slowly
            pass
    tree = strict_loads(data)
    if first_duplicate(tree) is not None:
        raise DuplicateKey(tree)


class RefusedResource(dict[str, Any]):
    """A resource of a server's search page that gives a key twice somewhere: only its resourceType and
    id are kept (to name it), with ``reason``. The reader lists it as skipped, like a file's entry that
    does (probe99 D1 held for files only: a server's answer was read last-wins in silence)."""

    __slots__ = ("reason",)
    reason: str


def refuse_repeated_entries(tree: Any) -> bool:
    """In a search or history page decoded strictly (``DuplicateKey.tree``), replace every entry that
    gives a key twice by one holding a RefusedResource; False (nothing changed) when the page is no such
    Bundle or its own top level repeats a key - then the answer as a whole cannot be read."""
    if not (
        type(tree) is dict and tree.get("resourceType") == "Bundle" and tree.get("type") in ("searchset", "history")
    ):
        return False
    entries = tree.get("entry")
    if not isinstance(entries, list) or first_duplicate({k: v for k, v in tree.items() if k != "entry"}) is not None:
        return False
    for i, entry in enumerate(entries):
        found = first_duplicate(entry, f"entry[{i}]")
        if found is None:
            continue
        resource = entry.get("resource") if isinstance(entry, dict) else None
        # named as in a file's resource ("Condition.note[0]"), else where in the entry
        key, where = (first_duplicate(resource) if isinstance(resource, dict) else None) or found
        entries[i] = {"resource": refused(resource, f"{repeated_key_message(key, where)}; this resource is skipped")}
    return True


def refused(resource: Any, reason: str) -> RefusedResource:
    """A RefusedResource naming ``resource`` (its resourceType and id where they are strings)."""
    shell = RefusedResource()
    if isinstance(resource, dict):
        shell.update((k, resource[k]) for k in ("resourceType", "id") if isinstance(resource.get(k), str))
    shell.reason = reason
    return shell
