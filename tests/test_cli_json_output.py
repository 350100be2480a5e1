"""`evaluate --format json` is written by orjson where that gives the very bytes json.dumps(indent=2)
gives, and by the json module otherwise: the output does not change by a byte."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from poems_fhir import cli
from tests.conftest import SAMPLES

SYNTHEA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "synthea"


_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([1e-5, 1.5e-7, 0.0001, 1e16, 1e22, -0.0, 0.1 + 0.2, 5e-324, 123.456])
    | st.text()
)
_DOCS = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(doc=_DOCS)
def test_any_json_document_is_written_byte_for_byte_as_before(doc: Any) -> None:
    assert cli._json(doc) == cli._module_json(doc)


@pytest.mark.parametrize(
    "doc",
    [
        {"a": [], "b": {}, "c": [1, {"x": 'é\u2028\n\t\x01/\\"', "y": None, "z": True}], "d": 1.5},
        {"tiny": 1e-05, "big": 10**30, "nan": math.nan, "inf": [math.inf]},
        {"surrogate": "\ud800"},
        {1: "int key"},
        ("a", "tuple"),
        {"text": "3e-5 and 0.00001 as text"},
        [2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1],
    ],
)
def test_edge_documents_are_written_as_before(doc: Any) -> None:
    assert cli._json(doc) == cli._module_json(doc)


def _evaluate(monkeypatch: pytest.MonkeyPatch, fast: bool, *paths: str) -> bytes:
    if not fast:
        monkeypatch.setattr(cli, "_fast_json", lambda _doc: None)
    result = CliRunner().invoke(cli.main, ["evaluate", "--format", "json", "--all", *paths])
    monkeypatch.undo()
    assert result.exit_code in (0, 1), result.output
    return result.stdout_bytes


@pytest.mark.parametrize("paths", [[str(SAMPLES)], [str(SYNTHEA)]], ids=["samples", "synthea"])
def test_the_evaluate_output_is_byte_identical(monkeypatch: pytest.MonkeyPatch, paths: list[str]) -> None:
    if not Path(paths[0]).is_dir():
        pytest.skip("the shared Synthea corpus is not here")
    fast = _evaluate(monkeypatch, True, *paths)
    assert fast == _evaluate(monkeypatch, False, *paths)
    assert json.loads(fast)["patients"]


@settings(max_examples=400, deadline=None)
@given(blob=st.binary(max_size=40) | st.text(alphabet="0.e-1x ", max_size=30).map(str.encode))
def test_the_fast_small_float_check_finds_what_the_regex_finds(blob: bytes) -> None:
    import re

    assert cli._orjson_differs(blob) == bool(re.search(rb"0\.0000|[0-9]e-", blob))


@settings(max_examples=200, deadline=None)
@given(doc=_DOCS)
def test_indenting_keeps_every_value_even_with_unicode_line_separators(doc: Any) -> None:
    text = cli._json({"text": ["a\u2028b\x85c\u2029d", doc]})
    shifted = cli._indented(text.encode("utf-8"))
    assert all(line.startswith(b"    ") for line in shifted.split(b"\n"))
    assert json.loads(shifted) == json.loads(text)  # _json writes no NaN: equality holds


@settings(max_examples=300, deadline=None)
@given(doc=_DOCS)
def test_the_bytes_written_are_the_same_json(doc: Any) -> None:
    # `evaluate --format json` writes _json_bytes: the text of _json in UTF-8, or (a lone
    # surrogate, which UTF-8 cannot carry) the same document with that character escaped
    blob = cli._json_bytes(doc)
    text = cli._json(doc)
    try:
        assert blob == text.encode("utf-8")
    except UnicodeEncodeError:
        assert json.loads(blob) == json.loads(text)


def test_a_lone_surrogate_is_written_as_its_json_escape() -> None:
    blob = cli._json_bytes({"surrogate": "a\ud800b", "text": "é"})
    assert b'"a\\ud800b"' in blob and b'"\\u00e9"' in blob
    assert json.loads(blob) == {"surrogate": "a\ud800b", "text": "é"}


def test_an_error_echoing_a_lone_surrogate_lists_it_as_the_replacement_character(tmp_path: Path) -> None:
    # probe22 R-lone-surrogate-in-json-errors: the refused id came back as "c\ud800" in `errors`, a
    # string that is no Unicode text (strict JSON parsers refuse the document)
    path = tmp_path / "lone.ndjson"
    path.write_text('{"resourceType":"Condition","id":"c\\ud800","subject":{"reference":"Patient/p1"}}\n')
    result = CliRunner().invoke(cli.main, ["evaluate", str(path), "--format", "json"])
    doc = json.loads(result.stdout)
    (error,) = doc["errors"]
    assert error["resource"] == "Condition/c\ufffd"
    json.dumps(doc, ensure_ascii=False).encode("utf-8")  # no lone surrogate left anywhere in the document
