"""Work that grows with the square of a text's length (probe95 D26, D30): a 100 kB immunofixation value or
note of short lines took one to three minutes, a report of 50,000 "-" lines under a finding twenty seconds.
Counted, not timed (a loaded machine proves nothing): the characters each step reads stay a small multiple
of the text's length."""

from __future__ import annotations

import re
from typing import Any

import pytest

from poems_fhir.mapping import ife
from poems_fhir.mapping.ife import parse_ife
from poems_fhir.mapping.text import engine


class _Counting:
    """A compiled pattern (or function) that counts the characters it is given to read."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped, self.read = wrapped, 0

    def search(self, text: str, *args: Any) -> Any:
        self.read += len(text)
        return self.wrapped.search(text, *args)

    def __call__(self, text: str, *args: Any) -> Any:
        self.read += len(text)
        return self.wrapped(text, *args)


@pytest.mark.parametrize(
    "text",
    [
        "-\n" * 20_000,
        "IgG lambda - \n" * 3_000,
        "IgG lambda band detected - not confirmed on repeat\n" * 1_000,
        "IgG lambda: " * 3_000,
    ],
)
def test_the_dashes_of_an_immunofixation_are_not_each_read_with_all_before_them(monkeypatch, text):
    bands = _Counting(ife._bands)
    monkeypatch.setattr(ife, "_bands", bands)
    parse_ife(text)
    assert bands.read <= 10 * len(text)


def test_an_immunofixation_is_searched_for_the_urine_once_not_once_per_clause(monkeypatch):
    text = "IgG lambda band detected.\nNote: " + "Previous sample negative; " * 4_000
    urine = _Counting(ife._URINE)
    monkeypatch.setattr(ife, "_URINE", urine)
    ife._names_urine.cache_clear()
    parse_ife(text)
    assert 0 < urine.read <= 3 * len(text)


def test_the_lines_under_a_finding_are_not_each_read_with_all_before_them(monkeypatch):
    text = "Ascites\n" + "-\n" * 20_000

    class Keys:
        def __init__(self) -> None:
            self.read = 0

        def hits(self, t: str) -> list[str]:
            self.read += len(t)
            return re.findall(r"(?i)ascites", t)

    keys = Keys()
    engine._segments(text, keys)  # type: ignore[arg-type]
    assert keys.read <= 5 * len(text)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("daratumumab " * 4_000, "_ATTRIBUTED"),  # each drug named asked the whole clause for a cause
        ("not confirmed on repeat " * 2_000, "_WITHDRAWAL_DENIED_BEFORE"),  # each withdrawal read all before it
        # ... and each denied withdrawal set aside from a band's clause (probe97 D2), or each withdrawal not denied
        ("IgG lambda: " + "not an artefact " * 2_000, "_WITHDRAWAL_DENIED_BEFORE"),
        ("IgG lambda: " + "artefact " * 4_000, "_WITHDRAWAL_DENIED_BEFORE"),
        ("IgG lambda band " + "result cancelled " * 2_000, "_WITHDRAWAL_DENIED_BEFORE"),
        ("kappa " * 4_000, "_RATIO_BEFORE"),  # each light chain read all before it for a ratio's "kappa/"
    ],
)
def test_each_word_of_an_immunofixation_reads_only_its_neighbourhood(monkeypatch, text, pattern):
    counting = _Counting(getattr(ife, pattern))
    monkeypatch.setattr(ife, pattern, counting)
    ife._attributes.cache_clear()
    parse_ife(text)
    assert counting.read <= 15 * len(text)  # a few hundred characters around each word at most


class _CountingMatch(_Counting):
    """... for a pattern matched from an offset: the characters from there to the text's end."""

    def match(self, text: str, pos: int = 0, *args: Any) -> Any:
        self.read += len(text) - pos
        return self.wrapped.match(text, pos, *args)

    def sub(self, repl: Any, text: str, *args: Any) -> Any:
        self.read += len(text)
        return self.wrapped.sub(repl, text, *args)


def test_a_markdown_rows_borders_are_read_once(monkeypatch):
    # probe100 D2: each line looked at once, whatever its pipes and spaces
    from poems_fhir.mapping.text import layout

    text = ("| Ascites: no | Pleural effusion: no |" + " " * 50 + "|\n") * 2_000 + "|" + " |" * 20_000
    borders = _CountingMatch(layout._BORDER_PIPE)
    monkeypatch.setattr(layout, "_BORDER_PIPE", borders)
    assert len(layout.row_borders(text)) == len(text)
    assert borders.read <= 2 * len(text)


def test_the_other_side_of_a_field_is_looked_for_once_per_mention(mapping, monkeypatch):
    # probe100 D6: the side clause after a denied mention is matched from its end, in its own sentence
    text = "Optic discs: pink and sharp on the right, swollen on the left.\n" * 300
    side = _CountingMatch(engine._OTHER_SIDE)
    monkeypatch.setattr(engine, "_OTHER_SIDE", side)
    mapping.text.assert_texts([text])
    assert 0 < side.read <= 3 * len(text)
