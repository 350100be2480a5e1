# SPDX-License-Identifier: Apache-2.0
"""An append-only list that keeps its first items in memory and the rest in a temporary file.

The sync job's summary has one line per in-scope patient (and one per problem) (classification, missing facts, flags,
alerts: ~1.5 KB each). Held in a list, that is 150 MB for a 100,000-patient export - the largest part
of the run's memory (issue #11: flat memory). Past ``in_memory`` items they go, as JSON lines, to an
anonymous temporary file (removed by the system when closed) and are read back one at a time when
the summary is printed.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Iterator
from typing import IO, Any

#: items kept in memory before spilling: a few thousand patients' lines are a few MB
IN_MEMORY = 2000


class SpilledList:
    """``append``, ``len``, iteration and ``==`` of a list of JSON values; the items past
    ``in_memory`` live in a temporary file."""

    def __init__(self, in_memory: int | None = None) -> None:
        self.in_memory = IN_MEMORY if in_memory is None else in_memory
        self._head: list[Any] = []
        self._file: IO[str] | None = None
        self._spilled = 0

    def append(self, item: Any) -> None:
        if len(self._head) < self.in_memory:
            self._head.append(item)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._file.seek(0, 2)
        self._file.write(json.dumps(item, ensure_ascii=False) + "\n")
        self._spilled += 1

    def __len__(self) -> int:
        return len(self._head) + self._spilled

    def __iter__(self) -> Iterator[Any]:
        yield from list(self._head)
        if self._file is None:
            return
        self._file.flush()
        self._file.seek(0)
        for _ in range(self._spilled):  # a line per item: json.dumps escapes newlines in strings
            yield json.loads(self._file.readline())

    def __getitem__(self, index: int) -> Any:
        """The item at ``index`` (negative counts from the end); past the head, read from the file."""
        if index < 0:
            index += len(self)
        if 0 <= index < len(self._head):
            return self._head[index]
        if not 0 <= index < len(self):
            raise IndexError("SpilledList index out of range")
        return next(itertools.islice(iter(self), index, None))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (SpilledList, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"SpilledList({len(self)} items, {self._spilled} on disk)"

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
