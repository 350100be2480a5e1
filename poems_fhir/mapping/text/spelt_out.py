# SPDX-License-Identifier: Apache-2.0
"""A POEMS name with its acronym spelt out after it: part of the name, never the patient's findings.

"Differential diagnosis includes POEMS syndrome (polyneuropathy, organomegaly, endocrinopathy, M-protein, skin
changes), CIDP" names the disease's features, not the patient's (probe132 D5: the bracket's "M-protein" and
"organomegaly" were read as doubted findings and outweighed a negative immunofixation). A list right after the name
- in brackets, or after a colon or a spaced dash up to the clause's end - is the acronym spelt out when it has at
least two items and every item is one of the mapping's ``poems_name_features``; one item that is not ("IgA lambda
M-protein", "splenomegaly 16 cm") keeps the list the patient's findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import phrase_regex

#: the rest of the name after it: "POEMS syndrome", «POEMS-синдром», "POEMS синдромы", "Crow-Fukase disease"
_NAME_TAIL = r"(?:[\s\-]*(?:syndrome|disease|синдром\w{0,4}|ауруы?))?"
#: where a list after the name opens: a bracket, a colon or a spaced dash
_OPENS = re.compile(r"\s*(?:(?P<bracket>[(\[])|:|\s[-–—]\s|[–—])\s*")
#: where a list after a colon or dash ends: a semicolon, a line end, a full stop before a space or the end, or a
#: spaced dash ("Синдром Кроу-Фукасе: полинейропатия, …, изменения кожи - исключить")
_CLAUSE_END = re.compile(r"[;\n)\]]|\.(?=\s|$)|\s[-–—]\s|[–—]")
#: what separates the items: commas, semicolons, slashes, "and" / "or" in the three languages
_ITEM_SEP = re.compile(r"\s*(?:[,;/+]|\band\b|\bor\b|\bи\b|\bили\b|\bжәне\b|\bнемесе\b)\s*")
#: what an item may carry that names nothing: the acronym's letter before it ("P - polyneuropathy", "O:"), "etc."
_LETTER = re.compile(r"^[a-zа-я]\s*[-–—:=]?\s*(?=\w)")
_FILLER = re.compile(r"^(?:etc\.?|и\s+др\.?|и\s+т\.\s*д\.?|т\.\s*б\.?|\.{3}|…)$")


@dataclass(frozen=True)
class SpeltOut:
    """The mapping's POEMS names and acronym features, compiled."""

    name: re.Pattern[str]
    feature: re.Pattern[str]

    @classmethod
    def build(cls, names: list[str], features: list[str]) -> SpeltOut | None:
        if not names or not features:
            return None
        name = "(?:" + "|".join(phrase_regex(n).removesuffix(r"[\s\-]*") for n in names) + ")" + _NAME_TAIL
        feature = "(?:" + "|".join(phrase_regex(f).removesuffix(r"[\s\-]*") for f in features) + ")"
        return cls(re.compile(name), re.compile(feature))

    def spans(self, low: str) -> list[tuple[int, int]]:
        """Where in ``low`` (normalised text) a list right after a POEMS name spells out its acronym."""
        found: list[tuple[int, int]] = []
        for m in self.name.finditer(low):
            opened = _OPENS.match(low, m.end())
            if opened is None:
                continue
            start = opened.end()
            if opened.group("bracket"):
                close = low.find(")" if opened.group("bracket") == "(" else "]", start)
                end = close if close >= 0 and "\n" not in low[start:close] else -1
            else:
                stop = _CLAUSE_END.search(low, start)
                end = stop.start() if stop is not None else len(low)
            if end > start and self._features_only(low[start:end]):
                found.append((start, end))
        return found

    def _features_only(self, listed: str) -> bool:
        """Whether every item of the list is an acronym feature, with at least two different ones."""
        items = [item.strip(" .") for item in _ITEM_SEP.split(listed)]
        named = [self._feature(item) for item in items if item and not _FILLER.match(item)]
        if len(named) < 2 or None in named:
            return False
        return len(set(named)) >= 2

    def _feature(self, item: str) -> str | None:
        """The feature an item names, or None: as it is ("m-protein"), or after the acronym's letter ("m - m-protein")."""
        for said in (item, _LETTER.sub("", item)):
            if self.feature.fullmatch(said):
                return said
        return None
