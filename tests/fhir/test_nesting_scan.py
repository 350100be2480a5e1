# SPDX-License-Identifier: Apache-2.0
"""The nesting check before parsing (read.nested_too_deeply) and the long-number check (spool):
their fast C-speed paths decide exactly what the token-by-token walk decides."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from poems_fhir.fhir.read import MAX_PARSE_DEPTH, _deeper_than, json_skeleton, nested_too_deeply
from poems_fhir.fhir.spool import _long_number, _parse

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _walk(text: str) -> bool:
    """The definition: count brackets outside strings, token by token."""
    return _deeper_than(_TOKENS.finditer(text), "[{", "]}")


_PIECES = st.sampled_from(["[", "]", "{", "}", '"', "\\", "\n", "a", "1", ",", "é", '\\"', "[" * 60, "]" * 60])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join), st.integers(0, 2 * MAX_PARSE_DEPTH))
def test_the_fast_check_agrees_with_the_walk(noise: str, depth: int) -> None:
    for text in (noise, "[" * depth + noise + "]" * depth, "{" * depth + noise, noise + "]" * depth):
        expected = _walk(text)
        assert nested_too_deeply(text) is expected
        assert nested_too_deeply(text.encode()) is expected


def test_depth_is_exact_at_the_limit_with_strings_full_of_brackets() -> None:
    filler = json.dumps({"a": "[" * 300, "b": '\\"]]' * 300, "c": 1})
    for depth, deep in ((MAX_PARSE_DEPTH, False), (MAX_PARSE_DEPTH + 1, True)):
        text = "[" * (depth - 1) + filler + "]" * (depth - 1)  # the filler object is one level
        assert _walk(text) is deep
        assert nested_too_deeply(text) is deep
        assert nested_too_deeply(text.encode()) is deep


def test_the_skeleton_keeps_structure_and_drops_strings() -> None:
    assert json_skeleton('{"a": "x[\\"y", "b": [1, 2]}') == b"{: , : [1, 2]}"
    assert json_skeleton(b'["\\\\", "]"]') == b"[, ]"


def test_long_digit_runs_inside_strings_are_not_long_numbers() -> None:
    inside = json.dumps({"id": "1" * 30, "data": "MTIz" + "9" * 40}).encode()
    assert not _long_number(inside)
    outside = json.dumps({"value": 2**70, "id": "x"}).encode()
    assert _long_number(outside)


def test_a_number_past_64_bits_is_read_as_json_loads_reads_it() -> None:
    line = json.dumps({"resourceType": "Observation", "id": "o", "valueInteger": 2**70, "note": "1" * 25})
    assert _parse(line.encode())["valueInteger"] == 2**70
    assert isinstance(_parse(line.encode())["valueInteger"], int)
    bundle = json.dumps({"resourceType": "Bundle", "entry": [{"resource": json.loads(line)}] * 200})
    parsed = _parse(bundle)  # > MAX_PARSE_DEPTH brackets in all: the skeleton path
    assert parsed == json.loads(bundle)
    assert isinstance(parsed["entry"][199]["resource"]["valueInteger"], int)
